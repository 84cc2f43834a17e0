/*
 * tools/cmd_sweep.c — `clscale sweep SPEC`: a grid of model sizes x budgets
 * trained into one run directory, resumable and shardable. The work is
 * src/sweep/ (spec, plan, run directory, runner, calibration); this file
 * parses options, plans the shard, prints the plan and the results, and
 * installs the signal handlers; the shard comes from shard.c, the devices
 * from device_choice.c, the progress line from sweep_progress.c.
 * docs/sweep.md is the manual.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clscale/device.h"
#include "command.h"
#include "commands.h"
#include "core/clock.h"
#include "device_choice.h"
#include "format.h"
#include "options.h"
#include "shard.h"
#include "slurm_submit.h"
#include "sweep/calibrate.h"
#include "sweep/plan.h"
#include "sweep/rundir.h"
#include "sweep/runner.h"
#include "sweep/spec.h"
#include "sweep_progress.h"
#include "sweep_groups.h"
#include "sweep_per_device.h"
#include "sweep_status.h"

/* ------------------------------------------------------------- options */

typedef struct {
  const char *spec_path, *out, *shard_arg, *devices, *device, *backend, *side_arg, *per_device_arg;
  cls_side_mode side;
  size_t per_device; /* --per-device: points at once on each device; 0: auto */
  int dry, quiet;
  /* Claims, retries, work stealing (docs/sweep.md, "On a cluster"). */
  double claim_timeout;
  size_t max_retries;
  int no_steal;
  /* --status RUN_DIR (SPEC is then the run directory). */
  int status, json, watch;
  double interval;
  /* --slurm: submit instead of run; the sbatch options after "--". */
  int slurm;
  size_t max_parallel;
  char **sbatch_args;
  int n_sbatch_args;
} sweep_args;

static void sweep_command(cls_opt_command *cmd, cls_option *opts, size_t cap, sweep_args *a) {
  const cls_option table[] = {
      {CLS_OPT(CLS_OPT_POSITIONAL, NULL, &a->spec_path, "SPEC", NULL, NULL), .wants = "spec file"},
      {CLS_OPT(CLS_OPT_STRING, "--out", &a->out, "RUN_DIR", "out_dir",
               "the run directory (default runs/NAME, NAME from the spec)"),
       .flags = CLS_OPT_NONEMPTY},
      {CLS_OPT(CLS_OPT_STRING, "--shard", &a->shard_arg, "I/N", "shard",
               "run only points I, I+N, I+2N, ... (0 <= I < N); several shards, on several machines, may write "
               "into one shared RUN_DIR. Without it, a Slurm job array's SLURM_ARRAY_TASK_ID and "
               "SLURM_ARRAY_TASK_COUNT are used when set"),
       .flags = CLS_OPT_NONEMPTY},
      {CLS_OPT(CLS_OPT_STRING, "--devices", &a->devices, "all|LIST", "devices",
               "one worker per device, running points concurrently: every device, or a comma-separated list of "
               "selectors (0:0,1:0 or gpu,cpu; 'default' is the --device default; a device listed twice runs two "
               "points at once on it)"),
       .flags = CLS_OPT_NONEMPTY},
      {CLS_OPT(CLS_OPT_STRING, "--device", &a->device, "SEL", "device",
               "a single device: P:D, gpu, cpu or a name substring (default CLSCALE_DEVICE, else the fastest GPU, "
               "else the CPU device)"),
       .flags = CLS_OPT_NONEMPTY},
      {CLS_OPT(CLS_OPT_FLAG, "--dry-run", &a->dry, NULL, NULL,
               "print the plan (each point's N, D, FLOPs and estimated time, from a short calibration of each "
               "model shape on the device) and train nothing")},
      {CLS_OPT(CLS_OPT_STRING, "--matmul-backend", &a->backend, "B", "matmul_backend",
               "auto, own, clblast or host (default CLSCALE_MATMUL_BACKEND, else auto)"),
       .flags = CLS_OPT_NONEMPTY},
      {CLS_OPT(CLS_OPT_STRING, "--side-by-side", &a->side_arg, "auto|on|off", NULL,
               "train points of one shape (differing in budget, seed or lr) as one batched model, each with the "
               "files it would have alone: auto (default) where a short measurement on the device says it saves "
               "time, on for every group, off for none"),
       .flags = CLS_OPT_NONEMPTY},
      {CLS_OPT(CLS_OPT_STRING, "--per-device", &a->per_device_arg, "auto|K", NULL,
               "points trained at once on each device, each by a worker of its own: K from 1 to 8, or auto, "
               "which runs two at once on a single device where a short measurement on the sweep's heaviest shape "
               "says that saves time, else one (default CLSCALE_PER_DEVICE, else auto)"),
       .flags = CLS_OPT_NONEMPTY},
      {CLS_OPT(CLS_OPT_FLAG, "--quiet", &a->quiet, NULL, NULL,
               "no progress line, no per-point lines but those of failed points")},
      {CLS_OPT(CLS_OPT_HEADING, NULL, NULL, NULL, NULL, "on a cluster (several processes, one RUN_DIR):")},
      {CLS_OPT(CLS_OPT_DOUBLE, "--claim-timeout", &a->claim_timeout, "S", "claim_timeout",
               "a point's claim whose holder sent no heartbeat for S seconds is stale: another process takes the "
               "point over and resumes it from its checkpoint (default: the spec's claim_timeout, else 300; the "
               "hosts' "
               "clocks must agree to well within S)"),
       .lo = 0, .flags = CLS_OPT_LO_OPEN},
      {CLS_OPT(CLS_OPT_SIZE, "--max-retries", &a->max_retries, "N", "max_retries",
               "a point that fails is tried again, by this process or another, until it failed N + 1 times "
               "(default: the spec's max_retries, else 2); then it stays failed with every attempt's error"),
       .hi = 1000},
      {CLS_OPT(CLS_OPT_FLAG, "--no-steal", &a->no_steal, NULL, NULL,
               "run only this shard's points (by default a shard with nothing left takes other shards' free "
               "points)")},
      {CLS_OPT(CLS_OPT_FLAG, "--status", &a->status, NULL, NULL,
               "print the state of RUN_DIR's sweep (given in place of SPEC) and exit; opens no device")},
      {CLS_OPT(CLS_OPT_FLAG, "--json", &a->json, NULL, NULL, "--status as JSON")},
      {CLS_OPT(CLS_OPT_FLAG, "--watch", &a->watch, NULL, NULL,
               "--status again every --interval seconds, until SIGINT")},
      {CLS_OPT(CLS_OPT_DOUBLE, "--interval", &a->interval, "S", NULL, "--watch's refresh (default 5)"), .lo = 0.1,
       .hi = 86400},
      {CLS_OPT(CLS_OPT_FLAG, "--slurm", &a->slurm, NULL, NULL,
               "write the manifest and submit the sweep to Slurm as a job array of one task per shard (sbatch "
               "options after --)")},
      {CLS_OPT(CLS_OPT_SIZE, "--max-parallel", &a->max_parallel, "K", NULL,
               "--slurm: at most K array tasks at once (default: every shard at once)"),
       .lo = 1, .hi = 1000000},
  };
  cls_cmd_set_options(cmd, opts, cap, table, sizeof table / sizeof table[0]);
  cmd->name = "sweep";
  cmd->usage = "usage: clscale sweep SPEC [--out RUN_DIR] [--shard I/N] [--devices all|LIST | --device SEL]\n"
               "                     [--dry-run] [--matmul-backend B] [--side-by-side auto|on|off]\n"
               "                     [--per-device auto|K] [--quiet]\n"
               "                     [--claim-timeout S]\n"
               "                     [--max-retries N] [--no-steal]\n"
               "       clscale sweep SPEC --slurm [--out RUN_DIR] [--max-parallel K] [-- SBATCH_OPTION...]\n"
               "       clscale sweep --status RUN_DIR [--json] [--watch [--interval S]]";
  cmd->about =
      "Trains the grid of SPEC (a JSON or INI file: task, model sizes, budgets, seeds, learning rate, ...;\n"
      "docs/sweep.md) into RUN_DIR: manifest.json, and points/ID.csv and points/ID.json per point, which\n"
      "`clscale fit` and `clscale plot` read. Re-running the same command skips finished points and\n"
      "resumes interrupted ones from their checkpoints; a point that fails or diverges is recorded with\n"
      "its status and the sweep goes on.";
  cmd->epilogue = "On a terminal a progress line shows points done/total, the current point(s) and the ETA.\n"
                  "SIGINT/SIGTERM checkpoint the running points and stop; the same command continues.\n"
                  "Several processes may run the same shard into one RUN_DIR: a point is trained under its claim\n"
                  "(RUN_DIR/claims), never by two processes at once.\n"
                  "exit codes: 0 every point of this shard finished (ok or diverged); 1 a point failed or was\n"
                  "interrupted, or the run directory or a device could not be used; 2 bad usage or a bad spec.\n"
                  "--status: 0 every point finished ok or diverged, 1 some failed for good, 3 some still to do\n"
                  "(pending, running or stale)";
  cmd->words = CLS_OPT_WORDS_NAMED;
}

