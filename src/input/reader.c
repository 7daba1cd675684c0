/* reader.c - aw_reader lifecycle and buffering.
 *
 * The reader owns one growable buffer. The record being framed always
 * starts inside it; when more input is needed the unconsumed tail is
 * moved to the front and the buffer is refilled. It grows only while a
 * single record needs it, and never beyond max_record plus two read
 * chunks, so memory is flat in the input size. (Handing chunks over,
 * chunk.c trades it for the caller's buffer.) A gzip member decoded
 * whole is framed where it was decoded (lent mode, below) instead.
 * Framing is in framer.c, decoding in decompress.c. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "input/input_int.h"

aw_status aw_reader_open(aw_reader **out, const char *path,
                         const aw_reader_opts *opts, aw_errbuf *err)
{
    aw_reader *r;
    struct stat sb;
    aw_status st;
    aw_errbuf tmp;
    if (!err)
        err = &tmp;
    *out = NULL;
    r = calloc(1, sizeof *r);
    if (!r || !(r->path = strdup(path))) {
        free(r);
        aw_errbuf_set(err, "%s: out of memory", path);
        return AW_EIO;
    }
    r->max_record = opts && opts->max_record ? opts->max_record
                                             : AW_INPUT_DEFAULT_MAX_RECORD;
    if (r->max_record > SIZE_MAX / 4)
        r->max_record = SIZE_MAX / 4;
    r->maxcap = r->max_record + 2 * (size_t)AW_IN_CHUNK;
    r->line = 1;
    r->bol = 1;
    r->st = AW_FR_TOP;
    r->stop = SIZE_MAX;
    r->fd = -1;
    if (strcmp(path, "-") == 0) {
        r->fd = STDIN_FILENO;
    } else {
        r->fd = open(path, O_RDONLY | O_CLOEXEC);
        if (r->fd < 0) {
            aw_errbuf_set(err, "%s: %s", path, strerror(errno));
            aw_reader_close(r);
            return AW_EIO;
        }
        r->own_fd = 1;
    }
    if (fstat(r->fd, &sb) == 0 && S_ISDIR(sb.st_mode)) {
        aw_errbuf_set(err, "%s: is a directory", path);
        aw_reader_close(r);
        return AW_EIO;
    }
#ifdef POSIX_FADV_SEQUENTIAL
    if (r->own_fd)
        (void)posix_fadvise(r->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
#endif
    r->cap = 2 * (size_t)AW_IN_CHUNK;
    if (r->cap > r->maxcap)
        r->cap = r->maxcap;
    r->buf = malloc(r->cap);
    if (!r->buf) {
        aw_errbuf_set(err, "%s: out of memory", path);
        aw_reader_close(r);
        return AW_EIO;
    }
    if ((st = aw_src_open(&r->src, r->fd, opts && opts->decode_thread, opts ? opts->solo_max : 0, err)) != AW_OK) {
        char msg[sizeof err->msg];
        memcpy(msg, err->msg, sizeof msg);
        aw_errbuf_set(err, "%s: %s", path, msg);
        aw_reader_close(r);
        return AW_EIO;
    }
    *out = r;
    return AW_OK;
}

void aw_reader_close(aw_reader *r)
{
    if (!r)
        return;
    aw_src_close(&r->src);
    if (r->own_fd && r->fd >= 0)
        close(r->fd);
    if (r->hold) {
        aw_hold_release(r->hold);
        r->buf = r->own;
    }
    if (!r->borrowed)
        free(r->buf);
    free(r->path);
    free(r);
}

static aw_status fill(aw_reader *r, size_t keep, aw_errbuf *err);

/* A failure is final and said again on every later call: the bytes
 * before it are framed first, whichever call met it (aw_reader_chunk
 * fills ahead of the framer). */
aw_status aw_reader_fill(aw_reader *r, size_t keep, aw_errbuf *err)
{
    if (r->fill_failed) {
        *err = r->fill_err;
        return AW_EIO;
    }
    aw_status st = fill(r, keep, err);
    if (st != AW_OK) {
        r->fill_failed = 1;
        r->fill_err = *err;
    }
    return st;
}

void aw_reader_shift(aw_reader *r, size_t keep)
{
    r->dropped += keep;
    r->end -= keep;
    r->pos -= keep;
    r->rec_start = r->rec_start >= keep ? r->rec_start - keep : 0;
    r->line_next = r->line_next >= keep ? r->line_next - keep : 0;
}

/* Lent mode: buf is a gzip member decoded whole (aw_src_lend), taken
 * when the buffer is empty, so the decoded bytes are not copied; chunks
 * are cut from it in place (chunk.c). It is left, at the next fill, for
 * the reader's own buffer, into which the bytes kept are copied. */
static int lend(aw_reader *r)
{
    const char *p;
    size_t n;
    aw_hold *h;
    int last;
    if (!aw_src_lend(&r->src, &p, &n, &h, &last))
        return 0;
    r->own = r->buf;
    r->own_cap = r->cap;
    r->hold = h;
    r->buf = (char *)(uintptr_t)p;      /* read only: the framer does not write */
    r->cap = r->end = n;
    if (last)
        r->eof = 1;
    return 1;
}

