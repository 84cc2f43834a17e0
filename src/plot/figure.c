/*
 * src/plot/figure.c — the figure model (axes, series, bands, colorbars) and
 * its description-to-data bookkeeping. Layout and drawing are in render.c.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/str.h"
#include "core/err.h"
#include "figure_internal.h"

cls_series_style cls_style_line(cls_rgba c, double w) {
  cls_series_style s;
  memset(&s, 0, sizeof s);
  s.color = c;
  s.line_pt = w;
  return s;
}

cls_series_style cls_style_markers(cls_rgba c, cls_marker m, double size_pt) {
  cls_series_style s;
  memset(&s, 0, sizeof s);
  s.color = c;
  s.marker = m;
  s.marker_pt = size_pt;
  s.marker_edge = cls_rgba_make(1, 1, 1, 1);
  s.marker_edge_pt = 0.5;
  return s;
}

/* Replaces *dst by a copy of src; false when out of memory. */
static bool set_str(char **dst, const char *src) {
  char *d = cls_strdup(src);
  if (src && !d) return false;
  free(*dst);
  *dst = d;
  return true;
}

cls_status cls_figure_create(double width_in, double height_in, double dpi, int rows, int cols, cls_figure **out,
                             char *err, size_t err_len) {
  if (!out) return CLS_ERR_NULL_ARGUMENT;
  *out = NULL;
  if (!(width_in > 0.5 && width_in <= 100) || !(height_in > 0.5 && height_in <= 100) ||
      !(dpi >= 10 && dpi <= 2400)) {
    return cls_errf(err, err_len, CLS_ERR_INVALID_VALUE,
                    "figure size %gx%g in at %g dpi is out of range: use 0.5..100 in and 10..2400 dpi", width_in,
                    height_in, dpi);
  }
  if (rows < 1 || cols < 1 || rows * cols > 64) {
    return cls_errf(err, err_len, CLS_ERR_INVALID_SIZE, "a figure holds 1..64 axes, not %d x %d", rows, cols);
  }
  cls_figure *f = calloc(1, sizeof *f);
  if (f) f->axes = calloc((size_t)(rows * cols), sizeof *f->axes);
  if (!f || !f->axes) {
    free(f);
    return cls_errf(err, err_len, CLS_ERR_OUT_OF_MEMORY, "out of memory creating a figure");
  }
  f->width_in = width_in, f->height_in = height_in, f->dpi = dpi, f->rows = rows, f->cols = cols;
  for (int i = 0; i < rows * cols; i++) {
    cls_axes *ax = &f->axes[i];
    ax->xlim[0] = ax->xlim[1] = ax->ylim[0] = ax->ylim[1] = NAN;
    ax->show_legend = true;
  }
  *out = f;
  return CLS_OK;
}

void cls_figure_destroy(cls_figure *f) {
  if (!f) return;
  for (int i = 0; i < f->rows * f->cols; i++) {
    cls_axes *ax = &f->axes[i];
    for (size_t k = 0; k < ax->n_series; k++) {
      free(ax->series[k].x);
      free(ax->series[k].y);
      free(ax->series[k].y2);
      free(ax->series[k].label);
    }
    free(ax->series);
    free(ax->title);
    free(ax->xlabel);
    free(ax->ylabel);
    free(ax->cb_label);
  }
  free(f->axes);
  free(f->title);
  free(f);
}

cls_axes *cls_figure_axes(cls_figure *f, int index) {
  if (!f || index < 0 || index >= f->rows * f->cols) return NULL;
  return &f->axes[index];
}

cls_status cls_figure_set_title(cls_figure *f, const char *title) {
  if (!f) return CLS_ERR_NULL_ARGUMENT;
  return set_str(&f->title, title) ? CLS_OK : CLS_ERR_OUT_OF_MEMORY;
}

void cls_axes_set_scales(cls_axes *ax, cls_scale_kind x, cls_scale_kind y) {
  if (!ax) return;
  ax->xkind = x;
  ax->ykind = y;
}

void cls_axes_set_label_styles(cls_axes *ax, cls_label_style x, cls_label_style y) {
  if (!ax) return;
  ax->xstyle = x;
  ax->ystyle = y;
}

cls_status cls_axes_set_text(cls_axes *ax, const char *title, const char *xlabel, const char *ylabel) {
  if (!ax) return CLS_ERR_NULL_ARGUMENT;
  if (!set_str(&ax->title, title) || !set_str(&ax->xlabel, xlabel) || !set_str(&ax->ylabel, ylabel))
    return CLS_ERR_OUT_OF_MEMORY;
  return CLS_OK;
}

