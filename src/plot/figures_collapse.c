/*
 * src/plot/figures_collapse.c — the model-collapse figures of a sweep with
 * generations (docs/formats.md, "plots/"): the loss on real data against D
 * per generation with the fitted modified law (and the gcd task's accuracy
 * against D, drawn the same way), the loss against the generation, and the
 * effect of the real share pi. The measured points come from the summaries
 * (the mean over seeds, a band from the lowest to the highest seed); the law
 * from fit.json's `collapse` section, when there is one. Which points form
 * a chain (pi and the chain's keys) is the fit layer's rule
 * (fit/collapse.h), so the figures and the fits group alike.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "figures_internal.h"
#include "fit/collapse.h"
#include "rundir/csv.h"
#include "rundir/rundir.h"

static const cls_rgba GREY = {0.45f, 0.45f, 0.45f, 1.0f};
static const cls_rgba BLACK = {0.1f, 0.1f, 0.1f, 1.0f};
enum { LAW_GRID = 64 };

/* ------------------------------------------------------------ the data */

static double point_num(const void *p, const char *key) {
  return cls_solved_num(p, key);
}

static double pi_of(const cls_solved_point *p) {
  return cls_fit_collapse_pi(point_num, p);
}

bool cls__fig_is_collapse(const cls_solved *s) {
  if (!s || !s->n_points) return false;
  for (size_t i = 0; i < s->n_points; i++)
    if (!isfinite(cls_solved_num(&s->points[i], "generation")) || !isfinite(pi_of(&s->points[i]))) return false;
  return true;
}

/* A point's configuration without its generation and pi: the points of one
 * collapse family share it. */
static char *family_of(const cls_solved_point *p) {
  const char *c = p->config ? p->config : "";
  char *out = malloc(strlen(c) + 1);
  if (!out) return NULL;
  size_t n = 0;
  for (const char *line = c; *line;) {
    const char *nl = strchr(line, '\n');
    size_t len = nl ? (size_t)(nl - line + 1) : strlen(line);
    const char *eq = memchr(line, '=', len);
    char key[128] = "";
    if (eq && (size_t)(eq - line) < sizeof key) memcpy(key, line, (size_t)(eq - line)), key[eq - line] = '\0';
    if (!cls_fit_collapse_is_chain_key(key)) memcpy(out + n, line, len), n += len;
    line += len;
  }
  out[n] = '\0';
  return out;
}

typedef struct {
  unsigned generation;
  double pi;
  size_t n;     /* distinct D */
  double d[64]; /* ascending */
  double mean[64], lo[64], hi[64];
  size_t seeds[64];
} cell;

typedef struct {
  cell *cells; /* by generation, then pi */
  size_t n_cells;
  double pis[32]; /* the pi of the generations >= 1, ascending */
  size_t n_pis;
  unsigned max_gen;
  double d_lo, d_hi, d_common; /* the D range, and the largest D of every cell */
  size_t other_family;         /* points of other families, left out */
} collapse_data;

