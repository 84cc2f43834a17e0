/*
 * src/plot/render.c — lays out and draws a figure: limits, ticks, frames,
 * grid, series, legend (placed where it hides the least data) and colorbar.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "figure_internal.h"

/* Sizes in points, chosen to match matplotlib's paper style. */
#define FS_TICK     9.0
#define FS_LABEL    10.5
#define FS_TITLE    11.0
#define FS_LEGEND   8.5
#define FS_SUPTITLE 12.0
#define TICK_MAJOR  3.5
#define TICK_MINOR  2.0
#define PAD         3.5
#define OUTER_PAD   6.0
#define FRAME_PT    0.8
#define GRID_PT     0.6
#define CB_GAP      8.0
#define CB_WIDTH    9.0

typedef struct {
  double k; /* pixels per point */
  const cls_font *font;
  cls_canvas *c;
} ctx;

static const cls_rgba INK = {0.13f, 0.13f, 0.13f, 1.0f};
static const cls_rgba GRID_MAJOR = {0.86f, 0.86f, 0.86f, 1.0f};
static const cls_rgba GRID_MINOR = {0.94f, 0.94f, 0.94f, 1.0f};

static bool usable(double v, cls_scale_kind k) {
  return isfinite(v) && (k != CLS_SCALE_LOG || v > 0.0);
}

static void data_limits(const cls_axes *ax, bool is_x, double out[2]) {
  cls_scale_kind kind = is_x ? ax->xkind : ax->ykind;
  const double *fixed = is_x ? ax->xlim : ax->ylim;
  if (isfinite(fixed[0]) && isfinite(fixed[1]) && fixed[1] > fixed[0] &&
      (kind != CLS_SCALE_LOG || fixed[0] > 0.0)) {
    out[0] = fixed[0], out[1] = fixed[1];
    return;
  }
  double lo = INFINITY, hi = -INFINITY;
  for (size_t i = 0; i < ax->n_series; i++) {
    const cls_series *s = &ax->series[i];
    if (s->style.no_autoscale) continue;
    for (size_t j = 0; j < s->n; j++) {
      if (!usable(s->x[j], ax->xkind) || !usable(s->y[j], ax->ykind)) continue;
      if (s->y2 && !usable(s->y2[j], ax->ykind)) continue;
      double vals[2] = {is_x ? s->x[j] : s->y[j], is_x ? s->x[j] : (s->y2 ? s->y2[j] : s->y[j])};
      for (int q = 0; q < 2; q++) {
        if (vals[q] < lo) lo = vals[q];
        if (vals[q] > hi) hi = vals[q];
      }
    }
  }
  if (!(lo <= hi)) { /* no data: an empty but valid axis */
    lo = kind == CLS_SCALE_LOG ? 1.0 : 0.0;
    hi = kind == CLS_SCALE_LOG ? 10.0 : 1.0;
  }
  cls_scale_pad(kind, &lo, &hi, 0.05);
  if (isfinite(fixed[0]) && (kind != CLS_SCALE_LOG || fixed[0] > 0)) lo = fixed[0];
  if (isfinite(fixed[1]) && fixed[1] > lo) hi = fixed[1];
  out[0] = lo, out[1] = hi;
}

typedef struct {
  cls_tick *t;
  size_t n;
  double max_w, max_h; /* of the labels, pixels */
} tick_set;

static void measure_ticks(const ctx *X, tick_set *ts, double fs) {
  ts->max_w = 0.0;
  ts->max_h = 0.0;
  for (size_t i = 0; i < ts->n; i++) {
    if (!ts->t[i].labelled) continue;
    cls_text_extent e = cls_text_measure(X->font, ts->t[i].label, fs);
    if (e.width > ts->max_w) ts->max_w = e.width;
    if (e.ascent + e.descent > ts->max_h) ts->max_h = e.ascent + e.descent;
  }
}

/* Ticks for an axis of len pixels; horizontal axes refine the label count
 * from the measured label widths so labels never collide. */
