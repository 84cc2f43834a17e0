/*
 * src/sweep/calibrate.h — what a point will cost, measured: a few training
 * steps of its model on the device (the train loop's probe measures the
 * FLOPs of one step exactly; the steps give the seconds per step), for
 * `clscale sweep --dry-run`'s plan and the ETA of a real run.
 */
#ifndef CLSCALE_SWEEP_CALIBRATE_H
#define CLSCALE_SWEEP_CALIBRATE_H

#include <stddef.h>
#include <stdint.h>

#include "clscale/device.h"
#include "sweep/plan.h"
#include "sweep/spec.h"
#include "train/models.h"

typedef struct cls_sweep_calibration {
  double flops_per_step;       /* measured by the dispatch layer's counters */
  double model_flops_per_step; /* the model's own count from its shapes */
  double seconds_per_step;     /* wall clock of a training step */
  double overhead_seconds;     /* building the task and data, the probe, file writes */
  double tokens_per_step, examples_per_step, train_examples;
  double n_params, n_params_embed;
} cls_sweep_calibration;

/* Builds p's task on ctx and trains it `steps` steps into a temporary
 * folder (removed). CLS_OK or the failure with err. */
cls_status cls_sweep_calibrate(cls_context *ctx, const cls_sweep_spec *s, const cls_sweep_point *p, size_t steps,
                               cls_sweep_calibration *out, char *err, size_t err_len);

/* A step of `models` models of p's shape side by side (train/models.h's
 * cls_models_time: at least 5 steps and 0.15 s). What the
 * runner compares to decide whether a group of points pays
 * (cls_sweep_group_pays). */
cls_status cls_sweep_calibrate_models(cls_context *ctx, const cls_sweep_spec *s, const cls_sweep_point *p,
                                      size_t models, cls_models_timing *out, char *err, size_t err_len);

/* Whether two points at once on one device finish sooner than one after
 * the other: a step of `models` models of p's shape timed on ctx alone
 * (*alone, seconds a step), then on ctx and ctx2 at once, two contexts on
 * the same device each training its own copy from its own thread (*pair:
 * the two contexts' seconds a step, averaged). ctx2 runs a few untimed
 * steps first, so that its kernel builds fall outside the timed steps.
 * Two at once pay when *pair < 1.8 * *alone (cls_sweep_pair_pays). */
cls_status cls_sweep_calibrate_pair(cls_context *ctx, cls_context *ctx2, const cls_sweep_spec *s,
                                    const cls_sweep_point *p, size_t models, double *alone, double *pair,
                                    char *err, size_t err_len);

/* Two at once save at least a tenth of the time one after the other
 * takes: pair < 0.9 * 2 * alone. */
int cls_sweep_pair_pays(double alone, double pair);

/* The estimated seconds of training points of `steps[0..n)` steps one
 * after another (alone: t1 seconds a step) and side by side (group: the
 * longest first, a step of a models costing t1 + (tn - t1)(a - 1)/(n - 1),
 * tn measured with n models). The group pays when it saves at least a
 * tenth. */
int cls_sweep_group_pays(const uint64_t *steps, size_t n, double t1, double tn, double *alone, double *group);

/* What the point will do, from a calibration of its shape: steps, D
 * (tokens), C (FLOPs) and the estimated wall-clock seconds. steps is 0 when
 * the budget is less than one step. */
typedef struct cls_sweep_estimate {
  uint64_t steps;
  double tokens, flops, flops_6nd, epochs, seconds;
} cls_sweep_estimate;
void cls_sweep_estimate_point(const cls_sweep_spec *s, const cls_sweep_point *p, const cls_sweep_calibration *c,
                              cls_sweep_estimate *out);

#endif
