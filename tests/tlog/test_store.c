/* test_store.c - the writer and the verifier end to end: the tessera
 * tiles log read as is, our own log grown in batches with proofs at
 * every published size, refusal to sign an inconsistent checkpoint,
 * tamper detection on every file, and kill -9 crash safety. */
#include <dirent.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tlog_test.h"

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wformat-truncation" /* test paths */
#endif

/* ----------------------------------------------------------- helpers */

static char *new_key(const char *dir, const char *name, aw_note_key *vk)
{
    char sk[400], vkt[400], *path = malloc(4200);
    aw_errbuf e;
    assert_int_equal(aw_note_keygen(name, sk, sizeof sk, vkt, sizeof vkt, &e), AW_OK);
    snprintf(path, 4200, "%s/log.key", dir);
    strcat(sk, "\n");
    assert_int_equal(tt_write(path, sk, strlen(sk)), 0);
    if (vk)
        assert_int_equal(aw_note_key_parse(vkt, strlen(vkt), vk, &e), AW_OK);
    return path;
}

/* A new log, dir/log (its path into logd), under `origin`, its key
 * written beside it (*vk: the verifier key). Returns the key file's
 * path, to free. */
static char *init_log(const char *dir, const char *origin, int no_fsync, char *logd, size_t cap,
                      aw_note_key *vk)
{
    aw_errbuf e;
    char *kf = new_key(dir, origin, vk);
    snprintf(logd, cap, "%s/log", dir);
    aw_tlog_opts opts = {origin, kf, 0, 0, no_fsync};
    if (aw_tlog_init(logd, &opts, &e) != AW_OK)
        fail_msg("init %s: %s", logd, e.msg);
    return kf;
}

static size_t entry_for(uint64_t i, char *buf)
{
    size_t n = (size_t)snprintf(buf, 64, "e%llu:", (unsigned long long)i);
    size_t want = 16 + (size_t)(i * 7 % 200);
    while (n < want) {
        buf[n] = (char)('a' + (i + n) % 26);
        n++;
    }
    return n;
}

/* Every file below dir except the private state, relative paths. */
static size_t list_files(const char *root, const char *rel, char (*out)[256],
                         size_t max)
{
    char path[4096];
    size_t n = 0;
    snprintf(path, sizeof path, "%s/%s", root, rel);
    DIR *d = opendir(path);
    struct dirent *de;
    while (d && (de = readdir(d)) && n < max) {
        char sub[256];
        struct stat sb;
        if (de->d_name[0] == '.')
            continue;
        snprintf(sub, sizeof sub, "%s%s%s", rel, *rel ? "/" : "", de->d_name);
        snprintf(path, sizeof path, "%s/%s", root, sub);
        if (stat(path, &sb) != 0)
            continue;
        if (S_ISDIR(sb.st_mode))
            n += list_files(root, sub, out + n, max - n);
        else
            snprintf(out[n++], 256, "%s", sub);
    }
    if (d)
        closedir(d);
    return n;
}

static int flip(const char *path, size_t off)
{
    FILE *f = fopen(path, "r+b");
    if (!f)
        return -1;
    fseek(f, (long)off, SEEK_SET);
    int c = fgetc(f);
    fseek(f, (long)off, SEEK_SET);
    fputc(c ^ 0x20, f);
    fclose(f);
    return 0;
}

static long fsize(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 ? (long)sb.st_size : -1;
}

/* Flip bytes of every published file: verify must fail naming it. */
static void tamper_all(const char *dir, const aw_note_key *k, int every_byte)
{
    static char files[4096][256];
    size_t nf = list_files(dir, "", files, 4096);
    unsigned checked = 0;
    assert_true(nf > 0);
    for (size_t i = 0; i < nf; i++) {
        char path[4400];
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        long sz = fsize(path);
        long step = every_byte ? 1 : (sz / 9 > 1 ? sz / 9 : 1);
        for (long off = 0; off < sz; off += step) {
            aw_tlog_verify_opts o = {dir, NULL, k, NULL, NULL};
            aw_tlog_verify_result r;
            aw_errbuf e;
            assert_int_equal(flip(path, (size_t)off), 0);
            aw_status st = aw_tlog_verify_dir(&o, &r, &e);
            assert_int_equal(flip(path, (size_t)off), 0);
            if (st == AW_OK)
                fail_msg("tampering %s at byte %ld not detected", files[i], off);
            if (!strstr(e.msg, files[i]))
                fail_msg("tampering %s: message does not name it: %s",
                         files[i], e.msg);
            checked++;
        }
    }
    aw_tlog_verify_opts o = {dir, NULL, k, NULL, NULL};
    aw_tlog_verify_result r;
    aw_errbuf e;
    assert_int_equal(aw_tlog_verify_dir(&o, &r, &e), AW_OK);
    assert_true(checked > nf);
}

