/*
 * src/train/task_internal.h — what the task files share (task_common.c):
 * building the cls_train_task around a task's own state, the model's
 * bookkeeping, the held-out evaluation and the failures of data and
 * device; and the registry entries, one per task file.
 */
#ifndef CLSCALE_TRAIN_TASK_INTERNAL_H
#define CLSCALE_TRAIN_TASK_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "core/rng.h"
#include "nn/gpt.h"
#include "rundir/rundir.h"
#include "train/task.h"

/* The sampler seed of every evaluation ("eval"): the same held-out batches
 * at every evaluation and for every run seed, so that the eval losses of a
 * sweep's runs are measured on the same data. */
#define CLS_TASK_EVAL_SEED 0x6576616cULL

/* The registry entries, one per task file (task_list_internal.h). */
#define CLS_TASK(name) extern const cls_task_info cls__task_##name;
#include "task_list_internal.h"
#undef CLS_TASK

/* A task's own parts: its training step, the loss of one held-out batch
 * (no gradients), its coordinate check's probe (cls_train_task's
 * coord_probe; NULL: none) and the release of its state (impl itself
 * excepted). */
typedef struct cls__task_ops {
  cls_status (*train_step)(cls_train_task *t, uint64_t step, float *loss);
  cls_status (*eval_batch)(cls_train_task *t, uint64_t i, float *loss);
  cls_status (*coord_probe)(cls_train_task *t, uint64_t step, float *out);
  void (*release)(void *impl);
} cls__task_ops;

/* The model's check, then the task's (what every factory does first). */
cls_status cls__task_check_spec(const cls_task_info *info, const cls_task_spec *spec, char *err, size_t err_len);

/* A new task on ctx whose state is impl_size zeroed bytes (t->impl), run by
 * ops; its evaluate averages ops->eval_batch over the batches and its
 * destroy calls ops->release. NULL with a message in err when out of host
 * memory. ops must outlive the task (a static table). */
cls_train_task *cls__task_new(cls_context *ctx, size_t impl_size, const cls__task_ops *ops, char *err,
                              size_t err_len);

/* The first steps of every factory: the model's check and the task's
 * (cls__task_check_spec), then cls__task_new into *t. CLS_OK, else the
 * status with its message in err and *t NULL. */
cls_status cls__task_begin(const cls_task_info *info, cls_context *ctx, const cls_task_spec *spec,
                           size_t impl_size, const cls__task_ops *ops, cls_train_task **t, char *err,
                           size_t err_len);

/* The model's tensors for AdamW and checkpoints, and N / embedding counts. */
void cls__task_set_model(cls_train_task *t, const cls_param_table *pt, cls_param_slabs *slabs);

/* The last step of every factory: the model's tensors (cls__task_set_model),
 * then the task handed to *out; returns CLS_OK. */
cls_status cls__task_done(cls_train_task *t, const cls_param_table *pt, cls_param_slabs *slabs,
                          cls_train_task **out);

/* A failed build step whose message is already in err: the task
 * destroyed; returns s. */
cls_status cls__task_fail(cls_train_task *t, cls_status s);

/* A data-layer failure during a step: its message in t->error (the loop
 * reports it instead of the context's last error); returns s. */
cls_status cls__task_data_fail(cls_train_task *t, cls_status s, const char *what);

/* A failed model build: the context's message into err, the task
 * destroyed; returns s. */
cls_status cls__task_model_fail(cls_train_task *t, cls_status s, char *err, size_t err_len);

/* Out of host memory for the task's buffers: the message (what: "a batch
 * of 8 x 64 tokens") into err, the task destroyed. */
cls_status cls__task_oom(cls_train_task *t, const char *what, char *err, size_t err_len);

/* The coordinate check's four activations out of a pre-norm transformer's
 * activation_rms array of n (depth blocks): the input (index 0), the last
 * block's attention output (depth) and MLP hidden activation (2 depth),
 * and the first after the blocks (2 depth + 1). CLS_ERR_INTERNAL when n
 * is too small for depth. */
cls_status cls__task_coord_pick(const float *rms, size_t n, size_t depth, float out[4]);

/* ------------------------------------------------- tasks that train a GPT
 * (task_text.c, task_gcd.c): one model, its settings from the spec, so
 * that the tasks differ only in their vocabularies. */

