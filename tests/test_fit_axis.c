/*
 * tests/test_fit_axis.c — power laws along an axis (src/fit/axis.h) from run
 * directories written here: a known exponent comes back (L = 0.1 + 2·X^-0.7
 * with 1% noise: γ within 0.02, its interval covers the truth), E = 0,
 * grouping by config keys (derived and diagnostic keys do not split groups,
 * a key tied one-to-one to the axis neither), the mean over seeds, small
 * groups skipped with their reason, the theory columns of rf and zipf (a
 * directory whose losses are the theory has ratio 1 and the same γ), bad
 * input, and fit.json read back (with and without axis_fits).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/rng.h"
#include "fit/axis.h"
#include "fit/fitfile.h"
#include "fit/theory_rf.h"
#include "fit/theory_zipf.h"
#include "test_util.h"

static void make_dir(const char *dir, const char *task) {
  char p[1200];
  snprintf(p, sizeof p, "%s/points", dir);
  assert_int_equal(mkdir(p, 0755), 0);
  if (task) {
    snprintf(p, sizeof p, "%s/manifest.json", dir);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fprintf(f, "{\"version\": 1, \"name\": \"axis test\", \"task\": \"%s\"}\n", task);
    fclose(f);
  }
}

/* points/<id>.json: id, status, the config lines given ("\"key\": value, ..."),
 * and the loss (NaN: null). */
static void write_point(const char *dir, const char *id, const char *status, const char *config, double loss) {
  char p[1200];
  snprintf(p, sizeof p, "%s/points/%s.json", dir, id);
  FILE *f = fopen(p, "w");
  assert_non_null(f);
  fprintf(f, "{\"id\": \"%s\", \"status\": \"%s\", %s, ", id, status, config);
  if (isfinite(loss))
    fprintf(f, "\"final_eval_loss\": %.17g}\n", loss);
  else
    fprintf(f, "\"final_eval_loss\": null}\n");
  fclose(f);
}

static void write_curve(const char *dir, const char *id, const double *t, const double *l, size_t n) {
  char p[1200];
  snprintf(p, sizeof p, "%s/points/%s.csv", dir, id);
  FILE *f = fopen(p, "w");
  assert_non_null(f);
  fprintf(f, "step,tokens,flops,flops_6nd,train_loss,eval_loss,lr,seconds\n");
  for (size_t i = 0; i < n; i++) fprintf(f, "%.17g,%.17g,0,0,nan,%.17g,0,0\n", t[i], t[i], l[i]);
  fclose(f);
}

static double toy_law(double x, double E, double A, double g) {
  return E + A * pow(x, -g);
}

/* A toy sweep: X = 2^0..2^10 (`width`), seeds, groups by `ridge`, each
 * with its law; derived keys (n_params = X, flops, seconds) vary per
 * point. */
static void toy_sweep(const char *dir, int n_seeds, const double *ridge, const double *gamma, int n_groups,
                      double E, double sigma) {
  cls_rng rng = cls_rng_make(11, 5);
  int k = 0;
  for (int g = 0; g < n_groups; g++)
    for (int s = 1; s <= n_seeds; s++)
      for (int e = 0; e <= 10; e++, k++) {
        double x = ldexp(1, e), l = toy_law(x, E, 2, gamma[g]) * exp(sigma * cls_rng_normal(rng, (uint64_t)k, 0));
        char id[64], cfg[512];
        snprintf(id, sizeof id, "w%g_r%g_s%d", x, ridge[g], s);
        snprintf(
            cfg, sizeof cfg,
            "\"n_params\": %g, \"task\": \"toy\", \"width\": %g, \"ridge\": %g, \"seed\": %d, \"tokens\": 100, "
            "\"flops\": %g, \"seconds\": %g, \"point_index\": %d, \"solve_error\": %g",
            x, x, ridge[g], s, 600 * x, 0.01 * k, k, 1e-9 * k);
        write_point(dir, id, "ok", cfg, l);
      }
}

static cls_axis_input *load(const char *dir) {
  cls_axis_input *in = NULL;
  char err[1024] = "";
  cls_status st = cls_fit_axis_input_from_rundir(dir, &in, err, sizeof err);
  if (st) fail_msg("reading %s: %s", dir, err);
  return in;
}

