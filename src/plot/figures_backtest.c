/*
 * src/plot/figures_backtest.c — the figures of a fit's predictions: the
 * backtest, and the worth of repeated data (the data-constrained law).
 *
 * The backtest of `clscale fit --holdout-top
 * K`: the runs the law was fitted to and the held-out runs against the law
 * fitted without them, loss against N. Each held-out budget gets the law's
 * IsoFLOP curve L(N, D(N)) extrapolated to it, with D(N) = C/(κN) for the
 * budget's own measured FLOPs per parameter-token κ, so that the observed
 * points can be read against the curve, and each run its prediction with
 * the prediction interval.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "figures_internal.h"

static const cls_rgba HELD = {0.84f, 0.15f, 0.16f, 1.0f}; /* observed, held out */
static const cls_rgba PRED = {0.12f, 0.47f, 0.71f, 1.0f}; /* predicted */
static const cls_rgba FITTED = {0.6f, 0.6f, 0.6f, 1.0f};

static double law(const cls_fit *F, double n, double d) {
  return F->E + F->A / pow(n, F->alpha) + F->B / pow(d, F->beta);
}

cls_status cls__fig_backtest(const cls_plot_inputs *in, const cls_plot_options *o, cls_figure **out, char *why,
                             size_t len) {
  const cls_fit *F = in->fit;
  if (!F || !F->backtest.present || !F->has_parametric || !F->backtest.n_runs) {
    cls__fig_note(why, len,
                  in->fit_missing ? in->fit_missing
                                  : "needs the \"backtest\" section of fit.json (clscale fit --holdout-top K)");
    return CLS_OK;
  }
  const cls_backtest_fit *B = &F->backtest;
  double nlo = INFINITY, nhi = -INFINITY, llo = INFINITY, lhi = -INFINITY;
  for (size_t i = 0; i < B->n_runs; i++) {
    const cls_backtest_run *r = &B->runs[i];
    nlo = fmin(nlo, r->n_params), nhi = fmax(nhi, r->n_params);
    llo = fmin(llo, fmin(r->observed, isfinite(r->pi.lo) ? r->pi.lo : r->predicted));
    lhi = fmax(lhi, fmax(r->observed, isfinite(r->pi.hi) ? r->pi.hi : r->predicted));
  }
  for (size_t i = 0; i < F->n_param_points; i++) {
    const cls_param_point *p = &F->param_points[i];
    if (!(p->n_params > 0) || !(p->observed > 0)) continue;
    nlo = fmin(nlo, p->n_params), nhi = fmax(nhi, p->n_params);
    llo = fmin(llo, p->observed), lhi = fmax(lhi, p->observed);
  }
  if (!(nhi > nlo)) nhi = nlo * 10;
  if (!(lhi > llo)) lhi = llo * 1.1;
  cls_scale_pad(CLS_SCALE_LOG, &nlo, &nhi, 0.05);
  cls_scale_pad(CLS_SCALE_LOG, &llo, &lhi, 0.06);
  cls_figure *f;
  cls_status st = cls__fig_new(o, 1.0, 1.0, 1, 1, &f);
  if (st) return st;
  cls_axes *ax = cls_figure_axes(f, 0);
  cls_axes_set_scales(ax, CLS_SCALE_LOG, CLS_SCALE_LOG);
  cls_axes_set_xlim(ax, nlo, nhi);
  cls_axes_set_ylim(ax, llo, lhi);
  char title[200], cmax[48];
  cls__fig_fmt_sig(B->train_flops_max, 3, cmax, sizeof cmax);
  snprintf(title, sizeof title, "Backtest: %zu of %zu held-out runs inside their %d%% prediction interval",
           B->n_inside, B->n_runs, (int)lround(100 * (isfinite(B->ci_level) ? B->ci_level : 0.95)));
  cls_axes_set_text(ax, cls__fig_title_or(o, title), "model size N (parameters)", "final loss");
  /* the runs the law was fitted to (C up to the largest training budget) */
  cls_series_style gs = cls_style_markers(FITTED, CLS_MARKER_CIRCLE, 4);
  bool first = true;
  for (size_t i = 0; i < F->n_param_points && !st; i++) {
    const cls_param_point *p = &F->param_points[i];
    if (!(p->n_params > 0) || !(p->observed > 0)) continue;
    char label[96];
    snprintf(label, sizeof label, "fitted runs (C up to %s)", cmax);
    st = cls_axes_add_series(ax, &p->n_params, &p->observed, 1, &gs, first ? label : NULL);
    first = false;
  }
  /* per held-out budget, the law's curve through it */
  cls_series_style ls = cls__fig_dashed(PRED, 1.2, 5, 3);
  for (size_t i = 0; i < B->n_runs && !st; i++) {
    double c = B->runs[i].budget_flops;
    bool seen = false;
    for (size_t j = 0; j < i; j++) seen = seen || B->runs[j].budget_flops == c;
    if (seen || !(c > 0)) continue;
    double kappa = 0, lo = INFINITY, hi = -INFINITY;
    size_t m = 0;
    for (size_t j = 0; j < B->n_runs; j++)
      if (B->runs[j].budget_flops == c) {
        const cls_backtest_run *r = &B->runs[j];
        kappa += log(r->flops / (r->n_params * r->tokens)), m++;
        lo = fmin(lo, r->n_params), hi = fmax(hi, r->n_params);
      }
    kappa = exp(kappa / (double)m);
    double x[48], y[48];
    cls__fig_logspace(lo / 1.5, hi * 1.5, 48, x);
    for (int k = 0; k < 48; k++) y[k] = law(F, x[k], c / (kappa * x[k]));
    char label[96], cs[48];
    cls__fig_fmt_sig(c, 3, cs, sizeof cs);
    snprintf(label, sizeof label, "law fitted without them, at C = %s", cs);
    st = cls_axes_add_series(ax, x, y, 48, &ls, label);
  }
  /* the held-out runs: prediction interval, prediction, observation */
  cls_series_style bar = cls_style_line(PRED, 1.5);
  cls_series_style ps = cls_style_markers(PRED, CLS_MARKER_SQUARE, 5);
  cls_series_style hs = cls_style_markers(HELD, CLS_MARKER_CIRCLE, 6);
  for (size_t i = 0; i < B->n_runs && !st; i++) {
    const cls_backtest_run *r = &B->runs[i];
    if (isfinite(r->pi.lo) && isfinite(r->pi.hi)) {
      double x[2] = {r->n_params, r->n_params}, y[2] = {r->pi.lo, r->pi.hi};
      st = cls_axes_add_series(ax, x, y, 2, &bar, i == 0 ? "prediction interval" : NULL);
    }
    if (!st) st = cls_axes_add_series(ax, &r->n_params, &r->predicted, 1, &ps, i == 0 ? "predicted" : NULL);
  }
  for (size_t i = 0; i < B->n_runs && !st; i++) {
    const cls_backtest_run *r = &B->runs[i];
    st = cls_axes_add_series(ax, &r->n_params, &r->observed, 1, &hs, i == 0 ? "held-out runs (observed)" : NULL);
  }
  return cls__fig_finish(f, st, out);
}

