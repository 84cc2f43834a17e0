/*
 * src/fit/axis_input.c — what the axis fits read (axis.h): every finished
 * point of a run directory with all the keys of its summary, and its
 * learning curve. The run directory is listed and its curves read by its
 * owner (rundir/runs.h); the summaries are read whole here because the
 * axis and the groups may be any of their keys.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/str.h"
#include "fit/axis.h"
#include "rundir/json.h"
#include "rundir/runs.h"

static void free_run(cls_axis_run *r) {
  for (size_t k = 0; k < r->n_kv; k++) free(r->kv[k].key), free(r->kv[k].text);
  free(r->kv);
  free(r->curve_tokens);
  free(r->curve_loss);
}

void cls_fit_axis_input_destroy(cls_axis_input *in) {
  if (!in) return;
  for (size_t i = 0; i < in->n_runs; i++) free_run(&in->runs[i]);
  free(in->runs);
  for (size_t i = 0; i < in->n_warnings; i++) free(in->warnings[i]);
  free(in->warnings);
  free(in);
}

/* Every number, text and boolean of the summary (nested objects and arrays
 * are no config keys). */
static cls_status read_keys(const cJSON *root, cls_axis_run *r) {
  size_t n = 0;
  for (const cJSON *v = root->child; v; v = v->next) n++;
  r->kv = calloc(n ? n : 1, sizeof *r->kv);
  if (!r->kv) return CLS_ERR_OUT_OF_MEMORY;
  for (const cJSON *v = root->child; v; v = v->next) {
    if (!v->string) continue;
    cls_axis_kv *kv = &r->kv[r->n_kv];
    if (cJSON_IsNumber(v)) {
      kv->num = v->valuedouble;
    } else if (cJSON_IsNull(v)) {
      kv->num = NAN;
    } else if (cJSON_IsString(v) || cJSON_IsBool(v)) {
      kv->num = NAN;
      kv->text = cls_strdup(cJSON_IsString(v) ? v->valuestring : cJSON_IsTrue(v) ? "true" : "false");
      if (!kv->text) return CLS_ERR_OUT_OF_MEMORY;
    } else {
      continue;
    }
    if (!(kv->key = cls_strdup(v->string))) {
      free(kv->text);
      kv->text = NULL;
      return CLS_ERR_OUT_OF_MEMORY;
    }
    r->n_kv++;
  }
  return CLS_OK;
}

/* The rows of the curve with a positive finite tokens and a finite loss. */
static cls_status read_curve(cls_axis_input *in, const cls_run_point *p, cls_axis_run *r) {
  const cls_run_curve *c = &p->curve;
  if (!c->n || !c->tokens || !c->eval_loss) return CLS_OK;
  r->curve_tokens = malloc(c->n * sizeof *r->curve_tokens);
  r->curve_loss = malloc(c->n * sizeof *r->curve_loss);
  if (!r->curve_tokens || !r->curve_loss) return CLS_ERR_OUT_OF_MEMORY;
  size_t bad = 0;
  for (size_t i = 0; i < c->n; i++) {
    if (isfinite(c->tokens[i]) && c->tokens[i] > 0 && isfinite(c->eval_loss[i])) {
      r->curve_tokens[r->curve_n] = c->tokens[i];
      r->curve_loss[r->curve_n++] = c->eval_loss[i];
    } else {
      bad++;
    }
  }
  if (bad)
    cls_warning_add(&in->warnings, &in->n_warnings,
                    "points/%s.csv: %zu row%s without a positive tokens and a finite eval_loss left out", p->id,
                    bad, bad == 1 ? "" : "s");
  return CLS_OK;
}

