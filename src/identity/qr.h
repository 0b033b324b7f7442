/* QR codes for TOTP enrollment: the otpauth:// URI rendered with libqrencode
 * (byte mode, error correction level M) as SVG (written by hand from the
 * module matrix: one <path> of horizontal runs) or as a 1-bit grayscale PNG
 * (libpng), each with the standard 4-module quiet zone.
 *
 * WARNING: the image encodes the TOTP secret. Serve it once, over TLS, with
 * Cache-Control: no-store, and never log or persist it. */
#ifndef AG_IDENTITY_QR_H
#define AG_IDENTITY_QR_H

#include "core/err.h"

#include <stddef.h>
#include <stdint.h>

#define AG_IDENTITY_QR_QUIET 4       /* modules of white border */
#define AG_IDENTITY_QR_TEXT_MAX 2048 /* longest text accepted */
#define AG_IDENTITY_QR_SCALE_MAX 32  /* PNG pixels per module */

/* The module matrix: width x width bytes, row-major, 1 = dark. */
struct ag_identity_qr {
    int width;
    uint8_t *modules;
};

/* Encode <text> (case preserved). Fills <out>; release with
 * ag_identity_qr_free. Returns 0, AG_EINVAL for empty text, AG_ELIMIT
 * ("too_large") if it is longer than AG_IDENTITY_QR_TEXT_MAX or does not fit
 * a QR code, AG_ENOMEM. */
int ag_identity_qr_encode(const char *text, struct ag_identity_qr *out, struct ag_err *err);
/* Wipe and free the matrix; safe on a zeroed or already freed struct. */
void ag_identity_qr_free(struct ag_identity_qr *qr);

/* <text> as an SVG document: *out is a malloc'd NUL-terminated string of
 * *len bytes the caller frees (after sodium_memzero). The viewBox is in
 * modules (matrix plus quiet zone), the nominal size <px_per_module> (1..32)
 * times that. Returns as ag_identity_qr_encode, AG_EINVAL for a bad scale. */
int ag_identity_qr_svg(const char *text, unsigned px_per_module, char **out, size_t *len,
                       struct ag_err *err);

/* <text> as a PNG image, <scale> (1..32) pixels per module: *out is a
 * malloc'd buffer of *len bytes the caller frees (after sodium_memzero).
 * Returns as ag_identity_qr_svg, or AG_EINTERNAL if libpng fails. */
int ag_identity_qr_png(const char *text, unsigned scale, uint8_t **out, size_t *len,
                       struct ag_err *err);

#endif
