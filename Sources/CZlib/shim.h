#include <zlib.h>

// deflateInit2 and inflateInit2 are macros over the versioned *_ functions, which Swift cannot
// import: these wrappers pass zlib's own version and stream size.

// gzip wrapper (windowBits 15 + 16), 32 KiB window, memLevel 9, default strategy.
static inline int lcb_deflate_init_gzip(z_streamp stream, int level) {
    return deflateInit2(stream, level, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY);
}

// Automatic gzip or zlib header detection (windowBits 15 + 32).
static inline int lcb_inflate_init_auto(z_streamp stream) {
    return inflateInit2(stream, 15 + 32);
}
