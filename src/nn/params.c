/* src/nn/params.c — see params.h. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "device/layer.h"
#include "nn/params.h"

/* Tensors start on 64-byte boundaries so kernels may load whole vectors. */
#define CLS_PARAM_ALIGN 16

int cls_param_add(cls_param_table *pt, const char *name, size_t rows, size_t cols, cls_param_class klass,
                  cls_init_kind init, float std, int is_embedding) {
  if (pt->count == pt->cap) {
    size_t cap = pt->cap ? 2 * pt->cap : 32;
    cls_tensor_desc *t = realloc(pt->t, cap * sizeof *t);
    if (!t) return -1;
    pt->t = t;
    pt->cap = cap;
  }
  cls_tensor_desc *d = &pt->t[pt->count];
  memset(d, 0, sizeof *d);
  snprintf(d->name, sizeof d->name, "%s", name);
  d->rows = rows;
  d->cols = cols;
  d->offset = pt->total;
  d->klass = klass;
  d->init = init;
  d->std = std;
  d->lr_mult = 1.0f;
  d->is_embedding = is_embedding;
  pt->total += (rows * cols + CLS_PARAM_ALIGN - 1) / CLS_PARAM_ALIGN * CLS_PARAM_ALIGN;
  return (int)pt->count++;
}

int cls_param_add_ex(cls_param_table *pt, const char *name, size_t rows, size_t cols, cls_param_class klass,
                     cls_init_kind init, float std, int is_embedding, float lr_mult, float weight_decay) {
  int i = cls_param_add(pt, name, rows, cols, klass, init, std, is_embedding);
  if (i >= 0) {
    pt->t[i].lr_mult = lr_mult;
    pt->t[i].weight_decay = weight_decay;
  }
  return i;
}

void cls_param_table_free(cls_param_table *pt) {
  free(pt->t);
  memset(pt, 0, sizeof *pt);
}

size_t cls_param_count(const cls_param_table *pt, int with_embeddings) {
  size_t n = 0;
  for (size_t i = 0; i < pt->count; i++)
    if (with_embeddings || !pt->t[i].is_embedding) n += pt->t[i].rows * pt->t[i].cols;
  return n;
}

void cls_param_slabs_free(cls_param_slabs *s) {
  cls_buffer_free(s->params);
  cls_buffer_free(s->grads);
  cls_buffer_free(s->m);
  cls_buffer_free(s->v);
  cls_buffer_free(s->grad_sumsq);
  memset(s, 0, sizeof *s);
}

cls_status cls_param_slabs_alloc(cls_context *ctx, const cls_param_table *pt, cls_param_slabs *s) {
  return cls_param_slabs_alloc_models(ctx, pt, 1, s);
}

cls_status cls_param_slabs_alloc_models(cls_context *ctx, const cls_param_table *pt, size_t models,
                                        cls_param_slabs *s) {
  memset(s, 0, sizeof *s);
  if (pt->total == 0) return cls__fail(ctx, CLS_ERR_INVALID_SIZE, "a model without parameters");
  if (!models || (double)models * (double)pt->total >= 4294967296.0)
    return cls__fail(ctx, CLS_ERR_INVALID_SIZE,
                     "%zu models of %zu parameters each: need at least 1, and below 2^32 floats in all (train "
                     "fewer models side by side)",
                     models, pt->total);
  const size_t n = models * pt->total;
  cls_status st = cls_buffer_alloc(ctx, n, &s->params);
  if (st == CLS_OK) st = cls_buffer_alloc(ctx, n, &s->grads);
  if (st == CLS_OK) st = cls_buffer_alloc(ctx, n, &s->m);
  if (st == CLS_OK) st = cls_buffer_alloc(ctx, n, &s->v);
  /* One norm per model: the models' AdamW step clips each by its own. */
  if (st == CLS_OK) st = cls_buffer_alloc(ctx, models, &s->grad_sumsq);
  if (st == CLS_OK) st = cls_buffer_fill(ctx, s->grads, 0, n, 0.0f);
  if (st == CLS_OK) st = cls_buffer_fill(ctx, s->m, 0, n, 0.0f);
  if (st == CLS_OK) st = cls_buffer_fill(ctx, s->v, 0, n, 0.0f);
  if (st == CLS_OK) st = cls_buffer_fill(ctx, s->grad_sumsq, 0, models, 0.0f);
  if (st != CLS_OK) cls_param_slabs_free(s);
  return st;
}

