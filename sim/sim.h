/* sim.h - aupwatch-sim: shared types of the telemetry simulator.
 *
 * The simulator draws a population of tenants (interception archives,
 * their evasive variants and benign look-alikes), then walks simulated
 * time in 5-minute windows and writes, per tenant, the records the
 * provider would log for that window in the provider's own format
 * (CloudTrail log files, Azure resource-log JSON lines, GCP audit
 * LogEntry lines). Ground truth goes to labels.jsonl, never into the
 * records. Everything is derived from one --seed (xoshiro256**). */
#ifndef AW_SIM_H
#define AW_SIM_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* ---- PRNG: xoshiro256** seeded by splitmix64 ------------------------- */
typedef struct rng {
    uint64_t s[4];
} rng;

static inline uint64_t rng_rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static inline uint64_t rng_next(rng *r)
{
    uint64_t *s = r->s, res = rng_rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rng_rotl(s[3], 45);
    return res;
}

static inline uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static inline void rng_seed(rng *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&seed);
}

static inline double rng_unif(rng *r) { return (double)(rng_next(r) >> 11) * 0x1.0p-53; }
static inline uint64_t rng_below(rng *r, uint64_t n) { return n ? rng_next(r) % n : 0; }
static inline double rng_range(rng *r, double lo, double hi) { return lo + (hi - lo) * rng_unif(r); }
double rng_normal(rng *r);
double rng_logunif(rng *r, double lo, double hi);
uint64_t rng_poisson(rng *r, double lambda);

/* ---- output buffer with hand-rolled JSON pieces ----------------------- */
typedef struct buf {
    char *p;
    size_t n, cap;
} buf;

void buf_grow(buf *b, size_t need);
static inline void b_mem(buf *b, const char *s, size_t n)
{
    if (b->n + n > b->cap)
        buf_grow(b, n);
    memcpy(b->p + b->n, s, n);
    b->n += n;
}
static inline void b_str(buf *b, const char *s) { b_mem(b, s, strlen(s)); }
#define B_LIT(b, s) b_mem((b), (s), sizeof(s) - 1)
static inline void b_ch(buf *b, char c)
{
    if (b->n + 1 > b->cap)
        buf_grow(b, 1);
    b->p[b->n++] = c;
}
void b_u64(buf *b, uint64_t v);
void b_hex(buf *b, rng *r, int n, int upper);   /* n random hex digits */
void b_uuid(buf *b, rng *r);
void b_b64(buf *b, rng *r, int n);              /* n random base64 chars */
void b_digits(buf *b, rng *r, int n);
/* ISO-8601 UTC at second precision "2026-03-02T00:00:00Z"; frac_digits
 * random fraction digits (0, 3, 7 or 9) before the Z. */
void b_time(buf *b, int64_t t, int frac_digits, rng *r);

/* ---- tenants ------------------------------------------------------------ */
enum provider { P_AWS, P_AZURE, P_GCP, P_N };

enum kind {
    K_INTERCEPT,        /* population-scale interception archive */
    K_ICPT_SPLIT,       /* evasive: intake spread over several accounts */
    K_ICPT_OPAQUE,      /* evasive: opaque object keys, no extension */
    K_ICPT_RENAMED,     /* evasive: audio renamed .dat/.bin */
    K_ICPT_FLEE,        /* evasive: egress and deletion burst after notice */
    K_CONTACT,          /* contact centre recording its own calls */
    K_VOICEMAIL,        /* telecom voicemail-to-text */
    K_PODCAST,          /* podcast and music hosting */
    K_MEDIA_STT,        /* media transcription service */
    K_NEWSROOM,         /* newsroom translating articles */
    K_BACKGROUND,       /* ordinary workloads with security noise */
    K_N
};
extern const char *const kind_names[K_N];
static inline int kind_is_intercept(int k) { return k <= K_ICPT_FLEE; }

enum codec { C_AMR, C_AMRWB, C_ULAW, C_ALAW, C_WAV8, C_WAV16, C_MP3, C_M4A, C_FLAC, C_OGG, C_N };
typedef struct codec_info {
    const char *ext;        /* object key extension */
    const char *mime;       /* content type (GCP logs it) */
    const char *aws_fmt;    /* Transcribe mediaFormat */
    const char *gcp_enc;    /* Speech RecognitionConfig.encoding */
    int rate_hz;
    double bytes_per_s;
} codec_info;
extern const codec_info codecs[C_N];

enum profile { D_FLAT, D_POPULATION, D_BUSINESS, D_CONSUMER };

#define MAX_PRIN 8
typedef struct tenant {
    int kind, evasive, provider, profile, tz;
    int idx;                    /* position in the population */
    int group;                  /* operator group (split accounts) */
    char id[48];                /* account / subscription / project */
    char region[24];
    char org[40];               /* AWS org id, Azure Entra tenant, GCP org */
    double rate_h;              /* primary events per hour at peak, scaled */
    int64_t start, notice;      /* first activity; notice time (flee) */
    int nprin;
    char prin[MAX_PRIN][48];    /* role / identity names */
    char prin_id[MAX_PRIN][24]; /* AROA... / object ids */
    char ip[MAX_PRIN][16];
    char bucket[2][40];
    char rg[32];                /* Azure resource group */
    int codec[2], ncodec;
    double dur_mu, dur_sigma;   /* log-normal duration (seconds) */
    int keystyle;
    double p_stt, p_mt, pair_dom;
    int lang;                   /* index in the language table */
    int lang_dst;               /* dominant translation target */
    int cc;                     /* country calling code */
    uint64_t own_block;         /* contact centre: own DID block */
    double mgmt_h;              /* management events per hour */
    rng r;
    uint64_t seq;
} tenant;

typedef struct simcfg {
    uint64_t seed;
    int ntenants;
    double hours, scale;
    int64_t t0;
    const char *out;
    int gzip_level;
    int providers;              /* bitmask of enum provider */
    int jobs;                   /* generator threads */
    int quiet;
} simcfg;

/* One simulated API call, provider-neutral. */
enum op {
    OP_PUT, OP_GET, OP_DELETE, OP_DELETE_MULTI, OP_STT, OP_CALLANALYTICS, OP_MT,
    OP_MGMT, OP_N
};
typedef struct ev {
    int op;
    int64_t t;
    int prin;
    int bucket;
    const char *key;
    uint64_t bytes;
    int codec;
    const char *lang;           /* STT language code */
    const char *src, *dst;      /* MT pair */
    int mgmt;                   /* index into the provider's noise table */
    int nkeys;                  /* DeleteObjects batch size */
} ev;

void tenants_draw(tenant *ts, int n, const simcfg *c, rng *r);
void labels_write(const tenant *ts, int n, const simcfg *c);
/* Generate one tenant's events in [t, t+300) and hand each to emit. */
typedef void (*emit_fn)(void *ud, tenant *t, const ev *e);
void tenant_window(tenant *t, const simcfg *c, int64_t w0, emit_fn fn, void *ud);
void tenant_thread_done(void);  /* free the thread's scratch */

void emit_aws(buf *b, tenant *t, const ev *e);
void emit_azure(buf *b, tenant *t, const ev *e);
void emit_gcp(buf *b, tenant *t, const ev *e);
extern const int aws_mgmt_n, azure_mgmt_n, gcp_mgmt_n;

/* language table for STT/MT */
typedef struct lang {
    const char *stt;    /* ar-SA */
    const char *mt;     /* ar */
} lang;
extern const lang langs[];
extern const int nlangs;

int sim_generate(const simcfg *c);
int sim_score(int argc, char **argv);

#endif
