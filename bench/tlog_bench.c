/* tlog_bench.c - decision log benchmarks: durable appends per second by
 * batch size, proof generation per second on a large log, and full-log
 * verification time. Driven by bench/tlog_bench.sh. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aupwatch/aw_tlog.h"
#include "tlog/tlog_int.h"
#include "bench_util.h"

static int die(const char *what, const aw_errbuf *e)
{
    fprintf(stderr, "tlog_bench: %s: %s\n", what, e->msg);
    return 1;
}

static int mk(const char *dir, const char *kf, int no_fsync)
{
    char sk[400], vk[400];
    aw_errbuf e;
    if (aw_note_keygen("bench.example/log", sk, sizeof sk, vk, sizeof vk, &e) != AW_OK)
        return die("keygen", &e);
    FILE *f = fopen(kf, "w");
    if (!f)
        return 1;
    fprintf(f, "%s\n", sk);
    fclose(f);
    char vp[4200];
    snprintf(vp, sizeof vp, "%s.pub", kf);
    if ((f = fopen(vp, "w"))) {
        fprintf(f, "%s\n", vk);
        fclose(f);
    }
    aw_tlog_opts o = {"bench.example/log", kf, 0, 0, no_fsync};
    if (aw_tlog_init(dir, &o, &e) != AW_OK)
        return die("init", &e);
    return 0;
}

/* append DIR KEYFILE BATCH SECONDS ENTRYLEN: durable batches */
static int bench_append(char **av)
{
    const char *dir = av[0], *kf = av[1];
    unsigned batch = (unsigned)atoi(av[2]);
    double secs = atof(av[3]);
    size_t elen = (size_t)atoi(av[4]);
    aw_errbuf e;
    aw_tlog *t;
    if (mk(dir, kf, 0) || aw_tlog_open(dir, &t, &e) != AW_OK)
        return 1;
    uint8_t *ent = malloc(elen);
    uint64_t n = 0;
    unsigned batches = 0;
    double t0 = bench_now(), t1;
    do {
        for (unsigned i = 0; i < batch; i++, n++) {
            memset(ent, 'a' + (int)(n % 26), elen);
            memcpy(ent, &n, sizeof n);
            if (aw_tlog_add(t, ent, elen, NULL, &e) != AW_OK)
                return die("add", &e);
        }
        if (aw_tlog_sync(t, &e) != AW_OK)
            return die("sync", &e);
        batches++;
        t1 = bench_now();
    } while (t1 - t0 < secs);
    if (aw_tlog_checkpoint(t, &e) != AW_OK)
        return die("checkpoint", &e);
    printf("append batch=%u entries=%" PRIu64 " batches=%u seconds=%.2f "
           "appends_per_s=%.0f batch_latency_ms=%.2f\n",
           batch, n, batches, t1 - t0, (double)n / (t1 - t0),
           1000.0 * (t1 - t0) / batches);
    aw_tlog_close(t);
    free(ent);
    return 0;
}

/* build DIR KEYFILE N ENTRYLEN: a large log, fsync off (setup only) */
static int bench_build(char **av)
{
    const char *dir = av[0], *kf = av[1];
    uint64_t total = strtoull(av[2], NULL, 10);
    size_t elen = (size_t)atoi(av[3]);
    aw_errbuf e;
    aw_tlog *t;
    if (mk(dir, kf, 1) || aw_tlog_open(dir, &t, &e) != AW_OK)
        return 1;
    aw_tlog_set_fsync(t, 0);
    uint8_t *ent = malloc(elen);
    double t0 = bench_now();
    for (uint64_t n = 0; n < total;) {
        for (unsigned i = 0; i < 65536 && n < total; i++, n++) {
            memset(ent, 'a' + (int)(n % 26), elen);
            memcpy(ent, &n, sizeof n);
            if (aw_tlog_add(t, ent, elen, NULL, &e) != AW_OK)
                return die("add", &e);
        }
        if (aw_tlog_sync(t, &e) != AW_OK)
            return die("sync", &e);
    }
    if (aw_tlog_checkpoint(t, &e) != AW_OK)
        return die("checkpoint", &e);
    printf("build entries=%" PRIu64 " entry_bytes=%zu seconds=%.2f (fsync off)\n",
           total, elen, bench_now() - t0);
    aw_tlog_close(t);
    free(ent);
    return 0;
}

/* prove DIR COUNT: tlog-proofs (tiles read, proof verified, formatted) */
static int bench_prove(char **av)
{
    const char *dir = av[0];
    unsigned count = (unsigned)atoi(av[1]);
    aw_errbuf e;
    aw_tlog *t;
    if (aw_tlog_open(dir, &t, &e) != AW_OK)
        return die("open", &e);
    uint64_t size = aw_tlog_published_size(t);
    srand(42);
    double t0 = bench_now();
    for (unsigned i = 0; i < count; i++) {
        uint64_t idx = ((uint64_t)rand() << 31 ^ (uint64_t)rand()) % size;
        char *p;
        size_t pl;
        if (aw_tlog_prove(t, idx, 0, &p, &pl, &e) != AW_OK)
            return die("prove", &e);
        free(p);
    }
    double dt = bench_now() - t0;
    printf("prove size=%" PRIu64 " proofs=%u seconds=%.2f proofs_per_s=%.0f "
           "(each: read checkpoint, tiles, bundle; build; verify; format)\n",
           size, count, dt, count / dt);
    aw_tlog_close(t);
    return 0;
}

/* verify DIR VKEYFILE */
static int bench_verify(char **av)
{
    char *vk;
    size_t vl;
    aw_errbuf e;
    aw_note_key k;
    if (aw_tlog_read_file(av[1], 4096, &vk, &vl, &e) != AW_OK)
        return die("vkey", &e);
    while (vl && vk[vl - 1] == '\n')
        vl--;
    if (aw_note_key_parse(vk, vl, &k, &e) != AW_OK)
        return die("vkey", &e);
    aw_tlog_verify_opts o = {av[0], NULL, &k, NULL, NULL};
    aw_tlog_verify_result r;
    double t0 = bench_now();
    if (aw_tlog_verify_dir(&o, &r, &e) != AW_OK)
        return die("verify", &e);
    double dt = bench_now() - t0;
    printf("verify size=%" PRIu64 " files=%" PRIu64 " entry_bytes=%" PRIu64
           " seconds=%.2f entries_per_s=%.0f\n",
           r.size, r.files, r.bytes, dt, (double)r.size / dt);
    free(vk);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 7 && !strcmp(argv[1], "append"))
        return bench_append(argv + 2);
    if (argc >= 6 && !strcmp(argv[1], "build"))
        return bench_build(argv + 2);
    if (argc >= 4 && !strcmp(argv[1], "prove"))
        return bench_prove(argv + 2);
    if (argc >= 4 && !strcmp(argv[1], "verify"))
        return bench_verify(argv + 2);
    fprintf(stderr, "usage: tlog_bench append DIR KEY BATCH SECS ENTRYLEN | "
                    "build DIR KEY N ENTRYLEN | prove DIR COUNT | verify DIR VKEYFILE\n");
    return 2;
}
