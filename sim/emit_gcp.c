/* emit_gcp.c - aupwatch-sim: GCP Cloud Audit Log LogEntry lines.
 *
 * Shape as the real storage.objects.create entry in
 * ../shared/telemetry/datasets/gcp-audit-log-examples (line 6):
 * protoPayload (AuditLog) with authenticationInfo, requestMetadata,
 * authorizationInfo[], resourceName projects/_/buckets/B/objects/O,
 * request.insertObjectSpec.resource.contentType, response.size as a
 * string; resource.labels; logName .../cloudaudit.googleapis.com%2F
 * data_access. Speech-to-Text (v1 LongRunningRecognize, RecognitionConfig
 * encoding/sampleRateHertz/languageCode/model) and Translation v3
 * TranslateText (source/target language, no contents) follow the audit
 * documentation; their request bodies are [inf] in TELEMETRY.md 1.6. */
#include "sim.h"

typedef struct g_op {
    const char *svc, *method, *log;
    int sec;
} g_op;

static const g_op gops[] = {
    {"compute.googleapis.com", "v1.compute.instances.list", "data_access", 0},
    {"storage.googleapis.com", "storage.buckets.list", "data_access", 0},
    {"compute.googleapis.com", "v1.compute.instances.start", "activity", 0},
    {"iam.googleapis.com", "google.iam.admin.v1.GetServiceAccount", "data_access", 0},
    {"cloudresourcemanager.googleapis.com", "GetIamPolicy", "data_access", 0},
    {"compute.googleapis.com", "v1.compute.disks.createSnapshot", "activity", 0},
    {"iam.googleapis.com", "google.iam.admin.v1.CreateServiceAccountKey", "activity", 1},
    {"cloudresourcemanager.googleapis.com", "SetIamPolicy", "activity", 1},
    {"logging.googleapis.com", "google.logging.v2.ConfigServiceV2.DeleteSink", "activity", 1},
    {"compute.googleapis.com", "v1.compute.firewalls.insert", "activity", 1},
};
const int gcp_mgmt_n = sizeof gops / sizeof *gops;

static void email(buf *b, tenant *t, int i)
{
    b_str(b, t->prin[i]);
    b_ch(b, '@');
    b_str(b, t->id);
    B_LIT(b, ".iam.gserviceaccount.com");
}

static void head(buf *b, tenant *t, const ev *e, const char *svc, const char *method)
{
    B_LIT(b, "{\"protoPayload\":{\"@type\":\"type.googleapis.com/google.cloud.audit.AuditLog\",\"status\":{},"
             "\"authenticationInfo\":{\"principalEmail\":\"");
    email(b, t, e->prin);
    B_LIT(b, "\"},\"requestMetadata\":{\"callerIp\":\"");
    b_str(b, t->ip[e->prin]);
    B_LIT(b, "\",\"callerSuppliedUserAgent\":\"");
    b_str(b, (t->idx & 1) ? "gcloud-golang-storage/1.43.0 google-api-go-client/0.5"
                          : "gcloud-python/2.18.0 gl-python/3.11.9 grpc/1.64.1 gax/2.19.1");
    B_LIT(b, "\",\"requestAttributes\":{\"time\":\"");
    b_time(b, e->t, 9, &t->r);
    B_LIT(b, "\",\"auth\":{}},\"destinationAttributes\":{}},\"serviceName\":\"");
    b_str(b, svc);
    B_LIT(b, "\",\"methodName\":\"");
    b_str(b, method);
    B_LIT(b, "\",");
}

static void obj(buf *b, tenant *t, const ev *e)
{
    B_LIT(b, "projects/_/buckets/");
    b_str(b, t->bucket[e->bucket]);
    B_LIT(b, "/objects/");
    b_str(b, e->key);
}

