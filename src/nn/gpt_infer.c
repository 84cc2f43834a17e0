/*
 * src/nn/gpt_infer.c — generation from the GPT with a key/value cache (see
 * gpt_infer.h).
 *
 * The forward pass of cls_gpt_forward, for T new positions per sequence
 * starting at pos0: the same ops in the same order, except that each
 * layer's keys and values go into its cache (cls_kv_store) and the
 * attention of the new queries reads the cache (cls_attention_decode). A
 * prefill is the pass at pos0 = 0 over the prompt; a step is the pass over
 * one token. Only the last position's logits are computed: generation
 * needs no others.
 */
#include "nn/gpt_infer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blocks_internal.h"
#include "device/layer.h"
#include "gpt_internal.h"

/* Scores of the prefill's attention are kept per query: the queries of a
 * long prompt go in chunks whose scratch stays below this many floats. */
#define SCRATCH_FLOATS ((size_t)1 << 22)

typedef struct {
  int ln1, qkv, proj, ln2, fc; /* parameter table indices (weights; the bias follows each) */
  size_t kc, vc;               /* the layer's caches, offsets into acts */
} layer_info;

struct cls_gpt_infer {
  cls_gpt *g;
  cls_context *ctx;
  cls__nn_view view; /* the model's parameters, this state's activations */
  size_t max_batch, cap, C, H, dh, V, L;
  int wte, wpe, lnf;
  float attn_scale, out_mult;
  layer_info *layer;
  cls_buffer *acts;
  /* Offsets into acts. */
  size_t res, res2, ln, ln_mean, ln_rstd, qkv, atty, fch, fch_gelu, logits, tokens, scores, sample_scratch, hist;
  size_t q_chunk; /* queries per attention launch */
  size_t B, pos;  /* of the cache: its batch and the positions it holds */
  float *host;    /* staging: max_batch x cap floats */
};

#define A(off)    cls_ref_at(s->acts, (off))
#define P(i)      cls_ref_at(s->view.slabs->params, s->view.pt->t[(i)].offset)
#define TRY(call) CLS_NN_TRY(call)

void cls_gpt_sample_config_default(cls_gpt_sample_config *c) {
  memset(c, 0, sizeof *c);
  cls_sample_params_default(&c->sampling);
  c->stop_token = -1;
}

static int index_of(const cls_gpt *g, size_t l, const char *what) {
  char name[48];
  snprintf(name, sizeof name, "h%zu.%s", l, what);
  return cls__gpt_index(g, name);
}

