/*
 * src/fit/collapse.c — the model-collapse fits (collapse.h): the points are
 * put into cells of (generation, pi) and, within a cell, by D; the modified
 * law of each pi is fitted to the cells' means with a Huber loss on
 * log-loss residuals, as the other laws of this layer are, and the
 * bootstrap redraws the seeds of every (cell, D) at once, so that the
 * floors, the exponent and the recovered gaps of one resample come from the
 * same data.
 */
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/rng.h"
#include "fit/collapse.h"

enum { CO_STREAM = 0x434f4c4cu /* "COLL" */, CO_MIN_D = 3 };
#define CO_AXIS "tokens"

/* ------------------------------------------------------------ the input */

static const cls_axis_kv *kv_of(const cls_axis_run *r, const char *key) {
  for (size_t k = 0; k < r->n_kv; k++)
    if (!strcmp(r->kv[k].key, key)) return &r->kv[k];
  return NULL;
}

static double num_of(const cls_axis_run *r, const char *key) {
  const cls_axis_kv *v = kv_of(r, key);
  return v && !v->text ? v->num : NAN;
}

double cls_fit_collapse_pi(cls_collapse_num_fn num, const void *point) {
  double pi = num(point, "real_fraction");
  return isnan(pi) ? num(point, "synthetic_fraction") : pi;
}

bool cls_fit_collapse_is_chain_key(const char *key) {
  /* corpus_real_fraction: pi again, as the gcd task's corpus writes it */
  static const char *const chain[] = {"generation", "real_fraction", "synthetic_fraction", "corpus_real_fraction"};
  for (size_t i = 0; key && i < sizeof chain / sizeof chain[0]; i++)
    if (!strcmp(key, chain[i])) return true;
  return false;
}

static double run_num(const void *r, const char *key) {
  return num_of(r, key);
}

static double pi_of(const cls_axis_run *r) {
  return cls_fit_collapse_pi(run_num, r);
}

bool cls_fit_collapse_applies(const cls_axis_input *in) {
  if (!in || !in->n_runs) return false;
  for (size_t i = 0; i < in->n_runs; i++)
    if (!isfinite(num_of(&in->runs[i], "generation")) || !isfinite(pi_of(&in->runs[i]))) return false;
  return true;
}

static bool is_family_key(const char *key) {
  return cls__fit_axis_is_config(key) && !cls_fit_collapse_is_chain_key(key);
}

/* The first config key (not generation or pi) on which run b differs from
 * run a, or NULL: one collapse family is one model, task and schedule. */
static const char *differs(const cls_axis_run *a, const cls_axis_run *b) {
  for (int pass = 0; pass < 2; pass++) {
    const cls_axis_run *x = pass ? b : a, *y = pass ? a : b;
    for (size_t k = 0; k < x->n_kv; k++) {
      const cls_axis_kv *u = &x->kv[k], *v = kv_of(y, u->key);
      if (!is_family_key(u->key)) continue;
      if (!v || !u->text != !v->text) return u->key;
      if (u->text ? strcmp(u->text, v->text) : !(u->num == v->num || (isnan(u->num) && isnan(v->num))))
        return u->key;
    }
  }
  return NULL;
}

/* ------------------------------------------------------------ the cells */

typedef struct {
  size_t *runs; /* of the cell, by D */
  size_t n_runs;
  size_t *d_of;  /* per run: its D index in the cell */
  size_t *first; /* per D: the first of its runs (runs are sorted by D) */
  size_t *count; /* per D: how many */
} cell_data;

static size_t cell_index(const cls_fit_collapse *c, unsigned g, double pi) {
  size_t i = 0;
  while (i < c->n_cells && !(c->cells[i].generation == g && c->cells[i].real_fraction == pi)) i++;
  return i;
}

