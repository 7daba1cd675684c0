/* merkle.c - RFC 6962 / RFC 9162 Merkle tree hashing: leaf and node
 * hashes, compact ranges, inclusion and consistency proofs (generation
 * from a perfect-subtree source, and verification). */
#include <sodium.h>
#include <string.h>

#include "aupwatch/aw_tlog.h"
#include "util/sha256.h"

void aw_merkle_leaf_hash(const void *data, size_t len, aw_hash out)
{
    aw_sha256_ctx st;
    static const uint8_t zero = 0;
    aw_sha256_init(&st);
    aw_sha256_update(&st, &zero, 1);
    aw_sha256_update(&st, data, len);
    aw_sha256_final(&st, out);
}

void aw_merkle_node_hash(const aw_hash left, const aw_hash right, aw_hash out)
{
    uint8_t buf[1 + 2 * AW_TLOG_HASH];
    buf[0] = 1;
    memcpy(buf + 1, left, AW_TLOG_HASH);
    memcpy(buf + 1 + AW_TLOG_HASH, right, AW_TLOG_HASH);
    aw_sha256(buf, sizeof buf, out);
}

void aw_merkle_empty_root(aw_hash out)
{
    aw_sha256("", 0, out);
}

void aw_merkle_range_init(aw_merkle_range *r)
{
    memset(r, 0, sizeof *r);
}

aw_status aw_merkle_range_append_node(aw_merkle_range *r, unsigned level,
                                      const aw_hash node)
{
    aw_hash h;
    if (level >= 64 || (r->size & ((UINT64_C(1) << level) - 1)) != 0)
        return AW_ERR;
    memcpy(h, node, AW_TLOG_HASH);
    uint64_t m = r->size >> level;
    while (m & 1) {
        aw_merkle_node_hash(r->h[--r->n], h, h);
        m >>= 1;
    }
    memcpy(r->h[r->n++], h, AW_TLOG_HASH);
    r->size += UINT64_C(1) << level;
    return AW_OK;
}

void aw_merkle_range_append(aw_merkle_range *r, const aw_hash leaf)
{
    (void)aw_merkle_range_append_node(r, 0, leaf);
}

void aw_merkle_range_root(const aw_merkle_range *r, aw_hash out)
{
    aw_hash acc;
    if (r->n == 0) {
        aw_merkle_empty_root(out);
        return;
    }
    memcpy(acc, r->h[r->n - 1], AW_TLOG_HASH);
    for (unsigned i = r->n - 1; i-- > 0;)
        aw_merkle_node_hash(r->h[i], acc, acc);
    memcpy(out, acc, AW_TLOG_HASH);
}

void aw_merkle_root_of(const aw_hash *leaves, uint64_t n, aw_hash out)
{
    aw_merkle_range r;
    aw_merkle_range_init(&r);
    for (uint64_t i = 0; i < n; i++)
        aw_merkle_range_append(&r, leaves[i]);
    aw_merkle_range_root(&r, out);
}

/* ----------------------------------------------------------- verification */

aw_status aw_merkle_verify_inclusion(uint64_t index, uint64_t size,
                                     const aw_hash leaf, const aw_hash *path,
                                     size_t n, const aw_hash root,
                                     aw_errbuf *err)
{
    aw_hash r;
    if (n > AW_TLOG_MAX_PROOF) {
        aw_errbuf_set(err, "inclusion proof has %zu hashes (max %d)", n,
                      AW_TLOG_MAX_PROOF);
        return AW_ELIMIT;
    }
    if (index >= size) {
        aw_errbuf_set(err, "index %llu is beyond tree size %llu",
                      (unsigned long long)index, (unsigned long long)size);
        return AW_ERR;
    }
    uint64_t fn = index, sn = size - 1;
    memcpy(r, leaf, AW_TLOG_HASH);
    for (size_t i = 0; i < n; i++) {
        if (sn == 0) {
            aw_errbuf_set(err, "inclusion proof is too long (%zu hashes)", n);
            return AW_ERR;
        }
        if ((fn & 1) || fn == sn) {
            aw_merkle_node_hash(path[i], r, r);
            if (!(fn & 1))
                while (!(fn & 1) && fn != 0) {
                    fn >>= 1;
                    sn >>= 1;
                }
        } else {
            aw_merkle_node_hash(r, path[i], r);
        }
        fn >>= 1;
        sn >>= 1;
    }
    if (sn != 0) {
        aw_errbuf_set(err, "inclusion proof is too short (%zu hashes)", n);
        return AW_ERR;
    }
    if (sodium_memcmp(r, root, AW_TLOG_HASH) != 0) {
        aw_errbuf_set(err, "inclusion proof does not lead to the root "
                           "(index %llu, size %llu)",
                      (unsigned long long)index, (unsigned long long)size);
        return AW_ERR;
    }
    return AW_OK;
}

