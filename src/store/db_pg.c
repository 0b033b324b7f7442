/* The PostgreSQL backend of the SQL layer (libpq).
 *
 * Each record file's SQL is written once with ?1, ?2 ... placeholders; here
 * it is rewritten to $1, $2 ... and prepared once per connection (PQprepare,
 * named by the statement's slot, on its first run, with the types of that
 * run's bindings: int64 as bigint, double as double precision, blobs as
 * bytea, text left to the server), then run with PQexecPrepared. Parameters
 * go as text (numbers formatted exactly, "%.17g" for doubles) except blobs,
 * which go binary, so BYTEA needs no escaping. Results come back as text and are
 * read with the same step/column semantics as SQLite: the whole result is
 * fetched on the first step and walked row by row, integers and doubles are
 * parsed from their text, booleans read as 1/0, BYTEA is decoded from its
 * hex form on demand.
 *
 * Uniqueness: a failing statement aborts a PostgreSQL transaction (SQLite
 * just reports it), and record files catch AG_ECONFLICT from a plain INSERT
 * and carry on in the same job. So a single-row "INSERT ... VALUES" with no
 * ON CONFLICT clause is prepared with "ON CONFLICT DO NOTHING" and reports
 * AG_ECONFLICT when it inserted nothing: the same answer, and the
 * transaction stays usable. Any other unique violation (SQLSTATE 23505) is
 * AG_ECONFLICT too; deadlocks and serialization failures mark the
 * connection retryable (the writer reruns the job).
 *
 * A broken connection is reset on the next statement; its prepared
 * statements are prepared again. */
#include "store/db.h"
#include "core/util.h"

#include <ctype.h>
#include <errno.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Type OIDs from pg_type.dat (stable since forever). */
#define PG_BOOLOID 16
#define PG_BYTEAOID 17
#define PG_INT8OID 20
#define PG_FLOAT8OID 701

struct ag_db_stmt {
    struct ag_db *db; /* first: the generic layer reads it */
    int slot;
    bool prepared;
    bool insert_check; /* rewritten with ON CONFLICT DO NOTHING: 0 rows = conflict */
    int nparams;
    char *sql; /* rewritten, prepared on the first step with the bound types */
    Oid *types;
    const char **vals;
    int *lens, *fmts;
    char (*num)[32]; /* text of numeric parameters */
    PGresult *res;
    int row, nrows; /* row is the current one after a step returned ROW */
    bool ran;
    /* BYTEA decoded for the current row, per column */
    int nfields;
    unsigned char **blob;
    size_t *blen;
    int blob_row;
};

struct ag_db {
    struct ag_db_base base;
    PGconn *conn;
    struct ag_db_stmt **cache; /* indexed by slot; pointers stay put when it grows */
    int ncache;
    int64_t changes;
};

static int fail_msg(struct ag_db *db, struct ag_err *err, const char *what, const char *msg)
{
    char m[200];
    snprintf(m, sizeof m, "%s", msg && *msg ? msg : PQerrorMessage(db->conn));
    size_t n = strlen(m);
    while (n && (m[n - 1] == '\n' || m[n - 1] == ' '))
        m[--n] = '\0';
    return ag_err_set(err, AG_EIO, "store_error", "", "%s: %s", what, m);
}

/* After a failed command: reconnect if the connection broke (its prepared
 * statements are gone with it). */
static void check_conn(struct ag_db *db)
{
    if (PQstatus(db->conn) != CONNECTION_BAD)
        return;
    PQreset(db->conn);
    for (int i = 0; i < db->ncache; i++)
        if (db->cache[i])
            db->cache[i]->prepared = false;
}

static void stmt_clear_result(struct ag_db_stmt *s)
{
    if (s->res) {
        PQclear(s->res);
        s->res = NULL;
    }
    for (int i = 0; i < s->nfields; i++) {
        free(s->blob[i]);
        s->blob[i] = NULL;
    }
    s->blob_row = -1;
    s->ran = false;
    s->row = -1;
    s->nrows = 0;
}

