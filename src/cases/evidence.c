/* Evidence: links to events, decisions, sessions, devices, orders,
 * transactions and reported messages; free-text notes; uploaded files,
 * sniffed with libmagic (the declared type is not trusted), size-limited,
 * stored once by SHA-256 under <data_dir>/evidence/. */
#include "cases/internal.h"
#include "core/timeutil.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const kinds[] = {"event",        "decision",       "session", "device",
                                    "order",        "transaction",    "transfer", "subscription",
                                    "account_change", "message",      "note",     NULL};

/* What uploads may be (sniffed types). */
static const char *const file_types[] = {
    "image/png",  "image/jpeg", "image/gif",      "image/webp", "application/pdf",
    "text/plain", "text/csv",   "message/rfc822", "application/json", NULL,
};

static bool is_money_kind(const char *k)
{
    return !strcmp(k, "order") || !strcmp(k, "transaction") || !strcmp(k, "transfer") ||
           !strcmp(k, "subscription");
}

static bool is_event_kind(const char *k)
{
    return !strcmp(k, "event") || !strcmp(k, "decision") || !strcmp(k, "message");
}

int cases_evidence_add(struct ag_store_tx *tx, struct ag_case_rec *c,
                       struct ag_case_evidence_rec *e, const char *actor, bool *dup,
                       char **summary_out, struct ag_err *err)
{
    if (summary_out)
        *summary_out = NULL;
    *dup = false;
    int64_t now = ag_time_now_ms();
    snprintf(e->case_id, sizeof e->case_id, "%s", c->id);
    snprintf(e->added_by, sizeof e->added_by, "%s", actor);
    e->added_at = now;
    char *summary = NULL;
    if (is_event_kind(e->kind) && !e->data) {
        /* Linking an event: keep a summary and its money, if any. */
        struct ag_event_row r;
        int rc = ag_store_case_event_get_tx(tx, e->ref, &r, err);
        if (rc)
            return rc;
        if (strcmp(r.account_id, c->account_id)) {
            ag_event_row_free(&r);
            return ag_err_set(err, AG_EINVAL, "event_of_another_account", "ref",
                              "event %s belongs to another account", e->ref);
        }
        json_t *ev = json_loads(r.event_json, 0, NULL);
        json_t *props = json_object_get(ev, "properties");
        json_t *amt = json_object_get(props, "amount");
        const char *cur = json_string_value(json_object_get(props, "currency"));
        if (json_is_integer(amt) && !e->amount) {
            e->amount = json_integer_value(amt);
            snprintf(e->currency, sizeof e->currency, "%s", cur ? cur : "");
        }
        json_t *s = json_pack("{s:s, s:o, s:s, s:f}", "type", r.type, "occurred_at",
                              cases_time(r.occurred_at), "action", r.action, "risk", r.risk);
        summary = json_dumps(s, JSON_COMPACT | JSON_SORT_KEYS);
        json_decref(s);
        json_decref(ev);
        ag_event_row_free(&r);
        e->data = summary;
    }
    int rc = ag_store_case_evidence_put(tx, e, err);
    if (rc == AG_ECONFLICT) {
        if (summary)
            e->data = NULL;
        free(summary);
        *dup = true;
        return 0;
    }
    if (!rc && e->amount > 0 && (is_money_kind(e->kind) || is_event_kind(e->kind)) &&
        (!c->currency[0] || !strcmp(c->currency, e->currency))) {
        c->amount += e->amount;
        if (!c->currency[0])
            snprintf(c->currency, sizeof c->currency, "%s", e->currency);
        cases_reprioritize(c, true);
        rc = cases_save(tx, c, false, now, err);
    }
    json_t *d = json_pack("{s:s, s:s, s:I}", "kind", e->kind, "ref", e->ref, "evidence_id",
                          (json_int_t)e->seq);
    if (!rc)
        rc = cases_entry(tx, c->id, actor, "evidence", false, d, err, "Evidence added: %s %s",
                         e->kind, e->ref);
    if (!rc)
        rc = cases_audit(tx, actor, "case.evidence", c->id, d, err);
    json_decref(d);
    if (summary_out && summary) {
        *summary_out = summary;
    } else {
        free(summary);
        if (summary)
            e->data = NULL;
    }
    return rc;
}