aw_status aw_merkle_verify_consistency(uint64_t size1, uint64_t size2,
                                       const aw_hash root1,
                                       const aw_hash root2,
                                       const aw_hash *proof, size_t n,
                                       aw_errbuf *err)
{
    aw_hash fr, sr;
    if (n > AW_TLOG_MAX_PROOF) {
        aw_errbuf_set(err, "consistency proof has %zu hashes (max %d)", n,
                      AW_TLOG_MAX_PROOF);
        return AW_ELIMIT;
    }
    if (size2 < size1) {
        aw_errbuf_set(err, "size2 %llu < size1 %llu",
                      (unsigned long long)size2, (unsigned long long)size1);
        return AW_ERR;
    }
    if (size1 == 0) {
        /* checked before equal sizes: 0 -> 0 is refused too, as in
         * transparency-dev/merkle; callers use _from for bootstrap */
        aw_errbuf_set(err, "consistency proof from the empty tree is "
                           "meaningless");
        return AW_ERR;
    }
    if (size1 == size2) {
        if (n != 0) {
            aw_errbuf_set(err, "equal sizes but the proof is not empty");
            return AW_ERR;
        }
        if (sodium_memcmp(root1, root2, AW_TLOG_HASH) != 0) {
            aw_errbuf_set(err, "equal sizes %llu but different roots",
                          (unsigned long long)size1);
            return AW_ERR;
        }
        return AW_OK;
    }
    if (n == 0) {
        aw_errbuf_set(err, "empty consistency proof for %llu -> %llu",
                      (unsigned long long)size1, (unsigned long long)size2);
        return AW_ERR;
    }
    const uint8_t *seed;
    size_t i = 0;
    if ((size1 & (size1 - 1)) == 0) {
        seed = root1; /* first is a power of two: prepend root1 */
    } else {
        seed = proof[0];
        i = 1;
    }
    uint64_t fn = size1 - 1, sn = size2 - 1;
    while (fn & 1) {
        fn >>= 1;
        sn >>= 1;
    }
    memcpy(fr, seed, AW_TLOG_HASH);
    memcpy(sr, seed, AW_TLOG_HASH);
    for (; i < n; i++) {
        if (sn == 0) {
            aw_errbuf_set(err, "consistency proof is too long");
            return AW_ERR;
        }
        if ((fn & 1) || fn == sn) {
            aw_merkle_node_hash(proof[i], fr, fr);
            aw_merkle_node_hash(proof[i], sr, sr);
            if (!(fn & 1))
                while (!(fn & 1) && fn != 0) {
                    fn >>= 1;
                    sn >>= 1;
                }
        } else {
            aw_merkle_node_hash(sr, proof[i], sr);
        }
        fn >>= 1;
        sn >>= 1;
    }
    if (sn != 0) {
        aw_errbuf_set(err, "consistency proof is too short");
        return AW_ERR;
    }
    if (sodium_memcmp(fr, root1, AW_TLOG_HASH) != 0) {
        aw_errbuf_set(err, "consistency proof does not lead to the old root "
                           "(size %llu)", (unsigned long long)size1);
        return AW_ERR;
    }
    if (sodium_memcmp(sr, root2, AW_TLOG_HASH) != 0) {
        aw_errbuf_set(err, "consistency proof does not lead to the new root "
                           "(size %llu)", (unsigned long long)size2);
        return AW_ERR;
    }
    return AW_OK;
}

aw_status aw_merkle_verify_consistency_from(uint64_t size1, uint64_t size2,
                                            const aw_hash root1,
                                            const aw_hash root2,
                                            const aw_hash *proof, size_t n,
                                            aw_errbuf *err)
{
    if (size1 == 0 && size2 >= size1) {
        aw_hash empty;
        aw_merkle_empty_root(empty);
        if (n != 0) {
            aw_errbuf_set(err, "proof from size 0 must be empty");
            return AW_ERR;
        }
        if (sodium_memcmp(root1, empty, AW_TLOG_HASH) != 0) {
            aw_errbuf_set(err, "size 0 with a non-empty-tree root");
            return AW_ERR;
        }
        if (size2 == 0 && sodium_memcmp(root2, empty, AW_TLOG_HASH) != 0) {
            aw_errbuf_set(err, "size 0 with a non-empty-tree root");
            return AW_ERR;
        }
        return AW_OK;
    }
    return aw_merkle_verify_consistency(size1, size2, root1, root2, proof, n,
                                        err);
}

