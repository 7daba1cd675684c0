/* note.c - C2SP signed notes: key text forms (vkey/skey), parsing with
 * the C2SP rejections, Ed25519 signing and verification, and timestamped
 * cosignature/v1 (type 0x04) lines. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "tlog/tlog_int.h"

static const char DASH[] = "\xe2\x80\x94 "; /* U+2014 and a space */

uint32_t aw_note_key_id(const char *name, uint8_t type, const uint8_t pub[32])
{
    crypto_hash_sha256_state st;
    uint8_t h[32], nl = '\n';
    crypto_hash_sha256_init(&st);
    crypto_hash_sha256_update(&st, (const uint8_t *)name, strlen(name));
    crypto_hash_sha256_update(&st, &nl, 1);
    crypto_hash_sha256_update(&st, &type, 1);
    crypto_hash_sha256_update(&st, pub, 32);
    crypto_hash_sha256_final(&st, h);
    return (uint32_t)h[0] << 24 | (uint32_t)h[1] << 16 | (uint32_t)h[2] << 8 |
           h[3];
}

/* Valid key name: non-empty, valid UTF-8 (checked by the note parser or
 * here as ASCII-or-multibyte), no whitespace, no '+'. */
static int valid_name(const char *s, size_t n)
{
    if (n == 0 || n > AW_NOTE_NAME_MAX)
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c <= 0x20 || c == 0x7f || c == '+')
            return 0;
        if (c == 0xc2 && i + 1 < n &&
            ((unsigned char)s[i + 1] == 0x85 || (unsigned char)s[i + 1] == 0xa0))
            return 0; /* NEL, NBSP */
        if (c == 0xe2 && i + 2 < n && (unsigned char)s[i + 1] == 0x80 &&
            ((unsigned char)s[i + 2] <= 0x8a || (unsigned char)s[i + 2] == 0xa8 ||
             (unsigned char)s[i + 2] == 0xa9 || (unsigned char)s[i + 2] == 0xaf))
            return 0; /* U+2000..200A, 2028, 2029, 202F */
        if (c == 0xe3 && i + 2 < n && (unsigned char)s[i + 1] == 0x80 &&
            (unsigned char)s[i + 2] == 0x80)
            return 0; /* U+3000 */
    }
    return 1;
}

