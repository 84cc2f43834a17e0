/*
 * src/fit/theory_rf.c — the deterministic-equivalent test loss of linear
 * random-feature ridge regression (conventions in theory_rf.h).
 *
 * Derivation (arXiv 2405.00592 §"linear random features"; the ridgeless
 * symmetric result is arXiv 2210.16859; the ridge is arXiv 2405.19398).
 * Write S = UΛUᵀ (N×N, the features' covariance) and G = Λ^½UᵀUΛ^½ (M×M,
 * the same non-zero spectrum). The feature-space ridge is γ_F = γ·N/M.
 *
 * 1. Over the training set, at fixed U: φ is Gaussian with covariance S and
 *    y = v*·φ + e with v* = S⁺UΛw and e independent of φ, of variance
 *    σ² + wᵀΛw − wᵀΛUᵀS⁺UΛw. Ridge regression's deterministic equivalent
 *    (T samples, ridge γ_F) renormalises the ridge to κ,
 *        κ = γ_F + (κ/T)·tr S(S+κ)⁻¹,
 *    and gives loss = (κ²·v*ᵀS(S+κ)⁻²v* + var e) / (1 − tr S²(S+κ)⁻²/T).
 *    Averaged over w (E wwᵀ = I) the numerator is κ²·tr Λ(G+κ)⁻² + σ².
 * 2. Over U: G = Σ_n g_n g_nᵀ with g_n ~ N(0, Λ/M), an empirical covariance
 *    of N samples with population (N/M)Λ. Its deterministic equivalent
 *    renormalises κ once more: κ(G+κ)⁻¹ ≍ κ̃((N/M)Λ+κ̃)⁻¹ with
 *    κ = κ̃·(1 − d1/N). The second-order traces follow by differentiating in
 *    κ (dκ/dκ̃ = 1 − d2/N).
 * With k = κ̃·M/N (the x-space ridge) and the spectral sums
 *        d1 = Σ λ/(λ+k),  d2 = Σ λ²/(λ+k)²,  e1 = Σ λ/(λ+k)²  (k·e1 = d1 − d2),
 * the final equations are
 *        k·(1 − d1/N)·(1 − d1/T) = γ                                  (1)
 *        df2  = d1 − (1 − d1/N)·k·e1 / (1 − d2/N)                      (2)
 *        loss = (k²·e1 / (1 − d2/N) + σ²) / (1 − df2/T)                (3)
 * (1) is symmetric under N ↔ T. Its left side is 0 at k0 (d1(k0) = min(N,T),
 * or k0 = 0 when min(N,T) >= M) and increases with k beyond it (a product
 * of positive increasing factors), so the physical root is the unique one in
 * (k0, ∞): found by safeguarded Newton (bisection on log k whenever a Newton
 * step leaves the bracket or does not halve it), which cannot diverge for
 * any γ > 0, however small. γ = 0 is k = k0 exactly.
 * Limits: N → ∞ makes (1) k·(1 − d1/T) = γ and (3) the classical
 * (k²e1 + σ²)/(1 − d2/T) of ridge regression on x; T → ∞ makes (1)
 * k·(1 − d1/N) = γ and (3) σ² + k²e1/(1 − d2/N). Ridgeless and noiseless,
 * (3) becomes k0·min(N,T)/(1 − min/max): symmetric, and infinite at N = T.
 * At the single point N = T = M the γ → 0 limit of (3) is M²/(3·Σ 1/λ),
 * an O(1/M) finite-size artifact of the equivalent; γ = 0 there gives the
 * exact least-squares answer (0 without noise, +∞ with it).
 */
#include <float.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "core/err.h"
#include "core/spectrum.h"
#include "fit/theory_rf.h"

/* The spectral sums at k, with c1 = M − d1 and c2 = M − d2 summed directly,
 * because for small k the differences would lose every digit, and k·e1,
 * k²·e1 summed as such, so that a huge ridge cannot overflow k². */
typedef struct rf_sums {
  double d1, d2, e1, ke1, k2e1, c1, c2;
} rf_sums;

