/*
 * src/train/task_text.c — the byte-level GPT on text (a user's file or the
 * synthetic Zipf corpus): next-byte cross-entropy, evaluated on the
 * validation split.
 *
 * Training batches: cls_text_batch(train split, seed, step); evaluation
 * batches: cls_text_batch(validation split, CLS_TASK_EVAL_SEED, i) for
 * i < n, the same windows at every evaluation and for every run seed, so
 * the eval losses of a sweep's runs are measured on the same text.
 *
 * Generations (train/synth.h, synth_text.c): with spec->corpus, training
 * example i (= step B + b) is window i of the corpus, the P real bytes of
 * a prompt and the T + 1 - P bytes a previous model wrote after them,
 * trained on whole (every target, as for real windows: the paper trains
 * on the generated text itself, and a window's first positions, which a
 * continuation alone would never train, are evaluated on real text),
 * unless the run seed's stream "mix" draws a uniform number below
 * corpus_real_fraction (pi) for i: then it is the real window generation
 * 0 trains on at i. So pi = 1 is generation 0's data.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/fmt.h"
#include "core/rng.h"
#include "data/text.h"
#include "nn/gpt.h"
#include "rundir/rundir.h"
#include "task_internal.h"

#define STREAM_MIX 0x7478746du /* "txtm" */

typedef struct {
  cls_text *text;
  cls_gpt *gpt;
  size_t B, T;
  size_t depth; /* the model's blocks (the coordinate check's activations) */
  uint64_t seed;
  int32_t *window, *inputs, *targets; /* B (T + 1); B T; B T */
  cls_corpus corpus;                  /* generations: a previous model's windows (n = 0: none) */
  double real_fraction;               /* pi: the share of real windows beside the corpus */
} text_task;

/* ------------------------------------------------------------ the model */

/* Bytes: the vocabulary is CLS_TEXT_VOCAB. */
static cls_status gpt_check(const cls_task_spec *spec, char *err, size_t err_len) {
  return cls__task_gpt_check(spec, CLS_TEXT_VOCAB, err, err_len);
}

static void gpt_count(const cls_task_spec *spec, size_t width, size_t depth, double *n, double *n_embed) {
  cls__task_gpt_count(spec, CLS_TEXT_VOCAB, width, depth, n, n_embed);
}

static const cls_model_info gpt_model = {
    .name = "gpt", .count_params = gpt_count, .check = gpt_check, .has_heads = 1};

/* ------------------------------------------------------------- the task */

/* Splits B windows of T + 1 bytes into inputs (columns 0..T-1) and targets (1..T). */
static void split_windows(text_task *x) {
  for (size_t b = 0; b < x->B; b++) {
    const int32_t *w = x->window + b * (x->T + 1);
    memcpy(x->inputs + b * x->T, w, x->T * sizeof *w);
    memcpy(x->targets + b * x->T, w + 1, x->T * sizeof *w);
  }
}

/* Reads the batch `step` of split with seed into inputs and targets. */
static cls_status batch(cls_train_task *t, cls_split split, uint64_t seed, uint64_t step) {
  text_task *x = t->impl;
  char err[256];
  cls_status s = cls_text_batch(x->text, split, seed, step, x->B, x->window, err, sizeof err);
  if (s != CLS_OK) return cls__task_data_fail(t, s, err);
  split_windows(x);
  return CLS_OK;
}

/* The training batch of `step`: generation 0's windows, with a corpus
 * each replaced by corpus window step B + b unless the mix keeps it real. */
static cls_status train_batch(cls_train_task *t, uint64_t step) {
  text_task *x = t->impl;
  cls_status s = batch(t, CLS_SPLIT_TRAIN, x->seed, step);
  if (s != CLS_OK || !x->corpus.n) return s;
  const cls_rng mix = cls_rng_make(x->seed, STREAM_MIX);
  const size_t W = x->T + 1;
  for (size_t b = 0; b < x->B && s == CLS_OK; b++) {
    const int32_t *row;
    s = cls__task_corpus_pick(t, &x->corpus, x->real_fraction, mix, step * x->B + b, &row);
    if (s == CLS_OK && row) memcpy(x->window + b * W, row, W * sizeof *row);
  }
  if (s == CLS_OK) split_windows(x);
  return s;
}

static cls_status train_step(cls_train_task *t, uint64_t step, float *loss) {
  text_task *x = t->impl;
  cls_status s = train_batch(t, step);
  if (s == CLS_OK) s = cls_gpt_forward(x->gpt, x->inputs, x->targets, x->B, x->T, 1, loss);
  if (s == CLS_OK) s = cls_gpt_backward(x->gpt);
  return s;
}

