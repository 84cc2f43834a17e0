/*
 * src/plot/figures.c — builds the scaling-law figures from a run directory
 * and its fit: what each figure shows, in which colours, with which legend.
 */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "figures_internal.h"

static const char *const kind_names[CLS_PLOT_KIND_COUNT] = {"loss-flops",
                                                            "isoflop",
                                                            "optimal",
                                                            "loss-n",
                                                            "loss-d",
                                                            "parametric",
                                                            "coord-check",
                                                            "rf-loss-n",
                                                            "rf-loss-t",
                                                            "rf-double-descent",
                                                            "zipf-error",
                                                            "collapse-loss-d",
                                                            "collapse-accuracy-d",
                                                            "collapse-generation",
                                                            "collapse-real-fraction",
                                                            "gcd-outcomes",
                                                            "backtest",
                                                            "repeats"};

const char *cls_plot_kind_name(cls_plot_kind k) {
  return (int)k >= 0 && k < CLS_PLOT_KIND_COUNT ? kind_names[k] : "unknown";
}

int cls_plot_kind_parse(const char *s) {
  for (int i = 0; s && i < CLS_PLOT_KIND_COUNT; i++)
    if (!strcmp(s, kind_names[i])) return i;
  return -1;
}

const char *cls_plot_kind_task(cls_plot_kind k) {
  switch (k) {
  case CLS_PLOT_RF_LOSS_N:
  case CLS_PLOT_RF_LOSS_T:
  case CLS_PLOT_RF_DOUBLE_DESCENT:
    return "rf";
  case CLS_PLOT_ZIPF_ERROR:
    return "zipf";
  case CLS_PLOT_COLLAPSE_LOSS_D:
  case CLS_PLOT_COLLAPSE_ACCURACY_D:
  case CLS_PLOT_COLLAPSE_GENERATION:
  case CLS_PLOT_COLLAPSE_REAL_FRACTION:
  case CLS_PLOT_GCD_OUTCOMES:
    return "collapse";
  case CLS_PLOT_BACKTEST:
  case CLS_PLOT_REPEATS:
    return "fit";
  default:
    return NULL;
  }
}

static const cls_rgba BLACK = {0.1f, 0.1f, 0.1f, 1.0f};
static const cls_rgba GREY = {0.45f, 0.45f, 0.45f, 1.0f};

/* A number with sig significant digits in plot markup: 41.2, 0.152, 2.3×10^{3}. */
void cls__fig_fmt_sig(double v, int sig, char *buf, size_t len) {
  if (!isfinite(v)) {
    snprintf(buf, len, "?");
    return;
  }
  double av = fabs(v);
  if (av != 0.0 && (av >= 1e4 || av < 1e-3)) {
    int e = (int)floor(log10(av));
    double m = v / pow(10.0, e);
    if (fabs(m) >= 9.995) m /= 10.0, e++; /* %.2f would print 10.00 */
    snprintf(buf, len, "%.*f\\times10^{%d}", sig > 1 ? sig - 1 : 0, m, e);
    return;
  }
  snprintf(buf, len, "%.*g", sig, v);
}

cls_series_style cls__fig_dashed(cls_rgba c, double w, double on, double off) {
  cls_series_style s = cls_style_line(c, w);
  s.n_dash = 2;
  s.dash_pt[0] = on;
  s.dash_pt[1] = off;
  return s;
}

/* Log-spaced grid of n points over [lo,hi]. */
void cls__fig_logspace(double lo, double hi, int n, double *out) {
  for (int i = 0; i < n; i++) out[i] = pow(10.0, log10(lo) + (log10(hi) - log10(lo)) * i / (n - 1));
}

static void range_of(const cls_rundir *rd, size_t field_offset, double *lo, double *hi) {
  *lo = INFINITY, *hi = -INFINITY;
  for (size_t i = 0; i < rd->n_points; i++) {
    if (!rd->points[i].usable) continue;
    double v = *(const double *)((const char *)&rd->points[i] + field_offset);
    if (v > 0 && isfinite(v)) *lo = fmin(*lo, v), *hi = fmax(*hi, v);
  }
}

static size_t n_usable(const cls_rundir *rd) {
  size_t n = 0;
  for (size_t i = 0; rd && i < rd->n_points; i++) n += rd->points[i].usable;
  return n;
}

void cls__fig_note(char *why, size_t len, const char *msg) {
  size_t used = strlen(why);
  if (used + 3 < len) snprintf(why + used, len - used, "%s%s", used ? "; " : "", msg);
}

/* "prefix: fit_missing" when fit.json is absent, else the section message. */
static void note_fit(char *why, size_t len, const cls_plot_inputs *in, const char *prefix,
                     const char *section_msg) {
  if (in->fit_missing) {
    char msg[700];
    snprintf(msg, sizeof msg, "%s: %s", prefix, in->fit_missing);
    cls__fig_note(why, len, msg);
  } else {
    cls__fig_note(why, len, section_msg);
  }
}

cls_status cls__fig_new(const cls_plot_options *o, double wscale, double hscale, int rows, int cols,
                        cls_figure **f) {
  return cls_figure_create(o->width_in * wscale, o->height_in * hscale, o->dpi, rows, cols, f, NULL, 0);
}

