/* output.c - writing alerts.
 *
 * JSON Lines is the machine format (one alert per line, stable keys,
 * the rule's author always present: the DRL licence of SigmaHQ rules
 * requires it). Text is for people at a terminal. SARIF 2.1.0 is for
 * code-scanning tools: one run, rules as reportingDescriptors, each
 * alert a result located at file + record line. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "aupwatch/aw_json.h"
#include "cli/output.h"
#include "util/digits.h"

/* JSON alerts start with the rule's own fields, the same for every alert
 * of the rule: they are rendered once (aw_out_add_rules) into a table
 * keyed by the rule's address, read-only while workers render. */
typedef struct rprefix {
    const aw_rule *rule;
    char *json;                 /* {"type":"detection","rule":{...},"logsource":{...} */
    size_t len;
} rprefix;

struct aw_out {
    FILE *f;
    aw_format fmt;
    bool color;
    unsigned long n;
    rprefix *pre;               /* open addressing, npre a power of two */
    size_t npre;
};

void aw_json_fputs(FILE *f, const char *s)
{
    char small[512];
    size_t n = strlen(s);
    size_t need = aw_json_quote(s, n, small, sizeof small);
    if (need < sizeof small) {
        fwrite(small, 1, need, f);
        return;
    }
    char *big = malloc(need + 1);
    if (!big)
        abort();
    aw_json_quote(s, n, big, need + 1);
    fwrite(big, 1, need, f);
    free(big);
}

static void kv(FILE *f, const char *k, const char *v, bool comma)
{
    fprintf(f, "%s\"%s\":", comma ? "," : "", k);
    if (v)
        aw_json_fputs(f, v);
    else
        fputs("null", f);
}

aw_out *aw_out_new(FILE *f, aw_format fmt, bool color)
{
    aw_out *o = calloc(1, sizeof *o);
    if (!o)
        abort();
    o->f = f;
    o->fmt = fmt;
    o->color = color;
    if (fmt == AW_FMT_SARIF)
        fputs("{\"$schema\":\"https://json.schemastore.org/sarif-2.1.0.json\",\"version\":\"2.1.0\","
              "\"runs\":[{\"tool\":{\"driver\":{\"name\":\"aupwatch\",\"informationUri\":"
              "\"https://github.com/aupwatch/aupwatch\"}},\"results\":[",
              f);
    else if (fmt == AW_FMT_TEXT)
        fprintf(f, "%-30s %-8s %-14s %-50s %s\n", "TIME", "LEVEL", "TENANT", "RULE", "SOURCE");
    return o;
}

static void json_rule(FILE *f, const aw_rule *r)
{
    fputs("{", f);
    kv(f, "id", aw_rule_id(r), false);
    kv(f, "title", aw_rule_title(r), true);
    kv(f, "level", aw_rule_level(r), true);
    kv(f, "status", aw_rule_status(r), true);
    kv(f, "author", aw_rule_author(r), true);
    kv(f, "path", aw_rule_path(r), true);
    fputs(",\"tags\":[", f);
    for (size_t i = 0; i < aw_rule_tag_count(r); i++) {
        if (i)
            fputc(',', f);
        aw_json_fputs(f, aw_rule_tag(r, i));
    }
    fputs("]}", f);
}

static void json_alert_head(FILE *f, const aw_rule *r)
{
    fputs("{\"type\":\"detection\",\"rule\":", f);
    json_rule(f, r);
    fputs(",\"logsource\":{", f);
    kv(f, "product", aw_rule_logsource(r, "product"), false);
    kv(f, "category", aw_rule_logsource(r, "category"), true);
    kv(f, "service", aw_rule_logsource(r, "service"), true);
    fputs("}", f);
}

static size_t pre_slot(const aw_out *o, const aw_rule *r)
{
    uintptr_t h = (uintptr_t)r;
    h ^= h >> 17;
    h *= 0x9E3779B97F4A7C15ull;
    return (size_t)(h >> 20) & (o->npre - 1);
}

static const rprefix *pre_find(const aw_out *o, const aw_rule *r)
{
    if (!o->npre)
        return NULL;
    for (size_t i = pre_slot(o, r);; i = (i + 1) & (o->npre - 1)) {
        if (o->pre[i].rule == r)
            return &o->pre[i];
        if (!o->pre[i].rule)
            return NULL;
    }
}

