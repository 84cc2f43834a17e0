/*
 * tests/test_sweep_spec.c — the sweep's spec, plan and run directory on the
 * host (no device): JSON and INI give the same canonical spec; malformed
 * files, unknown keys and tasks, empty grids and bad values are refused
 * with a message naming the key; the plan's ids are stable and unique, its
 * order and IsoFLOP windows are as documented, shards partition it;
 * target parameter counts choose widths; the manifest is created once and
 * refuses another spec; point states, leftovers and failed summaries.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sweep/calibrate.h"
#include "sweep/count.h"
#include "sweep/plan.h"
#include "sweep/rundir.h"
#include "sweep/spec.h"
#include "test_util.h"
#include "core/file.h"
#include "rundir/rundir.h"

static char err[4096];

static cls_sweep_spec *parse_ok(const char *text) {
  cls_sweep_spec *s = NULL;
  cls_status st = cls_sweep_spec_parse(text, "t.json", NULL, &s, err, sizeof err);
  if (st != CLS_OK) fail_msg("spec refused: %s\n%s", err, text);
  return s;
}

/* Parses text, expects status want and a message containing needle. */
static void parse_bad(const char *text, cls_status want, const char *needle) {
  cls_sweep_spec *s = NULL;
  err[0] = 0;
  cls_status st = cls_sweep_spec_parse(text, "t.json", NULL, &s, err, sizeof err);
  if (st == CLS_OK) {
    cls_sweep_spec_free(s);
    fail_msg("accepted: %s", text);
  }
  if (st != want) fail_msg("status %d, expected %d for %s (%s)", st, want, text, err);
  if (!strstr(err, needle)) fail_msg("message \"%s\" lacks \"%s\"", err, needle);
  assert_null(s);
}

#define BASE "\"task\": \"spectra\", \"mode\": \"isoflop\", "

static void test_json_defaults(void **state) {
  (void)state;
  cls_sweep_spec *s = parse_ok("{" BASE "\"widths\": [16, 32], \"depth\": 2, \"budgets_flops\": [1e9, 1e10]}");
  assert_string_equal(s->task, "spectra");
  assert_string_equal(s->model, "emulator");
  assert_int_equal(s->mode, CLS_SWEEP_ISOFLOP);
  assert_int_equal(s->n_shapes, 2);
  assert_int_equal(s->shapes[1].width, 32);
  assert_int_equal(s->shapes[1].depth, 2);
  assert_int_equal(s->shapes[1].heads, 4);
  assert_int_equal(s->n_budgets, 2);
  assert_int_equal(s->budgets[0].kind, CLS_BUDGET_FLOPS);
  assert_int_equal(s->n_seeds, 1);
  assert_int_equal(s->seeds[0], 1);
  assert_int_equal(s->n_lrs, 1);
  assert_true(s->lrs[0] == 1e-3);
  assert_int_equal(s->evals, 20);
  assert_int_equal(s->eval_batches, 8);
  assert_int_equal(s->base.n_train, 1024);
  assert_non_null(strstr(s->canonical, "\"budgets\":[{\"flops\":1000000000},{\"flops\":10000000000}]"));
  cls_sweep_spec_free(s);
}

static void test_ini_equals_json(void **state) {
  (void)state;
  cls_sweep_spec *j =
      parse_ok("{\"name\": \"x\", \"task\": \"spectra\", \"mode\": \"curves\", \"models\": [\"16x1\", "
               "{\"width\": 32, \"depth\": 2}], \"budgets_tokens\": [5000], \"seeds\": [1, 2], "
               "\"lr\": 0.003, \"param\": \"mup\", \"base_width\": 16, \"keep_checkpoints\": true, "
               "\"n_train\": 64, \"_comment\": \"ignored\"}");
  cls_sweep_spec *i = NULL;
  const char *ini = "# a comment\n[grid]\nname = x\ntask = spectra\nmode = curves\nmodels = 16x1, 32x2\n"
                    "budgets_tokens = 5000\nseeds = 1, 2\n\n[training]\nlr = 0.003\nparam = \"mup\"\n"
                    "base_width = 16\nkeep_checkpoints = true\nn_train = 64\n";
  cls_status st = cls_sweep_spec_parse(ini, "t.ini", NULL, &i, err, sizeof err);
  if (st != CLS_OK) fail_msg("%s", err);
  assert_string_equal(i->canonical, j->canonical);
  assert_int_equal(i->keep_checkpoints, 1);
  assert_int_equal(i->base.param, CLS_PARAM_MUP);
  assert_int_equal(i->n_seeds, 2);
  cls_sweep_spec_free(i);
  cls_sweep_spec_free(j);
}

