/* Cases: creating, opening or joining, reading and searching, changing
 * (assignment, priority, tags, status), notes and messages, the timeline,
 * and the labels a resolution leaves. Every change is one store job that
 * also writes its timeline entry and its audit entry. */
#include "cases/internal.h"
#include "core/timeutil.h"
#include "notify/notify.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const sources[] = {"customer_report", "agent",    "detection",
                                      "phishing",        "playbook", NULL};
static const char *const priorities[] = {"low", "medium", "high", "critical", NULL};

bool cases_in(const char *s, const char *const *list)
{
    for (int i = 0; s && list[i]; i++)
        if (!strcmp(s, list[i]))
            return true;
    return false;
}

bool ag_cases_name_in(const char *s, const char *const *list) { return cases_in(s, list); }

bool cases_active(const char *status)
{
    return !strcmp(status, "open") || !strcmp(status, "investigating") ||
           !strcmp(status, "waiting_on_customer");
}

static int prio_rank(const char *p)
{
    for (int i = 0; priorities[i]; i++)
        if (!strcmp(priorities[i], p))
            return i;
    return 0;
}

struct ag_cases *ag_cases_of(struct ag_pipeline *p)
{
    return p ? ag_pipeline_hook_state(p, "cases") : NULL;
}

/* ---- helpers ---- */

struct run_arg {
    cases_op_fn fn;
    struct cases_op *op;
};

static int run_job(struct ag_store_tx *tx, void *arg, struct ag_err *err)
{
    struct run_arg *r = arg;
    json_decref(r->op->out);
    r->op->out = NULL;
    return r->fn(tx, r->op, err);
}

int cases_run(struct ag_cases *m, cases_op_fn fn, struct cases_op *op, json_t **out,
              struct ag_err *err)
{
    op->m = m;
    struct run_arg r = {fn, op};
    int rc = ag_store_exec(m->store, run_job, &r, err);
    if (rc) {
        json_decref(op->out);
        op->out = NULL;
        return rc;
    }
    ag_notify_wake();
    if (out)
        *out = op->out;
    else
        json_decref(op->out);
    op->out = NULL;
    return 0;
}

