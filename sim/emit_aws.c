/* emit_aws.c - aupwatch-sim: one CloudTrail record per simulated call.
 *
 * Field for field as the real records in ../shared/telemetry/datasets
 * (OTRF GetObject, Panther PutObject) and the Transcribe/Translate
 * examples of the AWS guides (TELEMETRY.md 1.1, 1.2): S3 data events
 * with additionalEventData.bytesTransferredIn/Out, resources[] with the
 * object and bucket ARNs, role sessions with sessionContext.sessionIssuer,
 * Transcribe StartTranscriptionJob (mediaFormat, mediaSampleRateHertz,
 * languageCode, media.mediaFileUri), Translate TranslateText with the
 * text HIDDEN_DUE_TO_SECURITY_REASONS. No field the real log lacks. */
#include "sim.h"

typedef struct mgmt_op {
    const char *src, *name, *params;
    int ro;
} mgmt_op;

/* last four: security-relevant, emitted rarely */
static const mgmt_op mops[] = {
    {"sts.amazonaws.com", "AssumeRole", "{\"roleSessionName\":\"s\",\"durationSeconds\":3600}", 1},
    {"ec2.amazonaws.com", "DescribeInstances", "{\"instancesSet\":{},\"filterSet\":{}}", 1},
    {"s3.amazonaws.com", "ListBuckets", "{\"Host\":\"s3.amazonaws.com\"}", 1},
    {"kms.amazonaws.com", "Decrypt", "{\"encryptionAlgorithm\":\"SYMMETRIC_DEFAULT\"}", 1},
    {"monitoring.amazonaws.com", "GetMetricData", "{\"startTime\":\"-\",\"endTime\":\"-\"}", 1},
    {"iam.amazonaws.com", "GetRole", "{\"roleName\":\"svc\"}", 1},
    {"ec2.amazonaws.com", "DescribeSecurityGroups", "{\"securityGroupSet\":{},\"filterSet\":{}}", 1},
    {"transcribe.amazonaws.com", "ListTranscriptionJobs", "{\"maxResults\":100}", 1},
    {"iam.amazonaws.com", "CreateAccessKey", "{\"userName\":\"ops\"}", 0},
    {"s3.amazonaws.com", "PutBucketPolicy", "{\"bucketPolicy\":{\"Version\":\"2012-10-17\"}}", 0},
    {"cloudtrail.amazonaws.com", "PutEventSelectors", "{\"trailName\":\"main\"}", 0},
    {"ec2.amazonaws.com", "AuthorizeSecurityGroupIngress", "{\"groupId\":\"sg-0\"}", 0},
};
const int aws_mgmt_n = sizeof mops / sizeof *mops;

static const char *const agents[] = {
    "[aws-sdk-go-v2/1.30.3 os/linux lang/go#1.22.5 md/GOOS#linux md/GOARCH#amd64 api/s3#1.58.2]",
    "[Boto3/1.34.144 md/Botocore#1.34.144 ua/2.0 os/linux#5.10.220 md/arch#x86_64 lang/python#3.11.9 md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.34.144]",
    "[aws-sdk-java/2.26.7 Linux/5.10.219 OpenJDK_64-Bit_Server_VM/17.0.11+9-LTS Java/17.0.11 vendor/Amazon.com_Inc. io/sync http/Apache cfg/retry-mode/standard]",
    "[aws-cli/2.17.13 md/awscrt#0.20.11 ua/2.0 os/linux#5.15.0 md/arch#x86_64 lang/python#3.11.9 md/pyimpl#CPython command/s3.cp]",
};

static void q(buf *b, const char *k, const char *v)
{
    b_ch(b, '"');
    b_str(b, k);
    B_LIT(b, "\":\"");
    b_str(b, v);
    b_ch(b, '"');
}