static cell *find_cell(collapse_data *cd, unsigned g, double pi) {
  for (size_t i = 0; i < cd->n_cells; i++)
    if (cd->cells[i].generation == g && cd->cells[i].pi == pi) return &cd->cells[i];
  return NULL;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static int cmp_cell(const void *a, const void *b) {
  const cell *x = a, *y = b;
  if (x->generation != y->generation) return x->generation < y->generation ? -1 : 1;
  return (x->pi > y->pi) - (x->pi < y->pi);
}

/* What a figure draws of each point: the loss on real data, or the gcd
 * task's accuracy on held-out real pairs (greedy exact answers); the loss
 * drives every figure but collapse-accuracy-d. */
typedef enum { M_LOSS, M_ACCURACY } metric;

/* The metric of a point, NaN when it has none that can be drawn: a loss
 * must be positive (log axes), an accuracy within [0, 1]. */
static double metric_of(const cls_solved_point *p, metric m) {
  if (m == M_LOSS) return p->loss > 0 ? p->loss : NAN;
  const double a = cls_solved_num(p, "eval_accuracy");
  return a >= 0 && a <= 1 ? a : NAN;
}

static size_t d_at(const cell *c, double d) {
  for (size_t k = 0; k < c->n; k++)
    if (c->d[k] == d) return k;
  return c->n;
}

/* The cells of the first point's family, of metric m; false with a note in
 * why when the run directory is no sweep with generations or its points
 * have no such metric (a text sweep has no accuracy). */
static bool gather(const cls_plot_inputs *in, metric m, collapse_data *cd, char *why, size_t len, cls_status *st) {
  memset(cd, 0, sizeof *cd);
  *st = CLS_OK;
  const cls_solved *s = in->solved;
  if (!in->rd || !in->rd->has_points_dir || !s || !s->n_summaries) {
    cls__fig_note(why, len, "needs points/<id>.json files of a sweep with generations (docs/sweep.md)");
    return false;
  }
  if (!s->n_points) {
    cls__fig_note(why, len,
                  "needs finished points: none of the points/<id>.json has status \"ok\" and a finite "
                  "final_eval_loss (run clscale sweep to finish them)");
    return false;
  }
  if (!cls__fig_is_collapse(s)) {
    cls__fig_note(why, len,
                  "draws a sweep with generations (model collapse); the points of this run directory have no "
                  "numeric generation and real_fraction");
    return false;
  }
  bool any = m == M_LOSS; /* the loss is every finished point's; an accuracy only the gcd task's */
  for (size_t i = 0; i < s->n_points && !any; i++) any = !isnan(metric_of(&s->points[i], m));
  if (!any) {
    cls__fig_note(why, len,
                  "needs eval_accuracy in the points' summaries (the gcd task measures it; the text task has no "
                  "accuracy)");
    return false;
  }
  char *fam0 = family_of(&s->points[0]);
  cd->cells = calloc(s->n_points, sizeof *cd->cells);
  if (!fam0 || !cd->cells) {
    free(fam0);
    free(cd->cells);
    cd->cells = NULL;
    *st = CLS_ERR_OUT_OF_MEMORY;
    return false;
  }
  size_t too_many = 0;
  for (size_t i = 0; i < s->n_points; i++) {
    const cls_solved_point *p = &s->points[i];
    char *fam = family_of(p);
    if (!fam) {
      *st = CLS_ERR_OUT_OF_MEMORY;
      break;
    }
    bool same = !strcmp(fam, fam0);
    free(fam);
    const double g = cls_solved_num(p, "generation"), pi = pi_of(p), d = cls_solved_num(p, "tokens");
    const double v = metric_of(p, m);
    if (!same) {
      cd->other_family++;
      continue;
    }
    if (!(d > 0) || isnan(v) || g < 0 || g > 1e6) continue; /* D on a log axis; v checked by metric_of */
    cell *c = find_cell(cd, (unsigned)g, pi);
    if (!c) {
      c = &cd->cells[cd->n_cells++];
      c->generation = (unsigned)g, c->pi = pi;
    }
    size_t k = d_at(c, d);
    if (k == c->n) {
      if (c->n == 64) {
        too_many++;
        continue;
      }
      c->d[k] = d, c->n++, c->mean[k] = 0, c->lo[k] = INFINITY, c->hi[k] = -INFINITY;
    }
    c->mean[k] += v, c->seeds[k]++;
    c->lo[k] = fmin(c->lo[k], v), c->hi[k] = fmax(c->hi[k], v);
  }
  free(fam0);
  if (*st) return false;
  if (too_many) cls__fig_note(why, len, "more than 64 values of D in a generation: the rest left out");
  qsort(cd->cells, cd->n_cells, sizeof *cd->cells, cmp_cell);
  cd->d_lo = INFINITY, cd->d_hi = -INFINITY;
  for (size_t i = 0; i < cd->n_cells; i++) {
    cell *c = &cd->cells[i];
    for (size_t a = 1; a < c->n; a++) /* by D, each with its mean */
      for (size_t b = a; b > 0 && c->d[b - 1] > c->d[b]; b--) {
        double t[4] = {c->d[b], c->mean[b], c->lo[b], c->hi[b]};
        size_t ts = c->seeds[b];
        c->d[b] = c->d[b - 1], c->mean[b] = c->mean[b - 1], c->lo[b] = c->lo[b - 1], c->hi[b] = c->hi[b - 1];
        c->seeds[b] = c->seeds[b - 1];
        c->d[b - 1] = t[0], c->mean[b - 1] = t[1], c->lo[b - 1] = t[2], c->hi[b - 1] = t[3], c->seeds[b - 1] = ts;
      }
    for (size_t k = 0; k < c->n; k++) c->mean[k] /= (double)c->seeds[k];
    if (c->n) cd->d_lo = fmin(cd->d_lo, c->d[0]), cd->d_hi = fmax(cd->d_hi, c->d[c->n - 1]);
    cd->max_gen = c->generation > cd->max_gen ? c->generation : cd->max_gen;
    bool seen = !c->generation;
    for (size_t j = 0; j < cd->n_pis && !seen; j++) seen = cd->pis[j] == c->pi;
    if (!seen && cd->n_pis < 32) cd->pis[cd->n_pis++] = c->pi;
  }
  qsort(cd->pis, cd->n_pis, sizeof *cd->pis, cmp_double);
  cd->d_common = NAN;
  if (cd->n_cells) {
    const cell *c0 = &cd->cells[0];
    for (size_t k = c0->n; k-- > 0 && isnan(cd->d_common);) {
      bool all = true;
      for (size_t i = 1; i < cd->n_cells && all; i++) all = d_at(&cd->cells[i], c0->d[k]) < cd->cells[i].n;
      if (all) cd->d_common = c0->d[k];
    }
  }
  if (cd->other_family) {
    char msg[200];
    snprintf(msg, sizeof msg,
             "%zu points of another configuration (model, task settings) left out: one collapse family is drawn",
             cd->other_family);
    cls__fig_note(why, len, msg);
  }
  if (!cd->n_cells || !cd->n_pis) {
    cls__fig_note(why, len,
                  m == M_LOSS ? "needs finished points of generation 1 or later (with a positive tokens and loss)"
                              : "needs finished points of generation 1 or later (with a positive tokens and an "
                                "eval_accuracy)");
    free(cd->cells);
    cd->cells = NULL;
    return false;
  }
  return true;
}

/* -------------------------------------------------------------- styles */

/* A colour per generation: generation 0 black, then the palette. */
static cls_rgba gen_color(unsigned g) {
  return g ? cls_palette((int)g - 1) : BLACK;
}

static cls_marker pi_marker(size_t j) {
  static const cls_marker m[] = {CLS_MARKER_CIRCLE, CLS_MARKER_SQUARE, CLS_MARKER_TRIANGLE, CLS_MARKER_DIAMOND,
                                 CLS_MARKER_STAR};
  return m[j % (sizeof m / sizeof m[0])];
}

/* The line of the j-th pi: pi = 0 (the first, when present) solid, the
 * others dashed ever finer. */
static cls_series_style pi_line(cls_rgba c, size_t j, double w) {
  if (!j) return cls_style_line(c, w);
  return cls__fig_dashed(c, w, j == 1 ? 6 : j == 2 ? 2.5 : 4, j == 1 ? 3 : j == 2 ? 2 : 1.5);
}

static size_t pi_index(const collapse_data *cd, double pi) {
  for (size_t j = 0; j < cd->n_pis; j++)
    if (cd->pis[j] == pi) return j;
  return 0;
}

static void pi_text(double pi, char *buf, size_t len) {
  char v[32];
  cls__fig_fmt_sig(pi, 3, v, sizeof v);
  snprintf(buf, len, "\\pi = %s", v);
}

static cls_status legend_only(cls_axes *ax, cls_series_style s, const char *label) {
  double z = 0;
  return cls_axes_add_series(ax, &z, &z, 0, &s, label);
}

/* Data of one cell: the band over seeds, the line and markers of the means. */
static cls_status draw_cell(cls_axes *ax, const double *x, const cell *c, cls_series_style line, cls_marker m,
                            const char *label) {
  cls_status st = CLS_OK;
  bool spread = false;
  for (size_t k = 0; k < c->n; k++) spread |= c->hi[k] > c->lo[k];
  if (spread) {
    cls_rgba band = line.color;
    band.a = 0.15f;
    st = cls_axes_add_band(ax, x, c->lo, c->hi, c->n, band, NULL);
  }
  line.marker = m;
  line.marker_pt = 5.5;
  if (!st) st = cls_axes_add_series(ax, x, c->mean, c->n, &line, label);
  return st;
}

static const cls_collapse_fit_law *law_of(const cls_plot_inputs *in, double pi) {
  if (!in->fit || !in->fit->collapse.present) return NULL;
  for (size_t i = 0; i < in->fit->collapse.n_laws; i++)
    if (in->fit->collapse.laws[i].real_fraction == pi) return &in->fit->collapse.laws[i];
  return NULL;
}

static void note_law(const cls_plot_inputs *in, char *why, size_t len) {
  if (in->fit_missing) {
    char msg[700];
    snprintf(msg, sizeof msg, "modified law not drawn: %s", in->fit_missing);
    cls__fig_note(why, len, msg);
  } else if (!in->fit || !in->fit->collapse.present) {
    cls__fig_note(why, len, "modified law not drawn: fit.json has no collapse section (run clscale fit)");
  }
}

/* ------------------------------------- collapse-loss-d, collapse-accuracy-d */

/* The metric m against D, one curve per generation and pi; with the loss,
 * the modified law of fit.json through it (the law is of the loss only). */
static cls_status fig_against_d(const cls_plot_inputs *in, const collapse_data *cd, metric m,
                                const cls_plot_options *o, cls_figure **out, char *why, size_t len) {
  cls_figure *f = NULL;
  cls_status st = cls__fig_new(o, 1.0, 1.0, 1, 1, &f);
  if (st) return st;
  cls_axes *ax = cls_figure_axes(f, 0);
  /* the accuracy is bounded: a linear axis from 0 to 1, as gcd-outcomes */
  cls_axes_set_scales(ax, CLS_SCALE_LOG, m == M_LOSS ? CLS_SCALE_LOG : CLS_SCALE_LINEAR);
  cls_axes_set_label_styles(ax, CLS_LABEL_SI, CLS_LABEL_PLAIN);
  if (m == M_ACCURACY) cls_axes_set_ylim(ax, 0, 1.02);
  st = m == M_LOSS
           ? cls_axes_set_text(ax, cls__fig_title_or(o, "Model collapse: loss on real data vs training data D"),
                               "training tokens D", "eval loss on real data")
           : cls_axes_set_text(ax,
                               cls__fig_title_or(o, "Model collapse: accuracy on real pairs vs training data D"),
                               "training tokens D", "greedy exact-answer accuracy on real pairs");
  bool any_law = false;
  for (size_t i = 0; i < cd->n_cells && !st; i++) {
    const cell *c = &cd->cells[i];
    const size_t j = c->generation ? pi_index(cd, c->pi) : 0;
    char label[96], p[48];
    pi_text(c->pi, p, sizeof p);
    if (c->generation)
      snprintf(label, sizeof label, "generation %u, %s", c->generation, p);
    else
      snprintf(label, sizeof label, "generation 0 (real data)");
    st = draw_cell(ax, c->d, c, pi_line(gen_color(c->generation), c->generation ? j : 0, 1.2),
                   c->generation ? pi_marker(j) : CLS_MARKER_CIRCLE, label);
  }
  /* The modified law: each generation's curve of each pi, thin and grey-edged
   * in the generation's colour; generation 0's is drawn once. */
  bool g0_drawn = false;
  for (size_t j = 0; j < cd->n_pis && !st && m == M_LOSS; j++) {
    const cls_collapse_fit_law *L = law_of(in, cd->pis[j]);
    if (!L) continue;
    for (size_t k = 0; k < L->n_gen && !st; k++) {
      const unsigned g = (unsigned)L->generations[k];
      if (!g && g0_drawn) continue;
      g0_drawn |= !g;
      double x[LAW_GRID], y[LAW_GRID];
      cls__fig_logspace(cd->d_lo, cd->d_hi, LAW_GRID, x);
      for (int q = 0; q < LAW_GRID; q++) y[q] = L->E[k] + L->A * pow(x[q], -L->gamma);
      cls_series_style s = cls__fig_dashed(gen_color(g), 0.9, 1.2, 1.8);
      s.color.a = 0.8f;
      s.no_autoscale = true;
      st = cls_axes_add_series(ax, x, y, LAW_GRID, &s, NULL);
      any_law = true;
    }
  }
  if (!st && any_law)
    st = legend_only(ax, cls__fig_dashed(GREY, 0.9, 1.2, 1.8),
                     "fit: E(g) + A D^{-\\gamma} (shared A, \\gamma per \\pi)");
  if (!any_law && m == M_LOSS) note_law(in, why, len);
  return cls__fig_finish(f, st, out);
}

/* --------------------------------------------------- collapse-generation */

static cls_status fig_generation(const collapse_data *cd, const cls_plot_options *o, cls_figure **out, char *why,
                                 size_t len) {
  (void)why, (void)len;
  /* D values of generation 0 (every chain has them) */
  const cell *c0 = find_cell((collapse_data *)cd, 0, 1.0);
  if (!c0)
    for (size_t i = 0; i < cd->n_cells && !c0; i++)
      if (!cd->cells[i].generation) c0 = &cd->cells[i];
  if (!c0) {
    cls__fig_note(why, len,
                  "needs finished points of generation 0 (the loss against the generation starts there)");
    return CLS_OK;
  }
  cls_figure *f = NULL;
  cls_status st = cls__fig_new(o, 1.0, 1.0, 1, 1, &f);
  if (st) return st;
  cls_axes *ax = cls_figure_axes(f, 0);
  cls_axes_set_scales(ax, CLS_SCALE_LINEAR, CLS_SCALE_LOG);
  cls_axes_set_label_styles(ax, CLS_LABEL_PLAIN, CLS_LABEL_PLAIN);
  st = cls_axes_set_text(ax, cls__fig_title_or(o, "Model collapse: loss on real data vs generation"),
                         "generation g", "eval loss on real data");
  cls_axes_set_xlim(ax, -0.2, (double)cd->max_gen + 0.2);
  /* one colour per pi; the largest D thick with markers and the seeds'
   * band, the smaller D thin and pale */
  const double dmax = c0->d[c0->n - 1];
  for (size_t k = 0; k < c0->n && !st; k++) {
    const double D = c0->d[k];
    const bool top = D == dmax;
    for (size_t j = 0; j < cd->n_pis && !st; j++) {
      double x[64], y[64], lo[64], hi[64];
      size_t n = 0;
      const size_t k0 = d_at(c0, D);
      x[n] = 0, y[n] = c0->mean[k0], lo[n] = c0->lo[k0], hi[n] = c0->hi[k0], n++;
      for (unsigned g = 1; g <= cd->max_gen && n < 64; g++) {
        const cell *c = find_cell((collapse_data *)cd, g, cd->pis[j]);
        const size_t q = c ? d_at(c, D) : 0;
        if (!c || q == c->n) continue;
        x[n] = g, y[n] = c->mean[q], lo[n] = c->lo[q], hi[n] = c->hi[q], n++;
      }
      cls_rgba col = cls_palette((int)j);
      if (!top) col.a = 0.45f;
      char label[96] = "", p[48];
      pi_text(cd->pis[j], p, sizeof p);
      snprintf(label, sizeof label, "%s", p);
      cell tmp;
      memset(&tmp, 0, sizeof tmp);
      tmp.n = n;
      memcpy(tmp.mean, y, n * sizeof *y), memcpy(tmp.lo, lo, n * sizeof *lo), memcpy(tmp.hi, hi, n * sizeof *hi);
      if (!top) memcpy(tmp.lo, y, n * sizeof *y), memcpy(tmp.hi, y, n * sizeof *y); /* no band */
      st = draw_cell(ax, x, &tmp, pi_line(col, j, top ? 1.6 : 0.8), top ? pi_marker(j) : CLS_MARKER_NONE,
                     top ? label : NULL);
    }
  }
  if (!st && c0->n > 1) {
    char label[160], dv[48];
    cls__fig_fmt_sig(dmax, 3, dv, sizeof dv);
    snprintf(label, sizeof label, "thick: D = %s tokens; thin: smaller D", dv);
    st = legend_only(ax, cls_style_line(GREY, 0.8), label);
  }
  return cls__fig_finish(f, st, out);
}

/* ------------------------------------------------ collapse-real-fraction */

static cls_status fig_real_fraction(const collapse_data *cd, const cls_plot_options *o, cls_figure **out,
                                    char *why, size_t len) {
  if (isnan(cd->d_common)) {
    cls__fig_note(why, len, "needs a D that every generation and pi has (the loss there is compared)");
    return CLS_OK;
  }
  cls_figure *f = NULL;
  cls_status st = cls__fig_new(o, 1.0, 1.0, 1, 1, &f);
  if (st) return st;
  cls_axes *ax = cls_figure_axes(f, 0);
  cls_axes_set_scales(ax, CLS_SCALE_LINEAR, CLS_SCALE_LINEAR);
  cls_axes_set_label_styles(ax, CLS_LABEL_PLAIN, CLS_LABEL_PLAIN);
  char title[200], dv[48];
  cls__fig_fmt_sig(cd->d_common, 3, dv, sizeof dv);
  snprintf(title, sizeof title, "Model collapse: a share \\pi of real data, at D = %s tokens", dv);
  st = cls_axes_set_text(ax, cls__fig_title_or(o, title), "real share \\pi mixed into generations 1, 2, ...",
                         "eval loss on real data");
  const double plo = cd->pis[0], phi = cd->pis[cd->n_pis - 1];
  const double pad = phi > plo ? 0.05 * (phi - plo) : 0.05;
  cls_axes_set_xlim(ax, plo - pad, phi + pad);
  const cell *c0 = NULL;
  for (size_t i = 0; i < cd->n_cells && !c0; i++)
    if (!cd->cells[i].generation) c0 = &cd->cells[i];
  if (c0 && !st) {
    const size_t k = d_at(c0, cd->d_common);
    double x[2] = {plo - pad, phi + pad}, y[2] = {c0->mean[k], c0->mean[k]};
    cls_series_style s = cls__fig_dashed(BLACK, 1.2, 5, 3);
    st = cls_axes_add_series(ax, x, y, 2, &s, "generation 0 (real data)");
  }
  for (unsigned g = 1; g <= cd->max_gen && !st; g++) {
    cell tmp;
    memset(&tmp, 0, sizeof tmp);
    double x[32];
    for (size_t j = 0; j < cd->n_pis; j++) {
      const cell *c = find_cell((collapse_data *)cd, g, cd->pis[j]);
      const size_t k = c ? d_at(c, cd->d_common) : 0;
      if (!c || k == c->n) continue;
      x[tmp.n] = cd->pis[j], tmp.mean[tmp.n] = c->mean[k], tmp.lo[tmp.n] = c->lo[k], tmp.hi[tmp.n] = c->hi[k];
      tmp.n++;
    }
    if (!tmp.n) continue;
    char label[48];
    snprintf(label, sizeof label, "generation %u", g);
    st = draw_cell(ax, x, &tmp, cls_style_line(gen_color(g), 1.4), CLS_MARKER_CIRCLE, label);
  }
  return cls__fig_finish(f, st, out);
}

/* ---------------------------------------------------------- gcd-outcomes */

/* Bins of the outcome k: 1, 2, 3-4, 5-8, …, 2^(b-1)+1 … 2^b: the rare large
 * gcds have a few held-out pairs each, too few for an accuracy of their own. */
enum { OUT_BINS = 24 };
static int bin_of(double k) {
  int b = 0;
  while (b < OUT_BINS - 1 && k > ldexp(1, b)) b++;
  return b;
}

typedef struct {
  double examples[OUT_BINS], correct[OUT_BINS], kw[OUT_BINS]; /* kw: examples x k, for the bin's mean k */
  double lw[OUT_BINS];                                        /* examples x loss, for the bin's mean loss */
  size_t files;
} outcome_sum;

/* Adds points/<id>.outcomes.csv of p to o; false (with a note) when it
 * cannot be read. */
static bool add_outcomes(const cls_plot_inputs *in, const cls_solved_point *p, outcome_sum *o, char *why,
                         size_t len) {
  char path[4200], e[600];
  if (cls_rundir_path(path, sizeof path, in->rd->path, CLS_RUNDIR_OUTCOMES, p->run->id)) return false;
  cls_csv *t = NULL;
  double *k = NULL, *n = NULL, *c = NULL, *l = NULL;
  size_t bad = 0;
  bool ok = !cls_csv_load(path, &t, e, sizeof e) && !cls_csv_numbers(t, path, "gcd", &k, &bad, e, sizeof e) &&
            !cls_csv_numbers(t, path, "examples", &n, &bad, e, sizeof e) &&
            !cls_csv_numbers(t, path, "correct", &c, &bad, e, sizeof e) &&
            !cls_csv_numbers(t, path, "loss", &l, &bad, e, sizeof e);
  if (ok) {
    for (size_t r = 0; r < t->n_rows; r++) {
      if (!(k[r] >= 1) || !(n[r] > 0) || !(c[r] >= 0) || !isfinite(l[r])) continue;
      const int b = bin_of(k[r]);
      o->examples[b] += n[r], o->correct[b] += c[r], o->kw[b] += n[r] * k[r], o->lw[b] += n[r] * l[r];
    }
    o->files++;
  } else {
    char msg[900];
    snprintf(msg, sizeof msg, "points/%s.outcomes.csv left out: %s", p->run->id, e);
    cls__fig_note(why, len, msg);
  }
  free(k), free(n), free(c), free(l);
  cls_csv_destroy(t);
  return ok;
}

static cls_status fig_outcomes(const cls_plot_inputs *in, const collapse_data *cd, const cls_plot_options *o,
                               cls_figure **out, char *why, size_t len) {
  if (isnan(cd->d_common)) {
    cls__fig_note(why, len, "needs a D that every generation and pi has (the outcomes there are compared)");
    return CLS_OK;
  }
  /* pi = 0 and the largest pi: the collapse and the recovery */
  const double pis[2] = {cd->pis[0], cd->pis[cd->n_pis - 1]};
  const size_t n_pis = cd->n_pis > 1 ? 2 : 1;
  outcome_sum *sums = calloc((cd->max_gen + 1) * 2, sizeof *sums);
  if (!sums) return CLS_ERR_OUT_OF_MEMORY;
  const cls_solved *s = in->solved;
  char *fam0 = family_of(&s->points[0]);
  if (!fam0) {
    free(sums);
    return CLS_ERR_OUT_OF_MEMORY;
  }
  size_t unread = 0;
  for (size_t i = 0; i < s->n_points; i++) {
    const cls_solved_point *p = &s->points[i];
    if (cls_solved_num(p, "tokens") != cd->d_common) continue;
    char *fam = family_of(p);
    const bool same = fam && !strcmp(fam, fam0);
    free(fam);
    const double g = cls_solved_num(p, "generation"), pi = pi_of(p);
    if (!same || !(g >= 0 && g <= cd->max_gen)) continue;
    for (size_t j = 0; j < n_pis; j++)
      if (!g || pi == pis[j]) {
        if (!add_outcomes(in, p, &sums[(size_t)g * 2 + j], why, len)) unread++;
        break; /* generation 0 once */
      }
  }
  free(fam0);
  size_t files = 0;
  for (size_t i = 0; i < (cd->max_gen + 1) * 2; i++) files += sums[i].files;
  if (!files) {
    free(sums);
    cls__fig_note(why, len, "needs points/<id>.outcomes.csv (the gcd task writes them: accuracy per gcd value)");
    return CLS_OK;
  }
  /* Two panels: the accuracy (greedy answers) and the answer loss, where
   * the collapse shows first (the confidence put on wrong answers). */
  cls_figure *f = NULL;
  cls_status st = cls__fig_new(o, 2.0, 1.0, 1, 2, &f);
  if (st) {
    free(sums);
    return st;
  }
  char title[200], dv[48];
  cls__fig_fmt_sig(cd->d_common, 3, dv, sizeof dv);
  snprintf(title, sizeof title, "Model collapse: the gcd outcomes on real pairs, D = %s tokens", dv);
  st = cls_figure_set_title(f, cls__fig_title_or(o, title));
  for (int panel = 0; panel < 2 && !st; panel++) {
    cls_axes *ax = cls_figure_axes(f, panel);
    cls_axes_set_scales(ax, CLS_SCALE_LOG, panel ? CLS_SCALE_LOG : CLS_SCALE_LINEAR);
    cls_axes_set_label_styles(ax, CLS_LABEL_PLAIN, CLS_LABEL_PLAIN);
    st = cls_axes_set_text(ax, panel ? "answer loss per gcd" : "accuracy per gcd",
                           "gcd k (bins 1, 2, 3-4, 5-8, ...)",
                           panel ? "mean loss of the answer's tokens" : "accuracy on held-out real pairs");
    if (!panel) cls_axes_set_ylim(ax, 0, 1.02);
    if (panel) cls_axes_set_legend(ax, false);
    for (unsigned g = 0; g <= cd->max_gen && !st; g++)
      for (size_t j = 0; j < (g ? n_pis : 1) && !st; j++) {
        const outcome_sum *q = &sums[(size_t)g * 2 + j];
        if (!q->files) continue;
        double x[OUT_BINS], y[OUT_BINS];
        size_t n = 0;
        for (int b = 0; b < OUT_BINS; b++)
          if (q->examples[b] > 0)
            x[n] = q->kw[b] / q->examples[b], y[n++] = (panel ? q->lw[b] : q->correct[b]) / q->examples[b];
        char label[96], p[48];
        pi_text(pis[j], p, sizeof p);
        if (g)
          snprintf(label, sizeof label, "generation %u, %s", g, p);
        else
          snprintf(label, sizeof label, "generation 0 (real data)");
        cls_series_style ls = pi_line(gen_color(g), g ? (j ? pi_index(cd, pis[j]) : 0) : 0, 1.3);
        ls.marker = g ? pi_marker(j ? pi_index(cd, pis[j]) : 0) : CLS_MARKER_CIRCLE;
        ls.marker_pt = 5;
        st = cls_axes_add_series(ax, x, y, n, &ls, label);
      }
  }
  free(sums);
  if (unread) {
    char msg[120];
    snprintf(msg, sizeof msg, "%zu outcome tables could not be read", unread);
    cls__fig_note(why, len, msg);
  }
  return cls__fig_finish(f, st, out);
}

cls_status cls__fig_collapse(cls_plot_kind kind, const cls_plot_inputs *in, const cls_plot_options *o,
                             cls_figure **out, char *why, size_t len) {
  collapse_data cd;
  cls_status st;
  const metric m = kind == CLS_PLOT_COLLAPSE_ACCURACY_D ? M_ACCURACY : M_LOSS;
  if (!gather(in, m, &cd, why, len, &st)) return st;
  if (kind == CLS_PLOT_COLLAPSE_LOSS_D || kind == CLS_PLOT_COLLAPSE_ACCURACY_D)
    st = fig_against_d(in, &cd, m, o, out, why, len);
  else if (kind == CLS_PLOT_COLLAPSE_GENERATION)
    st = fig_generation(&cd, o, out, why, len);
  else if (kind == CLS_PLOT_GCD_OUTCOMES)
    st = fig_outcomes(in, &cd, o, out, why, len);
  else
    st = fig_real_fraction(&cd, o, out, why, len);
  free(cd.cells);
  return st;
}
