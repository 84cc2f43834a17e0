/*
 * src/ops/decode.c — the key/value cache of generation: storing new keys
 * and values, and the attention of new queries against the cache (kernels
 * in cl/decode.cl; see clscale/ops_attention.h).
 *
 * Errors, all checked before anything is enqueued: NULL operands,
 * dimensions of 0, pos0 + tq beyond cap, a scale that is not finite and
 * nonzero, operands their buffers cannot hold, k and v with different
 * layouts, an output overlapping an input, and sizes beyond the kernels'
 * 32-bit indexing.
 */
#include <math.h>
#include <stdint.h>

#include "clscale/ops.h"
#include "device/layer.h"
#include "attention_internal.h"

#define MAX_INDEX 2147483647.0 /* the kernels' uint arithmetic, with room for offsets */

size_t cls_kv_cache_count(const cls_kv_shape *s) {
  return s ? s->batch * s->heads * s->cap * s->head_dim : 0;
}

size_t cls_attention_decode_scratch(const cls_kv_shape *s) {
  return s ? s->batch * s->heads * s->tq * s->cap : 0;
}

static cls_status check_shape(cls_context *ctx, const char *fn, const cls_kv_shape *s) {
  if (!s) return cls__fail(ctx, CLS_ERR_NULL_ARGUMENT, "%s: shape is NULL", fn);
  if (!s->batch || !s->tq || !s->heads || !s->head_dim || !s->cap)
    return cls__fail(
        ctx, CLS_ERR_INVALID_SIZE,
        "%s: every dimension must be at least 1 (batch %zu, tq %zu, heads %zu, head_dim %zu, cap %zu)", fn,
        s->batch, s->tq, s->heads, s->head_dim, s->cap);
  if (s->pos0 > s->cap || s->tq > s->cap - s->pos0)
    return cls__fail(ctx, CLS_ERR_INVALID_SIZE,
                     "%s: positions %zu .. %zu do not fit a cache of %zu positions per sequence", fn, s->pos0,
                     s->pos0 + s->tq - 1, s->cap);
  if (!isfinite(s->scale) || s->scale == 0.0f)
    return cls__fail(ctx, CLS_ERR_INVALID_VALUE,
                     "%s: scale must be finite and nonzero (1/sqrt(head_dim) or 1/head_dim)", fn);
  const double cache = (double)s->batch * s->heads * s->cap * s->head_dim;
  const double scratch = (double)s->batch * s->heads * s->tq * s->cap;
  if (cache > MAX_INDEX || scratch > MAX_INDEX)
    return cls__fail(ctx, CLS_ERR_INVALID_SIZE,
                     "%s: a cache of %.0f floats (or a scratch of %.0f) is beyond the kernels' 2^31-1", fn, cache,
                     scratch);
  return CLS_OK;
}

/* An operand of t rows of c floats, batch elements stride apart. */
static cls_status check_operand(cls_context *ctx, const char *fn, const char *name, cls_attn_operand op, size_t t,
                                size_t c, size_t batch, int is_output) {
  cls_status st = cls__attn_check_operand(ctx, fn, name, op, t, c, batch, is_output);
  if (st != CLS_OK) return st;
  if ((double)op.ref.offset + (double)(batch - 1) * op.stride + (double)(t - 1) * op.ld + c > MAX_INDEX)
    return cls__fail(ctx, CLS_ERR_INVALID_SIZE, "%s: %s reaches beyond float 2^31 of its buffer", fn, name);
  return CLS_OK;
}

static cls_status check_cache(cls_context *ctx, const char *fn, const char *name, cls_ref r, size_t n) {
  cls_status st = cls__check_ref(ctx, fn, name, r, n);
  if (st != CLS_OK) return st;
  if ((double)r.offset + (double)n > MAX_INDEX)
    return cls__fail(ctx, CLS_ERR_INVALID_SIZE, "%s: %s reaches beyond float 2^31 of its buffer", fn, name);
  return CLS_OK;
}

/* Whether [a, a + na) and [b, b + nb) of the same buffer meet. */
static int overlap(cls_ref a, size_t na, cls_ref b, size_t nb) {
  return a.buf && a.buf == b.buf && a.offset < b.offset + nb && b.offset < a.offset + na;
}

/* The floats an operand spans, from its first to its last. */
static size_t span(cls_attn_operand op, size_t t, size_t c, size_t batch) {
  return (batch - 1) * op.stride + (t - 1) * op.ld + c;
}

