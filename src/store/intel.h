/* Store records of threat intelligence (src/intel, src/api/intel*.c):
 * indicators, feeds, and the intel key/value table. Tables in the "intel"
 * migration track (schema_intel.c). Included by store/store.h; times are ms
 * since the epoch.
 *
 * The records are plain columns so the store does not depend on the intel
 * module: the API converts them to and from struct ag_intel_indicator.
 * A job that changes indicators calls ag_store_intel_touch once, which
 * bumps a generation counter in the same transaction, so a node sharing the
 * store (PostgreSQL) sees that its match set is stale by reading one row. */
#ifndef AG_STORE_INTEL_H
#define AG_STORE_INTEL_H

#include "core/err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ag_store;
struct ag_store_tx;

/* One indicator row. On writes the strings are the caller's; on reads they
 * point into the row and are valid only during the callback. <tags> is a
 * JSON array of strings as text; description and external_ref may be NULL. */
struct ag_intel_rec {
    int64_t seq;       /* assigned by the store: the list cursor (newest first) */
    const char *id;    /* "indicator--<uuid>" */
    const char *type;  /* "ipv4", "domain", ... */
    const char *value; /* normalised */
    const char *source;
    int confidence;
    const char *tlp;   /* "clear", "green", "amber", "amber+strict", "red" */
    const char *tags;
    const char *description;
    const char *external_ref;
    bool informational;
    int64_t valid_from, valid_until, created, modified;
    int64_t added;     /* when this server stored this version (TAXII date_added) */
};

typedef int (*ag_store_intel_cb)(void *arg, const struct ag_intel_rec *r);

/* Insert or replace the indicator with r->id (every column, <added>
 * included). *created (may be NULL) tells which. Returns 0 or AG_EIO. */
int ag_store_intel_put(struct ag_store_tx *tx, const struct ag_intel_rec *r, bool *created,
                       struct ag_err *err);
/* Delete one indicator. AG_ENOTFOUND if there is none. */
int ag_store_intel_delete(struct ag_store_tx *tx, const char *id, struct ag_err *err);
/* Read one indicator into <cb> (called once). AG_ENOTFOUND if none. */
int ag_store_intel_get(struct ag_store *s, const char *id, ag_store_intel_cb cb, void *arg,
                       struct ag_err *err);
int ag_store_intel_get_tx(struct ag_store_tx *tx, const char *id, ag_store_intel_cb cb,
                          void *arg, struct ag_err *err);

enum ag_store_intel_state {
    AG_STORE_INTEL_ANY = 0,
    AG_STORE_INTEL_LIVE,    /* valid_from <= now < valid_until (or no expiry) */
    AG_STORE_INTEL_EXPIRED, /* valid_until <= now */
    AG_STORE_INTEL_PENDING, /* valid_from > now */
};

/* What a listing selects; NULL strings select everything. */
struct ag_store_intel_filter {
    const char *type, *source, *value, *tlp;
    const char *tag;           /* exact tag */
    enum ag_store_intel_state state;
    int64_t now;               /* for <state> */
    int64_t before_seq;        /* cursor: rows with seq < this (0: from the newest) */
    int limit;
};
/* Rows matching <f>, newest first (seq descending). */
int ag_store_intel_list(struct ag_store *s, const struct ag_store_intel_filter *f,
                        ag_store_intel_cb cb, void *arg, struct ag_err *err);

/* Every indicator not expired at <now> (valid_until 0 or > now), in no
 * particular order: the input of a match-set rebuild. */
int ag_store_intel_scan_live(struct ag_store *s, int64_t now, ag_store_intel_cb cb, void *arg,
                             struct ag_err *err);

/* Indicators in TAXII order (added, id) after the position (<after_added>,
 * <after_id>) (after_added -1: from the start), added strictly after
 * <added_after> (-1: no bound), only TLP:CLEAR and TLP:GREEN ones when
 * <shareable_only>, at most <limit> (0: all). */
