/*
 * src/train/loop.h — the train loop: one task (task.h), one budget.
 *
 * For each step: zero the gradients, the task's forward and backward on
 * the batch of that step, AdamW at the schedule's learning rate
 * (schedule.h). At the evaluation steps, the held-out loss and one row of
 * points/<id>.csv; at the end (or when stopped, or when the loss is not
 * finite) points/<id>.json, the summary (docs/formats.md, docs/train.md).
 * Checkpoints (checkpoint.h) go to checkpoints/<id>.ckpt every so many
 * steps or seconds, when stopped, and at the end.
 *
 * FLOPs: the `flops` column is what the dispatch layer counted for the
 * training steps (cls_counters_get), evaluation passes excluded. Before
 * step 0 the loop runs one probe step and one probe evaluation and then
 * puts the model back as it was: the probe lets the matmul `auto` backend
 * make its (timed, counted) choices outside the log, and measures the
 * FLOPs of one whole step (forward, backward, AdamW), which is what a
 * FLOPs budget is divided by.
 *
 * The library does not print and does not install signal handlers: the
 * caller passes a flag its handler sets (stop), and a callback for
 * progress lines.
 */
#ifndef CLSCALE_TRAIN_LOOP_H
#define CLSCALE_TRAIN_LOOP_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "train/task.h"

typedef enum { CLS_BUDGET_STEPS = 0, CLS_BUDGET_TOKENS = 1, CLS_BUDGET_FLOPS = 2 } cls_budget_kind;

typedef struct cls_train_progress {
  uint64_t step, total_steps; /* updates done, planned */
  float loss;                 /* the last step's train loss */
  double tokens_per_second;   /* over this process's steps */
  double eta_seconds;         /* at that speed */
  double seconds;             /* since the run started (checkpointed time included) */
  int evaluated;              /* this step wrote a CSV row */
  double eval_loss;           /* its eval loss */
} cls_train_progress;

typedef struct cls_train_config {
  const char *out_dir; /* run directory: points/<id>.csv, points/<id>.json, checkpoints/<id>.ckpt */
  const char *id;      /* cls_rundir_id_ok: letters, digits, '_', '-', '+', '.' */
  cls_budget_kind budget_kind;
  double budget;               /* steps, tokens or FLOPs: > 0 */
  double budget_flops_nominal; /* reported as budget_flops in the summary (sweep groups); 0 = the budget when
                                  it is in FLOPs */
  double lr, min_lr_ratio;     /* peak rate; the floor of the cosine, as a fraction of lr */
  uint64_t warmup_steps;       /* used when warmup_fraction < 0 */
  double warmup_fraction;      /* >= 0: warm-up is this fraction of the run's steps */
  double beta1, beta2, eps, clip;
  size_t evals;              /* log-spaced evaluation points (when eval_every is 0) */
  uint64_t eval_every;       /* > 0: evaluate every so many steps instead */
  size_t eval_batches;       /* batches of the held-out set per evaluation */
  uint64_t checkpoint_steps; /* > 0: checkpoint every so many steps */
  double checkpoint_seconds; /* > 0: checkpoint when this long has passed since the last one */
  int resume;                /* continue from checkpoints/<id>.ckpt (it must exist) */
  int force;                 /* start over even when a checkpoint of this id exists */
  /* A run that starts from step 0: the auto matmul choices to pin (a record,
   * clscale/ops.h), e.g. those an earlier start of the same run recorded in
   * its summary before it was killed without a checkpoint; NULL or "": the
   * context's. Ignored (with the context's choices instead) when it is not
   * a record or cannot run here, and when resuming (the checkpoint's
   * choices are pinned). */
  const char *matmul_choices;
  int drop_checkpoint;               /* remove the checkpoint once the run ends ok (saves disk in sweeps) */
  uint64_t stop_after_steps;         /* > 0: behave as if stopped after this step (for tests) */
  const volatile sig_atomic_t *stop; /* set by the caller's signal handler: checkpoint and stop */
  void (*progress)(void *user, const cls_train_progress *p); /* after every step; may be NULL */
  void *progress_user;
  /* For the summary only. */
  const char *summary_extra; /* "name=value" lines added to the summary as the task key is (a sweep's fields) */
  const char *device_name;
  const char *task_name, *model_name;
} cls_train_config;

/* lr 1e-3, min ratio 0.1, warm-up 5 % of the steps, betas 0.9/0.95, eps
 * 1e-8, clip 1, 20 log-spaced evaluations of 8 batches, checkpoint every
 * 600 s; budget, out_dir and id unset. */
void cls_train_config_default(cls_train_config *c);

typedef enum {
  CLS_RUN_OK = 0,
  CLS_RUN_DIVERGED = 1,    /* a train or eval loss was NaN or infinite */
  CLS_RUN_FAILED = 2,      /* an error stopped it (message in error) */
  CLS_RUN_INTERRUPTED = 3, /* stopped by the flag or stop_after_steps; checkpointed, resumable */
} cls_run_status;

/* "ok", "diverged", "failed", "interrupted". */
const char *cls_run_status_name(cls_run_status s);

typedef struct cls_train_result {
  cls_run_status status;
  int started;   /* training began: the CSV and the summary exist */
  int bad_usage; /* refused for a bad config or budget, or an existing checkpoint without --resume / --force */
  uint64_t steps, total_steps, resumed_from, warmup_steps;
  uint64_t diverged_step; /* the step whose loss was not finite */
  int already_finished;   /* `resume` of a run that had ended ok: nothing was run or written */
  double tokens, flops, flops_6nd, eval_flops;
  double flops_per_step;      /* measured by the probe */
  uint64_t launches_per_step; /* device commands of one training step, optimiser included (the probe's) */
  /* This process's device time after the probe (steps, evaluations):
   * the union of its commands' intervals and the stretch from the first
   * command to the last (cls_counters' busy_seconds and span_seconds);
   * 1 - busy / span is the share of time no kernel ran. */
  double device_busy_seconds, device_span_seconds;
  double final_train_loss, final_eval_loss;
  double seconds;             /* of the whole run, checkpointed time included */
  double step_seconds;        /* spent in training steps by this process */
  uint64_t process_steps;     /* steps this process ran */
  double process_train_flops; /* their measured FLOPs */
  char csv_path[4096], json_path[4096], ckpt_path[4096];
  char error[8192];
} cls_train_result;

/* Runs the task to its budget (or to a stop) and writes the run directory.
 * Returns CLS_OK when the run ended as ok, diverged or interrupted (see
 * result->status; the summary is written in each case). A bad config
 * returns CLS_ERR_INVALID_VALUE / _SIZE before anything is written; a
 * refused or broken checkpoint CLS_ERR_FORMAT / _INVALID_VALUE / _IO; a
 * failure during the run its status, with result->status CLS_RUN_FAILED
 * and the summary written when possible. result->error says why. */
cls_status cls_train_run(cls_train_task *task, const cls_train_config *cfg, cls_train_result *result);

#endif