/* Sorts the cells by generation, then pi (insertion sort: few cells). */
static void sort_cells(cls_fit_collapse *c, cell_data *cd) {
  for (size_t i = 1; i < c->n_cells; i++)
    for (size_t j = i; j > 0; j--) {
      const cls_collapse_cell *a = &c->cells[j - 1], *b = &c->cells[j];
      if (a->generation < b->generation ||
          (a->generation == b->generation && a->real_fraction <= b->real_fraction))
        break;
      cls_collapse_cell t = c->cells[j];
      c->cells[j] = c->cells[j - 1], c->cells[j - 1] = t;
      cell_data u = cd[j];
      cd[j] = cd[j - 1], cd[j - 1] = u;
    }
}

/* Each cell's D values, its runs grouped by D, and the means (of the
 * accuracy too, with_accuracy). */
static cls_status fill_cell(const cls_axis_input *in, bool with_accuracy, cls_collapse_cell *c, cell_data *d) {
  double *xs = malloc((d->n_runs ? d->n_runs : 1) * sizeof *xs);
  d->d_of = malloc((d->n_runs ? d->n_runs : 1) * sizeof *d->d_of);
  if (!xs || !d->d_of) {
    free(xs);
    return CLS_ERR_OUT_OF_MEMORY;
  }
  /* runs by D (insertion sort, stable: seeds keep their order) */
  for (size_t i = 1; i < d->n_runs; i++)
    for (size_t j = i;
         j > 0 && num_of(&in->runs[d->runs[j - 1]], CO_AXIS) > num_of(&in->runs[d->runs[j]], CO_AXIS); j--) {
      size_t t = d->runs[j];
      d->runs[j] = d->runs[j - 1], d->runs[j - 1] = t;
    }
  for (size_t i = 0; i < d->n_runs; i++) xs[i] = num_of(&in->runs[d->runs[i]], CO_AXIS);
  size_t n = 0;
  for (size_t i = 0; i < d->n_runs; i++)
    if (!n || xs[i] != xs[n - 1]) xs[n++] = xs[i];
  c->n_d = n;
  c->d = xs;
  c->loss = calloc(n ? n : 1, sizeof *c->loss);
  c->sd = calloc(n ? n : 1, sizeof *c->sd);
  c->n_obs = calloc(n ? n : 1, sizeof *c->n_obs);
  d->first = calloc(n ? n : 1, sizeof *d->first);
  d->count = calloc(n ? n : 1, sizeof *d->count);
  if (with_accuracy) c->accuracy = calloc(n ? n : 1, sizeof *c->accuracy);
  if (!c->loss || !c->sd || !c->n_obs || !d->first || !d->count || (with_accuracy && !c->accuracy))
    return CLS_ERR_OUT_OF_MEMORY;
  for (size_t i = 0, k = 0; i < d->n_runs; i++) {
    while (xs[k] != num_of(&in->runs[d->runs[i]], CO_AXIS)) k++;
    if (!d->count[k]) d->first[k] = i;
    d->count[k]++;
    d->d_of[i] = k;
    c->loss[k] += in->runs[d->runs[i]].loss;
    if (with_accuracy) c->accuracy[k] += num_of(&in->runs[d->runs[i]], "eval_accuracy");
  }
  for (size_t k = 0; k < n; k++) {
    c->n_obs[k] = d->count[k];
    c->loss[k] /= (double)d->count[k];
    if (with_accuracy) c->accuracy[k] /= (double)d->count[k];
    double ss = 0;
    for (size_t i = d->first[k]; i < d->first[k] + d->count[k]; i++)
      ss += pow(in->runs[d->runs[i]].loss - c->loss[k], 2);
    c->sd[k] = d->count[k] > 1 ? sqrt(ss / (double)(d->count[k] - 1)) : NAN;
  }
  c->last_drop = n >= 2 ? (c->loss[n - 2] - c->loss[n - 1]) / c->loss[n - 2] : NAN;
  return CLS_OK;
}

/* ------------------------------------------------------------ the law */

typedef struct {
  size_t n;          /* observations: one per (generation, D) */
  const size_t *gen; /* the law's generation index of each */
  const double *u, *logl;
  size_t n_gen;
  double delta;
} law_data;

