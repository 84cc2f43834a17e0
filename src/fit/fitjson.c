/*
 * src/fit/fitjson.c — writes fit.json (docs/formats.md) with cJSON: to a
 * temporary name in the same folder, flushed and renamed, so a reader never
 * sees half a file. JSON has no NaN: unknown values are written as null.
 */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/file.h"
#include "fit/axis.h"
#include "fit/collapse.h"
#include "fit/fit.h"
#include "fit/fitfile.h"

static void num(cJSON *o, const char *key, double v) {
  if (isfinite(v))
    cJSON_AddNumberToObject(o, key, v);
  else
    cJSON_AddNullToObject(o, key);
}

/* An interval, left out when the bootstrap gave none. */
static void pair(cJSON *o, const char *key, cls_ci ci) {
  if (!isfinite(ci.lo) || !isfinite(ci.hi)) return;
  cJSON *a = cJSON_AddArrayToObject(o, key);
  if (!a) return;
  cJSON_AddItemToArray(a, cJSON_CreateNumber(ci.lo));
  cJSON_AddItemToArray(a, cJSON_CreateNumber(ci.hi));
}

/* A bootstrap's resampled laws, one array of width numbers per resample
 * (null where it gave no fit): `clscale plan` solves each for its target,
 * which is how a plan's intervals carry the fit's uncertainty. */
static void draws(cJSON *o, const double *rows, int n, int width) {
  if (!rows || n <= 0) return;
  cJSON *a = cJSON_AddArrayToObject(o, "bootstrap_draws");
  for (int r = 0; a && r < n; r++) {
    cJSON *row = cJSON_CreateArray();
    for (int k = 0; row && k < width; k++) {
      double v = rows[(size_t)r * (size_t)width + (size_t)k];
      cJSON_AddItemToArray(row, isfinite(v) ? cJSON_CreateNumber(v) : cJSON_CreateNull());
    }
    cJSON_AddItemToArray(a, row);
  }
}

static void power(cJSON *iso, const char *key, const cls_fit_power *p) {
  if (!p->ok) return;
  cJSON *o = cJSON_AddObjectToObject(iso, key);
  if (!o) return;
  cJSON_AddStringToObject(o, "form", "coef * C^exponent");
  num(o, "coef", p->coef);
  num(o, "exponent", p->exponent);
  pair(o, "coef_ci", p->coef_ci);
  pair(o, "exponent_ci", p->exponent_ci);
  if (p->band_n) {
    cJSON *b = cJSON_AddObjectToObject(o, "band");
    cJSON *c = cJSON_AddArrayToObject(b, "flops"), *lo = cJSON_AddArrayToObject(b, "lo"),
          *hi = cJSON_AddArrayToObject(b, "hi");
    for (size_t i = 0; i < p->band_n; i++) {
      cJSON_AddItemToArray(c, cJSON_CreateNumber(p->band_c[i]));
      cJSON_AddItemToArray(lo, cJSON_CreateNumber(p->band_lo[i]));
      cJSON_AddItemToArray(hi, cJSON_CreateNumber(p->band_hi[i]));
    }
  }
}

/* Chinchilla approach 1: the frontier, or why it was skipped. */
static void put_frontier(cJSON *root, cJSON *skipped, const cls_fit_result *r) {
  const cls_fit_frontier *fr = &r->frontier;
  if (fr->ok) {
    cJSON *o = cJSON_AddObjectToObject(root, "frontier");
    cJSON_AddStringToObject(o, "form", "L = E + k*C^-gamma");
    num(o, "E", fr->E);
    num(o, "k", fr->k);
    num(o, "gamma", fr->gamma);
    pair(o, "E_ci", fr->E_ci);
    pair(o, "k_ci", fr->k_ci);
    pair(o, "gamma_ci", fr->gamma_ci);
    cls_ci range = {fr->c[0], fr->c[fr->n - 1]};
    pair(o, "flops_range", range);
    num(o, "huber_delta", r->opt.huber_delta);
    num(o, "skip_fraction", r->opt.frontier_skip);
    num(o, "objective", fr->objective);
    cJSON_AddNumberToObject(o, "n_runs", (double)fr->n_runs);
    cJSON_AddNumberToObject(o, "bootstrap_ok", fr->boot_ok);
    draws(o, fr->boot, fr->n_boot, 3);
    cJSON *pts = cJSON_AddArrayToObject(o, "points");
    for (size_t i = 0; i < fr->n; i++) {
      cJSON *p = cJSON_CreateObject();
      num(p, "flops", fr->c[i]);
      num(p, "loss", fr->l[i]);
      cJSON_AddItemToArray(pts, p);
    }
  } else {
    cJSON_AddStringToObject(skipped, "frontier", fr->why);
  }
}

