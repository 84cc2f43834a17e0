/* src/train/loop.c — see loop.h; docs/train.md has the user's view. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "train/checkpoint.h"
#include "train/log.h"
#include "train/loop.h"
#include "train/schedule.h"
#include "core/clock.h"

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

const char *cls_run_status_name(cls_run_status s) {
  switch (s) {
  case CLS_RUN_OK:
    return "ok";
  case CLS_RUN_DIVERGED:
    return "diverged";
  case CLS_RUN_FAILED:
    return "failed";
  case CLS_RUN_INTERRUPTED:
    return "interrupted";
  }
  return "failed";
}

/* ------------------------------------------------------------- checks */

static int id_ok(const char *id) {
  if (!id || !*id || !strcmp(id, ".") || !strcmp(id, "..")) return 0;
  for (const char *p = id; *p; p++)
    if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_' ||
          *p == '-' || *p == '.'))
      return 0;
  return 1;
}

#define BAD(...)                                                                                                  \
  do {                                                                                                            \
    snprintf(r->error, sizeof r->error, __VA_ARGS__);                                                             \
    r->bad_usage = 1;                                                                                             \
    return CLS_ERR_INVALID_VALUE;                                                                                 \
  } while (0)

static cls_status check_config(const cls_train_config *c, cls_train_result *r) {
  if (!c->out_dir || !*c->out_dir) BAD("no output folder: give --out DIR");
  if (!id_ok(c->id)) BAD("run id '%s': use letters, digits, '_', '-' and '.'", c->id ? c->id : "");
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
  if (c->resume && c->force) BAD("--resume and --force contradict each other: choose one");
  return CLS_OK;
}

/* -------------------------------------------------------------- state */

typedef struct {
  cls_train_task *t;
  const cls_train_config *c;
  cls_train_result *r;
  cls_ckpt_state st; /* step, accumulators, rows, flops and seconds at the last save or load */
  size_t rows_cap;
  char key[4096];
  /* this process */
  double t0, seconds_base, train_flops_base, eval_flops_base, proc_eval_flops;
  cls_eval_row last;
  int have_last;
} run;

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
static cls_status train_flops_now(run *u, double *flops, double *all) {
  cls_counters cn;
  cls_status s = cls_counters_get(u->t->ctx, &cn);
  if (s != CLS_OK) return s;
  *all = cn.flops;
  *flops = u->train_flops_base + cn.flops - u->proc_eval_flops;
  return CLS_OK;
}

static cls_status save(run *u) {
  double flops, all;
  cls_status s = train_flops_now(u, &flops, &all);
  if (s != CLS_OK) return device_fail(u, s, "counting FLOPs for the checkpoint");
  cls_ckpt_state st = u->st;
  st.train_flops = flops;
  st.eval_flops = u->eval_flops_base + u->proc_eval_flops;
  st.seconds = u->seconds_base + (cls_now() - u->t0);
  return cls_checkpoint_save(u->t->ctx, u->r->ckpt_path, u->key, &st, u->t->params, u->t->slabs, u->r->error,
                             sizeof u->r->error);
}

/* Adds every "name=value" line of the task's key to the summary: numbers
 * as numbers, the rest as strings (so width, depth, batch, seed, data ...
 * are there for every task without the loop knowing them). */
static void add_key_fields(cls_json *j, const char *key) {
  const char *p = key;
  while (*p) {
    const char *nl = strchr(p, '\n'), *end = nl ? nl : p + strlen(p), *eq = memchr(p, '=', (size_t)(end - p));
    if (eq) {
      char name[64], value[512];
      snprintf(name, sizeof name, "%.*s", (int)(eq - p), p);
      snprintf(value, sizeof value, "%.*s", (int)(end - eq - 1), eq + 1);
      char *e;
      errno = 0;
      double v = strtod(value, &e);
      if (value[0] && !*e && !errno && strncmp(value, "0x", 2) && strncmp(value, "0X", 2))
        cls_json_num(j, name, v);
      else
        cls_json_str(j, name, value);
    }
    p = nl ? nl + 1 : end;
  }
}

