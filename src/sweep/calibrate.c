/* src/sweep/calibrate.c — see calibrate.h. */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/clock.h"
#include "rundir/rundir.h"
#include "sweep/calibrate.h"
#include "train/loop.h"
#include "train/models.h"
#include "train/schedule.h"
#include "train/task.h"

/* The calibration trains one point, under this id, in a scratch run directory. */
#define CALIBRATE_ID "calibrate"

/* Removes the calibration's scratch run directory: the point's files (named
 * by the run directory's owner), then its folders. */
static void remove_tree(const char *dir) {
  static const cls_rundir_file files[] = {CLS_RUNDIR_CURVE, CLS_RUNDIR_SUMMARY, CLS_RUNDIR_CHECKPOINT};
  static const cls_rundir_file folders[] = {CLS_RUNDIR_POINTS, CLS_RUNDIR_CHECKPOINTS};
  char path[4200];
  for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
    if (cls_rundir_path(path, sizeof path, dir, files[i], CALIBRATE_ID) == CLS_OK) remove(path);
  for (size_t i = 0; i < sizeof folders / sizeof folders[0]; i++)
    if (cls_rundir_path(path, sizeof path, dir, folders[i], NULL) == CLS_OK) rmdir(path);
  rmdir(dir);
}

cls_status cls_sweep_calibrate(cls_context *ctx, const cls_sweep_spec *s, const cls_sweep_point *p, size_t steps,
                               cls_sweep_calibration *out, char *err, size_t err_len) {
  memset(out, 0, sizeof *out);
  const char *tmpdir = getenv("TMPDIR");
  char dir[4096];
  snprintf(dir, sizeof dir, "%s/clscale-calibrate-XXXXXX", tmpdir && *tmpdir ? tmpdir : "/tmp");
  if (!mkdtemp(dir)) {
    snprintf(err, err_len, "cannot create a temporary folder in %s for the calibration",
             tmpdir && *tmpdir ? tmpdir : "/tmp");
    return CLS_ERR_IO;
  }
  const double t0 = cls_now();
  cls_task_spec ts;
  cls_sweep_point_task(s, p, &ts);
  cls_train_task *task = NULL;
  cls_status st = cls_task_create(ctx, &ts, &task, err, err_len);
  if (st != CLS_OK) {
    remove_tree(dir);
    return st;
  }
  const double t_setup = cls_now() - t0;
  cls_train_config tc;
  cls_sweep_point_config(s, p, &tc);
  tc.out_dir = dir;
  tc.id = CALIBRATE_ID;
  tc.budget_kind = CLS_BUDGET_STEPS;
  tc.budget = (double)(steps ? steps : 1);
  tc.budget_flops_nominal = 0;
  tc.evals = 1;
  tc.eval_every = 0;
  tc.eval_batches = 1;
  tc.checkpoint_steps = 0;
  tc.checkpoint_seconds = 0;
  tc.drop_checkpoint = 1;
  tc.force = 1;
  cls_train_result *r = malloc(sizeof *r);
  if (!r) {
    cls_task_destroy(task);
    remove_tree(dir);
    snprintf(err, err_len, "out of host memory");
    return CLS_ERR_OUT_OF_MEMORY;
  }
  const double t1 = cls_now();
  st = cls_train_run(task, &tc, r);
  const double t_run = cls_now() - t1;
  if (st == CLS_OK && r->status == CLS_RUN_OK && r->process_steps) {
    out->flops_per_step = r->flops_per_step;
    out->model_flops_per_step = task->model_flops_per_step;
    out->seconds_per_step = r->step_seconds / (double)r->process_steps;
    /* Everything that is not a training step: building the task, the
     * probe, the one evaluation, the files. */
    out->overhead_seconds = t_setup + (t_run - r->step_seconds);
    out->tokens_per_step = task->tokens_per_step;
    out->examples_per_step = task->examples_per_step;
    out->train_examples = task->train_examples;
    out->n_params = task->n_params;
    out->n_params_embed = task->n_params_embed;
  } else {
    snprintf(err, err_len, "%s", r->error[0] ? r->error : "the calibration steps failed");
    if (st == CLS_OK) st = CLS_ERR_INVALID_VALUE;
  }
  free(r);
  cls_task_destroy(task);
  remove_tree(dir);
  return st;
}

void cls_sweep_estimate_point(const cls_sweep_spec *s, const cls_sweep_point *p, const cls_sweep_calibration *c,
                              cls_sweep_estimate *e) {
  memset(e, 0, sizeof *e);
  double steps = p->budget.kind == CLS_BUDGET_STEPS    ? p->budget.value
                 : p->budget.kind == CLS_BUDGET_TOKENS ? floor(p->budget.value / c->tokens_per_step)
                                                       : floor(p->budget.value / c->flops_per_step);
  if (!(steps >= 1) || steps > 1e15) return;
  e->steps = (uint64_t)steps;
  e->tokens = steps * c->tokens_per_step;
  e->flops = steps * c->flops_per_step;
  e->flops_6nd = 6.0 * c->n_params * e->tokens;
  e->epochs = c->train_examples > 0 ? steps * c->examples_per_step / c->train_examples : NAN;
  size_t n_evals = 0;
  uint64_t *ev = cls_schedule_eval_steps(e->steps, s->eval_every, s->evals, &n_evals);
  free(ev);
  /* An evaluation batch is a forward pass: about a third of a step. */
  e->seconds = c->overhead_seconds + steps * c->seconds_per_step +
               (double)n_evals * (double)s->eval_batches * c->seconds_per_step / 3.0;
}

