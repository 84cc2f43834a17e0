/* src/plot/solved.c — see solved.h. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/fmt.h"
#include "plot/solved.h"
#include "rundir/json.h"
#include "rundir/rundir.h"

/* Keys that are not part of a configuration: the seed, what the sweep
 * writes to find its points again, and what the run measured or derived
 * (docs/formats.md). */
static const char *const run_keys[] = {
    "id", "status", "error", "seed", "sweep", "sweep_mode", "point_index", "device", "seconds", "clscale_version",
    "n_params", "n_params_embed", "tokens", "flops", "flops_6nd", "budget_flops", "budget_tokens", "budget_steps",
    "final_eval_loss", "final_train_loss", "train_examples", "train_tokens", "examples_seen", "epochs", "floor",
    "kernel_form", "loss_rounding", "solve_refinements", "solve_error", "solve_condition", "loss_estimate",
    "loss_se",
    /* the train loop's run record */
    "steps", "total_steps", "warmup_steps", "tokens_per_step", "flops_per_step", "model_flops_per_step",
    "eval_flops", "tokens_per_second", "gflops_per_second", "resumed_from_step", "diverged_at_step", "describe",
    /* the gcd task's measurements beside the loss */
    "eval_accuracy", "eval_answer_loss", "eval_accuracy_gcd1", "gcd_values_seen",
    /* generations: the chain's provenance, one per seed like the seed */
    "teacher", "corpus", "corpus_checksum"};

bool cls_solved_is_run_key(const char *name) {
  for (size_t i = 0; i < sizeof run_keys / sizeof run_keys[0]; i++)
    if (!strcmp(name, run_keys[i])) return true;
  return false;
}

static void warn(cls_solved *s, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
static void warn(cls_solved *s, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  cls_warning_addv(&s->warnings, &s->n_warnings, fmt, ap);
  va_end(ap);
}

static int cmp_line(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The config lines of a summary (see solved.h); NULL when out of memory. */
static char *config_of(const cJSON *summary) {
  size_t n = 0, cap = 0, total = 1;
  char **lines = NULL;
  bool oom = false;
  for (const cJSON *c = summary->child; c && !oom; c = c->next) {
    if (!c->string || cls_solved_is_run_key(c->string)) continue;
    char val[64];
    const char *v;
    if (cJSON_IsNumber(c))
      v = cls_fmt_shortest(c->valuedouble, 0, val, sizeof val);
    else if (cJSON_IsString(c))
      v = c->valuestring;
    else if (cJSON_IsBool(c))
      v = cJSON_IsTrue(c) ? "true" : "false";
    else if (cJSON_IsNull(c))
      v = "null";
    else
      continue; /* objects and arrays describe a run, not its place in the grid */
    size_t len = strlen(c->string) + strlen(v) + 3;
    if (n == cap) {
      cap = cap ? 2 * cap : 16;
      char **p = realloc(lines, cap * sizeof *p);
      if (!p) {
        oom = true;
        break;
      }
      lines = p;
    }
    if (!(lines[n] = malloc(len))) {
      oom = true;
      break;
    }
    snprintf(lines[n++], len, "%s=%s\n", c->string, v);
    total += len;
  }
  char *out = oom ? NULL : malloc(total);
  if (out) {
    if (n) qsort(lines, n, sizeof *lines, cmp_line); /* no lines: lines may be NULL, which qsort must not get */
    out[0] = '\0';
    size_t used = 0;
    for (size_t i = 0; i < n; i++) {
      size_t l = strlen(lines[i]);
      memcpy(out + used, lines[i], l + 1);
      used += l;
    }
  }
  for (size_t i = 0; i < n; i++) free(lines[i]);
  free(lines);
  return out;
}

void cls_solved_destroy(cls_solved *s) {
  if (!s) return;
  for (size_t i = 0; i < s->n_points; i++) {
    cJSON_Delete(s->points[i].summary);
    free(s->points[i].config);
  }
  free(s->points);
  for (size_t i = 0; i < s->n_warnings; i++) free(s->warnings[i]);
  free(s->warnings);
  free(s);
}

cls_status cls_solved_load(const cls_rundir *rd, cls_solved **out, char *err, size_t err_len) {
  if (!rd || !out) return CLS_ERR_NULL_ARGUMENT;
  *out = NULL;
  cls_solved *s = calloc(1, sizeof *s);
  if (!s || !(s->points = calloc(rd->n_points ? rd->n_points : 1, sizeof *s->points))) {
    free(s);
    return CLS_ERR_OUT_OF_MEMORY;
  }
  size_t plen = strlen(rd->path) + 200;
  char *path = malloc(plen);
  cls_status st = path ? CLS_OK : CLS_ERR_OUT_OF_MEMORY;
  char first_task_id[128] = "";
  for (size_t i = 0; i < rd->n_points && !st; i++) {
    const cls_run_point *rp = &rd->points[i];
    st = cls_rundir_path(path, plen, rd->path, CLS_RUNDIR_SUMMARY, rp->id);
    cJSON *j = NULL;
    if (!st) st = cls_json_load(path, &j, err, err_len);
    if (st) break;
    s->n_summaries++;
    const char *task = cls_json_get_str(j, "task");
    if (task && !s->task[0]) {
      snprintf(s->task, sizeof s->task, "%s", task);
      snprintf(first_task_id, sizeof first_task_id, "%s", rp->id);
    } else if (task && strcmp(task, s->task) && !s->mixed[0]) {
      snprintf(s->mixed, sizeof s->mixed,
               "points/%s.json is of task \"%s\" but points/%s.json of task \"%s\": a run directory holds "
               "one sweep; plot each task's points from their own directory",
               rp->id, task, first_task_id, s->task);
    }
    double loss = cls_json_get_num(j, "final_eval_loss");
    if (cls_point_state_parse(rp->status) != CLS_POINT_OK) {
      warn(s, "points/%s.json: status \"%s\"; the point is left out of the figures", rp->id, rp->status);
      cJSON_Delete(j);
      continue;
    }
    if (!isfinite(loss)) {
      warn(s, "points/%s.json: final_eval_loss is missing, null or not finite; the point is left out", rp->id);
      cJSON_Delete(j);
      continue;
    }
    cls_solved_point *p = &s->points[s->n_points];
    p->run = rp;
    p->summary = j;
    p->seed = cls_json_get_num(j, "seed");
    p->loss = loss;
    if (!(p->config = config_of(j))) {
      cJSON_Delete(j);
      st = CLS_ERR_OUT_OF_MEMORY;
      break;
    }
    s->n_points++;
  }
  free(path);
  if (st) {
    cls_solved_destroy(s);
    return st;
  }
  *out = s;
  return CLS_OK;
}

double cls_solved_num(const cls_solved_point *p, const char *key) {
  return p && p->summary ? cls_json_get_num(p->summary, key) : NAN;
}

const char *cls_solved_str(const cls_solved_point *p, const char *key) {
  return p && p->summary ? cls_json_get_str(p->summary, key) : NULL;
}
