/*
 * src/data/synth.c — the flux of one star: line strengths from Saha and
 * Boltzmann populations over an H- continuum, pseudo-Voigt profiles with
 * thermal, microturbulent, instrumental and pressure broadening, and a
 * saturating map from optical depth to flux. docs/data.md gives the model.
 */
#include <math.h>
#include <stdlib.h>

#include "spectra_internal.h"

#define C_KMS      299792.458
#define K_OVER_AMU 8.31446e-3 /* Boltzmann constant / atomic mass unit, (km/s)^2 per K */
#define TEFF_SUN   5777.0
#define LOGG_SUN   4.44
/* Lines form above the photosphere: their layer is at 0.9 Teff. */
#define T_LAYER 0.9
/* Normalises line strengths (per pixel, relative to the solar continuum):
 * chosen so that the solar spectrum of the default line list and window has a
 * mean flux of about 0.9, the line density of a real optical spectrum at
 * R ~ 12000. */
#define LOG_STRENGTH0 (-5.0)
#define GAMMA_RAD_KMS 0.05 /* radiative damping, HWHM */
#define PI            3.14159265358979323846
#define LN10          2.302585092994046
#define GAMMA_VDW_KMS 1.0 /* van der Waals damping of a typical line in the Sun, HWHM */

/* Electron pressure (dyn cm^-2) of the line-forming layer: grows with gravity
 * as g^(1/3) (Gray's rule for cool photospheres) and steeply with temperature
 * (ionisation of metals, then of hydrogen). */
static double log_pe(double teff, double logg) {
  return 1.25 + (1.0 / 3.0) * (logg - LOGG_SUN) + 5.0 * log10(teff / TEFF_SUN);
}

/* H- continuous opacity per H atom, up to a constant (Gray: kappa ~ Pe
 * theta^2.5 10^(0.754 theta)). */
static double log_kappa(double teff, double logg) {
  double theta = 5040.0 / (T_LAYER * teff);
  return log_pe(teff, logg) + 2.5 * log10(theta) + 0.754 * theta;
}

void cls__lines_precompute(cls_spectra *ds) {
  double lnl0 = log(ds->cfg.lambda_min);
  for (size_t i = 0; i < ds->n_lines; i++) {
    const cls_spectral_line *l = &ds->lines[i];
    ds->pos[i] = (float)((log(l->wavelength) - lnl0) / ds->dlnl);
    /* Strength per pixel: gf N / kappa times lambda (the pixel width in
     * wavelength grows with lambda, the opacity per unit wavelength as lambda^2). */
    ds->log_const[i] =
        LOG_STRENGTH0 + l->log_gf + cls_species(l->species)->log_eps_sun + log10(l->wavelength / 5000.0);
    ds->chi[i] = l->chi_exc;
    ds->damp[i] = l->damping;
    ds->sp[i] = (unsigned char)l->species;
    ds->ion[i] = (unsigned char)l->ion;
  }
}

/* A line's profile in pixel units, ready for the inner loop:
 * tau(x) = max(0, al / (dx^2 + bl) + ag exp(-kg dx^2) - t) for |dx| <= w. */
typedef struct {
  float p, al, bl, ag, kg, t, w;
} line_eval;

typedef struct {
  double theta, log_kappa;
  double log_pop[CLS_SPECIES_COUNT][2]; /* log10 of abundance x stage fraction, minus kappa */
  float fwhm_g[CLS_SPECIES_COUNT];      /* Gaussian FWHM, pixels */
  double log_skip[CLS_SPECIES_COUNT];   /* lines with log10 S below this never reach the floor */
  double gamma_rad, gamma_vdw;          /* Lorentzian HWHM, pixels */
} star;

static void star_setup(const cls_spectra *ds, const double *lab, star *s) {
  double teff = lab[CLS_LABEL_TEFF], logg = lab[CLS_LABEL_LOGG], feh = lab[CLS_LABEL_FEH],
         afe = lab[CLS_LABEL_ALPHA];
  double t = T_LAYER * teff;
  s->theta = 5040.0 / t;
  s->log_kappa = log_kappa(teff, logg) - log_kappa(TEFF_SUN, LOGG_SUN);
  double lpe = log_pe(teff, logg);
  /* Microturbulence: larger in giants and hotter stars (a smooth fit of the
   * usual calibrations' trend), never below 0.3 km/s. */
  double vmic = fmax(0.3, 1.0 + 0.3 * (LOGG_SUN - logg) / LOGG_SUN + 0.4 * (teff - TEFF_SUN) / 2000.0);
  double sig_inst = C_KMS / (ds->cfg.resolution * 2.354820045);
  double kms_to_pix = 1.0 / (C_KMS * ds->dlnl);
  for (int k = 0; k < CLS_SPECIES_COUNT; k++) {
    const cls_species_info *sp = cls_species(k);
    /* Saha: log(N_II / N_I) with the partition-function ratio 2 U_II / U_I ~ 2. */
    double log_r = 0.3 + 2.5 * log10(t) - s->theta * sp->chi_ion - lpe - 0.1762;
    double l1p = log_r > 0 ? log_r + log10(1.0 + pow(10.0, -log_r)) : log10(1.0 + pow(10.0, log_r));
    double ab = feh + (sp->alpha ? afe : 0.0);
    s->log_pop[k][0] = ab - l1p - s->log_kappa;
    s->log_pop[k][1] = ab + log_r - l1p - s->log_kappa;
    double sig = sqrt(K_OVER_AMU * t / sp->mass + 0.5 * vmic * vmic + sig_inst * sig_inst);
    s->fwhm_g[k] = (float)(2.354820045 * sig * kms_to_pix);
    /* The profile peak is at most 0.9394 / fwhm_g (pure Gaussian). */
    s->log_skip[k] = log10(CLS__TAU_FLOOR * s->fwhm_g[k] / 0.9394372786996513);
  }
  /* Pressure (van der Waals) broadening ~ P_gas T^0.3, and the gas pressure of
   * a photosphere ~ g^(2/3). */
  s->gamma_rad = GAMMA_RAD_KMS * kms_to_pix;
  s->gamma_vdw =
      GAMMA_VDW_KMS * kms_to_pix * pow(10.0, (2.0 / 3.0) * (logg - LOGG_SUN)) * pow(teff / TEFF_SUN, 0.3);
}

