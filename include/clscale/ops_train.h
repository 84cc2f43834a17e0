/*
 * clscale/ops_train.h — the ops training needs beyond matmul, softmax and
 * the norms: elementwise maps, bias, embedding, losses, reductions and the
 * AdamW optimiser. Included by clscale/ops.h; the conventions there apply
 * (cls_ref operands, sizes and offsets in floats, asynchronous, counters).
 *
 * Shared by every function below:
 *  - Operands are contiguous: an operand of n floats occupies
 *    [offset, offset + n) of its buffer. Sizes are at most 2^31 - 1 floats
 *    and an operand must end below float 2^32 of its buffer (the kernels
 *    index with 32-bit offsets).
 *  - Optional operands are CLS_NOREF. Only the aliases a function lists are
 *    allowed: an output that overlaps an input in any other way is refused
 *    with CLS_ERR_INVALID_VALUE (work-items would race).
 *  - accumulate flags: 0 overwrites the output, 1 adds to it (gradient
 *    accumulation over micro-batches); anything else is CLS_ERR_INVALID_VALUE.
 *  - Errors (all checked before anything is enqueued; outputs untouched):
 *      CLS_ERR_NULL_ARGUMENT    ctx or a required operand NULL
 *      CLS_ERR_INVALID_SIZE     a size 0 or beyond the limits above
 *      CLS_ERR_WRONG_CONTEXT    an operand's buffer belongs to another context
 *      CLS_ERR_BUFFER_TOO_SMALL an operand does not fit its buffer at its offset
 *      CLS_ERR_INVALID_VALUE    a scalar out of range (NaN, a flag not 0/1),
 *                               a forbidden overlap
 *      CLS_ERR_OUT_OF_MEMORY    scratch for partial sums could not be allocated
 *    plus OpenCL's own codes from the launch.
 *  - Results are deterministic: every sum is taken in a fixed order that
 *    depends only on the shape and the device parameters (no float atomics),
 *    so the same inputs on the same device give bitwise the same outputs.
 *
 * Token ids (embedding tokens, cross-entropy targets) are stored as floats,
 * which is exact for integers below 2^24; vocabularies larger than that are
 * refused. A device-side id can only be checked when the kernel runs, so an
 * invalid id (negative, >= vocab, not an integer, NaN) never faults or reads
 * out of bounds: it poisons its results with NaN (embedding output row,
 * cross-entropy loss and gradient row), which the training loop's NaN check
 * turns into a "diverged" run instead of silently training on a clamped id;
 * the embedding backward pass skips it. Check host data before uploading it
 * with cls_tokens_check.
 *
 * Counter names (cls_counters_get): gelu_fwd, gelu_bwd, add_scaled, scale,
 * bias_add, bias_bwd, bias_gelu_fwd, gelu_bias_bwd, embedding_fwd, embedding_bwd, cross_entropy_fwd,
 * cross_entropy_fwd_bwd, mse, reduce_sum, reduce_sumsq, sumsq_ranges, adamw, adamw_groups,
 * adamw_models.
 *
 * The end of a training step, with no host sync until the loss is logged:
 *
 *   cls_cross_entropy(ctx, rows, V, logits, targets, losses, logits, 1.0f / rows);
 *   cls_reduce(ctx, CLS_REDUCE_SUM, rows, losses, 1.0f / rows, mean_loss);
 *   ... backward through the model into the gradient slab ...
 *   cls_sumsq_ranges(ctx, 1, &grads, &n_params, sumsq);   (one slab: one range)
 *   hp.lr = lr; hp.step = step; hp.max_norm = 1.0f;
 *   cls_adamw_step_groups(ctx, n, &hp, n_groups, groups, params, grads, m, v, sumsq);
 *   (one launch for the whole slab; cls_adamw_step updates one group)
 */
#ifndef CLSCALE_OPS_TRAIN_H
#define CLSCALE_OPS_TRAIN_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------ elementwise */

/* y = gelu(x) over n floats, the tanh approximation of GPT-2:
 *   gelu(x) = 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
 * (computed as x / (1 + exp(-2u)), the same function without cancellation
 * for negative x; huge |x| give x or 0, NaN stays NaN).
 * y may equal x (in place); no other overlap. */
cls_status cls_gelu_forward(cls_context *ctx, size_t n, cls_ref x, cls_ref y);

