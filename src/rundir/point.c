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
                    &s->final_eval_loss, &s->final_train_loss, &s->seconds,       &s->attempts};
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
  cls_json_str(j, "matmul_choices", r->matmul_choices);
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
  if (!isnan(s->attempts)) cls_json_num(j, "attempts", s->attempts);
  if (s->n_errors) {
    cJSON *root = cls_json_root(j), *list = cJSON_CreateArray();
    for (size_t i = 0; list && i < s->n_errors; i++) cJSON_AddItemToArray(list, cJSON_CreateString(s->errors[i]));
    if (root && list)
      cJSON_AddItemToObject(root, "errors", list);
    else
      cJSON_Delete(list);
  }
  cls_json_str(j, "clscale_version", CLSCALE_VERSION);
  cls_status st = cls_json_write(j, path, err, err_len);
  cls_json_free(j);
  return st;
}

/* ----------------------------------------------------------- reading */

/* A known number field: where it goes and its range. Every number of a
 * summary counts or measures something, so none is negative; counts of
 * steps are whole. */
typedef struct {
  double *at;
  int whole;
} num_slot;

/* The slot of key k; at NULL for a key that is not a number field. */
static num_slot num_field(cls_point_summary *s, const char *k) {
  static const struct {
    const char *key;
    size_t off;
    int run, whole;
  } map[] = {
#define F(k) {#k, offsetof(cls_point_summary, k), 0, 0}
#define R(k, w)                                                                                                   \
  { #k, offsetof(cls_point_run, k), 1, w }
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
      {"attempts", offsetof(cls_point_summary, attempts), 0, 1},
      R(steps, 1),
      R(total_steps, 1),
      R(warmup_steps, 1),
      R(lr, 0),
      R(min_lr_ratio, 0),
      R(beta1, 0),
      R(beta2, 0),
      R(clip, 0),
      R(tokens_per_step, 0),
      R(flops_per_step, 0),
      R(model_flops_per_step, 0),
      R(eval_flops, 0),
      R(tokens_per_second, 0),
      R(gflops_per_second, 0),
      R(resumed_from_step, 1),
      R(diverged_at_step, 1),
#undef F
#undef R
  };
  for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
    if (!strcmp(map[i].key, k))
      return (num_slot){(double *)((char *)(map[i].run ? (void *)&s->run : (void *)s) + map[i].off), map[i].whole};
  return (num_slot){NULL, 0};
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

static const char *json_type(const cJSON *v) {
  return cJSON_IsString(v)   ? "a string"
         : cJSON_IsNumber(v) ? "a number"
         : cJSON_IsBool(v)   ? "true or false"
         : cJSON_IsArray(v)  ? "a list"
         : cJSON_IsObject(v) ? "an object"
                             : "null";
}

/* "errors": a list of strings (every failed attempt's error). */
static cls_status read_errors(const char *path, cls_point_summary *s, const cJSON *v, char *err, size_t err_len) {
  if (cJSON_IsNull(v)) return CLS_OK;
  int n = cJSON_IsArray(v) ? cJSON_GetArraySize(v) : -1;
  for (const cJSON *e = cJSON_IsArray(v) ? v->child : NULL; e; e = e->next)
    if (!cJSON_IsString(e)) n = -1;
  if (n < 0)
    return cls_errf(
        err, err_len, CLS_ERR_FORMAT,
        "%s: \"errors\" is %s; it must be a list of strings (docs/formats.md lists the fields): fix or "
        "remove the file",
        path, cJSON_IsArray(v) ? "a list holding something else" : json_type(v));
  if (s->errors || !n) return CLS_OK;
  s->errors = calloc((size_t)n, sizeof *s->errors);
  if (!s->errors) return cls_errf(err, err_len, CLS_ERR_OUT_OF_MEMORY, "out of host memory reading %s", path);
  for (const cJSON *e = v->child; e; e = e->next) {
    if (!(s->errors[s->n_errors] = cls_strdup(e->valuestring)))
      return cls_errf(err, err_len, CLS_ERR_OUT_OF_MEMORY, "out of host memory reading %s", path);
    s->n_errors++;
  }
  return CLS_OK;
}

/* One key of the file into s. A known field of the wrong type or out of
 * range is CLS_ERR_FORMAT naming it: a summary with "status": 7 or a
 * negative loss is wrong, and read as such by every command (issue 14),
 * rather than passed on as "absent" or as a value the fits reject. */
static cls_status read_key(const char *path, cls_point_summary *s, const cJSON *v, char **config,
                           size_t *config_len, char *err, size_t err_len) {
  const char *k = v->string;
  const char **text = !strcmp(k, "id")               ? &s->id
                      : !strcmp(k, "status")         ? &s->status
                      : !strcmp(k, "error")          ? &s->error
                      : !strcmp(k, "device")         ? &s->device
                      : !strcmp(k, "describe")       ? &s->run.describe
                      : !strcmp(k, "matmul_choices") ? &s->run.matmul_choices
                                                     : NULL;
  if (text) {
    if (!cJSON_IsString(v) && !cJSON_IsNull(v))
      return cls_errf(err, err_len, CLS_ERR_FORMAT,
                      "%s: \"%s\" is %s; it must be a string (docs/formats.md lists the fields): fix or remove "
                      "the file",
                      path, k, json_type(v));
    if (cJSON_IsString(v) && !*text && !(*text = cls_strdup(v->valuestring)))
      return cls_errf(err, err_len, CLS_ERR_OUT_OF_MEMORY, "out of host memory reading %s", path);
    return CLS_OK;
  }
  if (!strcmp(k, "clscale_version")) return CLS_OK;
  if (!strcmp(k, "errors")) return read_errors(path, s, v, err, err_len);
  num_slot num = num_field(s, k);
  if (num.at) {
    if (num.at == &s->run.steps) s->has_run = 1;
    if (cJSON_IsNull(v)) return CLS_OK; /* a value that was not finite, or not known */
    double d = cJSON_IsNumber(v) ? v->valuedouble : NAN;
    if (!isfinite(d) || d < 0 || (num.whole && d != floor(d))) {
      char shown[64];
      if (cJSON_IsNumber(v)) cls_fmt_shortest(d, 0, shown, sizeof shown);
      return cls_errf(err, err_len, CLS_ERR_FORMAT,
                      "%s: \"%s\" is %s%s; it must be a %s number >= 0 or null (docs/formats.md lists the "
                      "fields): fix or remove the file",
                      path, k, cJSON_IsNumber(v) ? "" : json_type(v), cJSON_IsNumber(v) ? shown : "",
                      num.whole ? "whole" : "finite");
    }
    *num.at = d;
    return CLS_OK;
  }
  /* Kept as a "name=value" line of `config`: a name with '=' or a line
   * break, or a value with a line break, would read back as other lines
   * (a key "x\nwidth" as a setting width that the fits group by). */
  if (strpbrk(k, "=\n\r") || (cJSON_IsString(v) && strpbrk(v->valuestring, "\n\r"))) {
    char shown[80]; /* the name with its line breaks as \n, as JSON writes them */
    size_t n = 0;
    for (const char *c = k; *c && n + 3 < sizeof shown; c++)
      if (*c == '\n' || *c == '\r') {
        shown[n++] = '\\';
        shown[n++] = *c == '\n' ? 'n' : 'r';
      } else {
        shown[n++] = *c;
      }
    shown[n] = 0;
    int in_key = strpbrk(k, "=\n\r") != NULL;
    return cls_errf(err, err_len, CLS_ERR_FORMAT,
                    "%s: the setting \"%s\" %s; a setting is one line of name=value: fix or remove the file", path,
                    shown, in_key ? "has a line break or '=' in its name" : "has a line break in its value");
  }
  /* A number beyond the doubles (1e999) reads as infinite: it would be
   * written back as another value (a string, or null). */
  if (cJSON_IsNumber(v) && !isfinite(v->valuedouble))
    return cls_errf(
        err, err_len, CLS_ERR_FORMAT,
        "%s: the setting \"%.60s\" is a number out of range; it must be finite: fix or remove the file", path, k);
  char value[64];
  int ok = 1;
  if (cJSON_IsNumber(v))
    ok = add_line(config, config_len, k, cls_fmt_shortest(v->valuedouble, 0, value, sizeof value));
  else if (cJSON_IsString(v))
    ok = add_line(config, config_len, k, v->valuestring);
  /* null, true, objects: not part of a summary */
  return ok ? CLS_OK : cls_errf(err, err_len, CLS_ERR_OUT_OF_MEMORY, "out of host memory reading %s", path);
}

cls_status cls_point_summary_read(const char *path, cls_point_summary *s, char *err, size_t err_len) {
  cls_point_summary_init(s);
  cJSON *root;
  cls_status st = cls_json_load(path, &root, err, err_len);
  if (st != CLS_OK) return st;
  char *config = NULL;
  size_t config_len = 0;
  for (const cJSON *v = root->child; v && st == CLS_OK; v = v->next)
    st = read_key(path, s, v, &config, &config_len, err, err_len);
  cJSON_Delete(root);
  s->config = config;
  s->state = s->status ? cls_point_state_parse(s->status) : CLS_POINT_OK;
  if (st != CLS_OK) cls_point_summary_release(s);
  return st;
}

void cls_point_summary_release(cls_point_summary *s) {
  const char **owned[] = {&s->id,     &s->status,       &s->error,   &s->config,
                          &s->device, &s->run.describe, &s->trailer, &s->run.matmul_choices};
  for (size_t i = 0; i < sizeof owned / sizeof owned[0]; i++) {
    free((void *)*owned[i]);
    *owned[i] = NULL;
  }
  for (size_t i = 0; i < s->n_errors; i++) free(s->errors[i]);
  free(s->errors);
  s->errors = NULL;
  s->n_errors = 0;
}

cls_status cls_point_record_attempts(const char *dir, const char *id, double attempts, const char *const *errors,
                                     size_t n_errors, char *err, size_t err_len) {
  char path[4200];
  if (cls_rundir_path(path, sizeof path, dir, CLS_RUNDIR_SUMMARY, id) != CLS_OK)
    return cls_errf(err, err_len, CLS_ERR_INVALID_VALUE, "no summary path for '%s'", id);
  cls_point_summary s;
  cls_status st = cls_point_summary_read(path, &s, err, err_len);
  if (st != CLS_OK) return st;
  /* The summary as read, with the record in place of its own. */
  char **own = s.errors;
  size_t n_own = s.n_errors;
  s.attempts = attempts;
  s.errors = (char **)errors;
  s.n_errors = n_errors;
  st = cls_point_summary_write(path, &s, err, err_len);
  s.errors = own;
  s.n_errors = n_own;
  cls_point_summary_release(&s);
  return st;
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
