/*
 * tests/test_plot_collapse.c — the model-collapse figures (collapse-loss-d,
 * collapse-accuracy-d, collapse-generation, collapse-real-fraction) of a run
 * directory whose losses follow a known modified law and whose accuracies a
 * known function of it (tests/support/collapse_data.h), with its fit.json:
 * `clscale plot` draws exactly these four for a gcd sweep with generations,
 * and the three of the loss for a text sweep (no accuracy; skipped with a
 * note); each mean over seeds is drawn in its generation's colour where the
 * figure's own transform puts it; the fitted law is drawn; an older run
 * directory (pi as synthetic_fraction) plots the same; and a collapse kind
 * asked of a sweep without generations is refused, nothing written. The
 * PNGs stay in CLSCALE_TEST_TMP/plot-collapse* to look at.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "collapse_data.h"
#include "fit/axis.h"
#include "fit/collapse.h"
#include "plot/figures.h"
#include "test_util.h"

static char err[2048];

static bool exists(const char *path) {
  struct stat sb;
  return stat(path, &sb) == 0;
}

/* A collapse run directory and its fit.json (collapse fits and the laws
 * along tokens), as `clscale fit` writes them. */
static void make(const char *tag, const char *pi_key, char *dir, size_t len) {
  test_tmpdir(tag, dir, len);
  collapse_write_rundir(dir, pi_key, 0);
  cls_axis_input *in = NULL;
  if (cls_fit_axis_input_from_rundir(dir, &in, err, sizeof err)) fail_msg("%s", err);
  cls_fit_options o;
  cls_fit_options_default(&o);
  o.bootstrap = 20;
  cls_fit_collapse c;
  cls_fit_axis ax;
  if (cls_fit_collapse_run(in, &o, &c, err, sizeof err)) fail_msg("%s", err);
  if (cls_fit_axis_run(in, "tokens", false, &o, &ax, err, sizeof err)) fail_msg("%s", err);
  char path[700];
  snprintf(path, sizeof path, "%s/fit.json", dir);
  if (cls_fit_write_axis_json(&ax, 1, &c, &o, in, path, err, sizeof err)) fail_msg("%s", err);
  cls_fit_axis_free(&ax);
  cls_fit_collapse_free(&c);
  cls_fit_axis_input_destroy(in);
}

typedef struct {
  char log[8192];
} reports;

static void collect(void *user, int level, const char *msg) {
  reports *r = user;
  size_t n = strlen(r->log);
  snprintf(r->log + n, sizeof r->log - n, "%d %s\n", level, msg);
}

/* `clscale plot DIR` with its default kinds: the PNGs written; r (may be
 * NULL) gets the reports. */
static int plot_all(const char *dir, reports *r) {
  cls_plot_options opt = {6.4, 4.8, 150, NULL};
  int written = 0;
  if (cls_plot_run(dir, NULL, 0, &opt, r ? collect : NULL, r, &written, err, sizeof err)) fail_msg("%s", err);
  return written;
}

typedef struct {
  cls_rundir *rd;
  cls_solved *sv;
  cls_fit *fit;
  cls_figure *fig;
  cls_canvas *cv;
  cls_font *font;
  char why[2000];
} built;

static void build(const char *dir, cls_plot_kind kind, built *b) {
  char path[700];
  memset(b, 0, sizeof *b);
  snprintf(path, sizeof path, "%s/fit.json", dir);
  if (cls_rundir_load(dir, &b->rd, err, sizeof err) || cls_solved_load(b->rd, &b->sv, err, sizeof err) ||
      cls_fit_load(path, &b->fit, err, sizeof err) || cls_font_create(&b->font, err, sizeof err))
    fail_msg("%s", err);
  cls_plot_inputs in = {b->rd, b->fit, NULL, NULL, NULL, b->sv};
  cls_plot_options opt = {6.4, 4.8, 150, NULL};
  assert_int_equal(cls_plot_build(kind, &in, &opt, &b->fig, b->why, sizeof b->why), CLS_OK);
  if (!b->fig) fail_msg("%s skipped: %s", cls_plot_kind_name(kind), b->why);
  if (cls_figure_render(b->fig, b->font, &b->cv, err, sizeof err)) fail_msg("render: %s", err);
}

static void unbuild(built *b) {
  cls_canvas_destroy(b->cv);
  cls_figure_destroy(b->fig);
  cls_font_destroy(b->font);
  cls_fit_destroy(b->fit);
  cls_solved_destroy(b->sv);
  cls_rundir_destroy(b->rd);
}

