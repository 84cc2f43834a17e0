/* src/train/models.c — see models.h and models_internal.h. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "clscale/ops.h"
#include "core/clock.h"
#include "models_internal.h"
#include "train/models.h"
#include "train/schedule.h"

/* ------------------------------------------------------------- the steps */

typedef struct {
  cls_context *ctx;
  cls__models *g;
  const cls_train_config *c;
  const cls__models_plan *p;
  const cls__models_hooks *h;
  size_t S;
  double *lr_now;      /* K: each model's rate of its last update */
  float *lr;           /* K: this step's rates, for the one AdamW launch */
  unsigned long *step; /* K: each model's step number, likewise */
  /* The losses of a step are read while the next step is queued, as in
   * loop.c: two slots, at most one in flight between steps. */
  struct {
    cls_transfer *read;
    float *value; /* K */
    uint64_t step;
    size_t active;
  } slot[2];
  int next;
  char *err;
  size_t err_len;
} engine;

static cls_status fail(engine *e, cls_status s, const char *what) {
  const char *why = cls_last_error(e->ctx);
  if (!e->err[0]) snprintf(e->err, e->err_len, "%s: %s", what, why && *why ? why : cls_status_name(s));
  return s;
}

/* Waits for the reads in flight, oldest first, leaving at most keep. */
static cls_status settle(engine *e, int keep) {
  for (int j = 0; j < 2; j++) {
    const int i = (e->next + j) & 1;
    if (!e->slot[i].read) continue;
    if (!!e->slot[0].read + !!e->slot[1].read <= keep) break;
    cls_status s = cls_transfer_wait(e->slot[i].read);
    e->slot[i].read = NULL;
    if (s != CLS_OK) return fail(e, s, "reading the training losses");
    for (size_t k = 0; k < e->slot[i].active; k++) e->h->loss(e->h->user, k, e->slot[i].step, e->slot[i].value[k]);
  }
  return CLS_OK;
}

/* One step of the first `active` models, queued without waiting. */
static cls_status step(engine *e, size_t active, uint64_t s) {
  cls_context *ctx = e->ctx;
  const cls_train_config *c = e->c;
  const cls_param_table *pt = e->g->ops->params(e->g->impl);
  cls_param_slabs *sl = e->g->ops->slabs(e->g->impl);
  cls_status st = cls_buffer_fill(ctx, sl->grads, 0, active * e->S, 0.0f);
  if (st != CLS_OK) return fail(e, st, "zeroing the gradients");
  st = e->g->ops->train_step(e->g->impl, active, s, e->err, e->err_len);
  if (st != CLS_OK) return fail(e, st, "training step");
  const int i = e->next;
  e->slot[i].step = s;
  e->slot[i].active = active;
  cls_ref loss = e->g->ops->loss_ref(e->g->impl);
  st = cls_buffer_read_async(ctx, loss.buf, loss.offset, active, e->slot[i].value, &e->slot[i].read);
  if (st != CLS_OK) return fail(e, st, "reading the training losses");
  e->next ^= 1;
  /* All models' norms and updates in a fixed number of launches, each
   * model with its own schedule's rate: the same bits as one by one. */
  for (size_t k = 0; k < active; k++) {
    e->lr_now[k] = cls_schedule_lr(e->p->lr[k], c->min_lr_ratio, e->p->warmup[k], e->p->total[k], s);
    e->lr[k] = (float)e->lr_now[k];
    e->step[k] = (unsigned long)(s + 1);
  }
  st = cls_param_adamw_models(ctx, pt, sl, active, e->lr, (float)c->beta1, (float)c->beta2, (float)c->eps, e->step,
                              (float)c->clip);
  if (st != CLS_OK) return fail(e, st, "AdamW step");
  return settle(e, 1);
}