cls_status cls_kv_store(cls_context *ctx, const cls_kv_shape *s, cls_attn_operand k, cls_attn_operand v,
                        cls_ref k_cache, cls_ref v_cache) {
  static const char fn[] = "cls_kv_store";
  CLS_CHECK_CTX(ctx);
  cls_status st = check_shape(ctx, fn, s);
  if (st != CLS_OK) return st;
  const size_t C = s->heads * s->head_dim, B = s->batch, n = cls_kv_cache_count(s);
  if (k.ld != v.ld || k.stride != v.stride)
    return cls__fail(
        ctx, CLS_ERR_INVALID_VALUE,
        "%s: k and v must share ld and stride (got %zu/%zu and %zu/%zu): pass the parts of one packed "
        "QKV activation",
        fn, k.ld, k.stride, v.ld, v.stride);
  if ((st = check_operand(ctx, fn, "k", k, s->tq, C, B, 0)) != CLS_OK ||
      (st = check_operand(ctx, fn, "v", v, s->tq, C, B, 0)) != CLS_OK ||
      (st = check_cache(ctx, fn, "k_cache", k_cache, n)) != CLS_OK ||
      (st = check_cache(ctx, fn, "v_cache", v_cache, n)) != CLS_OK)
    return st;
  if (overlap(k_cache, n, v_cache, n))
    return cls__fail(ctx, CLS_ERR_INVALID_VALUE, "%s: k_cache and v_cache overlap; give each its own %zu floats",
                     fn, n);
  const size_t in = span(k, s->tq, C, B);
  if (overlap(k_cache, n, k.ref, in) || overlap(k_cache, n, v.ref, in) || overlap(v_cache, n, k.ref, in) ||
      overlap(v_cache, n, v.ref, in))
    return cls__fail(ctx, CLS_ERR_INVALID_VALUE, "%s: a cache overlaps the new keys or values", fn);

  cl_kernel kern;
  if ((st = cls__kernel(ctx, "decode", "kv_store", &kern)) != CLS_OK) return st;
  cl_uint a = 0;
  if ((st = cls__arg_mem(ctx, kern, a++, k.ref.buf)) || (st = cls__arg_uint(ctx, kern, a++, k.ref.offset)) ||
      (st = cls__arg_mem(ctx, kern, a++, v.ref.buf)) || (st = cls__arg_uint(ctx, kern, a++, v.ref.offset)) ||
      (st = cls__arg_uint(ctx, kern, a++, k.ld)) || (st = cls__arg_uint(ctx, kern, a++, k.stride)) ||
      (st = cls__arg_mem(ctx, kern, a++, k_cache.buf)) || (st = cls__arg_uint(ctx, kern, a++, k_cache.offset)) ||
      (st = cls__arg_mem(ctx, kern, a++, v_cache.buf)) || (st = cls__arg_uint(ctx, kern, a++, v_cache.offset)) ||
      (st = cls__arg_uint(ctx, kern, a++, B)) || (st = cls__arg_uint(ctx, kern, a++, s->tq)) ||
      (st = cls__arg_uint(ctx, kern, a++, s->heads)) || (st = cls__arg_uint(ctx, kern, a++, s->head_dim)) ||
      (st = cls__arg_uint(ctx, kern, a++, s->cap)) || (st = cls__arg_uint(ctx, kern, a++, s->pos0)))
    return st;
  size_t kmax;
  if ((st = cls__kernel_max_group(ctx, kern, &kmax)) != CLS_OK) return st;
  size_t l = 64 < kmax ? 64 : kmax;
  if (l > C) l = C;
  const size_t global[2] = {cls__round_up(C, l), B * s->tq}, local[2] = {l, 1};
  const double moved = 2.0 * (double)(B * s->tq * C);
  return cls__launch(ctx, "kv_store", kern, 2, global, local, 0.0, 2.0 * moved * sizeof(float));
}

