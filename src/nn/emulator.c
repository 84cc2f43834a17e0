/*
 * src/nn/emulator.c — the spectral emulator on the dispatch layer (see
 * emulator.h and docs/emulator.md).
 *
 * Written like gpt.c: the parameter table, the activation table, the
 * forward pass and the backward pass, each as the sequence of ops it is.
 * Weights are stored (in x out), so a linear layer is x W + b.
 *
 * Two row spaces: the wavelength stream has R = B*P rows (pixel k of
 * spectrum b is row b*P + k) and the label tokens B*T rows (token t of
 * spectrum b is row b*T + t). The label MLP's output, B x (T d), is the
 * same memory as (B*T) x d, so the reshape into tokens is free.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blocks_internal.h"
#include "device/layer.h"
#include "nn/emulator.h"
#include "emulator_internal.h"

/* Indices of one block's tensors, from the block's first. */
enum { N1G, QW, QB, KVW, KVB, OW, OB, N2G, FCW, FCB, FPW, FPB, PER_LAYER };

#define EMU_EPS 1e-5f /* RMSNorm epsilon, everywhere */

/* Activations of one block, as offsets into the activation slab. */
typedef struct {
  size_t n1, n1_rstd, q, kv, probs, atty, res2, n2, n2_rstd, fch, fcg;
} layer_acts;

struct cls_emulator {
  cls__nn_model m; /* table, slabs, activation slab, res[L + 1], layer[L] */
  cls_emulator_config c;
  size_t max_spectra, max_pixels;
  int wl, lab_fc, lab_proj, tok_g, layer0, head_g, head_fc, head_out; /* table indices */
  float attn_scale;

  /* Activations: offsets into m.acts. */
  size_t labels, feats, target;                /* inputs */
  size_t lab_h, lab_g, tok, tokn, tok_rstd;    /* label tokens */
  layer_acts *layer;                           /* blocks: m.layer, typed */
  size_t hn, hn_rstd, hh, hg, pred, err, loss; /* head and loss */
  /* Backward scratch. */
  size_t dpred, dres, dln, dtmp, dq, datty, dfch, dkv, dtokn, dtok, dlab, dprobs;

  size_t B, P; /* of the last forward */
  int have_grad, have_flux;

  /* Models side by side (cls_emulator_create_models): K of them, model k's
   * tensors at k x S of each slab and its part of every activation at
   * k x that activation's stride below (the activation's size for the
   * largest batch, rounded up to 16 floats; the loss is K floats in a row).
   * `active` models (the first ones) ran the last forward pass. */
  size_t K, S, active;
  size_t s_lab, s_feat, s_R, s_BHm, s_BTd, s_BT, s_Rd, s_kv, s_probs, s_R4d;
};

void cls_emulator_config_default(cls_emulator_config *c) {
  c->n_labels = 4;
  c->n_freq = 32;
  c->label_hidden = 128;
  c->n_tokens = 16;
  c->width = 128;
  c->depth = 4;
  c->heads = 4;
  c->param = CLS_PARAM_SP;
  c->base_width = 128;
  c->init_std = 0.02f;
  c->weight_decay = 0.1f;
  c->lambda_min = 5000.0;
  c->lambda_max = 5800.0;
  c->period_min = 1e-3;
  c->period_max = 2.0;
}

cls_status cls_emulator_config_check(const cls_emulator_config *c, char *err, size_t n) {
  if (!c) return CLS_ERR_NULL_ARGUMENT;
  if (!c->width || !c->depth || !c->heads || !c->n_tokens) {
    snprintf(err, n, "width, depth, heads and n_tokens must all be at least 1 (got %zu, %zu, %zu, %zu)", c->width,
             c->depth, c->heads, c->n_tokens);
    return CLS_ERR_INVALID_SIZE;
  }
  if (!c->n_labels || !c->n_freq || !c->label_hidden) {
    snprintf(err, n, "n_labels, n_freq and label_hidden must all be at least 1 (got %zu, %zu, %zu)", c->n_labels,
             c->n_freq, c->label_hidden);
    return CLS_ERR_INVALID_SIZE;
  }
  /* Far beyond any sensible model; keeps every product below size_t and
   * every operand below the ops' 2^31-float limit. */
  if (c->width > 65536 || c->depth > 4096 || c->n_tokens > 65536 || c->n_labels > 65536 || c->n_freq > 65536 ||
      c->label_hidden > 65536 || c->n_tokens * c->width > (1u << 26)) {
    snprintf(err, n,
             "a size is out of range: width, n_tokens, n_labels, n_freq and label_hidden at most 65536, "
             "depth at most 4096, n_tokens x width at most 2^26");
    return CLS_ERR_INVALID_SIZE;
  }
  if (c->width % c->heads) {
    snprintf(err, n, "width %zu is not divisible by heads %zu: choose a width that is a multiple of the heads",
             c->width, c->heads);
    return CLS_ERR_INVALID_VALUE;
  }
  if (!cls_parametrisation_name(c->param)) {
    snprintf(err, n, "unknown parametrisation %d: use sp, mup or mup-depth", (int)c->param);
    return CLS_ERR_INVALID_VALUE;
  }
  if (c->param != CLS_PARAM_SP && (!c->base_width || c->base_width % c->heads)) {
    snprintf(err, n, "muP needs a base width that is a positive multiple of heads %zu (got %zu)", c->heads,
             c->base_width);
    return CLS_ERR_INVALID_VALUE;
  }
  if (!(c->init_std > 0) || !isfinite(c->init_std) || !(c->weight_decay >= 0) || !isfinite(c->weight_decay)) {
    snprintf(err, n, "init_std must be positive and weight_decay non-negative, both finite (got %g, %g)",
             (double)c->init_std, (double)c->weight_decay);
    return CLS_ERR_INVALID_VALUE;
  }
  if (!(c->lambda_min > 0) || !(c->lambda_max > c->lambda_min) || !isfinite(c->lambda_max)) {
    snprintf(err, n, "wavelength window %g..%g A: need 0 < lambda_min < lambda_max, finite (use the dataset's)",
             c->lambda_min, c->lambda_max);
    return CLS_ERR_INVALID_VALUE;
  }
  if (!(c->period_min > 0) || !(c->period_max >= c->period_min) || !isfinite(c->period_max)) {
    snprintf(err, n, "encoding periods %g..%g (in units of the window): need 0 < period_min <= period_max, finite",
             c->period_min, c->period_max);
    return CLS_ERR_INVALID_VALUE;
  }
  return CLS_OK;
}

