/* test_correlate.c - the correlator per type, windows, re-fire policy,
 * upper-bound conditions at window close, chaining and aliases,
 * per-group lateness, eviction and approximation counters, tenant and
 * pseudonyms, the streaming property (how the groups' streams are
 * interleaved does not change the alerts) and provider-scale block
 * interleaving (tenant after tenant: nothing late). */
#include "correlate/ctest.h"
#include "test_util.h"

static aw_mapping *g_map;

#define BASE(n)                                                         \
    "---\ntitle: base " n "\nname: " n "\nlogsource: {product: test}\n" \
    "detection: {s: {kind: " n "}, condition: s}\n"
#define BASES BASE("a") BASE("b") BASE("c")

static void ev(cfx *f, long idx, double sec, const char *kind, const char *extra)
{
    char b[1024];
    snprintf(b, sizeof b, "{\"kind\":\"%s\",\"ts\":%.3f%s%s}", kind, 1700000000.0 + sec,
             extra && *extra ? "," : "", extra ? extra : "");
    cfx_event(f, idx, b);
}

static void ev_user(cfx *f, long idx, double sec, const char *kind, const char *user)
{
    char x[256];
    snprintf(x, sizeof x, "\"user\":\"%s\"", user);
    ev(f, idx, sec, kind, x);
}

static void setup_rules(cfx *f, const char *corr, const aw_correlator_opts *o)
{
    char rules[8192];
    snprintf(rules, sizeof rules, "%s\n" BASES, corr);
    if (!cfx_init(f, g_map, rules, o))
        fail_msg("rules not accepted: %s", f->diags);
}

#define EC(cond, extra)                                                                     \
    "title: ec\nname: ec\ncorrelation:\n  type: event_count\n  rules: [a]\n  group-by: [user]\n" \
    "  timespan: 60s\n  condition: {" cond "}\n" extra

static void test_event_count_reset(void **state)
{
    cfx f;
    setup_rules(&f, EC("gte: 3", ""), NULL);
    for (int i = 0; i < 7; i++)
        ev_user(&f, i, i, "a", "u1");
    ev_user(&f, 7, 7, "b", "u1");                   /* not referenced */
    aw_correlator_flush(f.c);
    assert_int_equal(f.nal, 2);                     /* 0-2 fire, reset, 3-5 fire, 6 alone */
    assert_int_equal(f.al[0].trigger, 2);
    assert_int_equal(f.al[1].trigger, 5);
    assert_string_equal(f.al[0].group, "user=u1");
    assert_true(f.al[0].value == 3);
    assert_int_equal(f.al[0].events, 3);
    assert_int_equal(f.al[0].nrefs, 3);
    assert_int_equal(f.al[0].first_ref, 0);
    assert_int_equal(f.al[0].last_ref, 2);
    assert_true(f.al[0].end - f.al[0].start == 2000000000LL);
    assert_false(f.al[0].at_close);
    assert_false(f.al[0].corr_only);
    cfx_free(&f);
}

static void test_event_count_keep(void **state)
{
    aw_correlator_opts o = {.refire = AW_REFIRE_KEEP};
    cfx f;
    setup_rules(&f, EC("gte: 3", ""), &o);
    for (int i = 0; i < 5; i++)
        ev_user(&f, i, i, "a", "u1");
    aw_correlator_flush(f.c);
    assert_int_equal(f.nal, 3);                     /* 2, 3, 4 */
    assert_true(f.al[2].value == 5);
    cfx_free(&f);
}

static void test_event_count_slides(void **state)
{
    cfx f;
    setup_rules(&f, EC("gte: 3", ""), NULL);
    ev_user(&f, 0, 0, "a", "u1");
    ev_user(&f, 1, 30, "a", "u1");
    ev_user(&f, 2, 61, "a", "u1");                  /* 0 slid out */
    ev_user(&f, 3, 90, "a", "u1");                  /* 30 in: [30,90] inclusive */
    aw_correlator_flush(f.c);
    assert_int_equal(f.nal, 1);
    assert_int_equal(f.al[0].trigger, 3);
    assert_true(f.al[0].value == 3);
    cfx_free(&f);
}

static void test_no_group_by(void **state)
{
    cfx f;
    setup_rules(&f, "title: g\ncorrelation:\n  type: event_count\n  rules: [a, b]\n  timespan: 1m\n"
                    "  condition: {gte: 3}\n", NULL);
    ev_user(&f, 0, 0, "a", "u1");
    ev_user(&f, 1, 1, "b", "u2");
    ev(&f, 2, 2, "a", NULL);
    aw_correlator_flush(f.c);
    assert_int_equal(f.nal, 1);
    assert_string_equal(f.al[0].group, "");
    cfx_free(&f);
}

static void test_value_count_tuples(void **state)
{
    cfx f;
    setup_rules(&f, "title: vc\ncorrelation:\n  type: value_count\n  rules: [a]\n  group-by: [host]\n"
                    "  timespan: 1m\n  condition: {field: [user, port], gte: 3}\n", NULL);
    ev(&f, 0, 0, "a", "\"host\":\"h\",\"user\":\"x\",\"port\":1");
    ev(&f, 1, 1, "a", "\"host\":\"h\",\"user\":\"x\",\"port\":1");   /* same tuple */
    ev(&f, 2, 2, "a", "\"host\":\"h\",\"user\":\"x\",\"port\":2");
    ev(&f, 3, 3, "a", "\"host\":\"h\",\"user\":\"y\"");              /* no port: no value */
    ev(&f, 4, 4, "a", "\"host\":\"h\",\"user\":\"y\",\"port\":1");
    aw_correlator_flush(f.c);
    assert_int_equal(f.nal, 1);
    assert_int_equal(f.al[0].trigger, 4);
    assert_true(f.al[0].value == 3);
    assert_int_equal(f.al[0].events, 5);
    cfx_free(&f);
}

