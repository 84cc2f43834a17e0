/*
 * src/fit/isoflop.c — IsoFLOP profiles (Chinchilla approach 2): the final
 * runs grouped by compute budget, a least-squares parabola of log10 loss
 * (or, with isoflop_linear, of the loss as Hoffmann et al. fit it) in
 * x = log10 N per budget (log loss by default: at small budgets the losses
 * of one budget span a decade, and a parabola in linear loss then misplaces
 * the minimum; where they span little, the two agree), its minimum N*(C) and D*(C), and the power laws
 * N* ∝ C^a, D* ∝ C^b through the minima, with a bootstrap that resamples the
 * runs of every budget.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "fit/fit.h"

/* MAX_RUNS: the runs of one budget its parabola is fitted to (a budget is a
 * handful of model sizes; the first ones in the group's order). */
enum { ISO_STREAM = 0x49534f46u /* "ISOF" */, ISO_BAND = 20, MAX_RUNS = CLS__ISO_MAX_RUNS };

typedef struct {
  size_t *idx; /* the budget's points */
  size_t n;
} group;

/* Nominal budgets are matched to groups through a hash of log-budget
 * buckets, so that grouping costs O(n) rather than a scan of every group per
 * point (10^6 rows of distinct budgets took minutes). BUCKET is narrower
 * than the 1% match window, so a window spans a few buckets. */
#define BUCKET 0.005

typedef struct {
  long long *key; /* bucket id, per slot */
  size_t *head;   /* first group of the bucket + 1 (0: empty slot) */
  size_t mask;
} bucket_map;

static size_t *bucket_slot(bucket_map *m, long long key) {
  size_t h = (size_t)((unsigned long long)key * 0x9e3779b97f4a7c15ULL) & m->mask;
  while (m->head[h] && m->key[h] != key) h = (h + 1) & m->mask;
  m->key[h] = key;
  return &m->head[h];
}

static long long bucket_of(double logb) {
  return (long long)floor(logb / BUCKET);
}

/* The first group (in order of creation) whose budget is within 1% of b,
 * as a scan of every group would find it; ng when none. Positive budgets
 * only (the input's are, cls_fit_input). */
static size_t find_nominal(bucket_map *m, const size_t *next, const cls_fit_budget *bud, size_t ng, double b) {
  double lb = log(b);
  size_t best = ng;
  /* |bud - b| <= 0.01 bud  <=>  b/1.01 <= bud <= b/0.99: a log window of
   * [lb - 0.00995, lb + 0.01006]; one bucket of margin either side. */
  for (long long q = bucket_of(lb - 0.0101) - 1; q <= bucket_of(lb + 0.0101) + 1; q++)
    for (size_t k = *bucket_slot(m, q); k; k = next[k - 1])
      if (k - 1 < best && fabs(bud[k - 1].budget - b) <= 0.01 * bud[k - 1].budget) best = k - 1;
  return best;
}

typedef struct {
  double c;
  size_t i;
} by_c;

/* Ascending C, ties in input order: the order the former insertion sort gave. */
static int cmp_by_c(const void *a, const void *b) {
  const by_c *x = a, *y = b;
  if (x->c != y->c) return x->c < y->c ? -1 : 1;
  return x->i < y->i ? -1 : x->i > y->i;
}

/* Groups the points into budgets: by their nominal budget_flops (equal
 * within 1%, as the plotter matches them), and points without one by their
 * measured C, a new group starting whenever C exceeds the group's smallest by
 * more than the tolerance. Returns the number of groups; g[k].idx malloc'd,
 * sized to the group. O(n log n) in the points. */
