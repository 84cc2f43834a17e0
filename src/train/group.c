/*
 * src/train/group.c — cls_train_run_models (models.h): several runs of one
 * shape trained as one batched model, each run's files kept by the train
 * loop's own bookkeeping (loop_internal.h) so that they are what the run
 * alone would write.
 *
 * What makes a member's files equal to its run alone:
 * - the FLOPs per step and the matmul choices come from the loop's probe on
 *   one model of the shape built alone (the group's counters count every
 *   model, so a member's FLOPs are its steps times that probe's);
 * - the batched steps compute bitwise what each model computes alone
 *   (models.c, tests/test_group.c);
 * - each member's checkpoint is the file its run alone would write at that
 *   step, so a killed group resumes as a group or as runs alone.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clscale/ops.h"
#include "core/clock.h"
#include "loop_internal.h"
#include "models_internal.h"
#include "train/models.h"
#include "train/schedule.h"

typedef struct {
  cls_context *ctx;
  size_t K;
  cls__run *u;               /* K runs, in slot order (longest first) */
  cls_train_task *view;      /* K: what each member's bookkeeping sees of its model */
  cls_train_task *alone;     /* one model of the shape alone (the probe; the members' final reports) */
  int *closed;               /* K: its result and summary are written */
  const cls_train_config *c; /* the settings every member shares (slot 0's) */
  double t0, last_ckpt_time;
  uint64_t last_ckpt_step;
  char *err;
  size_t err_len;
} group;

/* Settings the members must share (everything but id, budget and lr). */
static int same_settings(const cls_train_config *a, const cls_train_config *b) {
  return a->min_lr_ratio == b->min_lr_ratio && a->warmup_fraction == b->warmup_fraction &&
         a->warmup_steps == b->warmup_steps && a->beta1 == b->beta1 && a->beta2 == b->beta2 && a->eps == b->eps &&
         a->clip == b->clip && a->evals == b->evals && a->eval_every == b->eval_every &&
         a->eval_batches == b->eval_batches && a->checkpoint_steps == b->checkpoint_steps &&
         a->checkpoint_seconds == b->checkpoint_seconds && a->resume == b->resume &&
         a->stop_after_steps == b->stop_after_steps && a->stop == b->stop && a->progress == b->progress &&
         a->progress_user == b->progress_user;
}

/* Member k's result and summary, once (s: a failure, if any). */
static cls_status close_member(group *gr, size_t k, cls_status s) {
  if (gr->closed[k]) return CLS_OK;
  gr->closed[k] = 1;
  cls__run *u = &gr->u[k];
  u->step_seconds = cls_now() - gr->t0;
  return cls__loop_finish(u, s);
}

static void hook_loss(void *user, size_t k, uint64_t step, float loss) {
  group *gr = user;
  cls__run *u = &gr->u[k];
  if (gr->closed[k]) return;
  cls__loop_account_loss(u, step, cls_schedule_lr(u->c->lr, u->c->min_lr_ratio, u->warmup, u->total, step), loss);
}

/* Member k has done `done` steps (unless its run ended before). */
static void advance(group *gr, size_t k, uint64_t done) {
  if (!gr->closed[k] && gr->u[k].outcome == CLS_RUN_OK) gr->u[k].st.step = done;
}

static int hook_eval_due(void *user, size_t k, uint64_t done) {
  group *gr = user;
  const cls__run *u = &gr->u[k];
  return !gr->closed[k] && u->outcome == CLS_RUN_OK && u->next_eval < u->n_evals && u->evals[u->next_eval] == done;
}

static cls_status hook_evaluated(void *user, size_t k, uint64_t done, double lr, double eval_loss) {
  group *gr = user;
  cls__run *u = &gr->u[k];
  advance(gr, k, done);
  double flops, all;
  cls_status s = cls__loop_train_flops(u, &flops, &all);
  u->proc_eval_flops += u->eval_flops_each;
  cls_train_progress pg = {0};
  if (s == CLS_OK) s = cls__loop_log_row(u, lr, eval_loss, flops, &pg);
  return s;
}

