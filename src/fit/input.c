/*
 * src/fit/input.c — what the fits read: the runs of a run directory (through
 * the run directory's reader, so fit and plot read the same files the same way)
 * or a CSV of N, D, C and loss, e.g. a published sweep.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fit/fit.h"
#include "core/err.h"
#include "rundir/csv.h"
#include "rundir/runs.h"

void cls_fit_input_warn(cls_fit_input *in, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  cls_warning_addv(&in->warnings, &in->n_warnings, fmt, ap);
  va_end(ap);
}

void cls_fit_input_destroy(cls_fit_input *in) {
  if (!in) return;
  for (size_t i = 0; i < in->n_warnings; i++) free(in->warnings[i]);
  free(in->warnings);
  free(in->pts);
  free(in->curve_c);
  free(in->curve_l);
  free(in);
}

static bool positive(double v) {
  return isfinite(v) && v > 0;
}

/* Appends one (C, loss) row to the curve table. */
static cls_status push_curve(cls_fit_input *in, size_t *cap, double c, double l) {
  if (in->n_curve == *cap) {
    size_t nc = *cap ? 2 * *cap : 256;
    double *a = realloc(in->curve_c, nc * sizeof *a);
    if (!a) return CLS_ERR_OUT_OF_MEMORY;
    in->curve_c = a;
    double *b = realloc(in->curve_l, nc * sizeof *b);
    if (!b) return CLS_ERR_OUT_OF_MEMORY;
    in->curve_l = b;
    *cap = nc;
  }
  in->curve_c[in->n_curve] = c;
  in->curve_l[in->n_curve++] = l;
  return CLS_OK;
}

cls_status cls_fit_input_from_rundir(const char *dir, bool train_loss, cls_fit_input **out, char *err,
                                     size_t err_len) {
  if (!dir || !out) return CLS_ERR_NULL_ARGUMENT;
  *out = NULL;
  cls_rundir *rd = NULL;
  cls_status st = cls_rundir_load(dir, &rd, err, err_len);
  if (st) return st;
  cls_fit_input *in = calloc(1, sizeof *in);
  if (!in || !(in->pts = calloc(rd->n_points ? rd->n_points : 1, sizeof *in->pts))) {
    free(in);
    cls_rundir_destroy(rd);
    return CLS_ERR_OUT_OF_MEMORY;
  }
  in->train_loss = train_loss;
  /* The reader words its warnings for the plotter; say "fits" here. */
  for (size_t i = 0; i < rd->n_warnings; i++) {
    const char *w = rd->warnings[i], *fig = strstr(w, "of the figures");
    if (fig)
      cls_fit_input_warn(in, "%.*sof the fits%s", (int)(fig - w), w, fig + strlen("of the figures"));
    else
      cls_fit_input_warn(in, "%s", w);
  }
  size_t cap = 0;
  const char *lname = train_loss ? "final_train_loss" : "final_eval_loss";
  for (size_t i = 0; i < rd->n_points && !st; i++) {
    const cls_run_point *p = &rd->points[i];
    double loss = train_loss ? p->final_train_loss : p->final_eval_loss;
    /* The reader judged the point (status, N, D, C, eval loss) and warned,
     * the same words plot shows; only the train loss is this reader's own. */
    if (!p->usable) continue;
    if (!(loss > 0) || !isfinite(loss)) {
      cls_fit_input_warn(in,
                         "points/%s.json: %s is missing, null or not a positive finite number; the point is "
                         "skipped",
                         p->id, lname);
      continue;
    }
    cls_fit_point *q = &in->pts[in->n_pts];
    snprintf(q->id, sizeof q->id, "%s", p->id);
    q->n = p->n_params, q->d = p->tokens, q->c = p->flops, q->loss = loss;
    q->budget = positive(p->budget_flops) ? p->budget_flops : NAN;
    q->epochs = positive(p->epochs) ? p->epochs : NAN;
    q->curve0 = in->n_curve;
    const double *cl = train_loss ? p->curve.train_loss : p->curve.eval_loss;
    size_t skipped = 0;
    for (size_t r = 0; r < p->curve.n && cl && p->curve.flops && !st; r++) {
      double c = p->curve.flops[r], l = cl[r];
      if (positive(c) && positive(l)) { /* the reader refused negative losses, warned of non-finite ones */
        st = push_curve(in, &cap, c, l);
      } else {
        skipped++;
      }
    }
    size_t zero = 0;
    for (size_t r = 0; r < p->curve.n && cl; r++) zero += cl[r] == 0;
    if (zero)
      cls_fit_input_warn(in, "points/%s.csv: %zu row%s with a zero %s left out of the fits (log-loss)", p->id,
                         zero, zero == 1 ? "" : "s", train_loss ? "train_loss" : "eval_loss");
    (void)skipped;
    if (!st && in->n_curve == q->curve0) st = push_curve(in, &cap, q->c, q->loss);
    q->curve_n = in->n_curve - q->curve0;
    in->n_pts++;
  }
  bool had_points_dir = rd->has_points_dir;
  size_t n_files = rd->n_points;
  cls_rundir_destroy(rd);
  if (!st && in->n_pts == 0) {
    if (!had_points_dir)
      cls_errf(err, err_len, CLS_ERR_INVALID_VALUE,
               "%s has no points/ folder: is it a run directory? (clscale sweep writes one)", dir);
    else if (n_files == 0)
      cls_errf(err, err_len, CLS_ERR_INVALID_VALUE, "%s/points/ holds no <id>.json run summaries: nothing to fit",
               dir);
    else
      cls_errf(err, err_len, CLS_ERR_INVALID_VALUE,
               "none of the %zu runs in %s/points/ is usable (status ok with positive n_params, tokens, "
               "flops and a finite %s): nothing to fit",
               n_files, dir, lname);
    st = CLS_ERR_INVALID_VALUE;
  }
  if (st) {
    cls_fit_input_destroy(in);
    return st;
  }
  *out = in;
  return CLS_OK;
}

