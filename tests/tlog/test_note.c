/* test_note.c - signed notes, keys, checkpoints (strict), cosignatures,
 * witness policy, tlog-proof and tile paths against the shared vectors. */
#include <sodium.h>

#include "tlog_test.h"

static size_t keys_of(const aw_tj *arr, aw_note_key *keys)
{
    aw_errbuf e;
    size_t n = 0;
    for (size_t i = 0; arr && i < arr->n; i++) {
        assert_int_equal(aw_note_key_parse(arr->v[i]->s, arr->v[i]->slen,
                                           &keys[n], &e), AW_OK);
        n++;
    }
    return n;
}

static void check_verified(const aw_note *n, const aw_tj *want)
{
    size_t got = 0;
    for (size_t i = 0; i < n->nsigs; i++)
        got += (size_t)n->sigs[i].verified;
    if (!want)
        return;
    assert_int_equal(got, want->n);
    for (size_t k = 0; k < want->n; k++) {
        int found = 0;
        for (size_t i = 0; i < n->nsigs; i++) {
            char id[300];
            snprintf(id, sizeof id, "%s+%08x", n->sigs[i].name, n->sigs[i].id);
            if (n->sigs[i].verified && strcmp(id, want->v[k]->s) == 0)
                found = 1;
        }
        assert_true(found);
    }
}

static void test_notes(void **state)
{
    TT_VEC(v, "signed_note.json");
    aw_note_key keys[16];
    aw_errbuf e;
    const aw_tj *valid = aw_tj_get(v, "valid_notes");
    assert_int_equal(valid->n, 5);
    for (size_t i = 0; i < valid->n; i++) {
        const aw_tj *c = valid->v[i];
        const aw_tj *note = aw_tj_get(c, "note");
        size_t nk = keys_of(aw_tj_get(c, "verifier_keys"), keys);
        aw_note *n = NULL;
        if (aw_note_open(note->s, note->slen, keys, nk, &n, &e) != AW_OK)
            fail_msg("%s: %s", tt_str(c, "desc"), e.msg);
        aw_note_free(n);
        const char *sk = tt_str(c, "signing_skey");
        if (sk) { /* re-signing reproduces the golden note */
            aw_note_signer s;
            char *out;
            size_t ol;
            const char *text = tt_str(c, "text");
            assert_int_equal(aw_note_signer_parse(sk, strlen(sk), &s, &e), AW_OK);
            assert_int_equal(aw_note_sign(&s, text, strlen(text), &out, &ol, &e),
                             AW_OK);
            assert_int_equal(ol, note->slen);
            assert_memory_equal(out, note->s, ol);
            free(out);
        }
    }
    const aw_tj *oc = aw_tj_get(aw_tj_get(v, "open_cases"), "cases");
    assert_int_equal(oc->n, 15);
    for (size_t i = 0; i < oc->n; i++) {
        const aw_tj *c = oc->v[i];
        const aw_tj *note = aw_tj_get(c, "note");
        size_t nk = keys_of(aw_tj_get(c, "verifier_keys"), keys);
        aw_note *n = NULL;
        uint8_t raw[2048];
        const char *msg = note ? note->s : (const char *)raw;
        size_t ml = note ? note->slen : tt_hex(tt_str(c, "note_hex"), raw, sizeof raw);
        assert_true(ml < sizeof raw || note);
        aw_status st = aw_note_open(msg, ml, keys, nk, &n, &e);
        if (strcmp(tt_str(c, "expect"), "ok") == 0) {
            if (st != AW_OK)
                fail_msg("%s: %s", tt_str(c, "desc"), e.msg);
            check_verified(n, aw_tj_get(c, "verified"));
            /* every listed unverified signer is present and unverified
             * (identical duplicate lines are merged, so count names) */
            const aw_tj *unv = aw_tj_get(c, "unverified");
            for (size_t u = 0; unv && u < unv->n; u++) {
                int seen = 0;
                for (size_t k = 0; k < n->nsigs; k++) {
                    char id[300];
                    snprintf(id, sizeof id, "%s+%08x", n->sigs[k].name, n->sigs[k].id);
                    if (!n->sigs[k].verified && strcmp(id, unv->v[u]->s) == 0)
                        seen = 1;
                }
                assert_true(seen);
            }
            aw_note_free(n);
        } else {
            if (st == AW_OK)
                fail_msg("%s: accepted", tt_str(c, "desc"));
            if (strcmp(e.msg, tt_str(c, "error")) != 0)
                fail_msg("%s: error \"%s\", want \"%s\"", tt_str(c, "desc"),
                         e.msg, tt_str(c, "error"));
        }
    }
    const aw_tj *bad = aw_tj_get(v, "bad_vkeys");
    size_t nbad = 0;
    const char *lists[] = {"explicit", "single_byte_increment"};
    for (int l = 0; l < 2; l++) {
        const aw_tj *arr = aw_tj_get(bad, lists[l]);
        for (size_t i = 0; i < arr->n; i++, nbad++) {
            aw_note_key k;
            if (aw_note_key_parse(arr->v[i]->s, arr->v[i]->slen, &k, &e) == AW_OK)
                fail_msg("bad vkey accepted: %s", arr->v[i]->s);
        }
    }
    assert_int_equal(nbad, 68);
    /* every skey derives its vkey */
    const aw_tj *fk = aw_tj_get(aw_tj_get(v, "keys"), "formats_test_keys");
    const char *pairs[][2] = {{"logSK", "logVK"}, {"known1SK", "known1VK"},
                              {"known2SK", "known2VK"}, {"unknownSK", "unknownVK"}};
    for (int i = 0; i < 4; i++) {
        aw_note_signer s;
        char vk[400];
        const char *sk = tt_str(fk, pairs[i][0]);
        assert_int_equal(aw_note_signer_parse(sk, strlen(sk), &s, &e), AW_OK);
        assert_int_equal(aw_note_key_format(&s.key, vk, sizeof vk), AW_OK);
        assert_string_equal(vk, tt_str(fk, pairs[i][1]));
    }
    aw_tj_free(v);
}