/* Whether a pixel within 2 of the data point (x, y) has colour c. */
static bool drawn_at(const built *b, double x, double y, cls_rgba c) {
  cls_axis_scale xs, ys;
  cls_axes_get_transform(cls_figure_axes(b->fig, 0), &xs, &ys);
  const double px = cls_scale_to_px(&xs, x), py = cls_scale_to_px(&ys, y);
  for (int dy = -2; dy <= 2; dy++)
    for (int dx = -2; dx <= 2; dx++) {
      cls_rgba p = cls_canvas_get(b->cv, (int)floor(px) + dx, (int)floor(py) + dy);
      if (fabsf(p.r - c.r) < 0.1f && fabsf(p.g - c.g) < 0.1f && fabsf(p.b - c.b) < 0.1f) return true;
    }
  return false;
}

static void check_figures(const char *dir) {
  built b;
  /* loss vs D: generation 2 (palette 1) without real data at D = 1e5, and
   * with pi 0.2 at 1e6; generation 1 (palette 0) at 1e4 */
  build(dir, CLS_PLOT_COLLAPSE_LOSS_D, &b);
  assert_true(drawn_at(&b, 1e5, collapse_law(2, 0, 1e5), cls_palette(1)));
  assert_true(drawn_at(&b, 1e6, collapse_law(2, 0.2, 1e6), cls_palette(1)));
  assert_true(drawn_at(&b, 1e4, collapse_law(1, 0, 1e4), cls_palette(0)));
  assert_false(drawn_at(&b, 3e4, collapse_law(2, 0, 3e4), cls_palette(2))); /* no generation 3 */
  assert_null(strstr(b.why, "modified law not drawn"));
  unbuild(&b);
  /* accuracy vs D: the same points, curves and colours as the loss */
  build(dir, CLS_PLOT_COLLAPSE_ACCURACY_D, &b);
  assert_true(drawn_at(&b, 1e5, collapse_accuracy(2, 0, 1e5), cls_palette(1)));
  assert_true(drawn_at(&b, 1e6, collapse_accuracy(2, 0.2, 1e6), cls_palette(1)));
  assert_true(drawn_at(&b, 1e4, collapse_accuracy(1, 0, 1e4), cls_palette(0)));
  assert_true(drawn_at(&b, 1e6, collapse_accuracy(0, 1, 1e6), (cls_rgba){0.1f, 0.1f, 0.1f, 1.0f}));
  assert_false(drawn_at(&b, 3e4, collapse_accuracy(2, 0, 3e4), cls_palette(2))); /* no generation 3 */
  assert_null(strstr(b.why, "modified law")); /* the law is of the loss: nothing to say it is missing */
  unbuild(&b);
  /* loss vs generation at the largest D: pi 0 is palette 0, pi 0.2 palette 1 */
  build(dir, CLS_PLOT_COLLAPSE_GENERATION, &b);
  assert_true(drawn_at(&b, 2, collapse_law(2, 0, 1e6), cls_palette(0)));
  assert_true(drawn_at(&b, 1, collapse_law(1, 0.2, 1e6), cls_palette(1)));
  unbuild(&b);
  /* loss at the largest D vs pi, per generation */
  build(dir, CLS_PLOT_COLLAPSE_REAL_FRACTION, &b);
  assert_true(drawn_at(&b, 0.2, collapse_law(2, 0.2, 1e6), cls_palette(1)));
  assert_true(drawn_at(&b, 0, collapse_law(1, 0, 1e6), cls_palette(0)));
  unbuild(&b);
}

static void test_collapse_figures(void **state) {
  (void)state;
  char dir[600], path[800];
  make("plot-collapse", "real_fraction", dir, sizeof dir);
  assert_int_equal(plot_all(dir, NULL), 4);
  static const char *const kinds[] = {"collapse-loss-d", "collapse-accuracy-d", "collapse-generation",
                                      "collapse-real-fraction"};
  for (int k = 0; k < 4; k++) {
    snprintf(path, sizeof path, "%s/plots/%s.png", dir, kinds[k]);
    assert_true(exists(path));
  }
  snprintf(path, sizeof path, "%s/plots/loss-flops.png", dir);
  assert_false(exists(path)); /* generations mixed into one frontier would mislead */
  check_figures(dir);
}

static void test_old_key(void **state) {
  (void)state;
  char dir[600];
  make("plot-collapse-old", "synthetic_fraction", dir, sizeof dir);
  check_figures(dir);
}

/* The gcd outcomes: per generation (and pi 0 and the largest pi) at the
 * largest D, the accuracy and the loss per gcd bin, pooled over seeds; the
 * loss panel has generation 2's loss at k = 2 (its own bin) in its colour. */
