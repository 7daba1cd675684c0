/* util.c - aupwatch-sim: random draws and the append-only output buffer
 * (integers, hex, UUIDs, timestamps written by hand: no printf in the
 * per-record path). */
#include <math.h>
#include <stdlib.h>

#include "sim.h"

double rng_normal(rng *r)
{
    double u = rng_unif(r), v = rng_unif(r);
    if (u < 1e-300)
        u = 1e-300;
    return sqrt(-2.0 * log(u)) * cos(6.283185307179586 * v);
}

double rng_logunif(rng *r, double lo, double hi) { return exp(rng_range(r, log(lo), log(hi))); }

uint64_t rng_poisson(rng *r, double lambda)
{
    if (lambda <= 0)
        return 0;
    if (lambda > 40) {
        double x = lambda + sqrt(lambda) * rng_normal(r) + 0.5;
        return x < 0 ? 0 : (uint64_t)x;
    }
    double l = exp(-lambda), p = 1.0;
    uint64_t k = 0;
    do {
        k++;
        p *= rng_unif(r);
    } while (p > l);
    return k - 1;
}

void buf_grow(buf *b, size_t need)
{
    size_t cap = b->cap ? b->cap : 1 << 16;
    while (cap < b->n + need)
        cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p)
        abort();
    b->p = p;
    b->cap = cap;
}

void b_u64(buf *b, uint64_t v)
{
    char tmp[24];
    int i = 24;
    do {
        tmp[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    b_mem(b, tmp + i, (size_t)(24 - i));
}

void b_hex(buf *b, rng *r, int n, int upper)
{
    const char *d = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    if (b->n + (size_t)n > b->cap)
        buf_grow(b, (size_t)n);
    uint64_t x = 0;
    for (int i = 0; i < n; i++) {
        if ((i & 15) == 0)
            x = rng_next(r);
        b->p[b->n++] = d[x & 15];
        x >>= 4;
    }
}

void b_uuid(buf *b, rng *r)
{
    b_hex(b, r, 8, 0);
    b_ch(b, '-');
    b_hex(b, r, 4, 0);
    B_LIT(b, "-4");
    b_hex(b, r, 3, 0);
    b_ch(b, '-');
    b_ch(b, "89ab"[rng_next(r) & 3]);
    b_hex(b, r, 3, 0);
    b_ch(b, '-');
    b_hex(b, r, 12, 0);
}

void b_b64(buf *b, rng *r, int n)
{
    static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    if (b->n + (size_t)n > b->cap)
        buf_grow(b, (size_t)n);
    uint64_t x = 0;
    for (int i = 0; i < n; i++) {
        if (i % 10 == 0)
            x = rng_next(r);
        b->p[b->n++] = a[x & 63];
        x >>= 6;
    }
}

void b_digits(buf *b, rng *r, int n)
{
    if (b->n + (size_t)n > b->cap)
        buf_grow(b, (size_t)n);
    for (int i = 0; i < n; i++)
        b->p[b->n++] = (char)('0' + rng_below(r, 10));
}

static void two(char *p, int v)
{
    p[0] = (char)('0' + v / 10);
    p[1] = (char)('0' + v % 10);
}

/* days since 1970-01-01 -> y/m/d (Howard Hinnant's civil_from_days) */
static void civil(int64_t z, int *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t yy = (int64_t)yoe + era * 400;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yy + (*m <= 2));
}

void b_time(buf *b, int64_t t, int frac, rng *r)
{
    static __thread int64_t last = -1;
    static __thread char s[20];
    if (t != last) {
        int y, m, d;
        int64_t days = t / 86400, sec = t % 86400;
        civil(days, &y, &m, &d);
        two(s, y / 100);
        two(s + 2, y % 100);
        s[4] = '-';
        two(s + 5, m);
        s[7] = '-';
        two(s + 8, d);
        s[10] = 'T';
        two(s + 11, (int)(sec / 3600));
        s[13] = ':';
        two(s + 14, (int)(sec / 60 % 60));
        s[16] = ':';
        two(s + 17, (int)(sec % 60));
        last = t;
    }
    b_mem(b, s, 19);
    if (frac) {
        b_ch(b, '.');
        b_digits(b, r, frac);
    }
    b_ch(b, 'Z');
}
