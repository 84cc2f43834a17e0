/* src/rundir/runs.c — see runs.h. */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/err.h"
#include "rundir/csv.h"
#include "rundir/json.h"
#include "rundir/runs.h"

void cls_rundir_warn(cls_rundir *rd, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  cls_warning_addv(&rd->warnings, &rd->n_warnings, fmt, ap);
  va_end(ap);
}

static void free_curve(cls_run_curve *c) {
  free(c->step);
  free(c->tokens);
  free(c->flops);
  free(c->eval_loss);
  free(c->train_loss);
  memset(c, 0, sizeof *c);
}

void cls_rundir_destroy(cls_rundir *rd) {
  if (!rd) return;
  for (size_t i = 0; i < rd->n_points; i++) free_curve(&rd->points[i].curve);
  free(rd->points);
  for (size_t i = 0; i < rd->n_warnings; i++) free(rd->warnings[i]);
  free(rd->warnings);
  free(rd->path);
  free(rd->name);
  free(rd);
}

static char *join(const char *a, const char *b) {
  size_t n = strlen(a) + strlen(b) + 2;
  char *p = malloc(n);
  if (p) snprintf(p, n, "%s/%s", a, b);
  return p;
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Reads points/<id>.csv; columns the figures need are checked there, so a
 * missing column only leaves that array NULL. */
static cls_status load_curve(cls_rundir *rd, const char *path, const char *shown, cls_run_curve *c, char *err,
                             size_t err_len) {
  cls_csv *t;
  cls_status st = cls_csv_load(path, &t, err, err_len);
  if (st) return st;
  if (t->n_rows == 0) {
    cls_rundir_warn(rd, "%s has a header but no rows; its curve is not drawn", shown);
    cls_csv_destroy(t);
    return CLS_OK;
  }
  c->n = t->n_rows;
  const char *names[5] = {"step", "tokens", "flops", "eval_loss", "train_loss"};
  double **dst[5] = {&c->step, &c->tokens, &c->flops, &c->eval_loss, &c->train_loss};
  for (int i = 0; i < 5 && !st; i++) {
    if (cls_csv_column(t, names[i]) < 0) continue;
    size_t bad = 0;
    st = cls_csv_numbers(t, shown, names[i], dst[i], &bad, err, err_len);
    /* A loss is never negative: such a file is wrong, for plot and fit
     * alike. A zero loss is a result (an exhausted memoriser); each stage
     * says what it does with it. */
    for (size_t r = 0; i >= 3 && r < t->n_rows && !st; r++)
      if ((*dst[i])[r] < 0)
        st = cls_errf(err, err_len, CLS_ERR_FORMAT,
                      "%s line %zu: %s %g is negative; a loss cannot be: fix or remove the file", shown,
                      t->lines[r], names[i], (*dst[i])[r]);
    if (!st && bad)
      cls_rundir_warn(rd, "%s: %zu row%s with a non-finite %s skipped", shown, bad, bad == 1 ? "" : "s", names[i]);
  }
  cls_csv_destroy(t);
  if (st) free_curve(c);
  return st;
}

/* The fields of one summary the figures and fits use; a summary must at
 * least say which model it is (n_params), the rest may be null for a run
 * that failed before its end. */
static cls_status read_summary(cls_rundir *rd, const char *path, const char *shown, size_t base, const char *file,
                               cls_run_point *p, char *err, size_t err_len) {
  cls_point_summary s;
  cls_status st = cls_point_summary_read(path, &s, err, err_len);
  if (st) return st;
  snprintf(p->id, sizeof p->id, "%.*s", (int)base, file);
  if (s.id && strcmp(s.id, p->id))
    cls_rundir_warn(rd, "%s: id \"%s\" differs from the file name; the file name is used", shown, s.id);
  snprintf(p->status, sizeof p->status, "%s", s.status ? s.status : cls_point_state_name(CLS_POINT_OK));
  p->n_params = s.n_params;
  p->n_params_embed = s.n_params_embed;
  p->tokens = s.tokens;
  p->flops = s.flops;
  p->flops_6nd = s.flops_6nd;
  p->budget_flops = s.budget_flops;
  p->final_eval_loss = s.final_eval_loss;
  p->final_train_loss = s.final_train_loss;
  p->epochs = s.epochs;
  p->train_examples = s.train_examples;
  p->width = cls_point_config_num(s.config, "width");
  p->depth = cls_point_config_num(s.config, "depth");
  cls_point_summary_release(&s);
  if (isnan(p->n_params))
    return cls_errf(err, err_len, CLS_ERR_FORMAT,
                    "%s has no numeric field \"n_params\" (docs/formats.md lists the fields)", shown);
  return CLS_OK;
}

/* A point is drawn (and fitted) when it is ok with positive N, D, C and a
 * positive finite eval loss (the figures and fits are on log axes);
 * anything else is left out with a warning, the same for plot and fit.
 * Types and ranges were checked by the summary's reader. */
static void judge_point(cls_rundir *rd, const char *shown, cls_run_point *p) {
  if (!isfinite(p->flops) && isfinite(p->flops_6nd)) p->flops = p->flops_6nd;
  p->usable = cls_point_state_parse(p->status) == CLS_POINT_OK;
  if (!p->usable) {
    cls_rundir_warn(rd, "%s: status \"%s\"; the point is left out of the figures", shown, p->status);
  } else if (!(p->n_params > 0) || !(p->tokens > 0) || !(p->flops > 0) || !(p->final_eval_loss > 0) ||
             !isfinite(p->final_eval_loss)) {
    const char *what = !(p->n_params > 0) ? "n_params"
                       : !(p->tokens > 0) ? "tokens"
                       : !(p->flops > 0)  ? "flops"
                                          : "final_eval_loss";
    cls_rundir_warn(rd, "%s: %s is missing, null or not a positive finite number; the point is skipped", shown,
                    what);
    p->usable = false;
  }
}

static cls_status load_point(cls_rundir *rd, const char *points_dir, const char *file, cls_run_point *p, char *err,
                             size_t err_len) {
  memset(p, 0, sizeof *p);
  char *path = join(points_dir, file);
  if (!path) return CLS_ERR_OUT_OF_MEMORY;
  char shown[320];
  snprintf(shown, sizeof shown, "points/%s", file);
  size_t base = strlen(file) - 5; /* without ".json" */
  cls_status st = read_summary(rd, path, shown, base, file, p, err, err_len);
  free(path);
  if (st) return st;
  judge_point(rd, shown, p);
  /* The loss curve beside it. */
  char csv_name[300];
  snprintf(csv_name, sizeof csv_name, "%.*s.csv", (int)base, file);
  char *csv_path = join(points_dir, csv_name);
  if (!csv_path) return CLS_ERR_OUT_OF_MEMORY;
  struct stat sb;
  if (stat(csv_path, &sb) == 0) {
    snprintf(shown, sizeof shown, "points/%s", csv_name);
    st = load_curve(rd, csv_path, shown, &p->curve, err, err_len);
  }
  free(csv_path);
  return st;
}

cls_status cls_rundir_load(const char *dir, cls_rundir **out, char *err, size_t err_len) {
  if (!dir || !out) return CLS_ERR_NULL_ARGUMENT;
  *out = NULL;
  struct stat sb;
  if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
    return cls_errf(err, err_len, CLS_ERR_IO, "run directory %s: %s", dir,
                    stat(dir, &sb) != 0 ? strerror(errno) : "not a directory");
  }
  cls_rundir *rd = calloc(1, sizeof *rd);
  if (!rd || !(rd->path = join(dir, ""))) {
    free(rd);
    return CLS_ERR_OUT_OF_MEMORY;
  }
  rd->path[strlen(rd->path) - 1] = '\0';
  cls_status st = CLS_OK;
  /* manifest.json is optional for plotting; only its name is used. */
  char mpath[4200];
  if (cls_rundir_path(mpath, sizeof mpath, dir, CLS_RUNDIR_MANIFEST, NULL) == CLS_OK && stat(mpath, &sb) == 0) {
    cls_manifest_info m;
    st = cls_manifest_read(dir, &m, err, err_len);
    rd->name = m.name;
    m.name = NULL;
    cls_manifest_info_free(&m);
  }
  char *pdir = malloc(strlen(dir) + 16);
  if (pdir) cls_rundir_path(pdir, strlen(dir) + 16, dir, CLS_RUNDIR_POINTS, NULL);
  DIR *d = pdir && !st ? opendir(pdir) : NULL;
  if (d) {
    rd->has_points_dir = true;
    char **names = NULL;
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
      size_t len = strlen(e->d_name);
      if (len <= 5 || strcmp(e->d_name + len - 5, ".json") || e->d_name[0] == '.') continue;
      /* The stages after this one make paths from the id (the outcome
       * table, the summary again): a name that is not an id is not a
       * point's, and is said so once, here. */
      char id[CLS_RUNDIR_ID_MAX + 1];
      snprintf(id, sizeof id, "%.*s", (int)(len - 5 < sizeof id ? len - 5 : sizeof id - 1), e->d_name);
      if (len - 5 >= sizeof id || !cls_rundir_id_ok(id)) {
        cls_rundir_warn(
            rd, "points/%.200s: the name is not a point id (1 to %d " CLS_RUNDIR_ID_CHARS "); the file is skipped",
            e->d_name, CLS_RUNDIR_ID_MAX);
        continue;
      }
      char **p = realloc(names, (n + 1) * sizeof *names);
      if (!p) break;
      names = p;
      names[n] = malloc(len + 1);
      if (!names[n]) break;
      memcpy(names[n++], e->d_name, len + 1);
    }
    closedir(d);
    /* readdir order is arbitrary; figures must not be. No points: names is
     * NULL, and qsort's arguments must be valid pointers even for 0 items. */
    if (n > 1) qsort(names, n, sizeof *names, cmp_str);
    rd->points = calloc(n ? n : 1, sizeof *rd->points);
    if (!rd->points) st = CLS_ERR_OUT_OF_MEMORY;
    for (size_t i = 0; i < n && !st; i++) {
      st = load_point(rd, pdir, names[i], &rd->points[rd->n_points], err, err_len);
      if (!st) rd->n_points++;
    }
    for (size_t i = 0; i < n; i++) free(names[i]);
    free(names);
  }
  free(pdir);
  if (st) {
    cls_rundir_destroy(rd);
    return st;
  }
  *out = rd;
  return CLS_OK;
}
