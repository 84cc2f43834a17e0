/*
 * src/train/task.h — what the train loop trains: a model on a dataset,
 * behind a small interface, so the loop (loop.h) knows nothing of GPTs or
 * spectra.
 *
 * A task owns its model and its data. The loop asks it for the gradients
 * of the batch of a given step (the data samplers are pure functions of
 * (seed, step), so the step is the whole sampler state and a resumed run
 * draws exactly the batches an uninterrupted one would), for the loss on
 * held-out data, and for the model's parameter table and slabs (AdamW and
 * the checkpoints work on those directly).
 *
 * Adding a task (and its model) is one file and one line: the file defines
 * a cls_task_info (its name, its model's host-side description, the spec
 * fields it reads, its checks and its factory) and the line, CLS_TASK(name)
 * in task_list_internal.h, registers it. task_linreg.c (linear regression on Gaussian
 * data, the smallest task) is the example; everything else (the train
 * command, the sweep's spec reader, its parameter counts and plans) finds
 * the task and its model through the registry.
 */
#ifndef CLSCALE_TRAIN_TASK_H
#define CLSCALE_TRAIN_TASK_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "clscale/device.h"
#include "nn/params.h" /* cls_parametrisation */

/* Everything a user can say about a task, flat: each task reads the fields
 * it needs and ignores the others. Defaults from cls_task_spec_default. */
typedef struct cls_task_spec {
  const char *task;  /* a registered task: "text", "spectra", "linreg" */
  const char *model; /* its model: "gpt", "emulator", "linear" */
  /* model shape, shared */
  size_t width, depth, heads;
  cls_parametrisation param;
  size_t base_width;
  float init_std, weight_decay;
  uint64_t seed; /* initial weights and the training sampler */
  size_t batch;  /* sequences (text) or spectra (spectra) per step */
  /* text */
  size_t context;     /* tokens per sequence */
  const char *data;   /* a file read as bytes; NULL or "zipf": the synthetic corpus */
  uint64_t data_seed; /* synthetic corpus (and spectra dataset) seed */
  size_t zipf_bytes;  /* synthetic corpus size */
  double val_fraction;
  size_t prompt_bytes; /* generations: the real bytes a teacher continues (0: context / 4, at least 1) */
  /* spectra */
  size_t n_train;      /* D: training spectra */
  size_t n_test;       /* test spectra (the evaluation set) */
  size_t n_pixels;     /* wavelength grid of the dataset */
  size_t pixels;       /* pixels sampled per spectrum per step */
  size_t label_tokens; /* emulator label tokens */
  /* rf: random-feature ridge regression (nn/rf.h; width is N, the features) */
  size_t latent;       /* M: latent dimension */
  double alpha;        /* spectrum exponent: lambda_i ∝ i^-(1+alpha) */
  double ridge;        /* gamma: the penalty gamma (N/M) |v|^2 */
  double noise;        /* sigma^2: label-noise variance */
  size_t test_samples; /* fresh samples of the Monte Carlo check (0: none) */
  /* zipf: the memoriser (data/memoriser.h; data_seed seeds the fitted source) */
  double beta;          /* the real distribution p_i ∝ i^-beta */
  size_t vocab;         /* V items */
  const char *source;   /* "real", "cut", "narrowed" or "fitted" */
  size_t cut;           /* k (cut): items 1..k kept; 0: V */
  double beta_narrow;   /* beta' (narrowed) */
  size_t fit_samples;   /* T0 (fitted) */
  double real_fraction; /* pi: the fraction of real data mixed in */
  /* gcd: pairs (a, b) in [1, bound]^2 written in base B (data/gcd.h);
   * context must hold the question and the answer */
  size_t base;        /* B >= 2 */
  size_t bound;       /* the largest a and b */
  size_t train_pairs; /* distinct training pairs (drawn with data_seed); 0: a fresh pair at every draw */
  size_t eval_pairs;  /* held-out pairs of the final accuracy and the per-gcd table */
  /* Generations (train/synth.h, docs/sweep.md): the training data of a
   * task that has a corpus maker may be a previous model's corpus
   * (rundir.h's corpora/<id>.bin) mixed with real data. Set by the sweep's
   * runner for the points of generations >= 1, never by a spec. */
  const char *corpus;          /* NULL: real data only */
  double corpus_real_fraction; /* pi: the share of training examples drawn from the real data instead */
} cls_task_spec;

