/* decompress.c - the reader's byte source: plain, gzip or zstd.
 *
 * The compression is detected from the magic number (gzip 1f 8b, zstd
 * 28 b5 2f fd), never from the file name. A gzip file read whole is
 * decoded member by member by libdeflate (gzwhole.c); anything else
 * streams through ISA-L's igzip (header, CRC-32 and size checked; 2.4x
 * zlib's inflate here: bench/README); a file may hold several gzip
 * members back to back (as `cat a.gz b.gz` makes), each is decoded in
 * turn. zstd uses the streaming API, which handles several
 * frames natively. A stream that ends inside a member or frame is an
 * error ("truncated"), as is non-gzip data after a gzip member. */
#include <errno.h>
#include <isa-l/igzip_lib.h>
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

/* The state is zeroed once: igzip writes the bytes of a distance that
 * reaches before the stream's start (damage) from its own history
 * buffer before it reports the error, so that buffer must hold nothing
 * of the process (then the previous members' bytes, as the input says). */
int aw_src_gz_member(aw_src *s)
{
    if (!s->gz && !(s->gz = calloc(1, sizeof *s->gz)))
        return -1;
    isal_inflate_init(s->gz);
    s->gz->crc_flag = ISAL_GZIP;        /* header, CRC-32 and size checked */
    s->gz_between = 0;
    return 0;
}

#define GZ_STUCK (-100)         /* igzip took no input and gave no output */

static const char *gz_error(int ret)
{
    switch (ret) {
    case ISAL_INVALID_BLOCK: return "invalid deflate block";
    case ISAL_INVALID_SYMBOL: return "invalid deflate code";
    case ISAL_INVALID_LOOKBACK: return "invalid distance too far back";
    case ISAL_INVALID_WRAPPER: return "invalid gzip header";
    case ISAL_UNSUPPORTED_METHOD: return "unknown compression method";
    case ISAL_INCORRECT_CHECKSUM: return "incorrect data check (CRC-32 or length)";
    case GZ_STUCK: return "the decoder made no progress";
    default: return "inflate error";
    }
}

/* Each decoding call gets exactly AW_DEC_OUT bytes of room: in dst
 * when it has that much, else in a bounce buffer handed out from on
 * later calls. zstd decodes a frame that fits its room in one pass and
 * checks it before counting its output; with less room it hands the
 * frame out as it goes; igzip decodes into its own buffer when the room
 * left is small, and drops what it holds there at an error. So what
 * precedes an error (a bad checksum, a damaged block) would depend on
 * how much the caller asked for; with a fixed room it depends on the
 * input alone. NULL: out of memory. */
static char *dec_room(aw_src *s, char *dst, size_t cap)
{
    if (cap >= AW_DEC_OUT)
        return dst;
    if (!s->zb)
        s->zb = malloc(AW_DEC_OUT);
    return s->zb;
}

/* What a call decoded into the room: returned when it is dst's, else
 * kept to be handed out (0 returned). */
static ssize_t dec_done(aw_src *s, const char *to, const char *dst, size_t n)
{
    if (to == dst) {
        s->bytes_out += n;
        return (ssize_t)n;
    }
    s->zb_pos = 0;
    s->zb_len = n;
    return 0;
}

/* The bounce buffer's bytes first: >0, or 0 when it is empty. */
static ssize_t dec_bounce(aw_src *s, char *dst, size_t cap)
{
    if (s->zb_pos == s->zb_len)
        return 0;
    size_t k = aw_src_take(s->zb, &s->zb_pos, s->zb_len, dst, cap);
    s->bytes_out += k;
    return (ssize_t)k;
}

ssize_t aw_src_read_gzip(aw_src *s, char *dst, size_t cap, aw_errbuf *err)
{
    for (;;) {
        ssize_t k = dec_bounce(s, dst, cap);
        if (k)
            return k;
        if (s->gz_err) {                /* after the bytes before it (below) */
            aw_errbuf_set(err, "corrupt gzip stream: %s", gz_error(s->gz_err));
            return -1;
        }
        if (raw_fill(s, err))
            return -1;
        if (s->gz_between) {
            /* after a member: end of input, another member, or garbage */
            if (s->raw_pos == s->raw_len)
                return 0;
            if (s->raw[s->raw_pos] != 0x1f) {
                aw_errbuf_set(err, "trailing garbage after gzip member "
                              "(byte 0x%02X)", s->raw[s->raw_pos]);
                return -1;
            }
        }
        char *to = dec_room(s, dst, cap);
        if (!to || ((s->gz_between || !s->gz) && aw_src_gz_member(s) < 0)) {
            aw_errbuf_set(err, "out of memory decoding gzip");
            return -1;
        }
        struct inflate_state *z = s->gz;
        z->next_in = s->raw + s->raw_pos;
        z->avail_in = (uint32_t)(s->raw_len - s->raw_pos);
        z->next_out = (uint8_t *)to;
        z->avail_out = AW_DEC_OUT;
        uint32_t given = z->avail_in;
        int ret = isal_inflate(z);
        s->raw_pos = s->raw_len - z->avail_in;
        size_t produced = (size_t)((char *)z->next_out - to);
        if (ret >= 0 && !produced && given && z->avail_in == given && z->block_state != ISAL_BLOCK_FINISH)
            ret = GZ_STUCK;             /* no progress: never spin */
        if (ret < 0)
            s->gz_err = ret;
        else if (z->block_state == ISAL_BLOCK_FINISH)
            s->gz_between = 1;
        else if (!produced && s->raw_pos == s->raw_len && s->raw_eof) {
            aw_errbuf_set(err, "truncated gzip stream");
            return -1;
        }
        if (produced && (k = dec_done(s, to, dst, produced)))
            return k;
    }
}

static ssize_t read_zstd(aw_src *s, char *dst, size_t cap, aw_errbuf *err)
{
    for (;;) {
        ssize_t k = dec_bounce(s, dst, cap);
        if (k)
            return k;
        if (s->zs_err) {                /* after the bytes before it (below) */
            aw_errbuf_set(err, "corrupt zstd stream: %s", ZSTD_getErrorName(s->zs_err));
            return -1;
        }
        if (raw_fill(s, err))
            return -1;
        if (s->raw_pos == s->raw_len && s->raw_eof && s->zs_hint == 0)
            return 0;
        char *to = dec_room(s, dst, cap);
        if (!to) {
            aw_errbuf_set(err, "out of memory decoding zstd");
            return -1;
        }
        ZSTD_outBuffer out = {to, AW_DEC_OUT, 0};
        ZSTD_inBuffer in = {s->raw + s->raw_pos, s->raw_len - s->raw_pos, 0};
        size_t ret = ZSTD_decompressStream(s->zs, &out, &in);
        s->raw_pos += in.pos;
        if (ZSTD_isError(ret))
            s->zs_err = ret;
        else
            s->zs_hint = ret;
        if (out.pos) {
            if ((k = dec_done(s, to, dst, out.pos)))
                return k;
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
    free(s->gz);
    ZSTD_freeDStream(s->zs);
    free(s->zb);
    aw_keep_give(AW_KEEP_RAW, s->raw, s->raw_cap);
    memset(s, 0, sizeof *s);
}
