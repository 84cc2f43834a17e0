/*
 * src/fit/theory_rf.h — the large-N (deterministic-equivalent) test loss of
 * linear random-feature ridge regression, the solvable scaling model of
 * Maloney, Roberts and Sully (arXiv 2210.16859, 2405.19398), in the form of
 * Atanasov, Zavatone-Veth and Pehlevan (arXiv 2405.00592). docs/theory.md
 * explains the model, the equations and what the tests prove.
 *
 * The model and its conventions (the `rf` task follows them):
 *   latent x ∈ R^M, x ~ N(0, Λ), Λ = diag(lambda_1..lambda_M) (all > 0; the
 *     power-law spectrum lambda_i ∝ i^-(1+alpha) is normalised to trace 1);
 *   teacher y = w·x + ε, w_i ~ N(0, 1) independent, ε ~ N(0, sigma2);
 *   features φ = U x ∈ R^N, U_ij ~ N(0, 1/M);
 *   T training pairs (x_t, y_t); the readout v minimises
 *       (1/T) Σ_t (y_t − v·φ_t)² + gamma·(N/M)·|v|²;
 *   test loss = E_x,ε[(y − v·φ(x))²] = sigma2 + (w − Uᵀv)ᵀ Λ (w − Uᵀv), the
 *     population MSE with label noise included (so its floor is sigma2),
 *     averaged over w, U and the training set.
 * Why the ridge carries N/M: E|φ|² = (N/M)·tr Λ, so the feature kernel φ·φ'
 * is (N/M) times the kernel x·x'; scaling the penalty the same way makes
 * gamma the ridge of the equivalent kernel regression on x, whatever N is.
 * Then a sweep over N at fixed gamma keeps the regularisation fixed, and
 * N → ∞ at fixed gamma is plain ridge regression on x with ridge gamma (with
 * a bare gamma·|v|² the effective ridge would be gamma·M/N and vanish).
 *
 * Nothing here prints or exits; every failure returns a status with a
 * message in err naming the argument.
 */
#ifndef CLSCALE_FIT_THEORY_RF_H
#define CLSCALE_FIT_THEORY_RF_H

#include <stddef.h>

#include "clscale/status.h"

typedef struct cls_fit_rf_theory {
  /* Expected test loss (label noise included, >= sigma2). +INFINITY where
   * the ridgeless loss diverges: gamma = 0 and N = T < M (the
   * interpolation peak), or gamma = 0, sigma2 > 0 and T = M <= N. */
  double loss;
  /* The renormalised ridge k >= gamma: the ridge that plain ridge regression
   * on x would need to act like the whole model (it solves
   * k·(1 − d1(k)/N)·(1 − d1(k)/T) = gamma, docs/theory.md). */
  double kappa;
} cls_fit_rf_theory;

/* lambda[i] = (i+1)^-(1+alpha) / Σ_j (j+1)^-(1+alpha), i < m: the power-law
 * spectrum normalised to trace 1. alpha must be finite and > 0, m > 0. */
cls_status cls_fit_rf_spectrum(double alpha, size_t m, double *lambda, char *err, size_t err_len);

/* The deterministic-equivalent test loss for N features, T samples, ridge
 * gamma >= 0 (the convention above), label noise sigma2 >= 0 and the
 * spectrum lambda[0..m) (every value finite and > 0; not renormalised). */
cls_status cls_fit_rf_theory_loss(size_t n, size_t t, double gamma, double sigma2, const double *lambda, size_t m,
                                  cls_fit_rf_theory *out, char *err, size_t err_len);

/* The same with the power-law spectrum of (alpha, m). */
cls_status cls_fit_rf_theory_loss_powerlaw(size_t n, size_t t, double gamma, double sigma2, double alpha, size_t m,
                                           cls_fit_rf_theory *out, char *err, size_t err_len);

/* N → ∞: plain ridge regression on x with T samples, minimising
 * (1/T) Σ (y − v·x)² + gamma·|v|² (the classical deterministic equivalent). */
cls_status cls_fit_rf_theory_loss_n_inf(size_t t, double gamma, double sigma2, const double *lambda, size_t m,
                                        cls_fit_rf_theory *out, char *err, size_t err_len);

/* T → ∞: the best N-feature approximation with the ridge, minimising
 * E(y − v·φ)² + gamma·(N/M)·|v|² over the population. */
cls_status cls_fit_rf_theory_loss_t_inf(size_t n, double gamma, double sigma2, const double *lambda, size_t m,
                                        cls_fit_rf_theory *out, char *err, size_t err_len);

#endif
