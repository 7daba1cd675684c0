/* tlog_store.h - internals shared by the writer and the verifier. */
#ifndef AW_TLOG_STORE_H
#define AW_TLOG_STORE_H

#include "tlog/tlog_int.h"

typedef struct aw_tlog_span {
    size_t off, len;
} aw_tlog_span;

/* Split an entry bundle into exactly `want` entries. */
aw_status aw_tlog_bundle_split(const uint8_t *b, size_t len, unsigned want,
                               aw_tlog_span *spans, aw_errbuf *err);

#define AW_TLOG_PRIV ".aw-tlog"
#define AW_TLOG_BUNDLE_MAX (256 * (2 + AW_TLOG_MAX_ENTRY))

#endif
