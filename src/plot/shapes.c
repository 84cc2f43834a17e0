/*
 * src/plot/shapes.c — polylines (solid and dashed) and markers, built on the
 * coverage mask so every shape is composited exactly once.
 */
#include <math.h>
#include <stdlib.h>

#include "plot/plot.h"

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

/* Adds one finite piece of a polyline to the mask, cutting it into dashes by
 * arc length. state carries the position in the dash pattern from piece to
 * piece, so a gap in the data does not restart the pattern. */
typedef struct {
  int idx;     /* current entry of the dash pattern */
  double left; /* length left in that entry */
} dash_state;

static void mask_piece(cls_canvas *c, const double *xy, size_t n, const cls_stroke *st, dash_state *ds) {
  if (n == 1) { /* a lone point still shows, as a dot of the line width */
    if (st->n_dash == 0 || ds->idx % 2 == 0) cls_mask_disc(c, xy[0], xy[1], 0.5 * st->width);
    return;
  }
  if (st->n_dash == 0) { /* round joins and caps: a disc at every vertex */
    for (size_t i = 0; i + 1 < n; i++)
      cls_mask_segment(c, xy[2 * i], xy[2 * i + 1], xy[2 * i + 2], xy[2 * i + 3], st->width);
    for (size_t i = 0; i < n; i++) cls_mask_disc(c, xy[2 * i], xy[2 * i + 1], 0.5 * st->width);
    return;
  }
  for (size_t i = 0; i + 1 < n; i++) {
    double x0 = xy[2 * i], y0 = xy[2 * i + 1], x1 = xy[2 * i + 2], y1 = xy[2 * i + 3];
    double len = hypot(x1 - x0, y1 - y0), pos = 0.0;
    if (i > 0 && ds->idx % 2 == 0) cls_mask_disc(c, x0, y0, 0.5 * st->width); /* a join inside a dash */
    while (pos < len) {
      double step = fmin(ds->left, len - pos);
      if (ds->idx % 2 == 0 && step > 0.0) {
        double t0 = pos / len, t1 = (pos + step) / len;
        cls_mask_segment(c, x0 + t0 * (x1 - x0), y0 + t0 * (y1 - y0), x0 + t1 * (x1 - x0), y0 + t1 * (y1 - y0),
                         st->width);
      }
      pos += step;
      ds->left -= step;
      if (ds->left <= 1e-9) {
        ds->idx = (ds->idx + 1) % st->n_dash;
        ds->left = st->dash[ds->idx];
      }
    }
  }
}

void cls_draw_polyline(cls_canvas *c, const double *xy, size_t n, const cls_stroke *st) {
  if (!c || !xy || !st || n == 0 || !(st->width > 0.0)) return;
  cls_stroke s = *st;
  double period = 0.0;
  if (s.n_dash < 0 || s.n_dash > CLS_MAX_DASH) s.n_dash = 0;
  for (int i = 0; i < s.n_dash; i++) {
    if (!(s.dash[i] >= 0.0))
      s.n_dash = 0;
    else
      period += s.dash[i];
  }
  if (s.n_dash % 2 == 1 || !(period > 0.0)) s.n_dash = 0; /* an odd or empty pattern is drawn solid */
  dash_state ds = {0, s.n_dash ? s.dash[0] : 0.0};
  if (s.n_dash && s.dash_offset > 0.0) {
    double off = fmod(s.dash_offset, period);
    while (off > 0.0) {
      double step = fmin(off, ds.left);
      off -= step;
      ds.left -= step;
      if (ds.left <= 1e-9) {
        ds.idx = (ds.idx + 1) % s.n_dash;
        ds.left = s.dash[ds.idx];
      }
    }
  }
  size_t start = 0;
  for (size_t i = 0; i <= n; i++) {
    bool finite = i < n && isfinite(xy[2 * i]) && isfinite(xy[2 * i + 1]);
    if (!finite) {
      if (i > start) mask_piece(c, xy + 2 * start, i - start, &s, &ds);
      start = i + 1;
    }
  }
  cls_mask_composite(c, s.color);
}

static size_t regular_polygon(double *xy, int k, double cx, double cy, double r, double phase) {
  for (int i = 0; i < k; i++) {
    double a = phase + 2.0 * M_PI * i / k;
    xy[2 * i] = cx + r * cos(a);
    xy[2 * i + 1] = cy - r * sin(a);
  }
  return (size_t)k;
}

void cls_draw_marker(cls_canvas *c, double x, double y, cls_marker shape, double size, cls_rgba fill,
                     cls_rgba edge, double edge_width) {
  if (!c || !isfinite(x) || !isfinite(y) || !(size > 0.0) || shape == CLS_MARKER_NONE) return;
  double r = size * 0.5, xy[2 * 64];
  size_t n = 0;
  switch (shape) {
  case CLS_MARKER_CIRCLE:
    n = regular_polygon(xy, 48, x, y, r, 0.0); /* outline only; the fill is an exact disc */
    break;
  case CLS_MARKER_SQUARE: /* equal area to the circle of the same size */
    n = regular_polygon(xy, 4, x, y, r * 0.886 * 1.41421356237, M_PI / 4);
    break;
  case CLS_MARKER_DIAMOND:
    n = regular_polygon(xy, 4, x, y, r * 1.2, M_PI / 2);
    break;
  case CLS_MARKER_TRIANGLE:
    n = regular_polygon(xy, 3, x, y + r * 0.2, r * 1.25, M_PI / 2);
    break;
  case CLS_MARKER_STAR:
    for (int i = 0; i < 10; i++) {
      double a = M_PI / 2 + M_PI * i / 5.0, rr = (i % 2 ? 0.45 : 1.0) * r * 1.35;
      xy[2 * i] = x + rr * cos(a);
      xy[2 * i + 1] = y - rr * sin(a);
    }
    n = 10;
    break;
  case CLS_MARKER_CROSS: {
    double h = r * 0.8, w = fmax(size * 0.22, 1.0);
    cls_mask_capsule(c, x - h, y - h, x + h, y + h, w);
    cls_mask_capsule(c, x - h, y + h, x + h, y - h, w);
    cls_mask_composite(c, fill);
    return;
  }
  default:
    return;
  }
  if (shape == CLS_MARKER_CIRCLE)
    cls_mask_disc(c, x, y, r);
  else
    cls_mask_polygon(c, xy, n);
  cls_mask_composite(c, fill);
  if (edge_width > 0.0 && edge.a > 0.0f) {
    xy[2 * n] = xy[0], xy[2 * n + 1] = xy[1];
    cls_stroke st = {.width = edge_width, .color = edge};
    cls_draw_polyline(c, xy, n + 1, &st);
  }
}
