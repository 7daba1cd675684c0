/* record.c - decision records: validate a JSON decision against the
 * schema and write its canonical form (fixed key order, no whitespace).
 * Only identifiers, roles, times and evidence hashes are allowed, so no
 * free text (and so no personal data) can enter the log. */
#include <stdio.h>
#include <string.h>

#include "tlog/tlog_json.h"
#include "tlog/tlog_int.h"

static const char *const ACTIONS[] = {
    "case_opened",          "evidence_added",      "case_confirmed",
    "case_dismissed",       "suspension_requested", "suspension_approved",
    "suspension_applied",   "suspension_lifted",    NULL};

enum { ID, ROLE, REGION };

static int ok_chars(const char *s, size_t n, size_t max, int kind)
{
    if (n == 0 || n > max)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        int ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
        if (kind == ID)
            ok = ok || (c >= 'A' && c <= 'Z') || c == '-' || c == '.' ||
                 c == ':';
        if (kind == REGION)
            ok = ok || c == '-';
        if (!ok)
            return 0;
    }
    return 1;
}

static int ok_time(const char *s, size_t n)
{
    static const char pat[] = "dddd-dd-ddTdd:dd:ddZ";
    if (n != sizeof pat - 1)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (pat[i] == 'd' ? (s[i] < '0' || s[i] > '9') : s[i] != pat[i])
            return 0;
    int mo = (s[5] - '0') * 10 + s[6] - '0', d = (s[8] - '0') * 10 + s[9] - '0';
    int h = (s[11] - '0') * 10 + s[12] - '0', mi = (s[14] - '0') * 10 + s[15] - '0';
    int sec = (s[17] - '0') * 10 + s[18] - '0';
    return mo >= 1 && mo <= 12 && d >= 1 && d <= 31 && h < 24 && mi < 60 &&
           sec < 61;
}

