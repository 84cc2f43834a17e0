/*
 * src/plot/coordcheck.c — reads coord_check.csv, the µP coordinate check
 * (docs/formats.md), through the run directory's CSV reader.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "plot/rundir.h"

void cls_coord_check_destroy(cls_coord_check *c) {
  if (!c) return;
  free(c->rows);
  free(c);
}

cls_status cls_coord_check_load(const char *path, cls_coord_check **out, size_t *n_nonfinite, char *err,
                                size_t err_len) {
  *out = NULL;
  if (n_nonfinite) *n_nonfinite = 0;
  cls_csv *t;
  cls_status st = cls_csv_load(path, &t, err, err_len);
  if (st) return st;
  static const char *cols[5] = {"param", "layer", "width", "step", "value"};
  int idx[5];
  for (int i = 0; i < 5; i++) {
    idx[i] = cls_csv_column(t, cols[i]);
    if (idx[i] < 0) {
      cls_errf(err, err_len, CLS_ERR_FORMAT, "%s has no column '%s' (needs param,layer,width,step,value)", path,
               cols[i]);
      cls_csv_destroy(t);
      return CLS_ERR_FORMAT;
    }
  }
  double *num[3] = {NULL, NULL, NULL};
  for (int i = 0; i < 3 && !st; i++) {
    size_t bad = 0;
    st = cls_csv_numbers(t, path, cols[2 + i], &num[i], &bad, err, err_len);
    if (n_nonfinite) *n_nonfinite += bad;
  }
  cls_coord_check *c = st ? NULL : calloc(1, sizeof *c);
  if (c) c->rows = calloc(t->n_rows ? t->n_rows : 1, sizeof *c->rows);
  if (!st && (!c || !c->rows)) {
    st = CLS_ERR_OUT_OF_MEMORY;
    cls_coord_check_destroy(c);
    c = NULL;
  }
  if (!st && t->n_rows == 0) {
    st = cls_errf(err, err_len, CLS_ERR_FORMAT, "%s has a header but no rows", path);
    cls_coord_check_destroy(c);
    c = NULL;
  }
  for (size_t r = 0; c && r < t->n_rows; r++) {
    cls_coord_row *row = &c->rows[c->n++];
    snprintf(row->param, sizeof row->param, "%s", cls_csv_cell(t, r, idx[0]));
    snprintf(row->layer, sizeof row->layer, "%s", cls_csv_cell(t, r, idx[1]));
    row->width = num[0][r];
    row->step = num[1][r];
    row->value = num[2][r];
  }
  for (int i = 0; i < 3; i++) free(num[i]);
  cls_csv_destroy(t);
  if (st) return st;
  *out = c;
  return CLS_OK;
}
