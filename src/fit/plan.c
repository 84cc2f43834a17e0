/*
 * src/fit/plan.c — the compute-optimal point each fitted law predicts for a
 * budget, a loss to reach or a model size, with intervals from the
 * bootstrap: every resample's law is solved for the same target, so the
 * interval carries the uncertainty of the fit into the plan (docs/fit.md,
 * "Planning"). Nothing here prints; `clscale plan` and `clscale fit` print.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/rng.h"
#include "fit/fit.h"

enum { PLAN_STREAM = 0x504c414eu /* "PLAN" */ };

void cls_fit_laws_of_result(const cls_fit_result *r, cls_fit_laws *L) {
  memset(L, 0, sizeof *L);
  L->ci_level = r->opt.ci_level;
  const cls_fit_parametric *p = &r->parametric;
  if (p->ok) {
    L->has_par = true;
    L->par[0] = p->E, L->par[1] = p->A, L->par[2] = p->alpha, L->par[3] = p->B, L->par[4] = p->beta;
    L->par_draws = p->boot, L->n_par_draws = p->boot ? (size_t)p->n_boot : 0;
    L->par_resid = p->residuals, L->n_par_resid = p->residuals ? p->n : 0;
  }
  const cls_fit_isoflop *iso = &r->isoflop;
  if (iso->ok) {
    L->has_iso = true;
    L->iso[0] = iso->n_fit.coef, L->iso[1] = iso->n_fit.exponent;
    L->iso[2] = iso->d_fit.coef, L->iso[3] = iso->d_fit.exponent;
    L->iso_draws = iso->boot_law, L->n_iso_draws = iso->boot_law ? (size_t)iso->n_boot : 0;
  }
  const cls_fit_frontier *fr = &r->frontier;
  if (fr->ok) {
    L->has_fr = true;
    L->fr[0] = fr->E, L->fr[1] = fr->k, L->fr[2] = fr->gamma;
    L->fr_draws = fr->boot, L->n_fr_draws = fr->boot ? (size_t)fr->n_boot : 0;
  }
  const cls_fit_constrained *dc = &r->constrained;
  if (dc->ok) {
    L->has_dc = true;
    const double v[7] = {dc->E, dc->A, dc->alpha, dc->B, dc->beta, dc->rd_star, dc->has_rn ? dc->rn_star : NAN};
    memcpy(L->dc, v, sizeof v);
    L->dc_draws = dc->boot, L->n_dc_draws = dc->boot ? (size_t)dc->n_boot : 0;
  }
}

/* ------------------------------------------------------ one law, one target */

/* Parametric: G = (αA/(βB))^(1/(α+β)), N* = G·(C/6)^a with a = β/(α+β). */
static double par_nopt(const double *p, double c) {
  double al = p[2], be = p[4];
  double G = pow(al * p[1] / (be * p[3]), 1 / (al + be));
  return G * pow(c / 6, be / (al + be));
}

static double par_loss(const double *p, double n, double d) {
  return p[0] + p[1] / pow(n, p[2]) + p[3] / pow(d, p[4]);
}

static double par_loss_opt(const double *p, double c) {
  double n = par_nopt(p, c);
  return par_loss(p, n, c / 6 / n);
}

/* The C at which f(C) = target for f decreasing in C, by bisection in
 * log C over [1, 1e80] FLOPs; NaN when the target is outside f's range
 * there. 200 halvings of a 184-wide log interval end far below double
 * resolution. */
static double solve_decreasing(double (*f)(const double *, double), const double *p, double target) {
  double lo = 0, hi = log(1e80);
  if (!(f(p, exp(lo)) >= target) || !(f(p, exp(hi)) <= target)) return NAN;
  for (int i = 0; i < 200; i++) {
    double mid = 0.5 * (lo + hi);
    if (f(p, exp(mid)) > target)
      lo = mid;
    else
      hi = mid;
  }
  return exp(0.5 * (lo + hi));
}

static double fr_loss(const double *p, double c) {
  return p[0] + p[1] * pow(c, -p[2]);
}

/* Fills o's c, n, d, loss from law parameters p for the target; returns
 * false (why set, when why is given) when the law cannot answer it. */
typedef bool (*law_solve)(const double *p, cls_plan_target t, double v, double q[4], char *why, size_t len);