static int read_args(const cls_opt_command *cmd, int argc, char **argv, sweep_args *a) {
  /* Everything after "--" is sbatch's (--slurm), passed on as it is. */
  for (int i = 1; i < argc; i++)
    if (!strcmp(argv[i], "--")) {
      a->sbatch_args = argv + i + 1;
      a->n_sbatch_args = argc - i - 1;
      argc = i;
      break;
    }
  a->max_retries = SIZE_MAX; /* not given: the spec's, else 2 */
  a->interval = 5;
  int code = cls_cmd_parse(cmd, argc, argv);
  if (code != CLS_EXIT_GO_ON) return code;
  if (!a->spec_path) return cls_cmd_refuse(cmd, NULL);
  if (!cls_side_parse(a->side_arg, &a->side))
    return cls_opt_fail(cmd, CLS_EXIT_USAGE, "--side-by-side '%s': give auto, on or off", a->side_arg);
  const char *per_env = getenv("CLSCALE_PER_DEVICE");
  if (!a->per_device_arg && per_env && *per_env && !cls_per_device_parse(per_env, &a->per_device))
    return cls_opt_fail(cmd, CLS_EXIT_USAGE, "CLSCALE_PER_DEVICE='%.100s': give auto or a count from 1 to %d",
                        per_env, CLS_PER_DEVICE_MAX);
  if (a->per_device_arg && !cls_per_device_parse(a->per_device_arg, &a->per_device))
    return cls_opt_fail(cmd, CLS_EXIT_USAGE, "--per-device '%s': give auto or a count from 1 to %d",
                        a->per_device_arg, CLS_PER_DEVICE_MAX);
  if (a->devices && a->device)
    return cls_opt_fail(cmd, CLS_EXIT_USAGE, "give --devices (several workers) or --device (one), not both");
  if ((a->json || a->watch) && !a->status)
    return cls_opt_fail(cmd, CLS_EXIT_USAGE, "--json and --watch go with --status RUN_DIR");
  if (a->status && (a->slurm || a->dry))
    return cls_opt_fail(cmd, CLS_EXIT_USAGE, "--status only reads RUN_DIR: not with --slurm or --dry-run");
  if (a->sbatch_args && !a->slurm)
    return cls_opt_fail(cmd, CLS_EXIT_USAGE, "options after -- are sbatch's: give --slurm too");
  if (a->max_parallel && !a->slurm) return cls_opt_fail(cmd, CLS_EXIT_USAGE, "--max-parallel goes with --slurm");
  if (a->slurm && a->dry)
    return cls_opt_fail(cmd, CLS_EXIT_USAGE, "--slurm submits the sweep: not with --dry-run");
  return CLS_EXIT_GO_ON;
}

