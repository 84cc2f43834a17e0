/*
 * src/fit/parametric.c — Chinchilla approach 3: L(N,D) = E + A/N^α + B/D^β
 * fitted as Hoffmann et al. (2022) and Besiroglu et al. (2024) do: with
 * E = e^e, A = e^a, B = e^b the prediction is
 *   log L̂ = LSE(e, a − α log N, b − β log D),
 * the objective is Σ Huber_δ(log L̂ − log L) over the runs, minimised with
 * L-BFGS from a grid of starting points, the best end kept. Intervals come
 * from a bootstrap over runs.
 *
 * Internally log N and log D are centred (a' = a − α·log N_ref), a linear
 * change of variables that leaves the minimiser unchanged but makes the
 * problem far better conditioned, so noise-free data give the law back to
 * many digits.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "fit/fit.h"

enum { PAR_STREAM = 0x50415241u /* "PARA" */, PAR_KEEP = 4 };

/* Bounds on the cost in rows (issue 14: a fit must stay near-linear in
 * the rows at its default settings, and a 10^6-row CSV take seconds).
 * Above PAR_GRID_ROWS rows the grid of starts runs on a fixed random
 * subsample of that many rows and only its best PAR_KEEP ends are refined
 * on every row; above PAR_BOOT_ROWS each bootstrap resample draws
 * PAR_BOOT_ROWS rows (m-out-of-n) and its deviation from the full fit is
 * shrunk by sqrt(m/n), the standard rescaling for an estimator whose error
 * falls as 1/sqrt(rows). Fits of fewer rows (every sweep so far) are
 * exactly as before. */
enum { PAR_GRID_ROWS = 256, PAR_BOOT_ROWS = 2000 };

/* Hoffmann et al.'s grid: α, β ∈ {0, 0.5, …, 2}, e ∈ {−1, −0.5, …, 1.5},
 * a, b ∈ {0, 5, …, 25}: 5·5·6·6·6 = 5400 starts. */
#define PAR_GRID (5 * 5 * 6 * 6 * 6)

static void grid_start(int i, double x[5]) {
  int ia = i % 5, ib = (i / 5) % 5, ie = (i / 25) % 6, iA = (i / 150) % 6, iB = (i / 900) % 6;
  x[0] = -1 + 0.5 * ie;
  x[1] = 5.0 * iA;
  x[2] = 0.5 * ia;
  x[3] = 5.0 * iB;
  x[4] = 0.5 * ib;
}

typedef struct {
  const double *u, *v, *logl; /* centred log N, log D; log L */
  const double *w;            /* multiplicity of each run (bootstrap), NULL = 1 */
  size_t n;
  double delta;
  bool fix_e; /* E pinned (--fix-E): its gradient is held at 0, so L-BFGS never moves it */
} par_data;

/* x = {e, a', α, b', β} */
static double par_objective(void *user, const double *x, double *g, int n) {
  (void)n;
  const par_data *d = user;
  double f = 0;
  for (int k = 0; k < 5; k++) g[k] = 0;
  for (size_t i = 0; i < d->n; i++) {
    double wt = d->w ? d->w[i] : 1;
    if (wt == 0) continue;
    double s[3], h;
    double r = cls__lse3(x[0], x[1] - x[2] * d->u[i], x[3] - x[4] * d->v[i], s) - d->logl[i];
    f += wt * cls__huber(r, d->delta, &h);
    h *= wt;
    g[0] += h * s[0];
    g[1] += h * s[1];
    g[2] -= h * s[1] * d->u[i];
    g[3] += h * s[2];
    g[4] -= h * s[2] * d->v[i];
  }
  if (d->fix_e) g[0] = 0;
  return f;
}

/* raw {e, a, α, b, β} ↔ centred */
static void to_centred(const double raw[5], double lnref, double ldref, double x[5]) {
  x[0] = raw[0], x[1] = raw[1] - raw[2] * lnref, x[2] = raw[2], x[3] = raw[3] - raw[4] * ldref, x[4] = raw[4];
}

static void to_params(const double x[5], double lnref, double ldref, double p[5]) {
  p[0] = exp(x[0]);
  p[1] = exp(x[1] + x[2] * lnref);
  p[2] = x[2];
  p[3] = exp(x[3] + x[4] * ldref);
  p[4] = x[4];
}

/* The best PAR_KEEP distinct optima the starts reached, sorted by their
 * objective: the fit's answer is the first, and the bootstrap refits start
 * from all of them. */
typedef struct {
  double x[PAR_KEEP][5], f[PAR_KEEP];
  int n;
} par_keep;

/* Adds the optimum x (objective fx) to k: an optimum within 1e-4 of one
 * kept already replaces it when better; otherwise it takes a free place or
 * the worst one's, if better. */
