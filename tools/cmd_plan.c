/*
 * tools/cmd_plan.c — `clscale plan`: the next run from a fit. Reads
 * RUN_DIR/fit.json (clscale fit) and the sweep's recorded spec
 * (manifest.json), prints each fitted law's compute-optimal N, D, steps and
 * loss for a budget (--flops), a loss to reach (--loss) or a model size
 * (--params), with the bootstrap intervals, sizes the nearest model of the
 * task's family, and writes a sweep spec that tests the prediction
 * (docs/fit.md, "Planning the next run").
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "command.h"
#include "commands.h"
#include "fit/fit.h"
#include "fit/fitfile.h"
#include "rundir/rundir.h"
#include "rundir/runs.h"
#include "sweep/count.h"
#include "sweep/spec.h"

typedef struct {
  const char *run_dir, *fit, *output;
  double flops, loss, params;
  double n_train, unique_tokens; /* the unique training data for the data-constrained plan; NaN: not given */
  int profile, quiet;
} plan_args;

static void plan_command(cls_opt_command *cmd, cls_option *opts, size_t cap, plan_args *a) {
  const cls_option table[] = {
      {CLS_OPT(CLS_OPT_POSITIONAL, NULL, &a->run_dir, "RUN_DIR", "run_dir", NULL)},
      {CLS_OPT(CLS_OPT_DOUBLE, "--flops", &a->flops, "C", "flops",
               "plan for a compute budget of C FLOPs (at least the smallest run's)"),
       .wants = "wants a positive number of FLOPs", .lo = 0, .hi = INFINITY, .flags = CLS_OPT_LO_OPEN},
      {CLS_OPT(CLS_OPT_DOUBLE, "--loss", &a->loss, "L", "loss",
               "plan for the budget at which the compute-optimal loss is L"),
       .wants = "wants a positive loss", .lo = 0, .hi = INFINITY, .flags = CLS_OPT_LO_OPEN},
      {CLS_OPT(CLS_OPT_DOUBLE, "--params", &a->params, "N", "params",
               "plan for the budget at which N parameters are compute-optimal"),
       .wants = "wants a positive parameter count", .lo = 0, .hi = INFINITY, .flags = CLS_OPT_LO_OPEN},
      {CLS_OPT(CLS_OPT_DOUBLE, "--n-train", &a->n_train, "K", "n_train",
               "the unique training examples available (default: the runs' own training set,\nwhen they share "
               "one): with the data-constrained law fitted, the plan says whether\nits D repeats them and "
               "gives the loss-optimal run with them fixed"),
       .wants = "wants a positive number of training examples", .lo = 0, .hi = INFINITY, .flags = CLS_OPT_LO_OPEN},
      {CLS_OPT(CLS_OPT_DOUBLE, "--unique-tokens", &a->unique_tokens, "U", "unique_tokens",
               "the same as a number of unique tokens (D's unit) instead of examples"),
       .wants = "wants a positive number of tokens", .lo = 0, .hi = INFINITY, .flags = CLS_OPT_LO_OPEN},
      {CLS_OPT(CLS_OPT_STRING, "--fit", &a->fit, "FILE", "fit",
               "the fit to plan from (default RUN_DIR/fit.json)")},
      {CLS_OPT(CLS_OPT_INT, "--profile", &a->profile, "K", "profile",
               "write an IsoFLOP profile of K model sizes from N_opt/3 to 3 N_opt at the\nplanned budget instead "
               "of the one point (0, the default: the point)"),
       .wants = "wants 0, or 3 to 15 model sizes", .lo = 0, .hi = 15},
      {CLS_OPT(CLS_OPT_STRING, "--output", &a->output, "FILE", "output",
               "where to write the sweep spec (default RUN_DIR/plan.json)"),
       .alias = "-o"},
      {CLS_OPT(CLS_OPT_FLAG, "--quiet", &a->quiet, NULL, "quiet", "print nothing but warnings and errors"),
       .alias = "-q"},
  };
  cls_cmd_set_options(cmd, opts, cap, table, sizeof table / sizeof table[0]);
  cmd->name = "plan";
  cmd->usage = "usage: clscale plan RUN_DIR --flops C | --loss L | --params N [options]";
  cmd->about =
      "Plans the next run from the fit of RUN_DIR (clscale fit writes RUN_DIR/fit.json): each fitted law's\n"
      "compute-optimal N, D, steps and loss at the target, with bootstrap intervals; the model shape\n"
      "of the sweep's family nearest to N_opt; and a sweep spec that trains it (clscale sweep SPEC).";
  cmd->epilogue =
      "Exit codes: 0 planned, 1 failure (no fit.json, unreadable files), 2 bad usage (no target or two,\n"
      "a budget below the runs', a fit.json of another version, a task without a model family,\n"
      "--n-train or --unique-tokens without a data-constrained law or without the runs' tokens per example).";
  cmd->words = CLS_OPT_WORDS_WANTS;
}

