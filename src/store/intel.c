/* Threat-intelligence records: indicators, feeds and the intel key/value
 * table, written once against the SQL layer (db.h). See store/intel.h. */
#include "store/store_impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- indicators ---- */

#define IND_COLS                                                                                 \
    "seq, id, type, value, source, confidence, tlp, tags, description, external_ref, "           \
    "informational, valid_from, valid_until, created, modified, added"

static struct ag_db_sql q_exists = {.sql = "SELECT 1 FROM intel_indicators WHERE id = ?1"};
static struct ag_db_sql q_put = {
    .sql = "INSERT INTO intel_indicators(id, type, value, source, confidence, tlp, tags, "
    "description, external_ref, informational, valid_from, valid_until, created, modified, added) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15) "
    "ON CONFLICT(id) DO UPDATE SET type = excluded.type, value = excluded.value, "
    "source = excluded.source, confidence = excluded.confidence, tlp = excluded.tlp, "
    "tags = excluded.tags, description = excluded.description, "
    "external_ref = excluded.external_ref, informational = excluded.informational, "
    "valid_from = excluded.valid_from, valid_until = excluded.valid_until, "
    "created = excluded.created, modified = excluded.modified, added = excluded.added"};
static struct ag_db_sql q_delete = {.sql = "DELETE FROM intel_indicators WHERE id = ?1"};
static struct ag_db_sql q_get = {.sql = "SELECT " IND_COLS " FROM intel_indicators WHERE id = ?1"};
static struct ag_db_sql q_list = {
    .sql = "SELECT " IND_COLS " FROM intel_indicators WHERE seq < ?1 "
    "AND (?2 IS NULL OR type = ?2) AND (?3 IS NULL OR source = ?3) "
    "AND (?4 IS NULL OR value = ?4) AND (?5 IS NULL OR tlp = ?5) "
    "AND (?6 IS NULL OR instr(tags, ?6) > 0) "
    "AND (?7 = 0 OR (?7 = 1 AND valid_from <= ?8 AND (valid_until = 0 OR valid_until > ?8)) "
    "OR (?7 = 2 AND valid_until <> 0 AND valid_until <= ?8) "
    "OR (?7 = 3 AND valid_from > ?8 AND (valid_until = 0 OR valid_until > ?8))) "
    "ORDER BY seq DESC LIMIT ?9",
    .pg_sql = "SELECT " IND_COLS " FROM intel_indicators WHERE seq < ?1 "
    "AND (?2::text IS NULL OR type = ?2) AND (?3::text IS NULL OR source = ?3) "
    "AND (?4::text IS NULL OR value = ?4) AND (?5::text IS NULL OR tlp = ?5) "
    "AND (?6::text IS NULL OR strpos(tags, ?6) > 0) "
    "AND (?7 = 0 OR (?7 = 1 AND valid_from <= ?8 AND (valid_until = 0 OR valid_until > ?8)) "
    "OR (?7 = 2 AND valid_until <> 0 AND valid_until <= ?8) "
    "OR (?7 = 3 AND valid_from > ?8 AND (valid_until = 0 OR valid_until > ?8))) "
    "ORDER BY seq DESC LIMIT ?9"};
static struct ag_db_sql q_scan_live = {
    .sql = "SELECT " IND_COLS " FROM intel_indicators WHERE valid_until = 0 OR valid_until > ?1"};
static struct ag_db_sql q_scan_added = {
    .sql = "SELECT " IND_COLS " FROM intel_indicators "
    "WHERE (added > ?1 OR (added = ?1 AND id > ?2)) AND added > ?3 "
    "AND (?4 = 0 OR tlp IN ('clear', 'green')) ORDER BY added, id LIMIT ?5"};
static struct ag_db_sql q_count = {
    .sql = "SELECT count(*), COALESCE(SUM(CASE WHEN valid_from <= ?1 AND (valid_until = 0 OR "
    "valid_until > ?1) THEN 1 ELSE 0 END), 0) FROM intel_indicators"};