static cls_status make_ticks(const ctx *X, const cls_axis_scale *s, double len, bool horizontal,
                             cls_label_style style, tick_set *ts, char *err, size_t err_len) {
  double fs = FS_TICK * X->k;
  int max_labels = horizontal ? (int)(len / (3.2 * fs)) : (int)(len / (2.6 * fs));
  if (max_labels > 10) max_labels = 10;
  for (int iter = 0; iter < 4; iter++) {
    free(ts->t);
    ts->t = NULL;
    cls_status st = cls_scale_ticks(s, max_labels, style, &ts->t, &ts->n, err, err_len);
    if (st) return st;
    measure_ticks(X, ts, fs);
    if (!horizontal) break;
    int labelled = 0;
    for (size_t i = 0; i < ts->n; i++) labelled += ts->t[i].labelled;
    if (labelled * (ts->max_w + 1.0 * fs) <= len || max_labels <= 2) break;
    int next = (int)(len / (ts->max_w + 1.0 * fs));
    max_labels = next < max_labels ? next : max_labels - 1;
    if (max_labels < 2) max_labels = 2;
  }
  return CLS_OK;
}

typedef struct {
  double l, t, r, b; /* plot rectangle */
  tick_set xt, yt, cbt;
  cls_axis_scale cbs;
} layout;

static double text_h(const ctx *X, const char *s, double fs) {
  if (!s || !*s) return 0.0;
  cls_text_extent e = cls_text_measure(X->font, s, fs);
  return e.ascent + e.descent;
}

static cls_status layout_axes(const ctx *X, cls_axes *ax, double cx0, double cy0, double cx1, double cy1,
                              layout *L, char *err, size_t err_len) {
  double k = X->k, pad = PAD * k, opad = OUTER_PAD * k, tick = TICK_MAJOR * k;
  double xl[2], yl[2];
  data_limits(ax, true, xl);
  data_limits(ax, false, yl);
  double cw = cx1 - cx0, ch = cy1 - cy0;
  L->l = cx0 + 0.14 * cw, L->r = cx1 - 0.04 * cw, L->t = cy0 + 0.08 * ch, L->b = cy1 - 0.12 * ch;
  for (int pass = 0; pass < 3; pass++) {
    ax->xs = (cls_axis_scale){ax->xkind, xl[0], xl[1], L->l, L->r};
    ax->ys = (cls_axis_scale){ax->ykind, yl[0], yl[1], L->b, L->t};
    cls_status st = make_ticks(X, &ax->xs, L->r - L->l, true, ax->xstyle, &L->xt, err, err_len);
    if (!st) st = make_ticks(X, &ax->ys, L->b - L->t, false, ax->ystyle, &L->yt, err, err_len);
    if (st) return st;
    double right = opad + 0.5 * L->xt.max_w;
    if (ax->has_cb) {
      L->cbs = (cls_axis_scale){ax->cb_kind, ax->cb_lo, ax->cb_hi, L->b, L->t};
      if (!(ax->cb_hi > ax->cb_lo)) L->cbs.hi = ax->cb_kind == CLS_SCALE_LOG ? ax->cb_lo * 10 : ax->cb_lo + 1;
      st = make_ticks(X, &L->cbs, L->b - L->t, false, ax->cb_style, &L->cbt, err, err_len);
      if (st) return st;
      right = opad + CB_GAP * k + CB_WIDTH * k + tick + pad + L->cbt.max_w + pad +
              (ax->cb_label ? text_h(X, ax->cb_label, FS_LABEL * k) : 0.0);
    }
    double xlabel_h = ax->xlabel ? text_h(X, ax->xlabel, FS_LABEL * k) + pad : 0.0;
    double ylabel_h = ax->ylabel ? text_h(X, ax->ylabel, FS_LABEL * k) + pad : 0.0;
    double title_h = ax->title ? text_h(X, ax->title, FS_TITLE * k) + 1.5 * pad : 0.0;
    L->l = cx0 + opad + ylabel_h + L->yt.max_w + pad + tick;
    L->b = cy1 - opad - xlabel_h - L->xt.max_h - pad - tick;
    L->t = cy0 + opad + title_h + 0.5 * L->yt.max_h;
    L->r = cx1 - right;
    if (L->r - L->l < 20 || L->b - L->t < 20) {
      return cls_errf(err, err_len, CLS_ERR_INVALID_SIZE,
                      "the figure is too small for its labels: increase `width_in`/`height_in` or lower "
                      "the text by lowering `dpi`");
    }
  }
  /* Final transforms and ticks on the final rectangle. */
  ax->xs = (cls_axis_scale){ax->xkind, xl[0], xl[1], L->l, L->r};
  ax->ys = (cls_axis_scale){ax->ykind, yl[0], yl[1], L->b, L->t};
  cls_status st = make_ticks(X, &ax->xs, L->r - L->l, true, ax->xstyle, &L->xt, err, err_len);
  if (!st) st = make_ticks(X, &ax->ys, L->b - L->t, false, ax->ystyle, &L->yt, err, err_len);
  if (!st && ax->has_cb) {
    L->cbs.p0 = L->b, L->cbs.p1 = L->t;
    st = make_ticks(X, &L->cbs, L->b - L->t, false, ax->cb_style, &L->cbt, err, err_len);
  }
  return st;
}

