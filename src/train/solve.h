/*
 * src/train/solve.h — the run of a solved task (task.h, "solved tasks"):
 * what the train loop (loop.h) is for a trained one. One point: the solver
 * at T = the token budget, then points/<id>.csv (its rows: the learning
 * curve, or the one solve) and points/<id>.json (the summary with the
 * point's configuration lines), written as the loop writes them, so sweep,
 * fit and plot read the two kinds of run directory the same way. No
 * checkpoint: a point is cheap, and a stopped one is redone from the start
 * (its summary says "interrupted" until then).
 */
#ifndef CLSCALE_TRAIN_SOLVE_H
#define CLSCALE_TRAIN_SOLVE_H

#include "train/loop.h"
#include "train/task.h"

/* Whether spec's task is solved rather than trained. */
int cls_task_is_solved(const cls_task_spec *spec);

/* Runs the solved task spec on ctx into cfg->out_dir as point cfg->id.
 * cfg: the budget must be in tokens (T, a whole number >= 1); evals is the
 * most rows of a learning curve; summary_extra, device_name and stop are
 * used as the loop uses them; the optimizer and checkpoint settings are
 * ignored. The result's status is ok, failed (the error, in the summary
 * too) or interrupted; steps and total_steps count the rows, tokens is T,
 * flops what the device counted, final_eval_loss the loss at T. Returns
 * CLS_OK when the summary was written (whatever the status); a bad config
 * or a spec that is not a solved task CLS_ERR_INVALID_VALUE with
 * bad_usage set and nothing written. */
cls_status cls_solve_run(cls_context *ctx, const cls_task_spec *spec, const cls_train_config *cfg,
                         cls_train_result *result);

#endif
