/*
 * src/train/models.h — several sweep points of one shape trained side by
 * side as one batched model (issue 13, "many small models at once").
 *
 * K models of one task spec that differ only in their seed (initial
 * weights and training batches), peak learning rate and number of steps
 * share every launch of a step: one batched product per layer, and one
 * launch per model only of the ops that read a model's own parameters or
 * sum over its rows (src/nn/emulator.c). Each model keeps its own
 * parameters, AdamW moments, data stream, schedule and loss, and computes
 * bitwise what it computes trained alone (tests/test_group.c compares
 * every loss). The models are ordered by steps, longest first, so that the
 * models still training at any step are the first ones: a model whose
 * budget is spent drops out of the batch.
 *
 * Two forms: cls_models_train keeps the losses and evaluations in memory
 * (tests, `clscale bench --only models`); cls_train_run_models writes each
 * model's run directory, checkpoints and summary as cls_train_run would for
 * that run alone, and resumes them (docs/performance.md, "Many small models
 * at once"). The emulator only, so far.
 */
#ifndef CLSCALE_TRAIN_MODELS_H
#define CLSCALE_TRAIN_MODELS_H

#include <stddef.h>
#include <stdint.h>

#include "rundir/rundir.h"
#include "train/loop.h"
#include "train/task.h"

/* One of the models: what differs from the others. */
typedef struct cls_model_member {
  uint64_t seed;  /* its initial weights and training batches (spec->seed of a run alone) */
  double lr;      /* peak learning rate */
  uint64_t steps; /* its budget in steps, >= 1; the members in non-increasing order */
} cls_model_member;

/* What one model's training gave. */
typedef struct cls_model_outcome {
  float *losses;      /* steps floats: the train loss of every step (malloc'd; free with cls_models_free) */
  cls_eval_row *rows; /* the evaluation rows a run alone would log (tokens, step, train_loss, eval_loss, lr;
                         flops and seconds 0) */
  size_t n_rows;
  uint64_t steps_done; /* its steps, or the step whose loss was not finite (diverged) */
  int diverged;
} cls_model_outcome;

typedef struct cls_models_result {
  size_t models;
  cls_model_outcome *out; /* models entries */
  double seconds;         /* wall time of the training steps and evaluations */
  double cpu_seconds;     /* the process's CPU time over them (all threads: a CPU device's too) */
  double samples;         /* tokens (spectra x pixels) trained on, all models */
  uint64_t steps;         /* group steps (the longest member's) */
  char error[1024];
} cls_models_result;

/* Trains members[0..K) of spec (spec->seed is ignored: each member's) with
 * cfg's schedule shape (warm-up, min_lr_ratio, betas, eps, clip,
 * evaluations; its budget, lr and run-directory fields are not used) on
 * ctx. Only the spectra task so far (CLS_ERR_INVALID_VALUE for others).
 * CLS_OK when every model ran (a model that diverged is a result, as in a
 * sweep); the device's or the data's status otherwise, with result->error. */
cls_status cls_models_train(cls_context *ctx, const cls_task_spec *spec, const cls_train_config *cfg, size_t K,
                            const cls_model_member *members, cls_models_result *result);
void cls_models_free(cls_models_result *r);

/* What a step of K models side by side costs on the device. */
typedef struct cls_models_timing {
  size_t steps;                 /* timed */
  double seconds_per_step;      /* wall clock of a step of all K models, waited for */
  double flops_per_model_step;  /* counted by the dispatch layer, per model */
  double tokens_per_model_step; /* spectra x pixels */
} cls_models_timing;

/* Times K models of spec (seeds spec->seed + k) side by side with cfg's
 * AdamW settings: the group built once, two untimed steps, then at least
 * min_steps steps lasting at least min_seconds (at most 500 steps; no
 * evaluation). For a sweep's decision whether a group pays
 * (sweep/calibrate.h). */
cls_status cls_models_time(cls_context *ctx, const cls_task_spec *spec, const cls_train_config *cfg, size_t K,
                           size_t min_steps, double min_seconds, cls_models_timing *out, char *err,
                           size_t err_len);

/* Runs cfgs[0..K) of spec, run k with seed seeds[k] (spec->seed ignored),
 * as one batched model on ctx: each run's files (points/<id>.csv,
 * points/<id>.json, checkpoints/<id>.ckpt) and results[k] are those of
 * cls_train_run on that run alone, but for the wall-clock seconds and
 * speeds; a run killed in a group resumes alone or in a group. The runs may
 * differ in id, budget and peak lr; everything else of the schedule, the
 * checkpoint settings, the stop flag and the progress callback (called for
 * the longest run still training) must be the same.
 *
 * Returns CLS_OK when every run ended (ok, diverged or interrupted: each
 * results[k].status says). Refusals before any file is written, with err
 * and every results[k].started 0 (the caller trains them alone):
 * CLS_ERR_INVALID_VALUE for runs that cannot share a group (another task
 * than spectra, settings that differ, checkpoints at different steps, a
 * run with nothing left to do) or a bad config; the status of a model
 * that cannot be built or of a probe that fails. A failure while training
 * marks every unfinished run failed (summary written) and returns it. */
cls_status cls_train_run_models(cls_context *ctx, const cls_task_spec *spec, size_t K, const uint64_t *seeds,
                                const cls_train_config *cfgs, cls_train_result *results, char *err,
                                size_t err_len);

#endif