/* A faint grid at the 2…9 minors helps read a log axis of a few decades; over
 * more it turns into a grey wash, as in matplotlib's defaults. */
static bool minor_grid(const cls_axis_scale *s) {
  return s->kind == CLS_SCALE_LOG && log10(s->hi) - log10(s->lo) <= 3.5;
}

static void draw_grid(const ctx *X, const cls_axes *ax, const layout *L) {
  double w = GRID_PT * X->k;
  for (int minor = 1; minor >= 0; minor--) { /* minor first, so majors lie on top */
    cls_rgba col = minor ? GRID_MINOR : GRID_MAJOR;
    for (size_t i = 0; i < L->xt.n; i++) {
      if (L->xt.t[i].major == minor || (minor && !minor_grid(&ax->xs))) continue;
      double px = cls_scale_to_px(&ax->xs, L->xt.t[i].value);
      cls_canvas_vline_crisp(X->c, px, L->t, L->b, w, col);
    }
    for (size_t i = 0; i < L->yt.n; i++) {
      if (L->yt.t[i].major == minor || (minor && !minor_grid(&ax->ys))) continue;
      double py = cls_scale_to_px(&ax->ys, L->yt.t[i].value);
      cls_canvas_hline_crisp(X->c, L->l, L->r, py, w, col);
    }
  }
}

static void to_px(const cls_axes *ax, const double *x, const double *y, size_t n, double *xy) {
  for (size_t j = 0; j < n; j++) {
    xy[2 * j] = cls_scale_to_px(&ax->xs, x[j]);
    xy[2 * j + 1] = cls_scale_to_px(&ax->ys, y[j]);
  }
}

static cls_stroke stroke_of(const ctx *X, const cls_series_style *st) {
  cls_stroke s;
  memset(&s, 0, sizeof s);
  s.width = st->line_pt * X->k;
  s.color = st->color;
  s.n_dash = st->n_dash > 4 ? 4 : st->n_dash;
  for (int i = 0; i < s.n_dash; i++) s.dash[i] = st->dash_pt[i] * X->k;
  return s;
}

static void draw_band(const ctx *X, const cls_axes *ax, const cls_series *s) {
  double *xy = malloc(4 * (s->n ? s->n : 1) * sizeof(double));
  if (!xy) return;
  size_t m = 0;
  for (size_t j = 0; j < s->n; j++) { /* upper edge forwards */
    double px = cls_scale_to_px(&ax->xs, s->x[j]), py = cls_scale_to_px(&ax->ys, s->y2[j]);
    double pl = cls_scale_to_px(&ax->ys, s->y[j]);
    if (!isfinite(px) || !isfinite(py) || !isfinite(pl)) continue;
    xy[2 * m] = px, xy[2 * m + 1] = py, m++;
  }
  size_t up = m;
  for (size_t j = s->n; j-- > 0;) { /* lower edge backwards */
    double px = cls_scale_to_px(&ax->xs, s->x[j]), py = cls_scale_to_px(&ax->ys, s->y[j]);
    double pu = cls_scale_to_px(&ax->ys, s->y2[j]);
    if (!isfinite(px) || !isfinite(py) || !isfinite(pu)) continue;
    xy[2 * m] = px, xy[2 * m + 1] = py, m++;
  }
  if (up >= 2) cls_fill_polygon(X->c, xy, m, s->style.color);
  free(xy);
}

