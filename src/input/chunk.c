/* chunk.c - handing the input out in chunks, to be framed on other
 * threads (aw_input.h: aw_reader_chunk, aw_reader_chunk_swap and the
 * chunk reader). aw_reader_chunk_swap hands a chunk over in the buffer
 * it was read into, taking the caller's buffer in exchange, so the
 * input is not copied on its way to the threads.
 *
 * A chunk ends where a line that starts with '{' follows. With no array
 * or envelope open, the framer stands between records there whatever
 * the state before it: a record still open is cut short by that line
 * (SC_NEWREC), a raw newline in a string resynchronises at it, and
 * between records it is the next value. So a chunk is framed alone from
 * "between records, top level"; a chunk reader stops at its end, where
 * the next chunk's '{' is, before acting on it, and its state there is
 * the next chunk's true start. An envelope is handed out whole with
 * the rest of the input, when that is short enough, or not at all.
 * From a gzip member decoded whole (the reader's lent mode, reader.c),
 * chunks are cut in place and share its buffer (aw_hold). */
#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "input/input_int.h"

/* (aw_input.h) */
uint64_t aw_input_newlines(const char *p, size_t n)
{
    uint64_t c = 0;
    size_t i = 0;
#ifdef __SSE2__
    const __m128i nl = _mm_set1_epi8('\n'), zero = _mm_setzero_si128();
    while (n - i >= 16) {
        /* each match subtracts 1 from its byte lane: at most 255 rounds */
        __m128i acc = zero;
        size_t end = i + 255 * 16 < n ? i + 255 * 16 : n - (n - i) % 16;
        for (; i < end; i += 16)
            acc = _mm_sub_epi8(acc, _mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(const void *)(p + i)), nl));
        __m128i sum = _mm_sad_epu8(acc, zero);
        c += (uint64_t)_mm_cvtsi128_si64(sum) + (uint64_t)_mm_cvtsi128_si64(_mm_unpackhi_epi64(sum, sum));
    }
#endif
    for (; i < n; i++)
        c += p[i] == '\n';
    return c;
}

/* The cut in p[0..avail): the last line start that is a '{' within the
 * first `want` bytes, or else the first one after them; 0 if none. */
static size_t find_cut(const char *p, size_t avail, size_t want)
{
    size_t lim = want < avail ? want : avail;
    const char *q;
    while (lim > 0 && (q = memrchr(p, '\n', lim)) != NULL) {
        size_t ls = (size_t)(q - p) + 1;
        if (ls < avail && p[ls] == '{')
            return ls;
        lim = (size_t)(q - p);
    }
    for (size_t from = want < avail ? want : avail; (q = memchr(p + from, '\n', avail - from)) != NULL;) {
        size_t ls = (size_t)(q - p) + 1;
        if (ls < avail && p[ls] == '{')
            return ls;
        from = ls;
    }
    return 0;
}

/* Hand the chunk just cut (buf[0..pos)) over with the buffer: the
 * bytes after it go to *buf (grown to hold them and a chunk more), which
 * becomes the reader's; the old buffer is returned in *buf. 0, or -1 if
 * out of memory (the caller fails the reader: the chunk is lost, as
 * the bytes after a read error are). */
static int hand_over(aw_reader *r, size_t want, char **buf, size_t *cap, aw_errbuf *err)
{
    size_t rest = r->end - r->pos, need = rest + want + 1;
    char *nb = *buf;
    size_t ncap = *cap;
    if (ncap < need) {                  /* its old bytes are not wanted: no realloc copy */
        free(nb);
        *buf = NULL;
        *cap = 0;
        if (!(nb = malloc(need))) {
            aw_errbuf_set(err, "%s: out of memory (buffer of %zu bytes)", r->path, need);
            return -1;
        }
        ncap = need;
    }
    memcpy(nb, r->buf + r->pos, rest);
    *buf = r->buf;
    *cap = r->cap;
    aw_reader_shift(r, r->pos);
    r->buf = nb;
    r->cap = ncap;
    return 0;
}

/* Read until n bytes from pos are buffered or the input ends, n at most
 * half the buffer's limit (max_record and two reads): a fill adds at
 * most half a read, so the buffer never fills up. 0, or -1 after a
 * failed read (which the stream meets again where it would). */
static int fill_to(aw_reader *r, size_t n, aw_errbuf *err)
{
    if (n > r->maxcap / 2)
        n = r->maxcap / 2;
    while (r->end - r->pos < n && !r->eof)
        if (aw_reader_fill(r, r->pos, err) != AW_OK)
            return -1;
    return 0;
}

/* Cut the next chunk (aw_reader_chunk); with `swap`, the chunk starts
 * at buf[0] (the bytes before it are dropped first) and r->pos is its
 * end. */
