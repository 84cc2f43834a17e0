/*
 * tools/sweep_progress.h — what `clscale sweep` shows while it runs: a line
 * per finished point on stdout, and on a terminal a progress line (points
 * done, the running points' steps, the ETA of the sweep) on stderr. It is
 * fed by the runner's callbacks, which come one at a time.
 */
#ifndef CLSCALE_TOOLS_SWEEP_PROGRESS_H
#define CLSCALE_TOOLS_SWEEP_PROGRESS_H

#include <stddef.h>
#include <stdint.h>

#include "device_choice.h" /* CLS_MAX_WORKERS */
#include "options.h"
#include "sweep/runner.h"

typedef struct {
  const cls_opt_command *cmd; /* translates the points' error messages */
  int tty, quiet;
  size_t total, done, failed, diverged, interrupted;
  size_t n_workers;
  const cls_sweep_point *current[CLS_MAX_WORKERS];
  uint64_t step[CLS_MAX_WORKERS], steps[CLS_MAX_WORKERS];
  size_t corpus_done[CLS_MAX_WORKERS], corpus_total[CLS_MAX_WORKERS]; /* a corpus being made (total 0: none) */
  size_t kill_corpus_at; /* CLSCALE_TEST_KILL_CORPUS (0: unset): the test hook, see docs/sweep.md */
  double point_eta[CLS_MAX_WORKERS];
  double last_print;
  int printed;
  /* The points to run, and per point: 0 queued, 1 running, 2 finished;
   * the seconds per budget unit of the ok ones (the ETA of the others). */
  const cls_sweep_point *queue;
  size_t queue_n;
  int *state;
  double *rate;
} cls_sweep_progress;

/* For the points queue[0..queue_n) of a shard of total points, done of
 * them finished before, on n_workers workers. 0, or -1 out of memory. */
int cls_sweep_progress_init(cls_sweep_progress *pr, const cls_opt_command *cmd, int quiet, size_t total,
                            size_t done, size_t n_workers, const cls_sweep_point *queue, size_t queue_n);
void cls_sweep_progress_free(cls_sweep_progress *pr);

/* The runner's callbacks, with pr as their user. */
cls_sweep_callbacks cls_sweep_progress_callbacks(cls_sweep_progress *pr);

/* Removes the progress line (before other output, and at the end). */
void cls_sweep_progress_clear(cls_sweep_progress *pr);

#endif
