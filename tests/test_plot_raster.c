/*
 * tests/test_plot_raster.c — the plotter's raster library: coverage of lines
 * (ink conservation, joints, dashes), crisp frames, polygons, markers, stroke
 * text and the PNG writer (decoded back with libpng).
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

#include "plot/plot.h"
#include "test_util.h"

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

static const cls_rgba WHITE = {1, 1, 1, 1};
static const cls_rgba BLACK = {0, 0, 0, 1};

static cls_canvas *canvas(int w, int h) {
  cls_canvas *c = NULL;
  char err[256];
  if (cls_canvas_create(w, h, 150, WHITE, &c, err, sizeof err) != CLS_OK) fail_msg("canvas: %s", err);
  return c;
}

/* Ink of a black drawing on white: the summed darkness of all pixels. */
static double ink(const cls_canvas *c) {
  double s = 0;
  for (int y = 0; y < c->height; y++)
    for (int x = 0; x < c->width; x++) s += 1.0 - cls_canvas_get(c, x, y).r;
  return s;
}

/* A line's summed coverage is its area: length × width plus its two round
 * caps (a disc of the same width), for thin and thick lines at any angle. */
static void test_ink_conservation(void **state) {
  (void)state;
  const double widths[] = {0.4, 1.0, 2.5, 7.0};
  const double angles[] = {0.0, 17.0, 45.0, 90.0, 133.0};
  cls_canvas *c = canvas(400, 400);
  for (size_t wi = 0; wi < sizeof widths / sizeof widths[0]; wi++)
    for (size_t ai = 0; ai < sizeof angles / sizeof angles[0]; ai++) {
      double w = widths[wi], a = angles[ai] * M_PI / 180, L = 250;
      double x0 = 200.3 - 0.5 * L * cos(a), y0 = 199.6 - 0.5 * L * sin(a);
      cls_mask_capsule(c, x0, y0, x0 + L * cos(a), y0 + L * sin(a), w);
      double want = L * w + M_PI * w * w / 4, got = cls_mask_sum(c);
      cls_mask_clear(c);
      if (fabs(got - want) > 0.005 * want)
        fail_msg("width %.1f angle %.0f: ink %.2f, want %.2f", w, angles[ai], got, want);
    }
  /* The same through the whole pipeline: composited onto the canvas pixels. */
  double xy[4] = {50.25, 100.5, 350.25, 100.5};
  cls_stroke st = {.width = 3.0, .color = BLACK};
  cls_draw_polyline(c, xy, 2, &st);
  double want = 300 * 3.0 + M_PI * 9 / 4;
  assert_true(fabs(ink(c) - want) < 0.01 * want);
  cls_canvas_destroy(c);
}

/* A polyline's joints are covered once: a translucent line is equally dark at
 * a corner and along a straight stretch, and nowhere darker. */
static void test_no_beads_at_joints(void **state) {
  (void)state;
  cls_canvas *c = canvas(200, 200);
  double xy[] = {20.5, 150.5, 100.5, 150.5, 100.5, 30.5, 180.5, 100.5, 20.5, 100.5};
  cls_stroke st = {.width = 6.0, .color = {0, 0, 0, 0.5f}};
  cls_draw_polyline(c, xy, 5, &st);
  float straight = cls_canvas_get(c, 60, 150).r, corner = cls_canvas_get(c, 100, 150).r;
  assert_true(fabs(straight - 0.5f) < 0.01f);
  assert_true(fabs(corner - straight) < 0.01f);
  for (int y = 0; y < 200; y++)
    for (int x = 0; x < 200; x++)
      if (cls_canvas_get(c, x, y).r < straight - 0.01f) fail_msg("pixel (%d,%d) darker than the line", x, y);
  cls_canvas_destroy(c);
}

/* Dashes follow arc length across vertices: 10 on, 10 off along an L. */
static void test_dashes(void **state) {
  (void)state;
  cls_canvas *c = canvas(200, 200);
  double xy[] = {10, 50.5, 105, 50.5, 105, 150.5};
  cls_stroke st = {.width = 2.0, .color = BLACK, .dash = {10, 10}, .n_dash = 2};
  cls_draw_polyline(c, xy, 3, &st);
  assert_true(cls_canvas_get(c, 15, 50).r < 0.1f); /* first dash: arc 0..10 */
  assert_true(cls_canvas_get(c, 25, 50).r > 0.9f); /* gap: arc 10..20 */
  assert_true(cls_canvas_get(c, 35, 50).r < 0.1f); /* arc 20..30 */
  /* the corner is at arc 95 (in a gap: 90..100); arc 105 is 10 px down the leg */
  assert_true(cls_canvas_get(c, 104, 60).r < 0.1f);
  assert_true(cls_canvas_get(c, 104, 70).r > 0.9f); /* arc 115: gap 110..120 */
  /* Butt-ended dashes: the ink is exactly the "on" length × width (dashes on
   * arc 0-10, 20-30, … 180-190 plus the round join inside none of them). */
  double on = 0;
  for (double a = 0; a < 195; a += 20) on += fmin(10.0, 195 - a);
  double got = ink(c) / 2.0;
  if (fabs(got - on) > 0.01 * on) fail_msg("dashed ink %.2f, want %.2f", got, on);
  cls_canvas_destroy(c);
}

