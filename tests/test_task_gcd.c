/*
 * tests/test_task_gcd.c — the task `gcd` (src/train/task_gcd.c): the
 * registry and the spec checks (base, bound, the context a sequence
 * needs, eval pairs), the parameter count, and a tiny model trained for a
 * few seconds: its loss falls, the summary has the accuracy and
 * points/<id>.outcomes.csv one row per gcd value; a run stopped and
 * resumed gives bitwise the losses of one that was not.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rundir/rundir.h"
#include "sweep/count.h"
#include "test_util.h"
#include "train/loop.h"
#include "train/task.h"

static cls_context *ctx;

static int setup(void **state) {
  (void)state;
  ctx = test_context(NULL, "own");
  return 0;
}

static int teardown(void **state) {
  (void)state;
  cls_context_destroy(ctx);
  return 0;
}

static void gcd_spec(cls_task_spec *s) {
  cls_task_spec_default(s);
  s->task = "gcd";
  s->model = "gpt";
  s->width = 32;
  s->depth = 1;
  s->heads = 2;
  s->batch = 32;
  s->context = 16;
  s->base = 10;
  s->bound = 100;
  s->eval_pairs = 512;
  s->seed = 3;
}

static void gcd_config(cls_train_config *c, const char *out, const char *id, double steps) {
  cls_train_config_default(c);
  c->out_dir = out;
  c->id = id;
  c->budget = steps;
  c->lr = 3e-3;
  c->evals = 6;
  c->eval_batches = 4;
  c->checkpoint_seconds = 0;
  c->device_name = "test";
}

static size_t eval_losses(const char *path, double *out, size_t cap) {
  FILE *f = fopen(path, "r");
  assert_non_null(f);
  char line[512];
  assert_non_null(fgets(line, sizeof line, f));
  size_t n = 0;
  cls_eval_row r;
  while (n < cap && fgets(line, sizeof line, f))
    if (cls_csv_parse_row(line, &r)) out[n++] = r.eval_loss;
  fclose(f);
  return n;
}

static void expect_refused(cls_task_spec *s, cls_status want, const char *words) {
  char err[512] = "";
  cls_status got = cls_task_check(s, err, sizeof err);
  if (got != want || !strstr(err, words)) fail_msg("check -> %d '%s', want %d with '%s'", got, err, want, words);
}

static void test_registry_and_checks(void **state) {
  (void)state;
  const cls_task_info *t = cls_task_find("gcd", NULL);
  assert_non_null(t);
  assert_string_equal(t->model->name, "gpt");
  cls_task_spec s;
  gcd_spec(&s);
  char err[512] = "";
  assert_int_equal(cls_task_check(&s, err, sizeof err), CLS_OK);
  s.base = 1;
  expect_refused(&s, CLS_ERR_INVALID_VALUE, "`base` 1");
  gcd_spec(&s);
  s.bound = 0;
  expect_refused(&s, CLS_ERR_INVALID_VALUE, "`bound` 0");
  /* 10^9 has 10 digits: 3 x 10 + 3 = 33 positions do not fit 16. */
  gcd_spec(&s);
  s.bound = 1000000000;
  expect_refused(&s, CLS_ERR_INVALID_SIZE, "raise `context` to 33");
  s.context = 33;
  assert_int_equal(cls_task_check(&s, err, sizeof err), CLS_OK);
  gcd_spec(&s);
  s.eval_pairs = 0;
  expect_refused(&s, CLS_ERR_INVALID_SIZE, "`eval_pairs`");
  gcd_spec(&s);
  s.width = 30;
  s.heads = 4;
  expect_refused(&s, CLS_ERR_INVALID_VALUE, "not divisible");
  /* The sweep's host-side count is the built model's (vocabulary base + 4). */
  gcd_spec(&s);
  s.base = 30;
  cls_train_task *task = NULL;
  assert_int_equal(cls_task_create(ctx, &s, &task, err, sizeof err), CLS_OK);
  double n, ne;
  assert_true(cls_sweep_count_params(&s, s.width, s.depth, &n, &ne));
  assert_true(n == task->n_params && ne == task->n_params_embed);
  assert_true(ne == (30.0 + 4 + 16) * 32);
  assert_non_null(strstr(task->describe, "gcd base 30 bound 100"));
  assert_non_null(strstr(task->key, "task=gcd\n"));
  cls_task_destroy(task);
}

/* The outcome table: its header, rows in gcd order, examples adding up to
 * the eval pairs, gcd 1 the most frequent. */