static void stmt_free(struct ag_db_stmt *s)
{
    stmt_clear_result(s);
    free(s->sql);
    free(s->types);
    free(s->vals);
    free(s->lens);
    free(s->fmts);
    free(s->num);
    free(s->blob);
    free(s->blen);
    memset(s, 0, sizeof *s);
}

static void pg_disconnect(struct ag_db *db)
{
    if (!db)
        return;
    for (int i = 0; i < db->ncache; i++)
        if (db->cache[i]) {
            stmt_free(db->cache[i]);
            free(db->cache[i]);
        }
    free(db->cache);
    if (db->conn)
        PQfinish(db->conn);
    free(db);
}

/* Notices (e.g. "relation already exists, skipping") are not errors. */
static void quiet_notice(void *arg, const char *message) {}

static int pg_connect(const char *url, bool writer, struct ag_db **out, struct ag_err *err)
{
    struct ag_db *db = calloc(1, sizeof *db);
    if (!db)
        return ag_err_set(err, AG_ENOMEM, NULL, "", "out of memory");
    db->base.ops = &ag_db_pg_ops;
    /* The URL's own parameters win; application_name is only a fallback. */
    const char *const keys[] = {"dbname", "fallback_application_name", "connect_timeout", NULL};
    const char *const vals[] = {url, writer ? "accountguard-writer" : "accountguard", "10", NULL};
    db->conn = PQconnectdbParams(keys, vals, 1);
    if (!db->conn || PQstatus(db->conn) != CONNECTION_OK) {
        /* never echo the URL: it may carry a password */
        int rc = ag_err_set(err, AG_EIO, "store_error", "store", "cannot connect to PostgreSQL: %s",
                            db->conn ? PQerrorMessage(db->conn) : "out of memory");
        size_t n = err ? strlen(err->msg) : 0;
        while (err && n && err->msg[n - 1] == '\n')
            err->msg[--n] = '\0';
        pg_disconnect(db);
        return rc;
    }
    PQsetNoticeProcessor(db->conn, quiet_notice, NULL);
    /* Times and text as the record files expect them; a commit is durable
     * when it returns (unless the operator weakened it on the server). */
    PGresult *r = PQexec(db->conn, "SET client_encoding = 'UTF8'; SET extra_float_digits = 3");
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        int rc = fail_msg(db, err, "connection setup", PQresultErrorMessage(r));
        PQclear(r);
        pg_disconnect(db);
        return rc;
    }
    PQclear(r);
    *out = db;
    return 0;
}

/* ?N -> $N outside quotes and identifiers; a bare ? takes the next number.
 * Returns a malloc'd string and the highest parameter number in *nparams. */
static char *rewrite_sql(const char *sql, int *nparams)
{
    size_t n = strlen(sql);
    char *out = malloc(n * 2 + 64); /* "?" -> "$NN" at worst, and room for the insert clause */
    if (!out)
        return NULL;
    char *o = out;
    int max = 0, next = 1;
    char quote = 0;
    for (const char *p = sql; *p; p++) {
        if (quote) {
            if (*p == quote)
                quote = 0;
            *o++ = *p;
            continue;
        }
        if (*p == '\'' || *p == '"') {
            quote = *p;
            *o++ = *p;
            continue;
        }
        if (*p != '?') {
            *o++ = *p;
            continue;
        }
        int num = 0;
        const char *q = p + 1;
        while (isdigit((unsigned char)*q) && num < 10000)
            num = num * 10 + (*q++ - '0');
        if (q == p + 1)
            num = next;
        next = num + 1;
        if (num > max)
            max = num;
        o += sprintf(o, "$%d", num);
        p = q - 1;
    }
    *o = '\0';
    *nparams = max;
    return out;
}

