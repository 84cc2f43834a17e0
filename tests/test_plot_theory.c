/*
 * tests/test_plot_theory.c — the solved tasks' figures (rf-loss-n, rf-loss-t,
 * rf-double-descent, zipf-error) from run directories written here the way
 * `clscale sweep` writes them (docs/formats.md), with losses drawn from the
 * fit layer's theory: the PNGs' sizes, the theory line's colour where the
 * figure's own transform puts the theory, points grouped by config keys and
 * not by ids, non-finite theory skipped with a note, and the bad inputs
 * (no finished point, a missing key, a kind of another task) refused with
 * no PNG written. The PNGs are left in CLSCALE_TEST_TMP/plot-theory-* for
 * people to look at.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <math.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fit/theory_rf.h"
#include "fit/theory_zipf.h"
#include "plot/figures.h"
#include "test_util.h"

/* ------------------------------------------------------------ helpers */

static void write_file(const char *dir, const char *name, const char *text) {
  char path[900];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "w");
  if (!f) fail_msg("cannot write %s", path);
  fputs(text, f);
  fclose(f);
}

static void make_rundir(const char *tag, char *dir, size_t len) {
  test_tmpdir(tag, dir, len);
  char p[900];
  snprintf(p, sizeof p, "%s/points", dir);
  assert_int_equal(mkdir(p, 0755), 0);
}

static bool exists(const char *path) {
  struct stat sb;
  return stat(path, &sb) == 0;
}

/* Decodes an 8-bit RGB PNG written by the plotter. */
static unsigned char *read_rgb(const char *path, int *w, int *h) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
  png_infop info = png_create_info_struct(png);
  unsigned char *volatile rgb = NULL;
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_read_struct(&png, &info, NULL);
    fclose(f);
    free(rgb);
    return NULL;
  }
  png_init_io(png, f);
  png_read_info(png, info);
  *w = (int)png_get_image_width(png, info);
  *h = (int)png_get_image_height(png, info);
  if (png_get_color_type(png, info) != PNG_COLOR_TYPE_RGB || png_get_bit_depth(png, info) != 8)
    png_error(png, "not 8-bit RGB");
  rgb = malloc((size_t)*w * (size_t)*h * 3);
  for (int y = 0; y < *h; y++) png_read_row(png, rgb + (size_t)y * (size_t)*w * 3, NULL);
  png_read_end(png, info);
  png_destroy_read_struct(&png, &info, NULL);
  fclose(f);
  return rgb;
}

static void png_size(const char *path, int *w, int *h) {
  unsigned char *rgb = read_rgb(path, w, h);
  if (!rgb) fail_msg("cannot decode %s", path);
  free(rgb);
}

static bool near_color(cls_rgba a, cls_rgba b, float tol) {
  return fabsf(a.r - b.r) <= tol && fabsf(a.g - b.g) <= tol && fabsf(a.b - b.b) <= tol;
}

/* Whether a pixel within r of (x,y) has colour c. */
static bool color_near(const cls_canvas *cv, double x, double y, int r, cls_rgba c, float tol) {
  if (!isfinite(x) || !isfinite(y)) return false;
  for (int dy = -r; dy <= r; dy++)
    for (int dx = -r; dx <= r; dx++)
      if (near_color(cls_canvas_get(cv, (int)floor(x) + dx, (int)floor(y) + dy), c, tol)) return true;
  return false;
}

typedef struct {
  char log[16384];
} reports;

static void collect(void *user, int level, const char *msg) {
  reports *r = user;
  size_t n = strlen(r->log);
  snprintf(r->log + n, sizeof r->log - n, "%d %s\n", level, msg);
}

/* Loads dir and builds one figure; the caller destroys everything. */
typedef struct {
  cls_rundir *rd;
  cls_solved *sv;
  cls_figure *fig;
  cls_canvas *cv;
  cls_font *font;
  char why[2000];
} built;