static void draw_series(const ctx *X, const cls_axes *ax, const cls_series *s) {
  if (s->kind == SERIES_BAND) {
    draw_band(X, ax, s);
    return;
  }
  double *xy = malloc(2 * (s->n ? s->n : 1) * sizeof(double));
  if (!xy) return;
  to_px(ax, s->x, s->y, s->n, xy);
  if (s->style.line_pt > 0.0) {
    cls_stroke st = stroke_of(X, &s->style);
    cls_draw_polyline(X->c, xy, s->n, &st);
  }
  if (s->style.marker != CLS_MARKER_NONE)
    for (size_t j = 0; j < s->n; j++)
      cls_draw_marker(X->c, xy[2 * j], xy[2 * j + 1], s->style.marker, s->style.marker_pt * X->k, s->style.color,
                      s->style.marker_edge, s->style.marker_edge_pt * X->k);
  free(xy);
}

static void draw_frame_and_ticks(const ctx *X, const cls_axes *ax, const layout *L) {
  double k = X->k, fw = FRAME_PT * k, pad = PAD * k, fs = FS_TICK * k;
  double half = floor(fmax(1.0, round(fw)) / 2.0);
  cls_canvas_hline_crisp(X->c, L->l - half, L->r + half, L->t, fw, INK);
  cls_canvas_hline_crisp(X->c, L->l - half, L->r + half, L->b, fw, INK);
  cls_canvas_vline_crisp(X->c, L->l, L->t - half, L->b + half, fw, INK);
  cls_canvas_vline_crisp(X->c, L->r, L->t - half, L->b + half, fw, INK);
  for (size_t i = 0; i < L->xt.n; i++) {
    const cls_tick *t = &L->xt.t[i];
    double px = cls_scale_to_px(&ax->xs, t->value);
    double len = (t->major ? TICK_MAJOR : TICK_MINOR) * k;
    cls_canvas_vline_crisp(X->c, px, L->b, L->b + len, t->major ? fw : 0.75 * fw, INK);
    if (t->labelled)
      cls_text_draw(X->c, X->font, t->label, px, L->b + TICK_MAJOR * k + pad, fs, 0, CLS_ALIGN_CENTER,
                    CLS_VALIGN_TOP, INK);
  }
  for (size_t i = 0; i < L->yt.n; i++) {
    const cls_tick *t = &L->yt.t[i];
    double py = cls_scale_to_px(&ax->ys, t->value);
    double len = (t->major ? TICK_MAJOR : TICK_MINOR) * k;
    cls_canvas_hline_crisp(X->c, L->l - len, L->l, py, t->major ? fw : 0.75 * fw, INK);
    if (t->labelled)
      cls_text_draw(X->c, X->font, t->label, L->l - TICK_MAJOR * k - pad, py, fs, 0, CLS_ALIGN_RIGHT,
                    CLS_VALIGN_CENTER, INK);
  }
}

