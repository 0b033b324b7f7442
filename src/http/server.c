/* libmicrohttpd glue: one access-handler that reads the body under the limit,
 * then hands the request to the application; response construction; the
 * suspend/resume dance for asynchronous handlers. */
#include "http/server.h"
#include "core/json.h"
#include "core/log.h"
#include "core/timeutil.h"

#include <arpa/inet.h>
#include <stdatomic.h>
#include <microhttpd.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* One libmicrohttpd daemon (one epoll thread) per worker, each with its own
 * listening socket on the same port (SO_REUSEPORT): the kernel spreads new
 * connections over them. A thread pool sharing one socket lets whichever
 * worker wakes first accept, and under a burst of connections (a client's
 * pool opening) one worker could take nearly all of them while the other
 * cores idled (seen in bench/bench_events.sh: 84% of a core on one worker,
 * the other unused). */
#define AG_HTTP_MAX_DAEMONS 64

struct ag_http_server {
    struct MHD_Daemon *daemons[AG_HTTP_MAX_DAEMONS];
    int ndaemons;
    struct ag_http_options opt;
    int port;
    _Atomic int active;
    char rid_prefix[12];
    _Atomic uint64_t rid_counter;
    /* Shutting down: requests that come now are answered 503 (and their
     * connection closed) while those under way finish. Not
     * MHD_quiesce_daemon: with epoll and a thread pool it races with the
     * workers' own removal of the listen socket and libmicrohttpd aborts
     * the process ("Failed to remove listen FD from epoll set", an open
     * libmicrohttpd defect seen under SIGTERM in the tests). */
    _Atomic bool draining;
};

static bool rid_ok(const char *s)
{
    size_t n = 0;
    for (; s[n]; n++) {
        char c = s[n];
        if (n >= 40 || !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                         (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.'))
            return false;
    }
    return n > 0;
}

static struct ag_http_req *req_new(struct ag_http_server *s, struct MHD_Connection *conn,
                                   const char *method, const char *url)
{
    struct ag_http_req *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->conn = conn;
    r->server = s;
    r->method = method;
    r->path = url;
    r->route_index = -1;
    atomic_fetch_add(&s->active, 1);
    r->t0_ns = ag_time_mono_ns();
    const char *rid = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-Request-Id");
    if (rid && rid_ok(rid))
        snprintf(r->request_id, sizeof r->request_id, "%s", rid);
    else /* process-random prefix + counter: unique, and no syscall per request */
        snprintf(r->request_id, sizeof r->request_id, "req_%s%08llx", s->rid_prefix,
                 (unsigned long long)atomic_fetch_add(&s->rid_counter, 1));
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (ci && ci->client_addr) {
        const struct sockaddr *sa = ci->client_addr;
        if (sa->sa_family == AF_INET)
            inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, r->client_ip,
                      sizeof r->client_ip);
        else if (sa->sa_family == AF_INET6)
            inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, r->client_ip,
                      sizeof r->client_ip);
    }
    return r;
}

static void req_free(struct ag_http_req *r)
{
    if (!r->uncounted)
        atomic_fetch_sub(&r->server->active, 1);
    if (r->app_cleanup && r->app_state)
        r->app_cleanup(r->app_state);
    ag_buf_free(&r->body);
    free(r->resp_body);
    free(r);
}

static enum MHD_Result queue(struct ag_http_req *r)
{
    struct MHD_Response *resp =
        r->resp_body ? MHD_create_response_from_buffer(r->resp_len, r->resp_body,
                                                       MHD_RESPMEM_MUST_FREE)
                     : MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    if (!resp)
        return MHD_NO;
    r->resp_body = NULL; /* owned by MHD now */
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
                            r->content_type ? r->content_type : "application/json");
    MHD_add_response_header(resp, "X-Request-Id", r->request_id);
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    bool has_cache = false;
    for (int i = 0; i < r->nheaders; i++) {
        MHD_add_response_header(resp, r->headers[i][0], r->headers[i][1]);
        if (!strcasecmp(r->headers[i][0], "Cache-Control"))
            has_cache = true;
    }
    if (!has_cache)
        MHD_add_response_header(resp, "Cache-Control", "no-store");
    enum MHD_Result ret = MHD_queue_response(r->conn, (unsigned)r->status, resp);
    MHD_destroy_response(resp);
    return ret;
}