/* --------------------------------------------------------- the tests */

static char *write_tessera(const aw_tj *v, aw_note_key *k)
{
    char *dir = tt_tmpdir(), path[4400];
    aw_errbuf e;
    const char *vk = tt_str(v, "log_vkey");
    assert_int_equal(aw_note_key_parse(vk, strlen(vk), k, &e), AW_OK);
    const char *groups[] = {"tiles_hex", "entry_bundles_hex"};
    for (int g = 0; g < 2; g++) {
        const aw_tj *m = aw_tj_get(v, groups[g]);
        for (size_t i = 0; i < m->n; i++) {
            uint8_t buf[8192];
            size_t n = tt_hex(m->v[i]->s, buf, sizeof buf);
            snprintf(path, sizeof path, "%s/%s", dir, m->k[i]);
            assert_int_equal(tt_write(path, buf, n), 0);
        }
    }
    const char *cp = tt_str(v, "checkpoint_latest");
    snprintf(path, sizeof path, "%s/checkpoint", dir);
    assert_int_equal(tt_write(path, cp, strlen(cp)), 0);
    const aw_tj *cps = aw_tj_get(v, "checkpoints");
    for (size_t i = 0; i < cps->n; i++) {
        const char *note = tt_str(cps->v[i], "checkpoint");
        snprintf(path, sizeof path, "%s/%s", dir, tt_str(cps->v[i], "file"));
        assert_int_equal(tt_write(path, note, strlen(note)), 0);
    }
    return dir;
}

static void test_tessera_log(void **state)
{
    TT_VEC(v, "tessera_testlog.json");
    aw_note_key k;
    aw_errbuf e;
    aw_tlog_verify_result r;
    char *dir = write_tessera(v, &k), sf[4400];
    snprintf(sf, sizeof sf, "%s.state", dir);
    aw_tlog_verify_opts o = {dir, NULL, &k, NULL, sf};
    if (aw_tlog_verify_dir(&o, &r, &e) != AW_OK)
        fail_msg("tessera log: %s", e.msg);
    assert_int_equal(r.size, 15);
    assert_int_equal(r.checkpoints, 17);
    assert_int_equal(r.had_state, 0);
    assert_int_equal(aw_tlog_verify_dir(&o, &r, &e), AW_OK);
    assert_int_equal(r.had_state, 1);
    assert_int_equal(r.trusted_size, 15);
    unlink(sf);
    tamper_all(dir, &k, 1); /* every byte of every file */
    /* a state file from a different (forked) log is refused */
    tt_rmrf(dir);
    free(dir);
    aw_tj_free(v);
}

