/* fuzz_reader.c - libFuzzer target for the record reader (src/input).
 *
 * The input goes into a memfd which is read back through its
 * /proc/self/fd path, so the whole path runs: magic detection (and
 * gzip/zstd decoding when the input happens to be compressed), framing,
 * resynchronisation. The first byte picks a small max_record to reach
 * the size limit paths. Every record is parsed. Each call must make
 * progress: the number of calls is bounded by the input size.
 *
 * The input is read six times: framed byte by byte, through a line
 * function that parses (as a one-thread scan frames), decoded on a
 * thread of its own when compressed, and in chunks
 * framed alone (as threads frame; the last byte picks the chunk size),
 * copied, handed over with their buffer, and read as ranges with pread
 * (the memfd is a regular file): the records, their numbers and lines,
 * and the errors must be the same. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "aupwatch/aw_input.h"
#include "aupwatch/aw_json.h"

static size_t parse_line(void *ud, const char *line, size_t len)
{
    aw_errbuf err;
    if (aw_doc_parse(ud, line, len, NULL, &err) != AW_OK)
        return 0;
    const aw_jnode *root = aw_doc_root(ud);
    return root->type == AW_JOBJ ? root->vlen : 0;
}

/* FNV-1a over what a call returned. */
static uint64_t mix(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 1099511628211ull;
    return h;
}

/* One outcome, as read_all mixes it (recno: the file's numbering). */
static uint64_t mix_one(uint64_t h, aw_status st, const aw_record *rec, uint64_t recno, const aw_errbuf *err)
{
    h = mix(h, &st, sizeof st);
    h = mix(h, &recno, sizeof recno);
    h = mix(h, &rec->line, sizeof rec->line);
    return st == AW_OK ? mix(h, rec->data, rec->len) : mix(h, err->msg, strlen(err->msg));
}

/* Read path, checking progress; returns a hash of every call's outcome. */
static uint64_t read_all(const char *path, const aw_reader_opts *o, int lines)
{
    static aw_doc *d, *ld;
    aw_reader *r;
    aw_record rec;
    aw_errbuf err;
    aw_status st;
    size_t calls = 0, total = 0;
    uint64_t h = 1469598103934665603ull;
    if (!d) {
        d = aw_doc_new();
        ld = aw_doc_new();
    }
    if (aw_reader_open(&r, path, o, &err) != AW_OK)
        return 0;
    if (lines)
        aw_reader_set_line_fn(r, parse_line, ld);
    while ((st = aw_reader_next(r, &rec, &err)) != AW_EOF) {
        if (++calls > 2 * aw_reader_bytes_out(r) + 4)
            abort();            /* no progress: would loop forever */
        if (st == AW_EIO) {
            h = mix(h, &st, sizeof st);
            break;
        }
        h = mix_one(h, st, &rec, rec.recno, &err);
        if (st != AW_OK) {
            if (!err.msg[0] || rec.recno != calls)
                abort();
            continue;
        }
        if (rec.len == 0 || rec.recno != calls || (rec.taken && !lines))
            abort();
        if (o->max_record && rec.len > o->max_record)
            abort();
        total += rec.len;
        aw_doc_parse(d, rec.data, rec.len, NULL, &err);
    }
    if (total > aw_reader_bytes_out(r))
        abort();
    aw_reader_close(r);
    return h;
}

/* Frame chunk c alone, from top level or, if the chunk before it did
 * not end there (!*clean), from its end state; mix its outcomes. */
static void frame_chunk(const aw_chunk *c, const aw_reader_opts *o, aw_doc *ld, uint64_t *h, uint64_t *recno,
                        int *clean, aw_fstate *carry)
{
    aw_record rec;
    aw_errbuf err;
    aw_status st;
    aw_reader *cr = aw_reader_open_chunk(c, *clean ? NULL : carry, o->max_record);
    if (!cr)
        abort();
    aw_reader_set_line_fn(cr, parse_line, ld);
    while ((st = aw_reader_next(cr, &rec, &err)) != AW_EOF) {
        if (st == AW_EIO || rec.recno > c->len + 1)
            abort();
        *h = mix_one(*h, st, &rec, *recno + rec.recno, &err);
    }
    *recno += aw_reader_recno(cr);
    *clean = aw_reader_chunk_end(cr, carry);
    aw_reader_close(cr);
}

/* After a chunk, the rest of the file in ranges (aw_reader_range), as
 * the scanner's workers read them: 1 if that reached the end; 0 where
 * they stop (an envelope, no cut within `limit`, or none begun), the
 * reader standing there. */
static int frame_ranges(aw_reader *r, const aw_reader_opts *o, size_t want, size_t limit, aw_doc *ld,
                        uint64_t *h, uint64_t *recno, int *clean, aw_fstate *carry)
{
    aw_range rg;
    aw_errbuf err;
    if (!aw_reader_range(r, want, &rg))
        return 0;
    uint64_t at = rg.pos, line = rg.line;
    int done = 0;
    for (;;) {
        uint64_t cut;
        int envelope;
        aw_status st = aw_range_cut(&rg, at + want, limit, &cut, &envelope, &err);
        if (st == AW_ELIMIT)
            break;
        if (st != AW_OK || cut <= at || cut > rg.size)
            abort();
        size_t n = (size_t)(cut - at), more = cut < rg.size;
        char *buf = malloc(n + 1);
        if (!buf || aw_range_read(&rg, at, buf, n + more, &err) != AW_OK || (more && buf[n] != '{'))
            abort();
        aw_chunk c = {buf, n, !more, line, NULL};
        frame_chunk(&c, o, ld, h, recno, clean, carry);
        line += aw_input_newlines(buf, n);
        free(buf);
        at = cut;
        if (!more) {
            done = 1;
            break;
        }
        if (envelope)
            break;
    }
    aw_range_close(&rg);
    if (!done && at != rg.pos && aw_reader_seek(r, at, line, &err) != AW_OK)
        abort();
    return done;
}

