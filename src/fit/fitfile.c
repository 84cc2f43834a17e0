/*
 * src/fit/fitfile.c — reads fit.json (format in docs/formats.md), the file
 * cls_fit_write_json writes; the plotter draws the fits from it. Each of
 * the three sections (frontier, isoflop, parametric) is optional; a section
 * that is present must be complete, so a figure is never drawn from half a fit.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "fit/fitfile.h"
#include "rundir/json.h"

static void free_power(cls_power_fit *p) {
  free(p->band_c);
  free(p->band_lo);
  free(p->band_hi);
}

void cls_fit_destroy(cls_fit *f) {
  if (!f) return;
  free(f->budgets);
  free(f->fr_draws.v), free(f->iso_draws.v), free(f->par_draws.v);
  free_power(&f->n_opt_fit);
  free_power(&f->d_opt_fit);
  free(f->param_points);
  free(f->param_resid);
  free(f->backtest.runs);
  free(f->constrained.draws.v);
  for (size_t i = 0; i < f->n_axis_fits; i++) {
    for (size_t g = 0; g < f->axis_fits[i].n_groups; g++) {
      cls_axis_fit_group *q = &f->axis_fits[i].groups[g];
      free(q->x), free(q->loss), free(q->theory);
    }
    free(f->axis_fits[i].groups);
  }
  free(f->axis_fits);
  for (size_t i = 0; i < f->collapse.n_laws; i++)
    free(f->collapse.laws[i].generations), free(f->collapse.laws[i].E);
  free(f->collapse.laws);
  free(f);
}

/* Reads required finite numbers; on failure names the first missing field. */
static bool need(const cJSON *obj, const char *section, const char **keys, double **dst, int n, const char *path,
                 char *err, size_t err_len) {
  for (int i = 0; i < n; i++) {
    *dst[i] = cls_json_get_num(obj, keys[i]);
    if (!isfinite(*dst[i])) {
      cls_errf(err, err_len, CLS_ERR_FORMAT,
               "%s: %s.%s is missing or not a finite number (docs/formats.md defines fit.json)", path, section,
               keys[i]);
      return false;
    }
  }
  return true;
}

static cls_status read_array(const cJSON *arr, double **out, size_t *n) {
  int m = cJSON_GetArraySize(arr);
  *n = 0;
  *out = malloc((size_t)(m > 0 ? m : 1) * sizeof **out);
  if (!*out) return CLS_ERR_OUT_OF_MEMORY;
  for (int i = 0; i < m; i++) {
    const cJSON *v = cJSON_GetArrayItem(arr, i);
    (*out)[i] = cJSON_IsNumber(v) && isfinite(v->valuedouble) ? v->valuedouble : NAN;
  }
  *n = (size_t)m;
  return CLS_OK;
}

/* bootstrap_draws of a section: an array of rows of width numbers (null:
 * NaN). Absent: no draws (version 1, or --bootstrap 0). */
static cls_status read_draws(const cJSON *o, const char *section, size_t width, cls_fit_draws *d, const char *path,
                             char *err, size_t err_len) {
  const cJSON *a = cJSON_GetObjectItemCaseSensitive(o, "bootstrap_draws");
  if (!a) return CLS_OK;
  int n = cJSON_GetArraySize(a);
  if (!cJSON_IsArray(a)) n = -1;
  d->v = malloc((size_t)(n > 0 ? n : 1) * width * sizeof *d->v);
  if (!d->v) return CLS_ERR_OUT_OF_MEMORY;
  for (int r = 0; r < n; r++) {
    const cJSON *row = cJSON_GetArrayItem(a, r);
    if (!cJSON_IsArray(row) || (size_t)cJSON_GetArraySize(row) != width) n = -1;
    for (size_t k = 0; n >= 0 && k < width; k++) {
      const cJSON *v = cJSON_GetArrayItem(row, (int)k);
      d->v[(size_t)r * width + k] = cJSON_IsNumber(v) && isfinite(v->valuedouble) ? v->valuedouble : NAN;
    }
  }
  if (n < 0)
    return cls_errf(err, err_len, CLS_ERR_FORMAT,
                    "%s: %s.bootstrap_draws must be an array of arrays of %zu numbers", path, section, width);
  d->n = (size_t)n, d->width = width;
  return CLS_OK;
}

