/*
 * tests/test_fit_collapse.c — the model-collapse fits (src/fit/collapse.h)
 * on a run directory whose losses follow a known modified law
 * (tests/support/collapse_data.h): the floors per generation, the shared
 * exponent and the recovered gap come back, with intervals that hold them;
 * the plateau is found; the mean accuracy per cell is the data's (and a
 * text sweep, which measures none, has none); fit.json carries the section,
 * with the accuracy beside the loss, and its reader gives the laws back; an
 * older run directory's `synthetic_fraction` is read as pi; the chain's keys
 * and pi are the ones the figures use too; and the bad inputs (no generations, two configurations, generation 0
 * alone) are refused with a message.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "collapse_data.h"
#include "fit/axis.h"
#include "fit/collapse.h"
#include "fit/fitfile.h"
#include "rundir/json.h"
#include "test_util.h"

static char err[2048];

static cls_axis_input *load(const char *tag, const char *pi_key, int odd, char *dir, size_t len) {
  test_tmpdir(tag, dir, len);
  collapse_write_rundir(dir, pi_key, odd);
  cls_axis_input *in = NULL;
  if (cls_fit_axis_input_from_rundir(dir, &in, err, sizeof err)) fail_msg("%s", err);
  return in;
}

static cls_fit_options options(void) {
  cls_fit_options o;
  cls_fit_options_default(&o);
  o.bootstrap = 100;
  return o;
}

static void check_fit(const cls_fit_collapse *c) {
  assert_int_equal(c->n_cells, 5); /* g0, g1 x 2 pi, g2 x 2 pi */
  assert_true(c->largest_d == 1e6);
  assert_int_equal(c->n_laws, 2);
  for (size_t l = 0; l < 2; l++) {
    const cls_collapse_law *L = &c->laws[l];
    const double pi = l ? 0.2 : 0.0;
    assert_true(L->ok);
    assert_true(L->real_fraction == pi);
    assert_int_equal(L->n_gen, 3);
    for (unsigned g = 0; g < 3; g++) {
      assert_int_equal(L->generations[g], g);
      if (fabs(L->E[g] - collapse_floor(g, pi)) > 0.01 * collapse_floor(g, pi))
        fail_msg("pi %g: E_%u = %g, want %g", pi, g, L->E[g], collapse_floor(g, pi));
      /* the seeds are +-1 %: the interval holds the truth */
      assert_true(L->E_ci[g].lo <= collapse_floor(g, pi) * 1.001 &&
                  L->E_ci[g].hi >= collapse_floor(g, pi) * 0.999);
    }
    assert_true(fabs(L->gamma - COLLAPSE_GAMMA) < 0.01);
    assert_true(fabs(L->A - COLLAPSE_A) < 0.05 * COLLAPSE_A);
    assert_true(L->gamma_ci.lo <= L->gamma && L->gamma <= L->gamma_ci.hi);
    assert_true(L->floor_grows);
    assert_true(L->boot_ok > 90);
  }
  /* the gap at D = 1e6: the power-law terms cancel, (1.5 - 0.2) / (1.5 - 0.1) */
  assert_int_equal(c->n_recovery, 2);
  const cls_collapse_recovery *R = &c->recovery[1];
  assert_int_equal(R->generation, 2);
  assert_true(fabs(R->gap_closed - 1.3 / 1.4) < 1e-9);
  assert_true(R->gap_closed_ci.lo <= R->gap_closed && R->gap_closed <= R->gap_closed_ci.hi);
  assert_true(fabs(c->recovery[0].gap_closed - 0.35 / 0.4) < 1e-9);
  /* generation 2 without real data falls 7 % over the last step, generation
   * 0 29 %: a plateau; with pi 0.2 it falls 25 %: none */
  assert_true(c->cells[3].generation == 2 && c->cells[3].real_fraction == 0 && c->cells[3].plateau);
  assert_false(c->cells[4].plateau);
  assert_false(c->cells[0].plateau);
  assert_non_null(strstr(c->summary, "Generation 2 (pi 0) falls"));
  assert_non_null(strstr(c->summary, "it plateaus (collapse)"));
  assert_non_null(strstr(c->summary, "pi 0.2 closes 93 % of generation 2's gap"));
  /* the accuracy: the seeds' mean, per cell and D */
  assert_true(c->has_accuracy);
  for (size_t i = 0; i < c->n_cells; i++) {
    const cls_collapse_cell *q = &c->cells[i];
    assert_non_null(q->accuracy);
    for (size_t k = 0; k < q->n_d; k++)
      assert_true(fabs(q->accuracy[k] - collapse_accuracy(q->generation, q->real_fraction, q->d[k])) < 1e-12);
  }
}