cls_status cls_gpt_infer_create(cls_gpt *g, size_t max_batch, cls_gpt_infer **out) {
  if (!g) return CLS_ERR_NULL_ARGUMENT;
  cls_context *ctx = cls__gpt_context(g);
  if (!out) return cls__fail(ctx, CLS_ERR_NULL_ARGUMENT, "cls_gpt_infer_create: out is NULL");
  *out = NULL;
  if (!max_batch) return cls__fail(ctx, CLS_ERR_INVALID_SIZE, "cls_gpt_infer_create: `batch` must be at least 1");
  const cls_gpt_config *c = cls__gpt_config(g);
  cls_gpt_infer *s = calloc(1, sizeof *s);
  if (!s) return cls__fail(ctx, CLS_ERR_OUT_OF_MEMORY, "cls_gpt_infer_create: out of host memory");
  s->g = g;
  s->ctx = ctx;
  s->view.ctx = ctx;
  s->view.pt = cls_gpt_params(g);
  s->view.slabs = cls_gpt_slabs(g);
  s->max_batch = max_batch;
  s->cap = c->context;
  s->C = c->width;
  s->H = c->heads;
  s->dh = c->width / c->heads;
  s->V = c->vocab;
  s->L = c->depth;
  s->attn_scale = cls__gpt_attn_scale(g);
  s->out_mult = cls__gpt_out_mult(g);
  s->wte = cls__gpt_index(g, "wte");
  s->wpe = cls__gpt_index(g, "wpe");
  s->lnf = cls__gpt_index(g, "lnf.g");
  s->layer = calloc(s->L, sizeof *s->layer);
  const size_t rows = max_batch * s->cap, C = s->C;
  s->host = malloc(rows * sizeof *s->host);
  if (!s->layer || !s->host) {
    cls_gpt_infer_destroy(s);
    return cls__fail(ctx, CLS_ERR_OUT_OF_MEMORY, "cls_gpt_infer_create: out of host memory");
  }
  const size_t per_query = max_batch * s->H * s->cap;
  s->q_chunk = SCRATCH_FLOATS / per_query;
  if (s->q_chunk < 1) s->q_chunk = 1;
  if (s->q_chunk > s->cap) s->q_chunk = s->cap;

  size_t at = 0;
#define TAKE(field, n) (field = cls__nn_take(&at, (n)))
  TAKE(s->res, rows * C);
  TAKE(s->res2, rows * C);
  TAKE(s->ln, rows * C);
  TAKE(s->ln_mean, rows);
  TAKE(s->ln_rstd, rows);
  TAKE(s->qkv, rows * 3 * C);
  TAKE(s->atty, rows * C);
  TAKE(s->fch, rows * 4 * C);
  TAKE(s->fch_gelu, rows * 4 * C);
  TAKE(s->logits, max_batch * s->V);
  TAKE(s->tokens, rows);
  TAKE(s->scores, per_query * s->q_chunk);
  TAKE(s->sample_scratch, cls_sample_scratch(max_batch, s->V));
  TAKE(s->hist, rows);
  int ok = s->wte >= 0 && s->wpe >= 0 && s->lnf >= 0;
  for (size_t l = 0; l < s->L; l++) {
    layer_info *li = &s->layer[l];
    li->ln1 = index_of(g, l, "ln1.g");
    li->qkv = index_of(g, l, "attn.qkv.w");
    li->proj = index_of(g, l, "attn.proj.w");
    li->ln2 = index_of(g, l, "ln2.g");
    li->fc = index_of(g, l, "mlp.fc.w");
    ok &= li->ln1 >= 0 && li->qkv >= 0 && li->proj >= 0 && li->ln2 >= 0 && li->fc >= 0;
    TAKE(li->kc, rows * C);
    TAKE(li->vc, rows * C);
  }
#undef TAKE
  if (!ok) {
    cls_gpt_infer_destroy(s);
    return cls__fail(ctx, CLS_ERR_INTERNAL, "cls_gpt_infer_create: the model's parameter table lacks a tensor");
  }
  if (at > 2147483647u) {
    cls_gpt_infer_destroy(s);
    return cls__fail(ctx, CLS_ERR_INVALID_SIZE,
                     "cls_gpt_infer_create: the cache and activations of %zu sequences of %zu positions take %zu "
                     "floats, beyond the kernels' 2^31-1: lower `batch`",
                     max_batch, s->cap, at);
  }
  cls_status st = cls_buffer_alloc(ctx, at, &s->acts);
  if (st != CLS_OK) {
    cls_gpt_infer_destroy(s);
    return st;
  }
  s->view.acts = s->acts;
  *out = s;
  return CLS_OK;
}

void cls_gpt_infer_destroy(cls_gpt_infer *s) {
  if (!s) return;
  cls_buffer_free(s->acts);
  free(s->layer);
  free(s->host);
  free(s);
}

size_t cls_gpt_infer_position(const cls_gpt_infer *s) {
  return s ? s->pos : 0;
}

/* ------------------------------------------------------- the forward pass */

/* The pass over T positions per sequence from pos0, their tokens already
 * in A(tokens) (B x T float ids); the logits of the last position into
 * A(logits). */