size_t cls_emulator_n_features(const cls_emulator_config *c) {
  return 2 * c->n_freq;
}

void cls_emulator_encode(const cls_emulator_config *c, const double *wavelength, size_t n, float *features) {
  const size_t nf = c->n_freq;
  const double two_pi = 6.283185307179586, span = log(c->lambda_max / c->lambda_min);
  const double ratio = nf > 1 ? log(c->period_max / c->period_min) / (double)(nf - 1) : 0.0;
  for (size_t i = 0; i < n; i++) {
    /* u in double: 2 pi u / period_min reaches thousands of radians. */
    const double u = log(wavelength[i] / c->lambda_min) / span;
    for (size_t k = 0; k < nf; k++) {
      const double a = two_pi * u / (c->period_min * exp(ratio * (double)k));
      features[i * 2 * nf + 2 * k] = (float)sin(a);
      features[i * 2 * nf + 2 * k + 1] = (float)cos(a);
    }
  }
}

/* ------------------------------------------------------------ building */

static int add(cls_emulator *e, const char *name, size_t rows, size_t cols, cls_param_class k, cls_init_kind init,
               float std, int embedding, float lr_mult, float wd) {
  return cls_param_add_ex(&e->m.pt, name, rows, cols, k, init, std, embedding, lr_mult, wd);
}

static int build_params(cls_emulator *e) {
  const cls_emulator_config *c = &e->c;
  const size_t d = c->width, F = 2 * c->n_freq, NL = c->n_labels, Hm = c->label_hidden, T = c->n_tokens;
  cls__nn_scales sc;
  cls__nn_scales_of(c->param, d, c->base_width, c->heads, c->depth, c->init_std, &sc);
  const float m = sc.m, hid_std = sc.hid_std, hid_lr = sc.hid_lr, res_std = sc.res_std;
  const float out_std = c->init_std / m, out_lr = 1.0f / m;
  const float wd = c->weight_decay;
  char name[48];
  int ok = 1;
  /* Input layers: fan-in fixed by the config, so variance 1/fan_in at
   * every width (muP's input weights), which also keeps the stream and the
   * tokens O(1), far above the RMSNorm epsilon. */
  ok &= (e->wl = add(e, "wl.w", F, d, CLS_PARAM_INPUT, CLS_INIT_NORMAL, 1.0f / sqrtf((float)F), 1, 1, wd)) >= 0;
  ok &= add(e, "wl.b", 1, d, CLS_PARAM_INPUT, CLS_INIT_ZERO, 0, 1, 1, 0) >= 0;
  ok &= (e->lab_fc =
             add(e, "lab.fc.w", NL, Hm, CLS_PARAM_INPUT, CLS_INIT_NORMAL, 1.0f / sqrtf((float)NL), 1, 1, wd)) >= 0;
  ok &= add(e, "lab.fc.b", 1, Hm, CLS_PARAM_INPUT, CLS_INIT_ZERO, 0, 1, 1, 0) >= 0;
  ok &= (e->lab_proj = add(e, "lab.proj.w", Hm, T * d, CLS_PARAM_INPUT, CLS_INIT_NORMAL, 1.0f / sqrtf((float)Hm),
                           1, 1, wd)) >= 0;
  ok &= add(e, "lab.proj.b", 1, T * d, CLS_PARAM_INPUT, CLS_INIT_ZERO, 0, 1, 1, 0) >= 0;
  ok &= (e->tok_g = add(e, "tok.norm.g", 1, d, CLS_PARAM_INPUT, CLS_INIT_ONE, 0, 0, 1, 0)) >= 0;
  e->layer0 = (int)e->m.pt.count;
  for (size_t l = 0; l < c->depth && ok; l++) {
#define NAME(s) (snprintf(name, sizeof name, "h%zu.%s", l, s), name)
    ok &= add(e, NAME("norm1.g"), 1, d, CLS_PARAM_INPUT, CLS_INIT_ONE, 0, 0, 1, 0) >= 0;
    ok &=
        add(e, NAME("attn.q.w"), d, d, CLS_PARAM_HIDDEN, CLS_INIT_NORMAL, hid_std, 0, hid_lr * sc.blk_lr, wd) >= 0;
    ok &= add(e, NAME("attn.q.b"), 1, d, CLS_PARAM_INPUT, CLS_INIT_ZERO, 0, 0, sc.blk_lr, 0) >= 0;
    /* k and v packed: one matmul over the B*T token rows per block. */
    ok &= add(e, NAME("attn.kv.w"), d, 2 * d, CLS_PARAM_HIDDEN, CLS_INIT_NORMAL, hid_std, 0, hid_lr * sc.blk_lr,
              wd) >= 0;
    ok &= add(e, NAME("attn.kv.b"), 1, 2 * d, CLS_PARAM_INPUT, CLS_INIT_ZERO, 0, 0, sc.blk_lr, 0) >= 0;
    ok &= add(e, NAME("attn.o.w"), d, d, CLS_PARAM_HIDDEN, CLS_INIT_NORMAL, res_std, 0, sc.res_lr,
              wd * sc.res_wd) >= 0;
    ok &= add(e, NAME("attn.o.b"), 1, d, CLS_PARAM_INPUT, CLS_INIT_ZERO, 0, 0, sc.res_b_lr, 0) >= 0;
    ok &= add(e, NAME("norm2.g"), 1, d, CLS_PARAM_INPUT, CLS_INIT_ONE, 0, 0, 1, 0) >= 0;
#undef NAME
    ok &= cls__nn_add_mlp(&e->m.pt, l, d, &sc, wd);
  }
  ok &= (e->head_g = add(e, "head.norm.g", 1, d, CLS_PARAM_INPUT, CLS_INIT_ONE, 0, 0, 1, 0)) >= 0;
  ok &= (e->head_fc = add(e, "head.fc.w", d, d, CLS_PARAM_HIDDEN, CLS_INIT_NORMAL, hid_std, 0, hid_lr, wd)) >= 0;
  ok &= add(e, "head.fc.b", 1, d, CLS_PARAM_INPUT, CLS_INIT_ZERO, 0, 0, 1, 0) >= 0;
  ok &= (e->head_out = add(e, "head.out.w", d, 1, CLS_PARAM_OUTPUT, CLS_INIT_NORMAL, out_std, 0, out_lr, wd)) >= 0;
  /* The flux bias starts at the continuum (1): far from lines the flux is
   * exactly 1, so the model starts by learning the lines, not the mean. */
  ok &= add(e, "head.out.b", 1, 1, CLS_PARAM_INPUT, CLS_INIT_ONE, 0, 0, 1, 0) >= 0;
  e->attn_scale = sc.attn_scale;
  return ok;
}

