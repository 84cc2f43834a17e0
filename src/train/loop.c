/* src/train/loop.c — see loop.h; docs/train.md has the user's view. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "clscale/ops.h"
#include "core/clock.h"
#include "core/file.h"
#include "core/fmt.h"
#include "rundir/rundir.h"
#include "train/checkpoint.h"
#include "train/loop.h"
#include "loop_internal.h"
#include "train/schedule.h"

void cls_train_config_default(cls_train_config *c) {
  memset(c, 0, sizeof *c);
  c->budget_kind = CLS_BUDGET_STEPS;
  c->lr = 1e-3;
  c->min_lr_ratio = 0.1;
  c->warmup_fraction = 0.05;
  c->beta1 = 0.9;
  c->beta2 = 0.95;
  c->eps = 1e-8;
  c->clip = 1.0;
  c->evals = 20;
  c->eval_batches = 8;
  c->checkpoint_seconds = 600;
}

/* The run directory's state of a run that ended so. */
static cls_point_state point_state(cls_run_status s) {
  switch (s) {
  case CLS_RUN_OK:
    return CLS_POINT_OK;
  case CLS_RUN_DIVERGED:
    return CLS_POINT_DIVERGED;
  case CLS_RUN_INTERRUPTED:
    return CLS_POINT_INTERRUPTED;
  case CLS_RUN_FAILED:
    break;
  }
  return CLS_POINT_FAILED;
}

const char *cls_run_status_name(cls_run_status s) {
  return cls_point_state_name(point_state(s));
}

/* ------------------------------------------------------------- checks */

#define BAD(...)                                                                                                  \
  do {                                                                                                            \
    snprintf(r->error, sizeof r->error, __VA_ARGS__);                                                             \
    r->bad_usage = 1;                                                                                             \
    return CLS_ERR_INVALID_VALUE;                                                                                 \
  } while (0)

cls_status cls__loop_check_config(const cls_train_config *c, cls_train_result *r) {
  if (!c->out_dir || !*c->out_dir) BAD("no output folder: give `out_dir`");
  if (!cls_rundir_id_ok(c->id)) BAD("run id '%s': use " CLS_RUNDIR_ID_CHARS, c->id ? c->id : "");
  if (!(c->budget > 0) || !isfinite(c->budget))
    BAD("the budget must be a positive number of %s (got %g)",
        c->budget_kind == CLS_BUDGET_STEPS    ? "steps"
        : c->budget_kind == CLS_BUDGET_TOKENS ? "tokens"
                                              : "FLOPs",
        c->budget);
  if (c->budget_kind == CLS_BUDGET_STEPS && (c->budget != floor(c->budget) || c->budget > 1e15))
    BAD("a budget in steps must be a whole number up to 1e15 (got %g)", c->budget);
  if (!(c->lr > 0) || !isfinite(c->lr)) BAD("learning rate %g: must be positive and finite", c->lr);
  if (!(c->min_lr_ratio >= 0 && c->min_lr_ratio <= 1)) BAD("min lr ratio %g: must be in [0, 1]", c->min_lr_ratio);
  if (c->warmup_fraction >= 0 && !(c->warmup_fraction < 1))
    BAD("warm-up fraction %g: must be below 1 (100%%)", c->warmup_fraction);
  if (!(c->beta1 >= 0 && c->beta1 < 1) || !(c->beta2 >= 0 && c->beta2 < 1))
    BAD("AdamW betas %g, %g: each must be in [0, 1)", c->beta1, c->beta2);
  if (!(c->eps > 0) || !isfinite(c->eps)) BAD("AdamW eps %g: must be positive", c->eps);
  if (!(c->clip >= 0) || !isfinite(c->clip)) BAD("gradient clip %g: must be >= 0 (0: no clipping)", c->clip);
  if (!c->eval_every && !c->evals) BAD("evaluations: need at least 1");
  if (!c->eval_batches) BAD("evaluation batches: need at least 1");
  if (c->checkpoint_seconds < 0 || !isfinite(c->checkpoint_seconds))
    BAD("checkpoint interval %g s: must be >= 0", c->checkpoint_seconds);
  if (c->resume && c->force) BAD("`resume` and `force` contradict each other: choose one");
  return CLS_OK;
}

/* -------------------------------------------------------------- state */

typedef cls__run run;

static cls_status device_fail(run *u, cls_status s, const char *what) {
  const char *why = u->t->error[0] ? u->t->error : cls_last_error(u->t->ctx);
  snprintf(u->r->error, sizeof u->r->error, "%s: %s", what, why && *why ? why : cls_status_name(s));
  return s;
}

static int append_row(run *u, const char *line, size_t n) {
  if (u->st.rows_len + n + 1 > u->rows_cap) {
    size_t cap = (u->rows_cap ? 2 * u->rows_cap : 4096) + n;
    char *grown = realloc(u->st.rows, cap);
    if (!grown) return 0;
    u->st.rows = grown;
    u->rows_cap = cap;
  }
  memcpy(u->st.rows + u->st.rows_len, line, n);
  u->st.rows_len += n;
  u->st.rows[u->st.rows_len] = 0;
  return 1;
}

/* The training FLOPs so far: checkpointed plus this process's count minus
 * its evaluations. Waits for the queue. */