enum { CHUNK_COPY, CHUNK_SWAP, CHUNK_RANGES };

/* Read path as the threaded scanner does (scanner.c): chunks of about
 * `want` bytes framed alone from top level, framed again from the last
 * chunk's end state where that was not top level; the stream reader
 * resumes from the chunks' end where none can be cut. CHUNK_SWAP: each
 * chunk comes with its buffer (aw_reader_chunk_swap) and the previous
 * one is given back; CHUNK_RANGES: that, and after a chunk the rest of
 * the file in ranges. The same hash as read_all(path, o, 1) for the same
 * outcomes. */
static uint64_t read_chunked(const char *path, const aw_reader_opts *o, size_t want, int mode)
{
    static aw_doc *ld;
    aw_reader *r;
    aw_record rec;
    aw_errbuf err;
    aw_status st;
    uint64_t h = 1469598103934665603ull, recno = 0;
    int ahead = 0, clean = 1, swap = mode != CHUNK_COPY;
    aw_fstate carry;
    char *spare = NULL;
    size_t spare_cap = 0;
    aw_hold *held = NULL;               /* the last chunk cut in place */
    const char *held_data = NULL;
    size_t held_len = 0;
    uint64_t held_sum = 0;
    if (!ld)
        ld = aw_doc_new();
    if (aw_reader_open(&r, path, o, &err) != AW_OK)
        return 0;
    aw_reader_set_line_fn(r, parse_line, ld);
    for (size_t calls = 0;; calls++) {
        aw_chunk c;
        if (calls > 2 * aw_reader_bytes_out(r) + 8)
            abort();
        st = swap ? aw_reader_chunk_swap(r, want, &c, &spare, &spare_cap, &err) : aw_reader_chunk(r, want, &c, &err);
        if (st == AW_OK && c.len) {
            char *copy = c.hold ? (char *)(uintptr_t)c.data : spare;
            if (swap && !c.hold && (c.data != spare || spare_cap < c.len + !c.eof))
                abort();
            if (c.hold) {               /* cut in place: kept past later reads */
                aw_hold_release(held);
                held = c.hold;
                held_data = c.data;
                held_len = c.len + !c.eof;
                held_sum = mix(0, held_data, held_len);
            }
            if (!swap) {
                copy = malloc(c.len + 1);
                memcpy(copy, c.data, c.len + !c.eof);
            }
            c.data = copy;
            frame_chunk(&c, o, ld, &h, &recno, &clean, &carry);
            if (!swap)
                free(copy);
            ahead = 1;
            if (mode == CHUNK_RANGES && !c.eof &&
                frame_ranges(r, o, want, 4 * want, ld, &h, &recno, &clean, &carry))
                break;
            continue;
        }
        if (st == AW_EOF)
            break;
        if (st == AW_OK && ahead) {
            aw_reader_resume(r, &carry, recno);
            ahead = 0;
            clean = 1;
        }
        if (st == AW_OK && (st = aw_reader_next(r, &rec, &err)) == AW_EOF)
            break;
        if (st == AW_EIO) {
            h = mix(h, &st, sizeof st);
            break;
        }
        h = mix_one(h, st, &rec, rec.recno, &err);
        recno = rec.recno;
    }
    aw_reader_close(r);
    if (held && mix(0, held_data, held_len) != held_sum)
        abort();                        /* its bytes did not outlive the reader */
    aw_hold_release(held);
    free(spare);
    return h;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    aw_reader_opts o = { 0 };
    char path[64];
    int fd;
    if (size && data[0] < 64)
        o.max_record = (size_t)data[0] + 1;
    fd = memfd_create("fuzz_reader", 0);
    if (fd < 0)
        return 0;
    if (size && write(fd, data, size) != (ssize_t)size) {
        close(fd);
        return 0;
    }
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    uint64_t plain = read_all(path, &o, 0);
    if (read_all(path, &o, 1) != plain)
        abort();                /* the line function framed differently */
    aw_reader_opts ot = o;      /* compressed input decoded on a thread (members lent) */
    ot.decode_thread = 1;
    if (read_all(path, &ot, 0) != plain)
        abort();
    ot.solo_max = 1u << 26;     /* a gzip file read whole where it is read (aw_reader_solo) */
    if (read_all(path, &ot, 0) != plain)
        abort();
    size_t want = size ? (size_t)data[size - 1] % 97 + 1 : 1;
    for (int mode = CHUNK_COPY; mode <= CHUNK_RANGES; mode++)
        if (read_chunked(path, &o, want, mode) != plain)
            abort();            /* chunks framed differently */
    close(fd);
    return 0;
}
