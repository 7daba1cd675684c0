/* test_relit.c - the literal taken from a regular expression for the
 * prefilter (aw_re_literal, and the shorter runs of aw_re_run that the
 * matcher looks for before PCRE2) must be in every string the expression
 * matches: checked on fixed cases and on random patterns against PCRE2
 * itself, with subjects built from the patterns' own characters. Also
 * the byte-level helpers the matcher trusts: aw_memfind against memmem,
 * the dispatch hash against ASCII lower-casing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "sigma/plan_int.h"
#include "sigma/sigma_int.h"

static size_t lit_of(const char *re, char *out)
{
    return aw_re_literal(re, strlen(re), false, out, 256);
}

/* aw_memfind answers as memmem: every needle position, lengths around
 * the 16-byte blocks, needles of 0-3 bytes, repeats and near misses. */
static void test_memfind(void **state)
{
    char h[80], n[24];
    (void)state;
    srand(11);
    for (int round = 0; round < 200000; round++) {
        size_t hn = (size_t)(rand() % 70), nn = (size_t)(rand() % 20);
        for (size_t i = 0; i < hn; i++)
            h[i] = "abAB\0\xff"[rand() % 6];
        if (rand() % 2 && nn <= hn) {       /* plant the needle, perhaps broken */
            size_t at = hn - nn ? (size_t)rand() % (hn - nn + 1) : 0;
            memcpy(n, h + at, nn);
            if (nn && rand() % 3 == 0)
                n[rand() % nn] ^= 1;
        } else {
            for (size_t i = 0; i < nn; i++)
                n[i] = "abAB\0\xff"[rand() % 6];
        }
        const char *want = memmem(h, hn, n, nn), *got = aw_memfind(h, hn, n, nn);
        if (want != got)
            fail_msg("round %d: hn %zu nn %zu: memmem %td, aw_memfind %td", round, hn, nn,
                     want ? want - h : -1, got ? got - h : -1);
    }
}

/* The dispatch hash folds 'A'..'Z' and nothing else: a string and its
 * ASCII lower-casing hash alike, at every length and position (every
 * byte value, non-ASCII and the neighbours of the letters included), and
 * strings that differ otherwise do not (checked on near misses). */
static void test_dispatch_hash(void **state)
{
    unsigned char a[40], b[40];
    (void)state;
    srand(5);
    for (int round = 0; round < 200000; round++) {
        size_t n = (size_t)(rand() % 40);
        for (size_t i = 0; i < n; i++) {
            a[i] = (unsigned char)(round < 256 * 4 ? (i == (size_t)round % 40 ? round / 4 : 'x') : rand() % 256);
            b[i] = a[i] >= 'A' && a[i] <= 'Z' ? a[i] + 32 : a[i];
        }
        if (aw_dispatch_hash((const char *)a, n) != aw_dispatch_hash((const char *)b, n))
            fail_msg("round %d: a string and its lower-casing hash apart (%zu bytes)", round, n);
        if (n && rand() % 2) {
            size_t i = (size_t)rand() % n;
            unsigned char c = b[i];
            b[i] ^= (unsigned char)(1u << (rand() % 8));
            bool same = (b[i] >= 'A' && b[i] <= 'Z' ? b[i] + 32 : b[i]) == c;
            if (!same && aw_dispatch_hash((const char *)a, n) == aw_dispatch_hash((const char *)b, n))
                fail_msg("round %d: strings differing in byte %zu hash alike", round, i);
        }
    }
    assert_true(aw_dispatch_hash("ab", 2) != aw_dispatch_hash("ab\0", 3));
}

