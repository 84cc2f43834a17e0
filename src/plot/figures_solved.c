/*
 * src/plot/figures_solved.c — the figures of the solved tasks: a sweep's
 * measured points (means over seeds, the seeds as small dots) with the exact
 * theory of the fit layer drawn through them as lines.
 *   rf-loss-n, rf-loss-t, rf-double-descent: src/fit/theory_rf.h;
 *   zipf-error: src/fit/theory_zipf.h.
 * Points are grouped by their config keys (plot/solved.h), never by their
 * ids. A value that a log axis cannot show (not finite, or not positive) is
 * left out and counted in a note; a theory value far off the plot is drawn at
 * the edge of a window around it, so the line leaves the plot cleanly.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/str.h"
#include "figures_internal.h"
#include "fit/theory_rf.h"
#include "fit/theory_zipf.h"

static const cls_rgba GREY = {0.45f, 0.45f, 0.45f, 1.0f};

/* ------------------------------------------------------------ grouping */

typedef struct {
  char *key;                    /* the config lines that the members share */
  const cls_solved_point **pts; /* members, by id */
  size_t n;
} group;

static void free_groups(group *g, size_t n) {
  for (size_t i = 0; g && i < n; i++) free(g[i].key), free(g[i].pts);
  free(g);
}

/* config without the lines of the keys in drop[0..ndrop); NULL when out of memory. */
static char *drop_lines(const char *config, const char *const *drop, size_t ndrop) {
  char *out = malloc(strlen(config) + 1);
  if (!out) return NULL;
  size_t used = 0;
  for (const char *line = config; *line;) {
    const char *end = strchr(line, '\n');
    size_t len = end ? (size_t)(end - line) + 1 : strlen(line);
    bool keep = true;
    for (size_t d = 0; d < ndrop && keep; d++) {
      size_t k = strlen(drop[d]);
      keep = !(len > k && !strncmp(line, drop[d], k) && line[k] == '=');
    }
    if (keep) memcpy(out + used, line, len), used += len;
    line += len;
  }
  out[used] = '\0';
  return out;
}

/* Groups pts[0..n) by config without the keys in drop, in order of first
 * appearance. */
static cls_status group_points(const cls_solved_point *const *pts, size_t n, const char *const *drop, size_t ndrop,
                               group **out, size_t *n_out) {
  group *g = calloc(n ? n : 1, sizeof *g);
  size_t ng = 0;
  if (!g) return CLS_ERR_OUT_OF_MEMORY;
  for (size_t i = 0; i < n; i++) {
    char *key = drop_lines(pts[i]->config, drop, ndrop);
    if (!key) {
      free_groups(g, ng);
      return CLS_ERR_OUT_OF_MEMORY;
    }
    size_t j = 0;
    while (j < ng && strcmp(g[j].key, key)) j++;
    if (j == ng) {
      g[ng].key = key;
      if (!(g[ng].pts = malloc(n * sizeof *g[ng].pts))) {
        free_groups(g, ng + 1);
        return CLS_ERR_OUT_OF_MEMORY;
      }
      ng++;
    } else {
      free(key);
    }
    g[j].pts[g[j].n++] = pts[i];
  }
  *out = g;
  *n_out = ng;
  return CLS_OK;
}

static double mean_loss(const group *g) {
  double s = 0;
  for (size_t i = 0; i < g->n; i++) s += g->pts[i]->loss;
  return s / (double)g->n;
}

/* ------------------------------------------------------------ checks */

/* The points of a task's sweep, finished: else a note and false. */
static bool need_solved(const cls_plot_inputs *in, const char *task, char *why, size_t len) {
  char msg[900];
  const cls_solved *s = in->solved;
  if (!in->rd || !in->rd->has_points_dir || !s) {
    snprintf(msg, sizeof msg,
             "needs points/<id>.json files of a sweep of task \"%s\" (the run directory has no points/ folder)",
             task);
  } else if (s->mixed[0]) {
    snprintf(msg, sizeof msg, "%s", s->mixed);
  } else if (s->n_summaries == 0) {
    snprintf(msg, sizeof msg, "needs points/<id>.json files of a sweep of task \"%s\" (points/ holds none)", task);
  } else if (strcmp(s->task, task)) {
    snprintf(msg, sizeof msg, "draws a sweep of task \"%s\"; the points of this run directory are of task \"%s\"",
             task, s->task[0] ? s->task : "(none named)");
  } else if (s->n_points == 0) {
    snprintf(msg, sizeof msg,
             "needs finished points: none of the %zu points/<id>.json of this %s sweep has status \"ok\" and a "
             "finite final_eval_loss (run clscale sweep to finish them)",
             s->n_summaries, task);
  } else {
    return true;
  }
  cls__fig_note(why, len, msg);
  return false;
}

/* Every finished point has each key of nums as a finite number and each of
 * strs as a string: else a note naming the first summary that lacks one. */
