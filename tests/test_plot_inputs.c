/*
 * tests/test_plot_inputs.c — what the plotter reads: missing, empty,
 * truncated and malformed run-directory files give a clear error naming the
 * file (and field); NaN/Inf values and failed runs are skipped with a
 * warning; an unwritable output directory is an error, not a crash.
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

#include "data/plot/synth_rundir.h"
#include "plot/figures.h"
#include "test_util.h"

static void write_file(const char *dir, const char *name, const char *text) {
  char path[1200];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "w");
  if (!f) fail_msg("cannot write %s", path);
  fputs(text, f);
  fclose(f);
}

/* A run directory with one good point (and its curve); returns its path. */
static void good_rundir(const char *tag, char *dir, size_t len) {
  test_tmpdir(tag, dir, len);
  char p[1100];
  snprintf(p, sizeof p, "%s/points", dir);
  mkdir(p, 0777);
  write_file(dir, "points/a.json",
             "{\"id\": \"a\", \"status\": \"ok\", \"n_params\": 1e6, \"tokens\": 2e7, \"flops\": 1.2e14, "
             "\"budget_flops\": 1.2e14, \"final_eval_loss\": 3.5}\n");
  write_file(
      dir, "points/a.csv",
      "step,tokens,flops,flops_6nd,train_loss,eval_loss,lr,seconds\n"
      "1,1e6,6e12,6e12,5.0,5.1,1e-3,1\n2,1e7,6e13,6e13,4.0,4.1,1e-3,2\n3,2e7,1.2e14,1.2e14,3.4,3.5,1e-4,3\n");
}

static cls_status load(const char *dir, cls_rundir **rd, char *err, size_t len) {
  *rd = NULL;
  return cls_rundir_load(dir, rd, err, len);
}

static bool has_warning(const cls_rundir *rd, const char *needle) {
  for (size_t i = 0; i < rd->n_warnings; i++)
    if (strstr(rd->warnings[i], needle)) return true;
  return false;
}

static void test_good_rundir(void **state) {
  (void)state;
  char dir[1024], err[1024];
  cls_rundir *rd;
  good_rundir("plot-in-good", dir, sizeof dir);
  assert_int_equal(load(dir, &rd, err, sizeof err), CLS_OK);
  assert_int_equal(rd->n_points, 1);
  assert_true(rd->points[0].usable);
  assert_string_equal(rd->points[0].id, "a");
  assert_int_equal(rd->points[0].curve.n, 3);
  assert_true(fabs(rd->points[0].curve.eval_loss[2] - 3.5) < 1e-12);
  assert_true(fabs(rd->points[0].tokens - 2e7) < 1);
  assert_int_equal(rd->n_warnings, 0);
  cls_rundir_destroy(rd);
}

static void test_missing_dir(void **state) {
  (void)state;
  char err[1024] = "";
  cls_rundir *rd;
  assert_int_equal(load("/no/such/run-dir", &rd, err, sizeof err), CLS_ERR_IO);
  assert_null(rd);
  assert_non_null(strstr(err, "/no/such/run-dir"));
  /* a directory with nothing the plotter can use */
  char dir[1024];
  test_tmpdir("plot-in-empty", dir, sizeof dir);
  cls_plot_options opt = {5, 4, 80, NULL};
  int written = -1;
  assert_int_equal(cls_plot_run(dir, NULL, 0, &opt, NULL, NULL, &written, err, sizeof err), CLS_ERR_FORMAT);
  assert_non_null(strstr(err, "none of points/"));
  /* points/ that holds no summaries: read as no points (it sorted a NULL
   * list of names, undefined behaviour that UBSan reported) */
  char pdir[1100];
  snprintf(pdir, sizeof pdir, "%s/points", dir);
  assert_int_equal(mkdir(pdir, 0755), 0);
  cls_rundir *empty = NULL;
  assert_int_equal(load(dir, &empty, err, sizeof err), CLS_OK);
  assert_non_null(empty);
  assert_int_equal(empty->n_points, 0);
  cls_rundir_destroy(empty);
}

static void expect_load_error(const char *tag, const char *file, const char *text, cls_status want,
                              const char *needle1, const char *needle2) {
  char dir[1024], err[1024] = "";
  cls_rundir *rd;
  good_rundir(tag, dir, sizeof dir);
  write_file(dir, file, text);
  cls_status st = load(dir, &rd, err, sizeof err);
  if (st != want) fail_msg("%s: status %d, want %d (%s)", file, st, want, err);
  assert_null(rd);
  if (!strstr(err, needle1)) fail_msg("message '%s' lacks '%s'", err, needle1);
  if (needle2 && !strstr(err, needle2)) fail_msg("message '%s' lacks '%s'", err, needle2);
}