static struct ag_db_sql q_touch = {
    .sql = "UPDATE intel_meta SET v = CAST(CAST(v AS INTEGER) + 1 AS TEXT) WHERE k = 'generation'",
    .pg_sql = "UPDATE intel_meta SET v = (v::bigint + 1)::text WHERE k = 'generation'"};
static struct ag_db_sql q_meta_get = {.sql = "SELECT v FROM intel_meta WHERE k = ?1"};
static struct ag_db_sql q_meta_put = {
    .sql = "INSERT INTO intel_meta(k, v) VALUES (?1, ?2) "
    "ON CONFLICT(k) DO UPDATE SET v = excluded.v"};
static struct ag_db_sql q_meta_init = {
    .sql = "INSERT INTO intel_meta(k, v) VALUES (?1, ?2) ON CONFLICT(k) DO NOTHING"};

static void bind_opt(struct ag_db_stmt *st, int i, const char *v)
{
    if (v)
        ag_db_bind_text(st, i, v);
    else
        ag_db_bind_null(st, i);
}

static void read_ind(struct ag_db_stmt *st, struct ag_intel_rec *r)
{
    memset(r, 0, sizeof *r);
    r->seq = ag_db_col_int64(st, 0);
    r->id = ag_db_col_text(st, 1);
    r->type = ag_db_col_text(st, 2);
    r->value = ag_db_col_text(st, 3);
    r->source = ag_db_col_text(st, 4);
    r->confidence = (int)ag_db_col_int64(st, 5);
    r->tlp = ag_db_col_text(st, 6);
    r->tags = ag_db_col_text(st, 7);
    r->description = ag_db_col_null(st, 8) ? NULL : ag_db_col_text(st, 8);
    r->external_ref = ag_db_col_null(st, 9) ? NULL : ag_db_col_text(st, 9);
    r->informational = ag_db_col_int64(st, 10) != 0;
    r->valid_from = ag_db_col_int64(st, 11);
    r->valid_until = ag_db_col_int64(st, 12);
    r->created = ag_db_col_int64(st, 13);
    r->modified = ag_db_col_int64(st, 14);
    r->added = ag_db_col_int64(st, 15);
}

struct each_ind {
    ag_store_intel_cb cb;
    void *arg;
    int n; /* rows seen */
};

static int each_ind_row(struct ag_db_stmt *st, void *p)
{
    struct each_ind *e = p;
    struct ag_intel_rec r;
    read_ind(st, &r);
    e->n++;
    return e->cb(e->arg, &r);
}

/* Step <st> to the end, handing each row to <cb> until it returns non-zero. */
static int each_ind(struct ag_db_stmt *st, ag_store_intel_cb cb, void *arg, int *rows,
                    struct ag_err *err)
{
    struct each_ind e = {cb, arg, 0};
    int rc = ag_db_each(st, each_ind_row, &e, err);
    if (rows)
        *rows = e.n;
    return rc;
}

int ag_store_intel_put(struct ag_store_tx *tx, const struct ag_intel_rec *r, bool *created,
                       struct ag_err *err)
{
    if (created) {
        struct ag_db_stmt *st = ag_db_stmt(tx->db, &q_exists, err);
        if (!st)
            return AG_EIO;
        ag_db_bind_text(st, 1, r->id);
        int rc = ag_db_step(st, err);
        ag_db_reset(st);
        if (rc < 0)
            return rc;
        *created = rc == AG_DB_DONE;
    }
    struct ag_db_stmt *st = ag_db_stmt(tx->db, &q_put, err);
    if (!st)
        return AG_EIO;
    ag_db_bind_text(st, 1, r->id);
    ag_db_bind_text(st, 2, r->type);
    ag_db_bind_text(st, 3, r->value);
    ag_db_bind_text(st, 4, r->source);
    ag_db_bind_int64(st, 5, r->confidence);
    ag_db_bind_text(st, 6, r->tlp);
    ag_db_bind_text(st, 7, r->tags ? r->tags : "[]");
    bind_opt(st, 8, r->description);
    bind_opt(st, 9, r->external_ref);
    ag_db_bind_int64(st, 10, r->informational);
    ag_db_bind_int64(st, 11, r->valid_from);
    ag_db_bind_int64(st, 12, r->valid_until);
    ag_db_bind_int64(st, 13, r->created);
    ag_db_bind_int64(st, 14, r->modified);
    ag_db_bind_int64(st, 15, r->added);
    return ag_db_run(st, err);
}

