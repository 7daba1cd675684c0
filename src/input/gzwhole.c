/* gzwhole.c - gzip files read whole, their members decoded by libdeflate.
 *
 * CloudTrail delivers one gzip file per account, region and 5 minutes:
 * small files, decoded start to end. libdeflate decodes a whole member
 * from memory two to three times as fast as zlib's streaming inflate
 * and checks its CRC-32 with carry-less multiplication, but needs the
 * member in memory and room for all of its output. So a regular file up
 * to AW_GZ_WHOLE_MAX bytes is read whole, each member is decoded into
 * one buffer (its size guessed from the file's last ISIZE, doubled while
 * too small, up to AW_GZ_MEMBER_MAX), and handed out from there. A member
 * libdeflate rejects (damaged, truncated) or that would decode to more
 * than AW_GZ_MEMBER_MAX goes to the streaming decoder (ISA-L), which carries
 * on from that member to the end of the file: the records before the
 * damage and the error message are those of the streaming path. Both
 * buffers are kept for the next file (keep.c). A reader may take a
 * decoded member's buffer whole (aw_gz_whole_give; the decoder thread's
 * aw_dthread_give): its chunks are then cut from it in place, and the
 * next member is decoded into another buffer. */
#include <errno.h>
#include <libdeflate.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "input/input_int.h"

static uint64_t isize_of(const unsigned char *t)
{
    return (uint64_t)t[0] | (uint64_t)t[1] << 8 | (uint64_t)t[2] << 16 | (uint64_t)t[3] << 24;
}

/* The file's size if it is one aw_gz_whole_open takes: regular, and no
 * larger than AW_GZ_WHOLE_MAX from where the reader stands; -1 if not. */
