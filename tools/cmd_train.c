/*
 * tools/cmd_train.c — `clscale train`: one model, one budget; the loss
 * against the FLOPs the dispatch layer counted, into a run directory that
 * `clscale plot` reads. The work is src/train/ (task.h, loop.h); this file
 * parses options, installs the signal handlers, prints the progress line
 * and the result. docs/train.md is the manual.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clscale/device.h"
#include "command.h"
#include "commands.h"
#include "format.h"
#include "options.h"
#include "rundir/rundir.h"
#include "train/loop.h"
#include "train/task.h"

/* Everything the command line says. */
typedef struct {
  cls_task_spec spec;
  cls_train_config cfg;
  const char *model, *device, *backend, *id;
  int param; /* cls_parametrisation, as the option table's int */
  int n_budgets, profile, quiet;
  char task_help[512];
  char default_id[128];
} train_args;

/* ------------------------------------------------------- option values */

static int parse_budget(const char *v, train_args *a, cls_budget_kind kind, char *why, size_t len) {
  double d;
  if (!cls_opt_parse_double(v, &d)) return CLS_OPT_BAD; /* the entry's "wants a number" */
  if (!(d > 0)) {
    snprintf(why, len, "a budget of zero (or less) trains nothing: give a positive budget");
    return CLS_OPT_BAD;
  }
  if (kind == CLS_BUDGET_STEPS && d != floor(d)) {
    snprintf(why, len, "wants a whole number of steps");
    return CLS_OPT_BAD;
  }
  a->cfg.budget = d;
  a->cfg.budget_kind = kind;
  a->n_budgets++; /* more than one (even the same twice) is refused after parsing */
  return CLS_OPT_GOOD;
}
static int parse_budget_steps(const char *v, void *a, char *why, size_t len) {
  return parse_budget(v, a, CLS_BUDGET_STEPS, why, len);
}
static int parse_budget_tokens(const char *v, void *a, char *why, size_t len) {
  return parse_budget(v, a, CLS_BUDGET_TOKENS, why, len);
}
static int parse_budget_flops(const char *v, void *a, char *why, size_t len) {
  return parse_budget(v, a, CLS_BUDGET_FLOPS, why, len);
}

/* N steps, or P% of the run. */
static int parse_warmup(const char *v, void *target, char *why, size_t len) {
  cls_train_config *c = target;
  size_t n = strlen(v);
  double d;
  if (n && v[n - 1] == '%') {
    char buf[64];
    snprintf(buf, sizeof buf, "%.*s", (int)(n - 1), v);
    if (!cls_opt_parse_double(buf, &d) || d < 0 || d >= 100) {
      snprintf(why, len, "wants steps, or a percentage below 100%%");
      return CLS_OPT_BAD;
    }
    c->warmup_fraction = d / 100;
    return CLS_OPT_GOOD;
  }
  if (!cls_opt_parse_u64(v, &c->warmup_steps)) return CLS_OPT_BAD;
  c->warmup_fraction = -1;
  return CLS_OPT_GOOD;
}

/* N (steps) or N followed by s, m or h (time). */
static int parse_interval(const char *v, void *target, char *why, size_t len) {
  cls_train_config *c = target;
  (void)why, (void)len;
  size_t n = strlen(v);
  char unit = n ? v[n - 1] : 0;
  if (unit == 's' || unit == 'm' || unit == 'h') {
    char buf[64];
    double d;
    if (n >= sizeof buf) return CLS_OPT_BAD;
    snprintf(buf, sizeof buf, "%.*s", (int)(n - 1), v);
    if (!cls_opt_parse_double(buf, &d) || d < 0) return CLS_OPT_BAD;
    c->checkpoint_seconds = d * (unit == 'h' ? 3600 : unit == 'm' ? 60 : 1);
    c->checkpoint_steps = 0;
    return CLS_OPT_GOOD;
  }
  if (!cls_opt_parse_u64(v, &c->checkpoint_steps)) return CLS_OPT_BAD;
  c->checkpoint_seconds = 0;
  return CLS_OPT_GOOD;
}

/* ------------------------------------------------------------- options */

static const cls_opt_choice params[] = {
    {"sp", CLS_PARAM_SP}, {"mup", CLS_PARAM_MUP}, {"mup-depth", CLS_PARAM_MUP_DEPTH}, {NULL, 0}};

#define HEADING(text)                                                                                             \
  { .type = CLS_OPT_HEADING, .help = text }