static void test_value_sum_avg_percentile(void **state)
{
    static const double xs[] = {1, 2, 3, 4, 100};
    cfx f;
    setup_rules(&f, "title: s\ncorrelation:\n  type: value_sum\n  rules: [a]\n  group-by: [user]\n"
                    "  timespan: 1m\n  condition: {field: n, gt: 9}\n", NULL);
    for (int i = 0; i < 5; i++) {
        char x[64];
        snprintf(x, sizeof x, "\"user\":\"u\",\"n\":%g", xs[i]);
        ev(&f, i, i, "a", x);
    }
    ev(&f, 5, 5, "a", "\"user\":\"u\",\"n\":\"lots\"");             /* not a number: ignored */
    aw_correlator_flush(f.c);
    assert_int_equal(f.nal, 2);                     /* 1+2+3+4, reset, 100 */
    assert_int_equal(f.al[0].trigger, 3);
    assert_true(f.al[0].value == 10);
    assert_int_equal(f.al[1].trigger, 4);
    assert_true(f.al[1].value == 100);
    cfx_free(&f);

    setup_rules(&f, "title: v\ncorrelation:\n  type: value_avg\n  rules: [a]\n  group-by: [user]\n"
                    "  timespan: 1m\n  condition: {field: n, gte: 2.5}\n", NULL);
    for (int i = 0; i < 5; i++) {
        char x[64];
        snprintf(x, sizeof x, "\"user\":\"u\",\"n\":%g", xs[i]);
        ev(&f, i, i, "a", x);
    }
    aw_correlator_flush(f.c);
    assert_int_equal(f.nal, 2);                     /* avg 2.5 at 3, reset, 100 */
    assert_int_equal(f.al[0].trigger, 3);
    assert_true(f.al[0].value == 2.5);
    cfx_free(&f);

    /* percentile 50, written or left out (the default is the median) */
    for (int k = 0; k < 2; k++) {
        char r[256];
        snprintf(r, sizeof r, "title: p\ncorrelation:\n  type: value_percentile\n  rules: [a]\n  group-by: [user]\n"
                              "  timespan: 1m\n  condition: {field: n, %sgte: 3}\n", k ? "" : "percentile: 50, ");
        setup_rules(&f, r, NULL);
        for (int i = 0; i < 5; i++) {
            char x[64];
            snprintf(x, sizeof x, "\"user\":\"u\",\"n\":\"%g\"", xs[i]);
            ev(&f, i, i, "a", x);
        }
        aw_correlator_flush(f.c);
        assert_int_equal(f.nal, 1);                 /* medians 1 1.5 2 2.5 3 */
        assert_int_equal(f.al[0].trigger, 4);
        assert_true(f.al[0].value == 3);
        cfx_free(&f);
    }
}

static void test_temporal(void **state)
{
    cfx f;
    setup_rules(&f, "title: t\ncorrelation:\n  type: temporal\n  rules: [a, b, c]\n  group-by: [user]\n"
                    "  timespan: 1m\n", NULL);
    ev_user(&f, 0, 0, "c", "u");
    ev_user(&f, 1, 1, "b", "u");
    ev_user(&f, 2, 2, "b", "v");
    ev_user(&f, 3, 3, "a", "u");
    aw_correlator_flush(f.c);
    assert_int_equal(f.nal, 1);
    assert_int_equal(f.al[0].trigger, 3);
    assert_true(f.al[0].value == 3);
    cfx_free(&f);

    /* condition on the number of distinct rules */
    setup_rules(&f, "title: t\ncorrelation:\n  type: temporal\n  rules: [a, b, c]\n  group-by: [user]\n"
                    "  timespan: 1m\n  condition: {gte: 2}\n", NULL);
    ev_user(&f, 0, 0, "c", "u");
    ev_user(&f, 1, 1, "c", "u");
    ev_user(&f, 2, 2, "a", "u");
    aw_correlator_flush(f.c);
    assert_int_equal(f.nal, 1);
    assert_int_equal(f.al[0].trigger, 2);
    cfx_free(&f);
}

static void test_temporal_ordered(void **state)
{
    cfx f;
    setup_rules(&f, "title: o\ncorrelation:\n  type: temporal_ordered\n  rules: [a, b]\n  group-by: [user]\n"
                    "  timespan: 1m\n", NULL);
    ev_user(&f, 0, 0, "b", "u");                    /* wrong order */
    ev_user(&f, 1, 1, "a", "u");
    ev_user(&f, 2, 5, "b", "v");                    /* equal times count as ordered */
    ev_user(&f, 3, 5, "a", "v");
    ev_user(&f, 4, 9, "b", "u");
    aw_correlator_flush(f.c);
    assert_int_equal(f.nal, 2);
    assert_int_equal(f.al[0].trigger, 3);
    assert_string_equal(f.al[0].group, "user=v");
    assert_int_equal(f.al[1].trigger, 4);
    cfx_free(&f);
}

static void test_upper_bound_at_close(void **state)
{
    /* A window closes on its own group's clock (an event of the group
     * past the window's end) or at flush; another group's time does not
     * close it (per-group lateness: a later group may still be behind). */
    aw_correlator_opts o = {.lateness_s = AW_CORR_IN_ORDER};
    cfx f;
    setup_rules(&f, EC("lt: 3", ""), &o);
    ev_user(&f, 0, 0, "a", "few");
    ev_user(&f, 1, 1, "a", "many");
    ev_user(&f, 2, 2, "a", "many");
    ev_user(&f, 3, 3, "a", "many");
    ev_user(&f, 4, 60, "a", "few");                 /* window [0,60] inclusive: 2 events */
    assert_int_equal(f.nal, 0);                     /* nothing fires per event */
    ev_user(&f, 5, 100, "a", "other");              /* other group's time: closes nothing */
    assert_int_equal(f.nal, 0);
    ev_user(&f, 6, 100, "a", "few");                /* few's clock passes 60: closes */
    assert_int_equal(f.nal, 1);
    assert_string_equal(f.al[0].group, "user=few");
    assert_true(f.al[0].value == 2);
    assert_true(f.al[0].at_close);
    assert_int_equal(f.al[0].trigger, -1);
    assert_true(f.al[0].end - f.al[0].start == 60000000000LL);
    aw_correlator_flush(f.c);                       /* the rest close at flush, by deadline */
    assert_int_equal(f.nal, 3);                     /* many (3) does not fire */
    assert_true(f.al[1].end <= f.al[2].end);
    assert_true(f.al[1].value == 1 && f.al[2].value == 1);
    cfx_free(&f);
}