static void test_bad_specs(void **state) {
  (void)state;
  parse_bad("", CLS_ERR_FORMAT, "empty");
  parse_bad("{\"task\": \"spectra\",\n \"mode\": }", CLS_ERR_FORMAT, "t.json:2:");
  parse_bad("{" BASE "\"widths\": [16], \"depth\": 1, \"budgets_flops\": [1e9],}", CLS_ERR_FORMAT,
            "not valid JSON");
  parse_bad("task spectra\n", CLS_ERR_FORMAT, "t.json:1: not 'key = value'");
  parse_bad("1, 2\n", CLS_ERR_FORMAT, "not 'key = value'");
  parse_bad("{\"mode\": \"isoflop\"}", CLS_ERR_INVALID_VALUE, "no 'task'");
  parse_bad("{\"task\": \"speech\", \"mode\": \"isoflop\"}", CLS_ERR_INVALID_VALUE, "no task 'speech'");
  parse_bad("{\"task\": \"spectra\", \"model\": \"gpt\", \"mode\": \"isoflop\"}", CLS_ERR_INVALID_VALUE,
            "no task 'spectra' with model 'gpt'");
  parse_bad("{" BASE "\"widht\": [16]}", CLS_ERR_INVALID_VALUE, "unknown key 'widht'");
  parse_bad("{\"task\": \"spectra\", \"widths\": [16], \"depth\": 1, \"budgets_flops\": [1e9]}",
            CLS_ERR_INVALID_VALUE, "no 'mode'");
  parse_bad("{" BASE "\"widths\": [], \"depth\": 1, \"budgets_flops\": [1e9]}", CLS_ERR_INVALID_VALUE, "empty");
  parse_bad("{" BASE "\"widths\": [16], \"depth\": 1, \"budgets_flops\": []}", CLS_ERR_INVALID_VALUE, "empty");
  parse_bad("{" BASE "\"widths\": [16], \"depth\": 1, \"budgets_flops\": [1e9], \"seeds\": []}",
            CLS_ERR_INVALID_VALUE, "empty");
  parse_bad("{" BASE "\"widths\": [16], \"depth\": 1}", CLS_ERR_INVALID_VALUE, "no budget");
  parse_bad("{" BASE "\"budgets_flops\": [1e9]}", CLS_ERR_INVALID_VALUE, "no model sizes");
  parse_bad("{" BASE "\"widths\": [16], \"budgets_flops\": [1e9]}", CLS_ERR_INVALID_VALUE, "give 'depths'");
  parse_bad("{" BASE "\"widths\": [16], \"width\": 8, \"depth\": 1, \"budgets_flops\": [1e9]}",
            CLS_ERR_INVALID_VALUE, "give 'widths' or 'width', not both");
  parse_bad("{" BASE "\"widths\": [16, 16], \"depth\": 1, \"budgets_flops\": [1e9]}", CLS_ERR_INVALID_VALUE,
            "listed twice");
  parse_bad("{" BASE "\"widths\": [-16], \"depth\": 1, \"budgets_flops\": [1e9]}", CLS_ERR_INVALID_VALUE,
            "whole numbers >= 1");
  parse_bad("{" BASE "\"widths\": [30], \"depth\": 1, \"budgets_flops\": [1e9]}", CLS_ERR_INVALID_VALUE,
            "not divisible by heads 4");
  parse_bad("{" BASE "\"widths\": [16], \"depth\": 1, \"budgets_flops\": [-1]}", CLS_ERR_INVALID_VALUE,
            "positive FLOPs");
  parse_bad("{" BASE "\"widths\": [16], \"depth\": 1, \"budgets_tokens\": [1e6]}", CLS_ERR_INVALID_VALUE,
            "'budgets_flops' only");
  parse_bad("{" BASE "\"widths\": [16], \"depth\": 1, \"budgets_flops\": [1e9], \"lr\": 0}", CLS_ERR_INVALID_VALUE,
            "positive learning rates");
  parse_bad("{" BASE "\"widths\": [16], \"depth\": 1, \"budgets_flops\": [1e9], \"lr\": \"fast\"}",
            CLS_ERR_INVALID_VALUE, "'lr' wants a number");
  parse_bad("{" BASE "\"widths\": [16], \"depth\": 1, \"budgets_flops\": [1e9], \"param\": \"ntk\"}",
            CLS_ERR_INVALID_VALUE, "use \"sp\", \"mup\" or \"mup-depth\"");
  parse_bad("{" BASE "\"widths\": [16], \"depth\": 1, \"budgets_flops\": [1e9], \"context\": 64}",
            CLS_ERR_INVALID_VALUE, "setting of the text task");
  parse_bad("{" BASE "\"widths\": [16], \"depth\": 1, \"budgets_flops\": [1e9], \"isoflop_sizes\": 2}",
            CLS_ERR_INVALID_VALUE, "more than the 1 model sizes");
  parse_bad("{" BASE "\"models\": [\"16by2\"], \"budgets_flops\": [1e9]}", CLS_ERR_INVALID_VALUE, "WIDTHxDEPTH");
  parse_bad("{" BASE "\"widths\": [16], \"depth\": 1, \"budgets_flops\": [1e9], \"evals\": 0}",
            CLS_ERR_INVALID_VALUE, "'evals' wants a whole number");
  parse_bad("{" BASE "\"widths\": [16], \"depth\": 1, \"budgets_flops\": [1e9, 1e9]}", CLS_ERR_INVALID_VALUE,
            "twice");
  parse_bad("name = a\nname = b\n", CLS_ERR_FORMAT, "given twice");
}

/* A task's fields belong to it: the registry says which task reads which
 * field, and the task's check runs on the host before any device work. */
static void test_task_fields(void **state) {
  (void)state;
  parse_bad("{\"task\": \"linreg\", \"mode\": \"isoflop\", \"pixels\": 8, \"widths\": [4], \"depth\": 1, "
            "\"budgets_flops\": [1e6]}",
            CLS_ERR_INVALID_VALUE, "'pixels' is a setting of the spectra task, not of \"linreg\"");
  parse_bad("{\"task\": \"text\", \"mode\": \"isoflop\", \"n_train\": 8, \"widths\": [16], \"depth\": 1, "
            "\"budgets_flops\": [1e9]}",
            CLS_ERR_INVALID_VALUE, "'n_train' is a setting of the spectra task, not of \"text\"");
  parse_bad("{\"task\": \"spectra\", \"mode\": \"isoflop\", \"context\": 8, \"widths\": [16], \"depth\": 1, "
            "\"budgets_flops\": [1e9]}",
            CLS_ERR_INVALID_VALUE, "'context' is a setting of the text task, not of \"spectra\"");
  parse_bad("{\"task\": \"spectra\", \"mode\": \"isoflop\", \"pixels\": 500, \"n_pixels\": 400, "
            "\"widths\": [16], \"depth\": 1, \"budgets_flops\": [1e9]}",
            CLS_ERR_INVALID_VALUE, "`n_pixels`");
  parse_bad("{\"task\": \"linreg\", \"mode\": \"isoflop\", \"widths\": [4], \"depth\": 2, "
            "\"budgets_flops\": [1e6]}",
            CLS_ERR_INVALID_VALUE, "model width 4, depth 2");
  cls_sweep_spec *s;
  char err[512];
  assert_int_equal(cls_sweep_spec_parse("{\"task\": \"linreg\", \"mode\": \"curves\", \"widths\": [4, 8], "
                                        "\"depth\": 1, \"budgets_steps\": [10], \"n_train\": 100}",
                                        "t.json", NULL, &s, err, sizeof err),
                   CLS_OK);
  assert_string_equal(s->model, "linear"); /* the task's default model */
  assert_int_equal(s->base.n_train, 100);
  assert_non_null(strstr(s->canonical, "\"n_train\":100,\"n_test\":256}"));
  cls_sweep_spec_free(s);
}

/* The solved tasks: task fields given as lists are axes, `variants` adds
 * combinations; the combos multiply the plan, innermost; each combo is
 * checked by the task; a shapeless model has one shape and ids without a
 * size; JSON and INI give one canonical form; the rules of solved sweeps. */
