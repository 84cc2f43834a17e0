/* src/train/models.c — see models.h. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "clscale/ops.h"
#include "core/clock.h"
#include "nn/emulator.h"
#include "task_internal.h"
#include "train/models.h"
#include "train/schedule.h"

/* One model's state in the loop. */
typedef struct {
  uint64_t total, warmup;
  uint64_t *evals;
  size_t n_evals, next_eval, rows_cap;
  double acc_sum; /* as the loop's checkpoint state: the losses since the last row */
  uint64_t acc_count;
  double lr_now; /* the rate of its last update */
  int done;      /* diverged: nothing more is logged */
} member_state;

typedef struct {
  cls_context *ctx;
  const cls_train_config *c;
  const cls_model_member *mem;
  cls_models_result *r;
  cls__emu_models *g;
  cls_emulator *em;
  size_t K, S;
  double tps;
  member_state *ms;
  double *eval_loss;   /* K */
  float *lr;           /* K: each model's rate this step, for the one AdamW launch */
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
} group;

/* User + system CPU seconds of the process (every thread: a CPU device's
 * workers too). */
static double cpu_now(void) {
  struct rusage ru;
  if (getrusage(RUSAGE_SELF, &ru) != 0) return 0;
  return (double)ru.ru_utime.tv_sec + 1e-6 * (double)ru.ru_utime.tv_usec + (double)ru.ru_stime.tv_sec +
         1e-6 * (double)ru.ru_stime.tv_usec;
}

static cls_status fail(group *u, cls_status s, const char *what) {
  const char *why = cls_last_error(u->ctx);
  if (!u->r->error[0])
    snprintf(u->r->error, sizeof u->r->error, "%s: %s", what, why && *why ? why : cls_status_name(s));
  return s;
}

