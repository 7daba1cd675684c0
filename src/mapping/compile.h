/* compile.h - the loader state shared by load.c (files) and compile.c
 * (documents to sources). */
#ifndef AW_MAPPING_COMPILE_H
#define AW_MAPPING_COMPILE_H

#include "mapping/mapping_int.h"
#include "util/ytree.h"

typedef struct mp_loader {      /* one file being loaded */
    aw_mapping *m;
    const char *file;
    aw_diag_fn diag;
    void *ud;
    unsigned errors;
    int docs;
    aw_source **pending;
    size_t npending, cappending;
} mp_loader;

/* Report a problem with the file at `line` and count it. */
__attribute__((format(printf, 4, 5)))
void mp_fail(mp_loader *l, unsigned line, const char *kind, const char *fmt, ...);

/* aw_ytree_parse callback: compile one document into l->pending. */
int mp_compile_doc(void *ud, aw_ynode *doc, unsigned idx);

#endif
