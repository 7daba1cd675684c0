/* derive.c - derived fields computed at ingestion (`derive:` in a
 * mapping source; docs/extensions.md, docs/mappings.md).
 *
 * Some signals of the acceptable-use pack are not a field of any log:
 * the audio format hinted by an object key's extension, how many
 * phone-number-like tokens a key holds, whether one of them belongs to a
 * number range the tenant uses all the time (its own lines), the call
 * length implied by an object's size. They are computed once per event,
 * after the content drops, and appended to the event's root object as
 * members named like `aw.key_phone_tokens`, so rules read them as
 * ordinary fields. Every derived value is a category, a small count or
 * a boolean: no derived field carries a raw value (no digits of a
 * number, no part of a name), so evidence that quotes them leaks
 * nothing.
 *
 * Functions (fn:), each reading the `from:` paths in order:
 *   ext              lower-case extension of the last key segment
 *                    (<= 8 alphanumerics) or "none"
 *   audio_class      telephony | voice_pcm | music | other, from a key's
 *                    extension or a MIME type (first path that gives a
 *                    class other than "other" wins)
 *   duration_class   short (< 20 s) | call (20 s - 20 min) | long, from
 *                    the byte count in `from:` and the nominal byte rate
 *                    of the codec named by the `key:` paths' extension or
 *                    MIME type; absent when the format is unknown
 *   phone_tokens     number of digit runs of 9-15 digits in the key
 *                    (0-3, capped): phone numbers in E.164 length;
 *                    `skip: N` first drops N leading '/'-separated
 *                    segments (the account/container or bucket part of
 *                    a full object path: its digits are in every key)
 *   own_side         "true" when one of the key's phone tokens falls in a
 *                    number block (the number without its last 3 digits)
 *                    that appears in at least 20% of this tenant's tokens
 *                    so far (after 50 tokens), "false" otherwise, "none"
 *                    without tokens. The only stateful derivation: a
 *                    Misra-Gries sketch of 8 counters per tenant (a
 *                    contact centre's own lines are in every key; a
 *                    population's numbers are not). Order-dependent:
 *                    on worker threads aw_mapping_prepare_spec records
 *                    its inputs, and one thread decides it in input
 *                    order (aw_mapping_own_decide)
 *   tenant           the source's tenant (for group-by across providers)
 */
#include <stdlib.h>
#include <string.h>

#include <strings.h>

#include "mapping/mapping_int.h"
#include "util/ytree.h"

enum { F_EXT, F_AUDIO, F_DUR, F_PHONES, F_OWN, F_TENANT };
static const char *const fn_names[] = {"ext", "audio_class", "duration_class", "phone_tokens",
                                       "own_side", "tenant", NULL};

/* ---- compile ------------------------------------------------------------ */

static const char *paths_of(aw_arena *a, const aw_ynode *v, const char *const **out, size_t *n)
{
    if (v->type == AW_Y_SCALAR) {
        const char **p = aw_arena_alloc(a, sizeof *p);
        p[0] = aw_arena_strdup(a, v->text);
        *out = p;
        *n = 1;
        return NULL;
    }
    if (v->type != AW_Y_SEQ || !v->n)
        return "derive: 'from'/'key' must be a path or a non-empty list of paths";
    const char **p = aw_arena_alloc(a, v->n * sizeof *p);
    for (size_t i = 0; i < v->n; i++) {
        if (v->kids[i]->type != AW_Y_SCALAR)
            return "derive: paths must be strings";
        p[i] = aw_arena_strdup(a, v->kids[i]->text);
    }
    *out = p;
    *n = v->n;
    return NULL;
}

