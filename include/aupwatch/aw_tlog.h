/* aw_tlog.h - the aupwatch decision log: a transparency log in the
 * formats the transparency ecosystem already verifies.
 *
 *   aw_merkle_*      RFC 6962 / RFC 9162 tree hashing, proofs
 *   aw_note_*        C2SP signed notes, Ed25519 keys, cosignatures
 *   aw_checkpoint_*  C2SP tlog-checkpoint bodies (strict)
 *   aw_tile_*        C2SP tlog-tiles paths
 *   aw_tlog_policy_* witness policy (k of n, C2SP tlog-policy subset)
 *   aw_tlog_proof_*  c2sp.org/tlog-proof@v1 offline proofs
 *   aw_tlog_record_* canonical JSON decision records
 *   aw_tlog_*        the log writer (tiles in a directory, crash safe)
 *   aw_tlog_verify_* the offline verifier for auditors
 *
 * Every fallible function returns an aw_status and, when given an
 * aw_errbuf, explains the failure there (naming the file if any). */
#ifndef AW_TLOG_H
#define AW_TLOG_H

#include <stdint.h>
#include <stddef.h>

#include "aupwatch/aw_common.h"

#define AW_TLOG_HASH 32            /* SHA-256 */
#define AW_TLOG_MAX_PROOF 64       /* hashes in any proof, checked first */
#define AW_TLOG_MAX_ENTRY 65535    /* tlog-tiles uint16 length prefix */
#define AW_TLOG_RECORD_MAX 4096    /* canonical decision record cap */
#define AW_NOTE_MAX_SIGS 100       /* signature lines (C2SP: >= 16) */
#define AW_NOTE_MAX_LEN (1u << 20) /* whole note, before any work */
#define AW_NOTE_NAME_MAX 255

typedef uint8_t aw_hash[AW_TLOG_HASH];

/* ---------------------------------------------------------------- Merkle */

void aw_merkle_leaf_hash(const void *data, size_t len, aw_hash out);
void aw_merkle_node_hash(const aw_hash left, const aw_hash right, aw_hash out);
void aw_merkle_empty_root(aw_hash out);
/* MTH over n >= 0 leaf hashes (n == 0 gives the empty root). */
void aw_merkle_root_of(const aw_hash *leaves, uint64_t n, aw_hash out);

/* Compact range [0, size): one hash per set bit of size, highest first. */
typedef struct aw_merkle_range {
    uint64_t size;
    unsigned n;
    aw_hash h[64];
} aw_merkle_range;

void aw_merkle_range_init(aw_merkle_range *r);
void aw_merkle_range_append(aw_merkle_range *r, const aw_hash leaf);
/* Append a perfect subtree of 2^level leaves; size must be aligned. */
aw_status aw_merkle_range_append_node(aw_merkle_range *r, unsigned level,
                                      const aw_hash node);
void aw_merkle_range_root(const aw_merkle_range *r, aw_hash out);

/* RFC 9162 2.1.3.2. Fails when index >= size, on a too short or too long
 * path, and on a root mismatch. n is capped at AW_TLOG_MAX_PROOF. */
aw_status aw_merkle_verify_inclusion(uint64_t index, uint64_t size,
                                     const aw_hash leaf, const aw_hash *path,
                                     size_t n, const aw_hash root,
                                     aw_errbuf *err);
/* RFC 9162 2.1.4.2 plus the edge cases: size1 > size2 fails; equal sizes
 * need an empty proof and equal roots; size1 == 0 fails (a proof from the
 * empty tree is meaningless; callers that bootstrap handle it, see
 * aw_merkle_verify_consistency_from). */
aw_status aw_merkle_verify_consistency(uint64_t size1, uint64_t size2,
                                       const aw_hash root1,
                                       const aw_hash root2,
                                       const aw_hash *proof, size_t n,
                                       aw_errbuf *err);
/* Same, but size1 == 0 is accepted iff the proof is empty and root1 is
 * the empty-tree root (monitor bootstrap, witness "old 0"). */
aw_status aw_merkle_verify_consistency_from(uint64_t size1, uint64_t size2,
                                            const aw_hash root1,
                                            const aw_hash root2,
                                            const aw_hash *proof, size_t n,
                                            aw_errbuf *err);

/* Source of the hash of the perfect subtree at tree level `level`, index
 * `index` (leaves [index << level, (index + 1) << level)). */
