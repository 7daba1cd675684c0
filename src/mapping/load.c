/* load.c - the mapping object, and mapping files, directories and the
 * built-in mappings fed to compile.c.
 *
 * A file with any error contributes no source at all (its sources are
 * compiled into a pending list and only committed when the file was
 * clean); loading carries on with the next file and reports AW_EPARSE.
 * Files larger than 16 MiB are refused. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mapping/compile.h"

#define MAX_FILE_BYTES (16u << 20)

/* ------------------------------------------------------------------ */
/* mapping object                                                      */

aw_mapping *aw_mapping_new(void)
{
    aw_mapping *m;
    if (sodium_init() < 0)
        return NULL;
    m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    aw_arena_init(&m->arena);
    pthread_mutex_init(&m->lock, NULL);
    return m;
}

void aw_mapping_free(aw_mapping *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->ncodes; i++)
        pcre2_code_free(m->codes[i]);
    free(m->codes);
    mp_index_free(&m->index);
    free(m->src);
    for (size_t i = 0; i < m->njps; i++)
        aw_jpath_free(m->jps[i]);
    free(m->jps);
    free(m->slots);
    sodium_memzero(&m->keyed, sizeof m->keyed);
    pthread_mutex_destroy(&m->lock);
    aw_arena_reset(&m->arena);
    free(m);
}

size_t aw_mapping_count(const aw_mapping *m)
{
    return m ? m->nsrc : 0;
}

const aw_source *aw_mapping_source(const aw_mapping *m, size_t i)
{
    return (m && i < m->nsrc) ? m->src[i] : NULL;
}

/* ------------------------------------------------------------------ */
/* files                                                               */

static aw_status load_buffer(aw_mapping *m, const char *file, const char *buf,
                             size_t len, aw_diag_fn diag, void *ud)
{
    mp_loader l = {.m = m, .file = file, .diag = diag, .ud = ud};
    aw_arena tmp;
    aw_errbuf err;
    unsigned eline = 0;
    aw_status rc;

    aw_arena_init(&tmp);
    rc = aw_ytree_parse(&tmp, buf, len, mp_compile_doc, &l, &eline, &err);
    if (rc != AW_OK)
        mp_fail(&l, eline, strncmp(err.msg, "duplicate key", 13) == 0 ? "mapping-duplicate-key"
                                                                    : "mapping-syntax",
             "%s", err.msg);
    else if (l.docs == 0)
        mp_fail(&l, 1, "mapping-value", "empty mapping file");
    if (l.errors == 0) {
        for (size_t i = 0; i < l.npending; i++) {
            aw_grow((void **)&m->src, &m->capsrc, m->nsrc, sizeof *m->src);
            l.pending[i]->index = m->nsrc;
            mp_compile_paths(m, l.pending[i]);
            m->src[m->nsrc++] = l.pending[i];
        }
        if (l.npending)
            mp_index_build(m);
    }
    free(l.pending);
    aw_arena_reset(&tmp);
    return l.errors ? AW_EPARSE : AW_OK;
}

static aw_status load_file(aw_mapping *m, const char *path, aw_diag_fn diag, void *ud)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    size_t len = 0, cap = 1 << 14, got;
    aw_status rc;

    if (!f) {
        if (diag) {
            char msg[300];
            snprintf(msg, sizeof msg, "cannot open: %s", strerror(errno));
            diag(ud, path, 0, "mapping-io", msg);
        }
        return AW_EIO;
    }
    buf = aw_xmalloc(cap);
    while ((got = fread(buf + len, 1, cap - len, f)) > 0) {
        len += got;
        if (len > MAX_FILE_BYTES)
            break;
        if (len == cap)
            buf = aw_xrealloc(buf, cap *= 2);
    }
    if (ferror(f) || len > MAX_FILE_BYTES) {
        if (diag)
            diag(ud, path, 0, "mapping-io",
                 len > MAX_FILE_BYTES ? "file exceeds 16 MiB" : "read error");
        fclose(f);
        free(buf);
        return len > MAX_FILE_BYTES ? AW_ELIMIT : AW_EIO;
    }
    fclose(f);
    rc = load_buffer(m, path, buf, len, diag, ud);
    free(buf);
    return rc;
}

static int has_yaml_ext(const char *n)
{
    size_t l = strlen(n);
    return (l > 4 && strcmp(n + l - 4, ".yml") == 0) ||
           (l > 5 && strcmp(n + l - 5, ".yaml") == 0);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

aw_status aw_mapping_load(aw_mapping *m, const char *path, aw_diag_fn diag, void *ud)
{
    DIR *dir;
    struct dirent *e;
    char **names = NULL;
    size_t n = 0, cap = 0;
    aw_status rc = AW_OK;

    if (!m || !path)
        return AW_ERR;
    if (!(dir = opendir(path)))
        return load_file(m, path, diag, ud);
    while ((e = readdir(dir))) {
        if (e->d_name[0] == '.' || !has_yaml_ext(e->d_name))
            continue;
        aw_grow((void **)&names, &cap, n, sizeof *names);
        names[n++] = aw_xstrdup(e->d_name);
    }
    closedir(dir);
    if (n)
        qsort(names, n, sizeof *names, cmp_str);
    for (size_t i = 0; i < n; i++) {
        size_t pl = strlen(path) + strlen(names[i]) + 2;
        char *full = aw_xmalloc(pl);
        aw_status r;
        snprintf(full, pl, "%s/%s", path, names[i]);
        r = load_file(m, full, diag, ud);
        if (r != AW_OK && (rc == AW_OK || r == AW_EPARSE))
            rc = r;
        free(full);
        free(names[i]);
    }
    free(names);
    return rc;
}

aw_status aw_mapping_load_builtin(aw_mapping *m, aw_diag_fn diag, void *ud)
{
    aw_status rc = AW_OK;
    if (!m)
        return AW_ERR;
    for (size_t i = 0; i < aw_mapping_builtin_count; i++) {
        const aw_builtin_file *f = &aw_mapping_builtin_files[i];
        if (load_buffer(m, f->name, (const char *)f->data, f->len, diag, ud) != AW_OK)
            rc = AW_EPARSE;
    }
    return rc;
}