static void test_range_and_neq(void **state)
{
    cfx f;
    setup_rules(&f, EC("gt: 1, lte: 2", ""), NULL);   /* per event: fires at 2 */
    for (int i = 0; i < 3; i++)
        ev_user(&f, i, i, "a", "u");
    aw_correlator_flush(f.c);
    assert_int_equal(f.nal, 1);
    assert_int_equal(f.al[0].trigger, 1);
    cfx_free(&f);

    setup_rules(&f, EC("neq: 2", ""), NULL);        /* upper-bound class: at close */
    ev_user(&f, 0, 0, "a", "two");
    ev_user(&f, 1, 1, "a", "two");
    ev_user(&f, 2, 2, "a", "one");
    aw_correlator_flush(f.c);
    assert_int_equal(f.nal, 1);
    assert_string_equal(f.al[0].group, "user=one");
    cfx_free(&f);
}

static void test_chain_and_aliases(void **state)
{
    const char *rules =
        "title: outer\nname: outer\ncorrelation:\n  type: temporal_ordered\n  rules: [inner, b]\n"
        "  group-by: [who]\n  timespan: 5m\n  aliases:\n    who: {inner: user, b: principal}\n"
        "level: high\n---\n"
        "title: inner\nname: inner\ncorrelation:\n  type: event_count\n  rules: [a]\n"
        "  group-by: [user]\n  timespan: 1m\n  condition: {gte: 2}\n"
        BASES;
    cfx f;
    if (!cfx_init(&f, g_map, rules, NULL))
        fail_msg("%s", f.diags);
    ev_user(&f, 0, 0, "a", "u");
    ev_user(&f, 1, 10, "a", "u");                   /* inner fires at 10 */
    ev(&f, 2, 20, "b", "\"principal\":\"x\"");      /* other principal */
    ev(&f, 3, 30, "b", "\"principal\":\"u\"");      /* outer fires */
    aw_correlator_flush(f.c);
    assert_int_equal(f.nal, 2);
    assert_string_equal(f.al[0].title, "inner");
    assert_true(f.al[0].corr_only);
    assert_string_equal(f.al[1].title, "outer");
    assert_false(f.al[1].corr_only);
    assert_string_equal(f.al[1].group, "who=u");
    assert_int_equal(f.al[1].trigger, 3);
    assert_int_equal(f.al[1].events, 3);            /* 2 base events via inner + 1 */
    assert_int_equal(f.al[1].nrefs, 3);
    assert_int_equal(f.al[1].first_ref, 0);
    cfx_free(&f);
}

/* An outer value_count over an inner correlation counts the values of
 * a field the inner one groups by (each inner firing carries its group):
 * a user whose bursts come from two hosts. A field the inner one does
 * not group by has no value there, and the outer counts nothing. */
static void test_chain_value_fields(void **state)
{
    static const char *const outer_field[] = {"host", "port"};
    for (int k = 0; k < 2; k++) {
        char rules[4096];
        snprintf(rules, sizeof rules,
                 "title: outer\nname: outer\ncorrelation:\n  type: value_count\n  rules: [inner]\n"
                 "  group-by: [user]\n  timespan: 10m\n  condition: {field: %s, gte: 2}\n---\n"
                 "title: inner\nname: inner\ncorrelation:\n  type: event_count\n  rules: [a]\n"
                 "  group-by: [user, host]\n  timespan: 1m\n  condition: {gte: 2}\n" BASES,
                 outer_field[k]);
        cfx f;
        if (!cfx_init(&f, g_map, rules, NULL))
            fail_msg("%s", f.diags);
        ev(&f, 0, 0, "a", "\"user\":\"u\",\"host\":\"h1\",\"port\":1");
        ev(&f, 1, 5, "a", "\"user\":\"u\",\"host\":\"h1\",\"port\":2");   /* inner u/h1 */
        ev(&f, 2, 10, "a", "\"user\":\"u\",\"host\":\"h1\",\"port\":3");
        ev(&f, 3, 15, "a", "\"user\":\"u\",\"host\":\"h1\",\"port\":4");   /* h1 again */
        ev(&f, 4, 20, "a", "\"user\":\"v\",\"host\":\"h2\",\"port\":5");
        ev(&f, 5, 25, "a", "\"user\":\"v\",\"host\":\"h2\",\"port\":6");   /* other user */
        ev(&f, 6, 30, "a", "\"user\":\"u\",\"host\":\"h2\",\"port\":7");
        ev(&f, 7, 35, "a", "\"user\":\"u\",\"host\":\"h2\",\"port\":8");   /* u: 2nd host */
        aw_correlator_flush(f.c);
        size_t outer = 0;
        for (size_t i = 0; i < f.nal; i++)
            if (!strcmp(f.al[i].title, "outer")) {
                outer++;
                assert_string_equal(f.al[i].group, "user=u");
                assert_int_equal(f.al[i].trigger, 7);
                assert_true(f.al[i].value == 2);
            }
        assert_int_equal(outer, k == 0 ? 1 : 0);
        cfx_free(&f);
    }
}

static int corr_only_cb(void *ud, const aw_hit *h)
{
    *(int *)ud = h->correlation_only;
    return 0;
}

static void test_generate_flag(void **state)
{
    /* base rules referenced without generate are correlation-only hits
     * (fed to the correlator, no alert of their own); with generate:
     * true they alert on their own too */
    for (int gen = 0; gen < 2; gen++) {
        cfx f;
        setup_rules(&f, gen ? EC("gte: 1", "generate: true\n") : EC("gte: 1", ""), NULL);
        assert_true(aw_plan_correlation_count(f.plan) == 1);
        assert_int_equal(aw_doc_parse(f.d, "{\"kind\":\"a\",\"ts\":1,\"user\":\"u\"}", 30, NULL,
                                      &(aw_errbuf){{0}}), AW_OK);
        int co = -1;
        aw_matcher_eval(f.m, f.d, corr_only_cb, &co);
        assert_int_equal(co, !gen);
        cfx_free(&f);
    }
}

