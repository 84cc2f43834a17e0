/*
 * src/data/linelist.c — the species table and the seeded line list.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/rng.h"
#include "spectra_internal.h"

/* Asplund et al. (2009) solar abundances, NIST first ionisation potentials. */
static const cls_species_info species_table[CLS_SPECIES_COUNT] = {
    {"O", 1, 15.999, 13.618, 8.69}, {"Mg", 1, 24.305, 7.646, 7.60}, {"Si", 1, 28.086, 8.152, 7.51},
    {"Ca", 1, 40.078, 6.113, 6.34}, {"Ti", 1, 47.867, 6.828, 4.95}, {"V", 0, 50.942, 6.746, 3.93},
    {"Cr", 0, 51.996, 6.767, 5.64}, {"Mn", 0, 54.938, 7.434, 5.43}, {"Fe", 0, 55.845, 7.902, 7.50},
    {"Co", 0, 58.933, 7.881, 4.99}, {"Ni", 0, 58.693, 7.640, 6.22},
};

/* How the drawn lines share out among species (Fe dominates, as in real
 * optical spectra of cool stars), and which fraction of each species' lines
 * belong to the singly ionised stage. */
static const double species_weight[CLS_SPECIES_COUNT] = {0.02, 0.05, 0.08, 0.07, 0.12, 0.05,
                                                         0.10, 0.04, 0.35, 0.04, 0.08};
static const double ion2_fraction[CLS_SPECIES_COUNT] = {0.0,  0.10, 0.15, 0.10, 0.35, 0.20,
                                                        0.25, 0.10, 0.20, 0.05, 0.05};

const cls_species_info *cls_species(int species) {
  return species >= 0 && species < CLS_SPECIES_COUNT ? &species_table[species] : NULL;
}

/* Per-line draws: j indexes the field so adding a field never shifts others. */
enum { F_LAMBDA, F_SPECIES, F_ION, F_CHI, F_LOGGF, F_DAMP };

static void draw_line(cls_rng r, uint64_t i, double lnl_lo, double lnl_hi, cls_spectral_line *l) {
  l->wavelength = exp(cls_rng_range(r, i, F_LAMBDA, lnl_lo, lnl_hi));
  double u = cls_rng_uniform(r, i, F_SPECIES), acc = 0.0;
  int s = CLS_SPECIES_COUNT - 1;
  for (int k = 0; k < CLS_SPECIES_COUNT; k++) {
    acc += species_weight[k];
    if (u < acc) {
      s = k;
      break;
    }
  }
  l->species = s;
  l->ion = cls_rng_uniform(r, i, F_ION) < ion2_fraction[s] ? 2 : 1;
  if (s == CLS_SPECIES_O)
    l->chi_exc = cls_rng_range(r, i, F_CHI, 9.0, 11.0); /* O I lines come from high levels */
  else if (l->ion == 2)
    l->chi_exc = cls_rng_range(r, i, F_CHI, 2.0, 6.0);
  else
    l->chi_exc = cls_rng_range(r, i, F_CHI, 0.0, 5.5);
  /* Rare species get larger gf on average so that each shows some lines, as
   * in the real line lists (where only their strong transitions are seen). */
  double shift = 0.5 * (7.5 - species_table[s].log_eps_sun);
  l->log_gf = cls_rng_range(r, i, F_LOGGF, -4.5, 0.5) + shift;
  l->damping = pow(10.0, cls_rng_range(r, i, F_DAMP, -0.4, 0.4)) * (l->ion == 2 ? 0.5 : 1.0);
}

typedef struct {
  cls_spectral_line l;
  size_t index;
} keyed_line;

static int by_wavelength(const void *a, const void *b) {
  const keyed_line *x = a, *y = b;
  if (x->l.wavelength != y->l.wavelength) return x->l.wavelength < y->l.wavelength ? -1 : 1;
  return x->index < y->index ? -1 : (x->index > y->index);
}

cls_status cls__lines_make(const cls_spectra_config *cfg, double dlnl, cls_spectral_line **out, size_t *n,
                           char *err, size_t err_len) {
  size_t count = cfg->lines ? cfg->n_user_lines : cfg->n_lines;
  if (cfg->lines) {
    for (size_t i = 0; i < count; i++) {
      const cls_spectral_line *l = &cfg->lines[i];
      if (!(l->wavelength > 0 && isfinite(l->wavelength) && isfinite(l->chi_exc) && l->chi_exc >= 0 &&
            isfinite(l->log_gf) && isfinite(l->damping) && l->damping >= 0))
        return cls_errf(err, err_len, CLS_ERR_INVALID_VALUE,
                        "cls_spectra_create: lines[%zu] has a non-finite or negative wavelength, "
                        "chi_exc, log_gf or damping; give finite values (wavelength > 0)",
                        i);
      if (l->species < 0 || l->species >= CLS_SPECIES_COUNT || (l->ion != 1 && l->ion != 2))
        return cls_errf(err, err_len, CLS_ERR_INVALID_VALUE,
                        "cls_spectra_create: lines[%zu] has species %d ion %d; use a CLS_SPECIES_* "
                        "value and ion 1 (neutral) or 2 (singly ionised)",
                        i, l->species, l->ion);
    }
  }
  keyed_line *k = malloc((count ? count : 1) * sizeof *k);
  if (!k)
    return cls_errf(err, err_len, CLS_ERR_OUT_OF_MEMORY, "cls_spectra_create: no memory for %zu lines", count);
  /* Lines just outside the grid still reach into it: draw over a margin of
   * 0.5% in wavelength (at least a line's widest window), fixed so that the
   * drawn lines do not depend on n_pixels or the resolution. */
  double margin = fmax(CLS__LINE_MARGIN, CLS__MAX_HALF_WIDTH * dlnl);
  double lo = log(cfg->lambda_min) - margin, hi = log(cfg->lambda_max) + margin;
  cls_rng r = cls_rng_make(cfg->seed, CLS__STREAM_LINES);
  for (size_t i = 0; i < count; i++) {
    if (cfg->lines)
      k[i].l = cfg->lines[i];
    else
      draw_line(r, i, lo, hi, &k[i].l);
    k[i].index = i;
  }
  qsort(k, count, sizeof *k, by_wavelength);
  cls_spectral_line *lines = malloc((count ? count : 1) * sizeof *lines);
  if (!lines) {
    free(k);
    return cls_errf(err, err_len, CLS_ERR_OUT_OF_MEMORY, "cls_spectra_create: no memory for %zu lines", count);
  }
  for (size_t i = 0; i < count; i++) lines[i] = k[i].l;
  free(k);
  *out = lines;
  *n = count;
  return CLS_OK;
}
