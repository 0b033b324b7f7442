/* Unit tests for src/identity/qr.c: the module matrix (finder patterns), the
 * SVG (parsed back into the matrix), the PNG (decoded with libpng and
 * compared pixel by pixel) and, when zbarimg (zbar-tools) is installed, a
 * real QR decode of the PNG compared with the otpauth URI. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/util.h"
#include "identity/qr.h"
#include "identity/totp.h"

#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char uri[AG_IDENTITY_TOTP_URI_MAX];

static void make_uri(void)
{
    struct ag_identity_totp_params p = AG_IDENTITY_TOTP_DEFAULT;
    uint8_t secret[AG_IDENTITY_TOTP_SECRET_BYTES];
    assert_int_equal(ag_identity_totp_secret_new(secret), 0);
    assert_int_equal(ag_identity_totp_uri(&p, "Example Market", "alice@example.com", secret,
                                          sizeof secret, uri, sizeof uri, NULL), 0);
}

/* The 7x7 finder pattern with its top-left corner at (x0, y0). */
static void assert_finder(const struct ag_identity_qr *qr, int x0, int y0)
{
    for (int y = 0; y < 7; y++)
        for (int x = 0; x < 7; x++) {
            int ring = x == 0 || y == 0 || x == 6 || y == 6;
            int core = x >= 2 && x <= 4 && y >= 2 && y <= 4;
            assert_int_equal(qr->modules[(y0 + y) * qr->width + x0 + x], ring || core);
        }
}

static void matrix_structure(void **state)
{
    make_uri();
    struct ag_identity_qr qr;
    assert_int_equal(ag_identity_qr_encode(uri, &qr, NULL), 0);
    /* Versions 1..40 are 21..177 modules wide in steps of 4. */
    assert_true(qr.width >= 21 && qr.width <= 177 && (qr.width - 17) % 4 == 0);
    assert_finder(&qr, 0, 0);
    assert_finder(&qr, qr.width - 7, 0);
    assert_finder(&qr, 0, qr.width - 7);
    /* Timing pattern on row 6 alternates between the finders. */
    for (int x = 8; x < qr.width - 8; x++)
        assert_int_equal(qr.modules[6 * qr.width + x], x % 2 == 0);
    /* The bottom-right has no finder: it is data, so not all the pattern. */
    int same = 0;
    for (int y = 0; y < 7; y++)
        for (int x = 0; x < 7; x++)
            same += qr.modules[(qr.width - 7 + y) * qr.width + qr.width - 7 + x] ==
                    qr.modules[y * qr.width + x];
    assert_true(same < 49);
    ag_identity_qr_free(&qr);
    assert_null(qr.modules);
    ag_identity_qr_free(&qr); /* twice is harmless */

    struct ag_err err;
    assert_int_equal(ag_identity_qr_encode("", &qr, &err), AG_EINVAL);
    char *big = malloc(AG_IDENTITY_QR_TEXT_MAX + 2);
    memset(big, 'x', AG_IDENTITY_QR_TEXT_MAX + 1);
    big[AG_IDENTITY_QR_TEXT_MAX + 1] = '\0';
    assert_int_equal(ag_identity_qr_encode(big, &qr, &err), AG_ELIMIT);
    free(big);
}

static void svg_matches_matrix(void **state)
{
    make_uri();
    struct ag_identity_qr qr;
    assert_int_equal(ag_identity_qr_encode(uri, &qr, NULL), 0);
    char *svg;
    size_t len;
    assert_int_equal(ag_identity_qr_svg(uri, 6, &svg, &len, NULL), 0);
    assert_int_equal(strlen(svg), len);
    assert_int_equal(strncmp(svg, "<?xml", 5), 0);
    int size = qr.width + 2 * AG_IDENTITY_QR_QUIET;
    char want[128];
    snprintf(want, sizeof want, "viewBox=\"0 0 %d %d\" width=\"%d\" height=\"%d\"", size, size,
             size * 6, size * 6);
    assert_non_null(strstr(svg, want));
    assert_non_null(strstr(svg, "</svg>"));
    /* Paint the path's runs into a fresh matrix; it must equal the code. */
    uint8_t *painted = calloc((size_t)size * size, 1);
    const char *d = strstr(svg, " d=\"");
    assert_non_null(d);
    d += 4;
    int x, y, run, run2, used;
    while (sscanf(d, "M%d %dh%dv1h-%dz%n", &x, &y, &run, &run2, &used) == 4) {
        assert_int_equal(run, run2);
        for (int i = 0; i < run; i++) {
            assert_false(painted[y * size + x + i]); /* no overlaps */
            painted[y * size + x + i] = 1;
        }
        d += used;
    }
    assert_int_equal(*d, '"');
    for (int yy = 0; yy < size; yy++)
        for (int xx = 0; xx < size; xx++) {
            int mx = xx - AG_IDENTITY_QR_QUIET, my = yy - AG_IDENTITY_QR_QUIET;
            int want_dark = mx >= 0 && my >= 0 && mx < qr.width && my < qr.width &&
                            qr.modules[my * qr.width + mx];
            assert_int_equal(painted[yy * size + xx], want_dark);
        }
    free(painted);
    free(svg);
    ag_identity_qr_free(&qr);
    assert_int_equal(ag_identity_qr_svg(uri, 0, &svg, &len, NULL), AG_EINVAL);
    assert_null(svg);
}

