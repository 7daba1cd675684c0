/* dthread.c - decompression on its own thread.
 *
 * inflate and zstd decode at a few hundred MB/s, about what the framing
 * and evaluation of a thread-parallel scan consume: on the reading
 * thread they would be its bottleneck. With aw_reader_opts.decode_thread
 * a compressed source gets a thread that decodes ahead into a few 1 MiB
 * chunks; aw_src_read then copies from them. A gzip member decoded whole
 * (gzwhole.c) is not copied into chunks: it is lent as one, and the
 * decoder waits for the reader to finish it before it decodes into the
 * same buffer again (CloudTrail's files hold one member each, so it
 * waits at most for the end of the file; or the reader takes the
 * member's buffer, aw_dthread_give, and the decoder goes on into
 * another). The decoder owns the
 * source's decoding state (fd, raw buffer, gzip / zstd contexts, its
 * counters); the reader sees the counters of the chunks it consumed, so
 * they are the same as without the thread. An error travels as a chunk:
 * the reader meets it at the same byte as it would inline. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "input/input_int.h"

#define DT_CHUNK (1u << 20)
#define DT_SLOTS 4

typedef struct dchunk {
    char *buf;                  /* the slot's own DT_CHUNK bytes */
    const char *data;           /* what the reader takes: buf, or a lent member */
    size_t len;
    int lent;                   /* data is gzwhole.c's decoded member */
    int status;                 /* 0 data, 1 end of input, -1 error */
    uint64_t in, out;           /* counters after this chunk */
    char err[sizeof(((aw_errbuf *)0)->msg)];
} dchunk;

struct aw_dthread {
    aw_src *s;
    pthread_t tid;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    dchunk slot[DT_SLOTS];
    unsigned head, count;       /* ready chunks: slot[head], ... */
    int stop;
    size_t cpos;                /* consumed bytes of slot[head] */
    int lent;                   /* a lent member is in the ring: no decoding */
    int finished;               /* the reader met end or error */
};

/* Fill one chunk: decode until it is full, the input ends or fails. */
static void decode_chunk(aw_src *s, dchunk *c)
{
    aw_errbuf err;
    c->data = c->buf;
    c->len = 0;
    c->lent = 0;
    c->status = 0;
    if (s->whole) {
        int m = aw_gz_whole_lend(s, &c->data, &c->len);
        if (m >= 0) {
            c->lent = m;
            c->status = m == 0 || s->raw_pos == s->raw_len;    /* the last member: the end with it */
            c->in = s->bytes_in;
            c->out = s->bytes_out;
            return;
        }                               /* -1: streamed from here on */
    }
    while (c->len < DT_CHUNK) {
        ssize_t n = aw_src_decode(s, c->buf + c->len, DT_CHUNK - c->len, &err);
        if (n < 0) {
            c->status = -1;
            memcpy(c->err, err.msg, sizeof c->err);
            break;
        }
        if (n == 0) {
            c->status = 1;
            break;
        }
        c->len += (size_t)n;
    }
    c->in = s->bytes_in;
    c->out = s->bytes_out;
}

static void *decoder(void *arg)
{
    aw_dthread *t = arg;
    pthread_mutex_lock(&t->mu);
    for (;;) {
        while ((t->count == DT_SLOTS || t->lent) && !t->stop)
            pthread_cond_wait(&t->cv, &t->mu);
        if (t->stop)
            break;
        dchunk *c = &t->slot[(t->head + t->count) % DT_SLOTS];
        pthread_mutex_unlock(&t->mu);
        decode_chunk(t->s, c);          /* the reader never touches a free slot */
        pthread_mutex_lock(&t->mu);
        t->count++;
        t->lent = c->lent;
        pthread_cond_broadcast(&t->cv);
        if (c->status != 0)
            break;
    }
    pthread_mutex_unlock(&t->mu);
    return NULL;
}