const char *mp_derive_compile(aw_arena *a, aw_source *s, const aw_ynode *v, unsigned *line)
{
    *line = v->line;
    if (v->type != AW_Y_MAP || !v->n)
        return "derive must be a mapping of field name -> {fn, from}";
    mp_derive *d = aw_arena_alloc(a, v->n * sizeof *d);
    for (size_t i = 0; i < v->n; i++) {
        const aw_ynode *k = aw_ymap_key(v, i), *e = aw_ymap_val(v, i), *x;
        const char *err;
        *line = k->line;
        if (k->type != AW_Y_SCALAR || strncmp(k->text, "aw.", 3) != 0 || k->len < 4)
            return "derive: derived field names start with 'aw.'";
        if (e->type != AW_Y_MAP)
            return "derive: each derived field is a mapping {fn, from[, key]}";
        for (size_t j = 0; j < e->n; j++) {
            const char *kk = aw_ymap_key(e, j)->text;
            if (strcmp(kk, "fn") && strcmp(kk, "from") && strcmp(kk, "key") && strcmp(kk, "skip"))
                return "derive: unknown key (fn, from, key, skip)";
        }
        d[i].name = aw_arena_strdup(a, k->text);
        if (!(x = aw_ymap_get(e, "fn")) || x->type != AW_Y_SCALAR)
            return "derive: 'fn' is required";
        int f;
        for (f = 0; fn_names[f] && strcmp(fn_names[f], x->text); f++)
            ;
        if (!fn_names[f])
            return "derive: unknown fn (ext, audio_class, duration_class, phone_tokens, own_side, tenant)";
        d[i].fn = f;
        if ((x = aw_ymap_get(e, "from")) && (err = paths_of(a, x, &d[i].from, &d[i].nfrom)))
            return err;
        if (!x && f != F_TENANT)
            return "derive: 'from' is required";
        if ((x = aw_ymap_get(e, "key")) && (err = paths_of(a, x, &d[i].key, &d[i].nkey)))
            return err;
        if ((x = aw_ymap_get(e, "skip"))) {
            char *end;
            long sk = x->type == AW_Y_SCALAR ? strtol(x->text, &end, 10) : -1;
            if (sk < 0 || sk > 16 || *end)
                return "derive: 'skip' is a number of leading '/'-separated segments (0-16)";
            d[i].skip = (int)sk;
        }
        if (f == F_DUR && !d[i].nkey)
            return "derive: duration_class needs 'key' (the object name or MIME type paths)";
    }
    s->derive = d;
    s->nderive = v->n;
    return NULL;
}

/* ---- classification helpers ---------------------------------------------- */

typedef struct fmt {
    const char *ext, *mime;
    int cls;            /* 0 telephony, 1 voice_pcm, 2 music */
    double bps;         /* nominal bytes per second */
} fmt;

static const char *const cls_names[] = {"telephony", "voice_pcm", "music", "other"};
static const fmt fmts[] = {
    {"amr", "audio/amr", 0, 1525},      {"awb", "audio/amr-wb", 0, 2981},
    {"3ga", "audio/3gpp", 0, 1525},     {"ul", "audio/basic", 0, 8000},
    {"ulaw", "audio/pcmu", 0, 8000},    {"mulaw", "audio/x-mulaw", 0, 8000},
    {"al", "audio/x-alaw-basic", 0, 8000}, {"alaw", "audio/pcma", 0, 8000},
    {"au", "audio/x-au", 0, 8000},      {"gsm", "audio/gsm", 0, 1650},
    {"g729", "audio/g729", 0, 1000},    {"vox", "audio/x-vox", 0, 4000},
    {"sln", "audio/x-sln", 0, 16000},   {"wav", "audio/wav", 1, 16000},
    {"wave", "audio/x-wav", 1, 16000},  {"mp3", "audio/mpeg", 2, 16000},
    {"m4a", "audio/mp4", 2, 16000},     {"aac", "audio/aac", 2, 16000},
    {"flac", "audio/flac", 2, 90000},   {"ogg", "audio/ogg", 2, 12000},
    {"opus", "audio/opus", 2, 12000},   {"wma", "audio/x-ms-wma", 2, 16000},
    {"aiff", "audio/aiff", 2, 176000},
};
#define NFMTS (sizeof fmts / sizeof *fmts)

/* lower-case extension of the last segment into out (cap >= 9) */
static size_t ext_of(const char *s, size_t n, char *out)
{
    size_t i = n, e;
    while (i > 0 && s[i - 1] != '/' && s[i - 1] != '.')
        i--;
    if (i == 0 || s[i - 1] != '.' || n - i == 0 || n - i > 8)
        return 0;
    for (e = 0; i < n; i++, e++) {
        char c = s[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c + 32);
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')))
            return 0;
        out[e] = c;
    }
    out[e] = 0;
    return e;
}

static const fmt *fmt_of(const char *s, size_t n)
{
    char e[16];
    if (memchr(s, '/', n) && n < 40 && strncmp(s, "audio/", 6) == 0) {
        for (size_t i = 0; i < NFMTS; i++)
            if (strlen(fmts[i].mime) == n && strncasecmp(fmts[i].mime, s, n) == 0)
                return &fmts[i];
        if (n == 11 && strncasecmp(s, "audio/x-wav", 11) == 0)
            return &fmts[13];
        return NULL;
    }
    if (!ext_of(s, n, e))
        return NULL;
    for (size_t i = 0; i < NFMTS; i++)         /* first bytes inline: strcmp is a call */
        if (fmts[i].ext[0] == e[0] && strcmp(fmts[i].ext, e) == 0)
            return &fmts[i];
    return NULL;
}

