/*
 * src/ops/params_internal.h — the ops layer's columns of the device
 * parameter table, private to src/ops/.
 *
 * Each kernel family keeps its column in its own file
 * (src/ops/params_<family>.c): for each parameter set of the device layer
 * (enum cls__param_set in device/layer.h), one string of NAME=VALUE pairs
 * separated by spaces. cls__ops_params lists them in the order they are
 * merged into the -D string; the device layer adds its own family (peak).
 */
#ifndef CLSCALE_OPS_PARAMS_INTERNAL_H
#define CLSCALE_OPS_PARAMS_INTERNAL_H

#include "device/layer.h"

extern const cls__param_family cls__params_matmul; /* cl/matmul.cl */
extern const cls__param_family cls__params_rows;   /* cl/softmax.cl, cl/norm.cl, cl/loss.cl */
extern const cls__param_family cls__params_train;  /* cl/elementwise.cl, cl/adamw.cl, cl/reduce.cl */

/* The table every context's programs are built with (context.c). */
extern const cls__param_table cls__ops_params;

#endif