static void test_outcomes(void **state) {
  (void)state;
  char dir[600], path[800];
  test_tmpdir("plot-collapse-outcomes", dir, sizeof dir);
  collapse_write_rundir_outcomes(dir);
  assert_int_equal(plot_all(dir, NULL), 5);
  cls_plot_options opt = {6.4, 4.8, 150, NULL};
  snprintf(path, sizeof path, "%s/plots/gcd-outcomes.png", dir);
  assert_true(exists(path));
  cls_rundir *rd = NULL;
  cls_solved *sv = NULL;
  cls_font *font = NULL;
  if (cls_rundir_load(dir, &rd, err, sizeof err) || cls_solved_load(rd, &sv, err, sizeof err) ||
      cls_font_create(&font, err, sizeof err))
    fail_msg("%s", err);
  cls_plot_inputs in = {rd, NULL, NULL, NULL, NULL, sv};
  built b = {.rd = rd, .sv = sv, .font = font};
  char why[1000];
  assert_int_equal(cls_plot_build(CLS_PLOT_GCD_OUTCOMES, &in, &opt, &b.fig, why, sizeof why), CLS_OK);
  assert_non_null(b.fig);
  if (cls_figure_render(b.fig, font, &b.cv, err, sizeof err)) fail_msg("%s", err);
  cls_axis_scale xs, ys;
  cls_axes_get_transform(cls_figure_axes(b.fig, 1), &xs, &ys);
  bool seen[2] = {false, false};
  const unsigned gens[2] = {2, 0};
  const cls_rgba cols[2] = {cls_palette(1), {0.1f, 0.1f, 0.1f, 1.0f}};
  for (int q = 0; q < 2; q++) {
    const double px = cls_scale_to_px(&xs, 2), py = cls_scale_to_px(&ys, collapse_outcome_loss(gens[q], 2));
    for (int dy = -2; dy <= 2; dy++)
      for (int dx = -2; dx <= 2; dx++) {
        cls_rgba p = cls_canvas_get(b.cv, (int)floor(px) + dx, (int)floor(py) + dy);
        seen[q] |= fabsf(p.r - cols[q].r) < 0.1f && fabsf(p.g - cols[q].g) < 0.1f && fabsf(p.b - cols[q].b) < 0.1f;
      }
  }
  assert_true(seen[0] && seen[1]);
  unbuild(&b);
}

/* A text sweep measures no accuracy: the loss figures are drawn, the
 * accuracy figure is skipped with a note that says why. */
static void test_text_no_accuracy(void **state) {
  (void)state;
  char dir[600], path[800];
  test_tmpdir("plot-collapse-text", dir, sizeof dir);
  collapse_write_rundir_text(dir);
  reports r = {{0}};
  assert_int_equal(plot_all(dir, &r), 3);
  snprintf(path, sizeof path, "%s/plots/collapse-loss-d.png", dir);
  assert_true(exists(path));
  snprintf(path, sizeof path, "%s/plots/collapse-accuracy-d.png", dir);
  assert_false(exists(path));
  if (!strstr(r.log, "0 skipped collapse-accuracy-d: needs eval_accuracy")) fail_msg("reports:\n%s", r.log);
}

/* A collapse kind of a sweep without generations: refused before anything
 * is written; the figure itself says what it lacks. */
static void test_not_collapse(void **state) {
  (void)state;
  char dir[600], path[800];
  test_tmpdir("plot-collapse-none", dir, sizeof dir);
  collapse_write_rundir(dir, "no_such_key", 0);
  cls_plot_options opt = {6.4, 4.8, 150, NULL};
  int written = 0;
  assert_int_equal(
      cls_plot_run(dir, NULL, 1u << CLS_PLOT_COLLAPSE_LOSS_D, &opt, NULL, NULL, &written, err, sizeof err),
      CLS_ERR_INVALID_VALUE);
  assert_non_null(strstr(err, "--kind collapse-loss-d is a figure of a sweep with generations"));
  assert_int_equal(written, 0);
  snprintf(path, sizeof path, "%s/plots", dir);
  assert_false(exists(path));
  cls_rundir *rd = NULL;
  cls_solved *sv = NULL;
  if (cls_rundir_load(dir, &rd, err, sizeof err) || cls_solved_load(rd, &sv, err, sizeof err)) fail_msg("%s", err);
  cls_plot_inputs in = {rd, NULL, NULL, NULL, NULL, sv};
  cls_figure *f = NULL;
  char why[1000];
  assert_int_equal(cls_plot_build(CLS_PLOT_COLLAPSE_GENERATION, &in, &opt, &f, why, sizeof why), CLS_OK);
  assert_null(f);
  assert_non_null(strstr(why, "draws a sweep with generations"));
  cls_solved_destroy(sv);
  cls_rundir_destroy(rd);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_collapse_figures), cmocka_unit_test(test_old_key),
      cmocka_unit_test(test_outcomes),         cmocka_unit_test(test_text_no_accuracy),
      cmocka_unit_test(test_not_collapse),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
