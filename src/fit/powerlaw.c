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

enum { FR_MAX_POINTS = 64, FR_STREAM = 0x46524f4eu /* "FRON" */, FR_POISSON_STREAM = 0x46525053u /* "FRPS" */ };

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

/* Bounds on the bootstrap's cost in runs (issue 14: 10^6 rows in seconds).
 * A resample of FR_BOOT_RUNS runs or fewer draws n runs with replacement
 * (n draws, as always); above, each run's multiplicity is an independent
 * Poisson(1) variable (the Poisson bootstrap, which tends to the same
 * resampling as n grows: the multiplicities' dependence is O(1/n)). The
 * envelope only asks whether a run was drawn, P = 1 − 1/e per run, and a
 * counter-based draw per (resample, run) answers it for the runs the
 * envelope meets, so a resample's cost no longer grows with the runs that
 * cannot reach the envelope (the rows are sorted once for all resamples).
 * Fits of FR_BOOT_RUNS runs or fewer are as before, bit for bit. */
enum { FR_BOOT_RUNS = CLS__FR_BOOT_RUNS };

typedef struct {
  double c, l;
  size_t run;
} fr_row;

/* Ascending C, then loss, then run: a total order, so the walk below meets
 * the rows in the same order on every platform. */
static int cmp_row(const void *a, const void *b) {
  const fr_row *x = a, *y = b;
  if (x->c != y->c) return x->c < y->c ? -1 : 1;
  if (x->l != y->l) return x->l < y->l ? -1 : 1;
  return x->run < y->run ? -1 : x->run > y->run;
}

/* Every run's curve rows at or above skip × its final C, sorted once, and a
 * tree of the minimum loss over ranges of them (leaves: the rows, padded to
 * a power of two with +inf), which finds the next row below a loss in
 * O(log rows). A resample's envelope is a walk over this one sorted list:
 * the sorted rows of the drawn runs are a subsequence of it, in the same
 * order, so the envelope is the one a sort of those rows would give. */
typedef struct {
  fr_row *rows;
  size_t m, leaves;
  double *tree;    /* 2·leaves; tree[leaves + i] = rows[i].l */
  double *kc, *kl; /* scratch: the envelope before thinning */
} fr_sorted;

static void sorted_free(fr_sorted *s) {
  free(s->rows), free(s->tree), free(s->kc), free(s->kl);
}

static int sorted_make(const cls_fit_input *in, double skip, fr_sorted *s) {
  memset(s, 0, sizeof *s);
  size_t m = 0;
  for (size_t i = 0; i < in->n_pts; i++) m += in->pts[i].curve_n;
  s->rows = malloc((m ? m : 1) * sizeof *s->rows);
  s->kc = malloc((m ? m : 1) * sizeof *s->kc);
  s->kl = malloc((m ? m : 1) * sizeof *s->kl);
  if (!s->rows || !s->kc || !s->kl) return -1;
  m = 0;
  for (size_t i = 0; i < in->n_pts; i++) {
    const double *cc = in->curve_c + in->pts[i].curve0, *cl = in->curve_l + in->pts[i].curve0;
    double last = 0;
    for (size_t r = 0; r < in->pts[i].curve_n; r++) last = fmax(last, cc[r]);
    for (size_t r = 0; r < in->pts[i].curve_n; r++) {
      if (cc[r] < skip * last) continue;
      s->rows[m].c = cc[r], s->rows[m].l = cl[r], s->rows[m].run = i;
      m++;
    }
  }
  if (m > 1) qsort(s->rows, m, sizeof *s->rows, cmp_row);
  s->m = m;
  s->leaves = 1;
  while (s->leaves < m) s->leaves *= 2;
  s->tree = malloc(2 * s->leaves * sizeof *s->tree);
  if (!s->tree) return -1;
  for (size_t i = 0; i < s->leaves; i++) s->tree[s->leaves + i] = i < m ? s->rows[i].l : INFINITY;
  for (size_t i = s->leaves - 1; i >= 1; i--) s->tree[i] = fmin(s->tree[2 * i], s->tree[2 * i + 1]);
  return 0;
}

/* The first row at or after p whose loss is below x; s->m when none. */
static size_t first_below(const fr_sorted *s, size_t p, double x) {
  if (p >= s->m) return s->m;
  size_t i = s->leaves + p;
  /* up: from a node whose range has no such row to the range just right of
   * it (a left child's sibling; a right child climbs first) */
  while (!(s->tree[i] < x)) {
    while (i & 1) i >>= 1;
    if (i == 0) return s->m; /* climbed out of the root: none to the right */
    i++;
  }
  /* down: the leftmost leaf below x */
  while (i < s->leaves) i = s->tree[2 * i] < x ? 2 * i : 2 * i + 1;
  return i - s->leaves;
}

/* Which runs a resample drew: every run (the fit itself), the
 * multiplicities of a drawn resample (take, n draws), or, with take NULL, an
 * independent draw of each run as it is asked for (the Poisson bootstrap
 * above FR_BOOT_RUNS). */
typedef struct {
  bool all;
  const int *take;
  cls_rng rng;
  uint64_t r;
} fr_draw;

static bool drawn(const fr_draw *d, size_t run) {
  if (d->all) return true;
  if (d->take) return d->take[run] != 0;
  /* a Poisson(1) multiplicity is at least 1 with probability 1 − 1/e */
  return cls_rng_uniform(d->rng, d->r, (uint32_t)run) < 0.63212055882855767;
}

