/*
 * src/fit/isoflop.c — IsoFLOP profiles (Chinchilla approach 2): the final
 * runs grouped by compute budget, a least-squares parabola of log10 loss
 * in x = log10 N per budget (log loss: at small budgets the losses of one
 * budget span a decade, and a parabola in linear loss then misplaces the
 * minimum; where they span little, the two agree), its minimum N*(C) and D*(C), and the power laws
 * N* ∝ C^a, D* ∝ C^b through the minima, with a bootstrap that resamples the
 * runs of every budget.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "fit/fit.h"

enum { ISO_STREAM = 0x49534f46u /* "ISOF" */, ISO_BAND = 20 };

typedef struct {
  size_t *idx; /* the budget's points */
  size_t n;
} group;

/* Groups the points into budgets: by their nominal budget_flops (equal
 * within 1%, as the plotter matches them), and points without one by their
 * measured C, a new group starting whenever C exceeds the group's smallest by
 * more than the tolerance. Returns the number of groups; g[k].idx malloc'd. */
static size_t make_groups(const cls_fit_input *in, double tol, group *g, cls_fit_budget *bud, bool *oom) {
  size_t ng = 0;
  size_t *order = malloc((in->n_pts ? in->n_pts : 1) * sizeof *order);
  *oom = !order;
  if (!order) return 0;
  /* nominal budgets */
  for (size_t i = 0; i < in->n_pts; i++) {
    double b = in->pts[i].budget;
    if (!isfinite(b)) continue;
    size_t k = 0;
    while (k < ng && !(bud[k].nominal && fabs(bud[k].budget - b) <= 0.01 * bud[k].budget)) k++;
    if (k == ng) {
      memset(&bud[ng], 0, sizeof bud[ng]);
      bud[ng].budget = b, bud[ng].nominal = true;
      g[ng].n = 0;
      g[ng].idx = malloc(in->n_pts * sizeof *g[ng].idx);
      if (!g[ng].idx) {
        *oom = true;
        break;
      }
      ng++;
    }
    g[k].idx[g[k].n++] = i;
  }
  /* the others, by measured C (insertion sort: tens of runs) */
  size_t m = 0;
  for (size_t i = 0; i < in->n_pts; i++) {
    if (isfinite(in->pts[i].budget)) continue;
    size_t j = m++;
    while (j > 0 && in->pts[order[j - 1]].c > in->pts[i].c) order[j] = order[j - 1], j--;
    order[j] = i;
  }
  for (size_t s = 0; s < m;) {
    double c0 = in->pts[order[s]].c, logsum = 0;
    size_t e = s;
    while (e < m && in->pts[order[e]].c <= c0 * (1 + tol)) logsum += log(in->pts[order[e]].c), e++;
    memset(&bud[ng], 0, sizeof bud[ng]);
    bud[ng].budget = exp(logsum / (double)(e - s)); /* geometric mean of the group's C */
    g[ng].n = 0;
    g[ng].idx = malloc(in->n_pts * sizeof *g[ng].idx);
    if (!g[ng].idx) {
      *oom = true;
      break;
    }
    for (size_t k = s; k < e; k++) g[ng].idx[g[ng].n++] = order[k];
    ng++;
    s = e;
  }
  free(order);
  return ng;
}

/* Fits one budget's parabola over the points idx[0..n) and sets its minimum.
 * Returns 0 when the minimum is interior; otherwise writes why. */