static void test_writer(void **state)
{
    char *dir = tt_tmpdir(), logd[4200], sf[4200], ent[300];
    aw_note_key k;
    aw_errbuf e;
    char *kf = init_log(dir, "log.example/aupwatch-test", 0, logd, sizeof logd, &k);
    snprintf(sf, sizeof sf, "%s/monitor.state", dir);
    aw_tlog_opts opts = {"log.example/aupwatch-test", kf, 0, 0, 0};
    assert_int_not_equal(aw_tlog_init(logd, &opts, &e), AW_OK); /* once */
    aw_tlog *t;
    aw_tlog_verify_result r;
    aw_tlog_verify_opts vo = {logd, NULL, &k, NULL, sf};
    assert_int_equal(aw_tlog_verify_dir(&vo, &r, &e), AW_OK); /* size 0 */
    assert_int_equal(aw_tlog_open(logd, &t, &e), AW_OK);
    aw_tlog *t2;
    assert_int_not_equal(aw_tlog_open(logd, &t2, &e), AW_OK); /* locked */
    uint64_t sizes[] = {1, 2, 3, 255, 256, 257, 300, 511, 512, 513, 700};
    uint64_t i = 0;
    for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++) {
        for (; i < sizes[s]; i++) {
            uint64_t idx;
            size_t n = entry_for(i, ent);
            assert_int_equal(aw_tlog_add(t, ent, n, &idx, &e), AW_OK);
            assert_int_equal(idx, i);
        }
        assert_int_equal(aw_tlog_sync(t, &e), AW_OK);
        if (aw_tlog_checkpoint(t, &e) != AW_OK)
            fail_msg("checkpoint: %s", e.msg);
        assert_int_equal(aw_tlog_published_size(t), sizes[s]);
        if (aw_tlog_verify_dir(&vo, &r, &e) != AW_OK)
            fail_msg("verify at %llu: %s", (unsigned long long)sizes[s], e.msg);
        assert_int_equal(r.size, sizes[s]);
    }
    /* proofs for every few entries, at several published sizes */
    for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s += 3)
        for (uint64_t x = 0; x < sizes[s]; x += 37) {
            char *p;
            size_t pl;
            aw_tlog_proof *pr;
            aw_checkpoint cp;
            if (aw_tlog_prove(t, x, sizes[s], &p, &pl, &e) != AW_OK)
                fail_msg("prove %llu@%llu: %s", (unsigned long long)x,
                         (unsigned long long)sizes[s], e.msg);
            assert_int_equal(aw_tlog_proof_parse(p, pl, &pr, &e), AW_OK);
            size_t n = entry_for(x, ent);
            assert_int_equal(aw_tlog_proof_verify(pr, ent, n, &k, NULL, &cp, &e), AW_OK);
            assert_int_equal(cp.size, sizes[s]);
            assert_int_not_equal(aw_tlog_proof_verify(pr, "x", 1, &k, NULL, &cp, &e), AW_OK);
            aw_tlog_proof_free(pr);
            free(p);
        }
    char *p;
    size_t pl;
    assert_int_not_equal(aw_tlog_prove(t, 5, 4, &p, &pl, &e), AW_OK);
    assert_int_not_equal(aw_tlog_prove(t, 5, 6, &p, &pl, &e), AW_OK); /* never published */
    /* witness cosignatures are appended and checked by policy */
    aw_note_signer w;
    uint8_t seed[32] = {7};
    char line[300], vkw[300], pol[800], *cpn;
    size_t cl;
    assert_int_equal(aw_note_signer_from_seed("witness.example/w1", 4, seed, &w, &e), AW_OK);
    snprintf(pol, sizeof pol, "%s/checkpoint", logd);
    assert_int_equal(aw_tlog_read_file(pol, 1 << 20, &cpn, &cl, &e), AW_OK);
    aw_note *nn;
    assert_int_equal(aw_note_parse(cpn, cl, &nn, &e), AW_OK);
    assert_int_equal(aw_note_cosign(&w, nn->msg, nn->text_len, 1700000001, line,
                                    sizeof line, &e), AW_OK);
    aw_note_free(nn);
    free(cpn);
    assert_int_equal(aw_tlog_add_cosignatures(t, line, strlen(line), &w.key, 1, &e), AW_OK);
    aw_note_key_format(&w.key, vkw, sizeof vkw);
    snprintf(pol, sizeof pol, "witness w1 %s\ngroup g 1 w1\nquorum g\n", vkw);
    aw_tlog_policy *policy;
    assert_int_equal(aw_tlog_policy_parse(pol, strlen(pol), &policy, &e), AW_OK);
    vo.policy = policy;
    assert_int_equal(aw_tlog_verify_dir(&vo, &r, &e), AW_OK);
    assert_int_equal(r.cosigs, 1);
    assert_int_equal(aw_tlog_prove(t, 699, 0, &p, &pl, &e), AW_OK);
    aw_tlog_proof *pr;
    assert_int_equal(aw_tlog_proof_parse(p, pl, &pr, &e), AW_OK);
    assert_int_equal(aw_tlog_proof_verify(pr, NULL, 0, &k, policy, NULL, &e), AW_OK);
    aw_tlog_proof_free(pr);
    free(p);
    vo.policy = NULL;
    aw_tlog_policy_free(policy);
    aw_tlog_close(t);
    /* reopen, grow, the monitor state proves consistency */
    assert_int_equal(aw_tlog_open(logd, &t, &e), AW_OK);
    assert_int_equal(aw_tlog_size(t), 700);
    for (i = 700; i < 1000; i++) {
        size_t n = entry_for(i, ent);
        assert_int_equal(aw_tlog_add(t, ent, n, NULL, &e), AW_OK);
    }
    assert_int_equal(aw_tlog_sync(t, &e), AW_OK);
    assert_int_equal(aw_tlog_checkpoint(t, &e), AW_OK);
    assert_int_equal(aw_tlog_verify_dir(&vo, &r, &e), AW_OK);
    assert_int_equal(r.trusted_size, 700);
    assert_int_equal(r.size, 1000);
    aw_tlog_close(t);
    vo.state_file = NULL;
    tamper_all(logd, &k, 0);
    vo.state_file = sf;
    /* a monitor whose trusted checkpoint is ahead sees the rollback */
    char saved[4400];
    snprintf(saved, sizeof saved, "%s/checkpoint", logd);
    char *cur;
    size_t curl;
    assert_int_equal(aw_tlog_read_file(saved, 1 << 20, &cur, &curl, &e), AW_OK);
    assert_int_equal(aw_tlog_open(logd, &t, &e), AW_OK);
    assert_int_equal(aw_tlog_add(t, "x", 1, NULL, &e), AW_OK);
    assert_int_equal(aw_tlog_sync(t, &e), AW_OK);
    assert_int_equal(aw_tlog_checkpoint(t, &e), AW_OK);
    aw_tlog_close(t);
    assert_int_equal(aw_tlog_verify_dir(&vo, &r, &e), AW_OK); /* trusts 1001 */
    assert_int_equal(tt_write(saved, cur, curl), 0);          /* roll back */
    assert_int_equal(aw_tlog_verify_dir(&vo, &r, &e), AW_ERR);
    assert_non_null(strstr(e.msg, "went backwards"));
    free(cur);
    tt_rmrf(dir);
    free(kf);
    free(dir);
}

