/*
 * src/plot/rundir.h — what the plotter reads from a run directory: the point
 * summaries and loss curves written by `clscale sweep`, fit.json written by
 * `clscale fit`, and the µP coordinate check. docs/formats.md defines them.
 *
 * Loading never prints: problems that do not stop the plots (a diverged run,
 * a NaN loss) are collected as warnings for the caller to show.
 */
#ifndef CLSCALE_PLOT_RUNDIR_H
#define CLSCALE_PLOT_RUNDIR_H

#include <stdbool.h>
#include <stddef.h>

#include "plot/plot.h"

/* ---------------------------------------------------------------- CSV */
typedef struct cls_csv {
  char *text;   /* the file, split in place */
  char **cols;  /* n_cols header names */
  char **cells; /* n_rows × n_cols fields */
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
  double width, depth; /* NaN if not recorded */
  bool usable;         /* status ok and finite N, D, C and eval loss */
  cls_run_curve curve; /* n == 0 when points/<id>.csv is absent */
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

/* -------------------------------------------------------------- fit.json */
typedef struct cls_interval {
  double lo, hi; /* NaN when not given */
} cls_interval;

typedef struct cls_power_fit { /* y = coef · C^exponent */
  bool present;
  double coef, exponent;
  cls_interval exponent_ci;
  size_t band_n; /* bootstrap band of y over a grid of C */
  double *band_c, *band_lo, *band_hi;
} cls_power_fit;

typedef struct cls_isoflop_budget {
  double budget_flops;
  double a, b, c; /* loss = a·x² + b·x + c with x = log10(N) */
  double n_opt, d_opt, loss_opt;
  cls_interval n_opt_ci, d_opt_ci;
} cls_isoflop_budget;

typedef struct cls_param_point {
  char id[128];
  double n_params, tokens, observed, predicted;
} cls_param_point;

typedef struct cls_fit {
  bool has_frontier;
  double fr_E, fr_k, fr_gamma; /* L(C) = E + k·C^(−gamma) */
  cls_interval fr_gamma_ci;
  double fr_c_lo, fr_c_hi; /* compute range fitted, NaN if absent */

  size_t n_budgets;
  cls_isoflop_budget *budgets;
  bool parabola_of_log_loss; /* isoflop.parabola_of = "log10_loss": y = log10 L; else y = L */
  cls_power_fit n_opt_fit, d_opt_fit;
  double ci_level; /* e.g. 0.95; NaN if absent */

  bool has_parametric;
  double E, A, alpha, B, beta; /* L(N,D) = E + A/N^alpha + B/D^beta */
  cls_interval alpha_ci, beta_ci;
  size_t n_param_points;
  cls_param_point *param_points;
} cls_fit;

/* Reads fit.json. A missing file is CLS_ERR_IO (callers treat it as "no fit"
 * and skip the fitted parts); malformed JSON or a section whose required
 * fields are missing or not finite is CLS_ERR_FORMAT naming the field. */
cls_status cls_fit_load(const char *path, cls_fit **out, char *err, size_t err_len);
void cls_fit_destroy(cls_fit *f);

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
