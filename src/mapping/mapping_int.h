/* mapping_int.h - the compiled form of a field mapping, shared by the
 * files of src/mapping (load.c builds it; classify.c, resolve.c,
 * tenant.c, pseudo.c and time.c read it).
 *
 * Everything a source owns lives in the mapping's arena and is never
 * changed after loading, except the per-source cache of resolved
 * unmapped fields, which is guarded by the mapping's lock (resolution
 * runs when rules are compiled, never per event).
 *
 * Predicates: every distinct event path that a `when:` clause tests is
 * interned once per mapping as a "slot". Classifying an event looks each
 * slot up at most once (lazily, in a stack cache), so fifty Windows
 * sources that all test Event.System.Channel and Event.System.EventID
 * cost two path lookups per event plus cheap comparisons. */
#ifndef AW_MAPPING_INT_H
#define AW_MAPPING_INT_H

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sodium.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "aupwatch/aw_mapping.h"
#include "util/arena.h"

/* One comparison value of a predicate: text as written in the YAML, and
 * its numeric value when the text is a number. */
typedef struct mp_value {
    const char *s;
    size_t n;
    int isnum;
    double num;
} mp_value;

typedef enum mp_op { MP_EQ, MP_PREFIX, MP_CONTAINS, MP_EXISTS, MP_ABSENT } mp_op;

typedef struct mp_cond {
    uint32_t slot;              /* index into aw_mapping.slots */
    mp_op op;
    const mp_value *vals;       /* MP_EQ / PREFIX / CONTAINS: any of them */
    size_t nvals;
} mp_cond;

typedef struct mp_conj {        /* AND of conditions */
    const mp_cond *conds;
    size_t n;
} mp_conj;

typedef struct mp_field {       /* rule field -> ordered paths */
    const char *field;
    const char *const *paths;
    size_t npaths;
    int wildcard;               /* field "a.b.*": paths are prefixes */
} mp_field;

typedef struct mp_tenant {      /* one tenant candidate, in order */
    const char *path;
    aw_jpath *jp;               /* path compiled (mp_jpath), or NULL */
    const char *regex;          /* NULL: the value itself */
    pcre2_code *re;
    int jit;                    /* JIT-compiled: matching needs no frames */
} mp_tenant;

typedef struct mp_resolved {    /* interned answer of aw_source_resolve */
    const char *field;
    const char *const *paths;
    size_t n;
} mp_resolved;

typedef struct mp_rtab {        /* a source's resolved fields (resolve.c) */
    size_t cap;                 /* a power of two */
    mp_resolved *_Atomic slot[];
} mp_rtab;

/* derive.c: one derived field (`derive:`), appended to the event at
 * ingestion; see docs/extensions.md. */
typedef struct mp_derive {
    const char *name;           /* "aw.key_phone_tokens" */
    int fn;
    const char *const *from;
    size_t nfrom;
    const char *const *key;     /* duration_class: format paths */
    size_t nkey;
    aw_jpath *const *from_jp;   /* compiled (mp_compile_paths), or NULLs */
    aw_jpath *const *key_jp;
    int skip;                   /* leading '/' segments to ignore */
} mp_derive;

struct aw_source {
    const aw_mapping *owner;
    size_t index;
    const char *name, *product, *category, *service;
    const char *file;
    unsigned long line;
    const mp_conj *when;        /* OR of conjunctions */
    size_t nwhen;
    const mp_field *fields;
    size_t nfields;
    const char *const *prefixes;
    size_t nprefixes;
    const char *const *time;
    size_t ntime;
    const mp_tenant *tenant;
    size_t ntenant;
    const char *const *pseudo;
    size_t npseudo;
    int pseudo_tenant;          /* "tenant" listed under pseudonymise */
    const char *const *drop;
    size_t ndrop;
    aw_jpath *const *time_jp;   /* time and drop compiled, or NULLs */
    aw_jpath *const *drop_jp;
    /* resolved fields, open addressing by name (a plan resolves every
     * field of 3,000 rules for ~95 sources): read without a lock, added
     * to under owner->lock (resolve.c) */
    struct mp_rtab *_Atomic rtab;
    size_t ncache;
    const mp_derive *derive;    /* derived fields (derive.c) */
    size_t nderive;
    const uint8_t *derive_off;  /* per derived field, 1: no loaded rule reads
                                   it, not computed; NULL: all computed */
};

typedef struct mp_slot {
    const char *path;
    size_t len;
    int star;                   /* has a "*" segment */
    aw_jpath *jp;               /* compiled (no "*"); NULL: use path */
} mp_slot;

/* The prefilter: most sources (all of Windows) require one path, the
 * "discriminating slot" (Event.System.Channel), to equal one of a few
 * strings. Those sources sit in a hash table keyed by the lower-cased
 * value; classification looks the event's value up and evaluates only
 * the sources listed there plus the ones without a discriminator.
 * Rebuilt after every load; lists are in source order. */
/* x is a whole number that a double holds exactly (|x| <= 2^53): the
 * number slot's keys (index.c) and an event's value looked up among
 * them (classify.c) are both tested by this one rule. */
static inline int mp_whole(double x)
{
    return x == floor(x) && fabs(x) <= 9007199254740992.0;
}

typedef struct mp_numlist {
    int64_t k;
    uint32_t *srcs;             /* the bucket's sources that accept k, and
                                   those without the number condition */
    size_t n;
} mp_numlist;

