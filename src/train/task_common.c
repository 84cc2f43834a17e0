/* src/train/task_common.c — what every task file does the same way (see
 * task_internal.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/fmt.h"
#include "task_internal.h"

/* The cls_train_task and the task's ops, in one allocation with the
 * task's own state after them. */
typedef struct {
  cls_train_task t;
  const cls__task_ops *ops;
} task_box;

cls_status cls__task_check_spec(const cls_task_info *info, const cls_task_spec *spec, char *err, size_t err_len) {
  cls_status s = info->model->check(spec, err, err_len);
  if (s == CLS_OK && info->check) s = info->check(spec, err, err_len);
  return s;
}

/* The mean loss over the first n held-out batches; every task evaluates
 * this way, so the eval losses of all tasks mean the same thing. */
static cls_status evaluate(cls_train_task *t, size_t n_batches, double *loss) {
  const task_box *b = (const task_box *)t;
  double sum = 0;
  for (size_t i = 0; i < n_batches; i++) {
    float l;
    cls_status s = b->ops->eval_batch(t, i, &l);
    if (s != CLS_OK) return s;
    sum += l;
  }
  *loss = n_batches ? sum / (double)n_batches : 0.0;
  return CLS_OK;
}

static void destroy(cls_train_task *t) {
  const task_box *b = (const task_box *)t;
  if (t->impl) b->ops->release(t->impl);
  free(t->impl);
  free(t);
}

cls_train_task *cls__task_new(cls_context *ctx, size_t impl_size, const cls__task_ops *ops, char *err,
                              size_t err_len) {
  task_box *b = calloc(1, sizeof *b);
  void *impl = calloc(1, impl_size);
  if (!b || !impl) {
    free(b);
    free(impl);
    snprintf(err, err_len, "out of host memory");
    return NULL;
  }
  b->ops = ops;
  b->t.impl = impl;
  b->t.ctx = ctx;
  b->t.destroy = destroy;
  b->t.train_step = ops->train_step;
  b->t.evaluate = evaluate;
  b->t.coord_probe = ops->coord_probe;
  return &b->t;
}

cls_status cls__task_begin(const cls_task_info *info, cls_context *ctx, const cls_task_spec *spec,
                           size_t impl_size, const cls__task_ops *ops, cls_train_task **t, char *err,
                           size_t err_len) {
  *t = NULL;
  cls_status s = cls__task_check_spec(info, spec, err, err_len);
  if (s != CLS_OK) return s;
  *t = cls__task_new(ctx, impl_size, ops, err, err_len);
  return *t ? CLS_OK : CLS_ERR_OUT_OF_MEMORY;
}

void cls__task_set_model(cls_train_task *t, const cls_param_table *pt, cls_param_slabs *slabs) {
  t->params = pt;
  t->slabs = slabs;
  t->n_params = (double)cls_param_count(pt, 0);
  t->n_params_embed = (double)cls_param_count(pt, 1) - t->n_params;
}

cls_status cls__task_done(cls_train_task *t, const cls_param_table *pt, cls_param_slabs *slabs,
                          cls_train_task **out) {
  cls__task_set_model(t, pt, slabs);
  *out = t;
  return CLS_OK;
}

cls_status cls__task_fail(cls_train_task *t, cls_status s) {
  cls_task_destroy(t);
  return s;
}

cls_status cls__task_data_fail(cls_train_task *t, cls_status s, const char *what) {
  snprintf(t->error, sizeof t->error, "%s", what);
  return s;
}

cls_status cls__task_model_fail(cls_train_task *t, cls_status s, char *err, size_t err_len) {
  snprintf(err, err_len, "%s", cls_last_error(t->ctx));
  cls_task_destroy(t);
  return s;
}

cls_status cls__task_oom(cls_train_task *t, const char *what, char *err, size_t err_len) {
  cls_task_destroy(t);
  snprintf(err, err_len, "out of host memory for %s", what);
  return CLS_ERR_OUT_OF_MEMORY;
}

cls_status cls__task_coord_pick(const float *rms, size_t n, size_t depth, float out[4]) {
  if (n < 2 * depth + 2) return CLS_ERR_INTERNAL;
  const size_t at[4] = {0, depth, 2 * depth, 2 * depth + 1};
  for (int i = 0; i < 4; i++) out[i] = rms[at[i]];
  return CLS_OK;
}