/* An activation's stride from one model's part to the next: its floats for
 * the largest batch, aligned as cls__nn_take aligns operands (kernels may
 * choose vector paths by alignment, so every model's part starts as the
 * single model's operand does). */
static size_t model_stride(size_t n) {
  return (n + 15) / 16 * 16;
}

/* Lays out the activations for max_spectra x max_pixels; returns the floats
 * needed. */
static size_t build_acts(cls_emulator *e) {
  const cls_emulator_config *c = &e->c;
  const size_t B = e->max_spectra, R = B * e->max_pixels, d = c->width, L = c->depth, F = 2 * c->n_freq;
  const size_t BT = B * c->n_tokens, Hm = c->label_hidden;
  const size_t probs = B * c->heads * e->max_pixels * c->n_tokens;
  e->s_lab = model_stride(B * c->n_labels);
  e->s_feat = model_stride(R * F);
  e->s_R = model_stride(R);
  e->s_BHm = model_stride(B * Hm);
  e->s_BTd = model_stride(BT * d);
  e->s_BT = model_stride(BT);
  e->s_Rd = model_stride(R * d);
  e->s_kv = model_stride(BT * 2 * d);
  e->s_probs = model_stride(probs);
  e->s_R4d = model_stride(R * 4 * d);
  size_t at = 0;
  /* K parts of each activation (one model's: the same offsets as before). */
#define TAKE(field, n) (field = cls__nn_take(&at, e->K * model_stride(n)))
  TAKE(e->labels, B * c->n_labels);
  TAKE(e->feats, R * F);
  TAKE(e->target, R);
  TAKE(e->lab_h, B * Hm);
  TAKE(e->lab_g, B * Hm);
  TAKE(e->tok, BT * d);
  TAKE(e->tokn, BT * d);
  TAKE(e->tok_rstd, BT);
  for (size_t l = 0; l <= L; l++) TAKE(e->m.res[l], R * d);
  for (size_t l = 0; l < L; l++) {
    layer_acts *a = &e->layer[l];
    TAKE(a->n1, R * d);
    TAKE(a->n1_rstd, R);
    TAKE(a->q, R * d);
    TAKE(a->kv, BT * 2 * d);
    TAKE(a->probs, probs);
    TAKE(a->atty, R * d);
    TAKE(a->res2, R * d);
    TAKE(a->n2, R * d);
    TAKE(a->n2_rstd, R);
    TAKE(a->fch, R * 4 * d);
    TAKE(a->fcg, R * 4 * d);
  }
  TAKE(e->hn, R * d);
  TAKE(e->hn_rstd, R);
  TAKE(e->hh, R * d);
  TAKE(e->hg, R * d);
  TAKE(e->pred, R);
  TAKE(e->err, R);
  e->loss = cls__nn_take(&at, e->K); /* the K losses in a row: one read */
  TAKE(e->dpred, R);
  TAKE(e->dres, R * d);
  TAKE(e->dln, R * d);
  TAKE(e->dtmp, R * d);
  TAKE(e->dq, R * d);
  TAKE(e->datty, R * d);
  TAKE(e->dfch, R * 4 * d);
  TAKE(e->dkv, BT * 2 * d);
  TAKE(e->dtokn, BT * d);
  TAKE(e->dtok, BT * d);
  TAKE(e->dlab, B * Hm);
  TAKE(e->dprobs, probs);
#undef TAKE
  return at;
}

cls_status cls_emulator_create(cls_context *ctx, const cls_emulator_config *c, size_t max_spectra,
                               size_t max_pixels, uint64_t seed, cls_emulator **out) {
  return cls_emulator_create_models(ctx, c, 1, max_spectra, max_pixels, &seed, out);
}

