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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "launch_internal.h"
#include "ops/ops_state.h"
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

/* The checks both entry points share: the four arrays and the norm. */
static cls_status check_arrays(cls_context *ctx, const char *fn, size_t n, int clip, cls_ref param, cls_ref grad,
                               cls_ref m, cls_ref v, cls_ref grad_sumsq, size_t nsq, float max_norm) {
  cls_status s;
  if ((s = cls__train_check_size(ctx, fn, "n", n))) return s;
  if (clip && !cls__train_present(grad_sumsq))
    return cls__fail(ctx, CLS_ERR_NULL_ARGUMENT,
                     "%s: max_norm is %g but grad_sumsq is CLS_NOREF; pass the buffer cls_sumsq_ranges filled, or "
                     "max_norm 0",
                     fn, (double)max_norm);
  if ((s = cls__train_check(ctx, fn, "param", param, n)) || (s = cls__train_check(ctx, fn, "grad", grad, n)) ||
      (s = cls__train_check(ctx, fn, "m", m, n)) || (s = cls__train_check(ctx, fn, "v", v, n)) ||
      (clip && (s = cls__train_check(ctx, fn, "grad_sumsq", grad_sumsq, nsq))))
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
      if (i != 1 && (s = cls__check_alias(ctx, fn, names[i], refs[i], n, "grad_sumsq", grad_sumsq, nsq, 0)))
        return s;
  return CLS_OK;
}

/* The arguments both AdamW kernels open with: the four arrays, n and
 * beta1, beta2, eps; *a is the next argument's index. */
static cls_status state_args(cls_context *ctx, cl_kernel k, cl_uint *a, size_t n, const cls_adamw_params *hp,
                             cls_ref param, cls_ref grad, cls_ref m, cls_ref v) {
  const cls_ref arrays[4] = {param, grad, m, v};
  cls_status s = CLS_OK;
  for (int i = 0; i < 4 && s == CLS_OK; i++)
    if ((s = cls__arg_mem(ctx, k, (*a)++, arrays[i].buf)) == CLS_OK)
      s = cls__arg_uint(ctx, k, (*a)++, arrays[i].offset);
  if (s || (s = cls__arg_uint(ctx, k, (*a)++, n)) || (s = cls__arg_float(ctx, k, (*a)++, hp->beta1)) ||
      (s = cls__arg_float(ctx, k, (*a)++, hp->beta2)))
    return s;
  return cls__arg_float(ctx, k, (*a)++, hp->eps);
}

cls_status cls_adamw_step(cls_context *ctx, size_t n, const cls_adamw_params *hp, cls_ref param, cls_ref grad,
                          cls_ref m, cls_ref v, cls_ref grad_sumsq) {
  static const char fn[] = "cls_adamw_step";
  CLS_CHECK_CTX(ctx);
  cls_status s;
  if ((s = check_params(ctx, fn, hp))) return s;
  int clip = hp->max_norm > 0;
  if ((s = check_arrays(ctx, fn, n, clip, param, grad, m, v, grad_sumsq, 1, hp->max_norm))) return s;

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
  if ((s = state_args(ctx, k, &a, n, hp, param, grad, m, v)) || (s = cls__arg_float(ctx, k, a++, decay)) ||
      (s = cls__arg_float(ctx, k, a++, step_size)) || (s = cls__arg_float(ctx, k, a++, inv_bc2)) ||
      (s = cls__arg_mem(ctx, k, a++, ss.buf)) || (s = cls__arg_uint(ctx, k, a++, ss.offset)) ||
      (s = cls__arg_float(ctx, k, a++, clip ? hp->max_norm : 0.0f)))
    return s;
  long vec = cls__param(ctx, "ELT_VEC", 16); /* parameters per work-item, as the kernel reads it */
  size_t items = (n + (size_t)(vec < 1 ? 1 : vec) - 1) / (size_t)(vec < 1 ? 1 : vec);
  /* Per parameter: clip scale, two moment updates (3 each), the square
   * root, division and update (about 8). Bytes: p, m, v read and written,
   * g read. */
  double nd = (double)n;
  return cls__launch_map(ctx, "adamw", k, items, 16.0 * nd, 7.0 * nd * sizeof(float));
}

/* The device's copy of the group table, uploaded when it differs from the
 * last one (a blocking write, once per run; steps reuse it). */