/* log L̂ = log(exp(e_g) + exp(κ − γu)); x = {e_0 … e_{G−1}, κ, γ}. */
static double law_objective(void *user, const double *x, double *g, int n) {
  const law_data *d = user;
  const size_t K = d->n_gen;
  double f = 0;
  for (int i = 0; i < n; i++) g[i] = 0;
  for (size_t i = 0; i < d->n; i++) {
    double w[2], h;
    double r = cls__lse2(x[d->gen[i]], x[K] - x[K + 1] * d->u[i], w) - d->logl[i];
    f += cls__huber(r, d->delta, &h);
    g[d->gen[i]] += h * w[0];
    g[K] += h * w[1];
    g[K + 1] -= h * w[1] * d->u[i];
  }
  return f;
}

/* Fits the law to the means of the cells cells[0..K) (one per generation)
 * at u = ln D − uref. start: NULL for the grid of starts, else one start.
 * Returns 0 with x = {ln E_g…, κ, γ}, -1 when no fit is finite. */
static int fit_law(const cls_collapse_cell *const *cells, const double *const *loss, size_t K, double uref,
                   double delta, const double *start, double *x, double *objective) {
  size_t n = 0;
  for (size_t k = 0; k < K; k++) n += cells[k]->n_d;
  size_t *gen = malloc(n * sizeof *gen);
  double *u = malloc(n * sizeof *u), *logl = malloc(n * sizeof *logl), *y = malloc(n * sizeof *y);
  double *p = malloc((K + 2) * sizeof *p);
  int rc = -1;
  if (!gen || !u || !logl || !y || !p) goto done;
  double lmin = INFINITY;
  size_t m = 0;
  for (size_t k = 0; k < K; k++)
    for (size_t j = 0; j < cells[k]->n_d; j++, m++) {
      gen[m] = k, u[m] = log(cells[k]->d[j]) - uref, logl[m] = log(loss[k][j]);
      lmin = fmin(lmin, loss[k][j]);
    }
  law_data d = {n, gen, u, logl, K, delta};
  double best = INFINITY;
  /* Starts: floors at a share of each generation's smallest loss, and the
   * line through the pooled log(L − E_g) for κ and γ. */
  static const double frac[5] = {0, 0.25, 0.5, 0.75, 0.9};
  for (int s = 0; s < (start ? 1 : 5); s++) {
    if (start) {
      memcpy(p, start, (K + 2) * sizeof *p);
    } else {
      m = 0;
      for (size_t k = 0; k < K; k++) {
        double lk = INFINITY;
        for (size_t j = 0; j < cells[k]->n_d; j++) lk = fmin(lk, loss[k][j]);
        const double e = frac[s] * lk;
        p[k] = log(fmax(e, 1e-3 * lmin));
        for (size_t j = 0; j < cells[k]->n_d; j++, m++) y[m] = log(loss[k][j] - e);
      }
      double slope, icpt;
      if (cls__fit_line(u, y, n, &slope, &icpt)) continue;
      p[K] = icpt, p[K + 1] = slope < 0 ? -slope : 0.1;
    }
    double fx;
    cls__fit_minimize(law_objective, &d, p, (int)(K + 2), &fx);
    bool finite = isfinite(fx);
    for (size_t i = 0; i < K + 2 && finite; i++) finite = isfinite(p[i]);
    if (finite && fx < best) best = fx, memcpy(x, p, (K + 2) * sizeof *p), rc = 0;
  }
  if (objective) *objective = best;
done:
  free(gen), free(u), free(logl), free(y), free(p);
  return rc;
}

/* ------------------------------------------------------------- the run */

void cls_fit_collapse_free(cls_fit_collapse *c) {
  if (!c) return;
  for (size_t i = 0; i < c->n_cells; i++) {
    cls_collapse_cell *q = &c->cells[i];
    free(q->d), free(q->loss), free(q->sd), free(q->n_obs), free(q->accuracy);
  }
  free(c->cells);
  for (size_t i = 0; i < c->n_laws; i++) {
    cls_collapse_law *l = &c->laws[i];
    free(l->generations), free(l->E), free(l->E_ci);
  }
  free(c->laws);
  free(c->recovery);
  memset(c, 0, sizeof *c);
}