int ag_store_intel_delete(struct ag_store_tx *tx, const char *id, struct ag_err *err)
{
    struct ag_db_stmt *st = ag_db_stmt(tx->db, &q_delete, err);
    if (!st)
        return AG_EIO;
    ag_db_bind_text(st, 1, id);
    int rc = ag_db_run(st, err);
    if (rc)
        return rc;
    if (ag_db_changes(tx->db) == 0)
        return ag_err_set(err, AG_ENOTFOUND, "indicator_not_found", "id", "no indicator %.60s",
                          id);
    return 0;
}

static int ind_get(struct ag_db *db, const char *id, ag_store_intel_cb cb, void *arg,
                   struct ag_err *err)
{
    struct ag_db_stmt *st = ag_db_stmt(db, &q_get, err);
    if (!st)
        return AG_EIO;
    ag_db_bind_text(st, 1, id);
    int rows, rc = each_ind(st, cb, arg, &rows, err);
    if (rc)
        return rc;
    if (!rows)
        return ag_err_set(err, AG_ENOTFOUND, "indicator_not_found", "id", "no indicator %.60s",
                          id);
    return 0;
}

int ag_store_intel_get(struct ag_store *s, const char *id, ag_store_intel_cb cb, void *arg,
                       struct ag_err *err)
{
    AG_STORE_READ(s, ind_get(db, id, cb, arg, err));
}

int ag_store_intel_get_tx(struct ag_store_tx *tx, const char *id, ag_store_intel_cb cb,
                          void *arg, struct ag_err *err)
{
    return ind_get(tx->db, id, cb, arg, err);
}

static int ind_list(struct ag_db *db, const struct ag_store_intel_filter *f, ag_store_intel_cb cb,
                    void *arg, struct ag_err *err)
{
    struct ag_db_stmt *st = ag_db_stmt(db, &q_list, err);
    if (!st)
        return AG_EIO;
    char tagq[300];
    ag_db_bind_int64(st, 1, f->before_seq > 0 ? f->before_seq : INT64_MAX);
    bind_opt(st, 2, f->type);
    bind_opt(st, 3, f->source);
    bind_opt(st, 4, f->value);
    bind_opt(st, 5, f->tlp);
    if (f->tag) {
        /* Tags are stored as a JSON array: look for the quoted tag. Tags
         * hold no quotes or backslashes (the model forbids control
         * characters; a quote would be escaped, so this finds nothing). */
        snprintf(tagq, sizeof tagq, "\"%s\"", f->tag);
        ag_db_bind_text(st, 6, tagq);
    } else {
        ag_db_bind_null(st, 6);
    }
    ag_db_bind_int64(st, 7, f->state);
    ag_db_bind_int64(st, 8, f->now);
    ag_db_bind_int64(st, 9, f->limit > 0 ? f->limit : 100);
    return each_ind(st, cb, arg, NULL, err);
}

int ag_store_intel_list(struct ag_store *s, const struct ag_store_intel_filter *f,
                        ag_store_intel_cb cb, void *arg, struct ag_err *err)
{
    AG_STORE_READ(s, ind_list(db, f, cb, arg, err));
}

static int ind_scan_live(struct ag_db *db, int64_t now, ag_store_intel_cb cb, void *arg,
                         struct ag_err *err)
{
    struct ag_db_stmt *st = ag_db_stmt(db, &q_scan_live, err);
    if (!st)
        return AG_EIO;
    ag_db_bind_int64(st, 1, now);
    return each_ind(st, cb, arg, NULL, err);
}

int ag_store_intel_scan_live(struct ag_store *s, int64_t now, ag_store_intel_cb cb, void *arg,
                             struct ag_err *err)
{
    AG_STORE_READ(s, ind_scan_live(db, now, cb, arg, err));
}