static bool need_keys(const cls_solved *s, const char *task, const char *const *nums, size_t nn,
                      const char *const *strs, size_t ns, char *why, size_t len) {
  for (size_t i = 0; i < s->n_points; i++) {
    const cls_solved_point *p = &s->points[i];
    const char *missing = NULL, *kind = "numeric";
    for (size_t k = 0; k < nn && !missing; k++)
      if (!isfinite(cls_solved_num(p, nums[k]))) missing = nums[k];
    for (size_t k = 0; k < ns && !missing; k++)
      if (!cls_solved_str(p, strs[k])) missing = strs[k], kind = "string";
    if (!missing) continue;
    char all[300] = "";
    for (size_t k = 0; k < nn + ns; k++) {
      size_t u = strlen(all);
      snprintf(all + u, sizeof all - u, "%s%s", k ? ", " : "", k < nn ? nums[k] : strs[k - nn]);
    }
    char msg[700];
    snprintf(msg, sizeof msg,
             "points/%s.json has no %s field \"%s\" (the %s figures need %s in every summary; docs/formats.md)",
             p->run->id, kind, missing, task, all);
    cls__fig_note(why, len, msg);
    return false;
  }
  return true;
}

/* Counts of values a log axis cannot show, for the note. */
typedef struct {
  size_t data, theory;
} skips;

static void note_skips(const skips *sk, char *why, size_t len) {
  if (!sk->data && !sk->theory) return;
  char msg[300];
  snprintf(msg, sizeof msg,
           "%zu measured and %zu theory values not drawn (not finite, or not positive on a log axis)", sk->data,
           sk->theory);
  cls__fig_note(why, len, msg);
}

static bool loggable(double v) {
  return isfinite(v) && v > 0;
}

/* ------------------------------------------------------------ labels */

/* A key's name in plot markup. */
static const char *pretty_key(const char *k) {
  static const char *const names[][2] = {{"ridge", "\\gamma"},       {"alpha", "\\alpha"},     {"latent", "M"},
                                         {"noise", "\\sigma^{2}"},   {"samples", "T"},         {"features", "N"},
                                         {"beta", "\\beta"},         {"vocab", "V"},           {"cut", "k"},
                                         {"beta_narrow", "\\beta'"}, {"real_fraction", "\\pi"}};
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
    if (!strcmp(k, names[i][0])) return names[i][1];
  return NULL;
}

/* v with up to 3 significant digits and no trailing zeros, in plot markup:
 * 0.001, 2.5, 10^{-5}, 3\times10^{-6}. */
static void short_num(double v, char *buf, size_t len) {
  double av = fabs(v);
  if (!isfinite(v) || av == 0.0 || (av >= 1e-3 && av < 1e4)) {
    snprintf(buf, len, "%.3g", v);
    return;
  }
  int e = (int)floor(log10(av));
  double m = v / pow(10.0, e);
  if (fabs(m) >= 9.995) m /= 10.0, e++;
  char ms[32];
  snprintf(ms, sizeof ms, "%.3g", m);
  if (!strcmp(ms, "1"))
    snprintf(buf, len, "10^{%d}", e);
  else if (!strcmp(ms, "-1"))
    snprintf(buf, len, "-10^{%d}", e);
  else
    snprintf(buf, len, "%s\\times10^{%d}", ms, e);
}

/* "T = 256", "\gamma = 0.001": counts with SI suffixes, the others with 3
 * significant digits. */
static void key_value(const char *key, double v, char *buf, size_t len) {
  char num[64];
  const char *name = pretty_key(key);
  if (!strcmp(key, "samples") || !strcmp(key, "features") || !strcmp(key, "latent") || !strcmp(key, "vocab") ||
      !strcmp(key, "cut") || !strcmp(key, "fit_samples"))
    cls_format_number(v, 0, CLS_LABEL_SI, num, sizeof num);
  else
    short_num(v, num, sizeof num);
  snprintf(buf, len, "%s = %s", name ? name : key, num);
}

/* Whether config holds the line "line\n" (a whole line). */
static bool has_line(const char *config, const char *line) {
  size_t l = strlen(line);
  for (const char *p = config; (p = strstr(p, line)) != NULL; p++)
    if ((p == config || p[-1] == '\n') && p[l] == '\n') return true;
  return false;
}

/* Appends to buf the lines of key (a config) for which varying says yes,
 * restricted to the keys with a pretty name when known_only. */
static void describe(const char *key, const group *panels, size_t np, bool varying, bool known_only, char *buf,
                     size_t len) {
  for (const char *line = key; *line;) {
    const char *end = strchr(line, '\n');
    size_t l = end ? (size_t)(end - line) + 1 : strlen(line);
    char one[256];
    snprintf(one, sizeof one, "%.*s", (int)(l - (end ? 1 : 0)), line);
    line += l;
    bool same = true;
    for (size_t p = 0; p < np && same; p++) same = has_line(panels[p].key, one);
    if (same == varying) continue;
    char *eq = strchr(one, '=');
    if (!eq) continue;
    *eq = '\0';
    const char *name = one, *val = eq + 1;
    if (known_only && !pretty_key(name)) continue;
    if (!strcmp(name, "task") || !strcmp(name, "model")) continue;
    char item[160], *e;
    double v = strtod(val, &e);
    if (e != val && !*e)
      key_value(name, v, item, sizeof item);
    else
      snprintf(item, sizeof item, "%s = %s", pretty_key(name) ? pretty_key(name) : name, val);
    size_t u = strlen(buf);
    snprintf(buf + u, len - u, "%s%s", u ? ", " : "", item);
  }
}

