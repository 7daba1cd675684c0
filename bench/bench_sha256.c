/* bench_sha256.c - hashing records one at a time (sha256.h, OpenSSL)
 * against queued (sha256_mb.h), in one process, on the same records:
 * the lines of a file (bench/run.sh leaves /tmp/aw-bench/cloudtrail.jsonl),
 * or generated records of 600-2,000 bytes when none is given.
 *
 *   make bench && build/bench/bench_sha256 [FILE] [MB]
 *
 * Three rounds of each, the best printed; the digests are compared. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/sha256.h"
#include "util/sha256_mb.h"
#include "bench_util.h"

typedef struct recs {
    char *buf;
    size_t n, *off, *len, bytes;
    uint8_t (*want)[32], (*got)[32];
} recs;

static void on_done(void *ud, size_t id, const uint8_t d[32])
{
    recs *r = ud;
    memcpy(r->got[id], d, 32);
}

static int load(recs *r, const char *path, size_t cap)
{
    r->buf = malloc(cap);
    if (!r->buf)
        return -1;
    size_t have = 0;
    if (path) {
        FILE *f = fopen(path, "rb");
        if (!f) {
            perror(path);
            return -1;
        }
        have = fread(r->buf, 1, cap, f);
        fclose(f);
    } else {
        uint64_t x = 88172645463325252ull;
        while (have + 2001 < cap) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            size_t n = 600 + x % 1400;
            for (size_t i = 0; i < n; i++)
                r->buf[have + i] = (char)('a' + (x >> (i % 40)) % 26);
            r->buf[have + n] = '\n';
            have += n + 1;
        }
    }
    size_t maxn = have / 2 + 1;
    r->off = malloc(maxn * sizeof *r->off);
    r->len = malloc(maxn * sizeof *r->len);
    if (!r->off || !r->len)
        return -1;
    for (size_t s = 0; s < have;) {
        char *e = memchr(r->buf + s, '\n', have - s);
        if (!e)
            break;
        if (e > r->buf + s) {
            r->off[r->n] = s;
            r->len[r->n++] = (size_t)(e - (r->buf + s));
            r->bytes += (size_t)(e - (r->buf + s));
        }
        s = (size_t)(e - r->buf) + 1;
    }
    r->want = malloc(r->n * 32 + 1);
    r->got = malloc(r->n * 32 + 1);
    return r->want && r->got ? 0 : -1;
}

int main(int argc, char **argv)
{
    const char *path = argc > 1 && strcmp(argv[1], "-") != 0 ? argv[1] : NULL;
    size_t mb = argc > 2 ? strtoull(argv[2], NULL, 10) : 200;
    recs r = {0};
    if (mb == 0 || load(&r, path, mb << 20) != 0 || r.n == 0) {
        fprintf(stderr, "bench_sha256: no records\n");
        return 1;
    }
    aw_sha256_mb *mb_q = aw_sha256_mb_new(on_done, &r);
    if (!mb_q)
        return 1;
    double best[2] = {1e9, 1e9};
    for (int round = 0; round < 3; round++) {
        double t = bench_now();
        for (size_t i = 0; i < r.n; i++)
            aw_sha256(r.buf + r.off[i], r.len[i], r.want[i]);
        double a = bench_now() - t;
        memset(r.got, 0, r.n * 32);
        t = bench_now();
        for (size_t i = 0; i < r.n; i++)
            aw_sha256_mb_add(mb_q, r.buf + r.off[i], r.len[i], i);
        aw_sha256_mb_flush(mb_q);
        double b = bench_now() - t;
        if (memcmp(r.want, r.got, r.n * 32) != 0) {
            fprintf(stderr, "bench_sha256: digests differ\n");
            return 1;
        }
        if (b < best[1])
            best[1] = b;
        if (a < best[0])
            best[0] = a;
    }
    double m = (double)r.bytes / 1e6;
    printf("%zu records, %.0f MB, %.0f bytes each (%s)\n", r.n, m, (double)r.bytes / (double)r.n,
           path ? path : "generated");
    printf("| %-34s | %8s |\n| --- | ---: |\n", "SHA-256 of each record", "MB/s");
    printf("| %-34s | %8.0f |\n", "one at a time (OpenSSL)", m / best[0]);
    printf("| queued: %-26s | %8.0f |\n", aw_sha256_mb_kind(mb_q), m / best[1]);
    aw_sha256_mb_free(mb_q);
    free(r.buf), free(r.off), free(r.len), free(r.want), free(r.got);
    return 0;
}
