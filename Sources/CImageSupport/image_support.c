// PNG and JPEG decoding behind a longjmp-free interface (see include/CImageSupport.h).
//
// libpng and libjpeg abort a decode by longjmp from their error callbacks. Everything that must
// survive the jump (buffers to free, flags set by callbacks) lives in a heap context whose
// address does not change after setjmp, so nothing depends on the values of local variables.

#include "CImageSupport.h"

#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <png.h>
#include <jpeglib.h>
#include <jerror.h>

static void set_message(char *message, const char *text) {
    snprintf(message, sizeof(((lcb_image *)0)->message), "%s", text);
}

void lcb_image_release(lcb_image *image) {
    if (image == NULL) return;
    free(image->pixels);
    image->pixels = NULL;
}

// MARK: - PNG

typedef struct {
    const uint8_t *data;
    size_t size;
    size_t offset;
    int truncated;
    char *message;
    uint8_t *pixels;
    uint8_t *wide_rows;  // 16-bit gray samples before clamping
    png_bytep *rows;
} png_context;

static void png_read_from_memory(png_structp png, png_bytep dest, size_t length) {
    png_context *context = (png_context *)png_get_io_ptr(png);
    if (length > context->size - context->offset) {
        context->truncated = 1;
        png_error(png, "the file ends before the image does");
    }
    memcpy(dest, context->data + context->offset, length);
    context->offset += length;
}

static void png_fail(png_structp png, png_const_charp text) {
    png_context *context = (png_context *)png_get_error_ptr(png);
    set_message(context->message, text);
    png_longjmp(png, 1);
}

static void png_ignore_warning(png_structp png, png_const_charp text) {
    // Warnings (bad ancillary chunks, unknown profiles) do not stop Pillow either.
    (void)png;
    (void)text;
}

