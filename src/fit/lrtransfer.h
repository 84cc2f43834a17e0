/*
 * src/fit/lrtransfer.h — learning-rate transfer (issue 17; docs/fit.md,
 * "Learning-rate transfer"): a sweep that trains a grid of peak learning
 * rates x one varied dimension (width, depth, label_tokens or head_dim) at
 * one budget, under one or more parametrisations (sp, mup, mup-depth).
 *
 * For each parametrisation and each value of the varied dimension (a
 * curve: final loss against the rate), the optimal rate: the vertex of a
 * least-squares parabola in log2(lr) through the points around the lowest
 * loss, with a bootstrap interval (the seeds of each rate resampled, or
 * with one seed the parabola's residuals). A curve whose lowest loss lies
 * at the edge of the grid has no optimum: it is reported as such, with the
 * side to extend the grid to. Then per parametrisation the slope of
 * log(optimal rate) against log(value), with its interval from the same
 * resamples, and in words whether the rate transfers: whether the fitted
 * optimum moves by less than one step of the rate grid over the range of
 * the dimension (muP: a slope near 0 across width; SP: clearly negative).
 *
 * Diverged runs are kept: a rate at which every seed diverged is a point
 * with no loss, above the optimum (the figure draws it at the top edge).
 * Nothing here prints or exits.
 */
#ifndef CLSCALE_FIT_LRTRANSFER_H
#define CLSCALE_FIT_LRTRANSFER_H

#include <stdbool.h>
#include <stddef.h>

#include "fit/fit.h"

/* ------------------------------------------------------------------ input */

/* One point of the sweep, finished ok or diverged. */
typedef struct cls_lrt_run {
  char id[128];
  char param[16]; /* "sp", "mup", "mup-depth" ("sp" when the summary has none) */
  double lr, seed;
  double width, depth, label_tokens, head_dim; /* NaN where the model has none */
  double budget;                               /* budget_steps, _tokens or _flops, whichever the point has */
  const char *budget_unit;                     /* "steps", "tokens", "FLOPs" (static) */
  double loss;                                 /* final_eval_loss; NaN when diverged */
  bool diverged;
} cls_lrt_run;

typedef struct cls_lrt_input {
  cls_lrt_run *runs;
  size_t n_runs;
  char **warnings; /* points left out and why */
  size_t n_warnings;
} cls_lrt_input;

/* Every points/<id>.json of RUN_DIR that finished ok (with a finite loss)
 * or diverged; the others are left out with a warning. A missing directory
 * is CLS_ERR_IO, a malformed summary CLS_ERR_FORMAT, a directory without
 * such points or a point without a positive `lr` CLS_ERR_INVALID_VALUE. */
cls_status cls_fit_lrt_input_from_rundir(const char *dir, cls_lrt_input **out, char *err, size_t err_len);
void cls_fit_lrt_input_destroy(cls_lrt_input *in);

/* The distinct rates of the points. */
size_t cls_fit_lrt_n_rates(const cls_lrt_input *in);
/* Whether the points are a transfer sweep: at least 3 distinct rates, and
 * one budget. */
bool cls_fit_lrt_applies(const cls_lrt_input *in);

/* ---------------------------------------------------------- the optimum */

typedef struct cls_lr_optimum {
  bool ok;        /* an interior minimum: lr_opt is the optimum */
  int edge;       /* -1: the lowest loss is at the smallest rate; +1: at the largest finished one; 0 */
  size_t i_min;   /* the rate with the lowest loss */
  size_t lo, hi;  /* the points of the parabola: rates lo .. hi */
  double a, b, c; /* loss = a x^2 + b x + c, x = log2(lr) */
  double lr_opt, loss_opt;
  char why[200]; /* why there is no optimum: the side to extend the grid to */
} cls_lr_optimum;

/* The optimum of loss against lr (n rates, ascending, positive; loss NaN
 * where the rate diverged or has no run). The lowest finite loss at the
 * first rate, or at the last finished rate, is an edge (out->ok false, the
 * message says which way to extend the grid, or where to refine it when
 * the next rate diverged); else the vertex of the least-squares parabola in
 * log2(lr) through up to two finished rates on each side of it (the three
 * around it when the wider one does not open upwards or puts its vertex
 * outside its points). -1 (and why) with fewer than 3 finished rates. */
int cls_fit_lr_optimum(const double *lr, const double *loss, size_t n, cls_lr_optimum *out);

/* --------------------------------------------------------------- results */

typedef struct cls_lrt_curve {
  double value;  /* of the varied dimension */
  size_t n;      /* rates */
  double *lr;    /* ascending */
  double *loss;  /* mean over the seeds that finished; NaN when none did */
  size_t *n_ok;  /* seeds that finished */
  size_t *n_div; /* seeds that diverged */
  cls_lr_optimum opt;
  cls_ci lr_opt_ci; /* NaN: no interval (one seed and no residuals to resample) */
  int boot_ok;
  double *boot; /* n_boot resampled optimal rates (NaN where a resample had none) */
} cls_lrt_curve;

typedef struct cls_lrt_family {
  char param[16];
  cls_lrt_curve *curves; /* by value ascending */
  size_t n_curves;
  size_t n_optima;    /* curves with an interior optimum */
  bool slope_ok;      /* at least two curves with an optimum */
  char why[200];      /* why no slope */
  double slope, icpt; /* log(lr_opt) = icpt + slope log(value) */
  cls_ci slope_ci;
  double moved;      /* the fitted optimum's ratio over the range of values: (v_max / v_min)^|slope| */
  bool transfers;    /* moved < grid_step */
  char verdict[400]; /* the finding in words */
} cls_lrt_family;

typedef struct cls_fit_lrtransfer {
  char dim[16];  /* the varied dimension: "width", "depth", "label_tokens", "head_dim" */
  double budget; /* the one budget */
  char budget_unit[8];
  double grid_step; /* the median ratio of neighbouring rates */
  size_t n_runs, n_diverged;
  cls_lrt_family *families; /* by parametrisation: sp, mup, mup-depth order */
  size_t n_families;
  int n_boot;
  char summary[1024];
} cls_fit_lrtransfer;

/* The fits above. CLS_ERR_INVALID_VALUE with a message when no dimension
 * varies, when more than one does (one at a time: split the sweep), or
 * when the points have several budgets. Uses o->bootstrap, seed, ci_level. */
cls_status cls_fit_lrtransfer_run(const cls_lrt_input *in, const cls_fit_options *o, cls_fit_lrtransfer *out,
                                  char *err, size_t err_len);
void cls_fit_lrtransfer_free(cls_fit_lrtransfer *t);

/* fit.json with the section `lr_transfer` (docs/formats.md), written
 * atomically (fitjson.c, the one writer of fit.json). */
cls_status cls_fit_write_lrtransfer_json(const cls_fit_lrtransfer *t, const cls_fit_options *o, const char *path,
                                         char *err, size_t err_len);

#endif
