/*
 * tools/cmd_sweep.c — `clscale sweep SPEC`: a grid of model sizes x budgets
 * trained into one run directory, resumable and shardable. The work is
 * src/sweep/ (spec, plan, run directory, runner, calibration); this file
 * parses options, chooses devices and shards, installs the signal handlers
 * and prints the plan, the progress and the results. docs/sweep.md is the
 * manual.
 */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clscale/device.h"
#include "commands.h"
#include "format.h"
#include "sweep/calibrate.h"
#include "sweep/plan.h"
#include "sweep/rundir.h"
#include "sweep/runner.h"
#include "sweep/spec.h"
#include "core/clock.h"

static void usage(FILE *f) {
  fprintf(f,
          "usage: clscale sweep SPEC [--out RUN_DIR] [--shard I/N] [--devices all|LIST | --device SEL]\n"
          "                     [--dry-run] [--matmul-backend B] [--quiet]\n\n"
          "Trains the grid of SPEC (a JSON or INI file: task, model sizes, budgets, seeds, learning rate, ...;\n"
          "docs/sweep.md) into RUN_DIR: manifest.json, and points/ID.csv and points/ID.json per point, which\n"
          "`clscale fit` and `clscale plot` read. Re-running the same command skips finished points and\n"
          "resumes interrupted ones from their checkpoints; a point that fails or diverges is recorded with\n"
          "its status and the sweep goes on.\n\n"
          "  --out RUN_DIR       the run directory (default runs/NAME, NAME from the spec)\n"
          "  --shard I/N         run only points I, I+N, I+2N, ... (0 <= I < N); several shards, on several\n"
          "                      machines, may write into one shared RUN_DIR. Without it, a Slurm job array's\n"
          "                      SLURM_ARRAY_TASK_ID and SLURM_ARRAY_TASK_COUNT are used when set\n"
          "  --devices all|LIST  one worker per device, running points concurrently: every device, or a\n"
          "                      comma-separated list of selectors (0:0,1:0 or gpu,cpu; 'default' is the\n"
          "                      --device default; a device listed twice runs two points at once on it)\n"
          "  --device SEL        a single device: P:D, gpu, cpu or a name substring (default\n"
          "                      CLSCALE_DEVICE, else the fastest GPU, else the CPU device)\n"
          "  --dry-run           print the plan (each point's N, D, FLOPs and estimated time, from a short\n"
          "                      calibration of each model shape on the device) and train nothing\n"
          "  --matmul-backend B  auto, own, clblast or host (default CLSCALE_MATMUL_BACKEND, else auto)\n"
          "  --quiet             no progress line, no per-point lines\n\n"
          "On a terminal a progress line shows points done/total, the current point(s) and the ETA.\n"
          "SIGINT/SIGTERM checkpoint the running points and stop; the same command continues.\n"
          "exit codes: 0 every point of this shard finished (ok or diverged); 1 a point failed or was\n"
          "interrupted, or the run directory or a device could not be used; 2 bad usage or a bad spec\n");
}

static volatile sig_atomic_t stop_flag = 0;
static void on_signal(int sig) {
  (void)sig;
  stop_flag = 1; /* every running point checkpoints and stops after its step */
}

static const char *g(double v, char *out, size_t len) {
  if (!isfinite(v))
    snprintf(out, len, "-");
  else
    snprintf(out, len, "%.3g", v);
  return out;
}

/* ------------------------------------------------------------ progress */

#define MAX_WORKERS 64

typedef struct {
  int tty, quiet;
  size_t total, done, failed, diverged, interrupted;
  size_t n_workers;
  const cls_sweep_point *current[MAX_WORKERS];
  uint64_t step[MAX_WORKERS], steps[MAX_WORKERS];
  double point_eta[MAX_WORKERS];
  double last_print, t0;
  int printed;
  /* Seconds per budget unit, by model shape, from finished points: the ETA
   * of the points still queued. */
  const cls_sweep_point *queue;
  size_t queue_n;
  /* Per queued point (kept here, under the runner's lock): 0 queued, 1
   * running, 2 finished; seconds per budget unit of the ok ones. */
  int *state;
  double *rate;
  const char *const *device_names;
} progress;