/* ---------------------------------------------------------------- plan */

/* The spec, its points, and the ones of this process's shard. */
typedef struct {
  cls_sweep_spec *s;
  cls_sweep_point *pts;
  size_t n_pts;
  size_t *mine, n_mine;
  size_t shard, n_shards;
  char shard_note[128]; /* " (shard 1/4)", or empty */
  const char *out;      /* the run directory */
  char default_out[256];
} sweep_plan;

static void free_plan(sweep_plan *p) {
  free(p->mine);
  free(p->pts);
  cls_sweep_spec_free(p->s);
}

/* The shard: --shard, else a Slurm job array's task, else the whole sweep. */
static int choose_shard(const cls_opt_command *cmd, const sweep_args *a, sweep_plan *p) {
  char err[1024];
  p->shard = 0;
  p->n_shards = 1;
  if (a->shard_arg && !cls_shard_parse(a->shard_arg, &p->shard, &p->n_shards))
    return cls_opt_fail(cmd, CLS_EXIT_USAGE, "--shard '%s': write I/N with 0 <= I < N (0/4 ... 3/4)",
                        a->shard_arg);
  if (!a->shard_arg && cls_shard_from_slurm(&p->shard, &p->n_shards, err, sizeof err) < 0)
    return cls_opt_fail(cmd, CLS_EXIT_USAGE, "%s", err);
  if (p->n_shards > 1) snprintf(p->shard_note, sizeof p->shard_note, " (shard %zu/%zu)", p->shard, p->n_shards);
  return CLS_EXIT_GO_ON;
}

/* Loads the spec and plans its points and this shard's; CLS_EXIT_GO_ON
 * with p to free, else the exit code with nothing to free. */
static int make_plan(const cls_opt_command *cmd, const sweep_args *a, sweep_plan *p) {
  memset(p, 0, sizeof *p);
  int code = choose_shard(cmd, a, p);
  if (code != CLS_EXIT_GO_ON) return code;
  char err[8192];
  cls_status st = cls_sweep_spec_load(a->spec_path, &p->s, err, sizeof err);
  if (st != CLS_OK) return cls_opt_fail(cmd, st == CLS_ERR_IO ? CLS_EXIT_FAIL : CLS_EXIT_USAGE, "%s", err);
  if (cls_sweep_plan(p->s, &p->pts, &p->n_pts, err, sizeof err) != CLS_OK) {
    cls_sweep_spec_free(p->s);
    return cls_opt_fail(cmd, CLS_EXIT_USAGE, "%s: %s", a->spec_path, err);
  }
  p->mine = malloc((p->n_pts ? p->n_pts : 1) * sizeof *p->mine);
  if (!p->mine) {
    free_plan(p);
    return cls_opt_fail(cmd, CLS_EXIT_FAIL, "out of host memory");
  }
  for (size_t i = 0; i < p->n_pts; i++)
    if (cls_sweep_in_shard(p->pts[i].chain, p->shard, p->n_shards)) p->mine[p->n_mine++] = i;
  p->out = a->out;
  if (!p->out) {
    snprintf(p->default_out, sizeof p->default_out, "runs/%s", p->s->name);
    p->out = p->default_out;
  }
  return CLS_EXIT_GO_ON;
}

/* ------------------------------------------------------------ dry run */

/* Totals of the plan's table. */
typedef struct {
  double seconds, flops, cmin, cmax, nmin, nmax;
  size_t failures;
} plan_totals;

/* One row of the plan: the point's estimate from the calibration of its
 * shape (made now if this is the shape's first point). */
static void plan_row(cls_context *ctx, const sweep_plan *p, size_t k, cls_sweep_calibration *cal, int *have,
                     plan_totals *t) {
  const cls_sweep_point *pt = &p->pts[p->mine[k]];
  size_t src = k; /* one calibration per shape */
  for (size_t j = 0; j < k; j++)
    if (have[j] && p->pts[p->mine[j]].shape.width == pt->shape.width &&
        p->pts[p->mine[j]].shape.depth == pt->shape.depth && p->pts[p->mine[j]].shape.heads == pt->shape.heads) {
      src = j;
      break;
    }
  char err[4096];
  if (src == k) {
    if (cls_sweep_calibrate(ctx, p->s, pt, 6, &cal[k], err, sizeof err) != CLS_OK) {
      printf("%-30s cannot run: %s\n", pt->id, err);
      t->failures++;
      return;
    }
    have[k] = 1;
  }
  cls_sweep_estimate e;
  cls_sweep_estimate_point(p->s, pt, &cal[src], &e);
  char a[32], b[32], c[32], d[32], f[32], dur[32];
  if (!e.steps) {
    printf("%-30s %6zu %5zu %9s  budget below one step (%s FLOPs per step): raise it\n", pt->id, pt->shape.width,
           pt->shape.depth, cls_fmt_g(cal[src].n_params, a, sizeof a),
           cls_fmt_g(cal[src].flops_per_step, b, sizeof b));
    t->failures++;
    return;
  }
  cls_fmt_duration(e.seconds, dur, sizeof dur);
  printf("%-30s %6zu %5zu %9s %9s %9s %9s %9s %8llu %7.2f %8s\n", pt->id, pt->shape.width, pt->shape.depth,
         cls_fmt_g(cal[src].n_params, a, sizeof a), cls_fmt_g(cal[src].n_params_embed, b, sizeof b),
         cls_fmt_g(e.tokens, c, sizeof c), cls_fmt_g(e.flops, d, sizeof d), cls_fmt_g(e.flops_6nd, f, sizeof f),
         (unsigned long long)e.steps, e.epochs, dur);
  t->seconds += e.seconds;
  t->flops += e.flops;
  t->cmin = fmin(t->cmin, e.flops);
  t->cmax = fmax(t->cmax, e.flops);
  t->nmin = fmin(t->nmin, cal[src].n_params);
  t->nmax = fmax(t->nmax, cal[src].n_params);
}

