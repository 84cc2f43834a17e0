/*
 * src/plot/figures_transfer.c — the learning-rate transfer figure
 * (`--kind lr-transfer`, issue 17): final loss against the peak learning
 * rate, one curve per value of the varied dimension (width, depth,
 * label_tokens, head_dim), one panel per parametrisation (SP, muP, ...)
 * side by side on one loss axis, so that a reader sees at a glance whether
 * the minima line up. Each curve's optimum (the fit layer's parabola
 * vertex, lrtransfer.h) is a star; a rate at which every seed diverged is a
 * triangle at the top edge of the panel, not left out: divergence is where
 * SP's rate runs out first.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "figures_internal.h"
#include "fit/lrtransfer.h"

bool cls__fig_is_lr_transfer(const cls_solved *s) {
  if (!s || s->n_points < 3) return false;
  double lr[3];
  size_t n = 0;
  for (size_t i = 0; i < s->n_points && n < 3; i++) {
    const double v = cls_solved_num(&s->points[i], "lr");
    if (!isfinite(v)) return false;
    size_t j = 0;
    while (j < n && lr[j] != v) j++;
    if (j == n) lr[n++] = v;
  }
  return n >= 3;
}

static const char *param_label(const char *p) {
  return !strcmp(p, "mup") ? "\\muP" : !strcmp(p, "sp") ? "SP" : !strcmp(p, "mup-depth") ? "depth-\\muP" : p;
}

/* The loss axis every panel shares: the finished losses' range, with room
 * above for the diverged runs' markers (*top). */
static void loss_range(const cls_fit_lrtransfer *t, double *lo, double *hi, double *top) {
  *lo = INFINITY, *hi = -INFINITY;
  for (size_t p = 0; p < t->n_families; p++)
    for (size_t c = 0; c < t->families[p].n_curves; c++) {
      const cls_lrt_curve *cv = &t->families[p].curves[c];
      for (size_t i = 0; i < cv->n; i++)
        if (isfinite(cv->loss[i]) && cv->loss[i] > 0) *lo = fmin(*lo, cv->loss[i]), *hi = fmax(*hi, cv->loss[i]);
      /* the parabola's vertex may lie below every measured loss */
      if (cv->opt.ok && cv->opt.loss_opt > 0) *lo = fmin(*lo, cv->opt.loss_opt);
    }
  if (!isfinite(*lo)) *lo = 0.1, *hi = 1;
  const double span = log(*hi / *lo) > 0.05 ? log(*hi / *lo) : 0.05;
  *top = *hi * exp(0.08 * span);
  *lo *= exp(-0.05 * span);
  *hi = *hi * exp(0.14 * span);
}

static cls_status panel(cls_axes *ax, const cls_fit_lrtransfer *t, const cls_lrt_family *f, double vlo, double vhi,
                        double top, bool first) {
  char title[160];
  if (f->slope_ok)
    snprintf(title, sizeof title, "%s: lr* ~ %s^{%.2f}", param_label(f->param), t->dim, f->slope);
  else
    snprintf(title, sizeof title, "%s", param_label(f->param));
  cls_status st = cls_axes_set_text(ax, title, "peak learning rate", first ? "final eval loss" : NULL);
  cls_axes_set_scales(ax, CLS_SCALE_LOG, CLS_SCALE_LOG);
  cls_axes_set_legend(ax, true);
  for (size_t c = 0; c < f->n_curves && !st; c++) {
    const cls_lrt_curve *cv = &f->curves[c];
    const cls_rgba col = cls_colormap(cv->value, vlo, vhi > vlo ? vhi : vlo * 2, CLS_SCALE_LOG);
    double *x = malloc(cv->n * sizeof *x), *y = malloc(cv->n * sizeof *y), *dx = malloc(cv->n * sizeof *dx),
           *dy = malloc(cv->n * sizeof *dy);
    if (!x || !y || !dx || !dy) st = CLS_ERR_OUT_OF_MEMORY;
    size_t m = 0, nd = 0;
    for (size_t i = 0; !st && i < cv->n; i++) {
      if (isfinite(cv->loss[i]) && cv->loss[i] > 0)
        x[m] = cv->lr[i], y[m++] = cv->loss[i];
      else if (cv->n_div[i])
        dx[nd] = cv->lr[i], dy[nd++] = top;
    }
    char label[96];
    char v[32];
    cls__fig_fmt_sig(cv->value, 3, v, sizeof v);
    if (cv->opt.ok) {
      char l[32];
      cls__fig_fmt_sig(cv->opt.lr_opt, 2, l, sizeof l);
      snprintf(label, sizeof label, "%s %s: lr* %s", t->dim, v, l);
    } else {
      snprintf(label, sizeof label, "%s %s: at the grid's %s edge", t->dim, v, cv->opt.edge < 0 ? "low" : "high");
    }
    cls_series_style ls = cls_style_markers(col, CLS_MARKER_CIRCLE, 4.5);
    ls.line_pt = 1.3;
    if (!st) st = cls_axes_add_series(ax, x, y, m, &ls, label);
    if (!st && nd) {
      cls_series_style ds = cls_style_markers(col, CLS_MARKER_TRIANGLE, 6);
      ds.no_autoscale = true;
      st = cls_axes_add_series(ax, dx, dy, nd, &ds, NULL);
    }
    if (!st && cv->opt.ok) {
      cls_series_style os = cls_style_markers(col, CLS_MARKER_STAR, 11);
      os.marker_edge = cls_rgba_make(0.1f, 0.1f, 0.1f, 1.0f);
      os.marker_edge_pt = 0.6;
      st = cls_axes_add_series(ax, &cv->opt.lr_opt, &cv->opt.loss_opt, 1, &os, NULL);
    }
    free(x), free(y), free(dx), free(dy);
  }
  return st;
}

