/*
 * src/fit/fit.c — runs the three fits and derives the compute-optimal
 * allocation "10× compute → model ×10^a, data ×10^b, loss ÷ L(C)/L(10C)".
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fit/fit.h"

void cls_fit_options_default(cls_fit_options *o) {
  o->huber_delta = 1e-3;
  o->bootstrap = 200;
  o->seed = 0;
  o->starts = 0;
  o->ci_level = 0.95;
  o->budget_tol = 0.1;
  o->ref_flops = NAN;
  o->frontier_skip = 0.1;
  o->isoflop_linear = false;
  o->isoflop_residuals = false;
  o->fix_E = NAN;
}

/* Loss on the compute-optimal path of the parametric law at budget C, with
 * C = 6·N·D: N*(C) = G·(C/6)^a, G = (αA/(βB))^(1/(α+β)), D* = (C/6)/N*. */
static double param_loss_opt(const double *p, double c) {
  double E = p[0], A = p[1], al = p[2], B = p[3], be = p[4];
  double G = pow(al * A / (be * B), 1 / (al + be));
  double n = G * pow(c / 6, be / (al + be)), d = c / 6 / n;
  return E + A / pow(n, al) + B / pow(d, be);
}

static double frontier_loss(const double *p, double c) {
  return p[0] + p[1] * pow(c, -p[2]);
}

static cls_ci pow10_ci(cls_ci e) {
  cls_ci r = {pow(10, e.lo), pow(10, e.hi)};
  return r;
}

void cls_fit_allocation_run(const cls_fit_result *r, const cls_fit_input *in, cls_fit_allocation *out) {
  memset(out, 0, sizeof *out);
  out->model_factor = out->data_factor = out->loss_factor = NAN;
  out->model_factor_ci.lo = out->model_factor_ci.hi = out->data_factor_ci.lo = out->data_factor_ci.hi = NAN;
  out->loss_factor_ci.lo = out->loss_factor_ci.hi = NAN;
  const cls_fit_isoflop *iso = &r->isoflop;
  const cls_fit_parametric *par = &r->parametric;
  const cls_fit_frontier *fr = &r->frontier;
  /* Exponents: IsoFLOP measures them directly; else the parametric law. */
  if (iso->ok) {
    snprintf(out->exponents_from, sizeof out->exponents_from, "isoflop");
    out->model_factor = pow(10, iso->n_fit.exponent);
    out->data_factor = pow(10, iso->d_fit.exponent);
    out->model_factor_ci = pow10_ci(iso->n_fit.exponent_ci);
    out->data_factor_ci = pow10_ci(iso->d_fit.exponent_ci);
  } else if (par->ok) {
    snprintf(out->exponents_from, sizeof out->exponents_from, "parametric");
    out->model_factor = pow(10, par->a);
    out->data_factor = pow(10, par->b);
    out->model_factor_ci = pow10_ci(par->a_ci);
    out->data_factor_ci = pow10_ci(par->b_ci);
  }
  /* Reference budget: the user's, else the largest C measured, so "10×" is
   * the next decade beyond the sweep. */
  double cref = r->opt.ref_flops;
  if (!(cref > 0)) {
    cref = 0;
    for (size_t i = 0; i < in->n_pts; i++) cref = fmax(cref, in->pts[i].c);
  }
  out->ref_flops = cref;
  double *v = NULL;
  if (fr->ok) {
    snprintf(out->loss_from, sizeof out->loss_from, "frontier");
    double p[3] = {fr->E, fr->k, fr->gamma};
    out->loss_factor = frontier_loss(p, cref) / frontier_loss(p, 10 * cref);
    if (fr->n_boot && (v = malloc((size_t)fr->n_boot * sizeof *v))) {
      for (int b = 0; b < fr->n_boot; b++)
        v[b] = frontier_loss(fr->boot + 3 * b, cref) / frontier_loss(fr->boot + 3 * b, 10 * cref);
      out->loss_factor_ci = cls__fit_interval(v, (size_t)fr->n_boot, r->opt.ci_level);
    }
  } else if (par->ok) {
    snprintf(out->loss_from, sizeof out->loss_from, "parametric");
    double p[5] = {par->E, par->A, par->alpha, par->B, par->beta};
    out->loss_factor = param_loss_opt(p, cref) / param_loss_opt(p, 10 * cref);
    if (par->n_boot && (v = malloc((size_t)par->n_boot * sizeof *v))) {
      for (int b = 0; b < par->n_boot; b++)
        v[b] = param_loss_opt(par->boot + 5 * b, cref) / param_loss_opt(par->boot + 5 * b, 10 * cref);
      out->loss_factor_ci = cls__fit_interval(v, (size_t)par->n_boot, r->opt.ci_level);
    }
  }
  free(v);
  out->ok = out->exponents_from[0] && out->loss_from[0];
}

cls_status cls_fit_all(const cls_fit_input *in, const cls_fit_options *o, cls_fit_result *out) {
  if (!in || !o || !out) return CLS_ERR_NULL_ARGUMENT;
  memset(out, 0, sizeof *out);
  out->opt = *o;
  cls_status st = cls_fit_frontier_run(in, o, &out->frontier);
  if (!st) st = cls_fit_isoflop_run(in, o, &out->isoflop);
  if (!st) st = cls_fit_parametric_run(in, o, &out->parametric);
  if (!st) st = cls_fit_constrained_run(in, o, &out->parametric, &out->constrained);
  if (!st) cls_fit_allocation_run(out, in, &out->allocation);
  return st;
}

void cls_fit_result_free(cls_fit_result *r) {
  if (!r) return;
  free(r->frontier.c), free(r->frontier.l), free(r->frontier.boot);
  free(r->isoflop.budgets), free(r->isoflop.boot_a), free(r->isoflop.boot_b);
  free(r->isoflop.boot_law), free(r->isoflop.point_budget);
  free(r->parametric.predicted), free(r->parametric.boot), free(r->parametric.residuals);
  free(r->constrained.boot);
  memset(r, 0, sizeof *r);
}
