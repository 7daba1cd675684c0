/* sigma_int.h - the Sigma engine's internal data model.
 *
 * A rule's detection compiles into searches (one per identifier), each
 * an OR of conjunctions of items; an item tests one field (or, for
 * keywords, every leaf of the event) against groups of alternatives:
 * every value of the rule is one group, the alternatives of a group are
 * the expansions a modifier made of that value (always OR-linked), and
 * groups are OR-linked, or AND-linked under |all. The condition is a
 * small tree over search indices. */
#ifndef AW_SIGMA_INT_H
#define AW_SIGMA_INT_H

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "aupwatch/aw_sigma.h"
#include "util/arena.h"
#include "util/ytree.h"

/* ---- Sigma strings ------------------------------------------------------ */
typedef enum { TK_LIT, TK_STAR, TK_QMARK, TK_PH } aw_tktype;
typedef struct aw_tok {
    aw_tktype t;
    const char *s;      /* TK_LIT bytes, TK_PH name */
    size_t n;
} aw_tok;
typedef struct aw_sstr {
    aw_tok *toks;
    size_t n;
} aw_sstr;

/* Parse a rule value (after YAML decoding) per the spec's escape table;
 * with `placeholders`, %name% becomes TK_PH and \% a literal %. */
aw_sstr aw_sstr_parse(aw_arena *a, const char *s, size_t n, bool placeholders);
aw_sstr aw_sstr_literal(aw_arena *a, const char *s, size_t n);
/* Render back to Sigma syntax (wildcards bare, * ? \ in literals
 * escaped); for tests and explanations. Returns arena string. */
char *aw_sstr_render(aw_arena *a, const aw_sstr *s);
bool aw_sstr_has_wildcards(const aw_sstr *s);

/* ---- leaf matchers -------------------------------------------------------- */
typedef enum {
    LM_GLOB,        /* Sigma string: wildcards, case-insensitive unless cased */
    LM_RE,          /* PCRE2 regex, unanchored search */
    LM_CIDR,
    LM_CMP,         /* lt lte gt gte: numeric */
    LM_FIELDREF,    /* compare with another field of the event */
    LM_TIMEPART,    /* minute hour day week month year == number */
    LM_NULL,        /* field absent or JSON null */
    LM_EXISTS,      /* field present (bool in `want`) */
} aw_lmkind;

typedef enum { GS_EXACT, GS_PREFIX, GS_SUFFIX, GS_CONTAINS, GS_ANY, GS_GENERAL } aw_gshape;
typedef enum { CMP_LT, CMP_LTE, CMP_GT, CMP_GTE } aw_cmpop;
typedef enum { FR_EQ, FR_CONTAINS, FR_PREFIX, FR_SUFFIX } aw_frmode;
typedef enum { TP_MINUTE, TP_HOUR, TP_DAY, TP_WEEK, TP_MONTH, TP_YEAR } aw_tpart;

typedef struct aw_cidr {
    int family;             /* 4 or 6 */
    uint8_t addr[16];
    int bits;
} aw_cidr;

/* The members an evaluation reads come first, within 64 bytes (the
 * kind, the literal gate, a glob's shape and literal, a regex), and
 * what only one kind reads shares a union: a rule's leaves are mostly
 * not in the cache when an event reaches it, and an item's leaves are
 * read in a row (80 bytes a leaf, 144 before). */
typedef struct aw_leaf {
    aw_lmkind kind;
    aw_gshape shape;        /* LM_GLOB */
    uint32_t lit_id;        /* 1 + id of a literal the value must contain
                               (prefilter.c); 0: none */
    bool cased;
    bool is_num;            /* rule value was a YAML number: compare by value too */
    bool lit_whole;         /* case-insensitive `contains` of exactly that
                               literal: with the prefilter on, the literal
                               found in the field is the answer */
    bool want;              /* LM_EXISTS */
    const char *lit;        /* folded (unless cased) literal for simple
                               shapes; LM_RE: folded run every match
                               contains (aw_re_literal; a shorter one,
                               aw_re_run, has no lit_id), or NULL */
    size_t litn;
    double num;             /* is_num, LM_CMP, LM_TIMEPART */
    union {                 /* read by one kind each */
        aw_sstr pat;        /* LM_GLOB: general shape, folded unless cased */
        pcre2_code *re;     /* LM_RE */
        aw_cidr cidr;       /* LM_CIDR */
        aw_cmpop op;        /* LM_CMP */
        aw_tpart part;      /* LM_TIMEPART */
        struct {            /* LM_FIELDREF */
            int ref_field;  /* interned field id */
            aw_frmode frmode;
        };
    };
    aw_sstr orig;           /* the value as the rule wrote it (unfolded) */
} aw_leaf;

