/*
 * tests/test_fit_inputs.c — what the fitter reads: a run directory (curves,
 * budgets, failed runs, the train loss) and a CSV of runs (column aliases, C
 * or D derived from C = 6ND); bad inputs give a clear error, never a crash;
 * too few runs leave each fit out with the reason.
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

#include "fit/fit.h"
#include "rundir/runs.h"
#include "test_util.h"

static void write_file(const char *dir, const char *name, const char *text) {
  char path[1200];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "w");
  if (!f) fail_msg("cannot write %s", path);
  fputs(text, f);
  fclose(f);
}

static void make_points(const char *dir) {
  char p[1100];
  snprintf(p, sizeof p, "%s/points", dir);
  mkdir(p, 0777);
}

static void test_rundir_points_and_curves(void **state) {
  (void)state;
  char dir[1024], err[1024] = "";
  test_tmpdir("fit_rundir", dir, sizeof dir);
  make_points(dir);
  write_file(
      dir, "points/a.json",
      "{\"status\": \"ok\", \"n_params\": 1e6, \"tokens\": 2e7, \"flops\": 1.3e14, \"budget_flops\": 1.2e14, "
      "\"final_eval_loss\": 3.5, \"final_train_loss\": 3.4}\n");
  write_file(
      dir, "points/a.csv",
      "step,tokens,flops,flops_6nd,train_loss,eval_loss,lr,seconds\n"
      "1,1e6,6e12,6e12,5.0,5.1,1e-3,1\n2,1e7,6e13,6e13,4.0,nan,1e-3,2\n3,2e7,1.3e14,1.2e14,3.4,3.5,1e-4,3\n");
  /* no curve, no measured flops: C = flops_6nd, the final point is its curve */
  write_file(
      dir, "points/b.json",
      "{\"status\": \"ok\", \"n_params\": 2e6, \"tokens\": 1e7, \"flops_6nd\": 1.2e14, \"final_eval_loss\": 3.6, "
      "\"final_train_loss\": null}\n");
  write_file(dir, "points/c.json",
             "{\"status\": \"failed\", \"error\": \"out of memory\", \"n_params\": 4e6, \"tokens\": null, "
             "\"flops\": null, \"final_eval_loss\": null}\n");
  cls_fit_input *in = NULL;
  cls_status st = cls_fit_input_from_rundir(dir, false, &in, err, sizeof err);
  if (st) fail_msg("%s", err);
  assert_int_equal(in->n_pts, 2);
  assert_string_equal(in->pts[0].id, "a");
  assert_true(in->pts[0].c == 1.3e14 && in->pts[0].budget == 1.2e14 && in->pts[0].loss == 3.5);
  assert_int_equal(in->pts[0].curve_n, 2); /* the nan row is skipped */
  assert_true(in->curve_c[in->pts[0].curve0 + 1] == 1.3e14);
  assert_true(in->pts[1].c == 1.2e14 && isnan(in->pts[1].budget));
  assert_int_equal(in->pts[1].curve_n, 1);
  bool warned = false;
  for (size_t i = 0; i < in->n_warnings; i++) warned |= strstr(in->warnings[i], "c.json") != NULL;
  assert_true(warned);
  cls_fit_input_destroy(in);
  /* the train loss: b has none, so only a remains */
  st = cls_fit_input_from_rundir(dir, true, &in, err, sizeof err);
  if (st) fail_msg("%s", err);
  assert_int_equal(in->n_pts, 1);
  assert_true(in->pts[0].loss == 3.4);
  assert_true(in->train_loss);
  cls_fit_input_destroy(in);
}

static void expect_rundir_error(const char *dir, cls_status want, const char *needle) {
  char err[1024] = "";
  cls_fit_input *in = (cls_fit_input *)1;
  cls_status st = cls_fit_input_from_rundir(dir, false, &in, err, sizeof err);
  assert_int_equal(st, want);
  assert_null(in);
  if (!strstr(err, needle)) fail_msg("error '%s' does not mention '%s'", err, needle);
}