/* Fills e for line i; returns 0 when the line stays below the floor everywhere.
 * Single precision from here on: the profile is evaluated in float anyway,
 * and float divisions, roots and exponentials are cheaper. */
static int line_setup(const cls_spectra *ds, const star *s, size_t i, line_eval *e) {
  int sp = ds->sp[i];
  double log_s = ds->log_const[i] + s->log_pop[sp][ds->ion[i] - 1] - s->theta * ds->chi[i];
  if (log_s <= s->log_skip[sp]) return 0;
  float strength = expf((float)(LN10 * log_s));
  float fg = s->fwhm_g[sp], fl = (float)(2.0 * (s->gamma_rad + ds->damp[i] * s->gamma_vdw));
  /* Pseudo-Voigt (Thompson, Cox & Hastings 1987; FWHM after Olivero 1977). */
  float f = 0.5346f * fl + sqrtf(0.2166f * fl * fl + fg * fg);
  float rho = fl / f;
  float eta = rho * (1.36603f - rho * (0.47719f - rho * 0.11116f));
  float al = strength * eta * 0.5f * f / (float)PI, bl = 0.25f * f * f;
  float ag = strength * (1.0f - eta) * 0.939437278f / f, kg = 2.77258872f / (f * f);
  const float wc = (float)CLS__MAX_HALF_WIDTH;
  /* Subtracting the floor t (or the profile's value at the widest allowed
   * window) makes each line reach zero at the edge of its window, so the flux
   * stays continuous in wavelength and in the labels. Beyond kg wc^2 = 80 the
   * Gaussian's share of that value is below 1e-34 ag: nothing. */
  float gauss_edge = kg * wc * wc < 80.0f ? ag * expf(-kg * wc * wc) : 0.0f;
  float t = fmaxf((float)CLS__TAU_FLOOR, al / (wc * wc + bl) + gauss_edge);
  if (al / bl + ag <= t) return 0;
  /* The window: beyond xg the Gaussian part, beyond xl the Lorentzian part is
   * below t / 2, so the line is below t (the loop bound only needs to be
   * conservative: the max(0, .) in the loop does the exact cut). */
  float xg = 2.0f * ag > t ? sqrtf(logf(2.0f * ag / t) / kg) : 0.0f;
  float xl2 = 2.0f * al / t - bl, xl = xl2 > 0.0f ? sqrtf(xl2) : 0.0f;
  e->p = ds->pos[i];
  e->al = al;
  e->bl = bl;
  e->ag = ag;
  e->kg = kg;
  e->t = t;
  e->w = fminf(wc, fmaxf(xg, xl));
  return 1;
}

static inline float line_tau(const line_eval *e, float x) {
  float dx = x - e->p, d2 = dx * dx;
  return e->al / (d2 + e->bl) + e->ag * expf(-e->kg * d2) - e->t;
}

/* First k in [0, n) with pix[k] >= v (n if none). */
static size_t lower_bound(const uint32_t *pix, size_t n, long v) {
  size_t lo = 0, hi = n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if ((long)pix[mid] < v)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}

cls_status cls__synth(const cls_spectra *ds, const double *raw_labels, const uint32_t *pix, size_t n,
                      float *flux) {
  star s;
  star_setup(ds, raw_labels, &s);
  long last = (long)ds->cfg.n_pixels - 1;
  float *tau = flux; /* accumulate optical depth in place, then map to flux */
  for (size_t k = 0; k < n; k++) tau[k] = 0.0f;
  for (size_t i = 0; i < ds->n_lines; i++) {
    line_eval e;
    if (!line_setup(ds, &s, i, &e)) continue;
    long lo = (long)ceilf(e.p - e.w), hi = (long)floorf(e.p + e.w);
    if (lo < 0) lo = 0;
    if (hi > last) hi = last;
    if (lo > hi) continue;
    if (!pix) {
      for (long x = lo; x <= hi; x++) {
        float v = line_tau(&e, (float)x);
        if (v > 0.0f) tau[x] += v;
      }
    } else {
      for (size_t k = lower_bound(pix, n, lo); k < n && (long)pix[k] <= hi; k++) {
        float v = line_tau(&e, (float)pix[k]);
        if (v > 0.0f) tau[k] += v;
      }
    }
  }
  /* Minnaert's saturation law: depth = tau d / (tau + d) is tau for weak
   * lines and tends to d as the line saturates, slowly (as 1/tau), so strong
   * cores are rounded like real ones rather than flat, and the residual flux
   * never drops below 1 - d. A line-free pixel stays exactly 1. */
  const float depth = (float)CLS__CORE_DEPTH;
  for (size_t k = 0; k < n; k++)
    if (tau[k] > 0.0f)
      flux[k] = 1.0f - depth * tau[k] / (tau[k] + depth);
    else
      flux[k] = 1.0f;
  return CLS_OK;
}
