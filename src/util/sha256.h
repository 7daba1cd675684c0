/* sha256.h - SHA-256 for bulk hashing (evidence hashes, Merkle leaves
 * and nodes). OpenSSL's libcrypto uses the CPU's SHA extensions where
 * present (about 4.6x libsodium's portable code on 1.4 KB records here);
 * signatures and HMAC stay with libsodium. */
#ifndef AW_SHA256_H
#define AW_SHA256_H

#include <stddef.h>
#include <stdint.h>

typedef struct aw_sha256_ctx {
    _Alignas(16) unsigned char opaque[128];     /* SHA256_CTX */
} aw_sha256_ctx;

void aw_sha256(const void *data, size_t len, uint8_t out[32]);
void aw_sha256_init(aw_sha256_ctx *c);
void aw_sha256_update(aw_sha256_ctx *c, const void *data, size_t len);
void aw_sha256_final(aw_sha256_ctx *c, uint8_t out[32]);
/* Lower-case hex of the digest of data into out[65]. */
void aw_sha256_hex(const void *data, size_t len, char out[65]);
/* Lower-case hex of digest d into out[65]. */
void aw_sha256_hex_of(const uint8_t d[32], char out[65]);

#endif