static void build(const char *dir, cls_plot_kind kind, built *b) {
  char err[1024];
  memset(b, 0, sizeof *b);
  if (cls_rundir_load(dir, &b->rd, err, sizeof err)) fail_msg("load %s: %s", dir, err);
  if (cls_solved_load(b->rd, &b->sv, err, sizeof err)) fail_msg("solved %s: %s", dir, err);
  if (cls_font_create(&b->font, err, sizeof err)) fail_msg("font: %s", err);
  cls_plot_inputs in = {b->rd, NULL, NULL, NULL, NULL, b->sv};
  cls_plot_options opt = {6.4, 4.8, 150, NULL};
  assert_int_equal(cls_plot_build(kind, &in, &opt, &b->fig, b->why, sizeof b->why), CLS_OK);
  if (!b->fig) fail_msg("%s skipped: %s", cls_plot_kind_name(kind), b->why);
  if (cls_figure_render(b->fig, b->font, &b->cv, err, sizeof err)) fail_msg("render: %s", err);
}

static void unbuild(built *b) {
  cls_canvas_destroy(b->cv);
  cls_figure_destroy(b->fig);
  cls_font_destroy(b->font);
  cls_solved_destroy(b->sv);
  cls_rundir_destroy(b->rd);
}

/* ------------------------------------------------------------ rf */

#define RF_M     64
#define RF_ALPHA 1.0

static double rf_loss(size_t n, size_t t, double ridge) {
  cls_fit_rf_theory th;
  char err[256];
  if (cls_fit_rf_theory_loss_powerlaw(n, t, ridge, 0.0, RF_ALPHA, RF_M, &th, err, sizeof err)) fail_msg("%s", err);
  return th.loss;
}

/* One rf point as the sweep writes it; loss NAN: the theory's, times
 * (1 ± 3%) by seed. Ids are opaque ("p007"): figures must not parse them. */
static void rf_point(const char *dir, int *counter, size_t n, size_t t, double ridge, int seed, const char *status,
                     double loss, bool with_ridge) {
  char id[32], name[48], json[2048], ridge_line[64] = "";
  snprintf(id, sizeof id, "p%03d", (*counter)++);
  if (isnan(loss)) {
    loss = rf_loss(n, t, ridge);
    loss *= seed == 1 ? 1.03 : 0.97;
  }
  if (with_ridge) snprintf(ridge_line, sizeof ridge_line, "\"ridge\": %.17g,\n", ridge);
  char loss_text[64];
  if (isfinite(loss))
    snprintf(loss_text, sizeof loss_text, "%.17g", loss);
  else
    snprintf(loss_text, sizeof loss_text, "null");
  snprintf(json, sizeof json,
           "{\n\"id\": \"%s\",\n\"status\": \"%s\",\n\"n_params\": %zu,\n\"n_params_embed\": 0,\n"
           "\"task\": \"rf\",\n\"model\": \"features\",\n\"features\": %zu,\n\"samples\": %zu,\n"
           "\"latent\": %d,\n\"alpha\": %g,\n%s\"noise\": 0,\n\"test_samples\": 0,\n\"seed\": %d,\n"
           "\"sweep\": \"rf-test\",\n\"sweep_mode\": \"curves\",\n\"point_index\": %d,\n\"tokens\": %zu,\n"
           "\"flops\": %g,\n\"budget_tokens\": %zu,\n\"final_eval_loss\": %s,\n\"kernel_form\": %d,\n"
           "\"loss_rounding\": 1e-8,\n\"solve_refinements\": 2,\n\"seconds\": %g\n}\n",
           id, status, n, n, t, RF_M, RF_ALPHA, ridge_line, seed, *counter, t, 1e6 * (double)n * (double)t, t,
           loss_text, n > t, 0.001 * *counter);
  snprintf(name, sizeof name, "points/%s.json", id);
  write_file(dir, name, json);
  char csv[256];
  snprintf(csv, sizeof csv,
           "step,tokens,flops,flops_6nd,train_loss,eval_loss,lr,seconds\n%zu,%zu,%g,0,nan,%s,0,0.001\n", t, t,
           1e6 * (double)n * (double)t, loss_text);
  snprintf(name, sizeof name, "points/%s.csv", id);
  write_file(dir, name, csv);
}

