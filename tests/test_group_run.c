/*
 * tests/test_group_run.c — runs trained side by side with their run
 * directories (cls_train_run_models, train/models.h): each run's CSV must
 * be the one cls_train_run writes for it alone, row by row, but for the
 * seconds column; its summary's losses, FLOPs, tokens, steps and status
 * the same; its checkpoint's parameters bitwise the same. A group stopped
 * midway and resumed as a group, or its runs resumed alone, must end with
 * the same files. Runs that cannot share a group are refused before
 * anything is written. On the own matmul backend and on auto; the GPT on
 * gcd too, whose runs' final reports (outcomes tables) must be those of
 * the runs alone.
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
#include "test_models.h"
#include "test_util.h"
#include "train/checkpoint.h"
#include "train/loop.h"
#include "train/models.h"
#include "train/task.h"

enum { K = 3 };
/* Budgets in steps and in FLOPs (converted by the probe), seeds, rates. */
static const uint64_t seeds[K] = {21, 22, 21};
static const double lrs[K] = {3e-3, 1e-2, 5e-3};

static char ids[K][16];

/* The task of the test: the small emulator, or the small GPT on gcd. */
static void (*the_spec)(cls_task_spec *s) = test_tiny_emulator;

/* Run k's config into dir: run 0 and 2 by steps, run 1 by FLOPs (what a
 * sweep's IsoFLOP point gives), the shortest in the middle so that the
 * group orders them. */
static void config(cls_train_config *c, size_t k, const char *dir, double flops_per_step) {
  cls_train_config_default(c);
  c->evals = 4;
  c->eval_batches = 2;
  c->checkpoint_seconds = 0;
  c->drop_checkpoint = 0;
  c->out_dir = dir;
  snprintf(ids[k], sizeof ids[k], "run%zu", k);
  c->id = ids[k];
  c->lr = lrs[k];
  c->force = 1;
  if (k == 1) {
    c->budget_kind = CLS_BUDGET_FLOPS;
    c->budget = 7.5 * flops_per_step; /* 7 steps */
  } else {
    c->budget_kind = CLS_BUDGET_STEPS;
    c->budget = k == 0 ? 15 : 11;
  }
}

/* Run k alone through the train loop (resuming when resume). */
static void run_alone(cls_context *ctx, size_t k, const char *dir, double fps, int resume, uint64_t stop_after,
                      cls_train_result *r) {
  cls_task_spec s;
  the_spec(&s);
  s.seed = seeds[k];
  cls_train_task *t = NULL;
  char err[1024] = "";
  cls_status st = cls_task_create(ctx, &s, &t, err, sizeof err);
  if (st != CLS_OK) fail_msg("cls_task_create -> %d: %s", st, err);
  cls_train_config c;
  config(&c, k, dir, fps);
  c.resume = resume;
  c.force = !resume;
  c.stop_after_steps = stop_after;
  st = cls_train_run(t, &c, r);
  if (st != CLS_OK) fail_msg("cls_train_run %s -> %d: %s", ids[k], st, r->error);
  cls_task_destroy(t);
}

static cls_status run_group(cls_context *ctx, const char *dir, double fps, int resume, uint64_t stop_after,
                            cls_train_result *r, char *err, size_t err_len) {
  cls_task_spec s;
  the_spec(&s);
  cls_train_config c[K];
  for (size_t k = 0; k < K; k++) {
    config(&c[k], k, dir, fps);
    c[k].resume = resume;
    c[k].force = !resume;
    c[k].stop_after_steps = stop_after;
  }
  return cls_train_run_models(ctx, &s, K, seeds, c, r, err, err_len);
}

/* The CSV at path without its last column (seconds). */
static char *csv_without_seconds(const char *path) {
  char *text = test_slurp(path);
  if (!text) fail_msg("cannot read %s", path);
  char *out = malloc(strlen(text) + 1), *o = out;
  for (char *line = text; *line;) {
    char *end = strchr(line, '\n');
    size_t n = end ? (size_t)(end - line) : strlen(line);
    size_t keep = n;
    while (keep && line[keep - 1] != ',') keep--;
    memcpy(o, line, keep);
    o += keep;
    *o++ = '\n';
    line += n + (end ? 1 : 0);
  }
  *o = 0;
  free(text);
  return out;
}