static int print_totals(const sweep_plan *p, const cls_device_choice *dev, const plan_totals *t) {
  char dur[32], a[32];
  cls_fmt_duration(t->seconds / (double)dev->n, dur, sizeof dur);
  printf("\ntotal: %s FLOPs over %zu points; estimated %s on %zu worker%s (measured per shape on %s; a "
         "shared or busy machine is slower)\n",
         cls_fmt_g(t->flops, a, sizeof a), p->n_mine - t->failures, dur, dev->n, dev->n > 1 ? "s" : "",
         dev->name[0]);
  if (t->cmax > 0)
    printf("span: compute %.2f decades (%.3g to %.3g FLOPs per run), model size N %.2f decades (%.3g to %.3g)\n",
           log10(t->cmax / t->cmin), t->cmin, t->cmax, log10(t->nmax / t->nmin), t->nmin, t->nmax);
  if (!t->failures) return CLS_EXIT_OK;
  printf("%zu point%s cannot run as planned (see above)\n", t->failures, t->failures > 1 ? "s" : "");
  return CLS_EXIT_FAIL;
}

/* Host memory, bytes (0: unknown). */
static uint64_t host_memory(void) {
  long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGESIZE);
  return pages > 0 && size > 0 ? (uint64_t)pages * (uint64_t)size : 0;
}

/* A solved task's points must fit in memory: refused before anything runs
 * (exit 2), naming the point and its size. */
static int check_memory(const cls_opt_command *cmd, const sweep_plan *p, const cls_device_choice *dev) {
  if (!p->s->solved) return CLS_EXIT_GO_ON;
  uint64_t mem = 0;
  for (size_t i = 0; i < dev->n; i++)
    if (dev->mem[i] && (!mem || dev->mem[i] < mem)) mem = dev->mem[i];
  cls_sweep_point *mine = malloc((p->n_mine ? p->n_mine : 1) * sizeof *mine);
  if (!mine) return cls_opt_fail(cmd, CLS_EXIT_FAIL, "out of host memory");
  for (size_t k = 0; k < p->n_mine; k++) mine[k] = p->pts[p->mine[k]];
  char err[1024];
  cls_status st = cls_sweep_check_memory(p->s, mine, p->n_mine, mem, host_memory(), err, sizeof err);
  free(mine);
  return st == CLS_OK ? CLS_EXIT_GO_ON : cls_opt_fail(cmd, CLS_EXIT_USAGE, "%s", err);
}

/* --dry-run of a solved task: its points, each one solve (no calibration:
 * there is no step to time). */
static int dry_run_solved(const sweep_plan *p) {
  const cls_task_info *info = cls_task_find(p->s->task, p->s->model);
  printf("sweep '%s': %s/%s, solved exactly, %zu points%s\n\n%-44s %9s %9s %10s\n", p->s->name, p->s->task,
         p->s->model, p->n_pts, p->shard_note, "id", "N", "T", "memory");
  for (size_t k = 0; k < p->n_mine; k++) {
    const cls_sweep_point *pt = &p->pts[p->mine[k]];
    cls_task_spec ts;
    cls_sweep_point_task(p->s, pt, &ts);
    uint64_t bytes = 0;
    char why[8];
    if (info && info->solve_bytes)
      (void)info->solve_bytes(&ts, (uint64_t)pt->budget.value, &bytes, why, sizeof why);
    char a[32], b[32];
    printf("%-44s %9s %9s %7.3g MB\n", pt->id, cls_fmt_g(pt->n_params, a, sizeof a),
           cls_fmt_g(pt->budget.value, b, sizeof b), (double)bytes / 1e6);
  }
  return CLS_EXIT_OK;
}

/* How the points to do, todo[0..n), run: the groups that train side by
 * side (sweep_groups.h; NULL: every point alone) and *per, the points at
 * once on each device (sweep_per_device.h; *share, what auto measured),
 * measured on the first device where auto asks for it, on `have` when
 * given (else a context opened here), and printed (print). */
