/*
 * src/fit/powerlaw.c — the compute frontier (Chinchilla approach 1): the lower
 * envelope of every run's loss against measured FLOPs, fitted with
 * L(C) = E + k·C^(−γ) by a Huber loss on log-loss residuals, as the
 * parametric fit does, with a bootstrap over runs for intervals.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "fit/fit.h"

enum { FR_MAX_POINTS = 64, FR_STREAM = 0x46524f4eu /* "FRON" */ };

typedef struct {
  const double *u, *logl; /* u = ln(x / x_ref) */
  size_t n;
  double delta;
} fr_data;

/* log L̂ = log(exp(e) + exp(κ − γu)); x = {e, κ, γ}. */
static double fr_objective(void *user, const double *x, double *g, int n) {
  (void)n;
  const fr_data *d = user;
  double f = 0;
  g[0] = g[1] = g[2] = 0;
  for (size_t i = 0; i < d->n; i++) {
    double w[2], h;
    double r = cls__lse2(x[0], x[1] - x[2] * d->u[i], w) - d->logl[i];
    f += cls__huber(r, d->delta, &h);
    g[0] += h * w[0];
    g[1] += h * w[1];
    g[2] -= h * w[1] * d->u[i];
  }
  return f;
}

/* E = 0: log L̂ = κ − γu; x = {κ, γ}. */
static double fr_objective_zero(void *user, const double *x, double *g, int n) {
  (void)n;
  const fr_data *d = user;
  double f = 0;
  g[0] = g[1] = 0;
  for (size_t i = 0; i < d->n; i++) {
    double h;
    double r = x[0] - x[1] * d->u[i] - d->logl[i];
    f += cls__huber(r, d->delta, &h);
    g[0] += h;
    g[1] -= h * d->u[i];
  }
  return f;
}

static int cmp_pair(const void *a, const void *b) {
  const double *x = a, *y = b;
  if (x[0] != y[0]) return (x[0] > y[0]) - (x[0] < y[0]);
  return (x[1] > y[1]) - (x[1] < y[1]);
}

/* The lower envelope of the curves of the runs with take[i] != 0: rows sorted
 * by C, kept when their loss is below every loss at smaller or equal C; then
 * at most FR_MAX_POINTS, the lowest per log-spaced bin, so that a dense early
 * part of the curves does not outweigh the rest. A run's rows below skip x
 * its final C are left out: the first steps (warm-up, the plateau before
 * the loss starts to fall) are transients, not compute-limited loss, and a
 * power law fitted through them bends the frontier. Returns the count. */
static size_t envelope(const cls_fit_input *in, const int *take, double skip, double *c, double *l,
                       size_t *runs_used) {
  size_t m = 0;
  for (size_t i = 0; i < in->n_pts; i++)
    if (take[i]) m += in->pts[i].curve_n;
  double *rows = malloc((m ? m : 1) * 2 * sizeof *rows);
  if (!rows) return 0;
  m = 0;
  for (size_t i = 0; i < in->n_pts; i++) {
    if (!take[i]) continue;
    double last = 0;
    for (size_t r = 0; r < in->pts[i].curve_n; r++) last = fmax(last, in->curve_c[in->pts[i].curve0 + r]);
    for (size_t r = 0; r < in->pts[i].curve_n; r++) {
      if (in->curve_c[in->pts[i].curve0 + r] < skip * last) continue;
      rows[2 * m] = in->curve_c[in->pts[i].curve0 + r];
      rows[2 * m + 1] = in->curve_l[in->pts[i].curve0 + r];
      m++;
    }
  }
  qsort(rows, m, 2 * sizeof *rows, cmp_pair);
  size_t k = 0;
  double best = INFINITY;
  for (size_t i = 0; i < m; i++) {
    if (rows[2 * i + 1] < best) {
      best = rows[2 * i + 1];
      /* same C as the previous kept row: that one had a higher loss */
      if (k && rows[2 * (k - 1)] == rows[2 * i]) k--;
      rows[2 * k] = rows[2 * i], rows[2 * k + 1] = rows[2 * i + 1];
      k++;
    }
  }
  size_t out = 0;
  if (k <= FR_MAX_POINTS) {
    for (size_t i = 0; i < k; i++) c[out] = rows[2 * i], l[out++] = rows[2 * i + 1];
  } else {
    double lo = log(rows[0]), hi = log(rows[2 * (k - 1)]);
    for (size_t i = 0; i < k; i++) {
      int bin = (int)((log(rows[2 * i]) - lo) / (hi - lo) * FR_MAX_POINTS);
      if (bin >= FR_MAX_POINTS) bin = FR_MAX_POINTS - 1;
      bool last_of_bin = i + 1 == k;
      if (!last_of_bin) {
        int nb = (int)((log(rows[2 * (i + 1)]) - lo) / (hi - lo) * FR_MAX_POINTS);
        if (nb >= FR_MAX_POINTS) nb = FR_MAX_POINTS - 1;
        last_of_bin = nb != bin;
      }
      /* the envelope falls with C, so a bin's last row is its lowest */
      if (last_of_bin) c[out] = rows[2 * i], l[out++] = rows[2 * i + 1];
    }
  }
  free(rows);
  if (runs_used) {
    size_t r = 0;
    for (size_t i = 0; i < in->n_pts; i++) r += take[i] != 0;
    *runs_used = r;
  }
  return out;
}

