/*
 * src/ops/loss.c — cross-entropy from logits with its fused gradient, and
 * the squared error with its gradient (kernels in cl/loss.cl).
 *
 * Errors: as listed at the top of include/clscale/ops_train.h, all checked
 * before anything is enqueued; in particular CLS_ERR_NULL_ARGUMENT when
 * both outputs are CLS_NOREF, CLS_ERR_INVALID_SIZE for vocab > 2^24 (ids
 * would not be exact floats), CLS_ERR_INVALID_VALUE for a non-finite
 * grad_scale.
 */
#include <math.h>
#include <stdint.h>

#include "launch_internal.h"
#include "ops/rows.h"
#include "ops/train_ref.h"

#define MAX_VOCAB ((size_t)1 << 24)

cls_status cls_cross_entropy(cls_context *ctx, size_t rows, size_t vocab, cls_ref logits, cls_ref targets,
                             cls_ref losses, cls_ref dlogits, float grad_scale) {
  static const char fn[] = "cls_cross_entropy";
  CLS_CHECK_CTX(ctx);
  cls_status s;
  if ((s = cls__train_check_size(ctx, fn, "rows", rows)) || (s = cls__train_check_size(ctx, fn, "vocab", vocab)))
    return s;
  if (vocab > MAX_VOCAB)
    return cls__fail(ctx, CLS_ERR_INVALID_SIZE,
                     "%s: vocab is %zu; ids are stored as floats, exact only below 2^24 = 16777216", fn, vocab);
  if ((double)rows * (double)vocab > 2147483647.0)
    return cls__fail(ctx, CLS_ERR_INVALID_SIZE,
                     "%s: rows x vocab = %zu x %zu exceeds 2^31-1 floats; split the rows", fn, rows, vocab);
  size_t n = rows * vocab;
  int has_loss = cls__train_present(losses), has_grad = cls__train_present(dlogits);
  if (!has_loss && !has_grad)
    return cls__fail(ctx, CLS_ERR_NULL_ARGUMENT, "%s: losses and dlogits are both CLS_NOREF; ask for at least one",
                     fn);
  if ((s = cls__train_check(ctx, fn, "logits", logits, n)) ||
      (s = cls__train_check(ctx, fn, "targets", targets, rows)) ||
      (has_loss && (s = cls__train_check(ctx, fn, "losses", losses, rows))) ||
      (has_grad && (s = cls__train_check(ctx, fn, "dlogits", dlogits, n))) ||
      (s = cls__train_check_finite(ctx, fn, "grad_scale", grad_scale)) ||
      (s = cls__check_alias(ctx, fn, "dlogits", dlogits, n, "logits", logits, n, 1)) ||
      (s = cls__check_alias(ctx, fn, "dlogits", dlogits, n, "targets", targets, rows, 0)) ||
      (s = cls__check_alias(ctx, fn, "losses", losses, rows, "logits", logits, n, 0)) ||
      (s = cls__check_alias(ctx, fn, "losses", losses, rows, "targets", targets, rows, 0)) ||
      (s = cls__check_alias(ctx, fn, "losses", losses, rows, "dlogits", dlogits, n, 0)))
    return s;

  int variant = cls__rows_variant(ctx);
  cl_kernel k;
  if ((s = cls__kernel(ctx, "loss", variant ? "ce_wg" : "ce_row", &k)) != CLS_OK) return s;
  size_t global, local;
  if ((s = cls__rows_geometry(ctx, k, variant, rows, vocab, &global, &local)) != CLS_OK) return s;
  /* Absent outputs still need a valid buffer argument; the flag keeps the
   * kernel from touching it. */
  cls_ref lo = has_loss ? losses : logits, dl = has_grad ? dlogits : logits;
  cl_uint a = 0;
  if ((s = cls__arg_mem(ctx, k, a++, logits.buf)) || (s = cls__arg_uint(ctx, k, a++, logits.offset)) ||
      (s = cls__arg_mem(ctx, k, a++, targets.buf)) || (s = cls__arg_uint(ctx, k, a++, targets.offset)) ||
      (s = cls__arg_mem(ctx, k, a++, lo.buf)) || (s = cls__arg_uint(ctx, k, a++, lo.offset)) ||
      (s = cls__arg_int(ctx, k, a++, has_loss)) || (s = cls__arg_mem(ctx, k, a++, dl.buf)) ||
      (s = cls__arg_uint(ctx, k, a++, dl.offset)) || (s = cls__arg_int(ctx, k, a++, has_grad)) ||
      (s = cls__arg_uint(ctx, k, a++, rows)) || (s = cls__arg_uint(ctx, k, a++, vocab)) ||
      (s = cls__arg_float(ctx, k, a++, grad_scale)))
    return s;
  /* Per logit: max, subtract, exp (one), sum; with the gradient a multiply
   * more. Bytes: logits read (the passes after the first hit cache),
   * targets and losses, the gradient written. */
  double fl = (4.0 + (has_grad ? 1.0 : 0.0)) * (double)n;
  double by = ((double)n + 2.0 * (double)rows + (has_grad ? (double)n : 0.0)) * sizeof(float);
  return cls__launch(ctx, has_grad ? "cross_entropy_fwd_bwd" : "cross_entropy_fwd", k, 1, &global, &local, fl, by);
}