/* One point: left out when not finished; its keys and curve when it is. */
static cls_status read_point(cls_axis_input *in, const char *dir, const cls_run_point *p, char *err,
                             size_t err_len) {
  char path[4200];
  cls_status st = cls_rundir_path(path, sizeof path, dir, CLS_RUNDIR_SUMMARY, p->id);
  if (st) return cls_errf(err, err_len, st, "%s: the path of point %s is too long", dir, p->id);
  cJSON *root;
  st = cls_json_load(path, &root, err, err_len);
  if (st) return st;
  const char *status = cls_json_get_str(root, "status");
  if (status && cls_point_state_parse(status) != CLS_POINT_OK) {
    cls_warning_add(&in->warnings, &in->n_warnings,
                    "points/%s.json: status \"%s\"; the point is left out of the fits", p->id, status);
    cJSON_Delete(root);
    return CLS_OK;
  }
  double loss = cls_json_get_num(root, "final_eval_loss");
  if (!isfinite(loss) || loss < 0) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, "final_eval_loss");
    cJSON_Delete(root);
    if (isfinite(loss))
      return cls_errf(err, err_len, CLS_ERR_INVALID_VALUE,
                      "%s: final_eval_loss = %g is negative; a loss must be >= 0 (fix or remove the file)", path,
                      loss);
    return cls_errf(err, err_len, CLS_ERR_INVALID_VALUE,
                    "%s: status ok but final_eval_loss is %s (a NaN loss?); a finished point needs a finite loss "
                    "(fix or remove the file, or set its status to \"diverged\")",
                    path, v ? "null or not a number" : "missing");
  }
  cls_axis_run *r = &in->runs[in->n_runs];
  memset(r, 0, sizeof *r);
  snprintf(r->id, sizeof r->id, "%s", p->id);
  r->loss = loss;
  st = read_keys(root, r);
  const char *task = cls_json_get_str(root, "task");
  if (in->n_runs == 0)
    snprintf(in->task, sizeof in->task, "%s", task ? task : "");
  else if (!task || strcmp(task, in->task))
    in->task[0] = '\0';
  cJSON_Delete(root);
  if (!st) st = read_curve(in, p, r);
  in->n_runs++; /* freed with the input, whatever happened */
  return st;
}

cls_status cls_fit_axis_input_from_rundir(const char *dir, cls_axis_input **out, char *err, size_t err_len) {
  if (!dir || !out) return CLS_ERR_NULL_ARGUMENT;
  *out = NULL;
  cls_rundir *rd = NULL;
  cls_status st = cls_rundir_load(dir, &rd, err, err_len);
  if (st) return st;
  /* Its warnings speak of the figures' needs (flops > 0, a train loss); the
   * axis fits say what they leave out themselves. */
  cls_axis_input *in = calloc(1, sizeof *in);
  if (!in || !(in->runs = calloc(rd->n_points ? rd->n_points : 1, sizeof *in->runs))) {
    free(in);
    cls_rundir_destroy(rd);
    return CLS_ERR_OUT_OF_MEMORY;
  }
  for (size_t i = 0; i < rd->n_points && !st; i++) st = read_point(in, dir, &rd->points[i], err, err_len);
  if (!st && in->n_runs == 0) {
    if (!rd->has_points_dir)
      cls_errf(err, err_len, CLS_ERR_INVALID_VALUE,
               "%s has no points/ folder: is it a run directory? (clscale sweep writes one)", dir);
    else if (rd->n_points == 0)
      cls_errf(err, err_len, CLS_ERR_INVALID_VALUE,
               "%s/points/ holds no <id>.json point summaries: nothing to fit", dir);
    else
      cls_errf(err, err_len, CLS_ERR_INVALID_VALUE,
               "none of the %zu points in %s/points/ is finished (status ok): nothing to fit", rd->n_points, dir);
    st = CLS_ERR_INVALID_VALUE;
  }
  cls_rundir_destroy(rd);
  if (st) {
    cls_fit_axis_input_destroy(in);
    return st;
  }
  *out = in;
  return CLS_OK;
}