static void tail(buf *b, tenant *t, const ev *e, const char *rtype, const char *log, const char *sev)
{
    rng *r = &t->r;
    B_LIT(b, "\"insertId\":\"");
    b_hex(b, r, 12, 0);
    B_LIT(b, "\",\"resource\":{\"type\":\"");
    b_str(b, rtype);
    B_LIT(b, "\",\"labels\":{\"project_id\":\"");
    b_str(b, t->id);
    if (!strcmp(rtype, "gcs_bucket")) {
        B_LIT(b, "\",\"location\":\"");
        b_str(b, t->region);
        B_LIT(b, "\",\"bucket_name\":\"");
        b_str(b, t->bucket[e->bucket]);
    }
    B_LIT(b, "\"}},\"timestamp\":\"");
    b_time(b, e->t, 9, r);
    B_LIT(b, "\",\"severity\":\"");
    b_str(b, sev);
    B_LIT(b, "\",\"logName\":\"projects/");
    b_str(b, t->id);
    B_LIT(b, "/logs/cloudaudit.googleapis.com%2F");
    b_str(b, log);
    B_LIT(b, "\",\"receiveTimestamp\":\"");
    b_time(b, e->t + 1, 9, r);
    B_LIT(b, "\"}\n");
}

static void gcs(buf *b, tenant *t, const ev *e)
{
    static const char *const m[] = {"storage.objects.create", "storage.objects.get", "storage.objects.delete",
                                    "storage.objects.delete"};
    rng *r = &t->r;
    int codec_known = e->codec >= 0 && t->kind != K_BACKGROUND && t->kind != K_NEWSROOM;
    const char *ctype = !codec_known || t->keystyle == 3 || t->keystyle == 4 ? "application/octet-stream"
                        : codecs[e->codec].mime;
    if (t->kind == K_BACKGROUND || t->kind == K_NEWSROOM) {
        const char *dot = strrchr(e->key, '.');
        ctype = !dot ? "application/octet-stream" : !strcmp(dot, ".jpg") ? "image/jpeg"
              : !strcmp(dot, ".png") ? "image/png" : !strcmp(dot, ".json") ? "application/json"
              : !strcmp(dot, ".html") ? "text/html" : !strcmp(dot, ".csv") ? "text/csv"
              : "application/octet-stream";
    }
    head(b, t, e, "storage.googleapis.com", m[e->op]);
    B_LIT(b, "\"authorizationInfo\":[{\"resource\":\"");
    obj(b, t, e);
    B_LIT(b, "\",\"permission\":\"");
    b_str(b, e->op == OP_PUT ? "storage.objects.create" : e->op == OP_GET ? "storage.objects.get"
                                                                          : "storage.objects.delete");
    B_LIT(b, "\",\"granted\":true,\"resourceAttributes\":{}}],\"resourceName\":\"");
    obj(b, t, e);
    B_LIT(b, "\",");
    if (e->op == OP_PUT) {
        B_LIT(b, "\"request\":{\"insertObjectSpec\":{\"projection\":\"NO_ACL\",\"resource\":{\"bucket\":\"");
        b_str(b, t->bucket[e->bucket]);
        B_LIT(b, "\",\"storageClass\":\"STANDARD\",\"contentType\":\"");
        b_str(b, ctype);
        B_LIT(b, "\",\"name\":\"");
        b_str(b, e->key);
        B_LIT(b, "\"}}},\"response\":{\"metageneration\":\"1\",\"bucket\":\"");
        b_str(b, t->bucket[e->bucket]);
        B_LIT(b, "\",\"name\":\"");
        b_str(b, e->key);
        B_LIT(b, "\",\"timeCreated\":\"");
        b_time(b, e->t, 3, r);
        B_LIT(b, "\",\"storageClass\":\"STANDARD\",\"generation\":\"");
        b_u64(b, (uint64_t)e->t * 1000000 + rng_below(r, 1000000));
        B_LIT(b, "\",\"contentType\":\"");
        b_str(b, ctype);
        B_LIT(b, "\",\"size\":\"");
        b_u64(b, e->bytes);
        B_LIT(b, "\"},");
    }
    B_LIT(b, "\"resourceLocation\":{\"currentLocations\":[\"");
    b_str(b, t->region);
    B_LIT(b, "\"]}},");
    tail(b, t, e, "gcs_bucket", "data_access", "INFO");
}

