/* src/sweep/runner.c — see runner.h. */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clscale/device.h"
#include "sweep/rundir.h"
#include "sweep/runner.h"
#include "core/fmt.h"
#include "train/solve.h"
#include "train/models.h"
#include "train/task.h"
#include "core/clock.h"
#include "rundir/claim.h"

typedef struct shared shared;

/* The most points a worker trains side by side (train/models.h). */
enum { GROUP_MAX = 8 };

typedef struct {
  shared *sh;
  size_t index;
  const cls_sweep_point *current;
  cls_status status; /* of the context's creation */
  char message[2048];
  char device[300];
  /* The claims of the points it runs (one, or a group's), renewed from the
   * steps; slot c is the c-th point it runs. */
  cls_claim claim[GROUP_MAX];
  int have_claim[GROUP_MAX], lost[GROUP_MAX];
  size_t n_claims;
  double last_renew;
  volatile sig_atomic_t halt; /* the loop's stop flag: the sweep's stop, copied at each step */
  /* The point's failed attempts before this one, and their errors. */
  unsigned attempts_before;
  char **errors_before;
  size_t n_errors_before;
} worker;

/* Per point of a call. */
enum { WAITING = 0, RUNNING, ENDED, HELD };

struct shared {
  const cls_sweep_spec *s;
  const cls_sweep_point *points;
  size_t n;
  const cls_sweep_run_config *cfg;
  cls_sweep_outcome *outcomes;
  unsigned char *state; /* per point: WAITING, RUNNING, ENDED, HELD (by another process) */
  size_t *after;        /* per point: the point of this call it waits for (its teacher), or SIZE_MAX */
  double *recheck;      /* per HELD point: when to look at its claim again */
  size_t n_own;         /* points[0..n_own) are this process's; the others may be stolen */
  double timeout, heartbeat, poll;
  size_t running;
  pthread_mutex_t lock;
  pthread_cond_t ended;   /* a point ended: one that waited for it may run */
  pthread_mutex_t corpus; /* one corpus made at a time */
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

static void note(shared *sh, size_t worker, const cls_sweep_point *p, const char *msg) {
  if (sh->cfg->cb.note && msg[0]) sh->cfg->cb.note(sh->cfg->cb.user, worker, p, msg);
}

/* Renews the claim of the worker's point when heartbeat seconds have
 * passed. A claim taken over meanwhile (this process was silent for longer
 * than the timeout: suspended, or cut off from the file server) is not
 * renewed again, but the point is trained on to its end: stopping would
 * write an "interrupted" summary and a checkpoint over the files of the new
 * holder, which may have finished the point by now, while going on writes
 * the same numbers it writes (same seed, same checkpoint, same results). */
static void heartbeat(worker *w, uint64_t step, uint64_t total) {
  shared *sh = w->sh;
  if (sh->cfg->stop && *sh->cfg->stop) w->halt = 1;
  const double now = cls_claim_clock();
  if (now - w->last_renew < sh->heartbeat) return;
  w->last_renew = now;
  for (size_t c = 0; c < w->n_claims; c++) {
    if (!w->have_claim[c]) continue;
    char err[1024], msg[1400];
    int lost = 0;
    if (cls_claim_renew(sh->cfg->out_dir, &w->claim[c], step, total, &lost, err, sizeof err) != CLS_OK) {
      snprintf(msg, sizeof msg, "warning: the heartbeat of %s was not written (tried again in %g s): %s",
               w->claim[c].id, sh->heartbeat, err);
    } else if (lost) {
      w->lost[c] = 1;
      w->have_claim[c] = 0;
      snprintf(msg, sizeof msg,
               "warning: the claim of %s was taken over by another process (this one sent no heartbeat for "
               "longer than the %g s timeout): both train it now, to the same results; a longer --claim-timeout "
               "avoids this",
               w->claim[c].id, sh->timeout);
    } else {
      continue;
    }
    pthread_mutex_lock(&sh->lock);
    note(sh, w->index, w->current, msg);
    pthread_mutex_unlock(&sh->lock);
  }
}

static void on_progress(void *user, const cls_train_progress *pg) {
  worker *w = user;
  shared *sh = w->sh;
  heartbeat(w, pg->step, pg->total_steps);
  if (!sh->cfg->cb.progress) return;
  pthread_mutex_lock(&sh->lock);
  sh->cfg->cb.progress(sh->cfg->cb.user, w->index, w->current, pg);
  pthread_mutex_unlock(&sh->lock);
}

/* The sweep's fields in every point's summary (beside the task's key);
 * with generations, the point's generation, pi, teacher and corpus. */
static void summary_extra(const cls_sweep_spec *s, const cls_sweep_point *p, char *out, size_t len) {
  char num[40];
  int n = snprintf(out, len, "sweep=%s\nsweep_mode=%s\npoint_index=%zu\n", s->name, cls_sweep_mode_name(s->mode),
                   p->index);
  if (p->shape.target_params > 0 && n > 0 && (size_t)n < len)
    n += snprintf(out + n, len - (size_t)n, "target_params=%s\n",
                  cls_fmt_shortest(p->shape.target_params, 0, num, sizeof num));
  if (s->generations && n > 0 && (size_t)n < len)
    n += snprintf(out + n, len - (size_t)n, "generation=%u\nreal_fraction=%s\n", p->generation,
                  cls_fmt_shortest(p->real_fraction, 0, num, sizeof num));
  if (p->teacher_id[0] && n > 0 && (size_t)n < len)
    snprintf(out + n, len - (size_t)n, "teacher=%s\ncorpus=corpora/%s.bin\n", p->teacher_id,
             p->teacher_id); /* the task's key has the corpus's checksum */
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
  tc->stop = &w->halt;
}

/* A solved task's point (train/solve.h): one solve, no checkpoint. */
static void solve_point(worker *w, cls_context *ctx, const cls_sweep_point *p, const cls_task_spec *ts,
                        cls_sweep_outcome *o) {
  shared *sh = w->sh;
  const cls_sweep_run_config *cfg = sh->cfg;
  cls_train_config tc;
  char extra[1024];
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

/* A point that could not start: recorded as failed with o->error. */
static void record_failed(worker *w, const cls_sweep_point *p, cls_sweep_outcome *o) {
  char werr[512];
  o->status = CLS_RUN_FAILED;
  if (cls_sweep_write_failed(w->sh->cfg->out_dir, w->sh->s, p, w->device, o->error, werr, sizeof werr) != CLS_OK)
    snprintf(o->error + strlen(o->error), sizeof o->error - strlen(o->error), " (and %s)", werr);
}

typedef struct {
  worker *w;
  const cls_sweep_point *p;
} corpus_progress;

static void on_corpus(void *user, size_t done, size_t total) {
  corpus_progress *cp = user;
  shared *sh = cp->w->sh;
  heartbeat(cp->w, 0, 0);
  if (!sh->cfg->cb.corpus) return;
  pthread_mutex_lock(&sh->lock);
  sh->cfg->cb.corpus(sh->cfg->cb.user, cp->w->index, cp->p, done, total, NULL);
  pthread_mutex_unlock(&sh->lock);
}

/* Generations: the corpus point p trains on (its teacher's), made or
 * checked, into ts. 1 when the point may train; 0 with o filled (failed,
 * or interrupted while the corpus was being made). */
static int prepare_corpus(worker *w, cls_context *ctx, const cls_sweep_point *p, cls_task_spec *ts,
                          char *corpus_path, size_t path_len, cls_sweep_outcome *o) {
  shared *sh = w->sh;
  const cls_sweep_run_config *cfg = sh->cfg;
  const char *dir = cfg->out_dir;
  const cls_point_state teacher = cls_rundir_point_state(dir, p->teacher_id, NULL);
  if (teacher != CLS_POINT_OK) {
    snprintf(o->error, sizeof o->error,
             "its teacher %s is %s: generation %u trains on the corpus of generation %u's model at the largest "
             "budget, which must have finished ok%s",
             p->teacher_id, cls_point_state_name(teacher), p->generation, p->generation - 1,
             teacher == CLS_POINT_DIVERGED ? " (it diverged: this chain ends there)"
                                           : " (a re-run of the sweep retries it)");
    record_failed(w, p, o);
    return 0;
  }
  char ckpt[4200], meta[4200];
  cls_rundir_path(ckpt, sizeof ckpt, dir, CLS_RUNDIR_CHECKPOINT, p->teacher_id);
  cls_rundir_path(corpus_path, path_len, dir, CLS_RUNDIR_CORPUS, p->teacher_id);
  cls_rundir_path(meta, sizeof meta, dir, CLS_RUNDIR_CORPUS_META, p->teacher_id);
  const cls_task_info *info = cls_task_find(sh->s->task, sh->s->model);
  corpus_progress cp = {w, p};
  cls_synth_request req = {.teacher_id = p->teacher_id,
                           .teacher_checkpoint = ckpt,
                           .corpus_path = corpus_path,
                           .meta_path = meta,
                           .seed = p->seed,
                           .generation = p->generation,
                           .n = sh->s->synthetic_pairs,
                           .temperature = sh->s->sample_temperature,
                           .top_k = sh->s->top_k,
                           .top_p = sh->s->top_p,
                           .device_name = w->device,
                           .stop = cfg->stop,
                           .progress = on_corpus,
                           .progress_user = &cp};
  cls_synth_result res;
  char err[2048] = "";
  pthread_mutex_lock(&sh->corpus);
  /* A killed process's half-written corpus of this teacher (its own
   * files are finished: the teacher ended ok). */
  cls_rundir_remove_leftovers(dir, p->teacher_id);
  cls_status st =
      info && info->synthesize
          ? info->synthesize(ctx, ts, &req, &res, err, sizeof err)
          : (snprintf(err, sizeof err, "the %s task has no corpus maker", sh->s->task), CLS_ERR_INTERNAL);
  pthread_mutex_unlock(&sh->corpus);
  if (st == CLS_OK && res.stopped) {
    o->status = CLS_RUN_INTERRUPTED;
    snprintf(o->error, sizeof o->error, "interrupted while the corpus of %s was being made", p->teacher_id);
    return 0;
  }
  if (st != CLS_OK) {
    snprintf(o->error, sizeof o->error, "the corpus of its teacher %.127s: %.800s", p->teacher_id,
             err[0] ? err : cls_status_name(st));
    record_failed(w, p, o);
    return 0;
  }
  if (cfg->cb.corpus) {
    pthread_mutex_lock(&sh->lock);
    cfg->cb.corpus(cfg->cb.user, w->index, p, (size_t)res.n, (size_t)res.n, &res);
    pthread_mutex_unlock(&sh->lock);
  }
  ts->corpus = corpus_path;
  ts->corpus_real_fraction = p->real_fraction;
  return 1;
}

/* The failed attempts recorded in point p's summary before this one (a
 * summary of status failed without the count: one). */
static unsigned earlier_attempts(const char *dir, const char *id, char ***errors, size_t *n_errors) {
  *errors = NULL;
  *n_errors = 0;
  char path[4200];
  cls_point_summary s;
  if (cls_rundir_path(path, sizeof path, dir, CLS_RUNDIR_SUMMARY, id) != CLS_OK ||
      cls_point_summary_read(path, &s, NULL, 0) != CLS_OK)
    return 0;
  unsigned n = 0;
  if (s.status && s.state == CLS_POINT_FAILED) {
    n = isnan(s.attempts) || s.attempts < 1 ? 1 : s.attempts > 1e6 ? 1000000u : (unsigned)s.attempts;
    if (s.n_errors) {
      *errors = s.errors;
      *n_errors = s.n_errors;
      s.errors = NULL;
      s.n_errors = 0;
    } else if (s.error && (*errors = malloc(sizeof **errors)) != NULL) {
      (*errors)[0] = (char *)s.error; /* an older summary: its one error */
      s.error = NULL;
      *n_errors = 1;
    }
  }
  cls_point_summary_release(&s);
  return n;
}

/* A failed attempt: its error joins the earlier ones in the summary, and
 * the point is queued again while it has failed at most max_retries
 * times. */
static void record_attempt(worker *w, const cls_sweep_point *p, cls_sweep_outcome *o) {
  shared *sh = w->sh;
  const char *dir = sh->cfg->out_dir;
  /* The summary there is this attempt's now: the earlier attempts' errors
   * were read before it was written over. */
  o->attempts = w->attempts_before + 1;
  const char **all = malloc((w->n_errors_before + 1) * sizeof *all);
  if (all) {
    for (size_t i = 0; i < w->n_errors_before; i++) all[i] = w->errors_before[i];
    all[w->n_errors_before] = o->error;
    char werr[512];
    if (cls_point_record_attempts(dir, p->id, o->attempts, all, w->n_errors_before + 1, werr, sizeof werr) !=
        CLS_OK) {
      pthread_mutex_lock(&sh->lock);
      char msg[700];
      snprintf(msg, sizeof msg, "warning: the attempt count of %s was not recorded: %s", p->id, werr);
      note(sh, w->index, p, msg);
      pthread_mutex_unlock(&sh->lock);
    }
    free(all);
  }
  o->will_retry = o->attempts <= sh->cfg->max_retries && !stopped(sh);
}

/* Runs one point on the worker's context; fills o. */
static void run_point_body(worker *w, cls_context *ctx, const cls_sweep_point *p, cls_sweep_outcome *o) {
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
  char corpus_path[4200];
  if (p->teacher_id[0] && !prepare_corpus(w, ctx, p, &ts, corpus_path, sizeof corpus_path, o)) {
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
  char extra[1024];
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
  /* A point killed before its first checkpoint starts again with the auto
   * matmul choices its first start recorded in its summary, so that it
   * computes what that start would have (issue 14), whatever the cache
   * folder says by now. */
  cls_point_summary before;
  cls_point_summary_init(&before);
  char path[4200], rerr[256];
  int have_before = 0;
  if (!resume && cls_rundir_path(path, sizeof path, cfg->out_dir, CLS_RUNDIR_SUMMARY, p->id) == CLS_OK &&
      cls_point_summary_read(path, &before, rerr, sizeof rerr) == CLS_OK) {
    have_before = 1;
    if (before.state == CLS_POINT_RUNNING || before.state == CLS_POINT_INTERRUPTED)
      tc.matmul_choices = before.run.matmul_choices;
  }
  st = cls_train_run(task, &tc, r);
  if (have_before) cls_point_summary_release(&before);
  tc.matmul_choices = NULL;
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

/* After point p (claim slot c) ran: its claim checked, a failure recorded
 * as an attempt (and queued again while it may be retried). */
static void end_point(worker *w, size_t c, const cls_sweep_point *p, cls_sweep_outcome *o) {
  if (w->have_claim[c]) {
    /* Still this process's? A takeover after its last heartbeat shows
     * only here; and a failure right after a takeover (the new holder
     * removed this process's half-written files as a dead process's
     * leftovers) is the takeover's doing, not the point's. */
    cls_claim there;
    if (cls_claim_read(w->sh->cfg->out_dir, p->id, &there, NULL, 0) != CLS_OK ||
        strcmp(there.token, w->claim[c].token)) {
      w->lost[c] = 1;
      w->have_claim[c] = 0;
      char msg[600];
      snprintf(msg, sizeof msg,
               "warning: the claim of %s was taken over by another process while this one ran it (it sent no "
               "heartbeat for longer than the %g s timeout); a longer --claim-timeout avoids this",
               p->id, w->sh->timeout);
      pthread_mutex_lock(&w->sh->lock);
      note(w->sh, w->index, p, msg);
      pthread_mutex_unlock(&w->sh->lock);
    }
  }
  o->lost = w->lost[c];
  if (o->ran && o->status == CLS_RUN_FAILED && w->lost[c])
    o->will_retry = !stopped(w->sh); /* not an attempt: looked at again (it is finished, or run again) */
  else if (o->ran && o->status == CLS_RUN_FAILED)
    record_attempt(w, p, o);
  for (size_t i = 0; i < w->n_errors_before; i++) free(w->errors_before[i]);
  free(w->errors_before);
  w->errors_before = NULL;
  w->n_errors_before = 0;
}

static void run_point(worker *w, cls_context *ctx, const cls_sweep_point *p, cls_sweep_outcome *o) {
  w->halt = w->sh->cfg->stop && *w->sh->cfg->stop;
  w->last_renew = 0; /* the first step renews it: the claim then shows the point's steps */
  w->attempts_before = earlier_attempts(w->sh->cfg->out_dir, p->id, &w->errors_before, &w->n_errors_before);
  run_point_body(w, ctx, p, o);
  end_point(w, 0, p, o);
}

/* The group's points alone, one after another (claim slot c: idx[c]). */
static void run_alone(worker *w, cls_context *ctx, const size_t *idx, size_t n) {
  for (size_t c = 0; c < n; c++) {
    const cls_sweep_point *p = &w->sh->points[idx[c]];
    cls_sweep_outcome *o = &w->sh->outcomes[idx[c]];
    w->current = p;
    w->halt = stopped(w->sh);
    w->last_renew = 0;
    run_point_body(w, ctx, p, o);
    end_point(w, c, p, o);
  }
}

/* The configs of a group's points (as run_point_body makes one), into
 * tc, extra and seeds; a point killed before its first checkpoint gets
 * the matmul choices its summary recorded as advice (before[c] holds
 * them). */
static void group_configs(worker *w, const size_t *idx, size_t n, int resume, cls_train_config *tc,
                          char (*extra)[1024], uint64_t *seeds, cls_point_summary *before) {
  const shared *sh = w->sh;
  for (size_t c = 0; c < n; c++) {
    const cls_sweep_point *p = &sh->points[idx[c]];
    point_config(w, p, extra[c], sizeof extra[c], &tc[c]);
    tc[c].progress = on_progress;
    tc[c].progress_user = w;
    tc[c].resume = resume;
    tc[c].force = !resume;
    seeds[c] = p->seed;
    cls_point_summary_init(&before[c]);
    char path[4200], rerr[256];
    if (!resume && cls_rundir_path(path, sizeof path, sh->cfg->out_dir, CLS_RUNDIR_SUMMARY, p->id) == CLS_OK &&
        cls_point_summary_read(path, &before[c], rerr, sizeof rerr) == CLS_OK &&
        (before[c].state == CLS_POINT_RUNNING || before[c].state == CLS_POINT_INTERRUPTED))
      tc[c].matmul_choices = before[c].run.matmul_choices;
  }
}

/* Points idx[0..n) of one group side by side (train/models.h), each
 * under its claim (slot c: idx[c]), each with the files it would have
 * alone. Points that cannot train together (some with a checkpoint and
 * some without, checkpoints at different steps: refused before anything
 * is written) run alone, one after another. */
static void run_group(worker *w, cls_context *ctx, const size_t *idx, size_t n) {
  shared *sh = w->sh;
  const cls_sweep_run_config *cfg = sh->cfg;
  const double t0 = cls_now();
  int resumes = 0;
  for (size_t c = 0; c < n; c++) {
    cls_rundir_remove_leftovers(cfg->out_dir, sh->points[idx[c]].id);
    resumes += cls_rundir_has_checkpoint(cfg->out_dir, sh->points[idx[c]].id);
  }
  cls_train_result *r = calloc(n, sizeof *r);
  if (!r || (resumes && resumes != (int)n)) {
    free(r);
    run_alone(w, ctx, idx, n);
    return;
  }
  w->halt = stopped(sh);
  w->last_renew = 0;
  w->attempts_before = 0; /* a point that failed before trains alone (take_group) */
  cls_train_config tc[GROUP_MAX];
  char extra[GROUP_MAX][1024], err[2048] = "";
  uint64_t seeds[GROUP_MAX];
  cls_point_summary before[GROUP_MAX];
  group_configs(w, idx, n, resumes > 0, tc, extra, seeds, before);
  if (cfg->cb.start) {
    pthread_mutex_lock(&sh->lock);
    for (size_t c = 0; c < n; c++) cfg->cb.start(cfg->cb.user, w->index, &sh->points[idx[c]], resumes > 0);
    pthread_mutex_unlock(&sh->lock);
  }
  cls_task_spec ts;
  cls_sweep_point_task(sh->s, &sh->points[idx[0]], &ts);
  cls_status st = cls_train_run_models(ctx, &ts, n, seeds, tc, r, err, sizeof err);
  for (size_t c = 0; c < n; c++) cls_point_summary_release(&before[c]);
  int started = 0;
  double longest = 0;
  for (size_t c = 0; c < n; c++) {
    started |= r[c].started;
    longest = fmax(longest, r[c].step_seconds);
  }
  const double setup = fmax(0, cls_now() - t0 - longest);
  if (!started) {
    free(r);
    run_alone(w, ctx, idx, n);
    return;
  }
  for (size_t c = 0; c < n; c++) {
    const cls_sweep_point *p = &sh->points[idx[c]];
    cls_sweep_outcome *o = &sh->outcomes[idx[c]];
    memset(o, 0, sizeof *o);
    o->ran = 1;
    o->worker = w->index;
    o->n_params = p->n_params;
    o->n_params_embed = p->n_params_embed;
    o->status = r[c].started ? r[c].status : CLS_RUN_FAILED;
    if (o->status != CLS_RUN_OK)
      copy(o->error, sizeof o->error, r[c].error[0] ? r[c].error : err[0] ? err : cls_status_name(st));
    o->resumed = r[c].resumed_from > 0;
    o->flops = r[c].flops;
    o->tokens = r[c].tokens;
    o->final_eval_loss = r[c].final_eval_loss;
    /* Until its own budget ended (a shorter point leaves the group early),
     * with the group's set-up. */
    o->seconds = r[c].step_seconds > 0 ? r[c].step_seconds + setup : cls_now() - t0;
    end_point(w, c, p, o);
  }
  free(r);
}

/* Whether point p is finished in the run directory for good: ok or
 * diverged, or failed more than max_retries times; its state in *ps. */
static int finished_there(const shared *sh, const cls_sweep_point *p, cls_point_state *ps, unsigned *attempts) {
  char **errors;
  size_t n;
  *ps = cls_rundir_point_state(sh->cfg->out_dir, p->id, NULL);
  *attempts = 0;
  if (cls_point_state_done(*ps)) return 1;
  if (*ps != CLS_POINT_FAILED) return 0;
  *attempts = earlier_attempts(sh->cfg->out_dir, p->id, &errors, &n);
  for (size_t i = 0; i < n; i++) free(errors[i]);
  free(errors);
  return *attempts > sh->cfg->max_retries;
}

/* Marks point i as finished by another process. */
static void ended_elsewhere(shared *sh, size_t i, cls_point_state ps, unsigned attempts) {
  cls_sweep_outcome *o = &sh->outcomes[i];
  o->elsewhere = 1;
  o->attempts = attempts;
  o->status = ps == CLS_POINT_OK ? CLS_RUN_OK : ps == CLS_POINT_DIVERGED ? CLS_RUN_DIVERGED : CLS_RUN_FAILED;
  sh->state[i] = ENDED;
}

/* Under the lock: tries to take point i's claim for worker w. 1: taken
 * (into w->claim[w->n_claims], counted); 0: not now (held by another process: HELD; a stolen point
 * whose teacher is not ready; finished elsewhere: ENDED). */
static int try_claim(shared *sh, worker *w, size_t i) {
  const cls_sweep_point *p = &sh->points[i];
  const int own = i < sh->n_own;
  cls_point_state ps;
  unsigned attempts;
  if (finished_there(sh, p, &ps, &attempts)) {
    ended_elsewhere(sh, i, ps, attempts);
    return 0;
  }
  if (!own && p->teacher_id[0] && cls_rundir_point_state(sh->cfg->out_dir, p->teacher_id, NULL) != CLS_POINT_OK) {
    sh->state[i] = ENDED; /* its teacher is another's, not finished: left to its shard */
    return 0;
  }
  char msg[1500], err[1024];
  cls_claim other;
  cls_claim_outcome oc;
  const size_t c = w->n_claims;
  cls_claim_init(&w->claim[c], p->id);
  cls_status st =
      cls_claim_take(sh->cfg->out_dir, &w->claim[c], sh->timeout, &oc, &other, msg, sizeof msg, err, sizeof err);
  if (st != CLS_OK) {
    /* The claims folder cannot be written: the point cannot be run
     * safely; recorded as this call's failure, not retried here. */
    cls_sweep_outcome *o = &sh->outcomes[i];
    o->ran = 1;
    o->status = CLS_RUN_FAILED;
    snprintf(o->error, sizeof o->error, "cannot claim the point: %.990s", err);
    sh->state[i] = ENDED;
    return 0;
  }
  note(sh, w->index, p, msg);
  if (oc == CLS_CLAIM_HELD) {
    if (own && sh->state[i] != HELD) {
      char at[64] = "starting";
      if (other.total_steps)
        snprintf(at, sizeof at, "step %llu of %llu", (unsigned long long)other.step,
                 (unsigned long long)other.total_steps);
      snprintf(msg, sizeof msg,
               "%s is being trained by %s pid %llu%s%s (%s, heartbeat %.0f s ago): waiting for it", p->id,
               other.host, (unsigned long long)other.pid, other.slurm_job[0] ? ", Slurm job " : "",
               other.slurm_job, at, fmax(0, cls_claim_clock() - other.heartbeat));
      note(sh, w->index, p, msg);
    }
    sh->state[i] = own ? HELD : ENDED;
    sh->recheck[i] = cls_claim_clock() + sh->poll;
    return 0;
  }
  /* Mine now: whoever held it before may have finished it meanwhile. */
  if (finished_there(sh, p, &ps, &attempts)) {
    cls_claim_release(sh->cfg->out_dir, &w->claim[c]);
    ended_elsewhere(sh, i, ps, attempts);
    return 0;
  }
  w->have_claim[c] = 1;
  w->lost[c] = 0;
  w->n_claims++;
  return 1;
}

/* Under the lock: the next point worker w may run, its claim taken: this
 * process's own points first, then (with nothing of its own to do) other
 * shards' free points. Waits while its own points are held by other live
 * processes (looking again every poll seconds, to take a claim that went
 * stale) or wait for a teacher running here; sh->n when there is nothing
 * left (or the sweep is stopped). */
static size_t next_point(shared *sh, worker *w) {
  for (;;) {
    if (stopped(sh)) return sh->n;
    int teacher_wait = 0, held = 0;
    double soonest = INFINITY;
    for (size_t i = 0; i < sh->n; i++) {
      const unsigned char st = sh->state[i];
      if (st == RUNNING || st == ENDED) continue;
      if (sh->after[i] != SIZE_MAX && sh->state[sh->after[i]] != ENDED) {
        teacher_wait = 1;
        continue;
      }
      if (st == HELD && cls_claim_clock() < sh->recheck[i]) {
        held = 1;
        soonest = fmin(soonest, sh->recheck[i]);
        continue;
      }
      if (try_claim(sh, w, i)) return i;
      if (sh->state[i] == HELD) {
        held = 1;
        soonest = fmin(soonest, sh->recheck[i]);
      }
    }
    if (!held && (!teacher_wait || !sh->running)) return sh->n;
    if (held) {
      const double until = soonest;
      struct timespec ts;
      ts.tv_sec = (time_t)until;
      ts.tv_nsec = (long)((until - floor(until)) * 1e9);
      pthread_cond_timedwait(&sh->ended, &sh->lock, &ts);
    } else {
      pthread_cond_wait(&sh->ended, &sh->lock);
    }
  }
}

/* Under the lock: with point idx[0] claimed, the waiting points of its
 * group (cfg->group) claimed too, up to max_models; the count. This
 * shard's points group among themselves, stolen points among themselves
 * (a shard does not steal while it has its own work). A point that failed
 * before trains alone (its retry is not to take others down
 * with it), and so does a point waiting for a teacher. */
static size_t take_group(shared *sh, worker *w, size_t *idx, size_t n) {
  const cls_sweep_run_config *cfg = sh->cfg;
  const size_t max = cfg->max_models < GROUP_MAX ? cfg->max_models : GROUP_MAX;
  const size_t i = idx[0];
  if (!cfg->group || cfg->group[i] == SIZE_MAX || max < 2 || sh->after[i] != SIZE_MAX ||
      cls_rundir_point_state(cfg->out_dir, sh->points[i].id, NULL) == CLS_POINT_FAILED)
    return n;
  for (size_t j = 0; j < sh->n && n < max; j++) {
    if (j == i || cfg->group[j] != cfg->group[i] || sh->state[j] != WAITING || sh->after[j] != SIZE_MAX) continue;
    if ((j < sh->n_own) != (i < sh->n_own))
      continue; /* an own point's mates are own points; a stolen one's, stolen */
    if (cls_rundir_point_state(cfg->out_dir, sh->points[j].id, NULL) == CLS_POINT_FAILED) continue;
    if (try_claim(sh, w, j)) idx[n++] = j;
  }
  return n;
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
    size_t idx[GROUP_MAX], n = 0;
    pthread_mutex_lock(&sh->lock);
    w->n_claims = 0;
    size_t i = next_point(sh, w);
    if (i < sh->n) {
      idx[n++] = i;
      n = take_group(sh, w, idx, n);
      for (size_t c = 0; c < n; c++) sh->state[idx[c]] = RUNNING;
      sh->running += n;
    }
    pthread_mutex_unlock(&sh->lock);
    if (!n) break;
    w->current = &sh->points[idx[0]];
    if (n == 1)
      run_point(w, ctx, w->current, &sh->outcomes[idx[0]]);
    else
      run_group(w, ctx, idx, n);
    /* The points' files are written: their claims can go (unless taken
     * over, and another's now). */
    for (size_t c = 0; c < w->n_claims; c++)
      if (w->have_claim[c]) cls_claim_release(cfg->out_dir, &w->claim[c]);
    memset(w->have_claim, 0, sizeof w->have_claim);
    w->n_claims = 0;
    pthread_mutex_lock(&sh->lock);
    for (size_t c = 0; c < n; c++) {
      if (cfg->cb.done) cfg->cb.done(cfg->cb.user, w->index, &sh->points[idx[c]], &sh->outcomes[idx[c]]);
      sh->state[idx[c]] = sh->outcomes[idx[c]].will_retry ? WAITING : ENDED;
    }
    sh->running -= n;
    pthread_cond_broadcast(&sh->ended);
    pthread_mutex_unlock(&sh->lock);
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
  sh.n_own = cfg->n_steal < n ? n - cfg->n_steal : 0;
  sh.timeout = cfg->claim_timeout > 0 ? cfg->claim_timeout : 300;
  sh.heartbeat = cfg->heartbeat > 0 ? cfg->heartbeat : fmin(5, sh.timeout / 10);
  /* A held point is looked at again often enough to take it over soon
   * after its claim goes stale, rarely enough not to load a file server. */
  sh.poll = fmax(0.05, fmin(5, sh.timeout / 4));
  sh.state = calloc(n ? n : 1, 1);
  sh.after = malloc((n ? n : 1) * sizeof *sh.after);
  sh.recheck = calloc(n ? n : 1, sizeof *sh.recheck);
  worker *ws = calloc(cfg->n_devices, sizeof *ws);
  pthread_t *th = calloc(cfg->n_devices, sizeof *th);
  int *started = calloc(cfg->n_devices, sizeof *started);
  if (!ws || !th || !started || !sh.state || !sh.after || !sh.recheck) {
    free(ws);
    free(th);
    free(started);
    free(sh.state);
    free(sh.after);
    free(sh.recheck);
    snprintf(err, err_len, "out of host memory");
    return CLS_ERR_OUT_OF_MEMORY;
  }
  /* A student waits for its teacher when the teacher runs in this call
   * (a teacher finished before is in the run directory already). */
  for (size_t i = 0; i < n; i++) {
    sh.after[i] = SIZE_MAX;
    for (size_t j = 0; points[i].teacher != SIZE_MAX && j < n; j++)
      if (points[j].index == points[i].teacher) sh.after[i] = j;
  }
  /* A process killed while writing a claim leaves its temporary file. */
  cls_claim_remove_leftovers(cfg->out_dir);
  pthread_mutex_init(&sh.lock, NULL);
  pthread_mutex_init(&sh.corpus, NULL);
  pthread_cond_init(&sh.ended, NULL);
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
  free(sh.state);
  free(sh.after);
  free(sh.recheck);
  pthread_cond_destroy(&sh.ended);
  pthread_mutex_destroy(&sh.corpus);
  pthread_mutex_destroy(&sh.lock);
  cls_claim_remove_leftovers(cfg->out_dir); /* again: one killed just before this process started is older now */
  return out;
}
