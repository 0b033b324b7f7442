/* The outbox in a real store (SQLite, or PostgreSQL as pg/test_notify_outbox,
 * see tests/pg.cmake): idempotency keys, destinations resolved from
 * the account's contact, webhook fan-out by kind, leased claims (no double
 * claim, re-claim after the lease, a lost claim cannot record), retries and
 * dead letters, sealed sensitive params, persistence across a reopen, and
 * the workers delivering to a local HTTP receiver. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/config.h"
#include "core/timeutil.h"
#include "notify/internal.h"
#include "notify/notify.h"
#include "notify/webhook.h"
#include "store/store.h"
#include "store_url.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static char dir[64], path[128];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/agnotifyXXXXXX");
    if (!mkdtemp(dir))
        return -1;
    snprintf(path, sizeof path, "%s/t.db", dir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd);
}

static struct ag_store *open_store(void)
{
    struct ag_store *s;
    struct ag_err err;
    if (ag_store_open(ag_test_store_url(path), NULL, &s, &err))
        fail_msg("open: %s", err.msg);
    assert_string_equal(ag_store_backend(s), ag_test_store_backend());
    return s;
}

static int qsend(struct ag_store *s, struct ag_notify_msg m)
{
    struct ag_err err;
    int rc = ag_notify_send(s, &m, &err);
    if (rc < 0)
        print_message("send: %s\n", err.msg);
    return rc;
}

static int contact_run(struct ag_store_tx *tx, void *arg, struct ag_err *err)
{
    return ag_store_notify_contact_put(tx, arg, err);
}

static void put_contact(struct ag_store *s, const char *acct, const char *email, const char *phone,
                        const char *locale)
{
    struct ag_notify_contact_rec c = {.updated_at = 1};
    snprintf(c.account_id, sizeof c.account_id, "%s", acct);
    snprintf(c.email, sizeof c.email, "%s", email);
    snprintf(c.phone, sizeof c.phone, "%s", phone);
    snprintf(c.locale, sizeof c.locale, "%s", locale);
    assert_int_equal(ag_store_exec(s, contact_run, &c, NULL), 0);
}

static int wh_run(struct ag_store_tx *tx, void *arg, struct ag_err *err)
{
    return ag_store_notify_webhook_put(tx, arg, err);
}

static void put_webhook(struct ag_store *s, const char *id, const char *url, const char *kinds,
                        const uint8_t box[32], const uint8_t *key, size_t keylen)
{
    struct ag_notify_webhook_rec w = {.created_at = ag_time_now_ms()};
    snprintf(w.id, sizeof w.id, "%s", id);
    snprintf(w.url, sizeof w.url, "%s", url);
    snprintf(w.kinds, sizeof w.kinds, "%s", kinds);
    assert_int_equal(ag_notify_seal(box, key, keylen, w.secret, &w.secret_len), 0);
    assert_int_equal(ag_store_exec(s, wh_run, &w, NULL), 0);
}

static int ident_contact_run(struct ag_store_tx *tx, void *arg, struct ag_err *err)
{
    return ag_store_ident_contact_put(tx, arg, err);
}

struct dest_probe {
    char dest[321];
};

static int probe_cb(void *arg, const struct ag_notify_rec *r)
{
    struct dest_probe *p = arg;
    snprintf(p->dest, sizeof p->dest, "%s", r->destination);
    return 0;
}

static int count_cb(void *arg, const struct ag_notify_rec *r)
{
    (void)r;
    (*(int *)arg)++;
    return 0;
}

static int count(struct ag_store *s, const char *state, const char *account)
{
    int n = 0;
    assert_int_equal(ag_store_notify_list(s, state, account, NULL, 0, 1000, count_cb, &n, NULL), 0);
    return n;
}

static void test_idempotency_and_destinations(void **state)
{
    (void)state;
    struct ag_store *s = open_store();
    uint8_t box[32], key[24];
    randombytes_buf(box, sizeof box);
    randombytes_buf(key, sizeof key);
    struct ag_notify_msg m = {.channel = AG_NOTIFY_EMAIL, .kind = "alert.password_changed",
                              .account_id = "u_1", .template_id = "alert.password_changed",
                              .params_json = "{}", .idempotency_key = "k1"};
    /* no contact yet: nowhere to send */
    assert_int_equal(qsend(s, m), 0);
    put_contact(s, "u_1", "ana@example.com", "+34600111222", "es");
    assert_int_equal(qsend(s, m), 1);
    assert_int_equal(qsend(s, m), 0); /* the same key: stored once */
    m.channel = AG_NOTIFY_SMS;
    assert_int_equal(qsend(s, m), 1); /* same key, other channel */
    m.idempotency_key = "k2";
    m.destination = "+491700000000";
    assert_int_equal(qsend(s, m), 1);
    /* webhooks: one message per matching subscription */
    put_webhook(s, "wh_a", "http://127.0.0.1:9/a", "alert.*", box, key, sizeof key);
    put_webhook(s, "wh_b", "http://127.0.0.1:9/b", "case.updated", box, key, sizeof key);
    put_webhook(s, "wh_c", "http://127.0.0.1:9/c", "*", box, key, sizeof key);
    m = (struct ag_notify_msg){.channel = AG_NOTIFY_WEBHOOK, .kind = "alert.password_changed",
                               .account_id = "u_1", .params_json = "{\"x\":1}",
                               .idempotency_key = "k1"};
    assert_int_equal(qsend(s, m), 2);
    assert_int_equal(qsend(s, m), 0);
    assert_int_equal(count(s, "pending", "u_1"), 5);
    /* no alert contact, but a contact verified for 2-step verification */
    struct ag_ident_contact_rec ic = {.verified_at = 1, .created_at = 1};
    snprintf(ic.account_id, sizeof ic.account_id, "u_2");
    snprintf(ic.channel, sizeof ic.channel, "email");
    snprintf(ic.address, sizeof ic.address, "verified@example.com");
    assert_int_equal(ag_store_exec(s, ident_contact_run, &ic, NULL), 0);
    struct ag_notify_msg v = {.channel = AG_NOTIFY_EMAIL, .kind = "alert.password_changed",
                              .account_id = "u_2", .template_id = "alert.password_changed",
                              .idempotency_key = "v1"};
    assert_int_equal(qsend(s, v), 1);
    v.channel = AG_NOTIFY_SMS; /* none verified for SMS */
    assert_int_equal(qsend(s, v), 0);
    struct dest_probe probe = {0};
    assert_int_equal(ag_store_notify_list(s, NULL, "u_2", NULL, 0, 10, probe_cb, &probe, NULL), 0);
    assert_string_equal(probe.dest, "verified@example.com");
    /* malformed messages fail */
    struct ag_err err;
    m.idempotency_key = NULL;
    assert_int_equal(ag_notify_send(s, &m, &err), AG_EINVAL);
    m.idempotency_key = "k9";
    m.params_json = "[1]";
    assert_int_equal(ag_notify_send(s, &m, &err), AG_EINVAL);
    m.params_json = NULL;
    m.channel = AG_NOTIFY_EMAIL;
    m.template_id = NULL; /* literal without text */
    assert_int_equal(ag_notify_send(s, &m, &err), AG_EINVAL);
    m.template_id = "alert.nope";
    assert_int_equal(ag_notify_send(s, &m, &err), AG_EINVAL);
    m.template_id = "alert.password_changed";
    m.destination = "not-an-address";
    assert_int_equal(ag_notify_send(s, &m, &err), AG_EINVAL);
    ag_store_close(s);
}

