/* digits.h - decimal text of integers on hot paths (alert record and
 * line numbers, dispatch of numbers), where printf's format parsing
 * costs more than the digits. */
#ifndef AW_DIGITS_H
#define AW_DIGITS_H

#include <stddef.h>
#include <stdint.h>

/* "%llu" of v into out (at least 20 bytes, not NUL-terminated); its length. */
size_t aw_u64_text(char *out, uint64_t v);
/* "%lld" of v into out (at least 20 bytes); its length. */
size_t aw_i64_text(char *out, int64_t v);

#endif