/* dx = dy * gelu'(x) over n floats, from the forward pass's input x.
 * dx may equal dy (or x); no other overlap. */
cls_status cls_gelu_backward(cls_context *ctx, size_t n, cls_ref x, cls_ref dy, cls_ref dx);

/* y = alpha * a + beta * b over n floats (the residual add; alpha = beta = 1
 * for a plain sum). y may equal a or b (or both equal); a and b may overlap
 * each other freely. alpha and beta finite. Both inputs are always read: a
 * NaN in a propagates even when alpha = 0. */
cls_status cls_add_scaled(cls_context *ctx, size_t n, float alpha, cls_ref a, float beta, cls_ref b, cls_ref y);

/* x *= alpha over n floats, in place. alpha finite. */
cls_status cls_scale(cls_context *ctx, size_t n, float alpha, cls_ref x);

/* y[r, :] += bias for each row r of the rows x cols matrix y; bias has cols
 * floats and must not overlap y. */
cls_status cls_bias_add(cls_context *ctx, size_t rows, size_t cols, cls_ref bias, cls_ref y);

/* dbias = sum over the rows of dy (rows x cols), i.e. the bias gradient;
 * accumulate = 1 adds it to dbias. dbias (cols floats) must not overlap dy.
 * Columns are summed in parts of ROW_PART rows (a device parameter) whose
 * partial sums are added in a second pass: deterministic, and the rounding
 * error grows with ROW_PART + rows/ROW_PART, not with rows. */
cls_status cls_bias_backward(cls_context *ctx, size_t rows, size_t cols, cls_ref dy, cls_ref dbias,
                             int accumulate);

/* A linear layer's bias and GELU in one launch (the MLP's first layer):
 * h = x + bias row-wise, kept in x (the backward pass reads it), and
 * y = gelu(h), for the rows x cols matrix x. The same as cls_bias_add then
 * cls_gelu_forward. bias (cols floats) must not overlap x or y; y must not
 * overlap x. */
cls_status cls_bias_gelu_forward(cls_context *ctx, size_t rows, size_t cols, cls_ref bias, cls_ref x, cls_ref y);

/* Its backward in one pass over dy (plus a small second pass adding the
 * parts, as cls_bias_backward): dx = dy * gelu'(h) from the saved h, and
 * dbias (+)= the column sums of dx (accumulate 0/1). The same as
 * cls_gelu_backward then cls_bias_backward. dx may equal dy (in place) or
 * h; dbias must not overlap any of them. */
cls_status cls_gelu_bias_backward(cls_context *ctx, size_t rows, size_t cols, cls_ref h, cls_ref dy, cls_ref dx,
                                  cls_ref dbias, int accumulate);

/* The bias ops for `models` models of one shape trained side by side (the
 * train layer's models.h): y, x, h, dy and dx hold the models' rows x cols
 * matrices one after the other (models x rows x cols floats); model k's
 * bias or bias gradient is at bias + k x bias_stride (bias_stride >= cols;
 * the models' parameter slabs). One launch for all models (two for the
 * gradients), each model's result bitwise what the one-model function
 * gives it: the gradients sum each model's rows in cls_bias_backward's
 * parts, which never straddle two models (where they would, rows not a
 * multiple of ROW_PART, each model runs alone). models = 1 is the
 * one-model function. Errors as the one-model functions; a bias stride
 * below cols (models > 1) is CLS_ERR_INVALID_VALUE. */
cls_status cls_bias_add_models(cls_context *ctx, size_t models, size_t rows, size_t cols, cls_ref bias,
                               size_t bias_stride, cls_ref y);
cls_status cls_bias_gelu_forward_models(cls_context *ctx, size_t models, size_t rows, size_t cols, cls_ref bias,
                                        size_t bias_stride, cls_ref x, cls_ref y);
cls_status cls_bias_backward_models(cls_context *ctx, size_t models, size_t rows, size_t cols, cls_ref dy,
                                    cls_ref dbias, size_t bias_stride, int accumulate);
cls_status cls_gelu_bias_backward_models(cls_context *ctx, size_t models, size_t rows, size_t cols, cls_ref h,
                                         cls_ref dy, cls_ref dx, cls_ref dbias, size_t bias_stride,
                                         int accumulate);