cls_status cls_param_init(cls_context *ctx, const cls_param_table *pt, uint64_t seed, cls_param_slabs *s) {
  return cls_param_init_at(ctx, pt, seed, s, 0);
}

cls_status cls_param_init_at(cls_context *ctx, const cls_param_table *pt, uint64_t seed, cls_param_slabs *s,
                             size_t base) {
  float *host = calloc(pt->total, sizeof *host);
  if (!host)
    return cls__fail(ctx, CLS_ERR_OUT_OF_MEMORY, "cls_param_init: out of host memory (%zu floats)", pt->total);
  for (size_t i = 0; i < pt->count; i++) {
    const cls_tensor_desc *d = &pt->t[i];
    float *x = host + d->offset;
    size_t n = d->rows * d->cols;
    /* Stream 0x1000 + i: one stream per tensor, clear of the data layer's. */
    cls_rng r = cls_rng_make(seed, 0x1000u + (uint32_t)i);
    for (size_t j = 0; j < n; j++)
      x[j] = d->init == CLS_INIT_ONE    ? 1.0f
             : d->init == CLS_INIT_ZERO ? 0.0f
                                        : (float)(d->std * cls_rng_normal(r, j, 0));
  }
  cls_status st = cls_buffer_write(ctx, s->params, base, pt->total, host);
  free(host);
  return st;
}

cls_status cls_model_storage_alloc(cls_context *ctx, const cls_param_table *pt, uint64_t seed, size_t n_acts,
                                   const char *what, cls_param_slabs *slabs, cls_buffer **acts) {
  return cls_model_storage_alloc_models(ctx, pt, 1, &seed, n_acts, what, slabs, acts);
}

cls_status cls_model_storage_alloc_models(cls_context *ctx, const cls_param_table *pt, size_t models,
                                          const uint64_t *seeds, size_t n_acts, const char *what,
                                          cls_param_slabs *slabs, cls_buffer **acts) {
  *acts = NULL;
  memset(slabs, 0, sizeof *slabs);
  if ((double)n_acts >= 4294967296.0)
    return cls__fail(ctx, CLS_ERR_INVALID_SIZE,
                     "%s: the activations take %zu floats, beyond the 2^32 one slab can address: use a smaller "
                     "batch per step",
                     what, n_acts);
  cls_status st = cls_param_slabs_alloc_models(ctx, pt, models, slabs);
  for (size_t k = 0; k < models && st == CLS_OK; k++)
    st = cls_param_init_at(ctx, pt, seeds[k], slabs, k * pt->total);
  if (st == CLS_OK) st = cls_buffer_alloc(ctx, n_acts, acts);
  if (st != CLS_OK) {
    cls_param_slabs_free(slabs);
    *acts = NULL;
  }
  return st;
}

cls_status cls_param_zero_grads(cls_context *ctx, const cls_param_table *pt, cls_param_slabs *s) {
  return cls_buffer_fill(ctx, s->grads, 0, pt->total, 0.0f);
}

cls_status cls_param_adamw(cls_context *ctx, const cls_param_table *pt, cls_param_slabs *s, float lr, float beta1,
                           float beta2, float eps, unsigned long step, float max_norm) {
  return cls_param_adamw_at(ctx, pt, s, 0, lr, beta1, beta2, eps, step, max_norm);
}

/* The slab's AdamW groups: one per run of tensors with the same rate
 * multiplier and decay, each reaching to the next tensor's start (the
 * padding between tensors is zero in all four slabs and stays zero). NULL
 * with the message set when host memory runs out. */