static int parse_hex32(const char *s, size_t n, uint32_t *out)
{
    uint32_t v = 0;
    if (n != 8)
        return -1;
    for (size_t i = 0; i < 8; i++) {
        char c = s[i];
        unsigned d;
        if (c >= '0' && c <= '9')
            d = (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            d = (unsigned)(c - 'a' + 10);
        else
            return -1;
        v = v << 4 | d;
    }
    *out = v;
    return 0;
}

aw_status aw_note_key_parse(const char *vkey, size_t len, aw_note_key *out,
                            aw_errbuf *err)
{
    const char *p1 = memchr(vkey, '+', len), *p2;
    uint8_t raw[64];
    size_t rl;
    memset(out, 0, sizeof *out);
    if (!p1 || !(p2 = memchr(p1 + 1, '+', len - (size_t)(p1 + 1 - vkey))))
        goto bad;
    if (!valid_name(vkey, (size_t)(p1 - vkey)) ||
        parse_hex32(p1 + 1, (size_t)(p2 - p1 - 1), &out->id) != 0)
        goto bad;
    if (aw_tlog_b64dec(p2 + 1, len - (size_t)(p2 + 1 - vkey), raw, sizeof raw,
                       &rl) != 0 || rl != 33)
        goto bad;
    if (raw[0] != AW_NOTE_ED25519 && raw[0] != AW_NOTE_COSIG_V1)
        goto bad;
    memcpy(out->name, vkey, (size_t)(p1 - vkey));
    out->type = raw[0];
    memcpy(out->pub, raw + 1, 32);
    if (aw_note_key_id(out->name, out->type, out->pub) != out->id)
        goto bad;
    return AW_OK;
bad:
    aw_errbuf_set(err, "malformed verifier key");
    return AW_EPARSE;
}

aw_status aw_note_key_format(const aw_note_key *k, char *buf, size_t cap)
{
    uint8_t raw[33];
    char b64[64];
    raw[0] = k->type;
    memcpy(raw + 1, k->pub, 32);
    aw_tlog_b64enc(raw, 33, b64, sizeof b64);
    int n = snprintf(buf, cap, "%s+%08" PRIx32 "+%s", k->name, k->id, b64);
    return (n < 0 || (size_t)n >= cap) ? AW_ELIMIT : AW_OK;
}

aw_status aw_note_signer_from_seed(const char *name, uint8_t type,
                                   const uint8_t seed[32],
                                   aw_note_signer *out, aw_errbuf *err)
{
    memset(out, 0, sizeof *out);
    if (!valid_name(name, strlen(name)) ||
        (type != AW_NOTE_ED25519 && type != AW_NOTE_COSIG_V1)) {
        aw_errbuf_set(err, "invalid key name or type");
        return AW_EPARSE;
    }
    crypto_sign_seed_keypair(out->key.pub, out->sk, seed);
    snprintf(out->key.name, sizeof out->key.name, "%s", name);
    out->key.type = type;
    out->key.id = aw_note_key_id(name, type, out->key.pub);
    return AW_OK;
}

aw_status aw_note_signer_parse(const char *skey, size_t len,
                               aw_note_signer *out, aw_errbuf *err)
{
    static const char pre[] = "PRIVATE+KEY+";
    char name[AW_NOTE_NAME_MAX + 1];
    uint8_t raw[64];
    size_t rl;
    uint32_t id;
    while (len > 0 && (skey[len - 1] == '\n' || skey[len - 1] == '\r'))
        len--;
    if (len < sizeof pre || memcmp(skey, pre, sizeof pre - 1) != 0)
        goto bad;
    const char *s = skey + sizeof pre - 1, *end = skey + len;
    const char *p1 = memchr(s, '+', (size_t)(end - s)), *p2;
    if (!p1 || !(p2 = memchr(p1 + 1, '+', (size_t)(end - p1 - 1))))
        goto bad;
    if ((size_t)(p1 - s) > AW_NOTE_NAME_MAX ||
        parse_hex32(p1 + 1, (size_t)(p2 - p1 - 1), &id) != 0)
        goto bad;
    memcpy(name, s, (size_t)(p1 - s));
    name[p1 - s] = 0;
    if (aw_tlog_b64dec(p2 + 1, (size_t)(end - p2 - 1), raw, sizeof raw, &rl) !=
            0 || rl != 33)
        goto bad;
    if (aw_note_signer_from_seed(name, raw[0], raw + 1, out, err) != AW_OK)
        goto bad;
    sodium_memzero(raw, sizeof raw);
    if (out->key.id != id)
        goto bad;
    return AW_OK;
bad:
    sodium_memzero(raw, sizeof raw);
    aw_errbuf_set(err, "malformed signer key");
    return AW_EPARSE;
}

aw_status aw_note_keygen(const char *name, char *skey, size_t scap,
                         char *vkey, size_t vcap, aw_errbuf *err)
{
    uint8_t raw[33];
    char b64[64];
    aw_note_signer s;
    if (sodium_init() < 0) {
        aw_errbuf_set(err, "libsodium initialisation failed");
        return AW_ERR;
    }
    raw[0] = AW_NOTE_ED25519;
    randombytes_buf(raw + 1, 32);
    aw_status st = aw_note_signer_from_seed(name, AW_NOTE_ED25519, raw + 1, &s,
                                            err);
    if (st == AW_OK) {
        aw_tlog_b64enc(raw, 33, b64, sizeof b64);
        int n = snprintf(skey, scap, "PRIVATE+KEY+%s+%08" PRIx32 "+%s", name,
                         s.key.id, b64);
        if (n < 0 || (size_t)n >= scap ||
            aw_note_key_format(&s.key, vkey, vcap) != AW_OK) {
            aw_errbuf_set(err, "key buffer too small");
            st = AW_ELIMIT;
        }
    }
    sodium_memzero(raw, sizeof raw);
    sodium_memzero(&s, sizeof s);
    sodium_memzero(b64, sizeof b64);
    return st;
}

/* ---------------------------------------------------------------- parsing */

static int valid_utf8_text(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i];
        if (c < 0x80) {
            if ((c < 0x20 && c != '\n') || c == 0x7f)
                return 0;
            i++;
            continue;
        }
        size_t k;
        uint32_t cp;
        if (c >= 0xc2 && c <= 0xdf) { k = 1; cp = c & 0x1f; }
        else if (c >= 0xe0 && c <= 0xef) { k = 2; cp = c & 0x0f; }
        else if (c >= 0xf0 && c <= 0xf4) { k = 3; cp = c & 0x07; }
        else return 0;
        for (size_t j = 1; j <= k; j++) {
            if (i + j >= n || (s[i + j] & 0xc0) != 0x80)
                return 0;
            cp = cp << 6 | (s[i + j] & 0x3f);
        }
        if ((k == 2 && cp < 0x800) || (k == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
            (cp >= 0xd800 && cp <= 0xdfff))
            return 0;
        if (cp >= 0x80 && cp <= 0x9f) /* C1 controls */
            return 0;
        i += k + 1;
    }
    return 1;
}