/* The first column whose name is one of names (case-insensitive), or -1. */
static int find_col(const cls_csv *t, const char *const *names) {
  for (; *names; names++)
    for (size_t i = 0; i < t->n_cols; i++)
      if (!strcasecmp(t->cols[i], *names)) return (int)i;
  return -1;
}

cls_status cls_fit_input_from_csv(const char *path, cls_fit_input **out, char *err, size_t err_len) {
  if (!path || !out) return CLS_ERR_NULL_ARGUMENT;
  *out = NULL;
  cls_csv *t;
  cls_status st = cls_csv_load(path, &t, err, err_len);
  if (st) return st;
  static const char *const n_names[] = {"N", "n_params", "params", NULL};
  static const char *const d_names[] = {"D", "tokens", "data", NULL};
  static const char *const c_names[] = {"C", "flops", "compute", NULL};
  static const char *const l_names[] = {"loss", "final_eval_loss", "eval_loss", "L", NULL};
  static const char *const b_names[] = {"budget", "budget_flops", NULL};
  static const char *const i_names[] = {"id", NULL};
  static const char *const e_names[] = {"epochs", NULL};
  int cn = find_col(t, n_names), cd = find_col(t, d_names), cc = find_col(t, c_names), cl = find_col(t, l_names),
      cb = find_col(t, b_names), ci = find_col(t, i_names), ce = find_col(t, e_names);
  /* Two columns for one quantity ("N,n_params", "loss,L"): which to use
   * is a guess, so neither is. */
  const char *const *groups[] = {n_names, d_names, c_names, l_names, b_names, i_names, e_names};
  for (size_t g = 0; g < sizeof groups / sizeof groups[0]; g++) {
    int first = -1;
    for (size_t i = 0; i < t->n_cols; i++)
      for (const char *const *nm = groups[g]; *nm; nm++)
        if (!strcasecmp(t->cols[i], *nm)) {
          if (first >= 0) {
            cls_errf(err, err_len, CLS_ERR_FORMAT, "%s header: the columns '%s' and '%s' both give %s: keep one",
                     path, t->cols[first], t->cols[i], groups[g][0]);
            cls_csv_destroy(t);
            return CLS_ERR_FORMAT;
          }
          first = (int)i;
          break;
        }
  }
  if (cn < 0 || cl < 0 || (cd < 0 && cc < 0)) {
    cls_errf(err, err_len, CLS_ERR_FORMAT,
             "%s: the header must name columns N (or n_params), loss, and D (or tokens) and/or C (or flops); "
             "missing: %s",
             path,
             cn < 0   ? "N"
             : cl < 0 ? "loss"
                      : "D or C");
    cls_csv_destroy(t);
    return CLS_ERR_FORMAT;
  }
  if (t->n_rows == 0) {
    cls_errf(err, err_len, CLS_ERR_FORMAT, "%s has a header but no data rows: nothing to fit", path);
    cls_csv_destroy(t);
    return CLS_ERR_FORMAT;
  }
  cls_fit_input *in = calloc(1, sizeof *in);
  if (!in || !(in->pts = calloc(t->n_rows, sizeof *in->pts))) {
    free(in);
    cls_csv_destroy(t);
    return CLS_ERR_OUT_OF_MEMORY;
  }
  size_t cap = 0;
  for (size_t r = 0; r < t->n_rows && !st; r++) {
    int cols[6] = {cn, cd, cc, cl, cb, ce};
    const char *names[6] = {"N", "D", "C", "loss", "budget", "epochs"};
    double v[6] = {NAN, NAN, NAN, NAN, NAN, NAN};
    for (int k = 0; k < 6 && !st; k++) {
      if (cols[k] < 0) continue;
      const char *s = cls_csv_cell(t, r, cols[k]);
      char *end;
      v[k] = strtod(s, &end);
      if (end == s || *end || !isfinite(v[k]) || v[k] <= 0) {
        cls_errf(err, err_len, CLS_ERR_FORMAT, "%s line %zu: %s = '%s' is not a positive finite number", path,
                 t->lines[r], names[k], s);
        st = CLS_ERR_FORMAT;
      }
    }
    if (st) break;
    cls_fit_point *q = &in->pts[in->n_pts++];
    /* With one of D and C missing, the other follows from C = 6ND. */
    q->n = v[0], q->loss = v[3], q->budget = v[4], q->epochs = v[5]; /* passes over the unique data, optional */
    q->d = cd >= 0 ? v[1] : v[2] / (6 * v[0]);
    q->c = cc >= 0 ? v[2] : 6 * v[0] * v[1];
    /* The one derived can leave the doubles (6ND of two huge numbers is
     * infinite, C/6N of a tiny C is 0) though both given ones are fine. */
    if (!positive(q->d) || !positive(q->c)) {
      cls_errf(err, err_len, CLS_ERR_FORMAT,
               "%s line %zu: %s = %s = %g from N and %s is not a positive finite number: give the %s column", path,
               t->lines[r], cd >= 0 ? "C" : "D", cd >= 0 ? "6ND" : "C/(6N)", cd >= 0 ? q->c : q->d,
               cd >= 0 ? "D" : "C", cd >= 0 ? "C" : "D");
      st = CLS_ERR_FORMAT;
      break;
    }
    if (ci >= 0)
      snprintf(q->id, sizeof q->id, "%s", cls_csv_cell(t, r, ci));
    else
      snprintf(q->id, sizeof q->id, "row%zu", r + 1);
    q->curve0 = in->n_curve;
    st = push_curve(in, &cap, q->c, q->loss);
    q->curve_n = 1;
  }
  cls_csv_destroy(t);
  if (st) {
    cls_fit_input_destroy(in);
    return st;
  }
  *out = in;
  return CLS_OK;
}

