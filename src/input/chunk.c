/* chunk.c - handing the input out in chunks, to be framed on other
 * threads (aw_input.h: aw_reader_chunk and the chunk reader).
 *
 * A chunk ends where a line that starts with '{' follows. With no array
 * or envelope open, the framer stands between records there whatever
 * the state before it: a record still open is cut short by that line
 * (SC_NEWREC), a raw newline in a string resynchronises at it, and
 * between records it is the next value. So a chunk is framed alone from
 * "between records, top level"; a chunk reader stops at its end, where
 * the next chunk's '{' is, before acting on it, and its state there is
 * the next chunk's true start. */
#include <stdlib.h>
#include <string.h>

#include "input/input_int.h"

/* The cut in p[0..avail): the offset of the last line start that is a
 * '{' before want, or else the first one after it, with *nl the
 * newlines before it; 0 if there is none. *nl_all: the newlines in
 * p[0..avail) when no cut was found at or after want. */
static size_t find_cut(const char *p, size_t avail, size_t want, uint64_t *nl, uint64_t *nl_all)
{
    size_t ls = 0, cut = 0;
    uint64_t n = 0;
    const char *q;
    while ((q = memchr(p + ls, '\n', avail - ls)) != NULL) {
        n++;
        ls = (size_t)(q - p) + 1;
        if (ls < avail && p[ls] == '{') {
            cut = ls;
            *nl = n;
            if (ls >= want)
                break;
        }
    }
    *nl_all = n;
    return cut;
}

aw_status aw_reader_chunk(aw_reader *r, size_t want, aw_chunk *c, aw_errbuf *err)
{
    c->len = 0;
    c->line = r->line;
    if (r->io_failed)
        return AW_EIO;
    if (r->st == AW_FR_END)
        return AW_EOF;
    if (r->st != AW_FR_TOP || r->in_array || !r->bom_done || r->stop != SIZE_MAX)
        return AW_OK;
    int k = aw_fr_skip_ws(r, err);
    if (k == 0)
        return AW_EOF;
    if (k > 0 && r->buf[r->pos] != '{')
        return AW_OK;
    size_t elen;
    uint64_t enl;
    if (k > 0 && r->end - r->pos < want && !r->eof && aw_reader_fill(r, r->pos, err) != AW_OK)
        k = -1;
    if (k > 0 && (k = aw_fr_envelope_at(r, &elen, &enl, err)) == 1)
        return AW_OK;                   /* an envelope: the stream frames it */
    if (k < 0) {
        r->io_failed = 1;
        return AW_EIO;
    }
    const char *p = r->buf + r->pos;
    size_t avail = r->end - r->pos;
    uint64_t nl = 0, nl_all;
    size_t cut = find_cut(p, avail, want, &nl, &nl_all);
    c->eof = 0;
    if (r->eof && cut < want) {
        cut = avail;                    /* the rest of the input */
        nl = nl_all;
        c->eof = 1;
    }
    if (cut == 0)
        return AW_OK;
    c->data = p;
    c->len = cut;
    c->line = r->line;
    r->pos += cut;
    r->line += nl;
    r->bol = 1;
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

void aw_reader_resume(aw_reader *r, const aw_fstate *s, uint64_t recno)
{
    r->st = s->st;
    r->in_array = s->in_array;
    r->resynced = s->resynced;
    r->bol = s->bol;
    r->arr_line = s->arr_line;
    r->recno = recno;
}