static aw_status unlend(aw_reader *r, size_t keep, aw_errbuf *err)
{
    size_t rest = r->end - keep, need = rest + AW_IN_CHUNK;
    if (r->own_cap < need) {
        char *nb = realloc(r->own, need);
        if (!nb) {
            aw_errbuf_set(err, "%s: out of memory (buffer of %zu bytes)", r->path, need);
            return AW_EIO;
        }
        r->own = nb;
        r->own_cap = need;
    }
    memcpy(r->own, r->buf + keep, rest);
    aw_reader_shift(r, keep);
    aw_hold_release(r->hold);
    r->hold = NULL;
    r->buf = r->own;
    r->cap = r->own_cap;
    r->own = NULL;
    r->own_cap = 0;
    return AW_OK;
}

/* The source's error, named by the file. */
static aw_status src_failed(const aw_reader *r, aw_errbuf *err)
{
    char msg[sizeof err->msg];
    memcpy(msg, err->msg, sizeof msg);
    aw_errbuf_set(err, "%s: %s", r->path, msg);
    return AW_EIO;
}

static aw_status fill(aw_reader *r, size_t keep, aw_errbuf *err)
{
    ssize_t n;
    if (r->eof)
        return AW_OK;
    if (r->move_fn)
        r->move_fn(r->move_ud);     /* the bytes handed out are about to move */
    if (keep > r->end)
        keep = r->end;
    if (r->hold) {
        if (unlend(r, keep, err) != AW_OK)
            return AW_EIO;
    } else if (keep) {
        memmove(r->buf, r->buf + keep, r->end - keep);
        aw_reader_shift(r, keep);
    }
    if (aw_src_ready(&r->src, err) != 0)
        return src_failed(r, err);
    if (r->end == 0 && !r->borrowed && lend(r))
        return AW_OK;
    /* handing chunks over (fill_span): read no further than that past
     * pos, so the bytes after a chunk, copied to the next buffer, stay
     * few; past it (a longer record) read as usual */
    size_t room_max = SIZE_MAX, held = r->end - r->pos;
    if (r->fill_span && held < r->fill_span)
        room_max = r->fill_span - held;
    size_t room_want = room_max < AW_IN_CHUNK / 2 ? room_max : AW_IN_CHUNK / 2;
    if (r->cap - r->end < room_want && r->cap < r->maxcap) {
        size_t ncap = r->cap * 2;
        char *nb;
        if (ncap < r->end + AW_IN_CHUNK)
            ncap = r->end + AW_IN_CHUNK;
        if (ncap > r->maxcap)
            ncap = r->maxcap;
        nb = realloc(r->buf, ncap);
        if (!nb) {
            aw_errbuf_set(err, "%s: out of memory (buffer of %zu bytes)",
                          r->path, ncap);
            return AW_EIO;
        }
        r->buf = nb;
        r->cap = ncap;
    }
    if (r->end == r->cap) {
        aw_errbuf_set(err, "%s: internal error: input buffer full", r->path);
        return AW_EIO;
    }
    n = aw_src_read(&r->src, r->buf + r->end, r->cap - r->end < room_max ? r->cap - r->end : room_max, err);
    if (n < 0)
        return src_failed(r, err);
    if (n == 0)
        r->eof = 1;
    r->end += (size_t)n;
    return AW_OK;
}

aw_status aw_reader_seek(aw_reader *r, uint64_t off, uint64_t line, aw_errbuf *err)
{
    if (!r->own_fd || r->src.comp != AW_COMP_NONE || r->hold || lseek(r->fd, (off_t)off, SEEK_SET) < 0) {
        aw_errbuf_set(err, "%s: cannot seek to offset %llu: %s", r->path, (unsigned long long)off,
                      r->own_fd && r->src.comp == AW_COMP_NONE ? strerror(errno) : "not a plain file");
        r->io_failed = 1;
        return AW_EIO;
    }
    r->src.raw_pos = r->src.raw_len = 0;
    r->src.raw_eof = 0;
    r->src.bytes_in = r->src.bytes_out = r->src.seen_in = r->src.seen_out = off;
    r->dropped = off;
    r->pos = r->end = r->line_next = r->rec_start = 0;
    r->eof = 0;
    r->line = line;
    r->st = AW_FR_TOP;
    r->in_array = r->resynced = 0;
    r->bol = 1;
    return AW_OK;
}

aw_hold *aw_reader_hold(const aw_reader *r)
{
    return r->hold;
}

int aw_reader_solo(const aw_reader *r)
{
    return r->src.solo;
}

const char *aw_reader_path(const aw_reader *r)
{
    return r->path;
}

aw_compression aw_reader_compression(const aw_reader *r)
{
    return r->src.comp;
}

uint64_t aw_reader_bytes_in(const aw_reader *r)
{
    return r->src.seen_in;
}

uint64_t aw_reader_bytes_out(const aw_reader *r)
{
    return r->src.seen_out;
}
