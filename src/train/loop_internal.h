/*
 * src/train/loop_internal.h — the train loop's bookkeeping of one run (its
 * plan, log, checkpoints and summary), shared by the loop (loop.c), which
 * drives one task's steps, and by the group driver (group.c), which drives
 * several runs of one shape as one batched model and keeps each run's files
 * exactly as the loop would write them for that run alone.
 */
#ifndef CLSCALE_TRAIN_LOOP_INTERNAL_H
#define CLSCALE_TRAIN_LOOP_INTERNAL_H

#include "rundir/rundir.h"
#include "train/checkpoint.h"
#include "train/loop.h"
#include "train/task.h"

typedef struct cls__run {
  cls_train_task *t;
  const cls_train_config *c;
  cls_train_result *r;
  cls_ckpt_state st; /* step, accumulators, rows, flops and seconds at the last save or load */
  size_t rows_cap;
  char key[4096];
  /* the plan */
  uint64_t total, warmup;
  uint64_t *evals;
  size_t n_evals, next_eval;
  /* this process */
  double t0, seconds_base, train_flops_base, eval_flops_base, proc_eval_flops;
  double last_ckpt_time, step_seconds;
  uint64_t last_ckpt_step;
  cls_eval_row last;
  int have_last;
  /* Tasks with a loss_ref: the loss of a step is read while the next one
   * runs. Two slots (the newest step's read starts before the previous
   * one's is settled); at most one is left in flight between iterations,
   * and none at an evaluation, a checkpoint, a stop or the end. */
  struct {
    cls_transfer *read;
    float value;
    uint64_t step; /* 0-based: the step whose loss this is */
    double lr;
  } loss_slot[2];
  int loss_next;          /* the slot the next read takes */
  float last_loss;        /* the newest settled loss (progress) */
  const char *fail_what;  /* the device step that failed, for the message */
  cls_run_status outcome; /* how the loop ended */
  char report[1024];      /* the task's final measurements, "name=value" lines (cls_task_report) */
  char *pinned;           /* the checkpoint's matmul choices this run pinned (malloc'd; NULL: none) */
  /* A model trained side by side with others (group.c): the slabs hold
   * several models and this run's is model `model`; its FLOPs are its
   * steps times the probe's FLOPs per step (and its evaluations times
   * eval_flops_each) instead of the context's counters, which count the
   * whole group. */
  int member;
  size_t model;
  double eval_flops_each;
} cls__run;

/* Each returns CLS_OK or a status with u->r->error (see loop.c). */
cls_status cls__loop_check_config(const cls_train_config *c, cls_train_result *r);
/* The run directory and the paths; the checkpoint rules of resume / force. */
cls_status cls__loop_open(cls__run *u);
/* The record of auto matmul choices: pinned from the checkpoint when
 * resuming, else started (with the config's advice). */
cls_status cls__loop_pin_choices(cls__run *u);
/* One step and one evaluation of u->t, then the model as it was: the FLOPs
 * of a step (r->flops_per_step), its launches and, when eval_flops is not
 * NULL, the FLOPs of one evaluation of c->eval_batches batches. A failure
 * writes the summary "failed". */
cls_status cls__loop_probe(cls__run *u, double *eval_flops);
/* The budget in steps (from r->flops_per_step for a FLOPs budget), the
 * warm-up and the evaluation steps. */
cls_status cls__loop_plan_steps(cls__run *u);
void cls__loop_make_key(cls__run *u);
/* The checkpoint's state into the model (u->model of the slabs) when
 * resuming, else an empty log. */
cls_status cls__loop_restore(cls__run *u);
/* 1 when a resumed run had ended ok already (nothing to do, r filled). */
int cls__loop_already_finished(cls__run *u);
/* The CSV so far and a summary "running". */
cls_status cls__loop_start(cls__run *u);
/* A step's loss, read back: the log's average, or the run diverged. */
void cls__loop_account_loss(cls__run *u, uint64_t step, double lr, float loss);
/* An evaluation's row at u->st.step (every loss before it accounted):
 * appended, the CSV rewritten; an eval loss that is not finite ends the
 * run as diverged. flops: the training FLOPs so far. */
cls_status cls__loop_log_row(cls__run *u, double lr, double eval_loss, double flops, cls_train_progress *pg);
/* The training FLOPs so far (checkpointed + this process's) and all this
 * process's counted FLOPs (evaluations included). */
cls_status cls__loop_train_flops(cls__run *u, double *flops, double *all);
/* The checkpoint as the run stands. */
cls_status cls__loop_save(cls__run *u);
/* A stop: interrupted, checkpointed. */
cls_status cls__loop_interrupt(cls__run *u);
/* A run that ended ok: the task's report, the checkpoint kept or dropped
 * (cls__loop_end_ok); the report with the task report_task (the group
 * driver's one-model task holding the member's parameters) and the rest
 * with u's own (cls__loop_end_ok_with). */
cls_status cls__loop_end_ok(cls__run *u);
cls_status cls__loop_end_ok_with(cls__run *u, cls_train_task *report_task);
/* The result and the summary, whatever happened (s: the failure, if any). */
cls_status cls__loop_finish(cls__run *u, cls_status s);
/* The progress callback after a step. */
void cls__loop_progress(cls__run *u, cls_train_progress *pg, double tnow);
/* Frees what the run holds and ends the record of matmul choices. */
void cls__loop_release(cls__run *u);

#endif