/* A NaN vertex is a gap, not a line to (0,0). */
static void test_nan_breaks_line(void **state) {
  (void)state;
  cls_canvas *c = canvas(100, 100);
  double xy[] = {20, 20, 40, 20, NAN, 50, 60, 80, 80, 80};
  cls_stroke st = {.width = 2.0, .color = BLACK};
  cls_draw_polyline(c, xy, 5, &st);
  assert_true(cls_canvas_get(c, 30, 19).r < 0.1f);
  assert_true(cls_canvas_get(c, 70, 79).r < 0.1f);
  assert_true(cls_canvas_get(c, 0, 0).r > 0.99f);
  assert_true(cls_canvas_get(c, 50, 50).r > 0.99f); /* nothing joins the two pieces */
  assert_true(cls_canvas_get(c, 10, 10).r > 0.99f);
  cls_canvas_destroy(c);
}

/* Crisp lines fill whole pixel rows/columns: no grey neighbours. */
static void test_crisp_lines(void **state) {
  (void)state;
  cls_canvas *c = canvas(60, 60);
  cls_canvas_hline_crisp(c, 10, 50, 20.3, 1.0, BLACK);
  for (int x = 10; x < 50; x++) {
    assert_true(cls_canvas_get(c, x, 20).r == 0.0f);
    assert_true(cls_canvas_get(c, x, 19).r == 1.0f);
    assert_true(cls_canvas_get(c, x, 21).r == 1.0f);
  }
  cls_canvas_vline_crisp(c, 40.0, 30, 50, 2.0, BLACK); /* 2 px: columns 39 and 40 */
  assert_int_equal(cls_crisp_first_pixel(40.0, 2.0), 39);
  assert_true(cls_canvas_get(c, 39, 40).r == 0.0f && cls_canvas_get(c, 40, 40).r == 0.0f);
  assert_true(cls_canvas_get(c, 38, 40).r == 1.0f && cls_canvas_get(c, 41, 40).r == 1.0f);
  cls_canvas_destroy(c);
}

/* Polygons get exact area coverage, and clipping leaves the rest alone. */
static void test_polygon_area_and_clip(void **state) {
  (void)state;
  cls_canvas *c = canvas(100, 100);
  double sq[] = {10.5, 10.5, 30.5, 10.5, 30.5, 30.5, 10.5, 30.5};
  cls_mask_polygon(c, sq, 4);
  assert_true(fabs(cls_mask_sum(c) - 400.0) < 0.05);
  cls_mask_composite(c, BLACK);
  assert_true(fabs(cls_canvas_get(c, 10, 20).r - 0.5f) < 0.01f); /* half-covered edge pixel */
  assert_true(cls_canvas_get(c, 20, 20).r == 0.0f);
  /* a triangle reaching outside the canvas: only its inside part */
  double tri[] = {-50, 90, 150, 90, 50, -100};
  cls_mask_polygon(c, tri, 3);
  double got = cls_mask_sum(c);
  cls_mask_clear(c);
  assert_true(got > 0 && got <= 100 * 100 + 1e-6);
  /* clip rectangle */
  cls_canvas_set_clip(c, 50, 50, 60, 60);
  double big[] = {0, 0, 100, 0, 100, 100, 0, 100};
  cls_mask_polygon(c, big, 4);
  assert_true(fabs(cls_mask_sum(c) - 100.0) < 1e-3);
  cls_mask_clear(c);
  cls_canvas_destroy(c);
}

static void test_markers(void **state) {
  (void)state;
  cls_canvas *c = canvas(120, 60);
  const cls_rgba red = {0.8f, 0.1f, 0.1f, 1};
  for (int m = CLS_MARKER_CIRCLE; m <= CLS_MARKER_STAR; m++) {
    double x = 10.5 + 16 * (m - 1), y = 30.5;
    cls_draw_marker(c, x, y, (cls_marker)m, 10, red, WHITE, 0);
    cls_rgba centre = cls_canvas_get(c, (int)x, (int)y);
    if (fabs(centre.r - red.r) > 0.02 || fabs(centre.g - red.g) > 0.02) fail_msg("marker %d centre not filled", m);
    cls_rgba away = cls_canvas_get(c, (int)x, (int)y + 9);
    if (away.r < 0.99f || away.g < 0.99f) fail_msg("marker %d spills 9 px away", m);
  }
  /* the circle's area is π r² */
  cls_canvas *d = canvas(40, 40);
  cls_mask_disc(d, 20.2, 19.7, 8.0);
  assert_true(fabs(cls_mask_sum(d) - M_PI * 64) < 0.01 * M_PI * 64);
  cls_mask_clear(d);
  cls_canvas_destroy(d);
  cls_canvas_destroy(c);
}

