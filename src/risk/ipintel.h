/* IP enrichment: address -> country, ASN, AS name and network flags, from
 * the IPFire location database through libloc. libloc's objects are not
 * thread-safe (plain reference counts), so lookups into it are serialized by
 * one mutex; a sharded, bounded cache of recent addresses in front of it
 * makes the common case (a known address) lock-light and fast, and an
 * optional in-memory index (ag_ipintel_index_start) answers the misses
 * without libloc. */
#ifndef AG_RISK_IPINTEL_H
#define AG_RISK_IPINTEL_H

#include "core/err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
    AG_IP_ANON_PROXY = 1u << 0, /* libloc A1: anonymous proxy */
    AG_IP_SATELLITE = 1u << 1,  /* libloc A2: satellite provider */
    AG_IP_ANYCAST = 1u << 2,    /* libloc A3: anycast */
    AG_IP_DROP = 1u << 3,       /* libloc XD: on a drop list (hijacked, spam) */
    AG_IP_HOSTING = 1u << 4,    /* ours: hosting / cloud / VPN network (see ipintel.c) */
    AG_IP_PRIVATE = 1u << 5,    /* ours: private, loopback, link-local, ULA */
};

struct ag_ipinfo {
    bool found;          /* in a network the database knows */
    char country[3];     /* ISO 3166 alpha-2, "" if unknown */
    uint32_t asn;        /* 0 if unknown */
    const char *as_name; /* never NULL ("" if unknown); valid while the handle lives */
    uint32_t flags;      /* AG_IP_* */
    uint8_t net_prefix;  /* prefix length of the matching network (v4-mapped for IPv4) */
};

struct ag_ipintel;

/* Open the database at <path> (the `ipdb_file` setting) with a cache of
 * about <cache_entries> addresses (0: a default of 65536). Returns 0, or
 * AG_EIO / AG_ENOMEM with <err> filled. */
int ag_ipintel_open(const char *path, size_t cache_entries, struct ag_ipintel **out,
                    struct ag_err *err);
void ag_ipintel_close(struct ag_ipintel *db);

/* Look up the network of <ip> (IPv4 or IPv6 text). Fills <out> and returns 0;
 * returns AG_EINVAL if <ip> is not an address and AG_ENOTFOUND when it is in
 * no known network (out->flags still says AG_IP_PRIVATE where it applies).
 * Thread-safe. */
int ag_ipintel_lookup(struct ag_ipintel *db, const char *ip, struct ag_ipinfo *out);

/* The name of AS <asn> ("" if unknown). Valid while the handle lives. Thread-safe. */
const char *ag_ipintel_as_name(struct ag_ipintel *db, uint32_t asn);

/* Is AS <asn> with name <name> a hosting, cloud or VPN network? A table of
 * well-known hosting ASNs plus keywords in the name; a heuristic. */
bool ag_ipintel_is_hosting(uint32_t asn, const char *name);

/* Call <fn> for every network announced by one of <asns> (both families).
 * Slow (walks the whole database, about a second): for tools such as the
 * simulator, not for request paths. Stops early when <fn> returns nonzero. */
int ag_ipintel_each_network(struct ag_ipintel *db, const uint32_t *asns, size_t nasns,
                            int (*fn)(void *arg, const char *cidr, const char *country,
                                      uint32_t asn, uint32_t flags),
                            void *arg);

/* Build an in-memory index of every network in a background thread (a few
 * seconds, holding the libloc lock a slice at a time; about 40 MB). Once it is ready, cache misses
 * are answered by a lock-free binary search over disjoint address ranges
 * (the most specific network wins, as in libloc) instead of a trie walk
 * under the libloc lock. Until then, and if the build fails, libloc answers.
 * Returns 0 or AG_ENOMEM / AG_EIO. Call at most once. */
int ag_ipintel_index_start(struct ag_ipintel *db);
/* Wait for the build (for tests and benchmarks); true if the index is in use. */
bool ag_ipintel_index_wait(struct ag_ipintel *db);

/* Cache statistics since open; <bytes> counts the cache and the index. */
void ag_ipintel_stats(struct ag_ipintel *db, uint64_t *hits, uint64_t *misses, size_t *bytes);

#endif
