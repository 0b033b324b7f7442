/* Store records of fraud cases (src/cases/): cases, their timeline,
 * evidence, resolution actions, secure-account playbook runs and steps,
 * disputes and labels. Included from store/store.h. Strings in records are
 * fixed buffers; a few long ones are pointers (owned as documented). */
#ifndef AG_STORE_CASES_H
#define AG_STORE_CASES_H

#include "core/err.h"

#include <stdbool.h>
#include <stdint.h>

struct ag_store;
struct ag_store_tx;

/* ---- cases ---- */

struct ag_case_rec {
    int64_t seq; /* assigned by the store; cursor for listings */
    char id[40];
    char account_id[129];
    char type[32];
    char status[32];
    char priority[16];
    double risk;
    int64_t amount;   /* money at stake, minor units */
    char currency[4];
    char source[32];  /* customer_report, agent, detection, phishing, playbook */
    char title[201];
    char description[2001];
    char assignee[129];
    char tags[512];   /* " a b c " (spaces around each), "" for none */
    char outcome[64];
    char created_by[129];
    int64_t created_at, updated_at;
    int64_t first_action_at; /* 0 = none yet */
    int64_t resolved_at, closed_at;
    int64_t first_action_due_at, resolution_due_at;
};

int ag_store_case_put(struct ag_store_tx *tx, struct ag_case_rec *c, struct ag_err *err);
/* Rewrite every mutable column of case c->id. */
int ag_store_case_update(struct ag_store_tx *tx, const struct ag_case_rec *c, struct ag_err *err);
int ag_store_case_get_tx(struct ag_store_tx *tx, const char *id, struct ag_case_rec *out,
                         struct ag_err *err);
int ag_store_case_get(struct ag_store *s, const char *id, struct ag_case_rec *out,
                      struct ag_err *err);
/* The account's newest active case (open, investigating or waiting on the
 * customer) whose type is in <types> (" a b ", "" = any). AG_ENOTFOUND if none. */
int ag_store_case_find_active_tx(struct ag_store_tx *tx, const char *account_id,
                                 const char *types, struct ag_case_rec *out, struct ag_err *err);

struct ag_case_filter {
    const char *status, *type, *priority, *assignee, *account_id, *tag, *source;
    const char *q;      /* substring of id, title, description or account */
    bool overdue_only;  /* past a due time and not resolved/closed */
    int64_t now;        /* for overdue_only */
    int64_t created_from, created_to; /* 0 = open-ended */
};
/* Cases matching <f>, newest first, with seq < <before_seq> (0: from the
 * newest), at most <limit>. */
int ag_store_case_list(struct ag_store *s, const struct ag_case_filter *f, int64_t before_seq,
                       int limit, int (*cb)(void *arg, const struct ag_case_rec *c), void *arg,
                       struct ag_err *err);
/* Every case created in [from, to) (0 = open-ended), oldest first (reports). */
int ag_store_case_scan(struct ag_store *s, int64_t from, int64_t to,
                       int (*cb)(void *arg, const struct ag_case_rec *c), void *arg,
                       struct ag_err *err);

/* ---- timeline (append-only) ---- */

struct ag_case_entry_rec {
    int64_t seq;
    char case_id[40];
    int64_t at;
    char actor[129];
    char kind[32];         /* created, status, note, message, assign, priority, tags,
                              evidence, action, playbook, dispute, ... */
    bool customer_visible; /* shown in the customer-safe view */
    const char *text;      /* for people */
    const char *data;      /* JSON object text, or NULL */
};
int ag_store_case_entry_put(struct ag_store_tx *tx, const struct ag_case_entry_rec *e,
                            struct ag_err *err);
/* Entries in order, seq > <after_seq>, at most <limit>; only customer-visible
 * ones when <customer_only>. Strings in <e> are borrowed for the callback. */
int ag_store_case_entry_list(struct ag_store *s, const char *case_id, bool customer_only,
                             int64_t after_seq, int limit,
                             int (*cb)(void *arg, const struct ag_case_entry_rec *e), void *arg,
                             struct ag_err *err);