/* ------------------------------------------------------------ the shape */

/* The task's model family as the sweep used it: its depths and how heads
 * follow the width (a fixed count, or a fixed head size). */
typedef struct {
  size_t depths[16], n_depths;
  size_t heads, head_dim; /* one of them set */
} family;

static void family_of(const cls_sweep_spec *s, family *f) {
  memset(f, 0, sizeof *f);
  bool fixed = true, dim = true;
  for (size_t i = 0; i < s->n_shapes; i++) {
    const cls_sweep_shape *q = &s->shapes[i];
    size_t k = 0;
    while (k < f->n_depths && f->depths[k] != q->depth) k++;
    if (k == f->n_depths && k < sizeof f->depths / sizeof f->depths[0]) f->depths[f->n_depths++] = q->depth;
    fixed = fixed && q->heads == s->shapes[0].heads;
    dim = dim && q->heads && q->width % q->heads == 0 &&
          q->width / q->heads == s->shapes[0].width / s->shapes[0].heads;
  }
  /* Several sizes with one head count: the count is fixed (the default);
   * else a fixed head size when the widths keep one. */
  if (fixed || !dim)
    f->heads = s->shapes[0].heads;
  else
    f->head_dim = s->shapes[0].width / s->shapes[0].heads;
}

/* The shape of the family whose N is nearest to target in log N. */
static bool nearest_shape(const cls_sweep_spec *s, const family *f, double target, cls_sweep_shape *best,
                          double *best_n) {
  double best_d = INFINITY;
  size_t step = f->head_dim ? f->head_dim : f->heads;
  if (!step) step = 1;
  for (size_t j = 0; j < f->n_depths; j++) {
    for (size_t w = step; w <= 65536; w += step) {
      double n, ne;
      if (!cls_sweep_count_params(&s->base, w, f->depths[j], &n, &ne) || !(n > 0)) return false;
      double d = fabs(log(n / target));
      if (d < best_d) {
        best_d = d, *best_n = n;
        best->width = w, best->depth = f->depths[j], best->heads = f->head_dim ? w / f->head_dim : f->heads;
        best->target_params = 0;
      }
      if (n > 2 * target) break;
    }
  }
  return isfinite(best_d);
}

/* ---------------------------------------------------------------- steps */

/* What the plan needs from the sweep's runs: tokens per step (a plan's D in
 * steps) and their training set (the unique data of the data-constrained
 * plan). NaN for what no run records. */
typedef struct {
  double tokens_per_step;
  double per_example;              /* tokens per training example: D / (epochs × train_examples) */
  bool per_example_agrees;         /* every run that records it gives the same (1e-6) */
  double examples_lo, examples_hi; /* the runs' training-set sizes */
} runs_facts;

static void facts_of(const char *dir, runs_facts *r) {
  r->tokens_per_step = r->per_example = r->examples_lo = r->examples_hi = NAN;
  r->per_example_agrees = true;
  cls_rundir *rd = NULL;
  char err[512];
  if (cls_rundir_load(dir, &rd, err, sizeof err)) return;
  for (size_t i = 0; i < rd->n_points; i++) {
    const cls_run_point *q = &rd->points[i];
    const cls_run_curve *c = &q->curve;
    if (!q->usable) continue;
    if (!isfinite(r->tokens_per_step) && c->n && c->step[c->n - 1] > 0 && c->tokens[c->n - 1] > 0)
      r->tokens_per_step = c->tokens[c->n - 1] / c->step[c->n - 1];
    if (!(q->epochs > 0) || !(q->train_examples > 0) || !isfinite(q->epochs) || !isfinite(q->train_examples))
      continue;
    double pe = q->tokens / (q->epochs * q->train_examples);
    if (!isfinite(r->per_example))
      r->per_example = pe;
    else if (fabs(pe / r->per_example - 1) > 1e-6)
      r->per_example_agrees = false;
    r->examples_lo = isfinite(r->examples_lo) ? fmin(r->examples_lo, q->train_examples) : q->train_examples;
    r->examples_hi = isfinite(r->examples_hi) ? fmax(r->examples_hi, q->train_examples) : q->train_examples;
  }
  cls_rundir_destroy(rd);
}

