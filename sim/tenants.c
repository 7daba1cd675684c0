/* tenants.c - aupwatch-sim: the tenant population and its behaviour.
 *
 * Every tenant's parameters are drawn from the ranges documented in
 * docs/aup-detection.md ("Simulated population"); rates are per hour at
 * the tenant's diurnal peak and are multiplied by --scale. The event
 * model per window is provider-neutral (struct ev); the emitters turn it
 * into CloudTrail, Azure resource-log or GCP audit records. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "sim.h"

const char *const kind_names[K_N] = {
    "intercept", "intercept_split", "intercept_opaque_keys", "intercept_renamed_ext",
    "intercept_flee", "contact_centre", "voicemail", "podcast_hosting", "media_transcription",
    "newsroom_translation", "background"};

/* ext, mime, Transcribe mediaFormat, GCP encoding, Hz, bytes/s */
const codec_info codecs[C_N] = {
    {"amr", "audio/amr", "amr", "AMR", 8000, 1525},
    {"awb", "audio/amr-wb", "amr", "AMR_WB", 16000, 2981},
    {"ul", "audio/basic", "wav", "MULAW", 8000, 8000},
    {"al", "audio/x-alaw-basic", "wav", "LINEAR16", 8000, 8000},
    {"wav", "audio/wav", "wav", "LINEAR16", 8000, 16000},
    {"wav", "audio/wav", "wav", "LINEAR16", 16000, 32000},
    {"mp3", "audio/mpeg", "mp3", "MP3", 44100, 16000},
    {"m4a", "audio/mp4", "mp4", "MP3", 44100, 16000},
    {"flac", "audio/flac", "flac", "FLAC", 44100, 90000},
    {"ogg", "audio/ogg", "ogg", "OGG_OPUS", 48000, 12000},
};

const lang langs[] = {
    {"ar-SA", "ar"}, {"fa-IR", "fa"}, {"ru-RU", "ru"}, {"uk-UA", "uk"}, {"tr-TR", "tr"},
    {"es-US", "es"}, {"en-US", "en"}, {"de-DE", "de"}, {"fr-FR", "fr"}, {"hi-IN", "hi"},
    {"pt-BR", "pt"}, {"he-IL", "he"}, {"ko-KR", "ko"}, {"zh-CN", "zh"},
};
const int nlangs = sizeof langs / sizeof *langs;

static const char *const regions[P_N][4] = {
    {"eu-west-1", "eu-central-1", "us-east-1", "me-central-1"},
    {"westeurope", "northeurope", "eastus", "israelcentral"},
    {"europe-west1", "europe-west4", "us-central1", "me-west1"},
};
/* neutral name stems shared by every kind: nothing in a name tells */
static const char *const stems[] = {"app", "svc", "worker", "etl", "ingest", "proc", "data",
                                    "core", "batch", "pipeline", "node", "api"};
#define NSTEMS (int)(sizeof stems / sizeof *stems)

static double diurnal(int profile, int lh)
{
    static const double pop[24] = {.50, .47, .45, .45, .46, .52, .62, .75, .88, .95, .98, 1,
                                   1, .98, .97, .97, .98, 1, .98, .92, .84, .74, .64, .56};
    static const double biz[24] = {.02, .02, .02, .02, .02, .03, .08, .4, .9, 1, 1, 1,
                                   .85, 1, 1, 1, .95, .7, .3, .1, .05, .03, .02, .02};
    static const double con[24] = {.3, .2, .15, .12, .12, .15, .25, .4, .5, .55, .55, .6,
                                   .65, .6, .6, .6, .65, .75, .9, 1, 1, .95, .75, .5};
    switch (profile) {
    case D_POPULATION: return pop[lh];
    case D_BUSINESS: return biz[lh];
    case D_CONSUMER: return con[lh];
    default: return 1.0;
    }
}

