/* scanner.c - the record loop: read, parse, drop content, match, alert.
 *
 * The record's SHA-256 is computed only for records that alert; parse
 * errors and framing errors are reported once as file:line: reason and
 * counted; the loop always goes on with the next record. */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "aupwatch/aw_input.h"
#include "cli/scanner.h"

#define MAX_EXPLAIN 64

struct aw_scanner {
    const aw_engine *e;
    aw_scanner_opts o;
    aw_alert_fn fn;
    void *ud;
    aw_doc *doc;
    aw_matcher *m;
    aw_correlator *corr;
    aw_scan_stats st;
    struct timespec t0, last_draw;
    /* per record */
    const char *file;
    const aw_record *rec;
    aw_xentry xe[MAX_EXPLAIN];
    size_t nxe;
    char tenant[256];
    char sha[65];               /* of rec, when sha_rec == rec */
    const aw_record *sha_rec;
};

static double since(const struct timespec *a)
{
    struct timespec b;
    clock_gettime(CLOCK_MONOTONIC, &b);
    return (double)(b.tv_sec - a->tv_sec) + (double)(b.tv_nsec - a->tv_nsec) / 1e9;
}

int aw_level_index(const char *lv)
{
    static const char *const levels[] = {"informational", "low", "medium", "high", "critical"};
    for (int i = 0; lv && i < 5; i++)
        if (strcmp(lv, levels[i]) == 0)
            return i;
    return 5;
}

aw_scanner *aw_scanner_new(const aw_engine *e, const aw_scanner_opts *o, aw_alert_fn fn, void *ud)
{
    aw_scanner *s = calloc(1, sizeof *s);
    if (!s)
        abort();
    s->e = e;
    s->o = *o;
    s->fn = fn;
    s->ud = ud;
    s->doc = aw_doc_new();
    s->m = aw_matcher_new(e->plan);
    if (o->corr_fn && aw_plan_correlation_count(e->plan))
        s->corr = aw_correlator_new(e->plan, &o->corr, o->corr_fn, ud,
                                    o->corr_diags ? aw_diags_fn : NULL, o->corr_diags);
    s->st.correlating = s->corr != NULL;
    clock_gettime(CLOCK_MONOTONIC, &s->t0);
    s->last_draw = s->t0;
    return s;
}

void aw_scanner_free(aw_scanner *s)
{
    if (!s)
        return;
    if (s->o.progress)
        fputs("\r\033[K", stderr);
    aw_doc_free(s->doc);
    aw_matcher_free(s->m);
    aw_correlator_free(s->corr);
    free(s);
}

void aw_scanner_finish(aw_scanner *s)
{
    if (!s->corr)
        return;
    aw_correlator_flush(s->corr);
    s->st.corr = *aw_correlator_stats_get(s->corr);
}

const aw_scan_stats *aw_scanner_stats(const aw_scanner *s) { return &s->st; }
double aw_scanner_seconds(const aw_scanner *s) { return since(&s->t0); }

static void on_explain(void *ud, const char *ident, const char *field, const char *value)
{
    aw_scanner *s = ud;
    if (s->nxe == MAX_EXPLAIN)
        return;
    aw_xentry *x = &s->xe[s->nxe++];
    snprintf(x->ident, sizeof x->ident, "%s", ident);
    snprintf(x->field, sizeof x->field, "%s", field ? field : "");
    snprintf(x->value, sizeof x->value, "%s", value ? value : "");
}

static const char *record_sha(aw_scanner *s)
{
    unsigned char dig[crypto_hash_sha256_BYTES];
    if (s->sha_rec != s->rec) {
        crypto_hash_sha256(dig, (const unsigned char *)s->rec->data, s->rec->len);
        sodium_bin2hex(s->sha, sizeof s->sha, dig, sizeof dig);
        s->sha_rec = s->rec;
    }
    return s->sha;
}