static void recovers_known_exponent(void **state) {
  (void)state;
  char dir[1024];
  test_tmpdir("axis_recover", dir, sizeof dir);
  make_dir(dir, NULL);
  const double ridge[1] = {0.1}, gamma[1] = {0.7};
  toy_sweep(dir, 4, ridge, gamma, 1, 0.1, 0.01);
  cls_axis_input *in = load(dir);
  assert_int_equal(in->n_runs, 44);
  assert_string_equal(in->task, "toy");
  assert_null(cls_fit_axis_default(in));
  cls_fit_options o;
  cls_fit_options_default(&o);
  cls_fit_axis a;
  char err[1024];
  assert_int_equal(cls_fit_axis_run(in, "width", false, &o, &a, err, sizeof err), CLS_OK);
  assert_int_equal(a.n_groups, 1);
  assert_false(a.from_curves);
  const cls_fit_axis_group *g = &a.groups[0];
  assert_string_equal(g->label, "all"); /* n_params, flops, seconds, solve_error: no group keys */
  assert_true(g->ok);
  assert_int_equal(g->n_x, 11);
  assert_int_equal(g->n_runs, 44);
  for (size_t i = 0; i < g->n_x; i++) assert_int_equal(g->n_obs[i], 4);
  if (fabs(g->gamma - 0.7) > 0.02) fail_msg("gamma %.4f, want 0.7 +- 0.02", g->gamma);
  if (fabs(g->E - 0.1) > 0.02) fail_msg("E %.4f, want 0.1 +- 0.02", g->E);
  if (!(g->gamma_ci.lo <= 0.7 && 0.7 <= g->gamma_ci.hi))
    fail_msg("interval [%.4f, %.4f] misses 0.7", g->gamma_ci.lo, g->gamma_ci.hi);
  assert_true(g->gamma_ci.hi - g->gamma_ci.lo < 0.2);
  assert_true(g->boot_ok >= o.bootstrap * 9 / 10);
  assert_false(g->has_theory); /* no theory for task toy */
  /* the same seed gives the same interval */
  cls_fit_axis b;
  assert_int_equal(cls_fit_axis_run(in, "width", false, &o, &b, err, sizeof err), CLS_OK);
  assert_true(b.groups[0].gamma_ci.lo == g->gamma_ci.lo && b.groups[0].gamma_ci.hi == g->gamma_ci.hi);
  /* n_params moves one-to-one with width: the same fit under its name */
  cls_fit_axis c;
  assert_int_equal(cls_fit_axis_run(in, "n_params", false, &o, &c, err, sizeof err), CLS_OK);
  assert_int_equal(c.n_groups, 1);
  assert_true(fabs(c.groups[0].gamma - g->gamma) < 1e-12);
  cls_fit_axis_free(&a);
  cls_fit_axis_free(&b);
  cls_fit_axis_free(&c);
  cls_fit_axis_input_destroy(in);
}

static void floor_zero(void **state) {
  (void)state;
  char dir[1024];
  test_tmpdir("axis_zero", dir, sizeof dir);
  make_dir(dir, NULL);
  const double ridge[1] = {1}, gamma[1] = {0.5};
  toy_sweep(dir, 2, ridge, gamma, 1, 0, 0);
  cls_axis_input *in = load(dir);
  cls_fit_options o;
  cls_fit_options_default(&o);
  o.bootstrap = 50;
  cls_fit_axis a;
  char err[1024];
  assert_int_equal(cls_fit_axis_run(in, "width", true, &o, &a, err, sizeof err), CLS_OK);
  const cls_fit_axis_group *g = &a.groups[0];
  assert_true(a.floor_zero && g->ok);
  assert_true(g->E == 0);
  assert_true(fabs(g->gamma - 0.5) < 1e-6);
  assert_true(fabs(g->A - 2) < 1e-5);
  cls_fit_axis_free(&a);
  cls_fit_axis_input_destroy(in);
}

/* Two groups by ridge, each its own exponent, the mean over seeds at each
 * X; a third group with 2 X only is skipped with its reason. */
