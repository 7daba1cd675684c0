/* scan_commit.c - committing batches strictly in input order, on the
 * calling thread (scan_int.h): record numbers and lines made final,
 * chunks framed again when the state they were cut in was not the one
 * assumed, own_side decided in order, malformed records reported,
 * correlations fed and alerts handed to the callback. So the output is
 * the same whatever the number of threads. */
#include <stdlib.h>

#include "cli/scan_int.h"

void sc_report(aw_scanner *s, const char *file, uint64_t line, const char *kind, const char *msg)
{
    s->st.malformed++;
    if (s->o.input_diags)
        aw_diags_fn(s->o.input_diags, file, line, kind, msg);
}

static void commit_batch(aw_scanner *s, batch *b);

void sc_commit_read(aw_scanner *s, batch *b)
{
    commit_batch(s, b);
    if (b->rfailed)
        sc_report(s, b->file, b->cline, "read-error", b->str + b->rmsg);
}

/* Commit the parts of file b evaluated so far, in order (b at the head
 * of the ring); with `wait`, all of them, waiting for the workers. True
 * once the file is committed whole. */
static bool commit_parts(aw_scanner *s, batch *b, bool wait)
{
    batch *spare = NULL;                /* parts committed */
    pthread_mutex_lock(&s->mu);
    for (;;) {
        while (spare) {
            batch *q = spare;
            spare = q->pnext;
            q->next = s->part_free[q->is_shared];
            s->part_free[q->is_shared] = q;
        }
        batch *p = b->part, *last = NULL;
        int n = 0;
        for (batch *q = p; q && q->done; q = q->pnext, n++)
            last = q;
        if (last) {                     /* commit them unlocked, the workers going on */
            b->part = last->pnext;
            if (!b->part)
                b->part_tail = NULL;
            last->pnext = NULL;
            b->nparts -= n;
            pthread_cond_broadcast(&s->room);
            pthread_mutex_unlock(&s->mu);
            for (batch *q = p; q; q = q->pnext) {
                sc_commit_read(s, q);
                s->st.solo_parts_shared += q->is_shared;
            }
            spare = p;
            pthread_mutex_lock(&s->mu);
            continue;
        }
        if ((b->done && !p) || !wait)
            break;
        s->awaited = p ? p : b;         /* the next part, or the file's worker */
        s->awaited_file = b;            /* (which then shares its parts: read_solo) */
        pthread_cond_wait(&s->fin, &s->mu);
        s->awaited = s->awaited_file = NULL;
    }
    bool whole = b->done && !b->part;
    pthread_mutex_unlock(&s->mu);
    return whole;
}

static void commit(aw_scanner *s, batch *b)
{
    if (b->file_seq != s->commit_file) {
        s->commit_file = b->file_seq;
        s->file_recno = 0;
        s->carry_clean = true;
    }
    if (b->is_solo) {                   /* its records: commit_parts */
        s->st.solo_files++;
        s->st.bytes_in += b->solo_in;
        s->st.bytes_out += b->solo_out;
        return;
    }
    if (b->chunk && !b->lines_known)
        b->cline = s->chunk_line;       /* its first line, known now */
    if (b->rfailed && s->failed_file != b->file_seq) {
        sc_report(s, b->file, b->cline, "read-error", b->str + b->rmsg);
        s->failed_file = b->file_seq;
    }
    if (s->failed_file != b->file_seq)  /* nothing of a file after its read error */
        commit_batch(s, b);
    if (b->chunk)
        s->chunk_line = b->cline + b->nlines;
    if (b->rclose)
        aw_range_close(&b->rg);
}