/* The unique training data in tokens: --unique-tokens, --n-train times
 * the runs' tokens per example, or the runs' own training set when they
 * share one. NaN with the reason in why when none is known; -1 (a message
 * printed) when --n-train cannot be converted. */
static double unique_tokens(const cls_opt_command *cmd, const plan_args *a, const runs_facts *r, char *src,
                            size_t src_len, char *why, size_t why_len) {
  bool per = isfinite(r->per_example) && r->per_example_agrees;
  if (isfinite(a->unique_tokens)) {
    snprintf(src, src_len, "--unique-tokens");
    return a->unique_tokens;
  }
  if (isfinite(a->n_train)) {
    if (!per) {
      cls_opt_fail(cmd, CLS_EXIT_USAGE,
                   "--n-train needs the tokens per training example, which the runs of %s %s: give "
                   "--unique-tokens U (unique tokens, D's unit) instead",
                   a->run_dir,
                   isfinite(r->per_example) ? "do not agree on" : "do not record (epochs, train_examples)");
      return -1;
    }
    snprintf(src, src_len, "--n-train %.6g examples x %.6g tokens each", a->n_train, r->per_example);
    return a->n_train * r->per_example;
  }
  if (!per) {
    snprintf(why, why_len, "%s",
             isfinite(r->per_example) ? "the runs do not agree on the tokens per training example"
                                      : "no run of RUN_DIR records its training set (epochs, train_examples)");
    return NAN;
  }
  if (r->examples_lo != r->examples_hi) {
    snprintf(why, why_len, "the runs train on %.6g to %.6g examples: which the next run gets is yours to say",
             r->examples_lo, r->examples_hi);
    return NAN;
  }
  snprintf(src, src_len, "the runs' training set: %.6g examples x %.6g tokens each", r->examples_lo,
           r->per_example);
  return r->examples_lo * r->per_example;
}

/* ---------------------------------------------------------------- table */

static void cell(double v, cls_ci ci, const char *fmt, int width) {
  char b[128], x[32], lo[32], hi[32];
  if (!isfinite(v)) {
    snprintf(b, sizeof b, "—");
  } else {
    snprintf(x, sizeof x, fmt, v);
    if (isfinite(ci.lo) && isfinite(ci.hi)) {
      snprintf(lo, sizeof lo, fmt, ci.lo), snprintf(hi, sizeof hi, fmt, ci.hi);
      snprintf(b, sizeof b, "%s [%s, %s]", x, lo, hi);
    } else {
      snprintf(b, sizeof b, "%s", x);
    }
  }
  int shown = 0;
  for (const char *p = b; *p; p++) shown += ((unsigned char)*p & 0xC0) != 0x80;
  printf("%s%*s", b, width > shown ? width - shown : 0, "");
}

static void print_rows(const cls_fit_optimum *opt, double tps, double level) {
  printf("%d%% intervals from the bootstrap resamples of each law; the prediction interval adds the runs' "
         "scatter about the law:\n",
         (int)lround(level * 100));
  printf("  %-11s %-32s %-32s %-32s %-24s %-32s %s\n", "law", "C (FLOPs)", "N_opt", "D_opt", "steps",
         "loss [confidence]", "a run's loss [prediction]");
  for (int i = 0; i < CLS_FIT_N_LAWS; i++) {
    printf("  %-11s ", opt[i].law);
    if (!opt[i].ok) {
      printf("%s\n", opt[i].why);
      continue;
    }
    cell(opt[i].c, opt[i].c_ci, "%.4g", 33);
    cell(opt[i].n, opt[i].n_ci, "%.4g", 33);
    cell(opt[i].d, opt[i].d_ci, "%.4g", 33);
    cls_ci sc = {opt[i].d_ci.lo / tps, opt[i].d_ci.hi / tps};
    cell(isfinite(tps) ? opt[i].d / tps : NAN, sc, "%.0f", 25);
    cell(opt[i].loss, opt[i].loss_ci, "%.4g", 33);
    if (isfinite(opt[i].loss_pi.lo)) printf("[%.4g, %.4g]", opt[i].loss_pi.lo, opt[i].loss_pi.hi);
    printf("\n");
  }
}