static int ind_scan_added(struct ag_db *db, int64_t after_added, const char *after_id,
                          int64_t added_after, bool shareable_only, int limit,
                          ag_store_intel_cb cb, void *arg, struct ag_err *err)
{
    struct ag_db_stmt *st = ag_db_stmt(db, &q_scan_added, err);
    if (!st)
        return AG_EIO;
    ag_db_bind_int64(st, 1, after_added);
    ag_db_bind_text(st, 2, after_id ? after_id : "");
    ag_db_bind_int64(st, 3, added_after);
    ag_db_bind_int64(st, 4, shareable_only);
    ag_db_bind_int64(st, 5, limit > 0 ? limit : INT64_MAX);
    return each_ind(st, cb, arg, NULL, err);
}

int ag_store_intel_scan_added(struct ag_store *s, int64_t after_added, const char *after_id,
                              int64_t added_after, bool shareable_only, int limit,
                              ag_store_intel_cb cb, void *arg, struct ag_err *err)
{
    AG_STORE_READ(s, ind_scan_added(db, after_added, after_id, added_after, shareable_only,
                                    limit, cb, arg, err));
}

static int ind_count(struct ag_db *db, int64_t now, int64_t *total, int64_t *live,
                     struct ag_err *err)
{
    struct ag_db_stmt *st = ag_db_stmt(db, &q_count, err);
    if (!st)
        return AG_EIO;
    ag_db_bind_int64(st, 1, now);
    int rc = ag_db_step(st, err);
    if (rc == AG_DB_ROW) {
        *total = ag_db_col_int64(st, 0);
        *live = ag_db_col_int64(st, 1);
    }
    ag_db_reset(st);
    return rc < 0 ? rc : 0;
}

int ag_store_intel_count(struct ag_store *s, int64_t now, int64_t *total, int64_t *live,
                         struct ag_err *err)
{
    AG_STORE_READ(s, ind_count(db, now, total, live, err));
}

static int meta_get(struct ag_db *db, const char *k, char *out, size_t len, struct ag_err *err)
{
    struct ag_db_stmt *st = ag_db_stmt(db, &q_meta_get, err);
    if (!st)
        return AG_EIO;
    ag_db_bind_text(st, 1, k);
    int rc = ag_db_step(st, err);
    if (rc == AG_DB_ROW)
        ag_db_col_copy(st, 0, out, len);
    ag_db_reset(st);
    if (rc == AG_DB_DONE)
        return ag_err_set(err, AG_ENOTFOUND, "not_found", "", "no intel setting %s", k);
    return rc < 0 ? rc : 0;
}

int ag_store_intel_meta_get(struct ag_store *s, const char *k, char *out, size_t len,
                            struct ag_err *err)
{
    AG_STORE_READ(s, meta_get(db, k, out, len, err));
}

int64_t ag_store_intel_generation(struct ag_store *s)
{
    char buf[32];
    int rc = ag_store_intel_meta_get(s, "generation", buf, sizeof buf, NULL);
    return rc ? rc : strtoll(buf, NULL, 10);
}

int ag_store_intel_touch(struct ag_store_tx *tx, struct ag_err *err)
{
    struct ag_db_stmt *st = ag_db_stmt(tx->db, &q_touch, err);
    return st ? ag_db_run(st, err) : AG_EIO;
}

int ag_store_intel_meta_put(struct ag_store_tx *tx, const char *k, const char *v,
                            struct ag_err *err)
{
    struct ag_db_stmt *st = ag_db_stmt(tx->db, &q_meta_put, err);
    if (!st)
        return AG_EIO;
    ag_db_bind_text(st, 1, k);
    ag_db_bind_text(st, 2, v);
    return ag_db_run(st, err);
}

int ag_store_intel_meta_init(struct ag_store_tx *tx, const char *k, const char *v, char *out,
                             size_t len, struct ag_err *err)
{
    struct ag_db_stmt *st = ag_db_stmt(tx->db, &q_meta_init, err);
    if (!st)
        return AG_EIO;
    ag_db_bind_text(st, 1, k);
    ag_db_bind_text(st, 2, v);
    int rc = ag_db_run(st, err);
    return rc ? rc : meta_get(tx->db, k, out, len, err);
}

/* ---- feeds ---- */

