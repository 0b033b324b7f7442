/* RBA CSV reader: buffered reads, one pass per line, fields split in place. */
#include "risk/rba_csv.h"

#include "core/event_types.h"
#include "core/util.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum col {
    C_INDEX, C_TIME, C_USER, C_RTT, C_IP, C_COUNTRY, C_REGION, C_CITY, C_ASN, C_UA,
    C_BROWSER, C_OS, C_DEVICE, C_SUCCESS, C_ATTACK_IP, C_TAKEOVER, C_LABEL, C_DEVICE_ID, NCOLS
};

static const char *const col_names[NCOLS] = {
    "index", "Login Timestamp", "User ID", "Round-Trip Time [ms]", "IP Address", "Country",
    "Region", "City", "ASN", "User Agent String", "Browser Name and Version",
    "OS Name and Version", "Device Type", "Login Successful", "Is Attack IP",
    "Is Account Takeover", "label", "Device ID",
};

#define MAXFIELDS 64

struct ag_rba_reader {
    FILE *f;
    bool own;
    char *line;   /* the current logical line (may span physical lines in quotes) */
    size_t cap;
    char *in;     /* input buffer */
    size_t ipos, ilen, icap;
    long lineno;  /* physical lines read */
    long rec_line; /* where the last record started */
    int pos[NCOLS]; /* field index of each column, -1 if absent */
    int nfields_header;
    const struct ag_event_type *t_ok, *t_fail;
    char *fields[MAXFIELDS];
};

/* Refill the input buffer, keeping the unread tail; returns bytes added. */
static size_t refill(struct ag_rba_reader *r)
{
    if (r->ipos > 0) {
        memmove(r->in, r->in + r->ipos, r->ilen - r->ipos);
        r->ilen -= r->ipos;
        r->ipos = 0;
    }
    if (r->ilen == r->icap) {
        size_t ncap = r->icap * 2;
        char *n = realloc(r->in, ncap);
        if (!n)
            return 0;
        r->in = n;
        r->icap = ncap;
    }
    size_t got = fread(r->in + r->ilen, 1, r->icap - r->ilen, r->f);
    r->ilen += got;
    return got;
}

/* Read one logical CSV record (a line, or several while a quoted field is
 * open) into r->line; returns its length, -1 at the end, -2 without memory. */
static long read_record(struct ag_rba_reader *r)
{
    r->rec_line = r->lineno + 1;
    size_t scan = r->ipos; /* where to look for the next newline */
    bool inq = false;
    for (;;) {
        char *nl = memchr(r->in + scan, '\n', r->ilen - scan);
        if (!nl) {
            size_t off = scan - r->ipos;
            size_t got = refill(r);
            scan = r->ipos + off; /* the buffer may have moved */
            if (got)
                continue;
            if (r->ilen == r->ipos)
                return -1;
            nl = r->in + r->ilen; /* the last line has no newline */
        }
        /* quotes toggle; a newline inside quotes belongs to the field */
        for (char *q = memchr(r->in + scan, '"', (size_t)(nl - (r->in + scan))); q;
             q = memchr(q + 1, '"', (size_t)(nl - q - 1)))
            inq = !inq;
        r->lineno++;
        if (inq && nl < r->in + r->ilen) {
            scan = (size_t)(nl - r->in) + 1;
            continue;
        }
        size_t len = (size_t)(nl - (r->in + r->ipos));
        if (len + 1 > r->cap) {
            size_t ncap = r->cap ? r->cap : 4096;
            while (ncap < len + 1)
                ncap *= 2;
            char *n = realloc(r->line, ncap);
            if (!n)
                return -2;
            r->line = n;
            r->cap = ncap;
        }
        memcpy(r->line, r->in + r->ipos, len);
        r->ipos += len + (nl < r->in + r->ilen);
        if (len && r->line[len - 1] == '\r')
            len--;
        r->line[len] = 0;
        return (long)len;
    }
}