static json_t *evidence_json(const struct ag_case_evidence_rec *e)
{
    json_t *o = json_pack("{s:I, s:s, s:s, s:s, s:s, s:o}", "id", (json_int_t)e->seq, "kind",
                          e->kind, "ref", e->ref, "note", e->note, "added_by", e->added_by,
                          "added_at", cases_time(e->added_at));
    if (e->amount)
        json_object_set_new(o, "amount",
                            json_pack("{s:I, s:s}", "amount", (json_int_t)e->amount, "currency",
                                      e->currency));
    if (!strcmp(e->kind, "file")) {
        json_object_set_new(o, "sha256", json_string(e->ref));
        json_object_set_new(o, "content_type", json_string(e->content_type));
        json_object_set_new(o, "size", json_integer(e->size));
        json_object_set_new(o, "filename", json_string(e->filename));
    }
    json_t *d = e->data && *e->data ? json_loads(e->data, 0, NULL) : NULL;
    if (d && json_object_size(d))
        json_object_set_new(o, "summary", d);
    else
        json_decref(d);
    return o;
}

static int link_job(struct ag_store_tx *tx, struct cases_op *op, struct ag_err *err)
{
    const json_t *b = op->body;
    const char *kind = NULL, *ref = NULL, *note = NULL, *currency = NULL;
    int64_t amount = 0;
    int rc;
    if ((rc = ag_json_str(b, "kind", "kind", 31, true, &kind, err)))
        return rc;
    if (!cases_in(kind, kinds))
        return ag_err_set(err, AG_EINVAL, "invalid_evidence_kind", "kind",
                          "kind must be event, decision, session, device, order, transaction, "
                          "transfer, subscription, account_change, message or note "
                          "(files go to /evidence/files)");
    bool is_note = !strcmp(kind, "note");
    if ((rc = ag_json_str(b, "ref", "ref", 256, !is_note, &ref, err)) && rc != AG_ENOTFOUND)
        return rc;
    if ((rc = ag_json_str(b, "note", "note", 1000, is_note, &note, err)) && rc != AG_ENOTFOUND)
        return rc;
    if ((rc = ag_json_int(b, "amount", "amount", 0, INT64_MAX / 4, false, &amount, err)) &&
        rc != AG_ENOTFOUND)
        return rc;
    if ((rc = ag_json_str(b, "currency", "currency", 3, amount > 0, &currency, err)) &&
        rc != AG_ENOTFOUND)
        return rc;
    if ((ref && !*ref) || (is_note && !*note))
        return ag_err_set(err, AG_EINVAL, "invalid_field", is_note ? "note" : "ref",
                          "must not be empty");
    struct ag_case_rec *c = malloc(sizeof *c);
    struct ag_case_evidence_rec *e = calloc(1, sizeof *e);
    if (!c || !e) {
        free(c);
        free(e);
        return ag_err_set(err, AG_ENOMEM, NULL, "", "out of memory");
    }
    if (!(rc = cases_load(tx, op->id, c, err))) {
        snprintf(e->kind, sizeof e->kind, "%s", kind);
        if (is_note && !ref)
            ag_id_random(e->ref, sizeof e->ref, "note_", 16);
        else
            snprintf(e->ref, sizeof e->ref, "%s", ref);
        snprintf(e->note, sizeof e->note, "%s", note ? note : "");
        e->amount = amount;
        snprintf(e->currency, sizeof e->currency, "%s", currency ? currency : "");
        bool dup;
        char *summary = NULL;
        rc = cases_evidence_add(tx, c, e, op->actor, &dup, &summary, err);
        if (!rc && dup)
            rc = ag_err_set(err, AG_ECONFLICT, "evidence_exists", "ref",
                            "the case already links %s %s", e->kind, e->ref);
        if (!rc)
            rc = cases_save(tx, c, true, ag_time_now_ms(), err);
        if (!rc)
            op->out = evidence_json(e);
        free(summary);
    }
    free(c);
    free(e);
    return rc;
}

