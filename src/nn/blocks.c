/* src/nn/blocks.c — the models' shared parts (see blocks_internal.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blocks_internal.h"
#include "device/layer.h"
#include "clscale/ops_train.h"

int cls__nn_model_init(cls__nn_model *m, cls_context *ctx, size_t depth, size_t layer_size) {
  m->ctx = ctx;
  m->res = calloc(depth + 1, sizeof *m->res);
  m->layer = calloc(depth, layer_size);
  return m->res && m->layer;
}

cls_status cls__nn_model_storage(cls__nn_model *m, uint64_t seed, size_t n_acts, const char *what) {
  return cls_model_storage_alloc(m->ctx, &m->pt, seed, n_acts, what, &m->slabs, &m->acts);
}

cls_status cls__nn_model_storage_models(cls__nn_model *m, size_t models, const uint64_t *seeds, size_t n_acts,
                                        const char *what) {
  return cls_model_storage_alloc_models(m->ctx, &m->pt, models, seeds, n_acts, what, &m->slabs, &m->acts);
}

/* Waits for a staging set's uploads (its memory is then free to reuse). */
static cls_status stage_wait(cls__nn_stage *st, int slot) {
  cls_status s = CLS_OK;
  for (int i = 0; i < CLS__NN_STAGE_WRITES; i++) {
    cls_status w = cls_transfer_wait(st->pending[slot][i]);
    st->pending[slot][i] = NULL;
    if (s == CLS_OK) s = w;
  }
  return s;
}

cls_status cls__nn_stage_begin(cls__nn_model *m, size_t n, float **out) {
  cls__nn_stage *st = &m->stage;
  st->slot ^= 1;
  CLS_NN_TRY(stage_wait(st, st->slot));
  if (st->cap[st->slot] < n) {
    float *grown = realloc(st->host[st->slot], n * sizeof *grown);
    if (!grown) return cls__fail(m->ctx, CLS_ERR_OUT_OF_MEMORY, "out of host memory staging %zu input floats", n);
    st->host[st->slot] = grown;
    st->cap[st->slot] = n;
  }
  *out = st->host[st->slot];
  return CLS_OK;
}

cls_status cls__nn_stage_write(cls__nn_model *m, size_t offset, size_t count, const float *src) {
  cls__nn_stage *st = &m->stage;
  for (int i = 0; i < CLS__NN_STAGE_WRITES; i++)
    if (!st->pending[st->slot][i])
      return cls_buffer_write_async(m->ctx, m->acts, offset, count, src, &st->pending[st->slot][i]);
  return cls__fail(m->ctx, CLS_ERR_INVALID_VALUE, "more than %d uploads staged in one forward pass",
                   CLS__NN_STAGE_WRITES);
}

void cls__nn_model_free(cls__nn_model *m) {
  /* Uploads still queued read the staging sets: wait before freeing. */
  stage_wait(&m->stage, 0);
  stage_wait(&m->stage, 1);
  free(m->stage.host[0]);
  free(m->stage.host[1]);
  cls_param_slabs_free(&m->slabs);
  cls_buffer_free(m->acts);
  cls_param_table_free(&m->pt);
  free(m->res);
  free(m->layer);
}

cls__nn_view cls__nn_model_view(const cls__nn_model *m) {
  cls__nn_view v = {m->ctx, &m->pt, &m->slabs, m->acts};
  return v;
}

cls_status cls__nn_linear(const cls__nn_model *m, size_t rows, size_t in, size_t out, cls_ref x, int w, cls_ref y,
                          int residual) {
  return cls_nn_linear(m->ctx, &m->pt, &m->slabs, rows, in, out, x, w, y, residual);
}

cls_status cls__nn_linear_back(const cls__nn_model *m, size_t rows, size_t in, size_t out, cls_ref x, int w,
                               cls_ref dy, cls_ref dx, int dx_acc) {
  return cls_nn_linear_back(m->ctx, &m->pt, &m->slabs, rows, in, out, x, w, dy, dx, dx_acc);
}