#define FEED_COLS                                                                                \
    "name, config, created_at, updated_at, next_fetch_at, last_fetch_at, last_status, "          \
    "last_error, last_count, last_bytes, last_notes"
static struct ag_db_sql q_feed_create = {
    .sql = "INSERT INTO intel_feeds(name, config, created_at, updated_at) VALUES (?1, ?2, ?3, ?3)"};
static struct ag_db_sql q_feed_update = {
    .sql = "UPDATE intel_feeds SET config = ?2, updated_at = ?3, next_fetch_at = 0 WHERE name = ?1"};
static struct ag_db_sql q_feed_delete = {.sql = "DELETE FROM intel_feeds WHERE name = ?1"};
static struct ag_db_sql q_feed_status = {
    .sql = "UPDATE intel_feeds SET last_fetch_at = ?2, next_fetch_at = ?3, last_status = ?4, "
    "last_error = ?5, last_count = CASE WHEN ?4 = 'ok' THEN ?6 ELSE last_count END, "
    "last_bytes = ?7, last_notes = ?8 WHERE name = ?1"};
static struct ag_db_sql q_feed_due = {
    .sql = "UPDATE intel_feeds SET next_fetch_at = ?2 WHERE name = ?1"};
static struct ag_db_sql q_feed_claim = {
    .sql = "UPDATE intel_feeds SET next_fetch_at = ?3 WHERE name = ?1 AND next_fetch_at <= ?2"};
static struct ag_db_sql q_feed_get = {.sql = "SELECT " FEED_COLS " FROM intel_feeds WHERE name = ?1"};
static struct ag_db_sql q_feed_list = {.sql = "SELECT " FEED_COLS " FROM intel_feeds ORDER BY name"};

static int feed_missing(const char *name, struct ag_err *err)
{
    return ag_err_set(err, AG_ENOTFOUND, "feed_not_found", "id", "no feed %.64s", name);
}

static int feed_changed(struct ag_store_tx *tx, struct ag_db_stmt *st, const char *name,
                        struct ag_err *err)
{
    int rc = ag_db_run(st, err);
    if (rc)
        return rc;
    return ag_db_changes(tx->db) ? 0 : feed_missing(name, err);
}

int ag_store_intel_feed_create(struct ag_store_tx *tx, const char *name, const char *config,
                               int64_t now, struct ag_err *err)
{
    struct ag_db_stmt *st = ag_db_stmt(tx->db, &q_feed_create, err);
    if (!st)
        return AG_EIO;
    ag_db_bind_text(st, 1, name);
    ag_db_bind_text(st, 2, config);
    ag_db_bind_int64(st, 3, now);
    int rc = ag_db_run(st, err);
    if (rc == AG_ECONFLICT)
        return ag_err_set(err, AG_ECONFLICT, "feed_exists", "name", "a feed named %.64s exists",
                          name);
    return rc;
}

int ag_store_intel_feed_update(struct ag_store_tx *tx, const char *name, const char *config,
                               int64_t now, struct ag_err *err)
{
    struct ag_db_stmt *st = ag_db_stmt(tx->db, &q_feed_update, err);
    if (!st)
        return AG_EIO;
    ag_db_bind_text(st, 1, name);
    ag_db_bind_text(st, 2, config);
    ag_db_bind_int64(st, 3, now);
    return feed_changed(tx, st, name, err);
}

int ag_store_intel_feed_delete(struct ag_store_tx *tx, const char *name, struct ag_err *err)
{
    struct ag_db_stmt *st = ag_db_stmt(tx->db, &q_feed_delete, err);
    if (!st)
        return AG_EIO;
    ag_db_bind_text(st, 1, name);
    return feed_changed(tx, st, name, err);
}

int ag_store_intel_feed_status(struct ag_store_tx *tx, const char *name, int64_t fetched_at,
                               int64_t next_fetch_at, const char *status, const char *error,
                               int64_t count, int64_t bytes, const char *notes,
                               struct ag_err *err)
{
    struct ag_db_stmt *st = ag_db_stmt(tx->db, &q_feed_status, err);
    if (!st)
        return AG_EIO;
    ag_db_bind_text(st, 1, name);
    ag_db_bind_int64(st, 2, fetched_at);
    ag_db_bind_int64(st, 3, next_fetch_at);
    ag_db_bind_text(st, 4, status);
    ag_db_bind_text(st, 5, error ? error : "");
    ag_db_bind_int64(st, 6, count);
    ag_db_bind_int64(st, 7, bytes);
    ag_db_bind_text(st, 8, notes ? notes : "[]");
    return feed_changed(tx, st, name, err);
}