static void head(buf *b, tenant *t, const ev *e, const char *src, const char *name)
{
    rng *r = &t->r;
    const char *role = t->prin[e->prin];
    B_LIT(b, "{\"eventVersion\":\"1.09\",\"userIdentity\":{\"type\":\"AssumedRole\",\"principalId\":\"");
    b_str(b, t->prin_id[e->prin]);
    /* the session name is the instance id, stable per principal */
    char sess[17];
    uint64_t x = (uint64_t)t->idx * 0x9e3779b97f4a7c15ULL ^ (uint64_t)(e->prin + 1) * 0xbf58476d1ce4e5b9ULL;
    for (int i = 0; i < 16; i++, x >>= 4)
        sess[i] = "0123456789abcdef"[x & 15];
    sess[16] = 0;
    B_LIT(b, ":i-0");
    b_str(b, sess);
    B_LIT(b, "\",\"arn\":\"arn:aws:sts::");
    b_str(b, t->id);
    B_LIT(b, ":assumed-role/");
    b_str(b, role);
    B_LIT(b, "/i-0");
    b_str(b, sess);
    B_LIT(b, "\",\"accountId\":\"");
    b_str(b, t->id);
    B_LIT(b, "\",\"accessKeyId\":\"ASIA");
    b_hex(b, r, 16, 1);
    B_LIT(b, "\",\"sessionContext\":{\"sessionIssuer\":{\"type\":\"Role\",\"principalId\":\"");
    b_str(b, t->prin_id[e->prin]);
    B_LIT(b, "\",\"arn\":\"arn:aws:iam::");
    b_str(b, t->id);
    B_LIT(b, ":role/");
    b_str(b, role);
    B_LIT(b, "\",\"accountId\":\"");
    b_str(b, t->id);
    B_LIT(b, "\",\"userName\":\"");
    b_str(b, role);
    B_LIT(b, "\"},\"attributes\":{\"creationDate\":\"");
    b_time(b, e->t - 600 - (e->t % 3600), 0, r);
    B_LIT(b, "\",\"mfaAuthenticated\":\"false\"},\"ec2RoleDelivery\":\"2.0\"}},\"eventTime\":\"");
    b_time(b, e->t, 0, r);
    B_LIT(b, "\",\"eventSource\":\"");
    b_str(b, src);
    B_LIT(b, "\",\"eventName\":\"");
    b_str(b, name);
    B_LIT(b, "\",\"awsRegion\":\"");
    b_str(b, t->region);
    B_LIT(b, "\",\"sourceIPAddress\":\"");
    b_str(b, t->ip[e->prin]);
    B_LIT(b, "\",\"userAgent\":\"");
    b_str(b, agents[(t->idx + e->prin) % 4]);
    B_LIT(b, "\",");
}

static void tail(buf *b, tenant *t, const char *type, int mgmt, int ro, const char *cat)
{
    rng *r = &t->r;
    B_LIT(b, "\"requestID\":\"");
    b_hex(b, r, 16, 1);
    B_LIT(b, "\",\"eventID\":\"");
    b_uuid(b, r);
    B_LIT(b, "\",\"readOnly\":");
    b_str(b, ro ? "true" : "false");
    B_LIT(b, ",\"eventType\":\"");
    b_str(b, type);
    B_LIT(b, "\",\"managementEvent\":");
    b_str(b, mgmt ? "true" : "false");
    B_LIT(b, ",\"recipientAccountId\":\"");
    b_str(b, t->id);
    B_LIT(b, "\",\"eventCategory\":\"");
    b_str(b, cat);
    B_LIT(b, "\",\"tlsDetails\":{\"tlsVersion\":\"TLSv1.3\",\"cipherSuite\":\"TLS_AES_128_GCM_SHA256\",\"clientProvidedHostHeader\":\"");
}

static void s3_host(buf *b, tenant *t, int bk)
{
    b_str(b, t->bucket[bk]);
    B_LIT(b, ".s3.");
    b_str(b, t->region);
    B_LIT(b, ".amazonaws.com");
}