int cls__fit_power_law(const double *x, const double *l, size_t n, double delta, bool floor_zero,
                       const double *start, double out[3], double *objective) {
  if (n < 2) return -1;
  double *buf = malloc(4 * n * sizeof *buf);
  if (!buf) return -1;
  double *lx = buf, *u = buf + n, *logl = buf + 2 * n, *y = buf + 3 * n;
  double xref = 0, lmin = INFINITY;
  for (size_t i = 0; i < n; i++) xref += log(x[i]), lmin = fmin(lmin, l[i]);
  xref /= (double)n; /* ln of the geometric mean: centring decouples κ from γ */
  for (size_t i = 0; i < n; i++) lx[i] = u[i] = log(x[i]) - xref, logl[i] = log(l[i]);
  fr_data d = {u, logl, n, delta};
  double best = INFINITY, bx[3] = {NAN, NAN, NAN};
  int rc = 0;
  if (floor_zero) {
    /* log L is a line in u: its least-squares fit starts the Huber fit. */
    double p[2], slope, icpt, fx;
    if (cls__fit_line(lx, logl, n, &slope, &icpt)) {
      rc = -1;
    } else {
      p[0] = icpt, p[1] = -slope;
      cls__fit_minimize(fr_objective_zero, &d, p, 2, &fx);
      best = fx, bx[0] = -INFINITY, bx[1] = p[0], bx[2] = p[1];
      if (start && isfinite(start[1]) && isfinite(start[2])) {
        double q[2] = {start[1], start[2]};
        cls__fit_minimize(fr_objective_zero, &d, q, 2, &fx);
        if (fx < best) best = fx, bx[1] = q[0], bx[2] = q[1];
      }
    }
  } else {
    /* Starts: for a guess E0 of the floor, log(L − E0) is a line in u. */
    static const double frac[6] = {0, 0.25, 0.5, 0.75, 0.9, 0.97};
    for (int s = 0; s < 7 && !rc; s++) {
      double p[3];
      if (s == 6) {
        if (!start) break;
        memcpy(p, start, sizeof p);
      } else {
        double e0 = frac[s] * lmin, slope, icpt;
        for (size_t i = 0; i < n; i++) y[i] = log(l[i] - e0);
        if (cls__fit_line(lx, y, n, &slope, &icpt)) {
          rc = -1;
          break;
        }
        p[0] = log(fmax(e0, 1e-3 * lmin));
        p[1] = icpt;
        p[2] = slope < 0 ? -slope : 0.1;
      }
      double fx;
      cls__fit_minimize(fr_objective, &d, p, 3, &fx);
      if (fx < best) best = fx, memcpy(bx, p, sizeof bx);
    }
  }
  free(buf);
  if (rc || !isfinite(best)) return -1;
  out[0] = exp(bx[0]);                /* 0 when E = 0 */
  out[1] = exp(bx[1] + bx[2] * xref); /* k·x^−γ = e^κ (x/x_ref)^−γ */
  out[2] = bx[2];
  if (objective) *objective = best;
  return isfinite(out[0]) && isfinite(out[1]) && isfinite(out[2]) ? 0 : -1;
}

