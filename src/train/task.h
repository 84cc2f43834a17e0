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
 * Adding a task is one file: a factory with the signature
 * cls_task_factory, filling a cls_train_task, and one line in the
 * registry of task.c. task_text.c (a GPT on bytes) is the example.
 */
#ifndef CLSCALE_TRAIN_TASK_H
#define CLSCALE_TRAIN_TASK_H

#include <stddef.h>
#include <stdint.h>

#include "clscale/device.h"
#include "nn/params.h" /* cls_parametrisation */
#include "nn/params.h"

/* Everything a user can say about a task, flat: each task reads the fields
 * it needs and ignores the others. Defaults from cls_task_spec_default. */
typedef struct cls_task_spec {
  const char *task;  /* "text" or "spectra" */
  const char *model; /* "gpt" or "emulator" */
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
  /* spectra */
  size_t n_train;      /* D: training spectra */
  size_t n_test;       /* test spectra (the evaluation set) */
  size_t n_pixels;     /* wavelength grid of the dataset */
  size_t pixels;       /* pixels sampled per spectrum per step */
  size_t label_tokens; /* emulator label tokens */
} cls_task_spec;

/* gpt width 128, depth 4, heads 4, SP, base 128, init 0.02, wd 0.1, seed 1,
 * batch 32, context 64, synthetic corpus (seed 1, 4 MiB), val 0.1; spectra
 * n_train 1024, n_test 256, 4000 pixels, 256 per spectrum, 16 tokens. */
void cls_task_spec_default(cls_task_spec *s);

typedef struct cls_train_task cls_train_task;

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
   * batch of `step` (the loop zeroes them first); its loss in *loss. */
  cls_status (*train_step)(cls_train_task *t, uint64_t step, float *loss);
  /* The mean loss over the first n_batches batches of the held-out set
   * (the same batches at every call); no gradients, no state changed. */
  cls_status (*evaluate)(cls_train_task *t, size_t n_batches, double *loss);
  void (*destroy)(cls_train_task *t);
  void *impl; /* the task's own state */
};

/* A factory: builds the task on ctx from spec. A bad spec returns
 * CLS_ERR_INVALID_VALUE or CLS_ERR_INVALID_SIZE, bad data CLS_ERR_IO or
 * CLS_ERR_FORMAT, always with a message in err. */
typedef cls_status (*cls_task_factory)(cls_context *ctx, const cls_task_spec *spec, cls_train_task **out,
                                       char *err, size_t err_len);

/* Builds the task spec->task with spec->model from the registry; an unknown
 * pair is CLS_ERR_INVALID_VALUE with the pairs there are. */
cls_status cls_task_create(cls_context *ctx, const cls_task_spec *spec, cls_train_task **out, char *err,
                           size_t err_len);
void cls_task_destroy(cls_train_task *t);

/* The registered task/model pairs, "text/gpt, ..." (for usage messages). */
const char *cls_task_list(void);

/* The factories (one per task file). */
cls_status cls__task_text_gpt(cls_context *ctx, const cls_task_spec *spec, cls_train_task **out, char *err,
                              size_t err_len);
cls_status cls__task_spectra_emulator(cls_context *ctx, const cls_task_spec *spec, cls_train_task **out, char *err,
                                      size_t err_len);

#endif
