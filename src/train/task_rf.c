/*
 * src/train/task_rf.c — the task `rf`: linear random-feature ridge
 * regression (nn/rf.h), the solvable model of Maloney, Roberts and Sully
 * whose large-N theory is fit/theory_rf.h. A solved task: a point is one
 * exact solve on the device at N = `width` features and T = the point's
 * token budget (training samples), and its loss is the exact population
 * test loss (docs/theory.md).
 *
 * Spec fields: `latent` M, `alpha`, `ridge` gamma, `noise` sigma^2,
 * `test_samples` S (a fresh-sample Monte Carlo estimate written beside the
 * exact loss); the seed draws everything (the features, the teacher and the
 * samples), so the seeds of a sweep average over all of them as the theory
 * does.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/clock.h"
#include "core/err.h"
#include "core/fmt.h"
#include "nn/rf.h"
#include "task_internal.h"

/* ------------------------------------------------------------ the model */

/* The "features" model: a readout of `width` random features; one layer. */
static cls_status features_check(const cls_task_spec *spec, char *err, size_t err_len) {
  if (!spec->width || spec->depth != 1) {
    snprintf(err, err_len,
             "the random-feature model has `width` N >= 1 features and one layer: `depth` must be 1 (got width "
             "%zu, depth %zu)",
             spec->width, spec->depth);
    return CLS_ERR_INVALID_SIZE;
  }
  return CLS_OK;
}

static void features_count(const cls_task_spec *spec, size_t width, size_t depth, double *n, double *n_embed) {
  (void)spec;
  (void)depth;
  *n = (double)width; /* the readout v */
  *n_embed = 0;
}

static const cls_model_info features_model = {
    .name = "features", .count_params = features_count, .check = features_check, .fixed_depth = 1};

/* -------------------------------------------------------------- the task */

/* The problem of spec at T samples (nn/rf.h's names for the spec's). */
static void problem_of(const cls_task_spec *spec, uint64_t samples, cls_rf_problem *p) {
  cls_rf_problem_init(p);
  p->m = spec->latent;
  p->alpha = spec->alpha;
  p->n = spec->width;
  p->t = (size_t)samples;
  p->gamma = spec->ridge;
  p->sigma2 = spec->noise;
  p->seed = spec->seed;
  p->test_samples = spec->test_samples;
}

/* The spec's own fields, named as the spec names them (the nn layer's
 * check, which names its own, stays the backstop). */
static cls_status rf_check(const cls_task_spec *spec, char *err, size_t err_len) {
  if (!spec->latent) {
    snprintf(err, err_len, "`latent` (M, the latent dimension) must be at least 1");
    return CLS_ERR_INVALID_SIZE;
  }
  if (!(spec->alpha > 0) || !isfinite(spec->alpha)) {
    snprintf(err, err_len, "`alpha` = %g: the spectrum exponent must be finite and > 0", spec->alpha);
    return CLS_ERR_INVALID_VALUE;
  }
  if (!(spec->ridge >= 0) || !isfinite(spec->ridge)) {
    snprintf(err, err_len, "`ridge` = %g: must be finite and >= 0", spec->ridge);
    return CLS_ERR_INVALID_VALUE;
  }
  if (!(spec->noise >= 0) || !isfinite(spec->noise)) {
    snprintf(err, err_len, "`noise` = %g: the label-noise variance must be finite and >= 0", spec->noise);
    return CLS_ERR_INVALID_VALUE;
  }
  if (spec->test_samples == 1) {
    snprintf(err, err_len, "`test_samples` = 1: a standard error needs 0 (no estimate) or at least 2");
    return CLS_ERR_INVALID_SIZE;
  }
  return CLS_OK;
}

/* The device memory first, so that a point too large for any device says
 * how large it is; then whether the solver can index it at all. */
static cls_status rf_bytes(const cls_task_spec *spec, uint64_t samples, uint64_t *bytes, char *err,
                           size_t err_len) {
  cls_rf_problem p;
  problem_of(spec, samples, &p);
  *bytes = cls_rf_device_bytes(&p);
  if (!*bytes) return cls_errf(err, err_len, CLS_ERR_INVALID_SIZE, "rf: its memory overflows a 64-bit count");
  return cls_rf_problem_check(&p, err, err_len);
}

