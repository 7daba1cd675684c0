/* scan_eval.c - evaluating a batch (scan_int.h): framing a chunk's
 * records, parsing, classifying and matching each, and keeping its hits
 * with everything an alert needs (tenant, time, correlation extract,
 * the rendered alert); the hashes of the records with hits are queued
 * and computed several at once. Runs on the workers, or inline on the
 * calling thread with one thread. */
#include <stdio_ext.h>
#include <stdlib.h>

#include "cli/scan_int.h"
#include "util/sha256.h"

const char sc_bad_json[] = "bad-json";

int aw_level_index(const char *lv)
{
    static const char *const levels[] = {"informational", "low", "medium", "high", "critical"};
    if (!lv)
        return 5;
    /* their first letters differ: one comparison per alert, not five */
    int i = lv[0] == 'i' ? 0 : lv[0] == 'l' ? 1 : lv[0] == 'm' ? 2 : lv[0] == 'h' ? 3 : lv[0] == 'c' ? 4 : 5;
    return i < 5 && strcmp(lv, levels[i]) == 0 ? i : 5;
}

void sc_fill_alert(aw_alert *a, const batch *b, const srec *r, const shit *x, bool explain)
{
    memset(a, 0, sizeof *a);
    a->rule = x->h.rule;
    a->source = x->h.source;
    a->tenant = x->tenant == SIZE_MAX ? NULL : b->str + x->tenant;
    a->has_time = x->has_time;
    a->time_ns = x->time_ns;
    a->file = b->file;
    a->record = r->recno;
    a->line = r->line;
    memcpy(a->sha256, r->sha, sizeof a->sha256);
    if (explain) {
        a->explain = b->xe + x->xe;
        a->nexplain = x->nxe;
    }
    a->record_at = SIZE_MAX;
    if (x->rendered_len) {
        a->rendered = b->str + x->rendered;
        a->rendered_len = x->rendered_len;
        a->record_at = x->record_at;
    }
}

static void on_explain(void *ud, const char *ident, const char *field, const char *value)
{
    worker *w = ud;
    batch *b = w->b;
    shit *h = &b->hits[b->nhits - 1];
    if (h->nxe == MAX_EXPLAIN)
        return;
    aw_grow((void **)&b->xe, &b->cxe, b->nxe, sizeof *b->xe);
    aw_xentry *x = &b->xe[b->nxe++];
    snprintf(x->ident, sizeof x->ident, "%s", ident);
    snprintf(x->field, sizeof x->field, "%s", field ? field : "");
    snprintf(x->value, sizeof x->value, "%s", value ? value : "");
    h->nxe++;
}

/* Render the alert of hit x on record r straight into the batch's
 * strings (JSON without explanations); false if it takes the memory
 * stream. The alert points into those strings, so it is filled after
 * they grow. */
static bool render_direct(worker *w, batch *b, const srec *r, shit *x)
{
    aw_alert a;
    size_t at, *pat = b->chunk ? &at : NULL;
    aw_grow((void **)&b->str, &b->scap, b->slen + 4096, 1);
    size_t room = b->scap - b->slen - 1;
    sc_fill_alert(&a, b, r, x, false);
    size_t n = aw_out_render_json(w->s->o.render, &a, b->str + b->slen, room, pat);
    if (!n)
        return false;
    if (n > room) {
        aw_grow((void **)&b->str, &b->scap, b->slen + n + 1, 1);
        sc_fill_alert(&a, b, r, x, false);
        aw_out_render_json(w->s->o.render, &a, b->str + b->slen, n, pat);
    }
    b->str[b->slen + n] = 0;
    x->rendered = b->slen;
    x->rendered_len = n;
    if (pat)
        x->record_at = at;
    b->slen += n + 1;
    return true;
}