static void expect_same_files(const char *a, const char *b, size_t k) {
  char pa[4200], pb[4200];
  cls_rundir_path(pa, sizeof pa, a, CLS_RUNDIR_CURVE, ids[k]);
  cls_rundir_path(pb, sizeof pb, b, CLS_RUNDIR_CURVE, ids[k]);
  char *ca = csv_without_seconds(pa), *cb = csv_without_seconds(pb);
  if (strcmp(ca, cb)) fail_msg("%s: the CSV side by side\n%s\ndiffers from alone\n%s", ids[k], ca, cb);
  free(ca);
  free(cb);
  cls_point_summary sa, sb;
  char err[1024];
  cls_rundir_path(pa, sizeof pa, a, CLS_RUNDIR_SUMMARY, ids[k]);
  cls_rundir_path(pb, sizeof pb, b, CLS_RUNDIR_SUMMARY, ids[k]);
  if (cls_point_summary_read(pa, &sa, err, sizeof err) != CLS_OK) fail_msg("%s", err);
  if (cls_point_summary_read(pb, &sb, err, sizeof err) != CLS_OK) fail_msg("%s", err);
  assert_int_equal(sa.state, CLS_POINT_OK);
  assert_int_equal(sb.state, CLS_POINT_OK);
  const double fa[] = {sa.final_eval_loss, sa.final_train_loss, sa.flops,    sa.flops_6nd,         sa.tokens,
                       sa.run.steps,       sa.run.eval_flops,   sa.n_params, sa.run.flops_per_step};
  const double fb[] = {sb.final_eval_loss, sb.final_train_loss, sb.flops,    sb.flops_6nd,         sb.tokens,
                       sb.run.steps,       sb.run.eval_flops,   sb.n_params, sb.run.flops_per_step};
  for (size_t i = 0; i < sizeof fa / sizeof fa[0]; i++)
    if (memcmp(&fa[i], &fb[i], sizeof(double)))
      fail_msg("%s: summary field %zu is %.17g side by side, %.17g alone", ids[k], i, fa[i], fb[i]);
  assert_string_equal(sa.config, sb.config);
  cls_point_summary_release(&sa);
  cls_point_summary_release(&sb);
  cls_ckpt_contents ka, kb;
  cls_rundir_path(pa, sizeof pa, a, CLS_RUNDIR_CHECKPOINT, ids[k]);
  cls_rundir_path(pb, sizeof pb, b, CLS_RUNDIR_CHECKPOINT, ids[k]);
  if (cls_checkpoint_read(pa, &ka, err, sizeof err) != CLS_OK) fail_msg("%s", err);
  if (cls_checkpoint_read(pb, &kb, err, sizeof err) != CLS_OK) fail_msg("%s", err);
  assert_string_equal(ka.key, kb.key);
  assert_int_equal(ka.step, kb.step);
  assert_int_equal(ka.n, kb.n);
  if (memcmp(ka.params, kb.params, ka.n * sizeof(float)))
    fail_msg("%s: the final parameters side by side differ from alone", ids[k]);
  cls_ckpt_contents_free(&ka);
  cls_ckpt_contents_free(&kb);
  /* The task's final report: its outcomes table, where it has one. */
  cls_rundir_path(pa, sizeof pa, a, CLS_RUNDIR_OUTCOMES, ids[k]);
  cls_rundir_path(pb, sizeof pb, b, CLS_RUNDIR_OUTCOMES, ids[k]);
  FILE *fa_ = fopen(pa, "r"), *fb_ = fopen(pb, "r");
  char *oa = fa_ ? test_slurp(pa) : NULL, *ob = fb_ ? test_slurp(pb) : NULL;
  if (fa_) fclose(fa_);
  if (fb_) fclose(fb_);
  if (!oa != !ob)
    fail_msg("%s: an outcomes table %s but not %s", ids[k], oa ? "side by side" : "alone",
             oa ? "alone" : "side by side");
  if (oa && strcmp(oa, ob)) fail_msg("%s: the outcomes side by side\n%s\ndiffer from alone\n%s", ids[k], oa, ob);
  free(oa);
  free(ob);
}

/* The probe's FLOPs per step of the shape (run 1's budget is in FLOPs). */
static double flops_per_step(cls_context *ctx) {
  char dir[512];
  test_tmpdir("group-probe", dir, sizeof dir);
  cls_task_spec s;
  the_spec(&s);
  cls_train_task *t = NULL;
  char err[512];
  if (cls_task_create(ctx, &s, &t, err, sizeof err) != CLS_OK) fail_msg("%s", err);
  cls_train_config c;
  cls_train_config_default(&c);
  c.out_dir = dir;
  c.id = "probe";
  c.budget = 1;
  c.evals = 1;
  c.eval_batches = 1;
  c.force = 1;
  cls_train_result r;
  if (cls_train_run(t, &c, &r) != CLS_OK) fail_msg("%s", r.error);
  cls_task_destroy(t);
  return r.flops_per_step;
}

