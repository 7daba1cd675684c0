/* store.c - the log writer's life cycle: init, open (lock, state, tiles
 * of the durable size, WAL replay), close. Batching and the WAL are in
 * append.c, checkpoints and proofs in publish.c.
 *
 * .aw-tlog/state names the size up to which every tile (and the partial
 * tiles of that size) is durable; it is replaced atomically only after
 * they are. Files beyond it may be missing or stale after a crash; they
 * are never published and are rewritten from the WAL. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <sodium.h>

#include "tlog/tlog_store.h"
#include "tlog/tlog_w.h"

static void path_of(const aw_tlog *t, char *buf, size_t cap, const char *rel)
{
    snprintf(buf, cap, "%s/%s", t->dir, rel);
}

static aw_status write_config(const char *dir, const aw_tlog_opts *o,
                              aw_errbuf *err)
{
    char path[4096], buf[8192];
    int n = snprintf(buf, sizeof buf,
                     "origin %s\nkey-file %s\ncheckpoint-every %" PRIu64
                     "\ncheckpoint-interval %u\n",
                     o->origin, o->key_file, o->checkpoint_every,
                     o->checkpoint_interval);
    if (n < 0 || (size_t)n >= sizeof buf) {
        aw_errbuf_set(err, "config too long");
        return AW_ELIMIT;
    }
    snprintf(path, sizeof path, "%s/" AW_TLOG_PRIV "/config", dir);
    return aw_tlog_write_atomic(path, buf, (size_t)n, 1, 1, err);
}

static aw_status read_config(aw_tlog *t, aw_errbuf *err)
{
    char path[4096], *buf;
    size_t len;
    path_of(t, path, sizeof path, AW_TLOG_PRIV "/config");
    aw_status st = aw_tlog_read_file(path, 65536, &buf, &len, err);
    if (st != AW_OK)
        return st;
    char *save = NULL;
    for (char *l = strtok_r(buf, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        char *sp = strchr(l, ' ');
        if (!sp)
            continue;
        *sp++ = 0;
        if (strcmp(l, "origin") == 0)
            snprintf(t->origin, sizeof t->origin, "%s", sp);
        else if (strcmp(l, "key-file") == 0)
            snprintf(t->key_file, sizeof t->key_file, "%s", sp);
        else if (strcmp(l, "checkpoint-every") == 0)
            t->every = strtoull(sp, NULL, 10);
        else if (strcmp(l, "checkpoint-interval") == 0)
            t->interval = (unsigned)strtoul(sp, NULL, 10);
    }
    free(buf);
    if (!t->origin[0]) {
        aw_errbuf_set(err, "%s: no origin", path);
        return AW_EPARSE;
    }
    return AW_OK;
}

aw_status aw_tlog_load_signer(const char *key_file, aw_note_signer *s,
                              aw_errbuf *err)
{
    char *buf;
    size_t len;
    aw_errbuf e2;
    aw_status st = aw_tlog_read_file(key_file, 4096, &buf, &len, err);
    if (st != AW_OK)
        return st;
    st = aw_note_signer_parse(buf, len, s, &e2);
    sodium_memzero(buf, len);
    free(buf);
    if (st != AW_OK)
        aw_errbuf_set(err, "%s: %s", key_file, e2.msg);
    return st;
}

aw_status aw_tlog_write_state(aw_tlog *t, aw_errbuf *err)
{
    char path[4096], b64[64], buf[256];
    aw_tlog_b64enc(t->root, AW_TLOG_HASH, b64, sizeof b64);
    int n = snprintf(buf, sizeof buf, "aw-tlog-state v1\nsize %" PRIu64
                     "\nroot %s\n", t->size, b64);
    path_of(t, path, sizeof path, AW_TLOG_PRIV "/state");
    return aw_tlog_write_atomic(path, buf, (size_t)n, t->fsync, 1, err);
}

static aw_status read_state(aw_tlog *t, uint64_t *size, aw_hash root,
                            aw_errbuf *err)
{
    char path[4096], *buf;
    size_t len, rl;
    path_of(t, path, sizeof path, AW_TLOG_PRIV "/state");
    aw_status st = aw_tlog_read_file(path, 4096, &buf, &len, err);
    if (st != AW_OK)
        return st;
    char *s = strstr(buf, "\nsize "), *r = strstr(buf, "\nroot ");
    char *se = s ? strchr(s + 6, '\n') : NULL, *re = r ? strchr(r + 6, '\n') : NULL;
    uint8_t raw[48];
    if (strncmp(buf, "aw-tlog-state v1\n", 17) != 0 || !se || !re ||
        aw_tlog_parse_u64(s + 6, (size_t)(se - s - 6), size) != 0 ||
        aw_tlog_b64dec(r + 6, (size_t)(re - r - 6), raw, sizeof raw, &rl) != 0 ||
        rl != AW_TLOG_HASH) {
        aw_errbuf_set(err, "%s: malformed state file", path);
        free(buf);
        return AW_EPARSE;
    }
    memcpy(root, raw, AW_TLOG_HASH);
    free(buf);
    return AW_OK;
}

/* Load the partial tiles and bundle of the current size into memory and
 * rebuild the compact range; check it against the state root. */