/* Split r->line into fields in place; returns the count, or -1 on an
 * unterminated quote. */
static int split(struct ag_rba_reader *r)
{
    int n = 0;
    char *p = r->line;
    for (;;) {
        if (n == MAXFIELDS)
            return n;
        if (*p == '"') {
            char *out = ++p, *start = out;
            for (;;) {
                if (!*p)
                    return -1;
                if (*p == '"') {
                    if (p[1] == '"') {
                        *out++ = '"';
                        p += 2;
                        continue;
                    }
                    p++;
                    break;
                }
                *out++ = *p++;
            }
            r->fields[n++] = start;
            if (*p == ',') {
                *out = 0;
                p++;
                continue;
            }
            *out = 0;
            if (*p)
                return -1; /* junk after a closing quote */
            return n;
        }
        r->fields[n++] = p;
        char *comma = strchr(p, ',');
        if (!comma)
            return n;
        *comma = 0;
        p = comma + 1;
    }
}

int ag_rba_open(const char *path, struct ag_rba_reader **out, struct ag_err *err)
{
    *out = NULL;
    struct ag_rba_reader *r = calloc(1, sizeof *r);
    if (!r)
        return ag_err_set(err, AG_ENOMEM, "", "", "out of memory");
    if (!strcmp(path, "-")) {
        r->f = stdin;
    } else {
        r->f = fopen(path, "r");
        r->own = true;
    }
    if (!r->f) {
        int e = errno;
        free(r);
        return ag_err_set(err, AG_EIO, "io", "", "cannot open %s: %s", path, strerror(e));
    }
    r->icap = 1 << 20;
    if (!(r->in = malloc(r->icap))) {
        ag_rba_close(r);
        return ag_err_set(err, AG_ENOMEM, "", "", "out of memory");
    }
    r->t_ok = ag_event_type_find("login.succeeded");
    r->t_fail = ag_event_type_find("login.failed");
    long len = read_record(r);
    int n = len >= 0 ? split(r) : -1;
    if (n <= 0) {
        ag_rba_close(r);
        return ag_err_set(err, AG_EINVAL, "bad_csv", "", "%s: line 1: no header", path);
    }
    for (int c = 0; c < NCOLS; c++)
        r->pos[c] = -1;
    for (int i = 0; i < n; i++) {
        char *h = r->fields[i];
        if (i == 0 && (unsigned char)h[0] == 0xef && (unsigned char)h[1] == 0xbb &&
            (unsigned char)h[2] == 0xbf)
            h += 3; /* a UTF-8 byte order mark */
        for (int c = 0; c < NCOLS; c++)
            if (r->pos[c] < 0 && !strcasecmp(h, col_names[c]))
                r->pos[c] = i;
    }
    if (r->pos[C_INDEX] < 0 && n > 0 && r->fields[0][0] == 0)
        r->pos[C_INDEX] = 0; /* pandas writes the index column unnamed */
    r->nfields_header = n;
    static const int required[] = {C_TIME, C_USER, C_IP, C_SUCCESS};
    for (size_t i = 0; i < sizeof required / sizeof required[0]; i++) {
        if (r->pos[required[i]] < 0) {
            ag_err_set(err, AG_EINVAL, "bad_csv", "", "%s: line 1: no \"%s\" column", path,
                       col_names[required[i]]);
            ag_rba_close(r);
            return AG_EINVAL;
        }
    }
    *out = r;
    return 0;
}

void ag_rba_close(struct ag_rba_reader *r)
{
    if (!r)
        return;
    if (r->own && r->f)
        fclose(r->f);
    free(r->line);
    free(r->in);
    free(r);
}

bool ag_rba_has_label(const struct ag_rba_reader *r) { return r->pos[C_LABEL] >= 0; }

static int num(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i]))
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

