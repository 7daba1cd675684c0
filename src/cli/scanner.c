/* scanner.c - the record loop: read, parse, drop content, match, alert.
 * This file starts and stops the scanner and reads the input, cutting
 * it into batches; scan_eval.c evaluates a batch, scan_commit.c commits
 * batches in input order (their shared layouts: scan_int.h).
 *
 * With threads, the calling thread reads and cuts the input into
 * batches (never spanning files), which workers evaluate (each its own
 * document and matcher; the plan is shared and immutable), keeping, per
 * record, the hits with everything an alert needs. Most batches are
 * chunks of whole lines (aw_reader_chunk_swap): the worker frames them
 * itself, a line by parsing it, so the calling thread does not touch
 * their records, nor copy them (the buffer read into becomes the
 * batch's; the batch's old one is read into next). After the first
 * chunk of a regular, uncompressed file, the calling thread does not
 * even read it: it finds each cut by reading around it, and the worker
 * reads its range itself (aw_reader_range). Such a range, and any
 * chunk after the first since the reader was in step, is framed on
 * line 0 and its lines are added to at commit, when the newlines
 * before it are counted (by the framers, as they frame); one whose
 * framer messages name lines is framed again there. Where no chunk can
 * be cut (an array or envelope, a line longer than the buffer) the
 * calling thread frames records into a batch, after the chunks before
 * it are committed, from the state they ended in. Batches are committed strictly in input order by the
 * calling thread: a chunk's records are numbered, one whose start state
 * was not the one assumed (an array open before it) is framed again,
 * malformed records are reported, correlations fed, alerts handed to
 * the callback. So the output is byte-identical whatever the number of
 * threads. With one thread each record is evaluated as it is read, and
 * a record alone on its line is framed by parsing it (the reader's line
 * function): one pass over its bytes instead of the framer's and then
 * the parser's (scan_inline).
 *
 * A file of the size providers write (gzip decoding to at most 64 MiB,
 * or plain: aw_reader_solo) is not cut at all: the calling thread opens
 * it and hands it to one worker whole, which reads, decodes, frames and
 * evaluates it there as one thread would, handing its records over in
 * parts that the calling thread commits as they come once the file is
 * the oldest in flight (batch.part). So files decode in parallel,
 * instead of one at a time on the reader's decoder thread, and the
 * calling thread neither reads nor frames them (envelopes over 4 MiB
 * included). Larger files are cut into chunks and ranges as above.
 *
 * Correlations are fed in input order by the committing thread, from
 * what the worker extracted from the event for each hit a correlation
 * uses (aw_correlator_extract: time, group keys, values), so no event
 * is parsed twice. The record's SHA-256 is computed only for records
 * with hits, several at once (sha256_mb.h): queued as they are found,
 * finished at the end of the batch (inline, also whenever the reader is
 * about to move the bytes they point into), and only then are the
 * batch's alerts rendered, since they carry it.
 *
 * One derived field is stateful (own_side: is this key's number in a
 * block the tenant used before), so its value depends on the order of
 * the events. Workers do not decide it: they record its inputs and
 * evaluate the event under both values ("false" and "true"); the
 * committing thread decides it in input order and keeps the hits of
 * the value decided. An event with several such fields is evaluated
 * again by the committing thread, in order. So the alerts are those of
 * a scan on one thread, whatever the number of threads. */
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "cli/scan_int.h"

