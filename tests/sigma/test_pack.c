/* test_pack.c - a loaded rule's evaluation structures (condition,
 * searches, conjunctions, items, gates, groups, leaves) are one
 * contiguous block in evaluation order (src/sigma/pack.c), and nothing
 * of them is left in the scratch arena they were compiled in (ASan,
 * which the suite also runs under, reports a read of the freed arena
 * when the rules below are matched). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "sigma/sigma_int.h"

typedef struct span {
    uintptr_t lo, hi;           /* [lo, hi) of every piece seen */
    size_t bytes;               /* their sizes, rounded as pack.c does */
    int n;
} span;

static void piece(span *s, const void *p, size_t n)
{
    if (!n)
        return;
    uintptr_t a = (uintptr_t)p;
    if (!s->n || a < s->lo)
        s->lo = a;
    if (!s->n || a + n > s->hi)
        s->hi = a + n;
    s->bytes += (n + 7) & ~(size_t)7;
    s->n++;
}

static void cond_pieces(span *s, const aw_cnode *c)
{
    piece(s, c, sizeof *c);
    piece(s, c->kids, c->n * sizeof *c->kids);
    for (size_t i = 0; i < c->n; i++)
        cond_pieces(s, c->kids[i]);
}

/* Walk r as an evaluation does; every leaf is read (kind) on the way. */
static size_t rule_pieces(span *s, const aw_rule *r)
{
    size_t leaves = 0;
    cond_pieces(s, r->cond);
    piece(s, r->searches, r->nsearch * sizeof *r->searches);
    for (size_t k = 0; k < r->nsearch; k++) {
        const aw_search *se = &r->searches[k];
        piece(s, se->alts, se->n * sizeof *se->alts);
        for (size_t c = 0; c < se->n; c++) {
            const aw_conj *cj = &se->alts[c];
            piece(s, cj->items, cj->n * sizeof *cj->items);
            for (size_t i = 0; i < cj->n; i++) {
                const aw_item *it = &cj->items[i];
                piece(s, it->glit, it->n * sizeof *it->glit);
                piece(s, it->groups, it->n * sizeof *it->groups);
                for (size_t g = 0; g < it->n; g++) {
                    piece(s, it->groups[g].alts, it->groups[g].n * sizeof *it->groups[g].alts);
                    for (size_t a = 0; a < it->groups[g].n; a++)
                        leaves += it->groups[g].alts[a].kind <= LM_EXISTS;
                }
            }
        }
    }
    return leaves;
}

static void diag(void *ud, const char *file, unsigned long line, const char *kind, const char *msg)
{
    (void)ud, (void)file, (void)line, (void)kind;
    fail_msg("rule rejected: %s", msg);
}

static void test_contiguous(void **state)
{
    (void)state;
    static const char rules[] =
        "title: many shapes\n"
        "logsource: {product: windows, category: process_creation}\n"
        "detection:\n"
        "  sel_img:\n"
        "    Image|endswith: ['\\cmd.exe', '\\powershell.exe', '\\pwsh.exe']\n"
        "    CommandLine|windash|contains: ['-enc', '-nop']\n"
        "  sel_b64:\n"
        "    CommandLine|base64offset|contains: 'IEX'\n"
        "  sel_re:\n"
        "    CommandLine|re: '\\w+`\\w+'\n"
        "  kw:\n"
        "    - mimikatz\n"
        "    - sekurlsa\n"
        "  sel_list:\n"
        "    - ParentImage: '*\\explorer.exe'\n"
        "    - {User|exists: true, LogonId: 999}\n"
        "  flt_empty:\n"
        "    Hashes: []\n"
        "  flt_null:\n"
        "    Signed: null\n"
        "  condition:\n"
        "    - (sel_img or sel_b64 or sel_re) and not 1 of flt_*\n"
        "    - kw or all of sel_list\n"
        "---\n"
        "title: a filter\n"
        "logsource: {product: windows}\n"
        "filter:\n"
        "  rules: any\n"
        "  f: {User|contains: [svc, system]}\n"
        "  condition: not f\n";
    aw_ruleset *rs = aw_ruleset_new();
    assert_int_equal(aw_ruleset_load_buffer(rs, "pack.yml", rules, strlen(rules), diag, NULL), AW_OK);
    assert_int_equal(aw_ruleset_count(rs), 2);
    for (size_t i = 0; i < 2; i++) {
        const aw_rule *r = aw_ruleset_rule(rs, i);
        span s = {0, 0, 0, 0};
        size_t leaves = rule_pieces(&s, r);
        assert_true(leaves > 0);
        /* one block, no gaps, the condition's root first */
        assert_int_equal(s.hi - s.lo, s.bytes);
        assert_true((uintptr_t)r->cond == s.lo);
        /* every search, conjunction and item after the whole condition */
        span c = {0, 0, 0, 0};
        cond_pieces(&c, r->cond);
        assert_true((uintptr_t)r->searches == c.hi + ((8 - c.hi % 8) % 8));
    }
    aw_ruleset_free(rs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_contiguous),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