/* Case-insensitive search outside quotes; returns the position or NULL. */
static char *find_kw(char *sql, const char *kw)
{
    size_t k = strlen(kw);
    char quote = 0;
    for (char *p = sql; *p; p++) {
        if (quote) {
            if (*p == quote)
                quote = 0;
            continue;
        }
        if (*p == '\'' || *p == '"') {
            quote = *p;
            continue;
        }
        if (!strncasecmp(p, kw, k) && (p == sql || !isalnum((unsigned char)p[-1])) &&
            !isalnum((unsigned char)p[k]) && p[k] != '_')
            return p;
    }
    return NULL;
}

/* A plain single-row INSERT ... VALUES gets ON CONFLICT DO NOTHING (before
 * RETURNING): see the top of the file. <sql> has room for the clause. */
static bool add_conflict_clause(char *sql)
{
    char *s = sql;
    while (isspace((unsigned char)*s))
        s++;
    if (strncasecmp(s, "INSERT", 6) != 0)
        return false;
    char *values = find_kw(sql, "VALUES");
    if (!values || find_kw(sql, "SELECT") || find_kw(sql, "CONFLICT"))
        return false;
    /* one row only: a second "(" at depth 0 after VALUES means several */
    int depth = 0, groups = 0;
    for (char *p = values; *p; p++) {
        if (*p == '(' && depth++ == 0)
            groups++;
        else if (*p == ')')
            depth--;
    }
    if (groups != 1)
        return false;
    static const char clause[] = " ON CONFLICT DO NOTHING ";
    char *ret = find_kw(sql, "RETURNING");
    if (ret) {
        memmove(ret + sizeof clause - 1, ret, strlen(ret) + 1);
        memcpy(ret, clause, sizeof clause - 1);
    } else {
        size_t n = strlen(sql);
        while (n && (isspace((unsigned char)sql[n - 1]) || sql[n - 1] == ';'))
            sql[--n] = '\0';
        memcpy(sql + n, clause, sizeof clause);
    }
    return true;
}

/* Rewrite <q>'s SQL for this connection and size the parameter arrays. */
static int stmt_setup(struct ag_db_stmt *s, struct ag_db_sql *q, struct ag_err *err)
{
    int np = 0;
    char *sql = rewrite_sql(q->pg_sql ? q->pg_sql : q->sql, &np);
    if (!sql)
        return ag_err_set(err, AG_ENOMEM, NULL, "", "out of memory");
    s->insert_check = add_conflict_clause(sql);
    free(s->sql);
    s->sql = sql;
    if (np != s->nparams || !s->vals) {
        free(s->types);
        free(s->vals);
        free(s->lens);
        free(s->fmts);
        free(s->num);
        int m = np ? np : 1;
        s->types = calloc((size_t)m, sizeof *s->types);
        s->vals = calloc((size_t)m, sizeof *s->vals);
        s->lens = calloc((size_t)m, sizeof *s->lens);
        s->fmts = calloc((size_t)m, sizeof *s->fmts);
        s->num = calloc((size_t)m, sizeof *s->num);
        s->nparams = np;
        if (!s->types || !s->vals || !s->lens || !s->fmts || !s->num) {
            s->nparams = 0;
            return ag_err_set(err, AG_ENOMEM, NULL, "", "out of memory");
        }
    }
    return 0;
}

/* Prepare on the server with the types of the first binding: integers as
 * bigint and doubles as double precision (so "?6 > 0" does not make ?6 a
 * 32-bit integer), blobs as bytea; text and NULL left to the server. */
static int stmt_prepare(struct ag_db *db, struct ag_db_stmt *s, struct ag_err *err)
{
    char name[24];
    snprintf(name, sizeof name, "ag%d", s->slot);
    PGresult *r = PQprepare(db->conn, name, s->sql, s->nparams, s->types);
    int rc = 0;
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
        if (!state || strcmp(state, "42P05") != 0) { /* 42P05: prepared already */
            rc = ag_err_set(err, AG_EIO, "store_error", "", "prepare: %.120s [%.100s]",
                            PQresultErrorMessage(r), s->sql);
            check_conn(db);
        }
    }
    PQclear(r);
    if (!rc)
        s->prepared = true;
    return rc;
}

