/* tools/sweep_status.c — see sweep_status.h. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "command.h"
#include "commands.h"
#include "format.h"
#include "rundir/claim.h"
#include "rundir/json.h"
#include "rundir/rundir.h"
#include "sweep_status.h"

typedef enum { ST_DONE, ST_RUNNING, ST_STALE, ST_FAILED, ST_PENDING, ST_N } point_kind;
static const char *const kind_names[ST_N] = {"done", "running", "stale", "failed", "pending"};

typedef struct {
  const char *id;
  point_kind kind;
  cls_point_state state; /* of the summary */
  int have_claim, claim_bad, retrying, resumable;
  cls_claim claim;
  double age; /* seconds since the claim's heartbeat */
  char error[600];
  unsigned attempts;
  double flops, seconds, loss, budget_flops;
} point_view;

/* One point's state from its summary, its claim and its checkpoint. */
static void view_point(const cls_sweep_status_args *a, const char *id, double budget_flops, double now,
                       point_view *v) {
  memset(v, 0, sizeof *v);
  v->id = id;
  v->budget_flops = budget_flops;
  v->flops = v->seconds = v->loss = NAN;
  const double timeout = a->claim_timeout > 0 ? a->claim_timeout : 300;
  char path[4200];
  cls_point_summary s;
  v->state = CLS_POINT_NEW;
  if (cls_rundir_path(path, sizeof path, a->dir, CLS_RUNDIR_SUMMARY, id) == CLS_OK && access(path, F_OK) == 0) {
    if (cls_point_summary_read(path, &s, NULL, 0) == CLS_OK) {
      v->state = s.status ? s.state : CLS_POINT_UNREADABLE;
      v->flops = s.flops;
      v->seconds = s.seconds;
      v->loss = s.final_eval_loss;
      if (v->state == CLS_POINT_FAILED) {
        v->attempts = isnan(s.attempts) || s.attempts < 1 ? 1u
                      : s.attempts > 1e6                  ? 1000000u
                                                          : (unsigned)s.attempts;
        snprintf(v->error, sizeof v->error, "%s", s.error ? s.error : "");
      }
      cls_point_summary_release(&s);
    } else {
      v->state = CLS_POINT_UNREADABLE;
    }
  }
  cls_status cs = cls_claim_read(a->dir, id, &v->claim, NULL, 0);
  v->have_claim = cs == CLS_OK;
  v->claim_bad = cs == CLS_ERR_FORMAT;
  v->age = v->have_claim ? fmax(0, now - v->claim.heartbeat) : NAN;
  v->resumable = cls_rundir_has_checkpoint(a->dir, id);
  if (cls_point_state_done(v->state))
    v->kind = ST_DONE;
  else if (v->have_claim && v->age <= timeout && !cls_claim_holder_gone(&v->claim))
    v->kind = ST_RUNNING;
  else if (v->have_claim || v->claim_bad)
    v->kind = ST_STALE;
  else if (v->state == CLS_POINT_FAILED)
    v->kind = ST_FAILED;
  else
    v->kind = ST_PENDING;
  v->retrying = v->kind == ST_FAILED && v->attempts <= a->max_retries;
}

typedef struct {
  size_t n, count[ST_N], diverged, retrying;
  double flops_done, flops_planned, eta;
  size_t running_workers;
} totals;

/* FLOPs done (finished points' measured FLOPs, running points' share of
 * their budget) against the plan's FLOP budgets; the ETA from the seconds
 * per FLOP of the finished points, shared among the running processes. */
static void sum_up(const point_view *v, size_t n, totals *t) {
  memset(t, 0, sizeof *t);
  t->n = n;
  double sec = 0, fl = 0, planned = 0;
  int all_flops = 1;
  for (size_t i = 0; i < n; i++) {
    t->count[v[i].kind]++;
    t->diverged += v[i].state == CLS_POINT_DIVERGED;
    t->retrying += v[i].retrying;
    if (isfinite(v[i].budget_flops))
      planned += v[i].budget_flops;
    else
      all_flops = 0;
    if (v[i].kind == ST_DONE && isfinite(v[i].flops)) {
      t->flops_done += v[i].flops;
      if (isfinite(v[i].seconds) && v[i].seconds > 0) {
        sec += v[i].seconds;
        fl += v[i].flops;
      }
    } else if (v[i].kind == ST_RUNNING && v[i].claim.total_steps && isfinite(v[i].budget_flops)) {
      t->flops_done += v[i].budget_flops * (double)v[i].claim.step / (double)v[i].claim.total_steps;
    }
  }
  t->running_workers = t->count[ST_RUNNING];
  t->flops_planned = all_flops ? planned : NAN;
  t->eta = NAN;
  if (all_flops && fl > 0 && sec > 0) {
    const double left = fmax(0, planned - t->flops_done);
    t->eta = left * sec / fl / (double)(t->running_workers ? t->running_workers : 1);
  }
}