/* -------------------------------------------------------------- embedding */

/* out[b*T + t, :] = wte[tok[b*T + t], :] + wpe[t, :]
 *   tokens: batch*T floats holding integer ids in [0, vocab);
 *   wte: vocab x dim; wpe: T x dim (at least the first T rows of a longer
 *   position table), or CLS_NOREF for no positions; out: batch*T x dim.
 * vocab <= 2^24. out must not overlap any input. An invalid id gives a row
 * of NaN (see the top of this file). */
cls_status cls_embedding_forward(cls_context *ctx, size_t batch, size_t T, size_t vocab, size_t dim,
                                 cls_ref tokens, cls_ref wte, cls_ref wpe, cls_ref out);

/* The gradients of cls_embedding_forward from dout (batch*T x dim):
 *   dwte[v, :] = sum of dout[p, :] over the positions p whose token is v
 *                (rows of tokens that never occur get 0, or are left as
 *                they are with accumulate);
 *   dwpe[t, :] = sum over b of dout[b*T + t, :]  (optional: CLS_NOREF).
 * Deterministic without atomics: the positions are bucketed by token on the
 * device (a counting sort in position order into a CSR list, O(batch*T +
 * vocab), by a single work-item) and each (token, column) work-item sums
 * its bucket in position order. Invalid ids are skipped. dwte and dwpe
 * must not overlap each other or an input.
 * Scratch: vocab + 1 + batch*T floats, allocated per call. */
cls_status cls_embedding_backward(cls_context *ctx, size_t batch, size_t T, size_t vocab, size_t dim,
                                  cls_ref tokens, cls_ref dout, cls_ref dwte, cls_ref dwpe, int accumulate);

/* The embedding for `models` models of one shape trained side by side
 * (the train layer's models.h) in one launch of each kernel: model k's
 * ids and rows (tokens, out, dout: batch*T ids and batch*T x dim floats a
 * model) follow model k-1's, its tables (wte, wpe, dwte, dwpe) lie
 * param_stride floats after model k-1's (param_stride at least a table's
 * size; a model's two tables may interleave with the other models', as
 * the tensors of one parameter slab do, as long as no two parts meet).
 * Each model's results are bitwise those of the one-model call on its
 * part (the same kernels, a work-item per model for the sort). models = 1
 * is the one-model op (param_stride unused). Errors as the one-model ops,
 * on the spans the models cover; models above 4096 or a stride below a
 * table: CLS_ERR_INVALID_SIZE / CLS_ERR_INVALID_VALUE. */
cls_status cls_embedding_forward_models(cls_context *ctx, size_t models, size_t batch, size_t T, size_t vocab,
                                        size_t dim, cls_ref tokens, cls_ref wte, cls_ref wpe, size_t param_stride,
                                        cls_ref out);
cls_status cls_embedding_backward_models(cls_context *ctx, size_t models, size_t batch, size_t T, size_t vocab,
                                         size_t dim, cls_ref tokens, cls_ref dout, cls_ref dwte, cls_ref dwpe,
                                         size_t param_stride, int accumulate);

/* A host-side check of n >= 1 token ids about to be uploaded: each must be
 * an integer in [0, vocab) (1 <= vocab <= 2^24). Returns CLS_OK, or
 * CLS_ERR_INVALID_VALUE with the first bad index in *bad_index (when not
 * NULL) and a message on ctx naming it. Enqueues nothing. */
cls_status cls_tokens_check(cls_context *ctx, const float *tokens, size_t n, size_t vocab, size_t *bad_index);

/* ----------------------------------------------------------------- losses */

/* The target id cls_cross_entropy ignores. */
#define CLS_IGNORE_TARGET (-1)

