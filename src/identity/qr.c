/* QR codes of otpauth URIs as SVG and PNG (see qr.h). */
#include "identity/qr.h"

#include "core/util.h"

#include <errno.h>
#include <png.h>
#include <qrencode.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

int ag_identity_qr_encode(const char *text, struct ag_identity_qr *out, struct ag_err *err)
{
    memset(out, 0, sizeof *out);
    if (!text || !*text)
        return ag_err_set(err, AG_EINVAL, "invalid_request", "", "nothing to encode");
    if (strnlen(text, AG_IDENTITY_QR_TEXT_MAX + 1) > AG_IDENTITY_QR_TEXT_MAX)
        return ag_err_set(err, AG_ELIMIT, "too_large", "", "text too long for a QR code");
    errno = 0;
    QRcode *qr = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);
    if (!qr) {
        if (errno == ENOMEM)
            return ag_err_set(err, AG_ENOMEM, NULL, "", "out of memory");
        return ag_err_set(err, AG_ELIMIT, "too_large", "", "text does not fit a QR code");
    }
    size_t n = (size_t)qr->width * (size_t)qr->width;
    out->modules = malloc(n);
    if (!out->modules) {
        sodium_memzero(qr->data, n);
        QRcode_free(qr);
        return ag_err_set(err, AG_ENOMEM, NULL, "", "out of memory");
    }
    for (size_t i = 0; i < n; i++)
        out->modules[i] = qr->data[i] & 1;
    out->width = qr->width;
    sodium_memzero(qr->data, n);
    QRcode_free(qr);
    return 0;
}

void ag_identity_qr_free(struct ag_identity_qr *qr)
{
    if (qr->modules)
        sodium_memzero(qr->modules, (size_t)qr->width * (size_t)qr->width);
    free(qr->modules);
    qr->modules = NULL;
    qr->width = 0;
}

static bool dark(const struct ag_identity_qr *qr, int x, int y)
{
    return x >= 0 && y >= 0 && x < qr->width && y < qr->width && qr->modules[y * qr->width + x];
}

int ag_identity_qr_svg(const char *text, unsigned px_per_module, char **out, size_t *len,
                       struct ag_err *err)
{
    *out = NULL;
    *len = 0;
    if (px_per_module < 1 || px_per_module > AG_IDENTITY_QR_SCALE_MAX)
        return ag_err_set(err, AG_EINVAL, "invalid_field", "scale", "scale must be 1..32");
    struct ag_identity_qr qr;
    int rc = ag_identity_qr_encode(text, &qr, err);
    if (rc < 0)
        return rc;
    const int q = AG_IDENTITY_QR_QUIET, size = qr.width + 2 * q;
    struct ag_buf b = {0};
    rc = ag_buf_printf(&b,
                       "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                       "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" "
                       "viewBox=\"0 0 %d %d\" width=\"%u\" height=\"%u\" "
                       "shape-rendering=\"crispEdges\">\n"
                       "<rect width=\"%d\" height=\"%d\" fill=\"#ffffff\"/>\n"
                       "<path fill=\"#000000\" d=\"",
                       size, size, (unsigned)size * px_per_module, (unsigned)size * px_per_module,
                       size, size);
    /* One subpath per horizontal run of dark modules. */
    for (int y = 0; y < qr.width && rc == 0; y++) {
        for (int x = 0; x < qr.width && rc == 0;) {
            if (!dark(&qr, x, y)) {
                x++;
                continue;
            }
            int run = 0;
            while (dark(&qr, x + run, y))
                run++;
            rc = ag_buf_printf(&b, "M%d %dh%dv1h-%dz", x + q, y + q, run, run);
            x += run;
        }
    }
    if (rc == 0)
        rc = ag_buf_printf(&b, "\"/>\n</svg>\n");
    ag_identity_qr_free(&qr);
    if (rc < 0) {
        if (b.data)
            sodium_memzero(b.data, b.cap);
        ag_buf_free(&b);
        return ag_err_set(err, AG_ENOMEM, NULL, "", "out of memory");
    }
    *out = b.data;
    *len = b.len;
    return 0;
}

/* libpng output into a growable buffer. */
struct png_sink {
    struct ag_buf buf;
    bool failed;
};

static void png_write_cb(png_structp png, png_bytep data, size_t n)
{
    struct png_sink *s = png_get_io_ptr(png);
    if (!s->failed && ag_buf_append(&s->buf, data, n) < 0)
        s->failed = true;
}

static void png_flush_cb(png_structp png) { (void)png; }

/* libpng reports errors by longjmp; warnings are dropped (library code never
 * prints). */
static void png_error_cb(png_structp png, png_const_charp msg)
{
    (void)msg;
    png_longjmp(png, 1);
}

static void png_warning_cb(png_structp png, png_const_charp msg)
{
    (void)png;
    (void)msg;
}

/* Write the image; returns false if libpng failed. Kept apart from the
 * setjmp so no local of the caller is clobbered by longjmp. */
static bool png_emit(const struct ag_identity_qr *qr, unsigned scale, struct png_sink *sink,
                     uint8_t *row)
{
    png_structp png =
        png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, png_error_cb, png_warning_cb);
    if (!png)
        return false;
    png_infop info = png_create_info_struct(png);
    if (!info) {
        png_destroy_write_struct(&png, NULL);
        return false;
    }
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        return false;
    }
    const int q = AG_IDENTITY_QR_QUIET;
    const png_uint_32 px = (png_uint_32)(qr->width + 2 * q) * scale;
    png_set_write_fn(png, sink, png_write_cb, png_flush_cb);
    png_set_IHDR(png, info, px, px, 1, PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    const size_t rowbytes = (px + 7) / 8;
    for (png_uint_32 y = 0; y < px; y++) {
        memset(row, 0xff, rowbytes); /* 1 = white */
        int my = (int)(y / scale) - q;
        for (png_uint_32 x = 0; x < px; x++)
            if (dark(qr, (int)(x / scale) - q, my))
                row[x / 8] &= (uint8_t)~(0x80u >> (x % 8));
        png_write_row(png, row);
    }
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    return true;
}

int ag_identity_qr_png(const char *text, unsigned scale, uint8_t **out, size_t *len,
                       struct ag_err *err)
{
    *out = NULL;
    *len = 0;
    if (scale < 1 || scale > AG_IDENTITY_QR_SCALE_MAX)
        return ag_err_set(err, AG_EINVAL, "invalid_field", "scale", "scale must be 1..32");
    struct ag_identity_qr qr;
    int rc = ag_identity_qr_encode(text, &qr, err);
    if (rc < 0)
        return rc;
    size_t px = (size_t)(qr.width + 2 * AG_IDENTITY_QR_QUIET) * scale;
    uint8_t *row = malloc((px + 7) / 8);
    struct png_sink sink = {0};
    bool have_row = row != NULL;
    bool ok = have_row && png_emit(&qr, scale, &sink, row);
    free(row);
    row = NULL;
    ag_identity_qr_free(&qr);
    if (!ok || sink.failed) {
        if (sink.buf.data)
            sodium_memzero(sink.buf.data, sink.buf.cap);
        ag_buf_free(&sink.buf);
        return ag_err_set(err, have_row ? AG_EINTERNAL : AG_ENOMEM, NULL, "", "PNG encoding failed");
    }
    *out = (uint8_t *)sink.buf.data;
    *len = sink.buf.len;
    return 0;
}
