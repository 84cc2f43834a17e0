/* tools/sweep_progress.c — see sweep_progress.h. */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/clock.h"
#include "format.h"
#include "sweep_progress.h"

int cls_sweep_progress_init(cls_sweep_progress *pr, const cls_opt_command *cmd, int quiet, size_t total,
                            size_t done, size_t n_workers, const cls_sweep_point *queue, size_t queue_n) {
  memset(pr, 0, sizeof *pr);
  pr->cmd = cmd;
  pr->tty = isatty(STDERR_FILENO);
  pr->quiet = quiet;
  pr->total = total;
  pr->done = done;
  pr->n_workers = n_workers;
  pr->queue = queue;
  pr->queue_n = queue_n;
  pr->last_print = -1;
  /* A test hook (docs/sweep.md): SIGKILL this process once a corpus being
   * made has this many sequences in its temporary file, to test that a
   * re-run makes the same corpus. */
  const char *kill_at = getenv("CLSCALE_TEST_KILL_CORPUS");
  pr->kill_corpus_at = kill_at ? (size_t)strtoull(kill_at, NULL, 10) : 0;
  pr->state = calloc(queue_n ? queue_n : 1, sizeof *pr->state);
  pr->rate = calloc(queue_n ? queue_n : 1, sizeof *pr->rate);
  if (pr->state && pr->rate) return 0;
  cls_sweep_progress_free(pr);
  return -1;
}

void cls_sweep_progress_free(cls_sweep_progress *pr) {
  free(pr->state);
  free(pr->rate);
  pr->state = NULL;
  pr->rate = NULL;
}

/* The median seconds per budget unit of the finished ok points (NAN when
 * none), for shapes not measured yet. */
static double median_rate(const cls_sweep_progress *pr) {
  double rates[512];
  size_t nr = 0;
  for (size_t i = 0; i < pr->queue_n && nr < 512; i++)
    if (pr->state[i] == 2 && isfinite(pr->rate[i])) rates[nr++] = pr->rate[i];
  if (!nr) return NAN;
  for (size_t i = 1; i < nr; i++)
    for (size_t j = i; j > 0 && rates[j - 1] > rates[j]; j--) {
      double t = rates[j];
      rates[j] = rates[j - 1];
      rates[j - 1] = t;
    }
  return rates[nr / 2];
}

/* The rate of a finished ok point of p's shape and budget kind, or NAN. */
static double rate_of_shape(const cls_sweep_progress *pr, const cls_sweep_point *p) {
  for (size_t j = 0; j < pr->queue_n; j++)
    if (pr->state[j] == 2 && isfinite(pr->rate[j]) && pr->queue[j].shape.width == p->shape.width &&
        pr->queue[j].shape.depth == p->shape.depth && pr->queue[j].budget.kind == p->budget.kind)
      return pr->rate[j];
  return NAN;
}

/* The expected seconds of the points not yet started, from the finished
 * points of the same shape and budget kind (seconds per budget unit), or
 * their median over shapes; plus the running points' own ETAs; shared among
 * the workers. */
static double eta(const cls_sweep_progress *pr) {
  const double median = median_rate(pr);
  if (isnan(median)) return NAN;
  double remaining = 0;
  for (size_t i = 0; i < pr->queue_n; i++) {
    if (pr->state[i]) continue;
    double rate = rate_of_shape(pr, &pr->queue[i]);
    remaining += (isnan(rate) ? median : rate) * pr->queue[i].budget.value;
  }
  double current = 0;
  for (size_t w = 0; w < pr->n_workers; w++)
    if (pr->current[w] && isfinite(pr->point_eta[w])) current += pr->point_eta[w];
  return (remaining + current) / (double)(pr->n_workers ? pr->n_workers : 1);
}

