/* aw_correlate.h - executing Sigma correlation rules.
 *
 * An aw_correlator runs every correlation of a plan over the stream of
 * detection hits: feed it each hit (including hits flagged
 * correlation_only), the parsed event and a reference to the evidence;
 * it calls back with a correlation alert whenever a correlation fires.
 * Call aw_correlator_flush at the end of the input: windows still open
 * are evaluated then.
 *
 * Time is event time (the mapping's `time` field of the hit's source),
 * never the wall clock, and each group (per correlation and group key)
 * keeps its own clock: the newest event time it has seen. An event is
 * "late" when it is older than its group's clock minus `lateness_s`
 * (for a sliding window: or older than the group's window, which has
 * slid past it): counted, reported once per rule through the diag
 * callback, and not correlated. Other groups' times never make an event
 * late, so interleaving per-group streams in any way (one tenant's file,
 * then the next tenant's) costs nothing, and there is no global buffer:
 * every event is processed when fed, inserted into its group's window
 * in time order. Windows of upper-bound conditions close when their
 * group sees an event past the window's end, or at flush. The alerts do
 * not depend on how the input was split between calls; nor, as a set,
 * on how the groups' streams were interleaved (their delivery order
 * does; so can eviction by max_groups, and a chained correlation whose
 * group gathers several inner groups).
 *
 * State is bounded per correlation by max_groups (least recently seen
 * group evicted) and per group by max_values (beyond it: value_count
 * switches to HyperLogLog, other types merge their oldest events); each
 * degradation is counted, warned about once per rule, and flags the
 * alerts it affects `approximate`. Semantics: docs/correlation.md.
 *
 * Not thread-safe: one correlator per stream. */
#ifndef AW_CORRELATE_H
#define AW_CORRELATE_H

#include "aupwatch/aw_common.h"
#include "aupwatch/aw_json.h"
#include "aupwatch/aw_mapping.h"
#include "aupwatch/aw_sigma.h"

typedef struct aw_correlator aw_correlator;

typedef enum aw_refire {
    AW_REFIRE_RESET = 0,    /* default: a firing clears the group's window;
                               the next alert needs fresh events */
    AW_REFIRE_KEEP = 1,     /* keep the window: fire again on every
                               contributing event while the condition holds */
} aw_refire;

#define AW_CORR_IN_ORDER (-1)

/* Zero-initialised options are the defaults. */
typedef struct aw_correlator_opts {
    size_t max_groups;      /* per correlation; 0 = 100000 */
    size_t max_values;      /* per group: events kept / distinct values
                               tracked exactly; 0 = 1024 */
    int64_t lateness_s;     /* accepted out-of-order lateness, seconds;
                               0 = 300; AW_CORR_IN_ORDER = none (events
                               must arrive in time order) */
    size_t max_pending;     /* ignored: there is no reorder buffer since
                               lateness is per group; kept so that
                               existing callers compile */
    size_t max_samples;     /* evidence references per alert; 0 = 8 */
    aw_refire refire;
} aw_correlator_opts;

/* Where a base event came from, so an analyst can open it. */
typedef struct aw_evidence {
    const char *file;       /* copied (interned) by the correlator */
    uint64_t record, line;
    const char *sha256;     /* 64 hex digits, or NULL */
    /* Optional, for callers feeding millions of events (0 / NULL: not
     * given): the digest's 32 bytes, taken instead of decoding sha256;
     * and an id of the file, equal for every event of one file and
     * different between files (the file's name is then compared only
     * when the id changes). */
    const uint8_t *sha256_bytes;
    uint64_t file_id;
} aw_evidence;

typedef struct aw_correlation_ref {
    const char *file;
    uint64_t record, line;
    char sha256[65];        /* "" when unknown */
} aw_correlation_ref;