static const size_t RF_NS[] = {8, 16, 32, 64, 128};
static const size_t RF_TS[] = {32, 128};

/* Two ridges, N crossing both T, two seeds. */
static void rf_sweep(const char *dir, const double *ridges, size_t nr) {
  int counter = 0;
  for (size_t r = 0; r < nr; r++)
    for (size_t t = 0; t < 2; t++)
      for (size_t n = 0; n < 5; n++)
        for (int seed = 1; seed <= 2; seed++) {
          double loss = NAN;
          if (ridges[r] == 0 && RF_NS[n] == RF_TS[t]) loss = 3.0; /* the simulator's ridgeless peak, finite */
          rf_point(dir, &counter, RF_NS[n], RF_TS[t], ridges[r], seed, "ok", loss, true);
        }
}

/* `clscale plot` on an rf sweep writes its three figures, at their sizes. */
static void test_rf_run(void **state) {
  (void)state;
  char dir[600], path[800], err[1024];
  make_rundir("plot-theory-rf", dir, sizeof dir);
  const double ridges[] = {1e-4, 1e-1};
  rf_sweep(dir, ridges, 2);
  cls_plot_options opt = {6.4, 4.8, 150, NULL};
  reports r = {{0}};
  int written = 0;
  if (cls_plot_run(dir, NULL, 0, &opt, collect, &r, &written, err, sizeof err)) fail_msg("%s", err);
  assert_int_equal(written, 3);
  assert_null(strstr(r.log, "skipped"));
  /* two panels (one per ridge): 0.8·2 + 0.15 = 1.75 widths; double descent:
   * one per T */
  const char *kinds[] = {"rf-loss-n", "rf-loss-t", "rf-double-descent"};
  for (int k = 0; k < 3; k++) {
    snprintf(path, sizeof path, "%s/plots/%s.png", dir, kinds[k]);
    int w, h;
    png_size(path, &w, &h);
    assert_int_equal(w, 1680);
    assert_int_equal(h, 720);
  }
  /* the generic figures were not attempted, so no warning about them */
  assert_false(exists(strcat(strcpy(path, dir), "/plots/loss-n.png")));
}

/* The theory line of T = 32 passes where the transform puts the theory at
 * N = 23 (between the measured N), in its colour; seeds are grouped (the
 * means lie on the theory: the seeds are ±3% around it). */
static void test_rf_theory_pixels(void **state) {
  (void)state;
  char dir[600];
  make_rundir("plot-theory-rfpx", dir, sizeof dir);
  const double ridges[] = {1e-4, 1e-1};
  rf_sweep(dir, ridges, 2);
  built b;
  build(dir, CLS_PLOT_RF_LOSS_N, &b);
  assert_string_equal(b.why, "");
  /* panels by ridge: 1e-4 first */
  for (int panel = 0; panel < 2; panel++) {
    cls_axis_scale xs, ys;
    cls_axes_get_transform(cls_figure_axes(b.fig, panel), &xs, &ys);
    for (size_t t = 0; t < 2; t++) {
      cls_rgba col = cls_colormap((double)RF_TS[t], 32, 128, CLS_SCALE_LOG);
      double y = rf_loss(23, RF_TS[t], ridges[panel]);
      double px = cls_scale_to_px(&xs, 23), py = cls_scale_to_px(&ys, y);
      if (!color_near(b.cv, px, py, 2, col, 0.08f))
        fail_msg("panel %d, T = %zu: no theory line at N = 23 (%.1f, %.1f)", panel, RF_TS[t], px, py);
      /* and the mean of the two seeds (1.03 and 0.97 times the theory) on it */
      double my = rf_loss(64, RF_TS[t], ridges[panel]);
      assert_true(color_near(b.cv, cls_scale_to_px(&xs, 64), cls_scale_to_px(&ys, my), 1, col, 0.08f));
    }
    /* far below the curves: background */
    double y0 = rf_loss(23, 128, ridges[panel]) / 1.5;
    if (y0 > ys.lo)
      assert_true(color_near(b.cv, cls_scale_to_px(&xs, 23), cls_scale_to_px(&ys, y0), 0,
                             cls_rgba_make(1, 1, 1, 1), 0.02f));
  }
  unbuild(&b);
}

