/*
 * tests/test_data_gcd.c — the gcd task's data (data/gcd.h): answers are
 * the gcd; encode then decode gives back a, b and the answer, in several
 * bases and bounds, and malformed sequences are refused; the sampled gcds
 * follow the exact law of the bound and 6 / (pi^2 k^2) truncated to the
 * bound and renormalised (chi-square, fixed seed, the 0.1 % critical
 * value); bad bases and bounds are refused; pair sources.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "data/gcd.h"

static uint64_t slow_gcd(uint64_t a, uint64_t b) {
  uint64_t g = a < b ? a : b;
  while (a % g || b % g) g--;
  return g;
}

static void test_answers_correct(void **state) {
  (void)state;
  assert_int_equal(cls_gcd(12, 18), 6);
  assert_int_equal(cls_gcd(17, 5), 1);
  assert_int_equal(cls_gcd(0, 9), 9);
  assert_int_equal(cls_gcd(1000000007ULL * 6, 1000000007ULL * 4), 2000000014ULL);
  for (uint64_t i = 0; i < 2000; i++) {
    cls_gcd_pair p = cls_gcd_sample(500, 7, 3, i);
    assert_true(p.a >= 1 && p.a <= 500 && p.b >= 1 && p.b <= 500);
    assert_int_equal(p.g, slow_gcd(p.a, p.b));
  }
  /* Pure functions of (seed, stream, i). */
  cls_gcd_pair x = cls_gcd_sample(1000, 1, 2, 99), y = cls_gcd_sample(1000, 1, 2, 99);
  assert_true(x.a == y.a && x.b == y.b);
  assert_int_equal(cls_gcd_digits(0, 10), 1);
  assert_int_equal(cls_gcd_digits(9, 10), 1);
  assert_int_equal(cls_gcd_digits(10, 10), 2);
  assert_int_equal(cls_gcd_digits(255, 16), 2);
  assert_int_equal(cls_gcd_digits(256, 2), 9);
}

static void test_encoding_round_trips(void **state) {
  (void)state;
  static const uint64_t bases[] = {2, 3, 10, 16, 30, 1000};
  static const uint64_t bounds[] = {1, 2, 9, 10, 100, 1000, 123456, (uint64_t)1 << 40};
  char err[256];
  for (size_t bi = 0; bi < sizeof bases / sizeof bases[0]; bi++)
    for (size_t ni = 0; ni < sizeof bounds / sizeof bounds[0]; ni++) {
      cls_gcd_format f;
      assert_int_equal(cls_gcd_format_make(bases[bi], bounds[ni], &f, err, sizeof err), CLS_OK);
      assert_int_equal(f.vocab, bases[bi] + 4);
      assert_int_equal(f.length, 3 * cls_gcd_digits(bounds[ni], bases[bi]) + 4);
      int32_t *seq = malloc(f.length * sizeof *seq);
      for (uint64_t i = 0; i < 300; i++) {
        cls_gcd_pair p = cls_gcd_sample(f.bound, 11, 1, i), q;
        if (i == 0) p.a = p.b = p.g = f.bound; /* the longest sequence */
        if (i == 1) p.a = p.b = p.g = 1;
        if (i == 2) p.g = p.a; /* a wrong answer is encoded as it is */
        size_t eq = cls_gcd_encode(&f, &p, seq);
        assert_int_equal(seq[eq], f.eq);
        assert_int_equal(seq[eq + cls_gcd_digits(p.g, f.base) + 1], f.eos);
        for (size_t k = 0; k < f.length; k++) assert_true(seq[k] >= 0 && (size_t)seq[k] < f.vocab);
        if (cls_gcd_decode(&f, seq, &q, err, sizeof err) != CLS_OK) fail_msg("%s", err);
        assert_true(q.a == p.a && q.b == p.b && q.g == p.g);
      }
      free(seq);
    }
  /* Base 10, bound 100: "+ 1 2 + 1 8 = 6 EOS PAD PAD ...". */
  cls_gcd_format f;
  assert_int_equal(cls_gcd_format_make(10, 100, &f, err, sizeof err), CLS_OK);
  int32_t seq[13];
  cls_gcd_pair p = {12, 18, 6}, q;
  assert_int_equal(cls_gcd_encode(&f, &p, seq), 6);
  const int32_t want[13] = {10, 1, 2, 10, 1, 8, 11, 6, 12, 13, 13, 13, 13};
  assert_memory_equal(seq, want, sizeof want);
  /* Malformed: each is refused with a reason. */
  const struct { int at, token; } bad[] = {{0, 3}, {1, 0}, {3, 11}, {6, 10}, {8, 13}, {9, 5}, {12, 1}, {7, 12}};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    int32_t s[13];
    memcpy(s, want, sizeof s);
    s[bad[i].at] = bad[i].token;
    err[0] = 0;
    assert_int_equal(cls_gcd_decode(&f, s, &q, err, sizeof err), CLS_ERR_FORMAT);
    assert_true(strlen(err) > 0);
  }
  /* A number above the bound. */
  int32_t s[13] = {10, 9, 9, 9, 10, 1, 11, 1, 12, 13, 13, 13, 13};
  assert_int_equal(cls_gcd_decode(&f, s, &q, err, sizeof err), CLS_ERR_FORMAT);
}