static size_t *plan_layout(const cls_opt_command *cmd, const sweep_args *a, const cls_sweep_spec *s,
                           const cls_sweep_point *todo, size_t n, const cls_device_choice *dev, cls_context *have,
                           int print, size_t *per, double *share) {
  *per = a->per_device ? a->per_device : 1;
  *share = NAN;
  if (!n || s->solved) return NULL;
  size_t *group = malloc(n * sizeof *group), *cand = malloc(n * sizeof *cand);
  if (!group || !cand) {
    free(group);
    free(cand);
    return NULL;
  }
  const size_t n_groups = cls_sweep_groups(s, todo, n, 8, cand);
  free(cand);
  for (size_t i = 0; i < n; i++) group[i] = SIZE_MAX;
  /* Only a group of two or more needs the device; two at once need two
   * pieces of work and a single device (a --devices list is the user's
   * layout). */
  const int side_measures = a->side == CLS_SIDE_AUTO && n_groups < n;
  const int per_measures = !a->per_device && dev->n == 1 && n > 1;
  cls_context *ctx = have;
  if (!ctx && (side_measures || per_measures) &&
      cls_cmd_open_context(cmd, dev->sel[0], a->backend, &ctx) != CLS_EXIT_GO_ON)
    ctx = NULL; /* said why; every point alone, one at a time */
  if (a->side != CLS_SIDE_OFF) cls_side_decide(ctx, s, todo, n, a->side, print, group);
  if (per_measures && ctx && cls_per_device_units(group, n) > 1) {
    cls_context_options o;
    cls_context_options_init(&o);
    o.device = dev->sel[0];
    o.matmul_backend = a->backend;
    *per = cls_per_device_decide(ctx, &o, s, todo, n, group, print, share);
  } else if (print && a->per_device > 1) {
    printf("\npoints at once on each device: %zu (--per-device %zu)\n", a->per_device, a->per_device);
  }
  if (ctx != have) cls_context_destroy(ctx);
  return group;
}

/* --dry-run: each point's size, budget and estimated time, from a short
 * calibration of each model shape on the first device. */
static int dry_run(const cls_opt_command *cmd, const sweep_args *args, const sweep_plan *p,
                   const cls_device_choice *dev) {
  cls_context *ctx;
  int code = cls_cmd_open_context(cmd, dev->sel[0], args->backend, &ctx);
  if (code != CLS_EXIT_GO_ON) return code;
  code = CLS_EXIT_FAIL;
  printf("sweep '%s': %s, %s/%s, %zu points%s; calibrating each model shape on %s ...\n", p->s->name,
         cls_sweep_mode_name(p->s->mode), p->s->task, p->s->model, p->n_pts, p->shard_note, dev->name[0]);
  fflush(stdout);
  cls_sweep_calibration *cal = calloc(p->n_mine ? p->n_mine : 1, sizeof *cal);
  int *have = calloc(p->n_mine ? p->n_mine : 1, sizeof *have);
  if (!cal || !have) {
    cls_opt_fail(cmd, 0, "out of host memory");
  } else {
    printf("\n%-30s %6s %5s %9s %9s %9s %9s %9s %8s %7s %8s\n", "id", "width", "depth", "N", "N_embed", "D tokens",
           "C FLOPs", "6ND", "steps", "epochs", "time");
    plan_totals t = {0, 0, INFINITY, 0, INFINITY, 0, 0};
    for (size_t k = 0; k < p->n_mine; k++) plan_row(ctx, p, k, cal, have, &t);
    code = print_totals(p, dev, &t);
    cls_sweep_point *mine = malloc((p->n_mine ? p->n_mine : 1) * sizeof *mine);
    if (mine) {
      for (size_t k = 0; k < p->n_mine; k++) mine[k] = p->pts[p->mine[k]];
      size_t per;
      double share;
      free(plan_layout(cmd, args, p->s, mine, p->n_mine, dev, ctx, 1, &per, &share));
      /* The estimate again with two at once, scaled by the heaviest
       * shape's measured share (the other shapes' may differ). */
      if (per == 2 && isfinite(share) && !t.failures) {
        char dur[32];
        cls_fmt_duration(t.seconds / (double)dev->n * share, dur, sizeof dur);
        printf("estimated %s with two at once (the heaviest shape's %.0f%%; others may differ)\n", dur,
               100.0 * share);
      }
    }
    free(mine);
  }
  free(cal);
  free(have);
  cls_context_destroy(ctx);
  return code;
}

/* ---------------------------------------------------------------- run */

/* This shard's points not finished before (leftovers of the finished ones
 * removed); the number finished before, and diverged among them. */
typedef struct {
  cls_sweep_point *todo; /* this shard's points to do, then (n_own on) other shards' that may be stolen */
  cls_sweep_outcome *outcomes;
  size_t n_todo, n_own, n_done, n_div;
  size_t n_gave_up; /* failed more than max_retries times before: not tried again */
} sweep_work;

/* Failed attempts recorded in a failed point's summary (1 when an older
 * summary has no count); 0 for any other state. */
static unsigned failed_attempts(const char *dir, const char *id) {
  char path[4200];
  cls_point_summary s;
  if (cls_rundir_path(path, sizeof path, dir, CLS_RUNDIR_SUMMARY, id) != CLS_OK ||
      cls_point_summary_read(path, &s, NULL, 0) != CLS_OK)
    return 0;
  unsigned n = s.status && s.state == CLS_POINT_FAILED ? (isnan(s.attempts) || s.attempts < 1 ? 1u
                                                          : s.attempts > 1e6                  ? 1000000u
                                                                             : (unsigned)s.attempts)
                                                       : 0u;
  cls_point_summary_release(&s);
  return n;
}