int ag_store_intel_feed_due(struct ag_store_tx *tx, const char *name, int64_t at,
                            struct ag_err *err)
{
    struct ag_db_stmt *st = ag_db_stmt(tx->db, &q_feed_due, err);
    if (!st)
        return AG_EIO;
    ag_db_bind_text(st, 1, name);
    ag_db_bind_int64(st, 2, at);
    return feed_changed(tx, st, name, err);
}

int ag_store_intel_feed_claim(struct ag_store_tx *tx, const char *name, int64_t now,
                              int64_t lease_until, struct ag_err *err)
{
    struct ag_db_stmt *st = ag_db_stmt(tx->db, &q_feed_claim, err);
    if (!st)
        return AG_EIO;
    ag_db_bind_text(st, 1, name);
    ag_db_bind_int64(st, 2, now);
    ag_db_bind_int64(st, 3, lease_until);
    int rc = ag_db_run(st, err);
    if (rc)
        return rc;
    return ag_db_changes(tx->db) ? 1 : 0;
}

struct each_feed {
    ag_store_intel_feed_cb cb;
    void *arg;
    int n; /* rows seen */
};

static int each_feed_row(struct ag_db_stmt *st, void *p)
{
    struct each_feed *e = p;
    struct ag_intel_feed_rec r;
    memset(&r, 0, sizeof r);
    ag_db_col_copy(st, 0, r.name, sizeof r.name);
    r.config = ag_db_col_text(st, 1);
    r.created_at = ag_db_col_int64(st, 2);
    r.updated_at = ag_db_col_int64(st, 3);
    r.next_fetch_at = ag_db_col_int64(st, 4);
    r.last_fetch_at = ag_db_col_int64(st, 5);
    ag_db_col_copy(st, 6, r.last_status, sizeof r.last_status);
    r.last_error = ag_db_col_text(st, 7);
    r.last_count = ag_db_col_int64(st, 8);
    r.last_bytes = ag_db_col_int64(st, 9);
    r.last_notes = ag_db_col_text(st, 10);
    e->n++;
    return e->cb(e->arg, &r);
}

static int each_feed(struct ag_db_stmt *st, ag_store_intel_feed_cb cb, void *arg, int *rows,
                     struct ag_err *err)
{
    struct each_feed e = {cb, arg, 0};
    int rc = ag_db_each(st, each_feed_row, &e, err);
    if (rows)
        *rows = e.n;
    return rc;
}

static int feed_get(struct ag_db *db, const char *name, ag_store_intel_feed_cb cb, void *arg,
                    struct ag_err *err)
{
    struct ag_db_stmt *st = ag_db_stmt(db, &q_feed_get, err);
    if (!st)
        return AG_EIO;
    ag_db_bind_text(st, 1, name);
    int rows, rc = each_feed(st, cb, arg, &rows, err);
    if (rc)
        return rc;
    return rows ? 0 : feed_missing(name, err);
}

int ag_store_intel_feed_get(struct ag_store *s, const char *name, ag_store_intel_feed_cb cb,
                            void *arg, struct ag_err *err)
{
    AG_STORE_READ(s, feed_get(db, name, cb, arg, err));
}

static int feed_list(struct ag_db *db, ag_store_intel_feed_cb cb, void *arg, struct ag_err *err)
{
    struct ag_db_stmt *st = ag_db_stmt(db, &q_feed_list, err);
    if (!st)
        return AG_EIO;
    return each_feed(st, cb, arg, NULL, err);
}

int ag_store_intel_feed_list(struct ag_store *s, ag_store_intel_feed_cb cb, void *arg,
                             struct ag_err *err)
{
    AG_STORE_READ(s, feed_list(db, cb, arg, err));
}
