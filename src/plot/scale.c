/*
 * src/plot/scale.c — data→pixel transforms and tick placement.
 *
 * Log axes follow the conventions of scaling-law papers: majors at decades
 * labelled 10^k with a real superscript and minors at 2…9; when the range
 * holds fewer than two decades, labelled ticks at 1-2-5 or 1…9 multiples (or
 * plain linear ticks for very narrow ranges, such as losses between 2 and 4);
 * over many decades the labels are thinned to every 2nd, 5th, 10th… decade.
 */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "plot/plot.h"
#include "plot/scale.h"

double cls_scale_to_px(const cls_axis_scale *s, double v) {
  if (!s || !isfinite(v)) return NAN;
  double a, b, x;
  if (s->kind == CLS_SCALE_LOG) {
    if (!(v > 0.0) || !(s->lo > 0.0) || !(s->hi > 0.0)) return NAN;
    a = log10(s->lo), b = log10(s->hi), x = log10(v);
  } else {
    a = s->lo, b = s->hi, x = v;
  }
  if (!(b != a)) return 0.5 * (s->p0 + s->p1);
  return s->p0 + (x - a) / (b - a) * (s->p1 - s->p0);
}

double cls_scale_from_px(const cls_axis_scale *s, double p) {
  if (!s || s->p1 == s->p0) return NAN;
  double t = (p - s->p0) / (s->p1 - s->p0);
  if (s->kind == CLS_SCALE_LOG) return pow(10.0, log10(s->lo) + t * (log10(s->hi) - log10(s->lo)));
  return s->lo + t * (s->hi - s->lo);
}

void cls_scale_pad(cls_scale_kind kind, double *lo, double *hi, double frac) {
  if (kind == CLS_SCALE_LOG) {
    double a = log10(*lo), b = log10(*hi), d = b - a;
    if (!(d > 0.0)) d = 0.2 / (1.0 + 2.0 * frac); /* a single value: show ±0.1 decade */
    *lo = pow(10.0, a - frac * d);
    *hi = pow(10.0, b + frac * d);
  } else {
    double d = *hi - *lo;
    if (!(d > 0.0)) d = fabs(*lo) > 0.0 ? fabs(*lo) * 0.2 : 1.0;
    *lo -= frac * d;
    *hi += frac * d;
  }
}

/* Writes "m\times10^{k}" or "10^{k}" for v = m·10^k. */
static void format_pow10(double v, char *buf, size_t len) {
  double av = fabs(v);
  int k = (int)floor(log10(av) + 1e-9);
  double m = av / pow(10.0, k);
  const char *sign = v < 0 ? "-" : "";
  if (fabs(m - 1.0) < 1e-6)
    snprintf(buf, len, "%s10^{%d}", sign, k);
  else {
    char mb[16];
    snprintf(mb, sizeof mb, "%.2g", m);
    snprintf(buf, len, "%s%s\\times10^{%d}", sign, mb, k);
  }
}

/* The fewest decimals (up to 4) that reproduce v to 1e-9 relative, so 0.3
 * prints as "0.3" and 10 as "10", never "0.300" or "1e+01". */
static void format_short(double v, char *buf, size_t len) {
  for (int d = 0; d <= 4; d++) {
    snprintf(buf, len, "%.*f", d, v);
    double back = strtod(buf, NULL);
    if (fabs(back - v) <= 1e-9 * fmax(fabs(v), 1e-300)) return;
  }
}

void cls_format_number(double v, double step, cls_label_style style, char *buf, size_t len) {
  if (!buf || len == 0) return;
  if (!isfinite(v)) {
    snprintf(buf, len, "%s", "?");
    return;
  }
  if (step > 0.0 && fabs(v) < step * 1e-9) v = 0.0; /* 0, printed with the axis' decimals below */
  if (fabs(v) < 1e-300 && !(step > 0.0)) {
    snprintf(buf, len, "0");
    return;
  }
  double av = fabs(v);
  if (style == CLS_LABEL_SI && av >= 1000.0 && av < 1e15) {
    static const char suffix[] = {'K', 'M', 'B', 'T'};
    int e = (int)floor(log10(av) / 3.0 + 1e-9);
    if (e > 4) e = 4;
    double m = v / pow(10.0, 3 * e);
    char mb[24];
    format_short(m, mb, sizeof mb);
    snprintf(buf, len, "%s%c", mb, suffix[e - 1]);
    return;
  }
  if (step > 0.0) { /* linear axis: decimals from the step, same for every label */
    if (av >= 1e5 || (av < 1e-3 && av > 0.0)) {
      format_pow10(v, buf, len);
      return;
    }
    int dec = (int)ceil(-log10(step) - 1e-9);
    double mant = step / pow(10.0, floor(log10(step) + 1e-9));
    if (fabs(mant - 2.5) < 1e-6) dec++;
    if (dec < 0) dec = 0;
    snprintf(buf, len, "%.*f", dec, v);
    return;
  }
  if (av >= 1e-2 && av < 1e4)
    format_short(v, buf, len);
  else
    format_pow10(v, buf, len);
}

