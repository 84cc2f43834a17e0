/*
 * tools/cmd_plot.c — `clscale plot`: publication-quality PNG figures from a
 * run directory (points/, fit.json, coord_check.csv) into RUN_DIR/plots/.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "plot/figures.h"

static void usage(FILE *f) {
  fprintf(f, "usage: clscale plot RUN_DIR [--kind KIND[,KIND...]] [-o DIR] [--width W] [--height H]\n"
             "                    [--dpi N] [--title TEXT]\n\n"
             "Draws the scaling-law figures that RUN_DIR's data support, as PNG files named\n"
             "KIND.png in RUN_DIR/plots/ (or DIR). A figure whose data are missing is skipped\n"
             "with a message naming the file or column it needs.\n\n"
             "  --kind KIND     only these figures (repeatable, comma-separated, or 'all'):\n"
             "                    loss-flops   loss vs FLOPs per model size, compute frontier and its fit\n"
             "                    isoflop      loss vs N per compute budget, fitted parabolas, optima\n"
             "                    optimal      N_opt(C) and D_opt(C) with power-law fits and bootstrap bands\n"
             "                    loss-n       final loss vs model size N\n"
             "                    loss-d       final loss vs training tokens D\n"
             "                    parametric   predicted vs observed loss of L(N,D) = E + A/N^a + B/D^b\n"
             "                    coord-check  muP coordinate check (needs RUN_DIR/coord_check.csv)\n"
             "  -o, --output DIR  where to write the PNGs (created if missing; default RUN_DIR/plots)\n"
             "  --width W       figure width, in inches, or with a unit: 6.4in, 16cm, 960px (default 6.4in)\n"
             "  --height H      figure height, same units (default 4.8in)\n"
             "  --dpi N         resolution in dots per inch, 10..2400 (default 150)\n"
             "  --title TEXT    replaces the figures' titles\n\n"
             "Reads: RUN_DIR/points/<id>.json and <id>.csv, RUN_DIR/fit.json, RUN_DIR/coord_check.csv\n"
             "(docs/formats.md). Exit codes: 0 ok, 1 failure (nothing could be drawn, or a file is\n"
             "corrupt or unwritable), 2 bad usage.\n");
}

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

static void report(void *user, int level, const char *msg) {
  (void)user;
  if (level == 0 && !strncmp(msg, "wrote ", 6))
    printf("%s\n", msg);
  else
    fprintf(stderr, "clscale plot: %s%s\n", level ? "warning: " : "", msg);
}

/* Takes the value of an option given as "--opt VALUE" or "--opt=VALUE". */
static const char *option_value(int argc, char **argv, int *i, const char *name) {
  size_t n = strlen(name);
  if (!strncmp(argv[*i], name, n) && argv[*i][n] == '=') return argv[*i] + n + 1;
  if (!strcmp(argv[*i], name) && *i + 1 < argc) return argv[++*i];
  return NULL;
}

static int add_kinds(const char *list, unsigned *mask) {
  char buf[256];
  snprintf(buf, sizeof buf, "%s", list);
  char *save = NULL;
  for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
    if (!strcmp(t, "all")) {
      *mask |= (1u << CLS_PLOT_KIND_COUNT) - 1;
      continue;
    }
    int k = cls_plot_kind_parse(t);
    if (k < 0) {
      fprintf(stderr,
              "clscale plot: unknown --kind '%s' (kinds: loss-flops, isoflop, optimal, loss-n, loss-d, "
              "parametric, coord-check, all)\n",
              t);
      return -1;
    }
    *mask |= 1u << k;
  }
  return 0;
}

int cls_cmd_plot(int argc, char **argv) {
  const char *run_dir = NULL, *out_dir = NULL, *title = NULL, *v;
  double width = 6.4, height = 4.8, dpi = 150;
  unsigned mask = 0;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
      usage(stdout);
      return CLS_EXIT_OK;
    } else if ((v = option_value(argc, argv, &i, "--kind"))) {
      if (add_kinds(v, &mask)) return CLS_EXIT_USAGE;
    } else if ((v = option_value(argc, argv, &i, "--output")) || (v = option_value(argc, argv, &i, "-o"))) {
      out_dir = v;
    } else if ((v = option_value(argc, argv, &i, "--width"))) {
      if (parse_length(v, &width)) {
        fprintf(stderr, "clscale plot: --width wants a positive length such as 6.4, 16cm or 960px, not '%s'\n", v);
        return CLS_EXIT_USAGE;
      }
    } else if ((v = option_value(argc, argv, &i, "--height"))) {
      if (parse_length(v, &height)) {
        fprintf(stderr, "clscale plot: --height wants a positive length such as 4.8, 12cm or 720px, not '%s'\n",
                v);
        return CLS_EXIT_USAGE;
      }
    } else if ((v = option_value(argc, argv, &i, "--dpi"))) {
      char *end;
      dpi = strtod(v, &end);
      if (end == v || *end || !(dpi >= 10 && dpi <= 2400)) {
        fprintf(stderr, "clscale plot: --dpi wants a number from 10 to 2400, not '%s'\n", v);
        return CLS_EXIT_USAGE;
      }
    } else if ((v = option_value(argc, argv, &i, "--title"))) {
      title = v;
    } else if (a[0] == '-' && a[1] != '\0') {
      fprintf(stderr, "clscale plot: unknown or incomplete argument '%s'\n", a);
      usage(stderr);
      return CLS_EXIT_USAGE;
    } else if (!run_dir) {
      run_dir = a;
    } else {
      fprintf(stderr, "clscale plot: one RUN_DIR only ('%s' and '%s' given)\n", run_dir, a);
      return CLS_EXIT_USAGE;
    }
  }
  if (!run_dir) {
    fprintf(stderr, "clscale plot: RUN_DIR is missing\n");
    usage(stderr);
    return CLS_EXIT_USAGE;
  }
  if (width < 0) width = -width / dpi;
  if (height < 0) height = -height / dpi;
  if (!(width >= 1.0 && width <= 100) || !(height >= 1.0 && height <= 100)) {
    fprintf(stderr, "clscale plot: figure size %.3gx%.3g in is out of range: use 1 to 100 inches a side\n", width,
            height);
    return CLS_EXIT_USAGE;
  }
  cls_plot_options opt = {width, height, dpi, title};
  char err[2048];
  int written = 0;
  cls_status st = cls_plot_run(run_dir, out_dir, mask, &opt, report, NULL, &written, err, sizeof err);
  if (st != CLS_OK) {
    fprintf(stderr, "clscale plot: %s\n", err);
    return CLS_EXIT_FAIL;
  }
  if (written == 0) {
    fprintf(stderr, "clscale plot: no figure could be drawn from %s (see the messages above)\n", run_dir);
    return CLS_EXIT_FAIL;
  }
  if (mask) { /* an explicitly requested figure that was skipped is a failure */
    int wanted = 0;
    for (int k = 0; k < CLS_PLOT_KIND_COUNT; k++) wanted += (mask >> k) & 1u;
    if (written < wanted) return CLS_EXIT_FAIL;
  }
  return CLS_EXIT_OK;
}
