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
#include "task_internal.h"
#include "core/fmt.h"

typedef struct {
  cls_spectra *ds;
  cls_emulator *em;
  size_t B, P, F; /* spectra, pixels per spectrum, features per pixel */
  size_t depth;   /* the model's blocks (the coordinate check's activations) */
  uint64_t seed;
  float *grid_features; /* n_pixels x F: the encoding of the whole grid, once */
  uint32_t *spec, *pix; /* B; B x P */
  float *labels, *flux; /* B x n_labels; B x P */
  float *features;      /* B x P x F */
} emu_task;

/* ------------------------------------------------------------ the model */

static void spectra_config_of(const cls_task_spec *spec, cls_spectra_config *dc) {
  cls_spectra_config_default(dc);
  dc->seed = spec->data_seed;
  dc->n_pixels = spec->n_pixels;
  dc->n_train = spec->n_train;
  dc->n_val = 0; /* the emulator is evaluated on the test split */
  dc->n_test = spec->n_test;
}

/* The emulator of spec at width x depth x heads, on the dataset's window. */
static void emulator_config_of(const cls_task_spec *spec, size_t width, size_t depth, size_t heads,
                               cls_emulator_config *ec) {
  cls_spectra_config dc;
  spectra_config_of(spec, &dc);
  cls_emulator_config_default(ec);
  ec->width = width;
  ec->depth = depth;
  ec->heads = heads;
  ec->n_tokens = spec->label_tokens;
  ec->param = spec->param;
  ec->base_width = spec->base_width;
  ec->init_std = spec->init_std;
  ec->weight_decay = spec->weight_decay;
  ec->lambda_min = dc.lambda_min;
  ec->lambda_max = dc.lambda_max;
}

static cls_status emulator_check(const cls_task_spec *spec, char *err, size_t err_len) {
  cls_emulator_config ec;
  emulator_config_of(spec, spec->width, spec->depth, spec->heads, &ec);
  return cls_emulator_config_check(&ec, err, err_len);
}

static void emulator_count(const cls_task_spec *spec, size_t width, size_t depth, double *n, double *n_embed) {
  cls_emulator_config ec;
  emulator_config_of(spec, width, depth, 1, &ec);
  cls_emulator_count_params(&ec, n, n_embed);
}

static const cls_model_info emulator_model = {
    .name = "emulator", .count_params = emulator_count, .check = emulator_check, .has_heads = 1};

/* ------------------------------------------------------------- the task */

