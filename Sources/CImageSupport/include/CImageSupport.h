#ifndef LCB_CIMAGESUPPORT_H
#define LCB_CIMAGESUPPORT_H

// PNG and JPEG decoding with libpng and libjpeg(-turbo), wrapped so that Swift never has to
// deal with their error handling: both libraries report fatal errors by longjmp, which Swift
// cannot catch, so every setjmp lives in image_support.c and errors come back as a status code
// plus a message.

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// How the samples of a decoded image are laid out (interleaved, 8 bits each).
typedef enum {
    LCB_PIXELS_GRAY = 1,     ///< one sample per pixel
    LCB_PIXELS_RGB = 3,      ///< R, G, B
    LCB_PIXELS_RGBA = 4,     ///< R, G, B, straight (not premultiplied) alpha
    LCB_PIXELS_CMYK_INVERTED = 5, ///< C, M, Y, K as stored by Adobe applications (255 = no ink)
} lcb_pixel_layout;

/// Outcome of a decode call.
typedef enum {
    LCB_DECODE_OK = 0,
    LCB_DECODE_CORRUPT = 1,    ///< the library rejected the data; `message` says why
    LCB_DECODE_TRUNCATED = 2,  ///< the data ended before the image did
    LCB_DECODE_TOO_LARGE = 3,  ///< more pixels than `max_pixels`
    LCB_DECODE_NO_MEMORY = 4,
} lcb_decode_status;

/// A decoded image; `pixels` is malloc'd and released with `lcb_image_release`.
typedef struct {
    uint8_t *pixels;
    uint32_t width;
    uint32_t height;
    lcb_pixel_layout layout;
    /// Bits per sample in the file (1, 2, 4, 8 or 16), for diagnostics.
    uint32_t source_bit_depth;
    /// The library's own words when decoding failed (NUL-terminated).
    char message[256];
} lcb_image;

/// Decodes a PNG held in memory.
///
/// Output follows Pillow's reading of PNG files: palette and low-bit-depth gray expand to 8 bits,
/// 16-bit colour and gray+alpha keep the high byte, 16-bit gray (no alpha) is clamped to 255 as
/// Pillow's I;16 → L conversion does. Palette tRNS becomes alpha; a gray or RGB tRNS key makes
/// alpha 0 where the converted samples equal the key's raw value, as Pillow compares them.
/// No gamma is applied.
lcb_decode_status lcb_png_decode(const uint8_t *data, size_t size, uint64_t max_pixels, lcb_image *out);

/// Decodes a JPEG (baseline or progressive) held in memory with libjpeg's default (ISLOW) DCT
/// and fancy upsampling, as Pillow does. YCbCr and RGB come back as RGB, grayscale as gray,
/// CMYK and YCCK as inverted CMYK (Adobe's convention, which Pillow assumes for all CMYK JPEGs).
lcb_decode_status lcb_jpeg_decode(const uint8_t *data, size_t size, uint64_t max_pixels, lcb_image *out);

/// Frees the pixels of an image filled by a decode call (safe on a failed or zeroed image).
void lcb_image_release(lcb_image *image);

#ifdef __cplusplus
}
#endif

#endif
