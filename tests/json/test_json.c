/* test_json.c - unit tests for the JSON parser (src/json): escapes,
 * surrogates, UTF-8 validation, depth limit, numbers, errors, path
 * lookup, drop, compact serialisation, leaves and allocation reuse. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "aupwatch/aw_json.h"

static aw_doc *doc;

static int setup(void **st)
{
    (void)st;
    doc = aw_doc_new();
    return doc ? 0 : -1;
}

static int teardown(void **st)
{
    (void)st;
    aw_doc_free(doc);
    doc = NULL;
    return 0;
}

static aw_status parse(const char *s)
{
    aw_errbuf err;
    return aw_doc_parse(doc, s, strlen(s), NULL, &err);
}

/* Parse from an exactly sized heap copy so ASan catches over-reads. */
static aw_status parse_n(const char *s, size_t n, size_t *off, aw_errbuf *err)
{
    char *copy = malloc(n ? n : 1);
    aw_status st;
    memcpy(copy, s, n);
    st = aw_doc_parse(doc, copy, n, off, err);
    free(copy);
    return st;
}

static void expect_error(const char *s, size_t n, const char *msg_part,
                         size_t want_off)
{
    aw_errbuf err = { "" };
    size_t off = 12345;
    aw_status st = parse_n(s, n, &off, &err);
    if (st != AW_EPARSE || !strstr(err.msg, msg_part) ||
        (want_off != (size_t)-1 && off != want_off))
        print_error("input %.*s: st=%d off=%zu msg=%s (want '%s' @%zu)\n",
                    (int)n, s, st, off, err.msg, msg_part, want_off);
    assert_int_equal(st, AW_EPARSE);
    assert_non_null(strstr(err.msg, msg_part));
    if (want_off != (size_t)-1)
        assert_int_equal(off, want_off);
}

#define ERR(lit, part, off) expect_error(lit, sizeof(lit) - 1, part, off)

static const aw_jnode *get(const char *path)
{
    return aw_json_path_first(doc, NULL, path, strlen(path));
}

static const char *getstr(const char *path)
{
    const aw_jnode *n = get(path);
    return n ? n->val : NULL;
}

static void test_basic(void **st)
{
    const aw_jnode *r, *n;
    (void)st;
    assert_int_equal(parse(" {\"a\": 1, \"b\": [true, false, null], "
                           "\"c\": {\"d\": \"x\"}, \"e\": {}, \"f\": []} "),
                     AW_OK);
    r = aw_doc_root(doc);
    assert_non_null(r);
    assert_int_equal(r->type, AW_JOBJ);
    assert_int_equal(aw_doc_count(doc), 10);
    n = aw_json_member(doc, r, "b", 1);
    assert_non_null(n);
    assert_int_equal(n->type, AW_JARR);
    assert_int_equal(n->vlen, strlen("[true, false, null]"));
    assert_memory_equal(n->val, "[true, false, null]", n->vlen);
    assert_int_equal(aw_doc_node(doc, n->child)->type, AW_JTRUE);
    assert_string_equal(aw_doc_node(doc, n->child)->val, "true");
    assert_int_equal(aw_doc_node(doc, aw_doc_node(doc, n->child)->next)->type,
                     AW_JFALSE);
    assert_int_equal(aw_doc_index(doc, n), 2);
    assert_int_equal(aw_doc_node(doc, 2)->parent, 0);
    assert_null(aw_doc_node(doc, 10));
    assert_string_equal(getstr("c.d"), "x");
    assert_int_equal(get("e")->child, 0);
    assert_int_equal(get("f")->type, AW_JARR);
    assert_null(aw_json_member(doc, r, "zz", 2));
    assert_null(aw_json_member(doc, n, "a", 1));
    /* scalars at the top level are values too */
    assert_int_equal(parse("\"s\""), AW_OK);
    assert_int_equal(aw_doc_root(doc)->type, AW_JSTR);
    assert_int_equal(parse(" 42 "), AW_OK);
    assert_true(aw_doc_root(doc)->num == 42.0);
}

