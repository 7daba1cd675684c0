/* ytree.h - YAML documents as small trees, with line numbers.
 *
 * libyaml's own document loader silently keeps the last of duplicate
 * keys and drops marks we need, so this builds the tree from libyaml's
 * event stream: every node knows its line, scalars keep their quoting
 * style (typing depends on it), duplicate mapping keys are an error,
 * and aliases are resolved to the anchored node. All nodes live in the
 * arena passed in. */
#ifndef AW_YTREE_H
#define AW_YTREE_H

#include <stddef.h>

#include "aupwatch/aw_common.h"
#include "util/arena.h"

typedef enum { AW_Y_SCALAR, AW_Y_SEQ, AW_Y_MAP } aw_ytype;
typedef enum { AW_YS_PLAIN, AW_YS_SINGLE, AW_YS_DOUBLE, AW_YS_BLOCK } aw_ystyle;

typedef struct aw_ynode aw_ynode;
struct aw_ynode {
    aw_ytype type;
    aw_ystyle style;            /* scalars */
    unsigned line, col;         /* 1-based */
    const char *text;           /* scalars, NUL-terminated */
    size_t len;
    aw_ynode **kids;            /* seq: items; map: key,value,key,value */
    size_t n;                   /* seq: items; map: pairs */
};

/* Called once per document; `doc` is NULL for an empty document.
 * Return nonzero to stop. */
typedef int (*aw_ydoc_fn)(void *ud, aw_ynode *doc, unsigned doc_index);

/* Parse every document of buf. Syntax errors and duplicate keys stop the
 * parse: AW_EPARSE with *err_line and err set. */
aw_status aw_ytree_parse(aw_arena *a, const char *buf, size_t len,
                         aw_ydoc_fn fn, void *ud, unsigned *err_line,
                         aw_errbuf *err);

/* Map lookup by key text, or NULL. */
aw_ynode *aw_ymap_get(const aw_ynode *map, const char *key);
static inline aw_ynode *aw_ymap_key(const aw_ynode *m, size_t i) { return m->kids[2 * i]; }
static inline aw_ynode *aw_ymap_val(const aw_ynode *m, size_t i) { return m->kids[2 * i + 1]; }

/* YAML 1.1 resolution of a scalar, as PyYAML (pySigma's loader) does it:
 * plain scalars may be null (null, Null, NULL, ~, empty), booleans
 * (yes/no/true/false/on/off in lower, Title or UPPER case), integers
 * (decimal, 0x, 0o/leading-0 octal, 0b, with '_'), floats; anything
 * quoted is a string. */
typedef enum { AW_YV_NULL, AW_YV_BOOL, AW_YV_INT, AW_YV_FLOAT, AW_YV_STR } aw_yvtype;
typedef struct aw_yval {
    aw_yvtype type;
    int b;
    long long i;
    double f;
} aw_yval;
aw_yval aw_yscalar_resolve(const aw_ynode *n);

#endif