static cls_status forward(cls_gpt_infer *s, size_t B, size_t T, size_t pos0) {
  cls_context *ctx = s->ctx;
  const size_t rows = B * T, C = s->C, V = s->V;
  const cls__nn_view *v = &s->view;
  /* Position pos0 + t is row t of the position table from row pos0 on. */
  const cls_ref wpe = cls_ref_at(P(s->wpe).buf, P(s->wpe).offset + pos0 * C);
  TRY(cls_embedding_forward(ctx, B, T, V, C, A(s->tokens), P(s->wte), wpe, A(s->res)));
  for (size_t l = 0; l < s->L; l++) {
    const layer_info *li = &s->layer[l];
    TRY(cls_layernorm_forward(ctx, rows, C, 1e-5f, A(s->res), P(li->ln1), P(li->ln1 + 1), A(s->ln), A(s->ln_mean),
                              A(s->ln_rstd)));
    TRY(cls_nn_linear(ctx, v->pt, v->slabs, rows, C, 3 * C, A(s->ln), li->qkv, A(s->qkv), 0));
    cls_kv_shape sh = {B, T, s->H, s->dh, s->cap, pos0, s->attn_scale};
    const cls_attn_operand k = {A(s->qkv + C), 3 * C, T * 3 * C}, val = {A(s->qkv + 2 * C), 3 * C, T * 3 * C};
    TRY(cls_kv_store(ctx, &sh, k, val, A(li->kc), A(li->vc)));
    for (size_t q0 = 0; q0 < T; q0 += s->q_chunk) {
      sh.tq = T - q0 < s->q_chunk ? T - q0 : s->q_chunk;
      sh.pos0 = pos0 + q0;
      const cls_attn_operand q = {A(s->qkv + q0 * 3 * C), 3 * C, T * 3 * C};
      const cls_attn_operand o = {A(s->atty + q0 * C), C, T * C};
      TRY(cls_attention_decode(ctx, &sh, q, A(li->kc), A(li->vc), A(s->scores), o));
    }
    TRY(cls__nn_attn_out_forward(v, rows, C, s->res, s->atty, li->proj, s->res2));
    TRY(cls_layernorm_forward(ctx, rows, C, 1e-5f, A(s->res2), P(li->ln2), P(li->ln2 + 1), A(s->ln), A(s->ln_mean),
                              A(s->ln_rstd)));
    TRY(cls__nn_mlp_forward(v, rows, C, s->ln, li->fc, s->fch, s->fch_gelu, s->res2, s->res));
  }
  TRY(cls_layernorm_forward(ctx, rows, C, 1e-5f, A(s->res), P(s->lnf), P(s->lnf + 1), A(s->ln), A(s->ln_mean),
                            A(s->ln_rstd)));
  /* logits = out_mult * lnf wte^T on each sequence's last row: rows T-1,
   * 2T-1, ... are a matrix of leading dimension T C. */
  return cls_matmul(ctx, CLS_NO_TRANS, CLS_TRANS, B, V, C, s->out_mult, A(s->ln + (T - 1) * C), T * C, P(s->wte),
                    C, 0.0f, A(s->logits), V);
}

/* B x T host ids into A(tokens), checked. */
static cls_status put_tokens(cls_gpt_infer *s, const int32_t *tokens, size_t n) {
  for (size_t i = 0; i < n; i++) s->host[i] = (float)tokens[i];
  TRY(cls_tokens_check(s->ctx, s->host, n, s->V, NULL));
  return cls_buffer_write(s->ctx, s->acts, s->tokens, n, s->host);
}

cls_status cls_gpt_infer_prefill(cls_gpt_infer *s, const int32_t *tokens, size_t B, size_t T) {
  if (!s) return CLS_ERR_NULL_ARGUMENT;
  if (!tokens) return cls__fail(s->ctx, CLS_ERR_NULL_ARGUMENT, "cls_gpt_infer_prefill: tokens is NULL");
  if (!B || B > s->max_batch || !T || T > s->cap)
    return cls__fail(
        s->ctx, CLS_ERR_INVALID_SIZE,
        "cls_gpt_infer_prefill: %zu sequences of %zu tokens; this state takes 1 to %zu sequences of 1 "
        "to %zu (the context)",
        B, T, s->max_batch, s->cap);
  s->pos = 0;
  TRY(put_tokens(s, tokens, B * T));
  TRY(forward(s, B, T, 0));
  s->B = B;
  s->pos = T;
  return CLS_OK;
}

cls_status cls_gpt_infer_step(cls_gpt_infer *s, const int32_t *tokens) {
  if (!s) return CLS_ERR_NULL_ARGUMENT;
  if (!tokens) return cls__fail(s->ctx, CLS_ERR_NULL_ARGUMENT, "cls_gpt_infer_step: tokens is NULL");
  if (!s->pos) return cls__fail(s->ctx, CLS_ERR_INVALID_VALUE, "cls_gpt_infer_step: prefill a prompt first");
  if (s->pos >= s->cap)
    return cls__fail(s->ctx, CLS_ERR_INVALID_SIZE, "cls_gpt_infer_step: the cache holds the whole context (%zu)",
                     s->cap);
  TRY(put_tokens(s, tokens, s->B));
  TRY(forward(s, s->B, 1, s->pos));
  s->pos++;
  return CLS_OK;
}

cls_status cls_gpt_infer_logits(cls_gpt_infer *s, float *out) {
  if (!s) return CLS_ERR_NULL_ARGUMENT;
  if (!out) return cls__fail(s->ctx, CLS_ERR_NULL_ARGUMENT, "cls_gpt_infer_logits: out is NULL");
  if (!s->pos) return cls__fail(s->ctx, CLS_ERR_INVALID_VALUE, "cls_gpt_infer_logits: prefill a prompt first");
  return cls_buffer_read(s->ctx, s->acts, s->logits, s->B * s->V, out);
}

/* ------------------------------------------------------------- sampling */