static void test_solved_specs(void **state) {
  (void)state;
  cls_sweep_spec *s = parse_ok("{\"task\": \"rf\", \"widths\": [16, 32], \"budgets_tokens\": [64], "
                               "\"ridge\": [1e-3, 0.1], \"alpha\": [1, 0.5], \"latent\": 128, \"seeds\": [3]}");
  assert_string_equal(s->model, "features");
  assert_int_equal(s->solved, 1);
  assert_int_equal(s->mode, CLS_SWEEP_CURVES); /* the default for a solved task */
  assert_int_equal(s->n_combos, 4);
  assert_int_equal(s->base.latent, 128);
  cls_sweep_point *p;
  size_t n;
  assert_int_equal(cls_sweep_plan(s, &p, &n, err, sizeof err), CLS_OK);
  assert_int_equal(n, 8);
  /* the axes in the order the task lists its fields (alpha before ridge), the first slowest; combos innermost */
  const char *want[] = {"t64_w16_d1_s3_alpha1_ridge0.001",   "t64_w16_d1_s3_alpha1_ridge0.1",
                        "t64_w16_d1_s3_alpha0.5_ridge0.001", "t64_w16_d1_s3_alpha0.5_ridge0.1",
                        "t64_w32_d1_s3_alpha1_ridge0.001",   "t64_w32_d1_s3_alpha1_ridge0.1",
                        "t64_w32_d1_s3_alpha0.5_ridge0.001", "t64_w32_d1_s3_alpha0.5_ridge0.1"};
  for (size_t i = 0; i < n; i++) {
    if (strcmp(p[i].id, want[i])) fail_msg("point %zu is %s, expected %s", i, p[i].id, want[i]);
    assert_true(p[i].n_params == (i < 4 ? 16 : 32)); /* N features */
  }
  cls_task_spec ts;
  cls_sweep_point_task(s, &p[6], &ts);
  assert_int_equal(ts.width, 32);
  assert_true(ts.alpha == 0.5 && ts.ridge == 1e-3 && ts.latent == 128);
  assert_int_equal(ts.seed, 3);
  free(p);
  /* the same grid as INI lists: the same canonical spec */
  cls_sweep_spec *i = NULL;
  if (cls_sweep_spec_parse("task = rf\nwidths = 16, 32\nbudgets_tokens = 64\nridge = 1e-3, 0.1\nalpha = 1, 0.5\n"
                           "latent = 128\nseeds = 3\n",
                           "t.ini", NULL, &i, err, sizeof err) != CLS_OK)
    fail_msg("%s", err);
  assert_string_equal(i->canonical, s->canonical);
  assert_non_null(strstr(s->canonical, "\"grid\""));
  cls_sweep_spec_free(i);
  cls_sweep_spec_free(s);

  /* variants over a shared value; a shapeless model */
  s = parse_ok("{\"task\": \"zipf\", \"vocab\": 1000, \"beta\": 1.5, \"budgets_tokens\": [100, 1000], "
               "\"variants\": [{\"source\": \"real\"}, {\"source\": \"cut\", \"cut\": 10}, "
               "{\"source\": \"narrowed\", \"beta_narrow\": 3}, {\"source\": \"cut\", \"cut\": 10, "
               "\"real_fraction\": 0.5}]}");
  assert_string_equal(s->model, "memoriser");
  assert_int_equal(s->n_shapes, 1);
  assert_int_equal(s->n_combos, 4);
  assert_int_equal(cls_sweep_plan(s, &p, &n, err, sizeof err), CLS_OK);
  assert_int_equal(n, 8);
  assert_string_equal(p[0].id, "t100_s1_sourcereal");
  assert_string_equal(p[1].id, "t100_s1_sourcecut_cut10");
  assert_string_equal(p[3].id, "t100_s1_sourcecut_cut10_real_fraction0.5");
  assert_true(p[0].n_params == 1000); /* V items */
  cls_sweep_point_task(s, &p[2], &ts);
  assert_string_equal(ts.source, "narrowed");
  assert_true(ts.beta_narrow == 3 && ts.beta == 1.5 && ts.vocab == 1000);
  cls_sweep_point_task(s, &p[7], &ts);
  assert_string_equal(ts.source, "cut");
  assert_true(ts.cut == 10 && ts.real_fraction == 0.5);
  free(p);
  cls_sweep_spec_free(s);

  /* the rules of solved sweeps, and each combination checked by the task */
#define RF   "\"task\": \"rf\", \"widths\": [16], "
#define ZIPF "\"task\": \"zipf\", \"vocab\": 1000, \"budgets_tokens\": [100], "
  parse_bad("{" RF "\"budgets_flops\": [1e9]}", CLS_ERR_INVALID_VALUE, "give its training-set sizes T as");
  parse_bad("{" RF "\"budgets_tokens\": [10.5]}", CLS_ERR_INVALID_VALUE, "whole numbers >= 1 (found 10.5)");
  parse_bad("{" RF "\"budgets_tokens\": [64], \"mode\": \"isoflop\"}", CLS_ERR_INVALID_VALUE, "mode 'isoflop'");
  parse_bad("{" RF "\"budgets_tokens\": [64], \"lrs\": [0.1, 0.2]}", CLS_ERR_INVALID_VALUE, "no learning rate");
  parse_bad("{" RF "\"budgets_tokens\": [64], \"alpha\": [1, 0]}", CLS_ERR_INVALID_VALUE, "'alpha' (a list)");
  parse_bad("{" RF "\"budgets_tokens\": [64], \"ridge\": -1}", CLS_ERR_INVALID_VALUE,
            "'ridge' wants a number in [0");
  parse_bad("{" RF "\"budgets_tokens\": [64], \"beta\": 2}", CLS_ERR_INVALID_VALUE,
            "'beta' is a setting of the zipf task, not of \"rf\"");
  parse_bad("{" ZIPF "\"beta\": 1}", CLS_ERR_INVALID_VALUE, "'beta' wants a number in (1, 100]");
  parse_bad("{" ZIPF "\"widths\": [8]}", CLS_ERR_INVALID_VALUE, "has no size to give");
  parse_bad("{" ZIPF "\"source\": \"narrowed\", \"beta_narrow\": [3, 1.2]}", CLS_ERR_INVALID_VALUE,
            "beta_narrow=1.2: cls_memoriser: `beta_narrow` is 1.2");
  parse_bad("{" ZIPF "\"variants\": [{\"source\": \"cut\", \"cut\": 2000}]}", CLS_ERR_INVALID_VALUE,
            "source=cut, cut=2000: cls_memoriser: `cut` is 2000; it must lie in [1, `vocab` = 1000]");
  parse_bad("{" ZIPF "\"variants\": [{\"real_fraction\": 2}]}", CLS_ERR_INVALID_VALUE,
            "'real_fraction' (variant 1) wants a number in [0, 1]");
  parse_bad("{" ZIPF "\"variants\": {\"source\": \"cut\"}}", CLS_ERR_INVALID_VALUE, "'variants' wants a list");
  parse_bad("{" ZIPF "\"variants\": [{\"seed\": 2}]}", CLS_ERR_INVALID_VALUE,
            "'seed' is not a setting of the zipf task");
  /* 11^5 combinations */
  parse_bad(
      "{" ZIPF "\"beta\": [1.1, 1.2, 1.3, 1.4, 1.5, 1.6, 1.7, 1.8, 1.9, 2.0, 2.1], "
      "\"cut\": [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], \"beta_narrow\": [3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13], "
      "\"real_fraction\": [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1], "
      "\"fit_samples\": [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]}",
      CLS_ERR_INVALID_VALUE, "more than");
#undef RF
#undef ZIPF
}

