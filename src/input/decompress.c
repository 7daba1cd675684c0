/* decompress.c - the reader's byte source: plain, gzip or zstd.
 *
 * The compression is detected from the magic number (gzip 1f 8b, zstd
 * 28 b5 2f fd), never from the file name. gzip goes through zlib with
 * automatic header detection (windowBits 15 + 32); a file may hold
 * several gzip members back to back (as `cat a.gz b.gz` makes), each is
 * decoded in turn. zstd uses the streaming API, which handles several
 * frames natively. A stream that ends inside a member or frame is an
 * error ("truncated"), as is non-gzip data after a gzip member. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "input/input_int.h"

/* Read more raw bytes when raw[] is used up. 0 ok, -1 error. */
static int raw_fill(aw_src *s, aw_errbuf *err)
{
    ssize_t n;
    if (s->raw_pos < s->raw_len || s->raw_eof)
        return 0;
    s->raw_pos = s->raw_len = 0;
    do
        n = read(s->fd, s->raw, AW_IN_RAW_CAP);
    while (n < 0 && errno == EINTR);
    if (n < 0) {
        aw_errbuf_set(err, "read failed: %s", strerror(errno));
        return -1;
    }
    if (n == 0)
        s->raw_eof = 1;
    s->raw_len = (size_t)n;
    s->bytes_in += (uint64_t)n;
    return 0;
}

aw_status aw_src_open(aw_src *s, int fd, int decode_thread, uint64_t solo_max, aw_errbuf *err)
{
    memset(s, 0, sizeof *s);
    s->fd = fd;
    s->raw = aw_keep_take(AW_KEEP_RAW, AW_IN_RAW_CAP, &s->raw_cap);
    if (!s->raw) {
        aw_errbuf_set(err, "out of memory");
        return AW_EIO;
    }
    /* gather up to 4 bytes for the magic number (a pipe may be slow),
     * reading no more than AW_IN_FIRST_READ: a file read on another
     * thread (solo) is not read here beyond that */
    while (s->raw_len < 4 && !s->raw_eof) {
        ssize_t n;
        do
            n = read(fd, s->raw + s->raw_len, AW_IN_FIRST_READ - s->raw_len);
        while (n < 0 && errno == EINTR);
        if (n < 0) {
            aw_errbuf_set(err, "read failed: %s", strerror(errno));
            return AW_EIO;
        }
        if (n == 0)
            s->raw_eof = 1;
        s->raw_len += (size_t)n;
        s->bytes_in += (uint64_t)n;
    }
    if (s->raw_len >= 2 && s->raw[0] == 0x1f && s->raw[1] == 0x8b) {
        s->comp = AW_COMP_GZIP;
        if (inflateInit2(&s->z, 15 + 32) != Z_OK) {
            aw_errbuf_set(err, "zlib initialisation failed");
            return AW_EIO;
        }
        s->z_ready = 1;
        /* a file for one thread: read whole there, at its first read */
        uint64_t isize;
        if (decode_thread && solo_max && aw_gz_whole_probe(s, &isize) && isize <= solo_max)
            s->solo = s->whole_pending = 1;
        else if (aw_gz_whole_open(s, err) < 0)
            return AW_EIO;
    } else if (s->raw_len >= 4 && s->raw[0] == 0x28 && s->raw[1] == 0xb5 &&
               s->raw[2] == 0x2f && s->raw[3] == 0xfd) {
        s->comp = AW_COMP_ZSTD;
        s->zs = ZSTD_createDStream();
        if (!s->zs || ZSTD_isError(ZSTD_initDStream(s->zs))) {
            aw_errbuf_set(err, "zstd initialisation failed");
            return AW_EIO;
        }
        s->zs_hint = 1;
    } else {
        struct stat st;             /* a plain file for one thread: read there */
        s->solo = decode_thread && solo_max && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
                  (uint64_t)st.st_size <= solo_max;
    }
    s->seen_in = s->bytes_in;
    if (decode_thread && s->comp != AW_COMP_NONE && !s->solo)
        s->dt = aw_dthread_start(s);    /* NULL: decode inline */
    return AW_OK;
}

static ssize_t read_plain(aw_src *s, char *dst, size_t cap, aw_errbuf *err)
{
    ssize_t n;
    if (s->raw_pos < s->raw_len) {
        size_t k = aw_src_take(s->raw, &s->raw_pos, s->raw_len, dst, cap);
        s->bytes_out += k;
        return (ssize_t)k;
    }
    if (s->raw_eof)
        return 0;
    do
        n = read(s->fd, dst, cap);
    while (n < 0 && errno == EINTR);
    if (n < 0) {
        aw_errbuf_set(err, "read failed: %s", strerror(errno));
        return -1;
    }
    if (n == 0)
        s->raw_eof = 1;
    s->bytes_in += (uint64_t)n;
    s->bytes_out += (uint64_t)n;
    return n;
}