static void draw_labels(const ctx *X, const cls_axes *ax, const layout *L, double cx0) {
  double k = X->k, pad = PAD * k;
  if (ax->xlabel)
    cls_text_draw(X->c, X->font, ax->xlabel, 0.5 * (L->l + L->r), L->b + TICK_MAJOR * k + pad + L->xt.max_h + pad,
                  FS_LABEL * k, 0, CLS_ALIGN_CENTER, CLS_VALIGN_TOP, INK);
  if (ax->ylabel)
    cls_text_draw(X->c, X->font, ax->ylabel, cx0 + OUTER_PAD * k, 0.5 * (L->t + L->b), FS_LABEL * k, 90,
                  CLS_ALIGN_CENTER, CLS_VALIGN_TOP, INK);
  if (ax->title)
    cls_text_draw_ex(X->c, X->font, ax->title, 0.5 * (L->l + L->r), L->t - 1.5 * pad, FS_TITLE * k, 0,
                     CLS_ALIGN_CENTER, CLS_VALIGN_BOTTOM, INK, 1.25);
}

static void draw_colorbar(const ctx *X, const cls_axes *ax, const layout *L) {
  double k = X->k, pad = PAD * k;
  double x0 = L->r + CB_GAP * k, x1 = x0 + CB_WIDTH * k;
  int r0 = (int)lround(L->t), r1 = (int)lround(L->b);
  for (int row = r0; row < r1; row++) {
    double v = cls_scale_from_px(&L->cbs, row + 0.5);
    cls_rgba col = cls_colormap(v, ax->cb_lo, ax->cb_hi, ax->cb_kind);
    cls_canvas_fill_rect_crisp(X->c, x0, row, x1, row + 1, col);
  }
  double fw = 0.6 * k;
  cls_canvas_hline_crisp(X->c, x0, x1, L->t, fw, INK);
  cls_canvas_hline_crisp(X->c, x0, x1, L->b, fw, INK);
  cls_canvas_vline_crisp(X->c, x0, L->t, L->b, fw, INK);
  cls_canvas_vline_crisp(X->c, x1, L->t, L->b, fw, INK);
  for (size_t i = 0; i < L->cbt.n; i++) {
    const cls_tick *t = &L->cbt.t[i];
    double py = cls_scale_to_px(&L->cbs, t->value);
    double len = (t->major ? TICK_MAJOR : TICK_MINOR) * k;
    cls_canvas_hline_crisp(X->c, x1, x1 + len, py, FRAME_PT * k * (t->major ? 1.0 : 0.75), INK);
    if (t->labelled)
      cls_text_draw(X->c, X->font, t->label, x1 + TICK_MAJOR * k + pad, py, FS_TICK * k, 0, CLS_ALIGN_LEFT,
                    CLS_VALIGN_CENTER, INK);
  }
  if (ax->cb_label)
    cls_text_draw(X->c, X->font, ax->cb_label, x1 + TICK_MAJOR * k + pad + L->cbt.max_w + pad, 0.5 * (L->t + L->b),
                  FS_LABEL * k, 90, CLS_ALIGN_CENTER, CLS_VALIGN_TOP, INK);
}

/* ------------------------------------------------------------------ legend */

/* How much data a box would hide: line samples every few pixels, markers
 * weigh more than lines, bands (background) much less. */
static double hidden_score(const cls_axes *ax, const double box[4], double k) {
  double score = 0.0;
  for (size_t i = 0; i < ax->n_series; i++) {
    const cls_series *s = &ax->series[i];
    /* A hidden marker is a lost measurement; a hidden stretch of a fitted or
     * guide curve (dashed, or not autoscaled) can be followed by eye. */
    double w_line = s->kind == SERIES_BAND                       ? 0.05
                    : !(s->style.line_pt > 0)                    ? 0.0
                    : (s->style.n_dash || s->style.no_autoscale) ? 0.15
                                                                 : 1.0;
    double w_mark = s->style.marker != CLS_MARKER_NONE ? 60.0 : 0.0;
    double r = 0.5 * s->style.marker_pt * k; /* a marker half under the box is hidden too */
    double px = NAN, py = NAN;
    for (size_t j = 0; j < s->n; j++) {
      double qx = cls_scale_to_px(&ax->xs, s->x[j]), qy = cls_scale_to_px(&ax->ys, s->y[j]);
      if (s->kind == SERIES_BAND && s->y2) qy = 0.5 * (qy + cls_scale_to_px(&ax->ys, s->y2[j]));
      if (!isfinite(qx) || !isfinite(qy)) {
        px = py = NAN;
        continue;
      }
      if (w_mark > 0 && qx >= box[0] - r && qx <= box[2] + r && qy >= box[1] - r && qy <= box[3] + r)
        score += w_mark;
      if (w_line > 0 && isfinite(px)) {
        double len = hypot(qx - px, qy - py);
        int steps = (int)ceil(len / 3.0);
        if (steps > 2000) steps = 2000;
        for (int q = 1; q <= steps; q++) {
          double t = (double)q / steps, sx = px + t * (qx - px), sy = py + t * (qy - py);
          if (sx >= box[0] && sx <= box[2] && sy >= box[1] && sy <= box[3]) score += w_line * len / steps / 3.0;
        }
      }
      px = qx, py = qy;
    }
  }
  return score;
}

