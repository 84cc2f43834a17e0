/*
 * src/fit/axis.h — power laws along one axis of a sweep: L = E + A·X^(−γ)
 * (or E = 0) for X any numeric config key of the points' summaries
 * (features, samples, ridge, n_params, tokens, …), one fit per group of
 * points that agree on every other config key, the loss at each X being the
 * mean over seeds, with a bootstrap interval on γ, each put next to the exact
 * theory of the solvable tasks (rf: theory_rf.h, zipf: theory_zipf.h).
 * docs/fit.md ("Power laws along an axis") explains the grouping and the
 * columns; docs/formats.md the `axis_fits` of fit.json.
 *
 * Nothing here prints or exits. Errors come back as a status with a message
 * in err: CLS_ERR_INVALID_VALUE for what is wrong with the input or the axis
 * (an unknown axis, a non-positive value, no finished point, a NaN loss),
 * CLS_ERR_IO / CLS_ERR_FORMAT for a missing or malformed file.
 */
#ifndef CLSCALE_FIT_AXIS_H
#define CLSCALE_FIT_AXIS_H

#include <stdbool.h>
#include <stddef.h>

#include "fit/fit.h"

/* ------------------------------------------------------------------ input */

/* One key of a summary: a number (NaN for null) or a text. */
typedef struct cls_axis_kv {
  char *key;
  char *text; /* NULL for a number */
  double num;
} cls_axis_kv;

/* One finished point (status ok). */
typedef struct cls_axis_run {
  char id[128];
  double loss; /* final_eval_loss, finite and >= 0 */
  cls_axis_kv *kv;
  size_t n_kv;
  size_t curve_n; /* its curve's rows with positive finite tokens and a finite eval_loss */
  double *curve_tokens, *curve_loss;
  bool final_out; /* a --where on the curve's axis left the final point out (its rows stay) */
} cls_axis_run;

typedef struct cls_axis_input {
  char task[32]; /* the points' task when they all name the same, else "" */
  cls_axis_run *runs;
  size_t n_runs;
  char **warnings; /* points left out and why */
  size_t n_warnings;
  char where[512]; /* the --where conditions applied, ", "-separated ("" for none) */
} cls_axis_input;

/* Every points/<id>.json of RUN_DIR whose status is ok, with every key it
 * has, and its points/<id>.csv (tokens and eval_loss). A point that is not
 * finished is left out with a warning; a finished point with a null, NaN
 * or negative final_eval_loss, or a directory with no finished point, is
 * CLS_ERR_INVALID_VALUE. */
cls_status cls_fit_axis_input_from_rundir(const char *dir, cls_axis_input **out, char *err, size_t err_len);
void cls_fit_axis_input_destroy(cls_axis_input *in);

/* Keeps the points that meet cond, "KEY<=V", "KEY>=V", "KEY<V", "KEY>V"
 * (V a number) or "KEY=V" (a number or a text), and drops the rest, naming
 * how many in a warning. On `samples` or `tokens` (the learning curves'
 * X) the rows of each curve are filtered too, so a curve keeps its part in
 * range. CLS_ERR_INVALID_VALUE for a condition that does not parse, a key
 * no point has, a number compared with a text, or nothing left. */
cls_status cls_fit_axis_input_where(cls_axis_input *in, const char *cond, char *err, size_t err_len);

/* The task RUN_DIR/manifest.json names: false when there is none. */
bool cls_fit_axis_task_of(const char *dir, char *task, size_t len);

/* The axes fitted when none is named: "features,samples" for rf,
 * "samples" for zipf, NULL for any other task (the Chinchilla fits). */
const char *cls_fit_axis_default(const cls_axis_input *in);

/* The keys that can be an axis: numeric in every point and not a result or
 * a diagnostic of the run (the loss, seconds, seed, solve_*, …), as
 * "a, b, c" (sorted). */
void cls_fit_axis_keys(const cls_axis_input *in, char *buf, size_t len);

/* --------------------------------------------------------------- results */

typedef struct cls_fit_axis_group {
  char label[256]; /* "key=value …" of the keys that tell the groups apart; "all" for one group */
  char *config;    /* "key=value\n" of every grouping key */
  size_t n_runs;   /* points in the group */
  size_t n_x;      /* distinct X */
  double *x;       /* ascending */
  double *loss;    /* mean over the group's observations at x[i] */
  size_t *n_obs;   /* how many (seeds, curves) gave loss[i] */
  bool ok;         /* fitted */
  char why[200];   /* why not */
  double E, A, gamma, objective;
  cls_ci E_ci, A_ci, gamma_ci;
  int boot_ok, n_boot;
  /* Theory (NaN where there is none; theory_why says why). */
  bool has_theory;
  char theory_why[256];
  double *theory;     /* per x: the theory's expected loss */
  double th_exponent; /* the asymptotic exponent along this axis */
  double th_floor;    /* the theory's floor (a cut source's unseen mass; rf: the label noise) */
  double th_E, th_A;  /* the same law fitted to the theory at the same X */
  double th_gamma;    /* … its γ: the apples-to-apples exponent */
  double th_max_dev;  /* max over x of |loss / theory − 1| */
} cls_fit_axis_group;

typedef struct cls_fit_axis {
  char axis[64];
  bool floor_zero;  /* E = 0 */
  bool from_curves; /* zipf along samples/tokens: the learning curves' rows are points too */
  size_t n_runs;
  size_t n_zero_loss;         /* observations with loss 0, left out (log-loss needs L > 0) */
  cls_fit_axis_group *groups; /* sorted by the values of the keys that tell them apart */
  size_t n_groups, n_fitted;
} cls_fit_axis;

/* Fits along axis. An axis that is no numeric key of the points (the
 * message lists those that are), or a point whose value on it is missing,
 * not finite or not positive, is CLS_ERR_INVALID_VALUE. A group with fewer
 * than 3 distinct X is kept with ok = false and its reason. Uses
 * o->huber_delta, bootstrap, seed and ci_level. */
cls_status cls_fit_axis_run(const cls_axis_input *in, const char *axis, bool floor_zero, const cls_fit_options *o,
                            cls_fit_axis *out, char *err, size_t err_len);
void cls_fit_axis_free(cls_fit_axis *a);

/* Whether key is a configuration key of the points (one that tells groups
 * apart): neither a result or diagnostic of a run nor derived from the
 * configuration. For the collapse fits (collapse.h). */
bool cls__fit_axis_is_config(const char *key);

/* fit.json with the axis fits under `axis_fits` and, when collapse is not
 * NULL, the collapse fits under `collapse` (docs/formats.md), written
 * atomically; the input's point count and --where conditions with them. */
struct cls_fit_collapse;
cls_status cls_fit_write_axis_json(const cls_fit_axis *fits, size_t n_fits,
                                   const struct cls_fit_collapse *collapse, const cls_fit_options *o,
                                   const cls_axis_input *in, const char *path, char *err, size_t err_len);

#endif