static int fit_budget(const cls_fit_input *in, const size_t *idx, size_t n, cls_fit_budget *b, char *why,
                      size_t why_len) {
  enum { MAX_RUNS = 512 }; /* per budget; a budget is a handful of model sizes */
  double x[MAX_RUNS], y[MAX_RUNS], ld[MAX_RUNS];
  if (n > MAX_RUNS) n = MAX_RUNS;
  double xlo = INFINITY, xhi = -INFINITY;
  b->n_lo = INFINITY, b->n_hi = -INFINITY;
  b->a = b->b = b->c = b->n_opt = b->d_opt = b->loss_opt = NAN;
  for (size_t i = 0; i < n; i++) {
    const cls_fit_point *p = &in->pts[idx[i]];
    x[i] = log10(p->n), y[i] = log10(p->loss), ld[i] = log10(p->d);
    xlo = fmin(xlo, x[i]), xhi = fmax(xhi, x[i]);
    b->n_lo = fmin(b->n_lo, p->n), b->n_hi = fmax(b->n_hi, p->n);
  }
  if (cls__fit_parabola(x, y, n, &b->a, &b->b, &b->c)) {
    snprintf(why, why_len, "needs at least 3 distinct model sizes for a parabola");
    return -1;
  }
  if (!(b->a > 0)) {
    snprintf(why, why_len, "the parabola opens downward (a = %.3g): no interior minimum", b->a);
    return -1;
  }
  double xs = -b->b / (2 * b->a);
  b->n_opt = pow(10, xs);
  b->loss_opt = pow(10, b->c - b->b * b->b / (4 * b->a));
  /* D at the optimum from the runs' own tokens: at one budget log D is a line
   * in log N (slope −1 when C = κ·N·D with a fixed κ), so the measured FLOPs
   * per token, whatever they are, carry over to N*. */
  if (cls__fit_line(x, ld, n, &b->d_slope, &b->d_icpt)) {
    snprintf(why, why_len, "needs at least 2 distinct model sizes");
    return -1;
  }
  b->d_opt = pow(10, b->d_icpt + b->d_slope * xs);
  if (xs < xlo || xs > xhi) {
    snprintf(why, why_len, "the minimum (N = %.3g) lies outside the sampled N range [%.3g, %.3g]", b->n_opt,
             b->n_lo, b->n_hi);
    return -1;
  }
  return 0;
}

static void power_fit(const double *c, const double *y, size_t n, cls_fit_power *p) {
  double lc[512], ly[512];
  size_t m = 0;
  for (size_t i = 0; i < n && m < 512; i++)
    if (isfinite(y[i]) && y[i] > 0) lc[m] = log10(c[i]), ly[m] = log10(y[i]), m++;
  double slope, icpt;
  if (m >= 2 && !cls__fit_line(lc, ly, m, &slope, &icpt)) {
    p->ok = true;
    p->exponent = slope;
    p->coef = pow(10, icpt);
  } else {
    p->ok = false;
    p->exponent = p->coef = NAN;
  }
}

/* Sorts budgets (ascending C) and their groups together. */
static void sort_budgets(cls_fit_budget *budgets, group *g, size_t ng) {
  for (size_t i = 1; i < ng; i++)
    for (size_t j = i; j > 0 && budgets[j - 1].budget > budgets[j].budget; j--) {
      cls_fit_budget tb = budgets[j];
      budgets[j] = budgets[j - 1], budgets[j - 1] = tb;
      group tg = g[j];
      g[j] = g[j - 1], g[j - 1] = tg;
    }
}

/* The intervals from B resamples: each budget's N_opt and D_opt (row r of
 * bn_opt / bd_opt is resample r), the power laws' exponents and
 * coefficients, and their pointwise bands; band is scratch of B values. */
