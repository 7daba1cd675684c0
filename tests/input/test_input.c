/* test_input.c - unit tests for the record reader (src/input): every
 * layout, gzip (single and multi-member), zstd, stdin, malformed input
 * and resynchronisation, size limits, line numbers, directory walking,
 * and the shared corpora under $AW_SHARED (skipped when absent). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>
#include <cmocka.h>

#include "aupwatch/aw_input.h"
#include "aupwatch/aw_json.h"

static char tmpdir[256];

static int group_setup(void **st)
{
    (void)st;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/aw_test_input.XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int group_teardown(void **st)
{
    char cmd[300];
    (void)st;
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static const char *tpath(const char *name)
{
    static char buf[4][512];
    static int i;
    i = (i + 1) & 3;
    snprintf(buf[i], sizeof buf[i], "%s/%s", tmpdir, name);
    return buf[i];
}

static void write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

static size_t offered;      /* bytes offered to parse_line */

/* The scanner's line function: the line is one JSON object. */
static size_t parse_line(void *ud, const char *line, size_t len)
{
    aw_errbuf e;
    offered += len;
    if (aw_doc_parse(ud, line, len, NULL, &e) != AW_OK)
        return 0;
    const aw_jnode *root = aw_doc_root(ud);
    return root->type == AW_JOBJ ? root->vlen : 0;
}

/* One outcome of aw_reader_next, numbered recno: "OK recno@line:<bytes>",
 * "EPARSE recno@line" / "ELIMIT recno@line" (with `msgs`, then the
 * message) or "EIO". */
static size_t describe_one(char *out, size_t cap, aw_status st, const aw_record *rec,
                           uint64_t recno, const aw_errbuf *err, int msgs)
{
    if (st == AW_OK)
        return (size_t)snprintf(out, cap, "OK %llu@%llu:%.*s", (unsigned long long)recno,
                                (unsigned long long)rec->line, (int)(rec->len > 200 ? 200 : rec->len),
                                rec->data);
    if (st == AW_EIO)
        return (size_t)snprintf(out, cap, "EIO");
    assert_true(strlen(err->msg) > 0);
    return (size_t)snprintf(out, cap, "%s %llu@%llu%s%s", st == AW_ELIMIT ? "ELIMIT" : "EPARSE",
                            (unsigned long long)recno, (unsigned long long)rec->line, msgs ? " " : "",
                            msgs ? err->msg : "");
}

/* Readers decode on a thread of their own when g_opts.decode_thread is
 * set (the same records, errors and counters are expected either way). */
static aw_reader_opts g_opts;

/* Read every record of `path` and describe the outcome, one item per
 * call of aw_reader_next: "OK recno@line:<bytes>" or "EPARSE recno@line"
 * / "ELIMIT recno@line", joined with '\n'; EOF ends the list. With
 * `lines`, records are framed through parse_line where it takes them;
 * with `msgs`, error messages are described too. */
static char *describe_as(const char *path, size_t max_record, int parse, int lines, int msgs)
{
    static char out[1 << 22];
    aw_reader_opts o = { .max_record = max_record, .decode_thread = g_opts.decode_thread,
                         .solo_max = g_opts.solo_max };
    aw_reader *r;
    aw_errbuf err;
    aw_record rec;
    aw_status st;
    aw_doc *d = aw_doc_new(), *ld = aw_doc_new();
    size_t len = 0;
    int guard = 0;
    out[0] = '\0';
    assert_int_equal(aw_reader_open(&r, path, &o, &err), AW_OK);
    if (lines)
        aw_reader_set_line_fn(r, parse_line, ld);
    while ((st = aw_reader_next(r, &rec, &err)) != AW_EOF) {
        assert_true(++guard < 100000);
        if (len)
            out[len++] = '\n';
        len += describe_one(out + len, sizeof out - len, st, &rec, rec.recno, &err, msgs);
        if (st == AW_OK) {
            assert_true(!rec.taken || lines);
            if (parse)
                assert_int_equal(aw_doc_parse(d, rec.data, rec.len, NULL,
                                              &err), AW_OK);
        }
        if (st == AW_EIO || len >= sizeof out - 256)
            break;
    }
    aw_reader_close(r);
    aw_doc_free(d);
    aw_doc_free(ld);
    return out;
}

/* The records of chunk c, each framed alone from top level, appended
 * to out[*len..) (numbered after *recno); a chunk after one that ended
 * elsewhere (*clean 0: an array open) is framed again from that state
 * (*carry). */
static void describe_chunk(const aw_chunk *c, size_t max_record, aw_doc *ld, char *out, size_t cap,
                           size_t *len, uint64_t *recno, int *clean, aw_fstate *carry)
{
    aw_record rec;
    aw_errbuf err;
    aw_status st;
    for (int pass = 0; pass < 2; pass++) {
        size_t at = *len;
        aw_reader *cr = aw_reader_open_chunk(c, pass ? carry : NULL, max_record);
        aw_fstate end;
        assert_non_null(cr);
        aw_reader_set_line_fn(cr, parse_line, ld);
        while ((st = aw_reader_next(cr, &rec, &err)) != AW_EOF && *len < cap - 512) {
            assert_true(st != AW_EIO);
            if (*len)
                out[(*len)++] = '\n';
            *len += describe_one(out + *len, cap - *len, st, &rec, *recno + rec.recno, &err, 1);
        }
        int ends_clean = aw_reader_chunk_end(cr, &end);
        uint64_t used = aw_reader_recno(cr);
        aw_reader_close(cr);
        if (!*clean && !pass) {                 /* started in the wrong state: again */
            *len = at;
            out[*len] = '\0';
            continue;
        }
        *recno += used;
        *clean = ends_clean;
        *carry = end;
        return;
    }
}

enum { CHUNK_COPY, CHUNK_SWAP, CHUNK_RANGES };

/* After a chunk, the rest of a regular file in ranges (aw_reader_range),
 * as the threaded scanner hands them to its workers: cut with
 * aw_range_cut (look-ahead `limit`), read with aw_range_read, framed as
 * chunks. Returns 1 at the end of the file; 0 where the ranges stop (an
 * envelope, no cut near enough, or none begun), the reader then
 * standing there. */
static int describe_ranges(aw_reader *r, size_t want, size_t limit, size_t max_record, aw_doc *ld,
                           char *out, size_t cap, size_t *len, uint64_t *recno, int *clean,
                           aw_fstate *carry)
{
    aw_range rg;
    aw_errbuf err;
    if (!aw_reader_range(r, want, &rg))
        return 0;
    assert_true(rg.fd >= 0 && rg.size - rg.pos >= 2 * want);
    uint64_t at = rg.pos, line = rg.line;
    for (;;) {
        uint64_t cut;
        int envelope;
        aw_status st = aw_range_cut(&rg, at + want, limit, &cut, &envelope, &err);
        if (st == AW_ELIMIT)
            break;
        assert_int_equal(st, AW_OK);
        assert_true(cut > at && cut <= rg.size);
        size_t n = (size_t)(cut - at), more = cut < rg.size;
        char *buf = malloc(n + 1);
        assert_non_null(buf);
        assert_int_equal(aw_range_read(&rg, at, buf, n + more, &err), AW_OK);
        assert_true(!more || (buf[n] == '{' && buf[n - 1] == '\n'));
        aw_chunk c = {buf, n, !more, line, NULL};
        describe_chunk(&c, max_record, ld, out, cap, len, recno, clean, carry);
        line += aw_input_newlines(buf, n);
        free(buf);
        at = cut;
        if (!more) {
            aw_range_close(&rg);
            return 1;
        }
        if (envelope)
            break;
    }
    aw_range_close(&rg);
    if (at != rg.pos)
        assert_int_equal(aw_reader_seek(r, at, line, &err), AW_OK);
    return 0;
}

/* Chunks cut in place from a shared buffer (aw_chunk.hold), kept as the
 * scanner keeps them, past later reads: each with a checksum of its
 * bytes, checked (and released) after the reader is closed. */
static size_t held_total;               /* chunks cut in place so far */

typedef struct held_chunks {
    aw_hold *h[256];
    const char *data[256];
    size_t len[256];
    uint64_t sum[256];
    size_t n;
} held_chunks;

/* FNV-1a of n bytes: a chunk's or record's bytes, checked again later */
static uint64_t fnv(const char *p, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)p[i]) * 1099511628211ull;
    return h;
}

static void held_check(held_chunks *hc)
{
    for (size_t i = 0; i < hc->n; i++) {
        assert_true(fnv(hc->data[i], hc->len[i]) == hc->sum[i]);
        aw_hold_release(hc->h[i]);
    }
    hc->n = 0;
}

