/*
 * src/data/spectra.c — the spectra dataset: config checks, the grid, the
 * labels of each split (made disjoint), the flux cache and the accessors.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/rng.h"
#include "spectra_internal.h"

const double cls__label_valid_min[CLS_SPECTRA_N_LABELS] = {3000.0, -0.5, -4.0, -0.5};
const double cls__label_valid_max[CLS_SPECTRA_N_LABELS] = {10000.0, 5.5, 1.0, 1.0};

static const char *const label_names[CLS_SPECTRA_N_LABELS] = {"teff", "logg", "feh", "alpha_fe"};

/* Indices in samplers and gathers are uint32_t. */
#define MAX_SPECTRA 0x7fffffffu
#define MAX_PIXELS  (1u << 24)
#define MAX_LINES   (1u << 22)

const char *cls_spectra_label_name(int label) {
  return label >= 0 && label < CLS_SPECTRA_N_LABELS ? label_names[label] : NULL;
}

void cls_spectra_config_default(cls_spectra_config *cfg) {
  memset(cfg, 0, sizeof *cfg);
  cfg->seed = 1;
  cfg->n_pixels = 4000;
  cfg->lambda_min = 5000.0;
  cfg->lambda_max = 5800.0;
  cfg->resolution = 12000.0;
  cfg->n_lines = 2500;
  cfg->n_train = 1024;
  cfg->n_val = 256;
  cfg->n_test = 256;
  const double lo[CLS_SPECTRA_N_LABELS] = {3500.0, 0.0, -2.5, -0.2};
  const double hi[CLS_SPECTRA_N_LABELS] = {8000.0, 5.0, 0.5, 0.6};
  for (int k = 0; k < CLS_SPECTRA_N_LABELS; k++) {
    cfg->label_min[k] = lo[k];
    cfg->label_max[k] = hi[k];
  }
  cfg->cache_bytes = (size_t)256 << 20;
}

static cls_status check_config(const cls_spectra_config *c, char *err, size_t err_len) {
  const char *w = "cls_spectra_create";
  if (c->n_pixels < 2 || c->n_pixels > MAX_PIXELS)
    return cls_errf(err, err_len, CLS_ERR_INVALID_SIZE, "%s: n_pixels is %zu; use 2 .. %u pixels", w, c->n_pixels,
                    MAX_PIXELS);
  if (!(isfinite(c->lambda_min) && isfinite(c->lambda_max) && c->lambda_min > 0.0))
    return cls_errf(err, err_len, CLS_ERR_INVALID_VALUE,
                    "%s: lambda_min %g / lambda_max %g must be finite and positive (Angstrom)", w, c->lambda_min,
                    c->lambda_max);
  if (!(c->lambda_min < c->lambda_max))
    return cls_errf(err, err_len, CLS_ERR_INVALID_VALUE,
                    "%s: lambda_min %g is not below lambda_max %g; give the window as min < max", w, c->lambda_min,
                    c->lambda_max);
  if (!(isfinite(c->resolution) && c->resolution >= 100.0 && c->resolution <= 1e7))
    return cls_errf(err, err_len, CLS_ERR_INVALID_VALUE,
                    "%s: resolution %g is out of range; use a resolving power lambda/FWHM in 100 .. 1e7", w,
                    c->resolution);
  size_t nl = c->lines ? c->n_user_lines : c->n_lines;
  if (nl > MAX_LINES)
    return cls_errf(err, err_len, CLS_ERR_INVALID_SIZE, "%s: %zu lines is too many; use at most %u", w, nl,
                    MAX_LINES);
  if (c->n_train == 0)
    return cls_errf(err, err_len, CLS_ERR_INVALID_SIZE,
                    "%s: n_train is 0; the training split (the dataset size D) needs at least 1 spectrum", w);
  if (c->n_train > MAX_SPECTRA || c->n_val > MAX_SPECTRA || c->n_test > MAX_SPECTRA ||
      c->n_train + c->n_val + c->n_test > MAX_SPECTRA)
    return cls_errf(err, err_len, CLS_ERR_INVALID_SIZE,
                    "%s: n_train + n_val + n_test is too large; use at most %u spectra in all", w, MAX_SPECTRA);
  for (int k = 0; k < CLS_SPECTRA_N_LABELS; k++) {
    double lo = c->label_min[k], hi = c->label_max[k];
    if (!(isfinite(lo) && isfinite(hi) && lo < hi && lo >= cls__label_valid_min[k] &&
          hi <= cls__label_valid_max[k]))
      return cls_errf(err, err_len, CLS_ERR_INVALID_VALUE,
                      "%s: label %s range [%g, %g] is invalid; give finite min < max within the "
                      "generator's range [%g, %g]",
                      w, label_names[k], lo, hi, cls__label_valid_min[k], cls__label_valid_max[k]);
  }
  return CLS_OK;
}

