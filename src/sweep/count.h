/*
 * src/sweep/count.h — a model's parameter count from its shape, on the
 * host, before any model exists: the sweep needs N to choose widths for
 * target parameter counts, to order a grid by size and to print a plan
 * (--dry-run) without a device. Each model counts itself (its
 * cls_model_info in the task registry, train/task.h); the tests check the
 * counts against the built models' own (cls_param_count).
 */
#ifndef CLSCALE_SWEEP_COUNT_H
#define CLSCALE_SWEEP_COUNT_H

#include <stddef.h>

#include "train/task.h"

/* N without embeddings (the N of the scaling laws) in *n, and the
 * embedding parameters (the emulator's wavelength and label input layers;
 * the GPT's token and position tables, the head being tied) in *n_embed,
 * of the registered model base->model at width x depth, with base's other
 * settings (context, label tokens). Returns 0 for an unknown model. */
int cls_sweep_count_params(const cls_task_spec *base, size_t width, size_t depth, double *n, double *n_embed);

#endif