/* After `done` steps of the first `active` models: the evaluations due. */
static cls_status evaluate(engine *e, size_t active, uint64_t done, double *eval_loss) {
  int any = 0;
  for (size_t k = 0; k < active; k++) any |= e->h->eval_due(e->h->user, k, done);
  if (!any) return CLS_OK;
  cls_status s = settle(e, 0);
  if (s != CLS_OK) return s;
  s = e->g->ops->evaluate(e->g->impl, active, e->c->eval_batches, eval_loss, e->err, e->err_len);
  if (s != CLS_OK) return fail(e, s, "evaluation");
  for (size_t k = 0; k < active && s == CLS_OK; k++)
    if (e->h->eval_due(e->h->user, k, done)) s = e->h->evaluated(e->h->user, k, done, e->lr_now[k], eval_loss[k]);
  return s;
}

/* Step `s` of the group and what follows it: the evaluations, the ends of
 * budgets, a save or a stop (*stop). */
static cls_status one_step(engine *e, size_t active, uint64_t s, double *eval_loss, int *stop) {
  const uint64_t *total = e->p->total;
  cls_status st = step(e, active, s);
  /* A model's last step: its loss before its final row. */
  if (st == CLS_OK && total[active - 1] == s + 1) st = settle(e, 0);
  if (st == CLS_OK) st = evaluate(e, active, s + 1, eval_loss);
  for (size_t k = 0; st == CLS_OK && e->h->ended && k < active; k++)
    if (total[k] == s + 1) st = e->h->ended(e->h->user, k, s + 1);
  if (st != CLS_OK || !e->h->next) return st;
  const cls__models_next n = e->h->next(e->h->user, s + 1, active);
  if (n == CLS__MODELS_GO_ON) return CLS_OK;
  st = settle(e, 0);
  if (st == CLS_OK) st = e->h->save(e->h->user, s + 1, active, n == CLS__MODELS_STOP);
  *stop = n == CLS__MODELS_STOP;
  return st;
}

cls_status cls__models_steps(cls_context *ctx, cls__models *g, const cls_train_config *c,
                             const cls__models_plan *p, const cls__models_hooks *h, double *samples, char *err,
                             size_t err_len) {
  const size_t K = p->K;
  engine e = {.ctx = ctx, .g = g, .c = c, .p = p, .h = h, .err = err, .err_len = err_len};
  e.S = g->ops->params(g->impl)->total;
  e.lr_now = calloc(K, sizeof *e.lr_now);
  e.lr = calloc(K, sizeof *e.lr);
  e.step = calloc(K, sizeof *e.step);
  e.slot[0].value = calloc(K, sizeof(float));
  e.slot[1].value = calloc(K, sizeof(float));
  double *eval_loss = calloc(K, sizeof *eval_loss);
  cls_status s = CLS_OK;
  if (!e.lr_now || !e.lr || !e.step || !e.slot[0].value || !e.slot[1].value || !eval_loss) {
    snprintf(err, err_len, "out of host memory");
    s = CLS_ERR_OUT_OF_MEMORY;
  }
  /* The rate of a resumed model's last update, for its rows before its
   * first step here. */
  for (size_t k = 0; s == CLS_OK && k < K && p->first; k++)
    e.lr_now[k] = cls_schedule_lr(p->lr[k], c->min_lr_ratio, p->warmup[k], p->total[k], p->first - 1);
  const double tps = g->ops->tokens_per_step(g->impl);
  size_t active = K;
  int stop = 0;
  for (uint64_t st = p->first; s == CLS_OK && !stop && st < p->total[0]; st++) {
    while (active > 1 && p->total[active - 1] <= st) active--;
    s = one_step(&e, active, st, eval_loss, &stop);
    *samples += (double)active * tps;
  }
  cls_status w = settle(&e, 0);
  if (s == CLS_OK) s = w;
  if (s == CLS_OK) s = cls_finish(ctx);
  free(e.lr_now);
  free(e.lr);
  free(e.step);
  free(e.slot[0].value);
  free(e.slot[1].value);
  free(eval_loss);
  return s;
}