/* The derivations of one event read the same few paths (an object key
 * feeds five of them): each path is looked up once per event. Paths are
 * interned per source when it is committed (mp_compile_paths), so the
 * memo compares addresses. */
#define MEMO_MAX 16
typedef struct dmemo_e {
    const char *path;
    const char *v;              /* NULL: absent or not a scalar */
    size_t len;
} dmemo_e;

typedef struct dmemo {
    size_t n;
    dmemo_e e[MEMO_MAX];
} dmemo;

static const char *scalar_at(dmemo *mm, const aw_doc *d, const char *path, const aw_jpath *jp, size_t *len)
{
    for (size_t i = 0; i < mm->n; i++)
        if (mm->e[i].path == path) {            /* interned (mp_compile_paths) */
            *len = mm->e[i].len;
            return mm->e[i].v;
        }
    const aw_jnode *n = mp_first(d, jp, path);
    size_t l = 0;
    const char *v = n ? mp_scalar(n, &l) : NULL;
    if (mm->n < MEMO_MAX)
        mm->e[mm->n++] = (dmemo_e){path, v, l};
    *len = l;
    return v;
}

static int phone_tokens(const char *s, size_t n, uint64_t blocks[3])
{
    int k = 0;
    for (size_t i = 0; i < n;) {
        if (s[i] < '0' || s[i] > '9') {
            i++;
            continue;
        }
        size_t j = i;
        uint64_t b = 0;
        while (j < n && s[j] >= '0' && s[j] <= '9')
            j++;
        if (j - i >= 9 && j - i <= 15) {
            for (size_t q = i; q < j - 3; q++)
                b = b * 10 + (uint64_t)(s[q] - '0');
            if (k < 3)
                blocks[k] = b * 16 + (j - i); /* block and length */
            k++;
        }
        i = j;
    }
    return k > 3 ? 3 : k;
}

/* ---- own-side sketch (thread-local: one thread decides, in input order;
 * workers of a threaded scan only record the inputs, aw_own_spec) ----- */

#define OWN_SLOTS_MIN 4096
#define OWN_SLOTS_MAX (1u << 20)    /* 144 MB a thread: past it, slots are recycled */
#define MG_K 8
typedef struct own {
    uint64_t tenant;        /* hash; 0 = empty */
    uint64_t total;
    uint64_t item[MG_K];
    uint64_t cnt[MG_K];
} own;
typedef struct owntab {
    size_t cap, n;          /* slots (a power of two), tenants held */
    own slot[];
} owntab;
static __thread owntab *own_tab;
static pthread_key_t own_key;
static pthread_once_t own_once = PTHREAD_ONCE_INIT;

static void own_key_init(void) { pthread_key_create(&own_key, free); }

static uint64_t hash(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
    return h ? h : 1;
}

/* This thread's table with room for cap slots (the tenants it held
 * rehashed into it), or NULL when that cannot be allocated. */
static owntab *own_resize(owntab *t, size_t cap)
{
    owntab *nt = calloc(1, sizeof *nt + cap * sizeof nt->slot[0]);
    if (!nt)
        return NULL;
    nt->cap = cap;
    for (size_t k = 0; t && k < t->cap; k++) {
        if (!t->slot[k].tenant)
            continue;
        size_t i = t->slot[k].tenant & (cap - 1);
        while (nt->slot[i].tenant)
            i = (i + 1) & (cap - 1);
        nt->slot[i] = t->slot[k];
        nt->n++;
    }
    free(t);
    /* freed by the key's destructor when the thread exits */
    pthread_once(&own_once, own_key_init);
    pthread_setspecific(own_key, nt);
    return nt;
}

/* Tenant th's sketch. The table doubles before it is half full, so every
 * tenant keeps its own sketch up to OWN_SLOTS_MAX / 2 tenants a thread;
 * past that a full neighbourhood recycles the home slot (that tenant
 * warms up again). */