cls_status cls__fig_finish(cls_figure *f, cls_status st, cls_figure **out) {
  if (st)
    cls_figure_destroy(f);
  else
    *out = f;
  return st;
}

const char *cls__fig_title_or(const cls_plot_options *o, const char *def) {
  return o->title ? o->title : def;
}

/* Points with a run directory but no usable summary skip every data figure. */
static bool need_points(const cls_plot_inputs *in, char *why, size_t len) {
  if (!in->rd || !in->rd->has_points_dir) {
    cls__fig_note(why, len, "needs points/<id>.json files (the run directory has no points/ folder)");
    return false;
  }
  if (n_usable(in->rd) == 0) {
    cls__fig_note(why, len,
                  "needs at least one points/<id>.json with status \"ok\" and finite n_params, tokens, flops, "
                  "final_eval_loss");
    return false;
  }
  return true;
}

/* ------------------------------------------------------------ loss-flops */

typedef struct {
  double c, l;
} cl_pair;

static int cmp_pair(const void *a, const void *b) {
  double x = ((const cl_pair *)a)->c, y = ((const cl_pair *)b)->c;
  return (x > y) - (x < y);
}

static cls_status fig_loss_flops(const cls_plot_inputs *in, const cls_plot_options *o, cls_figure **out, char *why,
                                 size_t len) {
  if (!need_points(in, why, len)) return CLS_OK;
  const cls_rundir *rd = in->rd;
  size_t total = 0, with_curve = 0;
  const char *missing = NULL, *missing_file = NULL;
  for (size_t i = 0; i < rd->n_points; i++) {
    const cls_run_point *p = &rd->points[i];
    if (!p->usable) continue;
    if (p->curve.n == 0) continue;
    if (!p->curve.flops || !p->curve.eval_loss) {
      missing = !p->curve.flops ? "flops" : "eval_loss";
      missing_file = p->id;
      continue;
    }
    with_curve++;
    total += p->curve.n;
  }
  if (with_curve == 0) {
    char msg[300];
    if (missing)
      snprintf(msg, sizeof msg,
               "needs column '%s' in points/%s.csv (columns: step,tokens,flops,flops_6nd,"
               "train_loss,eval_loss,lr,seconds)",
               missing, missing_file);
    else
      snprintf(msg, sizeof msg, "needs loss curves points/<id>.csv with columns flops and eval_loss");
    cls__fig_note(why, len, msg);
    return CLS_OK;
  }
  cls_figure *f;
  cls_status st = cls__fig_new(o, 1.0, 1.0, 1, 1, &f);
  if (st) return st;
  cls_axes *ax = cls_figure_axes(f, 0);
  cls_axes_set_scales(ax, CLS_SCALE_LOG, CLS_SCALE_LOG);
  cls_axes_set_text(ax, cls__fig_title_or(o, "Loss vs compute"), "training compute C (FLOPs)", "eval loss");
  double nlo, nhi;
  range_of(rd, offsetof(cls_run_point, n_params), &nlo, &nhi);
  if (!(nhi > nlo)) nhi = nlo * 10; /* one model size: a decade of colorbar, the curve at its bottom */
  cl_pair *all = malloc(total * sizeof *all);
  if (!all) {
    cls_figure_destroy(f);
    return CLS_ERR_OUT_OF_MEMORY;
  }
  size_t m = 0;
  for (size_t i = 0; i < rd->n_points && !st; i++) {
    const cls_run_point *p = &rd->points[i];
    if (!p->usable || !p->curve.n || !p->curve.flops || !p->curve.eval_loss) continue;
    cls_series_style s = cls_style_line(cls_colormap(p->n_params, nlo, nhi, CLS_SCALE_LOG), 1.2);
    s.color.a = 0.9f;
    st = cls_axes_add_series(ax, p->curve.flops, p->curve.eval_loss, p->curve.n, &s, NULL);
    for (size_t j = 0; j < p->curve.n; j++)
      if (p->curve.flops[j] > 0 && p->curve.eval_loss[j] > 0 && isfinite(p->curve.eval_loss[j]))
        all[m].c = p->curve.flops[j], all[m].l = p->curve.eval_loss[j], m++;
  }
  /* The compute frontier: the lowest loss any run reached with at most C
   * FLOPs, sampled in log-spaced bins so it reads as points on the envelope. */
  qsort(all, m, sizeof *all, cmp_pair);
  double fx[40], fy[40];
  int nf = 0;
  if (m > 1) {
    double a = log10(all[0].c), b = log10(all[m - 1].c), best = INFINITY;
    size_t j = 0;
    for (int bin = 0; bin < 40; bin++) {
      double edge = a + (b - a) * (bin + 1) / 40.0, bin_c = NAN, bin_l = INFINITY;
      for (; j < m && log10(all[j].c) <= edge + 1e-12; j++)
        if (all[j].l < bin_l) bin_l = all[j].l, bin_c = all[j].c;
      if (bin_l < best) {
        best = bin_l;
        fx[nf] = bin_c, fy[nf] = bin_l, nf++;
      }
    }
  }
  free(all);
  cls_series_style fm = cls_style_markers(BLACK, CLS_MARKER_CIRCLE, 3.5);
  fm.marker_edge_pt = 0;
  if (!st && nf) st = cls_axes_add_series(ax, fx, fy, (size_t)nf, &fm, "compute frontier");
  if (!st && in->fit && in->fit->has_frontier) {
    const cls_fit *F = in->fit;
    double lo = isfinite(F->fr_c_lo) ? F->fr_c_lo : (nf ? fx[0] : 1e10);
    double hi = isfinite(F->fr_c_hi) ? F->fr_c_hi : (nf ? fx[nf - 1] : 1e20);
    double c[64], l[64];
    cls__fig_logspace(lo, hi, 64, c);
    for (int i = 0; i < 64; i++) l[i] = F->fr_E + F->fr_k * pow(c[i], -F->fr_gamma);
    char E[48], k[48], g[48], label[256];
    cls__fig_fmt_sig(F->fr_E, 3, E, sizeof E);
    cls__fig_fmt_sig(F->fr_k, 3, k, sizeof k);
    cls__fig_fmt_sig(F->fr_gamma, 3, g, sizeof g);
    snprintf(label, sizeof label, "fit: L = %s + %s\\cdotC^{-%s}", E, k, g);
    cls_series_style d = cls__fig_dashed(BLACK, 1.6, 5.0, 3.0);
    st = cls_axes_add_series(ax, c, l, 64, &d, label);
  } else if (!st) {
    note_fit(why, len, in, "frontier fit not drawn",
             "fit.json has no \"frontier\" section: frontier fit not drawn");
  }
  if (!st)
    st = cls_axes_set_colorbar(ax, nlo, nhi > nlo ? nhi : nlo * 10, CLS_SCALE_LOG, CLS_LABEL_SI,
                               "model size N (parameters)");
  return cls__fig_finish(f, st, out);
}

