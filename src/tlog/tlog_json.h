/* tlog_json.h - a small JSON reader for decision records and for the
 * tlog test vectors (internal to tlog and its tests). */
#ifndef AW_TLOG_JSON_H
#define AW_TLOG_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "aupwatch/aw_common.h"

enum { AW_TJ_NULL, AW_TJ_BOOL, AW_TJ_NUM, AW_TJ_STR, AW_TJ_ARR, AW_TJ_OBJ };

typedef struct aw_tj {
    int type;
    int b;          /* AW_TJ_BOOL */
    char *s;        /* AW_TJ_STR: unescaped, NUL-terminated; NUM: text */
    size_t slen;
    size_t n;       /* ARR/OBJ: element count */
    struct aw_tj **v;
    char **k;       /* OBJ: member names */
} aw_tj;

aw_status aw_tj_parse(const char *buf, size_t len, aw_tj **out,
                      aw_errbuf *err);
void aw_tj_free(aw_tj *j);
const aw_tj *aw_tj_get(const aw_tj *obj, const char *key);
/* Integer value of a number node; -1 if not a non-negative integer. */
int aw_tj_u64(const aw_tj *j, uint64_t *out);

#endif
