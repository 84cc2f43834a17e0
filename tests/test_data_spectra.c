/*
 * tests/test_data_spectra.c — the synthetic spectra generator: determinism,
 * disjoint splits, label ranges, flux bounds, the physics of line strengths
 * and widths, smoothness in the labels, and config errors.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "data/spectra.h"

#define NL            CLS_SPECTRA_N_LABELS
#define PINNED_LABELS "5386.8157309602666 4.2907731409178211 -2.4440143413219952 0.14406172993877597"

static cls_spectra *make(const cls_spectra_config *cfg) {
  cls_spectra *ds = NULL;
  char err[512] = "";
  cls_status s = cls_spectra_create(cfg, &ds, err, sizeof err);
  if (s != CLS_OK) fail_msg("cls_spectra_create -> %d: %s", s, err);
  return ds;
}

static cls_spectra_config small_config(uint64_t seed) {
  cls_spectra_config c;
  cls_spectra_config_default(&c);
  c.seed = seed;
  c.n_train = 48;
  c.n_val = 16;
  c.n_test = 16;
  return c;
}

static void eval(const cls_spectra *ds, const double *lab, float *flux) {
  char err[512] = "";
  cls_status s = cls_spectra_eval(ds, lab, NULL, cls_spectra_n_pixels(ds), flux, err, sizeof err);
  if (s != CLS_OK) fail_msg("cls_spectra_eval -> %d: %s", s, err);
}

/* ------------------------------------------------------------ determinism */

static void test_same_seed_same_data(void **state) {
  (void)state;
  cls_spectra_config c = small_config(7);
  cls_spectra *a = make(&c), *b = make(&c);
  assert_int_equal(cls_spectra_n_lines(a), c.n_lines);
  assert_memory_equal(cls_spectra_lines(a), cls_spectra_lines(b), c.n_lines * sizeof(cls_spectral_line));
  assert_memory_equal(cls_spectra_wavelength(a), cls_spectra_wavelength(b), c.n_pixels * sizeof(double));
  for (int s = 0; s < CLS_SPLIT_COUNT; s++) {
    size_t n = cls_spectra_count(a, (cls_split)s);
    assert_memory_equal(cls_spectra_labels_raw(a, (cls_split)s), cls_spectra_labels_raw(b, (cls_split)s),
                        n * NL * sizeof(double));
    assert_memory_equal(cls_spectra_labels(a, (cls_split)s), cls_spectra_labels(b, (cls_split)s),
                        n * NL * sizeof(float));
  }
  /* Flux in a different order of generation is bitwise the same. */
  float *fa = malloc(c.n_pixels * sizeof *fa), *fb = malloc(c.n_pixels * sizeof *fb);
  for (size_t i = 0; i < 5; i++)
    assert_int_equal(cls_spectra_flux(b, CLS_SPLIT_TRAIN, 20 - i, fb, NULL, 0), CLS_OK);
  for (size_t i = 0; i < 5; i++) {
    assert_int_equal(cls_spectra_flux(a, CLS_SPLIT_TEST, i, fa, NULL, 0), CLS_OK);
    assert_int_equal(cls_spectra_flux(b, CLS_SPLIT_TEST, i, fb, NULL, 0), CLS_OK);
    assert_memory_equal(fa, fb, c.n_pixels * sizeof *fa);
  }
  /* A different seed: other lines, other labels, other flux. */
  cls_spectra_config c2 = small_config(8);
  cls_spectra *d = make(&c2);
  assert_true(memcmp(cls_spectra_labels_raw(a, CLS_SPLIT_TRAIN), cls_spectra_labels_raw(d, CLS_SPLIT_TRAIN),
                     NL * sizeof(double)) != 0);
  assert_true(cls_spectra_lines(a)[0].wavelength != cls_spectra_lines(d)[0].wavelength);
  assert_int_equal(cls_spectra_flux(d, CLS_SPLIT_TEST, 4, fb, NULL, 0), CLS_OK);
  assert_true(memcmp(fa, fb, c.n_pixels * sizeof *fa) != 0);
  free(fa);
  free(fb);
  cls_spectra_destroy(a);
  cls_spectra_destroy(b);
  cls_spectra_destroy(d);
}