static double cpu_seconds(int who)
{
    struct rusage ru;
    if (getrusage(who, &ru) != 0)
        return 0;
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static double since(const struct timespec *a)
{
    struct timespec b;
    clock_gettime(CLOCK_MONOTONIC, &b);
    return (double)(b.tv_sec - a->tv_sec) + (double)(b.tv_nsec - a->tv_nsec) / 1e9;
}

/* ---- batches ------------------------------------------------------------- */

static batch *batch_get(aw_scanner *s, const char *file)
{
    batch *b = s->free_list;
    if (b)
        s->free_list = b->next;
    else if (!(b = calloc(1, sizeof *b)))
        abort();
    b->file = file;
    b->dlen = b->nrecs = b->nhits = b->nxe = b->slen = 0;
    b->done = false;
    b->next = NULL;
    b->seq = s->next_seq++;
    b->file_seq = s->file_seq;
    b->chunk = b->synced = false;
    b->range = b->lines_known = b->rclose = b->rfailed = b->frame_errs = false;
    b->is_solo = b->is_shared = false;
    b->solo = NULL;
    b->part = b->part_tail = NULL;
    b->nparts = 0;
    b->nplain = 0;
    return b;
}

/* Batch b's bytes are in the shared buffer h from data on (read only),
 * its own buffer set aside till sc_batch_put; b takes the caller's
 * reference to h. */
static void batch_hold(batch *b, aw_hold *h, const char *data)
{
    b->hold = h;
    b->own = b->data;
    b->own_cap = b->dcap;
    b->data = (char *)(uintptr_t)data;
    b->dcap = 0;
}

static void batch_free(batch *b)
{
    aw_hold_release(b->hold);
    free(b->hold ? b->own : b->data);
    free(b->recs);
    free(b->hits);
    free(b->xe);
    free(b->str);
    free(b);
}

/* ---- life cycle ----------------------------------------------------------- */

aw_scanner *aw_scanner_new(const aw_engine *e, const aw_scanner_opts *o, aw_alert_fn fn, void *ud)
{
    aw_scanner *s = calloc(1, sizeof *s);
    if (!s)
        abort();
    s->e = e;
    s->o = *o;
    s->fn = fn;
    s->ud = ud;
    aw_arena_init(&s->paths);
    if (o->corr_fn && aw_plan_correlation_count(e->plan))
        s->corr = aw_correlator_new(e->plan, &o->corr, o->corr_fn, ud,
                                    o->corr_diags ? aw_diags_fn : NULL, o->corr_diags);
    s->st.correlating = s->corr != NULL;
    s->nthreads = o->threads < 1 ? 1 : o->threads > MAX_THREADS ? MAX_THREADS : o->threads;
    s->threaded = s->nthreads > 1;
    s->w = calloc((size_t)s->nthreads, sizeof *s->w);
    if (!s->w)
        abort();
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->job, NULL);
    pthread_cond_init(&s->fin, NULL);
    pthread_cond_init(&s->room, NULL);
    s->ring_cap = (size_t)s->nthreads * 2 + 1;
    s->ring = calloc(s->ring_cap, sizeof *s->ring);
    if (!s->ring)
        abort();
    sc_worker_init(s, &s->cw);
    for (int i = 0; i < s->nthreads; i++) {
        worker *w = &s->w[i];
        sc_worker_init(s, w);
        if (s->threaded && pthread_create(&w->tid, NULL, sc_worker_main, w) != 0) {
            fprintf(stderr, "aupwatch: cannot start worker thread %d; scanning with %s\n", i,
                    i ? "the threads started" : "one thread, inline");
            if (i == 0)
                s->threaded = false;            /* w[0] evaluates inline */
            else
                sc_worker_fini(w);
            s->nthreads = i ? i : 1;
            break;
        }
        if (s->threaded) {              /* for top -H and perf --sort comm; cosmetic */
            char name[32];
            snprintf(name, sizeof name, "aw-scan-%d", i + 1);
            name[15] = '\0';           /* the kernel's limit: 15 bytes */
            (void)pthread_setname_np(w->tid, name);
        }
    }
    s->st.threads = s->threaded ? s->nthreads : 1;
    s->st.hashing = aw_sha256_mb_kind(s->cw.hq);
    /* AUPWATCH_CHUNK_BYTES: chunk size (tests use tiny ones; 0: none) */
    const char *cb = getenv("AUPWATCH_CHUNK_BYTES");
    s->chunk_bytes = !s->threaded ? 0 : cb ? strtoull(cb, NULL, 10) : BATCH_BYTES;
    /* Ranges whenever there are workers: even with two, where the calling
     * thread is not yet what they wait for, they did not lose (CloudTrail,
     * 1 GB, 2 threads on 2 cores, 12 alternate rounds: 1,147-1,198 ->
     * 1,207-1,211 MB/s mean), for 12 MB more memory (1 MB batches).
     * AUPWATCH_RANGES=0 turns them off (benchmarks and tests compare);
     * AUPWATCH_CHUNK_BYTES sizes them too. */
    const char *rv = getenv("AUPWATCH_RANGES");
    bool ranges = !(rv && strcmp(rv, "0") == 0);
    s->range_bytes = !s->chunk_bytes || !ranges ? 0 : cb ? s->chunk_bytes : RANGE_BYTES;
    /* A gzip file whose last member decodes to at most this, or a plain
     * file no larger, goes to a worker whole (aw_reader_solo): files
     * decoded in parallel, instead of one at a time on the reader's
     * decoder thread, and not read by this thread. AUPWATCH_SOLO_MAX
     * sets it in bytes (0: never; tests and benchmarks compare). */
    const char *sm = getenv("AUPWATCH_SOLO_MAX");
    s->solo_max = !s->threaded ? 0 : sm ? strtoull(sm, NULL, 10) : SOLO_MAX;
    s->part_bytes = cb && s->chunk_bytes ? s->chunk_bytes : RANGE_BYTES;
    clock_gettime(CLOCK_MONOTONIC, &s->t0);
    s->last_draw = s->t0;
    s->cpu0_process = cpu_seconds(RUSAGE_SELF);
    s->cpu0_calling = cpu_seconds(RUSAGE_THREAD);
    return s;
}

