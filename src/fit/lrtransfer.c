/*
 * src/fit/lrtransfer.c — learning-rate transfer: the optimal rate of each
 * curve and its slope against the varied dimension (see lrtransfer.h).
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/rng.h"
#include "fit/lrtransfer.h"
#include "rundir/json.h"
#include "rundir/runs.h"

/* The Philox stream of the resampling ("lrtr"): apart from the other fits'. */
enum { LRT_STREAM = 0x6c727472u };

/* ------------------------------------------------------------------ input */

void cls_fit_lrt_input_destroy(cls_lrt_input *in) {
  if (!in) return;
  free(in->runs);
  for (size_t i = 0; i < in->n_warnings; i++) free(in->warnings[i]);
  free(in->warnings);
  free(in);
}

/* The first finite of the point's budgets (one is set by a sweep). */
static double budget_of(const cJSON *root, const char **unit) {
  static const char *const keys[] = {"budget_steps", "budget_tokens", "budget_flops"};
  static const char *const units[] = {"steps", "tokens", "FLOPs"};
  for (size_t i = 0; i < 3; i++) {
    double v = cls_json_get_num(root, keys[i]);
    if (isfinite(v)) {
      *unit = units[i];
      return v;
    }
  }
  *unit = "";
  return NAN;
}

/* One point: kept when it finished ok with a finite loss or diverged. */
static cls_status read_run(cls_lrt_input *in, const char *dir, const cls_run_point *p, char *err, size_t err_len) {
  const bool diverged = !strcmp(p->status, "diverged");
  if (strcmp(p->status, "ok") && !diverged) {
    cls_warning_add(&in->warnings, &in->n_warnings, "points/%s.json: status \"%s\"; left out of the transfer fit",
                    p->id, p->status);
    return CLS_OK;
  }
  char path[4200];
  cls_status st = cls_rundir_path(path, sizeof path, dir, CLS_RUNDIR_SUMMARY, p->id);
  if (st) return cls_errf(err, err_len, st, "%s: the path of point %s is too long", dir, p->id);
  cJSON *root;
  st = cls_json_load(path, &root, err, err_len);
  if (st) return st;
  cls_lrt_run *r = &in->runs[in->n_runs];
  memset(r, 0, sizeof *r);
  snprintf(r->id, sizeof r->id, "%s", p->id);
  const char *param = cls_json_get_str(root, "param");
  snprintf(r->param, sizeof r->param, "%s", param ? param : "sp");
  r->lr = cls_json_get_num(root, "lr");
  r->seed = cls_json_get_num(root, "seed");
  r->width = cls_json_get_num(root, "width");
  r->depth = cls_json_get_num(root, "depth");
  r->label_tokens = cls_json_get_num(root, "label_tokens");
  const double heads = cls_json_get_num(root, "heads");
  r->head_dim = isfinite(heads) && heads > 0 && isfinite(r->width) ? r->width / heads : NAN;
  r->budget = budget_of(root, &r->budget_unit);
  r->loss = cls_json_get_num(root, "final_eval_loss");
  r->diverged = diverged;
  cJSON_Delete(root);
  if (!(r->lr > 0) || !isfinite(r->lr))
    return cls_errf(err, err_len, CLS_ERR_INVALID_VALUE,
                    "points/%s.json has no positive `lr`: a learning-rate transfer fit needs trained points",
                    p->id);
  if (diverged) {
    r->loss = NAN;
  } else if (!isfinite(r->loss)) {
    cls_warning_add(&in->warnings, &in->n_warnings,
                    "points/%s.json: status ok but no finite final_eval_loss; left out", p->id);
    return CLS_OK;
  }
  in->n_runs++;
  return CLS_OK;
}

