/*
 * src/data/spectra_internal.h — what the spectra files share: the dataset
 * struct, the per-line constants, and the per-star synthesis.
 */
#ifndef CLSCALE_DATA_SPECTRA_INTERNAL_H
#define CLSCALE_DATA_SPECTRA_INTERNAL_H

#include "data/spectra.h"

/* RNG streams (the Philox counter's top word) of the spectra generator. */
enum {
  CLS__STREAM_LINES = 0x5300,  /* the line list */
  CLS__STREAM_LABELS = 0x5310, /* + split: the labels of a split */
  CLS__STREAM_SAMPLE = 0x5320  /* + split: the batch sampler of a split */
};

/* Lines are evaluated out to where their optical depth falls to this floor,
 * and never beyond CLS__MAX_HALF_WIDTH pixels of their centre. */
#define CLS__TAU_FLOOR      1e-4
#define CLS__MAX_HALF_WIDTH 40.0
/* Random lines are drawn over the grid widened by this much in log(lambda). */
#define CLS__LINE_MARGIN 0.005
/* Largest depth of a saturated line: the core flux never drops below 1 - this. */
#define CLS__CORE_DEPTH 0.92

typedef struct cls__split_data {
  size_t n;
  double *raw;     /* [n x CLS_SPECTRA_N_LABELS] */
  float *norm;     /* same, normalised to [-1, 1] */
  float *cache;    /* [n x n_pixels] when the split fits in the cache budget, else NULL */
  uint8_t *filled; /* [n]: cache row valid */
} cls__split_data;

struct cls_spectra {
  cls_spectra_config cfg;
  cls_spectral_line *lines; /* sorted by wavelength; cfg.lines points here */
  size_t n_lines;
  double *wave; /* [n_pixels] Angstrom */
  double dlnl;  /* log-wavelength step of the grid */
  /* Per-line constants, precomputed once (structure of arrays). */
  float *pos;        /* centre as a fractional pixel index */
  double *log_const; /* every label-independent term of log10 of the line strength */
  double *chi;       /* excitation potential, eV */
  double *damp;      /* pressure-broadening multiplier */
  unsigned char *sp; /* species */
  unsigned char *ion;
  cls__split_data split[CLS_SPLIT_COUNT];
};

/* Line list: validates a user list, or draws n_lines from the seed over the
 * grid plus a margin; sorts by wavelength. Allocates *out. */
cls_status cls__lines_make(const cls_spectra_config *cfg, double dlnl, cls_spectral_line **out, size_t *n,
                           char *err, size_t err_len);

/* Fills the per-line constant arrays of ds from ds->lines. */
void cls__lines_precompute(cls_spectra *ds);

/* Synthesises the flux of one star at the n sorted, ascending pixel indices
 * pix (NULL = every pixel, n = n_pixels) into flux. Returns CLS_ERR_OUT_OF_MEMORY
 * when scratch space cannot be had. */
cls_status cls__synth(const cls_spectra *ds, const double *raw_labels, const uint32_t *pix, size_t n, float *flux);

/* cls__synth for pixel indices in any order (sorted internally when needed). */
cls_status cls__synth_any(const cls_spectra *ds, const double *raw_labels, const uint32_t *pix, size_t n,
                          float *flux);

/* Bounds of the labels the generator accepts (its physics is calibrated for
 * the default box; see docs/data.md). */
extern const double cls__label_valid_min[CLS_SPECTRA_N_LABELS];
extern const double cls__label_valid_max[CLS_SPECTRA_N_LABELS];
#endif