static void s3(buf *b, tenant *t, const ev *e)
{
    static const char *const names[] = {"PutObject", "GetObject", "DeleteObject", "DeleteObjects"};
    rng *r = &t->r;
    int bk = e->bucket;
    int big = e->op == OP_PUT && e->bytes > (64u << 20);
    head(b, t, e, "s3.amazonaws.com", big ? "CompleteMultipartUpload" : names[e->op]);
    B_LIT(b, "\"requestParameters\":{\"bucketName\":\"");
    b_str(b, t->bucket[bk]);
    B_LIT(b, "\",\"Host\":\"");
    s3_host(b, t, bk);
    if (e->op == OP_DELETE_MULTI) {
        B_LIT(b, "\",\"delete\":\"\"},\"responseElements\":null,\"additionalEventData\":{");
    } else {
        B_LIT(b, "\",\"key\":\"");
        b_str(b, e->key);
        if (big) {
            B_LIT(b, "\",\"uploadId\":\"");
            b_b64(b, r, 40);
        }
        if (e->op == OP_PUT)
            B_LIT(b, "\"},\"responseElements\":{\"x-amz-server-side-encryption\":\"AES256\"},\"additionalEventData\":{");
        else
            B_LIT(b, "\"},\"responseElements\":null,\"additionalEventData\":{");
    }
    B_LIT(b, "\"SignatureVersion\":\"SigV4\",\"CipherSuite\":\"TLS_AES_128_GCM_SHA256\",\"bytesTransferredIn\":");
    b_u64(b, e->op == OP_PUT ? (big ? 1200 : e->bytes) : e->op == OP_DELETE_MULTI ? 61u * (unsigned)e->nkeys : 0);
    if (e->op == OP_PUT)
        B_LIT(b, ",\"SSEApplied\":\"Default_SSE_S3\"");
    B_LIT(b, ",\"AuthenticationMethod\":\"AuthHeader\",\"x-amz-id-2\":\"");
    b_b64(b, r, 76);
    B_LIT(b, "\",\"bytesTransferredOut\":");
    b_u64(b, e->op == OP_GET ? e->bytes : 0);
    B_LIT(b, "},\"resources\":[");
    if (e->op != OP_DELETE_MULTI) {
        B_LIT(b, "{\"type\":\"AWS::S3::Object\",\"ARN\":\"arn:aws:s3:::");
        b_str(b, t->bucket[bk]);
        b_ch(b, '/');
        b_str(b, e->key);
        B_LIT(b, "\"},");
    }
    B_LIT(b, "{\"accountId\":\"");
    b_str(b, t->id);
    B_LIT(b, "\",\"type\":\"AWS::S3::Bucket\",\"ARN\":\"arn:aws:s3:::");
    b_str(b, t->bucket[bk]);
    B_LIT(b, "\"}],");
    tail(b, t, "AwsApiCall", 0, e->op == OP_GET, "Data");
    s3_host(b, t, bk);
    B_LIT(b, "\"}}");
}

static void job_name(buf *b, tenant *t)
{
    b_str(b, t->prin[0]);
    b_ch(b, '-');
    b_u64(b, ++t->seq);
}

static void media_uri(buf *b, tenant *t, const ev *e)
{
    B_LIT(b, "s3://");
    b_str(b, t->bucket[e->bucket]);
    b_ch(b, '/');
    b_str(b, e->key);
}