/* ---------------------------------------------------------------- isoflop */

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Distinct budgets (within 1%) of the usable points, sorted. */
static size_t budgets_of(const cls_rundir *rd, double *out, size_t cap) {
  size_t n = 0;
  for (size_t i = 0; i < rd->n_points; i++) {
    const cls_run_point *p = &rd->points[i];
    if (!p->usable || !(p->budget_flops > 0)) continue;
    bool seen = false;
    for (size_t j = 0; j < n; j++) seen |= fabs(out[j] - p->budget_flops) <= 0.01 * out[j];
    if (!seen && n < cap) out[n++] = p->budget_flops;
  }
  qsort(out, n, sizeof *out, cmp_double);
  return n;
}

static const cls_isoflop_budget *fit_budget(const cls_fit *fit, double budget) {
  for (size_t i = 0; fit && i < fit->n_budgets; i++)
    if (fabs(fit->budgets[i].budget_flops - budget) <= 0.01 * budget) return &fit->budgets[i];
  return NULL;
}

static cls_status fig_isoflop(const cls_plot_inputs *in, const cls_plot_options *o, cls_figure **out, char *why,
                              size_t len) {
  if (!need_points(in, why, len)) return CLS_OK;
  const cls_rundir *rd = in->rd;
  double budgets[64];
  size_t nb = budgets_of(rd, budgets, 64);
  if (nb == 0) {
    cls__fig_note(why, len, "needs \"budget_flops\" in points/<id>.json (the sweep's compute budget of each run)");
    return CLS_OK;
  }
  cls_figure *f;
  cls_status st = cls__fig_new(o, 1.0, 1.0, 1, 1, &f);
  if (st) return st;
  cls_axes *ax = cls_figure_axes(f, 0);
  /* Linear loss, as in the Chinchilla paper, while the budgets' losses are
   * comparable; a log axis once they span more than a factor of 8, or the
   * large budgets' parabolas flatten into the axis. */
  double ylo = INFINITY, yhi = 0;
  for (size_t i = 0; i < rd->n_points; i++)
    if (rd->points[i].usable && rd->points[i].final_eval_loss > 0)
      ylo = fmin(ylo, rd->points[i].final_eval_loss), yhi = fmax(yhi, rd->points[i].final_eval_loss);
  const bool log_loss = yhi > 8.0 * ylo;
  cls_axes_set_scales(ax, CLS_SCALE_LOG, log_loss ? CLS_SCALE_LOG : CLS_SCALE_LINEAR);
  cls_axes_set_text(ax, cls__fig_title_or(o, "IsoFLOP profiles"), "model size N (parameters)", "final eval loss");
  cls_axes_set_label_styles(ax, CLS_LABEL_SI, CLS_LABEL_PLAIN);
  double blo = budgets[0], bhi = nb > 1 ? budgets[nb - 1] : budgets[0] * 10;
  bool any_fit = false;
  for (size_t b = 0; b < nb && !st; b++) {
    cls_rgba col = cls_colormap(budgets[b], blo, bhi, CLS_SCALE_LOG);
    double *x = malloc(rd->n_points * sizeof *x), *y = malloc(rd->n_points * sizeof *y);
    if (!x || !y) {
      free(x), free(y);
      st = CLS_ERR_OUT_OF_MEMORY;
      break;
    }
    size_t n = 0;
    for (size_t i = 0; i < rd->n_points; i++) {
      const cls_run_point *p = &rd->points[i];
      if (p->usable && fabs(p->budget_flops - budgets[b]) <= 0.01 * budgets[b])
        x[n] = p->n_params, y[n] = p->final_eval_loss, n++;
    }
    cls_series_style ms = cls_style_markers(col, CLS_MARKER_CIRCLE, 5.5);
    st = cls_axes_add_series(ax, x, y, n, &ms, NULL);
    const cls_isoflop_budget *q = fit_budget(in->fit, budgets[b]);
    if (!st && q && n > 0) {
      double lo = INFINITY, hi = -INFINITY;
      for (size_t i = 0; i < n; i++) lo = fmin(lo, x[i]), hi = fmax(hi, x[i]);
      lo = fmin(lo, q->n_opt) / 1.3, hi = fmax(hi, q->n_opt) * 1.3;
      double px[64], py[64];
      cls__fig_logspace(lo, hi, 64, px);
      for (int i = 0; i < 64; i++) {
        double t = log10(px[i]);
        py[i] = q->a * t * t + q->b * t + q->c;
        if (in->fit->parabola_of_log_loss) py[i] = pow(10, py[i]);
      }
      cls_series_style ls = cls_style_line(col, 1.3);
      st = cls_axes_add_series(ax, px, py, 64, &ls, NULL);
      cls_series_style star = cls_style_markers(col, CLS_MARKER_STAR, 11);
      star.marker_edge = BLACK;
      star.marker_edge_pt = 0.6;
      if (!st) st = cls_axes_add_series(ax, &q->n_opt, &q->loss_opt, 1, &star, NULL);
      any_fit = true;
    }
    free(x), free(y);
  }
  /* Legend entries that explain the encodings (no data of their own). */
  cls_series_style lm = cls_style_markers(GREY, CLS_MARKER_CIRCLE, 5.5);
  if (!st) st = cls_axes_add_series(ax, (double[]){0}, (double[]){0}, 0, &lm, "runs");
  if (!st && any_fit) {
    cls_series_style ll = cls_style_line(GREY, 1.3);
    st = cls_axes_add_series(ax, (double[]){0}, (double[]){0}, 0, &ll, "parabola in log N");
    cls_series_style ls = cls_style_markers(GREY, CLS_MARKER_STAR, 11);
    ls.marker_edge = BLACK;
    ls.marker_edge_pt = 0.6;
    if (!st) st = cls_axes_add_series(ax, (double[]){0}, (double[]){0}, 0, &ls, "minimum N_{opt}(C)");
  }
  if (!any_fit)
    note_fit(why, len, in, "parabolas not drawn", "fit.json has no \"isoflop\" budgets: parabolas not drawn");
  if (!st) st = cls_axes_set_colorbar(ax, blo, bhi, CLS_SCALE_LOG, CLS_LABEL_PLAIN, "compute budget C (FLOPs)");
  return cls__fig_finish(f, st, out);
}