static void test_rundir_errors(void **state) {
  (void)state;
  char dir[1024];
  expect_rundir_error("/no/such/run/dir", CLS_ERR_IO, "No such file");
  test_tmpdir("fit_empty", dir, sizeof dir);
  expect_rundir_error(dir, CLS_ERR_INVALID_VALUE, "no points/ folder");
  make_points(dir);
  expect_rundir_error(dir, CLS_ERR_INVALID_VALUE, "no <id>.json");
  write_file(dir, "points/a.json", "{\"status\": \"ok\", \"n_params\": 1e6, \"tokens\": 2e7, \"flops\": ");
  expect_rundir_error(dir, CLS_ERR_FORMAT, "not valid JSON");
  write_file(dir, "points/a.json",
             "{\"status\": \"ok\", \"n_params\": 1e6, \"tokens\": 2e7, \"flops\": 1e14, \"final_eval_loss\": -1}");
  expect_rundir_error(dir, CLS_ERR_FORMAT, "\"final_eval_loss\" is -1; it must be a finite number >= 0");
  /* A status of the wrong type is not "absent, hence ok" (issue 14). */
  write_file(dir, "points/a.json", "{\"status\": 7, \"n_params\": 1e6, \"tokens\": 2e7, \"flops\": 1e14}");
  expect_rundir_error(dir, CLS_ERR_FORMAT, "\"status\" is a number; it must be a string");
  write_file(dir, "points/a.json", "{\"n_params\": \"1e6\", \"tokens\": 2e7}");
  expect_rundir_error(dir, CLS_ERR_FORMAT, "\"n_params\" is a string; it must be a finite number");
  write_file(dir, "points/a.json", "{\"n_params\": 1e6, \"steps\": 2.5}");
  expect_rundir_error(dir, CLS_ERR_FORMAT, "\"steps\" is 2.5; it must be a whole number");
  write_file(
      dir, "points/a.json",
      "{\"status\": \"ok\", \"n_params\": 1e6, \"tokens\": 2e7, \"flops\": 1e14, \"final_eval_loss\": null}");
  expect_rundir_error(dir, CLS_ERR_INVALID_VALUE, "none of the 1 runs");
  write_file(dir, "points/a.json",
             "{\"status\": \"ok\", \"n_params\": 1e6, \"tokens\": 2e7, \"flops\": 1e14, \"final_eval_loss\": 3}");
  write_file(dir, "points/a.csv", "step,flops,eval_loss\n1,1e13,4\n\n2,1e14,-3\n");
  expect_rundir_error(dir, CLS_ERR_FORMAT, "points/a.csv line 4: eval_loss -3 is negative");
}

/* Fit and plot read a run directory through one reader: the same points
 * skipped with the same words (issue 14: plot drew what fit refused). */
static void test_rundir_same_for_plot_and_fit(void **state) {
  (void)state;
  char dir[1024], err[1024] = "";
  test_tmpdir("fit_same", dir, sizeof dir);
  make_points(dir);
  const char *good = "{\"status\": \"ok\", \"n_params\": 1e6, \"tokens\": 2e7, \"flops\": 1e14, "
                     "\"final_eval_loss\": 3}";
  write_file(dir, "points/a.json", good);
  write_file(dir, "points/b.json",
             "{\"status\": \"ok\", \"n_params\": 1e6, \"tokens\": 2e7, \"flops\": 1e14, \"final_eval_loss\": 0}");
  write_file(dir, "points/c.json", "{\"status\": \"diverged\", \"n_params\": 1e6}");
  write_file(dir, "points/a.csv", "step,flops,eval_loss\n1,1e13,0\n2,1e14,3\n");
  cls_rundir *rd = NULL;
  cls_fit_input *in = NULL;
  assert_int_equal(cls_rundir_load(dir, &rd, err, sizeof err), CLS_OK);
  assert_int_equal(cls_fit_input_from_rundir(dir, false, &in, err, sizeof err), CLS_OK);
  size_t drawn = 0;
  for (size_t i = 0; i < rd->n_points; i++) drawn += rd->points[i].usable;
  assert_int_equal(drawn, 1);
  assert_int_equal(in->n_pts, 1);
  assert_string_equal(in->pts[0].id, "a");
  assert_int_equal(in->n_curve, 1); /* the zero-loss row: a result, left out of the log-loss fits */
  assert_int_equal(in->n_warnings, rd->n_warnings + 1);
  assert_non_null(strstr(in->warnings[rd->n_warnings], "points/a.csv: 1 row with a zero eval_loss left out"));
  for (size_t i = 0; i < rd->n_warnings; i++) {
    const char *fig = strstr(rd->warnings[i], "of the figures");
    if (fig)
      assert_non_null(strstr(in->warnings[i], "of the fits"));
    else
      assert_string_equal(in->warnings[i], rd->warnings[i]);
  }
  assert_non_null(strstr(rd->warnings[0], "points/b.json: final_eval_loss is missing, null or not a positive"));
  cls_fit_input_destroy(in);
  cls_rundir_destroy(rd);
}