void cls_spectra_normalise(const cls_spectra *ds, const double *raw, float *norm, size_t n) {
  for (size_t i = 0; i < n; i++)
    for (int k = 0; k < CLS_SPECTRA_N_LABELS; k++) {
      double lo = ds->cfg.label_min[k], hi = ds->cfg.label_max[k];
      size_t q = i * CLS_SPECTRA_N_LABELS + (size_t)k;
      norm[q] = (float)(2.0 * (raw[q] - lo) / (hi - lo) - 1.0);
    }
}

void cls_spectra_denormalise(const cls_spectra *ds, const float *norm, double *raw, size_t n) {
  for (size_t i = 0; i < n; i++)
    for (int k = 0; k < CLS_SPECTRA_N_LABELS; k++) {
      double lo = ds->cfg.label_min[k], hi = ds->cfg.label_max[k];
      size_t q = i * CLS_SPECTRA_N_LABELS + (size_t)k;
      raw[q] = lo + 0.5 * ((double)norm[q] + 1.0) * (hi - lo);
    }
}

/* Draws labels of spectrum i of split s; attempt > 0 after a collision. */
static void draw_labels(const cls_spectra *ds, int s, size_t i, uint32_t attempt, double *raw) {
  cls_rng r = cls_rng_make(ds->cfg.seed, CLS__STREAM_LABELS + (uint32_t)s);
  for (int k = 0; k < CLS_SPECTRA_N_LABELS; k++) {
    double u = cls_rng_uniform(r, i, (uint32_t)k + 16u * attempt);
    raw[k] = ds->cfg.label_min[k] + (ds->cfg.label_max[k] - ds->cfg.label_min[k]) * u;
  }
}

typedef struct {
  const float *v;
  int split;
  size_t index;
} label_ref;

static int cmp_vec(const float *a, const float *b) {
  for (int k = 0; k < CLS_SPECTRA_N_LABELS; k++)
    if (a[k] != b[k]) return a[k] < b[k] ? -1 : 1;
  return 0;
}

static int cmp_ref(const void *pa, const void *pb) {
  const label_ref *a = pa, *b = pb;
  int c = cmp_vec(a->v, b->v);
  if (c) return c;
  if (a->split != b->split) return a->split < b->split ? -1 : 1;
  return a->index < b->index ? -1 : (a->index > b->index);
}

/* Splits come from different RNG streams, so they are independent draws; on
 * top of that no normalised label vector (what the model sees) may occur
 * twice in the whole dataset: every repeat after the first (in the order
 * train, val, test, then index) is redrawn from the next attempt until none is
 * left. With 53-bit uniforms a repeat is practically never drawn, so this is
 * a guarantee, not a change of distribution. */
static cls_status make_disjoint(cls_spectra *ds, char *err, size_t err_len) {
  size_t total = 0;
  for (int s = 0; s < CLS_SPLIT_COUNT; s++) total += ds->split[s].n;
  label_ref *refs = malloc(total * sizeof *refs);
  uint32_t *attempts[CLS_SPLIT_COUNT] = {0};
  int ok = refs != NULL;
  for (int s = 0; s < CLS_SPLIT_COUNT && ok; s++)
    ok = (attempts[s] = calloc(ds->split[s].n + 1, sizeof(uint32_t))) != NULL;
  cls_status st = CLS_OK;
  if (!ok) st = cls_errf(err, err_len, CLS_ERR_OUT_OF_MEMORY, "cls_spectra_create: no memory for labels");
  for (int round = 0; st == CLS_OK; round++) {
    size_t m = 0;
    for (int s = 0; s < CLS_SPLIT_COUNT; s++)
      for (size_t i = 0; i < ds->split[s].n; i++) {
        refs[m].v = ds->split[s].norm + i * CLS_SPECTRA_N_LABELS;
        refs[m].split = s;
        refs[m++].index = i;
      }
    qsort(refs, m, sizeof *refs, cmp_ref);
    size_t redrawn = 0;
    for (size_t q = 1; q < m; q++) {
      if (cmp_vec(refs[q - 1].v, refs[q].v) != 0) continue;
      int s = refs[q].split;
      size_t i = refs[q].index;
      double *raw = ds->split[s].raw + i * CLS_SPECTRA_N_LABELS;
      draw_labels(ds, s, i, ++attempts[s][i], raw);
      cls_spectra_normalise(ds, raw, ds->split[s].norm + i * CLS_SPECTRA_N_LABELS, 1);
      redrawn++;
    }
    if (redrawn == 0) break;
    if (round > 64)
      st = cls_errf(err, err_len, CLS_ERR_INVALID_VALUE,
                    "cls_spectra_create: cannot make %zu label vectors distinct; widen the label ranges", total);
  }
  free(refs);
  for (int s = 0; s < CLS_SPLIT_COUNT; s++) free(attempts[s]);
  return st;
}