typedef struct aw_group {   /* one rule value: OR of its expansions */
    aw_leaf *alts;
    size_t n;
} aw_group;

typedef struct aw_item {
    int field;              /* interned field id; -1 = keyword search */
    bool all;               /* groups AND-linked */
    bool negate;            /* neq */
    aw_group *groups;
    uint32_t *glit;         /* per group: the lit_id gating all of it (a
                               single-expansion glob value), 0: none; a
                               contiguous copy so long value lists are
                               rejected without touching their leaves */
    size_t n;
    const char *field_name; /* as written, for explanations */
} aw_item;

typedef struct aw_conj {
    aw_item *items;
    size_t n;
} aw_conj;

typedef struct aw_search {
    aw_conj *alts;          /* OR */
    size_t n;
    const char *name;
    unsigned line;
} aw_search;

/* ---- conditions ------------------------------------------------------- */
typedef enum { CN_AND, CN_OR, CN_NOT, CN_REF } aw_cntype;
typedef struct aw_cnode aw_cnode;
struct aw_cnode {
    aw_cntype t;
    int ref;                /* CN_REF: search index */
    aw_cnode **kids;        /* AND/OR: n kids; NOT: 1 */
    size_t n;
};

/* Parse `cond` against the identifiers names[0..n). On error returns
 * NULL, fills err and sets *kind to a reason code. */
aw_cnode *aw_cond_parse(aw_arena *a, const char *cond, const char *const *names,
                        size_t n, const char **kind, aw_errbuf *err);
/* S-expression, for tests: (and a (not b)) */
char *aw_cond_render(aw_arena *a, const aw_cnode *c, const char *const *names);

/* Move a compiled rule's condition, searches, items and leaves into one
 * contiguous block of a, in evaluation order (pack.c): after it the rule
 * holds no pointer into the arena they were compiled in (aw_rctx.tmp). */
void aw_rule_pack(aw_arena *a, aw_rule *r);

/* ---- correlation (parsed and validated; executed by src/correlate) ---- */
typedef enum {
    CT_EVENT_COUNT, CT_VALUE_COUNT, CT_TEMPORAL, CT_TEMPORAL_ORDERED,
    CT_VALUE_SUM, CT_VALUE_AVG, CT_VALUE_PERCENTILE
} aw_corrtype;

typedef struct aw_corr_alias {
    const char *name;
    const char **rules;     /* rule name/id -> field */
    const char **fields;
    size_t n;
} aw_corr_alias;

typedef struct aw_corr {
    aw_corrtype type;
    const char **rules;
    size_t nrules;
    const char **group_by;
    size_t ngroup;
    int64_t timespan_s;
    aw_corr_alias *aliases;
    size_t naliases;
    bool has_cond[6];       /* gt gte lt lte eq neq */
    double cond[6];
    const char **cond_fields;
    size_t ncond_fields;
    double percentile;
    bool generate;
} aw_corr;

/* ---- rules ------------------------------------------------------------- */
struct aw_rule {
    /* what an evaluation reads first */
    aw_search *searches;
    size_t nsearch;
    aw_cnode *cond;
    aw_rule_kind kind;
    const char *id, *name, *title, *level, *status, *author, *path;
    unsigned line;
    const char **tags;
    size_t ntags;
    const char *ls_product, *ls_category, *ls_service;
    aw_ynode *doc;          /* for custom attributes */
    const char **search_names;
    /* filters: target rule ids/names (NULL = any) */
    const char **filter_rules;
    size_t nfilter_rules;
    bool filter_any;
    aw_corr *corr;
    size_t index;           /* position in the rule set */
};

typedef struct aw_placeholder {
    const char *name;
    aw_sstr *vals;
    size_t n;
} aw_placeholder;

struct aw_ruleset {
    aw_arena arena;
    aw_rule **rules;
    size_t nrules, caprules;
    size_t rejected;
    /* interned field names */
    const char **fields;
    size_t nfields, capfields;
    aw_placeholder *ph;
    size_t nph, capph;
    pcre2_code **regexes;
    size_t nregex, capregex;
    struct aw_refslot {         /* id/name -> rule (ruleset.c) */
        const char *key;
        aw_rule *rule;
    } *refs;
    size_t nrefs, refcap;
    /* prefilter literals: folded, unique per field (ruleset.c,
     * prefilter.c): the same text under two fields is two literals, each
     * looked for in its field's values only */
    char **lits;
    size_t *litn;
    int *litfield;              /* interned field id; -1: keyword search */
    size_t nlits, caplits;
    uint32_t *lithash;          /* open addressing: 1 + literal id */
    size_t lithcap;
    /* loaded file buffers are kept: rule strings point into the arena */
};

