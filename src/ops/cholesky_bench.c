/* src/ops/cholesky_bench.c — timing the SPD solve against host LAPACK; see
 * linalg_bench.h. The host solve calls OpenBLAS's LAPACK through its
 * Fortran symbols (spotrf_, spotrs_): the ops layer already links OpenBLAS,
 * so the bench needs no LAPACKE (which only the tests' double reference
 * uses). A symmetric matrix is its own transpose, so the row-major data is
 * a valid column-major argument. */
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/rng.h"
#include "device/layer.h"
#include "ops/linalg_bench.h"

/* The trailing size_t is gfortran's hidden length of the uplo string. */
extern void spotrf_(const char *uplo, const int *n, float *a, const int *lda, int *info, size_t uplo_len);
extern void spotrs_(const char *uplo, const int *n, const int *nrhs, const float *a, const int *lda, float *b,
                    const int *ldb, int *info, size_t uplo_len);

static cls_status host_time(cls_context *ctx, size_t n, size_t nrhs, const float *a, const float *b, int reps,
                            double *median) {
  float *f = malloc(n * n * sizeof *f), *xt = malloc(n * nrhs * sizeof *xt);
  double *t = malloc((size_t)reps * sizeof *t);
  cls_status s = CLS_OK;
  if (!f || !xt || !t) s = cls__fail(ctx, CLS_ERR_OUT_OF_MEMORY, "cls_spd_time: out of host memory");
  int ni = (int)n, ri = (int)nrhs, info = 0;
  for (int r = 0; r < reps && s == CLS_OK; r++) {
    memcpy(f, a, n * n * sizeof *f);
    /* LAPACK's B is column-major: column c is right-hand side c. */
    for (size_t i = 0; i < n; i++)
      for (size_t c = 0; c < nrhs; c++) xt[c * n + i] = b[i * nrhs + c];
    double t0 = cls_now();
    spotrf_("L", &ni, f, &ni, &info, 1);
    if (info == 0) spotrs_("L", &ni, &ri, f, &ni, xt, &ni, &info, 1);
    t[r] = cls_now() - t0;
    if (info != 0)
      s = cls__fail(ctx, CLS_ERR_NUMERIC, "cls_spd_time: host LAPACK spotrf/spotrs failed with info %d", info);
  }
  if (s == CLS_OK) *median = cls_median(t, (size_t)reps);
  free(f), free(xt), free(t);
  return s;
}

cls_status cls_spd_time(cls_context *ctx, size_t n, size_t nrhs, int reps, cls_spd_timing *out) {
  CLS_CHECK_CTX(ctx);
  if (!out) return cls__fail(ctx, CLS_ERR_NULL_ARGUMENT, "cls_spd_time: out is NULL");
  if (n == 0 || nrhs == 0 || reps < 1)
    return cls__fail(ctx, CLS_ERR_INVALID_SIZE, "cls_spd_time: n=%zu nrhs=%zu reps=%d must be positive", n, nrhs,
                     reps);
  memset(out, 0, sizeof *out);
  size_t k = 2 * n;
  cls_buffer *g = NULL, *a = NULL, *b = NULL, *x = NULL;
  float *hg = malloc(n * k * sizeof *hg), *ha = malloc(n * n * sizeof *ha), *hb = malloc(n * nrhs * sizeof *hb);
  double *t = malloc((size_t)reps * sizeof *t);
  cls_status s =
      hg && ha && hb && t ? CLS_OK : cls__fail(ctx, CLS_ERR_OUT_OF_MEMORY, "cls_spd_time: out of host memory");
  cls_rng rng = cls_rng_make(2024, 10);
  for (size_t i = 0; s == CLS_OK && i < n * k; i++) hg[i] = (float)cls_rng_range(rng, i, 0, -1.0, 1.0);
  for (size_t i = 0; s == CLS_OK && i < n * nrhs; i++) hb[i] = (float)cls_rng_range(rng, i, 1, -1.0, 1.0);
  if (s == CLS_OK) s = cls_buffer_alloc(ctx, n * k, &g);
  if (s == CLS_OK) s = cls_buffer_alloc(ctx, n * n, &a);
  if (s == CLS_OK) s = cls_buffer_alloc(ctx, n * nrhs, &b);
  if (s == CLS_OK) s = cls_buffer_alloc(ctx, n * nrhs, &x);
  if (s == CLS_OK) s = cls_buffer_write(ctx, g, 0, n * k, hg);
  if (s == CLS_OK) s = cls_buffer_write(ctx, b, 0, n * nrhs, hb);
  if (s == CLS_OK)
    s = cls_matmul_batched_on(ctx, CLS_BACKEND_OWN, CLS_NO_TRANS, CLS_TRANS, n, n, k, 1.0f / (float)k,
                              cls_ref_at(g, 0), k, 0, cls_ref_at(g, 0), k, 0, 0.0f, cls_ref_at(a, 0), n, 0, 1);
  if (s == CLS_OK) s = cls_buffer_read(ctx, a, 0, n * n, ha);
  cls_spd_report rep;
  for (int r = -1; r < reps && s == CLS_OK; r++) {
    double t0 = cls_now();
    s = cls_spd_solve(ctx, n, nrhs, cls_ref_at(a, 0), n, cls_ref_at(b, 0), nrhs, cls_ref_at(x, 0), nrhs, NULL,
                      &rep);
    if (r >= 0) t[r] = cls_now() - t0; /* r = -1 is the warm-up */
  }
  if (s == CLS_OK) {
    out->device_seconds = cls_median(t, (size_t)reps);
    out->refinements = rep.refinements;
    out->error = rep.error;
    s = host_time(ctx, n, nrhs, ha, hb, reps, &out->host_seconds);
  }
  free(hg), free(ha), free(hb), free(t);
  cls_buffer_free(g), cls_buffer_free(a), cls_buffer_free(b), cls_buffer_free(x);
  return s;
}
