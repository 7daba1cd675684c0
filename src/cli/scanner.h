/* scanner.h - read input files, evaluate every record, hand out alerts.
 * Shared by `scan` and `rules test`. */
#ifndef AW_SCANNER_H
#define AW_SCANNER_H

#include "aupwatch/aw_correlate.h"
#include "cli/cli.h"
#include "cli/output.h"

typedef struct aw_scan_stats {
    unsigned long long files, records, malformed, bytes_in, bytes_out;
    unsigned long long alerts, correlation_only_hits, unreadable;
    /* own_side decisions made at commit (threaded): after evaluating
     * both values on a worker, and events evaluated again in order */
    unsigned long long own_decided, own_reevaluated;
    /* with threads, records the calling thread framed itself: where no
     * chunk could be cut (an array, an envelope longer than
     * AW_IN_ENVELOPE_CHUNK, a line longer than a chunk), or a chunk
     * framed again at commit. The serial share of reading. */
    unsigned long long framed_here;
    /* with threads, gzip files a worker read whole (aw_reader_solo), and
     * the parts of them it framed for other workers, which were idle */
    unsigned long long solo_files, solo_parts_shared;
    int threads;                        /* evaluation threads used */
    /* CPU seconds of the scan (aw_scanner_new to aw_scanner_finish): the
     * process's, and the calling thread's (reading, cutting, committing;
     * with threads, the share that does not scale with them) */
    double cpu_process, cpu_calling;
    const char *hashing;                /* how the alerting records are hashed
                                           (aw_sha256_mb_kind) */
    aw_matcher_counts matcher;          /* summed over the threads (aw_scanner_finish) */
    unsigned long long by_level[6];     /* informational low medium high critical none */
    /* correlations (set by aw_scanner_finish) */
    bool correlating;
    unsigned long long corr_alerts;     /* shown (not correlation-only) */
    aw_correlator_stats corr;
} aw_scan_stats;

typedef void (*aw_alert_fn)(void *ud, const aw_alert *a, const aw_hit *h);

typedef struct aw_scanner aw_scanner;

typedef struct aw_scanner_opts {
    int threads;                /* evaluation threads; <= 1: inline */
    const aw_out *render;       /* format alerts on the workers (aw_out_render);
                                   alerts then carry `rendered` */
    size_t max_record;
    bool explain;
    bool progress;              /* draw progress on stderr */
    aw_diags *input_diags;      /* malformed records */
    /* Correlations: run when corr_fn is set and the plan has some;
     * corr_fn gets every correlation alert (incl. correlation_only). */
    aw_correlation_fn corr_fn;
    aw_correlator_opts corr;
    aw_diags *corr_diags;       /* bound and lateness warnings */
} aw_scanner_opts;

aw_scanner *aw_scanner_new(const aw_engine *e, const aw_scanner_opts *o, aw_alert_fn fn, void *ud);
/* Scan one input path (file, directory, or "-"). Returns AW_EIO if it
 * could not be read; malformed records are counted and skipped. */
aw_status aw_scanner_path(aw_scanner *s, const char *path);
/* End of input: flush correlation windows (may emit alerts). */
void aw_scanner_finish(aw_scanner *s);
const aw_scan_stats *aw_scanner_stats(const aw_scanner *s);
double aw_scanner_seconds(const aw_scanner *s);
void aw_scanner_free(aw_scanner *s);

int aw_level_index(const char *level);

#endif
