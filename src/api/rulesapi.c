/* The rules over HTTP. Publishing compiles the text first (a file with an
 * error is refused whole, with line and column), writes it to the rules
 * file (rules_file, or <data_dir>/rules.rules) so a restart keeps it, and
 * swaps it in for every event from then on (with several nodes, on every
 * node: ag_pipeline_rules_publish). A backtest runs a rule set
 * over the decision facts stored with recent events and reports what it
 * would have changed. */
#include "api/rulesapi.h"
#include "core/json.h"
#include "core/log.h"
#include "core/timeutil.h"
#include "pipeline/facts.h"
#include "rules/backtest.h"
#include "rules/fields.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define RULES_TEXT_MAX (1u << 20)

static void rules_error(struct ag_http_req *req, const struct ag_err *err,
                        const struct ag_rules_pos *pos)
{
    json_t *body = ag_json_error(err);
    json_t *e = json_object_get(body, "error");
    json_object_set_new(e, "field", json_string("text"));
    if (pos && pos->line) {
        json_object_set_new(e, "line", json_integer(pos->line));
        json_object_set_new(e, "column", json_integer(pos->col));
    }
    ag_http_respond_json(req, err->code == AG_ENOMEM ? 503 : 400, body);
}

/* The rules text from the body: {"text": "..."} or text/plain. */
static const char *body_text(struct ag_app *app, struct ag_http_req *req, json_t **holder,
                             size_t *len)
{
    const char *ct = ag_http_header(req, "Content-Type");
    *holder = NULL;
    if (ct && !strncasecmp(ct, "text/plain", 10)) {
        *len = req->body.len;
        return req->body.data ? req->body.data : "";
    }
    json_t *body = ag_api_body_object(app, req);
    if (!body)
        return NULL;
    const char *text;
    struct ag_err err;
    if (ag_json_str(body, "text", "text", RULES_TEXT_MAX, true, &text, &err)) {
        json_decref(body);
        ag_http_respond_error(req, 400, &err);
        return NULL;
    }
    *holder = body;
    *len = strlen(text);
    return text;
}

static json_t *describe(struct ag_rules *set)
{
    json_t *o = ag_rules_describe_json(set);
    return o ? o : json_object();
}

void ag_api_rules_get(struct ag_app *app, struct ag_http_req *req)
{
    struct ag_rules *set = ag_pipeline_rules(app->pipeline);
    json_t *o = describe(set);
    ag_rules_release(set);
    json_t *fields = json_array();
    for (int i = 0; i < ag_rules_default_schema.nfields; i++) {
        const struct ag_rules_field *f = &ag_rules_default_schema.fields[i];
        json_array_append_new(fields, json_pack("{s:s, s:s, s:s}", "name", f->name, "type",
                                                ag_rules_type_name(f->type), "help",
                                                f->help ? f->help : ""));
    }
    json_object_set_new(o, "fields", fields);
    char *text = NULL;
    size_t len = 0;
    if (ag_pipeline_rules_text(app->pipeline, &text, &len) == 0) {
        json_object_set_new(o, "text", json_stringn(text, len));
        free(text);
    }
    ag_http_respond_json(req, 200, o);
}

void ag_api_rules_validate(struct ag_app *app, struct ag_http_req *req)
{
    json_t *holder;
    size_t len;
    const char *text = body_text(app, req, &holder, &len);
    if (!text)
        return;
    struct ag_rules *set = NULL;
    struct ag_rules_pos pos = {0};
    struct ag_err err;
    if (ag_rules_compile(&ag_rules_default_schema, "rules", text, len, &set, &pos, &err)) {
        json_decref(holder);
        rules_error(req, &err, &pos);
        return;
    }
    json_t *o = describe(set);
    json_object_set_new(o, "valid", json_true());
    ag_rules_release(set);
    json_decref(holder);
    ag_http_respond_json(req, 200, o);
}