static size_t make_groups(const cls_fit_input *in, double tol, group *g, cls_fit_budget *bud, bool *oom) {
  size_t n = in->n_pts, ng = 0, m = 0, slots = 16;
  while (slots < 2 * n) slots *= 2;
  size_t *gid = malloc((n ? n : 1) * sizeof *gid), *next = malloc((n ? n : 1) * sizeof *next);
  by_c *order = malloc((n ? n : 1) * sizeof *order);
  bucket_map map = {malloc(slots * sizeof *map.key), calloc(slots, sizeof *map.head), slots - 1};
  *oom = !gid || !next || !order || !map.key || !map.head;
  if (!*oom) {
    /* nominal budgets: each point's group, creating groups in input order */
    for (size_t i = 0; i < n; i++) {
      double b = in->pts[i].budget;
      if (!isfinite(b)) {
        order[m].c = in->pts[i].c, order[m].i = i, m++;
        continue;
      }
      size_t k = find_nominal(&map, next, bud, ng, b);
      if (k == ng) {
        memset(&bud[ng], 0, sizeof bud[ng]);
        bud[ng].budget = b, bud[ng].nominal = true;
        g[ng].n = 0;
        size_t *head = bucket_slot(&map, bucket_of(log(b)));
        next[ng] = *head;
        *head = ++ng;
      }
      gid[i] = k;
      g[k].n++;
    }
    /* the others, by measured C */
    if (m > 1) qsort(order, m, sizeof *order, cmp_by_c);
    for (size_t s = 0; s < m;) {
      double c0 = order[s].c, logsum = 0;
      size_t e = s;
      while (e < m && order[e].c <= c0 * (1 + tol)) logsum += log(order[e].c), gid[order[e].i] = ng, e++;
      memset(&bud[ng], 0, sizeof bud[ng]);
      bud[ng].budget = exp(logsum / (double)(e - s)); /* geometric mean of the group's C */
      g[ng].n = e - s;
      ng++;
      s = e;
    }
    /* each group's points: nominal ones in input order, measured ones by C */
    for (size_t k = 0; k < ng && !*oom; k++) {
      g[k].idx = malloc((g[k].n ? g[k].n : 1) * sizeof *g[k].idx);
      *oom = !g[k].idx;
      g[k].n = 0;
    }
    for (size_t i = 0; i < n && !*oom; i++)
      if (isfinite(in->pts[i].budget)) g[gid[i]].idx[g[gid[i]].n++] = i;
    for (size_t j = 0; j < m && !*oom; j++) g[gid[order[j].i]].idx[g[gid[order[j].i]].n++] = order[j].i;
  }
  free(gid), free(next), free(order), free(map.key), free(map.head);
  return ng;
}

/* The values of the runs a parabola reads, computed once per run and kept
 * together by budget (group order): a bootstrap resample then reads them
 * from the budget's own few rows instead of from the scattered points (at
 * 10^6 runs those reads missed the cache and took most of the fit). */
typedef struct {
  double *x, *y, *ld; /* log10 N; log10 loss (or the loss, isoflop_linear); log10 D */
  double *n, *loss;
} budget_rows;

/* Fits one budget's parabola over its rows r[0..n) (shift[i] added to y[i]
 * when given) and sets its minimum. Returns 0 when the minimum is interior;
 * otherwise writes why. */