static void print_text(const cls_sweep_status_args *a, const char *name, const point_view *v, const totals *t) {
  printf("sweep '%s' in %s: %zu points\n", name ? name : "?", a->dir, t->n);
  for (size_t i = 0; i < t->n; i++) {
    const point_view *p = &v[i];
    char g[32], age[32], line[1600];
    int k = snprintf(line, sizeof line, "  %-32s %-8s", p->id, kind_names[p->kind]);
    switch (p->kind) {
    case ST_DONE:
      snprintf(line + k, sizeof line - (size_t)k, " %s, loss %s", cls_point_state_name(p->state),
               cls_fmt_g(p->loss, g, sizeof g));
      break;
    case ST_RUNNING:
    case ST_STALE:
      if (p->have_claim) {
        cls_fmt_duration(p->age, age, sizeof age);
        char at[64] = "starting";
        if (p->claim.total_steps)
          snprintf(at, sizeof at, "step %llu/%llu", (unsigned long long)p->claim.step,
                   (unsigned long long)p->claim.total_steps);
        snprintf(line + k, sizeof line - (size_t)k, " %s pid %llu%s%s%s%s, %s, heartbeat %s ago%s", p->claim.host,
                 (unsigned long long)p->claim.pid, p->claim.slurm_job[0] ? ", Slurm job " : "", p->claim.slurm_job,
                 p->claim.slurm_task[0] ? " task " : "", p->claim.slurm_task, at, age,
                 p->kind == ST_STALE ? " (the next worker takes it over)" : "");
      } else {
        snprintf(line + k, sizeof line - (size_t)k,
                 " its claim file is not a claim (the next worker takes it over)");
      }
      break;
    case ST_FAILED:
      snprintf(line + k, sizeof line - (size_t)k, " %u attempt%s%s: %.500s", p->attempts,
               p->attempts > 1 ? "s" : "", p->retrying ? ", to be retried" : ", not retried (--max-retries)",
               p->error);
      break;
    default:
      snprintf(line + k, sizeof line - (size_t)k, "%s",
               p->state == CLS_POINT_INTERRUPTED || p->resumable ? " (resumes from its checkpoint)" : "");
    }
    printf("%s\n", line);
  }
  printf("totals: %zu done (%zu diverged), %zu running, %zu stale, %zu failed (%zu to be retried), %zu pending\n",
         t->count[ST_DONE], t->diverged, t->count[ST_RUNNING], t->count[ST_STALE], t->count[ST_FAILED],
         t->retrying, t->count[ST_PENDING]);
  char d[32], pl[32], e[32];
  if (isfinite(t->flops_planned) && t->flops_planned > 0)
    printf("FLOPs: %s done of %s planned (%.0f%%)", cls_fmt_g(t->flops_done, d, sizeof d),
           cls_fmt_g(t->flops_planned, pl, sizeof pl), 100 * t->flops_done / t->flops_planned);
  else
    printf("FLOPs: %s done (budgets not in FLOPs: no plan to compare)", cls_fmt_g(t->flops_done, d, sizeof d));
  if (t->count[ST_DONE] == t->n) {
    printf("; finished\n");
  } else if (isfinite(t->eta)) {
    cls_fmt_duration(t->eta, e, sizeof e);
    printf("; ETA %s (at the finished points' speed, over %zu running process%s)\n", e,
           t->running_workers ? t->running_workers : 1, t->running_workers == 1 ? "" : "es");
  } else {
    printf("; ETA unknown until a point finishes\n");
  }
}

static void add_num(cJSON *o, const char *k, double v) {
  if (isfinite(v))
    cJSON_AddNumberToObject(o, k, v);
  else
    cJSON_AddNullToObject(o, k);
}