static int ok_evidence(const char *s, size_t n)
{
    if (n != 7 + 64 || memcmp(s, "sha256:", 7) != 0)
        return 0;
    for (size_t i = 7; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    return 1;
}

/* Only the listed keys, each at most once. */
static int keys_ok(const aw_tj *o, const char *const *allowed, aw_errbuf *err)
{
    for (size_t i = 0; i < o->n; i++) {
        int found = 0;
        for (size_t a = 0; allowed[a]; a++)
            if (strcmp(o->k[i], allowed[a]) == 0)
                found = 1;
        for (size_t j = 0; j < i; j++)
            if (strcmp(o->k[i], o->k[j]) == 0)
                found = 0;
        if (!found) {
            aw_errbuf_set(err, "record: unknown or repeated key \"%.64s\"",
                          o->k[i]);
            return 0;
        }
    }
    return 1;
}

typedef struct out {
    char *b;
    size_t n, cap;
    int over;
} out;

static void put(out *o, const char *s, size_t n)
{
    if (o->n + n > o->cap) {
        o->over = 1;
        return;
    }
    memcpy(o->b + o->n, s, n);
    o->n += n;
}

static void puts_(out *o, const char *s)
{
    put(o, s, strlen(s));
}

static void putstr(out *o, const aw_tj *v)
{
    put(o, "\"", 1);
    put(o, v->s, v->slen);
    put(o, "\"", 1);
}

static const aw_tj *field(const aw_tj *o, const char *k, int kind,
                          size_t max, aw_errbuf *err)
{
    const aw_tj *v = aw_tj_get(o, k);
    if (!v || v->type != AW_TJ_STR || strlen(v->s) != v->slen ||
        !ok_chars(v->s, v->slen, max, kind)) {
        aw_errbuf_set(err, "record: \"%s\" missing or not a valid identifier "
                           "(letters, digits, _ - . :, at most %zu)", k, max);
        return NULL;
    }
    return v;
}

aw_status aw_tlog_record_canon(const char *json, size_t len, char *buf,
                               size_t *out_len, aw_errbuf *err)
{
    static const char *const top[] = {"v", "case", "action", "scope",
                                      "clause", "actors", "time", "evidence",
                                      NULL};
    static const char *const sk[] = {"tenant", "service", "region", NULL};
    aw_tj *j = NULL;
    aw_status st = AW_EPARSE;
    uint64_t ver;
    if (len > 4 * AW_TLOG_RECORD_MAX) {
        aw_errbuf_set(err, "record: input larger than %d bytes",
                      4 * AW_TLOG_RECORD_MAX);
        return AW_ELIMIT;
    }
    if (aw_tj_parse(json, len, &j, err) != AW_OK)
        return AW_EPARSE;
    if (j->type != AW_TJ_OBJ) {
        aw_errbuf_set(err, "record: not a JSON object");
        goto done;
    }
    if (!keys_ok(j, top, err))
        goto done;
    if (aw_tj_u64(aw_tj_get(j, "v"), &ver) != 0 || ver != 1) {
        aw_errbuf_set(err, "record: \"v\" must be 1");
        goto done;
    }
    const aw_tj *cs = field(j, "case", ID, 64, err);
    const aw_tj *ac = aw_tj_get(j, "action");
    int aok = 0;
    for (size_t i = 0; ac && ac->type == AW_TJ_STR && ACTIONS[i]; i++)
        if (strcmp(ac->s, ACTIONS[i]) == 0)
            aok = 1;
    if (!cs)
        goto done;
    if (!aok) {
        aw_errbuf_set(err, "record: \"action\" missing or unknown");
        goto done;
    }
    const aw_tj *sc = aw_tj_get(j, "scope");
    if (!sc || sc->type != AW_TJ_OBJ || !keys_ok(sc, sk, err)) {
        if (!sc || sc->type != AW_TJ_OBJ)
            aw_errbuf_set(err, "record: \"scope\" must be an object");
        goto done;
    }
    const aw_tj *te = field(sc, "tenant", ID, 64, err);
    const aw_tj *sv = te ? field(sc, "service", ID, 64, err) : NULL;
    const aw_tj *rg = sv ? field(sc, "region", REGION, 32, err) : NULL;
    const aw_tj *cl = rg ? field(j, "clause", ID, 64, err) : NULL;
    if (!cl)
        goto done;
    const aw_tj *acts = aw_tj_get(j, "actors");
    if (!acts || acts->type != AW_TJ_ARR || acts->n < 1 || acts->n > 16) {
        aw_errbuf_set(err, "record: \"actors\" must be 1..16 roles");
        goto done;
    }
    for (size_t i = 0; i < acts->n; i++)
        if (acts->v[i]->type != AW_TJ_STR || strlen(acts->v[i]->s) != acts->v[i]->slen ||
            !ok_chars(acts->v[i]->s, acts->v[i]->slen, 32, ROLE)) {
            aw_errbuf_set(err, "record: actor role %zu must match [a-z0-9_]{1,32}",
                          i);
            goto done;
        }
    const aw_tj *tm = aw_tj_get(j, "time");
    if (!tm || tm->type != AW_TJ_STR || !ok_time(tm->s, tm->slen)) {
        aw_errbuf_set(err, "record: \"time\" must be YYYY-MM-DDTHH:MM:SSZ");
        goto done;
    }
    const aw_tj *ev = aw_tj_get(j, "evidence");
    if (!ev || ev->type != AW_TJ_ARR || ev->n > 32) {
        aw_errbuf_set(err, "record: \"evidence\" must be 0..32 hashes");
        goto done;
    }
    for (size_t i = 0; i < ev->n; i++)
        if (ev->v[i]->type != AW_TJ_STR || !ok_evidence(ev->v[i]->s, ev->v[i]->slen)) {
            aw_errbuf_set(err, "record: evidence %zu must be sha256:<64 hex>", i);
            goto done;
        }
    out o = {buf, 0, AW_TLOG_RECORD_MAX, 0};
    puts_(&o, "{\"v\":1,\"case\":");
    putstr(&o, cs);
    puts_(&o, ",\"action\":");
    putstr(&o, ac);
    puts_(&o, ",\"scope\":{\"tenant\":");
    putstr(&o, te);
    puts_(&o, ",\"service\":");
    putstr(&o, sv);
    puts_(&o, ",\"region\":");
    putstr(&o, rg);
    puts_(&o, "},\"clause\":");
    putstr(&o, cl);
    puts_(&o, ",\"actors\":[");
    for (size_t i = 0; i < acts->n; i++) {
        if (i)
            puts_(&o, ",");
        putstr(&o, acts->v[i]);
    }
    puts_(&o, "],\"time\":");
    putstr(&o, tm);
    puts_(&o, ",\"evidence\":[");
    for (size_t i = 0; i < ev->n; i++) {
        if (i)
            puts_(&o, ",");
        putstr(&o, ev->v[i]);
    }
    puts_(&o, "]}");
    if (o.over) {
        aw_errbuf_set(err, "record: canonical form exceeds %d bytes",
                      AW_TLOG_RECORD_MAX);
        st = AW_ELIMIT;
        goto done;
    }
    *out_len = o.n;
    st = AW_OK;
done:
    aw_tj_free(j);
    return st;
}
