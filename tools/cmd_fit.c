/*
 * tools/cmd_fit.c — `clscale fit`: scaling-law fits of a run directory (or of
 * a CSV of runs) into fit.json, with a printed table. docs/fit.md.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "command.h"
#include "commands.h"
#include "fit/axis.h"
#include "fit/collapse.h"
#include "fit/fit.h"
#include "options.h"

/* ------------------------------------------------------------- options */

typedef struct {
  const char *run_dir, *csv, *output;
  const char *axis;  /* --axis: comma-separated keys */
  const char *where; /* --where: comma-separated conditions on the points' keys */
  int quiet, train, floor_zero;
  int collapse;  /* --collapse: the collapse fits (also without it when the points have generations) */
  int holdout;   /* --holdout-top K: the backtest */
  int linear;    /* --isoflop-space loss */
  int residuals; /* --isoflop-resample residuals */
  cls_fit_options o;
} fit_args;

/* --starts: "all" (the whole grid), or that many starts from it. */
static int parse_starts(const char *v, void *target, char *why, size_t len) {
  long n;
  (void)why, (void)len;
  if (!strcmp(v, "all")) {
    *(int *)target = 0;
    return CLS_OPT_GOOD;
  }
  if (!cls_opt_parse_long(v, &n) || n < 1 || n > 5400) return CLS_OPT_BAD;
  *(int *)target = (int)n;
  return CLS_OPT_GOOD;
}

static const cls_opt_choice losses[] = {{"eval", 0}, {"train", 1}, {NULL, 0}};
static const cls_opt_choice floors[] = {{"free", 0}, {"zero", 1}, {NULL, 0}};
static const cls_opt_choice spaces[] = {{"logloss", 0}, {"loss", 1}, {NULL, 0}};
static const cls_opt_choice resamples[] = {{"runs", 0}, {"residuals", 1}, {NULL, 0}};