/* The option table of `clscale train`, pointing into a, into cmd. */
static void train_options(cls_opt_command *cmd, train_args *a, cls_option *o, size_t cap) {
  cls_task_spec *s = &a->spec;
  cls_train_config *c = &a->cfg;
  char tasks[256];
  cls_task_list(tasks, sizeof tasks);
  snprintf(a->task_help, sizeof a->task_help,
           "the task: text (next-byte prediction, the default) or spectra (the spectral emulator on synthetic "
           "stellar spectra, MSE on the test set); tasks here: %s",
           tasks);
  const cls_option table[] = {
      HEADING("task and data:"),
      {CLS_OPT(CLS_OPT_STRING, "--task", &s->task, "TASK", "task", a->task_help)},
      {CLS_OPT(CLS_OPT_STRING, "--model", &a->model, "NAME", "model",
               "the model (default: gpt for text, emulator for spectra)")},
      {CLS_OPT(CLS_OPT_STRING, "--data", &s->data, "FILE|zipf", "data",
               "text read as bytes, or the synthetic Zipf corpus (default zipf)")},
      {CLS_OPT(CLS_OPT_SIZE, "--zipf-bytes", &s->zipf_bytes, "N", "zipf_bytes",
               "size of the synthetic corpus (default 4194304)"),
       .wants = "wants a positive whole number", .lo = 1, .hi = 1e18},
      {CLS_OPT(CLS_OPT_U64, "--data-seed", &s->data_seed, "N", "data_seed",
               "seed of the synthetic corpus, and of the spectra dataset (default 1)")},
      {CLS_OPT(CLS_OPT_DOUBLE, "--val-fraction", &s->val_fraction, "F", "val_fraction",
               "share of the text held out for evaluation (default 0.1)"),
       .wants = "wants a number in (0, 0.5]"},
      {CLS_OPT(CLS_OPT_SIZE, "--n-train", &s->n_train, "N", "n_train",
               "spectra: training spectra, the dataset size D (default 1024)")},
      {CLS_OPT(CLS_OPT_SIZE, "--n-test", &s->n_test, "N", "n_test",
               "spectra: test spectra, the evaluation set (default 256)")},
      {CLS_OPT(CLS_OPT_SIZE, "--n-pixels", &s->n_pixels, "N", "n_pixels",
               "spectra: wavelength grid (default 4000)")},
      {CLS_OPT(CLS_OPT_SIZE, "--pixels", &s->pixels, "N", "pixels",
               "spectra: pixels per spectrum per step (default 256)")},
      {CLS_OPT(CLS_OPT_SIZE, "--label-tokens", &s->label_tokens, "N", "label_tokens",
               "spectra: the emulator's label tokens (default 16)")},
      {CLS_OPT(CLS_OPT_SIZE, "--base", &s->base, "B", "base",
               "gcd: the base the numbers are written in (default 10)"),
       .wants = "wants a whole number >= 2", .lo = 2, .hi = 1 << 20},
      {CLS_OPT(CLS_OPT_SIZE, "--bound", &s->bound, "N", "bound", "gcd: a and b drawn from 1 .. N (default 1000)"),
       .wants = "wants a whole number >= 1", .lo = 1, .hi = 9007199254740992.0},
      {CLS_OPT(CLS_OPT_SIZE, "--train-pairs", &s->train_pairs, "N", "train_pairs",
               "gcd: distinct training pairs (default 0: a fresh pair at every draw)")},
      {CLS_OPT(CLS_OPT_SIZE, "--eval-pairs", &s->eval_pairs, "N", "eval_pairs",
               "gcd: held-out pairs of the final accuracy and the per-gcd table (default 4096)"),
       .wants = "wants a whole number >= 1", .lo = 1, .hi = 1 << 24},
      HEADING("model:"),
      {CLS_OPT(CLS_OPT_SIZE, "--width", &s->width, "N", "width", "model width (default 128)")},
      {CLS_OPT(CLS_OPT_SIZE, "--depth", &s->depth, "N", "depth", "layers (default 4)")},
      {CLS_OPT(CLS_OPT_SIZE, "--heads", &s->heads, "N", "heads", "attention heads (default 4)")},
      {CLS_OPT(CLS_OPT_SIZE, "--context", &s->context, "N", "context", "tokens per sequence (default 64)")},
      {CLS_OPT(CLS_OPT_CHOICE, "--param", &a->param, "sp|mup|mup-depth", "param",
               "parametrisation (default sp; mup-depth: muP with 1/sqrt(depth) residual branches)"),
       .wants = "use sp, mup or mup-depth", .choices = params},
      {CLS_OPT(CLS_OPT_SIZE, "--base-width", &s->base_width, "N", "base_width", "muP base width (default 128)")},
      {CLS_OPT(CLS_OPT_FLOAT, "--init-std", &s->init_std, "X", "init_std",
               "initial weights' standard deviation (default 0.02)"),
       .wants = "wants a positive number", .lo = 0, .hi = INFINITY, .flags = CLS_OPT_LO_OPEN},
      {CLS_OPT(CLS_OPT_FLOAT, "--weight-decay", &s->weight_decay, "X", "weight_decay",
               "AdamW weight decay (default 0.1)"),
       .wants = "wants a number >= 0", .lo = 0, .hi = INFINITY},
      HEADING("training:"),
      {CLS_OPT(CLS_OPT_SIZE, "--batch", &s->batch, "N", "batch",
               "sequences (text) or spectra per step (default 32)")},
      {CLS_OPT(CLS_OPT_CUSTOM, "--budget-steps", a, "N", NULL,
               "the run's length in steps; give exactly one budget"),
       .wants = "wants a number", .parse = parse_budget_steps},
      {CLS_OPT(CLS_OPT_CUSTOM, "--budget-tokens", a, "N", NULL, "... or in tokens, rounded down to whole steps"),
       .wants = "wants a number", .parse = parse_budget_tokens},
      {CLS_OPT(CLS_OPT_CUSTOM, "--budget-flops", a, "X", NULL,
               "... or in FLOPs, rounded down to whole steps (FLOPs per step measured on the device before the "
               "run)"),
       .wants = "wants a number", .parse = parse_budget_flops},
      {CLS_OPT(CLS_OPT_DOUBLE, "--lr", &c->lr, "X", "lr", "peak learning rate (default 1e-3)"),
       .wants = "wants a positive number", .lo = 0, .hi = INFINITY, .flags = CLS_OPT_LO_OPEN},
      {CLS_OPT(CLS_OPT_CUSTOM, "--warmup", c, "N|P%", "warmup warmup_steps warmup_fraction",
               "linear warm-up in steps, or percent of the run (default 5%), then cosine decay to --min-lr-ratio "
               "x lr at the end of the budget"),
       .wants = "wants a whole number of steps or a percentage (5%)", .parse = parse_warmup},
      {CLS_OPT(CLS_OPT_DOUBLE, "--min-lr-ratio", &c->min_lr_ratio, "R", "min_lr_ratio",
               "the floor of the cosine decay, as a fraction of lr (default 0.1)"),
       .wants = "wants a number in [0, 1]", .lo = 0, .hi = 1},
      {CLS_OPT(CLS_OPT_DOUBLE, "--beta1", &c->beta1, "X", "beta1", "AdamW beta1 (default 0.9)"),
       .wants = "wants a number in [0, 1)", .lo = 0, .hi = 1, .flags = CLS_OPT_HI_OPEN},
      {CLS_OPT(CLS_OPT_DOUBLE, "--beta2", &c->beta2, "X", "beta2", "AdamW beta2 (default 0.95)"),
       .wants = "wants a number in [0, 1)", .lo = 0, .hi = 1, .flags = CLS_OPT_HI_OPEN},
      {CLS_OPT(CLS_OPT_DOUBLE, "--clip", &c->clip, "X", "clip", "gradient clip (default 1; 0: none)"),
       .wants = "wants a number >= 0 (0: no clipping)", .lo = 0, .hi = INFINITY},
      {CLS_OPT(CLS_OPT_U64, "--seed", &s->seed, "N", "seed", "initial weights and batch order (default 1)")},
      HEADING("evaluation and output:"),
      {CLS_OPT(CLS_OPT_STRING, "--out", &c->out_dir, "DIR", "out_dir", "run directory (created)")},
      {CLS_OPT(CLS_OPT_STRING, "--id", &a->id, "NAME", "id", "run id, file names (default MODEL_wW_dD_sSEED)")},
      {CLS_OPT(CLS_OPT_SIZE, "--evals", &c->evals, "N", "evals",
               "log-spaced evaluations, the last at the final step (default 20)"),
       .wants = "wants a whole number >= 1", .lo = 1, .hi = 1e18},
      {CLS_OPT(CLS_OPT_U64, "--eval-every", &c->eval_every, "N", "eval_every",
               "evaluate every N steps instead (and at the final step)"),
       .wants = "wants a whole number of steps >= 1", .lo = 1, .hi = 1e18},
      {CLS_OPT(CLS_OPT_SIZE, "--eval-batches", &c->eval_batches, "N", "eval_batches",
               "held-out batches per evaluation (default 8)"),
       .wants = "wants a whole number >= 1", .lo = 1, .hi = 1e18},
      {CLS_OPT(CLS_OPT_CUSTOM, "--checkpoint-every", c, "N|Ns|Nm|Nh",
               "checkpoint_every checkpoint_steps checkpoint_seconds",
               "steps, or seconds/minutes/hours (default 10m; 0: only when stopped and at the end). "
               "SIGINT/SIGTERM checkpoint and stop the run."),
       .wants = "wants steps (500) or a time (90s, 10m, 1h)", .parse = parse_interval},
      {CLS_OPT(CLS_OPT_FLAG, "--resume", &c->resume, NULL, "resume",
               "continue DIR/checkpoints/ID.ckpt exactly where it stopped (same options)")},
      {CLS_OPT(CLS_OPT_FLAG, "--force", &c->force, NULL, "force", "start over even if a checkpoint of ID exists")},
      {CLS_OPT(CLS_OPT_FLAG, "--drop-checkpoint", &c->drop_checkpoint, NULL, "drop_checkpoint",
               "remove the checkpoint when the run ends ok (kept by default)")},
      {CLS_OPT(CLS_OPT_U64, "--stop-after-steps", &c->stop_after_steps, "N", "stop_after_steps",
               "stop (checkpointed, status interrupted) after step N, as a signal would"),
       .wants = "wants a whole number >= 1", .lo = 1, .hi = 1e18},
      HEADING("device:"),
      {CLS_OPT(CLS_OPT_STRING, "--device", &a->device, "SEL", "device",
               "P:D, gpu, cpu or a name substring (default CLSCALE_DEVICE, else fastest GPU)")},
      {CLS_OPT(CLS_OPT_STRING, "--matmul-backend", &a->backend, "B", "matmul_backend",
               "auto, own, clblast or host (default CLSCALE_MATMUL_BACKEND, else auto)")},
      {CLS_OPT(CLS_OPT_FLAG, "--profile", &a->profile, NULL, NULL,
               "after the run: the ops' counters and the achieved share of the device's peak")},
      {CLS_OPT(CLS_OPT_FLAG, "--quiet", &a->quiet, NULL, NULL, "no progress line and no result lines")},
  };
  cls_cmd_set_options(cmd, o, cap, table, sizeof table / sizeof table[0]);
}