static void same_as_alone(const char *backend) {
  cls_context *ctx = test_context(NULL, backend);
  const double fps = flops_per_step(ctx);
  char alone[512], side[512], resumed[512], mixed[512];
  test_tmpdir("group-alone", alone, sizeof alone);
  test_tmpdir("group-side", side, sizeof side);
  test_tmpdir("group-resumed", resumed, sizeof resumed);
  test_tmpdir("group-mixed", mixed, sizeof mixed);
  cls_train_result r[K], one;
  char err[1024];
  for (size_t k = 0; k < K; k++) run_alone(ctx, k, alone, fps, 0, 0, &one);
  cls_status st = run_group(ctx, side, fps, 0, 0, r, err, sizeof err);
  if (st != CLS_OK)
    fail_msg("cls_train_run_models -> %d: %s (run 0: %s; %s)", st, err, r[0].error, cls_last_error(ctx));
  for (size_t k = 0; k < K; k++) {
    assert_int_equal(r[k].status, CLS_RUN_OK);
    expect_same_files(side, alone, k);
  }
  assert_int_equal(r[1].total_steps, 7);

  /* Stopped after 4 steps (every run still training), then resumed as a
   * group. */
  st = run_group(ctx, resumed, fps, 0, 4, r, err, sizeof err);
  if (st != CLS_OK) fail_msg("stopped group -> %d: %s", st, err);
  for (size_t k = 0; k < K; k++) {
    assert_int_equal(r[k].status, CLS_RUN_INTERRUPTED);
    assert_int_equal(r[k].steps, 4);
    assert_int_equal(cls_rundir_point_state(resumed, ids[k], NULL), CLS_POINT_INTERRUPTED);
  }
  st = run_group(ctx, resumed, fps, 1, 0, r, err, sizeof err);
  if (st != CLS_OK) fail_msg("resumed group -> %d: %s", st, err);
  for (size_t k = 0; k < K; k++) {
    assert_int_equal(r[k].resumed_from, 4);
    expect_same_files(resumed, alone, k);
  }

  /* Stopped as a group, each resumed alone. */
  st = run_group(ctx, mixed, fps, 0, 5, r, err, sizeof err);
  if (st != CLS_OK) fail_msg("stopped group -> %d: %s", st, err);
  for (size_t k = 0; k < K; k++) {
    run_alone(ctx, k, mixed, fps, 1, 0, &one);
    assert_int_equal(one.resumed_from, 5);
    expect_same_files(mixed, alone, k);
  }
  cls_context_destroy(ctx);
}

static void test_same_as_alone_own(void **state) {
  (void)state;
  same_as_alone("own");
}

static void test_same_as_alone_auto(void **state) {
  (void)state;
  same_as_alone(NULL);
}

static void test_gcd_same_as_alone_own(void **state) {
  (void)state;
  the_spec = test_tiny_gcd_gpt;
  same_as_alone("own");
  the_spec = test_tiny_emulator;
}

/* Runs that cannot share a group: refused, nothing started. */
static void test_refused(void **state) {
  (void)state;
  cls_context *ctx = test_context(NULL, "own");
  const double fps = flops_per_step(ctx);
  char dir[512], err[1024];
  test_tmpdir("group-refused", dir, sizeof dir);
  cls_train_result r[K];
  /* Checkpoints at different steps: run 0 alone to step 3, run 1 and 2 to
   * step 2. */
  cls_train_result one;
  run_alone(ctx, 0, dir, fps, 0, 3, &one);
  run_alone(ctx, 1, dir, fps, 0, 2, &one);
  run_alone(ctx, 2, dir, fps, 0, 2, &one);
  cls_status st = run_group(ctx, dir, fps, 1, 0, r, err, sizeof err);
  assert_int_equal(st, CLS_ERR_INVALID_VALUE);
  assert_non_null(strstr(err, "different steps"));
  for (size_t k = 0; k < K; k++) assert_false(r[k].started);
  assert_int_equal(cls_rundir_point_state(dir, ids[0], NULL), CLS_POINT_INTERRUPTED);

  /* Settings beyond id, budget and lr that differ. */
  cls_task_spec s;
  the_spec(&s);
  cls_train_config c[K];
  for (size_t k = 0; k < K; k++) config(&c[k], k, dir, fps);
  c[2].eval_batches = 3;
  st = cls_train_run_models(ctx, &s, K, seeds, c, r, err, sizeof err);
  assert_int_equal(st, CLS_ERR_INVALID_VALUE);
  assert_non_null(strstr(err, "differ"));
  for (size_t k = 0; k < K; k++) assert_false(r[k].started);

  /* A task whose models do not train side by side. */
  cls_task_spec_default(&s);
  s.task = "linreg";
  s.model = "linear";
  for (size_t k = 0; k < K; k++) config(&c[k], k, dir, fps);
  st = cls_train_run_models(ctx, &s, K, seeds, c, r, err, sizeof err);
  assert_int_equal(st, CLS_ERR_INVALID_VALUE);
  assert_non_null(strstr(err, "side by side"));
  cls_context_destroy(ctx);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_same_as_alone_own),
      cmocka_unit_test(test_same_as_alone_auto),
      cmocka_unit_test(test_gcd_same_as_alone_own),
      cmocka_unit_test(test_refused),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