/* The index in cells[0..n) of the D value d, or n. */
static size_t d_index(const cls_collapse_cell *c, double d) {
  for (size_t k = 0; k < c->n_d; k++)
    if (c->d[k] == d) return k;
  return c->n_d;
}

/* The laws' cells: generation 0's cell, then each later generation's cell
 * of this pi, as long as the chain has no gap. */
static size_t law_cells_of(const cls_fit_collapse *c, double pi, size_t *out, size_t cap) {
  size_t K = 0;
  for (unsigned g = 0; K < cap; g++) {
    size_t i = cell_index(c, g, g ? pi : 1.0);
    if (i == c->n_cells) {
      /* generation 0 of a sweep is stored with pi 1 */
      if (!g) i = cell_index(c, 0, pi);
      if (i == c->n_cells) break;
    }
    out[K++] = i;
  }
  return K;
}

static void fit_laws(cls_fit_collapse *c, const cls_fit_options *o) {
  double uref = 0;
  size_t nd = 0;
  for (size_t i = 0; i < c->n_cells; i++)
    for (size_t k = 0; k < c->cells[i].n_d; k++) uref += log(c->cells[i].d[k]), nd++;
  uref = nd ? uref / (double)nd : 0; /* centring decouples κ from γ */
  for (size_t li = 0; li < c->n_laws; li++) {
    cls_collapse_law *L = &c->laws[li];
    size_t idx[128];
    const size_t K = law_cells_of(c, L->real_fraction, idx, 128);
    L->n_gen = K;
    L->generations = calloc(K ? K : 1, sizeof *L->generations);
    L->E = calloc(K ? K : 1, sizeof *L->E);
    L->E_ci = calloc(K ? K : 1, sizeof *L->E_ci);
    if (!L->generations || !L->E || !L->E_ci) {
      snprintf(L->why, sizeof L->why, "out of host memory");
      continue;
    }
    const cls_collapse_cell *cells[128];
    const double *loss[128];
    for (size_t k = 0; k < K; k++) {
      cells[k] = &c->cells[idx[k]], loss[k] = cells[k]->loss;
      L->generations[k] = cells[k]->generation;
      L->E[k] = NAN, L->E_ci[k].lo = L->E_ci[k].hi = NAN;
    }
    size_t short_d = K;
    for (size_t k = 0; k < K && short_d == K; k++)
      if (cells[k]->n_d < CO_MIN_D) short_d = k;
    if (K < 2) {
      snprintf(L->why, sizeof L->why, "generation 1 with real_fraction %g has no finished point",
               L->real_fraction);
      continue;
    }
    if (short_d < K) {
      snprintf(L->why, sizeof L->why,
               "generation %u has %zu distinct D (the law needs at least %d per generation)",
               cells[short_d]->generation, cells[short_d]->n_d, CO_MIN_D);
      continue;
    }
    double *x = malloc((K + 2) * sizeof *x);
    if (!x || fit_law(cells, loss, K, uref, o->huber_delta, NULL, x, &L->objective)) {
      free(x);
      snprintf(L->why, sizeof L->why, "the optimiser found no finite fit");
      continue;
    }
    L->ok = true;
    for (size_t k = 0; k < K; k++) L->E[k] = exp(x[k]);
    L->A = exp(x[K] + x[K + 1] * uref), L->gamma = x[K + 1];
    L->floor_grows = true;
    for (size_t k = 1; k < K; k++) L->floor_grows &= L->E[k] > L->E[k - 1];
    free(x);
  }
}

/* One bootstrap resample: every (cell, D) redraws its seeds with
 * replacement; then the laws (started from their fits) and the recovered
 * gaps. boot[l] gets law l's {E…, A, γ} (NaN: no fit), gaps[r] the gap
 * closed of recovery r. */
