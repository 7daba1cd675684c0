/* input_int.h - private to src/input: the byte source (file descriptor
 * plus optional gzip/zstd decoder) and the reader/framer state. */
#ifndef AW_INPUT_INT_H
#define AW_INPUT_INT_H

#include <stdint.h>
#include <string.h>
#include <sys/types.h>
#include <zstd.h>

#include "aupwatch/aw_input.h"

#define AW_IN_CHUNK     (1u << 20)  /* bytes asked of the source per read */
#define AW_IN_RAW_CAP   (256u << 10) /* compressed input buffer */
#define AW_IN_FIRST_READ 4096       /* the first read, for the magic number */
#define AW_DEC_OUT      (128u << 10) /* room for each gzip (streamed) or zstd decoding call */
/* An envelope and the rest of the input, up to this, is one chunk
 * (chunk.c): CloudTrail's files, a few KB to a few MB each, go to the
 * workers whole instead of being framed by the thread that cuts. */
#define AW_IN_ENVELOPE_CHUNK (4u << 20)
#define AW_FR_MAX_DEPTH 1024        /* framer nesting limit */

/* A byte source: reads an fd and decompresses when a magic number says
 * so. Defined in decompress.c. */
typedef struct aw_src {
    int fd;
    aw_compression comp;
    unsigned char *raw;         /* undecoded input: raw[pos..len) */
    size_t raw_pos, raw_len, raw_cap;
    int raw_eof;
    struct inflate_state *gz;   /* ISA-L's streaming decoder (87 KB),
                                   allocated at its first use */
    int gz_between;             /* a gzip member just ended */
    int gz_err;                 /* its error, returned after the bytes before it */
    ZSTD_DStream *zs;
    size_t zs_hint;             /* last ZSTD_decompressStream result */
    size_t zs_err;              /* its error, returned after the bytes before it */
    char *zb;                   /* the decoder's output when the caller has less room (dec_room) */
    size_t zb_pos, zb_len;
    /* gzip file read whole (gzwhole.c): members decoded by libdeflate */
    int whole;                  /* in use; 0 once it fell back to streaming */
    struct libdeflate_decompressor *ld;
    char *dec;                  /* the current member, decoded */
    size_t dec_pos, dec_len, dec_cap;
    uint64_t bytes_in, bytes_out;   /* the decoder's */
    uint64_t seen_in, seen_out;     /* as of the bytes aw_src_read returned */
    struct aw_dthread *dt;          /* decoding thread, or NULL */
    int solo;                       /* for one thread (aw_reader_solo): no decoder thread */
    int whole_pending;              /* solo: aw_gz_whole_open at the first read */
} aw_src;

/* Detect the compression from the first bytes of fd; with decode_thread,
 * a compressed stream is decoded on a thread of its own (dthread.c),
 * unless it is a gzip file read whole whose last member decodes to at
 * most solo_max bytes (0: none), read whole at the first read instead;
 * s->solo is set for it and for a plain regular file of at most
 * solo_max bytes. AW_EIO on error. */
aw_status aw_src_open(aw_src *s, int fd, int decode_thread, uint64_t solo_max, aw_errbuf *err);
/* Up to cap decoded bytes into dst: >0 bytes, 0 at end, -1 on error
 * (err set: read failure, corrupt or truncated compressed stream). */
ssize_t aw_src_read(aw_src *s, char *dst, size_t cap, aw_errbuf *err);
/* Before the first read or lend: a solo file is read whole (on the
 * thread that reads it, not at open). 0, or -1 (err set) if that fails. */
int aw_src_ready(aw_src *s, aw_errbuf *err);
void aw_src_close(aw_src *s);
/* The decoding step itself (the thread's body, or inline). */
ssize_t aw_src_decode(aw_src *s, char *dst, size_t cap, aw_errbuf *err);

/* A regular gzip file up to AW_GZ_WHOLE_MAX bytes is read whole and its
 * members decoded by libdeflate (gzwhole.c); a member it cannot decode
 * (damaged, or over AW_GZ_MEMBER_MAX decoded) goes to the streaming decoder from there
 * on, so errors read as they do from the streaming path. */