/* A tree past 65,536 entries has a third tile level (a level-1 tile
 * fills, tile/2 starts): the writer makes it, the verifier walks it, the
 * root is the RFC 6962 hash of the entries computed here directly, and
 * an entry on either side of the boundary is proved. */
static void test_three_levels(void **state)
{
    enum { N = 65536 + 257 };
    char *dir = tt_tmpdir(), logd[4200], path[4400], ent[300];
    aw_note_key k;
    aw_errbuf e;
    char *kf = init_log(dir, "log.example/three", 0, logd, sizeof logd, &k);
    aw_tlog *t;
    assert_int_equal(aw_tlog_open(logd, &t, &e), AW_OK);
    aw_hash *leaves = malloc(N * sizeof *leaves);
    assert_non_null(leaves);
    for (uint64_t i = 0; i < N; i++) {
        size_t n = entry_for(i, ent);
        aw_merkle_leaf_hash(ent, n, leaves[i]);
        assert_int_equal(aw_tlog_add(t, ent, n, NULL, &e), AW_OK);
    }
    assert_int_equal(aw_tlog_sync(t, &e), AW_OK);
    if (aw_tlog_checkpoint(t, &e) != AW_OK)
        fail_msg("checkpoint: %s", e.msg);
    /* the checkpoint's root against the tree hashed here */
    char *cpt;
    size_t cpl;
    aw_checkpoint cp;
    aw_hash want;
    snprintf(path, sizeof path, "%s/checkpoint", logd);
    assert_int_equal(aw_tlog_read_file(path, 1 << 20, &cpt, &cpl, &e), AW_OK);
    assert_int_equal(aw_tlog_checkpoint_open(cpt, cpl, &k, "log.example/three", NULL, &cp, &e), AW_OK);
    free(cpt);
    aw_merkle_root_of(leaves, N, want);
    assert_int_equal(cp.size, N);
    assert_memory_equal(cp.root, want, sizeof want);
    /* tiles of each level, by their C2SP names */
    static const char *const tiles[] = {"tile/0/256", "tile/0/257.p/1", "tile/1/000", "tile/1/001.p/1",
                                        "tile/2/000.p/1", "tile/entries/257.p/1"};
    for (size_t i = 0; i < sizeof tiles / sizeof *tiles; i++) {
        struct stat sb;
        snprintf(path, sizeof path, "%s/%s", logd, tiles[i]);
        if (stat(path, &sb) != 0)
            fail_msg("%s missing", tiles[i]);
    }
    aw_tlog_verify_result r;
    aw_tlog_verify_opts vo = {logd, NULL, &k, NULL, NULL};
    if (aw_tlog_verify_dir(&vo, &r, &e) != AW_OK)
        fail_msg("verify: %s", e.msg);
    assert_int_equal(r.size, N);
    static const uint64_t at[] = {0, 65535, 65536, N - 1};
    for (size_t i = 0; i < sizeof at / sizeof *at; i++) {
        char *p;
        size_t pl;
        aw_tlog_proof *pr;
        assert_int_equal(aw_tlog_prove(t, at[i], N, &p, &pl, &e), AW_OK);
        assert_int_equal(aw_tlog_proof_parse(p, pl, &pr, &e), AW_OK);
        size_t n = entry_for(at[i], ent);
        if (aw_tlog_proof_verify(pr, ent, n, &k, NULL, &cp, &e) != AW_OK)
            fail_msg("proof of %llu: %s", (unsigned long long)at[i], e.msg);
        aw_tlog_proof_free(pr);
        free(p);
    }
    aw_tlog_close(t);
    free(leaves);
    tt_rmrf(dir);
    free(kf);
    free(dir);
}