static void draw_legend(const ctx *X, cls_axes *ax, const layout *L) {
  ax->legend_drawn = false;
  if (!ax->show_legend) return;
  double k = X->k, fs = FS_LEGEND * k;
  size_t n = 0;
  double text_em = 0.0; /* widest label, in units of fs */
  for (size_t i = 0; i < ax->n_series; i++)
    if (ax->series[i].label) {
      n++;
      cls_text_extent e = cls_text_measure(X->font, ax->series[i].label, 1.0);
      if (e.width > text_em) text_em = e.width;
    }
  if (n == 0) return;
  /* The box is (4.1 + text) em wide and (1.45 n + 0.9) em tall; in a small
   * figure the font shrinks until the box fits inside the axes. */
  double avail_w = L->r - L->l, avail_h = L->b - L->t;
  double need_w = (4.1 + text_em + 1.4) * fs, need_h = (1.45 * n + 0.9 + 1.4) * fs;
  double shrink = fmin(1.0, fmin(avail_w / need_w, avail_h / need_h));
  fs *= shrink;
  double pad = 0.6 * fs, row = 1.45 * fs, handle = 2.2 * fs;
  double w = pad + handle + 0.7 * fs + text_em * fs + pad, h = 2 * pad + n * row - 0.3 * fs;
  double inset = 0.7 * fs;
  double xs[3] = {L->r - inset - w, L->l + inset, 0.5 * (L->l + L->r - w)};
  double ys[3] = {L->t + inset, L->b - inset - h, 0.5 * (L->t + L->b - h)};
  /* matplotlib's "best" order: upper right, upper left, lower left, lower
   * right, right, center left, center right, lower center, upper center. */
  static const int order[9][2] = {{0, 0}, {1, 0}, {1, 1}, {0, 1}, {0, 2}, {1, 2}, {2, 1}, {2, 0}, {2, 2}};
  double best = INFINITY, box[4] = {0};
  for (int i = 0; i < 9; i++) {
    double b[4] = {xs[order[i][0]], ys[order[i][1]], xs[order[i][0]] + w, ys[order[i][1]] + h};
    double sc = hidden_score(ax, b, X->k);
    if (sc < best - 1e-9) best = sc, memcpy(box, b, sizeof b);
  }
  cls_canvas_set_clip(X->c, 0, 0, X->c->width, X->c->height);
  cls_canvas_fill_rect_crisp(X->c, box[0], box[1], box[2], box[3], cls_rgba_make(1, 1, 1, 0.85f));
  cls_rgba edge = {0.8f, 0.8f, 0.8f, 1.0f};
  cls_canvas_hline_crisp(X->c, box[0], box[2], box[1], 0.8 * k, edge);
  cls_canvas_hline_crisp(X->c, box[0], box[2], box[3], 0.8 * k, edge);
  cls_canvas_vline_crisp(X->c, box[0], box[1], box[3], 0.8 * k, edge);
  cls_canvas_vline_crisp(X->c, box[2], box[1], box[3], 0.8 * k, edge);
  double y = box[1] + pad + 0.5 * row - 0.15 * fs;
  for (size_t i = 0; i < ax->n_series; i++) {
    const cls_series *s = &ax->series[i];
    if (!s->label) continue;
    double hx0 = box[0] + pad, hx1 = hx0 + handle;
    if (s->kind == SERIES_BAND) {
      double q[8] = {hx0, y - 0.35 * fs, hx1, y - 0.35 * fs, hx1, y + 0.35 * fs, hx0, y + 0.35 * fs};
      cls_fill_polygon(X->c, q, 4, s->style.color);
    } else {
      if (s->style.line_pt > 0) {
        double xy[4] = {hx0, y, hx1, y};
        cls_stroke st = stroke_of(X, &s->style);
        cls_draw_polyline(X->c, xy, 2, &st);
      }
      if (s->style.marker != CLS_MARKER_NONE)
        cls_draw_marker(X->c, 0.5 * (hx0 + hx1), y, s->style.marker, s->style.marker_pt * k, s->style.color,
                        s->style.marker_edge, s->style.marker_edge_pt * k);
    }
    cls_text_draw(X->c, X->font, s->label, hx1 + 0.7 * fs, y + 0.36 * fs, fs, 0, CLS_ALIGN_LEFT,
                  CLS_VALIGN_BASELINE, INK);
    y += row;
  }
  memcpy(ax->legend_box, box, sizeof box);
  ax->legend_drawn = true;
}