/* ------------------------------------------------- results in memory */

/* One model's state in cls_models_train. */
typedef struct {
  uint64_t total, warmup;
  uint64_t *evals;
  size_t n_evals, next_eval;
  double acc_sum; /* as the loop's checkpoint state: the losses since the last row */
  uint64_t acc_count;
  int done; /* diverged: nothing more is logged */
} member_state;

typedef struct {
  const cls_model_member *mem;
  cls_models_result *r;
  member_state *ms;
  double tps;
} in_memory;

/* User + system CPU seconds of the process (every thread: a CPU device's
 * workers too). */
static double cpu_now(void) {
  struct rusage ru;
  if (getrusage(RUSAGE_SELF, &ru) != 0) return 0;
  return (double)ru.ru_utime.tv_sec + 1e-6 * (double)ru.ru_utime.tv_usec + (double)ru.ru_stime.tv_sec +
         1e-6 * (double)ru.ru_stime.tv_usec;
}

/* A step's loss, now known (loop.c's account_loss for each model). */
static void mem_loss(void *user, size_t k, uint64_t step, float loss) {
  in_memory *u = user;
  member_state *m = &u->ms[k];
  cls_model_outcome *o = &u->r->out[k];
  if (m->done) return;
  o->losses[step] = loss;
  if (!isfinite(loss)) {
    m->done = 1;
    o->diverged = 1;
    o->steps_done = step + 1;
    return;
  }
  m->acc_sum += loss;
  m->acc_count++;
  o->steps_done = step + 1;
}

static int mem_eval_due(void *user, size_t k, uint64_t done) {
  in_memory *u = user;
  const member_state *m = &u->ms[k];
  return !m->done && m->next_eval < m->n_evals && m->evals[m->next_eval] == done;
}

static cls_status mem_evaluated(void *user, size_t k, uint64_t done, double lr, double eval_loss) {
  in_memory *u = user;
  member_state *m = &u->ms[k];
  cls_model_outcome *o = &u->r->out[k];
  m->next_eval++;
  cls_eval_row row = {done, (double)done * u->tps, 0, 0, m->acc_sum / (double)m->acc_count, eval_loss, lr, 0};
  o->rows[o->n_rows++] = row;
  m->acc_sum = 0;
  m->acc_count = 0;
  if (!isfinite(eval_loss)) {
    m->done = 1;
    o->diverged = 1;
  }
  return CLS_OK;
}

/* The schedule's and AdamW's settings, as the train loop checks them, and
 * each model's plan. */
