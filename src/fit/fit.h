/*
 * src/fit/fit.h — scaling-law fits of a run directory (or of a CSV of
 * published runs): the compute frontier L(C) = E + k·C^(−γ), IsoFLOP profiles
 * (Chinchilla approach 2) and the parametric law L(N,D) = E + A/N^α + B/D^β
 * (approach 3), each with bootstrap intervals, and the compute-optimal
 * allocation derived from them. docs/fit.md explains the methods and
 * docs/formats.md the fit.json they produce.
 *
 * Nothing here prints or exits: errors come back as a cls_status with a
 * message in err, and problems that leave a fit out (too few points, a budget
 * with no interior minimum) are written into the result's `why` fields.
 * Resampling uses the project's Philox RNG, so a seed gives the same
 * intervals on every machine.
 */
#ifndef CLSCALE_FIT_FIT_H
#define CLSCALE_FIT_FIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "clscale/status.h"

/* ------------------------------------------------------------------ input */

/* One finished run: N, D, C and its final loss. */
typedef struct cls_fit_point {
  char id[128];
  double n;               /* N: non-embedding parameters */
  double d;               /* D: training tokens */
  double c;               /* C: FLOPs, measured (6ND when nothing else is known) */
  double budget;          /* nominal compute budget, NaN when not recorded */
  double loss;            /* final loss */
  double epochs;          /* passes over the unique training data (D / unique D); NaN when not recorded */
  size_t curve0, curve_n; /* its loss-curve rows in cls_fit_input.curve_* */
} cls_fit_point;

typedef struct cls_fit_input {
  cls_fit_point *pts;
  size_t n_pts;
  /* All usable (flops, loss) rows of all runs' curves, run by run; a run
   * without a curve contributes its final point. */
  double *curve_c, *curve_l;
  size_t n_curve;
  char **warnings; /* points left out and why */
  size_t n_warnings;
  bool train_loss; /* the loss is the train loss, not the eval loss */
} cls_fit_input;

/* From RUN_DIR/points/ (docs/formats.md). Runs whose status is not ok or whose
 * N, D, C or loss is missing or not positive-finite are left out with a
 * warning; a missing directory is CLS_ERR_IO, a malformed file
 * CLS_ERR_FORMAT, a directory without usable runs CLS_ERR_INVALID_VALUE. */
cls_status cls_fit_input_from_rundir(const char *dir, bool train_loss, cls_fit_input **out, char *err,
                                     size_t err_len);
/* From a CSV with a header naming the columns (docs/fit.md): N (or n_params),
 * D (or tokens), C (or flops), loss, optional budget and id. Any row with a
 * non-numeric, non-finite or non-positive value is an error naming its line. */
cls_status cls_fit_input_from_csv(const char *path, cls_fit_input **out, char *err, size_t err_len);
/* From arrays (tests); budget may be NULL. Epochs are NaN: set pts[i].epochs
 * for a data-constrained fit. */
cls_status cls_fit_input_from_arrays(size_t n, const double *N, const double *D, const double *C,
                                     const double *budget, const double *loss, cls_fit_input **out);