static void held_add(held_chunks *hc, const aw_chunk *c)
{
    size_t len = c->len + !c->eof;      /* and the next chunk's '{' */
    if (hc->n == sizeof hc->h / sizeof *hc->h) {
        aw_hold_release(hc->h[0]);      /* the oldest: checked when added */
        memmove(hc->h, hc->h + 1, (hc->n - 1) * sizeof *hc->h);
        memmove(hc->data, hc->data + 1, (hc->n - 1) * sizeof *hc->data);
        memmove(hc->len, hc->len + 1, (hc->n - 1) * sizeof *hc->len);
        memmove(hc->sum, hc->sum + 1, (hc->n - 1) * sizeof *hc->sum);
        hc->n--;
    }
    hc->h[hc->n] = c->hold;
    hc->data[hc->n] = c->data;
    hc->len[hc->n] = len;
    hc->sum[hc->n] = fnv(c->data, len);
    hc->n++;
    held_total++;
}

/* describe_as(path, max_record, 0, 1, 1) as the threaded scanner frames
 * it: chunks of about `want` bytes (aw_reader_chunk; CHUNK_SWAP:
 * aw_reader_chunk_swap, the chunk handed over with its buffer and the
 * previous chunk's buffer given back; CHUNK_RANGES: that, then the rest
 * of the file in ranges), each framed alone from top level (see
 * describe_chunk), and the stream reader resumes after chunks from the
 * last one's state. */
static char *describe_chunked(const char *path, size_t max_record, size_t want, int mode)
{
    static char out[1 << 22];
    aw_reader_opts o = { .max_record = max_record, .decode_thread = g_opts.decode_thread,
                         .solo_max = g_opts.solo_max };
    aw_reader *r;
    aw_errbuf err;
    aw_record rec;
    aw_status st;
    aw_doc *ld = aw_doc_new();
    size_t len = 0;
    uint64_t recno = 0;
    int chunked = 0, clean = 1, swap = mode != CHUNK_COPY;
    aw_fstate carry;
    char *spare = NULL;                 /* swap: the buffer handed to the reader */
    size_t spare_cap = 0;
    held_chunks held = {0};             /* chunks cut in place: kept to the end */
    out[0] = '\0';
    assert_int_equal(aw_reader_open(&r, path, &o, &err), AW_OK);
    aw_reader_set_line_fn(r, parse_line, ld);
    for (int guard = 0; len < sizeof out - 512; guard++) {
        aw_chunk c;
        assert_true(guard < 100000);
        st = swap ? aw_reader_chunk_swap(r, want, &c, &spare, &spare_cap, &err) : aw_reader_chunk(r, want, &c, &err);
        if (st == AW_OK && c.len) {
            char *copy;                 /* the chunk and the next '{' */
            if (swap && c.hold) {
                copy = (char *)(uintptr_t)c.data;   /* a gzip member's: read only */
                held_add(&held, &c);
            } else if (swap) {
                assert_ptr_equal(c.data, spare);
                assert_true(spare_cap >= c.len + !c.eof);
                copy = spare;           /* ours now: given back next time */
            } else {
                copy = malloc(c.len + 1);   /* as the scanner did: a copy */
                memcpy(copy, c.data, c.len + !c.eof);
            }
            c.data = copy;
            describe_chunk(&c, max_record, ld, out, sizeof out, &len, &recno, &clean, &carry);
            if (!swap)
                free(copy);
            chunked = 1;
            if (mode == CHUNK_RANGES && !c.eof &&
                describe_ranges(r, want, want < 64 ? 4 * want : 1 << 20, max_record, ld, out, sizeof out, &len,
                                &recno, &clean, &carry))
                break;
            continue;
        }
        if (st == AW_EOF)
            break;
        if (st == AW_OK && chunked) {
            aw_reader_resume(r, &carry, recno);
            chunked = 0;
            clean = 1;
        }
        if (st == AW_OK && (st = aw_reader_next(r, &rec, &err)) == AW_EOF)
            break;
        if (len)
            out[len++] = '\n';
        len += describe_one(out + len, sizeof out - len, st, &rec, rec.recno, &err, 1);
        if (st == AW_EIO)
            break;
        recno = rec.recno;
    }
    aw_reader_close(r);
    held_check(&held);                  /* their bytes outlive the reader */
    free(spare);
    aw_doc_free(ld);
    return out;
}

/* The records and errors of `path`, which must be the same framed byte
 * by byte, through the line function, and in chunks of several sizes. */
static char *describe(const char *path, size_t max_record, int parse)
{
    static char plain[1 << 22];
    snprintf(plain, sizeof plain, "%s", describe_as(path, max_record, parse, 0, 1));
    assert_string_equal(describe_as(path, max_record, parse, 1, 1), plain);
    static const size_t wants[] = {1, 9, 40, 1 << 20};
    for (size_t i = 0; i < sizeof wants / sizeof *wants; i++)
        for (int mode = CHUNK_COPY; mode <= CHUNK_RANGES; mode++)
            assert_string_equal(describe_chunked(path, max_record, wants[i], mode), plain);
    return describe_as(path, max_record, parse, 0, 0);
}

static char *describe_str(const char *content, size_t max_record)
{
    const char *p = tpath("case.json");
    write_file(p, content, strlen(content));
    return describe(p, max_record, 0);
}

#define CHECK(content, want) \
    assert_string_equal(describe_str(content, 0), want)

static void test_jsonl(void **st)
{
    (void)st;
    CHECK("{\"a\":1}\n{\"b\":2}\n\n{\"c\":3}\n",
          "OK 1@1:{\"a\":1}\nOK 2@2:{\"b\":2}\nOK 3@4:{\"c\":3}");
    /* no trailing newline */
    CHECK("{\"a\":1}\n{\"b\":2}", "OK 1@1:{\"a\":1}\nOK 2@2:{\"b\":2}");
    /* CRLF line endings: \r is not part of the record */
    CHECK("{\"a\":1}\r\n{\"b\":\"x\\r\"}\r\n\r\n{\"c\":3}\r\n",
          "OK 1@1:{\"a\":1}\nOK 2@2:{\"b\":\"x\\r\"}\nOK 3@4:{\"c\":3}");
    /* several objects on one line, braces inside strings, escapes */
    CHECK("{\"a\":\"}{\\\"\"} {\"b\":[{}]}{\"c\":\"\\\\\"}\n",
          "OK 1@1:{\"a\":\"}{\\\"\"}\nOK 2@1:{\"b\":[{}]}\n"
          "OK 3@1:{\"c\":\"\\\\\"}");
    /* UTF-8 byte order mark */
    CHECK("\xEF\xBB\xBF{\"a\":1}\n", "OK 1@1:{\"a\":1}");
    /* empty and blank files */
    CHECK("", "");
    CHECK(" \n\r\n\t\n", "");
}

/* Lines the line function takes, rejects or half takes, in every
 * layout: framing through it must give the same records and errors as
 * byte by byte (describe() compares the two). */
static void test_line_fn_equivalence(void **st)
{
    static const char *const frag[] = {
        "{\"a\":1}", "{\"b\":\"x\\\"}{\"}", "{\"c\":[1,{\"d\":null}]}", " {\"e\":true} ",
        "{\"f\":1}{\"g\":2}", "{\"h\":", "\"str\"", "[{\"i\":1},{\"j\":2}]",
        "{\"Records\":[{\"k\":1}]}", "{\n \"l\": 2\n}", "{\"m\":\"\xff\"}", "{\"n\":01}",
        "garbage", "{\"o\":\"tab\there\"}", "}", "]", "{\"p\":1}  x", "{\"q\":\"\\u00e9\\ud800\"}",
        "{\"r\":{\"s\":[[[]]]},\"t\":-1.5e3}", "{}", "{ }", "{\"u\":\"long value long value\"}",
        /* arrays and envelopes open across a line that starts with '{' */
        "[{\"v\":1},\n{\"w\":2}]", "{\"Records\":[{\"x\":1},\n{\"y\":2}]}", "[\n{\"z\":3}\n]",
        "{\"Records\":[\n{\"x\":1}\n] ,\n{\"o\":1}}", "[\n", "{\"w\":\n{\"v\":1}",
    };
    static const char *const sep[] = {"\n", "\r\n", " ", "", "\n\n", "\t\n"};
    const size_t nf = sizeof frag / sizeof *frag, ns = sizeof sep / sizeof *sep;
    char buf[4096];
    unsigned seed = 12345;
    (void)st;
    for (int round = 0; round < 3000; round++) {
        size_t len = 0;
        int parts = 1 + (int)((seed = seed * 1103515245u + 12345u) >> 16) % 8;
        for (int k = 0; k < parts; k++) {
            const char *f = frag[((seed = seed * 1103515245u + 12345u) >> 16) % nf];
            const char *sp = sep[((seed = seed * 1103515245u + 12345u) >> 16) % ns];
            len += (size_t)snprintf(buf + len, sizeof buf - len, "%s%s", f, sp);
        }
        size_t max = ((seed = seed * 1103515245u + 12345u) >> 16) % 4 == 0 ? 12 : 0;
        const char *p = tpath("lines.json");
        write_file(p, buf, len);
        describe(p, max, 0);
    }
}

