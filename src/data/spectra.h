/*
 * src/data/spectra.h — synthetic stellar spectra: the emulator's dataset.
 *
 * A dataset is a line list drawn once from the seed, a log-uniform wavelength
 * grid, and three disjoint sets of stellar labels (train, val, test). The flux
 * of a spectrum is a pure function of its labels, the line list and the grid,
 * computed on demand (and kept in memory while the dataset is small enough),
 * so the same config gives bitwise the same labels and flux in any order of
 * access. The physics, the ranges and the split rules are in docs/data.md.
 *
 * Functions that can fail return a cls_status and, when err is not NULL,
 * write a one-line message into err. Nothing here prints, exits or aborts.
 * A dataset is not safe to use from two threads at once (the flux cache fills
 * lazily); after cls_spectra_precompute() reads of a cached split are.
 */
#ifndef CLSCALE_DATA_SPECTRA_H
#define CLSCALE_DATA_SPECTRA_H

#include <stddef.h>
#include <stdint.h>

#include "clscale/status.h"
#include "data/split.h"

/* ------------------------------------------------------------------ labels */

enum {
  CLS_LABEL_TEFF = 0,  /* effective temperature, K */
  CLS_LABEL_LOGG = 1,  /* log10 surface gravity, cgs */
  CLS_LABEL_FEH = 2,   /* [Fe/H], dex: scales every metal */
  CLS_LABEL_ALPHA = 3, /* [alpha/Fe], dex: scales O, Mg, Si, Ca, Ti on top of [Fe/H] */
  CLS_SPECTRA_N_LABELS = 4
};

/* "teff", "logg", "feh", "alpha_fe"; NULL out of range. */
const char *cls_spectra_label_name(int label);

/* -------------------------------------------------------------- line list */

enum {
  CLS_SPECIES_O, /* alpha elements */
  CLS_SPECIES_MG,
  CLS_SPECIES_SI,
  CLS_SPECIES_CA,
  CLS_SPECIES_TI,
  CLS_SPECIES_V, /* iron-peak elements */
  CLS_SPECIES_CR,
  CLS_SPECIES_MN,
  CLS_SPECIES_FE,
  CLS_SPECIES_CO,
  CLS_SPECIES_NI,
  CLS_SPECIES_COUNT
};

typedef struct cls_species_info {
  const char *symbol; /* "Fe" */
  int alpha;          /* 1: abundance follows [Fe/H] + [alpha/Fe]; 0: iron peak, follows [Fe/H] */
  double mass;        /* atomic mass, u (thermal broadening) */
  double chi_ion;     /* first ionisation potential, eV (Saha) */
  double log_eps_sun; /* solar abundance, log10(N/N_H) + 12 */
} cls_species_info;

/* The species table; NULL out of range. */
const cls_species_info *cls_species(int species);

typedef struct cls_spectral_line {
  double wavelength; /* centre, Angstrom */
  int species;       /* CLS_SPECIES_* */
  int ion;           /* 1 = neutral (Fe I), 2 = singly ionised (Fe II) */
  double chi_exc;    /* excitation potential of the lower level, eV */
  double log_gf;     /* log10 of oscillator strength times statistical weight */
  double damping;    /* pressure-broadening multiplier of this line (1 = typical) */
} cls_spectral_line;

/* ----------------------------------------------------------------- config */

typedef struct cls_spectra_config {
  uint64_t seed;                  /* line list, labels: everything random comes from it */
  size_t n_pixels;                /* wavelength grid size (default 4000) */
  double lambda_min;              /* Angstrom (default 5000); the grid is uniform in log(lambda) */
  double lambda_max;              /* Angstrom (default 5800: free of Balmer lines, which the generator lacks) */
  double resolution;              /* instrumental resolving power lambda / FWHM (default 12000) */
  size_t n_lines;                 /* lines drawn from the seed (default 2500); ignored when lines is set */
  const cls_spectral_line *lines; /* optional explicit line list (copied); NULL = draw n_lines */
  size_t n_user_lines;            /* entries in lines */
  size_t n_train;                 /* dataset size D (default 1024) */
  size_t n_val;                   /* default 256; may be 0 */
  size_t n_test;                  /* default 256; may be 0 */
  double label_min[CLS_SPECTRA_N_LABELS]; /* label box the labels are drawn from (uniformly) and */
  double label_max[CLS_SPECTRA_N_LABELS]; /* normalised against; defaults below */
  size_t cache_bytes;                     /* memory allowed for cached flux (default 256 MiB; 0 = never cache) */
} cls_spectra_config;

