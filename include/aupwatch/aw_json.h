/* aw_json.h - one JSON record parsed into a flat, reusable node array.
 *
 * An aw_doc holds one parsed record. Parsing reuses the document's node
 * array and string arena, so after warm-up parsing a record performs no
 * heap allocation. Nodes and strings stay valid until the next parse or
 * aw_doc_free. The parser is strict RFC 8259: invalid UTF-8, lone
 * surrogates in \u escapes, control characters in strings, trailing
 * garbage and nesting deeper than AW_JSON_MAX_DEPTH are errors. */
#ifndef AW_JSON_H
#define AW_JSON_H

#include "aupwatch/aw_common.h"

#define AW_JSON_MAX_DEPTH 128

typedef enum aw_jtype {
    AW_JNULL, AW_JFALSE, AW_JTRUE, AW_JNUM, AW_JSTR, AW_JARR, AW_JOBJ
} aw_jtype;

/* A node. Index 0 is the root; 0 as `next`/`child` means "none". */
typedef struct aw_jnode {
    uint8_t type;       /* aw_jtype */
    uint8_t dropped;    /* hidden from lookups (content field dropped) */
    uint8_t dotted;     /* AW_JOBJ: a member name contains '.', so a dotted
                           path may name a member whole (path lookups
                           skip those tries when it is 0) */
    uint32_t next;      /* next sibling */
    uint32_t child;     /* first child of an array/object */
    uint32_t parent;
    uint32_t klen;
    uint32_t vlen;
    const char *key;    /* member name, unescaped; NULL in arrays/root */
    const char *val;    /* AW_JSTR: unescaped bytes (NUL-terminated);
                           AW_JNUM: number text as written;
                           AW_JTRUE/FALSE/NULL: "true"/"false"/"null";
                           AW_JARR/AW_JOBJ: raw source text of the value */
    double num;         /* AW_JNUM: value */
} aw_jnode;

typedef struct aw_doc aw_doc;

aw_doc *aw_doc_new(void);
void aw_doc_free(aw_doc *d);            /* NULL is a no-op */

/* Parse exactly one JSON value (surrounding whitespace allowed) from
 * buf[0..len). On failure returns AW_EPARSE and fills err with the
 * reason and `*err_off` (may be NULL) with the byte offset. */
aw_status aw_doc_parse(aw_doc *d, const char *buf, size_t len,
                       size_t *err_off, aw_errbuf *err);

size_t aw_doc_count(const aw_doc *d);
/* Nodes parsed from the record's text: nodes from this index on were
 * added by aw_json_append_member, so their bytes are not in the text. */
size_t aw_doc_parsed_count(const aw_doc *d);
/* Whether the text parsed held a \uXXXX escape (in a name or a value):
 * without one, every scalar's bytes appear in the text as they are,
 * bar the two-character escapes. */
int aw_doc_had_u_escape(const aw_doc *d);
const aw_jnode *aw_doc_root(const aw_doc *d);
const aw_jnode *aw_doc_node(const aw_doc *d, uint32_t idx);
uint32_t aw_doc_index(const aw_doc *d, const aw_jnode *n);

/* Member `key` of object `obj` (exact, case-sensitive), or NULL. */
const aw_jnode *aw_json_member(const aw_doc *d, const aw_jnode *obj,
                               const char *key, size_t klen);

/* The same for the root object, given h = aw_json_key_hash(key, klen)
 * computed once for a key looked up in many records. */
uint32_t aw_json_key_hash(const char *key, size_t klen);
/* A 32-bit hash of a member name, for callers' own tables of names. */
uint32_t aw_json_name_hash(const char *key, size_t klen);
const aw_jnode *aw_json_root_member(const aw_doc *d, const char *key,
                                    size_t klen, uint32_t h);
/* A 64-bit Bloom filter of the root's member names: bit (h & 63) is
 * clear for every h = aw_json_key_hash of a name the root lacks. All
 * ones when the root is not indexed (no object, or many members). */
