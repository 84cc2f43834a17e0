/*
 * src/plot/canvas.c — the RGBA canvas, its coverage mask, compositing and the
 * crisp pixel-aligned primitives used for frames, ticks and grid lines.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "plot/plot.h"

static uint8_t to_byte(float v) {
  if (!(v > 0.0f)) return 0;
  if (v >= 1.0f) return 255;
  return (uint8_t)lrintf(v * 255.0f);
}

cls_status cls_canvas_create(int width, int height, double dpi, cls_rgba bg, cls_canvas **out, char *err,
                             size_t err_len) {
  if (!out) {
    return cls_errf(err, err_len, CLS_ERR_NULL_ARGUMENT, "cls_canvas_create: out is NULL");
  }
  *out = NULL;
  /* 20000 px a side is far beyond any figure; the limit keeps the byte count
   * of the buffers well inside size_t and int arithmetic. */
  if (width < 1 || height < 1 || width > 20000 || height > 20000) {
    return cls_errf(err, err_len, CLS_ERR_INVALID_SIZE,
                    "canvas size %dx%d px is out of range: use 1..20000 px a side (check `width_in`, "
                    "`height_in` and `dpi`)",
                    width, height);
  }
  if (!(dpi > 0.0) || !isfinite(dpi)) {
    return cls_errf(err, err_len, CLS_ERR_INVALID_VALUE, "dpi must be a positive number");
  }
  cls_canvas *c = calloc(1, sizeof *c);
  size_t npx = (size_t)width * (size_t)height;
  if (c) {
    c->rgba = malloc(npx * 4);
    c->mask = calloc(npx, sizeof *c->mask);
    c->acc = calloc((size_t)(width + 2) * (size_t)height, sizeof *c->acc);
  }
  if (!c || !c->rgba || !c->mask || !c->acc) {
    cls_canvas_destroy(c);
    return cls_errf(err, err_len, CLS_ERR_OUT_OF_MEMORY,
                    "out of memory for a %dx%d canvas: use a smaller `width_in`, `height_in` or `dpi`", width,
                    height);
  }
  c->width = width;
  c->height = height;
  c->dpi = dpi;
  uint8_t px[4] = {to_byte(bg.r), to_byte(bg.g), to_byte(bg.b), to_byte(bg.a)};
  for (size_t i = 0; i < npx; i++) memcpy(c->rgba + 4 * i, px, 4);
  cls_canvas_reset_clip(c);
  c->mx0 = c->my0 = 0;
  c->mx1 = c->my1 = 0;
  *out = c;
  return CLS_OK;
}

void cls_canvas_destroy(cls_canvas *c) {
  if (!c) return;
  free(c->rgba);
  free(c->mask);
  free(c->acc);
  free(c);
}

static int clampi(int v, int lo, int hi) {
  return v < lo ? lo : v > hi ? hi : v;
}

void cls_canvas_set_clip(cls_canvas *c, int x0, int y0, int x1, int y1) {
  c->clip_x0 = clampi(x0, 0, c->width);
  c->clip_x1 = clampi(x1, c->clip_x0, c->width);
  c->clip_y0 = clampi(y0, 0, c->height);
  c->clip_y1 = clampi(y1, c->clip_y0, c->height);
}

void cls_canvas_reset_clip(cls_canvas *c) {
  cls_canvas_set_clip(c, 0, 0, c->width, c->height);
}

cls_rgba cls_canvas_get(const cls_canvas *c, int x, int y) {
  cls_rgba out = {0, 0, 0, 0};
  if (!c || x < 0 || y < 0 || x >= c->width || y >= c->height) return out;
  const uint8_t *p = c->rgba + 4 * ((size_t)y * (size_t)c->width + (size_t)x);
  out.r = p[0] / 255.0f;
  out.g = p[1] / 255.0f;
  out.b = p[2] / 255.0f;
  out.a = p[3] / 255.0f;
  return out;
}

