/* scan_int.h - private to the scanner: the batch, worker and scanner
 * layouts, and the batch storage all three parts use. scanner.c reads
 * the input and cuts it into batches, scan_eval.c evaluates them (on
 * the workers, or inline), scan_commit.c commits them in input order;
 * scanner.c's file-top comment says how they fit together. */
#ifndef AW_SCAN_INT_H
#define AW_SCAN_INT_H

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "aupwatch/aw_input.h"
#include "cli/scanner.h"
#include "util/arena.h"
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
/* parts of a file read whole by a worker, evaluated and not yet
 * committed, before the worker waits (batch.part) */
#define SOLO_AHEAD 16
/* the largest (decoded) file a worker takes whole: a gzip member
 * libdeflate decodes in one piece (AW_GZ_MEMBER_MAX); a larger plain file
 * is read in ranges by all the workers instead */
#define SOLO_MAX (64u << 20)
#define MAX_THREADS 64

enum { OWN_NONE, OWN_DECIDE, OWN_SERIAL };   /* srec.own_mode */

/* How prepare() treats stateful derivations: the event is prepared in
 * input order, or on a worker (recorded in spec, decided at commit). */
enum { PREP_ORDERED, PREP_SPEC };

extern const char sc_bad_json[];    /* srec.kind of a record that does not parse */

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
    uint8_t sha_bytes[32];          /* the same digest (correlation evidence) */
} srec;

typedef struct batch {
    uint64_t seq;
    const char *file;
    char *data;                     /* the records' bytes: own, or a chunk
                                       cut in place from `hold` */
    size_t dlen, dcap;
    aw_hold *hold;                  /* a gzip member shared with the reader */
    char *own;                      /* data's own buffer meanwhile */
    size_t own_cap;
    srec *recs;
    size_t nrecs, crecs;
    shit *hits;
    size_t nhits, chits;
    aw_xentry *xe;
    size_t nxe, cxe;
    char *str;
    size_t slen, scap;
    bool done;                      /* written under mu; read without it
                                       (atomic loads) by the committer */
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
    /* Unless lines_known (the first chunk since the reader was in
     * step), a chunk's first line follows from the chunks before it: it
     * is framed on line 0, its lines are added to at commit, and cline
     * set then. A range: a chunk its worker reads, bytes [roff, roff +
     * clen) of rg's file. */
    bool range, lines_known, rclose;    /* rclose: the last; commit closes rg */
    bool rfailed;                   /* the read failed: msg in str at rmsg */
    aw_range rg;
    uint64_t roff, nlines;          /* nlines: newlines in the chunk (framed) */
    size_t rmsg;
    /* A file read whole by one worker (aw_reader_solo; solo is its
     * reader till the worker closes it): the worker puts the records in
     * parts (batches of their own, chained by pnext from `part`, under
     * mu), which the committing thread commits as they come once the
     * file's batch is at the head of the ring, so a file's results need
     * not be held whole; a worker SOLO_AHEAD parts ahead waits. A part
     * is evaluated by that worker, or, while the committing thread waits
     * for the file and another worker for work, only framed (its records
     * copied) and queued for any worker.
     * In a part, records are numbered and lined by the reader; those
     * with nothing to commit (no hit, report or own_side) are not kept:
     * nplain counts them. A read error is said after the records
     * (rfailed, line cline). */
    bool is_solo;                   /* a file read whole */
    bool is_shared;                 /* a part of one framed for another worker */
    aw_reader *solo;
    struct batch *part, *part_tail, *pnext;
    int nparts;
    uint64_t nplain, solo_in, solo_out;
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
    pthread_cond_t job, fin, room;  /* room: a file's parts were committed */
    batch *awaited;                 /* the batch the committer sleeps on (fin) */
    batch *awaited_file;            /* the file read whole it waits for (or a part of) */
    /* spare parts (under mu): [0] evaluated by the file's worker, [1]
     * shared (their buffers, holding every record, are larger) */
    batch *part_free[2];
    int idle;                       /* workers waiting for a job (under mu) */
    int shared;                     /* parts queued for them, not yet taken */
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
    uint64_t chunk_line;            /* the line after the last chunk committed */
    uint64_t failed_file;           /* file_seq of a file whose range read failed */
    uint64_t range_out;             /* bytes of this file handed out in ranges */
    uint64_t solo_max;              /* aw_reader_opts.solo_max (0: no file read whole by a worker) */
    size_t part_bytes;              /* input bytes of a part of such a file */
};