static cls_status read_power(const cJSON *iso, const char *key, cls_power_fit *p, const char *path, char *err,
                             size_t err_len) {
  const cJSON *o = cJSON_GetObjectItemCaseSensitive(iso, key);
  if (!o) return CLS_OK;
  char section[64];
  snprintf(section, sizeof section, "isoflop.%s", key);
  const char *keys[2] = {"coef", "exponent"};
  double *dst[2] = {&p->coef, &p->exponent};
  if (!need(o, section, keys, dst, 2, path, err, err_len)) return CLS_ERR_FORMAT;
  cls_json_get_pair(o, "exponent_ci", &p->exponent_ci.lo, &p->exponent_ci.hi);
  const cJSON *band = cJSON_GetObjectItemCaseSensitive(o, "band");
  if (band) {
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(band, "flops"),
                *lo = cJSON_GetObjectItemCaseSensitive(band, "lo"),
                *hi = cJSON_GetObjectItemCaseSensitive(band, "hi");
    size_t n1, n2, n3;
    if (!cJSON_IsArray(c) || !cJSON_IsArray(lo) || !cJSON_IsArray(hi) || read_array(c, &p->band_c, &n1) ||
        read_array(lo, &p->band_lo, &n2) || read_array(hi, &p->band_hi, &n3) || n1 != n2 || n1 != n3) {
      return cls_errf(err, err_len, CLS_ERR_FORMAT, "%s: %s.band needs arrays flops, lo and hi of equal length",
                      path, section);
    }
    p->band_n = n1;
  }
  p->present = true;
  return CLS_OK;
}

static cls_status read_isoflop(const cJSON *iso, cls_fit *f, const char *path, char *err, size_t err_len) {
  const cJSON *b = cJSON_GetObjectItemCaseSensitive(iso, "budgets");
  if (!cJSON_IsArray(b)) {
    return cls_errf(err, err_len, CLS_ERR_FORMAT, "%s: isoflop.budgets must be an array", path);
  }
  int n = cJSON_GetArraySize(b);
  f->budgets = calloc((size_t)(n > 0 ? n : 1), sizeof *f->budgets);
  if (!f->budgets) return CLS_ERR_OUT_OF_MEMORY;
  for (int i = 0; i < n; i++) {
    const cJSON *o = cJSON_GetArrayItem(b, i);
    cls_isoflop_budget *q = &f->budgets[i];
    const char *keys[7] = {"budget_flops", "a", "b", "c", "n_opt", "d_opt", "loss_opt"};
    double *dst[7] = {&q->budget_flops, &q->a, &q->b, &q->c, &q->n_opt, &q->d_opt, &q->loss_opt};
    char section[48];
    snprintf(section, sizeof section, "isoflop.budgets[%d]", i);
    if (!need(o, section, keys, dst, 7, path, err, err_len)) return CLS_ERR_FORMAT;
    cls_json_get_pair(o, "n_opt_ci", &q->n_opt_ci.lo, &q->n_opt_ci.hi);
    cls_json_get_pair(o, "d_opt_ci", &q->d_opt_ci.lo, &q->d_opt_ci.hi);
    f->n_budgets++;
  }
  const char *space = cls_json_get_str(iso, "parabola_of");
  f->parabola_of_log_loss = space && !strcmp(space, "log10_loss");
  f->ci_level = cls_json_get_num(iso, "ci_level");
  cls_status st = read_power(iso, "n_opt_fit", &f->n_opt_fit, path, err, err_len);
  if (!st) st = read_power(iso, "d_opt_fit", &f->d_opt_fit, path, err, err_len);
  if (!st) st = read_draws(iso, "isoflop", 4, &f->iso_draws, path, err, err_len);
  return st;
}

