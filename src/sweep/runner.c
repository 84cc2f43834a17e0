/* src/sweep/runner.c — see runner.h. */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clscale/device.h"
#include "sweep/rundir.h"
#include "sweep/runner.h"
#include "core/fmt.h"
#include "train/solve.h"
#include "train/task.h"
#include "core/clock.h"

typedef struct shared shared;

typedef struct {
  shared *sh;
  size_t index;
  const cls_sweep_point *current;
  cls_status status; /* of the context's creation */
  char message[2048];
  char device[300];
} worker;

struct shared {
  const cls_sweep_spec *s;
  const cls_sweep_point *points;
  size_t n, next;
  const cls_sweep_run_config *cfg;
  cls_sweep_outcome *outcomes;
  pthread_mutex_t lock;
};

/* strlcpy: a message into a smaller buffer, cut if it must be. */
static void copy(char *dst, size_t len, const char *src) {
  size_t n = strlen(src);
  if (n >= len) n = len - 1;
  memcpy(dst, src, n);
  dst[n] = 0;
}

static int stopped(const shared *sh) {
  return sh->cfg->stop && *sh->cfg->stop;
}

static void on_progress(void *user, const cls_train_progress *pg) {
  worker *w = user;
  shared *sh = w->sh;
  if (!sh->cfg->cb.progress) return;
  pthread_mutex_lock(&sh->lock);
  sh->cfg->cb.progress(sh->cfg->cb.user, w->index, w->current, pg);
  pthread_mutex_unlock(&sh->lock);
}

/* The sweep's fields in every point's summary (beside the task's key). */
static void summary_extra(const cls_sweep_spec *s, const cls_sweep_point *p, char *out, size_t len) {
  char num[40];
  int n = snprintf(out, len, "sweep=%s\nsweep_mode=%s\npoint_index=%zu\n", s->name, cls_sweep_mode_name(s->mode),
                   p->index);
  if (p->shape.target_params > 0 && n > 0 && (size_t)n < len)
    snprintf(out + n, len - (size_t)n, "target_params=%s\n",
             cls_fmt_shortest(p->shape.target_params, 0, num, sizeof num));
}

/* The train config of point p as worker w runs it: the plan's settings,
 * the run directory, the summary's extra keys (into extra) and the stop
 * flag; what differs between solving and training is the caller's. */
static void point_config(const worker *w, const cls_sweep_point *p, char *extra, size_t extra_len,
                         cls_train_config *tc) {
  const shared *sh = w->sh;
  cls_sweep_point_config(sh->s, p, tc);
  summary_extra(sh->s, p, extra, extra_len);
  tc->out_dir = sh->cfg->out_dir;
  tc->id = p->id;
  tc->summary_extra = extra;
  tc->device_name = w->device;
  tc->stop = sh->cfg->stop;
}

/* A solved task's point (train/solve.h): one solve, no checkpoint. */
static void solve_point(worker *w, cls_context *ctx, const cls_sweep_point *p, const cls_task_spec *ts,
                        cls_sweep_outcome *o) {
  shared *sh = w->sh;
  const cls_sweep_run_config *cfg = sh->cfg;
  cls_train_config tc;
  char extra[512];
  point_config(w, p, extra, sizeof extra, &tc);
  cls_train_result *r = malloc(sizeof *r);
  if (!r) {
    o->status = CLS_RUN_FAILED;
    snprintf(o->error, sizeof o->error, "out of host memory");
    return;
  }
  cls_status st = cls_solve_run(ctx, ts, &tc, r);
  o->status = r->started ? r->status : CLS_RUN_FAILED;
  if (o->status != CLS_RUN_OK) copy(o->error, sizeof o->error, r->error[0] ? r->error : cls_status_name(st));
  if (!r->started || st != CLS_OK) {
    char werr[512];
    o->status = CLS_RUN_FAILED;
    if (cls_sweep_write_failed(cfg->out_dir, sh->s, p, w->device, o->error, werr, sizeof werr) != CLS_OK)
      snprintf(o->error + strlen(o->error), sizeof o->error - strlen(o->error), " (and %s)", werr);
  }
  o->flops = r->flops;
  o->tokens = r->tokens;
  o->final_eval_loss = r->final_eval_loss;
  free(r);
}

