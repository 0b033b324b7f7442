/* Fuzz target: HTTP request handling end to end. The first call starts the
 * real server once — ag_http_server_start with the API's dispatch
 * (ag_api_dispatch) on a free loopback port, over the real pipeline and an
 * in-memory SQLite store, with the shipped rules — exactly as `accountguard
 * serve` wires them. Each input is then sent as raw bytes over a fresh
 * loopback connection and the response read to the end.
 *
 * Input shape: a request head and a body, split at the first blank line
 * ("\r\n\r\n"). To keep every input a complete request (so that the fuzzer
 * spends its time in our routing, authentication and handlers rather than
 * in waiting for bytes that never come), the head's own Content-Length,
 * Transfer-Encoding and Connection lines are dropped and the right
 * Content-Length and "Connection: close" are added. "@KEY@" in the input
 * becomes a valid admin API key, "@RKEY@" a valid key with only
 * events:read (scope checks), so seeds can reach every authenticated route.
 *
 * Findings beyond the sanitizers: no answer within the deadline (a request
 * left parked) and a 500 (an internal error caused by input) abort.
 * FUZZ_HTTP_ECHO=1 prints each response's status line (to check seeds). */
#include "api/api.h"
#include "core/config.h"
#include "core/log.h"
#include "core/secret.h"
#include "http/server.h"
#include "pipeline/pipeline.h"
#include "store/store.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define DEADLINE_MS 8000

static struct ag_config cfg;
static struct ag_app app;
static struct ag_http_server *http;
static int port;
static char admin_key[128], read_key[128];
static bool echo; /* FUZZ_HTTP_ECHO=1: print each response's status line */

static void die(const char *what, const struct ag_err *err)
{
    fprintf(stderr, "fuzz_api_http: %s: %s\n", what, err ? err->msg : "");
    abort();
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    struct ag_err err;
    signal(SIGPIPE, SIG_IGN);
    echo = getenv("FUZZ_HTTP_ECHO") != NULL;
    if (sodium_init() < 0)
        die("sodium_init", NULL);
    if (ag_config_init(&cfg))
        die("config", NULL);
    if (ag_config_set(&cfg, "store", ":memory:", &err) ||
        ag_config_set(&cfg, "listen", "127.0.0.1:0", &err) ||
        ag_config_set(&cfg, "rules_file", AG_SOURCE_DIR "/rules/default.rules", &err) ||
        ag_config_set(&cfg, "http_threads", "2", &err) ||
        ag_config_set(&cfg, "max_body_bytes", "65536", &err))
        die("config", &err);
    ag_config_finish(&cfg);
    /* Log everything (the logging of hostile requests is part of the
     * surface), to nowhere. */
    FILE *devnull = fopen("/dev/null", "w");
    ag_log_setup(AG_LOG_DEBUG, devnull);

    uint8_t secret[AG_SECRET_LEN];
    randombytes_buf(secret, sizeof secret);
    ag_secret_derive(secret, "apikey", app.apikey_key);
    app.cfg = &cfg;
    struct ag_store_options so = {.read_pool = 2, .batch_max = 256};
    if (ag_store_open(cfg.store, &so, &app.store, &err))
        die("store", &err);
    struct ag_pipeline_options po = {.cfg = &cfg, .store = app.store};
    if (ag_pipeline_open(&po, &app.pipeline, &err))
        die("pipeline", &err);
    struct ag_apikey_rec rec;
    if (ag_api_key_create(app.store, app.apikey_key, "fuzz-admin", "admin", admin_key,
                          sizeof admin_key, &rec, &err) ||
        ag_api_key_create(app.store, app.apikey_key, "fuzz-read", "events:read", read_key,
                          sizeof read_key, &rec, &err))
        die("apikey", &err);
    struct ag_http_options ho = {
        .listen = cfg.listen,
        .threads = 2,
        .max_connections = 64,
        .timeout_s = 2,
        .max_body = 65536,
        .dispatch = ag_api_dispatch,
        .complete = ag_api_complete,
        .app = &app,
    };
    if (ag_http_server_start(&ho, &http, &err))
        die("http", &err);
    port = ag_http_server_port(http);
    /* The server runs until the process exits: libFuzzer never returns to
     * a place where stopping it would be useful. */
    return 0;
}