static cls_status read_parametric(const cJSON *p, cls_fit *f, const char *path, char *err, size_t err_len) {
  const char *keys[5] = {"E", "A", "alpha", "B", "beta"};
  double *dst[5] = {&f->E, &f->A, &f->alpha, &f->B, &f->beta};
  if (!need(p, "parametric", keys, dst, 5, path, err, err_len)) return CLS_ERR_FORMAT;
  cls_json_get_pair(p, "alpha_ci", &f->alpha_ci.lo, &f->alpha_ci.hi);
  cls_json_get_pair(p, "beta_ci", &f->beta_ci.lo, &f->beta_ci.hi);
  cls_status st = read_draws(p, "parametric", 5, &f->par_draws, path, err, err_len);
  if (st) return st;
  const cJSON *pts = cJSON_GetObjectItemCaseSensitive(p, "points");
  if (pts) {
    int n = cJSON_GetArraySize(pts);
    f->param_points = calloc((size_t)(n > 0 ? n : 1), sizeof *f->param_points);
    if (!f->param_points) return CLS_ERR_OUT_OF_MEMORY;
    for (int i = 0; i < n; i++) {
      const cJSON *o = cJSON_GetArrayItem(pts, i);
      cls_param_point *q = &f->param_points[f->n_param_points];
      const char *id = cls_json_get_str(o, "id");
      snprintf(q->id, sizeof q->id, "%s", id ? id : "");
      q->n_params = cls_json_get_num(o, "n_params");
      q->tokens = cls_json_get_num(o, "tokens");
      q->flops = cls_json_get_num(o, "flops");
      q->epochs = cls_json_get_num(o, "epochs");
      q->observed = cls_json_get_num(o, "observed");
      q->predicted = cls_json_get_num(o, "predicted");
      f->n_param_points++;
    }
    /* the residuals, for the prediction intervals of a plan */
    f->param_resid = malloc((f->n_param_points ? f->n_param_points : 1) * sizeof *f->param_resid);
    if (!f->param_resid) return CLS_ERR_OUT_OF_MEMORY;
    for (size_t i = 0; i < f->n_param_points; i++) {
      const cls_param_point *q = &f->param_points[i];
      if (q->observed > 0 && q->predicted > 0)
        f->param_resid[f->n_param_resid++] = log(q->observed / q->predicted);
    }
  }
  f->has_parametric = true;
  return CLS_OK;
}

/* One group of an axis fit: its points, and its law when fitted. */
static cls_status read_axis_group(const cJSON *o, cls_axis_fit_group *q, const char *section, const char *path,
                                  char *err, size_t err_len) {
  const char *label = cls_json_get_str(o, "label");
  snprintf(q->label, sizeof q->label, "%s", label ? label : "");
  q->E = q->A = q->gamma = NAN;
  q->gamma_ci.lo = q->gamma_ci.hi = NAN;
  q->theory_exponent = q->theory_gamma = q->theory_floor = q->max_rel_dev = NAN;
  const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, "x"), *l = cJSON_GetObjectItemCaseSensitive(o, "loss");
  size_t nx, nl;
  if (!cJSON_IsArray(x) || !cJSON_IsArray(l) || read_array(x, &q->x, &nx) || read_array(l, &q->loss, &nl) ||
      nx != nl)
    return cls_errf(err, err_len, CLS_ERR_FORMAT, "%s: %s needs arrays x and loss of equal length", path, section);
  q->n_x = nx;
  const cJSON *fitted = cJSON_GetObjectItemCaseSensitive(o, "fitted");
  q->fitted = cJSON_IsTrue(fitted);
  if (q->fitted) {
    const char *keys[3] = {"E", "A", "gamma"};
    double *dst[3] = {&q->E, &q->A, &q->gamma};
    if (!need(o, section, keys, dst, 3, path, err, err_len)) return CLS_ERR_FORMAT;
    cls_json_get_pair(o, "gamma_ci", &q->gamma_ci.lo, &q->gamma_ci.hi);
  }
  const cJSON *th = cJSON_GetObjectItemCaseSensitive(o, "theory");
  const cJSON *tl = th ? cJSON_GetObjectItemCaseSensitive(th, "loss") : NULL;
  size_t nt = 0;
  if (cJSON_IsArray(tl) && read_array(tl, &q->theory, &nt)) return CLS_ERR_OUT_OF_MEMORY;
  if (q->theory && nt != nx)
    return cls_errf(err, err_len, CLS_ERR_FORMAT, "%s: %s.theory.loss must be as long as x", path, section);
  if (th) {
    q->theory_exponent = cls_json_get_num(th, "exponent");
    q->theory_gamma = cls_json_get_num(th, "fitted_gamma");
    q->theory_floor = cls_json_get_num(th, "floor");
    q->max_rel_dev = cls_json_get_num(th, "max_rel_dev");
  }
  return CLS_OK;
}

