/* ctest.h - fixture for correlation tests: a mapping, rules (YAML
 * text), the plan, a matcher and a correlator; events are JSON text fed
 * with their index as the evidence record; alerts are collected. */
#ifndef AW_CTEST_H
#define AW_CTEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aupwatch/aw_correlate.h"
#include "aupwatch/aw_sigma.h"

/* Sources for the scenario file's log sources (time in TimeCreated or
 * @timestamp) and a `test` source for unit tests (time ts, tenant
 * account, ip pseudonymised). */
static const char ctest_mapping_yaml[] =
    "sources:\n"
    "  - name: win-security\n"
    "    logsource: {product: windows, service: security}\n"
    "    when: {exists: EventID}\n"
    "    time: [TimeCreated, \"@timestamp\"]\n"
    "  - name: win-proc\n"
    "    logsource: {product: windows, category: process_creation}\n"
    "    when: {exists: CommandLine}\n"
    "    time: [TimeCreated, \"@timestamp\"]\n"
    "  - name: web\n"
    "    logsource: {category: webserver}\n"
    "    when: {exists: http}\n"
    "    time: \"@timestamp\"\n"
    "  - name: net\n"
    "    logsource: {category: network_connection}\n"
    "    when: {exists: event}\n"
    "    time: \"@timestamp\"\n"
    "  - name: proxy\n"
    "    logsource: {category: proxy}\n"
    "    when: {exists: cs-method}\n"
    "    time: \"@timestamp\"\n"
    "  - name: test\n"
    "    logsource: {product: test}\n"
    "    when: {exists: kind}\n"
    "    time: ts\n"
    "    tenant: account\n"
    "    pseudonymise: [ip]\n";

typedef struct calert {
    char title[128];
    long trigger;               /* evidence record of the trigger, -1 */
    char group[512];            /* "k=v,k=v" */
    char tenant[128];
    double value;
    int approx, corr_only, at_close;
    uint64_t events;
    size_t nrefs;
    long first_ref, last_ref;
    char refs[8][96];           /* the first refs: "file record sha256" */
    int64_t start, end;
} calert;

typedef struct cfx {
    aw_mapping *map;
    aw_ruleset *rs;
    aw_plan *plan;
    aw_matcher *m;
    aw_correlator *c;
    aw_doc *d;
    calert *al;
    size_t nal, capal;
    char diags[4096];
    long cur;                   /* record being fed */
    /* evidence as a scan gives it: the digest's bytes and a file id
     * (0: the file name and the hex digest only) */
    const char *file;           /* NULL: "events.jsonl" */
    uint64_t file_id;
    int bytes;
} cfx;

static aw_mapping *ctest_mapping(void)
{
    char path[] = "/tmp/aw_ctest_mapping_XXXXXX.yml";
    int fd = mkstemps(path, 4);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, ctest_mapping_yaml, sizeof ctest_mapping_yaml - 1),
                     (ssize_t)(sizeof ctest_mapping_yaml - 1));
    close(fd);
    aw_mapping *m = aw_mapping_new();
    assert_int_equal(aw_mapping_load(m, path, NULL, NULL), AW_OK);
    unlink(path);
    static const uint8_t key[32] = "0123456789abcdef0123456789abcdef";
    aw_mapping_set_key(m, key, sizeof key);
    return m;
}

static void ctest_diag(void *ud, const char *file, unsigned long line, const char *kind, const char *msg)
{
    cfx *f = ud;
    size_t n = strlen(f->diags);
    snprintf(f->diags + n, sizeof f->diags - n, "%s ", kind);
    (void)file, (void)line, (void)msg;
}

static void ctest_alert(void *ud, const aw_correlation_alert *a)
{
    cfx *f = ud;
    assert_true(f->nal < f->capal);
    calert *x = &f->al[f->nal++];
    memset(x, 0, sizeof *x);
    snprintf(x->title, sizeof x->title, "%s", aw_rule_title(a->rule));
    x->trigger = a->trigger ? (long)a->trigger->record : -1;
    for (size_t i = 0; i < a->ngroup; i++) {
        size_t n = strlen(x->group);
        snprintf(x->group + n, sizeof x->group - n, "%s%s=%s", i ? "," : "", a->group_fields[i],
                 a->group_values[i]);
    }
    if (a->tenant)
        snprintf(x->tenant, sizeof x->tenant, "%s", a->tenant);
    x->value = a->value;
    x->approx = a->approximate;
    x->corr_only = a->correlation_only;
    x->at_close = a->at_window_close;
    x->events = a->events;
    x->nrefs = a->nrefs;
    x->first_ref = a->nrefs ? (long)a->refs[0].record : -1;
    x->last_ref = a->nrefs ? (long)a->refs[a->nrefs - 1].record : -1;
    x->start = a->start_ns;
    x->end = a->end_ns;
    for (size_t i = 0; i < a->nrefs; i++) {
        assert_int_equal(strlen(a->refs[i].sha256), 64);
        if (i < 8)
            snprintf(x->refs[i], sizeof x->refs[i], "%s %llu %s", a->refs[i].file,
                     (unsigned long long)a->refs[i].record, a->refs[i].sha256);
    }
}

/* Returns false if the rules were rejected or the plan has no correlation. */
static bool cfx_init(cfx *f, aw_mapping *map, const char *rules, const aw_correlator_opts *o)
{
    memset(f, 0, sizeof *f);
    f->capal = 8192;
    f->al = calloc(f->capal, sizeof *f->al);
    f->map = map;
    f->rs = aw_ruleset_new();
    aw_ruleset_load_buffer(f->rs, "rules.yml", rules, strlen(rules), ctest_diag, f);
    if (aw_ruleset_rejected(f->rs))
        return false;
    f->plan = aw_plan_new(f->rs, map, NULL, ctest_diag, f);
    f->m = aw_matcher_new(f->plan);
    f->d = aw_doc_new();
    f->c = aw_correlator_new(f->plan, o, ctest_alert, f, ctest_diag, f);
    return f->c != NULL;
}

static int cfx_hit(void *ud, const aw_hit *h)
{
    cfx *f = ud;
    char sha[65];
    uint8_t bytes[32] = {0};
    snprintf(sha, sizeof sha, "%064lx", (unsigned long)f->cur);
    for (int i = 0; i < 8; i++)                 /* the digest's bytes: the same value */
        bytes[31 - i] = (uint8_t)((unsigned long)f->cur >> (8 * i));
    aw_evidence ev = {f->file ? f->file : "events.jsonl", (uint64_t)f->cur, (uint64_t)f->cur + 1,
                      f->bytes ? NULL : sha, f->bytes ? bytes : NULL, f->file_id};
    aw_correlator_feed(f->c, h, f->d, &ev);
    return 0;
}

static void cfx_event(cfx *f, long idx, const char *json)
{
    aw_errbuf err;
    assert_int_equal(aw_doc_parse(f->d, json, strlen(json), NULL, &err), AW_OK);
    f->cur = idx;
    aw_matcher_eval(f->m, f->d, cfx_hit, f);
}

static void cfx_free(cfx *f)
{
    aw_correlator_free(f->c);
    aw_doc_free(f->d);
    aw_matcher_free(f->m);
    aw_plan_free(f->plan);
    aw_ruleset_free(f->rs);
    free(f->al);
    f->al = NULL;
    f->c = NULL;
}

#endif
