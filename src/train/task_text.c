/*
 * src/train/task_text.c — the byte-level GPT on text (a user's file or the
 * synthetic Zipf corpus): next-byte cross-entropy, evaluated on the
 * validation split.
 *
 * Training batches: cls_text_batch(train split, seed, step); evaluation
 * batches: cls_text_batch(validation split, EVAL_SEED, i) for i < n, the
 * same windows at every evaluation and for every run seed, so the eval
 * losses of a sweep's runs are measured on the same text.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/text.h"
#include "train/log.h"
#include "nn/gpt.h"
#include "train/task.h"

#define EVAL_SEED 0x6576616cULL /* "eval" */

typedef struct {
  cls_text *text;
  cls_gpt *gpt;
  size_t B, T;
  uint64_t seed;
  int32_t *window, *inputs, *targets; /* B (T + 1); B T; B T */
} text_task;

/* Splits B windows of T + 1 bytes into inputs (columns 0..T-1) and targets (1..T). */
static void split_windows(text_task *x) {
  for (size_t b = 0; b < x->B; b++) {
    const int32_t *w = x->window + b * (x->T + 1);
    memcpy(x->inputs + b * x->T, w, x->T * sizeof *w);
    memcpy(x->targets + b * x->T, w + 1, x->T * sizeof *w);
  }
}

/* A data-layer failure, reported through the context like a library error. */
static cls_status data_fail(cls_train_task *t, cls_status s, const char *what) {
  snprintf(t->error, sizeof t->error, "%s", what);
  return s;
}

static cls_status train_step(cls_train_task *t, uint64_t step, float *loss) {
  text_task *x = t->impl;
  char err[256];
  cls_status s = cls_text_batch(x->text, CLS_SPLIT_TRAIN, x->seed, step, x->B, x->window, err, sizeof err);
  if (s != CLS_OK) return data_fail(t, s, err);
  split_windows(x);
  s = cls_gpt_forward(x->gpt, x->inputs, x->targets, x->B, x->T, 1, loss);
  if (s == CLS_OK) s = cls_gpt_backward(x->gpt);
  return s;
}

static cls_status evaluate(cls_train_task *t, size_t n_batches, double *loss) {
  text_task *x = t->impl;
  char err[256];
  double sum = 0;
  for (size_t i = 0; i < n_batches; i++) {
    cls_status s = cls_text_batch(x->text, CLS_SPLIT_VAL, EVAL_SEED, i, x->B, x->window, err, sizeof err);
    if (s != CLS_OK) return data_fail(t, s, err);
    split_windows(x);
    float l;
    s = cls_gpt_forward(x->gpt, x->inputs, x->targets, x->B, x->T, 0, &l);
    if (s != CLS_OK) return s;
    sum += l;
  }
  *loss = n_batches ? sum / (double)n_batches : 0.0;
  return CLS_OK;
}

static void destroy(cls_train_task *t) {
  text_task *x = t->impl;
  if (x) {
    cls_gpt_destroy(x->gpt);
    cls_text_destroy(x->text);
    free(x->window);
    free(x->inputs);
    free(x->targets);
    free(x);
  }
  free(t);
}

/* FNV-1a 64 of the corpus: a changed file is a different dataset. */
static uint64_t fnv1a(uint64_t h, const uint8_t *p, size_t n) {
  for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 1099511628211ULL;
  return h;
}