/* Growing D keeps the smaller training set as a prefix and the held-out sets
 * unchanged; a finer grid keeps the same lines. Data-scaling sweeps rely on it. */
static void test_nested_datasets(void **state) {
  (void)state;
  cls_spectra_config c = small_config(21), big = c;
  big.n_train = 5 * c.n_train;
  big.n_pixels = 2 * c.n_pixels;
  big.resolution = 2 * c.resolution;
  cls_spectra *a = make(&c), *b = make(&big);
  assert_memory_equal(cls_spectra_labels_raw(a, CLS_SPLIT_TRAIN), cls_spectra_labels_raw(b, CLS_SPLIT_TRAIN),
                      c.n_train * NL * sizeof(double));
  assert_memory_equal(cls_spectra_labels_raw(a, CLS_SPLIT_VAL), cls_spectra_labels_raw(b, CLS_SPLIT_VAL),
                      c.n_val * NL * sizeof(double));
  assert_memory_equal(cls_spectra_labels_raw(a, CLS_SPLIT_TEST), cls_spectra_labels_raw(b, CLS_SPLIT_TEST),
                      c.n_test * NL * sizeof(double));
  assert_memory_equal(cls_spectra_lines(a), cls_spectra_lines(b), c.n_lines * sizeof(cls_spectral_line));
  cls_spectra_destroy(a);
  cls_spectra_destroy(b);
}

/* The labels use only the RNG and IEEE arithmetic, so they are the same on
 * every machine: pinned values guard the determinism guarantee. */
static void test_pinned_labels(void **state) {
  (void)state;
  cls_spectra_config c = small_config(1);
  cls_spectra *ds = make(&c);
  const double *raw = cls_spectra_labels_raw(ds, CLS_SPLIT_TRAIN);
  char got[256];
  snprintf(got, sizeof got, "%.17g %.17g %.17g %.17g", raw[0], raw[1], raw[2], raw[3]);
  print_message("first training labels, seed 1: %s\n", got);
  assert_string_equal(got, PINNED_LABELS);
  cls_spectra_destroy(ds);
}

/* ------------------------------------------------------------- labels */

static int cmp_vec(const float *a, const float *b) {
  for (int k = 0; k < NL; k++)
    if (a[k] != b[k]) return 1;
  return 0;
}

static void test_labels_in_range_and_disjoint(void **state) {
  (void)state;
  cls_spectra_config c = small_config(3);
  c.n_train = 400;
  c.n_val = 100;
  c.n_test = 100;
  cls_spectra *ds = make(&c);
  const float *all[3];
  size_t n[3];
  for (int s = 0; s < 3; s++) {
    n[s] = cls_spectra_count(ds, (cls_split)s);
    all[s] = cls_spectra_labels(ds, (cls_split)s);
    const double *raw = cls_spectra_labels_raw(ds, (cls_split)s);
    double back[NL];
    for (size_t i = 0; i < n[s]; i++) {
      for (int k = 0; k < NL; k++) {
        double x = raw[i * NL + k];
        assert_true(x >= c.label_min[k] && x <= c.label_max[k]);
        float y = all[s][i * NL + k];
        assert_true(y >= -1.0f && y <= 1.0f);
      }
      cls_spectra_denormalise(ds, all[s] + i * NL, back, 1);
      for (int k = 0; k < NL; k++)
        assert_true(fabs(back[k] - raw[i * NL + k]) <= 1e-6 * (c.label_max[k] - c.label_min[k]));
    }
  }
  assert_int_equal(n[0], 400);
  /* No label vector is shared between (or within) splits. */
  for (int s = 0; s < 3; s++)
    for (int t = s; t < 3; t++)
      for (size_t i = 0; i < n[s]; i++)
        for (size_t j = (s == t ? i + 1 : 0); j < n[t]; j++)
          assert_true(cmp_vec(all[s] + i * NL, all[t] + j * NL) != 0);
  /* The labels fill the box: every normalised label spans most of [-1, 1]. */
  for (int k = 0; k < NL; k++) {
    float lo = 1, hi = -1;
    for (size_t i = 0; i < n[0]; i++) {
      lo = fminf(lo, all[0][i * NL + k]);
      hi = fmaxf(hi, all[0][i * NL + k]);
    }
    assert_true(lo < -0.95f && hi > 0.95f);
  }
  cls_spectra_destroy(ds);
}