/* The signed record says (5, R') with R' not our tree: never sign. */
static void test_refuse_inconsistent(void **state)
{
    char *dir = tt_tmpdir(), logd[4200], ent[300];
    aw_errbuf e;
    aw_note_key k;
    char *kf = init_log(dir, "log.example/refuse", 1, logd, sizeof logd, &k);
    aw_tlog *t;
    assert_int_equal(aw_tlog_open(logd, &t, &e), AW_OK);
    for (uint64_t i = 0; i < 5; i++)
        assert_int_equal(aw_tlog_add(t, ent, entry_for(i, ent), NULL, &e), AW_OK);
    assert_int_equal(aw_tlog_sync(t, &e), AW_OK);
    assert_int_equal(aw_tlog_checkpoint(t, &e), AW_OK);
    aw_tlog_close(t);
    /* forge a different signed size-5 record with the same key */
    aw_note_signer s;
    char *kb, *note, path[4400];
    size_t kl, nl;
    assert_int_equal(aw_tlog_read_file(kf, 4096, &kb, &kl, &e), AW_OK);
    assert_int_equal(aw_note_signer_parse(kb, kl, &s, &e), AW_OK);
    free(kb);
    aw_checkpoint cp = {.size = 5};
    strcpy(cp.origin, "log.example/refuse");
    memset(cp.root, 0x42, 32);
    char text[300];
    size_t tl = aw_checkpoint_format(&cp, text, sizeof text);
    assert_int_equal(aw_note_sign(&s, text, tl, &note, &nl, &e), AW_OK);
    snprintf(path, sizeof path, "%s/.aw-tlog/signed", logd);
    assert_int_equal(tt_write(path, note, nl), 0);
    free(note);
    assert_int_equal(aw_tlog_open(logd, &t, &e), AW_OK);
    assert_int_equal(aw_tlog_add(t, ent, entry_for(5, ent), NULL, &e), AW_OK);
    assert_int_equal(aw_tlog_sync(t, &e), AW_OK);
    assert_int_equal(aw_tlog_checkpoint(t, &e), AW_ERR);
    assert_non_null(strstr(e.msg, "refusing to sign"));
    assert_int_equal(aw_tlog_published_size(t), 5);
    aw_tlog_close(t);
    /* a checkpoint that does not verify (its signature's last byte
     * changed) keeps the log closed, and the error names the file */
    static const char *const files[] = {"checkpoint", ".aw-tlog/signed"};
    for (size_t f = 0; f < 2; f++) {
        char *saved, *bad;
        size_t sl;
        snprintf(path, sizeof path, "%s/%s", logd, files[f]);
        assert_int_equal(aw_tlog_read_file(path, 4096, &saved, &sl, &e), AW_OK);
        bad = malloc(sl);
        assert_non_null(bad);
        memcpy(bad, saved, sl);
        bad[sl - 2] = bad[sl - 2] == 'A' ? 'B' : 'A';   /* before the final newline */
        assert_int_equal(tt_write(path, bad, sl), 0);
        assert_int_not_equal(aw_tlog_open(logd, &t, &e), AW_OK);
        assert_non_null(strstr(e.msg, files[f]));
        assert_int_equal(tt_write(path, saved, sl), 0);
        assert_int_equal(aw_tlog_open(logd, &t, &e), AW_OK);
        aw_tlog_close(t);
        free(bad);
        free(saved);
    }
    tt_rmrf(dir);
    free(kf);
    free(dir);
}

static uint64_t entry_check(const char *logd, uint64_t size);