static struct ag_db_stmt *pg_stmt(struct ag_db *db, struct ag_db_sql *q, int slot,
                                  struct ag_err *err)
{
    if (slot >= db->ncache) {
        int n = ag_db_slots_used() + 32;
        struct ag_db_stmt **c = realloc(db->cache, (size_t)n * sizeof *c);
        if (!c) {
            ag_err_set(err, AG_ENOMEM, NULL, "", "out of memory");
            return NULL;
        }
        memset(c + db->ncache, 0, (size_t)(n - db->ncache) * sizeof *c);
        db->cache = c;
        db->ncache = n;
    }
    if (!db->cache[slot] && !(db->cache[slot] = calloc(1, sizeof *db->cache[slot]))) {
        ag_err_set(err, AG_ENOMEM, NULL, "", "out of memory");
        return NULL;
    }
    struct ag_db_stmt *s = db->cache[slot];
    s->db = db;
    s->slot = slot;
    stmt_clear_result(s);
    if (!s->sql && stmt_setup(s, q, err))
        return NULL;
    for (int i = 0; i < s->nparams; i++) {
        s->vals[i] = NULL;
        s->lens[i] = 0;
        s->fmts[i] = 0;
        if (!s->prepared)
            s->types[i] = 0;
    }
    return s;
}

static bool param_ok(struct ag_db_stmt *st, int i) { return i >= 1 && i <= st->nparams; }

static void pg_bind_text(struct ag_db_stmt *st, int i, const char *v)
{
    if (!param_ok(st, i))
        return;
    st->vals[i - 1] = v ? v : "";
    st->fmts[i - 1] = 0;
}
static void pg_bind_int64(struct ag_db_stmt *st, int i, int64_t v)
{
    if (!param_ok(st, i))
        return;
    snprintf(st->num[i - 1], sizeof st->num[0], "%lld", (long long)v);
    st->vals[i - 1] = st->num[i - 1];
    st->fmts[i - 1] = 0;
    if (!st->prepared)
        st->types[i - 1] = PG_INT8OID;
}
static void pg_bind_double(struct ag_db_stmt *st, int i, double v)
{
    if (!param_ok(st, i))
        return;
    snprintf(st->num[i - 1], sizeof st->num[0], "%.17g", v);
    st->vals[i - 1] = st->num[i - 1];
    st->fmts[i - 1] = 0;
    if (!st->prepared)
        st->types[i - 1] = PG_FLOAT8OID;
}
static void pg_bind_blob(struct ag_db_stmt *st, int i, const void *p, size_t n)
{
    if (!param_ok(st, i))
        return;
    st->vals[i - 1] = p ? p : "";
    st->lens[i - 1] = (int)n;
    st->fmts[i - 1] = 1; /* binary: the bytes as they are */
    if (!st->prepared)
        st->types[i - 1] = PG_BYTEAOID;
}
static void pg_bind_null(struct ag_db_stmt *st, int i)
{
    if (!param_ok(st, i))
        return;
    st->vals[i - 1] = NULL;
    st->fmts[i - 1] = 0;
}

static bool retryable_state(const char *state)
{
    return state && (!strcmp(state, "40P01") || !strcmp(state, "40001") ||
                     !strcmp(state, "55P03"));
}

