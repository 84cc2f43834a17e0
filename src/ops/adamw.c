/*
 * src/ops/adamw.c — AdamW with decoupled weight decay and clipping by
 * global norm without a host sync (kernel in cl/adamw.cl).
 *
 * Errors: as listed at the top of include/clscale/ops_train.h, all checked
 * before anything is enqueued; also CLS_ERR_NULL_ARGUMENT for a NULL hp or,
 * with max_norm > 0, a missing grad_sumsq; CLS_ERR_INVALID_VALUE for lr < 0
 * or NaN, betas outside [0, 1), eps <= 0, weight_decay < 0, a non-finite
 * scalar, step 0, lr * weight_decay > 1 (the decay would flip signs).
 */
#include <math.h>
#include <stdint.h>

#include "launch_internal.h"
#include "ops/train_ref.h"

void cls_adamw_params_init(cls_adamw_params *p) {
  if (!p) return;
  p->lr = 1e-3f;
  p->beta1 = 0.9f;
  p->beta2 = 0.999f;
  p->eps = 1e-8f;
  p->weight_decay = 0.01f;
  p->step = 1;
  p->max_norm = 0.0f;
}

static cls_status check_params(cls_context *ctx, const char *fn, const cls_adamw_params *hp) {
  if (!hp) return cls__fail(ctx, CLS_ERR_NULL_ARGUMENT, "%s: hp is NULL; fill one with cls_adamw_params_init", fn);
  if (!(hp->lr >= 0) || !isfinite(hp->lr))
    return cls__fail(ctx, CLS_ERR_INVALID_VALUE, "%s: lr is %g; pass a finite learning rate >= 0", fn,
                     (double)hp->lr);
  if (!(hp->beta1 >= 0 && hp->beta1 < 1))
    return cls__fail(ctx, CLS_ERR_INVALID_VALUE, "%s: beta1 is %g; it must be in [0, 1), e.g. 0.9", fn,
                     (double)hp->beta1);
  if (!(hp->beta2 >= 0 && hp->beta2 < 1))
    return cls__fail(ctx, CLS_ERR_INVALID_VALUE, "%s: beta2 is %g; it must be in [0, 1), e.g. 0.999", fn,
                     (double)hp->beta2);
  if (!(hp->eps > 0) || !isfinite(hp->eps))
    return cls__fail(ctx, CLS_ERR_INVALID_VALUE, "%s: eps is %g; pass a small positive number such as 1e-8", fn,
                     (double)hp->eps);
  if (!(hp->weight_decay >= 0) || !isfinite(hp->weight_decay))
    return cls__fail(ctx, CLS_ERR_INVALID_VALUE, "%s: weight_decay is %g; pass a finite value >= 0 (0 for none)",
                     fn, (double)hp->weight_decay);
  if ((double)hp->lr * hp->weight_decay > 1.0)
    return cls__fail(ctx, CLS_ERR_INVALID_VALUE,
                     "%s: lr x weight_decay = %g > 1 would flip the parameters' signs; lower one of them", fn,
                     (double)hp->lr * hp->weight_decay);
  if (hp->step == 0)
    return cls__fail(ctx, CLS_ERR_INVALID_VALUE, "%s: step is 0; steps count from 1 (bias correction)", fn);
  if (isnan(hp->max_norm) || isinf(hp->max_norm))
    return cls__fail(ctx, CLS_ERR_INVALID_VALUE,
                     "%s: max_norm is %g; pass a finite value (<= 0 disables clipping)", fn, (double)hp->max_norm);
  return CLS_OK;
}

