/*
 * src/train/task_zipf.c — the task `zipf`: the memoriser of "A Tale of
 * Tails" (data/memoriser.h), whose exact learning curve is
 * fit/theory_zipf.h. A solved task: a point learns T = its token budget
 * training samples from its source, and its loss is the real-data mass of
 * the items it has not seen, exact from what it has seen. The learner's
 * curve comes free on the way, so a point reports it at up to `evals`
 * log-spaced T.
 *
 * Spec fields: `beta`, `vocab` V, `source` (real, cut, narrowed, fitted),
 * `cut` k, `beta_narrow` beta', `fit_samples` T0, `real_fraction` pi; the
 * seed draws the training samples and `data_seed` the fitted source's T0
 * real samples (so the seeds of a sweep share one fitted generator, as one
 * generation of the paper's experiment does).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/err.h"
#include "core/fmt.h"
#include "data/memoriser.h"
#include "task_internal.h"
#include "train/schedule.h"

/* ------------------------------------------------------------ the model */

/* The memoriser has no size to grid over: its table is the V items. */
static cls_status memoriser_check(const cls_task_spec *spec, char *err, size_t err_len) {
  (void)spec;
  (void)err;
  (void)err_len;
  return CLS_OK;
}

static void memoriser_count(const cls_task_spec *spec, size_t width, size_t depth, double *n, double *n_embed) {
  (void)width;
  (void)depth;
  *n = (double)spec->vocab; /* one "seen" bit per item */
  *n_embed = 0;
}

static const cls_model_info memoriser_model = {
    .name = "memoriser", .count_params = memoriser_count, .check = memoriser_check, .shapeless = 1};

/* -------------------------------------------------------------- the task */

/* The memoriser's config of spec: CLS_OK, or a bad `source` named. */
static cls_status config_of(const cls_task_spec *spec, cls_memoriser_config *c, char *err, size_t err_len) {
  cls_memoriser_config_default(c);
  const char *src = spec->source ? spec->source : "real";
  int kind = -1;
  for (int k = CLS_MEMORISER_REAL; k <= CLS_MEMORISER_FITTED; k++)
    if (!strcmp(src, cls_memoriser_kind_name((cls_memoriser_kind)k))) kind = k;
  if (kind < 0) {
    snprintf(err, err_len, "`source` '%s': use real, cut, narrowed or fitted", src);
    return CLS_ERR_INVALID_VALUE;
  }
  if (kind == CLS_MEMORISER_CUT && !spec->cut) {
    snprintf(err, err_len,
             "`source` cut needs `cut`: the rank k beyond which the tail is cut (1 <= k <= `vocab`)");
    return CLS_ERR_INVALID_VALUE;
  }
  c->kind = (cls_memoriser_kind)kind;
  c->beta = spec->beta;
  c->vocab = spec->vocab;
  c->cut = spec->cut ? spec->cut : spec->vocab;
  c->beta_narrow = spec->beta_narrow;
  c->fit_samples = spec->fit_samples;
  c->real_fraction = spec->real_fraction;
  c->seed = spec->seed;
  c->fit_seed = spec->data_seed;
  return CLS_OK;
}

static cls_status zipf_check(const cls_task_spec *spec, char *err, size_t err_len) {
  cls_memoriser_config c;
  cls_status s = config_of(spec, &c, err, err_len);
  return s == CLS_OK ? cls_memoriser_config_check(&c, err, err_len) : s;
}

static cls_status zipf_bytes(const cls_task_spec *spec, uint64_t samples, uint64_t *bytes, char *err,
                             size_t err_len) {
  (void)samples; /* the learner's memory does not grow with T */
  cls_memoriser_config c;
  *bytes = 0;
  cls_status s = config_of(spec, &c, err, err_len);
  if (s != CLS_OK) return s;
  size_t b = cls_memoriser_bytes(&c), l = cls_memoriser_learner_bytes(c.vocab);
  if (!b || !l)
    return cls_errf(err, err_len, CLS_ERR_INVALID_SIZE, "zipf: `vocab` %llu overflows a memory count",
                    (unsigned long long)c.vocab);
  *bytes = (uint64_t)b + (uint64_t)l;
  return CLS_OK;
}

/* The configuration lines of the point (docs/theory.md names them): every
 * field, whatever the source, so that points group the same way. */