/* Ridge 0 puts the theory at +∞ exactly at N = T: the value is skipped and
 * counted, the line drawn on both sides, the y axis not stretched to it. */
static void test_rf_double_descent(void **state) {
  (void)state;
  char dir[600];
  make_rundir("plot-theory-dd", dir, sizeof dir);
  const double ridges[] = {0.0, 1e-1};
  rf_sweep(dir, ridges, 2);
  built b;
  build(dir, CLS_PLOT_RF_DOUBLE_DESCENT, &b);
  if (!strstr(b.why, "theory values not drawn")) fail_msg("no note of the infinite theory: '%s'", b.why);
  /* panel 0 is T = 32; ridge 0 is palette colour 0 */
  cls_axis_scale xs, ys;
  cls_axes_get_transform(cls_figure_axes(b.fig, 0), &xs, &ys);
  assert_true(ys.hi < 1e3); /* capped near the data (3.0 at the peak), not at the theory's 10^{300} */
  double x = 0.5, y = rf_loss(16, 32, 0.0);
  assert_true(color_near(b.cv, cls_scale_to_px(&xs, x), cls_scale_to_px(&ys, y), 2, cls_palette(0), 0.08f));
  x = 1.0 / 0.7; /* N = 46 > T */
  y = rf_loss(46, 32, 0.0);
  assert_true(isfinite(y));
  if (y < ys.hi)
    assert_true(color_near(b.cv, cls_scale_to_px(&xs, x), cls_scale_to_px(&ys, y), 2, cls_palette(0), 0.1f));
  unbuild(&b);
  /* one ridge and no point across N = T: the figure is skipped with a note */
  make_rundir("plot-theory-dd1", dir, sizeof dir);
  int counter = 0;
  for (size_t n = 0; n < 3; n++) rf_point(dir, &counter, RF_NS[n] * 8, 32, 1e-2, 1, "ok", NAN, true);
  cls_rundir *rd;
  cls_solved *sv;
  char err[512], why[1000];
  assert_int_equal(cls_rundir_load(dir, &rd, err, sizeof err), CLS_OK);
  assert_int_equal(cls_solved_load(rd, &sv, err, sizeof err), CLS_OK);
  cls_plot_inputs in = {rd, NULL, NULL, NULL, NULL, sv};
  cls_plot_options opt = {6.4, 4.8, 100, NULL};
  cls_figure *f = NULL;
  assert_int_equal(cls_plot_build(CLS_PLOT_RF_DOUBLE_DESCENT, &in, &opt, &f, why, sizeof why), CLS_OK);
  assert_null(f);
  assert_non_null(strstr(why, "needs at least two ridges, or points on both sides of N = T"));
  /* rf-loss-n still draws (one panel: the size of a single figure) */
  assert_int_equal(cls_plot_build(CLS_PLOT_RF_LOSS_N, &in, &opt, &f, why, sizeof why), CLS_OK);
  assert_non_null(f);
  cls_figure_destroy(f);
  cls_solved_destroy(sv);
  cls_rundir_destroy(rd);
}

/* ------------------------------------------------------------ zipf */

#define Z_V    2000
#define Z_BETA 1.5

