/* range.c - chunks of a regular file read by the threads that frame
 * them (aw_input.h: aw_reader_range and the aw_range_* functions).
 *
 * Handing chunks over (chunk.c) still has one thread read() every byte;
 * on many cores that thread is what the others wait for. A regular,
 * uncompressed file can be read anywhere with pread, so the calling
 * thread only finds where chunks are cut, reading a few kilobytes
 * around each boundary, and each worker reads its own chunk. Cuts are
 * where chunk.c cuts: a line that starts with '{' (there the framer
 * stands between records whatever came before, unless an array or an
 * envelope is open, which the chunk's end state tells), and a cut that
 * starts a Records envelope ends the ranges, as it ends chunks: the
 * stream reader frames it. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "input/input_int.h"

#define RANGE_WINDOW (8u << 10)        /* bytes read per look for a cut */

int aw_reader_range(aw_reader *r, size_t want, aw_range *rg)
{
    struct stat sb;
    if (!r->own_fd || r->src.comp != AW_COMP_NONE || r->io_failed || r->fill_failed ||
        r->st != AW_FR_TOP || r->in_array || !r->bom_done || r->stop != SIZE_MAX ||
        r->pos >= r->end || r->buf[r->pos] != '{' || !r->bol)
        return 0;
    if (fstat(r->fd, &sb) != 0 || !S_ISREG(sb.st_mode))
        return 0;
    size_t elen;
    uint64_t enl;
    aw_errbuf err;
    if (aw_fr_envelope_at(r, &elen, &enl, &err) != 0)
        return 0;                       /* an envelope, or a failed read: the stream's */
    uint64_t pos = r->dropped + r->pos;
    if ((uint64_t)sb.st_size < pos || (uint64_t)sb.st_size - pos < 2 * (uint64_t)want)
        return 0;
    int fd = dup(r->fd);
    if (fd < 0)
        return 0;                       /* the stream reader goes on */
    rg->fd = fd;
    rg->path = r->path;
    rg->pos = pos;
    rg->size = (uint64_t)sb.st_size;
    rg->line = r->line;
    return 1;
}

void aw_range_close(aw_range *rg)
{
    if (rg->fd >= 0)
        close(rg->fd);
    rg->fd = -1;
}

/* Up to n bytes at off into dst: the count (short only at the file's
 * end), or -1 with err set. */
static ssize_t read_at(const aw_range *rg, uint64_t off, char *dst, size_t n, aw_errbuf *err)
{
    size_t got = 0;
    while (got < n) {
        ssize_t k = pread(rg->fd, dst + got, n - got, (off_t)(off + got));
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0) {
            aw_errbuf_set(err, "%s: read failed: %s", rg->path, strerror(errno));
            return -1;
        }
        if (k == 0)
            break;
        got += (size_t)k;
    }
    return (ssize_t)got;
}

aw_status aw_range_read(const aw_range *rg, uint64_t off, char *dst, size_t n, aw_errbuf *err)
{
    ssize_t k = read_at(rg, off, dst, n, err);
    if (k < 0)
        return AW_EIO;
    if ((size_t)k < n) {
        aw_errbuf_set(err, "%s: read failed: the file shrank while it was read (%llu bytes at offset %llu)",
                      rg->path, (unsigned long long)n, (unsigned long long)off);
        return AW_EIO;
    }
    return AW_OK;
}

/* Does the line start at `at` (a '{') open a Records envelope? 1 yes,
 * 0 no, -1 read error. p[0..n) are the bytes from there already read:
 * most lines are decided by their first few. */
static int envelope_at(const aw_range *rg, uint64_t at, const char *p, size_t n, aw_errbuf *err)
{
    char buf[AW_FR_ENVELOPE_LOOK + 64];
    size_t len;
    uint64_t nl;
    int k = aw_fr_envelope_in(p, p + n, at + n >= rg->size, &len, &nl);
    if (k != 2)
        return k;
    size_t want = rg->size - at < sizeof buf ? (size_t)(rg->size - at) : sizeof buf;
    ssize_t got = read_at(rg, at, buf, want, err);
    if (got < 0)
        return -1;
    return got > 0 && aw_fr_envelope_in(buf, buf + got, at + (uint64_t)got >= rg->size, &len, &nl) == 1;
}

aw_status aw_range_cut(const aw_range *rg, uint64_t from, size_t limit, uint64_t *cut, int *envelope,
                       aw_errbuf *err)
{
    char buf[RANGE_WINDOW];
    *envelope = 0;
    if (from <= rg->pos || from >= rg->size) {
        *cut = rg->size;
        return AW_OK;
    }
    /* a cut at q needs byte q - 1 to be a newline: look from from - 1 */
    for (uint64_t at = from - 1; at < rg->size;) {
        if (at - (from - 1) > limit)
            return AW_ELIMIT;
        size_t want = rg->size - at < sizeof buf ? (size_t)(rg->size - at) : sizeof buf;
        ssize_t n = read_at(rg, at, buf, want, err);
        if (n < 0)
            return AW_EIO;
        if ((size_t)n < want) {
            aw_errbuf_set(err, "%s: read failed: the file shrank while it was read (at offset %llu)",
                          rg->path, (unsigned long long)(at + (uint64_t)n));
            return AW_EIO;
        }
        if (n < 2)
            break;                      /* the file's last byte: no line starts after it */
        const char *p = buf, *e = buf + n - 1, *q;
        while (p < e && (q = memchr(p, '\n', (size_t)(e - p))) != NULL) {
            if (q[1] == '{') {
                *cut = at + (uint64_t)(q + 1 - buf);
                if (*cut - from > limit)
                    return AW_ELIMIT;
                int k = envelope_at(rg, *cut, q + 1, (size_t)(buf + n - (q + 1)), err);
                if (k < 0)
                    return AW_EIO;
                *envelope = k;
                return AW_OK;
            }
            p = q + 1;
        }
        at += (uint64_t)n - 1;          /* the last byte again: it may end a line */
    }
    *cut = rg->size;
    return AW_OK;
}