struct claim_out {
    int n;
    char ids[8][40];
    char claims[8][32];
};

static void on_claim(void *arg, struct ag_notify_rec *r)
{
    struct claim_out *o = arg;
    if (o->n < 8) {
        snprintf(o->ids[o->n], 40, "%s", r->id);
        snprintf(o->claims[o->n], 32, "%s", r->claim);
        o->n++;
    }
    ag_notify_rec_free(r);
}

struct claim_job {
    int64_t now, lease;
    const char *claim;
    struct claim_out out;
    int rc;
};

static int claim_run(struct ag_store_tx *tx, void *arg, struct ag_err *err)
{
    struct claim_job *j = arg;
    j->rc = ag_store_notify_claim(tx, j->now, j->now + j->lease, j->claim, 8, on_claim, &j->out,
                                  err);
    return j->rc < 0 ? j->rc : 0;
}

struct finish_job {
    const char *id, *claim, *state;
    int64_t next_at, at;
};

static int finish_run(struct ag_store_tx *tx, void *arg, struct ag_err *err)
{
    struct finish_job *j = arg;
    return ag_store_notify_finish(tx, j->id, j->claim, j->state, j->next_at, "boom", j->at, false,
                                  err);
}

static int claim(struct ag_store *s, int64_t now, int64_t lease, const char *token,
                 struct claim_out *out)
{
    struct claim_job j = {.now = now, .lease = lease, .claim = token};
    assert_int_equal(ag_store_exec(s, claim_run, &j, NULL), 0);
    *out = j.out;
    return j.rc;
}

