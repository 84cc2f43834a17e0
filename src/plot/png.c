/*
 * src/plot/png.c — writes a canvas to PNG through libpng: 8-bit RGB or RGBA,
 * pHYs carrying the DPI, no tIME chunk (so equal pixels give equal files),
 * written to a temporary file beside the target and renamed over it, so a
 * crash never leaves a truncated figure behind.
 */
#include <errno.h>
#include <math.h>
#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/err.h"
#include "plot/plot.h"

typedef struct {
  char *err;
  size_t err_len;
} png_err_ctx;

static void on_png_error(png_structp png, png_const_charp msg) {
  png_err_ctx *ctx = png_get_error_ptr(png);
  cls_errf(ctx->err, ctx->err_len, CLS_ERR_IO, "libpng: %s", msg);
  png_longjmp(png, 1);
}

static void on_png_warning(png_structp png, png_const_charp msg) {
  (void)png;
  (void)msg; /* warnings do not change the pixels we write */
}

/* Everything libpng touches after setjmp lives here, so longjmp cannot
 * leave a stale copy in a register. */
typedef struct {
  FILE *f;
  png_structp png;
  png_infop info;
  uint8_t *row;
} png_job;

static int write_rows(png_job *job, const cls_canvas *c, bool alpha, png_err_ctx *ectx) {
  if (setjmp(png_jmpbuf(job->png))) return -1;
  (void)ectx;
  png_init_io(job->png, job->f);
  png_set_IHDR(job->png, job->info, (png_uint_32)c->width, (png_uint_32)c->height, 8,
               alpha ? PNG_COLOR_TYPE_RGB_ALPHA : PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
               PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_uint_32 ppm = (png_uint_32)lround(c->dpi / 0.0254);
  png_set_pHYs(job->png, job->info, ppm, ppm, PNG_RESOLUTION_METER);
  png_write_info(job->png, job->info);
  for (int y = 0; y < c->height; y++) {
    const uint8_t *src = c->rgba + 4 * (size_t)y * (size_t)c->width;
    if (alpha) {
      memcpy(job->row, src, 4 * (size_t)c->width);
    } else { /* composite on white */
      for (int x = 0; x < c->width; x++) {
        unsigned a = src[4 * x + 3];
        for (int k = 0; k < 3; k++)
          job->row[3 * x + k] = (uint8_t)((src[4 * x + k] * a + 255u * (255u - a) + 127u) / 255u);
      }
    }
    png_write_row(job->png, job->row);
  }
  png_write_end(job->png, NULL);
  return 0;
}

cls_status cls_png_write(const cls_canvas *c, const char *path, bool alpha, char *err, size_t err_len) {
  if (!c || !path) {
    return cls_errf(err, err_len, CLS_ERR_NULL_ARGUMENT, "cls_png_write: canvas or path is NULL");
  }
  size_t plen = strlen(path);
  char *tmp = malloc(plen + 16);
  if (!tmp) {
    return cls_errf(err, err_len, CLS_ERR_OUT_OF_MEMORY, "out of memory writing %s", path);
  }
  snprintf(tmp, plen + 16, "%s.tmp.XXXXXX", path);
  int fd = mkstemp(tmp);
  if (fd < 0) {
    cls_errf(err, err_len, CLS_ERR_IO, "cannot create %s: %s; choose a writable `out_dir`", path, strerror(errno));
    free(tmp);
    return CLS_ERR_IO;
  }
  /* mkstemp makes the file private (0600); a figure is meant to be shared. */
  (void)fchmod(fd, 0644);
  png_job job = {0};
  png_err_ctx ectx = {err, err_len};
  cls_status st = CLS_OK;
  job.f = fdopen(fd, "wb");
  job.row = malloc(4 * (size_t)c->width);
  if (job.f) job.png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &ectx, on_png_error, on_png_warning);
  if (job.png) job.info = png_create_info_struct(job.png);
  if (!job.f || !job.row || !job.png || !job.info) {
    cls_errf(err, err_len, CLS_ERR_IO, "cannot start writing %s: out of memory or file error", path);
    st = CLS_ERR_IO;
  } else if (write_rows(&job, c, alpha, &ectx)) {
    st = CLS_ERR_IO; /* message set by on_png_error */
  }
  if (job.png) png_destroy_write_struct(&job.png, job.info ? &job.info : NULL);
  if (job.f) {
    if (fflush(job.f) != 0 && st == CLS_OK) {
      cls_errf(err, err_len, CLS_ERR_IO, "cannot write %s: %s (disk full?)", path, strerror(errno));
      st = CLS_ERR_IO;
    }
    if (fclose(job.f) != 0 && st == CLS_OK) {
      cls_errf(err, err_len, CLS_ERR_IO, "cannot write %s: %s", path, strerror(errno));
      st = CLS_ERR_IO;
    }
  } else {
    close(fd);
  }
  if (st == CLS_OK && rename(tmp, path) != 0) {
    cls_errf(err, err_len, CLS_ERR_IO, "cannot rename %s to %s: %s", tmp, path, strerror(errno));
    st = CLS_ERR_IO;
  }
  if (st != CLS_OK) remove(tmp);
  free(job.row);
  free(tmp);
  return st;
}