static void test_keygen_sign(void **state)
{
    char sk[300], vk[300], *note;
    size_t nl;
    aw_errbuf e;
    aw_note_signer s;
    aw_note_key k;
    aw_note *n;
    assert_int_equal(aw_note_keygen("log.example/x", sk, sizeof sk, vk, sizeof vk, &e), AW_OK);
    assert_int_equal(aw_note_signer_parse(sk, strlen(sk), &s, &e), AW_OK);
    assert_int_equal(aw_note_key_parse(vk, strlen(vk), &k, &e), AW_OK);
    assert_int_equal(aw_note_sign(&s, "hello\n", 6, &note, &nl, &e), AW_OK);
    assert_int_equal(aw_note_open(note, nl, &k, 1, &n, &e), AW_OK);
    aw_note_free(n);
    note[0] = 'j';
    assert_int_not_equal(aw_note_open(note, nl, &k, 1, &n, &e), AW_OK);
    free(note);
    /* no trailing newline, no work */
    assert_int_not_equal(aw_note_sign(&s, "hello", 5, &note, &nl, &e), AW_OK);
    /* caps before work: 101 signature lines */
    char *big = malloc(20000);
    size_t bl = (size_t)sprintf(big, "t\n\n");
    for (int i = 0; i < 101; i++)
        bl += (size_t)sprintf(big + bl, "\xe2\x80\x94 a AAAAAAAA\n");
    assert_int_equal(aw_note_parse(big, bl, &n, &e), AW_EPARSE);
    free(big);
}

static int strict_ok(const char *body)
{
    aw_checkpoint cp;
    aw_errbuf e;
    return aw_checkpoint_parse(body, strlen(body), &cp, &e) == AW_OK;
}

