/* Schema track "cases": fraud cases, their timeline and evidence, resolution
 * actions, secure-account playbook runs and steps, disputes and labels.
 * Times are ms since the epoch; money is integer minor units. */
#include "store/schema.h"
#include "core/util.h"

#define CASES_DDL(SEQ, INT, REAL, BLOB)                                                          \
    "CREATE TABLE cases ("                                                                       \
    "  seq " SEQ ", id TEXT NOT NULL UNIQUE, account_id TEXT NOT NULL,"                          \
    "  type TEXT NOT NULL, status TEXT NOT NULL, priority TEXT NOT NULL, risk " REAL " NOT NULL," \
    "  amount " INT " NOT NULL, currency TEXT NOT NULL, source TEXT NOT NULL, title TEXT NOT NULL," \
    "  description TEXT NOT NULL, assignee TEXT NOT NULL, tags TEXT NOT NULL,"                   \
    "  outcome TEXT NOT NULL, created_by TEXT NOT NULL, created_at " INT " NOT NULL,"            \
    "  updated_at " INT " NOT NULL, first_action_at " INT " NOT NULL,"                           \
    "  resolved_at " INT " NOT NULL, closed_at " INT " NOT NULL,"                                \
    "  first_action_due_at " INT " NOT NULL, resolution_due_at " INT " NOT NULL);"               \
    "CREATE INDEX cases_account ON cases(account_id, seq);"                                      \
    "CREATE INDEX cases_status ON cases(status, seq);"                                           \
    "CREATE INDEX cases_created ON cases(created_at);"                                           \
    "CREATE TABLE case_timeline ("                                                               \
    "  seq " SEQ ", case_id TEXT NOT NULL, at " INT " NOT NULL, actor TEXT NOT NULL,"            \
    "  kind TEXT NOT NULL, customer_visible " INT " NOT NULL, text TEXT NOT NULL,"               \
    "  data TEXT NOT NULL);"                                                                     \
    "CREATE INDEX case_timeline_case ON case_timeline(case_id, seq);"                            \
    "CREATE TABLE case_evidence ("                                                               \
    "  seq " SEQ ", case_id TEXT NOT NULL, kind TEXT NOT NULL, ref TEXT NOT NULL,"               \
    "  note TEXT NOT NULL, content_type TEXT NOT NULL, size " INT " NOT NULL,"                   \
    "  filename TEXT NOT NULL, amount " INT " NOT NULL, currency TEXT NOT NULL,"                 \
    "  added_by TEXT NOT NULL, added_at " INT " NOT NULL, data TEXT NOT NULL,"                   \
    "  UNIQUE (case_id, kind, ref));"                                                            \
    "CREATE TABLE case_actions ("                                                                \
    "  seq " SEQ ", id TEXT NOT NULL UNIQUE, case_id TEXT NOT NULL, kind TEXT NOT NULL,"         \
    "  target_type TEXT NOT NULL, target_id TEXT NOT NULL, amount " INT " NOT NULL,"             \
    "  currency TEXT NOT NULL, status TEXT NOT NULL, note TEXT NOT NULL, result TEXT NOT NULL,"  \
    "  requested_by TEXT NOT NULL, created_at " INT " NOT NULL, updated_at " INT " NOT NULL,"    \
    "  resolved_at " INT " NOT NULL);"                                                           \
    "CREATE INDEX case_actions_case ON case_actions(case_id, seq);"                              \
    "CREATE TABLE playbook_runs ("                                                               \
    "  id TEXT PRIMARY KEY, account_id TEXT NOT NULL, case_id TEXT NOT NULL,"                    \
    "  status TEXT NOT NULL, actor TEXT NOT NULL, since_at " INT " NOT NULL,"                    \
    "  created_at " INT " NOT NULL, updated_at " INT " NOT NULL);"                               \
    "CREATE INDEX playbook_runs_account ON playbook_runs(account_id, created_at);"               \
    "CREATE TABLE playbook_steps ("                                                              \
    "  run_id TEXT NOT NULL, step TEXT NOT NULL, status TEXT NOT NULL,"                          \
    "  attempts " INT " NOT NULL, error TEXT NOT NULL, detail TEXT NOT NULL,"                    \
    "  updated_at " INT " NOT NULL, PRIMARY KEY (run_id, step));"                                \
    "CREATE TABLE disputes ("                                                                    \
    "  seq " SEQ ", id TEXT NOT NULL UNIQUE, case_id TEXT NOT NULL, account_id TEXT NOT NULL,"   \
    "  transaction_id TEXT NOT NULL, amount " INT " NOT NULL, currency TEXT NOT NULL,"           \
    "  reason TEXT NOT NULL, status TEXT NOT NULL, due_at " INT " NOT NULL,"                     \
    "  created_by TEXT NOT NULL, created_at " INT " NOT NULL, updated_at " INT " NOT NULL,"      \
    "  closed_at " INT " NOT NULL);"                                                             \
    "CREATE INDEX disputes_case ON disputes(case_id, seq);"                                      \
    "CREATE TABLE case_labels ("                                                                 \
    "  seq " SEQ ", event_id TEXT NOT NULL UNIQUE, account_id TEXT NOT NULL,"                    \
    "  case_id TEXT NOT NULL, label TEXT NOT NULL, event_type TEXT NOT NULL,"                    \
    "  occurred_at " INT " NOT NULL, labelled_at " INT " NOT NULL);"                             \
    "CREATE INDEX case_labels_case ON case_labels(case_id);"

const struct ag_migration ag_schema_cases[] = {
    {1, "cases, timeline, evidence, actions, playbook, disputes, labels",
     CASES_DDL("INTEGER PRIMARY KEY AUTOINCREMENT", "INTEGER", "REAL", "BLOB"),
     CASES_DDL("BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY", "BIGINT", "DOUBLE PRECISION",
               "BYTEA")},
};
const int ag_schema_cases_count = (int)AG_ARRAY_LEN(ag_schema_cases);