int ag_cases_evidence_link(struct ag_cases *m, const char *id, const char *actor,
                           const json_t *body, json_t **out, struct ag_err *err)
{
    struct cases_op op = {.id = id, .actor = actor, .body = body};
    return cases_run(m, link_job, &op, out, err);
}

static int list_add(void *arg, const struct ag_case_evidence_rec *e)
{
    json_array_append_new(arg, evidence_json(e));
    return 0;
}

int ag_cases_evidence_list(struct ag_cases *m, const char *id, json_t **out, struct ag_err *err)
{
    int rc = cases_exists(m, id, err);
    if (rc)
        return rc;
    json_t *items = json_array();
    if ((rc = ag_store_case_evidence_list(m->store, id, list_add, items, err))) {
        json_decref(items);
        return rc;
    }
    *out = json_pack("{s:s, s:o}", "case_id", id, "items", items);
    return 0;
}

/* ---- files ---- */

static void file_path(const struct ag_cases *m, const char *hex, char *out, size_t n)
{
    snprintf(out, n, "%s/%.2s/%.64s", m->evidence_dir, hex, hex);
}

/* Write <data> to <path> durably (temp file, fsync, rename), unless a file
 * with that name (the same content, by hash) is already there. */
static int store_file(const char *path, const void *data, size_t len, struct ag_err *err)
{
    struct stat st;
    if (stat(path, &st) == 0 && (size_t)st.st_size == len)
        return 0;
    char dir[600], tmp[640];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = '\0';
    if (mkdir(dir, 0700) && errno != EEXIST)
        return ag_err_set(err, AG_EIO, "storage_error", "", "cannot create %s", dir);
    char rnd[24];
    ag_id_random(rnd, sizeof rnd, "", 12);
    snprintf(tmp, sizeof tmp, "%s.%s.tmp", path, rnd);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (fd < 0)
        return ag_err_set(err, AG_EIO, "storage_error", "", "cannot write evidence file");
    const char *p = data;
    size_t left = len;
    while (left) {
        ssize_t w = write(fd, p, left);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            close(fd);
            unlink(tmp);
            return ag_err_set(err, AG_EIO, "storage_error", "", "cannot write evidence file");
        }
        p += w;
        left -= (size_t)w;
    }
    if (fsync(fd) || close(fd) || rename(tmp, path)) {
        unlink(tmp);
        return ag_err_set(err, AG_EIO, "storage_error", "", "cannot store evidence file");
    }
    return 0;
}

struct upload {
    const char *filename, *note, *type;
    const char *hex;
    size_t len;
};

static int upload_job(struct ag_store_tx *tx, struct cases_op *op, struct ag_err *err)
{
    const struct upload *u = op->extra;
    struct ag_case_rec *c = malloc(sizeof *c);
    struct ag_case_evidence_rec *e = calloc(1, sizeof *e);
    int rc;
    if (!c || !e) {
        rc = ag_err_set(err, AG_ENOMEM, NULL, "", "out of memory");
        goto out;
    }
    if ((rc = cases_load(tx, op->id, c, err)))
        goto out;
    snprintf(e->kind, sizeof e->kind, "file");
    snprintf(e->ref, sizeof e->ref, "%s", u->hex);
    snprintf(e->note, sizeof e->note, "%s", u->note ? u->note : "");
    snprintf(e->content_type, sizeof e->content_type, "%s", u->type);
    snprintf(e->filename, sizeof e->filename, "%s", u->filename ? u->filename : "");
    e->size = (int64_t)u->len;
    bool dup;
    if ((rc = cases_evidence_add(tx, c, e, op->actor, &dup, NULL, err)))
        goto out;
    if (dup) {
        rc = ag_err_set(err, AG_ECONFLICT, "evidence_exists", "file",
                        "the case already has this file (sha256 %s)", u->hex);
        goto out;
    }
    if (!(rc = cases_save(tx, c, true, ag_time_now_ms(), err)))
        op->out = evidence_json(e);
out:
    free(c);
    free(e);
    return rc;
}