/* One IsoFLOP budget: its parabola and minimum when used, else why not. */
static cJSON *isoflop_budget(const cls_fit_budget *b) {
  cJSON *q = cJSON_CreateObject();
  num(q, "budget_flops", b->budget);
  cJSON_AddBoolToObject(q, "nominal", b->nominal);
  cJSON_AddNumberToObject(q, "n_points", (double)b->n_points);
  cJSON_AddNumberToObject(q, "n_sizes", (double)b->n_sizes);
  cls_ci nr = {b->n_lo, b->n_hi};
  pair(q, "n_range", nr);
  if (b->used) {
    num(q, "a", b->a);
    num(q, "b", b->b);
    num(q, "c", b->c);
    num(q, "n_opt", b->n_opt);
    pair(q, "n_opt_ci", b->n_opt_ci);
    num(q, "d_opt", b->d_opt);
    pair(q, "d_opt_ci", b->d_opt_ci);
    num(q, "loss_opt", b->loss_opt);
  } else {
    cJSON_AddStringToObject(q, "reason", b->why);
    if (isfinite(b->a)) num(q, "a", b->a), num(q, "b", b->b), num(q, "c", b->c);
  }
  return q;
}

/* Chinchilla approach 2: the IsoFLOP profiles and their power laws. */
static void put_isoflop(cJSON *root, cJSON *skipped, const cls_fit_result *r) {
  const cls_fit_isoflop *iso = &r->isoflop;
  if (iso->n_used > 0) {
    cJSON *o = cJSON_AddObjectToObject(root, "isoflop");
    num(o, "ci_level", r->opt.ci_level);
    cJSON_AddStringToObject(o, "d_opt_from", "tokens of the budget's runs, log D linear in log N, at N_opt");
    cJSON *bs = cJSON_AddArrayToObject(o, "budgets"), *ex = cJSON_AddArrayToObject(o, "excluded");
    for (size_t i = 0; i < iso->n_budgets; i++) {
      const cls_fit_budget *b = &iso->budgets[i];
      cJSON_AddItemToArray(b->used ? bs : ex, isoflop_budget(b));
    }
    /* y of a x^2 + b x + c, x = log10 N */
    cJSON_AddStringToObject(o, "parabola_of", r->opt.isoflop_linear ? "loss" : "log10_loss");
    cJSON_AddStringToObject(o, "bootstrap_resamples", r->opt.isoflop_residuals ? "residuals" : "runs");
    power(o, "n_opt_fit", &iso->n_fit);
    power(o, "d_opt_fit", &iso->d_fit);
    cJSON_AddNumberToObject(o, "bootstrap_ok", iso->boot_ok);
    if (iso->ok) draws(o, iso->boot_law, iso->n_boot, 4);
    if (!iso->ok) cJSON_AddStringToObject(o, "power_laws_skipped", iso->why);
  } else {
    cJSON_AddStringToObject(skipped, "isoflop", iso->why);
    /* the excluded budgets are still worth reporting */
    if (iso->n_budgets) {
      cJSON *ex = cJSON_AddArrayToObject(skipped, "isoflop_budgets");
      for (size_t i = 0; i < iso->n_budgets; i++) {
        cJSON *q = cJSON_CreateObject();
        num(q, "budget_flops", iso->budgets[i].budget);
        cJSON_AddNumberToObject(q, "n_points", (double)iso->budgets[i].n_points);
        cJSON_AddStringToObject(q, "reason", iso->budgets[i].why);
        cJSON_AddItemToArray(ex, q);
      }
    }
  }
}