typedef struct aw_correlation_alert {
    const aw_rule *rule;            /* the correlation rule */
    int correlation_only;           /* referenced by another correlation
                                       without generate: true: feeds it,
                                       should not be shown on its own */
    size_t ngroup;                  /* 0 = no group-by (global group) */
    const char *const *group_fields;/* group-by names as written (aliases) */
    const char *const *group_values;/* rendered (pseudonymised per mapping) */
    const char *tenant;             /* when the group includes the tenant */
    double value;                   /* count / distinct / sum / avg /
                                       percentile / rules matched */
    int64_t start_ns, end_ns;       /* window, event time */
    uint64_t events;                /* base events that contributed */
    const aw_correlation_ref *refs; /* bounded sample, most recent last */
    size_t nrefs;
    const aw_correlation_ref *trigger; /* event that made it fire; NULL when
                                       fired at window close */
    int at_window_close;            /* upper-bound condition, evaluated when
                                       the window closed */
    int approximate;                /* state was degraded by a bound */
} aw_correlation_alert;

typedef void (*aw_correlation_fn)(void *ud, const aw_correlation_alert *a);

typedef struct aw_correlator_stats {
    uint64_t hits;              /* hits fed that some correlation uses */
    uint64_t events;            /* (hit, correlation) pairs correlated */
    uint64_t late;              /* beyond its group's lateness bound (or
                                   window): not correlated */
    uint64_t no_time;           /* event without a parsable time: skipped */
    uint64_t no_group;          /* missing a group-by field: skipped */
    uint64_t evicted_groups;    /* groups evicted by max_groups */
    uint64_t evicted_live;      /* ... of which held events still in window */
    uint64_t approximated_groups; /* groups that hit max_values */
    uint64_t forced;            /* always 0 (no reorder buffer any more);
                                   kept for existing readers */
    uint64_t alerts;            /* correlation alerts (incl. intermediate) */
    uint64_t groups;            /* groups alive now */
    uint64_t peak_groups;
    uint64_t pending;           /* always 0 (as forced) */
} aw_correlator_stats;

/* NULL if the plan has no executable correlation (nothing to do).
 * diag receives one warning per rule and kind when a bound is hit or
 * events are late ("correlation-late", "correlation-evict",
 * "correlation-approximate"). The plan must outlive the correlator. */
aw_correlator *aw_correlator_new(const aw_plan *p, const aw_correlator_opts *o,
                                 aw_correlation_fn fn, void *ud,
                                 aw_diag_fn diag, void *dud);
void aw_correlator_free(aw_correlator *c);      /* NULL is a no-op */

/* One detection hit on event d. Hits of rules no correlation references
 * are ignored (returns 0). Returns the number of correlations fed.
 * Alerts may be delivered from inside this call. */
size_t aw_correlator_feed(aw_correlator *c, const aw_hit *hit,
                          const aw_doc *d, const aw_evidence *ev);

/* The same in two steps, for a scanner that evaluates events on worker
 * threads and feeds correlations on one thread in input order:
 * aw_correlator_extract copies what the hit contributes (time, group
 * keys, values) out of d into out[0..cap) and only reads the correlator,
 * so workers may call it concurrently with each other (not with
 * aw_correlator_new/free); it returns the size needed (0: the rule feeds
 * no correlation; the extract is complete only if that is <= cap).
 * aw_correlator_feed_extract then feeds it, as aw_correlator_feed would
 * have fed the event. */
size_t aw_correlator_extract(const aw_correlator *c, const aw_hit *hit, const aw_doc *d,
                             void *out, size_t cap);
size_t aw_correlator_feed_extract(aw_correlator *c, const aw_hit *hit, const void *in, size_t len,
                                  const aw_evidence *ev);

/* Does some correlation reference rule r (would feeding its hits do
 * anything)? Lets a caller skip preparing evidence. */
int aw_correlator_wants(const aw_correlator *c, const aw_rule *r);

/* End of input: close every open window (upper-bound conditions are
 * evaluated then, earliest window end first) and reset all state. */
void aw_correlator_flush(aw_correlator *c);

const aw_correlator_stats *aw_correlator_stats_get(const aw_correlator *c);

/* Bytes of correlation state held now (groups, windows, sketches,
 * samples), and the most the configuration allows: every correlation at
 * max_groups groups, each at its per-group maximum. */
size_t aw_correlator_state_bytes(const aw_correlator *c);
size_t aw_correlator_bound_bytes(const aw_correlator *c);

/* Parse "reset" / "keep". */
int aw_refire_parse(const char *s, aw_refire *out);

#endif