/* Write <text> to <path> atomically (temp file, fsync, rename). */
static int save_rules(const char *path, const char *text, size_t len, struct ag_err *err)
{
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0640);
    if (fd < 0)
        return ag_err_set(err, AG_EIO, "rules_unwritable", "", "cannot write %s: %s", tmp,
                          strerror(errno));
    ssize_t n = write(fd, text, len);
    int ok = n == (ssize_t)len && fsync(fd) == 0;
    close(fd);
    if (!ok || rename(tmp, path)) {
        unlink(tmp);
        return ag_err_set(err, AG_EIO, "rules_unwritable", "", "cannot write %s", path);
    }
    return 0;
}

void ag_api_rules_put(struct ag_app *app, struct ag_http_req *req)
{
    json_t *holder;
    size_t len;
    const char *text = body_text(app, req, &holder, &len);
    if (!text)
        return;
    struct ag_rules_pos pos = {0};
    struct ag_err err;
    struct ag_rules *set = NULL;
    /* Compile first, so a bad text is refused before anything is written. */
    if (ag_rules_compile(&ag_rules_default_schema, "rules", text, len, &set, &pos, &err)) {
        json_decref(holder);
        rules_error(req, &err, &pos);
        return;
    }
    /* One node: the file first (a text that cannot be kept is not run).
     * Several: the store is where published rules live; the file is this
     * node's copy. */
    const char *path = ag_pipeline_rules_path(app->pipeline);
    bool shared = ag_pipeline_rules_shared(app->pipeline);
    int rc = !shared ? save_rules(path, text, len, &err) : 0;
    if (rc)
        ag_rules_release(set);
    if (rc || ag_pipeline_rules_publish(app->pipeline, set, text, len, req->principal, &err)) {
        json_decref(holder);
        ag_http_respond_error(req, 0, &err);
        return;
    }
    if (shared && save_rules(path, text, len, &err))
        ag_log_req(AG_LOG_WARN, req->request_id, "published rules not copied to the rules file",
                   "error", err.msg, NULL);
    json_decref(holder);
    ag_log_req(AG_LOG_INFO, req->request_id, "rules published", "by", req->principal, "file",
               path, NULL);
    set = ag_pipeline_rules(app->pipeline);
    json_t *o = describe(set);
    ag_rules_release(set);
    ag_http_respond_json(req, 200, o);
}

void ag_api_rules_reload(struct ag_app *app, struct ag_http_req *req)
{
    struct ag_rules_pos pos = {0};
    struct ag_err err;
    if (ag_pipeline_rules_reload(app->pipeline, NULL, 0, &pos, &err)) {
        rules_error(req, &err, &pos);
        return;
    }
    struct ag_rules *set = ag_pipeline_rules(app->pipeline);
    json_t *o = describe(set);
    ag_rules_release(set);
    ag_http_respond_json(req, 200, o);
}

/* ---- backtest over stored events ---- */

struct bt_row {
    char *id;
    enum ag_action recorded;
    void *facts;
    size_t len;
};

struct bt_iter {
    struct bt_row *rows;
    size_t n, cap, pos;
    struct ag_rules_value values[AG_RF_COUNT];
    const char *scratch[256];
    int64_t since, until;
};

static int bt_collect(void *arg, const struct ag_event_row *r)
{
    struct bt_iter *it = arg;
    if (!r->facts || (it->since && r->occurred_at < it->since) ||
        (it->until && r->occurred_at >= it->until))
        return 0;
    if (it->n == it->cap) {
        size_t cap = it->cap ? it->cap * 2 : 1024;
        struct bt_row *v = realloc(it->rows, cap * sizeof *v);
        if (!v)
            return 1;
        it->rows = v;
        it->cap = cap;
    }
    struct bt_row *row = &it->rows[it->n];
    row->id = strdup(r->id);
    row->facts = malloc(r->facts_len);
    if (!row->id || !row->facts) {
        free(row->id);
        free(row->facts);
        return 1;
    }
    memcpy(row->facts, r->facts, r->facts_len);
    row->len = r->facts_len;
    int a = ag_action_parse(r->action);
    row->recorded = a < 0 ? AG_ACTION_ALLOW : (enum ag_action)a;
    it->n++;
    return 0;
}