enum { TRAIN_MAX_OPTIONS = 64 };

static void train_command(cls_opt_command *cmd, cls_option *opts, train_args *a) {
  cmd->name = "train";
  cmd->usage =
      "usage: clscale train --out DIR (--budget-steps N | --budget-tokens N | --budget-flops X) [options]";
  cmd->about =
      "Trains one model on one budget and writes DIR/points/ID.csv (one row per evaluation: step, tokens,\n"
      "flops counted by the dispatch layer, flops_6nd, train_loss, eval_loss, lr, seconds), "
      "DIR/points/ID.json\n(the summary; status ok, diverged, failed or interrupted) and "
      "DIR/checkpoints/ID.ckpt.";
  cmd->epilogue =
      "exit codes: 0 ok; 1 failed, diverged (NaN/Inf loss) or interrupted (the summary says which); 2 bad usage";
  cmd->words = CLS_OPT_WORDS_NAMED;
  train_options(cmd, a, opts, TRAIN_MAX_OPTIONS);
}

/* Parses argv and completes the config (each task's own model, the default
 * id); CLS_EXIT_GO_ON, else the exit code. */
static int read_args(const cls_opt_command *cmd, int argc, char **argv, train_args *a) {
  int code = cls_cmd_parse(cmd, argc, argv);
  if (code != CLS_EXIT_GO_ON) return code;
  if (argc < 2) return cls_cmd_refuse(cmd, NULL);
  if (a->n_budgets != 1)
    return cls_opt_fail(cmd, CLS_EXIT_USAGE,
                        "give exactly one budget: --budget-steps N, --budget-tokens N or --budget-flops X");
  if (!a->cfg.out_dir) return cls_opt_fail(cmd, CLS_EXIT_USAGE, "give the run directory with --out DIR");
  /* Without --model, the task's own model: the first registry entry of the
   * task (an unknown task is reported when the task is built). */
  const cls_task_info *task = a->model ? NULL : cls_task_find(a->spec.task, NULL);
  if (a->model)
    a->spec.model = a->model;
  else if (task)
    a->spec.model = task->model->name;
  if (!a->id) {
    snprintf(a->default_id, sizeof a->default_id, "%s_w%zu_d%zu_s%llu", a->spec.model, a->spec.width,
             a->spec.depth, (unsigned long long)a->spec.seed);
    a->id = a->default_id;
  }
  char why[512];
  if (cls_rundir_check_id("--id", a->id, why, sizeof why) != CLS_OK)
    return cls_opt_fail(cmd, CLS_EXIT_USAGE, "%s", why);
  a->cfg.id = a->id;
  a->cfg.task_name = a->spec.task;
  a->cfg.model_name = a->spec.model;
  a->spec.param = (cls_parametrisation)a->param;
  return CLS_EXIT_GO_ON;
}