static void boot_intervals(cls_fit_isoflop *out, const cls_fit_options *o, size_t ng, int B, const double *bn_opt,
                           const double *bd_opt, double *coef_a, double *coef_b, double *band) {
  cls_fit_power *pw[2] = {&out->n_fit, &out->d_fit};
  for (size_t k = 0; k < ng; k++) {
    /* A parabola through 3 sizes fits them exactly: every resample that
     * succeeds gives the same minimum, so a zero-width "interval" would
     * claim a precision the data do not have. No interval then. */
    if (out->budgets[k].n_sizes < 4) continue;
    for (int r = 0; r < B; r++) band[r] = bn_opt[(size_t)r * ng + k];
    out->budgets[k].n_opt_ci = cls__fit_interval(band, (size_t)B, o->ci_level);
    for (int r = 0; r < B; r++) band[r] = bd_opt[(size_t)r * ng + k];
    out->budgets[k].d_opt_ci = cls__fit_interval(band, (size_t)B, o->ci_level);
  }
  double *ex[2] = {out->boot_a, out->boot_b}, *cf[2] = {coef_a, coef_b};
  double clo = INFINITY, chi = -INFINITY;
  for (size_t k = 0; k < ng; k++)
    if (out->budgets[k].used) clo = fmin(clo, out->budgets[k].budget), chi = fmax(chi, out->budgets[k].budget);
  for (int q = 0; q < 2; q++) {
    for (int r = 0; r < B; r++) band[r] = ex[q][r];
    pw[q]->exponent_ci = cls__fit_interval(band, (size_t)B, o->ci_level);
    for (int r = 0; r < B; r++) band[r] = cf[q][r];
    pw[q]->coef_ci = cls__fit_interval(band, (size_t)B, o->ci_level);
    /* Pointwise band of coef·C^exponent over the budgets' range. */
    pw[q]->band_n = ISO_BAND;
    for (int i = 0; i < ISO_BAND; i++) {
      double c = pow(10, log10(clo) + (log10(chi) - log10(clo)) * i / (ISO_BAND - 1));
      for (int r = 0; r < B; r++) band[r] = cf[q][r] * pow(c, ex[q][r]);
      cls_ci ci = cls__fit_interval(band, (size_t)B, o->ci_level);
      pw[q]->band_c[i] = c, pw[q]->band_lo[i] = ci.lo, pw[q]->band_hi[i] = ci.hi;
    }
    if (!isfinite(pw[q]->band_lo[0])) pw[q]->band_n = 0;
  }
}