/* ---------------------------------------------------------------- optimal */

static cls_status optimal_panel(cls_axes *ax, const cls_fit *F, bool is_n) {
  const cls_power_fit *pf = is_n ? &F->n_opt_fit : &F->d_opt_fit;
  const char *sym = is_n ? "N_{opt}" : "D_{opt}";
  cls_axes_set_scales(ax, CLS_SCALE_LOG, CLS_SCALE_LOG);
  cls_axes_set_label_styles(ax, CLS_LABEL_PLAIN, CLS_LABEL_SI);
  cls_axes_set_text(ax, is_n ? "Compute-optimal model size" : "Compute-optimal data", "compute budget C (FLOPs)",
                    is_n ? "N_{opt} (parameters)" : "D_{opt} (tokens)");
  cls_rgba col = is_n ? cls_palette(0) : cls_palette(1);
  cls_status st = CLS_OK;
  double clo = INFINITY, chi = -INFINITY;
  for (size_t i = 0; i < F->n_budgets; i++)
    clo = fmin(clo, F->budgets[i].budget_flops), chi = fmax(chi, F->budgets[i].budget_flops);
  if (pf->present) {
    if (pf->band_n >= 2) {
      cls_rgba bc = col;
      bc.a = 0.2f;
      char bl[64];
      if (isfinite(F->ci_level))
        snprintf(bl, sizeof bl, "%.0f%% bootstrap band", 100 * F->ci_level);
      else
        snprintf(bl, sizeof bl, "bootstrap band");
      st = cls_axes_add_band(ax, pf->band_c, pf->band_lo, pf->band_hi, pf->band_n, bc, bl);
    }
    double c[64], y[64], c0 = clo / 3.0, c1 = chi * 3.0;
    if (pf->band_n >= 2 && pf->band_c[0] > 0 && pf->band_c[pf->band_n - 1] > pf->band_c[0])
      c0 = pf->band_c[0], c1 = pf->band_c[pf->band_n - 1]; /* the line spans its band */
    cls__fig_logspace(c0, c1, 64, c);
    for (int i = 0; i < 64; i++) y[i] = pf->coef * pow(c[i], pf->exponent);
    char coef[48], label[200];
    cls__fig_fmt_sig(pf->coef, 2, coef, sizeof coef);
    if (isfinite(pf->exponent_ci.lo) && isfinite(pf->exponent_ci.hi))
      snprintf(label, sizeof label, "fit %s = %s\\cdotC^{%.3f}, exponent %.2f [%.2f, %.2f]", sym, coef,
               pf->exponent, pf->exponent, pf->exponent_ci.lo, pf->exponent_ci.hi);
    else
      snprintf(label, sizeof label, "fit %s = %s\\cdotC^{%.3f}", sym, coef, pf->exponent);
    cls_series_style ls = cls__fig_dashed(col, 1.6, 5, 3);
    ls.no_autoscale = true;
    if (!st) st = cls_axes_add_series(ax, c, y, 64, &ls, label);
  }
  /* Optima with their bootstrap intervals as error bars. */
  cls_series_style eb = cls_style_line(BLACK, 0.9);
  for (size_t i = 0; i < F->n_budgets && !st; i++) {
    const cls_isoflop_budget *q = &F->budgets[i];
    cls_interval ci = is_n ? q->n_opt_ci : q->d_opt_ci;
    if (!(ci.lo > 0) || !(ci.hi > 0)) continue;
    double x[2] = {q->budget_flops, q->budget_flops}, y[2] = {ci.lo, ci.hi};
    st = cls_axes_add_series(ax, x, y, 2, &eb, NULL);
  }
  double *x = malloc((F->n_budgets + 1) * sizeof *x), *y = malloc((F->n_budgets + 1) * sizeof *y);
  if (!x || !y) st = CLS_ERR_OUT_OF_MEMORY;
  for (size_t i = 0; !st && i < F->n_budgets; i++)
    x[i] = F->budgets[i].budget_flops, y[i] = is_n ? F->budgets[i].n_opt : F->budgets[i].d_opt;
  cls_series_style ms = cls_style_markers(col, CLS_MARKER_CIRCLE, 6.5);
  ms.marker_edge = BLACK;
  ms.marker_edge_pt = 0.6;
  if (!st) st = cls_axes_add_series(ax, x, y, F->n_budgets, &ms, "isoFLOP minima");
  free(x), free(y);
  return st;
}