/* ---------------------------------------------------------------- flux */

static void test_flux_bounds(void **state) {
  (void)state;
  cls_spectra_config c = small_config(5);
  cls_spectra *ds = make(&c);
  float *f = malloc(c.n_pixels * sizeof *f);
  size_t near_one = 0, total = 0;
  double mean = 0;
  for (int s = 0; s < 3; s++)
    for (size_t i = 0; i < cls_spectra_count(ds, (cls_split)s); i++) {
      assert_int_equal(cls_spectra_flux(ds, (cls_split)s, i, f, NULL, 0), CLS_OK);
      for (size_t p = 0; p < c.n_pixels; p++) {
        assert_true(isfinite(f[p]) && f[p] > 0.0f && f[p] <= 1.0f);
        assert_true(f[p] >= 0.079f); /* saturated cores keep their residual flux */
        near_one += f[p] > 0.995f;
        mean += f[p];
        total++;
      }
    }
  mean /= (double)total;
  print_message("mean flux %.3f, pixels within 0.5%% of the continuum %.1f%%\n", mean, 100.0 * near_one / total);
  assert_true(mean > 0.6 && mean < 0.99);
  assert_true(near_one > total / 20); /* continuum windows exist */
  /* Hundreds to thousands of lines visible in the Sun: count local minima deeper than 1%. */
  const double sun[NL] = {5777, 4.44, 0, 0};
  eval(ds, sun, f);
  int minima = 0;
  for (size_t p = 1; p + 1 < c.n_pixels; p++) minima += f[p] < f[p - 1] && f[p] <= f[p + 1] && f[p] < 0.99f;
  print_message("solar spectrum: %d lines deeper than 1%%\n", minima);
  assert_true(minima > 200);
  free(f);
  cls_spectra_destroy(ds);
}

/* A config with a few explicit lines, far apart. */
static cls_spectra *lines_dataset(const cls_spectral_line *lines, size_t n, double resolution) {
  cls_spectra_config c = small_config(1);
  c.lines = lines;
  c.n_user_lines = n;
  c.resolution = resolution;
  return make(&c);
}

static cls_spectral_line line_at(const double *wave, size_t pixel, int species, int ion, double chi, double loggf,
                                 double damping) {
  cls_spectral_line l = {wave[pixel], species, ion, chi, loggf, damping};
  return l;
}

/* Equivalent width in pixels of the line around pixel p (within +-40). */
static double ew(const float *f, size_t p) {
  double w = 0;
  for (size_t q = p - 40; q <= p + 40; q++) w += 1.0 - f[q];
  return w;
}

static void test_continuum_away_from_lines(void **state) {
  (void)state;
  cls_spectra_config c = small_config(1);
  cls_spectra *base = make(&c);
  const double *wave = cls_spectra_wavelength(base);
  cls_spectral_line l[3] = {line_at(wave, 500, CLS_SPECIES_FE, 1, 1.0, 0.5, 1.0),
                            line_at(wave, 2000, CLS_SPECIES_MG, 1, 2.0, 0.0, 1.0),
                            line_at(wave, 3500, CLS_SPECIES_TI, 2, 1.5, 0.0, 1.0)};
  cls_spectra *ds = lines_dataset(l, 3, 12000);
  float *f = malloc(c.n_pixels * sizeof *f);
  const double cool[NL] = {4000, 1.0, 0.5, 0.6};
  eval(ds, cool, f);
  for (size_t p = 0; p < c.n_pixels; p++) {
    int far = labs((long)p - 500) > 41 && labs((long)p - 2000) > 41 && labs((long)p - 3500) > 41;
    if (far) assert_true(f[p] == 1.0f);
  }
  print_message("line depths %.3f %.3f %.3f\n", 1 - f[500], 1 - f[2000], 1 - f[3500]);
  assert_true(f[500] < 0.5f && f[2000] < 0.9f && f[3500] < 0.99f);
  free(f);
  cls_spectra_destroy(ds);
  cls_spectra_destroy(base);
}