/* Straight-alpha "over" of color with coverage a onto one pixel. */
static void blend(uint8_t *p, cls_rgba color, float a) {
  float sa = color.a * a;
  if (!(sa > 0.0f)) return;
  float da = p[3] / 255.0f;
  float oa = sa + da * (1.0f - sa);
  float k = da * (1.0f - sa);
  p[0] = to_byte((color.r * sa + p[0] / 255.0f * k) / oa);
  p[1] = to_byte((color.g * sa + p[1] / 255.0f * k) / oa);
  p[2] = to_byte((color.b * sa + p[2] / 255.0f * k) / oa);
  p[3] = to_byte(oa);
}

static void fill_px_rect(cls_canvas *c, int x0, int y0, int x1, int y1, cls_rgba color) {
  x0 = clampi(x0, c->clip_x0, c->clip_x1);
  x1 = clampi(x1, c->clip_x0, c->clip_x1);
  y0 = clampi(y0, c->clip_y0, c->clip_y1);
  y1 = clampi(y1, c->clip_y0, c->clip_y1);
  for (int y = y0; y < y1; y++)
    for (int x = x0; x < x1; x++) blend(c->rgba + 4 * ((size_t)y * (size_t)c->width + (size_t)x), color, 1.0f);
}

static int crisp_width(double w) {
  long r = lround(w);
  return r < 1 ? 1 : (int)r;
}

int cls_crisp_first_pixel(double v, double width_px) {
  int w = crisp_width(width_px);
  return (int)floor(v - w / 2.0 + 0.5);
}

void cls_canvas_fill_rect_crisp(cls_canvas *c, double x0, double y0, double x1, double y1, cls_rgba color) {
  if (!c) return;
  fill_px_rect(c, (int)lround(fmin(x0, x1)), (int)lround(fmin(y0, y1)), (int)lround(fmax(x0, x1)),
               (int)lround(fmax(y0, y1)), color);
}

void cls_canvas_hline_crisp(cls_canvas *c, double x0, double x1, double y, double width_px, cls_rgba color) {
  if (!c || !isfinite(x0) || !isfinite(x1) || !isfinite(y)) return;
  int top = cls_crisp_first_pixel(y, width_px);
  fill_px_rect(c, (int)lround(fmin(x0, x1)), top, (int)lround(fmax(x0, x1)), top + crisp_width(width_px), color);
}

void cls_canvas_vline_crisp(cls_canvas *c, double x, double y0, double y1, double width_px, cls_rgba color) {
  if (!c || !isfinite(x) || !isfinite(y0) || !isfinite(y1)) return;
  int left = cls_crisp_first_pixel(x, width_px);
  fill_px_rect(c, left, (int)lround(fmin(y0, y1)), left + crisp_width(width_px), (int)lround(fmax(y0, y1)), color);
}

/* ------------------------------------------------------------------- mask */

static void grow_mask_box(cls_canvas *c, int x0, int y0, int x1, int y1) {
  if (c->mx0 >= c->mx1 || c->my0 >= c->my1) {
    c->mx0 = x0, c->my0 = y0, c->mx1 = x1, c->my1 = y1;
    return;
  }
  if (x0 < c->mx0) c->mx0 = x0;
  if (y0 < c->my0) c->my0 = y0;
  if (x1 > c->mx1) c->mx1 = x1;
  if (y1 > c->my1) c->my1 = y1;
}

/* Pixel box [x0,x1)×[y0,y1) covering the real box, clipped; false if empty. */
static bool pixel_box(const cls_canvas *c, double fx0, double fy0, double fx1, double fy1, int *x0, int *y0,
                      int *x1, int *y1) {
  if (!isfinite(fx0) || !isfinite(fy0) || !isfinite(fx1) || !isfinite(fy1)) return false;
  double lo_x = fmax(floor(fx0), c->clip_x0), hi_x = fmin(ceil(fx1), c->clip_x1);
  double lo_y = fmax(floor(fy0), c->clip_y0), hi_y = fmin(ceil(fy1), c->clip_y1);
  if (lo_x >= hi_x || lo_y >= hi_y) return false;
  *x0 = (int)lo_x, *x1 = (int)hi_x, *y0 = (int)lo_y, *y1 = (int)hi_y;
  return true;
}

