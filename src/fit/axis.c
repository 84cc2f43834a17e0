/*
 * src/fit/axis.c — power laws along one axis of a sweep (axis.h): the points
 * are grouped by every config key but the axis and the seed, the loss at
 * each X of a group is the mean over its observations (seeds; for the
 * memoriser along samples, the rows of its learning curves too), the law
 * L = E + A·X^(−γ) is fitted by the frontier's fitter (cls__fit_power_law),
 * the bootstrap resamples the group's points within each X, and the theory
 * of the solvable tasks is evaluated at the same X and fitted the same way.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/rng.h"
#include "fit/axis.h"
#include "fit/theory_rf.h"
#include "fit/theory_zipf.h"

enum { AX_STREAM = 0x41584953u /* "AXIS" */, AX_MIN_X = 3 };

/* ------------------------------------------------------------ the keys */

/* Results of a run and its diagnostics: never an axis, never a group key. */
static const char *const results[] = {
    "id", "status", "error", "seed", "point_index", "device", "clscale_version", "sweep", "sweep_mode", "describe",
    "final_eval_loss", "final_train_loss", "seconds", "tokens_per_second", "gflops_per_second",
    "resumed_from_step", "diverged_at_step", "kernel_form", "loss_rounding", "loss_estimate", "loss_se", "floor",
    /* the gcd task's measurements beside the loss */
    "eval_accuracy", "eval_answer_loss", "gcd_values_seen",
    /* generations: the chain's provenance, one per seed like the seed */
    "teacher", "corpus", "corpus_checksum", NULL};
/* Derived from the config: may be an axis, never a group key. */
static const char *const derived[] = {"n_params", "n_params_embed", "tokens", "train_examples", "train_tokens",
                                      "examples_seen", "epochs", "flops", "flops_6nd", "budget_flops",
                                      "budget_tokens", "budget_steps", "steps", "total_steps", "warmup_steps",
                                      "tokens_per_step", "flops_per_step", "model_flops_per_step", "eval_flops",
                                      /* pi again, as the gcd task's key writes it */
                                      "corpus_real_fraction", NULL};

static bool listed(const char *const *list, const char *key) {
  for (; *list; list++)
    if (!strcmp(*list, key)) return true;
  return false;
}

static bool is_result(const char *key) {
  return listed(results, key) || !strncmp(key, "solve_", 6) || !strncmp(key, "eval_accuracy_", 14);
}

bool cls__fit_axis_is_config(const char *key) {
  return !is_result(key) && !listed(derived, key);
}

static const cls_axis_kv *get(const cls_axis_run *r, const char *key) {
  for (size_t k = 0; k < r->n_kv; k++)
    if (!strcmp(r->kv[k].key, key)) return &r->kv[k];
  return NULL;
}

static double num(const cls_axis_run *r, const char *key) {
  const cls_axis_kv *v = get(r, key);
  return v && !v->text ? v->num : NAN;
}

static const char *text(const cls_axis_run *r, const char *key) {
  const cls_axis_kv *v = get(r, key);
  return v ? v->text : NULL;
}

static bool same(const cls_axis_kv *a, const cls_axis_kv *b) {
  if (!a || !b) return !a && !b;
  if (a->text || b->text) return a->text && b->text && !strcmp(a->text, b->text);
  return a->num == b->num || (isnan(a->num) && isnan(b->num));
}

/* Groups sort by their values: absent first, then numbers, then texts. */
static int order(const cls_axis_kv *a, const cls_axis_kv *b) {
  if (!a || !b) return (a != NULL) - (b != NULL);
  if (!a->text != !b->text) return a->text ? 1 : -1;
  if (a->text) return strcmp(a->text, b->text);
  if (isnan(a->num) || isnan(b->num)) return isnan(b->num) - isnan(a->num);
  return (a->num > b->num) - (a->num < b->num);
}

