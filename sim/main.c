/* main.c - aupwatch-sim: command line, the time loop and the log files.
 *
 *   aupwatch-sim [gen] [options]    generate telemetry and labels.jsonl
 *   aupwatch-sim score [options]    score alerts against labels
 *
 * Files: --out/labels.jsonl, and under --out/logs/<YYYYMMDDTHHMMZ>/ (one
 * directory per 5-minute delivery window, so that a directory walk reads
 * the region in delivery order as a streaming collector would):
 *   aws/AWSLogs/<org>/<acct>/CloudTrail/<region>/Y/M/D/
 *       <acct>_CloudTrail_<region>_<YYYYMMDDTHHMMZ>_<rand>.json.gz
 *       (one {"Records":[...]} file per account per 5 minutes, gzip)
 *   azure/resourceId=/SUBSCRIPTIONS/<sub>/y=Y/m=M/d=D/h=H/m=00/PT1H_<mm>.json.gz
 *       (resource-log JSON lines; the 5-minute part of the hourly blob)
 *   gcp/<project>/cloudaudit.googleapis.com/Y/M/D/H:00:00_H:59:59_S<k>.json.gz
 *       (LogEntry JSON lines; shard k of the hourly sink file)
 * Tenants are split between --jobs threads; every tenant has its own
 * PRNG stream, so the output does not depend on the thread count. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <zlib.h>

#include "sim.h"

void azure_window_begin(tenant *t, int64_t w0);
void azure_window_end(buf *b, tenant *t);

static const char usage[] =
    "usage: aupwatch-sim [gen] --out DIR [options]\n"
    "       aupwatch-sim score --labels FILE --alerts FILE [--max-ttd-min N] [--json]\n"
    "\n"
    "Generate provider telemetry (CloudTrail, Azure resource logs, GCP audit\n"
    "logs) for a population of tenants, with ground truth in DIR/labels.jsonl.\n"
    "\n"
    "options:\n"
    "  --seed N          PRNG seed (default 1)\n"
    "  --tenants N       number of tenant accounts (default 24)\n"
    "  --hours H         simulated hours (default 2)\n"
    "  --scale X         multiply every rate (default 0.01)\n"
    "  --start TIME      start, RFC 3339 UTC (default 2026-03-02T00:00:00Z)\n"
    "  --providers LIST  aws,azure,gcp (default all)\n"
    "  --gzip-level N    1-9 (default 1)\n"
    "  --jobs N          generator threads (default 2)\n"
    "  --region-slice    preset: 2000 tenants, 1 hour from 10:00 UTC, scale 1\n"
    "                    (~2x10^8 records, ~360 GB of JSON: the benchmark size;\n"
    "                    later --tenants/--hours/--scale override it)\n"
    "  -q, --quiet       no summary on stderr\n";

typedef struct tstate {
    tenant *t;
} tstate;

typedef struct job {
    const simcfg *c;
    tstate *ts;
    int n, stride, first;
    uint64_t records, bytes;
} job;

static void mkdirs(char *path)
{
    for (char *p = path + 1; *p; p++)
        if (*p == '/') {
            *p = 0;
            if (mkdir(path, 0755) && errno != EEXIST) {
                perror(path);
                exit(2);
            }
            *p = '/';
        }
}

static void ymdh(int64_t t, int *y, int *m, int *d, int *h, int *mi)
{
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    *y = tm.tm_year + 1900, *m = tm.tm_mon + 1, *d = tm.tm_mday, *h = tm.tm_hour, *mi = tm.tm_min;
}

static void gz_put(gzFile f, const char *path, const buf *b)
{
    if (b->n && gzwrite(f, b->p, (unsigned)b->n) != (int)b->n) {
        fprintf(stderr, "aupwatch-sim: %s: write failed\n", path);
        exit(2);
    }
}

typedef struct wctx {
    buf *b;
    uint64_t n;
    int aws;
} wctx;

static void on_ev(void *ud, tenant *t, const ev *e)
{
    wctx *w = ud;
    if (w->aws) {
        if (w->n)
            b_ch(w->b, ',');
        emit_aws(w->b, t, e);
        w->n++;
        return;
    }
    size_t before = w->b->n;
    if (t->provider == P_AZURE)
        emit_azure(w->b, t, e);
    else
        emit_gcp(w->b, t, e);
    for (size_t i = before; i < w->b->n; i++)
        w->n += w->b->p[i] == '\n';
}

static void window(job *j, tstate *s, int64_t w0, buf *b)
{
    const simcfg *c = j->c;
    tenant *t = s->t;
    char path[2048], mode[8];
    int y, m, d, h, mi;
    wctx w = {b, 0, t->provider == P_AWS};
    b->n = 0;
    ymdh(w0, &y, &m, &d, &h, &mi);
    int n = snprintf(path, sizeof path, "%s/logs/%04d%02d%02dT%02d%02dZ/", c->out, y, m, d, h, mi);
    if (t->provider == P_AWS) {
        B_LIT(b, "{\"Records\":[");
        tenant_window(t, c, w0, on_ev, &w);
        B_LIT(b, "]}");
        char rnd[17];
        for (int k = 0; k < 16; k++)
            rnd[k] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"[rng_below(&t->r, 36)];
        rnd[16] = 0;
        snprintf(path + n, sizeof path - (size_t)n,
                 "aws/AWSLogs/%s/%s/CloudTrail/%s/%04d/%02d/%02d/%s_CloudTrail_%s_%04d%02d%02dT%02d%02dZ_%s.json.gz",
                 t->org, t->id, t->region, y, m, d, t->id, t->region, y, m, d, h, mi, rnd);
    } else {
        if (t->provider == P_AZURE)
            azure_window_begin(t, w0);
        tenant_window(t, c, w0, on_ev, &w);
        if (t->provider == P_AZURE) {
            size_t before = b->n;
            azure_window_end(b, t);
            for (size_t i = before; i < b->n; i++)
                w.n += b->p[i] == '\n';
            snprintf(path + n, sizeof path - (size_t)n,
                     "azure/resourceId=/SUBSCRIPTIONS/%s/y=%04d/m=%02d/d=%02d/h=%02d/m=00/PT1H_%02d.json.gz",
                     t->id, y, m, d, h, mi);
        } else {
            snprintf(path + n, sizeof path - (size_t)n,
                     "gcp/%s/cloudaudit.googleapis.com/%04d/%02d/%02d/%02d:00:00_%02d:59:59_S%d.json.gz",
                     t->id, y, m, d, h, h, mi / 5);
        }
    }
    if (!w.n)
        return;     /* nothing logged: no file (CloudTrail skips empty deliveries) */
    mkdirs(path);
    snprintf(mode, sizeof mode, "wb%d", c->gzip_level);
    gzFile f = gzopen(path, mode);
    if (!f) {
        perror(path);
        exit(2);
    }
    gz_put(f, path, b);
    if (gzclose(f) != Z_OK) {
        fprintf(stderr, "aupwatch-sim: %s: close failed\n", path);
        exit(2);
    }
    j->records += w.n;
    j->bytes += b->n;
}

