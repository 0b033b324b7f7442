/* Server secret file handling and per-purpose subkeys (BLAKE2b keyed). */
#include "core/secret.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int ag_secret_load(const char *path, bool create, uint8_t key[AG_SECRET_LEN], struct ag_err *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT && create) {
        uint8_t k[AG_SECRET_LEN];
        randombytes_buf(k, sizeof k);
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd >= 0) {
            ssize_t n = write(fd, k, sizeof k);
            int ok = n == (ssize_t)sizeof k && fsync(fd) == 0;
            close(fd);
            sodium_memzero(k, sizeof k);
            if (!ok) {
                unlink(path);
                return ag_err_set(err, AG_EIO, "secret_unwritable", "secret_key_file",
                                  "cannot write %s", path);
            }
        } else if (errno != EEXIST) {
            return ag_err_set(err, AG_EIO, "secret_unwritable", "secret_key_file",
                              "cannot create %s: %s", path, strerror(errno));
        }
        fd = open(path, O_RDONLY | O_CLOEXEC);
    }
    if (fd < 0) {
        if (errno == ENOENT)
            return ag_err_set(err, AG_ENOTFOUND, "secret_missing", "secret_key_file",
                              "%s does not exist (start the server once, or check --data-dir)",
                              path);
        return ag_err_set(err, AG_EIO, "secret_unreadable", "secret_key_file",
                          "cannot read %s: %s", path, strerror(errno));
    }
    ssize_t n = read(fd, key, AG_SECRET_LEN);
    close(fd);
    if (n != AG_SECRET_LEN)
        return ag_err_set(err, AG_EINVAL, "secret_invalid", "secret_key_file",
                          "%s must hold exactly %d bytes", path, AG_SECRET_LEN);
    return 0;
}

void ag_secret_derive(const uint8_t key[AG_SECRET_LEN], const char *purpose,
                      uint8_t out[AG_SECRET_LEN])
{
    crypto_generichash(out, AG_SECRET_LEN, (const unsigned char *)purpose, strlen(purpose), key,
                       AG_SECRET_LEN);
}