static cls_status fig_optimal(const cls_plot_inputs *in, const cls_plot_options *o, cls_figure **out, char *why,
                              size_t len) {
  if (!in->fit) {
    note_fit(why, len, in, "needs fit.json", "needs fit.json");
    return CLS_OK;
  }
  if (in->fit->n_budgets < 2) {
    cls__fig_note(why, len, "needs fit.json isoflop.budgets with at least two budgets (n_opt, d_opt per budget)");
    return CLS_OK;
  }
  cls_figure *f;
  cls_status st = cls__fig_new(o, 1.75, 0.95, 1, 2, &f);
  if (!st && o->title) st = cls_figure_set_title(f, o->title);
  if (!st) st = optimal_panel(cls_figure_axes(f, 0), in->fit, true);
  if (!st) st = optimal_panel(cls_figure_axes(f, 1), in->fit, false);
  if (!st && !in->fit->n_opt_fit.present)
    cls__fig_note(why, len, "fit.json has no isoflop.n_opt_fit / d_opt_fit: power-law fits not drawn");
  return cls__fig_finish(f, st, out);
}

/* ------------------------------------------------------- loss-n / loss-d */

static double parametric(const cls_fit *F, double N, double D) {
  double l = F->E;
  if (isfinite(N)) l += F->A / pow(N, F->alpha);
  if (isfinite(D)) l += F->B / pow(D, F->beta);
  return l;
}

static int cmp_by_tokens(const void *a, const void *b) {
  double x = (*(const cls_run_point *const *)a)->tokens, y = (*(const cls_run_point *const *)b)->tokens;
  return (x > y) - (x < y);
}