/* The plan under the data-constrained law beside the plain one: whether
 * the plain plan's D repeats the unique data, and the run that minimises
 * the loss at the same budget with the unique data fixed. */
static int print_constrained(const cls_opt_command *cmd, const cls_fit_laws *laws, const cls_fit_optimum *opt,
                             const cls_fit_optimum *size, double u, const char *src, cls_fit_dc_plan *out) {
  printf("\nunique training data: %.4g tokens (%s)\n", u, src);
  bool over = false;
  for (int i = 0; i < CLS_FIT_N_LAWS; i++) {
    if (!opt[i].ok || !isfinite(opt[i].d)) continue;
    over = over || opt[i].d > u;
    printf("  %-11s D_opt %.4g = %.3g epochs%s\n", opt[i].law, opt[i].d, opt[i].d / u,
           opt[i].d > u ? ": exceeds the unique data, the run would revisit it" : "");
  }
  if (!laws->has_dc) {
    if (over) printf("  the data-constrained law is not fitted, so the cost of the revisits is not known\n");
    return CLS_EXIT_OK;
  }
  cls_fit_dc_plan p;
  char err[512];
  cls_status st = cls_fit_constrained_plan(laws, size->c, u, &p, err, sizeof err);
  if (st) return cls_opt_fail(cmd, cls_cmd_exit_of(st), "%s", err);
  *out = p;
  printf(
      "data-constrained law (R*_D = %.4g): the loss-optimal run at C = %.4g FLOPs with the unique data fixed%s\n",
      laws->dc[5], size->c,
      over ? " (the plain plan's D exceeds it: this is the plan to follow)" : " (no revisits in the plain plan)");
  if (!p.ok) {
    printf("  none: %s\n", p.why);
    return CLS_EXIT_OK;
  }
  printf("  %-33s %-33s %-25s %s\n", "N_opt", "D_opt", "epochs", "loss");
  printf("  ");
  cell(p.n, p.n_ci, "%.4g", 34);
  cell(p.d, p.d_ci, "%.4g", 34);
  cell(p.epochs, p.epochs_ci, "%.3g", 26);
  cell(p.loss, p.loss_ci, "%.4g", 0);
  printf("\n");
  if (p.n_flat_hi > 1.05 * p.n_flat_lo)
    printf(
        "  the loss is flat (within 1e-9) from N = %.4g to %.4g: the repeated data and the excess parameters have "
        "both saturated, so every model of that span does as well\n",
        p.n_flat_lo, p.n_flat_hi);
  if (isfinite(size->n) && isfinite(size->d)) {
    double l = cls_fit_constrained_loss(laws->dc, laws->par, size->n, size->d, u);
    printf("  the %s plan's run (N %.4g, D %.4g, %.3g epochs) under this law: loss %.4g, %+.2g%% against its "
           "optimum\n",
           size->law, size->n, size->d, size->d / u, l, 100 * (l / p.loss - 1));
  }
  return CLS_EXIT_OK;
}

/* ------------------------------------------------------------------ run */

/* The law whose plan sizes the model: the parametric law (it predicts the
 * loss of the planned run too), else the IsoFLOP power laws. */
static const cls_fit_optimum *sizing_law(const cls_fit_optimum *opt) {
  return opt[1].ok ? &opt[1] : opt[0].ok ? &opt[0] : NULL;
}

/* Writes the spec: the sweep's own settings, the planned shape (or a
 * profile of K around it) at budget C. */
