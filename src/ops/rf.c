/*
 * src/ops/rf.c — cls_add_diagonal (kernel in cl/rf.cl): the ridge term of a
 * Gram matrix, for the random-feature ridge regression of src/nn/rf.c.
 */
#include <math.h>

#include "launch_internal.h"
#include "clscale/ops.h"
#include "device/layer.h"

cls_status cls_add_diagonal(cls_context *ctx, size_t n, float value, cls_ref a, size_t lda) {
  static const char fn[] = "cls_add_diagonal";
  CLS_CHECK_CTX(ctx);
  if (n == 0) return cls__fail(ctx, CLS_ERR_INVALID_SIZE, "%s: `n` is 0; the matrix needs at least one row", fn);
  if (!isfinite(value))
    return cls__fail(ctx, CLS_ERR_INVALID_VALUE, "%s: `value` is %g; pass a finite number", fn, (double)value);
  cls_status s = cls__check_matrix(ctx, fn, "a", a, n, n, lda, 0, 1);
  if (s != CLS_OK) return s;
  /* The last element touched sits at a.offset + (n-1)*(lda+1); the kernel
   * indexes with 32 bits. */
  if ((double)a.offset + (double)(n - 1) * (double)(lda + 1) > 4294967295.0)
    return cls__fail(ctx, CLS_ERR_INVALID_SIZE, "%s: `a` ends beyond float 2^32 of its buffer (32-bit indexing)",
                     fn);
  cl_kernel k;
  if ((s = cls__kernel(ctx, "rf", "add_diagonal", &k)) != CLS_OK) return s;
  if ((s = cls__arg_mem(ctx, k, 0, a.buf)) || (s = cls__arg_uint(ctx, k, 1, a.offset)) ||
      (s = cls__arg_uint(ctx, k, 2, lda)) || (s = cls__arg_float(ctx, k, 3, value)) ||
      (s = cls__arg_uint(ctx, k, 4, n)))
    return s;
  return cls__launch_map(ctx, "add_diagonal", k, n, (double)n, 2.0 * (double)n * sizeof(float));
}
