/*
 * src/nn/gpt.c — the byte-level GPT on the dispatch layer (see gpt.h).
 *
 * One file, llm.c style: the parameter table, the activation table, the
 * forward pass and the backward pass, each written as the sequence of ops
 * it is. Weights are stored (in x out), so a linear layer is x W + b with
 * a plain NN matmul; the head reuses the token embedding (V x C) as W^T.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blocks_internal.h"
#include "device/layer.h"
#include "nn/gpt.h"

/* Indices of one block's tensors in the parameter table. */
enum { LN1G, LN1B, QKVW, QKVB, PROJW, PROJB, LN2G, LN2B, FCW, FCB, FCPW, FCPB, PER_LAYER };

/* Activations of one block, as offsets into the activation slab. */
typedef struct {
  size_t ln1, ln1_mean, ln1_rstd, qkv, probs, atty, res2, ln2, ln2_mean, ln2_rstd, fch, fch_gelu;
} layer_acts;

struct cls_gpt {
  cls__nn_model m; /* table, slabs, activation slab, res[L + 1], layer[L] */
  cls_gpt_config c;
  size_t max_batch, max_seq;
  int wte, wpe, lnfg, lnfb, layer0; /* table indices; block l starts at layer0 + l * PER_LAYER */
  float attn_scale, out_mult;

  /* Activations: offsets into m.acts. */
  layer_acts *layer; /* m.layer, typed */
  size_t lnf, lnf_mean, lnf_rstd, logits, losses, loss, tokens, targets;
  /* Backward scratch. */
  size_t dres, dln, dtmp, dqkv, datty, dfch, dprobs;

  size_t B, T; /* of the last forward */
  int have_grad;

  /* Models side by side (cls_gpt_create_models): K of them, model k's
   * tensors at k x S of each slab. A forward pass of B x T tokens lays
   * the `active` models' rows one model after the other in every
   * activation (model k's part of an activation of c columns at k B T c),
   * so the row ops run over all of them at once; the slab is sized for K
   * models of max_batch x max_seq. Each model's loss is one float at
   * loss + k, the mean over its own targets (scale[k] = 1 / their count). */
  size_t K, S, active;
  float *scale;
};

void cls_gpt_config_default(cls_gpt_config *c) {
  c->vocab = 256;
  c->context = 64;
  c->width = 128;
  c->depth = 4;
  c->heads = 4;
  c->param = CLS_PARAM_SP;
  c->base_width = 128;
  c->init_std = 0.02f;
  c->weight_decay = 0.1f;
}

cls_status cls_gpt_config_check(const cls_gpt_config *c, char *err, size_t n) {
  if (!c) return CLS_ERR_NULL_ARGUMENT;
  if (c->vocab < 2 || c->vocab > (1u << 24)) {
    snprintf(err, n, "vocab %zu: use 2 to 2^24 (256 for bytes)", c->vocab);
    return CLS_ERR_INVALID_SIZE;
  }
  if (!c->context || !c->width || !c->depth || !c->heads) {
    snprintf(err, n, "context, width, depth and heads must all be at least 1 (got %zu, %zu, %zu, %zu)", c->context,
             c->width, c->depth, c->heads);
    return CLS_ERR_INVALID_SIZE;
  }
  if (c->width % c->heads) {
    snprintf(err, n, "width %zu is not divisible by heads %zu: choose a width that is a multiple of the heads",
             c->width, c->heads);
    return CLS_ERR_INVALID_VALUE;
  }
  if (c->param != CLS_PARAM_SP && (!c->base_width || c->base_width % c->heads)) {
    snprintf(err, n, "muP needs a base width that is a positive multiple of heads (got %zu)", c->base_width);
    return CLS_ERR_INVALID_VALUE;
  }
  if (!cls_parametrisation_name(c->param)) {
    snprintf(err, n, "unknown parametrisation %d: use sp, mup or mup-depth", (int)c->param);
    return CLS_ERR_INVALID_VALUE;
  }
  if (!(c->init_std > 0) || !isfinite(c->init_std) || !(c->weight_decay >= 0) || !isfinite(c->weight_decay)) {
    snprintf(err, n, "init_std must be positive and weight_decay non-negative, both finite");
    return CLS_ERR_INVALID_VALUE;
  }
  return CLS_OK;
}