static void test_checkpoint_parse(void **state)
{
    TT_VEC(v, "checkpoint_parse.json");
    TT_VEC(s, "checkpoint_strict.derived.json");
    const aw_tj *u = aw_tj_get(v, "unmarshal_cases");
    assert_int_equal(u->n, 12);
    for (size_t i = 0; i < u->n; i++) {
        const aw_tj *c = u->v[i];
        int want = aw_tj_get(c, "c2sp_strict_valid")->b;
        if (strict_ok(tt_str(c, "body")) != want)
            fail_msg("%s: strict verdict differs", tt_str(c, "desc"));
    }
    const aw_tj *sc = aw_tj_get(s, "cases");
    assert_int_equal(sc->n, 15);
    for (size_t i = 0; i < sc->n; i++) {
        const aw_tj *c = sc->v[i];
        int want = aw_tj_get(c, "c2sp_strict_valid")->b;
        if (strict_ok(tt_str(c, "body")) != want)
            fail_msg("%s: strict verdict differs", tt_str(c, "desc"));
    }
    /* format round trip of a real body */
    aw_checkpoint cp;
    aw_errbuf e;
    char out[256];
    const char *body = tt_str(sc->v[0], "body");
    assert_int_equal(aw_checkpoint_parse(body, strlen(body), &cp, &e), AW_OK);
    assert_int_equal(cp.size, 15);
    assert_int_equal(aw_checkpoint_format(&cp, out, sizeof out), strlen(body));
    assert_string_equal(out, body);
    /* the C2SP spec example parses */
    const char *ex = tt_str(aw_tj_get(v, "c2sp_spec_example_checkpoint"), "note");
    aw_note *n;
    assert_int_equal(aw_note_parse(ex, strlen(ex), &n, &e), AW_OK);
    assert_int_equal(aw_checkpoint_parse(n->msg, n->text_len, &cp, &e), AW_OK);
    assert_int_equal(cp.size, 20852163);
    aw_note_free(n);
    aw_tj_free(v);
    aw_tj_free(s);
}

static void test_tessera_checkpoints(void **state)
{
    TT_VEC(v, "tessera_testlog.json");
    aw_note_key k;
    aw_note_signer s;
    aw_errbuf e;
    const char *vk = tt_str(v, "log_vkey"), *sk = tt_str(v, "log_skey_test_only");
    assert_int_equal(aw_note_key_parse(vk, strlen(vk), &k, &e), AW_OK);
    assert_int_equal(aw_note_signer_parse(sk, strlen(sk), &s, &e), AW_OK);
    const aw_tj *cps = aw_tj_get(v, "checkpoints");
    assert_int_equal(cps->n, 16);
    for (size_t i = 0; i < cps->n; i++) {
        const aw_tj *c = cps->v[i];
        const aw_tj *note = aw_tj_get(c, "checkpoint");
        char path[4096], *buf, *re;
        size_t len, rl;
        aw_checkpoint cp;
        assert_int_equal(aw_tlog_checkpoint_open(note->s, note->slen, &k,
                                                 tt_str(v, "origin"), NULL, &cp,
                                                 &e), AW_OK);
        assert_int_equal(cp.size, tt_u64(c, "tree_size"));
        /* the raw file is byte-identical and re-signing reproduces it */
        snprintf(path, sizeof path, "%s/tlog/vectors/tessera_testlog_checkpoints/%s",
                 tt_shared(), tt_str(c, "file"));
        assert_int_equal(aw_tlog_read_file(path, 4096, &buf, &len, &e), AW_OK);
        assert_int_equal(len, note->slen);
        assert_memory_equal(buf, note->s, len);
        aw_note *n;
        assert_int_equal(aw_note_parse(buf, len, &n, &e), AW_OK);
        assert_int_equal(aw_note_sign(&s, n->msg, n->text_len, &re, &rl, &e), AW_OK);
        assert_int_equal(rl, len);
        assert_memory_equal(re, buf, len);
        free(re);
        aw_note_free(n);
        free(buf);
        /* flipping any byte of the signed text or signature is rejected */
        char *m = malloc(note->slen);
        for (size_t b = 0; b < note->slen; b += 7) {
            memcpy(m, note->s, note->slen);
            m[b] ^= 0x01;
            assert_int_not_equal(aw_tlog_checkpoint_open(m, note->slen, &k,
                                                         tt_str(v, "origin"),
                                                         NULL, &cp, &e), AW_OK);
        }
        free(m);
    }
    aw_tj_free(v);
}

