/* fuzz_tlog_proof.c - libFuzzer target: tlog-proof parsing and
 * verification, and the Merkle proof verifiers on decoded inputs. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "aupwatch/aw_tlog.h"

static const char LOG_VKEY[] =
    "example.com/log/testdata+33d7b496+AeHTu4Q3hEIMHNqc6fASMsq3rKNx280NI+oO5xCFkkSx";

static uint64_t rd64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static aw_note_key key;
    static int init;
    aw_errbuf e;
    if (!init) {
        aw_note_key_parse(LOG_VKEY, strlen(LOG_VKEY), &key, &e);
        init = 1;
    }
    aw_tlog_proof *p = NULL;
    if (aw_tlog_proof_parse((const char *)data, size, &p, &e) == AW_OK) {
        aw_tlog_proof_verify(p, "six", 3, &key, NULL, NULL, &e);
        aw_tlog_proof_verify(p, NULL, 0, &key, NULL, NULL, &e);
        char *out;
        size_t ol;
        if (aw_tlog_proof_format(p, &out, &ol, &e) == AW_OK)
            free(out);
        aw_tlog_proof_free(p);
    }
    /* the same bytes as a tlog-witness add-checkpoint request */
    aw_hash stored;
    memset(stored, 0, sizeof stored);
    aw_tlog_witness_check((const char *)data, size, &key, 8, stored, NULL, &e);
    aw_tlog_witness_check((const char *)data, size, &key, 0, NULL, NULL, &e);
    /* raw: size1 | size2 | root1 | root2 | hashes... */
    if (size >= 16 + 64) {
        uint64_t a = rd64(data), b = rd64(data + 8);
        const uint8_t *r1 = data + 16, *r2 = data + 48;
        size_t n = (size - 80) / 32;
        const aw_hash *h = (const aw_hash *)(data + 80);
        aw_hash *copy = malloc(n ? n * 32 : 1);
        if (copy) {
            memcpy(copy, h, n * 32);
            aw_merkle_verify_consistency(a, b, r1, r2, (const aw_hash *)copy, n, &e);
            aw_merkle_verify_consistency_from(a, b, r1, r2, (const aw_hash *)copy, n, &e);
            aw_merkle_verify_inclusion(a, b, r1, (const aw_hash *)copy, n, r2, &e);
            free(copy);
        }
    }
    return 0;
}