static void test_physics(void **state) {
  (void)state;
  cls_spectra_config c = small_config(1);
  cls_spectra *base = make(&c);
  const double *wave = cls_spectra_wavelength(base);
  enum { FE1 = 400, TI1 = 1200, MG1 = 2000, FE2 = 2800, STRONG = 3200, WEAK = 3600 };
  cls_spectral_line l[6] = {
      line_at(wave, FE1, CLS_SPECIES_FE, 1, 2.0, -0.5, 1.0),   /* moderate Fe I */
      line_at(wave, TI1, CLS_SPECIES_TI, 1, 1.0, 0.5, 1.0),    /* Ti I: ionisation potential 6.8 eV */
      line_at(wave, MG1, CLS_SPECIES_MG, 1, 2.7, -0.5, 1.0),   /* an alpha element */
      line_at(wave, FE2, CLS_SPECIES_FE, 2, 3.0, -1.5, 1.0),   /* Fe II */
      line_at(wave, WEAK, CLS_SPECIES_FE, 1, 3.0, 0.3, 3.0),   /* weak, strongly damped Fe I */
      line_at(wave, STRONG, CLS_SPECIES_FE, 1, 1.0, 0.5, 1.0), /* saturated Fe I */
  };
  cls_spectra *ds = lines_dataset(l, 6, 12000);
  float *a = malloc(c.n_pixels * sizeof *a), *b = malloc(c.n_pixels * sizeof *b);

  /* [Fe/H] up: the Fe I line deepens. */
  const double sun[NL] = {5777, 4.44, 0.0, 0.0}, poor[NL] = {5777, 4.44, -1.0, 0.0};
  eval(ds, sun, a);
  eval(ds, poor, b);
  print_message("Fe I EW: [Fe/H]=0 %.4f, -1 %.4f px\n", ew(a, FE1), ew(b, FE1));
  assert_true(ew(a, FE1) > 1.5 * ew(b, FE1));
  assert_true(a[FE1] < b[FE1]);

  /* Curve of growth: 10x the abundance gives the weak line 10x the
   * equivalent width, the saturated line much less; its core stays above 0.08. */
  const double cg[NL] = {4500, 4.5, 0.0, 0.0}, cg_poor[NL] = {4500, 4.5, -1.0, 0.0};
  eval(ds, cg, a);
  eval(ds, cg_poor, b);
  print_message("curve of growth: weak %.4f / %.4f, saturated %.3f / %.3f px, core %.3f\n", ew(a, FE1), ew(b, FE1),
                ew(a, STRONG), ew(b, STRONG), a[STRONG]);
  assert_true(ew(a, FE1) > 7.0 * ew(b, FE1));
  assert_true(ew(a, STRONG) < 3.0 * ew(b, STRONG) && ew(a, STRONG) > ew(b, STRONG));
  assert_true(a[STRONG] < 0.2f && a[STRONG] > 0.08f);

  /* Teff up: the neutral line of the low-ionisation-potential Ti weakens
   * (more of it is ionised), and so does Fe I. */
  const double cool[NL] = {4500, 4.5, 0.0, 0.0}, hot[NL] = {6500, 4.5, 0.0, 0.0};
  eval(ds, cool, a);
  eval(ds, hot, b);
  print_message("Ti I EW: 4500 K %.4f, 6500 K %.4f; Fe I %.4f, %.4f\n", ew(a, TI1), ew(b, TI1), ew(a, FE1),
                ew(b, FE1));
  assert_true(ew(a, TI1) > 1.5 * ew(b, TI1));
  assert_true(ew(a, FE1) > ew(b, FE1));

  /* [alpha/Fe] up: the Mg line deepens, the Fe lines do not change at all. */
  const double a0[NL] = {5777, 4.44, -0.5, 0.0}, a4[NL] = {5777, 4.44, -0.5, 0.4};
  eval(ds, a0, a);
  eval(ds, a4, b);
  print_message("Mg I EW: [a/Fe]=0 %.4f, 0.4 %.4f\n", ew(a, MG1), ew(b, MG1));
  assert_true(ew(b, MG1) > 1.3 * ew(a, MG1));
  for (size_t p = FE1 - 40; p <= FE1 + 40; p++) assert_true(a[p] == b[p]);

  /* log g down: the Fe II line strengthens (less H- opacity, ionisation
   * equilibrium unchanged for a mostly ionised species). */
  const double giant[NL] = {5777, 2.0, 0.0, 0.0}, dwarf[NL] = {5777, 4.5, 0.0, 0.0};
  eval(ds, giant, a);
  eval(ds, dwarf, b);
  print_message("Fe II EW: log g 2 %.4f, 4.5 %.4f\n", ew(a, FE2), ew(b, FE2));
  assert_true(ew(a, FE2) > 1.5 * ew(b, FE2));

  /* log g up: pressure broadening. For a weak line the profile shape is the
   * normalised opacity profile, so the wing-to-core ratio measures its width. */
  const double lo_g[NL] = {5777, 1.0, 0.0, 0.0}, hi_g[NL] = {5777, 5.0, 0.0, 0.0};
  eval(ds, lo_g, a);
  eval(ds, hi_g, b);
  double ra = (1.0 - a[WEAK + 4]) / (1.0 - a[WEAK]), rb = (1.0 - b[WEAK + 4]) / (1.0 - b[WEAK]);
  print_message("weak line depth %.4f / %.4f, wing/core at 4 px: log g 1 %.4f, log g 5 %.4f\n", 1 - a[WEAK],
                1 - b[WEAK], ra, rb);
  assert_true(1 - a[WEAK] < 0.2 && 1 - b[WEAK] < 0.2);
  assert_true(rb > 1.5 * ra);
  free(a);
  free(b);
  cls_spectra_destroy(ds);
  cls_spectra_destroy(base);
}

