/* emit_azure.c - aupwatch-sim: Azure resource-log JSON lines.
 *
 * Storage: StorageBlobLogs as exported by diagnostic settings (category
 * StorageWrite/Read/Delete, identity, properties.requestBodySize,
 * properties.objectKey "/account/container/blob"; TELEMETRY.md 1.3).
 * Speech batch transcription shows on the storage side as the Speech
 * resource's managed identity reading each recording [inf, 1.5].
 * AI volumes: Azure has no per-call language or audio details in its
 * logs; it has per-minute platform metrics (AudioSecondsTranscribed,
 * TextCharactersTranslated) exported in the metrics schema
 * (count/total/minimum/maximum/average, metricName, timeGrain PT1M).
 * Control plane: Activity Log records in the resource-log schema
 * (TELEMETRY.md 1.4). */
#include <stdio.h>

#include "sim.h"

typedef struct az_op {
    const char *op, *rp;
    int sec;
} az_op;

static const az_op aops[] = {
    {"MICROSOFT.COMPUTE/VIRTUALMACHINES/READ", "MICROSOFT.COMPUTE", 0},
    {"MICROSOFT.STORAGE/STORAGEACCOUNTS/READ", "MICROSOFT.STORAGE", 0},
    {"MICROSOFT.RESOURCES/DEPLOYMENTS/WRITE", "MICROSOFT.RESOURCES", 0},
    {"MICROSOFT.COMPUTE/VIRTUALMACHINES/START/ACTION", "MICROSOFT.COMPUTE", 0},
    {"MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/READ", "MICROSOFT.NETWORK", 0},
    {"MICROSOFT.COGNITIVESERVICES/ACCOUNTS/READ", "MICROSOFT.COGNITIVESERVICES", 0},
    {"MICROSOFT.STORAGE/STORAGEACCOUNTS/LISTKEYS/ACTION", "MICROSOFT.STORAGE", 1},
    {"MICROSOFT.AUTHORIZATION/ROLEASSIGNMENTS/WRITE", "MICROSOFT.AUTHORIZATION", 1},
    {"MICROSOFT.INSIGHTS/DIAGNOSTICSETTINGS/DELETE", "MICROSOFT.INSIGHTS", 1},
    {"MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/SECURITYRULES/WRITE", "MICROSOFT.NETWORK", 1},
};
const int azure_mgmt_n = sizeof aops / sizeof *aops;

static void upper(buf *b, const char *s)
{
    for (; *s; s++)
        b_ch(b, (*s >= 'a' && *s <= 'z') ? (char)(*s - 32) : *s);
}

static void sub_prefix(buf *b, tenant *t)
{
    B_LIT(b, "/SUBSCRIPTIONS/");
    upper(b, t->id);
    B_LIT(b, "/RESOURCEGROUPS/");
    upper(b, t->rg);
}

static void guid_of(buf *b, tenant *t, int i)
{
    /* stable per principal: derived from the role id text */
    const char *p = t->prin_id[i] + 4;
    for (int k = 0; k < 32; k++) {
        char c = p[k % 17];
        c = (char)((c >= 'A' && c <= 'F') ? c + 32 : c);
        b_ch(b, c);
        if (k == 7 || k == 11 || k == 15 || k == 19)
            b_ch(b, '-');
    }
}

