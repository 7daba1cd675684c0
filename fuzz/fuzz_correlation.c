/* fuzz_correlation.c - libFuzzer target for correlation documents
 * (src/sigma/corr.c, src/sigma/plan.c) and their execution
 * (src/correlate).
 *
 * The input is loaded as a rule collection with aw_ruleset_load_buffer
 * and compiled into a plan against a small mapping (source `test`:
 * time `ts`, tenant `account`, `ip` pseudonymised). If the plan has
 * correlations, a fixed stream of events (in and out of order, with
 * and without group-by fields, numeric and text values, one without a
 * time) goes through the matcher and a correlator with tiny bounds, so
 * eviction, approximation, lateness and window close all run; then
 * flush. Any crash, sanitizer report or leak is a finding.
 *
 * Build: make fuzz; run: build-fuzz/fuzz/fuzz_correlation [corpus]. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aupwatch/aw_correlate.h"
#include "aupwatch/aw_sigma.h"

static const char mapping_yaml[] =
    "sources:\n"
    "  - name: test\n"
    "    logsource: {product: test}\n"
    "    when: {exists: kind}\n"
    "    time: ts\n"
    "    tenant: account\n"
    "    pseudonymise: [ip]\n";

static const char *const events[] = {
    "{\"kind\":\"a\",\"ts\":100,\"user\":\"u1\",\"host\":\"h\",\"n\":1,\"account\":\"1\",\"ip\":\"10.0.0.1\"}",
    "{\"kind\":\"b\",\"ts\":101,\"user\":\"u1\",\"host\":\"h\",\"n\":\"2\",\"account\":\"1\"}",
    "{\"kind\":\"a\",\"ts\":90,\"user\":\"u2\",\"host\":\"h\",\"n\":3.5}",
    "{\"kind\":\"c\",\"ts\":102,\"user\":\"u1\",\"n\":\"x\",\"ip\":\"10.0.0.2\"}",
    "{\"kind\":\"a\",\"user\":\"u1\"}",
    "{\"kind\":\"b\",\"ts\":5000,\"user\":[\"u3\",\"u4\"],\"host\":null}",
    "{\"kind\":\"a\",\"ts\":10,\"user\":\"u1\",\"host\":\"h\"}",
    "{\"kind\":\"c\",\"ts\":5001,\"user\":\"u5\",\"host\":\"h2\",\"n\":-1e300}",
    "{\"kind\":\"a\",\"ts\":5002,\"user\":\"u6\",\"host\":{\"x\":1},\"n\":7}",
};

static aw_mapping *map;

static void on_alert(void *ud, const aw_correlation_alert *a)
{
    size_t *n = ud;
    ++*n;
    for (size_t i = 0; i < a->ngroup; i++)
        if (!a->group_fields[i] || !a->group_values[i])
            abort();
    if (a->nrefs && !a->refs)
        abort();
}

typedef struct ctx {
    aw_correlator *c;
    const aw_doc *d;
    size_t i;
} ctx;

static int on_hit(void *ud, const aw_hit *h)
{
    ctx *x = ud;
    aw_evidence ev = {.file = "fuzz", .record = x->i, .line = x->i + 1};
    aw_correlator_feed(x->c, h, x->d, &ev);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!map) {
        char path[] = "/tmp/aw_fuzz_corr_XXXXXX.yml";
        int fd = mkstemps(path, 4);
        if (fd < 0 || write(fd, mapping_yaml, sizeof mapping_yaml - 1) != (ssize_t)(sizeof mapping_yaml - 1))
            abort();
        close(fd);
        map = aw_mapping_new();
        if (aw_mapping_load(map, path, NULL, NULL) != AW_OK)
            abort();
        unlink(path);
    }
    aw_ruleset *rs = aw_ruleset_new();
    aw_ruleset_load_buffer(rs, "fuzz.yml", (const char *)data, size, NULL, NULL);
    aw_plan *p = aw_plan_new(rs, map, NULL, NULL, NULL);
    if (p && aw_plan_correlation_count(p)) {
        size_t alerts = 0;
        aw_correlator_opts o = {.max_groups = 2, .max_values = 16, .lateness_s = 30,
                                .max_pending = 4, .max_samples = 2};
        aw_correlator *c = aw_correlator_new(p, &o, on_alert, &alerts, NULL, NULL);
        aw_matcher *m = aw_matcher_new(p);
        aw_doc *d = aw_doc_new();
        aw_errbuf err;
        for (int round = 0; round < 3 && c; round++) {
            for (size_t i = 0; i < sizeof events / sizeof *events; i++) {
                if (aw_doc_parse(d, events[i], strlen(events[i]), NULL, &err) != AW_OK)
                    abort();
                ctx x = {c, d, i};
                aw_matcher_eval(m, d, on_hit, &x);
            }
            if (round == 1)
                aw_correlator_flush(c);
        }
        aw_correlator_flush(c);
        if (c && aw_correlator_state_bytes(c) != 0)
            abort();
        aw_doc_free(d);
        aw_matcher_free(m);
        aw_correlator_free(c);
    }
    aw_plan_free(p);
    aw_ruleset_free(rs);
    return 0;
}