static void *run_job(void *arg)
{
    job *j = arg;
    buf b = {0};
    int64_t end = j->c->t0 + (int64_t)(j->c->hours * 3600);
    for (int64_t w0 = j->c->t0; w0 < end; w0 += 300)
        for (int i = j->first; i < j->n; i += j->stride)
            window(j, &j->ts[i], w0, &b);
    tenant_thread_done();
    free(b.p);
    return NULL;
}

int sim_generate(const simcfg *c)
{
    rng r;
    rng_seed(&r, c->seed);
    tenant *ts = calloc((size_t)c->ntenants, sizeof *ts);
    tstate *st = calloc((size_t)c->ntenants, sizeof *st);
    if (!ts || !st)
        abort();
    tenants_draw(ts, c->ntenants, c, &r);
    char path[4096];
    snprintf(path, sizeof path, "%s/", c->out);
    mkdirs(path);
    labels_write(ts, c->ntenants, c);
    for (int i = 0; i < c->ntenants; i++)
        st[i].t = &ts[i];
    int nj = c->jobs < 1 ? 1 : c->jobs > 16 ? 16 : c->jobs;
    job jobs[16];
    pthread_t th[16];
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 0; i < nj; i++) {
        jobs[i] = (job){c, st, c->ntenants, nj, i, 0, 0};
        pthread_create(&th[i], NULL, run_job, &jobs[i]);
    }
    uint64_t recs = 0, bytes = 0;
    for (int i = 0; i < nj; i++) {
        pthread_join(th[i], NULL);
        recs += jobs[i].records;
        bytes += jobs[i].bytes;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    if (!c->quiet)
        fprintf(stderr,
                "aupwatch-sim: %d tenants, %.2f h, scale %g: %llu records, %.1f MB (uncompressed) in %.2f s: "
                "%.0f records/s, %.1f MB/s, %d threads\n",
                c->ntenants, c->hours, c->scale, (unsigned long long)recs, (double)bytes / 1e6, secs,
                secs > 0 ? (double)recs / secs : 0, secs > 0 ? (double)bytes / 1e6 / secs : 0, nj);
    free(ts);
    free(st);
    return 0;
}

