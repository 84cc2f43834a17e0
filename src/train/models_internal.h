/*
 * src/train/models_internal.h — the steps of K models side by side
 * (models.h), with what each model keeps of its training left to hooks:
 * cls_models_train keeps losses and rows in memory, the group driver
 * (group.c) keeps each model's run directory exactly as a run alone would.
 *
 * Each step is queued for the first `active` models (those whose budget is
 * not spent: the models are ordered by steps, longest first) and the
 * losses are read back one step behind, as in the train loop (loop.c).
 */
#ifndef CLSCALE_TRAIN_MODELS_INTERNAL_H
#define CLSCALE_TRAIN_MODELS_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "task_internal.h"
#include "train/loop.h"

typedef enum { CLS__MODELS_GO_ON = 0, CLS__MODELS_SAVE = 1, CLS__MODELS_STOP = 2 } cls__models_next;

typedef struct cls__models_hooks {
  void *user;
  /* Model k's train loss of step `step` (0-based), read back; in step
   * order for each model. */
  void (*loss)(void *user, size_t k, uint64_t step, float loss);
  /* Whether model k is evaluated after `done` steps. */
  int (*eval_due)(void *user, size_t k, uint64_t done);
  /* Its held-out loss then (every loss up to done read), at the rate of
   * its last update. */
  cls_status (*evaluated)(void *user, size_t k, uint64_t done, double lr, double eval_loss);
  /* Model k's budget ended with step done: every loss read, its last
   * evaluation made. May be NULL. */
  cls_status (*ended)(void *user, size_t k, uint64_t done);
  /* After step done of the first `active` models: go on, save every
   * model (all losses read first), or save and stop. May be NULL. */
  cls__models_next (*next)(void *user, uint64_t done, size_t active);
  /* Save (stop 0) or save and stop (stop 1) the first `active` models
   * after `done` steps, every loss read. */
  cls_status (*save)(void *user, uint64_t done, size_t active, int stop);
} cls__models_hooks;

typedef struct cls__models_plan {
  size_t K;
  const uint64_t *total;  /* steps of each model, non-increasing, >= 1 */
  const uint64_t *warmup; /* its warm-up steps */
  const double *lr;       /* its peak rate */
  uint64_t first;         /* the step every model starts at (a resumed group: its checkpoints' step) */
} cls__models_plan;

/* Trains the group g (of p->K models) from step p->first to p->total[0]
 * with c's schedule shape and AdamW settings; *samples the tokens trained
 * on, all models. The device's status (with err) on failure, or a hook's. */
cls_status cls__models_steps(cls_context *ctx, cls__models *g, const cls_train_config *c,
                             const cls__models_plan *p, const cls__models_hooks *h, double *samples, char *err,
                             size_t err_len);

#endif