static cls_status setup(in_memory *u, const cls_train_config *c, size_t K, uint64_t *total, uint64_t *warmup,
                        double *lr) {
  cls_models_result *r = u->r;
  if (!(c->min_lr_ratio >= 0 && c->min_lr_ratio <= 1) || !(c->warmup_fraction < 1) ||
      !(c->beta1 >= 0 && c->beta1 < 1) || !(c->beta2 >= 0 && c->beta2 < 1) || !(c->eps > 0) || !isfinite(c->eps) ||
      !(c->clip >= 0) || !isfinite(c->clip) || (!c->eval_every && !c->evals) || !c->eval_batches) {
    snprintf(
        r->error, sizeof r->error,
        "a bad schedule: min lr ratio in [0, 1], warm-up fraction below 1, betas in [0, 1), eps > 0, clip "
        ">= 0, and at least one evaluation of at least one batch (got %g, %g, %g, %g, %g, %g, %zu / %llu, %zu)",
        c->min_lr_ratio, c->warmup_fraction, c->beta1, c->beta2, c->eps, c->clip, c->evals,
        (unsigned long long)c->eval_every, c->eval_batches);
    return CLS_ERR_INVALID_VALUE;
  }
  for (size_t k = 0; k < K; k++) {
    const cls_model_member *mb = &u->mem[k];
    if (!mb->steps || mb->steps > (uint64_t)1e15 || !(mb->lr > 0) || !isfinite(mb->lr) ||
        (k && mb->steps > u->mem[k - 1].steps)) {
      snprintf(r->error, sizeof r->error,
               "model %zu: %llu steps at lr %g; every model needs 1 to 1e15 steps, in non-increasing order, and a "
               "positive finite lr",
               k, (unsigned long long)mb->steps, mb->lr);
      return CLS_ERR_INVALID_VALUE;
    }
    member_state *m = &u->ms[k];
    m->total = total[k] = mb->steps;
    m->warmup =
        c->warmup_fraction >= 0 ? (uint64_t)llround(c->warmup_fraction * (double)m->total) : c->warmup_steps;
    if (m->warmup > m->total) m->warmup = m->total;
    warmup[k] = m->warmup;
    lr[k] = mb->lr;
    m->evals = cls_schedule_eval_steps(m->total, c->eval_every, c->evals, &m->n_evals);
    cls_model_outcome *o = &r->out[k];
    o->losses = calloc(m->total, sizeof *o->losses);
    o->rows = calloc(m->n_evals ? m->n_evals : 1, sizeof *o->rows);
    if (!m->evals || !o->losses || !o->rows) {
      snprintf(r->error, sizeof r->error, "out of host memory");
      return CLS_ERR_OUT_OF_MEMORY;
    }
  }
  return CLS_OK;
}

cls_status cls_models_train(cls_context *ctx, const cls_task_spec *spec, const cls_train_config *cfg, size_t K,
                            const cls_model_member *members, cls_models_result *r) {
  memset(r, 0, sizeof *r);
  if (!ctx || !spec || !cfg || !members || !K) {
    snprintf(r->error, sizeof r->error, "cls_models_train: a NULL argument or no models");
    return CLS_ERR_NULL_ARGUMENT;
  }
  in_memory u = {.mem = members, .r = r};
  r->models = K;
  r->out = calloc(K, sizeof *r->out);
  u.ms = calloc(K, sizeof *u.ms);
  uint64_t *seeds = malloc(K * sizeof *seeds), *total = malloc(K * sizeof *total),
           *warmup = malloc(K * sizeof *warmup);
  double *lr = malloc(K * sizeof *lr);
  cls_status s = CLS_OK;
  if (!r->out || !u.ms || !seeds || !total || !warmup || !lr) {
    snprintf(r->error, sizeof r->error, "out of host memory");
    s = CLS_ERR_OUT_OF_MEMORY;
  }
  if (s == CLS_OK) s = setup(&u, cfg, K, total, warmup, lr);
  cls__models *g = NULL;
  if (s == CLS_OK) {
    for (size_t k = 0; k < K; k++) seeds[k] = members[k].seed;
    s = cls__models_create(ctx, spec, K, seeds, &g, r->error, sizeof r->error);
  }
  if (s == CLS_OK) {
    u.tps = g->ops->tokens_per_step(g->impl);
    const cls__models_plan plan = {K, total, warmup, lr, 0};
    const cls__models_hooks hooks = {
        .user = &u, .loss = mem_loss, .eval_due = mem_eval_due, .evaluated = mem_evaluated};
    const double t0 = cls_now(), c0 = cpu_now();
    s = cls__models_steps(ctx, g, cfg, &plan, &hooks, &r->samples, r->error, sizeof r->error);
    r->steps = members[0].steps;
    r->seconds = cls_now() - t0;
    r->cpu_seconds = cpu_now() - c0;
  }
  cls__models_destroy(g);
  for (size_t k = 0; u.ms && k < K; k++) free(u.ms[k].evals);
  free(u.ms);
  free(seeds);
  free(total);
  free(warmup);
  free(lr);
  return s;
}

/* ------------------------------------------------------------ timing */

