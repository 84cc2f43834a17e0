/*
 * src/train/task_emulator.c — the spectral emulator (nn/emulator.h) on the
 * synthetic stellar spectra (data/spectra.h): mean squared error of the
 * flux, evaluated on the test split.
 *
 * A step is `batch` training spectra with `pixels` wavelengths each, drawn
 * by the data layer's sampler as a pure function of (seed, step) (pixels
 * stratified over the grid, so every part of the spectrum is seen each
 * step). The dataset size D of the scaling laws is n_train, the number of
 * training spectra; `tokens` in the log counts spectra x pixels seen.
 * Evaluation: the first n batches of the test split drawn with a fixed seed
 * (the same spectra and pixels at every evaluation and for every run seed):
 * an unbiased estimate of the test-set MSE from n x batch x pixels points.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/spectra.h"
#include "nn/emulator.h"
#include "train/log.h"
#include "train/task.h"

#define EVAL_SEED 0x6576616cULL /* "eval" */

typedef struct {
  cls_spectra *ds;
  cls_emulator *em;
  size_t B, P, F; /* spectra, pixels per spectrum, features per pixel */
  uint64_t seed;
  float *grid_features; /* n_pixels x F: the encoding of the whole grid, once */
  uint32_t *spec, *pix; /* B; B x P */
  float *labels, *flux; /* B x n_labels; B x P */
  float *features;      /* B x P x F */
} emu_task;

static cls_status data_fail(cls_train_task *t, cls_status s, const char *what) {
  snprintf(t->error, sizeof t->error, "%s", what);
  return s;
}

/* Draws and gathers the batch `step` of split with seed, and its features. */
static cls_status batch(cls_train_task *t, cls_split split, uint64_t seed, uint64_t step) {
  emu_task *x = t->impl;
  char err[512];
  cls_status s = cls_spectra_sample(x->ds, split, seed, step, x->B, x->P, x->spec, x->pix, err, sizeof err);
  if (s == CLS_OK)
    s = cls_spectra_gather(x->ds, split, x->B, x->spec, x->P, x->pix, x->labels, x->flux, err, sizeof err);
  if (s != CLS_OK) return data_fail(t, s, err);
  for (size_t r = 0; r < x->B * x->P; r++)
    memcpy(x->features + r * x->F, x->grid_features + (size_t)x->pix[r] * x->F, x->F * sizeof *x->features);
  return CLS_OK;
}

static cls_status train_step(cls_train_task *t, uint64_t step, float *loss) {
  emu_task *x = t->impl;
  cls_status s = batch(t, CLS_SPLIT_TRAIN, x->seed, step);
  if (s == CLS_OK) s = cls_emulator_forward(x->em, x->labels, x->features, x->flux, x->B, x->P, 1, loss);
  if (s == CLS_OK) s = cls_emulator_backward(x->em);
  return s;
}

static cls_status evaluate(cls_train_task *t, size_t n_batches, double *loss) {
  emu_task *x = t->impl;
  double sum = 0;
  for (size_t i = 0; i < n_batches; i++) {
    float mse;
    cls_status s = batch(t, CLS_SPLIT_TEST, EVAL_SEED, i);
    if (s == CLS_OK) s = cls_emulator_forward(x->em, x->labels, x->features, x->flux, x->B, x->P, 0, &mse);
    if (s != CLS_OK) return s;
    sum += mse;
  }
  *loss = n_batches ? sum / (double)n_batches : 0.0;
  return CLS_OK;
}

static void destroy(cls_train_task *t) {
  emu_task *x = t->impl;
  if (x) {
    cls_emulator_destroy(x->em);
    cls_spectra_destroy(x->ds);
    free(x->grid_features);
    free(x->spec);
    free(x->pix);
    free(x->labels);
    free(x->flux);
    free(x->features);
    free(x);
  }
  free(t);
}

