/*
 * tests/test_plot_figures.c — whole figures: pixels probed where the
 * figure's own data→pixel transform says a point, a tick or the background
 * is; identical pixels on re-rendering; NaN points skipped, never drawn at 0;
 * legend placement; and every `clscale plot` figure rendered from a synthetic
 * run directory (left in CLSCALE_TEST_TMP/plot-example for viewing).
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

#include "data/plot/synth_rundir.h"
#include "plot/figures.h"
#include "test_util.h"

static cls_font *font(void) {
  cls_font *f = NULL;
  char err[256];
  if (cls_font_create(&f, err, sizeof err)) fail_msg("font: %s", err);
  return f;
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

static const unsigned char *px(const unsigned char *rgb, int w, double x, double y) {
  return rgb + 3 * ((size_t)floor(y) * (size_t)w + (size_t)floor(x));
}

static bool near_color(const unsigned char *p, cls_rgba c, int tol) {
  return abs(p[0] - (int)lrintf(c.r * 255)) <= tol && abs(p[1] - (int)lrintf(c.g * 255)) <= tol &&
         abs(p[2] - (int)lrintf(c.b * 255)) <= tol;
}

/* A log-log figure with one marker: written to PNG and read back, the marker's
 * colour is where the transform puts the point, the background a few pixels
 * away, and the 10^3 tick at its exact column below the frame. */
static void test_probe_pixels(void **state) {
  (void)state;
  char dir[512], path[600], err[512];
  test_tmpdir("plot-probe", dir, sizeof dir);
  snprintf(path, sizeof path, "%s/probe.png", dir);
  cls_figure *fig;
  assert_int_equal(cls_figure_create(6.4, 4.8, 150, 1, 1, &fig, err, sizeof err), CLS_OK);
  cls_axes *ax = cls_figure_axes(fig, 0);
  cls_axes_set_scales(ax, CLS_SCALE_LOG, CLS_SCALE_LOG);
  cls_axes_set_text(ax, "probe", "x", "y");
  cls_axes_set_xlim(ax, 1, 1e6);
  cls_axes_set_ylim(ax, 1, 100);
  const cls_rgba red = {0.85f, 0.1f, 0.1f, 1};
  double x = 3.7e2, y = 4.4; /* not on a grid line */
  cls_series_style ms = cls_style_markers(red, CLS_MARKER_CIRCLE, 8);
  ms.marker_edge_pt = 0;
  assert_int_equal(cls_axes_add_series(ax, &x, &y, 1, &ms, NULL), CLS_OK);
  cls_font *f = font();
  assert_int_equal(cls_figure_save_png(fig, f, path, err, sizeof err), CLS_OK);
  cls_axis_scale xs, ys;
  cls_axes_get_transform(ax, &xs, &ys);
  int w, h;
  unsigned char *rgb = read_rgb(path, &w, &h);
  assert_non_null(rgb);
  assert_int_equal(w, 960);
  assert_int_equal(h, 720);
  double mx = cls_scale_to_px(&xs, x), my = cls_scale_to_px(&ys, y);
  assert_true(near_color(px(rgb, w, mx, my), red, 2));
  /* 8 pt marker at 150 dpi is 16.7 px across: 14 px away is background */
  const cls_rgba white = {1, 1, 1, 1};
  assert_true(near_color(px(rgb, w, mx + 14, my - 14), white, 3));
  /* the 10^3 major tick hangs below the bottom frame line (ys.p0) */
  double tx = cls_scale_to_px(&xs, 1e3), bottom = ys.p0;
  int col = cls_crisp_first_pixel(tx, 0.8 * 150 / 72);
  const unsigned char *tick = px(rgb, w, col, bottom + 4);
  assert_true(tick[0] < 80 && tick[1] < 80 && tick[2] < 80);
  assert_true(near_color(px(rgb, w, col + 6, bottom + 4), white, 3)); /* between ticks: nothing */
  /* the grid line of 10^3 is inside the plot, light grey */
  const unsigned char *grid = px(rgb, w, col, 0.5 * (ys.p0 + ys.p1));
  assert_true(grid[0] > 180 && grid[0] < 250);
  free(rgb);
  cls_figure_destroy(fig);
  cls_font_destroy(f);
}