static int pg_step(struct ag_db_stmt *st, struct ag_err *err)
{
    struct ag_db *db = st->db;
    if (!st->ran) {
        st->ran = true;
        int rc;
        if (!st->prepared && (rc = stmt_prepare(db, st, err)))
            return rc;
        char name[24];
        snprintf(name, sizeof name, "ag%d", st->slot);
        st->res = PQexecPrepared(db->conn, name, st->nparams, st->vals, st->lens, st->fmts, 0);
        ExecStatusType s = PQresultStatus(st->res);
        if (s == PGRES_TUPLES_OK || s == PGRES_COMMAND_OK) {
            const char *ct = PQcmdTuples(st->res);
            if (ct && *ct)
                db->changes = strtoll(ct, NULL, 10);
            st->nrows = s == PGRES_TUPLES_OK ? PQntuples(st->res) : 0;
            st->nfields = PQnfields(st->res);
            if (st->nfields) {
                unsigned char **b = realloc(st->blob, (size_t)st->nfields * sizeof *b);
                size_t *l = b ? realloc(st->blen, (size_t)st->nfields * sizeof *l) : NULL;
                if (b)
                    st->blob = b;
                if (!b || !l) {
                    st->nfields = 0;
                    return ag_err_set(err, AG_ENOMEM, NULL, "", "out of memory");
                }
                st->blen = l;
                memset(st->blob, 0, (size_t)st->nfields * sizeof *b);
            }
            if (st->insert_check && ct && !strcmp(ct, "0")) {
                ag_err_set(err, AG_ECONFLICT, "conflict", "", "already exists");
                return AG_ECONFLICT;
            }
        } else {
            const char *state = PQresultErrorField(st->res, PG_DIAG_SQLSTATE);
            if (state && !strcmp(state, "23505")) {
                ag_err_set(err, AG_ECONFLICT, "conflict", "", "already exists");
                return AG_ECONFLICT;
            }
            if (retryable_state(state))
                db->base.retryable = true;
            int rc = fail_msg(db, err, "step", PQresultErrorMessage(st->res));
            check_conn(db);
            return rc;
        }
    }
    if (st->row + 1 < st->nrows) {
        st->row++;
        return AG_DB_ROW;
    }
    st->row = st->nrows;
    return AG_DB_DONE;
}

static bool cell_ok(struct ag_db_stmt *st, int i)
{
    return st->res && st->row >= 0 && st->row < st->nrows && i >= 0 && i < st->nfields;
}

static const char *pg_col_text(struct ag_db_stmt *st, int i)
{
    if (!cell_ok(st, i) || PQgetisnull(st->res, st->row, i))
        return "";
    const char *v = PQgetvalue(st->res, st->row, i);
    if (PQftype(st->res, i) == PG_BOOLOID)
        return v[0] == 't' ? "1" : "0";
    return v;
}

static int64_t pg_col_int64(struct ag_db_stmt *st, int i)
{
    if (!cell_ok(st, i) || PQgetisnull(st->res, st->row, i))
        return 0;
    const char *v = PQgetvalue(st->res, st->row, i);
    if (PQftype(st->res, i) == PG_BOOLOID)
        return v[0] == 't';
    char *end;
    errno = 0;
    long long n = strtoll(v, &end, 10);
    if (*end == '.' || *end == 'e' || *end == 'E') /* a numeric or float: as SQLite casts */
        return (int64_t)strtod(v, NULL);
    return n;
}