static void test_leases(void **state)
{
    (void)state;
    struct ag_store *s = open_store();
    struct ag_notify_msg m = {.channel = AG_NOTIFY_SMS, .kind = "otp.sms",
                              .destination = "+34600111222",
                              .params_json = "{\"text\":\"code 1\"}", .idempotency_key = "L1"};
    assert_int_equal(qsend(s, m), 1);
    int64_t now = ag_time_now_ms() + 10;
    struct claim_out a, b, c;
    assert_int_equal(claim(s, now, 5000, "c_a", &a), 1);
    /* held by a: nobody else gets it while the lease runs */
    assert_int_equal(claim(s, now + 100, 5000, "c_b", &b), 0);
    assert_int_equal(claim(s, now + 4999, 5000, "c_b", &b), 0);
    int64_t due;
    assert_int_equal(ag_store_notify_next_due(s, &due, NULL), 0);
    assert_int_equal(due, now + 5000);
    /* a "crashed": after the lease another worker takes it over */
    assert_int_equal(claim(s, now + 5000, 5000, "c_c", &c), 1);
    assert_string_equal(c.ids[0], a.ids[0]);
    /* a's late outcome is refused; c's is recorded */
    struct finish_job fa = {.id = a.ids[0], .claim = "c_a", .state = "delivered", .at = now};
    struct ag_err err;
    assert_int_equal(ag_store_exec(s, finish_run, &fa, &err), AG_ESTATE);
    struct finish_job fc = {.id = c.ids[0], .claim = "c_c", .state = "pending",
                            .next_at = now + 60000, .at = now};
    assert_int_equal(ag_store_exec(s, finish_run, &fc, NULL), 0);
    struct ag_notify_rec r;
    assert_int_equal(ag_store_notify_get(s, c.ids[0], &r, NULL), 0);
    assert_string_equal(r.state, "pending");
    assert_int_equal(r.attempts, 2);
    assert_string_equal(r.last_error, "boom");
    ag_notify_rec_free(&r);
    /* not due before next_at */
    assert_int_equal(claim(s, now + 59999, 5000, "c_d", &b), 0);
    assert_int_equal(claim(s, now + 60000, 5000, "c_d", &b), 1);
    struct finish_job fd = {.id = b.ids[0], .claim = "c_d", .state = "dead", .at = now};
    assert_int_equal(ag_store_exec(s, finish_run, &fd, NULL), 0);
    assert_int_equal(count(s, "dead", NULL), 1);
    assert_int_equal(claim(s, now + 999999, 5000, "c_e", &b), 0);
    ag_store_close(s);

    /* dead letters survive a reopen and are re-driven */
    s = open_store();
    assert_int_equal(count(s, "dead", NULL), 1);
    assert_int_equal(ag_store_notify_get(s, c.ids[0], &r, NULL), 0);
    ag_notify_rec_free(&r);
    assert_int_equal(claim(s, now + 999999, 5000, "c_f", &b), 0);
    ag_store_close(s);
}

struct purge_job {
    int64_t before;
    int n;
};

static int purge_run(struct ag_store_tx *tx, void *arg, struct ag_err *err)
{
    struct purge_job *j = arg;
    j->n = ag_store_notify_purge(tx, j->before, 1000, err);
    return j->n < 0 ? j->n : 0;
}