cls_status cls_figure_render(cls_figure *f, const cls_font *font, cls_canvas **out, char *err, size_t err_len) {
  if (!f || !font || !out) {
    return cls_errf(err, err_len, CLS_ERR_NULL_ARGUMENT, "cls_figure_render: NULL argument");
  }
  *out = NULL;
  int W = (int)lround(f->width_in * f->dpi), H = (int)lround(f->height_in * f->dpi);
  cls_canvas *c;
  cls_status st = cls_canvas_create(W, H, f->dpi, cls_rgba_make(1, 1, 1, 1), &c, err, err_len);
  if (st) return st;
  ctx X = {f->dpi / 72.0, font, c};
  double top = 0.0;
  if (f->title) {
    double fs = FS_SUPTITLE * X.k;
    cls_text_draw_ex(c, font, f->title, 0.5 * W, OUTER_PAD * X.k, fs, 0, CLS_ALIGN_CENTER, CLS_VALIGN_TOP, INK,
                     1.3);
    top = OUTER_PAD * X.k + text_h(&X, f->title, fs);
  }
  double cw = (double)W / f->cols, ch = (H - top) / f->rows;
  for (int i = 0; i < f->rows * f->cols && !st; i++) {
    cls_axes *ax = &f->axes[i];
    double cx0 = (i % f->cols) * cw, cy0 = top + (i / f->cols) * ch;
    layout L;
    memset(&L, 0, sizeof L);
    st = layout_axes(&X, ax, cx0, cy0, cx0 + cw, cy0 + ch, &L, err, err_len);
    if (!st) {
      draw_grid(&X, ax, &L);
      cls_canvas_set_clip(c, (int)floor(L.l), (int)floor(L.t), (int)ceil(L.r), (int)ceil(L.b));
      for (size_t s = 0; s < ax->n_series; s++) draw_series(&X, ax, &ax->series[s]);
      cls_canvas_reset_clip(c);
      draw_legend(&X, ax, &L);
      draw_frame_and_ticks(&X, ax, &L);
      draw_labels(&X, ax, &L, cx0);
      if (ax->has_cb) draw_colorbar(&X, ax, &L);
    }
    free(L.xt.t);
    free(L.yt.t);
    free(L.cbt.t);
  }
  if (st) {
    cls_canvas_destroy(c);
    return st;
  }
  *out = c;
  return CLS_OK;
}

cls_status cls_figure_save_png(cls_figure *f, const cls_font *font, const char *path, char *err, size_t err_len) {
  cls_canvas *c;
  cls_status st = cls_figure_render(f, font, &c, err, err_len);
  if (st) return st;
  st = cls_png_write(c, path, false, err, err_len);
  cls_canvas_destroy(c);
  return st;
}