/* ------------------------------------------------------------- generation */

static uint64_t split_point(uint64_t n) /* largest power of two < n, n >= 2 */
{
    uint64_t k = 1;
    while (k << 1 < n)
        k <<= 1;
    return k;
}

static int is_perfect(uint64_t begin, uint64_t end, unsigned *level)
{
    uint64_t w = end - begin;
    if (w == 0 || (w & (w - 1)) != 0)
        return 0;
    unsigned l = (unsigned)__builtin_ctzll(w);
    if (begin & (w - 1))
        return 0;
    *level = l;
    return 1;
}

aw_status aw_merkle_range_hash(aw_merkle_node_fn fn, void *ud,
                               uint64_t begin, uint64_t end, aw_hash out,
                               aw_errbuf *err)
{
    unsigned level;
    if (end <= begin) {
        if (end == begin) {
            aw_merkle_empty_root(out);
            return AW_OK;
        }
        aw_errbuf_set(err, "bad range");
        return AW_ERR;
    }
    if (is_perfect(begin, end, &level))
        return fn(ud, level, begin >> level, out, err);
    /* Left part is perfect and aligned when begin is aligned to k. */
    uint64_t k = split_point(end - begin);
    aw_hash l, r;
    aw_status st = aw_merkle_range_hash(fn, ud, begin, begin + k, l, err);
    if (st == AW_OK)
        st = aw_merkle_range_hash(fn, ud, begin + k, end, r, err);
    if (st != AW_OK)
        return st;
    aw_merkle_node_hash(l, r, out);
    return AW_OK;
}

static aw_status path_rec(aw_merkle_node_fn fn, void *ud, uint64_t m,
                          uint64_t begin, uint64_t end, aw_hash *path,
                          size_t *n, aw_errbuf *err)
{
    if (end - begin <= 1)
        return AW_OK;
    uint64_t k = split_point(end - begin);
    aw_status st;
    if (m < k) {
        st = path_rec(fn, ud, m, begin, begin + k, path, n, err);
        if (st == AW_OK)
            st = aw_merkle_range_hash(fn, ud, begin + k, end, path[*n], err);
    } else {
        st = path_rec(fn, ud, m - k, begin + k, end, path, n, err);
        if (st == AW_OK)
            st = aw_merkle_range_hash(fn, ud, begin, begin + k, path[*n], err);
    }
    if (st == AW_OK)
        (*n)++;
    return st;
}

aw_status aw_merkle_prove_inclusion(aw_merkle_node_fn fn, void *ud,
                                    uint64_t index, uint64_t size,
                                    aw_hash *path, size_t *n, aw_errbuf *err)
{
    *n = 0;
    if (index >= size) {
        aw_errbuf_set(err, "index %llu is beyond tree size %llu",
                      (unsigned long long)index, (unsigned long long)size);
        return AW_ERR;
    }
    return path_rec(fn, ud, index, 0, size, path, n, err);
}

static aw_status subproof(aw_merkle_node_fn fn, void *ud, uint64_t m,
                          uint64_t begin, uint64_t end, int b, aw_hash *proof,
                          size_t *n, aw_errbuf *err)
{
    aw_status st;
    if (m == end - begin) {
        if (b)
            return AW_OK;
        st = aw_merkle_range_hash(fn, ud, begin, end, proof[*n], err);
        if (st == AW_OK)
            (*n)++;
        return st;
    }
    uint64_t k = split_point(end - begin);
    if (m <= k) {
        st = subproof(fn, ud, m, begin, begin + k, b, proof, n, err);
        if (st == AW_OK)
            st = aw_merkle_range_hash(fn, ud, begin + k, end, proof[*n], err);
    } else {
        st = subproof(fn, ud, m - k, begin + k, end, 0, proof, n, err);
        if (st == AW_OK)
            st = aw_merkle_range_hash(fn, ud, begin, begin + k, proof[*n], err);
    }
    if (st == AW_OK)
        (*n)++;
    return st;
}

aw_status aw_merkle_prove_consistency(aw_merkle_node_fn fn, void *ud,
                                      uint64_t size1, uint64_t size2,
                                      aw_hash *proof, size_t *n,
                                      aw_errbuf *err)
{
    *n = 0;
    if (size1 == 0 || size1 > size2) {
        aw_errbuf_set(err, "no consistency proof for %llu -> %llu",
                      (unsigned long long)size1, (unsigned long long)size2);
        return AW_ERR;
    }
    return subproof(fn, ud, size1, 0, size2, 1, proof, n, err);
}
