/*
 * src/train/task_linreg.c — the smallest task: linear regression on
 * synthetic Gaussian data with a known optimum, trained by the ops layer.
 *
 * It is also the example of adding a task and its model: this one file
 * (data, model, task, registry entry) and one line in task.c's registry.
 *
 * Data (a pure function of data_seed): a teacher w* in R^width with
 * entries N(0, 1/width); n_train training and n_test test examples
 * x ~ N(0, I) with y = x . w* + NOISE e, e ~ N(0, 1). So Var(y) is about
 * 1 + NOISE^2 and the best possible test MSE is NOISE^2 (the noise floor).
 * Model "linear": y = x w + b, one layer (depth 1); N = width + 1, no
 * embeddings. A step is `batch` training examples drawn with replacement
 * as a pure function of (seed, step); evaluation batch i is test examples
 * i*batch .. (i+1)*batch - 1 (wrapping), the same at every evaluation.
 * `param` is accepted but changes nothing: one layer has no hidden width
 * to scale.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "nn/params.h"
#include "task_internal.h"
#include "core/fmt.h"

#define NOISE 0.1 /* noise floor of the test MSE: NOISE^2 */

/* Philox streams of the data (seeded by data_seed) and the sampler (seed). */
enum { STREAM_TEACHER = 0x1e00, STREAM_X = 0x1e01, STREAM_NOISE = 0x1e02, STREAM_SAMPLE = 0x1e03 };

#define MAX_WIDTH    65536
#define MAX_DATA_FLT ((size_t)1 << 28) /* floats of x over both splits */

typedef struct {
  size_t d, B, n_train, n_test;
  uint64_t seed;
  float *x, *y;   /* (n_train + n_test) x d; n_train + n_test (test after train) */
  float *bx, *by; /* the batch: B x d; B */
  size_t *rows;   /* the batch's examples: B rows of x */
  cls_param_table pt;
  cls_param_slabs slabs;
  int have_slabs;
  cls_buffer *acts;
  size_t ax, ay, apred, aerr, adpred, aloss; /* offsets into acts */
} linreg_task;

/* ------------------------------------------------------------ the model */

static cls_status linear_check(const cls_task_spec *spec, char *err, size_t err_len) {
  if (!spec->width || spec->width > MAX_WIDTH || spec->depth != 1) {
    snprintf(err, err_len,
             "the linear model has one layer of `width` inputs: `depth` must be 1 and `width` 1 to %d (got "
             "width %zu, depth %zu)",
             MAX_WIDTH, spec->width, spec->depth);
    return CLS_ERR_INVALID_SIZE;
  }
  if (!(spec->init_std > 0) || !isfinite(spec->init_std) || !(spec->weight_decay >= 0) ||
      !isfinite(spec->weight_decay)) {
    snprintf(err, err_len, "`init_std` must be positive and `weight_decay` non-negative, both finite");
    return CLS_ERR_INVALID_VALUE;
  }
  return CLS_OK;
}

static void linear_count(const cls_task_spec *spec, size_t width, size_t depth, double *n, double *n_embed) {
  (void)spec;
  (void)depth;
  *n = (double)width + 1.0; /* w and b */
  *n_embed = 0;
}

static const cls_model_info linear_model = {.name = "linear", .count_params = linear_count, .check = linear_check};

/* ------------------------------------------------------------- the data */

/* The teacher, then every example's x and y; 0 when out of host memory. */
static int make_data(linreg_task *x, uint64_t data_seed) {
  const size_t d = x->d, n = x->n_train + x->n_test;
  const cls_rng rt = cls_rng_make(data_seed, STREAM_TEACHER), rx = cls_rng_make(data_seed, STREAM_X),
                rn = cls_rng_make(data_seed, STREAM_NOISE);
  double *teacher = malloc(d * sizeof *teacher);
  if (!teacher) return 0;
  for (size_t k = 0; k < d; k++) teacher[k] = cls_rng_normal(rt, k, 0) / sqrt((double)d);
  for (size_t i = 0; i < n; i++) {
    double y = 0;
    for (size_t k = 0; k < d; k++) {
      const double xi = cls_rng_normal(rx, i, (uint32_t)k);
      x->x[i * d + k] = (float)xi;
      y += xi * teacher[k];
    }
    x->y[i] = (float)(y + NOISE * cls_rng_normal(rn, i, 0));
  }
  free(teacher);
  return 1;
}

