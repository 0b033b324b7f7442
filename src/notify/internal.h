/* Internal to src/notify: what the outbox, the channels and the workers
 * share, exposed for the unit tests (tests/unit/test_notify_*.c). */
#ifndef AG_NOTIFY_INTERNAL_H
#define AG_NOTIFY_INTERNAL_H

#include "core/util.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- wake-up (outbox.c) ---- */
uint64_t ag_notify_wake_gen(void);
/* Sleep until a wake after generation <seen_gen>, <timeout_ms>, or stop. */
void ag_notify_wait(uint64_t seen_gen, int64_t timeout_ms, const _Atomic bool *stopping);

/* ---- sensitive params (outbox.c) ---- */
void ag_notify_set_params_key(const uint8_t key[32]);
/* The params as JSON text (opened if sealed); "{}" for NULL; NULL if a
 * sealed value does not open or on ENOMEM. malloc'd. */
char *ag_notify_params_open(const char *stored);


/* ---- retries (worker.c) ---- */
/* The wait before retry number <attempt> (1 = after the first failure):
 * base * 2^(attempt-1) capped at <max_ms>, with equal jitter: half of it
 * fixed, the other half uniform from <rnd>. */
int64_t ag_notify_backoff_ms(int attempt, int64_t base_ms, int64_t max_ms, uint32_t rnd);

/* ---- email (email.c) ---- */
struct ag_notify_mime {
    const char *from, *to, *subject, *text, *html; /* html may be NULL */
    const char *from_name;                          /* display name, may be NULL */
    const char *message_id;                         /* without <> */
    int64_t date_ms;
};
/* The whole RFC 5322 message with CRLF line ends: multipart/alternative
 * (text, then HTML) or a single text part, bodies in base64, the subject
 * RFC 2047-encoded. AG_EINVAL if an address holds CR or LF. */
int ag_notify_mime_build(const struct ag_notify_mime *m, struct ag_buf *out);

/* ---- SMS gateway (sms.c) ---- */
/* The gateway request body: <tpl> with {to} and {text} replaced, escaped
 * for <content_type> (JSON string escapes for *json*, form encoding for
 * application/x-www-form-urlencoded, as is otherwise). */
int ag_notify_sms_body(const char *tpl, const char *content_type, const char *to,
                       const char *text, struct ag_buf *out);

/* ---- transports (transport.c, libcurl) ---- */
struct ag_notify_http_result {
    long status;       /* HTTP status, 0 if no answer */
    char error[200];   /* transport error or "HTTP 500" */
};
/* POST <body> to <url> with extra header lines; 0 on a 2xx answer. The
 * transfer is abandoned (AG_EUNAVAIL) as soon as *<cancel> turns true (may
 * be NULL). */
int ag_notify_http_post(const char *url, const char *const *headers, int nheaders,
                        const char *body, size_t len, long timeout_s,
                        const _Atomic bool *cancel, struct ag_notify_http_result *res);
struct ag_notify_smtp {
    const char *url, *user, *password, *tls; /* tls: "off", "try", "require" */
    long timeout_s;
    const _Atomic bool *cancel; /* abandon the session when it turns true */
};
/* Send <msg> (a whole message) from <from> to <to>; 0 when accepted. */
int ag_notify_smtp_send(const struct ag_notify_smtp *s, const char *from, const char *to,
                        const char *msg, size_t len, char *error, size_t error_len);

#endif