static int64_t days_from_civil(int y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

int ag_rba_parse_time(const char *s, int64_t *out_ms)
{
    int y, mo, d, h, mi, se, ms = 0;
    if (strlen(s) < 19 || num(s, 4, &y) || s[4] != '-' || num(s + 5, 2, &mo) || s[7] != '-' ||
        num(s + 8, 2, &d) || (s[10] != ' ' && s[10] != 'T') || num(s + 11, 2, &h) ||
        s[13] != ':' || num(s + 14, 2, &mi) || s[16] != ':' || num(s + 17, 2, &se))
        return AG_EINVAL;
    const char *p = s + 19;
    if (*p == '.') {
        p++;
        int digits = 0;
        while (isdigit((unsigned char)*p)) {
            if (digits < 3)
                ms = ms * 10 + (*p - '0');
            digits++;
            p++;
        }
        if (!digits)
            return AG_EINVAL;
        for (; digits < 3; digits++)
            ms *= 10;
    }
    if (*p == 'Z')
        p++;
    if (*p)
        return AG_EINVAL;
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 || mi > 59 || se > 60)
        return AG_EINVAL;
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (mo == 2 && d == 29 && !leap)
        return AG_EINVAL;
    *out_ms = ((days_from_civil(y, mo, d) * 24 + h) * 60 + mi) * 60000LL + se * 1000LL + ms;
    return 0;
}

static int parse_bool(const char *s, bool *out)
{
    if (!strcasecmp(s, "true") || !strcmp(s, "1")) {
        *out = true;
        return 0;
    }
    if (!strcasecmp(s, "false") || !strcmp(s, "0") || !*s) {
        *out = false;
        return 0;
    }
    return -1;
}

static int copy_field(char *dst, size_t cap, const char *src)
{
    size_t n = strlen(src);
    if (n >= cap)
        return -1;
    memcpy(dst, src, n + 1);
    return 0;
}

static void copy_trunc(char *dst, size_t cap, const char *src)
{
    size_t n = strlen(src);
    if (n >= cap)
        n = cap - 1;
    memcpy(dst, src, n);
    dst[n] = 0;
}