static void fmt_id(tenant *t, rng *r)
{
    buf b = {0};
    if (t->provider == P_AWS) {
        b_ch(&b, (char)('1' + rng_below(r, 9)));
        b_digits(&b, r, 11);
    } else if (t->provider == P_AZURE) {
        b_uuid(&b, r);
    } else {
        b_str(&b, stems[rng_below(r, NSTEMS)]);
        b_ch(&b, '-');
        b_hex(&b, r, 4, 0);
        b_ch(&b, '-');
        b_digits(&b, r, 6);
    }
    b_ch(&b, 0);
    snprintf(t->id, sizeof t->id, "%s", b.p);
    b.n = 0;
    if (t->provider == P_AWS) {
        B_LIT(&b, "o-");
        b_hex(&b, r, 10, 0);
    } else if (t->provider == P_AZURE) {
        b_uuid(&b, r);
    } else {
        b_digits(&b, r, 12);
    }
    b_ch(&b, 0);
    snprintf(t->org, sizeof t->org, "%s", b.p);
    free(b.p);
}

static void principals(tenant *t, rng *r, int n)
{
    t->nprin = n > MAX_PRIN ? MAX_PRIN : n;
    for (int i = 0; i < t->nprin; i++) {
        buf b = {0};
        b_str(&b, stems[rng_below(r, NSTEMS)]);
        b_ch(&b, '-');
        b_str(&b, stems[rng_below(r, NSTEMS)]);
        b_ch(&b, '-');
        b_hex(&b, r, 6, 0);
        b_ch(&b, 0);
        snprintf(t->prin[i], sizeof t->prin[i], "%s", b.p);
        b.n = 0;
        B_LIT(&b, "AROA");
        b_hex(&b, r, 17, 1);
        b_ch(&b, 0);
        snprintf(t->prin_id[i], sizeof t->prin_id[i], "%s", b.p);
        free(b.p);
        snprintf(t->ip[i], sizeof t->ip[i], "%u.%u.%u.%u", (unsigned)(3 + rng_below(r, 200)),
                 (unsigned)rng_below(r, 256), (unsigned)rng_below(r, 256),
                 (unsigned)(1 + rng_below(r, 254)));
    }
}

static void buckets(tenant *t, rng *r)
{
    for (int i = 0; i < 2; i++) {
        buf b = {0};
        b_str(&b, stems[rng_below(r, NSTEMS)]);
        b_ch(&b, t->provider == P_AZURE ? 's' : '-');
        b_hex(&b, r, 10, 0);
        b_ch(&b, 0);
        snprintf(t->bucket[i], sizeof t->bucket[i], "%s", b.p);
        free(b.p);
    }
    snprintf(t->rg, sizeof t->rg, "rg-%s-%03u", stems[rng_below(r, NSTEMS)],
             (unsigned)rng_below(r, 1000));
}

static void draw_intercept(tenant *t, const simcfg *c, rng *r)
{
    t->profile = D_POPULATION;
    t->tz = 1 + (int)rng_below(r, 4);
    t->rate_h = rng_logunif(r, 40e3, 1e6);
    principals(t, r, 2 + (int)rng_below(r, 4));
    int pick[] = {C_AMR, C_AMR, C_AMRWB, C_ULAW, C_ALAW, C_WAV8};
    t->codec[0] = pick[rng_below(r, 6)];
    t->codec[1] = pick[rng_below(r, 6)];
    t->ncodec = 1 + (int)rng_below(r, 2);
    t->dur_mu = log(rng_range(r, 45, 120));
    t->dur_sigma = rng_range(r, 0.6, 1.0);
    t->keystyle = (int)rng_below(r, 3);
    t->p_stt = rng_range(r, 0.6, 0.95);
    t->p_mt = rng_range(r, 0.5, 1.0);
    t->pair_dom = rng_range(r, 0.85, 0.98);
    int pl[] = {0, 1, 2, 3, 4, 9, 12};
    t->lang = pl[rng_below(r, 7)];
    int dl[] = {6, 11, 2, 8};
    do
        t->lang_dst = dl[rng_below(r, 4)];
    while (t->lang_dst == t->lang);
    t->cc = (int)(200 + rng_below(r, 780));
    t->start = c->t0 + (int64_t)(rng_range(r, 0, 0.3) * c->hours * 3600);
    t->mgmt_h = rng_range(r, 5, 60);
}