/* ---- evidence ---- */

struct ag_case_evidence_rec {
    int64_t seq;
    char case_id[40];
    char kind[32];  /* event, decision, session, device, order, transaction, transfer,
                       subscription, account_change, message, file, note */
    char ref[257];  /* the linked object's id; for a file its SHA-256 (hex) */
    char note[1001];
    char content_type[128]; /* files: sniffed */
    int64_t size;           /* files */
    char filename[256];     /* files: as uploaded */
    int64_t amount;         /* orders, transactions: money, minor units (0 = none) */
    char currency[4];
    char added_by[129];
    int64_t added_at;
    const char *data; /* JSON object text or NULL (e.g. the linked event's summary) */
};
/* AG_ECONFLICT if the case already links this kind and ref. */
int ag_store_case_evidence_put(struct ag_store_tx *tx, struct ag_case_evidence_rec *e,
                               struct ag_err *err);
int ag_store_case_evidence_list(struct ag_store *s, const char *case_id,
                                int (*cb)(void *arg, const struct ag_case_evidence_rec *e),
                                void *arg, struct ag_err *err);
int ag_store_case_evidence_list_tx(struct ag_store_tx *tx, const char *case_id,
                                   int (*cb)(void *arg, const struct ag_case_evidence_rec *e),
                                   void *arg, struct ag_err *err);
int ag_store_case_evidence_get(struct ag_store *s, const char *case_id, int64_t seq,
                               struct ag_case_evidence_rec *out, struct ag_err *err);

/* ---- resolution actions ---- */

struct ag_case_action_rec {
    int64_t seq;
    char id[40];
    char case_id[40];
    char kind[32];        /* mark_unauthorized, reverse, cancel_order, refund,
                             compensation, restore_account */
    char target_type[32]; /* order, transaction, transfer, subscription, payout, account */
    char target_id[129];
    int64_t amount;
    char currency[4];
    char status[16];      /* recorded, pending, confirmed, failed */
    char note[1001];
    char result[1001];    /* the platform's answer, or why it failed */
    char requested_by[129];
    int64_t created_at, updated_at, resolved_at;
};
int ag_store_case_action_put(struct ag_store_tx *tx, struct ag_case_action_rec *a,
                             struct ag_err *err);
int ag_store_case_action_update(struct ag_store_tx *tx, const struct ag_case_action_rec *a,
                                struct ag_err *err);
int ag_store_case_action_get_tx(struct ag_store_tx *tx, const char *id,
                                struct ag_case_action_rec *out, struct ag_err *err);
/* Actions of a case (or of every case when <case_id> is NULL), oldest first. */
int ag_store_case_action_list(struct ag_store *s, const char *case_id,
                              int (*cb)(void *arg, const struct ag_case_action_rec *a), void *arg,
                              struct ag_err *err);

/* ---- playbook runs ---- */

struct ag_playbook_run_rec {
    char id[40];
    char account_id[129];
    char case_id[40];
    char status[16]; /* incomplete, complete */
    char actor[129];
    int64_t since_at; /* the first suspicious event's time (0 = unknown) */
    int64_t created_at, updated_at;
};
struct ag_playbook_step_rec {
    char run_id[40];
    char step[40];
    char status[16]; /* done, failed */
    int attempts;
    char error[256];
    const char *detail; /* JSON object text or NULL */
    int64_t updated_at;
};
int ag_store_playbook_run_put(struct ag_store_tx *tx, const struct ag_playbook_run_rec *r,
                              struct ag_err *err);
int ag_store_playbook_run_get_tx(struct ag_store_tx *tx, const char *id,
                                 struct ag_playbook_run_rec *out, struct ag_err *err);
/* The account's newest run whose case is still active. AG_ENOTFOUND if none. */
int ag_store_playbook_run_active_tx(struct ag_store_tx *tx, const char *account_id,
                                    struct ag_playbook_run_rec *out, struct ag_err *err);