static void fit_command(cls_opt_command *cmd, cls_option *opts, size_t cap, fit_args *a) {
  cls_fit_options *o = &a->o;
  const cls_option table[] = {
      {CLS_OPT(CLS_OPT_POSITIONAL, NULL, &a->run_dir, "RUN_DIR", "run_dir", NULL)},
      {CLS_OPT(CLS_OPT_STRING, "--csv", &a->csv, "FILE", "csv",
               "fit the runs of FILE instead: a header naming the columns N (or n_params),\nloss, and D (or "
               "tokens) and/or C (or flops); optional budget, id. With only\none of D and C the other is C = "
               "6*N*D")},
      {CLS_OPT(CLS_OPT_STRING, "--output", &a->output, "FILE", "output",
               "where to write fit.json (default RUN_DIR/fit.json; with --csv, FILE with\n.csv replaced by "
               ".fit.json)"),
       .alias = "-o"},
      {CLS_OPT(CLS_OPT_DOUBLE, "--delta", &o->huber_delta, "X", "huber_delta delta",
               "Huber threshold on log-loss residuals (default 1e-3)"),
       .wants = "wants a number above 0 and at most 10", .lo = 0, .hi = 10, .flags = CLS_OPT_LO_OPEN},
      {CLS_OPT(CLS_OPT_INT, "--bootstrap", &o->bootstrap, "N", "bootstrap",
               "bootstrap resamples for the intervals, 0 for none (default 200)"),
       .lo = 0, .hi = 100000},
      {CLS_OPT(CLS_OPT_U64, "--seed", &o->seed, "S", "seed", "seed of the resampling (default 0)"),
       .wants = "wants a non-negative whole number"},
      {CLS_OPT(CLS_OPT_CUSTOM, "--starts", &o->starts, "N", "starts",
               "parametric starting points, evenly from the 5400-point grid (default all)"),
       .wants = "wants a whole number from 1 to 5400", .parse = parse_starts},
      {CLS_OPT(CLS_OPT_DOUBLE, "--ci", &o->ci_level, "LEVEL", "ci_level ci",
               "confidence level of the intervals, 0 < LEVEL < 1 (default 0.95)"),
       .wants = "wants a level above 0 and below 1, e.g. 0.95", .lo = 0, .hi = 0.9999, .flags = CLS_OPT_LO_OPEN},
      {CLS_OPT(CLS_OPT_DOUBLE, "--budget-tol", &o->budget_tol, "X", "budget_tol",
               "runs without budget_flops are grouped into budgets whose FLOPs agree within\nthis relative "
               "tolerance (default 0.1)"),
       .wants = "wants a relative tolerance from 0 to 1", .lo = 0, .hi = 1},
      {CLS_OPT(CLS_OPT_DOUBLE, "--ref-flops", &o->ref_flops, "C", "ref_flops",
               "reference budget of the allocation (default: the largest C measured)"),
       .wants = "wants a positive number of FLOPs", .lo = 0, .hi = INFINITY, .flags = CLS_OPT_LO_OPEN},
      {CLS_OPT(CLS_OPT_DOUBLE, "--frontier-skip", &o->frontier_skip, "F", "frontier_skip",
               "leave each run's curve rows below F x its final FLOPs out of the frontier:\nwarm-up transients, "
               "not compute-limited loss (default 0.1; 0 keeps all)"),
       .wants = "wants a fraction from 0 to 1", .lo = 0, .hi = 1},
      {CLS_OPT(CLS_OPT_CHOICE, "--loss", &a->train, "eval|train", "loss",
               "which final loss to fit (default eval; run directories only)"),
       .choices = losses},
      {CLS_OPT(
           CLS_OPT_STRING, "--axis", &a->axis, "NAME[,NAME...]", "axis",
           "fit L = E + A*X^-gamma along each named numeric config key X of the points\n(features, samples, "
           "ridge, n_params, tokens, ...) per group of points equal on\nevery other config key, instead of the "
           "Chinchilla fits (default for the rf\ntask: features,samples; zipf: samples)"),
       .flags = CLS_OPT_NONEMPTY},
      {CLS_OPT(CLS_OPT_STRING, "--where", &a->where, "COND[,COND...]", "where",
               "axis fits: only the points whose config meets every condition, KEY<=V, KEY>=V,\nKEY<V, KEY>V or "
               "KEY=V (features<=128,samples=4096; source=cut); on samples\nor tokens the learning curves' rows "
               "are filtered too"),
       .flags = CLS_OPT_NONEMPTY},
      {CLS_OPT(CLS_OPT_CHOICE, "--axis-floor", &a->floor_zero, "free|zero", "axis_floor",
               "the floor E of the axis fits: fitted (free, the default) or zero"),
       .choices = floors},
      {CLS_OPT(CLS_OPT_FLAG, "--collapse", &a->collapse, NULL, "collapse",
               "model collapse (a sweep with generations; the default for one): per\ngeneration and "
               "real_fraction pi, L = E + A*D^-gamma along tokens; per pi,\nL_g = E_g + A*D^-gamma with A, gamma "
               "shared; the plateau and the gap pi closes")},
      {CLS_OPT(CLS_OPT_CHOICE, "--isoflop-space", &a->linear, "logloss|loss", "isoflop_space",
               "IsoFLOP parabolas of log10 loss (default: the losses of a small budget span\ndecades) or of the "
               "loss itself, as Hoffmann et al. fit them"),
       .choices = spaces},
      {CLS_OPT(CLS_OPT_CHOICE, "--isoflop-resample", &a->residuals, "runs|residuals", "isoflop_resample",
               "what the IsoFLOP bootstrap redraws: each budget's runs (default), or its\nresiduals about the "
               "budget's parabola (intervals shrink to the scatter about it:\non noise-free data to a point)"),
       .choices = resamples},
      {CLS_OPT(CLS_OPT_DOUBLE, "--fix-E", &o->fix_E, "E", "fix_E",
               "pin the irreducible loss E of the parametric (and data-constrained) law\nto E instead of fitting "
               "it (a floor known from elsewhere: the noise of the data)"),
       .wants = "wants a positive loss", .lo = 0, .hi = INFINITY, .flags = CLS_OPT_LO_OPEN},
      {CLS_OPT(
           CLS_OPT_INT, "--holdout-top", &a->holdout, "K", "holdout_top",
           "backtest: fit all but the runs of the K largest budgets, predict those runs'\nlosses and N_opt with "
           "prediction intervals, report the errors and whether\neach truth fell inside (fit.json is then the "
           "fit without them)"),
       .wants = "wants a number of budgets from 1 to 100", .lo = 1, .hi = 100},
      {CLS_OPT(CLS_OPT_FLAG, "--quiet", &a->quiet, NULL, "quiet", "print no table, only warnings and errors"),
       .alias = "-q"},
  };
  cls_cmd_set_options(cmd, opts, cap, table, sizeof table / sizeof table[0]);
  cmd->name = "fit";
  cmd->usage = "usage: clscale fit RUN_DIR [options]\n       clscale fit --csv FILE [options]";
  cmd->about =
      "Fits scaling laws to the runs of RUN_DIR/points/ (written by clscale sweep) or of a CSV:\n"
      "  frontier    lower envelope of loss vs measured FLOPs, L(C) = E + k*C^-gamma\n"
      "  isoflop     per compute budget a parabola of loss in log10 N; N_opt, D_opt; N_opt ~ C^a, D_opt ~ C^b\n"
      "  parametric  L(N,D) = E + A/N^alpha + B/D^beta, Huber loss on log-loss, L-BFGS from a grid of starts\n"
      "with bootstrap intervals, and the compute-optimal allocation \"10x compute -> model x.., data x..,\n"
      "loss /..\". Writes fit.json (read by clscale plot) and prints a table.";
  cmd->epilogue = "Exit codes: 0 at least one fit was written (fits that need more runs are named on stderr),\n"
                  "1 failure (missing or malformed input, no fit possible), 2 bad usage.";
  cmd->words = CLS_OPT_WORDS_WANTS;
}

static int read_args(const cls_opt_command *cmd, int argc, char **argv, fit_args *a) {
  int code = cls_cmd_parse(cmd, argc, argv);
  if (code != CLS_EXIT_GO_ON) return code;
  if (!a->run_dir == !a->csv)
    return cls_cmd_refuse(cmd, a->run_dir ? "give RUN_DIR or --csv FILE, not both"
                                          : "RUN_DIR (or --csv FILE) is missing");
  if (a->csv && a->train)
    return cls_opt_fail(cmd, CLS_EXIT_USAGE, "--loss train needs a run directory (a CSV has one loss column)");
  if (a->csv && (a->axis || a->floor_zero || a->where || a->collapse))
    return cls_opt_fail(cmd, CLS_EXIT_USAGE,
                        "--axis, --axis-floor, --where and --collapse need a run directory (a CSV has no config "
                        "keys)");
  if (a->holdout && (a->axis || a->where || a->collapse))
    return cls_opt_fail(cmd, CLS_EXIT_USAGE,
                        "--holdout-top backtests the Chinchilla fits, not --axis or --collapse");
  if (a->collapse && a->train)
    return cls_opt_fail(cmd, CLS_EXIT_USAGE, "--collapse fits the final eval loss on real data, not --loss train");
  if (a->axis && a->train)
    return cls_opt_fail(cmd, CLS_EXIT_USAGE,
                        "--axis fits the final eval loss; --loss train is for the Chinchilla fits");
  return CLS_EXIT_GO_ON;
}