/* Each line is offered to the line function once, however many
 * objects it holds: concatenated objects on one long line (with or
 * without a newline at the end) cost linear work, not one offer of the
 * rest of the line per object. */
static void test_line_fn_linear(void **st)
{
    const size_t n = 20000;
    char *buf = malloc(n * 8 + 2);
    (void)st;
    for (int nl = 0; nl < 2; nl++) {
        size_t len = 0;
        for (size_t i = 0; i < n; i++)
            len += (size_t)sprintf(buf + len, "{\"a\":%zu}", i % 10);
        if (nl)
            buf[len++] = '\n';
        const char *p = tpath("long.json");
        write_file(p, buf, len);
        aw_reader *r;
        aw_record rec;
        aw_errbuf err;
        aw_doc *d = aw_doc_new();
        size_t records = 0;
        offered = 0;
        assert_int_equal(aw_reader_open(&r, p, NULL, &err), AW_OK);
        aw_reader_set_line_fn(r, parse_line, d);
        while (aw_reader_next(r, &rec, &err) == AW_OK)
            records++;
        aw_reader_close(r);
        aw_doc_free(d);
        assert_int_equal(records, n);
        if (offered > len)
            fail_msg("%zu bytes offered to the line function for a line of %zu", offered, len);
    }
    free(buf);
}

static void test_concatenated_pretty(void **st)
{
    (void)st;
    CHECK("{\n  \"a\": {\n    \"b\": [\n      1\n    ]\n  }\n}\n"
          "{\n  \"c\": \"{\"\n}\n",
          "OK 1@1:{\n  \"a\": {\n    \"b\": [\n      1\n    ]\n  }\n}\n"
          "OK 2@8:{\n  \"c\": \"{\"\n}");
}

static void test_array(void **st)
{
    (void)st;
    CHECK("[{\"a\":1},{\"b\":[2]} , {\"c\":3}]",
          "OK 1@1:{\"a\":1}\nOK 2@1:{\"b\":[2]}\nOK 3@1:{\"c\":3}");
    CHECK("[\n  {\n    \"a\": 1\n  },\n  {\n    \"b\": 2\n  }\n]\n",
          "OK 1@2:{\n    \"a\": 1\n  }\nOK 2@5:{\n    \"b\": 2\n  }");
    CHECK("[]", "");
    CHECK("[1, \"s,]\", true, null, -2.5e3, [3]]",
          "OK 1@1:1\nOK 2@1:\"s,]\"\nOK 3@1:true\nOK 4@1:null\n"
          "OK 5@1:-2.5e3\nOK 6@1:[3]");
    /* trailing comma is tolerated; arrays may follow each other */
    CHECK("[{\"a\":1},]\n[{\"b\":2}]",
          "OK 1@1:{\"a\":1}\nOK 2@2:{\"b\":2}");
    /* unclosed array at end of input */
    CHECK("[{\"a\":1},\n{\"b\":2}", "OK 1@1:{\"a\":1}\nOK 2@2:{\"b\":2}\n"
          "EPARSE 3@1");
}

static void test_envelope(void **st)
{
    (void)st;
    CHECK("{\"Records\":[{\"a\":1},{\"b\":2}]}",
          "OK 1@1:{\"a\":1}\nOK 2@1:{\"b\":2}");
    CHECK("{\n  \"Records\" : [\n    {\n      \"a\": 1\n    },\n"
          "    {\"b\": 2}\n  ]\n}\n",
          "OK 1@3:{\n      \"a\": 1\n    }\nOK 2@6:{\"b\": 2}");
    /* several envelopes, one per line (as produced by zcat *.json.gz) */
    CHECK("{\"Records\":[{\"a\":1}]}\n{\"Records\":[]}\n"
          "{\"Records\":[{\"b\":2}]}\n",
          "OK 1@1:{\"a\":1}\nOK 2@3:{\"b\":2}");
    /* members after the array are skipped */
    CHECK("{\"Records\":[{\"a\":1}],\"x\":{\"y\":\"]}\"}}\n{\"z\":1}",
          "OK 1@1:{\"a\":1}\nOK 2@2:{\"z\":1}");
    /* not an envelope: Records not first, or not an array */
    CHECK("{\"x\":1,\"Records\":[{\"a\":1}]}\n{\"Records\":{\"a\":1}}\n"
          "{\"Records\" :1}",
          "OK 1@1:{\"x\":1,\"Records\":[{\"a\":1}]}\n"
          "OK 2@2:{\"Records\":{\"a\":1}}\nOK 3@3:{\"Records\" :1}");
    /* truncated envelope */
    CHECK("{\"Records\":[{\"a\":1},{\"b\":",
          "OK 1@1:{\"a\":1}\nEPARSE 2@1");
    CHECK("{\"Records\":[{\"a\":1}]", "OK 1@1:{\"a\":1}\nEPARSE 2@1");
}

static void test_truncated(void **st)
{
    (void)st;
    CHECK("{\"a\":1}\n{\"b\":", "OK 1@1:{\"a\":1}\nEPARSE 2@2");
    CHECK("{\"a\":1}\n{\"b\":\"abc", "OK 1@1:{\"a\":1}\nEPARSE 2@2");
    CHECK("{\"a\":1}\n{\"b\":\"abc\\", "OK 1@1:{\"a\":1}\nEPARSE 2@2");
    /* a truncated pretty record followed by good ones */
    CHECK("{\n  \"a\": {\n    \"b\": 1\n{\n  \"c\": 2\n}\n",
          "EPARSE 1@1\nOK 2@4:{\n  \"c\": 2\n}");
}

static void test_garbage(void **st)
{
    (void)st;
    CHECK("{\"a\":1}\n"
          "garbage line {\"no\":1}\n"
          "{\"b\":2}\n"
          "{\"c\":[1,2}\n"
          "{\"d\":4}\n"
          "{\"e\":\"unterminated\n"
          "{\"f\":6}\n"
          "{\"g\":{\n"
          "{\"h\":8}\n"
          "]]] {\"i\":9}\n"
          "  {\"j\":10}\n"
          "{\"k\":11}",
          "OK 1@1:{\"a\":1}\nEPARSE 2@2\nOK 3@3:{\"b\":2}\nEPARSE 4@4\n"
          "OK 5@5:{\"d\":4}\nEPARSE 6@6\nOK 7@7:{\"f\":6}\nEPARSE 8@8\n"
          "OK 9@9:{\"h\":8}\nEPARSE 10@10\nOK 11@12:{\"k\":11}");
    /* garbage between array elements: next '{' line is the next element */
    CHECK("[\n  {\"a\":1},\n  xx,\n{\"b\":2},\n  {\"c\":3} {\"d\":4}\n]\n"
          "{\"e\":5}",
          "OK 1@2:{\"a\":1}\nEPARSE 2@3\nOK 3@4:{\"b\":2}\nOK 4@5:{\"c\":3}\n"
          "EPARSE 5@5\nOK 6@5:{\"d\":4}\nOK 7@7:{\"e\":5}");
    /* deep nesting in the framer */
    {
        size_t n = 3000, i;
        char *s = malloc(2 * n + 32);
        for (i = 0; i < n; i++)
            s[i] = '[';
        strcpy(s + n, "\n{\"ok\":1}\n");
        assert_string_equal(describe_str(s, 0),
                            "EPARSE 1@1\nOK 2@2:{\"ok\":1}\nEPARSE 3@1");
        free(s);
    }
}

