/* src/ops/rows_ref.c — see rows_ref.h. Straightforward loops in double:
 * max subtraction for softmax, two-pass variance for LayerNorm. */
#include "ops/rows_ref.h"

#include <math.h>

void cls__ref_softmax_forward(size_t rows, size_t cols, double scale, int causal, const double *x, double *y) {
  for (size_t r = 0; r < rows; r++) {
    const double *xr = x + r * cols;
    double *yr = y + r * cols;
    size_t n = causal ? r % cols + 1 : cols;
    double m = -INFINITY;
    for (size_t j = 0; j < n; j++) m = fmax(m, scale * xr[j]);
    double s = 0;
    for (size_t j = 0; j < n; j++) {
      yr[j] = exp(scale * xr[j] - m);
      s += yr[j];
    }
    for (size_t j = 0; j < n; j++) yr[j] /= s;
    for (size_t j = n; j < cols; j++) yr[j] = 0;
  }
}

void cls__ref_softmax_backward(size_t rows, size_t cols, double scale, const double *y, const double *dy,
                               double *dx) {
  for (size_t r = 0; r < rows; r++) {
    const double *yr = y + r * cols, *gr = dy + r * cols;
    double *dr = dx + r * cols;
    double s = 0;
    for (size_t j = 0; j < cols; j++) s += yr[j] * gr[j];
    for (size_t j = 0; j < cols; j++) dr[j] = scale * yr[j] * (gr[j] - s);
  }
}

/* One row's statistics; rms = 1 gives mean 0 and the root mean square. */
static void row_stats(const double *xr, size_t cols, double eps, int rms, double *mean, double *rstd) {
  double mu = 0;
  if (!rms) {
    for (size_t j = 0; j < cols; j++) mu += xr[j];
    mu /= (double)cols;
  }
  double q = 0;
  for (size_t j = 0; j < cols; j++) q += (xr[j] - mu) * (xr[j] - mu);
  *mean = mu;
  *rstd = 1.0 / sqrt(q / (double)cols + eps);
}

void cls__ref_layernorm_forward(size_t rows, size_t cols, double eps, const double *x, const double *gamma,
                                const double *beta, double *y, double *mean, double *rstd) {
  for (size_t r = 0; r < rows; r++) {
    double mu, rs;
    row_stats(x + r * cols, cols, eps, 0, &mu, &rs);
    for (size_t j = 0; j < cols; j++)
      y[r * cols + j] = (x[r * cols + j] - mu) * rs * gamma[j] + (beta ? beta[j] : 0.0);
    if (mean) mean[r] = mu;
    if (rstd) rstd[r] = rs;
  }
}

void cls__ref_rmsnorm_forward(size_t rows, size_t cols, double eps, const double *x, const double *gamma,
                              double *y, double *rstd) {
  for (size_t r = 0; r < rows; r++) {
    double mu, rs;
    row_stats(x + r * cols, cols, eps, 1, &mu, &rs);
    for (size_t j = 0; j < cols; j++) y[r * cols + j] = x[r * cols + j] * rs * gamma[j];
    if (rstd) rstd[r] = rs;
  }
}

/* Shared backward: mean NULL means RMSNorm (no centring, no mean(g) term). */
static void norm_backward(size_t rows, size_t cols, const double *x, const double *gamma, const double *mean,
                          const double *rstd, const double *dy, double *dx, double *dgamma, double *dbeta,
                          int accumulate) {
  if (!accumulate) {
    for (size_t j = 0; j < cols; j++) {
      dgamma[j] = 0;
      if (dbeta) dbeta[j] = 0;
    }
  }
  /* Parameter gradients first: dx may be dy or x. */
  for (size_t r = 0; r < rows; r++) {
    double mu = mean ? mean[r] : 0.0;
    for (size_t j = 0; j < cols; j++) {
      dgamma[j] += dy[r * cols + j] * (x[r * cols + j] - mu) * rstd[r];
      if (dbeta) dbeta[j] += dy[r * cols + j];
    }
  }
  for (size_t r = 0; r < rows; r++) {
    const double *xr = x + r * cols, *gr = dy + r * cols;
    double mu = mean ? mean[r] : 0.0, rs = rstd[r];
    double a = 0, b = 0;
    for (size_t j = 0; j < cols; j++) {
      double g = gamma[j] * gr[j];
      a += g;
      b += g * (xr[j] - mu) * rs;
    }
    a = mean ? a / (double)cols : 0.0;
    b /= (double)cols;
    for (size_t j = 0; j < cols; j++) {
      double g = gamma[j] * gr[j];
      dx[r * cols + j] = rs * (g - a - (xr[j] - mu) * rs * b);
    }
  }
}

void cls__ref_layernorm_backward(size_t rows, size_t cols, const double *x, const double *gamma,
                                 const double *mean, const double *rstd, const double *dy, double *dx,
                                 double *dgamma, double *dbeta, int accumulate) {
  norm_backward(rows, cols, x, gamma, mean, rstd, dy, dx, dgamma, dbeta, accumulate);
}

void cls__ref_rmsnorm_backward(size_t rows, size_t cols, const double *x, const double *gamma, const double *rstd,
                               const double *dy, double *dx, double *dgamma, int accumulate) {
  norm_backward(rows, cols, x, gamma, NULL, rstd, dy, dx, dgamma, NULL, accumulate);
}