static void test_load_file(void **state) {
  (void)state;
  char dir[512], path[600];
  test_tmpdir("sweep-spec", dir, sizeof dir);
  snprintf(path, sizeof path, "%s/s.ini", dir);
  cls_sweep_spec *s = NULL;
  assert_int_equal(cls_sweep_spec_load(path, &s, err, sizeof err), CLS_ERR_IO);
  assert_non_null(strstr(err, "cannot open the spec"));
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fputs("task = text\nmode = curves\nwidth = 32\ndepths = 1, 2\nbudgets_steps = 10\ndata = corpus.txt\n", f);
  fclose(f);
  assert_int_equal(cls_sweep_spec_load(path, &s, err, sizeof err), CLS_OK);
  assert_string_equal(s->model, "gpt");
  assert_int_equal(s->n_shapes, 2);
  assert_int_equal(s->shapes[1].width, 32);
  assert_int_equal(s->shapes[1].depth, 2);
  /* a relative data file is found next to the spec; the canonical form keeps it as written */
  char want[700];
  snprintf(want, sizeof want, "%s/corpus.txt", dir);
  assert_string_equal(s->data, want);
  assert_non_null(strstr(s->canonical, "\"data\":\"corpus.txt\""));
  cls_sweep_spec_free(s);
}

static void test_plan_ids_and_order(void **state) {
  (void)state;
  cls_sweep_spec *s = parse_ok("{" BASE "\"widths\": [32, 16], \"depth\": 2, \"budgets_flops\": [1e10, 3.16e9], "
                               "\"seeds\": [1, 7]}");
  cls_sweep_point *p;
  size_t n;
  assert_int_equal(cls_sweep_plan(s, &p, &n, err, sizeof err), CLS_OK);
  assert_int_equal(n, 8);
  const char *want[] = {"c3.16e9_w16_d2_s1", "c3.16e9_w16_d2_s7", "c3.16e9_w32_d2_s1", "c3.16e9_w32_d2_s7",
                        "c1e10_w16_d2_s1",   "c1e10_w16_d2_s7",   "c1e10_w32_d2_s1",   "c1e10_w32_d2_s7"};
  for (size_t i = 0; i < n; i++) {
    assert_string_equal(p[i].id, want[i]);
    assert_int_equal(p[i].index, i);
    assert_true(p[i].n_params > 0);
  }
  assert_true(p[0].n_params < p[2].n_params);
  /* the same spec, parsed again: the same ids */
  cls_sweep_spec *s2 = parse_ok("{" BASE "\"widths\": [32, 16], \"depth\": 2, \"budgets_flops\": [1e10, 3.16e9], "
                                "\"seeds\": [1, 7]}");
  cls_sweep_point *q;
  size_t m;
  assert_int_equal(cls_sweep_plan(s2, &q, &m, err, sizeof err), CLS_OK);
  for (size_t i = 0; i < n; i++) assert_string_equal(p[i].id, q[i].id);
  /* shards partition the plan */
  for (size_t k = 1; k <= 3; k++) {
    size_t count = 0;
    for (size_t i = 0; i < n; i++) {
      size_t owners = 0;
      for (size_t sh = 0; sh < k; sh++) owners += (size_t)cls_sweep_in_shard(p[i].index, sh, k);
      assert_int_equal(owners, 1);
      count += owners;
    }
    assert_int_equal(count, n);
  }
  /* the point's task and config */
  cls_task_spec ts;
  cls_sweep_point_task(s, &p[2], &ts);
  assert_int_equal(ts.width, 32);
  assert_int_equal(ts.seed, 1);
  cls_train_config tc;
  cls_sweep_point_config(s, &p[2], &tc);
  assert_int_equal(tc.budget_kind, CLS_BUDGET_FLOPS);
  assert_true(tc.budget == 3.16e9 && tc.budget_flops_nominal == 3.16e9);
  assert_int_equal(tc.drop_checkpoint, 1);
  free(p);
  free(q);
  cls_sweep_spec_free(s);
  cls_sweep_spec_free(s2);
}

/* Generations: generation 0 once, then each generation per pi; a point's
 * teacher is the previous generation's point at the largest budget of its
 * chain (the same pi from generation 1 on); a chain stays in one shard.
 * pi is `real_fraction`; `synthetic_fraction` gives 1 - pi instead and the
 * same spec (never both). */
/* Points of one shape that differ in seed, lr or budget form groups of at
 * most max_models, in plan order; other shapes and other tasks do not. */