static void test_retention_purges_only_old_delivered(void **state)
{
    (void)state;
    struct ag_store *s = open_store();
    for (int i = 0; i < 3; i++) {
        char key[16];
        snprintf(key, sizeof key, "R%d", i);
        struct ag_notify_msg m = {.channel = AG_NOTIFY_SMS, .kind = "otp.sms",
                                  .destination = "+34600111222",
                                  .params_json = "{\"text\":\"x\"}", .idempotency_key = key};
        assert_int_equal(qsend(s, m), 1);
    }
    int64_t now = ag_time_now_ms() + 10;
    struct claim_out o;
    assert_int_equal(claim(s, now, 5000, "c_r", &o), 3);
    /* one delivered long ago, one delivered now, one dead long ago */
    struct finish_job f0 = {.id = o.ids[0], .claim = "c_r", .state = "delivered", .at = 1000};
    struct finish_job f1 = {.id = o.ids[1], .claim = "c_r", .state = "delivered", .at = now};
    struct finish_job f2 = {.id = o.ids[2], .claim = "c_r", .state = "dead", .at = 1000};
    assert_int_equal(ag_store_exec(s, finish_run, &f0, NULL), 0);
    assert_int_equal(ag_store_exec(s, finish_run, &f1, NULL), 0);
    assert_int_equal(ag_store_exec(s, finish_run, &f2, NULL), 0);
    struct purge_job j = {.before = now - 1000};
    assert_int_equal(ag_store_exec(s, purge_run, &j, NULL), 0);
    assert_int_equal(j.n, 1);
    struct ag_notify_rec r;
    assert_int_equal(ag_store_notify_get(s, o.ids[0], &r, NULL), AG_ENOTFOUND);
    assert_int_equal(ag_store_notify_get(s, o.ids[1], &r, NULL), 0);
    ag_notify_rec_free(&r);
    assert_int_equal(ag_store_notify_get(s, o.ids[2], &r, NULL), 0); /* dead stays */
    ag_notify_rec_free(&r);
    assert_int_equal(ag_store_exec(s, purge_run, &j, NULL), 0);
    assert_int_equal(j.n, 0);
    ag_store_close(s);
}

static void test_sensitive_params_sealed(void **state)
{
    (void)state;
    uint8_t secret[32], pk[32];
    randombytes_buf(secret, sizeof secret);
    ag_notify_keys_derive(secret, NULL, pk);
    ag_notify_set_params_key(pk);
    struct ag_store *s = open_store();
    struct ag_notify_msg m = {.channel = AG_NOTIFY_SMS, .kind = "otp.sms",
                              .destination = "+34600111222",
                              .params_json = "{\"text\":\"Your code is 918273\"}",
                              .idempotency_key = "S1", .sensitive = true};
    assert_int_equal(qsend(s, m), 1);
    struct claim_out o;
    assert_int_equal(claim(s, ag_time_now_ms() + 10, 5000, "c_s", &o), 1);
    struct ag_notify_rec r;
    assert_int_equal(ag_store_notify_get(s, o.ids[0], &r, NULL), 0);
    assert_non_null(r.params);
    assert_null(strstr(r.params, "918273")); /* not in clear in the store */
    char *open = ag_notify_params_open(r.params);
    assert_non_null(open);
    assert_non_null(strstr(open, "918273"));
    free(open);
    ag_notify_rec_free(&r);
    ag_store_close(s);
}

/* ---- the workers against a tiny HTTP receiver that fails N times ---- */

struct receiver {
    int fd, port;
    int fail_first; /* answer 500 to this many requests */
    int got, ok;
    char last_id[64], last_sig[128], last_ts[32], last_body[4096];
    pthread_t th;
};

static void *receiver_main(void *arg)
{
    struct receiver *rv = arg;
    for (;;) {
        int c = accept(rv->fd, NULL, NULL);
        if (c < 0)
            return NULL;
        char buf[8192];
        size_t n = 0;
        ssize_t k;
        char *hdr_end = NULL;
        size_t want = 0;
        while ((k = recv(c, buf + n, sizeof buf - 1 - n, 0)) > 0) {
            n += (size_t)k;
            buf[n] = '\0';
            if (!hdr_end && (hdr_end = strstr(buf, "\r\n\r\n"))) {
                char *cl = strcasestr(buf, "content-length:");
                want = (size_t)(hdr_end + 4 - buf) + (cl ? (size_t)atol(cl + 15) : 0);
            }
            if (hdr_end && n >= want)
                break;
        }
        rv->got++;
        bool fail = rv->got <= rv->fail_first;
        if (!fail && hdr_end) {
            rv->ok++;
            char *h;
            if ((h = strcasestr(buf, "webhook-id: ")))
                sscanf(h + 12, "%63[^\r]", rv->last_id);
            if ((h = strcasestr(buf, "webhook-signature: ")))
                sscanf(h + 19, "%127[^\r]", rv->last_sig);
            if ((h = strcasestr(buf, "webhook-timestamp: ")))
                sscanf(h + 19, "%31[^\r]", rv->last_ts);
            snprintf(rv->last_body, sizeof rv->last_body, "%s", hdr_end + 4);
        }
        const char *resp = fail ? "HTTP/1.1 500 Oops\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                                : "HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n";
        send(c, resp, strlen(resp), 0);
        close(c);
    }
}

