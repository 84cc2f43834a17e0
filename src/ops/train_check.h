/*
 * src/ops/train_check.h — argument checks shared by the training ops
 * (elementwise, losses, embedding, reductions, AdamW); defined in
 * elementwise.c. Each returns CLS_OK or fails on ctx with a message that
 * names the function and the argument.
 */
#ifndef CLSCALE_OPS_TRAIN_CHECK_H
#define CLSCALE_OPS_TRAIN_CHECK_H

#include "clscale/ops.h"
#include "device/layer.h"

/* An operand of n contiguous floats: present (else CLS_ERR_NULL_ARGUMENT),
 * of this context, fitting its buffer, n <= 2^31-1 and ending below float
 * 2^32 (CLS_ERR_INVALID_SIZE). n = 0 is CLS_ERR_INVALID_SIZE. */
cls_status cls__train_check(cls_context *ctx, const char *fn, const char *arg, cls_ref r, size_t n);

/* A size argument: >= 1 and <= 2^31-1, else CLS_ERR_INVALID_SIZE. */
cls_status cls__train_check_size(cls_context *ctx, const char *fn, const char *arg, size_t n);

/* A finite float scalar (CLS_ERR_INVALID_VALUE otherwise). */
cls_status cls__train_check_finite(cls_context *ctx, const char *fn, const char *arg, float v);

/* An accumulate flag: 0 or 1. */
cls_status cls__train_check_flag(cls_context *ctx, const char *fn, const char *arg, int v);

static inline int cls__train_present(cls_ref r) {
  return r.buf != NULL;
}

#endif
