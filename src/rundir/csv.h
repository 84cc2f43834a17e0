/*
 * src/rundir/csv.h — the reader of a run directory's CSV files (loss
 * curves, coord_check.csv, a table of published runs): a header of column
 * names, then rows of fields. Values are kept as text and parsed on
 * request, so a file can mix numeric and text columns. Columns are found
 * by name, so their order does not matter and extra columns are ignored.
 */
#ifndef CLSCALE_RUNDIR_CSV_H
#define CLSCALE_RUNDIR_CSV_H

#include <stddef.h>

#include "clscale/status.h"

typedef struct cls_csv {
  char *text;    /* the file, split in place */
  char **cols;   /* n_cols header names */
  char **cells;  /* n_rows × n_cols fields */
  size_t *lines; /* n_rows: the file's line number (from 1) of each row, for messages */
  size_t n_cols, n_rows;
} cls_csv;

/* Reads a CSV file with a header line. An empty file, or a row with a field
 * count unlike the header's (a truncated file), is CLS_ERR_FORMAT. */
cls_status cls_csv_load(const char *path, cls_csv **out, char *err, size_t err_len);
void cls_csv_destroy(cls_csv *t);
int cls_csv_column(const cls_csv *t, const char *name); /* -1 if absent */
const char *cls_csv_cell(const cls_csv *t, size_t row, int col);
/* The column as numbers (malloc'd, n_rows long). Empty fields, nan and ±inf
 * become NaN and are counted in *n_nonfinite; any other text is an error. */
cls_status cls_csv_numbers(const cls_csv *t, const char *path, const char *name, double **out, size_t *n_nonfinite,
                           char *err, size_t err_len);

#endif