static void test_lateness(void **state)
{
    /* lateness is per group: only the group's own newest time counts */
    aw_correlator_opts o = {.lateness_s = 10};
    cfx f;
    setup_rules(&f, EC("gte: 3", ""), &o);
    ev_user(&f, 0, 100, "a", "u");
    ev_user(&f, 1, 95, "a", "u");                   /* 5 s late for u: accepted */
    ev_user(&f, 2, 200, "a", "x");                  /* x's time: no effect on u */
    ev_user(&f, 3, 50, "a", "u");                   /* 50 s behind u's 100: late */
    ev_user(&f, 4, 101, "a", "u");                  /* in order for u (was late under the
                                                       former global watermark, 190) */
    ev_user(&f, 5, 195, "a", "u");
    aw_correlator_flush(f.c);
    const aw_correlator_stats *st = aw_correlator_stats_get(f.c);
    assert_int_equal(st->late, 1);
    assert_int_equal(st->events, 5);
    assert_non_null(strstr(f.diags, "correlation-late"));
    assert_int_equal(f.nal, 1);                     /* 95 100 101 */
    assert_int_equal(f.al[0].trigger, 4);
    assert_true(f.al[0].start == 1700000095000000000LL);
    cfx_free(&f);

    /* inside the bound, an out-of-order event joins its group's window
     * in time order; the window is evaluated at each arrival, ending at
     * the group's newest time (so arrival order within a group matters:
     * here the third arrival fires, its window starting at 3) */
    setup_rules(&f, EC("gte: 3", ""), &o);
    ev_user(&f, 0, 10, "a", "u");
    ev_user(&f, 1, 3, "a", "u");
    ev_user(&f, 2, 12, "a", "u");
    ev_user(&f, 3, 5, "a", "u");                    /* after the reset: alone */
    aw_correlator_flush(f.c);
    assert_int_equal(f.nal, 1);
    assert_int_equal(f.al[0].trigger, 2);
    assert_true(f.al[0].start == 1700000003000000000LL);
    assert_true(f.al[0].end == 1700000012000000000LL);
    assert_int_equal(aw_correlator_stats_get(f.c)->late, 0);
    cfx_free(&f);
}

/* Out-of-order events are inserted into the group's time-sorted ring by
 * moving the fewer entries: those after the insert (up) or those before
 * it (down, the ring's head moving back), in contiguous runs across the
 * ring's wrap. Events arrive alternately older and newer than all held,
 * and into the middle, so both sides move, with the ring wrapped; every
 * firing's window start (the oldest entry held), end and count must be
 * those of the events held, computed here by brute force. */
static void test_out_of_order_inserts(void **state)
{
    enum { N = 150, K = 37 };
    cfx f;
    setup_rules(&f, "title: ec\nname: ec\ncorrelation:\n  type: event_count\n  rules: [a]\n"
                    "  group-by: [user]\n  timespan: 10m\n  condition: {gte: 37}\n", NULL);
    double t[N];
    int lo = 60, hi = 61, k = 0;                    /* times are 0.5 s * (0..149) */
    for (int i = 0; i < 8; i++)
        t[k++] = 0.5 * hi++;                        /* in order: 61..68 */
    while (k < N) {
        if (k % 3 == 0 && lo >= 0)
            t[k++] = 0.5 * lo--;                    /* older than all: front */
        else if (k % 3 == 1 && hi < N)
            t[k++] = 0.5 * hi++;                    /* newer than all: appended */
        else if (lo >= 0)
            t[k++] = 0.5 * lo--;
        else
            t[k++] = 0.5 * hi++;
    }
    /* and a few into the middle: swap some late arrivals inward */
    for (int i = 20; i + 7 < N; i += 11) {
        double x = t[i];
        t[i] = t[i + 7];
        t[i + 7] = x;
    }
    double held[N];
    int nheld = 0, nexp = 0;
    struct { double start, end; int events; long trigger; } want[N / K + 1];
    for (int i = 0; i < N; i++) {
        ev_user(&f, i, t[i], "a", "u");
        held[nheld++] = t[i];
        if (nheld >= K) {
            double mn = held[0], mx = held[0];
            for (int j = 1; j < nheld; j++) {
                mn = held[j] < mn ? held[j] : mn;
                mx = held[j] > mx ? held[j] : mx;
            }
            want[nexp].start = mn;
            want[nexp].end = mx;
            want[nexp].events = nheld;
            want[nexp].trigger = i;
            nexp++;
            nheld = 0;                              /* refire: reset */
        }
    }
    aw_correlator_flush(f.c);
    assert_int_equal(aw_correlator_stats_get(f.c)->late, 0);
    assert_int_equal(f.nal, nexp);
    for (int i = 0; i < nexp; i++) {
        assert_int_equal(f.al[i].trigger, want[i].trigger);
        assert_int_equal(f.al[i].events, want[i].events);
        assert_true(f.al[i].start == 1700000000000000000LL + (int64_t)(want[i].start * 1e9));
        assert_true(f.al[i].end == 1700000000000000000LL + (int64_t)(want[i].end * 1e9));
    }
    cfx_free(&f);
}

/* Evidence as a scan gives it (the digest's bytes, a file id that names
 * the file until it changes) is referenced exactly as evidence given by
 * file name and hex digest: same files, records and digests. */
static void test_evidence_bytes_and_file_id(void **state)
{
    static const char *const files[] = {"a.json.gz", "b.json.gz", "a.json.gz", "c.json.gz"};
    cfx f[2];
    for (int mode = 0; mode < 2; mode++) {
        char rules[2048];
        snprintf(rules, sizeof rules, "%s\n" BASES,
                 "title: ec\nname: ec\ncorrelation:\n  type: event_count\n  rules: [a]\n"
                 "  group-by: [user]\n  timespan: 10m\n  condition: {gte: 3}\n");
        if (!cfx_init(&f[mode], g_map, rules, NULL))
            fail_msg("%s", f[mode].diags);
        for (int i = 0; i < 24; i++) {
            int k = i / 6;                          /* four files, the first again third */
            f[mode].file = files[k];
            f[mode].file_id = mode ? (uint64_t)k + 1 : 0;
            f[mode].bytes = mode;
            ev_user(&f[mode], 1000 + i, i, "a", i % 2 ? "u" : "v");
        }
        aw_correlator_flush(f[mode].c);
    }
    assert_int_equal(f[0].nal, 8);
    assert_int_equal(f[1].nal, f[0].nal);
    for (size_t i = 0; i < f[0].nal; i++)
        for (int r = 0; r < 3; r++)
            assert_string_equal(f[1].al[i].refs[r], f[0].al[i].refs[r]);
    assert_non_null(strstr(f[1].al[7].refs[0], "c.json.gz 1019 000000000000000000000000000000000000000000000000000000000000"));
    assert_non_null(strstr(f[1].al[4].refs[0], "a.json.gz 1012 "));
    cfx_free(&f[0]);
    cfx_free(&f[1]);
}