cls_status cls__loop_train_flops(run *u, double *flops, double *all) {
  if (u->member) { /* the counters count the whole group */
    const double mine = (double)(u->st.step - u->r->resumed_from) * u->r->flops_per_step;
    *all = mine + u->proc_eval_flops;
    *flops = u->train_flops_base + mine;
    return CLS_OK;
  }
  cls_counters cn;
  cls_status s = cls_counters_get(u->t->ctx, &cn);
  if (s != CLS_OK) return s;
  *all = cn.flops;
  *flops = u->train_flops_base + cn.flops - u->proc_eval_flops;
  return CLS_OK;
}

/* The run's record of auto matmul choices so far (clscale/ops.h), malloc'd;
 * "" when there is none, NULL when out of host memory. */
static char *choices_now(const run *u) {
  size_t need = 1;
  char probe[1];
  if (cls_matmul_record_text(u->t->ctx, probe, sizeof probe, &need) == CLS_ERR_INVALID_VALUE) need = 1;
  char *text = calloc(need, 1);
  if (text && need > 1 && cls_matmul_record_text(u->t->ctx, text, need, NULL) != CLS_OK) text[0] = 0;
  return text;
}

cls_status cls__loop_save(run *u) {
  double flops, all;
  cls_status s = cls__loop_train_flops(u, &flops, &all);
  if (s != CLS_OK) return device_fail(u, s, "counting FLOPs for the checkpoint");
  cls_ckpt_state st = u->st;
  st.train_flops = flops;
  st.eval_flops = u->eval_flops_base + u->proc_eval_flops;
  st.seconds = u->seconds_base + (cls_now() - u->t0);
  st.choices = choices_now(u);
  if (!st.choices) {
    snprintf(u->r->error, sizeof u->r->error, "out of host memory writing the checkpoint");
    return CLS_ERR_OUT_OF_MEMORY;
  }
  s = cls_checkpoint_save_at(u->t->ctx, u->r->ckpt_path, u->key, &st, u->t->params, u->t->slabs, u->model,
                             u->r->error, sizeof u->r->error);
  free(st.choices);
  return s;
}

/* The task's key and the caller's extra lines: the run's configuration in
 * the summary (width, depth, batch, seed, data ... for every task without
 * the loop knowing them). NULL when out of memory. */
static char *config_lines(const char *key, const char *extra) {
  size_t nk = strlen(key), ne = extra ? strlen(extra) : 0;
  char *out = malloc(nk + ne + 2);
  if (!out) return NULL;
  int sep = nk && key[nk - 1] != '\n' && ne;
  snprintf(out, nk + ne + 2, "%s%s%s", key, sep ? "\n" : "", extra ? extra : "");
  return out;
}

/* How the run went, for the summary. */
static void fill_run_fields(const run *u, cls_point_run *pr) {
  const cls_train_config *c = u->c;
  const cls_train_result *r = u->r;
  pr->steps = (double)r->steps;
  pr->total_steps = (double)r->total_steps;
  pr->warmup_steps = (double)r->warmup_steps;
  pr->lr = c->lr;
  pr->min_lr_ratio = c->min_lr_ratio;
  pr->beta1 = c->beta1;
  pr->beta2 = c->beta2;
  pr->clip = c->clip;
  pr->tokens_per_step = u->t->tokens_per_step;
  pr->flops_per_step = r->flops_per_step;
  pr->model_flops_per_step = u->t->model_flops_per_step;
  pr->eval_flops = r->eval_flops;
  if (r->process_steps && r->step_seconds > 0) {
    pr->tokens_per_second = (double)r->process_steps * u->t->tokens_per_step / r->step_seconds;
    pr->gflops_per_second = r->process_train_flops / r->step_seconds * 1e-9;
  }
  pr->resumed_from_step = (double)r->resumed_from;
  if (r->status == CLS_RUN_DIVERGED) pr->diverged_at_step = (double)r->diverged_step;
  pr->describe = u->t->describe;
}

/* points/<id>.json as the run stands; state RUNNING while it trains. */
static cls_status write_summary(run *u, cls_point_state state) {
  const cls_train_config *c = u->c;
  cls_train_result *r = u->r;
  cls_point_summary sum;
  cls_point_summary_init(&sum);
  char *config = config_lines(u->t->key, c->summary_extra);
  if (!config) {
    snprintf(r->error, sizeof r->error, "out of host memory writing %s", r->json_path);
    return CLS_ERR_OUT_OF_MEMORY;
  }
  sum.id = c->id;
  sum.state = state;
  if (state != CLS_POINT_OK && state != CLS_POINT_RUNNING && r->error[0]) sum.error = r->error;
  sum.n_params = u->t->n_params;
  sum.n_params_embed = u->t->n_params_embed;
  sum.config = config;
  sum.tokens = r->tokens;
  if (u->t->train_examples > 0) {
    sum.train_examples = u->t->train_examples;
    sum.train_tokens = u->t->train_tokens;
    sum.examples_seen = (double)r->steps * u->t->examples_per_step;
    sum.epochs = sum.examples_seen / u->t->train_examples;
  }
  sum.flops = r->flops;
  sum.flops_6nd = r->flops_6nd;
  double nominal = c->budget_flops_nominal > 0          ? c->budget_flops_nominal
                   : c->budget_kind == CLS_BUDGET_FLOPS ? c->budget
                                                        : NAN;
  if (isfinite(nominal)) sum.budget_flops = nominal;
  if (c->budget_kind == CLS_BUDGET_TOKENS) sum.budget_tokens = c->budget;
  if (c->budget_kind == CLS_BUDGET_STEPS) sum.budget_steps = c->budget;
  sum.final_eval_loss = r->final_eval_loss;
  sum.final_train_loss = r->final_train_loss;
  sum.seconds = r->seconds;
  sum.device = c->device_name;
  sum.has_run = 1;
  fill_run_fields(u, &sum.run);
  if (u->report[0]) sum.trailer = u->report;
  char *choices = choices_now(u);
  if (choices && choices[0]) sum.run.matmul_choices = choices;
  char err[1024];
  cls_status s = cls_point_summary_write(r->json_path, &sum, err, sizeof err);
  free(choices);
  free(config);
  if (s != CLS_OK) snprintf(r->error, sizeof r->error, "%s", err);
  return s;
}

