/*
 * src/fit/backtest.c — a law earns trust by predicting runs it has not
 * seen: the runs of the K largest budgets are held out, the laws are fitted
 * to the rest, and each held-out run's loss (and each held-out budget's
 * N_opt) is predicted with intervals from the bootstrap; the report says
 * how far off each prediction is and whether the truth fell inside its
 * interval (docs/fit.md, "Backtest").
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/rng.h"
#include "fit/fit.h"

enum { BT_STREAM = 0x42544553u /* "BTES" */ };

void cls_fit_backtest_free(cls_fit_backtest *b) {
  if (!b) return;
  free(b->runs), free(b->budgets);
  memset(b, 0, sizeof *b);
}

/* The runs keep[i] of in, curves included, as a new input. */
static cls_status subset(const cls_fit_input *in, const bool *keep, cls_fit_input **out) {
  cls_fit_input *s = calloc(1, sizeof *s);
  size_t nc = 0;
  for (size_t i = 0; i < in->n_pts; i++)
    if (keep[i]) nc += in->pts[i].curve_n;
  if (!s || !(s->pts = malloc((in->n_pts ? in->n_pts : 1) * sizeof *s->pts)) ||
      !(s->curve_c = malloc((nc ? nc : 1) * sizeof *s->curve_c)) ||
      !(s->curve_l = malloc((nc ? nc : 1) * sizeof *s->curve_l))) {
    cls_fit_input_destroy(s);
    return CLS_ERR_OUT_OF_MEMORY;
  }
  s->train_loss = in->train_loss;
  for (size_t i = 0; i < in->n_pts; i++) {
    if (!keep[i]) continue;
    cls_fit_point *q = &s->pts[s->n_pts++];
    *q = in->pts[i];
    q->curve0 = s->n_curve;
    memcpy(s->curve_c + s->n_curve, in->curve_c + in->pts[i].curve0, in->pts[i].curve_n * sizeof *s->curve_c);
    memcpy(s->curve_l + s->n_curve, in->curve_l + in->pts[i].curve0, in->pts[i].curve_n * sizeof *s->curve_l);
    s->n_curve += in->pts[i].curve_n;
  }
  *out = s;
  return CLS_OK;
}

static double law(const double *p, double n, double d) {
  return p[0] + p[1] / pow(n, p[2]) + p[3] / pow(d, p[4]);
}

/* Each held-out run's prediction with its two intervals. */
static cls_status predict_runs(const cls_fit_input *in, const bool *keep, const cls_fit_result *r,
                               const cls_fit_input *train, const cls_fit_options *o, cls_fit_backtest *out) {
  const cls_fit_parametric *par = &r->parametric;
  const double p[5] = {par->E, par->A, par->alpha, par->B, par->beta};
  size_t nt = train->n_pts, B = par->boot ? (size_t)par->n_boot : 0;
  double *res = malloc((nt ? nt : 1) * sizeof *res), *ci = malloc((B ? B : 1) * sizeof *ci),
         *pi = malloc((B ? B : 1) * sizeof *pi);
  if (!res || !ci || !pi) {
    free(res), free(ci), free(pi);
    return CLS_ERR_OUT_OF_MEMORY;
  }
  /* log-loss residuals of the training runs; inflated for the parameters
   * fitted to them (residuals of a fit are smaller than the noise) */
  double ss = 0, infl = nt > 5 ? sqrt((double)nt / (double)(nt - 5)) : 1;
  for (size_t i = 0; i < nt; i++) {
    res[i] = infl * (log(train->pts[i].loss) - log(par->predicted[i]));
    ss += res[i] * res[i];
  }
  out->residual_sd = nt ? sqrt(ss / (double)nt) : NAN;
  cls_rng rng = cls_rng_make(o->seed, BT_STREAM);
  double sum = 0;
  for (size_t i = 0, j = 0; i < in->n_pts; i++) {
    if (keep[i]) continue;
    cls_fit_heldout *h = &out->runs[j];
    const cls_fit_point *q = &in->pts[i];
    snprintf(h->id, sizeof h->id, "%s", q->id);
    h->n = q->n, h->d = q->d, h->c = q->c, h->observed = q->loss;
    h->budget = NAN; /* set from the groups by cls_fit_backtest_run */
    h->predicted = law(p, q->n, q->d);
    for (size_t b = 0; b < B; b++) {
      ci[b] = law(par->boot + 5 * b, q->n, q->d);
      double e = nt ? res[cls_rng_below(rng, (uint64_t)b, (uint32_t)j, nt)] : 0;
      pi[b] = ci[b] * exp(e);
    }
    h->ci = cls__fit_interval(ci, B, o->ci_level);
    h->pi = cls__fit_interval(pi, B, o->ci_level);
    h->rel_error = h->predicted / h->observed - 1;
    h->inside = h->observed >= h->pi.lo && h->observed <= h->pi.hi;
    out->n_inside += h->inside;
    sum += fabs(h->rel_error);
    out->max_abs_rel_error = fmax(out->max_abs_rel_error, fabs(h->rel_error));
    j++;
  }
  out->mean_abs_rel_error = out->n_runs ? sum / (double)out->n_runs : NAN;
  free(res), free(ci), free(pi);
  return CLS_OK;
}

