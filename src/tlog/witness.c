/* witness.c - the checks a C2SP tlog-witness makes on an add-checkpoint
 * request (old size, consistency proof, signed checkpoint) against its
 * stored state, returning the HTTP status the spec prescribes. */
#include <string.h>

#include "tlog/tlog_int.h"

int aw_tlog_witness_check(const char *req, size_t len,
                          const aw_note_key *log_key, uint64_t stored_size,
                          const aw_hash stored_root, aw_checkpoint *out,
                          aw_errbuf *err)
{
    aw_hash proof[AW_TLOG_MAX_PROOF], empty;
    size_t n = 0, pos;
    uint64_t old;
    aw_checkpoint cp;
    if (len > AW_NOTE_MAX_LEN + 8192) {
        aw_errbuf_set(err, "request too large");
        return 400;
    }
    const char *eol = memchr(req, '\n', len);
    if (!eol || eol - req < 5 || memcmp(req, "old ", 4) != 0 ||
        aw_tlog_parse_u64(req + 4, (size_t)(eol - req) - 4, &old) != 0) {
        aw_errbuf_set(err, "malformed old line");
        return 400;
    }
    pos = (size_t)(eol - req) + 1;
    for (;;) {
        eol = pos < len ? memchr(req + pos, '\n', len - pos) : NULL;
        if (!eol) {
            aw_errbuf_set(err, "missing blank line");
            return 400;
        }
        size_t ll = (size_t)(eol - req) - pos;
        if (ll == 0)
            break;
        uint8_t raw[48];
        size_t rl;
        if (n >= 63 || aw_tlog_b64dec(req + pos, ll, raw, sizeof raw, &rl) != 0 ||
            rl != AW_TLOG_HASH) {
            aw_errbuf_set(err, "malformed consistency proof line");
            return 400;
        }
        memcpy(proof[n++], raw, AW_TLOG_HASH);
        pos += ll + 1;
    }
    pos++;
    aw_note *note = NULL;
    if (aw_note_parse(req + pos, len - pos, &note, err) != AW_OK)
        return 400;
    int st = 200;
    if (aw_checkpoint_parse(note->msg, note->text_len, &cp, err) != AW_OK)
        st = 400;
    else if (strcmp(cp.origin, log_key->name) != 0) {
        aw_errbuf_set(err, "unknown log origin %s", cp.origin);
        st = 404;
    } else if (aw_note_verify(note, log_key, 1, err) != AW_OK)
        st = 403;
    aw_note_free(note);
    if (st != 200)
        return st;
    if (old > cp.size) {
        aw_errbuf_set(err, "old size is larger than the checkpoint size");
        return 400;
    }
    if (old != stored_size) {
        aw_errbuf_set(err, "old size %llu differs from the stored size %llu",
                      (unsigned long long)old, (unsigned long long)stored_size);
        return 409;
    }
    aw_merkle_empty_root(empty);
    if (aw_merkle_verify_consistency_from(old, cp.size,
                                          stored_root ? stored_root : empty,
                                          cp.root, proof, n, err) != AW_OK)
        return 422;
    if (out)
        *out = cp;
    return 200;
}