static bool solve_par(const double *p, cls_plan_target t, double v, double q[4], char *why, size_t len) {
  for (int k = 0; k < 5; k++)
    if (!isfinite(p[k])) return false;
  if (!(p[2] > 0 && p[4] > 0)) {
    if (why) snprintf(why, len, "alpha or beta is not positive: the law has no compute-optimal path");
    return false;
  }
  double c = v;
  if (t == CLS_PLAN_PARAMS) {
    double G = par_nopt(p, 6); /* N* at C = 6: G */
    c = 6 * pow(v / G, (p[2] + p[4]) / p[4]);
  } else if (t == CLS_PLAN_LOSS) {
    if (!(v > p[0])) {
      if (why) snprintf(why, len, "the loss %.6g is at or below the law's irreducible loss E = %.6g", v, p[0]);
      return false;
    }
    c = solve_decreasing(par_loss_opt, p, v);
  }
  if (!(c > 0) || !isfinite(c)) {
    if (why) snprintf(why, len, "no budget between 1 and 1e80 FLOPs reaches it");
    return false;
  }
  q[0] = c, q[1] = par_nopt(p, c), q[2] = c / 6 / q[1], q[3] = par_loss(p, q[1], q[2]);
  return true;
}

static bool solve_iso(const double *p, cls_plan_target t, double v, double q[4], char *why, size_t len) {
  for (int k = 0; k < 4; k++)
    if (!isfinite(p[k])) return false;
  double c = v;
  if (t == CLS_PLAN_LOSS) {
    if (why) snprintf(why, len, "the IsoFLOP power laws give N and D, not the loss");
    return false;
  }
  if (t == CLS_PLAN_PARAMS) {
    if (!(p[1] > 0)) {
      if (why) snprintf(why, len, "N_opt does not grow with C (exponent %.3g)", p[1]);
      return false;
    }
    c = pow(v / p[0], 1 / p[1]);
  }
  q[0] = c, q[1] = p[0] * pow(c, p[1]), q[2] = p[2] * pow(c, p[3]), q[3] = NAN;
  return isfinite(q[1]) && isfinite(q[2]);
}

static bool solve_fr(const double *p, cls_plan_target t, double v, double q[4], char *why, size_t len) {
  for (int k = 0; k < 3; k++)
    if (!isfinite(p[k])) return false;
  double c = v;
  if (t == CLS_PLAN_PARAMS) {
    if (why) snprintf(why, len, "the frontier L(C) gives the loss, not N and D");
    return false;
  }
  if (t == CLS_PLAN_LOSS) {
    if (!(v > p[0]) || !(p[1] > 0) || !(p[2] > 0)) {
      if (why) snprintf(why, len, "the loss %.6g is at or below the frontier's floor E = %.6g", v, p[0]);
      return false;
    }
    c = pow((v - p[0]) / p[1], -1 / p[2]);
  }
  q[0] = c, q[1] = q[2] = NAN, q[3] = fr_loss(p, c);
  return isfinite(c) && c > 0;
}

/* One law: the point estimate, then every draw for the intervals. */
static cls_status one_law(law_solve solve, const double *p, const double *draws, size_t nd, int width,
                          const double *resid, size_t nres, cls_plan_target t, double v, double level,
                          cls_fit_optimum *o) {
  double q[4];
  if (!solve(p, t, v, q, o->why, sizeof o->why)) return CLS_OK;
  o->ok = true;
  o->c = q[0], o->n = q[1], o->d = q[2], o->loss = q[3];
  if (!nd) return CLS_OK;
  double *col = malloc(5 * nd * sizeof *col); /* C, N, D, loss, and the loss with a residual */
  if (!col) return CLS_ERR_OUT_OF_MEMORY;
  for (size_t r = 0; r < nd; r++) {
    double x[4] = {NAN, NAN, NAN, NAN};
    if (!solve(draws + (size_t)width * r, t, v, x, NULL, 0)) x[0] = x[1] = x[2] = x[3] = NAN;
    for (int k = 0; k < 4; k++) col[k * nd + r] = x[k];
  }
  /* the prediction interval of a run's loss: each resample's loss times a
   * resampled residual (a fixed Philox stream: the same plan every time) */
  if (resid && nres > 5) {
    double infl = sqrt((double)nres / (double)(nres - 5));
    cls_rng rng = cls_rng_make(0, PLAN_STREAM);
    for (size_t r = 0; r < nd; r++)
      col[4 * nd + r] = col[3 * nd + r] * exp(infl * resid[cls_rng_below(rng, (uint64_t)r, 0, nres)]);
    o->loss_pi = cls__fit_interval(col + 4 * nd, nd, level);
  }
  cls_ci *ci[4] = {&o->c_ci, &o->n_ci, &o->d_ci, &o->loss_ci};
  /* a budget asked for is exact: no interval on C then */
  for (int k = t == CLS_PLAN_FLOPS; k < 4; k++) *ci[k] = cls__fit_interval(col + k * nd, nd, level);
  free(col);
  return CLS_OK;
}