void aw_scanner_free(aw_scanner *s)
{
    if (!s)
        return;
    sc_drain(s, true, 0);
    if (s->threaded) {
        pthread_mutex_lock(&s->mu);
        s->stop = true;
        pthread_cond_broadcast(&s->job);
        pthread_mutex_unlock(&s->mu);
        for (int i = 0; i < s->nthreads; i++)
            pthread_join(s->w[i].tid, NULL);
    }
    for (int i = 0; i < s->nthreads; i++)
        sc_worker_fini(&s->w[i]);
    sc_worker_fini(&s->cw);
    while (s->free_list) {
        batch *b = s->free_list;
        s->free_list = b->next;
        batch_free(b);
    }
    for (int k = 0; k < 2; k++)
        while (s->part_free[k]) {
            batch *b = s->part_free[k];
            s->part_free[k] = b->next;
            batch_free(b);
        }
    if (s->o.progress)
        fputs("\r\033[K", stderr);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->job);
    pthread_cond_destroy(&s->fin);
    pthread_cond_destroy(&s->room);
    free(s->ring);
    free(s->w);
    free(s->spare);
    aw_correlator_free(s->corr);
    aw_arena_reset(&s->paths);
    free(s);
}

void aw_scanner_finish(aw_scanner *s)
{
    sc_drain(s, true, 0);
    /* every batch is committed: the workers are idle (drain synchronised
     * with them under s->mu) */
    memset(&s->st.matcher, 0, sizeof s->st.matcher);
    for (int i = 0; i < s->nthreads; i++)
        aw_matcher_counts_add(s->w[i].m, &s->st.matcher);
    aw_matcher_counts_add(s->cw.m, &s->st.matcher);
    s->st.cpu_process = cpu_seconds(RUSAGE_SELF) - s->cpu0_process;
    s->st.cpu_calling = cpu_seconds(RUSAGE_THREAD) - s->cpu0_calling;
    if (!s->corr)
        return;
    aw_correlator_flush(s->corr);
    s->st.corr = *aw_correlator_stats_get(s->corr);
}

const aw_scan_stats *aw_scanner_stats(const aw_scanner *s) { return &s->st; }
double aw_scanner_seconds(const aw_scanner *s) { return since(&s->t0); }

/* ---- reading ---------------------------------------------------------------- */

static void draw(aw_scanner *s, const aw_reader *r, bool force)
{
    if (!s->o.progress || (!force && since(&s->last_draw) < 0.25))
        return;
    clock_gettime(CLOCK_MONOTONIC, &s->last_draw);
    double secs = since(&s->t0);
    double mb = (double)(s->st.bytes_out + (r ? aw_reader_bytes_out(r) + s->range_out : 0)) / 1e6;
    fprintf(stderr, "\r\033[K%llu files  %llu records  %.1f MB  %.1f MB/s  %llu alerts  %llu malformed",
            s->st.files, s->st.records, mb, secs > 0 ? mb / secs : 0, s->st.alerts, s->st.malformed);
}

enum { RANGES_DONE, RANGES_STOPPED, RANGES_FAILED };

/* Hand out the rest of the file in ranges, from where reader r stands
 * (rg). RANGES_DONE: up to its end, every range submitted (the last
 * closes rg at commit). RANGES_STOPPED: the ranges stop at a cut the
 * stream reader must frame (an envelope), or that was not found near
 * enough (a record longer than the look-ahead); everything before it is
 * committed and r stands there. RANGES_FAILED: reading failed, said
 * after the records before it; the file is over. */
