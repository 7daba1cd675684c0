/* test_eseq.c - a group's window entries (src/correlate/eseq.h) against
 * a plain sorted array, through long random runs of what the window
 * does: appends in order, inserts out of order (near the end, as
 * interleaved files deliver them, and anywhere), joins to an entry of
 * the same time, pops at the front,
 * removals anywhere, clears. After every step the entries, their order
 * (equal times in arrival order), the lookups and the layout's
 * invariants (slot times, half-full middle blocks, allocated bytes and
 * their bound) are checked. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "correlate/eseq.h"
#include "test_util.h"

static uint64_t rs = 88172645463325252ull;
static uint64_t rnd(void)
{
    return tu_xorshift(&rs);
}

typedef struct ref {
    entry *e;
    size_t n, cap, maxn;
} ref;

static void ref_insert(ref *r, const entry *e)
{
    if (r->n == r->cap) {
        r->cap = r->cap ? r->cap * 2 : 64;
        r->e = realloc(r->e, r->cap * sizeof *r->e);
    }
    size_t i = r->n;
    while (i > 0 && r->e[i - 1].t > e->t)
        i--;
    memmove(&r->e[i + 1], &r->e[i], (r->n - i) * sizeof *r->e);
    r->e[i] = *e;
    if (++r->n > r->maxn)
        r->maxn = r->n;
}

static void ref_remove(ref *r, size_t i)
{
    memmove(&r->e[i], &r->e[i + 1], (r->n - i - 1) * sizeof *r->e);
    r->n--;
}

static void check(const eseq *q, const ref *r)
{
    if (q->n != r->n)
        fail_msg("%u entries, the reference holds %zu", q->n, r->n);
    size_t i = 0, bytes = q->scap * sizeof(eslot);
    for (epos p = es_begin(q); !es_done(q, p); p = es_next(q, p), i++)
        if (i >= r->n || es_get(q, p)->vh != r->e[i].vh)
            fail_msg("entry %zu is id %llu, the reference's %llu", i,
                     (unsigned long long)es_get(q, p)->vh,
                     (unsigned long long)(i < r->n ? r->e[i].vh : 0));
    assert_int_equal(i, r->n);
    for (uint32_t k = 0; k < q->nb; k++) {
        const eblk *b = es_blk(q, k);
        bytes += sizeof(eblk) + b->cap * sizeof(entry);
        assert_true(b->lo <= b->hi && b->hi <= b->cap && b->cap <= (q->scap ? ES_BLK : ES_ONE));
        if (q->n)
            assert_true(b->hi > b->lo);
        if (b->hi > b->lo && q->scap)
            assert_true(q->s[q->s0 + k].last == b->e[b->hi - 1].t);
        if (k > 0 && k + 1 < q->nb && b->hi - b->lo < ES_BLK / 2)
            fail_msg("middle block %u of %u holds %u entries", k, q->nb, b->hi - b->lo);
    }
    if (q->scap)
        assert_true(q->s0 + q->nb <= q->scap);
    else
        assert_true(q->nb <= 1 && (q->nb ? q->one != NULL && q->s0 == q->one->lo : q->one == NULL));
    if (bytes != q->bytes)
        fail_msg("bytes %zu, the blocks and slots make %zu", q->bytes, bytes);
    if (q->bytes > es_bound_bytes(r->maxn))
        fail_msg("%zu bytes for at most %zu entries: over the bound %zu", q->bytes, r->maxn,
                 es_bound_bytes(r->maxn));
    if (r->n) {
        assert_true(q->tfirst == r->e[0].t && q->tlast == r->e[r->n - 1].t);
        assert_true(es_first(q)->vh == r->e[0].vh);
        assert_true(es_last(q)->vh == r->e[r->n - 1].vh);
        if (r->n > 1)
            assert_true(es_second(q)->vh == r->e[1].vh);
    }
    for (int k = 0; k < 4; k++) {   /* a time present, one absent, before, after */
        int64_t t = r->n ? r->e[rnd() % r->n].t + (k == 1) - 1000 * (k == 2) + 1000 * (k == 3) : 5;
        const entry *got = es_last_le(q, t);
        size_t j = r->n;
        while (j > 0 && r->e[j - 1].t > t)
            j--;
        if (j == 0 ? got != NULL : (!got || got->vh != r->e[j - 1].vh))
            fail_msg("last entry at or before %lld: got id %llu, the reference's %llu", (long long)t,
                     got ? (unsigned long long)got->vh : 0ull,
                     j ? (unsigned long long)r->e[j - 1].vh : 0ull);
    }
}