static int fit_budget(budget_rows r, size_t n, bool linear, const double *shift, cls_fit_budget *b, char *why,
                      size_t why_len) {
  double y[MAX_RUNS];
  const double *x = r.x, *ld = r.ld;
  if (n > MAX_RUNS) n = MAX_RUNS;
  double xlo = INFINITY, xhi = -INFINITY, lbest = INFINITY, nbest = NAN;
  b->n_lo = INFINITY, b->n_hi = -INFINITY;
  b->a = b->b = b->c = b->n_opt = b->d_opt = b->loss_opt = NAN;
  if (n < 3) {
    snprintf(why, why_len, "needs at least 3 distinct model sizes for a parabola");
    return -1;
  }
  for (size_t i = 0; i < n; i++) {
    y[i] = r.y[i] + (shift ? shift[i] : 0);
    xlo = fmin(xlo, x[i]), xhi = fmax(xhi, x[i]);
    b->n_lo = fmin(b->n_lo, r.n[i]), b->n_hi = fmax(b->n_hi, r.n[i]);
    if (r.loss[i] < lbest) lbest = r.loss[i], nbest = r.n[i];
  }
  if (cls__fit_parabola(x, y, n, &b->a, &b->b, &b->c)) {
    snprintf(why, why_len, "needs at least 3 distinct model sizes for a parabola");
    return -1;
  }
  /* Without an interior minimum, the way to extend the grid: toward the
   * end whose run has the lowest loss (the minimum lies beyond it). */
  const char *toward = nbest >= b->n_hi ? "larger" : nbest <= b->n_lo ? "smaller" : NULL;
  char extend[128] = "";
  if (toward)
    snprintf(extend, sizeof extend, ": extend this budget's grid to %s models (beyond N = %.3g)", toward,
             nbest >= b->n_hi ? b->n_hi : b->n_lo);
  if (!(b->a > 0)) {
    snprintf(why, why_len, "the parabola opens downward (a = %.3g): no interior minimum%s", b->a,
             toward ? extend : ": sample more model sizes around the lowest loss");
    return -1;
  }
  double xs = -b->b / (2 * b->a);
  b->n_opt = pow(10, xs);
  b->loss_opt = linear ? b->c - b->b * b->b / (4 * b->a) : pow(10, b->c - b->b * b->b / (4 * b->a));
  /* D at the optimum from the runs' own tokens: at one budget log D is a line
   * in log N (slope −1 when C = κ·N·D with a fixed κ), so the measured FLOPs
   * per token, whatever they are, carry over to N*. */
  if (cls__fit_line(x, ld, n, &b->d_slope, &b->d_icpt)) {
    snprintf(why, why_len, "needs at least 2 distinct model sizes");
    return -1;
  }
  b->d_opt = pow(10, b->d_icpt + b->d_slope * xs);
  if (xs < xlo || xs > xhi) {
    snprintf(
        why, why_len,
        "the minimum (N = %.3g) lies outside the sampled N range [%.3g, %.3g]: extend this budget's grid to %s "
        "models",
        b->n_opt, b->n_lo, b->n_hi, xs > xhi ? "larger" : "smaller");
    return -1;
  }
  return 0;
}

/* The rows of all budgets, from offset off on: one budget's when off is its first. */
static budget_rows rows_from(const budget_rows *all, size_t off) {
  budget_rows r = {all->x + off, all->y + off, all->ld + off, all->n + off, all->loss + off};
  return r;
}

static void power_fit(const double *c, const double *y, size_t n, cls_fit_power *p) {
  double lc[512], ly[512];
  size_t m = 0;
  for (size_t i = 0; i < n && m < 512; i++)
    if (isfinite(y[i]) && y[i] > 0) lc[m] = log10(c[i]), ly[m] = log10(y[i]), m++;
  double slope, icpt;
  if (m >= 2 && !cls__fit_line(lc, ly, m, &slope, &icpt)) {
    p->ok = true;
    p->exponent = slope;
    p->coef = pow(10, icpt);
  } else {
    p->ok = false;
    p->exponent = p->coef = NAN;
  }
}

typedef struct {
  cls_fit_budget b;
  group g;
  size_t pos;
} budget_entry;

static int cmp_budget(const void *a, const void *b) {
  const budget_entry *x = a, *y = b;
  if (x->b.budget != y->b.budget) return x->b.budget < y->b.budget ? -1 : 1;
  return x->pos < y->pos ? -1 : x->pos > y->pos; /* stable, as the former insertion sort */
}

/* Sorts budgets (ascending C) and their groups together; -1 when out of memory. */
static int sort_budgets(cls_fit_budget *budgets, group *g, size_t ng) {
  if (ng < 2) return 0;
  budget_entry *e = malloc(ng * sizeof *e);
  if (!e) return -1;
  for (size_t i = 0; i < ng; i++) e[i].b = budgets[i], e[i].g = g[i], e[i].pos = i;
  qsort(e, ng, sizeof *e, cmp_budget);
  for (size_t i = 0; i < ng; i++) budgets[i] = e[i].b, g[i] = e[i].g;
  free(e);
  return 0;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* The intervals from B resamples: each used budget's N_opt and D_opt (row r
 * of bn_opt / bd_opt is resample r, column u the u-th used budget; an
 * excluded budget has none), the power laws' exponents and coefficients,
 * and their pointwise bands; band is scratch of B values. */