static void stt(buf *b, tenant *t, const ev *e)
{
    const codec_info *c = &codecs[e->codec];
    int analytics = e->op == OP_CALLANALYTICS;
    size_t mark;
    head(b, t, e, "transcribe.amazonaws.com", analytics ? "StartCallAnalyticsJob" : "StartTranscriptionJob");
    B_LIT(b, "\"requestParameters\":{");
    mark = b->n;
    if (analytics) {
        B_LIT(b, "\"callAnalyticsJobName\":\"");
        job_name(b, t);
        B_LIT(b, "\",\"media\":{\"mediaFileUri\":\"");
        media_uri(b, t, e);
        B_LIT(b, "\"},\"channelDefinitions\":[{\"channelId\":0,\"participantRole\":\"AGENT\"},{\"channelId\":1,\"participantRole\":\"CUSTOMER\"}]}");
        B_LIT(b, ",\"responseElements\":{\"callAnalyticsJob\":{\"callAnalyticsJobStatus\":\"IN_PROGRESS\"}},");
    } else {
        B_LIT(b, "\"mediaFormat\":\"");
        b_str(b, c->aws_fmt);   /* the job states the real format even when the name hides it */
        B_LIT(b, "\",\"mediaSampleRateHertz\":");
        b_u64(b, (uint64_t)c->rate_hz);
        B_LIT(b, ",\"languageCode\":\"");
        b_str(b, e->lang);
        B_LIT(b, "\",\"transcriptionJobName\":\"");
        job_name(b, t);
        B_LIT(b, "\",\"media\":{\"mediaFileUri\":\"");
        media_uri(b, t, e);
        B_LIT(b, "\"}}");
        /* the response echoes the request and adds status and time */
        size_t end = b->n;
        B_LIT(b, ",\"responseElements\":{\"transcriptionJob\":{\"transcriptionJobStatus\":\"IN_PROGRESS\",");
        size_t len = end - mark - 1;
        if (b->n + len > b->cap)
            buf_grow(b, len);
        memmove(b->p + b->n, b->p + mark, len);
        b->n += len;
        B_LIT(b, ",\"creationTime\":\"");
        b_time(b, e->t, 3, &t->r);
        B_LIT(b, "\"}},");
    }
    tail(b, t, "AwsApiCall", 1, 0, "Management");
    B_LIT(b, "transcribe.");
    b_str(b, t->region);
    B_LIT(b, ".amazonaws.com\"}}");
}

static void mt(buf *b, tenant *t, const ev *e)
{
    head(b, t, e, "translate.amazonaws.com", "TranslateText");
    B_LIT(b, "\"requestParameters\":{\"text\":\"HIDDEN_DUE_TO_SECURITY_REASONS\",");
    q(b, "sourceLanguageCode", e->src);
    b_ch(b, ',');
    q(b, "targetLanguageCode", e->dst);
    B_LIT(b, "},\"responseElements\":{\"translatedText\":\"HIDDEN_DUE_TO_SECURITY_REASONS\",");
    q(b, "sourceLanguageCode", e->src);
    b_ch(b, ',');
    q(b, "targetLanguageCode", e->dst);
    B_LIT(b, "},");
    tail(b, t, "AwsApiCall", 1, 0, "Management");
    B_LIT(b, "translate.");
    b_str(b, t->region);
    B_LIT(b, ".amazonaws.com\"}}");
}

static void mgmt(buf *b, tenant *t, const ev *e)
{
    const mgmt_op *m = &mops[e->mgmt];
    head(b, t, e, m->src, m->name);
    B_LIT(b, "\"requestParameters\":");
    b_str(b, m->params);
    B_LIT(b, ",\"responseElements\":null,");
    tail(b, t, "AwsApiCall", 1, m->ro, "Management");
    const char *dot = strchr(m->src, '.');
    b_mem(b, m->src, (size_t)(dot - m->src));
    b_ch(b, '.');
    b_str(b, t->region);
    B_LIT(b, ".amazonaws.com\"}}");
}

void emit_aws(buf *b, tenant *t, const ev *e)
{
    switch (e->op) {
    case OP_STT:
    case OP_CALLANALYTICS: stt(b, t, e); break;
    case OP_MT: mt(b, t, e); break;
    case OP_MGMT: mgmt(b, t, e); break;
    default: s3(b, t, e); break;
    }
}