static void draw_kind(tenant *t, const simcfg *c, rng *r)
{
    t->start = c->t0;
    t->notice = INT64_MAX;
    t->cc = (int)(1 + rng_below(r, 98));
    t->lang = (int)rng_below(r, nlangs);
    t->mgmt_h = rng_range(r, 10, 300);
    switch (t->kind) {
    case K_INTERCEPT:
    case K_ICPT_SPLIT:
    case K_ICPT_OPAQUE:
    case K_ICPT_RENAMED:
    case K_ICPT_FLEE:
        draw_intercept(t, c, r);
        t->evasive = t->kind != K_INTERCEPT;
        if (t->kind == K_ICPT_OPAQUE)
            t->keystyle = 3;
        if (t->kind == K_ICPT_RENAMED)
            t->keystyle = 4;
        if (t->kind == K_ICPT_FLEE)
            t->notice = c->t0 + (int64_t)(rng_range(r, 0.6, 0.8) * c->hours * 3600);
        break;
    case K_CONTACT:
        t->profile = D_BUSINESS;
        t->tz = -8 + (int)rng_below(r, 19);
        t->rate_h = rng_logunif(r, 20, 800) * rng_range(r, 6, 9); /* agents x calls/agent/h */
        principals(t, r, 1 + (int)rng_below(r, 3));
        t->codec[0] = rng_unif(r) < 0.7 ? C_WAV8 : C_MP3;
        t->ncodec = 1;
        t->dur_mu = log(rng_range(r, 150, 400));
        t->dur_sigma = 0.7;
        t->keystyle = rng_unif(r) < 0.7 ? 5 : 6;
        t->p_stt = rng_range(r, 0.5, 1.0);
        t->p_mt = rng_unif(r) < 0.5 ? 0 : rng_range(r, 0.05, 0.3);
        t->pair_dom = rng_range(r, 0.7, 1.0);
        t->own_block = 100000000ULL + rng_below(r, 899999999ULL);
        break;
    case K_VOICEMAIL:
        t->profile = D_POPULATION;
        t->tz = -8 + (int)rng_below(r, 19);
        t->rate_h = rng_logunif(r, 1e5, 5e6) * rng_range(r, 0.05, 0.2) / 24 * 1.6;
        principals(t, r, 1 + (int)rng_below(r, 3));
        t->codec[0] = rng_unif(r) < 0.7 ? C_AMR : C_AMRWB;
        t->ncodec = 1;
        t->dur_mu = log(rng_range(r, 12, 30));
        t->dur_sigma = 0.6;
        t->keystyle = 7;
        t->p_stt = rng_range(r, 0.85, 1.0);
        t->p_mt = 0;
        break;
    case K_PODCAST:
        t->profile = D_CONSUMER;
        t->tz = -8 + (int)rng_below(r, 19);
        t->rate_h = rng_logunif(r, 5, 300);
        principals(t, r, 2 + (int)rng_below(r, 5));
        t->codec[0] = C_MP3 + (int)rng_below(r, 4);
        t->codec[1] = C_MP3;
        t->ncodec = 2;
        t->dur_mu = log(rng_range(r, 1200, 4800));
        t->dur_sigma = 0.5;
        t->keystyle = 8;
        t->p_stt = rng_range(r, 0.1, 0.6);
        t->p_mt = rng_range(r, 0, 0.3);
        t->pair_dom = 0.3;
        break;
    case K_MEDIA_STT:
        t->profile = D_CONSUMER;
        t->tz = -8 + (int)rng_below(r, 19);
        t->rate_h = rng_logunif(r, 1e3, 3e4);
        principals(t, r, 2 + (int)rng_below(r, 4));
        t->codec[0] = C_MP3;
        t->codec[1] = C_M4A;
        t->ncodec = 2;
        t->dur_mu = log(rng_range(r, 300, 1800));
        t->dur_sigma = 0.9;
        t->keystyle = 9;
        t->p_stt = 1.0;
        t->p_mt = rng_range(r, 0.1, 0.4);
        t->pair_dom = rng_range(r, 0.2, 0.4);
        break;
    case K_NEWSROOM:
        t->profile = D_BUSINESS;
        t->tz = -8 + (int)rng_below(r, 19);
        t->rate_h = rng_logunif(r, 500, 2e4);
        principals(t, r, 1 + (int)rng_below(r, 4));
        t->keystyle = 10;
        t->p_mt = 1.0;
        t->pair_dom = rng_range(r, 0.2, 0.5);
        t->lang = 6; /* en */
        break;
    default:
        t->kind = K_BACKGROUND;
        t->profile = rng_unif(r) < 0.5 ? D_BUSINESS : D_CONSUMER;
        t->tz = -8 + (int)rng_below(r, 19);
        t->rate_h = rng_logunif(r, 100, 2e4);
        principals(t, r, 1 + (int)rng_below(r, 8));
        t->keystyle = 11;
        t->mgmt_h = rng_range(r, 50, 600);
        break;
    }
    t->rate_h *= c->scale;
    t->mgmt_h *= c->scale > 0.05 ? 1.0 : c->scale * 20;
}