static void test_group_late_beyond_bound(void **state)
{
    /* default lateness (300 s): an event more than 300 s older than its
     * group's newest is late; for a sliding window an event older than
     * the group's window start (timespan < lateness) is late too: it
     * could only belong to windows already evaluated. Other groups far
     * ahead or behind change nothing. */
    cfx f;
    setup_rules(&f, "title: ec\ncorrelation:\n  type: event_count\n  rules: [a]\n  group-by: [user]\n"
                    "  timespan: 10m\n  condition: {gte: 3}\n", NULL);
    ev_user(&f, 0, 10000, "a", "u");
    ev_user(&f, 1, 20000, "a", "far");              /* another group, hours ahead */
    ev_user(&f, 2, 9600, "a", "u");                 /* 400 s behind u: late */
    ev_user(&f, 3, 9800, "a", "u");                 /* 200 s behind: accepted */
    ev_user(&f, 4, 1, "a", "early");                /* a group far behind: not late */
    ev_user(&f, 5, 9900, "a", "u");                 /* third in u's window: fires */
    const aw_correlator_stats *st = aw_correlator_stats_get(f.c);
    assert_int_equal(st->late, 1);
    assert_int_equal(f.nal, 1);
    assert_int_equal(f.al[0].trigger, 5);
    assert_int_equal(f.al[0].events, 3);
    aw_correlator_flush(f.c);
    cfx_free(&f);

    aw_correlator_opts o = {.lateness_s = 3600};
    setup_rules(&f, EC("gte: 2", ""), &o);          /* 60 s window, 1 h lateness */
    ev_user(&f, 0, 1000, "a", "u");
    ev_user(&f, 1, 900, "a", "u");                  /* within lateness, before the window */
    ev_user(&f, 2, 950, "a", "u");                  /* inside the window [940, 1000] */
    aw_correlator_flush(f.c);
    assert_int_equal(aw_correlator_stats_get(f.c)->late, 1);
    assert_int_equal(f.nal, 1);
    assert_int_equal(f.al[0].trigger, 2);
    cfx_free(&f);
}

static void test_missing_time_and_group(void **state)
{
    cfx f;
    setup_rules(&f, EC("gte: 1", ""), NULL);
    cfx_event(&f, 0, "{\"kind\":\"a\",\"user\":\"u\"}");
    ev(&f, 1, 1, "a", NULL);
    ev(&f, 2, 2, "a", "\"user\":null");
    aw_correlator_flush(f.c);
    assert_int_equal(f.nal, 0);
    assert_int_equal(aw_correlator_stats_get(f.c)->no_time, 1);
    assert_int_equal(aw_correlator_stats_get(f.c)->no_group, 2);
    cfx_free(&f);
}

static void test_eviction(void **state)
{
    aw_correlator_opts o = {.max_groups = 2, .lateness_s = AW_CORR_IN_ORDER};
    cfx f;
    setup_rules(&f, EC("gte: 3", ""), &o);
    ev_user(&f, 0, 0, "a", "u1");
    ev_user(&f, 1, 1, "a", "u1");
    ev_user(&f, 2, 2, "a", "u2");
    ev_user(&f, 3, 3, "a", "u3");                   /* evicts u1 (least recent) */
    ev_user(&f, 4, 4, "a", "u1");                   /* u1 starts over: 1 event */
    ev_user(&f, 5, 5, "a", "u1");
    aw_correlator_flush(f.c);
    const aw_correlator_stats *st = aw_correlator_stats_get(f.c);
    assert_int_equal(f.nal, 0);
    assert_int_equal(st->evicted_groups, 2);        /* u1, then u2 for u1 again */
    assert_int_equal(st->evicted_live, 2);
    assert_int_equal(st->peak_groups, 2);
    assert_non_null(strstr(f.diags, "correlation-evict"));
    cfx_free(&f);
}

/* Counts and sums keep one entry per event time: events of one second
 * (CloudTrail's resolution) in a burst far beyond max_values stay
 * exact. 10 events a second for 20 seconds, the seconds arriving out of
 * order, a 10 s window: at most 11 seconds (110 events) are ever held,
 * so "gte: 111" never fires and "gte: 110" fires with the exact window;
 * an entry per event (16 at most) would merge and over-count. */
static void test_event_count_same_time(void **state)
{
    aw_correlator_opts o = {.max_values = 16};
    static const int order[20] = {0, 2, 1, 3, 5, 4, 6, 7, 9, 8, 10, 12, 11, 13, 14, 16, 15, 17, 19, 18};
    for (int gte = 110; gte <= 111; gte++) {
        char rule[256];
        snprintf(rule, sizeof rule, "title: ec\nname: ec\ncorrelation:\n  type: event_count\n  rules: [a]\n"
                 "  group-by: [user]\n  timespan: 10s\n  condition: {gte: %d}\n", gte);
        cfx f;
        setup_rules(&f, rule, &o);
        long idx = 0;
        for (int s = 0; s < 20; s++)
            for (int k = 0; k < 10; k++)
                ev_user(&f, idx++, order[s], "a", "u");
        aw_correlator_flush(f.c);
        const aw_correlator_stats *st = aw_correlator_stats_get(f.c);
        assert_int_equal(st->late, 0);
        assert_int_equal(st->approximated_groups, 0);
        if (gte == 111) {
            assert_int_equal(f.nal, 0);
        } else {
            assert_true(f.nal >= 1);
            assert_true(f.al[0].value == 110);
            assert_false(f.al[0].approx);
            assert_int_equal(f.al[0].trigger, 109);            /* the 10th event of second 10 */
            assert_true(f.al[0].start == 1700000000000000000LL);
            assert_true(f.al[0].end == 1700000010000000000LL);
        }
        cfx_free(&f);
    }
}

