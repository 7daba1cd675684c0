/* tlog_w.h - the writer's handle (internal to src/tlog). */
#ifndef AW_TLOG_W_H
#define AW_TLOG_W_H

#include <time.h>

#include "tlog/tlog_store.h"

struct aw_tlog {
    char *dir;
    int lockfd;
    int fsync;
    int broken; /* a batch failed half way: reopen to recover */
    char origin[AW_NOTE_NAME_MAX + 1];
    char key_file[4096];
    aw_note_signer signer;
    uint64_t every;
    unsigned interval;
    /* write-ahead log: acknowledged entries not yet in durable tiles */
    int walfd;
    uint64_t wal_bytes;
    uint8_t *walbuf;
    size_t walbuf_cap;
    uint64_t durable;     /* tiles (incl. partials) durable up to here */
    char **dirty;         /* full tiles written since, not yet fsync'd */
    size_t ndirty, dirty_cap;
    /* integrated tree (acknowledged) */
    uint64_t size;
    aw_hash root;
    aw_merkle_range range;
    aw_hash *lvl[8];      /* current partial tile at each level */
    unsigned lvl_n[8];
    uint8_t *bundle;      /* current partial entry bundle */
    size_t bundle_len;
    unsigned bundle_n;
    /* queued batch */
    uint8_t *pend;
    size_t pend_len, pend_cap;
    size_t *pend_off;
    size_t npend, pend_off_cap;
    /* checkpoints */
    uint64_t signed_size; /* last signed (the crash-surviving record) */
    aw_hash signed_root;
    uint64_t pub_size;
    time_t pub_time;
    /* last checkpoint note whose signature was verified by prove */
    char *cp_cache;
    size_t cp_cache_len;
    aw_checkpoint cp_cached;
    /* tile cache for proofs; tiles at or below the state size never
     * change, so it stays valid as the log grows */
    aw_tile_reader *reader;
};

#define AW_TLOG_WAL_MAX (64u << 20) /* flush tiles beyond this WAL size */

/* Make the tiles (and partial tiles) of the current size durable, record
 * it in the state file, empty the WAL. */
aw_status aw_tlog_flush(aw_tlog *t, aw_errbuf *err);
/* Replay the WAL after the durable size (open). */
aw_status aw_tlog_wal_replay(aw_tlog *t, aw_errbuf *err);

/* Replace .aw-tlog/state with (size, root) durably. */
aw_status aw_tlog_write_state(aw_tlog *t, aw_errbuf *err);

aw_status aw_tlog_load_signer(const char *key_file, aw_note_signer *s,
                              aw_errbuf *err);
/* Sign and publish the current size (consistency already checked). */
aw_status aw_tlog_publish(aw_tlog *t, aw_errbuf *err);

#endif
