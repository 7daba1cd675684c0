/* checkpoint.c - C2SP tlog-checkpoint bodies: strict parsing, formatting,
 * and opening a signed checkpoint against the log key and a witness
 * policy. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "tlog/tlog_int.h"

aw_status aw_checkpoint_parse(const char *text, size_t len, aw_checkpoint *out,
                              aw_errbuf *err)
{
    const char *line[3];
    size_t ll[3];
    size_t pos = 0;
    memset(out, 0, sizeof *out);
    if (len == 0 || text[len - 1] != '\n') {
        aw_errbuf_set(err, "checkpoint: note text must end in a newline");
        return AW_EPARSE;
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)text[i];
        if ((c < 0x20 && c != '\n') || c == 0x7f) {
            aw_errbuf_set(err, "checkpoint: control character at byte %zu", i);
            return AW_EPARSE;
        }
    }
    for (int i = 0; i < 3; i++) {
        if (pos >= len) {
            aw_errbuf_set(err, "checkpoint: fewer than three lines");
            return AW_EPARSE;
        }
        const char *eol = memchr(text + pos, '\n', len - pos);
        line[i] = text + pos;
        ll[i] = (size_t)(eol - line[i]);
        pos += ll[i] + 1;
    }
    if (ll[0] == 0) {
        aw_errbuf_set(err, "checkpoint: empty origin");
        return AW_EPARSE;
    }
    if (ll[0] > AW_NOTE_NAME_MAX) {
        aw_errbuf_set(err, "checkpoint: origin longer than %d bytes",
                      AW_NOTE_NAME_MAX);
        return AW_ELIMIT;
    }
    if (aw_tlog_parse_u64(line[1], ll[1], &out->size) != 0) {
        aw_errbuf_set(err, "checkpoint: tree size is not canonical decimal "
                           "fitting in 64 bits");
        return AW_EPARSE;
    }
    uint8_t raw[64];
    size_t rl;
    if (aw_tlog_b64dec(line[2], ll[2], raw, sizeof raw, &rl) != 0) {
        aw_errbuf_set(err, "checkpoint: root hash is not canonical base64");
        return AW_EPARSE;
    }
    if (rl != AW_TLOG_HASH) {
        aw_errbuf_set(err, "checkpoint: root hash is %zu bytes, want 32", rl);
        return AW_EPARSE;
    }
    while (pos < len) {
        const char *eol = memchr(text + pos, '\n', len - pos);
        if (eol == text + pos) {
            aw_errbuf_set(err, "checkpoint: empty extension line");
            return AW_EPARSE;
        }
        out->n_ext++;
        pos = (size_t)(eol - text) + 1;
    }
    memcpy(out->origin, line[0], ll[0]);
    out->origin[ll[0]] = 0;
    memcpy(out->root, raw, AW_TLOG_HASH);
    return AW_OK;
}

size_t aw_checkpoint_format(const aw_checkpoint *c, char *buf, size_t cap)
{
    char b64[64];
    aw_tlog_b64enc(c->root, AW_TLOG_HASH, b64, sizeof b64);
    int n = snprintf(buf, cap, "%s\n%" PRIu64 "\n%s\n", c->origin, c->size, b64);
    return (n < 0 || (size_t)n >= cap) ? 0 : (size_t)n;
}

aw_status aw_tlog_checkpoint_open(const char *msg, size_t len,
                                  const aw_note_key *log_key,
                                  const char *origin,
                                  const aw_tlog_policy *policy,
                                  aw_checkpoint *out, aw_errbuf *err)
{
    aw_note_key keys[1 + 64];
    size_t nk = 1, nw = 0;
    aw_note *n = NULL;
    keys[0] = *log_key;
    if (policy) {
        const aw_note_key *w = aw_tlog_policy_witness_keys(policy, &nw);
        if (nw > 64) {
            aw_errbuf_set(err, "policy has more than 64 witnesses");
            return AW_ELIMIT;
        }
        memcpy(keys + 1, w, nw * sizeof *w);
        nk += nw;
    }
    aw_status st = aw_note_open(msg, len, keys, nk, &n, err);
    if (st != AW_OK)
        return st == AW_ELIMIT ? st : (st == AW_EPARSE ? st : AW_ERR);
    int log_ok = 0;
    for (size_t i = 0; i < n->nsigs; i++)
        if (n->sigs[i].verified && n->sigs[i].key_index == 0)
            log_ok = 1;
    if (!log_ok) {
        aw_errbuf_set(err, "no valid signature by the log key %s",
                      log_key->name);
        aw_note_free(n);
        return AW_ERR;
    }
    st = aw_checkpoint_parse(n->msg, n->text_len, out, err);
    if (st == AW_OK && origin && strcmp(out->origin, origin) != 0) {
        aw_errbuf_set(err, "checkpoint origin \"%s\", expected \"%s\"",
                      out->origin, origin);
        st = AW_ERR;
    }
    if (st == AW_OK && policy)
        st = aw_tlog_policy_check(policy, n, 1, err);
    aw_note_free(n);
    return st;
}
