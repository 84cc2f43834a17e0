/*
 * src/sweep/rundir.h — the sweep's side of the run directory
 * (docs/formats.md; the files are rundir/'s): manifest.json of this spec
 * and plan, created once by whichever process comes first and checked by
 * every other; the state of a point (rundir.h's cls_point_state); the
 * leftovers of a killed process; the summary of a point that never
 * started.
 */
#ifndef CLSCALE_SWEEP_RUNDIR_H
#define CLSCALE_SWEEP_RUNDIR_H

#include <stddef.h>

#include "clscale/status.h"
#include "rundir/rundir.h"
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

/* A point's state, its checkpoint and the leftovers of a killed process are
 * the run directory's: cls_rundir_point_state, cls_rundir_has_checkpoint,
 * cls_rundir_remove_leftovers (rundir/rundir.h, included above). */

/* Writes DIR/points/<id>.json with status "failed" for a point that could
 * not start (the task could not be built, the budget is less than a step):
 * the point's configuration, N from the host count, and the error. */
cls_status cls_sweep_write_failed(const char *dir, const cls_sweep_spec *s, const cls_sweep_point *p,
                                  const char *device, const char *error, char *err, size_t err_len);

#endif
