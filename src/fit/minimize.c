/*
 * src/fit/minimize.c — the L-BFGS driver the fits share (liblbfgs).
 */
#include <lbfgs.h>
#include <math.h>

#include "fit/fit.h"

typedef struct {
  cls__fit_objective f;
  void *user;
} trampoline;

static lbfgsfloatval_t evaluate(void *inst, const lbfgsfloatval_t *x, lbfgsfloatval_t *g, const int n,
                                const lbfgsfloatval_t step) {
  (void)step;
  const trampoline *t = inst;
  double v = t->f(t->user, x, g, n);
  /* A step into overflow must look bad to the line search, not poison it. */
  if (!isfinite(v)) {
    for (int i = 0; i < n; i++) g[i] = 0;
    return 1e300;
  }
  return v;
}

int cls__fit_minimize(cls__fit_objective f, void *user, double *x, int n, double *fx) {
  lbfgs_parameter_t p;
  lbfgs_parameter_init(&p);
  /* Tight: noise-free data must give the law back to far better than 1e-3,
   * and the objectives are cheap (one pass over tens of points). */
  p.epsilon = 1e-10;
  p.max_iterations = 2000;
  p.max_linesearch = 60;
  trampoline t = {f, user};
  lbfgsfloatval_t v = 0;
  int ret = lbfgs(n, x, &v, evaluate, NULL, &t, &p);
  /* On a rounding-error or line-search stop, x is still the best point
   * reached; its value is recomputed so callers compare like with like. */
  double g[16];
  *fx = n <= 16 ? f(user, x, g, n) : v;
  if (!isfinite(*fx)) *fx = INFINITY;
  return ret;
}