/* cond split into key, operator (<, <=, =, >=, >) and value text. */
static cls_status parse_where(const char *cond, char *key, size_t key_len, char *op, const char **value, char *err,
                              size_t err_len) {
  size_t k = strcspn(cond, "<>=");
  const char *p = cond + k;
  if (!k || !*p || k >= key_len)
    return cls_errf(err, err_len, CLS_ERR_INVALID_VALUE,
                    "--where '%s': write KEY<=V, KEY>=V, KEY<V, KEY>V or KEY=V (features<=128, source=cut)", cond);
  memcpy(key, cond, k);
  key[k] = 0;
  op[0] = *p++, op[1] = 0, op[2] = 0;
  if (*p == '=' && op[0] != '=') op[1] = *p++;
  *value = p;
  if (!*p || strchr("<>=", *p))
    return cls_errf(err, err_len, CLS_ERR_INVALID_VALUE, "--where '%s': no value after '%s'", cond, op);
  return CLS_OK;
}

static bool meets(double x, const char *op, double v) {
  if (op[0] == '=') return x == v;
  if (op[0] == '<') return op[1] ? x <= v : x < v;
  return op[1] ? x >= v : x > v;
}

cls_status cls_fit_axis_input_where(cls_axis_input *in, const char *cond, char *err, size_t err_len) {
  char key[64], op[3];
  const char *value = "";
  cls_status s = parse_where(cond, key, sizeof key, op, &value, err, err_len);
  if (s) return s;
  char *end;
  double v = strtod(value, &end);
  const bool is_num = end != value && !*end && isfinite(v);
  if (!is_num && op[0] != '=')
    return cls_errf(err, err_len, CLS_ERR_INVALID_VALUE, "--where '%s': '%s' compares with a number, not '%s'",
                    cond, op, value);
  const bool on_curve = !strcmp(key, "samples") || !strcmp(key, "tokens");
  size_t kept = 0, found = 0;
  for (size_t i = 0; i < in->n_runs; i++) {
    cls_axis_run *r = &in->runs[i];
    const cls_axis_kv *kv = NULL;
    for (size_t k = 0; k < r->n_kv && !kv; k++)
      if (!strcmp(r->kv[k].key, key)) kv = &r->kv[k];
    found += kv != NULL;
    if (kv && kv->text && is_num)
      return cls_errf(err, err_len, CLS_ERR_INVALID_VALUE, "--where '%s': '%s' is a text ('%s'), not a number",
                      cond, key, kv->text);
    if (kv && !kv->text && !is_num)
      return cls_errf(err, err_len, CLS_ERR_INVALID_VALUE, "--where '%s': '%s' is a number, not a text", cond,
                      key);
    bool keep = kv && (kv->text ? !strcmp(kv->text, value) : meets(kv->num, op, v));
    if (kv && on_curve && r->curve_n) {
      size_t n = 0;
      for (size_t j = 0; j < r->curve_n; j++)
        if (meets(r->curve_tokens[j], op, v))
          r->curve_tokens[n] = r->curve_tokens[j], r->curve_loss[n] = r->curve_loss[j], n++;
      r->curve_n = n;
      r->final_out |= !keep;
      keep = keep || n > 0;
    }
    if (keep)
      in->runs[kept++] = *r;
    else
      free_run(r);
  }
  if (!found) {
    in->n_runs = kept;
    return cls_errf(err, err_len, CLS_ERR_INVALID_VALUE, "--where '%s': no point has the key '%s'", cond, key);
  }
  size_t used = strlen(in->where);
  snprintf(in->where + used, sizeof in->where - used, "%s%s", used ? ", " : "", cond);
  if (kept < in->n_runs)
    cls_warning_add(&in->warnings, &in->n_warnings, "--where %s left out %zu of %zu points", cond,
                    in->n_runs - kept, in->n_runs);
  in->n_runs = kept;
  if (!kept) return cls_errf(err, err_len, CLS_ERR_INVALID_VALUE, "--where '%s': no point is left", cond);
  return CLS_OK;
}

bool cls_fit_axis_task_of(const char *dir, char *task, size_t len) {
  char path[4200], err[256];
  cJSON *root;
  if (len) task[0] = '\0';
  if (!dir || cls_rundir_path(path, sizeof path, dir, CLS_RUNDIR_MANIFEST, NULL) ||
      cls_json_load(path, &root, err, sizeof err))
    return false;
  const char *t = cls_json_get_str(root, "task");
  if (t) snprintf(task, len, "%s", t);
  cJSON_Delete(root);
  return t != NULL;
}
