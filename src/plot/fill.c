/*
 * src/plot/fill.c — exact-area anti-aliased polygon filling.
 *
 * Each edge adds its signed area to an accumulation buffer (the method of
 * Raph Levien's font-rs); a running sum along each row then gives every pixel
 * its exact covered area, with non-zero winding. Edges are split where they
 * leave the canvas and the outside pieces are pressed onto the border, which
 * keeps the winding inside the canvas correct.
 */
#include <math.h>
#include <string.h>

#include "plot/plot.h"

typedef struct {
  int y0, y1; /* rows touched, [y0,y1) */
  int x0, x1; /* accumulation cells touched, [x0,x1) */
} acc_rows;

static void acc_line(cls_canvas *c, acc_rows *rows, double x0, double y0, double x1, double y1) {
  if (fabs(y0 - y1) <= 1e-12) return;
  const int W = c->width + 2;
  double dir = 1.0;
  if (y0 > y1) {
    double t = x0;
    x0 = x1, x1 = t;
    t = y0, y0 = y1, y1 = t;
    dir = -1.0;
  }
  double dxdy = (x1 - x0) / (y1 - y0);
  double x = x0;
  int ystart = (int)floor(y0), yend = (int)ceil(y1);
  if (ystart < 0) ystart = 0;
  if (yend > c->height) yend = c->height;
  if (ystart < rows->y0) rows->y0 = ystart;
  if (yend > rows->y1) rows->y1 = yend;
  for (int y = ystart; y < yend; y++) {
    float *a = c->acc + (size_t)y * (size_t)W;
    double dy = fmin(y + 1.0, y1) - fmax((double)y, y0);
    double xnext = x + dxdy * dy;
    double d = dy * dir;
    double xa = fmin(x, xnext), xb = fmax(x, xnext);
    double xaf = floor(xa);
    int xai = (int)xaf;
    double xbc = ceil(xb);
    int xbi = (int)xbc;
    if (xai < rows->x0) rows->x0 = xai;
    if (xbi + 2 > rows->x1) rows->x1 = xbi + 2;
    if (xbi <= xai + 1) {
      double xmf = 0.5 * (x + xnext) - xaf;
      a[xai] += (float)(d - d * xmf);
      a[xai + 1] += (float)(d * xmf);
    } else {
      double s = 1.0 / (xb - xa);
      double x0f = xa - xaf;
      double a0 = 0.5 * s * (1.0 - x0f) * (1.0 - x0f);
      double x1f = xb - xbc + 1.0;
      double am = 0.5 * s * x1f * x1f;
      a[xai] += (float)(d * a0);
      if (xbi == xai + 2) {
        a[xai + 1] += (float)(d * (1.0 - a0 - am));
      } else {
        double a1 = s * (1.5 - x0f);
        a[xai + 1] += (float)(d * (a1 - a0));
        for (int xi = xai + 2; xi < xbi - 1; xi++) a[xi] += (float)(d * s);
        double a2 = a1 + (xbi - xai - 3) * s;
        a[xbi - 1] += (float)(d * (1.0 - a2 - am));
      }
      a[xbi] += (float)(d * am);
    }
    x = xnext;
  }
}

static double clampd(double v, double lo, double hi) {
  return v < lo ? lo : v > hi ? hi : v;
}

/* Splits the edge where it crosses the canvas border and feeds the pieces,
 * clamped to the canvas, to acc_line. */
static void acc_edge(cls_canvas *c, acc_rows *rows, double x0, double y0, double x1, double y1) {
  double W = c->width, H = c->height;
  double ts[6];
  int n = 0;
  ts[n++] = 0.0;
  double dx = x1 - x0, dy = y1 - y0;
  const double bx[2] = {0.0, W}, by[2] = {0.0, H};
  for (int i = 0; i < 2; i++) {
    if (dx != 0.0) {
      double t = (bx[i] - x0) / dx;
      if (t > 0.0 && t < 1.0) ts[n++] = t;
    }
    if (dy != 0.0) {
      double t = (by[i] - y0) / dy;
      if (t > 0.0 && t < 1.0) ts[n++] = t;
    }
  }
  ts[n++] = 1.0;
  for (int i = 1; i < n; i++) /* insertion sort of at most 6 values */
    for (int j = i; j > 0 && ts[j] < ts[j - 1]; j--) {
      double t = ts[j];
      ts[j] = ts[j - 1], ts[j - 1] = t;
    }
  for (int i = 0; i + 1 < n; i++) {
    double ax = clampd(x0 + ts[i] * dx, 0, W), ay = clampd(y0 + ts[i] * dy, 0, H);
    double bx2 = clampd(x0 + ts[i + 1] * dx, 0, W), by2 = clampd(y0 + ts[i + 1] * dy, 0, H);
    acc_line(c, rows, ax, ay, bx2, by2);
  }
}

void cls_mask_polygon(cls_canvas *c, const double *xy, size_t n) {
  if (!c || !xy || n < 3) return;
  for (size_t i = 0; i < 2 * n; i++)
    if (!isfinite(xy[i])) return;
  acc_rows rows = {c->height, 0, c->width + 2, 0};
  for (size_t i = 0; i < n; i++) {
    size_t j = (i + 1) % n;
    acc_edge(c, &rows, xy[2 * i], xy[2 * i + 1], xy[2 * j], xy[2 * j + 1]);
  }
  if (rows.y0 >= rows.y1) return;
  const int W = c->width + 2;
  int cy0 = rows.y0 > c->clip_y0 ? rows.y0 : c->clip_y0;
  int cy1 = rows.y1 < c->clip_y1 ? rows.y1 : c->clip_y1;
  int bx0 = c->width, bx1 = 0;
  /* Cells left of x0 hold nothing, so the running sum can start there; it
   * returns to zero after x1 for a closed outline. */
  int ax0 = rows.x0, ax1 = rows.x1 < W ? rows.x1 : W;
  for (int y = rows.y0; y < rows.y1; y++) {
    float *a = c->acc + (size_t)y * (size_t)W;
    float *m = c->mask + (size_t)y * (size_t)c->width;
    double sum = 0.0;
    bool in_clip = y >= cy0 && y < cy1;
    for (int x = ax0; x < ax1; x++) {
      if (x >= c->width) {
        a[x] = 0.0f;
        continue;
      }
      sum += a[x];
      a[x] = 0.0f;
      if (!in_clip || x < c->clip_x0 || x >= c->clip_x1) continue;
      float cov = (float)fmin(fabs(sum), 1.0);
      if (cov > 1e-4f) {
        if (cov > m[x]) m[x] = cov;
        if (x < bx0) bx0 = x;
        if (x + 1 > bx1) bx1 = x + 1;
      }
    }
  }
  if (bx0 < bx1 && cy0 < cy1) {
    if (c->mx0 >= c->mx1 || c->my0 >= c->my1) {
      c->mx0 = bx0, c->mx1 = bx1, c->my0 = cy0, c->my1 = cy1;
    } else {
      if (bx0 < c->mx0) c->mx0 = bx0;
      if (bx1 > c->mx1) c->mx1 = bx1;
      if (cy0 < c->my0) c->my0 = cy0;
      if (cy1 > c->my1) c->my1 = cy1;
    }
  }
}

void cls_fill_polygon(cls_canvas *c, const double *xy, size_t n, cls_rgba color) {
  cls_mask_polygon(c, xy, n);
  cls_mask_composite(c, color);
}