static void test_value_count_hll(void **state)
{
    aw_correlator_opts o = {.max_values = 16};
    cfx f;
    setup_rules(&f, "title: vc\ncorrelation:\n  type: value_count\n  rules: [a]\n  group-by: [host]\n"
                    "  timespan: 1h\n  condition: {field: user, gte: 500}\n", &o);
    for (int i = 0; i < 600; i++) {
        char x[64];
        snprintf(x, sizeof x, "\"host\":\"h\",\"user\":\"user%d\"", i);
        ev(&f, i, i, "a", x);
    }
    aw_correlator_flush(f.c);
    const aw_correlator_stats *st = aw_correlator_stats_get(f.c);
    assert_int_equal(st->approximated_groups, 2);  /* again after the reset */
    assert_non_null(strstr(f.diags, "correlation-approximate"));
    assert_int_equal(f.nal, 1);
    assert_true(f.al[0].approx);
    /* HLL, 1024 registers: within 3 standard errors (~10%) of 500 */
    assert_true(f.al[0].trigger >= 450 && f.al[0].trigger <= 550);
    assert_true(aw_correlator_state_bytes(f.c) == 0);    /* flushed */
    cfx_free(&f);
}

static void test_event_count_merge(void **state)
{
    /* a burst beyond max_values in one window: merged entries expire
     * late, so the count can only be over-estimated; flagged */
    aw_correlator_opts o = {.max_values = 16, .refire = AW_REFIRE_RESET};
    cfx f;
    setup_rules(&f, EC("gte: 40", ""), &o);
    for (int i = 0; i < 40; i++)
        ev_user(&f, i, i * 0.5, "a", "u");
    aw_correlator_flush(f.c);
    assert_int_equal(f.nal, 1);
    assert_true(f.al[0].value == 40);
    assert_true(f.al[0].approx);
    assert_int_equal(aw_correlator_stats_get(f.c)->approximated_groups, 1);
    cfx_free(&f);

    /* temporal keeps only what matters: exact, not approximate */
    setup_rules(&f, "title: t\ncorrelation:\n  type: temporal\n  rules: [a, b]\n  group-by: [user]\n"
                    "  timespan: 1h\n", &o);
    ev_user(&f, 0, 0, "b", "u");
    for (int i = 1; i < 100; i++)
        ev_user(&f, i, i, "c", "u");                /* not referenced */
    for (int i = 100; i < 200; i++)
        ev_user(&f, i, i, "b", "u");
    ev_user(&f, 200, 200, "a", "u");
    aw_correlator_flush(f.c);
    assert_int_equal(f.nal, 1);
    assert_false(f.al[0].approx);
    cfx_free(&f);
}

static void test_max_pending_ignored(void **state)
{
    /* Formerly a global reorder buffer of max_pending events, processed
     * early ("forced") when full. Lateness is per group now and events
     * are processed when fed: max_pending is ignored, nothing is held,
     * alerts arrive at once, forced and pending stay 0. */
    aw_correlator_opts o = {.max_pending = 4, .lateness_s = 3600};
    cfx f;
    setup_rules(&f, EC("gte: 3", ""), &o);
    for (int i = 0; i < 10; i++)
        ev_user(&f, i, i, "a", "u");
    assert_int_equal(aw_correlator_stats_get(f.c)->forced, 0);
    assert_int_equal(aw_correlator_stats_get(f.c)->pending, 0);
    assert_int_equal(f.nal, 3);                     /* 0-2, 3-5, 6-8: delivered at once */
    aw_correlator_flush(f.c);
    assert_int_equal(f.nal, 3);
    cfx_free(&f);
}

static void test_tenant_and_pseudonyms(void **state)
{
    cfx f;
    setup_rules(&f, "title: tp\ncorrelation:\n  type: event_count\n  rules: [a]\n  group-by: [account, ip]\n"
                    "  timespan: 1m\n  condition: {gte: 2}\n", NULL);
    ev(&f, 0, 0, "a", "\"account\":\"111\",\"ip\":\"10.0.0.1\"");
    ev(&f, 1, 1, "a", "\"account\":\"111\",\"ip\":\"10.0.0.1\"");
    aw_correlator_flush(f.c);
    assert_int_equal(f.nal, 1);
    assert_string_equal(f.al[0].tenant, "111");
    assert_non_null(strstr(f.al[0].group, "account=111,ip=hmac-sha256:"));
    assert_null(strstr(f.al[0].group, "10.0.0.1"));
    cfx_free(&f);

    setup_rules(&f, EC("gte: 1", ""), NULL);        /* tenant not in the group */
    ev(&f, 0, 0, "a", "\"account\":\"111\",\"user\":\"u\"");
    aw_correlator_flush(f.c);
    assert_int_equal(f.nal, 1);
    assert_string_equal(f.al[0].tenant, "");
    cfx_free(&f);
}

/* ---- streaming property ------------------------------------------------ */

static uint64_t rng = 0x9e3779b97f4a7c15ULL;
static uint64_t rnd(void)
{
    return tu_xorshift(&rng);
}

typedef struct sev {
    double t;
    char kind[2];
    int user, val;
    long idx;
} sev;

static void feed_all(cfx *f, const sev *e, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char x[128];
        snprintf(x, sizeof x, "\"user\":\"u%d\",\"v\":\"v%d\",\"n\":%d", e[i].user, e[i].val, e[i].val);
        ev(f, e[i].idx, e[i].t, e[i].kind, x);
    }
    aw_correlator_flush(f->c);
}

static int cmp_calert(const void *pa, const void *pb)
{
    const calert *a = pa, *b = pb;
    int r = strcmp(a->title, b->title);
    if (!r)
        r = strcmp(a->group, b->group);
    if (!r)
        r = (a->end > b->end) - (a->end < b->end);
    if (!r)
        r = (a->trigger > b->trigger) - (a->trigger < b->trigger);
    return r;
}