static void test_oversized(void **st)
{
    char *big;
    size_t n = 5u << 20, i;
    (void)st;
    assert_string_equal(describe_str("{\"a\":1}\n{\"b\":\"0123456789012345678"
                                     "90123456789\"}\n{\"c\":3}\n", 20),
                        "OK 1@1:{\"a\":1}\nELIMIT 2@2\nOK 3@3:{\"c\":3}");
    /* an oversized element in a one-line envelope: the next survives */
    assert_string_equal(describe_str("{\"Records\":[{\"a\":1},{\"b\":\"01234567"
                                     "8901234567890123456789\"},{\"c\":3}]}",
                                     20),
                        "OK 1@1:{\"a\":1}\nELIMIT 2@1\nOK 3@1:{\"c\":3}");
    /* a record much larger than the read chunk, skipped by streaming */
    big = malloc(n + 64);
    strcpy(big, "{\"a\":1}\n{\"b\":[");
    for (i = strlen(big); i < n; i += 4)
        memcpy(big + i, "\"]\",", 4);
    strcpy(big + i, "1]}\n{\"c\":3}\n");
    assert_string_equal(describe_str(big, 1000),
                        "OK 1@1:{\"a\":1}\nELIMIT 2@2\nOK 3@3:{\"c\":3}");
    /* with the default limit the same record is returned whole */
    {
        aw_reader *r;
        aw_record rec;
        aw_errbuf err;
        assert_int_equal(aw_reader_open(&r, tpath("case.json"), NULL, &err),
                         AW_OK);
        assert_int_equal(aw_reader_next(r, &rec, &err), AW_OK);
        assert_int_equal(aw_reader_next(r, &rec, &err), AW_OK);
        assert_int_equal(rec.len, strlen(big) - 8 - 9);
        assert_int_equal(aw_reader_next(r, &rec, &err), AW_OK);
        assert_int_equal(rec.recno, 3);
        assert_int_equal(aw_reader_next(r, &rec, &err), AW_EOF);
        assert_int_equal(aw_reader_next(r, &rec, &err), AW_EOF);
        aw_reader_close(r);
    }
    /* records over the limit on both sides of the reader's read
     * boundaries (2 MB and on): each reported with its size wherever the
     * reads cut it, so framing in chunks reports the same */
    {
        size_t m = 0, cap = 5u << 20;
        char *many = malloc(cap + 4096);
        for (int k = 0; m < cap; k++) {
            m += (size_t)sprintf(many + m, "{\"k\":%d,\"v\":\"", k);
            for (int c = 0; c < 2900 + k % 200; c++)
                many[m++] = (char)('a' + (k + c) % 26);
            m += (size_t)sprintf(many + m, "\"}\n");
        }
        many[m] = 0;
        const char *d = describe_str(many, 1000);
        assert_non_null(strstr(d, "ELIMIT 1@1"));
        assert_null(strstr(d, "OK"));
        free(many);
    }
    free(big);
}

/* Build a record stream: n JSON lines. */
static char *make_lines(int n, size_t *len)
{
    size_t cap = (size_t)n * 64 + 1, l = 0;
    char *s = malloc(cap);
    int i;
    for (i = 0; i < n; i++)
        l += (size_t)snprintf(s + l, cap - l,
                              "{\"i\":%d,\"s\":\"line %d \\u00e9\"}\n", i, i);
    *len = l;
    return s;
}

static void gzip_member(FILE *f, const char *data, size_t len)
{
    z_stream z;
    unsigned char *out;
    size_t cap = compressBound((uLong)len) + 64;
    memset(&z, 0, sizeof z);
    assert_int_equal(deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8,
                                  Z_DEFAULT_STRATEGY), Z_OK);
    out = malloc(cap);
    z.next_in = (Bytef *)data;
    z.avail_in = (uInt)len;
    z.next_out = out;
    z.avail_out = (uInt)cap;
    assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
    fwrite(out, 1, cap - z.avail_out, f);
    deflateEnd(&z);
    free(out);
}


static int count_ok(const char *path, aw_compression want_comp,
                    uint64_t *bytes_out, int strict)
{
    aw_reader *r;
    aw_record rec;
    aw_errbuf err;
    aw_status st;
    int n = 0;
    assert_int_equal(aw_reader_open(&r, path, &g_opts, &err), AW_OK);
    assert_int_equal(aw_reader_compression(r), want_comp);
    /* not strict: bad records (damaged input decoded up to its damage)
     * are reported and passed over, as a scan does */
    while ((st = aw_reader_next(r, &rec, &err)) == AW_OK || (!strict && (st == AW_EPARSE || st == AW_ELIMIT))) {
        char want[64];
        if (st != AW_OK)
            continue;
        snprintf(want, sizeof want, "{\"i\":%d,", n);
        if (strict) {
            assert_memory_equal(rec.data, want, strlen(want));
            assert_int_equal(rec.line, (uint64_t)n + 1);
        }
        n++;
    }
    if (st != AW_EOF) {
        n = -n - 1;     /* an error after -n-1 records */
        assert_int_equal(st, AW_EIO);
    }
    if (bytes_out)
        *bytes_out = aw_reader_bytes_out(r);
    aw_reader_close(r);
    return n;
}

/* A gzip member decoded whole is framed where it was decoded (the
 * reader's lent mode): the stream reader, the line function and chunks
 * cut from it in place (aw_chunk.hold, whose bytes must outlive the
 * reader: describe_chunked checks) give the records, lines and errors
 * of the same bytes uncompressed, whatever the member boundaries (mid
 * record, empty members), with and without the decoder thread. */
static void test_gzip_lent(void **st)
{
    size_t len, elen = 0, ecap = 1 << 20;
    char *s = make_lines(20000, &len), *env = malloc(ecap);
    FILE *f, *g;
    (void)st;
    elen += (size_t)snprintf(env + elen, ecap - elen, "{\"Records\":[\n");
    for (int i = 0; i < 3000; i++)
        elen += (size_t)snprintf(env + elen, ecap - elen, "%s{\"i\":%d,\"s\":\"x\"}", i ? ",\n" : "", i);
    elen += (size_t)snprintf(env + elen, ecap - elen, "]}\n");
    f = fopen(tpath("lent1.gz"), "wb");
    gzip_member(f, s, len);
    fclose(f);
    write_file(tpath("lent1.log"), s, len);
    f = fopen(tpath("lentm.gz"), "wb");
    g = fopen(tpath("lentm.log"), "wb");
    const struct { const char *p; size_t n; } part[] = {
        {s, 37}, {"", 0}, {s + 37, len / 2 - 37}, {"{\"cut\": \n", 10},
        {s + len / 2, len - len / 2}, {env, elen / 3}, {env + elen / 3, elen - elen / 3},
    };
    for (size_t i = 0; i < sizeof part / sizeof *part; i++) {
        gzip_member(f, part[i].p, part[i].n);
        fwrite(part[i].p, 1, part[i].n, g);
    }
    fclose(f);
    fclose(g);
    f = fopen(tpath("lentenv.gz"), "wb");
    gzip_member(f, env, elen);
    fclose(f);
    write_file(tpath("lentenv.log"), env, elen);
    static char plain[1 << 22];
    const char *names[] = {"lent1", "lentm", "lentenv"};
    for (int t = 0; t <= 1; t++) {
        g_opts.decode_thread = t;
        for (size_t i = 0; i < 3; i++) {
            char a[64], b[64];
            snprintf(a, sizeof a, "%s.log", names[i]);
            snprintf(b, sizeof b, "%s.gz", names[i]);
            snprintf(plain, sizeof plain, "%s", describe(tpath(a), 0, 0));
            held_total = 0;
            assert_string_equal(describe(tpath(b), 0, 0), plain);
            assert_true(held_total > 0);        /* chunks were cut in place */
        }
    }
    g_opts.decode_thread = 0;
    free(env);
    free(s);
}

static void test_gzip(void **st)
{
    size_t len;
    char *s = make_lines(20000, &len);
    FILE *f;
    struct stat sb;
    uint64_t out;
    aw_reader *r;
    aw_errbuf err;
    (void)st;
    f = fopen(tpath("one.gz"), "wb");
    gzip_member(f, s, len);
    fclose(f);
    assert_int_equal(count_ok(tpath("one.gz"), AW_COMP_GZIP, &out, 1), 20000);
    assert_int_equal(out, len);
    assert_int_equal(aw_reader_open(&r, tpath("one.gz"), &g_opts, &err), AW_OK);
    {
        aw_record rec;
        while (aw_reader_next(r, &rec, &err) == AW_OK)
            ;
    }
    stat(tpath("one.gz"), &sb);
    assert_int_equal(aw_reader_bytes_in(r), (uint64_t)sb.st_size);
    aw_reader_close(r);
    /* multi-member: split at a record boundary and mid-record */
    f = fopen(tpath("multi.log"), "wb");   /* name says nothing */
    gzip_member(f, s, 37);
    gzip_member(f, s + 37, len / 2 - 37);
    gzip_member(f, s + len / 2, len - len / 2);
    gzip_member(f, "", 0);
    fclose(f);
    assert_int_equal(count_ok(tpath("multi.log"), AW_COMP_GZIP, NULL, 1), 20000);
    /* truncated gzip: the records before the cut, then EIO */
    stat(tpath("one.gz"), &sb);
    {
        FILE *in = fopen(tpath("one.gz"), "rb");
        char *buf = malloc((size_t)sb.st_size);
        int n;
        assert_int_equal(fread(buf, 1, (size_t)sb.st_size, in),
                         (size_t)sb.st_size);
        fclose(in);
        write_file(tpath("trunc.gz"), buf, (size_t)sb.st_size / 2);
        n = count_ok(tpath("trunc.gz"), AW_COMP_GZIP, NULL, 1);
        assert_true(n < 0 && -n - 1 > 1000);
        /* in chunks too: the records before the cut, then EIO (a chunk
         * that meets the failure while reading ahead is not cut) */
        const char *d = describe(tpath("trunc.gz"), 0, 0);
        assert_true(strlen(d) > 3 && strcmp(d + strlen(d) - 3, "EIO") == 0);
        /* trailing garbage after a member */
        write_file(tpath("garb.gz"), buf, (size_t)sb.st_size);
        f = fopen(tpath("garb.gz"), "ab");
        fputs("junk", f);
        fclose(f);
        assert_int_equal(count_ok(tpath("garb.gz"), AW_COMP_GZIP, NULL, 1),
                         -20000 - 1);
        /* corrupt data */
        buf[sb.st_size / 2] ^= 0x55;
        buf[sb.st_size / 2 + 1] ^= 0x55;
        write_file(tpath("bad.gz"), buf, (size_t)sb.st_size);
        n = count_ok(tpath("bad.gz"), AW_COMP_GZIP, NULL, 0);
        assert_true(n < 0);
        /* a read error is final */
        {
            aw_reader *r2;
            aw_record rec;
            aw_status s2;
            assert_int_equal(aw_reader_open(&r2, tpath("trunc.gz"), &g_opts,
                                            &err), AW_OK);
            while ((s2 = aw_reader_next(r2, &rec, &err)) == AW_OK)
                ;
            assert_int_equal(s2, AW_EIO);
            assert_non_null(strstr(err.msg, "truncated gzip stream"));
            assert_non_null(strstr(err.msg, "trunc.gz"));
            assert_int_equal(aw_reader_next(r2, &rec, &err), AW_EIO);
            aw_reader_close(r2);
        }
        free(buf);
    }
    free(s);
}

