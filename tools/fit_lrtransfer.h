/*
 * tools/fit_lrtransfer.h — `clscale fit` on a learning-rate transfer sweep
 * (src/fit/lrtransfer.h; docs/fit.md, "Learning-rate transfer"): the
 * optimal rate of each curve, the slope against the varied dimension, the
 * verdict in words, fit.json's `lr_transfer`.
 */
#ifndef CLSCALE_TOOLS_FIT_LRTRANSFER_H
#define CLSCALE_TOOLS_FIT_LRTRANSFER_H

#include "fit/fit.h"
#include "options.h"

/* The transfer fit of run_dir into path when forced (--lr-transfer) or
 * when its points are a transfer sweep (3 or more rates); else
 * CLS_EXIT_GO_ON. The exit code: 0, 1 (unreadable input), 2 (the points
 * are no transfer sweep, with why). */
int cls_fit_lrtransfer_mode(const cls_opt_command *cmd, const char *run_dir, const char *path,
                            const cls_fit_options *o, int forced, int quiet);

#endif
