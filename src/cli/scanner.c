/* scanner.c - the record loop: read, parse, drop content, match, alert.
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
 * reads its range itself (aw_reader_range). Such a range is framed on
 * line 0 and its lines are added to at commit, when the newlines
 * before it are counted; one whose framer messages name lines is framed
 * again there. Where no chunk can
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
 * the parser's.
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
#include <pthread.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "aupwatch/aw_input.h"
#include "cli/scanner.h"
#include "util/arena.h"
#include "util/sha256.h"
#include "util/sha256_mb.h"

#define MAX_EXPLAIN 64
/* With threads, a batch is framed, then evaluated by a worker. A small
 * one is still in the shared cache when its records are parsed (256 KB
 * against 4 MB, 2 threads: 800 -> 930 MB/s); hand-offs stay rare (~250
 * records a batch). */
#define BATCH_BYTES (256u << 10)
/* A range a worker reads itself is larger: fewer reads and hand-offs
 * (1 MB against 256 KB, CloudTrail on 2 threads: 0.492 -> 0.466 s of
 * CPU per 256 MB in a noisy hour, peak RSS 20 -> 32 MB; Windows events
 * the same) */
#define RANGE_BYTES (1u << 20)
#define BATCH_RECORDS 16384
#define MAX_THREADS 64

enum { OWN_NONE, OWN_DECIDE, OWN_SERIAL };   /* srec.own_mode */

static const char bad_json[] = "bad-json";  /* srec.kind of a record that does not parse */

typedef struct shit {               /* a hit, as stored by a worker */
    aw_hit h;
    uint8_t variant;                /* 0: always; 1 / 2: only if own_side is false / true */
    uint8_t level;                  /* aw_level_index, found while the rule is in cache */
    bool has_time;
    int64_t time_ns;
    size_t tenant;                  /* offset in str, or SIZE_MAX */
    size_t xe, nxe;                 /* explain entries */
    size_t rendered, rendered_len;  /* formatted alert in str, if rendered */
    size_t record_at;               /* where its record number goes (chunks:
                                       numbered at commit), SIZE_MAX: in it */
    size_t cx, cxlen;               /* correlation extract in str (cxlen 0: none) */
    size_t rec;                     /* its record, in recs */
} shit;

typedef struct srec {               /* one record of a batch */
    uint64_t recno, line;
    size_t off, len;                /* in data */
    const char *kind;               /* malformed: reason code, else NULL */
    size_t msg;                     /* malformed: message offset in str */
    size_t hit, nhit;
    uint8_t own_mode;               /* OWN_* */
    aw_own_op own;                  /* OWN_DECIDE: decided at commit */
    char sha[65];
} srec;

typedef struct batch {
    uint64_t seq;
    const char *file;
    char *data;
    size_t dlen, dcap;
    srec *recs;
    size_t nrecs, crecs;
    shit *hits;
    size_t nhits, chits;
    aw_xentry *xe;
    size_t nxe, cxe;
    char *str;
    size_t slen, scap;
    bool done;
    struct batch *next;             /* job queue */
    uint64_t file_seq;              /* which scan_file call it came from */
    /* a chunk (aw_reader_chunk), framed by the worker: data[0..clen) and
     * the next chunk's '{' unless ceof */
    bool chunk, ceof;
    bool synced;                    /* the reader was in step when it was cut:
                                       it starts between records at top level */
    size_t clen;
    uint64_t cline;
    uint64_t nrecno;                /* record numbers it used */
    bool end_clean;                 /* it ended between records at top level */
    aw_fstate end;
    bool frame_errs;                /* the framer reported a record */
    /* a range: a chunk its worker reads, bytes [roff, roff + clen) of
     * rg's file. Unless lines_known (the first of its ranges), its first
     * line follows from the ranges before it: it is framed on line 0,
     * its lines are added to at commit, and cline set then. */
    bool range, lines_known, rclose;    /* rclose: the last; commit closes rg */
    bool rfailed;                   /* the read failed: msg in str at rmsg */
    aw_range rg;
    uint64_t roff, nlines;          /* nlines: newlines in the chunk (framed) */
    size_t rmsg;
} batch;

