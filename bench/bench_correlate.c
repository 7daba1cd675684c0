/* bench_correlate.c - throughput and memory of correlation (src/correlate)
 * next to detection only, in one process.
 *
 * Generates N events (default 10 million) over K distinct group keys
 * (default 1 million; 1% of the events go to 100 hot keys so that
 * correlations fire), as JSON text in memory, event time advancing
 * 10 ms per event with up to 60 s of jitter (out of order, inside the
 * 5-minute lateness bound). With --blocks the same volume is read the
 * way a provider's per-tenant files are: account after account (1000
 * accounts, each account's events over the whole time span, in order
 * but for the jitter), so streams are hours apart; lateness is per
 * group, so nothing may be late. Two passes over the same sequence:
 *   detect     parse + aw_matcher_eval with the 3 base rules
 *   correlate  the same + 3 correlations over them (event_count,
 *              value_count, temporal_ordered, group-by user, 1h):
 *              every hit fed to an aw_correlator, flushed at the end
 * and reports events/s, the peak resident set (getrusage ru_maxrss,
 * which only grows: the detect pass runs first), the correlator's
 * accounted state at its peak, its configured bound
 * (aw_correlator_bound_bytes) and its counters.
 *
 * Build and run: make bench && build/bench/bench_correlate
 *   [--events N] [--keys K] [--max-groups G] [--max-values V] [--blocks] [--quick]
 * --quick = 1M events over 100k keys. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "aupwatch/aw_correlate.h"
#include "aupwatch/aw_sigma.h"
#include "bench_util.h"

static const char mapping_yaml[] =
    "sources:\n"
    "  - name: bench\n"
    "    logsource: {product: bench}\n"
    "    when: {exists: op}\n"
    "    time: ts\n"
    "    tenant: account\n";

#define BASE(n, op)                                                      \
    "---\ntitle: base " n "\nname: " n "\nlogsource: {product: bench}\n" \
    "detection: {s: {op: " op "}, condition: s}\n"
static const char base_rules[] = BASE("put", "PutObject") BASE("tr", "StartTranscription") BASE("tl", "Translate");
static const char corr_rules[] =
    "title: many puts\ncorrelation:\n  type: event_count\n  rules: [put]\n  group-by: [user]\n"
    "  timespan: 1h\n  condition: {gte: 20}\n---\n"
    "title: many objects\ncorrelation:\n  type: value_count\n  rules: [put]\n  group-by: [user]\n"
    "  timespan: 1h\n  condition: {field: obj, gte: 15}\n---\n"
    "title: put then transcribe then translate\ncorrelation:\n  type: temporal_ordered\n"
    "  rules: [put, tr, tl]\n  group-by: [user]\n  timespan: 1h\n";

static long maxrss_kb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

static uint64_t rng;
static uint64_t rnd(void)
{
    return bench_xorshift(&rng);
}

typedef struct run {
    aw_matcher *m;
    aw_correlator *c;
    aw_doc *d;
    uint64_t hits, alerts, i;
    size_t peak_state;
} run;

static int on_hit(void *ud, const aw_hit *h)
{
    run *r = ud;
    r->hits++;
    if (r->c) {
        aw_evidence ev = {.file = "bench", .record = r->i, .line = r->i + 1};
        aw_correlator_feed(r->c, h, r->d, &ev);
    }
    return 0;
}

static void on_alert(void *ud, const aw_correlation_alert *a)
{
    (void)a;
    ((run *)ud)->alerts++;
}

static int blocks;

static double pass(run *r, uint64_t n, uint64_t keys)
{
    static const char *const ops[] = {"PutObject", "PutObject", "PutObject", "PutObject",
                                      "StartTranscription", "Translate", "GetObject"};
    char buf[512];
    aw_errbuf err;
    rng = 0x2545F4914F6CDD1DULL;
    double t0 = bench_now();
    for (uint64_t i = 0; i < n; i++) {
        uint64_t x = rnd();
        uint64_t user = (x % 100) == 0 ? (x >> 8) % 100 : (x >> 8) % keys;
        double ts = 1767225600.0 + (double)i * 0.01 + (double)((x >> 40) % 60000) / 1000.0;
        if (blocks) {   /* account a = i / per: its users a, a + 1000, ... */
            uint64_t per = n / 1000 ? n / 1000 : 1, a = i / per % 1000, upa = keys / 1000 ? keys / 1000 : 1;
            user = a + 1000 * ((x % 100) == 0 ? 0 : (x >> 8) % upa);
            ts = 1767225600.0 + (double)(i % per) * 10.0 + (double)((x >> 40) % 60000) / 1000.0;
        }
        int len = snprintf(buf, sizeof buf,
                           "{\"op\":\"%s\",\"ts\":%.3f,\"account\":\"%llu\",\"user\":\"user-%llu\","
                           "\"obj\":\"audio/%llu.wav\",\"bytes\":%llu}",
                           ops[(x >> 20) % 7], ts, (unsigned long long)(user % 1000),
                           (unsigned long long)user, (unsigned long long)((x >> 24) % 50),
                           (unsigned long long)((x >> 32) % 100000));
        if (aw_doc_parse(r->d, buf, (size_t)len, NULL, &err) != AW_OK) {
            fprintf(stderr, "bench: bad event: %s\n", err.msg);
            exit(1);
        }
        r->i = i;
        aw_matcher_eval(r->m, r->d, on_hit, r);
        if (r->c && (i & 65535) == 0) {
            size_t b = aw_correlator_state_bytes(r->c);
            if (b > r->peak_state)
                r->peak_state = b;
        }
    }
    if (r->c) {
        size_t b = aw_correlator_state_bytes(r->c);
        if (b > r->peak_state)
            r->peak_state = b;
        aw_correlator_flush(r->c);
    }
    return bench_now() - t0;
}