static cls_status group_table(cls_context *ctx, size_t count, const cls_adamw_group *groups, cls_buffer **out) {
  cls__ops_data *st = cls__ops_get(ctx);
  if (!st) return CLS_ERR_OUT_OF_MEMORY;
  const size_t words = 4 * count;
  unsigned *host = malloc(words * sizeof *host);
  if (!host) return cls__fail(ctx, CLS_ERR_OUT_OF_MEMORY, "cls_adamw_step_groups: out of host memory");
  for (size_t i = 0; i < count; i++) {
    host[4 * i] = (unsigned)groups[i].end;
    memcpy(&host[4 * i + 1], &groups[i].lr_mult, sizeof(float));
    memcpy(&host[4 * i + 2], &groups[i].weight_decay, sizeof(float));
    host[4 * i + 3] = 0;
  }
  if (st->adamw_tab && st->adamw_tab_words == words && !memcmp(st->adamw_tab_host, host, words * sizeof *host)) {
    free(host);
    *out = st->adamw_tab;
    return CLS_OK;
  }
  cls_status s = CLS_OK;
  if (!st->adamw_tab || cls_buffer_count(st->adamw_tab) < words) {
    cls_buffer_free(st->adamw_tab);
    st->adamw_tab = NULL;
    s = cls_buffer_alloc(ctx, words, &st->adamw_tab);
  }
  /* The table is floats to the buffer API; the bits are what counts. */
  if (s == CLS_OK) s = cls_buffer_write(ctx, st->adamw_tab, 0, words, (const float *)(const void *)host);
  free(st->adamw_tab_host);
  st->adamw_tab_host = NULL;
  st->adamw_tab_words = 0;
  if (s != CLS_OK) {
    free(host);
    return s;
  }
  st->adamw_tab_host = host;
  st->adamw_tab_words = words;
  *out = st->adamw_tab;
  return CLS_OK;
}

/* The group table's checks for a slab of n parameters at rate lr. */
static cls_status check_groups(cls_context *ctx, const char *fn, size_t n, float lr, size_t count,
                               const cls_adamw_group *groups) {
  if (!groups || !count)
    return cls__fail(ctx, groups ? CLS_ERR_INVALID_SIZE : CLS_ERR_NULL_ARGUMENT,
                     "%s: %s; pass at least one group, the last ending at n = %zu", fn,
                     groups ? "count is 0" : "groups is NULL", n);
  for (size_t i = 0; i < count; i++) {
    const cls_adamw_group *gr = &groups[i];
    const size_t start = i ? groups[i - 1].end : 0;
    if (gr->end <= start || gr->end > n || (i == count - 1 && gr->end != n))
      return cls__fail(
          ctx, CLS_ERR_INVALID_VALUE,
          "%s: groups[%zu].end is %zu; ends must increase strictly from above 0 and the last must be n "
          "= %zu",
          fn, i, gr->end, n);
    if (!(gr->lr_mult >= 0) || !isfinite(gr->lr_mult) || !(gr->weight_decay >= 0) || !isfinite(gr->weight_decay))
      return cls__fail(ctx, CLS_ERR_INVALID_VALUE,
                       "%s: groups[%zu] has lr_mult %g and weight_decay %g; both must be finite and >= 0", fn, i,
                       (double)gr->lr_mult, (double)gr->weight_decay);
    if ((double)lr * gr->lr_mult * gr->weight_decay > 1.0)
      return cls__fail(ctx, CLS_ERR_INVALID_VALUE,
                       "%s: groups[%zu]: lr x lr_mult x weight_decay = %g > 1 would flip the parameters' signs; "
                       "lower one of them",
                       fn, i, (double)lr * gr->lr_mult * gr->weight_decay);
  }
  if (count > 0x3fffffffu)
    return cls__fail(ctx, CLS_ERR_INVALID_SIZE, "%s: %zu groups is beyond the kernel's 32-bit table", fn, count);
  return CLS_OK;
}