static void groups_and_seeds(void **state) {
  (void)state;
  char dir[1024];
  test_tmpdir("axis_groups", dir, sizeof dir);
  make_dir(dir, NULL);
  const double ridge[2] = {0.01, 1}, gamma[2] = {0.7, 0.4};
  toy_sweep(dir, 3, ridge, gamma, 2, 0.1, 0.005);
  write_point(dir, "small_a", "ok", "\"n_params\": 4, \"task\": \"toy\", \"width\": 4, \"ridge\": 5, \"seed\": 1",
              1.0);
  write_point(dir, "small_b", "ok", "\"n_params\": 8, \"task\": \"toy\", \"width\": 8, \"ridge\": 5, \"seed\": 1",
              0.8);
  write_point(dir, "small_c", "ok", "\"n_params\": 8, \"task\": \"toy\", \"width\": 8, \"ridge\": 5, \"seed\": 2",
              0.6);
  write_point(dir, "zz_diverged", "diverged", "\"n_params\": 8, \"task\": \"toy\", \"width\": 8, \"ridge\": 5",
              NAN);
  cls_axis_input *in = load(dir);
  assert_int_equal(in->n_runs, 69);
  assert_int_equal(in->n_warnings, 1); /* the diverged point */
  cls_fit_options o;
  cls_fit_options_default(&o);
  o.bootstrap = 100;
  cls_fit_axis a;
  char err[1024];
  assert_int_equal(cls_fit_axis_run(in, "width", false, &o, &a, err, sizeof err), CLS_OK);
  assert_int_equal(a.n_groups, 3);
  assert_int_equal(a.n_fitted, 2);
  assert_string_equal(a.groups[0].label, "ridge=0.01");
  assert_string_equal(a.groups[1].label, "ridge=1");
  assert_string_equal(a.groups[2].label, "ridge=5");
  for (int k = 0; k < 2; k++) {
    const cls_fit_axis_group *g = &a.groups[k];
    assert_true(g->ok);
    assert_int_equal(g->n_runs, 33);
    if (fabs(g->gamma - gamma[k]) > 0.02) fail_msg("group %d: gamma %.4f, want %.2f", k, g->gamma, gamma[k]);
    assert_non_null(strstr(g->config, "ridge="));
    assert_null(strstr(g->config, "seed="));
  }
  const cls_fit_axis_group *s = &a.groups[2];
  assert_false(s->ok);
  assert_int_equal(s->n_runs, 3);
  assert_int_equal(s->n_x, 2);
  assert_non_null(strstr(s->why, "2 distinct width values"));
  /* width 8: the mean of its two seeds */
  assert_true(s->x[1] == 8 && fabs(s->loss[1] - 0.7) < 1e-12 && s->n_obs[1] == 2);
  cls_fit_axis_free(&a);
  cls_fit_axis_input_destroy(in);
}

static void expect_error(cls_axis_input *in, const char *axis, const char *needle) {
  cls_fit_options o;
  cls_fit_options_default(&o);
  o.bootstrap = 0;
  cls_fit_axis a;
  char err[1024] = "";
  assert_int_equal(cls_fit_axis_run(in, axis, false, &o, &a, err, sizeof err), CLS_ERR_INVALID_VALUE);
  if (!strstr(err, needle)) fail_msg("axis %s: message \"%s\" lacks \"%s\"", axis, err, needle);
}

static void bad_input(void **state) {
  (void)state;
  char dir[1024], err[1024];
  test_tmpdir("axis_bad", dir, sizeof dir);
  make_dir(dir, NULL);
  write_point(dir, "a", "ok", "\"n_params\": 4, \"task\": \"toy\", \"width\": 4, \"ridge\": 0, \"name\": \"x\"",
              1);
  write_point(dir, "b", "ok", "\"n_params\": 8, \"task\": \"toy\", \"width\": 8, \"ridge\": 1, \"name\": \"x\"",
              1);
  cls_axis_input *in = load(dir);
  expect_error(in, "depth", "unknown axis 'depth'");
  expect_error(in, "depth", "n_params, ridge, width");
  expect_error(in, "ridge", "ridge = 0");
  expect_error(in, "name", "not numeric");
  expect_error(in, "final_eval_loss", "not an axis");
  cls_fit_axis_input_destroy(in);
  /* a finished point with a NaN loss */
  write_point(dir, "c", "ok", "\"n_params\": 16, \"task\": \"toy\", \"width\": 16", NAN);
  cls_axis_input *bad = NULL;
  assert_int_equal(cls_fit_axis_input_from_rundir(dir, &bad, err, sizeof err), CLS_ERR_INVALID_VALUE);
  assert_null(bad);
  assert_non_null(strstr(err, "c.json: status ok but final_eval_loss is null"));
  /* no finished point */
  test_tmpdir("axis_none", dir, sizeof dir);
  make_dir(dir, NULL);
  write_point(dir, "a", "diverged", "\"n_params\": 4, \"width\": 4", NAN);
  assert_int_equal(cls_fit_axis_input_from_rundir(dir, &bad, err, sizeof err), CLS_ERR_INVALID_VALUE);
  assert_non_null(strstr(err, "none of the 1 points"));
  test_tmpdir("axis_empty", dir, sizeof dir);
  make_dir(dir, NULL);
  assert_int_equal(cls_fit_axis_input_from_rundir(dir, &bad, err, sizeof err), CLS_ERR_INVALID_VALUE);
  assert_non_null(strstr(err, "holds no"));
}