/* gpt width 128, depth 4, heads 4, SP, base 128, init 0.02, wd 0.1, seed 1,
 * batch 32, context 64, synthetic corpus (seed 1, 4 MiB), val 0.1, prompt
 * context / 4; spectra
 * n_train 1024, n_test 256, 4000 pixels, 256 per spectrum, 16 tokens; rf
 * M 1024, alpha 1, ridge 1e-3, noise 0, no test samples; zipf beta 1.5,
 * V 10^6, source real, k = V, beta' 2, T0 10^4, pi 0; gcd base 10, bound
 * 1000, fresh training pairs, 4096 eval pairs. */
void cls_task_spec_default(cls_task_spec *s);

typedef struct cls_train_task cls_train_task;
struct cls_synth_request; /* train/synth.h */
struct cls_synth_result;

/* What a task measures of its model at the end of a run beyond the eval
 * loss (cls_train_task.report): "name=value" lines for the summary, and
 * the rows of points/<id>.outcomes.csv (rundir.h) when the task breaks
 * its held-out set down by outcome (the gcd task: by gcd value). */
typedef struct cls_task_report {
  char lines[1024];
  const char *value_name;             /* the outcome's column: "gcd"; NULL: no table */
  const struct cls_outcome_row *rows; /* owned by the task, valid until its next report or destroy */
  size_t n_rows;
} cls_task_report;

struct cls_train_task {
  cls_context *ctx;
  const cls_param_table *params; /* the model's tensors (for AdamW and checkpoints) */
  cls_param_slabs *slabs;        /* parameters, gradients, AdamW m and v */
  double n_params;               /* N: parameters without embeddings */
  double n_params_embed;         /* embedding (and tied head) parameters */
  double tokens_per_step;        /* D added by one step (B T, or spectra x pixels) */
  double model_flops_per_step;   /* forward + backward counted from the shapes (the model's own count) */
  /* The data's size, for the accounting of D: distinct training examples
   * (training spectra; text: the disjoint windows of context + 1 bytes the
   * training split holds, so that examples seen / this is the passes over
   * the text) and distinct training tokens (spectra x grid pixels; text: the
   * training split's bytes), and the examples one step draws (batch). */
  double train_examples, train_tokens, examples_per_step;
  char describe[256]; /* one line for people: "gpt w128 d4 h4 ... on zipf (3.8 MB)" */
  /* The task's identity for checkpoints, "key=value" lines: a checkpoint
   * is resumed only by a task with the same key (model, data, batch, seed). */
  char key[2048];
  /* A failure that is not the device's (a data error): the message, else
   * empty and cls_last_error(ctx) has it. */
  char error[512];
  /* Adds to slabs->grads the gradients of the mean loss of the training
   * batch of `step` (the loop zeroes them first); its loss in *loss. A
   * task that sets loss_ref also takes loss = NULL: it then leaves the
   * loss at loss_ref without reading it (no host sync inside the step;
   * the loop reads it while the next step runs). */
  cls_status (*train_step)(cls_train_task *t, uint64_t step, float *loss);
  cls_ref loss_ref; /* CLS_NOREF: train_step must be given a loss to read */
  /* The mean loss over the first n_batches batches of the held-out set
   * (the same batches at every call); no gradients, no state changed. */
  cls_status (*evaluate)(cls_train_task *t, size_t n_batches, double *loss);
  /* For the muP coordinate check (coordcheck.h); NULL where the task's
   * registry entry has no coord_layers: the forward pass on the training
   * batch of `step` without gradients, then the RMS of the activations
   * named by coord_layers, in that order, into out. */
  cls_status (*coord_probe)(cls_train_task *t, uint64_t step, float *out);
  /* NULL for most tasks: the task's own final measurements of the model
   * as it is (on held-out data; no state changed), into *out (zeroed by
   * the caller). The loop calls it when a run ends ok. */
  cls_status (*report)(cls_train_task *t, cls_task_report *out);
  void (*destroy)(cls_train_task *t);
  void *impl; /* the task's own state */
};