cls_status cls_adamw_step_groups(cls_context *ctx, size_t n, const cls_adamw_params *hp, size_t count,
                                 const cls_adamw_group *groups, cls_ref param, cls_ref grad, cls_ref m, cls_ref v,
                                 cls_ref grad_sumsq) {
  static const char fn[] = "cls_adamw_step_groups";
  CLS_CHECK_CTX(ctx);
  cls_status s;
  if (hp) {
    cls_adamw_params base = *hp;
    base.weight_decay = 0; /* each group's is checked below */
    if ((s = check_params(ctx, fn, &base))) return s;
  } else if ((s = check_params(ctx, fn, hp))) {
    return s;
  }
  const int clip = hp->max_norm > 0;
  if ((s = check_arrays(ctx, fn, n, clip, param, grad, m, v, grad_sumsq, 1, hp->max_norm))) return s;
  if ((s = check_groups(ctx, fn, n, hp->lr, count, groups))) return s;
  cls_buffer *tab = NULL;
  if ((s = group_table(ctx, count, groups, &tab))) return s;

  double t = (double)hp->step;
  double bc1 = 1.0 - pow((double)hp->beta1, t), bc2 = 1.0 - pow((double)hp->beta2, t);
  float inv_bc1 = (float)(1.0 / bc1), inv_bc2 = (float)(1.0 / sqrt(bc2));
  cls_ref ss = clip ? grad_sumsq : grad; /* a valid buffer argument, unread without clipping */
  cl_kernel k;
  if ((s = cls__kernel(ctx, "adamw", "adamw_groups", &k)) != CLS_OK) return s;
  cl_uint a = 0;
  if ((s = state_args(ctx, k, &a, n, hp, param, grad, m, v)) || (s = cls__arg_float(ctx, k, a++, hp->lr)) ||
      (s = cls__arg_float(ctx, k, a++, inv_bc1)) || (s = cls__arg_float(ctx, k, a++, inv_bc2)) ||
      (s = cls__arg_mem(ctx, k, a++, ss.buf)) || (s = cls__arg_uint(ctx, k, a++, ss.offset)) ||
      (s = cls__arg_float(ctx, k, a++, clip ? hp->max_norm : 0.0f)) || (s = cls__arg_mem(ctx, k, a++, tab)) ||
      (s = cls__arg_uint(ctx, k, a++, 0)) || (s = cls__arg_uint(ctx, k, a++, count)))
    return s;
  long vec = cls__param(ctx, "ELT_VEC", 16);
  size_t items = (n + (size_t)(vec < 1 ? 1 : vec) - 1) / (size_t)(vec < 1 ? 1 : vec);
  double nd = (double)n;
  return cls__launch_map(ctx, "adamw_groups", k, items, 16.0 * nd, 7.0 * nd * sizeof(float));
}

/* The per-model words of a cls_adamw_step_models call on the device: 4 per
 * model (lr, 1 / bc1, 1 / sqrt(bc2), spare), queued without a host wait
 * into the half of the ring the previous call did not use. */
static cls_status model_args(cls_context *ctx, size_t models, const unsigned *words, cls_buffer **buf,
                             size_t *offset) {
  cls__ops_data *st = cls__ops_get(ctx);
  if (!st) return CLS_ERR_OUT_OF_MEMORY;
  cls_status s = CLS_OK;
  if (st->adamw_margs_cap < models) {
    /* Growing: both halves' uploads must be done before their host copies
     * and the buffer go (once per run, when the group first steps). */
    for (int i = 0; i < 2; i++) {
      cls_status w = cls_transfer_wait(st->adamw_margs_done[i]);
      st->adamw_margs_done[i] = NULL;
      if (s == CLS_OK) s = w;
      free(st->adamw_margs_host[i]);
      st->adamw_margs_host[i] = NULL;
    }
    cls_buffer_free(st->adamw_margs);
    st->adamw_margs = NULL;
    st->adamw_margs_cap = 0;
    if (s != CLS_OK) return s;
    for (int i = 0; i < 2; i++)
      if (!(st->adamw_margs_host[i] = malloc(4 * models * sizeof(unsigned))))
        return cls__fail(ctx, CLS_ERR_OUT_OF_MEMORY, "cls_adamw_step_models: out of host memory");
    if ((s = cls_buffer_alloc(ctx, 2 * 4 * models, &st->adamw_margs))) return s;
    st->adamw_margs_cap = models;
  }
  const int h = st->adamw_margs_half;
  s = cls_transfer_wait(st->adamw_margs_done[h]); /* queued a call ago: done or nearly */
  st->adamw_margs_done[h] = NULL;
  if (s != CLS_OK) return s;
  memcpy(st->adamw_margs_host[h], words, 4 * models * sizeof(unsigned));
  const size_t at = (size_t)h * 4 * st->adamw_margs_cap;
  /* The words are floats to the buffer API; the bits are what counts. */
  if ((s = cls_buffer_write_async(ctx, st->adamw_margs, at, 4 * models,
                                  (const float *)(const void *)st->adamw_margs_host[h], &st->adamw_margs_done[h])))
    return s;
  st->adamw_margs_half = h ^ 1;
  *buf = st->adamw_margs;
  *offset = at;
  return CLS_OK;
}