static void png_matches_matrix(void **state)
{
    make_uri();
    struct ag_identity_qr qr;
    assert_int_equal(ag_identity_qr_encode(uri, &qr, NULL), 0);
    const unsigned scale = 4;
    uint8_t *png;
    size_t len;
    assert_int_equal(ag_identity_qr_png(uri, scale, &png, &len, NULL), 0);
    static const uint8_t sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    assert_true(len > 8 + 25);
    assert_memory_equal(png, sig, 8);
    /* IHDR: width and height are the matrix plus quiet zone, times scale. */
    unsigned px = (unsigned)(qr.width + 2 * AG_IDENTITY_QR_QUIET) * scale;
    assert_memory_equal(png + 12, "IHDR", 4);
    unsigned w = (unsigned)png[16] << 24 | png[17] << 16 | png[18] << 8 | png[19];
    unsigned h = (unsigned)png[20] << 24 | png[21] << 16 | png[22] << 8 | png[23];
    assert_int_equal(w, px);
    assert_int_equal(h, px);

    /* Decode with libpng's simplified API and compare every pixel. */
    png_image img;
    memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    assert_true(png_image_begin_read_from_memory(&img, png, len));
    img.format = PNG_FORMAT_GRAY;
    uint8_t *pix = malloc(PNG_IMAGE_SIZE(img));
    assert_true(png_image_finish_read(&img, NULL, pix, 0, NULL));
    for (unsigned yy = 0; yy < px; yy++)
        for (unsigned xx = 0; xx < px; xx++) {
            int mx = (int)(xx / scale) - AG_IDENTITY_QR_QUIET;
            int my = (int)(yy / scale) - AG_IDENTITY_QR_QUIET;
            int want_dark = mx >= 0 && my >= 0 && mx < qr.width && my < qr.width &&
                            qr.modules[my * qr.width + mx];
            assert_int_equal(pix[yy * px + xx], want_dark ? 0 : 255);
        }
    free(pix);
    png_image_free(&img);
    free(png);
    ag_identity_qr_free(&qr);
    assert_int_equal(ag_identity_qr_png(uri, 33, &png, &len, NULL), AG_EINVAL);
}

static void zbar_decodes_png(void **state)
{
    if (system("zbarimg --version >/dev/null 2>&1") != 0) {
        fprintf(stderr, "test_identity_qr: zbarimg not found (Debian zbar-tools); "
                        "the decode test is skipped\n");
        skip();
        return;
    }
    make_uri();
    uint8_t *png;
    size_t len;
    assert_int_equal(ag_identity_qr_png(uri, 4, &png, &len, NULL), 0);
    char path[] = "/tmp/ag_identity_qr_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, png, len), (ssize_t)len);
    close(fd);
    free(png);
    char cmd[256];
    snprintf(cmd, sizeof cmd, "zbarimg --raw -q '%s' 2>/dev/null", path);
    FILE *f = popen(cmd, "r");
    assert_non_null(f);
    char got[AG_IDENTITY_TOTP_URI_MAX + 8] = "";
    if (!fgets(got, sizeof got, f))
        got[0] = '\0';
    pclose(f);
    unlink(path);
    got[strcspn(got, "\n")] = '\0';
    assert_string_equal(got, uri);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(matrix_structure),
        cmocka_unit_test(svg_matches_matrix),
        cmocka_unit_test(png_matches_matrix),
        cmocka_unit_test(zbar_decodes_png),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