/* Bounding box of the ink. */
static void ink_box(const cls_canvas *c, int box[4]) {
  box[0] = c->width, box[1] = c->height, box[2] = -1, box[3] = -1;
  for (int y = 0; y < c->height; y++)
    for (int x = 0; x < c->width; x++)
      if (cls_canvas_get(c, x, y).r < 0.5f) {
        if (x < box[0]) box[0] = x;
        if (y < box[1]) box[1] = y;
        if (x > box[2]) box[2] = x;
        if (y > box[3]) box[3] = y;
      }
}

static void test_text(void **state) {
  (void)state;
  cls_font *f = NULL;
  char err[256];
  assert_int_equal(cls_font_create(&f, err, sizeof err), CLS_OK);
  /* Text scales linearly with its size. */
  cls_text_extent a = cls_text_measure(f, "Loss 10", 10), b = cls_text_measure(f, "Loss 10", 20);
  assert_true(a.width > 10 && fabs(b.width - 2 * a.width) < 1e-9);
  /* A superscript rises above the cap height and is smaller. */
  cls_text_extent plain = cls_text_measure(f, "10", 20), sup = cls_text_measure(f, "10^{-3}", 20);
  assert_true(sup.ascent > plain.ascent + 0.2 * 20);
  cls_text_extent big = cls_text_measure(f, "10-3", 20);
  assert_true(sup.width < big.width);
  /* Greek letters and symbols from the markup have width; unknown escapes do not crash. */
  assert_true(cls_text_measure(f, "\\alpha\\beta\\gamma", 20).width > 20);
  assert_true(cls_text_measure(f, "\\nosuch {x} \xce\xb1 \xf0\x9f\x98\x80", 20).width > 0);
  /* Drawn horizontally the ink is wide; rotated by 90 degrees it is tall. */
  cls_canvas *c = canvas(300, 300);
  cls_text_draw(c, f, "scaling", 150, 150, 30, 0, CLS_ALIGN_CENTER, CLS_VALIGN_CENTER, BLACK);
  int box[4];
  ink_box(c, box);
  int w0 = box[2] - box[0], h0 = box[3] - box[1];
  assert_true(w0 > 2 * h0);
  assert_true(abs((box[0] + box[2]) / 2 - 150) <= 2); /* centred */
  cls_canvas_destroy(c);
  c = canvas(300, 300);
  cls_text_draw(c, f, "scaling", 150, 150, 30, 90, CLS_ALIGN_CENTER, CLS_VALIGN_CENTER, BLACK);
  ink_box(c, box);
  assert_true(abs((box[3] - box[1]) - w0) <= 2 && abs((box[2] - box[0]) - h0) <= 2);
  /* upwards: the first letter ('s') is at the bottom */
  int bottom_ink = 0;
  for (int x = box[0]; x <= box[2]; x++) bottom_ink += cls_canvas_get(c, x, box[3] - 2).r < 0.5f;
  assert_true(bottom_ink > 0);
  cls_canvas_destroy(c);
  cls_font_destroy(f);
}

/* ------------------------------------------------------------------ PNG */

typedef struct {
  int w, h, color_type, bit_depth;
  png_uint_32 res_x, res_y;
  int unit;
  bool has_time;
  unsigned char *rgb;
} decoded;

static bool decode(const char *path, decoded *d) {
  memset(d, 0, sizeof *d);
  FILE *f = fopen(path, "rb");
  if (!f) return false;
  png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
  png_infop info = png_create_info_struct(png);
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_read_struct(&png, &info, NULL);
    fclose(f);
    return false;
  }
  png_init_io(png, f);
  png_read_info(png, info);
  d->w = (int)png_get_image_width(png, info);
  d->h = (int)png_get_image_height(png, info);
  d->color_type = png_get_color_type(png, info);
  d->bit_depth = png_get_bit_depth(png, info);
  png_get_pHYs(png, info, &d->res_x, &d->res_y, &d->unit);
  int ch = d->color_type == PNG_COLOR_TYPE_RGB_ALPHA ? 4 : 3;
  d->rgb = malloc((size_t)d->w * (size_t)d->h * (size_t)ch);
  for (int y = 0; y < d->h; y++) png_read_row(png, d->rgb + (size_t)y * (size_t)d->w * (size_t)ch, NULL);
  png_read_end(png, info);
  d->has_time = png_get_valid(png, info, PNG_INFO_tIME) != 0;
  png_destroy_read_struct(&png, &info, NULL);
  fclose(f);
  return true;
}

