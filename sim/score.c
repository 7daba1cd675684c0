/* score.c - aupwatch-sim score: tenant-level scoring of alerts against
 * the simulator's labels.
 *
 * A tenant is "flagged" when a case-opening rule (tag aupwatch.case)
 * alerted on it. Prints precision and recall over tenants, recall per
 * evasive variant, false positives by look-alike kind and time to
 * detection (minutes of event time from the tenant's first interception
 * activity to its first case-opening alert), plus one line per flagged
 * tenant with its evidence summary (which rules fired, how often).
 * --json prints one machine-readable summary line instead. */
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

#include "aupwatch/aw_json.h"
#include "aupwatch/aw_mapping.h"
#include "sim.h"

#define MAXRULES 24

typedef struct lab {
    char tenant[64], kind[40], provider[8];
    int intercept, evasive;
    int64_t first;          /* first activity, ns */
    int64_t first_case;     /* ns, 0 = none */
    int ncase, nsignal;
    char rules[MAXRULES][96];
    int rule_n[MAXRULES], nrules;
} lab;

static const char *str_at(const aw_doc *d, const char *path)
{
    const aw_jnode *n = aw_json_path_first(d, NULL, path, strlen(path));
    return n && n->type == AW_JSTR ? n->val : NULL;
}

static int has_tag(const aw_doc *d, const char *tag)
{
    const aw_jnode *n = aw_json_path_first(d, NULL, "rule.tags", 9);
    if (!n || n->type != AW_JARR)
        return 0;
    for (uint32_t c = n->child; c; c = aw_doc_node(d, c)->next) {
        const aw_jnode *k = aw_doc_node(d, c);
        if (k->type == AW_JSTR && !strcasecmp(k->val, tag))
            return 1;
    }
    return 0;
}

static lab *find(lab *l, int n, const char *tn)
{
    for (int i = 0; i < n; i++)
        if (!strcasecmp(l[i].tenant, tn))
            return &l[i];
    return NULL;
}

static char *slurp_line(FILE *f, char **line, size_t *cap)
{
    ssize_t r = getline(line, cap, f);
    return r < 0 ? NULL : *line;
}

