/*
 * tests/test_data_spectra_batch.c — the emulator's batch sampler and gather:
 * deterministic per (seed, step), in range, stratified pixels, cached and
 * uncached gathers identical, errors before any write.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "data/spectra.h"

#define NL CLS_SPECTRA_N_LABELS

static cls_spectra *make(size_t cache_bytes) {
  cls_spectra_config c;
  cls_spectra_config_default(&c);
  c.n_pixels = 1000;
  c.n_lines = 600;
  c.n_train = 37;
  c.n_val = 5;
  c.n_test = 0;
  c.cache_bytes = cache_bytes;
  cls_spectra *ds = NULL;
  char err[512] = "";
  if (cls_spectra_create(&c, &ds, err, sizeof err) != CLS_OK) fail_msg("%s", err);
  return ds;
}

static void test_sampler(void **state) {
  (void)state;
  cls_spectra *ds = make(0);
  enum { B = 9, P = 64 };
  uint32_t s1[B], p1[B * P], s2[B], p2[B * P];
  assert_int_equal(cls_spectra_sample(ds, CLS_SPLIT_TRAIN, 5, 100, B, P, s1, p1, NULL, 0), CLS_OK);
  assert_int_equal(cls_spectra_sample(ds, CLS_SPLIT_TRAIN, 5, 100, B, P, s2, p2, NULL, 0), CLS_OK);
  assert_memory_equal(s1, s2, sizeof s1);
  assert_memory_equal(p1, p2, sizeof p1);
  for (int b = 0; b < B; b++) {
    assert_true(s1[b] < 37);
    for (int k = 0; k < P; k++) {
      uint32_t p = p1[b * P + k];
      /* Pixel k lies in stratum k of 64 equal parts of the 1000 pixels. */
      assert_true(p >= (uint32_t)(k * 1000 / P) && p < (uint32_t)((k + 1) * 1000 / P));
      if (k) assert_true(p > p1[b * P + k - 1]);
    }
  }
  /* Another step, seed or split: another batch. */
  assert_int_equal(cls_spectra_sample(ds, CLS_SPLIT_TRAIN, 5, 101, B, P, s2, p2, NULL, 0), CLS_OK);
  assert_true(memcmp(p1, p2, sizeof p1) != 0);
  assert_int_equal(cls_spectra_sample(ds, CLS_SPLIT_TRAIN, 6, 100, B, P, s2, p2, NULL, 0), CLS_OK);
  assert_true(memcmp(p1, p2, sizeof p1) != 0);
  assert_int_equal(cls_spectra_sample(ds, CLS_SPLIT_VAL, 5, 100, B, P, s2, p2, NULL, 0), CLS_OK);
  for (int b = 0; b < B; b++) assert_true(s2[b] < 5);
  /* A smaller batch is a prefix of a larger one (rows are independent draws). */
  uint32_t s3[3], p3[3 * P];
  assert_int_equal(cls_spectra_sample(ds, CLS_SPLIT_TRAIN, 5, 100, 3, P, s3, p3, NULL, 0), CLS_OK);
  assert_memory_equal(s3, s1, sizeof s3);
  assert_memory_equal(p3, p1, sizeof p3);
  /* Every spectrum index gets drawn over many steps. */
  int seen[37] = {0};
  for (uint64_t step = 0; step < 50; step++) {
    assert_int_equal(cls_spectra_sample(ds, CLS_SPLIT_TRAIN, 1, step, B, 1, s2, p2, NULL, 0), CLS_OK);
    for (int b = 0; b < B; b++) seen[s2[b]] = 1;
  }
  for (int i = 0; i < 37; i++) assert_true(seen[i]);
  /* All pixels when n_pix = n_pixels. */
  uint32_t *all = malloc(1000 * sizeof *all);
  assert_int_equal(cls_spectra_sample(ds, CLS_SPLIT_TRAIN, 1, 0, 1, 1000, s2, all, NULL, 0), CLS_OK);
  for (uint32_t k = 0; k < 1000; k++) assert_int_equal(all[k], k);
  free(all);
  cls_spectra_destroy(ds);
}