struct out {
    char *p;
    size_t len, cap;
};

static void put(struct out *o, const void *d, size_t n)
{
    if (o->len + n > o->cap) {
        o->cap = (o->len + n) * 2 + 256;
        o->p = realloc(o->p, o->cap);
        if (!o->p)
            abort();
    }
    memcpy(o->p + o->len, d, n);
    o->len += n;
}

/* Copy <s> (n bytes) into <o>, replacing the key placeholders. */
static void put_keys(struct out *o, const char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        if (n - i >= 5 && memcmp(s + i, "@KEY@", 5) == 0) {
            put(o, admin_key, strlen(admin_key));
            i += 5;
        } else if (n - i >= 6 && memcmp(s + i, "@RKEY@", 6) == 0) {
            put(o, read_key, strlen(read_key));
            i += 6;
        } else {
            put(o, s + i, 1);
            i++;
        }
    }
}

static bool dropped_header(const char *line, size_t n)
{
    static const char *const names[] = {"content-length:", "transfer-encoding:", "connection:"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        size_t k = strlen(names[i]);
        if (n >= k && strncasecmp(line, names[i], k) == 0)
            return true;
    }
    return false;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *in = (const char *)data;
    const char *sep = memmem(in, size, "\r\n\r\n", 4);
    size_t head_len = sep ? (size_t)(sep - in) : size;
    const char *body = sep ? sep + 4 : in + size;
    size_t body_len = sep ? size - head_len - 4 : 0;

    struct out req = {0}, b = {0};
    for (size_t i = 0; i < head_len;) {
        const char *nl = memchr(in + i, '\n', head_len - i);
        size_t end = nl ? (size_t)(nl - in) + 1 : head_len;
        if (i == 0 || !dropped_header(in + i, end - i))
            put_keys(&req, in + i, end - i);
        i = end;
    }
    if (req.len == 0 || req.p[req.len - 1] != '\n')
        put(&req, "\r\n", 2);
    put_keys(&b, body, body_len);
    char cl[80];
    int n = snprintf(cl, sizeof cl, "Content-Length: %zu\r\nConnection: close\r\n\r\n", b.len);
    put(&req, cl, (size_t)n);
    if (b.len)
        put(&req, b.p, b.len);
    free(b.p);

    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        abort();
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa)) {
        fprintf(stderr, "fuzz_api_http: connect: %s (did the server stop?)\n", strerror(errno));
        abort();
    }
    for (size_t off = 0; off < req.len;) {
        ssize_t w = send(fd, req.p + off, req.len - off, MSG_NOSIGNAL);
        if (w <= 0)
            break; /* the server may close early (413, bad request line) */
        off += (size_t)w;
    }
    free(req.p);

    char resp[4096];
    size_t got = 0;
    resp[0] = '\0';
    int64_t deadline = now_ms() + DEADLINE_MS;
    for (;;) {
        int64_t left = deadline - now_ms();
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        if (left <= 0 || poll(&pfd, 1, (int)left) == 0) {
            fprintf(stderr, "fuzz_api_http: no complete answer within %d ms (%zu bytes: %.200s)\n",
                    DEADLINE_MS, got, resp);
            abort();
        }
        char buf[4096];
        ssize_t r = recv(fd, buf, sizeof buf, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break; /* EOF or reset: the answer is complete or there is none */
        size_t k = (size_t)r < sizeof resp - 1 - got ? (size_t)r : sizeof resp - 1 - got;
        memcpy(resp + got, buf, k);
        got += k;
        resp[got] = '\0';
    }
    close(fd);
    resp[got] = '\0';
    if (echo)
        fprintf(stderr, "%.*s\n", (int)strcspn(resp, "\r\n"), resp);
    if (got >= 12 && strncmp(resp, "HTTP/1.", 7) == 0 && strncmp(resp + 9, "500", 3) == 0) {
        fprintf(stderr, "fuzz_api_http: input caused a 500:\n%.1000s\n", resp);
        abort();
    }
    return 0;
}