static void test_bad_files(void **state) {
  (void)state;
  expect_load_error("plot-in-e1", "points/b.json", "", CLS_ERR_FORMAT, "b.json", "empty");
  expect_load_error("plot-in-e2", "points/b.json", "{\"id\": \"b\", \"n_params\": 1e6, \"tok", CLS_ERR_FORMAT,
                    "b.json", "truncated");
  expect_load_error("plot-in-e3", "points/b.json", "{\"id\": \"b\", \"tokens\": 5}", CLS_ERR_FORMAT, "b.json",
                    "n_params");
  expect_load_error("plot-in-e4", "points/b.json", "[1, 2]", CLS_ERR_FORMAT, "b.json", "object");
  expect_load_error("plot-in-e5", "points/a.csv", "", CLS_ERR_FORMAT, "a.csv", "empty");
  expect_load_error("plot-in-e6", "points/a.csv", "step,tokens,flops,eval_loss\n1,1e6,6e12,5.1\n2,1e7,6e1",
                    CLS_ERR_FORMAT, "a.csv", "truncated");
  expect_load_error("plot-in-e7", "points/a.csv", "step,tokens,flops,eval_loss\n1,1e6,6e12,oops\n", CLS_ERR_FORMAT,
                    "a.csv", "not a number");
  expect_load_error("plot-in-e8", "manifest.json", "{\"name\": ", CLS_ERR_FORMAT, "manifest.json",
                    "not valid JSON");
}

/* NaN/Inf in a curve and null or failed runs are warnings, not errors: the
 * rest is still plotted, and a NaN never becomes a 0. */
static void test_nan_and_failed_runs(void **state) {
  (void)state;
  char dir[1024], err[1024];
  cls_rundir *rd;
  good_rundir("plot-in-nan", dir, sizeof dir);
  write_file(dir, "points/a.csv",
             "step,tokens,flops,eval_loss\n1,1e6,6e12,5.1\n2,1e7,6e13,nan\n3,2e7,1.2e14,inf\n4,3e7,1.8e14,\n");
  write_file(dir, "points/b.json",
             "{\"status\": \"diverged\", \"n_params\": 2e6, \"tokens\": 1e7, \"flops\": 1e14, "
             "\"final_eval_loss\": null}");
  write_file(
      dir, "points/c.json",
      "{\"status\": \"ok\", \"n_params\": 3e6, \"tokens\": 1e7, \"flops\": 1e14, \"final_eval_loss\": null}");
  assert_int_equal(load(dir, &rd, err, sizeof err), CLS_OK);
  assert_int_equal(rd->n_points, 3);
  assert_true(rd->points[0].usable && !rd->points[1].usable && !rd->points[2].usable);
  assert_true(has_warning(rd, "a.csv: 3 rows with a non-finite eval_loss skipped"));
  assert_true(has_warning(rd, "b.json: status \"diverged\""));
  assert_true(has_warning(rd, "c.json: final_eval_loss is missing, null"));
  assert_true(isnan(rd->points[0].curve.eval_loss[1]) && isnan(rd->points[0].curve.eval_loss[2]));
  assert_true(isnan(rd->points[0].curve.eval_loss[3]));
  cls_rundir_destroy(rd);
  /* through cls_plot_run: figures still drawn, warnings reported */
  cls_plot_options opt = {5, 4, 80, NULL};
  int written = 0;
  assert_int_equal(cls_plot_run(dir, NULL, 1u << CLS_PLOT_LOSS_FLOPS, &opt, NULL, NULL, &written, err, sizeof err),
                   CLS_OK);
  assert_int_equal(written, 1);
}

/* A column the figure needs is missing: skipped, naming the column. */
static void test_missing_column(void **state) {
  (void)state;
  char dir[1024], err[1024], why[1000];
  cls_rundir *rd;
  good_rundir("plot-in-col", dir, sizeof dir);
  write_file(dir, "points/a.csv", "step,tokens,eval_loss\n1,1e6,5.1\n2,1e7,4.1\n");
  assert_int_equal(load(dir, &rd, err, sizeof err), CLS_OK);
  cls_plot_inputs in = {rd, NULL, NULL, "fit.json not found", NULL, NULL};
  cls_plot_options opt = {5, 4, 80, NULL};
  cls_figure *fig = NULL;
  assert_int_equal(cls_plot_build(CLS_PLOT_LOSS_FLOPS, &in, &opt, &fig, why, sizeof why), CLS_OK);
  assert_null(fig);
  assert_non_null(strstr(why, "column 'flops'"));
  assert_non_null(strstr(why, "points/a.csv"));
  /* no budget_flops: the isoFLOP figure says so */
  rd->points[0].budget_flops = NAN;
  assert_int_equal(cls_plot_build(CLS_PLOT_ISOFLOP, &in, &opt, &fig, why, sizeof why), CLS_OK);
  assert_null(fig);
  assert_non_null(strstr(why, "budget_flops"));
  cls_rundir_destroy(rd);
}