static void zipf_theory(cls_zipf_source src, uint64_t cut, double bn, double pi, const double *T, size_t n,
                        double *e) {
  cls_zipf_theory th = {src, Z_BETA, Z_V, src == CLS_ZIPF_CUT ? cut : Z_V, bn, pi};
  char err[256];
  if (cls_zipf_expected(&th, T, n, e, err, sizeof err)) fail_msg("%s", err);
}

static double zipf_floor(uint64_t k) {
  double h = 0, tail = 0;
  for (uint64_t i = 1; i <= Z_V; i++) {
    double p = pow((double)i, -Z_BETA);
    h += p;
    if (i > k) tail += p;
  }
  return tail / h;
}

#define Z_ROWS 16

/* One zipf point: the learning curve at 16 log-spaced T up to 10^4, the
 * theory's times (1 ± 2%) by seed (the fitted source: the real law, for lack
 * of one). */
static void zipf_point(const char *dir, int *counter, const char *source, uint64_t cut, double bn, double pi,
                       int seed, bool with_floor) {
  double T[Z_ROWS], e[Z_ROWS];
  for (int i = 0; i < Z_ROWS; i++) T[i] = round(pow(10.0, 4.0 * i / (Z_ROWS - 1)));
  cls_zipf_source src = !strcmp(source, "cut")        ? CLS_ZIPF_CUT
                        : !strcmp(source, "narrowed") ? CLS_ZIPF_NARROWED
                                                      : CLS_ZIPF_REAL;
  zipf_theory(src, cut, bn, pi, T, Z_ROWS, e);
  double f = seed == 1 ? 1.02 : 0.98, floor = src == CLS_ZIPF_CUT && pi == 0 ? zipf_floor(cut) : 0;
  char id[32], name[48], json[2048], csv[4096], floor_line[64] = "";
  snprintf(id, sizeof id, "z%02d", (*counter)++);
  if (with_floor) snprintf(floor_line, sizeof floor_line, "\"floor\": %.17g,\n", floor);
  snprintf(
      json, sizeof json,
      "{\n\"id\": \"%s\",\n\"status\": \"ok\",\n\"n_params\": %d,\n\"n_params_embed\": 0,\n\"task\": \"zipf\",\n"
      "\"model\": \"memoriser\",\n\"samples\": 10000,\n\"beta\": %g,\n\"vocab\": %d,\n\"source\": \"%s\",\n"
      "\"cut\": %llu,\n\"beta_narrow\": %g,\n\"fit_samples\": 1000,\n\"fit_seed\": 1,\n"
      "\"real_fraction\": %g,\n\"seed\": %d,\n\"sweep\": \"zipf-test\",\n\"point_index\": %d,\n"
      "\"tokens\": 10000,\n\"flops\": 0,\n\"budget_tokens\": 10000,\n\"final_eval_loss\": %.17g,\n%s"
      "\"seconds\": 0.001\n}\n",
      id, Z_V, Z_BETA, Z_V, source, (unsigned long long)(src == CLS_ZIPF_CUT ? cut : Z_V), bn, pi, seed, *counter,
      e[Z_ROWS - 1] * f, floor_line);
  snprintf(name, sizeof name, "points/%s.json", id);
  write_file(dir, name, json);
  size_t u = (size_t)snprintf(csv, sizeof csv, "step,tokens,flops,flops_6nd,train_loss,eval_loss,lr,seconds\n");
  for (int i = 0; i < Z_ROWS; i++)
    u += (size_t)snprintf(csv + u, sizeof csv - u, "%.0f,%.0f,0,0,nan,%.9g,0,0.000\n", T[i], T[i], e[i] * f);
  snprintf(name, sizeof name, "points/%s.csv", id);
  write_file(dir, name, csv);
}

static void zipf_sweep(const char *dir, bool with_floor) {
  int c = 0;
  for (int seed = 1; seed <= 2; seed++) {
    zipf_point(dir, &c, "real", 0, 2, 0, seed, with_floor);
    zipf_point(dir, &c, "cut", 50, 2, 0, seed, with_floor);
    zipf_point(dir, &c, "narrowed", 0, 2.5, 0, seed, with_floor);
    zipf_point(dir, &c, "fitted", 0, 2, 0, seed, with_floor);
    zipf_point(dir, &c, "cut", 50, 2, 0.5, seed, with_floor);
  }
}