/* Parses the last CSV row of a resumed run (for its final losses). */
static void parse_last_row(run *u) {
  if (!u->st.rows_len) return;
  const char *end = u->st.rows + u->st.rows_len - 1, *p = end;
  while (p > u->st.rows && p[-1] != '\n') p--;
  if (cls_csv_parse_row(p, &u->last)) u->have_last = 1;
}

/* -------------------------------------------------------------- probe */

/* One step and one evaluation, then the model as it was: the auto backend
 * chooses (and counts its timing runs) here, and the second step measures
 * the FLOPs of a whole step. */
static cls_status probe(run *u, double *flops_per_step, double *eval_flops) {
  cls_train_task *t = u->t;
  cls_context *ctx = t->ctx;
  const size_t n = t->params->total;
  float *saved = malloc(n * sizeof *saved);
  if (!saved) {
    snprintf(u->r->error, sizeof u->r->error, "out of host memory (%zu floats)", n);
    return CLS_ERR_OUT_OF_MEMORY;
  }
  cls_status s = cls_buffer_read(ctx, t->slabs->params, 0, n, saved);
  const float lr = (float)u->c->lr;
  float loss;
  double eval_loss;
  cls_counters cn;
  for (int pass = 0; pass < 2 && s == CLS_OK; pass++) {
    if (pass == 1) cls_counters_reset(ctx);
    s = cls_param_zero_grads(ctx, t->params, t->slabs);
    if (s == CLS_OK) s = t->train_step(t, 0, &loss);
    if (s == CLS_OK)
      s = cls_param_adamw(ctx, t->params, t->slabs, lr, (float)u->c->beta1, (float)u->c->beta2, (float)u->c->eps,
                          1, (float)u->c->clip);
    if (s == CLS_OK && pass == 0) s = t->evaluate(t, 1, &eval_loss);
    if (s == CLS_OK && pass == 1) s = cls_counters_get(ctx, &cn);
    if (s == CLS_OK && pass == 1 && eval_flops) { /* what one evaluation of the run costs */
      cls_counters ce;
      s = t->evaluate(t, u->c->eval_batches, &eval_loss);
      if (s == CLS_OK) s = cls_counters_get(ctx, &ce);
      if (s == CLS_OK) *eval_flops = ce.flops - cn.flops;
    }
  }
  if (s == CLS_OK) s = cls_buffer_write(ctx, t->slabs->params, 0, n, saved);
  if (s == CLS_OK) s = cls_buffer_fill(ctx, t->slabs->m, 0, n, 0.0f);
  if (s == CLS_OK) s = cls_buffer_fill(ctx, t->slabs->v, 0, n, 0.0f);
  if (s == CLS_OK) s = cls_param_zero_grads(ctx, t->params, t->slabs);
  if (s == CLS_OK) s = cls_finish(ctx);
  free(saved);
  if (s != CLS_OK) return device_fail(u, s, "the first training step failed");
  cls_counters_reset(ctx);
  *flops_per_step = cn.flops;
  u->r->launches_per_step = cn.launches;
  return CLS_OK;
}

/* --------------------------------------------------------------- run */

static int file_exists(const char *path) {
  struct stat sb;
  return stat(path, &sb) == 0;
}

/* The run directory's folders and this run's paths; a checkpoint must be
 * there to resume and must not be there to start (unless forced). */
cls_status cls__loop_open(run *u) {
  const cls_train_config *c = u->c;
  cls_train_result *r = u->r;
  cls_status s = cls_rundir_prepare(c->out_dir, r->error, sizeof r->error);
  if (s != CLS_OK) return s;
  cls_rundir_path(r->csv_path, sizeof r->csv_path, c->out_dir, CLS_RUNDIR_CURVE, c->id);
  cls_rundir_path(r->json_path, sizeof r->json_path, c->out_dir, CLS_RUNDIR_SUMMARY, c->id);
  cls_rundir_path(r->ckpt_path, sizeof r->ckpt_path, c->out_dir, CLS_RUNDIR_CHECKPOINT, c->id);
  if (c->resume && !file_exists(r->ckpt_path)) {
    snprintf(r->error, sizeof r->error, "`resume`: no checkpoint %s to continue (run without `resume` to start)",
             r->ckpt_path);
    return CLS_ERR_IO;
  }
  if (!c->resume && !c->force && file_exists(r->ckpt_path)) {
    snprintf(r->error, sizeof r->error,
             "a checkpoint of run '%s' exists (%s): add `resume` to continue it or `force` to start over", c->id,
             r->ckpt_path);
    r->bad_usage = 1;
    return CLS_ERR_INVALID_VALUE;
  }
  return CLS_OK;
}

