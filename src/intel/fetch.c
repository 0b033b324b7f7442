/* Feed fetching over http(s) with libcurl and from files under a chosen
 * directory (see fetch.h). */
#include "intel/fetch.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init_once(void) { curl_global_init(CURL_GLOBAL_DEFAULT); }

struct sink {
    struct ag_buf *out;
    size_t max;
    bool too_big;
};

static size_t on_data(char *p, size_t size, size_t nmemb, void *arg)
{
    struct sink *s = arg;
    size_t n = size * nmemb;
    if (s->out->len + n > s->max) {
        s->too_big = true;
        return 0; /* aborts the transfer */
    }
    return ag_buf_append(s->out, p, n) ? 0 : n;
}

static int fetch_http(const char *url, const struct ag_intel_fetch_opts *o, struct ag_buf *out,
                      struct ag_err *err)
{
    pthread_once(&curl_once, curl_init_once);
    CURL *c = curl_easy_init();
    if (!c)
        return ag_err_set(err, AG_ENOMEM, NULL, "", "out of memory");
    struct sink s = {out, o->max_bytes, false};
    char errbuf[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 15L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, o->timeout_s > 0 ? o->timeout_s : 60L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "accountguard/" AG_VERSION " (intel feed)");
    curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)o->max_bytes);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    CURLcode rc = curl_easy_perform(c);
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(c);
    if (s.too_big || rc == CURLE_FILESIZE_EXCEEDED)
        return ag_err_set(err, AG_ELIMIT, "feed_too_large", "max_bytes",
                          "the feed is larger than max_bytes (%zu)", o->max_bytes);
    if (rc != CURLE_OK)
        return ag_err_set(err, AG_EIO, "fetch_failed", "url", "%s",
                          errbuf[0] ? errbuf : curl_easy_strerror(rc));
    if (status < 200 || status > 299)
        return ag_err_set(err, AG_EIO, "fetch_failed", "url", "HTTP status %ld", status);
    return 0;
}

static int fetch_file(const char *url, const struct ag_intel_fetch_opts *o, struct ag_buf *out,
                      struct ag_err *err)
{
    if (!o->file_root)
        return ag_err_set(err, AG_EINVAL, "invalid_field", "url", "file:// feeds are not allowed");
    CURLU *u = curl_url();
    char *path = NULL;
    if (!u)
        return ag_err_set(err, AG_ENOMEM, NULL, "", "out of memory");
    if (curl_url_set(u, CURLUPART_URL, url, 0) ||
        curl_url_get(u, CURLUPART_PATH, &path, CURLU_URLDECODE)) {
        curl_url_cleanup(u);
        return ag_err_set(err, AG_EINVAL, "invalid_field", "url", "not a valid file:// URL");
    }
    curl_url_cleanup(u);
    char root[PATH_MAX], real[PATH_MAX];
    int rc = 0;
    if (!realpath(o->file_root, root)) {
        rc = ag_err_set(err, AG_EIO, "fetch_failed", "url",
                        "the feed directory does not exist (create it under the data directory)");
        goto out;
    }
    if (!realpath(path, real)) {
        rc = ag_err_set(err, AG_EIO, "fetch_failed", "url", "cannot open %.200s: %s", path,
                        strerror(errno));
        goto out;
    }
    size_t rl = strlen(root);
    if (strncmp(real, root, rl) != 0 || real[rl] != '/') {
        rc = ag_err_set(err, AG_EINVAL, "invalid_field", "url",
                        "file:// feeds must be under the feed directory (<data_dir>/feeds)");
        goto out;
    }
    int fd = open(real, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) || !S_ISREG(st.st_mode)) {
        if (fd >= 0)
            close(fd);
        rc = ag_err_set(err, AG_EIO, "fetch_failed", "url", "%.200s is not a readable file",
                        path);
        goto out;
    }
    if ((size_t)st.st_size > o->max_bytes) {
        close(fd);
        rc = ag_err_set(err, AG_ELIMIT, "feed_too_large", "max_bytes",
                        "the feed is larger than max_bytes (%zu)", o->max_bytes);
        goto out;
    }
    char chunk[65536];
    ssize_t n;
    while ((n = read(fd, chunk, sizeof chunk)) > 0) {
        if (out->len + (size_t)n > o->max_bytes) {
            rc = ag_err_set(err, AG_ELIMIT, "feed_too_large", "max_bytes",
                            "the feed is larger than max_bytes (%zu)", o->max_bytes);
            break;
        }
        if (ag_buf_append(out, chunk, (size_t)n)) {
            rc = ag_err_set(err, AG_ENOMEM, NULL, "", "out of memory");
            break;
        }
    }
    if (!rc && n < 0)
        rc = ag_err_set(err, AG_EIO, "fetch_failed", "url", "read error: %s", strerror(errno));
    close(fd);
out:
    curl_free(path);
    return rc;
}

int ag_intel_fetch(const char *url, const struct ag_intel_fetch_opts *o, struct ag_buf *out,
                   struct ag_err *err)
{
    if (!strncmp(url, "file://", 7))
        return fetch_file(url, o, out, err);
    if (!strncmp(url, "http://", 7) || !strncmp(url, "https://", 8))
        return fetch_http(url, o, out, err);
    return ag_err_set(err, AG_EINVAL, "invalid_field", "url",
                      "url must start with http://, https:// or file://");
}