void cls__nn_scales_of(cls_parametrisation param, size_t width, size_t base_width, size_t heads, size_t depth,
                       float init_std, cls__nn_scales *out) {
  const int mup = param == CLS_PARAM_MUP || param == CLS_PARAM_MUP_DEPTH;
  const float m = mup ? (float)width / (float)base_width : 1.0f;
  out->m = m;
  out->hid_std = init_std / sqrtf(m);
  out->hid_lr = 1.0f / m;
  out->res_std = out->hid_std / sqrtf(2.0f * (float)depth);
  out->blk_lr = 1.0f;
  out->res_lr = out->hid_lr;
  out->res_b_lr = 1.0f;
  out->res_wd = 1.0f;
  if (param == CLS_PARAM_MUP_DEPTH) {
    /* The branch multiplier takes the place of GPT-2's 1/sqrt(2 L) init of
     * the residual matrices (both would shrink the branches twice). */
    const float a = 1.0f / sqrtf((float)depth);
    out->blk_lr = a;
    out->res_std = out->hid_std * a;
    out->res_lr = out->hid_lr * a * a;
    out->res_b_lr = a * a;
    out->res_wd = 1.0f / a;
  }
  const float dh = (float)(width / heads), base_dh = (float)(base_width / heads);
  out->attn_scale = mup ? sqrtf(base_dh) / dh : 1.0f / sqrtf(dh);
}

int cls__nn_add_mlp(cls_param_table *pt, size_t layer, size_t width, const cls__nn_scales *s, float wd) {
  const size_t d = width;
  char name[48];
  int ok = 1;
#define NAME(x) (snprintf(name, sizeof name, "h%zu.%s", layer, x), name)
  ok &= cls_param_add_ex(pt, NAME("mlp.fc.w"), d, 4 * d, CLS_PARAM_HIDDEN, CLS_INIT_NORMAL, s->hid_std, 0,
                         s->hid_lr * s->blk_lr, wd) >= 0;
  ok &= cls_param_add_ex(pt, NAME("mlp.fc.b"), 1, 4 * d, CLS_PARAM_INPUT, CLS_INIT_ZERO, 0, 0, s->blk_lr, 0) >= 0;
  /* fan-in 4 width: variance 1/fan_in keeps the same 1/m dependence. */
  ok &= cls_param_add_ex(pt, NAME("mlp.proj.w"), 4 * d, d, CLS_PARAM_HIDDEN, CLS_INIT_NORMAL, s->res_std, 0,
                         s->res_lr, wd * s->res_wd) >= 0;
  ok &= cls_param_add_ex(pt, NAME("mlp.proj.b"), 1, d, CLS_PARAM_INPUT, CLS_INIT_ZERO, 0, 0, s->res_b_lr, 0) >= 0;
#undef NAME
  return ok;
}

size_t cls__nn_take(size_t *at, size_t n) {
  const size_t off = *at;
  *at += (n + 15) / 16 * 16;
  return off;
}

int cls__nn_index(const cls_param_table *pt, const char *name) {
  for (size_t i = 0; i < pt->count; i++)
    if (!strcmp(pt->t[i].name, name)) return (int)i;
  return -1;
}

#define A(off) cls_ref_at(v->acts, (off))

static cls_status linear(const cls__nn_view *v, size_t rows, size_t in, size_t out, size_t x, int w, size_t y,
                         int residual) {
  return cls_nn_linear(v->ctx, v->pt, v->slabs, rows, in, out, A(x), w, A(y), residual);
}

static cls_status linear_back(const cls__nn_view *v, size_t rows, size_t in, size_t out, size_t x, int w,
                              size_t dy, size_t dx) {
  return cls_nn_linear_back(v->ctx, v->pt, v->slabs, rows, in, out, A(x), w, A(dy), A(dx), 0);
}