void aw_note_free(aw_note *n)
{
    if (!n)
        return;
    free(n->msg);
    free(n->sigs);
    free(n);
}

static aw_status malformed(aw_note *n, aw_errbuf *err)
{
    aw_note_free(n);
    aw_errbuf_set(err, "malformed note");
    return AW_EPARSE;
}

aw_status aw_note_parse(const char *msg, size_t len, aw_note **out,
                        aw_errbuf *err)
{
    *out = NULL;
    if (sodium_init() < 0) {
        aw_errbuf_set(err, "libsodium initialisation failed");
        return AW_ERR;
    }
    if (len > AW_NOTE_MAX_LEN) {
        aw_errbuf_set(err, "note is larger than %u bytes", AW_NOTE_MAX_LEN);
        return AW_ELIMIT;
    }
    if (!valid_utf8_text((const unsigned char *)msg, len))
        return malformed(NULL, err);
    /* split at the last "\n\n" */
    size_t split = 0;
    int found = 0;
    for (size_t i = len; i-- > 1;)
        if (msg[i] == '\n' && msg[i - 1] == '\n') {
            split = i - 1;
            found = 1;
            break;
        }
    if (!found || len == 0 || msg[len - 1] != '\n' || split + 2 >= len)
        return malformed(NULL, err);
    /* count lines before doing work */
    size_t nl = 0;
    for (size_t i = split + 2; i < len; i++)
        if (msg[i] == '\n' && ++nl > AW_NOTE_MAX_SIGS)
            return malformed(NULL, err);
    aw_note *n = calloc(1, sizeof *n);
    if (!n || !(n->msg = malloc(len + 1)) ||
        !(n->sigs = calloc(nl, sizeof *n->sigs))) {
        aw_note_free(n);
        aw_errbuf_set(err, "out of memory");
        return AW_ENOMEM;
    }
    memcpy(n->msg, msg, len);
    n->msg[len] = 0;
    n->msg_len = len;
    n->text_len = split + 1;
    size_t pos = split + 2;
    while (pos < len) {
        const char *line = n->msg + pos;
        const char *eol = memchr(line, '\n', len - pos);
        size_t ll = (size_t)(eol - line);
        if (ll < 4 || memcmp(line, DASH, 4) != 0)
            return malformed(n, err);
        const char *nm = line + 4, *sp = memchr(nm, ' ', ll - 4);
        if (!sp || !valid_name(nm, (size_t)(sp - nm)))
            return malformed(n, err);
        uint8_t raw[128];
        size_t rl;
        if (aw_tlog_b64dec(sp + 1, (size_t)(eol - sp - 1), raw, sizeof raw,
                           &rl) != 0 || rl < 5)
            return malformed(n, err);
        /* drop identical duplicate lines */
        int dup = 0;
        for (size_t j = 0; j < n->nsigs; j++)
            if (n->sigs[j].line_len == ll &&
                memcmp(n->msg + n->sigs[j].line_off, line, ll) == 0)
                dup = 1;
        if (!dup) {
            aw_note_sig *s = &n->sigs[n->nsigs++];
            memcpy(s->name, nm, (size_t)(sp - nm));
            s->name[sp - nm] = 0;
            s->id = (uint32_t)raw[0] << 24 | (uint32_t)raw[1] << 16 |
                    (uint32_t)raw[2] << 8 | raw[3];
            s->key_index = -1;
            s->line_off = pos;
            s->line_len = ll;
        }
        pos += ll + 1;
    }
    *out = n;
    return AW_OK;
}

