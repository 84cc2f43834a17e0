/*
 * clscale/ops.h — one C function per kernel.
 *
 * Conventions shared by every op:
 *  - Matrices are row-major fp32. A matrix of `rows` x `cols` with leading
 *    dimension `ld` keeps element (i, j) at offset + i*ld + j of its buffer.
 *  - Operands are passed as cls_ref: a buffer and an offset (in floats) into
 *    it, so that parameters and activations can live in one slab and be
 *    addressed by a table of offsets. An optional operand is CLS_NOREF.
 *  - Every op checks all its arguments before it enqueues anything. On a bad
 *    argument it returns the documented status, sets cls_last_error(ctx), and
 *    leaves every buffer untouched.
 *  - Ops are asynchronous: they enqueue on the context's in-order queue and
 *    return. Reading a buffer (cls_buffer_read) or cls_finish waits.
 *  - Every op adds its floating-point operations and global-memory bytes to
 *    the context's counters (cls_counters_get), under the op's name.
 */
#ifndef CLSCALE_OPS_H
#define CLSCALE_OPS_H

#include <stddef.h>

#include "clscale/device.h"

#ifdef __cplusplus
extern "C" {
#endif

/* cls_ref, cls_ref_at and CLS_NOREF are declared in clscale/device.h. */

/* ----------------------------------------------------------------- matmul */

typedef enum { CLS_NO_TRANS = 0, CLS_TRANS = 1 } cls_trans;

typedef enum {
  CLS_BACKEND_AUTO = 0, /* measure the candidates once per shape class, remember the fastest */
  CLS_BACKEND_OWN = 1,  /* clscale's register-blocked OpenCL kernels */
  CLS_BACKEND_CLBLAST = 2,
  CLS_BACKEND_HOST = 3 /* host BLAS on mapped buffers; CPU devices only */
} cls_backend;

/* "auto", "own", "clblast", "host" -> backend; CLS_ERR_UNKNOWN_BACKEND otherwise. */
cls_status cls_backend_parse(const char *name, cls_backend *out);
const char *cls_backend_name(cls_backend backend);

/* The backend plain cls_matmul uses on this context (default: from the
 * context options). */
cls_status cls_matmul_set_backend(cls_context *ctx, cls_backend backend);
cls_backend cls_matmul_get_backend(const cls_context *ctx);

/* C = alpha * op(A) * op(B) + beta * C, row-major.
 *   op(A) is m x k: A is m x k (lda >= k) when ta = CLS_NO_TRANS,
 *                   k x m (lda >= m) when ta = CLS_TRANS;
 *   op(B) is k x n: B is k x n (ldb >= n) or n x k (ldb >= k);
 *   C is m x n, ldc >= n.
 * m, n, k >= 1. beta = 0 means C is not read (NaNs in it do not propagate).
 * Errors: CLS_ERR_NULL_ARGUMENT, CLS_ERR_INVALID_SIZE, CLS_ERR_LEADING_DIM,
 * CLS_ERR_BUFFER_TOO_SMALL, CLS_ERR_INVALID_VALUE (transpose not N/T). */
cls_status cls_matmul(cls_context *ctx, cls_trans ta, cls_trans tb, size_t m, size_t n, size_t k, float alpha,
                      cls_ref a, size_t lda, cls_ref b, size_t ldb, float beta, cls_ref c, size_t ldc);

/* batch independent products; matrix i of A starts at a.offset + i*stride_a
 * (likewise B and C). stride_a or stride_b may be 0 to reuse one matrix for
 * the whole batch; C's matrices must not overlap (stride_c >= rows*ldc). */
cls_status cls_matmul_batched(cls_context *ctx, cls_trans ta, cls_trans tb, size_t m, size_t n, size_t k,
                              float alpha, cls_ref a, size_t lda, size_t stride_a, cls_ref b, size_t ldb,
                              size_t stride_b, float beta, cls_ref c, size_t ldc, size_t stride_c, size_t batch);

/* As cls_matmul_batched, for `models` models of one shape trained side by
 * side (batch = models x the batch of one model's product, model after
 * model): each product is computed exactly as the model's own product
 * would be alone (cls_matmul or cls_matmul_batched with batch / models),
 * bitwise. On the auto backend the products take the choice of the class
 * of batch / models products (recorded as that class), so that a model
 * trained with others and one trained alone run on the same backend; the
 * own and host backends compute each product of a batch as they compute a
 * single one (tests/test_group.c checks it). CLS_ERR_INVALID_SIZE when
 * batch is not a multiple of models. */
cls_status cls_matmul_models(cls_context *ctx, cls_trans ta, cls_trans tb, size_t m, size_t n, size_t k,
                             float alpha, cls_ref a, size_t lda, size_t stride_a, cls_ref b, size_t ldb,
                             size_t stride_b, float beta, cls_ref c, size_t ldc, size_t stride_c, size_t batch,
                             size_t models);

/* cls_matmul_models followed by cls_bias_add_models, bitwise, in one
 * call: C's rows (ldc must be n) each get the bias (n floats) of their
 * model added after the product is rounded; model j's bias starts at
 * bias.offset + j*bias_stride (bias_stride >= n, unused with one model).
 * The own backend adds it as it stores C: no second launch and no second
 * pass over C (the linear layers' biases); the other backends, and the own
 * GPU kernel, run cls_bias_add_models after the product. bias must not
 * overlap C. */
cls_status cls_matmul_models_bias(cls_context *ctx, cls_trans ta, cls_trans tb, size_t m, size_t n, size_t k,
                                  float alpha, cls_ref a, size_t lda, size_t stride_a, cls_ref b, size_t ldb,
                                  size_t stride_b, float beta, cls_ref c, size_t ldc, size_t stride_c,
                                  size_t batch, size_t models, cls_ref bias, size_t bias_stride);

/* As cls_matmul_batched, on a given backend (CLS_BACKEND_AUTO allowed).
 * CLS_ERR_BACKEND_UNAVAILABLE when it cannot run here (host on a GPU). */
cls_status cls_matmul_batched_on(cls_context *ctx, cls_backend backend, cls_trans ta, cls_trans tb, size_t m,
                                 size_t n, size_t k, float alpha, cls_ref a, size_t lda, size_t stride_a,
                                 cls_ref b, size_t ldb, size_t stride_b, float beta, cls_ref c, size_t ldc,
                                 size_t stride_c, size_t batch);

/* A run's record of the auto backend's choices, so that a run continued in
 * another process (a resumed checkpoint) computes exactly what it would
 * have computed uninterrupted. The auto backend decides per shape class
 * (the transposes, whether batched, and ceil(log2) of m, n and k); a
 * record is text: one entry per class, "TATB LM LN LK BATCHED BACKEND",
 * e.g. "NT 11 7 9 0 host", entries joined by ';' in ascending class order
 * (so equal records are equal strings); "" is the empty record.
 *
 * cls_matmul_record_begin starts a record on ctx: until
 * cls_matmul_record_end, an auto product of a class in the record runs on
 * the record's backend, whatever the cache folder or a timing would say,
 * and any other class takes the context's choice (persisted, or timed) and
 * is added to the record. `pinned` is NULL or "" for an empty record, or a
 * record as cls_matmul_record_text wrote it (from a checkpoint). Errors:
 * CLS_ERR_INVALID_VALUE (not a record: the message says where),
 * CLS_ERR_BACKEND_UNAVAILABLE (it names the host backend and this device
 * has none). A record in progress is replaced. */
cls_status cls_matmul_record_begin(cls_context *ctx, const char *pinned);
/* The record so far into out (NUL-terminated); CLS_ERR_INVALID_SIZE when
 * len is too small (*needed, when not NULL, is the length it needs with
 * its NUL), CLS_ERR_INVALID_VALUE when no record is in progress. */
cls_status cls_matmul_record_text(const cls_context *ctx, char *out, size_t len, size_t *needed);
/* Ends the record: the context's own choices apply again. */
void cls_matmul_record_end(cls_context *ctx);
/* Checks a record's text without a context: CLS_OK, or
 * CLS_ERR_INVALID_VALUE with what is wrong (which entry) in why. */
cls_status cls_matmul_record_check(const char *text, char *why, size_t why_len);

/* ---------------------------------------------------------------- softmax */

/* y = softmax(scale * x) along each row of a rows x cols contiguous matrix.
 * causal: rows come in blocks of cols (the T x T score blocks of causal
 * self-attention); row r attends to columns j <= r mod cols, and the others
 * get probability exactly 0. y may equal x (in place). */
cls_status cls_softmax_forward(cls_context *ctx, size_t rows, size_t cols, float scale, int causal, cls_ref x,
                               cls_ref y);

/* dx = scale * y * (dy - sum_j(y * dy)) per row, from the forward output y.
 * dx may equal dy. Masked positions (y = 0) get dx = 0. */
cls_status cls_softmax_backward(cls_context *ctx, size_t rows, size_t cols, float scale, cls_ref y, cls_ref dy,
                                cls_ref dx);

/* ------------------------------------------------------ layernorm/rmsnorm */

/* LayerNorm over each row of a rows x cols contiguous matrix:
 *   y = (x - mean) * rstd * gamma + beta,  rstd = 1/sqrt(var + eps)
 * beta may be CLS_NOREF (no shift). mean and rstd (rows floats each) are
 * saved for the backward pass unless CLS_NOREF. eps > 0 and finite. */
cls_status cls_layernorm_forward(cls_context *ctx, size_t rows, size_t cols, float eps, cls_ref x, cls_ref gamma,
                                 cls_ref beta, cls_ref y, cls_ref mean, cls_ref rstd);

/* From the saved mean and rstd: dx, and dgamma/dbeta summed over rows.
 * accumulate = 0 overwrites dgamma/dbeta, 1 adds to them (gradient
 * accumulation). dbeta may be CLS_NOREF. */
cls_status cls_layernorm_backward(cls_context *ctx, size_t rows, size_t cols, cls_ref x, cls_ref gamma,
                                  cls_ref mean, cls_ref rstd, cls_ref dy, cls_ref dx, cls_ref dgamma,
                                  cls_ref dbeta, int accumulate);

/* RMSNorm: y = x * rstd * gamma, rstd = 1/sqrt(mean(x^2) + eps). */
cls_status cls_rmsnorm_forward(cls_context *ctx, size_t rows, size_t cols, float eps, cls_ref x, cls_ref gamma,
                               cls_ref y, cls_ref rstd);
cls_status cls_rmsnorm_backward(cls_context *ctx, size_t rows, size_t cols, cls_ref x, cls_ref gamma, cls_ref rstd,
                                cls_ref dy, cls_ref dx, cls_ref dgamma, int accumulate);

/* The residual add and the norm after it, fused (a pre-norm block: the
 * stream plus a branch's output, then the next norm of the stream):
 *   x = (a + b) + bias   (row-wise bias: a branch's matmul output b and its
 *                         bias; the order of a matmul adding into a copy of a
 *                         and a bias add after it)
 *   y = the norm of x, as cls_layernorm_forward / cls_rmsnorm_forward.
 * x may equal a (in place); nothing else may overlap x or y. */
cls_status cls_residual_layernorm_forward(cls_context *ctx, size_t rows, size_t cols, float eps, cls_ref a,
                                          cls_ref b, cls_ref bias, cls_ref x, cls_ref gamma, cls_ref beta,
                                          cls_ref y, cls_ref mean, cls_ref rstd);
cls_status cls_residual_rmsnorm_forward(cls_context *ctx, size_t rows, size_t cols, float eps, cls_ref a,
                                        cls_ref b, cls_ref bias, cls_ref x, cls_ref gamma, cls_ref y,
                                        cls_ref rstd);

/* The backward passes adding dx to what dx holds (dx += ...): a residual
 * stream's gradient takes the norm branch's in the same launch. dx must
 * not overlap any input here. */
cls_status cls_layernorm_backward_add(cls_context *ctx, size_t rows, size_t cols, cls_ref x, cls_ref gamma,
                                      cls_ref mean, cls_ref rstd, cls_ref dy, cls_ref dx, cls_ref dgamma,
                                      cls_ref dbeta, int accumulate);
cls_status cls_rmsnorm_backward_add(cls_context *ctx, size_t rows, size_t cols, cls_ref x, cls_ref gamma,
                                    cls_ref rstd, cls_ref dy, cls_ref dx, cls_ref dgamma, int accumulate);

/* The RMSNorm ops for `models` models of one shape trained side by side
 * (the train layer's models.h): model k's rows x cols rows follow model
 * k-1's in x, y, a, b, dy and dx (models x rows x cols floats each); its
 * gamma, bias and dgamma lie param_stride floats after model k-1's, its
 * rstd stat_stride floats after. Each model's results are bitwise those of
 * the one-model call on its part (same per-row arithmetic, dgamma summed
 * over the model's own rows in the one-model order), in one launch for all
 * models instead of one per model. models = 1 is the one-model op (the
 * strides unused); with more, param_stride >= cols and stat_stride >= rows.
 * Errors as the one-model ops, on the spans the models cover. */
cls_status cls_rmsnorm_forward_models(cls_context *ctx, size_t models, size_t rows, size_t cols, float eps,
                                      cls_ref x, cls_ref gamma, size_t param_stride, cls_ref y, cls_ref rstd,
                                      size_t stat_stride);
cls_status cls_residual_rmsnorm_forward_models(cls_context *ctx, size_t models, size_t rows, size_t cols,
                                               float eps, cls_ref a, cls_ref b, cls_ref bias, cls_ref x,
                                               cls_ref gamma, size_t param_stride, cls_ref y, cls_ref rstd,
                                               size_t stat_stride);
/* add = 0: cls_rmsnorm_backward per model; 1: cls_rmsnorm_backward_add. */
cls_status cls_rmsnorm_backward_models(cls_context *ctx, size_t models, size_t rows, size_t cols, cls_ref x,
                                       cls_ref gamma, size_t param_stride, cls_ref rstd, size_t stat_stride,
                                       cls_ref dy, cls_ref dx, cls_ref dgamma, int accumulate, int add);

/* The LayerNorm ops for models side by side, as the RMSNorm ones above:
 * beta and dbeta (each may be CLS_NOREF) lie param_stride floats apart as
 * gamma does, mean stat_stride apart as rstd does. */
cls_status cls_layernorm_forward_models(cls_context *ctx, size_t models, size_t rows, size_t cols, float eps,
                                        cls_ref x, cls_ref gamma, cls_ref beta, size_t param_stride, cls_ref y,
                                        cls_ref mean, cls_ref rstd, size_t stat_stride);
cls_status cls_residual_layernorm_forward_models(cls_context *ctx, size_t models, size_t rows, size_t cols,
                                                 float eps, cls_ref a, cls_ref b, cls_ref bias, cls_ref x,
                                                 cls_ref gamma, cls_ref beta, size_t param_stride, cls_ref y,
                                                 cls_ref mean, cls_ref rstd, size_t stat_stride);
/* add = 0: cls_layernorm_backward per model; 1: cls_layernorm_backward_add. */
cls_status cls_layernorm_backward_models(cls_context *ctx, size_t models, size_t rows, size_t cols, cls_ref x,
                                         cls_ref gamma, size_t param_stride, cls_ref mean, cls_ref rstd,
                                         size_t stat_stride, cls_ref dy, cls_ref dx, cls_ref dgamma, cls_ref dbeta,
                                         int accumulate, int add);

#ifdef __cplusplus
}
#endif

/* The ops that training needs beyond these: elementwise, losses, embedding,
 * optimiser, reductions (ops_train.h), attention and its generation cache
 * (ops_attention.h), the symmetric positive-definite solve (ops_linalg.h)
 * and sampling from logits (ops_sample.h). */
#include "clscale/ops_train.h"
#include "clscale/ops_attention.h"
#include "clscale/ops_linalg.h"
#include "clscale/ops_sample.h"

#endif
