/* aw_sigma.h - the Sigma engine: load rules, compile a plan, match events.
 *
 * Life cycle:
 *   aw_ruleset  a collection of Sigma documents (rules, filters,
 *               correlations) loaded from files; rejected documents are
 *               reported through the diag callback with file:line and a
 *               stable reason code.
 *   aw_plan     the collection compiled against a field mapping:
 *               every rule bound to the log sources that serve it, every
 *               field reference resolved. Immutable; share it between
 *               threads.
 *   aw_matcher  per-thread scratch for evaluating events against a
 *               plan; evaluation does no heap allocation once warm.
 *
 * Semantics follow the Sigma specification v2.1 with pySigma's reading
 * of its ambiguities; docs/sigma.md lists every choice. */
#ifndef AW_SIGMA_H
#define AW_SIGMA_H

#include "aupwatch/aw_common.h"
#include "aupwatch/aw_json.h"
#include "aupwatch/aw_mapping.h"

typedef struct aw_ruleset aw_ruleset;
typedef struct aw_rule aw_rule;
typedef struct aw_plan aw_plan;
typedef struct aw_matcher aw_matcher;

typedef enum aw_rule_kind { AW_RULE_DETECTION, AW_RULE_CORRELATION, AW_RULE_FILTER } aw_rule_kind;

/* ---- rule sets ------------------------------------------------------ */
aw_ruleset *aw_ruleset_new(void);
void aw_ruleset_free(aw_ruleset *rs);           /* NULL is a no-op */

/* Placeholder values for |expand: a YAML map name -> value or list of
 * values (values are Sigma strings: wildcards allowed). Load before the
 * rules that use them. */
aw_status aw_ruleset_load_placeholders(aw_ruleset *rs, const char *path,
                                       aw_diag_fn diag, void *ud);

/* Load a rule file or every *.yml / *.yaml below a directory. Returns
 * AW_EIO if a path cannot be read; rejected documents do not fail the
 * call (they are counted and reported). */
aw_status aw_ruleset_load(aw_ruleset *rs, const char *path,
                          aw_diag_fn diag, void *ud);
/* Load documents from memory; `name` is used in diagnostics. */
aw_status aw_ruleset_load_buffer(aw_ruleset *rs, const char *name,
                                 const char *buf, size_t len,
                                 aw_diag_fn diag, void *ud);

size_t aw_ruleset_count(const aw_ruleset *rs);      /* accepted documents */
size_t aw_ruleset_rejected(const aw_ruleset *rs);   /* rejected documents */
const aw_rule *aw_ruleset_rule(const aw_ruleset *rs, size_t i);
/* By id or name, or NULL. */
const aw_rule *aw_ruleset_find(const aw_ruleset *rs, const char *id_or_name);

/* ---- rule metadata (valid while the rule set lives) -------------------- */
aw_rule_kind aw_rule_kind_of(const aw_rule *r);
const char *aw_rule_id(const aw_rule *r);       /* may be NULL */
const char *aw_rule_name(const aw_rule *r);     /* may be NULL */
const char *aw_rule_title(const aw_rule *r);
const char *aw_rule_level(const aw_rule *r);    /* may be NULL */
const char *aw_rule_status(const aw_rule *r);   /* may be NULL */
const char *aw_rule_author(const aw_rule *r);   /* may be NULL */
const char *aw_rule_path(const aw_rule *r);     /* file it came from */
unsigned aw_rule_line(const aw_rule *r);        /* line of the document */
size_t aw_rule_tag_count(const aw_rule *r);
const char *aw_rule_tag(const aw_rule *r, size_t i);
const char *aw_rule_logsource(const aw_rule *r, const char *attr); /* "product", ... */
/* A custom attribute's scalar value (e.g. "regression_tests_path"). */
const char *aw_rule_attr(const aw_rule *r, const char *key);

/* ---- plans -------------------------------------------------------------- */
typedef struct aw_plan_opts {
    int skip_deprecated;        /* leave out status deprecated/unsupported */
    int no_dispatch;            /* evaluate every rule of a source on every
                                   event (reference path; also set by the
                                   environment AUPWATCH_NO_DISPATCH=1) */
    int no_prefilter;           /* do not compile the literal prefilter
                                   (saves start-up time when nothing is
                                   scanned, e.g. `rules check`) */
    int prefilter_min_rules;    /* scan for literals only when an event's
                                   sources have at least this many rules
                                   outside dispatch, a keyword value
                                   counting as four more (it is tried on
                                   every value of the event) (0: 24;
                                   tests use 1 to exercise the prefilter) */
    int compile_threads;        /* threads compiling the prefilter's
                                   databases, one field at a time (0 or 1:
                                   the calling thread alone) */
} aw_plan_opts;