static int scan_ranges(aw_scanner *s, aw_reader *r, const char *file, aw_range *rg)
{
    size_t want = s->range_bytes, limit = want < (256u << 10) ? (1u << 20) : want * 4;
    uint64_t at = rg->pos;
    aw_errbuf err;
    aw_status st;
    rg->path = file;                    /* the reader's copy dies with it */
    for (bool first = true;; first = false) {
        uint64_t cut;
        int envelope;
        st = aw_range_cut(rg, at + want, limit, &cut, &envelope, &err);
        if (st == AW_ELIMIT && first) {     /* the reader stands there still */
            aw_range_close(rg);
            return RANGES_STOPPED;
        }
        if (st != AW_OK)
            break;
        batch *b = batch_get(s, file);
        b->chunk = b->range = true;
        b->lines_known = false;         /* (the chunk before it: at commit) */
        b->cline = 0;
        b->rg = *rg;
        b->roff = at;
        b->clen = (size_t)(cut - at);
        b->ceof = b->rclose = cut == rg->size;
        s->range_out += b->clen;
        sc_submit(s, b);
        draw(s, r, false);
        if (cut == rg->size)
            return RANGES_DONE;
        at = cut;
        if (envelope)
            break;
    }
    sc_drain(s, true, 0);                  /* so the line at `at` is known */
    aw_range_close(rg);
    s->range_out = 0;
    if (s->failed_file == s->file_seq)
        return RANGES_FAILED;           /* a worker's read failed: said */
    if (st == AW_OK || st == AW_ELIMIT)
        st = aw_reader_seek(r, at, s->chunk_line, &err);
    if (st == AW_OK)
        return RANGES_STOPPED;
    sc_report(s, file, s->chunk_line, "read-error", err.msg);
    s->failed_file = s->file_seq;
    return RANGES_FAILED;
}

/* One thread's scan of reader r, of file `file`: records evaluated as
 * they are read and committed as they come; the reader closed at the
 * end and its bytes counted. */
static void scan_inline(aw_scanner *s, aw_reader *r, const char *file)
{
    worker *w = &s->w[0];
    batch *b = batch_get(s, file);
    for (bool done = false; !done;) {
        done = sc_read_records(w, b, r, PREP_ORDERED, BATCH_BYTES, BATCH_BYTES);
        sc_finish(w, b, 0);
        sc_commit_read(s, b);
        b->nrecs = b->nhits = b->nxe = b->slen = b->dlen = b->nplain = 0;
        draw(s, r, false);
    }
    sc_batch_put(s, b);
    s->st.bytes_in += aw_reader_bytes_in(r);
    s->st.bytes_out += aw_reader_bytes_out(r);
    aw_reader_close(r);
}

/* File r goes to one worker whole (aw_reader_solo). */
static aw_status scan_solo(aw_scanner *s, aw_reader *r, const char *file)
{
    batch *b = batch_get(s, file);
    b->is_solo = true;
    b->solo = r;
    sc_submit(s, b);
    draw(s, NULL, false);
    return AW_OK;
}