static void test_cosignatures(void **state)
{
    TT_VEC(v, "cosignature_v1.derived.json");
    TT_VEC(t, "cosignature_timestamp.json");
    aw_note_key keys[4];
    aw_errbuf e;
    const aw_tj *cs = aw_tj_get(v, "cases");
    assert_int_equal(cs->n, 3);
    for (size_t i = 0; i < cs->n; i++) {
        const aw_tj *c = cs->v[i];
        const aw_tj *note = aw_tj_get(c, "note");
        size_t nk = keys_of(aw_tj_get(c, "verifier_keys"), keys);
        aw_note *n = NULL;
        aw_status st = aw_note_open(note->s, note->slen, keys, nk, &n, &e);
        if (strcmp(tt_str(c, "expect"), "ok") == 0) {
            assert_int_equal(st, AW_OK);
            check_verified(n, aw_tj_get(c, "verified"));
            for (size_t k = 0; k < n->nsigs; k++)
                if (n->sigs[k].verified && keys[n->sigs[k].key_index].type == 4)
                    assert_int_equal(n->sigs[k].timestamp, 1700000000);
            aw_note_free(n);
        } else {
            assert_int_not_equal(st, AW_OK);
            assert_string_equal(e.msg, tt_str(c, "error"));
        }
    }
    /* re-create the cosignature from the seed */
    uint8_t seed[32];
    aw_note_signer w;
    char line[300];
    const char *body = tt_str(v, "checkpoint_body");
    tt_hex(tt_str(v, "witness_seed_hex_test_only"), seed, 32);
    assert_int_equal(aw_note_signer_from_seed(tt_str(v, "witness_name"), 4, seed,
                                              &w, &e), AW_OK);
    char vk[300];
    aw_note_key_format(&w.key, vk, sizeof vk);
    assert_string_equal(vk, tt_str(v, "witness_vkey_type04"));
    assert_int_equal(aw_note_cosign(&w, body, strlen(body), 1700000000, line,
                                    sizeof line, &e), AW_OK);
    assert_string_equal(line, tt_str(v, "cosignature_line"));
    /* upstream blob layout: key id and timestamp; 68-byte blob refused */
    const aw_tj *te = aw_tj_get(t, "timestamp_extraction");
    uint8_t b[128];
    long n = tt_b64(tt_str(te->v[0], "signature_b64"), b, sizeof b);
    assert_int_equal(n, 76);
    uint64_t ts = 0;
    for (int i = 4; i < 12; i++)
        ts = ts << 8 | b[i];
    assert_int_equal(ts, tt_u64(te->v[0], "expect_timestamp"));
    char idhex[16];
    snprintf(idhex, sizeof idhex, "%02x%02x%02x%02x", b[0], b[1], b[2], b[3]);
    assert_string_equal(idhex, tt_str(te->v[0], "expect_key_id_hex"));
    n = tt_b64(tt_str(te->v[1], "signature_b64"), b, sizeof b);
    assert_int_equal(n, 68); /* a plain signature, not a cosignature */
    const aw_tj *acc = aw_tj_get(t, "accepted_cosigner_vkeys");
    aw_note_key ck[2];
    assert_int_equal(keys_of(acc, ck), 2);
    aw_tj_free(v);
    aw_tj_free(t);
}

