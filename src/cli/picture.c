/* picture.c - the SVG of `aupwatch scan --picture` (see picture.h).
 *
 * Alerts are counted per minute of event time (a hash map, so memory is
 * bounded by the time span, not the alert count), per tenant and per
 * rule (bounded maps; past the bound, counted as "other"). Writing picks
 * a bucket width that gives at most 72 bars. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aupwatch/aw_mapping.h"
#include "cli/picture.h"
#include "util/arena.h"

#define NAMES_MAX 20000
#define BARS_MAX 72

typedef struct minute {
    int64_t m;                  /* minutes since the epoch */
    uint64_t n[6];              /* informational low medium high critical none */
    bool used;
} minute;

typedef struct named {
    const char *name;
    uint64_t n;
} named;

typedef struct nmap {
    named *e;
    size_t cap, used;
    uint64_t other;
} nmap;

struct aw_picture {
    minute *mins;
    size_t mcap, mused;
    uint64_t no_time, total, corr;
    nmap tenants, rules;
    aw_arena names;
};

static int level_of(const char *lv)
{
    static const char *const l[] = {"informational", "low", "medium", "high", "critical"};
    for (int i = 0; lv && i < 5; i++)
        if (!strcmp(lv, l[i]))
            return i;
    return 5;
}

static uint64_t hstr(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static void nmap_add(aw_arena *a, nmap *m, const char *name)
{
    if (2 * (m->used + 1) > m->cap) {
        if (m->used >= NAMES_MAX) {
            m->other++;
            return;
        }
        named *old = m->e;
        size_t oc = m->cap;
        m->cap = m->cap ? m->cap * 2 : 256;
        m->e = aw_xcalloc(m->cap, sizeof *m->e);
        for (size_t i = 0; i < oc; i++)
            if (old[i].name) {
                size_t j = hstr(old[i].name) & (m->cap - 1);
                while (m->e[j].name)
                    j = (j + 1) & (m->cap - 1);
                m->e[j] = old[i];
            }
        free(old);
    }
    size_t j = hstr(name) & (m->cap - 1);
    while (m->e[j].name && strcmp(m->e[j].name, name))
        j = (j + 1) & (m->cap - 1);
    if (!m->e[j].name) {
        m->e[j].name = aw_arena_strdup(a, name);
        m->used++;
    }
    m->e[j].n++;
}

static minute *minute_get(aw_picture *p, int64_t m)
{
    if (2 * (p->mused + 1) > p->mcap) {
        minute *old = p->mins;
        size_t oc = p->mcap;
        p->mcap = p->mcap ? p->mcap * 2 : 1024;
        p->mins = aw_xcalloc(p->mcap, sizeof *p->mins);
        for (size_t i = 0; i < oc; i++)
            if (old[i].used) {
                size_t j = (size_t)((uint64_t)old[i].m * 0x9E3779B97F4A7C15ull) & (p->mcap - 1);
                while (p->mins[j].used)
                    j = (j + 1) & (p->mcap - 1);
                p->mins[j] = old[i];
            }
        free(old);
    }
    size_t j = (size_t)((uint64_t)m * 0x9E3779B97F4A7C15ull) & (p->mcap - 1);
    while (p->mins[j].used && p->mins[j].m != m)
        j = (j + 1) & (p->mcap - 1);
    if (!p->mins[j].used) {
        p->mins[j].used = true;
        p->mins[j].m = m;
        p->mused++;
    }
    return &p->mins[j];
}

aw_picture *aw_picture_new(void)
{
    aw_picture *p = aw_xcalloc(1, sizeof *p);
    aw_arena_init(&p->names);
    return p;
}

void aw_picture_free(aw_picture *p)
{
    if (!p)
        return;
    free(p->mins);
    free(p->tenants.e);
    free(p->rules.e);
    aw_arena_reset(&p->names);
    free(p);
}

void aw_picture_add(aw_picture *p, bool has_time, int64_t time_ns, const char *level, const char *tenant,
                    const char *rule, bool correlation)
{
    p->total++;
    p->corr += correlation;
    if (has_time) {
        int64_t m = time_ns / 60000000000LL - (time_ns < 0 && time_ns % 60000000000LL);
        minute_get(p, m)->n[level_of(level)]++;
    } else {
        p->no_time++;
    }
    nmap_add(&p->names, &p->tenants, tenant && *tenant ? tenant : "(no tenant)");
    nmap_add(&p->names, &p->rules, rule ? rule : "?");
}

/* ---- writing ----------------------------------------------------------- */

static const char *const colors[6] = {"#9e9e9e", "#4f8fd6", "#f0a030", "#e04b3a", "#8b0000", "#c8c8c8"};
static const char *const lnames[6] = {"informational", "low", "medium", "high", "critical", "none"};

static void esc(FILE *f, const char *s, size_t max)
{
    for (size_t i = 0; *s && i < max; s++, i++) {
        switch (*s) {
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '&': fputs("&amp;", f); break;
        case '"': fputs("&quot;", f); break;
        default:
            if ((unsigned char)*s >= 0x20)
                fputc(*s, f);
        }
    }
    if (*s)
        fputs("…", f);
}

static int by_count(const void *a, const void *b)
{
    const named *x = a, *y = b;
    return x->n < y->n ? 1 : x->n > y->n ? -1 : strcmp(x->name ? x->name : "", y->name ? y->name : "");
}

/* Horizontal bars of the top entries of a map. */
static void top_bars(FILE *f, const nmap *m, const char *title, int x, int y, int w, int rows)
{
    named *v = aw_xcalloc(m->used ? m->used : 1, sizeof *v);
    size_t n = 0;
    for (size_t i = 0; i < m->cap; i++)
        if (m->e[i].name)
            v[n++] = m->e[i];
    qsort(v, n, sizeof *v, by_count);
    fprintf(f, "<text x=\"%d\" y=\"%d\" class=\"h\">", x, y);
    esc(f, title, 80);
    fputs("</text>\n", f);
    uint64_t max = n ? v[0].n : 1;
    for (int i = 0; i < rows && (size_t)i < n; i++) {
        /* name column 250 px, count labels need ~80 px at the right */
        int yy = y + 14 + i * 18, bw = (int)((double)(w - x - 250 - 100) * (double)v[i].n / (double)max);
        fprintf(f, "<text x=\"%d\" y=\"%d\" class=\"l\">", x, yy + 11);
        esc(f, v[i].name, 36);
        fprintf(f, "</text><rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"13\" fill=\"#4f6d8f\"/>"
                   "<text x=\"%d\" y=\"%d\" class=\"l\">%llu</text>\n",
                x + 260, yy, bw > 1 ? bw : 1, x + 264 + bw, yy + 11, (unsigned long long)v[i].n);
    }
    free(v);
}

aw_status aw_picture_write(const aw_picture *p, const char *path, aw_errbuf *err)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        aw_errbuf_set(err, "%s: %s", path, strerror(errno));
        return AW_EIO;
    }
    int64_t lo = INT64_MAX, hi = INT64_MIN;
    for (size_t i = 0; i < p->mcap; i++)
        if (p->mins[i].used) {
            if (p->mins[i].m < lo)
                lo = p->mins[i].m;
            if (p->mins[i].m > hi)
                hi = p->mins[i].m;
        }
    static const int64_t widths[] = {1, 5, 15, 60, 360, 1440, 10080, 43200, 525600};
    int64_t bw = widths[0];
    for (size_t i = 0; lo <= hi && i < sizeof widths / sizeof *widths; i++) {
        bw = widths[i];
        if ((hi / bw - lo / bw + 1) <= BARS_MAX)
            break;
    }
    size_t nb = lo <= hi ? (size_t)(hi / bw - lo / bw + 1) : 0;
    if (nb > 4096)
        nb = 4096;                                  /* the widest width still too many */
    uint64_t (*bars)[6] = aw_xcalloc(nb ? nb : 1, sizeof *bars);
    uint64_t bmax = 1;
    for (size_t i = 0; i < p->mcap; i++)
        if (p->mins[i].used) {
            size_t b = (size_t)(p->mins[i].m / bw - lo / bw);
            if (b >= nb)
                b = nb - 1;
            for (int k = 0; k < 6; k++)
                bars[b][k] += p->mins[i].n[k];
        }
    for (size_t b = 0; b < nb; b++) {
        uint64_t t = 0;
        for (int k = 0; k < 6; k++)
            t += bars[b][k];
        if (t > bmax)
            bmax = t;
    }
    const int W = 960, CH = 220, X0 = 60;
    int H = 120 + CH + 2 * (40 + 12 * 18) + 20;
    fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" font-family=\"sans-serif\">\n"
               "<style>.t{font-size:18px;font-weight:bold}.h{font-size:14px;font-weight:bold}"
               ".l{font-size:11px}</style>\n<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n",
            W, H);
    char a[40] = "-", b[40] = "-";
    if (nb) {
        aw_time_format(lo * 60000000000LL, a, sizeof a);
        aw_time_format((hi + 1) * 60000000000LL, b, sizeof b);
    }
    fprintf(f, "<text x=\"20\" y=\"30\" class=\"t\">aupwatch scan: %llu alerts (%llu correlations)</text>\n",
            (unsigned long long)p->total, (unsigned long long)p->corr);
    fprintf(f, "<text x=\"20\" y=\"50\" class=\"l\">event time %s to %s; bars of %lld min; %llu alerts "
               "without a time not drawn</text>\n", a, b, (long long)bw, (unsigned long long)p->no_time);
    int y0 = 80;
    fprintf(f, "<text x=\"20\" y=\"%d\" class=\"h\">Alerts over event time, by level</text>\n", y0 - 8);
    double step = nb ? (double)(W - X0 - 40) / (double)nb : 0;
    for (size_t i = 0; i < nb; i++) {
        double yy = y0 + CH;
        for (int k = 0; k < 6; k++) {
            double h = (double)CH * (double)bars[i][k] / (double)bmax;
            if (h <= 0)
                continue;
            yy -= h;
            fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\"/>\n",
                    X0 + step * (double)i, yy, step > 2 ? step - 1 : step, h, colors[k]);
        }
    }
    fprintf(f, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#333\"/>\n", X0, y0 + CH, W - 40, y0 + CH);
    fprintf(f, "<text x=\"%d\" y=\"%d\" class=\"l\" text-anchor=\"end\">%llu</text>\n", X0 - 4, y0 + 10,
            (unsigned long long)bmax);
    fprintf(f, "<text x=\"%d\" y=\"%d\" class=\"l\" text-anchor=\"end\">0</text>\n", X0 - 4, y0 + CH);
    fprintf(f, "<text x=\"%d\" y=\"%d\" class=\"l\">%s</text>\n", X0, y0 + CH + 14, a);
    fprintf(f, "<text x=\"%d\" y=\"%d\" class=\"l\" text-anchor=\"end\">%s</text>\n", W - 40, y0 + CH + 14, b);
    for (int k = 4; k >= 0; k--) {
        int lx = X0 + (4 - k) * 120;
        fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"10\" height=\"10\" fill=\"%s\"/><text x=\"%d\" y=\"%d\" "
                   "class=\"l\">%s</text>\n", lx, y0 + CH + 22, colors[k], lx + 14, y0 + CH + 31, lnames[k]);
    }
    int yt = y0 + CH + 60;
    top_bars(f, &p->tenants, "Tenants with the most alerts", 20, yt, W, 12);
    top_bars(f, &p->rules, "Rules with the most alerts", 20, yt + 40 + 12 * 18, W, 12);
    fputs("</svg>\n", f);
    free(bars);
    if (fclose(f) != 0) {
        aw_errbuf_set(err, "%s: %s", path, strerror(errno));
        return AW_EIO;
    }
    return AW_OK;
}