/* The probe; a model that cannot run here (out of device memory, a kernel
 * that fails) is a result a sweep must see: the summary says "failed". */
cls_status cls__loop_probe(run *u, double *eval_flops) {
  cls_train_result *r = u->r;
  cls_status s = probe(u, &r->flops_per_step, eval_flops);
  if (s == CLS_OK) return CLS_OK;
  r->status = CLS_RUN_FAILED;
  char saved_error[sizeof r->error];
  memcpy(saved_error, r->error, sizeof saved_error);
  write_summary(u, CLS_POINT_FAILED);
  memcpy(r->error, saved_error, sizeof saved_error);
  return s;
}

/* The budget in steps, the warm-up and the evaluation steps. */
cls_status cls__loop_plan_steps(run *u) {
  const cls_train_config *c = u->c;
  cls_train_result *r = u->r;
  const int tokens = c->budget_kind == CLS_BUDGET_TOKENS;
  double steps_f = c->budget_kind == CLS_BUDGET_STEPS ? c->budget
                   : tokens                           ? floor(c->budget / u->t->tokens_per_step)
                                                      : floor(c->budget / r->flops_per_step);
  if (steps_f < 1) {
    snprintf(r->error, sizeof r->error, "a budget of %g %s is less than one step (%g %s per step): raise it",
             c->budget, tokens ? "tokens" : "FLOPs", tokens ? u->t->tokens_per_step : r->flops_per_step,
             tokens ? "tokens" : "FLOPs");
    r->bad_usage = 1;
    return CLS_ERR_INVALID_VALUE;
  }
  if (steps_f > 1e15) {
    snprintf(r->error, sizeof r->error, "a budget of %g is %g steps; at most 1e15 are supported", c->budget,
             steps_f);
    r->bad_usage = 1;
    return CLS_ERR_INVALID_VALUE;
  }
  u->total = (uint64_t)steps_f;
  u->warmup = c->warmup_fraction >= 0 ? (uint64_t)llround(c->warmup_fraction * (double)u->total) : c->warmup_steps;
  if (u->warmup > u->total) u->warmup = u->total;
  r->total_steps = u->total;
  r->warmup_steps = u->warmup;
  u->evals = cls_schedule_eval_steps(u->total, c->eval_every, c->evals, &u->n_evals);
  if (!u->evals) {
    snprintf(r->error, sizeof r->error, "out of host memory");
    return CLS_ERR_OUT_OF_MEMORY;
  }
  return CLS_OK;
}

/* Everything that shapes the trajectory and the log; a checkpoint must match. */
void cls__loop_make_key(run *u) {
  const cls_train_config *c = u->c;
  char f[6][40];
  snprintf(u->key, sizeof u->key,
           "%stotal_steps=%llu\nwarmup_steps=%llu\nlr=%s\nmin_lr_ratio=%s\nbeta1=%s\nbeta2=%s\neps=%s\nclip=%s\n"
           "evals=%zu\neval_every=%llu\neval_batches=%zu\n",
           u->t->key, (unsigned long long)u->total, (unsigned long long)u->warmup,
           cls_fmt_shortest(c->lr, 0, f[0], 40), cls_fmt_shortest(c->min_lr_ratio, 0, f[1], 40),
           cls_fmt_shortest(c->beta1, 0, f[2], 40), cls_fmt_shortest(c->beta2, 0, f[3], 40),
           cls_fmt_shortest(c->eps, 0, f[4], 40), cls_fmt_shortest(c->clip, 0, f[5], 40),
           c->eval_every ? 0 : c->evals, (unsigned long long)c->eval_every, c->eval_batches);
}

/* The checkpoint's state when resuming, else an empty log. */
cls_status cls__loop_restore(run *u) {
  cls_train_task *t = u->t;
  cls_train_result *r = u->r;
  u->st.total_steps = u->total;
  if (!u->c->resume) {
    if (append_row(u, "", 0)) return CLS_OK;
    snprintf(r->error, sizeof r->error, "out of host memory");
    return CLS_ERR_OUT_OF_MEMORY;
  }
  cls_status s = cls_checkpoint_load_at(t->ctx, r->ckpt_path, u->key, &u->st, t->params, t->slabs, u->model,
                                        r->error, sizeof r->error);
  if (s != CLS_OK) return s;
  /* The choices were pinned from the same file before the probe
   * (pin_choices); a file replaced in between is not this run's. */
  if (strcmp(u->st.choices ? u->st.choices : "", u->pinned ? u->pinned : "")) {
    snprintf(r->error, sizeof r->error,
             "checkpoint %s changed while it was read (its matmul choices differ from a moment ago): resume "
             "again",
             r->ckpt_path);
    return CLS_ERR_IO;
  }
  u->rows_cap = u->st.rows_len + 1;
  r->resumed_from = u->st.step;
  u->seconds_base = u->st.seconds;
  u->train_flops_base = u->st.train_flops;
  u->eval_flops_base = u->st.eval_flops;
  parse_last_row(u);
  return CLS_OK;
}

