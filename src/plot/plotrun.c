/*
 * src/plot/plotrun.c — `clscale plot` as a library call: load a run
 * directory, build every figure its data supports, write the PNGs.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/err.h"
#include "figures_internal.h"

static void say(cls_plot_report report, void *user, int level, const char *fmt, const char *a, const char *b) {
  if (!report) return;
  char msg[2400];
  snprintf(msg, sizeof msg, fmt, a, b);
  report(user, level, msg);
}

/* mkdir -p: creates dir and missing parents. */
static cls_status make_dirs(const char *dir, char *err, size_t err_len) {
  size_t n = strlen(dir);
  char *p = malloc(n + 1);
  if (!p) return CLS_ERR_OUT_OF_MEMORY;
  memcpy(p, dir, n + 1);
  for (size_t i = 1; i <= n; i++) {
    if (p[i] != '/' && p[i] != '\0') continue;
    char saved = p[i];
    p[i] = '\0';
    struct stat sb;
    if (stat(p, &sb) != 0) {
      if (mkdir(p, 0777) != 0 && errno != EEXIST) {
        cls_errf(err, err_len, CLS_ERR_IO, "cannot create output directory %s: %s; choose a writable `out_dir`", p,
                 strerror(errno));
        free(p);
        return CLS_ERR_IO;
      }
    } else if (!S_ISDIR(sb.st_mode)) {
      cls_errf(err, err_len, CLS_ERR_IO, "output path %s exists and is not a directory; choose another `out_dir`",
               p);
      free(p);
      return CLS_ERR_IO;
    }
    p[i] = saved;
  }
  free(p);
  return CLS_OK;
}

/* The kinds of a task ("rf", "zipf"; NULL: the kinds of any run directory). */
static unsigned kinds_of(const char *task) {
  unsigned m = 0;
  for (int k = 0; k < CLS_PLOT_KIND_COUNT; k++) {
    const char *t = cls_plot_kind_task((cls_plot_kind)k);
    if (task ? t && !strcmp(t, task) : !t) m |= 1u << k;
  }
  return m;
}

static void kind_list(unsigned m, char *buf, size_t len) {
  buf[0] = '\0';
  for (int k = 0; k < CLS_PLOT_KIND_COUNT; k++) {
    if (!(m & (1u << k))) continue;
    size_t u = strlen(buf);
    snprintf(buf + u, len - u, "%s%s", u ? ", " : "", cls_plot_kind_name((cls_plot_kind)k));
  }
}

/* mask 0: the kinds of the points' task (of "collapse" for a sweep with
 * generations). Else every kind of a task must be of the points' task:
 * CLS_ERR_INVALID_VALUE otherwise. */
static cls_status choose_kinds(const cls_solved *sv, unsigned *mask, char *err, size_t err_len) {
  const bool collapse = cls__fig_is_collapse(sv);
  const char *task = collapse ? "collapse" : sv && sv->task[0] ? sv->task : NULL;
  unsigned own = task ? kinds_of(task) : 0;
  if (*mask == 0) {
    *mask = own ? own : kinds_of(NULL);
    return CLS_OK;
  }
  for (int k = 0; k < CLS_PLOT_KIND_COUNT; k++) {
    const char *t = cls_plot_kind_task((cls_plot_kind)k);
    if (!(*mask & (1u << k)) || !t || (task && !strcmp(t, task))) continue;
    if (!strcmp(t, "fit")) continue;              /* of any task: the figure says what it lacks */
    if (!task && strcmp(t, "collapse")) continue; /* no task named: the figure says what it lacks */
    char fits[300];
    kind_list(own ? own : kinds_of(NULL), fits, sizeof fits);
    if (!strcmp(t, "collapse"))
      return cls_errf(err, err_len, CLS_ERR_INVALID_VALUE,
                      "--kind %s is a figure of a sweep with generations (model collapse), but the points of %s "
                      "have no generation and real_fraction: choose one of %s",
                      cls_plot_kind_name((cls_plot_kind)k), sv && sv->n_summaries ? "this run directory" : "it",
                      fits);
    return cls_errf(err, err_len, CLS_ERR_INVALID_VALUE,
                    "--kind %s is a figure of task \"%s\", but the points of %s are of %s%s%s: choose one of %s",
                    cls_plot_kind_name((cls_plot_kind)k), t, sv && sv->n_summaries ? "this run directory" : "it",
                    collapse ? "a sweep with generations" : "task \"", collapse ? "" : task, collapse ? "" : "\"",
                    fits);
  }
  return CLS_OK;
}