/* Ids of incomplete runs updated before <before> (background retry). */
int ag_store_playbook_run_incomplete(struct ag_store *s, int64_t before, int limit,
                                     int (*cb)(void *arg, const struct ag_playbook_run_rec *r),
                                     void *arg, struct ag_err *err);
int ag_store_playbook_step_put(struct ag_store_tx *tx, const struct ag_playbook_step_rec *st,
                               struct ag_err *err);
int ag_store_playbook_step_get_tx(struct ag_store_tx *tx, const char *run_id, const char *step,
                                  struct ag_playbook_step_rec *out, struct ag_err *err);
int ag_store_playbook_step_list_tx(struct ag_store_tx *tx, const char *run_id,
                                   int (*cb)(void *arg, const struct ag_playbook_step_rec *s),
                                   void *arg, struct ag_err *err);

/* ---- disputes ---- */

struct ag_dispute_rec {
    int64_t seq;
    char id[40];
    char case_id[40];
    char account_id[129];
    char transaction_id[129];
    int64_t amount;
    char currency[4];
    char reason[1001];
    char status[32]; /* opened, evidence_requested, under_review, won, lost, withdrawn, expired */
    int64_t due_at;  /* the deadline of the current state (0 = none) */
    char created_by[129];
    int64_t created_at, updated_at, closed_at;
};
int ag_store_dispute_put(struct ag_store_tx *tx, struct ag_dispute_rec *d, struct ag_err *err);
int ag_store_dispute_update(struct ag_store_tx *tx, const struct ag_dispute_rec *d,
                            struct ag_err *err);
int ag_store_dispute_get_tx(struct ag_store_tx *tx, const char *id, struct ag_dispute_rec *out,
                            struct ag_err *err);
int ag_store_dispute_get(struct ag_store *s, const char *id, struct ag_dispute_rec *out,
                         struct ag_err *err);
/* Disputes newest first, seq < <before_seq> (0: newest), filtered by
 * <case_id> and <status> when non-NULL. */
int ag_store_dispute_list(struct ag_store *s, const char *case_id, const char *status,
                          int64_t before_seq, int limit,
                          int (*cb)(void *arg, const struct ag_dispute_rec *d), void *arg,
                          struct ag_err *err);

/* ---- labels (confirmed outcomes for the risk model) ---- */

struct ag_label_rec {
    int64_t seq;
    char event_id[129];
    char account_id[129];
    char case_id[40];
    char label[32]; /* account_takeover, fraud, legitimate */
    char event_type[64];
    int64_t occurred_at; /* the event's */
    int64_t labelled_at;
};
/* Insert or replace the label of <event_id>. */
int ag_store_label_put(struct ag_store_tx *tx, const struct ag_label_rec *l, struct ag_err *err);
/* Drop every label a case set (it was reopened). */
int ag_store_label_delete_case(struct ag_store_tx *tx, const char *case_id, struct ag_err *err);
/* Labels in seq order with seq > <after_seq>, at most <limit>. */
int ag_store_label_scan(struct ag_store *s, int64_t after_seq, int limit,
                        int (*cb)(void *arg, const struct ag_label_rec *l), void *arg,
                        struct ag_err *err);

/* ---- events, as the cases module reads them ---- */

/* The account's events that occurred (or, when <by_received>, reached
 * accountguard) at or after <from>, oldest first, at most <limit>. Reads
 * inside <tx>. */
int ag_store_case_account_events_tx(struct ag_store_tx *tx, const char *account_id, int64_t from,
                                    bool by_received, int limit,
                                    int (*cb)(void *arg, const struct ag_event_row *r),
                                    void *arg, struct ag_err *err);
/* The time of the account's earliest flagged (review/challenge/deny) event
 * at or after <from>; AG_ENOTFOUND if none. */
int ag_store_case_first_flagged_tx(struct ag_store_tx *tx, const char *account_id, int64_t from,
                                   int64_t *at, struct ag_err *err);
/* One event read inside <tx>. */
int ag_store_case_event_get_tx(struct ag_store_tx *tx, const char *id, struct ag_event_row *out,
                               struct ag_err *err);

#endif