void aw_out_add_rules(aw_out *o, const aw_ruleset *rs)
{
    size_t n = aw_ruleset_count(rs), cap = 16;
    if (o->fmt != AW_FMT_JSON || o->npre)
        return;
    while (cap < 2 * n)
        cap <<= 1;
    o->pre = calloc(cap, sizeof *o->pre);
    if (!o->pre)
        abort();
    o->npre = cap;
    for (size_t k = 0; k < n; k++) {
        const aw_rule *r = aw_ruleset_rule(rs, k);
        size_t i = pre_slot(o, r);
        while (o->pre[i].rule && o->pre[i].rule != r)
            i = (i + 1) & (cap - 1);
        if (o->pre[i].rule)
            continue;
        FILE *m = open_memstream(&o->pre[i].json, &o->pre[i].len);
        if (!m)
            abort();
        json_alert_head(m, r);
        if (fclose(m) != 0)
            abort();
        o->pre[i].rule = r;
    }
}

/* Quoted s appended at b[*n..cap); *n grows by the bytes needed, so a
 * caller whose buffer was too small sees *n > cap and retries. */
static void put_str(char *b, size_t cap, size_t *n, const char *s)
{
    *n += aw_json_quote(s, strlen(s), b + (*n < cap ? *n : cap), *n < cap ? cap - *n : 0);
}

static void put_raw(char *b, size_t cap, size_t *n, const char *s, size_t len)
{
    if (*n + len <= cap)
        memcpy(b + *n, s, len);
    *n += len;
}

#define PUT_LIT(b, cap, n, lit) put_raw(b, cap, n, lit, sizeof lit - 1)

/* Everything after the rule's prefix, into b[0..cap); returns the length
 * needed (the output is complete only if that is <= cap). With at, the
 * record number and line are left out and *at is where they go. */
static size_t json_alert_tail(const aw_alert *a, char *b, size_t cap, size_t *at)
{
    size_t n = 0;
    char num[64];
    PUT_LIT(b, cap, &n, ",\"mapping\":");
    put_str(b, cap, &n, aw_source_name(a->source));
    if (a->tenant) {
        PUT_LIT(b, cap, &n, ",\"tenant\":");
        put_str(b, cap, &n, a->tenant);
    }
    PUT_LIT(b, cap, &n, ",\"time\":");
    if (a->has_time) {
        /* consecutive alerts often carry the same time (a record's do) */
        static __thread int64_t last_ns = INT64_MIN;
        static __thread char last[48];
        static __thread size_t last_len;
        if (a->time_ns != last_ns) {
            aw_time_format(a->time_ns, num, sizeof num);
            last_len = aw_json_quote(num, strlen(num), last, sizeof last);
            last_ns = a->time_ns;
        }
        put_raw(b, cap, &n, last, last_len);
    } else {
        PUT_LIT(b, cap, &n, "null");
    }
    PUT_LIT(b, cap, &n, ",\"source\":{\"file\":");
    put_str(b, cap, &n, a->file);
    PUT_LIT(b, cap, &n, ",\"record\":");
    if (at) {
        *at = n;
    } else {
        put_raw(b, cap, &n, num, aw_u64_text(num, a->record));
        PUT_LIT(b, cap, &n, ",\"line\":");
        put_raw(b, cap, &n, num, aw_u64_text(num, a->line));
    }
    PUT_LIT(b, cap, &n, "}");
    PUT_LIT(b, cap, &n, ",\"event_sha256\":\"");
    put_raw(b, cap, &n, a->sha256, strnlen(a->sha256, 64));     /* hex: nothing to escape */
    PUT_LIT(b, cap, &n, "\"");
    return n;
}

/* With record_at (f a memory stream at its start), the record number
 * and line are left out and *record_at is where they go. */