static void boot_intervals(cls_fit_isoflop *out, const cls_fit_options *o, size_t ng, int B, const double *bn_opt,
                           const double *bd_opt, double *coef_a, double *coef_b, double *band) {
  cls_fit_power *pw[2] = {&out->n_fit, &out->d_fit};
  size_t nu = out->n_used;
  for (size_t k = 0, u = 0; k < ng; u += out->budgets[k].used, k++) {
    /* A parabola through 3 sizes fits them exactly: every resample that
     * succeeds gives the same minimum, so a zero-width "interval" would
     * claim a precision the data do not have. No interval then. */
    if (out->budgets[k].n_sizes < 4 || !out->budgets[k].used) continue;
    for (int r = 0; r < B; r++) band[r] = bn_opt[(size_t)r * nu + u];
    out->budgets[k].n_opt_ci = cls__fit_interval(band, (size_t)B, o->ci_level);
    for (int r = 0; r < B; r++) band[r] = bd_opt[(size_t)r * nu + u];
    out->budgets[k].d_opt_ci = cls__fit_interval(band, (size_t)B, o->ci_level);
  }
  double *ex[2] = {out->boot_a, out->boot_b}, *cf[2] = {coef_a, coef_b};
  double clo = INFINITY, chi = -INFINITY;
  for (size_t k = 0; k < ng; k++)
    if (out->budgets[k].used) clo = fmin(clo, out->budgets[k].budget), chi = fmax(chi, out->budgets[k].budget);
  for (int q = 0; q < 2; q++) {
    for (int r = 0; r < B; r++) band[r] = ex[q][r];
    pw[q]->exponent_ci = cls__fit_interval(band, (size_t)B, o->ci_level);
    for (int r = 0; r < B; r++) band[r] = cf[q][r];
    pw[q]->coef_ci = cls__fit_interval(band, (size_t)B, o->ci_level);
    /* Pointwise band of coef·C^exponent over the budgets' range. */
    pw[q]->band_n = ISO_BAND;
    for (int i = 0; i < ISO_BAND; i++) {
      double c = pow(10, log10(clo) + (log10(chi) - log10(clo)) * i / (ISO_BAND - 1));
      for (int r = 0; r < B; r++) band[r] = cf[q][r] * pow(c, ex[q][r]);
      cls_ci ci = cls__fit_interval(band, (size_t)B, o->ci_level);
      pw[q]->band_c[i] = c, pw[q]->band_lo[i] = ci.lo, pw[q]->band_hi[i] = ci.hi;
    }
    if (!isfinite(pw[q]->band_lo[0])) pw[q]->band_n = 0;
  }
}