int ag_store_intel_scan_added(struct ag_store *s, int64_t after_added, const char *after_id,
                              int64_t added_after, bool shareable_only, int limit,
                              ag_store_intel_cb cb, void *arg, struct ag_err *err);

/* Count of all indicators and of the live ones at <now>. */
int ag_store_intel_count(struct ag_store *s, int64_t now, int64_t *total, int64_t *live,
                         struct ag_err *err);

/* The change generation, bumped by ag_store_intel_touch (once per job
 * that changed indicators). Returns it, or a negative code. */
int64_t ag_store_intel_generation(struct ag_store *s);
int ag_store_intel_touch(struct ag_store_tx *tx, struct ag_err *err);

/* The intel key/value table ("identity_id", ...). get copies the value into
 * <out> (<len> bytes) or returns AG_ENOTFOUND; put inserts or replaces. */
int ag_store_intel_meta_get(struct ag_store *s, const char *k, char *out, size_t len,
                            struct ag_err *err);
int ag_store_intel_meta_put(struct ag_store_tx *tx, const char *k, const char *v,
                            struct ag_err *err);
/* Insert unless present; the value in force (ours or the existing one) is
 * copied to <out>. For values every node must agree on. */
int ag_store_intel_meta_init(struct ag_store_tx *tx, const char *k, const char *v, char *out,
                             size_t len, struct ag_err *err);

/* ---- feeds ---- */

struct ag_intel_feed_rec {
    char name[64];
    const char *config;      /* the feed config as JSON text */
    int64_t created_at, updated_at;
    int64_t next_fetch_at;   /* 0: due now */
    int64_t last_fetch_at;   /* 0: never fetched */
    char last_status[16];    /* "never", "ok", "error" */
    const char *last_error;  /* "" when none */
    int64_t last_count;      /* indicators in the last good fetch */
    int64_t last_bytes;
    const char *last_notes;  /* JSON array of {"where","reason"} (first few) */
};
typedef int (*ag_store_intel_feed_cb)(void *arg, const struct ag_intel_feed_rec *r);

/* Create (AG_ECONFLICT if the name exists) or replace a feed's config;
 * replacing keeps its fetch status but makes it due now. */
int ag_store_intel_feed_create(struct ag_store_tx *tx, const char *name, const char *config,
                               int64_t now, struct ag_err *err);
int ag_store_intel_feed_update(struct ag_store_tx *tx, const char *name, const char *config,
                               int64_t now, struct ag_err *err);
/* AG_ENOTFOUND if there is no such feed. Its indicators stay (they expire). */
int ag_store_intel_feed_delete(struct ag_store_tx *tx, const char *name, struct ag_err *err);
/* Record a fetch's outcome and when the next one is due. */
int ag_store_intel_feed_status(struct ag_store_tx *tx, const char *name, int64_t fetched_at,
                               int64_t next_fetch_at, const char *status, const char *error,
                               int64_t count, int64_t bytes, const char *notes,
                               struct ag_err *err);
/* Claim a due feed for fetching: if its next fetch is at or before <now>,
 * move it to <lease_until> (so another node sharing the store does not
 * fetch it too) and return 1; else return 0. */
int ag_store_intel_feed_claim(struct ag_store_tx *tx, const char *name, int64_t now,
                              int64_t lease_until, struct ag_err *err);
/* Make the feed due at <at> (refresh). AG_ENOTFOUND if none. */
int ag_store_intel_feed_due(struct ag_store_tx *tx, const char *name, int64_t at,
                            struct ag_err *err);
int ag_store_intel_feed_get(struct ag_store *s, const char *name, ag_store_intel_feed_cb cb,
                            void *arg, struct ag_err *err);
/* Every feed by name. */
int ag_store_intel_feed_list(struct ag_store *s, ag_store_intel_feed_cb cb, void *arg,
                             struct ag_err *err);

#endif