static cls_status fig_loss_nd(const cls_plot_inputs *in, const cls_plot_options *o, bool by_n, cls_figure **out,
                              char *why, size_t len) {
  if (!need_points(in, why, len)) return CLS_OK;
  const cls_rundir *rd = in->rd;
  cls_figure *f;
  cls_status st = cls__fig_new(o, 1.0, 1.0, 1, 1, &f);
  if (st) return st;
  cls_axes *ax = cls_figure_axes(f, 0);
  cls_axes_set_scales(ax, CLS_SCALE_LOG, CLS_SCALE_LOG);
  cls_axes_set_label_styles(ax, CLS_LABEL_SI, CLS_LABEL_PLAIN);
  const cls_fit *F = in->fit && in->fit->has_parametric ? in->fit : NULL;
  double nlo, nhi, dlo, dhi;
  range_of(rd, offsetof(cls_run_point, n_params), &nlo, &nhi);
  range_of(rd, offsetof(cls_run_point, tokens), &dlo, &dhi);
  if (!(nhi > nlo)) nhi = nlo * 10;
  if (!(dhi > dlo)) dhi = dlo * 10;
  size_t n = rd->n_points;
  const cls_run_point **pts = malloc((n ? n : 1) * sizeof *pts);
  double *x = malloc((n ? n : 1) * sizeof *x), *y = malloc((n ? n : 1) * sizeof *y);
  if (!pts || !x || !y) st = CLS_ERR_OUT_OF_MEMORY;
  if (by_n) {
    cls_axes_set_text(ax, cls__fig_title_or(o, "Loss vs model size"), "model size N (parameters)",
                      "final eval loss");
    /* Each point coloured by its data size; the parametric law at infinite
     * data shows the model-size limit. */
    for (size_t i = 0; i < n && !st; i++) {
      const cls_run_point *p = &rd->points[i];
      if (!p->usable) continue;
      cls_series_style ms =
          cls_style_markers(cls_colormap(p->tokens, dlo, dhi, CLS_SCALE_LOG), CLS_MARKER_CIRCLE, 6);
      st = cls_axes_add_series(ax, &p->n_params, &p->final_eval_loss, 1, &ms, NULL);
    }
    if (!st && F) {
      double c[64], l[64], e[2] = {F->E, F->E}, ex[2] = {nlo / 1.5, nhi * 1.5};
      cls__fig_logspace(nlo / 1.5, nhi * 1.5, 64, c);
      for (int i = 0; i < 64; i++) l[i] = parametric(F, c[i], NAN);
      char A[48], E[48], label[200];
      cls__fig_fmt_sig(F->A, 3, A, sizeof A);
      cls__fig_fmt_sig(F->E, 3, E, sizeof E);
      snprintf(label, sizeof label, "L(N) = %s + %s/N^{%.3f} (unlimited data)", E, A, F->alpha);
      cls_series_style ls = cls__fig_dashed(BLACK, 1.5, 5, 3);
      st = cls_axes_add_series(ax, c, l, 64, &ls, label);
      cls_series_style es = cls__fig_dashed(GREY, 1.0, 1.5, 2.5); /* autoscaled: the asymptote belongs in view */
      snprintf(label, sizeof label, "E = %s (irreducible)", E);
      if (!st) st = cls_axes_add_series(ax, ex, e, 2, &es, label);
    }
    if (!st) st = cls_axes_set_colorbar(ax, dlo, dhi, CLS_SCALE_LOG, CLS_LABEL_SI, "training tokens D");
  } else {
    cls_axes_set_text(ax, cls__fig_title_or(o, "Loss vs data"), "training tokens D", "final eval loss");
    /* Runs of one model size joined in order of D, coloured by N; the
     * parametric law for that N dashed beside them. */
    double sizes[256];
    size_t ns = 0;
    for (size_t i = 0; i < n; i++) {
      const cls_run_point *p = &rd->points[i];
      bool seen = false;
      if (!p->usable) continue;
      for (size_t j = 0; j < ns; j++) seen |= fabs(sizes[j] - p->n_params) <= 1e-6 * sizes[j];
      if (!seen && ns < 256) sizes[ns++] = p->n_params;
    }
    qsort(sizes, ns, sizeof *sizes, cmp_double);
    for (size_t s = 0; s < ns && !st; s++) {
      size_t m = 0;
      for (size_t i = 0; i < n; i++)
        if (rd->points[i].usable && fabs(rd->points[i].n_params - sizes[s]) <= 1e-6 * sizes[s])
          pts[m++] = &rd->points[i];
      qsort(pts, m, sizeof *pts, cmp_by_tokens);
      for (size_t i = 0; i < m; i++) x[i] = pts[i]->tokens, y[i] = pts[i]->final_eval_loss;
      cls_rgba col = cls_colormap(sizes[s], nlo, nhi, CLS_SCALE_LOG);
      cls_series_style ms = cls_style_markers(col, CLS_MARKER_CIRCLE, 5.5);
      ms.line_pt = 1.0;
      st = cls_axes_add_series(ax, x, y, m, &ms, NULL);
      if (!st && F) {
        double c[48], l[48];
        cls__fig_logspace(dlo / 1.5, dhi * 1.5, 48, c);
        for (int i = 0; i < 48; i++) l[i] = parametric(F, sizes[s], c[i]);
        cls_series_style ls = cls__fig_dashed(col, 1.0, 3.5, 2.5);
        ls.no_autoscale = true;
        st = cls_axes_add_series(ax, c, l, 48, &ls, NULL);
      }
    }
    cls_series_style lm = cls_style_markers(GREY, CLS_MARKER_CIRCLE, 5.5);
    lm.line_pt = 1.0;
    if (!st) st = cls_axes_add_series(ax, x, y, 0, &lm, "runs of one model size");
    if (!st && F) {
      char label[200];
      snprintf(label, sizeof label, "L(N,D) fit: \\alpha = %.3f, \\beta = %.3f", F->alpha, F->beta);
      cls_series_style ls = cls__fig_dashed(GREY, 1.0, 3.5, 2.5);
      st = cls_axes_add_series(ax, x, y, 0, &ls, label);
    }
    if (!st) st = cls_axes_set_colorbar(ax, nlo, nhi, CLS_SCALE_LOG, CLS_LABEL_SI, "model size N (parameters)");
  }
  if (!F && !st)
    note_fit(why, len, in, "L(N,D) not drawn", "fit.json has no \"parametric\" section: L(N,D) not drawn");
  free(pts), free(x), free(y);
  return cls__fig_finish(f, st, out);
}

/* ------------------------------------------------------------- parametric */

