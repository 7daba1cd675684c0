/* proof.c - c2sp.org/tlog-proof@v1: an entry's inclusion proof plus the
 * (cosigned) checkpoint it is bound to, checkable offline. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tlog/tlog_int.h"

static const char HDR[] = "c2sp.org/tlog-proof@v1\n";

void aw_tlog_proof_free(aw_tlog_proof *p)
{
    if (!p)
        return;
    free(p->extra);
    free(p->checkpoint);
    free(p);
}

static aw_status bad(aw_tlog_proof *p, aw_errbuf *err, const char *why)
{
    aw_tlog_proof_free(p);
    aw_errbuf_set(err, "tlog-proof: %s", why);
    return AW_EPARSE;
}

aw_status aw_tlog_proof_parse(const char *buf, size_t len,
                              aw_tlog_proof **out, aw_errbuf *err)
{
    *out = NULL;
    if (len > AW_NOTE_MAX_LEN + 64 * 1024) {
        aw_errbuf_set(err, "tlog-proof: larger than the limit");
        return AW_ELIMIT;
    }
    aw_tlog_proof *p = calloc(1, sizeof *p);
    if (!p) {
        aw_errbuf_set(err, "out of memory");
        return AW_ENOMEM;
    }
    if (len < sizeof HDR - 1 || memcmp(buf, HDR, sizeof HDR - 1) != 0)
        return bad(p, err, "missing c2sp.org/tlog-proof@v1 header");
    size_t pos = sizeof HDR - 1;
    const char *eol = memchr(buf + pos, '\n', len - pos);
    if (!eol)
        return bad(p, err, "truncated");
    if ((size_t)(eol - buf) - pos > 6 && memcmp(buf + pos, "extra ", 6) == 0) {
        size_t bl = (size_t)(eol - buf) - pos - 6;
        if (bl > 128 * 1024 || !(p->extra = malloc(bl)))
            return bad(p, err, "extra data too large");
        if (aw_tlog_b64dec(buf + pos + 6, bl, p->extra, bl, &p->extra_len) != 0)
            return bad(p, err, "extra is not canonical base64");
        pos = (size_t)(eol - buf) + 1;
        eol = pos < len ? memchr(buf + pos, '\n', len - pos) : NULL;
        if (!eol)
            return bad(p, err, "truncated");
    }
    if ((size_t)(eol - buf) - pos < 7 || memcmp(buf + pos, "index ", 6) != 0 ||
        aw_tlog_parse_u64(buf + pos + 6, (size_t)(eol - buf) - pos - 6,
                          &p->index) != 0)
        return bad(p, err, "bad index line");
    pos = (size_t)(eol - buf) + 1;
    for (;;) {
        eol = pos < len ? memchr(buf + pos, '\n', len - pos) : NULL;
        if (!eol)
            return bad(p, err, "missing blank line before the checkpoint");
        size_t ll = (size_t)(eol - buf) - pos;
        if (ll == 0)
            break;
        if (p->npath >= AW_TLOG_MAX_PROOF)
            return bad(p, err, "more than 64 proof hashes");
        uint8_t raw[48];
        size_t rl;
        if (aw_tlog_b64dec(buf + pos, ll, raw, sizeof raw, &rl) != 0 ||
            rl != AW_TLOG_HASH)
            return bad(p, err, "proof line is not a base64 32-byte hash");
        memcpy(p->path[p->npath++], raw, AW_TLOG_HASH);
        pos += ll + 1;
    }
    pos++;
    if (pos >= len)
        return bad(p, err, "missing checkpoint");
    p->checkpoint_len = len - pos;
    if (!(p->checkpoint = malloc(p->checkpoint_len + 1)))
        return bad(p, err, "out of memory");
    memcpy(p->checkpoint, buf + pos, p->checkpoint_len);
    p->checkpoint[p->checkpoint_len] = 0;
    *out = p;
    return AW_OK;
}

aw_status aw_tlog_proof_format(const aw_tlog_proof *p, char **out,
                               size_t *len, aw_errbuf *err)
{
    size_t cap = 64 + p->extra_len * 2 + 64 + p->npath * 46 + p->checkpoint_len;
    char *b = malloc(cap);
    if (!b) {
        aw_errbuf_set(err, "out of memory");
        return AW_ENOMEM;
    }
    size_t n = (size_t)snprintf(b, cap, "%s", HDR);
    if (p->extra) {
        n += (size_t)snprintf(b + n, cap - n, "extra ");
        n += aw_tlog_b64enc(p->extra, p->extra_len, b + n, cap - n);
        b[n++] = '\n';
    }
    n += (size_t)snprintf(b + n, cap - n, "index %" PRIu64 "\n", p->index);
    for (size_t i = 0; i < p->npath; i++) {
        n += aw_tlog_b64enc(p->path[i], AW_TLOG_HASH, b + n, cap - n);
        b[n++] = '\n';
    }
    b[n++] = '\n';
    memcpy(b + n, p->checkpoint, p->checkpoint_len);
    n += p->checkpoint_len;
    *out = b;
    *len = n;
    return AW_OK;
}

aw_status aw_tlog_proof_verify(const aw_tlog_proof *p, const void *entry,
                               size_t entry_len, const aw_note_key *log_key,
                               const aw_tlog_policy *policy,
                               aw_checkpoint *cp, aw_errbuf *err)
{
    aw_checkpoint local;
    aw_hash leaf;
    if (!cp)
        cp = &local;
    aw_status st = aw_tlog_checkpoint_open(p->checkpoint, p->checkpoint_len,
                                           log_key, log_key->name, policy, cp,
                                           err);
    if (st != AW_OK)
        return st;
    if (!entry) {
        if (!p->extra) {
            aw_errbuf_set(err, "tlog-proof: no entry given and no extra data");
            return AW_EPARSE;
        }
        entry = p->extra;
        entry_len = p->extra_len;
    }
    aw_merkle_leaf_hash(entry, entry_len, leaf);
    /* the size and root come from the signed checkpoint, never the proof */
    return aw_merkle_verify_inclusion(p->index, cp->size, leaf, p->path,
                                      p->npath, cp->root, err);
}
