/* bench_json.c - throughput of the input layer (src/input, src/json).
 *
 * Generates ~200 MB (argv[1] MB) of CloudTrail-like JSON lines in memory,
 * puts them in a memfd, and reports MB/s for:
 *   memchr        counting newlines in memory (upper bound)
 *   read+memchr   read() from the memfd in 1 MiB chunks + memchr
 *   frame         aw_reader over the memfd (read + framing)
 *   parse         aw_doc_parse on every line, from memory
 *   frame+parse   aw_reader + aw_doc_parse, end to end
 * Build and run: make bench && build/bench/bench_json [MB] */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "aupwatch/aw_input.h"
#include "aupwatch/aw_json.h"
#include "bench_util.h"

static uint64_t rng = 88172645463325252ULL;

static uint64_t next_rand(void)
{
    return bench_xorshift(&rng);
}

static const char *names[] = {
    "GetObject", "PutObject", "ListBuckets", "AssumeRole", "ConsoleLogin",
    "DescribeInstances", "CreateUser", "AttachRolePolicy", "GetCallerIdentity",
    "StopLogging", "DeleteTrail", "CreateAccessKey",
};
static const char *sources[] = {
    "s3.amazonaws.com", "iam.amazonaws.com", "sts.amazonaws.com",
    "ec2.amazonaws.com", "signin.amazonaws.com", "cloudtrail.amazonaws.com",
};

static size_t gen_record(char *o, size_t cap, unsigned long i)
{
    uint64_t r = next_rand();
    const char *name = names[r % 12], *src = sources[(r >> 8) % 6];
    return (size_t)snprintf(o, cap,
        "{\"eventVersion\":\"1.08\",\"userIdentity\":{\"type\":\"AssumedRole\","
        "\"principalId\":\"AROA%012llu:user%lu\",\"arn\":\"arn:aws:sts::"
        "1234567890%02u:assumed-role/Admin/user%lu\",\"accountId\":\"1234567890"
        "%02u\",\"accessKeyId\":\"ASIA%016llX\",\"sessionContext\":{"
        "\"sessionIssuer\":{\"type\":\"Role\",\"principalId\":\"AROA%012llu\","
        "\"arn\":\"arn:aws:iam::123456789012:role/Admin\",\"accountId\":"
        "\"123456789012\",\"userName\":\"Admin\"},\"attributes\":{"
        "\"creationDate\":\"2024-05-%02uT10:%02u:%02uZ\",\"mfaAuthenticated\":"
        "\"%s\"}}},\"eventTime\":\"2024-05-%02uT10:%02u:%02uZ\",\"eventSource\":"
        "\"%s\",\"eventName\":\"%s\",\"awsRegion\":\"us-east-%u\","
        "\"sourceIPAddress\":\"10.%u.%u.%u\",\"userAgent\":\"aws-cli/2.15.%u "
        "Python/3.11.6 Linux/6.5 exe/x86_64.ubuntu.22 prompt/off command/"
        "s3.cp \\\"quoted\\\" caf\\u00e9\",\"requestParameters\":{\"bucketName\":"
        "\"bucket-%u\",\"key\":\"logs\\/2024\\/05\\/%lu.json.gz\",\"Host\":"
        "\"bucket-%u.s3.us-east-1.amazonaws.com\",\"x-id\":\"%s\"},"
        "\"responseElements\":null,\"additionalEventData\":{\"bytesTransferredIn"
        "\":%u,\"bytesTransferredOut\":%u.%u,\"SignatureVersion\":\"SigV4\"},"
        "\"requestID\":\"%016llX\",\"eventID\":\"%08llx-%04x-%04x-%04x-%012llx\","
        "\"readOnly\":%s,\"resources\":[{\"type\":\"AWS::S3::Object\",\"ARN\":"
        "\"arn:aws:s3:::bucket-%u/logs/%lu\"},{\"accountId\":\"123456789012\","
        "\"type\":\"AWS::S3::Bucket\",\"ARN\":\"arn:aws:s3:::bucket-%u\"}],"
        "\"eventType\":\"AwsApiCall\",\"managementEvent\":false,"
        "\"recipientAccountId\":\"123456789012\",\"eventCategory\":\"Data\","
        "\"tlsDetails\":{\"tlsVersion\":\"TLSv1.3\",\"cipherSuite\":"
        "\"TLS_AES_128_GCM_SHA256\",\"clientProvidedHostHeader\":\"bucket-%u."
        "s3.us-east-1.amazonaws.com\"}}\n",
        (unsigned long long)(r % 1000000000000ULL), i,
        (unsigned)(r % 100), i, (unsigned)(r % 100),
        (unsigned long long)r, (unsigned long long)(r % 999999999999ULL),
        (unsigned)(r % 28 + 1), (unsigned)(r % 60), (unsigned)(r >> 6) % 60,
        r & 1 ? "true" : "false",
        (unsigned)(r % 28 + 1), (unsigned)(r % 60), (unsigned)(r >> 6) % 60,
        src, name, (unsigned)(r % 2 + 1),
        (unsigned)(r & 255), (unsigned)(r >> 8 & 255), (unsigned)(r >> 16 & 255),
        (unsigned)(r % 30), (unsigned)(r % 500), i, (unsigned)(r % 500), name,
        (unsigned)(r % 100000), (unsigned)(r % 1000), (unsigned)(r % 10),
        (unsigned long long)(r * 31), (unsigned long long)(r & 0xffffffff),
        (unsigned)(r >> 32 & 0xffff), (unsigned)(r >> 16 & 0xffff),
        (unsigned)(r >> 48), (unsigned long long)(r >> 12),
        r & 2 ? "true" : "false", (unsigned)(r % 500), i, (unsigned)(r % 500),
        (unsigned)(r % 500));
}