/* --------------------------------------------------------------- table */

static void ci_text(char *buf, size_t n, cls_ci ci) {
  if (isfinite(ci.lo) && isfinite(ci.hi))
    snprintf(buf, n, "[%.4g, %.4g]", ci.lo, ci.hi);
  else
    snprintf(buf, n, "[no interval]");
}

static void row(const char *name, double v, cls_ci ci) {
  char b[64];
  ci_text(b, sizeof b, ci);
  printf("  %-22s %-12.5g %s\n", name, v, b);
}

/* Budgets with too few model sizes for a parabola: in a sweep that is not an
 * IsoFLOP sweep (one run per budget) there is one per run, and listing each
 * would bury the table; more than SMALL_LISTED are summarised in one line. */
enum { SMALL_LISTED = 3 };
static bool too_few_sizes(const cls_fit_budget *b) {
  return !b->used && strstr(b->why, "3 distinct") != NULL;
}

static size_t count_too_few(const cls_fit_isoflop *iso) {
  size_t n = 0;
  for (size_t i = 0; i < iso->n_budgets; i++) n += too_few_sizes(&iso->budgets[i]);
  return n;
}

/* "value [lo, hi]" in width columns, or "—" for what a law does not give. */
static void value_cell(double v, cls_ci ci, int width) {
  char b[96];
  if (!isfinite(v))
    snprintf(b, sizeof b, "—");
  else if (isfinite(ci.lo) && isfinite(ci.hi))
    snprintf(b, sizeof b, "%.4g [%.4g, %.4g]", v, ci.lo, ci.hi);
  else
    snprintf(b, sizeof b, "%.4g", v);
  int shown = 0;
  for (const char *p = b; *p; p++) shown += ((unsigned char)*p & 0xC0) != 0x80;
  printf("%s%*s", b, width > shown ? width - shown : 0, "");
}

/* N_opt(C) and D_opt(C) at the reference budget from every law, so that
 * nobody has to compute them by hand from fit.json (clscale plan does the
 * same at any budget and sizes the model). */
static void print_optimum(const cls_fit_result *r, double c) {
  cls_fit_laws laws;
  cls_fit_optimum opt[CLS_FIT_N_LAWS];
  char err[256];
  cls_fit_laws_of_result(r, &laws);
  if (!(c > 0) || cls_fit_optimum_at(&laws, CLS_PLAN_FLOPS, c, opt, err, sizeof err)) return;
  printf("\ncompute-optimal point at C = %.4g FLOPs (--ref-flops), %d%% intervals:\n", c,
         (int)lround(r->opt.ci_level * 100));
  printf("  %-11s %-34s %-34s %s\n", "law", "N_opt", "D_opt", "loss");
  for (int i = 0; i < CLS_FIT_N_LAWS; i++) {
    if (!opt[i].ok) continue;
    printf("  %-11s ", opt[i].law);
    value_cell(opt[i].n, opt[i].n_ci, 35);
    value_cell(opt[i].d, opt[i].d_ci, 35);
    value_cell(opt[i].loss, opt[i].loss_ci, 0);
    if (isfinite(opt[i].loss_pi.lo))
      printf("  a run's loss: [%.4g, %.4g] (prediction interval)", opt[i].loss_pi.lo, opt[i].loss_pi.hi);
    printf("\n");
  }
}

