/*
 * src/ops/sample.c — one token per row of logits (kernel in cl/sample.cl;
 * the draw is defined in clscale/ops_sample.h).
 *
 * Errors, all checked before anything is enqueued: NULL operands or
 * parameters, rows or vocab of 0 or vocab beyond 2^24, parameters out of
 * range (cls_sample_params_check), operands their buffers cannot hold,
 * tokens overlapping logits or scratch.
 */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>

#include "clscale/ops.h"
#include "device/layer.h"
#include "launch_internal.h"

void cls_sample_params_default(cls_sample_params *p) {
  p->temperature = 1.0f;
  p->top_k = 0;
  p->top_p = 1.0f;
  p->greedy = 0;
  p->seed = 1;
}

cls_status cls_sample_params_check(const cls_sample_params *p, char *err, size_t n) {
  if (!p) return CLS_ERR_NULL_ARGUMENT;
  if (p->greedy != 0 && p->greedy != 1) {
    snprintf(err, n, "`greedy` is %d; use 0 or 1", p->greedy);
    return CLS_ERR_INVALID_VALUE;
  }
  if (p->greedy) return CLS_OK;
  if (!(p->temperature > 0) || !isfinite(p->temperature)) {
    snprintf(err, n,
             "`temperature` %g: use a positive, finite temperature (for the most likely token, use greedy "
             "decoding or top-k 1)",
             (double)p->temperature);
    return CLS_ERR_INVALID_VALUE;
  }
  if (!(p->top_p > 0 && p->top_p <= 1)) {
    snprintf(err, n, "`top_p` %g: use a number in (0, 1] (1 keeps every token)", (double)p->top_p);
    return CLS_ERR_INVALID_VALUE;
  }
  return CLS_OK;
}

size_t cls_sample_scratch(size_t rows, size_t vocab) {
  return rows * vocab;
}

static int overlap(cls_ref a, size_t na, cls_ref b, size_t nb) {
  return a.buf && a.buf == b.buf && a.offset < b.offset + nb && b.offset < a.offset + na;
}

cls_status cls_sample(cls_context *ctx, size_t rows, size_t vocab, cls_ref logits, const cls_sample_params *p,
                      uint64_t first_row, uint32_t position, cls_ref scratch, cls_ref tokens) {
  static const char fn[] = "cls_sample";
  CLS_CHECK_CTX(ctx);
  if (!p) return cls__fail(ctx, CLS_ERR_NULL_ARGUMENT, "%s: params is NULL", fn);
  if (!rows || !vocab || vocab > ((size_t)1 << 24))
    return cls__fail(ctx, CLS_ERR_INVALID_SIZE, "%s: rows %zu, vocab %zu: need rows >= 1 and 1 <= vocab <= 2^24",
                     fn, rows, vocab);
  if ((double)rows * (double)vocab > 2147483647.0)
    return cls__fail(ctx, CLS_ERR_INVALID_SIZE, "%s: rows x vocab = %zu x %zu is beyond 2^31-1 floats", fn, rows,
                     vocab);
  char err[256];
  cls_status st = cls_sample_params_check(p, err, sizeof err);
  if (st != CLS_OK) return cls__fail(ctx, st, "%s: %s", fn, err);
  const size_t n = rows * vocab;
  if ((st = cls__check_ref(ctx, fn, "logits", logits, n)) != CLS_OK ||
      (st = cls__check_ref(ctx, fn, "scratch", scratch, n)) != CLS_OK ||
      (st = cls__check_ref(ctx, fn, "tokens", tokens, rows)) != CLS_OK)
    return st;
  if (logits.offset > UINT32_MAX - n || scratch.offset > UINT32_MAX - n || tokens.offset > UINT32_MAX - rows)
    return cls__fail(ctx, CLS_ERR_INVALID_SIZE, "%s: an operand ends beyond float 2^32 of its buffer", fn);
  if (overlap(tokens, rows, logits, n) || overlap(tokens, rows, scratch, n) || overlap(scratch, n, logits, n))
    return cls__fail(ctx, CLS_ERR_INVALID_VALUE, "%s: tokens, logits and scratch must not overlap", fn);

  /* 1/temperature in double, kept finite for the tiniest temperatures (a
   * weight is then 0 or 1: the argmax and its ties). */
  double inv = p->greedy ? 1.0 : 1.0 / (double)p->temperature;
  if (inv > FLT_MAX) inv = FLT_MAX;
  const size_t top_k = p->top_k < vocab ? p->top_k : 0;
  cl_kernel k;
  if ((st = cls__kernel(ctx, "sample", "sample_rows", &k)) != CLS_OK) return st;
  cl_uint a = 0;
  if ((st = cls__arg_mem(ctx, k, a++, logits.buf)) || (st = cls__arg_uint(ctx, k, a++, logits.offset)) ||
      (st = cls__arg_uint(ctx, k, a++, rows)) || (st = cls__arg_uint(ctx, k, a++, vocab)) ||
      (st = cls__arg_float(ctx, k, a++, (float)inv)) || (st = cls__arg_uint(ctx, k, a++, top_k)) ||
      (st = cls__arg_float(ctx, k, a++, p->top_p)) || (st = cls__arg_int(ctx, k, a++, p->greedy)) ||
      (st = cls__arg_uint(ctx, k, a++, (uint32_t)p->seed)) ||
      (st = cls__arg_uint(ctx, k, a++, (uint32_t)(p->seed >> 32))) ||
      (st = cls__arg_uint(ctx, k, a++, (uint32_t)first_row)) ||
      (st = cls__arg_uint(ctx, k, a++, (uint32_t)(first_row >> 32))) ||
      (st = cls__arg_uint(ctx, k, a++, position)) || (st = cls__arg_mem(ctx, k, a++, scratch.buf)) ||
      (st = cls__arg_uint(ctx, k, a++, scratch.offset)) || (st = cls__arg_mem(ctx, k, a++, tokens.buf)) ||
      (st = cls__arg_uint(ctx, k, a++, tokens.offset)))
    return st;
  /* A pass over the row per step; each truncation adds 32 passes. */
  const double passes = p->greedy ? 1 : 4 + (top_k ? 34 : 0) + (p->top_p < 1 ? 35 : 0);
  return cls__launch_map(ctx, "sample", k, rows, passes * (double)n, passes * (double)n * sizeof(float));
}
