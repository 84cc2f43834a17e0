/*
 * src/ops/attention_internal.h — what the attention of training
 * (attention.c) and of generation (decode.c) share.
 */
#ifndef CLSCALE_OPS_ATTENTION_INTERNAL_H
#define CLSCALE_OPS_ATTENTION_INTERNAL_H

#include "clscale/ops.h"
#include "device/layer.h"

/* Checks one sequence operand: t rows of c floats, batch elements apart by
 * op.stride; an output (is_output) may not overlap itself across the
 * batch; its buffer must hold it. */
cls_status cls__attn_check_operand(cls_context *ctx, const char *fn, const char *name, cls_attn_operand op,
                                   size_t t, size_t c, size_t batch, int is_output);

#endif
