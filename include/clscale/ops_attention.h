/*
 * clscale/ops_attention.h — multi-head attention, forward and backward,
 * built from the batched matmul and the softmax ops. Included by
 * clscale/ops.h; the conventions there apply.
 *
 * Layout (llm.c style, row-major): a sequence of T positions of width
 * C = heads * head_dim is a T x C matrix; head h owns columns
 * [h*head_dim, (h+1)*head_dim). Q, K, V and the output are each described
 * by a cls_attn_operand: where batch element 0 starts, the distance between
 * rows (ld >= C) and between batch elements (stride >= (T-1)*ld + C). So a
 * packed QKV activation of shape (B, T, 3C) is three operands with ld = 3C,
 * stride = 3*T*C and offsets 0, C and 2C — no copies, no transposes.
 *
 * Self-attention: Tq = Tk, usually with the causal mask. Cross-attention:
 * queries from one sequence (the emulator's wavelengths, Tq of them per
 * spectrum) attend to another (its Tk label tokens), never causal.
 *
 * Scores are scaled by `scale` before the softmax: 1/sqrt(head_dim) in
 * standard parametrisation, 1/head_dim under muP.
 */
#ifndef CLSCALE_OPS_ATTENTION_H
#define CLSCALE_OPS_ATTENTION_H

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cls_attn_operand {
  cls_ref ref;   /* batch element 0, position 0, column 0 */
  size_t ld;     /* floats between consecutive positions */
  size_t stride; /* floats between consecutive batch elements */
} cls_attn_operand;

typedef struct cls_attn_shape {
  size_t batch;    /* B */
  size_t tq, tk;   /* query and key/value positions per batch element */
  size_t heads;    /* H */
  size_t head_dim; /* d_head; C = H * d_head */
  float scale;     /* applied to the scores before the softmax; finite, nonzero */
  int causal;      /* 1: query i sees keys j <= i (requires tq == tk) */
} cls_attn_shape;

/* The number of floats the saved probabilities (and the backward scratch)
 * take: B * H * Tq * Tk, laid out as (B, H, Tq, Tk). */
size_t cls_attention_probs_count(const cls_attn_shape *shape);

/* out = softmax(scale * Q K^T [+ mask]) V per batch element and head.
 * probs (cls_attention_probs_count floats) receives the probabilities,
 * which the backward pass needs. out must not overlap q, k, v or probs. */
cls_status cls_attention_forward(cls_context *ctx, const cls_attn_shape *shape, cls_attn_operand q,
                                 cls_attn_operand k, cls_attn_operand v, cls_ref probs, cls_attn_operand out);

/* From dout and the saved probs: dq, dk, dv (overwritten, or added to when
 * accumulate = 1; with accumulate, dk/dv of a key/value sequence shared by
 * several query blocks can be summed across calls). scratch holds
 * cls_attention_probs_count floats and is clobbered. */
cls_status cls_attention_backward(cls_context *ctx, const cls_attn_shape *shape, cls_attn_operand q,
                                  cls_attn_operand k, cls_attn_operand v, cls_ref probs, cls_attn_operand dout,
                                  cls_ref scratch, cls_attn_operand dq, cls_attn_operand dk, cls_attn_operand dv,
                                  int accumulate);

/* ------------------------------------------------- generation: KV cache
 *
 * Generation feeds one new token per sequence at a time; recomputing the
 * keys and values of the whole prefix at every step would make it
 * quadratic in the length. A cache keeps each layer's keys and values of
 * the positions seen so far, laid out (B, H, cap, head_dim) in one buffer
 * each (a head's keys contiguous), and the new queries attend to it. */

typedef struct cls_kv_shape {
  size_t batch;    /* B */
  size_t tq;       /* new positions per sequence (1 when decoding, the prompt when prefilling) */
  size_t heads;    /* H */
  size_t head_dim; /* d_head; C = H * d_head */
  size_t cap;      /* positions the cache holds per sequence (the model's context) */
  size_t pos0;     /* the position of the first new one; pos0 + tq <= cap */
  float scale;     /* as cls_attn_shape's: finite, nonzero */
} cls_kv_shape;

/* Floats of one cache (K or V): B * H * cap * head_dim. */
size_t cls_kv_cache_count(const cls_kv_shape *shape);

/* Copies the keys k and values v of the tq new positions (operands of tq
 * rows, as cls_attention_forward takes them; k and v must share ld and
 * stride, as the parts of a packed QKV activation do) into k_cache and
 * v_cache at positions pos0 .. pos0 + tq - 1. */
cls_status cls_kv_store(cls_context *ctx, const cls_kv_shape *shape, cls_attn_operand k, cls_attn_operand v,
                        cls_ref k_cache, cls_ref v_cache);

/* Floats of cls_attention_decode's scratch: B * H * tq * cap. */
size_t cls_attention_decode_scratch(const cls_kv_shape *shape);

/* out = softmax(scale * q K^T) V, where new query i (position pos0 + i)
 * sees the cached positions 0 .. pos0 + i: the causal attention of a whole
 * forward pass, computed for the new positions only (store their keys and
 * values first). q and out are operands of tq rows; out must not overlap
 * q, the caches or scratch. */
cls_status cls_attention_decode(cls_context *ctx, const cls_kv_shape *shape, cls_attn_operand q, cls_ref k_cache,
                                cls_ref v_cache, cls_ref scratch, cls_attn_operand out);

#ifdef __cplusplus
}
#endif
#endif