/* ------------------------------------------------------------ building */

static int add(cls_gpt *g, const char *name, size_t rows, size_t cols, cls_param_class k, cls_init_kind init,
               float std, int embedding, float lr_mult, float wd) {
  return cls_param_add_ex(&g->m.pt, name, rows, cols, k, init, std, embedding, lr_mult, wd);
}

static int build_params(cls_gpt *g) {
  const cls_gpt_config *c = &g->c;
  const size_t C = c->width;
  cls__nn_scales sc;
  cls__nn_scales_of(c->param, C, c->base_width, c->heads, c->depth, c->init_std, &sc);
  const float hid_std = sc.hid_std, hid_lr = sc.hid_lr, res_std = sc.res_std;
  const float wd = c->weight_decay;
  char name[48];
  int ok = 1;
  ok &= (g->wte = add(g, "wte", c->vocab, C, CLS_PARAM_INPUT, CLS_INIT_NORMAL, c->init_std, 1, 1, wd)) >= 0;
  ok &= (g->wpe = add(g, "wpe", c->context, C, CLS_PARAM_INPUT, CLS_INIT_NORMAL, c->init_std, 1, 1, wd)) >= 0;
  g->layer0 = (int)g->m.pt.count;
  for (size_t l = 0; l < c->depth && ok; l++) {
#define NAME(s) (snprintf(name, sizeof name, "h%zu.%s", l, s), name)
    ok &= add(g, NAME("ln1.g"), 1, C, CLS_PARAM_INPUT, CLS_INIT_ONE, 0, 0, 1, 0) >= 0;
    ok &= add(g, NAME("ln1.b"), 1, C, CLS_PARAM_INPUT, CLS_INIT_ZERO, 0, 0, 1, 0) >= 0;
    ok &= add(g, NAME("attn.qkv.w"), C, 3 * C, CLS_PARAM_HIDDEN, CLS_INIT_NORMAL, hid_std, 0, hid_lr * sc.blk_lr,
              wd) >= 0;
    ok &= add(g, NAME("attn.qkv.b"), 1, 3 * C, CLS_PARAM_INPUT, CLS_INIT_ZERO, 0, 0, sc.blk_lr, 0) >= 0;
    ok &= add(g, NAME("attn.proj.w"), C, C, CLS_PARAM_HIDDEN, CLS_INIT_NORMAL, res_std, 0, sc.res_lr,
              wd * sc.res_wd) >= 0;
    ok &= add(g, NAME("attn.proj.b"), 1, C, CLS_PARAM_INPUT, CLS_INIT_ZERO, 0, 0, sc.res_b_lr, 0) >= 0;
    ok &= add(g, NAME("ln2.g"), 1, C, CLS_PARAM_INPUT, CLS_INIT_ONE, 0, 0, 1, 0) >= 0;
    ok &= add(g, NAME("ln2.b"), 1, C, CLS_PARAM_INPUT, CLS_INIT_ZERO, 0, 0, 1, 0) >= 0;
#undef NAME
    ok &= cls__nn_add_mlp(&g->m.pt, l, C, &sc, wd);
  }
  ok &= (g->lnfg = add(g, "lnf.g", 1, C, CLS_PARAM_INPUT, CLS_INIT_ONE, 0, 0, 1, 0)) >= 0;
  ok &= (g->lnfb = add(g, "lnf.b", 1, C, CLS_PARAM_INPUT, CLS_INIT_ZERO, 0, 0, 1, 0)) >= 0;
  g->attn_scale = sc.attn_scale;
  g->out_mult = 1.0f / sc.m;
  return ok;
}