/* Runs one point on the worker's context; fills o. */
static void run_point(worker *w, cls_context *ctx, const cls_sweep_point *p, cls_sweep_outcome *o) {
  shared *sh = w->sh;
  const cls_sweep_run_config *cfg = sh->cfg;
  const double t0 = cls_now();
  memset(o, 0, sizeof *o);
  o->ran = 1;
  o->worker = w->index;
  o->final_eval_loss = NAN;
  o->n_params = p->n_params;
  o->n_params_embed = p->n_params_embed;
  cls_rundir_remove_leftovers(cfg->out_dir, p->id);
  const int resume = cls_rundir_has_checkpoint(cfg->out_dir, p->id);
  if (cfg->cb.start) {
    pthread_mutex_lock(&sh->lock);
    cfg->cb.start(cfg->cb.user, w->index, p, resume);
    pthread_mutex_unlock(&sh->lock);
  }

  cls_task_spec ts;
  cls_sweep_point_task(sh->s, p, &ts);
  if (sh->s->solved) {
    solve_point(w, ctx, p, &ts, o);
    o->seconds = cls_now() - t0;
    return;
  }
  char err[2048] = "";
  cls_train_task *task = NULL;
  cls_status st = cls_task_create(ctx, &ts, &task, err, sizeof err);
  if (st != CLS_OK) {
    /* Out of device memory, a data file that went away: the point is
     * recorded, and the sweep goes on. */
    o->status = CLS_RUN_FAILED;
    snprintf(o->error, sizeof o->error, "building the model: %.990s", err[0] ? err : cls_status_name(st));
    char werr[512];
    if (cls_sweep_write_failed(cfg->out_dir, sh->s, p, w->device, o->error, werr, sizeof werr) != CLS_OK)
      snprintf(o->error + strlen(o->error), sizeof o->error - strlen(o->error), " (and %s)", werr);
    o->seconds = cls_now() - t0;
    return;
  }
  o->n_params = task->n_params;
  o->n_params_embed = task->n_params_embed;

  cls_train_config tc;
  char extra[512];
  point_config(w, p, extra, sizeof extra, &tc);
  tc.progress = on_progress;
  tc.progress_user = w;
  tc.resume = resume;
  tc.force = !resume; /* no checkpoint: nothing to refuse */
  cls_train_result *r = malloc(sizeof *r);
  if (!r) {
    o->status = CLS_RUN_FAILED;
    snprintf(o->error, sizeof o->error, "out of host memory");
    cls_task_destroy(task);
    return;
  }
  st = cls_train_run(task, &tc, r);
  if (!r->started && resume && !stopped(sh)) {
    /* A checkpoint that cannot be continued (of another configuration,
     * corrupt): the point starts over rather than being lost. */
    o->restarted = 1;
    tc.resume = 0;
    tc.force = 1;
    st = cls_train_run(task, &tc, r);
  }
  o->resumed = r->resumed_from > 0;
  if (!r->started) {
    /* Refused before training (a budget below one step, a probe that
     * failed): record it as failed unless the loop already wrote a summary. */
    o->status = CLS_RUN_FAILED;
    copy(o->error, sizeof o->error, r->error[0] ? r->error : cls_status_name(st));
    if (cls_rundir_point_state(cfg->out_dir, p->id, NULL) != CLS_POINT_FAILED) {
      char werr[512];
      cls_sweep_write_failed(cfg->out_dir, sh->s, p, w->device, o->error, werr, sizeof werr);
    }
  } else {
    o->status = r->status;
    if (r->status != CLS_RUN_OK) copy(o->error, sizeof o->error, r->error);
    o->flops = r->flops;
    o->tokens = r->tokens;
    o->final_eval_loss = r->final_eval_loss;
  }
  free(r);
  cls_task_destroy(task);
  o->seconds = cls_now() - t0;
}