static void blob(buf *b, tenant *t, const ev *e, int reader)
{
    static const char *const ops[] = {"PutBlob", "GetBlob", "DeleteBlob", "DeleteBlob"};
    static const char *const cats[] = {"StorageWrite", "StorageRead", "StorageDelete", "StorageDelete"};
    rng *r = &t->r;
    int op = reader ? OP_GET : e->op;
    B_LIT(b, "{\"time\":\"");
    b_time(b, e->t, 7, r);
    B_LIT(b, "\",\"resourceId\":\"");
    sub_prefix(b, t);
    B_LIT(b, "/PROVIDERS/MICROSOFT.STORAGE/STORAGEACCOUNTS/");
    upper(b, t->bucket[0]);
    B_LIT(b, "/BLOBSERVICES/DEFAULT\",\"category\":\"");
    b_str(b, cats[op]);
    B_LIT(b, "\",\"operationName\":\"");
    b_str(b, ops[op]);
    B_LIT(b, "\",\"operationVersion\":\"2023-11-03\",\"schemaVersion\":\"1.0\",\"statusCode\":");
    b_str(b, op == OP_PUT ? "201" : op == OP_GET ? "200" : "202");
    B_LIT(b, ",\"statusText\":\"Success\",\"durationMs\":");
    b_u64(b, 3 + rng_below(r, 40));
    B_LIT(b, ",\"callerIpAddress\":\"");
    if (reader) {
        b_str(b, "10.");
        b_u64(b, rng_below(r, 256));
        b_ch(b, '.');
        b_u64(b, rng_below(r, 256));
        B_LIT(b, ".4");
    } else {
        b_str(b, t->ip[e->prin]);
    }
    b_ch(b, ':');
    b_u64(b, 1024 + rng_below(r, 60000));
    B_LIT(b, "\",\"correlationId\":\"");
    b_uuid(b, r);
    B_LIT(b, "\",\"location\":\"");
    b_str(b, t->region);
    B_LIT(b, "\",\"protocol\":\"HTTPS\",\"uri\":\"https://");
    b_str(b, t->bucket[0]);
    B_LIT(b, ".blob.core.windows.net:443/");
    b_str(b, t->bucket[1]);
    b_ch(b, '/');
    b_str(b, e->key);
    B_LIT(b, "\",\"identity\":{\"type\":\"OAuth\",\"requester\":{\"appId\":\"");
    if (reader)
        guid_of(b, t, t->nprin - 1 > 0 ? t->nprin - 1 : 0); /* the Speech resource identity */
    else
        guid_of(b, t, e->prin);
    B_LIT(b, "\",\"audience\":\"https://storage.azure.com/\",\"objectId\":\"");
    guid_of(b, t, reader ? (t->nprin - 1 > 0 ? t->nprin - 1 : 0) : e->prin);
    B_LIT(b, "\",\"tenantId\":\"");
    b_str(b, t->org);
    B_LIT(b, "\",\"tokenIssuer\":\"https://sts.windows.net/");
    b_str(b, t->org);
    B_LIT(b, "/\"}},\"properties\":{\"accountName\":\"");
    b_str(b, t->bucket[0]);
    B_LIT(b, "\",\"userAgentHeader\":\"");
    b_str(b, reader ? "azsdk-net-Storage.Blobs/12.19.1 (.NET 8.0.7; Microsoft Windows 10.0.20348)"
                    : "azsdk-python-storage-blob/12.20.0 Python/3.11.9 (Linux-5.15.0-x86_64-with-glibc2.35)");
    B_LIT(b, "\",\"referrerHeader\":\"\",\"clientRequestId\":\"");
    b_uuid(b, r);
    B_LIT(b, "\",\"etag\":\"0x8DC");
    b_hex(b, r, 12, 1);
    B_LIT(b, "\",\"serverLatencyMs\":");
    b_u64(b, 2 + rng_below(r, 30));
    B_LIT(b, ",\"serviceType\":\"blob\",\"operationCount\":0,\"requestHeaderSize\":");
    b_u64(b, 600 + rng_below(r, 400));
    B_LIT(b, ",\"requestBodySize\":");
    b_u64(b, op == OP_PUT ? e->bytes : 0);
    B_LIT(b, ",\"responseHeaderSize\":");
    b_u64(b, 250 + rng_below(r, 150));
    B_LIT(b, ",\"responseBodySize\":");
    b_u64(b, op == OP_GET ? e->bytes : 0);
    B_LIT(b, ",\"contentLengthHeader\":");
    b_u64(b, op == OP_PUT ? e->bytes : 0);
    B_LIT(b, ",\"requestMd5\":\"\",\"serverMd5\":\"\",\"lastModifiedTime\":\"\",\"conditionsUsed\":\"\",\"objectKey\":\"/");
    b_str(b, t->bucket[0]);
    b_ch(b, '/');
    b_str(b, t->bucket[1]);
    b_ch(b, '/');
    b_str(b, e->key);
    B_LIT(b, "\",\"metricResponseType\":\"Success\",\"tlsVersion\":\"TLS 1.2\",\"accessTier\":\"Hot\"},"
             "\"resourceType\":\"Microsoft.Storage/storageAccounts/blobServices\"}");
}

static void metric(buf *b, tenant *t, int64_t minute, const char *acct, const char *name, double total,
                   uint64_t count)
{
    char num[64];
    B_LIT(b, "{\"count\":");
    b_u64(b, count);
    B_LIT(b, ",\"total\":");
    b_str(b, (snprintf(num, sizeof num, "%.1f", total), num));
    B_LIT(b, ",\"minimum\":0,\"maximum\":");
    b_str(b, num);
    B_LIT(b, ",\"average\":");
    b_str(b, (snprintf(num, sizeof num, "%.2f", count ? total / (double)count : 0.0), num));
    B_LIT(b, ",\"resourceId\":\"");
    sub_prefix(b, t);
    B_LIT(b, "/PROVIDERS/MICROSOFT.COGNITIVESERVICES/ACCOUNTS/");
    upper(b, acct);
    B_LIT(b, "\",\"time\":\"");
    b_time(b, minute, 0, NULL);
    b->n--;
    B_LIT(b, ".0000000Z");
    B_LIT(b, "\",\"metricName\":\"");
    b_str(b, name);
    B_LIT(b, "\",\"timeGrain\":\"PT1M\"}\n");
}