static void test_tlog_proof(void **state)
{
    TT_VEC(v, "tlog_proof.derived.json");
    aw_note_key lk;
    aw_errbuf e;
    aw_tlog_policy *pol;
    char poltext[600];
    const char *vk = tt_str(v, "log_vkey");
    assert_int_equal(aw_note_key_parse(vk, strlen(vk), &lk, &e), AW_OK);
    snprintf(poltext, sizeof poltext, "log %s\nwitness w1 %s\ngroup g 1 w1\nquorum g\n",
             vk, tt_str(v, "witness_vkey"));
    assert_int_equal(aw_tlog_policy_parse(poltext, strlen(poltext), &pol, &e), AW_OK);
    const char *names[] = {"proof", "proof_with_extra"};
    for (int i = 0; i < 2; i++) {
        const char *txt = tt_str(v, names[i]);
        aw_tlog_proof *p;
        aw_checkpoint cp;
        char *out;
        size_t ol;
        assert_int_equal(aw_tlog_proof_parse(txt, strlen(txt), &p, &e), AW_OK);
        assert_int_equal(aw_tlog_proof_verify(p, "six", 3, &lk, pol, &cp, &e), AW_OK);
        assert_int_equal(cp.size, 15);
        assert_int_equal(aw_tlog_proof_format(p, &out, &ol, &e), AW_OK);
        assert_int_equal(ol, strlen(txt));
        assert_memory_equal(out, txt, ol);
        free(out);
        if (p->extra)
            assert_memory_equal(p->extra, tt_str(v, "extra_utf8"), p->extra_len);
        aw_tlog_proof_free(p);
    }
    const aw_tj *neg = aw_tj_get(v, "negative");
    assert_int_equal(neg->n, 3);
    for (size_t i = 0; i < neg->n; i++) {
        const char *txt = tt_str(neg->v[i], "proof");
        const char *ent = tt_str(neg->v[i], "entry_utf8");
        aw_tlog_proof *p = NULL;
        aw_status st = aw_tlog_proof_parse(txt, strlen(txt), &p, &e);
        if (st == AW_OK)
            st = aw_tlog_proof_verify(p, ent, strlen(ent), &lk, pol, NULL, &e);
        assert_int_not_equal(st, AW_OK);
        aw_tlog_proof_free(p);
    }
    /* the parser's own refusals, each from the valid proof made wrong in
     * one place: an error naming the format and the reason, no proof */
    {
        const char *ok = tt_str(v, "proof");
        const char *blank = strstr(ok, "\n\n"), *h1 = strstr(ok, "index 5\n") + 8;
        static const char hash[] = "zMKa4OAqd7D0V4wawXST15z0JiEEkprIBPkfxOesWvA=\n";
        char bad[8192];
        const char *why[8];
        size_t at[8], off = 0;
        int nc = 0;
#define BAD(reason, ...)                                                              \
    (why[nc] = (reason), at[nc++] = off,                                              \
     off += (size_t)snprintf(bad + off, sizeof bad - off, __VA_ARGS__) + 1)
        BAD("header", "c2sp.org/tlog-proof@v2%s", ok + 22);
        BAD("truncated", "c2sp.org/tlog-proof@v1\nindex 5");
        BAD("bad index line", "c2sp.org/tlog-proof@v1\nindex five\n%s", h1);
        BAD("base64 32-byte", "%.*s!!!!%s", (int)(h1 - ok), ok, h1 + 4);
        BAD("blank line", "%.*s", (int)(blank + 1 - ok), ok);
        BAD("missing checkpoint", "%.*s", (int)(blank + 2 - ok), ok);
        BAD("base64", "c2sp.org/tlog-proof@v1\nextra *\n%s", ok + 23);
        BAD("more than 64", "c2sp.org/tlog-proof@v1\nindex 5\n");
#undef BAD
        off--;                                  /* the last case goes on: 65 hashes */
        for (int k = 0; k < 65; k++)
            off += (size_t)snprintf(bad + off, sizeof bad - off, "%s", hash);
        off += (size_t)snprintf(bad + off, sizeof bad - off, "%s", blank + 1);
        assert_true(off < sizeof bad);
        for (int k = 0; k < nc; k++) {
            aw_tlog_proof *p = (aw_tlog_proof *)1;
            const char *txt = bad + at[k];
            if (aw_tlog_proof_parse(txt, strlen(txt), &p, &e) == AW_OK || p != NULL ||
                !strstr(e.msg, "tlog-proof:") || !strstr(e.msg, why[k]))
                fail_msg("malformed proof %d: parsed, or said \"%s\" (want \"%s\")", k, e.msg, why[k]);
        }
    }
    /* a 2-of-1 style policy that is not met fails */
    aw_tlog_policy *pol2;
    snprintf(poltext, sizeof poltext,
             "witness w1 %s\nwitness w2 %s\ngroup g 2 w1 w2\nquorum g\n",
             tt_str(v, "witness_vkey"),
             "witness.example/aupwatch-test+46aeb98d+AeXa6gd97TJjwMuExboLmWXMsyf2JLvOU6yTM532QOyH");
    assert_int_equal(aw_tlog_policy_parse(poltext, strlen(poltext), &pol2, &e), AW_OK);
    aw_tlog_proof *p;
    const char *txt = tt_str(v, "proof");
    assert_int_equal(aw_tlog_proof_parse(txt, strlen(txt), &p, &e), AW_OK);
    assert_int_equal(aw_tlog_proof_verify(p, "six", 3, &lk, pol2, NULL, &e), AW_ERR);
    assert_non_null(strstr(e.msg, "quorum"));
    /* and the proof carries no size: it uses the checkpoint's */
    assert_int_equal(aw_tlog_proof_verify(p, "six", 3, &lk, NULL, NULL, &e), AW_OK);
    aw_tlog_proof_free(p);
    aw_tlog_policy_free(pol2);
    aw_tlog_policy_free(pol);
    aw_tj_free(v);
}