/* Lays out the activations for max_batch x max_seq. */
static size_t build_acts(cls_gpt *g) {
  const size_t BT = g->K * g->max_batch * g->max_seq, C = g->c.width, L = g->c.depth, H = g->c.heads;
  const size_t probs = g->K * g->max_batch * H * g->max_seq * g->max_seq;
  size_t at = 0;
#define TAKE(field, n) (field = cls__nn_take(&at, (n)))
  for (size_t l = 0; l <= L; l++) TAKE(g->m.res[l], BT * C);
  for (size_t l = 0; l < L; l++) {
    layer_acts *a = &g->layer[l];
    TAKE(a->ln1, BT * C);
    TAKE(a->ln1_mean, BT);
    TAKE(a->ln1_rstd, BT);
    TAKE(a->qkv, BT * 3 * C);
    TAKE(a->probs, probs);
    TAKE(a->atty, BT * C);
    TAKE(a->res2, BT * C);
    TAKE(a->ln2, BT * C);
    TAKE(a->ln2_mean, BT);
    TAKE(a->ln2_rstd, BT);
    TAKE(a->fch, BT * 4 * C);
    TAKE(a->fch_gelu, BT * 4 * C);
  }
  TAKE(g->lnf, BT * C);
  TAKE(g->lnf_mean, BT);
  TAKE(g->lnf_rstd, BT);
  TAKE(g->logits, BT * g->c.vocab);
  TAKE(g->losses, BT);
  TAKE(g->loss, g->K);
  TAKE(g->tokens, BT);
  TAKE(g->targets, BT);
  TAKE(g->dres, BT * C);
  TAKE(g->dln, BT * C);
  TAKE(g->dtmp, BT * C);
  TAKE(g->dqkv, BT * 3 * C);
  TAKE(g->datty, BT * C);
  TAKE(g->dfch, BT * 4 * C);
  TAKE(g->dprobs, probs);
#undef TAKE
  return at;
}

cls_status cls_gpt_create(cls_context *ctx, const cls_gpt_config *c, size_t max_batch, size_t max_seq,
                          uint64_t seed, cls_gpt **out) {
  return cls_gpt_create_models(ctx, c, 1, max_batch, max_seq, &seed, out);
}

cls_status cls_gpt_create_models(cls_context *ctx, const cls_gpt_config *c, size_t models, size_t max_batch,
                                 size_t max_seq, const uint64_t *seeds, cls_gpt **out) {
  CLS_CHECK_CTX(ctx);
  if (!c || !out || !seeds)
    return cls__fail(ctx, CLS_ERR_NULL_ARGUMENT, "cls_gpt_create: config, seeds or out is NULL");
  *out = NULL;
  if (!models || models > 4096)
    return cls__fail(ctx, CLS_ERR_INVALID_SIZE, "cls_gpt_create_models: %zu models; use 1 to 4096", models);
  char err[512];
  cls_status st = cls_gpt_config_check(c, err, sizeof err);
  if (st != CLS_OK) return cls__fail(ctx, st, "gpt config: %s", err);
  if (!max_batch || !max_seq || max_seq > c->context)
    return cls__fail(ctx, CLS_ERR_INVALID_SIZE,
                     "cls_gpt_create: batch %zu x sequence %zu: need batch >= 1 and 1 <= "
                     "sequence <= context (%zu)",
                     max_batch, max_seq, c->context);
  /* The widest operands (the logits, the MLP, the attention's scores)
   * must stay below the ops' 2^31 floats; checked in double so that the
   * products cannot wrap. */
  const double rows = (double)models * (double)max_batch * (double)max_seq;
  if (rows * (double)c->vocab > 2147483647.0 || rows * 4.0 * (double)c->width > 2147483647.0 ||
      rows * (double)c->heads * (double)max_seq > 2147483647.0)
    return cls__fail(ctx, CLS_ERR_INVALID_SIZE,
                     "cls_gpt_create: %zu model(s) of batch %zu x %zu tokens is too large for width %zu and vocab "
                     "%zu (an operand would exceed 2^31 floats): use fewer models or a smaller batch",
                     models, max_batch, max_seq, c->width, c->vocab);
  cls_gpt *g = calloc(1, sizeof *g);
  if (!g) return cls__fail(ctx, CLS_ERR_OUT_OF_MEMORY, "cls_gpt_create: out of host memory");
  g->c = *c;
  g->max_batch = max_batch;
  g->max_seq = max_seq;
  g->K = models;
  g->scale = calloc(models, sizeof *g->scale);
  const int ok = cls__nn_model_init(&g->m, ctx, c->depth, sizeof *g->layer);
  g->layer = g->m.layer;
  if (!ok || !g->scale || !build_params(g)) {
    cls_gpt_destroy(g);
    return cls__fail(ctx, CLS_ERR_OUT_OF_MEMORY, "cls_gpt_create: out of host memory");
  }
  g->S = g->m.pt.total;
  st = cls__nn_model_storage_models(&g->m, models, seeds, build_acts(g), "cls_gpt_create");
  if (st != CLS_OK) {
    cls_gpt_destroy(g);
    return st;
  }
  *out = g;
  return CLS_OK;
}