/* The configuration lines of the point (docs/theory.md names them). */
static void rf_key(const cls_task_spec *spec, uint64_t samples, char *out, size_t len) {
  char f[3][40];
  snprintf(out, len,
           "task=rf\nmodel=features\nfeatures=%zu\nsamples=%llu\nlatent=%zu\nalpha=%s\nridge=%s\nnoise=%s\n"
           "test_samples=%zu\nseed=%llu\n",
           spec->width, (unsigned long long)samples, spec->latent, cls_fmt_shortest(spec->alpha, 0, f[0], 40),
           cls_fmt_shortest(spec->ridge, 0, f[1], 40), cls_fmt_shortest(spec->noise, 0, f[2], 40),
           spec->test_samples, (unsigned long long)spec->seed);
}

static cls_status rf_solve(cls_context *ctx, const cls_task_spec *spec, uint64_t samples,
                           const volatile sig_atomic_t *stop, cls_solve_output *out, char *err, size_t err_len) {
  (void)stop; /* one solve: nothing to stop between */
  cls_status s = cls__task_check_spec(&cls__task_rf, spec, err, err_len);
  if (s != CLS_OK) return s;
  cls_rf_problem p;
  problem_of(spec, samples, &p);
  out->n_rows = 0;
  out->stopped = 0;
  out->n_params = (double)spec->width;
  rf_key(spec, samples, out->key, sizeof out->key);
  snprintf(out->describe, sizeof out->describe,
           "random features N %zu, T %llu, M %zu, alpha %g, ridge %g, noise %g (%s form)", spec->width,
           (unsigned long long)samples, spec->latent, spec->alpha, spec->ridge, spec->noise,
           cls_rf_kernel_form(&p) ? "kernel" : "primal");
  if (!out->cap) {
    snprintf(err, err_len, "rf: no room for the result row");
    return CLS_ERR_INVALID_SIZE;
  }
  cls_rf_result r;
  const double t0 = cls_now();
  /* The solve's FLOPs are a difference of the context's running sums: from
   * zero they are exact, whereas after earlier points of the same process
   * they would round differently, and a resumed or sharded sweep would
   * record other FLOPs than an uninterrupted one (as the training loop
   * does, src/train/loop.c). */
  cls_counters_reset(ctx);
  s = cls_rf_solve(ctx, &p, &r, err, err_len);
  if (s != CLS_OK) return s;
  out->rows[0] = (cls_solve_row){samples, r.loss, r.flops, cls_now() - t0};
  out->n_rows = 1;
  char f[5][40];
  snprintf(out->trailer, sizeof out->trailer,
           "kernel_form=%d\nloss_rounding=%s\nsolve_refinements=%d\nsolve_error=%s\nsolve_condition=%s\n",
           r.kernel_form, cls_fmt_shortest(r.loss_rounding, 0, f[0], 40), r.solve.refinements,
           cls_fmt_shortest(r.solve.error, 0, f[1], 40), cls_fmt_shortest(r.solve.condition, 0, f[2], 40));
  if (spec->test_samples) {
    size_t n = strlen(out->trailer);
    snprintf(out->trailer + n, sizeof out->trailer - n, "loss_estimate=%s\nloss_se=%s\n",
             cls_fmt_shortest(r.loss_estimate, 0, f[3], 40), cls_fmt_shortest(r.loss_se, 0, f[4], 40));
  }
  return CLS_OK;
}

static const char *const rf_fields[] = {"latent", "alpha", "ridge", "noise", "test_samples", NULL};

const cls_task_info cls__task_rf = {
    .task = "rf",
    .model = &features_model,
    .summary = "random-feature ridge regression, solved exactly (a solvable scaling model)",
    .fields = rf_fields,
    .check = rf_check,
    .solve = rf_solve,
    .solve_bytes = rf_bytes};
