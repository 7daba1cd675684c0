/* fuzz_reader.c - libFuzzer target for the record reader (src/input).
 *
 * The input goes into a memfd which is read back through its
 * /proc/self/fd path, so the whole path runs: magic detection (and
 * gzip/zstd decoding when the input happens to be compressed), framing,
 * resynchronisation. The first byte picks a small max_record to reach
 * the size limit paths. Every record is parsed. Each call must make
 * progress: the number of calls is bounded by the input size.
 *
 * The input is read twice, framed byte by byte and through a line
 * function that parses (as a one-thread scan frames): the records, their
 * numbers and lines, and the errors must be the same. */
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
        h = mix(h, &st, sizeof st);
        if (st == AW_EIO)
            break;
        h = mix(h, &rec.recno, sizeof rec.recno);
        h = mix(h, &rec.line, sizeof rec.line);
        if (st != AW_OK) {
            if (!err.msg[0] || rec.recno != calls)
                abort();
            h = mix(h, err.msg, strlen(err.msg));
            continue;
        }
        if (rec.len == 0 || rec.recno != calls || (rec.taken && !lines))
            abort();
        if (o->max_record && rec.len > o->max_record)
            abort();
        h = mix(h, rec.data, rec.len);
        total += rec.len;
        aw_doc_parse(d, rec.data, rec.len, NULL, &err);
    }
    if (total > aw_reader_bytes_out(r))
        abort();
    aw_reader_close(r);
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
    if (read_all(path, &o, 0) != read_all(path, &o, 1))
        abort();                /* the line function framed differently */
    close(fd);
    return 0;
}
