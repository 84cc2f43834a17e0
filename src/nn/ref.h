/*
 * src/nn/ref.h — the layers of the models' double-precision host reference
 * passes (gpt_ref.c, emulator_ref.c), over weights in a float parameter
 * slab. The norms and GELU are the ops layer's own references
 * (ops/rows_ref.h, ops/train_ref.h); these only adapt float weights.
 */
#ifndef CLSCALE_NN_REF_H
#define CLSCALE_NN_REF_H

#include <stddef.h>

/* y = x W + b for x (rows x in) and W (in x out); with residual, y += it. */
void cls_nn_ref_linear(const double *x, size_t rows, size_t in, size_t out, const float *W, const float *b,
                       double *y, int residual);

/* LayerNorm (b may be NULL) and RMSNorm over rows of C; -1 when out of host
 * memory, else 0. */
int cls_nn_ref_layernorm(const double *x, size_t rows, size_t C, double eps, const float *g, const float *b,
                         double *y);
int cls_nn_ref_rmsnorm(const double *x, size_t rows, size_t C, double eps, const float *g, double *y);

#endif