static enum MHD_Result on_access(void *cls, struct MHD_Connection *conn, const char *url,
                                 const char *method, const char *version,
                                 const char *upload_data, size_t *upload_data_size,
                                 void **con_cls)
{
    struct ag_http_server *s = cls;
    struct ag_http_req *r = *con_cls;
    if (!r) {
        r = req_new(s, conn, method, url);
        if (!r)
            return MHD_NO;
        *con_cls = r;
        const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
        if (cl && strtoull(cl, NULL, 10) > s->opt.max_body)
            r->body_too_large = true;
        return MHD_YES;
    }
    if (*upload_data_size) {
        if (!r->body_too_large) {
            if (r->body.len + *upload_data_size > s->opt.max_body)
                r->body_too_large = true;
            else if (ag_buf_append(&r->body, upload_data, *upload_data_size))
                return MHD_NO;
        }
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (r->responded)
        return queue(r);
    if (r->suspended) /* resumed without a response: a bug; fail closed */
        return MHD_NO;
    if (atomic_load(&s->draining)) {
        r->uncounted = true; /* shutdown does not wait for these */
        atomic_fetch_sub(&s->active, 1);
        struct ag_err err;
        ag_err_set(&err, AG_EUNAVAIL, "shutting_down", "",
                   "the server is shutting down; retry (on another node)");
        ag_http_respond_error(r, 503, &err);
        ag_http_add_header(r, "Connection", "close");
        ag_http_add_header(r, "Retry-After", "1");
        return queue(r);
    }
    if (r->body_too_large) {
        struct ag_err err;
        ag_err_set(&err, AG_ELIMIT, "body_too_large", "", "request body exceeds %zu bytes",
                   s->opt.max_body);
        ag_http_respond_error(r, 413, &err);
        return queue(r);
    }
    s->opt.dispatch(s->opt.app, r);
    if (r->suspended)
        return MHD_YES;
    if (!r->responded) {
        struct ag_err err;
        ag_err_set(&err, AG_EINTERNAL, "internal", "", "no response");
        ag_http_respond_error(r, 500, &err);
    }
    return queue(r);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct ag_http_server *s = cls;
    struct ag_http_req *r = *con_cls;
    if (!r)
        return;
    if (s->opt.complete)
        s->opt.complete(s->opt.app, r);
    req_free(r);
    *con_cls = NULL;
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        msg[--n] = '\0';
    ag_log(AG_LOG_DEBUG, "http", "detail", msg, NULL);
}

static int parse_listen(const char *listen, struct sockaddr_storage *ss, socklen_t *len,
                        struct ag_err *err)
{
    char host[256];
    const char *colon = strrchr(listen, ':');
    if (!colon)
        return ag_err_set(err, AG_EINVAL, "invalid_config", "listen",
                          "listen must be host:port, got '%s'", listen);
    size_t hl = (size_t)(colon - listen);
    if (hl >= sizeof host)
        return ag_err_set(err, AG_EINVAL, "invalid_config", "listen", "listen host too long");
    memcpy(host, listen, hl);
    host[hl] = '\0';
    if (hl >= 2 && host[0] == '[' && host[hl - 1] == ']') {
        memmove(host, host + 1, hl - 2);
        host[hl - 2] = '\0';
    }
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (*end || port < 0 || port > 65535)
        return ag_err_set(err, AG_EINVAL, "invalid_config", "listen", "bad port in '%s'", listen);
    memset(ss, 0, sizeof *ss);
    struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
    if (inet_pton(AF_INET, host[0] ? host : "0.0.0.0", &a4->sin_addr) == 1) {
        a4->sin_family = AF_INET;
        a4->sin_port = htons((uint16_t)port);
        *len = sizeof *a4;
    } else if (inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons((uint16_t)port);
        *len = sizeof *a6;
    } else if (!strcmp(host, "localhost")) {
        inet_pton(AF_INET, "127.0.0.1", &a4->sin_addr);
        a4->sin_family = AF_INET;
        a4->sin_port = htons((uint16_t)port);
        *len = sizeof *a4;
    } else {
        return ag_err_set(err, AG_EINVAL, "invalid_config", "listen",
                          "listen host must be an IP address, got '%s'", host);
    }
    return 0;
}

int ag_http_server_start(const struct ag_http_options *o, struct ag_http_server **out,
                         struct ag_err *err)
{
    struct ag_http_server *s = calloc(1, sizeof *s);
    if (!s)
        return ag_err_set(err, AG_ENOMEM, NULL, "", "out of memory");
    s->opt = *o;
    ag_id_random(s->rid_prefix, sizeof s->rid_prefix, "", 8);
    struct sockaddr_storage ss;
    socklen_t slen;
    int rc = parse_listen(o->listen, &ss, &slen, err);
    if (rc) {
        free(s);
        return rc;
    }
    unsigned threads = o->threads > 0 ? (unsigned)o->threads : (unsigned)sysconf(_SC_NPROCESSORS_ONLN);
    if (threads < 1)
        threads = 1;
    if (threads > AG_HTTP_MAX_DAEMONS)
        threads = AG_HTTP_MAX_DAEMONS;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME |
                     MHD_USE_ERROR_LOG | MHD_USE_ITC;
    if (ss.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    unsigned limit = (unsigned)(o->max_connections > 0 ? o->max_connections : 1024);
    unsigned per = (limit + threads - 1) / threads; /* as MHD's own pool splits it */
    for (unsigned i = 0; i < threads; i++) {
        struct MHD_Daemon *d = MHD_start_daemon(
            flags, 0, NULL, NULL, on_access, s, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
            MHD_OPTION_CONNECTION_LIMIT, per, MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)16384,
            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)(o->timeout_s > 0 ? o->timeout_s : 30),
            MHD_OPTION_NOTIFY_COMPLETED, on_completed, s, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log,
            s, MHD_OPTION_LISTENING_ADDRESS_REUSE, (unsigned)1, MHD_OPTION_END);
        if (!d) {
            for (int k = 0; k < s->ndaemons; k++)
                MHD_stop_daemon(s->daemons[k]);
            free(s);
            return ag_err_set(err, AG_EIO, "listen_failed", "listen",
                              "cannot listen on %s (address in use or not permitted)", o->listen);
        }
        s->daemons[s->ndaemons++] = d;
        if (i == 0) {
            /* the others bind the port the first one got (it may have been 0) */
            const union MHD_DaemonInfo *di = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
            s->port = di ? di->port : 0;
            if (ss.ss_family == AF_INET6)
                ((struct sockaddr_in6 *)&ss)->sin6_port = htons((uint16_t)s->port);
            else
                ((struct sockaddr_in *)&ss)->sin_port = htons((uint16_t)s->port);
        }
    }
    *out = s;
    return 0;
}