static cls_status resample(const cls_axis_input *in, cls_fit_collapse *c, const cell_data *cd,
                           const cls_fit_options *o, cls_rng rng, uint64_t r, double uref, double **boot,
                           double *gaps) {
  double **means = calloc(c->n_cells, sizeof *means);
  cls_status st = CLS_OK;
  if (!means) return CLS_ERR_OUT_OF_MEMORY;
  uint32_t draw = 0;
  for (size_t i = 0; i < c->n_cells && !st; i++) {
    const cls_collapse_cell *q = &c->cells[i];
    if (!(means[i] = malloc((q->n_d ? q->n_d : 1) * sizeof *means[i]))) {
      st = CLS_ERR_OUT_OF_MEMORY;
      break;
    }
    for (size_t k = 0; k < q->n_d; k++) {
      double s = 0;
      for (size_t j = 0; j < cd[i].count[k]; j++)
        s += in->runs[cd[i].runs[cd[i].first[k] + cls_rng_below(rng, r, draw++, cd[i].count[k])]].loss;
      means[i][k] = s / (double)cd[i].count[k];
    }
  }
  for (size_t li = 0; li < c->n_laws && !st; li++) {
    const cls_collapse_law *L = &c->laws[li];
    const size_t K = L->n_gen;
    for (size_t k = 0; k < K + 2; k++) boot[li][k] = NAN;
    if (!L->ok) continue;
    size_t idx[128];
    law_cells_of(c, L->real_fraction, idx, 128);
    const cls_collapse_cell *cells[128];
    const double *loss[128];
    for (size_t k = 0; k < K; k++) cells[k] = &c->cells[idx[k]], loss[k] = means[idx[k]];
    double *start = malloc((K + 2) * sizeof *start), *x = malloc((K + 2) * sizeof *x);
    if (!start || !x) {
      free(start), free(x);
      st = CLS_ERR_OUT_OF_MEMORY;
      break;
    }
    for (size_t k = 0; k < K; k++) start[k] = log(L->E[k]);
    start[K] = log(L->A) - L->gamma * uref, start[K + 1] = L->gamma;
    if (!fit_law(cells, loss, K, uref, o->huber_delta, start, x, NULL)) {
      for (size_t k = 0; k < K; k++) boot[li][k] = exp(x[k]);
      boot[li][K] = exp(x[K] + x[K + 1] * uref), boot[li][K + 1] = x[K + 1];
    }
    free(start), free(x);
  }
  for (size_t ri = 0; ri < c->n_recovery && !st; ri++) {
    const cls_collapse_recovery *R = &c->recovery[ri];
    size_t a = cell_index(c, R->generation, R->real_fraction), b = cell_index(c, R->generation, 0),
           z = cell_index(c, 0, 1.0);
    double l = means[a][d_index(&c->cells[a], c->largest_d)], l0 = means[b][d_index(&c->cells[b], c->largest_d)],
           lz = means[z][d_index(&c->cells[z], c->largest_d)];
    gaps[ri] = l0 - lz > 0 ? (l0 - l) / (l0 - lz) : NAN;
  }
  for (size_t i = 0; i < c->n_cells; i++) free(means[i]);
  free(means);
  return st;
}

