/* pfcache.c - the literals found in a field's value, remembered per value.
 *
 * Most fields of an event repeat from event to event: the same images,
 * users, hashes, versions and integrity levels, often the same command
 * lines. Scanning a value Hyperscan has seen already pays the call's
 * fixed and cold cost again (150 to 3,000 cycles a value on Windows
 * events) for the same answer. A matcher keeps a direct-mapped table of
 * recent (field, value) -> literal ids; a value found there with the
 * same bytes sets its ids instead of being scanned.
 *
 * Exact: the bytes are compared in full, and the literals a field's
 * database finds depend on nothing but those bytes. A value of up to
 * PFC_VAL bytes is kept in its slot; a longer one, up to PFC_LONG (the
 * Hashes of a Sysmon event, most command lines: the values whose scan
 * costs most), in a buffer the slot owns and reuses, so the table stays
 * within 8,192 x 1.2 KB (1.8 MB without long values; 2,048 slots missed
 * four times as often on the benchmark's Windows events, whose ~160
 * sample events hold a few thousand distinct values). A longer value,
 * or one holding more than PFC_IDS literals, is scanned every time.
 * AUPWATCH_PF_CACHE=0 turns the table off (every value scanned): the
 * differential test compares both. */
#include <stdlib.h>
#include <string.h>

#include "sigma/plan_int.h"

#define PFC_SLOTS 8192          /* power of two, at most 65,536 (owners) */
#define PFC_VAL 120             /* kept in the slot */
#define PFC_LONG 1024           /* kept in the slot's buffer */
#define PFC_IDS 16

typedef struct pfc_slot {
    uint64_t h;                 /* 0: empty */
    int32_t field;
    uint16_t vlen;
    uint8_t nids;
    uint32_t ids[PFC_IDS];
    char val[PFC_VAL];
    char *big;                  /* owned: the value when vlen > PFC_VAL */
    size_t bigcap;
} pfc_slot;

struct aw_pfcache {
    pfc_slot slot[PFC_SLOTS];
    uint64_t lookups, hits;
    uint16_t owners[PFC_SLOTS];  /* the slots that own a `big` buffer, */
    size_t nowners;             /* so freeing does not read the whole
                                   table (most of it never touched) */
};

aw_pfcache *aw_pfcache_new(void)
{
    const char *e = getenv("AUPWATCH_PF_CACHE");
    if (e && strcmp(e, "0") == 0)
        return NULL;
    return aw_xcalloc(1, sizeof(aw_pfcache));
}

void aw_pfcache_free(aw_pfcache *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->nowners; i++)
        free(c->slot[c->owners[i]].big);
    free(c);
}

void aw_pfcache_counts(const aw_pfcache *c, uint64_t *lookups, uint64_t *hits)
{
    *lookups = c ? c->lookups : 0;
    *hits = c ? c->hits : 0;
}

static uint64_t mix(uint64_t h)
{
    h ^= h >> 32;
    h *= 0xD6E8FEB86659FD93ull;
    h ^= h >> 32;
    return h;
}

static uint64_t value_hash(int field, const char *s, size_t n)
{
    uint64_t h = ((uint64_t)(uint32_t)field << 32 | n) * 0x9E3779B97F4A7C15ull, w;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        memcpy(&w, s + i, 8);
        h = mix(h ^ w);
    }
    if (i < n) {                /* the tail, by fixed-size loads (n is in the seed) */
        if (n >= 8) {
            memcpy(&w, s + n - 8, 8);
        } else if (n >= 4) {
            uint32_t a, b;
            memcpy(&a, s, 4);
            memcpy(&b, s + n - 4, 4);
            w = (uint64_t)a << 32 | b;
        } else {
            w = (uint64_t)(unsigned char)s[0] << 16 | (uint64_t)(unsigned char)s[n / 2] << 8 |
                (unsigned char)s[n - 1];
        }
        h = mix(h ^ w ^ 0xFF);
    }
    return h | 1;
}

void aw_pfcache_scan(aw_pfcache *c, const aw_prefilter *pf, struct hs_scratch *scratch, int field, const char *s,
                     size_t n, aw_pfhits *hits)
{
    if (!c || n == 0 || n > PFC_LONG) {
        aw_prefilter_scan(pf, scratch, field, s, n, hits);
        return;
    }
    uint64_t h = value_hash(field, s, n);
    pfc_slot *e = &c->slot[(size_t)(h >> 32) & (PFC_SLOTS - 1)];
    c->lookups++;
    if (e->h == h && e->field == field && e->vlen == n && memcmp(n > PFC_VAL ? e->big : e->val, s, n) == 0) {
        c->hits++;
        for (uint8_t k = 0; k < e->nids; k++)
            aw_prefilter_hit(hits, e->ids[k]);
        return;
    }
    uint32_t ids[PFC_IDS];
    size_t k = aw_prefilter_scan_ids(pf, scratch, field, s, n, hits, ids, PFC_IDS);
    if (k > PFC_IDS)
        return;                                 /* too many to keep */
    char *to = e->val;
    if (n > PFC_VAL) {
        if (e->bigcap < n) {
            if (!e->big)
                c->owners[c->nowners++] = (uint16_t)(e - c->slot);
            free(e->big);
            e->bigcap = n < 256 ? 256 : n;
            e->big = aw_xmalloc(e->bigcap);
        }
        to = e->big;
    }
    e->h = h;
    e->field = field;
    e->vlen = (uint16_t)n;
    e->nids = (uint8_t)k;
    memcpy(e->ids, ids, k * sizeof *ids);
    memcpy(to, s, n);
}
