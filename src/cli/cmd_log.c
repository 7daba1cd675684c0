/* cmd_log.c - `aupwatch log ...` (write the decision log) and
 * `aupwatch verify` (check it offline). Exit codes: 0 ok, 1 verification
 * failure, 2 usage or I/O error. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aupwatch/aw_tlog.h"
#include "cli/cmd_tlog.h"
#include "tlog/tlog_int.h"

static const char log_usage[] =
    "usage: aupwatch log init DIR --origin NAME --key-file F [--create-key]\n"
    "                    [--checkpoint-every N] [--checkpoint-interval SECS]\n"
    "       aupwatch log append DIR < record.json   (one JSON record, or JSON lines)\n"
    "       aupwatch log checkpoint DIR\n"
    "       aupwatch log proof DIR --index I [--size N] [-o FILE]\n"
    "       aupwatch log add-cosignature DIR --witness VKEY... < lines\n"
    "\n"
    "init creates the log (and with --create-key the Ed25519 key, mode 0600)\n"
    "and prints the verifier key. append validates each decision record,\n"
    "writes its canonical form durably and prints its index. proof prints a\n"
    "c2sp.org/tlog-proof@v1 file (the record is carried in its extra line).\n";

static const char verify_usage[] =
    "usage: aupwatch verify [DIR] --key VKEY|FILE [--policy FILE] [--state FILE]\n"
    "                       [--checkpoint FILE] [--proof FILE [--entry FILE]]\n"
    "\n"
    "DIR is a tlog-tiles log (served files saved to disk). Checks every\n"
    "checkpoint's signature (and the witness policy), recomputes the tree from\n"
    "the entry bundles, compares every tile, and with --state checks\n"
    "consistency with the previously trusted checkpoint, then records the new\n"
    "one. --proof checks a tlog-proof offline. Exit 0 verified, 1 failed,\n"
    "2 usage or I/O error.\n";

static int usage_err(const char *u, const char *msg)
{
    if (msg)
        fprintf(stderr, "aupwatch: %s\n", msg);
    fputs(u, stderr);
    return 2;
}

static int want_help(int argc, char **argv)
{
    for (int i = 0; i < argc; i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
            return 1;
    return 0;
}

/* "--name value" option lookup; NULL if absent. */
static const char *opt(int argc, char **argv, const char *name)
{
    for (int i = 0; i + 1 < argc; i++)
        if (!strcmp(argv[i], name))
            return argv[i + 1];
    return NULL;
}

static int flag(int argc, char **argv, const char *name)
{
    for (int i = 0; i < argc; i++)
        if (!strcmp(argv[i], name))
            return 1;
    return 0;
}

static int read_all(FILE *f, char **buf, size_t *len, size_t cap)
{
    size_t n = 0, sz = 65536;
    char *b = malloc(sz + 1);
    while (b) {
        size_t r = fread(b + n, 1, sz - n, f);
        n += r;
        if (n < sz)
            break;
        if (sz >= cap) {
            free(b);
            return -1;
        }
        char *nb = realloc(b, sz * 2 + 1);
        if (!nb) {
            free(b);
            return -1;
        }
        b = nb;
        sz *= 2;
    }
    if (!b)
        return -1;
    b[n] = 0;
    *buf = b;
    *len = n;
    return 0;
}

static int status_exit(aw_status st)
{
    return st == AW_OK ? 0 : (st == AW_EIO || st == AW_ENOMEM) ? 2 : 1;
}

/* ------------------------------------------------------------ log init */