/* Draws and gathers the batch `step` of split with seed, and its features. */
static cls_status batch(cls_train_task *t, cls_split split, uint64_t seed, uint64_t step) {
  emu_task *x = t->impl;
  char err[512];
  cls_status s = cls_spectra_sample(x->ds, split, seed, step, x->B, x->P, x->spec, x->pix, err, sizeof err);
  if (s == CLS_OK)
    s = cls_spectra_gather(x->ds, split, x->B, x->spec, x->P, x->pix, x->labels, x->flux, err, sizeof err);
  if (s != CLS_OK) return cls__task_data_fail(t, s, err);
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

static cls_status eval_batch(cls_train_task *t, uint64_t i, float *loss) {
  emu_task *x = t->impl;
  cls_status s = batch(t, CLS_SPLIT_TEST, CLS_TASK_EVAL_SEED, i);
  if (s == CLS_OK) s = cls_emulator_forward(x->em, x->labels, x->features, x->flux, x->B, x->P, 0, loss);
  return s;
}

/* The coordinate check's activations after a forward pass on the training
 * batch `step` without gradients. */
static cls_status coord_probe(cls_train_task *t, uint64_t step, float *out) {
  emu_task *x = t->impl;
  float loss;
  cls_status s = batch(t, CLS_SPLIT_TRAIN, x->seed, step);
  if (s == CLS_OK) s = cls_emulator_forward(x->em, x->labels, x->features, x->flux, x->B, x->P, 0, &loss);
  if (s != CLS_OK) return s;
  const size_t n = cls_emulator_activation_count(x->em);
  float *rms = malloc(n * sizeof *rms);
  if (!rms) return CLS_ERR_OUT_OF_MEMORY;
  s = cls_emulator_activation_rms(x->em, rms);
  if (s == CLS_OK) s = cls__task_coord_pick(rms, n, x->depth, out);
  free(rms);
  return s;
}

static void release(void *impl) {
  emu_task *x = impl;
  cls_emulator_destroy(x->em);
  cls_spectra_destroy(x->ds);
  free(x->grid_features);
  free(x->spec);
  free(x->pix);
  free(x->labels);
  free(x->flux);
  free(x->features);
}

static const cls__task_ops emu_ops = {train_step, eval_batch, coord_probe, release};

static cls_status spectra_check(const cls_task_spec *spec, char *err, size_t err_len) {
  if (!spec->batch || !spec->pixels) {
    snprintf(err, err_len, "`batch` (%zu spectra) and `pixels` per spectrum (%zu) must be at least 1", spec->batch,
             spec->pixels);
    return CLS_ERR_INVALID_SIZE;
  }
  if (spec->pixels > spec->n_pixels) {
    snprintf(err, err_len, "`pixels` per spectrum (%zu) must be <= `n_pixels`, the grid's %zu pixels",
             spec->pixels, spec->n_pixels);
    return CLS_ERR_INVALID_SIZE;
  }
  if (!spec->n_test) {
    snprintf(err, err_len, "the emulator is evaluated on the test split: `n_test` must be at least 1");
    return CLS_ERR_INVALID_SIZE;
  }
  return CLS_OK;
}

/* The dataset, its flux precomputed, and the host buffers of a batch. */
static cls_status build_data(cls_train_task *t, const cls_spectra_config *dc, const cls_emulator_config *ec,
                             char *err, size_t err_len) {
  emu_task *x = t->impl;
  cls_status s = cls_spectra_create(dc, &x->ds, err, err_len);
  /* Flux of every training and test spectrum once, when it fits the cache:
   * each step then gathers instead of computing lines. */
  if (s == CLS_OK) s = cls_spectra_precompute(x->ds, CLS_SPLIT_TRAIN, err, err_len);
  if (s == CLS_OK) s = cls_spectra_precompute(x->ds, CLS_SPLIT_TEST, err, err_len);
  if (s != CLS_OK) return s;
  const size_t np = cls_spectra_n_pixels(x->ds);
  x->grid_features = malloc(np * x->F * sizeof *x->grid_features);
  x->spec = malloc(x->B * sizeof *x->spec);
  x->pix = malloc(x->B * x->P * sizeof *x->pix);
  x->labels = malloc(x->B * CLS_SPECTRA_N_LABELS * sizeof *x->labels);
  x->flux = malloc(x->B * x->P * sizeof *x->flux);
  x->features = malloc(x->B * x->P * x->F * sizeof *x->features);
  if (!x->grid_features || !x->spec || !x->pix || !x->labels || !x->flux || !x->features) {
    snprintf(err, err_len, "out of host memory for a batch of %zu spectra x %zu pixels", x->B, x->P);
    return CLS_ERR_OUT_OF_MEMORY;
  }
  cls_emulator_encode(ec, cls_spectra_wavelength(x->ds), np, x->grid_features);
  return CLS_OK;
}

/* The data's accounting, the checkpoint key and the description. */
static void describe(cls_train_task *t, const cls_task_spec *spec, const cls_emulator_config *ec,
                     const cls_spectra_config *dc) {
  emu_task *x = t->impl;
  const size_t np = cls_spectra_n_pixels(x->ds);
  t->tokens_per_step = (double)(x->B * x->P);
  t->model_flops_per_step = cls_emulator_flops_per_step(x->em, x->B, x->P);
  t->train_examples = (double)dc->n_train;
  t->train_tokens = (double)dc->n_train * (double)np;
  t->examples_per_step = (double)x->B;
  char f[3][40];
  snprintf(t->key, sizeof t->key,
           "task=spectra\nmodel=emulator\nwidth=%zu\ndepth=%zu\nheads=%zu\nlabel_tokens=%zu\nn_freq=%zu\n"
           "label_hidden=%zu\nparam=%s\nbase_width=%zu\ninit_std=%s\nweight_decay=%s\nbatch=%zu\npixels=%zu\n"
           "seed=%llu\ndata_seed=%llu\nn_train=%zu\nn_test=%zu\nn_pixels=%zu\nn_lines=%zu\nlambda_min=%s\n",
           ec->width, ec->depth, ec->heads, ec->n_tokens, ec->n_freq, ec->label_hidden,
           cls__task_param_name(ec->param), ec->base_width, cls_fmt_shortest(ec->init_std, 1, f[0], 40),
           cls_fmt_shortest(ec->weight_decay, 1, f[1], 40), x->B, x->P, (unsigned long long)spec->seed,
           (unsigned long long)spec->data_seed, dc->n_train, dc->n_test, np, cls_spectra_n_lines(x->ds),
           cls_fmt_shortest(dc->lambda_min, 0, f[2], 40));
  snprintf(t->describe, sizeof t->describe,
           "emulator w%zu d%zu h%zu %zu label tokens %s, batch %zu spectra x %zu pixels, on %zu training "
           "spectra (%zu test, %zu pixels)",
           ec->width, ec->depth, ec->heads, ec->n_tokens, cls__task_param_name(ec->param), x->B, x->P, dc->n_train,
           dc->n_test, np);
}

static cls_status make(cls_context *ctx, const cls_task_spec *spec, cls_train_task **out, char *err,
                       size_t err_len) {
  cls_train_task *t;
  cls_status s = cls__task_begin(&cls__task_spectra, ctx, spec, sizeof(emu_task), &emu_ops, &t, err, err_len);
  if (s != CLS_OK) return s;
  cls_spectra_config dc;
  spectra_config_of(spec, &dc);
  cls_emulator_config ec;
  emulator_config_of(spec, spec->width, spec->depth, spec->heads, &ec);
  emu_task *x = t->impl;
  x->B = spec->batch;
  x->P = spec->pixels;
  x->F = cls_emulator_n_features(&ec);
  x->depth = spec->depth;
  x->seed = spec->seed;
  s = build_data(t, &dc, &ec, err, err_len);
  if (s != CLS_OK) return cls__task_fail(t, s);
  s = cls_emulator_create(ctx, &ec, x->B, x->P, spec->seed, &x->em);
  if (s != CLS_OK) return cls__task_model_fail(t, s, err, err_len);
  describe(t, spec, &ec, &dc);
  t->loss_ref = cls_emulator_loss_ref(x->em); /* the loop reads the loss while the next step runs */
  return cls__task_done(t, cls_emulator_params(x->em), cls_emulator_slabs(x->em), out);
}

static const char *const spectra_fields[] = {"n_train", "n_test", "n_pixels", "pixels", "label_tokens", NULL};

/* The coordinate check's activations (cls__task_coord_pick's order). */
static const char *const emulator_coord_layers[] = {"label tokens", "attention out", "mlp hidden", "head hidden",
                                                    NULL};

const cls_task_info cls__task_spectra = {.task = "spectra",
                                         .model = &emulator_model,
                                         .summary = "the emulator on synthetic stellar spectra",
                                         .fields = spectra_fields,
                                         .check = spectra_check,
                                         .make = make,
                                         .coord_layers = emulator_coord_layers,
                                         .models = &cls__spectra_models};

/* ------------------------------------------- models side by side
 *
 * The spectra task for K models of one shape (train/models.h): the same
 * dataset and batches as the task above, model k's batch drawn with its
 * own seed, all K uploaded and run as one forward and backward pass. */

typedef struct {
  emu_task x; /* the dataset, the grid's encoding and one model's batch buffers */
  size_t K;
  uint64_t *seeds;
  float *labels, *flux, *features; /* K batches, one model after the other */
  float *loss;                     /* K */
} emu_models;

static void models_destroy(void *impl);

static cls_status models_create(cls_context *ctx, const cls_task_spec *spec, size_t K, const uint64_t *seeds,
                                void **out, char *err, size_t err_len) {
  *out = NULL;
  cls_status s = cls__task_check_spec(&cls__task_spectra, spec, err, err_len);
  if (s != CLS_OK) return s;
  emu_models *g = calloc(1, sizeof *g);
  if (!g) {
    snprintf(err, err_len, "out of host memory");
    return CLS_ERR_OUT_OF_MEMORY;
  }
  /* A bare task shell for build_data (it reports data errors through t). */
  cls_train_task shell;
  memset(&shell, 0, sizeof shell);
  shell.impl = &g->x;
  cls_spectra_config dc;
  spectra_config_of(spec, &dc);
  cls_emulator_config ec;
  emulator_config_of(spec, spec->width, spec->depth, spec->heads, &ec);
  emu_task *x = &g->x;
  x->B = spec->batch;
  x->P = spec->pixels;
  x->F = cls_emulator_n_features(&ec);
  x->depth = spec->depth;
  g->K = K;
  s = build_data(&shell, &dc, &ec, err, err_len);
  if (s == CLS_OK) {
    const size_t R = x->B * x->P;
    g->seeds = malloc(K * sizeof *g->seeds);
    g->labels = malloc(K * x->B * CLS_SPECTRA_N_LABELS * sizeof *g->labels);
    g->flux = malloc(K * R * sizeof *g->flux);
    g->features = malloc(K * R * x->F * sizeof *g->features);
    g->loss = malloc(K * sizeof *g->loss);
    if (!g->seeds || !g->labels || !g->flux || !g->features || !g->loss) {
      snprintf(err, err_len, "out of host memory for %zu batches of %zu spectra x %zu pixels", K, x->B, x->P);
      s = CLS_ERR_OUT_OF_MEMORY;
    } else {
      memcpy(g->seeds, seeds, K * sizeof *seeds);
    }
  }
  if (s == CLS_OK) {
    s = cls_emulator_create_models(ctx, &ec, K, x->B, x->P, seeds, &x->em);
    if (s != CLS_OK) snprintf(err, err_len, "%s", cls_last_error(ctx));
  }
  if (s == CLS_OK && shell.error[0]) snprintf(err, err_len, "%s", shell.error);
  if (s != CLS_OK) {
    if (shell.error[0]) snprintf(err, err_len, "%s", shell.error);
    models_destroy(g);
    return s;
  }
  *out = g;
  return CLS_OK;
}

static void models_destroy(void *impl) {
  emu_models *g = impl;
  if (!g) return;
  release(&g->x);
  free(g->seeds);
  free(g->labels);
  free(g->flux);
  free(g->features);
  free(g->loss);
  free(g);
}

static const cls_param_table *models_params(void *impl) {
  return cls_emulator_params(((emu_models *)impl)->x.em);
}

static cls_param_slabs *models_slabs(void *impl) {
  return cls_emulator_slabs(((emu_models *)impl)->x.em);
}

static cls_ref models_loss_ref(void *impl) {
  return cls_emulator_loss_ref(((emu_models *)impl)->x.em);
}

static double models_tokens_per_step(void *impl) {
  const emu_models *g = impl;
  return (double)(g->x.B * g->x.P);
}

/* Model k's slot of the K batches <- the one-model buffers batch() filled. */
static void keep_batch(emu_models *g, size_t k) {
  const emu_task *x = &g->x;
  const size_t R = x->B * x->P, NL = CLS_SPECTRA_N_LABELS;
  memcpy(g->labels + k * x->B * NL, x->labels, x->B * NL * sizeof *g->labels);
  memcpy(g->flux + k * R, x->flux, R * sizeof *g->flux);
  memcpy(g->features + k * R * x->F, x->features, R * x->F * sizeof *g->features);
}

static cls_status models_train_step(void *impl, size_t active, uint64_t step, char *err, size_t err_len) {
  emu_models *g = impl;
  cls_train_task shell;
  memset(&shell, 0, sizeof shell);
  shell.impl = &g->x;
  emu_task *x = &g->x;
  for (size_t k = 0; k < active; k++) {
    cls_status s = batch(&shell, CLS_SPLIT_TRAIN, g->seeds[k], step);
    if (s != CLS_OK) {
      snprintf(err, err_len, "%s", shell.error);
      return s;
    }
    keep_batch(g, k);
  }
  cls_status s = cls_emulator_forward_models(x->em, active, g->labels, g->features, g->flux, x->B, x->P, 1, NULL);
  return s == CLS_OK ? cls_emulator_backward(x->em) : s;
}

static cls_status models_evaluate(void *impl, size_t active, size_t n_batches, double *loss, char *err,
                                  size_t err_len) {
  emu_models *g = impl;
  cls_train_task shell;
  memset(&shell, 0, sizeof shell);
  shell.impl = &g->x;
  emu_task *x = &g->x;
  for (size_t k = 0; k < active; k++) loss[k] = 0;
  /* task_common.c's evaluate for each model: the same batches, summed in
   * double in batch order, then divided by their number. */
  for (size_t i = 0; i < n_batches; i++) {
    cls_status s = batch(&shell, CLS_SPLIT_TEST, CLS_TASK_EVAL_SEED, i);
    if (s != CLS_OK) {
      snprintf(err, err_len, "%s", shell.error);
      return s;
    }
    for (size_t k = 0; k < active; k++) keep_batch(g, k);
    s = cls_emulator_forward_models(x->em, active, g->labels, g->features, g->flux, x->B, x->P, 0, g->loss);
    if (s != CLS_OK) return s;
    for (size_t k = 0; k < active; k++) loss[k] += g->loss[k];
  }
  for (size_t k = 0; k < active; k++) loss[k] = n_batches ? loss[k] / (double)n_batches : 0.0;
  return CLS_OK;
}

static cls_status models_view(void *impl, size_t k, const cls_task_spec *spec, const cls_train_task *alone,
                              cls_train_task *view) {
  emu_models *g = impl;
  if (k >= g->K) return CLS_ERR_INVALID_VALUE;
  cls_spectra_config dc;
  spectra_config_of(spec, &dc);
  cls_emulator_config ec;
  emulator_config_of(spec, spec->width, spec->depth, spec->heads, &ec);
  cls_task_spec mine = *spec;
  mine.seed = g->seeds[k];
  memset(view, 0, sizeof *view);
  view->impl = &g->x;
  describe(view, &mine, &ec, &dc); /* the key and description of model k alone */
  view->impl = NULL;
  view->ctx = alone->ctx;
  view->model_flops_per_step = alone->model_flops_per_step; /* one model's, not the group's */
  cls__task_set_model(view, cls_emulator_params(g->x.em), cls_emulator_slabs(g->x.em));
  return CLS_OK;
}

const cls__models_ops cls__spectra_models = {models_create,     models_destroy,  models_params,
                                             models_slabs,      models_loss_ref, models_tokens_per_step,
                                             models_train_step, models_evaluate, models_view};