cls_status cls_mse(cls_context *ctx, size_t n, cls_ref pred, cls_ref target, cls_ref err, cls_ref dpred,
                   float grad_scale) {
  static const char fn[] = "cls_mse";
  CLS_CHECK_CTX(ctx);
  cls_status s;
  if ((s = cls__train_check_size(ctx, fn, "n", n))) return s;
  int has_err = cls__train_present(err), has_grad = cls__train_present(dpred);
  if (!has_err && !has_grad)
    return cls__fail(ctx, CLS_ERR_NULL_ARGUMENT, "%s: err and dpred are both CLS_NOREF; ask for at least one", fn);
  if ((s = cls__train_check(ctx, fn, "pred", pred, n)) || (s = cls__train_check(ctx, fn, "target", target, n)) ||
      (has_err && (s = cls__train_check(ctx, fn, "err", err, n))) ||
      (has_grad && (s = cls__train_check(ctx, fn, "dpred", dpred, n))) ||
      (s = cls__train_check_finite(ctx, fn, "grad_scale", grad_scale)) ||
      (s = cls__check_alias(ctx, fn, "err", err, n, "pred", pred, n, 1)) ||
      (s = cls__check_alias(ctx, fn, "err", err, n, "target", target, n, 1)) ||
      (s = cls__check_alias(ctx, fn, "dpred", dpred, n, "pred", pred, n, 1)) ||
      (s = cls__check_alias(ctx, fn, "dpred", dpred, n, "target", target, n, 1)) ||
      (s = cls__check_alias(ctx, fn, "dpred", dpred, n, "err", err, n, 0)))
    return s;
  float gs2 = 2.0f * grad_scale;
  if (!isfinite(gs2))
    return cls__fail(ctx, CLS_ERR_INVALID_VALUE, "%s: 2 x grad_scale = 2 x %g overflows float", fn,
                     (double)grad_scale);
  cl_kernel k;
  if ((s = cls__kernel(ctx, "loss", "mse", &k)) != CLS_OK) return s;
  cls_ref e = has_err ? err : pred, d = has_grad ? dpred : pred;
  cl_uint a = 0;
  if ((s = cls__arg_mem(ctx, k, a++, pred.buf)) || (s = cls__arg_uint(ctx, k, a++, pred.offset)) ||
      (s = cls__arg_mem(ctx, k, a++, target.buf)) || (s = cls__arg_uint(ctx, k, a++, target.offset)) ||
      (s = cls__arg_mem(ctx, k, a++, e.buf)) || (s = cls__arg_uint(ctx, k, a++, e.offset)) ||
      (s = cls__arg_int(ctx, k, a++, has_err)) || (s = cls__arg_mem(ctx, k, a++, d.buf)) ||
      (s = cls__arg_uint(ctx, k, a++, d.offset)) || (s = cls__arg_int(ctx, k, a++, has_grad)) ||
      (s = cls__arg_uint(ctx, k, a++, n)) || (s = cls__arg_float(ctx, k, a++, gs2)))
    return s;
  double fl = (1.0 + has_err + has_grad) * (double)n;
  double by = (2.0 + has_err + has_grad) * (double)n * sizeof(float);
  return cls__launch_map(ctx, "mse", k, n, fl, by);
}