int main(int argc, char **argv)
{
    uint64_t n = 10000000, keys = 1000000;
    aw_correlator_opts o = {.max_groups = 1000000, .max_values = 64, .lateness_s = 300, .max_samples = 4};
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--quick")) {
            n = 1000000;
            keys = 100000;
        } else if (!strcmp(argv[i], "--blocks")) {
            blocks = 1;
        } else if (i + 1 < argc && !strcmp(argv[i], "--events")) {
            n = strtoull(argv[++i], NULL, 10);
        } else if (i + 1 < argc && !strcmp(argv[i], "--keys")) {
            keys = strtoull(argv[++i], NULL, 10);
        } else if (i + 1 < argc && !strcmp(argv[i], "--max-groups")) {
            o.max_groups = strtoull(argv[++i], NULL, 10);
        } else if (i + 1 < argc && !strcmp(argv[i], "--max-values")) {
            o.max_values = strtoull(argv[++i], NULL, 10);
        } else {
            fprintf(stderr, "usage: bench_correlate [--events N] [--keys K] [--max-groups G] [--max-values V] [--blocks] [--quick]\n");
            return 2;
        }
    }
    if (!keys)
        keys = 1;
    char path[] = "/tmp/aw_bench_corr_XXXXXX.yml";
    int fd = mkstemps(path, 4);
    if (fd < 0 || write(fd, mapping_yaml, sizeof mapping_yaml - 1) != (ssize_t)(sizeof mapping_yaml - 1))
        return 1;
    close(fd);
    aw_mapping *map = aw_mapping_new();
    if (aw_mapping_load(map, path, NULL, NULL) != AW_OK)
        return 1;
    unlink(path);

    printf("events %llu, keys %llu, max-groups %zu, max-values %zu%s\n", (unsigned long long)n,
           (unsigned long long)keys, o.max_groups, o.max_values, blocks ? ", account after account" : "");
    long rss0 = maxrss_kb();

    /* detection only */
    aw_ruleset *rs1 = aw_ruleset_new();
    aw_ruleset_load_buffer(rs1, "base.yml", base_rules, strlen(base_rules), NULL, NULL);
    aw_plan *p1 = aw_plan_new(rs1, map, NULL, NULL, NULL);
    run r1 = {aw_matcher_new(p1), NULL, aw_doc_new(), 0, 0, 0, 0};
    double s1 = pass(&r1, n, keys);
    long rss1 = maxrss_kb();
    printf("%-10s %10.0f events/s  %6.2f s  hits %llu  peak RSS %ld KiB\n", "detect", (double)n / s1, s1,
           (unsigned long long)r1.hits, rss1);

    /* detection + correlation */
    size_t clen = strlen(corr_rules) + strlen(base_rules);
    char *all = malloc(clen + 1);
    snprintf(all, clen + 1, "%s%s", corr_rules, base_rules);
    aw_ruleset *rs2 = aw_ruleset_new();
    aw_ruleset_load_buffer(rs2, "corr.yml", all, clen, NULL, NULL);
    aw_plan *p2 = aw_plan_new(rs2, map, NULL, NULL, NULL);
    run r2 = {aw_matcher_new(p2), NULL, aw_doc_new(), 0, 0, 0, 0};
    r2.c = aw_correlator_new(p2, &o, on_alert, &r2, NULL, NULL);
    if (!r2.c) {
        fprintf(stderr, "bench: no correlation in the plan\n");
        return 1;
    }
    double s2 = pass(&r2, n, keys);
    long rss2 = maxrss_kb();
    const aw_correlator_stats *st = aw_correlator_stats_get(r2.c);
    size_t bound = aw_correlator_bound_bytes(r2.c);
    printf("%-10s %10.0f events/s  %6.2f s  hits %llu  peak RSS %ld KiB\n", "correlate", (double)n / s2, s2,
           (unsigned long long)r2.hits, rss2);
    printf("correlation: alerts %llu, events %llu, peak groups %llu, evicted %llu (%llu with open windows), "
           "approximated %llu, late %llu\n",
           (unsigned long long)st->alerts, (unsigned long long)st->events, (unsigned long long)st->peak_groups,
           (unsigned long long)st->evicted_groups, (unsigned long long)st->evicted_live,
           (unsigned long long)st->approximated_groups, (unsigned long long)st->late);
    printf("state: peak accounted %.1f MiB (%.0f B/group); configured bound %.1f MiB; "
           "RSS growth over detect %.1f MiB (start %ld KiB)\n",
           (double)r2.peak_state / 1048576.0,
           st->peak_groups ? (double)r2.peak_state / (double)st->peak_groups : 0.0, (double)bound / 1048576.0,
           (double)(rss2 - rss1) / 1024.0, rss0);
    int ok = (size_t)(rss2 - rss1) * 1024 <= bound + (64u << 20);
    printf("peak RSS growth %s the bound + 64 MiB\n", ok ? "within" : "EXCEEDS");

    aw_correlator_free(r2.c);
    aw_matcher_free(r1.m);
    aw_matcher_free(r2.m);
    aw_doc_free(r1.d);
    aw_doc_free(r2.d);
    aw_plan_free(p1);
    aw_plan_free(p2);
    aw_ruleset_free(rs1);
    aw_ruleset_free(rs2);
    aw_mapping_free(map);
    free(all);
    return ok ? 0 : 1;
}