typedef aw_status (*aw_merkle_node_fn)(void *ud, unsigned level,
                                       uint64_t index, aw_hash out,
                                       aw_errbuf *err);

/* MTH(D[begin:end]) from perfect subtrees. */
aw_status aw_merkle_range_hash(aw_merkle_node_fn fn, void *ud,
                               uint64_t begin, uint64_t end, aw_hash out,
                               aw_errbuf *err);
/* PATH(index, D[size]); path must hold AW_TLOG_MAX_PROOF hashes. */
aw_status aw_merkle_prove_inclusion(aw_merkle_node_fn fn, void *ud,
                                    uint64_t index, uint64_t size,
                                    aw_hash *path, size_t *n, aw_errbuf *err);
/* PROOF(size1, D[size2]), 0 < size1 <= size2. */
aw_status aw_merkle_prove_consistency(aw_merkle_node_fn fn, void *ud,
                                      uint64_t size1, uint64_t size2,
                                      aw_hash *proof, size_t *n,
                                      aw_errbuf *err);

/* ---------------------------------------------------------- Signed notes */

#define AW_NOTE_ED25519 0x01
#define AW_NOTE_COSIG_V1 0x04

/* A verifier key ("vkey"): name+hexid+base64(type || pubkey). */
typedef struct aw_note_key {
    char name[AW_NOTE_NAME_MAX + 1];
    uint32_t id;
    uint8_t type; /* AW_NOTE_ED25519 or AW_NOTE_COSIG_V1 */
    uint8_t pub[32];
} aw_note_key;

/* A signing key ("skey", golang/mod convention, Ed25519 seed). */
typedef struct aw_note_signer {
    aw_note_key key;
    uint8_t sk[64]; /* libsodium secret key */
} aw_note_signer;

aw_status aw_note_key_parse(const char *vkey, size_t len, aw_note_key *out,
                            aw_errbuf *err);
aw_status aw_note_key_format(const aw_note_key *k, char *buf, size_t cap);
aw_status aw_note_signer_parse(const char *skey, size_t len,
                               aw_note_signer *out, aw_errbuf *err);
/* Fresh Ed25519 key for `name`: skey and vkey as text. */
aw_status aw_note_keygen(const char *name, char *skey, size_t scap,
                         char *vkey, size_t vcap, aw_errbuf *err);
/* Key from a fixed seed; type AW_NOTE_ED25519 or AW_NOTE_COSIG_V1. */
aw_status aw_note_signer_from_seed(const char *name, uint8_t type,
                                   const uint8_t seed[32],
                                   aw_note_signer *out, aw_errbuf *err);
uint32_t aw_note_key_id(const char *name, uint8_t type, const uint8_t pub[32]);

typedef struct aw_note_sig {
    char name[AW_NOTE_NAME_MAX + 1];
    uint32_t id;
    int verified;          /* matched a key and verified */
    int key_index;         /* index into the keys given, or -1 */
    uint64_t timestamp;    /* cosignature/v1 only */
    size_t line_off, line_len; /* the line inside the note */
} aw_note_sig;

typedef struct aw_note {
    char *msg;       /* copy of the whole note */
    size_t msg_len;
    size_t text_len; /* signed text = msg[0..text_len) */
    size_t nsigs;
    aw_note_sig *sigs;
} aw_note;

/* Parse a note: UTF-8, no control bytes except '\n', text then blank
 * line then 1..AW_NOTE_MAX_SIGS signature lines (else "malformed note").
 * Identical lines are kept once. */
aw_status aw_note_parse(const char *msg, size_t len, aw_note **out,
                        aw_errbuf *err);
/* Verify against keys: unknown signatures are ignored; a known one that
 * fails rejects the note ("invalid signature for key N+ID"); no verified
 * signature is "note has no verifiable signatures"; two given keys with
 * the same name and id that match a line are "ambiguous key N+ID". */
aw_status aw_note_verify(aw_note *note, const aw_note_key *keys, size_t nkeys,
                         aw_errbuf *err);
/* parse + verify */
aw_status aw_note_open(const char *msg, size_t len, const aw_note_key *keys,
                       size_t nkeys, aw_note **out, aw_errbuf *err);
void aw_note_free(aw_note *n);

/* Sign `text` (must end in '\n'); result is malloc'd text + signature. */
aw_status aw_note_sign(const aw_note_signer *s, const char *text, size_t len,
                       char **out, size_t *out_len, aw_errbuf *err);