#define AW_GZ_WHOLE_MAX  (16u << 20)
#define AW_GZ_MEMBER_MAX (64u << 20)
int aw_gz_whole_open(aw_src *s, aw_errbuf *err);     /* 1 taken, 0 not, -1 error */
/* Would aw_gz_whole_open take the file? 1 with *isize the decoded size
 * of its last member (its ISIZE trailer: exact for a file of one member,
 * modulo 4 GiB; 0 for a file under 18 bytes), read with pread. */
int aw_gz_whole_probe(const aw_src *s, uint64_t *isize);
/* The streaming gzip decoder (decompress.c), from raw[raw_pos..);
 * aw_src_gz_member makes it start a member there (0, -1 out of memory). */
ssize_t aw_src_read_gzip(aw_src *s, char *dst, size_t cap, aw_errbuf *err);
int aw_src_gz_member(aw_src *s);
ssize_t aw_gz_whole_read(aw_src *s, char *dst, size_t cap, aw_errbuf *err);
/* The rest of the current member, or the next member decoded, lent in
 * place (*p, *n; counted as read): 1. The span stays valid until the
 * next call that decodes. 0 at the end of the file; -1 when the file is
 * not (or no longer) decoded whole: aw_src_decode reads it. */
int aw_gz_whole_lend(aw_src *s, const char **p, size_t *n);
void aw_gz_whole_close(aw_src *s);

typedef struct aw_dthread aw_dthread;
aw_dthread *aw_dthread_start(aw_src *s);   /* NULL if no thread could start */
ssize_t aw_dthread_read(aw_dthread *t, aw_src *s, char *dst, size_t cap, aw_errbuf *err);
int aw_dthread_give(aw_dthread *t, aw_src *s, const char **p, size_t *n, aw_hold **h, int *last);
void aw_dthread_stop(aw_dthread *t);       /* NULL is a no-op */

/* Large buffers kept from one file for the next (keep.c): their pages
 * are faulted in once, not once a file. take returns a buffer of at
 * least want bytes (*cap its size), NULL when out of memory; give keeps
 * it, or frees it when enough of its kind are kept (NULL: no-op). */
typedef enum aw_keep_kind {
    AW_KEEP_CHUNK,              /* the decoder thread's chunks */
    AW_KEEP_RAW,                /* compressed input (a file read whole) */
    AW_KEEP_DECODED,            /* a gzip member decoded whole */
    AW_KEEP_KINDS
} aw_keep_kind;
void *aw_keep_take(aw_keep_kind kind, size_t want, size_t *cap);
void aw_keep_give(aw_keep_kind kind, void *p, size_t cap);
/* A shared buffer (aw_input.h) over p[0..cap), given back to its kind at
 * the last release; NULL when out of memory (p stays the caller's). One
 * reference. (keep.c) */
aw_hold *aw_hold_new(aw_keep_kind kind, void *p, size_t cap);

/* The next gzip member decoded whole, its buffer handed over rather than
 * copied: *p, *n its bytes (counted as read), *h the caller's reference,
 * *last set when nothing follows it. 1; 0 when the next bytes are not
 * such a member (part of one read already, a streamed gzip or zstd, the
 * end): nothing is consumed, aw_src_read reads them. (decompress.c,
 * gzwhole.c, dthread.c) */
int aw_src_lend(aw_src *s, const char **p, size_t *n, aw_hold **h, int *last);
int aw_gz_whole_give(aw_src *s, const char **p, size_t *n, aw_hold **h, int *last);
/* The decoded member's buffer, if p is its start, handed over as a
 * shared buffer (the next member is decoded into another); NULL if p is
 * not its start or out of memory (nothing changed). (gzwhole.c) */
aw_hold *aw_gz_whole_detach(aw_src *s, const char *p);

/* Framer states (framer.c). */
enum {
    AW_FR_TOP,          /* between top-level values */
    AW_FR_ELEM,         /* in an array: expecting an element or ']' */
    AW_FR_AFTER_ELEM,   /* in an array: expecting ',' or ']' */
    AW_FR_REC,          /* inside a record being kept */
    AW_FR_SKIP,         /* inside an oversized record being skipped */
    AW_FR_RESYNC,       /* looking for the next line starting with '{' */
    AW_FR_ENV_TAIL,     /* after the Records array: expecting '}' */
    AW_FR_END,          /* nothing more to return */
};