static cls_status eval_batch(cls_train_task *t, uint64_t i, float *loss) {
  text_task *x = t->impl;
  cls_status s = batch(t, CLS_SPLIT_VAL, CLS_TASK_EVAL_SEED, i);
  if (s == CLS_OK) s = cls_gpt_forward(x->gpt, x->inputs, x->targets, x->B, x->T, 0, loss);
  return s;
}

/* The coordinate check's activations on the training batch `step`. */
static cls_status coord_probe(cls_train_task *t, uint64_t step, float *out) {
  text_task *x = t->impl;
  cls_status s = train_batch(t, step);
  return s == CLS_OK ? cls__task_gpt_probe(x->gpt, x->inputs, x->targets, x->B, x->T, x->depth, out) : s;
}

static void release(void *impl) {
  text_task *x = impl;
  cls_gpt_destroy(x->gpt);
  cls_text_destroy(x->text);
  free(x->window);
  free(x->inputs);
  free(x->targets);
  cls_corpus_free(&x->corpus);
}

static const cls__task_ops text_ops = {train_step, eval_batch, coord_probe, release};

static cls_status text_check(const cls_task_spec *spec, char *err, size_t err_len) {
  if (!spec->batch) {
    snprintf(err, err_len, "`batch` must be at least 1");
    return CLS_ERR_INVALID_SIZE;
  }
  if (!(spec->val_fraction > 0)) {
    snprintf(err, err_len, "the text task evaluates on a validation split: `val_fraction` must be in (0, 0.5]");
    return CLS_ERR_INVALID_VALUE;
  }
  if (spec->prompt_bytes > spec->context) {
    snprintf(err, err_len,
             "`prompt_bytes` %zu: a teacher continues a prompt within a window of context + 1 = %zu bytes and "
             "writes at least one: use 1 to %zu (the context)",
             spec->prompt_bytes, spec->context + 1, spec->context);
    return CLS_ERR_INVALID_SIZE;
  }
  return cls__task_corpus_check(spec, err, err_len);
}

size_t cls__text_prompt_bytes(const cls_task_spec *spec) {
  if (spec->prompt_bytes) return spec->prompt_bytes;
  return spec->context >= 4 ? spec->context / 4 : 1;
}

static int is_synthetic(const cls_task_spec *spec) {
  return !spec->data || !strcmp(spec->data, "zipf");
}

void cls__text_config(const cls_task_spec *spec, cls_text_config *tc) {
  cls_text_config_default(tc);
  tc->path = is_synthetic(spec) ? NULL : spec->data;
  tc->context = spec->context;
  tc->val_fraction = spec->val_fraction;
  tc->seed = spec->data_seed;
  if (spec->zipf_bytes) tc->synth_bytes = spec->zipf_bytes;
}

/* FNV-1a 64 of the corpus: a changed file is a different dataset. */
static uint64_t fnv1a(uint64_t h, const uint8_t *p, size_t n) {
  for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 1099511628211ULL;
  return h;
}

uint64_t cls__text_hash(const cls_text *text) {
  const uint64_t h =
      fnv1a(14695981039346656037ULL, cls_text_bytes(text, CLS_SPLIT_TRAIN), cls_text_size(text, CLS_SPLIT_TRAIN));
  return fnv1a(h, cls_text_bytes(text, CLS_SPLIT_VAL), cls_text_size(text, CLS_SPLIT_VAL));
}