static void test_escapes(void **st)
{
    const aw_jnode *n;
    (void)st;
    assert_int_equal(parse("{\"k\\n\": \"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\"}"),
                     AW_OK);
    n = aw_doc_node(doc, 1);
    assert_int_equal(n->klen, 2);
    assert_string_equal(n->key, "k\n");
    assert_string_equal(n->val, "a\"b\\c/d\b\f\n\r\t");
    assert_int_equal(n->vlen, 12);
    /* \u escapes: ASCII, 2-byte, 3-byte, NUL, surrogate pair */
    assert_int_equal(parse("[\"\\u0041\\u00e9\\u20AC\", \"a\\u0000b\", "
                           "\"\\ud83d\\ude00\", \"\\uDBFF\\uDFFF\"]"), AW_OK);
    n = aw_doc_node(doc, 1);
    assert_string_equal(n->val, "A\xc3\xa9\xe2\x82\xac");
    n = aw_doc_node(doc, 2);
    assert_int_equal(n->vlen, 3);
    assert_memory_equal(n->val, "a\0b", 4);
    assert_string_equal(aw_doc_node(doc, 3)->val, "\xf0\x9f\x98\x80");
    assert_string_equal(aw_doc_node(doc, 4)->val, "\xf4\x8f\xbf\xbf");
    assert_true(aw_doc_had_u_escape(doc));
    /* the flag: a \u in a name counts, an escaped backslash before a u
     * does not, and each parse starts clear */
    assert_int_equal(parse("{\"a\\u0062\": \"x\\\\u0062\"}"), AW_OK);
    assert_true(aw_doc_had_u_escape(doc));
    assert_int_equal(parse("{\"ab\": \"x\\\\u0062\"}"), AW_OK);
    assert_false(aw_doc_had_u_escape(doc));
    /* raw UTF-8 passes through */
    assert_int_equal(parse("\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\""),
                     AW_OK);
    assert_string_equal(aw_doc_root(doc)->val,
                        "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
    /* long strings cross the 8-byte fast path with escapes at odd spots */
    assert_int_equal(parse("\"0123456789abcdef\\t0123456789\\u00e9xyz\""),
                     AW_OK);
    assert_string_equal(aw_doc_root(doc)->val,
                        "0123456789abcdef\t0123456789\xc3\xa9xyz");
}

static void test_surrogates(void **st)
{
    (void)st;
    ERR("\"\\ud800\"", "lone high surrogate", 1);
    ERR("\"\\ud800\\u0041\"", "lone high surrogate", 1);
    ERR("\"\\udc00\"", "lone low surrogate", 1);
    ERR("\"ab\\ude00\\ud83d\"", "lone low surrogate", 3);
    ERR("\"\\ud83d", "lone high surrogate", 1);
    ERR("\"\\u12\"", "invalid \\u escape", 1);
    ERR("\"\\u12G4\"", "invalid \\u escape", 1);
    ERR("\"\\x\"", "invalid escape '\\x'", 1);
}

static void test_invalid_utf8(void **st)
{
    (void)st;
    ERR("\"a\xc3(\"", "invalid UTF-8 byte 0xC3 at offset 2", 2);
    ERR("\"\xc0\xaf\"", "invalid UTF-8 byte 0xC0", 1);       /* overlong */
    ERR("\"\xe0\x80\xaf\"", "invalid UTF-8 byte 0xE0", 1);   /* overlong */
    ERR("\"\xf0\x80\x80\xaf\"", "invalid UTF-8 byte 0xF0", 1);
    ERR("\"\xed\xa0\x80\"", "invalid UTF-8 byte 0xED", 1);   /* surrogate */
    ERR("\"\xf4\x90\x80\x80\"", "invalid UTF-8 byte 0xF4", 1); /* >10FFFF */
    ERR("\"\xf5\x80\x80\x80\"", "invalid UTF-8 byte 0xF5", 1);
    ERR("\"\x80\"", "invalid UTF-8 byte 0x80", 1);
    ERR("\"\xe2\x82", "invalid UTF-8 byte 0xE2", 1);         /* truncated */
    ERR("{\"k\xff\":1}", "invalid UTF-8 byte 0xFF", 3);
    ERR("\"a\nb\"", "control character 0x0A", 2);
    ERR("\"a\tb\"", "control character 0x09", 2);
    assert_true(aw_utf8_valid("", 0));
    assert_true(aw_utf8_valid("plain ascii text here", 21));
    assert_true(aw_utf8_valid("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 9));
    assert_false(aw_utf8_valid("abcdefgh\xc3", 9));
    assert_false(aw_utf8_valid("\xed\xbf\xbf", 3));
    assert_false(aw_utf8_valid("\xc1\xbf", 2));
}

static void test_syntax_errors(void **st)
{
    (void)st;
    ERR("", "empty input", 0);
    ERR("   ", "empty input", 3);
    ERR("\"abc", "unterminated string", 0);
    ERR("{\"a\":\"abc", "unterminated string", 5);
    ERR("{\"a\":1} x", "trailing characters after value", 8);
    ERR("{\"a\":1}}", "trailing characters after value", 7);
    ERR("[1 2]", "expected ',' or ']'", 3);
    ERR("{\"a\" 1}", "expected ':'", 5);
    ERR("{a:1}", "expected a member name", 1);
    ERR("{\"a\":1,}", "expected a member name", 7);
    ERR("[1,]", "unexpected character ']'", 3);
    ERR("[1", "unexpected end of input inside array", 2);
    ERR("{\"a\":1", "unexpected end of input inside object", 6);
    ERR("{\"a\":", "unexpected end of input, expected a value", 5);
    ERR("tru", "unexpected character 't'", 0);
    ERR("nul", "unexpected character 'n'", 0);
    ERR("[truex]", "expected ',' or ']'", 5);
    ERR("'a'", "unexpected character '''", 0);
    ERR("\x01", "unexpected byte 0x01", 0);
    ERR("NaN", "unexpected character 'N'", 0);
}

static void test_depth(void **st)
{
    char buf[2 * AW_JSON_MAX_DEPTH + 4];
    int i;
    (void)st;
    for (i = 0; i < AW_JSON_MAX_DEPTH; i++) {
        buf[i] = '[';
        buf[AW_JSON_MAX_DEPTH + i] = ']';
    }
    assert_int_equal(parse_n(buf, 2 * AW_JSON_MAX_DEPTH, NULL, NULL), AW_OK);
    assert_int_equal(aw_doc_count(doc), AW_JSON_MAX_DEPTH);
    memmove(buf + 1, buf, 2 * AW_JSON_MAX_DEPTH);
    buf[0] = '[';
    buf[2 * AW_JSON_MAX_DEPTH + 1] = ']';
    expect_error(buf, 2 * AW_JSON_MAX_DEPTH + 2, "nesting deeper",
                 AW_JSON_MAX_DEPTH);
    /* failed parse leaves an empty document */
    assert_null(aw_doc_root(doc));
    assert_int_equal(aw_doc_count(doc), 0);
}

static void check_num(const char *s, double want)
{
    aw_errbuf err;
    assert_int_equal(parse_n(s, strlen(s), NULL, &err), AW_OK);
    assert_int_equal(aw_doc_root(doc)->type, AW_JNUM);
    assert_string_equal(aw_doc_root(doc)->val, s);
    if (aw_doc_root(doc)->num != want)
        print_error("%s: got %.17g want %.17g\n", s, aw_doc_root(doc)->num,
                    want);
    assert_true(aw_doc_root(doc)->num == want);
}

static void test_numbers(void **st)
{
    (void)st;
    check_num("0", 0);
    check_num("-0", -0.0);
    check_num("7", 7);
    check_num("-12345", -12345);
    check_num("3.25", 3.25);
    check_num("0.1", 0.1);
    check_num("0.000123", 0.000123);
    check_num("1e3", 1000);
    check_num("1E+3", 1000);
    check_num("25e-1", 2.5);
    check_num("1.5e300", 1.5e300);
    check_num("4.9e-324", 4.9e-324);
    check_num("123456789012345678901234567890", 123456789012345678901234567890.0);
    check_num("9007199254740993", 9007199254740993.0);
    check_num("0.30000000000000004", 0.30000000000000004);
    check_num("1e400", strtod("1e400", NULL));
    check_num("1e-400", 0.0);
    check_num("1234567.0000000000000000001", 1234567.0000000000000000001);
    ERR("01", "leading zero", 1);
    ERR("-", "expected digit", 1);
    ERR("-a", "expected digit", 1);
    ERR("1.", "expected digit after '.'", 2);
    ERR("1.e5", "expected digit after '.'", 2);
    ERR("1e", "expected exponent digit", 2);
    ERR("1e+", "expected exponent digit", 3);
    ERR(".5", "unexpected character '.'", 0);
    ERR("+1", "unexpected character '+'", 0);
    ERR("1x", "trailing characters", 1);
    /* numbers inside containers keep their text, NUL-terminated */
    assert_int_equal(parse("[1.50,-2e2]"), AW_OK);
    assert_string_equal(aw_doc_node(doc, 1)->val, "1.50");
    assert_string_equal(aw_doc_node(doc, 2)->val, "-2e2");
    assert_true(aw_doc_node(doc, 2)->num == -200);
}

typedef struct collect {
    char out[512];
    int n;
} collect;

static int collect_fn(const aw_doc *d, const aw_jnode *n, void *ud)
{
    collect *c = ud;
    size_t len = strlen(c->out);
    (void)d;
    if (len)
        c->out[len++] = '|';
    aw_json_compact(d, n, c->out + len, sizeof c->out - len);
    c->n++;
    return 0;
}

static const char *each(const char *path)
{
    static collect c;
    memset(&c, 0, sizeof c);
    assert_int_equal(aw_json_path_each(doc, NULL, path, strlen(path),
                                       collect_fn, &c), 0);
    return c.out;
}

static int stop_fn(const aw_doc *d, const aw_jnode *n, void *ud)
{
    (void)d;
    (void)n;
    return ++*(int *)ud == 2 ? 7 : 0;
}

static void test_path(void **st)
{
    int cnt = 0;
    (void)st;
    assert_int_equal(parse(
        "{\"a\":{\"b\":{\"c\":1}},\"a.b\":{\"c\":2},\"x.y\":3,"
        "\"x\":{\"y\":4,\"z\":5},\"arr\":[{\"k\":1},{\"k\":[2,3]},{\"j\":0},"
        "[{\"k\":4}]],\"end\":[1,[2,[3]]],\"m\":{\"n.o\":{\"p\":6}}}"), AW_OK);
    /* literal dotted key wins over the split */
    assert_string_equal(each("x.y"), "3");
    /* splitting: "a.b.c" -> literal "a.b" then "c" and "a"."b"."c" */
    assert_string_equal(each("a.b.c"), "1|2");
    assert_string_equal(each("m.n.o.p"), "6");
    assert_string_equal(each("x.z"), "5");
    /* arrays in the middle, nested arrays, arrays at the end */
    assert_string_equal(each("arr.k"), "1|2|3|4");
    assert_string_equal(each("end"), "1|2|3");
    assert_string_equal(each("arr.j"), "0");
    assert_string_equal(each("nope"), "");
    assert_string_equal(each("x.y.z"), "");
    assert_string_equal(each("a.b.c.d"), "");
    assert_int_equal(each("")[0], '{');  /* root object itself */
    /* path_first does not expand a final array */
    assert_int_equal(get("end")->type, AW_JARR);
    assert_true(get("arr.k")->num == 1);
    assert_int_equal(get("a.b")->type, AW_JOBJ);
    assert_null(get("missing.key"));
    /* from a sub-node */
    assert_true(aw_json_path_first(doc, get("x"), "z", 1)->num == 5);
    /* visitor stop value propagates */
    assert_int_equal(aw_json_path_each(doc, NULL, "arr.k", 5, stop_fn, &cnt),
                     7);
    assert_int_equal(cnt, 2);
    /* path_each with an empty path visits the root */
    memset(&cnt, 0, sizeof cnt);
    assert_int_equal(parse("[1,[2]]"), AW_OK);
    assert_string_equal(each(""), "1|2");
    /* lookup paths on scalars give nothing */
    assert_int_equal(parse("5"), AW_OK);
    assert_string_equal(each("a"), "");
}

/* Objects note whether a member name holds a '.': path lookups skip the
 * "whole remaining path" tries where none can match, so the flag must
 * be exact (escaped dots, long names, appended members). */
static void test_dotted_names(void **st)
{
    (void)st;
    assert_int_equal(parse("{\"a\":\"x.y\",\"b\":{\"c\":1},\"q\":{\"r\":{\"s.t\":2}}}"), AW_OK);
    assert_int_equal(aw_doc_root(doc)->dotted, 0);         /* a dotted value is no name */
    assert_int_equal(get("b")->dotted, 0);
    assert_int_equal(get("q")->dotted, 0);
    assert_int_equal(get("q.r")->dotted, 1);
    assert_string_equal(each("q.r.s.t"), "2");
    assert_string_equal(each("b.c"), "1");
    /* an escaped dot (\u002e) is a dot: the whole name wins over the split */
    assert_int_equal(parse("{\"m\":{\"n\\u002eo\":5,\"n\":{\"o\":6}}}"), AW_OK);
    assert_int_equal(get("m")->dotted, 1);
    assert_string_equal(each("m.n.o"), "5");
    /* a dot past the first 16 bytes, at the start, after an escape */
    assert_int_equal(parse("{\"k\":{\"abcdefghijklmnopqrstuvwxyz.1\":7},\"l\":{\".z\":8},"
                           "\"e\":{\"a\\\"b.c\":9}}"), AW_OK);
    assert_string_equal(each("k.abcdefghijklmnopqrstuvwxyz.1"), "7");
    assert_string_equal(each("l..z"), "8");
    assert_string_equal(each("e.a\"b.c"), "9");
    /* a dotted member appended to the root is found whole */
    assert_int_equal(parse("{\"u\":{\"v\":1}}"), AW_OK);
    assert_string_equal(each("u.v"), "1");
    assert_int_equal(aw_json_append_member(doc, "u.v", AW_JSTR, "x", 0), AW_OK);
    assert_string_equal(each("u.v"), "\"x\"");
    /* appends follow the parsed members, in order */
    {
        char out[256];
        assert_int_equal(parse("{\"a\":1,\"b\":{\"c\":2},\"d\":[3]}"), AW_OK);
        assert_int_equal(aw_json_append_member(doc, "e", AW_JSTR, "x", 0), AW_OK);
        assert_int_equal(aw_json_append_member(doc, "f", AW_JNUM, "4", 4), AW_OK);
        assert_int_equal(aw_json_append_member(doc, "a", AW_JSTR, "dup", 0), AW_ERR);
        aw_json_compact(doc, NULL, out, sizeof out);
        assert_string_equal(out, "{\"a\":1,\"b\":{\"c\":2},\"d\":[3],\"e\":\"x\",\"f\":4}");
        assert_int_equal(parse("{}"), AW_OK);
        assert_int_equal(aw_json_append_member(doc, "e", AW_JSTR, "x", 0), AW_OK);
        aw_json_compact(doc, NULL, out, sizeof out);
        assert_string_equal(out, "{\"e\":\"x\"}");
    }
}

/* Strings of every length up to 40, with an escape, a non-ASCII letter,
 * a '.' or a control byte at every position, as a member name and as a
 * value, at the record's end and followed by more: short plain strings
 * take a fast path that must agree with the general one (content,
 * length, the dotted flag, errors). */
static void test_string_runs(void **st)
{
    static const char *const special[] = {"", "\\n", "\xc3\xa9", ".", "\x01", "\\u002e"};
    static const char *const decoded[] = {"", "\n", "\xc3\xa9", ".", "", "."};
    char text[256], want[64], in[64];
    (void)st;
    for (size_t len = 0; len <= 40; len++)
        for (size_t k = 0; k < sizeof special / sizeof *special; k++)
            for (size_t at = 0; at <= len; at++) {
                if (k == 0 && at > 0)
                    break;
                /* len plain letters with special[k] inserted at `at` */
                size_t n = 0, w = 0;
                for (size_t i = 0; i <= len; i++) {
                    if (i == at) {
                        n += (size_t)sprintf(in + n, "%s", special[k]);
                        w += (size_t)sprintf(want + w, "%s", decoded[k]);
                    }
                    if (i < len) {
                        in[n++] = (char)('a' + i % 26);
                        want[w++] = (char)('a' + i % 26);
                    }
                }
                in[n] = want[w] = '\0';
                for (int tail = 0; tail < 2; tail++)
                    for (int asname = 0; asname < 2; asname++) {
                        const char *more = tail ? ",\"zzzzzzzzzzzzzzzzzzzz\":\"zzzzzzzzzzzzzzzzzzzz\"" : "";
                        size_t tl = asname ? (size_t)snprintf(text, sizeof text, "{\"%s\":1%s}", in, more)
                                           : (size_t)snprintf(text, sizeof text, "{\"k\":\"%s\"%s}", in, more);
                        aw_errbuf err = {""};
                        size_t off;
                        aw_status rc = parse_n(text, tl, &off, &err);
                        if (k == 4) {                   /* a raw control byte */
                            assert_int_equal(rc, AW_EPARSE);
                            assert_non_null(strstr(err.msg, "control character 0x01"));
                            assert_int_equal(off, (size_t)(asname ? 2 : 6) + at);
                            continue;
                        }
                        if (rc != AW_OK)
                            print_error("%s: %s\n", text, err.msg);
                        assert_int_equal(rc, AW_OK);
                        const aw_jnode *m = aw_doc_node(doc, 1);
                        const char *got = asname ? m->key : m->val;
                        size_t gl = asname ? m->klen : m->vlen;
                        assert_int_equal(gl, w);
                        assert_memory_equal(got, want, w);
                        assert_int_equal(got[gl], '\0');
                        assert_int_equal(aw_doc_root(doc)->dotted, asname && memchr(want, '.', w) != NULL);
                    }
            }
}

/* Compiled paths answer as the string walker: random documents with
 * dotted names, arrays, duplicates, drops and appended members. */
static void rand_value(char *buf, size_t *len, size_t cap, int depth)
{
    static const char *keys[] = {"a", "b", "a.b", "b.c", "c", "a.b.c", "", "x"};
    int r = rand() % (depth > 3 ? 3 : 6);
    if (r == 0) {
        *len += (size_t)snprintf(buf + *len, cap - *len, "%d", rand() % 10);
    } else if (r == 1) {
        *len += (size_t)snprintf(buf + *len, cap - *len, "\"v%d\"", rand() % 10);
    } else if (r == 2) {
        *len += (size_t)snprintf(buf + *len, cap - *len, "null");
    } else if (r == 3) {
        int n = rand() % 3;
        *len += (size_t)snprintf(buf + *len, cap - *len, "[");
        for (int i = 0; i < n; i++) {
            if (i)
                *len += (size_t)snprintf(buf + *len, cap - *len, ",");
            rand_value(buf, len, cap, depth + 1);
        }
        *len += (size_t)snprintf(buf + *len, cap - *len, "]");
    } else {
        int n = rand() % 4;
        *len += (size_t)snprintf(buf + *len, cap - *len, "{");
        for (int i = 0; i < n; i++) {
            *len += (size_t)snprintf(buf + *len, cap - *len, "%s\"%s\":", i ? "," : "", keys[rand() % 8]);
            rand_value(buf, len, cap, depth + 1);
        }
        *len += (size_t)snprintf(buf + *len, cap - *len, "}");
    }
}

static void test_jpath(void **st)
{
    static const char *paths[] = {"a", "b", "a.b", "a.b.c", "b.c", "a.b.c.x", "c.a", "", "x",
                                  "a..b", "a.", ".a", "a.x.b", "b.c.a.b", "aw.t", "aw.t.x"};
    char buf[16384];
    (void)st;
    srand(5);
    for (int round = 0; round < 3000; round++) {
        size_t len = 0;
        len += (size_t)snprintf(buf, sizeof buf, "{\"a\":");
        rand_value(buf, &len, sizeof buf, 1);
        len += (size_t)snprintf(buf + len, sizeof buf - len, ",\"%s\":", round % 3 ? "b" : "a.b");
        rand_value(buf, &len, sizeof buf, 1);
        len += (size_t)snprintf(buf + len, sizeof buf - len, ",\"x\":");
        rand_value(buf, &len, sizeof buf, 1);
        len += (size_t)snprintf(buf + len, sizeof buf - len, "}");
        assert_int_equal(parse(buf), AW_OK);
        if (round % 4 == 1)
            aw_json_drop(doc, "a.b", 3);
        if (round % 5 == 2)
            assert_int_equal(aw_json_append_member(doc, round % 2 ? "aw.t" : "a.b.c", AW_JSTR, "d", 0), AW_OK);
        for (size_t i = 0; i < sizeof paths / sizeof *paths; i++) {
            aw_jpath *jp = aw_jpath_new(paths[i], strlen(paths[i]));
            char want[4096];
            assert_non_null(jp);
            snprintf(want, sizeof want, "%s", each(paths[i]));
            static collect c;
            memset(&c, 0, sizeof c);
            assert_int_equal(aw_jpath_each(doc, jp, collect_fn, &c), 0);
            if (strcmp(c.out, want) != 0)
                fail_msg("%s in %s: compiled [%s], walker [%s]", paths[i], buf, c.out, want);
            assert_ptr_equal(aw_jpath_first(doc, jp), get(paths[i]));
            if (round % 7 == 3) {                   /* drop: same nodes hidden */
                char before[16384], a[16384], b[16384];
                aw_json_compact(doc, NULL, before, sizeof before);
                assert_int_equal(parse(before), AW_OK);
                size_t na = aw_jpath_drop(doc, jp);
                aw_json_compact(doc, NULL, a, sizeof a);
                assert_int_equal(parse(before), AW_OK);
                size_t nb = aw_json_drop(doc, paths[i], strlen(paths[i]));
                aw_json_compact(doc, NULL, b, sizeof b);
                assert_int_equal(na, nb);
                assert_string_equal(a, b);
                assert_int_equal(parse(before), AW_OK);
            }
            aw_jpath_free(jp);
        }
    }
    /* a root of another type */
    assert_int_equal(parse("[{\"a\":1},{\"a\":[2,3]}]"), AW_OK);
    aw_jpath *jp = aw_jpath_new("a", 1);
    static collect c;
    memset(&c, 0, sizeof c);
    aw_jpath_each(doc, jp, collect_fn, &c);
    assert_string_equal(c.out, "1|2|3");
    aw_jpath_free(jp);
}

static int leaf_fn(const aw_doc *d, const aw_jnode *n, void *ud)
{
    collect *c = ud;
    size_t len = strlen(c->out);
    if (len)
        c->out[len++] = '|';
    aw_json_compact(d, n, c->out + len, sizeof c->out - len);
    c->n++;
    return 0;
}

static void test_drop_leaves(void **st)
{
    collect c;
    char out[256];
    (void)st;
    assert_int_equal(parse("{\"a\":{\"b\":1,\"c\":[2,\"s\",{\"d\":true}]},"
                           "\"e\":null,\"f\":\"x\",\"g\":[{\"h\":1},{\"h\":2}]}"),
                     AW_OK);
    memset(&c, 0, sizeof c);
    assert_int_equal(aw_json_leaves_each(doc, leaf_fn, &c), 0);
    assert_string_equal(c.out, "1|2|\"s\"|true|\"x\"|1|2");
    assert_int_equal(aw_json_drop(doc, "a.c", 3), 5);
    assert_int_equal(aw_json_drop(doc, "a.c", 3), 0);   /* already gone */
    assert_null(get("a.c"));
    assert_null(get("a.c.d"));
    assert_int_equal(aw_json_drop(doc, "g.h", 3), 2);   /* fan-out drop */
    assert_int_equal(aw_json_drop(doc, "zz", 2), 0);
    assert_int_equal(aw_json_drop(doc, "", 0), 0);
    memset(&c, 0, sizeof c);
    aw_json_leaves_each(doc, leaf_fn, &c);
    assert_string_equal(c.out, "1|\"x\"");
    aw_json_compact(doc, NULL, out, sizeof out);
    assert_string_equal(out, "{\"a\":{\"b\":1},\"e\":null,\"f\":\"x\","
                             "\"g\":[{},{}]}");
    assert_null(aw_json_member(doc, get("a"), "c", 1));
    /* a new parse clears drops */
    assert_int_equal(parse("{\"a\":1}"), AW_OK);
    assert_true(get("a")->num == 1);
}

/* First member named k that is not dropped, by walking the root: what
 * the root's hash index must answer. */
static const aw_jnode *member_linear(const char *k, size_t n)
{
    const aw_jnode *r = aw_doc_root(doc);
    for (uint32_t i = r->child; i; i = aw_doc_node(doc, i)->next) {
        const aw_jnode *m = aw_doc_node(doc, i);
        if (!m->dropped && m->klen == n && memcmp(m->key, k, n) == 0)
            return m;
    }
    return NULL;
}

/* The root's member index (and its mask of key hashes) agrees with a
 * linear walk: random objects with duplicate keys, dropped members,
 * members appended after the index was built, and more members than
 * the index takes. */
static void test_root_index(void **st)
{
    static const char *names[] = {"a", "b", "eventName", "eventSource", "eventType", "userIdentity",
                                  "awsRegion", "x.y", "errorCode", "k", "kk", "kkk", "Event", "schemaType",
                                  "protoPayload", "operationName", "category", "resourceId"};
    size_t nn = sizeof names / sizeof *names;
    char buf[8192], key[32];
    (void)st;
    srand(7);
    for (int round = 0; round < 400; round++) {
        size_t len = 0, members = (size_t)(rand() % (round % 5 == 4 ? 120 : 24));
        len += (size_t)snprintf(buf + len, sizeof buf - len, "{");
        for (size_t i = 0; i < members; i++) {
            if (rand() % 3)
                snprintf(key, sizeof key, "%s", names[rand() % nn]);
            else
                snprintf(key, sizeof key, "m%d", rand() % 200);
            len += (size_t)snprintf(buf + len, sizeof buf - len, "%s\"%s\":%zu", i ? "," : "", key, i);
        }
        snprintf(buf + len, sizeof buf - len, "}");
        assert_int_equal(parse(buf), AW_OK);
        if (round % 3 == 0) {
            const char *dn = names[rand() % nn];
            aw_json_drop(doc, dn, strlen(dn));
        }
        for (int q = 0; q < 300; q++) {
            if (q == 150 && round % 2 == 0) {       /* after the index was built */
                aw_status as = aw_json_append_member(doc, names[round % nn], AW_JSTR, "v", 0);
                assert_true(as == AW_OK || as == AW_ERR);
            }
            if (rand() % 2)
                snprintf(key, sizeof key, "%s", names[rand() % nn]);
            else
                snprintf(key, sizeof key, "m%d", rand() % 220);
            size_t kn = strlen(key);
            const aw_jnode *want = member_linear(key, kn);
            assert_ptr_equal(aw_json_member(doc, aw_doc_root(doc), key, kn), want);
            /* the Bloom filter never denies a present name */
            if (want)
                assert_true(aw_json_root_bloom(doc) >> (aw_json_key_hash(key, kn) & 63) & 1);
        }
    }
}

static void test_compact_quote(void **st)
{
    char out[256];
    size_t n;
    (void)st;
    assert_int_equal(parse(" { \"k\\u0001\" : [ 1.50 , \"a\\\"\\\\\\n\\u001f"
                           "\\u00e9/\" , { } , [ ] , true , null ] } "), AW_OK);
    n = aw_json_compact(doc, aw_doc_root(doc), out, sizeof out);
    assert_string_equal(out, "{\"k\\u0001\":[1.50,\"a\\\"\\\\\\n\\u001f"
                             "\xc3\xa9/\",{},[],true,null]}");
    assert_int_equal(n, strlen(out));
    /* round trip: compact output parses to the same compact output */
    {
        char again[256];
        assert_int_equal(parse_n(out, n, NULL, NULL), AW_OK);
        aw_json_compact(doc, NULL, again, sizeof again);
        assert_string_equal(again, out);
    }
    /* truncation follows snprintf */
    assert_int_equal(aw_json_compact(doc, NULL, out, 5), n);
    assert_string_equal(out, "{\"k\\");
    assert_int_equal(aw_json_compact(doc, NULL, NULL, 0), n);
    assert_int_equal(aw_json_quote("a\"b", 3, out, sizeof out), 6);
    assert_string_equal(out, "\"a\\\"b\"");
    assert_int_equal(aw_json_quote("", 0, out, sizeof out), 2);
    assert_string_equal(out, "\"\"");
    assert_int_equal(aw_json_quote("\b\f\r\t\x7f", 5, out, sizeof out), 11);
    assert_string_equal(out, "\"\\b\\f\\r\\t\x7f\"");
    /* invalid UTF-8 is written as \u00XX so the output stays valid */
    assert_int_equal(aw_json_quote("x\xff\xc3\xa9", 4, out, sizeof out), 11);
    assert_string_equal(out, "\"x\\u00ff\xc3\xa9\"");
    /* worst case growth is 6x (fuzz_json harness once assumed 4x) */
    assert_int_equal(aw_json_quote("\xff\xfe\x80", 3, out, sizeof out), 20);
    assert_string_equal(out, "\"\\u00ff\\u00fe\\u0080\"");
    assert_int_equal(aw_json_quote("abcdef", 6, out, 4), 8);
    assert_string_equal(out, "\"ab");
}

/* After warm-up the document does not reallocate: buffers stay put. */
static void test_reuse(void **st)
{
    const char *big = "{\"a\":[1,2,3,4,5,6,7,8,9,10],\"s\":\"\\u00e9\\n\","
                      "\"o\":{\"p\":{\"q\":\"r\"}}}";
    const aw_jnode *root;
    int i;
    (void)st;
    assert_int_equal(parse(big), AW_OK);
    root = aw_doc_root(doc);
    for (i = 0; i < 100; i++) {
        assert_int_equal(parse(i % 2 ? big : "{\"x\":1}"), AW_OK);
        assert_ptr_equal(aw_doc_root(doc), root);
    }
    assert_int_equal(parse(big), AW_OK);
    assert_string_equal(getstr("o.p.q"), "r");
    assert_string_equal(getstr("s"), "\xc3\xa9\n");
}

/* Many nodes: the node array grows while strings stay valid. */
static void test_large(void **st)
{
    size_t cap = 1 << 20, len = 0;
    char *buf = malloc(cap);
    int i;
    (void)st;
    buf[len++] = '[';
    for (i = 0; i < 50000; i++)
        len += (size_t)snprintf(buf + len, cap - len, "%s{\"k%d\":\"v%d\"}",
                                i ? "," : "", i, i);
    buf[len++] = ']';
    assert_int_equal(parse_n(buf, len, NULL, NULL), AW_OK);
    assert_int_equal(aw_doc_count(doc), 100001);
    assert_string_equal(aw_doc_node(doc, 2)->key, "k0");
    assert_string_equal(aw_doc_node(doc, 100000)->val, "v49999");
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_basic, setup, teardown),
        cmocka_unit_test_setup_teardown(test_escapes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_surrogates, setup, teardown),
        cmocka_unit_test_setup_teardown(test_invalid_utf8, setup, teardown),
        cmocka_unit_test_setup_teardown(test_syntax_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_depth, setup, teardown),
        cmocka_unit_test_setup_teardown(test_numbers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_path, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dotted_names, setup, teardown),
        cmocka_unit_test_setup_teardown(test_string_runs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_jpath, setup, teardown),
        cmocka_unit_test_setup_teardown(test_drop_leaves, setup, teardown),
        cmocka_unit_test_setup_teardown(test_root_index, setup, teardown),
        cmocka_unit_test_setup_teardown(test_compact_quote, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reuse, setup, teardown),
        cmocka_unit_test_setup_teardown(test_large, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