/* A legend entry of no data: marker and line in one colour. */
static cls_status legend_entry(cls_axes *ax, cls_series_style s, const char *label) {
  double z = 0;
  return cls_axes_add_series(ax, &z, &z, 0, &s, label);
}

static cls_series_style mean_style(cls_rgba c) {
  cls_series_style s = cls_style_markers(c, CLS_MARKER_CIRCLE, 6);
  return s;
}

static cls_series_style seed_style(cls_rgba c) {
  cls_series_style s = cls_style_markers(c, CLS_MARKER_CIRCLE, 2.6);
  s.color.a = 0.55f;
  s.marker_edge_pt = 0;
  return s;
}

/* ------------------------------------------------------------ rf */

static const char *const RF_KEYS[] = {"features", "samples", "latent", "alpha", "ridge", "noise"};

typedef struct {
  const char *x;      /* the key along the x axis (double descent: features, drawn as N/T) */
  const char *series; /* one colour per value of this key */
  const char *drop[2];
} rf_layout;

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Distinct values of key over pts, ascending; returns how many. */
static size_t distinct_values(const cls_solved_point *const *pts, size_t n, const char *key, double *out) {
  size_t m = 0;
  for (size_t i = 0; i < n; i++) {
    double v = cls_solved_num(pts[i], key);
    bool seen = false;
    for (size_t j = 0; j < m && !seen; j++) seen = out[j] == v;
    if (!seen) out[m++] = v;
  }
  qsort(out, m, sizeof *out, cmp_double);
  return m;
}

/* Panels in a stable, readable order: by T, ridge, α, M, σ², then the rest. */
static int cmp_panel(const void *a, const void *b) {
  const group *x = a, *y = b;
  static const char *const order[] = {"samples", "ridge", "alpha", "latent", "noise", "features"};
  for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
    double u = cls_solved_num(x->pts[0], order[i]), v = cls_solved_num(y->pts[0], order[i]);
    if (u != v && isfinite(u) && isfinite(v)) return (u > v) - (u < v);
  }
  return strcmp(x->key, y->key);
}

/* Integers on a log grid over [lo,hi] (about n of them), with must added
 * when it lies inside; ascending, distinct. Returns how many (<= n + 1). */
static size_t int_grid(double lo, double hi, size_t n, double must, double *out) {
  size_t m = 0;
  double prev = 0;
  bool put_must = !(must >= lo && must <= hi);
  for (size_t i = 0; i < n; i++) {
    double v = round(pow(10.0, log10(lo) + (log10(hi) - log10(lo)) * (double)i / (double)(n - 1)));
    if (v < 1) v = 1;
    if (!put_must && must <= v) {
      if (must > prev) out[m++] = prev = must;
      put_must = true;
    }
    if (v > prev) out[m++] = prev = v;
  }
  if (!put_must && must > prev) out[m++] = must;
  return m;
}

#define RF_GRID 120

/* The theory of one series of one panel: loss at the integer sizes grid[]
 * (N, or T for rf-loss-t); false with a note when the theory refuses. */
static bool rf_theory(const cls_solved_point *rep, const rf_layout *L, double fixed, const double *grid, size_t n,
                      const double *lambda, size_t m, double *loss, char *why, size_t len) {
  double ridge = cls_solved_num(rep, "ridge"), noise = cls_solved_num(rep, "noise");
  bool x_is_n = !strcmp(L->x, "features");
  for (size_t i = 0; i < n; i++) {
    size_t nn = (size_t)(x_is_n ? grid[i] : fixed), tt = (size_t)(x_is_n ? fixed : grid[i]);
    cls_fit_rf_theory th;
    char err[300];
    cls_status st = cls_fit_rf_theory_loss(nn, tt, ridge, noise, lambda, m, &th, err, sizeof err);
    if (st) {
      char msg[700];
      snprintf(msg, sizeof msg, "theory not drawn for points/%s.json: %s", rep->run->id, err);
      cls__fig_note(why, len, msg);
      return false;
    }
    loss[i] = th.loss;
  }
  return true;
}