cls_status cls_fit_isoflop_run(const cls_fit_input *in, const cls_fit_options *o, cls_fit_isoflop *out) {
  if (!in || !o || !out) return CLS_ERR_NULL_ARGUMENT;
  memset(out, 0, sizeof *out);
  size_t cap = in->n_pts ? in->n_pts : 1;
  group *g = calloc(cap, sizeof *g);
  out->budgets = calloc(cap, sizeof *out->budgets);
  if (!g || !out->budgets) {
    free(g);
    return CLS_ERR_OUT_OF_MEMORY;
  }
  bool oom;
  size_t ng = make_groups(in, o->budget_tol, g, out->budgets, &oom);
  if (oom) {
    for (size_t k = 0; k < ng; k++) free(g[k].idx);
    free(g);
    return CLS_ERR_OUT_OF_MEMORY;
  }
  out->n_budgets = ng;
  sort_budgets(out->budgets, g, ng);
  double *bc = malloc(cap * sizeof *bc), *bn = malloc(cap * sizeof *bn), *bd = malloc(cap * sizeof *bd);
  cls_status st = bc && bn && bd ? CLS_OK : CLS_ERR_OUT_OF_MEMORY;
  for (size_t k = 0; k < ng && !st; k++) {
    cls_fit_budget *b = &out->budgets[k];
    b->n_points = g[k].n;
    for (size_t i = 0; i < g[k].n; i++) {
      bool seen = false;
      for (size_t j = 0; j < i && !seen; j++) seen = in->pts[g[k].idx[j]].n == in->pts[g[k].idx[i]].n;
      b->n_sizes += !seen;
    }
    b->n_opt_ci.lo = b->n_opt_ci.hi = b->d_opt_ci.lo = b->d_opt_ci.hi = NAN;
    b->used = !fit_budget(in, g[k].idx, g[k].n, b, b->why, sizeof b->why);
    if (b->used)
      bc[out->n_used] = b->budget, bn[out->n_used] = b->n_opt, bd[out->n_used] = b->d_opt, out->n_used++;
  }
  if (!st && out->n_used < 2) {
    snprintf(out->why, sizeof out->why,
             "needs at least 2 compute budgets whose parabola has an interior minimum (have %zu of %zu budget%s)",
             out->n_used, ng, ng == 1 ? "" : "s");
  } else if (!st) {
    power_fit(bc, bn, out->n_used, &out->n_fit);
    power_fit(bc, bd, out->n_used, &out->d_fit);
    out->ok = out->n_fit.ok && out->d_fit.ok;
    if (!out->ok) snprintf(out->why, sizeof out->why, "the power-law fit through the minima failed");
  }
  cls_fit_power *pw[2] = {&out->n_fit, &out->d_fit};
  for (int q = 0; q < 2; q++) {
    pw[q]->exponent_ci.lo = pw[q]->exponent_ci.hi = pw[q]->coef_ci.lo = pw[q]->coef_ci.hi = NAN;
  }
  /* Bootstrap: resample each budget's runs with replacement; a budget whose
   * resample has no interior minimum drops out of that resample only. Budgets
   * excluded from the fit stay excluded. */
  int B = out->ok && o->bootstrap > 0 ? o->bootstrap : 0;
  out->n_boot = B;
  double *bn_opt = NULL, *bd_opt = NULL, *band = NULL, *coef_a = NULL, *coef_b = NULL;
  size_t *idx = NULL;
  if (B && !st) {
    out->boot_a = malloc((size_t)B * sizeof *out->boot_a);
    out->boot_b = malloc((size_t)B * sizeof *out->boot_b);
    bn_opt = malloc((size_t)B * ng * sizeof *bn_opt);
    bd_opt = malloc((size_t)B * ng * sizeof *bd_opt);
    coef_a = malloc((size_t)B * sizeof *coef_a);
    coef_b = malloc((size_t)B * sizeof *coef_b);
    band = malloc((size_t)B * sizeof *band);
    idx = malloc(cap * sizeof *idx);
    if (!out->boot_a || !out->boot_b || !bn_opt || !bd_opt || !coef_a || !coef_b || !band || !idx)
      st = CLS_ERR_OUT_OF_MEMORY;
  }
  cls_rng rng = cls_rng_make(o->seed, ISO_STREAM);
  for (int r = 0; r < B && !st; r++) {
    size_t m = 0;
    uint32_t draw = 0;
    for (size_t k = 0; k < ng; k++) {
      bn_opt[(size_t)r * ng + k] = bd_opt[(size_t)r * ng + k] = NAN;
      if (!out->budgets[k].used) continue;
      for (size_t j = 0; j < g[k].n; j++) idx[j] = g[k].idx[cls_rng_below(rng, (uint64_t)r, draw++, g[k].n)];
      cls_fit_budget t = out->budgets[k];
      char why[200];
      if (fit_budget(in, idx, g[k].n, &t, why, sizeof why)) continue;
      bn_opt[(size_t)r * ng + k] = t.n_opt, bd_opt[(size_t)r * ng + k] = t.d_opt;
      bc[m] = t.budget, bn[m] = t.n_opt, bd[m] = t.d_opt, m++;
    }
    cls_fit_power pn = {0}, pd = {0};
    if (m >= 2) power_fit(bc, bn, m, &pn), power_fit(bc, bd, m, &pd);
    out->boot_a[r] = pn.ok ? pn.exponent : NAN, coef_a[r] = pn.ok ? pn.coef : NAN;
    out->boot_b[r] = pd.ok ? pd.exponent : NAN, coef_b[r] = pd.ok ? pd.coef : NAN;
    out->boot_ok += pn.ok && pd.ok;
  }
  if (B && !st) boot_intervals(out, o, ng, B, bn_opt, bd_opt, coef_a, coef_b, band);
  free(bn_opt), free(bd_opt), free(band), free(coef_a), free(coef_b), free(idx);
  free(bc), free(bn), free(bd);
  for (size_t k = 0; k < ng; k++) free(g[k].idx);
  free(g);
  return st;
}