/* Within a bucket, most sources (Sysmon's) also require a second slot,
 * the "number slot" (Event.System.EventID), to equal one of a few whole
 * numbers: an event whose value there is a whole number k evaluates
 * only the bucket's list for k; one without the slot, only the sources
 * without that condition (rest); any other value, the whole bucket. */
typedef struct mp_bucket {
    char *key;                  /* lower-cased; NULL = empty bucket */
    size_t klen;
    uint32_t *srcs;
    size_t n, cap;
    mp_numlist *nums;           /* sorted by k; NULL: not narrowed */
    size_t nnums;
    uint32_t *rest;
    size_t nrest;
} mp_bucket;

/* Guards: a condition on path "a.b.c" can only hold when the event's
 * root object has a member named "a", "a.b" or "a.b.c" (path
 * semantics, aw_json.h). So for each source, one condition per
 * conjunction yields the root member names one of which its events must
 * have; an event whose root object has none of them skips the source in
 * one or two hash lookups, instead of evaluating each alternative (most
 * cloud sources fail on absent paths). Up to MP_GUARD_KEYS names in all;
 * a source needing more, or with a "*" path, is not guarded. */
#define MP_GUARD_KEYS 64
typedef struct mp_gkey {
    const char *s;              /* points into a slot path */
    size_t n;
    uint32_t h;                 /* aw_json_key_hash(s, n) */
} mp_gkey;

typedef struct mp_index {
    int built;
    uint32_t slot;
    uint32_t nslot;             /* the number slot (buckets with nums) */
    mp_bucket *tab;
    size_t cap;                 /* power of two */
    uint32_t *always;           /* sources without the discriminator */
    size_t nalways;
    mp_gkey gkeys[MP_GUARD_KEYS];
    size_t ngkeys;
    uint64_t gbloom[64];        /* per Bloom bit of the root (h & 63): the
                                   guard keys hashing to it */
    uint64_t *guard;            /* per source: bits of gkeys; 0 = unguarded */
} mp_index;

struct aw_mapping {
    aw_arena arena;
    aw_source **src;
    size_t nsrc, capsrc;
    mp_slot *slots;
    size_t nslots, capslots;
    pcre2_code **codes;         /* every compiled regex, for freeing */
    size_t ncodes, capcodes;
    mp_index index;
    aw_jpath **jps;             /* every compiled path, for freeing */
    size_t njps, capjps;
    pthread_mutex_t lock;
    int has_key;
    crypto_auth_hmacsha256_state keyed; /* state after absorbing the key */
};

/* Built-in mapping files, generated into $(B)/gen by module.mk. */
typedef struct aw_builtin_file {
    const char *name;           /* "mappings/aws.yml" */
    const unsigned char *data;
    size_t len;
} aw_builtin_file;
extern const aw_builtin_file aw_mapping_builtin_files[];
extern const size_t aw_mapping_builtin_count;

/* resolve.c: visit nodes reached by `path` from `from` (NULL = root),
 * with "*" segments matching every member / element. */
int mp_path_each(const aw_doc *d, const aw_jnode *from, const char *path,
                 size_t plen, aw_json_visit_fn fn, void *ud);
/* First node reached by path (with "*" support), or NULL. */
const aw_jnode *mp_path_first(const aw_doc *d, const char *path, size_t plen);
/* path compiled for lookups, owned by m (freed with it); NULL for a
 * path with a "*" segment, or out of memory: then use the text. */
aw_jpath *mp_jpath(aw_mapping *m, const char *path);
/* Compile the paths a committed source reads per event (time, tenant,
 * drop, derive). */
void mp_compile_paths(aw_mapping *m, aw_source *s);
/* First node at path, through its compiled form jp if any. */
const aw_jnode *mp_first(const aw_doc *d, const aw_jpath *jp, const char *path);

/* index.c: (re)build / free the prefilter index; the sources filed
 * under value t (any case), in source order, or NULL with *n = 0. */
#define MP_KEY_MAX 512
void mp_index_build(aw_mapping *m);
void mp_index_free(mp_index *x);
const uint32_t *mp_index_lookup(const mp_index *x, const char *t, size_t len, size_t *n,
                                const mp_bucket **b);
/* The sources of bucket b to evaluate when the number slot holds the
 * whole number k (has_k) or is absent (!has_k). */
const uint32_t *mp_index_narrow(const mp_bucket *b, int has_k, int64_t k, size_t *n);

/* pseudo.c: the pseudonym of val, or "redacted" without a key. */
size_t mp_pseudonym(const aw_mapping *m, const char *val, size_t vlen,
                    char *out, size_t cap);

/* derive.c: compile a source's `derive:` map (returns an error message
 * and its line, or NULL); append the derived fields of every source in
 * hit[] to d (called by aw_mapping_drop_content, after the drops). */
struct aw_ynode;
const char *mp_derive_compile(aw_arena *a, aw_source *s, const struct aw_ynode *v,
                              unsigned *line);
/* spec: record the derivations that keep state (own_side) for a later
 * aw_mapping_own_decide instead of deciding them now (NULL). */
void mp_derive_apply(aw_doc *d, const aw_source *const *hit, size_t n, aw_own_spec *spec);

/* Copy n bytes of s to out (NUL-terminated, truncated at cap); returns
 * the number of bytes written. */
size_t mp_copy(char *out, size_t cap, const char *s, size_t n);

/* A node's scalar text: strings, numbers, booleans, null. NULL for
 * arrays and objects. */
const char *mp_scalar(const aw_jnode *n, size_t *len);

#endif