/* The per-minute metric sums collected by emit_azure for a window. */
typedef struct az_acc {
    const tenant *t;
    double stt_s[5], mt_c[5];
    uint64_t stt_n[5], mt_n[5];
    int64_t w0;
} az_acc;
static __thread az_acc acc;

void azure_window_begin(tenant *t, int64_t w0)
{
    memset(&acc, 0, sizeof acc);
    acc.t = t;
    acc.w0 = w0;
}

void azure_window_end(buf *b, tenant *t)
{
    char acct[48];
    for (int m = 0; m < 5; m++) {
        snprintf(acct, sizeof acct, "%.20s-speech", t->bucket[1]);
        if (acc.stt_n[m])
            metric(b, t, acc.w0 + 60 * m, acct, "AudioSecondsTranscribed", acc.stt_s[m], acc.stt_n[m]);
        snprintf(acct, sizeof acct, "%.20s-text", t->bucket[1]);
        if (acc.mt_n[m])
            metric(b, t, acc.w0 + 60 * m, acct, "TextCharactersTranslated", acc.mt_c[m], acc.mt_n[m]);
    }
}

static void activity(buf *b, tenant *t, const ev *e)
{
    rng *r = &t->r;
    const az_op *a = &aops[e->mgmt];
    B_LIT(b, "{\"time\":\"");
    b_time(b, e->t, 7, r);
    B_LIT(b, "\",\"resourceId\":\"");
    sub_prefix(b, t);
    B_LIT(b, "/PROVIDERS/");
    b_str(b, a->rp);
    B_LIT(b, "/X");
    b_hex(b, r, 6, 1);
    B_LIT(b, "\",\"operationName\":\"");
    b_str(b, a->op);
    B_LIT(b, "\",\"category\":\"Administrative\",\"resultType\":\"Success\",\"resultSignature\":\"Succeeded.OK\","
             "\"durationMs\":\"0\",\"callerIpAddress\":\"");
    b_str(b, t->ip[e->prin]);
    B_LIT(b, "\",\"correlationId\":\"");
    b_uuid(b, r);
    B_LIT(b, "\",\"identity\":{\"authorization\":{\"scope\":\"");
    sub_prefix(b, t);
    B_LIT(b, "\",\"action\":\"");
    b_str(b, a->op);
    B_LIT(b, "\",\"evidence\":{\"role\":\"Contributor\",\"principalType\":\"ServicePrincipal\"}},\"claims\":{\"appid\":\"");
    guid_of(b, t, e->prin);
    B_LIT(b, "\",\"http://schemas.microsoft.com/identity/claims/tenantid\":\"");
    b_str(b, t->org);
    B_LIT(b, "\"}},\"level\":\"");
    b_str(b, a->sec ? "Warning" : "Information");
    B_LIT(b, "\",\"location\":\"global\",\"properties\":{\"statusCode\":\"OK\",\"serviceRequestId\":\"");
    b_uuid(b, r);
    B_LIT(b, "\",\"eventCategory\":\"Administrative\",\"entity\":\"");
    sub_prefix(b, t);
    B_LIT(b, "\",\"message\":\"");
    b_str(b, a->op);
    B_LIT(b, "\",\"hierarchy\":\"");
    b_str(b, t->org);
    B_LIT(b, "\"}}\n");
}

void emit_azure(buf *b, tenant *t, const ev *e)
{
    int m = (int)((e->t - acc.w0) / 60);
    m = m < 0 ? 0 : m > 4 ? 4 : m;
    switch (e->op) {
    case OP_STT:
    case OP_CALLANALYTICS:
        blob(b, t, e, 1);
        b_ch(b, '\n');
        acc.stt_s[m] += (double)e->bytes / codecs[e->codec].bytes_per_s;
        acc.stt_n[m]++;
        break;
    case OP_MT:
        acc.mt_c[m] += 800 + (double)rng_below(&t->r, 3000);
        acc.mt_n[m]++;
        break;
    case OP_MGMT:
        activity(b, t, e);
        break;
    case OP_DELETE_MULTI:
        for (int i = 0; i < 20; i++) {
            blob(b, t, e, 0);
            b_ch(b, '\n');
        }
        break;
    default:
        blob(b, t, e, 0);
        b_ch(b, '\n');
        break;
    }
}
