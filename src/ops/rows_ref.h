/*
 * src/ops/rows_ref.h — double-precision CPU references of the row-wise ops
 * (softmax, LayerNorm, RMSNorm; forward and backward), with the same
 * definitions as include/clscale/ops.h. The tests compare the kernels with
 * them; a host-side forward pass can use them as they are.
 *
 * Matrices are row-major rows x cols, contiguous. No argument checks: the
 * caller passes valid pointers and sizes >= 1. Outputs may equal inputs of
 * the same shape (in place) where ops.h allows it.
 */
#ifndef CLSCALE_OPS_ROWS_REF_H
#define CLSCALE_OPS_ROWS_REF_H

#include <stddef.h>

/* y = softmax(scale * x) per row; causal: row r keeps columns j <= r % cols,
 * the others get exactly 0 (rows a multiple of cols). */
void cls__ref_softmax_forward(size_t rows, size_t cols, double scale, int causal, const double *x, double *y);

/* dx = scale * y * (dy - sum(y * dy)) per row. */
void cls__ref_softmax_backward(size_t rows, size_t cols, double scale, const double *y, const double *dy,
                               double *dx);

/* y = (x - mean) * rstd * gamma + beta; beta, mean, rstd may be NULL. */
void cls__ref_layernorm_forward(size_t rows, size_t cols, double eps, const double *x, const double *gamma,
                                const double *beta, double *y, double *mean, double *rstd);

/* From the saved mean and rstd: dx, and dgamma/dbeta summed over rows
 * (added to what they hold when accumulate, else overwritten). dbeta may
 * be NULL. */
void cls__ref_layernorm_backward(size_t rows, size_t cols, const double *x, const double *gamma,
                                 const double *mean, const double *rstd, const double *dy, double *dx,
                                 double *dgamma, double *dbeta, int accumulate);

/* y = x * rstd * gamma, rstd = 1/sqrt(mean(x^2) + eps); rstd may be NULL. */
void cls__ref_rmsnorm_forward(size_t rows, size_t cols, double eps, const double *x, const double *gamma,
                              double *y, double *rstd);
void cls__ref_rmsnorm_backward(size_t rows, size_t cols, const double *x, const double *gamma, const double *rstd,
                               const double *dy, double *dx, double *dgamma, int accumulate);

#endif