/* A torn or corrupt WAL tail (a crash in the middle of a write) loses
 * only the unacknowledged records after it; the log opens and goes on. */
static void test_wal_torn(void **state)
{
    char *dir = tt_tmpdir(), logd[4200], wal[4400], ent[300];
    aw_errbuf e;
    aw_note_key k;
    char *kf = init_log(dir, "log.example/wal", 0, logd, sizeof logd, &k);
    snprintf(wal, sizeof wal, "%s/.aw-tlog/wal", logd);
    aw_tlog *t;
    assert_int_equal(aw_tlog_open(logd, &t, &e), AW_OK);
    for (uint64_t i = 0; i < 300; i++) {
        assert_int_equal(aw_tlog_add(t, ent, entry_for(i, ent), NULL, &e), AW_OK);
        if (i == 99 || i == 299)
            assert_int_equal(aw_tlog_sync(t, &e), AW_OK);
        if (i == 99)
            assert_int_equal(aw_tlog_checkpoint(t, &e), AW_OK); /* flush */
    }
    aw_tlog_close(t);
    long sz = fsize(wal);
    assert_true(sz > 0);
    /* tear the last record: 199 of the 200 WAL records survive */
    assert_int_equal(truncate(wal, sz - 10), 0);
    assert_int_equal(aw_tlog_open(logd, &t, &e), AW_OK);
    assert_int_equal(aw_tlog_size(t), 299);
    assert_int_equal(aw_tlog_add(t, ent, entry_for(299, ent), NULL, &e), AW_OK);
    assert_int_equal(aw_tlog_sync(t, &e), AW_OK);
    aw_tlog_close(t);
    /* corrupt a byte inside record 250: replay stops before it */
    long off = fsize(wal) / 2;
    assert_int_equal(flip(wal, (size_t)off), 0);
    assert_int_equal(aw_tlog_open(logd, &t, &e), AW_OK);
    assert_true(aw_tlog_size(t) >= 100 && aw_tlog_size(t) < 300);
    uint64_t sz2 = aw_tlog_size(t);
    for (uint64_t i = sz2; i < 400; i++)
        assert_int_equal(aw_tlog_add(t, ent, entry_for(i, ent), NULL, &e), AW_OK);
    assert_int_equal(aw_tlog_sync(t, &e), AW_OK);
    assert_int_equal(aw_tlog_checkpoint(t, &e), AW_OK);
    aw_tlog_close(t);
    aw_tlog_verify_opts vo = {logd, NULL, &k, NULL, NULL};
    aw_tlog_verify_result r;
    if (aw_tlog_verify_dir(&vo, &r, &e) != AW_OK)
        fail_msg("verify: %s", e.msg);
    assert_int_equal(r.size, 400);
    assert_int_equal(entry_check(logd, 400), 0);
    tt_rmrf(dir);
    free(kf);
    free(dir);
}

/* ------------------------------------------------------- crash test */

static void child(const char *logd, int fd, unsigned seed)
{
    aw_tlog *t;
    aw_errbuf e;
    char ent[300], msg[64];
    srand(seed);
    if (aw_tlog_open(logd, &t, &e) != AW_OK) {
        int n = snprintf(msg, sizeof msg, "E\n");
        if (write(fd, msg, (size_t)n) < 0)
            _exit(3);
        _exit(2);
    }
    for (;;) {
        int k = 1 + rand() % 300;
        uint64_t base = aw_tlog_size(t);
        for (int i = 0; i < k; i++)
            aw_tlog_add(t, ent, entry_for(base + (uint64_t)i, ent), NULL, &e);
        if (aw_tlog_sync(t, &e) != AW_OK)
            _exit(2);
        int n = snprintf(msg, sizeof msg, "A %llu\n",
                         (unsigned long long)aw_tlog_size(t));
        if (write(fd, msg, (size_t)n) < 0)
            _exit(3);
        if (rand() % 3 == 0 && aw_tlog_checkpoint(t, &e) != AW_OK)
            _exit(4);
    }
}

