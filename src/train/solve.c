/* src/train/solve.c — see solve.h. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/fmt.h"
#include "rundir/rundir.h"
#include "train/solve.h"

int cls_task_is_solved(const cls_task_spec *spec) {
  const cls_task_info *info = spec ? cls_task_find(spec->task, spec->model) : NULL;
  return info && info->solve;
}

/* The summary of the point as it stands. */
static cls_status write_summary(const cls_train_config *c, const cls_solve_output *o, cls_point_state state,
                                cls_train_result *r) {
  size_t nk = strlen(o->key), ne = c->summary_extra ? strlen(c->summary_extra) : 0;
  char *config = malloc(nk + ne + 1);
  if (!config) {
    snprintf(r->error, sizeof r->error, "out of host memory writing %s", r->json_path);
    return CLS_ERR_OUT_OF_MEMORY;
  }
  memcpy(config, o->key, nk);
  memcpy(config + nk, c->summary_extra ? c->summary_extra : "", ne + 1);
  char trailer[sizeof o->trailer + 64], num[40];
  snprintf(trailer, sizeof trailer, "%sseconds=%s\n", o->trailer,
           cls_fmt_shortest(r->seconds, 0, num, sizeof num));
  cls_point_summary sum;
  cls_point_summary_init(&sum);
  sum.id = c->id;
  sum.state = state;
  if (state != CLS_POINT_OK && state != CLS_POINT_RUNNING && r->error[0]) sum.error = r->error;
  sum.n_params = o->n_params;
  sum.n_params_embed = 0;
  sum.config = config;
  sum.tokens = r->tokens;
  sum.flops = r->flops;
  sum.budget_tokens = c->budget;
  sum.final_eval_loss = r->final_eval_loss;
  sum.device = c->device_name;
  sum.trailer = trailer;
  char err[1024];
  cls_status s = cls_point_summary_write(r->json_path, &sum, err, sizeof err);
  free(config);
  if (s != CLS_OK) snprintf(r->error, sizeof r->error, "%s", err);
  return s;
}

/* The rows as the loss-curve CSV (step = T: a sample is a step). */
static cls_status write_curve(const cls_solve_output *o, cls_train_result *r) {
  size_t cap = (o->n_rows ? o->n_rows : 1) * 256, len = 0;
  char *rows = malloc(cap);
  if (!rows) {
    snprintf(r->error, sizeof r->error, "out of host memory writing %s", r->csv_path);
    return CLS_ERR_OUT_OF_MEMORY;
  }
  rows[0] = 0;
  for (size_t i = 0; i < o->n_rows; i++) {
    const cls_solve_row *w = &o->rows[i];
    cls_eval_row e = {w->samples, (double)w->samples, w->flops, 0, NAN, w->loss, 0, w->seconds};
    len += cls_csv_format_row(&e, rows + len, cap - len);
  }
  cls_status s = cls_csv_write(r->csv_path, rows, len, r->error, sizeof r->error);
  free(rows);
  return s;
}

static cls_status bad(cls_train_result *r, const char *msg) {
  snprintf(r->error, sizeof r->error, "%s", msg);
  r->bad_usage = 1;
  return CLS_ERR_INVALID_VALUE;
}