typedef struct worker {
    aw_scanner *s;
    pthread_t tid;
    aw_doc *doc;
    aw_matcher *m;
    FILE *ms;                       /* memory stream for rendering alerts */
    char *msbuf;
    size_t mslen;
    batch *b;                       /* batch being evaluated */
    srec *r;                        /* record being evaluated */
    const char *data;               /* its bytes */
    /* The hashes of the records with hits: queued, so several are
     * computed at once; finished (and the alerts rendered, which carry
     * them) when the batch is evaluated. */
    aw_sha256_mb *hq;
    batch *hb;                      /* the batch of the records queued */
    uint8_t variant;                /* stored with each hit (shit.variant) */
    /* The tenant and time of the record being evaluated, for the source
     * of its last hit: its hits mostly share a source, and both depend
     * only on the source and the document. */
    const aw_source *ts_src;        /* NULL: none yet in this evaluation */
    size_t ts_tenant;               /* as shit.tenant */
    bool ts_has_time;
    int64_t ts_time_ns;
} worker;

struct aw_scanner {
    const aw_engine *e;
    aw_scanner_opts o;
    aw_alert_fn fn;
    void *ud;
    aw_correlator *corr;
    worker cw;                      /* the committing thread's own evaluation */
    aw_scan_stats st;
    struct timespec t0, last_draw;
    double cpu0_process, cpu0_calling;      /* at aw_scanner_new */
    /* threads */
    int nthreads;
    bool threaded;                  /* workers run; else w[0] evaluates inline */
    worker *w;                      /* nthreads entries; w[0] inline when 1 */
    pthread_mutex_t mu;
    pthread_cond_t job, fin;
    batch *queue, *queue_tail;
    bool stop;
    /* batches in flight, in input order */
    batch **ring;
    size_t ring_cap, ring_head, ring_n;
    batch *free_list;
    uint64_t next_seq;
    aw_arena paths;                 /* file names, alive while batches are */
    /* chunks: cut by the calling thread, framed by the workers */
    size_t chunk_bytes;             /* 0: frame every record here */
    char *spare;                    /* the buffer the next chunk is read into */
    size_t spare_cap;               /* (aw_reader_chunk_swap; batches trade theirs) */
    uint64_t file_seq;              /* scan_file calls */
    uint64_t commit_file;           /* file_seq of the batch last committed */
    uint64_t file_recno;            /* record numbers committed in that file */
    bool carry_clean;               /* the last chunk committed ended between
                                       records at top level; else in carry */
    aw_fstate carry;
    /* ranges: chunks of regular files read by the workers (aw_range) */
    size_t range_bytes;             /* 0: none */
    uint64_t range_line;            /* the line after the last range committed */
    uint64_t failed_file;           /* file_seq of a file whose range read failed */
    uint64_t range_out;             /* bytes of this file handed out in ranges */
};

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

int aw_level_index(const char *lv)
{
    static const char *const levels[] = {"informational", "low", "medium", "high", "critical"};
    if (!lv)
        return 5;
    /* their first letters differ: one comparison per alert, not five */
    int i = lv[0] == 'i' ? 0 : lv[0] == 'l' ? 1 : lv[0] == 'm' ? 2 : lv[0] == 'h' ? 3 : lv[0] == 'c' ? 4 : 5;
    return i < 5 && strcmp(lv, levels[i]) == 0 ? i : 5;
}

/* ---- batch storage ------------------------------------------------------- */

/* n bytes at an 8-byte aligned offset of str (correlation extracts) */
static size_t put_bytes(batch *b, const void *p, size_t n)
{
    size_t off = (b->slen + 7) & ~(size_t)7;
    aw_grow((void **)&b->str, &b->scap, off + n, 1);
    memcpy(b->str + off, p, n);
    b->slen = off + n;
    return off;
}

static size_t put_str(batch *b, const char *s, size_t n)
{
    aw_grow((void **)&b->str, &b->scap, b->slen + n, 1);
    memcpy(b->str + b->slen, s, n);
    b->str[b->slen + n] = 0;
    size_t off = b->slen;
    b->slen += n + 1;
    return off;
}

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
    return b;
}