aw_dthread *aw_dthread_start(aw_src *s)
{
    aw_dthread *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->s = s;
    size_t cap;                         /* DT_CHUNK: chunks are of one size */
    for (int i = 0; i < DT_SLOTS; i++)
        if (!(t->slot[i].buf = aw_keep_take(AW_KEEP_CHUNK, DT_CHUNK, &cap)))
            goto fail;
    pthread_mutex_init(&t->mu, NULL);
    pthread_cond_init(&t->cv, NULL);
    if (pthread_create(&t->tid, NULL, decoder, t) != 0) {
        pthread_mutex_destroy(&t->mu);
        pthread_cond_destroy(&t->cv);
        goto fail;
    }
    (void)pthread_setname_np(t->tid, "aw-decode");   /* cosmetic: top -H, perf */
    return t;
fail:
    for (int i = 0; i < DT_SLOTS; i++)
        aw_keep_give(AW_KEEP_CHUNK, t->slot[i].buf, DT_CHUNK);
    free(t);
    return NULL;                        /* the caller decodes inline */
}

/* The head chunk is used up (t->mu held): its slot back to the decoder,
 * and a lent member's buffer free for it. */
static void slot_done(aw_dthread *t)
{
    if (t->slot[t->head].lent)
        t->lent = 0;
    t->head = (t->head + 1) % DT_SLOTS;
    t->count--;
    t->cpos = 0;
    pthread_cond_broadcast(&t->cv);
}

ssize_t aw_dthread_read(aw_dthread *t, aw_src *s, char *dst, size_t cap, aw_errbuf *err)
{
    if (t->finished)
        return t->finished > 0 ? 0 : -1;
    pthread_mutex_lock(&t->mu);
    while (t->count == 0)
        pthread_cond_wait(&t->cv, &t->mu);
    dchunk *c = &t->slot[t->head];
    pthread_mutex_unlock(&t->mu);
    size_t k = aw_src_take(c->data, &t->cpos, c->len, dst, cap);
    if (k) {
        s->seen_out += k;
        if (t->cpos < c->len || c->status != 0)
            return (ssize_t)k;          /* the status comes with the next call */
    } else if (c->status != 0) {
        s->seen_in = c->in;
        t->finished = c->status > 0 ? 1 : -1;
        if (c->status < 0) {
            aw_errbuf_set(err, "%s", c->err);
            return -1;
        }
        return 0;
    }
    /* chunk used up: hand its slot back */
    s->seen_in = c->in;
    pthread_mutex_lock(&t->mu);
    slot_done(t);
    pthread_mutex_unlock(&t->mu);
    return k ? (ssize_t)k : aw_dthread_read(t, s, dst, cap, err);
}

int aw_dthread_give(aw_dthread *t, aw_src *s, const char **p, size_t *n, aw_hold **h, int *last)
{
    if (t->finished)
        return 0;
    int given = 0;
    pthread_mutex_lock(&t->mu);
    while (t->count == 0)
        pthread_cond_wait(&t->cv, &t->mu);
    dchunk *c = &t->slot[t->head];
    /* a member lent whole and not yet read from: the source's decoded
     * buffer, which the decoder leaves alone while it is lent */
    if (c->lent && t->cpos == 0 && (*h = aw_gz_whole_detach(s, c->data)) != NULL) {
        *p = c->data;
        *n = c->len;
        *last = c->status != 0;
        s->seen_out += c->len;
        s->seen_in = c->in;
        if (c->status != 0)
            t->finished = 1;            /* the end came with it: the decoder is done */
        else
            slot_done(t);
        given = 1;
    }
    pthread_mutex_unlock(&t->mu);
    return given;
}

void aw_dthread_stop(aw_dthread *t)
{
    if (!t)
        return;
    pthread_mutex_lock(&t->mu);
    t->stop = 1;
    pthread_cond_broadcast(&t->cv);
    pthread_mutex_unlock(&t->mu);
    pthread_join(t->tid, NULL);
    pthread_mutex_destroy(&t->mu);
    pthread_cond_destroy(&t->cv);
    for (int i = 0; i < DT_SLOTS; i++)
        aw_keep_give(AW_KEEP_CHUNK, t->slot[i].buf, DT_CHUNK);
    free(t);
}
