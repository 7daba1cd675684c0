/* publish.c - signing checkpoints (only when consistent with the last
 * one signed), serving verified tlog-proofs, adding cosignatures. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sodium.h>

#include "tlog/tlog_w.h"

aw_status aw_tlog_publish(aw_tlog *t, aw_errbuf *err)
{
    aw_checkpoint cp;
    char text[512], path[4096], *note;
    size_t nl;
    memset(&cp, 0, sizeof cp);
    snprintf(cp.origin, sizeof cp.origin, "%s", t->origin);
    cp.size = t->size;
    memcpy(cp.root, t->root, AW_TLOG_HASH);
    size_t tl = aw_checkpoint_format(&cp, text, sizeof text);
    aw_status st = aw_note_sign(&t->signer, text, tl, &note, &nl, err);
    if (st != AW_OK)
        return st;
    /* 1. the record that survives a crash: last signed (size, root) */
    snprintf(path, sizeof path, "%s/" AW_TLOG_PRIV "/signed", t->dir);
    st = aw_tlog_write_atomic(path, note, nl, t->fsync, 1, err);
    if (st == AW_OK) {
        t->signed_size = t->size;
        memcpy(t->signed_root, t->root, AW_TLOG_HASH);
        /* 2. archive, so proofs can be bound to older checkpoints */
        snprintf(path, sizeof path, "%s/" AW_TLOG_PRIV "/cp/%" PRIu64, t->dir,
                 t->size);
        st = aw_tlog_write_atomic(path, note, nl, t->fsync, 1, err);
    }
    if (st == AW_OK) {
        /* 3. publish */
        snprintf(path, sizeof path, "%s/checkpoint", t->dir);
        st = aw_tlog_write_atomic(path, note, nl, t->fsync, 1, err);
    }
    free(note);
    if (st == AW_OK) {
        t->pub_size = t->size;
        t->pub_time = time(NULL);
    }
    return st;
}

aw_status aw_tlog_checkpoint(aw_tlog *t, aw_errbuf *err)
{
    aw_hash proof[AW_TLOG_MAX_PROOF];
    size_t n = 0;
    aw_errbuf e2;
    aw_status st;
    if (t->broken) {
        aw_errbuf_set(err, "%s: an earlier write failed; reopen the log", t->dir);
        return AW_EIO;
    }
    if (t->size == t->pub_size && t->size == t->signed_size)
        return AW_OK; /* nothing new */
    /* the tiles of the size to be signed must be durable first */
    if ((st = aw_tlog_flush(t, err)) != AW_OK) {
        t->broken = 1;
        return st;
    }
    /* Consistency with the last checkpoint signed, built from the tiles
     * on disk and verified, before any signature is made. */
    if (t->signed_size > t->size) {
        aw_errbuf_set(err, "%s: refusing to sign size %" PRIu64 " below the "
                           "last signed size %" PRIu64, t->dir, t->size,
                      t->signed_size);
        return AW_ERR;
    }
    if (t->signed_size > 0) {
        aw_tile_reader *r = aw_tile_reader_new(t->dir, t->size);
        if (!r) {
            aw_errbuf_set(err, "out of memory");
            return AW_ENOMEM;
        }
        st = AW_OK;
        if (t->signed_size < t->size)
            st = aw_merkle_prove_consistency(aw_tile_reader_node, r,
                                             t->signed_size, t->size, proof,
                                             &n, &e2);
        aw_tile_reader_free(r);
        if (st == AW_OK)
            st = aw_merkle_verify_consistency(t->signed_size, t->size,
                                              t->signed_root, t->root, proof,
                                              n, &e2);
        if (st != AW_OK) {
            aw_errbuf_set(err, "%s: refusing to sign size %" PRIu64 ": not "
                               "consistent with signed size %" PRIu64 ": %s",
                          t->dir, t->size, t->signed_size, e2.msg);
            return AW_ERR;
        }
    }
    return aw_tlog_publish(t, err);
}

static aw_status read_entry(const char *dir, uint64_t index, uint64_t size,
                            uint8_t **out, size_t *len, aw_errbuf *err)
{
    char rel[256], path[4096], *buf;
    size_t bl;
    uint64_t n = index >> 8;
    unsigned w = ((n + 1) << 8) <= size ? 0 : (unsigned)(size & 255);
    aw_tile_entries_path(rel, sizeof rel, n, w);
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    aw_status st = aw_tlog_read_file(path, AW_TLOG_BUNDLE_MAX, &buf, &bl, err);
    if (st != AW_OK)
        return st;
    aw_tlog_span sp[256];
    aw_errbuf e2;
    st = aw_tlog_bundle_split((uint8_t *)buf, bl, w ? w : 256, sp, &e2);
    if (st != AW_OK) {
        aw_errbuf_set(err, "%s: %s", path, e2.msg);
        free(buf);
        return st;
    }
    aw_tlog_span s = sp[index & 255];
    *out = malloc(s.len ? s.len : 1);
    if (!*out) {
        free(buf);
        aw_errbuf_set(err, "out of memory");
        return AW_ENOMEM;
    }
    memcpy(*out, buf + s.off, s.len);
    *len = s.len;
    free(buf);
    return AW_OK;
}