lcb_decode_status lcb_png_decode(const uint8_t *data, size_t size, uint64_t max_pixels, lcb_image *out) {
    memset(out, 0, sizeof *out);
    png_context *context = (png_context *)calloc(1, sizeof *context);
    if (context == NULL) {
        set_message(out->message, "out of memory");
        return LCB_DECODE_NO_MEMORY;
    }
    context->data = data;
    context->size = size;
    context->message = out->message;

    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, context, png_fail, png_ignore_warning);
    png_infop info = png != NULL ? png_create_info_struct(png) : NULL;
    if (info == NULL) {
        png_destroy_read_struct(png != NULL ? &png : NULL, NULL, NULL);
        free(context);
        set_message(out->message, "out of memory");
        return LCB_DECODE_NO_MEMORY;
    }

    if (setjmp(png_jmpbuf(png))) {
        lcb_decode_status status = context->truncated ? LCB_DECODE_TRUNCATED : LCB_DECODE_CORRUPT;
        png_destroy_read_struct(&png, &info, NULL);
        free(context->rows);
        free(context->wide_rows);
        free(context->pixels);
        free(context);
        out->pixels = NULL;
        return status;
    }

    png_set_read_fn(png, context, png_read_from_memory);
    png_read_info(png, info);

    png_uint_32 width = 0, height = 0;
    int bit_depth = 0, color_type = 0, interlace = 0;
    png_get_IHDR(png, info, &width, &height, &bit_depth, &color_type, &interlace, NULL, NULL);
    out->source_bit_depth = (uint32_t)bit_depth;
    if ((uint64_t)width * (uint64_t)height > max_pixels) {
        snprintf(out->message, sizeof out->message, "%u x %u pixels is more than the limit of %llu",
                 (unsigned)width, (unsigned)height, (unsigned long long)max_pixels);
        png_destroy_read_struct(&png, &info, NULL);
        free(context);
        return LCB_DECODE_TOO_LARGE;
    }

    // Pillow opens 16-bit gray as mode I;16, whose conversion to RGB clamps each value to 255
    // instead of scaling it; every other 16-bit layout keeps the high byte.
    const int clamp_wide_gray = color_type == PNG_COLOR_TYPE_GRAY && bit_depth == 16;
    // A tRNS colour key (gray or RGB images): Pillow compares the *converted* samples (gray
    // scaled to 8 bits, RGB cut to its high byte, 16-bit gray as is) with the key's raw number,
    // so keys only take effect where those agree. Done by hand below, not by libpng, which
    // compares at the file's bit depth.
    png_color_16p key = NULL;
    const int has_key = color_type != PNG_COLOR_TYPE_PALETTE && png_get_valid(png, info, PNG_INFO_tRNS)
        && png_get_tRNS(png, info, NULL, NULL, &key) != 0 && key != NULL;
    if (color_type == PNG_COLOR_TYPE_PALETTE) {
        png_set_palette_to_rgb(png);
        if (png_get_valid(png, info, PNG_INFO_tRNS)) png_set_tRNS_to_alpha(png);
    }
    if (color_type == PNG_COLOR_TYPE_GRAY && bit_depth < 8) png_set_expand_gray_1_2_4_to_8(png);
    if (bit_depth == 16 && !clamp_wide_gray) png_set_strip_16(png);
    if (!clamp_wide_gray && (color_type == PNG_COLOR_TYPE_GRAY || color_type == PNG_COLOR_TYPE_GRAY_ALPHA)) {
        png_set_gray_to_rgb(png);
    }
    png_set_interlace_handling(png);
    png_read_update_info(png, info);

    const size_t channels = png_get_channels(png, info);
    const size_t row_bytes = png_get_rowbytes(png, info);
    if (clamp_wide_gray ? channels != 1 : (channels != 3 && channels != 4)) {
        png_error(png, "unexpected channel count after conversion");
    }
    if (has_key && !clamp_wide_gray && channels != 3) png_error(png, "tRNS key on an image with alpha");
    // Rows go straight into the output unless they need a pass afterwards (clamping, keying).
    const int needs_pass = clamp_wide_gray || has_key;
    const size_t out_channels = has_key ? 4 : (clamp_wide_gray ? 1 : channels);
    context->pixels = (uint8_t *)malloc((size_t)width * height * out_channels + 1);
    context->rows = (png_bytep *)malloc(sizeof(png_bytep) * (height + 1));
    if (needs_pass) context->wide_rows = (uint8_t *)malloc(row_bytes * height + 1);
    if (context->pixels == NULL || context->rows == NULL || (needs_pass && context->wide_rows == NULL)) {
        png_error(png, "out of memory");
    }
    uint8_t *target = needs_pass ? context->wide_rows : context->pixels;
    for (png_uint_32 y = 0; y < height; y++) context->rows[y] = target + (size_t)y * row_bytes;
    png_read_image(png, context->rows);

    const size_t count = (size_t)width * height;
    if (clamp_wide_gray) {
        for (size_t i = 0; i < count; i++) {
            const unsigned value = ((unsigned)context->wide_rows[2 * i] << 8) | context->wide_rows[2 * i + 1];
            const uint8_t clamped = (uint8_t)(value > 255 ? 255 : value);
            if (has_key) {
                uint8_t *pixel = context->pixels + 4 * i;
                pixel[0] = pixel[1] = pixel[2] = clamped;
                pixel[3] = value == key->gray ? 0 : 255;
            } else {
                context->pixels[i] = clamped;
            }
        }
    } else if (has_key) {
        const int gray = color_type == PNG_COLOR_TYPE_GRAY;
        for (size_t i = 0; i < count; i++) {
            const uint8_t *sample = context->wide_rows + 3 * i;
            uint8_t *pixel = context->pixels + 4 * i;
            pixel[0] = sample[0];
            pixel[1] = sample[1];
            pixel[2] = sample[2];
            const int keyed = gray ? sample[0] == key->gray
                                   : (sample[0] == key->red && sample[1] == key->green && sample[2] == key->blue);
            pixel[3] = keyed ? 0 : 255;
        }
    }

    out->pixels = context->pixels;
    out->width = width;
    out->height = height;
    out->layout = out_channels == 4 ? LCB_PIXELS_RGBA : (out_channels == 1 ? LCB_PIXELS_GRAY : LCB_PIXELS_RGB);
    png_destroy_read_struct(&png, &info, NULL);
    free(context->rows);
    free(context->wide_rows);
    free(context);
    return LCB_DECODE_OK;
}

// MARK: - JPEG

typedef struct {
    struct jpeg_error_mgr manager;  // first, so libjpeg's error pointer is also ours
    struct jpeg_decompress_struct info;
    jmp_buf jump;
    int reached_end_of_data;
    char *message;
    uint8_t *pixels;
} jpeg_context;

static void jpeg_fail(j_common_ptr info) {
    jpeg_context *context = (jpeg_context *)info->err;
    char text[JMSG_LENGTH_MAX];
    (*info->err->format_message)(info, text);
    set_message(context->message, text);
    longjmp(context->jump, 1);
}