static int write_spec(const cls_opt_command *cmd, const plan_args *a, cls_sweep_spec *s, const family *f,
                      const cls_sweep_shape *shape, double n_opt, double c, const char *path) {
  cls_sweep_shape shapes[16];
  size_t ns = 0;
  if (a->profile >= 3) {
    /* K sizes log-evenly from N_opt/3 to 3 N_opt: the minimum of the
     * profile then lies inside it even where the law is off by 2x */
    for (int k = 0; k < a->profile; k++) {
      double t = n_opt * pow(3, -1 + 2.0 * k / (a->profile - 1)), nn;
      cls_sweep_shape q;
      if (!nearest_shape(s, f, t, &q, &nn)) continue;
      bool dup = false;
      for (size_t i = 0; i < ns; i++) dup = dup || (shapes[i].width == q.width && shapes[i].depth == q.depth);
      if (!dup) shapes[ns++] = q;
    }
  } else {
    shapes[ns++] = *shape;
  }
  cls_sweep_budget budget = {CLS_BUDGET_FLOPS, c};
  free(s->shapes), free(s->budgets);
  s->shapes = malloc(ns * sizeof *s->shapes), s->budgets = malloc(sizeof *s->budgets);
  if (!s->shapes || !s->budgets) return cls_opt_fail(cmd, CLS_EXIT_FAIL, "out of host memory");
  memcpy(s->shapes, shapes, ns * sizeof *shapes);
  s->n_shapes = ns;
  s->budgets[0] = budget;
  s->n_budgets = 1;
  s->mode = CLS_SWEEP_ISOFLOP;
  s->isoflop_sizes = 0;
  char name[sizeof s->name];
  snprintf(name, sizeof name, "%.100s-plan", s->name);
  snprintf(s->name, sizeof s->name, "%s", name);
  char about[512], err[1024];
  snprintf(about, sizeof about,
           "Written by clscale plan from %s: %s at C = %.4g FLOPs (N_opt %.4g); train it with clscale sweep "
           "and compare its final loss with the plan's prediction.",
           a->run_dir,
           ns > 1 ? "an IsoFLOP profile around the compute-optimal model" : "the compute-optimal model", c, n_opt);
  if (cls_sweep_spec_write(s, about, path, err, sizeof err)) return cls_opt_fail(cmd, CLS_EXIT_FAIL, "%s", err);
  if (!a->quiet) {
    printf("\nwrote %s: %zu model%s at C = %.4g FLOPs:", path, ns, ns == 1 ? "" : "s", c);
    for (size_t i = 0; i < ns; i++) printf(" %zux%zux%zu", shapes[i].width, shapes[i].depth, shapes[i].heads);
    printf("\n  clscale sweep %s --out RUN_DIR-plan\n", path);
  }
  return CLS_EXIT_OK;
}

/* The sweep's spec from manifest.json, or why there is none (rc set). */
static cls_sweep_spec *recorded_spec(const cls_opt_command *cmd, const char *dir, int *rc) {
  cls_manifest_info m;
  char err[1024];
  *rc = CLS_EXIT_OK;
  if (cls_manifest_read(dir, &m, err, sizeof err) || !m.spec) {
    cls_manifest_info_free(&m);
    *rc = cls_opt_fail(cmd, CLS_EXIT_USAGE,
                       "%s has no manifest.json with the sweep's spec (a CSV or a train run): no model family to "
                       "size and no spec to write; the laws' predictions are above",
                       dir);
    return NULL;
  }
  char *text = cJSON_PrintUnformatted(m.spec);
  cls_manifest_info_free(&m);
  cls_sweep_spec *s = NULL;
  char source[256];
  snprintf(source, sizeof source, "%.200s/manifest.json", dir);
  if (!text || cls_sweep_spec_from_canonical(text, source, &s, err, sizeof err))
    *rc = cls_opt_fail(cmd, CLS_EXIT_FAIL, "cannot read the sweep's spec back: %s", text ? err : "out of memory");
  free(text);
  return s;
}