int main(int argc, char **argv)
{
    size_t target = (size_t)(argc > 1 ? atol(argv[1]) : 200) << 20;
    size_t cap = target + 8192, len = 0, lines = 0, nrec = 0, bytes = 0;
    char *buf = malloc(cap), path[64], *chunk;
    unsigned long i = 0;
    double t, mb;
    aw_doc *d = aw_doc_new();
    aw_reader *r;
    aw_record rec;
    aw_errbuf err;
    int fd;
    const char *p, *e;
    ssize_t n;
    if (!buf || !d)
        return 1;
    while (len < target)
        len += gen_record(buf + len, cap - len, i++);
    mb = (double)len / (1 << 20);
    printf("input: %.1f MB, %lu records, avg %.0f bytes\n", mb, i,
           (double)len / (double)i);
    fd = memfd_create("bench_json", 0);
    if (fd < 0 || write(fd, buf, len) != (ssize_t)len)
        return 1;
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);

    /* baseline: memchr newline count in memory */
    t = bench_now();
    for (p = buf, e = buf + len; (p = memchr(p, '\n', (size_t)(e - p)));
         p++)
        lines++;
    t = bench_now() - t;
    printf("%-14s %8.0f MB/s  (%zu lines)\n", "memchr", mb / t, lines);

    /* baseline: read() + memchr */
    chunk = malloc(1 << 20);
    lseek(fd, 0, SEEK_SET);
    lines = 0;
    t = bench_now();
    while ((n = read(fd, chunk, 1 << 20)) > 0)
        for (p = chunk, e = chunk + n;
             (p = memchr(p, '\n', (size_t)(e - p))); p++)
            lines++;
    t = bench_now() - t;
    printf("%-14s %8.0f MB/s  (%zu lines)\n", "read+memchr", mb / t, lines);
    free(chunk);

    /* framing */
    if (aw_reader_open(&r, path, NULL, &err) != AW_OK) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    t = bench_now();
    while (aw_reader_next(r, &rec, &err) == AW_OK) {
        nrec++;
        bytes += rec.len;
    }
    t = bench_now() - t;
    aw_reader_close(r);
    printf("%-14s %8.0f MB/s  (%zu records)\n", "frame", mb / t, nrec);

    /* parse only */
    nrec = 0;
    t = bench_now();
    for (p = buf, e = buf + len; p < e;) {
        const char *nl = memchr(p, '\n', (size_t)(e - p));
        if (aw_doc_parse(d, p, (size_t)(nl - p), NULL, &err) != AW_OK) {
            fprintf(stderr, "parse: %s\n", err.msg);
            return 1;
        }
        nrec++;
        p = nl + 1;
    }
    t = bench_now() - t;
    printf("%-14s %8.0f MB/s  (%zu records, %zu nodes in the last)\n",
           "parse", mb / t, nrec, aw_doc_count(d));

    /* end to end */
    nrec = 0;
    if (aw_reader_open(&r, path, NULL, &err) != AW_OK)
        return 1;
    t = bench_now();
    while (aw_reader_next(r, &rec, &err) == AW_OK) {
        if (aw_doc_parse(d, rec.data, rec.len, NULL, &err) != AW_OK)
            return 1;
        nrec++;
    }
    t = bench_now() - t;
    aw_reader_close(r);
    printf("%-14s %8.0f MB/s  (%zu records)\n", "frame+parse", mb / t, nrec);
    (void)bytes;
    close(fd);
    aw_doc_free(d);
    free(buf);
    return 0;
}