void cls_mask_segment(cls_canvas *c, double x0, double y0, double x1, double y1, double width) {
  if (!c || !(width > 0.0)) return;
  double dx = x1 - x0, dy = y1 - y0, len = hypot(dx, dy);
  if (!(len > 1e-12)) return;
  /* A rectangle filled with exact area coverage: the ink of a line is its
   * area at every angle and width, even under one pixel. */
  double nx = -dy / len * width * 0.5, ny = dx / len * width * 0.5;
  double q[8] = {x0 + nx, y0 + ny, x1 + nx, y1 + ny, x1 - nx, y1 - ny, x0 - nx, y0 - ny};
  cls_mask_polygon(c, q, 4);
}

void cls_mask_capsule(cls_canvas *c, double x0, double y0, double x1, double y1, double width) {
  if (!c || !(width > 0.0)) return;
  cls_mask_segment(c, x0, y0, x1, y1, width);
  cls_mask_disc(c, x0, y0, 0.5 * width);
  if (x1 != x0 || y1 != y0) cls_mask_disc(c, x1, y1, 0.5 * width);
}

void cls_mask_disc(cls_canvas *c, double cx, double cy, double radius) {
  if (!c || !(radius > 0.0)) return;
  int px0, py0, px1, py1;
  if (!pixel_box(c, cx - radius - 1, cy - radius - 1, cx + radius + 1, cy + radius + 1, &px0, &py0, &px1, &py1))
    return;
  for (int y = py0; y < py1; y++) {
    float *row = c->mask + (size_t)y * (size_t)c->width;
    for (int x = px0; x < px1; x++) {
      double dx = x + 0.5 - cx, dy = y + 0.5 - cy, d = sqrt(dx * dx + dy * dy);
      float cov;
      if (d <= radius - 0.75)
        cov = 1.0f;
      else if (d >= radius + 0.75)
        cov = 0.0f;
      else { /* rim: 8×8 supersampling gives the area to within 1/64 */
        int in = 0;
        for (int sy = 0; sy < 8; sy++)
          for (int sx = 0; sx < 8; sx++) {
            double qx = x + (sx + 0.5) / 8.0 - cx, qy = y + (sy + 0.5) / 8.0 - cy;
            in += qx * qx + qy * qy <= radius * radius;
          }
        cov = (float)in / 64.0f;
      }
      if (cov > row[x]) row[x] = cov;
    }
  }
  grow_mask_box(c, px0, py0, px1, py1);
}

void cls_mask_composite(cls_canvas *c, cls_rgba color) {
  if (!c || c->mx0 >= c->mx1 || c->my0 >= c->my1) return;
  for (int y = c->my0; y < c->my1; y++) {
    float *row = c->mask + (size_t)y * (size_t)c->width;
    uint8_t *px = c->rgba + 4 * (size_t)y * (size_t)c->width;
    for (int x = c->mx0; x < c->mx1; x++) {
      if (row[x] > 0.0f) blend(px + 4 * x, color, row[x]);
      row[x] = 0.0f;
    }
  }
  c->mx0 = c->mx1 = c->my0 = c->my1 = 0;
}

void cls_mask_clear(cls_canvas *c) {
  if (!c || c->mx0 >= c->mx1) return;
  for (int y = c->my0; y < c->my1; y++)
    memset(c->mask + (size_t)y * (size_t)c->width + c->mx0, 0, (size_t)(c->mx1 - c->mx0) * sizeof(float));
  c->mx0 = c->mx1 = c->my0 = c->my1 = 0;
}

double cls_mask_sum(const cls_canvas *c) {
  double s = 0.0;
  if (!c) return 0.0;
  for (int y = c->my0; y < c->my1; y++)
    for (int x = c->mx0; x < c->mx1; x++) s += c->mask[(size_t)y * (size_t)c->width + (size_t)x];
  return s;
}