aw_status aw_tlog_prove(aw_tlog *t, uint64_t index, uint64_t size,
                        char **out, size_t *len, aw_errbuf *err)
{
    char path[4096];
    aw_tlog_proof p;
    aw_checkpoint cp;
    aw_status st;
    memset(&p, 0, sizeof p);
    if (size == 0 || size == t->pub_size)
        snprintf(path, sizeof path, "%s/checkpoint", t->dir);
    else
        snprintf(path, sizeof path, "%s/" AW_TLOG_PRIV "/cp/%" PRIu64, t->dir,
                 size);
    if ((st = aw_tlog_read_file(path, AW_NOTE_MAX_LEN, &p.checkpoint,
                                &p.checkpoint_len, err)) != AW_OK) {
        if (size)
            aw_errbuf_set(err, "no checkpoint of size %" PRIu64 " was "
                               "published", size);
        return st;
    }
    if (t->cp_cache && t->cp_cache_len == p.checkpoint_len &&
        memcmp(t->cp_cache, p.checkpoint, p.checkpoint_len) == 0) {
        cp = t->cp_cached; /* same bytes, signature already verified */
    } else {
        st = aw_tlog_checkpoint_open(p.checkpoint, p.checkpoint_len,
                                     &t->signer.key, t->origin, NULL, &cp, err);
        char *c = st == AW_OK ? malloc(p.checkpoint_len) : NULL;
        if (c) {
            free(t->cp_cache);
            memcpy(c, p.checkpoint, p.checkpoint_len);
            t->cp_cache = c;
            t->cp_cache_len = p.checkpoint_len;
            t->cp_cached = cp;
        }
    }
    if (st == AW_OK && index >= cp.size) {
        aw_errbuf_set(err, "index %" PRIu64 " is not covered by the checkpoint "
                           "of size %" PRIu64, index, cp.size);
        st = AW_ERR;
    }
    if (st == AW_OK && !t->reader &&
        !(t->reader = aw_tile_reader_new(t->dir, cp.size))) {
        aw_errbuf_set(err, "out of memory");
        st = AW_ENOMEM;
    }
    p.index = index;
    if (st == AW_OK) {
        aw_tile_reader_set_size(t->reader, cp.size);
        st = aw_merkle_prove_inclusion(aw_tile_reader_node, t->reader, index,
                                       cp.size, p.path, &p.npath, err);
    }
    if (st == AW_OK)
        st = read_entry(t->dir, index, cp.size, &p.extra, &p.extra_len, err);
    /* never serve a proof that does not verify: the entry's leaf hash
     * must lead to the root of the (verified) checkpoint at its size */
    if (st == AW_OK) {
        aw_hash leaf;
        aw_merkle_leaf_hash(p.extra, p.extra_len, leaf);
        st = aw_merkle_verify_inclusion(index, cp.size, leaf, p.path, p.npath,
                                        cp.root, err);
    }
    if (st == AW_OK)
        st = aw_tlog_proof_format(&p, out, len, err);
    free(p.extra);
    free(p.checkpoint);
    return st;
}

aw_status aw_tlog_add_cosignatures(aw_tlog *t, const char *lines, size_t len,
                                   const aw_note_key *keys, size_t nkeys,
                                   aw_errbuf *err)
{
    char path[4096], *cur;
    size_t cl;
    aw_note *n = NULL;
    aw_note_key all[65];
    if (nkeys > 64) {
        aw_errbuf_set(err, "too many witness keys");
        return AW_ELIMIT;
    }
    snprintf(path, sizeof path, "%s/checkpoint", t->dir);
    aw_status st = aw_tlog_read_file(path, AW_NOTE_MAX_LEN, &cur, &cl, err);
    if (st != AW_OK)
        return st;
    char *merged = malloc(cl + len + 1);
    if (!merged) {
        free(cur);
        aw_errbuf_set(err, "out of memory");
        return AW_ENOMEM;
    }
    memcpy(merged, cur, cl);
    memcpy(merged + cl, lines, len);
    all[0] = t->signer.key;
    memcpy(all + 1, keys, nkeys * sizeof *keys);
    st = aw_note_open(merged, cl + len, all, nkeys + 1, &n, err);
    if (st == AW_OK) {
        /* every added line must be a verified cosignature */
        for (size_t i = 0; i < n->nsigs; i++)
            if (n->sigs[i].line_off >= cl &&
                (!n->sigs[i].verified || n->sigs[i].key_index == 0)) {
                aw_errbuf_set(err, "cosignature by %s does not verify with "
                                   "the given witness keys", n->sigs[i].name);
                st = AW_ERR;
            }
    }
    if (st == AW_OK) {
        st = aw_tlog_write_atomic(path, n->msg, n->msg_len, t->fsync, 1, err);
        snprintf(path, sizeof path, "%s/" AW_TLOG_PRIV "/cp/%" PRIu64, t->dir,
                 t->pub_size);
        if (st == AW_OK)
            st = aw_tlog_write_atomic(path, n->msg, n->msg_len, t->fsync, 1,
                                      err);
    }
    aw_note_free(n);
    free(merged);
    free(cur);
    return st;
}
