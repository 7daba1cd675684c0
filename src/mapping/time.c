/* time.c - event timestamps: RFC 3339 / ISO 8601 text and epoch numbers
 * to nanoseconds since the Unix epoch, and back to RFC 3339 text.
 *
 * Accepted text (what the providers write; TELEMETRY.md):
 *   2024-01-02T03:04:05Z            CloudTrail, second precision
 *   2024-12-17T10:30:00.0000000Z    Azure, 7 fraction digits
 *   2021-05-12T16:05:47.688372541Z  GCP receiveTimestamp, 9 digits
 *   2025-05-15 14:17:22.000000000   Bedrock: space, no zone (= UTC)
 *   2022-03-07T15:03:44.229-08:00   offsets +hh:mm, +hhmm, +hh
 *   2024-01-02                      date only: midnight UTC
 * 2021-08-11 15:35:06.914207 UTC BigQuery export of audit logs
 * 't'/'z' in lower case, ',' as the fraction mark, a leap second :60
 * (taken as the next second). Fractions beyond nanoseconds are cut.
 * Epoch numbers (JSON numbers or all-digit strings) are scaled by size:
 * up to 11 integer digits seconds, 12-14 milliseconds, 15-17
 * microseconds, more nanoseconds. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "mapping/mapping_int.h"

#define NS 1000000000LL

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static int digits(const char *s, size_t n, size_t *i, size_t cnt, unsigned *out)
{
    unsigned v = 0;
    if (*i + cnt > n)
        return 0;
    for (size_t k = 0; k < cnt; k++) {
        char c = s[*i + k];
        if (c < '0' || c > '9')
            return 0;
        v = v * 10 + (unsigned)(c - '0');
    }
    *i += cnt;
    *out = v;
    return 1;
}

static int leap(unsigned y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

aw_status aw_time_parse(const char *s, size_t n, int64_t *ns)
{
    static const unsigned mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    unsigned y, mo, d, h = 0, mi = 0, sec = 0, oh = 0, om = 0;
    int64_t frac = 0, off = 0, secs;
    size_t i = 0;

    if (!s || !ns)
        return AW_ERR;
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    while (i < n && (s[i] == ' ' || s[i] == '\t'))
        i++;
    if (!digits(s, n, &i, 4, &y) || i >= n || s[i++] != '-' ||
        !digits(s, n, &i, 2, &mo) || i >= n || s[i++] != '-' || !digits(s, n, &i, 2, &d))
        return AW_ERR;
    if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] + (mo == 2 && leap(y)))
        return AW_ERR;
    if (i < n) {
        if (s[i] != 'T' && s[i] != 't' && s[i] != ' ')
            return AW_ERR;
        i++;
        if (!digits(s, n, &i, 2, &h) || i >= n || s[i++] != ':' || !digits(s, n, &i, 2, &mi))
            return AW_ERR;
        if (i < n && s[i] == ':') {
            i++;
            if (!digits(s, n, &i, 2, &sec))
                return AW_ERR;
        }
        if (h > 23 || mi > 59 || sec > 60)
            return AW_ERR;
        if (i < n && (s[i] == '.' || s[i] == ',')) {
            size_t k = 0;
            i++;
            if (i >= n || s[i] < '0' || s[i] > '9')
                return AW_ERR;
            for (; i < n && s[i] >= '0' && s[i] <= '9'; i++, k++)
                if (k < 9)
                    frac = frac * 10 + (s[i] - '0');
            for (; k < 9; k++)
                frac *= 10;
        }
        if (i < n && (n - i == 3 || (n - i == 4 && s[i] == ' ')) &&
            (strncasecmp(s + n - 3, "UTC", 3) == 0 || strncasecmp(s + n - 3, "GMT", 3) == 0)) {
            i = n;      /* BigQuery exports: "2021-08-11 15:35:06.914207 UTC" */
        } else if (i < n) {
            char c = s[i++];
            if (c == 'Z' || c == 'z') {
                /* UTC */
            } else if (c == '+' || c == '-') {
                if (!digits(s, n, &i, 2, &oh))
                    return AW_ERR;
                if (i < n && s[i] == ':')
                    i++;
                if (i < n && !digits(s, n, &i, 2, &om))
                    return AW_ERR;
                if (oh > 23 || om > 59)
                    return AW_ERR;
                off = (int64_t)(oh * 3600 + om * 60) * (c == '-' ? -1 : 1);
            } else {
                return AW_ERR;
            }
            if (i != n)
                return AW_ERR;
        }
    }
    secs = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - off;
    if (secs > INT64_MAX / NS - 1 || secs < INT64_MIN / NS + 1)
        return AW_ERR;
    *ns = secs * NS + frac;
    return AW_OK;
}