/* Chinchilla approach 3: the parametric law and each run's prediction. */
static void put_parametric(cJSON *root, cJSON *skipped, const cls_fit_result *r, const cls_fit_input *in) {
  const cls_fit_parametric *par = &r->parametric;
  if (par->ok) {
    cJSON *o = cJSON_AddObjectToObject(root, "parametric");
    cJSON_AddStringToObject(o, "form", "L = E + A/N^alpha + B/D^beta");
    num(o, "E", par->E);
    num(o, "A", par->A);
    num(o, "alpha", par->alpha);
    num(o, "B", par->B);
    num(o, "beta", par->beta);
    pair(o, "E_ci", par->E_ci);
    pair(o, "A_ci", par->A_ci);
    pair(o, "alpha_ci", par->alpha_ci);
    pair(o, "B_ci", par->B_ci);
    pair(o, "beta_ci", par->beta_ci);
    num(o, "huber_delta", r->opt.huber_delta);
    if (r->opt.fix_E > 0) num(o, "fixed_E", r->opt.fix_E); /* E pinned, not fitted (--fix-E) */
    num(o, "objective", par->objective);
    cJSON_AddNumberToObject(o, "n_starts", par->n_starts);
    cJSON_AddNumberToObject(o, "n_converged", par->n_converged);
    cJSON_AddNumberToObject(o, "bootstrap_ok", par->boot_ok);
    draws(o, par->boot, par->n_boot, 5);
    cJSON *opt = cJSON_AddObjectToObject(o, "optimal");
    num(opt, "n_opt_exponent", par->a);
    num(opt, "d_opt_exponent", par->b);
    pair(opt, "n_opt_exponent_ci", par->a_ci);
    pair(opt, "d_opt_exponent_ci", par->b_ci);
    cJSON *pts = cJSON_AddArrayToObject(o, "points");
    for (size_t i = 0; i < in->n_pts; i++) {
      cJSON *p = cJSON_CreateObject();
      cJSON_AddStringToObject(p, "id", in->pts[i].id);
      num(p, "n_params", in->pts[i].n);
      num(p, "tokens", in->pts[i].d);
      num(p, "flops", in->pts[i].c);
      if (isfinite(in->pts[i].epochs)) num(p, "epochs", in->pts[i].epochs);
      num(p, "observed", in->pts[i].loss);
      num(p, "predicted", par->predicted[i]);
      cJSON_AddItemToArray(pts, p);
    }
  } else {
    cJSON_AddStringToObject(skipped, "parametric", par->why);
  }
}

/* The data-constrained law beside the plain one, or why it was skipped. */
static void put_constrained(cJSON *root, cJSON *skipped, const cls_fit_result *r) {
  const cls_fit_constrained *c = &r->constrained;
  if (!c->ok) {
    cJSON_AddStringToObject(skipped, "data_constrained", c->why);
    return;
  }
  cJSON *o = cJSON_AddObjectToObject(root, "data_constrained");
  if (!o) return;
  cJSON_AddStringToObject(o, "form",
                          "L = E + A/N'^alpha + B/D'^beta, D' = U_D + U_D*R*_D*(1 - exp(-R_D/R*_D)), "
                          "N' = U_N + U_N*R*_N*(1 - exp(-R_N/R*_N))");
  num(o, "E", c->E);
  num(o, "A", c->A);
  num(o, "alpha", c->alpha);
  num(o, "B", c->B);
  num(o, "beta", c->beta);
  num(o, "rd_star", c->rd_star);
  pair(o, "rd_star_ci", c->rd_star_ci);
  num(o, "rn_star", c->rn_star);
  pair(o, "rn_star_ci", c->rn_star_ci);
  pair(o, "E_ci", c->E_ci);
  pair(o, "alpha_ci", c->alpha_ci);
  pair(o, "beta_ci", c->beta_ci);
  num(o, "half_value_epochs", c->half_value_epochs);
  pair(o, "half_value_epochs_ci", c->half_value_epochs_ci);
  cJSON_AddNumberToObject(o, "n_repeated", (double)c->n_repeated);
  cJSON_AddNumberToObject(o, "n_excess", (double)c->n_excess);
  num(o, "max_epochs", c->max_epochs);
  num(o, "objective", c->objective);
  num(o, "plain_objective", c->plain_objective);
  cJSON_AddNumberToObject(o, "bootstrap_ok", c->boot_ok);
  draws(o, c->boot, c->n_boot, 7);
}