static void print_table(const cls_fit_result *r, const cls_fit_input *in, const char *source) {
  int pct = (int)lround(r->opt.ci_level * 100);
  printf("clscale fit: %zu runs from %s; %d%% intervals from %d bootstrap resamples (seed %llu)\n\n", in->n_pts,
         source, pct, r->opt.bootstrap, (unsigned long long)r->opt.seed);
  const cls_fit_frontier *fr = &r->frontier;
  if (fr->ok) {
    printf("frontier: L(C) = E + k*C^-gamma over %zu envelope points of %zu runs, C %.3g .. %.3g FLOPs\n", fr->n,
           fr->n_runs, fr->c[0], fr->c[fr->n - 1]);
    row("E", fr->E, fr->E_ci);
    row("k", fr->k, fr->k_ci);
    row("gamma", fr->gamma, fr->gamma_ci);
  } else {
    printf("frontier: not fitted: %s\n", fr->why);
  }
  const cls_fit_isoflop *iso = &r->isoflop;
  printf("\nisoflop (Chinchilla approach 2): %zu budget%s, %zu with an interior minimum\n", iso->n_budgets,
         iso->n_budgets == 1 ? "" : "s", iso->n_used);
  if (iso->n_budgets)
    printf("  %-10s %4s  %-10s %-22s %-10s %-22s %s\n", "budget C", "runs", "N_opt", "interval", "D_opt",
           "interval", "loss_opt");
  size_t few = count_too_few(iso);
  for (size_t i = 0; i < iso->n_budgets; i++) {
    const cls_fit_budget *b = &iso->budgets[i];
    if (!b->used) {
      if (!(few > SMALL_LISTED && too_few_sizes(b)))
        printf("  %-10.3g %4zu  excluded: %s\n", b->budget, b->n_points, b->why);
      continue;
    }
    char c1[64], c2[64];
    ci_text(c1, sizeof c1, b->n_opt_ci);
    ci_text(c2, sizeof c2, b->d_opt_ci);
    printf("  %-10.3g %4zu  %-10.4g %-22s %-10.4g %-22s %.5g\n", b->budget, b->n_points, b->n_opt, c1, b->d_opt,
           c2, b->loss_opt);
  }
  if (few > SMALL_LISTED)
    printf("  %zu more budgets excluded: fewer than 3 distinct model sizes each (fit.json isoflop.excluded)\n",
           few);
  if (iso->ok) {
    row("a  (N_opt ~ C^a)", iso->n_fit.exponent, iso->n_fit.exponent_ci);
    row("b  (D_opt ~ C^b)", iso->d_fit.exponent, iso->d_fit.exponent_ci);
  } else {
    printf("  power laws not fitted: %s\n", iso->why);
  }
  const cls_fit_parametric *p = &r->parametric;
  if (p->ok) {
    printf("\nparametric (approach 3): L(N,D) = E + A/N^alpha + B/D^beta, Huber delta %g, best of %d starts "
           "(objective %.4g)\n",
           r->opt.huber_delta, p->n_starts, p->objective);
    row("E", p->E, p->E_ci);
    row("A", p->A, p->A_ci);
    row("alpha", p->alpha, p->alpha_ci);
    row("B", p->B, p->B_ci);
    row("beta", p->beta, p->beta_ci);
    row("a = beta/(alpha+beta)", p->a, p->a_ci);
    row("b = alpha/(alpha+beta)", p->b, p->b_ci);
  } else {
    printf("\nparametric: not fitted: %s\n", p->why);
  }
  const cls_fit_constrained *dc = &r->constrained;
  if (dc->ok) {
    printf("\ndata-constrained (Muennighoff et al. 2023): L = E + A/N'^alpha + B/D'^beta, D' = U_D + "
           "U_D*R*_D*(1 - exp(-R_D/R*_D)),\n  %zu of %zu runs repeat their data (up to %.3g epochs), %zu have "
           "more parameters than their unique data can use (objective %.4g; plain law %.4g)\n",
           dc->n_repeated, in->n_pts, dc->max_epochs, dc->n_excess, dc->objective, dc->plain_objective);
    row("R*_D", dc->rd_star, dc->rd_star_ci);
    if (dc->has_rn)
      row("R*_N", dc->rn_star, dc->rn_star_ci);
    else
      printf("  %-22s not fitted: fewer than 2 runs with more parameters than their unique data can use\n",
             "R*_N");
    row("E", dc->E, dc->E_ci);
    row("alpha", dc->alpha, dc->alpha_ci);
    row("beta", dc->beta, dc->beta_ci);
    char c1[64];
    ci_text(c1, sizeof c1, dc->half_value_epochs_ci);
    printf("  a repeated token is worth less than half a fresh one from epoch %.3g %s on (1 + R*_D ln 2)\n",
           dc->half_value_epochs, c1);
  } else {
    printf("\ndata-constrained: not fitted: %s\n", dc->why);
  }
  const cls_fit_allocation *al = &r->allocation;
  if (al->ok) {
    char c1[64], c2[64], c3[64];
    ci_text(c1, sizeof c1, al->model_factor_ci);
    ci_text(c2, sizeof c2, al->data_factor_ci);
    ci_text(c3, sizeof c3, al->loss_factor_ci);
    printf("\ncompute-optimal allocation (exponents from %s, loss from %s at C = %.3g FLOPs):\n",
           al->exponents_from, al->loss_from, al->ref_flops);
    printf("  10x compute -> model x%.3g %s, data x%.3g %s, loss /%.3g %s\n", al->model_factor, c1,
           al->data_factor, c2, al->loss_factor, c3);
  }
  print_optimum(r, al->ref_flops);
}

/* ---------------------------------------------------------------- steps */

/* No fit at all: each method's reason, and each budget's. */
static int say_no_fit(const cls_opt_command *cmd, const cls_fit_result *r, const cls_fit_input *in) {
  cls_opt_fail(cmd, 0, "no fit is possible with %zu run%s:\n  frontier: %s\n  isoflop: %s\n  parametric: %s",
               in->n_pts, in->n_pts == 1 ? "" : "s", r->frontier.why, r->isoflop.why, r->parametric.why);
  for (size_t i = 0; i < r->isoflop.n_budgets; i++) {
    const cls_fit_budget *b = &r->isoflop.budgets[i];
    char why[sizeof b->why + 64];
    cls_opt_translate(cmd, b->why, why, sizeof why);
    fprintf(stderr, "  isoflop budget %.3g (%zu run%s): %s\n", b->budget, b->n_points, b->n_points == 1 ? "" : "s",
            why);
  }
  return CLS_EXIT_FAIL;
}

/* The fits that could not be made, and the budgets left out. */
static void warn_partial(const cls_opt_command *cmd, const cls_fit_result *r, const cls_fit_options *o) {
  if (!r->frontier.ok) cls_opt_fail(cmd, 0, "warning: frontier not fitted: %s", r->frontier.why);
  if (!r->isoflop.ok) cls_opt_fail(cmd, 0, "warning: isoflop power laws not fitted: %s", r->isoflop.why);
  size_t few = count_too_few(&r->isoflop);
  for (size_t i = 0; i < r->isoflop.n_budgets; i++) {
    const cls_fit_budget *b = &r->isoflop.budgets[i];
    if (!b->used && !(few > SMALL_LISTED && too_few_sizes(b)))
      cls_opt_fail(cmd, 0, "warning: isoflop budget %.3g (%zu run%s) left out: %s", b->budget, b->n_points,
                   b->n_points == 1 ? "" : "s", b->why);
  }
  if (few > SMALL_LISTED)
    cls_opt_fail(cmd, 0,
                 "warning: %zu isoflop budgets left out with fewer than 3 distinct model sizes each (runs grouped "
                 "by budget_flops, or by FLOPs within --budget-tol %g)",
                 few, o->budget_tol);
  if (!r->parametric.ok) cls_opt_fail(cmd, 0, "warning: parametric not fitted: %s", r->parametric.why);
}