/* ---------------------------------------------------------- progress */

typedef struct {
  int tty;
  double last;
  int printed;
} progress_state;

static void on_progress(void *user, const cls_train_progress *p) {
  progress_state *ps = user;
  if (!ps->tty) return;
  /* At most 5 lines a second, and always the last step. */
  if (p->seconds - ps->last < 0.2 && p->step != p->total_steps && !p->evaluated) return;
  ps->last = p->seconds;
  char eta[32];
  cls_fmt_duration(p->eta_seconds, eta, sizeof eta);
  fprintf(stderr, "\rstep %llu/%llu  loss %.4f  %.0f tokens/s  ETA %s   ", (unsigned long long)p->step,
          (unsigned long long)p->total_steps, p->loss, p->tokens_per_second, eta);
  fflush(stderr);
  ps->printed = 1;
}

/* ------------------------------------------------------------ results */

/* The exit code of a run that ended (or was refused), and its error lines. */
static int report_status(const cls_opt_command *cmd, const train_args *a, const cls_train_result *r) {
  if (!r->started) {
    /* refused before training: a bad config is usage, a bad checkpoint or a device failure a failure */
    return cls_opt_fail(cmd, r->bad_usage ? CLS_EXIT_USAGE : CLS_EXIT_FAIL, "%s", r->error);
  }
  if (r->status == CLS_RUN_OK) return CLS_EXIT_OK;
  cls_opt_fail(cmd, CLS_EXIT_FAIL, "run '%s' %s: %s", a->id, cls_run_status_name(r->status), r->error);
  if (r->status == CLS_RUN_INTERRUPTED)
    fprintf(stderr, "clscale train: checkpoint %s; the same command with --resume continues it\n", r->ckpt_path);
  return CLS_EXIT_FAIL;
}