cls_status cls__task_text_gpt(cls_context *ctx, const cls_task_spec *spec, cls_train_task **out, char *err,
                              size_t err_len) {
  *out = NULL;
  cls_gpt_config gc;
  cls_gpt_config_default(&gc);
  gc.context = spec->context;
  gc.width = spec->width;
  gc.depth = spec->depth;
  gc.heads = spec->heads;
  gc.param = spec->param;
  gc.base_width = spec->base_width;
  gc.init_std = spec->init_std;
  gc.weight_decay = spec->weight_decay;
  cls_status s = cls_gpt_config_check(&gc, err, err_len);
  if (s != CLS_OK) return s;
  if (!spec->batch) {
    snprintf(err, err_len, "batch must be at least 1");
    return CLS_ERR_INVALID_SIZE;
  }
  const int synthetic = !spec->data || !strcmp(spec->data, "zipf");

  cls_text_config tc;
  cls_text_config_default(&tc);
  tc.path = synthetic ? NULL : spec->data;
  tc.context = spec->context;
  tc.val_fraction = spec->val_fraction;
  tc.seed = spec->data_seed;
  if (spec->zipf_bytes) tc.synth_bytes = spec->zipf_bytes;
  if (!(spec->val_fraction > 0)) {
    snprintf(err, err_len, "the text task evaluates on a validation split: val_fraction must be in (0, 0.5]");
    return CLS_ERR_INVALID_VALUE;
  }

  cls_train_task *t = calloc(1, sizeof *t);
  text_task *x = calloc(1, sizeof *x);
  if (!t || !x) {
    free(t);
    free(x);
    snprintf(err, err_len, "out of host memory");
    return CLS_ERR_OUT_OF_MEMORY;
  }
  t->impl = x;
  t->ctx = ctx;
  t->destroy = destroy;
  t->train_step = train_step;
  t->evaluate = evaluate;
  x->B = spec->batch;
  x->T = spec->context;
  x->seed = spec->seed;

  s = cls_text_create(&tc, &x->text, err, err_len);
  if (s != CLS_OK) {
    destroy(t);
    return s;
  }
  x->window = malloc(x->B * (x->T + 1) * sizeof *x->window);
  x->inputs = malloc(x->B * x->T * sizeof *x->inputs);
  x->targets = malloc(x->B * x->T * sizeof *x->targets);
  if (!x->window || !x->inputs || !x->targets) {
    destroy(t);
    snprintf(err, err_len, "out of host memory for a batch of %zu x %zu tokens", x->B, x->T);
    return CLS_ERR_OUT_OF_MEMORY;
  }
  s = cls_gpt_create(ctx, &gc, x->B, x->T, spec->seed, &x->gpt);
  if (s != CLS_OK) {
    snprintf(err, err_len, "%s", cls_last_error(ctx));
    destroy(t);
    return s;
  }
  const cls_param_table *pt = cls_gpt_params(x->gpt);
  t->params = pt;
  t->slabs = cls_gpt_slabs(x->gpt);
  t->n_params = (double)cls_param_count(pt, 0);
  t->n_params_embed = (double)cls_param_count(pt, 1) - t->n_params;
  t->tokens_per_step = (double)(x->B * x->T);
  t->model_flops_per_step = cls_gpt_flops_per_step(x->gpt, x->B, x->T);

  const size_t ntrain = cls_text_size(x->text, CLS_SPLIT_TRAIN), nval = cls_text_size(x->text, CLS_SPLIT_VAL);
  t->train_tokens = (double)ntrain;
  t->train_examples = (double)(ntrain / (x->T + 1)); /* disjoint windows: epochs are passes over the bytes */
  t->examples_per_step = (double)x->B;
  uint64_t h = fnv1a(14695981039346656037ULL, cls_text_bytes(x->text, CLS_SPLIT_TRAIN), ntrain);
  h = fnv1a(h, cls_text_bytes(x->text, CLS_SPLIT_VAL), nval);
  char data[160], f[3][40];
  if (synthetic)
    snprintf(data, sizeof data, "zipf seed=%llu bytes=%zu", (unsigned long long)spec->data_seed, tc.synth_bytes);
  else
    snprintf(data, sizeof data, "file bytes=%zu", ntrain + nval);
  snprintf(t->key, sizeof t->key,
           "task=text\nmodel=gpt\nvocab=%zu\ncontext=%zu\nwidth=%zu\ndepth=%zu\nheads=%zu\nparam=%s\n"
           "base_width=%zu\ninit_std=%s\nweight_decay=%s\nbatch=%zu\nseed=%llu\ndata=%s\ndata_hash=fnv1a:%016llx\n"
           "val_fraction=%s\n",
           gc.vocab, gc.context, gc.width, gc.depth, gc.heads, gc.param == CLS_PARAM_MUP ? "mup" : "sp",
           gc.base_width, cls_fmt_shortest(gc.init_std, 1, f[0], 40),
           cls_fmt_shortest(gc.weight_decay, 1, f[1], 40), x->B, (unsigned long long)spec->seed, data,
           (unsigned long long)h, cls_fmt_shortest(spec->val_fraction, 0, f[2], 40));
  snprintf(t->describe, sizeof t->describe, "gpt w%zu d%zu h%zu ctx%zu %s, batch %zu, on %s (%zu + %zu bytes)",
           gc.width, gc.depth, gc.heads, gc.context, gc.param == CLS_PARAM_MUP ? "mup" : "sp", x->B,
           synthetic ? "the zipf corpus" : spec->data, ntrain, nval);
  *out = t;
  return CLS_OK;
}
