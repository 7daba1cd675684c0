/* fuzz_mapping.c - libFuzzer target for the mapping loader: arbitrary
 * bytes as a mapping file (through a memfd, since mappings load from a
 * path), then routing and classification of a fixed event. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "aupwatch/aw_mapping.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static aw_doc *doc;
    static const char ev[] = "{\"eventVersion\":\"1.08\",\"eventSource\":\"s3.amazonaws.com\","
                             "\"eventTime\":\"2024-01-01T00:00:00Z\",\"recipientAccountId\":\"1\","
                             "\"Event\":{\"System\":{\"EventID\":1,\"Channel\":\"Security\"}}}";
    aw_errbuf err;
    if (!doc) {
        doc = aw_doc_new();
        aw_doc_parse(doc, ev, strlen(ev), NULL, &err);
    }
    int fd = memfd_create("mapping", 0);
    if (fd < 0)
        return 0;
    if (write(fd, data, size) != (ssize_t)size) {
        close(fd);
        return 0;
    }
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    aw_mapping *m = aw_mapping_new();
    if (aw_mapping_load(m, path, NULL, NULL) == AW_OK) {
        const aw_source *out[16];
        aw_mapping_route(m, "aws", NULL, "cloudtrail", out, 16);
        size_t n = aw_mapping_classify(m, doc, out, 16);
        char buf[128];
        int64_t ns;
        for (size_t i = 0; i < n && i < 16; i++) {
            aw_source_tenant(out[i], doc, buf, sizeof buf);
            aw_source_time(out[i], doc, &ns);
        }
    }
    aw_mapping_free(m);
    close(fd);
    return 0;
}
