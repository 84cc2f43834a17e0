/* src/train/task.c — the registry of training tasks (see task.h). */
#include <stdio.h>
#include <string.h>

#include "train/task.h"

/* One line per task file. */
static const struct {
  const char *task, *model;
  cls_task_factory make;
} registry[] = {
    {"text", "gpt", cls__task_text_gpt},
    {"spectra", "emulator", cls__task_spectra_emulator},
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
  s->n_train = 1024;
  s->n_test = 256;
  s->n_pixels = 4000;
  s->pixels = 256;
  s->label_tokens = 16;
}

const char *cls_task_list(void) {
  static char list[256];
  if (!list[0]) {
    size_t n = 0;
    for (size_t i = 0; i < N_TASKS && n < sizeof list; i++)
      n += (size_t)snprintf(list + n, sizeof list - n, "%s%s/%s", i ? ", " : "", registry[i].task,
                            registry[i].model);
  }
  return list;
}

cls_status cls_task_create(cls_context *ctx, const cls_task_spec *spec, cls_train_task **out, char *err,
                           size_t err_len) {
  if (!spec || !out || !ctx) return CLS_ERR_NULL_ARGUMENT;
  *out = NULL;
  const char *task = spec->task ? spec->task : "", *model = spec->model ? spec->model : "";
  for (size_t i = 0; i < N_TASKS; i++)
    if (!strcmp(task, registry[i].task) && !strcmp(model, registry[i].model))
      return registry[i].make(ctx, spec, out, err, err_len);
  snprintf(err, err_len, "no task '%s' with model '%s' in this build: use one of %s", task, model,
           cls_task_list());
  return CLS_ERR_INVALID_VALUE;
}

void cls_task_destroy(cls_train_task *t) {
  if (t && t->destroy) t->destroy(t);
}