static void test_smooth_in_labels(void **state) {
  (void)state;
  cls_spectra_config c = small_config(11);
  cls_spectra *ds = make(&c);
  size_t np = c.n_pixels;
  float *f0 = malloc(np * sizeof *f0), *f1 = malloc(np * sizeof *f1), *f2 = malloc(np * sizeof *f2);
  const double *raw = cls_spectra_labels_raw(ds, CLS_SPLIT_TRAIN);
  double worst_ratio = 0, worst_step = 0;
  for (size_t i = 0; i < 16; i++)
    for (int k = 0; k < NL; k++) {
      double lab[NL];
      memcpy(lab, raw + i * NL, sizeof lab);
      double h = 1e-3 * (c.label_max[k] - c.label_min[k]);
      if (lab[k] + h > c.label_max[k]) h = -h;
      eval(ds, lab, f0);
      lab[k] += h;
      eval(ds, lab, f1);
      lab[k] += h * 9.0; /* 10 h from the start */
      eval(ds, lab, f2);
      double d1 = 0, d10 = 0;
      for (size_t p = 0; p < np; p++) {
        d1 = fmax(d1, fabs((double)f1[p] - f0[p]));
        d10 = fmax(d10, fabs((double)f2[p] - f0[p]));
      }
      worst_step = fmax(worst_step, d1);
      /* A step 10x smaller moves the flux about 10x less: no jumps. */
      if (d10 > 1e-4) worst_ratio = fmax(worst_ratio, d1 / d10);
    }
  print_message("largest flux change for a 0.1%% label step: %.2e; largest (step / 10 step) ratio %.3f\n",
                worst_step, worst_ratio);
  assert_true(worst_step < 0.02);
  assert_true(worst_ratio < 0.2);
  free(f0);
  free(f1);
  free(f2);
  cls_spectra_destroy(ds);
}

/* Flux at a pixel subset equals the full spectrum's bitwise, and the cache
 * changes nothing. */