cls_status cls__fig_rf(cls_plot_kind kind, const cls_plot_inputs *in, const cls_plot_options *o, cls_figure **out,
                       char *why, size_t len) {
  if (!need_solved(in, "rf", why, len)) return CLS_OK;
  const cls_solved *s = in->solved;
  if (!need_keys(s, "rf", RF_KEYS, sizeof RF_KEYS / sizeof RF_KEYS[0], NULL, 0, why, len)) return CLS_OK;
  const bool dd = kind == CLS_PLOT_RF_DOUBLE_DESCENT;
  rf_layout L;
  if (kind == CLS_PLOT_RF_LOSS_N)
    L = (rf_layout){"features", "samples", {"features", "samples"}};
  else if (kind == CLS_PLOT_RF_LOSS_T)
    L = (rf_layout){"samples", "features", {"features", "samples"}};
  else
    L = (rf_layout){"features", "ridge", {"features", "ridge"}};

  size_t n = s->n_points;
  const cls_solved_point **all = calloc(n ? n : 1, sizeof *all);
  double *svals = malloc(n * sizeof *svals);
  group *panels = NULL;
  size_t np = 0;
  cls_figure *f = NULL;
  cls_status st = all && svals ? CLS_OK : CLS_ERR_OUT_OF_MEMORY;
  if (!st)
    for (size_t i = 0; i < n; i++) all[i] = &s->points[i];
  if (!st) st = group_points(all, n, L.drop, 2, &panels, &np);
  if (st) goto done;
  qsort(panels, np, sizeof *panels, cmp_panel);
  size_t ns = distinct_values(all, n, L.series, svals);

  if (dd) { /* worth drawing: several ridges, or points on both sides of N = T */
    bool straddle = false;
    double rlo = INFINITY, rhi = 0;
    for (size_t p = 0; p < np; p++) {
      double T = cls_solved_num(panels[p].pts[0], "samples"), lo = INFINITY, hi = -INFINITY;
      for (size_t i = 0; i < panels[p].n; i++) {
        double N = cls_solved_num(panels[p].pts[i], "features");
        lo = fmin(lo, N / T), hi = fmax(hi, N / T);
      }
      straddle |= lo <= 1 && hi >= 1 && hi > lo;
      rlo = fmin(rlo, lo), rhi = fmax(rhi, hi);
    }
    if (ns < 2 && !straddle) {
      char msg[300], r[64], a[48], b[48];
      cls__fig_fmt_sig(svals[0], 3, r, sizeof r);
      cls__fig_fmt_sig(rlo, 3, a, sizeof a);
      cls__fig_fmt_sig(rhi, 3, b, sizeof b);
      snprintf(msg, sizeof msg,
               "needs at least two ridges, or points on both sides of N = T at one T (this sweep: ridge %s only, "
               "N/T from %s to %s)",
               r, a, b);
      cls__fig_note(why, len, msg);
      goto done;
    }
  }

  /* Layout: up to 12 panels, at most 3 a row. */
  size_t shown = np > 12 ? 12 : np;
  if (np > shown) {
    char msg[160];
    snprintf(msg, sizeof msg, "%zu panels of %zu drawn (one per configuration apart from %s and %s)", shown, np,
             L.drop[0], L.drop[1]);
    cls__fig_note(why, len, msg);
  }
  int cols = shown <= 3 ? (int)shown : shown == 4 ? 2 : 3, rows = (int)((shown + (size_t)cols - 1) / (size_t)cols);
  st = cls__fig_new(o, cols == 1 ? 1.0 : 0.8 * cols + 0.15, rows == 1 ? 1.0 : 0.78 * rows + 0.1, rows, cols, &f);
  if (st) goto done;

  char consts[400] = "", title[600];
  describe(panels[0].key, panels, np, false, true, consts, sizeof consts);
  /* one panel: a short title, as the constants make it long */
  const char *what = kind == CLS_PLOT_RF_LOSS_N
                         ? (shown > 1 ? "Random features: test loss vs N" : "Test loss vs N")
                     : kind == CLS_PLOT_RF_LOSS_T
                         ? (shown > 1 ? "Random features: test loss vs T" : "Test loss vs T")
                         : (shown > 1 ? "Random features: double descent at N = T" : "Double descent at N = T");
  snprintf(title, sizeof title, "%s%s%s%s", what, consts[0] ? " (" : "", consts, consts[0] ? ")" : "");
  if (shown > 1) st = cls_figure_set_title(f, cls__fig_title_or(o, title));

  double slo = svals[0], shi = svals[ns - 1];
  if (!(shi > slo)) shi = slo * 10;
  skips sk = {0, 0};
  bool any_seeds = false, any_theory = false;
  size_t gcap = RF_GRID + 2;
  double *gx = malloc(gcap * sizeof *gx), *gy = malloc(gcap * sizeof *gy), *gp = malloc(gcap * sizeof *gp);
  double *lambda = NULL;
  if (!gx || !gy || !gp) st = CLS_ERR_OUT_OF_MEMORY;

  for (size_t p = 0; p < shown && !st; p++) {
    group *P = &panels[p];
    cls_axes *ax = cls_figure_axes(f, (int)p);
    cls_axes_set_scales(ax, CLS_SCALE_LOG, CLS_SCALE_LOG);
    cls_axes_set_label_styles(ax, dd ? CLS_LABEL_PLAIN : CLS_LABEL_SI, CLS_LABEL_PLAIN);
    char ptitle[400] = "";
    describe(P->key, panels, np, true, false, ptitle, sizeof ptitle);
    const char *xl = kind == CLS_PLOT_RF_LOSS_N   ? "features N"
                     : kind == CLS_PLOT_RF_LOSS_T ? "samples T"
                                                  : "features per sample N / T";
    bool bottom = p + (size_t)cols >= shown, left = p % (size_t)cols == 0;
    st = cls_axes_set_text(ax, shown > 1 ? ptitle : cls__fig_title_or(o, title), bottom ? xl : NULL,
                           left ? "test loss" : NULL);
    cls_axes_set_legend(ax, p == 0);
    /* The spectrum of this panel (α and M are the same across it). */
    const cls_solved_point *rep = P->pts[0];
    double alpha = cls_solved_num(rep, "alpha"), latent = cls_solved_num(rep, "latent");
    size_t m = latent >= 1 && latent <= 1e8 ? (size_t)latent : 0;
    bool theory_ok = false;
    free(lambda);
    lambda = m ? malloc(m * sizeof *lambda) : NULL;
    if (!st && m && !lambda) st = CLS_ERR_OUT_OF_MEMORY;
    if (!st) {
      char err[300], msg[700];
      if (!m) {
        snprintf(msg, sizeof msg, "theory not drawn for points/%s.json: latent = %g is not a count from 1 to 10^8",
                 rep->run->id, latent);
        cls__fig_note(why, len, msg);
      } else if (cls_fit_rf_spectrum(alpha, m, lambda, err, sizeof err)) {
        snprintf(msg, sizeof msg, "theory not drawn for points/%s.json: %s", rep->run->id, err);
        cls__fig_note(why, len, msg);
      } else {
        theory_ok = true;
      }
    }
    /* The panel's x range (in N or T) for the theory grid. */
    double xlo = INFINITY, xhi = -INFINITY;
    for (size_t i = 0; i < P->n; i++) {
      double v = cls_solved_num(P->pts[i], L.x);
      xlo = fmin(xlo, v), xhi = fmax(xhi, v);
    }
    if (!(xhi > xlo)) xlo /= 2, xhi *= 2;
    group *cells = NULL;
    size_t nc = 0;
    if (!st) st = group_points(P->pts, P->n, NULL, 0, &cells, &nc);
    double dlo = INFINITY, dhi = 0, tlo = INFINITY, thi = 0;
    /* series by series: theory line, seeds, means */
    double *mx = malloc((nc ? nc : 1) * sizeof *mx), *my = malloc((nc ? nc : 1) * sizeof *my);
    double *sx = malloc(P->n * sizeof *sx), *sy = malloc(P->n * sizeof *sy);
    if (!st && (!mx || !my || !sx || !sy)) st = CLS_ERR_OUT_OF_MEMORY;
    /* first pass: the data's range, so theory values far off the plot can be
     * drawn at a window's edge */
    for (size_t c = 0; c < nc && !st; c++) {
      double v = mean_loss(&cells[c]);
      if (loggable(v)) dlo = fmin(dlo, v), dhi = fmax(dhi, v);
      for (size_t i = 0; i < cells[c].n; i++)
        if (loggable(cells[c].pts[i]->loss))
          dlo = fmin(dlo, cells[c].pts[i]->loss), dhi = fmax(dhi, cells[c].pts[i]->loss);
    }
    for (size_t sv = 0; sv < ns && !st; sv++) {
      cls_rgba col = dd ? cls_palette((int)sv) : cls_colormap(svals[sv], slo, shi, CLS_SCALE_LOG);
      size_t k = 0, q = 0;
      const cls_solved_point *srep = NULL;
      for (size_t c = 0; c < nc; c++) {
        if (cls_solved_num(cells[c].pts[0], L.series) != svals[sv]) continue;
        srep = cells[c].pts[0];
        double T = cls_solved_num(srep, "samples"), xv = cls_solved_num(srep, L.x), scale = dd ? 1.0 / T : 1.0;
        double v = mean_loss(&cells[c]);
        if (!loggable(v)) sk.data++;
        mx[k] = xv * scale, my[k] = v, k++;
        if (cells[c].n > 1)
          for (size_t i = 0; i < cells[c].n; i++) {
            if (!loggable(cells[c].pts[i]->loss)) sk.data++;
            sx[q] = xv * scale, sy[q] = cells[c].pts[i]->loss, q++;
          }
      }
      if (!srep) continue;
      /* sort the means by x so a reader can follow them */
      for (size_t i = 1; i < k; i++)
        for (size_t j = i; j > 0 && mx[j] < mx[j - 1]; j--) {
          double t = mx[j];
          mx[j] = mx[j - 1], mx[j - 1] = t;
          t = my[j], my[j] = my[j - 1], my[j - 1] = t;
        }
      if (theory_ok) {
        double fixed = cls_solved_num(srep, dd ? "samples" : L.series);
        double T = cls_solved_num(srep, "samples");
        size_t g = int_grid(xlo, xhi, RF_GRID, dd ? T : NAN, gx);
        if (rf_theory(srep, &L, fixed, gx, g, lambda, m, gy, why, len)) {
          any_theory = true;
          double cap_hi = dhi > 0 ? dhi * 1e3 : INFINITY, cap_lo = dlo < INFINITY ? dlo / 1e3 : 0;
          for (size_t i = 0; i < g; i++) {
            if (!loggable(gy[i])) {
              sk.theory++;
              gy[i] = NAN;
            } else {
              tlo = fmin(tlo, gy[i]), thi = fmax(thi, gy[i]);
              gy[i] = fmin(fmax(gy[i], cap_lo), cap_hi);
            }
            gp[i] = dd ? gx[i] / T : gx[i];
          }
          cls_series_style ls = cls_style_line(col, 1.4);
          st = cls_axes_add_series(ax, gp, gy, g, &ls, NULL);
        }
      }
      if (!st && q) {
        cls_series_style ds = seed_style(col);
        st = cls_axes_add_series(ax, sx, sy, q, &ds, NULL);
        any_seeds = true;
      }
      if (!st) {
        cls_series_style ms = mean_style(col);
        st = cls_axes_add_series(ax, mx, my, k, &ms, NULL);
      }
    }
    /* y limits: the data, and the theory up to 30 times above the data (the
     * ridgeless peak at N = T would flatten everything else). */
    if (dhi > 0) {
      double lo = fmin(dlo, tlo), hi = fmax(dhi, fmin(thi, 30 * dhi));
      if (!(hi > lo)) lo /= 2, hi *= 2;
      cls_scale_pad(CLS_SCALE_LOG, &lo, &hi, 0.05);
      cls_axes_set_ylim(ax, lo, hi);
      if (dd && !st) { /* the interpolation threshold */
        double vx[2] = {1, 1}, vy[2] = {lo, hi};
        cls_series_style vs = cls__fig_dashed(GREY, 0.9, 1.5, 2.5);
        vs.no_autoscale = true;
        st = cls_axes_add_series(ax, vx, vy, 2, &vs, NULL);
      }
    }
    /* legend (first panel): one entry per series, then the encodings */
    for (size_t sv = 0; sv < ns && !st && p == 0; sv++) {
      cls_rgba col = dd ? cls_palette((int)sv) : cls_colormap(svals[sv], slo, shi, CLS_SCALE_LOG);
      cls_series_style e = mean_style(col);
      e.line_pt = 1.4;
      char label[96];
      key_value(L.series, svals[sv], label, sizeof label);
      st = legend_entry(ax, e, label);
    }
    free_groups(cells, nc);
    free(mx), free(my), free(sx), free(sy);
  }
  free(lambda);
  if (!st && any_seeds)
    st = legend_entry(cls_figure_axes(f, 0), seed_style(GREY), "single seeds (circles: means)");
  if (!st && any_theory)
    st = legend_entry(cls_figure_axes(f, 0), cls_style_line(GREY, 1.4), "theory (deterministic equivalent)");
  free(gx), free(gy), free(gp);
  note_skips(&sk, why, len);
done:
  free(all), free(svals);
  free_groups(panels, np);
  return cls__fig_finish(f, st, out);
}

