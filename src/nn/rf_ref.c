/*
 * src/nn/rf_ref.c — the double-precision host reference of cls_rf_solve:
 * the same draws (rf_internal.h), the same whitened formulation, BLAS for
 * the products and LAPACK's Cholesky (dpotrf/dpotrs) for the solve.
 */
#include <cblas.h>
#include <math.h>
#include <stdlib.h>

#include "core/err.h"
#include "core/spectrum.h"
#include "nn/rf.h"
#include "rf_internal.h"

/* LAPACK (in OpenBLAS). The Gram matrix is symmetric, so its row-major
 * layout is its column-major layout and the Fortran routines take it as is. */
void dpotrf_(const char *uplo, const int *n, double *a, const int *lda, int *info);
void dpotrs_(const char *uplo, const int *n, const int *nrhs, const double *a, const int *lda, double *b,
             const int *ldb, int *info);

cls_status cls_rf_reference(const cls_rf_problem *p, cls_rf_result *out, char *err, size_t err_len) {
  if (!p || !out) return cls_errf(err, err_len, CLS_ERR_NULL_ARGUMENT, "rf reference: `problem` or `out` is NULL");
  cls_status st = cls_rf_problem_check(p, err, err_len);
  if (st != CLS_OK) return st;
  const size_t m = p->m, n = p->n, t = p->t, s = p->test_samples;
  const int kernel = cls_rf_kernel_form(p);
  const size_t g = kernel ? t : n;
  if (g > 46340)
    return cls_errf(err, err_len, CLS_ERR_INVALID_SIZE,
                    "rf reference: a Gram matrix of %zu rows is beyond LAPACK's 32-bit sizes; lower `n` or `t`",
                    g);
  double *lam = malloc(m * sizeof *lam), *ut = malloc(n * m * sizeof *ut), *wt = malloc(m * sizeof *wt);
  double *z = malloc(t * m * sizeof *z), *y = malloc(t * sizeof *y), *phi = malloc(t * n * sizeof *phi);
  double *gram = malloc(g * g * sizeof *gram), *sol = malloc(g * sizeof *sol), *v = malloc(n * sizeof *v);
  double *zs = s ? malloc(s * m * sizeof *zs) : NULL, *ys = s ? malloc(s * sizeof *ys) : NULL;
  if (!lam || !ut || !wt || !z || !y || !phi || !gram || !sol || !v || (s && (!zs || !ys))) {
    st = cls_errf(err, err_len, CLS_ERR_OUT_OF_MEMORY, "rf reference: no host memory for the problem; lower `t`");
    goto done;
  }
  if ((st = cls_powerlaw_spectrum(p->alpha, m, lam, err, err_len)) != CLS_OK) goto done;
  for (size_t j = 0; j < m; j++) lam[j] = sqrt(lam[j]);
  cls__rf_fill(p->seed, RF_STREAM_U, n, m, 1 / sqrt((double)m), lam, ut, NULL);
  cls__rf_fill(p->seed, RF_STREAM_W, m, 1, 1, NULL, wt, NULL);
  for (size_t j = 0; j < m; j++) wt[j] *= lam[j];
  cls__rf_fill(p->seed, RF_STREAM_Z, t, m, 1, NULL, z, NULL);
  cls__rf_fill(p->seed, RF_STREAM_EPS, t, 1, sqrt(p->sigma2), NULL, y, NULL);
  /* y = Z w̃ + ε; Φ = Z Ũᵀ. */
  cblas_dgemv(CblasRowMajor, CblasNoTrans, (int)t, (int)m, 1, z, (int)m, wt, 1, 1, y, 1);
  cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)t, (int)n, (int)m, 1, z, (int)m, ut, (int)m, 0, phi,
              (int)n);
  const double ridge = p->gamma * (double)n / (double)m;
  if (kernel) {
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)t, (int)t, (int)n, 1.0 / (double)t, phi, (int)n, phi,
                (int)n, 0, gram, (int)t);
    for (size_t i = 0; i < t; i++) sol[i] = y[i];
  } else {
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)n, (int)n, (int)t, 1.0 / (double)t, phi, (int)n, phi,
                (int)n, 0, gram, (int)n);
    cblas_dgemv(CblasRowMajor, CblasTrans, (int)t, (int)n, 1.0 / (double)t, phi, (int)n, y, 1, 0, sol, 1);
  }
  for (size_t i = 0; i < g; i++) gram[i * g + i] += ridge;
  int gi = (int)g, one = 1, info = 0;
  dpotrf_("L", &gi, gram, &gi, &info);
  if (info != 0) {
    st = cls_errf(err, err_len, CLS_ERR_NUMERIC,
                  "rf reference: the Gram matrix is not positive definite in double precision (pivot %d); raise "
                  "`gamma` (now %g)",
                  info, p->gamma);
    goto done;
  }
  dpotrs_("L", &gi, &one, gram, &gi, sol, &gi, &info);
  if (kernel) /* v = Φᵀ a / T */
    cblas_dgemv(CblasRowMajor, CblasTrans, (int)t, (int)n, 1.0 / (double)t, phi, (int)n, sol, 1, 0, v, 1);
  else
    for (size_t i = 0; i < n; i++) v[i] = sol[i];
  /* d = w̃ − Ũᵀv (reusing wt); the exact loss is sigma2 + |d|². */
  double *u = lam; /* the square roots are no longer needed */
  cblas_dgemv(CblasRowMajor, CblasTrans, (int)n, (int)m, 1, ut, (int)m, v, 1, 0, u, 1);
  double sq = 0;
  for (size_t j = 0; j < m; j++) sq += (wt[j] - u[j]) * (wt[j] - u[j]);
  out->loss = p->sigma2 + sq;
  out->loss_estimate = NAN;
  out->loss_se = NAN;
  if (s) {
    /* Residual y_s − v·φ_s = z_s·(w̃ − Ũᵀv) + ε_s. */
    for (size_t j = 0; j < m; j++) wt[j] -= u[j];
    cls__rf_fill(p->seed, RF_STREAM_ZTEST, s, m, 1, NULL, zs, NULL);
    cls__rf_fill(p->seed, RF_STREAM_EPSTEST, s, 1, sqrt(p->sigma2), NULL, ys, NULL);
    cblas_dgemv(CblasRowMajor, CblasNoTrans, (int)s, (int)m, 1, zs, (int)m, wt, 1, 1, ys, 1);
    double s1 = 0, s2 = 0;
    for (size_t i = 0; i < s; i++) {
      double e = ys[i] * ys[i];
      s1 += e;
      s2 += e * e;
    }
    double mean = s1 / (double)s, var = (s2 / (double)s - mean * mean) * (double)s / (double)(s - 1);
    out->loss_estimate = mean;
    out->loss_se = sqrt((var > 0 ? var : 0) / (double)s);
  }
  out->kernel_form = kernel;
  out->loss_rounding = 0;
  out->flops = 0;
  cls_spd_report zero = {0};
  out->solve = zero;
done:
  free(lam), free(ut), free(wt), free(z), free(y), free(phi), free(gram), free(sol), free(v), free(zs), free(ys);
  return st;
}
