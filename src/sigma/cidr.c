/* cidr.c - CIDR networks for the |cidr modifier.
 *
 * Networks are parsed strictly, as pySigma does (ip_network(strict)):
 * host bits set is an error. Event values are IPv4 or IPv6 text; an
 * IPv6 zone id (%eth0) is ignored; an IPv4-mapped IPv6 address
 * (::ffff:a.b.c.d) is an IPv6 address and does not match IPv4 networks
 * (Python ipaddress semantics, as pySigma); IPv4 with leading zeros is
 * rejected by inet_pton, so it never matches. */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "sigma/sigma_int.h"

static bool parse_ip(const char *s, size_t n, int *fam, uint8_t out[16])
{
    char buf[64];
    if (n == 0 || n >= sizeof buf)
        return false;
    memcpy(buf, s, n);
    buf[n] = 0;
    char *zone = strchr(buf, '%');
    if (zone)
        *zone = 0;
    if (inet_pton(AF_INET, buf, out) == 1) {
        *fam = 4;
        return true;
    }
    if (inet_pton(AF_INET6, buf, out) == 1) {
        *fam = 6;
        return true;
    }
    return false;
}

bool aw_cidr_parse(const char *s, aw_cidr *c, aw_errbuf *err)
{
    const char *slash = strchr(s, '/');
    size_t alen = slash ? (size_t)(slash - s) : strlen(s);
    char buf[64];
    if (alen == 0 || alen >= sizeof buf) {
        aw_errbuf_set(err, "invalid CIDR network '%s'", s);
        return false;
    }
    memcpy(buf, s, alen);
    buf[alen] = 0;
    memset(c, 0, sizeof *c);
    if (inet_pton(AF_INET, buf, c->addr) == 1)
        c->family = 4;
    else if (inet_pton(AF_INET6, buf, c->addr) == 1)
        c->family = 6;
    else {
        aw_errbuf_set(err, "invalid CIDR network '%s': bad address", s);
        return false;
    }
    int maxbits = c->family == 4 ? 32 : 128;
    c->bits = maxbits;
    if (slash) {
        char *end;
        long b = strtol(slash + 1, &end, 10);
        if (!slash[1] || *end || b < 0 || b > maxbits) {
            aw_errbuf_set(err, "invalid CIDR network '%s': bad prefix length", s);
            return false;
        }
        c->bits = (int)b;
    }
    for (int i = c->bits; i < maxbits; i++) {
        if (c->addr[i / 8] & (0x80 >> (i % 8))) {
            aw_errbuf_set(err, "invalid CIDR network '%s': host bits set", s);
            return false;
        }
    }
    return true;
}

bool aw_cidr_match(const aw_cidr *c, const char *ip, size_t n)
{
    int fam;
    uint8_t a[16];
    if (!parse_ip(ip, n, &fam, a) || fam != c->family)
        return false;
    int full = c->bits / 8, rem = c->bits % 8;
    if (memcmp(a, c->addr, (size_t)full) != 0)
        return false;
    if (rem) {
        uint8_t mask = (uint8_t)(0xff << (8 - rem));
        if ((a[full] & mask) != (c->addr[full] & mask))
            return false;
    }
    return true;
}