/* The GPT at width x depth x heads with spec's context, parametrisation,
 * base width, init and weight decay, over vocab tokens. */
void cls__task_gpt_config(const cls_task_spec *spec, size_t vocab, size_t width, size_t depth, size_t heads,
                          cls_gpt_config *gc);

/* The model's check (cls_model_info.check) of spec's GPT over vocab. */
cls_status cls__task_gpt_check(const cls_task_spec *spec, size_t vocab, char *err, size_t err_len);

/* The model's count (cls_model_info.count_params) of spec's GPT over
 * vocab at width x depth (heads do not matter). */
void cls__task_gpt_count(const cls_task_spec *spec, size_t vocab, size_t width, size_t depth, double *n,
                         double *n_embed);

/* The coordinate check's probe of a GPT task: the forward pass of the
 * B x T batch (inputs, targets) without gradients, then the four
 * activations of cls__gpt_coord_layers (cls__task_coord_pick) into out. */
cls_status cls__task_gpt_probe(cls_gpt *g, const int32_t *inputs, const int32_t *targets, size_t B, size_t T,
                               size_t depth, float *out);

/* The names of those activations (cls_task_info.coord_layers). */
extern const char *const cls__gpt_coord_layers[];

/* ------------------------------------------- training on a model's corpus
 * (generations, train/synth.h): the tasks that can read spec->corpus
 * (gcd, text) mix it with real data the same way. */

/* spec's share of real data beside its corpus, when it has one: CLS_OK,
 * else CLS_ERR_INVALID_VALUE with the message (a task's check). */
cls_status cls__task_corpus_check(const cls_task_spec *spec, char *err, size_t err_len);

/* spec->corpus read into *c and found to hold sequences of length tokens
 * over vocab, else the message, which says the corpus is of another
 * `other` ("base or bound"). */
cls_status cls__task_corpus_open(const cls_task_spec *spec, size_t length, size_t vocab, const char *other,
                                 cls_corpus *c, char *err, size_t err_len);

/* Where training example i comes from: real data when the run's stream
 * mix draws a uniform number below pi at (i, 0) (*row NULL), else corpus
 * sequence i (*row points to it). Every example is seen once: an i past
 * the corpus's end is a data failure (t->error says to make the corpus
 * larger or the budget smaller). */
cls_status cls__task_corpus_pick(cls_train_task *t, const cls_corpus *c, double pi, cls_rng mix, uint64_t i,
                                 const int32_t **row);

/* Appends the corpus's checksum and pi to t->key: a checkpoint continues
 * only on the same corpus and mix. */
void cls__task_key_corpus(cls_train_task *t, const cls_corpus *c, double pi);

/* The gcd task's generations (synth_gcd.c; cls_task_info's synth_check
 * and synthesize). */
cls_status cls__gcd_synth_check(const cls_task_spec *spec, size_t *tokens_per_example, char *err, size_t err_len);
cls_status cls__gcd_synthesize(cls_context *ctx, const cls_task_spec *spec, const struct cls_synth_request *req,
                               struct cls_synth_result *res, char *err, size_t err_len);

/* The text task's generations (synth_text.c) and what they share with
 * task_text.c: the text's settings of spec, and the prompt's length P
 * (spec->prompt_bytes, or its default: a quarter of the context, at
 * least 1). */
cls_status cls__text_synth_check(const cls_task_spec *spec, size_t *tokens_per_example, char *err, size_t err_len);
cls_status cls__text_synthesize(cls_context *ctx, const cls_task_spec *spec, const struct cls_synth_request *req,
                                struct cls_synth_result *res, char *err, size_t err_len);
struct cls_text_config;
struct cls_text;
void cls__text_config(const cls_task_spec *spec, struct cls_text_config *tc);
size_t cls__text_prompt_bytes(const cls_task_spec *spec);
/* FNV-1a 64 of the text's bytes (the data's identity in keys). */
uint64_t cls__text_hash(const struct cls_text *text);

/* "sp" or "mup" (checkpoint keys and descriptions). */
const char *cls__task_param_name(cls_parametrisation p);