/* collapse: the fitted laws (unfitted ones, with a reason, are skipped). */
static cls_status read_collapse(const cJSON *co, cls_fit *f, const char *path, char *err, size_t err_len) {
  const cJSON *laws = cJSON_GetObjectItemCaseSensitive(co, "laws");
  if (!cJSON_IsObject(co) || !cJSON_IsArray(laws))
    return cls_errf(err, err_len, CLS_ERR_FORMAT, "%s: collapse must be an object with an array laws", path);
  cls_collapse_fit *c = &f->collapse;
  c->largest_d = cls_json_get_num(co, "largest_D");
  int n = cJSON_GetArraySize(laws);
  c->laws = calloc((size_t)(n > 0 ? n : 1), sizeof *c->laws);
  if (!c->laws) return CLS_ERR_OUT_OF_MEMORY;
  for (int i = 0; i < n; i++) {
    const cJSON *o = cJSON_GetArrayItem(laws, i);
    if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "fitted"))) continue;
    cls_collapse_fit_law *L = &c->laws[c->n_laws++];
    char section[48];
    snprintf(section, sizeof section, "collapse.laws[%d]", i);
    const char *keys[3] = {"real_fraction", "A", "gamma"};
    double *dst[3] = {&L->real_fraction, &L->A, &L->gamma};
    if (!need(o, section, keys, dst, 3, path, err, err_len)) return CLS_ERR_FORMAT;
    const cJSON *g = cJSON_GetObjectItemCaseSensitive(o, "generations"),
                *E = cJSON_GetObjectItemCaseSensitive(o, "E");
    size_t ng = 0, ne = 0;
    if (!cJSON_IsArray(g) || !cJSON_IsArray(E) || read_array(g, &L->generations, &ng) ||
        read_array(E, &L->E, &ne) || ng != ne || !ng)
      return cls_errf(err, err_len, CLS_ERR_FORMAT, "%s: %s needs arrays generations and E of equal length", path,
                      section);
    for (size_t k = 0; k < ng; k++)
      if (!isfinite(L->generations[k]) || !isfinite(L->E[k]))
        return cls_errf(err, err_len, CLS_ERR_FORMAT, "%s: %s.E[%zu] is not a finite number", path, section, k);
    L->n_gen = ng;
    cls_json_get_pair(o, "gamma_ci", &L->gamma_ci.lo, &L->gamma_ci.hi);
  }
  c->present = true;
  return CLS_OK;
}

/* data_constrained: the law and its draws. */
static cls_status read_constrained(const cJSON *o, cls_fit *f, const char *path, char *err, size_t err_len) {
  cls_constrained_fit *c = &f->constrained;
  const char *keys[7] = {"E", "A", "alpha", "B", "beta", "rd_star", "half_value_epochs"};
  double *dst[7] = {&c->E, &c->A, &c->alpha, &c->B, &c->beta, &c->rd_star, &c->half_value_epochs};
  if (!need(o, "data_constrained", keys, dst, 7, path, err, err_len)) return CLS_ERR_FORMAT;
  c->rn_star = cls_json_get_num(o, "rn_star");
  c->max_epochs = cls_json_get_num(o, "max_epochs");
  c->rd_star_ci.lo = c->rd_star_ci.hi = NAN;
  cls_json_get_pair(o, "rd_star_ci", &c->rd_star_ci.lo, &c->rd_star_ci.hi);
  cls_status st = read_draws(o, "data_constrained", 7, &c->draws, path, err, err_len);
  c->present = !st;
  return st;
}

/* backtest: the held-out runs (clscale fit --holdout-top). */
static cls_status read_backtest(const cJSON *o, cls_fit *f, const char *path, char *err, size_t err_len) {
  const cJSON *runs = cJSON_GetObjectItemCaseSensitive(o, "runs");
  if (!cJSON_IsObject(o) || !cJSON_IsArray(runs))
    return cls_errf(err, err_len, CLS_ERR_FORMAT, "%s: backtest must be an object with an array runs", path);
  cls_backtest_fit *b = &f->backtest;
  int n = cJSON_GetArraySize(runs);
  b->runs = calloc((size_t)(n > 0 ? n : 1), sizeof *b->runs);
  if (!b->runs) return CLS_ERR_OUT_OF_MEMORY;
  b->holdout = (int)cls_json_get_num(o, "holdout_top");
  b->train_flops_max = cls_json_get_num(o, "train_flops_max");
  b->ci_level = cls_json_get_num(o, "ci_level");
  for (int i = 0; i < n; i++) {
    const cJSON *q = cJSON_GetArrayItem(runs, i);
    cls_backtest_run *r = &b->runs[b->n_runs];
    char section[48];
    snprintf(section, sizeof section, "backtest.runs[%d]", i);
    const char *keys[5] = {"n_params", "tokens", "flops", "observed", "predicted"};
    double *dst[5] = {&r->n_params, &r->tokens, &r->flops, &r->observed, &r->predicted};
    if (!need(q, section, keys, dst, 5, path, err, err_len)) return CLS_ERR_FORMAT;
    r->budget_flops = cls_json_get_num(q, "budget_flops");
    r->pi.lo = r->pi.hi = NAN;
    cls_json_get_pair(q, "pi", &r->pi.lo, &r->pi.hi);
    r->inside = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(q, "inside"));
    b->n_inside += r->inside;
    b->n_runs++;
  }
  b->present = true;
  return CLS_OK;
}