static void zipf_key(const cls_memoriser_config *c, uint64_t samples, char *out, size_t len) {
  char f[3][40];
  snprintf(out, len,
           "task=zipf\nmodel=memoriser\nsamples=%llu\nbeta=%s\nvocab=%llu\nsource=%s\ncut=%llu\nbeta_narrow=%s\n"
           "fit_samples=%llu\nfit_seed=%llu\nreal_fraction=%s\nseed=%llu\n",
           (unsigned long long)samples, cls_fmt_shortest(c->beta, 0, f[0], 40), (unsigned long long)c->vocab,
           cls_memoriser_kind_name(c->kind), (unsigned long long)c->cut,
           cls_fmt_shortest(c->beta_narrow, 0, f[1], 40), (unsigned long long)c->fit_samples,
           (unsigned long long)c->fit_seed, cls_fmt_shortest(c->real_fraction, 0, f[2], 40),
           (unsigned long long)c->seed);
}

/* Learns along the log-spaced T of the curve, checking *stop between them. */
static cls_status learn_curve(const cls_memoriser *m, uint64_t seed, uint64_t samples,
                              const volatile sig_atomic_t *stop, cls_solve_output *out, char *err,
                              size_t err_len) {
  size_t n = 0;
  uint64_t *T = cls_schedule_eval_steps(samples, 0, out->cap, &n);
  cls_memoriser_learner *l = NULL;
  cls_status s = T ? cls_memoriser_learner_create(m, seed, &l, err, err_len) : CLS_ERR_OUT_OF_MEMORY;
  if (!T) snprintf(err, err_len, "zipf: out of host memory for the curve's %zu points", out->cap);
  const double t0 = cls_now();
  for (size_t j = 0; s == CLS_OK && j < n && j < out->cap; j++) {
    if (stop && *stop) {
      out->stopped = 1;
      break;
    }
    s = cls_memoriser_learn(m, l, T[j], err, err_len);
    if (s == CLS_OK)
      out->rows[out->n_rows++] = (cls_solve_row){T[j], cls_memoriser_learner_error(l), 0, cls_now() - t0};
  }
  cls_memoriser_learner_destroy(l);
  free(T);
  return s;
}

static cls_status zipf_solve(cls_context *ctx, const cls_task_spec *spec, uint64_t samples,
                             const volatile sig_atomic_t *stop, cls_solve_output *out, char *err, size_t err_len) {
  (void)ctx; /* the memoriser counts on the host */
  out->n_rows = 0;
  out->stopped = 0;
  cls_status s = cls__task_check_spec(&cls__task_zipf, spec, err, err_len);
  cls_memoriser_config c;
  if (s == CLS_OK) s = config_of(spec, &c, err, err_len);
  if (s != CLS_OK) return s;
  if (!out->cap) {
    snprintf(err, err_len, "zipf: no room for the curve's rows");
    return CLS_ERR_INVALID_SIZE;
  }
  out->n_params = (double)c.vocab;
  zipf_key(&c, samples, out->key, sizeof out->key);
  snprintf(out->describe, sizeof out->describe, "memoriser of %llu Zipf items (beta %g), source %s, T %llu",
           (unsigned long long)c.vocab, c.beta, cls_memoriser_kind_name(c.kind), (unsigned long long)samples);
  cls_memoriser *m = NULL;
  s = cls_memoriser_create(&c, &m, err, err_len);
  if (s == CLS_OK) s = learn_curve(m, c.seed, samples, stop, out, err, err_len);
  if (s == CLS_OK) {
    char f[40];
    snprintf(out->trailer, sizeof out->trailer, "floor=%s\n", cls_fmt_shortest(cls_memoriser_floor(m), 0, f, 40));
  }
  cls_memoriser_destroy(m);
  return s;
}

static const char *const zipf_fields[] = {"beta",        "vocab",       "source",        "cut",
                                          "beta_narrow", "fit_samples", "real_fraction", NULL};

const cls_task_info cls__task_zipf = {
    .task = "zipf",
    .model = &memoriser_model,
    .summary = "the Zipf memoriser of \"A Tale of Tails\", solved exactly (a solvable scaling model)",
    .fields = zipf_fields,
    .check = zipf_check,
    .solve = zipf_solve,
    .solve_bytes = zipf_bytes,
    .solve_on_host = 1};