static void jpeg_note(j_common_ptr info, int level) {
    // Warnings about corrupt entropy data are tolerated, as Pillow tolerates them; running out
    // of data is not (Pillow reports "image file is truncated").
    if (level < 0) {
        jpeg_context *context = (jpeg_context *)info->err;
        if (info->err->msg_code == JWRN_JPEG_EOF) context->reached_end_of_data = 1;
        info->err->num_warnings++;
    }
}

lcb_decode_status lcb_jpeg_decode(const uint8_t *data, size_t size, uint64_t max_pixels, lcb_image *out) {
    memset(out, 0, sizeof *out);
    jpeg_context *context = (jpeg_context *)calloc(1, sizeof *context);
    if (context == NULL) {
        set_message(out->message, "out of memory");
        return LCB_DECODE_NO_MEMORY;
    }
    context->message = out->message;
    context->info.err = jpeg_std_error(&context->manager);
    context->manager.error_exit = jpeg_fail;
    context->manager.emit_message = jpeg_note;

    if (setjmp(context->jump)) {
        lcb_decode_status status = context->reached_end_of_data ? LCB_DECODE_TRUNCATED : LCB_DECODE_CORRUPT;
        jpeg_destroy_decompress(&context->info);
        free(context->pixels);
        free(context);
        out->pixels = NULL;
        return status;
    }

    jpeg_create_decompress(&context->info);
    if (size == 0) {
        set_message(out->message, "the file is empty");
        jpeg_destroy_decompress(&context->info);
        free(context);
        return LCB_DECODE_TRUNCATED;
    }
    jpeg_mem_src(&context->info, data, (unsigned long)size);
    jpeg_read_header(&context->info, TRUE);

    const uint32_t width = context->info.image_width, height = context->info.image_height;
    if ((uint64_t)width * (uint64_t)height > max_pixels) {
        snprintf(out->message, sizeof out->message, "%u x %u pixels is more than the limit of %llu",
                 (unsigned)width, (unsigned)height, (unsigned long long)max_pixels);
        jpeg_destroy_decompress(&context->info);
        free(context);
        return LCB_DECODE_TOO_LARGE;
    }
    out->source_bit_depth = (uint32_t)context->info.data_precision;

    lcb_pixel_layout layout;
    switch (context->info.jpeg_color_space) {
    case JCS_GRAYSCALE:
        context->info.out_color_space = JCS_GRAYSCALE;
        layout = LCB_PIXELS_GRAY;
        break;
    case JCS_CMYK:
    case JCS_YCCK:
        context->info.out_color_space = JCS_CMYK;
        layout = LCB_PIXELS_CMYK_INVERTED;
        break;
    default:
        context->info.out_color_space = JCS_RGB;
        layout = LCB_PIXELS_RGB;
        break;
    }
    // libjpeg's defaults (JDCT_ISLOW, fancy upsampling, no scaling) are what Pillow uses.
    jpeg_start_decompress(&context->info);

    const size_t components = (size_t)context->info.output_components;
    const size_t expected = layout == LCB_PIXELS_GRAY ? 1 : (layout == LCB_PIXELS_RGB ? 3 : 4);
    if (components != expected) {
        snprintf(out->message, sizeof out->message, "libjpeg produced %zu components where %zu were expected",
                 components, expected);
        longjmp(context->jump, 1);
    }
    const size_t row_bytes = (size_t)context->info.output_width * components;
    context->pixels = (uint8_t *)malloc(row_bytes * context->info.output_height + 1);
    if (context->pixels == NULL) {
        set_message(out->message, "out of memory");
        longjmp(context->jump, 1);
    }
    while (context->info.output_scanline < context->info.output_height) {
        JSAMPROW row = context->pixels + (size_t)context->info.output_scanline * row_bytes;
        jpeg_read_scanlines(&context->info, &row, 1);
    }
    jpeg_finish_decompress(&context->info);

    if (context->reached_end_of_data) {
        set_message(out->message, "the file ends before the image does");
        jpeg_destroy_decompress(&context->info);
        free(context->pixels);
        free(context);
        return LCB_DECODE_TRUNCATED;
    }

    out->pixels = context->pixels;
    out->width = context->info.output_width;
    out->height = context->info.output_height;
    out->layout = layout;
    jpeg_destroy_decompress(&context->info);
    free(context);
    return LCB_DECODE_OK;
}
