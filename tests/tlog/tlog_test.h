/* tlog_test.h - helpers for the tlog tests: locate and load the shared
 * vectors (skip when absent), hex/base64 decoding, temp directories. */
#ifndef AW_TLOG_TEST_H
#define AW_TLOG_TEST_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "aupwatch/aw_tlog.h"
#include "tlog/tlog_json.h"
#include "tlog/tlog_int.h"

static inline const char *tt_shared(void)
{
    static char buf[1024];
    const char *s = getenv("AW_SHARED"), *root = getenv("AW_ROOT");
    if (s && *s)
        return s;
    if (root && *root) {
        snprintf(buf, sizeof buf, "%s/../shared", root);
        return buf;
    }
    return "../shared";
}

/* Parsed vector file, or NULL (and the test is skipped) when absent. */
static inline aw_tj *tt_vec(const char *name)
{
    char path[4096], *buf;
    size_t len;
    aw_errbuf e;
    aw_tj *j = NULL;
    snprintf(path, sizeof path, "%s/tlog/vectors/%s", tt_shared(), name);
    if (aw_tlog_read_file(path, 1 << 24, &buf, &len, &e) != AW_OK) {
        fprintf(stderr, "SKIP: vectors not found (%s); set AW_SHARED\n", path);
        return NULL;
    }
    if (aw_tj_parse(buf, len, &j, &e) != AW_OK)
        fprintf(stderr, "%s: %s\n", path, e.msg);
    free(buf);
    return j;
}

#define TT_VEC(var, name)                                                     \
    aw_tj *var = tt_vec(name);                                                \
    if (!var) {                                                               \
        skip();                                                               \
        return;                                                               \
    }

static inline const char *tt_str(const aw_tj *o, const char *k)
{
    const aw_tj *v = aw_tj_get(o, k);
    return v && v->type == AW_TJ_STR ? v->s : NULL;
}

static inline uint64_t tt_u64(const aw_tj *o, const char *k)
{
    uint64_t x = 0;
    aw_tj_u64(aw_tj_get(o, k), &x);
    return x;
}

static inline size_t tt_hex(const char *h, uint8_t *out, size_t cap)
{
    size_t n = strlen(h) / 2;
    if (n > cap)
        return (size_t)-1;
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        if (sscanf(h + 2 * i, "%2x", &v) != 1)
            return (size_t)-1;
        out[i] = (uint8_t)v;
    }
    return n;
}

/* Lenient base64 (vectors may hold non-32-byte values): -1 on error. */
static inline long tt_b64(const char *s, uint8_t *out, size_t cap)
{
    size_t n;
    if (!*s)
        return 0;
    if (aw_tlog_b64dec(s, strlen(s), out, cap, &n) != 0)
        return -1;
    return (long)n;
}

static inline char *tt_tmpdir(void)
{
    char *t = strdup("/tmp/aw-tlog-test-XXXXXX");
    if (!mkdtemp(t)) {
        free(t);
        return NULL;
    }
    return t;
}

static inline void tt_rmrf(const char *d)
{
    char cmd[4200];
    if (!d || strncmp(d, "/tmp/aw-tlog-", 13) != 0)
        return;
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", d);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", d);
}

static inline int tt_write(const char *path, const void *b, size_t n)
{
    aw_errbuf e;
    if (aw_tlog_mkdirs_for(path, &e) != AW_OK)
        return -1;
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    size_t w = fwrite(b, 1, n, f);
    fclose(f);
    return w == n ? 0 : -1;
}

#endif