/* The backtest: each held-out run against its prediction, and each
 * held-out budget's measured N_opt against the laws' extrapolation. */
static void print_backtest(const cls_fit_backtest *bt, const cls_fit_options *o) {
  int pct = (int)lround(o->ci_level * 100);
  printf(
      "\nbacktest (--holdout-top %d): fitted on %zu runs of the %zu smallest budgets (C <= %.3g), predicted "
      "the %zu runs of the %d largest with the parametric law;\n%d%% prediction intervals: the bootstrap's laws "
      "times a resampled training residual (log-loss residual sd %.3g)\n",
      bt->holdout, bt->n_train, bt->n_budgets - (size_t)bt->holdout, bt->train_c_hi, bt->n_runs, bt->holdout, pct,
      bt->residual_sd);
  printf("  %-24s %-10s %-10s %-10s %-10s %-22s %-22s %-8s %s\n", "run", "budget C", "N", "observed", "predicted",
         "confidence interval", "prediction interval", "error", "inside");
  for (size_t i = 0; i < bt->n_runs; i++) {
    const cls_fit_heldout *h = &bt->runs[i];
    char c1[64], c2[64];
    ci_text(c1, sizeof c1, h->ci);
    ci_text(c2, sizeof c2, h->pi);
    printf("  %-24.24s %-10.3g %-10.4g %-10.5g %-10.5g %-22s %-22s %+7.2f%% %s\n", h->id, h->budget, h->n,
           h->observed, h->predicted, c1, c2, 100 * h->rel_error,
           !isfinite(h->pi.lo) ? "—"
           : h->inside         ? "yes"
                               : "NO");
  }
  if (o->bootstrap > 0)
    printf("  %zu of %zu inside their %d%% prediction interval; mean |error| %.2f%%, largest %.2f%%\n",
           bt->n_inside, bt->n_runs, pct, 100 * bt->mean_abs_rel_error, 100 * bt->max_abs_rel_error);
  else
    printf("  no intervals (--bootstrap 0); mean |error| %.2f%%, largest %.2f%%\n", 100 * bt->mean_abs_rel_error,
           100 * bt->max_abs_rel_error);
  for (size_t i = 0; i < bt->n_held_budgets; i++) {
    const cls_fit_heldout_budget *h = &bt->budgets[i];
    printf("  N_opt at C = %.3g: measured ", h->budget);
    if (isfinite(h->n_opt))
      printf("%.4g", h->n_opt);
    else
      printf("— (no interior minimum)");
    for (int l = 0; l < CLS_FIT_N_LAWS; l++) {
      if (!h->opt[l].ok || !isfinite(h->opt[l].n)) continue;
      char c[64];
      ci_text(c, sizeof c, h->opt[l].n_ci);
      bool in = isfinite(h->n_opt) && h->n_opt >= h->opt[l].n_ci.lo && h->n_opt <= h->opt[l].n_ci.hi;
      printf("; %s %.4g %s%s", h->opt[l].law, h->opt[l].n, c,
             isfinite(h->n_opt) ? (in ? " (inside)" : " (outside)") : "");
    }
    printf("\n");
  }
}

/* -o, else RUN_DIR/fit.json, else the CSV's name with .fit.json. */
static void output_path(const fit_args *a, char *path, size_t len) {
  if (a->output) {
    snprintf(path, len, "%s", a->output);
  } else if (a->run_dir) {
    snprintf(path, len, "%s/fit.json", a->run_dir);
  } else {
    size_t n = strlen(a->csv);
    int keep = n > 4 && !strcmp(a->csv + n - 4, ".csv") ? (int)(n - 4) : (int)n;
    snprintf(path, len, "%.*s.fit.json", keep, a->csv);
  }
}

/* Fits the input, then writes fit.json and prints the table. */
static int fit_and_write(const cls_opt_command *cmd, const fit_args *a, const cls_fit_input *all) {
  cls_fit_result r;
  cls_fit_backtest bt;
  cls_fit_input *train = NULL;
  const cls_fit_input *in = all;
  char err[2048];
  cls_status st;
  memset(&bt, 0, sizeof bt);
  if (a->holdout) {
    st = cls_fit_backtest_run(all, &a->o, a->holdout, &r, &train, &bt, err, sizeof err);
    if (st)
      return cls_opt_fail(cmd, st == CLS_ERR_INVALID_VALUE ? CLS_EXIT_USAGE : CLS_EXIT_FAIL, "%s",
                          st == CLS_ERR_INVALID_VALUE ? err : cls_status_name(st));
    in = train;
  } else {
    st = cls_fit_all(in, &a->o, &r);
  }
  int code = CLS_EXIT_FAIL;
  if (st) {
    cls_opt_fail(cmd, 0, "the fit failed (%s)", cls_status_name(st));
  } else if (!r.frontier.ok && r.isoflop.n_used == 0 && !r.parametric.ok) {
    say_no_fit(cmd, &r, in);
  } else {
    warn_partial(cmd, &r, &a->o);
    char path[4096];
    output_path(a, path, sizeof path);
    if (cls_fit_write_json_backtest(&r, in, a->holdout ? &bt : NULL, path, err, sizeof err) != CLS_OK) {
      cls_opt_fail(cmd, 0, "%s", err);
    } else {
      if (!a->quiet) {
        print_table(&r, in, a->run_dir ? a->run_dir : a->csv);
        if (a->holdout) print_backtest(&bt, &a->o);
        printf("\nwrote %s\n", path);
      }
      code = CLS_EXIT_OK;
    }
  }
  cls_fit_result_free(&r);
  cls_fit_backtest_free(&bt);
  cls_fit_input_destroy(train);
  return code;
}

