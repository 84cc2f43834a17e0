/*
 * src/sweep/count.h — a model's parameter count from its shape, on the
 * host, before any model exists: the sweep needs N to choose widths for
 * target parameter counts, to order a grid by size and to print a plan
 * (--dry-run) without a device. The formulas follow the parameter tables
 * of nn/emulator.c and nn/gpt.c; test_sweep_count checks them against the
 * models' own counts (cls_param_count), so a change there shows up.
 */
#ifndef CLSCALE_SWEEP_COUNT_H
#define CLSCALE_SWEEP_COUNT_H

#include <stddef.h>

#include "train/task.h"

/* N without embeddings (the N of the scaling laws) in *n, and the
 * embedding parameters (the emulator's wavelength and label input layers;
 * the GPT's token and position tables, the head being tied) in *n_embed,
 * of the model base->model at width x depth, with base's other settings
 * (context, label tokens). Returns 0 for an unknown model. */
int cls_sweep_count_params(const cls_task_spec *base, size_t width, size_t depth, double *n, double *n_embed);

#endif