void cls_fit_input_destroy(cls_fit_input *in);
void cls_fit_input_warn(cls_fit_input *in, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* ---------------------------------------------------------------- options */

typedef struct cls_fit_options {
  double huber_delta;     /* Huber threshold on log-loss residuals (1e-3) */
  int bootstrap;          /* resamples; 0 = no intervals (200) */
  uint64_t seed;          /* of the resampling (0) */
  int starts;             /* parametric starting points taken from the grid; 0 = the whole grid */
  double ci_level;        /* of the intervals (0.95) */
  double budget_tol;      /* relative FLOPs tolerance when grouping runs without a nominal budget (0.1) */
  double ref_flops;       /* reference budget of the allocation; NaN = the data's largest */
  double frontier_skip;   /* leave out each run's curve rows below this fraction of its final C (0.1) */
  bool isoflop_linear;    /* IsoFLOP parabolas of the loss, not of log10 loss (false) */
  bool isoflop_residuals; /* IsoFLOP bootstrap: resample each budget's residuals about its parabola, not its
                             runs (false) */
  double fix_E;           /* > 0: the parametric (and data-constrained) law's E pinned to this; NaN: fitted */
} cls_fit_options;

void cls_fit_options_default(cls_fit_options *o);

/* ---------------------------------------------------------------- results */

typedef struct cls_ci {
  double lo, hi; /* NaN when there is no interval */
} cls_ci;

/* y = coef · C^exponent with a pointwise bootstrap band over a grid of C. */
typedef struct cls_fit_power {
  bool ok;
  double coef, exponent;
  cls_ci exponent_ci, coef_ci;
  size_t band_n;
  double band_c[24], band_lo[24], band_hi[24];
} cls_fit_power;

typedef struct cls_fit_frontier {
  bool ok;
  char why[256]; /* why it was not fitted */
  double E, k, gamma;
  cls_ci E_ci, k_ci, gamma_ci;
  double objective;
  size_t n_runs; /* runs whose curves were enveloped */
  size_t n;      /* envelope points */
  double *c, *l; /* the envelope, C ascending */
  int boot_ok;   /* resamples that gave a fit */
  int n_boot;
  double *boot;     /* n_boot × {E, k, gamma}; NaN where a resample gave no fit */
  size_t boot_rows; /* the bootstrap's work: runs drawn and envelope rows looked at, all resamples */
} cls_fit_frontier;

typedef struct cls_fit_budget {
  double budget; /* nominal (or grouped) C */
  bool nominal;  /* from the points' budget_flops */
  size_t n_points;
  size_t n_sizes;    /* distinct N among them */
  double n_lo, n_hi; /* sampled N range */
  bool used;         /* has an interior minimum */
  char why[200];     /* why not */
  double a, b, c;    /* log10 loss (or loss, isoflop_linear) = a x² + b x + c, x = log10 N */
  double n_opt, d_opt, loss_opt;
  cls_ci n_opt_ci, d_opt_ci;
  double d_slope, d_icpt; /* log10 D = d_icpt + d_slope·log10 N over the budget's runs */
} cls_fit_budget;

typedef struct cls_fit_isoflop {
  bool ok; /* at least two budgets used */
  char why[256];
  cls_fit_budget *budgets; /* C ascending */
  size_t n_budgets;
  size_t *point_budget; /* per input point, the index of its budget */
  size_t n_used;
  cls_fit_power n_fit, d_fit;
  int boot_ok;
  int n_boot;
  double *boot_a, *boot_b; /* per resample exponents of N_opt and D_opt; NaN where none */
  double *boot_law;        /* per resample {coef N, exponent N, coef D, exponent D} (the plan evaluates them) */
  size_t boot_rows;        /* the bootstrap's work: runs drawn, all budgets and resamples */
} cls_fit_isoflop;

typedef struct cls_fit_parametric {
  bool ok;
  char why[256];
  double E, A, alpha, B, beta;
  double a, b; /* N_opt ∝ C^a, a = β/(α+β); D_opt ∝ C^b, b = α/(α+β) */
  cls_ci E_ci, A_ci, alpha_ci, B_ci, beta_ci, a_ci, b_ci;
  double objective;
  int n_starts;
  int n_converged; /* starts whose L-BFGS run ended without an error */
  size_t n;
  double *predicted; /* per input point */
  double *residuals; /* per input point, log observed − log predicted */
  int boot_ok;
  int n_boot;
  double *boot; /* n_boot × {E, A, alpha, B, beta}; NaN where a resample gave no fit */
} cls_fit_parametric;

/* The data-constrained law of Muennighoff et al. (2023), "Scaling
 * Data-Constrained Language Models": L = E + A/N'^α + B/D'^β with the
 * effective data D' = U_D + U_D·R*_D·(1 − exp(−R_D/R*_D)) of U_D unique
 * tokens seen 1 + R_D times (R_D = epochs − 1), and the effective
 * parameters N' = U_N + U_N·R*_N·(1 − exp(−R_N/R*_N)) where U_N = min(N,
 * the compute-optimal N for U_D under the plain law) and R_N = N/U_N − 1. */
typedef struct cls_fit_constrained {
  bool ok;
  char why[256];
  double E, A, alpha, B, beta;
  double rd_star, rn_star; /* R*_D, R*_N; rn_star NaN when no run has excess parameters */
  cls_ci E_ci, alpha_ci, beta_ci, rd_star_ci, rn_star_ci;
  bool has_rn;
  size_t n_repeated, n_excess; /* runs with epochs > 1; with N above U_N */
  double max_epochs;
  double half_value_epochs; /* 1 + R*_D·ln 2: from this pass on a repeated token is worth less than half a fresh
                               one */
  cls_ci half_value_epochs_ci;
  double objective, plain_objective; /* the same Huber objective for both laws on these runs */
  int boot_ok, n_boot;
  double *boot; /* n_boot × {E, A, alpha, B, beta, R*_D, R*_N} */
} cls_fit_constrained;

/* "10× compute → model ×…, data ×…, loss ÷…" at a reference budget. */
typedef struct cls_fit_allocation {
  bool ok;
  char exponents_from[16]; /* "isoflop" or "parametric" */
  char loss_from[16];      /* "frontier" or "parametric" */
  double ref_flops;
  double model_factor, data_factor, loss_factor; /* 10^a, 10^b, L(C)/L(10C) */
  cls_ci model_factor_ci, data_factor_ci, loss_factor_ci;
} cls_fit_allocation;

typedef struct cls_fit_result {
  cls_fit_options opt;
  cls_fit_frontier frontier;
  cls_fit_isoflop isoflop;
  cls_fit_parametric parametric;
  cls_fit_constrained constrained;
  cls_fit_allocation allocation;
} cls_fit_result;

/* Each fit needs: frontier ≥ 2 runs and ≥ 3 envelope points; IsoFLOP ≥ 3
 * distinct N in a budget for its parabola, ≥ 2 budgets with an interior
 * minimum for the power laws; parametric ≥ 5 runs with ≥ 2 distinct N and D.
 * A fit that cannot be done is left with ok = false and its reason in why. */
cls_status cls_fit_frontier_run(const cls_fit_input *in, const cls_fit_options *o, cls_fit_frontier *out);
cls_status cls_fit_isoflop_run(const cls_fit_input *in, const cls_fit_options *o, cls_fit_isoflop *out);
cls_status cls_fit_parametric_run(const cls_fit_input *in, const cls_fit_options *o, cls_fit_parametric *out);
void cls_fit_allocation_run(const cls_fit_result *r, const cls_fit_input *in, cls_fit_allocation *out);
/* The data-constrained law, from the plain parametric fit par (its
 * optimum is a start, and it gives U_N). Needs the points' epochs, at least
 * 2 runs that repeat their data (epochs > 1) and the plain fit; else ok =
 * false with the reason. */
cls_status cls_fit_constrained_run(const cls_fit_input *in, const cls_fit_options *o,
                                   const cls_fit_parametric *par, cls_fit_constrained *out);
/* All of the above. */
cls_status cls_fit_all(const cls_fit_input *in, const cls_fit_options *o, cls_fit_result *out);
void cls_fit_result_free(cls_fit_result *r);

/* fit.json (docs/formats.md), written to a temporary file and renamed. */
cls_status cls_fit_write_json(const cls_fit_result *r, const cls_fit_input *in, const char *path, char *err,
                              size_t err_len);
struct cls_fit_backtest;
/* The same with a backtest section (bt may be NULL): r is then the fit of
 * the training runs, in its input. */
cls_status cls_fit_write_json_backtest(const cls_fit_result *r, const cls_fit_input *in,
                                       const struct cls_fit_backtest *bt, const char *path, char *err,
                                       size_t err_len);

/* ------------------------------------------------------------ planning */

/* The fitted laws a plan is computed from, whether they come from a fit just
 * made (cls_fit_laws_of_result) or from fit.json (fitfile.h,
 * cls_fit_laws_of_file). Pointers point into the owner; each *_draws is
 * n_*_draws rows of the law's parameters, one per bootstrap resample (NaN
 * rows where a resample gave no fit). */
typedef struct cls_fit_laws {
  double ci_level;
  bool has_par;
  double par[5]; /* E, A, alpha, B, beta */
  const double *par_draws;
  size_t n_par_draws;
  const double *par_resid; /* the fit's log-loss residuals, for prediction intervals */
  size_t n_par_resid;
  bool has_iso;
  double iso[4];           /* N_opt = iso[0]·C^iso[1], D_opt = iso[2]·C^iso[3] */
  const double *iso_draws; /* rows of {coef N, exponent N, coef D, exponent D} */
  size_t n_iso_draws;
  bool has_fr;
  double fr[3]; /* E, k, gamma */
  const double *fr_draws;
  size_t n_fr_draws;
  bool has_dc;            /* the data-constrained law (its U_N comes from par, the plain law) */
  double dc[7];           /* E, A, alpha, B, beta, R*_D, R*_N (NaN: R*_N not fitted, N' = N) */
  const double *dc_draws; /* rows of those 7 */
  size_t n_dc_draws;
} cls_fit_laws;

/* What a plan is asked for: a budget, a loss to reach, or a model size. */
typedef enum { CLS_PLAN_FLOPS = 0, CLS_PLAN_LOSS = 1, CLS_PLAN_PARAMS = 2 } cls_plan_target;

/* One law's compute-optimal point: the budget C, model size N, data D and
 * loss L it predicts (NaN for what the law does not predict: the IsoFLOP
 * power laws give no loss, the frontier no N or D), each with its
 * percentile interval over the resamples (the law of each resample solved
 * for the same target). */
typedef struct cls_fit_optimum {
  char law[16]; /* "isoflop", "parametric", "frontier" */
  bool ok;
  char why[160]; /* why not, when !ok */
  double c, n, d, loss;
  cls_ci c_ci, n_ci, d_ci, loss_ci;
  /* The interval a run's final loss falls in (the parametric law only): each
   * resample's loss times the exponential of a residual of the fit drawn
   * with replacement (inflated by sqrt(n/(n−5)) for the fitted parameters).
   * loss_ci is the law's uncertainty, loss_pi adds the runs' scatter. */
  cls_ci loss_pi;
} cls_fit_optimum;

enum { CLS_FIT_N_LAWS = 3 };

/* Fills laws from r (pointers into r: keep r alive). */
void cls_fit_laws_of_result(const cls_fit_result *r, cls_fit_laws *laws);
/* Each fitted law's optimum for the target (out[0] isoflop, out[1]
 * parametric, out[2] frontier; a law that was not fitted, or that cannot
 * answer the target, has ok = false and its reason). With C = 6ND:
 * parametric N* = G·(C/6)^a, G = (αA/(βB))^(1/(α+β)), D* = C/(6N*);
 * IsoFLOP N* = coef·C^a, D* = coef·C^b; frontier L = E + k·C^(−γ). A loss
 * target is reached by the C where the law's optimal loss equals it (none at
 * or below the law's floor E), a model size by the C where N*(C) equals it.
 * CLS_ERR_INVALID_VALUE (err says why) when value is not positive-finite or
 * no law is fitted. */
cls_status cls_fit_optimum_at(const cls_fit_laws *laws, cls_plan_target target, double value,
                              cls_fit_optimum out[CLS_FIT_N_LAWS], char *err, size_t err_len);

/* The data-constrained law's loss (fit.h, cls_fit_constrained) of a run of
 * n parameters trained on d tokens drawn from u unique ones: epochs =
 * max(d/u, 1), U_D = d/epochs, R_D = epochs − 1, U_N = min(n, the plain
 * law's N_opt for U_D), R_N = n/U_N − 1; dc = {E, A, α, B, β, R*_D, R*_N}
 * (R*_N NaN: N' = n), plain = {E, A, α, B, β} the plain law fitted to the
 * same runs (it gives U_N, as in the fit; unused when R*_N is NaN). */
double cls_fit_constrained_loss(const double dc[7], const double plain[5], double n, double d, double u);

/* The run that minimises the data-constrained law's loss at a budget when
 * the unique data is fixed: N, D = C/(6N), epochs = D/U (below 1: the run
 * sees part of its data once) and the loss, each with its interval over the
 * law's bootstrap resamples (each resample's law solved the same way). */
typedef struct cls_fit_dc_plan {
  bool ok;
  char why[160]; /* why not, when !ok */
  double c, unique;
  double n, d, epochs, loss;
  cls_ci n_ci, d_ci, epochs_ci, loss_ci;
  /* The N (to the grid's 2%) over which the loss stays within 1e-9 of the
   * optimum: about n where the optimum is sharp; a wide span deep in the
   * repeated regime, where D' and N' have both saturated and every model
   * of that span is as good (n is then one of them). */
  double n_flat_lo, n_flat_hi;
} cls_fit_dc_plan;

/* Minimises cls_fit_constrained_loss(laws->dc, laws->par, N, C/(6N),
 * unique) over N: a grid of log N from 10^-8 to 10^8 times the law's
 * unconstrained N_opt(C) (step 0.02 in ln N) brackets the best grid point,
 * golden-section search refines it to 1e-12 in ln N. A minimum on the
 * grid's edge is no answer (ok false, why says so). CLS_ERR_INVALID_VALUE
 * (err says what to give) when c or unique is not a positive finite number,
 * the data-constrained law is not fitted, or R*_N is fitted without the
 * plain law it needs. */
cls_status cls_fit_constrained_plan(const cls_fit_laws *laws, double c, double unique, cls_fit_dc_plan *out,
                                    char *err, size_t err_len);

/* ------------------------------------------------------------ backtest */

/* One held-out run: what the laws fitted without it predict. */
typedef struct cls_fit_heldout {
  char id[128];
  double n, d, c, budget, observed;
  double predicted; /* parametric L(N, D) of the training fit */
  cls_ci ci;        /* confidence interval of the law's value (the resampled laws) */
  cls_ci pi;        /* prediction interval of a run's loss (the laws plus a resampled residual) */
  double rel_error; /* predicted / observed − 1 */
  bool inside;      /* observed within pi */
} cls_fit_heldout;

/* One held-out budget: its measured IsoFLOP minimum against each law's
 * N_opt(C) extrapolated from the training budgets. */
typedef struct cls_fit_heldout_budget {
  double budget;
  double n_opt; /* the budget's own parabola's minimum; NaN when it has none */
  cls_fit_optimum opt[CLS_FIT_N_LAWS];
} cls_fit_heldout_budget;

typedef struct cls_fit_backtest {
  int holdout; /* K */
  size_t n_budgets, n_train;
  double train_c_hi; /* largest training budget */
  cls_fit_heldout *runs;
  size_t n_runs;
  cls_fit_heldout_budget *budgets; /* the K held out, C ascending */
  size_t n_held_budgets;
  size_t n_inside;
  double mean_abs_rel_error, max_abs_rel_error;
  double residual_sd; /* of the training fit's log-loss residuals (inflated for the 5 parameters) */
} cls_fit_backtest;

/* Fits all but the runs of the K largest budgets (grouped as the IsoFLOP
 * fit groups them) into *train_fit (its input in *train_in; both the
 * caller's to free: cls_fit_result_free, cls_fit_input_destroy), and
 * predicts the held-out runs: each run's loss from the parametric law with
 * a confidence interval (the bootstrap's laws at the run's N and D) and a
 * prediction interval (each bootstrap law times the exponential of a
 * training residual drawn with replacement, inflated by sqrt(n/(n−5))),
 * and each held-out budget's N_opt from every law. CLS_ERR_INVALID_VALUE
 * (err names the counts) when K < 1 or the hold-out leaves fewer than 2
 * budgets, or when the training runs give no parametric fit. */
cls_status cls_fit_backtest_run(const cls_fit_input *in, const cls_fit_options *o, int k,
                                cls_fit_result *train_fit, cls_fit_input **train_in, cls_fit_backtest *out,
                                char *err, size_t err_len);
void cls_fit_backtest_free(cls_fit_backtest *b);

/* Bounds on the bootstraps' cost in the runs (issue 14; the tests check
 * them through boot_rows): an IsoFLOP budget's parabola reads at most
 * CLS__ISO_MAX_RUNS of its runs, and a resample draws that many; the
 * frontier's resamples draw n of the n runs up to CLS__FR_BOOT_RUNS runs,
 * and above it each run Poisson(1) times, asked only of the runs whose rows
 * reach the resample's envelope (src/fit/powerlaw.c). */
enum { CLS__ISO_MAX_RUNS = 512, CLS__FR_BOOT_RUNS = 2000 };

/* ---------------------------------------------- shared numerical helpers */

/* Least-squares parabola y = a x² + b x + c; -1 when the points do not
 * determine one (fewer than 3 distinct x). */
int cls__fit_parabola(const double *x, const double *y, size_t n, double *a, double *b, double *c);
/* Least-squares line y = icpt + slope·x; -1 with fewer than 2 distinct x. */
int cls__fit_line(const double *x, const double *y, size_t n, double *slope, double *icpt);
/* How many different values x[0..n) holds, counted up to cap (the callers
 * ask "at least 2?", "at least 3?": O(n * cap), not O(n^2)). */
size_t cls__fit_distinct(const double *x, size_t n, size_t cap);
/* The q-quantile (0..1) of v[0..n) by linear interpolation; sorts v. */
double cls__fit_quantile(double *v, size_t n, double q);
/* [lo, hi] percentile interval of the finite values in v (reordered). */
cls_ci cls__fit_interval(double *v, size_t n, double level);
/* Minimises f over x[0..n) with L-BFGS (liblbfgs) from the x given; *fx is
 * the final value. Returns liblbfgs' code (>= 0: converged or stopped at a
 * point it could not improve). */
typedef double (*cls__fit_objective)(void *user, const double *x, double *grad, int n);
int cls__fit_minimize(cls__fit_objective f, void *user, double *x, int n, double *fx);
/* Fits L = E + k·x^(−γ) to (x[i], l[i]), i < n (all positive), by a Huber
 * loss (threshold delta) on log-loss residuals, minimised with L-BFGS from
 * six starts (floors E0 = {0, .25, .5, .75, .9, .97} × min l, each with a
 * straight line through log(l − E0)) in x centred on its geometric mean;
 * with floor_zero, E = 0 and one start from the line through log l. start
 * (may be NULL) is one more start, from cls__fit_power_law_start. The
 * frontier and the axis fits share it. Returns 0 with out = {E, k, γ} and
 * the objective, -1 when there is no finite fit (fewer than 2 distinct x). */
int cls__fit_power_law(const double *x, const double *l, size_t n, double delta, bool floor_zero,
                       const double *start, double out[3], double *objective);
/* The start for cls__fit_power_law on x[0..n) that is the law p = {E, k, γ}. */
void cls__fit_power_law_start(const double *x, size_t n, const double p[3], double start[3]);
/* Huber loss and its derivative. */
double cls__huber(double r, double delta, double *deriv);
/* log(exp(x) + exp(y) + exp(z)) without overflow, and its softmax weights. */
double cls__lse3(double x, double y, double z, double w[3]);
/* log(exp(x) + exp(y)) and its weights. */
double cls__lse2(double x, double y, double w[2]);
/* The compute-optimal N, under the plain law p = {E, A, α, B, β} with
 * C = 6ND, of the budget whose optimal data is d tokens: the U_N of the
 * data-constrained law (the fit holds it fixed, the plan uses the same). */
double cls__fit_nopt_for_data(const double p[5], double d);

#endif