cls_status cls_emulator_create_models(cls_context *ctx, const cls_emulator_config *c, size_t models,
                                      size_t max_spectra, size_t max_pixels, const uint64_t *seeds,
                                      cls_emulator **out) {
  CLS_CHECK_CTX(ctx);
  if (!c || !out || !seeds)
    return cls__fail(ctx, CLS_ERR_NULL_ARGUMENT, "cls_emulator_create: config, seeds or out is NULL");
  if (!models || models > 4096)
    return cls__fail(ctx, CLS_ERR_INVALID_SIZE, "cls_emulator_create_models: %zu models; use 1 to 4096", models);
  *out = NULL;
  char err[512];
  cls_status st = cls_emulator_config_check(c, err, sizeof err);
  if (st != CLS_OK) return cls__fail(ctx, st, "emulator config: %s", err);
  if (!max_spectra || !max_pixels)
    return cls__fail(ctx, CLS_ERR_INVALID_SIZE,
                     "cls_emulator_create: batch of %zu spectra x %zu pixels: both must be at least 1",
                     max_spectra, max_pixels);
  /* The widest operand, R x 4d (the MLP), must stay below 2^31 floats, and
   * the slab below 2^32 (the kernels' 32-bit offsets); checked in double
   * so that the product itself cannot wrap. */
  const double rows = (double)max_spectra * (double)max_pixels * (double)models;
  if (rows * 4.0 * (double)c->width > 2147483647.0 || rows * 2.0 * (double)c->n_freq > 2147483647.0 ||
      (double)models * (double)max_spectra * (double)c->heads * (double)max_pixels * (double)c->n_tokens >
          2147483647.0)
    return cls__fail(
        ctx, CLS_ERR_INVALID_SIZE,
        "cls_emulator_create: %zu model(s) of %zu spectra x %zu pixels is too large a batch for width %zu (an "
        "operand would exceed 2^31 floats): use fewer models, spectra or pixels per step",
        models, max_spectra, max_pixels, c->width);
  cls_emulator *e = calloc(1, sizeof *e);
  if (!e) return cls__fail(ctx, CLS_ERR_OUT_OF_MEMORY, "cls_emulator_create: out of host memory");
  e->c = *c;
  e->max_spectra = max_spectra;
  e->max_pixels = max_pixels;
  e->K = models;
  const int ok = cls__nn_model_init(&e->m, ctx, c->depth, sizeof *e->layer);
  e->layer = e->m.layer;
  if (!ok || !build_params(e)) {
    cls_emulator_destroy(e);
    return cls__fail(ctx, CLS_ERR_OUT_OF_MEMORY, "cls_emulator_create: out of host memory");
  }
  e->S = e->m.pt.total;
  st = cls__nn_model_storage_models(&e->m, models, seeds, build_acts(e), "cls_emulator_create");
  if (st != CLS_OK) {
    cls_emulator_destroy(e);
    return st;
  }
  *out = e;
  return CLS_OK;
}

void cls_emulator_destroy(cls_emulator *e) {
  if (!e) return;
  cls__nn_model_free(&e->m);
  free(e);
}

const cls_emulator_config *cls_emulator_get_config(const cls_emulator *e) {
  return e ? &e->c : NULL;
}
const cls_param_table *cls_emulator_params(const cls_emulator *e) {
  return e ? &e->m.pt : NULL;
}
cls_param_slabs *cls_emulator_slabs(cls_emulator *e) {
  return e ? &e->m.slabs : NULL;
}
size_t cls_emulator_models(const cls_emulator *e) {
  return e ? e->K : 0;
}
size_t cls_emulator_model_floats(const cls_emulator *e) {
  return e ? e->S : 0;
}

/* ------------------------------------------------------------- forward */

/* Shorthands: A(x) is activation x, P(i)/G(i) parameter/gradient tensor i;
 * AK(x, stride, k), PK(i, k), GK(i, k) model k's part. */
#define A(off)         cls_ref_at(e->m.acts, (off))
#define P(i)           cls_ref_at(e->m.slabs.params, e->m.pt.t[(i)].offset)
#define G(i)           cls_ref_at(e->m.slabs.grads, e->m.pt.t[(i)].offset)
#define AK(off, st, k) cls_ref_at(e->m.acts, (off) + (k) * (st))
#define PK(i, k)       cls_ref_at(e->m.slabs.params, e->m.pt.t[(i)].offset + (k)*e->S)
#define GK(i, k)       cls_ref_at(e->m.slabs.grads, e->m.pt.t[(i)].offset + (k)*e->S)
#define TRY(call)      CLS_NN_TRY(call)

/* ------------------------------------------- the layers, for K models
 *
 * Each model computes what the single model computes, operation for
 * operation: the products of the K models are one batched product
 * (cls_matmul_models: each product computed as it is alone); the bias
 * ops, their GELU and their gradients one launch for all models
 * (cls_*_models: a bias per model, each model's rows summed in its own
 * parts) where the models' parts are contiguous (full batches), else once
 * per model; the row ops without parameters run over the K models' rows
 * at once where their parts are contiguous. The norms (a gain per model)
 * run once for all models too where their parts are contiguous
 * (cls_*rmsnorm_*_models: each row as alone, each model's gain gradient
 * summed over its own rows in the one-model order), else once per model.
 * So does the loss's reduction (cls_reduce_models). AdamW runs once per
 * model on its part: the same kernel on the same shape, so the same order
 * of operations. With one model these are exactly the
 * launches of the shared blocks (blocks.c) that this file used before. */

/* The shared linear layers of K models (blocks.c) on this model's slabs,
 * for its `active` models. */
static cls__nn_models models_view(const cls_emulator *e) {
  cls__nn_models v = {e->m.ctx, &e->m.pt, &e->m.slabs, e->m.acts, e->active, e->S};
  return v;
}

static cls_status lin(cls_emulator *e, size_t rows, size_t in, size_t out, size_t x, size_t sx, int w, size_t y,
                      size_t sy, int residual) {
  const cls__nn_models v = models_view(e);
  return cls__nn_lin(&v, rows, in, out, x, sx, w, y, sy, residual);
}

static cls_status lin_gelu(cls_emulator *e, size_t rows, size_t in, size_t out, size_t x, size_t sx, int w,
                           size_t h, size_t y, size_t sy) {
  const cls__nn_models v = models_view(e);
  return cls__nn_lin_gelu(&v, rows, in, out, x, sx, w, h, y, sy);
}