/* One cosignature/v1 line ("— name base64\n") over a checkpoint text. */
aw_status aw_note_cosign(const aw_note_signer *s, const char *text,
                         size_t len, uint64_t timestamp, char *line,
                         size_t cap, aw_errbuf *err);

/* ------------------------------------------------------------ Checkpoint */

typedef struct aw_checkpoint {
    char origin[AW_NOTE_NAME_MAX + 1];
    uint64_t size;
    aw_hash root;
    unsigned n_ext; /* extension lines (accepted, not interpreted) */
} aw_checkpoint;

/* Strict C2SP parse of the note text. */
aw_status aw_checkpoint_parse(const char *text, size_t len, aw_checkpoint *out,
                              aw_errbuf *err);
/* Text without extensions; returns the length or 0 if cap is too small. */
size_t aw_checkpoint_format(const aw_checkpoint *c, char *buf, size_t cap);

/* ----------------------------------------------------------------- Tiles */

/* "tile/<L>/<N>[.p/<W>]"; width 0 = full. Returns length, 0 on error. */
size_t aw_tile_path(char *buf, size_t cap, unsigned level, uint64_t n,
                    unsigned width);
size_t aw_tile_entries_path(char *buf, size_t cap, uint64_t n, unsigned width);
/* Parse the level and index parts ("0", "x001/x234/067.p/89"). */
aw_status aw_tile_parse(const char *level, const char *index, unsigned *lvl,
                        uint64_t *n, unsigned *width);

/* ---------------------------------------------------------------- Policy */

typedef struct aw_tlog_policy aw_tlog_policy;

/* Text policy: `log <vkey>`, `witness <name> <vkey>`, `group <name>
 * <k|all|any> <member>...`, `quorum <name|none>`; '#' comments. */
aw_status aw_tlog_policy_parse(const char *text, size_t len,
                               aw_tlog_policy **out, aw_errbuf *err);
void aw_tlog_policy_free(aw_tlog_policy *p);
const aw_note_key *aw_tlog_policy_witness_keys(const aw_tlog_policy *p,
                                               size_t *n);
const aw_note_key *aw_tlog_policy_log_keys(const aw_tlog_policy *p, size_t *n);
/* Checks the quorum over a note verified with (log keys..., witness
 * keys...) in that order; nlog = number of log keys given first. */
aw_status aw_tlog_policy_check(const aw_tlog_policy *p, const aw_note *note,
                               size_t nlog, aw_errbuf *err);

/* ------------------------------------------- Checkpoint verification */

/* Open a checkpoint note: the log key must verify, the origin must equal
 * `origin` when non-NULL, cosignatures must satisfy `policy` if given. */
aw_status aw_tlog_checkpoint_open(const char *msg, size_t len,
                                  const aw_note_key *log_key,
                                  const char *origin,
                                  const aw_tlog_policy *policy,
                                  aw_checkpoint *out, aw_errbuf *err);

/* --------------------------------------------------------------- Witness */

/* The checks of a C2SP tlog-witness add-checkpoint request ("old N",
 * consistency proof lines, blank line, signed checkpoint) against the
 * witness's stored (size, root) for this log (0 and NULL when it has
 * none). Returns the HTTP status the spec prescribes: 200 accept (out is
 * filled), 400 malformed, 403 bad signature, 404 unknown origin, 409 old
 * size differs from the stored one, 422 bad consistency proof. */
int aw_tlog_witness_check(const char *req, size_t len,
                          const aw_note_key *log_key, uint64_t stored_size,
                          const aw_hash stored_root, aw_checkpoint *out,
                          aw_errbuf *err);

/* ------------------------------------------------------------ tlog-proof */

typedef struct aw_tlog_proof {
    uint64_t index;
    size_t npath;
    aw_hash path[AW_TLOG_MAX_PROOF];
    uint8_t *extra;   /* decoded, may be NULL */
    size_t extra_len;
    char *checkpoint; /* the signed note */
    size_t checkpoint_len;
} aw_tlog_proof;

aw_status aw_tlog_proof_parse(const char *buf, size_t len,
                              aw_tlog_proof **out, aw_errbuf *err);
void aw_tlog_proof_free(aw_tlog_proof *p);
/* Serialize; result is malloc'd. */
aw_status aw_tlog_proof_format(const aw_tlog_proof *p, char **out,
                               size_t *len, aw_errbuf *err);
/* Check the log signature, the witness policy (may be NULL) and the
 * inclusion of `entry` (or of `extra` when entry is NULL) against the
 * checkpoint's own size and root. */