static void test_sparse_equals_dense(void **state) {
  (void)state;
  cls_spectra_config c = small_config(9);
  cls_spectra *ds = make(&c);
  c.cache_bytes = 0;
  cls_spectra *nc = make(&c);
  assert_true(cls_spectra_is_cached(ds, CLS_SPLIT_TRAIN));
  assert_false(cls_spectra_is_cached(nc, CLS_SPLIT_TRAIN));
  size_t np = c.n_pixels;
  float *full = malloc(np * sizeof *full), *part = malloc(np * sizeof *part);
  uint32_t pix[7] = {3999, 0, 17, 17, 2500, 1234, 1};
  const double *raw = cls_spectra_labels_raw(ds, CLS_SPLIT_VAL);
  eval(ds, raw, full);
  assert_int_equal(cls_spectra_eval(ds, raw, pix, 7, part, NULL, 0), CLS_OK);
  for (int k = 0; k < 7; k++) assert_true(part[k] == full[pix[k]]);
  assert_int_equal(cls_spectra_flux(ds, CLS_SPLIT_VAL, 0, part, NULL, 0), CLS_OK);
  assert_memory_equal(part, full, np * sizeof *full);
  assert_int_equal(cls_spectra_flux(nc, CLS_SPLIT_VAL, 0, part, NULL, 0), CLS_OK);
  assert_memory_equal(part, full, np * sizeof *full);
  assert_int_equal(cls_spectra_precompute(ds, CLS_SPLIT_VAL, NULL, 0), CLS_OK);
  assert_int_equal(cls_spectra_flux(ds, CLS_SPLIT_VAL, 0, part, NULL, 0), CLS_OK);
  assert_memory_equal(part, full, np * sizeof *full);
  /* A cache budget too small for train: no cache for it, still the same flux. */
  c.cache_bytes = np * sizeof(float) * 20;
  cls_spectra *small = make(&c);
  assert_false(cls_spectra_is_cached(small, CLS_SPLIT_TRAIN));
  assert_true(cls_spectra_is_cached(small, CLS_SPLIT_VAL));
  free(full);
  free(part);
  cls_spectra_destroy(ds);
  cls_spectra_destroy(nc);
  cls_spectra_destroy(small);
}

/* --------------------------------------------------------------- errors */

static void expect_bad(cls_spectra_config c, cls_status want, const char *needle) {
  cls_spectra *ds = (cls_spectra *)&c; /* must be reset to NULL */
  char err[512] = "";
  cls_status s = cls_spectra_create(&c, &ds, err, sizeof err);
  if (s != want || !strstr(err, needle)) fail_msg("got %d '%s', want %d mentioning '%s'", s, err, want, needle);
  assert_null(ds);
}