static void check_outcomes(const char *dir, const char *id, size_t eval_pairs, size_t min_rows) {
  char path[4200];
  assert_int_equal(cls_rundir_path(path, sizeof path, dir, CLS_RUNDIR_OUTCOMES, id), CLS_OK);
  FILE *f = fopen(path, "r");
  assert_non_null(f);
  char line[512];
  assert_non_null(fgets(line, sizeof line, f));
  assert_string_equal(line, "gcd,examples,correct,accuracy,loss,expected\n");
  unsigned long long k, ex, ok, last = 0, total = 0, first_ex = 0;
  double acc, loss, expected;
  size_t rows = 0;
  while (fgets(line, sizeof line, f)) {
    assert_int_equal(sscanf(line, "%llu,%llu,%llu,%lf,%lf,%lf", &k, &ex, &ok, &acc, &loss, &expected), 6);
    assert_true(k > last && k <= 100 && ok <= ex && ex > 0);
    assert_true(fabs(acc - (double)ok / (double)ex) < 1e-8 && isfinite(loss) && loss >= 0);
    assert_true(expected > 0 && expected < 1);
    if (!rows) first_ex = ex;
    last = k;
    total += ex;
    rows++;
  }
  fclose(f);
  print_message("gcd outcomes: %zu gcd values, %llu of %zu pairs with gcd 1\n", rows, first_ex, eval_pairs);
  assert_true(rows >= min_rows);
  assert_int_equal(total, eval_pairs);
  assert_true(first_ex > eval_pairs / 3); /* P(gcd = 1) is about 0.61 */
}

static void test_trains_and_reports(void **state) {
  (void)state;
  char dir[512];
  test_tmpdir("gcd", dir, sizeof dir);
  cls_task_spec s;
  gcd_spec(&s);
  cls_train_task *t = NULL;
  char err[512] = "";
  cls_status st = cls_task_create(ctx, &s, &t, err, sizeof err);
  if (st != CLS_OK) fail_msg("cls_task_create -> %d: %s", st, err);
  cls_train_config c;
  gcd_config(&c, dir, "tiny", 150);
  cls_train_result *r = calloc(1, sizeof *r);
  st = cls_train_run(t, &c, r);
  if (st != CLS_OK) fail_msg("cls_train_run -> %d: %s", st, r->error);
  assert_int_equal(r->status, CLS_RUN_OK);
  double l[16];
  size_t k = eval_losses(r->csv_path, l, 16);
  assert_true(k >= 4);
  print_message("gcd eval loss (answer tokens) %.4f -> %.4f over 150 steps\n", l[0], l[k - 1]);
  assert_true(l[k - 1] < 0.6 * l[0]);
  /* The summary: the accuracy on held-out pairs and the answer loss. */
  cls_point_summary sum;
  assert_int_equal(cls_point_summary_read(r->json_path, &sum, err, sizeof err), CLS_OK);
  double acc = cls_point_config_num(sum.config, "eval_accuracy");
  double acc1 = cls_point_config_num(sum.config, "eval_accuracy_gcd1");
  double aloss = cls_point_config_num(sum.config, "eval_answer_loss");
  print_message("gcd eval accuracy %.3f (gcd 1: %.3f), answer loss %.4f\n", acc, acc1, aloss);
  assert_true(acc >= 0 && acc <= 1 && acc1 >= 0 && acc1 <= 1 && isfinite(aloss) && aloss > 0);
  assert_true(cls_point_config_num(sum.config, "eval_pairs") == 512);
  assert_true(cls_point_config_num(sum.config, "bound") == 100);
  cls_point_summary_release(&sum);
  check_outcomes(dir, "tiny", 512, 10);
  free(r);
  cls_task_destroy(t);
}

/* A fixed training set, stopped after step 40 and resumed: the same eval
 * losses, bit for bit, as the run that was not stopped (batches are a
 * pure function of the seed and the step). */
static void test_resume_is_exact(void **state) {
  (void)state;
  char dir[512];
  test_tmpdir("gcd-resume", dir, sizeof dir);
  double l[3][16];
  size_t n[3];
  for (int run = 0; run < 3; run++) {
    cls_task_spec s;
    gcd_spec(&s);
    s.train_pairs = 300;
    s.eval_pairs = 64;
    cls_train_task *t = NULL;
    char err[512] = "";
    assert_int_equal(cls_task_create(ctx, &s, &t, err, sizeof err), CLS_OK);
    cls_train_config c;
    gcd_config(&c, dir, run == 0 ? "whole" : "parts", 80);
    if (run == 1) c.stop_after_steps = 40;
    if (run == 2) c.resume = 1;
    cls_train_result *r = calloc(1, sizeof *r);
    cls_status st = cls_train_run(t, &c, r);
    if (st != CLS_OK) fail_msg("cls_train_run -> %d: %s", st, r->error);
    assert_int_equal(r->status, run == 1 ? CLS_RUN_INTERRUPTED : CLS_RUN_OK);
    n[run] = eval_losses(r->csv_path, l[run], 16);
    free(r);
    cls_task_destroy(t);
  }
  assert_int_equal(n[0], n[2]);
  assert_true(n[1] < n[2]);
  assert_memory_equal(l[0], l[2], n[0] * sizeof(double));
  check_outcomes(dir, "parts", 64, 3);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_registry_and_checks),
      cmocka_unit_test(test_trains_and_reports),
      cmocka_unit_test(test_resume_is_exact),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
