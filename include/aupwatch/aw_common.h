/* aw_common.h - types shared by every aupwatch module.
 *
 * Status codes, the diagnostic callback through which modules report
 * problems with their inputs (file, line, reason), and small helpers.
 * Every fallible function returns an aw_status; AW_OK is zero. */
#ifndef AW_COMMON_H
#define AW_COMMON_H

#include <stddef.h>
#include <stdint.h>

typedef enum aw_status {
    AW_OK = 0,
    AW_ERR = -1,      /* generic failure, message delivered via diag/err */
    AW_ENOMEM = -2,
    AW_EIO = -3,      /* cannot read or write a file */
    AW_EPARSE = -4,   /* malformed input */
    AW_ELIMIT = -5,   /* a documented size limit was exceeded */
    AW_EOF = 1,       /* end of a stream, not an error */
} aw_status;

/* A diagnostic: something wrong with an input, reported by the module
 * that found it. `kind` is a short stable reason code used for summaries
 * ("unknown-modifier", "bad-json", ...); `msg` is the human sentence.
 * `file` may be NULL, `line` 0 when unknown. */
typedef void (*aw_diag_fn)(void *ud, const char *file, unsigned long line,
                           const char *kind, const char *msg);

/* Fixed-size error text for functions that fail without a diag sink. */
typedef struct aw_errbuf {
    char msg[512];
} aw_errbuf;

void aw_errbuf_set(aw_errbuf *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