/* "10x compute -> ..." when the fits give exponents and a loss law. */
static void put_allocation(cJSON *root, const cls_fit_result *r) {
  const cls_fit_allocation *al = &r->allocation;
  if (al->ok) {
    cJSON *o = cJSON_AddObjectToObject(root, "allocation");
    cJSON_AddNumberToObject(o, "compute_factor", 10);
    num(o, "reference_flops", al->ref_flops);
    cJSON_AddStringToObject(o, "exponents_from", al->exponents_from);
    cJSON_AddStringToObject(o, "loss_from", al->loss_from);
    num(o, "model_factor", al->model_factor);
    pair(o, "model_factor_ci", al->model_factor_ci);
    num(o, "data_factor", al->data_factor);
    pair(o, "data_factor_ci", al->data_factor_ci);
    num(o, "loss_factor", al->loss_factor);
    pair(o, "loss_factor_ci", al->loss_factor_ci);
    char text[256];
    snprintf(text, sizeof text, "10x compute -> model x%.3g, data x%.3g, loss /%.3g", al->model_factor,
             al->data_factor, al->loss_factor);
    cJSON_AddStringToObject(o, "summary", text);
    /* every law's compute-optimal point at the reference budget */
    cls_fit_laws laws;
    cls_fit_optimum opt[CLS_FIT_N_LAWS];
    char err[256];
    cls_fit_laws_of_result(r, &laws);
    if (!cls_fit_optimum_at(&laws, CLS_PLAN_FLOPS, al->ref_flops, opt, err, sizeof err)) {
      cJSON *arr = cJSON_AddArrayToObject(o, "optimum");
      for (int i = 0; arr && i < CLS_FIT_N_LAWS; i++) {
        if (!opt[i].ok) continue;
        cJSON *q = cJSON_CreateObject();
        cJSON_AddStringToObject(q, "law", opt[i].law);
        num(q, "n_opt", opt[i].n);
        pair(q, "n_opt_ci", opt[i].n_ci);
        num(q, "d_opt", opt[i].d);
        pair(q, "d_opt_ci", opt[i].d_ci);
        num(q, "loss", opt[i].loss);
        pair(q, "loss_ci", opt[i].loss_ci);
        pair(q, "loss_pi", opt[i].loss_pi);
        cJSON_AddItemToArray(arr, q);
      }
    }
  }
}

/* The backtest: the held-out runs and budgets against the training fit. */
static void put_backtest(cJSON *root, const cls_fit_backtest *bt, double level) {
  cJSON *o = cJSON_AddObjectToObject(root, "backtest");
  if (!o) return;
  cJSON_AddNumberToObject(o, "holdout_top", bt->holdout);
  cJSON_AddNumberToObject(o, "n_budgets", (double)bt->n_budgets);
  cJSON_AddNumberToObject(o, "n_train", (double)bt->n_train);
  num(o, "train_flops_max", bt->train_c_hi);
  num(o, "ci_level", level);
  num(o, "residual_sd", bt->residual_sd);
  cJSON_AddNumberToObject(o, "n_inside", (double)bt->n_inside);
  num(o, "mean_abs_rel_error", bt->mean_abs_rel_error);
  num(o, "max_abs_rel_error", bt->max_abs_rel_error);
  cJSON *runs = cJSON_AddArrayToObject(o, "runs");
  for (size_t i = 0; runs && i < bt->n_runs; i++) {
    const cls_fit_heldout *h = &bt->runs[i];
    cJSON *q = cJSON_CreateObject();
    cJSON_AddStringToObject(q, "id", h->id);
    num(q, "budget_flops", h->budget);
    num(q, "n_params", h->n);
    num(q, "tokens", h->d);
    num(q, "flops", h->c);
    num(q, "observed", h->observed);
    num(q, "predicted", h->predicted);
    pair(q, "ci", h->ci);
    pair(q, "pi", h->pi);
    num(q, "rel_error", h->rel_error);
    cJSON_AddBoolToObject(q, "inside", h->inside);
    cJSON_AddItemToArray(runs, q);
  }
  cJSON *bs = cJSON_AddArrayToObject(o, "budgets");
  for (size_t i = 0; bs && i < bt->n_held_budgets; i++) {
    const cls_fit_heldout_budget *h = &bt->budgets[i];
    cJSON *q = cJSON_CreateObject();
    num(q, "budget_flops", h->budget);
    num(q, "n_opt_measured", h->n_opt);
    for (int l = 0; l < CLS_FIT_N_LAWS; l++) {
      if (!h->opt[l].ok || !isfinite(h->opt[l].n)) continue;
      cJSON *e = cJSON_AddObjectToObject(q, h->opt[l].law);
      num(e, "n_opt", h->opt[l].n);
      pair(e, "n_opt_ci", h->opt[l].n_ci);
    }
    cJSON_AddItemToArray(bs, q);
  }
}