cls_status cls_fit_isoflop_run(const cls_fit_input *in, const cls_fit_options *o, cls_fit_isoflop *out) {
  if (!in || !o || !out) return CLS_ERR_NULL_ARGUMENT;
  memset(out, 0, sizeof *out);
  size_t cap = in->n_pts ? in->n_pts : 1;
  group *g = calloc(cap, sizeof *g);
  out->budgets = calloc(cap, sizeof *out->budgets);
  if (!g || !out->budgets) {
    free(g);
    return CLS_ERR_OUT_OF_MEMORY;
  }
  bool oom;
  size_t ng = make_groups(in, o->budget_tol, g, out->budgets, &oom);
  if (oom) {
    for (size_t k = 0; k < ng; k++) free(g[k].idx);
    free(g);
    return CLS_ERR_OUT_OF_MEMORY;
  }
  out->n_budgets = ng;
  double *bc = malloc(cap * sizeof *bc), *bn = malloc(cap * sizeof *bn), *bd = malloc(cap * sizeof *bd);
  double *sizes = malloc(cap * sizeof *sizes), *flat = malloc(5 * cap * sizeof *flat);
  budget_rows all = {flat, flat + cap, flat + 2 * cap, flat + 3 * cap, flat + 4 * cap};
  cls_status st =
      bc && bn && bd && sizes && flat && !sort_budgets(out->budgets, g, ng) ? CLS_OK : CLS_ERR_OUT_OF_MEMORY;
  /* which budget each point is in (after sorting: g moved with budgets) */
  out->point_budget = st ? NULL : malloc(cap * sizeof *out->point_budget);
  if (!st && !out->point_budget) st = CLS_ERR_OUT_OF_MEMORY;
  for (size_t k = 0, off = 0; k < ng && !st; k++)
    for (size_t i = 0; i < g[k].n; i++, off++) {
      const cls_fit_point *p = &in->pts[g[k].idx[i]];
      out->point_budget[g[k].idx[i]] = k;
      all.x[off] = log10(p->n), all.y[off] = o->isoflop_linear ? p->loss : log10(p->loss);
      all.ld[off] = log10(p->d), all.n[off] = p->n, all.loss[off] = p->loss;
    }
  for (size_t k = 0, off = 0; k < ng && !st; off += g[k].n, k++) {
    cls_fit_budget *b = &out->budgets[k];
    b->n_points = g[k].n;
    /* distinct model sizes: sorted, then counted */
    for (size_t i = 0; i < g[k].n; i++) sizes[i] = all.n[off + i];
    if (g[k].n > 1) qsort(sizes, g[k].n, sizeof *sizes, cmp_double);
    for (size_t i = 0; i < g[k].n; i++) b->n_sizes += i == 0 || sizes[i] != sizes[i - 1];
    b->n_opt_ci.lo = b->n_opt_ci.hi = b->d_opt_ci.lo = b->d_opt_ci.hi = NAN;
    b->used = !fit_budget(rows_from(&all, off), g[k].n, o->isoflop_linear, NULL, b, b->why, sizeof b->why);
    if (b->used)
      bc[out->n_used] = b->budget, bn[out->n_used] = b->n_opt, bd[out->n_used] = b->d_opt, out->n_used++;
  }
  if (!st && out->n_used < 2) {
    snprintf(out->why, sizeof out->why,
             "needs at least 2 compute budgets whose parabola has an interior minimum (have %zu of %zu budget%s)",
             out->n_used, ng, ng == 1 ? "" : "s");
  } else if (!st) {
    power_fit(bc, bn, out->n_used, &out->n_fit);
    power_fit(bc, bd, out->n_used, &out->d_fit);
    out->ok = out->n_fit.ok && out->d_fit.ok;
    if (!out->ok) snprintf(out->why, sizeof out->why, "the power-law fit through the minima failed");
  }
  cls_fit_power *pw[2] = {&out->n_fit, &out->d_fit};
  for (int q = 0; q < 2; q++) {
    pw[q]->exponent_ci.lo = pw[q]->exponent_ci.hi = pw[q]->coef_ci.lo = pw[q]->coef_ci.hi = NAN;
  }
  /* Bootstrap: resample each budget's runs with replacement; a budget whose
   * resample has no interior minimum drops out of that resample only. Budgets
   * excluded from the fit stay excluded. */
  int B = out->ok && o->bootstrap > 0 ? o->bootstrap : 0;
  out->n_boot = B;
  double *bn_opt = NULL, *bd_opt = NULL, *band = NULL, *coef_a = NULL, *coef_b = NULL;
  size_t nu = out->n_used;
  if (B && !st) {
    out->boot_a = malloc((size_t)B * sizeof *out->boot_a);
    out->boot_b = malloc((size_t)B * sizeof *out->boot_b);
    bn_opt = malloc((size_t)B * nu * sizeof *bn_opt);
    bd_opt = malloc((size_t)B * nu * sizeof *bd_opt);
    coef_a = malloc((size_t)B * sizeof *coef_a);
    coef_b = malloc((size_t)B * sizeof *coef_b);
    out->boot_law = malloc((size_t)B * 4 * sizeof *out->boot_law);
    band = malloc((size_t)B * sizeof *band);
    if (!out->boot_a || !out->boot_b || !out->boot_law || !bn_opt || !bd_opt || !coef_a || !coef_b || !band)
      st = CLS_ERR_OUT_OF_MEMORY;
  }
  cls_rng rng = cls_rng_make(o->seed, ISO_STREAM);
  /* one resample of one budget: its drawn rows (or, resampling residuals,
   * the budget's own rows and the shifts of their y) */
  double dx[MAX_RUNS], dy[MAX_RUNS], dld[MAX_RUNS], dn[MAX_RUNS], dloss[MAX_RUNS];
  budget_rows drawn_rows = {dx, dy, dld, dn, dloss};
  double shift[MAX_RUNS];
  for (int r = 0; r < B && !st; r++) {
    size_t m = 0;
    uint32_t draw = 0;
    for (size_t k = 0, off = 0, u = 0; k < ng; off += g[k].n, k++) {
      if (!out->budgets[k].used) continue;
      double *on = &bn_opt[(size_t)r * nu + u], *od = &bd_opt[(size_t)r * nu + u];
      u++;
      *on = *od = NAN;
      /* fit_budget reads only the first MAX_RUNS: draw those, and skip the
       * counter past the rest so that later budgets draw what they did */
      size_t take = g[k].n < MAX_RUNS ? g[k].n : MAX_RUNS;
      const cls_fit_budget *full = &out->budgets[k];
      budget_rows own = rows_from(&all, off), rows = own;
      if (o->isoflop_residuals) {
        /* the runs stay; each gets the full parabola's value plus a
         * residual of the budget drawn with replacement */
        double e[MAX_RUNS];
        for (size_t j = 0; j < take; j++) {
          double x = own.x[j], y = own.y[j];
          e[j] = y - (full->a * x * x + full->b * x + full->c);
        }
        for (size_t j = 0; j < take; j++)
          shift[j] = e[cls_rng_below(rng, (uint64_t)r, (uint32_t)(draw + j), take)] - e[j];
      } else {
        for (size_t j = 0; j < take; j++) {
          size_t q = (size_t)cls_rng_below(rng, (uint64_t)r, (uint32_t)(draw + j), g[k].n);
          dx[j] = own.x[q], dy[j] = own.y[q], dld[j] = own.ld[q], dn[j] = own.n[q], dloss[j] = own.loss[q];
        }
        rows = drawn_rows;
      }
      out->boot_rows += take;
      draw += (uint32_t)g[k].n;
      cls_fit_budget t = *full;
      char why[200];
      if (fit_budget(rows, take, o->isoflop_linear, o->isoflop_residuals ? shift : NULL, &t, why, sizeof why))
        continue;
      *on = t.n_opt, *od = t.d_opt;
      bc[m] = t.budget, bn[m] = t.n_opt, bd[m] = t.d_opt, m++;
    }
    cls_fit_power pn = {0}, pd = {0};
    if (m >= 2) power_fit(bc, bn, m, &pn), power_fit(bc, bd, m, &pd);
    out->boot_a[r] = pn.ok ? pn.exponent : NAN, coef_a[r] = pn.ok ? pn.coef : NAN;
    out->boot_b[r] = pd.ok ? pd.exponent : NAN, coef_b[r] = pd.ok ? pd.coef : NAN;
    out->boot_ok += pn.ok && pd.ok;
    /* Each resample's whole law, so that a plan at any budget
     * (cls_fit_optimum_at) can evaluate it. */
    double *law = out->boot_law + 4 * (size_t)r;
    law[0] = coef_a[r], law[1] = out->boot_a[r], law[2] = coef_b[r], law[3] = out->boot_b[r];
  }
  if (B && !st) boot_intervals(out, o, ng, B, bn_opt, bd_opt, coef_a, coef_b, band);
  free(bn_opt), free(bd_opt), free(band), free(coef_a), free(coef_b);
  free(bc), free(bn), free(bd), free(sizes), free(flat);
  for (size_t k = 0; k < ng; k++) free(g[k].idx);
  free(g);
  return st;
}
