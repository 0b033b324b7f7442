/* Reader for the RBA dataset's CSV schema (Wiefling et al., "Pump Up
 * Password Security!", the public login dataset): a header line naming the
 * columns
 *   index, Login Timestamp, User ID, Round-Trip Time [ms], IP Address,
 *   Country, Region, City, ASN, User Agent String, Browser Name and Version,
 *   OS Name and Version, Device Type, Login Successful, Is Attack IP,
 *   Is Account Takeover
 * in any order (extra columns are ignored, except "Device ID" and "label",
 * which our simulator adds), then one login per line. Fields may be quoted ("..."
 * with "" for a quote), so commas inside user agents are fine.
 *
 * Rows come out one at a time as a struct ag_event (login.succeeded or
 * login.failed) plus the given enrichment fields. A malformed row is an
 * error naming its line; the reader can go on with the next row. */
#ifndef AG_RISK_RBA_CSV_H
#define AG_RISK_RBA_CSV_H

#include "core/err.h"
#include "core/event.h"
#include "risk/risk.h"

#include <stdbool.h>
#include <stdint.h>

struct ag_rba_row {
    long line;               /* 1-based line number of the row */
    char index[32];          /* the "index" column (also the event id) */
    struct ag_event ev;      /* type, occurred_at_ms, account_id, ip, user_agent, device_id, id;
                                properties and raw are NULL */
    char country[8];
    char region[64];
    char city[64];
    uint32_t asn;
    char browser[64];
    char os[64];
    char device_type[16];
    int rtt_ms;              /* -1 if empty */
    bool success, attack_ip, takeover;
    char label[24];          /* the "label" column, "" if absent */
    struct ag_risk_given given; /* points into this row */
};

struct ag_rba_reader;

/* Open <path> ("-": standard input) and read its header. Returns 0, or
 * AG_EIO (cannot open) / AG_EINVAL (no header, a required column missing:
 * User ID, Login Timestamp, IP Address, Login Successful). */
int ag_rba_open(const char *path, struct ag_rba_reader **out, struct ag_err *err);
void ag_rba_close(struct ag_rba_reader *r);

/* Read the next row into <row>. Returns 1 for a row, 0 at the end, AG_EINVAL
 * for a malformed row (err->msg starts "line N: "; the next call continues
 * after it), AG_EIO on a read error. */
int ag_rba_next(struct ag_rba_reader *r, struct ag_rba_row *row, struct ag_err *err);

/* Does the file have a "label" column? */
bool ag_rba_has_label(const struct ag_rba_reader *r);

/* "2020-02-03 12:43:30.772" (UTC; 'T' and a trailing 'Z' accepted; the
 * fraction optional) -> ms since the epoch. Returns 0 or AG_EINVAL. */
int ag_rba_parse_time(const char *s, int64_t *out_ms);

#endif