static cJSON *build(const cls_fit_result *r, const cls_fit_input *in) {
  cJSON *root = cJSON_CreateObject();
  if (!root) return NULL;
  cJSON_AddNumberToObject(root, "version", CLS_FIT_JSON_VERSION);
  cJSON_AddStringToObject(root, "loss", in->train_loss ? "train" : "eval");
  num(root, "ci_level", r->opt.ci_level);
  cJSON_AddNumberToObject(root, "bootstrap", r->opt.bootstrap);
  cJSON_AddNumberToObject(root, "seed", (double)r->opt.seed);
  cJSON_AddNumberToObject(root, "n_runs", (double)in->n_pts);
  /* the compute the runs span: a plan below it is no prediction */
  cls_ci range = {INFINITY, -INFINITY};
  for (size_t i = 0; i < in->n_pts; i++)
    range.lo = fmin(range.lo, in->pts[i].c), range.hi = fmax(range.hi, in->pts[i].c);
  pair(root, "runs_flops_range", range);
  cJSON *skipped = cJSON_CreateObject();
  put_frontier(root, skipped, r);
  put_isoflop(root, skipped, r);
  put_parametric(root, skipped, r, in);
  put_constrained(root, skipped, r);
  put_allocation(root, r);
  if (cJSON_GetArraySize(skipped) > 0)
    cJSON_AddItemToObject(root, "skipped", skipped);
  else
    cJSON_Delete(skipped);
  return root;
}

cls_status cls_fit_write_json(const cls_fit_result *r, const cls_fit_input *in, const char *path, char *err,
                              size_t err_len) {
  return cls_fit_write_json_backtest(r, in, NULL, path, err, err_len);
}

cls_status cls_fit_write_json_backtest(const cls_fit_result *r, const cls_fit_input *in,
                                       const cls_fit_backtest *bt, const char *path, char *err, size_t err_len) {
  if (!r || !in || !path) return CLS_ERR_NULL_ARGUMENT;
  cJSON *root = build(r, in);
  if (root && bt) put_backtest(root, bt, r->opt.ci_level);
  cls_status st = cls_write_json_atomic(path, root, err, err_len);
  cJSON_Delete(root);
  return st;
}

/* ------------------------------------------------------------ axis fits */

static void put_array(cJSON *o, const char *key, const double *v, size_t n) {
  cJSON *a = cJSON_AddArrayToObject(o, key);
  for (size_t i = 0; a && i < n; i++)
    cJSON_AddItemToArray(a, isfinite(v[i]) ? cJSON_CreateNumber(v[i]) : cJSON_CreateNull());
}