static void commit_batch(aw_scanner *s, batch *b)
{
    uint64_t base = 0;                  /* added to a chunk's record numbers */
    uint64_t lbase = 0;                 /* and to its lines, if framed on line 0 */
    if (b->chunk) {
        if (b->synced)
            s->carry_clean = true;
        bool rel = !b->lines_known;
        /* an array was open where it starts, or the framer's messages
         * name lines counted from 0 */
        if (!s->carry_clean || (rel && b->frame_errs)) {
            sc_frame_chunk(&s->cw, b, s->carry_clean ? NULL : &s->carry, PREP_ORDERED);
            sc_finish(&s->cw, b, 0);
            s->st.framed_here += b->nrecs;
        } else if (rel)
            lbase = b->cline;
        base = s->file_recno;
        s->file_recno += b->nrecno;
        s->carry_clean = b->end_clean;
        s->carry = b->end;
        if (s->carry.in_array)
            s->carry.arr_line += lbase;
    }
    s->st.records += b->nplain;         /* read and evaluated, nothing to commit */
    for (size_t i = 0; i < b->nrecs; i++) {
        srec *r = &b->recs[i];
        r->recno += base;
        r->line += lbase;
        if (!b->chunk)
            s->file_recno = r->recno;
        s->st.records++;
        if (r->kind == sc_bad_json) {
            char msg[800];
            snprintf(msg, sizeof msg, "record %llu: %s", (unsigned long long)r->recno, b->str + r->msg);
            sc_report(s, b->file, r->line, r->kind, msg);
            continue;
        }
        if (r->kind) {
            sc_report(s, b->file, r->line, r->kind, b->str + r->msg);
            continue;
        }
        uint8_t variant = 0;
        if (r->own_mode == OWN_SERIAL) {
            size_t h0 = b->nhits;
            r->nhit = 0;
            sc_eval_record(&s->cw, b, r, b->data + r->off, PREP_ORDERED, false);
            sc_finish(&s->cw, b, h0);
            s->st.own_reevaluated++;
        } else if (r->own_mode == OWN_DECIDE) {
            variant = aw_mapping_own_decide(NULL, &r->own) ? 2 : 1;
            s->st.own_decided++;
        }
        for (size_t k = 0; k < r->nhit; k++) {
            shit *x = &b->hits[r->hit + k];
            if (x->variant && x->variant != variant)
                continue;
            if (x->cxlen) {
                aw_evidence ev = {b->file, r->recno, r->line, r->sha, r->sha_bytes, b->file_seq};
                aw_correlator_feed_extract(s->corr, &x->h, b->str + x->cx, x->cxlen, &ev);
            }
            if (x->h.correlation_only) {
                s->st.correlation_only_hits++;
                continue;
            }
            aw_alert a;
            sc_fill_alert(&a, b, r, x, s->o.explain);
            s->st.alerts++;
            s->st.by_level[x->level]++;
            s->fn(s->ud, &a, &x->h);
        }
    }
}

/* Batch b is done with: to the free list, its bytes' own buffer back
 * (a shared gzip member is released here, not when b is reused). */
void sc_batch_put(aw_scanner *s, batch *b)
{
    if (b->hold) {
        aw_hold_release(b->hold);
        b->hold = NULL;
        b->data = b->own;
        b->dcap = b->own_cap;
    }
    b->next = s->free_list;
    s->free_list = b;
}

/* Commit finished batches at the head of the ring; with `wait`, block
 * until the head is finished first. */
void sc_drain(aw_scanner *s, bool wait, size_t keep)
{
    while (s->ring_n > keep) {
        batch *b = s->ring[s->ring_head];
        if (b->is_solo && !commit_parts(s, b, wait))
            return;
        /* Most checks find the head done, or are not to wait: no lock.
         * A worker wakes this thread only for the batch it waits on, so
         * the others' completions do not wake it just to sleep again
         * (on a VM, each wake-up preempts a worker with an IPI). */
        if (!__atomic_load_n(&b->done, __ATOMIC_ACQUIRE)) {
            if (!wait)
                return;
            pthread_mutex_lock(&s->mu);
            s->awaited = b;
            while (!b->done)
                pthread_cond_wait(&s->fin, &s->mu);
            s->awaited = NULL;
            pthread_mutex_unlock(&s->mu);
        }
        commit(s, b);
        s->ring_head = (s->ring_head + 1) % s->ring_cap;
        s->ring_n--;
        sc_batch_put(s, b);
    }
}

void sc_submit(aw_scanner *s, batch *b)
{
    if (b->nrecs == 0 && !b->chunk && !b->is_solo) {
        sc_batch_put(s, b);
        return;
    }
    sc_drain(s, true, s->ring_cap - 1);   /* room in the ring */
    s->ring[(s->ring_head + s->ring_n++) % s->ring_cap] = b;
    pthread_mutex_lock(&s->mu);
    sc_enqueue(s, b);
    pthread_mutex_unlock(&s->mu);
    sc_drain(s, false, 0);
}