/* axis_fits: an array of fits, each with its groups. */
static cls_status read_axis_fits(const cJSON *arr, cls_fit *f, const char *path, char *err, size_t err_len) {
  if (!cJSON_IsArray(arr)) return cls_errf(err, err_len, CLS_ERR_FORMAT, "%s: axis_fits must be an array", path);
  int n = cJSON_GetArraySize(arr);
  f->axis_fits = calloc((size_t)(n > 0 ? n : 1), sizeof *f->axis_fits);
  if (!f->axis_fits) return CLS_ERR_OUT_OF_MEMORY;
  for (int i = 0; i < n; i++) {
    const cJSON *o = cJSON_GetArrayItem(arr, i);
    cls_axis_fit *a = &f->axis_fits[f->n_axis_fits++];
    const char *axis = cls_json_get_str(o, "axis"), *floor = cls_json_get_str(o, "floor");
    if (!axis)
      return cls_errf(err, err_len, CLS_ERR_FORMAT, "%s: axis_fits[%d].axis is missing or not a string", path, i);
    snprintf(a->axis, sizeof a->axis, "%s", axis);
    a->floor_zero = floor && !strcmp(floor, "zero");
    a->from_curves = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "from_curves"));
    const cJSON *gs = cJSON_GetObjectItemCaseSensitive(o, "groups");
    if (!cJSON_IsArray(gs))
      return cls_errf(err, err_len, CLS_ERR_FORMAT, "%s: axis_fits[%d].groups must be an array", path, i);
    int m = cJSON_GetArraySize(gs);
    a->groups = calloc((size_t)(m > 0 ? m : 1), sizeof *a->groups);
    if (!a->groups) return CLS_ERR_OUT_OF_MEMORY;
    for (int g = 0; g < m; g++) {
      char section[64];
      snprintf(section, sizeof section, "axis_fits[%d].groups[%d]", i, g);
      a->n_groups++;
      cls_status st = read_axis_group(cJSON_GetArrayItem(gs, g), &a->groups[g], section, path, err, err_len);
      if (st) return st;
    }
  }
  return CLS_OK;
}

