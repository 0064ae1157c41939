#ifndef MARQUEE_CPNG_SHIM_H
#define MARQUEE_CPNG_SHIM_H
#include <png.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

// libpng reports errors by longjmp; Swift cannot catch that, so whole-image reads and
// writes run here in C with a setjmp guard and return an error string instead.

typedef struct cpng_image {
    uint32_t width, height, channels; // channels is 3 (RGB) or 4 (RGBA)
    uint8_t *pixels;                  // width*height*channels, row-major, malloc'd
} cpng_image;

static void cpng_error_fn(png_structp png, png_const_charp msg) {
    char *buf = (char *)png_get_error_ptr(png);
    if (buf) { strncpy(buf, msg, 255); buf[255] = 0; }
    png_longjmp(png, 1);
}
static void cpng_warning_fn(png_structp png, png_const_charp msg) { (void)png; (void)msg; }

// Reads any PNG as 8-bit RGB or RGBA (palette, grey and 16-bit are expanded/stripped).
// Returns 0 on success; on failure fills err (256 bytes) and returns -1.
static inline int cpng_read(const char *path, cpng_image *out, char *err) {
    memset(out, 0, sizeof *out);
    err[0] = 0;
    FILE *fp = fopen(path, "rb");
    if (!fp) { strcpy(err, "cannot open file"); return -1; }
    unsigned char sig[8];
    if (fread(sig, 1, 8, fp) != 8 || png_sig_cmp(sig, 0, 8)) { fclose(fp); strcpy(err, "not a PNG file"); return -1; }
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, err, cpng_error_fn, cpng_warning_fn);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!png || !info) { fclose(fp); strcpy(err, "out of memory"); return -1; }
    uint8_t *volatile pixels = NULL;
    png_bytep *volatile rows = NULL;
    if (setjmp(png_jmpbuf(png))) {
        free(pixels); free(rows);
        png_destroy_read_struct(&png, &info, NULL);
        fclose(fp);
        if (!err[0]) strcpy(err, "corrupt PNG data");
        return -1;
    }
    png_init_io(png, fp);
    png_set_sig_bytes(png, 8);
    png_read_info(png, info);
    png_byte color = png_get_color_type(png, info);
    png_byte depth = png_get_bit_depth(png, info);
    if (depth == 16) png_set_strip_16(png);
    if (color == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
    if (color == PNG_COLOR_TYPE_GRAY && depth < 8) png_set_expand_gray_1_2_4_to_8(png);
    if (png_get_valid(png, info, PNG_INFO_tRNS)) png_set_tRNS_to_alpha(png);
    if (color == PNG_COLOR_TYPE_GRAY || color == PNG_COLOR_TYPE_GRAY_ALPHA) png_set_gray_to_rgb(png);
    png_read_update_info(png, info);
    uint32_t w = png_get_image_width(png, info), h = png_get_image_height(png, info);
    uint32_t ch = png_get_channels(png, info);
    if (ch != 3 && ch != 4) { strcpy(err, "unsupported channel count"); png_longjmp(png, 1); }
    size_t stride = (size_t)w * ch;
    pixels = (uint8_t *)malloc(stride * h);
    rows = (png_bytep *)malloc(sizeof(png_bytep) * h);
    if (!pixels || !rows) { strcpy(err, "out of memory"); png_longjmp(png, 1); }
    for (uint32_t y = 0; y < h; y++) rows[y] = pixels + y * stride;
    png_read_image(png, rows);
    png_read_end(png, NULL);
    free(rows);
    png_destroy_read_struct(&png, &info, NULL);
    fclose(fp);
    out->width = w; out->height = h; out->channels = ch; out->pixels = pixels;
    return 0;
}

// Writes 8-bit RGB (channels 3) or RGBA (channels 4). Returns 0, or -1 with err filled.
static inline int cpng_write(const char *path, const uint8_t *pixels, uint32_t w, uint32_t h,
                             uint32_t channels, char *err) {
    err[0] = 0;
    FILE *fp = fopen(path, "wb");
    if (!fp) { strcpy(err, "cannot create file"); return -1; }
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, err, cpng_error_fn, cpng_warning_fn);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!png || !info) { fclose(fp); strcpy(err, "out of memory"); return -1; }
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        fclose(fp);
        if (!err[0]) strcpy(err, "PNG write failed");
        return -1;
    }
    png_init_io(png, fp);
    // Sub and Up filters at zlib level 4: 2-3x faster than libpng's defaults (all five
    // filters tried per row, level 6) on 1080p video frames, at about the same file size.
    png_set_filter(png, PNG_FILTER_TYPE_BASE, PNG_FILTER_SUB | PNG_FILTER_UP);
    png_set_compression_level(png, 4);
    png_set_IHDR(png, info, w, h, 8, channels == 4 ? PNG_COLOR_TYPE_RGBA : PNG_COLOR_TYPE_RGB,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    for (uint32_t y = 0; y < h; y++) png_write_row(png, (png_const_bytep)(pixels + (size_t)y * w * channels));
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    if (fclose(fp) != 0) { strcpy(err, "cannot finish writing file"); return -1; }
    return 0;
}

static inline void cpng_free(cpng_image *img) { free(img->pixels); img->pixels = NULL; }

#endif