/* The data's accounting, the checkpoint key and the description. */
static void describe(cls_train_task *t, const cls_task_spec *spec, const cls_gpt_config *gc,
                     const cls_text_config *tc) {
  text_task *x = t->impl;
  const size_t ntrain = cls_text_size(x->text, CLS_SPLIT_TRAIN), nval = cls_text_size(x->text, CLS_SPLIT_VAL);
  t->tokens_per_step = (double)(x->B * x->T);
  t->model_flops_per_step = cls_gpt_flops_per_step(x->gpt, x->B, x->T);
  t->train_tokens = (double)ntrain;
  t->train_examples = (double)(ntrain / (x->T + 1)); /* disjoint windows: epochs are passes over the bytes */
  t->examples_per_step = (double)x->B;
  const uint64_t h = cls__text_hash(x->text);
  const int synthetic = is_synthetic(spec);
  char data[160], f[3][40];
  if (synthetic)
    snprintf(data, sizeof data, "zipf seed=%llu bytes=%zu", (unsigned long long)spec->data_seed, tc->synth_bytes);
  else
    snprintf(data, sizeof data, "file bytes=%zu", ntrain + nval);
  snprintf(t->key, sizeof t->key,
           "task=text\nmodel=gpt\nvocab=%zu\ncontext=%zu\nwidth=%zu\ndepth=%zu\nheads=%zu\nparam=%s\n"
           "base_width=%zu\ninit_std=%s\nweight_decay=%s\nbatch=%zu\nseed=%llu\ndata=%s\ndata_hash=fnv1a:%016llx\n"
           "val_fraction=%s\n",
           gc->vocab, gc->context, gc->width, gc->depth, gc->heads, cls__task_param_name(gc->param),
           gc->base_width, cls_fmt_shortest(gc->init_std, 1, f[0], 40),
           cls_fmt_shortest(gc->weight_decay, 1, f[1], 40), x->B, (unsigned long long)spec->seed, data,
           (unsigned long long)h, cls_fmt_shortest(spec->val_fraction, 0, f[2], 40));
  char mixed[64] = "";
  if (x->corpus.n) {
    cls__task_key_corpus(t, &x->corpus, x->real_fraction);
    snprintf(mixed, sizeof mixed, "; a model's corpus, %g real", x->real_fraction);
  }
  snprintf(t->describe, sizeof t->describe, "gpt w%zu d%zu h%zu ctx%zu %s, batch %zu, on %s (%zu + %zu bytes%s)",
           gc->width, gc->depth, gc->heads, gc->context, cls__task_param_name(gc->param), x->B,
           synthetic ? "the zipf corpus" : spec->data, ntrain, nval, mixed);
}

/* The text and the host buffers of a batch. */
static cls_status build_data(cls_train_task *t, const cls_text_config *tc, char *err, size_t err_len) {
  text_task *x = t->impl;
  cls_status s = cls_text_create(tc, &x->text, err, err_len);
  if (s != CLS_OK) return s;
  x->window = malloc(x->B * (x->T + 1) * sizeof *x->window);
  x->inputs = malloc(x->B * x->T * sizeof *x->inputs);
  x->targets = malloc(x->B * x->T * sizeof *x->targets);
  if (!x->window || !x->inputs || !x->targets) {
    snprintf(err, err_len, "out of host memory for a batch of %zu x %zu tokens", x->B, x->T);
    return CLS_ERR_OUT_OF_MEMORY;
  }
  return CLS_OK;
}

static cls_status make(cls_context *ctx, const cls_task_spec *spec, cls_train_task **out, char *err,
                       size_t err_len) {
  cls_train_task *t;
  cls_status s = cls__task_begin(&cls__task_text, ctx, spec, sizeof(text_task), &text_ops, &t, err, err_len);
  if (s != CLS_OK) return s;
  cls_gpt_config gc;
  cls__task_gpt_config(spec, CLS_TEXT_VOCAB, spec->width, spec->depth, spec->heads, &gc);
  cls_text_config tc;
  cls__text_config(spec, &tc);
  text_task *x = t->impl;
  x->B = spec->batch;
  x->T = spec->context;
  x->depth = spec->depth;
  x->seed = spec->seed;
  s = build_data(t, &tc, err, err_len);
  if (s == CLS_OK && spec->corpus) {
    s = cls__task_corpus_open(spec, x->T + 1, CLS_TEXT_VOCAB, "context", &x->corpus, err, err_len);
    x->real_fraction = spec->corpus_real_fraction;
  }
  if (s != CLS_OK) return cls__task_fail(t, s);
  s = cls_gpt_create(ctx, &gc, x->B, x->T, spec->seed, &x->gpt);
  if (s != CLS_OK) return cls__task_model_fail(t, s, err, err_len);
  describe(t, spec, &gc, &tc);
  t->loss_ref = cls_gpt_loss_ref(x->gpt); /* the loop reads the loss while the next step runs */
  return cls__task_done(t, cls_gpt_params(x->gpt), cls_gpt_slabs(x->gpt), out);
}

static const char *const text_fields[] = {"data", "zipf_bytes", "context", "val_fraction", "prompt_bytes", NULL};

const cls_task_info cls__task_text = {.task = "text",
                                      .model = &gpt_model,
                                      .summary = "a GPT on bytes",
                                      .fields = text_fields,
                                      .check = text_check,
                                      .make = make,
                                      .coord_layers = cls__gpt_coord_layers,
                                      .synth_check = cls__text_synth_check,
                                      .synthesize = cls__text_synthesize,
                                      .models = &cls__text_models};

/* ------------------------------------------- models side by side
 *
 * The text task for K GPTs of one shape (train/models.h): the same text
 * and batches as the task above, model k's training windows drawn with
 * its own seed (and, with a corpus, its own mix), all K run as one
 * forward and backward pass; every model evaluates on the same windows. */

