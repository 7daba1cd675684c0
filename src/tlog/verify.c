/* verify.c - the offline verifier: checks every checkpoint's signature
 * (and the witness policy), recomputes the whole tree from the entry
 * bundles, compares every hash tile, partial tile and partial bundle
 * present, checks each checkpoint root at its size, and keeps a trusted
 * checkpoint in a state file so repeated runs prove consistency. */
#include <dirent.h>
#include <stdarg.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "tlog/tlog_store.h"

typedef struct vcp {
    uint64_t size;
    aw_hash root;
    char label[300];
} vcp;

typedef struct vctx {
    const aw_tlog_verify_opts *o;
    aw_tlog_verify_result *res;
    aw_errbuf *err;
    aw_hash acc[8][256];
    unsigned nacc[8];
    aw_merkle_range range;
    vcp *cps;
    size_t ncp, next;
    char bundle[256]; /* the entry bundle level 0 was computed from */
} vctx;

static aw_status fail(vctx *v, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static aw_status fail(vctx *v, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v->err->msg, sizeof v->err->msg, fmt, ap);
    va_end(ap);
    return AW_ERR;
}

static aw_status load(vctx *v, const char *rel, size_t cap, char **buf,
                      size_t *len)
{
    char path[4096];
    aw_errbuf e;
    snprintf(path, sizeof path, "%s/%s", v->o->dir, rel);
    if (aw_tlog_read_file(path, cap, buf, len, &e) != AW_OK)
        return fail(v, "%s: missing or unreadable (%s)", rel, e.msg);
    v->res->files++;
    return AW_OK;
}

/* Partial versions "<base>.p/<W>" present on disk, W ascending. */
static int list_partials(vctx *v, const char *base, unsigned *ws)
{
    char path[4096];
    int n = 0;
    snprintf(path, sizeof path, "%s/%s.p", v->o->dir, base);
    DIR *d = opendir(path);
    if (!d)
        return 0;
    struct dirent *de;
    while ((de = readdir(d)) && n < 256) {
        uint64_t w;
        if (de->d_name[0] == '.')
            continue; /* ".", "..", writer temp files */
        if (aw_tlog_parse_u64(de->d_name, strlen(de->d_name), &w) != 0 ||
            w < 1 || w > 255) {
            v->res->ignored++;
            continue;
        }
        ws[n++] = (unsigned)w;
    }
    closedir(d);
    return n;
}

/* Compare the hash tile (L, n) holding cnt known hashes, and every
 * partial version of it present. */
static aw_status check_tile(vctx *v, unsigned L, uint64_t n, unsigned cnt)
{
    char rel[256], base[256], *buf;
    size_t len;
    unsigned ws[256];
    const uint8_t *want = (const uint8_t *)v->acc[L];
    aw_tile_path(rel, sizeof rel, L, n, cnt == 256 ? 0 : cnt);
    aw_tile_path(base, sizeof base, L, n, 0);
    aw_status st = load(v, rel, 8192, &buf, &len);
    if (st != AW_OK)
        return st;
    if (len != cnt * (size_t)AW_TLOG_HASH) {
        free(buf);
        return fail(v, "%s: wrong length for a tile at this size", rel);
    }
    for (unsigned i = 0; i < cnt; i++)
        if (memcmp(buf + i * AW_TLOG_HASH, want + i * AW_TLOG_HASH,
                   AW_TLOG_HASH) != 0) {
            free(buf);
            if (L == 0)
                return fail(v, "%s: hash %u does not match entry %u of %s "
                               "(one of the two files was altered)",
                            rel, i, i, v->bundle);
            return fail(v, "%s: hash %u does not match the tiles of the "
                           "level below", rel, i);
        }
    free(buf);
    int np = list_partials(v, base, ws);
    for (int i = 0; i < np; i++) {
        if (ws[i] > cnt || (ws[i] == cnt && cnt != 256)) {
            if (ws[i] > cnt)
                v->res->ignored++;
            continue;
        }
        aw_tile_path(rel, sizeof rel, L, n, ws[i]);
        if ((st = load(v, rel, 8192, &buf, &len)) != AW_OK)
            return st;
        int bad = len != ws[i] * (size_t)AW_TLOG_HASH ||
                  memcmp(buf, want, len) != 0;
        free(buf);
        if (bad)
            return fail(v, "%s: partial tile differs from the tree", rel);
    }
    return AW_OK;
}