/* ------------------------------------------------------------- the task */

#define A(off) cls_ref_at(x->acts, (off))

/* The mean loss of the examples x->rows (rows of x->x: training rows, or
 * test rows after n_train); with want_grad their gradients too. */
static cls_status forward(cls_train_task *t, int want_grad, float *loss) {
  linreg_task *x = t->impl;
  const size_t *rows = x->rows;
  cls_context *ctx = t->ctx;
  for (size_t b = 0; b < x->B; b++) {
    memcpy(x->bx + b * x->d, x->x + rows[b] * x->d, x->d * sizeof *x->bx);
    x->by[b] = x->y[rows[b]];
  }
  const float inv = 1.0f / (float)x->B;
  cls_status s = cls_buffer_write(ctx, x->acts, x->ax, x->B * x->d, x->bx);
  if (s == CLS_OK) s = cls_buffer_write(ctx, x->acts, x->ay, x->B, x->by);
  if (s == CLS_OK) s = cls_nn_linear(ctx, &x->pt, &x->slabs, x->B, x->d, 1, A(x->ax), 0, A(x->apred), 0);
  if (s == CLS_OK)
    s = cls_mse(ctx, x->B, A(x->apred), A(x->ay), A(x->aerr), want_grad ? A(x->adpred) : CLS_NOREF, inv);
  if (s == CLS_OK) s = cls_reduce(ctx, CLS_REDUCE_SUM, x->B, A(x->aerr), inv, A(x->aloss));
  if (s == CLS_OK) s = cls_buffer_read(ctx, x->acts, x->aloss, 1, loss);
  /* The input is data: dW and db only. */
  if (s == CLS_OK && want_grad)
    s = cls_nn_linear_back(ctx, &x->pt, &x->slabs, x->B, x->d, 1, A(x->ax), 0, A(x->adpred), CLS_NOREF, 0);
  return s;
}

static cls_status train_step(cls_train_task *t, uint64_t step, float *loss) {
  linreg_task *x = t->impl;
  const cls_rng r = cls_rng_make(x->seed, STREAM_SAMPLE);
  for (size_t b = 0; b < x->B; b++) x->rows[b] = (size_t)cls_rng_below(r, step, (uint32_t)b, x->n_train);
  return forward(t, 1, loss);
}

static cls_status eval_batch(cls_train_task *t, uint64_t i, float *loss) {
  linreg_task *x = t->impl;
  for (size_t b = 0; b < x->B; b++) x->rows[b] = x->n_train + (size_t)((i * x->B + b) % x->n_test);
  return forward(t, 0, loss);
}

#undef A

static void release(void *impl) {
  linreg_task *x = impl;
  if (x->have_slabs) cls_param_slabs_free(&x->slabs);
  cls_buffer_free(x->acts);
  cls_param_table_free(&x->pt);
  free(x->x);
  free(x->y);
  free(x->bx);
  free(x->by);
  free(x->rows);
}

/* No coordinate check: one layer has no width to scale. */
static const cls__task_ops linreg_ops = {train_step, eval_batch, NULL, release};

static cls_status linreg_check(const cls_task_spec *spec, char *err, size_t err_len) {
  if (!spec->batch || !spec->n_train || !spec->n_test) {
    snprintf(err, err_len, "`batch`, `n_train` and `n_test` must be at least 1 (got %zu, %zu, %zu)", spec->batch,
             spec->n_train, spec->n_test);
    return CLS_ERR_INVALID_SIZE;
  }
  if ((double)(spec->n_train + spec->n_test) * (double)spec->width > (double)MAX_DATA_FLT) {
    snprintf(err, err_len, "(`n_train` + `n_test`) x `width` must be at most 2^28 floats: use fewer examples");
    return CLS_ERR_INVALID_SIZE;
  }
  return CLS_OK;
}

/* The parameters (w: width x 1, then b, as cls_nn_linear wants them), the
 * device slabs and the activations. */