static cls_status bootstrap(const cls_axis_input *in, cls_fit_collapse *c, const cell_data *cd,
                            const cls_fit_options *o) {
  const int B = o->bootstrap > 0 ? o->bootstrap : 0;
  c->n_boot = B;
  if (!B) return CLS_OK;
  double uref = 0;
  size_t nd = 0;
  for (size_t i = 0; i < c->n_cells; i++)
    for (size_t k = 0; k < c->cells[i].n_d; k++) uref += log(c->cells[i].d[k]), nd++;
  uref = nd ? uref / (double)nd : 0;
  double **all = calloc(c->n_laws ? c->n_laws : 1, sizeof *all),
         **one = calloc(c->n_laws ? c->n_laws : 1, sizeof *one);
  double *gaps = malloc((size_t)B * (c->n_recovery ? c->n_recovery : 1) * sizeof *gaps);
  double *v = malloc((size_t)B * sizeof *v);
  cls_status st = all && one && gaps && v ? CLS_OK : CLS_ERR_OUT_OF_MEMORY;
  for (size_t li = 0; li < c->n_laws && !st; li++) {
    all[li] = malloc((size_t)B * (c->laws[li].n_gen + 2) * sizeof *all[li]);
    if (!all[li]) st = CLS_ERR_OUT_OF_MEMORY;
  }
  cls_rng rng = cls_rng_make(o->seed, CO_STREAM);
  for (int r = 0; r < B && !st; r++) {
    for (size_t li = 0; li < c->n_laws; li++) one[li] = all[li] + (size_t)r * (c->laws[li].n_gen + 2);
    st = resample(in, c, cd, o, rng, (uint64_t)r, uref, one, gaps + (size_t)r * c->n_recovery);
  }
  for (size_t li = 0; li < c->n_laws && !st; li++) {
    cls_collapse_law *L = &c->laws[li];
    if (!L->ok) continue;
    const size_t P = L->n_gen + 2;
    for (int r = 0; r < B; r++) L->boot_ok += isfinite(all[li][(size_t)r * P + P - 1]);
    for (size_t k = 0; k < P; k++) {
      for (int r = 0; r < B; r++) v[r] = all[li][(size_t)r * P + k];
      cls_ci ci = cls__fit_interval(v, (size_t)B, o->ci_level);
      if (k < L->n_gen)
        L->E_ci[k] = ci;
      else if (k == L->n_gen)
        L->A_ci = ci;
      else
        L->gamma_ci = ci;
    }
  }
  for (size_t ri = 0; ri < c->n_recovery && !st; ri++) {
    for (int r = 0; r < B; r++) v[r] = gaps[(size_t)r * c->n_recovery + ri];
    c->recovery[ri].gap_closed_ci = cls__fit_interval(v, (size_t)B, o->ci_level);
  }
  for (size_t li = 0; all && li < c->n_laws; li++) free(all[li]);
  free(all), free(one), free(gaps), free(v);
  return st;
}

/* The largest D that every cell has. */
static double common_largest(const cls_fit_collapse *c) {
  if (!c->n_cells) return NAN;
  const cls_collapse_cell *q = &c->cells[0];
  for (size_t k = q->n_d; k-- > 0;) {
    bool all = true;
    for (size_t i = 1; i < c->n_cells && all; i++) all = d_index(&c->cells[i], q->d[k]) < c->cells[i].n_d;
    if (all) return q->d[k];
  }
  return NAN;
}

static void recoveries(cls_fit_collapse *c) {
  const size_t z = cell_index(c, 0, 1.0);
  for (size_t i = 0; i < c->n_cells; i++) {
    const cls_collapse_cell *q = &c->cells[i];
    if (!q->generation || q->real_fraction <= 0 || z == c->n_cells || isnan(c->largest_d)) continue;
    const size_t b = cell_index(c, q->generation, 0);
    if (b == c->n_cells) continue;
    cls_collapse_recovery *R = &c->recovery[c->n_recovery++];
    R->generation = q->generation, R->real_fraction = q->real_fraction;
    R->loss = q->loss[d_index(q, c->largest_d)];
    R->loss_pi0 = c->cells[b].loss[d_index(&c->cells[b], c->largest_d)];
    R->loss_g0 = c->cells[z].loss[d_index(&c->cells[z], c->largest_d)];
    R->gap_closed = R->loss_pi0 - R->loss_g0 > 0 ? (R->loss_pi0 - R->loss) / (R->loss_pi0 - R->loss_g0) : NAN;
    R->gap_closed_ci.lo = R->gap_closed_ci.hi = NAN;
  }
}