static void test_fixed(void **state)
{
    char l[256];
    (void)state;
    assert_int_equal(lit_of("ab+cde", l), 3);
    assert_memory_equal(l, "cde", 3);
    assert_int_equal(lit_of("a\\.b\\.c", l), 5);
    assert_memory_equal(l, "a.b.c", 5);
    assert_int_equal(lit_of("evil\\d+\\.exe$", l), 4);
    assert_int_equal(lit_of("colou?r", l), 4);
    assert_memory_equal(l, "colo", 4);
    assert_int_equal(lit_of("ab|cdef", l), 0);          /* top-level alternation */
    /* caseless: runs end at k, K, s, S (PCRE2 folds them with U+212A,
     * U+017F) and at non-ASCII bytes */
    assert_int_equal(lit_of("(?i)abcdef", l), 6);
    assert_int_equal(lit_of("(?i)powershell", l), 5);
    assert_memory_equal(l, "power", 5);
    assert_int_equal(aw_re_literal("tasklist", 8, true, l, sizeof l), 0);
    assert_int_equal(aw_re_literal("caf\xc3\xa9 noir", 10, true, l, sizeof l), 5);   /* " noir" */
    assert_int_equal(lit_of("sabc(?i)dkef", l), 3);     /* inline i: the whole pattern counts as caseless */
    assert_memory_equal(l, "abc", 3);
    assert_int_equal(lit_of("(?x)abc def", l), 0);      /* extended: spaces are no literal */
    assert_int_equal(lit_of("\\x41bcd", l), 0);         /* stops at an escape it does not know */
    assert_int_equal(lit_of("xyz\\x41bcd", l), 3);
    assert_int_equal(lit_of("\\Qabc\\E", l), 0);
    /* two bytes only when aw_two_byte_lit takes them: both rare
     * punctuation, or a UTF-8 letter */
    assert_int_equal(lit_of("(?i)(?:set).*&&\\s?set", l), 2);
    assert_memory_equal(l, "&&", 2);
    assert_int_equal(lit_of("x.*ab", l), 0);
    assert_int_equal(lit_of("x.*a&", l), 0);
    assert_int_equal(lit_of("x.*\xc3\xa9", l), 2);
    /* shorter runs: looked for before PCRE2 runs, not scanned for */
    const char *tick = "\\w+`(?:\\w+|-|.)`[\\w+|\\s]";
    assert_int_equal(aw_re_run(tick, strlen(tick), false, l, sizeof l), 1);
    assert_memory_equal(l, "`", 1);
    assert_int_equal(aw_re_run("x.*ab", 5, false, l, sizeof l), 2);
    assert_int_equal(aw_re_run("a|b", 3, false, l, sizeof l), 0);
}

static void test_random(void **state)
{
    static const char *atoms[] = {"a", "b", "c", "ab", "abc", "x", "\\.", "\\\\", "\\d", "\\w", ".",
                                  "[a-c]", "[^x]", "(a|b)", "(?:cd)", "(ab)?", "?", "*", "+", "{2}",
                                  "{1,3}", "{", "}", "|", "^", "$", "\\s", "e", "f", "-", "_"};
    (void)state;
    srand(7);
    long with_lit = 0;
    pcre2_match_data *md = pcre2_match_data_create(1, NULL);
    for (int it = 0; it < 30000; it++) {
        char pat[128] = "";
        int na = 1 + rand() % 8, ec;
        PCRE2_SIZE eo;
        for (int k = 0; k < na; k++)
            strcat(pat, atoms[rand() % (int)(sizeof atoms / sizeof *atoms)]);
        pcre2_code *re = pcre2_compile((PCRE2_SPTR)pat, PCRE2_ZERO_TERMINATED, PCRE2_UTF, &ec, &eo, NULL);
        if (!re)
            continue;
        char lit[256];
        bool ci = it % 2;                   /* half of them case-insensitive */
        pcre2_code_free(re);
        re = pcre2_compile((PCRE2_SPTR)pat, PCRE2_ZERO_TERMINATED, PCRE2_UTF | (ci ? PCRE2_CASELESS : 0), &ec, &eo,
                           NULL);
        if (!re)
            continue;
        /* the run, of any length (aw_re_run): what aw_re_literal keeps
         * of it for the scan, and the shorter ones the matcher still
         * looks for before PCRE2, must all be in every match */
        size_t ln = aw_re_run(pat, strlen(pat), ci, lit, sizeof lit);
        for (int s = 0; ln && s < 40; s++) {
            char subj[160];
            size_t sl = 0, pl = strlen(pat);
            for (size_t q = 0; q < pl && sl < 150; q++) {   /* the pattern's characters, mangled */
                char ch = pat[q];
                if (strchr("()[]?*+{}|^$", ch) && rand() % 2)
                    continue;
                if (ch == '\\' && q + 1 < pl) {
                    ch = pat[++q];
                    ch = ch == 'd' ? '7' : ch == 'w' ? 'q' : ch == 's' ? ' ' : ch;
                }
                if (ci && rand() % 3 == 0 && ch >= 'a' && ch <= 'z')
                    ch = (char)(ch - 32);
                subj[sl++] = ch;
                if (rand() % 4 == 0)
                    subj[sl++] = ch;
            }
            if (pcre2_match(re, (PCRE2_SPTR)subj, sl, 0, 0, md, NULL) < 0)
                continue;
            with_lit++;
            bool found = false;
            for (size_t q = 0; q + ln <= sl && !found; q++)
                found = ci ? strncasecmp(subj + q, lit, ln) == 0 : memcmp(subj + q, lit, ln) == 0;
            if (!found)
                fail_msg("/%s/ matches '%.*s' without its literal '%.*s'", pat, (int)sl, subj, (int)ln, lit);
        }
        pcre2_code_free(re);
    }
    pcre2_match_data_free(md);
    assert_true(with_lit > 1000);   /* the check saw enough matches */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fixed),
        cmocka_unit_test(test_memfind),
        cmocka_unit_test(test_dispatch_hash),
        cmocka_unit_test(test_random),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
