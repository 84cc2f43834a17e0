/*
 * tests/support/collapse_data.h — a run directory of a sweep with
 * generations written the way `clscale sweep` writes one (the keys the
 * collapse fits and figures read), with losses from a known modified law,
 * for the fit and plot tests.
 */
#ifndef CLSCALE_TEST_COLLAPSE_DATA_H
#define CLSCALE_TEST_COLLAPSE_DATA_H

#include <stddef.h>

/* The law of the data: L_g(D) = E + A D^-gamma with E = collapse_floor(g,
 * pi); D in COLLAPSE_D; seeds 1 and 2 at (1 + 1 %) and (1 - 1 %) of it, so
 * that their mean is the law. */
#define COLLAPSE_A     50.0
#define COLLAPSE_GAMMA 0.4
#define COLLAPSE_N_D   5
extern const double COLLAPSE_D[COLLAPSE_N_D];
double collapse_floor(unsigned g, double pi);
double collapse_law(unsigned g, double pi, double d);
/* The eval_accuracy of the data: exp(-collapse_law), seeds 1 and 2 at
 * +0.01 and -0.01 of it, so that their mean is it. */
double collapse_accuracy(unsigned g, double pi, double d);

/* Writes DIR/points/ of generations 0..2, pi 0 and 0.2, two seeds (50
 * points), ids opaque. pi_key names pi ("real_fraction", or
 * "synthetic_fraction" as older run directories did); with odd_width
 * every point of generation 2 pi 0.2 has a "depth" (another configuration). */
void collapse_write_rundir(const char *dir, const char *pi_key, int odd_width);

/* collapse_write_rundir with pi as real_fraction, of task "text": no
 * eval_accuracy (the text task measures none). */
void collapse_write_rundir_text(const char *dir);

/* The loss per gcd k of generation g in the outcome tables
 * collapse_write_rundir writes with outcomes: 0.1 k^(0.5 + g/4), the tail
 * worse in every generation; accuracy 1/k. */
double collapse_outcome_loss(unsigned g, unsigned k);

/* collapse_write_rundir, and points/<id>.outcomes.csv for every point: gcd
 * 1 … 40, ceil(1000 / k^2) examples each. */
void collapse_write_rundir_outcomes(const char *dir);

#endif