static int64_t parse_time(const char *s)
{
    struct tm tm = {0};
    if (sscanf(s, "%d-%d-%dT%d:%d:%d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min,
               &tm.tm_sec) < 3)
        return -1;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return (int64_t)timegm(&tm);
}

int main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "score"))
        return sim_score(argc - 1, argv + 1);
    simcfg c = {.seed = 1, .ntenants = 24, .hours = 2, .scale = 0.01, .t0 = 1772409600, .gzip_level = 1,
                .providers = 7, .jobs = 2};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
#define NEEDV() do { if (!v) { fprintf(stderr, "aupwatch-sim: %s needs a value\n", a); return 2; } i++; } while (0)
        if (!strcmp(a, "gen"))
            continue;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            fputs(usage, stdout);
            return 0;
        } else if (!strcmp(a, "--seed")) {
            NEEDV();
            c.seed = strtoull(v, NULL, 10);
        } else if (!strcmp(a, "--tenants")) {
            NEEDV();
            c.ntenants = atoi(v);
        } else if (!strcmp(a, "--hours")) {
            NEEDV();
            c.hours = atof(v);
        } else if (!strcmp(a, "--scale")) {
            NEEDV();
            c.scale = atof(v);
        } else if (!strcmp(a, "--start")) {
            NEEDV();
            c.t0 = parse_time(v);
            c.t0 -= c.t0 % 300;
        } else if (!strcmp(a, "--out") || !strcmp(a, "-o")) {
            NEEDV();
            c.out = v;
        } else if (!strcmp(a, "--gzip-level")) {
            NEEDV();
            c.gzip_level = atoi(v);
        } else if (!strcmp(a, "--jobs")) {
            NEEDV();
            c.jobs = atoi(v);
        } else if (!strcmp(a, "--providers")) {
            NEEDV();
            c.providers = (strstr(v, "aws") ? 1 : 0) | (strstr(v, "azure") ? 2 : 0) | (strstr(v, "gcp") ? 4 : 0);
        } else if (!strcmp(a, "--region-slice")) {
            c.ntenants = 2000, c.hours = 1, c.scale = 1;
            c.t0 = 1772409600 + 10 * 3600;  /* 10:00 UTC: daytime in Europe */
        } else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
            c.quiet = 1;
        } else {
            fprintf(stderr, "aupwatch-sim: unknown option '%s'\n%s", a, usage);
            return 2;
        }
    }
    if (!c.out || c.ntenants < 1 || c.hours <= 0 || c.scale <= 0 || c.t0 < 0 || !c.providers ||
        c.gzip_level < 1 || c.gzip_level > 9) {
        fprintf(stderr, "aupwatch-sim: need --out DIR and positive --tenants/--hours/--scale\n%s", usage);
        return 2;
    }
    return sim_generate(&c);
}
