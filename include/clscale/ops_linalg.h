/*
 * clscale/ops_linalg.h — dense linear algebra on the device: the solve of a
 * symmetric positive-definite system by blocked Cholesky factorisation with
 * iterative refinement. Included by clscale/ops.h; its conventions apply
 * (row-major fp32, cls_ref operands with leading dimensions, counters).
 *
 * Float32 with a small ridge is ill-conditioned: a plain float32 Cholesky
 * solve of a system with condition number k has a relative error of about
 * k * 6e-8, silently. cls_spd_solve therefore refines the solution with
 * residuals computed in (emulated) double precision and refuses, with
 * CLS_ERR_NUMERIC, any result whose estimated error stays above a tolerance.
 */
#ifndef CLSCALE_OPS_LINALG_H
#define CLSCALE_OPS_LINALG_H

#include <stddef.h>

#include "clscale/device.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cls_spd_options {
  /* Corrections applied at most (0..100; default 10). Refinement stops
   * earlier when a correction is below float precision or no longer at
   * most half the previous one, or when the backward error after a
   * correction is at float precision (2^-24) and that correction was
   * within the tolerance. With 0 the error is still estimated (one
   * residual and one correction solve, not applied). */
  int max_refine;
  /* The largest accepted estimated relative error of the solution,
   * max over columns of ||x - x_exact||_inf / ||x||_inf (default 1e-4; in
   * (0, 1]). */
  double tolerance;
} cls_spd_options;

/* Fills o with the defaults above. */
void cls_spd_options_init(cls_spd_options *o);

typedef struct cls_spd_report {
  int refinements;             /* corrections applied */
  double error_first;          /* estimated relative error of the unrefined solution (the first correction) */
  double error;                /* estimated relative error of the returned solution: the last correction
                                  computed (when refinement stopped on the backward error, the last one
                                  applied, which overestimates it) */
  double backward_first;       /* componentwise backward error max_i |b - A x|_i / (|A||x| + |b|)_i, unrefined */
  double backward;             /* the same for the returned solution; when the last correction was
                                  below float32's resolution (at most 2^-24 of max|x|), for the
                                  solution before it, which it does not measurably change */
  double condition;            /* a rough lower estimate of the 2-norm condition number of A:
                                  max((max pivot / min pivot)^2, error_first / backward_first) */
  double min_pivot, max_pivot; /* the diagonal of the Cholesky factor L */
  double seconds;              /* host wall-clock time of the whole call, synchronised */
} cls_spd_report;

/* Solves A X = B for X, A symmetric positive definite:
 *   A: n x n, lda >= n, both triangles held (the factorisation reads the
 *      lower one, the residual every element: a non-symmetric A is the
 *      system the refinement converges to, or fails on);
 *   B: n x nrhs, ldb >= nrhs;  X: n x nrhs, ldx >= nrhs.
 * A and B are not modified (they may overlap each other); X must not
 * overlap either. opts may be NULL (defaults); report may be NULL.
 *
 * Method: A = L L^T by right-looking blocked Cholesky in float32 (a
 * diagonal block of CHOL_NB rows, a device parameter, factored and inverted
 * in one work-group; the panel L21 = A21 L11^-T and the trailing update
 * A22 -= L21 L21^T as products on the own matmul backend; B^T rides along
 * as nrhs border rows, which become (L^-1 B)^T), the backward triangular
 * solve (and both of each correction) with the inverted diagonal blocks,
 * then
 * iterative refinement: r = B - A X with compensated (double-float)
 * products and sums, a correction solved with the same factor, X += d.
 * The own backend is used whatever the context's backend, so the result
 * does not depend on which backend auto timed fastest: the same inputs
 * give bitwise the same X.
 *
 * The call waits for the device: the host reads the factor's status once
 * and two n x nrhs blocks per refinement step to decide whether to go on
 * (a stopping decision a kernel cannot hand back to the host otherwise).
 * Workspace: (n + nrhs)(n + CHOL_NB) + 2 n CHOL_NB + 2 n nrhs + n + 1 floats
 * (rounded up to whole blocks), kept by the context
 * after the call (replaced when a later call needs more; freed with it).
 *
 * Errors (all argument errors before anything is enqueued; X untouched):
 *   CLS_ERR_NULL_ARGUMENT, CLS_ERR_INVALID_SIZE (n or nrhs 0, n^2 beyond
 *   32-bit indexing), CLS_ERR_LEADING_DIM, CLS_ERR_BUFFER_TOO_SMALL,
 *   CLS_ERR_WRONG_CONTEXT, CLS_ERR_INVALID_VALUE (X overlaps A or B, an
 *   option out of range), CLS_ERR_OUT_OF_MEMORY (the workspace);
 *   CLS_ERR_NUMERIC when A is not positive definite in float32 (a pivot
 *   <= 0, or NaN/Inf in A), when B holds NaN/Inf, or when the estimated
 *   error stays above the tolerance — X then holds the best solution found
 *   and the report says how far off it is. */
cls_status cls_spd_solve(cls_context *ctx, size_t n, size_t nrhs, cls_ref a, size_t lda, cls_ref b, size_t ldb,
                         cls_ref x, size_t ldx, const cls_spd_options *opts, cls_spd_report *report);

/* A[i][i] += value for i < n: the ridge of a Gram matrix (n x n, lda >= n),
 * in place, touching nothing off the diagonal. value finite. Errors:
 * CLS_ERR_NULL_ARGUMENT, CLS_ERR_INVALID_SIZE (n = 0, or the last diagonal
 * element beyond float 2^32 of the buffer), CLS_ERR_LEADING_DIM,
 * CLS_ERR_BUFFER_TOO_SMALL, CLS_ERR_WRONG_CONTEXT, CLS_ERR_INVALID_VALUE.
 * Counter: add_diagonal. */
cls_status cls_add_diagonal(cls_context *ctx, size_t n, float value, cls_ref a, size_t lda);

#ifdef __cplusplus
}
#endif
#endif
