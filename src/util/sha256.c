/* sha256.c - SHA-256 through OpenSSL's libcrypto (see sha256.h). The
 * low-level SHA256_* calls are deprecated in OpenSSL 3 in favour of EVP,
 * whose per-call context costs more than hashing a 65-byte Merkle node;
 * they remain supported, so their deprecation warning is silenced here. */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>
#include <string.h>

#include "util/sha256.h"

_Static_assert(sizeof(SHA256_CTX) <= sizeof(aw_sha256_ctx), "aw_sha256_ctx too small");

/* Not SHA256(): in OpenSSL 3 the one-shot call fetches the algorithm
 * through EVP on every call, which costs more than hashing a record. */
void aw_sha256(const void *data, size_t len, uint8_t out[32])
{
    SHA256_CTX c;
    SHA256_Init(&c);
    SHA256_Update(&c, data, len);
    SHA256_Final(out, &c);
}

void aw_sha256_init(aw_sha256_ctx *c)
{
    SHA256_Init((SHA256_CTX *)c->opaque);
}

void aw_sha256_update(aw_sha256_ctx *c, const void *data, size_t len)
{
    SHA256_Update((SHA256_CTX *)c->opaque, data, len);
}

void aw_sha256_final(aw_sha256_ctx *c, uint8_t out[32])
{
    SHA256_Final(out, (SHA256_CTX *)c->opaque);
}

void aw_sha256_hex(const void *data, size_t len, char out[65])
{
    uint8_t d[32];
    aw_sha256(data, len, d);
    aw_sha256_hex_of(d, out);
}

void aw_sha256_hex_of(const uint8_t d[32], char out[65])
{
    static const char hex[] = "0123456789abcdef";
    for (int i = 0; i < 32; i++) {
        out[2 * i] = hex[d[i] >> 4];
        out[2 * i + 1] = hex[d[i] & 15];
    }
    out[64] = 0;
}