static void test_plan_groups(void **state) {
  (void)state;
  cls_sweep_spec *s = parse_ok("{" BASE "\"widths\": [32, 16], \"depth\": 2, \"budgets_flops\": [1e10, 3.16e9], "
                               "\"seeds\": [1, 7]}");
  cls_sweep_point *p;
  size_t n, group[8];
  assert_int_equal(cls_sweep_plan(s, &p, &n, err, sizeof err), CLS_OK);
  assert_int_equal(n, 8);
  /* Plan order: (3.16e9: w16 s1, w16 s7, w32 s1, w32 s7), then 1e10 the same. */
  assert_int_equal(cls_sweep_groups(s, p, n, 8, group), 2);
  const size_t want8[] = {0, 0, 1, 1, 0, 0, 1, 1};
  for (size_t i = 0; i < n; i++) assert_int_equal(group[i], want8[i]);
  assert_int_equal(cls_sweep_groups(s, p, n, 3, group), 4);
  const size_t want3[] = {0, 0, 1, 1, 0, 2, 1, 3};
  for (size_t i = 0; i < n; i++) assert_int_equal(group[i], want3[i]);
  assert_int_equal(cls_sweep_groups(s, p, n, 1, group), 8);
  for (size_t i = 0; i < n; i++) assert_int_equal(group[i], i);
  free(p);
  cls_sweep_spec_free(s);
  /* The GPT on text trains side by side too: its 4 points of one width. */
  s = parse_ok("{\"task\": \"text\", \"mode\": \"isoflop\", \"widths\": [32], \"depth\": 2, \"budgets_flops\": "
               "[1e10, 3.16e9], \"seeds\": [1, 7]}");
  assert_int_equal(cls_sweep_plan(s, &p, &n, err, sizeof err), CLS_OK);
  assert_int_equal(n, 4);
  assert_int_equal(cls_sweep_groups(s, p, n, 8, group), 1);
  free(p);
  cls_sweep_spec_free(s);
  /* A task whose models do not: no groups. */
  s = parse_ok(
      "{\"task\": \"linreg\", \"model\": \"linear\", \"mode\": \"curves\", \"widths\": [8, 16], \"depth\": 1, "
      "\"budgets_steps\": [10], \"seeds\": [1, 7]}");
  assert_int_equal(cls_sweep_plan(s, &p, &n, err, sizeof err), CLS_OK);
  assert_int_equal(cls_sweep_groups(s, p, n, 8, group), n);
  free(p);
  cls_sweep_spec_free(s);
}

static void test_plan_generations(void **state) {
  (void)state;
  cls_sweep_spec *s = parse_ok("{\"task\": \"gcd\", \"mode\": \"curves\", \"bound\": 30, \"context\": 10, "
                               "\"widths\": [16], \"depth\": 1, \"heads\": 2, \"batch\": 8, \"budgets_steps\": "
                               "[20, 10], \"seeds\": [1, 2], \"generations\": 3, \"real_fraction\": [0, 0.1]}");
  assert_int_equal(s->synthetic_pairs, 160); /* 20 steps x batch 8 */
  assert_non_null(strstr(s->canonical, "\"generations\":3,\"real_fraction\":[0,0.1]"));
  cls_sweep_spec *s2 =
      parse_ok("{\"task\": \"gcd\", \"mode\": \"curves\", \"bound\": 30, \"context\": 10, "
               "\"widths\": [16], \"depth\": 1, \"heads\": 2, \"batch\": 8, \"budgets_steps\": "
               "[20, 10], \"seeds\": [1, 2], \"generations\": 3, \"synthetic_fraction\": [1, 0.9]}");
  assert_string_equal(s2->canonical, s->canonical); /* 1 - 0.9 rounded to 0.1 */
  cls_sweep_spec_free(s2);
  cls_sweep_point *p;
  size_t n;
  assert_int_equal(cls_sweep_plan(s, &p, &n, err, sizeof err), CLS_OK);
  assert_int_equal(n, 4 * (1 + 2 * 2));
  assert_string_equal(p[0].id, "n10_w16_d1_s1_g0");
  assert_string_equal(p[3].id, "n20_w16_d1_s2_g0");
  assert_true(p[3].teaches && !p[0].teaches);
  assert_true(p[0].real_fraction == 1 && p[0].teacher == SIZE_MAX);
  assert_true(p[9].real_fraction == 0.1);
  assert_string_equal(p[4].id, "n10_w16_d1_s1_g1_pi0");
  assert_int_equal(p[4].teacher, 2);
  assert_string_equal(p[4].teacher_id, "n20_w16_d1_s1_g0");
  assert_string_equal(p[9].id, "n10_w16_d1_s2_g1_pi0.1");
  assert_int_equal(p[9].teacher, 3);
  assert_true(p[11].teaches); /* n20 s2 g1 pi0.1 teaches generation 2 */
  assert_string_equal(p[17].id, "n10_w16_d1_s2_g2_pi0.1");
  assert_string_equal(p[17].teacher_id, "n20_w16_d1_s2_g1_pi0.1");
  assert_false(p[19].teaches); /* the last generation teaches nobody */
  for (size_t i = 0; i < n; i++) {
    assert_int_equal(p[i].chain, strstr(p[i].id, "_s1_") ? 0 : 1);
    if (p[i].teacher != SIZE_MAX) assert_true(p[i].teacher < i && p[p[i].teacher].chain == p[i].chain);
  }
  cls_train_config c;
  cls_sweep_point_config(s, &p[3], &c);
  assert_false(c.drop_checkpoint);
  free(p);
  cls_sweep_spec_free(s);
  parse_bad(
      "{\"task\": \"gcd\", \"mode\": \"curves\", \"bound\": 30, \"context\": 10, \"widths\": [16], \"depth\": 1, "
      "\"heads\": 2, \"batch\": 8, \"budgets_steps\": [20], \"generations\": 2, \"synthetic_pairs\": 159}",
      CLS_ERR_INVALID_VALUE, "'synthetic_pairs' 159: the largest budget trains on 160 examples");
  parse_bad("{\"task\": \"gcd\", \"mode\": \"curves\", \"bound\": 30, \"context\": 10, \"widths\": [16], "
            "\"depth\": 1, \"heads\": 2, \"budgets_steps\": [20], \"generations\": 2, \"real_fraction\": 0.1, "
            "\"synthetic_fraction\": 0.9}",
            CLS_ERR_INVALID_VALUE, "give 'real_fraction' (pi, the share of real data");
  parse_bad("{\"task\": \"gcd\", \"mode\": \"curves\", \"bound\": 30, \"context\": 10, \"widths\": [16], "
            "\"depth\": 1, \"heads\": 2, \"budgets_steps\": [20], \"real_fraction\": 0.1}",
            CLS_ERR_INVALID_VALUE, "'real_fraction' is a setting of generations: give 'generations'");
  parse_bad("{\"task\": \"gcd\", \"mode\": \"curves\", \"bound\": 30, \"context\": 10, \"widths\": [16], "
            "\"depth\": 1, \"heads\": 2, \"budgets_steps\": [20], \"generations\": 2, \"synthetic_fraction\": 2}",
            CLS_ERR_INVALID_VALUE, "'synthetic_fraction' is 1 - pi, the share of the model's corpus");
}

