/* Which store a unit test opens: the SQLite file it names, or — when
 * AG_TEST_PG_URL is set (ctest's pg/ tests run under tests/pg/pgctl.py) —
 * a PostgreSQL schema of its own, named after that file's path, so that
 * reopening the same path finds the same data and two test cases never see
 * each other's rows. Include it in a test that links the store. */
#ifndef AG_TEST_STORE_URL_H
#define AG_TEST_STORE_URL_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static inline bool ag_test_pg(void)
{
    const char *u = getenv("AG_TEST_PG_URL");
    return u && *u;
}

/* The URL to open for <path>, in a static buffer. Aborts the test run when
 * PostgreSQL was asked for but cannot be reached: a PG run must never pass
 * by testing SQLite instead. */
static inline const char *ag_test_store_url(const char *path)
{
    static char url[1024];
    if (!ag_test_pg())
        return path;
    const char *base = getenv("AG_TEST_PG_URL");
    char schema[64] = "t_";
    size_t n = 2;
    for (const char *p = path; *p && n < sizeof schema - 1; p++)
        if ((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9'))
            schema[n++] = *p;
        else if (*p >= 'A' && *p <= 'Z')
            schema[n++] = (char)(*p - 'A' + 'a');
    schema[n] = '\0';
    PGconn *c = PQconnectdb(base);
    if (PQstatus(c) != CONNECTION_OK) {
        fprintf(stderr, "AG_TEST_PG_URL: cannot connect: %s", PQerrorMessage(c));
        abort();
    }
    char sql[160];
    snprintf(sql, sizeof sql, "SET client_min_messages = warning; CREATE SCHEMA IF NOT EXISTS %s", schema);
    PGresult *r = PQexec(c, sql);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        fprintf(stderr, "%s: %s", sql, PQresultErrorMessage(r));
        abort();
    }
    PQclear(r);
    PQfinish(c);
    snprintf(url, sizeof url, "%s%coptions=-csearch_path%%3D%s", base,
             strchr(base, '?') ? '&' : '?', schema);
    return url;
}

/* The backend ag_store_backend() must report. */
static inline const char *ag_test_store_backend(void) { return ag_test_pg() ? "postgres" : "sqlite"; }

#endif