typedef struct {
  cls_tick *t;
  size_t n, cap;
} tick_list;

static int add_tick(tick_list *L, double v, bool major, bool labelled) {
  if (L->n == L->cap) {
    size_t cap = L->cap ? 2 * L->cap : 32;
    cls_tick *p = realloc(L->t, cap * sizeof *p);
    if (!p) return -1;
    L->t = p;
    L->cap = cap;
  }
  cls_tick *t = &L->t[L->n++];
  memset(t, 0, sizeof *t);
  t->value = v;
  t->major = major;
  t->labelled = labelled;
  return 0;
}

static bool inside(double v, double lo, double hi) {
  double tol = 1e-9 * (hi - lo);
  return v >= lo - tol && v <= hi + tol;
}

/* A "nice" step (1, 2, 2.5 or 5 × 10^k) giving at most max_labels ticks. */
static double nice_step(double span, int max_labels) {
  double raw = span / (max_labels > 1 ? max_labels - 1 : 1);
  double p = pow(10.0, floor(log10(raw)));
  static const double m[] = {1.0, 2.0, 2.5, 5.0, 10.0};
  for (size_t i = 0; i < sizeof m / sizeof m[0]; i++)
    if (m[i] * p >= raw * (1.0 - 1e-9)) {
      double step = m[i] * p;
      if ((int)floor(span / step + 1e-9) + 1 <= max_labels || i + 1 == sizeof m / sizeof m[0]) return step;
    }
  return 10.0 * p;
}

static int linear_ticks(tick_list *L, double lo, double hi, int max_labels, cls_label_style style) {
  double step = nice_step(hi - lo, max_labels);
  double first = ceil(lo / step - 1e-9) * step;
  for (int i = 0; i < 1000; i++) {
    double v = first + i * step;
    if (v > hi + 1e-9 * (hi - lo)) break;
    if (fabs(v) < step * 1e-9) v = 0.0;
    if (add_tick(L, v, true, true)) return -1;
    cls_format_number(v, step, style, L->t[L->n - 1].label, sizeof L->t[0].label);
  }
  return 0;
}

static int log_ticks(tick_list *L, double lo, double hi, int max_labels, cls_label_style style) {
  double a = log10(lo), b = log10(hi);
  int d0 = (int)ceil(a - 1e-9), d1 = (int)floor(b + 1e-9);
  int nd = d1 - d0 + 1; /* decades inside the range */
  /* Two decades alone make a poor scale (1 and 10, nothing between): take
   * 1-2-5 labels when they fit, as for shorter ranges. */
  bool decade_mode = nd >= 3;
  if (nd == 2) {
    int count = 0;
    for (int d = d0 - 1; d <= d1; d++)
      for (int m = 1; m <= 5; m += m == 1 ? 1 : 3) count += inside(m * pow(10.0, d), lo, hi);
    decade_mode = count > max_labels;
  }
  if (decade_mode) {
    /* Label every stride-th decade, stride from 1, 2, 5, 10, 20, 50…, and keep
     * the other decades as unlabelled major ticks while they are not a smear. */
    int stride = 1;
    static const int base[] = {1, 2, 5};
    for (int k = 0; k < 30; k++) {
      stride = base[k % 3] * (int)pow(10.0, k / 3);
      int labels = 0;
      for (int d = d0; d <= d1; d++) labels += (d % stride) == 0;
      if (labels <= max_labels && labels >= 2) break;
      if (labels < 2) { /* too coarse for the range: step back to what gives two */
        stride = k ? base[(k - 1) % 3] * (int)pow(10.0, (k - 1) / 3) : 1;
        break;
      }
    }
    bool all_decades = nd <= 4 * max_labels;
    bool minors = (b - a) <= 1.2 * max_labels; /* room for 2…9 in each decade */
    for (int d = d0 - 1; d <= d1; d++) {
      double dec = pow(10.0, d);
      if (d >= d0 && (all_decades || d % stride == 0)) {
        bool lab = d % stride == 0;
        if (add_tick(L, dec, true, lab)) return -1;
        if (lab) {
          if (style == CLS_LABEL_SI)
            cls_format_number(dec, 0.0, style, L->t[L->n - 1].label, sizeof L->t[0].label);
          else
            snprintf(L->t[L->n - 1].label, sizeof L->t[0].label, "10^{%d}", d);
        }
      }
      if (minors)
        for (int m = 2; m <= 9; m++)
          if (inside(m * dec, lo, hi) && add_tick(L, m * dec, false, false)) return -1;
    }
    return 0;
  }
  /* Under two decades: mantissa sets, from coarse to fine, that give at least
   * three labels; otherwise plain linear ticks. */
  static const int set125[] = {1, 2, 5}, set19[] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
  const int *sets[2] = {set125, set19};
  const int lens[2] = {3, 9};
  int want = max_labels < 3 ? max_labels : 3;
  for (int si = 0; si < 2; si++) {
    int count = 0;
    for (int d = d0 - 1; d <= d1; d++)
      for (int i = 0; i < lens[si]; i++) count += inside(sets[si][i] * pow(10.0, d), lo, hi);
    if (count >= want && count <= max_labels) {
      for (int d = d0 - 1; d <= d1; d++) {
        double dec = pow(10.0, d);
        for (int m = 1; m <= 9; m++) {
          double v = m * dec;
          if (!inside(v, lo, hi)) continue;
          bool lab = false;
          for (int i = 0; i < lens[si]; i++) lab |= sets[si][i] == m;
          if (add_tick(L, v, lab || m == 1, lab)) return -1;
          if (lab) cls_format_number(v, 0.0, style, L->t[L->n - 1].label, sizeof L->t[0].label);
        }
      }
      return 0;
    }
  }
  if (linear_ticks(L, lo, hi, max_labels, style)) return -1;
  /* Keep the 2…9 minors where they fall between the linear labels. */
  for (int d = d0 - 1; d <= d1; d++)
    for (int m = 1; m <= 9; m++) {
      double v = m * pow(10.0, d);
      if (!inside(v, lo, hi)) continue;
      bool dup = false;
      for (size_t i = 0; i < L->n; i++) dup |= fabs(L->t[i].value - v) <= 1e-9 * v;
      if (!dup && add_tick(L, v, false, false)) return -1;
    }
  return 0;
}

