/* route.c - source accessors, and which sources serve a rule.
 *
 * Routing is containment: every logsource attribute the rule sets must
 * equal the source's (case-insensitively); attributes the rule leaves
 * unset are not compared. A rule no source serves routes nowhere, and the
 * engine reports it instead of leaving it idle. */
#include <strings.h>

#include "mapping/mapping_int.h"

size_t aw_source_index(const aw_source *s) { return s->index; }
const char *aw_source_name(const aw_source *s) { return s->name; }
const char *aw_source_product(const aw_source *s) { return s->product; }
const char *aw_source_category(const aw_source *s) { return s->category; }
const char *aw_source_service(const aw_source *s) { return s->service; }

static int attr_ok(const char *rule, const char *src)
{
    return !rule || (src && strcasecmp(rule, src) == 0);
}

size_t aw_mapping_route(const aw_mapping *m, const char *product,
                        const char *category, const char *service,
                        const aw_source **out, size_t max)
{
    size_t n = 0;
    if (!m)
        return 0;
    for (size_t i = 0; i < m->nsrc; i++) {
        const aw_source *s = m->src[i];
        if (attr_ok(product, s->product) && attr_ok(category, s->category) &&
            attr_ok(service, s->service)) {
            if (n < max)
                out[n] = s;
            n++;
        }
    }
    return n;
}

