/*
 * tools/cmd_plot.c — `clscale plot`: publication-quality PNG figures from a
 * run directory (points/, fit.json, coord_check.csv) into RUN_DIR/plots/.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "command.h"
#include "commands.h"
#include "options.h"
#include "plot/figures.h"

/* A length in inches from "6.4", "6.4in", "16cm" or "960px"; px needs the dpi,
 * so its value is returned negative and resolved after all options are read. */
static int parse_length(const char *s, double *out) {
  char *end;
  double v = strtod(s, &end);
  if (end == s || !isfinite(v) || !(v > 0)) return -1;
  if (!*end || !strcmp(end, "in"))
    *out = v;
  else if (!strcmp(end, "cm"))
    *out = v / 2.54;
  else if (!strcmp(end, "mm"))
    *out = v / 25.4;
  else if (!strcmp(end, "px"))
    *out = -v;
  else
    return -1;
  return 0;
}

/* The library's messages: "wrote FILE" on stdout, the others on stderr. */
static void report(void *user, int level, const char *msg) {
  const cls_opt_command *cmd = user;
  if (level == 0 && !strncmp(msg, "wrote ", 6))
    printf("%s\n", msg);
  else
    cls_opt_fail(cmd, 0, "%s%s", level ? "warning: " : "", msg);
}

/* ------------------------------------------------------------- options */

typedef struct {
  const char *run_dir, *out_dir, *title;
  double width, height, dpi; /* inches, or (negative) pixels until the dpi is known */
  unsigned mask;             /* the kinds asked for; 0: all */
} plot_args;

/* --kind all: every kind that fits the run directory, as without --kind. */
#define KIND_ALL (1u << 31)

/* --kind KIND[,KIND...] or all; repeatable. */
static int parse_kinds(const char *list, void *target, char *why, size_t len) {
  unsigned *mask = target;
  char buf[256];
  snprintf(buf, sizeof buf, "%s", list);
  char *save = NULL;
  for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
    if (!strcmp(t, "all")) {
      *mask |= KIND_ALL;
      continue;
    }
    int k = cls_plot_kind_parse(t);
    if (k < 0) {
      char names[400] = "";
      for (int i = 0; i < CLS_PLOT_KIND_COUNT; i++) {
        size_t u = strlen(names);
        snprintf(names + u, sizeof names - u, "%s, ", cls_plot_kind_name((cls_plot_kind)i));
      }
      snprintf(why, len, "unknown --kind '%s' (kinds: %sall)", t, names);
      return CLS_OPT_BAD_MSG;
    }
    *mask |= 1u << k;
  }
  return CLS_OPT_GOOD;
}

static int parse_size_option(const char *v, void *target, char *why, size_t len) {
  (void)why, (void)len;
  return parse_length(v, target) ? CLS_OPT_BAD : CLS_OPT_GOOD;
}

