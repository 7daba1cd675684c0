/* fuzz_json.c - libFuzzer target for the JSON parser (src/json).
 *
 * Parses the input; on success exercises lookups, drop, leaves and
 * compact, and checks that compact output re-parses to the same compact
 * output. Also checks aw_json_quote output always parses back to the
 * quoted bytes when they are valid UTF-8. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "aupwatch/aw_json.h"

static int count_fn(const aw_doc *d, const aw_jnode *n, void *ud)
{
    (void)d;
    (void)n;
    ++*(size_t *)ud;
    return 0;
}

static const char *paths[] = {
    "a", "a.b", "a.b.c", "Records", "eventName", "x.y", "0", "", "a..b",
    "requestParameters.bucketName", "Event.System.EventID",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static aw_doc *d, *d2;
    static char *out, *out2;
    static size_t cap;
    aw_errbuf err;
    size_t off, i, n, m, hits = 0;
    if (!d) {
        d = aw_doc_new();
        d2 = aw_doc_new();
    }
    if (cap < 6 * size + 64) {
        cap = 6 * size + 64;
        free(out);
        free(out2);
        out = malloc(cap);
        out2 = malloc(cap);
    }
    /* quoting: arbitrary bytes always give a valid JSON string */
    n = aw_json_quote((const char *)data, size, out, cap);
    if (n >= cap || aw_doc_parse(d2, out, n, &off, &err) != AW_OK)
        abort();
    if (aw_utf8_valid((const char *)data, size) &&
        (aw_doc_root(d2)->vlen != size ||
         memcmp(aw_doc_root(d2)->val, data, size) != 0))
        abort();

    if (aw_doc_parse(d, (const char *)data, size, &off, &err) != AW_OK) {
        if (off > size || aw_doc_count(d) != 0 || !err.msg[0])
            abort();
        return 0;
    }
    for (i = 0; i < sizeof paths / sizeof *paths; i++) {
        aw_json_path_each(d, NULL, paths[i], strlen(paths[i]), count_fn,
                          &hits);
        (void)aw_json_path_first(d, NULL, paths[i], strlen(paths[i]));
    }
    aw_json_leaves_each(d, count_fn, &hits);
    n = aw_json_compact(d, NULL, out, cap);
    if (n >= cap)
        abort();
    if (aw_doc_parse(d2, out, n, &off, &err) != AW_OK)
        abort();
    m = aw_json_compact(d2, NULL, out2, cap);
    if (m != n || memcmp(out, out2, n) != 0)
        abort();
    /* truncated output follows the snprintf contract */
    if (n > 3 && aw_json_compact(d, NULL, out2, n / 2) != n)
        abort();
    aw_json_drop(d, "a", 1);
    aw_json_drop(d, "a.b", 3);
    aw_json_drop(d, "Records", 7);
    aw_json_leaves_each(d, count_fn, &hits);
    n = aw_json_compact(d, NULL, out, cap);
    if (n >= cap || aw_doc_parse(d2, out, n, &off, &err) != AW_OK)
        abort();
    return 0;
}