#define NO_DX CLS__NN_NO_DX
static cls_status lin_back(cls_emulator *e, size_t rows, size_t in, size_t out, size_t x, size_t sx, int w,
                           size_t dy, size_t sdy, size_t dx, int dx_acc) {
  const cls__nn_models v = models_view(e);
  return cls__nn_lin_back(&v, rows, in, out, x, sx, w, dy, sdy, dx, dx_acc);
}

static cls_status lin_gelu_back(cls_emulator *e, size_t rows, size_t in, size_t out, size_t x, size_t sx, int w,
                                size_t h, size_t dy, size_t dh, size_t sh, size_t dx, int dx_acc) {
  const cls__nn_models v = models_view(e);
  return cls__nn_lin_gelu_back(&v, rows, in, out, x, sx, w, h, dy, dh, sh, dx, dx_acc);
}

/* A branch's output layer, the residual add and the next RMSNorm
 * (cls__nn_residual_out_norm): scratch = x W, then res_out = res_in +
 * scratch + b and its norm (gain tensor g) into y, rstd. x: rows x in,
 * parts sx apart; the stream's activations s_Rd, rstd s_R. */
static cls_status res_out_norm(cls_emulator *e, size_t rows, size_t in, size_t x, size_t sx, int w, size_t res_in,
                               size_t res_out, int g, size_t y, size_t rstd) {
  cls_context *ctx = e->m.ctx;
  const size_t K = e->active, d = e->c.width, sd = e->s_Rd;
  TRY(cls_matmul_models(ctx, CLS_NO_TRANS, CLS_NO_TRANS, rows, d, in, 1.0f, A(x), in, sx, P(w), d, e->S, 0.0f,
                        A(e->dtmp), d, sd, K, K));
  if (sd == rows * d)
    return cls_residual_rmsnorm_forward_models(ctx, K, rows, d, EMU_EPS, A(res_in), A(e->dtmp), P(w + 1),
                                               A(res_out), P(g), e->S, A(y), A(rstd), e->s_R);
  for (size_t k = 0; k < K; k++)
    TRY(cls_residual_rmsnorm_forward(ctx, rows, d, EMU_EPS, AK(res_in, sd, k), AK(e->dtmp, sd, k), PK(w + 1, k),
                                     AK(res_out, sd, k), PK(g, k), AK(y, sd, k), AK(rstd, e->s_R, k)));
  return CLS_OK;
}

/* RMSNorm forward of each model's rows x d (x, y parts sx apart; rstd sr). */
static cls_status norm_fwd(cls_emulator *e, size_t rows, size_t x, size_t sx, int g, size_t y, size_t rstd,
                           size_t sr) {
  if (sx == rows * e->c.width)
    return cls_rmsnorm_forward_models(e->m.ctx, e->active, rows, e->c.width, EMU_EPS, A(x), P(g), e->S, A(y),
                                      A(rstd), sr);
  for (size_t k = 0; k < e->active; k++)
    TRY(cls_rmsnorm_forward(e->m.ctx, rows, e->c.width, EMU_EPS, AK(x, sx, k), PK(g, k), AK(y, sx, k),
                            AK(rstd, sr, k)));
  return CLS_OK;
}

/* Its backward, dx overwritten (add 0) or added to (add 1). */
static cls_status norm_back(cls_emulator *e, size_t rows, size_t x, size_t sx, int g, size_t rstd, size_t sr,
                            size_t dy, size_t dx, int add) {
  if (sx == rows * e->c.width)
    return cls_rmsnorm_backward_models(e->m.ctx, e->active, rows, e->c.width, A(x), P(g), e->S, A(rstd), sr, A(dy),
                                       A(dx), G(g), 1, add);
  for (size_t k = 0; k < e->active; k++) {
    cls_status s = add ? cls_rmsnorm_backward_add(e->m.ctx, rows, e->c.width, AK(x, sx, k), PK(g, k),
                                                  AK(rstd, sr, k), AK(dy, sx, k), AK(dx, sx, k), GK(g, k), 1)
                       : cls_rmsnorm_backward(e->m.ctx, rows, e->c.width, AK(x, sx, k), PK(g, k), AK(rstd, sr, k),
                                              AK(dy, sx, k), AK(dx, sx, k), GK(g, k), 1);
    if (s != CLS_OK) return s;
  }
  return CLS_OK;
}

/* The cross-attention runs once over the K models' spectra when their
 * parts follow one another as the spectra of one model do (full batches)
 * and one model's batch is already more than one spectrum (so that its
 * products are batched products either way: the auto backend's class);
 * else once per model. Returns the number of calls (1 or K) and the
 * spectra of each. */
static size_t attn_calls(const cls_emulator *e, size_t *spectra) {
  const size_t B = e->B, R = B * e->P, d = e->c.width, BT = B * e->c.n_tokens;
  const int joined = e->active == 1 || (B > 1 && e->s_Rd == R * d && e->s_kv == BT * 2 * d);
  *spectra = joined ? e->active * B : B;
  return joined ? 1 : e->active;
}

/* Cross-attention: batch = spectra, P queries attend to T label tokens. */
static cls_attn_shape attn_shape(const cls_emulator *e, size_t spectra) {
  cls_attn_shape s = {spectra, e->P, e->c.n_tokens, e->c.heads, e->c.width / e->c.heads, e->attn_scale, 0};
  return s;
}

/* A stream operand (B, P, d) of model k. */
static cls_attn_operand stream(cls_emulator *e, size_t base, size_t k) {
  cls_attn_operand o = {AK(base, e->s_Rd, k), e->c.width, e->P * e->c.width};
  return o;
}

/* K (part 0) or V (part 1) of a packed (B, T, 2d) activation of model k. */
static cls_attn_operand kv_part(cls_emulator *e, size_t base, int part, size_t k) {
  const size_t d = e->c.width;
  cls_attn_operand o = {AK(base + (size_t)part * d, e->s_kv, k), 2 * d, e->c.n_tokens * 2 * d};
  return o;
}