/* The mix: every population starts with two plain interception archives
 * and one tenant of every other kind, then draws the rest by weight; the
 * split variant takes 3-4 consecutive accounts of one operator. */
void tenants_draw(tenant *ts, int n, const simcfg *c, rng *r)
{
    static const int weights[K_N] = {10, 2, 3, 3, 3, 14, 7, 6, 7, 7, 30};
    int total = 0, group = 0;
    for (int k = 0; k < K_N; k++)
        total += weights[k];
    for (int i = 0, forced = 0; i < n;) {
        int kind;
        if (forced <= K_N)
            kind = forced ? forced - 1 : 0, forced++;
        else {
            int x = (int)rng_below(r, (uint64_t)total);
            for (kind = 0; x >= weights[kind]; kind++)
                x -= weights[kind];
        }
        int copies = kind == K_ICPT_SPLIT ? 3 + (int)rng_below(r, 2) : 1;
        int prov = -1;
        group++;
        for (int j = 0; j < copies && i < n; j++, i++) {
            tenant *t = &ts[i];
            memset(t, 0, sizeof *t);
            t->idx = i;
            t->kind = kind;
            t->group = group;
            do
                prov = prov >= 0 && j ? prov : (int)rng_below(r, P_N);
            while (!(c->providers & (1 << prov)));
            t->provider = prov;
            rng_seed(&t->r, rng_next(r));
            fmt_id(t, &t->r);
            snprintf(t->region, sizeof t->region, "%s", regions[prov][rng_below(r, 4)]);
            buckets(t, &t->r);
            draw_kind(t, c, &t->r);
            if (kind == K_ICPT_SPLIT) {
                /* each account stays under the per-account policy */
                t->rate_h = rng_logunif(r, 3e3, 8e3) * c->scale;
                if (j) {                /* the org's first account leads */
                    const tenant *lead = &ts[i - j];
                    memcpy(t->org, lead->org, sizeof t->org);
                    t->lang = lead->lang;
                    t->lang_dst = lead->lang_dst;
                    t->start = lead->start;
                }
            }
        }
    }
}

void labels_write(const tenant *ts, int n, const simcfg *c)
{
    static const char *const pn[P_N] = {"aws", "azure", "gcp"};
    char path[4096];
    snprintf(path, sizeof path, "%s/labels.jsonl", c->out);
    FILE *f = fopen(path, "w");
    if (!f) {
        perror(path);
        exit(2);
    }
    buf b = {0};
    for (int i = 0; i < n; i++) {
        const tenant *t = &ts[i];
        b.n = 0;
        b_time(&b, t->start, 0, NULL);
        fprintf(f,
                "{\"tenant\":\"%s\",\"provider\":\"%s\",\"kind\":\"%s\",\"intercept\":%s,"
                "\"evasive\":%s,\"group\":%d,\"org\":\"%s\",\"region\":\"%s\","
                "\"first_activity\":\"%.*s\",\"peak_rate_per_hour\":%.0f}\n",
                t->id, pn[t->provider], kind_names[t->kind],
                kind_is_intercept(t->kind) ? "true" : "false", t->evasive ? "true" : "false",
                t->group, t->org, t->region, (int)b.n, b.p, t->rate_h);
    }
    free(b.p);
    fclose(f);
}