void cls_spectra_destroy(cls_spectra *ds) {
  if (!ds) return;
  free(ds->lines);
  free(ds->wave);
  free(ds->pos);
  free(ds->log_const);
  free(ds->chi);
  free(ds->damp);
  free(ds->sp);
  free(ds->ion);
  for (int s = 0; s < CLS_SPLIT_COUNT; s++) {
    free(ds->split[s].raw);
    free(ds->split[s].norm);
    free(ds->split[s].cache);
    free(ds->split[s].filled);
  }
  free(ds);
}

cls_status cls_spectra_create(const cls_spectra_config *cfg, cls_spectra **out, char *err, size_t err_len) {
  if (!cfg || !out)
    return cls_errf(err, err_len, CLS_ERR_NULL_ARGUMENT, "cls_spectra_create: %s is NULL", cfg ? "out" : "cfg");
  *out = NULL;
  cls_status st = check_config(cfg, err, err_len);
  if (st != CLS_OK) return st;
  cls_spectra *ds = calloc(1, sizeof *ds);
  if (!ds) return cls_errf(err, err_len, CLS_ERR_OUT_OF_MEMORY, "cls_spectra_create: no memory");
  ds->cfg = *cfg;
  size_t np = cfg->n_pixels;
  ds->dlnl = (log(cfg->lambda_max) - log(cfg->lambda_min)) / (double)(np - 1);
  st = cls__lines_make(cfg, ds->dlnl, &ds->lines, &ds->n_lines, err, err_len);
  if (st != CLS_OK) {
    cls_spectra_destroy(ds);
    return st;
  }
  ds->cfg.lines = ds->lines;
  ds->cfg.n_user_lines = cfg->lines ? ds->n_lines : 0;
  size_t nl = ds->n_lines ? ds->n_lines : 1;
  ds->wave = malloc(np * sizeof *ds->wave);
  ds->pos = malloc(nl * sizeof *ds->pos);
  ds->log_const = malloc(nl * sizeof *ds->log_const);
  ds->chi = malloc(nl * sizeof *ds->chi);
  ds->damp = malloc(nl * sizeof *ds->damp);
  ds->sp = malloc(nl);
  ds->ion = malloc(nl);
  int ok = ds->wave && ds->pos && ds->log_const && ds->chi && ds->damp && ds->sp && ds->ion;
  const size_t counts[CLS_SPLIT_COUNT] = {cfg->n_train, cfg->n_val, cfg->n_test};
  for (int s = 0; s < CLS_SPLIT_COUNT && ok; s++) {
    size_t n = counts[s], m = (n ? n : 1) * CLS_SPECTRA_N_LABELS;
    ds->split[s].n = n;
    ds->split[s].raw = malloc(m * sizeof(double));
    ds->split[s].norm = malloc(m * sizeof(float));
    ok = ds->split[s].raw && ds->split[s].norm;
  }
  if (!ok) {
    cls_spectra_destroy(ds);
    return cls_errf(err, err_len, CLS_ERR_OUT_OF_MEMORY, "cls_spectra_create: no memory for %zu spectra",
                    cfg->n_train + cfg->n_val + cfg->n_test);
  }
  /* The exponential of a multiple of the step, not a running product, so
   * every pixel's wavelength is exact to rounding and the last is lambda_max. */
  for (size_t p = 0; p < np; p++) ds->wave[p] = cfg->lambda_min * exp(ds->dlnl * (double)p);
  ds->wave[np - 1] = cfg->lambda_max;
  cls__lines_precompute(ds);
  for (int s = 0; s < CLS_SPLIT_COUNT; s++)
    for (size_t i = 0; i < ds->split[s].n; i++) {
      double *raw = ds->split[s].raw + i * CLS_SPECTRA_N_LABELS;
      draw_labels(ds, s, i, 0, raw);
      cls_spectra_normalise(ds, raw, ds->split[s].norm + i * CLS_SPECTRA_N_LABELS, 1);
    }
  st = make_disjoint(ds, err, err_len);
  if (st != CLS_OK) {
    cls_spectra_destroy(ds);
    return st;
  }
  /* Cache splits in the order they are used most (train, val, test) while the
   * budget lasts. A refused allocation only means no cache. */
  size_t budget = cfg->cache_bytes;
  for (int s = 0; s < CLS_SPLIT_COUNT; s++) {
    size_t n = ds->split[s].n;
    if (n == 0 || np > budget / sizeof(float) / n) continue;
    size_t bytes = n * np * sizeof(float);
    ds->split[s].cache = malloc(bytes);
    ds->split[s].filled = calloc(n, 1);
    if (!ds->split[s].cache || !ds->split[s].filled) {
      free(ds->split[s].cache);
      free(ds->split[s].filled);
      ds->split[s].cache = NULL;
      ds->split[s].filled = NULL;
      continue;
    }
    budget -= bytes;
  }
  *out = ds;
  return CLS_OK;
}