static void *worker_main(void *arg) {
  worker *w = arg;
  shared *sh = w->sh;
  const cls_sweep_run_config *cfg = sh->cfg;
  cls_context_options opts;
  cls_context_options_init(&opts);
  opts.device = cfg->devices[w->index];
  if (cfg->matmul_backend) opts.matmul_backend = cfg->matmul_backend;
  cls_context *ctx = NULL;
  w->status = cls_context_create(&opts, &ctx, w->message, sizeof w->message);
  if (w->status != CLS_OK) {
    if (cfg->cb.worker_failed) {
      pthread_mutex_lock(&sh->lock);
      cfg->cb.worker_failed(cfg->cb.user, w->index, opts.device ? opts.device : "(default)", w->message);
      pthread_mutex_unlock(&sh->lock);
    }
    return NULL;
  }
  snprintf(w->device, sizeof w->device, "%s", cls_context_device(ctx)->name);
  for (;;) {
    pthread_mutex_lock(&sh->lock);
    size_t i = sh->n;
    if (!stopped(sh) && sh->next < sh->n) i = sh->next++;
    pthread_mutex_unlock(&sh->lock);
    if (i >= sh->n) break;
    const cls_sweep_point *p = &sh->points[i];
    w->current = p;
    run_point(w, ctx, p, &sh->outcomes[i]);
    if (cfg->cb.done) {
      pthread_mutex_lock(&sh->lock);
      cfg->cb.done(cfg->cb.user, w->index, p, &sh->outcomes[i]);
      pthread_mutex_unlock(&sh->lock);
    }
    w->current = NULL;
  }
  cls_context_destroy(ctx);
  return NULL;
}

cls_status cls_sweep_run(const cls_sweep_spec *s, const cls_sweep_point *points, size_t n,
                         const cls_sweep_run_config *cfg, cls_sweep_outcome *outcomes, char *err, size_t err_len) {
  if (!cfg->n_devices) {
    snprintf(err, err_len, "no device to run on");
    return CLS_ERR_INVALID_VALUE;
  }
  for (size_t i = 0; i < n; i++) memset(&outcomes[i], 0, sizeof outcomes[i]);
  shared sh = {.s = s, .points = points, .n = n, .cfg = cfg, .outcomes = outcomes};
  pthread_mutex_init(&sh.lock, NULL);
  worker *ws = calloc(cfg->n_devices, sizeof *ws);
  pthread_t *th = calloc(cfg->n_devices, sizeof *th);
  int *started = calloc(cfg->n_devices, sizeof *started);
  if (!ws || !th || !started) {
    free(ws);
    free(th);
    free(started);
    pthread_mutex_destroy(&sh.lock);
    snprintf(err, err_len, "out of host memory");
    return CLS_ERR_OUT_OF_MEMORY;
  }
  cls_status out = CLS_OK;
  for (size_t i = 0; i < cfg->n_devices; i++) {
    ws[i].sh = &sh;
    ws[i].index = i;
    if (cfg->n_devices == 1) {
      worker_main(&ws[i]); /* no thread for a single device: simpler to debug */
      continue;
    }
    if (pthread_create(&th[i], NULL, worker_main, &ws[i]) == 0) {
      started[i] = 1;
    } else {
      ws[i].status = CLS_ERR_OUT_OF_MEMORY;
      snprintf(ws[i].message, sizeof ws[i].message, "cannot start a worker thread");
    }
  }
  for (size_t i = 0; i < cfg->n_devices; i++)
    if (started[i]) pthread_join(th[i], NULL);
  for (size_t i = 0; i < cfg->n_devices && out == CLS_OK; i++)
    if (ws[i].status != CLS_OK) {
      out = ws[i].status;
      snprintf(err, err_len, "device %s: %s", cfg->devices[i] ? cfg->devices[i] : "(default)", ws[i].message);
    }
  free(ws);
  free(th);
  free(started);
  pthread_mutex_destroy(&sh.lock);
  return out;
}