static cls_figure *sample_figure(void) {
  cls_figure *fig;
  char err[256];
  if (cls_figure_create(5, 4, 120, 1, 1, &fig, err, sizeof err)) fail_msg("%s", err);
  cls_axes *ax = cls_figure_axes(fig, 0);
  cls_axes_set_scales(ax, CLS_SCALE_LOG, CLS_SCALE_LINEAR);
  cls_axes_set_text(ax, "Loss 10^{3}", "compute C (FLOPs)", "loss");
  double x[50], y[50];
  for (int i = 0; i < 50; i++) x[i] = pow(10, 15 + i * 0.08), y[i] = 2 + 3 * pow(x[i] / 1e15, -0.1);
  cls_series_style s = cls_style_line(cls_viridis(0.3), 1.5);
  s.marker = CLS_MARKER_DIAMOND;
  s.marker_pt = 4;
  cls_axes_add_series(ax, x, y, 50, &s, "curve \\alpha");
  cls_axes_set_colorbar(ax, 1e6, 1e9, CLS_SCALE_LOG, CLS_LABEL_SI, "N");
  return fig;
}

/* Rendering twice, or the same figure again, gives identical pixels. */
static void test_deterministic(void **state) {
  (void)state;
  cls_font *f = font();
  char err[256];
  cls_figure *a = sample_figure(), *b = sample_figure();
  cls_canvas *ca, *cb, *cc;
  assert_int_equal(cls_figure_render(a, f, &ca, err, sizeof err), CLS_OK);
  assert_int_equal(cls_figure_render(b, f, &cb, err, sizeof err), CLS_OK);
  assert_int_equal(cls_figure_render(a, f, &cc, err, sizeof err), CLS_OK);
  size_t bytes = (size_t)ca->width * (size_t)ca->height * 4;
  assert_int_equal(ca->width, cb->width);
  assert_memory_equal(ca->rgba, cb->rgba, bytes);
  assert_memory_equal(ca->rgba, cc->rgba, bytes);
  /* and it is not blank: ink of several colours */
  size_t dark = 0;
  for (size_t i = 0; i < bytes; i += 4) dark += ca->rgba[i] < 128;
  assert_true(dark > 1000);
  cls_canvas_destroy(ca), cls_canvas_destroy(cb), cls_canvas_destroy(cc);
  cls_figure_destroy(a), cls_figure_destroy(b);
  cls_font_destroy(f);
}

/* NaN and Inf points are skipped: nothing is drawn where a 0 would land, and
 * they do not stretch the axis limits. */
static void test_nan_points_skipped(void **state) {
  (void)state;
  cls_font *f = font();
  char err[256];
  cls_figure *fig;
  assert_int_equal(cls_figure_create(5, 4, 100, 1, 1, &fig, err, sizeof err), CLS_OK);
  cls_axes *ax = cls_figure_axes(fig, 0);
  cls_axes_set_scales(ax, CLS_SCALE_LINEAR, CLS_SCALE_LINEAR);
  double x[4] = {1, 2, 3, INFINITY}, y[4] = {1, NAN, 3, 2};
  const cls_rgba blue = {0.1f, 0.2f, 0.9f, 1};
  cls_series_style ms = cls_style_markers(blue, CLS_MARKER_SQUARE, 10);
  ms.marker_edge_pt = 0;
  assert_int_equal(cls_axes_add_series(ax, x, y, 4, &ms, NULL), CLS_OK);
  cls_axes_set_xlim(ax, -1, 5);
  cls_axes_set_ylim(ax, -1, 5);
  cls_canvas *c;
  assert_int_equal(cls_figure_render(fig, f, &c, err, sizeof err), CLS_OK);
  cls_axis_scale xs, ys;
  cls_axes_get_transform(ax, &xs, &ys);
  cls_rgba at1 = cls_canvas_get(c, (int)cls_scale_to_px(&xs, 1), (int)cls_scale_to_px(&ys, 1));
  assert_true(fabs(at1.b - blue.b) < 0.02f && fabs(at1.r - blue.r) < 0.02f);
  /* where the NaN y (x = 2) would land if it were read as 0 */
  cls_rgba at0 = cls_canvas_get(c, (int)cls_scale_to_px(&xs, 2) + 3, (int)cls_scale_to_px(&ys, 0) + 3);
  assert_true(at0.r > 0.7f);
  cls_canvas_destroy(c);
  cls_figure_destroy(fig);
  /* automatic limits ignore them */
  assert_int_equal(cls_figure_create(5, 4, 100, 1, 1, &fig, err, sizeof err), CLS_OK);
  ax = cls_figure_axes(fig, 0);
  cls_axes_set_scales(ax, CLS_SCALE_LOG, CLS_SCALE_LOG);
  double lx[4] = {10, 100, NAN, -5}, ly[4] = {1, 2, 3, 4};
  assert_int_equal(cls_axes_add_series(ax, lx, ly, 4, &ms, NULL), CLS_OK);
  assert_int_equal(cls_figure_render(fig, f, &c, err, sizeof err), CLS_OK);
  cls_axes_get_transform(ax, &xs, &ys);
  assert_true(xs.lo > 5 && xs.hi < 200 && ys.hi < 2.5);
  cls_canvas_destroy(c);
  cls_figure_destroy(fig);
  cls_font_destroy(f);
}