/* Cross-entropy of each row of logits (rows x vocab) against its target id
 * (targets: rows floats):
 *   losses[r]     = logsumexp(logits[r, :]) - logits[r, target[r]]
 *   dlogits[r, j] = (softmax(logits[r, :])_j - [j == target[r]]) * grad_scale
 * computed together in one pass over the row, with the maximum subtracted
 * before exponentiating, so logits of magnitude 1e4 (or any finite value)
 * neither overflow nor lose the loss. Pass grad_scale = 1/rows for the
 * gradient of the mean loss. losses or dlogits may be CLS_NOREF (not both:
 * CLS_ERR_NULL_ARGUMENT).
 * dlogits may equal logits (the gradient overwrites the logits in place);
 * losses must not overlap anything. vocab <= 2^24 (else
 * CLS_ERR_INVALID_SIZE); grad_scale finite.
 * The target CLS_IGNORE_TARGET (-1) is ignored: its row's loss is 0 and
 * its gradient row 0 (for a loss on some positions only, the answer of a
 * question: pass grad_scale = 1/count of the other rows, and reduce the
 * losses with that scale). Any other invalid target gives a NaN loss and
 * a NaN gradient row. The mean loss is cls_reduce(CLS_REDUCE_SUM, scale
 * 1/rows) of losses. */
cls_status cls_cross_entropy(cls_context *ctx, size_t rows, size_t vocab, cls_ref logits, cls_ref targets,
                             cls_ref losses, cls_ref dlogits, float grad_scale);

/* Squared error over n floats:
 *   err[i]   = (pred[i] - target[i])^2
 *   dpred[i] = 2 (pred[i] - target[i]) * grad_scale
 * err or dpred may be CLS_NOREF (not both: CLS_ERR_NULL_ARGUMENT); 2 *
 * grad_scale must be finite. Each output may equal pred or
 * target (in place); err and dpred must not overlap each other. Pass
 * grad_scale = 1/n for the gradient of the mean; the mean itself is
 * cls_reduce(CLS_REDUCE_SUM, scale 1/n) of err. */
cls_status cls_mse(cls_context *ctx, size_t n, cls_ref pred, cls_ref target, cls_ref err, cls_ref dpred,
                   float grad_scale);

/* ------------------------------------------------------------- reductions */

typedef enum {
  CLS_REDUCE_SUM = 0,  /* sum of x */
  CLS_REDUCE_SUMSQ = 1 /* sum of x^2 (squared L2 norm) */
} cls_reduce_kind;

/* out[0] = scale * (sum of x, or of x^2) over n floats, in two passes:
 * work-groups sum contiguous chunks (each work-item a strided slice, then
 * a tree in local memory) into partial sums, which one work-group adds the
 * same way. The order depends only on n and the device parameters, so the
 * result is bitwise reproducible, and its rounding error grows like
 * log(n), not like n (on a million floats: 2e-8 relative, where a serial
 * float sum is off by 1e-5). out (1 float) must not overlap x. scale
 * finite. Scratch: one float per chunk (64 x 64 x 16 floats on CPUs),
 * allocated per call. */
cls_status cls_reduce(cls_context *ctx, cls_reduce_kind kind, size_t n, cls_ref x, float scale, cls_ref out);

/* cls_reduce for `models` models side by side (the train layer's
 * models.h) in one launch of each pass: out[k] = scale * the sum over
 * model k's n floats at x + k * x_stride, bitwise what cls_reduce gives
 * for that range alone (each model's chunks and partial sums as alone).
 * models = 1 is cls_reduce; else x_stride >= n, out (models floats)
 * must not overlap the ranges. */
cls_status cls_reduce_models(cls_context *ctx, cls_reduce_kind kind, size_t models, size_t n, cls_ref x,
                             size_t x_stride, float scale, cls_ref out);

/* out[0] = the sum of squares of every float of count ranges (range i is
 * lengths[i] floats at ranges[i]), e.g. all gradient tensors, for clipping
 * by global norm without reading anything back to the host. The partial
 * sums of all ranges are added in one fixed order (deterministic). Ranges
 * may overlap each other (they are only read); out must not overlap any.
 * count >= 1, every length >= 1. Errors name the bad range
 * ("ranges[3]"). */
cls_status cls_sumsq_ranges(cls_context *ctx, size_t count, const cls_ref *ranges, const size_t *lengths,
                            cls_ref out);

/* -------------------------------------------------------------- optimiser */

typedef struct cls_adamw_params {
  float lr;           /* learning rate of this group (its multiplier applied), finite, >= 0 */
  float beta1, beta2; /* moment decay rates, each in [0, 1) */
  float eps;          /* > 0, finite */
  float weight_decay; /* decoupled: p -= lr * weight_decay * p; finite, >= 0 */
  unsigned long step; /* 1 on the first update (bias correction); 0 is refused */
  float max_norm;     /* clip by global norm when > 0 (then grad_sumsq is needed); <= 0: no clipping */
} cls_adamw_params;