static void batch_free(batch *b)
{
    free(b->data);
    free(b->recs);
    free(b->hits);
    free(b->xe);
    free(b->str);
    free(b);
}

static srec *add_rec(batch *b, const aw_record *rec)
{
    aw_grow((void **)&b->recs, &b->crecs, b->nrecs, sizeof *b->recs);
    srec *r = &b->recs[b->nrecs++];
    memset(r, 0, sizeof *r);
    r->recno = rec->recno;
    r->line = rec->line;
    return r;
}

/* ---- evaluation (workers) ------------------------------------------------ */

static void fill_alert(aw_alert *a, const batch *b, const srec *r, const shit *x, bool explain)
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
    fill_alert(&a, b, r, x, false);
    size_t n = aw_out_render_json(w->s->o.render, &a, b->str + b->slen, room, pat);
    if (!n)
        return false;
    if (n > room) {
        aw_grow((void **)&b->str, &b->scap, b->slen + n + 1, 1);
        fill_alert(&a, b, r, x, false);
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
            aw_sha256_mb_flush(w->hq);  /* (finish() did, unless misused) */
        w->hb = b;
        aw_sha256_mb_add(w->hq, w->data, r->len, x->rec);  /* bytes kept till finish() or hashes_due() */
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
    aw_sha256_hex_of(d, w->hb->recs[id].sha);
}