static void test_gather(void **state) {
  (void)state;
  cls_spectra *cached = make((size_t)64 << 20), *plain = make(0);
  assert_true(cls_spectra_is_cached(cached, CLS_SPLIT_TRAIN));
  enum { B = 6, P = 50 };
  uint32_t s[B], p[B * P];
  float lab[B * NL], f1[B * P], f2[B * P], full[1000];
  assert_int_equal(cls_spectra_sample(cached, CLS_SPLIT_TRAIN, 3, 7, B, P, s, p, NULL, 0), CLS_OK);
  /* Unsorted pixels in one row are fine. */
  uint32_t t = p[P];
  p[P] = p[2 * P - 1];
  p[2 * P - 1] = t;
  assert_int_equal(cls_spectra_gather(cached, CLS_SPLIT_TRAIN, B, s, P, p, lab, f1, NULL, 0), CLS_OK);
  assert_int_equal(cls_spectra_gather(plain, CLS_SPLIT_TRAIN, B, s, P, p, NULL, f2, NULL, 0), CLS_OK);
  assert_memory_equal(f1, f2, sizeof f1);
  const float *norm = cls_spectra_labels(cached, CLS_SPLIT_TRAIN);
  for (int b = 0; b < B; b++) {
    assert_memory_equal(lab + b * NL, norm + s[b] * NL, NL * sizeof(float));
    assert_int_equal(cls_spectra_flux(plain, CLS_SPLIT_TRAIN, s[b], full, NULL, 0), CLS_OK);
    for (int k = 0; k < P; k++) assert_true(f1[b * P + k] == full[p[b * P + k]]);
  }
  cls_spectra_destroy(cached);
  cls_spectra_destroy(plain);
}

static void test_batch_errors(void **state) {
  (void)state;
  cls_spectra *ds = make(0);
  char err[512];
  uint32_t s[4] = {0, 1, 2, 3}, p[8] = {0, 1, 2, 3, 4, 5, 6, 7};
  float f[8], lab[4 * NL];
  assert_int_equal(cls_spectra_sample(ds, CLS_SPLIT_TEST, 0, 0, 2, 2, s, p, err, sizeof err),
                   CLS_ERR_INVALID_SIZE);
  assert_non_null(strstr(err, "test split is empty"));
  assert_int_equal(cls_spectra_sample(ds, CLS_SPLIT_TRAIN, 0, 0, 2, 1001, s, p, err, sizeof err),
                   CLS_ERR_INVALID_SIZE);
  assert_int_equal(cls_spectra_sample(ds, CLS_SPLIT_TRAIN, 0, 0, 0, 2, s, p, err, sizeof err),
                   CLS_ERR_INVALID_SIZE);
  assert_int_equal(cls_spectra_sample(ds, CLS_SPLIT_TRAIN, 0, 0, 2, 2, NULL, p, err, sizeof err),
                   CLS_ERR_NULL_ARGUMENT);
  assert_int_equal(cls_spectra_sample(ds, (cls_split)-1, 0, 0, 2, 2, s, p, err, sizeof err),
                   CLS_ERR_INVALID_VALUE);
  /* A bad index anywhere: an error, and nothing written. */
  for (int k = 0; k < 8; k++) f[k] = -7.0f;
  for (int k = 0; k < 4 * NL; k++) lab[k] = -7.0f;
  s[3] = 5; /* the val split has 5 */
  assert_int_equal(cls_spectra_gather(ds, CLS_SPLIT_VAL, 4, s, 2, p, lab, f, err, sizeof err),
                   CLS_ERR_INVALID_VALUE);
  assert_non_null(strstr(err, "spec[3]"));
  s[3] = 3;
  p[7] = 1000;
  assert_int_equal(cls_spectra_gather(ds, CLS_SPLIT_VAL, 4, s, 2, p, lab, f, err, sizeof err),
                   CLS_ERR_INVALID_VALUE);
  assert_non_null(strstr(err, "pix[7]"));
  for (int k = 0; k < 8; k++) assert_true(f[k] == -7.0f);
  for (int k = 0; k < 4 * NL; k++) assert_true(lab[k] == -7.0f);
  cls_spectra_destroy(ds);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_sampler),
      cmocka_unit_test(test_gather),
      cmocka_unit_test(test_batch_errors),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
