/* test_digits.c - aw_u64_text / aw_i64_text against printf, at the
 * ends of their ranges and around every power of ten. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "util/digits.h"

static void check_u(uint64_t v)
{
    char want[32], got[32];
    snprintf(want, sizeof want, "%llu", (unsigned long long)v);
    size_t n = aw_u64_text(got, v);
    got[n] = '\0';
    assert_string_equal(got, want);
}

static void check_i(int64_t v)
{
    char want[32], got[32];
    snprintf(want, sizeof want, "%lld", (long long)v);
    size_t n = aw_i64_text(got, v);
    got[n] = '\0';
    assert_string_equal(got, want);
}

static void test_digits(void **st)
{
    (void)st;
    check_u(0);
    check_u(UINT64_MAX);
    check_i(0);
    check_i(INT64_MAX);
    check_i(INT64_MIN);
    for (uint64_t p = 1; p <= UINT64_MAX / 10; p *= 10) {
        check_u(p - 1);
        check_u(p);
        check_u(p + 1);
        check_i((int64_t)p);
        check_i(-(int64_t)p);
        check_i(-(int64_t)p + 1);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_digits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
