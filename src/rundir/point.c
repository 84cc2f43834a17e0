/* src/rundir/point.c — see rundir.h: point states and points/<id>.json. */
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/str.h"
#include "core/err.h"
#include "core/fmt.h"
#include "rundir/json.h"
#include "rundir/rundir.h"

/* ------------------------------------------------------------ states */

static const char *const state_names[] = {"new",         "ok",      "diverged",  "failed",
                                          "interrupted", "running", "unreadable"};

const char *cls_point_state_name(cls_point_state s) {
  return (unsigned)s < sizeof state_names / sizeof state_names[0] ? state_names[s] : "?";
}

cls_point_state cls_point_state_parse(const char *status) {
  for (int s = CLS_POINT_OK; status && s <= CLS_POINT_RUNNING; s++)
    if (!strcmp(status, state_names[s])) return (cls_point_state)s;
  return CLS_POINT_UNREADABLE;
}

int cls_point_state_done(cls_point_state s) {
  return s == CLS_POINT_OK || s == CLS_POINT_DIVERGED;
}

/* ----------------------------------------------------------- writing */

void cls_point_summary_init(cls_point_summary *s) {
  memset(s, 0, sizeof *s);
  double *nums[] = {&s->n_params,        &s->n_params_embed,   &s->tokens,        &s->train_examples,
                    &s->train_tokens,    &s->examples_seen,    &s->epochs,        &s->flops,
                    &s->flops_6nd,       &s->budget_flops,     &s->budget_tokens, &s->budget_steps,
                    &s->final_eval_loss, &s->final_train_loss, &s->seconds};
  for (size_t i = 0; i < sizeof nums / sizeof nums[0]; i++) *nums[i] = NAN;
  cls_point_run *r = &s->run;
  double *run[] = {&r->steps,
                   &r->total_steps,
                   &r->warmup_steps,
                   &r->lr,
                   &r->min_lr_ratio,
                   &r->beta1,
                   &r->beta2,
                   &r->clip,
                   &r->tokens_per_step,
                   &r->flops_per_step,
                   &r->model_flops_per_step,
                   &r->eval_flops,
                   &r->tokens_per_second,
                   &r->gflops_per_second,
                   &r->diverged_at_step};
  for (size_t i = 0; i < sizeof run / sizeof run[0]; i++) *run[i] = NAN;
}

/* The train loop's part, after the device. */
static void put_run(cls_json *j, const cls_point_run *r) {
  cls_json_num(j, "steps", r->steps);
  cls_json_num(j, "total_steps", r->total_steps);
  cls_json_num(j, "warmup_steps", r->warmup_steps);
  cls_json_num(j, "lr", r->lr);
  cls_json_num(j, "min_lr_ratio", r->min_lr_ratio);
  cls_json_num(j, "beta1", r->beta1);
  cls_json_num(j, "beta2", r->beta2);
  cls_json_num(j, "clip", r->clip);
  cls_json_num(j, "tokens_per_step", r->tokens_per_step);
  cls_json_num(j, "flops_per_step", r->flops_per_step);
  cls_json_num(j, "model_flops_per_step", r->model_flops_per_step);
  cls_json_num(j, "eval_flops", r->eval_flops);
  if (!isnan(r->tokens_per_second)) cls_json_num(j, "tokens_per_second", r->tokens_per_second);
  if (!isnan(r->gflops_per_second)) cls_json_num(j, "gflops_per_second", r->gflops_per_second);
  if (r->resumed_from_step > 0) cls_json_num(j, "resumed_from_step", r->resumed_from_step);
  if (!isnan(r->diverged_at_step)) cls_json_num(j, "diverged_at_step", r->diverged_at_step);
  cls_json_str(j, "describe", r->describe);
}

cls_status cls_point_summary_write(const char *path, const cls_point_summary *s, char *err, size_t err_len) {
  cls_json *j = cls_json_new();
  if (!j) return cls_errf(err, err_len, CLS_ERR_OUT_OF_MEMORY, "out of host memory writing %s", path);
  cls_json_str(j, "id", s->id);
  cls_json_str(j, "status", cls_point_state_name(s->state));
  cls_json_str(j, "error", s->error);
  cls_json_num(j, "n_params", s->n_params);
  cls_json_num(j, "n_params_embed", s->n_params_embed);
  cls_json_lines(j, s->config);
  cls_json_num(j, "tokens", s->tokens);
  if (s->train_examples > 0) { /* D beside the data's size: how often each example was seen */
    cls_json_num(j, "train_examples", s->train_examples);
    cls_json_num(j, "train_tokens", s->train_tokens);
    cls_json_num(j, "examples_seen", s->examples_seen);
    cls_json_num(j, "epochs", s->epochs);
  }
  cls_json_num(j, "flops", s->flops);
  if (s->has_run) cls_json_num(j, "flops_6nd", s->flops_6nd);
  if (!isnan(s->budget_flops)) cls_json_num(j, "budget_flops", s->budget_flops);
  if (!isnan(s->budget_tokens)) cls_json_num(j, "budget_tokens", s->budget_tokens);
  if (!isnan(s->budget_steps)) cls_json_num(j, "budget_steps", s->budget_steps);
  cls_json_num(j, "final_eval_loss", s->final_eval_loss);
  if (s->has_run) {
    cls_json_num(j, "final_train_loss", s->final_train_loss);
    cls_json_num(j, "seconds", s->seconds);
  }
  cls_json_str(j, "device", s->device);
  if (s->has_run) put_run(j, &s->run);
  cls_json_lines(j, s->trailer);
  cls_json_str(j, "clscale_version", CLSCALE_VERSION);
  cls_status st = cls_json_write(j, path, err, err_len);
  cls_json_free(j);
  return st;
}

/* ----------------------------------------------------------- reading */