cls_status cls__fig_lr_transfer(const cls_plot_inputs *in, const cls_plot_options *o, cls_figure **out, char *why,
                                size_t len) {
  if (!in->rd || !in->rd->path) {
    cls__fig_note(why, len, "needs the points of a learning-rate transfer sweep");
    return CLS_OK;
  }
  cls_lrt_input *li = NULL;
  char err[1024] = "";
  cls_status st = cls_fit_lrt_input_from_rundir(in->rd->path, &li, err, sizeof err);
  if (st == CLS_OK && !cls_fit_lrt_applies(li)) {
    snprintf(err, sizeof err, "needs a learning-rate transfer sweep: 3 or more rates (docs/sweep.md)");
    st = CLS_ERR_INVALID_VALUE;
  }
  cls_fit_lrtransfer t;
  memset(&t, 0, sizeof t);
  if (st == CLS_OK) {
    /* The figure marks the optima only: no resamples needed. */
    cls_fit_options fo;
    cls_fit_options_default(&fo);
    fo.bootstrap = 0;
    st = cls_fit_lrtransfer_run(li, &fo, &t, err, sizeof err);
  }
  cls_fit_lrt_input_destroy(li);
  if (st == CLS_ERR_INVALID_VALUE || st == CLS_ERR_IO) { /* no figure to draw: say why */
    cls__fig_note(why, len, err);
    return CLS_OK;
  }
  if (st) return st;
  double vlo = INFINITY, vhi = -INFINITY, lo, hi, top;
  for (size_t p = 0; p < t.n_families; p++)
    for (size_t c = 0; c < t.families[p].n_curves; c++)
      vlo = fmin(vlo, t.families[p].curves[c].value), vhi = fmax(vhi, t.families[p].curves[c].value);
  loss_range(&t, &lo, &hi, &top);
  const int cols = (int)t.n_families;
  cls_figure *f = NULL;
  st = cls__fig_new(o, 0.62 * (double)cols + 0.2, 1.05, 1, cols, &f);
  if (st) {
    cls_fit_lrtransfer_free(&t);
    return st;
  }
  char title[200];
  snprintf(title, sizeof title, "Learning-rate transfer across %s (final loss after %g %s)", t.dim, t.budget,
           t.budget_unit);
  st = cls_figure_set_title(f, cls__fig_title_or(o, title));
  for (int p = 0; p < cols && !st; p++) {
    cls_axes *ax = cls_figure_axes(f, p);
    cls_axes_set_ylim(ax, lo, hi); /* one loss axis for every panel */
    st = panel(ax, &t, &t.families[p], vlo, vhi, top, p == 0);
  }
  cls_fit_lrtransfer_free(&t);
  return cls__fig_finish(f, st, out);
}