static void keep_optimum(par_keep *k, const double x[5], double fx) {
  int same = -1;
  for (int i = 0; i < k->n && same < 0; i++) {
    double dmax = 0;
    for (int j = 0; j < 5; j++) dmax = fmax(dmax, fabs(k->x[i][j] - x[j]));
    if (dmax < 1e-4) same = i;
  }
  if (same >= 0) {
    if (fx < k->f[same]) k->f[same] = fx, memcpy(k->x[same], x, sizeof k->x[same]);
  } else if (k->n < PAR_KEEP || fx < k->f[k->n - 1]) {
    int i = k->n < PAR_KEEP ? k->n++ : k->n - 1;
    k->f[i] = fx, memcpy(k->x[i], x, sizeof k->x[i]);
  }
  /* keep sorted by objective */
  for (int i = k->n - 1; i > 0 && k->f[i] < k->f[i - 1]; i--) {
    double tf = k->f[i], tx[5];
    memcpy(tx, k->x[i], sizeof tx);
    k->f[i] = k->f[i - 1], memcpy(k->x[i], k->x[i - 1], sizeof tx);
    k->f[i - 1] = tf, memcpy(k->x[i - 1], tx, sizeof tx);
  }
}

/* Bootstrap over runs: multiplicities (in d->w) instead of copies, refits
 * from the kept optima of the full fit (the whole grid per resample would
 * cost hundreds of times more and, on these data, lands on the same
 * optima). w: room for the n multiplicities. Fills out->boot and the
 * intervals cis[] of the 5 parameters and of a and b. */
static cls_status bootstrap(par_data d, double *w, const par_keep *keep, double lnref, double ldref,
                            const cls_fit_options *o, cls_fit_parametric *out, cls_ci *cis[7]) {
  int B = o->bootstrap > 0 ? o->bootstrap : 0;
  out->n_boot = B;
  out->boot = malloc((size_t)(B ? B : 1) * 5 * sizeof *out->boot);
  if (!out->boot) return CLS_ERR_OUT_OF_MEMORY;
  cls_rng rng = cls_rng_make(o->seed, PAR_STREAM);
  size_t n = d.n;
  /* m-out-of-n above PAR_BOOT_ROWS rows (see the top), from the best
   * optimum only: a resample of that size lands in its basin. */
  size_t m = n > PAR_BOOT_ROWS ? PAR_BOOT_ROWS : n;
  int starts = n > PAR_BOOT_ROWS ? 1 : keep->n;
  double shrink = sqrt((double)m / (double)n);
  /* A resample of every row is n multiplicities in w; one of m < n rows is
   * its m rows copied (their cost is then m, not n, per evaluation). */
  par_data rs = d;
  double rows[3][PAR_BOOT_ROWS];
  if (m < n)
    rs.u = rows[0], rs.v = rows[1], rs.logl = rows[2], rs.n = m;
  else
    rs.w = w;
  for (int r = 0; r < B; r++) {
    if (m < n) {
      for (size_t i = 0; i < m; i++) {
        size_t j = (size_t)cls_rng_below(rng, (uint64_t)r, (uint32_t)i, n);
        rows[0][i] = d.u[j], rows[1][i] = d.v[j], rows[2][i] = d.logl[j];
      }
    } else {
      for (size_t i = 0; i < n; i++) w[i] = 0;
      for (size_t i = 0; i < n; i++) w[cls_rng_below(rng, (uint64_t)r, (uint32_t)i, n)] += 1;
    }
    double best = INFINITY, bx[5] = {0};
    for (int k = 0; k < starts; k++) {
      double x[5], fx;
      memcpy(x, keep->x[k], sizeof x);
      cls__fit_minimize(par_objective, &rs, x, 5, &fx);
      if (fx < best) best = fx, memcpy(bx, x, sizeof bx);
    }
    double *q = out->boot + 5 * r;
    if (isfinite(best)) {
      for (int j = 0; m < n && j < 5; j++) bx[j] = keep->x[0][j] + shrink * (bx[j] - keep->x[0][j]);
      to_params(bx, lnref, ldref, q);
      out->boot_ok++;
    } else {
      for (int k = 0; k < 5; k++) q[k] = NAN;
    }
  }
  double *tmp = malloc((size_t)(B ? B : 1) * sizeof *tmp);
  if (!tmp) return CLS_ERR_OUT_OF_MEMORY;
  for (int k = 0; k < 7; k++) {
    for (int r = 0; r < B; r++) {
      const double *q = out->boot + 5 * r;
      tmp[r] = k < 5 ? q[k] : k == 5 ? q[4] / (q[2] + q[4]) : q[2] / (q[2] + q[4]);
    }
    *cis[k] = cls__fit_interval(tmp, (size_t)B, o->ci_level);
  }
  free(tmp);
  return CLS_OK;
}