cls_status cls__task_spectra_emulator(cls_context *ctx, const cls_task_spec *spec, cls_train_task **out, char *err,
                                      size_t err_len) {
  *out = NULL;
  cls_spectra_config dc;
  cls_spectra_config_default(&dc);
  dc.seed = spec->data_seed;
  dc.n_pixels = spec->n_pixels;
  dc.n_train = spec->n_train;
  dc.n_val = 0; /* the emulator is evaluated on the test split */
  dc.n_test = spec->n_test;

  cls_emulator_config ec;
  cls_emulator_config_default(&ec);
  ec.width = spec->width;
  ec.depth = spec->depth;
  ec.heads = spec->heads;
  ec.n_tokens = spec->label_tokens;
  ec.param = spec->param;
  ec.base_width = spec->base_width;
  ec.init_std = spec->init_std;
  ec.weight_decay = spec->weight_decay;
  ec.lambda_min = dc.lambda_min;
  ec.lambda_max = dc.lambda_max;
  cls_status s = cls_emulator_config_check(&ec, err, err_len);
  if (s != CLS_OK) return s;
  if (!spec->batch || !spec->pixels) {
    snprintf(err, err_len, "batch (%zu spectra) and pixels per spectrum (%zu) must be at least 1", spec->batch,
             spec->pixels);
    return CLS_ERR_INVALID_SIZE;
  }
  if (spec->pixels > spec->n_pixels) {
    snprintf(err, err_len, "pixels per spectrum %zu exceeds the grid's %zu pixels: use --pixels <= --n-pixels",
             spec->pixels, spec->n_pixels);
    return CLS_ERR_INVALID_SIZE;
  }
  if (!spec->n_test) {
    snprintf(err, err_len, "the emulator is evaluated on the test split: --n-test must be at least 1");
    return CLS_ERR_INVALID_SIZE;
  }

  cls_train_task *t = calloc(1, sizeof *t);
  emu_task *x = calloc(1, sizeof *x);
  if (!t || !x) {
    free(t);
    free(x);
    snprintf(err, err_len, "out of host memory");
    return CLS_ERR_OUT_OF_MEMORY;
  }
  t->impl = x;
  t->ctx = ctx;
  t->destroy = destroy;
  t->train_step = train_step;
  t->evaluate = evaluate;
  x->B = spec->batch;
  x->P = spec->pixels;
  x->F = cls_emulator_n_features(&ec);
  x->seed = spec->seed;

  s = cls_spectra_create(&dc, &x->ds, err, err_len);
  if (s != CLS_OK) {
    destroy(t);
    return s;
  }
  /* Flux of every training and test spectrum once, when it fits the cache:
   * each step then gathers instead of computing lines. */
  s = cls_spectra_precompute(x->ds, CLS_SPLIT_TRAIN, err, err_len);
  if (s == CLS_OK) s = cls_spectra_precompute(x->ds, CLS_SPLIT_TEST, err, err_len);
  if (s != CLS_OK) {
    destroy(t);
    return s;
  }
  const size_t np = cls_spectra_n_pixels(x->ds);
  x->grid_features = malloc(np * x->F * sizeof *x->grid_features);
  x->spec = malloc(x->B * sizeof *x->spec);
  x->pix = malloc(x->B * x->P * sizeof *x->pix);
  x->labels = malloc(x->B * CLS_SPECTRA_N_LABELS * sizeof *x->labels);
  x->flux = malloc(x->B * x->P * sizeof *x->flux);
  x->features = malloc(x->B * x->P * x->F * sizeof *x->features);
  if (!x->grid_features || !x->spec || !x->pix || !x->labels || !x->flux || !x->features) {
    destroy(t);
    snprintf(err, err_len, "out of host memory for a batch of %zu spectra x %zu pixels", x->B, x->P);
    return CLS_ERR_OUT_OF_MEMORY;
  }
  cls_emulator_encode(&ec, cls_spectra_wavelength(x->ds), np, x->grid_features);
  s = cls_emulator_create(ctx, &ec, x->B, x->P, spec->seed, &x->em);
  if (s != CLS_OK) {
    snprintf(err, err_len, "%s", cls_last_error(ctx));
    destroy(t);
    return s;
  }
  const cls_param_table *pt = cls_emulator_params(x->em);
  t->params = pt;
  t->slabs = cls_emulator_slabs(x->em);
  t->n_params = (double)cls_param_count(pt, 0);
  t->n_params_embed = (double)cls_param_count(pt, 1) - t->n_params;
  t->tokens_per_step = (double)(x->B * x->P);
  t->model_flops_per_step = cls_emulator_flops_per_step(x->em, x->B, x->P);
  t->train_examples = (double)dc.n_train;
  t->train_tokens = (double)dc.n_train * (double)np;
  t->examples_per_step = (double)x->B;

  char f[3][40];
  snprintf(t->key, sizeof t->key,
           "task=spectra\nmodel=emulator\nwidth=%zu\ndepth=%zu\nheads=%zu\nlabel_tokens=%zu\nn_freq=%zu\n"
           "label_hidden=%zu\nparam=%s\nbase_width=%zu\ninit_std=%s\nweight_decay=%s\nbatch=%zu\npixels=%zu\n"
           "seed=%llu\ndata_seed=%llu\nn_train=%zu\nn_test=%zu\nn_pixels=%zu\nn_lines=%zu\nlambda_min=%s\n",
           ec.width, ec.depth, ec.heads, ec.n_tokens, ec.n_freq, ec.label_hidden,
           ec.param == CLS_PARAM_MUP ? "mup" : "sp", ec.base_width, cls_fmt_shortest(ec.init_std, 1, f[0], 40),
           cls_fmt_shortest(ec.weight_decay, 1, f[1], 40), x->B, x->P, (unsigned long long)spec->seed,
           (unsigned long long)spec->data_seed, dc.n_train, dc.n_test, np, cls_spectra_n_lines(x->ds),
           cls_fmt_shortest(dc.lambda_min, 0, f[2], 40));
  snprintf(t->describe, sizeof t->describe,
           "emulator w%zu d%zu h%zu %zu label tokens %s, batch %zu spectra x %zu pixels, on %zu training "
           "spectra (%zu test, %zu pixels)",
           ec.width, ec.depth, ec.heads, ec.n_tokens, ec.param == CLS_PARAM_MUP ? "mup" : "sp", x->B, x->P,
           dc.n_train, dc.n_test, np);
  *out = t;
  return CLS_OK;
}