cls_status cls_fit_optimum_at(const cls_fit_laws *L, cls_plan_target t, double v, cls_fit_optimum out[3],
                              char *err, size_t err_len) {
  if (!L || !out) return CLS_ERR_NULL_ARGUMENT;
  static const char *const names[3] = {"isoflop", "parametric", "frontier"};
  for (int i = 0; i < 3; i++) {
    memset(&out[i], 0, sizeof out[i]);
    snprintf(out[i].law, sizeof out[i].law, "%s", names[i]);
    out[i].c = out[i].n = out[i].d = out[i].loss = NAN;
    cls_ci *ci[5] = {&out[i].c_ci, &out[i].n_ci, &out[i].d_ci, &out[i].loss_ci, &out[i].loss_pi};
    for (int k = 0; k < 5; k++) ci[k]->lo = ci[k]->hi = NAN;
    snprintf(out[i].why, sizeof out[i].why, "not fitted");
  }
  if (!(v > 0) || !isfinite(v))
    return cls_errf(err, err_len, CLS_ERR_INVALID_VALUE, "the %s to plan for must be a positive finite number",
                    t == CLS_PLAN_FLOPS  ? "budget"
                    : t == CLS_PLAN_LOSS ? "loss"
                                         : "model size");
  if (!L->has_iso && !L->has_par && !L->has_fr)
    return cls_errf(err, err_len, CLS_ERR_INVALID_VALUE,
                    "no law is fitted: the fit needs more runs (clscale fit says which)");
  cls_status st = CLS_OK;
  double level = L->ci_level > 0 && L->ci_level < 1 ? L->ci_level : 0.95;
  if (L->has_iso)
    out[0].why[0] = 0,
    st = one_law(solve_iso, L->iso, L->iso_draws, L->n_iso_draws, 4, NULL, 0, t, v, level, &out[0]);
  if (!st && L->has_par)
    out[1].why[0] = 0, st = one_law(solve_par, L->par, L->par_draws, L->n_par_draws, 5, L->par_resid,
                                    L->n_par_resid, t, v, level, &out[1]);
  if (!st && L->has_fr)
    out[2].why[0] = 0, st = one_law(solve_fr, L->fr, L->fr_draws, L->n_fr_draws, 3, NULL, 0, t, v, level, &out[2]);
  return st;
}

/* ------------------------------------------- the data-constrained plan */

double cls_fit_constrained_loss(const double dc[7], const double plain[5], double n, double d, double u) {
  double ep = d / u > 1 ? d / u : 1;
  double ud = d / ep, rd = ep - 1, dp = ud, np = n;
  /* U·(1 + R*·(1 − e^{−R/R*})), with expm1 so that a few repeats of a
   * large R* keep their digits */
  if (rd > 0) dp = ud * (1 - dc[5] * expm1(-rd / dc[5]));
  if (isfinite(dc[6])) {
    double un = fmin(n, cls__fit_nopt_for_data(plain, ud)), rn = n / un - 1;
    if (rn > 0) np = un * (1 - dc[6] * expm1(-rn / dc[6]));
  }
  return dc[0] + dc[1] / pow(np, dc[2]) + dc[3] / pow(dp, dc[4]);
}

typedef struct {
  const double *dc, *plain;
  double c6, u; /* C/6 and the unique tokens */
} dc_target;

static double dc_at(const dc_target *t, double x) {
  double n = exp(x);
  return cls_fit_constrained_loss(t->dc, t->plain, n, t->c6 / n, t->u);
}

enum { DC_GRID = 1843 }; /* ln N over ±18.42 (10^±8) in steps of 0.02 */

/* The N minimising the law at the target: false (why set, when given) when
 * the law's parameters are not finite or the minimum is on the grid's edge.
 * The grid guards against a law that is not unimodal along the budget
 * (the kink where N meets U_N); the golden section then only refines. */