/* One group: its config, its points, the fit (or why not) and the theory. */
static cJSON *axis_group(const cls_fit_axis_group *g) {
  cJSON *q = cJSON_CreateObject();
  cJSON_AddStringToObject(q, "label", g->label);
  cJSON *cfg = cJSON_AddObjectToObject(q, "config");
  for (const char *line = g->config; line && *line;) {
    const char *eq = strchr(line, '='), *nl = strchr(line, '\n');
    if (!eq || !nl || eq > nl) break;
    char key[128], val[128];
    snprintf(key, sizeof key, "%.*s", (int)(eq - line), line);
    snprintf(val, sizeof val, "%.*s", (int)(nl - eq - 1), eq + 1);
    char *end;
    double v = strtod(val, &end);
    if (val[0] && !*end && isfinite(v))
      cJSON_AddNumberToObject(cfg, key, v);
    else
      cJSON_AddStringToObject(cfg, key, val);
    line = nl + 1;
  }
  cJSON_AddNumberToObject(q, "n_runs", (double)g->n_runs);
  cJSON_AddBoolToObject(q, "fitted", g->ok);
  if (!g->ok) cJSON_AddStringToObject(q, "reason", g->why);
  put_array(q, "x", g->x, g->n_x);
  put_array(q, "loss", g->loss, g->n_x);
  cJSON *no = cJSON_AddArrayToObject(q, "n_obs");
  for (size_t i = 0; no && i < g->n_x; i++) cJSON_AddItemToArray(no, cJSON_CreateNumber((double)g->n_obs[i]));
  if (g->ok) {
    num(q, "E", g->E);
    num(q, "A", g->A);
    num(q, "gamma", g->gamma);
    pair(q, "E_ci", g->E_ci);
    pair(q, "A_ci", g->A_ci);
    pair(q, "gamma_ci", g->gamma_ci);
    num(q, "objective", g->objective);
    cJSON_AddNumberToObject(q, "bootstrap_ok", g->boot_ok);
  }
  cJSON *th = cJSON_AddObjectToObject(q, "theory");
  if (g->has_theory) {
    num(th, "exponent", g->th_exponent);
    num(th, "floor", g->th_floor);
    num(th, "fitted_E", g->th_E);
    num(th, "fitted_A", g->th_A);
    num(th, "fitted_gamma", g->th_gamma);
    num(th, "max_rel_dev", g->th_max_dev);
    put_array(th, "loss", g->theory, g->n_x);
  } else {
    cJSON_AddStringToObject(th, "none", g->theory_why);
  }
  return q;
}

/* ------------------------------------------------------ collapse fits */

static cJSON *collapse_cell(const cls_collapse_cell *q) {
  cJSON *o = cJSON_CreateObject();
  cJSON_AddNumberToObject(o, "generation", q->generation);
  cJSON_AddNumberToObject(o, "real_fraction", q->real_fraction);
  put_array(o, "D", q->d, q->n_d);
  put_array(o, "loss", q->loss, q->n_d);
  put_array(o, "loss_sd", q->sd, q->n_d);
  if (q->accuracy) put_array(o, "accuracy", q->accuracy, q->n_d); /* absent for a text sweep: it measures none */
  cJSON *no = cJSON_AddArrayToObject(o, "n_obs");
  for (size_t i = 0; no && i < q->n_d; i++) cJSON_AddItemToArray(no, cJSON_CreateNumber((double)q->n_obs[i]));
  num(o, "last_drop", q->last_drop);
  cJSON_AddBoolToObject(o, "plateau", q->plateau);
  return o;
}

static cJSON *collapse_law(const cls_collapse_law *L) {
  cJSON *o = cJSON_CreateObject();
  cJSON_AddNumberToObject(o, "real_fraction", L->real_fraction);
  cJSON_AddBoolToObject(o, "fitted", L->ok);
  if (!L->ok) {
    cJSON_AddStringToObject(o, "reason", L->why);
    return o;
  }
  cJSON *g = cJSON_AddArrayToObject(o, "generations");
  for (size_t k = 0; g && k < L->n_gen; k++) cJSON_AddItemToArray(g, cJSON_CreateNumber(L->generations[k]));
  put_array(o, "E", L->E, L->n_gen);
  cJSON *ci = cJSON_AddArrayToObject(o, "E_ci");
  for (size_t k = 0; ci && k < L->n_gen; k++) {
    cJSON *p = cJSON_CreateArray();
    if (isfinite(L->E_ci[k].lo) && isfinite(L->E_ci[k].hi)) {
      cJSON_AddItemToArray(p, cJSON_CreateNumber(L->E_ci[k].lo));
      cJSON_AddItemToArray(p, cJSON_CreateNumber(L->E_ci[k].hi));
    }
    cJSON_AddItemToArray(ci, p); /* [] when the bootstrap gave no interval */
  }
  num(o, "A", L->A);
  num(o, "gamma", L->gamma);
  pair(o, "A_ci", L->A_ci);
  pair(o, "gamma_ci", L->gamma_ci);
  num(o, "objective", L->objective);
  cJSON_AddNumberToObject(o, "bootstrap_ok", L->boot_ok);
  cJSON_AddBoolToObject(o, "floor_grows", L->floor_grows);
  return o;
}