static int find_work(const cls_opt_command *cmd, const sweep_args *a, const sweep_plan *p, sweep_work *w) {
  memset(w, 0, sizeof *w);
  w->todo = malloc((p->n_pts ? p->n_pts : 1) * sizeof *w->todo);
  w->outcomes = calloc(p->n_pts ? p->n_pts : 1, sizeof *w->outcomes);
  if (!w->todo || !w->outcomes) {
    free(w->todo);
    free(w->outcomes);
    return cls_opt_fail(cmd, CLS_EXIT_FAIL, "out of host memory");
  }
  for (size_t k = 0; k < p->n_mine; k++) {
    const cls_sweep_point *pt = &p->pts[p->mine[k]];
    cls_point_state ps = cls_rundir_point_state(p->out, pt->id, NULL);
    if (cls_point_state_done(ps)) {
      w->n_done++;
      w->n_div += ps == CLS_POINT_DIVERGED;
    } else if (ps == CLS_POINT_FAILED && failed_attempts(p->out, pt->id) > a->max_retries) {
      w->n_gave_up++;
    } else {
      w->todo[w->n_todo++] = *pt;
    }
  }
  w->n_own = w->n_todo;
  /* Work stealing: the other shards' points not finished, in plan order,
   * taken (under their claims) once this shard's are done. */
  /* Not with generations: a chain stays with its shard, as its students
   * need the corpus their teacher's shard makes. */
  for (size_t i = 0; !a->no_steal && !p->s->generations && p->n_shards > 1 && i < p->n_pts; i++) {
    const cls_sweep_point *pt = &p->pts[i];
    if (cls_sweep_in_shard(pt->chain, p->shard, p->n_shards)) continue;
    cls_point_state ps = cls_rundir_point_state(p->out, pt->id, NULL);
    if (!cls_point_state_done(ps) && !(ps == CLS_POINT_FAILED && failed_attempts(p->out, pt->id) > a->max_retries))
      w->todo[w->n_todo++] = *pt;
  }
  return CLS_EXIT_GO_ON;
}

static void print_intro(const sweep_plan *p, const sweep_work *w, const char *devs, size_t n_devices,
                        int created) {
  printf("sweep '%s': %s, %s/%s, %zu points%s into %s (%s manifest.json)\n", p->s->name,
         cls_sweep_mode_name(p->s->mode), p->s->task, p->s->model, p->n_pts, p->shard_note, p->out,
         created ? "wrote" : "same spec as its");
  if (p->n_mine < p->n_pts || w->n_done || w->n_gave_up)
    printf("this shard: %zu points, %zu finished before, %zu to run%s\n", p->n_mine, w->n_done, w->n_own,
           w->n_gave_up ? " (and some failed too often before: not retried)" : "");
  if (w->n_todo > w->n_own)
    printf("then, while other shards' points are free, up to %zu of them (work stealing; --no-steal: not)\n",
           w->n_todo - w->n_own);
  printf("on %s%s\n", devs, n_devices > 1 ? " (a worker each)" : "");
  if (p->n_pts == 1)
    printf("note: a single point; clscale fit needs several model sizes and budgets to fit a law\n");
  fflush(stdout);
}

/* The last lines: what this shard holds now, and the exit code. */
static int summarize(const cls_opt_command *cmd, const sweep_args *a, const sweep_plan *p, const sweep_work *w,
                     int run_ok, double seconds) {
  size_t ok = 0, failed = w->n_gave_up, diverged = 0, interrupted = 0, not_run = 0, elsewhere = 0, lost = 0;
  size_t stolen = 0;
  for (size_t k = 0; k < w->n_todo; k++) {
    const cls_sweep_outcome *o = &w->outcomes[k];
    const int own = k < w->n_own;
    if (o->elsewhere) { /* finished by another process */
      if (own) elsewhere += o->status != CLS_RUN_FAILED;
      failed += own && o->status == CLS_RUN_FAILED;
      continue;
    }
    if (!o->ran) { /* another shard's point that this process did not take is not its business */
      not_run += own;
      continue;
    }
    lost += o->lost;
    if (!own) {
      stolen += o->status == CLS_RUN_OK || o->status == CLS_RUN_DIVERGED;
      failed += o->status == CLS_RUN_FAILED;
      continue;
    }
    ok += o->status == CLS_RUN_OK;
    failed += o->status == CLS_RUN_FAILED;
    diverged += o->status == CLS_RUN_DIVERGED;
    interrupted += o->status == CLS_RUN_INTERRUPTED;
  }
  if (!a->quiet || failed || interrupted || not_run) {
    char t[32], more[200] = "";
    cls_fmt_duration(seconds, t, sizeof t);
    if (elsewhere || stolen || lost)
      snprintf(more, sizeof more,
               "; %zu by other processes; %zu of other shards' points run here; %zu also by "
               "the process that took its claim over",
               elsewhere, stolen, lost);
    printf(
        "%s: %zu of %zu points finished (%zu now, %zu before; %zu diverged%s), %zu failed, %zu interrupted, %zu "
        "not run; %s\n",
        p->out, w->n_done + ok + diverged + elsewhere, p->n_mine, ok + diverged, w->n_done, diverged + w->n_div,
        more, failed, interrupted, not_run, t);
  }
  if (*cls_cmd_stop_flag())
    return cls_opt_fail(cmd, CLS_EXIT_FAIL,
                        "interrupted; the same command continues (running points were checkpointed)");
  if (failed)
    return cls_opt_fail(cmd, CLS_EXIT_FAIL,
                        "%zu point%s failed %zu time%s (see points/ID.json 'errors', one per attempt); re-running "
                        "with a larger --max-retries tries again",
                        failed, failed > 1 ? "s" : "", a->max_retries + 1, a->max_retries ? "s" : "");
  if (not_run || interrupted) return CLS_EXIT_FAIL;
  if (!a->quiet) printf("next: clscale fit %s && clscale plot %s\n", p->out, p->out);
  return run_ok ? CLS_EXIT_OK : CLS_EXIT_FAIL; /* a worker's failure was said above */
}