static int on_hit(void *ud, const aw_hit *h)
{
    aw_scanner *s = ud;
    aw_alert a;
    memset(&a, 0, sizeof a);
    if (s->corr && aw_correlator_wants(s->corr, h->rule)) {
        aw_evidence ev = {s->file, s->rec->recno, s->rec->line, NULL};
        ev.sha256 = record_sha(s);
        aw_correlator_feed(s->corr, h, s->doc, &ev);
    }
    if (h->correlation_only) {
        s->st.correlation_only_hits++;
        return 0;
    }
    a.rule = h->rule;
    a.source = h->source;
    if (aw_source_tenant(h->source, s->doc, s->tenant, sizeof s->tenant) > 0)
        a.tenant = s->tenant;
    a.has_time = aw_source_time(h->source, s->doc, &a.time_ns) == AW_OK;
    a.file = s->file;
    a.record = s->rec->recno;
    a.line = s->rec->line;
    memcpy(a.sha256, record_sha(s), sizeof a.sha256);
    if (s->o.explain) {
        s->nxe = 0;
        aw_matcher_explain(s->m, s->doc, h, on_explain, s);
        a.explain = s->xe;
        a.nexplain = s->nxe;
    }
    s->st.alerts++;
    s->st.by_level[aw_level_index(aw_rule_level(h->rule))]++;
    s->fn(s->ud, &a, h);
    return 0;
}

static void draw(aw_scanner *s, const aw_reader *r, bool force)
{
    if (!s->o.progress || (!force && since(&s->last_draw) < 0.25))
        return;
    clock_gettime(CLOCK_MONOTONIC, &s->last_draw);
    double secs = since(&s->t0);
    double mb = (double)(s->st.bytes_out + (r ? aw_reader_bytes_out(r) : 0)) / 1e6;
    fprintf(stderr, "\r\033[K%llu files  %llu records  %.1f MB  %.1f MB/s  %llu alerts  %llu malformed",
            s->st.files, s->st.records, mb, secs > 0 ? mb / secs : 0, s->st.alerts, s->st.malformed);
}

static void report(aw_scanner *s, const char *file, uint64_t line, const char *kind, const char *msg)
{
    s->st.malformed++;
    if (s->o.input_diags)
        aw_diags_fn(s->o.input_diags, file, line, kind, msg);
}

static aw_status scan_file(aw_scanner *s, const char *path)
{
    aw_reader *r;
    aw_errbuf err;
    aw_reader_opts ro = {s->o.max_record};
    aw_record rec;
    if (aw_reader_open(&r, path, &ro, &err) != AW_OK) {
        fprintf(stderr, "aupwatch: %s: %s\n", path, err.msg);
        s->st.unreadable++;
        return AW_EIO;
    }
    s->st.files++;
    s->file = path;
    aw_status rc;
    unsigned long n = 0;
    while ((rc = aw_reader_next(r, &rec, &err)) != AW_EOF) {
        if (rc == AW_EIO) {
            report(s, path, rec.line, "read-error", err.msg);
            break;
        }
        s->st.records++;
        if (rc == AW_EPARSE || rc == AW_ELIMIT) {
            report(s, path, rec.line, rc == AW_ELIMIT ? "record-too-large" : "bad-record", err.msg);
            continue;
        }
        size_t off = 0;
        if (aw_doc_parse(s->doc, rec.data, rec.len, &off, &err) != AW_OK) {
            char msg[700];
            snprintf(msg, sizeof msg, "record %llu: %s (byte %zu of the record)",
                     (unsigned long long)rec.recno, err.msg, off);
            report(s, path, rec.line, "bad-json", msg);
            continue;
        }
        /* classify once: content drops and derived fields of the event's
         * sources first, then the rules of those sources */
        const aw_source *cls[64];
        size_t nc = aw_mapping_classify(s->e->map, s->doc, cls, 64);
        if (nc > 64)
            nc = 64;
        aw_mapping_prepare(s->e->map, s->doc, cls, nc);
        s->rec = &rec;
        s->sha_rec = NULL;
        aw_matcher_eval_sources(s->m, s->doc, rec.data, rec.len, cls, nc, on_hit, s);
        if ((++n & 1023) == 0)
            draw(s, r, false);
    }
    s->st.bytes_in += aw_reader_bytes_in(r);
    s->st.bytes_out += aw_reader_bytes_out(r);
    aw_reader_close(r);
    draw(s, NULL, false);
    return AW_OK;
}

static int walk_cb(const char *path, void *ud)
{
    scan_file(ud, path);
    return 0;
}

aw_status aw_scanner_path(aw_scanner *s, const char *path)
{
    aw_errbuf err;
    unsigned long long before = s->st.unreadable;
    if (aw_input_walk(path, walk_cb, s, &err) != AW_OK) {
        fprintf(stderr, "aupwatch: %s: %s\n", path, err.msg);
        s->st.unreadable++;
        return AW_EIO;
    }
    return s->st.unreadable > before ? AW_EIO : AW_OK;
}
