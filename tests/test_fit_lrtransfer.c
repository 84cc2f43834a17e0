/*
 * tests/test_fit_lrtransfer.c — the learning-rate transfer fit
 * (src/fit/lrtransfer.h) on synthetic curves: the optimum finder recovers
 * a known minimum, reports a minimum at either edge of the grid (or just
 * below divergence) as an edge with the side to extend, and the slope of
 * the optimal rate against width is recovered per parametrisation with an
 * interval that holds it.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fit/lrtransfer.h"

/* loss = floor + k (log2 lr - log2 opt)^2 on rates 2^lo .. 2^hi. */
static size_t bowl(double opt, double k, int lo, int hi, double *lr, double *loss) {
  size_t n = 0;
  for (int e = lo; e <= hi; e++, n++) {
    lr[n] = exp2(e);
    const double d = log2(lr[n]) - log2(opt);
    loss[n] = 0.05 + k * d * d;
  }
  return n;
}

static void test_known_minimum(void **state) {
  (void)state;
  double lr[16], loss[16];
  /* a minimum between grid points: the parabola through the three around
   * it is exact for a parabola in log lr */
  size_t n = bowl(0.0123, 0.01, -12, -3, lr, loss);
  cls_lr_optimum o;
  assert_int_equal(cls_fit_lr_optimum(lr, loss, n, &o), 0);
  assert_true(o.ok);
  assert_int_equal(o.edge, 0);
  assert_true(fabs(log(o.lr_opt / 0.0123)) < 1e-9);
  assert_true(fabs(o.loss_opt - 0.05) < 1e-12);
  /* an asymmetric curve (steeper above the optimum): still inside the
   * bracket of its three lowest points */
  for (size_t i = 0; i < n; i++)
    if (lr[i] > 0.0123) loss[i] += 0.05 * (log2(lr[i]) - log2(0.0123));
  assert_int_equal(cls_fit_lr_optimum(lr, loss, n, &o), 0);
  assert_true(o.ok && o.lr_opt >= lr[o.lo] && o.lr_opt <= lr[o.hi]);
  assert_true(fabs(log2(o.lr_opt / 0.0123)) < 1); /* within one grid step of the kink */
  /* a diverged rate (NaN) beside the minimum is stepped over */
  n = bowl(0.004, 0.01, -12, -3, lr, loss);
  loss[n - 1] = NAN;
  assert_int_equal(cls_fit_lr_optimum(lr, loss, n, &o), 0);
  assert_true(o.ok);
  assert_true(fabs(log(o.lr_opt / 0.004)) < 1e-9);
}

static void test_edges(void **state) {
  (void)state;
  double lr[16], loss[16];
  cls_lr_optimum o;
  /* the optimum below the grid */
  size_t n = bowl(1e-5, 0.01, -12, -3, lr, loss);
  assert_int_equal(cls_fit_lr_optimum(lr, loss, n, &o), 0);
  assert_false(o.ok);
  assert_int_equal(o.edge, -1);
  assert_non_null(strstr(o.why, "extend it to lower rates"));
  /* above the grid */
  n = bowl(1.0, 0.01, -12, -3, lr, loss);
  assert_int_equal(cls_fit_lr_optimum(lr, loss, n, &o), 0);
  assert_false(o.ok);
  assert_int_equal(o.edge, 1);
  assert_non_null(strstr(o.why, "extend it to higher rates"));
  /* the lowest loss just below the rates that diverged */
  n = bowl(1.0, 0.01, -12, -3, lr, loss);
  loss[n - 1] = loss[n - 2] = NAN;
  assert_int_equal(cls_fit_lr_optimum(lr, loss, n, &o), 0);
  assert_false(o.ok);
  assert_int_equal(o.edge, 1);
  assert_non_null(strstr(o.why, "refine the grid"));
  /* too few finished rates */
  n = bowl(0.01, 0.01, -8, -7, lr, loss);
  assert_int_equal(cls_fit_lr_optimum(lr, loss, n, &o), -1);
  assert_false(o.ok);
  assert_non_null(strstr(o.why, "needs 3"));
}

/* A transfer sweep by hand: SP's optimum ~ 0.05 (w / 8)^-1, muP's 0.01 at
 * every width; two seeds with a small offset, one rate diverged. */