cls_status cls_fit_lrt_input_from_rundir(const char *dir, cls_lrt_input **out, char *err, size_t err_len) {
  *out = NULL;
  cls_rundir *rd = NULL;
  cls_status st = cls_rundir_load(dir, &rd, err, err_len);
  if (st) return st;
  cls_lrt_input *in = calloc(1, sizeof *in);
  if (in) in->runs = calloc(rd->n_points ? rd->n_points : 1, sizeof *in->runs);
  if (!in || !in->runs) {
    cls_fit_lrt_input_destroy(in);
    cls_rundir_destroy(rd);
    return cls_errf(err, err_len, CLS_ERR_OUT_OF_MEMORY, "out of host memory reading %s", dir);
  }
  for (size_t i = 0; i < rd->n_points && !st; i++) st = read_run(in, dir, &rd->points[i], err, err_len);
  cls_rundir_destroy(rd);
  if (!st && !in->n_runs)
    st = cls_errf(err, err_len, CLS_ERR_INVALID_VALUE,
                  "%s has no finished or diverged point: run the sweep first (clscale sweep SPEC --out %s)", dir,
                  dir);
  if (st) {
    cls_fit_lrt_input_destroy(in);
    return st;
  }
  *out = in;
  return CLS_OK;
}

static bool same(double a, double b) {
  return a == b || (isnan(a) && isnan(b));
}

static size_t distinct(const double *v, size_t n, double *out) {
  size_t k = 0;
  for (size_t i = 0; i < n; i++) {
    size_t j = 0;
    while (j < k && !(out[j] == v[i] || (isnan(out[j]) && isnan(v[i])))) j++;
    if (j == k) out[k++] = v[i];
  }
  return k;
}

