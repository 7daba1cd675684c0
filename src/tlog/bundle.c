/* bundle.c - tlog-tiles entry bundles: uint16 big-endian length-prefixed
 * entries, split and checked. */
#include <string.h>

#include "tlog/tlog_int.h"
#include "tlog/tlog_store.h"

aw_status aw_tlog_bundle_split(const uint8_t *b, size_t len, unsigned want,
                               aw_tlog_span *spans, aw_errbuf *err)
{
    size_t pos = 0;
    unsigned n = 0;
    while (pos < len) {
        if (len - pos < 2 || n >= 256) {
            aw_errbuf_set(err, "malformed entry bundle (entry %u)", n);
            return AW_EPARSE;
        }
        size_t el = (size_t)b[pos] << 8 | b[pos + 1];
        if (len - pos - 2 < el) {
            aw_errbuf_set(err, "entry %u overruns the bundle", n);
            return AW_EPARSE;
        }
        spans[n].off = pos + 2;
        spans[n].len = el;
        n++;
        pos += 2 + el;
    }
    if (n != want) {
        aw_errbuf_set(err, "bundle holds %u entries, want %u", n, want);
        return AW_EPARSE;
    }
    return AW_OK;
}