const cls_spectra_config *cls_spectra_get_config(const cls_spectra *ds) {
  return &ds->cfg;
}

static int split_ok(cls_split s) {
  return (int)s >= 0 && (int)s < CLS_SPLIT_COUNT;
}

size_t cls_spectra_count(const cls_spectra *ds, cls_split split) {
  return split_ok(split) ? ds->split[split].n : 0;
}
size_t cls_spectra_n_pixels(const cls_spectra *ds) {
  return ds->cfg.n_pixels;
}
size_t cls_spectra_n_lines(const cls_spectra *ds) {
  return ds->n_lines;
}
const cls_spectral_line *cls_spectra_lines(const cls_spectra *ds) {
  return ds->lines;
}
const double *cls_spectra_wavelength(const cls_spectra *ds) {
  return ds->wave;
}
const double *cls_spectra_labels_raw(const cls_spectra *ds, cls_split split) {
  return split_ok(split) ? ds->split[split].raw : NULL;
}
const float *cls_spectra_labels(const cls_spectra *ds, cls_split split) {
  return split_ok(split) ? ds->split[split].norm : NULL;
}
int cls_spectra_is_cached(const cls_spectra *ds, cls_split split) {
  return split_ok(split) && ds->split[split].cache != NULL;
}

/* The cached row of spectrum i, computed on first use; NULL without a cache. */
static const float *cached_row(cls_spectra *ds, cls_split s, size_t i) {
  cls__split_data *d = &ds->split[s];
  if (!d->cache) return NULL;
  float *row = d->cache + i * ds->cfg.n_pixels;
  if (!d->filled[i]) {
    cls__synth(ds, d->raw + i * CLS_SPECTRA_N_LABELS, NULL, ds->cfg.n_pixels, row);
    d->filled[i] = 1;
  }
  return row;
}

static cls_status check_index(const cls_spectra *ds, const char *w, cls_split split, size_t index, char *err,
                              size_t err_len) {
  if (!split_ok(split))
    return cls_errf(err, err_len, CLS_ERR_INVALID_VALUE, "%s: split %d is not train, val or test", w, (int)split);
  if (index >= ds->split[split].n)
    return cls_errf(err, err_len, CLS_ERR_INVALID_VALUE, "%s: spectrum %zu is out of range; the %s split has %zu",
                    w, index, cls_split_name(split), ds->split[split].n);
  return CLS_OK;
}

cls_status cls_spectra_flux(cls_spectra *ds, cls_split split, size_t index, float *flux, char *err,
                            size_t err_len) {
  const char *w = "cls_spectra_flux";
  if (!ds || !flux) return cls_errf(err, err_len, CLS_ERR_NULL_ARGUMENT, "%s: %s is NULL", w, ds ? "flux" : "ds");
  cls_status st = check_index(ds, w, split, index, err, err_len);
  if (st != CLS_OK) return st;
  const float *row = cached_row(ds, split, index);
  if (row) {
    memcpy(flux, row, ds->cfg.n_pixels * sizeof *flux);
    return CLS_OK;
  }
  return cls__synth(ds, ds->split[split].raw + index * CLS_SPECTRA_N_LABELS, NULL, ds->cfg.n_pixels, flux);
}