static int on_hit(void *ud, const aw_hit *h)
{
    worker *w = ud;
    batch *b = w->b;
    srec *r = w->r;
    char tenant[256];
    aw_grow((void **)&b->hits, &b->chits, b->nhits, sizeof *b->hits);
    shit *x = &b->hits[b->nhits++];
    memset(x, 0, sizeof *x);
    x->record_at = SIZE_MAX;
    x->h = *h;
    x->variant = w->variant;
    x->tenant = SIZE_MAX;
    x->rec = (size_t)(r - b->recs);
    if (r->nhit++ == 0) {
        r->hit = b->nhits - 1;
        if (w->hb != b)
            aw_sha256_mb_flush(w->hq);  /* (sc_finish() did, unless misused) */
        w->hb = b;
        aw_sha256_mb_add(w->hq, w->data, r->len, x->rec);  /* bytes kept till sc_finish() or sc_hashes_due() */
    }
    if (w->s->corr && aw_correlator_wants(w->s->corr, h->rule)) {
        char small[4096];
        size_t n = aw_correlator_extract(w->s->corr, h, w->doc, small, sizeof small);
        if (n > sizeof small) {
            char *big = aw_xmalloc(n);
            aw_correlator_extract(w->s->corr, h, w->doc, big, n);
            x->cx = put_bytes(b, big, n);
            free(big);
        } else if (n) {
            x->cx = put_bytes(b, small, n);
        }
        x->cxlen = n;
    }
    if (h->correlation_only)
        return 0;
    x->level = (uint8_t)aw_level_index(aw_rule_level(h->rule));
    if (w->ts_src != h->source) {
        size_t tn = aw_source_tenant(h->source, w->doc, tenant, sizeof tenant);
        w->ts_tenant = tn > 0 ? put_str(b, tenant, tn < sizeof tenant ? tn : sizeof tenant - 1) : SIZE_MAX;
        w->ts_has_time = aw_source_time(h->source, w->doc, &w->ts_time_ns) == AW_OK;
        w->ts_src = h->source;
    }
    x->tenant = w->ts_tenant;
    x->has_time = w->ts_has_time;
    x->time_ns = w->ts_time_ns;
    x->xe = b->nxe;
    if (w->s->o.explain)
        aw_matcher_explain(w->m, w->doc, h, on_explain, w);
    return 0;
}

static void on_digest(void *ud, size_t id, const uint8_t d[32])
{
    worker *w = ud;
    srec *r = &w->hb->recs[id];
    memcpy(r->sha_bytes, d, sizeof r->sha_bytes);
    aw_sha256_hex_of(d, r->sha);
}

/* Render the alert of hit x (worker-side output formatting). */
static void render_hit(worker *w, batch *b, shit *x)
{
    const srec *r = &b->recs[x->rec];
    if (!w->s->o.explain && render_direct(w, b, r, x))
        return;
    aw_alert a;
    sc_fill_alert(&a, b, r, x, w->s->o.explain);
    fseek(w->ms, 0, SEEK_SET);
    /* a chunk's record numbers are fixed at commit: rendered without */
    if (aw_out_render(w->s->o.render, w->ms, &a, b->chunk ? &x->record_at : NULL) && fflush(w->ms) == 0) {
        size_t n = (size_t)ftell(w->ms);
        x->rendered = put_str(b, w->msbuf, n);
        x->rendered_len = n;
    }
}

/* After evaluating records of b: their hashes, then the alerts of hits
 * [h0, nhits), which carry them, rendered if the worker renders. */
void sc_finish(worker *w, batch *b, size_t h0)
{
    aw_sha256_mb_flush(w->hq);
    for (size_t i = h0; w->ms && i < b->nhits; i++)
        if (!b->hits[i].h.correlation_only)
            render_hit(w, b, &b->hits[i]);
}

/* Inline, a record's bytes are the reader's: before it moves them, the
 * hashes queued on them are computed (aw_reader_set_move_fn), not copied
 * into the queue. The alerts wait for sc_finish(). */
void sc_hashes_due(void *ud)
{
    worker *w = ud;
    aw_sha256_mb_flush(w->hq);
}

/* The reader's line function: the line is parsed into the worker's
 * document, where eval_record finds it. */
size_t sc_parse_line(void *ud, const char *line, size_t len)
{
    worker *w = ud;
    aw_errbuf err;
    if (aw_doc_parse(w->doc, line, len, NULL, &err) != AW_OK)
        return 0;
    const aw_jnode *root = aw_doc_root(w->doc);
    return root->type == AW_JOBJ ? root->vlen : 0;
}


/* Parse (unless the reader's line function did: `parsed`), classify,
 * prepare. Returns the number of sources, or -1 with err set. */