static void ignore_loss(void *user, size_t k, uint64_t step, float loss) {
  (void)user, (void)k, (void)step, (void)loss;
}
static int no_eval(void *user, size_t k, uint64_t done) {
  (void)user, (void)k, (void)done;
  return 0;
}

/* Steps first .. last - 1 of the group g at one rate, nothing logged. */
static cls_status run_steps(cls_context *ctx, cls__models *g, const cls_train_config *cfg, size_t K,
                            uint64_t first, uint64_t last, double lr, char *err, size_t err_len) {
  uint64_t total[64], warmup[64];
  double rate[64];
  for (size_t k = 0; k < K; k++) {
    total[k] = last;
    warmup[k] = 0;
    rate[k] = lr;
  }
  const cls__models_plan plan = {K, total, warmup, rate, first};
  const cls__models_hooks hooks = {.loss = ignore_loss, .eval_due = no_eval};
  double samples = 0;
  return cls__models_steps(ctx, g, cfg, &plan, &hooks, &samples, err, err_len);
}

cls_status cls_models_time(cls_context *ctx, const cls_task_spec *spec, const cls_train_config *cfg, size_t K,
                           size_t min_steps, double min_seconds, cls_models_timing *out, char *err,
                           size_t err_len) {
  memset(out, 0, sizeof *out);
  if (!ctx || !spec || !cfg || !out) {
    snprintf(err, err_len, "cls_models_time: a NULL argument");
    return CLS_ERR_NULL_ARGUMENT;
  }
  if (!K || K > 64 || !min_steps || min_steps > 100000 || !(min_seconds >= 0)) {
    snprintf(err, err_len, "cls_models_time: %zu models, %zu steps, %g s: 1 to 64 models, 1 to 1e5 steps", K,
             min_steps, min_seconds);
    return CLS_ERR_INVALID_VALUE;
  }
  uint64_t seeds[64];
  for (size_t k = 0; k < K; k++) seeds[k] = spec->seed + k;
  cls__models *g = NULL;
  cls_status s = cls__models_create(ctx, spec, K, seeds, &g, err, err_len);
  const double lr = 1e-3; /* small: a timing run must not diverge into slower denormals or NaN paths */
  /* Two untimed steps (the first builds the kernels), then a short timed
   * run that sizes the timed one: at least min_steps and min_seconds, at
   * most 500 steps. */
  if (s == CLS_OK) s = run_steps(ctx, g, cfg, K, 0, 2, lr, err, err_len);
  double t0 = cls_now(), probe = 0;
  if (s == CLS_OK) s = run_steps(ctx, g, cfg, K, 2, 4, lr, err, err_len);
  if (s == CLS_OK) probe = (cls_now() - t0) / 2;
  size_t n = min_steps;
  if (probe > 0 && (double)n * probe < min_seconds) n = (size_t)fmin(500, ceil(min_seconds / probe));
  cls_counters c0, c1;
  if (s == CLS_OK) s = cls_counters_get(ctx, &c0);
  t0 = cls_now();
  if (s == CLS_OK) s = run_steps(ctx, g, cfg, K, 4, 4 + n, lr, err, err_len);
  const double t1 = cls_now();
  if (s == CLS_OK) s = cls_counters_get(ctx, &c1);
  if (s == CLS_OK) {
    out->steps = n;
    out->seconds_per_step = (t1 - t0) / (double)n;
    out->flops_per_model_step = (c1.flops - c0.flops) / ((double)n * (double)K);
    out->tokens_per_model_step = g->ops->tokens_per_step(g->impl);
  }
  cls__models_destroy(g);
  return s;
}

void cls_models_free(cls_models_result *r) {
  if (!r || !r->out) return;
  for (size_t k = 0; k < r->models; k++) {
    free(r->out[k].losses);
    free(r->out[k].rows);
  }
  free(r->out);
  r->out = NULL;
}