static void test_fit_json(void **state) {
  (void)state;
  char dir[1024], path[1100], err[1024] = "";
  test_tmpdir("plot-in-fit", dir, sizeof dir);
  assert_int_equal(syn_write_rundir(dir, 1, 0), 0);
  snprintf(path, sizeof path, "%s/fit.json", dir);
  cls_fit *fit = NULL;
  assert_int_equal(cls_fit_load(path, &fit, err, sizeof err), CLS_OK);
  assert_true(fit->has_frontier && fit->has_parametric);
  assert_int_equal(fit->n_budgets, 5);
  assert_true(fit->n_opt_fit.present && fit->n_opt_fit.band_n == 24);
  assert_true(fabs(fit->alpha - 0.34) < 1e-9 && fit->n_param_points > 20);
  assert_true(fit->n_opt_fit.exponent > 0.3 && fit->n_opt_fit.exponent < 0.7);
  cls_fit_destroy(fit);
  /* missing: CLS_ERR_IO, which callers read as "no fit" */
  assert_int_equal(cls_fit_load("/no/such/fit.json", &fit, err, sizeof err), CLS_ERR_IO);
  /* a section with a missing field names it */
  write_file(dir, "fit.json",
             "{\"isoflop\": {\"budgets\": [{\"budget_flops\": 1e17, \"a\": 1, \"b\": -2, \"c\": 3, "
             "\"d_opt\": 1e9, \"loss_opt\": 2.1}]}}");
  assert_int_equal(cls_fit_load(path, &fit, err, sizeof err), CLS_ERR_FORMAT);
  assert_non_null(strstr(err, "isoflop.budgets[0].n_opt"));
  write_file(dir, "fit.json",
             "{\"parametric\": {\"E\": 1.7, \"A\": null, \"alpha\": 0.3, \"B\": 4, \"beta\": 0.3}}");
  assert_int_equal(cls_fit_load(path, &fit, err, sizeof err), CLS_ERR_FORMAT);
  assert_non_null(strstr(err, "parametric.A"));
  /* a corrupt fit.json stops `clscale plot` with its name */
  write_file(dir, "fit.json", "{\"frontier\": {\"E\": 1.7, ");
  cls_plot_options opt = {5, 4, 80, NULL};
  int written = 0;
  assert_int_equal(cls_plot_run(dir, NULL, 0, &opt, NULL, NULL, &written, err, sizeof err), CLS_ERR_FORMAT);
  assert_non_null(strstr(err, "fit.json"));
  assert_int_equal(written, 0);
}

static void test_coord_check_file(void **state) {
  (void)state;
  char dir[1024], path[1100], err[1024] = "";
  test_tmpdir("plot-in-cc", dir, sizeof dir);
  snprintf(path, sizeof path, "%s/coord_check.csv", dir);
  cls_coord_check *cc = NULL;
  size_t bad = 0;
  write_file(dir, "coord_check.csv", "param,width,step,value\nmup,64,1,1.0\n");
  assert_int_equal(cls_coord_check_load(path, &cc, &bad, err, sizeof err), CLS_ERR_FORMAT);
  assert_non_null(strstr(err, "no column 'layer'"));
  write_file(dir, "coord_check.csv", "param,layer,width,step,value\n");
  assert_int_equal(cls_coord_check_load(path, &cc, &bad, err, sizeof err), CLS_ERR_FORMAT);
  assert_non_null(strstr(err, "no rows"));
  write_file(dir, "coord_check.csv", "param,layer,width,step,value\nmup,attn,64,1,1.0\nmup,attn,128,1,nan\n");
  assert_int_equal(cls_coord_check_load(path, &cc, &bad, err, sizeof err), CLS_OK);
  assert_int_equal(bad, 1);
  assert_int_equal(cc->n, 2);
  assert_string_equal(cc->rows[0].layer, "attn");
  cls_coord_check_destroy(cc);
}

/* Output that cannot be written is an error naming the path. */
static void test_unwritable_output(void **state) {
  (void)state;
  char dir[1024], out[1200], err[1024] = "";
  good_rundir("plot-in-out", dir, sizeof dir);
  write_file(dir, "blocker", "a regular file where a directory is wanted\n");
  snprintf(out, sizeof out, "%s/blocker/plots", dir);
  cls_plot_options opt = {5, 4, 80, NULL};
  int written = 0;
  assert_int_equal(cls_plot_run(dir, out, 0, &opt, NULL, NULL, &written, err, sizeof err), CLS_ERR_IO);
  assert_non_null(strstr(err, "blocker"));
  assert_non_null(strstr(err, "`out_dir`")); /* the command says --output */
  assert_int_equal(written, 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_good_rundir),      cmocka_unit_test(test_missing_dir),
      cmocka_unit_test(test_bad_files),        cmocka_unit_test(test_nan_and_failed_runs),
      cmocka_unit_test(test_missing_column),   cmocka_unit_test(test_fit_json),
      cmocka_unit_test(test_coord_check_file), cmocka_unit_test(test_unwritable_output),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