static int prepare(const aw_engine *e, aw_doc *d, const char *data, size_t len, bool parsed,
                   const aw_source **cls, size_t *err_off, aw_errbuf *err, int how, aw_own_spec *spec)
{
    if (!parsed && aw_doc_parse(d, data, len, err_off, err) != AW_OK)
        return -1;
    size_t nc = aw_mapping_classify(e->map, d, cls, 64);
    if (nc > 64)
        nc = 64;
    if (how == PREP_SPEC)
        aw_mapping_prepare_spec(e->map, d, cls, nc, spec);
    else
        aw_mapping_prepare(e->map, d, cls, nc);
    return (int)nc;
}

/* Evaluate record r of batch b, whose bytes are data (in b->data, or
 * the reader's buffer when evaluated as read). */
void sc_eval_record(worker *w, batch *b, srec *r, const char *data, int how, bool parsed)
{
    const aw_source *cls[64];
    aw_errbuf err;
    aw_own_spec spec;
    spec.n = 0;                         /* filled only for PREP_SPEC */
    size_t off = 0;
    int nc = prepare(w->s->e, w->doc, data, r->len, parsed, cls, &off, &err, how, &spec);
    if (nc < 0) {
        char msg[700];     /* "record N: " is prefixed at commit (chunks are numbered there) */
        int n = snprintf(msg, sizeof msg, "%s (byte %zu of the record)", err.msg, off);
        r->kind = sc_bad_json;
        r->msg = put_str(b, msg, (size_t)n < sizeof msg ? (size_t)n : sizeof msg - 1);
        return;
    }
    w->b = b;
    w->r = r;
    w->data = data;
    w->variant = 0;
    w->ts_src = NULL;
    if (spec.n > 1) {
        r->own_mode = OWN_SERIAL;       /* evaluated at commit, in order */
        return;
    }
    if (spec.n == 1) {
        r->own_mode = OWN_DECIDE;
        r->own = spec.op[0];
    }
    if (spec.n == 1 && r->own.node) {   /* both values of the field */
        w->variant = 1;
        aw_matcher_eval_sources(w->m, w->doc, data, r->len, cls, (size_t)nc, on_hit, w);
        aw_mapping_own_set(w->doc, &r->own, 1);
        w->variant = 2;
        w->ts_src = NULL;               /* the document changed */
    }
    aw_matcher_eval_sources(w->m, w->doc, data, r->len, cls, (size_t)nc, on_hit, w);
}

/* Frame chunk batch b from state `from` (NULL: between records at top
 * level) and evaluate its records, numbered from 1. */
void sc_frame_chunk(worker *w, batch *b, const aw_fstate *from, int how)
{
    aw_chunk c = {b->data, b->clen, b->ceof, b->cline, NULL};
    aw_reader *r = aw_reader_open_chunk(&c, from, w->s->o.max_record);
    aw_record rec;
    aw_errbuf err;
    aw_status rc;
    if (!r)
        abort();
    aw_reader_set_line_fn(r, sc_parse_line, w);
    b->nrecs = b->nhits = b->nxe = b->slen = 0;
    b->frame_errs = false;
    while ((rc = aw_reader_next(r, &rec, &err)) == AW_OK || rc == AW_EPARSE || rc == AW_ELIMIT) {
        srec *x = add_rec(b, &rec);
        if (rc != AW_OK) {
            b->frame_errs = true;       /* its message names lines */
            rec_malformed(b, x, rc, &err);
            continue;
        }
        x->off = (size_t)(rec.data - b->data);
        x->len = rec.len;
        sc_eval_record(w, b, x, rec.data, how, rec.taken);
    }
    b->nrecno = aw_reader_recno(r);
    b->nlines = aw_reader_line(r) - c.line;     /* the framer counts them: no second pass */
    b->end_clean = aw_reader_chunk_end(r, &b->end);
    aw_reader_close(r);
}

static size_t batch_bytes(const batch *b)
{
    return b->nrecs * sizeof *b->recs + b->nhits * sizeof *b->hits + b->nxe * sizeof *b->xe + b->slen + b->dlen;
}