static cls_adamw_group *adamw_groups(cls_context *ctx, const cls_param_table *pt, size_t *out_count) {
  cls_adamw_group *groups = malloc((pt->count ? pt->count : 1) * sizeof *groups);
  if (!groups) {
    cls__fail(ctx, CLS_ERR_OUT_OF_MEMORY, "cls_param_adamw: out of host memory");
    return NULL;
  }
  size_t count = 0;
  for (size_t i = 0; i < pt->count; i++) {
    const cls_tensor_desc *d = &pt->t[i];
    const size_t end = i + 1 < pt->count ? pt->t[i + 1].offset : pt->total;
    if (count && groups[count - 1].lr_mult == d->lr_mult && groups[count - 1].weight_decay == d->weight_decay) {
      groups[count - 1].end = end;
      continue;
    }
    groups[count].end = end;
    groups[count].lr_mult = d->lr_mult;
    groups[count].weight_decay = d->weight_decay;
    count++;
  }
  *out_count = count;
  return groups;
}

/* One AdamW step of `models` models side by side from float `base` of the
 * slabs (model k at base + k x pt->total), model k at lr[k] and step[k]:
 * cls_param_adamw_at's and cls_param_adamw_models' body. */
static cls_status adamw_models_at(cls_context *ctx, const char *fn, const cls_param_table *pt, cls_param_slabs *s,
                                  size_t base, size_t models, const float *lr, float beta1, float beta2, float eps,
                                  const unsigned long *step, float max_norm) {
  if (!models || !s->params || cls_buffer_count(s->params) < base + models * pt->total ||
      cls_buffer_count(s->grad_sumsq) < models)
    return cls__fail(ctx, CLS_ERR_INVALID_SIZE,
                     "%s: %zu models from float %zu do not fit the slabs; allocate them with "
                     "cls_param_slabs_alloc_models for at least that many",
                     fn, models, base);
  cls_status st = CLS_OK;
  /* Each model's whole gradient slab as one range (its padding is zero),
   * cut into chunks and added in the order cls_sumsq_ranges uses for it
   * alone. */
  if (max_norm > 0)
    st = cls_reduce_models(ctx, CLS_REDUCE_SUMSQ, models, pt->total, cls_ref_at(s->grads, base), pt->total, 1.0f,
                           cls_ref_at(s->grad_sumsq, 0));
  if (st != CLS_OK) return st;
  size_t count = 0;
  cls_adamw_group *groups = adamw_groups(ctx, pt, &count);
  if (!groups) return CLS_ERR_OUT_OF_MEMORY;
  cls_adamw_params hp;
  cls_adamw_params_init(&hp);
  hp.beta1 = beta1;
  hp.beta2 = beta2;
  hp.eps = eps;
  hp.max_norm = max_norm;
  st = cls_adamw_step_models(ctx, models, pt->total, pt->total, &hp, lr, step, count, groups,
                             cls_ref_at(s->params, base), cls_ref_at(s->grads, base), cls_ref_at(s->m, base),
                             cls_ref_at(s->v, base), max_norm > 0 ? cls_ref_at(s->grad_sumsq, 0) : CLS_NOREF);
  free(groups);
  return st;
}

cls_status cls_param_adamw_at(cls_context *ctx, const cls_param_table *pt, cls_param_slabs *s, size_t base,
                              float lr, float beta1, float beta2, float eps, unsigned long step, float max_norm) {
  /* The models form of one model gives the bits of cls_adamw_step_groups
   * (tests/test_adamw.c) in as many launches; its per-model words go up by
   * a non-blocking write. */
  return adamw_models_at(ctx, "cls_param_adamw_at", pt, s, base, 1, &lr, beta1, beta2, eps, &step, max_norm);
}

cls_status cls_param_adamw_models(cls_context *ctx, const cls_param_table *pt, cls_param_slabs *s, size_t models,
                                  const float *lr, float beta1, float beta2, float eps, const unsigned long *step,
                                  float max_norm) {
  return adamw_models_at(ctx, "cls_param_adamw_models", pt, s, 0, models, lr, beta1, beta2, eps, step, max_norm);
}