/* The legend goes where it hides the fewest points: with data crowding the
 * top-right, it moves elsewhere and covers none of them. */
static void test_legend_placement(void **state) {
  (void)state;
  cls_font *f = font();
  char err[256];
  cls_figure *fig;
  assert_int_equal(cls_figure_create(6, 4, 100, 1, 1, &fig, err, sizeof err), CLS_OK);
  cls_axes *ax = cls_figure_axes(fig, 0);
  double x[64], y[64];
  int n = 0;
  for (int i = 0; i < 8; i++)
    for (int j = 0; j < 8; j++) x[n] = 6 + i * 0.5, y[n] = 6 + j * 0.5, n++; /* a block at the top right */
  double corner[2][1] = {{0}, {0}};
  cls_series_style ms = cls_style_markers(cls_palette(0), CLS_MARKER_CIRCLE, 5);
  assert_int_equal(cls_axes_add_series(ax, x, y, (size_t)n, &ms, "crowd"), CLS_OK);
  assert_int_equal(cls_axes_add_series(ax, corner[0], corner[1], 1, &ms, NULL), CLS_OK);
  cls_canvas *c;
  assert_int_equal(cls_figure_render(fig, f, &c, err, sizeof err), CLS_OK);
  double box[4];
  assert_true(cls_axes_get_legend_box(ax, box));
  cls_axis_scale xs, ys;
  cls_axes_get_transform(ax, &xs, &ys);
  for (int i = 0; i < n; i++) {
    double px_ = cls_scale_to_px(&xs, x[i]), py_ = cls_scale_to_px(&ys, y[i]);
    if (px_ >= box[0] && px_ <= box[2] && py_ >= box[1] && py_ <= box[3]) fail_msg("legend hides point %d", i);
  }
  /* the legend stays inside the plot area */
  assert_true(box[0] >= xs.p0 && box[2] <= xs.p1 && box[1] >= ys.p1 && box[3] <= ys.p0);
  cls_canvas_destroy(c);
  cls_figure_destroy(fig);
  cls_font_destroy(f);
}

static void test_figure_errors(void **state) {
  (void)state;
  cls_figure *fig = NULL;
  char err[256];
  assert_int_equal(cls_figure_create(0, 4, 100, 1, 1, &fig, err, sizeof err), CLS_ERR_INVALID_VALUE);
  assert_null(fig);
  assert_int_equal(cls_figure_create(4, 4, 100, 0, 1, &fig, err, sizeof err), CLS_ERR_INVALID_SIZE);
  assert_int_equal(cls_figure_create(1, 1, 20, 1, 1, &fig, err, sizeof err), CLS_OK);
  cls_axes *ax = cls_figure_axes(fig, 0);
  assert_null(cls_figure_axes(fig, 1));
  cls_axes_set_text(ax, "a very long title that cannot fit", "x label", "y label");
  cls_font *f = font();
  cls_canvas *c = NULL;
  cls_status st = cls_figure_render(fig, f, &c, err, sizeof err); /* 20×20 px: too small for its labels */
  assert_int_equal(st, CLS_ERR_INVALID_SIZE);
  assert_non_null(strstr(err, "too small"));
  assert_null(c);
  assert_int_equal(cls_axes_set_colorbar(ax, -1, 10, CLS_SCALE_LOG, CLS_LABEL_SI, "N"), CLS_ERR_NUMERIC);
  cls_figure_destroy(fig);
  cls_font_destroy(f);
}

typedef struct {
  char log[8192];
} reports;

static void collect(void *user, int level, const char *msg) {
  reports *r = user;
  size_t n = strlen(r->log);
  snprintf(r->log + n, sizeof r->log - n, "%d %s\n", level, msg);
}

