/* aw_mapping.h - field mappings per log source.
 *
 * A mapping file (YAML, format in docs/mappings.md) declares log
 * sources. Each source names the Sigma logsource it serves (product,
 * category, service), a predicate saying which events belong to it, how
 * rule field names map to paths in the event, which field carries the
 * event time and which the tenant, which fields are pseudonymised with a
 * keyed HMAC-SHA256, and which content fields are dropped at ingestion.
 * Several sources may serve the same logsource (Sysmon EventID 1 and
 * Security 4688 both serve process_creation, with different renames).
 * A loaded aw_mapping is immutable and may be shared between threads. */
#ifndef AW_MAPPING_H
#define AW_MAPPING_H

#include <stdbool.h>

#include "aupwatch/aw_common.h"
#include "aupwatch/aw_json.h"

typedef struct aw_mapping aw_mapping;
typedef struct aw_source aw_source;

aw_mapping *aw_mapping_new(void);
void aw_mapping_free(aw_mapping *m);            /* NULL is a no-op */

/* Load a mapping file, or every *.yml / *.yaml file of a directory.
 * May be called several times. Problems are reported through diag with
 * file:line and a reason; returns AW_EPARSE if any file was rejected. */
aw_status aw_mapping_load(aw_mapping *m, const char *path,
                          aw_diag_fn diag, void *ud);

/* Built-in mappings shipped with aupwatch (mappings/ compiled in), so a
 * scan works with no configuration. */
aw_status aw_mapping_load_builtin(aw_mapping *m, aw_diag_fn diag, void *ud);

/* HMAC key for pseudonymisation (copied; never logged). Without a key,
 * fields declared pseudonymised are replaced by "redacted". */
aw_status aw_mapping_set_key(aw_mapping *m, const uint8_t *key, size_t len);
/* Read the key from file `path`, or from environment variable `env`
 * when path is NULL. */
aw_status aw_mapping_load_key(aw_mapping *m, const char *path,
                              const char *env, aw_errbuf *err);

size_t aw_mapping_count(const aw_mapping *m);
const aw_source *aw_mapping_source(const aw_mapping *m, size_t i);

/* Sources that serve a rule's logsource: every attribute the rule sets
 * (NULL = unset) must equal the source's. Returns how many were found
 * (may exceed max; only max are stored). */
size_t aw_mapping_route(const aw_mapping *m, const char *product,
                        const char *category, const char *service,
                        const aw_source **out, size_t max);

/* Sources the event belongs to (predicate true). Returns the count
 * (may exceed max; only max are stored). Allocation-free. */
size_t aw_mapping_classify(const aw_mapping *m, const aw_doc *d,
                           const aw_source **out, size_t max);

/* Apply the content drops of every source the event belongs to (call
 * before anything else looks at the event). */
void aw_mapping_drop_content(const aw_mapping *m, aw_doc *d);
/* The same for an event already classified into src[0..n) (saves the
 * second classification on the hot path). */
void aw_mapping_prepare(const aw_mapping *m, aw_doc *d, const aw_source *const *src, size_t n);
/* The same, for an evaluation on a worker thread: stateful derivations
 * (own_side) neither read nor update their state; each one with input
 * is recorded in spec and its field set to "false". A caller decides
 * them later on one thread in input order (aw_mapping_own_decide), so
 * the result never depends on which worker saw which event; it may
 * evaluate the event under both values meanwhile (aw_mapping_own_set). */
#define AW_OWN_MAX_OPS 4
typedef struct aw_own_op {
    uint64_t tenant;            /* hash of the tenant */
    uint64_t blocks[3];         /* number blocks of the key's tokens */
    int k;                      /* 1..3 */
    uint32_t node;              /* the field's node in the event, 0: none */
} aw_own_op;
typedef struct aw_own_spec {
    size_t n;                   /* may exceed AW_OWN_MAX_OPS: then the
                                   event must be prepared again, in order,
                                   with aw_mapping_prepare */
    aw_own_op op[AW_OWN_MAX_OPS];
} aw_own_spec;
void aw_mapping_prepare_spec(const aw_mapping *m, aw_doc *d, const aw_source *const *src, size_t n,
                             aw_own_spec *spec);