int ag_rba_next(struct ag_rba_reader *r, struct ag_rba_row *row, struct ag_err *err)
{
    long len;
    do {
        len = read_record(r);
        if (len == -2)
            return ag_err_set(err, AG_ENOMEM, "", "", "out of memory");
        if (len < 0)
            return ferror(r->f) ? ag_err_set(err, AG_EIO, "io", "", "read error") : 0;
    } while (len == 0); /* blank lines */
    long line = r->rec_line;
    int n = split(r);
    if (n < 0)
        return ag_err_set(err, AG_EINVAL, "bad_csv", "", "line %ld: unterminated quoted field",
                          line);
    for (int c = 0; c < NCOLS; c++)
        if (r->pos[c] >= n && c != C_LABEL && c != C_DEVICE_ID)
            return ag_err_set(err, AG_EINVAL, "bad_csv", "",
                              "line %ld: %d fields, the header has %d", line, n,
                              r->nfields_header);
#define F(c) (r->pos[c] >= 0 && r->pos[c] < n ? r->fields[r->pos[c]] : "")
    memset(row, 0, offsetof(struct ag_rba_row, ev));
    struct ag_event *ev = &row->ev;
    ev->id[0] = 0;
    ev->account_id[0] = 0;
    ev->ip[0] = 0;
    ev->user_agent[0] = 0;
    ev->device_id[0] = 0;
    ev->session_id[0] = 0;
    ev->role[0] = 0;
    ev->currency[0] = 0;
    ev->has_amount = false;
    ev->amount_minor = 0;
    ev->properties = NULL;
    ev->raw = NULL;
    ev->ip_v6 = false;
    row->line = line;
    row->asn = 0;
    if (copy_field(row->index, sizeof row->index, F(C_INDEX)))
        return ag_err_set(err, AG_EINVAL, "bad_csv", "", "line %ld: index too long", line);
    copy_trunc(ev->id, sizeof ev->id, row->index);
    if (ag_rba_parse_time(F(C_TIME), &ev->occurred_at_ms))
        return ag_err_set(err, AG_EINVAL, "bad_csv", "",
                          "line %ld: Login Timestamp \"%.40s\" is not YYYY-MM-DD HH:MM:SS[.fff]",
                          line, F(C_TIME));
    ev->received_at_ms = ev->occurred_at_ms;
    const char *user = F(C_USER);
    if (!*user)
        return ag_err_set(err, AG_EINVAL, "bad_csv", "", "line %ld: empty User ID", line);
    if (copy_field(ev->account_id, sizeof ev->account_id, user))
        return ag_err_set(err, AG_EINVAL, "bad_csv", "",
                          "line %ld: User ID longer than %d characters", line, AG_ID_MAX);
    const char *ip = F(C_IP);
    if (*ip) {
        if (!ag_ip_valid(ip, &ev->ip_v6))
            return ag_err_set(err, AG_EINVAL, "bad_csv", "",
                              "line %ld: IP Address \"%.46s\" is not an address", line, ip);
        copy_trunc(ev->ip, sizeof ev->ip, ip);
    }
    copy_trunc(ev->user_agent, sizeof ev->user_agent, F(C_UA));
    copy_trunc(ev->device_id, sizeof ev->device_id, F(C_DEVICE_ID));
    if (parse_bool(F(C_SUCCESS), &row->success))
        return ag_err_set(err, AG_EINVAL, "bad_csv", "",
                          "line %ld: Login Successful \"%.20s\" is not True or False", line,
                          F(C_SUCCESS));
    if (parse_bool(F(C_ATTACK_IP), &row->attack_ip) || parse_bool(F(C_TAKEOVER), &row->takeover))
        return ag_err_set(err, AG_EINVAL, "bad_csv", "",
                          "line %ld: Is Attack IP / Is Account Takeover is not True or False",
                          line);
    ev->type = row->success ? r->t_ok : r->t_fail;
    const char *asn = F(C_ASN);
    if (*asn) {
        char *end;
        errno = 0;
        unsigned long v = strtoul(asn, &end, 10);
        if (*end == '.' && end[1] == '0' && !end[2])
            end += 2; /* "29695.0" from a float column */
        if (errno || *end || v > UINT32_MAX || *asn == '-')
            return ag_err_set(err, AG_EINVAL, "bad_csv", "",
                              "line %ld: ASN \"%.20s\" is not a number", line, asn);
        row->asn = (uint32_t)v;
    }
    const char *rtt = F(C_RTT);
    row->rtt_ms = -1;
    if (*rtt) {
        char *end;
        double v = strtod(rtt, &end);
        if (*end || v < 0)
            return ag_err_set(err, AG_EINVAL, "bad_csv", "",
                              "line %ld: Round-Trip Time \"%.20s\" is not a number", line, rtt);
        row->rtt_ms = v > 1e9 ? 1000000000 : (int)v;
    }
    const char *cc = F(C_COUNTRY);
    row->country[0] = 0;
    if (*cc && strcmp(cc, "-"))
        copy_trunc(row->country, sizeof row->country, cc);
    copy_trunc(row->region, sizeof row->region, F(C_REGION));
    copy_trunc(row->city, sizeof row->city, F(C_CITY));
    copy_trunc(row->browser, sizeof row->browser, F(C_BROWSER));
    copy_trunc(row->os, sizeof row->os, F(C_OS));
    copy_trunc(row->device_type, sizeof row->device_type, F(C_DEVICE));
    copy_trunc(row->label, sizeof row->label, F(C_LABEL));
#undef F
    row->given = (struct ag_risk_given){
        .country = row->country,
        .region = row->region,
        .city = row->city,
        .asn = row->asn,
        .browser = row->browser,
        .os = row->os,
        .device_type = row->device_type,
        .rtt_ms = row->rtt_ms,
    };
    return 1;
}