static void test_bad_configs(void **state) {
  (void)state;
  cls_spectra_config c = small_config(1), b;
  b = c, b.n_pixels = 0, expect_bad(b, CLS_ERR_INVALID_SIZE, "n_pixels");
  b = c, b.n_pixels = 1, expect_bad(b, CLS_ERR_INVALID_SIZE, "n_pixels");
  b = c, b.lambda_min = 6000, expect_bad(b, CLS_ERR_INVALID_VALUE, "lambda_min");
  b = c, b.lambda_max = b.lambda_min, expect_bad(b, CLS_ERR_INVALID_VALUE, "lambda_min");
  b = c, b.lambda_min = NAN, expect_bad(b, CLS_ERR_INVALID_VALUE, "lambda_min");
  b = c, b.lambda_max = INFINITY, expect_bad(b, CLS_ERR_INVALID_VALUE, "lambda_max");
  b = c, b.lambda_min = -1, expect_bad(b, CLS_ERR_INVALID_VALUE, "positive");
  b = c, b.resolution = 0, expect_bad(b, CLS_ERR_INVALID_VALUE, "resolution");
  b = c, b.resolution = NAN, expect_bad(b, CLS_ERR_INVALID_VALUE, "resolution");
  b = c, b.n_train = 0, expect_bad(b, CLS_ERR_INVALID_SIZE, "n_train");
  b = c, b.label_min[CLS_LABEL_TEFF] = NAN, expect_bad(b, CLS_ERR_INVALID_VALUE, "teff");
  b = c, b.label_max[CLS_LABEL_LOGG] = -1, expect_bad(b, CLS_ERR_INVALID_VALUE, "logg");
  b = c, b.label_max[CLS_LABEL_FEH] = 3, expect_bad(b, CLS_ERR_INVALID_VALUE, "feh");
  cls_spectral_line bad = {5000, CLS_SPECIES_COUNT, 1, 1, 0, 1};
  b = c, b.lines = &bad, b.n_user_lines = 1, expect_bad(b, CLS_ERR_INVALID_VALUE, "lines[0]");
  bad.species = CLS_SPECIES_FE, bad.log_gf = NAN;
  b = c, b.lines = &bad, b.n_user_lines = 1, expect_bad(b, CLS_ERR_INVALID_VALUE, "lines[0]");
  char err[256];
  cls_spectra *ds;
  assert_int_equal(cls_spectra_create(NULL, &ds, err, sizeof err), CLS_ERR_NULL_ARGUMENT);
  assert_int_equal(cls_spectra_create(&c, NULL, NULL, 0), CLS_ERR_NULL_ARGUMENT);

  /* Bad calls on a good dataset. */
  ds = make(&c);
  float f[4000];
  assert_int_equal(cls_spectra_flux(ds, CLS_SPLIT_TRAIN, 48, f, err, sizeof err), CLS_ERR_INVALID_VALUE);
  assert_non_null(strstr(err, "out of range"));
  assert_int_equal(cls_spectra_flux(ds, (cls_split)3, 0, f, err, sizeof err), CLS_ERR_INVALID_VALUE);
  const double nan_lab[NL] = {5000, NAN, 0, 0}, hot[NL] = {20000, 4, 0, 0};
  assert_int_equal(cls_spectra_eval(ds, nan_lab, NULL, 4000, f, err, sizeof err), CLS_ERR_INVALID_VALUE);
  assert_non_null(strstr(err, "logg"));
  assert_int_equal(cls_spectra_eval(ds, hot, NULL, 4000, f, err, sizeof err), CLS_ERR_INVALID_VALUE);
  const double ok[NL] = {5000, 4, 0, 0};
  uint32_t pix = 4000;
  assert_int_equal(cls_spectra_eval(ds, ok, &pix, 1, f, err, sizeof err), CLS_ERR_INVALID_VALUE);
  assert_int_equal(cls_spectra_eval(ds, ok, NULL, 10, f, err, sizeof err), CLS_ERR_INVALID_SIZE);
  cls_spectra_destroy(ds);
}

/* -------------------------------------------------------------- speed */

static double seconds(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* Not a timed test: reports the generation rate for the record. */
static void test_report_speed(void **state) {
  (void)state;
  cls_spectra_config c = small_config(1);
  c.n_train = 400;
  c.cache_bytes = 0;
  cls_spectra *ds = make(&c);
  float *f = malloc(c.n_pixels * sizeof *f);
  double t0 = seconds();
  for (size_t i = 0; i < c.n_train; i++)
    assert_int_equal(cls_spectra_flux(ds, CLS_SPLIT_TRAIN, i, f, NULL, 0), CLS_OK);
  double t1 = seconds();
  print_message("generation: %.0f spectra/s (%zu pixels, %zu lines, 1 thread)\n", (double)c.n_train / (t1 - t0),
                c.n_pixels, c.n_lines);
  free(f);
  cls_spectra_destroy(ds);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_same_seed_same_data),
      cmocka_unit_test(test_pinned_labels),
      cmocka_unit_test(test_nested_datasets),
      cmocka_unit_test(test_labels_in_range_and_disjoint),
      cmocka_unit_test(test_flux_bounds),
      cmocka_unit_test(test_continuum_away_from_lines),
      cmocka_unit_test(test_physics),
      cmocka_unit_test(test_smooth_in_labels),
      cmocka_unit_test(test_sparse_equals_dense),
      cmocka_unit_test(test_bad_configs),
      cmocka_unit_test(test_report_speed),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