/* A step of `models` models of p's shape side by side, timed over at
 * least min_steps steps and min_seconds (cls_models_time). */
static cls_status time_models(cls_context *ctx, const cls_sweep_spec *s, const cls_sweep_point *p, size_t models,
                              size_t min_steps, double min_seconds, cls_models_timing *out, char *err,
                              size_t err_len) {
  cls_task_spec ts;
  cls_sweep_point_task(s, p, &ts);
  cls_train_config tc;
  cls_sweep_point_config(s, p, &tc);
  return cls_models_time(ctx, &ts, &tc, models, min_steps, min_seconds, out, err, err_len);
}

cls_status cls_sweep_calibrate_models(cls_context *ctx, const cls_sweep_spec *s, const cls_sweep_point *p,
                                      size_t models, cls_models_timing *out, char *err, size_t err_len) {
  /* 0.15 s: long enough for the clock, short beside a sweep. The default
   * sweep measures six groups, each alone and side by side: with a third
   * of a second each, the measurement took about 12 s of a 159 s sweep
   * and cost more than its one kept group saved (2026-12-07, quiet). */
  return time_models(ctx, s, p, models, 5, 0.15, out, err, err_len);
}

int cls_sweep_group_pays(const uint64_t *steps, size_t n, double t1, double tn, double *alone, double *group) {
  uint64_t *sorted = malloc((n ? n : 1) * sizeof *sorted);
  *alone = *group = 0;
  if (!sorted || n < 2) {
    free(sorted);
    return 0;
  }
  for (size_t i = 0; i < n; i++) {
    size_t j = i;
    for (; j > 0 && sorted[j - 1] < steps[i]; j--) sorted[j] = sorted[j - 1];
    sorted[j] = steps[i];
    *alone += (double)steps[i] * t1;
  }
  /* a models train while the a-th longest has steps left. */
  for (size_t a = n; a >= 1; a--) {
    const double below = a < n ? (double)sorted[a] : 0, t = t1 + (tn - t1) * (double)(a - 1) / (double)(n - 1);
    *group += ((double)sorted[a - 1] - below) * t;
  }
  free(sorted);
  return *group < 0.9 * *alone;
}

/* One context's share of cls_sweep_calibrate_pair's timing. */
typedef struct {
  cls_context *ctx;
  const cls_sweep_spec *s;
  const cls_sweep_point *p;
  size_t models;
  cls_models_timing t;
  cls_status st;
  char err[1024];
} pair_arg;

/* 0.3 s: each context's timed steps must overlap the other's for most of
 * their length; the untimed steps before them differ by a group's build. */
static void *pair_main(void *arg) {
  pair_arg *a = arg;
  a->st = time_models(a->ctx, a->s, a->p, a->models, 5, 0.3, &a->t, a->err, sizeof a->err);
  return NULL;
}

cls_status cls_sweep_calibrate_pair(cls_context *ctx, cls_context *ctx2, const cls_sweep_spec *s,
                                    const cls_sweep_point *p, size_t models, double *alone, double *pair,
                                    char *err, size_t err_len) {
  *alone = *pair = NAN;
  pair_arg a = {.ctx = ctx, .s = s, .p = p, .models = models}, b = a;
  b.ctx = ctx2;
  pair_main(&a); /* alone */
  if (a.st == CLS_OK) {
    *alone = a.t.seconds_per_step;
    b.st = time_models(ctx2, s, p, models, 1, 0, &b.t, b.err, sizeof b.err); /* ctx2's builds, untimed */
  }
  pthread_t th;
  if (a.st == CLS_OK && b.st == CLS_OK) {
    if (pthread_create(&th, NULL, pair_main, &b) != 0) {
      snprintf(err, err_len, "cannot start a thread for the second context");
      return CLS_ERR_OUT_OF_MEMORY;
    }
    pair_main(&a);
    pthread_join(th, NULL);
  }
  if (a.st != CLS_OK || b.st != CLS_OK) {
    snprintf(err, err_len, "%s", a.st != CLS_OK ? a.err : b.err);
    return a.st != CLS_OK ? a.st : b.st;
  }
  *pair = 0.5 * (a.t.seconds_per_step + b.t.seconds_per_step);
  return CLS_OK;
}

int cls_sweep_pair_pays(double alone, double pair) {
  return alone > 0 && pair > 0 && pair < 0.9 * 2.0 * alone;
}