static void say(cls_fit_collapse *c, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
static void say(cls_fit_collapse *c, const char *fmt, ...) {
  size_t n = strlen(c->summary);
  if (n + 1 >= sizeof c->summary) return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(c->summary + n, sizeof c->summary - n, fmt, ap);
  va_end(ap);
}

/* The findings in words: which generations plateau, the floors, the
 * recovered gaps. */
static void summarise(cls_fit_collapse *c) {
  const size_t z = cell_index(c, 0, 1.0);
  const cls_collapse_cell *c0 = z < c->n_cells ? &c->cells[z] : NULL;
  for (size_t i = 0; i < c->n_cells; i++) {
    cls_collapse_cell *q = &c->cells[i];
    if (!q->generation || !isfinite(q->last_drop) || !c0) continue;
    /* generation 0's fall over the same step in D */
    const size_t a = d_index(c0, q->d[q->n_d - 2]), b = d_index(c0, q->d[q->n_d - 1]);
    if (a == c0->n_d || b == c0->n_d) continue;
    const double drop0 = (c0->loss[a] - c0->loss[b]) / c0->loss[a];
    q->plateau = drop0 > 0 && q->last_drop < 0.25 * drop0;
  }
  if (c0 && isfinite(c0->last_drop))
    say(c, "Over the last step in D (%.3g to %.3g) generation 0's loss falls %.1f %%. ", c0->d[c0->n_d - 2],
        c0->d[c0->n_d - 1], 100 * c0->last_drop);
  for (size_t i = 0; i < c->n_cells; i++) {
    const cls_collapse_cell *q = &c->cells[i];
    if (!q->generation || !isfinite(q->last_drop)) continue;
    say(c, "Generation %u (pi %g) %s %.1f %%%s. ", q->generation, q->real_fraction,
        q->last_drop >= 0 ? "falls" : "rises", 100 * fabs(q->last_drop),
        q->plateau ? ": it plateaus (collapse)" : "");
  }
  for (size_t li = 0; li < c->n_laws; li++) {
    const cls_collapse_law *L = &c->laws[li];
    if (!L->ok) continue;
    say(c, "pi %g: the floor E_g %s with the generation (", L->real_fraction,
        L->floor_grows ? "grows" : "does not grow");
    for (size_t k = 0; k < L->n_gen; k++) say(c, "%s%.3g", k ? ", " : "", L->E[k]);
    say(c, "), gamma %.3g. ", L->gamma);
  }
  for (size_t ri = 0; ri < c->n_recovery; ri++) {
    const cls_collapse_recovery *R = &c->recovery[ri];
    if (!isfinite(R->gap_closed)) continue;
    say(c, "At D = %.3g, pi %g closes %.0f %% of generation %u's gap to generation 0", c->largest_d,
        R->real_fraction, 100 * R->gap_closed, R->generation);
    if (isfinite(R->gap_closed_ci.lo))
      say(c, " [%.0f, %.0f] %%", 100 * R->gap_closed_ci.lo, 100 * R->gap_closed_ci.hi);
    say(c, ". ");
  }
  size_t n = strlen(c->summary);
  if (n && c->summary[n - 1] == ' ') c->summary[n - 1] = '\0';
}

cls_status cls_fit_collapse_run(const cls_axis_input *in, const cls_fit_options *o, cls_fit_collapse *out,
                                char *err, size_t err_len) {
  if (!in || !o || !out) return CLS_ERR_NULL_ARGUMENT;
  memset(out, 0, sizeof *out);
  snprintf(out->axis, sizeof out->axis, "%s", CO_AXIS);
  out->largest_d = NAN;
  out->n_runs = in->n_runs;
  /* The accuracy beside the loss only when every point has one: a mean over
   * some of the seeds would not be the cell's. */
  out->has_accuracy = in->n_runs > 0;
  for (size_t i = 0; i < in->n_runs; i++) out->has_accuracy &= isfinite(num_of(&in->runs[i], "eval_accuracy"));
  for (size_t i = 0; i < in->n_runs; i++) {
    const cls_axis_run *r = &in->runs[i];
    const double g = num_of(r, "generation"), pi = pi_of(r), d = num_of(r, CO_AXIS);
    if (!isfinite(g) || g < 0 || g != floor(g) || !(pi >= 0 && pi <= 1))
      return cls_errf(err, err_len, CLS_ERR_INVALID_VALUE,
                      "points/%s.json has no generation and real_fraction (the collapse fits need a sweep with "
                      "'generations', docs/sweep.md)",
                      r->id);
    if (!isfinite(d) || d <= 0)
      return cls_errf(err, err_len, CLS_ERR_INVALID_VALUE,
                      "points/%s.json: %s is not a positive number; the collapse fits are along the training "
                      "tokens D",
                      r->id, CO_AXIS);
    if (!(r->loss > 0))
      return cls_errf(err, err_len, CLS_ERR_INVALID_VALUE,
                      "points/%s.json: final_eval_loss %g; the collapse fits are in log-loss and need L > 0",
                      r->id, r->loss);
    const char *key = i ? differs(&in->runs[0], r) : NULL;
    if (key)
      return cls_errf(
          err, err_len, CLS_ERR_INVALID_VALUE,
          "points/%s.json and points/%s.json differ in '%s': the collapse fits take one model and task "
          "at a time (choose with --where %s=...)",
          in->runs[0].id, r->id, key, key);
  }
  out->cells = calloc(in->n_runs, sizeof *out->cells);
  out->recovery = calloc(in->n_runs, sizeof *out->recovery);
  cell_data *cd = calloc(in->n_runs, sizeof *cd);
  cls_status st = out->cells && out->recovery && cd ? CLS_OK : CLS_ERR_OUT_OF_MEMORY;
  for (size_t i = 0; i < in->n_runs && !st; i++) {
    const cls_axis_run *r = &in->runs[i];
    const unsigned g = (unsigned)num_of(r, "generation");
    const double pi = pi_of(r);
    size_t k = cell_index(out, g, pi);
    if (k == out->n_cells) {
      out->cells[k].generation = g, out->cells[k].real_fraction = pi;
      out->n_cells++;
      if (!(cd[k].runs = malloc(in->n_runs * sizeof *cd[k].runs))) st = CLS_ERR_OUT_OF_MEMORY;
    }
    if (!st) cd[k].runs[cd[k].n_runs++] = i;
  }
  if (!st) sort_cells(out, cd);
  for (size_t i = 0; i < out->n_cells && !st; i++) st = fill_cell(in, out->has_accuracy, &out->cells[i], &cd[i]);
  if (!st && (!out->n_cells || out->cells[out->n_cells - 1].generation == 0))
    st = cls_errf(err, err_len, CLS_ERR_INVALID_VALUE,
                  "no finished point of generation 1 or later: the collapse fits compare generations");
  if (!st) {
    /* one law per pi of the later generations */
    out->laws = calloc(out->n_cells, sizeof *out->laws);
    if (!out->laws) st = CLS_ERR_OUT_OF_MEMORY;
    for (size_t i = 0; i < out->n_cells && !st; i++) {
      const cls_collapse_cell *q = &out->cells[i];
      bool seen = false;
      for (size_t l = 0; l < out->n_laws && !seen; l++) seen = out->laws[l].real_fraction == q->real_fraction;
      if (!q->generation || seen) continue;
      cls_collapse_law *L = &out->laws[out->n_laws++];
      L->real_fraction = q->real_fraction;
      L->A = L->gamma = L->objective = NAN;
      L->A_ci.lo = L->A_ci.hi = L->gamma_ci.lo = L->gamma_ci.hi = NAN;
    }
    for (size_t i = 1; i < out->n_laws; i++) /* by pi */
      for (size_t j = i; j > 0 && out->laws[j - 1].real_fraction > out->laws[j].real_fraction; j--) {
        cls_collapse_law t = out->laws[j];
        out->laws[j] = out->laws[j - 1], out->laws[j - 1] = t;
      }
  }
  if (!st) {
    fit_laws(out, o);
    for (size_t l = 0; l < out->n_laws && !st; l++)
      if (!out->laws[l].generations) st = CLS_ERR_OUT_OF_MEMORY;
  }
  if (!st) {
    out->largest_d = common_largest(out);
    recoveries(out);
    st = bootstrap(in, out, cd, o);
  }
  if (!st) summarise(out);
  for (size_t i = 0; cd && i < in->n_runs; i++)
    free(cd[i].runs), free(cd[i].d_of), free(cd[i].first), free(cd[i].count);
  free(cd);
  if (st) {
    cls_fit_collapse_free(out);
    if (st == CLS_ERR_OUT_OF_MEMORY) cls_errf(err, err_len, st, "out of host memory in the collapse fits");
  }
  return st;
}
