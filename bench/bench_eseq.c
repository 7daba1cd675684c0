/* bench_eseq.c - a correlation group's window entries (src/correlate/
 * eseq.h, a row of sorted blocks) next to the flat sorted ring they
 * replaced, in one process, on the access pattern of a provider's files:
 * many groups, each a sliding window of about a thousand entries, events
 * mostly out of order within a few minutes (one account's regions and
 * one file's own records interleave), groups visited at random so each
 * is cold in the cache when its event comes (--burst B: B events in a
 * row for one group, as one account's file gives them).
 *
 *   make bench && build/bench/bench_eseq [--groups G] [--window W]
 *       [--events N] [--ooo PERCENT] [--spread S] [--burst B] [--quick]
 *
 * Prints ns per event for each and checks that both hold the same
 * entries in the same order at the end (exit 1 if not). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "correlate/eseq.h"
#include "bench_util.h"

/* ---- the baseline: one sorted ring per group (the former window.c) --- */

typedef struct ring {
    entry *e;
    uint32_t cap, head, n;
} ring;

static inline entry *at(ring *r, uint32_t i)
{
    uint32_t k = r->head + i;
    return &r->e[k >= r->cap ? k - r->cap : k];
}

/* Move entries [at, n) one place up, a contiguous run at a time. */
static void shift_up(ring *r, uint32_t pos)
{
    uint32_t k = r->n;
    while (k > pos) {
        uint32_t pk = (r->head + k) % r->cap;      /* where entry k - 1 goes */
        if (pk == 0) {
            r->e[0] = r->e[r->cap - 1];
            k--;
            continue;
        }
        uint32_t n = k - pos < pk ? k - pos : pk;
        memmove(&r->e[pk - n + 1], &r->e[pk - n], (size_t)n * sizeof *r->e);
        k -= n;
    }
}

/* Move entries [0, pos) one place down, the head moving back one. */
static void shift_down(ring *r, uint32_t pos)
{
    r->head = (r->head + r->cap - 1) % r->cap;
    uint32_t k = 0;
    while (k < pos) {
        uint32_t pk = (r->head + k) % r->cap;      /* where entry k goes */
        if (pk == r->cap - 1) {
            r->e[pk] = r->e[0];
            k++;
            continue;
        }
        uint32_t n = pos - k < r->cap - 1 - pk ? pos - k : r->cap - 1 - pk;
        memmove(&r->e[pk], &r->e[pk + 1], (size_t)n * sizeof *r->e);
        k += n;
    }
}

static void ring_insert(ring *r, const entry *e)
{
    if (r->n == r->cap) {
        uint32_t nc = r->cap ? r->cap * 2 : 4;
        entry *ne = malloc(nc * sizeof *ne);
        for (uint32_t i = 0; i < r->n; i++)
            ne[i] = *at(r, i);
        free(r->e);
        r->e = ne;
        r->cap = nc;
        r->head = 0;
    }
    uint32_t pos = r->n;
    if (r->n && at(r, r->n - 1)->t > e->t) {
        uint32_t lo = 0, hi = r->n - 1;
        while (lo < hi) {
            uint32_t mid = lo + (hi - lo) / 2;
            if (at(r, mid)->t > e->t)
                hi = mid;
            else
                lo = mid + 1;
        }
        pos = lo;
    }
    if (pos < r->n) {                       /* the shorter side moves */
        if (pos < r->n - pos)
            shift_down(r, pos);
        else
            shift_up(r, pos);
    }
    *at(r, pos) = *e;
    r->n++;
}

static void ring_pop(ring *r)
{
    r->head = r->head + 1 == r->cap ? 0 : r->head + 1;
    r->n--;
}

/* ---- the run ---------------------------------------------------------- */

static uint64_t rs = 0x9E3779B97F4A7C15ull;
static uint64_t rnd(void)
{
    return bench_xorshift(&rs);
}

typedef struct ev {
    uint32_t g;
    int64_t t;
} ev;