static unsigned char *slurp(const char *path, size_t *n) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long len = ftell(f);
  fseek(f, 0, SEEK_SET);
  unsigned char *buf = malloc((size_t)len);
  *n = fread(buf, 1, (size_t)len, f);
  fclose(f);
  return buf;
}

static void test_png_roundtrip(void **state) {
  (void)state;
  char dir[512], path[600], path2[600], err[512];
  test_tmpdir("plot-png", dir, sizeof dir);
  snprintf(path, sizeof path, "%s/a.png", dir);
  snprintf(path2, sizeof path2, "%s/b.png", dir);
  cls_canvas *c = canvas(64, 48);
  cls_rgba teal = {0.1f, 0.6f, 0.5f, 1};
  cls_draw_marker(c, 20.5, 20.5, CLS_MARKER_SQUARE, 12, teal, WHITE, 0);
  assert_int_equal(cls_png_write(c, path, false, err, sizeof err), CLS_OK);
  assert_int_equal(cls_png_write(c, path2, false, err, sizeof err), CLS_OK);
  decoded d;
  assert_true(decode(path, &d));
  assert_int_equal(d.w, 64);
  assert_int_equal(d.h, 48);
  assert_int_equal(d.color_type, PNG_COLOR_TYPE_RGB);
  assert_int_equal(d.bit_depth, 8);
  assert_int_equal(d.unit, PNG_RESOLUTION_METER);
  assert_int_equal(d.res_x, (png_uint_32)lround(150 / 0.0254));
  assert_false(d.has_time);
  const unsigned char *px = d.rgb + 3 * (20 * 64 + 20);
  assert_int_equal(px[0], lrintf(teal.r * 255));
  assert_int_equal(px[1], lrintf(teal.g * 255));
  const unsigned char *bg = d.rgb + 3 * (40 * 64 + 60);
  assert_true(bg[0] == 255 && bg[1] == 255 && bg[2] == 255);
  free(d.rgb);
  /* Same pixels, same bytes: no time stamp or other varying chunk. */
  size_t n1 = 0, n2 = 0;
  unsigned char *b1 = slurp(path, &n1), *b2 = slurp(path2, &n2);
  assert_true(b1 && b2 && n1 == n2 && memcmp(b1, b2, n1) == 0);
  free(b1), free(b2);
  /* RGBA keeps the alpha channel. */
  assert_int_equal(cls_png_write(c, path2, true, err, sizeof err), CLS_OK);
  assert_true(decode(path2, &d));
  assert_int_equal(d.color_type, PNG_COLOR_TYPE_RGB_ALPHA);
  free(d.rgb);
  cls_canvas_destroy(c);
}

/* Unwritable destinations are errors with a message, not crashes, and leave
 * no temporary file behind. */
static void test_png_unwritable(void **state) {
  (void)state;
  char dir[512], file[600], path[700], err[512] = "";
  test_tmpdir("plot-png-bad", dir, sizeof dir);
  snprintf(file, sizeof file, "%s/not-a-dir", dir);
  FILE *f = fopen(file, "w");
  assert_non_null(f);
  fclose(f);
  snprintf(path, sizeof path, "%s/x.png", file); /* a path through a regular file */
  cls_canvas *c = canvas(8, 8);
  assert_int_equal(cls_png_write(c, path, false, err, sizeof err), CLS_ERR_IO);
  assert_non_null(strstr(err, "cannot create"));
  assert_int_equal(cls_png_write(c, "/proc/no-such-dir/x.png", false, err, sizeof err), CLS_ERR_IO);
  assert_int_equal(cls_png_write(NULL, path, false, err, sizeof err), CLS_ERR_NULL_ARGUMENT);
  cls_canvas_destroy(c);
  /* bad canvas sizes */
  cls_canvas *bad = NULL;
  assert_int_equal(cls_canvas_create(0, 10, 150, WHITE, &bad, err, sizeof err), CLS_ERR_INVALID_SIZE);
  assert_null(bad);
  assert_int_equal(cls_canvas_create(10, 10, NAN, WHITE, &bad, err, sizeof err), CLS_ERR_INVALID_VALUE);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_ink_conservation), cmocka_unit_test(test_no_beads_at_joints),
      cmocka_unit_test(test_dashes),           cmocka_unit_test(test_nan_breaks_line),
      cmocka_unit_test(test_crisp_lines),      cmocka_unit_test(test_polygon_area_and_clip),
      cmocka_unit_test(test_markers),          cmocka_unit_test(test_text),
      cmocka_unit_test(test_png_roundtrip),    cmocka_unit_test(test_png_unwritable),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
