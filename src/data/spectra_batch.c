/*
 * src/data/spectra_batch.c — the emulator's training batches: a deterministic
 * sampler of (spectrum, pixels) and the gather of labels and flux.
 */
#include <string.h>

#include "core/err.h"
#include "core/rng.h"
#include "spectra_internal.h"

static cls_status check_split(const cls_spectra *ds, const char *w, cls_split split, char *err, size_t err_len) {
  if ((int)split < 0 || (int)split >= CLS_SPLIT_COUNT)
    return cls_errf(err, err_len, CLS_ERR_INVALID_VALUE, "%s: split %d is not train, val or test", w, (int)split);
  if (ds->split[split].n == 0)
    return cls_errf(err, err_len, CLS_ERR_INVALID_SIZE,
                    "%s: the %s split is empty; give the config a nonzero n_%s", w, cls_split_name(split),
                    cls_split_name(split));
  return CLS_OK;
}

static cls_status check_batch(const cls_spectra *ds, const char *w, size_t n_spec, size_t n_pix, char *err,
                              size_t err_len) {
  if (n_spec == 0 || n_pix == 0)
    return cls_errf(err, err_len, CLS_ERR_INVALID_SIZE, "%s: n_spec (%zu) and n_pix (%zu) must be >= 1", w, n_spec,
                    n_pix);
  if (n_pix > ds->cfg.n_pixels)
    return cls_errf(err, err_len, CLS_ERR_INVALID_SIZE,
                    "%s: n_pix %zu exceeds the grid's %zu pixels; ask for at most n_pixels", w, n_pix,
                    ds->cfg.n_pixels);
  if (n_spec > UINT32_MAX / n_pix)
    return cls_errf(err, err_len, CLS_ERR_INVALID_SIZE,
                    "%s: n_spec x n_pix = %zu x %zu is too large for one batch", w, n_spec, n_pix);
  return CLS_OK;
}

cls_status cls_spectra_sample(const cls_spectra *ds, cls_split split, uint64_t sample_seed, uint64_t step,
                              size_t n_spec, size_t n_pix, uint32_t *spec, uint32_t *pix, char *err,
                              size_t err_len) {
  const char *w = "cls_spectra_sample";
  if (!ds || !spec || !pix)
    return cls_errf(err, err_len, CLS_ERR_NULL_ARGUMENT, "%s: %s is NULL", w, !ds ? "ds" : !spec ? "spec" : "pix");
  cls_status st = check_split(ds, w, split, err, err_len);
  if (st == CLS_OK) st = check_batch(ds, w, n_spec, n_pix, err, err_len);
  if (st != CLS_OK) return st;
  /* Two streams per split: which spectra, and which pixels. */
  cls_rng rs = cls_rng_make(sample_seed, CLS__STREAM_SAMPLE + 2u * (uint32_t)split);
  cls_rng rp = cls_rng_make(sample_seed, CLS__STREAM_SAMPLE + 2u * (uint32_t)split + 1u);
  uint64_t n = ds->split[split].n, np = ds->cfg.n_pixels;
  for (size_t b = 0; b < n_spec; b++) {
    spec[b] = (uint32_t)cls_rng_below(rs, step, (uint32_t)b, n);
    for (size_t k = 0; k < n_pix; k++) {
      /* Stratum k is [k np / n_pix, (k+1) np / n_pix): never empty, and the
       * strata tile the grid, so the pixels are distinct and ascending. */
      uint64_t lo = (uint64_t)k * np / n_pix, hi = (uint64_t)(k + 1) * np / n_pix;
      pix[b * n_pix + k] = (uint32_t)(lo + cls_rng_below(rp, step, (uint32_t)(b * n_pix + k), hi - lo));
    }
  }
  return CLS_OK;
}

cls_status cls_spectra_gather(cls_spectra *ds, cls_split split, size_t n_spec, const uint32_t *spec, size_t n_pix,
                              const uint32_t *pix, float *labels, float *flux, char *err, size_t err_len) {
  const char *w = "cls_spectra_gather";
  if (!ds || !spec || !pix || !flux)
    return cls_errf(err, err_len, CLS_ERR_NULL_ARGUMENT, "%s: %s is NULL", w,
                    !ds     ? "ds"
                    : !spec ? "spec"
                    : !pix  ? "pix"
                            : "flux");
  cls_status st = check_split(ds, w, split, err, err_len);
  if (st == CLS_OK) st = check_batch(ds, w, n_spec, n_pix, err, err_len);
  if (st != CLS_OK) return st;
  cls__split_data *d = &ds->split[split];
  /* Every index is checked before anything is written. */
  for (size_t b = 0; b < n_spec; b++) {
    if (spec[b] >= d->n)
      return cls_errf(err, err_len, CLS_ERR_INVALID_VALUE,
                      "%s: spec[%zu] = %u is out of range; the %s split has %zu", w, b, spec[b],
                      cls_split_name(split), d->n);
    for (size_t k = 0; k < n_pix; k++)
      if (pix[b * n_pix + k] >= ds->cfg.n_pixels)
        return cls_errf(err, err_len, CLS_ERR_INVALID_VALUE, "%s: pix[%zu] = %u is out of range (n_pixels %zu)", w,
                        b * n_pix + k, pix[b * n_pix + k], ds->cfg.n_pixels);
  }
  for (size_t b = 0; b < n_spec; b++) {
    size_t i = spec[b];
    const uint32_t *p = pix + b * n_pix;
    float *f = flux + b * n_pix;
    if (labels)
      memcpy(labels + b * CLS_SPECTRA_N_LABELS, d->norm + i * CLS_SPECTRA_N_LABELS,
             sizeof(float) * CLS_SPECTRA_N_LABELS);
    if (d->cache) {
      float *row = d->cache + i * ds->cfg.n_pixels;
      if (!d->filled[i]) {
        cls__synth(ds, d->raw + i * CLS_SPECTRA_N_LABELS, NULL, ds->cfg.n_pixels, row);
        d->filled[i] = 1;
      }
      for (size_t k = 0; k < n_pix; k++) f[k] = row[p[k]];
    } else {
      st = cls__synth_any(ds, d->raw + i * CLS_SPECTRA_N_LABELS, p, n_pix, f);
      if (st != CLS_OK) return cls_errf(err, err_len, st, "%s: no memory for %zu pixels", w, n_pix);
    }
  }
  return CLS_OK;
}