/* On a log axis, labels at 1…9 multiples crowd at the top of each decade
 * (0.9 and 1 are 0.05 decades apart). Keep labels in order of importance
 * (decades, then 2 and 5, then the rest) while they stay a minimum distance
 * in log10 from every label already kept. */
static void thin_log_labels(tick_list *L, double lo, double hi, int max_labels) {
  double min_gap = (log10(hi) - log10(lo)) / (1.6 * max_labels);
  bool *keep = calloc(L->n ? L->n : 1, sizeof *keep);
  if (!keep) return;
  for (int prio = 0; prio < 3; prio++)
    for (size_t i = 0; i < L->n; i++) {
      if (!L->t[i].labelled) continue;
      double lv = log10(L->t[i].value), m = L->t[i].value / pow(10.0, floor(lv + 1e-9));
      int p = fabs(m - 1.0) < 1e-6 ? 0 : (fabs(m - 2.0) < 1e-6 || fabs(m - 5.0) < 1e-6) ? 1 : 2;
      if (p != prio) continue;
      bool ok = true;
      for (size_t j = 0; j < L->n && ok; j++)
        if (keep[j] && fabs(log10(L->t[j].value) - lv) < min_gap) ok = false;
      keep[i] = ok;
    }
  for (size_t i = 0; i < L->n; i++)
    if (L->t[i].labelled && !keep[i]) {
      L->t[i].labelled = false;
      L->t[i].label[0] = '\0';
    }
  free(keep);
}

static int cmp_tick(const void *a, const void *b) {
  double x = ((const cls_tick *)a)->value, y = ((const cls_tick *)b)->value;
  return (x > y) - (x < y);
}

cls_status cls_scale_ticks(const cls_axis_scale *s, int max_labels, cls_label_style style, cls_tick **out,
                           size_t *n, char *err, size_t err_len) {
  if (!s || !out || !n) {
    return cls_errf(err, err_len, CLS_ERR_NULL_ARGUMENT, "cls_scale_ticks: NULL argument");
  }
  *out = NULL;
  *n = 0;
  double lo = fmin(s->lo, s->hi), hi = fmax(s->lo, s->hi);
  if (!isfinite(lo) || !isfinite(hi) || !(hi > lo) || (s->kind == CLS_SCALE_LOG && !(lo > 0.0))) {
    return cls_errf(err, err_len, CLS_ERR_INVALID_VALUE,
                    "axis range [%g, %g] cannot carry ticks: it needs finite limits with lo < hi%s", lo, hi,
                    s->kind == CLS_SCALE_LOG ? " and lo > 0 on a log axis" : "");
  }
  if (max_labels < 2) max_labels = 2;
  tick_list L = {0};
  int rc = s->kind == CLS_SCALE_LOG ? log_ticks(&L, lo, hi, max_labels, style)
                                    : linear_ticks(&L, lo, hi, max_labels, style);
  if (rc) {
    free(L.t);
    return cls_errf(err, err_len, CLS_ERR_OUT_OF_MEMORY, "out of memory placing ticks");
  }
  if (s->kind == CLS_SCALE_LOG) thin_log_labels(&L, lo, hi, max_labels);
  qsort(L.t, L.n, sizeof *L.t, cmp_tick);
  *out = L.t;
  *n = L.n;
  return CLS_OK;
}