cls_status cls_fit_backtest_run(const cls_fit_input *in, const cls_fit_options *o, int k, cls_fit_result *r,
                                cls_fit_input **train_in, cls_fit_backtest *out, char *err, size_t err_len) {
  if (!in || !o || !r || !train_in || !out) return CLS_ERR_NULL_ARGUMENT;
  memset(out, 0, sizeof *out);
  memset(r, 0, sizeof *r);
  *train_in = NULL;
  out->holdout = k;
  /* the budgets as the IsoFLOP fit groups them, and each one's own minimum */
  cls_fit_options o0 = *o;
  o0.bootstrap = 0;
  cls_fit_isoflop all;
  cls_status st = cls_fit_isoflop_run(in, &o0, &all);
  size_t ng = all.n_budgets;
  if (!st && (k < 1 || (size_t)k + 2 > ng))
    st = cls_errf(
        err, err_len, CLS_ERR_INVALID_VALUE,
        "a hold-out of the %d largest budget%s leaves %zu of the %zu budgets to fit, and the fit needs at "
        "least 2: hold out at most %zu",
        k, k == 1 ? "" : "s", (size_t)k < ng ? ng - (size_t)k : 0, ng, ng >= 2 ? ng - 2 : 0);
  bool *keep = st ? NULL : malloc((in->n_pts ? in->n_pts : 1) * sizeof *keep);
  if (!st && !keep) st = CLS_ERR_OUT_OF_MEMORY;
  size_t first = ng - (size_t)(k > 0 ? k : 0); /* the first budget held out */
  for (size_t i = 0; !st && i < in->n_pts; i++) {
    keep[i] = all.point_budget[i] < first;
    out->n_runs += !keep[i];
  }
  out->n_budgets = ng;
  if (!st) {
    out->train_c_hi = all.budgets[first - 1].budget;
    st = subset(in, keep, train_in);
  }
  if (!st) {
    out->n_train = (*train_in)->n_pts;
    st = cls_fit_all(*train_in, o, r);
  }
  if (!st && !r->parametric.ok)
    st = cls_errf(err, err_len, CLS_ERR_INVALID_VALUE,
                  "the %zu runs left after holding out the %d largest budgets give no parametric fit (%s): hold "
                  "out fewer",
                  out->n_train, k, r->parametric.why);
  if (!st) {
    out->runs = calloc(out->n_runs ? out->n_runs : 1, sizeof *out->runs);
    out->budgets = calloc((size_t)k, sizeof *out->budgets);
    if (!out->runs || !out->budgets) st = CLS_ERR_OUT_OF_MEMORY;
  }
  if (!st) st = predict_runs(in, keep, r, *train_in, o, out);
  for (size_t i = 0, j = 0; !st && i < in->n_pts; i++)
    if (!keep[i]) out->runs[j++].budget = all.budgets[all.point_budget[i]].budget;
  /* each held-out budget: its measured minimum and the laws' N_opt there */
  cls_fit_laws laws;
  if (!st) cls_fit_laws_of_result(r, &laws);
  for (size_t b = first; !st && b < ng; b++) {
    cls_fit_heldout_budget *h = &out->budgets[out->n_held_budgets++];
    h->budget = all.budgets[b].budget;
    h->n_opt = all.budgets[b].used ? all.budgets[b].n_opt : NAN;
    st = cls_fit_optimum_at(&laws, CLS_PLAN_FLOPS, h->budget, h->opt, err, err_len);
  }
  free(keep);
  free(all.budgets), free(all.boot_a), free(all.boot_b), free(all.boot_law), free(all.point_budget);
  if (st) {
    cls_fit_backtest_free(out);
    cls_fit_result_free(r);
    cls_fit_input_destroy(*train_in);
    *train_in = NULL;
  }
  return st;
}
