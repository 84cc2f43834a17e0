/*
 * src/ops/train_ref.h — double-precision CPU references of the training ops
 * of include/clscale/ops_train.h (GELU, residual add, bias, embedding,
 * losses, reductions, AdamW), with the same definitions. The tests compare
 * the kernels with them; a host-side forward pass of a model can use them
 * as they are.
 *
 * No argument checks: the caller passes valid pointers and sizes >= 1.
 * Outputs may equal inputs where ops_train.h allows it. Token ids are
 * doubles holding integers; an invalid id behaves as on the device (NaN
 * results forward, skipped backward).
 *
 * The second half declares the argument checks the training ops share
 * (defined in elementwise.c), so that every op words its errors alike.
 */
#ifndef CLSCALE_OPS_TRAIN_REF_H
#define CLSCALE_OPS_TRAIN_REF_H

#include <stddef.h>

#include "clscale/ops.h"
#include "device/layer.h"

/* ------------------------------------------------------------ references */

/* GPT-2's tanh-approximated GELU and its derivative at one point. */
double cls__ref_gelu(double x);
double cls__ref_gelu_grad(double x);
void cls__ref_gelu_forward(size_t n, const double *x, double *y);
void cls__ref_gelu_backward(size_t n, const double *x, const double *dy, double *dx);

/* y = alpha a + beta b. */
void cls__ref_add_scaled(size_t n, double alpha, const double *a, double beta, const double *b, double *y);

/* y[r, :] += bias; dbias = (accumulate ? dbias : 0) + sum over rows of dy. */
void cls__ref_bias_add(size_t rows, size_t cols, const double *bias, double *y);
void cls__ref_bias_backward(size_t rows, size_t cols, const double *dy, double *dbias, int accumulate);

/* 1 when t is an integer id in [0, vocab). */
int cls__ref_token_valid(double t, size_t vocab);

/* out[b*T + t, :] = wte[tok, :] + wpe[t, :] (wpe may be NULL). */
void cls__ref_embedding_forward(size_t batch, size_t T, size_t vocab, size_t dim, const double *tokens,
                                const double *wte, const double *wpe, double *out);
/* dwte, dwpe (may be NULL) from dout; accumulate adds to them. */
void cls__ref_embedding_backward(size_t batch, size_t T, size_t vocab, size_t dim, const double *tokens,
                                 const double *dout, double *dwte, double *dwpe, int accumulate);

/* losses[r] (may be NULL) and dlogits (may be NULL, may equal logits); a
 * target -1 is ignored (loss 0, gradient row 0). */
void cls__ref_cross_entropy(size_t rows, size_t vocab, const double *logits, const double *targets, double *losses,
                            double *dlogits, double grad_scale);

/* err (may be NULL) = (p - t)^2, dpred (may be NULL) = 2 (p - t) grad_scale. */
void cls__ref_mse(size_t n, const double *pred, const double *target, double *err, double *dpred,
                  double grad_scale);

/* Sum (kind 0) or sum of squares (kind 1) of n values, accumulated in long
 * double pairwise order. */
double cls__ref_reduce(int kind, size_t n, const double *x);

/* One AdamW step as in ops_train.h; grad_sumsq is the global sum of squares
 * (ignored unless hp->max_norm > 0). */
void cls__ref_adamw_step(size_t n, const cls_adamw_params *hp, double *param, const double *grad, double *m,
                         double *v, double grad_sumsq);

#include "ops/train_check.h"

#endif