static void draw(cls_sweep_progress *pr) {
  if (!pr->tty || pr->quiet) return;
  char line[1024], e[32];
  int n = snprintf(line, sizeof line, "\r[%zu/%zu done", pr->done, pr->total);
  if (pr->failed) n += snprintf(line + n, sizeof line - (size_t)n, ", %zu failed", pr->failed);
  n += snprintf(line + n, sizeof line - (size_t)n, "]");
  double point_eta = NAN;
  for (size_t w = 0; w < pr->n_workers && (size_t)n < sizeof line - 100; w++) {
    if (!pr->current[w]) continue;
    if (pr->corpus_total[w])
      n += snprintf(line + n, sizeof line - (size_t)n, "  %s corpus %zu/%zu", pr->current[w]->id,
                    pr->corpus_done[w], pr->corpus_total[w]);
    else if (pr->steps[w])
      n += snprintf(line + n, sizeof line - (size_t)n, "  %s step %llu/%llu", pr->current[w]->id,
                    (unsigned long long)pr->step[w], (unsigned long long)pr->steps[w]);
    else
      n += snprintf(line + n, sizeof line - (size_t)n, "  %s starting", pr->current[w]->id);
    point_eta = pr->point_eta[w];
  }
  double left = eta(pr);
  if (isfinite(left)) {
    cls_fmt_duration(left, e, sizeof e);
    n += snprintf(line + n, sizeof line - (size_t)n, "  ETA %s", e);
  } else if (isfinite(point_eta) && pr->n_workers == 1) {
    /* nothing finished yet: the sweep's ETA is not known, the point's is */
    cls_fmt_duration(point_eta, e, sizeof e);
    n += snprintf(line + n, sizeof line - (size_t)n, "  this point: %s", e);
  }
  fprintf(stderr, "%s\033[K", line);
  fflush(stderr);
  pr->printed = 1;
}

void cls_sweep_progress_clear(cls_sweep_progress *pr) {
  if (pr->printed) {
    fprintf(stderr, "\r\033[K");
    fflush(stderr);
    pr->printed = 0;
  }
}

static void on_start(void *user, size_t w, const cls_sweep_point *p, int resuming) {
  cls_sweep_progress *pr = user;
  pr->state[p - pr->queue] = 1;
  if (w < CLS_MAX_WORKERS) {
    pr->current[w] = p;
    pr->step[w] = pr->steps[w] = 0;
    pr->corpus_done[w] = pr->corpus_total[w] = 0;
    pr->point_eta[w] = NAN;
  }
  if (resuming && !pr->quiet) {
    cls_sweep_progress_clear(pr);
    printf("resuming %s from its checkpoint\n", p->id);
    fflush(stdout);
  }
  draw(pr);
}

static void on_step(void *user, size_t w, const cls_sweep_point *p, const cls_train_progress *pg) {
  cls_sweep_progress *pr = user;
  (void)p;
  if (w >= CLS_MAX_WORKERS) return;
  pr->step[w] = pg->step;
  pr->steps[w] = pg->total_steps;
  pr->point_eta[w] = pg->eta_seconds;
  double t = cls_now();
  if (t - pr->last_print < 0.2 && pg->step != pg->total_steps) return; /* at most 5 lines a second */
  pr->last_print = t;
  draw(pr);
}

/* The line of a finished point, and its error or what to do next. */
static void print_point(const cls_sweep_progress *pr, const cls_sweep_point *p, const cls_sweep_outcome *o) {
  char a[32], b[32], c[32], d[32];
  printf("[%zu/%zu] %-28s %-11s N %s  D %s  C %s  loss %s  %.1fs%s\n", pr->done, pr->total, p->id,
         cls_run_status_name(o->status), cls_fmt_g(o->n_params, a, sizeof a), cls_fmt_g(o->tokens, b, sizeof b),
         cls_fmt_g(o->flops, c, sizeof c), cls_fmt_g(o->final_eval_loss, d, sizeof d), o->seconds,
         o->resumed     ? "  (resumed)"
         : o->restarted ? "  (checkpoint unusable: started over)"
                        : "");
  if (o->status == CLS_RUN_INTERRUPTED) {
    printf("      checkpointed; the same command continues it\n");
  } else if (o->status != CLS_RUN_OK && o->error[0]) {
    char shown[sizeof o->error];
    cls_opt_translate(pr->cmd, o->error, shown, sizeof shown);
    printf("      %s\n", shown);
  }
  fflush(stdout);
}