/* The lower envelope of the drawn runs' curves: rows by ascending C, kept
 * when their loss is below every loss at smaller or equal C; then at most
 * FR_MAX_POINTS, the lowest per log-spaced bin, so that a dense early part
 * of the curves does not outweigh the rest. Only the rows below the running
 * minimum are looked at (first_below), and only their runs' draws asked
 * for; *seen counts those rows (the bootstrap's work). A run's rows below
 * skip × its final C were left out by sorted_make: the first steps
 * (warm-up, the plateau before the loss starts to fall) are transients, not
 * compute-limited loss, and a power law fitted through them bends the
 * frontier. Returns the count; *two: whether at least 2 runs were drawn. */
static size_t envelope(const fr_sorted *s, size_t n_runs, const fr_draw *d, double *c, double *l, bool *two,
                       size_t *seen) {
  size_t k = 0, first = SIZE_MAX;
  bool many = false;
  double best = INFINITY;
  for (size_t p = first_below(s, 0, best); p < s->m; p = first_below(s, p + 1, best)) {
    const fr_row *w = &s->rows[p];
    if (seen) ++*seen;
    if (!drawn(d, w->run)) continue;
    if (first == SIZE_MAX) first = w->run;
    many |= w->run != first;
    best = w->l;
    /* same C as the previous kept row: that one had a higher loss */
    if (k && s->kc[k - 1] == w->c) k--;
    s->kc[k] = w->c, s->kl[k] = w->l;
    k++;
  }
  /* fewer than 2 runs among the envelope's: is any other drawn? */
  for (size_t i = 0; i < n_runs && !many; i++)
    if (drawn(d, i)) {
      if (first == SIZE_MAX)
        first = i;
      else
        many |= i != first;
    }
  *two = many;
  size_t out = 0;
  if (k <= FR_MAX_POINTS) {
    for (size_t i = 0; i < k; i++) c[out] = s->kc[i], l[out++] = s->kl[i];
  } else {
    double lo = log(s->kc[0]), hi = log(s->kc[k - 1]);
    for (size_t i = 0; i < k; i++) {
      int bin = (int)((log(s->kc[i]) - lo) / (hi - lo) * FR_MAX_POINTS);
      if (bin >= FR_MAX_POINTS) bin = FR_MAX_POINTS - 1;
      bool last_of_bin = i + 1 == k;
      if (!last_of_bin) {
        int nb = (int)((log(s->kc[i + 1]) - lo) / (hi - lo) * FR_MAX_POINTS);
        if (nb >= FR_MAX_POINTS) nb = FR_MAX_POINTS - 1;
        last_of_bin = nb != bin;
      }
      /* the envelope falls with C, so a bin's last row is its lowest */
      if (last_of_bin) c[out] = s->kc[i], l[out++] = s->kl[i];
    }
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
  size_t n = in->n_pts;
  bool poisson = n > FR_BOOT_RUNS;
  fr_sorted s;
  int *take = poisson ? NULL : malloc((n ? n : 1) * sizeof *take);
  out->c = malloc(FR_MAX_POINTS * sizeof *out->c);
  out->l = malloc(FR_MAX_POINTS * sizeof *out->l);
  if (sorted_make(in, o->frontier_skip, &s) || (!poisson && !take) || !out->c || !out->l) {
    sorted_free(&s), free(take);
    return CLS_ERR_OUT_OF_MEMORY;
  }
  fr_draw all = {.all = true};
  bool two;
  out->n = envelope(&s, n, &all, out->c, out->l, &two, NULL);
  out->n_runs = n;
  if (n < 2 || out->n < 3) {
    snprintf(out->why, sizeof out->why,
             "needs loss curves of at least 2 runs whose lower envelope has at least 3 points (have %zu run%s, "
             "%zu envelope point%s)",
             n, n == 1 ? "" : "s", out->n, out->n == 1 ? "" : "s");
    sorted_free(&s), free(take);
    return CLS_OK;
  }
  double p[3];
  if (cls__fit_power_law(out->c, out->l, out->n, o->huber_delta, false, NULL, p, &out->objective)) {
    snprintf(out->why, sizeof out->why, "the optimiser found no finite fit of the %zu envelope points", out->n);
    sorted_free(&s), free(take);
    return CLS_OK;
  }
  out->E = p[0], out->k = p[1], out->gamma = p[2];
  out->ok = true;
  /* Bootstrap over runs: each resample draws runs with replacement (or, above
   * FR_BOOT_RUNS, each run Poisson(1) times) and rebuilds the envelope from
   * their curves (a repeated run changes nothing). */
  int B = o->bootstrap > 0 ? o->bootstrap : 0;
  out->n_boot = B;
  out->boot = malloc((size_t)(B ? B : 1) * 3 * sizeof *out->boot);
  double *bc = malloc(FR_MAX_POINTS * sizeof *bc), *bl = malloc(FR_MAX_POINTS * sizeof *bl);
  if (!out->boot || !bc || !bl) {
    sorted_free(&s), free(take), free(bc), free(bl);
    return CLS_ERR_OUT_OF_MEMORY;
  }
  cls_rng rng = cls_rng_make(o->seed, FR_STREAM), runs = cls_rng_make(o->seed, FR_POISSON_STREAM);
  for (int r = 0; r < B; r++) {
    fr_draw d = {.take = take, .rng = runs, .r = (uint64_t)r};
    if (!poisson) {
      memset(take, 0, n * sizeof *take);
      for (size_t j = 0; j < n; j++) take[cls_rng_below(rng, (uint64_t)r, (uint32_t)j, n)] = 1;
      out->boot_rows += n;
    }
    double *q = out->boot + 3 * r;
    q[0] = q[1] = q[2] = NAN;
    size_t m = envelope(&s, n, &d, bc, bl, &two, &out->boot_rows);
    if (!two || m < 3) continue;
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
  sorted_free(&s);
  return v || !B ? CLS_OK : CLS_ERR_OUT_OF_MEMORY;
}