void cls_gpt_destroy(cls_gpt *g) {
  if (!g) return;
  cls__nn_model_free(&g->m);
  free(g->scale);
  free(g);
}

const cls_param_table *cls_gpt_params(const cls_gpt *g) {
  return &g->m.pt;
}
cls_param_slabs *cls_gpt_slabs(cls_gpt *g) {
  return &g->m.slabs;
}

/* ------------------------------------------------------------- forward */

/* Shorthands: A(x) is activation x, P(i)/G(i) parameter/gradient tensor i
 * (model 0's: the models' ops step by S); AK(x, n, k) model k's part of an
 * activation of n floats a model. */
#define A(off)        cls_ref_at(g->m.acts, (off))
#define P(i)          cls_ref_at(g->m.slabs.params, g->m.pt.t[(i)].offset)
#define G(i)          cls_ref_at(g->m.slabs.grads, g->m.pt.t[(i)].offset)
#define AK(off, n, k) cls_ref_at(g->m.acts, (off) + (k) * (n))
#define TRY(call)     CLS_NN_TRY(call)

/* Self-attention over every active model's B sequences: no parameters,
 * and each (sequence, head) computed as it is alone. */
static cls_attn_shape attn_shape(const cls_gpt *g) {
  cls_attn_shape s = {g->active * g->B, g->T, g->T, g->c.heads, g->c.width / g->c.heads, g->attn_scale, 1};
  return s;
}

/* Q, K, V of a packed (B, T, 3C) activation. */
static cls_attn_operand qkv_part(cls_gpt *g, size_t base, int part) {
  const size_t C = g->c.width;
  cls_attn_operand o = {A(base + (size_t)part * C), 3 * C, g->T * 3 * C};
  return o;
}

static cls_attn_operand seq(cls_gpt *g, size_t base) {
  cls_attn_operand o = {A(base), g->c.width, g->T * g->c.width};
  return o;
}

/* The linear layers of the active models (blocks.c): the rows of model k
 * follow model k-1's, so every part is contiguous. */
static cls__nn_models models_view(const cls_gpt *g) {
  cls__nn_models v = {g->m.ctx, &g->m.pt, &g->m.slabs, g->m.acts, g->active, g->S};
  return v;
}

/* scratch = x W (x: BT x in a model), then res_out = (res_in + scratch) +
 * b and the LayerNorm of res_out (cls__nn_residual_out_norm for each
 * model, one launch of each kind for all). */
static cls_status residual_out_norm(cls_gpt *g, size_t in, size_t x, int w, size_t res_in, size_t res_out,
                                    const cls__nn_norm *norm) {
  const size_t BT = g->B * g->T, C = g->c.width, K = g->active;
  TRY(cls_matmul_models(g->m.ctx, CLS_NO_TRANS, CLS_NO_TRANS, BT, C, in, 1.0f, A(x), in, BT * in, P(w), C, g->S,
                        0.0f, A(g->dtmp), C, BT * C, K, K));
  return cls_residual_layernorm_forward_models(g->m.ctx, K, BT, C, norm->eps, A(res_in), A(g->dtmp), P(w + 1),
                                               A(res_out), P(norm->gain), P(norm->shift), g->S, A(norm->y),
                                               A(norm->mean), A(norm->rstd), BT);
}

/* The LayerNorm backward of every active model (dx overwritten, add 0, or
 * added to, add 1), each model's gain and shift gradients its own. */
static cls_status ln_back(cls_gpt *g, size_t x, int gain, size_t mean, size_t rstd, size_t dy, size_t dx,
                          int add) {
  const size_t BT = g->B * g->T;
  return cls_layernorm_backward_models(g->m.ctx, g->active, BT, g->c.width, A(x), P(gain), g->S, A(mean), A(rstd),
                                       BT, A(dy), A(dx), G(gain), G(gain + 1), 1, add);
}

