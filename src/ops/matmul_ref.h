/*
 * src/ops/matmul_ref.h — a double-precision CPU reference of cls_matmul,
 * for tests and for host-side forward passes that need exact results.
 */
#ifndef CLSCALE_OPS_MATMUL_REF_H
#define CLSCALE_OPS_MATMUL_REF_H

#include <stddef.h>

#include "clscale/ops.h"

/* c = alpha*op(a)*op(b) + beta*c on host arrays, with the same shapes,
 * leading dimensions and batch strides as cls_matmul_batched (pointers
 * already at the operands' offsets). Sums in double; beta == 0 never reads
 * c. */
void cls_ref_matmul(cls_trans ta, cls_trans tb, size_t m, size_t n, size_t k, double alpha, const float *a,
                    size_t lda, size_t stride_a, const float *b, size_t ldb, size_t stride_b, double beta,
                    double *c, size_t ldc, size_t stride_c, size_t batch);

#endif