static cls_status write_summary(run *u, const char *status, double budget_steps_requested) {
  const cls_train_config *c = u->c;
  cls_train_result *r = u->r;
  cls_json *j = cls_json_new();
  if (!j) {
    snprintf(r->error, sizeof r->error, "out of host memory writing %s", r->json_path);
    return CLS_ERR_OUT_OF_MEMORY;
  }
  cls_json_str(j, "id", c->id);
  cls_json_str(j, "status", status);
  if (strcmp(status, "ok") && strcmp(status, "running") && r->error[0]) cls_json_str(j, "error", r->error);
  cls_json_num(j, "n_params", u->t->n_params);
  cls_json_num(j, "n_params_embed", u->t->n_params_embed);
  add_key_fields(j, u->t->key);
  if (c->summary_extra) add_key_fields(j, c->summary_extra);
  cls_json_num(j, "tokens", r->tokens);
  if (u->t->train_examples > 0) { /* D beside the data's size: how often each example was seen */
    const double seen = (double)r->steps * u->t->examples_per_step;
    cls_json_num(j, "train_examples", u->t->train_examples);
    cls_json_num(j, "train_tokens", u->t->train_tokens);
    cls_json_num(j, "examples_seen", seen);
    cls_json_num(j, "epochs", seen / u->t->train_examples);
  }
  cls_json_num(j, "flops", r->flops);
  cls_json_num(j, "flops_6nd", r->flops_6nd);
  double nominal = c->budget_flops_nominal > 0          ? c->budget_flops_nominal
                   : c->budget_kind == CLS_BUDGET_FLOPS ? c->budget
                                                        : NAN;
  if (isfinite(nominal)) cls_json_num(j, "budget_flops", nominal);
  if (c->budget_kind == CLS_BUDGET_TOKENS) cls_json_num(j, "budget_tokens", c->budget);
  if (c->budget_kind == CLS_BUDGET_STEPS) cls_json_num(j, "budget_steps", budget_steps_requested);
  cls_json_num(j, "final_eval_loss", r->final_eval_loss);
  cls_json_num(j, "final_train_loss", r->final_train_loss);
  cls_json_num(j, "seconds", r->seconds);
  cls_json_str(j, "device", c->device_name);
  cls_json_num(j, "steps", (double)r->steps);
  cls_json_num(j, "total_steps", (double)r->total_steps);
  cls_json_num(j, "warmup_steps", (double)r->warmup_steps);
  cls_json_num(j, "lr", c->lr);
  cls_json_num(j, "min_lr_ratio", c->min_lr_ratio);
  cls_json_num(j, "beta1", c->beta1);
  cls_json_num(j, "beta2", c->beta2);
  cls_json_num(j, "clip", c->clip);
  cls_json_num(j, "tokens_per_step", u->t->tokens_per_step);
  cls_json_num(j, "flops_per_step", r->flops_per_step);
  cls_json_num(j, "model_flops_per_step", u->t->model_flops_per_step);
  cls_json_num(j, "eval_flops", r->eval_flops);
  if (r->process_steps && r->step_seconds > 0) {
    cls_json_num(j, "tokens_per_second", (double)r->process_steps * u->t->tokens_per_step / r->step_seconds);
    cls_json_num(j, "gflops_per_second", r->process_train_flops / r->step_seconds * 1e-9);
  }
  if (r->resumed_from) cls_json_num(j, "resumed_from_step", (double)r->resumed_from);
  if (r->status == CLS_RUN_DIVERGED) cls_json_num(j, "diverged_at_step", (double)r->diverged_step);
  cls_json_str(j, "describe", u->t->describe);
  cls_json_str(j, "clscale_version", CLSCALE_VERSION);
  char err[1024];
  cls_status s = cls_json_write(j, r->json_path, err, sizeof err);
  cls_json_free(j);
  if (s != CLS_OK) snprintf(r->error, sizeof r->error, "%s", err);
  return s;
}

/* Parses the last CSV row of a resumed run (for its final losses). */
static void parse_last_row(run *u) {
  if (!u->st.rows_len) return;
  const char *end = u->st.rows + u->st.rows_len - 1, *p = end;
  while (p > u->st.rows && p[-1] != '\n') p--;
  unsigned long long step;
  cls_eval_row *l = &u->last;
  if (sscanf(p, "%llu,%lf,%lf,%lf,%lf,%lf,%lf,%lf", &step, &l->tokens, &l->flops, &l->flops_6nd, &l->train_loss,
             &l->eval_loss, &l->lr, &l->seconds) == 8) {
    l->step = step;
    u->have_last = 1;
  }
}

/* -------------------------------------------------------------- probe */

/* One step and one evaluation, then the model as it was: the auto backend
 * chooses (and counts its timing runs) here, and the second step measures
 * the FLOPs of a whole step. */
static cls_status probe(run *u, double *flops_per_step) {
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
  return CLS_OK;
}

/* --------------------------------------------------------------- run */

static int file_exists(const char *path) {
  struct stat sb;
  return stat(path, &sb) == 0;
}