cls_status cls_plot_run(const char *run_dir, const char *out_dir, unsigned mask, const cls_plot_options *opt,
                        cls_plot_report report, void *user, int *written, char *err, size_t err_len) {
  if (!run_dir || !opt) return CLS_ERR_NULL_ARGUMENT;
  if (written) *written = 0;
  cls_rundir *rd = NULL;
  cls_solved *sv = NULL;
  cls_fit *fit = NULL;
  cls_coord_check *cc = NULL;
  cls_font *font = NULL;
  char *path = NULL, *outd = NULL;
  char fit_missing[600] = "", cc_missing[600] = "";
  cls_status st = cls_rundir_load(run_dir, &rd, err, err_len);
  size_t plen = strlen(run_dir) + 64 + (out_dir ? strlen(out_dir) : 0);
  if (!st && !(path = malloc(plen))) st = CLS_ERR_OUT_OF_MEMORY;
  if (!st) {
    cls_rundir_path(path, plen, run_dir, CLS_RUNDIR_FIT, NULL);
    st = cls_fit_load(path, &fit, err, err_len);
    if (st == CLS_ERR_IO) { /* absent: the fitted parts are left out */
      snprintf(fit_missing, sizeof fit_missing, "%s/fit.json does not exist (run clscale fit)", run_dir);
      st = CLS_OK;
    }
  }
  if (!st) {
    cls_rundir_path(path, plen, run_dir, CLS_RUNDIR_COORD_CHECK, NULL);
    size_t bad = 0;
    st = cls_coord_check_load(path, &cc, &bad, err, err_len);
    if (st == CLS_ERR_IO) {
      snprintf(cc_missing, sizeof cc_missing, "needs %s/coord_check.csv (written by a µP coordinate check)",
               run_dir);
      st = CLS_OK;
    } else if (!st && bad) {
      char n[32];
      snprintf(n, sizeof n, "%zu", bad);
      say(report, user, 1, "coord_check.csv: %s non-finite value%s skipped", n, bad == 1 ? "" : "s");
    }
  }
  if (!st && !rd->has_points_dir && !fit && !cc) {
    cls_errf(err, err_len, CLS_ERR_FORMAT,
             "%s holds none of points/, fit.json or coord_check.csv: is it a run directory "
             "written by clscale sweep?",
             run_dir);
    st = CLS_ERR_FORMAT;
  }
  if (!st) st = cls_solved_load(rd, &sv, err, err_len);
  const bool every = mask == 0;
  if (!st) st = choose_kinds(sv, &mask, err, err_len);
  /* the figures of the sections only some fits have, whenever fit.json has them */
  if (!st && every && fit && fit->backtest.present) mask |= 1u << CLS_PLOT_BACKTEST;
  if (!st && every && fit && fit->constrained.present) mask |= 1u << CLS_PLOT_REPEATS;
  if (!st) {
    /* The run directory's warnings are worded for the other figures (a zipf
     * point has no FLOPs, which they need); the solved tasks' figures have
     * their own. */
    bool general = (mask & kinds_of(NULL)) != 0;
    char *const *w = general ? rd->warnings : sv->warnings;
    size_t nw = general ? rd->n_warnings : sv->n_warnings;
    for (size_t i = 0; i < nw && i < 20; i++) say(report, user, 1, "%s%s", w[i], "");
    if (nw > 20) {
      char n[32];
      snprintf(n, sizeof n, "%zu", nw - 20);
      say(report, user, 1, "... and %s more warnings%s", n, "");
    }
    if (!(outd = malloc(plen))) st = CLS_ERR_OUT_OF_MEMORY;
  }
  if (!st) {
    if (out_dir)
      snprintf(outd, plen, "%s", out_dir);
    else
      snprintf(outd, plen, "%s/plots", run_dir);
    st = cls_font_create(&font, err, err_len);
  }
  bool dir_made = false;
  cls_plot_inputs in = {rd, fit, cc, fit_missing[0] ? fit_missing : NULL, cc_missing[0] ? cc_missing : NULL, sv};
  for (int k = 0; k < CLS_PLOT_KIND_COUNT && !st; k++) {
    if (!(mask & (1u << k))) continue;
    cls_figure *f = NULL;
    char why[1000];
    const char *name = cls_plot_kind_name((cls_plot_kind)k);
    st = cls_plot_build((cls_plot_kind)k, &in, opt, &f, why, sizeof why);
    if (st) {
      cls_errf(err, err_len, st, "building %s failed (%s)", name, cls_status_name(st));
      break;
    }
    if (!f) {
      say(report, user, 0, "skipped %s: %s", name, why);
      continue;
    }
    if (!dir_made) {
      st = make_dirs(outd, err, err_len);
      dir_made = !st;
    }
    if (!st) {
      snprintf(path, plen, "%s/%s.png", outd, name);
      st = cls_figure_save_png(f, font, path, err, err_len);
    }
    cls_figure_destroy(f);
    if (!st) {
      if (written) (*written)++;
      say(report, user, 0, "wrote %s%s", path, "");
      if (why[0]) say(report, user, 1, "%s: %s", name, why);
    }
  }
  cls_font_destroy(font);
  cls_coord_check_destroy(cc);
  cls_solved_destroy(sv);
  cls_fit_destroy(fit);
  cls_rundir_destroy(rd);
  free(path);
  free(outd);
  return st;
}