cls_status cls_adamw_step_models(cls_context *ctx, size_t models, size_t n, size_t stride,
                                 const cls_adamw_params *hp, const float *lr, const unsigned long *step,
                                 size_t count, const cls_adamw_group *groups, cls_ref param, cls_ref grad,
                                 cls_ref m, cls_ref v, cls_ref grad_sumsq) {
  static const char fn[] = "cls_adamw_step_models";
  CLS_CHECK_CTX(ctx);
  cls_status s;
  if (!hp || !lr || !step)
    return cls__fail(ctx, CLS_ERR_NULL_ARGUMENT, "%s: %s is NULL; pass %s", fn,
                     !hp   ? "hp"
                     : !lr ? "lr"
                           : "step",
                     !hp ? "one filled by cls_adamw_params_init" : "an array of one entry per model");
  if ((s = cls__train_check_size(ctx, fn, "models", models))) return s;
  if (stride < n)
    return cls__fail(ctx, CLS_ERR_INVALID_VALUE, "%s: stride %zu is below n %zu: the models' slabs would overlap",
                     fn, stride, n);
  if ((double)(models - 1) * (double)stride + (double)n > (double)UINT32_MAX)
    return cls__fail(ctx, CLS_ERR_INVALID_SIZE, "%s: %zu models of %zu floats %zu apart exceed 32-bit indexing",
                     fn, models, n, stride);
  for (size_t k = 0; k < models; k++) {
    cls_adamw_params base = *hp;
    base.weight_decay = 0; /* each group's is checked below */
    base.lr = lr[k];
    base.step = step[k];
    if ((s = check_params(ctx, fn, &base)) || (s = check_groups(ctx, fn, n, lr[k], count, groups))) {
      char why[200];
      snprintf(why, sizeof why, "%s", cls_last_error(ctx));
      return cls__fail(ctx, s, "model %zu: %s", k, why);
    }
  }
  const int clip = hp->max_norm > 0;
  const size_t nx = (models - 1) * stride + n;
  if ((s = check_arrays(ctx, fn, nx, clip, param, grad, m, v, grad_sumsq, models, hp->max_norm))) return s;
  cls_buffer *tab = NULL;
  if ((s = group_table(ctx, count, groups, &tab))) return s;
  /* Each model's constants folded in double as cls_adamw_step_groups does
   * for one, so every model gets the bits it would get alone. */
  unsigned *words = malloc(4 * models * sizeof *words);
  if (!words) return cls__fail(ctx, CLS_ERR_OUT_OF_MEMORY, "%s: out of host memory", fn);
  for (size_t k = 0; k < models; k++) {
    double t = (double)step[k];
    double bc1 = 1.0 - pow((double)hp->beta1, t), bc2 = 1.0 - pow((double)hp->beta2, t);
    float f[3] = {lr[k], (float)(1.0 / bc1), (float)(1.0 / sqrt(bc2))};
    memcpy(&words[4 * k], f, sizeof f);
    words[4 * k + 3] = 0;
  }
  cls_buffer *margs = NULL;
  size_t ao = 0;
  s = model_args(ctx, models, words, &margs, &ao);
  free(words);
  if (s != CLS_OK) return s;

  long vec = cls__param(ctx, "ELT_VEC", 16);
  const size_t ipm = (n + (size_t)(vec < 1 ? 1 : vec) - 1) / (size_t)(vec < 1 ? 1 : vec);
  if ((double)ipm * (double)models > (double)UINT32_MAX)
    return cls__fail(ctx, CLS_ERR_INVALID_SIZE, "%s: %zu models of %zu parameters exceed 32-bit work-item ids", fn,
                     models, n);
  cls_ref ss = clip ? grad_sumsq : grad; /* a valid buffer argument, unread without clipping */
  cl_kernel k;
  if ((s = cls__kernel(ctx, "adamw", "adamw_models", &k)) != CLS_OK) return s;
  cl_uint a = 0;
  if ((s = state_args(ctx, k, &a, n, hp, param, grad, m, v)) || (s = cls__arg_uint(ctx, k, a++, stride)) ||
      (s = cls__arg_uint(ctx, k, a++, ipm)) || (s = cls__arg_uint(ctx, k, a++, models)) ||
      (s = cls__arg_mem(ctx, k, a++, ss.buf)) || (s = cls__arg_uint(ctx, k, a++, ss.offset)) ||
      (s = cls__arg_float(ctx, k, a++, clip ? hp->max_norm : 0.0f)) || (s = cls__arg_mem(ctx, k, a++, tab)) ||
      (s = cls__arg_uint(ctx, k, a++, 0)) || (s = cls__arg_uint(ctx, k, a++, count)) ||
      (s = cls__arg_mem(ctx, k, a++, margs)) || (s = cls__arg_uint(ctx, k, a++, ao)))
    return s;
  double nd = (double)n * (double)models;
  return cls__launch_map(ctx, "adamw_models", k, ipm * models, 16.0 * nd, 7.0 * nd * sizeof(float));
}