static void test_zstd(void **st)
{
    size_t len, cap, c1, c2;
    char *s = make_lines(20000, &len), *z;
    int n;
    (void)st;
    cap = ZSTD_compressBound(len) * 2;
    z = malloc(cap);
    c1 = ZSTD_compress(z, cap, s, len / 3, 3);
    assert_false(ZSTD_isError(c1));
    c2 = ZSTD_compress(z + c1, cap - c1, s + len / 3, len - len / 3, 3);
    assert_false(ZSTD_isError(c2));
    write_file(tpath("two.zst.txt"), z, c1 + c2);
    assert_int_equal(count_ok(tpath("two.zst.txt"), AW_COMP_ZSTD, NULL, 1),
                     20000);
    write_file(tpath("trunc.zst"), z, c1 + c2 / 2);
    n = count_ok(tpath("trunc.zst"), AW_COMP_ZSTD, NULL, 1);
    assert_true(n < 0 && -n - 1 > 1000);
    write_file(tpath("magic.zst"), z, 4);
    assert_int_equal(count_ok(tpath("magic.zst"), AW_COMP_ZSTD, NULL, 1), -1);
    free(z);
    free(s);
}

static void test_gzip_paths(void **st);
static int count_via_stdin(const char *data, size_t len, size_t chunk, aw_compression comp, uint64_t *out);

/* "-" reads stdin: feed it through a pipe from a child, in small writes. */

/* Decompression on its own thread: the same records, errors (at the
 * same record) and byte counters, also over many 1 MiB chunks. */
static void test_decode_thread(void **st)
{
    size_t len;
    char *s = make_lines(400000, &len);
    FILE *f;
    struct stat sb;
    uint64_t out, in_inline, in_thread;
    aw_reader *r;
    aw_record rec;
    aw_errbuf err;
    g_opts.decode_thread = 1;
    test_gzip(st);                      /* members lent by the decoder, one by one */
    test_gzip_paths(st);
    test_zstd(st);
    f = fopen(tpath("big.gz"), "wb");
    gzip_member(f, s, len / 3);
    gzip_member(f, s + len / 3, len - len / 3);
    fclose(f);
    assert_int_equal(count_ok(tpath("big.gz"), AW_COMP_GZIP, &out, 1), 400000);
    assert_int_equal(out, len);
    stat(tpath("big.gz"), &sb);
    for (int t = 0; t < 2; t++) {
        g_opts.decode_thread = t;
        assert_int_equal(aw_reader_open(&r, tpath("big.gz"), &g_opts, &err), AW_OK);
        while (aw_reader_next(r, &rec, &err) == AW_OK)
            ;
        *(t ? &in_thread : &in_inline) = aw_reader_bytes_in(r);
        assert_int_equal(aw_reader_bytes_out(r), len);
        aw_reader_close(r);
    }
    assert_int_equal(in_thread, in_inline);
    assert_int_equal(in_thread, (uint64_t)sb.st_size);
    /* closing early, with the decoder ahead */
    g_opts.decode_thread = 1;
    assert_int_equal(aw_reader_open(&r, tpath("big.gz"), &g_opts, &err), AW_OK);
    assert_int_equal(aw_reader_next(r, &rec, &err), AW_OK);
    aw_reader_close(r);
    /* the buffers the big file grew are kept for the next files
     * (keep.c): a smaller file after it yields its own bytes only */
    free(s);
    s = make_lines(20000, &len);
    for (int t = 0; t < 2; t++) {
        g_opts.decode_thread = t;
        assert_int_equal(count_ok(tpath("one.gz"), AW_COMP_GZIP, &out, 1), 20000);
        assert_int_equal(out, len);
        assert_int_equal(count_ok(tpath("big.gz"), AW_COMP_GZIP, &out, 1), 400000);
    }
    g_opts.decode_thread = 0;
    free(s);
}

/* Stored (level 0) gzip of data whose third stored block has a broken
 * length: the streaming decoder decodes the first two blocks, then fails. */