static void test_tile_paths(void **state)
{
    TT_VEC(v, "tile_paths.json");
    char buf[256];
    const aw_tj *a = aw_tj_get(v, "tile_path");
    for (size_t i = 0; i < a->n; i++) {
        aw_tile_path(buf, sizeof buf, (unsigned)tt_u64(a->v[i], "level"),
                     tt_u64(a->v[i], "index"),
                     (unsigned)tt_u64(a->v[i], "partial_width"));
        assert_string_equal(buf, tt_str(a->v[i], "want_path"));
    }
    a = aw_tj_get(v, "entries_path");
    for (size_t i = 0; i < a->n; i++) {
        aw_tile_entries_path(buf, sizeof buf, tt_u64(a->v[i], "index"),
                             (unsigned)tt_u64(a->v[i], "partial_width"));
        assert_string_equal(buf, tt_str(a->v[i], "want_path"));
    }
    a = aw_tj_get(v, "entries_path_for_log_index");
    for (size_t i = 0; i < a->n; i++) {
        uint64_t idx = tt_u64(a->v[i], "index"), sz = tt_u64(a->v[i], "tree_size");
        uint64_t n = idx >> 8;
        unsigned w = ((n + 1) << 8) <= sz ? 0 : (unsigned)(sz & 255);
        aw_tile_entries_path(buf, sizeof buf, n, w);
        assert_string_equal(buf, tt_str(a->v[i], "want_path"));
    }
    a = aw_tj_get(v, "parse_level_index");
    assert_int_equal(a->n, 19);
    for (size_t i = 0; i < a->n; i++) {
        const aw_tj *c = a->v[i], *ex = aw_tj_get(c, "expect");
        unsigned l, w;
        uint64_t n;
        aw_status st = aw_tile_parse(tt_str(c, "level"), tt_str(c, "index"), &l,
                                     &n, &w);
        if (ex->type == AW_TJ_STR) {
            if (st == AW_OK)
                fail_msg("accepted %s %s", tt_str(c, "level"), tt_str(c, "index"));
        } else {
            assert_int_equal(st, AW_OK);
            assert_int_equal(l, tt_u64(ex, "level"));
            assert_int_equal(n, tt_u64(ex, "index"));
            assert_int_equal(w, tt_u64(ex, "partial_width"));
        }
    }
    const aw_tj *t7 = aw_tj_get(aw_tj_get(aw_tj_get(v, "spec_examples"), "tree_70000"), "expect");
    uint64_t s = 70000;
    assert_int_equal(s >> 8, tt_u64(t7, "level0_full"));
    assert_int_equal(s & 255, tt_u64(t7, "level0_partial_width"));
    assert_int_equal(s >> 16, tt_u64(t7, "level1_full"));
    assert_int_equal((s >> 8) & 255, tt_u64(t7, "level1_partial_width"));
    assert_int_equal((s >> 16) & 255, tt_u64(t7, "level2_partial_width"));
    aw_tj_free(v);
}