/* Each model's count of scored targets (host ids in [0, V) or
 * CLS_IGNORE_TARGET) into g->scale as 1 / count (0 with none). */
static cls_status target_scales(cls_gpt *g, const int32_t *targets, size_t active, size_t BT) {
  for (size_t k = 0; k < active; k++) {
    size_t count = BT;
    for (size_t i = k * BT; i < (k + 1) * BT; i++)
      if (targets[i] == CLS_IGNORE_TARGET)
        count--;
      else if (targets[i] < 0 || (size_t)targets[i] >= g->c.vocab)
        return cls__fail(g->m.ctx, CLS_ERR_INVALID_VALUE,
                         "cls_gpt_forward: target %zu is %ld; use an id in [0, %zu) or CLS_IGNORE_TARGET (-1)", i,
                         (long)targets[i], g->c.vocab);
    /* Without ignored targets this is 1/BT as it always was (bit for bit);
     * with every target ignored the loss is 0 and so is the gradient. */
    g->scale[k] = count ? 1.0f / (float)count : 0.0f;
  }
  return CLS_OK;
}

/* Whether every active model scales its loss alike (then one launch of the
 * loss ops serves all). */
static int same_scales(const cls_gpt *g) {
  for (size_t k = 1; k < g->active; k++)
    if (g->scale[k] != g->scale[0]) return 0;
  return 1;
}

/* Cross-entropy of every active model's rows and each model's mean loss
 * into loss + k; the gradient (want_grad) overwrites the logits. */
static cls_status losses(cls_gpt *g, int want_grad) {
  cls_context *ctx = g->m.ctx;
  const size_t BT = g->B * g->T, V = g->c.vocab, K = g->active;
  if (same_scales(g)) {
    TRY(cls_cross_entropy(ctx, K * BT, V, A(g->logits), A(g->targets), A(g->losses),
                          want_grad ? A(g->logits) : CLS_NOREF, g->scale[0]));
    return cls_reduce_models(ctx, CLS_REDUCE_SUM, K, BT, A(g->losses), BT, g->scale[0], A(g->loss));
  }
  for (size_t k = 0; k < K; k++) {
    TRY(cls_cross_entropy(ctx, BT, V, AK(g->logits, BT * V, k), AK(g->targets, BT, k), AK(g->losses, BT, k),
                          want_grad ? AK(g->logits, BT * V, k) : CLS_NOREF, g->scale[k]));
    TRY(cls_reduce(ctx, CLS_REDUCE_SUM, BT, AK(g->losses, BT, k), g->scale[k], A(g->loss + k)));
  }
  return CLS_OK;
}

cls_status cls_gpt_forward(cls_gpt *g, const int32_t *tokens, const int32_t *targets, size_t B, size_t T,
                           int want_grad, float *loss) {
  return cls_gpt_forward_models(g, g ? g->K : 0, tokens, targets, B, T, want_grad, loss);
}