typedef struct {
  cls__gpt_group q;     /* first: the shared group functions take it as the impl */
  text_task x;          /* the text, the corpus, the model and one model's batch buffers */
  cls_train_task shell; /* a bare task around x, for the batch functions' errors */
} text_models;

static cls_status fill_train(void *impl, size_t k, uint64_t step);
static cls_status fill_eval(void *impl, size_t k, uint64_t i);

static void models_destroy(void *impl) {
  text_models *g = impl;
  if (!g) return;
  release(&g->x);
  cls__gpt_group_free(&g->q);
  free(g);
}

static cls_status models_create(cls_context *ctx, const cls_task_spec *spec, size_t K, const uint64_t *seeds,
                                void **out, char *err, size_t err_len) {
  *out = NULL;
  cls_status s = cls__task_check_spec(&cls__task_text, spec, err, err_len);
  if (s != CLS_OK) return s;
  text_models *g = calloc(1, sizeof *g);
  if (!g) {
    snprintf(err, err_len, "out of host memory");
    return CLS_ERR_OUT_OF_MEMORY;
  }
  g->shell.impl = &g->x;
  cls_gpt_config gc;
  cls__task_gpt_config(spec, CLS_TEXT_VOCAB, spec->width, spec->depth, spec->heads, &gc);
  cls_text_config tc;
  cls__text_config(spec, &tc);
  text_task *x = &g->x;
  x->B = spec->batch;
  x->T = spec->context;
  x->depth = spec->depth;
  s = build_data(&g->shell, &tc, err, err_len);
  if (s == CLS_OK && spec->corpus) {
    s = cls__task_corpus_open(spec, x->T + 1, CLS_TEXT_VOCAB, "context", &x->corpus, err, err_len);
    x->real_fraction = spec->corpus_real_fraction;
  }
  if (s == CLS_OK) s = cls__gpt_group_alloc(&g->q, K, x->B, x->T, seeds, err, err_len);
  if (s == CLS_OK) {
    s = cls_gpt_create_models(ctx, &gc, K, x->B, x->T, seeds, &x->gpt);
    if (s != CLS_OK) snprintf(err, err_len, "%s", cls_last_error(ctx));
  }
  if (s != CLS_OK) {
    if (g->shell.error[0]) snprintf(err, err_len, "%s", g->shell.error);
    models_destroy(g);
    return s;
  }
  g->q.gpt = x->gpt;
  g->q.shell = &g->shell;
  g->q.in = x->inputs;
  g->q.tg = x->targets;
  g->q.fill_train = fill_train;
  g->q.fill_eval = fill_eval;
  *out = g;
  return CLS_OK;
}

/* Model k's training windows of `step` (and, with a corpus, its mix):
 * those of model k alone. */
static cls_status fill_train(void *impl, size_t k, uint64_t step) {
  text_models *g = impl;
  g->x.seed = g->q.seeds[k];
  return train_batch(&g->shell, step);
}

static cls_status fill_eval(void *impl, size_t k, uint64_t i) {
  (void)k;
  text_models *g = impl;
  return batch(&g->shell, CLS_SPLIT_VAL, CLS_TASK_EVAL_SEED, i);
}

static cls_status models_view(void *impl, size_t k, const cls_task_spec *spec, const cls_train_task *alone,
                              cls_train_task *view) {
  text_models *g = impl;
  if (k >= g->q.K) return CLS_ERR_INVALID_VALUE;
  cls_gpt_config gc;
  cls__task_gpt_config(spec, CLS_TEXT_VOCAB, spec->width, spec->depth, spec->heads, &gc);
  cls_text_config tc;
  cls__text_config(spec, &tc);
  cls_task_spec mine = *spec;
  mine.seed = g->q.seeds[k];
  memset(view, 0, sizeof *view);
  view->impl = &g->x;
  describe(view, &mine, &gc, &tc); /* the key and description of model k alone */
  view->impl = NULL;
  view->ctx = alone->ctx;
  view->model_flops_per_step = alone->model_flops_per_step;
  cls__task_set_model(view, cls_gpt_params(g->x.gpt), cls_gpt_slabs(g->x.gpt));
  return CLS_OK;
}

const cls__models_ops cls__text_models = {models_create,
                                          models_destroy,
                                          cls__gpt_group_params,
                                          cls__gpt_group_slabs,
                                          cls__gpt_group_loss_ref,
                                          cls__gpt_group_tokens_per_step,
                                          cls__gpt_group_train_step,
                                          cls__gpt_group_evaluate,
                                          models_view};