/* The end of member k's run that ended ok (cls__loop_end_ok). A task with
 * a final report (task.h's report: the gcd task's outcomes table) makes it
 * on its one-model task, the member's parameters copied into it: the
 * report of the same model as the run alone makes it. */
static cls_status end_ok(group *gr, size_t k) {
  cls__run *u = &gr->u[k];
  cls_train_task *alone = gr->alone, *view = u->t;
  if (!alone->report) return cls__loop_end_ok(u);
  /* The report's forward passes run on the one-model task; the run's
   * checkpoint (the rest of cls__loop_end_ok) stays the member's. */
  const size_t S = alone->params->total;
  cls_status s = cls_buffer_copy(gr->ctx, view->slabs->params, u->model * S, alone->slabs->params, 0, S);
  if (s != CLS_OK) {
    snprintf(u->r->error, sizeof u->r->error, "copying run %zu's parameters for its final report: %s", k,
             cls_last_error(gr->ctx));
    return s;
  }
  return cls__loop_end_ok_with(u, alone);
}

static cls_status hook_ended(void *user, size_t k, uint64_t done) {
  group *gr = user;
  cls__run *u = &gr->u[k];
  advance(gr, k, done);
  if (gr->closed[k]) return CLS_OK;
  cls_status s = u->outcome == CLS_RUN_OK ? end_ok(gr, k) : CLS_OK;
  return close_member(gr, k, s);
}

static cls__models_next hook_next(void *user, uint64_t done, size_t active) {
  group *gr = user;
  const cls_train_config *c = gr->c;
  size_t first_open = SIZE_MAX;
  for (size_t k = 0; k < active; k++) {
    advance(gr, k, done);
    if (!gr->closed[k] && gr->u[k].outcome != CLS_RUN_OK) close_member(gr, k, CLS_OK); /* diverged */
    if (!gr->closed[k] && first_open == SIZE_MAX) first_open = k;
  }
  if (first_open == SIZE_MAX) return CLS__MODELS_STOP; /* every model still in the batch diverged */
  const double tnow = cls_now();
  cls_train_progress pg = {0};
  cls__loop_progress(&gr->u[first_open], &pg, tnow);
  if ((c->stop && *c->stop) || (c->stop_after_steps && done == c->stop_after_steps)) return CLS__MODELS_STOP;
  if ((c->checkpoint_steps && done - gr->last_ckpt_step >= c->checkpoint_steps) ||
      (c->checkpoint_seconds > 0 && tnow - gr->last_ckpt_time >= c->checkpoint_seconds))
    return CLS__MODELS_SAVE;
  return CLS__MODELS_GO_ON;
}

static cls_status hook_save(void *user, uint64_t done, size_t active, int stop) {
  group *gr = user;
  cls_status s = CLS_OK;
  for (size_t k = 0; k < active && s == CLS_OK; k++) {
    cls__run *u = &gr->u[k];
    if (gr->closed[k]) continue;
    if (u->outcome != CLS_RUN_OK) { /* diverged in a loss read just now */
      s = close_member(gr, k, CLS_OK);
      continue;
    }
    u->st.step = done;
    s = stop ? cls__loop_interrupt(u) : cls__loop_save(u);
  }
  gr->last_ckpt_time = cls_now();
  gr->last_ckpt_step = done;
  return s;
}

/* Refused before anything is written: the message, every result not
 * started. */
static cls_status refuse(group *gr, cls_status s, const char *why) {
  if (!gr->err[0]) snprintf(gr->err, gr->err_len, "%s", why);
  for (size_t k = 0; k < gr->K; k++) gr->u[k].r->started = 0;
  return s;
}

/* The checks, the run directories, the record of matmul choices and the
 * probe on one model of the shape alone: FLOPs per step and per
 * evaluation into every member's result; *alone the probe's task (kept
 * for the members' views). */