static void json_alert(aw_out *o, const aw_alert *a, size_t *record_at)
{
    FILE *f = o->f;
    const rprefix *p = pre_find(o, a->rule);
    char small[2048];
    size_t head, at;                    /* at: the record number's place in the tail */
    if (p) {
        fwrite(p->json, 1, p->len, f);
        head = p->len;
    } else {
        json_alert_head(f, a->rule);
        head = record_at ? (size_t)ftell(f) : 0;
    }
    size_t need = json_alert_tail(a, small, sizeof small, record_at ? &at : NULL);
    if (need <= sizeof small) {
        fwrite(small, 1, need, f);
    } else {
        char *big = malloc(need);
        if (!big)
            abort();
        json_alert_tail(a, big, need, record_at ? &at : NULL);
        fwrite(big, 1, need, f);
        free(big);
    }
    if (record_at)
        *record_at = head + at;
    if (a->explain) {
        fputs(",\"explain\":[", f);
        for (size_t i = 0; i < a->nexplain; i++) {
            fputs(i ? ",{" : "{", f);
            kv(f, "identifier", a->explain[i].ident, false);
            kv(f, "field", a->explain[i].field[0] ? a->explain[i].field : NULL, true);
            kv(f, "value", a->explain[i].value, true);
            fputs("}", f);
        }
        fputs("]", f);
    }
    fputs("}\n", f);
}

static const char *level_color(const char *lv)
{
    if (!lv)
        return "";
    if (!strcmp(lv, "critical"))
        return "\033[1;31m";
    if (!strcmp(lv, "high"))
        return "\033[31m";
    if (!strcmp(lv, "medium"))
        return "\033[33m";
    if (!strcmp(lv, "low"))
        return "\033[36m";
    return "\033[2m";
}

static void text_alert(aw_out *o, const aw_alert *a)
{
    char t[64] = "-";
    const char *lv = aw_rule_level(a->rule);
    if (a->has_time)
        aw_time_format(a->time_ns, t, sizeof t);
    fprintf(o->f, "%-30.30s %s%-8s%s %-14.14s %-50.50s %s:%llu\n", t, o->color ? level_color(lv) : "",
            lv ? lv : "-", o->color ? "\033[0m" : "", a->tenant ? a->tenant : "-", aw_rule_title(a->rule),
            a->file, (unsigned long long)a->line);
    for (size_t i = 0; i < a->nexplain; i++)
        fprintf(o->f, "    %s: %s = %s\n", a->explain[i].ident,
                a->explain[i].field[0] ? a->explain[i].field : "(keyword)", a->explain[i].value);
}

static const char *sarif_level(const char *lv)
{
    if (lv && (!strcmp(lv, "critical") || !strcmp(lv, "high")))
        return "error";
    if (lv && !strcmp(lv, "medium"))
        return "warning";
    return "note";
}

static void sarif_alert(aw_out *o, const aw_alert *a)
{
    FILE *f = o->f;
    const char *id = aw_rule_id(a->rule) ? aw_rule_id(a->rule) : aw_rule_title(a->rule);
    char msg[1024];
    snprintf(msg, sizeof msg, "%s (author: %s)", aw_rule_title(a->rule),
             aw_rule_author(a->rule) ? aw_rule_author(a->rule) : "unknown");
    fputs(o->n ? ",{" : "{", f);
    kv(f, "ruleId", id, false);
    kv(f, "level", sarif_level(aw_rule_level(a->rule)), true);
    fputs(",\"message\":{", f);
    kv(f, "text", msg, false);
    fputs("},\"locations\":[{\"physicalLocation\":{\"artifactLocation\":{", f);
    kv(f, "uri", a->file, false);
    fprintf(f, "},\"region\":{\"startLine\":%llu}}}]", (unsigned long long)(a->line ? a->line : 1));
    fputs(",\"partialFingerprints\":{", f);
    kv(f, "eventSha256", a->sha256, false);
    fputs("},\"properties\":{", f);
    kv(f, "rulePath", aw_rule_path(a->rule), false);
    kv(f, "author", aw_rule_author(a->rule), true);
    if (a->tenant)
        kv(f, "tenant", a->tenant, true);
    fprintf(f, ",\"record\":%llu}}", (unsigned long long)a->record);
}