/* ---- keys ------------------------------------------------------------- */
static void phone(buf *b, tenant *t)
{
    b_u64(b, (uint64_t)t->cc);
    b_ch(b, (char)('2' + rng_below(&t->r, 8)));
    b_digits(b, &t->r, 8);
}

static void datepath(buf *b, int64_t ts, char sep, int hour)
{
    char tmp[32];
    buf x = {tmp, 0, sizeof tmp};
    b_time(&x, ts, 0, NULL);
    b_mem(b, tmp, 4);
    b_ch(b, sep);
    b_mem(b, tmp + 5, 2);
    b_ch(b, sep);
    b_mem(b, tmp + 8, 2);
    if (hour) {
        b_ch(b, sep);
        b_mem(b, tmp + 11, 2);
    }
}

static void make_key(buf *b, tenant *t, int64_t ts, int codec)
{
    rng *r = &t->r;
    const char *ext = codec >= 0 ? codecs[codec].ext : "json";
    b->n = 0;
    switch (t->keystyle) {
    case 0: /* 2026/03/02/10/A_B_callid.amr */
        datepath(b, ts, '/', 1);
        b_ch(b, '/');
        phone(b, t);
        b_ch(b, '_');
        phone(b, t);
        b_ch(b, '_');
        b_hex(b, r, 16, 0);
        break;
    case 1: /* s3/20260302/callid-A-B.amr */
        b_ch(b, 's');
        b_u64(b, 1 + rng_below(r, 4));
        b_ch(b, '/');
        datepath(b, ts, '/', 0);
        b_ch(b, '/');
        b_uuid(b, r);
        b_ch(b, '-');
        phone(b, t);
        b_ch(b, '-');
        phone(b, t);
        break;
    case 2: /* 2026-03-02/callid.amr */
        datepath(b, ts, '-', 0);
        b_ch(b, '/');
        b_uuid(b, r);
        break;
    case 3: /* opaque: 3f/3fa9.... no extension */
        b_hex(b, r, 2, 0);
        b_ch(b, '/');
        b_hex(b, r, 32, 0);
        b_ch(b, 0);
        b->n--;
        return;
    case 4: /* renamed */
        b_str(b, "blob/");
        b_hex(b, r, 24, 0);
        ext = rng_unif(r) < 0.5 ? "dat" : "bin";
        break;
    case 5: /* contact centre: own DID and customer, either order */
        b_str(b, "recordings/");
        datepath(b, ts, '/', 0);
        b_ch(b, '/');
        if (rng_unif(r) < 0.5) {
            b_u64(b, t->own_block * 1000 + rng_below(r, 200));
            b_ch(b, '_');
            phone(b, t);
        } else {
            phone(b, t);
            b_ch(b, '_');
            b_u64(b, t->own_block * 1000 + rng_below(r, 200));
        }
        b_ch(b, '_');
        b_u64(b, 100000 + rng_below(r, 900000));
        break;
    case 6:
        b_str(b, "calls/");
        datepath(b, ts, '-', 0);
        b_ch(b, '/');
        b_uuid(b, r);
        break;
    case 7: /* voicemail: mailbox number and epoch */
        b_str(b, "vm/");
        phone(b, t);
        b_ch(b, '/');
        b_u64(b, (uint64_t)ts);
        b_ch(b, '-');
        b_hex(b, r, 8, 0);
        break;
    case 8:
        b_str(b, "shows/");
        b_hex(b, r, 8, 0);
        b_str(b, "/episodes/");
        b_u64(b, 1 + rng_below(r, 400));
        break;
    case 9:
        b_str(b, "uploads/");
        b_uuid(b, r);
        b_ch(b, '/');
        b_hex(b, r, 12, 0);
        break;
    case 10:
        b_str(b, "articles/");
        datepath(b, ts, '/', 0);
        b_ch(b, '/');
        b_hex(b, r, 10, 0);
        break;
    default: {
        static const char *const bg[] = {"jpg", "png", "json", "gz", "parquet", "csv", "html"};
        b_str(b, stems[rng_below(r, NSTEMS)]);
        b_ch(b, '/');
        b_hex(b, r, 12, 0);
        ext = bg[rng_below(r, 7)];
        break;
    }
    }
    b_ch(b, '.');
    b_str(b, ext);
    b_ch(b, 0);
    b->n--;
}