cls_status cls_fit_load(const char *path, cls_fit **out, char *err, size_t err_len) {
  if (!path || !out) return CLS_ERR_NULL_ARGUMENT;
  *out = NULL;
  cJSON *root;
  cls_status st = cls_json_load(path, &root, err, err_len);
  if (st) return st;
  cls_fit *f = calloc(1, sizeof *f);
  if (!f) {
    cJSON_Delete(root);
    return CLS_ERR_OUT_OF_MEMORY;
  }
  f->ci_level = NAN;
  f->fr_c_lo = f->fr_c_hi = NAN;
  f->collapse.largest_d = NAN;
  f->fr_gamma_ci.lo = f->fr_gamma_ci.hi = NAN;
  f->runs_c_lo = f->runs_c_hi = NAN;
  /* Files without a version predate it and are version 1. */
  double version = cls_json_get_num(root, "version");
  /* Converted only when in range: a version of 1.7e10 does not fit an int. */
  int known = !isfinite(version) || (version >= 1 && version <= CLS_FIT_JSON_VERSION && version == floor(version));
  f->version = !isfinite(version) ? 1 : known ? (int)version : 0;
  if (!known)
    st = cls_errf(err, err_len, CLS_ERR_FORMAT,
                  "%s: fit.json version %g is not one this clscale reads (1 to %d): it was written by another "
                  "clscale; rerun clscale fit with this one",
                  path, version, CLS_FIT_JSON_VERSION);
  cls_json_get_pair(root, "runs_flops_range", &f->runs_c_lo, &f->runs_c_hi);
  const cJSON *fr = cJSON_GetObjectItemCaseSensitive(root, "frontier");
  if (fr) {
    const char *keys[3] = {"E", "k", "gamma"};
    double *dst[3] = {&f->fr_E, &f->fr_k, &f->fr_gamma};
    if (!st && !need(fr, "frontier", keys, dst, 3, path, err, err_len)) st = CLS_ERR_FORMAT;
    if (!st) st = read_draws(fr, "frontier", 3, &f->fr_draws, path, err, err_len);
    cls_json_get_pair(fr, "gamma_ci", &f->fr_gamma_ci.lo, &f->fr_gamma_ci.hi);
    cls_json_get_pair(fr, "flops_range", &f->fr_c_lo, &f->fr_c_hi);
    f->has_frontier = !st;
  }
  const cJSON *iso = cJSON_GetObjectItemCaseSensitive(root, "isoflop");
  if (!st && iso) st = read_isoflop(iso, f, path, err, err_len);
  if (!isfinite(f->ci_level)) f->ci_level = cls_json_get_num(root, "ci_level");
  const cJSON *par = cJSON_GetObjectItemCaseSensitive(root, "parametric");
  if (!st && par) st = read_parametric(par, f, path, err, err_len);
  const cJSON *ax = cJSON_GetObjectItemCaseSensitive(root, "axis_fits");
  if (!st && ax) st = read_axis_fits(ax, f, path, err, err_len);
  const cJSON *dc = cJSON_GetObjectItemCaseSensitive(root, "data_constrained");
  if (!st && dc) st = read_constrained(dc, f, path, err, err_len);
  const cJSON *skip =
      cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(root, "skipped"), "data_constrained");
  if (!st && !dc && cJSON_IsString(skip))
    snprintf(f->constrained.why, sizeof f->constrained.why, "%s", skip->valuestring);
  const cJSON *bt = cJSON_GetObjectItemCaseSensitive(root, "backtest");
  if (!st && bt) st = read_backtest(bt, f, path, err, err_len);
  const cJSON *co = cJSON_GetObjectItemCaseSensitive(root, "collapse");
  if (!st && co) st = read_collapse(co, f, path, err, err_len);
  cJSON_Delete(root);
  if (st) {
    cls_fit_destroy(f);
    return st;
  }
  *out = f;
  return CLS_OK;
}

/* ------------------------------------------------------ coordinate check */

cls_status cls_fit_laws_of_file(const cls_fit *f, const char *path, cls_fit_laws *L, char *err, size_t err_len) {
  if (!f || !L) return CLS_ERR_NULL_ARGUMENT;
  memset(L, 0, sizeof *L);
  if (f->version < 2)
    return cls_errf(err, err_len, CLS_ERR_FORMAT,
                    "%s is fit.json version %d, written by an older clscale without the bootstrap draws a plan "
                    "needs: rerun clscale fit",
                    path, f->version);
  L->ci_level = isfinite(f->ci_level) ? f->ci_level : 0.95;
  if (f->has_parametric) {
    L->has_par = true;
    L->par[0] = f->E, L->par[1] = f->A, L->par[2] = f->alpha, L->par[3] = f->B, L->par[4] = f->beta;
    L->par_draws = f->par_draws.v, L->n_par_draws = f->par_draws.n;
    L->par_resid = f->param_resid, L->n_par_resid = f->n_param_resid;
  }
  if (f->n_opt_fit.present && f->d_opt_fit.present) {
    L->has_iso = true;
    L->iso[0] = f->n_opt_fit.coef, L->iso[1] = f->n_opt_fit.exponent;
    L->iso[2] = f->d_opt_fit.coef, L->iso[3] = f->d_opt_fit.exponent;
    L->iso_draws = f->iso_draws.v, L->n_iso_draws = f->iso_draws.n;
  }
  if (f->has_frontier) {
    L->has_fr = true;
    L->fr[0] = f->fr_E, L->fr[1] = f->fr_k, L->fr[2] = f->fr_gamma;
    L->fr_draws = f->fr_draws.v, L->n_fr_draws = f->fr_draws.n;
  }
  const cls_constrained_fit *c = &f->constrained;
  if (c->present) {
    L->has_dc = true;
    const double v[7] = {c->E, c->A, c->alpha, c->B, c->beta, c->rd_star, c->rn_star};
    memcpy(L->dc, v, sizeof v);
    L->dc_draws = c->draws.v, L->n_dc_draws = c->draws.n;
  }
  return CLS_OK;
}