uint64_t aw_json_root_bloom(const aw_doc *d);

/* Visit every node reached by the dotted `path` from `from` (NULL =
 * root). At each object a member whose name equals the whole remaining
 * path wins (literal keys containing dots); otherwise the path is split
 * at each '.' in turn. Arrays met on the way are descended element by
 * element; an array at the end of the path is expanded into its elements
 * (recursively), so a value matches if any element matches. Dropped
 * nodes are invisible. The visitor returns nonzero to stop; that value
 * is returned. Returns 0 when all matches were visited. */
typedef int (*aw_json_visit_fn)(const aw_doc *d, const aw_jnode *n, void *ud);
int aw_json_path_each(const aw_doc *d, const aw_jnode *from,
                      const char *path, size_t plen,
                      aw_json_visit_fn fn, void *ud);

/* First node reached by `path` (no array expansion at the end), or NULL. */
const aw_jnode *aw_json_path_first(const aw_doc *d, const aw_jnode *from,
                                   const char *path, size_t plen);

/* A dotted path compiled for lookups from the root: its segments, with
 * the root member's hash, so a lookup in records whose objects have no
 * dotted member names walks member by member without re-reading the
 * path. Same answers as the two functions above with from = NULL. */
typedef struct aw_jpath aw_jpath;
aw_jpath *aw_jpath_new(const char *path, size_t plen);  /* path is copied */
void aw_jpath_free(aw_jpath *p);                        /* NULL is a no-op */
int aw_jpath_each(const aw_doc *d, const aw_jpath *p, aw_json_visit_fn fn, void *ud);
const aw_jnode *aw_jpath_first(const aw_doc *d, const aw_jpath *p);
size_t aw_jpath_drop(aw_doc *d, const aw_jpath *p);     /* = aw_json_drop */
/* Whether `p` leads member by member (no array on the way, no dotted
 * member name that could stand for several segments) to an object:
 * 1 and *obj set; 0 if it plainly leads to none, so `p.name` reaches no
 * value for any dot-free name; -1 if only aw_jpath_each can tell. */
int aw_jpath_plain_object(const aw_doc *d, const aw_jpath *p, const aw_jnode **obj);
/* Visit n as the end of a path (aw_jpath_each): a dropped node is
 * invisible, an array is expanded into its elements, recursively. */
int aw_json_each_value(const aw_doc *d, const aw_jnode *n, aw_json_visit_fn fn, void *ud);

/* Mark the node reached by `path` (and its subtree) dropped. Returns the
 * number of nodes dropped. */
size_t aw_json_drop(aw_doc *d, const char *path, size_t plen);

/* Append a member to the root object (derived fields computed at
 * ingestion). key and val are not copied: they must stay valid until the
 * next parse. AW_ERR if the root is no object or already has `key`. */
aw_status aw_json_append_member(aw_doc *d, const char *key, aw_jtype type,
                                const char *val, double num);

/* Replace the value of string node idx (a member appended above); val
 * is not copied. AW_ERR if idx is no string node. */
aw_status aw_json_set_string(aw_doc *d, uint32_t idx, const char *val);
/* Visit every leaf (string, number, bool) in document order. */
int aw_json_leaves_each(const aw_doc *d, aw_json_visit_fn fn, void *ud);

/* Compact serialisation of node `n` (no whitespace, keys in source
 * order, strings re-escaped minimally) into out[0..cap). Returns the
 * length needed (excluding NUL); output truncated if >= cap. */
size_t aw_json_compact(const aw_doc *d, const aw_jnode *n, char *out,
                       size_t cap);

/* Append `s[0..n)` to out as a JSON string literal with quotes.
 * Returns bytes needed; same truncation contract as aw_json_compact. */
size_t aw_json_quote(const char *s, size_t n, char *out, size_t cap);

/* A string is valid UTF-8 (RFC 3629: no overlongs, no surrogates). */
int aw_utf8_valid(const char *s, size_t n);

#endif