static cls_lrt_input *synthetic(double noise) {
  static const double widths[] = {8, 16, 32, 64};
  cls_lrt_input *in = calloc(1, sizeof *in);
  in->runs = calloc(2 * 4 * 12 * 2, sizeof *in->runs);
  for (int p = 0; p < 2; p++)
    for (int w = 0; w < 4; w++)
      for (int e = -14; e <= -3; e++)
        for (int s = 1; s <= 2; s++) {
          cls_lrt_run *r = &in->runs[in->n_runs++];
          snprintf(r->param, sizeof r->param, "%s", p ? "mup" : "sp");
          r->lr = exp2(e);
          r->seed = s;
          r->width = widths[w];
          r->depth = 2;
          r->label_tokens = 16;
          r->head_dim = 4;
          r->budget = 100;
          r->budget_unit = "steps";
          const double opt = p ? 0.01 : 0.05 * 8 / widths[w];
          const double d = log2(r->lr) - log2(opt);
          r->loss = 0.05 + 0.01 * d * d + (s == 1 ? noise : -noise) * (1 + 0.1 * e);
          if (!p && w == 3 && e == -3) r->diverged = true, r->loss = NAN;
        }
  return in;
}

static void test_slopes(void **state) {
  (void)state;
  cls_lrt_input *in = synthetic(1e-4);
  assert_true(cls_fit_lrt_applies(in));
  cls_fit_options o;
  cls_fit_options_default(&o);
  o.bootstrap = 100;
  cls_fit_lrtransfer t;
  char err[512];
  assert_int_equal(cls_fit_lrtransfer_run(in, &o, &t, err, sizeof err), CLS_OK);
  assert_string_equal(t.dim, "width");
  assert_int_equal(t.n_families, 2);
  assert_string_equal(t.families[0].param, "sp");
  assert_string_equal(t.families[1].param, "mup");
  assert_int_equal(t.n_diverged, 2);
  assert_true(fabs(t.grid_step - 2) < 1e-12);
  const cls_lrt_family *sp = &t.families[0], *mup = &t.families[1];
  assert_true(sp->slope_ok && mup->slope_ok);
  assert_true(fabs(sp->slope + 1) < 0.05);
  assert_true(fabs(mup->slope) < 0.05);
  assert_true(sp->slope_ci.lo <= sp->slope && sp->slope <= sp->slope_ci.hi);
  assert_true(mup->slope_ci.lo <= 0 && 0 <= mup->slope_ci.hi);
  assert_false(sp->transfers);
  assert_true(mup->transfers);
  assert_non_null(strstr(mup->verdict, "mup: the optimal rate transfers across width"));
  assert_non_null(strstr(sp->verdict, "does not transfer"));
  assert_non_null(strstr(t.summary, "is closer to 0 than SP's"));
  /* each curve's interval holds its optimum */
  for (size_t c = 0; c < 4; c++) {
    const cls_lrt_curve *cv = &mup->curves[c];
    assert_true(cv->opt.ok);
    assert_true(cv->lr_opt_ci.lo <= cv->opt.lr_opt && cv->opt.lr_opt <= cv->lr_opt_ci.hi);
  }
  /* the diverged rate is kept as a rate with no loss */
  const cls_lrt_curve *w64 = &sp->curves[3];
  assert_int_equal(w64->n, 12);
  assert_true(isnan(w64->loss[11]));
  assert_int_equal(w64->n_div[11], 2);
  cls_fit_lrtransfer_free(&t);

  /* two dimensions at once, or several budgets: refused */
  in->runs[0].depth = 3;
  assert_int_equal(cls_fit_lrtransfer_run(in, &o, &t, err, sizeof err), CLS_ERR_INVALID_VALUE);
  assert_non_null(strstr(err, "width and depth"));
  in->runs[0].depth = 2;
  in->runs[5].budget = 200;
  assert_int_equal(cls_fit_lrtransfer_run(in, &o, &t, err, sizeof err), CLS_ERR_INVALID_VALUE);
  assert_non_null(strstr(err, "several budgets"));
  in->runs[5].budget = 100;
  for (size_t i = 0; i < in->n_runs; i++) in->runs[i].width = 32, in->runs[i].head_dim = 4;
  assert_int_equal(cls_fit_lrtransfer_run(in, &o, &t, err, sizeof err), CLS_ERR_INVALID_VALUE);
  assert_non_null(strstr(err, "no dimension varies"));
  free(in->runs);
  free(in);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_known_minimum),
      cmocka_unit_test(test_edges),
      cmocka_unit_test(test_slopes),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