static cls_status fig_parametric(const cls_plot_inputs *in, const cls_plot_options *o, cls_figure **out, char *why,
                                 size_t len) {
  const cls_fit *F = in->fit;
  if (!F || !F->has_parametric) {
    note_fit(why, len, in, "needs fit.json",
             "needs the \"parametric\" section of fit.json (E, A, alpha, B, beta)");
    return CLS_OK;
  }
  /* The fitter's own per-point predictions, else predictions from E, A, α, B, β
   * for the run directory's points. */
  size_t cap = F->n_param_points + (in->rd ? in->rd->n_points : 0);
  double *obs = malloc((cap ? cap : 1) * sizeof *obs), *pred = malloc((cap ? cap : 1) * sizeof *pred),
         *nn = malloc((cap ? cap : 1) * sizeof *nn);
  if (!obs || !pred || !nn) {
    free(obs), free(pred), free(nn);
    return CLS_ERR_OUT_OF_MEMORY;
  }
  size_t m = 0, skipped = 0;
  if (F->n_param_points) {
    for (size_t i = 0; i < F->n_param_points; i++) {
      const cls_param_point *p = &F->param_points[i];
      if (!(p->observed > 0) || !(p->predicted > 0) || !(p->n_params > 0)) {
        skipped++;
        continue;
      }
      obs[m] = p->observed, pred[m] = p->predicted, nn[m] = p->n_params, m++;
    }
  } else if (in->rd) {
    for (size_t i = 0; i < in->rd->n_points; i++) {
      const cls_run_point *p = &in->rd->points[i];
      if (!p->usable) continue;
      obs[m] = p->final_eval_loss, pred[m] = parametric(F, p->n_params, p->tokens), nn[m] = p->n_params, m++;
    }
  }
  if (skipped) {
    char msg[128];
    snprintf(msg, sizeof msg, "fit.json: %zu parametric.points with a missing or non-finite value skipped",
             skipped);
    cls__fig_note(why, len, msg);
  }
  if (m == 0) {
    free(obs), free(pred), free(nn);
    cls__fig_note(why, len,
                  "needs fit.json parametric.points (observed, predicted per run) or usable points/<id>.json");
    return CLS_OK;
  }
  double lo = INFINITY, hi = -INFINITY, nlo = INFINITY, nhi = -INFINITY, se = 0;
  for (size_t i = 0; i < m; i++) {
    lo = fmin(lo, fmin(obs[i], pred[i])), hi = fmax(hi, fmax(obs[i], pred[i]));
    nlo = fmin(nlo, nn[i]), nhi = fmax(nhi, nn[i]);
    double r = log(pred[i] / obs[i]);
    se += r * r;
  }
  if (!(nhi > nlo)) nhi = nlo * 10;
  cls_scale_pad(CLS_SCALE_LOG, &lo, &hi, 0.06);
  cls_figure *f;
  cls_status st = cls__fig_new(o, 0.92, 1.0, 1, 1, &f);
  if (st) goto done;
  cls_axes *ax = cls_figure_axes(f, 0);
  cls_axes_set_scales(ax, CLS_SCALE_LOG, CLS_SCALE_LOG);
  cls_axes_set_xlim(ax, lo, hi);
  cls_axes_set_ylim(ax, lo, hi);
  char title[200];
  snprintf(title, sizeof title, "Parametric fit: L = %.3g + %.3g/N^{%.3f} + %.3g/D^{%.3f}", F->E, F->A, F->alpha,
           F->B, F->beta);
  cls_axes_set_text(ax, cls__fig_title_or(o, title), "observed final loss", "predicted loss L(N, D)");
  double diag[2] = {lo, hi};
  cls_series_style ds = cls__fig_dashed(GREY, 1.0, 4, 3);
  st = cls_axes_add_series(ax, diag, diag, 2, &ds, "predicted = observed");
  for (size_t i = 0; i < m && !st; i++) {
    cls_series_style ms = cls_style_markers(cls_colormap(nn[i], nlo, nhi, CLS_SCALE_LOG), CLS_MARKER_CIRCLE, 6);
    st = cls_axes_add_series(ax, &obs[i], &pred[i], 1, &ms, NULL);
  }
  char rms[96];
  snprintf(rms, sizeof rms, "RMS error of log loss: %.2f%% over %zu runs", 100 * sqrt(se / (double)m), m);
  cls_series_style none = cls_style_line(cls_rgba_make(0, 0, 0, 0), 0);
  if (!st) st = cls_axes_add_series(ax, diag, diag, 0, &none, rms);
  if (!st) st = cls_axes_set_colorbar(ax, nlo, nhi, CLS_SCALE_LOG, CLS_LABEL_SI, "model size N (parameters)");
  if (st)
    cls_figure_destroy(f);
  else
    *out = f;
done:
  free(obs), free(pred), free(nn);
  return st;
}

/* ------------------------------------------------------------ coord-check */

static size_t distinct(const cls_coord_check *cc, bool layer, char names[][48], size_t cap) {
  size_t n = 0;
  for (size_t i = 0; i < cc->n; i++) {
    const char *s = layer ? cc->rows[i].layer : cc->rows[i].param;
    bool seen = false;
    for (size_t j = 0; j < n; j++) seen |= !strcmp(names[j], s);
    if (!seen && n < cap) snprintf(names[n++], 48, "%s", s);
  }
  return n;
}