cls_status cls_fit_parametric_run(const cls_fit_input *in, const cls_fit_options *o, cls_fit_parametric *out) {
  if (!in || !o || !out) return CLS_ERR_NULL_ARGUMENT;
  memset(out, 0, sizeof *out);
  cls_ci *cis[7] = {&out->E_ci, &out->A_ci, &out->alpha_ci, &out->B_ci, &out->beta_ci, &out->a_ci, &out->b_ci};
  for (int k = 0; k < 7; k++) cis[k]->lo = cis[k]->hi = NAN;
  size_t n = in->n_pts;
  out->n = n;
  double *u = malloc((n ? n : 1) * sizeof *u), *v = malloc((n ? n : 1) * sizeof *v),
         *ll = malloc((n ? n : 1) * sizeof *ll), *w = malloc((n ? n : 1) * sizeof *w);
  out->predicted = malloc((n ? n : 1) * sizeof *out->predicted);
  out->residuals = malloc((n ? n : 1) * sizeof *out->residuals);
  cls_status st = u && v && ll && w && out->predicted && out->residuals ? CLS_OK : CLS_ERR_OUT_OF_MEMORY;
  double lnref = 0, ldref = 0;
  for (size_t i = 0; i < n && !st; i++) {
    u[i] = log(in->pts[i].n), v[i] = log(in->pts[i].d), ll[i] = log(in->pts[i].loss);
    lnref += u[i] / (double)n, ldref += v[i] / (double)n;
  }
  for (size_t i = 0; i < n && !st; i++) u[i] -= lnref, v[i] -= ldref, out->predicted[i] = NAN;
  if (!st && (n < 5 || cls__fit_distinct(u, n, 2) < 2 || cls__fit_distinct(v, n, 2) < 2)) {
    snprintf(out->why, sizeof out->why,
             "needs at least 5 runs with at least 2 distinct N and 2 distinct D for its 5 parameters (have %zu "
             "run%s)",
             n, n == 1 ? "" : "s");
    goto done;
  }
  if (st) goto done;
  par_data d = {u, v, ll, NULL, n, o->huber_delta, o->fix_E > 0};
  /* The grid's rows: all of them, or a fixed random subsample of
   * PAR_GRID_ROWS (multiplicities in w: a partial Fisher-Yates shuffle of
   * the indices, seeded, so the same data give the same fit). */
  par_data g = d;
  double sub_rows[3][PAR_GRID_ROWS];
  if (n > PAR_GRID_ROWS) {
    size_t *idx = malloc(n * sizeof *idx);
    if (!idx) {
      st = CLS_ERR_OUT_OF_MEMORY;
      goto done;
    }
    for (size_t i = 0; i < n; i++) idx[i] = i;
    cls_rng pick = cls_rng_make(o->seed, PAR_STREAM + 1);
    for (size_t i = 0; i < PAR_GRID_ROWS; i++) {
      size_t j = i + (size_t)cls_rng_below(pick, 0, (uint32_t)i, n - i), t = idx[i];
      idx[i] = idx[j], idx[j] = t;
      sub_rows[0][i] = u[idx[i]], sub_rows[1][i] = v[idx[i]], sub_rows[2][i] = ll[idx[i]];
    }
    free(idx);
    g.u = sub_rows[0], g.v = sub_rows[1], g.logl = sub_rows[2], g.n = PAR_GRID_ROWS;
  }
  /* Every start of the grid (or an evenly strided subset of it); the best
   * PAR_KEEP distinct ends are kept as starts for the bootstrap refits. */
  int starts = o->starts > 0 && o->starts < PAR_GRID ? o->starts : PAR_GRID;
  par_keep keep = {.n = 0};
  for (int s = 0; s < starts; s++) {
    double raw[5], x[5], fx;
    grid_start((int)((long)s * PAR_GRID / starts), raw);
    if (d.fix_e) raw[0] = log(o->fix_E);
    to_centred(raw, lnref, ldref, x);
    int ret = cls__fit_minimize(par_objective, &g, x, 5, &fx);
    out->n_converged += ret >= 0;
    if (!isfinite(fx)) continue;
    keep_optimum(&keep, x, fx);
  }
  out->n_starts = starts;
  if (g.n < n) {
    /* The subsample's best ends, refined on every row and ranked again;
     * above PAR_BOOT_ROWS rows only the best (the others would serve only
     * as starts of full resamples, which such fits do not draw). */
    par_keep sub = keep;
    keep.n = 0;
    for (int k = 0; k < (n > PAR_BOOT_ROWS ? 1 : sub.n); k++) {
      double fx;
      cls__fit_minimize(par_objective, &d, sub.x[k], 5, &fx);
      if (isfinite(fx)) keep_optimum(&keep, sub.x[k], fx);
    }
  }
  if (keep.n == 0) {
    snprintf(out->why, sizeof out->why, "no start of the optimiser reached a finite objective");
    goto done;
  }
  double p[5];
  to_params(keep.x[0], lnref, ldref, p);
  out->E = p[0], out->A = p[1], out->alpha = p[2], out->B = p[3], out->beta = p[4];
  out->a = p[4] / (p[2] + p[4]);
  out->b = p[2] / (p[2] + p[4]);
  out->objective = keep.f[0];
  for (size_t i = 0; i < n; i++) {
    out->predicted[i] = out->E + out->A / pow(in->pts[i].n, out->alpha) + out->B / pow(in->pts[i].d, out->beta);
    out->residuals[i] = log(in->pts[i].loss) - log(out->predicted[i]);
  }
  out->ok = true;
  st = bootstrap(d, w, &keep, lnref, ldref, o, out, cis);
done:
  free(u), free(v), free(ll), free(w);
  return st;
}