/* The result as it stands at the start, and the files that say so: the
 * CSV so far and a summary "running". */
cls_status cls__loop_start(run *u) {
  cls_train_result *r = u->r;
  const double N = u->t->n_params, tps = u->t->tokens_per_step;
  u->t0 = cls_now();
  while (u->next_eval < u->n_evals && u->evals[u->next_eval] <= u->st.step) u->next_eval++;
  r->steps = u->st.step;
  r->tokens = (double)u->st.step * tps;
  r->flops = u->st.train_flops;
  r->flops_6nd = 6.0 * N * r->tokens;
  r->eval_flops = u->st.eval_flops;
  r->seconds = u->seconds_base;
  if (u->have_last) {
    r->final_train_loss = u->last.train_loss;
    r->final_eval_loss = u->last.eval_loss;
  }
  r->started = 1;
  u->last_ckpt_time = u->t0;
  u->last_ckpt_step = u->st.step;
  cls_status s = cls_csv_write(r->csv_path, u->st.rows, u->st.rows_len, r->error, sizeof r->error);
  if (s == CLS_OK) s = write_summary(u, CLS_POINT_RUNNING);
  return s;
}

/* A step's loss, now known: a loss that is not finite ends the run as
 * diverged at that step (the steps queued after it are dropped: the run
 * reports and keeps nothing of them), else it joins the log's average. */
void cls__loop_account_loss(run *u, uint64_t step, double lr, float loss) {
  cls_train_result *r = u->r;
  if (u->outcome != CLS_RUN_OK) return;
  if (!isfinite(loss)) {
    u->outcome = CLS_RUN_DIVERGED;
    r->diverged_step = step + 1;
    u->st.step = step;
    snprintf(r->error, sizeof r->error,
             "the train loss became %s at step %llu (lr %.3g): lower `lr` or raise `warmup`",
             isnan(loss) ? "NaN" : "infinite", (unsigned long long)step + 1, lr);
    return;
  }
  u->st.acc_sum += loss;
  u->st.acc_count++;
  u->last_loss = loss;
  r->process_steps++;
}

/* Waits for the loss reads in flight, oldest first, leaving at most
 * `keep` of them (0 or 1), and accounts them. */
static cls_status settle_losses(run *u, int keep) {
  for (int k = 0; k < 2; k++) {
    const int i = (u->loss_next + k) & 1; /* the older slot first */
    if (!u->loss_slot[i].read) continue;
    int in_flight = !!u->loss_slot[0].read + !!u->loss_slot[1].read;
    if (in_flight <= keep) break;
    const double ts = cls_now();
    cls_status s = cls_transfer_wait(u->loss_slot[i].read);
    u->loss_slot[i].read = NULL;
    u->step_seconds += cls_now() - ts; /* the device finishing the steps */
    if (s != CLS_OK) {
      u->fail_what = "reading the training loss";
      return s;
    }
    cls__loop_account_loss(u, u->loss_slot[i].step, u->loss_slot[i].lr, u->loss_slot[i].value);
  }
  return CLS_OK;
}

/* One optimiser step at rate lr. With a task's loss_ref the step is only
 * queued (the loss read back while the next step runs, no host sync);
 * otherwise the loss is read at once and one that is not finite ends the
 * run as diverged (outcome) before AdamW. */
static cls_status train_step(run *u, double lr) {
  cls_train_task *t = u->t;
  const cls_train_config *c = u->c;
  const uint64_t step = u->st.step;
  const int async = t->loss_ref.buf != NULL;
  const double ts = cls_now();
  float loss = 0;
  t->error[0] = 0;
  cls_status s = cls_param_zero_grads(t->ctx, t->params, t->slabs);
  if (s == CLS_OK) s = t->train_step(t, step, async ? NULL : &loss);
  if (s != CLS_OK) {
    u->fail_what = "training step";
    return s;
  }
  if (!async && !isfinite(loss)) {
    cls__loop_account_loss(u, step, lr, loss);
    return CLS_OK;
  }
  if (async) {
    const int i = u->loss_next;
    u->loss_slot[i].step = step;
    u->loss_slot[i].lr = lr;
    s = cls_buffer_read_async(t->ctx, t->loss_ref.buf, t->loss_ref.offset, 1, &u->loss_slot[i].value,
                              &u->loss_slot[i].read);
    if (s != CLS_OK) {
      u->fail_what = "reading the training loss";
      return s;
    }
    u->loss_next ^= 1;
  }
  s = cls_param_adamw(t->ctx, t->params, t->slabs, (float)lr, (float)c->beta1, (float)c->beta2, (float)c->eps,
                      (unsigned long)(step + 1), (float)c->clip);
  if (s != CLS_OK) {
    u->fail_what = "AdamW step";
    return s;
  }
  u->st.step = step + 1;
  u->step_seconds += cls_now() - ts; /* queueing (async), or the forward's sync; the rest ends in a later wait */
  if (!async) cls__loop_account_loss(u, step, lr, loss);
  /* The previous step's loss: the host waits only for the device to
   * finish that step while this one is already queued. */
  return async ? settle_losses(u, 1) : CLS_OK;
}