static cls_status fig_coord_check(const cls_plot_inputs *in, const cls_plot_options *o, cls_figure **out,
                                  char *why, size_t len) {
  const cls_coord_check *cc = in->cc;
  if (!cc) {
    cls__fig_note(why, len,
                  in->cc_missing ? in->cc_missing : "needs coord_check.csv (written by a µP coordinate check)");
    return CLS_OK;
  }
  char params[3][48], layers[4][48];
  size_t np = distinct(cc, false, params, 3), nl = distinct(cc, true, layers, 4);
  double steps[16];
  size_t nsteps = 0;
  for (size_t i = 0; i < cc->n; i++) {
    bool seen = false;
    for (size_t j = 0; j < nsteps; j++) seen |= steps[j] == cc->rows[i].step;
    if (!seen && nsteps < 16 && isfinite(cc->rows[i].step)) steps[nsteps++] = cc->rows[i].step;
  }
  qsort(steps, nsteps, sizeof *steps, cmp_double);
  cls_figure *f;
  double ws = 0.55 * (double)nl + 0.15, hs = 0.62 * (double)np + 0.1;
  cls_status st = cls_figure_create(o->width_in * ws, o->height_in * hs, o->dpi, (int)np, (int)nl, &f, NULL, 0);
  if (st) return st;
  st = cls_figure_set_title(f, cls__fig_title_or(o, "\\muP coordinate check: activation scale vs width"));
  double *x = malloc(cc->n * sizeof *x), *y = malloc(cc->n * sizeof *y);
  if (!x || !y) st = CLS_ERR_OUT_OF_MEMORY;
  for (size_t p = 0; p < np && !st; p++)
    for (size_t l = 0; l < nl && !st; l++) {
      cls_axes *ax = cls_figure_axes(f, (int)(p * nl + l));
      cls_axes_set_scales(ax, CLS_SCALE_LOG, CLS_SCALE_LOG);
      char title[200];
      const char *pname = !strcmp(params[p], "mup") ? "\\muP" : !strcmp(params[p], "sp") ? "SP" : params[p];
      snprintf(title, sizeof title, "%s: %s", pname, layers[l]);
      cls_axes_set_text(ax, title, p + 1 == np ? "width" : NULL, l == 0 ? "activation RMS" : NULL);
      cls_axes_set_legend(ax, p == 0 && l == 0);
      for (size_t s = 0; s < nsteps && !st; s++) {
        size_t m = 0;
        for (size_t i = 0; i < cc->n; i++) {
          const cls_coord_row *r = &cc->rows[i];
          if (r->step == steps[s] && !strcmp(r->param, params[p]) && !strcmp(r->layer, layers[l]))
            x[m] = r->width, y[m] = r->value, m++;
        }
        /* widths ascending so the line is drawn left to right */
        for (size_t i = 1; i < m; i++)
          for (size_t j = i; j > 0 && x[j] < x[j - 1]; j--) {
            double t = x[j];
            x[j] = x[j - 1], x[j - 1] = t;
            t = y[j], y[j] = y[j - 1], y[j - 1] = t;
          }
        cls_series_style ms = cls_style_markers(
            cls_colormap((double)s, 0, nsteps > 1 ? (double)(nsteps - 1) : 1.0, CLS_SCALE_LINEAR),
            CLS_MARKER_CIRCLE, 4.5);
        ms.line_pt = 1.3;
        char label[48];
        snprintf(label, sizeof label, "step %g", steps[s]);
        st = cls_axes_add_series(ax, x, y, m, &ms, label);
      }
    }
  free(x), free(y);
  return cls__fig_finish(f, st, out);
}

cls_status cls_plot_build(cls_plot_kind kind, const cls_plot_inputs *in, const cls_plot_options *opt,
                          cls_figure **out, char *why, size_t why_len) {
  if (!in || !opt || !out || !why || why_len == 0) return CLS_ERR_NULL_ARGUMENT;
  *out = NULL;
  why[0] = '\0';
  switch (kind) {
  case CLS_PLOT_LOSS_FLOPS:
    return fig_loss_flops(in, opt, out, why, why_len);
  case CLS_PLOT_ISOFLOP:
    return fig_isoflop(in, opt, out, why, why_len);
  case CLS_PLOT_OPTIMAL:
    return fig_optimal(in, opt, out, why, why_len);
  case CLS_PLOT_LOSS_N:
    return fig_loss_nd(in, opt, true, out, why, why_len);
  case CLS_PLOT_LOSS_D:
    return fig_loss_nd(in, opt, false, out, why, why_len);
  case CLS_PLOT_PARAMETRIC:
    return fig_parametric(in, opt, out, why, why_len);
  case CLS_PLOT_COORD_CHECK:
    return fig_coord_check(in, opt, out, why, why_len);
  case CLS_PLOT_RF_LOSS_N:
  case CLS_PLOT_RF_LOSS_T:
  case CLS_PLOT_RF_DOUBLE_DESCENT:
    return cls__fig_rf(kind, in, opt, out, why, why_len);
  case CLS_PLOT_ZIPF_ERROR:
    return cls__fig_zipf_error(in, opt, out, why, why_len);
  case CLS_PLOT_COLLAPSE_LOSS_D:
  case CLS_PLOT_COLLAPSE_ACCURACY_D:
  case CLS_PLOT_COLLAPSE_GENERATION:
  case CLS_PLOT_COLLAPSE_REAL_FRACTION:
  case CLS_PLOT_GCD_OUTCOMES:
    return cls__fig_collapse(kind, in, opt, out, why, why_len);
  case CLS_PLOT_BACKTEST:
    return cls__fig_backtest(in, opt, out, why, why_len);
  case CLS_PLOT_REPEATS:
    return cls__fig_repeats(in, opt, out, why, why_len);
  default:
    return CLS_ERR_INVALID_VALUE;
  }
}
