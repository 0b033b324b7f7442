/* Address and prefix parsing into 128-bit keys (see ip.h). */
#include "intel/ip.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

static void mask(struct ag_intel_prefix *p)
{
    unsigned l = p->len;
    if (l == 0) {
        p->hi = p->lo = 0;
    } else if (l < 64) {
        p->hi &= ~0ULL << (64 - l);
        p->lo = 0;
    } else if (l == 64) {
        p->lo = 0;
    } else if (l < 128) {
        p->lo &= ~0ULL << (128 - l);
    }
}

static void from_bytes(const unsigned char b[16], uint64_t *hi, uint64_t *lo)
{
    uint64_t h = 0, l = 0;
    for (int i = 0; i < 8; i++) {
        h = h << 8 | b[i];
        l = l << 8 | b[8 + i];
    }
    *hi = h;
    *lo = l;
}

static void to_bytes(uint64_t hi, uint64_t lo, unsigned char b[16])
{
    for (int i = 7; i >= 0; i--) {
        b[i] = (unsigned char)(hi & 0xff);
        b[8 + i] = (unsigned char)(lo & 0xff);
        hi >>= 8;
        lo >>= 8;
    }
}

/* Dotted-quad IPv4 with inet_pton's strictness (four parts, 0-255, no
 * leading zeros), without its cost: this is on every event's lookup path. */
static int v4_parse(const char *s, size_t n, uint32_t *out)
{
    uint32_t a = 0;
    size_t i = 0;
    for (int part = 0; part < 4; part++) {
        if (part) {
            if (i >= n || s[i] != '.')
                return -1;
            i++;
        }
        size_t start = i;
        unsigned v = 0;
        while (i < n && s[i] >= '0' && s[i] <= '9' && i - start < 3)
            v = v * 10 + (unsigned)(s[i++] - '0');
        if (i == start || v > 255 || (s[start] == '0' && i - start > 1))
            return -1;
        a = a << 8 | v;
    }
    if (i != n)
        return -1;
    *out = a;
    return 0;
}

int ag_intel_addr_parse(const char *s, size_t n, uint64_t *hi, uint64_t *lo)
{
    if (n && !memchr(s, ':', n)) {
        uint32_t a;
        if (v4_parse(s, n, &a) != 0)
            return -1;
        *hi = 0;
        *lo = 0xffff00000000ULL | a;
        return 0;
    }
    char buf[INET6_ADDRSTRLEN + 1];
    if (n == 0 || n >= sizeof buf)
        return -1;
    memcpy(buf, s, n);
    buf[n] = '\0';
    unsigned char b[16];
    if (memchr(buf, ':', n)) {
        if (inet_pton(AF_INET6, buf, b) != 1)
            return -1;
    } else {
        memset(b, 0, 10);
        b[10] = b[11] = 0xff;
        if (inet_pton(AF_INET, buf, b + 12) != 1)
            return -1;
    }
    from_bytes(b, hi, lo);
    return 0;
}

int ag_intel_prefix_parse(const char *s, struct ag_intel_prefix *p)
{
    const char *slash = strchr(s, '/');
    size_t n = slash ? (size_t)(slash - s) : strlen(s);
    if (ag_intel_addr_parse(s, n, &p->hi, &p->lo) != 0)
        return -1;
    bool v4text = !memchr(s, ':', n);
    unsigned max = v4text ? 32 : 128, len = max;
    if (slash) {
        const char *d = slash + 1;
        size_t dl = strlen(d);
        if (dl == 0 || dl > 3 || (dl > 1 && d[0] == '0'))
            return -1;
        len = 0;
        for (size_t i = 0; i < dl; i++) {
            if (d[i] < '0' || d[i] > '9')
                return -1;
            len = len * 10 + (unsigned)(d[i] - '0');
        }
        if (len > max)
            return -1;
    }
    p->len = (uint8_t)(v4text ? len + 96 : len);
    mask(p);
    p->is_v4 = p->len >= 96 && p->hi == 0 && (p->lo >> 32) == 0xffff;
    return 0;
}

void ag_intel_prefix_format(const struct ag_intel_prefix *p, char *buf, size_t len)
{
    unsigned char b[16];
    char a[INET6_ADDRSTRLEN];
    to_bytes(p->hi, p->lo, b);
    if (p->is_v4) {
        inet_ntop(AF_INET, b + 12, a, sizeof a);
        if (p->len == 128)
            snprintf(buf, len, "%s", a);
        else
            snprintf(buf, len, "%s/%u", a, p->len - 96u);
    } else {
        inet_ntop(AF_INET6, b, a, sizeof a);
        if (p->len == 128)
            snprintf(buf, len, "%s", a);
        else
            snprintf(buf, len, "%s/%u", a, (unsigned)p->len);
    }
}