static cls_status check_finite(cls_context *ctx, const char *what, const float *x, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (!isfinite(x[i]))
      return cls__fail(ctx, CLS_ERR_INVALID_VALUE,
                       "cls_emulator_forward: %s[%zu] is %g; every input must be finite", what, i, (double)x[i]);
  return CLS_OK;
}

/* Copies K parts of n floats from src (one after the other) to dst, parts
 * stride apart, the gaps between them zeroed: (K - 1) stride + n floats. */
static void stage_parts(float *dst, const float *src, size_t K, size_t n, size_t stride) {
  for (size_t k = 0; k < K; k++) {
    memcpy(dst + k * stride, src + k * n, n * sizeof *dst);
    if (k + 1 < K && stride > n) memset(dst + k * stride + n, 0, (stride - n) * sizeof *dst);
  }
}

cls_status cls_emulator_forward(cls_emulator *e, const float *labels, const float *features, const float *target,
                                size_t B, size_t P, int want_grad, float *mse) {
  return cls_emulator_forward_models(e, e ? e->K : 0, labels, features, target, B, P, want_grad, mse);
}

cls_status cls_emulator_forward_models(cls_emulator *e, size_t active, const float *labels, const float *features,
                                       const float *target, size_t B, size_t P, int want_grad, float *mse) {
  if (!e) return CLS_ERR_NULL_ARGUMENT;
  cls_context *ctx = e->m.ctx;
  if (!labels || !features || !target)
    return cls__fail(ctx, CLS_ERR_NULL_ARGUMENT, "cls_emulator_forward: labels, features or target is NULL");
  if (!B || !P || B > e->max_spectra || P > e->max_pixels)
    return cls__fail(ctx, CLS_ERR_INVALID_SIZE,
                     "cls_emulator_forward: batch of %zu spectra x %zu pixels; the model was built for at least 1 "
                     "and at most %zu x %zu",
                     B, P, e->max_spectra, e->max_pixels);
  if (!active || active > e->K)
    return cls__fail(ctx, CLS_ERR_INVALID_SIZE, "cls_emulator_forward: %zu active models; the emulator holds %zu",
                     active, e->K);
  const cls_emulator_config *c = &e->c;
  const size_t R = B * P, d = c->width, L = c->depth, F = 2 * c->n_freq, NL = c->n_labels, Hm = c->label_hidden;
  const size_t T = c->n_tokens, BT = B * T, K = active;
  TRY(check_finite(ctx, "labels", labels, K * B * NL));
  TRY(check_finite(ctx, "features", features, K * R * F));
  TRY(check_finite(ctx, "target", target, K * R));
  e->have_grad = e->have_flux = 0;
  /* Staged in the device's layout and uploaded without waiting: the host
   * goes on queueing. */
  float *st;
  const size_t nl = (K - 1) * e->s_lab + B * NL, nf = (K - 1) * e->s_feat + R * F, nt = (K - 1) * e->s_R + R;
  TRY(cls__nn_stage_begin(&e->m, nl + nf + nt, &st));
  stage_parts(st, labels, K, B * NL, e->s_lab);
  stage_parts(st + nl, features, K, R * F, e->s_feat);
  stage_parts(st + nl + nf, target, K, R, e->s_R);
  TRY(cls__nn_stage_write(&e->m, e->labels, nl, st));
  TRY(cls__nn_stage_write(&e->m, e->feats, nf, st + nl));
  TRY(cls__nn_stage_write(&e->m, e->target, nt, st + nl + nf));
  e->B = B;
  e->P = P;
  e->active = K;
  const size_t sd = e->s_Rd;

  /* The wavelength stream. */
  TRY(lin(e, R, F, d, e->feats, e->s_feat, e->wl, e->m.res[0], sd, 0));
  /* The label tokens, once per spectrum: B x (T d) is (B T) x d. */
  TRY(lin_gelu(e, B, NL, Hm, e->labels, e->s_lab, e->lab_fc, e->lab_h, e->lab_g, e->s_BHm));
  TRY(lin(e, B, Hm, T * d, e->lab_g, e->s_BHm, e->lab_proj, e->tok, e->s_BTd, 0));
  TRY(norm_fwd(e, BT, e->tok, e->s_BTd, e->tok_g, e->tokn, e->tok_rstd, e->s_BT));
  /* The first block's first norm; every later norm comes fused with the
   * residual add before it (res_out_norm, the branch's output in dtmp,
   * backward scratch that is free during the forward pass). */
  TRY(norm_fwd(e, R, e->m.res[0], sd, e->layer0 + N1G, e->layer[0].n1, e->layer[0].n1_rstd, e->s_R));
  size_t spectra;
  const size_t calls = attn_calls(e, &spectra);
  for (size_t l = 0; l < L; l++) {
    const int w = e->layer0 + (int)l * PER_LAYER;
    layer_acts *a = &e->layer[l];
    cls_attn_shape s = attn_shape(e, spectra);
    TRY(lin(e, R, d, d, a->n1, sd, w + QW, a->q, sd, 0));
    TRY(lin(e, BT, d, 2 * d, e->tokn, e->s_BTd, w + KVW, a->kv, e->s_kv, 0));
    for (size_t k = 0; k < calls; k++)
      TRY(cls_attention_forward(ctx, &s, stream(e, a->q, k), kv_part(e, a->kv, 0, k), kv_part(e, a->kv, 1, k),
                                AK(a->probs, e->s_probs, k), stream(e, a->atty, k)));
    TRY(res_out_norm(e, R, d, a->atty, sd, w + OW, e->m.res[l], a->res2, w + N2G, a->n2, a->n2_rstd));
    TRY(lin_gelu(e, R, d, 4 * d, a->n2, sd, w + FCW, a->fch, a->fcg, e->s_R4d));
    if (l + 1 < L)
      TRY(res_out_norm(e, R, 4 * d, a->fcg, e->s_R4d, w + FPW, a->res2, e->m.res[l + 1], w + PER_LAYER + N1G,
                       e->layer[l + 1].n1, e->layer[l + 1].n1_rstd));
    else
      TRY(res_out_norm(e, R, 4 * d, a->fcg, e->s_R4d, w + FPW, a->res2, e->m.res[l + 1], e->head_g, e->hn,
                       e->hn_rstd));
  }
  TRY(lin_gelu(e, R, d, d, e->hn, sd, e->head_fc, e->hh, e->hg, sd));
  TRY(lin(e, R, d, 1, e->hg, sd, e->head_out, e->pred, e->s_R, 0));
  const float inv = 1.0f / (float)R;
  /* Elementwise: the K models' pixels in one launch when they are one
   * contiguous run. */
  const size_t mse_calls = K == 1 || e->s_R == R ? 1 : K, mse_n = mse_calls == 1 ? K * R : R;
  for (size_t k = 0; k < mse_calls; k++)
    TRY(cls_mse(ctx, mse_n, AK(e->pred, e->s_R, k), AK(e->target, e->s_R, k), AK(e->err, e->s_R, k),
                want_grad ? AK(e->dpred, e->s_R, k) : CLS_NOREF, inv));
  /* Each model's mean squared error, one launch of each pass for all. */
  TRY(cls_reduce_models(ctx, CLS_REDUCE_SUM, K, R, A(e->err), e->s_R, inv, A(e->loss)));
  e->have_flux = 1;
  if (mse) TRY(cls_buffer_read(ctx, e->m.acts, e->loss, K, mse));
  e->have_grad = want_grad != 0;
  return CLS_OK;
}