/* At an evaluation step: the held-out loss and one CSV row, rewritten to
 * disk; an eval loss that is not finite ends the run as diverged. */
static cls_status evaluate(run *u, double lr, cls_train_progress *pg) {
  cls_train_task *t = u->t;
  if (!(u->next_eval < u->n_evals && u->evals[u->next_eval] == u->st.step)) return CLS_OK;
  /* The row averages every step's loss up to here: all of them read. */
  cls_status s0 = settle_losses(u, 0);
  if (s0 != CLS_OK || u->outcome != CLS_RUN_OK) return s0;
  double flops, all0, eval_loss = NAN;
  cls_counters cn;
  cls_status s = cls__loop_train_flops(u, &flops, &all0);
  if (s == CLS_OK) s = t->evaluate(t, u->c->eval_batches, &eval_loss);
  if (s == CLS_OK) s = cls_counters_get(t->ctx, &cn);
  if (s != CLS_OK) {
    u->fail_what = "evaluation";
    return s;
  }
  u->proc_eval_flops += cn.flops - all0;
  return cls__loop_log_row(u, lr, eval_loss, flops, pg);
}

cls_status cls__loop_log_row(run *u, double lr, double eval_loss, double flops, cls_train_progress *pg) {
  cls_train_result *r = u->r;
  const double N = u->t->n_params, tps = u->t->tokens_per_step;
  u->next_eval++;
  cls_eval_row row = {u->st.step,
                      (double)u->st.step * tps,
                      flops,
                      6.0 * N * (double)u->st.step * tps,
                      u->st.acc_sum / (double)u->st.acc_count,
                      eval_loss,
                      lr,
                      u->seconds_base + (cls_now() - u->t0)};
  char line[512];
  size_t n = cls_csv_format_row(&row, line, sizeof line);
  if (!n || !append_row(u, line, n)) {
    snprintf(r->error, sizeof r->error, "out of host memory for the CSV rows");
    return CLS_ERR_OUT_OF_MEMORY;
  }
  u->st.acc_sum = 0;
  u->st.acc_count = 0;
  u->last = row;
  u->have_last = 1;
  cls_status s = cls_csv_write(r->csv_path, u->st.rows, u->st.rows_len, r->error, sizeof r->error);
  if (s != CLS_OK) return s;
  pg->evaluated = 1;
  pg->eval_loss = eval_loss;
  if (!isfinite(eval_loss)) {
    u->outcome = CLS_RUN_DIVERGED;
    snprintf(r->error, sizeof r->error,
             "the eval loss became %s at step %llu (lr %.3g): lower `lr` or raise `warmup`",
             isnan(eval_loss) ? "NaN" : "infinite", (unsigned long long)u->st.step, lr);
    r->diverged_step = u->st.step;
  }
  return CLS_OK;
}

cls_status cls__loop_interrupt(run *u) {
  u->outcome = CLS_RUN_INTERRUPTED;
  snprintf(u->r->error, sizeof u->r->error, "interrupted at step %llu of %llu; continue with `resume`",
           (unsigned long long)u->st.step, (unsigned long long)u->total);
  return cls__loop_save(u);
}

/* A stop (the flag, or stop_after_steps) checkpoints and ends the run as
 * interrupted; otherwise a checkpoint when its step or time interval has
 * passed. */
static cls_status stop_or_checkpoint(run *u, double tnow) {
  const cls_train_config *c = u->c;
  uint64_t step = u->st.step;
  if (step >= u->total) return CLS_OK;
  int stop = (c->stop && *c->stop) || (c->stop_after_steps && step == c->stop_after_steps);
  int due = (c->checkpoint_steps && step - u->last_ckpt_step >= c->checkpoint_steps) ||
            (c->checkpoint_seconds > 0 && tnow - u->last_ckpt_time >= c->checkpoint_seconds);
  if (stop || due) { /* a checkpoint holds every step's loss: all of them read (one may diverge) */
    cls_status s = settle_losses(u, 0);
    if (s != CLS_OK || u->outcome != CLS_RUN_OK) return s;
    step = u->st.step;
  }
  if (stop) return cls__loop_interrupt(u);
  if (due) {
    cls_status s = cls__loop_save(u);
    if (s != CLS_OK) return s;
    u->last_ckpt_time = cls_now();
    u->last_ckpt_step = step;
  }
  return CLS_OK;
}

void cls__loop_progress(run *u, cls_train_progress *pg, double tnow) {
  const float loss = u->last_loss; /* the newest loss read (one step behind while one is in flight) */
  const cls_train_config *c = u->c;
  if (!c->progress) return;
  const uint64_t done = u->r->process_steps;
  pg->step = u->st.step;
  pg->total_steps = u->total;
  pg->loss = loss;
  double el = tnow - u->t0;
  pg->tokens_per_second = el > 0 ? (double)done * u->t->tokens_per_step / el : 0;
  pg->eta_seconds = done ? el / (double)done * (double)(u->total - u->st.step) : 0;
  pg->seconds = u->seconds_base + el;
  c->progress(c->progress_user, pg);
}