static void assert_same_alerts(cfx *ref, cfx *alt)
{
    assert_int_equal(alt->nal, ref->nal);
    qsort(ref->al, ref->nal, sizeof *ref->al, cmp_calert);
    qsort(alt->al, alt->nal, sizeof *alt->al, cmp_calert);
    for (size_t k = 0; k < ref->nal; k++) {
        assert_string_equal(alt->al[k].title, ref->al[k].title);
        assert_string_equal(alt->al[k].group, ref->al[k].group);
        assert_int_equal(alt->al[k].trigger, ref->al[k].trigger);
        assert_true(alt->al[k].value == ref->al[k].value);
        assert_true(alt->al[k].start == ref->al[k].start && alt->al[k].end == ref->al[k].end);
        assert_int_equal(alt->al[k].events, ref->al[k].events);
        assert_int_equal(alt->al[k].at_close, ref->al[k].at_close);
    }
}

/* Each group keeps its own clock, so the alerts (as a set; their delivery
 * order follows arrival) depend only on each group's own event sequence:
 * feeding the per-user streams interleaved in any way gives the alerts
 * of the time-ordered feed. (Formerly a global reorder buffer also made
 * arrival order within a group irrelevant inside the lateness bound; now
 * an out-of-order event joins its group's window as it arrives, see
 * test_lateness, so this test keeps each user's order.) */
static void test_streaming_property(void **state)
{
    static const char rules[] =
        "title: ec\ncorrelation:\n  type: event_count\n  rules: [a]\n  group-by: [user]\n"
        "  timespan: 30s\n  condition: {gte: 4}\n---\n"
        "title: vc\ncorrelation:\n  type: value_count\n  rules: [a, b]\n  group-by: [user]\n"
        "  timespan: 1m\n  condition: {field: v, gte: 3}\n---\n"
        "title: to\ncorrelation:\n  type: temporal_ordered\n  rules: [a, b, c]\n  group-by: [user]\n"
        "  timespan: 1m\n---\n"
        "title: lt\ncorrelation:\n  type: value_sum\n  rules: [c]\n  group-by: [user]\n"
        "  timespan: 1m\n  condition: {field: n, lt: 5}\n" BASES;
    enum { N = 3000, U = 15 };
    sev *e = calloc(N, sizeof *e);
    for (long i = 0; i < N; i++) {
        e[i].t = (double)i * 0.25 + 0.001 * (double)(rnd() % 200);   /* increasing */
        e[i].kind[0] = (char)('a' + rnd() % 3);
        e[i].user = (int)(rnd() % U);
        e[i].val = (int)(rnd() % 6);
        e[i].idx = i;
    }
    cfx ref, alt;
    if (!cfx_init(&ref, g_map, rules, NULL))
        fail_msg("%s", ref.diags);
    feed_all(&ref, e, N);
    assert_true(ref.nal > 20);
    for (int round = 0; round < 4; round++) {
        /* round 0: user by user (blocks of 12 minutes of event time);
         * others: a random merge of the per-user streams */
        sev *s = malloc(N * sizeof *s);
        size_t n = 0, pos[U] = {0};
        if (round == 0) {
            for (int u = 0; u < U; u++)
                for (size_t i = 0; i < N; i++)
                    if (e[i].user == u)
                        s[n++] = e[i];
        } else {
            while (n < N) {
                int u = (int)(rnd() % U);
                while (pos[u] < N && e[pos[u]].user != u)
                    pos[u]++;
                if (pos[u] < N)
                    s[n++] = e[pos[u]++];
            }
        }
        if (!cfx_init(&alt, g_map, rules, NULL))
            fail_msg("%s", alt.diags);
        feed_all(&alt, s, N);
        assert_int_equal(aw_correlator_stats_get(alt.c)->late, 0);
        assert_same_alerts(&ref, &alt);
        cfx_free(&alt);
        free(s);
    }
    cfx_free(&ref);
    free(e);
}

/* Provider scale: many tenants, each stream in order, read tenant by
 * tenant (group A's two hours, then group B's two hours, ...), more
 * events in all than the former global reorder buffer held (262 144):
 * nothing is late and every group fires exactly as in time order. */
static void test_interleaved_groups(void **state)
{
    static const char rules[] =
        "title: burst\ncorrelation:\n  type: event_count\n  rules: [a]\n  group-by: [user]\n"
        "  timespan: 1h\n  condition: {gte: 100}\n---\n"
        "title: quiet\ncorrelation:\n  type: event_count\n  rules: [a]\n  group-by: [user]\n"
        "  timespan: 10m\n  condition: {lt: 50}\n" BASES;
    enum { G = 270, PER = 1000 };                   /* 270 000 events */
    cfx f;
    if (!cfx_init(&f, g_map, rules, NULL))
        fail_msg("%s", f.diags);
    for (int g = 0; g < G; g++)
        for (int i = 0; i < PER; i++) {
            char b[160];
            snprintf(b, sizeof b, "{\"kind\":\"a\",\"ts\":%d,\"user\":\"t%d\"}", 1700000000 + 8 * i + g % 8, g);
            cfx_event(&f, (long)g * PER + i, b);
        }
    /* burst: 100 fresh events in an hour, every 100th event: 10 per
     * group, delivered at once. quiet: windows of 10 min hold 76 events
     * (one every 8 s, inclusive), the 77th closes it; the last window
     * (1000 - 13 * 76 = 12 events) closes at flush and fires. */
    const aw_correlator_stats *st = aw_correlator_stats_get(f.c);
    assert_int_equal(st->late, 0);
    assert_int_equal(st->events, 2 * G * PER);
    assert_int_equal(f.nal, G * 10);
    aw_correlator_flush(f.c);
    assert_int_equal(f.nal, G * 11);
    size_t quiet = 0;
    for (size_t k = 0; k < f.nal; k++)
        if (!strcmp(f.al[k].title, "quiet")) {
            quiet++;
            assert_true(f.al[k].value == 12 && f.al[k].at_close);
        } else {
            assert_true(f.al[k].value == 100 && f.al[k].events == 100);
        }
    assert_int_equal(quiet, G);
    assert_int_equal(st->evicted_groups, 0);
    cfx_free(&f);
}