cls_status cls_attention_decode(cls_context *ctx, const cls_kv_shape *s, cls_attn_operand q, cls_ref k_cache,
                                cls_ref v_cache, cls_ref scratch, cls_attn_operand out) {
  static const char fn[] = "cls_attention_decode";
  CLS_CHECK_CTX(ctx);
  cls_status st = check_shape(ctx, fn, s);
  if (st != CLS_OK) return st;
  const size_t C = s->heads * s->head_dim, B = s->batch, n = cls_kv_cache_count(s);
  const size_t ns = cls_attention_decode_scratch(s);
  if ((st = check_operand(ctx, fn, "q", q, s->tq, C, B, 0)) != CLS_OK ||
      (st = check_operand(ctx, fn, "out", out, s->tq, C, B, 1)) != CLS_OK ||
      (st = check_cache(ctx, fn, "k_cache", k_cache, n)) != CLS_OK ||
      (st = check_cache(ctx, fn, "v_cache", v_cache, n)) != CLS_OK ||
      (st = check_cache(ctx, fn, "scratch", scratch, ns)) != CLS_OK)
    return st;
  const size_t no = span(out, s->tq, C, B);
  if (overlap(out.ref, no, q.ref, span(q, s->tq, C, B)) || overlap(out.ref, no, k_cache, n) ||
      overlap(out.ref, no, v_cache, n) || overlap(out.ref, no, scratch, ns) || overlap(scratch, ns, k_cache, n) ||
      overlap(scratch, ns, v_cache, n) || overlap(scratch, ns, q.ref, span(q, s->tq, C, B)))
    return cls__fail(ctx, CLS_ERR_INVALID_VALUE, "%s: out or scratch overlaps another operand", fn);

  cl_kernel k;
  if ((st = cls__kernel(ctx, "decode", "attn_decode", &k)) != CLS_OK) return st;
  cl_uint a = 0;
  if ((st = cls__arg_mem(ctx, k, a++, q.ref.buf)) || (st = cls__arg_uint(ctx, k, a++, q.ref.offset)) ||
      (st = cls__arg_uint(ctx, k, a++, q.ld)) || (st = cls__arg_uint(ctx, k, a++, q.stride)) ||
      (st = cls__arg_mem(ctx, k, a++, k_cache.buf)) || (st = cls__arg_uint(ctx, k, a++, k_cache.offset)) ||
      (st = cls__arg_mem(ctx, k, a++, v_cache.buf)) || (st = cls__arg_uint(ctx, k, a++, v_cache.offset)) ||
      (st = cls__arg_mem(ctx, k, a++, scratch.buf)) || (st = cls__arg_uint(ctx, k, a++, scratch.offset)) ||
      (st = cls__arg_mem(ctx, k, a++, out.ref.buf)) || (st = cls__arg_uint(ctx, k, a++, out.ref.offset)) ||
      (st = cls__arg_uint(ctx, k, a++, out.ld)) || (st = cls__arg_uint(ctx, k, a++, out.stride)) ||
      (st = cls__arg_uint(ctx, k, a++, B)) || (st = cls__arg_uint(ctx, k, a++, s->heads)) ||
      (st = cls__arg_uint(ctx, k, a++, s->tq)) || (st = cls__arg_uint(ctx, k, a++, s->head_dim)) ||
      (st = cls__arg_uint(ctx, k, a++, s->cap)) || (st = cls__arg_uint(ctx, k, a++, s->pos0)) ||
      (st = cls__arg_float(ctx, k, a++, s->scale)))
    return st;
  /* A group per query and head, of a fixed size per device (every new
   * local size costs PoCL a compile): the largest power of two within
   * ROW_WG (the kernel's local array) and the kernel's limit. */
  size_t kmax;
  if ((st = cls__kernel_max_group(ctx, k, &kmax)) != CLS_OK) return st;
  long want = cls__param(ctx, "ROW_WG", 64);
  size_t cap = want < 1 ? 1 : (size_t)want, wg = 1;
  if (cap > kmax) cap = kmax;
  while (wg * 2 <= cap) wg *= 2;
  const size_t groups = B * s->heads * s->tq, global = groups * wg;
  /* Keys seen: tq pos0 + tq (tq + 1) / 2 per (b, h); each costs a dot
   * product and a weighted add of head_dim (4 head_dim flops) and an
   * exponential. */
  const double keys = (double)B * s->heads * ((double)s->tq * s->pos0 + (double)s->tq * (s->tq + 1) / 2);
  const double flops = keys * (4.0 * s->head_dim + 4.0);
  const double bytes = (keys * 2.0 * s->head_dim + 2.0 * (double)(B * s->tq * C)) * sizeof(float);
  return cls__launch(ctx, "attn_decode", k, 1, &global, &wg, flops, bytes);
}