static void test_plan_windows_lrs_targets(void **state) {
  (void)state;
  /* 5 sizes, 3 budgets, windows of 3: offsets 0, 1, 2 */
  cls_sweep_spec *s = parse_ok("{" BASE "\"widths\": [8, 16, 24, 32, 48], \"depth\": 1, \"budgets_flops\": [1e9, "
                               "1e10, 1e11], \"isoflop_sizes\": 3}");
  cls_sweep_point *p;
  size_t n;
  assert_int_equal(cls_sweep_plan(s, &p, &n, err, sizeof err), CLS_OK);
  assert_int_equal(n, 9);
  assert_string_equal(p[0].id, "c1e9_w8_d1_s1");
  assert_string_equal(p[2].id, "c1e9_w24_d1_s1");
  assert_string_equal(p[3].id, "c1e10_w16_d1_s1");
  assert_string_equal(p[8].id, "c1e11_w48_d1_s1");
  free(p);
  cls_sweep_spec_free(s);

  /* several learning rates: the rate joins the id */
  s = parse_ok(
      "{\"task\": \"text\", \"mode\": \"curves\", \"widths\": [32], \"depth\": 1, \"budgets_steps\": [50], "
      "\"lr\": [1e-3, 3e-3]}");
  assert_int_equal(cls_sweep_plan(s, &p, &n, err, sizeof err), CLS_OK);
  assert_int_equal(n, 2);
  assert_string_equal(p[0].id, "n50_w32_d1_s1_lr0.001");
  assert_string_equal(p[1].id, "n50_w32_d1_s1_lr0.003");
  free(p);
  cls_sweep_spec_free(s);

  /* target parameter counts: the width whose N is nearest in log space */
  s = parse_ok("{" BASE "\"target_params\": [2e4, 1e5], \"depth\": 2, \"head_dim\": 8, \"budgets_flops\": [1e9]}");
  assert_int_equal(s->n_shapes, 2);
  for (size_t i = 0; i < 2; i++) {
    double nn, ne;
    cls_sweep_count_params(&s->base, s->shapes[i].width, 2, &nn, &ne);
    assert_int_equal(s->shapes[i].width % 8, 0);
    assert_int_equal(s->shapes[i].heads, s->shapes[i].width / 8);
    double lo, hi, e2;
    cls_sweep_count_params(&s->base, s->shapes[i].width - 8, 2, &lo, &e2);
    cls_sweep_count_params(&s->base, s->shapes[i].width + 8, 2, &hi, &e2);
    double t = s->shapes[i].target_params, gap = fabs(log(nn / t));
    assert_true(gap <= fabs(log(lo / t)) && gap <= fabs(log(hi / t)));
  }
  assert_non_null(strstr(s->canonical, "\"target_params\":20000"));
  cls_sweep_spec_free(s);

  char num[32];
  assert_string_equal(cls_sweep_fmt_num(4e10, num, sizeof num), "4e10");
  assert_string_equal(cls_sweep_fmt_num(1.37e11, num, sizeof num), "1.37e11");
  assert_string_equal(cls_sweep_fmt_num(3e-5, num, sizeof num), "3e-5");
  assert_string_equal(cls_sweep_fmt_num(500, num, sizeof num), "500");
}

/* The learning-rate transfer keys (issue 17): `param` as a list makes a
 * point per parametrisation with its name in the id; `head_dim` as a list
 * a shape per head size; one parametrisation keeps the old ids and the old
 * canonical form (old run directories still resume). */
static void test_transfer_keys(void **state) {
  (void)state;
  cls_sweep_spec *s =
      parse_ok("{\"task\": \"spectra\", \"mode\": \"curves\", \"widths\": [16, 32], \"depth\": 2, "
               "\"head_dim\": [4, 8], \"budgets_steps\": [50], \"lr\": [1e-3, 1e-2], \"param\": [\"sp\", "
               "\"mup\"], \"base_width\": 16}");
  cls_sweep_point *p;
  size_t n;
  assert_int_equal(cls_sweep_plan(s, &p, &n, err, sizeof err), CLS_OK);
  assert_int_equal(n, 2 * 2 * 2 * 2);
  assert_string_equal(p[0].id, "n50_w16_d2_h2_s1_lr0.001_sp");
  assert_int_equal(p[0].param, CLS_PARAM_SP);
  assert_string_equal(p[1].id, "n50_w16_d2_h2_s1_lr0.001_mup");
  assert_int_equal(p[1].param, CLS_PARAM_MUP);
  cls_task_spec ts;
  cls_sweep_point_task(s, &p[1], &ts);
  assert_int_equal(ts.param, CLS_PARAM_MUP);
  assert_int_equal(ts.heads, 2); /* width 16, head size 8 */
  assert_non_null(strstr(s->canonical, "\"param\":[\"sp\",\"mup\"]"));
  free(p);
  cls_sweep_spec_free(s);

  /* one parametrisation, as before: no suffix, a string in the canonical form */
  s = parse_ok("{\"task\": \"spectra\", \"mode\": \"curves\", \"widths\": [16], \"depth\": 2, \"budgets_steps\": "
               "[50], \"lr\": [1e-3, 1e-2], \"param\": \"mup\", \"base_width\": 16}");
  assert_int_equal(cls_sweep_plan(s, &p, &n, err, sizeof err), CLS_OK);
  assert_string_equal(p[0].id, "n50_w16_d2_s1_lr0.001");
  assert_int_equal(p[0].param, CLS_PARAM_MUP);
  assert_non_null(strstr(s->canonical, "\"param\":\"mup\","));
  free(p);
  cls_sweep_spec_free(s);

  /* bad transfer settings */
  parse_bad(
      "{\"task\": \"spectra\", \"mode\": \"curves\", \"widths\": [16], \"depth\": 2, \"budgets_steps\": [5], "
      "\"param\": [\"sp\", \"mvp\"]}",
      CLS_ERR_INVALID_VALUE, "param 'mvp'");
  parse_bad(
      "{\"task\": \"spectra\", \"mode\": \"curves\", \"widths\": [16], \"depth\": 2, \"budgets_steps\": [5], "
      "\"param\": []}",
      CLS_ERR_INVALID_VALUE, "'param' wants");
  parse_bad(
      "{\"task\": \"spectra\", \"mode\": \"curves\", \"widths\": [16], \"depth\": 2, \"budgets_steps\": [5], "
      "\"head_dim\": [4, 5]}",
      CLS_ERR_INVALID_VALUE, "not a multiple of head_dim 5");
  parse_bad("{\"task\": \"linreg\", \"mode\": \"curves\", \"widths\": [16], \"depth\": 1, \"budgets_steps\": [5], "
            "\"head_dim\": [4, 8]}",
            CLS_ERR_INVALID_VALUE, "no attention heads");
  parse_bad(
      "{\"task\": \"spectra\", \"mode\": \"curves\", \"widths\": [16], \"depth\": 2, \"budgets_steps\": [5], "
      "\"lrs\": []}",
      CLS_ERR_INVALID_VALUE, "empty");
  parse_bad(
      "{\"task\": \"spectra\", \"mode\": \"curves\", \"widths\": [16], \"depth\": 2, \"budgets_steps\": [5], "
      "\"lrs\": [0.01, 0]}",
      CLS_ERR_INVALID_VALUE, "positive learning rates");
}