int aw_ruleset_intern_field(aw_ruleset *rs, const char *name);
/* The rule set owns compiled regexes and frees them with itself. */
void aw_rule_keep_regex(aw_ruleset *rs, pcre2_code *re);
const aw_placeholder *aw_ruleset_placeholder(const aw_ruleset *rs, const char *name);

/* Compile one YAML document into a rule; NULL if rejected (diag told). */
typedef struct aw_rctx {
    aw_ruleset *rs;
    const char *path;
    aw_diag_fn diag;
    void *ud;
    aw_arena *tmp;          /* a rule's searches, items, leaves and condition
                               until aw_rule_pack copies them into rs->arena;
                               NULL: rs->arena (tests compiling items alone) */
} aw_rctx;

static inline aw_arena *aw_rctx_tmp(aw_rctx *cx)
{
    return cx->tmp ? cx->tmp : &cx->rs->arena;
}
aw_rule *aw_rule_compile(aw_rctx *cx, aw_ynode *doc);
void aw_rule_reject(aw_rctx *cx, unsigned line, const char *kind, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Compile a detection map (rule or filter body) into searches + cond. */
bool aw_detection_compile(aw_rctx *cx, aw_rule *r, aw_ynode *det, bool is_filter);

/* Visit every item of every search of r (whatever the condition). */
typedef void (*aw_item_fn)(const aw_item *it, void *ud);
void aw_rule_items_each(const aw_rule *r, aw_item_fn fn, void *ud);

/* Build the leaf matchers for `field|mods: value-node`. Appends to item.
 * Returns false after rejecting. */
bool aw_item_compile(aw_rctx *cx, aw_item *it, const char *key, unsigned line,
                     aw_ynode *val);

bool aw_corr_compile(aw_rctx *cx, aw_rule *r, aw_ynode *doc);
/* "90m" -> 5400; false if malformed or not positive. */
bool aw_timespan_parse(const char *s, int64_t *out);

/* Modifier transforms, exposed for the vector tests: apply `chain` to
 * value text; returns the expansion (OR-linked strings) rendered in Sigma
 * syntax, or NULL with err. */
typedef struct aw_expansion {
    aw_sstr *v;
    size_t n;
} aw_expansion;

/* Whether a two-byte literal s[0..2) is worth looking for: one byte is
 * non-ASCII (a UTF-8 letter) or both are punctuation seldom in command
 * lines, paths or names ("^^", "&&": obfuscation); two other ASCII bytes
 * ("-d", "/c") are in most values (prefilter.c). */
bool aw_two_byte_lit(const char *s);
/* Prefilter literal of a glob leaf: its longest run of bytes a JSON
 * writer must emit verbatim (prefilter.c). */
bool aw_leaf_literal(const aw_leaf *l, bool raw, const char **s, size_t *n);
/* A run every match of regular expression p[0..n) contains (modifier.c:
 * in a caseless one, a run its folding cannot change); its length, 0 if
 * none. */
size_t aw_re_literal(const char *p, size_t n, bool caseless, char *out, size_t cap);
/* The longest such run, of any length; aw_re_scannable says whether it
 * is worth scanning for (what aw_re_literal keeps). */
size_t aw_re_run(const char *p, size_t n, bool caseless, char *out, size_t cap);
bool aw_re_scannable(const char *run, size_t n);
/* 1 + id of the folded literal s[0..n) in the rule set's table, whose
 * folded copy (rs->lits[id - 1]) lives as long as the rule set. */
uint32_t aw_ruleset_lit(aw_ruleset *rs, int field, const char *s, size_t n);

/* ---- CIDR --------------------------------------------------------------- */
bool aw_cidr_parse(const char *s, aw_cidr *out, aw_errbuf *err);
bool aw_cidr_match(const aw_cidr *c, const char *ip, size_t n);

/* ---- glob matching ------------------------------------------------------ */
/* src[0..n) lower-cased (ASCII only, as the matcher and Hyperscan's
 * caseless mode fold) into dst; dst may be src. */
void aw_fold_ascii(char *dst, const char *src, size_t n);
/* The first n[0..nn) in h[0..hn), or NULL (memmem; faster on the short
 * values and needles of events and rules). */
const char *aw_memfind(const char *h, size_t hn, const char *n, size_t nn);
bool aw_glob_match(const aw_leaf *l, const char *s, size_t n);
bool aw_glob_match_fold(const aw_leaf *l, const char *s, const char *folded, size_t n);
void aw_glob_prepare(aw_arena *a, aw_leaf *l, const aw_sstr *s);

#endif