int ag_http_server_port(const struct ag_http_server *s) { return s->port; }
int ag_http_server_active(const struct ag_http_server *s) { return atomic_load(&s->active); }

void ag_http_server_quiesce(struct ag_http_server *s) { atomic_store(&s->draining, true); }

void ag_http_server_stop(struct ag_http_server *s)
{
    if (!s)
        return;
    for (int i = 0; i < s->ndaemons; i++)
        MHD_stop_daemon(s->daemons[i]);
    free(s);
}

const char *ag_http_header(struct ag_http_req *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

const char *ag_http_query(struct ag_http_req *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name);
}

void ag_http_respond_owned(struct ag_http_req *req, int status, char *body, size_t len)
{
    free(req->resp_body);
    req->resp_body = body;
    req->resp_len = body ? len : 0;
    req->status = status;
    req->responded = true;
}

void ag_http_respond_json(struct ag_http_req *req, int status, json_t *body)
{
    char *s = body ? ag_json_dump(body) : NULL;
    json_decref(body);
    if (!s) {
        static const char oom[] = "{\"error\":{\"code\":\"out_of_memory\",\"message\":\"out of memory\"}}";
        s = strdup(oom);
        status = 503;
    }
    req->content_type = "application/json";
    ag_http_respond_owned(req, status, s, s ? strlen(s) : 0);
}

void ag_http_respond_error(struct ag_http_req *req, int status, const struct ag_err *err)
{
    if (!status)
        status = ag_err_http_status(err->code);
    ag_http_respond_json(req, status, ag_json_error(err));
}

void ag_http_respond_bytes(struct ag_http_req *req, int status, const char *content_type,
                           const void *data, size_t len)
{
    char *copy = malloc(len ? len : 1);
    if (!copy) {
        struct ag_err err;
        ag_err_set(&err, AG_ENOMEM, NULL, "", "out of memory");
        ag_http_respond_error(req, 503, &err);
        return;
    }
    memcpy(copy, data, len);
    req->content_type = content_type;
    ag_http_respond_owned(req, status, copy, len);
}

void ag_http_add_header(struct ag_http_req *req, const char *name, const char *value)
{
    if (req->nheaders >= AG_HTTP_MAX_HEADERS)
        return;
    snprintf(req->headers[req->nheaders][0], sizeof req->headers[0][0], "%s", name);
    snprintf(req->headers[req->nheaders][1], sizeof req->headers[0][1], "%s", value);
    req->nheaders++;
}

void ag_http_suspend(struct ag_http_req *req)
{
    req->suspended = true;
    MHD_suspend_connection(req->conn);
}

void ag_http_resume(struct ag_http_req *req) { MHD_resume_connection(req->conn); }