bool sc_read_records(worker *w, batch *b, aw_reader *r, int how, size_t budget, uint64_t max_in)
{
    aw_record rec;
    aw_errbuf err;
    aw_status rc;
    aw_reader_set_line_fn(r, w ? sc_parse_line : NULL, w);
    aw_reader_set_move_fn(r, w ? sc_hashes_due : NULL, w);  /* the hashes queued on its bytes */
    for (uint64_t in = 0; (!w || batch_bytes(b) <= budget) && in < max_in;) {
        rc = aw_reader_next(r, &rec, &err);
        if (rc == AW_EOF)
            return true;
        if (rc == AW_EIO) {             /* said after the records before it */
            b->rfailed = true;
            b->cline = rec.line;
            b->rmsg = put_str(b, err.msg, strlen(err.msg));
            return true;
        }
        srec *x = add_rec(b, &rec);
        if (rc != AW_OK) {
            rec_malformed(b, x, rc, &err);
            continue;
        }
        x->len = rec.len;
        in += rec.len;
        if (w)
            sc_eval_record(w, b, x, rec.data, how, rec.taken);
        if (!w || x->own_mode == OWN_SERIAL) {  /* evaluated later: its bytes kept */
            aw_grow((void **)&b->data, &b->dcap, b->dlen + rec.len, 1);
            memcpy(b->data + b->dlen, rec.data, rec.len);
            x->off = b->dlen;
            b->dlen += rec.len;
        } else if (!x->kind && !x->nhit && x->own_mode == OWN_NONE) {
            b->nrecs--;                 /* nothing to commit but its count */
            b->nplain++;
        }
    }
    return false;
}

/* Read range b; false if that failed (said at commit). */
static bool range_load(batch *b)
{
    aw_errbuf err;
    size_t n = b->clen + !b->ceof;      /* and the next chunk's '{' */
    aw_grow((void **)&b->data, &b->dcap, n, 1);
    b->dlen = n;
    aw_status st = aw_range_read(&b->rg, b->roff, b->data, n, &err);
    if (st == AW_OK && !b->ceof && b->data[b->clen] != '{') {
        aw_errbuf_set(&err, "%s: read failed: the file changed while it was read (at offset %llu)",
                      b->rg.path, (unsigned long long)(b->roff + b->clen));
        st = AW_EIO;
    }
    if (st == AW_OK)
        return true;                    /* its newlines are counted as it is framed */
    b->nrecs = b->nhits = b->nxe = b->slen = 0;
    b->nrecno = b->nlines = 0;
    b->rfailed = true;
    b->rmsg = put_str(b, err.msg, strlen(err.msg));
    return false;
}

/* A spare part for file b, to be shared or not (under s->mu). */
static batch *part_get(aw_scanner *s, const batch *b, bool share)
{
    batch *p = s->part_free[share];
    if (p)
        s->part_free[share] = p->next;
    else if (!(p = calloc(1, sizeof *p)))
        abort();
    p->is_shared = share;
    p->file = b->file;
    p->file_seq = b->file_seq;
    p->nrecs = p->nhits = p->nxe = p->slen = p->dlen = p->nplain = 0;
    p->rfailed = p->done = false;
    p->next = p->pnext = NULL;
    return p;
}

static void evaluate(worker *w, batch *b);

/* A part framed for any worker: first in the queue, so that a worker
 * looking for work takes it before another file, and waking the workers
 * that wait for room too (they evaluate it meanwhile); under s->mu. */
static void share_part(aw_scanner *s, batch *p)
{
    p->next = s->queue;
    s->queue = p;
    if (!s->queue_tail)
        s->queue_tail = p;
    s->shared++;
    pthread_cond_signal(&s->job);
    pthread_cond_broadcast(&s->room);
}

/* A shared part at the head of the queue, if there is one; under s->mu. */
static batch *take_part(aw_scanner *s)
{
    batch *p = s->queue;
    if (!p || !p->is_shared)            /* (only shared parts are queued first) */
        return NULL;
    s->queue = p->next;
    if (!s->queue)
        s->queue_tail = NULL;
    s->shared--;
    return p;
}

/* Batch b evaluated: done, the committing thread woken if it waits on
 * it; under s->mu. */
static void mark_done(aw_scanner *s, batch *b)
{
    __atomic_store_n(&b->done, true, __ATOMIC_RELEASE);
    if (s->awaited == b)                /* only the awaited batch wakes it */
        pthread_cond_signal(&s->fin);
}