cls_status cls_gpt_forward_models(cls_gpt *g, size_t active, const int32_t *tokens, const int32_t *targets,
                                  size_t B, size_t T, int want_grad, float *loss) {
  if (!g) return CLS_ERR_NULL_ARGUMENT;
  cls_context *ctx = g->m.ctx;
  if (!tokens || !targets) return cls__fail(ctx, CLS_ERR_NULL_ARGUMENT, "cls_gpt_forward: tokens or targets NULL");
  if (!B || !T || B > g->max_batch || T > g->max_seq)
    return cls__fail(ctx, CLS_ERR_INVALID_SIZE,
                     "cls_gpt_forward: batch %zu x %zu tokens; the model was built for at "
                     "most %zu x %zu",
                     B, T, g->max_batch, g->max_seq);
  if (!active || active > g->K)
    return cls__fail(ctx, CLS_ERR_INVALID_SIZE, "cls_gpt_forward: %zu active models; the model holds %zu", active,
                     g->K);
  const size_t BT = B * T, C = g->c.width, V = g->c.vocab, L = g->c.depth, K = active, n = K * BT;
  /* Ids travel as floats (exact below 2^24); check them on the host. A
   * target may be CLS_IGNORE_TARGET: each model's mean loss and its
   * gradient are over its other targets. */
  TRY(target_scales(g, targets, K, BT));
  /* Staged and uploaded without waiting: the host goes on queueing. */
  float *st;
  TRY(cls__nn_stage_begin(&g->m, 2 * n, &st));
  for (int which = 0; which < 2; which++) {
    const int32_t *ids = which ? targets : tokens;
    float *f = st + (size_t)which * n;
    for (size_t i = 0; i < n; i++) f[i] = (float)ids[i];
    if (!which) TRY(cls_tokens_check(ctx, f, n, V, NULL));
    TRY(cls__nn_stage_write(&g->m, which ? g->targets : g->tokens, n, f));
  }
  g->B = B;
  g->T = T;
  g->active = K;
  g->have_grad = 0;
  const cls__nn_models v = models_view(g);

  TRY(cls_embedding_forward_models(ctx, K, B, T, V, C, A(g->tokens), P(g->wte), P(g->wpe), g->S, A(g->m.res[0])));
  /* The first block's first norm; every later norm comes fused with the
   * residual add before it (residual_out_norm, the branch's output in
   * dtmp, backward scratch that is free during the forward pass). */
  TRY(cls_layernorm_forward_models(ctx, K, BT, C, 1e-5f, A(g->m.res[0]), P(g->layer0 + LN1G), P(g->layer0 + LN1B),
                                   g->S, A(g->layer[0].ln1), A(g->layer[0].ln1_mean), A(g->layer[0].ln1_rstd),
                                   BT));
  for (size_t l = 0; l < L; l++) {
    const int w = g->layer0 + (int)l * PER_LAYER;
    layer_acts *a = &g->layer[l];
    cls_attn_shape s = attn_shape(g);
    TRY(cls__nn_lin(&v, BT, C, 3 * C, a->ln1, BT * C, w + QKVW, a->qkv, BT * 3 * C, 0));
    TRY(cls_attention_forward(ctx, &s, qkv_part(g, a->qkv, 0), qkv_part(g, a->qkv, 1), qkv_part(g, a->qkv, 2),
                              A(a->probs), seq(g, a->atty)));
    const cls__nn_norm ln2 = {1e-5f, w + LN2G, w + LN2B, a->ln2, a->ln2_mean, a->ln2_rstd};
    TRY(residual_out_norm(g, C, a->atty, w + PROJW, g->m.res[l], a->res2, &ln2));
    TRY(cls__nn_lin_gelu(&v, BT, C, 4 * C, a->ln2, BT * C, w + FCW, a->fch, a->fch_gelu, BT * 4 * C));
    const cls__nn_norm next = l + 1 < L
                                  ? (cls__nn_norm){1e-5f,
                                                   w + PER_LAYER + LN1G,
                                                   w + PER_LAYER + LN1B,
                                                   g->layer[l + 1].ln1,
                                                   g->layer[l + 1].ln1_mean,
                                                   g->layer[l + 1].ln1_rstd}
                                  : (cls__nn_norm){1e-5f, g->lnfg, g->lnfb, g->lnf, g->lnf_mean, g->lnf_rstd};
    TRY(residual_out_norm(g, 4 * C, a->fch_gelu, w + FCW + 2, a->res2, g->m.res[l + 1], &next));
  }
  /* logits = out_mult * lnf wte^T, each model with its own table. */
  TRY(cls_matmul_models(ctx, CLS_NO_TRANS, CLS_TRANS, BT, V, C, g->out_mult, A(g->lnf), C, BT * C, P(g->wte), C,
                        g->S, 0.0f, A(g->logits), V, BT * V, K, K));
  /* The gradient of the mean loss overwrites the logits in place. */
  TRY(losses(g, want_grad));
  if (loss) TRY(cls_buffer_read(ctx, g->m.acts, g->loss, K, loss));
  g->have_grad = want_grad != 0;
  return CLS_OK;
}

/* ------------------------------------------------------------ backward */