static int bt_next(void *arg, struct ag_rules_bt_item *item, struct ag_err *err)
{
    struct bt_iter *it = arg;
    while (it->pos < it->n) {
        struct bt_row *r = &it->rows[it->pos++];
        enum ag_action base;
        if (ag_facts_decode(r->facts, r->len, it->values, AG_RF_COUNT, &base, it->scratch, 256))
            continue; /* a snapshot this build cannot read: skipped */
        *item = (struct ag_rules_bt_item){.event_id = r->id,
                                          .recorded = r->recorded,
                                          .base = base,
                                          .values = it->values,
                                          .nvalues = AG_RF_COUNT};
        return 1;
    }
    return 0;
}

void ag_api_rules_backtest(struct ag_app *app, struct ag_http_req *req)
{
    json_t *body = ag_api_body_object(app, req);
    if (!body)
        return;
    struct ag_err err;
    const char *text = NULL, *since_s = NULL, *until_s = NULL;
    int64_t limit = 10000, examples = 10;
    struct bt_iter it = {0};
    int rc;
    if (((rc = ag_json_str(body, "text", "text", RULES_TEXT_MAX, false, &text, &err)) &&
         rc != AG_ENOTFOUND) ||
        ((rc = ag_json_int(body, "events", "events", 1, 1000000, false, &limit, &err)) &&
         rc != AG_ENOTFOUND) ||
        ((rc = ag_json_int(body, "examples", "examples", 0, 1000, false, &examples, &err)) &&
         rc != AG_ENOTFOUND) ||
        ((rc = ag_json_str(body, "since", "since", 64, false, &since_s, &err)) &&
         rc != AG_ENOTFOUND) ||
        ((rc = ag_json_str(body, "until", "until", 64, false, &until_s, &err)) &&
         rc != AG_ENOTFOUND)) {
        json_decref(body);
        ag_http_respond_error(req, 400, &err);
        return;
    }
    if ((since_s && ag_time_parse(since_s, &it.since)) ||
        (until_s && ag_time_parse(until_s, &it.until))) {
        json_decref(body);
        ag_api_error(req, AG_EINVAL, "invalid_timestamp", since_s ? "since" : "until",
                     "since and until must be RFC 3339 timestamps");
        return;
    }
    struct ag_rules *set = NULL;
    struct ag_rules_pos pos = {0};
    if (text) {
        if (ag_rules_compile(&ag_rules_default_schema, "rules", text, strlen(text), &set, &pos,
                             &err)) {
            json_decref(body);
            rules_error(req, &err, &pos);
            return;
        }
    } else {
        set = ag_pipeline_rules(app->pipeline);
    }
    json_decref(body);
    /* The most recent <limit> events, oldest first. */
    int64_t total = ag_store_event_count(app->store);
    int64_t after = total > limit ? total - limit : 0;
    struct ag_rules_bt_report *report = NULL;
    rc = ag_store_event_scan(app->store, after, (int)limit, bt_collect, &it, &err);
    if (!rc)
        rc = ag_rules_backtest(set, bt_next, &it, (int)examples, &report, &err);
    for (size_t i = 0; i < it.n; i++) {
        free(it.rows[i].id);
        free(it.rows[i].facts);
    }
    free(it.rows);
    ag_rules_release(set);
    if (rc) {
        ag_http_respond_error(req, 0, &err);
        return;
    }
    json_t *o = ag_rules_bt_report_json(report);
    ag_rules_bt_report_free(report);
    ag_http_respond_json(req, 200, o ? o : json_object());
}