static void test_manifest(void **state) {
  (void)state;
  char dir[512];
  test_tmpdir("sweep-manifest", dir, sizeof dir);
  cls_sweep_spec *a = parse_ok("{" BASE "\"widths\": [16], \"depth\": 1, \"budgets_flops\": [1e9]}");
  cls_sweep_spec *b = parse_ok("{" BASE "\"widths\": [16], \"depth\": 1, \"budgets_flops\": [2e9]}");
  /* only checkpoints differ: the same sweep */
  cls_sweep_spec *c = parse_ok("{" BASE "\"widths\": [16], \"depth\": 1, \"budgets_flops\": [1e9], "
                               "\"checkpoint_seconds\": 5}");
  cls_sweep_point *p;
  size_t n;
  assert_int_equal(cls_sweep_plan(a, &p, &n, err, sizeof err), CLS_OK);
  cls_sweep_manifest_info info = {"a.json", "test device"};

  /* several processes at once: exactly one writes it, all accept it */
  enum { KIDS = 4 };
  pid_t kids[KIDS];
  for (int k = 0; k < KIDS; k++) {
    kids[k] = fork();
    assert_true(kids[k] >= 0);
    if (!kids[k]) {
      int created = 0;
      char e[1024];
      cls_status st = cls_sweep_manifest_ensure(dir, a, p, n, &info, &created, e, sizeof e);
      _exit(st != CLS_OK ? 3 : created ? 1 : 0);
    }
  }
  int writers = 0;
  for (int k = 0; k < KIDS; k++) {
    int ws;
    assert_int_equal(waitpid(kids[k], &ws, 0), kids[k]);
    assert_true(WIFEXITED(ws));
    assert_true(WEXITSTATUS(ws) <= 1);
    writers += WEXITSTATUS(ws);
  }
  assert_int_equal(writers, 1);

  int created = 1;
  assert_int_equal(cls_sweep_manifest_ensure(dir, a, p, n, &info, &created, err, sizeof err), CLS_OK);
  assert_int_equal(created, 0);
  assert_int_equal(cls_sweep_manifest_ensure(dir, c, p, n, &info, &created, err, sizeof err), CLS_OK);
  assert_int_equal(cls_sweep_manifest_ensure(dir, b, p, n, &info, &created, err, sizeof err),
                   CLS_ERR_INVALID_VALUE);
  assert_non_null(strstr(err, "belongs to another sweep (from a.json)"));
  assert_non_null(strstr(err, "'budgets' is [{\"flops\":1000000000}] there, [{\"flops\":2000000000}] here"));

  /* a file that is not a manifest */
  char path[700];
  snprintf(path, sizeof path, "%s/other", dir);
  assert_int_equal(cls_mkdirs(path, err, sizeof err), CLS_OK);
  snprintf(path, sizeof path, "%s/other/manifest.json", dir);
  assert_int_equal(cls_write_atomic(path, "{\"name\": 1", 10, err, sizeof err), CLS_OK);
  snprintf(path, sizeof path, "%s/other", dir);
  assert_int_equal(cls_sweep_manifest_ensure(path, a, p, n, &info, &created, err, sizeof err), CLS_ERR_FORMAT);
  assert_non_null(strstr(err, "not a sweep manifest"));
  /* a folder that cannot be made */
  snprintf(path, sizeof path, "%s/other/manifest.json/sub", dir);
  assert_int_equal(cls_sweep_manifest_ensure(path, a, p, n, &info, &created, err, sizeof err), CLS_ERR_IO);
  if (!strstr(err, "is not a folder") && !strstr(err, "cannot create folder")) fail_msg("%s", err);
  free(p);
  cls_sweep_spec_free(a);
  cls_sweep_spec_free(b);
  cls_sweep_spec_free(c);
}

static void test_point_states(void **state) {
  (void)state;
  char dir[512], path[1024];
  test_tmpdir("sweep-points", dir, sizeof dir);
  cls_sweep_spec *s = parse_ok("{" BASE "\"widths\": [16], \"depth\": 1, \"budgets_flops\": [1e9]}");
  cls_sweep_point *p;
  size_t n;
  assert_int_equal(cls_sweep_plan(s, &p, &n, err, sizeof err), CLS_OK);
  const char *id = p[0].id;
  assert_int_equal(cls_rundir_point_state(dir, id, NULL), CLS_POINT_NEW);
  assert_int_equal(cls_sweep_write_failed(dir, s, &p[0], "dev", "out of device memory", err, sizeof err), CLS_OK);
  assert_int_equal(cls_rundir_point_state(dir, id, NULL), CLS_POINT_FAILED);
  assert_false(cls_point_state_done(CLS_POINT_FAILED));
  static const struct {
    const char *text;
    cls_point_state want;
  } cases[] = {{"{\"status\": \"ok\", \"final_eval_loss\": 0.25}", CLS_POINT_OK},
               {"{\"status\": \"diverged\"}", CLS_POINT_DIVERGED},
               {"{\"status\": \"running\"}", CLS_POINT_RUNNING},
               {"{\"status\": \"interrupted\"}", CLS_POINT_INTERRUPTED},
               {"{\"status\": \"ok\"", CLS_POINT_UNREADABLE},
               {"", CLS_POINT_UNREADABLE}};
  snprintf(path, sizeof path, "%s/points/%s.json", dir, id);
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    assert_int_equal(cls_write_atomic(path, cases[i].text, strlen(cases[i].text), err, sizeof err), CLS_OK);
    double loss;
    assert_int_equal(cls_rundir_point_state(dir, id, &loss), cases[i].want);
    if (i == 0) assert_true(loss == 0.25);
  }
  assert_true(cls_point_state_done(CLS_POINT_OK) && cls_point_state_done(CLS_POINT_DIVERGED));
  /* leftovers of a killed writer go; other files stay */
  const char *files[] = {"points/%s.csv.tmp.123", "points/%s.json.tmp.9", "checkpoints/%s.ckpt.tmp.77",
                         "points/%s.csv",         "points/%s.csv.tmp.x",  "points/%sx.csv.tmp.1"};
  snprintf(path, sizeof path, "%s/checkpoints", dir);
  assert_int_equal(cls_mkdirs(path, err, sizeof err), CLS_OK);
  for (size_t i = 0; i < 6; i++) {
    char rel[300];
    snprintf(rel, sizeof rel, files[i], id);
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fclose(f);
  }
  assert_int_equal(cls_rundir_remove_leftovers(dir, id), 3);
  for (size_t i = 0; i < 6; i++) {
    char rel[300];
    snprintf(rel, sizeof rel, files[i], id);
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    assert_int_equal(access(path, F_OK) == 0, i >= 3);
  }
  assert_false(cls_rundir_has_checkpoint(dir, id));
  free(p);
  cls_sweep_spec_free(s);
}