/* Steps to the budget, or until a stop, a divergence or an error. */
static cls_status train_loop(run *u) {
  cls_status s = CLS_OK;
  while (s == CLS_OK && u->outcome == CLS_RUN_OK && u->st.step < u->total) {
    const double lr = cls_schedule_lr(u->c->lr, u->c->min_lr_ratio, u->warmup, u->total, u->st.step);
    cls_train_progress pg = {0};
    s = train_step(u, lr);
    /* After the last step: its loss too, before the final row. */
    if (s == CLS_OK && u->outcome == CLS_RUN_OK && u->st.step >= u->total) s = settle_losses(u, 0);
    if (s == CLS_OK && u->outcome == CLS_RUN_OK) s = evaluate(u, lr, &pg);
    if (s != CLS_OK || u->outcome != CLS_RUN_OK) break;
    const double tnow = cls_now();
    s = stop_or_checkpoint(u, tnow);
    if (s != CLS_OK || u->outcome != CLS_RUN_OK) break;
    cls__loop_progress(u, &pg, tnow);
  }
  /* A loss still in flight (a failure or an outcome ended the loop): wait
   * for it, so that no read outlives the run; its value no longer counts
   * unless the run is still ok. */
  cls_status w = settle_losses(u, 0);
  if (s == CLS_OK) s = w;
  return s;
}

/* The finished run's state, for later evaluation or a longer run, unless
 * the caller wants the disk back. */
static cls_status keep_or_drop_checkpoint(run *u) {
  cls_train_result *r = u->r;
  if (!u->c->drop_checkpoint) return cls__loop_save(u);
  if (remove(r->ckpt_path) != 0 && errno != ENOENT) {
    snprintf(r->error, sizeof r->error, "cannot remove %s: %s", r->ckpt_path, strerror(errno));
    return CLS_ERR_IO;
  }
  return CLS_OK;
}

/* A run that ended ok: the task's own measurements (task.h's report),
 * their lines kept for the summary and their outcome table written. */
static cls_status task_report(run *u, cls_train_task *t) {
  cls_train_result *r = u->r;
  if (!t->report) return CLS_OK;
  cls_task_report rep;
  memset(&rep, 0, sizeof rep);
  /* Its forward passes are evaluation, not training: counted with the
   * evaluations' FLOPs (the counters wait for the queue, so the two reads
   * bracket the report's launches alone). */
  cls_counters c0, c1;
  cls_status s = cls_counters_get(t->ctx, &c0);
  if (s == CLS_OK) s = t->report(t, &rep);
  if (s == CLS_OK) s = cls_counters_get(t->ctx, &c1);
  if (s == CLS_OK) u->proc_eval_flops += c1.flops - c0.flops;
  if (s != CLS_OK) {
    u->fail_what = t->error[0] ? NULL : "the task's final report";
    if (t->error[0]) snprintf(r->error, sizeof r->error, "%s", t->error);
    return s;
  }
  snprintf(u->report, sizeof u->report, "%s", rep.lines);
  if (!rep.value_name) return CLS_OK;
  char path[4200];
  if (cls_rundir_path(path, sizeof path, u->c->out_dir, CLS_RUNDIR_OUTCOMES, u->c->id) != CLS_OK) {
    snprintf(r->error, sizeof r->error, "path too long: %s", u->c->out_dir);
    return CLS_ERR_INVALID_SIZE;
  }
  return cls_outcomes_write(path, rep.value_name, rep.rows, rep.n_rows, r->error, sizeof r->error);
}

cls_status cls__loop_end_ok_with(run *u, cls_train_task *report_task) {
  cls_status s = task_report(u, report_task);
  return s == CLS_OK ? keep_or_drop_checkpoint(u) : s;
}

cls_status cls__loop_end_ok(run *u) {
  return cls__loop_end_ok_with(u, u->t);
}

/* The result and the summary, whatever happened; returns s, or the
 * summary's failure when s was CLS_OK. */
cls_status cls__loop_finish(run *u, cls_status s) {
  cls_train_result *r = u->r;
  const double N = u->t->n_params, tps = u->t->tokens_per_step;
  if (s != CLS_OK) {
    u->outcome = CLS_RUN_FAILED;
    if (u->fail_what) device_fail(u, s, u->fail_what);
  }
  r->status = u->outcome;
  r->steps = u->st.step;
  r->tokens = (double)u->st.step * tps;
  r->flops_6nd = 6.0 * N * r->tokens;
  double flops = NAN, all = 0;
  if (cls__loop_train_flops(u, &flops, &all) == CLS_OK) {
    r->flops = flops;
    r->process_train_flops = all - u->proc_eval_flops;
  }
  cls_counters cn;
  if (cls_counters_get(u->t->ctx, &cn) == CLS_OK) {
    r->device_busy_seconds = cn.busy_seconds;
    r->device_span_seconds = cn.span_seconds;
  }
  r->eval_flops = u->eval_flops_base + u->proc_eval_flops;
  r->seconds = u->seconds_base + (cls_now() - u->t0);
  r->step_seconds = u->step_seconds;
  /* A diverged run has no final loss: its last finite row is in the CSV. */
  if (u->outcome == CLS_RUN_DIVERGED) {
    r->final_train_loss = r->final_eval_loss = NAN;
  } else if (u->have_last) {
    r->final_train_loss = u->last.train_loss;
    r->final_eval_loss = u->last.eval_loss;
  }
  char saved_error[sizeof r->error];
  memcpy(saved_error, r->error, sizeof saved_error);
  cls_status ws = write_summary(u, point_state(u->outcome));
  if (ws == CLS_OK) {
    memcpy(r->error, saved_error, sizeof saved_error);
  } else {
    /* The result is not on disk (the summary there still says "running"):
     * the run failed, with the write's message, so that a sweep reports it
     * and runs it again rather than counting it as done. */
    if (s == CLS_OK) s = ws;
    r->status = CLS_RUN_FAILED;
  }
  return s;
}