cls_status cls_gpt_sample_check(const cls_gpt *g, const cls_gpt_sample_config *c, size_t B, size_t prompt_len,
                                size_t gen_len, char *err, size_t n) {
  if (!g || !c) return CLS_ERR_NULL_ARGUMENT;
  const cls_gpt_config *gc = cls__gpt_config(g);
  cls_status st = cls_sample_params_check(&c->sampling, err, n);
  if (st != CLS_OK) return st;
  if (!B) {
    snprintf(err, n, "`batch` must be at least 1");
    return CLS_ERR_INVALID_SIZE;
  }
  if (!prompt_len) {
    snprintf(err, n, "the `prompt` is empty: give at least one token");
    return CLS_ERR_INVALID_SIZE;
  }
  /* A sequence may be one token longer than the context: the last token
   * drawn is never fed back, so it needs no position (a model trained on
   * windows of context + 1 tokens writes whole windows). */
  if (prompt_len > gc->context) {
    snprintf(err, n,
             "the `prompt` has %zu tokens, and the model's context is %zu: a prompt of at most %zu tokens leaves "
             "room to generate",
             prompt_len, gc->context, gc->context);
    return CLS_ERR_INVALID_SIZE;
  }
  if (!gen_len) {
    snprintf(err, n, "`length` 0 generates nothing: ask for at least 1 token");
    return CLS_ERR_INVALID_SIZE;
  }
  if (gen_len > gc->context + 1 - prompt_len) {
    snprintf(err, n,
             "`length` %zu with a prompt of %zu tokens is beyond the model's context of %zu: ask for at most %zu "
             "tokens (the last one needs no position), or shorten the prompt",
             gen_len, prompt_len, gc->context, gc->context + 1 - prompt_len);
    return CLS_ERR_INVALID_SIZE;
  }
  if (c->stop_token < -1 || (c->stop_token >= 0 && (size_t)c->stop_token >= gc->vocab)) {
    snprintf(err, n, "`stop_token` %d is not a token of the model's vocabulary [0, %zu) (-1: none)",
             (int)c->stop_token, gc->vocab);
    return CLS_ERR_INVALID_VALUE;
  }
  if (c->no_cache != 0 && c->no_cache != 1) {
    snprintf(err, n, "`no_cache` is %d; use 0 or 1", c->no_cache);
    return CLS_ERR_INVALID_VALUE;
  }
  return CLS_OK;
}

/* Draws the tokens of position pos into A(tokens) (the next step's input)
 * and keeps them in column i of the history. */
static cls_status draw(cls_gpt_infer *s, const cls_gpt_sample_config *c, size_t B, size_t i, size_t pos) {
  TRY(cls_sample(s->ctx, B, s->V, A(s->logits), &c->sampling, c->first_sequence, (uint32_t)pos,
                 A(s->sample_scratch), A(s->tokens)));
  return cls_buffer_copy(s->ctx, s->acts, s->tokens, s->acts, s->hist + i * B, B);
}

/* Marks the rows whose token (host floats, B of them) is the stop token;
 * 1 when every row has stopped. */
static int note_stops(const float *tok, size_t B, int32_t stop, size_t i, size_t *stopped_at) {
  int all = 1;
  for (size_t b = 0; b < B; b++) {
    if (stopped_at[b] == (size_t)-1 && tok[b] == (float)stop) stopped_at[b] = i;
    all &= stopped_at[b] != (size_t)-1;
  }
  return all;
}

/* The generation loop; the history (gen columns of B) stays on the
 * device until the end. Returns the columns generated in *done. */