/* Defaults: Teff 3500..8000 K, log g 0..5, [Fe/H] -2.5..+0.5, [alpha/Fe]
 * -0.2..+0.6, and the values noted above. */
void cls_spectra_config_default(cls_spectra_config *cfg);

/* --------------------------------------------------------------- dataset */

typedef struct cls_spectra cls_spectra;

/* Validates cfg (CLS_ERR_INVALID_VALUE / CLS_ERR_INVALID_SIZE with a message
 * naming the field), draws the line list and the labels of every split and
 * makes the label sets disjoint. */
cls_status cls_spectra_create(const cls_spectra_config *cfg, cls_spectra **out, char *err, size_t err_len);
void cls_spectra_destroy(cls_spectra *ds);

const cls_spectra_config *cls_spectra_get_config(const cls_spectra *ds); /* lines points to the copy */
size_t cls_spectra_count(const cls_spectra *ds, cls_split split);        /* 0 for an unknown split */
size_t cls_spectra_n_pixels(const cls_spectra *ds);
size_t cls_spectra_n_lines(const cls_spectra *ds);
const cls_spectral_line *cls_spectra_lines(const cls_spectra *ds); /* sorted by wavelength */

/* The grid: n_pixels wavelengths in Angstrom, lambda_min first, lambda_max last. */
const double *cls_spectra_wavelength(const cls_spectra *ds);

/* Labels of a split, row-major [count x CLS_SPECTRA_N_LABELS]: raw (physical
 * units) and normalised to [-1, 1] by the config's label box
 * (x' = 2 (x - min) / (max - min) - 1). NULL for an unknown split. */
const double *cls_spectra_labels_raw(const cls_spectra *ds, cls_split split);
const float *cls_spectra_labels(const cls_spectra *ds, cls_split split);

/* Raw labels -> normalised, and back (n vectors). */
void cls_spectra_normalise(const cls_spectra *ds, const double *raw, float *norm, size_t n);
void cls_spectra_denormalise(const cls_spectra *ds, const float *norm, double *raw, size_t n);

/* The flux of spectrum index of split (n_pixels values in (0, 1]). */
cls_status cls_spectra_flux(cls_spectra *ds, cls_split split, size_t index, float *flux, char *err,
                            size_t err_len);

/* The flux for arbitrary raw labels (any values in the generator's validity
 * range, see docs/data.md) at n pixel indices (NULL = all n_pixels), in the
 * order given. Never cached. */
cls_status cls_spectra_eval(const cls_spectra *ds, const double *raw_labels, const uint32_t *pixels, size_t n,
                            float *flux, char *err, size_t err_len);

/* Fills the cache of a split (if it fits in cache_bytes); a no-op otherwise. */
cls_status cls_spectra_precompute(cls_spectra *ds, cls_split split, char *err, size_t err_len);
/* Whether split's flux is cached in memory. */
int cls_spectra_is_cached(const cls_spectra *ds, cls_split split);

/* ---------------------------------------------------------------- batches */

/* The training sampler: a pure function of (sample_seed, split, step). Draws
 * n_spec spectrum indices of split uniformly with replacement into spec, and
 * for each n_pix distinct, ascending pixel indices into pix (row b holds the
 * pixels of spectrum b): pixel k of a row is drawn uniformly from the k-th of
 * n_pix equal strata of the grid, so every part of the spectrum is seen each
 * step. n_pix must be <= n_pixels. */
cls_status cls_spectra_sample(const cls_spectra *ds, cls_split split, uint64_t sample_seed, uint64_t step,
                              size_t n_spec, size_t n_pix, uint32_t *spec, uint32_t *pix, char *err,
                              size_t err_len);

/* Gathers a batch: for b < n_spec, labels[b*4 .. b*4+3] (normalised; NULL to
 * skip) of spectrum spec[b], and flux[b*n_pix + k] at pixel pix[b*n_pix + k].
 * Pixels of a row may come in any order. Uses the cache when the split has
 * one, else computes only the pixels asked for. */
cls_status cls_spectra_gather(cls_spectra *ds, cls_split split, size_t n_spec, const uint32_t *spec, size_t n_pix,
                              const uint32_t *pix, float *labels, float *flux, char *err, size_t err_len);

#endif