static double pg_col_double(struct ag_db_stmt *st, int i)
{
    if (!cell_ok(st, i) || PQgetisnull(st->res, st->row, i))
        return 0;
    const char *v = PQgetvalue(st->res, st->row, i);
    if (PQftype(st->res, i) == PG_BOOLOID)
        return v[0] == 't';
    return strtod(v, NULL);
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c |= 0x20;
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* The column's bytes: BYTEA decoded from "\x..." (cached for the row), any
 * other type its text. */
static const unsigned char *col_bytes_of(struct ag_db_stmt *st, int i, size_t *len)
{
    *len = 0;
    if (!cell_ok(st, i) || PQgetisnull(st->res, st->row, i))
        return NULL;
    const char *v = PQgetvalue(st->res, st->row, i);
    if (PQftype(st->res, i) != PG_BYTEAOID) {
        *len = (size_t)PQgetlength(st->res, st->row, i);
        return (const unsigned char *)v;
    }
    if (st->blob_row != st->row) {
        for (int k = 0; k < st->nfields; k++) {
            free(st->blob[k]);
            st->blob[k] = NULL;
        }
        st->blob_row = st->row;
    }
    if (!st->blob[i]) {
        size_t n = (size_t)PQgetlength(st->res, st->row, i);
        if (n >= 2 && v[0] == '\\' && v[1] == 'x') {
            size_t m = (n - 2) / 2;
            unsigned char *b = malloc(m + 1);
            if (!b)
                return NULL;
            for (size_t k = 0; k < m; k++) {
                int hi = hexval((unsigned char)v[2 + 2 * k]), lo = hexval((unsigned char)v[3 + 2 * k]);
                b[k] = (unsigned char)((hi < 0 ? 0 : hi) << 4 | (lo < 0 ? 0 : lo));
            }
            st->blob[i] = b;
            st->blen[i] = m;
        } else { /* bytea_output = escape: let libpq undo it */
            size_t m = 0;
            unsigned char *u = PQunescapeBytea((const unsigned char *)v, &m);
            unsigned char *b = u ? malloc(m + 1) : NULL;
            if (b)
                memcpy(b, u, m);
            PQfreemem(u);
            if (!b)
                return NULL;
            st->blob[i] = b;
            st->blen[i] = m;
        }
    }
    *len = st->blen[i];
    return st->blob[i];
}

static const void *pg_col_blob(struct ag_db_stmt *st, int i)
{
    size_t n;
    return col_bytes_of(st, i, &n);
}

static size_t pg_col_bytes(struct ag_db_stmt *st, int i)
{
    size_t n;
    col_bytes_of(st, i, &n);
    return n;
}

static bool pg_col_null(struct ag_db_stmt *st, int i)
{
    return !cell_ok(st, i) || PQgetisnull(st->res, st->row, i);
}

static void pg_reset(struct ag_db_stmt *st) { stmt_clear_result(st); }

static int64_t pg_changes(struct ag_db *db) { return db->changes; }
static int64_t pg_last_rowid(struct ag_db *db)
{
    (void)db;
    return 0;
}

static int pg_exec(struct ag_db *db, const char *sql, struct ag_err *err)
{
#ifdef AG_FAULT_INJECTION
    if (!strcmp(sql, "COMMIT") && getenv("AG_FAULT_COMMIT") && ag_fault_alloc_fire())
        return ag_err_set(err, AG_EIO, "store_error", "", "injected commit failure");
#endif
    PGresult *r = PQexec(db->conn, sql);
    ExecStatusType s = PQresultStatus(r);
    int rc = 0;
    if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK) {
        const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
        if (retryable_state(state))
            db->base.retryable = true;
        rc = fail_msg(db, err, "exec", PQresultErrorMessage(r));
        check_conn(db);
    } else if (!strcmp(sql, "COMMIT") && strcmp(PQcmdStatus(r), "COMMIT") != 0) {
        /* COMMIT of an aborted transaction answers ROLLBACK without an error */
        rc = ag_err_set(err, AG_EIO, "store_error", "", "the transaction was rolled back");
    }
    PQclear(r);
    return rc;
}

static int pg_check(struct ag_db *db, struct ag_err *err)
{
    PGresult *r = PQexec(db->conn, "SELECT 1");
    int rc = 0;
    if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1 ||
        strcmp(PQgetvalue(r, 0, 0), "1") != 0)
        rc = ag_err_set(err, AG_EIO, "store_check_failed", "", "PostgreSQL check: %.200s",
                        PQresultErrorMessage(r));
    PQclear(r);
    if (rc)
        check_conn(db);
    return rc;
}

const struct ag_db_ops ag_db_pg_ops = {
    .name = "postgres",
    .begin_sql = "BEGIN",
    .connect = pg_connect,
    .disconnect = pg_disconnect,
    .stmt = pg_stmt,
    .bind_text = pg_bind_text,
    .bind_int64 = pg_bind_int64,
    .bind_double = pg_bind_double,
    .bind_blob = pg_bind_blob,
    .bind_null = pg_bind_null,
    .step = pg_step,
    .col_text = pg_col_text,
    .col_int64 = pg_col_int64,
    .col_double = pg_col_double,
    .col_blob = pg_col_blob,
    .col_bytes = pg_col_bytes,
    .col_null = pg_col_null,
    .reset = pg_reset,
    .changes = pg_changes,
    .last_rowid = pg_last_rowid,
    .exec = pg_exec,
    .check = pg_check,
};
