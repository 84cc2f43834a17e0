/*
 * src/nn/rf.h — linear random-feature ridge regression, the solvable scaling
 * model of src/fit/theory_rf.h (its header comment holds the model and its
 * conventions, followed exactly here), simulated on the OpenCL device: one
 * draw of the teacher, the features and the training set, the readout
 * solved exactly, and its exact population test loss. docs/theory.md ("On
 * the device") explains the method.
 *
 * Draws (core/rng.h, Philox, key = seed; every value a pure function of
 * (seed, stream, i, j), so a problem with more features, samples or latent
 * dimensions extends the smaller one's draws instead of replacing them):
 *   stream 1: U[i][j] = N(i, j) / sqrt(M)         i < N features, j < M
 *   stream 2: w[j]    = N(j, 0)                   j < M
 *   stream 3: z_t[j]  = N(t, j), x_t = Λ^½ z_t     t < T training samples
 *   stream 4: ε_t     = sqrt(sigma2) N(t, 0)
 *   stream 5, 6: the same as 3, 4 for the S fresh test samples.
 * N(i, j) is cls_rng_normal of draw (i, j) of the stream.
 *
 * Nothing here prints or exits; every failure returns a status with a
 * message in err naming the field to change.
 */
#ifndef CLSCALE_NN_RF_H
#define CLSCALE_NN_RF_H

#include <stddef.h>
#include <stdint.h>

#include "clscale/ops.h"

typedef struct cls_rf_problem {
  size_t m;            /* latent dimension M >= 1 */
  double alpha;        /* spectrum exponent: lambda_i ∝ i^-(1+alpha), finite, > 0 */
  size_t n;            /* random features N >= 1 */
  size_t t;            /* training samples T >= 1 */
  double gamma;        /* ridge (the penalty is gamma·(N/M)·|v|²), finite, >= 0 */
  double sigma2;       /* label-noise variance, finite, >= 0 */
  uint64_t seed;       /* the Philox key of every draw */
  size_t test_samples; /* S fresh samples for the Monte Carlo estimate: 0 (none) or >= 2 */
} cls_rf_problem;

/* M = 256, alpha = 1, N = 64, T = 128, gamma = 1e-2, sigma2 = 0, seed 1,
 * S = 0. */
void cls_rf_problem_init(cls_rf_problem *p);

/* CLS_OK, or CLS_ERR_INVALID_VALUE / CLS_ERR_INVALID_SIZE naming the first
 * bad field in backquotes. Sizes beyond what 32-bit indexing of one operand
 * allows (2^31 - 1 floats) are CLS_ERR_INVALID_SIZE. */
cls_status cls_rf_problem_check(const cls_rf_problem *p, char *err, size_t err_len);

/* 1 when the solve takes the kernel form (T x T Gram, T < N), 0 for the
 * primal form (N x N Gram, T >= N): whichever matrix is smaller. */
int cls_rf_kernel_form(const cls_rf_problem *p);

/* The device memory cls_rf_solve allocates, in bytes (buffers and the
 * solve's workspace); 0 when the count overflows. */
uint64_t cls_rf_device_bytes(const cls_rf_problem *p);

typedef struct cls_rf_result {
  double loss;          /* exact population loss sigma2 + (w − Uᵀv)ᵀ Λ (w − Uᵀv) */
  double loss_estimate; /* mean of (y − v·φ)² over the S fresh samples (NAN when S = 0) */
  double loss_se;       /* its standard error, sample sd / sqrt(S) (NAN when S = 0) */
  double loss_rounding; /* estimated error of loss from float32 rounding of the Gram matrix: the
                           first-order change of the loss under a random symmetric perturbation of
                           8·2^-24 of its largest element (rf.c); a loss whose estimate exceeds
                           1e-3 of it is refused (0 in the host reference) */
  int kernel_form;      /* as cls_rf_kernel_form */
  double flops;         /* floating-point operations counted by the ops (0 in the host reference) */
  cls_spd_report solve; /* the device solve's report (zeros in the host reference) */
} cls_rf_result;

/* Draws the problem on the host, uploads it once and solves it on ctx's
 * device: features, Gram matrix, ridge, cls_spd_solve, the exact loss and
 * (S > 0) the fresh-sample estimate. Errors: those of cls_rf_problem_check;
 * CLS_ERR_OUT_OF_MEMORY when cls_rf_device_bytes exceeds the device's
 * memory or one buffer its largest allocation (checked before allocating);
 * CLS_ERR_NUMERIC when float32 cannot solve the system accurately, or
 * when loss_rounding exceeds 1e-3 of the loss (raise `gamma`) — then
 * out->loss is NAN, never a wrong value; the ops' errors. */
cls_status cls_rf_solve(cls_context *ctx, const cls_rf_problem *p, cls_rf_result *out, char *err, size_t err_len);

/* A sweep over the feature count on one draw: out[k] is the result for the
 * first ns[k] features (1 <= ns[k] <= p->n; the rest of p as it is), the
 * problem cls_rf_solve solves with n = ns[k] — the draws of a smaller N are
 * a prefix of the larger's (see the top), so the host draws and uploads
 * once and the device computes the labels and all N features once; each
 * count then only builds and solves its own Gram system (the primal or the
 * kernel form by its own N against T). The shared FLOPs are counted in
 * out[0]. Results agree with separate cls_rf_solve calls to float rounding
 * (a product over fewer columns may round differently), not bit for bit.
 * On an error, out[k] for the counts not reached hold NAN losses. */
cls_status cls_rf_solve_sweep(cls_context *ctx, const cls_rf_problem *p, const size_t *ns, size_t count,
                              cls_rf_result *out, char *err, size_t err_len);

/* The same problem (the same draws) in double precision on the host, with
 * BLAS and LAPACK's Cholesky (dpotrf/dpotrs): the reference the device is
 * tested against. */
cls_status cls_rf_reference(const cls_rf_problem *p, cls_rf_result *out, char *err, size_t err_len);

#endif
