/*
 * src/sweep/rundir.h — the sweep's side of the run directory
 * (docs/formats.md): manifest.json, created once and atomically by
 * whichever process comes first and checked by every other; the state of a
 * point from its points/<id>.json; leftovers of a killed process.
 */
#ifndef CLSCALE_SWEEP_RUNDIR_H
#define CLSCALE_SWEEP_RUNDIR_H

#include <stddef.h>

#include "clscale/status.h"
#include "sweep/plan.h"
#include "sweep/spec.h"

typedef struct cls_sweep_manifest_info {
  const char *spec_path; /* as given on the command line */
  const char *device;    /* the device(s) of the process that creates it */
} cls_sweep_manifest_info;

/* Creates DIR/manifest.json for the spec and its plan unless it exists
 * (the file is written in full under a temporary name and hard-linked into
 * place, which fails if another process was first: never two writers of
 * one file), then checks that the manifest there is of the same spec.
 * *created says whether this call wrote it. A manifest of another spec is
 * CLS_ERR_INVALID_VALUE with the first setting that differs; an unreadable
 * or corrupt one CLS_ERR_FORMAT / CLS_ERR_IO; an unwritable folder
 * CLS_ERR_IO. */
cls_status cls_sweep_manifest_ensure(const char *dir, const cls_sweep_spec *s, const cls_sweep_point *points,
                                     size_t n, const cls_sweep_manifest_info *info, int *created, char *err,
                                     size_t err_len);

typedef enum {
  CLS_POINT_NEW = 0,     /* no summary yet */
  CLS_POINT_OK,          /* finished */
  CLS_POINT_DIVERGED,    /* finished: the loss became NaN/Inf (a result, not retried) */
  CLS_POINT_FAILED,      /* an error stopped it: retried on a re-run */
  CLS_POINT_INTERRUPTED, /* stopped by a signal: resumed from its checkpoint */
  CLS_POINT_RUNNING,     /* "running": its process was killed, or it runs now elsewhere */
  CLS_POINT_UNREADABLE,  /* the summary cannot be parsed: run again */
} cls_point_state;

/* The state of DIR/points/<id>.json; for a finished point, its final eval
 * loss in *loss (NaN if unknown) when loss is not NULL. */
cls_point_state cls_sweep_point_state(const char *dir, const char *id, double *loss);
const char *cls_point_state_name(cls_point_state s);
/* Finished points are skipped by a re-run. */
int cls_point_state_done(cls_point_state s);

/* Whether DIR/checkpoints/<id>.ckpt exists. */
int cls_sweep_has_checkpoint(const char *dir, const char *id);

/* Removes the temporary files (NAME.tmp.PID) a killed process left of this
 * point in DIR/points and DIR/checkpoints. Returns how many. */
size_t cls_sweep_remove_leftovers(const char *dir, const char *id);

/* Writes DIR/points/<id>.json with status "failed" for a point that could
 * not start (the task could not be built, the budget is less than a step):
 * the point's configuration, N from the host count, and the error. */
cls_status cls_sweep_write_failed(const char *dir, const cls_sweep_spec *s, const cls_sweep_point *p,
                                  const char *device, const char *error, char *err, size_t err_len);

#endif