cls_status cls_solve_run(cls_context *ctx, const cls_task_spec *spec, const cls_train_config *c,
                         cls_train_result *r) {
  memset(r, 0, sizeof *r);
  r->final_eval_loss = r->final_train_loss = NAN;
  const cls_task_info *info = spec ? cls_task_find(spec->task, spec->model) : NULL;
  if (!info || !info->solve) return bad(r, "not a solved task (task.h): train it with the train loop");
  if (!c->out_dir || !*c->out_dir) return bad(r, "no output folder: give `out_dir`");
  if (!cls_rundir_id_ok(c->id)) return bad(r, "the run id must use " CLS_RUNDIR_ID_CHARS);
  if (c->budget_kind != CLS_BUDGET_TOKENS || !(c->budget >= 1) || c->budget != floor(c->budget) ||
      c->budget > 1e15) {
    snprintf(r->error, sizeof r->error,
             "a solved task's budget is its training samples T: a whole number of tokens from 1 to 1e15 (got %g "
             "%s)",
             c->budget,
             c->budget_kind == CLS_BUDGET_TOKENS  ? "tokens"
             : c->budget_kind == CLS_BUDGET_STEPS ? "steps"
                                                  : "FLOPs");
    r->bad_usage = 1;
    return CLS_ERR_INVALID_VALUE;
  }
  cls_status s = cls_rundir_prepare(c->out_dir, r->error, sizeof r->error);
  if (s != CLS_OK) return s;
  cls_rundir_path(r->csv_path, sizeof r->csv_path, c->out_dir, CLS_RUNDIR_CURVE, c->id);
  cls_rundir_path(r->json_path, sizeof r->json_path, c->out_dir, CLS_RUNDIR_SUMMARY, c->id);

  cls_solve_output *o = calloc(1, sizeof *o);
  const size_t cap = c->evals ? c->evals : 1;
  cls_solve_row *rows = calloc(cap, sizeof *rows);
  if (!o || !rows) {
    free(o);
    free(rows);
    snprintf(r->error, sizeof r->error, "out of host memory");
    return CLS_ERR_OUT_OF_MEMORY;
  }
  o->rows = rows;
  o->cap = cap;
  const uint64_t T = (uint64_t)c->budget;
  r->started = 1;
  r->tokens = (double)T;
  /* "running" while it works, as the train loop does, so that a sweep's
   * other shards and a watcher see it. */
  s = write_summary(c, o, CLS_POINT_RUNNING, r);
  const double t0 = cls_now();
  char err[4096] = "";
  cls_status solved = s == CLS_OK ? info->solve(ctx, spec, T, c->stop, o, err, sizeof err) : s;
  r->seconds = cls_now() - t0;
  r->steps = r->total_steps = o->n_rows;
  if (o->n_rows) r->flops = o->rows[o->n_rows - 1].flops;
  cls_point_state state;
  if (s != CLS_OK) {
    state = CLS_POINT_FAILED;
  } else if (solved != CLS_OK) {
    r->status = CLS_RUN_FAILED;
    snprintf(r->error, sizeof r->error, "%s", err[0] ? err : cls_status_name(solved));
    state = CLS_POINT_FAILED;
  } else if (o->stopped) {
    r->status = CLS_RUN_INTERRUPTED;
    snprintf(r->error, sizeof r->error, "stopped before the end: the point is redone when the sweep is run again");
    state = CLS_POINT_INTERRUPTED;
  } else {
    r->status = CLS_RUN_OK;
    r->final_eval_loss = o->n_rows ? o->rows[o->n_rows - 1].loss : NAN;
    state = CLS_POINT_OK;
    if (!o->n_rows || o->rows[o->n_rows - 1].samples != T || !isfinite(r->final_eval_loss)) {
      r->status = CLS_RUN_FAILED;
      snprintf(r->error, sizeof r->error,
               "the solver returned no finite loss at T = %llu (a bug: please report it)", (unsigned long long)T);
      state = CLS_POINT_FAILED;
    }
  }
  if (s == CLS_OK && state == CLS_POINT_OK) s = write_curve(o, r);
  if (s != CLS_OK) {
    r->status = CLS_RUN_FAILED;
    state = CLS_POINT_FAILED;
  }
  char saved[sizeof r->error];
  memcpy(saved, r->error, sizeof saved);
  cls_status w = write_summary(c, o, state, r);
  if (w == CLS_OK) memcpy(r->error, saved, sizeof saved);
  free(rows);
  free(o);
  return w == CLS_OK ? CLS_OK : w;
}