static own *own_get(uint64_t th)
{
    if (!own_tab && !(own_tab = own_resize(NULL, OWN_SLOTS_MIN)))
        return NULL;
    size_t mask = own_tab->cap - 1, i = th & mask;
    for (size_t p = 0; p < 64; p++, i = (i + 1) & mask) {
        if (own_tab->slot[i].tenant == th)
            return &own_tab->slot[i];
        if (!own_tab->slot[i].tenant)
            break;
    }
    if (2 * (own_tab->n + 1) > own_tab->cap && own_tab->cap < OWN_SLOTS_MAX) {
        owntab *t = own_resize(own_tab, own_tab->cap * 2);
        if (t) {                /* (else: no memory to grow, recycle below) */
            own_tab = t;
            return own_get(th); /* th is not in the table: look again */
        }
    }
    i = th & mask;
    for (size_t p = 0; p < 64; p++, i = (i + 1) & mask)
        if (!own_tab->slot[i].tenant) {
            own_tab->slot[i].tenant = th;
            own_tab->n++;
            return &own_tab->slot[i];
        }
    /* neighbourhood full: recycle the home slot */
    i = th & mask;
    memset(&own_tab->slot[i], 0, sizeof own_tab->slot[i]);
    own_tab->slot[i].tenant = th;
    return &own_tab->slot[i];
}

static void mg_add(own *o, uint64_t x)
{
    o->total++;
    for (int i = 0; i < MG_K; i++)
        if (o->cnt[i] && o->item[i] == x) {
            o->cnt[i]++;
            return;
        }
    for (int i = 0; i < MG_K; i++)
        if (!o->cnt[i]) {
            o->item[i] = x;
            o->cnt[i] = 1;
            return;
        }
    for (int i = 0; i < MG_K; i++)
        o->cnt[i]--;
}

static uint64_t mg_est(const own *o, uint64_t x)
{
    for (int i = 0; i < MG_K; i++)
        if (o->cnt[i] && o->item[i] == x)
            return o->cnt[i];
    return 0;
}

/* ---- apply ---------------------------------------------------------------- */

static const char *const small_ints[] = {"0", "1", "2", "3"};

/* A new member: forget what was remembered of paths it may answer. */
static void memo_forget(dmemo *mm, const char *key)
{
    size_t kl = strlen(key), j = 0;
    for (size_t i = 0; i < mm->n; i++)
        if (mm->e[i].path[0] != key[0] ||
            !(strncmp(mm->e[i].path, key, kl) == 0 && (mm->e[i].path[kl] == 0 || mm->e[i].path[kl] == '.')))
            mm->e[j++] = mm->e[i];
    mm->n = j;
}

/* Returns 1 if the member was added (0: not added: the record already
 * has it, or no memory). */
static int append(dmemo *mm, aw_doc *d, const char *key, uint8_t type, const char *val, double num)
{
    if (aw_json_append_member(d, key, (aw_jtype)type, val, num) != AW_OK)   /* derived once */
        return 0;
    memo_forget(mm, key);
    return 1;
}

static const char *first_of(dmemo *mm, const aw_doc *d, const char *const *p, aw_jpath *const *jp,
                            size_t np, size_t *len)
{
    for (size_t i = 0; i < np; i++) {
        const char *v = scalar_at(mm, d, p[i], jp ? jp[i] : NULL, len);
        if (v)
            return v;
    }
    return NULL;
}

static const fmt *fmt_from(dmemo *mm, const aw_doc *d, const char *const *p, aw_jpath *const *jp,
                           size_t np, int *seen)
{
    *seen = 0;
    for (size_t i = 0; i < np; i++) {
        size_t len;
        const char *v = scalar_at(mm, d, p[i], jp ? jp[i] : NULL, &len);
        if (!v)
            continue;
        *seen = 1;
        const fmt *f = fmt_of(v, len);
        if (f)
            return f;
    }
    return NULL;
}

/* The own-side decision for one key's blocks, against (and updating)
 * this thread's sketch of the tenant th. */
static int own_decide(uint64_t th, const uint64_t *blocks, int k)
{
    own *o = own_get(th);
    int mine = 0;
    if (!o)
        return 0;
    for (int i = 0; i < k; i++)
        mg_add(o, blocks[i]);
    if (o->total >= 50)
        for (int i = 0; i < k; i++)
            if (mg_est(o, blocks[i]) * 5 >= o->total)
                mine = 1;
    return mine;
}

void aw_mapping_own_set(aw_doc *d, const aw_own_op *op, int mine)
{
    if (d && op->node)
        aw_json_set_string(d, op->node, mine ? "true" : "false");
}

int aw_mapping_own_decide(aw_doc *d, const aw_own_op *op)
{
    int mine = own_decide(op->tenant, op->blocks, op->k);
    aw_mapping_own_set(d, op, mine);
    return mine;
}

