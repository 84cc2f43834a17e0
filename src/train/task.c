/* src/train/task.c — the registry of training tasks (see task.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "task_internal.h"
#include "train/task.h"

/* Every task of task_list_internal.h, in its order. */
static const cls_task_info *const registry[] = {
#define CLS_TASK(name) &cls__task_##name,
#include "task_list_internal.h"
#undef CLS_TASK
};
#define N_TASKS (sizeof registry / sizeof registry[0])

void cls_task_spec_default(cls_task_spec *s) {
  memset(s, 0, sizeof *s);
  s->task = "text";
  s->model = "gpt";
  s->width = 128;
  s->depth = 4;
  s->heads = 4;
  s->param = CLS_PARAM_SP;
  s->base_width = 128;
  s->init_std = 0.02f;
  s->weight_decay = 0.1f;
  s->seed = 1;
  s->batch = 32;
  s->context = 64;
  s->data = NULL;
  s->data_seed = 1;
  s->zipf_bytes = (size_t)4 << 20;
  s->val_fraction = 0.1;
  s->prompt_bytes = 0;
  s->n_train = 1024;
  s->n_test = 256;
  s->n_pixels = 4000;
  s->pixels = 256;
  s->label_tokens = 16;
  s->latent = 1024;
  s->alpha = 1.0;
  s->ridge = 1e-3;
  s->noise = 0.0;
  s->test_samples = 0;
  s->beta = 1.5;
  s->vocab = 1000000;
  s->source = "real";
  s->cut = 0;
  s->beta_narrow = 2.0;
  s->fit_samples = 10000;
  s->real_fraction = 0.0;
  s->base = 10;
  s->bound = 1000;
  s->train_pairs = 0;
  s->eval_pairs = 4096;
  s->corpus = NULL;
  s->corpus_real_fraction = 0.0;
}

size_t cls_task_count(void) {
  return N_TASKS;
}

const cls_task_info *cls_task_at(size_t i) {
  return i < N_TASKS ? registry[i] : NULL;
}

const cls_task_info *cls_task_find(const char *task, const char *model) {
  if (!task) return NULL;
  for (size_t i = 0; i < N_TASKS; i++)
    if (!strcmp(task, registry[i]->task) && (!model || !*model || !strcmp(model, registry[i]->model->name)))
      return registry[i];
  return NULL;
}

cls_status cls__models_create(cls_context *ctx, const cls_task_spec *spec, size_t K, const uint64_t *seeds,
                              cls__models **out, char *err, size_t err_len) {
  *out = NULL;
  const cls_task_info *info = spec->task ? cls_task_find(spec->task, spec->model) : NULL;
  if (!info || !info->models) {
    snprintf(err, err_len, "task '%s': its models do not train side by side; train its runs alone",
             spec->task ? spec->task : "");
    return CLS_ERR_INVALID_VALUE;
  }
  cls__models *g = calloc(1, sizeof *g);
  if (!g) {
    snprintf(err, err_len, "out of host memory");
    return CLS_ERR_OUT_OF_MEMORY;
  }
  g->ops = info->models;
  g->K = K;
  cls_status s = g->ops->create(ctx, spec, K, seeds, &g->impl, err, err_len);
  if (s != CLS_OK) {
    free(g);
    return s;
  }
  *out = g;
  return CLS_OK;
}

void cls__models_destroy(cls__models *g) {
  if (!g) return;
  g->ops->destroy(g->impl);
  free(g);
}

const cls_model_info *cls_model_find(const char *name) {
  if (!name) return NULL;
  for (size_t i = 0; i < N_TASKS; i++)
    if (!strcmp(name, registry[i]->model->name)) return registry[i]->model;
  return NULL;
}

const char *cls_task_list(char *buf, size_t len) {
  if (!buf || !len) return buf;
  buf[0] = 0;
  size_t n = 0;
  for (size_t i = 0; i < N_TASKS && n < len; i++) {
    int k = snprintf(buf + n, len - n, "%s%s/%s", i ? ", " : "", registry[i]->task, registry[i]->model->name);
    if (k < 0) break;
    n += (size_t)k;
  }
  return buf;
}

/* The registered pair of spec, or NULL with the message in err. */
static const cls_task_info *find_or_fail(const cls_task_spec *spec, char *err, size_t err_len) {
  const char *task = spec->task ? spec->task : "", *model = spec->model ? spec->model : "";
  const cls_task_info *info = cls_task_find(task, model[0] ? model : "-");
  if (!info) {
    char list[256];
    snprintf(err, err_len, "no task '%s' with model '%s' in this build: use one of %s", task, model,
             cls_task_list(list, sizeof list));
  }
  return info;
}

cls_status cls_task_check(const cls_task_spec *spec, char *err, size_t err_len) {
  if (!spec) return CLS_ERR_NULL_ARGUMENT;
  const cls_task_info *info = find_or_fail(spec, err, err_len);
  if (!info) return CLS_ERR_INVALID_VALUE;
  return cls__task_check_spec(info, spec, err, err_len);
}

cls_status cls_task_create(cls_context *ctx, const cls_task_spec *spec, cls_train_task **out, char *err,
                           size_t err_len) {
  if (!spec || !out || !ctx) return CLS_ERR_NULL_ARGUMENT;
  *out = NULL;
  const cls_task_info *info = find_or_fail(spec, err, err_len);
  if (!info) return CLS_ERR_INVALID_VALUE;
  if (!info->make) {
    snprintf(err, err_len,
             "the %s task is solved exactly, not trained: run it with `clscale sweep` (a spec with \"task\": "
             "\"%s\"; docs/theory.md)",
             info->task, info->task);
    return CLS_ERR_INVALID_VALUE;
  }
  return info->make(ctx, spec, out, err, err_len);
}

void cls_task_destroy(cls_train_task *t) {
  if (t && t->destroy) t->destroy(t);
}
