/*
 * src/fit/collapse.h — the model-collapse fits of a sweep with generations
 * ("A Tale of Tails", Dohmatob et al. 2024; docs/fit.md, "Model collapse"):
 * the loss on real data of every (generation g, real share pi) against the
 * training data D, and per pi the paper's modified law
 *
 *     L_g(D) = E_g + A·D^(−γ)
 *
 * fitted jointly over the generations of that pi (generation 0, on real
 * data, belongs to every pi): A and γ shared, a floor E_g per generation,
 * which grows with g when the models collapse. Bootstrap intervals resample
 * the seeds of each (g, pi, D) cell. Then, at the largest D, whether each
 * generation plateaus and how much of the gap to generation 0 a share pi of
 * real data closes: (L_{g,0} − L_{g,pi}) / (L_{g,0} − L_0).
 *
 * Beside the loss, each cell has the mean accuracy over its seeds (the gcd
 * task's eval_accuracy) when every point has one; nothing is fitted to it.
 *
 * The per-(g, pi) power laws are the axis fits along `tokens` (axis.h); this
 * file adds what needs several groups at once, and the rule of which points
 * form a chain (pi, the chain's keys) that the figures share. Nothing here
 * prints or exits.
 */
#ifndef CLSCALE_FIT_COLLAPSE_H
#define CLSCALE_FIT_COLLAPSE_H

#include <stdbool.h>
#include <stddef.h>

#include "fit/axis.h"

/* The points of one generation and pi: the mean loss over seeds at each D. */
typedef struct cls_collapse_cell {
  unsigned generation;
  double real_fraction; /* pi; 1 in generation 0 */
  size_t n_d;
  double *d;        /* ascending */
  double *loss;     /* mean over the observations at d[i] */
  double *sd;       /* their sample standard deviation (NaN for one) */
  size_t *n_obs;    /* seeds at d[i] */
  double *accuracy; /* mean eval_accuracy over the same seeds (the gcd task's greedy exact answers on held-out
                       real pairs); NULL when the points have none (text) */
  double last_drop; /* (L[n-2] − L[n-1]) / L[n-2]: the fall over the last step in D; NaN with one D */
  bool plateau;     /* generation >= 1 and it falls by less than a quarter of what generation 0 falls over the same
                       step */
} cls_collapse_cell;

/* The modified law of one pi. */
typedef struct cls_collapse_law {
  double real_fraction;
  bool ok;
  char why[200]; /* why not fitted */
  size_t n_gen;  /* generations 0 … n_gen − 1 that have a cell with this pi (0 with pi 1) */
  unsigned *generations;
  double *E; /* floor per generation */
  cls_ci *E_ci;
  double A, gamma, objective;
  cls_ci A_ci, gamma_ci;
  int boot_ok;
  bool floor_grows; /* E is increasing in the generation */
} cls_collapse_law;

/* How much of generation g's gap a share pi of real data closes, at the
 * largest D. */
typedef struct cls_collapse_recovery {
  unsigned generation;
  double real_fraction;
  double loss, loss_pi0, loss_g0; /* L_{g,pi}, L_{g,0}, L_0 */
  double gap_closed;              /* (L_{g,0} − L_{g,pi}) / (L_{g,0} − L_0); NaN when there is no gap */
  cls_ci gap_closed_ci;
} cls_collapse_recovery;

typedef struct cls_fit_collapse {
  char axis[64];    /* the D axis: "tokens" */
  double largest_d; /* the largest D every cell has (NaN: none in common) */
  size_t n_runs;
  bool has_accuracy;        /* every point has a finite eval_accuracy: the cells' accuracy is set */
  cls_collapse_cell *cells; /* by generation, then pi */
  size_t n_cells;
  cls_collapse_law *laws; /* by pi: one per pi of the generations >= 1 */
  size_t n_laws;
  cls_collapse_recovery *recovery; /* by generation, then pi: each g >= 1 and pi > 0 */
  size_t n_recovery;
  int n_boot;
  char summary[2048]; /* the findings in words (the plateau, the floors, the recovery) */
} cls_fit_collapse;

/* A point's number under a key, NaN when it has none: how the layers that
 * hold points in their own form (the fit's cls_axis_run, the plot's summaries)
 * let the two functions below read them. */
typedef double (*cls_collapse_num_fn)(const void *point, const char *key);

/* pi of a point: `real_fraction`, or `synthetic_fraction` as run directories
 * before the rename wrote the same number; NaN when it has neither. One
 * place for the fallback, so the fits and the figures cannot disagree on
 * which points are a chain. */
double cls_fit_collapse_pi(cls_collapse_num_fn num, const void *point);

/* Whether a config key places a point within a collapse family (generation,
 * pi under any of its names) rather than naming the family (model, task,
 * schedule): the keys left out when points are grouped into one family. */
bool cls_fit_collapse_is_chain_key(const char *key);

/* Whether the points are a sweep with generations: each has a numeric
 * `generation` (and `real_fraction`, or `synthetic_fraction` as run
 * directories before the rename wrote pi). */
bool cls_fit_collapse_applies(const cls_axis_input *in);

/* The fits above. CLS_ERR_INVALID_VALUE with a message when a point lacks
 * the keys, when the points differ in other config keys (one collapse
 * family at a time: --where picks one), or when no generation beyond 0 is
 * there. Uses o->huber_delta, bootstrap, seed and ci_level. */
cls_status cls_fit_collapse_run(const cls_axis_input *in, const cls_fit_options *o, cls_fit_collapse *out,
                                char *err, size_t err_len);
void cls_fit_collapse_free(cls_fit_collapse *c);

#endif