/* v in exactly w decimal digits at p (v < 10^w); returns the end. */
static char *put_digits(char *p, uint64_t v, int w)
{
    for (int i = w - 1; i >= 0; i--, v /= 10)
        p[i] = (char)('0' + v % 10);
    return p + w;
}

/* Written by hand, not snprintf: every alert formats its time, and
 * printf's parsing was 2 % of a CloudTrail scan. */
size_t aw_time_format(int64_t ns, char *out, size_t cap)
{
    int64_t secs = ns / NS, frac = ns % NS, days, y;
    unsigned m, d, sod;
    char buf[48], *p = buf;

    if (frac < 0) {
        frac += NS;
        secs--;
    }
    days = secs / 86400;
    if (secs % 86400 < 0)
        days--;
    sod = (unsigned)(secs - days * 86400);
    civil_from_days(days, &y, &m, &d);
    p = put_digits(p, (uint64_t)y, 4);  /* int64 nanoseconds: years 1677-2262 */
    *p++ = '-';
    p = put_digits(p, m, 2);
    *p++ = '-';
    p = put_digits(p, d, 2);
    *p++ = 'T';
    p = put_digits(p, sod / 3600, 2);
    *p++ = ':';
    p = put_digits(p, sod / 60 % 60, 2);
    *p++ = ':';
    p = put_digits(p, sod % 60, 2);
    if (frac) {
        *p++ = '.';
        if (frac % 1000000 == 0)
            p = put_digits(p, (uint64_t)(frac / 1000000), 3);
        else if (frac % 1000 == 0)
            p = put_digits(p, (uint64_t)(frac / 1000), 6);
        else
            p = put_digits(p, (uint64_t)frac, 9);
    }
    *p++ = 'Z';
    return mp_copy(out, cap, buf, (size_t)(p - buf));
}

/* An epoch number written as text: digits with an optional fraction.
 * Returns 0 if the text is not of that shape. */
static int epoch_text(const char *t, size_t n, int64_t *ns)
{
    size_t i = 0, ndig;
    int64_t ip = 0, scale;
    double fr = 0, mul = 0.1;
    while (i < n && t[i] >= '0' && t[i] <= '9')
        i++;
    ndig = i;
    if (ndig == 0 || ndig > 19)
        return 0;
    if (i < n && t[i] == '.') {
        for (i++; i < n && t[i] >= '0' && t[i] <= '9'; i++, mul /= 10)
            fr += (t[i] - '0') * mul;
    }
    if (i != n)
        return 0;
    for (size_t k = 0; k < ndig; k++) {
        if (ip > (INT64_MAX - 9) / 10)
            return 0;
        ip = ip * 10 + (t[k] - '0');
    }
    scale = ndig <= 11 ? NS : ndig <= 14 ? 1000000 : ndig <= 17 ? 1000 : 1;
    if (ip > INT64_MAX / scale)
        return 0;
    *ns = ip * scale + (int64_t)llround(fr * (double)scale);
    return 1;
}

aw_status aw_source_time(const aw_source *s, const aw_doc *d, int64_t *ns)
{
    if (!s || !d || !ns)
        return AW_ERR;
    for (size_t i = 0; i < s->ntime; i++) {
        const aw_jnode *n = mp_first(d, s->time_jp ? s->time_jp[i] : NULL, s->time[i]);
        size_t len;
        const char *t = mp_scalar(n, &len);
        if (!t || (n->type != AW_JSTR && n->type != AW_JNUM))
            continue;
        if (epoch_text(t, len, ns))
            return AW_OK;
        if (n->type == AW_JNUM) {
            double v = n->num, a = fabs(v);
            double scale = a < 1e11 ? 1e9 : a < 1e14 ? 1e6 : a < 1e17 ? 1e3 : 1;
            double r = v * scale;
            if (isfinite(r) && r < 9.2e18 && r > -9.2e18) {
                *ns = (int64_t)llround(r);
                return AW_OK;
            }
            continue;
        }
        if (aw_time_parse(t, len, ns) == AW_OK)
            return AW_OK;
    }
    return AW_ERR;
}