/* Compile. Rules whose log source no mapping covers are reported
 * (kind "no-logsource-mapping") and left out. Never fails on a rule;
 * returns NULL only on out-of-memory. */
aw_plan *aw_plan_new(const aw_ruleset *rs, const aw_mapping *m,
                     const aw_plan_opts *opts, aw_diag_fn diag, void *ud);
void aw_plan_free(aw_plan *p);
size_t aw_plan_rule_count(const aw_plan *p);   /* rules that can fire */
/* Was rule r compiled into the plan (log source covered, references
 * resolved)? */
int aw_plan_has_rule(const aw_plan *p, const aw_rule *r);
const aw_mapping *aw_plan_mapping(const aw_plan *p);
/* Field names the compiled rules reference (for callers that need to
 * know, e.g. whether a stateful derived field is read). */
size_t aw_plan_field_count(const aw_plan *p);
const char *aw_plan_field(const aw_plan *p, size_t i);
/* May a compiled rule read the event member `name` of mapping source
 * `source` (aw_source_index): a rule field or a correlation's group-by
 * or value field resolves to it there, or a rule of that source has
 * keywords (which read every value). Decides which derived fields are
 * computed (aw_mapping_derive_only). */
bool aw_plan_reads(const aw_plan *p, size_t source, const char *name);
/* Correlations whose references resolved (executed by aw_correlator,
 * aw_correlate.h). */
size_t aw_plan_correlation_count(const aw_plan *p);
/* How the literal prefilter scans: "hs_scan", the library's AVX2 scan
 * where hs_scan was found to miss literals on this CPU, or "off" (no
 * literals, no prefilter, or no correct scan). */
const char *aw_plan_literal_scan(const aw_plan *p);

/* ---- matching ----------------------------------------------------------- */
typedef struct aw_hit {
    const aw_rule *rule;
    const aw_source *source;    /* the log source the event matched under */
    int correlation_only;       /* referenced by a correlation without
                                   generate: true: feeds it, no alert */
} aw_hit;

/* Return nonzero to stop evaluating this event. */
typedef int (*aw_hit_fn)(void *ud, const aw_hit *hit);

aw_matcher *aw_matcher_new(const aw_plan *p);
void aw_matcher_free(aw_matcher *m);

/* What a matcher did so far: events evaluated (once per evaluation:
 * an event evaluated twice counts twice), rules considered (reached by
 * dispatch or a literal, or always run) and rules evaluated (those the
 * prefilter's clauses did not rule out); field values the literal
 * prefilter looked up in its table of recent values, and found there
 * (not scanned again). Added to *sum. */
typedef struct aw_matcher_counts {
    uint64_t events, considered, evaluated;
    uint64_t value_lookups, value_hits;
    uint64_t group_walks;       /* objects walked once for many fields */
} aw_matcher_counts;
void aw_matcher_counts_add(const aw_matcher *m, aw_matcher_counts *sum);

/* Evaluate one parsed event (content drops already applied). Each rule
 * fires at most once per event. Returns the number of hits. */
size_t aw_matcher_eval(aw_matcher *m, const aw_doc *d, aw_hit_fn fn, void *ud);

/* The same, given the record's raw bytes (those `d` was parsed from):
 * enables the literal prefilter, which skips rules whose required
 * literals do not occur in the record. Same alerts, fewer evaluations. */
size_t aw_matcher_eval_raw(aw_matcher *m, const aw_doc *d, const char *raw, size_t len,
                           aw_hit_fn fn, void *ud);

/* The same for an event the caller already classified (with
 * aw_mapping_classify, before aw_mapping_prepare): the hot path of a
 * scanner, which classifies each event once. raw may be NULL. */
size_t aw_matcher_eval_sources(aw_matcher *m, const aw_doc *d, const char *raw, size_t len,
                               const aw_source *const *src, size_t nsrc, aw_hit_fn fn, void *ud);

/* Why a rule matched: calls fn for every search identifier of the rule
 * that is true on the event, with the field that matched (NULL for
 * keywords) and the matched value rendered through the mapping
 * (pseudonymised where declared). */
typedef void (*aw_explain_fn)(void *ud, const char *ident, const char *field,
                              const char *value);
void aw_matcher_explain(aw_matcher *m, const aw_doc *d, const aw_hit *hit,
                        aw_explain_fn fn, void *ud);

#endif