/* ------------------------------------------------------------ zipf */

static const char *const ZIPF_NUMS[] = {"beta", "vocab", "cut", "beta_narrow", "real_fraction", "floor"};
static const char *const ZIPF_STRS[] = {"source"};

static int source_rank(const char *s) {
  static const char *const order[] = {"real", "cut", "narrowed", "fitted"};
  for (int i = 0; i < 4; i++)
    if (!strcmp(s, order[i])) return i;
  return 4;
}

/* Variants: real, cut, narrowed, fitted, each by its mix and parameter. */
static int cmp_variant(const void *a, const void *b) {
  const cls_solved_point *x = ((const group *)a)->pts[0], *y = ((const group *)b)->pts[0];
  int r = source_rank(cls_solved_str(x, "source")) - source_rank(cls_solved_str(y, "source"));
  if (r) return r;
  static const char *const order[] = {"real_fraction", "cut", "beta_narrow", "fit_samples", "beta", "vocab"};
  for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
    double u = cls_solved_num(x, order[i]), v = cls_solved_num(y, order[i]);
    if (u != v && isfinite(u) && isfinite(v)) return (u > v) - (u < v);
  }
  return strcmp(((const group *)a)->key, ((const group *)b)->key);
}

/* The variant's legend label: "cut k = 100, \pi = 0.5", with β and V when
 * they differ between variants. */
