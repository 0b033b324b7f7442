/* bench_rules: how long one evaluation of the shipped rules takes.
 * Compiles rules/default.rules against the default schema, builds a mix of
 * realistic events (mostly benign logins and orders, some attacks and risky
 * account changes), and times ag_rules_eval_values (a value array, as the
 * pipeline uses) and ag_rules_eval (a get() callback) over them, printing ns
 * per evaluation (mean and p99 of per-batch means, in thread CPU time) and
 * the compile time.
 * "hot" cycles through 8 events whose values stay in L1 cache, as in the
 * pipeline, which fills the array just before evaluating; "cold" through
 * 1024 (1.6 MB of values), so each evaluation also waits on memory.
 *
 * Usage: bench_rules [RULES_FILE] [EVALUATIONS]   (defaults: the shipped
 * rules, 4,000,000). Set AG_SOURCE_DIR to find the shipped rules elsewhere. */
#include "core/event_types.h"
#include "rules/fields.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NEVENTS 1024
#define BATCH 1024

static struct ag_rules_value events[NEVENTS][AG_RF_COUNT];
static const char *const labels[] = {"botnet", "scanner"};
static const char *const reasons[] = {"new_asn", "new_country", "new_device"};

/* Thread CPU time: other processes sharing the cores do not count. */
static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void set_type(struct ag_rules_value *v, const char *name)
{
    const struct ag_event_type *t = ag_event_type_find(name);
    v[AG_RF_EVENT_TYPE] = ag_rules_str(t->name);
    v[AG_RF_EVENT_LOGIN] = ag_rules_bool(t->flags & AG_EVT_LOGIN);
    v[AG_RF_EVENT_MONEY] = ag_rules_bool(t->flags & AG_EVT_MONEY);
    v[AG_RF_EVENT_CREDENTIAL] = ag_rules_bool(t->flags & AG_EVT_CREDENTIAL);
    v[AG_RF_EVENT_ACCOUNT_CHANGE] = ag_rules_bool(t->flags & AG_EVT_ACCOUNT_CHANGE);
    v[AG_RF_EVENT_SELLER] = ag_rules_bool(t->flags & AG_EVT_SELLER);
    if (t->flags & AG_EVT_AMOUNT) {
        v[AG_RF_EVENT_AMOUNT] = ag_rules_num(1000 + rand() % 90000);
        v[AG_RF_EVENT_CURRENCY] = ag_rules_str("EUR");
    }
}

