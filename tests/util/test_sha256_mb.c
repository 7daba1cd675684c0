/* test_sha256_mb.c - queued hashes (sha256_mb.h) against one-at-a-time
 * SHA-256 (sha256.h) and a FIPS 180-2 vector: every length around the
 * block and padding edges, queues longer than the library's lanes and
 * than the queue itself, large buffers among small ones, and the order
 * the digests come back in. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "util/sha256.h"
#include "util/sha256_mb.h"

#define MAXN 4096

typedef struct got {
    size_t n;                       /* callbacks so far */
    size_t id[MAXN];
    uint8_t d[MAXN][32];
} got;

static void on_done(void *ud, size_t id, const uint8_t d[32])
{
    got *g = ud;
    assert_true(g->n < MAXN);
    g->id[g->n] = id;
    memcpy(g->d[g->n], d, 32);
    g->n++;
}

static uint64_t rnd_state = 0x9E3779B97F4A7C15ull;

static uint32_t rnd(void)
{
    rnd_state ^= rnd_state << 13;
    rnd_state ^= rnd_state >> 7;
    rnd_state ^= rnd_state << 17;
    return (uint32_t)(rnd_state >> 11);
}

/* Queue the buffers at off[i], len[i] of data, flush, and check every
 * digest and the order. */
static void run(const unsigned char *data, const size_t *off, const size_t *len, size_t n)
{
    got *g = calloc(1, sizeof *g);
    aw_sha256_mb *mb = aw_sha256_mb_new(on_done, g);
    assert_non_null(g);
    assert_non_null(mb);
    for (size_t i = 0; i < n; i++)
        aw_sha256_mb_add(mb, data + off[i], len[i], 1000 + i);
    aw_sha256_mb_flush(mb);
    assert_int_equal(g->n, n);
    for (size_t i = 0; i < n; i++) {
        uint8_t want[32];
        aw_sha256(data + off[i], len[i], want);
        assert_int_equal(g->id[i], 1000 + i);
        assert_memory_equal(g->d[i], want, 32);
    }
    aw_sha256_mb_flush(mb);                     /* nothing queued: no callback */
    assert_int_equal(g->n, n);
    aw_sha256_mb_free(mb);
    free(g);
}

static void test_vector(void **st)
{
    (void)st;
    static const char abc[] = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    static const uint8_t want[32] = {
        0x24, 0x8d, 0x6a, 0x61, 0xd2, 0x06, 0x38, 0xb8, 0xe5, 0xc0, 0x26, 0x93, 0x0c, 0x3e, 0x60, 0x39,
        0xa3, 0x3c, 0xe4, 0x59, 0x64, 0xff, 0x21, 0x67, 0xf6, 0xec, 0xed, 0xd4, 0x19, 0xdb, 0x06, 0xc1};
    got g = {0};
    aw_sha256_mb *mb = aw_sha256_mb_new(on_done, &g);
    assert_non_null(mb);
    print_message("hashing: %s\n", aw_sha256_mb_kind(mb));
    aw_sha256_mb_add(mb, abc, strlen(abc), 7);
    aw_sha256_mb_add(mb, abc, strlen(abc), 8);
    aw_sha256_mb_free(mb);                      /* finishes what is queued */
    assert_int_equal(g.n, 2);
    assert_memory_equal(g.d[0], want, 32);
    assert_memory_equal(g.d[1], want, 32);
    char hex[65];
    aw_sha256_hex_of(want, hex);
    assert_string_equal(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

/* Every length from 0 to 300 (the block is 64 bytes, the padding 9),
 * twice, in one queue: longer than the queue itself. */
static void test_lengths(void **st)
{
    (void)st;
    enum { N = 301 };
    unsigned char *data = malloc(N);
    size_t off[2 * N], len[2 * N];
    for (size_t i = 0; i < N; i++)
        data[i] = (unsigned char)rnd();
    for (size_t i = 0; i < 2 * N; i++) {
        off[i] = 0;
        len[i] = i % N;
    }
    run(data, off, len, 2 * N);
    free(data);
}

/* Record-like sizes at random offsets, one in 97 of 200-500 KB. */
static void test_random(void **st)
{
    (void)st;
    enum { SZ = 1 << 20, N = 3000 };
    unsigned char *data = malloc(SZ);
    size_t *off = malloc(N * sizeof *off), *len = malloc(N * sizeof *len);
    for (size_t i = 0; i < SZ; i++)
        data[i] = (unsigned char)rnd();
    for (size_t i = 0; i < N; i++) {
        uint32_t k = rnd();
        len[i] = k % 97 == 0 ? 200000 + k % 300000 : 200 + k % 3000;
        if (len[i] > SZ)
            len[i] = SZ;
        off[i] = rnd() % (SZ - len[i] + 1);
    }
    run(data, off, len, N);
    free(data);
    free(off);
    free(len);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vector),
        cmocka_unit_test(test_lengths),
        cmocka_unit_test(test_random),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