/* An rf sweep whose losses are the theory: ratio 1, the theory's γ. */
static void rf_theory_columns(void **state) {
  (void)state;
  char dir[1024], err[1024];
  test_tmpdir("axis_rf", dir, sizeof dir);
  make_dir(dir, "rf");
  const int N[5] = {8, 16, 32, 64, 128};
  for (int i = 0; i < 5; i++)
    for (int s = 1; s <= 2; s++) {
      cls_fit_rf_theory th;
      assert_int_equal(
          cls_fit_rf_theory_loss_powerlaw((size_t)N[i], 4096, 1e-3, 0, 1.0, 256, &th, err, sizeof err), CLS_OK);
      char id[64], cfg[512];
      snprintf(id, sizeof id, "w%d_s%d", N[i], s);
      snprintf(cfg, sizeof cfg,
               "\"n_params\": %d, \"task\": \"rf\", \"model\": \"features\", \"features\": %d, \"samples\": 4096, "
               "\"latent\": 256, \"alpha\": 1, \"ridge\": 0.001, \"noise\": 0, \"test_samples\": 0, \"seed\": %d, "
               "\"tokens\": 4096, \"flops\": %g, \"budget_tokens\": 4096, \"kernel_form\": 0",
               N[i], N[i], s, 1e6 * N[i]);
      write_point(dir, id, "ok", cfg, th.loss);
    }
  cls_axis_input *in = load(dir);
  assert_string_equal(cls_fit_axis_default(in), "features,samples");
  char task[32];
  assert_true(cls_fit_axis_task_of(dir, task, sizeof task));
  assert_string_equal(task, "rf");
  cls_fit_options o;
  cls_fit_options_default(&o);
  o.bootstrap = 20;
  cls_fit_axis a;
  assert_int_equal(cls_fit_axis_run(in, "features", false, &o, &a, err, sizeof err), CLS_OK);
  const cls_fit_axis_group *g = &a.groups[0];
  assert_true(g->ok && g->has_theory);
  assert_true(g->th_exponent == 1.0);
  assert_true(g->th_max_dev < 1e-12);
  assert_true(fabs(g->th_gamma - g->gamma) < 1e-9);
  if (fabs(g->gamma - 1.0) > 0.15) fail_msg("rf theory gamma along features %.3f, want 1 +- 0.15", g->gamma);
  /* samples: one value only */
  cls_fit_axis b;
  assert_int_equal(cls_fit_axis_run(in, "samples", false, &o, &b, err, sizeof err), CLS_OK);
  assert_int_equal(b.n_fitted, 0);
  assert_non_null(strstr(b.groups[0].why, "1 distinct samples value "));
  /* fit.json with axis_fits reads back */
  char path[1200];
  snprintf(path, sizeof path, "%s/fit.json", dir);
  cls_fit_axis both[2] = {a, b};
  assert_int_equal(cls_fit_write_axis_json(both, 2, NULL, &o, in, path, err, sizeof err), CLS_OK);
  cls_fit *f = NULL;
  assert_int_equal(cls_fit_load(path, &f, err, sizeof err), CLS_OK);
  assert_int_equal(f->n_axis_fits, 2);
  assert_string_equal(f->axis_fits[0].axis, "features");
  assert_int_equal(f->axis_fits[0].n_groups, 1);
  const cls_axis_fit_group *q = &f->axis_fits[0].groups[0];
  assert_true(q->fitted && q->n_x == 5);
  assert_true(fabs(q->gamma - g->gamma) < 1e-12 && fabs(q->theory_gamma - g->th_gamma) < 1e-12);
  assert_true(q->theory_exponent == 1.0 && q->theory && fabs(q->theory[2] - g->theory[2]) < 1e-15);
  assert_false(f->axis_fits[1].groups[0].fitted);
  assert_false(f->has_frontier || f->has_parametric);
  cls_fit_destroy(f);
  /* a fit.json from before axis fits loads with none */
  FILE *old = fopen(path, "w");
  assert_non_null(old);
  fprintf(old, "{\"version\": 1, \"frontier\": {\"E\": 1, \"k\": 2, \"gamma\": 0.3}}\n");
  fclose(old);
  assert_int_equal(cls_fit_load(path, &f, err, sizeof err), CLS_OK);
  assert_true(f->has_frontier);
  assert_int_equal(f->n_axis_fits, 0);
  cls_fit_destroy(f);
  cls_fit_axis_free(&a);
  cls_fit_axis_free(&b);
  cls_fit_axis_input_destroy(in);
}