static uint64_t size_for(tenant *t, int codec, double dur)
{
    return (uint64_t)(dur * codecs[codec].bytes_per_s) + 44 + rng_below(&t->r, 512);
}

/* Follow-up calls (transcription, translation, downloads) stay inside
 * their delivery window: a record far ahead of its file's window would
 * make the rest of the stream look late to a streaming correlator. */
static int64_t clampw(int64_t t, int64_t w0) { return t < w0 + 300 ? t : w0 + 299; }

static int64_t jitter(tenant *t, int64_t w0) { return w0 + (int64_t)rng_below(&t->r, 300); }

static int pick_codec(tenant *t) { return t->codec[t->ncodec > 1 ? rng_below(&t->r, (uint64_t)t->ncodec) : 0]; }

static void mt_pair(tenant *t, ev *e)
{
    int s = t->lang, d;
    if (rng_unif(&t->r) >= t->pair_dom) {
        s = (int)rng_below(&t->r, (uint64_t)nlangs);
        if (t->kind == K_NEWSROOM && rng_unif(&t->r) < 0.5)
            s = 6;
    }
    d = t->kind == K_NEWSROOM && s == 6 ? (int)rng_below(&t->r, (uint64_t)nlangs)
        : t->lang == 6 || t->kind == K_PODCAST || t->kind == K_MEDIA_STT ? (int)rng_below(&t->r, (uint64_t)nlangs) : 6;
    if (kind_is_intercept(t->kind))
        d = s == t->lang ? t->lang_dst : 6;
    if (d == s)
        d = (s + 1) % nlangs;
    e->src = langs[s].mt;
    e->dst = langs[d].mt;
}

static void mgmt(tenant *t, const simcfg *c, int64_t w0, emit_fn fn, void *ud, int nmgmt)
{
    uint64_t n = rng_poisson(&t->r, t->mgmt_h / 12);
    for (uint64_t i = 0; i < n; i++) {
        ev e = {0};
        e.op = OP_MGMT;
        e.t = jitter(t, w0);
        e.prin = (int)rng_below(&t->r, (uint64_t)t->nprin);
        /* security-relevant entries (the tail of each table) are rare */
        e.mgmt = rng_unif(&t->r) < 0.97 ? (int)rng_below(&t->r, (uint64_t)(nmgmt - 4))
                                        : nmgmt - 4 + (int)rng_below(&t->r, 4);
        fn(ud, t, &e);
    }
    (void)c;
}

static __thread buf key;    /* the current object key, per thread */

void tenant_thread_done(void)
{
    free(key.p);
    memset(&key, 0, sizeof key);
}