/* ------------------------------------------------------------ axis fits */

/* Prints s left-aligned in width columns ("—" is one column, three bytes). */
static void cell(const char *s, int width) {
  int shown = 0;
  for (const char *p = s; *p; p++) shown += ((unsigned char)*p & 0xC0) != 0x80;
  printf("%s%*s", s, width > shown ? width - shown : 0, "");
}

static void num_cell(double v, const char *fmt, int width) {
  char b[64];
  if (isfinite(v))
    snprintf(b, sizeof b, fmt, v);
  else
    snprintf(b, sizeof b, "—");
  cell(b, width);
}

static void print_axis(const cls_fit_axis *ax, const cls_fit_options *o) {
  printf("\naxis %s: L = %s*%s^-gamma, %zu group%s (%zu fitted); the loss at each %s is the mean over seeds%s\n",
         ax->axis, ax->floor_zero ? "A" : "E + A", ax->axis, ax->n_groups, ax->n_groups == 1 ? "" : "s",
         ax->n_fitted, ax->axis, ax->from_curves ? " of the learning curves' rows and final points" : "");
  int lw = 5;
  for (size_t g = 0; g < ax->n_groups; g++) lw = (int)fmax(lw, (double)strlen(ax->groups[g].label));
  char ci_head[32];
  snprintf(ci_head, sizeof ci_head, "%d%% interval", (int)lround(o->ci_level * 100));
  printf("  ");
  cell("group", lw + 2);
  printf("%4s  %-4s ", "runs", "n_X");
  cell("X range", 22);
  cell("E", 11);
  cell("A", 11);
  cell("gamma", 9);
  cell(ci_head, 20);
  cell("theory", 8);
  cell("theory-fit", 11);
  cell("th. floor", 11);
  printf("max|meas/theory-1|\n");
  for (size_t g = 0; g < ax->n_groups; g++) {
    const cls_fit_axis_group *G = &ax->groups[g];
    printf("  ");
    cell(G->label, lw + 2);
    printf("%4zu  %-4zu ", G->n_runs, G->n_x);
    if (!G->ok) {
      printf("skipped: %s\n", G->why);
      continue;
    }
    char b[64];
    snprintf(b, sizeof b, "%.4g .. %.4g", G->x[0], G->x[G->n_x - 1]);
    cell(b, 22);
    if (ax->floor_zero)
      cell("0", 11);
    else
      num_cell(G->E, "%.4g", 11);
    num_cell(G->A, "%.4g", 11);
    num_cell(G->gamma, "%.4f", 9);
    if (isfinite(G->gamma_ci.lo) && isfinite(G->gamma_ci.hi))
      snprintf(b, sizeof b, "[%.4f, %.4f]", G->gamma_ci.lo, G->gamma_ci.hi);
    else
      snprintf(b, sizeof b, "[no interval]");
    cell(b, 20);
    num_cell(G->th_exponent, "%.4g", 8);
    num_cell(G->th_gamma, "%.4f", 11);
    num_cell(G->th_floor, "%.4g", 11);
    if (isfinite(G->th_max_dev))
      printf("%.3g\n", G->th_max_dev);
    else
      printf("—\n");
  }
  bool why = false;
  for (size_t g = 0; g < ax->n_groups; g++) {
    const cls_fit_axis_group *G = &ax->groups[g];
    if (G->ok && !G->has_theory && !why) {
      printf("  —: %s", G->theory_why);
      why = true;
    } else if (G->ok && !G->has_theory && strcmp(G->theory_why, ax->groups[0].theory_why)) {
      printf("; %s", G->theory_why);
    }
  }
  if (why) printf("\n");
}

static void ci_cell(cls_ci ci, const char *fmt, double scale, int width) {
  char b[64], lo[24], hi[24];
  if (isfinite(ci.lo) && isfinite(ci.hi)) {
    snprintf(lo, sizeof lo, fmt, scale * ci.lo);
    snprintf(hi, sizeof hi, fmt, scale * ci.hi);
    snprintf(b, sizeof b, "[%s, %s]", lo, hi);
  } else {
    snprintf(b, sizeof b, "—");
  }
  cell(b, width);
}

