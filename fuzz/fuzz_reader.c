/* fuzz_reader.c - libFuzzer target for the record reader (src/input).
 *
 * The input goes into a memfd which is read back through its
 * /proc/self/fd path, so the whole path runs: magic detection (and
 * gzip/zstd decoding when the input happens to be compressed), framing,
 * resynchronisation. The first byte picks a small max_record to reach
 * the size limit paths. Every record is parsed. Each call must make
 * progress: the number of calls is bounded by the input size. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "aupwatch/aw_input.h"
#include "aupwatch/aw_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static aw_doc *d;
    aw_reader_opts o = { 0 };
    aw_reader *r;
    aw_record rec;
    aw_errbuf err;
    aw_status st;
    char path[64];
    size_t calls = 0, total = 0;
    int fd;
    if (!d)
        d = aw_doc_new();
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
    if (aw_reader_open(&r, path, &o, &err) != AW_OK) {
        close(fd);
        return 0;
    }
    while ((st = aw_reader_next(r, &rec, &err)) != AW_EOF) {
        if (++calls > 2 * aw_reader_bytes_out(r) + 4)
            abort();            /* no progress: would loop forever */
        if (st == AW_EIO)
            break;
        if (st != AW_OK) {
            if (!err.msg[0] || rec.recno != calls)
                abort();
            continue;
        }
        if (rec.len == 0 || rec.recno != calls)
            abort();
        if (o.max_record && rec.len > o.max_record)
            abort();
        total += rec.len;
        aw_doc_parse(d, rec.data, rec.len, NULL, &err);
    }
    if (total > aw_reader_bytes_out(r))
        abort();
    aw_reader_close(r);
    close(fd);
    return 0;
}