int ag_cases_evidence_upload(struct ag_cases *m, const char *id, const char *actor,
                             const char *filename, const char *declared_type, const char *note,
                             const void *data, size_t len, json_t **out, struct ag_err *err)
{
    if (len == 0)
        return ag_err_set(err, AG_EINVAL, "empty_upload", "", "the file is empty");
    if ((int64_t)len > m->upload_max)
        return ag_err_set(err, AG_ELIMIT, "upload_too_large", "",
                          "the file is %zu bytes; the limit is %lld", len,
                          (long long)m->upload_max);
    if (filename && (strlen(filename) > 255 || strchr(filename, '/')))
        return ag_err_set(err, AG_EINVAL, "invalid_parameter", "filename",
                          "filename must be a plain name of at most 255 bytes");
    if (note && strlen(note) > 1000)
        return ag_err_set(err, AG_EINVAL, "invalid_parameter", "note",
                          "note must be at most 1000 bytes");
    /* What the bytes are, not what the client says. */
    char sniffed[128] = "";
    pthread_mutex_lock(&m->magic_lock);
    const char *t = m->magic ? magic_buffer(m->magic, data, len) : NULL;
    if (t)
        snprintf(sniffed, sizeof sniffed, "%s", t);
    pthread_mutex_unlock(&m->magic_lock);
    if (!sniffed[0])
        return ag_err_set(err, AG_EIO, "sniff_failed", "", "cannot determine the file's type");
    if (!cases_in(sniffed, file_types))
        return ag_err_set(err, AG_EINVAL, "unsupported_content_type", "",
                          "files of type %s are not accepted", sniffed);
    if (declared_type && *declared_type && strncasecmp(declared_type, "application/octet-stream", 24)) {
        size_t n = strcspn(declared_type, "; ");
        if (n != strlen(sniffed) || strncasecmp(declared_type, sniffed, n))
            return ag_err_set(err, AG_EINVAL, "content_type_mismatch", "",
                              "the body was declared %.*s but is %s", (int)n, declared_type,
                              sniffed);
    }
    uint8_t hash[32];
    crypto_hash_sha256(hash, data, len);
    char hex[65], path[600];
    ag_hex(hash, 32, hex);
    file_path(m, hex, path, sizeof path);
    int rc = store_file(path, data, len, err);
    if (rc)
        return rc;
    struct upload u = {filename, note, sniffed, hex, len};
    struct cases_op op = {.id = id, .actor = actor, .extra = &u};
    return cases_run(m, upload_job, &op, out, err);
}

int ag_cases_evidence_file(struct ag_cases *m, const char *id, int64_t seq, char *path,
                           char *content_type, struct ag_err *err)
{
    struct ag_case_evidence_rec *e = malloc(sizeof *e);
    if (!e)
        return ag_err_set(err, AG_ENOMEM, NULL, "", "out of memory");
    int rc = ag_store_case_evidence_get(m->store, id, seq, e, err);
    if (!rc && strcmp(e->kind, "file"))
        rc = ag_err_set(err, AG_ENOTFOUND, "not_a_file", "id", "evidence %lld is not a file",
                        (long long)seq);
    if (!rc) {
        file_path(m, e->ref, path, 512);
        snprintf(content_type, 128, "%s", e->content_type);
    }
    free(e);
    return rc;
}