static void variant_label(const cls_solved_point *p, bool show_beta, bool show_vocab, char *buf, size_t len) {
  const char *src = cls_solved_str(p, "source");
  char a[96] = "", b[96] = "";
  if (!strcmp(src, "cut")) {
    key_value("cut", cls_solved_num(p, "cut"), a, sizeof a);
    snprintf(buf, len, "cut %s", a);
  } else if (!strcmp(src, "narrowed")) {
    key_value("beta_narrow", cls_solved_num(p, "beta_narrow"), a, sizeof a);
    snprintf(buf, len, "narrowed %s", a);
  } else if (!strcmp(src, "fitted")) {
    double fs = cls_solved_num(p, "fit_samples");
    if (isfinite(fs)) cls_format_number(fs, 0, CLS_LABEL_SI, a, sizeof a);
    snprintf(buf, len, "fitted%s%s%s (no theory)", a[0] ? " to " : "", a, a[0] ? " samples" : "");
  } else {
    snprintf(buf, len, "%s", src);
  }
  double pi = cls_solved_num(p, "real_fraction");
  if (pi > 0 && strcmp(src, "real")) {
    key_value("real_fraction", pi, b, sizeof b);
    size_t u = strlen(buf);
    snprintf(buf + u, len - u, ", %s real", b);
  }
  if (show_beta) {
    key_value("beta", cls_solved_num(p, "beta"), b, sizeof b);
    size_t u = strlen(buf);
    snprintf(buf + u, len - u, ", %s", b);
  }
  if (show_vocab) {
    key_value("vocab", cls_solved_num(p, "vocab"), b, sizeof b);
    size_t u = strlen(buf);
    snprintf(buf + u, len - u, ", %s", b);
  }
}

typedef struct {
  double t, e;
} te_pair;

static int cmp_te(const void *a, const void *b) {
  double x = ((const te_pair *)a)->t, y = ((const te_pair *)b)->t;
  return (x > y) - (x < y);
}

/* The mean learning curve of a variant: every member's CSV rows, averaged
 * over the members that have a row at that T. */
