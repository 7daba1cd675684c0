/* test_util.h - helpers shared by the C tests (header-only). */
#ifndef AW_TEST_UTIL_H
#define AW_TEST_UTIL_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/ytree.h"

/* xorshift64: the tests' reproducible random numbers (*s nonzero). */
static inline uint64_t tu_xorshift(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* $AW_SHARED (set by tests/run.sh), else ../shared from the repo root. */
static inline const char *tu_shared(void)
{
    const char *s = getenv("AW_SHARED");
    return s && *s ? s : "../shared";
}

/* Read $AW_SHARED/rel into a malloc'd buffer; NULL if absent. */
static inline char *tu_read_shared(const char *rel, char *path, size_t cap, size_t *len)
{
    snprintf(path, cap, "%s/%s", tu_shared(), rel);
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) {
        fclose(f);
        free(buf);
        return NULL;
    }
    fclose(f);
    buf[n] = 0;
    *len = (size_t)n;
    return buf;
}

static inline int tu_grab_first(void *ud, aw_ynode *doc, unsigned idx)
{
    if (idx == 0)
        *(aw_ynode **)ud = doc;
    return 0;
}

#endif