int main(int argc, char **argv)
{
    long groups = 2000, window = 1000, events = 20000000, ooo = 90, spread = 300, burst = 1;
    for (int i = 1; i < argc; i++) {
        long *p = !strcmp(argv[i], "--groups") ? &groups : !strcmp(argv[i], "--window") ? &window
                : !strcmp(argv[i], "--events") ? &events : !strcmp(argv[i], "--ooo") ? &ooo
                : !strcmp(argv[i], "--spread") ? &spread : !strcmp(argv[i], "--burst") ? &burst : NULL;
        if (!strcmp(argv[i], "--quick")) {
            events = 2000000;
            continue;
        }
        if (!p || i + 1 == argc || (*p = atol(argv[++i])) <= 0) {
            fprintf(stderr, "usage: bench_eseq [--groups G] [--window W] [--events N] [--ooo PERCENT] "
                            "[--spread S] [--burst B] [--quick]\n");
            return 2;
        }
    }
    /* each group's clock advances one unit an event; the window spans
     * `window` units, so it holds about `window` entries */
    ev *evs = malloc((size_t)events * sizeof *evs);
    int64_t *clock = calloc((size_t)groups, sizeof *clock);
    for (long i = 0; i < events; i++) {
        static uint32_t g;
        if (i % burst == 0)
            g = (uint32_t)(rnd() % (uint64_t)groups);
        int64_t t = ++clock[g] + 1000000;
        if ((long)(rnd() % 100) < ooo)
            t -= (int64_t)(rnd() % (uint64_t)spread);
        evs[i] = (ev){g, t};
    }
    eseq *q = calloc((size_t)groups, sizeof *q);
    ring *r = calloc((size_t)groups, sizeof *r);
    int64_t *maxt = calloc((size_t)groups, sizeof *maxt);
    double secs[2];
    for (int impl = 0; impl < 2; impl++) {
        memset(maxt, 0, (size_t)groups * sizeof *maxt);
        double t0 = bench_now();
        for (long i = 0; i < events; i++) {
            uint32_t g = evs[i].g;
            entry e = {.t = evs[i].t, .vh = (uint64_t)i, .cnt = 1};
            if (e.t > maxt[g])
                maxt[g] = e.t;
            int64_t lo = maxt[g] - window;
            if (impl == 0) {
                while (q[g].n && q[g].tfirst < lo)
                    es_pop_front(&q[g]);
                es_insert(&q[g], &e, false);
            } else {
                while (r[g].n && at(&r[g], 0)->t < lo)
                    ring_pop(&r[g]);
                ring_insert(&r[g], &e);
            }
        }
        secs[impl] = bench_now() - t0;
    }
    int same = 1;
    size_t held = 0, qbytes = 0, rbytes = 0;
    for (long g = 0; g < groups && same; g++) {
        epos p = es_begin(&q[g]);
        for (uint32_t i = 0; i < r[g].n; i++, p = es_next(&q[g], p))
            if (es_done(&q[g], p) || es_get(&q[g], p)->vh != at(&r[g], i)->vh)
                same = 0;
        same &= es_done(&q[g], p);
        held += r[g].n;
        qbytes += q[g].bytes;
        rbytes += (size_t)r[g].cap * sizeof(entry);
    }
    printf("groups %ld, window %ld, events %ld (bursts of %ld), %ld %% out of order by up to %ld: "
           "%.0f entries held a group\n", groups, window, events, burst, ooo, spread, (double)held / (double)groups);
    printf("%-28s %7.1f ns/event  %8.1f MiB\n", "blocks (eseq)", secs[0] * 1e9 / (double)events,
           (double)qbytes / 1048576.0);
    printf("%-28s %7.1f ns/event  %8.1f MiB\n", "flat sorted ring (baseline)", secs[1] * 1e9 / (double)events,
           (double)rbytes / 1048576.0);
    printf("%s\n", same ? "same entries, same order" : "DIFFERENT entries");
    for (long g = 0; g < groups; g++) {
        es_free(&q[g]);
        free(r[g].e);
    }
    free(q);
    free(r);
    free(maxt);
    free(clock);
    free(evs);
    return same ? 0 : 1;
}