cls_status cls_spectra_precompute(cls_spectra *ds, cls_split split, char *err, size_t err_len) {
  if (!ds) return cls_errf(err, err_len, CLS_ERR_NULL_ARGUMENT, "cls_spectra_precompute: ds is NULL");
  if (!split_ok(split))
    return cls_errf(err, err_len, CLS_ERR_INVALID_VALUE,
                    "cls_spectra_precompute: split %d is not train, val or test", (int)split);
  for (size_t i = 0; ds->split[split].cache && i < ds->split[split].n; i++) cached_row(ds, split, i);
  return CLS_OK;
}

typedef struct {
  uint32_t pix;
  uint32_t at;
} pix_ref;

static int cmp_pix(const void *pa, const void *pb) {
  const pix_ref *a = pa, *b = pb;
  if (a->pix != b->pix) return a->pix < b->pix ? -1 : 1;
  return a->at < b->at ? -1 : (a->at > b->at);
}

cls_status cls__synth_any(const cls_spectra *ds, const double *raw_labels, const uint32_t *pix, size_t n,
                          float *flux) {
  size_t k = 1;
  while (k < n && pix[k - 1] <= pix[k]) k++;
  if (k >= n) return cls__synth(ds, raw_labels, pix, n, flux);
  pix_ref *ref = malloc(n * sizeof *ref);
  uint32_t *sorted = malloc(n * sizeof *sorted);
  float *tmp = malloc(n * sizeof *tmp);
  cls_status st = CLS_ERR_OUT_OF_MEMORY;
  if (ref && sorted && tmp) {
    for (size_t q = 0; q < n; q++) {
      ref[q].pix = pix[q];
      ref[q].at = (uint32_t)q;
    }
    qsort(ref, n, sizeof *ref, cmp_pix);
    for (size_t q = 0; q < n; q++) sorted[q] = ref[q].pix;
    st = cls__synth(ds, raw_labels, sorted, n, tmp);
    for (size_t q = 0; q < n; q++) flux[ref[q].at] = tmp[q];
  }
  free(ref);
  free(sorted);
  free(tmp);
  return st;
}

cls_status cls_spectra_eval(const cls_spectra *ds, const double *raw_labels, const uint32_t *pixels, size_t n,
                            float *flux, char *err, size_t err_len) {
  const char *w = "cls_spectra_eval";
  if (!ds || !raw_labels || !flux)
    return cls_errf(err, err_len, CLS_ERR_NULL_ARGUMENT, "%s: %s is NULL", w,
                    !ds           ? "ds"
                    : !raw_labels ? "raw_labels"
                                  : "flux");
  for (int k = 0; k < CLS_SPECTRA_N_LABELS; k++)
    if (!(raw_labels[k] >= cls__label_valid_min[k] && raw_labels[k] <= cls__label_valid_max[k]))
      return cls_errf(err, err_len, CLS_ERR_INVALID_VALUE,
                      "%s: label %s = %g is outside the generator's range [%g, %g]", w, label_names[k],
                      raw_labels[k], cls__label_valid_min[k], cls__label_valid_max[k]);
  if (!pixels) {
    if (n != ds->cfg.n_pixels)
      return cls_errf(err, err_len, CLS_ERR_INVALID_SIZE,
                      "%s: without a pixel list n must be n_pixels (%zu), not %zu", w, ds->cfg.n_pixels, n);
    return cls__synth(ds, raw_labels, NULL, n, flux);
  }
  if (n > UINT32_MAX)
    return cls_errf(err, err_len, CLS_ERR_INVALID_SIZE, "%s: %zu pixels is too many for one call", w, n);
  for (size_t q = 0; q < n; q++)
    if (pixels[q] >= ds->cfg.n_pixels)
      return cls_errf(err, err_len, CLS_ERR_INVALID_VALUE, "%s: pixels[%zu] = %u is out of range (n_pixels %zu)",
                      w, q, pixels[q], ds->cfg.n_pixels);
  cls_status st = cls__synth_any(ds, raw_labels, pixels, n, flux);
  if (st != CLS_OK) return cls_errf(err, err_len, st, "%s: no memory for %zu pixels", w, n);
  return CLS_OK;
}