static void test_bad_parameters(void **state) {
  (void)state;
  cls_gcd_format f;
  char err[256];
  assert_int_equal(cls_gcd_format_make(1, 100, &f, err, sizeof err), CLS_ERR_INVALID_VALUE);
  assert_non_null(strstr(err, "base"));
  assert_int_equal(cls_gcd_format_make(0, 100, &f, err, sizeof err), CLS_ERR_INVALID_VALUE);
  assert_int_equal(cls_gcd_format_make(CLS_GCD_MAX_BASE + 1, 100, &f, err, sizeof err), CLS_ERR_INVALID_VALUE);
  assert_int_equal(cls_gcd_format_make(10, 0, &f, err, sizeof err), CLS_ERR_INVALID_VALUE);
  assert_non_null(strstr(err, "bound"));
  assert_int_equal(cls_gcd_format_make(10, CLS_GCD_MAX_BOUND + 1, &f, err, sizeof err), CLS_ERR_INVALID_VALUE);
  double p[4];
  assert_int_equal(cls_gcd_distribution(3, 4, p, err, sizeof err), CLS_ERR_INVALID_SIZE);
  assert_int_equal(cls_gcd_distribution(0, 0, p, err, sizeof err), CLS_ERR_INVALID_SIZE);
}

/* The exact law by brute force for small bounds; it sums to 1 and nears
 * 6 / (pi^2 k^2) as the bound grows. */
static void test_exact_distribution(void **state) {
  (void)state;
  char err[256];
  for (uint64_t n = 1; n <= 60; n++) {
    double p[60];
    uint64_t want[60] = {0};
    assert_int_equal(cls_gcd_distribution(n, n, p, err, sizeof err), CLS_OK);
    for (uint64_t a = 1; a <= n; a++)
      for (uint64_t b = 1; b <= n; b++) want[cls_gcd(a, b) - 1]++;
    double sum = 0;
    for (uint64_t k = 0; k < n; k++) {
      assert_true(p[k] == (double)want[k] / (double)(n * n));
      sum += p[k];
    }
    assert_true(fabs(sum - 1) < 1e-12);
  }
  double p[5];
  assert_int_equal(cls_gcd_distribution(1000000, 5, p, err, sizeof err), CLS_OK);
  for (uint64_t k = 1; k <= 5; k++) assert_true(fabs(p[k - 1] / cls_gcd_asymptote(k) - 1) < 1e-3);
}

/* Chi-square of n_draws sampled gcds in bins k = 1 .. K and k > K against
 * the law q (q[k - 1] for k <= K, the rest in the tail bin). */
static double chi_square(const uint64_t *count, const double *q, size_t K, double n_draws) {
  double tail = 1, chi = 0;
  for (size_t k = 0; k < K; k++) {
    double e = n_draws * q[k];
    chi += ((double)count[k] - e) * ((double)count[k] - e) / e;
    tail -= q[k];
  }
  double e = n_draws * tail;
  return chi + ((double)count[K] - e) * ((double)count[K] - e) / e;
}

static void test_distribution_is_the_stated_one(void **state) {
  (void)state;
  enum { K = 20 };
  const uint64_t bound = 10000, draws = 200000;
  uint64_t count[K + 1] = {0};
  for (uint64_t i = 0; i < draws; i++) {
    uint64_t g = cls_gcd_sample(bound, 2024, 5, i).g;
    count[g <= K ? g - 1 : K]++;
  }
  char err[256];
  double exact[K], trunc[K], z = 0;
  assert_int_equal(cls_gcd_distribution(bound, K, exact, err, sizeof err), CLS_OK);
  for (uint64_t k = 1; k <= bound; k++) z += cls_gcd_asymptote(k);
  for (size_t k = 0; k < K; k++) trunc[k] = cls_gcd_asymptote(k + 1) / z;
  /* 21 bins, 20 degrees of freedom: P(chi^2 > 45.31) = 0.001. */
  const double critical = 45.31;
  double c_exact = chi_square(count, exact, K, (double)draws);
  double c_trunc = chi_square(count, trunc, K, (double)draws);
  print_message("chi-square over %d bins: %.2f against the exact law, %.2f against 6/(pi^2 k^2) truncated "
                "(critical %.2f)\n",
                K + 1, c_exact, c_trunc, critical);
  assert_true(c_exact < critical);
  assert_true(c_trunc < critical);
  /* The test has power: a uniform law of the same support is rejected. */
  double flat[K];
  for (size_t k = 0; k < K; k++) flat[k] = 1.0 / (double)bound;
  assert_true(chi_square(count, flat, K, (double)draws) > 100 * critical);
}

static void test_sources(void **state) {
  (void)state;
  cls_gcd_source r = cls_gcd_source_real(77, 3, 9, 0);
  for (uint64_t i = 0; i < 50; i++) {
    cls_gcd_pair a = cls_gcd_source_get(&r, i), b = cls_gcd_sample(77, 3, 9, i);
    assert_true(a.a == b.a && a.b == b.b && a.g == b.g);
  }
  cls_gcd_pair corpus[3] = {{4, 6, 2}, {5, 7, 3}, {9, 9, 9}};
  cls_gcd_source c = cls_gcd_source_pairs(corpus, 3);
  assert_true(cls_gcd_source_get(&c, 1).g == 3); /* a corpus keeps its (perhaps wrong) answers */
  assert_true(cls_gcd_source_get(&c, 5).a == 9);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_answers_correct),
      cmocka_unit_test(test_encoding_round_trips),
      cmocka_unit_test(test_bad_parameters),
      cmocka_unit_test(test_exact_distribution),
      cmocka_unit_test(test_distribution_is_the_stated_one),
      cmocka_unit_test(test_sources),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
