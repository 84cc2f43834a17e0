/* tools/fit_lrtransfer.c — see fit_lrtransfer.h. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "fit/lrtransfer.h"
#include "fit_lrtransfer.h"

static void print_curve(const cls_lrt_family *f, const cls_lrt_curve *cv) {
  size_t div = 0;
  for (size_t i = 0; i < cv->n; i++) div += cv->n_ok[i] == 0 && cv->n_div[i] > 0;
  printf("  %-10s %-8g %3zu  %3zu  ", f->param, cv->value, cv->n, div);
  if (!cv->opt.ok) {
    printf("no optimum: %s\n", cv->opt.why);
    return;
  }
  char ci[64];
  if (isfinite(cv->lr_opt_ci.lo))
    snprintf(ci, sizeof ci, "[%.3g, %.3g]", cv->lr_opt_ci.lo, cv->lr_opt_ci.hi);
  else
    snprintf(ci, sizeof ci, "[no interval]");
  printf("%-10.4g %-22s %.5g\n", cv->opt.lr_opt, ci, cv->opt.loss_opt);
}

static void print_table(const cls_fit_lrtransfer *t, const char *run_dir, const cls_fit_options *o) {
  printf("clscale fit: learning-rate transfer across %s, %zu runs (%zu diverged) at a budget of %g %s from %s;\n"
         "%d%% intervals from %d bootstrap resamples (seed %llu); rate grid step x%.3g\n\n",
         t->dim, t->n_runs, t->n_diverged, t->budget, t->budget_unit, run_dir, (int)lround(o->ci_level * 100),
         o->bootstrap, (unsigned long long)o->seed, t->grid_step);
  printf("  %-10s %-8s %3s  %3s  %-10s %-22s %s\n", "param", t->dim, "lrs", "div", "lr_opt", "interval",
         "loss_opt");
  for (size_t p = 0; p < t->n_families; p++)
    for (size_t c = 0; c < t->families[p].n_curves; c++) print_curve(&t->families[p], &t->families[p].curves[c]);
  printf("\n");
  for (size_t p = 0; p < t->n_families; p++) printf("  %s\n", t->families[p].verdict);
  printf("\n  %s\n", t->summary);
}

int cls_fit_lrtransfer_mode(const cls_opt_command *cmd, const char *run_dir, const char *path,
                            const cls_fit_options *o, int forced, int quiet) {
  cls_lrt_input *in = NULL;
  char err[2048] = "";
  cls_status st = cls_fit_lrt_input_from_rundir(run_dir, &in, err, sizeof err);
  if (st) {
    if (!forced) return CLS_EXIT_GO_ON; /* the other fits say what is wrong, as they always did */
    return cls_opt_fail(cmd, st == CLS_ERR_INVALID_VALUE ? CLS_EXIT_USAGE : CLS_EXIT_FAIL, "%s", err);
  }
  if (!cls_fit_lrt_applies(in) && !forced) {
    cls_fit_lrt_input_destroy(in);
    return CLS_EXIT_GO_ON;
  }
  if (cls_fit_lrt_n_rates(in) < 3) { /* forced: several budgets are refused by the fit, with why */
    cls_fit_lrt_input_destroy(in);
    return cls_opt_fail(cmd, CLS_EXIT_USAGE,
                        "--lr-transfer: the points of %s have fewer than 3 learning rates (a transfer sweep lists "
                        "'lrs', docs/sweep.md)",
                        run_dir);
  }
  for (size_t i = 0; i < in->n_warnings; i++) cls_opt_fail(cmd, 0, "warning: %s", in->warnings[i]);
  cls_fit_lrtransfer t;
  st = cls_fit_lrtransfer_run(in, o, &t, err, sizeof err);
  cls_fit_lrt_input_destroy(in);
  if (st) return cls_opt_fail(cmd, st == CLS_ERR_INVALID_VALUE ? CLS_EXIT_USAGE : CLS_EXIT_FAIL, "%s", err);
  int code = CLS_EXIT_OK;
  for (size_t p = 0; p < t.n_families; p++)
    for (size_t c = 0; c < t.families[p].n_curves; c++)
      if (!t.families[p].curves[c].opt.ok)
        cls_opt_fail(cmd, 0, "warning: %s, %s %g: %s", t.families[p].param, t.dim, t.families[p].curves[c].value,
                     t.families[p].curves[c].opt.why);
  if (cls_fit_write_lrtransfer_json(&t, o, path, err, sizeof err) != CLS_OK) {
    code = cls_opt_fail(cmd, CLS_EXIT_FAIL, "%s", err);
  } else if (!quiet) {
    print_table(&t, run_dir, o);
    printf("\nwrote %s\n", path);
  }
  cls_fit_lrtransfer_free(&t);
  return code;
}