cls_status cls_gpt_backward(cls_gpt *g) {
  if (!g) return CLS_ERR_NULL_ARGUMENT;
  cls_context *ctx = g->m.ctx;
  if (!g->have_grad)
    return cls__fail(ctx, CLS_ERR_INVALID_VALUE, "cls_gpt_backward: call cls_gpt_forward with want_grad first");
  g->have_grad = 0; /* the logits hold gradients now; a second backward would be wrong */
  const size_t B = g->B, T = g->T, BT = B * T, C = g->c.width, V = g->c.vocab, L = g->c.depth, K = g->active;
  const cls__nn_models v = models_view(g);

  /* Head: logits = m lnf wte^T  =>  dlnf = m dlogits wte, dwte += m dlogits^T lnf */
  TRY(cls_matmul_models(ctx, CLS_NO_TRANS, CLS_NO_TRANS, BT, C, V, g->out_mult, A(g->logits), V, BT * V, P(g->wte),
                        C, g->S, 0.0f, A(g->dln), C, BT * C, K, K));
  TRY(cls_matmul_models(ctx, CLS_TRANS, CLS_NO_TRANS, V, C, BT, g->out_mult, A(g->logits), V, BT * V, A(g->lnf), C,
                        BT * C, 1.0f, G(g->wte), C, g->S, K, K));
  TRY(ln_back(g, g->m.res[L], g->lnfg, g->lnf_mean, g->lnf_rstd, g->dln, g->dres, 0));
  for (size_t l = L; l-- > 0;) {
    const int w = g->layer0 + (int)l * PER_LAYER;
    layer_acts *a = &g->layer[l];
    cls_attn_shape s = attn_shape(g);
    /* dres holds d res[l+1] = d res2 (identity) + the MLP branch
     * (cls__nn_mlp_backward for each model). */
    TRY(cls__nn_lin_back(&v, BT, 4 * C, C, a->fch_gelu, BT * 4 * C, w + FCW + 2, g->dres, BT * C, g->dfch, 0));
    TRY(cls__nn_lin_gelu_back(&v, BT, C, 4 * C, a->ln2, BT * C, w + FCW, a->fch, g->dfch, g->dfch, BT * 4 * C,
                              g->dln, 0));
    TRY(ln_back(g, a->res2, w + LN2G, a->ln2_mean, a->ln2_rstd, g->dln, g->dres, 1));
    /* dres holds d res2 = d res[l] (identity) + the attention branch. */
    TRY(cls__nn_lin_back(&v, BT, C, C, a->atty, BT * C, w + PROJW, g->dres, BT * C, g->datty, 0));
    TRY(cls_attention_backward(ctx, &s, qkv_part(g, a->qkv, 0), qkv_part(g, a->qkv, 1), qkv_part(g, a->qkv, 2),
                               A(a->probs), seq(g, g->datty), A(g->dprobs), qkv_part(g, g->dqkv, 0),
                               qkv_part(g, g->dqkv, 1), qkv_part(g, g->dqkv, 2), 0));
    TRY(cls__nn_lin_back(&v, BT, C, 3 * C, a->ln1, BT * C, w + QKVW, g->dqkv, BT * 3 * C, g->dln, 0));
    TRY(ln_back(g, g->m.res[l], w + LN1G, a->ln1_mean, a->ln1_rstd, g->dln, g->dres, 1));
  }
  return cls_embedding_backward_models(ctx, K, B, T, V, C, A(g->tokens), A(g->dres), G(g->wte), G(g->wpe), g->S,
                                       1);
}

size_t cls_gpt_activation_count(const cls_gpt *g) {
  return g ? 2 * g->c.depth + 2 : 0;
}