static aw_status chunk_cut(aw_reader *r, size_t want, aw_chunk *c, int swap, aw_errbuf *err)
{
    c->len = 0;
    c->line = r->line;
    c->hold = NULL;
    if (r->io_failed) {
        aw_errbuf_set(err, "%s: reading stopped after an earlier error", r->path);
        return AW_EIO;
    }
    if (r->st == AW_FR_END)
        return AW_EOF;
    if (r->st != AW_FR_TOP || r->in_array || r->stop != SIZE_MAX)
        return AW_OK;
    if (!r->bom_done && aw_fr_skip_bom(r, err) != AW_OK)
        return AW_OK;                   /* (as below: the stream meets the failure) */
    /* A failed read is not reported here: the records before it are
     * still to be framed, by aw_reader_next, which meets the failure
     * again (aw_reader_fill repeats it) where the stream would. */
    int k = aw_fr_skip_ws(r, err);
    if (k == 0)
        return AW_EOF;
    if (k < 0 || r->buf[r->pos] != '{')
        return AW_OK;
    size_t elen;
    uint64_t enl;
    /* a chunk's worth, or the end: a decoder or a pipe may hand out
     * less per read, and a chunk too short for a whole line would send
     * the caller to the stream reader */
    if (fill_to(r, want, err) != 0)
        return AW_OK;
    int env = aw_fr_envelope_at(r, &elen, &enl, err);
    if (env < 0)
        return AW_OK;                   /* a failed read */
    if (env) {
        /* An envelope ({"Records":[...]}, CloudTrail's files) has no
         * line to cut at: with the rest of the input it is one chunk if
         * that is at most AW_IN_ENVELOPE_CHUNK bytes, and at most what
         * fill_to may buffer (the chunk reader frames envelopes as the
         * stream does); longer, the stream frames it here. */
        if (fill_to(r, AW_IN_ENVELOPE_CHUNK + 1, err) != 0 || !r->eof ||
            r->end - r->pos > AW_IN_ENVELOPE_CHUNK)
            return AW_OK;
    }
    if (swap && r->pos && !r->hold) {   /* the chunk at the buffer's start */
        memmove(r->buf, r->buf + r->pos, r->end - r->pos);
        aw_reader_shift(r, r->pos);
    }
    const char *p = r->buf + r->pos;
    size_t avail = r->end - r->pos;
    size_t cut = r->eof && (avail <= want || env) ? 0 : find_cut(p, avail, want);
    c->eof = 0;
    if (cut == 0 && r->eof) {
        cut = avail;                    /* the rest of the input */
        c->eof = 1;
    }
    if (cut == 0)
        return AW_OK;
    c->data = p;
    c->len = cut;
    c->line = r->line;
    r->pos += cut;
    if (!r->defer_lines)
        r->line += aw_input_newlines(p, cut);
    r->bol = 1;
    return AW_OK;
}

aw_status aw_reader_chunk(aw_reader *r, size_t want, aw_chunk *c, aw_errbuf *err)
{
    return aw_reader_chunk_swap(r, want, c, NULL, NULL, err);
}

aw_status aw_reader_chunk_swap(aw_reader *r, size_t want, aw_chunk *c, char **buf, size_t *cap,
                               aw_errbuf *err)
{
    if (buf)
        r->fill_span = want + 1;        /* the chunk and the next one's '{' */
    aw_status st = chunk_cut(r, want, c, buf != NULL, err);
    r->fill_span = 0;
    if (st != AW_OK || !c->len || !buf)
        return st;
    if (r->hold) {                      /* cut in place: shared, not handed over */
        aw_hold_retain(r->hold);
        c->hold = r->hold;
        return AW_OK;
    }
    if (hand_over(r, want, buf, cap, err) != 0) {
        r->io_failed = 1;
        return AW_EIO;
    }
    c->data = *buf;
    return AW_OK;
}

aw_reader *aw_reader_open_chunk(const aw_chunk *c, const aw_fstate *from, size_t max_record)
{
    aw_reader *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->fd = -1;
    r->borrowed = 1;
    r->buf = (char *)(uintptr_t)c->data;
    r->end = c->len + (c->eof ? 0 : 1);     /* the next chunk's '{': the framer looks at it */
    r->cap = r->maxcap = r->end;
    r->stop = c->eof ? SIZE_MAX : c->len;
    r->eof = 1;
    r->bom_done = 1;
    r->line = c->line;
    r->max_record = max_record ? max_record : AW_INPUT_DEFAULT_MAX_RECORD;
    r->st = AW_FR_TOP;
    r->bol = 1;
    if (from) {
        r->st = from->st;
        r->in_array = from->in_array;
        r->resynced = from->resynced;
        r->bol = from->bol;
        r->arr_line = from->arr_line;
    }
    return r;
}

int aw_reader_chunk_end(const aw_reader *r, aw_fstate *end)
{
    end->st = r->st;
    end->in_array = r->in_array;
    end->resynced = r->resynced;
    end->bol = r->bol;
    end->arr_line = r->arr_line;
    return r->st == AW_FR_TOP && r->in_array == 0;
}

uint64_t aw_reader_recno(const aw_reader *r)
{
    return r->recno;
}

uint64_t aw_reader_line(const aw_reader *r)
{
    return r->line;
}

void aw_reader_defer_lines(aw_reader *r)
{
    r->defer_lines = 1;
}

void aw_reader_set_line(aw_reader *r, uint64_t line)
{
    r->line = line;
}

void aw_reader_resume(aw_reader *r, const aw_fstate *s, uint64_t recno)
{
    r->st = s->st;
    r->in_array = s->in_array;
    r->resynced = s->resynced;
    r->bol = s->bol;
    r->arr_line = s->arr_line;
    r->recno = recno;
}
