/*
 * tests/test_sweep_run.c — the sweep on the device: the host parameter
 * counts (sweep/count.h) equal the models' own; the runner with two workers
 * (two contexts on the one device here) runs points concurrently and gets
 * the losses of a single worker, bit for bit; a point whose budget is less
 * than one step is recorded as "failed" and the others still run; a
 * calibration measures a step; the test task (linreg, added as one file
 * and one registry line) runs as a sweep with nothing else to change.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/emulator.h"
#include "nn/gpt.h"
#include "sweep/calibrate.h"
#include "sweep/count.h"
#include "sweep/plan.h"
#include "sweep/rundir.h"
#include "sweep/runner.h"
#include "sweep/spec.h"
#include "test_util.h"

static char err[4096];

static void test_counts_match_models(void **state) {
  (void)state;
  cls_context *ctx = test_context(NULL, NULL);
  cls_task_spec base;
  cls_task_spec_default(&base);
  static const size_t shapes[][3] = {{8, 1, 2}, {24, 3, 4}, {64, 2, 4}};
  for (size_t i = 0; i < 3; i++) {
    const size_t w = shapes[i][0], d = shapes[i][1], h = shapes[i][2];
    double n, ne;
    base.model = "emulator";
    base.label_tokens = i + 3;
    assert_true(cls_sweep_count_params(&base, w, d, &n, &ne));
    cls_emulator_config ec;
    cls_emulator_config_default(&ec);
    ec.width = w;
    ec.depth = d;
    ec.heads = h;
    ec.n_tokens = base.label_tokens;
    cls_emulator *em;
    TEST_OK(ctx, cls_emulator_create(ctx, &ec, 1, 4, 1, &em));
    const cls_param_table *pt = cls_emulator_params(em);
    assert_true(n == (double)cls_param_count(pt, 0));
    assert_true(ne == (double)cls_param_count(pt, 1) - n);
    cls_emulator_destroy(em);

    base.model = "gpt";
    base.context = 8 + i;
    assert_true(cls_sweep_count_params(&base, w, d, &n, &ne));
    cls_gpt_config gc;
    cls_gpt_config_default(&gc);
    gc.width = w;
    gc.depth = d;
    gc.heads = h;
    gc.context = base.context;
    cls_gpt *g;
    TEST_OK(ctx, cls_gpt_create(ctx, &gc, 1, 4, 1, &g));
    pt = cls_gpt_params(g);
    assert_true(n == (double)cls_param_count(pt, 0));
    assert_true(ne == (double)cls_param_count(pt, 1) - n);
    cls_gpt_destroy(g);
  }
  base.model = "nope";
  double n, ne;
  assert_false(cls_sweep_count_params(&base, 8, 1, &n, &ne));
  cls_context_destroy(ctx);
}

/* Tiny emulators: 6 points that train, 2 whose budget (1000 FLOPs) is less
 * than a step. */
static const char *spec_text =
    "{\"name\": \"runner-test\", \"task\": \"spectra\", \"mode\": \"curves\", \"widths\": [8, 16], \"depth\": 1, "
    "\"heads\": 2, \"budgets_flops\": [1000, 3e7, 6e7, 1.2e8], \"batch\": 2, \"pixels\": 16, \"n_train\": 16, "
    "\"n_test\": 4, \"n_pixels\": 200, \"evals\": 3, \"eval_batches\": 1, \"lr\": 0.01}";

typedef struct {
  int running, max_running, workers_seen[2], done;
} tally;

static void on_start(void *user, size_t w, const cls_sweep_point *p, int resuming) {
  tally *t = user;
  (void)p;
  assert_false(resuming);
  if (++t->running > t->max_running) t->max_running = t->running;
  if (w < 2) t->workers_seen[w] = 1;
}

static void on_done(void *user, size_t w, const cls_sweep_point *p, const cls_sweep_outcome *o) {
  tally *t = user;
  (void)w;
  (void)p;
  (void)o;
  t->running--;
  t->done++;
}

static void run_sweep(const cls_sweep_spec *s, const cls_sweep_point *pts, size_t n, const char *dir,
                      size_t workers, cls_sweep_outcome *out, tally *t) {
  const char *devs[2] = {NULL, NULL}; /* the default device, twice */
  cls_sweep_run_config rc = {.out_dir = dir,
                             .devices = devs,
                             .n_devices = workers,
                             .matmul_backend = "own",
                             .cb = {t, on_start, NULL, on_done, NULL, NULL, NULL}};
  cls_sweep_manifest_info info = {"test", "default"};
  int created;
  assert_int_equal(cls_sweep_manifest_ensure(dir, s, pts, n, &info, &created, err, sizeof err), CLS_OK);
  assert_int_equal(created, 1);
  cls_status st = cls_sweep_run(s, pts, n, &rc, out, err, sizeof err);
  if (st != CLS_OK) fail_msg("%s", err);
}