void cls__fit_power_law_start(const double *x, size_t n, const double p[3], double start[3]) {
  double xref = 0;
  for (size_t i = 0; i < n; i++) xref += log(x[i]);
  xref /= (double)n;
  start[0] = log(p[0]), start[1] = log(p[1]) - p[2] * xref, start[2] = p[2];
}

cls_status cls_fit_frontier_run(const cls_fit_input *in, const cls_fit_options *o, cls_fit_frontier *out) {
  if (!in || !o || !out) return CLS_ERR_NULL_ARGUMENT;
  memset(out, 0, sizeof *out);
  out->E_ci.lo = out->E_ci.hi = out->k_ci.lo = out->k_ci.hi = out->gamma_ci.lo = out->gamma_ci.hi = NAN;
  int *take = malloc((in->n_pts ? in->n_pts : 1) * sizeof *take);
  out->c = malloc(FR_MAX_POINTS * sizeof *out->c);
  out->l = malloc(FR_MAX_POINTS * sizeof *out->l);
  if (!take || !out->c || !out->l) {
    free(take);
    return CLS_ERR_OUT_OF_MEMORY;
  }
  for (size_t i = 0; i < in->n_pts; i++) take[i] = 1;
  out->n = envelope(in, take, o->frontier_skip, out->c, out->l, &out->n_runs);
  if (in->n_pts < 2 || out->n < 3) {
    snprintf(out->why, sizeof out->why,
             "needs loss curves of at least 2 runs whose lower envelope has at least 3 points (have %zu run%s, "
             "%zu envelope point%s)",
             in->n_pts, in->n_pts == 1 ? "" : "s", out->n, out->n == 1 ? "" : "s");
    free(take);
    return CLS_OK;
  }
  double p[3];
  if (cls__fit_power_law(out->c, out->l, out->n, o->huber_delta, false, NULL, p, &out->objective)) {
    snprintf(out->why, sizeof out->why, "the optimiser found no finite fit of the %zu envelope points", out->n);
    free(take);
    return CLS_OK;
  }
  out->E = p[0], out->k = p[1], out->gamma = p[2];
  out->ok = true;
  /* Bootstrap over runs: each resample draws runs with replacement and
   * rebuilds the envelope from their curves (a repeated run changes nothing). */
  int B = o->bootstrap > 0 ? o->bootstrap : 0;
  out->n_boot = B;
  out->boot = malloc((size_t)(B ? B : 1) * 3 * sizeof *out->boot);
  double *bc = malloc(FR_MAX_POINTS * sizeof *bc), *bl = malloc(FR_MAX_POINTS * sizeof *bl);
  if (!out->boot || !bc || !bl) {
    free(take), free(bc), free(bl);
    return CLS_ERR_OUT_OF_MEMORY;
  }
  cls_rng rng = cls_rng_make(o->seed, FR_STREAM);
  for (int r = 0; r < B; r++) {
    memset(take, 0, in->n_pts * sizeof *take);
    for (size_t j = 0; j < in->n_pts; j++) take[cls_rng_below(rng, (uint64_t)r, (uint32_t)j, in->n_pts)] = 1;
    double *q = out->boot + 3 * r;
    q[0] = q[1] = q[2] = NAN;
    size_t used, m = envelope(in, take, o->frontier_skip, bc, bl, &used);
    if (used < 2 || m < 3) continue;
    double x0[3];
    cls__fit_power_law_start(bc, m, p, x0);
    if (cls__fit_power_law(bc, bl, m, o->huber_delta, false, x0, q, NULL)) {
      q[0] = q[1] = q[2] = NAN;
      continue;
    }
    out->boot_ok++;
  }
  double *v = malloc((size_t)(B ? B : 1) * sizeof *v);
  if (v) {
    cls_ci *ci[3] = {&out->E_ci, &out->k_ci, &out->gamma_ci};
    for (int k = 0; k < 3; k++) {
      for (int r = 0; r < B; r++) v[r] = out->boot[3 * r + k];
      *ci[k] = cls__fit_interval(v, (size_t)B, o->ci_level);
    }
  }
  free(v), free(take), free(bc), free(bl);
  return v || !B ? CLS_OK : CLS_ERR_OUT_OF_MEMORY;
}