static int print_json(const cls_sweep_status_args *a, const char *name, const point_view *v, const totals *t) {
  cJSON *root = cJSON_CreateObject(), *pts = cJSON_CreateArray(), *tot = cJSON_CreateObject();
  if (!root || !pts || !tot) {
    cJSON_Delete(root);
    cJSON_Delete(pts);
    cJSON_Delete(tot);
    return 0;
  }
  cJSON_AddStringToObject(root, "run_dir", a->dir);
  if (name) cJSON_AddStringToObject(root, "name", name);
  for (size_t i = 0; i < t->n; i++) {
    const point_view *p = &v[i];
    cJSON *o = cJSON_CreateObject();
    if (!o) continue;
    cJSON_AddStringToObject(o, "id", p->id);
    cJSON_AddStringToObject(o, "state", kind_names[p->kind]);
    cJSON_AddStringToObject(o, "status", cls_point_state_name(p->state));
    if (p->have_claim) {
      cJSON_AddStringToObject(o, "host", p->claim.host);
      cJSON_AddNumberToObject(o, "pid", (double)p->claim.pid);
      cJSON_AddStringToObject(o, "slurm_job", p->claim.slurm_job);
      cJSON_AddStringToObject(o, "slurm_task", p->claim.slurm_task);
      cJSON_AddNumberToObject(o, "step", (double)p->claim.step);
      cJSON_AddNumberToObject(o, "total_steps", (double)p->claim.total_steps);
      add_num(o, "heartbeat_age", p->age);
    }
    if (p->claim_bad) cJSON_AddTrueToObject(o, "claim_unreadable");
    if (p->state == CLS_POINT_FAILED) {
      cJSON_AddStringToObject(o, "error", p->error);
      cJSON_AddNumberToObject(o, "attempts", p->attempts);
      cJSON_AddBoolToObject(o, "will_retry", p->retrying);
    }
    add_num(o, "flops", p->flops);
    add_num(o, "final_eval_loss", p->loss);
    cJSON_AddItemToArray(pts, o);
  }
  cJSON_AddItemToObject(root, "points", pts);
  for (int k = 0; k < ST_N; k++) cJSON_AddNumberToObject(tot, kind_names[k], (double)t->count[k]);
  cJSON_AddNumberToObject(tot, "diverged", (double)t->diverged);
  cJSON_AddNumberToObject(tot, "to_retry", (double)t->retrying);
  cJSON_AddNumberToObject(tot, "points", (double)t->n);
  cJSON_AddItemToObject(root, "totals", tot);
  add_num(root, "flops_done", t->flops_done);
  add_num(root, "flops_planned", t->flops_planned);
  add_num(root, "eta_seconds", t->eta);
  char *text = cJSON_Print(root);
  cJSON_Delete(root);
  if (!text) return 0;
  printf("%s\n", text);
  free(text);
  return 1;
}

/* One look at the run directory; the exit code of what it shows. */
static int show(const cls_opt_command *cmd, const cls_sweep_status_args *a) {
  cls_manifest_info m;
  char err[4096];
  cls_status st = cls_manifest_read(a->dir, &m, err, sizeof err);
  if (st != CLS_OK) {
    cls_opt_fail(cmd, 0, "%s%s", err,
                 st == CLS_ERR_IO ? " (is RUN_DIR the --out of a sweep? its manifest.json is written first)" : "");
    cls_manifest_info_free(&m);
    return CLS_EXIT_FAIL;
  }
  const int n = m.points ? cJSON_GetArraySize(m.points) : 0;
  point_view *v = calloc(n > 0 ? (size_t)n : 1, sizeof *v);
  if (!v) {
    cls_manifest_info_free(&m);
    return cls_opt_fail(cmd, CLS_EXIT_FAIL, "out of host memory");
  }
  const double now = cls_claim_clock();
  size_t k = 0;
  for (const cJSON *p = m.points ? m.points->child : NULL; p; p = p->next) {
    const char *id = cls_json_get_str(p, "id");
    if (!cls_rundir_id_ok(id)) continue; /* not a point this clscale would write: not looked for */
    view_point(a, id, cls_json_get_num(p, "budget_flops"), now, &v[k++]);
  }
  totals t;
  sum_up(v, k, &t);
  int code = t.count[ST_DONE] == t.n                                       ? CLS_EXIT_OK
             : t.count[ST_FAILED] == t.n - t.count[ST_DONE] && !t.retrying ? CLS_EXIT_FAIL
                                                                           : 3;
  if (a->json) {
    if (!print_json(a, m.name, v, &t)) code = cls_opt_fail(cmd, CLS_EXIT_FAIL, "out of host memory");
  } else {
    print_text(a, m.name, v, &t);
  }
  fflush(stdout);
  free(v);
  cls_manifest_info_free(&m);
  return code;
}

int cls_sweep_status(const cls_opt_command *cmd, const cls_sweep_status_args *a) {
  if (!a->watch) return show(cmd, a);
  /* Until SIGINT/SIGTERM: the screen cleared on a terminal, a blank line
   * between looks otherwise (a log). */
  cls_cmd_catch_signals();
  const volatile sig_atomic_t *stop = cls_cmd_stop_flag();
  const int tty = isatty(1);
  int code = CLS_EXIT_OK;
  while (!*stop) {
    if (tty) printf("\033[H\033[J");
    code = show(cmd, a);
    if (!tty) printf("\n");
    fflush(stdout);
    for (double slept = 0; slept < a->interval && !*stop; slept += 0.1) {
      struct timespec ts = {0, 100000000L};
      nanosleep(&ts, NULL);
    }
  }
  cls_cmd_release_signals();
  return code == CLS_EXIT_FAIL ? CLS_EXIT_FAIL : CLS_EXIT_OK;
}