static off_t whole_size(const aw_src *s)
{
    struct stat st;
    if (fstat(s->fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > (off_t)AW_GZ_WHOLE_MAX)
        return -1;
    off_t pos = lseek(s->fd, 0, SEEK_CUR);
    return pos < 0 || pos > st.st_size ? -1 : st.st_size;
}

int aw_gz_whole_probe(const aw_src *s, uint64_t *isize)
{
    unsigned char t[4];
    off_t size = whole_size(s);
    if (size < 0)
        return 0;
    *isize = 0;
    if (size >= 18 && pread(s->fd, t, 4, size - 4) == 4)
        *isize = isize_of(t);
    return 1;
}

int aw_gz_whole_open(aw_src *s, aw_errbuf *err)
{
    off_t size = whole_size(s), pos;
    if (size < 0 || (pos = lseek(s->fd, 0, SEEK_CUR)) < 0)
        return 0;
    size_t cap, have = s->raw_len;
    unsigned char *buf = aw_keep_take(AW_KEEP_RAW, s->raw_len + (size_t)(size - pos) + 1, &cap);
    if (!buf)
        return 0;                       /* stream instead */
    memcpy(buf, s->raw, s->raw_len);
    while (!s->raw_eof) {               /* to the end, even if the file grew */
        if (have == cap) {
            unsigned char *nb = realloc(buf, cap * 2);
            if (!nb) {
                aw_keep_give(AW_KEEP_RAW, buf, cap);
                aw_errbuf_set(err, "out of memory reading a gzip file");
                return -1;
            }
            buf = nb;
            cap *= 2;
        }
        ssize_t n;
        do
            n = read(s->fd, buf + have, cap - have);
        while (n < 0 && errno == EINTR);
        if (n < 0) {
            aw_keep_give(AW_KEEP_RAW, buf, cap);
            aw_errbuf_set(err, "read failed: %s", strerror(errno));
            return -1;
        }
        if (n == 0)
            s->raw_eof = 1;
        have += (size_t)n;
        s->bytes_in += (uint64_t)n;
    }
    aw_keep_give(AW_KEEP_RAW, s->raw, s->raw_cap);
    s->raw = buf;                       /* the streaming decoder takes over from here if need be */
    s->raw_cap = cap;
    s->raw_pos = 0;
    s->raw_len = have;
    s->ld = libdeflate_alloc_decompressor();
    s->whole = s->ld != NULL;
    return s->whole;
}

/* The streaming decoder from the member at raw_pos on, or, if the byte
 * there starts no member, from there as garbage after one (it words the
 * error). */
static void to_stream(aw_src *s)
{
    s->whole = 0;
    s->dec_pos = s->dec_len = 0;
    s->gz_between = 1;              /* a member starts, or garbage */
}

static int grow_dec(aw_src *s, size_t want)
{
    if (s->dec_cap >= want)
        return 1;
    if (!s->dec) {
        s->dec = aw_keep_take(AW_KEEP_DECODED, want, &s->dec_cap);
        return s->dec != NULL;
    }
    char *nb = realloc(s->dec, want);
    if (!nb)
        return 0;
    s->dec = nb;
    s->dec_cap = want;
    return 1;
}

/* The member at raw_pos decoded into dec: 1; 0 at the end of the file;
 * -1 when it is the streaming decoder's from here on (to_stream done). */
static int member_next(aw_src *s)
{
    if (s->raw_pos == s->raw_len)
        return 0;
    if (s->raw[s->raw_pos] != 0x1f) {
        to_stream(s);
        return -1;
    }
    /* the last member's ISIZE ends the file: exact for one member */
    size_t in = s->raw_len - s->raw_pos, want = 1u << 20, used = 0, out = 0;
    uint64_t isize = in >= 18 ? isize_of(s->raw + s->raw_len - 4) : 0;
    if (isize + 1 > want)
        want = (size_t)isize + 1;
    if (want < s->dec_cap)
        want = s->dec_cap;
    for (;;) {
        if (want > AW_GZ_MEMBER_MAX)
            want = AW_GZ_MEMBER_MAX;
        if (!grow_dec(s, want)) {
            to_stream(s);
            return -1;
        }
        enum libdeflate_result r =
            libdeflate_gzip_decompress_ex(s->ld, s->raw + s->raw_pos, in, s->dec, want, &used, &out);
        if (r == LIBDEFLATE_SUCCESS)
            break;
        if (r != LIBDEFLATE_INSUFFICIENT_SPACE || want == AW_GZ_MEMBER_MAX) {
            to_stream(s);
            return -1;
        }
        want *= 2;
    }
    s->raw_pos += used;
    s->dec_pos = 0;
    s->dec_len = out;
    return 1;
}

ssize_t aw_gz_whole_read(aw_src *s, char *dst, size_t cap, aw_errbuf *err)
{
    for (;;) {
        if (s->dec_pos < s->dec_len) {
            size_t k = aw_src_take(s->dec, &s->dec_pos, s->dec_len, dst, cap);
            s->bytes_out += k;
            return (ssize_t)k;
        }
        int m = member_next(s);
        if (m == 0)
            return 0;
        if (m < 0)
            return aw_src_read_gzip(s, dst, cap, err);
    }
}

int aw_gz_whole_lend(aw_src *s, const char **p, size_t *n)
{
    if (!s->whole)
        return -1;
    while (s->dec_pos == s->dec_len) {  /* an empty member: the next */
        int m = member_next(s);
        if (m <= 0)
            return m;                   /* the end, or the streaming decoder's from here (-1) */
    }
    *p = s->dec + s->dec_pos;
    *n = s->dec_len - s->dec_pos;
    s->dec_pos = s->dec_len;
    s->bytes_out += *n;
    return 1;
}

aw_hold *aw_gz_whole_detach(aw_src *s, const char *p)
{
    aw_hold *h;
    if (p != s->dec || !(h = aw_hold_new(AW_KEEP_DECODED, s->dec, s->dec_cap)))
        return NULL;
    s->dec = NULL;                      /* the next member: another buffer */
    s->dec_cap = s->dec_pos = s->dec_len = 0;
    return h;
}

int aw_gz_whole_give(aw_src *s, const char **p, size_t *n, aw_hold **h, int *last)
{
    if (!s->whole || s->dec_pos < s->dec_len)
        return 0;                       /* a member partly read: read on */
    do {                                /* (an empty member: the next) */
        if (member_next(s) <= 0)
            return 0;                   /* the end, or the streaming decoder's from here */
    } while (s->dec_len == 0);
    size_t len = s->dec_len;
    *p = s->dec;
    if (!(*h = aw_gz_whole_detach(s, *p)))
        return 0;                       /* read from dec as before */
    *n = len;
    *last = s->raw_pos == s->raw_len;
    s->bytes_out += len;
    return 1;
}

void aw_gz_whole_close(aw_src *s)
{
    libdeflate_free_decompressor(s->ld);
    aw_keep_give(AW_KEEP_DECODED, s->dec, s->dec_cap);
    s->ld = NULL;
    s->dec = NULL;
    s->dec_cap = 0;
}