int cases_entry(struct ag_store_tx *tx, const char *case_id, const char *actor, const char *kind,
                bool customer_visible, const json_t *data, struct ag_err *err, const char *fmt,
                ...)
{
    char text[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    char *d = data ? json_dumps(data, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    struct ag_case_entry_rec e = {.at = ag_time_now_ms(),
                                  .customer_visible = customer_visible,
                                  .text = text,
                                  .data = d};
    snprintf(e.case_id, sizeof e.case_id, "%s", case_id);
    snprintf(e.actor, sizeof e.actor, "%s", actor);
    snprintf(e.kind, sizeof e.kind, "%s", kind);
    int rc = ag_store_case_entry_put(tx, &e, err);
    free(d);
    return rc;
}

int cases_audit(struct ag_store_tx *tx, const char *actor, const char *action,
                const char *target, const json_t *details, struct ag_err *err)
{
    char t[300];
    if (strchr(target, ':'))
        snprintf(t, sizeof t, "%s", target);
    else
        snprintf(t, sizeof t, "case:%s", target);
    return ag_audit_append(tx, actor, action, t, details, err);
}

int cases_load(struct ag_store_tx *tx, const char *id, struct ag_case_rec *c, struct ag_err *err)
{
    return ag_store_case_get_tx(tx, id, c, err);
}

int cases_save(struct ag_store_tx *tx, struct ag_case_rec *c, bool is_action, int64_t now,
               struct ag_err *err)
{
    c->updated_at = now;
    if (is_action && !c->first_action_at)
        c->first_action_at = now;
    return ag_store_case_update(tx, c, err);
}

void cases_reprioritize(struct ag_case_rec *c, bool keep_higher)
{
    const char *p = ag_cases_priority(c->risk, c->amount);
    if (!keep_higher || prio_rank(p) > prio_rank(c->priority))
        snprintf(c->priority, sizeof c->priority, "%s", p);
    int64_t fa, res;
    ag_cases_sla(c->priority, &fa, &res);
    c->first_action_due_at = c->created_at + fa;
    c->resolution_due_at = c->created_at + res;
}

json_t *cases_time(int64_t ms)
{
    if (!ms)
        return json_null();
    char buf[40];
    ag_time_format_ms(ms, buf, sizeof buf);
    return json_string(buf);
}

static json_t *tags_json(const char *tags)
{
    json_t *a = json_array();
    char buf[512];
    snprintf(buf, sizeof buf, "%s", tags);
    char *save = NULL;
    for (char *t = strtok_r(buf, " ", &save); t; t = strtok_r(NULL, " ", &save))
        json_array_append_new(a, json_string(t));
    return a;
}

json_t *cases_case_json(const struct ag_case_rec *c, int64_t now)
{
    bool open = cases_active(c->status);
    bool fa_over = open && !c->first_action_at && now > c->first_action_due_at;
    bool res_over = open && now > c->resolution_due_at;
    json_t *sla = json_pack("{s:o, s:o, s:b, s:b, s:b}", "first_action_due_at",
                            cases_time(c->first_action_due_at), "resolution_due_at",
                            cases_time(c->resolution_due_at), "first_action_overdue", fa_over,
                            "resolution_overdue", res_over, "overdue", fa_over || res_over);
    json_t *o = json_pack(
        "{s:s, s:s, s:s, s:s, s:s, s:f, s:{s:I, s:s}, s:s, s:s, s:s, s:o, s:o, s:o, s:s, "
        "s:o, s:o, s:o, s:o, s:o, s:o}",
        "id", c->id, "account_id", c->account_id, "type", c->type, "status", c->status,
        "priority", c->priority, "risk", c->risk, "money_at_stake", "amount",
        (json_int_t)c->amount, "currency", c->currency, "source", c->source, "title", c->title,
        "description", c->description, "assignee",
        c->assignee[0] ? json_string(c->assignee) : json_null(), "tags", tags_json(c->tags),
        "outcome", c->outcome[0] ? json_string(c->outcome) : json_null(), "created_by",
        c->created_by, "created_at", cases_time(c->created_at), "updated_at",
        cases_time(c->updated_at), "first_action_at", cases_time(c->first_action_at),
        "resolved_at", cases_time(c->resolved_at), "closed_at", cases_time(c->closed_at), "sla",
        sla);
    return o;
}

/* ---- tags ---- */

static bool tag_valid(const char *t)
{
    size_t n = strlen(t);
    if (n == 0 || n > 40)
        return false;
    for (const char *p = t; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' ||
              *p == ':' || *p == '.'))
            return false;
    return true;
}

static bool tag_has(const char *tags, const char *t)
{
    char k[48];
    snprintf(k, sizeof k, " %s ", t);
    return strstr(tags, k) != NULL;
}

/* Apply <add> and <remove> (arrays of strings) to c->tags. */
static int tags_apply(struct ag_case_rec *c, const json_t *add, const json_t *remove,
                      struct ag_err *err)
{
    size_t i;
    json_t *v;
    if (add && !json_is_array(add))
        return ag_err_set(err, AG_EINVAL, "invalid_field", "tags", "tags must be a list");
    if (remove && !json_is_array(remove))
        return ag_err_set(err, AG_EINVAL, "invalid_field", "remove_tags",
                          "remove_tags must be a list");
    json_array_foreach(remove, i, v) {
        const char *t = json_string_value(v);
        if (!t || !tag_valid(t))
            return ag_err_set(err, AG_EINVAL, "invalid_tag", "remove_tags",
                              "tags are 1-40 of a-z 0-9 - _ : .");
        char k[48], *at;
        snprintf(k, sizeof k, " %s ", t);
        if ((at = strstr(c->tags, k)))
            memmove(at, at + strlen(k) - 1, strlen(at + strlen(k) - 1) + 1);
        if (!strcmp(c->tags, " "))
            c->tags[0] = '\0';
    }
    json_array_foreach(add, i, v) {
        const char *t = json_string_value(v);
        if (!t || !tag_valid(t))
            return ag_err_set(err, AG_EINVAL, "invalid_tag", "tags",
                              "tags are 1-40 of a-z 0-9 - _ : .");
        if (tag_has(c->tags, t))
            continue;
        size_t len = strlen(c->tags);
        if (len + strlen(t) + 3 >= sizeof c->tags)
            return ag_err_set(err, AG_ELIMIT, "too_many_tags", "tags", "too many tags");
        snprintf(c->tags + len, sizeof c->tags - len, "%s%s ", len ? "" : " ", t);
    }
    return 0;
}

/* ---- opening ---- */

static int open_case(struct ag_store_tx *tx, struct ag_case_rec *c, const char *actor,
                     struct ag_err *err)
{
    int64_t now = ag_time_now_ms();
    ag_id_random(c->id, sizeof c->id, "case_", 20);
    snprintf(c->status, sizeof c->status, "open");
    c->created_at = c->updated_at = now;
    snprintf(c->created_by, sizeof c->created_by, "%s", actor);
    cases_reprioritize(c, c->priority[0] != '\0');
    int rc = ag_store_case_put(tx, c, err);
    if (rc)
        return rc;
    json_t *d = json_pack("{s:s, s:s, s:s, s:s}", "type", c->type, "source", c->source,
                          "priority", c->priority, "account_id", c->account_id);
    rc = cases_entry(tx, c->id, actor, "created", true, d, err, "Case opened (%s)", c->type);
    if (!rc)
        rc = cases_audit(tx, actor, "case.open", c->id, d, err);
    json_decref(d);
    return rc;
}

int ag_cases_open_or_join(struct ag_store_tx *tx, const char *account_id, const char *type,
                          const char *source, const char *actor, const char *title,
                          double risk, int64_t amount_minor, const char *currency,
                          const char *evidence_kind, const char *evidence_ref, char *case_id,
                          bool *created, struct ag_err *err)
{
    if (!cases_in(type, ag_cases_types))
        return ag_err_set(err, AG_EINVAL, "invalid_case_type", "type", "unknown case type %s",
                          type);
    struct ag_case_rec *c = calloc(1, sizeof *c);
    if (!c)
        return ag_err_set(err, AG_ENOMEM, NULL, "", "out of memory");
    char types[64];
    snprintf(types, sizeof types, " %s ", type);
    int64_t now = ag_time_now_ms();
    bool fresh = false;
    int rc = ag_store_case_find_active_tx(tx, account_id, types, c, err);
    if (rc == AG_ENOTFOUND) {
        memset(c, 0, sizeof *c);
        snprintf(c->account_id, sizeof c->account_id, "%s", account_id);
        snprintf(c->type, sizeof c->type, "%s", type);
        snprintf(c->source, sizeof c->source, "%s", source ? source : "detection");
        snprintf(c->title, sizeof c->title, "%s", title ? title : type);
        snprintf(c->currency, sizeof c->currency, "%s", currency ? currency : "");
        c->risk = risk;
        c->amount = amount_minor;
        rc = open_case(tx, c, actor, err);
        fresh = true;
    } else if (!rc) {
        /* Joining: a riskier signal raises the priority, never lowers it. */
        if (risk > c->risk) {
            c->risk = risk;
            cases_reprioritize(c, true);
            rc = cases_save(tx, c, false, now, err);
        }
        if (!rc)
            rc = cases_entry(tx, c->id, actor, "joined", false, NULL, err,
                             "Joined by %s: %s", source ? source : "detection",
                             title ? title : type);
    }
    if (!rc && evidence_kind && evidence_ref && *evidence_ref) {
        struct ag_case_evidence_rec e = {0};
        snprintf(e.kind, sizeof e.kind, "%s", evidence_kind);
        snprintf(e.ref, sizeof e.ref, "%s", evidence_ref);
        bool dup;
        rc = cases_evidence_add(tx, c, &e, actor, &dup, NULL, err);
    }
    if (!rc) {
        snprintf(case_id, 40, "%s", c->id);
        if (created)
            *created = fresh;
    }
    free(c);
    return rc;
}

/* ---- create ---- */

static int create_job(struct ag_store_tx *tx, struct cases_op *op, struct ag_err *err)
{
    const json_t *b = op->body;
    const char *account = NULL, *type = NULL, *source = NULL, *title = NULL, *desc = NULL,
               *assignee = NULL, *currency = NULL, *prio = NULL, *event_id = NULL;
    int64_t amount = 0;
    double risk = 0;
    int rc;
    if ((rc = ag_json_str(b, "account_id", "account_id", 128, true, &account, err)) ||
        (rc = ag_json_str(b, "type", "type", 31, true, &type, err)))
        return rc;
    if (!*account)
        return ag_err_set(err, AG_EINVAL, "invalid_field", "account_id", "account_id is empty");
#define OPT(call)                                                                                \
    if ((rc = (call)) && rc != AG_ENOTFOUND)                                                     \
        return rc;
    OPT(ag_json_str(b, "source", "source", 31, false, &source, err));
    OPT(ag_json_str(b, "title", "title", 200, false, &title, err));
    OPT(ag_json_str(b, "description", "description", 2000, false, &desc, err));
    OPT(ag_json_str(b, "assignee", "assignee", 128, false, &assignee, err));
    OPT(ag_json_str(b, "currency", "currency", 3, false, &currency, err));
    OPT(ag_json_str(b, "priority", "priority", 15, false, &prio, err));
    OPT(ag_json_str(b, "event_id", "event_id", 128, false, &event_id, err));
    OPT(ag_json_int(b, "amount", "amount", 0, INT64_MAX / 4, false, &amount, err));
    json_t *rv = json_object_get(b, "risk");
    if (rv) {
        if (!json_is_number(rv) || json_number_value(rv) < 0 || json_number_value(rv) > 1)
            return ag_err_set(err, AG_EINVAL, "invalid_field", "risk",
                              "risk must be a number from 0 to 1");
        risk = json_number_value(rv);
    }
    if (!cases_in(type, ag_cases_types))
        return ag_err_set(err, AG_EINVAL, "invalid_case_type", "type",
                          "type must be one of unauthorized_transaction, account_compromise, "
                          "suspicious_message, seller_payout_fraud, billing_error");
    if (source && !cases_in(source, sources))
        return ag_err_set(err, AG_EINVAL, "invalid_field", "source",
                          "source must be customer_report, agent, detection, phishing or "
                          "playbook");
    if (prio && !cases_in(prio, priorities))
        return ag_err_set(err, AG_EINVAL, "invalid_field", "priority",
                          "priority must be low, medium, high or critical");
    if (amount && (!currency || strlen(currency) != 3))
        return ag_err_set(err, AG_EINVAL, "invalid_field", "currency",
                          "an amount needs a 3-letter ISO 4217 currency");
    struct ag_case_rec *c = calloc(1, sizeof *c);
    if (!c)
        return ag_err_set(err, AG_ENOMEM, NULL, "", "out of memory");
    snprintf(c->account_id, sizeof c->account_id, "%s", account);
    snprintf(c->type, sizeof c->type, "%s", type);
    snprintf(c->source, sizeof c->source, "%s", source ? source : "agent");
    snprintf(c->title, sizeof c->title, "%s", title ? title : type);
    snprintf(c->description, sizeof c->description, "%s", desc ? desc : "");
    snprintf(c->assignee, sizeof c->assignee, "%s", assignee ? assignee : "");
    snprintf(c->currency, sizeof c->currency, "%s", currency ? currency : "");
    snprintf(c->priority, sizeof c->priority, "%s", prio ? prio : "");
    c->amount = amount;
    c->risk = risk;
    rc = tags_apply(c, json_object_get(b, "tags"), NULL, err);
    if (!rc)
        rc = open_case(tx, c, op->actor, err);
    if (!rc && event_id) {
        struct ag_case_evidence_rec e = {0};
        snprintf(e.kind, sizeof e.kind, "event");
        snprintf(e.ref, sizeof e.ref, "%s", event_id);
        bool dup;
        rc = cases_evidence_add(tx, c, &e, op->actor, &dup, NULL, err);
    }
    if (!rc && (rc = cases_load(tx, c->id, c, err)) == 0)
        op->out = cases_case_json(c, ag_time_now_ms());
    free(c);
    return rc;
#undef OPT
}

int ag_cases_create(struct ag_cases *m, const char *actor, const json_t *body, json_t **out,
                    struct ag_err *err)
{
    struct cases_op op = {.actor = actor, .body = body};
    return cases_run(m, create_job, &op, out, err);
}

/* ---- read ---- */

int cases_exists(struct ag_cases *m, const char *id, struct ag_err *err)
{
    struct ag_case_rec *c = malloc(sizeof *c); /* large: not on the stack */
    if (!c)
        return ag_err_set(err, AG_ENOMEM, NULL, "", "out of memory");
    int rc = ag_store_case_get(m->store, id, c, err);
    free(c);
    return rc;
}

int ag_cases_get(struct ag_cases *m, const char *id, json_t **out, struct ag_err *err)
{
    struct ag_case_rec *c = malloc(sizeof *c);
    if (!c)
        return ag_err_set(err, AG_ENOMEM, NULL, "", "out of memory");
    int rc = ag_store_case_get(m->store, id, c, err);
    if (!rc)
        *out = cases_case_json(c, ag_time_now_ms());
    free(c);
    return rc;
}

struct page {
    json_t *items;
    int limit, n;
    int64_t last_seq, now;
};

static int page_add(void *arg, const struct ag_case_rec *c)
{
    struct page *p = arg;
    if (p->n++ == p->limit)
        return 1;
    json_array_append_new(p->items, cases_case_json(c, p->now));
    p->last_seq = c->seq;
    return 0;
}

static json_t *cursor_json(bool more, int64_t seq)
{
    if (!more)
        return json_null();
    char buf[24];
    snprintf(buf, sizeof buf, "%lld", (long long)seq);
    return json_string(buf);
}

int ag_cases_list(struct ag_cases *m, const struct ag_case_filter *f, int64_t cursor, int limit,
                  json_t **out, struct ag_err *err)
{
    struct page p = {.items = json_array(), .limit = limit, .now = ag_time_now_ms()};
    struct ag_case_filter ff = *f;
    ff.now = p.now;
    int rc = ag_store_case_list(m->store, &ff, cursor, limit + 1, page_add, &p, err);
    if (rc) {
        json_decref(p.items);
        return rc;
    }
    *out = json_pack("{s:o, s:o}", "items", p.items, "next_cursor",
                     cursor_json(p.n > limit, p.last_seq));
    return 0;
}

/* ---- update ---- */

static int update_job(struct ag_store_tx *tx, struct cases_op *op, struct ag_err *err)
{
    struct ag_case_rec *c = malloc(sizeof *c);
    if (!c)
        return ag_err_set(err, AG_ENOMEM, NULL, "", "out of memory");
    int rc = cases_load(tx, op->id, c, err);
    const json_t *b = op->body;
    const char *assignee = NULL, *prio = NULL, *title = NULL, *desc = NULL;
    json_t *changes = json_object();
#define OPT(call)                                                                                \
    if (!rc && (rc = (call)) == AG_ENOTFOUND)                                                    \
        rc = 0;
    OPT(ag_json_str(b, "priority", "priority", 15, false, &prio, err));
    OPT(ag_json_str(b, "title", "title", 200, false, &title, err));
    OPT(ag_json_str(b, "description", "description", 2000, false, &desc, err));
#undef OPT
    json_t *av = json_object_get(b, "assignee");
    if (!rc && av && !json_is_null(av)) {
        if (!json_is_string(av) || json_string_length(av) > 128)
            rc = ag_err_set(err, AG_EINVAL, "invalid_field", "assignee",
                            "assignee must be a string of at most 128 bytes, or null");
        else
            assignee = json_string_value(av);
    }
    if (!rc && prio && !cases_in(prio, priorities))
        rc = ag_err_set(err, AG_EINVAL, "invalid_field", "priority",
                        "priority must be low, medium, high or critical");
    int64_t now = ag_time_now_ms();
    if (!rc && av) {
        snprintf(c->assignee, sizeof c->assignee, "%s", assignee ? assignee : "");
        json_object_set_new(changes, "assignee", assignee ? json_string(assignee) : json_null());
        rc = cases_entry(tx, c->id, op->actor, "assign", false, NULL, err, "Assigned to %s",
                         assignee ? assignee : "nobody");
    }
    if (!rc && prio && strcmp(prio, c->priority)) {
        snprintf(c->priority, sizeof c->priority, "%s", prio);
        int64_t fa, res;
        ag_cases_sla(prio, &fa, &res);
        c->first_action_due_at = c->created_at + fa;
        c->resolution_due_at = c->created_at + res;
        json_object_set_new(changes, "priority", json_string(prio));
        rc = cases_entry(tx, c->id, op->actor, "priority", false, NULL, err, "Priority set to %s",
                         prio);
    }
    if (!rc && title) {
        snprintf(c->title, sizeof c->title, "%s", title);
        json_object_set_new(changes, "title", json_string(title));
    }
    if (!rc && desc) {
        snprintf(c->description, sizeof c->description, "%s", desc);
        json_object_set_new(changes, "description", json_string(desc));
    }
    json_t *add = json_object_get(b, "tags"), *remove = json_object_get(b, "remove_tags");
    if (!rc && (add || remove)) {
        rc = tags_apply(c, add, remove, err);
        if (!rc) {
            json_object_set_new(changes, "tags", tags_json(c->tags));
            rc = cases_entry(tx, c->id, op->actor, "tags", false, NULL, err, "Tags:%s",
                             c->tags[0] ? c->tags : " none");
        }
    }
    if (!rc && json_object_size(changes) == 0)
        rc = ag_err_set(err, AG_EINVAL, "nothing_to_change", "",
                        "give assignee, priority, title, description, tags or remove_tags");
    if (!rc)
        rc = cases_save(tx, c, true, now, err);
    if (!rc)
        rc = cases_audit(tx, op->actor, "case.update", c->id, changes, err);
    if (!rc)
        op->out = cases_case_json(c, now);
    json_decref(changes);
    free(c);
    return rc;
}

int ag_cases_update(struct ag_cases *m, const char *id, const char *actor, const json_t *body,
                    json_t **out, struct ag_err *err)
{
    struct cases_op op = {.id = id, .actor = actor, .body = body};
    return cases_run(m, update_job, &op, out, err);
}

/* ---- status ---- */

static const char *const outcomes[] = {"fraud_confirmed", "not_fraud", "duplicate",
                                       "customer_unresponsive", "no_action_needed", NULL};

/* Tell the platform (webhook "case.updated", customer-safe content). */
static int notify_case_updated(struct ag_store_tx *tx, const struct ag_case_rec *c,
                               const char *text, struct ag_err *err)
{
    json_t *params = json_pack("{s:s, s:s, s:s, s:s, s:s}", "case_id", c->id, "account_id",
                               c->account_id, "type", c->type, "status", c->status, "message",
                               text);
    char *ptext = json_dumps(params, JSON_COMPACT);
    json_decref(params);
    char key[96], rnd[24];
    ag_id_random(rnd, sizeof rnd, "", 16);
    snprintf(key, sizeof key, "case.updated:%s:%s", c->id, rnd);
    struct ag_notify_msg msg = {.channel = AG_NOTIFY_WEBHOOK,
                                .kind = "case.updated",
                                .account_id = c->account_id,
                                .params_json = ptext,
                                .idempotency_key = key};
    int rc = ag_notify_enqueue(tx, &msg, err);
    free(ptext);
    return rc < 0 ? rc : 0;
}

static int status_job(struct ag_store_tx *tx, struct cases_op *op, struct ag_err *err)
{
    const char *to = NULL, *note = NULL, *outcome = NULL;
    int rc = ag_json_str(op->body, "status", "status", 31, true, &to, err);
    if (rc)
        return rc;
    if ((rc = ag_json_str(op->body, "note", "note", 1000, false, &note, err)) &&
        rc != AG_ENOTFOUND)
        return rc;
    if ((rc = ag_json_str(op->body, "outcome", "outcome", 63, false, &outcome, err)) &&
        rc != AG_ENOTFOUND)
        return rc;
    if (!cases_in(to, ag_cases_statuses))
        return ag_err_set(err, AG_EINVAL, "invalid_status", "status",
                          "status must be open, investigating, waiting_on_customer, "
                          "resolved_fraud, resolved_not_fraud or closed");
    if (outcome && !cases_in(outcome, outcomes))
        return ag_err_set(err, AG_EINVAL, "invalid_field", "outcome",
                          "outcome must be fraud_confirmed, not_fraud, duplicate, "
                          "customer_unresponsive or no_action_needed");
    struct ag_case_rec *c = malloc(sizeof *c);
    if (!c)
        return ag_err_set(err, AG_ENOMEM, NULL, "", "out of memory");
    if ((rc = cases_load(tx, op->id, c, err)))
        goto out;
    if (!ag_cases_transition_allowed(c->status, to)) {
        rc = ag_err_set(err, AG_ESTATE, "invalid_transition", "status",
                        "a case cannot go from %s to %s", c->status, to);
        goto out;
    }
    char from[32];
    snprintf(from, sizeof from, "%s", c->status);
    int64_t now = ag_time_now_ms();
    snprintf(c->status, sizeof c->status, "%s", to);
    if (!strncmp(to, "resolved_", 9)) {
        c->resolved_at = now;
        snprintf(c->outcome, sizeof c->outcome, "%s",
                 outcome ? outcome : (!strcmp(to, "resolved_fraud") ? "fraud_confirmed"
                                                                    : "not_fraud"));
        rc = cases_label(tx, c, now, err);
    } else if (!strcmp(to, "closed")) {
        c->closed_at = now;
        if (outcome)
            snprintf(c->outcome, sizeof c->outcome, "%s", outcome);
    } else if (!strcmp(to, "open")) { /* reopened: the resolution and its labels go */
        c->resolved_at = c->closed_at = 0;
        c->outcome[0] = '\0';
        rc = ag_store_label_delete_case(tx, c->id, err);
    }
    json_t *d = json_pack("{s:s, s:s}", "from", from, "to", to);
    if (c->outcome[0])
        json_object_set_new(d, "outcome", json_string(c->outcome));
    if (!rc)
        rc = cases_save(tx, c, true, now, err);
    char text[160];
    snprintf(text, sizeof text, "Status changed from %s to %s", from, to);
    if (!rc)
        rc = cases_entry(tx, c->id, op->actor, "status", true, d, err, "%s", text);
    if (!rc && note)
        rc = cases_entry(tx, c->id, op->actor, "note", false, NULL, err, "%s", note);
    if (!rc)
        rc = cases_audit(tx, op->actor, "case.status", c->id, d, err);
    if (!rc)
        rc = notify_case_updated(tx, c, text, err);
    json_decref(d);
    if (!rc)
        op->out = cases_case_json(c, now);
out:
    free(c);
    return rc;
}

int ag_cases_set_status(struct ag_cases *m, const char *id, const char *actor,
                        const json_t *body, json_t **out, struct ag_err *err)
{
    struct cases_op op = {.id = id, .actor = actor, .body = body};
    return cases_run(m, status_job, &op, out, err);
}

/* ---- notes and messages ---- */

static int note_job(struct ag_store_tx *tx, struct cases_op *op, struct ag_err *err)
{
    const char *text = NULL, *vis = NULL;
    int rc = ag_json_str(op->body, "text", "text", 4000, true, &text, err);
    if (rc)
        return rc;
    if (!*text)
        return ag_err_set(err, AG_EINVAL, "invalid_field", "text", "text is empty");
    if ((rc = ag_json_str(op->body, "visibility", "visibility", 16, false, &vis, err)) &&
        rc != AG_ENOTFOUND)
        return rc;
    bool customer = vis && !strcmp(vis, "customer");
    if (vis && !customer && strcmp(vis, "internal"))
        return ag_err_set(err, AG_EINVAL, "invalid_field", "visibility",
                          "visibility must be internal or customer");
    struct ag_case_rec *c = malloc(sizeof *c);
    if (!c)
        return ag_err_set(err, AG_ENOMEM, NULL, "", "out of memory");
    int64_t now = ag_time_now_ms();
    if (!(rc = cases_load(tx, op->id, c, err)))
        rc = cases_entry(tx, c->id, op->actor, customer ? "message" : "note", customer, NULL, err,
                         "%s", text);
    if (!rc)
        rc = cases_save(tx, c, true, now, err);
    json_t *d = json_pack("{s:s, s:i}", "visibility", customer ? "customer" : "internal",
                          "length", (int)strlen(text));
    if (!rc)
        rc = cases_audit(tx, op->actor, customer ? "case.message" : "case.note", c->id, d, err);
    json_decref(d);
    if (!rc && customer) {
        /* The owner hears it by email (their contact, if the platform gave one). */
        char key[96], rnd[24];
        ag_id_random(rnd, sizeof rnd, "", 16);
        snprintf(key, sizeof key, "case.message:%s:%s", c->id, rnd);
        json_t *params = json_pack("{s:s, s:s, s:s}", "subject", "An update on your case",
                                   "text", text, "case_id", c->id);
        char *ptext = json_dumps(params, JSON_COMPACT);
        json_decref(params);
        struct ag_notify_msg msg = {.channel = AG_NOTIFY_EMAIL,
                                    .kind = "case.message",
                                    .account_id = c->account_id,
                                    .params_json = ptext,
                                    .idempotency_key = key};
        int n = ag_notify_enqueue(tx, &msg, err);
        free(ptext);
        if (n < 0)
            rc = n;
        else if (!(rc = notify_case_updated(tx, c, text, err)))
            op->out = json_pack("{s:s, s:s, s:b}", "case_id", c->id, "visibility", "customer",
                                "emailed", n > 0);
    } else if (!rc) {
        op->out = json_pack("{s:s, s:s}", "case_id", c->id, "visibility", "internal");
    }
    free(c);
    return rc;
}

int ag_cases_add_note(struct ag_cases *m, const char *id, const char *actor, const json_t *body,
                      json_t **out, struct ag_err *err)
{
    struct cases_op op = {.id = id, .actor = actor, .body = body};
    return cases_run(m, note_job, &op, out, err);
}

/* ---- timeline ---- */

struct tl {
    json_t *items;
    bool customer;
    int limit, n;
    int64_t last;
};

static int tl_add(void *arg, const struct ag_case_entry_rec *e)
{
    struct tl *t = arg;
    if (t->n++ == t->limit)
        return 1;
    t->last = e->seq;
    json_t *o = json_pack("{s:I, s:o, s:s, s:s}", "seq", (json_int_t)e->seq, "at",
                          cases_time(e->at), "kind", e->kind, "text", e->text);
    if (t->customer) {
        /* Nobody's internal identity goes to the customer. */
        json_object_set_new(o, "actor", json_string(strncmp(e->actor, "customer", 8) ? "support"
                                                                                       : "you"));
    } else {
        json_object_set_new(o, "actor", json_string(e->actor));
        json_object_set_new(o, "visibility", json_string(e->customer_visible ? "customer"
                                                                             : "internal"));
        json_t *d = e->data && *e->data ? json_loads(e->data, 0, NULL) : NULL;
        json_object_set_new(o, "data", d ? d : json_object());
    }
    json_array_append_new(t->items, o);
    return 0;
}

int ag_cases_timeline(struct ag_cases *m, const char *id, bool customer_view, int64_t cursor,
                      int limit, json_t **out, struct ag_err *err)
{
    struct ag_case_rec *c = malloc(sizeof *c);
    if (!c)
        return ag_err_set(err, AG_ENOMEM, NULL, "", "out of memory");
    int rc = ag_store_case_get(m->store, id, c, err);
    if (rc) {
        free(c);
        return rc;
    }
    struct tl t = {.items = json_array(), .customer = customer_view, .limit = limit};
    rc = ag_store_case_entry_list(m->store, id, customer_view, cursor, limit + 1, tl_add, &t, err);
    if (rc) {
        json_decref(t.items);
        free(c);
        return rc;
    }
    *out = json_pack("{s:s, s:s, s:s, s:o, s:o}", "case_id", id, "view",
                     customer_view ? "customer" : "internal", "status", c->status, "items",
                     t.items, "next_cursor", cursor_json(t.n > limit, t.last));
    free(c);
    return 0;
}

/* ---- labels ---- */

struct label_ctx {
    struct ag_store_tx *tx;
    const struct ag_case_rec *c;
    const char *label;
    int64_t now;
    int rc;
    struct ag_err *err;
    char (*ids)[257];
    int nids;
};

static int collect_event_ids(void *arg, const struct ag_case_evidence_rec *e)
{
    struct label_ctx *l = arg;
    if ((!strcmp(e->kind, "event") || !strcmp(e->kind, "decision") ||
         !strcmp(e->kind, "message") || !strcmp(e->kind, "order") ||
         !strcmp(e->kind, "transfer") || !strcmp(e->kind, "subscription") ||
         !strcmp(e->kind, "account_change")) &&
        l->nids < 1000) {
        char (*n)[257] = realloc(l->ids, (size_t)(l->nids + 1) * sizeof *n);
        if (!n)
            return 1;
        l->ids = n;
        snprintf(l->ids[l->nids++], 257, "%s", e->ref);
    }
    return 0;
}

int cases_label(struct ag_store_tx *tx, const struct ag_case_rec *c, int64_t now,
                struct ag_err *err)
{
    const char *label = "legitimate";
    if (!strcmp(c->status, "resolved_fraud"))
        label = !strcmp(c->type, "account_compromise") || !strcmp(c->type, "seller_payout_fraud")
                    ? "account_takeover"
                    : "fraud";
    struct label_ctx l = {.tx = tx, .c = c, .label = label, .now = now, .err = err};
    int rc = ag_store_label_delete_case(tx, c->id, err);
    if (!rc)
        rc = ag_store_case_evidence_list_tx(tx, c->id, collect_event_ids, &l, err);
    /* Only ids that are stored events become labels (an order id the
     * platform gave may not be an event id). */
    for (int i = 0; !rc && i < l.nids; i++) {
        struct ag_event_row r;
        if (ag_store_case_event_get_tx(tx, l.ids[i], &r, NULL))
            continue;
        if (strcmp(r.account_id, c->account_id)) {
            ag_event_row_free(&r);
            continue;
        }
        struct ag_label_rec lr = {.occurred_at = r.occurred_at, .labelled_at = now};
        snprintf(lr.event_id, sizeof lr.event_id, "%s", r.id);
        snprintf(lr.account_id, sizeof lr.account_id, "%s", r.account_id);
        snprintf(lr.case_id, sizeof lr.case_id, "%s", c->id);
        snprintf(lr.label, sizeof lr.label, "%s", label);
        snprintf(lr.event_type, sizeof lr.event_type, "%s", r.type);
        ag_event_row_free(&r);
        rc = ag_store_label_put(tx, &lr, err);
    }
    free(l.ids);
    return rc;
}