static void test_law_recovered(void **state) {
  (void)state;
  char dir[600];
  cls_axis_input *in = load("fit-collapse", "real_fraction", 0, dir, sizeof dir);
  assert_true(cls_fit_collapse_applies(in));
  cls_fit_options o = options();
  cls_fit_collapse c;
  if (cls_fit_collapse_run(in, &o, &c, err, sizeof err)) fail_msg("%s", err);
  check_fit(&c);
  /* the per-(generation, pi) laws along tokens group the seeds together:
   * the teachers and checksums (one per seed) and the accuracy are no group
   * keys */
  cls_fit_axis ax;
  if (cls_fit_axis_run(in, "tokens", false, &o, &ax, err, sizeof err)) fail_msg("%s", err);
  assert_int_equal(ax.n_groups, 5);
  for (size_t g = 0; g < ax.n_groups; g++) {
    assert_int_equal(ax.groups[g].n_runs, 10);
    assert_null(strstr(ax.groups[g].label, "teacher"));
  }
  assert_string_equal(ax.groups[0].label, "generation=0 real_fraction=1");
  /* fit.json: written, and read back */
  char path[700];
  snprintf(path, sizeof path, "%s/fit.json", dir);
  if (cls_fit_write_axis_json(&ax, 1, &c, &o, in, path, err, sizeof err)) fail_msg("%s", err);
  cls_fit *f = NULL;
  if (cls_fit_load(path, &f, err, sizeof err)) fail_msg("%s", err);
  assert_true(f->collapse.present);
  assert_true(f->collapse.largest_d == 1e6);
  assert_int_equal(f->collapse.n_laws, 2);
  assert_int_equal(f->collapse.laws[1].n_gen, 3);
  assert_true(f->collapse.laws[1].real_fraction == 0.2);
  assert_true(fabs(f->collapse.laws[1].E[2] - c.laws[1].E[2]) < 1e-12);
  assert_true(fabs(f->collapse.laws[0].gamma - c.laws[0].gamma) < 1e-12); /* JSON keeps 15 to 17 digits */
  assert_int_equal(f->n_axis_fits, 1);
  cls_fit_destroy(f);
  /* the accuracy beside the loss in each cell: generation 2 without real
   * data, at the largest D */
  cJSON *root = NULL;
  if (cls_json_load(path, &root, err, sizeof err)) fail_msg("%s", err);
  const cJSON *cells =
      cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(root, "collapse"), "cells");
  const cJSON *g2 = cJSON_GetArrayItem(cells, 3);
  assert_true(cls_json_get_num(g2, "generation") == 2 && cls_json_get_num(g2, "real_fraction") == 0);
  const cJSON *acc = cJSON_GetObjectItemCaseSensitive(g2, "accuracy");
  assert_int_equal(cJSON_GetArraySize(acc), COLLAPSE_N_D);
  assert_true(fabs(cJSON_GetArrayItem(acc, COLLAPSE_N_D - 1)->valuedouble - collapse_accuracy(2, 0, 1e6)) < 1e-12);
  cJSON_Delete(root);
  cls_fit_axis_free(&ax);
  cls_fit_collapse_free(&c);
  cls_fit_axis_input_destroy(in);
}

/* Run directories from before the rename wrote pi as synthetic_fraction. */
static void test_old_key(void **state) {
  (void)state;
  char dir[600];
  cls_axis_input *in = load("fit-collapse-old", "synthetic_fraction", 0, dir, sizeof dir);
  assert_true(cls_fit_collapse_applies(in));
  cls_fit_options o = options();
  cls_fit_collapse c;
  if (cls_fit_collapse_run(in, &o, &c, err, sizeof err)) fail_msg("%s", err);
  check_fit(&c);
  cls_fit_collapse_free(&c);
  cls_fit_axis_input_destroy(in);
}

/* A text sweep measures no accuracy: the cells have none and fit.json no
 * field for it; the laws are the same. */