/* ---- batch storage --------------------------------------------------------- */

/* n bytes at an 8-byte aligned offset of str (correlation extracts) */
static inline size_t put_bytes(batch *b, const void *p, size_t n)
{
    size_t off = (b->slen + 7) & ~(size_t)7;
    aw_grow((void **)&b->str, &b->scap, off + n, 1);
    memcpy(b->str + off, p, n);
    b->slen = off + n;
    return off;
}

static inline size_t put_str(batch *b, const char *s, size_t n)
{
    aw_grow((void **)&b->str, &b->scap, b->slen + n, 1);
    memcpy(b->str + b->slen, s, n);
    b->str[b->slen + n] = 0;
    size_t off = b->slen;
    b->slen += n + 1;
    return off;
}

static inline srec *add_rec(batch *b, const aw_record *rec)
{
    aw_grow((void **)&b->recs, &b->crecs, b->nrecs, sizeof *b->recs);
    srec *r = &b->recs[b->nrecs++];
    memset(r, 0, sizeof *r);
    r->recno = rec->recno;
    r->line = rec->line;
    return r;
}

/* Record x, framed from rc (AW_EPARSE or AW_ELIMIT), is malformed:
 * its kind and the reader's message, reported at commit. */
static inline void rec_malformed(batch *b, srec *x, aw_status rc, const aw_errbuf *err)
{
    x->kind = rc == AW_ELIMIT ? "record-too-large" : "bad-record";
    x->msg = put_str(b, err->msg, strlen(err->msg));
}

/* Queue b for the workers; under s->mu. */
static inline void sc_enqueue(aw_scanner *s, batch *b)
{
    b->next = NULL;
    if (s->queue_tail)
        s->queue_tail->next = b;
    else
        s->queue = b;
    s->queue_tail = b;
    pthread_cond_signal(&s->job);
}

/* ---- scan_eval.c: evaluation ----------------------------------------------- */

void sc_worker_init(aw_scanner *s, worker *w);
void sc_worker_fini(worker *w);
void *sc_worker_main(void *arg);         /* a worker thread: evaluates queued batches */
/* Evaluate record r of batch b, whose bytes are data; `how`: PREP_*;
 * `parsed`: the reader's line function (sc_parse_line) parsed it. */
void sc_eval_record(worker *w, batch *b, srec *r, const char *data, int how, bool parsed);
/* Frame chunk b from state `from` (NULL: between records at top level)
 * and evaluate its records. */
void sc_frame_chunk(worker *w, batch *b, const aw_fstate *from, int how);
/* The hashes of b's records with hits, then the alerts of hits
 * [h0, nhits) rendered if the worker renders. */
void sc_finish(worker *w, batch *b, size_t h0);
void sc_fill_alert(aw_alert *a, const batch *b, const srec *r, const shit *x, bool explain);
/* Read records of r into b and evaluate each (`how`: PREP_*), keeping
 * only those with something to commit (b->nplain counts the others);
 * with w NULL, only frame them, their bytes copied into b (another
 * worker evaluates them). Stops at the end (true), at a read error
 * (true; said in b: rfailed, rmsg, cline), or once b holds over
 * `budget` bytes (evaluating) or max_in bytes of records were read
 * (false: more to read). The reader's line and move functions are w's
 * meanwhile. */
bool sc_read_records(worker *w, batch *b, aw_reader *r, int how, size_t budget, uint64_t max_in);
size_t sc_parse_line(void *ud, const char *line, size_t len);  /* aw_reader_set_line_fn */
void sc_hashes_due(void *ud);                                   /* aw_reader_set_move_fn */

/* ---- scan_commit.c: commit, in input order --------------------------------- */

/* Queue batch b for the workers (committing those finished ahead of it). */
void sc_submit(aw_scanner *s, batch *b);
/* Commit the finished batches at the head of the ring, down to `keep`;
 * with `wait`, block until the head is finished first. */
void sc_drain(aw_scanner *s, bool wait, size_t keep);
/* Commit batch b of records a thread read itself (a file whole, or
 * inline), then its read error if any: not through the ring. */
void sc_commit_read(aw_scanner *s, batch *b);
void sc_batch_put(aw_scanner *s, batch *b);     /* to the free list */
/* Count and report a malformed or unreadable record. */
void sc_report(aw_scanner *s, const char *file, uint64_t line, const char *kind, const char *msg);

#endif
