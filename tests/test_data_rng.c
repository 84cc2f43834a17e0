/*
 * tests/test_data_rng.c — the counter-based RNG: known answers, purity,
 * ranges and moments.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "core/rng.h"

/* Philox4x32-10 known-answer vectors from Random123's kat_vectors. */
static void test_known_answers(void **state) {
  (void)state;
  uint32_t w[4];
  cls_rng_u32x4(cls_rng_make(0, 0), 0, 0, w);
  assert_int_equal(w[0], 0x6627e8d5u);
  assert_int_equal(w[1], 0xe169c58du);
  assert_int_equal(w[2], 0xbc57ac4cu);
  assert_int_equal(w[3], 0x9b00dbd8u);
  /* Counter all ones, key all ones. */
  cls_rng_u32x4(cls_rng_make(UINT64_MAX, UINT32_MAX), UINT64_MAX, UINT32_MAX, w);
  assert_int_equal(w[0], 0x408f276du);
  assert_int_equal(w[1], 0x41c83b0eu);
  assert_int_equal(w[2], 0xa20bc7c6u);
  assert_int_equal(w[3], 0x6d5451fdu);
}

static void test_pure_and_distinct(void **state) {
  (void)state;
  cls_rng a = cls_rng_make(42, 7);
  /* Same (seed, stream, i, j) in any order gives the same number. */
  double x = cls_rng_uniform(a, 1000, 3);
  for (int k = 0; k < 10; k++) (void)cls_rng_uniform(a, (uint64_t)k, 0);
  assert_true(cls_rng_uniform(a, 1000, 3) == x);
  /* Changing any coordinate changes the number. */
  assert_true(cls_rng_uniform(cls_rng_make(43, 7), 1000, 3) != x);
  assert_true(cls_rng_uniform(cls_rng_make(42, 8), 1000, 3) != x);
  assert_true(cls_rng_uniform(a, 1001, 3) != x);
  assert_true(cls_rng_uniform(a, 1000, 4) != x);
  assert_true(cls_rng_uniform(a, 1000 + (1ull << 32), 3) != x);
}

static void test_moments(void **state) {
  (void)state;
  cls_rng r = cls_rng_make(2024, 1);
  const int n = 200000;
  double s1 = 0, s2 = 0, g1 = 0, g2 = 0, g4 = 0;
  long hist[10] = {0};
  for (int i = 0; i < n; i++) {
    double u = cls_rng_uniform(r, (uint64_t)i, 0);
    assert_true(u >= 0.0 && u < 1.0);
    s1 += u;
    s2 += u * u;
    double g = cls_rng_normal(r, (uint64_t)i, 1);
    assert_true(isfinite(g));
    g1 += g;
    g2 += g * g;
    g4 += g * g * g * g;
    uint64_t b = cls_rng_below(r, (uint64_t)i, 2, 10);
    assert_true(b < 10);
    hist[b]++;
    double v = cls_rng_range(r, (uint64_t)i, 3, -2.0, 5.0);
    assert_true(v >= -2.0 && v < 5.0);
  }
  assert_true(fabs(s1 / n - 0.5) < 0.005);
  assert_true(fabs(s2 / n - 1.0 / 3.0) < 0.005);
  assert_true(fabs(g1 / n) < 0.01);
  assert_true(fabs(g2 / n - 1.0) < 0.015);
  assert_true(fabs(g4 / n - 3.0) < 0.1);
  for (int k = 0; k < 10; k++) assert_true(labs(hist[k] - n / 10) < 1000);
  assert_int_equal(cls_rng_below(r, 0, 0, 0), 0);
  assert_int_equal(cls_rng_below(r, 0, 0, 1), 0);
  /* Large n: the full 64-bit range is reachable (top bit set sometimes). */
  int top = 0;
  for (int i = 0; i < 64; i++) top += cls_rng_below(r, (uint64_t)i, 9, UINT64_MAX) >> 63;
  assert_true(top > 10 && top < 54);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_known_answers),
      cmocka_unit_test(test_pure_and_distinct),
      cmocka_unit_test(test_moments),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
