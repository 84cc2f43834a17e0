/*
 * tools/cmd_fit.c — `clscale fit`: scaling-law fits of a run directory (or of
 * a CSV of runs) into fit.json, with a printed table. docs/fit.md.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "fit/fit.h"

static void usage(FILE *f) {
  fprintf(
      f, "usage: clscale fit RUN_DIR [options]\n"
         "       clscale fit --csv FILE [options]\n\n"
         "Fits scaling laws to the runs of RUN_DIR/points/ (written by clscale sweep) or of a CSV:\n"
         "  frontier    lower envelope of loss vs measured FLOPs, L(C) = E + k*C^-gamma\n"
         "  isoflop     per compute budget a parabola of loss in log10 N; N_opt, D_opt; N_opt ~ C^a, D_opt ~ C^b\n"
         "  parametric  L(N,D) = E + A/N^alpha + B/D^beta, Huber loss on log-loss, L-BFGS from a grid of starts\n"
         "with bootstrap intervals, and the compute-optimal allocation \"10x compute -> model x.., data x..,\n"
         "loss /..\". Writes fit.json (read by clscale plot) and prints a table.\n\n"
         "  --csv FILE        fit the runs of FILE instead: a header naming the columns N (or n_params),\n"
         "                    loss, and D (or tokens) and/or C (or flops); optional budget, id. With only\n"
         "                    one of D and C the other is C = 6*N*D\n"
         "  -o, --output FILE where to write fit.json (default RUN_DIR/fit.json; with --csv, FILE with\n"
         "                    .csv replaced by .fit.json)\n"
         "  --delta X         Huber threshold on log-loss residuals (default 1e-3)\n"
         "  --bootstrap N     bootstrap resamples for the intervals, 0 for none (default 200)\n"
         "  --seed S          seed of the resampling (default 0)\n"
         "  --starts N        parametric starting points, evenly from the 5400-point grid (default all)\n"
         "  --ci LEVEL        confidence level of the intervals, 0 < LEVEL < 1 (default 0.95)\n"
         "  --budget-tol X    runs without budget_flops are grouped into budgets whose FLOPs agree within\n"
         "                    this relative tolerance (default 0.1)\n"
         "  --ref-flops C     reference budget of the allocation (default: the largest C measured)\n"
         "  --frontier-skip F leave each run's curve rows below F x its final FLOPs out of the frontier:\n"
         "                    warm-up transients, not compute-limited loss (default 0.1; 0 keeps all)\n"
         "  --loss eval|train which final loss to fit (default eval; run directories only)\n"
         "  -q, --quiet       print no table, only warnings and errors\n\n"
         "Exit codes: 0 at least one fit was written (fits that need more runs are named on stderr),\n"
         "1 failure (missing or malformed input, no fit possible), 2 bad usage.\n");
}

static const char *option_value(int argc, char **argv, int *i, const char *name) {
  size_t n = strlen(name);
  if (!strncmp(argv[*i], name, n) && argv[*i][n] == '=') return argv[*i] + n + 1;
  if (!strcmp(argv[*i], name) && *i + 1 < argc) return argv[++*i];
  return NULL;
}

/* A number in (lo, hi] (open_lo) or [lo, hi]; range names it for the user. */
static int parse_double(const char *opt, const char *v, double lo, double hi, bool open_lo, const char *range,
                        double *out) {
  char *end;
  errno = 0;
  double x = strtod(v, &end);
  if (end == v || *end || errno || !isfinite(x) || x > hi || x < lo || (open_lo && x == lo)) {
    fprintf(stderr, "clscale fit: %s wants %s, not '%s'\n", opt, range, v);
    return -1;
  }
  *out = x;
  return 0;
}

static int parse_int(const char *opt, const char *v, long lo, long hi, long *out) {
  char *end;
  errno = 0;
  long x = strtol(v, &end, 10);
  if (end == v || *end || errno || x < lo || x > hi) {
    fprintf(stderr, "clscale fit: %s wants a whole number from %ld to %ld, not '%s'\n", opt, lo, hi, v);
    return -1;
  }
  *out = x;
  return 0;
}

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
}