/* A step's losses, now known (loop.c's account_loss for each model). */
static void account(group *u, size_t k, uint64_t step, float loss) {
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

/* Waits for the reads in flight, oldest first, leaving at most keep. */
static cls_status settle(group *u, int keep) {
  for (int j = 0; j < 2; j++) {
    const int i = (u->next + j) & 1;
    if (!u->slot[i].read) continue;
    if (!!u->slot[0].read + !!u->slot[1].read <= keep) break;
    cls_status s = cls_transfer_wait(u->slot[i].read);
    u->slot[i].read = NULL;
    if (s != CLS_OK) return fail(u, s, "reading the training losses");
    for (size_t k = 0; k < u->slot[i].active; k++) account(u, k, u->slot[i].step, u->slot[i].value[k]);
  }
  return CLS_OK;
}

/* One step of the first `active` models, queued without waiting. */
static cls_status step(group *u, size_t active, uint64_t s) {
  cls_context *ctx = u->ctx;
  const cls_train_config *c = u->c;
  const cls_param_table *pt = cls_emulator_params(u->em);
  cls_param_slabs *sl = cls_emulator_slabs(u->em);
  cls_status st = cls_buffer_fill(ctx, sl->grads, 0, active * u->S, 0.0f);
  if (st != CLS_OK) return fail(u, st, "zeroing the gradients");
  st = cls__emu_models_train_step(u->g, active, s, u->r->error, sizeof u->r->error);
  if (st != CLS_OK) return fail(u, st, "training step");
  const int i = u->next;
  u->slot[i].step = s;
  u->slot[i].active = active;
  cls_ref loss = cls_emulator_loss_ref(u->em);
  st = cls_buffer_read_async(ctx, loss.buf, loss.offset, active, u->slot[i].value, &u->slot[i].read);
  if (st != CLS_OK) return fail(u, st, "reading the training losses");
  u->next ^= 1;
  /* All models' norms and updates in a fixed number of launches, each
   * model with its own schedule's rate: the same bits as one by one. */
  for (size_t k = 0; k < active; k++) {
    member_state *m = &u->ms[k];
    m->lr_now = cls_schedule_lr(u->mem[k].lr, c->min_lr_ratio, m->warmup, m->total, s);
    u->lr[k] = (float)m->lr_now;
    u->step[k] = (unsigned long)(s + 1);
  }
  st = cls_param_adamw_models(ctx, pt, sl, active, u->lr, (float)c->beta1, (float)c->beta2, (float)c->eps, u->step,
                              (float)c->clip);
  if (st != CLS_OK) return fail(u, st, "AdamW step");
  return settle(u, 1);
}

/* After step `done` (1-based) of the first `active` models: the rows of
 * those whose evaluation step it is. */
static cls_status evaluate(group *u, size_t active, uint64_t done) {
  int any = 0;
  for (size_t k = 0; k < active; k++) {
    member_state *m = &u->ms[k];
    any |= !m->done && m->next_eval < m->n_evals && m->evals[m->next_eval] == done;
  }
  if (!any) return CLS_OK;
  cls_status s = settle(u, 0);
  if (s != CLS_OK) return s;
  s = cls__emu_models_evaluate(u->g, active, u->c->eval_batches, u->eval_loss, u->r->error, sizeof u->r->error);
  if (s != CLS_OK) return fail(u, s, "evaluation");
  for (size_t k = 0; k < active; k++) {
    member_state *m = &u->ms[k];
    cls_model_outcome *o = &u->r->out[k];
    if (m->done || !(m->next_eval < m->n_evals && m->evals[m->next_eval] == done)) continue;
    m->next_eval++;
    cls_eval_row row = {
        done, (double)done * u->tps, 0, 0, m->acc_sum / (double)m->acc_count, u->eval_loss[k], m->lr_now, 0};
    o->rows[o->n_rows++] = row;
    m->acc_sum = 0;
    m->acc_count = 0;
    if (!isfinite(u->eval_loss[k])) {
      m->done = 1;
      o->diverged = 1;
    }
  }
  return CLS_OK;
}

static cls_status setup(group *u) {
  const cls_train_config *c = u->c;
  /* The schedule's and AdamW's settings, as the train loop checks them. */
  if (!(c->min_lr_ratio >= 0 && c->min_lr_ratio <= 1) || !(c->warmup_fraction < 1) ||
      !(c->beta1 >= 0 && c->beta1 < 1) || !(c->beta2 >= 0 && c->beta2 < 1) || !(c->eps > 0) || !isfinite(c->eps) ||
      !(c->clip >= 0) || !isfinite(c->clip) || (!c->eval_every && !c->evals) || !c->eval_batches) {
    snprintf(
        u->r->error, sizeof u->r->error,
        "a bad schedule: min lr ratio in [0, 1], warm-up fraction below 1, betas in [0, 1), eps > 0, clip "
        ">= 0, and at least one evaluation of at least one batch (got %g, %g, %g, %g, %g, %g, %zu / %llu, %zu)",
        c->min_lr_ratio, c->warmup_fraction, c->beta1, c->beta2, c->eps, c->clip, c->evals,
        (unsigned long long)c->eval_every, c->eval_batches);
    return CLS_ERR_INVALID_VALUE;
  }
  for (size_t k = 0; k < u->K; k++) {
    const cls_model_member *mb = &u->mem[k];
    if (!mb->steps || mb->steps > (uint64_t)1e15 || !(mb->lr > 0) || !isfinite(mb->lr) ||
        (k && mb->steps > u->mem[k - 1].steps)) {
      snprintf(u->r->error, sizeof u->r->error,
               "model %zu: %llu steps at lr %g; every model needs 1 to 1e15 steps, in non-increasing order, and a "
               "positive finite lr",
               k, (unsigned long long)mb->steps, mb->lr);
      return CLS_ERR_INVALID_VALUE;
    }
    member_state *m = &u->ms[k];
    m->total = mb->steps;
    m->warmup =
        c->warmup_fraction >= 0 ? (uint64_t)llround(c->warmup_fraction * (double)m->total) : c->warmup_steps;
    if (m->warmup > m->total) m->warmup = m->total;
    m->evals = cls_schedule_eval_steps(m->total, c->eval_every, c->evals, &m->n_evals);
    cls_model_outcome *o = &u->r->out[k];
    o->losses = calloc(m->total, sizeof *o->losses);
    o->rows = calloc(m->n_evals ? m->n_evals : 1, sizeof *o->rows);
    if (!m->evals || !o->losses || !o->rows) {
      snprintf(u->r->error, sizeof u->r->error, "out of host memory");
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
  if (!spec->task || strcmp(spec->task, "spectra")) {
    snprintf(r->error, sizeof r->error,
             "cls_models_train: task '%s': only the spectra task trains models side by side so far",
             spec->task ? spec->task : "");
    return CLS_ERR_INVALID_VALUE;
  }
  group u = {.ctx = ctx, .c = cfg, .mem = members, .r = r, .K = K};
  r->models = K;
  r->out = calloc(K, sizeof *r->out);
  u.ms = calloc(K, sizeof *u.ms);
  u.eval_loss = calloc(K, sizeof *u.eval_loss);
  u.lr = calloc(K, sizeof *u.lr);
  u.step = calloc(K, sizeof *u.step);
  uint64_t *seeds = malloc(K * sizeof *seeds);
  u.slot[0].value = calloc(K, sizeof(float));
  u.slot[1].value = calloc(K, sizeof(float));
  cls_status s = CLS_OK;
  if (!r->out || !u.ms || !u.eval_loss || !seeds || !u.slot[0].value || !u.slot[1].value || !u.lr || !u.step) {
    snprintf(r->error, sizeof r->error, "out of host memory");
    s = CLS_ERR_OUT_OF_MEMORY;
  }
  if (s == CLS_OK) s = setup(&u);
  if (s == CLS_OK) {
    for (size_t k = 0; k < K; k++) seeds[k] = members[k].seed;
    s = cls__emu_models_create(ctx, spec, K, seeds, &u.g, r->error, sizeof r->error);
  }
  if (s == CLS_OK) {
    u.em = cls__emu_models_model(u.g);
    u.S = cls_emulator_model_floats(u.em);
    u.tps = cls__emu_models_tokens_per_step(u.g);
    const double t0 = cls_now(), c0 = cpu_now();
    size_t active = K;
    for (uint64_t st = 0; s == CLS_OK && st < members[0].steps; st++) {
      while (active > 1 && members[active - 1].steps <= st) active--;
      s = step(&u, active, st);
      /* The last step of a model: its loss before its final row. */
      if (s == CLS_OK && members[active - 1].steps == st + 1) s = settle(&u, 0);
      if (s == CLS_OK) s = evaluate(&u, active, st + 1);
      r->samples += (double)active * u.tps;
      r->steps = st + 1;
    }
    cls_status w = settle(&u, 0);
    if (s == CLS_OK) s = w;
    if (s == CLS_OK) s = cls_finish(ctx);
    r->seconds = cls_now() - t0;
    r->cpu_seconds = cpu_now() - c0;
  }
  cls__emu_models_destroy(u.g);
  for (size_t k = 0; u.ms && k < K; k++) free(u.ms[k].evals);
  free(u.ms);
  free(u.eval_loss);
  free(u.lr);
  free(u.step);
  free(seeds);
  free(u.slot[0].value);
  free(u.slot[1].value);
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