static aw_status push_up(vctx *v, unsigned L, uint64_t n)
{
    aw_status st;
    if (L == 7)
        return fail(v, "%s: tree too large", v->o->dir);
    aw_merkle_root_of(v->acc[L], 256, v->acc[L + 1][v->nacc[L + 1]++]);
    v->nacc[L] = 0;
    if (v->nacc[L + 1] == 256) {
        if ((st = check_tile(v, L + 1, n >> 8, 256)) != AW_OK)
            return st;
        return push_up(v, L + 1, n >> 8);
    }
    return AW_OK;
}

static aw_status check_roots(vctx *v)
{
    while (v->next < v->ncp && v->cps[v->next].size == v->range.size) {
        aw_hash r;
        aw_merkle_range_root(&v->range, r);
        if (sodium_memcmp(r, v->cps[v->next].root, AW_TLOG_HASH) != 0) {
            return fail(v, "%s: root does not match the tree recomputed from "
                           "the entry bundles at size %" PRIu64,
                        v->cps[v->next].label, v->range.size);
        }
        v->next++;
    }
    return AW_OK;
}

/* One entry bundle (n, cnt entries): hashes, tile 0, partial bundles. */
static aw_status check_bundle(vctx *v, uint64_t n, unsigned cnt)
{
    char rel[256], base[256], *buf;
    size_t len;
    aw_tlog_span sp[256];
    unsigned ws[256];
    aw_errbuf e;
    aw_tile_entries_path(rel, sizeof rel, n, cnt == 256 ? 0 : cnt);
    aw_tile_entries_path(base, sizeof base, n, 0);
    aw_status st = load(v, rel, AW_TLOG_BUNDLE_MAX, &buf, &len);
    if (st != AW_OK)
        return st;
    snprintf(v->bundle, sizeof v->bundle, "%s", rel);
    if (aw_tlog_bundle_split((uint8_t *)buf, len, cnt, sp, &e) != AW_OK) {
        free(buf);
        return fail(v, "%s: %s", rel, e.msg);
    }
    for (unsigned i = 0; i < cnt; i++)
        aw_merkle_leaf_hash(buf + sp[i].off, sp[i].len, v->acc[0][i]);
    v->res->bytes += len;
    v->nacc[0] = cnt;
    int np = list_partials(v, base, ws);
    for (int i = 0; i < np && st == AW_OK; i++) {
        char prel[256], *pb;
        size_t pl;
        if (ws[i] > cnt || (ws[i] == cnt && cnt != 256)) {
            if (ws[i] > cnt)
                v->res->ignored++;
            continue;
        }
        aw_tile_entries_path(prel, sizeof prel, n, ws[i]);
        if ((st = load(v, prel, AW_TLOG_BUNDLE_MAX, &pb, &pl)) != AW_OK)
            break;
        size_t want = sp[ws[i] - 1].off + sp[ws[i] - 1].len;
        if (pl != want || memcmp(pb, buf, pl) != 0)
            st = fail(v, "%s: partial bundle differs from %s", prel, rel);
        free(pb);
    }
    free(buf);
    if (st != AW_OK)
        return st;
    if ((st = check_tile(v, 0, n, cnt)) != AW_OK)
        return st;
    for (unsigned i = 0; i < cnt; i++) {
        aw_merkle_range_append(&v->range, v->acc[0][i]);
        if ((st = check_roots(v)) != AW_OK)
            return st;
    }
    if (cnt == 256)
        return push_up(v, 0, n);
    return AW_OK;
}

static int cmp_cp(const void *a, const void *b)
{
    const vcp *x = a, *y = b;
    return x->size < y->size ? -1 : x->size > y->size;
}

static aw_status open_cp(vctx *v, const char *path, const char *label,
                         const aw_tlog_policy *pol, char **note, size_t *nl)
{
    char *buf;
    size_t len;
    aw_errbuf e;
    aw_checkpoint cp;
    aw_status st = aw_tlog_read_file(path, AW_NOTE_MAX_LEN, &buf, &len, &e);
    if (st != AW_OK) {
        aw_errbuf_set(v->err, "%s", e.msg);
        return AW_EIO;
    }
    st = aw_tlog_checkpoint_open(buf, len, v->o->log_key, v->o->log_key->name,
                                 pol, &cp, &e);
    if (st != AW_OK) {
        free(buf);
        return fail(v, "%s: %s", label, e.msg);
    }
    vcp *c = &v->cps[v->ncp++];
    c->size = cp.size;
    memcpy(c->root, cp.root, AW_TLOG_HASH);
    snprintf(c->label, sizeof c->label, "%s", label);
    v->res->checkpoints++;
    if (pol) {
        aw_note *n = NULL;
        size_t nw;
        const aw_note_key *w = aw_tlog_policy_witness_keys(pol, &nw);
        if (aw_note_open(buf, len, w, nw, &n, &e) == AW_OK)
            for (size_t i = 0; i < n->nsigs; i++)
                v->res->cosigs += (unsigned)n->sigs[i].verified;
        aw_note_free(n);
    }
    if (note) {
        *note = buf;
        *nl = len;
    } else {
        free(buf);
    }
    return AW_OK;
}