void tenant_window(tenant *t, const simcfg *c, int64_t w0, emit_fn fn, void *ud)
{
    int nmgmt = t->provider == P_AWS ? aws_mgmt_n : t->provider == P_AZURE ? azure_mgmt_n : gcp_mgmt_n;
    mgmt(t, c, w0, fn, ud, nmgmt);
    if (w0 + 300 <= t->start)
        return;
    int lh = (int)(((w0 / 3600 + t->tz) % 24 + 24) % 24);
    double lambda = t->rate_h * diurnal(t->profile, lh) / 12.0;
    int64_t lo = w0 < t->start ? t->start : w0;
    if (lo > w0)
        lambda *= (double)(w0 + 300 - lo) / 300.0;
    int fleeing = w0 >= t->notice;
    uint64_t n = rng_poisson(&t->r, lambda);
    rng *r = &t->r;
    if (fleeing) {
        /* after notice: no intake; bulk egress (4x the intake rate) and
         * deletion (5x): DeleteObjects batches of 1,000 keys on AWS, one
         * record per object on Azure and GCP */
        int batched = t->provider == P_AWS;
        uint64_t g = n * 4, d = batched ? n * 5 / 1000 + 1 : n * 5;
        for (uint64_t i = 0; i < g + d; i++) {
            ev e = {0};
            e.t = jitter(t, w0);
            e.prin = (int)rng_below(r, (uint64_t)t->nprin);
            e.codec = pick_codec(t);
            make_key(&key, t, e.t - 86400, e.codec);
            e.key = key.p;
            if (i < g) {
                e.op = OP_GET;
                e.bytes = size_for(t, e.codec, exp(t->dur_mu + t->dur_sigma * rng_normal(r)));
            } else if (batched) {
                e.op = OP_DELETE_MULTI;
                e.nkeys = 1000;
            } else {
                e.op = OP_DELETE;
            }
            fn(ud, t, &e);
        }
        return;
    }
    for (uint64_t i = 0; i < n; i++) {
        ev e = {0};
        e.t = lo + (int64_t)rng_below(r, (uint64_t)(w0 + 300 - lo));
        e.prin = (int)rng_below(r, (uint64_t)t->nprin);
        switch (t->kind) {
        case K_NEWSROOM:
            e.op = OP_MT;
            mt_pair(t, &e);
            fn(ud, t, &e);
            if (rng_unif(r) < 0.05) {
                e.op = OP_PUT;
                make_key(&key, t, e.t, -1);
                e.key = key.p;
                e.bytes = 2000 + rng_below(r, 40000);
                fn(ud, t, &e);
            }
            continue;
        case K_BACKGROUND:
            make_key(&key, t, e.t, -1);
            e.key = key.p;
            e.op = rng_unif(r) < 0.4 ? OP_PUT : rng_unif(r) < 0.95 ? OP_GET : OP_DELETE;
            e.bytes = (uint64_t)rng_logunif(r, 200, 5e6);
            e.bucket = (int)rng_below(r, 2);
            fn(ud, t, &e);
            continue;
        default:
            break;
        }
        /* audio kinds: one recording */
        e.codec = pick_codec(t);
        if (t->kind == K_MEDIA_STT && rng_unif(r) < 0.12)
            e.codec = rng_unif(r) < 0.5 ? C_AMR : C_WAV8;
        double dur = exp(t->dur_mu + t->dur_sigma * rng_normal(r));
        if (dur < 3)
            dur = 3;
        if (dur > 4 * 3600)
            dur = 4 * 3600;
        make_key(&key, t, e.t, e.codec);
        e.key = key.p;
        e.bytes = size_for(t, e.codec, dur);
        e.op = OP_PUT;
        fn(ud, t, &e);
        if (t->kind == K_PODCAST) {
            uint64_t dl = rng_poisson(r, 3);
            for (uint64_t k = 0; k < dl; k++) {
                ev g = e;
                g.op = OP_GET;
                g.t = clampw(e.t + (int64_t)rng_below(r, 300), w0);
                g.prin = 0;
                fn(ud, t, &g);
            }
        }
        if (rng_unif(r) < t->p_stt) {
            ev s = e;
            s.t = clampw(e.t + 5 + (int64_t)(dur / 4) + (int64_t)rng_below(r, 60), w0);
            s.op = t->kind == K_CONTACT && rng_unif(r) < 0.7 ? OP_CALLANALYTICS : OP_STT;
            s.lang = langs[t->kind == K_MEDIA_STT ? (int)rng_below(r, (uint64_t)nlangs) : t->lang].stt;
            fn(ud, t, &s);
            if (rng_unif(r) < t->p_mt) {
                int reqs = 1 + (dur > 240) + (dur > 600);
                for (int k = 0; k < reqs; k++) {
                    ev m = s;
                    m.op = OP_MT;
                    m.t = clampw(s.t + 30 + (int64_t)(dur / 3) + k, w0);
                    mt_pair(t, &m);
                    fn(ud, t, &m);
                }
            }
        }
    }
}
