/* Fetching a feed's text: http:// and https:// with libcurl, file:// from a
 * directory the operator chose. The scheduler (src/api/intel_live.c) calls
 * this off the request path, then hands the text to ag_intel_feed_parse.
 *
 * Limits: at most <max_bytes> (a larger body fails the fetch: a truncated
 * blocklist would silently drop entries), a connect and a total timeout,
 * redirects only to http/https, and a non-2xx status is an error. file://
 * URLs must name a regular file under <file_root> after resolving symbolic
 * links and "..", so an API user cannot read the server's other files
 * through a feed; with no <file_root> file:// is refused. */
#ifndef AG_INTEL_FETCH_H
#define AG_INTEL_FETCH_H

#include "core/err.h"
#include "core/util.h"

#include <stddef.h>

struct ag_intel_fetch_opts {
    size_t max_bytes;
    long timeout_s;        /* whole transfer; default 60 */
    const char *file_root; /* directory file:// URLs must stay under; NULL: refuse file:// */
};

/* Fetch <url> into <out> (zeroed by the caller; the caller frees it with
 * ag_buf_free even on error). Returns 0, or AG_EINVAL (bad or refused URL,
 * field "url"), AG_ELIMIT (larger than max_bytes), AG_EIO (network, HTTP
 * status, file errors) with a message for the feed's status. */
int ag_intel_fetch(const char *url, const struct ag_intel_fetch_opts *o, struct ag_buf *out,
                   struct ag_err *err);

#endif