/* A factory: builds the task on ctx from spec. A bad spec returns
 * CLS_ERR_INVALID_VALUE or CLS_ERR_INVALID_SIZE, bad data CLS_ERR_IO or
 * CLS_ERR_FORMAT, always with a message in err. */
typedef cls_status (*cls_task_factory)(cls_context *ctx, const cls_task_spec *spec, cls_train_task **out,
                                       char *err, size_t err_len);

/* A model as the sweep needs it before any device exists: host-side and
 * cheap, so that a spec is checked, sized and planned without a device. */
typedef struct cls_model_info {
  const char *name; /* "gpt" */
  /* N without embeddings (the N of the scaling laws) and the embedding
   * parameters of the model at width x depth with spec's other settings;
   * the formulas follow the model's parameter table (the tests compare
   * them with the built model's count). */
  void (*count_params)(const cls_task_spec *spec, size_t width, size_t depth, double *n, double *n_embed);
  /* The model's own check of spec's shape (width, depth, heads) and
   * settings: CLS_OK, or the status with a message in err. */
  cls_status (*check)(const cls_task_spec *spec, char *err, size_t err_len);
  /* 0, or the only depth the model has (a sweep spec may leave out
   * `depths`: they default to this). */
  size_t fixed_depth;
  /* The model has no size to grid over (the memoriser): a sweep spec gives
   * no model sizes, and its points have width and depth 0. */
  int shapeless;
  /* The model has attention heads (`heads`, `head_dim` mean something):
   * a sweep may vary the head size only on such a model. */
  int has_heads;
} cls_model_info;

/* --------------------------------------------------------- solved tasks */

/* A task whose model is solved exactly instead of trained (the solvable
 * scaling models of docs/theory.md): no optimizer, no checkpoints; a point
 * is one solve (or one pass of a learner) at T training samples, cheap
 * enough to be redone when it was interrupted. */
typedef struct cls_solve_row {
  uint64_t samples; /* T */
  double loss;      /* the test loss at T (exact: no test sampling) */
  double flops;     /* device FLOPs counted so far */
  double seconds;   /* since the solve began */
} cls_solve_row;

typedef struct cls_solve_output {
  cls_solve_row *rows; /* the caller's array of cap rows; samples ascending, the last at T */
  size_t cap, n_rows;
  double n_params;    /* N of the point (features; items for the memoriser) */
  char key[2048];     /* "name=value" lines: the point's configuration (docs/theory.md) */
  char trailer[1024]; /* more "name=value" lines for the summary (checks, diagnostics) */
  char describe[256]; /* one line for people */
  int stopped;        /* *stop was set: the rows are incomplete, the point is to be redone */
} cls_solve_output;

/* Solves spec at T = samples: fills out (at most out->cap rows: a task
 * whose learning curve comes free reports it at up to cap log-spaced T,
 * the others one row at T). When *stop becomes set (stop may be NULL) it
 * returns CLS_OK early with out->stopped set. A bad spec or a problem too
 * large for the device is CLS_ERR_INVALID_VALUE / _SIZE /
 * CLS_ERR_OUT_OF_MEMORY, a solve that float32 cannot do accurately
 * CLS_ERR_NUMERIC; always with err. */
typedef cls_status (*cls_task_solver)(cls_context *ctx, const cls_task_spec *spec, uint64_t samples,
                                      const volatile sig_atomic_t *stop, cls_solve_output *out, char *err,
                                      size_t err_len);