/* Signature payload of line s, without the key id. */
static size_t sig_payload(const aw_note *n, const aw_note_sig *s,
                          uint8_t *raw, size_t cap)
{
    const char *line = n->msg + s->line_off;
    const char *sp = memchr(line + 4, ' ', s->line_len - 4);
    size_t rl = 0;
    if (aw_tlog_b64dec(sp + 1, s->line_len - (size_t)(sp + 1 - line), raw, cap,
                       &rl) != 0)
        return 0;
    memmove(raw, raw + 4, rl - 4);
    return rl - 4;
}

static int cosig_verify(const aw_note_key *k, const char *text, size_t tl,
                        const uint8_t *p, size_t pl, uint64_t *ts)
{
    char hdr[64];
    uint64_t t = 0;
    if (pl != 8 + 64)
        return 0;
    for (int i = 0; i < 8; i++)
        t = t << 8 | p[i];
    int hl = snprintf(hdr, sizeof hdr, "cosignature/v1\ntime %" PRIu64 "\n", t);
    size_t ml = (size_t)hl + tl;
    uint8_t *m = malloc(ml);
    if (!m)
        return 0;
    memcpy(m, hdr, (size_t)hl);
    memcpy(m + hl, text, tl);
    int ok = crypto_sign_verify_detached(p + 8, m, ml, k->pub) == 0;
    free(m);
    *ts = t;
    return ok;
}

aw_status aw_note_verify(aw_note *n, const aw_note_key *keys, size_t nkeys,
                         aw_errbuf *err)
{
    size_t verified = 0;
    for (size_t i = 0; i < n->nsigs; i++) {
        aw_note_sig *s = &n->sigs[i];
        int match = -1, count = 0;
        for (size_t k = 0; k < nkeys; k++)
            if (keys[k].id == s->id && strcmp(keys[k].name, s->name) == 0) {
                if (match < 0)
                    match = (int)k;
                count++;
            }
        if (match < 0)
            continue;
        if (count > 1) {
            aw_errbuf_set(err, "ambiguous key %s+%08" PRIx32, s->name, s->id);
            return AW_ERR;
        }
        const aw_note_key *k = &keys[match];
        uint8_t raw[128];
        size_t pl = sig_payload(n, s, raw, sizeof raw);
        int ok;
        if (k->type == AW_NOTE_ED25519)
            ok = pl == 64 && crypto_sign_verify_detached(raw, (const uint8_t *)n->msg,
                                                         n->text_len, k->pub) == 0;
        else
            ok = cosig_verify(k, n->msg, n->text_len, raw, pl, &s->timestamp);
        if (!ok) {
            aw_errbuf_set(err, "invalid signature for key %s+%08" PRIx32,
                          s->name, s->id);
            return AW_ERR;
        }
        s->verified = 1;
        s->key_index = match;
        verified++;
    }
    if (verified == 0) {
        aw_errbuf_set(err, "note has no verifiable signatures");
        return AW_ERR;
    }
    return AW_OK;
}

