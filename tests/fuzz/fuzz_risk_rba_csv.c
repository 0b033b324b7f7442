/* Fuzz target: the RBA dataset CSV reader (src/risk/rba_csv.h) — header,
 * quoting, timestamps, every column's conversion. The reader takes a path,
 * so each input is written to an anonymous in-memory file (memfd) and read
 * through /proc/self/fd; the reader must go through every row, malformed
 * ones included, without crashing. */
#include "risk/rba_csv.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int fd = memfd_create("rba", 0);
    if (fd < 0)
        abort();
    for (size_t off = 0; off < size;) {
        ssize_t w = write(fd, data + off, size - off);
        if (w <= 0)
            abort();
        off += (size_t)w;
    }
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    struct ag_rba_reader *r = NULL;
    struct ag_err err;
    ag_err_clear(&err);
    if (ag_rba_open(path, &r, &err) == 0) {
        struct ag_rba_row row;
        long last = 0;
        for (int i = 0; i < 100000; i++) {
            ag_err_clear(&err);
            int rc = ag_rba_next(r, &row, &err);
            if (rc == 0 || rc == AG_EIO)
                break;
            if (rc == 1) {
                if (row.line <= last || !row.ev.type)
                    abort();
                last = row.line;
            } else if (rc != AG_EINVAL || strncmp(err.msg, "line ", 5) != 0) {
                abort();
            }
        }
        ag_rba_close(r);
    } else if (r) {
        abort();
    }
    close(fd);

    /* The timestamp parser on its own, with the input as one string. */
    if (size < 64) {
        char s[64];
        memcpy(s, data, size);
        s[size] = '\0';
        int64_t ms;
        ag_rba_parse_time(s, &ms);
    }
    return 0;
}
