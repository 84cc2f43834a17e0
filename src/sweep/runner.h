/*
 * src/sweep/runner.h — runs the points of a plan into a run directory: one
 * worker thread per device, each with its own context (contexts share no
 * state), taking the next unfinished point from a common queue, so points
 * run concurrently, one per device.
 *
 * Per point (or group of points trained side by side, see group below):
 * leftovers of a killed process are removed; a point with a
 * checkpoint resumes from it (one that cannot be resumed, e.g. of another
 * configuration, is started over); a point whose task cannot even be built
 * is recorded as "failed" with the reason; the loop (train/loop.h) writes
 * points/<id>.csv and points/<id>.json. A failed or diverged point does not
 * stop the sweep. The stop flag (a signal) makes every worker checkpoint
 * its point and return.
 *
 * Generations (docs/sweep.md): a point of generation g >= 1 waits until its
 * teacher (of generation g - 1, in its chain) has finished, when the
 * teacher is among the points of this call; it then needs the teacher's
 * corpus, which the first of its students to run makes (or finds and
 * checks) under a lock, one corpus at a time; a teacher that did not end
 * ok fails its students with the reason.
 *
 * The library prints nothing: the caller gets callbacks, made one at a time
 * (under the runner's lock), from the worker threads.
 */
#ifndef CLSCALE_SWEEP_RUNNER_H
#define CLSCALE_SWEEP_RUNNER_H

#include <signal.h>
#include <stddef.h>

#include "sweep/plan.h"
#include "sweep/spec.h"
#include "train/loop.h"
#include "train/synth.h"

typedef struct cls_sweep_outcome {
  int ran;               /* this call ran it (else: not reached, e.g. stopped first) */
  cls_run_status status; /* ok, diverged, failed or interrupted */
  int resumed;           /* continued from a checkpoint */
  int restarted;         /* its checkpoint could not be resumed: started over */
  double seconds;        /* wall clock of this attempt */
  double flops, tokens, final_eval_loss;
  double n_params, n_params_embed;
  size_t worker;
  /* Claims and retries (docs/sweep.md, "On a cluster"): */
  int elsewhere;     /* another process finished it (status: what it found) or holds it (ran 0) */
  int lost;          /* its claim was taken over while it ran (it was trained on to its end) */
  int will_retry;    /* it failed and is queued again (attempts <= max_retries) */
  unsigned attempts; /* failed attempts so far, this one included */
  char error[1024];
} cls_sweep_outcome;

typedef struct cls_sweep_callbacks {
  void *user;
  /* A worker starts point p (of the run list) on its device. */
  void (*start)(void *user, size_t worker, const cls_sweep_point *p, int resuming);
  /* After every training step of the point a worker runs. */
  void (*progress)(void *user, size_t worker, const cls_sweep_point *p, const cls_train_progress *pg);
  /* The point ended (any status). */
  void (*done)(void *user, size_t worker, const cls_sweep_point *p, const cls_sweep_outcome *o);
  /* A worker could not start (its device's context failed): its message. */
  void (*worker_failed)(void *user, size_t worker, const char *device, const char *message);
  /* Generations: point p's corpus (the teacher p->teacher_id's) is being
   * made, done of total sequences written (res NULL), or is ready (res:
   * made or reused). May be NULL. */
  void (*corpus)(void *user, size_t worker, const cls_sweep_point *p, size_t done, size_t total,
                 const cls_synth_result *res);
  /* Something to tell about point p's claim: a stale claim taken over, a
   * claim file that is not one, a point held by another process. May be
   * NULL. */
  void (*note)(void *user, size_t worker, const cls_sweep_point *p, const char *message);
} cls_sweep_callbacks;

typedef struct cls_sweep_run_config {
  const char *out_dir;
  const char *const *devices; /* one selector per worker ("P:D"); the same device twice runs two points on it */
  size_t n_devices;
  const char *matmul_backend; /* NULL: the context's default (CLSCALE_MATMUL_BACKEND, auto) */
  const volatile sig_atomic_t *stop;
  cls_sweep_callbacks cb;
  /* Claims (rundir/claim.h): a point is trained only under its claim in
   * DIR/claims. A claim without a heartbeat for claim_timeout seconds
   * (<= 0: 300) is stale and taken over; the heartbeat is renewed from the
   * training steps, at most every heartbeat seconds (<= 0: a tenth of the
   * timeout, at most 5 s). */
  double claim_timeout, heartbeat;
  /* The last n_steal points are other shards' unfinished points, taken
   * when this process has nothing of its own to do and nobody holds them
   * (work stealing); the points before them are this process's own (its
   * shard): each is run, or waited for while another live process holds
   * it. */
  size_t n_steal;
  /* A point that fails is queued again until it has failed max_retries + 1
   * times (counted in its summary, across processes); then it stays
   * failed, with every attempt's error. */
  unsigned max_retries;
  /* Points trained side by side (train/models.h): group[i] is point i's
   * group (SIZE_MAX: alone; NULL: every point alone). A worker that takes
   * a point takes the waiting points of its group with it, up to
   * max_models (at most 8), each under its own claim and with the files it
   * would have alone. A point that failed before, and a group whose points
   * cannot resume together, train alone. */
  const size_t *group;
  size_t max_models;
} cls_sweep_run_config;

/* Runs points[0..n) (the caller has left out finished points and other
 * shards' points); outcomes[i] is point i's. Returns CLS_OK when every
 * worker could work (whatever the points' statuses); else the status of
 * the first worker that could not, with the message in err, after the
 * other workers ran the points. Points no worker reached have ran = 0. */
cls_status cls_sweep_run(const cls_sweep_spec *s, const cls_sweep_point *points, size_t n,
                         const cls_sweep_run_config *cfg, cls_sweep_outcome *outcomes, char *err, size_t err_len);

#endif