/* zipf-error: one PNG at the single-figure size; each source's theory line
 * in its colour where E(T) is, between the measured T; the floor of the cut
 * source drawn. */
static void test_zipf_error(void **state) {
  (void)state;
  char dir[600], path[800], err[1024];
  make_rundir("plot-theory-zipf", dir, sizeof dir);
  zipf_sweep(dir, true);
  cls_plot_options opt = {6.4, 4.8, 150, NULL};
  reports r = {{0}};
  int written = 0;
  if (cls_plot_run(dir, NULL, 0, &opt, collect, &r, &written, err, sizeof err)) fail_msg("%s", err);
  assert_int_equal(written, 1);
  /* no warnings about FLOPs: the zipf points have none, and need none */
  assert_null(strstr(r.log, "flops"));
  snprintf(path, sizeof path, "%s/plots/zipf-error.png", dir);
  int w, h;
  png_size(path, &w, &h);
  assert_int_equal(w, 960);
  assert_int_equal(h, 720);

  built b;
  build(dir, CLS_PLOT_ZIPF_ERROR, &b);
  cls_axis_scale xs, ys;
  cls_axes_get_transform(cls_figure_axes(b.fig, 0), &xs, &ys);
  /* colours in order: real 0, cut 1, cut with π 2, narrowed 3, fitted 4 */
  double T = 2100, e; /* between the measured T = 1585 and 2929, away from their markers */
  zipf_theory(CLS_ZIPF_REAL, 0, 2, 0, &T, 1, &e);
  if (!color_near(b.cv, cls_scale_to_px(&xs, T), cls_scale_to_px(&ys, e), 2, cls_palette(0), 0.1f))
    fail_msg("no real theory line at T = %g, E = %g", T, e);
  zipf_theory(CLS_ZIPF_NARROWED, 0, 2.5, 0, &T, 1, &e);
  assert_true(color_near(b.cv, cls_scale_to_px(&xs, T), cls_scale_to_px(&ys, e), 2, cls_palette(3), 0.1f));
  /* the mix: its asymptote (the real law at πT) runs well above it here, so
   * this pixel is the exact theory's */
  zipf_theory(CLS_ZIPF_CUT, 50, 2, 0.5, &T, 1, &e);
  if (!color_near(b.cv, cls_scale_to_px(&xs, T), cls_scale_to_px(&ys, e), 2, cls_palette(2), 0.1f))
    fail_msg("no theory line of the mix at T = %g, E = %g", T, e);
  /* the cut source's floor, dotted: somewhere along its height */
  double fl = zipf_floor(50), fy = cls_scale_to_px(&ys, fl);
  bool seen = false;
  for (double x = xs.p0 + 5; x < xs.p1 - 5 && !seen; x += 1)
    seen = color_near(b.cv, x, fy, 1, cls_palette(1), 0.1f);
  assert_true(seen);
  unbuild(&b);
}

/* ------------------------------------------------------------ bad input */

/* No finished point, a summary without a key the figure needs, a kind of
 * another task: a message, and no PNG (not even plots/). */
