/* src/train/coordcheck.c — see coordcheck.h. The models come from the task
 * registry (train/task.h): a task that names its coord_layers and measures
 * them (coord_probe) is checked here without an edit. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/file.h"
#include "train/coordcheck.h"

void cls_coord_spec_default(cls_coord_spec *s) {
  memset(s, 0, sizeof *s);
  s->model = "gpt";
  const size_t w[] = {32, 64, 128, 256};
  memcpy(s->widths, w, sizeof w);
  s->n_widths = 4;
  s->depth = 2;
  s->heads = 4;
  s->steps = 3;
  s->lr = 1e-2f;
  s->seed = 1;
}

const cls_task_info *cls_coord_task(const char *model) {
  for (size_t i = 0; model && i < cls_task_count(); i++) {
    const cls_task_info *info = cls_task_at(i);
    if (info->coord_layers && !strcmp(info->model->name, model)) return info;
  }
  return NULL;
}

const char *cls_coord_models(const char *sep, char *buf, size_t len) {
  if (!buf || !len) return buf;
  buf[0] = 0;
  size_t n = 0;
  for (size_t i = 0; i < cls_task_count() && n < len; i++) {
    const cls_task_info *info = cls_task_at(i);
    if (!info->coord_layers || cls_coord_task(info->model->name) != info) continue; /* one line per model */
    int k = snprintf(buf + n, len - n, "%s%s", n ? sep : "", info->model->name);
    if (k < 0) break;
    n += (size_t)k;
  }
  return buf;
}

/* The task of one model of the check: every width trains on the same small
 * data and the same batch (the check compares widths, not data). */
static void task_spec_of(const cls_task_info *info, const cls_coord_spec *s, size_t width,
                         cls_parametrisation param, cls_task_spec *ts) {
  cls_task_spec_default(ts);
  ts->task = info->task;
  ts->model = info->model->name;
  ts->width = width;
  ts->depth = s->depth;
  ts->heads = s->heads;
  ts->param = param;
  ts->base_width = s->base_width;
  ts->seed = s->seed;
  ts->data_seed = s->seed;
  ts->batch = 8;
  ts->context = 32;         /* text: 8 x 32 tokens */
  ts->zipf_bytes = 1 << 16; /* of a 64 KiB synthetic corpus */
  ts->pixels = 64;          /* spectra: 8 x 64 pixels */
  ts->n_train = 64;         /* of 64 training spectra */
  ts->n_test = 1;           /* (the task wants a test split; the check never evaluates) */
}

/* One model at one width and parametrisation, trained on its batch 0:
 * out[step][layer] for steps 0..s->steps and the n_layers tracked layers. */
static cls_status one_model(cls_context *ctx, const cls_task_info *info, const cls_coord_spec *s, size_t width,
                            cls_parametrisation param, float *out, size_t n_layers, char *err, size_t err_len) {
  cls_task_spec ts;
  task_spec_of(info, s, width, param, &ts);
  cls_train_task *t;
  cls_status st = info->make(ctx, &ts, &t, err, err_len);
  if (st != CLS_OK) return st;
  float loss;
  for (size_t step = 0; step <= s->steps && st == CLS_OK; step++) {
    if (step > 0) {
      st = cls_param_zero_grads(ctx, t->params, t->slabs);
      if (st == CLS_OK) st = t->train_step(t, 0, &loss);
      if (st == CLS_OK) st = cls_param_adamw(ctx, t->params, t->slabs, s->lr, 0.9f, 0.95f, 1e-8f, step, 0);
    }
    if (st == CLS_OK) st = t->coord_probe(t, 0, out + step * n_layers);
  }
  if (st != CLS_OK) snprintf(err, err_len, "%s", t->error[0] ? t->error : cls_last_error(ctx));
  cls_task_destroy(t);
  return st;
}

static cls_status check_spec(const cls_coord_spec *s, char *err, size_t err_len) {
  if (s->n_widths < 2 || s->n_widths > 16) {
    snprintf(err, err_len, "give 2 to 16 widths (got %zu)", s->n_widths);
    return CLS_ERR_INVALID_SIZE;
  }
  for (size_t i = 0; i < s->n_widths; i++)
    if (!s->widths[i] || !s->heads || s->widths[i] % s->heads || (i && s->widths[i] <= s->widths[i - 1])) {
      snprintf(err, err_len, "widths must ascend and each be a multiple of the %zu heads (width %zu)", s->heads,
               s->widths[i]);
      return CLS_ERR_INVALID_VALUE;
    }
  if (!s->depth || !s->steps || s->steps > 100 || !(s->lr > 0) || !isfinite(s->lr)) {
    snprintf(err, err_len, "depth and steps (1..100) must be positive, lr positive and finite");
    return CLS_ERR_INVALID_VALUE;
  }
  if (!cls_coord_task(s->model)) {
    char list[256];
    snprintf(err, err_len, "no coordinate check for model '%s': use one of %s", s->model ? s->model : "",
             cls_coord_models(", ", list, sizeof list));
    return CLS_ERR_INVALID_VALUE;
  }
  return CLS_OK;
}

cls_status cls_coord_check(cls_context *ctx, const cls_coord_spec *s, const char *csv_path, char *err,
                           size_t err_len) {
  if (!ctx || !s || !csv_path) return CLS_ERR_NULL_ARGUMENT;
  cls_status st = check_spec(s, err, err_len);
  if (st != CLS_OK) return st;
  cls_coord_spec spec = *s;
  if (!spec.base_width) spec.base_width = spec.widths[0];
  const cls_task_info *info = cls_coord_task(spec.model);
  size_t n_layers = 0;
  while (n_layers < CLS_COORD_MAX_LAYERS && info->coord_layers[n_layers]) n_layers++;
  float *rms = malloc((spec.steps + 1) * n_layers * sizeof *rms);
  /* The CSV is built in memory and written in one atomic step at the end. */
  char *text = NULL;
  size_t text_len = 0;
  FILE *f = rms ? open_memstream(&text, &text_len) : NULL;
  st = f ? CLS_OK : CLS_ERR_OUT_OF_MEMORY;
  if (f) fprintf(f, "param,layer,width,step,value\n");
  for (int p = 0; p < 2 && st == CLS_OK; p++)
    for (size_t w = 0; w < spec.n_widths && st == CLS_OK; w++) {
      char why[512];
      st = one_model(ctx, info, &spec, spec.widths[w], p ? CLS_PARAM_MUP : CLS_PARAM_SP, rms, n_layers, why,
                     sizeof why);
      if (st != CLS_OK) {
        snprintf(err, err_len, "width %zu (%s): %s", spec.widths[w], p ? "mup" : "sp", why);
        break;
      }
      for (size_t l = 0; l < n_layers; l++)
        for (size_t step = 0; step <= spec.steps; step++)
          fprintf(f, "%s,%s,%zu,%zu,%.9g\n", p ? "mup" : "sp", info->coord_layers[l], spec.widths[w], step,
                  rms[step * n_layers + l]);
    }
  if (f) {
    int ok = !ferror(f);
    ok = (fclose(f) == 0) && ok;
    if (st == CLS_OK) st = ok ? cls_write_atomic(csv_path, text, text_len, err, err_len) : CLS_ERR_OUT_OF_MEMORY;
  }
  free(text);
  free(rms);
  return st;
}