/* Runs the points left to do on the devices' workers, with the progress
 * line, until they end or a signal stops them. */
static int run_points(const cls_opt_command *cmd, const sweep_args *a, const sweep_plan *p, sweep_work *w,
                      const cls_device_choice *dev) {
  size_t per = 1;
  double share;
  size_t *group = plan_layout(cmd, a, p->s, w->todo, w->n_todo, dev, NULL, !a->quiet, &per, &share);
  /* Each device's workers, `per` of them, side by side in the list. */
  if (dev->n * per > CLS_MAX_WORKERS) per = CLS_MAX_WORKERS / dev->n;
  const char *sels[CLS_MAX_WORKERS];
  for (size_t i = 0; i < dev->n * per; i++) sels[i] = dev->sel[i / per];
  cls_sweep_progress pr;
  if (cls_sweep_progress_init(&pr, cmd, a->quiet, p->n_mine + (w->n_todo - w->n_own), w->n_done, dev->n * per,
                              w->todo, w->n_todo) != 0) {
    free(group);
    return cls_opt_fail(cmd, CLS_EXIT_FAIL, "out of host memory");
  }
  cls_cmd_catch_signals(); /* every running point checkpoints and stops after its step */
  cls_sweep_run_config rc = {.out_dir = p->out,
                             .devices = sels,
                             .n_devices = dev->n * per,
                             .matmul_backend = a->backend,
                             .stop = cls_cmd_stop_flag(),
                             .cb = cls_sweep_progress_callbacks(&pr),
                             .claim_timeout = a->claim_timeout,
                             .n_steal = w->n_todo - w->n_own,
                             .max_retries = (unsigned)a->max_retries};
  rc.group = group;
  rc.max_models = 8;
  const double t0 = cls_now();
  char err[8192];
  cls_status st = w->n_todo ? cls_sweep_run(p->s, w->todo, w->n_todo, &rc, w->outcomes, err, sizeof err) : CLS_OK;
  free(group);
  cls_sweep_progress_clear(&pr);
  cls_cmd_release_signals();
  cls_sweep_progress_free(&pr);
  if (st != CLS_OK) cls_opt_fail(cmd, 0, "%s", err);
  return summarize(cmd, a, p, w, st == CLS_OK, cls_now() - t0);
}

/* The manifest (created once, or checked against the spec), then the run. */
static int run_sweep(const cls_opt_command *cmd, const sweep_args *a, const sweep_plan *p,
                     const cls_device_choice *dev) {
  char devs[1024], err[8192];
  cls_device_choice_names(dev, devs, sizeof devs);
  cls_sweep_manifest_info info = {a->spec_path, devs};
  int created;
  cls_status st = cls_sweep_manifest_ensure(p->out, p->s, p->pts, p->n_pts, &info, &created, err, sizeof err);
  if (st != CLS_OK)
    return cls_opt_fail(cmd, st == CLS_ERR_INVALID_VALUE ? CLS_EXIT_USAGE : CLS_EXIT_FAIL, "%s", err);
  sweep_work w;
  int code = find_work(cmd, a, p, &w);
  if (code != CLS_EXIT_GO_ON) return code;
  if (!a->quiet) print_intro(p, &w, devs, dev->n, created);
  code = run_points(cmd, a, p, &w, dev);
  free(w.todo);
  free(w.outcomes);
  return code;
}

/* ------------------------------------------------------------- --slurm */

/* path made absolute against the working folder (the job may start
 * elsewhere); 0 when it does not fit. */
static int absolute(const char *path, char *out, size_t len) {
  char cwd[4096];
  if (path[0] == '/') return snprintf(out, len, "%s", path) < (int)len;
  if (!getcwd(cwd, sizeof cwd)) return 0;
  return snprintf(out, len, "%s/%s", cwd, path) < (int)len;
}

