/*
 * src/fit/fitfile.h — reading fit.json (docs/formats.md), the file
 * cls_fit_write_json (fit.h) writes. Fit owns both sides of the file; the
 * plotter draws the fitted curves from what this reader returns.
 */
#ifndef CLSCALE_FIT_FITFILE_H
#define CLSCALE_FIT_FITFILE_H

#include <stdbool.h>
#include <stddef.h>

#include "clscale/status.h"
#include "fit/fit.h"

/* fit.json's `version`: 2 added the bootstrap draws (`bootstrap_draws` of
 * each law) and `runs_flops_range`, which `clscale plan` needs; the reader
 * reads 1 and 2. */
#define CLS_FIT_JSON_VERSION 2

typedef struct cls_interval {
  double lo, hi; /* NaN when not given */
} cls_interval;

/* A law's bootstrap draws: n rows of width numbers (NaN where none). */
typedef struct cls_fit_draws {
  size_t n, width;
  double *v;
} cls_fit_draws;

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
  double n_params, tokens, flops, observed, predicted; /* flops NaN when absent */
  double epochs;                                       /* NaN when absent */
} cls_param_point;

/* The data-constrained law (fit.json data_constrained). */
typedef struct cls_constrained_fit {
  bool present;
  char why[256]; /* when not present: skipped.data_constrained, the fit's reason ("" when none) */
  double E, A, alpha, B, beta, rd_star, rn_star; /* rn_star NaN when not fitted */
  cls_interval rd_star_ci;
  double half_value_epochs, max_epochs;
  cls_fit_draws draws; /* rows of {E, A, alpha, B, beta, R*_D, R*_N} */
} cls_constrained_fit;

/* A held-out run of a backtest (fit.json backtest.runs[]). */
typedef struct cls_backtest_run {
  double budget_flops, n_params, tokens, flops, observed, predicted;
  cls_interval pi;
  bool inside;
} cls_backtest_run;

typedef struct cls_backtest_fit {
  bool present;
  int holdout;
  double train_flops_max, ci_level;
  size_t n_runs, n_inside;
  cls_backtest_run *runs;
} cls_backtest_fit;

/* One group of an axis fit (fit.json axis_fits[].groups[]). */
typedef struct cls_axis_fit_group {
  char label[256];
  bool fitted;
  size_t n_x;
  double *x, *loss, *theory; /* theory: NaN where there is none */
  double E, A, gamma;        /* L = E + A·X^(−gamma); NaN when not fitted */
  cls_interval gamma_ci;
  double theory_exponent, theory_gamma, theory_floor, max_rel_dev; /* NaN when none */
} cls_axis_fit_group;

typedef struct cls_axis_fit {
  char axis[64];
  bool floor_zero, from_curves;
  size_t n_groups;
  cls_axis_fit_group *groups;
} cls_axis_fit;

/* The modified law of one real share pi (fit.json collapse.laws[]):
 * L_g(D) = E[k] + A·D^(−gamma) for generation generations[k]. */
typedef struct cls_collapse_fit_law {
  double real_fraction;
  size_t n_gen;
  double *generations, *E;
  double A, gamma;
  cls_interval gamma_ci;
} cls_collapse_fit_law;

typedef struct cls_collapse_fit {
  bool present;     /* the file has a collapse section */
  double largest_d; /* NaN when absent */
  size_t n_laws;    /* the fitted laws only */
  cls_collapse_fit_law *laws;
} cls_collapse_fit;

typedef struct cls_fit {
  int version;
  double runs_c_lo, runs_c_hi; /* runs_flops_range; NaN when absent (version 1) */
  cls_fit_draws fr_draws, iso_draws, par_draws;
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
  double *param_resid; /* log observed − log predicted of the points that have both */
  size_t n_param_resid;

  size_t n_axis_fits; /* 0 when the file has no axis_fits (every file before them) */
  cls_axis_fit *axis_fits;

  cls_collapse_fit collapse;       /* present false when the file has none */
  cls_backtest_fit backtest;       /* present false when the file has none */
  cls_constrained_fit constrained; /* present false when the file has none */
} cls_fit;

/* The laws of a fit.json for cls_fit_optimum_at (pointers into f). A file
 * of version 1 has no bootstrap draws: CLS_ERR_FORMAT saying to rerun
 * clscale fit. */
cls_status cls_fit_laws_of_file(const cls_fit *f, const char *path, cls_fit_laws *laws, char *err, size_t err_len);

/* Reads fit.json. A `version` other than 1 or 2 is CLS_ERR_FORMAT naming
 * both. A missing file is CLS_ERR_IO (callers treat it as "no fit"
 * and skip the fitted parts); malformed JSON or a section whose required
 * fields are missing or not finite is CLS_ERR_FORMAT naming the field. */
cls_status cls_fit_load(const char *path, cls_fit **out, char *err, size_t err_len);
void cls_fit_destroy(cls_fit *f);

#endif