/* Every field present, as the pipeline fills them, with a realistic mix. */
static void make_event(struct ag_rules_value *v, int i)
{
    static const char *const types[] = {
        "login.succeeded", "login.succeeded", "login.succeeded", "login.failed", "login.failed",
        "order.placed", "order.placed", "mfa.succeeded", "password.changed", "email.changed",
        "payment_method.added", "payout_account.changed", "listing.price_changed",
        "wallet.transfer", "shipping_address.added", "logout"};
    set_type(v, types[rand() % (int)(sizeof types / sizeof types[0])]);
    bool attack = rand() % 10 == 0;
    bool risky = rand() % 8 == 0;
    v[AG_RF_ACCOUNT_ROLE] = ag_rules_str(i % 5 ? "customer" : "seller");
    v[AG_RF_ACCOUNT_AGE_DAYS] = ag_rules_num(rand() % 2000);
    v[AG_RF_ACCOUNT_MFA_ENABLED] = ag_rules_bool(rand() % 2);
    v[AG_RF_ACCOUNT_LOGINS] = ag_rules_num(rand() % 500);
    if (risky) {
        v[AG_RF_ACCOUNT_MIN_SINCE_RISKY_LOGIN] = ag_rules_num(rand() % 240);
        v[AG_RF_ACCOUNT_MIN_SINCE_NEW_DEVICE_LOGIN] = ag_rules_num(rand() % 240);
    }
    v[AG_RF_ACCOUNT_LAST_LOGIN_NEW_DEVICE] = ag_rules_bool(risky);
    v[AG_RF_ACCOUNT_LAST_LOGIN_RISK] = ag_rules_num((rand() % 100) / 100.0);
    v[AG_RF_ACCOUNT_MIN_SINCE_CREDENTIAL_CHANGE] = ag_rules_num(rand() % 100000);
    v[AG_RF_ACCOUNT_ORDERS] = ag_rules_num(rand() % 50);
    v[AG_RF_ACCOUNT_ORDER_AMOUNT_AVG] = ag_rules_num(3000 + rand() % 5000);
    v[AG_RF_ACCOUNT_ORDER_AMOUNT_MAX] = ag_rules_num(8000 + rand() % 20000);
    v[AG_RF_SESSION_MFA_VERIFIED] = ag_rules_bool(rand() % 3 == 0);
    v[AG_RF_DEVICE_ID] = ag_rules_str("d_0123456789");
    v[AG_RF_DEVICE_NEW] = ag_rules_bool(risky);
    v[AG_RF_DEVICE_TRUSTED] = ag_rules_bool(!risky);
    v[AG_RF_IP_ADDRESS] = ag_rules_str("203.0.113.7");
    v[AG_RF_IP_V6] = ag_rules_bool(false);
    v[AG_RF_IP_COUNTRY] = ag_rules_str("NO");
    v[AG_RF_IP_ASN] = ag_rules_num(2119);
    v[AG_RF_IP_AS_NAME] = ag_rules_str("Telenor Norge AS");
    v[AG_RF_IP_ANONYMOUS_PROXY] = ag_rules_bool(attack && rand() % 2);
    v[AG_RF_IP_HOSTING] = ag_rules_bool(attack && rand() % 2);
    v[AG_RF_IP_SATELLITE] = ag_rules_bool(false);
    v[AG_RF_IP_DROP] = ag_rules_bool(false);
    v[AG_RF_UA_BROWSER] = ag_rules_str("Firefox");
    v[AG_RF_UA_OS] = ag_rules_str("Windows");
    v[AG_RF_UA_DEVICE_TYPE] = ag_rules_str("desktop");
    v[AG_RF_UA_BOT] = ag_rules_bool(attack && rand() % 4 == 0);
    v[AG_RF_PROFILE_NEW_IP] = ag_rules_bool(risky);
    v[AG_RF_PROFILE_NEW_ASN] = ag_rules_bool(risky);
    v[AG_RF_PROFILE_NEW_COUNTRY] = ag_rules_bool(attack);
    v[AG_RF_PROFILE_NEW_BROWSER] = ag_rules_bool(false);
    v[AG_RF_RISK_SCORE] = ag_rules_num(attack ? 0.8 + (rand() % 20) / 100.0 : (rand() % 50) / 100.0);
    v[AG_RF_RISK_REASONS] = ag_rules_list(reasons, attack ? 3 : 0);
    v[AG_RF_VEL_FAILED_ACCOUNT_10M] = ag_rules_num(attack ? rand() % 20 : 0);
    v[AG_RF_VEL_FAILED_ACCOUNT_1H] = ag_rules_num(attack ? rand() % 40 : rand() % 2);
    v[AG_RF_VEL_FAILED_IP_1H] = ag_rules_num(attack ? rand() % 60 : rand() % 2);
    v[AG_RF_VEL_FAILED_PREFIX_1H] = ag_rules_num(rand() % 20);
    v[AG_RF_VEL_FAILED_ASN_1H] = ag_rules_num(rand() % 200);
    v[AG_RF_VEL_ACCOUNTS_PER_IP_1H] = ag_rules_num(attack ? rand() % 50 : 1);
    v[AG_RF_VEL_ACCOUNTS_PER_DEVICE_1H] = ag_rules_num(1);
    v[AG_RF_VEL_IPS_PER_ACCOUNT_1H] = ag_rules_num(1 + rand() % 3);
    v[AG_RF_VEL_FAILED_MFA_1H] = ag_rules_num(rand() % 3);
    v[AG_RF_VEL_ORDERS_1H] = ag_rules_num(rand() % 4);
    v[AG_RF_VEL_ORDERS_24H] = ag_rules_num(rand() % 10);
    v[AG_RF_VEL_LISTINGS_1H] = ag_rules_num(rand() % 5);
    v[AG_RF_VEL_PRICE_CHANGES_1H] = ag_rules_num(rand() % 15);
    v[AG_RF_TRAVEL_DISTANCE_KM] = ag_rules_num(rand() % 3000);
    v[AG_RF_TRAVEL_SPEED_KMH] = ag_rules_num(rand() % 1500);
    v[AG_RF_ORDER_NEW_SHIPPING_ADDRESS] = ag_rules_bool(rand() % 10 == 0);
    v[AG_RF_ORDER_GIFT_CARD] = ag_rules_bool(rand() % 20 == 0);
    v[AG_RF_ORDER_DIGITAL_GOODS] = ag_rules_bool(rand() % 10 == 0);
    v[AG_RF_INTEL_MATCH] = ag_rules_bool(attack && rand() % 3 == 0);
    v[AG_RF_INTEL_CONFIDENCE] = ag_rules_num(rand() % 100);
    v[AG_RF_INTEL_LABELS] = ag_rules_list(labels, attack ? 2 : 0);
}