static void plot_command(cls_opt_command *cmd, cls_option *opts, size_t cap, plot_args *a) {
  const cls_option table[] = {
      {CLS_OPT(CLS_OPT_POSITIONAL, NULL, &a->run_dir, "RUN_DIR", "run_dir", NULL)},
      {CLS_OPT(CLS_OPT_CUSTOM, "--kind", &a->mask, "KIND", "kind kinds",
               "only these figures (repeatable, comma-separated, or 'all'):\n"
               "  loss-flops   loss vs FLOPs per model size, compute frontier and its fit\n"
               "  isoflop      loss vs N per compute budget, fitted parabolas, optima\n"
               "  optimal      N_opt(C) and D_opt(C) with power-law fits and bootstrap bands\n"
               "  loss-n       final loss vs model size N\n"
               "  loss-d       final loss vs training tokens D\n"
               "  parametric   predicted vs observed loss of L(N,D) = E + A/N^a + B/D^b\n"
               "  coord-check  muP coordinate check (needs RUN_DIR/coord_check.csv)\n"
               "the solved tasks' sweeps, with the exact theory through the points:\n"
               "  rf-loss-n          rf: test loss vs features N, one colour per T\n"
               "  rf-loss-t          rf: test loss vs samples T, one colour per N\n"
               "  rf-double-descent  rf: test loss vs N/T, one colour per ridge\n"
               "  zipf-error         zipf: the memoriser's error vs T, one colour per source\n"
               "sweeps with generations (model collapse), the loss (and accuracy) on real data:\n"
               "  collapse-loss-d         vs D per generation and real share pi, the fitted modified law\n"
               "  collapse-accuracy-d     the accuracy (gcd: exact answers) vs D, drawn as collapse-loss-d\n"
               "  collapse-generation     vs generation, per pi (thick: the largest D)\n"
               "  collapse-real-fraction  at the largest D vs pi, per generation\n"
               "  gcd-outcomes            accuracy and loss per gcd value, per generation (the tail)\n"
               "learning-rate transfer sweeps (3 or more rates at one budget):\n"
               "  lr-transfer  final loss vs learning rate per width (depth, ...), SP and muP side\n"
               "               by side, optima starred, diverged rates at the top edge\n"
               "default: the kinds of RUN_DIR's task (rf, zipf, a sweep with generations), else\nthe first seven"),
       .parse = parse_kinds},
      {CLS_OPT(CLS_OPT_STRING, "--output", &a->out_dir, "DIR", "out_dir output",
               "where to write the PNGs (created if missing; default RUN_DIR/plots)"),
       .alias = "-o"},
      {CLS_OPT(CLS_OPT_CUSTOM, "--width", &a->width, "W", "width width_in",
               "figure width, in inches, or with a unit: 6.4in, 16cm, 960px (default 6.4in)"),
       .wants = "wants a positive length such as 6.4, 16cm or 960px", .parse = parse_size_option},
      {CLS_OPT(CLS_OPT_CUSTOM, "--height", &a->height, "H", "height height_in",
               "figure height, same units (default 4.8in)"),
       .wants = "wants a positive length such as 4.8, 12cm or 720px", .parse = parse_size_option},
      {CLS_OPT(CLS_OPT_DOUBLE, "--dpi", &a->dpi, "N", "dpi",
               "resolution in dots per inch, 10..2400 (default 150)"),
       .wants = "wants a number from 10 to 2400", .lo = 10, .hi = 2400},
      {CLS_OPT(CLS_OPT_STRING, "--title", &a->title, "TEXT", "title", "replaces the figures' titles")},
  };
  cls_cmd_set_options(cmd, opts, cap, table, sizeof table / sizeof table[0]);
  cmd->name = "plot";
  cmd->usage = "usage: clscale plot RUN_DIR [--kind KIND[,KIND...]] [-o DIR] [--width W] [--height H]\n"
               "                    [--dpi N] [--title TEXT]";
  cmd->about = "Draws the scaling-law figures that RUN_DIR's data support, as PNG files named\n"
               "KIND.png in RUN_DIR/plots/ (or DIR). A figure whose data are missing is skipped\n"
               "with a message naming the file or column it needs.";
  cmd->epilogue = "Reads: RUN_DIR/points/<id>.json and <id>.csv, RUN_DIR/fit.json, RUN_DIR/coord_check.csv\n"
                  "(docs/formats.md). Exit codes: 0 ok, 1 failure (nothing could be drawn, or a file is\n"
                  "corrupt or unwritable), 2 bad usage (also a --kind of another task than RUN_DIR's).";
  cmd->words = CLS_OPT_WORDS_WANTS;
}

/* Parses argv and resolves pixel sizes with the dpi; CLS_EXIT_GO_ON or
 * the exit code. */
static int read_args(const cls_opt_command *cmd, int argc, char **argv, plot_args *a) {
  int code = cls_cmd_parse(cmd, argc, argv);
  if (code != CLS_EXIT_GO_ON) return code;
  if (!a->run_dir) return cls_cmd_refuse(cmd, "RUN_DIR is missing");
  if (a->width < 0) a->width = -a->width / a->dpi;
  if (a->height < 0) a->height = -a->height / a->dpi;
  if (!(a->width >= 1.0 && a->width <= 100) || !(a->height >= 1.0 && a->height <= 100))
    return cls_opt_fail(cmd, CLS_EXIT_USAGE,
                        "figure size %.3gx%.3g in is out of range: use 1 to 100 inches a side", a->width,
                        a->height);
  return CLS_EXIT_GO_ON;
}

int cls_cmd_plot(int argc, char **argv) {
  plot_args a = {NULL, NULL, NULL, 6.4, 4.8, 150, 0};
  cls_option opts[16];
  cls_opt_command cmd;
  plot_command(&cmd, opts, sizeof opts / sizeof opts[0], &a);
  int code = read_args(&cmd, argc, argv, &a);
  if (code != CLS_EXIT_GO_ON) return code;
  if (a.mask & KIND_ALL) a.mask = 0;
  cls_plot_options opt = {a.width, a.height, a.dpi, a.title};
  char err[2048];
  int written = 0;
  cls_status st = cls_plot_run(a.run_dir, a.out_dir, a.mask, &opt, report, &cmd, &written, err, sizeof err);
  if (st == CLS_ERR_INVALID_VALUE) /* a --kind of another task: nothing was written */
    return cls_opt_fail(&cmd, CLS_EXIT_USAGE, "%s", err);
  if (st != CLS_OK) return cls_opt_fail(&cmd, CLS_EXIT_FAIL, "%s", err);
  if (written == 0)
    return cls_opt_fail(&cmd, CLS_EXIT_FAIL, "no figure could be drawn from %s (see the messages above)",
                        a.run_dir);
  if (a.mask) { /* an explicitly requested figure that was skipped is a failure */
    int wanted = 0;
    for (int k = 0; k < CLS_PLOT_KIND_COUNT; k++) wanted += (a.mask >> k) & 1u;
    if (written < wanted) return CLS_EXIT_FAIL;
  }
  return CLS_EXIT_OK;
}