static aw_status recover(aw_tlog *t, const aw_hash want_root, aw_errbuf *err)
{
    char rel[256], path[4096], *buf;
    size_t len;
    aw_status st;
    aw_merkle_range_init(&t->range);
    for (int L = 7; L >= 0; L--) {
        uint64_t stored = t->size >> (8 * L);
        unsigned cnt = (unsigned)(stored & 255);
        t->lvl_n[L] = cnt;
        if (cnt == 0)
            continue;
        aw_tile_path(rel, sizeof rel, (unsigned)L, stored >> 8, cnt);
        path_of(t, path, sizeof path, rel);
        st = aw_tlog_read_file(path, 8192, &buf, &len, err);
        if (st != AW_OK)
            return st;
        if (len != cnt * (size_t)AW_TLOG_HASH) {
            aw_errbuf_set(err, "%s: wrong length %zu", path, len);
            free(buf);
            return AW_EPARSE;
        }
        memcpy(t->lvl[L], buf, len);
        free(buf);
        for (unsigned i = 0; i < cnt; i++)
            aw_merkle_range_append_node(&t->range, 8 * (unsigned)L, t->lvl[L][i]);
    }
    aw_hash root;
    aw_merkle_range_root(&t->range, root);
    if (sodium_memcmp(root, want_root, AW_TLOG_HASH) != 0) {
        aw_errbuf_set(err, "%s: state root does not match the tiles at size "
                           "%" PRIu64, t->dir, t->size);
        return AW_EPARSE;
    }
    memcpy(t->root, root, AW_TLOG_HASH);
    unsigned w = (unsigned)(t->size & 255);
    t->bundle_len = 0;
    t->bundle_n = w;
    if (w == 0)
        return AW_OK;
    aw_tile_entries_path(rel, sizeof rel, t->size >> 8, w);
    path_of(t, path, sizeof path, rel);
    st = aw_tlog_read_file(path, AW_TLOG_BUNDLE_MAX, &buf, &len, err);
    if (st != AW_OK)
        return st;
    aw_tlog_span sp[256];
    aw_errbuf e2;
    st = aw_tlog_bundle_split((uint8_t *)buf, len, w, sp, &e2);
    for (unsigned i = 0; st == AW_OK && i < w; i++) {
        aw_hash h;
        aw_merkle_leaf_hash(buf + sp[i].off, sp[i].len, h);
        if (memcmp(h, t->lvl[0][i], AW_TLOG_HASH) != 0) {
            aw_errbuf_set(&e2, "entry %u does not match tile 0", i);
            st = AW_EPARSE;
        }
    }
    if (st != AW_OK) {
        aw_errbuf_set(err, "%s: %s", path, e2.msg);
        free(buf);
        return st;
    }
    memcpy(t->bundle, buf, len);
    t->bundle_len = len;
    free(buf);
    return AW_OK;
}

/* The checkpoint in file `name` of the log's directory, verified. */
static aw_status read_checkpoint(aw_tlog *t, const char *name, aw_checkpoint *cp, aw_errbuf *err)
{
    char path[4096], *buf;
    size_t len;
    path_of(t, path, sizeof path, name);
    aw_status st = aw_tlog_read_file(path, AW_NOTE_MAX_LEN, &buf, &len, err);
    if (st != AW_OK)
        return st;
    st = aw_tlog_checkpoint_open(buf, len, &t->signer.key, t->origin, NULL, cp, err);
    free(buf);
    if (st != AW_OK) {
        char why[sizeof err->msg];
        snprintf(why, sizeof why, "%s", err->msg);
        aw_errbuf_set(err, "%s: %s", path, why);
    }
    return st;
}

static aw_status load_published(aw_tlog *t, aw_errbuf *err)
{
    aw_checkpoint cp;
    aw_status st;
    /* the last checkpoint signed (written before it is published) */
    if ((st = read_checkpoint(t, AW_TLOG_PRIV "/signed", &cp, err)) != AW_OK)
        return st;
    t->signed_size = cp.size;
    memcpy(t->signed_root, cp.root, AW_TLOG_HASH);
    if ((st = read_checkpoint(t, "checkpoint", &cp, err)) != AW_OK)
        return st;
    t->pub_size = cp.size;
    t->pub_time = time(NULL);
    return AW_OK;
}

static aw_tlog *alloc_log(const char *dir)
{
    aw_tlog *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->lockfd = -1;
    t->walfd = -1;
    t->fsync = 1;
    t->dir = strdup(dir);
    t->bundle = malloc(AW_TLOG_BUNDLE_MAX);
    for (int L = 0; L < 8; L++)
        t->lvl[L] = malloc(256 * sizeof(aw_hash));
    if (!t->dir || !t->bundle || !t->lvl[7]) {
        aw_tlog_close(t);
        return NULL;
    }
    return t;
}