static void print_collapse(const cls_fit_collapse *c, const cls_fit_options *o) {
  printf("\nmodel collapse along %s D: the loss on real data per generation and real share pi (mean over seeds)\n",
         c->axis);
  /* The accuracy (gcd) beside the loss: where collapse shows as answers
   * lost, not only as confidence lost. */
  printf("  gen  pi     n_D  D range              L at D=%-10.3g sd       %slast step in D  plateau\n",
         c->largest_d, c->has_accuracy ? "accuracy  " : "");
  for (size_t i = 0; i < c->n_cells; i++) {
    const cls_collapse_cell *q = &c->cells[i];
    char b[64];
    printf("  %-4u %-6g %-4zu ", q->generation, q->real_fraction, q->n_d);
    snprintf(b, sizeof b, "%.3g .. %.3g", q->d[0], q->d[q->n_d - 1]);
    cell(b, 21);
    size_t k = 0;
    while (k < q->n_d && q->d[k] != c->largest_d) k++;
    num_cell(k < q->n_d ? q->loss[k] : NAN, "%.4f", 19);
    num_cell(k < q->n_d ? q->sd[k] : NAN, "%.4f", 9);
    if (q->accuracy) num_cell(k < q->n_d ? q->accuracy[k] : NAN, "%.4f", 10);
    if (isfinite(q->last_drop))
      snprintf(b, sizeof b, "%+.1f %%", -100 * q->last_drop);
    else
      snprintf(b, sizeof b, "—");
    cell(b, 16);
    printf("%s\n", q->generation ? (q->plateau ? "yes" : "no") : "—");
  }
  printf("\n  modified law per pi: L_g(D) = E_g + A*D^-gamma, A and gamma shared by the generations; %d%% "
         "intervals\n",
         (int)lround(o->ci_level * 100));
  for (size_t l = 0; l < c->n_laws; l++) {
    const cls_collapse_law *L = &c->laws[l];
    if (!L->ok) {
      printf("  pi %g: not fitted: %s\n", L->real_fraction, L->why);
      continue;
    }
    printf("  pi %-6g gamma %.4f ", L->real_fraction, L->gamma);
    ci_cell(L->gamma_ci, "%.3f", 1, 18);
    printf("A %.4g ", L->A);
    ci_cell(L->A_ci, "%.3g", 1, 20);
    printf("floor %s with g\n", L->floor_grows ? "grows" : "does not grow");
    for (size_t k = 0; k < L->n_gen; k++) {
      printf("      E_%u = %.4f ", L->generations[k], L->E[k]);
      ci_cell(L->E_ci[k], "%.4f", 1, 20);
      printf("\n");
    }
  }
  if (c->n_recovery) printf("\n  gap closed at D = %.3g: (L_g,pi=0 - L_g,pi) / (L_g,pi=0 - L_0)\n", c->largest_d);
  for (size_t r = 0; r < c->n_recovery; r++) {
    const cls_collapse_recovery *R = &c->recovery[r];
    printf("  generation %u, pi %-6g L %.4f (pi 0: %.4f, generation 0: %.4f)  ", R->generation, R->real_fraction,
           R->loss, R->loss_pi0, R->loss_g0);
    if (isfinite(R->gap_closed))
      printf("%.0f %% ", 100 * R->gap_closed);
    else
      printf("— (no gap) ");
    ci_cell(R->gap_closed_ci, "%.0f %%", 100, 20);
    printf("\n");
  }
  printf("\n  %s\n", c->summary);
}

/* Whether RUN_DIR is fitted along axes: --axis, or a task with default axes. */
static bool wants_axes(const fit_args *a, cls_axis_input **in) {
  *in = NULL;
  if (a->axis || a->where || a->collapse) return true; /* --where filters the axis fits */
  char task[64];
  if (cls_fit_axis_task_of(a->run_dir, task, sizeof task) && (!strcmp(task, "rf") || !strcmp(task, "zipf")))
    return true;
  /* No manifest naming a task: the points may; when they cannot be read
   * this way the Chinchilla path says what is wrong, as it always did. */
  char err[256];
  if (cls_fit_axis_input_from_rundir(a->run_dir, in, err, sizeof err)) return false;
  if (cls_fit_axis_default(*in) || cls_fit_collapse_applies(*in)) return true;
  cls_fit_axis_input_destroy(*in);
  *in = NULL;
  return false;
}