/* A run: steps of the given mix. spread: how far back an out-of-order
 * event may land (in time units); window: the front is popped while
 * the entries span more than it (0: never); remove/clear: per mille. */
static void run(int steps, int64_t spread, int64_t window, int ooo, int anywhere, int remove,
                int clear, int dup)
{
    eseq q;
    ref r = {0};
    memset(&q, 0, sizeof q);
    int64_t now = 1000;
    uint64_t id = 1;
    for (int s = 0; s < steps; s++) {
        unsigned x = (unsigned)(rnd() % 1000);
        if (r.n && (int)x < remove) {
            size_t i = rnd() % r.n;
            epos p = es_begin(&q);
            for (size_t j = 0; j < i; j++)
                p = es_next(&q, p);
            es_remove(&q, p);
            ref_remove(&r, i);
        } else if ((int)x < remove + clear) {
            es_clear(&q);
            r.n = 0;
        } else {
            entry e = {.vh = id++};
            if ((int)(rnd() % 100) < dup && r.n)
                e.t = r.e[rnd() % r.n].t;                   /* an existing time */
            else if ((int)(rnd() % 100) < ooo)
                e.t = now - (int64_t)(rnd() % (uint64_t)spread);
            else if ((int)(rnd() % 100) < anywhere && r.n)
                e.t = r.e[0].t + (int64_t)(rnd() % (uint64_t)(now - r.e[0].t + 1));
            else
                e.t = now += (int64_t)(rnd() % 3);
            size_t j = r.n;
            while (j > 0 && r.e[j - 1].t > e.t)
                j--;
            bool join = rnd() % 2, joins = join && j > 0 && r.e[j - 1].t == e.t;
            entry *same = es_insert(&q, &e, join);
            if (joins ? !same || same->vh != r.e[j - 1].vh : same != NULL)
                fail_msg("insert of time %lld%s: returned id %llu, the reference %s %llu", (long long)e.t,
                         join ? " joining" : "", same ? (unsigned long long)same->vh : 0ull,
                         joins ? "joins" : "inserts", joins ? (unsigned long long)r.e[j - 1].vh : 0ull);
            if (!joins)
                ref_insert(&r, &e);
            while (window && r.n && r.e[r.n - 1].t - r.e[0].t > window) {
                es_pop_front(&q);
                ref_remove(&r, 0);
            }
        }
        check(&q, &r);
    }
    es_free(&q);
    assert_int_equal(q.bytes, 0);
    free(r.e);
}

static void test_in_order_sliding(void **state)
{
    (void)state;
    run(20000, 1, 40, 0, 0, 0, 0, 0);       /* a window of ~27 entries */
    run(20000, 1, 600, 0, 0, 0, 0, 0);      /* ~400 */
}

static void test_interleaved_files(void **state)
{
    (void)state;
    run(30000, 300, 900, 40, 0, 0, 0, 5);
    run(12000, 2000, 0, 50, 0, 0, 0, 0);    /* grows to thousands */
}

static void test_anywhere_and_removals(void **state)
{
    (void)state;
    run(30000, 100, 0, 10, 30, 300, 0, 10); /* removals keep it small */
    run(30000, 100, 1500, 20, 20, 20, 0, 20);
    run(30000, 50, 0, 30, 30, 5, 2, 30);    /* with clears */
}

static void test_equal_times(void **state)
{
    (void)state;
    run(20000, 3, 200, 30, 10, 10, 1, 60);  /* runs of one time span blocks */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_in_order_sliding),
        cmocka_unit_test(test_interleaved_files),
        cmocka_unit_test(test_anywhere_and_removals),
        cmocka_unit_test(test_equal_times),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