static void get(void *ctx, int id, struct ag_rules_value *out)
{
    const struct ag_rules_value *v = ctx;
    if (id >= 0 && id < AG_RF_COUNT)
        *out = v[id];
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void bench(const char *label, const struct ag_rules *set, long evals, bool callback,
                  int nevents)
{
    const struct ag_rules_rule *fired[64];
    long nbatches = evals / BATCH;
    double *per = malloc((size_t)nbatches * sizeof *per);
    long total_fired = 0;
    double t0 = now_ns();
    for (long b = 0; b < nbatches; b++) {
        double s = now_ns();
        for (int i = 0; i < BATCH; i++) {
            const struct ag_rules_value *v = events[(b * BATCH + i) % nevents];
            total_fired += callback ? ag_rules_eval(set, get, (void *)v, fired, 64)
                                    : ag_rules_eval_values(set, v, AG_RF_COUNT, fired, 64);
        }
        per[b] = (now_ns() - s) / BATCH;
    }
    double mean = (now_ns() - t0) / (double)(nbatches * BATCH);
    qsort(per, (size_t)nbatches, sizeof *per, cmp_double);
    printf("%-22s %8.1f ns/eval  (p99 of %d-event batches %.1f ns; %.2f rules fired per event)\n",
           label, mean, BATCH, per[(long)(nbatches * 0.99)], (double)total_fired / (double)(nbatches * BATCH));
    free(per);
}

int main(int argc, char **argv)
{
    char path[1024];
    const char *root = getenv("AG_SOURCE_DIR");
    if (argc > 1)
        snprintf(path, sizeof path, "%s", argv[1]);
    else
        snprintf(path, sizeof path, "%s/rules/default.rules", root ? root : AG_SOURCE_DIR);
    long evals = argc > 2 ? atol(argv[2]) : 4000000;
    if (evals < BATCH)
        evals = BATCH;

    struct ag_rules *set;
    struct ag_err err;
    struct ag_rules_pos pos;
    double t0 = now_ns();
    if (ag_rules_compile_file(&ag_rules_default_schema, path, &set, &pos, &err) < 0) {
        fprintf(stderr, "bench_rules: %s\n", err.msg);
        return 1;
    }
    double compile_us = (now_ns() - t0) / 1000;

    srand(42);
    for (int i = 0; i < NEVENTS; i++)
        make_event(events[i], i);

    printf("bench_rules: %s, %d rules, %ld evaluations over %d events\n", path,
           ag_rules_count(set), evals, NEVENTS);
    printf("%-22s %8.1f us\n", "compile", compile_us);
    bench("warm-up", set, evals / 10, false, 8);
    bench("eval, values, hot", set, evals, false, 8);
    bench("eval, callback, hot", set, evals, true, 8);
    bench("eval, values, cold", set, evals, false, NEVENTS);
    ag_rules_release(set);
    return 0;
}
