/*
 * src/fit/constrained.c — the data-constrained law of Muennighoff et al.
 * (2023): repeated data is worth less than fresh data, by a decay constant
 * R*_D; parameters beyond what the unique data can use are worth less, by
 * R*_N (fit.h gives the law). Fitted as the plain parametric law is (Huber
 * loss on log-loss residuals, L-BFGS, centred logs) beside it, with
 * log R*_D and log R*_N as two more parameters, from the plain law's
 * optimum and a few values of the decay constants; intervals from a
 * bootstrap over runs. U_N, the compute-optimal N for a run's unique
 * data, comes from the plain law fitted to the same runs and is held fixed
 * in the fit (a function of the parameters being fitted would make the
 * objective non-smooth where U_N = N).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "fit/fit.h"

enum { DC_STREAM = 0x44434f4eu /* "DCON" */, NX = 7 };

typedef struct {
  const double *logn, *logd; /* raw log N, log D */
  const double *ud, *rd;     /* unique data and repeats R_D = epochs − 1 */
  const double *un, *rn;     /* U_N and R_N */
  const double *logl;
  const double *w; /* multiplicities (bootstrap), NULL = 1 */
  size_t n;
  double lnref, ldref, delta;
  bool use_rn;
  bool fix_e; /* E pinned: its gradient held at 0 */
} dc_data;

/* log of the effective amount U·(1 + R*(1 − e^{−R/R*})) and its derivative
 * in ρ = log R*. */
static double effective(double u, double r, double rho, double *deriv) {
  double rs = exp(rho), x = r / rs, ex = exp(-x);
  double g = rs * (1 - ex);             /* R*(1 − e^{−R/R*}) */
  double dg = rs * ((1 - ex) - x * ex); /* d g / d ρ */
  *deriv = r > 0 ? dg / (1 + g) : 0;    /* d log(1 + g) / d ρ */
  return log(u) + (r > 0 ? log1p(g) : 0);
}

/* x = {e, a', α, b', β, ρ_D, ρ_N} with a' = a − α·lnref, b' = b − β·ldref. */
static double dc_objective(void *user, const double *x, double *g, int nx) {
  const dc_data *d = user; /* nx is NX − 1 without ρ_N: g has no place for it then */
  double f = 0;
  for (int k = 0; k < nx; k++) g[k] = 0;
  for (size_t i = 0; i < d->n; i++) {
    double wt = d->w ? d->w[i] : 1;
    if (wt == 0) continue;
    double dn = 0, dd, s[3], h;
    double u = d->use_rn ? effective(d->un[i], d->rn[i], x[6], &dn) : d->logn[i];
    double v = effective(d->ud[i], d->rd[i], x[5], &dd);
    u -= d->lnref, v -= d->ldref;
    double r = cls__lse3(x[0], x[1] - x[2] * u, x[3] - x[4] * v, s) - d->logl[i];
    f += wt * cls__huber(r, d->delta, &h);
    h *= wt;
    g[0] += h * s[0];
    g[1] += h * s[1];
    g[2] -= h * s[1] * u;
    g[3] += h * s[2];
    g[4] -= h * s[2] * v;
    g[5] -= h * s[2] * x[4] * dd;
    if (nx == NX) g[6] -= h * s[1] * x[2] * dn;
  }
  if (d->fix_e) g[0] = 0;
  return f;
}

/* raw parameters {E, A, α, B, β, R*_D, R*_N} of x */
static void to_params(const dc_data *d, const double *x, double *p) {
  p[0] = exp(x[0]);
  p[1] = exp(x[1] + x[2] * d->lnref);
  p[2] = x[2];
  p[3] = exp(x[3] + x[4] * d->ldref);
  p[4] = x[4];
  p[5] = exp(x[5]);
  p[6] = d->use_rn ? exp(x[6]) : NAN;
}

/* Minimises from each start; the best end in best (objective returned). */
static double fit_from(dc_data *d, const double (*starts)[NX], int ns, double *best) {
  double fbest = INFINITY;
  for (int s = 0; s < ns; s++) {
    double x[NX], fx;
    memcpy(x, starts[s], sizeof x);
    cls__fit_minimize(dc_objective, d, x, d->use_rn ? NX : NX - 1, &fx);
    if (isfinite(fx) && fx < fbest) fbest = fx, memcpy(best, x, sizeof x);
  }
  return fbest;
}

