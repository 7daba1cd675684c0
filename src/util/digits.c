/* digits.c - decimal text of integers (digits.h). */
#include "util/digits.h"

size_t aw_u64_text(char *out, uint64_t v)
{
    char t[20];
    size_t n = 0;
    do
        t[n++] = (char)('0' + v % 10);
    while (v /= 10);
    for (size_t i = 0; i < n; i++)
        out[i] = t[n - 1 - i];
    return n;
}

size_t aw_i64_text(char *out, int64_t v)
{
    if (v >= 0)
        return aw_u64_text(out, (uint64_t)v);
    out[0] = '-';
    return 1 + aw_u64_text(out + 1, 0ull - (uint64_t)v);
}