static int cmd_init(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : NULL;
    const char *origin = opt(argc, argv, "--origin");
    const char *kf = opt(argc, argv, "--key-file");
    const char *every = opt(argc, argv, "--checkpoint-every");
    const char *ival = opt(argc, argv, "--checkpoint-interval");
    aw_errbuf e;
    if (!dir || dir[0] == '-' || !origin || !kf)
        return usage_err(log_usage, "log init needs DIR, --origin and --key-file");
    if (flag(argc, argv, "--create-key") && access(kf, F_OK) != 0) {
        char sk[400], vk[400];
        if (aw_note_keygen(origin, sk, sizeof sk, vk, sizeof vk, &e) != AW_OK) {
            fprintf(stderr, "aupwatch: %s\n", e.msg);
            return 2;
        }
        int fd = open(kf, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        size_t sl = strlen(sk);
        sk[sl++] = '\n';
        if (fd < 0 || write(fd, sk, sl) != (ssize_t)sl || fsync(fd) != 0) {
            fprintf(stderr, "aupwatch: %s: %s\n", kf, strerror(errno));
            if (fd >= 0)
                close(fd);
            return 2;
        }
        close(fd);
        memset(sk, 0, sizeof sk);
    }
    aw_tlog_opts o = {origin, kf, every ? strtoull(every, NULL, 10) : 0,
                      ival ? (unsigned)strtoul(ival, NULL, 10) : 0, 0};
    char abs[4096];
    if (kf[0] != '/' && getcwd(abs, sizeof abs)) {
        size_t al = strlen(abs);
        snprintf(abs + al, sizeof abs - al, "/%s", kf);
        o.key_file = abs;
    }
    aw_status st = aw_tlog_init(dir, &o, &e);
    if (st != AW_OK) {
        fprintf(stderr, "aupwatch: %s\n", e.msg);
        return 2;
    }
    aw_note_signer s;
    char *kb, vk[400];
    size_t kl;
    if (aw_tlog_read_file(o.key_file, 4096, &kb, &kl, &e) != AW_OK ||
        aw_note_signer_parse(kb, kl, &s, &e) != AW_OK) {
        fprintf(stderr, "aupwatch: %s\n", e.msg);
        return 2;
    }
    memset(kb, 0, kl);
    free(kb);
    aw_note_key_format(&s.key, vk, sizeof vk);
    memset(&s, 0, sizeof s);
    printf("%s\n", vk);
    fprintf(stderr, "initialised %s (origin %s); the line above is the verifier key\n",
            dir, origin);
    return 0;
}

/* ---------------------------------------------------------- log append */

static int cmd_append(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : NULL;
    char *in, rec[AW_TLOG_RECORD_MAX];
    size_t len, rl;
    aw_errbuf e;
    aw_tlog *t;
    if (!dir || dir[0] == '-')
        return usage_err(log_usage, "log append needs DIR");
    if (read_all(stdin, &in, &len, 1u << 30) != 0) {
        fprintf(stderr, "aupwatch: cannot read stdin\n");
        return 2;
    }
    aw_status st = aw_tlog_open(dir, &t, &e);
    if (st != AW_OK) {
        fprintf(stderr, "aupwatch: %s\n", e.msg);
        free(in);
        return 2;
    }
    uint64_t first = aw_tlog_size(t), count = 0;
    /* one JSON document, or one record per line */
    if (aw_tlog_record_canon(in, len, rec, &rl, &e) == AW_OK) {
        st = aw_tlog_add(t, rec, rl, NULL, &e);
        count = 1;
    } else {
        size_t pos = 0, lineno = 0;
        while (pos < len && st == AW_OK) {
            char *eol = memchr(in + pos, '\n', len - pos);
            size_t ll = eol ? (size_t)(eol - in) - pos : len - pos;
            lineno++;
            if (ll > 0 && strspn(in + pos, " \t\r") < ll) {
                st = aw_tlog_record_canon(in + pos, ll, rec, &rl, &e);
                if (st != AW_OK)
                    fprintf(stderr, "aupwatch: <stdin>:%zu: %s\n", lineno, e.msg);
                else if ((st = aw_tlog_add(t, rec, rl, NULL, &e)) == AW_OK)
                    count++;
            }
            pos += ll + 1;
        }
        if (st != AW_OK) {
            aw_tlog_close(t);
            free(in);
            return 1;
        }
    }
    if (st == AW_OK)
        st = aw_tlog_sync(t, &e);
    if (st != AW_OK) {
        fprintf(stderr, "aupwatch: %s\n", e.msg);
        aw_tlog_close(t);
        free(in);
        return st == AW_ERR ? 1 : 2;
    }
    for (uint64_t i = 0; i < count; i++)
        printf("%" PRIu64 "\n", first + i);
    fprintf(stderr, "appended %" PRIu64 " record(s); size %" PRIu64
            ", published checkpoint %" PRIu64 "\n",
            count, aw_tlog_size(t), aw_tlog_published_size(t));
    aw_tlog_close(t);
    free(in);
    return 0;
}

/* ------------------------------------------- checkpoint, proof, cosign */

static int cmd_checkpoint(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : NULL;
    aw_errbuf e;
    aw_tlog *t;
    char path[4096], *cp;
    size_t cl;
    if (!dir || dir[0] == '-')
        return usage_err(log_usage, "log checkpoint needs DIR");
    aw_status st = aw_tlog_open(dir, &t, &e);
    if (st == AW_OK) {
        st = aw_tlog_checkpoint(t, &e);
        aw_tlog_close(t);
    }
    snprintf(path, sizeof path, "%s/checkpoint", dir);
    if (st == AW_OK && (st = aw_tlog_read_file(path, 1 << 20, &cp, &cl, &e)) == AW_OK) {
        fwrite(cp, 1, cl, stdout);
        free(cp);
    }
    if (st != AW_OK)
        fprintf(stderr, "aupwatch: %s\n", e.msg);
    return status_exit(st);
}

static int cmd_proof(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : NULL;
    const char *idx = opt(argc, argv, "--index"), *sz = opt(argc, argv, "--size");
    const char *outf = opt(argc, argv, "-o");
    uint64_t index, size = 0;
    aw_errbuf e;
    aw_tlog *t;
    if (!dir || dir[0] == '-' || !idx ||
        aw_tlog_parse_u64(idx, strlen(idx), &index) != 0 ||
        (sz && aw_tlog_parse_u64(sz, strlen(sz), &size) != 0))
        return usage_err(log_usage, "log proof needs DIR and --index I");
    char *p = NULL;
    size_t pl = 0;
    aw_status st = aw_tlog_open(dir, &t, &e);
    if (st == AW_OK) {
        st = aw_tlog_prove(t, index, size, &p, &pl, &e);
        aw_tlog_close(t);
    }
    if (st == AW_OK) {
        if (outf)
            st = aw_tlog_write_atomic(outf, p, pl, 1, 1, &e);
        else
            fwrite(p, 1, pl, stdout);
    }
    free(p);
    if (st != AW_OK) {
        fprintf(stderr, "aupwatch: %s\n", e.msg);
        return st == AW_EIO ? 2 : 1;
    }
    return 0;
}

static int cmd_cosign(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : NULL;
    aw_note_key keys[64];
    size_t nk = 0;
    aw_errbuf e;
    for (int i = 2; i + 1 < argc && nk < 64; i++)
        if (!strcmp(argv[i], "--witness")) {
            if (aw_note_key_parse(argv[i + 1], strlen(argv[i + 1]), &keys[nk], &e) != AW_OK)
                return usage_err(log_usage, "bad --witness verifier key");
            nk++;
        }
    if (!dir || dir[0] == '-' || nk == 0)
        return usage_err(log_usage, "log add-cosignature needs DIR and --witness");
    char *in;
    size_t len;
    aw_tlog *t;
    if (read_all(stdin, &in, &len, 1 << 20) != 0)
        return 2;
    aw_status st = aw_tlog_open(dir, &t, &e);
    if (st == AW_OK) {
        st = aw_tlog_add_cosignatures(t, in, len, keys, nk, &e);
        aw_tlog_close(t);
    }
    free(in);
    if (st != AW_OK)
        fprintf(stderr, "aupwatch: %s\n", e.msg);
    return status_exit(st);
}

int aw_cmd_log(int argc, char **argv)
{
    if (argc < 2 || want_help(argc, argv)) {
        fputs(log_usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    const char *sub = argv[1];
    if (!strcmp(sub, "init"))
        return cmd_init(argc - 1, argv + 1);
    if (!strcmp(sub, "append"))
        return cmd_append(argc - 1, argv + 1);
    if (!strcmp(sub, "checkpoint"))
        return cmd_checkpoint(argc - 1, argv + 1);
    if (!strcmp(sub, "proof"))
        return cmd_proof(argc - 1, argv + 1);
    if (!strcmp(sub, "add-cosignature"))
        return cmd_cosign(argc - 1, argv + 1);
    fprintf(stderr, "aupwatch log: unknown subcommand '%s' (init, append, checkpoint, proof, add-cosignature)\n",
            sub);
    return usage_err(log_usage, NULL);
}

/* -------------------------------------------------------------- verify */

static int load_key(const char *arg, aw_note_key *k)
{
    aw_errbuf e;
    char *buf;
    size_t len;
    if (aw_note_key_parse(arg, strlen(arg), k, &e) == AW_OK)
        return 0;
    if (aw_tlog_read_file(arg, 4096, &buf, &len, &e) != AW_OK)
        return -1;
    while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
        len--;
    int rc = aw_note_key_parse(buf, len, k, &e) == AW_OK ? 0 : -1;
    free(buf);
    return rc;
}

static int verify_proof(const char *pf, const char *ef, const aw_note_key *k,
                        const aw_tlog_policy *pol)
{
    char *buf, *ent = NULL;
    size_t len, el = 0;
    aw_errbuf e;
    aw_tlog_proof *p;
    aw_checkpoint cp;
    if (aw_tlog_read_file(pf, 1 << 21, &buf, &len, &e) != AW_OK ||
        (ef && aw_tlog_read_file(ef, AW_TLOG_MAX_ENTRY, &ent, &el, &e) != AW_OK)) {
        fprintf(stderr, "aupwatch: %s\n", e.msg);
        free(buf);
        return 2;
    }
    aw_status st = aw_tlog_proof_parse(buf, len, &p, &e);
    free(buf);
    if (st == AW_OK) {
        st = aw_tlog_proof_verify(p, ent, el, k, pol, &cp, &e);
        if (st == AW_OK) {
            printf("verified: %s: entry %" PRIu64 " is included in %s at size %"
                   PRIu64 " (checkpoint signed by %s%s)\n",
                   pf, p->index, cp.origin, cp.size, k->name,
                   pol ? ", witness policy satisfied" : "");
            if (!ef && p->extra) {
                printf("entry: ");
                fwrite(p->extra, 1, p->extra_len, stdout);
                printf("\n");
            }
        }
        aw_tlog_proof_free(p);
    }
    free(ent);
    if (st != AW_OK) {
        printf("FAILED: %s: %s\n", pf, e.msg);
        return 1;
    }
    return 0;
}

int aw_cmd_verify(int argc, char **argv)
{
    const char *dir = NULL;
    aw_note_key k;
    aw_tlog_policy *pol = NULL;
    aw_errbuf e;
    if (want_help(argc, argv)) {
        fputs(verify_usage, stdout);
        return 0;
    }
    for (int i = 1; i < argc; i++) {
        if (argv[i][0] == '-') {
            i++; /* every option takes a value */
            continue;
        }
        if (dir)
            return usage_err(verify_usage, "more than one DIR");
        dir = argv[i];
    }
    const char *key = opt(argc, argv, "--key"), *pf = opt(argc, argv, "--proof");
    const char *polf = opt(argc, argv, "--policy"), *sf = opt(argc, argv, "--state");
    if (!key || (!dir && !pf))
        return usage_err(verify_usage, "verify needs --key and DIR or --proof");
    if (load_key(key, &k) != 0)
        return usage_err(verify_usage, "--key is neither a verifier key nor a file holding one");
    if (polf) {
        char *pb = NULL;
        size_t pl = 0;
        if (aw_tlog_read_file(polf, 1 << 20, &pb, &pl, &e) != AW_OK ||
            aw_tlog_policy_parse(pb, pl, &pol, &e) != AW_OK) {
            fprintf(stderr, "aupwatch: %s: %s\n", polf, e.msg);
            free(pb);
            return 2;
        }
        free(pb);
    }
    int rc = 0;
    if (dir) {
        aw_tlog_verify_opts o = {dir, opt(argc, argv, "--checkpoint"), &k, pol, sf};
        aw_tlog_verify_result r;
        aw_status st = aw_tlog_verify_dir(&o, &r, &e);
        if (st == AW_OK) {
            printf("verified: %s: %u checkpoint(s) signed by %s", dir,
                   r.checkpoints, k.name);
            if (pol)
                printf(", witness policy satisfied (%u cosignature(s))", r.cosigs);
            printf("\nverified: %s: tree of size %" PRIu64 " recomputed from the "
                   "entry bundles (%" PRIu64 " bytes); %" PRIu64 " tile/bundle "
                   "files match; every checkpoint root matches\n",
                   dir, r.size, r.bytes, r.files);
            if (r.ignored)
                printf("note: %u file(s) beyond the verified size were not "
                       "checked\n", r.ignored);
            if (sf && r.had_state)
                printf("verified: consistent with the trusted checkpoint of size %"
                       PRIu64 " in %s; now trusting size %" PRIu64 "\n",
                       r.trusted_size, sf, r.size);
            else if (sf)
                printf("trusting size %" PRIu64 " from now on (%s created)\n",
                       r.size, sf);
        } else {
            printf("FAILED: %s: %s\n", dir, e.msg);
            rc = st == AW_EIO ? 2 : 1;
        }
    }
    if (pf && rc == 0)
        rc = verify_proof(pf, opt(argc, argv, "--entry"), &k, pol);
    aw_tlog_policy_free(pol);
    return rc;
}