/* A task: one registry entry. */
typedef struct cls_task_info {
  const char *task;            /* "text" */
  const cls_model_info *model; /* the model it trains */
  const char *summary;         /* for people: "a GPT on bytes" */
  /* The spec fields of cls_task_spec this task reads beyond the shared
   * ones (shape, param, base_width, init_std, weight_decay, seed, batch,
   * data_seed), by member name, NULL-terminated; a sweep spec that gives
   * any other task's field is refused. */
  const char *const *fields;
  /* The task's check of its own settings (batch, data sizes), after the
   * model's: CLS_OK or the status with a message in err. */
  cls_status (*check)(const cls_task_spec *spec, char *err, size_t err_len);
  cls_task_factory make;
  /* The activations the muP coordinate check follows across widths, by
   * name ("embedding", "logits"), NULL-terminated, at most
   * CLS_COORD_MAX_LAYERS; the task's coord_probe measures them. NULL: the
   * task's model has no coordinate check. */
  const char *const *coord_layers;
  /* Solved tasks: the solver (make is NULL), and the device (or host)
   * memory a point at T samples takes, in bytes, for the check before a
   * sweep runs: CLS_OK with *bytes, or a status and a message naming the
   * field when the point cannot be solved at any memory size (its sizes
   * overflow what the solver indexes, a bad value). Trained tasks: NULL. */
  cls_task_solver solve;
  cls_status (*solve_bytes)(const cls_task_spec *spec, uint64_t samples, uint64_t *bytes, char *err,
                            size_t err_len);
  int solve_on_host; /* solve_bytes is host memory (the solver uses no device) */
  /* Tasks that can train on a model's own output (generations,
   * train/synth.h); NULL for the others. synth_check: whether spec's
   * settings allow it (CLS_OK, or a message naming the field), and the
   * tokens one training example takes (to size a corpus from a budget in
   * tokens). synthesize: makes, or checks and reuses, the corpus a
   * teacher's checkpoint writes. */
  cls_status (*synth_check)(const cls_task_spec *spec, size_t *tokens_per_example, char *err, size_t err_len);
  cls_status (*synthesize)(cls_context *ctx, const cls_task_spec *spec, const struct cls_synth_request *req,
                           struct cls_synth_result *res, char *err, size_t err_len);
  /* Tasks whose runs of one shape train side by side as one batched model
   * (train/models.h): the group's operations (task_internal.h); NULL for
   * the others. */
  const struct cls__models_ops *models;
} cls_task_info;

enum { CLS_COORD_MAX_LAYERS = 8 };

/* The registry, walked by index: i < cls_task_count(). The first entry of
 * a task name gives that task's default model. */
size_t cls_task_count(void);
const cls_task_info *cls_task_at(size_t i);

/* The entry of task with model; model NULL or "": the task's default
 * model. NULL when there is none. */
const cls_task_info *cls_task_find(const char *task, const char *model);

/* The model named name (of the first task that trains it), or NULL. */
const cls_model_info *cls_model_find(const char *name);

/* Writes the registered task/model pairs, "text/gpt, spectra/emulator,
 * ...", into buf (for usage and error messages; always NUL-terminated when
 * len > 0) and returns buf. */
const char *cls_task_list(char *buf, size_t len);

/* Checks spec without a device: the pair is registered, the model accepts
 * the shape, the task its settings. CLS_OK or the status with err. */
cls_status cls_task_check(const cls_task_spec *spec, char *err, size_t err_len);

/* Builds the task spec->task with spec->model from the registry; an unknown
 * pair is CLS_ERR_INVALID_VALUE with the pairs there are. */
cls_status cls_task_create(cls_context *ctx, const cls_task_spec *spec, cls_train_task **out, char *err,
                           size_t err_len);
void cls_task_destroy(cls_train_task *t);

#endif