static void print_result(const train_args *a, const cls_train_task *task, const cls_train_result *r) {
  if (r->already_finished)
    printf("run '%s' had already finished; its files are left as they were\n", a->id);
  else if (r->resumed_from)
    printf("resumed at step %llu\n", (unsigned long long)r->resumed_from);
  printf("run '%s' %s: %llu/%llu steps, %.4g tokens, %.4g FLOPs measured (6ND %.4g), eval loss %.5g, train "
         "loss %.5g\n",
         a->id, cls_run_status_name(r->status), (unsigned long long)r->steps, (unsigned long long)r->total_steps,
         r->tokens, r->flops, r->flops_6nd, r->final_eval_loss, r->final_train_loss);
  if (!r->already_finished) printf("wrote %s and %s\n", r->csv_path, r->json_path);
  if (r->process_steps && r->step_seconds > 0)
    printf("speed: %.0f tokens/s, %.2f GFLOP/s achieved over %llu steps (%.4g FLOPs per step measured, %.4g "
           "counted by the model)\n",
           (double)r->process_steps * task->tokens_per_step / r->step_seconds,
           r->process_train_flops / r->step_seconds * 1e-9, (unsigned long long)r->process_steps,
           r->flops_per_step, task->model_flops_per_step);
}

/* --profile: the ops' counters and the share of the device's peak reached. */
static void print_profile(cls_context *ctx, const cls_train_result *r) {
  cls_counters cn;
  if (cls_counters_get(ctx, &cn) == CLS_OK) {
    char *table = malloc(16384);
    if (table) {
      cls_counters_summary(&cn, table, 16384);
      printf("\nops of this run (training steps and %s evaluations):\n%s", "the", table);
      free(table);
    }
  }
  /* Launches: one step's, counted by the probe (deterministic for a
   * model and backend). Idle: the share of the run's device stretch in
   * which no command ran (launch gaps, host work between steps, waits). */
  printf("launches per step: %llu (training step and optimiser)\n", (unsigned long long)r->launches_per_step);
  if (r->device_span_seconds > 0)
    printf("device idle: %.1f%% of %.3f s from the first kernel to the last (busy %.3f s)\n",
           100.0 * (1.0 - r->device_busy_seconds / r->device_span_seconds), r->device_span_seconds,
           r->device_busy_seconds);
  /* Before the peak measurement below builds its own program: what the run
   * itself needed (a cold start compiles these and nothing else). */
  size_t np = cls_context_program_count(ctx);
  double build = 0;
  printf("kernel programs built: %zu of %zu:", np, cls_program_count());
  for (size_t i = 0; i < np; i++) {
    double s;
    printf(" %s", cls_context_program_name(ctx, i, &s));
    build += s;
  }
  cls_cache_stats cs;
  cls_cache_stats_get(ctx, &cs);
  printf(" (%.2f s; %u from clscale's cache, %u compiled, %u left to the driver's cache)\n", build, cs.hits,
         cs.misses, cs.left_to_driver);
  cls_peak pk;
  if (cls_peak_measure(ctx, 5, &pk) == CLS_OK && r->step_seconds > 0) {
    double gf = r->process_train_flops / r->step_seconds * 1e-9;
    printf("device peak: %.1f GFLOP/s (FMA), %.1f GB/s (copy); this run reached %.1f%% of the FMA peak\n",
           pk.fma_gflops, pk.copy_gbps, 100.0 * gf / pk.fma_gflops);
  } else {
    fprintf(stderr, "clscale train: measuring the device's peak failed: %s\n", cls_last_error(ctx));
  }
}