/* Every figure from a realistic run directory; the PNGs are left in
 * CLSCALE_TEST_TMP/plot-example/plots for people to look at. */
static void test_all_figures(void **state) {
  (void)state;
  const char *base = getenv("CLSCALE_TEST_TMP");
  char dir[600], path[700], err[1024];
  if (!base || !*base) base = "/tmp";
  mkdir(base, 0755);
  snprintf(dir, sizeof dir, "%s/plot-example", base);
  assert_int_equal(syn_write_rundir(dir, 1, 1), 0);
  cls_plot_options opt = {6.4, 4.8, 150, NULL};
  reports r = {{0}};
  int written = 0;
  cls_status st = cls_plot_run(dir, NULL, 0, &opt, collect, &r, &written, err, sizeof err);
  if (st) fail_msg("plot run: %s", err);
  /* every kind but the solved tasks' (their points are rf or zipf sweeps) */
  int general = 0;
  for (int k = 0; k < CLS_PLOT_KIND_COUNT; k++) general += cls_plot_kind_task((cls_plot_kind)k) == NULL;
  assert_int_equal(general, 7);
  assert_int_equal(written, general);
  for (int k = 0; k < CLS_PLOT_KIND_COUNT; k++) {
    if (cls_plot_kind_task((cls_plot_kind)k)) continue;
    snprintf(path, sizeof path, "%s/plots/%s.png", dir, cls_plot_kind_name((cls_plot_kind)k));
    int w, h;
    unsigned char *rgb = read_rgb(path, &w, &h);
    if (!rgb) fail_msg("cannot decode %s", path);
    size_t colored = 0;
    for (size_t i = 0; i < (size_t)w * (size_t)h; i++) {
      int r0 = rgb[3 * i], g0 = rgb[3 * i + 1], b0 = rgb[3 * i + 2];
      colored += abs(r0 - g0) > 40 || abs(g0 - b0) > 40; /* viridis or palette ink, not grey */
    }
    if (colored < 500) fail_msg("%s has almost no coloured data (%zu px)", path, colored);
    free(rgb);
  }
  assert_null(strstr(r.log, "skipped"));
  /* kind names round-trip */
  for (int k = 0; k < CLS_PLOT_KIND_COUNT; k++)
    assert_int_equal(cls_plot_kind_parse(cls_plot_kind_name((cls_plot_kind)k)), k);
  assert_int_equal(cls_plot_kind_parse("nope"), -1);
}

/* Without fit.json and coord_check.csv, the data figures are still drawn and
 * the others are skipped with a message naming what they need. */
static void test_skipped_figures(void **state) {
  (void)state;
  char dir[600], err[1024];
  test_tmpdir("plot-nofit", dir, sizeof dir);
  assert_int_equal(syn_write_rundir(dir, 0, 0), 0);
  cls_plot_options opt = {5, 4, 80, "custom title"};
  reports r = {{0}};
  int written = 0;
  assert_int_equal(cls_plot_run(dir, NULL, 0, &opt, collect, &r, &written, err, sizeof err), CLS_OK);
  assert_int_equal(written, 4); /* loss-flops, isoflop, loss-n, loss-d */
  assert_non_null(strstr(r.log, "skipped optimal: needs fit.json: "));
  assert_non_null(strstr(r.log, "fit.json does not exist (run clscale fit)"));
  assert_non_null(strstr(r.log, "skipped parametric: needs fit.json"));
  assert_non_null(strstr(r.log, "skipped coord-check: needs "));
  assert_non_null(strstr(r.log, "coord_check.csv"));
  /* the figures drawn without their fits say what is missing */
  assert_non_null(strstr(r.log, "isoflop: parabolas not drawn: "));
  assert_non_null(strstr(r.log, "loss-flops: frontier fit not drawn: "));
  /* only the requested kinds */
  reports r2 = {{0}};
  assert_int_equal(cls_plot_run(dir, NULL, 1u << CLS_PLOT_ISOFLOP, &opt, collect, &r2, &written, err, sizeof err),
                   CLS_OK);
  assert_int_equal(written, 1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_probe_pixels),       cmocka_unit_test(test_deterministic),
      cmocka_unit_test(test_nan_points_skipped), cmocka_unit_test(test_legend_placement),
      cmocka_unit_test(test_figure_errors),      cmocka_unit_test(test_all_figures),
      cmocka_unit_test(test_skipped_figures),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