static cls_status mean_curve(const group *g, double **x, double **y, size_t *n, skips *sk, size_t *no_curve) {
  size_t cap = 0;
  for (size_t i = 0; i < g->n; i++) cap += g->pts[i]->run->curve.n ? g->pts[i]->run->curve.n : 1;
  te_pair *pr = malloc(cap * sizeof *pr);
  *x = malloc(cap * sizeof **x), *y = malloc(cap * sizeof **y);
  if (!pr || !*x || !*y) {
    free(pr);
    return CLS_ERR_OUT_OF_MEMORY;
  }
  size_t m = 0;
  for (size_t i = 0; i < g->n; i++) {
    const cls_solved_point *p = g->pts[i];
    const cls_run_curve *c = &p->run->curve;
    const double *ts = c->tokens ? c->tokens : c->step;
    if (c->n && ts && c->eval_loss) {
      for (size_t r = 0; r < c->n; r++) {
        if (!loggable(ts[r]) || !loggable(c->eval_loss[r])) {
          sk->data++;
          continue;
        }
        pr[m].t = ts[r], pr[m].e = c->eval_loss[r], m++;
      }
    } else { /* no curve: the final point */
      (*no_curve)++;
      double t = cls_solved_num(p, "tokens");
      if (!isfinite(t)) t = cls_solved_num(p, "samples");
      if (!loggable(t) || !loggable(p->loss)) {
        sk->data++;
        continue;
      }
      pr[m].t = t, pr[m].e = p->loss, m++;
    }
  }
  qsort(pr, m, sizeof *pr, cmp_te);
  size_t k = 0;
  for (size_t i = 0; i < m;) {
    size_t j = i;
    double s = 0;
    for (; j < m && pr[j].t == pr[i].t; j++) s += pr[j].e;
    (*x)[k] = pr[i].t, (*y)[k] = s / (double)(j - i), k++;
    i = j;
  }
  free(pr);
  *n = k;
  return CLS_OK;
}

#define ZIPF_GRID 48