cls_status cls_adamw_step(cls_context *ctx, size_t n, const cls_adamw_params *hp, cls_ref param, cls_ref grad,
                          cls_ref m, cls_ref v, cls_ref grad_sumsq) {
  static const char fn[] = "cls_adamw_step";
  CLS_CHECK_CTX(ctx);
  cls_status s;
  if ((s = check_params(ctx, fn, hp)) || (s = cls__train_check_size(ctx, fn, "n", n))) return s;
  int clip = hp->max_norm > 0;
  if (clip && !cls__train_present(grad_sumsq))
    return cls__fail(ctx, CLS_ERR_NULL_ARGUMENT,
                     "%s: max_norm is %g but grad_sumsq is CLS_NOREF; pass the buffer cls_sumsq_ranges filled, or "
                     "max_norm 0",
                     fn, (double)hp->max_norm);
  if ((s = cls__train_check(ctx, fn, "param", param, n)) || (s = cls__train_check(ctx, fn, "grad", grad, n)) ||
      (s = cls__train_check(ctx, fn, "m", m, n)) || (s = cls__train_check(ctx, fn, "v", v, n)) ||
      (clip && (s = cls__train_check(ctx, fn, "grad_sumsq", grad_sumsq, 1))))
    return s;
  /* The four arrays are updated element by element from each other, so
   * any overlap would mix parameters; the norm buffer is read by every
   * work-item and must not be written by any. */
  const char *names[4] = {"param", "grad", "m", "v"};
  cls_ref refs[4] = {param, grad, m, v};
  for (int i = 0; i < 4; i++)
    for (int j = i + 1; j < 4; j++)
      if ((s = cls__check_alias(ctx, fn, names[i], refs[i], n, names[j], refs[j], n, 0)) != CLS_OK) return s;
  if (clip)
    for (int i = 0; i < 4; i++)
      if (i != 1 && (s = cls__check_alias(ctx, fn, names[i], refs[i], n, "grad_sumsq", grad_sumsq, 1, 0)))
        return s;

  /* Constants in double, as PyTorch folds them on the host. */
  double t = (double)hp->step;
  double bc1 = 1.0 - pow((double)hp->beta1, t), bc2 = 1.0 - pow((double)hp->beta2, t);
  float decay = (float)(1.0 - (double)hp->lr * hp->weight_decay);
  float step_size = (float)((double)hp->lr / bc1);
  float inv_bc2 = (float)(1.0 / sqrt(bc2));
  cls_ref ss = clip ? grad_sumsq : grad; /* a valid buffer argument, unread without clipping */

  cl_kernel k;
  if ((s = cls__kernel(ctx, "adamw", "adamw_step", &k)) != CLS_OK) return s;
  cl_uint a = 0;
  if ((s = cls__arg_mem(ctx, k, a++, param.buf)) || (s = cls__arg_uint(ctx, k, a++, param.offset)) ||
      (s = cls__arg_mem(ctx, k, a++, grad.buf)) || (s = cls__arg_uint(ctx, k, a++, grad.offset)) ||
      (s = cls__arg_mem(ctx, k, a++, m.buf)) || (s = cls__arg_uint(ctx, k, a++, m.offset)) ||
      (s = cls__arg_mem(ctx, k, a++, v.buf)) || (s = cls__arg_uint(ctx, k, a++, v.offset)) ||
      (s = cls__arg_uint(ctx, k, a++, n)) || (s = cls__arg_float(ctx, k, a++, hp->beta1)) ||
      (s = cls__arg_float(ctx, k, a++, hp->beta2)) || (s = cls__arg_float(ctx, k, a++, hp->eps)) ||
      (s = cls__arg_float(ctx, k, a++, decay)) || (s = cls__arg_float(ctx, k, a++, step_size)) ||
      (s = cls__arg_float(ctx, k, a++, inv_bc2)) || (s = cls__arg_mem(ctx, k, a++, ss.buf)) ||
      (s = cls__arg_uint(ctx, k, a++, ss.offset)) || (s = cls__arg_float(ctx, k, a++, clip ? hp->max_norm : 0.0f)))
    return s;
  long vec = cls__param(ctx, "ELT_VEC", 16); /* parameters per work-item, as the kernel reads it */
  size_t items = (n + (size_t)(vec < 1 ? 1 : vec) - 1) / (size_t)(vec < 1 ? 1 : vec);
  /* Per parameter: clip scale, two moment updates (3 each), the square
   * root, division and update (about 8). Bytes: p, m, v read and written,
   * g read. */
  double nd = (double)n;
  return cls__launch_map(ctx, "adamw", k, items, 16.0 * nd, 7.0 * nd * sizeof(float));
}