/* The expected seconds of the points not yet started, from the finished
 * points of the same shape and budget kind (seconds per budget unit), or
 * their median over shapes. Then shared among the workers. */
static double eta(const progress *pr) {
  double rates[512];
  size_t nr = 0;
  double remaining = 0;
  for (size_t i = 0; i < pr->queue_n && nr < 512; i++)
    if (pr->state[i] == 2 && isfinite(pr->rate[i])) rates[nr++] = pr->rate[i];
  if (!nr) return NAN;
  /* the median rate, for shapes not measured yet */
  for (size_t i = 1; i < nr; i++)
    for (size_t j = i; j > 0 && rates[j - 1] > rates[j]; j--) {
      double t = rates[j];
      rates[j] = rates[j - 1];
      rates[j - 1] = t;
    }
  const double median = rates[nr / 2];
  for (size_t i = 0; i < pr->queue_n; i++) {
    const cls_sweep_point *p = &pr->queue[i];
    if (pr->state[i]) continue;
    double rate = NAN;
    for (size_t j = 0; j < pr->queue_n && isnan(rate); j++)
      if (pr->state[j] == 2 && isfinite(pr->rate[j]) && pr->queue[j].shape.width == p->shape.width &&
          pr->queue[j].shape.depth == p->shape.depth && pr->queue[j].budget.kind == p->budget.kind)
        rate = pr->rate[j];
    remaining += (isnan(rate) ? median : rate) * p->budget.value;
  }
  double current = 0;
  for (size_t w = 0; w < pr->n_workers; w++)
    if (pr->current[w] && isfinite(pr->point_eta[w])) current += pr->point_eta[w];
  return (remaining + current) / (double)(pr->n_workers ? pr->n_workers : 1);
}