static aw_status scan_file(aw_scanner *s, const char *path)
{
    aw_reader *r;
    aw_errbuf err;
    aw_reader_opts ro = {s->o.max_record, s->threaded, s->solo_max};
    aw_record rec;
    if (aw_reader_open(&r, path, &ro, &err) != AW_OK) {
        fprintf(stderr, "aupwatch: %s\n", err.msg);     /* the message names the path */
        s->st.unreadable++;
        return AW_EIO;
    }
    s->st.files++;
    /* the path must outlive batches still in flight */
    const char *file = aw_arena_strdup(&s->paths, path);
    s->file_seq++;
    if (!s->threaded) {                 /* each record evaluated as it is read */
        scan_inline(s, r, file);
        draw(s, NULL, false);
        return AW_OK;
    }
    if (aw_reader_solo(r))              /* a worker reads, frames and evaluates it */
        return scan_solo(s, r, file);
    if (s->chunk_bytes)
        aw_reader_defer_lines(r);       /* chunks' lines: counted by their framers */
    batch *b = batch_get(s, file);
    bool ahead = false;                 /* chunks cut since the reader was in step */
    aw_range rg;
    uint64_t ranged = 0;                /* the file's size if its end was read in ranges */
    aw_status rc;
    for (;;) {
        aw_chunk c;
        /* a chunk comes with the buffer that holds it (s->spare): no copy */
        rc = s->chunk_bytes ? aw_reader_chunk_swap(r, s->chunk_bytes, &c, &s->spare, &s->spare_cap, &err)
                            : AW_OK;
        if (rc == AW_OK && s->chunk_bytes && c.len) {
            sc_submit(s, b);               /* the records before it */
            b = batch_get(s, file);
            b->chunk = true;
            b->synced = !ahead;
            b->clen = c.len;
            b->ceof = c.eof;
            /* the reader counts no chunk's lines (aw_reader_defer_lines):
             * after the first since it was in step, a chunk is framed on
             * line 0 and its lines are added to at commit, as ranges */
            b->lines_known = !ahead;
            b->cline = ahead ? 0 : c.line;
            b->dlen = c.len + !c.eof;   /* and the next chunk's '{' */
            if (c.hold) {               /* cut in place from a gzip member */
                batch_hold(b, c.hold, c.data);
            } else {
                char *d = b->data;      /* its old buffer is the next one to swap */
                size_t dcap = b->dcap;
                b->data = s->spare;
                b->dcap = s->spare_cap;
                s->spare = d;
                s->spare_cap = dcap;
            }
            sc_submit(s, b);
            b = batch_get(s, file);
            ahead = true;
            draw(s, r, false);
            if (c.eof || !s->range_bytes || !aw_reader_range(r, s->range_bytes, &rg))
                continue;
            int k = scan_ranges(s, r, file, &rg);
            if (k == RANGES_STOPPED)
                continue;
            if (k == RANGES_DONE)           /* the whole file, read in ranges */
                ranged = rg.size;
            break;
        }
        if (rc == AW_OK && ahead) {     /* none here: the reader goes on from the chunks' end */
            sc_submit(s, b);
            b = batch_get(s, file);
            sc_drain(s, true, 0);
            aw_reader_resume(r, &s->carry, s->file_recno);
            aw_reader_set_line(r, s->chunk_line);  /* the chunks' lines, added up */
            ahead = false;
        }
        if (rc == AW_OK)
            rc = aw_reader_next(r, &rec, &err);
        else
            rec.line = c.line;
        if (rc == AW_EOF)
            break;
        if (rc == AW_EIO) {                  /* reported after the records before it */
            sc_submit(s, b);
            b = batch_get(s, file);
            sc_drain(s, true, 0);
            sc_report(s, file, ahead ? s->chunk_line : rec.line, "read-error", err.msg);
            break;
        }
        /* a record of a gzip member framed in place is not copied: the
         * batch holds the member (its records all in one, or all copied) */
        aw_hold *held = rc == AW_OK ? aw_reader_hold(r) : NULL;
        if (rc == AW_OK && held != b->hold && b->nrecs) {
            sc_submit(s, b);
            b = batch_get(s, file);
        }
        srec *x = add_rec(b, &rec);
        s->st.framed_here++;
        if (rc == AW_EPARSE || rc == AW_ELIMIT) {
            rec_malformed(b, x, rc, &err);
        } else if (held) {
            if (!b->hold) {
                aw_hold_retain(held);
                batch_hold(b, held, rec.data);
            }
            x->off = (size_t)(rec.data - b->data);
            x->len = rec.len;
            b->dlen = x->off + rec.len;
        } else {
            aw_grow((void **)&b->data, &b->dcap, b->dlen + rec.len, 1);
            memcpy(b->data + b->dlen, rec.data, rec.len);
            x->off = b->dlen;
            x->len = rec.len;
            b->dlen += rec.len;
        }
        if (b->dlen >= BATCH_BYTES || b->nrecs >= BATCH_RECORDS) {
            sc_submit(s, b);
            b = batch_get(s, file);
            draw(s, r, false);
        }
    }
    sc_submit(s, b);
    s->st.bytes_in += ranged ? ranged : aw_reader_bytes_in(r);
    s->st.bytes_out += ranged ? ranged : aw_reader_bytes_out(r);
    s->range_out = 0;
    aw_reader_close(r);
    draw(s, NULL, false);
    return AW_OK;
}

static int walk_cb(const char *path, void *ud)
{
    scan_file(ud, path);
    return 0;
}

aw_status aw_scanner_path(aw_scanner *s, const char *path)
{
    aw_errbuf err;
    unsigned long long before = s->st.unreadable;
    if (aw_input_walk(path, walk_cb, s, &err) != AW_OK) {
        fprintf(stderr, "aupwatch: %s\n", err.msg);     /* the message names the path */
        s->st.unreadable++;
        return AW_EIO;
    }
    return s->st.unreadable > before ? AW_EIO : AW_OK;
}