struct aw_reader {
    char *path;
    int fd, own_fd;
    aw_src src;
    size_t max_record;
    char *buf;                  /* data: buf[0..end), scanned up to pos */
    size_t cap, maxcap, pos, end;
    int eof;                    /* source exhausted */
    int io_failed;              /* AW_EIO returned: stay failed */

    int st;                     /* AW_FR_* */
    int in_array;               /* 0 top level, 1 array, 2 Records envelope */
    int after_st;               /* state after the current record */
    int resynced;               /* just resynchronised at a '{' line */
    int bol;                    /* pos is at the start of a line */
    int bom_done;
    uint64_t line, recno, arr_line;
    aw_line_fn line_fn;         /* aw_reader_set_line_fn */
    void *line_ud;
    aw_move_fn move_fn;         /* aw_reader_set_move_fn */
    void *move_ud;
    size_t line_next;           /* buf offset before which no line is
                                   offered again (one offer per line) */
    size_t stop;                /* a chunk reader (chunk.c) stops between
                                   records here; SIZE_MAX otherwise */
    int borrowed;               /* buf is the caller's (chunk reader) */
    int defer_lines;            /* chunks do not advance `line` (chunk.c) */
    int fill_failed;            /* aw_reader_fill failed: it says so again */
    aw_hold *hold;              /* buf is this shared gzip member (lent mode,
                                   reader.c): never moved or written */
    char *own;                  /* the reader's own buffer meanwhile */
    size_t own_cap;
    aw_errbuf fill_err;

    uint64_t dropped;           /* bytes moved out of buf's front so far */
    size_t fill_span;           /* nonzero: a fill reads only up to this
                                   many bytes past pos (chunks handed
                                   over with their buffer, chunk.c) */
    /* current record scan */
    size_t rec_start;
    uint64_t rec_abs;           /* its start in the stream (dropped + offset) */
    int oversized;              /* over max_record: skipped, reported at its end */
    uint64_t rec_line;
    int depth, in_str, esc, nl_pending, scalar;
    uint64_t stk[AW_FR_MAX_DEPTH / 64]; /* bit set: '[' at that level */
};

/* Hand out decoded bytes: copies up to cap bytes of buf[*pos..len) to
 * dst and advances *pos. Returns the count (0 when buf is drained). */
static inline size_t aw_src_take(const void *buf, size_t *pos, size_t len, char *dst, size_t cap)
{
    size_t k = len - *pos;
    if (k > cap)
        k = cap;
    memcpy(dst, (const char *)buf + *pos, k);
    *pos += k;
    return k;
}

/* Skip whitespace, refilling. 1: a byte is at pos; 0: end of input;
 * -1: read error. (framer.c) */
int aw_fr_skip_ws(aw_reader *r, aw_errbuf *err);
/* Skip a UTF-8 byte order mark at the input's start (pos), once;
 * AW_EIO on a read error. (framer.c) */
aw_status aw_fr_skip_bom(aw_reader *r, aw_errbuf *err);
/* Is pos (a '{') the start of {"Records": [ ? 1 yes (*len = bytes up to
 * and including '[', *nl = newlines in them), 0 no, -1 read error.
 * (framer.c) */
int aw_fr_envelope_at(aw_reader *r, size_t *len, uint64_t *nl, aw_errbuf *err);
/* The same test on from[0..to - from), from[0] a '{': 1 yes, 0 no, 2
 * not decided by these bytes (more may follow: neither eof nor over
 * AW_FR_ENVELOPE_LOOK bytes seen). (framer.c) */
#define AW_FR_ENVELOPE_LOOK 4096
int aw_fr_envelope_in(const char *from, const char *to, int eof, size_t *len, uint64_t *nl);

/* Make more bytes available: keeps buf[keep..end) (moved to the front),
 * grows the buffer up to maxcap, reads. Sets r->eof at end of input.
 * AW_OK or AW_EIO (every later call then fails the same way). */
aw_status aw_reader_fill(aw_reader *r, size_t keep, aw_errbuf *err);
/* The offsets' side of dropping buf[0..keep): the bytes themselves are
 * moved (fill) or copied to another buffer (chunk.c) by the caller. */
void aw_reader_shift(aw_reader *r, size_t keep);

#endif