cls_status cls_fit_constrained_run(const cls_fit_input *in, const cls_fit_options *o,
                                   const cls_fit_parametric *par, cls_fit_constrained *out) {
  if (!in || !o || !par || !out) return CLS_ERR_NULL_ARGUMENT;
  memset(out, 0, sizeof *out);
  out->E = out->A = out->alpha = out->B = out->beta = out->rd_star = out->rn_star = NAN;
  out->half_value_epochs = NAN;
  cls_ci *cis[6] = {&out->E_ci,       &out->alpha_ci,   &out->beta_ci,
                    &out->rd_star_ci, &out->rn_star_ci, &out->half_value_epochs_ci};
  for (int k = 0; k < 6; k++) cis[k]->lo = cis[k]->hi = NAN;
  size_t n = in->n_pts, known = 0;
  for (size_t i = 0; i < n; i++) {
    known += isfinite(in->pts[i].epochs);
    out->n_repeated += in->pts[i].epochs > 1.000001;
    if (isfinite(in->pts[i].epochs)) out->max_epochs = fmax(out->max_epochs, in->pts[i].epochs);
  }
  if (known < n) {
    snprintf(out->why, sizeof out->why,
             "needs every run's epochs (passes over its unique data; %zu of %zu runs record them)", known, n);
    return CLS_OK;
  }
  if (out->n_repeated < 2) {
    snprintf(out->why, sizeof out->why,
             "needs at least 2 runs that repeat their data (epochs > 1; %zu do): without repeats it is the plain "
             "law",
             out->n_repeated);
    return CLS_OK;
  }
  if (!par->ok) {
    snprintf(out->why, sizeof out->why, "needs the plain parametric law (its start and U_N): %.190s", par->why);
    return CLS_OK;
  }
  double *buf = malloc((n ? n : 1) * 8 * sizeof *buf);
  if (!buf) return CLS_ERR_OUT_OF_MEMORY;
  double *logn = buf, *logd = buf + n, *ud = buf + 2 * n, *rd = buf + 3 * n, *un = buf + 4 * n, *rn = buf + 5 * n,
         *logl = buf + 6 * n, *w = buf + 7 * n;
  dc_data d = {logn, logd, ud, rd, un, rn, logl, NULL, n, 0, 0, o->huber_delta, false, o->fix_E > 0};
  const double plain[5] = {par->E, par->A, par->alpha, par->B, par->beta};
  for (size_t i = 0; i < n; i++) {
    const cls_fit_point *q = &in->pts[i];
    double ep = fmax(q->epochs, 1);
    logn[i] = log(q->n), logd[i] = log(q->d), logl[i] = log(q->loss);
    ud[i] = q->d / ep, rd[i] = ep - 1;
    un[i] = fmin(q->n, cls__fit_nopt_for_data(plain, ud[i]));
    rn[i] = q->n / un[i] - 1;
    out->n_excess += rn[i] > 1e-6;
    d.lnref += logn[i] / (double)n, d.ldref += logd[i] / (double)n;
  }
  /* R*_N is known only from runs with more parameters than their unique
   * data can use; without two of them it is left out (N' = N). */
  d.use_rn = out->has_rn = out->n_excess >= 2;
  /* starts: the plain law with R*_D (and R*_N) from a log grid */
  const double rds[5] = {1, 4, 15, 60, 250}, rns[3] = {1, 5, 25};
  double starts[15][NX];
  int ns = 0;
  for (int i = 0; i < 5; i++)
    for (int j = 0; j < (d.use_rn ? 3 : 1); j++, ns++) {
      double *x = starts[ns];
      x[0] = log(par->E), x[2] = par->alpha, x[4] = par->beta;
      x[1] = log(par->A) - par->alpha * d.lnref, x[3] = log(par->B) - par->beta * d.ldref;
      x[5] = log(rds[i]), x[6] = d.use_rn ? log(rns[j]) : 0;
    }
  double best[NX] = {0};
  out->objective = fit_from(&d, (const double(*)[NX])starts, ns, best);
  out->plain_objective = par->objective;
  cls_status st = CLS_OK;
  if (!isfinite(out->objective)) {
    snprintf(out->why, sizeof out->why, "no start of the optimiser reached a finite objective");
    goto done;
  }
  double p[NX];
  to_params(&d, best, p);
  out->E = p[0], out->A = p[1], out->alpha = p[2], out->B = p[3], out->beta = p[4];
  out->rd_star = p[5], out->rn_star = p[6];
  out->half_value_epochs = 1 + out->rd_star * log(2);
  out->ok = true;
  /* bootstrap over runs, each resample refitted from the best end */
  int B = o->bootstrap > 0 ? o->bootstrap : 0;
  out->n_boot = B;
  out->boot = malloc((size_t)(B ? B : 1) * NX * sizeof *out->boot);
  double *tmp = malloc((size_t)(B ? B : 1) * sizeof *tmp);
  if (!out->boot || !tmp) {
    free(tmp);
    st = CLS_ERR_OUT_OF_MEMORY;
    goto done;
  }
  cls_rng rng = cls_rng_make(o->seed, DC_STREAM);
  d.w = w;
  for (int r = 0; r < B; r++) {
    for (size_t i = 0; i < n; i++) w[i] = 0;
    for (size_t i = 0; i < n; i++) w[cls_rng_below(rng, (uint64_t)r, (uint32_t)i, n)] += 1;
    double x[NX];
    double fx = fit_from(&d, (const double(*)[NX]) & best, 1, x);
    double *q = out->boot + (size_t)NX * r;
    if (isfinite(fx)) {
      to_params(&d, x, q);
      out->boot_ok++;
    } else {
      for (int k = 0; k < NX; k++) q[k] = NAN;
    }
  }
  const int col[5] = {0, 2, 4, 5, 6};
  for (int k = 0; k < 5; k++) {
    for (int r = 0; r < B; r++) tmp[r] = out->boot[(size_t)NX * r + col[k]];
    *cis[k] = cls__fit_interval(tmp, (size_t)B, o->ci_level);
  }
  for (int r = 0; r < B; r++) tmp[r] = 1 + out->boot[(size_t)NX * r + 5] * log(2);
  out->half_value_epochs_ci = cls__fit_interval(tmp, (size_t)B, o->ci_level);
  if (!out->has_rn) out->rn_star_ci.lo = out->rn_star_ci.hi = NAN;
  free(tmp);
done:
  free(buf);
  return st;
}
