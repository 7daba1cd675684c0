/* gen.c - benchmark input generator.
 *
 *   gen cloudtrail|windows|windows-unique MEGABYTES SEED SAMPLE_FILE... > out.jsonl
 *
 * Reads real sample records (CloudTrail JSON lines from
 * ../shared/telemetry/datasets, or the Windows event JSON of SigmaHQ's
 * regression data), compacts each to one line, and writes records drawn
 * at random from them until MEGABYTES are out: the mix of event names
 * and record sizes is the samples' own. Every record gets a fresh
 * event id and an increasing event time, patched in place (same
 * length), so no two records are byte-identical. The samples' other
 * values repeat as often as the samples do (the Windows ones: ~160
 * regression events, so a few hundred distinct command lines);
 * windows-unique appends a random token to every CommandLine,
 * ParentCommandLine, TargetFilename and TargetObject, the values real
 * telemetry repeats least, so caches keyed by value meet them once.
 * Nothing generated is committed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aupwatch/aw_input.h"
#include "aupwatch/aw_json.h"

#define GEN_UNIQUE_MAX 4
static const char *const unique_keys[GEN_UNIQUE_MAX] = {
    "\"CommandLine\":\"", "\"ParentCommandLine\":\"", "\"TargetFilename\":\"", "\"TargetObject\":\"",
};

typedef struct tmpl {
    char *text;
    size_t len;
    long id_off;        /* offset of a 36-char id value to rewrite, or -1 */
    long time_off;      /* offset of a "YYYY-MM-DDTHH:MM:SS" value, or -1 */
    size_t nuniq;       /* windows-unique: closing quotes to insert a token before */
    size_t uniq[GEN_UNIQUE_MAX];
} tmpl;

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static uint64_t next(void)
{
    uint64_t z = (rng += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static long find_value(const char *s, const char *key, size_t want_len)
{
    const char *p = strstr(s, key);
    if (!p)
        return -1;
    p += strlen(key);
    const char *q = strchr(p, '"');
    if (!q || (size_t)(q - p) < want_len)
        return -1;
    return (long)(p - s);
}

typedef struct loader {
    tmpl *t;
    size_t nt, cap;
    aw_doc *d;
    int win, unique;
} loader;

/* The closing quote of the string value that starts at s + from. */
static size_t value_end(const char *s, size_t len, size_t from)
{
    size_t i = from;
    while (i < len && s[i] != '"')
        i += s[i] == '\\' ? 2 : 1;
    return i;
}

static int cmp_size(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return x < y ? -1 : x > y;
}

/* Every record of a .json/.jsonl sample file becomes a template. */
static int load_file(const char *path, void *ud)
{
    loader *L = ud;
    size_t pl = strlen(path);
    aw_reader *r;
    aw_record rec;
    aw_errbuf err;
    aw_status st;
    if (!((pl > 5 && !strcmp(path + pl - 5, ".json")) || (pl > 6 && !strcmp(path + pl - 6, ".jsonl"))))
        return 0;
    if (aw_reader_open(&r, path, NULL, &err) != AW_OK)
        return 0;
    while ((st = aw_reader_next(r, &rec, &err)) != AW_EOF && st != AW_EIO) {
        if (st != AW_OK || aw_doc_parse(L->d, rec.data, rec.len, NULL, &err) != AW_OK)
            continue;
        const aw_jnode *root = aw_doc_root(L->d);
        if (!aw_json_member(L->d, root, L->win ? "Event" : "eventName", L->win ? 5 : 9))
            continue;
        size_t need = aw_json_compact(L->d, root, NULL, 0);
        if (L->nt == L->cap) {
            size_t cap = L->cap ? L->cap * 2 : 256;
            tmpl *t = realloc(L->t, cap * sizeof *t);
            if (!t) {
                fprintf(stderr, "gen: out of memory (%zu templates)\n", cap);
                exit(1);
            }
            L->t = t;
            L->cap = cap;
        }
        tmpl *x = &L->t[L->nt];
        if (!(x->text = malloc(need + 1))) {
            fprintf(stderr, "gen: out of memory (a %zu-byte record of %s)\n", need, path);
            exit(1);
        }
        L->nt++;
        x->len = aw_json_compact(L->d, root, x->text, need + 1);
        x->id_off = find_value(x->text, L->win ? "\"ActivityID\":\"" : "\"eventID\":\"", 36);
        x->time_off = find_value(x->text, L->win ? "\"SystemTime\":\"" : "\"eventTime\":\"", 19);
        x->nuniq = 0;
        for (size_t k = 0; L->unique && k < GEN_UNIQUE_MAX; k++) {
            const char *v = strstr(x->text, unique_keys[k]);
            if (v)
                x->uniq[x->nuniq++] = value_end(x->text, x->len, (size_t)(v - x->text) + strlen(unique_keys[k]));
        }
        qsort(x->uniq, x->nuniq, sizeof *x->uniq, cmp_size);
    }
    aw_reader_close(r);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 5) {
        fprintf(stderr, "usage: gen cloudtrail|windows|windows-unique MEGABYTES SEED SAMPLE_FILE...\n");
        return 2;
    }
    int unique = strcmp(argv[1], "windows-unique") == 0;
    int win = unique || strcmp(argv[1], "windows") == 0;
    double mb = atof(argv[2]);
    rng ^= strtoull(argv[3], NULL, 10);
    aw_doc *d = aw_doc_new();
    loader L = {NULL, 0, 0, d, win, unique};
    for (int i = 4; i < argc; i++) {
        aw_errbuf err;
        aw_input_walk(argv[i], load_file, &L, &err);
    }
    tmpl *t = L.t;
    size_t nt = L.nt;
    aw_doc_free(d);
    if (!nt) {
        fprintf(stderr, "gen: no usable sample records\n");
        free(t);
        return 1;
    }
    static char buf[1 << 20];
    size_t out = 0, bl = 0, target = (size_t)(mb * 1e6);
    unsigned long long sec = 0;
    static const char hex[] = "0123456789abcdef";
    while (out < target) {
        tmpl *x = &t[next() % nt];
        if (bl + x->len + 1 + 9 * GEN_UNIQUE_MAX > sizeof buf) {
            fwrite(buf, 1, bl, stdout);
            bl = 0;
        }
        char *p = buf + bl;
        memcpy(p, x->text, x->len);
        if (x->id_off >= 0) {
            uint64_t a = next(), b = next();
            for (int k = 0; k < 36; k++)
                if (p[x->id_off + k] != '-' && p[x->id_off + k] != '{')
                    p[x->id_off + k] = hex[(k < 18 ? a >> (k * 3) : b >> ((k - 18) * 3)) & 15];
        }
        if (x->time_off >= 0) {
            unsigned long long s = sec++ / 40;        /* ~40 records per second */
            char ts[24];
            snprintf(ts, sizeof ts, "2026-11-%02llu", 1 + (s / 86400) % 28);
            snprintf(ts + 10, sizeof ts - 10, "T%02llu:%02llu:%02llu", (s / 3600) % 24, (s / 60) % 60, s % 60);
            memcpy(p + x->time_off, ts, 19);
        }
        size_t len = x->len;
        for (size_t k = x->nuniq; k-- > 0;) {   /* from the last: earlier offsets stay */
            size_t at = x->uniq[k];
            uint64_t r = next();
            memmove(p + at + 9, p + at, len - at);
            p[at] = ' ';
            for (int h = 0; h < 8; h++)
                p[at + 1 + h] = hex[(r >> (4 * h)) & 15];
            len += 9;
        }
        p[len] = '\n';
        bl += len + 1;
        out += len + 1;
    }
    fwrite(buf, 1, bl, stdout);
    for (size_t i = 0; i < nt; i++)
        free(t[i].text);
    free(t);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        perror("gen: writing the output");
        return 1;
    }
    return 0;
}
