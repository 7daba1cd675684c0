/* output.h - alert writers: JSON Lines, a text table, SARIF 2.1.0. */
#ifndef AW_OUTPUT_H
#define AW_OUTPUT_H

#include <stdbool.h>
#include <stdio.h>

#include "aupwatch/aw_correlate.h"
#include "aupwatch/aw_sigma.h"

typedef enum { AW_FMT_JSON, AW_FMT_TEXT, AW_FMT_SARIF } aw_format;

typedef struct aw_xentry {
    char ident[64];
    char field[128];
    char value[256];
} aw_xentry;

typedef struct aw_alert {
    const aw_rule *rule;
    const aw_source *source;
    const char *tenant;         /* NULL when the source defines none */
    bool has_time;
    int64_t time_ns;
    const char *file;
    uint64_t record, line;
    char sha256[65];
    const aw_xentry *explain;   /* NULL unless --explain */
    size_t nexplain;
    const char *rendered;       /* already formatted (aw_out_render), or NULL */
    size_t rendered_len;
    size_t record_at;           /* rendered without the record number and
                                   line: where they go; SIZE_MAX: rendered whole */
} aw_alert;

typedef struct aw_out aw_out;

aw_out *aw_out_new(FILE *f, aw_format fmt, bool color);
/* Pre-render the rule-dependent part of JSON alerts for every rule of
 * rs (call before any alert is rendered; rs must outlive o). */
void aw_out_add_rules(aw_out *o, const aw_ruleset *rs);
void aw_out_alert(aw_out *o, const aw_alert *a);
/* Render one alert in o's format into f (a worker thread's memory
 * stream), for writing later with aw_out_rendered, in input order.
 * false for SARIF, whose separators depend on the order. With
 * record_at, the record number and line (not known yet: a chunk's
 * records are numbered at commit, and its lines may be counted then)
 * are left out and *record_at says where in the text they go; false
 * for text alerts then (they print the line in the middle). */
bool aw_out_render(const aw_out *o, FILE *f, const aw_alert *a, size_t *record_at);
/* The same for a JSON alert without explanations, into b[0..cap) with no
 * stream: returns the length needed (the text is whole only if that is
 * <= cap), or 0 if it must go through aw_out_render. */
size_t aw_out_render_json(const aw_out *o, const aw_alert *a, char *b, size_t cap, size_t *record_at);
/* Write a rendered alert; the record number and line go at record_at
 * unless that is SIZE_MAX. */
void aw_out_rendered(aw_out *o, const char *p, size_t n, size_t record_at, uint64_t record, uint64_t line);
/* A correlation alert (type "correlation"). */
void aw_out_correlation(aw_out *o, const aw_correlation_alert *a);
void aw_out_finish(aw_out *o);      /* closes SARIF; frees */

/* Append a JSON string literal of s to f. */
void aw_json_fputs(FILE *f, const char *s);

#endif