static bool dc_solve(const double *dc, const double *plain, double c, double u, double q[6], char *why,
                     size_t len) {
  for (int k = 0; k < 6; k++)
    if (!isfinite(dc[k])) return false;
  if (!(dc[5] > 0) || (isfinite(dc[6]) && !(dc[6] > 0))) return false;
  dc_target t = {dc, plain, c / 6, u};
  double centre = dc[2] > 0 && dc[4] > 0 ? par_nopt(dc, c) : sqrt(c / 6);
  if (!(centre > 0) || !isfinite(centre)) centre = sqrt(c / 6);
  double x0 = log(centre) - 0.01 * (DC_GRID - 1), h = 0.02;
  size_t best = 0;
  double fbest = INFINITY;
  for (size_t i = 0; i < DC_GRID; i++) {
    double f = dc_at(&t, x0 + h * (double)i);
    if (f < fbest) fbest = f, best = i;
  }
  if (!isfinite(fbest)) return false;
  if (best == 0 || best == DC_GRID - 1) {
    if (why)
      snprintf(why, len,
               "the loss keeps falling toward N = %.3g, the edge of the search (10^%+d times N = %.3g): no "
               "optimum%s",
               exp(x0 + h * (double)best), best ? 8 : -8, centre,
               dc[2] > 0 && dc[4] > 0 ? "" : " (the law's alpha or beta is not positive)");
    return false;
  }
  /* golden section on the two grid steps around the best point */
  const double g = 0.5 * (sqrt(5.0) - 1);
  double a = x0 + h * (double)(best - 1), b = x0 + h * (double)(best + 1);
  double x1 = b - g * (b - a), x2 = a + g * (b - a), f1 = dc_at(&t, x1), f2 = dc_at(&t, x2);
  while (b - a > 1e-12) {
    if (f1 <= f2)
      b = x2, x2 = x1, f2 = f1, x1 = b - g * (b - a), f1 = dc_at(&t, x1);
    else
      a = x1, x1 = x2, f1 = f2, x2 = a + g * (b - a), f2 = dc_at(&t, x2);
  }
  double x = f1 <= f2 ? x1 : x2;
  q[0] = exp(x), q[1] = c / 6 / q[0], q[2] = q[1] / u, q[3] = dc_at(&t, x);
  /* the flat span: grid points either side within 1e-9 of the optimum */
  double tol = q[3] + 1e-9 * fabs(q[3]);
  size_t lo = best, hi = best;
  while (lo > 0 && dc_at(&t, x0 + h * (double)(lo - 1)) <= tol) lo--;
  while (hi + 1 < DC_GRID && dc_at(&t, x0 + h * (double)(hi + 1)) <= tol) hi++;
  q[4] = fmin(q[0], exp(x0 + h * (double)lo)), q[5] = fmax(q[0], exp(x0 + h * (double)hi));
  return isfinite(q[3]);
}

cls_status cls_fit_constrained_plan(const cls_fit_laws *L, double c, double u, cls_fit_dc_plan *out, char *err,
                                    size_t err_len) {
  if (!L || !out) return CLS_ERR_NULL_ARGUMENT;
  memset(out, 0, sizeof *out);
  out->c = c, out->unique = u;
  out->n = out->d = out->epochs = out->loss = out->n_flat_lo = out->n_flat_hi = NAN;
  cls_ci *ci[4] = {&out->n_ci, &out->d_ci, &out->epochs_ci, &out->loss_ci};
  for (int k = 0; k < 4; k++) ci[k]->lo = ci[k]->hi = NAN;
  if (!(c > 0) || !isfinite(c))
    return cls_errf(err, err_len, CLS_ERR_INVALID_VALUE,
                    "the budget to plan for must be a positive finite number");
  if (!(u > 0) || !isfinite(u))
    return cls_errf(err, err_len, CLS_ERR_INVALID_VALUE,
                    "the unique training data must be a positive finite number of tokens (clscale plan: "
                    "--n-train K examples or --unique-tokens U)");
  if (!L->has_dc)
    return cls_errf(
        err, err_len, CLS_ERR_INVALID_VALUE,
        "the data-constrained law is not fitted: clscale fit fits it when every run records its epochs "
        "and at least 2 runs repeat their data");
  if (isfinite(L->dc[6]) && !L->has_par)
    return cls_errf(
        err, err_len, CLS_ERR_INVALID_VALUE,
        "the data-constrained law's R*_N needs the plain parametric law (its U_N), which is not fitted");
  const double *plain = L->par;
  double q[6];
  if (!dc_solve(L->dc, plain, c, u, q, out->why, sizeof out->why)) {
    if (!out->why[0]) snprintf(out->why, sizeof out->why, "the law's parameters give no finite loss");
    return CLS_OK;
  }
  out->ok = true;
  out->n = q[0], out->d = q[1], out->epochs = q[2], out->loss = q[3];
  out->n_flat_lo = q[4], out->n_flat_hi = q[5];
  size_t nd = L->dc_draws ? L->n_dc_draws : 0;
  if (!nd) return CLS_OK;
  double *col = malloc(4 * nd * sizeof *col);
  if (!col) return CLS_ERR_OUT_OF_MEMORY;
  for (size_t r = 0; r < nd; r++) {
    double x[6] = {NAN, NAN, NAN, NAN, NAN, NAN};
    if (!dc_solve(L->dc_draws + 7 * r, plain, c, u, x, NULL, 0)) x[0] = x[1] = x[2] = x[3] = NAN;
    for (int k = 0; k < 4; k++) col[k * nd + r] = x[k];
  }
  double level = L->ci_level > 0 && L->ci_level < 1 ? L->ci_level : 0.95;
  for (int k = 0; k < 4; k++) *ci[k] = cls__fit_interval(col + k * nd, nd, level);
  free(col);
  return CLS_OK;
}
