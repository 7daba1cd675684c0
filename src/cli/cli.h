/* cli.h - pieces shared by the aupwatch subcommands. */
#ifndef AW_CLI_H
#define AW_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include "aupwatch/aw_common.h"
#include "aupwatch/aw_mapping.h"
#include "aupwatch/aw_sigma.h"

#define AW_VERSION "0.1.0"

/* Diagnostics: printed as "file:line: reason (kind)" and counted by
 * kind, so a command can end with a summary. */
typedef struct aw_diagcount {
    char kind[48];
    unsigned long n;
} aw_diagcount;

typedef struct aw_diags {
    aw_diagcount *k;
    size_t n, cap;
    unsigned long total;
    bool quiet;                 /* count, do not print */
    FILE *out;
} aw_diags;

void aw_diags_fn(void *ud, const char *file, unsigned long line, const char *kind, const char *msg);
unsigned long aw_diags_get(const aw_diags *d, const char *kind);
void aw_diags_print_summary(const aw_diags *d, FILE *f, const char *title);
void aw_diags_free(aw_diags *d);

/* Rules + mappings, as every command that evaluates rules loads them. */
typedef struct aw_engine {
    aw_mapping *map;
    aw_ruleset *rs;
    aw_plan *plan;
    size_t rule_files;
} aw_engine;

typedef struct aw_engine_opts {
    const char *const *rules;
    size_t nrules;
    const char *const *mappings;
    size_t nmappings;
    bool no_builtin_mappings;
    const char *placeholders;
    const char *key_file;       /* pseudonymisation key; else env */
    bool no_prefilter;          /* nothing will be scanned */
    int threads;                /* compiling the prefilter (0: one) */
} aw_engine_opts;

/* Loads everything; diagnostics go to `rd` (rules) and `md` (mappings).
 * Returns AW_EIO/AW_EPARSE on unreadable paths or broken mappings. */
aw_status aw_engine_load(aw_engine *e, const aw_engine_opts *o, aw_diags *rd, aw_diags *md);
void aw_engine_free(aw_engine *e);

/* Option parsing helper: "--name=value" or "--name value". */
bool aw_opt(int argc, char **argv, int *i, const char *name, const char **val);

int aw_cmd_scan(int argc, char **argv);
int aw_cmd_rules(int argc, char **argv);

#endif