static void on_done(void *user, size_t w, const cls_sweep_point *p, const cls_sweep_outcome *o) {
  cls_sweep_progress *pr = user;
  if (w < CLS_MAX_WORKERS) pr->current[w] = NULL;
  if (o->will_retry) {
    /* Not finished: queued again. */
    pr->state[p - pr->queue] = 0;
    if (!pr->quiet) {
      cls_sweep_progress_clear(pr);
      char shown[sizeof o->error];
      cls_opt_translate(pr->cmd, o->error, shown, sizeof shown);
      if (o->lost)
        printf("%s failed after another process took its claim over: %s\n      looking at it again\n", p->id,
               shown);
      else
        printf("%s failed (attempt %u): %s\n      trying again\n", p->id, o->attempts, shown);
      fflush(stdout);
    }
    draw(pr);
    return;
  }
  pr->state[p - pr->queue] = 2;
  pr->rate[p - pr->queue] = o->status == CLS_RUN_OK ? o->seconds / p->budget.value : NAN;
  if (o->status == CLS_RUN_INTERRUPTED) {
    pr->interrupted++;
  } else {
    pr->done++;
    pr->failed += o->status == CLS_RUN_FAILED;
    pr->diverged += o->status == CLS_RUN_DIVERGED;
  }
  /* A failed point is said even when quiet: its summary, where the error
   * is kept, may be what could not be written. */
  if (!pr->quiet || o->status == CLS_RUN_FAILED) {
    cls_sweep_progress_clear(pr);
    print_point(pr, p, o);
  }
  draw(pr);
}

static void on_corpus(void *user, size_t w, const cls_sweep_point *p, size_t done, size_t total,
                      const cls_synth_result *res) {
  cls_sweep_progress *pr = user;
  if (!res && pr->kill_corpus_at && done >= pr->kill_corpus_at && done < total) raise(SIGKILL);
  if (w < CLS_MAX_WORKERS) {
    pr->corpus_done[w] = done;
    pr->corpus_total[w] = res ? 0 : total;
  }
  if (res && !pr->quiet) {
    cls_sweep_progress_clear(pr);
    if (res->reused)
      printf("corpus of %s: reused (%llu sequences, checksum 0x%016llx)\n", p->teacher_id,
             (unsigned long long)res->n, (unsigned long long)res->checksum);
    else
      printf("corpus of %s: %llu sequences in %.1f s; %s\n", p->teacher_id, (unsigned long long)res->n,
             res->seconds, res->summary);
    fflush(stdout);
    return;
  }
  double t = cls_now();
  if (t - pr->last_print < 0.2) return;
  pr->last_print = t;
  draw(pr);
}

static void on_worker_failed(void *user, size_t w, const char *device, const char *msg) {
  cls_sweep_progress *pr = user;
  (void)w;
  cls_sweep_progress_clear(pr);
  cls_opt_fail(pr->cmd, 0, "device %s cannot be used: %s", device, msg);
}

/* Claims: a warning goes to stderr always; other notes (a stale claim
 * taken over, a point held elsewhere) to stdout unless quiet. */
static void on_note(void *user, size_t w, const cls_sweep_point *p, const char *msg) {
  cls_sweep_progress *pr = user;
  (void)w;
  (void)p;
  cls_sweep_progress_clear(pr);
  if (!strncmp(msg, "warning: ", 9)) {
    fflush(stdout);
    cls_opt_fail(pr->cmd, 0, "%s", msg);
  } else if (!pr->quiet) {
    printf("%s\n", msg);
    fflush(stdout);
  }
  draw(pr);
}

cls_sweep_callbacks cls_sweep_progress_callbacks(cls_sweep_progress *pr) {
  cls_sweep_callbacks cb = {pr, on_start, on_step, on_done, on_worker_failed, on_corpus, on_note};
  return cb;
}