/* Thousands of open groups (the group table grows: it starts at 1024
 * buckets and doubles past half full): each still finds its own. */
static void test_many_groups(void **state)
{
    enum { G = 5000 };
    cfx f;
    setup_rules(&f, EC("gte: 2", ""), NULL);
    char u[32];
    for (int pass = 0; pass < 2; pass++)
        for (int g = 0; g < G; g++) {
            snprintf(u, sizeof u, "u%d", (g * 7919) % G);     /* not in hash order */
            ev_user(&f, (long)pass * G + g, pass * 30 + g * 0.001, "a", u);
        }
    assert_int_equal(f.nal, G);
    for (size_t k = 0; k < f.nal; k++) {
        long g = f.al[k].trigger - G;
        char want[48];
        snprintf(want, sizeof want, "user=u%ld", (g * 7919) % G);
        if (g < 0 || f.al[k].events != 2 || strcmp(f.al[k].group, want) != 0)
            fail_msg("alert %zu: trigger %ld, %llu events, group %s (want %s)", k, f.al[k].trigger,
                     (unsigned long long)f.al[k].events, f.al[k].group, want);
    }
    const aw_correlator_stats *st = aw_correlator_stats_get(f.c);
    assert_int_equal(st->peak_groups, G);
    assert_int_equal(st->evicted_groups, 0);
    cfx_free(&f);
}

/* value_count against a direct count: values come and go from a
 * sliding window (inclusive at its start), many distinct ones sharing a
 * small table, and the window empties when the rule fires (reset). The
 * threshold is near a window's usual distinct count, so firings wait for
 * values to leave (50 firings; a removal that leaves a hole in the
 * table's probe chains gives 70). */
static void test_value_count_sliding_reference(void **state)
{
    enum { N = 4000, D = 40, K = 24, SPAN_MS = 10000 };
    static long t[N], want[N];
    static int v[N];
    long nwant = 0, from = 0, now = 0;
    for (long i = 0; i < N; i++) {
        now += (long)(rnd() % 700);
        t[i] = now;
        v[i] = (int)(rnd() % D);
        while (t[from] < now - SPAN_MS)
            from++;
        bool seen[D] = {false};
        int distinct = 0;
        for (long j = from; j <= i; j++)
            if (!seen[v[j]]) {
                seen[v[j]] = true;
                distinct++;
            }
        if (distinct >= K) {
            want[nwant++] = i;
            from = i + 1;                           /* reset */
        }
    }
    cfx f;
    char rule[160];
    snprintf(rule, sizeof rule, "title: vc\ncorrelation:\n  type: value_count\n  rules: [a]\n"
                                "  timespan: %ds\n  condition: {field: v, gte: %d}\n", SPAN_MS / 1000, K);
    setup_rules(&f, rule, NULL);
    for (long i = 0; i < N; i++) {
        char x[32];
        snprintf(x, sizeof x, "\"v\":\"x%d\"", v[i]);
        ev(&f, i, (double)t[i] / 1000, "a", x);
    }
    aw_correlator_flush(f.c);
    if (nwant < 20)
        fail_msg("only %ld firings: the parameters do not exercise the window", nwant);
    if ((long)f.nal != nwant)
        fail_msg("%zu alerts, the direct count says %ld", f.nal, nwant);
    for (long k = 0; k < nwant; k++)
        if (f.al[k].trigger != want[k])
            fail_msg("alert %ld at record %ld, the direct count says %ld", k, f.al[k].trigger, want[k]);
    cfx_free(&f);
}

static void test_parser_non_scalar_keys(void **state)
{
    /* found by fuzz/fuzz_correlation.c: a map as a key crashed corr.c */
    static const char *const docs[] = {
        "title: x\ncorrelation:\n  type: value_sum\n  rules: [a]\n  timespan: 1m\n"
        "  condition: {field: n, {kind: a}: 1}\n",
        "title: x\ncorrelation:\n  {type: x}: event_count\n",
        "title: x\ncorrelation:\n  type: temporal\n  rules: [a]\n  timespan: 1m\n"
        "  group-by: [g]\n  aliases: {g: {[a]: f}}\n",
    };
    for (size_t i = 0; i < sizeof docs / sizeof *docs; i++) {
        aw_ruleset *rs = aw_ruleset_new();
        aw_ruleset_load_buffer(rs, "x.yml", docs[i], strlen(docs[i]), NULL, NULL);
        assert_int_equal(aw_ruleset_rejected(rs), 1);
        aw_ruleset_free(rs);
    }
}

static int setup(void **state)
{
    (void)state;
    g_map = ctest_mapping();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    aw_mapping_free(g_map);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_event_count_reset),
        cmocka_unit_test(test_event_count_keep),
        cmocka_unit_test(test_event_count_slides),
        cmocka_unit_test(test_no_group_by),
        cmocka_unit_test(test_value_count_tuples),
        cmocka_unit_test(test_value_sum_avg_percentile),
        cmocka_unit_test(test_temporal),
        cmocka_unit_test(test_temporal_ordered),
        cmocka_unit_test(test_upper_bound_at_close),
        cmocka_unit_test(test_range_and_neq),
        cmocka_unit_test(test_chain_and_aliases),
        cmocka_unit_test(test_generate_flag),
        cmocka_unit_test(test_lateness),
        cmocka_unit_test(test_out_of_order_inserts),
        cmocka_unit_test(test_evidence_bytes_and_file_id),
        cmocka_unit_test(test_group_late_beyond_bound),
        cmocka_unit_test(test_missing_time_and_group),
        cmocka_unit_test(test_chain_value_fields),
        cmocka_unit_test(test_eviction),
        cmocka_unit_test(test_many_groups),
        cmocka_unit_test(test_value_count_sliding_reference),
        cmocka_unit_test(test_value_count_hll),
        cmocka_unit_test(test_event_count_merge),
        cmocka_unit_test(test_event_count_same_time),
        cmocka_unit_test(test_max_pending_ignored),
        cmocka_unit_test(test_tenant_and_pseudonyms),
        cmocka_unit_test(test_streaming_property),
        cmocka_unit_test(test_interleaved_groups),
        cmocka_unit_test(test_parser_non_scalar_keys),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