void aw_tlog_close(aw_tlog *t)
{
    if (!t)
        return;
    if (t->walfd >= 0)
        close(t->walfd);
    if (t->lockfd >= 0)
        close(t->lockfd); /* releases the flock */
    free(t->walbuf);
    for (size_t i = 0; i < t->ndirty; i++)
        free(t->dirty[i]);
    free(t->dirty);
    sodium_memzero(&t->signer, sizeof t->signer);
    for (int L = 0; L < 8; L++)
        free(t->lvl[L]);
    free(t->bundle);
    free(t->pend);
    free(t->pend_off);
    free(t->cp_cache);
    aw_tile_reader_free(t->reader);
    free(t->dir);
    free(t);
}

static aw_status take_lock(aw_tlog *t, aw_errbuf *err)
{
    char path[4096];
    path_of(t, path, sizeof path, AW_TLOG_PRIV "/lock");
    t->lockfd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (t->lockfd < 0) {
        aw_errbuf_set(err, "%s: %s", path, strerror(errno));
        return AW_EIO;
    }
    if (flock(t->lockfd, LOCK_EX | LOCK_NB) != 0) {
        aw_errbuf_set(err, "%s: the log is locked by another writer", path);
        return AW_EIO;
    }
    return AW_OK;
}

static aw_status open_wal(aw_tlog *t, aw_errbuf *err)
{
    char path[4096];
    path_of(t, path, sizeof path, AW_TLOG_PRIV "/wal");
    t->durable = t->size;
    t->walfd = open(path, O_RDWR | O_APPEND | O_CLOEXEC);
    if (t->walfd < 0) {
        aw_errbuf_set(err, "%s: %s", path, strerror(errno));
        return AW_EIO;
    }
    return AW_OK;
}

aw_status aw_tlog_open(const char *dir, aw_tlog **out, aw_errbuf *err)
{
    aw_hash root;
    aw_status st;
    *out = NULL;
    if (sodium_init() < 0) {
        aw_errbuf_set(err, "libsodium initialisation failed");
        return AW_ERR;
    }
    aw_tlog *t = alloc_log(dir);
    if (!t) {
        aw_errbuf_set(err, "out of memory");
        return AW_ENOMEM;
    }
    if ((st = read_config(t, err)) != AW_OK ||
        (st = aw_tlog_load_signer(t->key_file, &t->signer, err)) != AW_OK ||
        (st = take_lock(t, err)) != AW_OK ||
        (st = read_state(t, &t->size, root, err)) != AW_OK ||
        (st = recover(t, root, err)) != AW_OK ||
        (st = open_wal(t, err)) != AW_OK ||
        (st = aw_tlog_wal_replay(t, err)) != AW_OK ||
        (st = load_published(t, err)) != AW_OK) {
        aw_tlog_close(t);
        return st;
    }
    *out = t;
    return AW_OK;
}

aw_status aw_tlog_init(const char *dir, const aw_tlog_opts *o, aw_errbuf *err)
{
    char path[4096];
    struct stat sb;
    aw_note_signer s;
    aw_status st;
    if (sodium_init() < 0) {
        aw_errbuf_set(err, "libsodium initialisation failed");
        return AW_ERR;
    }
    if ((st = aw_tlog_load_signer(o->key_file, &s, err)) != AW_OK)
        return st;
    sodium_memzero(&s.sk, sizeof s.sk);
    if (strcmp(s.key.name, o->origin) != 0) {
        aw_errbuf_set(err, "%s: key name \"%s\" differs from origin \"%s\"",
                      o->key_file, s.key.name, o->origin);
        return AW_EPARSE;
    }
    snprintf(path, sizeof path, "%s/" AW_TLOG_PRIV "/state", dir);
    if (stat(path, &sb) == 0) {
        aw_errbuf_set(err, "%s: log already initialised", dir);
        return AW_EIO;
    }
    if ((st = aw_tlog_mkdirs_for(path, err)) != AW_OK ||
        (st = write_config(dir, o, err)) != AW_OK)
        return st;
    aw_tlog *t = alloc_log(dir);
    if (!t) {
        aw_errbuf_set(err, "out of memory");
        return AW_ENOMEM;
    }
    t->fsync = !o->no_fsync;
    if ((st = read_config(t, err)) != AW_OK ||
        (st = aw_tlog_load_signer(t->key_file, &t->signer, err)) != AW_OK ||
        (st = take_lock(t, err)) != AW_OK) {
        aw_tlog_close(t);
        return st;
    }
    aw_merkle_range_init(&t->range);
    aw_merkle_empty_root(t->root);
    aw_merkle_empty_root(t->signed_root);
    st = aw_tlog_write_state(t, err);
    if (st == AW_OK) {
        snprintf(path, sizeof path, "%s/" AW_TLOG_PRIV "/wal", dir);
        st = aw_tlog_write_atomic(path, "", 0, t->fsync, 1, err);
    }
    if (st == AW_OK)
        st = aw_tlog_publish(t, err);
    aw_tlog_close(t);
    return st;
}

void aw_tlog_set_fsync(aw_tlog *t, int on)
{
    t->fsync = on;
}

uint64_t aw_tlog_size(const aw_tlog *t)
{
    return t->size;
}

uint64_t aw_tlog_published_size(const aw_tlog *t)
{
    return t->pub_size;
}
