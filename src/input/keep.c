/* keep.c - large input buffers kept from one file for the next.
 *
 * A scan of many compressed files (CloudTrail's S3 layout: one gzip
 * file per account, region and 5 minutes) needs the same large buffers
 * for every file: the file read whole, its decoded member, the decoder
 * thread's chunks. Freed and allocated again they come back as fresh
 * pages (glibc maps buffers this large with mmap, or trims the heap
 * they were in), and the kernel faults in and zeroes every 4 KB of
 * every file: 37 % of the decoder thread's time on the simulator's
 * provider logs, 10x the page faults of the whole scan on 266 small
 * gzip files. A few buffers of each kind are kept instead, their pages
 * faulted in once; what is kept is bounded by KEEP_MAX buffers of a
 * kind, each no larger than its kind ever needs (AW_GZ_WHOLE_MAX,
 * AW_GZ_MEMBER_MAX), so memory stays flat in the input size. */
#include <pthread.h>
#include <stdlib.h>

#include "input/input_int.h"

#define KEEP_MAX 16

static const int keep_max[AW_KEEP_KINDS] = {
    [AW_KEEP_CHUNK] = 16,       /* 1 MiB decoder chunks: 4 a decoder */
    [AW_KEEP_RAW] = 4,          /* a compressed file read whole: one a thread
                                   reading one (aw_reader_solo) */
    [AW_KEEP_DECODED] = 4,      /* a gzip member decoded whole: the one being
                                   decoded, the one read, those chunks hold */
};

typedef struct kept {
    void *p;
    size_t cap;
} kept;

static pthread_mutex_t keep_mu = PTHREAD_MUTEX_INITIALIZER;
static kept keep[AW_KEEP_KINDS][KEEP_MAX];
static int nkeep[AW_KEEP_KINDS];

/* Is a kept buffer of c bytes a better pick for want than one of b?
 * The smallest that fits; if none fits, the largest (the least to grow). */
static int better(size_t c, size_t b, size_t want)
{
    if (c >= want)
        return b < want || c < b;
    return b < want && c > b;
}

void *aw_keep_take(aw_keep_kind kind, size_t want, size_t *cap)
{
    kept k = {NULL, 0};
    pthread_mutex_lock(&keep_mu);
    int best = -1;
    for (int i = 0; i < nkeep[kind]; i++)
        if (best < 0 || better(keep[kind][i].cap, keep[kind][best].cap, want))
            best = i;
    if (best >= 0) {
        k = keep[kind][best];
        keep[kind][best] = keep[kind][--nkeep[kind]];
    }
    pthread_mutex_unlock(&keep_mu);
    if (k.p && k.cap < want) {
        void *p = realloc(k.p, want);   /* a mapped buffer keeps its pages */
        if (!p) {
            free(k.p);
            return NULL;
        }
        k.p = p;
        k.cap = want;
    }
    if (!k.p && (k.p = malloc(want)) != NULL)
        k.cap = want;
    *cap = k.cap;
    return k.p;
}

void aw_keep_give(aw_keep_kind kind, void *p, size_t cap)
{
    if (!p)
        return;
    pthread_mutex_lock(&keep_mu);
    if (nkeep[kind] < keep_max[kind]) {
        keep[kind][nkeep[kind]++] = (kept){p, cap};
        p = NULL;
    } else {                            /* full: keep the larger of it and the smallest */
        int s = 0;
        for (int i = 1; i < nkeep[kind]; i++)
            if (keep[kind][i].cap < keep[kind][s].cap)
                s = i;
        if (keep[kind][s].cap < cap) {
            void *old = keep[kind][s].p;
            keep[kind][s] = (kept){p, cap};
            p = old;
        }
    }
    pthread_mutex_unlock(&keep_mu);
    free(p);
}

/* ---- shared buffers ------------------------------------------------------ */

struct aw_hold {
    void *p;
    size_t cap;
    aw_keep_kind kind;
    unsigned refs;              /* atomic */
};

aw_hold *aw_hold_new(aw_keep_kind kind, void *p, size_t cap)
{
    aw_hold *h = malloc(sizeof *h);
    if (h)
        *h = (aw_hold){p, cap, kind, 1};
    return h;
}

void aw_hold_retain(aw_hold *h)
{
    __atomic_add_fetch(&h->refs, 1, __ATOMIC_RELAXED);
}

void aw_hold_release(aw_hold *h)
{
    if (!h || __atomic_sub_fetch(&h->refs, 1, __ATOMIC_ACQ_REL) != 0)
        return;
    aw_keep_give(h->kind, h->p, h->cap);
    free(h);
}