static void test_runner_workers_and_failures(void **state) {
  (void)state;
  cls_sweep_spec *s;
  if (cls_sweep_spec_parse(spec_text, "t.json", NULL, &s, err, sizeof err) != CLS_OK) fail_msg("%s", err);
  cls_sweep_point *pts;
  size_t n;
  assert_int_equal(cls_sweep_plan(s, &pts, &n, err, sizeof err), CLS_OK);
  assert_int_equal(n, 8);
  char one[512], two[512];
  test_tmpdir("sweep-run-one", one, sizeof one);
  test_tmpdir("sweep-run-two", two, sizeof two);
  cls_sweep_outcome a[8], b[8];
  tally ta = {0}, tb = {0};
  run_sweep(s, pts, n, one, 1, a, &ta);
  run_sweep(s, pts, n, two, 2, b, &tb);
  assert_int_equal(ta.done, 8);
  assert_int_equal(tb.done, 8);
  assert_int_equal(ta.max_running, 1);
  /* two workers: two points at once, each worker with some */
  assert_int_equal(tb.max_running, 2);
  assert_true(tb.workers_seen[0] && tb.workers_seen[1]);
  for (size_t i = 0; i < n; i++) {
    assert_true(a[i].ran && b[i].ran);
    const int tiny = pts[i].budget.value == 1000;
    const cls_run_status want = tiny ? CLS_RUN_FAILED : CLS_RUN_OK;
    if (a[i].status != want || b[i].status != want)
      fail_msg("%s: status %d / %d, expected %d (%s)", pts[i].id, a[i].status, b[i].status, want, a[i].error);
    /* recorded in the run directory */
    double la, lb;
    assert_int_equal(cls_rundir_point_state(one, pts[i].id, &la), tiny ? CLS_POINT_FAILED : CLS_POINT_OK);
    assert_int_equal(cls_rundir_point_state(two, pts[i].id, &lb), tiny ? CLS_POINT_FAILED : CLS_POINT_OK);
    if (tiny) {
      assert_non_null(strstr(a[i].error, "less than one step"));
      continue;
    }
    /* the same losses with one worker or two */
    assert_true(isfinite(a[i].final_eval_loss));
    if (a[i].final_eval_loss != b[i].final_eval_loss || la != lb)
      fail_msg("%s: loss %.9g with one worker, %.9g with two", pts[i].id, a[i].final_eval_loss,
               b[i].final_eval_loss);
    assert_true(a[i].flops <= pts[i].budget.value && a[i].flops > 0.5 * pts[i].budget.value);
    assert_true(a[i].n_params == pts[i].n_params);
  }
  free(pts);
  cls_sweep_spec_free(s);
}

static void test_calibration(void **state) {
  (void)state;
  cls_sweep_spec *s;
  if (cls_sweep_spec_parse(spec_text, "t.json", NULL, &s, err, sizeof err) != CLS_OK) fail_msg("%s", err);
  cls_sweep_point *pts;
  size_t n;
  assert_int_equal(cls_sweep_plan(s, &pts, &n, err, sizeof err), CLS_OK);
  cls_context *ctx = test_context(NULL, "own");
  cls_sweep_calibration c;
  if (cls_sweep_calibrate(ctx, s, &pts[n - 1], 3, &c, err, sizeof err) != CLS_OK) fail_msg("%s", err);
  assert_true(c.flops_per_step > 0 && c.seconds_per_step > 0 && c.overhead_seconds > 0);
  assert_true(c.tokens_per_step == 2 * 16);
  assert_true(c.train_examples == 16);
  assert_true(c.n_params == pts[n - 1].n_params);
  cls_sweep_estimate e;
  cls_sweep_estimate_point(s, &pts[n - 1], &c, &e);
  assert_true(e.steps == (uint64_t)floor(pts[n - 1].budget.value / c.flops_per_step));
  assert_true(e.tokens == (double)e.steps * 32 && e.flops <= pts[n - 1].budget.value && e.seconds > 0);
  cls_sweep_estimate_point(s, &pts[0], &c, &e); /* 1000 FLOPs: below a step */
  assert_int_equal(e.steps, 0);
  cls_context_destroy(ctx);
  free(pts);
  cls_sweep_spec_free(s);
}

/* The linear regression test task as an IsoFLOP sweep: sized by target
 * parameter counts through its registry entry, every point trains. */
static void test_linreg_sweep(void **state) {
  (void)state;
  static const char *text = "{\"name\": \"linreg\", \"task\": \"linreg\", \"mode\": \"isoflop\", "
                            "\"target_params\": [5, 9, 17], \"depth\": 1, \"heads\": 1, "
                            "\"budgets_flops\": [3e6, 1e7], \"batch\": 16, \"n_train\": 256, "
                            "\"n_test\": 64, \"weight_decay\": 0, \"lr\": 0.05, \"evals\": 3, "
                            "\"eval_batches\": 2}";
  cls_sweep_spec *s;
  if (cls_sweep_spec_parse(text, "linreg.json", NULL, &s, err, sizeof err) != CLS_OK) fail_msg("%s", err);
  assert_string_equal(s->model, "linear");
  assert_int_equal(s->n_shapes, 3);
  for (size_t i = 0; i < 3; i++) assert_int_equal(s->shapes[i].width, (size_t)4 << i); /* N = width + 1 */
  cls_sweep_point *pts;
  size_t n;
  assert_int_equal(cls_sweep_plan(s, &pts, &n, err, sizeof err), CLS_OK);
  assert_int_equal(n, 6);
  char dir[512];
  test_tmpdir("sweep-linreg", dir, sizeof dir);
  cls_sweep_outcome out[6];
  tally t = {0};
  run_sweep(s, pts, n, dir, 1, out, &t);
  for (size_t i = 0; i < n; i++) {
    if (out[i].status != CLS_RUN_OK) fail_msg("%s: status %d (%s)", pts[i].id, out[i].status, out[i].error);
    assert_true(out[i].n_params == pts[i].n_params);
    /* below Var(y) (about 1) after a few hundred examples */
    assert_true(isfinite(out[i].final_eval_loss) && out[i].final_eval_loss < 0.9);
  }
  free(pts);
  cls_sweep_spec_free(s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_linreg_sweep),
      cmocka_unit_test(test_counts_match_models),
      cmocka_unit_test(test_runner_workers_and_failures),
      cmocka_unit_test(test_calibration),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