static int by_ttd(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int sim_score(int argc, char **argv)
{
    const char *labels = NULL, *alerts = NULL;
    double max_ttd = 60;
    int json = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--labels") && i + 1 < argc)
            labels = argv[++i];
        else if (!strcmp(argv[i], "--alerts") && i + 1 < argc)
            alerts = argv[++i];
        else if (!strcmp(argv[i], "--max-ttd-min") && i + 1 < argc)
            max_ttd = atof(argv[++i]);
        else if (!strcmp(argv[i], "--json"))
            json = 1;
        else {
            fprintf(stderr, "usage: aupwatch-sim score --labels FILE --alerts FILE [--max-ttd-min N] [--json]\n");
            return 2;
        }
    }
    if (!labels || !alerts) {
        fprintf(stderr, "aupwatch-sim score: need --labels and --alerts\n");
        return 2;
    }
    FILE *lf = fopen(labels, "r"), *af = strcmp(alerts, "-") ? fopen(alerts, "r") : stdin;
    if (!lf || !af) {
        perror(!lf ? labels : alerts);
        return 2;
    }
    aw_doc *d = aw_doc_new();
    aw_errbuf err;
    char *line = NULL;
    size_t cap = 0;
    int n = 0, ncap = 0;
    lab *l = NULL;
    while (slurp_line(lf, &line, &cap)) {
        if (aw_doc_parse(d, line, strlen(line), NULL, &err) != AW_OK)
            continue;
        if (n == ncap) {
            ncap = ncap ? ncap * 2 : 64;
            l = realloc(l, (size_t)ncap * sizeof *l);
            if (!l)
                abort();
        }
        lab *x = &l[n++];
        memset(x, 0, sizeof *x);
        const char *s;
        snprintf(x->tenant, sizeof x->tenant, "%s", (s = str_at(d, "tenant")) ? s : "");
        snprintf(x->kind, sizeof x->kind, "%s", (s = str_at(d, "kind")) ? s : "");
        snprintf(x->provider, sizeof x->provider, "%s", (s = str_at(d, "provider")) ? s : "");
        const aw_jnode *b = aw_json_path_first(d, NULL, "intercept", 9);
        x->intercept = b && b->type == AW_JTRUE;
        b = aw_json_path_first(d, NULL, "evasive", 7);
        x->evasive = b && b->type == AW_JTRUE;
        if ((s = str_at(d, "first_activity")))
            aw_time_parse(s, strlen(s), &x->first);
    }
    unsigned long nalerts = 0, unknown = 0;
    while (slurp_line(af, &line, &cap)) {
        if (aw_doc_parse(d, line, strlen(line), NULL, &err) != AW_OK)
            continue;
        nalerts++;
        /* detection alerts carry "time"; correlation alerts fire at the
         * end of their window */
        const char *tn = str_at(d, "tenant"), *ts = str_at(d, "time");
        if (!ts)
            ts = str_at(d, "window.end");
        const char *title = str_at(d, "rule.title");
        lab *x = tn ? find(l, n, tn) : NULL;
        if (!x) {
            unknown++;
            continue;
        }
        int64_t t = 0;
        if (ts)
            aw_time_parse(ts, strlen(ts), &t);
        if (has_tag(d, "aupwatch.case")) {
            x->ncase++;
            if (t && (!x->first_case || t < x->first_case))
                x->first_case = t;
        } else {
            x->nsignal++;
        }
        int k;
        for (k = 0; k < x->nrules; k++)
            if (!strcmp(x->rules[k], title ? title : "?"))
                break;
        if (k == x->nrules && k < MAXRULES)
            snprintf(x->rules[x->nrules++], sizeof x->rules[0], "%s", title ? title : "?");
        if (k < MAXRULES)
            x->rule_n[k]++;
    }
    /* tallies */
    int tp = 0, fp = 0, fn = 0, ne = 0, ne_hit = 0, ne_late = 0, nev = 0, ev_hit = 0;
    double *ttd = calloc((size_t)n + 1, sizeof *ttd);
    int nttd = 0;
    for (int i = 0; i < n; i++) {
        lab *x = &l[i];
        int flagged = x->ncase > 0;
        if (x->intercept) {
            flagged ? tp++ : fn++;
            if (!x->evasive) {
                ne++;
                if (flagged) {
                    double m = (double)(x->first_case - x->first) / 60e9;
                    ttd[nttd++] = m;
                    m <= max_ttd ? ne_hit++ : ne_late++;
                }
            } else {
                nev++;
                ev_hit += flagged;
            }
        } else if (flagged) {
            fp++;
        }
    }
    qsort(ttd, (size_t)nttd, sizeof *ttd, by_ttd);
    double prec = tp + fp ? (double)tp / (tp + fp) : 1.0, rec = tp + fn ? (double)tp / (tp + fn) : 1.0;
    if (json) {
        printf("{\"tenants\":%d,\"alerts\":%lu,\"alerts_unknown_tenant\":%lu,\"tp\":%d,\"fp\":%d,\"fn\":%d,"
               "\"precision\":%.4f,\"recall\":%.4f,\"nonevasive\":%d,\"nonevasive_flagged_in_time\":%d,"
               "\"nonevasive_flagged_late\":%d,\"evasive\":%d,\"evasive_flagged\":%d,"
               "\"ttd_min\":%.1f,\"ttd_median\":%.1f,\"ttd_max\":%.1f,\"fp_by_kind\":{",
               n, nalerts, unknown, tp, fp, fn, prec, rec, ne, ne_hit, ne_late, nev, ev_hit,
               nttd ? ttd[0] : -1, nttd ? ttd[nttd / 2] : -1, nttd ? ttd[nttd - 1] : -1);
        int first = 1;
        for (int i = 0; i < n; i++)
            if (!l[i].intercept && l[i].ncase) {
                printf("%s\"%s\":\"%s\"", first ? "" : ",", l[i].tenant, l[i].kind);
                first = 0;
            }
        printf("},\"by_kind\":{");
        for (int k = 0; k < K_N; k++) {
            int tot = 0, hit = 0;
            for (int i = 0; i < n; i++)
                if (!strcmp(l[i].kind, kind_names[k]))
                    tot++, hit += l[i].ncase > 0;
            printf("%s\"%s\":[%d,%d]", k ? "," : "", kind_names[k], hit, tot);
        }
        printf("}}\n");
    } else {
        printf("tenants %d, alerts %lu (%lu for tenants not in the labels)\n", n, nalerts, unknown);
        printf("flagged tenants (case-opening rule fired):\n");
        for (int i = 0; i < n; i++) {
            lab *x = &l[i];
            if (!x->ncase)
                continue;
            printf("  %-38s %-6s truth=%-22s cases=%d signals=%d", x->tenant, x->provider, x->kind, x->ncase,
                   x->nsignal);
            if (x->intercept)
                printf(" ttd=%.0fmin", (double)(x->first_case - x->first) / 60e9);
            printf("\n");
            for (int k = 0; k < x->nrules; k++)
                printf("      %6d x %s\n", x->rule_n[k], x->rules[k]);
        }
        printf("precision %.3f (%d/%d)  recall %.3f (%d/%d)\n", prec, tp, tp + fp, rec, tp, tp + fn);
        printf("non-evasive interception tenants flagged within %.0f min: %d/%d (late %d)\n", max_ttd, ne_hit, ne,
               ne_late);
        printf("evasive variants flagged: %d/%d\n", ev_hit, nev);
        printf("%-24s %8s %8s\n", "kind", "flagged", "tenants");
        for (int k = 0; k < K_N; k++) {
            int tot = 0, hit = 0;
            for (int i = 0; i < n; i++)
                if (!strcmp(l[i].kind, kind_names[k]))
                    tot++, hit += l[i].ncase > 0;
            if (tot)
                printf("%-24s %8d %8d\n", kind_names[k], hit, tot);
        }
        if (nttd)
            printf("time to detection (min): min %.1f  median %.1f  max %.1f\n", ttd[0], ttd[nttd / 2],
                   ttd[nttd - 1]);
    }
    free(ttd);
    free(line);
    free(l);
    aw_doc_free(d);
    fclose(lf);
    if (af != stdin)
        fclose(af);
    return 0;
}