cls_status cls_nn_linear(cls_context *ctx, const cls_param_table *pt, const cls_param_slabs *s, size_t rows,
                         size_t in, size_t out, cls_ref x, int w, cls_ref y, int residual) {
  cls_ref W = cls_ref_at(s->params, pt->t[w].offset), b = cls_ref_at(s->params, pt->t[w + 1].offset);
  return cls_matmul_models_bias(ctx, CLS_NO_TRANS, CLS_NO_TRANS, rows, out, in, 1.0f, x, in, 0, W, out, 0,
                                residual ? 1.0f : 0.0f, y, out, 0, 1, 1, b, 0);
}

cls_status cls_nn_linear_back(cls_context *ctx, const cls_param_table *pt, const cls_param_slabs *s, size_t rows,
                              size_t in, size_t out, cls_ref x, int w, cls_ref dy, cls_ref dx, int dx_acc) {
  cls_ref W = cls_ref_at(s->params, pt->t[w].offset);
  cls_ref dW = cls_ref_at(s->grads, pt->t[w].offset), db = cls_ref_at(s->grads, pt->t[w + 1].offset);
  cls_status st = cls_matmul(ctx, CLS_TRANS, CLS_NO_TRANS, in, out, rows, 1.0f, x, in, dy, out, 1.0f, dW, out);
  if (st == CLS_OK) st = cls_bias_backward(ctx, rows, out, dy, db, 1);
  if (st != CLS_OK || !dx.buf) return st;
  return cls_matmul(ctx, CLS_NO_TRANS, CLS_TRANS, rows, in, out, 1.0f, dy, out, W, out, dx_acc ? 1.0f : 0.0f, dx,
                    in);
}

cls_status cls_nn_linear_gelu(cls_context *ctx, const cls_param_table *pt, const cls_param_slabs *s, size_t rows,
                              size_t in, size_t out, cls_ref x, int w, cls_ref h, cls_ref y) {
  cls_ref W = cls_ref_at(s->params, pt->t[w].offset), b = cls_ref_at(s->params, pt->t[w + 1].offset);
  cls_status st = cls_matmul(ctx, CLS_NO_TRANS, CLS_NO_TRANS, rows, out, in, 1.0f, x, in, W, out, 0.0f, h, out);
  return st == CLS_OK ? cls_bias_gelu_forward(ctx, rows, out, b, h, y) : st;
}

cls_status cls_nn_linear_gelu_back(cls_context *ctx, const cls_param_table *pt, const cls_param_slabs *s,
                                   size_t rows, size_t in, size_t out, cls_ref x, int w, cls_ref h, cls_ref dy,
                                   cls_ref dh, cls_ref dx, int dx_acc) {
  cls_ref W = cls_ref_at(s->params, pt->t[w].offset);
  cls_ref dW = cls_ref_at(s->grads, pt->t[w].offset), db = cls_ref_at(s->grads, pt->t[w + 1].offset);
  cls_status st = cls_gelu_bias_backward(ctx, rows, out, h, dy, dh, db, 1);
  if (st == CLS_OK)
    st = cls_matmul(ctx, CLS_TRANS, CLS_NO_TRANS, in, out, rows, 1.0f, x, in, dh, out, 1.0f, dW, out);
  if (st != CLS_OK || !dx.buf) return st;
  return cls_matmul(ctx, CLS_NO_TRANS, CLS_TRANS, rows, in, out, 1.0f, dh, out, W, out, dx_acc ? 1.0f : 0.0f, dx,
                    in);
}

const char *cls_parametrisation_name(cls_parametrisation p) {
  return p == CLS_PARAM_SP ? "sp" : p == CLS_PARAM_MUP ? "mup" : p == CLS_PARAM_MUP_DEPTH ? "mup-depth" : NULL;
}

int cls_parametrisation_parse(const char *name, cls_parametrisation *out) {
  static const cls_parametrisation all[] = {CLS_PARAM_SP, CLS_PARAM_MUP, CLS_PARAM_MUP_DEPTH};
  for (size_t i = 0; name && i < sizeof all / sizeof all[0]; i++)
    if (!strcmp(name, cls_parametrisation_name(all[i]))) {
      *out = all[i];
      return 1;
    }
  return 0;
}