static rf_sums rf_sums_at(const double *lam, size_t m, double k) {
  rf_sums s = {0, 0, 0, 0, 0, 0, 0};
  for (size_t i = 0; i < m; i++) {
    double l = lam[i], r = 1.0 / (l + k), lr = l * r, kr = k * r;
    s.d1 += lr;
    s.d2 += lr * lr;
    s.e1 += lr * r;
    s.ke1 += lr * kr;
    s.k2e1 += l * kr * kr;
    s.c1 += kr;
    s.c2 += kr * (2 * lr + kr);
  }
  return s;
}

/* 1 − d/n for a size n (∞ gives 1), d = m − c: the form that keeps the
 * digits, (n − d)/n when d is small, (n − m + c)/n when d is near m. */
static double rf_slack(double n, double d, double c, double m) {
  if (isinf(n)) return 1.0;
  return d < 0.5 * m ? (n - d) / n : ((n - m) + c) / n;
}

/* An increasing function of k with its derivative, for the root finder. */
typedef struct rf_eq {
  const double *lam;
  size_t m;
  double n, t; /* sizes, INFINITY for a limit */
  double target;
  bool ridge; /* true: k(1 − d1/N)(1 − d1/T) − target; false: target − d1 */
} rf_eq;

static void rf_eq_eval(const rf_eq *q, double k, double *f, double *df) {
  rf_sums s = rf_sums_at(q->lam, q->m, k);
  double md = (double)q->m;
  if (!q->ridge) {
    *f = q->target - s.d1;
    *df = s.e1; /* −d d1/dk = Σ λ/(λ+k)² */
    return;
  }
  double ua = rf_slack(q->n, s.d1, s.c1, md), ub = rf_slack(q->t, s.d1, s.c1, md);
  double ia = isinf(q->n) ? 0 : 1 / q->n, ib = isinf(q->t) ? 0 : 1 / q->t;
  *f = k * ua * ub - q->target;
  *df = ua * ub + s.ke1 * (ia * ub + ib * ua);
}

/* The root of an increasing q in [lo, hi] (0 < lo, f(lo) <= 0 <= f(hi)). */
static double rf_solve(const rf_eq *q, double lo, double hi) {
  /* sqrt(lo)·sqrt(hi), not sqrt(lo·hi), which overflows for a huge ridge;
   * clamped, because the product of the roots may round past hi. */
  double x = fmin(fmax(sqrt(lo) * sqrt(hi), lo), hi), dx_old = hi - lo, f, df;
  for (int it = 0; it < 400; it++) {
    rf_eq_eval(q, x, &f, &df);
    if (f == 0) return x;
    if (f < 0)
      lo = x;
    else
      hi = x;
    if (hi - lo <= 4 * DBL_EPSILON * hi) break;
    double xn = df > 0 ? x - f / df : NAN;
    if (xn > lo && xn < hi && fabs(f) * 2 < fabs(dx_old * df)) {
      dx_old = fabs(xn - x);
      if (dx_old <= 2 * DBL_EPSILON * x) return xn;
      x = xn;
    } else {
      double xb = fmin(fmax(sqrt(lo) * sqrt(hi), lo), hi);
      dx_old = fabs(xb - x);
      x = xb;
    }
  }
  return 0.5 * (lo + hi);
}

static double rf_trace(const double *lam, size_t m) {
  double tr = 0;
  for (size_t i = 0; i < m; i++) tr += lam[i];
  return tr;
}

/* k from (1): k0 first (ridgeless), then the ridge root in (k0, ∞). */
static double rf_kappa(const double *lam, size_t m, double n, double t, double gamma) {
  double mm = fmin(n, t), tr = rf_trace(lam, m), k0 = 0;
  if (mm < (double)m) {
    rf_eq q = {lam, m, n, t, mm, false};
    /* d1(k) <= tr/k, so d1 <= mm at tr/mm; halve down until d1 > mm. k0 is
     * at least of the order of min λ / M, far above the underflow. */
    double hi = tr / mm, lo = hi, f, df;
    do {
      lo *= 0.5;
      rf_eq_eval(&q, lo, &f, &df);
    } while (f >= 0 && lo > DBL_MIN);
    k0 = rf_solve(&q, lo, hi);
  }
  if (gamma == 0) return k0;
  /* Each factor of (1) is <= 1, so k >= gamma; at k >= 2tr/mm both are
   * >= 1/2, so the left side is >= k/4 (at DBL_MAX both are ~1). */
  rf_eq q = {lam, m, n, t, gamma, true};
  double lo = fmax(k0, gamma), hi = fmax(fmin(4 * gamma, DBL_MAX), 2 * tr / mm);
  if (hi <= lo) hi = fmin(4 * lo, DBL_MAX);
  return rf_solve(&q, lo, hi);
}