static void test_witness_requests(void **state)
{
    TT_VEC(v, "witness_add_checkpoint.derived.json");
    aw_note_key k;
    aw_errbuf e;
    aw_checkpoint stored, got;
    const char *vk = tt_str(v, "log_vkey");
    assert_int_equal(aw_note_key_parse(vk, strlen(vk), &k, &e), AW_OK);
    const char *s8 = tt_str(v, "stored_checkpoint_size8");
    assert_int_equal(aw_tlog_checkpoint_open(s8, strlen(s8), &k, k.name, NULL,
                                             &stored, &e), AW_OK);
    const char *r815 = tt_str(v, "request_8_to_15"), *r015 = tt_str(v, "request_0_to_15");
    const aw_tj *want = aw_tj_get(v, "expected_status");
    aw_hash other;
    memset(other, 1, 32);
    assert_int_equal(aw_tlog_witness_check(r815, strlen(r815), &k, 8, stored.root,
                                           &got, &e),
                     (int)tt_u64(want, "request_8_to_15 with stored size 8"));
    assert_int_equal(got.size, 15);
    assert_int_equal(aw_tlog_witness_check(r015, strlen(r015), &k, 0, NULL, &got, &e),
                     (int)tt_u64(want, "request_0_to_15 with no state"));
    assert_int_equal(aw_tlog_witness_check(r815, strlen(r815), &k, 10, other, &got, &e),
                     (int)tt_u64(want, "request_8_to_15 with stored size 10"));
    assert_int_equal(aw_tlog_witness_check(r015, strlen(r015), &k, 8, stored.root,
                                           &got, &e),
                     (int)tt_u64(want, "request_0_to_15 with stored size 8"));
    char *alt = strdup(r815);
    alt[8] = alt[8] == 'A' ? 'B' : 'A'; /* inside the proof line */
    assert_int_equal(aw_tlog_witness_check(alt, strlen(alt), &k, 8, stored.root,
                                           &got, &e),
                     (int)tt_u64(want, "request_8_to_15 with one proof line altered"));
    free(alt);
    /* the C2SP spec example request parses up to the signature check */
    TT_VEC(c, "checkpoint_parse.json");
    const char *ex = tt_str(aw_tj_get(c, "c2sp_witness_add_checkpoint_request_example"), "body");
    int st = aw_tlog_witness_check(ex, strlen(ex), &k, 0, NULL, &got, &e);
    assert_true(st == 404); /* not our log: unknown origin */
    /* sumdb tree notes: the checkpoint parser reads them strictly */
    const aw_tj *sd = aw_tj_get(c, "sumdb_tree_note");
    const char *valid = tt_str(sd, "valid");
    assert_int_equal(aw_checkpoint_parse(valid, strlen(valid), &got, &e), AW_OK);
    assert_string_equal(got.origin, "go.sum database tree");
    assert_int_equal(got.size, tt_u64(aw_tj_get(sd, "parsed"), "size"));
    const aw_tj *inv = aw_tj_get(sd, "invalid");
    for (size_t i = 0; i < inv->n; i++) {
        aw_status ps = aw_checkpoint_parse(inv->v[i]->s, inv->v[i]->slen, &got, &e);
        assert_true(ps != AW_OK || strcmp(got.origin, "go.sum database tree") != 0);
    }
    const aw_tj *mg = aw_tj_get(c, "marshal_goldens");
    assert_int_equal(mg->n, 2); /* 7- and 37-byte hashes: strict refuses */
    for (size_t i = 0; i < mg->n; i++)
        assert_int_not_equal(aw_checkpoint_parse(mg->v[i]->s, mg->v[i]->slen, &got, &e), AW_OK);
    aw_tj_free(c);
    aw_tj_free(v);
}

static void test_policy_parse(void **state)
{
    aw_tlog_policy *p;
    aw_errbuf e;
    const char *bad[] = {"quorum nobody\n", "witness a bogus\nquorum a\n",
                         "group g 1\nquorum g\n", "log x\n", "frobnicate\n", ""};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        assert_int_not_equal(aw_tlog_policy_parse(bad[i], strlen(bad[i]), &p, &e), AW_OK);
    const char *ok = "# comment\nquorum none\n";
    assert_int_equal(aw_tlog_policy_parse(ok, strlen(ok), &p, &e), AW_OK);
    aw_tlog_policy_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_notes),
        cmocka_unit_test(test_keygen_sign),
        cmocka_unit_test(test_checkpoint_parse),
        cmocka_unit_test(test_tessera_checkpoints),
        cmocka_unit_test(test_cosignatures),
        cmocka_unit_test(test_tlog_proof),
        cmocka_unit_test(test_tile_paths),
        cmocka_unit_test(test_witness_requests),
        cmocka_unit_test(test_policy_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