static cls_status prepare(group *gr, const cls_task_spec *spec, const uint64_t *seeds, cls_train_task **alone) {
  const size_t K = gr->K;
  cls_status s = CLS_OK;
  for (size_t k = 0; k < K && s == CLS_OK; k++) {
    cls__run *u = &gr->u[k];
    s = cls__loop_check_config(u->c, u->r);
    if (s == CLS_OK && !same_settings(u->c, gr->u[0].c))
      return refuse(gr, CLS_ERR_INVALID_VALUE,
                    "the runs differ in more than id, budget and lr (schedule, evaluations, checkpoints, resume): "
                    "train them alone");
    if (s == CLS_OK) s = cls__loop_open(u);
    if (s != CLS_OK) return refuse(gr, s, u->r->error);
  }
  cls_task_spec one = *spec;
  one.seed = seeds[0];
  char err[1024] = "";
  s = cls_task_create(gr->ctx, &one, alone, err, sizeof err);
  if (s != CLS_OK) return refuse(gr, s, err);
  for (size_t k = 0; k < K; k++) gr->u[k].t = *alone;
  /* Resuming members pin their checkpoints' choices: the same record in
   * each, or they did not stop together. */
  for (size_t k = 0; k < (gr->c->resume ? K : 1) && s == CLS_OK; k++) {
    s = cls__loop_pin_choices(&gr->u[k]);
    if (s == CLS_OK && k && strcmp(gr->u[k].pinned ? gr->u[k].pinned : "", gr->u[0].pinned ? gr->u[0].pinned : ""))
      return refuse(gr, CLS_ERR_INVALID_VALUE,
                    "the runs' checkpoints record different matmul choices: resume them alone");
  }
  if (s != CLS_OK) return refuse(gr, s, gr->u[0].r->error);
  double eval_flops = 0;
  s = cls__loop_probe(&gr->u[0], &eval_flops);
  if (s != CLS_OK) return refuse(gr, s, gr->u[0].r->error);
  for (size_t k = 0; k < K; k++) {
    gr->u[k].r->flops_per_step = gr->u[0].r->flops_per_step;
    gr->u[k].r->launches_per_step = gr->u[0].r->launches_per_step;
    gr->u[k].eval_flops_each = eval_flops;
    s = cls__loop_plan_steps(&gr->u[k]);
    if (s != CLS_OK) return refuse(gr, s, gr->u[k].r->error);
  }
  return CLS_OK;
}

/* Slot order: the longest run first (stable), so that the models still
 * training at any step are the first ones. */
static void order_by_steps(cls__run *u, uint64_t *seeds, size_t K) {
  for (size_t i = 1; i < K; i++)
    for (size_t j = i; j > 0 && u[j].total > u[j - 1].total; j--) {
      cls__run t = u[j];
      u[j] = u[j - 1];
      u[j - 1] = t;
      uint64_t sd = seeds[j];
      seeds[j] = seeds[j - 1];
      seeds[j - 1] = sd;
    }
}

/* The members' views of the group's model, their keys and their
 * checkpoints; every member at the same step, none with nothing left. */
static cls_status restore_all(group *gr, cls__models *g, const cls_task_spec *spec, const cls_train_task *alone,
                              uint64_t *first) {
  for (size_t k = 0; k < gr->K; k++) {
    cls__run *u = &gr->u[k];
    g->ops->view(g->impl, k, spec, alone, &gr->view[k]);
    u->t = &gr->view[k];
    u->model = k;
    u->member = 1;
    cls__loop_make_key(u);
    cls_status s = cls__loop_restore(u);
    if (s != CLS_OK) return refuse(gr, s, u->r->error);
    if (u->st.step != gr->u[0].st.step || u->st.step >= u->total)
      return refuse(gr, CLS_ERR_INVALID_VALUE,
                    "the runs' checkpoints are at different steps (or one has no step left): resume them alone");
  }
  *first = gr->u[0].st.step;
  return CLS_OK;
}