/* ------------------------------------------------------------- steps */

/* The device and the task on it; CLS_EXIT_OK, else the exit code (the
 * message printed, nothing left to free). */
static int open_task(const cls_opt_command *cmd, train_args *a, cls_context **ctx, cls_train_task **task) {
  int code = cls_cmd_open_context(cmd, a->device, a->backend, ctx);
  if (code != CLS_EXIT_GO_ON) return code;
  char err[4096];
  a->cfg.device_name = cls_context_device(*ctx)->name;
  cls_status s = cls_task_create(*ctx, &a->spec, task, err, sizeof err);
  if (s != CLS_OK) {
    cls_context_destroy(*ctx);
    return cls_opt_fail(cmd, cls_cmd_exit_of(s), "%s", err);
  }
  return CLS_EXIT_OK;
}

/* Trains, then prints what the run did; the exit code. */
static int train(const cls_opt_command *cmd, train_args *a, cls_context *ctx, cls_train_task *task) {
  progress_state ps = {!a->quiet && isatty(STDERR_FILENO), -1, 0};
  a->cfg.stop = cls_cmd_stop_flag();
  a->cfg.progress = on_progress;
  a->cfg.progress_user = &ps;
  if (!a->quiet) fprintf(stderr, "clscale train: %s on %s\n", task->describe, a->cfg.device_name);
  cls_train_result *r = malloc(sizeof *r); /* 20 KiB of paths and messages: not on the stack */
  if (!r) return cls_opt_fail(cmd, CLS_EXIT_FAIL, "out of host memory");
  cls_train_run(task, &a->cfg, r);
  if (ps.printed) fprintf(stderr, "\n");
  cls_cmd_release_signals();
  int code = report_status(cmd, a, r);
  if (r->started && !a->quiet) print_result(a, task, r);
  if (a->profile && r->started) print_profile(ctx, r);
  free(r);
  return code;
}

int cls_cmd_train(int argc, char **argv) {
  train_args a;
  memset(&a, 0, sizeof a);
  cls_task_spec_default(&a.spec);
  cls_train_config_default(&a.cfg);
  a.param = (int)a.spec.param;
  cls_option opts[TRAIN_MAX_OPTIONS];
  cls_opt_command cmd;
  train_command(&cmd, opts, &a);
  int code = read_args(&cmd, argc, argv, &a);
  if (code != CLS_EXIT_GO_ON) return code;

  cls_cmd_catch_signals(); /* from here on: a signal during setup stops the run after its first step */
  cls_context *ctx;
  cls_train_task *task;
  code = open_task(&cmd, &a, &ctx, &task);
  if (code != CLS_EXIT_OK) return code;
  code = train(&cmd, &a, ctx, task);
  cls_task_destroy(task);
  cls_context_destroy(ctx);
  return code;
}
