/* sha256_mb.c - queued SHA-256 (see sha256_mb.h). With libipsec-mb, a
 * job manager of its own per queue (managers are not thread-safe): the
 * SSE one where the CPU has SHA extensions (the library uses them only
 * there), else the widest the CPU runs. Any job the library does not
 * complete is hashed again through sha256.h, so a digest is never
 * wrong, only slower. */
#include <stdlib.h>
#include <string.h>

#include "util/sha256.h"
#include "util/sha256_mb.h"

#ifdef AW_HAVE_IPSEC_MB
#define NO_COMPAT_IMB_API_053   /* its old names clash with OpenSSL's SHA1() */
#include <intel-ipsec-mb.h>
#endif

/* Queued at most: a flush completes the lanes still partly filled, so
 * it must be rare (two lanes, or 16, against one lone job). */
#define MB_QUEUE 64

struct aw_sha256_mb {
    aw_sha256_done_fn fn;
    void *ud;
    const char *kind;
#ifdef AW_HAVE_IPSEC_MB
    IMB_MGR *mgr;
#endif
    size_t n;                       /* queued */
    size_t id[MB_QUEUE];
    const void *src[MB_QUEUE];
    size_t len[MB_QUEUE];
    uint8_t dig[MB_QUEUE][32];
};

aw_sha256_mb *aw_sha256_mb_new(aw_sha256_done_fn fn, void *ud)
{
    aw_sha256_mb *mb = calloc(1, sizeof *mb);
    if (!mb)
        return NULL;
    mb->fn = fn;
    mb->ud = ud;
    mb->kind = "one at a time";
#ifdef AW_HAVE_IPSEC_MB
    IMB_ARCH arch = IMB_ARCH_NONE;
    if (!(mb->mgr = alloc_mb_mgr(0))) {
        free(mb);
        return NULL;
    }
    if (imb_get_feature_flags() & IMB_FEATURE_SHANI) {
        init_mb_mgr_sse(mb->mgr);
        arch = IMB_ARCH_SSE;
    } else {
        init_mb_mgr_auto(mb->mgr, &arch);
    }
    if (imb_get_errno(mb->mgr) != 0 || arch < IMB_ARCH_SSE) {
        free_mb_mgr(mb->mgr);       /* hashed one at a time, then */
        mb->mgr = NULL;
    } else {
        mb->kind = arch == IMB_ARCH_SSE ? (imb_get_feature_flags() & IMB_FEATURE_SHANI ? "sha-ni x2" : "sse x4")
                 : arch == IMB_ARCH_AVX ? "avx x4"
                 : arch == IMB_ARCH_AVX2 ? "avx2 x8"
                 : "avx512 x16";
    }
#endif
    return mb;
}

void aw_sha256_mb_free(aw_sha256_mb *mb)
{
    if (!mb)
        return;
    aw_sha256_mb_flush(mb);
#ifdef AW_HAVE_IPSEC_MB
    free_mb_mgr(mb->mgr);
#endif
    free(mb);
}

const char *aw_sha256_mb_kind(const aw_sha256_mb *mb)
{
    return mb->kind;
}

#ifdef AW_HAVE_IPSEC_MB
/* A job the library handed back: hashed again here unless completed. */
static void mb_returned(aw_sha256_mb *mb, IMB_JOB *j)
{
    if (j->status != IMB_STATUS_COMPLETED) {
        size_t i = (size_t)(uintptr_t)j->user_data;
        aw_sha256(mb->src[i], mb->len[i], mb->dig[i]);
    }
}
#endif

void aw_sha256_mb_flush(aw_sha256_mb *mb)
{
#ifdef AW_HAVE_IPSEC_MB
    if (mb->mgr) {
        IMB_JOB *j;
        while ((j = IMB_GET_COMPLETED_JOB(mb->mgr)))
            mb_returned(mb, j);
        while ((j = IMB_FLUSH_JOB(mb->mgr)))
            mb_returned(mb, j);
    }
#endif
    size_t n = mb->n;
    mb->n = 0;
    for (size_t i = 0; i < n; i++)
        mb->fn(mb->ud, mb->id[i], mb->dig[i]);
}

void aw_sha256_mb_add(aw_sha256_mb *mb, const void *data, size_t len, size_t id)
{
#ifdef AW_HAVE_IPSEC_MB
    if (mb->mgr) {
        if (mb->n == MB_QUEUE)
            aw_sha256_mb_flush(mb);
        size_t i = mb->n++;
        mb->id[i] = id;
        mb->src[i] = data;
        mb->len[i] = len;
        IMB_JOB *j = IMB_GET_NEXT_JOB(mb->mgr);
        j->cipher_mode = IMB_CIPHER_NULL;
        j->cipher_direction = IMB_DIR_ENCRYPT;
        j->chain_order = IMB_ORDER_HASH_CIPHER;
        j->hash_alg = IMB_AUTH_SHA_256;
        j->src = data;
        j->hash_start_src_offset_in_bytes = 0;
        j->msg_len_to_hash_in_bytes = len;
        j->auth_tag_output = mb->dig[i];
        j->auth_tag_output_len_in_bytes = 32;
        j->user_data = (void *)(uintptr_t)i;
        j = IMB_SUBMIT_JOB(mb->mgr);
        while (j) {
            mb_returned(mb, j);
            j = IMB_GET_COMPLETED_JOB(mb->mgr);
        }
        return;
    }
#endif
    /* one at a time, in the order added: what is queued goes first */
    uint8_t d[32];
    aw_sha256_mb_flush(mb);
    aw_sha256(data, len, d);
    mb->fn(mb->ud, id, d);
}