static void put_collapse(cJSON *root, const cls_fit_collapse *c) {
  cJSON *o = cJSON_AddObjectToObject(root, "collapse");
  if (!o) return;
  cJSON_AddStringToObject(o, "axis", c->axis);
  cJSON_AddStringToObject(o, "form",
                          "L_g(D) = E_g + A*D^-gamma (A, gamma shared by the generations of one real_fraction)");
  cJSON_AddNumberToObject(o, "n_runs", (double)c->n_runs);
  num(o, "largest_D", c->largest_d);
  cJSON *a = cJSON_AddArrayToObject(o, "cells");
  for (size_t i = 0; a && i < c->n_cells; i++) cJSON_AddItemToArray(a, collapse_cell(&c->cells[i]));
  a = cJSON_AddArrayToObject(o, "laws");
  for (size_t i = 0; a && i < c->n_laws; i++) cJSON_AddItemToArray(a, collapse_law(&c->laws[i]));
  a = cJSON_AddArrayToObject(o, "recovery");
  for (size_t i = 0; a && i < c->n_recovery; i++) {
    const cls_collapse_recovery *R = &c->recovery[i];
    cJSON *r = cJSON_CreateObject();
    cJSON_AddNumberToObject(r, "generation", R->generation);
    cJSON_AddNumberToObject(r, "real_fraction", R->real_fraction);
    num(r, "loss", R->loss);
    num(r, "loss_pi0", R->loss_pi0);
    num(r, "loss_g0", R->loss_g0);
    num(r, "gap_closed", R->gap_closed);
    pair(r, "gap_closed_ci", R->gap_closed_ci);
    cJSON_AddItemToArray(a, r);
  }
  cJSON_AddStringToObject(o, "summary", c->summary);
}

cls_status cls_fit_write_axis_json(const cls_fit_axis *fits, size_t n_fits, const cls_fit_collapse *collapse,
                                   const cls_fit_options *o, const cls_axis_input *in, const char *path, char *err,
                                   size_t err_len) {
  if (!fits || !o || !in || !path) return CLS_ERR_NULL_ARGUMENT;
  cJSON *root = cJSON_CreateObject();
  if (!root) return CLS_ERR_OUT_OF_MEMORY;
  cJSON_AddNumberToObject(root, "version", CLS_FIT_JSON_VERSION);
  cJSON_AddStringToObject(root, "loss", "eval");
  num(root, "ci_level", o->ci_level);
  cJSON_AddNumberToObject(root, "bootstrap", o->bootstrap);
  cJSON_AddNumberToObject(root, "seed", (double)o->seed);
  cJSON_AddNumberToObject(root, "n_runs", (double)in->n_runs);
  if (in->where[0]) cJSON_AddStringToObject(root, "where", in->where);
  cJSON *arr = cJSON_AddArrayToObject(root, "axis_fits");
  for (size_t i = 0; arr && i < n_fits; i++) {
    const cls_fit_axis *a = &fits[i];
    cJSON *o1 = cJSON_CreateObject();
    cJSON_AddStringToObject(o1, "axis", a->axis);
    cJSON_AddStringToObject(o1, "form", a->floor_zero ? "L = A*X^-gamma" : "L = E + A*X^-gamma");
    cJSON_AddStringToObject(o1, "floor", a->floor_zero ? "zero" : "free");
    cJSON_AddBoolToObject(o1, "from_curves", a->from_curves);
    num(o1, "huber_delta", o->huber_delta);
    cJSON_AddNumberToObject(o1, "n_runs", (double)a->n_runs);
    cJSON_AddNumberToObject(o1, "n_fitted", (double)a->n_fitted);
    if (a->n_zero_loss) cJSON_AddNumberToObject(o1, "zero_loss_left_out", (double)a->n_zero_loss);
    cJSON *gs = cJSON_AddArrayToObject(o1, "groups");
    for (size_t g = 0; gs && g < a->n_groups; g++) cJSON_AddItemToArray(gs, axis_group(&a->groups[g]));
    cJSON_AddItemToArray(arr, o1);
  }
  if (collapse) put_collapse(root, collapse);
  cls_status st = cls_write_json_atomic(path, root, err, err_len);
  cJSON_Delete(root);
  return st;
}
