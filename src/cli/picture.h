/* picture.h - an SVG picture of a scan, for people who would rather look
 * than read: alerts over event time by level, the tenants and the rules
 * with the most alerts. Self-contained SVG, no dependencies. */
#ifndef AW_PICTURE_H
#define AW_PICTURE_H

#include <stdbool.h>
#include <stdint.h>

#include "aupwatch/aw_common.h"

typedef struct aw_picture aw_picture;

aw_picture *aw_picture_new(void);
/* One alert. level may be NULL; tenant may be NULL. */
void aw_picture_add(aw_picture *p, bool has_time, int64_t time_ns, const char *level,
                    const char *tenant, const char *rule, bool correlation);
aw_status aw_picture_write(const aw_picture *p, const char *path, aw_errbuf *err);
void aw_picture_free(aw_picture *p);

#endif
