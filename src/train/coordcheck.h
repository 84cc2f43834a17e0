/*
 * src/train/coordcheck.h — the muP coordinate check (Yang et al., Tensor
 * Programs V): models of growing width, trained a few Adam steps at one
 * learning rate, under SP and under muP; the scale of their activations at
 * each step. Under muP the curves are flat in width; under SP they grow,
 * which is why a learning rate tuned on a narrow SP model does not transfer.
 * Writes RUN_DIR/coord_check.csv (docs/formats.md), which `clscale plot`
 * draws as the coord-check figure.
 */
#ifndef CLSCALE_TRAIN_COORDCHECK_H
#define CLSCALE_TRAIN_COORDCHECK_H

#include <stddef.h>
#include <stdint.h>

#include "clscale/device.h"
#include "train/task.h"

typedef struct cls_coord_spec {
  /* A registered model (train/task.h) whose task has a coordinate check
   * (coord_layers): "gpt", "emulator". */
  const char *model;
  size_t widths[16]; /* ascending, each a multiple of heads */
  size_t n_widths;
  size_t base_width; /* muP base (default: the first width) */
  size_t depth, heads;
  size_t steps; /* Adam steps; activations are measured at steps 0..steps */
  float lr;     /* one learning rate for every width, as the check requires */
  uint64_t seed;
} cls_coord_spec;

/* The registry entry of the task that checks model: the first task that
 * trains it and has coord_layers; NULL when there is none. */
const cls_task_info *cls_coord_task(const char *model);

/* Writes the models that have a check, joined by sep ("gpt, emulator" or
 * "gpt|emulator"), into buf (always NUL-terminated when len > 0); returns
 * buf. */
const char *cls_coord_models(const char *sep, char *buf, size_t len);

/* GPT, widths 32, 64, 128, 256, depth 2, 4 heads, 3 steps, lr 1e-2. */
void cls_coord_spec_default(cls_coord_spec *s);

/* Runs the check on ctx and writes csv_path atomically. On a bad spec or a
 * failure, the message goes to err. */
cls_status cls_coord_check(cls_context *ctx, const cls_coord_spec *s, const char *csv_path, char *err,
                           size_t err_len);

#endif