/* A spec written by cls_sweep_spec_write (clscale plan's specs) loads back
 * to the same canonical form, and so does the canonical form a manifest
 * records: budgets, models with their heads, lists of task fields (a
 * grid), variants, several rates, the schedule. */
static void test_spec_write_roundtrip(void **state) {
  (void)state;
  const char *texts[3] = {
      "{\"name\": \"w\", \"task\": \"spectra\", \"model\": \"emulator\", \"mode\": \"isoflop\", \"widths\": [8, "
      "16, 32], \"depths\": "
      "[2, 3], \"heads\": 4, \"budgets_flops\": [4e10, 1.6e12], \"isoflop_sizes\": 2, \"seeds\": [1, 2], "
      "\"batch\": 16, \"pixels\": 128, \"n_train\": [1024, 4096], \"param\": \"mup\", \"base_width\": 32, "
      "\"lr\": [1e-2, 3e-3], \"warmup_steps\": 10, \"evals\": 5}",
      "{\"task\": \"zipf\", \"vocab\": 1000, \"beta\": 1.5, \"budgets_tokens\": [100, 1000], "
      "\"variants\": [{\"source\": \"real\"}, {\"source\": \"cut\", \"cut\": 10}]}",
      "{\"task\": \"text\", \"model\": \"gpt\", \"data\": \"zipf\", \"context\": 16, \"models\": "
      "[\"32x2x4\", \"64x2x8\"], \"budgets_steps\": [50], \"batch\": 4, \"mode\": \"curves\"}",
  };
  char dir[1024], path[1200];
  test_tmpdir("spec_write", dir, sizeof dir);
  snprintf(path, sizeof path, "%s/written.json", dir);
  for (int i = 0; i < 3; i++) {
    cls_sweep_spec *s = parse_ok(texts[i]), *w = NULL, *c = NULL;
    assert_int_equal(cls_sweep_spec_write(s, "a test", path, err, sizeof err), CLS_OK);
    if (cls_sweep_spec_load(path, &w, err, sizeof err)) fail_msg("written spec refused: %s", err);
    assert_string_equal(w->canonical, s->canonical);
    if (cls_sweep_spec_from_canonical(s->canonical, "manifest", &c, err, sizeof err))
      fail_msg("canonical form refused: %s", err);
    assert_string_equal(c->canonical, s->canonical);
    cls_sweep_spec_free(s), cls_sweep_spec_free(w), cls_sweep_spec_free(c);
  }
  /* a changed shape and budget are what the written file says */
  cls_sweep_spec *s = parse_ok(texts[0]), *w = NULL;
  s->shapes[0].width = 40, s->n_shapes = 1, s->budgets[0].value = 5e12, s->n_budgets = 1, s->isoflop_sizes = 0;
  assert_int_equal(cls_sweep_spec_write(s, NULL, path, err, sizeof err), CLS_OK);
  if (cls_sweep_spec_load(path, &w, err, sizeof err)) fail_msg("written spec refused: %s", err);
  assert_int_equal(w->n_shapes, 1);
  assert_int_equal(w->shapes[0].width, 40);
  assert_int_equal(w->n_budgets, 1);
  assert_true(w->budgets[0].kind == CLS_BUDGET_FLOPS && w->budgets[0].value == 5e12);
  cls_sweep_spec_free(s), cls_sweep_spec_free(w);
}

/* The side-by-side estimate (cls_sweep_group_pays) against sums done by
 * hand: steps 100, 40, 10 with a step of one model 1 s and of three 2 s
 * (two: 1.5 s). Alone 150 s; together 60 s at one model, 30 steps at two
 * (45 s), 10 at three (20 s): 125 s, under 0.9 x 150: pays. With three
 * models costing 3 s a step (two: 2 s), together 60 + 60 + 30 = 150 s:
 * saves nothing, does not pay. Fewer than two points never pay. */
static void test_group_pays(void **state) {
  (void)state;
  const uint64_t steps[3] = {10, 100, 40};
  double alone, together;
  assert_true(cls_sweep_group_pays(steps, 3, 1.0, 2.0, &alone, &together));
  assert_true(fabs(alone - 150) < 1e-9 && fabs(together - 125) < 1e-9);
  assert_false(cls_sweep_group_pays(steps, 3, 1.0, 3.0, &alone, &together));
  assert_true(fabs(together - 150) < 1e-9);
  /* Equal budgets: the whole run at n models. */
  const uint64_t same[4] = {50, 50, 50, 50};
  assert_true(cls_sweep_group_pays(same, 4, 1.0, 2.0, &alone, &together));
  assert_true(fabs(alone - 200) < 1e-9 && fabs(together - 100) < 1e-9);
  assert_false(cls_sweep_group_pays(same, 1, 1.0, 2.0, &alone, &together));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_json_defaults),
      cmocka_unit_test(test_ini_equals_json),
      cmocka_unit_test(test_bad_specs),
      cmocka_unit_test(test_load_file),
      cmocka_unit_test(test_plan_ids_and_order),
      cmocka_unit_test(test_plan_groups),
      cmocka_unit_test(test_plan_generations),
      cmocka_unit_test(test_plan_windows_lrs_targets),
      cmocka_unit_test(test_manifest),
      cmocka_unit_test(test_transfer_keys),
      cmocka_unit_test(test_point_states),
      cmocka_unit_test(test_task_fields),
      cmocka_unit_test(test_spec_write_roundtrip),
      cmocka_unit_test(test_solved_specs),
      cmocka_unit_test(test_group_pays),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