static int by_value(const void *a, const void *b) {
  const double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

size_t cls_fit_lrt_n_rates(const cls_lrt_input *in) {
  if (!in || !in->n_runs) return 0;
  double *lr = malloc(in->n_runs * sizeof *lr), *d = malloc(in->n_runs * sizeof *d);
  size_t k = 0;
  for (size_t i = 0; lr && d && i < in->n_runs; i++) lr[i] = in->runs[i].lr;
  if (lr && d) k = distinct(lr, in->n_runs, d);
  free(lr);
  free(d);
  return k;
}

bool cls_fit_lrt_applies(const cls_lrt_input *in) {
  if (cls_fit_lrt_n_rates(in) < 3) return false;
  /* Several budgets: a scaling sweep that also varies the rate, for the
   * Chinchilla fits (--lr-transfer says why it is no transfer sweep). */
  for (size_t i = 1; i < in->n_runs; i++)
    if (!same(in->runs[i].budget, in->runs[0].budget)) return false;
  return true;
}

/* ---------------------------------------------------------- the optimum */

int cls_fit_lr_optimum(const double *lr, const double *loss, size_t n, cls_lr_optimum *out) {
  memset(out, 0, sizeof *out);
  out->lr_opt = out->loss_opt = out->a = out->b = out->c = NAN;
  size_t fin = 0, imin = SIZE_MAX, first = SIZE_MAX, last = 0;
  for (size_t i = 0; i < n; i++) {
    if (!isfinite(loss[i])) continue;
    fin++;
    if (first == SIZE_MAX) first = i;
    last = i;
    if (imin == SIZE_MAX || loss[i] < loss[imin]) imin = i;
  }
  if (fin < 3) {
    snprintf(out->why, sizeof out->why, "only %zu rate%s finished: a parabola needs 3 (add rates)", fin,
             fin == 1 ? "" : "s");
    return -1;
  }
  out->i_min = imin;
  if (imin == first) {
    out->edge = -1;
    snprintf(out->why, sizeof out->why,
             "the lowest loss is at the smallest rate %.3g: the optimum lies below the grid (extend it to lower "
             "rates)",
             lr[imin]);
    return 0;
  }
  if (imin == last) {
    out->edge = 1;
    if (last + 1 == n)
      snprintf(out->why, sizeof out->why,
               "the lowest loss is at the largest rate %.3g: the optimum lies above the grid (extend it to higher "
               "rates)",
               lr[imin]);
    else
      snprintf(out->why, sizeof out->why,
               "the lowest loss is at %.3g, the last rate before the runs diverged (%.3g): refine the grid "
               "between them",
               lr[imin], lr[last + 1]);
    return 0;
  }
  /* The finished rates on each side of the minimum. */
  size_t lo = imin - 1, hi = imin + 1;
  while (!isfinite(loss[lo])) lo--;
  while (!isfinite(loss[hi])) hi++;
  const double x[3] = {log2(lr[lo]), log2(lr[imin]), log2(lr[hi])}, y[3] = {loss[lo], loss[imin], loss[hi]};
  double a, b, c, v = x[1];
  if (cls__fit_parabola(x, y, 3, &a, &b, &c) == 0 && a > 0) {
    v = -b / (2 * a);
    /* The minimum of three points with the middle lowest lies between the
     * outer two; rounding must not put it beyond them. */
    v = fmin(fmax(v, x[0]), x[2]);
  } else {
    a = 0, b = 0, c = y[1]; /* a flat bottom: the lowest point itself */
  }
  out->ok = true;
  out->lo = lo;
  out->hi = hi;
  out->a = a, out->b = b, out->c = c;
  out->lr_opt = exp2(v);
  out->loss_opt = a > 0 ? (a * v + b) * v + c : y[1];
  return 0;
}

/* --------------------------------------------------------------- curves */

/* The runs of one curve at one rate. */
typedef struct {
  double *loss; /* the finished seeds' losses */
  size_t n_ok, n_div;
} rate_cell;

static void curve_means(const rate_cell *cells, size_t n, double *loss) {
  for (size_t i = 0; i < n; i++) {
    double s = 0;
    for (size_t k = 0; k < cells[i].n_ok; k++) s += cells[i].loss[k];
    loss[i] = cells[i].n_ok ? s / (double)cells[i].n_ok : NAN;
  }
}

/* The bootstrap of one curve's optimum: each rate's seeds resampled when
 * every finished rate has two or more; else, with one seed, the residuals
 * of a least-squares parabola through up to five finished rates around the
 * minimum added back to its fitted values; else none (boot NULL). */
static void curve_bootstrap(cls_lrt_curve *cv, const rate_cell *cells, const cls_fit_options *o, cls_rng rng,
                            uint64_t curve_index) {
  const size_t n = cv->n;
  const int B = o->bootstrap;
  if (B <= 0 || !cv->opt.ok) return;
  bool seeds = true;
  for (size_t i = 0; i < n; i++) seeds &= cells[i].n_ok == 0 || cells[i].n_ok >= 2;
  /* The window of the residual bootstrap: up to two finished rates on
   * each side of the minimum. */
  size_t win[5], nw = 0;
  double wx[5], wy[5], wfit[5], wres[5], a = 0, b = 0, c = 0;
  if (!seeds) {
    /* Walk out from the minimum: up to two finished rates on each side. */
    const size_t im = cv->opt.i_min;
    size_t left = 0, right = 0, first = im;
    for (size_t i = im; i-- > 0 && left < 2;)
      if (isfinite(cv->loss[i])) first = i, left++;
    for (size_t i = first; i < n && nw < 5 && (i <= im || right < 2); i++) {
      if (!isfinite(cv->loss[i])) continue;
      right += i > im;
      win[nw] = i;
      wx[nw] = log2(cv->lr[i]);
      wy[nw] = cv->loss[i];
      nw++;
    }
    if (nw < 4 || cls__fit_parabola(wx, wy, nw, &a, &b, &c) != 0) return; /* no residuals to resample */
    for (size_t j = 0; j < nw; j++) {
      wfit[j] = (a * wx[j] + b) * wx[j] + c;
      wres[j] = wy[j] - wfit[j];
    }
  }
  cv->boot = malloc((size_t)B * sizeof *cv->boot);
  double *loss = malloc(n * sizeof *loss), *tmp = malloc((size_t)B * sizeof *tmp);
  if (!cv->boot || !loss || !tmp) {
    free(cv->boot);
    cv->boot = NULL;
    free(loss);
    free(tmp);
    return;
  }
  for (int r = 0; r < B; r++) {
    const uint64_t at = curve_index * 1000003u + (uint64_t)r;
    uint32_t draw = 0;
    if (seeds) {
      for (size_t i = 0; i < n; i++) {
        double s = 0;
        for (size_t k = 0; k < cells[i].n_ok; k++)
          s += cells[i].loss[cls_rng_below(rng, at, draw++, cells[i].n_ok)];
        loss[i] = cells[i].n_ok ? s / (double)cells[i].n_ok : NAN;
      }
    } else {
      memcpy(loss, cv->loss, n * sizeof *loss);
      for (size_t j = 0; j < nw; j++) loss[win[j]] = wfit[j] + wres[cls_rng_below(rng, at, draw++, nw)];
    }
    cls_lr_optimum q;
    cv->boot[r] = cls_fit_lr_optimum(cv->lr, loss, n, &q) == 0 && q.ok ? q.lr_opt : NAN;
    if (isfinite(cv->boot[r])) cv->boot_ok++;
  }
  memcpy(tmp, cv->boot, (size_t)B * sizeof *tmp);
  /* Intervals from the resamples that found an optimum; when most found
   * none (the minimum sits near an edge), there is no interval to give. */
  if (cv->boot_ok * 2 >= B) cv->lr_opt_ci = cls__fit_interval(tmp, (size_t)B, o->ci_level);
  free(loss);
  free(tmp);
}

/* --------------------------------------------------------------- family */

static const char *const dims[] = {"width", "depth", "label_tokens", "head_dim"};

static double dim_of(const cls_lrt_run *r, size_t d) {
  return d == 0 ? r->width : d == 1 ? r->depth : d == 2 ? r->label_tokens : r->head_dim;
}

/* One curve: the runs of family param at value v of dimension d. */
static cls_status make_curve(const cls_lrt_input *in, const char *param, size_t d, double v, cls_lrt_curve *cv,
                             rate_cell **cells_out) {
  double *all = malloc(in->n_runs * sizeof *all), *lr = malloc(in->n_runs * sizeof *lr);
  if (!all || !lr) {
    free(all);
    free(lr);
    return CLS_ERR_OUT_OF_MEMORY;
  }
  size_t m = 0;
  for (size_t i = 0; i < in->n_runs; i++)
    if (!strcmp(in->runs[i].param, param) && same(dim_of(&in->runs[i], d), v)) all[m++] = in->runs[i].lr;
  const size_t n = distinct(all, m, lr);
  qsort(lr, n, sizeof *lr, by_value);
  free(all);
  cv->value = v;
  cv->n = n;
  cv->lr = lr;
  cv->loss = malloc(n * sizeof *cv->loss);
  cv->n_ok = calloc(n, sizeof *cv->n_ok);
  cv->n_div = calloc(n, sizeof *cv->n_div);
  rate_cell *cells = calloc(n, sizeof *cells);
  *cells_out = cells;
  if (!cv->loss || !cv->n_ok || !cv->n_div || !cells) return CLS_ERR_OUT_OF_MEMORY;
  for (size_t k = 0; k < n; k++) {
    cells[k].loss = malloc(m * sizeof *cells[k].loss);
    if (!cells[k].loss) return CLS_ERR_OUT_OF_MEMORY;
    for (size_t i = 0; i < in->n_runs; i++) {
      const cls_lrt_run *r = &in->runs[i];
      if (strcmp(r->param, param) || !same(dim_of(r, d), v) || r->lr != lr[k]) continue;
      if (r->diverged)
        cells[k].n_div++;
      else
        cells[k].loss[cells[k].n_ok++] = r->loss;
    }
    cv->n_ok[k] = cells[k].n_ok;
    cv->n_div[k] = cells[k].n_div;
  }
  curve_means(cells, n, cv->loss);
  cls_fit_lr_optimum(cv->lr, cv->loss, n, &cv->opt);
  cv->lr_opt_ci.lo = cv->lr_opt_ci.hi = NAN;
  return CLS_OK;
}

static void free_cells(rate_cell *cells, size_t n) {
  for (size_t k = 0; cells && k < n; k++) free(cells[k].loss);
  free(cells);
}

/* The slope of log(lr_opt) against log(value) over the curves with an
 * optimum, and its interval from the curves' resamples. */
static void family_slope(cls_lrt_family *f, const char *dim, double grid_step, const cls_fit_options *o) {
  double *x = malloc((f->n_curves + 1) * sizeof *x), *y = malloc((f->n_curves + 1) * sizeof *y);
  size_t m = 0, edges = 0;
  if (!x || !y) {
    free(x), free(y);
    snprintf(f->why, sizeof f->why, "out of host memory");
    snprintf(f->verdict, sizeof f->verdict, "%s: no slope: %s", f->param, f->why);
    return;
  }
  for (size_t c = 0; c < f->n_curves; c++) {
    if (!f->curves[c].opt.ok) {
      edges++;
      continue;
    }
    x[m] = log(f->curves[c].value);
    y[m++] = log(f->curves[c].opt.lr_opt);
  }
  f->n_optima = m;
  f->slope = f->icpt = f->moved = NAN;
  f->slope_ci.lo = f->slope_ci.hi = NAN;
  char edge_note[160] = "";
  if (edges)
    snprintf(edge_note, sizeof edge_note, " (%zu curve%s with the minimum at the grid's edge left out)", edges,
             edges == 1 ? "" : "s");
  if (m < 2 || cls__fit_distinct(x, m, 2) < 2 || cls__fit_line(x, y, m, &f->slope, &f->icpt) != 0) {
    snprintf(f->why, sizeof f->why, "fewer than two values of %s have an interior optimum%s", dim, edge_note);
    snprintf(f->verdict, sizeof f->verdict, "%s: no slope: %s", f->param, f->why);
    free(x), free(y);
    return;
  }
  f->slope_ok = true;
  double lo = INFINITY, hi = -INFINITY;
  for (size_t i = 0; i < m; i++) lo = fmin(lo, x[i]), hi = fmax(hi, x[i]);
  f->moved = exp(fabs(f->slope) * (hi - lo));
  f->transfers = f->moved < grid_step;
  const int B = o->bootstrap;
  double *s = B > 0 ? malloc((size_t)B * sizeof *s) : NULL;
  int got = 0;
  for (int r = 0; s && r < B; r++) {
    size_t k = 0;
    bool fine = true;
    for (size_t c = 0; c < f->n_curves && fine; c++) {
      const cls_lrt_curve *cv = &f->curves[c];
      if (!cv->opt.ok) continue;
      /* A curve without resamples keeps its estimate in every resample. */
      const double v = cv->boot ? cv->boot[r] : cv->opt.lr_opt;
      fine = isfinite(v);
      y[k++] = log(v);
    }
    double sl, ic;
    s[r] = fine && cls__fit_line(x, y, m, &sl, &ic) == 0 ? sl : NAN;
    got += isfinite(s[r]);
  }
  if (s && got * 2 >= B) f->slope_ci = cls__fit_interval(s, (size_t)B, o->ci_level);
  free(s);
  free(x), free(y);
  char ci[64] = "";
  if (isfinite(f->slope_ci.lo)) snprintf(ci, sizeof ci, " [%.2f, %.2f]", f->slope_ci.lo, f->slope_ci.hi);
  /* The slope at which the optimum would move by one grid step over the
   * range: an interval on both sides of it leaves the verdict open. */
  const double edge_slope = log(grid_step) / (hi - lo);
  const bool open = isfinite(f->slope_ci.lo) && f->slope_ci.lo < edge_slope && f->slope_ci.hi > -edge_slope &&
                    (f->slope_ci.lo <= -edge_slope || f->slope_ci.hi >= edge_slope);
  if (open) {
    size_t used = strlen(edge_note);
    snprintf(edge_note + used, sizeof edge_note - used, "; the interval allows either verdict (more seeds)");
  }
  snprintf(
      f->verdict, sizeof f->verdict,
      "%s: the optimal rate %s across %s: log lr_opt ~ %.2f%s x log %s, so over %s %g .. %g it moves by x%.2f, "
      "%s one step of the rate grid (x%.3g)%s",
      f->param, f->transfers ? "transfers" : "does not transfer", dim, f->slope, ci, dim, dim, exp(lo), exp(hi),
      f->moved, f->transfers ? "less than" : "more than", grid_step, edge_note);
}

static int param_rank(const char *p) {
  return !strcmp(p, "sp") ? 0 : !strcmp(p, "mup") ? 1 : !strcmp(p, "mup-depth") ? 2 : 3;
}

static int by_param(const void *a, const void *b) {
  const char *x = a, *y = b; /* each a char[16] */
  int rx = param_rank(x), ry = param_rank(y);
  return rx != ry ? (rx < ry ? -1 : 1) : strcmp(x, y);
}

/* The varied dimension: width when it varies (the head size may vary with
 * it at a fixed head count), else the one of depth, label_tokens, head_dim
 * that varies; -1 (and a message) for none or several. */
static int varied_dim(const cls_lrt_input *in, char *err, size_t err_len) {
  double *v = malloc(in->n_runs * sizeof *v), *d = malloc(in->n_runs * sizeof *d);
  size_t count[4] = {0};
  for (size_t k = 0; v && d && k < 4; k++) {
    for (size_t i = 0; i < in->n_runs; i++) v[i] = dim_of(&in->runs[i], k);
    count[k] = distinct(v, in->n_runs, d);
  }
  free(v);
  free(d);
  int which = -1, n = 0;
  char names[64] = "";
  for (int k = 0; k < 4; k++) {
    if (count[k] < 2 || (k == 3 && count[0] >= 2)) continue;
    if (which < 0) which = k;
    n++;
    size_t used = strlen(names);
    snprintf(names + used, sizeof names - used, "%s%s", used ? " and " : "", dims[k]);
  }
  if (n == 0)
    cls_errf(err, err_len, CLS_ERR_INVALID_VALUE,
             "no dimension varies: a transfer sweep varies one of width, depth, label_tokens or head_dim "
             "(docs/sweep.md, 'Learning-rate transfer')");
  else if (n > 1)
    cls_errf(err, err_len, CLS_ERR_INVALID_VALUE,
             "the points vary in %s: a transfer fit varies one dimension at a time (split the sweep)", names);
  return n == 1 ? which : -1;
}

cls_status cls_fit_lrtransfer_run(const cls_lrt_input *in, const cls_fit_options *o, cls_fit_lrtransfer *out,
                                  char *err, size_t err_len) {
  memset(out, 0, sizeof *out);
  if (!in || !o) return cls_errf(err, err_len, CLS_ERR_NULL_ARGUMENT, "no input");
  const int d = varied_dim(in, err, err_len);
  if (d < 0) return CLS_ERR_INVALID_VALUE;
  snprintf(out->dim, sizeof out->dim, "%s", dims[d]);
  out->n_runs = in->n_runs;
  out->n_boot = o->bootstrap;
  out->budget = in->runs[0].budget;
  snprintf(out->budget_unit, sizeof out->budget_unit, "%s",
           in->runs[0].budget_unit ? in->runs[0].budget_unit : "");
  for (size_t i = 0; i < in->n_runs; i++) {
    if (!same(in->runs[i].budget, out->budget) ||
        strcmp(in->runs[i].budget_unit ? in->runs[i].budget_unit : "", out->budget_unit))
      return cls_errf(err, err_len, CLS_ERR_INVALID_VALUE,
                      "the points have several budgets (%g and %g): a transfer fit compares rates at one budget "
                      "(split the sweep)",
                      out->budget, in->runs[i].budget);
    out->n_diverged += in->runs[i].diverged;
  }
  /* The rate grid's step: the median ratio of neighbouring rates. */
  double *lr = malloc(in->n_runs * sizeof *lr), *g = malloc(in->n_runs * sizeof *g);
  char(*params)[16] = calloc(in->n_runs, sizeof *params);
  if (!lr || !g || !params) {
    free(lr), free(g), free(params);
    return cls_errf(err, err_len, CLS_ERR_OUT_OF_MEMORY, "out of host memory");
  }
  for (size_t i = 0; i < in->n_runs; i++) g[i] = in->runs[i].lr;
  size_t nl = distinct(g, in->n_runs, lr);
  qsort(lr, nl, sizeof *lr, by_value);
  for (size_t i = 0; i + 1 < nl; i++) g[i] = lr[i + 1] / lr[i];
  out->grid_step = nl >= 2 ? cls__fit_quantile(g, nl - 1, 0.5) : NAN;
  /* The parametrisations, in the order sp, mup, mup-depth. */
  size_t np = 0;
  for (size_t i = 0; i < in->n_runs; i++) {
    size_t j = 0;
    while (j < np && strcmp(params[j], in->runs[i].param)) j++;
    if (j == np) snprintf(params[np++], sizeof params[0], "%s", in->runs[i].param);
  }
  qsort(params, np, sizeof params[0], by_param);
  out->families = calloc(np, sizeof *out->families);
  cls_status st = out->families ? CLS_OK : CLS_ERR_OUT_OF_MEMORY;
  const cls_rng rng = cls_rng_make(o->seed, LRT_STREAM);
  uint64_t curve_index = 0;
  for (size_t p = 0; !st && p < np; p++) {
    cls_lrt_family *f = &out->families[out->n_families++];
    snprintf(f->param, sizeof f->param, "%s", params[p]);
    size_t m = 0;
    for (size_t i = 0; i < in->n_runs; i++)
      if (!strcmp(in->runs[i].param, f->param)) lr[m++] = dim_of(&in->runs[i], (size_t)d);
    const size_t nv = distinct(lr, m, g);
    qsort(g, nv, sizeof *g, by_value);
    f->curves = calloc(nv, sizeof *f->curves);
    if (!f->curves) {
      st = CLS_ERR_OUT_OF_MEMORY;
      break;
    }
    for (size_t c = 0; !st && c < nv; c++) {
      rate_cell *cells = NULL;
      f->n_curves++;
      st = make_curve(in, f->param, (size_t)d, g[c], &f->curves[c], &cells);
      if (!st) curve_bootstrap(&f->curves[c], cells, o, rng, curve_index++);
      free_cells(cells, f->curves[c].n);
    }
    if (!st) family_slope(f, out->dim, out->grid_step, o);
  }
  free(lr), free(g), free(params);
  if (st) {
    cls_fit_lrtransfer_free(out);
    return cls_errf(err, err_len, st, "out of host memory fitting %zu points", in->n_runs);
  }
  /* The summary: each family's verdict, then SP against muP. */
  size_t used = 0;
  const cls_lrt_family *sp = NULL, *mup = NULL;
  for (size_t p = 0; p < out->n_families; p++) {
    const cls_lrt_family *f = &out->families[p];
    if (!strcmp(f->param, "sp")) sp = f;
    if (!strcmp(f->param, "mup")) mup = f;
    int k = snprintf(out->summary + used, sizeof out->summary - used, "%s%s.", used ? " " : "", f->verdict);
    if (k > 0) used = used + (size_t)k < sizeof out->summary ? used + (size_t)k : sizeof out->summary - 1;
  }
  if (sp && mup && sp->slope_ok && mup->slope_ok)
    snprintf(out->summary + used, sizeof out->summary - used, " muP's slope (%.2f) is %s 0 than SP's (%.2f).",
             mup->slope, fabs(mup->slope) < fabs(sp->slope) ? "closer to" : "no closer to", sp->slope);
  return CLS_OK;
}

void cls_fit_lrtransfer_free(cls_fit_lrtransfer *t) {
  if (!t) return;
  for (size_t p = 0; p < t->n_families; p++) {
    cls_lrt_family *f = &t->families[p];
    for (size_t c = 0; c < f->n_curves; c++) {
      cls_lrt_curve *cv = &f->curves[c];
      free(cv->lr);
      free(cv->loss);
      free(cv->n_ok);
      free(cv->n_div);
      free(cv->boot);
    }
    free(f->curves);
  }
  free(t->families);
  memset(t, 0, sizeof *t);
}