/* Decide one recorded op against this thread's state (updating it, as
 * aw_mapping_prepare would have) and set the field in d if d still holds
 * it (d may be NULL). Returns 1 when the key is on the tenant's own side. */
int aw_mapping_own_decide(aw_doc *d, const aw_own_op *op);
/* Set the field of op in d to the given value, state untouched. */
void aw_mapping_own_set(aw_doc *d, const aw_own_op *op, int mine);

/* Derived fields (`derive:`) that no loaded rule reads need not be
 * computed: the rule engine lists, per source, the ones its rules may
 * read (keep[i] for derived field i of aw_source_derive_name), and
 * preparing an event then computes only those. Until this is called
 * for a source, all of its derived fields are computed. Call before
 * events are prepared (the mapping is shared by the scan's threads). */
void aw_mapping_derive_only(aw_mapping *m, size_t source, const bool *keep);

/* --- one source ------------------------------------------------------ */
size_t aw_source_index(const aw_source *s);     /* position in mapping */
const char *aw_source_name(const aw_source *s);
const char *aw_source_product(const aw_source *s);  /* may be NULL */
const char *aw_source_category(const aw_source *s);
const char *aw_source_service(const aw_source *s);
/* Its derived fields: how many, and the member name of each ("aw.tenant"). */
size_t aw_source_derive_count(const aw_source *s);
const char *aw_source_derive_name(const aw_source *s, size_t i);

/* Event paths to try, in order, for rule field `field`; the first path
 * that exists in an event is the field's value there. A field with no
 * explicit mapping resolves to itself (a dotted path), or to the
 * source's default prefixes when it declares some. Returns the number
 * of paths; *paths stays valid while the mapping lives. */
size_t aw_source_resolve(const aw_source *s, const char *field,
                         const char *const **paths);

/* Added: walk a path from aw_source_resolve. Paths may hold "*" as a
 * whole segment (from a prefix such as "Event.UserData.*."), matching
 * every member of an object; otherwise this is aw_json_path_each from
 * the root. Use it instead of aw_json_path_each for resolved paths. */
int aw_mapping_path_each(const aw_doc *d, const char *path, size_t plen,
                         aw_json_visit_fn fn, void *ud);

/* Event time as nanoseconds since the Unix epoch (RFC 3339 / ISO 8601
 * text, or epoch seconds/milliseconds numbers). AW_ERR if absent or
 * unparsable. */
aw_status aw_source_time(const aw_source *s, const aw_doc *d, int64_t *ns);

/* Tenant of the event (pseudonymised if declared) into out; returns
 * its length, 0 if the source defines no tenant or the event has none. */
size_t aw_source_tenant(const aw_source *s, const aw_doc *d, char *out,
                        size_t cap);

/* Is rule field `field` (or its event path) declared pseudonymised? */
int aw_source_is_pseudonymised(const aw_source *s, const char *field);

/* What may leave the engine for `field`: the value itself, or its
 * pseudonym "hmac-sha256:<first 32 hex digits>" when the field is
 * declared pseudonymised. Returns length; truncates at cap. */
size_t aw_source_render(const aw_source *s, const aw_mapping *m,
                        const char *field, const char *val, size_t vlen,
                        char *out, size_t cap);
/* The same with the field's aw_source_is_pseudonymised already known
 * (a caller rendering one field of many events asks once). */
size_t aw_source_render_as(const aw_source *s, const aw_mapping *m, int pseudonymised,
                           const char *val, size_t vlen, char *out, size_t cap);

/* Format ns since epoch as RFC 3339 UTC with the needed fraction. */
size_t aw_time_format(int64_t ns, char *out, size_t cap);
/* Parse RFC 3339 / ISO 8601 ("2024-01-02T03:04:05.123Z", offsets,
 * space instead of T) into ns since epoch. */
aw_status aw_time_parse(const char *s, size_t n, int64_t *ns);

#endif