static void receiver_start(struct receiver *rv, int fail_first)
{
    memset(rv, 0, sizeof *rv);
    rv->fail_first = fail_first;
    rv->fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(rv->fd, (struct sockaddr *)&a, sizeof a), 0);
    socklen_t l = sizeof a;
    getsockname(rv->fd, (struct sockaddr *)&a, &l);
    rv->port = ntohs(a.sin_port);
    listen(rv->fd, 16);
    pthread_create(&rv->th, NULL, receiver_main, rv);
}

static void receiver_stop(struct receiver *rv)
{
    shutdown(rv->fd, SHUT_RDWR);
    close(rv->fd);
    pthread_join(rv->th, NULL);
}

static bool wait_for(struct ag_store *s, const char *state, int n, int ms)
{
    for (int i = 0; i < ms / 10; i++) {
        if (count(s, state, NULL) == n)
            return true;
        usleep(10000);
    }
    return false;
}

static void test_workers_retry_then_dead(void **state)
{
    (void)state;
    struct ag_config cfg;
    ag_config_init(&cfg);
    cfg.notify_workers = 2;
    cfg.notify_max_attempts = 3;
    cfg.notify_backoff_base_ms = 50;
    cfg.notify_backoff_max_ms = 200;
    cfg.notify_timeout_s = 5;
    uint8_t secret[32], box[32];
    randombytes_buf(secret, sizeof secret);
    ag_notify_keys_derive(secret, box, NULL);
    struct ag_store *s = open_store();
    struct receiver ok, bad;
    receiver_start(&ok, 2);   /* fails twice, then accepts */
    receiver_start(&bad, 99); /* always fails */
    uint8_t key[24];
    char text[AG_NOTIFY_WEBHOOK_SECRET_TEXT];
    ag_notify_webhook_secret_new(key, text, sizeof text);
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/hook", ok.port);
    put_webhook(s, "wh_ok", url, "alert.*", box, key, sizeof key);
    snprintf(url, sizeof url, "http://127.0.0.1:%d/hook", bad.port);
    put_webhook(s, "wh_bad", url, "alert.*", box, key, sizeof key);
    struct ag_notifier *n;
    struct ag_err err;
    assert_int_equal(ag_notify_start(&cfg, s, secret, &n, &err), 0);
    struct ag_notify_msg m = {.channel = AG_NOTIFY_WEBHOOK, .kind = "alert.password_changed",
                              .account_id = "u_9", .params_json = "{\"k\":\"v\"}",
                              .idempotency_key = "W1"};
    assert_int_equal(qsend(s, m), 2);
    assert_true(wait_for(s, "delivered", 1, 10000));
    assert_true(wait_for(s, "dead", 1, 10000));
    assert_int_equal(ok.got, 3);
    assert_int_equal(bad.got, 3);
    /* the delivered one is signed as Standard Webhooks says */
    char sig[AG_NOTIFY_WEBHOOK_SIG_TEXT];
    ag_notify_webhook_sign(key, sizeof key, ok.last_id, atoll(ok.last_ts), ok.last_body,
                           strlen(ok.last_body), sig);
    assert_string_equal(sig, ok.last_sig);
    assert_non_null(strstr(ok.last_body, "\"type\":\"alert.password_changed\""));
    ag_notify_stop(n);
    receiver_stop(&ok);
    receiver_stop(&bad);
    ag_store_close(s);
    ag_config_free(&cfg);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_idempotency_and_destinations, setup, teardown),
        cmocka_unit_test_setup_teardown(test_leases, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sensitive_params_sealed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_retention_purges_only_old_delivered, setup, teardown),
        cmocka_unit_test_setup_teardown(test_workers_retry_then_dead, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