aw_status aw_tlog_verify_dir(const aw_tlog_verify_opts *o,
                             aw_tlog_verify_result *res, aw_errbuf *err)
{
    char path[4096], *main_note = NULL;
    size_t main_len = 0;
    aw_status st;
    vctx *v = calloc(1, sizeof *v);
    memset(res, 0, sizeof *res);
    if (!v || !(v->cps = calloc(1024, sizeof *v->cps))) {
        free(v);
        aw_errbuf_set(err, "out of memory");
        return AW_ENOMEM;
    }
    if (sodium_init() < 0) {
        st = AW_ERR;
        goto done;
    }
    v->o = o;
    v->res = res;
    v->err = err;
    aw_merkle_range_init(&v->range);
    if (o->checkpoint_file)
        snprintf(path, sizeof path, "%s", o->checkpoint_file);
    else
        snprintf(path, sizeof path, "%s/checkpoint", o->dir);
    if ((st = open_cp(v, path, o->checkpoint_file ? o->checkpoint_file
                                                  : "checkpoint",
                      o->policy, &main_note, &main_len)) != AW_OK)
        goto done;
    uint64_t target = v->cps[0].size;
    /* saved history: <dir>/checkpoint.<anything> */
    DIR *d = opendir(o->dir);
    struct dirent *de;
    while (d && (de = readdir(d)) && v->ncp < 1000) {
        if (strncmp(de->d_name, "checkpoint.", 11) != 0)
            continue;
        snprintf(path, sizeof path, "%s/%s", o->dir, de->d_name);
        if ((st = open_cp(v, path, de->d_name, NULL, NULL, NULL)) != AW_OK) {
            closedir(d);
            goto done;
        }
        if (v->cps[v->ncp - 1].size > target) {
            st = fail(v, "%s: larger than the current checkpoint",
                      de->d_name);
            closedir(d);
            goto done;
        }
    }
    if (d)
        closedir(d);
    /* the previously trusted checkpoint */
    if (o->state_file) {
        FILE *f = fopen(o->state_file, "r");
        if (f) {
            fclose(f);
            if ((st = open_cp(v, o->state_file, o->state_file, NULL, NULL,
                              NULL)) != AW_OK)
                goto done;
            res->had_state = 1;
            res->trusted_size = v->cps[v->ncp - 1].size;
            if (res->trusted_size > target) {
                st = fail(v, "%s: the log went backwards (trusted size %"
                             PRIu64 " > checkpoint size %" PRIu64 ")",
                          o->state_file, res->trusted_size, target);
                goto done;
            }
        }
    }
    qsort(v->cps, v->ncp, sizeof *v->cps, cmp_cp);
    if ((st = check_roots(v)) != AW_OK) /* size 0 */
        goto done;
    for (uint64_t n = 0; n < target >> 8; n++)
        if ((st = check_bundle(v, n, 256)) != AW_OK)
            goto done;
    if (target & 255)
        if ((st = check_bundle(v, target >> 8, (unsigned)(target & 255))) != AW_OK)
            goto done;
    for (unsigned L = 1; L < 8; L++)
        if (v->nacc[L] && (st = check_tile(v, L, target >> (8 * (L + 1)),
                                           v->nacc[L])) != AW_OK)
            goto done;
    if (v->next != v->ncp) {
        st = fail(v, "%s: checkpoint was not reached", v->cps[v->next].label);
        goto done;
    }
    res->size = target;
    if (o->state_file) {
        aw_errbuf e;
        if (aw_tlog_write_atomic(o->state_file, main_note, main_len, 1, 1, &e) !=
            AW_OK) {
            aw_errbuf_set(err, "%s", e.msg);
            st = AW_EIO;
        }
    }
done:
    free(main_note);
    free(v->cps);
    free(v);
    return st;
}