ssize_t aw_src_read_gzip(aw_src *s, char *dst, size_t cap, aw_errbuf *err)
{
    for (;;) {
        int ret;
        size_t produced;
        if (raw_fill(s, err))
            return -1;
        if (s->z_between) {
            /* after a member: end of input, another member, or garbage */
            if (s->raw_pos == s->raw_len)
                return 0;
            if (s->raw[s->raw_pos] != 0x1f) {
                aw_errbuf_set(err, "trailing garbage after gzip member "
                              "(byte 0x%02X)", s->raw[s->raw_pos]);
                return -1;
            }
            inflateReset(&s->z);
            s->z_between = 0;
        }
        s->z.next_in = s->raw + s->raw_pos;
        s->z.avail_in = (uInt)(s->raw_len - s->raw_pos);
        s->z.next_out = (Bytef *)dst;
        s->z.avail_out = (uInt)(cap > UINT32_MAX ? UINT32_MAX : cap);
        ret = inflate(&s->z, Z_NO_FLUSH);
        s->raw_pos = s->raw_len - s->z.avail_in;
        produced = (size_t)((char *)s->z.next_out - dst);
        s->bytes_out += produced;
        if (ret == Z_STREAM_END) {
            s->z_between = 1;
        } else if (ret == Z_BUF_ERROR || ret == Z_OK) {
            if (!produced && s->raw_pos == s->raw_len && s->raw_eof) {
                aw_errbuf_set(err, "truncated gzip stream");
                return -1;
            }
        } else if (produced) {
            /* the bytes before the damage first, as a smaller read would
             * have returned them: inflate's state stays bad, so the next
             * call meets the same error */
            return (ssize_t)produced;
        } else {
            aw_errbuf_set(err, "corrupt gzip stream: %s",
                          s->z.msg ? s->z.msg : "inflate error");
            return -1;
        }
        if (produced)
            return (ssize_t)produced;
    }
}

/* Each decoding call gets exactly AW_ZSTD_OUT bytes of room: in dst
 * when it has that much, else in a bounce buffer handed out from on
 * later calls. zstd decodes a frame that fits its room in one pass and
 * checks it before counting its output; with less room it hands the
 * frame out as it goes. So what precedes an error (a bad checksum, a
 * damaged block) would depend on how much the caller asked for; with a
 * fixed room it depends on the input alone. */
static ssize_t read_zstd(aw_src *s, char *dst, size_t cap, aw_errbuf *err)
{
    for (;;) {
        if (s->zb_pos < s->zb_len) {
            size_t k = aw_src_take(s->zb, &s->zb_pos, s->zb_len, dst, cap);
            s->bytes_out += k;
            return (ssize_t)k;
        }
        if (s->zs_err) {                /* after the bytes before it (below) */
            aw_errbuf_set(err, "corrupt zstd stream: %s", ZSTD_getErrorName(s->zs_err));
            return -1;
        }
        if (raw_fill(s, err))
            return -1;
        if (s->raw_pos == s->raw_len && s->raw_eof && s->zs_hint == 0)
            return 0;
        char *to = dst;
        if (cap < AW_ZSTD_OUT) {
            if (!s->zb && !(s->zb = malloc(AW_ZSTD_OUT))) {
                aw_errbuf_set(err, "out of memory decoding zstd");
                return -1;
            }
            to = s->zb;
        }
        ZSTD_outBuffer out = {to, AW_ZSTD_OUT, 0};
        ZSTD_inBuffer in = {s->raw + s->raw_pos, s->raw_len - s->raw_pos, 0};
        size_t ret = ZSTD_decompressStream(s->zs, &out, &in);
        s->raw_pos += in.pos;
        if (ZSTD_isError(ret))
            s->zs_err = ret;
        else
            s->zs_hint = ret;
        if (out.pos && to == dst) {
            s->bytes_out += out.pos;
            return (ssize_t)out.pos;
        }
        if (out.pos) {
            s->zb_pos = 0;
            s->zb_len = out.pos;
            continue;
        }
        if (!s->zs_err && s->raw_pos == s->raw_len && s->raw_eof) {
            if (ret == 0)
                return 0;
            aw_errbuf_set(err, "truncated zstd stream");
            return -1;
        }
    }
}

ssize_t aw_src_decode(aw_src *s, char *dst, size_t cap, aw_errbuf *err)
{
    switch (s->comp) {
    case AW_COMP_GZIP: return s->whole ? aw_gz_whole_read(s, dst, cap, err) : aw_src_read_gzip(s, dst, cap, err);
    case AW_COMP_ZSTD: return read_zstd(s, dst, cap, err);
    default:           return read_plain(s, dst, cap, err);
    }
}

int aw_src_ready(aw_src *s, aw_errbuf *err)
{
    if (!s->whole_pending)
        return 0;
    s->whole_pending = 0;
    if (aw_gz_whole_open(s, err) >= 0)
        return 0;                       /* read whole, or (not taken) streamed */
    s->seen_in = s->bytes_in;
    return -1;
}

ssize_t aw_src_read(aw_src *s, char *dst, size_t cap, aw_errbuf *err)
{
    if (s->dt)
        return aw_dthread_read(s->dt, s, dst, cap, err);
    ssize_t n = aw_src_decode(s, dst, cap, err);
    s->seen_in = s->bytes_in;
    s->seen_out = s->bytes_out;
    return n;
}

int aw_src_lend(aw_src *s, const char **p, size_t *n, aw_hold **h, int *last)
{
    if (s->comp != AW_COMP_GZIP)
        return 0;
    if (s->dt)
        return aw_dthread_give(s->dt, s, p, n, h, last);
    if (!aw_gz_whole_give(s, p, n, h, last))
        return 0;
    s->seen_in = s->bytes_in;
    s->seen_out = s->bytes_out;
    return 1;
}

void aw_src_close(aw_src *s)
{
    aw_dthread_stop(s->dt);             /* before the state it decodes goes */
    aw_gz_whole_close(s);
    if (s->z_ready)
        inflateEnd(&s->z);
    ZSTD_freeDStream(s->zs);
    free(s->zb);
    aw_keep_give(AW_KEEP_RAW, s->raw, s->raw_cap);
    memset(s, 0, sizeof *s);
}