static void test_text_no_accuracy(void **state) {
  (void)state;
  char dir[600], path[700];
  test_tmpdir("fit-collapse-text", dir, sizeof dir);
  collapse_write_rundir_text(dir);
  cls_axis_input *in = NULL;
  if (cls_fit_axis_input_from_rundir(dir, &in, err, sizeof err)) fail_msg("%s", err);
  cls_fit_options o = options();
  cls_fit_collapse c;
  if (cls_fit_collapse_run(in, &o, &c, err, sizeof err)) fail_msg("%s", err);
  assert_false(c.has_accuracy);
  for (size_t i = 0; i < c.n_cells; i++) assert_null(c.cells[i].accuracy);
  assert_true(c.laws[0].ok && c.laws[0].floor_grows);
  snprintf(path, sizeof path, "%s/fit.json", dir);
  cls_fit_axis ax;
  if (cls_fit_axis_run(in, "tokens", false, &o, &ax, err, sizeof err)) fail_msg("%s", err);
  if (cls_fit_write_axis_json(&ax, 1, &c, &o, in, path, err, sizeof err)) fail_msg("%s", err);
  cls_fit_axis_free(&ax);
  cJSON *root = NULL;
  if (cls_json_load(path, &root, err, sizeof err)) fail_msg("%s", err);
  const cJSON *cells =
      cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(root, "collapse"), "cells");
  assert_int_equal(cJSON_GetArraySize(cells), 5);
  assert_non_null(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(cells, 0), "loss"));
  assert_null(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(cells, 0), "accuracy"));
  cJSON_Delete(root);
  cls_fit_collapse_free(&c);
  cls_fit_axis_input_destroy(in);
}

/* pi and the chain's keys: one rule for the fits and the figures. */
static double fake_num(const void *point, const char *key) {
  const double *v = point; /* {real_fraction, synthetic_fraction} */
  return !strcmp(key, "real_fraction") ? v[0] : !strcmp(key, "synthetic_fraction") ? v[1] : NAN;
}

static void test_chain_keys(void **state) {
  (void)state;
  const double both[2] = {0.2, 0.8}, old[2] = {NAN, 0.3}, none[2] = {NAN, NAN};
  assert_true(cls_fit_collapse_pi(fake_num, both) == 0.2); /* the new name wins */
  assert_true(cls_fit_collapse_pi(fake_num, old) == 0.3);
  assert_true(isnan(cls_fit_collapse_pi(fake_num, none)));
  static const char *const chain[] = {"generation", "real_fraction", "synthetic_fraction", "corpus_real_fraction"};
  for (size_t i = 0; i < 4; i++) assert_true(cls_fit_collapse_is_chain_key(chain[i]));
  assert_false(cls_fit_collapse_is_chain_key("width"));
  assert_false(cls_fit_collapse_is_chain_key("generations"));
  assert_false(cls_fit_collapse_is_chain_key(NULL));
}

static void test_bad_inputs(void **state) {
  (void)state;
  char dir[600];
  cls_fit_options o = options();
  cls_fit_collapse c;
  /* two configurations: one at a time, and --where says how */
  cls_axis_input *in = load("fit-collapse-two", "real_fraction", 1, dir, sizeof dir);
  assert_int_equal(cls_fit_collapse_run(in, &o, &c, err, sizeof err), CLS_ERR_INVALID_VALUE);
  assert_non_null(strstr(err, "differ in 'depth'"));
  assert_non_null(strstr(err, "--where depth="));
  /* generation 0 alone */
  assert_int_equal(cls_fit_axis_input_where(in, "generation=0", err, sizeof err), CLS_OK);
  assert_int_equal(cls_fit_collapse_run(in, &o, &c, err, sizeof err), CLS_ERR_INVALID_VALUE);
  assert_non_null(strstr(err, "no finished point of generation 1 or later"));
  cls_fit_axis_input_destroy(in);
  /* no generations at all */
  in = load("fit-collapse-none", "no_such_key", 0, dir, sizeof dir);
  assert_false(cls_fit_collapse_applies(in));
  assert_int_equal(cls_fit_collapse_run(in, &o, &c, err, sizeof err), CLS_ERR_INVALID_VALUE);
  assert_non_null(strstr(err, "has no generation and real_fraction"));
  cls_fit_axis_input_destroy(in);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_law_recovered),    cmocka_unit_test(test_old_key),
      cmocka_unit_test(test_text_no_accuracy), cmocka_unit_test(test_chain_keys),
      cmocka_unit_test(test_bad_inputs),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