const char *cls__task_param_name(cls_parametrisation p) {
  const char *name = cls_parametrisation_name(p);
  return name ? name : "sp";
}

/* ------------------------------------------------------------- GPT tasks */

void cls__task_gpt_config(const cls_task_spec *spec, size_t vocab, size_t width, size_t depth, size_t heads,
                          cls_gpt_config *gc) {
  cls_gpt_config_default(gc);
  gc->vocab = vocab;
  gc->context = spec->context;
  gc->width = width;
  gc->depth = depth;
  gc->heads = heads;
  gc->param = spec->param;
  gc->base_width = spec->base_width;
  gc->init_std = spec->init_std;
  gc->weight_decay = spec->weight_decay;
}

cls_status cls__task_gpt_check(const cls_task_spec *spec, size_t vocab, char *err, size_t err_len) {
  cls_gpt_config gc;
  cls__task_gpt_config(spec, vocab, spec->width, spec->depth, spec->heads, &gc);
  return cls_gpt_config_check(&gc, err, err_len);
}

void cls__task_gpt_count(const cls_task_spec *spec, size_t vocab, size_t width, size_t depth, double *n,
                         double *n_embed) {
  cls_gpt_config c;
  cls__task_gpt_config(spec, vocab, width, depth, 1, &c);
  cls_gpt_count_params(&c, n, n_embed);
}

cls_status cls__task_gpt_probe(cls_gpt *g, const int32_t *inputs, const int32_t *targets, size_t B, size_t T,
                               size_t depth, float *out) {
  float loss;
  cls_status s = cls_gpt_forward(g, inputs, targets, B, T, 0, &loss);
  if (s != CLS_OK) return s;
  const size_t n = cls_gpt_activation_count(g);
  float *rms = malloc(n * sizeof *rms);
  if (!rms) return CLS_ERR_OUT_OF_MEMORY;
  s = cls_gpt_activation_rms(g, rms);
  if (s == CLS_OK) s = cls__task_coord_pick(rms, n, depth, out);
  free(rms);
  return s;
}

/* cls__task_coord_pick's order. */
const char *const cls__gpt_coord_layers[] = {"embedding", "attention out", "mlp hidden", "logits", NULL};

/* ------------------------------------------------ training on a corpus */

cls_status cls__task_corpus_check(const cls_task_spec *spec, char *err, size_t err_len) {
  if (spec->corpus && !(spec->corpus_real_fraction >= 0 && spec->corpus_real_fraction <= 1)) {
    snprintf(err, err_len, "the share of real data beside a corpus is %g: use a number in [0, 1]",
             spec->corpus_real_fraction);
    return CLS_ERR_INVALID_VALUE;
  }
  return CLS_OK;
}

cls_status cls__task_corpus_open(const cls_task_spec *spec, size_t length, size_t vocab, const char *other,
                                 cls_corpus *c, char *err, size_t err_len) {
  cls_status s = cls_corpus_read(spec->corpus, c, err, err_len);
  if (s == CLS_OK && (c->length != length || c->vocab != vocab)) {
    snprintf(err, err_len,
             "corpus %s holds sequences of %llu tokens over %llu, and this task's are %zu tokens over %zu: it "
             "is of another %s",
             spec->corpus, (unsigned long long)c->length, (unsigned long long)c->vocab, length, vocab, other);
    s = CLS_ERR_INVALID_VALUE;
  }
  return s;
}

cls_status cls__task_corpus_pick(cls_train_task *t, const cls_corpus *c, double pi, cls_rng mix, uint64_t i,
                                 const int32_t **row) {
  *row = NULL;
  if (cls_rng_uniform(mix, i, 0) < pi) return CLS_OK;
  if (i >= c->n) {
    char why[256];
    snprintf(why, sizeof why,
             "training example %llu is past the end of the corpus (%llu sequences): make the corpus larger "
             "(`synthetic_pairs`) or the budget smaller",
             (unsigned long long)i, (unsigned long long)c->n);
    return cls__task_data_fail(t, CLS_ERR_INVALID_SIZE, why);
  }
  *row = c->tokens + i * c->length;
  return CLS_OK;
}

