/*
 * tests/test_plot_axes.c — scales and ticks: the data→pixel transform, tick
 * placement on linear and log axes from a fraction of a decade to twenty
 * decades, and tick-label formatting (10^k, SI suffixes).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plot/plot.h"
#include "plot/scale.h"

static cls_tick *ticks(cls_scale_kind kind, double lo, double hi, int max_labels, cls_label_style style,
                       size_t *n) {
  cls_axis_scale s = {kind, lo, hi, 0, 400};
  cls_tick *t = NULL;
  char err[256];
  if (cls_scale_ticks(&s, max_labels, style, &t, n, err, sizeof err) != CLS_OK) fail_msg("ticks: %s", err);
  return t;
}

/* Readable: at least min labelled ticks, at most max, inside the range,
 * increasing, with distinct non-empty labels. Returns the labelled count. */
static size_t check_readable(const cls_tick *t, size_t n, double lo, double hi, size_t min, size_t max) {
  size_t lab = 0;
  double prev = -INFINITY;
  for (size_t i = 0; i < n; i++) {
    double tol = 1e-9 * (hi - lo);
    if (t[i].value < lo - tol || t[i].value > hi + tol) fail_msg("tick %g outside [%g, %g]", t[i].value, lo, hi);
    if (!(t[i].value > prev)) fail_msg("ticks not increasing at %g", t[i].value);
    prev = t[i].value;
    if (!t[i].labelled) continue;
    lab++;
    if (!t[i].label[0]) fail_msg("empty label at %g", t[i].value);
    for (size_t j = 0; j < i; j++)
      if (t[j].labelled && !strcmp(t[j].label, t[i].label)) fail_msg("label '%s' repeated", t[i].label);
  }
  if (lab < min || lab > max) fail_msg("%zu labelled ticks on [%g, %g], want %zu..%zu", lab, lo, hi, min, max);
  return lab;
}

static void test_transform(void **state) {
  (void)state;
  cls_axis_scale lin = {CLS_SCALE_LINEAR, -1, 3, 100, 500};
  assert_true(fabs(cls_scale_to_px(&lin, 1.0) - 300) < 1e-9);
  assert_true(fabs(cls_scale_from_px(&lin, 400) - 2.0) < 1e-12);
  cls_axis_scale lg = {CLS_SCALE_LOG, 1e2, 1e6, 600, 200}; /* a y axis: pixels grow downwards */
  assert_true(fabs(cls_scale_to_px(&lg, 1e4) - 400) < 1e-9);
  assert_true(fabs(cls_scale_to_px(&lg, 1e6) - 200) < 1e-9);
  assert_true(fabs(cls_scale_from_px(&lg, 500) / 1e3 - 1) < 1e-12);
  /* unplottable values are NaN, never 0 */
  assert_true(isnan(cls_scale_to_px(&lg, 0.0)));
  assert_true(isnan(cls_scale_to_px(&lg, -5.0)));
  assert_true(isnan(cls_scale_to_px(&lg, NAN)));
  assert_true(isnan(cls_scale_to_px(&lin, INFINITY)));
}

/* A log axis over 0.3 decades (losses from 2 to 4) still gets labels. */
static void test_log_fraction_of_decade(void **state) {
  (void)state;
  const double ranges[][2] = {{2.0, 4.0}, {2.1, 4.2}, {0.31, 0.62}, {3.02, 3.3}, {1.7e18, 3.4e18}, {7.5, 15}};
  for (size_t r = 0; r < sizeof ranges / sizeof ranges[0]; r++) {
    size_t n;
    cls_tick *t = ticks(CLS_SCALE_LOG, ranges[r][0], ranges[r][1], 6, CLS_LABEL_PLAIN, &n);
    check_readable(t, n, ranges[r][0], ranges[r][1], 3, 6);
    free(t);
  }
  /* Labels never crowd: on 0.85..4.3 the 1…9 set would put "0.9" against "1". */
  const double crowd[][2] = {{0.85, 4.3}, {3.5, 17}, {0.95, 9.8}};
  for (size_t r = 0; r < sizeof crowd / sizeof crowd[0]; r++) {
    size_t n;
    cls_tick *t = ticks(CLS_SCALE_LOG, crowd[r][0], crowd[r][1], 8, CLS_LABEL_PLAIN, &n);
    check_readable(t, n, crowd[r][0], crowd[r][1], 3, 8);
    double span = log10(crowd[r][1] / crowd[r][0]), prev = NAN;
    for (size_t i = 0; i < n; i++) {
      if (!t[i].labelled) continue;
      double lv = log10(t[i].value);
      if (lv - prev < span / (1.7 * 8))
        fail_msg("labels %g and its predecessor crowd on [%g, %g]", t[i].value, crowd[r][0], crowd[r][1]);
      prev = lv;
    }
    free(t);
  }
  /* 2..4 gets plain labels 2, 3, 4 (no 10^k for numbers people read as is) */
  size_t n;
  cls_tick *t = ticks(CLS_SCALE_LOG, 2.0, 4.0, 6, CLS_LABEL_PLAIN, &n);
  bool has2 = false, has4 = false;
  for (size_t i = 0; i < n; i++) {
    if (t[i].labelled && !strcmp(t[i].label, "2")) has2 = true;
    if (t[i].labelled && !strcmp(t[i].label, "4")) has4 = true;
  }
  assert_true(has2 && has4);
  free(t);
}