static cls_status rf_check_common(double gamma, double sigma2, const double *lambda, size_t m, const void *out,
                                  char *err, size_t err_len) {
  if (!out)
    return cls_errf(err, err_len, CLS_ERR_NULL_ARGUMENT, "rf theory: `out` is NULL; pass a result to fill");
  if (!(gamma >= 0) || isinf(gamma))
    return cls_errf(err, err_len, CLS_ERR_INVALID_VALUE,
                    "rf theory: `gamma` = %g; the ridge must be a finite number >= 0", gamma);
  if (!(sigma2 >= 0) || isinf(sigma2))
    return cls_errf(err, err_len, CLS_ERR_INVALID_VALUE,
                    "rf theory: `sigma2` = %g; the label-noise variance must be a finite number >= 0", sigma2);
  if (m == 0)
    return cls_errf(err, err_len, CLS_ERR_INVALID_SIZE, "rf theory: `m` = 0; the latent dimension must be >= 1");
  if (!lambda)
    return cls_errf(err, err_len, CLS_ERR_NULL_ARGUMENT, "rf theory: `lambda` is NULL; pass the m eigenvalues");
  for (size_t i = 0; i < m; i++)
    if (!(lambda[i] > 0) || isinf(lambda[i]))
      return cls_errf(err, err_len, CLS_ERR_INVALID_VALUE,
                      "rf theory: `lambda[%zu]` = %g; every eigenvalue must be finite and > 0", i, lambda[i]);
  double tr = rf_trace(lambda, m);
  if (isinf(tr))
    return cls_errf(err, err_len, CLS_ERR_INVALID_VALUE,
                    "rf theory: the sum of `lambda` overflows; scale the spectrum (e.g. to trace 1)");
  return CLS_OK;
}

/* (2)–(3) at the k of (1), for sizes n, t (INFINITY for a limit). */
static double rf_loss_at(const double *lam, size_t m, double n, double t, double gamma, double sigma2, double k) {
  double md = (double)m;
  if (k == 0) {
    /* Ridgeless with min(N,T) >= M: the features span x and the fit is
     * least squares on x, whose loss is σ²/(1 − M/T) (0 if noiseless). */
    if (sigma2 == 0) return 0;
    if (isinf(t)) return sigma2;
    return t > md ? sigma2 / (1 - md / t) : INFINITY;
  }
  rf_sums s = rf_sums_at(lam, m, k);
  double ua = rf_slack(n, s.d1, s.c1, md), ub = rf_slack(t, s.d1, s.c1, md), ud = rf_slack(n, s.d2, s.c2, md);
  if (gamma > 0) {
    /* Near the peak the smaller factor of (1) is below the resolution of k
     * (at N = T they go as √γ); (1) gives it exactly from the larger. */
    double p = gamma / k;
    if (n == t)
      ua = ub = sqrt(p);
    else if (ua >= ub)
      ub = p / ua;
    else
      ua = p / ub;
  }
  /* 1 − df2/T from (2) as the sum of two terms >= 0, (1 − d1/T) +
   * (1 − d1/N)·k·e1/((1 − d2/N)·T): no cancellation when df2 is near T. It
   * is 0 only at the ridgeless peak N = T < M. */
  double den = ub + (isinf(t) ? 0 : ua * s.ke1 / (ud * t));
  double num = s.k2e1 / ud + sigma2;
  return den > 0 ? num / den : INFINITY;
}

cls_status cls_fit_rf_theory_loss(size_t n, size_t t, double gamma, double sigma2, const double *lambda, size_t m,
                                  cls_fit_rf_theory *out, char *err, size_t err_len) {
  cls_status st = rf_check_common(gamma, sigma2, lambda, m, out, err, err_len);
  if (st != CLS_OK) return st;
  if (n == 0)
    return cls_errf(err, err_len, CLS_ERR_INVALID_SIZE, "rf theory: `n` = 0; the number of features must be >= 1");
  if (t == 0)
    return cls_errf(err, err_len, CLS_ERR_INVALID_SIZE,
                    "rf theory: `t` = 0; the number of training samples must be >= 1");
  double k = rf_kappa(lambda, m, (double)n, (double)t, gamma);
  out->kappa = k;
  out->loss = rf_loss_at(lambda, m, (double)n, (double)t, gamma, sigma2, k);
  return CLS_OK;
}