cls_status cls__nn_attn_out_forward(const cls__nn_view *v, size_t rows, size_t width, size_t res_in, size_t atty,
                                    int wo, size_t res_out) {
  CLS_NN_TRY(cls_buffer_copy(v->ctx, v->acts, res_in, v->acts, res_out, rows * width));
  return linear(v, rows, width, width, atty, wo, res_out, 1);
}

cls_status cls__nn_attn_out_backward(const cls__nn_view *v, size_t rows, size_t width, size_t atty, int wo,
                                     size_t dres, size_t datty) {
  return linear_back(v, rows, width, width, atty, wo, dres, datty);
}

cls_status cls__nn_mlp_forward(const cls__nn_view *v, size_t rows, size_t width, size_t in, int w_fc, size_t fc,
                               size_t fcg, size_t res_in, size_t res_out) {
  const size_t d = width;
  CLS_NN_TRY(cls_nn_linear_gelu(v->ctx, v->pt, v->slabs, rows, d, 4 * d, A(in), w_fc, A(fc), A(fcg)));
  CLS_NN_TRY(cls_buffer_copy(v->ctx, v->acts, res_in, v->acts, res_out, rows * d));
  return linear(v, rows, 4 * d, d, fcg, w_fc + 2, res_out, 1);
}

cls_status cls__nn_mlp_backward(const cls__nn_view *v, size_t rows, size_t width, size_t in, int w_fc, size_t fc,
                                size_t fcg, size_t dres, size_t dfc, size_t din) {
  const size_t d = width;
  CLS_NN_TRY(linear_back(v, rows, 4 * d, d, fcg, w_fc + 2, dres, dfc));
  return cls_nn_linear_gelu_back(v->ctx, v->pt, v->slabs, rows, d, 4 * d, A(in), w_fc, A(fc), A(dfc), A(dfc),
                                 A(din), 0);
}

cls_status cls__nn_residual_out_norm(const cls__nn_view *v, size_t rows, size_t in, size_t width, size_t x, int w,
                                     size_t scratch, size_t res_in, size_t res_out, const cls__nn_norm *norm) {
  const cls_tensor_desc *t = v->pt->t;
  cls_ref W = cls_ref_at(v->slabs->params, t[w].offset), b = cls_ref_at(v->slabs->params, t[w + 1].offset);
  cls_ref gain = cls_ref_at(v->slabs->params, t[norm->gain].offset);
  CLS_NN_TRY(cls_matmul(v->ctx, CLS_NO_TRANS, CLS_NO_TRANS, rows, width, in, 1.0f, A(x), in, W, width, 0.0f,
                        A(scratch), width));
  if (norm->shift < 0)
    return cls_residual_rmsnorm_forward(v->ctx, rows, width, norm->eps, A(res_in), A(scratch), b, A(res_out), gain,
                                        A(norm->y), A(norm->rstd));
  return cls_residual_layernorm_forward(v->ctx, rows, width, norm->eps, A(res_in), A(scratch), b, A(res_out), gain,
                                        cls_ref_at(v->slabs->params, t[norm->shift].offset), A(norm->y),
                                        A(norm->mean), A(norm->rstd));
}

cls_status cls__nn_residual_grad(const cls__nn_view *v, size_t n, size_t dres, size_t dbranch) {
  return cls_add_scaled(v->ctx, n, 1.0f, A(dres), 1.0f, A(dbranch), A(dres));
}

/* ------------------------------------------ K models side by side */

#define P(i)           cls_ref_at(v->slabs->params, v->pt->t[(i)].offset)
#define G(i)           cls_ref_at(v->slabs->grads, v->pt->t[(i)].offset)
#define AK(off, st, k) cls_ref_at(v->acts, (off) + (k) * (st))
#define PK(i, k)       cls_ref_at(v->slabs->params, v->pt->t[(i)].offset + (k)*v->S)
#define GK(i, k)       cls_ref_at(v->slabs->grads, v->pt->t[(i)].offset + (k)*v->S)