/* File b, read whole here, in parts handed to the committing thread as
 * they are ready (batch.part). While the committing thread waits for
 * this file and another worker for work, a part is only framed and
 * queued for that worker: a file alone keeps every worker busy, many
 * files keep each worker on its own. */
static void read_solo(worker *w, batch *b)
{
    aw_scanner *s = w->s;
    for (bool end = false; !end;) {
        pthread_mutex_lock(&s->mu);
        bool share = s->idle > s->shared && s->awaited_file == b;
        batch *p = part_get(s, b, share);
        pthread_mutex_unlock(&s->mu);
        if (share) {
            end = sc_read_records(NULL, p, b->solo, PREP_SPEC, 0, s->part_bytes);
        } else {
            end = sc_read_records(w, p, b->solo, PREP_SPEC, BATCH_BYTES, s->part_bytes);
            sc_finish(w, p, 0);         /* the hashes, before the reader moves on */
            p->done = true;
        }
        if (end) {
            b->solo_in = aw_reader_bytes_in(b->solo);
            b->solo_out = aw_reader_bytes_out(b->solo);
            aw_reader_close(b->solo);
            b->solo = NULL;
        }
        pthread_mutex_lock(&s->mu);
        if (b->part_tail)
            b->part_tail->pnext = p;
        else
            b->part = p;
        b->part_tail = p;
        b->nparts++;
        if (share)
            share_part(s, p);
        if (s->awaited == b)            /* (it then waits on the part, if shared) */
            pthread_cond_signal(&s->fin);
        /* too far ahead: wait, evaluating the parts shared meanwhile (so
         * one always gets done, whatever every worker waits for) */
        while (!end && b->nparts >= SOLO_AHEAD) {
            batch *q = take_part(s);
            if (!q) {
                pthread_cond_wait(&s->room, &s->mu);
                continue;
            }
            pthread_mutex_unlock(&s->mu);
            evaluate(w, q);
            pthread_mutex_lock(&s->mu);
            mark_done(s, q);
        }
        pthread_mutex_unlock(&s->mu);
    }
}

static void evaluate(worker *w, batch *b)
{
    int how = w->s->threaded ? PREP_SPEC : PREP_ORDERED;
    if (b->range && !range_load(b))
        return;
    if (b->is_solo) {
        read_solo(w, b);
        return;
    }
    if (b->chunk) {
        sc_frame_chunk(w, b, NULL, how);
    } else {
        for (size_t i = 0; i < b->nrecs; i++)
            if (!b->recs[i].kind)
                sc_eval_record(w, b, &b->recs[i], b->data + b->recs[i].off, how, false);
    }
    sc_finish(w, b, 0);
}

void *sc_worker_main(void *arg)
{
    worker *w = arg;
    aw_scanner *s = w->s;
    pthread_mutex_lock(&s->mu);
    for (;;) {
        while (!s->queue && !s->stop) {
            s->idle++;
            pthread_cond_wait(&s->job, &s->mu);
            s->idle--;
        }
        if (!s->queue)
            break;
        batch *b = s->queue;
        s->queue = b->next;
        if (!s->queue)
            s->queue_tail = NULL;
        s->shared -= b->is_shared;
        pthread_mutex_unlock(&s->mu);
        evaluate(w, b);
        pthread_mutex_lock(&s->mu);
        mark_done(s, b);
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

void sc_worker_init(aw_scanner *s, worker *w)
{
    w->s = s;
    w->doc = aw_doc_new();
    w->m = aw_matcher_new(s->e->plan);
    if (s->o.render && !(w->ms = open_memstream(&w->msbuf, &w->mslen)))
        abort();
    if (w->ms)
        __fsetlocking(w->ms, FSETLOCKING_BYCALLER);    /* one thread writes it */
    if (!(w->hq = aw_sha256_mb_new(on_digest, w)))
        abort();
}

void sc_worker_fini(worker *w)
{
    aw_doc_free(w->doc);
    aw_matcher_free(w->m);
    aw_sha256_mb_free(w->hq);
    if (w->ms)
        fclose(w->ms);
    free(w->msbuf);
}