static uint64_t entry_check(const char *logd, uint64_t size)
{
    char path[4400], rel[256], ent[300], *buf;
    size_t len;
    aw_errbuf e;
    uint64_t bad = 0;
    for (uint64_t n = 0; n * 256 < size; n++) {
        unsigned w = (n + 1) * 256 <= size ? 0 : (unsigned)(size & 255);
        aw_tile_entries_path(rel, sizeof rel, n, w);
        snprintf(path, sizeof path, "%s/%s", logd, rel);
        if (aw_tlog_read_file(path, 1 << 24, &buf, &len, &e) != AW_OK)
            return UINT64_MAX;
        size_t pos = 0;
        for (unsigned i = 0; i < (w ? w : 256); i++) {
            size_t el = (size_t)((uint8_t)buf[pos] << 8 | (uint8_t)buf[pos + 1]);
            size_t want = entry_for(n * 256 + i, ent);
            if (el != want || memcmp(buf + pos + 2, ent, el) != 0)
                bad++;
            pos += 2 + el;
        }
        free(buf);
    }
    return bad;
}

static void test_crash(void **state)
{
    char *dir = tt_tmpdir(), logd[4200], sf[4200], path[4400];
    aw_errbuf e;
    aw_note_key k;
    char *kf = init_log(dir, "log.example/crash", 0, logd, sizeof logd, &k);
    snprintf(sf, sizeof sf, "%s/monitor.state", dir);
    const char *r = getenv("AW_CRASH_ROUNDS");
    int rounds = r ? atoi(r) : 40;
    uint64_t acked = 0;
    unsigned kills_mid = 0;
    srand((unsigned)time(NULL));
    for (int round = 0; round < rounds; round++) {
        int p[2];
        assert_int_equal(pipe(p), 0);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            close(p[0]);
            child(logd, p[1], (unsigned)rand());
        }
        close(p[1]);
        struct timespec ts = {0, (long)(rand() % 40000) * 1000};
        nanosleep(&ts, NULL);
        kill(pid, SIGKILL);
        int status;
        waitpid(pid, &status, 0);
        if (WIFSIGNALED(status))
            kills_mid++;
        char buf[65536];
        size_t got = 0;
        ssize_t n;
        while ((n = read(p[0], buf + got, sizeof buf - 1 - got)) > 0)
            got += (size_t)n;
        close(p[0]);
        buf[got] = 0;
        assert_null(strstr(buf, "E\n"));
        for (char *l = strstr(buf, "A "); l; l = strstr(l + 1, "A ")) {
            uint64_t a = strtoull(l + 2, NULL, 10);
            if (a > acked)
                acked = a;
        }
        /* the log opens, lost nothing acknowledged, and the next
         * checkpoint is consistent with everything published */
        aw_tlog *t;
        if (aw_tlog_open(logd, &t, &e) != AW_OK)
            fail_msg("round %d: open after kill: %s", round, e.msg);
        if (aw_tlog_size(t) < acked)
            fail_msg("round %d: size %llu < acknowledged %llu", round,
                     (unsigned long long)aw_tlog_size(t), (unsigned long long)acked);
        acked = aw_tlog_size(t);
        if (aw_tlog_checkpoint(t, &e) != AW_OK)
            fail_msg("round %d: checkpoint: %s", round, e.msg);
        aw_tlog_close(t);
        /* keep every published checkpoint as saved history */
        char *cp;
        size_t cl;
        snprintf(path, sizeof path, "%s/checkpoint", logd);
        assert_int_equal(aw_tlog_read_file(path, 1 << 20, &cp, &cl, &e), AW_OK);
        snprintf(path, sizeof path, "%s/checkpoint.round%d", logd, round);
        assert_int_equal(tt_write(path, cp, cl), 0);
        free(cp);
        if (round % 8 == 7 || round == rounds - 1) {
            aw_tlog_verify_opts vo = {logd, NULL, &k, NULL, sf};
            aw_tlog_verify_result res;
            if (aw_tlog_verify_dir(&vo, &res, &e) != AW_OK)
                fail_msg("round %d: verify: %s", round, e.msg);
            assert_int_equal(entry_check(logd, res.size), 0);
        }
    }
    /* every checkpoint ever signed (archive) is consistent too */
    char cmd[9000];
    snprintf(cmd, sizeof cmd,
             "cd '%s' && for f in .aw-tlog/cp/*; do cp \"$f\" checkpoint.signed-$(basename $f); done",
             logd);
    assert_int_equal(system(cmd), 0);
    aw_tlog_verify_opts vo = {logd, NULL, &k, NULL, sf};
    aw_tlog_verify_result res;
    if (aw_tlog_verify_dir(&vo, &res, &e) != AW_OK)
        fail_msg("final verify: %s", e.msg);
    fprintf(stderr, "crash test: %d kills (%u mid-run), %llu entries, %u checkpoints checked\n",
            rounds, kills_mid, (unsigned long long)res.size, res.checkpoints);
    assert_true(acked > 0);
    tt_rmrf(dir);
    free(kf);
    free(dir);
}