/* Where a known key's number goes; NULL for a key that is not a number
 * field of the summary. */
static double *num_field(cls_point_summary *s, const char *k) {
  static const struct {
    const char *key;
    size_t off;
    int run;
  } map[] = {
#define F(k) {#k, offsetof(cls_point_summary, k), 0}
#define R(k)                                                                                                      \
  { #k, offsetof(cls_point_run, k), 1 }
      F(n_params),
      F(n_params_embed),
      F(tokens),
      F(train_examples),
      F(train_tokens),
      F(examples_seen),
      F(epochs),
      F(flops),
      F(flops_6nd),
      F(budget_flops),
      F(budget_tokens),
      F(budget_steps),
      F(final_eval_loss),
      F(final_train_loss),
      F(seconds),
      R(steps),
      R(total_steps),
      R(warmup_steps),
      R(lr),
      R(min_lr_ratio),
      R(beta1),
      R(beta2),
      R(clip),
      R(tokens_per_step),
      R(flops_per_step),
      R(model_flops_per_step),
      R(eval_flops),
      R(tokens_per_second),
      R(gflops_per_second),
      {"resumed_from_step", offsetof(cls_point_run, resumed_from_step), 1},
      {"diverged_at_step", offsetof(cls_point_run, diverged_at_step), 1},
#undef F
#undef R
  };
  for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
    if (!strcmp(map[i].key, k)) return (double *)((char *)(map[i].run ? (void *)&s->run : (void *)s) + map[i].off);
  return NULL;
}

/* Appends "name=value\n" to *lines (grown with malloc). */
static int add_line(char **lines, size_t *len, const char *name, const char *value) {
  size_t add = strlen(name) + strlen(value) + 2;
  char *g = realloc(*lines, *len + add + 1);
  if (!g) return 0;
  *lines = g;
  snprintf(g + *len, add + 1, "%s=%s\n", name, value);
  *len += add;
  return 1;
}

/* One key of the file into s; 0 when out of memory. */
static int read_key(cls_point_summary *s, const cJSON *v, char **config, size_t *config_len) {
  const char *k = v->string;
  const char **text = !strcmp(k, "id")         ? &s->id
                      : !strcmp(k, "status")   ? &s->status
                      : !strcmp(k, "error")    ? &s->error
                      : !strcmp(k, "device")   ? &s->device
                      : !strcmp(k, "describe") ? &s->run.describe
                                               : NULL;
  if (text) {
    if (cJSON_IsString(v) && !*text && !(*text = cls_strdup(v->valuestring))) return 0;
    return 1;
  }
  if (!strcmp(k, "clscale_version")) return 1;
  double *num = num_field(s, k);
  if (num) {
    if (cJSON_IsNumber(v) && isfinite(v->valuedouble)) *num = v->valuedouble;
    if (num == &s->run.steps) s->has_run = 1;
    return 1;
  }
  char value[64];
  if (cJSON_IsNumber(v))
    return add_line(config, config_len, k, cls_fmt_shortest(v->valuedouble, 0, value, sizeof value));
  if (cJSON_IsString(v)) return add_line(config, config_len, k, v->valuestring);
  return 1; /* null, true, objects: not part of a summary */
}

cls_status cls_point_summary_read(const char *path, cls_point_summary *s, char *err, size_t err_len) {
  cls_point_summary_init(s);
  cJSON *root;
  cls_status st = cls_json_load(path, &root, err, err_len);
  if (st != CLS_OK) return st;
  char *config = NULL;
  size_t config_len = 0;
  for (const cJSON *v = root->child; v; v = v->next)
    if (!read_key(s, v, &config, &config_len)) {
      st = cls_errf(err, err_len, CLS_ERR_OUT_OF_MEMORY, "out of host memory reading %s", path);
      break;
    }
  cJSON_Delete(root);
  s->config = config;
  s->state = s->status ? cls_point_state_parse(s->status) : CLS_POINT_OK;
  if (st != CLS_OK) cls_point_summary_release(s);
  return st;
}

void cls_point_summary_release(cls_point_summary *s) {
  const char **owned[] = {&s->id, &s->status, &s->error, &s->config, &s->device, &s->run.describe, &s->trailer};
  for (size_t i = 0; i < sizeof owned / sizeof owned[0]; i++) {
    free((void *)*owned[i]);
    *owned[i] = NULL;
  }
}

double cls_point_config_num(const char *config, const char *name) {
  size_t n = strlen(name);
  for (const char *p = config; p && *p;) {
    const char *nl = strchr(p, '\n');
    if (!strncmp(p, name, n) && p[n] == '=') {
      char *end;
      double v = strtod(p + n + 1, &end);
      return end != p + n + 1 && (*end == '\n' || !*end) ? v : NAN;
    }
    p = nl ? nl + 1 : NULL;
  }
  return NAN;
}

cls_point_state cls_rundir_point_state(const char *dir, const char *id, double *loss) {
  if (loss) *loss = NAN;
  char path[4200];
  if (cls_rundir_path(path, sizeof path, dir, CLS_RUNDIR_SUMMARY, id) != CLS_OK) return CLS_POINT_UNREADABLE;
  struct stat sb;
  if (stat(path, &sb) != 0) return errno == ENOENT ? CLS_POINT_NEW : CLS_POINT_UNREADABLE;
  cls_point_summary s;
  if (cls_point_summary_read(path, &s, NULL, 0) != CLS_OK) return CLS_POINT_UNREADABLE;
  if (loss) *loss = s.final_eval_loss;
  /* A summary must say what became of the run; without a status it is a
   * file some other program left, not one to skip or resume. */
  cls_point_state out = s.status ? s.state : CLS_POINT_UNREADABLE;
  cls_point_summary_release(&s);
  return out;
}