int cls_cmd_fit(int argc, char **argv) {
  const char *run_dir = NULL, *csv = NULL, *output = NULL, *v;
  bool quiet = false, train = false;
  cls_fit_options o;
  cls_fit_options_default(&o);
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    long n;
    if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
      usage(stdout);
      return CLS_EXIT_OK;
    } else if (!strcmp(a, "--quiet") || !strcmp(a, "-q")) {
      quiet = true;
    } else if ((v = option_value(argc, argv, &i, "--csv"))) {
      csv = v;
    } else if ((v = option_value(argc, argv, &i, "--output")) || (v = option_value(argc, argv, &i, "-o"))) {
      output = v;
    } else if ((v = option_value(argc, argv, &i, "--delta"))) {
      if (parse_double("--delta", v, 0, 10, true, "a number above 0 and at most 10", &o.huber_delta))
        return CLS_EXIT_USAGE;
    } else if ((v = option_value(argc, argv, &i, "--bootstrap"))) {
      if (parse_int("--bootstrap", v, 0, 100000, &n)) return CLS_EXIT_USAGE;
      o.bootstrap = (int)n;
    } else if ((v = option_value(argc, argv, &i, "--seed"))) {
      char *end;
      errno = 0;
      unsigned long long s = strtoull(v, &end, 10);
      if (end == v || *end || errno || v[0] == '-') {
        fprintf(stderr, "clscale fit: --seed wants a non-negative whole number, not '%s'\n", v);
        return CLS_EXIT_USAGE;
      }
      o.seed = s;
    } else if ((v = option_value(argc, argv, &i, "--starts"))) {
      if (!strcmp(v, "all"))
        o.starts = 0;
      else if (parse_int("--starts", v, 1, 5400, &n))
        return CLS_EXIT_USAGE;
      else
        o.starts = (int)n;
    } else if ((v = option_value(argc, argv, &i, "--ci"))) {
      if (parse_double("--ci", v, 0, 0.9999, true, "a level above 0 and below 1, e.g. 0.95", &o.ci_level))
        return CLS_EXIT_USAGE;
    } else if ((v = option_value(argc, argv, &i, "--budget-tol"))) {
      if (parse_double("--budget-tol", v, 0, 1, false, "a relative tolerance from 0 to 1", &o.budget_tol))
        return CLS_EXIT_USAGE;
    } else if ((v = option_value(argc, argv, &i, "--frontier-skip"))) {
      if (parse_double("--frontier-skip", v, 0, 1, false, "a fraction from 0 to 1", &o.frontier_skip))
        return CLS_EXIT_USAGE;
    } else if ((v = option_value(argc, argv, &i, "--ref-flops"))) {
      if (parse_double("--ref-flops", v, 0, INFINITY, true, "a positive number of FLOPs", &o.ref_flops))
        return CLS_EXIT_USAGE;
    } else if ((v = option_value(argc, argv, &i, "--loss"))) {
      if (strcmp(v, "eval") && strcmp(v, "train")) {
        fprintf(stderr, "clscale fit: --loss wants eval or train, not '%s'\n", v);
        return CLS_EXIT_USAGE;
      }
      train = !strcmp(v, "train");
    } else if (a[0] == '-' && a[1] != '\0') {
      fprintf(stderr, "clscale fit: unknown or incomplete argument '%s'\n", a);
      usage(stderr);
      return CLS_EXIT_USAGE;
    } else if (!run_dir) {
      run_dir = a;
    } else {
      fprintf(stderr, "clscale fit: one RUN_DIR only ('%s' and '%s' given)\n", run_dir, a);
      return CLS_EXIT_USAGE;
    }
  }
  if (!run_dir == !csv) {
    fprintf(stderr, "clscale fit: %s\n",
            run_dir ? "give RUN_DIR or --csv FILE, not both" : "RUN_DIR (or --csv FILE) is missing");
    usage(stderr);
    return CLS_EXIT_USAGE;
  }
  if (csv && train) {
    fprintf(stderr, "clscale fit: --loss train needs a run directory (a CSV has one loss column)\n");
    return CLS_EXIT_USAGE;
  }
  char err[2048] = "";
  cls_fit_input *in = NULL;
  cls_status st = csv ? cls_fit_input_from_csv(csv, &in, err, sizeof err)
                      : cls_fit_input_from_rundir(run_dir, train, &in, err, sizeof err);
  if (st) {
    fprintf(stderr, "clscale fit: %s\n", err[0] ? err : "cannot read the input");
    return CLS_EXIT_FAIL;
  }
  for (size_t i = 0; i < in->n_warnings; i++) fprintf(stderr, "clscale fit: warning: %s\n", in->warnings[i]);
  cls_fit_result r;
  st = cls_fit_all(in, &o, &r);
  if (st) {
    fprintf(stderr, "clscale fit: the fit failed (%s)\n", cls_status_name(st));
    cls_fit_result_free(&r);
    cls_fit_input_destroy(in);
    return CLS_EXIT_FAIL;
  }
  if (!r.frontier.ok && r.isoflop.n_used == 0 && !r.parametric.ok) {
    fprintf(stderr,
            "clscale fit: no fit is possible with %zu run%s:\n  frontier: %s\n  isoflop: %s\n"
            "  parametric: %s\n",
            in->n_pts, in->n_pts == 1 ? "" : "s", r.frontier.why, r.isoflop.why, r.parametric.why);
    for (size_t i = 0; i < r.isoflop.n_budgets; i++)
      fprintf(stderr, "  isoflop budget %.3g (%zu run%s): %s\n", r.isoflop.budgets[i].budget,
              r.isoflop.budgets[i].n_points, r.isoflop.budgets[i].n_points == 1 ? "" : "s",
              r.isoflop.budgets[i].why);
    cls_fit_result_free(&r);
    cls_fit_input_destroy(in);
    return CLS_EXIT_FAIL;
  }
  if (!r.frontier.ok) fprintf(stderr, "clscale fit: warning: frontier not fitted: %s\n", r.frontier.why);
  if (!r.isoflop.ok) fprintf(stderr, "clscale fit: warning: isoflop power laws not fitted: %s\n", r.isoflop.why);
  size_t few = count_too_few(&r.isoflop);
  for (size_t i = 0; i < r.isoflop.n_budgets; i++) {
    const cls_fit_budget *b = &r.isoflop.budgets[i];
    if (!b->used && !(few > SMALL_LISTED && too_few_sizes(b)))
      fprintf(stderr, "clscale fit: warning: isoflop budget %.3g (%zu run%s) left out: %s\n", b->budget,
              b->n_points, b->n_points == 1 ? "" : "s", b->why);
  }
  if (few > SMALL_LISTED)
    fprintf(stderr,
            "clscale fit: warning: %zu isoflop budgets left out with fewer than 3 distinct model sizes each "
            "(runs grouped by budget_flops, or by FLOPs within --budget-tol %g)\n",
            few, o.budget_tol);
  if (!r.parametric.ok) fprintf(stderr, "clscale fit: warning: parametric not fitted: %s\n", r.parametric.why);
  char path[4096];
  if (output) {
    snprintf(path, sizeof path, "%s", output);
  } else if (run_dir) {
    snprintf(path, sizeof path, "%s/fit.json", run_dir);
  } else {
    size_t n = strlen(csv);
    int keep = n > 4 && !strcmp(csv + n - 4, ".csv") ? (int)(n - 4) : (int)n;
    snprintf(path, sizeof path, "%.*s.fit.json", keep, csv);
  }
  st = cls_fit_write_json(&r, in, path, err, sizeof err);
  if (st) {
    fprintf(stderr, "clscale fit: %s\n", err);
  } else if (!quiet) {
    print_table(&r, in, run_dir ? run_dir : csv);
    printf("\nwrote %s\n", path);
  }
  cls_fit_result_free(&r);
  cls_fit_input_destroy(in);
  return st ? CLS_EXIT_FAIL : CLS_EXIT_OK;
}