static void test_records(void **state)
{
    char out[AW_TLOG_RECORD_MAX];
    size_t ol;
    aw_errbuf e;
    const char *in =
        "{ \"time\": \"2026-11-30T07:00:00Z\", \"v\": 1, \"action\": \"case_opened\",\n"
        "  \"case\": \"C-2026-0001\", \"clause\": \"AUP-4.2\", \"actors\": [\"analyst\"],\n"
        "  \"scope\": {\"region\": \"eu-west-1\", \"service\": \"compute\", \"tenant\": \"tp_9f2c\"},\n"
        "  \"evidence\": [\"sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\"] }";
    assert_int_equal(aw_tlog_record_canon(in, strlen(in), out, &ol, &e), AW_OK);
    const char *want =
        "{\"v\":1,\"case\":\"C-2026-0001\",\"action\":\"case_opened\",\"scope\":"
        "{\"tenant\":\"tp_9f2c\",\"service\":\"compute\",\"region\":\"eu-west-1\"},"
        "\"clause\":\"AUP-4.2\",\"actors\":[\"analyst\"],\"time\":\"2026-11-30T07:00:00Z\","
        "\"evidence\":[\"sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\"]}";
    assert_int_equal(ol, strlen(want));
    assert_memory_equal(out, want, ol);
    /* canonical form is a fixed point */
    char out2[AW_TLOG_RECORD_MAX];
    size_t ol2;
    assert_int_equal(aw_tlog_record_canon(out, ol, out2, &ol2, &e), AW_OK);
    assert_int_equal(ol2, ol);
    assert_memory_equal(out2, out, ol);
    const char *bad[] = {
        "[]", "{}", "{\"v\":2}",
        /* personal data / free text refused */
        "{\"v\":1,\"case\":\"C1\",\"action\":\"case_opened\",\"scope\":{\"tenant\":\"alice@example.com\",\"service\":\"s\",\"region\":\"r\"},\"clause\":\"c\",\"actors\":[\"a\"],\"time\":\"2026-11-30T07:00:00Z\",\"evidence\":[]}",
        "{\"v\":1,\"case\":\"C1\",\"action\":\"case_opened\",\"scope\":{\"tenant\":\"t\",\"service\":\"s\",\"region\":\"r\"},\"clause\":\"c\",\"actors\":[\"a\"],\"time\":\"2026-11-30T07:00:00Z\",\"evidence\":[],\"name\":\"Bob\"}",
        "{\"v\":1,\"case\":\"C1\",\"action\":\"delete\",\"scope\":{\"tenant\":\"t\",\"service\":\"s\",\"region\":\"r\"},\"clause\":\"c\",\"actors\":[\"a\"],\"time\":\"2026-11-30T07:00:00Z\",\"evidence\":[]}",
        "{\"v\":1,\"case\":\"C1\",\"action\":\"case_opened\",\"scope\":{\"tenant\":\"t\",\"service\":\"s\",\"region\":\"r\"},\"clause\":\"c\",\"actors\":[\"a\"],\"time\":\"yesterday\",\"evidence\":[]}",
        "{\"v\":1,\"case\":\"C1\",\"action\":\"case_opened\",\"scope\":{\"tenant\":\"t\",\"service\":\"s\",\"region\":\"r\"},\"clause\":\"c\",\"actors\":[\"a\"],\"time\":\"2026-11-30T07:00:00Z\",\"evidence\":[\"the log file\"]}",
        "{\"v\":1,\"v\":1,\"case\":\"C1\",\"action\":\"case_opened\",\"scope\":{\"tenant\":\"t\",\"service\":\"s\",\"region\":\"r\"},\"clause\":\"c\",\"actors\":[\"a\"],\"time\":\"2026-11-30T07:00:00Z\",\"evidence\":[]}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        if (aw_tlog_record_canon(bad[i], strlen(bad[i]), out, &ol, &e) == AW_OK)
            fail_msg("accepted bad record %zu", i);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tessera_log),
        cmocka_unit_test(test_writer),
        cmocka_unit_test(test_three_levels),
        cmocka_unit_test(test_refuse_inconsistent),
        cmocka_unit_test(test_wal_torn),
        cmocka_unit_test(test_crash),
        cmocka_unit_test(test_records),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