cls_status cls_fit_rf_theory_loss_n_inf(size_t t, double gamma, double sigma2, const double *lambda, size_t m,
                                        cls_fit_rf_theory *out, char *err, size_t err_len) {
  cls_status st = rf_check_common(gamma, sigma2, lambda, m, out, err, err_len);
  if (st != CLS_OK) return st;
  if (t == 0)
    return cls_errf(err, err_len, CLS_ERR_INVALID_SIZE,
                    "rf theory: `t` = 0; the number of training samples must be >= 1");
  double td = (double)t, md = (double)m;
  double k = rf_kappa(lambda, m, INFINITY, td, gamma);
  out->kappa = k;
  if (k == 0) {
    out->loss = sigma2 == 0 ? 0 : td > md ? sigma2 / (1 - md / td) : INFINITY;
    return CLS_OK;
  }
  /* Ridge regression on x: bias k²·tr Λ(Λ+k)⁻², variance σ²·d2/T, both
   * inflated by 1/(1 − d2/T). */
  rf_sums s = rf_sums_at(lambda, m, k);
  double den = rf_slack(td, s.d2, s.c2, md);
  out->loss = den > 0 ? (s.k2e1 + sigma2) / den : INFINITY;
  return CLS_OK;
}

cls_status cls_fit_rf_theory_loss_t_inf(size_t n, double gamma, double sigma2, const double *lambda, size_t m,
                                        cls_fit_rf_theory *out, char *err, size_t err_len) {
  cls_status st = rf_check_common(gamma, sigma2, lambda, m, out, err, err_len);
  if (st != CLS_OK) return st;
  if (n == 0)
    return cls_errf(err, err_len, CLS_ERR_INVALID_SIZE, "rf theory: `n` = 0; the number of features must be >= 1");
  double nd = (double)n, md = (double)m;
  double k = rf_kappa(lambda, m, nd, INFINITY, gamma);
  out->kappa = k;
  if (k == 0) {
    out->loss = sigma2; /* N >= M features span x exactly */
    return CLS_OK;
  }
  /* The population ridge on the features leaves γ_F²·tr Λ(G+γ_F)⁻², whose
   * equivalent is k²e1/(1 − d2/N); the noise is not learnt. */
  rf_sums s = rf_sums_at(lambda, m, k);
  out->loss = sigma2 + s.k2e1 / rf_slack(nd, s.d2, s.c2, md);
  return CLS_OK;
}

/* The spectrum itself lives in core (core/spectrum.h), shared with the device
 * model in nn, so that theory and simulation use the very same eigenvalues. */
cls_status cls_fit_rf_spectrum(double alpha, size_t m, double *lambda, char *err, size_t err_len) {
  return cls_powerlaw_spectrum(alpha, m, lambda, err, err_len);
}

cls_status cls_fit_rf_theory_loss_powerlaw(size_t n, size_t t, double gamma, double sigma2, double alpha, size_t m,
                                           cls_fit_rf_theory *out, char *err, size_t err_len) {
  if (!(alpha > 0) || isinf(alpha))
    return cls_errf(err, err_len, CLS_ERR_INVALID_VALUE,
                    "rf theory: `alpha` = %g; the exponent must be finite and > 0", alpha);
  if (m == 0)
    return cls_errf(err, err_len, CLS_ERR_INVALID_SIZE, "rf theory: `m` = 0; the latent dimension must be >= 1");
  if (m > SIZE_MAX / sizeof(double))
    return cls_errf(err, err_len, CLS_ERR_INVALID_SIZE, "rf theory: `m` = %zu is too large to hold the spectrum",
                    m);
  double *lam = malloc(m * sizeof *lam);
  if (!lam)
    return cls_errf(err, err_len, CLS_ERR_OUT_OF_MEMORY, "rf theory: no memory for a spectrum of `m` = %zu values",
                    m);
  cls_status st = cls_fit_rf_spectrum(alpha, m, lam, err, err_len);
  if (st == CLS_OK) st = cls_fit_rf_theory_loss(n, t, gamma, sigma2, lam, m, out, err, err_len);
  free(lam);
  return st;
}