size_t aw_out_render_json(const aw_out *o, const aw_alert *a, char *b, size_t cap, size_t *record_at)
{
    const rprefix *p;
    if (o->fmt != AW_FMT_JSON || a->explain || !(p = pre_find(o, a->rule)))
        return 0;
    char none[1];
    size_t n = 0, at;
    put_raw(b, cap, &n, p->json, p->len);
    n += json_alert_tail(a, n < cap ? b + n : none, n < cap ? cap - n : 0, record_at ? &at : NULL);
    PUT_LIT(b, cap, &n, "}\n");
    if (record_at)
        *record_at = p->len + at;
    return n;
}

bool aw_out_render(const aw_out *o, FILE *f, const aw_alert *a, size_t *record_at)
{
    /* only the fields fixed at creation: the writer's count is the
     * committing thread's */
    aw_out tmp = {.f = f, .fmt = o->fmt, .color = o->color, .pre = o->pre, .npre = o->npre};
    if (record_at)
        *record_at = SIZE_MAX;
    switch (o->fmt) {
    case AW_FMT_JSON: json_alert(&tmp, a, record_at); return true;
    case AW_FMT_TEXT:                   /* prints the line: only if known */
        if (record_at)
            return false;
        text_alert(&tmp, a);
        return true;
    case AW_FMT_SARIF: return false;        /* separators depend on order */
    }
    return false;
}

void aw_out_rendered(aw_out *o, const char *p, size_t n, size_t record_at, uint64_t record, uint64_t line)
{
    if (record_at == SIZE_MAX || record_at > n) {
        fwrite(p, 1, n, o->f);
    } else {
        char num[64];
        size_t k = aw_u64_text(num, record);
        memcpy(num + k, ",\"line\":", 8);
        k += 8;
        k += aw_u64_text(num + k, line);
        fwrite(p, 1, record_at, o->f);
        fwrite(num, 1, k, o->f);
        fwrite(p + record_at, 1, n - record_at, o->f);
    }
    o->n++;
}

void aw_out_alert(aw_out *o, const aw_alert *a)
{
    switch (o->fmt) {
    case AW_FMT_JSON: json_alert(o, a, NULL); break;
    case AW_FMT_TEXT: text_alert(o, a); break;
    case AW_FMT_SARIF: sarif_alert(o, a); break;
    }
    o->n++;
}

/* ---- correlation alerts ---------------------------------------------- */

/* Group members: the names come from rules, so they are quoted too. */
static void json_group(FILE *f, const aw_correlation_alert *a)
{
    fputs("{", f);
    for (size_t i = 0; i < a->ngroup; i++) {
        if (i)
            fputc(',', f);
        aw_json_fputs(f, a->group_fields[i]);
        fputc(':', f);
        aw_json_fputs(f, a->group_values[i]);
    }
    fputs("}", f);
}

static void json_ref(FILE *f, const aw_correlation_ref *r)
{
    fputs("{", f);
    kv(f, "file", r->file, false);
    fprintf(f, ",\"record\":%llu,\"line\":%llu", (unsigned long long)r->record, (unsigned long long)r->line);
    kv(f, "event_sha256", r->sha256[0] ? r->sha256 : NULL, true);
    fputs("}", f);
}

static void json_correlation(aw_out *o, const aw_correlation_alert *a)
{
    FILE *f = o->f;
    char t[64];
    fputs("{\"type\":\"correlation\",\"rule\":", f);
    json_rule(f, a->rule);
    fputs(",\"group\":", f);
    json_group(f, a);
    if (a->tenant)
        kv(f, "tenant", a->tenant, true);
    fprintf(f, ",\"value\":%.15g,\"window\":{", a->value);
    aw_time_format(a->start_ns, t, sizeof t);
    kv(f, "start", t, false);
    aw_time_format(a->end_ns, t, sizeof t);
    kv(f, "end", t, true);
    fprintf(f, "},\"events\":%llu,\"evidence\":[", (unsigned long long)a->events);
    for (size_t i = 0; i < a->nrefs; i++) {
        if (i)
            fputc(',', f);
        json_ref(f, &a->refs[i]);
    }
    fputs("],\"trigger\":", f);
    if (a->trigger)
        json_ref(f, a->trigger);
    else
        fputs("null", f);
    fprintf(f, ",\"at_window_close\":%s,\"approximate\":%s}\n", a->at_window_close ? "true" : "false",
            a->approximate ? "true" : "false");
}