/* A task's K models of one shape trained side by side as one batched
 * model (train/models.h; run by models.c and group.c), for the tasks whose
 * info has `models`. Model k draws its batches with seeds[k]. train_step
 * adds the gradients of the first `active` models' batches of `step`
 * (their losses at loss_ref + k, unread); evaluate gives each active
 * model's mean loss over the first n_batches held-out batches, as a
 * task's evaluate does. view: model k of the group as a task that only
 * describes it (train_step and evaluate NULL): the key, description and
 * counts model k trained alone has (alone: that task built from spec, for
 * what the group cannot say for one model), its parameter table, and the
 * group's slabs (model k at k x the table's size). Errors: the status,
 * and the message in err (or on the context). */
typedef struct cls__models_ops {
  cls_status (*create)(cls_context *ctx, const cls_task_spec *spec, size_t K, const uint64_t *seeds, void **impl,
                       char *err, size_t err_len);
  void (*destroy)(void *impl);
  const cls_param_table *(*params)(void *impl);
  cls_param_slabs *(*slabs)(void *impl);
  cls_ref (*loss_ref)(void *impl);
  double (*tokens_per_step)(void *impl); /* one model's */
  cls_status (*train_step)(void *impl, size_t active, uint64_t step, char *err, size_t err_len);
  cls_status (*evaluate)(void *impl, size_t active, size_t n_batches, double *loss, char *err, size_t err_len);
  cls_status (*view)(void *impl, size_t k, const cls_task_spec *spec, const cls_train_task *alone,
                     cls_train_task *view);
} cls__models_ops;

typedef struct cls__models {
  const cls__models_ops *ops;
  void *impl;
  size_t K;
} cls__models;

/* The group of spec's task (task.c): CLS_ERR_INVALID_VALUE with a message
 * when the task's models do not train side by side. */
cls_status cls__models_create(cls_context *ctx, const cls_task_spec *spec, size_t K, const uint64_t *seeds,
                              cls__models **out, char *err, size_t err_len);
void cls__models_destroy(cls__models *g);

/* What the GPT tasks' groups share (task_common.c). A task's group struct
 * starts with a cls__gpt_group (so that the ops' impl is one), which the
 * task fills: its model, the one-model batch buffers its fill functions
 * write (in, tg), and a shell task around its state whose error the
 * batch functions set. The functions below take it as that impl. */
typedef struct cls__gpt_group {
  cls_gpt *gpt; /* the K models (owned by the task's state) */
  size_t K, B, T;
  uint64_t *seeds;
  int32_t *inputs, *targets; /* K batches of B x T, one model after the other */
  float *loss;               /* K */
  cls_train_task *shell;     /* the batch functions' errors */
  const int32_t *in, *tg;    /* one model's batch, as the fill functions leave it */
  /* Model k's training batch of `step`, and held-out batch i (k = 0). */
  cls_status (*fill_train)(void *impl, size_t k, uint64_t step);
  cls_status (*fill_eval)(void *impl, size_t k, uint64_t i);
} cls__gpt_group;

cls_status cls__gpt_group_alloc(cls__gpt_group *q, size_t K, size_t B, size_t T, const uint64_t *seeds, char *err,
                                size_t err_len);
void cls__gpt_group_free(cls__gpt_group *q);
const cls_param_table *cls__gpt_group_params(void *impl);
cls_param_slabs *cls__gpt_group_slabs(void *impl);
cls_ref cls__gpt_group_loss_ref(void *impl);
double cls__gpt_group_tokens_per_step(void *impl);
/* The ops' train_step and evaluate (cls__models_ops): each active model's
 * batch through fill_train, then one forward and backward pass; each
 * active model's mean loss over the held-out batches 0 .. n_batches - 1,
 * as a task's evaluate computes it alone. */
cls_status cls__gpt_group_train_step(void *impl, size_t active, uint64_t step, char *err, size_t err_len);
cls_status cls__gpt_group_evaluate(void *impl, size_t active, size_t n_batches, double *loss, char *err,
                                   size_t err_len);

/* The tasks' groups: the emulator on spectra (task_emulator.c), the GPT
 * on text and on gcd (task_text.c, task_gcd.c). */
extern const cls__models_ops cls__spectra_models, cls__text_models, cls__gcd_models;

#endif