static void test_csv_aliases(void **state) {
  (void)state;
  char dir[1024], path[1200], err[1024] = "";
  test_tmpdir("fit_csv", dir, sizeof dir);
  snprintf(path, sizeof path, "%s/runs.csv", dir);
  /* only C: D = C/(6N); column names in any case, any order */
  write_file(dir, "runs.csv", "Loss,FLOPS,n_params,id\n3.0,6e15,1e7,x1\n2.9,1.2e16,1e7,x2\n");
  cls_fit_input *in = NULL;
  cls_status st = cls_fit_input_from_csv(path, &in, err, sizeof err);
  if (st) fail_msg("%s", err);
  assert_int_equal(in->n_pts, 2);
  assert_string_equal(in->pts[1].id, "x2");
  assert_true(fabs(in->pts[0].d - 1e8) < 1e-3 && in->pts[0].c == 6e15 && in->pts[0].loss == 3.0);
  cls_fit_input_destroy(in);
  /* only D: C = 6ND */
  write_file(dir, "runs.csv", "N,tokens,loss,budget\n1e7,1e8,3.0,6e15\n");
  st = cls_fit_input_from_csv(path, &in, err, sizeof err);
  if (st) fail_msg("%s", err);
  assert_true(in->pts[0].c == 6e15 && in->pts[0].budget == 6e15 && !strcmp(in->pts[0].id, "row1"));
  cls_fit_input_destroy(in);
  const char *bad[][2] = {
      {"N,D,loss\n1e7,1e8,NaN\n", "loss = 'NaN'"},
      {"N,D,loss\n1e7,1e8,-inf\n", "loss = '-inf'"},
      {"N,D,loss\n1e7,1e8,0\n", "loss = '0'"},
      {"N,D,loss\n-1e7,1e8,3\n", "N = '-1e7'"},
      {"N,D,loss\n1e7,,3\n", "D = ''"},
      {"N,D,loss\n1e7,1e8,3,4\n", "has 4 fields"},
      {"N,D\n1e7,1e8\n", "missing: loss"},
      {"N,loss\n1e7,3\n", "missing: D or C"},
      {"\n\n", "is empty"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    write_file(dir, "runs.csv", bad[i][0]);
    in = (cls_fit_input *)1;
    st = cls_fit_input_from_csv(path, &in, err, sizeof err);
    assert_int_equal(st, CLS_ERR_FORMAT);
    assert_null(in);
    if (!strstr(err, bad[i][1])) fail_msg("case %zu: error '%s' does not mention '%s'", i, err, bad[i][1]);
  }
}

/* Too few runs: each fit says what it needs; nothing crashes. */
static void test_too_few_runs(void **state) {
  (void)state;
  double N[4] = {1e7, 2e7, 4e7, 8e7}, D[4] = {1e9, 5e8, 2.5e8, 1.25e8}, C[4], L[4] = {3.1, 3.0, 3.05, 3.2};
  for (int i = 0; i < 4; i++) C[i] = 6 * N[i] * D[i];
  for (size_t n = 0; n <= 4; n++) {
    cls_fit_input *in;
    assert_int_equal(cls_fit_input_from_arrays(n, N, D, C, NULL, L, &in), CLS_OK);
    cls_fit_options o;
    cls_fit_options_default(&o);
    o.bootstrap = 10;
    o.starts = 20;
    cls_fit_result r;
    assert_int_equal(cls_fit_all(in, &o, &r), CLS_OK);
    assert_false(r.parametric.ok);
    assert_non_null(strstr(r.parametric.why, "at least 5 runs"));
    assert_false(r.isoflop.ok);
    if (n < 2) assert_false(r.frontier.ok);
    /* 4 runs at one budget: the parabola works, the power laws need 2 budgets */
    if (n == 4) {
      assert_int_equal(r.isoflop.n_used, 1);
      assert_non_null(strstr(r.isoflop.why, "at least 2 compute budgets"));
    }
    cls_fit_result_free(&r);
    cls_fit_input_destroy(in);
  }
  double bad = NAN;
  cls_fit_input *in = (cls_fit_input *)1;
  assert_int_equal(cls_fit_input_from_arrays(1, N, D, C, NULL, &bad, &in), CLS_ERR_INVALID_VALUE);
  assert_null(in);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_rundir_points_and_curves),
      cmocka_unit_test(test_rundir_errors),
      cmocka_unit_test(test_rundir_same_for_plot_and_fit),
      cmocka_unit_test(test_csv_aliases),
      cmocka_unit_test(test_too_few_runs),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