static void stt(buf *b, tenant *t, const ev *e)
{
    const codec_info *c = &codecs[e->codec];
    head(b, t, e, "speech.googleapis.com", "google.cloud.speech.v1.Speech.LongRunningRecognize");
    B_LIT(b, "\"authorizationInfo\":[{\"resource\":\"projects/");
    b_str(b, t->id);
    B_LIT(b, "\",\"permission\":\"speech.recognizers.recognize\",\"granted\":true,\"resourceAttributes\":{}}],"
             "\"resourceName\":\"projects/");
    b_str(b, t->id);
    B_LIT(b, "\",\"request\":{\"@type\":\"type.googleapis.com/google.cloud.speech.v1.LongRunningRecognizeRequest\","
             "\"config\":{\"encoding\":\"");
    b_str(b, c->gcp_enc);
    B_LIT(b, "\",\"sampleRateHertz\":");
    b_u64(b, (uint64_t)c->rate_hz);
    B_LIT(b, ",\"languageCode\":\"");
    b_str(b, e->lang);
    if (c->rate_hz <= 8000)
        B_LIT(b, "\",\"model\":\"phone_call");
    B_LIT(b, "\"},\"audio\":{\"uri\":\"gs://");
    b_str(b, t->bucket[e->bucket]);
    b_ch(b, '/');
    b_str(b, e->key);
    B_LIT(b, "\"}},\"resourceLocation\":{\"currentLocations\":[\"global\"]}},");
    tail(b, t, e, "audited_resource", "data_access", "INFO");
}

static void mt(buf *b, tenant *t, const ev *e)
{
    head(b, t, e, "translate.googleapis.com", "google.cloud.translation.v3.TranslationService.TranslateText");
    B_LIT(b, "\"authorizationInfo\":[{\"resource\":\"projects/");
    b_str(b, t->id);
    B_LIT(b, "\",\"permission\":\"cloudtranslate.generalModels.predict\",\"granted\":true,\"resourceAttributes\":{}}],"
             "\"resourceName\":\"projects/");
    b_str(b, t->id);
    B_LIT(b, "/locations/global\",\"request\":{\"@type\":\"type.googleapis.com/google.cloud.translation.v3.TranslateTextRequest\","
             "\"parent\":\"projects/");
    b_str(b, t->id);
    B_LIT(b, "/locations/global\",\"mimeType\":\"text/plain\",\"sourceLanguageCode\":\"");
    b_str(b, e->src);
    B_LIT(b, "\",\"targetLanguageCode\":\"");
    b_str(b, e->dst);
    B_LIT(b, "\"}},");
    tail(b, t, e, "audited_resource", "data_access", "INFO");
}

static void mgmt(buf *b, tenant *t, const ev *e)
{
    const g_op *g = &gops[e->mgmt];
    head(b, t, e, g->svc, g->method);
    B_LIT(b, "\"authorizationInfo\":[{\"resource\":\"projects/");
    b_str(b, t->id);
    B_LIT(b, "\",\"granted\":true,\"resourceAttributes\":{}}],\"resourceName\":\"projects/");
    b_str(b, t->id);
    B_LIT(b, "\"},");
    tail(b, t, e, "project", g->log, g->sec ? "NOTICE" : "INFO");
}

void emit_gcp(buf *b, tenant *t, const ev *e)
{
    switch (e->op) {
    case OP_STT:
    case OP_CALLANALYTICS: stt(b, t, e); break;
    case OP_MT: mt(b, t, e); break;
    case OP_MGMT: mgmt(b, t, e); break;
    case OP_DELETE_MULTI:
        for (int i = 0; i < 20; i++)
            gcs(b, t, e);
        break;
    default: gcs(b, t, e); break;
    }
}