/* Fills p with lr 1e-3, betas 0.9/0.999, eps 1e-8, weight decay 0.01,
 * step 1, no clipping (PyTorch's AdamW defaults). */
void cls_adamw_params_init(cls_adamw_params *p);

/* One AdamW update of n parameters (one parameter group), PyTorch's order:
 *   g  = grad * c,  c = min(1, max_norm / sqrt(grad_sumsq[0])) when clipping, else 1
 *   param *= 1 - lr * weight_decay
 *   m = beta1 m + (1 - beta1) g;   v = beta2 v + (1 - beta2) g^2
 *   param -= lr / (1 - beta1^step) * m / (sqrt(v / (1 - beta2^step)) + eps)
 * grad_sumsq is a one-float operand holding the sum of squares of ALL
 * gradients of the model (cls_sumsq_ranges or cls_reduce), read by the
 * kernel itself, so clipping needs no host sync; CLS_NOREF when max_norm
 * <= 0. A NaN or infinite grad_sumsq makes c NaN, so the parameters turn
 * NaN and the divergence shows. param, grad, m and v (n floats each) must
 * not overlap each other; grad_sumsq must not overlap param, m or v. */
cls_status cls_adamw_step(cls_context *ctx, size_t n, const cls_adamw_params *hp, cls_ref param, cls_ref grad,
                          cls_ref m, cls_ref v, cls_ref grad_sumsq);

/* One range of a parameter slab for cls_adamw_step_groups: the parameters
 * [previous group's end, end) share a learning-rate multiplier and a
 * weight decay (muP's per-class rates, no decay on gains and biases). */
typedef struct cls_adamw_group {
  size_t end;         /* one past the group's last parameter; groups are consecutive from 0 */
  float lr_mult;      /* the group's lr is hp->lr * lr_mult; finite, >= 0 */
  float weight_decay; /* the group's decoupled weight decay; finite, >= 0 */
} cls_adamw_group;

/* cls_adamw_step over a whole slab of n parameters in one launch, each
 * group with its own rate and decay (hp->weight_decay is not used):
 *   lr_g = hp->lr * lr_mult,  param *= 1 - lr_g * weight_decay,  ...
 * (the same update, its constants folded on the device per group, so it
 * may differ from cls_adamw_step in the last bit). groups[count - 1].end
 * must be n and the ends strictly increasing; lr_g * weight_decay <= 1.
 * The group table lives on the device, uploaded when it differs from the
 * last call's (a one-time blocking write for a training run). Errors as
 * cls_adamw_step; a bad table is CLS_ERR_INVALID_VALUE naming the group. */
cls_status cls_adamw_step_groups(cls_context *ctx, size_t n, const cls_adamw_params *hp, size_t count,
                                 const cls_adamw_group *groups, cls_ref param, cls_ref grad, cls_ref m, cls_ref v,
                                 cls_ref grad_sumsq);

/* cls_adamw_step_groups over `models` slabs of the same shape side by side
 * (models trained as one batched group), in one launch whatever the
 * number of models: model k's n parameters start k * stride (>= n) past
 * each of param, grad, m and v; it steps with its own lr[k] and step[k]
 * (hp->lr and hp->step are not used; betas, eps and max_norm are shared)
 * and clips by its own norm, grad_sumsq[k] (models floats, e.g. from
 * cls_reduce_models; CLS_NOREF when max_norm <= 0). Each model's result
 * is bitwise that of cls_adamw_step_groups on its slab alone. The
 * per-model constants go to the device without a host wait (two calls'
 * worth are kept in flight). Errors as cls_adamw_step_groups, a bad lr or
 * step naming the model ("model 3: ..."), and CLS_ERR_INVALID_VALUE for
 * stride < n. */
cls_status cls_adamw_step_models(cls_context *ctx, size_t models, size_t n, size_t stride,
                                 const cls_adamw_params *hp, const float *lr, const unsigned long *step,
                                 size_t count, const cls_adamw_group *groups, cls_ref param, cls_ref grad,
                                 cls_ref m, cls_ref v, cls_ref grad_sumsq);

#ifdef __cplusplus
}
#endif
#endif
