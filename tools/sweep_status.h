/*
 * tools/sweep_status.h — `clscale sweep --status RUN_DIR`: the state of a
 * sweep that may be running in several processes on several machines,
 * from its run directory alone (manifest, point summaries, claims); no
 * device is opened. Every point is done, running (where, its step, the age
 * of its heartbeat), stale (a claim without heartbeat: the next worker
 * takes it over), failed (its error and attempts) or pending; then the
 * totals, the FLOPs done against the plan and an ETA.
 */
#ifndef CLSCALE_TOOLS_SWEEP_STATUS_H
#define CLSCALE_TOOLS_SWEEP_STATUS_H

#include <stddef.h>

#include "options.h"

typedef struct {
  const char *dir;
  int json, watch;
  double interval;      /* --watch's refresh, seconds */
  double claim_timeout; /* a claim older than this is stale (<= 0: 300) */
  size_t max_retries;   /* a point failed more often than this is failed for good */
} cls_sweep_status_args;

/* Prints the status (once, or every interval until SIGINT/SIGTERM with
 * watch). Exit code: 0 every point finished (ok or diverged), 1 none left
 * to do but some failed for good, or the run directory cannot be read,
 * 3 some still to do (pending, running, stale, failed with retries left). */
int cls_sweep_status(const cls_opt_command *cmd, const cls_sweep_status_args *a);

#endif
