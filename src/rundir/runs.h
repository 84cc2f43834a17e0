/*
 * src/rundir/runs.h — a run directory read whole, for the stages that look
 * at all its runs (plot, fit): the manifest's name, every points/<id>.json
 * with its points/<id>.csv, and warnings for what cannot be used.
 *
 * Loading never prints: problems that do not stop the caller (a diverged
 * run, a NaN loss) are collected as warnings for it to show. The warnings
 * are worded for the figures; the fits say "fits" instead.
 */
#ifndef CLSCALE_RUNDIR_RUNS_H
#define CLSCALE_RUNDIR_RUNS_H

#include <stdbool.h>
#include <stddef.h>

#include "clscale/status.h"
#include "rundir/rundir.h"

/* ------------------------------------------------------- run directory */
typedef struct cls_run_curve {
  size_t n;
  double *step, *tokens, *flops, *eval_loss, *train_loss; /* NaN where missing */
} cls_run_curve;

typedef struct cls_run_point {
  char id[128];
  char status[32]; /* "ok", "diverged", "failed", "running"… */
  double n_params; /* N: non-embedding parameters */
  double n_params_embed;
  double tokens; /* D */
  double flops;  /* C, measured */
  double flops_6nd;
  double budget_flops; /* the sweep's nominal budget, NaN if none */
  double final_eval_loss, final_train_loss;
  double width, depth;           /* NaN if not recorded */
  double epochs, train_examples; /* passes over the training set and its size; NaN if not recorded */
  bool usable;                   /* status ok and finite N, D, C and eval loss */
  cls_run_curve curve;           /* n == 0 when points/<id>.csv is absent */
} cls_run_point;

typedef struct cls_rundir {
  char *path;
  char *name; /* manifest "name", or NULL */
  bool has_points_dir;
  cls_run_point *points; /* sorted by id */
  size_t n_points;
  char **warnings;
  size_t n_warnings;
} cls_rundir;

/* Loads RUN_DIR/manifest.json (optional) and every RUN_DIR/points/<id>.json
 * with its points/<id>.csv. A missing directory is CLS_ERR_IO; an empty,
 * truncated or malformed file is CLS_ERR_FORMAT naming the file. A run that
 * diverged or has a non-finite loss is kept with usable = false and a
 * warning. */
cls_status cls_rundir_load(const char *dir, cls_rundir **out, char *err, size_t err_len);
void cls_rundir_destroy(cls_rundir *rd);
/* Appends a printf-style warning (ignored when out of memory). */
void cls_rundir_warn(cls_rundir *rd, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

#endif