/* Starts the run's record of auto matmul choices before its first product
 * (the probe): a resumed run pins the choices its checkpoint recorded, so
 * that it computes exactly what the run would have uninterrupted, whatever
 * this process's cache folder or timings say; a new run records what it
 * uses. A checkpoint whose choices cannot be read pins nothing: loading it
 * (restore) then fails with the reason. */
cls_status cls__loop_pin_choices(run *u) {
  cls_train_result *r = u->r;
  if (u->c->resume) {
    char err[512];
    if (cls_checkpoint_choices(r->ckpt_path, &u->pinned, err, sizeof err) != CLS_OK) u->pinned = NULL;
  }
  cls_status s = cls_matmul_record_begin(u->t->ctx, u->pinned);
  if (s != CLS_OK) {
    snprintf(r->error, sizeof r->error, "%s", cls_last_error(u->t->ctx));
    return s;
  }
  /* An earlier start's choices are advice: what cannot be pinned is chosen
   * afresh, which is what a start without them would do. */
  if (!u->c->resume && u->c->matmul_choices && u->c->matmul_choices[0] &&
      cls_matmul_record_begin(u->t->ctx, u->c->matmul_choices) != CLS_OK)
    cls_matmul_record_begin(u->t->ctx, NULL);
  return CLS_OK;
}

/* A resumed run whose checkpoint is at its last step and whose summary
 * says ok has nothing left to do: its files stay as they are (rewriting the
 * summary from the checkpoint's CSV rows would cut the final losses to the
 * CSV's digits and replace the measured speed), and the result is read
 * from the summary. 1 when so; 0 when the run must be finished the usual
 * way (no summary, or one that a kill left "running"). */
int cls__loop_already_finished(run *u) {
  cls_train_result *r = u->r;
  if (!u->c->resume || u->st.step < u->total) return 0;
  cls_point_summary sum;
  char err[1024];
  if (cls_point_summary_read(r->json_path, &sum, err, sizeof err) != CLS_OK) return 0;
  int done = sum.state == CLS_POINT_OK && sum.has_run && sum.run.steps == (double)u->total;
  if (done) {
    r->status = CLS_RUN_OK;
    r->started = 1;
    r->already_finished = 1;
    r->steps = u->st.step;
    r->tokens = sum.tokens;
    r->flops = sum.flops;
    r->flops_6nd = sum.flops_6nd;
    r->eval_flops = sum.run.eval_flops;
    r->final_eval_loss = sum.final_eval_loss;
    r->final_train_loss = sum.final_train_loss;
    r->seconds = sum.seconds;
  }
  cls_point_summary_release(&sum);
  return done;
}

cls_status cls_train_run(cls_train_task *t, const cls_train_config *c, cls_train_result *r) {
  memset(r, 0, sizeof *r);
  r->final_eval_loss = r->final_train_loss = NAN;
  if (!t || !c) {
    snprintf(r->error, sizeof r->error, "cls_train_run: task or config is NULL");
    return CLS_ERR_NULL_ARGUMENT;
  }
  run u = {.t = t, .c = c, .r = r, .outcome = CLS_RUN_OK};
  cls_status s = cls__loop_check_config(c, r);
  if (s == CLS_OK) s = cls__loop_open(&u);
  if (s == CLS_OK) s = cls__loop_pin_choices(&u);
  if (s == CLS_OK) s = cls__loop_probe(&u, NULL);
  if (s == CLS_OK) s = cls__loop_plan_steps(&u);
  if (s == CLS_OK) {
    cls__loop_make_key(&u);
    s = cls__loop_restore(&u);
  }
  if (s == CLS_OK && !cls__loop_already_finished(&u)) {
    s = cls__loop_start(&u);
    if (s == CLS_OK) s = train_loop(&u);
    if (s == CLS_OK && u.outcome == CLS_RUN_OK) s = cls__loop_end_ok(&u);
    s = cls__loop_finish(&u, s);
  }
  cls_matmul_record_end(t->ctx);
  cls__loop_release(&u);
  return s;
}

void cls__loop_release(run *u) {
  free(u->pinned);
  free(u->evals);
  free(u->st.rows);
  free(u->st.choices);
  u->pinned = NULL;
  u->evals = NULL;
  u->st.rows = NULL;
  u->st.choices = NULL;
}
