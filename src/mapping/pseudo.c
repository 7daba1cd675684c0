/* pseudo.c - keyed pseudonyms for personal identifiers.
 *
 * A source may declare rule fields or event paths under `pseudonymise:`
 * (caller IP, object key, principal). Matching always sees the original
 * value; what leaves the engine (alerts, stored records) goes through
 * aw_source_render, which replaces a declared field's value with
 * "hmac-sha256:" + the first 32 hex digits of HMAC-SHA256(key, value),
 * or with "redacted" when no key was configured. Equal values give equal
 * pseudonyms under one key (so correlation and grouping still work) and
 * unrelated ones under another.
 *
 * The key is absorbed once into an HMAC state (libsodium), which is
 * copied per pseudonym: no allocation, and the raw key is not kept. The
 * key is never printed, not even its length. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mapping/mapping_int.h"

#define KEY_MIN 16
#define KEY_MAX 4096
#define PSEUDO_PREFIX "hmac-sha256:"

aw_status aw_mapping_set_key(aw_mapping *m, const uint8_t *key, size_t len)
{
    if (!m || !key || len < KEY_MIN || len > KEY_MAX)
        return AW_ERR;
    crypto_auth_hmacsha256_init(&m->keyed, key, len);
    m->has_key = 1;
    return AW_OK;
}

aw_status aw_mapping_load_key(aw_mapping *m, const char *path, const char *env,
                              aw_errbuf *err)
{
    unsigned char buf[KEY_MAX + 2];
    size_t len = 0;
    aw_status rc;

    if (!m || (!path && !env)) {
        aw_errbuf_set(err, "pseudonymisation key: no file or variable given");
        return AW_ERR;
    }
    if (path) {
        FILE *f = fopen(path, "rb");
        if (!f) {
            aw_errbuf_set(err, "pseudonymisation key file %s: %s", path, strerror(errno));
            return AW_EIO;
        }
        len = fread(buf, 1, sizeof buf, f);
        if (ferror(f)) {
            fclose(f);
            sodium_memzero(buf, sizeof buf);
            aw_errbuf_set(err, "pseudonymisation key file %s: read error", path);
            return AW_EIO;
        }
        fclose(f);
    } else {
        const char *v = getenv(env);
        if (!v) {
            aw_errbuf_set(err, "pseudonymisation key: variable %s is not set", env);
            return AW_ERR;
        }
        len = strlen(v);
        if (len > sizeof buf)
            len = sizeof buf;
        memcpy(buf, v, len);
    }
    /* A key file usually ends with a newline: it is not part of the key. */
    if (len && buf[len - 1] == '\n')
        len--;
    if (len && buf[len - 1] == '\r')
        len--;
    if (len < KEY_MIN || len > KEY_MAX) {
        sodium_memzero(buf, sizeof buf);
        aw_errbuf_set(err, "pseudonymisation key from %s %s: must be %d to %d bytes",
                      path ? "file" : "variable", path ? path : env, KEY_MIN, KEY_MAX);
        return AW_ERR;
    }
    rc = aw_mapping_set_key(m, buf, len);
    sodium_memzero(buf, sizeof buf);
    if (rc != AW_OK)
        aw_errbuf_set(err, "pseudonymisation key: rejected");
    return rc;
}

size_t mp_pseudonym(const aw_mapping *m, const char *val, size_t vlen, char *out,
                    size_t cap)
{
    static const char hex[] = "0123456789abcdef";
    char text[sizeof PSEUDO_PREFIX + 32];
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    crypto_auth_hmacsha256_state st;
    size_t p = sizeof PSEUDO_PREFIX - 1;

    if (!m || !m->has_key)
        return mp_copy(out, cap, "redacted", 8);
    st = m->keyed;
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)val, vlen);
    crypto_auth_hmacsha256_final(&st, mac);
    sodium_memzero(&st, sizeof st);
    memcpy(text, PSEUDO_PREFIX, p);
    for (size_t i = 0; i < 16; i++) {
        text[p++] = hex[mac[i] >> 4];
        text[p++] = hex[mac[i] & 15];
    }
    return mp_copy(out, cap, text, p);
}

static int listed(const aw_source *s, const char *name)
{
    for (size_t i = 0; i < s->npseudo; i++)
        if (strcmp(s->pseudo[i], name) == 0)
            return 1;
    return 0;
}

int aw_source_is_pseudonymised(const aw_source *s, const char *field)
{
    const char *const *paths;
    size_t n;
    if (!s || !field || s->npseudo == 0)
        return 0;
    if (listed(s, field))
        return 1;
    n = aw_source_resolve(s, field, &paths);
    for (size_t i = 0; i < n; i++)
        if (listed(s, paths[i]))
            return 1;
    return 0;
}

size_t aw_source_render(const aw_source *s, const aw_mapping *m, const char *field,
                        const char *val, size_t vlen, char *out, size_t cap)
{
    return aw_source_render_as(s, m, s && aw_source_is_pseudonymised(s, field), val, vlen, out, cap);
}

size_t aw_source_render_as(const aw_source *s, const aw_mapping *m, int pseudonymised,
                           const char *val, size_t vlen, char *out, size_t cap)
{
    if (!val)
        vlen = 0;
    if (s && !m)
        m = s->owner;
    if (pseudonymised)
        return mp_pseudonym(m, val ? val : "", vlen, out, cap);
    return mp_copy(out, cap, val ? val : "", vlen);
}