cls_status cls_gpt_activation_rms(cls_gpt *g, float *out) {
  if (!g) return CLS_ERR_NULL_ARGUMENT;
  if (!out) return cls__fail(g->m.ctx, CLS_ERR_NULL_ARGUMENT, "cls_gpt_activation_rms: out is NULL");
  if (!g->B) return cls__fail(g->m.ctx, CLS_ERR_INVALID_VALUE, "cls_gpt_activation_rms: run a forward pass first");
  if (g->have_grad)
    return cls__fail(g->m.ctx, CLS_ERR_INVALID_VALUE,
                     "cls_gpt_activation_rms: the logits hold gradients; run the forward pass with want_grad = 0");
  const size_t BT = g->active * g->B * g->T, C = g->c.width, L = g->c.depth, n = cls_gpt_activation_count(g);
  /* The backward scratch is free between steps: each mean square lands in
   * one float of it, and one read brings them all back. */
  for (size_t i = 0; i < n; i++) {
    size_t off, count;
    if (i == 0)
      off = g->m.res[0], count = BT * C;
    else if (i <= L)
      off = g->layer[i - 1].atty, count = BT * C;
    else if (i <= 2 * L)
      off = g->layer[i - 1 - L].fch_gelu, count = BT * 4 * C;
    else
      off = g->logits, count = BT * g->c.vocab;
    TRY(cls_reduce(g->m.ctx, CLS_REDUCE_SUMSQ, count, A(off), 1.0f / (float)count, A(g->dtmp + i)));
  }
  TRY(cls_buffer_read(g->m.ctx, g->m.acts, g->dtmp, n, out));
  for (size_t i = 0; i < n; i++) out[i] = sqrtf(out[i]);
  return CLS_OK;
}

/* ------------------------------------------- outputs of a forward pass */

/* What the last forward pass left of its n floats at off, into out; the
 * logits only while they are not gradients. */
static cls_status read_output(cls_gpt *g, const char *fn, size_t off, size_t n, int logits, float *out) {
  if (!out) return cls__fail(g->m.ctx, CLS_ERR_NULL_ARGUMENT, "%s: out is NULL", fn);
  if (!g->B) return cls__fail(g->m.ctx, CLS_ERR_INVALID_VALUE, "%s: run a forward pass first", fn);
  if (logits && g->have_grad)
    return cls__fail(g->m.ctx, CLS_ERR_INVALID_VALUE,
                     "%s: the logits hold gradients; run the forward pass with want_grad = 0", fn);
  return cls_buffer_read(g->m.ctx, g->m.acts, off, n, out);
}

cls_status cls_gpt_read_logits(cls_gpt *g, float *out) {
  if (!g) return CLS_ERR_NULL_ARGUMENT;
  return read_output(g, "cls_gpt_read_logits", g->logits, g->active * g->B * g->T * g->c.vocab, 1, out);
}

cls_ref cls_gpt_loss_ref(const cls_gpt *g) {
  return g ? cls_ref_at(g->m.acts, g->loss) : CLS_NOREF;
}

cls_status cls_gpt_read_losses(cls_gpt *g, float *out) {
  if (!g) return CLS_ERR_NULL_ARGUMENT;
  return read_output(g, "cls_gpt_read_losses", g->losses, g->active * g->B * g->T, 0, out);
}

double cls_gpt_flops_per_step(const cls_gpt *g, size_t B, size_t T) {
  const double BT = (double)(B * T), C = (double)g->c.width, V = (double)g->c.vocab, L = (double)g->c.depth;
  /* Per token and layer: qkv 3C^2, proj C^2, fc 4C^2, fcproj 4C^2 multiply-adds; attention 2 T C. */
  double fwd = 2.0 * BT * (L * (12.0 * C * C + 2.0 * (double)T * C) + V * C);
  return 3.0 * fwd; /* backward is twice the forward */
}

void cls_gpt_count_params(const cls_gpt_config *c, double *n, double *n_embed) {
  const double d = (double)c->width, L = (double)c->depth;
  /* per block: two LayerNorms 4d, qkv 3d^2 + 3d, proj d^2 + d, MLP 8d^2 + 5d;
   * the final LayerNorm 2d; the head is tied to the token table. */
  *n = L * (12.0 * d * d + 13.0 * d) + 2.0 * d;
  *n_embed = ((double)c->vocab + (double)c->context) * d;
}

#undef A
#undef P
#undef G
#undef AK
#undef TRY

/* ------------------------------------------------ for the reference */

#include "gpt_internal.h"

const cls_gpt_config *cls__gpt_config(const cls_gpt *g) {
  return &g->c;
}
float cls__gpt_attn_scale(const cls_gpt *g) {
  return g->attn_scale;
}
float cls__gpt_out_mult(const cls_gpt *g) {
  return g->out_mult;
}
cls_context *cls__gpt_context(const cls_gpt *g) {
  return g->m.ctx;
}
int cls__gpt_index(const cls_gpt *g, const char *name) {
  return cls__nn_index(&g->m.pt, name);
}