static void draw(progress *pr) {
  if (!pr->tty || pr->quiet) return;
  char line[1024], e[32];
  int n = snprintf(line, sizeof line, "\r[%zu/%zu done", pr->done, pr->total);
  if (pr->failed) n += snprintf(line + n, sizeof line - (size_t)n, ", %zu failed", pr->failed);
  n += snprintf(line + n, sizeof line - (size_t)n, "]");
  double point_eta = NAN;
  for (size_t w = 0; w < pr->n_workers && (size_t)n < sizeof line - 100; w++) {
    if (!pr->current[w]) continue;
    if (pr->steps[w])
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

static void clear_line(progress *pr) {
  if (pr->printed) {
    fprintf(stderr, "\r\033[K");
    fflush(stderr);
    pr->printed = 0;
  }
}

static void cb_start(void *user, size_t w, const cls_sweep_point *p, int resuming) {
  progress *pr = user;
  pr->state[p - pr->queue] = 1;
  if (w < MAX_WORKERS) {
    pr->current[w] = p;
    pr->step[w] = pr->steps[w] = 0;
    pr->point_eta[w] = NAN;
  }
  if (resuming && !pr->quiet) {
    clear_line(pr);
    printf("resuming %s from its checkpoint\n", p->id);
    fflush(stdout);
  }
  draw(pr);
}

static void cb_progress(void *user, size_t w, const cls_sweep_point *p, const cls_train_progress *pg) {
  progress *pr = user;
  (void)p;
  if (w >= MAX_WORKERS) return;
  pr->step[w] = pg->step;
  pr->steps[w] = pg->total_steps;
  pr->point_eta[w] = pg->eta_seconds;
  double t = cls_now();
  if (t - pr->last_print < 0.2 && pg->step != pg->total_steps) return; /* at most 5 lines a second */
  pr->last_print = t;
  draw(pr);
}

static void cb_done(void *user, size_t w, const cls_sweep_point *p, const cls_sweep_outcome *o) {
  progress *pr = user;
  if (w < MAX_WORKERS) pr->current[w] = NULL;
  pr->state[p - pr->queue] = 2;
  pr->rate[p - pr->queue] = o->status == CLS_RUN_OK ? o->seconds / p->budget.value : NAN;
  if (o->status == CLS_RUN_INTERRUPTED) {
    pr->interrupted++;
  } else {
    pr->done++;
    pr->failed += o->status == CLS_RUN_FAILED;
    pr->diverged += o->status == CLS_RUN_DIVERGED;
  }
  if (!pr->quiet) {
    clear_line(pr);
    char a[32], b[32], c[32], d[32];
    printf("[%zu/%zu] %-28s %-11s N %s  D %s  C %s  loss %s  %.1fs%s\n", pr->done, pr->total, p->id,
           cls_run_status_name(o->status), g(o->n_params, a, sizeof a), g(o->tokens, b, sizeof b),
           g(o->flops, c, sizeof c), g(o->final_eval_loss, d, sizeof d), o->seconds,
           o->resumed     ? "  (resumed)"
           : o->restarted ? "  (checkpoint unusable: started over)"
                          : "");
    if (o->status == CLS_RUN_INTERRUPTED)
      printf("      checkpointed; the same command continues it\n");
    else if (o->status != CLS_RUN_OK && o->error[0])
      printf("      %s\n", o->error);
    fflush(stdout);
  }
  draw(pr);
}

static void cb_worker_failed(void *user, size_t w, const char *device, const char *msg) {
  progress *pr = user;
  (void)w;
  clear_line(pr);
  fprintf(stderr, "clscale sweep: device %s cannot be used: %s\n", device, msg);
}

/* ------------------------------------------------------------- devices */

typedef struct {
  char sel[MAX_WORKERS][32];
  char name[MAX_WORKERS][300];
  size_t n;
} device_choice;

/* --devices all|LIST or --device SEL (or the default) as P:D selectors. */
static int choose_devices(const char *devices, const char *device, device_choice *out, char *err, size_t len) {
  out->n = 0;
  cls_device_list *list;
  if (cls_devices_list(&list, err, len) != CLS_OK) return CLS_EXIT_FAIL;
  int code = CLS_EXIT_OK;
  if (devices && !strcmp(devices, "all")) {
    for (size_t i = 0; i < list->count && out->n < MAX_WORKERS; i++, out->n++) {
      snprintf(out->sel[out->n], sizeof out->sel[0], "%d:%d", list->devices[i].platform_index,
               list->devices[i].device_index);
      snprintf(out->name[out->n], sizeof out->name[0], "%s", list->devices[i].name);
    }
    if (!out->n) {
      snprintf(err, len, "no OpenCL device found");
      code = CLS_EXIT_FAIL;
    }
  } else {
    char buf[1024];
    const char *env = getenv("CLSCALE_DEVICE");
    snprintf(buf, sizeof buf, "%s", devices ? devices : device ? device : env ? env : "");
    char *save = NULL;
    char *tok = devices ? strtok_r(buf, ",", &save) : buf;
    for (; tok && code == CLS_EXIT_OK; tok = devices ? strtok_r(NULL, ",", &save) : NULL) {
      if (out->n == MAX_WORKERS) {
        snprintf(err, len, "--devices: at most %d workers", MAX_WORKERS);
        code = CLS_EXIT_USAGE;
        break;
      }
      size_t idx;
      char why[2048];
      /* "default": what --device would choose without a selector */
      const char *sel = devices && !strcmp(tok, "default") ? (env ? env : "") : tok;
      if (cls_device_select(list, sel, &idx, why, sizeof why) != CLS_OK) {
        snprintf(err, len, "%s", why);
        code = CLS_EXIT_FAIL;
        break;
      }
      snprintf(out->sel[out->n], sizeof out->sel[0], "%d:%d", list->devices[idx].platform_index,
               list->devices[idx].device_index);
      snprintf(out->name[out->n], sizeof out->name[0], "%s", list->devices[idx].name);
      out->n++;
    }
    if (code == CLS_EXIT_OK && !out->n) {
      snprintf(err, len, "--devices: the list is empty");
      code = CLS_EXIT_USAGE;
    }
  }
  cls_device_list_free(list);
  return code;
}

/* ---------------------------------------------------------------- shard */

static int parse_shard(const char *v, size_t *i, size_t *n) {
  char *end;
  errno = 0;
  unsigned long a = strtoul(v, &end, 10);
  if (end == v || *end != '/' || v[0] == '-') return 0;
  const char *q = end + 1;
  unsigned long b = strtoul(q, &end, 10);
  if (end == q || *end || errno || *q == '-' || b < 1 || a >= b || b > 1000000) return 0;
  *i = a;
  *n = b;
  return 1;
}

/* ---------------------------------------------------------------- plan */

static int dry_run(const cls_sweep_spec *s, const cls_sweep_point *pts, const size_t *mine, size_t n_mine,
                   size_t n_all, const device_choice *dev, const char *backend, const char *shard_note) {
  cls_context_options opts;
  cls_context_options_init(&opts);
  opts.device = dev->sel[0];
  if (backend) opts.matmul_backend = backend;
  char err[4096];
  cls_context *ctx;
  if (cls_context_create(&opts, &ctx, err, sizeof err) != CLS_OK) {
    fprintf(stderr, "clscale sweep: %s\n", err);
    return CLS_EXIT_FAIL;
  }
  printf("sweep '%s': %s, %s/%s, %zu points%s; calibrating each model shape on %s ...\n", s->name,
         cls_sweep_mode_name(s->mode), s->task, s->model, n_all, shard_note, dev->name[0]);
  fflush(stdout);
  cls_sweep_calibration *cal = calloc(n_mine ? n_mine : 1, sizeof *cal);
  int *have = calloc(n_mine ? n_mine : 1, sizeof *have);
  if (!cal || !have) {
    free(cal);
    free(have);
    cls_context_destroy(ctx);
    fprintf(stderr, "clscale sweep: out of host memory\n");
    return CLS_EXIT_FAIL;
  }
  int code = CLS_EXIT_OK;
  printf("\n%-30s %6s %5s %9s %9s %9s %9s %9s %8s %7s %8s\n", "id", "width", "depth", "N", "N_embed", "D tokens",
         "C FLOPs", "6ND", "steps", "epochs", "time");
  double total_s = 0, total_c = 0, cmin = INFINITY, cmax = 0, nmin = INFINITY, nmax = 0;
  size_t failures = 0;
  for (size_t k = 0; k < n_mine; k++) {
    const cls_sweep_point *p = &pts[mine[k]];
    /* one calibration per shape */
    size_t src = k;
    for (size_t j = 0; j < k; j++)
      if (have[j] && pts[mine[j]].shape.width == p->shape.width && pts[mine[j]].shape.depth == p->shape.depth &&
          pts[mine[j]].shape.heads == p->shape.heads) {
        src = j;
        break;
      }
    if (src == k) {
      if (cls_sweep_calibrate(ctx, s, p, 6, &cal[k], err, sizeof err) != CLS_OK) {
        printf("%-30s cannot run: %s\n", p->id, err);
        failures++;
        continue;
      }
      have[k] = 1;
    }
    cls_sweep_estimate e;
    cls_sweep_estimate_point(s, p, &cal[src], &e);
    char a[32], b[32], c[32], d[32], f[32], t[32];
    if (!e.steps) {
      printf("%-30s %6zu %5zu %9s  budget below one step (%s FLOPs per step): raise it\n", p->id, p->shape.width,
             p->shape.depth, g(cal[src].n_params, a, sizeof a), g(cal[src].flops_per_step, b, sizeof b));
      failures++;
      continue;
    }
    cls_fmt_duration(e.seconds, t, sizeof t);
    printf("%-30s %6zu %5zu %9s %9s %9s %9s %9s %8llu %7.2f %8s\n", p->id, p->shape.width, p->shape.depth,
           g(cal[src].n_params, a, sizeof a), g(cal[src].n_params_embed, b, sizeof b), g(e.tokens, c, sizeof c),
           g(e.flops, d, sizeof d), g(e.flops_6nd, f, sizeof f), (unsigned long long)e.steps, e.epochs, t);
    total_s += e.seconds;
    total_c += e.flops;
    cmin = fmin(cmin, e.flops);
    cmax = fmax(cmax, e.flops);
    nmin = fmin(nmin, cal[src].n_params);
    nmax = fmax(nmax, cal[src].n_params);
  }
  char t[32], a[32];
  cls_fmt_duration(total_s / (double)dev->n, t, sizeof t);
  printf("\ntotal: %s FLOPs over %zu points; estimated %s on %zu worker%s (measured per shape on %s; a "
         "shared or busy machine is slower)\n",
         g(total_c, a, sizeof a), n_mine - failures, t, dev->n, dev->n > 1 ? "s" : "", dev->name[0]);
  if (cmax > 0)
    printf("span: compute %.2f decades (%.3g to %.3g FLOPs per run), model size N %.2f decades (%.3g to %.3g)\n",
           log10(cmax / cmin), cmin, cmax, log10(nmax / nmin), nmin, nmax);
  if (failures) {
    printf("%zu point%s cannot run as planned (see above)\n", failures, failures > 1 ? "s" : "");
    code = CLS_EXIT_FAIL;
  }
  free(cal);
  free(have);
  cls_context_destroy(ctx);
  return code;
}

/* ----------------------------------------------------------------- main */

int cls_cmd_sweep(int argc, char **argv) {
  const char *spec_path = NULL, *out = NULL, *shard_arg = NULL, *devices = NULL, *device = NULL, *backend = NULL;
  int dry = 0, quiet = 0;
  for (int i = 1; i < argc; i++) {
    const char *arg = argv[i];
    if (!strcmp(arg, "--help") || !strcmp(arg, "-h")) {
      usage(stdout);
      return CLS_EXIT_OK;
    }
    if (strncmp(arg, "--", 2)) {
      if (spec_path) {
        fprintf(stderr, "clscale sweep: one spec file, please ('%s' and '%s' given)\n", spec_path, arg);
        return CLS_EXIT_USAGE;
      }
      spec_path = arg;
      continue;
    }
    char name[64];
    const char *eq = strchr(arg, '='), *v;
    size_t nlen = eq ? (size_t)(eq - arg) : strlen(arg);
    if (nlen >= sizeof name) nlen = sizeof name - 1;
    memcpy(name, arg, nlen);
    name[nlen] = 0;
    if (!strcmp(name, "--dry-run") || !strcmp(name, "--quiet")) {
      if (eq) {
        fprintf(stderr, "clscale sweep: %s takes no value\n", name);
        return CLS_EXIT_USAGE;
      }
      if (!strcmp(name, "--dry-run"))
        dry = 1;
      else
        quiet = 1;
      continue;
    }
    v = eq ? eq + 1 : (i + 1 < argc ? argv[++i] : NULL);
    if (!strcmp(name, "--out") || !strcmp(name, "--shard") || !strcmp(name, "--devices") ||
        !strcmp(name, "--device") || !strcmp(name, "--matmul-backend")) {
      if (!v || !*v) {
        fprintf(stderr, "clscale sweep: %s needs a value\n", name);
        return CLS_EXIT_USAGE;
      }
      if (!strcmp(name, "--out"))
        out = v;
      else if (!strcmp(name, "--shard"))
        shard_arg = v;
      else if (!strcmp(name, "--devices"))
        devices = v;
      else if (!strcmp(name, "--device"))
        device = v;
      else
        backend = v;
      continue;
    }
    fprintf(stderr, "clscale sweep: unknown option '%s'\n", name);
    usage(stderr);
    return CLS_EXIT_USAGE;
  }
  if (!spec_path) {
    usage(stderr);
    return CLS_EXIT_USAGE;
  }
  if (devices && device) {
    fprintf(stderr, "clscale sweep: give --devices (several workers) or --device (one), not both\n");
    return CLS_EXIT_USAGE;
  }

  /* The shard: --shard, else a Slurm job array's task. */
  size_t shard = 0, n_shards = 1;
  char shard_note[128] = "";
  if (shard_arg) {
    if (!parse_shard(shard_arg, &shard, &n_shards)) {
      fprintf(stderr, "clscale sweep: --shard '%s': write I/N with 0 <= I < N (0/4 ... 3/4)\n", shard_arg);
      return CLS_EXIT_USAGE;
    }
  } else if (getenv("SLURM_ARRAY_TASK_ID")) {
    const char *id = getenv("SLURM_ARRAY_TASK_ID"), *count = getenv("SLURM_ARRAY_TASK_COUNT"),
               *min = getenv("SLURM_ARRAY_TASK_MIN");
    char buf[64];
    long a = strtol(id, NULL, 10) - (min ? strtol(min, NULL, 10) : 0);
    snprintf(buf, sizeof buf, "%ld/%s", a, count ? count : "");
    if (!count || !parse_shard(buf, &shard, &n_shards)) {
      fprintf(stderr,
              "clscale sweep: SLURM_ARRAY_TASK_ID=%s with SLURM_ARRAY_TASK_COUNT=%s (MIN=%s) is not a shard I/N: "
              "submit a job array --array=0-(N-1), or give --shard I/N\n",
              id, count ? count : "(unset)", min ? min : "(unset)");
      return CLS_EXIT_USAGE;
    }
  }
  if (n_shards > 1) snprintf(shard_note, sizeof shard_note, " (shard %zu/%zu)", shard, n_shards);

  char err[8192];
  cls_sweep_spec *s;
  cls_status st = cls_sweep_spec_load(spec_path, &s, err, sizeof err);
  if (st != CLS_OK) {
    fprintf(stderr, "clscale sweep: %s\n", err);
    return st == CLS_ERR_IO ? CLS_EXIT_FAIL : CLS_EXIT_USAGE;
  }
  cls_sweep_point *pts;
  size_t n_pts;
  if (cls_sweep_plan(s, &pts, &n_pts, err, sizeof err) != CLS_OK) {
    fprintf(stderr, "clscale sweep: %s: %s\n", spec_path, err);
    cls_sweep_spec_free(s);
    return CLS_EXIT_USAGE;
  }
  size_t *mine = malloc(n_pts * sizeof *mine), n_mine = 0;
  if (!mine) {
    fprintf(stderr, "clscale sweep: out of host memory\n");
    free(pts);
    cls_sweep_spec_free(s);
    return CLS_EXIT_FAIL;
  }
  for (size_t i = 0; i < n_pts; i++)
    if (cls_sweep_in_shard(pts[i].index, shard, n_shards)) mine[n_mine++] = i;
  char default_out[256];
  if (!out) {
    snprintf(default_out, sizeof default_out, "runs/%s", s->name);
    out = default_out;
  }

  device_choice dev;
  int code = choose_devices(devices, device, &dev, err, sizeof err);
  if (code != CLS_EXIT_OK) {
    fprintf(stderr, "clscale sweep: %s\n", err);
    goto done;
  }

  if (dry) {
    code = dry_run(s, pts, mine, n_mine, n_pts, &dev, backend, shard_note);
    goto done;
  }

  /* The run directory: the manifest first (created once, or checked). */
  char devs[1024] = "";
  for (size_t i = 0; i < dev.n; i++) {
    size_t l = strlen(devs);
    snprintf(devs + l, sizeof devs - l, "%s%s", i ? ", " : "", dev.name[i]);
  }
  cls_sweep_manifest_info info = {spec_path, devs};
  int created;
  st = cls_sweep_manifest_ensure(out, s, pts, n_pts, &info, &created, err, sizeof err);
  if (st != CLS_OK) {
    fprintf(stderr, "clscale sweep: %s\n", err);
    code = st == CLS_ERR_INVALID_VALUE ? CLS_EXIT_USAGE : CLS_EXIT_FAIL;
    goto done;
  }

  /* What is left to do in this shard. */
  cls_sweep_point *todo = malloc((n_mine ? n_mine : 1) * sizeof *todo);
  cls_sweep_outcome *outc = calloc(n_mine ? n_mine : 1, sizeof *outc);
  if (!todo || !outc) {
    free(todo);
    free(outc);
    fprintf(stderr, "clscale sweep: out of host memory\n");
    code = CLS_EXIT_FAIL;
    goto done;
  }
  size_t n_todo = 0, n_done = 0, n_div = 0;
  for (size_t k = 0; k < n_mine; k++) {
    cls_point_state ps = cls_sweep_point_state(out, pts[mine[k]].id, NULL);
    if (cls_point_state_done(ps)) {
      n_done++;
      n_div += ps == CLS_POINT_DIVERGED;
      cls_sweep_remove_leftovers(out, pts[mine[k]].id);
    } else {
      todo[n_todo++] = pts[mine[k]];
    }
  }
  if (!quiet) {
    printf("sweep '%s': %s, %s/%s, %zu points%s into %s (%s manifest.json)\n", s->name,
           cls_sweep_mode_name(s->mode), s->task, s->model, n_pts, shard_note, out,
           created ? "wrote" : "same spec as its");
    if (n_mine < n_pts || n_done)
      printf("this shard: %zu points, %zu finished before, %zu to run\n", n_mine, n_done, n_todo);
    printf("on %s%s\n", devs, dev.n > 1 ? " (one point per device at a time)" : "");
    if (n_pts == 1)
      printf("note: a single point; clscale fit needs several model sizes and budgets to fit a law\n");
    fflush(stdout);
  }

  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sa.sa_flags = SA_RESETHAND; /* a second signal ends the process at once */
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);

  progress pr;
  memset(&pr, 0, sizeof pr);
  pr.tty = isatty(STDERR_FILENO);
  pr.quiet = quiet;
  pr.total = n_mine;
  pr.done = n_done;
  pr.n_workers = dev.n;
  pr.queue = todo;
  pr.queue_n = n_todo;
  pr.state = calloc(n_todo ? n_todo : 1, sizeof *pr.state);
  pr.rate = calloc(n_todo ? n_todo : 1, sizeof *pr.rate);
  if (!pr.state || !pr.rate) {
    free(pr.state);
    free(pr.rate);
    free(todo);
    free(outc);
    fprintf(stderr, "clscale sweep: out of host memory\n");
    code = CLS_EXIT_FAIL;
    goto done;
  }
  pr.t0 = cls_now();
  pr.last_print = -1;
  const char *sels[MAX_WORKERS];
  for (size_t i = 0; i < dev.n; i++) sels[i] = dev.sel[i];
  cls_sweep_run_config rc = {out,     sels,       dev.n,
                             backend, &stop_flag, {&pr, cb_start, cb_progress, cb_done, cb_worker_failed}};
  const double t0 = cls_now();
  st = n_todo ? cls_sweep_run(s, todo, n_todo, &rc, outc, err, sizeof err) : CLS_OK;
  clear_line(&pr);
  signal(SIGINT, SIG_DFL);
  signal(SIGTERM, SIG_DFL);

  size_t ok = 0, failed = 0, diverged = 0, interrupted = 0, not_run = 0;
  for (size_t k = 0; k < n_todo; k++) {
    if (!outc[k].ran) {
      not_run++;
      continue;
    }
    ok += outc[k].status == CLS_RUN_OK;
    failed += outc[k].status == CLS_RUN_FAILED;
    diverged += outc[k].status == CLS_RUN_DIVERGED;
    interrupted += outc[k].status == CLS_RUN_INTERRUPTED;
  }
  code = CLS_EXIT_OK;
  if (st != CLS_OK) {
    fprintf(stderr, "clscale sweep: %s\n", err);
    code = CLS_EXIT_FAIL;
  }
  if (!quiet || failed || interrupted || not_run) {
    char t[32];
    cls_fmt_duration(cls_now() - t0, t, sizeof t);
    printf("%s: %zu of %zu points finished (%zu now, %zu before; %zu diverged), %zu failed, %zu interrupted, %zu "
           "not run; %s\n",
           out, n_done + ok + diverged, n_mine, ok + diverged, n_done, diverged + n_div, failed, interrupted,
           not_run, t);
  }
  if (stop_flag) {
    fprintf(stderr, "clscale sweep: interrupted; the same command continues (running points were checkpointed)\n");
    code = CLS_EXIT_FAIL;
  } else if (failed) {
    fprintf(stderr,
            "clscale sweep: %zu point%s failed (see points/ID.json 'error'); re-running the same command "
            "retries them\n",
            failed, failed > 1 ? "s" : "");
    code = CLS_EXIT_FAIL;
  } else if (not_run || interrupted) {
    code = CLS_EXIT_FAIL;
  } else if (!quiet) {
    printf("next: clscale fit %s && clscale plot %s\n", out, out);
  }
  free(pr.state);
  free(pr.rate);
  free(todo);
  free(outc);
done:
  free(mine);
  free(pts);
  cls_sweep_spec_free(s);
  return code;
}
