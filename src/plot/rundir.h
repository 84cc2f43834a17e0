/*
 * src/plot/rundir.h — what the plotter reads: the runs of a run directory
 * (rundir/runs.h), fit.json (fit/fitfile.h) and the µP coordinate check
 * coord_check.csv (here). docs/formats.md defines them.
 */
#ifndef CLSCALE_PLOT_RUNDIR_H
#define CLSCALE_PLOT_RUNDIR_H

#include <stdbool.h>
#include <stddef.h>

#include "fit/fitfile.h"
#include "plot/plot.h"
#include "rundir/csv.h"
#include "rundir/runs.h"

/* ------------------------------------------------- µP coordinate check */
typedef struct cls_coord_row {
  char param[16]; /* "sp", "mup" */
  char layer[48];
  double width, step, value;
} cls_coord_row;

typedef struct cls_coord_check {
  cls_coord_row *rows;
  size_t n;
} cls_coord_check;

/* Reads coord_check.csv (columns param, layer, width, step, value). */
cls_status cls_coord_check_load(const char *path, cls_coord_check **out, size_t *n_nonfinite, char *err,
                                size_t err_len);
void cls_coord_check_destroy(cls_coord_check *c);

#endif