static cls_status build_model(cls_train_task *t, const cls_task_spec *spec, char *err, size_t err_len) {
  linreg_task *x = t->impl;
  const size_t B = x->B, d = x->d;
  if (cls_param_add_ex(&x->pt, "w", d, 1, CLS_PARAM_HIDDEN, CLS_INIT_NORMAL, spec->init_std, 0, 1,
                       spec->weight_decay) != 0 ||
      cls_param_add_ex(&x->pt, "b", 1, 1, CLS_PARAM_INPUT, CLS_INIT_ZERO, 0, 0, 1, 0) != 1) {
    snprintf(err, err_len, "out of host memory for the linear model's table");
    return CLS_ERR_OUT_OF_MEMORY;
  }
  size_t at = 0;
#define TAKE(field, n) (field = at, at += ((n) + 15) / 16 * 16)
  TAKE(x->ax, B * d);
  TAKE(x->ay, B);
  TAKE(x->apred, B);
  TAKE(x->aerr, B);
  TAKE(x->adpred, B);
  TAKE(x->aloss, 1);
#undef TAKE
  cls_status s = cls_model_storage_alloc(t->ctx, &x->pt, spec->seed, at, "linreg", &x->slabs, &x->acts);
  if (s != CLS_OK) {
    snprintf(err, err_len, "%s", cls_last_error(t->ctx));
    return s;
  }
  x->have_slabs = 1;
  return CLS_OK;
}

/* The data's accounting, the checkpoint key and the description. */
static void describe(cls_train_task *t, const cls_task_spec *spec) {
  linreg_task *x = t->impl;
  t->tokens_per_step = (double)x->B; /* an example is a token */
  /* forward x w: 2 B d; backward dW only (the input is data): 2 B d */
  t->model_flops_per_step = 4.0 * (double)x->B * (double)x->d;
  t->train_examples = (double)x->n_train;
  t->train_tokens = (double)x->n_train;
  t->examples_per_step = (double)x->B;
  char f[3][40];
  snprintf(t->key, sizeof t->key,
           "task=linreg\nmodel=linear\nwidth=%zu\ndepth=1\ninit_std=%s\nweight_decay=%s\nbatch=%zu\nseed=%llu\n"
           "data_seed=%llu\nn_train=%zu\nn_test=%zu\nnoise=%s\n",
           x->d, cls_fmt_shortest(spec->init_std, 1, f[0], 40), cls_fmt_shortest(spec->weight_decay, 1, f[1], 40),
           x->B, (unsigned long long)spec->seed, (unsigned long long)spec->data_seed, x->n_train, x->n_test,
           cls_fmt_shortest(NOISE, 0, f[2], 40));
  snprintf(t->describe, sizeof t->describe,
           "linear w%zu, batch %zu, on %zu Gaussian examples (%zu test, noise floor %g)", x->d, x->B, x->n_train,
           x->n_test, NOISE * NOISE);
}

static cls_status make(cls_context *ctx, const cls_task_spec *spec, cls_train_task **out, char *err,
                       size_t err_len) {
  cls_train_task *t;
  cls_status s = cls__task_begin(&cls__task_linreg, ctx, spec, sizeof(linreg_task), &linreg_ops, &t, err, err_len);
  if (s != CLS_OK) return s;
  linreg_task *x = t->impl;
  x->d = spec->width;
  x->B = spec->batch;
  x->n_train = spec->n_train;
  x->n_test = spec->n_test;
  x->seed = spec->seed;
  const size_t n = x->n_train + x->n_test;
  x->x = malloc(n * x->d * sizeof *x->x);
  x->y = malloc(n * sizeof *x->y);
  x->bx = malloc(x->B * x->d * sizeof *x->bx);
  x->by = malloc(x->B * sizeof *x->by);
  x->rows = malloc(x->B * sizeof *x->rows);
  if (!x->x || !x->y || !x->bx || !x->by || !x->rows || !make_data(x, spec->data_seed)) {
    char what[96];
    snprintf(what, sizeof what, "%zu examples of %zu features", n, x->d);
    return cls__task_oom(t, what, err, err_len);
  }
  s = build_model(t, spec, err, err_len);
  if (s != CLS_OK) return cls__task_fail(t, s);
  describe(t, spec);
  return cls__task_done(t, &x->pt, &x->slabs, out);
}

static const char *const linreg_fields[] = {"n_train", "n_test", NULL};

const cls_task_info cls__task_linreg = {.task = "linreg",
                                        .model = &linear_model,
                                        .summary = "linear regression on Gaussian data (a test task)",
                                        .fields = linreg_fields,
                                        .check = linreg_check,
                                        .make = make};