/* The manifest, then one job array of the shards that have points left. */
static int submit_slurm(const cls_opt_command *cmd, const sweep_args *a, const sweep_plan *p) {
  char spec[4200], out[4200], self[4200], err[8192];
  ssize_t k = readlink("/proc/self/exe", self, sizeof self - 1);
  if (k <= 0) return cls_opt_fail(cmd, CLS_EXIT_FAIL, "cannot find this program's own path (/proc/self/exe)");
  self[k] = 0;
  if (!absolute(a->spec_path, spec, sizeof spec) || !absolute(p->out, out, sizeof out))
    return cls_opt_fail(cmd, CLS_EXIT_FAIL, "cannot make the spec's and RUN_DIR's paths absolute");
  cls_sweep_manifest_info info = {a->spec_path, "(submitted with --slurm: each point's summary names its device)"};
  int created;
  cls_status st = cls_sweep_manifest_ensure(out, p->s, p->pts, p->n_pts, &info, &created, err, sizeof err);
  if (st != CLS_OK)
    return cls_opt_fail(cmd, st == CLS_ERR_INVALID_VALUE ? CLS_EXIT_USAGE : CLS_EXIT_FAIL, "%s", err);
  /* One task per point (Slurm's default array limit is 1001 tasks); a
   * re-submission lists only the shards with points left. */
  const size_t n = p->n_pts < 1000 ? p->n_pts : 1000;
  size_t *tasks = calloc(n ? n : 1, sizeof *tasks), n_tasks = 0, left = 0;
  if (!tasks) return cls_opt_fail(cmd, CLS_EXIT_FAIL, "out of host memory");
  for (size_t i = 0; i < n; i++) {
    size_t here = 0;
    for (size_t q = 0; q < p->n_pts; q++)
      if (cls_sweep_in_shard(p->pts[q].chain, i, n) &&
          !cls_point_state_done(cls_rundir_point_state(out, p->pts[q].id, NULL)) &&
          !(cls_rundir_point_state(out, p->pts[q].id, NULL) == CLS_POINT_FAILED &&
            failed_attempts(out, p->pts[q].id) > a->max_retries))
        here++;
    if (here) tasks[n_tasks++] = i;
    left += here;
  }
  if (!n_tasks) {
    free(tasks);
    printf("%s: every point of sweep '%s' is finished (or failed --max-retries times): nothing to submit\n", out,
           p->s->name);
    return CLS_EXIT_OK;
  }
  /* Each task's clscale gets this command's own settings. */
  char timeout[64], retries[64];
  char *args[16];
  size_t na = 0;
  if (a->backend) {
    args[na++] = "--matmul-backend";
    args[na++] = (char *)a->backend;
  }
  if (a->devices) {
    args[na++] = "--devices";
    args[na++] = (char *)a->devices;
  }
  if (a->device) {
    args[na++] = "--device";
    args[na++] = (char *)a->device;
  }
  if (a->claim_timeout > 0) {
    snprintf(timeout, sizeof timeout, "--claim-timeout=%.17g", a->claim_timeout);
    args[na++] = timeout;
  }
  snprintf(retries, sizeof retries, "--max-retries=%zu", a->max_retries);
  args[na++] = retries;
  if (a->no_steal) args[na++] = "--no-steal";
  if (a->quiet) args[na++] = "--quiet";
  if (a->side_arg) {
    args[na++] = "--side-by-side";
    args[na++] = (char *)a->side_arg;
  }
  if (a->per_device_arg) {
    args[na++] = "--per-device";
    args[na++] = (char *)a->per_device_arg;
  }
  cls_slurm_job job = {.clscale = self,
                       .spec = spec,
                       .out = out,
                       .name = p->s->name,
                       .n_shards = n,
                       .tasks = tasks,
                       .n_tasks = n_tasks,
                       .max_parallel = a->max_parallel,
                       .clscale_args = args,
                       .n_clscale_args = na,
                       .sbatch_args = a->sbatch_args,
                       .n_sbatch_args = a->sbatch_args ? (size_t)a->n_sbatch_args : 0};
  char id[64], array[256];
  int rc = cls_slurm_submit(&job, id, sizeof id, err, sizeof err);
  if (!cls_slurm_array_spec(tasks, n_tasks, a->max_parallel, array, sizeof array))
    snprintf(array, sizeof array, "...");
  free(tasks);
  if (rc != 0) return cls_opt_fail(cmd, CLS_EXIT_FAIL, "%s", err);
  printf("sweep '%s': %zu points, %zu left, %s manifest.json in %s\n", p->s->name, p->n_pts, left,
         created ? "wrote" : "same spec as its", out);
  printf("submitted job %s: array %s, %zu task%s of %zu shards (clscale sweep %s --out %s --shard I/%zu)\n", id,
         array, n_tasks, n_tasks > 1 ? "s" : "", n, spec, out, n);
  printf("logs:   %s/slurm/%s_*.out\n", out, id);
  printf("watch:  clscale sweep --status %s --watch\n", out);
  printf("cancel: scancel %s; after a time limit, preemption or failure, the same command submits what is left\n",
         id);
  return CLS_EXIT_OK;
}

int cls_cmd_sweep(int argc, char **argv) {
  sweep_args a;
  memset(&a, 0, sizeof a);
  cls_option opts[32];
  cls_opt_command cmd;
  sweep_command(&cmd, opts, sizeof opts / sizeof opts[0], &a);
  int code = read_args(&cmd, argc, argv, &a);
  if (code != CLS_EXIT_GO_ON) return code;
  if (a.status) {
    if (a.max_retries == SIZE_MAX) a.max_retries = 2;
    cls_sweep_status_args sa = {a.spec_path, a.json, a.watch, a.interval, a.claim_timeout, a.max_retries};
    return cls_sweep_status(&cmd, &sa);
  }
  if (a.slurm && a.shard_arg)
    return cls_opt_fail(&cmd, CLS_EXIT_USAGE, "--slurm makes the shards: not with --shard");
  sweep_plan p;
  code = make_plan(&cmd, &a, &p);
  if (code != CLS_EXIT_GO_ON) return code;
  /* The spec's claim_timeout and max_retries unless the options are given. */
  if (a.max_retries == SIZE_MAX) a.max_retries = p.s->max_retries >= 0 ? (size_t)p.s->max_retries : 2;
  if (!(a.claim_timeout > 0) && p.s->claim_timeout > 0) a.claim_timeout = p.s->claim_timeout;
  if (a.slurm) {
    code = submit_slurm(&cmd, &a, &p);
    free_plan(&p);
    return code;
  }
  cls_device_choice dev;
  char err[8192];
  code = cls_choose_devices(a.devices, a.device, &dev, err, sizeof err);
  if (code != CLS_EXIT_OK)
    cls_opt_fail(&cmd, code, "%s", err);
  else if ((code = check_memory(&cmd, &p, &dev)) != CLS_EXIT_GO_ON)
    ;
  else if (a.dry && p.s->solved)
    code = dry_run_solved(&p);
  else if (a.dry)
    code = dry_run(&cmd, &a, &p, &dev);
  else
    code = run_sweep(&cmd, &a, &p, &dev);
  free_plan(&p);
  return code;
}