cls_status cls_train_run(cls_train_task *t, const cls_train_config *c, cls_train_result *r) {
  memset(r, 0, sizeof *r);
  r->final_eval_loss = r->final_train_loss = NAN;
  if (!t || !c) {
    snprintf(r->error, sizeof r->error, "cls_train_run: task or config is NULL");
    return CLS_ERR_NULL_ARGUMENT;
  }
  cls_status s = check_config(c, r);
  if (s != CLS_OK) return s;
  run u = {.t = t, .c = c, .r = r};
  cls_context *ctx = t->ctx;

  char dir[4096];
  snprintf(dir, sizeof dir, "%s/points", c->out_dir);
  if ((s = cls_mkdirs(dir, r->error, sizeof r->error)) != CLS_OK) return s;
  snprintf(dir, sizeof dir, "%s/checkpoints", c->out_dir);
  if ((s = cls_mkdirs(dir, r->error, sizeof r->error)) != CLS_OK) return s;
  snprintf(r->csv_path, sizeof r->csv_path, "%s/points/%s.csv", c->out_dir, c->id);
  snprintf(r->json_path, sizeof r->json_path, "%s/points/%s.json", c->out_dir, c->id);
  snprintf(r->ckpt_path, sizeof r->ckpt_path, "%s/checkpoints/%s.ckpt", c->out_dir, c->id);
  if (c->resume && !file_exists(r->ckpt_path)) {
    snprintf(r->error, sizeof r->error, "--resume: no checkpoint %s to continue (run without --resume to start)",
             r->ckpt_path);
    return CLS_ERR_IO;
  }
  if (!c->resume && !c->force && file_exists(r->ckpt_path)) {
    snprintf(r->error, sizeof r->error,
             "a checkpoint of run '%s' exists (%s): add --resume to continue it or "
             "--force to start over",
             c->id, r->ckpt_path);
    r->bad_usage = 1;
    return CLS_ERR_INVALID_VALUE;
  }

  /* The probe, then the budget in steps. */
  if ((s = probe(&u, &r->flops_per_step)) != CLS_OK) {
    /* A model that cannot run here (out of device memory, a kernel that
     * fails) is a result a sweep must see: the summary says "failed". */
    r->status = CLS_RUN_FAILED;
    char saved_error[sizeof r->error];
    memcpy(saved_error, r->error, sizeof saved_error);
    write_summary(&u, "failed", c->budget);
    memcpy(r->error, saved_error, sizeof saved_error);
    return s;
  }
  double steps_f = c->budget_kind == CLS_BUDGET_STEPS    ? c->budget
                   : c->budget_kind == CLS_BUDGET_TOKENS ? floor(c->budget / t->tokens_per_step)
                                                         : floor(c->budget / r->flops_per_step);
  if (steps_f < 1) {
    snprintf(r->error, sizeof r->error, "a budget of %g %s is less than one step (%g %s per step): raise it",
             c->budget, c->budget_kind == CLS_BUDGET_TOKENS ? "tokens" : "FLOPs",
             c->budget_kind == CLS_BUDGET_TOKENS ? t->tokens_per_step : r->flops_per_step,
             c->budget_kind == CLS_BUDGET_TOKENS ? "tokens" : "FLOPs");
    r->bad_usage = 1;
    return CLS_ERR_INVALID_VALUE;
  }
  if (steps_f > 1e15) {
    snprintf(r->error, sizeof r->error, "a budget of %g is %g steps; at most 1e15 are supported", c->budget,
             steps_f);
    r->bad_usage = 1;
    return CLS_ERR_INVALID_VALUE;
  }
  const uint64_t total = (uint64_t)steps_f;
  uint64_t warmup =
      c->warmup_fraction >= 0 ? (uint64_t)llround(c->warmup_fraction * (double)total) : c->warmup_steps;
  if (warmup > total) warmup = total;
  r->total_steps = total;
  r->warmup_steps = warmup;
  size_t n_evals;
  uint64_t *evals = cls_schedule_eval_steps(total, c->eval_every, c->evals, &n_evals);
  if (!evals) {
    snprintf(r->error, sizeof r->error, "out of host memory");
    return CLS_ERR_OUT_OF_MEMORY;
  }

  /* Everything that shapes the trajectory and the log; a checkpoint must match. */
  char f[6][40];
  snprintf(u.key, sizeof u.key,
           "%stotal_steps=%llu\nwarmup_steps=%llu\nlr=%s\nmin_lr_ratio=%s\nbeta1=%s\nbeta2=%s\neps=%s\nclip=%s\n"
           "evals=%zu\neval_every=%llu\neval_batches=%zu\n",
           t->key, (unsigned long long)total, (unsigned long long)warmup, cls_fmt_shortest(c->lr, 0, f[0], 40),
           cls_fmt_shortest(c->min_lr_ratio, 0, f[1], 40), cls_fmt_shortest(c->beta1, 0, f[2], 40),
           cls_fmt_shortest(c->beta2, 0, f[3], 40), cls_fmt_shortest(c->eps, 0, f[4], 40),
           cls_fmt_shortest(c->clip, 0, f[5], 40), c->eval_every ? 0 : c->evals, (unsigned long long)c->eval_every,
           c->eval_batches);

  u.st.total_steps = total;
  if (c->resume) {
    s = cls_checkpoint_load(ctx, r->ckpt_path, u.key, &u.st, t->params, t->slabs, r->error, sizeof r->error);
    if (s != CLS_OK) {
      free(evals);
      return s;
    }
    u.rows_cap = u.st.rows_len + 1;
    r->resumed_from = u.st.step;
    u.seconds_base = u.st.seconds;
    u.train_flops_base = u.st.train_flops;
    u.eval_flops_base = u.st.eval_flops;
    parse_last_row(&u);
  } else if (!append_row(&u, "", 0)) {
    free(evals);
    snprintf(r->error, sizeof r->error, "out of host memory");
    return CLS_ERR_OUT_OF_MEMORY;
  }
  u.t0 = cls_now();
  size_t next_eval = 0;
  while (next_eval < n_evals && evals[next_eval] <= u.st.step) next_eval++;

  const double N = t->n_params, tps = t->tokens_per_step;
  r->steps = u.st.step;
  r->tokens = (double)u.st.step * tps;
  r->flops = u.st.train_flops;
  r->flops_6nd = 6.0 * N * r->tokens;
  r->eval_flops = u.st.eval_flops;
  r->seconds = u.seconds_base;
  if (u.have_last) {
    r->final_train_loss = u.last.train_loss;
    r->final_eval_loss = u.last.eval_loss;
  }
  r->started = 1;
  s = cls_csv_write(r->csv_path, u.st.rows, u.st.rows_len, r->error, sizeof r->error);
  if (s == CLS_OK) s = write_summary(&u, "running", c->budget);

  double last_ckpt_time = u.t0;
  uint64_t last_ckpt_step = u.st.step;
  double step_seconds = 0;
  const char *fail_what = NULL;
  cls_run_status status = CLS_RUN_OK;
  while (s == CLS_OK && u.st.step < total) {
    const uint64_t step = u.st.step;
    const double lr = cls_schedule_lr(c->lr, c->min_lr_ratio, warmup, total, step);
    const double ts = cls_now();
    float loss = 0;
    t->error[0] = 0;
    s = cls_param_zero_grads(ctx, t->params, t->slabs);
    if (s == CLS_OK) s = t->train_step(t, step, &loss);
    if (s != CLS_OK) {
      fail_what = "training step";
      break;
    }
    if (!isfinite(loss)) {
      status = CLS_RUN_DIVERGED;
      r->diverged_step = step + 1;
      snprintf(r->error, sizeof r->error,
               "the train loss became %s at step %llu (lr %.3g): lower --lr or raise "
               "--warmup",
               isnan(loss) ? "NaN" : "infinite", (unsigned long long)step + 1, lr);
      break;
    }
    s = cls_param_adamw(ctx, t->params, t->slabs, (float)lr, (float)c->beta1, (float)c->beta2, (float)c->eps,
                        (unsigned long)(step + 1), (float)c->clip);
    if (s != CLS_OK) {
      fail_what = "AdamW step";
      break;
    }
    step_seconds += cls_now() - ts; /* the loss read-back synchronised the forward; AdamW ends in the next one */
    u.st.step = step + 1;
    u.st.acc_sum += loss;
    u.st.acc_count++;
    r->process_steps++;

    cls_train_progress pg = {0};
    if (next_eval < n_evals && evals[next_eval] == u.st.step) {
      next_eval++;
      double flops, all0, all1;
      cls_counters cn;
      s = train_flops_now(&u, &flops, &all0);
      double eval_loss = NAN;
      if (s == CLS_OK) s = t->evaluate(t, c->eval_batches, &eval_loss);
      if (s == CLS_OK) s = cls_counters_get(ctx, &cn);
      if (s != CLS_OK) {
        fail_what = "evaluation";
        break;
      }
      all1 = cn.flops;
      u.proc_eval_flops += all1 - all0;
      cls_eval_row row = {u.st.step,
                          (double)u.st.step * tps,
                          flops,
                          6.0 * N * (double)u.st.step * tps,
                          u.st.acc_sum / (double)u.st.acc_count,
                          eval_loss,
                          lr,
                          u.seconds_base + (cls_now() - u.t0)};
      char line[512];
      size_t n = cls_csv_format_row(&row, line, sizeof line);
      if (!n || !append_row(&u, line, n)) {
        s = CLS_ERR_OUT_OF_MEMORY;
        snprintf(r->error, sizeof r->error, "out of host memory for the CSV rows");
        break;
      }
      u.st.acc_sum = 0;
      u.st.acc_count = 0;
      u.last = row;
      u.have_last = 1;
      s = cls_csv_write(r->csv_path, u.st.rows, u.st.rows_len, r->error, sizeof r->error);
      if (s != CLS_OK) break;
      pg.evaluated = 1;
      pg.eval_loss = eval_loss;
      if (!isfinite(eval_loss)) {
        status = CLS_RUN_DIVERGED;
        snprintf(r->error, sizeof r->error,
                 "the eval loss became %s at step %llu (lr %.3g): lower --lr or raise "
                 "--warmup",
                 isnan(eval_loss) ? "NaN" : "infinite", (unsigned long long)u.st.step, lr);
        r->diverged_step = u.st.step;
        break;
      }
    }

    const double tnow = cls_now();
    int stop = (c->stop && *c->stop) || (c->stop_after_steps && u.st.step == c->stop_after_steps);
    if (stop && u.st.step < total) {
      status = CLS_RUN_INTERRUPTED;
      snprintf(r->error, sizeof r->error, "interrupted at step %llu of %llu; continue with --resume",
               (unsigned long long)u.st.step, (unsigned long long)total);
      s = save(&u);
      break;
    }
    if (u.st.step < total && ((c->checkpoint_steps && u.st.step - last_ckpt_step >= c->checkpoint_steps) ||
                              (c->checkpoint_seconds > 0 && tnow - last_ckpt_time >= c->checkpoint_seconds))) {
      if ((s = save(&u)) != CLS_OK) break;
      last_ckpt_time = cls_now();
      last_ckpt_step = u.st.step;
    }
    if (c->progress) {
      pg.step = u.st.step;
      pg.total_steps = total;
      pg.loss = loss;
      double el = tnow - u.t0;
      pg.tokens_per_second = el > 0 ? (double)r->process_steps * tps / el : 0;
      pg.eta_seconds = r->process_steps ? el / (double)r->process_steps * (double)(total - u.st.step) : 0;
      pg.seconds = u.seconds_base + el;
      c->progress(c->progress_user, &pg);
    }
  }
  free(evals);
  /* The finished run's state, for later evaluation or a longer run, unless
   * the caller wants the disk back. */
  if (s == CLS_OK && status == CLS_RUN_OK) {
    if (!c->drop_checkpoint) {
      s = save(&u);
    } else if (remove(r->ckpt_path) != 0 && errno != ENOENT) {
      snprintf(r->error, sizeof r->error, "cannot remove %s: %s", r->ckpt_path, strerror(errno));
      s = CLS_ERR_IO;
    }
  }

  /* The summary, whatever happened. */
  if (s != CLS_OK) {
    status = CLS_RUN_FAILED;
    if (fail_what) device_fail(&u, s, fail_what);
  }
  r->status = status;
  r->steps = u.st.step;
  r->tokens = (double)u.st.step * tps;
  r->flops_6nd = 6.0 * N * r->tokens;
  double flops = NAN, all = 0;
  if (train_flops_now(&u, &flops, &all) == CLS_OK) {
    r->flops = flops;
    r->process_train_flops = all - u.proc_eval_flops;
  }
  r->eval_flops = u.eval_flops_base + u.proc_eval_flops;
  r->seconds = u.seconds_base + (cls_now() - u.t0);
  r->step_seconds = step_seconds;
  /* A diverged run has no final loss: its last finite row is in the CSV. */
  if (status == CLS_RUN_DIVERGED) {
    r->final_train_loss = r->final_eval_loss = NAN;
  } else if (u.have_last) {
    r->final_train_loss = u.last.train_loss;
    r->final_eval_loss = u.last.eval_loss;
  }
  char saved_error[sizeof r->error];
  memcpy(saved_error, r->error, sizeof saved_error);
  cls_status ws = write_summary(&u, cls_run_status_name(status), c->budget);
  if (ws != CLS_OK && s == CLS_OK) s = ws;
  if (ws == CLS_OK) memcpy(r->error, saved_error, sizeof saved_error);
  free(u.st.rows);
  return s;
}
