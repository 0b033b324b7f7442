/* The console's built web assets (web/, bundled by esbuild at build time),
 * embedded into the binary by a C file the build generates
 * (web/console.cmake), so `serve` shows the console from any directory.
 * Asset names carry a content hash: they are cached for a year; index.html
 * is revalidated on every load. */
#ifndef AG_CONSOLE_ASSETS_H
#define AG_CONSOLE_ASSETS_H

#include <stdbool.h>
#include <stddef.h>

struct ag_console_asset {
    const char *path;         /* "index.html", "assets/main-3FQ2K7.js", ... */
    const char *content_type;
    const unsigned char *data;
    size_t len;
    bool immutable;           /* name carries a content hash */
};

extern const struct ag_console_asset ag_console_assets[];
extern const int ag_console_assets_count;

/* The asset at <path> (relative to the console's root), or NULL. */
const struct ag_console_asset *ag_console_asset_find(const char *path);

#endif