cls_status cls_emulator_read_flux(cls_emulator *e, float *flux) {
  if (!e) return CLS_ERR_NULL_ARGUMENT;
  if (!flux) return cls__fail(e->m.ctx, CLS_ERR_NULL_ARGUMENT, "cls_emulator_read_flux: flux is NULL");
  if (!e->have_flux)
    return cls__fail(e->m.ctx, CLS_ERR_INVALID_VALUE, "cls_emulator_read_flux: no forward pass has completed yet");
  const size_t n = e->B * e->P;
  for (size_t k = 0; k < e->active; k++) {
    cls_status s = cls_buffer_read(e->m.ctx, e->m.acts, e->pred + k * e->s_R, n, flux + k * n);
    if (s != CLS_OK) return s;
  }
  return CLS_OK;
}

cls_ref cls_emulator_loss_ref(const cls_emulator *e) {
  return e ? cls_ref_at(e->m.acts, e->loss) : CLS_NOREF;
}

/* ------------------------------------------------------------ backward */

cls_status cls_emulator_backward(cls_emulator *e) {
  if (!e) return CLS_ERR_NULL_ARGUMENT;
  cls_context *ctx = e->m.ctx;
  if (!e->have_grad)
    return cls__fail(ctx, CLS_ERR_INVALID_VALUE,
                     "cls_emulator_backward: call cls_emulator_forward with want_grad first (once per forward)");
  e->have_grad = 0; /* the scratch is reused; a second backward would add the gradients twice */
  const cls_emulator_config *c = &e->c;
  const size_t B = e->B, R = B * e->P, d = c->width, L = c->depth, F = 2 * c->n_freq, NL = c->n_labels;
  const size_t Hm = c->label_hidden, T = c->n_tokens, BT = B * T, sd = e->s_Rd, s4 = e->s_R4d;

  /* Head: pred = gelu(hn Wfc + b) Wout + b. dres = d res[L]. */
  TRY(lin_back(e, R, d, 1, e->hg, sd, e->head_out, e->dpred, e->s_R, e->dtmp, 0));
  TRY(lin_gelu_back(e, R, d, d, e->hn, sd, e->head_fc, e->hh, e->dtmp, e->dtmp, sd, e->dln, 0));
  TRY(norm_back(e, R, e->m.res[L], sd, e->head_g, e->hn_rstd, e->s_R, e->dln, e->dres, 0));
  size_t spectra;
  const size_t calls = attn_calls(e, &spectra);
  for (size_t l = L; l-- > 0;) {
    const int w = e->layer0 + (int)l * PER_LAYER;
    layer_acts *a = &e->layer[l];
    cls_attn_shape s = attn_shape(e, spectra);
    /* dres holds d res[l+1] = d res2 (identity) + the MLP branch
     * (cls__nn_mlp_backward). */
    TRY(lin_back(e, R, 4 * d, d, a->fcg, s4, w + FPW, e->dres, sd, e->dfch, 0));
    TRY(lin_gelu_back(e, R, d, 4 * d, a->n2, sd, w + FCW, a->fch, e->dfch, e->dfch, s4, e->dln, 0));
    TRY(norm_back(e, R, a->res2, sd, w + N2G, a->n2_rstd, e->s_R, e->dln, e->dres, 1));
    /* dres holds d res2 = d res[l] (identity) + the attention branch. */
    TRY(lin_back(e, R, d, d, a->atty, sd, w + OW, e->dres, sd, e->datty, 0));
    for (size_t k = 0; k < calls; k++)
      TRY(cls_attention_backward(ctx, &s, stream(e, a->q, k), kv_part(e, a->kv, 0, k), kv_part(e, a->kv, 1, k),
                                 AK(a->probs, e->s_probs, k), stream(e, e->datty, k), AK(e->dprobs, e->s_probs, k),
                                 stream(e, e->dq, k), kv_part(e, e->dkv, 0, k), kv_part(e, e->dkv, 1, k), 0));
    TRY(lin_back(e, R, d, d, a->n1, sd, w + QW, e->dq, sd, e->dln, 0));
    /* Every block reads the same normalised tokens: their gradient is the
     * sum over blocks (the last block first overwrites). */
    TRY(lin_back(e, BT, d, 2 * d, e->tokn, e->s_BTd, w + KVW, e->dkv, e->s_kv, e->dtokn, l != L - 1));
    TRY(norm_back(e, R, e->m.res[l], sd, w + N1G, a->n1_rstd, e->s_R, e->dln, e->dres, 1));
  }
  /* The label tokens, then the label MLP (its input, the labels, needs no
   * gradient). */
  TRY(norm_back(e, BT, e->tok, e->s_BTd, e->tok_g, e->tok_rstd, e->s_BT, e->dtokn, e->dtok, 0));
  TRY(lin_back(e, B, Hm, T * d, e->lab_g, e->s_BHm, e->lab_proj, e->dtok, e->s_BTd, e->dlab, 0));
  TRY(lin_gelu_back(e, B, NL, Hm, e->labels, e->s_lab, e->lab_fc, e->lab_h, e->dlab, e->dlab, e->s_BHm, NO_DX, 0));
  /* The wavelength projection (its input, the features, is data). */
  return lin_back(e, R, F, d, e->feats, e->s_feat, e->wl, e->dres, sd, NO_DX, 0);
}