/* Render the alert of hit x (worker-side output formatting). */
static void render_hit(worker *w, batch *b, shit *x)
{
    const srec *r = &b->recs[x->rec];
    if (!w->s->o.explain && render_direct(w, b, r, x))
        return;
    aw_alert a;
    fill_alert(&a, b, r, x, w->s->o.explain);
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
static void finish(worker *w, batch *b, size_t h0)
{
    aw_sha256_mb_flush(w->hq);
    for (size_t i = h0; w->ms && i < b->nhits; i++)
        if (!b->hits[i].h.correlation_only)
            render_hit(w, b, &b->hits[i]);
}

/* Inline, a record's bytes are the reader's: before it moves them, the
 * hashes queued on them are computed (aw_reader_set_move_fn), not copied
 * into the queue. The alerts wait for finish(). */
static void hashes_due(void *ud)
{
    worker *w = ud;
    aw_sha256_mb_flush(w->hq);
}

/* The reader's line function: the line is parsed into the worker's
 * document, where eval_record finds it. */
static size_t parse_line(void *ud, const char *line, size_t len)
{
    worker *w = ud;
    aw_errbuf err;
    if (aw_doc_parse(w->doc, line, len, NULL, &err) != AW_OK)
        return 0;
    const aw_jnode *root = aw_doc_root(w->doc);
    return root->type == AW_JOBJ ? root->vlen : 0;
}

/* How prepare() treats stateful derivations: the event is prepared in
 * input order, or on a worker (recorded in spec, decided at commit). */
enum { PREP_ORDERED, PREP_SPEC };

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
static void eval_record(worker *w, batch *b, srec *r, const char *data, int how, bool parsed)
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
        r->kind = bad_json;
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
static void frame_chunk(worker *w, batch *b, const aw_fstate *from, int how)
{
    aw_chunk c = {b->data, b->clen, b->ceof, b->cline};
    aw_reader *r = aw_reader_open_chunk(&c, from, w->s->o.max_record);
    aw_record rec;
    aw_errbuf err;
    aw_status rc;
    if (!r)
        abort();
    aw_reader_set_line_fn(r, parse_line, w);
    b->nrecs = b->nhits = b->nxe = b->slen = 0;
    b->frame_errs = false;
    while ((rc = aw_reader_next(r, &rec, &err)) == AW_OK || rc == AW_EPARSE || rc == AW_ELIMIT) {
        srec *x = add_rec(b, &rec);
        if (rc != AW_OK) {
            b->frame_errs = true;       /* its message names lines */
            x->kind = rc == AW_ELIMIT ? "record-too-large" : "bad-record";
            x->msg = put_str(b, err.msg, strlen(err.msg));
            continue;
        }
        x->off = (size_t)(rec.data - b->data);
        x->len = rec.len;
        eval_record(w, b, x, rec.data, how, rec.taken);
    }
    b->nrecno = aw_reader_recno(r);
    b->nlines = aw_reader_line(r) - c.line;     /* the framer counts them: no second pass */
    b->end_clean = aw_reader_chunk_end(r, &b->end);
    aw_reader_close(r);
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

static void evaluate(worker *w, batch *b)
{
    int how = w->s->threaded ? PREP_SPEC : PREP_ORDERED;
    if (b->range && !range_load(b))
        return;
    if (b->chunk) {
        frame_chunk(w, b, NULL, how);
    } else {
        for (size_t i = 0; i < b->nrecs; i++)
            if (!b->recs[i].kind)
                eval_record(w, b, &b->recs[i], b->data + b->recs[i].off, how, false);
    }
    finish(w, b, 0);
}

static void *worker_main(void *arg)
{
    worker *w = arg;
    aw_scanner *s = w->s;
    pthread_mutex_lock(&s->mu);
    for (;;) {
        while (!s->queue && !s->stop)
            pthread_cond_wait(&s->job, &s->mu);
        if (!s->queue)
            break;
        batch *b = s->queue;
        s->queue = b->next;
        if (!s->queue)
            s->queue_tail = NULL;
        pthread_mutex_unlock(&s->mu);
        evaluate(w, b);
        pthread_mutex_lock(&s->mu);
        b->done = true;
        pthread_cond_broadcast(&s->fin);
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

/* ---- commit (calling thread, input order) --------------------------------- */

static void report(aw_scanner *s, const char *file, uint64_t line, const char *kind, const char *msg)
{
    s->st.malformed++;
    if (s->o.input_diags)
        aw_diags_fn(s->o.input_diags, file, line, kind, msg);
}

static void commit_batch(aw_scanner *s, batch *b);

static void commit(aw_scanner *s, batch *b)
{
    if (b->file_seq != s->commit_file) {
        s->commit_file = b->file_seq;
        s->file_recno = 0;
        s->carry_clean = true;
    }
    if (b->range && !b->lines_known)
        b->cline = s->range_line;       /* its first line, known now */
    if (b->rfailed && s->failed_file != b->file_seq) {
        report(s, b->file, b->cline, "read-error", b->str + b->rmsg);
        s->failed_file = b->file_seq;
    }
    if (s->failed_file != b->file_seq)  /* nothing of a file after its read error */
        commit_batch(s, b);
    if (b->range)
        s->range_line = b->cline + b->nlines;
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
        bool rel = b->range && !b->lines_known;
        /* an array was open where it starts, or the framer's messages
         * name lines counted from 0 */
        if (!s->carry_clean || (rel && b->frame_errs)) {
            frame_chunk(&s->cw, b, s->carry_clean ? NULL : &s->carry, PREP_ORDERED);
            finish(&s->cw, b, 0);
        } else if (rel)
            lbase = b->cline;
        base = s->file_recno;
        s->file_recno += b->nrecno;
        s->carry_clean = b->end_clean;
        s->carry = b->end;
        if (s->carry.in_array)
            s->carry.arr_line += lbase;
    }
    for (size_t i = 0; i < b->nrecs; i++) {
        srec *r = &b->recs[i];
        r->recno += base;
        r->line += lbase;
        if (!b->chunk)
            s->file_recno = r->recno;
        s->st.records++;
        if (r->kind == bad_json) {
            char msg[800];
            snprintf(msg, sizeof msg, "record %llu: %s", (unsigned long long)r->recno, b->str + r->msg);
            report(s, b->file, r->line, r->kind, msg);
            continue;
        }
        if (r->kind) {
            report(s, b->file, r->line, r->kind, b->str + r->msg);
            continue;
        }
        uint8_t variant = 0;
        if (r->own_mode == OWN_SERIAL) {
            size_t h0 = b->nhits;
            r->nhit = 0;
            eval_record(&s->cw, b, r, b->data + r->off, PREP_ORDERED, false);
            finish(&s->cw, b, h0);
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
                aw_evidence ev = {b->file, r->recno, r->line, r->sha};
                aw_correlator_feed_extract(s->corr, &x->h, b->str + x->cx, x->cxlen, &ev);
            }
            if (x->h.correlation_only) {
                s->st.correlation_only_hits++;
                continue;
            }
            aw_alert a;
            fill_alert(&a, b, r, x, s->o.explain);
            s->st.alerts++;
            s->st.by_level[x->level]++;
            s->fn(s->ud, &a, &x->h);
        }
    }
}

/* Commit finished batches at the head of the ring; with `wait`, block
 * until the head is finished first. */
static void drain(aw_scanner *s, bool wait, size_t keep)
{
    while (s->ring_n > keep) {
        batch *b = s->ring[s->ring_head];
        pthread_mutex_lock(&s->mu);
        while (wait && !b->done)
            pthread_cond_wait(&s->fin, &s->mu);
        bool done = b->done;
        pthread_mutex_unlock(&s->mu);
        if (!done)
            return;
        commit(s, b);
        s->ring_head = (s->ring_head + 1) % s->ring_cap;
        s->ring_n--;
        b->next = s->free_list;
        s->free_list = b;
    }
}

static void submit(aw_scanner *s, batch *b)
{
    if (b->nrecs == 0 && !b->chunk) {
        b->next = s->free_list;
        s->free_list = b;
        return;
    }
    if (!s->threaded) {                 /* inline: evaluated as read (scan_file) */
        finish(&s->w[0], b, 0);
        commit(s, b);
        b->next = s->free_list;
        s->free_list = b;
        return;
    }
    drain(s, true, s->ring_cap - 1);   /* room in the ring */
    s->ring[(s->ring_head + s->ring_n++) % s->ring_cap] = b;
    pthread_mutex_lock(&s->mu);
    if (s->queue_tail)
        s->queue_tail->next = b;
    else
        s->queue = b;
    s->queue_tail = b;
    pthread_cond_signal(&s->job);
    pthread_mutex_unlock(&s->mu);
    drain(s, false, 0);
}

/* ---- life cycle ----------------------------------------------------------- */

static void worker_init(aw_scanner *s, worker *w)
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

static void worker_fini(worker *w)
{
    aw_doc_free(w->doc);
    aw_matcher_free(w->m);
    aw_sha256_mb_free(w->hq);
    if (w->ms)
        fclose(w->ms);
    free(w->msbuf);
}

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
    s->ring_cap = (size_t)s->nthreads * 2 + 1;
    s->ring = calloc(s->ring_cap, sizeof *s->ring);
    if (!s->ring)
        abort();
    worker_init(s, &s->cw);
    for (int i = 0; i < s->nthreads; i++) {
        worker *w = &s->w[i];
        worker_init(s, w);
        if (s->threaded && pthread_create(&w->tid, NULL, worker_main, w) != 0) {
            fprintf(stderr, "aupwatch: cannot start worker thread %d; scanning with %s\n", i,
                    i ? "the threads started" : "one thread, inline");
            if (i == 0)
                s->threaded = false;            /* w[0] evaluates inline */
            else
                worker_fini(w);
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
    drain(s, true, 0);
    if (s->threaded) {
        pthread_mutex_lock(&s->mu);
        s->stop = true;
        pthread_cond_broadcast(&s->job);
        pthread_mutex_unlock(&s->mu);
        for (int i = 0; i < s->nthreads; i++)
            pthread_join(s->w[i].tid, NULL);
    }
    for (int i = 0; i < s->nthreads; i++)
        worker_fini(&s->w[i]);
    worker_fini(&s->cw);
    while (s->free_list) {
        batch *b = s->free_list;
        s->free_list = b->next;
        batch_free(b);
    }
    if (s->o.progress)
        fputs("\r\033[K", stderr);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->job);
    pthread_cond_destroy(&s->fin);
    free(s->ring);
    free(s->w);
    free(s->spare);
    aw_correlator_free(s->corr);
    aw_arena_reset(&s->paths);
    free(s);
}

void aw_scanner_finish(aw_scanner *s)
{
    drain(s, true, 0);
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
        b->lines_known = first;
        b->cline = first ? rg->line : 0;
        b->rg = *rg;
        b->roff = at;
        b->clen = (size_t)(cut - at);
        b->ceof = b->rclose = cut == rg->size;
        s->range_out += b->clen;
        submit(s, b);
        draw(s, r, false);
        if (cut == rg->size)
            return RANGES_DONE;
        at = cut;
        if (envelope)
            break;
    }
    drain(s, true, 0);                  /* so the line at `at` is known */
    aw_range_close(rg);
    s->range_out = 0;
    if (s->failed_file == s->file_seq)
        return RANGES_FAILED;           /* a worker's read failed: said */
    if (st == AW_OK || st == AW_ELIMIT)
        st = aw_reader_seek(r, at, at == rg->pos ? rg->line : s->range_line, &err);
    if (st == AW_OK)
        return RANGES_STOPPED;
    report(s, file, at == rg->pos ? rg->line : s->range_line, "read-error", err.msg);
    s->failed_file = s->file_seq;
    return RANGES_FAILED;
}

static aw_status scan_file(aw_scanner *s, const char *path)
{
    aw_reader *r;
    aw_errbuf err;
    aw_reader_opts ro = {s->o.max_record, s->threaded};
    aw_record rec;
    if (aw_reader_open(&r, path, &ro, &err) != AW_OK) {
        fprintf(stderr, "aupwatch: %s\n", err.msg);     /* the message names the path */
        s->st.unreadable++;
        return AW_EIO;
    }
    s->st.files++;
    /* inline, a line is framed by parsing it, and evaluated at once */
    if (!s->threaded) {
        aw_reader_set_line_fn(r, parse_line, &s->w[0]);
        aw_reader_set_move_fn(r, hashes_due, &s->w[0]);
    }
    /* the path must outlive batches still in flight */
    const char *file = aw_arena_strdup(&s->paths, path);
    s->file_seq++;
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
            submit(s, b);               /* the records before it */
            b = batch_get(s, file);
            b->chunk = true;
            b->synced = !ahead;
            b->clen = c.len;
            b->ceof = c.eof;
            b->cline = c.line;
            b->dlen = c.len + !c.eof;   /* and the next chunk's '{' */
            char *d = b->data;          /* its old buffer is the next one to swap */
            size_t dcap = b->dcap;
            b->data = s->spare;
            b->dcap = s->spare_cap;
            s->spare = d;
            s->spare_cap = dcap;
            submit(s, b);
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
            submit(s, b);
            b = batch_get(s, file);
            drain(s, true, 0);
            aw_reader_resume(r, &s->carry, s->file_recno);
            ahead = false;
        }
        if (rc == AW_OK)
            rc = aw_reader_next(r, &rec, &err);
        else
            rec.line = c.line;
        if (rc == AW_EOF)
            break;
        if (rc == AW_EIO) {                  /* reported after the records before it */
            submit(s, b);
            b = batch_get(s, file);
            drain(s, true, 0);
            report(s, file, rec.line, "read-error", err.msg);
            break;
        }
        srec *x = add_rec(b, &rec);
        if (rc == AW_EPARSE || rc == AW_ELIMIT) {
            x->kind = rc == AW_ELIMIT ? "record-too-large" : "bad-record";
            x->msg = put_str(b, err.msg, strlen(err.msg));
        } else if (!s->threaded) {          /* evaluated as read: no copy kept */
            x->len = rec.len;
            b->dlen += rec.len;
            eval_record(&s->w[0], b, x, rec.data, PREP_ORDERED, rec.taken);
        } else {
            aw_grow((void **)&b->data, &b->dcap, b->dlen + rec.len, 1);
            memcpy(b->data + b->dlen, rec.data, rec.len);
            x->off = b->dlen;
            x->len = rec.len;
            b->dlen += rec.len;
        }
        if (b->dlen >= BATCH_BYTES || b->nrecs >= BATCH_RECORDS) {
            submit(s, b);
            b = batch_get(s, file);
            draw(s, r, false);
        }
    }
    submit(s, b);
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
