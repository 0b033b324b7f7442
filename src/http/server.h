/* The HTTP server: libmicrohttpd in epoll mode with a thread pool, request
 * bodies read under a size limit, responses built from JSON or bytes, and
 * suspend/resume so a handler can wait for the store's group commit without
 * holding a worker thread. Routing and authentication are the application's
 * (src/api): the server hands every complete request to one dispatch
 * callback. */
#ifndef AG_HTTP_SERVER_H
#define AG_HTTP_SERVER_H

#include "core/err.h"
#include "core/util.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

struct ag_http_server;
struct MHD_Connection;

#define AG_HTTP_MAX_PARAMS 4
#define AG_HTTP_MAX_HEADERS 8

struct ag_http_req {
    struct MHD_Connection *conn;
    struct ag_http_server *server;
    const char *method;
    const char *path;
    char request_id[48];
    char client_ip[46];
    int64_t t0_ns;
    /* body */
    struct ag_buf body;
    bool body_too_large;
    bool uncounted; /* answered while draining: not among the active */
    /* routing, filled by the application */
    int route_index; /* -1 = no route */
    int nparams;
    char params[AG_HTTP_MAX_PARAMS][256];
    char principal[64]; /* who is calling: API key id or console user */
    /* response */
    bool responded;
    bool suspended;
    int status;
    char *resp_body; /* malloc'd */
    size_t resp_len;
    const char *content_type;
    int nheaders;
    char headers[AG_HTTP_MAX_HEADERS][2][256];
    void *app_state; /* the handler's, freed by its own cleanup */
    void (*app_cleanup)(void *app_state);
};

/* Called once per complete request (body read). Must either respond
 * (ag_http_respond_*) before returning, or call ag_http_suspend() and later,
 * from any thread, respond and ag_http_resume(). */
typedef void (*ag_http_dispatch_fn)(void *app, struct ag_http_req *req);
/* Called when a request is finished (response sent or connection lost). */
typedef void (*ag_http_complete_fn)(void *app, struct ag_http_req *req);

struct ag_http_options {
    const char *listen;   /* "127.0.0.1:8080", "[::1]:8080", "0.0.0.0:8080" */
    int threads;          /* worker threads (0: cores) */
    int max_connections;
    int timeout_s;
    size_t max_body;
    ag_http_dispatch_fn dispatch;
    ag_http_complete_fn complete;
    void *app;
};

int ag_http_server_start(const struct ag_http_options *o, struct ag_http_server **out,
                         struct ag_err *err);
/* Requests currently open (read, running, parked or sending), except those
 * answered 503 while draining (shutdown waits for the others). */
int ag_http_server_active(const struct ag_http_server *s);
/* Start draining: requests that arrive from now on are answered 503
 * shutting_down with Connection: close; those under way finish. */
void ag_http_server_quiesce(struct ag_http_server *s);
/* The port actually bound (useful with port 0). */
int ag_http_server_port(const struct ag_http_server *s);
/* Stop accepting, wait for workers, free. Suspended requests must have been
 * resumed first (the store is drained before this is called). */
void ag_http_server_stop(struct ag_http_server *s);

/* Request header value, or NULL. */
const char *ag_http_header(struct ag_http_req *req, const char *name);
/* Query argument value, or NULL. */
const char *ag_http_query(struct ag_http_req *req, const char *name);

/* Respond with <status> and the compact serialization of <body> (stolen:
 * the reference is released). */
void ag_http_respond_json(struct ag_http_req *req, int status, json_t *body);
/* Respond with an error body {"error":{...}} built from <err>; the status
 * comes from the error code unless <status> is non-zero. */
void ag_http_respond_error(struct ag_http_req *req, int status, const struct ag_err *err);
/* Respond with raw bytes (copied). */
void ag_http_respond_bytes(struct ag_http_req *req, int status, const char *content_type,
                           const void *data, size_t len);
/* Respond with an already serialized JSON body (ownership of <body> passes). */
void ag_http_respond_owned(struct ag_http_req *req, int status, char *body, size_t len);
/* Add a response header (copied; ignored beyond AG_HTTP_MAX_HEADERS). */
void ag_http_add_header(struct ag_http_req *req, const char *name, const char *value);

/* Park the request: call from the dispatch callback before handing work to
 * another thread. */
void ag_http_suspend(struct ag_http_req *req);
/* Wake a parked request after responding; any thread. */
void ag_http_resume(struct ag_http_req *req);

#endif