/* zipf along samples: learning curves are points too; a real source whose
 * curve is the expected error has ratio 1 and the asymptote 1 - 1/beta; the
 * fitted source has no theory; losses of 0 are left out. */
static void zipf_curves(void **state) {
  (void)state;
  char dir[1024], err[1024];
  test_tmpdir("axis_zipf", dir, sizeof dir);
  make_dir(dir, "zipf");
  cls_zipf_theory th = {.source = CLS_ZIPF_REAL, .beta = 1.5, .vocab = 10000, .cut = 10000, .beta_narrow = 2};
  double T[12], E[12];
  for (int i = 0; i < 12; i++) T[i] = round(pow(10, 0.5 * i));
  assert_int_equal(cls_zipf_expected(&th, T, 12, E, err, sizeof err), CLS_OK);
  const char *sources[2] = {"real", "fitted"};
  for (int k = 0; k < 2; k++)
    for (int s = 1; s <= 2; s++) {
      char id[64], cfg[512];
      snprintf(id, sizeof id, "t100000_s%d_%s", s, sources[k]);
      snprintf(cfg, sizeof cfg,
               "\"n_params\": 10000, \"task\": \"zipf\", \"model\": \"memoriser\", \"samples\": 100000, \"beta\": "
               "1.5, \"vocab\": 10000, \"source\": \"%s\", \"cut\": 10000, \"beta_narrow\": 2, \"real_fraction\": "
               "0, \"seed\": %d, \"tokens\": 100000, \"flops\": 0, \"floor\": 0",
               sources[k], s);
      write_point(dir, id, "ok", cfg, E[11]);
      double l[12];
      memcpy(l, E, sizeof l);
      if (k == 1) l[0] = 0; /* an exhausted memoriser: left out */
      write_curve(dir, id, T, l, 12);
    }
  cls_axis_input *in = load(dir);
  assert_string_equal(cls_fit_axis_default(in), "samples");
  cls_fit_options o;
  cls_fit_options_default(&o);
  o.bootstrap = 20;
  cls_fit_axis a;
  assert_int_equal(cls_fit_axis_run(in, "samples", false, &o, &a, err, sizeof err), CLS_OK);
  assert_true(a.from_curves);
  assert_int_equal(a.n_groups, 2);
  assert_int_equal(a.n_zero_loss, 2);
  assert_string_equal(a.groups[0].label, "source=fitted");
  assert_string_equal(a.groups[1].label, "source=real");
  const cls_fit_axis_group *f = &a.groups[0], *r = &a.groups[1];
  assert_true(f->ok && !f->has_theory);
  assert_non_null(strstr(f->theory_why, "fitted"));
  assert_int_equal(f->n_x, 11);
  assert_true(r->ok && r->has_theory);
  assert_int_equal(r->n_x, 12);
  assert_true(fabs(r->th_exponent - 1.0 / 3) < 1e-12);
  assert_true(r->th_max_dev < 1e-9);
  assert_true(fabs(r->th_gamma - r->gamma) < 1e-6);
  cls_fit_axis_free(&a);
  cls_fit_axis_input_destroy(in);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(recovers_known_exponent), cmocka_unit_test(floor_zero),
      cmocka_unit_test(groups_and_seeds),        cmocka_unit_test(bad_input),
      cmocka_unit_test(rf_theory_columns),       cmocka_unit_test(zipf_curves),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