/* Multiply-adds of the forward pass, by part; see docs/emulator.md. */
typedef struct {
  double wl, lab_fc, linear, attn;
} macs;

static macs forward_macs(const cls_emulator *e, size_t B, size_t P) {
  const cls_emulator_config *c = &e->c;
  const double R = (double)B * (double)P, d = (double)c->width, L = (double)c->depth, F = 2.0 * (double)c->n_freq;
  const double T = (double)c->n_tokens, NL = (double)c->n_labels, Hm = (double)c->label_hidden, b = (double)B;
  macs m;
  m.wl = R * F * d;
  m.lab_fc = b * NL * Hm;
  /* label projection once per spectrum; per block q, o (d^2), MLP (8 d^2)
   * per pixel and k, v (2 d^2) per token; the head (d^2 + d) per pixel. */
  m.linear = b * Hm * T * d + L * (R * 10.0 * d * d + b * T * 2.0 * d * d) + R * (d * d + d);
  m.attn = L * 2.0 * R * T * d; /* scores Q K^T and P V */
  return m;
}

double cls_emulator_flops_forward(const cls_emulator *e, size_t B, size_t P) {
  macs m = forward_macs(e, B, P);
  return 2.0 * (m.wl + m.lab_fc + m.linear + m.attn);
}

size_t cls_emulator_activation_count(const cls_emulator *e) {
  return e ? 2 * e->c.depth + 3 : 0;
}

cls_status cls_emulator_activation_rms(cls_emulator *e, float *out) {
  if (!e) return CLS_ERR_NULL_ARGUMENT;
  if (!out) return cls__fail(e->m.ctx, CLS_ERR_NULL_ARGUMENT, "cls_emulator_activation_rms: out is NULL");
  if (!e->B)
    return cls__fail(e->m.ctx, CLS_ERR_INVALID_VALUE, "cls_emulator_activation_rms: run a forward pass first");
  const size_t R = e->B * e->P, d = e->c.width, L = e->c.depth, n = cls_emulator_activation_count(e);
  for (size_t i = 0; i < n; i++) {
    size_t off, count;
    if (i == 0)
      off = e->tokn, count = e->B * e->c.n_tokens * d;
    else if (i <= L)
      off = e->layer[i - 1].atty, count = R * d;
    else if (i <= 2 * L)
      off = e->layer[i - 1 - L].fcg, count = R * 4 * d;
    else if (i == 2 * L + 1)
      off = e->hg, count = R * d;
    else
      off = e->pred, count = R;
    /* One float at a time through the loss slot: a diagnostic, not a hot path. */
    cls_status s = cls_reduce(e->m.ctx, CLS_REDUCE_SUMSQ, count, cls_ref_at(e->m.acts, off), 1.0f / (float)count,
                              cls_ref_at(e->m.acts, e->loss));
    if (s == CLS_OK) s = cls_buffer_read(e->m.ctx, e->m.acts, e->loss, 1, &out[i]);
    if (s != CLS_OK) return s;
    out[i] = sqrtf(out[i]);
  }
  return CLS_OK;
}

double cls_emulator_flops_per_step(const cls_emulator *e, size_t B, size_t P) {
  macs m = forward_macs(e, B, P);
  /* Backward: every linear layer dW and dx (2x its forward) except the
   * two whose inputs are data (dW only); attention dP, dV, dQ, dK (2x). */
  double bwd = 2.0 * m.linear + m.wl + m.lab_fc + 2.0 * m.attn;
  return 2.0 * (m.wl + m.lab_fc + m.linear + m.attn + bwd);
}

void cls_emulator_count_params(const cls_emulator_config *c, double *n, double *n_embed) {
  const double d = (double)c->width, L = (double)c->depth;
  const double F = 2.0 * (double)c->n_freq, NL = (double)c->n_labels, Hm = (double)c->label_hidden;
  const double T = (double)c->n_tokens;
  /* per block: norms 2d, q d^2 + d, kv 2d^2 + 2d, o d^2 + d, MLP 8d^2 + 5d;
   * token norm d; head: norm d, Linear(d, d), Linear(d, 1). */
  *n = L * (12.0 * d * d + 11.0 * d) + d + (d * d + 3.0 * d + 1.0);
  /* wavelength Linear(F, d); label MLP Linear(NL, Hm), Linear(Hm, T d). */
  *n_embed = (F * d + d) + (NL * Hm + Hm) + (Hm * T * d + T * d);
}

#undef A
#undef P
#undef G
#undef AK
#undef PK
#undef GK
#undef NO_DX
#undef TRY

/* ------------------------------------------------ for the reference */

float cls__emulator_attn_scale(const cls_emulator *e) {
  return e->attn_scale;
}
float cls__emulator_eps(void) {
  return EMU_EPS;
}
int cls__emulator_index(const cls_emulator *e, const char *name) {
  return cls__nn_index(&e->m.pt, name);
}