/* The axis fits; CLS_EXIT_GO_ON when RUN_DIR is for the Chinchilla fits. */
static int axis_mode(const cls_opt_command *cmd, const fit_args *a) {
  cls_axis_input *in;
  if (!wants_axes(a, &in)) return CLS_EXIT_GO_ON;
  char err[4096] = "";
  if (!in) {
    cls_status st = cls_fit_axis_input_from_rundir(a->run_dir, &in, err, sizeof err);
    if (st)
      return cls_opt_fail(cmd, st == CLS_ERR_INVALID_VALUE ? CLS_EXIT_USAGE : CLS_EXIT_FAIL, "%s",
                          err[0] ? err : "cannot read the run directory");
  }
  for (const char *p = a->where; p && *p;) {
    const char *c = strchr(p, ',');
    size_t len = c ? (size_t)(c - p) : strlen(p);
    char cond[256];
    snprintf(cond, sizeof cond, "%.*s", (int)(len < sizeof cond ? len : sizeof cond - 1), p);
    cls_status st = cls_fit_axis_input_where(in, cond, err, sizeof err);
    if (st) {
      cls_fit_axis_input_destroy(in);
      return cls_opt_fail(cmd, CLS_EXIT_USAGE, "%s", err);
    }
    p = c ? c + 1 : p + len;
  }
  for (size_t i = 0; i < in->n_warnings; i++) cls_opt_fail(cmd, 0, "warning: %s", in->warnings[i]);
  /* Collapse fits: asked for, or by default on a sweep with generations
   * (with its per-generation laws along the training tokens). */
  const bool collapse = a->collapse || (!a->axis && cls_fit_collapse_applies(in));
  const char *list = a->axis ? a->axis : collapse ? "tokens" : cls_fit_axis_default(in);
  if (!list) {
    cls_fit_axis_input_destroy(in);
    return cls_opt_fail(cmd, CLS_EXIT_USAGE, "name an axis with --axis (--where filters the axis fits)");
  }
  cls_fit_axis fits[8];
  size_t n = 0, fitted = 0;
  int code = CLS_EXIT_OK;
  for (const char *p = list; *p && code == CLS_EXIT_OK;) {
    const char *c = strchr(p, ',');
    size_t len = c ? (size_t)(c - p) : strlen(p);
    char name[64];
    snprintf(name, sizeof name, "%.*s", (int)(len < sizeof name ? len : sizeof name - 1), p);
    p += len + (c != NULL);
    if (!name[0] || n == sizeof fits / sizeof fits[0]) {
      code = cls_opt_fail(cmd, CLS_EXIT_USAGE, "--axis wants up to %zu comma-separated key names, not '%s'",
                          sizeof fits / sizeof fits[0], list);
      break;
    }
    cls_status st = cls_fit_axis_run(in, name, a->floor_zero, &a->o, &fits[n], err, sizeof err);
    if (st) {
      code = cls_opt_fail(cmd, st == CLS_ERR_INVALID_VALUE ? CLS_EXIT_USAGE : CLS_EXIT_FAIL, "%s", err);
      break;
    }
    fitted += fits[n].n_fitted;
    if (fits[n].n_zero_loss)
      cls_opt_fail(
          cmd, 0, "warning: axis %s: %zu observation%s with loss 0 left out (a power law in log-loss needs L > 0)",
          name, fits[n].n_zero_loss, fits[n].n_zero_loss == 1 ? "" : "s");
    for (size_t g = 0; g < fits[n].n_groups; g++)
      if (!fits[n].groups[g].ok)
        cls_opt_fail(cmd, 0, "warning: axis %s: group %s (%zu run%s) skipped: %s", name, fits[n].groups[g].label,
                     fits[n].groups[g].n_runs, fits[n].groups[g].n_runs == 1 ? "" : "s", fits[n].groups[g].why);
    n++;
    if (!c) break;
  }
  cls_fit_collapse co;
  memset(&co, 0, sizeof co);
  if (code == CLS_EXIT_OK && collapse) {
    if (!cls_fit_collapse_applies(in)) {
      code = cls_opt_fail(cmd, CLS_EXIT_USAGE,
                          "--collapse: the points have no generation and real_fraction (a sweep with "
                          "'generations' writes them, docs/sweep.md)");
    } else {
      cls_status st = cls_fit_collapse_run(in, &a->o, &co, err, sizeof err);
      if (st) code = cls_opt_fail(cmd, st == CLS_ERR_INVALID_VALUE ? CLS_EXIT_USAGE : CLS_EXIT_FAIL, "%s", err);
      for (size_t l = 0; !st && l < co.n_laws; l++)
        if (!co.laws[l].ok)
          cls_opt_fail(cmd, 0, "warning: collapse: the law of real_fraction %g not fitted: %s",
                       co.laws[l].real_fraction, co.laws[l].why);
    }
  }
  /* The collapse cells (losses per generation and pi, the recovered gaps)
   * are worth writing even where too few D leave every law unfitted. */
  if (code == CLS_EXIT_OK && !fitted && !collapse)
    code = cls_opt_fail(cmd, CLS_EXIT_FAIL, "no axis fit is possible: every group is skipped (see above)");
  if (code == CLS_EXIT_OK) {
    char path[4096];
    output_path(a, path, sizeof path);
    if (cls_fit_write_axis_json(fits, n, collapse ? &co : NULL, &a->o, in, path, err, sizeof err) != CLS_OK) {
      code = cls_opt_fail(cmd, CLS_EXIT_FAIL, "%s", err);
    } else if (!a->quiet) {
      printf("clscale fit: %zu runs from %s, task %s; %d%% intervals on gamma from %d bootstrap resamples (seed "
             "%llu)\n",
             in->n_runs, a->run_dir, in->task[0] ? in->task : "(mixed)", (int)lround(a->o.ci_level * 100),
             a->o.bootstrap, (unsigned long long)a->o.seed);
      for (size_t i = 0; i < n; i++) print_axis(&fits[i], &a->o);
      printf("\ntheory: the asymptotic exponent; theory-fit: the same law fitted to the theory at the same X;\n"
             "th. floor: the theory's floor; max|meas/theory-1|: the worst ratio over the group's X\n");
      if (collapse) print_collapse(&co, &a->o);
      printf("\nwrote %s\n", path);
    }
  }
  cls_fit_collapse_free(&co);
  for (size_t i = 0; i < n; i++) cls_fit_axis_free(&fits[i]);
  cls_fit_axis_input_destroy(in);
  return code;
}

int cls_cmd_fit(int argc, char **argv) {
  fit_args a;
  memset(&a, 0, sizeof a);
  cls_fit_options_default(&a.o);
  cls_option opts[26];
  cls_opt_command cmd;
  fit_command(&cmd, opts, sizeof opts / sizeof opts[0], &a);
  int code = read_args(&cmd, argc, argv, &a);
  if (code != CLS_EXIT_GO_ON) return code;
  a.o.isoflop_linear = a.linear != 0;
  a.o.isoflop_residuals = a.residuals != 0;
  char err[2048] = "";
  if (a.run_dir && !a.csv) {
    code = axis_mode(&cmd, &a);
    if (code != CLS_EXIT_GO_ON) return code;
  }
  cls_fit_input *in = NULL;
  cls_status st = a.csv ? cls_fit_input_from_csv(a.csv, &in, err, sizeof err)
                        : cls_fit_input_from_rundir(a.run_dir, a.train, &in, err, sizeof err);
  if (st) return cls_opt_fail(&cmd, CLS_EXIT_FAIL, "%s", err[0] ? err : "cannot read the input");
  for (size_t i = 0; i < in->n_warnings; i++) cls_opt_fail(&cmd, 0, "warning: %s", in->warnings[i]);
  code = fit_and_write(&cmd, &a, in);
  cls_fit_input_destroy(in);
  return code;
}