/* Trains the members from step `first`; every member closed at the end. */
static cls_status train(group *gr, cls__models *g, uint64_t first) {
  const size_t K = gr->K;
  uint64_t *total = malloc(K * sizeof *total), *warmup = malloc(K * sizeof *warmup);
  double *lr = malloc(K * sizeof *lr);
  cls_status s = CLS_OK;
  if (!total || !warmup || !lr) {
    snprintf(gr->err, gr->err_len, "out of host memory");
    s = CLS_ERR_OUT_OF_MEMORY;
  }
  for (size_t k = 0; k < K && s == CLS_OK; k++) {
    total[k] = gr->u[k].total;
    warmup[k] = gr->u[k].warmup;
    lr[k] = gr->u[k].c->lr;
    s = cls__loop_start(&gr->u[k]);
    if (s != CLS_OK) snprintf(gr->err, gr->err_len, "%s", gr->u[k].r->error);
  }
  gr->t0 = gr->last_ckpt_time = cls_now();
  gr->last_ckpt_step = first;
  if (s == CLS_OK) {
    const cls__models_plan plan = {K, total, warmup, lr, first};
    const cls__models_hooks hooks = {.user = gr,
                                     .loss = hook_loss,
                                     .eval_due = hook_eval_due,
                                     .evaluated = hook_evaluated,
                                     .ended = hook_ended,
                                     .next = hook_next,
                                     .save = hook_save};
    double samples = 0;
    s = cls__models_steps(gr->ctx, g, gr->c, &plan, &hooks, &samples, gr->err, gr->err_len);
  }
  /* The members still open: interrupted (stopped), or failed with s. */
  for (size_t k = 0; k < K; k++) {
    cls__run *u = &gr->u[k];
    if (s != CLS_OK && !u->r->error[0]) snprintf(u->r->error, sizeof u->r->error, "%s", gr->err);
    cls_status c = close_member(gr, k, s);
    if (s == CLS_OK) s = c;
  }
  free(total);
  free(warmup);
  free(lr);
  return s;
}

cls_status cls_train_run_models(cls_context *ctx, const cls_task_spec *spec, size_t K, const uint64_t *seeds,
                                const cls_train_config *cfgs, cls_train_result *results, char *err,
                                size_t err_len) {
  if (err_len) err[0] = 0;
  if (!ctx || !spec || !seeds || !cfgs || !results || !K) {
    snprintf(err, err_len, "cls_train_run_models: a NULL argument or no runs");
    return CLS_ERR_NULL_ARGUMENT;
  }
  for (size_t k = 0; k < K; k++) {
    memset(&results[k], 0, sizeof results[k]);
    results[k].final_eval_loss = results[k].final_train_loss = NAN;
  }
  const cls_task_info *info = spec->task ? cls_task_find(spec->task, spec->model) : NULL;
  if (!info || !info->models) {
    snprintf(err, err_len, "task '%s': its runs do not train side by side; train them alone",
             spec->task ? spec->task : "");
    return CLS_ERR_INVALID_VALUE;
  }
  group gr = {.ctx = ctx, .K = K, .c = &cfgs[0], .err = err, .err_len = err_len};
  gr.u = calloc(K, sizeof *gr.u);
  gr.view = calloc(K, sizeof *gr.view);
  gr.closed = calloc(K, sizeof *gr.closed);
  uint64_t *slot_seeds = malloc(K * sizeof *slot_seeds);
  if (!gr.u || !gr.view || !gr.closed || !slot_seeds) {
    free(gr.u);
    free(gr.view);
    free(gr.closed);
    free(slot_seeds);
    snprintf(err, err_len, "out of host memory");
    return CLS_ERR_OUT_OF_MEMORY;
  }
  for (size_t k = 0; k < K; k++) {
    gr.u[k] = (cls__run){.c = &cfgs[k], .r = &results[k], .outcome = CLS_RUN_OK};
    slot_seeds[k] = seeds[k];
  }
  cls_train_task *alone = NULL;
  cls__models *g = NULL;
  uint64_t first = 0;
  cls_status s = prepare(&gr, spec, slot_seeds, &alone);
  if (s == CLS_OK) {
    order_by_steps(gr.u, slot_seeds, K);
    s = cls__models_create(ctx, spec, K, slot_seeds, &g, err, err_len);
    if (s != CLS_OK) refuse(&gr, s, err);
  }
  gr.alone = alone;
  if (s == CLS_OK) s = restore_all(&gr, g, spec, alone, &first);
  if (s == CLS_OK) s = train(&gr, g, first);
  cls__models_destroy(g);
  cls_task_destroy(alone);
  cls_matmul_record_end(ctx);
  for (size_t k = 0; k < K; k++) cls__loop_release(&gr.u[k]);
  free(gr.u);
  free(gr.view);
  free(gr.closed);
  free(slot_seeds);
  return s;
}
