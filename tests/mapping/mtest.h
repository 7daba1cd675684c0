/* mtest.h - helpers shared by the mapping tests: a diag sink that
 * records what it was told, temp files, and event parsing. */
#ifndef MTEST_H
#define MTEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "aupwatch/aw_mapping.h"

typedef struct diags {
    int n;
    char file[8][256];
    unsigned long line[8];
    char kind[8][64];
    char msg[8][400];
} diags;

static inline void diag_rec(void *ud, const char *file, unsigned long line,
                     const char *kind, const char *msg)
{
    diags *d = ud;
    if (getenv("MTEST_VERBOSE"))
        fprintf(stderr, "%s:%lu: [%s] %s\n", file ? file : "?", line, kind, msg);
    if (d->n < 8) {
        snprintf(d->file[d->n], sizeof d->file[0], "%s", file ? file : "");
        d->line[d->n] = line;
        snprintf(d->kind[d->n], sizeof d->kind[0], "%s", kind);
        snprintf(d->msg[d->n], sizeof d->msg[0], "%s", msg);
    }
    d->n++;
}

/* Write text to a fresh temp file; returns its path (static buffer). */
static inline const char *tmp_write(const char *text)
{
    static char path[4][64];
    static int k;
    char *p = path[k++ % 4];
    int fd;
    snprintf(p, 64, "/tmp/aw_mtest_XXXXXX.yml");
    fd = mkstemps(p, 4);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    return p;
}

/* Load mapping text into m through a temp file (asserts success; the
 * file is removed). */
static inline void load_text(aw_mapping *m, const char *yaml)
{
    diags dg = {0};
    const char *path = tmp_write(yaml);
    aw_status rc = aw_mapping_load(m, path, diag_rec, &dg);
    unlink(path);
    assert_int_equal(rc, AW_OK);
}

/* Parse a JSON event into d (asserts success). */
static inline void parse(aw_doc *d, const char *json)
{
    aw_errbuf err;
    size_t off = 0;
    if (aw_doc_parse(d, json, strlen(json), &off, &err) != AW_OK)
        fail_msg("bad test JSON at %zu: %s", off, err.msg);
}

static inline aw_mapping *builtin(void)
{
    diags dg = {0};
    aw_mapping *m = aw_mapping_new();
    assert_non_null(m);
    assert_int_equal(aw_mapping_load_builtin(m, diag_rec, &dg), AW_OK);
    assert_int_equal(dg.n, 0);
    return m;
}

/* Names of the sources an event belongs to, joined by ',' (static). */
static inline const char *classify_names(const aw_mapping *m, const aw_doc *d)
{
    static char buf[2048];
    const aw_source *s[32];
    size_t n = aw_mapping_classify(m, d, s, 32), len = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < n && i < 32; i++)
        len += (size_t)snprintf(buf + len, sizeof buf - len, "%s%s", i ? "," : "",
                                aw_source_name(s[i]));
    return buf;
}

static inline const aw_source *by_name(const aw_mapping *m, const char *name)
{
    for (size_t i = 0; i < aw_mapping_count(m); i++)
        if (strcmp(aw_source_name(aw_mapping_source(m, i)), name) == 0)
            return aw_mapping_source(m, i);
    fail_msg("no source %s", name);
    return NULL;
}

#endif
