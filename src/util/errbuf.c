/* errbuf.c - formatting into aw_errbuf. */
#include <stdarg.h>
#include <stdio.h>

#include "aupwatch/aw_common.h"

void aw_errbuf_set(aw_errbuf *e, const char *fmt, ...)
{
    va_list ap;
    if (!e)
        return;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
}
