/* IP addresses and prefixes as 128-bit keys, shared by the indicator
 * normaliser and the prefix tree. IPv4 lives in the IPv4-mapped IPv6 space
 * (::ffff:0:0/96), so one tree serves both families and an IPv4-mapped IPv6
 * address matches the IPv4 indicators that cover it. */
#ifndef AG_INTEL_IP_H
#define AG_INTEL_IP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* <hi>:<lo> is the address in host order (bit 127 = first bit on the wire);
 * <len> the prefix length in the 128-bit space (an IPv4 /24 has len 120);
 * host bits are always zero. */
struct ag_intel_prefix {
    uint64_t hi, lo;
    uint8_t len;
    bool is_v4; /* inside ::ffff:0:0/96 with len >= 96: shown as IPv4 */
};

/* Parse "addr" or "addr/len" (IPv4 or IPv6; inet_pton syntax, so no
 * leading zeros in IPv4 octets). Host bits beyond <len> are cleared. Returns
 * 0 or -1. Allocation-free. */
int ag_intel_prefix_parse(const char *s, struct ag_intel_prefix *p);

/* Parse a single address (no "/len") from <s>, <n> bytes. Returns 0 or -1.
 * Allocation-free; used on the lookup path. */
int ag_intel_addr_parse(const char *s, size_t n, uint64_t *hi, uint64_t *lo);

/* Canonical text: "203.0.113.7", "198.51.100.0/24", "2001:db8::/32"; a full
 * length prefix is shown without "/len". <len> >= 64 is enough. */
void ag_intel_prefix_format(const struct ag_intel_prefix *p, char *buf, size_t len);

#endif