static size_t gzip_stored_damaged(const char *data, size_t len, unsigned char *out, size_t cap)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    assert_int_equal(deflateInit2(&z, 0, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
    z.next_in = (Bytef *)(uintptr_t)data;
    z.avail_in = (uInt)len;
    z.next_out = out;
    z.avail_out = (uInt)cap;
    assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
    size_t n = cap - z.avail_out, at = 10;           /* past the gzip header */
    for (int blk = 0; blk < 2; blk++) {              /* a stored block: type byte, LEN, NLEN, data */
        assert_true((out[at] & 6) == 0);
        at += 5 + ((size_t)out[at + 1] | (size_t)out[at + 2] << 8);
    }
    assert_true(at + 5 < n);
    out[at + 3] ^= 0x01;                             /* NLEN no longer ~LEN */
    deflateEnd(&z);
    return n;
}

/* A gzip stream damaged after some intact data: the records decoded
 * before the damage come first, then the error, whatever the size of
 * the reads (a file read whole, a pipe written to in small pieces, the
 * decoder thread). Reads larger than the intact part used to drop it. */
static void test_gzip_damage_after_data(void **st)
{
    size_t len, zlen;
    char *s = make_lines(20000, &len);
    unsigned char *z = malloc(len + 4096);
    (void)st;
    zlen = gzip_stored_damaged(s, len, z, len + 4096);
    write_file(tpath("stored-bad.gz"), (const char *)z, zlen);
    int whole = count_ok(tpath("stored-bad.gz"), AW_COMP_GZIP, NULL, 1);
    assert_true(whole < -1000);                      /* over 1,000 records, then EIO */
    assert_int_equal(count_via_stdin((const char *)z, zlen, 4096, AW_COMP_GZIP, NULL), whole);
    g_opts.decode_thread = 1;
    assert_int_equal(count_ok(tpath("stored-bad.gz"), AW_COMP_GZIP, NULL, 1), whole);
    g_opts.decode_thread = 0;
    free(z);
    free(s);
}

/* Is `path`, opened with g_opts, read by the thread that reads it
 * (aw_reader_solo)? */
static int is_solo(const char *path)
{
    aw_reader *r;
    aw_errbuf err;
    assert_int_equal(aw_reader_open(&r, path, &g_opts, &err), AW_OK);
    int solo = aw_reader_solo(r);
    aw_reader_close(r);
    return solo;
}

/* aw_reader_opts.solo_max: a gzip file read whole whose last member
 * decodes to at most that gets no decoder thread and is read whole at
 * its first read, on the thread reading it; its records, errors and
 * counters are those of any other path. A plain file no larger
 * qualifies too; zstd files, pipes, and larger files do not. */
static void test_gzip_solo(void **st)
{
    size_t len, zlen;
    char *s = make_lines(20000, &len);
    unsigned char *z = malloc(len + 4096);
    FILE *f;
    static char plain[1 << 22];
    (void)st;
    f = fopen(tpath("solo1.gz"), "wb");
    gzip_member(f, s, len);
    fclose(f);
    f = fopen(tpath("solom.gz"), "wb");         /* the last member small: its trailer says little */
    gzip_member(f, s, len - 100);
    gzip_member(f, s + len - 100, 100);
    fclose(f);
    write_file(tpath("solo.log"), s, len);
    zlen = gzip_stored_damaged(s, len, z, len + 4096);
    write_file(tpath("solo-bad.gz"), (const char *)z, zlen);
    write_file(tpath("solo-cut.gz"), (const char *)z, zlen / 2);
    size_t zc = ZSTD_compress(z, len + 4096, s, len, 1);
    assert_false(ZSTD_isError(zc));
    write_file(tpath("solo.zst"), (const char *)z, zc);
    snprintf(plain, sizeof plain, "%s", describe(tpath("solo.log"), 0, 0));
    int bad = count_ok(tpath("solo-bad.gz"), AW_COMP_GZIP, NULL, 1);
    int cut = count_ok(tpath("solo-cut.gz"), AW_COMP_GZIP, NULL, 1);
    assert_true(bad < -1000 && cut < -100);
    g_opts.decode_thread = 1;
    g_opts.solo_max = len;
    assert_true(is_solo(tpath("solo1.gz")) && is_solo(tpath("solom.gz")) && is_solo(tpath("solo-bad.gz")));
    assert_true(is_solo(tpath("solo.log")));    /* a plain file no larger */
    assert_false(is_solo(tpath("solo.zst")));
    for (int k = 0; k < 2; k++) {       /* describe: records, lines, messages; count_ok: counters */
        assert_string_equal(describe(tpath(k ? "solom.gz" : "solo1.gz"), 0, 0), plain);
        uint64_t out = 0;
        assert_int_equal(count_ok(tpath(k ? "solom.gz" : "solo1.gz"), AW_COMP_GZIP, &out, 1), 20000);
        assert_int_equal(out, len);
    }
    assert_int_equal(count_ok(tpath("solo-bad.gz"), AW_COMP_GZIP, NULL, 1), bad);
    assert_int_equal(count_ok(tpath("solo-cut.gz"), AW_COMP_GZIP, NULL, 1), cut);
    g_opts.solo_max = len - 1;          /* the trailer says more: the decoder thread */
    assert_false(is_solo(tpath("solo1.gz")) || is_solo(tpath("solo.log")));
    assert_string_equal(describe(tpath("solo1.gz"), 0, 0), plain);
    g_opts.decode_thread = 0;           /* solo_max asks nothing of a reader without a thread */
    g_opts.solo_max = len;
    assert_false(is_solo(tpath("solo1.gz")));
    g_opts.solo_max = 0;
    free(z);
    free(s);
}

/* zstd: a good frame, then a small one whose checksum is broken. zstd
 * decodes a frame that fits the room it is given in one pass and drops
 * it on a bad checksum, while with less room it hands the frame out as
 * it goes; the reader gives it fixed room, so the file read whole, in
 * small reads (chunks) and on the decoder thread all yield the first
 * frame's records, none of the second's, then the error. */
static void test_zstd_damage(void **st)
{
    size_t len;
    char *s = make_lines(10100, &len);
    const char *cut = s;
    for (int i = 0; i < 10000; i++)
        cut = strchr(cut, '\n') + 1;
    size_t l1 = (size_t)(cut - s), cap = ZSTD_compressBound(len) + 64, z1, z2;
    char *z = malloc(cap);
    ZSTD_CCtx *cc = ZSTD_createCCtx();
    (void)st;
    assert_false(ZSTD_isError(ZSTD_CCtx_setParameter(cc, ZSTD_c_checksumFlag, 1)));
    z1 = ZSTD_compress2(cc, z, cap, s, l1);
    assert_false(ZSTD_isError(z1));
    z2 = ZSTD_compress2(cc, z + z1, cap - z1, cut, len - l1);
    assert_false(ZSTD_isError(z2));
    assert_true(len - l1 < (128u << 10));            /* smaller than the room given (AW_ZSTD_OUT) */
    z[z1 + z2 - 1] ^= 0x55;                          /* the second frame's checksum */
    write_file(tpath("badsum.zst"), z, z1 + z2);
    for (int t = 0; t < 2; t++) {
        g_opts.decode_thread = t;
        assert_int_equal(count_ok(tpath("badsum.zst"), AW_COMP_ZSTD, NULL, 1), -10000 - 1);
    }
    g_opts.decode_thread = 0;
    const char *d = describe(tpath("badsum.zst"), 0, 0);
    assert_true(strlen(d) > 3 && strcmp(d + strlen(d) - 3, "EIO") == 0);
    ZSTD_freeCCtx(cc);
    free(z);
    free(s);
}

/* count_ok over data fed through a pipe on stdin, `chunk` bytes per
 * write (not a regular file: gzip goes through the streaming
 * decoder, not the whole-file one). */
static int count_via_stdin(const char *data, size_t len, size_t chunk, aw_compression comp, uint64_t *out)
{
    int fds[2], saved, n;
    pid_t pid;
    assert_int_equal(pipe(fds), 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        size_t off = 0;
        close(fds[0]);
        while (off < len) {
            ssize_t w = write(fds[1], data + off, len - off < chunk ? len - off : chunk);
            if (w <= 0)
                _exit(1);
            off += (size_t)w;
        }
        _exit(0);
    }
    close(fds[1]);
    saved = dup(STDIN_FILENO);
    dup2(fds[0], STDIN_FILENO);
    close(fds[0]);
    n = count_ok("-", comp, out, 1);
    dup2(saved, STDIN_FILENO);
    close(saved);
    waitpid(pid, NULL, 0);
    return n;
}

static char *slurp(const char *path, size_t *len)
{
    struct stat sb;
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    assert_int_equal(fstat(fileno(f), &sb), 0);
    char *b = malloc((size_t)sb.st_size + 1);
    assert_int_equal(fread(b, 1, (size_t)sb.st_size, f), (size_t)sb.st_size);
    fclose(f);
    *len = (size_t)sb.st_size;
    return b;
}

/* A small gzip file is read whole and decoded by libdeflate; a pipe goes
 * through the streaming decoder (igzip): the same records, counters and
 * errors either way. The
 * whole-file decoder also meets a member larger than its first guess
 * (the last member's ISIZE). */
static void test_gzip_paths(void **st)
{
    size_t len, zlen;
    char *s = make_lines(300000, &len), *z;
    uint64_t out;
    FILE *f;
    int n;
    (void)st;
    f = fopen(tpath("guess.gz"), "wb");
    gzip_member(f, s, len - 40);            /* big first member, tiny last one */
    gzip_member(f, s + len - 40, 40);
    fclose(f);
    assert_true(len - 40 > (2u << 20));
    assert_int_equal(count_ok(tpath("guess.gz"), AW_COMP_GZIP, &out, 1), 300000);
    assert_int_equal(out, len);
    z = slurp(tpath("guess.gz"), &zlen);
    assert_int_equal(count_via_stdin(z, zlen, 65536, AW_COMP_GZIP, &out), 300000);
    assert_int_equal(out, len);
    /* truncated: the streaming decoder (pipe) and the whole-file one
     * (libdeflate rejects the member, igzip carries on) agree */
    write_file(tpath("cut.gz"), z, zlen / 2);
    n = count_ok(tpath("cut.gz"), AW_COMP_GZIP, NULL, 1);
    assert_true(n < 0 && -n - 1 > 1000);
    assert_int_equal(count_via_stdin(z, zlen / 2, 65536, AW_COMP_GZIP, NULL), n);
    free(z);
    free(s);
}

static void test_stdin(void **st)
{
    size_t len;
    char *s = make_lines(3000, &len);
    (void)st;
    assert_int_equal(count_via_stdin(s, len, 777, AW_COMP_NONE, NULL), 3000);   /* small writes */
    free(s);
}

static void test_open_errors(void **st)
{
    aw_reader *r = (aw_reader *)1;
    aw_errbuf err;
    (void)st;
    assert_int_equal(aw_reader_open(&r, tpath("does-not-exist"), NULL, &err),
                     AW_EIO);
    assert_null(r);
    assert_non_null(strstr(err.msg, "does-not-exist"));
    assert_int_equal(aw_reader_open(&r, tmpdir, NULL, &err), AW_EIO);
    assert_non_null(strstr(err.msg, "directory"));
    aw_reader_close(NULL);
}

/* A reader of the line {"z":0}, then `content` (written to `name`),
 * standing after its first record and first chunk, the 8-byte line that
 * starts content (aw_reader_chunk of 8 bytes): at offset 16, line 3. */
#define FIRST_CHUNK_END 16
static aw_reader *after_first_chunk(const char *name, const char *content, size_t n)
{
    aw_reader *r;
    aw_errbuf err;
    aw_chunk c;
    aw_record rec;
    char *t = malloc(n + 8);
    assert_non_null(t);
    memcpy(t, "{\"z\":0}\n", 8);
    memcpy(t + 8, content, n);
    write_file(tpath(name), t, n + 8);
    free(t);
    assert_int_equal(aw_reader_open(&r, tpath(name), NULL, &err), AW_OK);
    assert_int_equal(aw_reader_next(r, &rec, &err), AW_OK);
    assert_int_equal(aw_reader_chunk(r, 8, &c, &err), AW_OK);
    assert_int_equal(c.len, 8);
    return r;
}

/* Ranges (aw_reader_range, aw_range_cut, aw_range_read, aw_reader_seek):
 * where cuts fall, including across the windows the cut is looked for
 * in, envelopes, the look-ahead limit, and a file that shrinks. */
static void test_ranges(void **st)
{
    aw_range rg;
    aw_errbuf err;
    uint64_t cut;
    int env;
    (void)st;
    const char *text = "{\"a\":1}\n{\"b\":2}\n  {\"c\":3}\n{\"Records\":[\n{\"d\":4}\n]}\n{\"e\":5}";
    aw_reader *r = after_first_chunk("ranges.json", text, strlen(text));
    assert_int_equal(aw_reader_range(r, 8, &rg), 1);
    assert_int_equal(rg.pos, FIRST_CHUNK_END);
    assert_int_equal(rg.line, 3);
    assert_int_equal(rg.size, 8 + strlen(text));
    /* the next line start with '{' at or after `from`; "  {" is none */
    assert_int_equal(aw_range_cut(&rg, 17, 1000, &cut, &env, &err), AW_OK);
    assert_int_equal(cut, 34);
    assert_int_equal(env, 1);                   /* {"Records":[ */
    assert_int_equal(aw_range_cut(&rg, 35, 1000, &cut, &env, &err), AW_OK);
    assert_int_equal(cut, 47);
    assert_int_equal(env, 0);
    assert_int_equal(aw_range_cut(&rg, 48, 1000, &cut, &env, &err), AW_OK);
    assert_int_equal(cut, 58);
    assert_int_equal(aw_range_cut(&rg, 59, 1000, &cut, &env, &err), AW_OK);
    assert_int_equal(cut, rg.size);             /* none before the end */
    assert_int_equal(aw_range_cut(&rg, 17, 4, &cut, &env, &err), AW_ELIMIT);
    char buf[64];
    assert_int_equal(aw_range_read(&rg, 34, buf, 12, &err), AW_OK);
    assert_memory_equal(buf, "{\"Records\":[", 12);
    assert_int_equal(aw_range_read(&rg, 58, buf, 9, &err), AW_EIO);
    assert_non_null(strstr(err.msg, "ranges.json"));
    assert_non_null(strstr(err.msg, "shrank"));
    /* the stream reader goes on from a cut, on the line given */
    aw_record rec;
    assert_int_equal(aw_reader_seek(r, 47, 6, &err), AW_OK);
    assert_int_equal(aw_reader_next(r, &rec, &err), AW_OK);
    assert_int_equal(rec.line, 6);
    assert_int_equal(rec.len, 7);
    assert_memory_equal(rec.data, "{\"d\":4}", 7);
    /* a file cut short after it was described */
    assert_int_equal(truncate(tpath("ranges.json"), 28), 0);
    assert_int_equal(aw_range_read(&rg, 16, buf, 20, &err), AW_EIO);
    assert_non_null(strstr(err.msg, "shrank"));
    assert_int_equal(aw_range_cut(&rg, 17, 1000, &cut, &env, &err), AW_EIO);
    aw_range_close(&rg);
    aw_reader_close(r);

    /* a cut just inside, at, and just past the end of the first and the
     * second window looked in (windows of 8 KB overlapping by a byte: at
     * offsets 8,207 and 16,398 here; a window of 16 KB would end at the
     * second span) */
    for (size_t long_len = 8170; long_len < 16403; long_len += long_len == 8210 ? 8152 : 1) {
        size_t n = 8 + long_len + 8;
        char *t = malloc(n + 1);
        assert_non_null(t);
        memcpy(t, "{\"a\":1}\n{\"k\":\"", 14);
        memset(t + 14, 'x', long_len - 14 - 3);
        memcpy(t + 8 + long_len - 3, "\"}\n{\"c\":3}\n", 11);
        r = after_first_chunk("window.json", t, n);
        assert_int_equal(aw_reader_range(r, 8, &rg), 1);
        assert_int_equal(aw_range_cut(&rg, 17, 1 << 20, &cut, &env, &err), AW_OK);
        assert_int_equal(cut, 16 + long_len);
        aw_range_close(&rg);
        aw_reader_close(r);
        free(t);
    }

    /* not where ranges can start: too little left, compressed, an envelope */
    r = after_first_chunk("short.json", "{\"a\":1}\n{\"b\":2}\n", 16);
    assert_int_equal(aw_reader_range(r, 8, &rg), 0);
    aw_reader_close(r);
    const char *env_text = "{\"a\":1}\n{ \"Records\" : [{\"b\":2}]}\n";
    r = after_first_chunk("env.json", env_text, strlen(env_text));
    assert_int_equal(aw_reader_range(r, 8, &rg), 0);
    aw_reader_close(r);
    gzFile gz = gzopen(tpath("r.json.gz"), "wb");
    assert_non_null(gz);
    for (int i = 0; i < 100; i++)
        gzputs(gz, "{\"a\":1}\n");
    gzclose(gz);
    aw_reader *zr;
    aw_chunk c;
    aw_record zrec;
    assert_int_equal(aw_reader_open(&zr, tpath("r.json.gz"), NULL, &err), AW_OK);
    assert_int_equal(aw_reader_next(zr, &zrec, &err), AW_OK);
    assert_int_equal(aw_reader_chunk(zr, 8, &c, &err), AW_OK);
    assert_true(c.len > 0);
    assert_int_equal(aw_reader_range(zr, 8, &rg), 0);
    assert_int_equal(aw_reader_seek(zr, 8, 2, &err), AW_EIO);
    assert_non_null(strstr(err.msg, "r.json.gz"));
    aw_reader_close(zr);
}

/* Memory stays flat: many records through a small limit. */
static void test_many_records(void **st)
{
    size_t len;
    char *s = make_lines(200000, &len);
    uint64_t out;
    (void)st;
    write_file(tpath("many.jsonl"), s, len);
    assert_int_equal(count_ok(tpath("many.jsonl"), AW_COMP_NONE, &out, 1), 200000);
    assert_int_equal(out, len);
    free(s);
}

/* aw_reader_set_move_fn: every record handed out since the last call
 * still holds its bytes when the function is called (the reader moves
 * them only after), and it is called as the buffer refills. */
#define HELD_MAX (1u << 17)         /* records of one buffer (~38 bytes each) */
typedef struct held {
    const char *p[HELD_MAX];
    size_t len[HELD_MAX];
    uint64_t sum[HELD_MAX];
    size_t n, calls, checked, overflow;
} held;

static void check_held(void *ud)
{
    held *h = ud;
    for (size_t i = 0; i < h->n; i++) {
        assert_true(fnv(h->p[i], h->len[i]) == h->sum[i]);
        h->checked++;
    }
    h->n = 0;
    h->calls++;
}

static void test_move_fn(void **st)
{
    static held h;
    size_t len;
    char *s = make_lines(100000, &len);
    aw_reader *r;
    aw_errbuf err;
    aw_record rec;
    aw_reader_opts o = {0};
    aw_doc *d = aw_doc_new();
    (void)st;
    write_file(tpath("move.jsonl"), s, len);
    for (int mode = 0; mode < 2; mode++) {          /* framed byte by byte, then by lines */
        size_t n = 0;
        memset(&h, 0, sizeof h);
        assert_int_equal(aw_reader_open(&r, tpath("move.jsonl"), &o, &err), AW_OK);
        if (mode)
            aw_reader_set_line_fn(r, parse_line, d);
        aw_reader_set_move_fn(r, check_held, &h);
        while (aw_reader_next(r, &rec, &err) == AW_OK) {
            n++;
            if (h.n == HELD_MAX) {
                h.overflow++;
                continue;
            }
            h.p[h.n] = rec.data;
            h.len[h.n] = rec.len;
            h.sum[h.n++] = fnv(rec.data, rec.len);
        }
        check_held(&h);                             /* and at the end, before close */
        aw_reader_close(r);
        assert_int_equal(n, 100000);
        assert_int_equal(h.overflow, 0);
        assert_int_equal(h.checked, 100000);
        assert_true(h.calls > 2);                   /* 3.8 MB through a smaller buffer */
    }
    aw_doc_free(d);
    free(s);
}

typedef struct wlist {
    char names[32][256];
    int n;
} wlist;

static int walk_fn(const char *path, void *ud)
{
    wlist *w = ud;
    if (w->n < 32)
        snprintf(w->names[w->n++], 256, "%s", path + strlen(tmpdir) + 1);
    return 0;
}

static int walk_stop(const char *path, void *ud)
{
    (void)path;
    return ++*(int *)ud == 2 ? 42 : 0;
}

static void test_walk(void **st)
{
    wlist w;
    aw_errbuf err;
    int cnt = 0;
    (void)st;
    mkdir(tpath("w"), 0755);
    mkdir(tpath("w/b"), 0755);
    mkdir(tpath("w/b/c"), 0755);
    mkdir(tpath("w/.hid"), 0755);
    write_file(tpath("w/a.json"), "{}", 2);
    write_file(tpath("w/b.json"), "{}", 2);
    write_file(tpath("w/b/z.json"), "{}", 2);
    write_file(tpath("w/b/c/x.json"), "{}", 2);
    write_file(tpath("w/.hid/h.json"), "{}", 2);
    write_file(tpath("w/.dot.json"), "{}", 2);
    assert_int_equal(symlink("..", tpath("w/b/loop")), 0);
    assert_int_equal(symlink("../a.json", tpath("w/b/link.json")), 0);
    assert_int_equal(symlink("nowhere", tpath("w/b/dangling")), 0);
    assert_int_equal(mkfifo(tpath("w/b/fifo"), 0644), 0);     /* skipped, not opened */
    memset(&w, 0, sizeof w);
    assert_int_equal(aw_input_walk(tpath("w"), walk_fn, &w, &err), AW_OK);
    assert_int_equal(w.n, 5);
    assert_string_equal(w.names[0], "w/a.json");
    assert_string_equal(w.names[1], "w/b.json");
    assert_string_equal(w.names[2], "w/b/c/x.json");
    assert_string_equal(w.names[3], "w/b/link.json");
    assert_string_equal(w.names[4], "w/b/z.json");
    memset(&w, 0, sizeof w);
    assert_int_equal(aw_input_walk(tpath("w/a.json"), walk_fn, &w, &err),
                     AW_OK);
    assert_int_equal(w.n, 1);
    assert_int_equal(aw_input_walk(tpath("w"), walk_stop, &cnt, &err), 42);
    assert_int_equal(aw_input_walk(tpath("nope"), walk_fn, &w, &err), AW_EIO);
    assert_non_null(strstr(err.msg, "nope"));
}

static const char *shared_dir(void)
{
    static char buf[512];
    const char *s = getenv("AW_SHARED");
    struct stat sb;
    if (!s || !*s)
        s = "../shared";
    snprintf(buf, sizeof buf, "%s", s);
    return stat(buf, &sb) == 0 && S_ISDIR(sb.st_mode) ? buf : NULL;
}

/* Every regression JSON file: record count == json_event_count from the
 * index, and every record parses. */
static void test_regression_corpus(void **st)
{
    const char *sh = shared_dir();
    char path[1024], *idx;
    aw_reader *r;
    aw_record rec;
    aw_errbuf err;
    aw_doc *d, *rd;
    const aw_jnode *tests, *t;
    size_t cap = 1 << 20, len = 0;
    int files = 0, events = 0;
    (void)st;
    if (!sh)
        skip();
    snprintf(path, sizeof path, "%s/sigma/corpus/regression_index.json", sh);
    if (access(path, R_OK) != 0)
        skip();
    /* the index is itself read with the reader: one record */
    assert_int_equal(aw_reader_open(&r, path, NULL, &err), AW_OK);
    assert_int_equal(aw_reader_next(r, &rec, &err), AW_OK);
    idx = malloc(rec.len);
    memcpy(idx, rec.data, rec.len);
    len = rec.len;
    assert_int_equal(aw_reader_next(r, &rec, &err), AW_EOF);
    aw_reader_close(r);
    d = aw_doc_new();
    rd = aw_doc_new();
    assert_int_equal(aw_doc_parse(d, idx, len, NULL, &err), AW_OK);
    tests = aw_json_path_first(d, NULL, "tests", 5);
    assert_non_null(tests);
    for (t = aw_doc_node(d, tests->child); t;
         t = t->next ? aw_doc_node(d, t->next) : NULL) {
        const aw_jnode *jp = aw_json_member(d, t, "json_path", 9);
        const aw_jnode *jc = aw_json_member(d, t, "json_event_count", 16);
        const aw_jnode *ev = aw_json_member(d, t, "events", 6);
        int n = 0, want, nev = 0;
        uint32_t i;
        aw_status s;
        assert_non_null(jp);
        assert_non_null(jc);
        want = (int)jc->num;
        if (ev)
            for (i = ev->child; i; i = aw_doc_node(d, i)->next)
                nev++;
        if (ev)
            assert_int_equal(nev, want);
        snprintf(path, sizeof path, "%s/sigma/corpus/%s", sh, jp->val);
        assert_int_equal(aw_reader_open(&r, path, NULL, &err), AW_OK);
        while ((s = aw_reader_next(r, &rec, &err)) == AW_OK) {
            if (aw_doc_parse(rd, rec.data, rec.len, NULL, &err) != AW_OK)
                fail_msg("%s record %llu: %s", path,
                         (unsigned long long)rec.recno, err.msg);
            assert_int_equal(aw_doc_root(rd)->type, AW_JOBJ);
            n++;
        }
        if (s != AW_EOF)
            fail_msg("%s: %s", path, err.msg);
        if (n != want)
            fail_msg("%s: %d records, index says %d", path, n, want);
        aw_reader_close(r);
        files++;
        events += n;
    }
    assert_int_equal(files, 162);
    assert_int_equal(events, 198);
    (void)cap;
    aw_doc_free(d);
    aw_doc_free(rd);
    free(idx);
}

typedef struct tstat {
    aw_doc *d;
    int files, records;
} tstat;

static int jsonl_fn(const char *path, void *ud)
{
    tstat *ts = ud;
    size_t n = strlen(path);
    aw_reader *r;
    aw_record rec;
    aw_errbuf err;
    aw_status s;
    if (n < 6 || strcmp(path + n - 6, ".jsonl") != 0)
        return 0;
    assert_int_equal(aw_reader_open(&r, path, NULL, &err), AW_OK);
    while ((s = aw_reader_next(r, &rec, &err)) == AW_OK) {
        if (aw_doc_parse(ts->d, rec.data, rec.len, NULL, &err) != AW_OK)
            fail_msg("%s line %llu: %s", path,
                     (unsigned long long)rec.line, err.msg);
        if (rec.line != rec.recno)
            fail_msg("%s: record %llu on line %llu", path,
                     (unsigned long long)rec.recno,
                     (unsigned long long)rec.line);
        ts->records++;
    }
    if (s != AW_EOF)
        fail_msg("%s record %llu: %s", path, (unsigned long long)rec.recno,
                 err.msg);
    aw_reader_close(r);
    ts->files++;
    return 0;
}

/* Every *.jsonl under telemetry/datasets frames and parses cleanly. */
static void test_telemetry_jsonl(void **st)
{
    const char *sh = shared_dir();
    char path[1024];
    aw_errbuf err;
    tstat ts = { NULL, 0, 0 };
    (void)st;
    if (!sh)
        skip();
    snprintf(path, sizeof path, "%s/telemetry/datasets", sh);
    if (access(path, R_OK) != 0)
        skip();
    ts.d = aw_doc_new();
    assert_int_equal(aw_input_walk(path, jsonl_fn, &ts, &err), AW_OK);
    aw_doc_free(ts.d);
    assert_true(ts.files >= 27);
    assert_true(ts.records >= 3000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_jsonl),
        cmocka_unit_test(test_concatenated_pretty),
        cmocka_unit_test(test_line_fn_equivalence),
        cmocka_unit_test(test_line_fn_linear),
        cmocka_unit_test(test_array),
        cmocka_unit_test(test_envelope),
        cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_garbage),
        cmocka_unit_test(test_oversized),
        cmocka_unit_test(test_gzip),
        cmocka_unit_test(test_gzip_lent),
        cmocka_unit_test(test_zstd),
        cmocka_unit_test(test_stdin),
        cmocka_unit_test(test_decode_thread),
        cmocka_unit_test(test_gzip_solo),
        cmocka_unit_test(test_gzip_damage_after_data),
        cmocka_unit_test(test_zstd_damage),
        cmocka_unit_test(test_gzip_paths),
        cmocka_unit_test(test_open_errors),
        cmocka_unit_test(test_move_fn),
        cmocka_unit_test(test_ranges),
        cmocka_unit_test(test_many_records),
        cmocka_unit_test(test_walk),
        cmocka_unit_test(test_regression_corpus),
        cmocka_unit_test(test_telemetry_jsonl),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