cls_status cls__fig_zipf_error(const cls_plot_inputs *in, const cls_plot_options *o, cls_figure **out, char *why,
                               size_t len) {
  if (!need_solved(in, "zipf", why, len)) return CLS_OK;
  const cls_solved *s = in->solved;
  if (!need_keys(s, "zipf", ZIPF_NUMS, sizeof ZIPF_NUMS / sizeof ZIPF_NUMS[0], ZIPF_STRS, 1, why, len))
    return CLS_OK;
  size_t n = s->n_points, nv = 0;
  const cls_solved_point **all = calloc(n ? n : 1, sizeof *all);
  group *vars = NULL;
  cls_figure *f = NULL;
  cls_status st = all ? CLS_OK : CLS_ERR_OUT_OF_MEMORY;
  if (!st)
    for (size_t i = 0; i < n; i++) all[i] = &s->points[i];
  static const char *const drop[] = {"samples"}; /* budgets of one variant: one learning curve */
  if (!st) st = group_points(all, n, drop, 1, &vars, &nv);
  if (st) goto done;
  qsort(vars, nv, sizeof *vars, cmp_variant);
  st = cls__fig_new(o, 1.0, 1.0, 1, 1, &f);
  if (st) goto done;
  cls_axes *ax = cls_figure_axes(f, 0);
  cls_axes_set_scales(ax, CLS_SCALE_LOG, CLS_SCALE_LOG);
  cls_axes_set_label_styles(ax, CLS_LABEL_SI, CLS_LABEL_PLAIN);
  bool beta_varies = false, vocab_varies = false;
  for (size_t v = 1; v < nv; v++) {
    beta_varies |= cls_solved_num(vars[v].pts[0], "beta") != cls_solved_num(vars[0].pts[0], "beta");
    vocab_varies |= cls_solved_num(vars[v].pts[0], "vocab") != cls_solved_num(vars[0].pts[0], "vocab");
  }
  char title[300] = "Zipf memoriser: error vs samples T", item[96];
  if (!beta_varies || !vocab_varies) {
    size_t u = strlen(title);
    snprintf(title + u, sizeof title - u, " (");
    if (!beta_varies) {
      key_value("beta", cls_solved_num(vars[0].pts[0], "beta"), item, sizeof item);
      u = strlen(title);
      snprintf(title + u, sizeof title - u, "%s%s", item, vocab_varies ? ")" : ", ");
    }
    if (!vocab_varies) {
      key_value("vocab", cls_solved_num(vars[0].pts[0], "vocab"), item, sizeof item);
      u = strlen(title);
      snprintf(title + u, sizeof title - u, "%s)", item);
    }
  }
  st = cls_axes_set_text(ax, cls__fig_title_or(o, title), "samples T",
                         "error E(T): mass of the items not yet seen");
  skips sk = {0, 0};
  size_t no_curve = 0;
  bool any_theory = false, any_asym = false, any_floor = false;
  double *tx = NULL, *ty = NULL;
  for (size_t v = 0; v < nv && !st; v++) {
    const group *g = &vars[v];
    const cls_solved_point *rep = g->pts[0];
    cls_rgba col = cls_palette((int)v);
    free(tx), free(ty);
    tx = ty = NULL;
    size_t k = 0;
    st = mean_curve(g, &tx, &ty, &k, &sk, &no_curve);
    if (st || k == 0) continue;
    double Tlo = fmax(tx[0], 1), Thi = tx[k - 1];
    if (!(Thi > Tlo)) Thi = Tlo * 10;
    char label[200];
    variant_label(rep, beta_varies, vocab_varies, label, sizeof label);
    /* theory: E(T) exact, its asymptote dashed */
    const char *src = cls_solved_str(rep, "source");
    cls_zipf_theory th = {CLS_ZIPF_REAL,
                          cls_solved_num(rep, "beta"),
                          0,
                          0,
                          cls_solved_num(rep, "beta_narrow"),
                          cls_solved_num(rep, "real_fraction")};
    double V = cls_solved_num(rep, "vocab"), cut = cls_solved_num(rep, "cut");
    th.vocab = V >= 1 && V < 1.8e19 ? (uint64_t)V : 0;
    th.cut = cut >= 1 && cut < 1.8e19 ? (uint64_t)cut : 0;
    bool has_theory = true;
    if (!strcmp(src, "real"))
      th.source = CLS_ZIPF_REAL, th.cut = th.vocab;
    else if (!strcmp(src, "cut"))
      th.source = CLS_ZIPF_CUT;
    else if (!strcmp(src, "narrowed"))
      th.source = CLS_ZIPF_NARROWED;
    else
      has_theory = false; /* fitted: q is random, no theory in the fit layer */
    char err[300];
    if (has_theory && cls_zipf_theory_check(&th, err, sizeof err)) {
      char msg[700];
      snprintf(msg, sizeof msg, "theory not drawn for points/%s.json: %s", rep->run->id, err);
      cls__fig_note(why, len, msg);
      has_theory = false;
    }
    if (has_theory) {
      double gx[ZIPF_GRID], gy[ZIPF_GRID];
      cls__fig_logspace(Tlo, Thi, ZIPF_GRID, gx);
      st = cls_zipf_expected(&th, gx, ZIPF_GRID, gy, err, sizeof err);
      if (st) {
        char msg[700];
        snprintf(msg, sizeof msg, "theory not drawn for points/%s.json: %s", rep->run->id, err);
        cls__fig_note(why, len, msg);
        st = CLS_OK;
      } else {
        for (int i = 0; i < ZIPF_GRID; i++)
          if (!loggable(gy[i])) sk.theory++, gy[i] = NAN;
        cls_series_style ls = cls_style_line(col, 1.4);
        st = cls_axes_add_series(ax, gx, gy, ZIPF_GRID, &ls, NULL);
        any_theory = true;
      }
      cls_zipf_asymptote a;
      if (!st && !cls_zipf_asymptote_of(&th, &a, err, sizeof err)) {
        double hi = fmin(Thi, a.valid_below);
        if (hi > Tlo * 1.5) {
          cls__fig_logspace(Tlo, hi, ZIPF_GRID, gx);
          for (int i = 0; i < ZIPF_GRID; i++) {
            gy[i] = cls_zipf_asymptote_at(&a, gx[i]);
            if (!loggable(gy[i])) sk.theory++, gy[i] = NAN;
          }
          cls_series_style as = cls__fig_dashed(col, 1.0, 4, 2.5);
          as.no_autoscale = true;
          st = cls_axes_add_series(ax, gx, gy, ZIPF_GRID, &as, NULL);
          any_asym = true;
        }
      }
    }
    /* the floor: real mass the source never produces */
    double fl = 0;
    for (size_t i = 0; i < g->n; i++) fl += cls_solved_num(g->pts[i], "floor");
    fl /= (double)g->n;
    if (!st && fl > 0) {
      double fx[2] = {Tlo, Thi}, fy[2] = {fl, fl};
      cls_series_style fs = cls__fig_dashed(col, 0.9, 1.2, 2.2);
      fs.no_autoscale = true;
      st = cls_axes_add_series(ax, fx, fy, 2, &fs, NULL);
      any_floor = true;
    }
    if (!st) {
      cls_series_style ms = cls_style_markers(col, CLS_MARKER_CIRCLE, 5);
      st = cls_axes_add_series(ax, tx, ty, k, &ms, NULL);
    }
    if (!st) {
      cls_series_style e = cls_style_markers(col, CLS_MARKER_CIRCLE, 5);
      if (has_theory) e.line_pt = 1.4;
      st = legend_entry(ax, e, label);
    }
  }
  free(tx), free(ty);
  if (!st && any_theory)
    st = legend_entry(ax, cls_style_line(GREY, 1.4), "theory E(T) (circles: mean over seeds)");
  if (!st && any_asym) st = legend_entry(ax, cls__fig_dashed(GREY, 1.0, 4, 2.5), "power-law asymptote");
  if (!st && any_floor) st = legend_entry(ax, cls__fig_dashed(GREY, 0.9, 1.2, 2.2), "floor (mass never produced)");
  if (no_curve) {
    char msg[160];
    snprintf(msg, sizeof msg, "%zu points without a points/<id>.csv learning curve: their final error drawn alone",
             no_curve);
    cls__fig_note(why, len, msg);
  }
  note_skips(&sk, why, len);
done:
  free(all);
  free_groups(vars, nv);
  return cls__fig_finish(f, st, out);
}