static void value_text(const cls_axis_kv *v, char *buf, size_t len) {
  if (!v)
    snprintf(buf, len, "(none)");
  else if (v->text)
    snprintf(buf, len, "%s", v->text);
  else if (isnan(v->num))
    snprintf(buf, len, "null");
  else
    snprintf(buf, len, "%.10g", v->num);
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The keys numeric in every run and not results, sorted; *n of them. */
static char **axis_keys(const cls_axis_input *in, size_t *n) {
  *n = 0;
  if (!in->n_runs) return NULL;
  const cls_axis_run *r0 = &in->runs[0];
  char **keys = malloc((r0->n_kv ? r0->n_kv : 1) * sizeof *keys);
  if (!keys) return NULL;
  for (size_t k = 0; k < r0->n_kv; k++) {
    const char *key = r0->kv[k].key;
    bool ok = !is_result(key);
    for (size_t i = 0; i < in->n_runs && ok; i++) {
      const cls_axis_kv *v = get(&in->runs[i], key);
      ok = v && !v->text;
    }
    if (ok) keys[(*n)++] = r0->kv[k].key;
  }
  qsort(keys, *n, sizeof *keys, cmp_str);
  return keys;
}

void cls_fit_axis_keys(const cls_axis_input *in, char *buf, size_t len) {
  size_t n, used = 0;
  char **keys = axis_keys(in, &n);
  if (len) buf[0] = '\0';
  for (size_t i = 0; i < n && used < len; i++) {
    int w = snprintf(buf + used, len - used, "%s%s", i ? ", " : "", keys[i]);
    if (w < 0) break;
    used += (size_t)w;
  }
  if (!n && len) snprintf(buf, len, "(none)");
  free(keys);
}

const char *cls_fit_axis_default(const cls_axis_input *in) {
  if (!in) return NULL;
  if (!strcmp(in->task, "rf")) return "features,samples";
  if (!strcmp(in->task, "zipf")) return "samples";
  return NULL;
}

/* The axis must be a numeric key of every run, positive and finite. */
static cls_status check_axis(const cls_axis_input *in, const char *axis, char *err, size_t err_len) {
  char keys[2048];
  cls_fit_axis_keys(in, keys, sizeof keys);
  const cls_axis_run *has = NULL, *lacks = NULL;
  for (size_t i = 0; i < in->n_runs; i++) {
    if (get(&in->runs[i], axis))
      has = has ? has : &in->runs[i];
    else
      lacks = lacks ? lacks : &in->runs[i];
  }
  if (!has)
    return cls_errf(err, err_len, CLS_ERR_INVALID_VALUE,
                    "unknown axis '%s': no point has it; the numeric config keys of these points are: %s", axis,
                    keys);
  if (is_result(axis))
    return cls_errf(
        err, err_len, CLS_ERR_INVALID_VALUE,
        "'%s' is a result or diagnostic of a run, not an axis; the numeric config keys of these points "
        "are: %s",
        axis, keys);
  if (lacks)
    return cls_errf(
        err, err_len, CLS_ERR_INVALID_VALUE,
        "axis '%s': points/%s.json has no such key (points/%s.json has); the keys every point has are: "
        "%s",
        axis, lacks->id, has->id, keys);
  for (size_t i = 0; i < in->n_runs; i++) {
    const cls_axis_kv *v = get(&in->runs[i], axis);
    if (v->text)
      return cls_errf(err, err_len, CLS_ERR_INVALID_VALUE,
                      "axis '%s' is not numeric (points/%s.json has \"%s\"); the numeric config keys of these "
                      "points are: %s",
                      axis, in->runs[i].id, v->text, keys);
    if (!isfinite(v->num) || v->num <= 0) {
      char val[64];
      value_text(v, val, sizeof val);
      return cls_errf(err, err_len, CLS_ERR_INVALID_VALUE,
                      "axis '%s': points/%s.json has %s = %s; a power law in X needs every X positive and finite",
                      axis, in->runs[i].id, axis, val);
    }
  }
  return CLS_OK;
}

/* A key that moves one-to-one with the axis over the runs (features when
 * the axis is n_params, samples when it is tokens) is the axis again under
 * another name, not a group key. */
static bool tied_to_axis(const cls_axis_input *in, const char *axis, const char *key) {
  bool varies = false;
  for (size_t i = 0; i < in->n_runs; i++) {
    const cls_axis_run *a = &in->runs[i];
    for (size_t j = 0; j < i; j++) {
      const cls_axis_run *b = &in->runs[j];
      bool sx = num(a, axis) == num(b, axis), sk = same(get(a, key), get(b, key));
      if (sx != sk) return false;
      varies |= !sk;
    }
  }
  return varies;
}

/* The group keys, in the order the summaries list them; *n of them. */
static const char **group_keys(const cls_axis_input *in, const char *axis, size_t *n) {
  size_t cap = 0;
  for (size_t i = 0; i < in->n_runs; i++) cap += in->runs[i].n_kv;
  const char **keys = malloc((cap ? cap : 1) * sizeof *keys);
  *n = 0;
  if (!keys) return NULL;
  for (size_t i = 0; i < in->n_runs; i++) {
    for (size_t k = 0; k < in->runs[i].n_kv; k++) {
      const char *key = in->runs[i].kv[k].key;
      bool seen = false;
      for (size_t j = 0; j < *n && !seen; j++) seen = !strcmp(keys[j], key);
      if (seen || !strcmp(key, axis) || is_result(key) || listed(derived, key) || tied_to_axis(in, axis, key))
        continue;
      keys[(*n)++] = key;
    }
  }
  return keys;
}

/* ------------------------------------------------------------ a group */

typedef struct {
  size_t *runs; /* indices into the input */
  size_t n_runs;
  /* observations, run by run: X index and loss */
  size_t *obs_x;
  double *obs_l;
  size_t *obs0, *obs_n; /* per run of the group */
} grp_data;

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static size_t find_x(const double *x, size_t n, double v) {
  size_t lo = 0, hi = n;
  while (lo < hi) {
    size_t m = (lo + hi) / 2;
    if (x[m] < v)
      lo = m + 1;
    else
      hi = m;
  }
  return lo;
}

/* One run's observations (x, loss): its final point, and along a curve
 * every row of it; losses of 0 (an exhausted memoriser) are counted and
 * left out, log-loss needs L > 0. Returns how many were written. */
static size_t run_obs(const cls_axis_run *r, const char *axis, bool curves, double *x, double *l, size_t *zero) {
  size_t n = 0;
  double xr = num(r, axis);
  bool final_seen = false;
  if (curves) {
    for (size_t i = 0; i < r->curve_n; i++) {
      if (r->curve_loss[i] <= 0) {
        (*zero)++;
        continue;
      }
      x[n] = r->curve_tokens[i], l[n++] = r->curve_loss[i];
      final_seen |= r->curve_tokens[i] == xr;
    }
  }
  if (!final_seen && !r->final_out) {
    if (r->loss > 0)
      x[n] = xr, l[n++] = r->loss;
    else
      (*zero)++;
  }
  return n;
}

static void free_grp(grp_data *d) {
  free(d->runs), free(d->obs_x), free(d->obs_l), free(d->obs0), free(d->obs_n);
}

/* Collects the group's observations, its distinct X and their means. */
static cls_status gather(const cls_axis_input *in, const char *axis, bool curves, grp_data *d,
                         cls_fit_axis_group *g, size_t *zero) {
  size_t cap = 0;
  for (size_t i = 0; i < d->n_runs; i++) cap += in->runs[d->runs[i]].curve_n * curves + 1;
  double *ox = malloc(cap * sizeof *ox);
  d->obs_l = malloc(cap * sizeof *d->obs_l);
  d->obs_x = malloc(cap * sizeof *d->obs_x);
  d->obs0 = malloc(d->n_runs * sizeof *d->obs0);
  d->obs_n = malloc(d->n_runs * sizeof *d->obs_n);
  g->x = malloc(cap * sizeof *g->x);
  if (!ox || !d->obs_l || !d->obs_x || !d->obs0 || !d->obs_n || !g->x) {
    free(ox);
    return CLS_ERR_OUT_OF_MEMORY;
  }
  size_t m = 0;
  for (size_t i = 0; i < d->n_runs; i++) {
    d->obs0[i] = m;
    d->obs_n[i] = run_obs(&in->runs[d->runs[i]], axis, curves, ox + m, d->obs_l + m, zero);
    m += d->obs_n[i];
  }
  memcpy(g->x, ox, m * sizeof *ox);
  qsort(g->x, m, sizeof *g->x, cmp_double);
  size_t k = 0;
  for (size_t i = 0; i < m; i++)
    if (!k || g->x[i] != g->x[k - 1]) g->x[k++] = g->x[i];
  g->n_x = k;
  g->loss = calloc(k ? k : 1, sizeof *g->loss);
  g->n_obs = calloc(k ? k : 1, sizeof *g->n_obs);
  g->theory = malloc((k ? k : 1) * sizeof *g->theory);
  if (!g->loss || !g->n_obs || !g->theory) {
    free(ox);
    return CLS_ERR_OUT_OF_MEMORY;
  }
  for (size_t i = 0; i < m; i++) {
    d->obs_x[i] = find_x(g->x, k, ox[i]);
    g->loss[d->obs_x[i]] += d->obs_l[i];
    g->n_obs[d->obs_x[i]]++;
  }
  for (size_t j = 0; j < k; j++) g->loss[j] /= (double)g->n_obs[j], g->theory[j] = NAN;
  free(ox);
  return CLS_OK;
}

/* The fit of the group's means, then the bootstrap: in each resample every
 * X of the points (each point's own value on the axis) keeps its number of
 * points, drawn with replacement from those it has; a point brings all its
 * observations (a whole learning curve). */
static cls_status fit_group(const cls_axis_input *in, const char *axis, bool floor_zero, const cls_fit_options *o,
                            uint32_t stream, grp_data *d, cls_fit_axis_group *g) {
  double p[3];
  if (g->n_x < AX_MIN_X) {
    snprintf(g->why, sizeof g->why, "%zu distinct %s value%s (a power law needs at least %d)", g->n_x, axis,
             g->n_x == 1 ? "" : "s", AX_MIN_X);
    return CLS_OK;
  }
  if (cls__fit_power_law(g->x, g->loss, g->n_x, o->huber_delta, floor_zero, NULL, p, &g->objective)) {
    snprintf(g->why, sizeof g->why, "the optimiser found no finite fit of the %zu points", g->n_x);
    return CLS_OK;
  }
  g->ok = true;
  g->E = p[0], g->A = p[1], g->gamma = p[2];
  int B = o->bootstrap > 0 ? o->bootstrap : 0;
  g->n_boot = B;
  if (!B) return CLS_OK;
  /* strata: the group's runs ordered by their own X */
  size_t n = d->n_runs, *by_x = malloc(n * sizeof *by_x);
  double *sum = malloc(g->n_x * sizeof *sum), *bx = malloc(g->n_x * sizeof *bx), *bl = malloc(g->n_x * sizeof *bl);
  size_t *cnt = malloc(g->n_x * sizeof *cnt);
  double *boot = malloc((size_t)B * 3 * sizeof *boot), *v = malloc((size_t)B * sizeof *v);
  cls_status st = CLS_OK;
  if (!by_x || !sum || !bx || !bl || !cnt || !boot || !v) {
    st = CLS_ERR_OUT_OF_MEMORY;
    goto done;
  }
  for (size_t i = 0; i < n; i++) by_x[i] = i;
  for (size_t i = 1; i < n; i++) /* insertion sort by the run's X (stable) */
    for (size_t j = i;
         j > 0 && num(&in->runs[d->runs[by_x[j - 1]]], axis) > num(&in->runs[d->runs[by_x[j]]], axis); j--) {
      size_t t = by_x[j];
      by_x[j] = by_x[j - 1], by_x[j - 1] = t;
    }
  cls_rng rng = cls_rng_make(o->seed, stream);
  double start[3];
  cls__fit_power_law_start(g->x, g->n_x, p, start);
  for (int r = 0; r < B; r++) {
    memset(sum, 0, g->n_x * sizeof *sum);
    memset(cnt, 0, g->n_x * sizeof *cnt);
    uint32_t draw = 0;
    for (size_t s = 0; s < n;) {
      size_t e = s;
      double xs = num(&in->runs[d->runs[by_x[s]]], axis);
      while (e < n && num(&in->runs[d->runs[by_x[e]]], axis) == xs) e++;
      for (size_t k = s; k < e; k++) {
        size_t pick = by_x[s + cls_rng_below(rng, (uint64_t)r, draw++, e - s)];
        for (size_t q = d->obs0[pick]; q < d->obs0[pick] + d->obs_n[pick]; q++)
          sum[d->obs_x[q]] += d->obs_l[q], cnt[d->obs_x[q]]++;
      }
      s = e;
    }
    size_t m = 0;
    for (size_t j = 0; j < g->n_x; j++)
      if (cnt[j]) bx[m] = g->x[j], bl[m++] = sum[j] / (double)cnt[j];
    double *q = boot + 3 * r;
    q[0] = q[1] = q[2] = NAN;
    if (m < AX_MIN_X || cls__fit_power_law(bx, bl, m, o->huber_delta, floor_zero, start, q, NULL)) {
      q[0] = q[1] = q[2] = NAN;
      continue;
    }
    g->boot_ok++;
  }
  cls_ci *ci[3] = {&g->E_ci, &g->A_ci, &g->gamma_ci};
  for (int k = 0; k < 3; k++) {
    for (int r = 0; r < B; r++) v[r] = boot[3 * r + k];
    *ci[k] = cls__fit_interval(v, (size_t)B, o->ci_level);
  }
  if (floor_zero) g->E_ci.lo = g->E_ci.hi = NAN;
done:
  free(by_x), free(sum), free(bx), free(bl), free(cnt), free(boot), free(v);
  return st;
}

/* ----------------------------------------------------------- the theory */

static bool one_of(const char *axis, const char *a, const char *b) {
  return !strcmp(axis, a) || (b && !strcmp(axis, b));
}

/* Random-feature ridge regression (theory_rf.h) at the group's config with
 * the axis set to each x. Returns 0, or -1 with why. */
static int theory_rf(const cls_axis_run *r, const char *axis, cls_fit_axis_group *g) {
  double N = num(r, "features"), T = num(r, "samples"), M = num(r, "latent"), alpha = num(r, "alpha"),
         ridge = num(r, "ridge"), noise = num(r, "noise");
  const char *names[6] = {"features", "samples", "latent", "alpha", "ridge", "noise"};
  double vals[6] = {N, T, M, alpha, ridge, noise};
  for (int k = 0; k < 6; k++)
    if (!isfinite(vals[k])) {
      snprintf(g->theory_why, sizeof g->theory_why, "the points have no numeric %s", names[k]);
      return -1;
    }
  double *slot = one_of(axis, "features", "n_params") ? &N
                 : one_of(axis, "samples", "tokens")  ? &T
                 : one_of(axis, "latent", NULL)       ? &M
                 : one_of(axis, "alpha", NULL)        ? &alpha
                 : one_of(axis, "ridge", NULL)        ? &ridge
                 : one_of(axis, "noise", NULL)        ? &noise
                                                      : NULL;
  if (!slot) {
    snprintf(g->theory_why, sizeof g->theory_why, "the rf theory does not depend on %s", axis);
    return -1;
  }
  for (size_t i = 0; i < g->n_x; i++) {
    *slot = g->x[i];
    cls_fit_rf_theory th;
    char e[160];
    if (cls_fit_rf_theory_loss_powerlaw((size_t)llround(N), (size_t)llround(T), ridge, noise, alpha,
                                        (size_t)llround(M), &th, e, sizeof e)) {
      snprintf(g->theory_why, sizeof g->theory_why, "%s", e);
      return -1;
    }
    g->theory[i] = th.loss;
  }
  if (slot == &N || slot == &T) g->th_exponent = alpha;
  g->th_floor = noise;
  return 0;
}

/* The Zipf memoriser (theory_zipf.h) for the real, cut and narrowed
 * sources; the fitted source's q is random, so it has none. */
static int theory_zipf(const cls_axis_run *r, const char *axis, cls_fit_axis_group *g) {
  const char *src = text(r, "source");
  cls_zipf_theory th = {0};
  if (!src) {
    snprintf(g->theory_why, sizeof g->theory_why, "the points name no source");
    return -1;
  }
  if (!strcmp(src, "real")) {
    th.source = CLS_ZIPF_REAL;
  } else if (!strcmp(src, "cut")) {
    th.source = CLS_ZIPF_CUT;
  } else if (!strcmp(src, "narrowed")) {
    th.source = CLS_ZIPF_NARROWED;
  } else {
    snprintf(g->theory_why, sizeof g->theory_why,
             !strcmp(src, "fitted") ? "no theory for the fitted source (its q is random)"
                                    : "no theory for this source");
    return -1;
  }
  double beta = num(r, "beta"), V = num(r, "vocab"), k = num(r, "cut"), bn = num(r, "beta_narrow"),
         pi = num(r, "real_fraction"), T = num(r, "samples");
  if (!isfinite(pi)) pi = 0;
  bool along_t = one_of(axis, "samples", "tokens");
  double *slot = along_t                               ? &T
                 : one_of(axis, "vocab", "n_params")   ? &V
                 : one_of(axis, "beta", NULL)          ? &beta
                 : one_of(axis, "cut", NULL)           ? &k
                 : one_of(axis, "beta_narrow", NULL)   ? &bn
                 : one_of(axis, "real_fraction", NULL) ? &pi
                                                       : NULL;
  if (!slot) {
    snprintf(g->theory_why, sizeof g->theory_why, "the zipf theory does not depend on %s", axis);
    return -1;
  }
  char e[200];
  /* Along T one pass over the V items gives every X (a pass per X would
   * take minutes at V = 10^7); along any other key each X is its own
   * model. */
  for (size_t i = 0; i < (along_t ? 1 : g->n_x); i++) {
    *slot = along_t ? 1 : g->x[i];
    th.beta = beta, th.vocab = isfinite(V) && V >= 1 ? (uint64_t)llround(V) : 0;
    th.cut = th.source == CLS_ZIPF_CUT && isfinite(k) && k >= 1 ? (uint64_t)llround(k) : th.vocab;
    th.beta_narrow = bn, th.real_fraction = pi;
    double t = T;
    const double *at = along_t ? g->x : &t;
    bool t_ok = along_t || (isfinite(t) && t >= 1);
    if (cls_zipf_theory_check(&th, e, sizeof e) || !t_ok ||
        cls_zipf_expected(&th, at, along_t ? g->n_x : 1, &g->theory[i], e, sizeof e)) {
      snprintf(g->theory_why, sizeof g->theory_why, "%s", t_ok ? e : "the points have no samples");
      return -1;
    }
  }
  cls_zipf_asymptote a;
  if (cls_zipf_asymptote_of(&th, &a, e, sizeof e) == CLS_OK) {
    g->th_floor = a.floor;
    if (along_t) g->th_exponent = a.exponent;
  }
  return 0;
}

/* The theory at the group's X, the same law fitted to it, and the worst
 * ratio of measured to theory. */
static void theory_group(const cls_axis_input *in, const grp_data *d, const char *axis, bool floor_zero,
                         const cls_fit_options *o, cls_fit_axis_group *g) {
  const cls_axis_run *r = &in->runs[d->runs[0]];
  const char *task = text(r, "task");
  int rc = -1;
  if (task && !strcmp(task, "rf"))
    rc = theory_rf(r, axis, g);
  else if (task && !strcmp(task, "zipf"))
    rc = theory_zipf(r, axis, g);
  else
    snprintf(g->theory_why, sizeof g->theory_why, "no theory for task %s", task ? task : "(none)");
  if (rc) {
    for (size_t i = 0; i < g->n_x; i++) g->theory[i] = NAN;
    g->th_exponent = g->th_floor = NAN;
    return;
  }
  g->has_theory = true;
  double *x = malloc((g->n_x ? g->n_x : 1) * sizeof *x), *l = malloc((g->n_x ? g->n_x : 1) * sizeof *l);
  size_t m = 0;
  g->th_max_dev = 0;
  for (size_t i = 0; i < g->n_x; i++) {
    if (!(isfinite(g->theory[i]) && g->theory[i] > 0)) continue;
    g->th_max_dev = fmax(g->th_max_dev, fabs(g->loss[i] / g->theory[i] - 1));
    if (x && l) x[m] = g->x[i], l[m++] = g->theory[i];
  }
  if (!m) g->th_max_dev = NAN;
  double p[3];
  if (m >= AX_MIN_X && !cls__fit_power_law(x, l, m, o->huber_delta, floor_zero, NULL, p, NULL))
    g->th_E = p[0], g->th_A = p[1], g->th_gamma = p[2];
  free(x), free(l);
}

/* ------------------------------------------------------------- the run */

void cls_fit_axis_free(cls_fit_axis *a) {
  if (!a) return;
  for (size_t i = 0; i < a->n_groups; i++) {
    cls_fit_axis_group *g = &a->groups[i];
    free(g->config), free(g->x), free(g->loss), free(g->n_obs), free(g->theory);
  }
  free(a->groups);
  memset(a, 0, sizeof *a);
}

static uint32_t fnv32(const char *s) {
  uint32_t h = 2166136261u;
  for (; *s; s++) h = (h ^ (uint8_t)*s) * 16777619u;
  return h;
}

/* "key=value\n" of every group key, and the label of the varying ones. */
static cls_status describe(const cls_axis_run *r, const char **keys, size_t n_keys, const bool *varies,
                           cls_fit_axis_group *g) {
  size_t len = 1, used = 0, lused = 0;
  char v[64];
  for (size_t k = 0; k < n_keys; k++) len += strlen(keys[k]) + sizeof v + 2;
  if (!(g->config = malloc(len))) return CLS_ERR_OUT_OF_MEMORY;
  g->config[0] = '\0';
  g->label[0] = '\0';
  for (size_t k = 0; k < n_keys; k++) {
    value_text(get(r, keys[k]), v, sizeof v);
    used += (size_t)snprintf(g->config + used, len - used, "%s=%s\n", keys[k], v);
    if (varies[k] && lused < sizeof g->label) {
      int w = snprintf(g->label + lused, sizeof g->label - lused, "%s%s=%s", lused ? " " : "", keys[k], v);
      if (w > 0) lused += (size_t)w;
    }
  }
  if (!lused) snprintf(g->label, sizeof g->label, "all");
  return CLS_OK;
}

cls_status cls_fit_axis_run(const cls_axis_input *in, const char *axis, bool floor_zero, const cls_fit_options *o,
                            cls_fit_axis *out, char *err, size_t err_len) {
  if (!in || !axis || !o || !out) return CLS_ERR_NULL_ARGUMENT;
  memset(out, 0, sizeof *out);
  if (!axis[0]) return cls_errf(err, err_len, CLS_ERR_INVALID_VALUE, "an empty axis name");
  cls_status st = check_axis(in, axis, err, err_len);
  if (st) return st;
  snprintf(out->axis, sizeof out->axis, "%s", axis);
  out->floor_zero = floor_zero;
  out->n_runs = in->n_runs;
  /* The memoriser has no schedule: its error after T samples on the way to
   * a larger T is the error of a run of T samples, so each row of its
   * learning curve is a point of the samples axis. */
  if (!strcmp(in->task, "zipf") && one_of(axis, "samples", "tokens"))
    for (size_t i = 0; i < in->n_runs && !out->from_curves; i++) out->from_curves = in->runs[i].curve_n > 0;
  size_t n_keys;
  const char **keys = group_keys(in, axis, &n_keys);
  size_t *gid = malloc(in->n_runs * sizeof *gid), *rep = malloc(in->n_runs * sizeof *rep);
  bool *varies = calloc(n_keys ? n_keys : 1, sizeof *varies);
  grp_data *gd = calloc(in->n_runs, sizeof *gd);
  if (!keys || !gid || !rep || !varies || !gd) {
    st = CLS_ERR_OUT_OF_MEMORY;
    goto done;
  }
  /* groups: runs equal on every group key */
  size_t ng = 0;
  for (size_t i = 0; i < in->n_runs; i++) {
    size_t g = 0;
    for (; g < ng; g++) {
      bool eq = true;
      for (size_t k = 0; k < n_keys && eq; k++)
        eq = same(get(&in->runs[i], keys[k]), get(&in->runs[rep[g]], keys[k]));
      if (eq) break;
    }
    if (g == ng) rep[ng++] = i;
    gid[i] = g;
  }
  for (size_t k = 0; k < n_keys; k++)
    for (size_t g = 1; g < ng && !varies[k]; g++)
      varies[k] = !same(get(&in->runs[rep[0]], keys[k]), get(&in->runs[rep[g]], keys[k]));
  /* sorted by the values of the varying keys (insertion sort: few groups) */
  size_t *perm = malloc((ng ? ng : 1) * sizeof *perm);
  if (!perm) {
    st = CLS_ERR_OUT_OF_MEMORY;
    goto done;
  }
  for (size_t g = 0; g < ng; g++) perm[g] = g;
  for (size_t i = 1; i < ng; i++)
    for (size_t j = i; j > 0; j--) {
      int c = 0;
      for (size_t k = 0; k < n_keys && !c; k++)
        if (varies[k]) c = order(get(&in->runs[rep[perm[j - 1]]], keys[k]), get(&in->runs[rep[perm[j]]], keys[k]));
      if (c <= 0) break;
      size_t t = perm[j];
      perm[j] = perm[j - 1], perm[j - 1] = t;
    }
  out->groups = calloc(ng ? ng : 1, sizeof *out->groups);
  if (!out->groups) {
    free(perm);
    st = CLS_ERR_OUT_OF_MEMORY;
    goto done;
  }
  out->n_groups = ng;
  for (size_t q = 0; q < ng && !st; q++) {
    size_t g = perm[q];
    grp_data *d = &gd[g];
    cls_fit_axis_group *G = &out->groups[q];
    G->E = G->A = G->gamma = G->objective = NAN;
    G->E_ci.lo = G->E_ci.hi = G->A_ci.lo = G->A_ci.hi = G->gamma_ci.lo = G->gamma_ci.hi = NAN;
    G->th_exponent = G->th_floor = G->th_E = G->th_A = G->th_gamma = G->th_max_dev = NAN;
    if (!(d->runs = malloc(in->n_runs * sizeof *d->runs))) {
      st = CLS_ERR_OUT_OF_MEMORY;
      break;
    }
    for (size_t i = 0; i < in->n_runs; i++)
      if (gid[i] == g) d->runs[d->n_runs++] = i;
    G->n_runs = d->n_runs;
    st = describe(&in->runs[rep[g]], keys, n_keys, varies, G);
    if (!st) st = gather(in, axis, out->from_curves, d, G, &out->n_zero_loss);
    if (!st) st = fit_group(in, axis, floor_zero, o, AX_STREAM ^ (fnv32(axis) + (uint32_t)q), d, G);
    if (!st) theory_group(in, d, axis, floor_zero, o, G);
    out->n_fitted += G->ok;
  }
  free(perm);
done:
  if (gd)
    for (size_t g = 0; g < in->n_runs; g++) free_grp(&gd[g]);
  free(gd), free(keys), free(gid), free(rep), free(varies);
  if (st) {
    cls_fit_axis_free(out);
    if (st == CLS_ERR_OUT_OF_MEMORY) cls_errf(err, err_len, st, "out of host memory fitting along %s", axis);
  }
  return st;
}