void cls__task_key_corpus(cls_train_task *t, const cls_corpus *c, double pi) {
  char f[40];
  const size_t used = strlen(t->key);
  snprintf(t->key + used, sizeof t->key - used, "corpus_checksum=0x%016llx\ncorpus_real_fraction=%s\n",
           (unsigned long long)c->checksum, cls_fmt_shortest(pi, 1, f, sizeof f));
}

/* ------------------------------------------- GPT groups (task_internal.h) */

cls_status cls__gpt_group_alloc(cls__gpt_group *q, size_t K, size_t B, size_t T, const uint64_t *seeds, char *err,
                                size_t err_len) {
  q->K = K;
  q->B = B;
  q->T = T;
  q->seeds = malloc(K * sizeof *q->seeds);
  q->inputs = malloc(K * B * T * sizeof *q->inputs);
  q->targets = malloc(K * B * T * sizeof *q->targets);
  q->loss = malloc(K * sizeof *q->loss);
  if (!q->seeds || !q->inputs || !q->targets || !q->loss) {
    snprintf(err, err_len, "out of host memory for %zu batches of %zu x %zu tokens", K, B, T);
    return CLS_ERR_OUT_OF_MEMORY;
  }
  memcpy(q->seeds, seeds, K * sizeof *seeds);
  return CLS_OK;
}

void cls__gpt_group_free(cls__gpt_group *q) {
  free(q->seeds);
  free(q->inputs);
  free(q->targets);
  free(q->loss);
}

const cls_param_table *cls__gpt_group_params(void *impl) {
  return cls_gpt_params(((cls__gpt_group *)impl)->gpt);
}

cls_param_slabs *cls__gpt_group_slabs(void *impl) {
  return cls_gpt_slabs(((cls__gpt_group *)impl)->gpt);
}

cls_ref cls__gpt_group_loss_ref(void *impl) {
  return cls_gpt_loss_ref(((cls__gpt_group *)impl)->gpt);
}

double cls__gpt_group_tokens_per_step(void *impl) {
  const cls__gpt_group *q = impl;
  return (double)(q->B * q->T);
}

/* Model k's slot of the K batches <- the one-model buffers. */
static void keep_batch(cls__gpt_group *q, size_t k) {
  const size_t n = q->B * q->T;
  memcpy(q->inputs + k * n, q->in, n * sizeof *q->in);
  memcpy(q->targets + k * n, q->tg, n * sizeof *q->tg);
}

/* The batch functions' message (on the shell), or the context's. */
static cls_status group_fail(cls__gpt_group *q, cls_status s, char *err, size_t err_len) {
  if (s != CLS_OK && q->shell->error[0]) snprintf(err, err_len, "%s", q->shell->error);
  q->shell->error[0] = 0;
  return s;
}

cls_status cls__gpt_group_train_step(void *impl, size_t active, uint64_t step, char *err, size_t err_len) {
  cls__gpt_group *q = impl;
  for (size_t k = 0; k < active; k++) {
    cls_status s = q->fill_train(impl, k, step);
    if (s != CLS_OK) return group_fail(q, s, err, err_len);
    keep_batch(q, k);
  }
  cls_status s = cls_gpt_forward_models(q->gpt, active, q->inputs, q->targets, q->B, q->T, 1, NULL);
  return s == CLS_OK ? cls_gpt_backward(q->gpt) : s;
}

cls_status cls__gpt_group_evaluate(void *impl, size_t active, size_t n_batches, double *loss, char *err,
                                   size_t err_len) {
  cls__gpt_group *q = impl;
  for (size_t k = 0; k < active; k++) loss[k] = 0;
  /* evaluate() above for each model: the same batches, summed in double
   * in batch order, then divided by their number. */
  for (size_t i = 0; i < n_batches; i++) {
    cls_status s = q->fill_eval(impl, 0, i);
    if (s != CLS_OK) return group_fail(q, s, err, err_len);
    for (size_t k = 0; k < active; k++) keep_batch(q, k);
    s = cls_gpt_forward_models(q->gpt, active, q->inputs, q->targets, q->B, q->T, 0, q->loss);
    if (s != CLS_OK) return s;
    for (size_t k = 0; k < active; k++) loss[k] += q->loss[k];
  }
  for (size_t k = 0; k < active; k++) loss[k] = n_batches ? loss[k] / (double)n_batches : 0.0;
  return CLS_OK;
}