static void text_correlation(aw_out *o, const aw_correlation_alert *a)
{
    char t[64];
    const char *lv = aw_rule_level(a->rule);
    aw_time_format(a->end_ns, t, sizeof t);
    fprintf(o->f, "%-24.24s %s%-8s%s %-14.14s %-50.50s correlation value=%.15g events=%llu%s\n", t,
            o->color ? level_color(lv) : "", lv ? lv : "-", o->color ? "\033[0m" : "",
            a->tenant ? a->tenant : "-", aw_rule_title(a->rule), a->value, (unsigned long long)a->events,
            a->approximate ? " (approximate)" : "");
    for (size_t i = 0; i < a->ngroup; i++)
        fprintf(o->f, "    %s = %s\n", a->group_fields[i], a->group_values[i]);
    for (size_t i = 0; i < a->nrefs; i++)
        fprintf(o->f, "    evidence %s:%llu\n", a->refs[i].file, (unsigned long long)a->refs[i].line);
}

static void sarif_correlation(aw_out *o, const aw_correlation_alert *a)
{
    FILE *f = o->f;
    const char *id = aw_rule_id(a->rule) ? aw_rule_id(a->rule) : aw_rule_title(a->rule);
    char msg[1024], t[64];
    size_t n = (size_t)snprintf(msg, sizeof msg, "%s: value %.15g over %llu events (author: %s)",
                                aw_rule_title(a->rule), a->value, (unsigned long long)a->events,
                                aw_rule_author(a->rule) ? aw_rule_author(a->rule) : "unknown");
    for (size_t i = 0; i < a->ngroup && n < sizeof msg; i++)
        n += (size_t)snprintf(msg + n, sizeof msg - n, "%s%s=%s", i ? ", " : "; group ", a->group_fields[i],
                              a->group_values[i]);
    const aw_correlation_ref *loc = a->trigger ? a->trigger : a->nrefs ? &a->refs[a->nrefs - 1] : NULL;
    fputs(o->n ? ",{" : "{", f);
    kv(f, "ruleId", id, false);
    kv(f, "level", sarif_level(aw_rule_level(a->rule)), true);
    fputs(",\"message\":{", f);
    kv(f, "text", msg, false);
    fputs("},\"locations\":[", f);
    for (size_t i = 0; i < a->nrefs; i++) {
        fputs(i ? ",{" : "{", f);
        fputs("\"physicalLocation\":{\"artifactLocation\":{", f);
        kv(f, "uri", a->refs[i].file, false);
        fprintf(f, "},\"region\":{\"startLine\":%llu}}}", (unsigned long long)(a->refs[i].line ? a->refs[i].line : 1));
    }
    fputs("],\"partialFingerprints\":{", f);
    kv(f, "eventSha256", loc && loc->sha256[0] ? loc->sha256 : "", false);
    fputs("},\"properties\":{\"type\":\"correlation\"", f);
    kv(f, "rulePath", aw_rule_path(a->rule), true);
    kv(f, "author", aw_rule_author(a->rule), true);
    if (a->tenant)
        kv(f, "tenant", a->tenant, true);
    fputs(",\"group\":", f);
    json_group(f, a);
    aw_time_format(a->start_ns, t, sizeof t);
    fprintf(f, ",\"value\":%.15g,\"events\":%llu", a->value, (unsigned long long)a->events);
    kv(f, "windowStart", t, true);
    aw_time_format(a->end_ns, t, sizeof t);
    kv(f, "windowEnd", t, true);
    fprintf(f, ",\"approximate\":%s}}", a->approximate ? "true" : "false");
}

void aw_out_correlation(aw_out *o, const aw_correlation_alert *a)
{
    switch (o->fmt) {
    case AW_FMT_JSON: json_correlation(o, a); break;
    case AW_FMT_TEXT: text_correlation(o, a); break;
    case AW_FMT_SARIF: sarif_correlation(o, a); break;
    }
    o->n++;
}

void aw_out_finish(aw_out *o)
{
    if (!o)
        return;
    if (o->fmt == AW_FMT_SARIF)
        fputs("]}]}\n", o->f);
    fflush(o->f);
    for (size_t i = 0; i < o->npre; i++)
        free(o->pre[i].json);
    free(o->pre);
    free(o);
}