/* ---------------------------------------------------------------- repeats */

/* D'/D: what the tokens of a run with this many epochs are worth, in
 * fresh tokens, under R*_D (R = epochs − 1). */
static double value_of(double epochs, double rs) {
  double r = epochs - 1;
  return (1 + rs * (1 - exp(-r / rs))) / epochs;
}

cls_status cls__fig_repeats(const cls_plot_inputs *in, const cls_plot_options *o, cls_figure **out, char *why,
                            size_t len) {
  const cls_fit *F = in->fit;
  if (!F || !F->constrained.present) {
    cls__fig_note(why, len,
                  in->fit_missing
                      ? in->fit_missing
                      : "needs the \"data_constrained\" section of fit.json (runs that repeat their data)");
    return CLS_OK;
  }
  const cls_constrained_fit *c = &F->constrained;
  double emax = fmax(100, 4 * (isfinite(c->max_epochs) ? c->max_epochs : 1));
  enum { NP = 80 };
  double x[NP], y[NP], marg[NP], lo[NP], hi[NP];
  cls__fig_logspace(1, emax, NP, x);
  double *col = malloc((c->draws.n ? c->draws.n : 1) * sizeof *col);
  if (!col) return CLS_ERR_OUT_OF_MEMORY;
  for (int i = 0; i < NP; i++) {
    y[i] = value_of(x[i], c->rd_star);
    marg[i] = exp(-(x[i] - 1) / c->rd_star);
    size_t m = 0;
    for (size_t r = 0; r < c->draws.n; r++) {
      double rs = c->draws.v[r * c->draws.width + 5];
      if (rs > 0) col[m++] = value_of(x[i], rs);
    }
    lo[i] = hi[i] = NAN;
    if (m >= 10) {
      /* a percentile band at the fit's level, as the other bands */
      double level = isfinite(F->ci_level) ? F->ci_level : 0.95;
      for (size_t a = 1; a < m; a++)
        for (size_t b = a; b > 0 && col[b] < col[b - 1]; b--) {
          double t = col[b];
          col[b] = col[b - 1], col[b - 1] = t;
        }
      lo[i] = col[(size_t)floor((1 - level) / 2 * (double)(m - 1))];
      hi[i] = col[(size_t)ceil((1 + level) / 2 * (double)(m - 1))];
    }
  }
  free(col);
  cls_figure *f;
  cls_status st = cls__fig_new(o, 1.0, 1.0, 1, 1, &f);
  if (st) return st;
  cls_axes *ax = cls_figure_axes(f, 0);
  cls_axes_set_scales(ax, CLS_SCALE_LOG, CLS_SCALE_LINEAR);
  cls_axes_set_xlim(ax, 1, emax);
  cls_axes_set_ylim(ax, 0, 1.05);
  char title[160], rs[32], he[32];
  cls__fig_fmt_sig(c->rd_star, 3, rs, sizeof rs);
  cls__fig_fmt_sig(c->half_value_epochs, 3, he, sizeof he);
  snprintf(title, sizeof title, "Repeated data: R*_{D} = %s, half value from epoch %s", rs, he);
  cls_axes_set_text(ax, cls__fig_title_or(o, title), "epochs (passes over the unique data)",
                    "worth of the tokens, in fresh tokens");
  if (isfinite(lo[0]) && isfinite(lo[NP - 1])) {
    st = cls_axes_add_band(ax, x, lo, hi, NP, cls_rgba_make(PRED.r, PRED.g, PRED.b, 0.25f), "bootstrap band");
  }
  cls_series_style vs = cls_style_line(PRED, 2);
  if (!st) st = cls_axes_add_series(ax, x, y, NP, &vs, "D'/D: all the run's tokens");
  cls_series_style ms = cls__fig_dashed(HELD, 1.5, 5, 3);
  if (!st) st = cls_axes_add_series(ax, x, marg, NP, &ms, "the last pass's tokens, e^{-R_D/R*_D}");
  double hx[2] = {c->half_value_epochs, c->half_value_epochs}, hy[2] = {0, 1.05};
  cls_series_style hs = cls__fig_dashed(FITTED, 1.0, 3, 3);
  if (!st) st = cls_axes_add_series(ax, hx, hy, 2, &hs, "half value: 1 + R*_D ln 2");
  /* the runs, on the curve at their epochs */
  cls_series_style rsy = cls_style_markers(cls_rgba_make(0.1f, 0.1f, 0.1f, 1.0f), CLS_MARKER_CIRCLE, 4);
  bool first = true;
  for (size_t i = 0; i < F->n_param_points && !st; i++) {
    double e = F->param_points[i].epochs;
    if (!(e >= 1)) continue;
    double v = value_of(e, c->rd_star);
    st = cls_axes_add_series(ax, &e, &v, 1, &rsy, first ? "the runs" : NULL);
    first = false;
  }
  return cls__fig_finish(f, st, out);
}
