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

/* Lays out the activations for max_spectra x max_pixels; returns the floats
 * needed. */
static size_t build_acts(cls_emulator *e) {
  const cls_emulator_config *c = &e->c;
  const size_t B = e->max_spectra, R = B * e->max_pixels, d = c->width, L = c->depth, F = 2 * c->n_freq;
  const size_t BT = B * c->n_tokens, Hm = c->label_hidden;
  const size_t probs = B * c->heads * e->max_pixels * c->n_tokens;
  size_t at = 0;
#define TAKE(field, n) (field = cls__nn_take(&at, (n)))
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
  TAKE(e->loss, 1);
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
  CLS_CHECK_CTX(ctx);
  if (!c || !out) return cls__fail(ctx, CLS_ERR_NULL_ARGUMENT, "cls_emulator_create: config or out is NULL");
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
  const double rows = (double)max_spectra * (double)max_pixels;
  if (rows * 4.0 * (double)c->width > 2147483647.0 || rows * 2.0 * (double)c->n_freq > 2147483647.0 ||
      (double)max_spectra * (double)c->heads * (double)max_pixels * (double)c->n_tokens > 2147483647.0)
    return cls__fail(
        ctx, CLS_ERR_INVALID_SIZE,
        "cls_emulator_create: %zu spectra x %zu pixels is too large a batch for width %zu (an operand "
        "would exceed 2^31 floats): use fewer spectra or pixels per step",
        max_spectra, max_pixels, c->width);
  cls_emulator *e = calloc(1, sizeof *e);
  if (!e) return cls__fail(ctx, CLS_ERR_OUT_OF_MEMORY, "cls_emulator_create: out of host memory");
  e->c = *c;
  e->max_spectra = max_spectra;
  e->max_pixels = max_pixels;
  const int ok = cls__nn_model_init(&e->m, ctx, c->depth, sizeof *e->layer);
  e->layer = e->m.layer;
  if (!ok || !build_params(e)) {
    cls_emulator_destroy(e);
    return cls__fail(ctx, CLS_ERR_OUT_OF_MEMORY, "cls_emulator_create: out of host memory");
  }
  st = cls__nn_model_storage(&e->m, seed, build_acts(e), "cls_emulator_create");
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

/* ------------------------------------------------------------- forward */

/* Shorthands: A(x) is activation x, P(i)/G(i) parameter/gradient tensor i. */
#define A(off)    cls_ref_at(e->m.acts, (off))
#define P(i)      cls_ref_at(e->m.slabs.params, e->m.pt.t[(i)].offset)
#define G(i)      cls_ref_at(e->m.slabs.grads, e->m.pt.t[(i)].offset)
#define TRY(call) CLS_NN_TRY(call)

/* Cross-attention: batch = spectra, P queries attend to T label tokens. */
static cls_attn_shape attn_shape(const cls_emulator *e) {
  cls_attn_shape s = {e->B, e->P, e->c.n_tokens, e->c.heads, e->c.width / e->c.heads, e->attn_scale, 0};
  return s;
}

/* A stream operand (B, P, d). */
static cls_attn_operand stream(cls_emulator *e, size_t base) {
  cls_attn_operand o = {A(base), e->c.width, e->P * e->c.width};
  return o;
}

/* K (part 0) or V (part 1) of a packed (B, T, 2d) activation. */
static cls_attn_operand kv_part(cls_emulator *e, size_t base, int part) {
  const size_t d = e->c.width;
  cls_attn_operand o = {A(base + (size_t)part * d), 2 * d, e->c.n_tokens * 2 * d};
  return o;
}

static cls_status check_finite(cls_context *ctx, const char *what, const float *x, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (!isfinite(x[i]))
      return cls__fail(ctx, CLS_ERR_INVALID_VALUE,
                       "cls_emulator_forward: %s[%zu] is %g; every input must be finite", what, i, (double)x[i]);
  return CLS_OK;
}

cls_status cls_emulator_forward(cls_emulator *e, const float *labels, const float *features, const float *target,
                                size_t B, size_t P, int want_grad, float *mse) {
  if (!e) return CLS_ERR_NULL_ARGUMENT;
  cls_context *ctx = e->m.ctx;
  if (!labels || !features || !target)
    return cls__fail(ctx, CLS_ERR_NULL_ARGUMENT, "cls_emulator_forward: labels, features or target is NULL");
  if (!B || !P || B > e->max_spectra || P > e->max_pixels)
    return cls__fail(ctx, CLS_ERR_INVALID_SIZE,
                     "cls_emulator_forward: batch of %zu spectra x %zu pixels; the model was built for at least 1 "
                     "and at most %zu x %zu",
                     B, P, e->max_spectra, e->max_pixels);
  const cls_emulator_config *c = &e->c;
  const size_t R = B * P, d = c->width, L = c->depth, F = 2 * c->n_freq, NL = c->n_labels, Hm = c->label_hidden;
  const size_t T = c->n_tokens, BT = B * T;
  TRY(check_finite(ctx, "labels", labels, B * NL));
  TRY(check_finite(ctx, "features", features, R * F));
  TRY(check_finite(ctx, "target", target, R));
  e->have_grad = e->have_flux = 0;
  /* Staged and uploaded without waiting: the host goes on queueing. */
  float *st;
  TRY(cls__nn_stage_begin(&e->m, B * NL + R * F + R, &st));
  memcpy(st, labels, B * NL * sizeof *st);
  memcpy(st + B * NL, features, R * F * sizeof *st);
  memcpy(st + B * NL + R * F, target, R * sizeof *st);
  TRY(cls__nn_stage_write(&e->m, e->labels, B * NL, st));
  TRY(cls__nn_stage_write(&e->m, e->feats, R * F, st + B * NL));
  TRY(cls__nn_stage_write(&e->m, e->target, R, st + B * NL + R * F));
  e->B = B;
  e->P = P;

  /* The wavelength stream. */
  TRY(cls__nn_linear(&e->m, R, F, d, A(e->feats), e->wl, A(e->m.res[0]), 0));
  /* The label tokens, once per spectrum: B x (T d) is (B T) x d. */
  TRY(cls_nn_linear_gelu(ctx, &e->m.pt, &e->m.slabs, B, NL, Hm, A(e->labels), e->lab_fc, A(e->lab_h),
                         A(e->lab_g)));
  TRY(cls__nn_linear(&e->m, B, Hm, T * d, A(e->lab_g), e->lab_proj, A(e->tok), 0));
  TRY(cls_rmsnorm_forward(ctx, BT, d, EMU_EPS, A(e->tok), P(e->tok_g), A(e->tokn), A(e->tok_rstd)));
  const cls__nn_view v = cls__nn_model_view(&e->m);
  /* The first block's first norm; every later norm comes fused with the
   * residual add before it (cls__nn_residual_out_norm, the branch's output
   * in dtmp, backward scratch that is free during the forward pass). */
  TRY(cls_rmsnorm_forward(ctx, R, d, EMU_EPS, A(e->m.res[0]), P(e->layer0 + N1G), A(e->layer[0].n1),
                          A(e->layer[0].n1_rstd)));
  for (size_t l = 0; l < L; l++) {
    const int w = e->layer0 + (int)l * PER_LAYER;
    layer_acts *a = &e->layer[l];
    cls_attn_shape s = attn_shape(e);
    TRY(cls__nn_linear(&e->m, R, d, d, A(a->n1), w + QW, A(a->q), 0));
    TRY(cls__nn_linear(&e->m, BT, d, 2 * d, A(e->tokn), w + KVW, A(a->kv), 0));
    TRY(cls_attention_forward(ctx, &s, stream(e, a->q), kv_part(e, a->kv, 0), kv_part(e, a->kv, 1), A(a->probs),
                              stream(e, a->atty)));
    const cls__nn_norm n2 = {EMU_EPS, w + N2G, -1, a->n2, 0, a->n2_rstd};
    TRY(cls__nn_residual_out_norm(&v, R, d, d, a->atty, w + OW, e->dtmp, e->m.res[l], a->res2, &n2));
    TRY(cls_nn_linear_gelu(ctx, &e->m.pt, &e->m.slabs, R, d, 4 * d, A(a->n2), w + FCW, A(a->fch), A(a->fcg)));
    const cls__nn_norm next = l + 1 < L ? (cls__nn_norm){EMU_EPS, w + PER_LAYER + N1G,    -1, e->layer[l + 1].n1,
                                                         0,       e->layer[l + 1].n1_rstd}
                                        : (cls__nn_norm){EMU_EPS, e->head_g, -1, e->hn, 0, e->hn_rstd};
    TRY(cls__nn_residual_out_norm(&v, R, 4 * d, d, a->fcg, w + FPW, e->dtmp, a->res2, e->m.res[l + 1], &next));
  }
  TRY(cls_nn_linear_gelu(ctx, &e->m.pt, &e->m.slabs, R, d, d, A(e->hn), e->head_fc, A(e->hh), A(e->hg)));
  TRY(cls__nn_linear(&e->m, R, d, 1, A(e->hg), e->head_out, A(e->pred), 0));
  const float inv = 1.0f / (float)R;
  TRY(cls_mse(ctx, R, A(e->pred), A(e->target), A(e->err), want_grad ? A(e->dpred) : CLS_NOREF, inv));
  TRY(cls_reduce(ctx, CLS_REDUCE_SUM, R, A(e->err), inv, A(e->loss)));
  e->have_flux = 1;
  if (mse) TRY(cls_buffer_read(ctx, e->m.acts, e->loss, 1, mse));
  e->have_grad = want_grad != 0;
  return CLS_OK;
}

cls_status cls_emulator_read_flux(cls_emulator *e, float *flux) {
  if (!e) return CLS_ERR_NULL_ARGUMENT;
  if (!flux) return cls__fail(e->m.ctx, CLS_ERR_NULL_ARGUMENT, "cls_emulator_read_flux: flux is NULL");
  if (!e->have_flux)
    return cls__fail(e->m.ctx, CLS_ERR_INVALID_VALUE, "cls_emulator_read_flux: no forward pass has completed yet");
  return cls_buffer_read(e->m.ctx, e->m.acts, e->pred, e->B * e->P, flux);
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
  const size_t Hm = c->label_hidden, T = c->n_tokens, BT = B * T;

  /* Head: pred = gelu(hn Wfc + b) Wout + b. dres = d res[L]. */
  TRY(cls__nn_linear_back(&e->m, R, d, 1, A(e->hg), e->head_out, A(e->dpred), A(e->dtmp), 0));
  TRY(cls_nn_linear_gelu_back(ctx, &e->m.pt, &e->m.slabs, R, d, d, A(e->hn), e->head_fc, A(e->hh), A(e->dtmp),
                              A(e->dtmp), A(e->dln), 0));
  TRY(cls_rmsnorm_backward(ctx, R, d, A(e->m.res[L]), P(e->head_g), A(e->hn_rstd), A(e->dln), A(e->dres),
                           G(e->head_g), 1));
  const cls__nn_view v = cls__nn_model_view(&e->m);
  for (size_t l = L; l-- > 0;) {
    const int w = e->layer0 + (int)l * PER_LAYER;
    layer_acts *a = &e->layer[l];
    cls_attn_shape s = attn_shape(e);
    /* dres holds d res[l+1] = d res2 (identity) + the MLP branch. */
    TRY(cls__nn_mlp_backward(&v, R, d, a->n2, w + FCW, a->fch, a->fcg, e->dres, e->dfch, e->dln));
    TRY(cls_rmsnorm_backward_add(ctx, R, d, A(a->res2), P(w + N2G), A(a->n2_rstd), A(e->dln), A(e->dres),
                                 G(w + N2G), 1));
    /* dres holds d res2 = d res[l] (identity) + the attention branch. */
    TRY(cls__nn_attn_out_backward(&v, R, d, a->atty, w + OW, e->dres, e->datty));
    TRY(cls_attention_backward(ctx, &s, stream(e, a->q), kv_part(e, a->kv, 0), kv_part(e, a->kv, 1), A(a->probs),
                               stream(e, e->datty), A(e->dprobs), stream(e, e->dq), kv_part(e, e->dkv, 0),
                               kv_part(e, e->dkv, 1), 0));
    TRY(cls__nn_linear_back(&e->m, R, d, d, A(a->n1), w + QW, A(e->dq), A(e->dln), 0));
    /* Every block reads the same normalised tokens: their gradient is the
     * sum over blocks (the last block first overwrites). */
    TRY(cls__nn_linear_back(&e->m, BT, d, 2 * d, A(e->tokn), w + KVW, A(e->dkv), A(e->dtokn), l != L - 1));
    TRY(cls_rmsnorm_backward_add(ctx, R, d, A(e->m.res[l]), P(w + N1G), A(a->n1_rstd), A(e->dln), A(e->dres),
                                 G(w + N1G), 1));
  }
  /* The label tokens, then the label MLP (its input, the labels, needs no
   * gradient). */
  TRY(cls_rmsnorm_backward(ctx, BT, d, A(e->tok), P(e->tok_g), A(e->tok_rstd), A(e->dtokn), A(e->dtok),
                           G(e->tok_g), 1));
  TRY(cls__nn_linear_back(&e->m, B, Hm, T * d, A(e->lab_g), e->lab_proj, A(e->dtok), A(e->dlab), 0));
  TRY(cls_nn_linear_gelu_back(ctx, &e->m.pt, &e->m.slabs, B, NL, Hm, A(e->labels), e->lab_fc, A(e->lab_h),
                              A(e->dlab), A(e->dlab), CLS_NOREF, 0));
  /* The wavelength projection (its input, the features, is data). */
  return cls__nn_linear_back(&e->m, R, F, d, A(e->feats), e->wl, A(e->dres), CLS_NOREF, 0);
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
