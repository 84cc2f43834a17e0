/*
 * src/plot/figures.h — the scaling-law figures of `clscale plot`, built from a
 * run directory, its fit.json and its µP coordinate check; and the figures
 * of the solved tasks (rf, zipf), their measured points against the exact
 * theory of the fit layer (docs/formats.md, "plots/").
 */
#ifndef CLSCALE_PLOT_FIGURES_H
#define CLSCALE_PLOT_FIGURES_H

#include "plot/figure.h"
#include "plot/rundir.h"
#include "plot/solved.h"

typedef enum {
  CLS_PLOT_LOSS_FLOPS = 0, /* loss vs FLOPs per model size, frontier and its fit */
  CLS_PLOT_ISOFLOP,        /* loss vs N per budget, parabolas, optima */
  CLS_PLOT_OPTIMAL,        /* N*(C) and D*(C) with fits and bootstrap bands */
  CLS_PLOT_LOSS_N,         /* final loss vs N */
  CLS_PLOT_LOSS_D,         /* final loss vs D */
  CLS_PLOT_PARAMETRIC,     /* predicted vs observed loss of L(N,D) */
  CLS_PLOT_COORD_CHECK,    /* µP coordinate check */
  /* The solved tasks: measured points and the theory through them. */
  CLS_PLOT_RF_LOSS_N,         /* rf: test loss vs N, one colour per T */
  CLS_PLOT_RF_LOSS_T,         /* rf: test loss vs T, one colour per N */
  CLS_PLOT_RF_DOUBLE_DESCENT, /* rf: test loss vs N/T per T, one colour per ridge */
  CLS_PLOT_ZIPF_ERROR,        /* zipf: the memoriser's error vs T, one colour per source */
  /* Sweeps with generations (model collapse): the loss (and the gcd
   * task's accuracy) on real data. */
  CLS_PLOT_COLLAPSE_LOSS_D,        /* vs D, one curve per generation and pi, the fitted modified law */
  CLS_PLOT_COLLAPSE_ACCURACY_D,    /* the accuracy (gcd) vs D, drawn as the loss is; none for text */
  CLS_PLOT_COLLAPSE_GENERATION,    /* vs the generation, per pi and D */
  CLS_PLOT_COLLAPSE_REAL_FRACTION, /* at the largest D vs pi, per generation */
  CLS_PLOT_GCD_OUTCOMES,           /* the gcd task: accuracy per gcd value, per generation */
  CLS_PLOT_BACKTEST, /* clscale fit --holdout-top: held-out runs against the law fitted without them */
  CLS_PLOT_REPEATS,  /* the data-constrained law: what repeated tokens are worth against epochs */
  CLS_PLOT_KIND_COUNT
} cls_plot_kind;

/* "loss-flops", "isoflop", "optimal", "loss-n", "loss-d", "parametric",
 * "coord-check", "rf-loss-n", "rf-loss-t", "rf-double-descent",
 * "zipf-error", "collapse-loss-d", "collapse-accuracy-d", "collapse-generation",
 * "collapse-real-fraction", "gcd-outcomes", "backtest", "repeats": also the PNG's base name. */
const char *cls_plot_kind_name(cls_plot_kind k);
/* The kind named s, or -1. */
int cls_plot_kind_parse(const char *s);
/* The task whose sweeps a kind draws ("rf", "zipf"; "collapse" for the
 * sweeps with generations, of any task; "fit" for the figures of a
 * fit.json section that only some fits have, backtest and repeats), or NULL for the kinds that any run directory
 * may have data for. */
const char *cls_plot_kind_task(cls_plot_kind k);

typedef struct cls_plot_options {
  double width_in, height_in, dpi; /* of a single-panel figure */
  const char *title;               /* replaces the default title, or NULL */
} cls_plot_options;

/* Everything a figure may draw from; any pointer may be NULL when its file is
 * absent, and the matching *_missing says which file that was. */
typedef struct cls_plot_inputs {
  const cls_rundir *rd;
  const cls_fit *fit;
  const cls_coord_check *cc;
  const char *fit_missing; /* e.g. "fit.json not found (run clscale fit)" */
  const char *cc_missing;
  const cls_solved *solved; /* the points' config keys, for the solved tasks' figures */
} cls_plot_inputs;

/* Builds one figure. When the data it needs are absent the figure is skipped:
 * CLS_OK with *out NULL and why saying which file or column is needed. Parts
 * drawn without a fit (data but no fitted curve) add a note to why too. */
cls_status cls_plot_build(cls_plot_kind kind, const cls_plot_inputs *in, const cls_plot_options *opt,
                          cls_figure **out, char *why, size_t why_len);

/* How `clscale plot` reports progress: level 0 info, 1 warning. */
typedef void (*cls_plot_report)(void *user, int level, const char *msg);

/* Loads RUN_DIR, builds the kinds in mask (bit k = kind k) and writes
 * OUT_DIR/<kind>.png (OUT_DIR is created if needed; NULL = RUN_DIR/plots).
 * mask 0 means every kind of the run directory's task: the solved task's
 * figures for an rf or zipf sweep, the collapse figures for a sweep with
 * generations, the others (those cls_plot_kind_task gives NULL) for any
 * other. A kind of a task other than the points' task
 * is refused before anything is written: CLS_ERR_INVALID_VALUE with err
 * naming the kinds that fit. Skipped figures and data warnings go to
 * report. *written counts the PNGs. */
cls_status cls_plot_run(const char *run_dir, const char *out_dir, unsigned mask, const cls_plot_options *opt,
                        cls_plot_report report, void *user, int *written, char *err, size_t err_len);

#endif