aw_status aw_tlog_proof_verify(const aw_tlog_proof *p, const void *entry,
                               size_t entry_len, const aw_note_key *log_key,
                               const aw_tlog_policy *policy,
                               aw_checkpoint *cp, aw_errbuf *err);

/* ------------------------------------------------------ Decision records */

/* Canonicalize a decision record given as JSON: validates the schema
 * (see docs/tlog.md) and writes the canonical form (fixed key order, no
 * whitespace). out must hold AW_TLOG_RECORD_MAX bytes. */
aw_status aw_tlog_record_canon(const char *json, size_t len, char *out,
                               size_t *out_len, aw_errbuf *err);

/* ------------------------------------------------------------ The writer */

typedef struct aw_tlog aw_tlog;

typedef struct aw_tlog_opts {
    const char *origin;            /* checkpoint origin and key name */
    const char *key_file;          /* skey file path (stored in config) */
    uint64_t checkpoint_every;     /* entries between checkpoints, 0 = off */
    unsigned checkpoint_interval;  /* seconds between checkpoints, 0 = off */
    int no_fsync;                  /* tests/bench only: skip fsync */
} aw_tlog_opts;

/* Create an empty log in dir (created if missing) and publish the
 * size-0 checkpoint. The key file must exist. */
aw_status aw_tlog_init(const char *dir, const aw_tlog_opts *o, aw_errbuf *err);
/* Open for writing: takes the writer lock (flock, released by the kernel
 * if the process dies), recovers the state. */
aw_status aw_tlog_open(const char *dir, aw_tlog **out, aw_errbuf *err);
void aw_tlog_close(aw_tlog *t);
void aw_tlog_set_fsync(aw_tlog *t, int on);

/* Queue an entry (not durable yet); *index is its future index. */
aw_status aw_tlog_add(aw_tlog *t, const void *entry, size_t len,
                      uint64_t *index, aw_errbuf *err);
/* Integrate the queued batch durably (tiles, bundles, state); when this
 * returns AW_OK every queued entry is acknowledged. Then publishes a
 * checkpoint if the cadence says so. */
aw_status aw_tlog_sync(aw_tlog *t, aw_errbuf *err);
/* Sign and publish a checkpoint at the current size, after checking it
 * is consistent with the last one signed. */
aw_status aw_tlog_checkpoint(aw_tlog *t, aw_errbuf *err);
uint64_t aw_tlog_size(const aw_tlog *t);
uint64_t aw_tlog_published_size(const aw_tlog *t);
/* tlog-proof@v1 for entry `index` against the published checkpoint of
 * size `size` (0 = latest); the proof is verified before it is returned.
 * The entry is carried in `extra`. Result malloc'd. */
aw_status aw_tlog_prove(aw_tlog *t, uint64_t index, uint64_t size,
                        char **out, size_t *len, aw_errbuf *err);
/* Append witness cosignature lines to the published checkpoint; each
 * must verify as cosignature/v1 with one of keys. */
aw_status aw_tlog_add_cosignatures(aw_tlog *t, const char *lines, size_t len,
                                   const aw_note_key *keys, size_t nkeys,
                                   aw_errbuf *err);

/* ---------------------------------------------------------- The verifier */

typedef struct aw_tlog_verify_opts {
    const char *dir;              /* log directory (tiles layout) */
    const char *checkpoint_file;  /* default <dir>/checkpoint */
    const aw_note_key *log_key;
    const aw_tlog_policy *policy; /* may be NULL */
    const char *state_file;       /* trusted checkpoint, may be NULL */
} aw_tlog_verify_opts;

typedef struct aw_tlog_verify_result {
    uint64_t size;            /* verified tree size */
    uint64_t trusted_size;    /* size in the state file before, or 0 */
    int had_state;
    unsigned checkpoints;     /* checkpoints whose signature was checked */
    unsigned cosigs;          /* verified witness cosignatures */
    uint64_t files;           /* tiles and bundles checked */
    uint64_t bytes;           /* entry bytes hashed */
    unsigned ignored;         /* files beyond the verified size */
} aw_tlog_verify_result;

/* Full offline check. AW_ERR = verification failure (err names the file
 * and the reason); AW_EIO/AW_EPARSE = could not run. */
aw_status aw_tlog_verify_dir(const aw_tlog_verify_opts *o,
                             aw_tlog_verify_result *res, aw_errbuf *err);

#endif