aw_status aw_note_open(const char *msg, size_t len, const aw_note_key *keys,
                       size_t nkeys, aw_note **out, aw_errbuf *err)
{
    aw_status st = aw_note_parse(msg, len, out, err);
    if (st != AW_OK)
        return st;
    st = aw_note_verify(*out, keys, nkeys, err);
    if (st != AW_OK) {
        aw_note_free(*out);
        *out = NULL;
    }
    return st;
}

static aw_status sig_line(const aw_note_signer *s, const uint8_t *payload,
                          size_t pl, char *line, size_t cap, aw_errbuf *err)
{
    uint8_t raw[4 + 72];
    char b64[128];
    raw[0] = (uint8_t)(s->key.id >> 24);
    raw[1] = (uint8_t)(s->key.id >> 16);
    raw[2] = (uint8_t)(s->key.id >> 8);
    raw[3] = (uint8_t)s->key.id;
    memcpy(raw + 4, payload, pl);
    aw_tlog_b64enc(raw, 4 + pl, b64, sizeof b64);
    int n = snprintf(line, cap, "%s%s %s\n", DASH, s->key.name, b64);
    if (n < 0 || (size_t)n >= cap) {
        aw_errbuf_set(err, "signature line buffer too small");
        return AW_ELIMIT;
    }
    return AW_OK;
}

aw_status aw_note_sign(const aw_note_signer *s, const char *text, size_t len,
                       char **out, size_t *out_len, aw_errbuf *err)
{
    uint8_t sig[64];
    char line[512];
    if (len == 0 || text[len - 1] != '\n' || s->key.type != AW_NOTE_ED25519 ||
        !valid_utf8_text((const unsigned char *)text, len)) {
        aw_errbuf_set(err, "cannot sign: text must be non-empty, end in a "
                           "newline, and the key must be Ed25519");
        return AW_EPARSE;
    }
    crypto_sign_detached(sig, NULL, (const uint8_t *)text, len, s->sk);
    aw_status st = sig_line(s, sig, 64, line, sizeof line, err);
    if (st != AW_OK)
        return st;
    size_t ll = strlen(line);
    char *b = malloc(len + 1 + ll + 1);
    if (!b) {
        aw_errbuf_set(err, "out of memory");
        return AW_ENOMEM;
    }
    memcpy(b, text, len);
    b[len] = '\n';
    memcpy(b + len + 1, line, ll + 1);
    *out = b;
    *out_len = len + 1 + ll;
    return AW_OK;
}

aw_status aw_note_cosign(const aw_note_signer *s, const char *text,
                         size_t len, uint64_t timestamp, char *line,
                         size_t cap, aw_errbuf *err)
{
    char hdr[64];
    uint8_t payload[72];
    if (s->key.type != AW_NOTE_COSIG_V1) {
        aw_errbuf_set(err, "cosigner key must be of type 0x04");
        return AW_EPARSE;
    }
    int hl = snprintf(hdr, sizeof hdr, "cosignature/v1\ntime %" PRIu64 "\n",
                      timestamp);
    uint8_t *m = malloc((size_t)hl + len);
    if (!m) {
        aw_errbuf_set(err, "out of memory");
        return AW_ENOMEM;
    }
    memcpy(m, hdr, (size_t)hl);
    memcpy(m + hl, text, len);
    for (int i = 0; i < 8; i++)
        payload[i] = (uint8_t)(timestamp >> (56 - 8 * i));
    crypto_sign_detached(payload + 8, NULL, m, (size_t)hl + len, s->sk);
    free(m);
    return sig_line(s, payload, sizeof payload, line, cap, err);
}