static void test_bad_inputs(void **state) {
  (void)state;
  char dir[600], path[800], err[1024];
  cls_plot_options opt = {6.4, 4.8, 100, NULL};
  int written = -1;

  make_rundir("plot-theory-failed", dir, sizeof dir);
  int c = 0;
  rf_point(dir, &c, 16, 32, 1e-2, 1, "failed", NAN, true);
  rf_point(dir, &c, 32, 32, 1e-2, 1, "running", NAN, true);
  reports r = {{0}};
  assert_int_equal(cls_plot_run(dir, NULL, 0, &opt, collect, &r, &written, err, sizeof err), CLS_OK);
  assert_int_equal(written, 0);
  assert_non_null(strstr(r.log, "skipped rf-loss-n: needs finished points: none of the 2 points"));
  assert_non_null(strstr(r.log, "status \"failed\""));
  snprintf(path, sizeof path, "%s/plots", dir);
  assert_false(exists(path));

  make_rundir("plot-theory-noridge", dir, sizeof dir);
  c = 0;
  rf_point(dir, &c, 16, 32, 1e-2, 1, "ok", NAN, true);
  rf_point(dir, &c, 32, 32, 1e-2, 1, "ok", NAN, false);
  memset(&r, 0, sizeof r);
  assert_int_equal(cls_plot_run(dir, NULL, 0, &opt, collect, &r, &written, err, sizeof err), CLS_OK);
  assert_int_equal(written, 0);
  assert_non_null(strstr(r.log, "points/p001.json has no numeric field \"ridge\""));
  snprintf(path, sizeof path, "%s/plots", dir);
  assert_false(exists(path));

  /* a kind of another task: refused before anything is written */
  memset(&r, 0, sizeof r);
  assert_int_equal(
      cls_plot_run(dir, NULL, 1u << CLS_PLOT_ZIPF_ERROR, &opt, collect, &r, &written, err, sizeof err),
      CLS_ERR_INVALID_VALUE);
  assert_non_null(strstr(err, "--kind zipf-error is a figure of task \"zipf\""));
  assert_non_null(strstr(err, "choose one of rf-loss-n, rf-loss-t, rf-double-descent"));
  assert_false(exists(path));

  /* a zipf sweep without its floor */
  make_rundir("plot-theory-nofloor", dir, sizeof dir);
  zipf_sweep(dir, false);
  memset(&r, 0, sizeof r);
  assert_int_equal(cls_plot_run(dir, NULL, 0, &opt, collect, &r, &written, err, sizeof err), CLS_OK);
  assert_int_equal(written, 0);
  assert_non_null(strstr(r.log, "has no numeric field \"floor\""));
  snprintf(path, sizeof path, "%s/plots", dir);
  assert_false(exists(path));

  /* the solved tasks' kinds on a run directory of another task */
  make_rundir("plot-theory-other", dir, sizeof dir);
  write_file(dir, "points/a.json",
             "{\"id\": \"a\", \"status\": \"ok\", \"n_params\": 1000, \"task\": \"spectra\", \"tokens\": 1e6, "
             "\"flops\": 6e9, \"final_eval_loss\": 2.5}\n");
  assert_int_equal(cls_plot_run(dir, NULL, 1u << CLS_PLOT_RF_LOSS_N, &opt, collect, &r, &written, err, sizeof err),
                   CLS_ERR_INVALID_VALUE);
  assert_non_null(strstr(err, "of task \"spectra\""));
}

/* A measured loss of 0 cannot sit on a log axis: left out and counted. */
static void test_nonpositive_counted(void **state) {
  (void)state;
  char dir[600];
  make_rundir("plot-theory-zero", dir, sizeof dir);
  int c = 0;
  for (size_t n = 0; n < 3; n++)
    for (int seed = 1; seed <= 2; seed++)
      rf_point(dir, &c, RF_NS[n], 32, 1e-2, seed, "ok", n == 1 && seed == 2 ? 0.0 : NAN, true);
  built b;
  build(dir, CLS_PLOT_RF_LOSS_N, &b);
  if (!strstr(b.why, "1 measured and 0 theory values not drawn")) fail_msg("note: '%s'", b.why);
  unbuild(&b);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_rf_run),
      cmocka_unit_test(test_rf_theory_pixels),
      cmocka_unit_test(test_rf_double_descent),
      cmocka_unit_test(test_zipf_error),
      cmocka_unit_test(test_bad_inputs),
      cmocka_unit_test(test_nonpositive_counted),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
