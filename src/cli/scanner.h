/* scanner.h - read input files, evaluate every record, hand out alerts.
 * Shared by `scan` and `rules test`. */
#ifndef AW_SCANNER_H
#define AW_SCANNER_H

#include "cli/cli.h"
#include "cli/output.h"

typedef struct aw_scan_stats {
    unsigned long long files, records, malformed, bytes_in, bytes_out;
    unsigned long long alerts, correlation_only_hits, unreadable;
    unsigned long long by_level[6];     /* informational low medium high critical none */
} aw_scan_stats;

typedef void (*aw_alert_fn)(void *ud, const aw_alert *a, const aw_hit *h);

typedef struct aw_scanner aw_scanner;

typedef struct aw_scanner_opts {
    size_t max_record;
    bool explain;
    bool progress;              /* draw progress on stderr */
    aw_diags *input_diags;      /* malformed records */
} aw_scanner_opts;

aw_scanner *aw_scanner_new(const aw_engine *e, const aw_scanner_opts *o, aw_alert_fn fn, void *ud);
/* Scan one input path (file, directory, or "-"). Returns AW_EIO if it
 * could not be read; malformed records are counted and skipped. */
aw_status aw_scanner_path(aw_scanner *s, const char *path);
const aw_scan_stats *aw_scanner_stats(const aw_scanner *s);
double aw_scanner_seconds(const aw_scanner *s);
void aw_scanner_free(aw_scanner *s);

int aw_level_index(const char *level);

#endif