int cls_cmd_plan(int argc, char **argv) {
  plan_args a;
  memset(&a, 0, sizeof a);
  a.flops = a.loss = a.params = a.n_train = a.unique_tokens = NAN;
  cls_option opts[12];
  cls_opt_command cmd;
  plan_command(&cmd, opts, sizeof opts / sizeof opts[0], &a);
  int code = cls_cmd_parse(&cmd, argc, argv);
  if (code != CLS_EXIT_GO_ON) return code;
  if (!a.run_dir) return cls_cmd_refuse(&cmd, "RUN_DIR is missing");
  int targets = isfinite(a.flops) + isfinite(a.loss) + isfinite(a.params);
  if (targets != 1)
    return cls_cmd_refuse(&cmd, targets ? "give one target: --flops, --loss or --params, not several"
                                        : "give the target: --flops C, --loss L or --params N");
  if (isfinite(a.n_train) && isfinite(a.unique_tokens))
    return cls_cmd_refuse(&cmd, "give the unique data once: --n-train K or --unique-tokens U, not both");
  if (a.profile == 1 || a.profile == 2)
    return cls_opt_fail(&cmd, CLS_EXIT_USAGE, "--profile wants 0, or 3 to 15 model sizes (a parabola needs 3)");
  char fit_path[4096], spec_path[4096], err[2048];
  snprintf(fit_path, sizeof fit_path, "%s", a.fit ? a.fit : "");
  if (!a.fit) snprintf(fit_path, sizeof fit_path, "%s/fit.json", a.run_dir);
  snprintf(spec_path, sizeof spec_path, "%s", a.output ? a.output : "");
  if (!a.output) snprintf(spec_path, sizeof spec_path, "%s/plan.json", a.run_dir);

  cls_fit *f = NULL;
  cls_status st = cls_fit_load(fit_path, &f, err, sizeof err);
  if (st == CLS_ERR_IO) return cls_opt_fail(&cmd, CLS_EXIT_FAIL, "%s (run clscale fit %s first)", err, a.run_dir);
  if (st)
    return cls_opt_fail(&cmd, st == CLS_ERR_FORMAT && strstr(err, "version") ? CLS_EXIT_USAGE : CLS_EXIT_FAIL,
                        "%s", err);
  cls_fit_laws laws;
  if (cls_fit_laws_of_file(f, fit_path, &laws, err, sizeof err)) {
    cls_fit_destroy(f);
    return cls_opt_fail(&cmd, CLS_EXIT_USAGE, "%s", err);
  }
  if ((isfinite(a.n_train) || isfinite(a.unique_tokens)) && !laws.has_dc) {
    code = cls_opt_fail(&cmd, CLS_EXIT_USAGE,
                        "--%s plans under the data-constrained law, which %s does not hold (clscale fit: %s); "
                        "plan without it",
                        isfinite(a.n_train) ? "n-train" : "unique-tokens", fit_path,
                        f->constrained.why[0] ? f->constrained.why : "not fitted");
    cls_fit_destroy(f);
    return code;
  }
  cls_plan_target t = isfinite(a.flops) ? CLS_PLAN_FLOPS : isfinite(a.loss) ? CLS_PLAN_LOSS : CLS_PLAN_PARAMS;
  double v = t == CLS_PLAN_FLOPS ? a.flops : t == CLS_PLAN_LOSS ? a.loss : a.params;
  cls_fit_optimum opt[CLS_FIT_N_LAWS];
  st = cls_fit_optimum_at(&laws, t, v, opt, err, sizeof err);
  const cls_fit_optimum *size = st ? NULL : sizing_law(opt);
  code = CLS_EXIT_OK;
  if (st) {
    code = cls_opt_fail(&cmd, cls_cmd_exit_of(st), "%s", err);
  } else if (!size && !opt[2].ok) {
    code = cls_opt_fail(&cmd, CLS_EXIT_USAGE,
                        "no fitted law answers this target: isoflop: %s; parametric: %s; "
                        "frontier: %s",
                        opt[0].why, opt[1].why, opt[2].why);
  } else {
    /* A plan extrapolates upward: below the smallest run the runs answer. */
    double c = size ? size->c : opt[2].c;
    if (isfinite(f->runs_c_lo) && c < f->runs_c_lo)
      code = cls_opt_fail(&cmd, CLS_EXIT_USAGE,
                          "the planned budget %.4g FLOPs is below the smallest run's (%.4g FLOPs; the runs span "
                          "%.4g .. %.4g): plan for a budget at or above it",
                          c, f->runs_c_lo, f->runs_c_lo, f->runs_c_hi);
  }
  if (code != CLS_EXIT_OK) {
    cls_fit_destroy(f);
    return code;
  }
  runs_facts facts;
  facts_of(a.run_dir, &facts);
  double tps = facts.tokens_per_step;
  char usrc[256] = "", uwhy[256] = "";
  double u = unique_tokens(&cmd, &a, &facts, usrc, sizeof usrc, uwhy, sizeof uwhy);
  if (u < 0) {
    cls_fit_destroy(f);
    return CLS_EXIT_USAGE;
  }
  if (!a.quiet) {
    printf("clscale plan: %s from %s (fit.json version %d)\n",
           t == CLS_PLAN_FLOPS  ? "a budget"
           : t == CLS_PLAN_LOSS ? "a loss to reach"
                                : "a model size",
           fit_path, f->version);
    print_rows(opt, tps, laws.ci_level);
    if (isfinite(tps)) printf("  steps = D_opt / %.6g tokens per step (the sweep's runs)\n", tps);
  }
  /* the data-constrained plan needs a budget and the unique data */
  cls_fit_dc_plan dcp;
  memset(&dcp, 0, sizeof dcp);
  if (size && isfinite(u)) {
    if (!a.quiet) code = print_constrained(&cmd, &laws, opt, size, u, usrc, &dcp);
    if (code != CLS_EXIT_OK) {
      cls_fit_destroy(f);
      return code;
    }
  } else if (laws.has_dc && size && !isfinite(u)) {
    cls_opt_fail(&cmd, CLS_EXIT_OK,
                 "note: the data-constrained law is fitted but the unique training data is not known (%s): give "
                 "--n-train K or --unique-tokens U for the plan under it",
                 uwhy);
  }
  if (!size) {
    cls_fit_destroy(f);
    return cls_opt_fail(
        &cmd, CLS_EXIT_OK,
        "warning: neither the parametric nor the IsoFLOP laws are fitted: no N_opt to size a model "
        "for, no spec written");
  }
  int rc;
  cls_sweep_spec *s = recorded_spec(&cmd, a.run_dir, &rc);
  if (s && (s->solved || s->generations)) {
    rc = cls_opt_fail(&cmd, CLS_EXIT_USAGE,
                      s->solved ? "task %s has no model family to size: its model is solved, not trained with a "
                                  "width and depth"
                                : "task %s: a sweep with generations is planned per generation; plan a sweep "
                                  "without generations",
                      s->task);
  }
  family fam;
  cls_sweep_shape shape;
  double shape_n = NAN;
  if (s && !rc) {
    family_of(s, &fam);
    if (!nearest_shape(s, &fam, size->n, &shape, &shape_n))
      rc = cls_opt_fail(&cmd, CLS_EXIT_USAGE, "task %s (model %s) has no model family whose size can be counted",
                        s->task, s->model);
  }
  if (s && !rc) {
    if (!a.quiet) {
      double pl = NAN;
      if (laws.has_par) {
        const double *p = laws.par, d = size->c / 6 / shape_n;
        pl = p[0] + p[1] / pow(shape_n, p[2]) + p[3] / pow(d, p[4]);
      }
      printf("\nnearest model of the %s family (N_opt %.4g from the %s law): width %zu, depth %zu, heads %zu, "
             "N = %.4g",
             s->model, size->n, size->law, shape.width, shape.depth, shape.heads, shape_n);
      if (isfinite(pl)) printf(", parametric loss at C/(6N) tokens %.4g", pl);
      printf("\n");
      /* the model to train for the data-constrained plan (the spec below
       * stays the plain plan's: its sweep settings name the unique data) */
      cls_sweep_shape dshape;
      double dn = NAN;
      if (dcp.ok && nearest_shape(s, &fam, dcp.n, &dshape, &dn))
        printf("nearest model for the data-constrained N_opt %.4g: width %zu, depth %zu, heads %zu, N = %.4g, "
               "its loss under that law %.4g\n",
               dcp.n, dshape.width, dshape.depth, dshape.heads, dn,
               cls_fit_constrained_loss(laws.dc, laws.par, dn, size->c / 6 / dn, u));
    }
    rc = write_spec(&cmd, &a, s, &fam, &shape, size->n, size->c, spec_path);
  }
  cls_sweep_spec_free(s);
  cls_fit_destroy(f);
  return rc;
}