cls_status cls_fit_input_from_arrays(size_t n, const double *N, const double *D, const double *C,
                                     const double *budget, const double *loss, cls_fit_input **out) {
  if (!N || !D || !C || !loss || !out) return CLS_ERR_NULL_ARGUMENT;
  *out = NULL;
  cls_fit_input *in = calloc(1, sizeof *in);
  if (!in || !(in->pts = calloc(n ? n : 1, sizeof *in->pts))) {
    free(in);
    return CLS_ERR_OUT_OF_MEMORY;
  }
  size_t cap = 0;
  for (size_t i = 0; i < n; i++) {
    if (!positive(N[i]) || !positive(D[i]) || !positive(C[i]) || !positive(loss[i])) {
      cls_fit_input_destroy(in);
      return CLS_ERR_INVALID_VALUE;
    }
    cls_fit_point *q = &in->pts[in->n_pts++];
    snprintf(q->id, sizeof q->id, "p%zu", i);
    q->n = N[i], q->d = D[i], q->c = C[i], q->loss = loss[i];
    q->budget = budget && positive(budget[i]) ? budget[i] : NAN;
    q->epochs = NAN;
    q->curve0 = in->n_curve;
    if (push_curve(in, &cap, q->c, q->loss)) {
      cls_fit_input_destroy(in);
      return CLS_ERR_OUT_OF_MEMORY;
    }
    q->curve_n = 1;
  }
  *out = in;
  return CLS_OK;
}