cls_status cls__nn_lin(const cls__nn_models *v, size_t rows, size_t in, size_t out, size_t x, size_t sx, int w,
                       size_t y, size_t sy, int residual) {
  const size_t K = v->K;
  return cls_matmul_models_bias(v->ctx, CLS_NO_TRANS, CLS_NO_TRANS, rows, out, in, 1.0f, A(x), in, sx, P(w), out,
                                v->S, residual ? 1.0f : 0.0f, A(y), out, sy, K, K, P(w + 1), v->S);
}

cls_status cls__nn_lin_gelu(const cls__nn_models *v, size_t rows, size_t in, size_t out, size_t x, size_t sx,
                            int w, size_t h, size_t y, size_t sy) {
  const size_t K = v->K;
  CLS_NN_TRY(cls_matmul_models(v->ctx, CLS_NO_TRANS, CLS_NO_TRANS, rows, out, in, 1.0f, A(x), in, sx, P(w), out,
                               v->S, 0.0f, A(h), out, sy, K, K));
  if (sy == rows * out) return cls_bias_gelu_forward_models(v->ctx, K, rows, out, P(w + 1), v->S, A(h), A(y));
  for (size_t k = 0; k < K; k++)
    CLS_NN_TRY(cls_bias_gelu_forward(v->ctx, rows, out, PK(w + 1, k), AK(h, sy, k), AK(y, sy, k)));
  return CLS_OK;
}

cls_status cls__nn_lin_back(const cls__nn_models *v, size_t rows, size_t in, size_t out, size_t x, size_t sx,
                            int w, size_t dy, size_t sdy, size_t dx, int dx_acc) {
  const size_t K = v->K;
  CLS_NN_TRY(cls_matmul_models(v->ctx, CLS_TRANS, CLS_NO_TRANS, in, out, rows, 1.0f, A(x), in, sx, A(dy), out, sdy,
                               1.0f, G(w), out, v->S, K, K));
  if (sdy == rows * out)
    CLS_NN_TRY(cls_bias_backward_models(v->ctx, K, rows, out, A(dy), G(w + 1), v->S, 1));
  else
    for (size_t k = 0; k < K; k++)
      CLS_NN_TRY(cls_bias_backward(v->ctx, rows, out, AK(dy, sdy, k), GK(w + 1, k), 1));
  if (dx == CLS__NN_NO_DX) return CLS_OK;
  return cls_matmul_models(v->ctx, CLS_NO_TRANS, CLS_TRANS, rows, in, out, 1.0f, A(dy), out, sdy, P(w), out, v->S,
                           dx_acc ? 1.0f : 0.0f, A(dx), in, sx, K, K);
}

cls_status cls__nn_lin_gelu_back(const cls__nn_models *v, size_t rows, size_t in, size_t out, size_t x, size_t sx,
                                 int w, size_t h, size_t dy, size_t dh, size_t sh, size_t dx, int dx_acc) {
  const size_t K = v->K;
  if (sh == rows * out)
    CLS_NN_TRY(cls_gelu_bias_backward_models(v->ctx, K, rows, out, A(h), A(dy), A(dh), G(w + 1), v->S, 1));
  else
    for (size_t k = 0; k < K; k++)
      CLS_NN_TRY(
          cls_gelu_bias_backward(v->ctx, rows, out, AK(h, sh, k), AK(dy, sh, k), AK(dh, sh, k), GK(w + 1, k), 1));
  CLS_NN_TRY(cls_matmul_models(v->ctx, CLS_TRANS, CLS_NO_TRANS, in, out, rows, 1.0f, A(x), in, sx, A(dh), out, sh,
                               1.0f, G(w), out, v->S, K, K));
  if (dx == CLS__NN_NO_DX) return CLS_OK;
  return cls_matmul_models(v->ctx, CLS_NO_TRANS, CLS_TRANS, rows, in, out, 1.0f, A(dh), out, sh, P(w), out, v->S,
                           dx_acc ? 1.0f : 0.0f, A(dx), in, sx, K, K);
}

#undef P
#undef G
#undef AK
#undef PK
#undef GK
#undef A