static void derive_one(const aw_source *s, aw_doc *d, const mp_derive *x, aw_own_spec *spec, dmemo *mm)
{
    static __thread char tenant[256];
    size_t len = 0;
    const char *v;
    int seen;
    const fmt *f;
    switch (x->fn) {
    case F_EXT: {
        static const char *const known[] = {"none", "amr", "awb", "3ga", "ul", "ulaw", "mulaw", "al",
            "alaw", "au", "gsm", "g729", "vox", "sln", "wav", "wave", "mp3", "m4a", "aac", "flac",
            "ogg", "opus", "wma", "aiff", "dat", "bin", "raw", "pcm", "json", "jpg", "png", "gz",
            "csv", "html", "parquet", "txt", "pdf", "mp4", NULL};
        char e[16];
        if (!(v = first_of(mm, d, x->from, x->from_jp, x->nfrom, &len)))
            return;
        size_t n = ext_of(v, len, e);
        int i = 0;
        if (n)                          /* as in fmt_of */
            for (i = 1; known[i] && (known[i][0] != e[0] || strcmp(known[i], e)); i++)
                ;
        /* a static string per extension: no raw text is kept */
        append(mm, d, x->name, AW_JSTR, known[i] ? known[i] : "other", 0);
        return;
    }
    case F_AUDIO:
        f = fmt_from(mm, d, x->from, x->from_jp, x->nfrom, &seen);
        if (f || seen)
            append(mm, d, x->name, AW_JSTR, cls_names[f ? f->cls : 3], 0);
        return;
    case F_DUR: {
        f = fmt_from(mm, d, x->key, x->key_jp, x->nkey, &seen);
        if (!f || !(v = first_of(mm, d, x->from, x->from_jp, x->nfrom, &len)))
            return;
        double bytes = strtod(v, NULL), secs = bytes / f->bps;
        append(mm, d, x->name, AW_JSTR, secs < 20 ? "short" : secs <= 1200 ? "call" : "long", 0);
        return;
    }
    case F_PHONES:
    case F_OWN: {
        uint64_t blocks[3];
        if (!(v = first_of(mm, d, x->from, x->from_jp, x->nfrom, &len)))
            return;
        /* skip: the account/container or bucket part of a full object
         * path, whose digits would be in every key */
        for (int sk = 0; sk < x->skip; sk++) {
            const char *sl = memchr(v, '/', len);
            if (!sl)
                return;
            len -= (size_t)(sl + 1 - v);
            v = sl + 1;
        }
        int k = phone_tokens(v, len, blocks);
        if (x->fn == F_PHONES) {
            append(mm, d, x->name, AW_JNUM, small_ints[k], (double)k);
            return;
        }
        if (!k) {
            append(mm, d, x->name, AW_JSTR, "none", 0);
            return;
        }
        char tn[256];
        size_t tl = aw_source_tenant(s, d, tn, sizeof tn);
        if (spec) {
            /* decided later, in input order: "false" until then */
            aw_own_op *op = &spec->op[spec->n < AW_OWN_MAX_OPS ? spec->n : AW_OWN_MAX_OPS - 1];
            spec->n++;
            op->tenant = hash(tn, tl);
            op->k = k;
            memcpy(op->blocks, blocks, sizeof op->blocks);
            op->node = append(mm, d, x->name, AW_JSTR, "false", 0) ? (uint32_t)(aw_doc_count(d) - 1) : 0;
            return;
        }
        append(mm, d, x->name, AW_JSTR, own_decide(hash(tn, tl), blocks, k) ? "true" : "false", 0);
        return;
    }
    case F_TENANT:
        if (aw_source_tenant(s, d, tenant, sizeof tenant) > 0)
            append(mm, d, x->name, AW_JSTR, tenant, 0);
        return;
    }
}

void mp_derive_apply(aw_doc *d, const aw_source *const *hit, size_t n, aw_own_spec *spec)
{
    dmemo mm;
    mm.n = 0;
    if (spec)
        spec->n = 0;
    for (size_t i = 0; i < n; i++) {
        const uint8_t *off = hit[i]->derive_off;
        for (size_t j = 0; j < hit[i]->nderive; j++)
            if (!off || !off[j])
                derive_one(hit[i], d, &hit[i]->derive[j], spec, &mm);
    }
}

size_t aw_source_derive_count(const aw_source *s)
{
    return s ? s->nderive : 0;
}

const char *aw_source_derive_name(const aw_source *s, size_t i)
{
    return s && i < s->nderive ? s->derive[i].name : NULL;
}

void aw_mapping_derive_only(aw_mapping *m, size_t source, const bool *keep)
{
    if (!m || source >= m->nsrc || !m->src[source]->nderive)
        return;
    aw_source *s = m->src[source];
    uint8_t *off = aw_arena_alloc(&m->arena, s->nderive);
    for (size_t j = 0; j < s->nderive; j++)
        off[j] = !keep[j];
    s->derive_off = off;
}