static cls_status generate(cls_gpt_infer *s, const cls_gpt_sample_config *c, const int32_t *prompts, size_t B,
                           size_t P, size_t gen, size_t *stopped_at, size_t *done) {
  const int stop = c->stop_token >= 0;
  int32_t *seq = NULL; /* no_cache: the sequences so far, B x (P + gen) */
  cls_status st = CLS_OK;
  if (c->no_cache) {
    seq = malloc(B * (P + gen) * sizeof *seq);
    if (!seq) return cls__fail(s->ctx, CLS_ERR_OUT_OF_MEMORY, "cls_gpt_infer_sample: out of host memory");
    for (size_t b = 0; b < B; b++) memcpy(seq + b * (P + gen), prompts + b * P, P * sizeof *seq);
  }
  *done = 0;
  if (!c->no_cache) st = cls_gpt_infer_prefill(s, prompts, B, P);
  for (size_t i = 0; i < gen && st == CLS_OK; i++) {
    if (c->no_cache) {
      /* The whole prefix again: rows of length P + i, packed. */
      int32_t *packed = malloc(B * (P + i) * sizeof *packed);
      if (!packed) {
        st = cls__fail(s->ctx, CLS_ERR_OUT_OF_MEMORY, "cls_gpt_infer_sample: out of host memory");
        break;
      }
      for (size_t b = 0; b < B; b++) memcpy(packed + b * (P + i), seq + b * (P + gen), (P + i) * sizeof *packed);
      st = cls_gpt_infer_prefill(s, packed, B, P + i);
      free(packed);
      if (st != CLS_OK) break;
    }
    if ((st = draw(s, c, B, i, P + i)) != CLS_OK) break;
    *done = i + 1;
    int all_stopped = 0;
    if (stop || c->no_cache) {
      if ((st = cls_buffer_read(s->ctx, s->acts, s->tokens, B, s->host)) != CLS_OK) break;
      if (stop) all_stopped = note_stops(s->host, B, c->stop_token, i, stopped_at);
      if (c->no_cache)
        for (size_t b = 0; b < B; b++) seq[b * (P + gen) + P + i] = s->host[b] < 0 ? 0 : (int32_t)s->host[b];
    }
    if (c->progress) c->progress(c->progress_user, i + 1, gen);
    if (all_stopped) break;
    /* The token just drawn is the next step's input, already in place. */
    if (!c->no_cache && i + 1 < gen) {
      if ((st = forward(s, B, 1, s->pos)) != CLS_OK) break;
      s->pos++;
    }
  }
  free(seq);
  return st;
}

cls_status cls_gpt_infer_sample(cls_gpt_infer *s, const cls_gpt_sample_config *c, const int32_t *prompts, size_t B,
                                size_t P, size_t gen, int32_t *out, size_t *lengths) {
  if (!s) return CLS_ERR_NULL_ARGUMENT;
  cls_context *ctx = s->ctx;
  if (!c || !prompts || !out)
    return cls__fail(ctx, CLS_ERR_NULL_ARGUMENT, "cls_gpt_infer_sample: config, prompts or out is NULL");
  char err[512];
  cls_status st = cls_gpt_sample_check(s->g, c, B, P, gen, err, sizeof err);
  if (st != CLS_OK) return cls__fail(ctx, st, "cls_gpt_infer_sample: %s", err);
  if (B > s->max_batch)
    return cls__fail(ctx, CLS_ERR_INVALID_SIZE, "cls_gpt_infer_sample: `batch` %zu; this state takes at most %zu",
                     B, s->max_batch);
  size_t *stopped_at = malloc(B * sizeof *stopped_at), done = 0;
  float *hist = malloc(B * gen * sizeof *hist);
  if (!stopped_at || !hist) {
    free(stopped_at), free(hist);
    return cls__fail(ctx, CLS_ERR_OUT_OF_MEMORY, "cls_gpt_infer_sample: out of host memory");
  }
  for (size_t b = 0; b < B; b++) stopped_at[b] = (size_t)-1;
  st = generate(s, c, prompts, B, P, gen, stopped_at, &done);
  if (st == CLS_OK && done) st = cls_buffer_read(ctx, s->acts, s->hist, done * B, hist);
  for (size_t i = 0; i < done && st == CLS_OK; i++)
    for (size_t b = 0; b < B; b++)
      if (hist[i * B + b] < 0) {
        st = cls__fail(ctx, CLS_ERR_NUMERIC,
                       "cls_gpt_infer_sample: the logits of sequence %zu at position %zu are not finite (NaN or "
                       "inf): the model has diverged",
                       b, P + i);
        break;
      }
  if (st == CLS_OK) {
    for (size_t b = 0; b < B; b++) {
      const size_t end = stopped_at[b] == (size_t)-1 ? gen : stopped_at[b] + 1;
      for (size_t i = 0; i < gen; i++)
        out[b * gen + i] = i < end && i < done ? (int32_t)hist[i * B + b] : c->stop_token;
      if (lengths) lengths[b] = end;
    }
  }
  free(stopped_at);
  free(hist);
  return st;
}

cls_status cls_gpt_sample(cls_gpt *g, const cls_gpt_sample_config *c, const int32_t *prompts, size_t B,
                          size_t prompt_len, size_t gen_len, int32_t *out, size_t *lengths) {
  if (!g) return CLS_ERR_NULL_ARGUMENT;
  cls_gpt_infer *s;
  cls_status st = cls_gpt_infer_create(g, B ? B : 1, &s);
  if (st != CLS_OK) return st;
  st = cls_gpt_infer_sample(s, c, prompts, B, prompt_len, gen_len, out, lengths);
  cls_gpt_infer_destroy(s);
  return st;
}