void cls_axes_set_xlim(cls_axes *ax, double lo, double hi) {
  if (!ax) return;
  ax->xlim[0] = lo, ax->xlim[1] = hi;
}

void cls_axes_set_ylim(cls_axes *ax, double lo, double hi) {
  if (!ax) return;
  ax->ylim[0] = lo, ax->ylim[1] = hi;
}

void cls_axes_set_legend(cls_axes *ax, bool show) {
  if (ax) ax->show_legend = show;
}

static cls_status add(cls_axes *ax, int kind, const double *x, const double *y, const double *y2, size_t n,
                      const cls_series_style *style, const char *label) {
  if (!ax || !x || !y || (kind == SERIES_BAND && !y2)) return CLS_ERR_NULL_ARGUMENT;
  if (ax->n_series == ax->cap_series) {
    size_t cap = ax->cap_series ? 2 * ax->cap_series : 8;
    cls_series *p = realloc(ax->series, cap * sizeof *p);
    if (!p) return CLS_ERR_OUT_OF_MEMORY;
    ax->series = p;
    ax->cap_series = cap;
  }
  cls_series s;
  memset(&s, 0, sizeof s);
  s.kind = kind;
  s.n = n;
  s.style = *style;
  size_t bytes = (n ? n : 1) * sizeof(double);
  s.x = malloc(bytes);
  s.y = malloc(bytes);
  s.y2 = y2 ? malloc(bytes) : NULL;
  s.label = cls_strdup(label);
  if (!s.x || !s.y || (y2 && !s.y2) || (label && !s.label)) {
    free(s.x), free(s.y), free(s.y2), free(s.label);
    return CLS_ERR_OUT_OF_MEMORY;
  }
  if (n) {
    memcpy(s.x, x, n * sizeof(double));
    memcpy(s.y, y, n * sizeof(double));
    if (y2) memcpy(s.y2, y2, n * sizeof(double));
  }
  ax->series[ax->n_series++] = s;
  return CLS_OK;
}

cls_status cls_axes_add_series(cls_axes *ax, const double *x, const double *y, size_t n,
                               const cls_series_style *style, const char *label) {
  if (!style) return CLS_ERR_NULL_ARGUMENT;
  return add(ax, SERIES_LINE, x, y, NULL, n, style, label);
}

cls_status cls_axes_add_band(cls_axes *ax, const double *x, const double *ylo, const double *yhi, size_t n,
                             cls_rgba color, const char *label) {
  cls_series_style st;
  memset(&st, 0, sizeof st);
  st.color = color;
  return add(ax, SERIES_BAND, x, ylo, yhi, n, &st, label);
}

cls_status cls_axes_set_colorbar(cls_axes *ax, double lo, double hi, cls_scale_kind kind, cls_label_style style,
                                 const char *label) {
  if (!ax) return CLS_ERR_NULL_ARGUMENT;
  if (!isfinite(lo) || !isfinite(hi) || (kind == CLS_SCALE_LOG && !(lo > 0.0 && hi > 0.0))) return CLS_ERR_NUMERIC;
  if (!set_str(&ax->cb_label, label)) return CLS_ERR_OUT_OF_MEMORY;
  ax->has_cb = true;
  ax->cb_lo = fmin(lo, hi), ax->cb_hi = fmax(lo, hi);
  ax->cb_kind = kind;
  ax->cb_style = style;
  return CLS_OK;
}

#define CMAP_TOP 0.9 /* viridis beyond this is a pale yellow that vanishes on white */

cls_rgba cls_colormap(double v, double lo, double hi, cls_scale_kind kind) {
  double t;
  if (kind == CLS_SCALE_LOG && lo > 0 && hi > 0 && v > 0)
    t = (log10(v) - log10(lo)) / (log10(hi) - log10(lo));
  else
    t = (v - lo) / (hi - lo);
  if (!isfinite(t)) t = 0.5;
  return cls_viridis(fmin(fmax(t, 0.0), 1.0) * CMAP_TOP);
}

void cls_axes_get_transform(const cls_axes *ax, cls_axis_scale *x, cls_axis_scale *y) {
  if (!ax) return;
  if (x) *x = ax->xs;
  if (y) *y = ax->ys;
}

bool cls_axes_get_legend_box(const cls_axes *ax, double box[4]) {
  if (!ax || !ax->legend_drawn) return false;
  memcpy(box, ax->legend_box, sizeof ax->legend_box);
  return true;
}