/* Twenty decades: decade ticks with thinned 10^k labels, no minor smear. */
static void test_log_twenty_decades(void **state) {
  (void)state;
  size_t n;
  cls_tick *t = ticks(CLS_SCALE_LOG, 1e-5, 1e15, 8, CLS_LABEL_PLAIN, &n);
  size_t lab = check_readable(t, n, 1e-5, 1e15, 3, 8);
  assert_true(lab >= 3);
  int prev_k = 0, step = 0;
  bool first = true;
  for (size_t i = 0; i < n; i++) {
    assert_false(!t[i].major); /* no 2..9 minors over 20 decades */
    double k = log10(t[i].value);
    assert_true(fabs(k - round(k)) < 1e-9);
    if (!t[i].labelled) continue;
    char want[32];
    snprintf(want, sizeof want, "10^{%d}", (int)round(k));
    assert_string_equal(t[i].label, want);
    if (!first) {
      if (step == 0) step = (int)round(k) - prev_k;
      assert_int_equal((int)round(k) - prev_k, step); /* evenly thinned */
    }
    first = false;
    prev_k = (int)round(k);
  }
  assert_true(step >= 3);
  free(t);
}

/* A few decades: every decade labelled 10^k, minors at 2..9. */
static void test_log_few_decades(void **state) {
  (void)state;
  size_t n;
  cls_tick *t = ticks(CLS_SCALE_LOG, 3e15, 2e19, 8, CLS_LABEL_PLAIN, &n);
  check_readable(t, n, 3e15, 2e19, 3, 8);
  int minors = 0, decades = 0;
  for (size_t i = 0; i < n; i++) {
    if (!t[i].major) {
      minors++;
      double m = t[i].value / pow(10, floor(log10(t[i].value) + 1e-9));
      assert_true(fabs(m - round(m)) < 1e-6 && m >= 2 && m <= 9);
    } else if (t[i].labelled) {
      decades++;
      assert_non_null(strstr(t[i].label, "10^{"));
    }
  }
  assert_int_equal(decades, 4); /* 1e16 .. 1e19 */
  assert_true(minors >= 20);
  free(t);
}

static void test_linear_ticks(void **state) {
  (void)state;
  size_t n;
  cls_tick *t = ticks(CLS_SCALE_LINEAR, 0.0, 1.0, 6, CLS_LABEL_PLAIN, &n);
  check_readable(t, n, 0, 1, 3, 6);
  assert_string_equal(t[0].label, "0.0");
  assert_string_equal(t[n - 1].label, "1.0");
  free(t);
  t = ticks(CLS_SCALE_LINEAR, 3.3, 6.8, 8, CLS_LABEL_PLAIN, &n);
  check_readable(t, n, 3.3, 6.8, 3, 8);
  free(t);
  t = ticks(CLS_SCALE_LINEAR, -2e6, 3e6, 6, CLS_LABEL_SI, &n);
  check_readable(t, n, -2e6, 3e6, 3, 6);
  free(t);
  /* a bad range is an error, not a crash */
  cls_axis_scale bad = {CLS_SCALE_LOG, -1, 10, 0, 100};
  cls_tick *out = NULL;
  char err[256];
  assert_int_equal(cls_scale_ticks(&bad, 5, CLS_LABEL_PLAIN, &out, &n, err, sizeof err), CLS_ERR_INVALID_VALUE);
  assert_non_null(strstr(err, "lo > 0"));
  cls_axis_scale nan_range = {CLS_SCALE_LINEAR, NAN, 1, 0, 100};
  assert_int_equal(cls_scale_ticks(&nan_range, 5, CLS_LABEL_PLAIN, &out, &n, err, sizeof err),
                   CLS_ERR_INVALID_VALUE);
}

static void test_formats(void **state) {
  (void)state;
  char b[64];
  const struct {
    double v;
    cls_label_style s;
    const char *want;
  } cases[] = {
      {1e4, CLS_LABEL_SI, "10K"},         {1e6, CLS_LABEL_SI, "1M"},
      {2.5e6, CLS_LABEL_SI, "2.5M"},      {1e9, CLS_LABEL_SI, "1B"},
      {3e12, CLS_LABEL_SI, "3T"},         {500, CLS_LABEL_SI, "500"},
      {1e-3, CLS_LABEL_PLAIN, "10^{-3}"}, {3e21, CLS_LABEL_PLAIN, "3\\times10^{21}"},
      {0.3, CLS_LABEL_PLAIN, "0.3"},      {10, CLS_LABEL_PLAIN, "10"},
      {2.5, CLS_LABEL_PLAIN, "2.5"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    cls_format_number(cases[i].v, 0.0, cases[i].s, b, sizeof b);
    if (strcmp(b, cases[i].want)) fail_msg("%g formatted as '%s', want '%s'", cases[i].v, b, cases[i].want);
  }
  cls_format_number(0.5, 0.25, CLS_LABEL_PLAIN, b, sizeof b); /* step 2.5×10^k: one more decimal */
  assert_string_equal(b, "0.50");
  cls_format_number(NAN, 0, CLS_LABEL_PLAIN, b, sizeof b);
  assert_string_equal(b, "?");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_transform),          cmocka_unit_test(test_log_fraction_of_decade),
      cmocka_unit_test(test_log_twenty_decades), cmocka_unit_test(test_log_few_decades),
      cmocka_unit_test(test_linear_ticks),       cmocka_unit_test(test_formats),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
