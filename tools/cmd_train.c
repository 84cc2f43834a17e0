/*
 * tools/cmd_train.c — `clscale train`: one model, one budget; the loss
 * against the FLOPs the dispatch layer counted, into a run directory that
 * `clscale plot` reads. The work is src/train/ (task.h, loop.h); this file
 * parses options, installs the signal handlers, prints the progress line
 * and the result. docs/train.md is the manual.
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
#include "train/loop.h"
#include "train/task.h"

static void usage(FILE *f) {
  char tasks[256];
  fprintf(
      f,
      "usage: clscale train --out DIR (--budget-steps N | --budget-tokens N | --budget-flops X) [options]\n\n"
      "Trains one model on one budget and writes DIR/points/ID.csv (one row per evaluation: step, tokens,\n"
      "flops counted by the dispatch layer, flops_6nd, train_loss, eval_loss, lr, seconds), DIR/points/ID.json\n"
      "(the summary; status ok, diverged, failed or interrupted) and DIR/checkpoints/ID.ckpt.\n\n"
      "task and data:\n"
      "  --task text          the task (text: next-byte prediction; tasks here: %s)\n"
      "  --model gpt          the model (default: gpt for text, emulator for spectra)\n"
      "  --data FILE|zipf     text read as bytes, or the synthetic Zipf corpus (default zipf)\n"
      "  --zipf-bytes N       size of the synthetic corpus (default 4194304)\n"
      "  --data-seed N        seed of the synthetic corpus (default 1)\n"
      "  --val-fraction F     share of the text held out for evaluation (default 0.1)\n"
      "  --task spectra       the spectral emulator on synthetic stellar spectra (MSE on the test set):\n"
      "  --n-train N          training spectra, the dataset size D (default 1024)\n"
      "  --n-test N           test spectra, the evaluation set (default 256)\n"
      "  --n-pixels N         wavelength grid (default 4000)   --pixels N   per spectrum per step (default 256)\n"
      "  --label-tokens N     the emulator's label tokens (default 16); --data-seed seeds the dataset\n"
      "model:\n"
      "  --width N --depth N --heads N --context N   (defaults 128, 4, 4, 64)\n"
      "  --param sp|mup       parametrisation (default sp)\n"
      "  --base-width N       muP base width (default 128)\n"
      "  --init-std X         (default 0.02)    --weight-decay X   (default 0.1)\n"
      "training:\n"
      "  --batch N            sequences (text) or spectra per step (default 32)\n"
      "  --budget-steps N | --budget-tokens N | --budget-flops X\n"
      "                       the run's length; tokens and FLOPs are rounded down to whole steps (FLOPs per\n"
      "                       step measured on the device before the run)\n"
      "  --lr X               peak learning rate (default 1e-3)\n"
      "  --warmup N|P%%        linear warm-up in steps, or percent of the run (default 5%%), then cosine decay\n"
      "                       to --min-lr-ratio x lr (default 0.1) at the end of the budget\n"
      "  --beta1 X --beta2 X --clip X   AdamW (defaults 0.9, 0.95, gradient clip 1; 0: none)\n"
      "  --seed N             initial weights and batch order (default 1)\n"
      "evaluation and output:\n"
      "  --out DIR            run directory (created)\n"
      "  --id NAME            run id, file names (default MODEL_wW_dD_sSEED)\n"
      "  --evals N            log-spaced evaluations, the last at the final step (default 20)\n"
      "  --eval-every N       evaluate every N steps instead (and at the final step)\n"
      "  --eval-batches N     held-out batches per evaluation (default 8)\n"
      "  --checkpoint-every N|Ns|Nm|Nh   steps, or seconds/minutes/hours (default 10m; 0: only when\n"
      "                       stopped and at the end). SIGINT/SIGTERM checkpoint and stop the run.\n"
      "  --resume             continue DIR/checkpoints/ID.ckpt exactly where it stopped (same options)\n"
      "  --force              start over even if a checkpoint of ID exists\n"
      "  --drop-checkpoint    remove the checkpoint when the run ends ok (kept by default)\n"
      "  --stop-after-steps N stop (checkpointed, status interrupted) after step N, as a signal would\n"
      "device:\n"
      "  --device SEL         P:D, gpu, cpu or a name substring (default CLSCALE_DEVICE, else fastest GPU)\n"
      "  --matmul-backend B   auto, own, clblast or host (default CLSCALE_MATMUL_BACKEND, else auto)\n"
      "  --profile            after the run: the ops' counters and the achieved share of the device's peak\n"
      "  --quiet              no progress line and no result lines\n\n"
      "exit codes: 0 ok; 1 failed, diverged (NaN/Inf loss) or interrupted (the summary says which); 2 bad "
      "usage\n",
      cls_task_list(tasks, sizeof tasks));
}

/* ----------------------------------------------------------- signals */

static volatile sig_atomic_t stop_flag = 0;
static void on_signal(int sig) {
  (void)sig;
  stop_flag = 1; /* the loop checkpoints and stops at the end of the step */
}

/* ----------------------------------------------------------- parsing */

static int parse_size(const char *v, size_t *out) {
  char *end;
  errno = 0;
  if (!v || *v == '-') return 0;
  double d = strtod(v, &end); /* accepts 1e6 */
  if (end == v || *end || errno || !(d >= 0) || d > 1e18 || d != floor(d)) return 0;
  *out = (size_t)d;
  return 1;
}

static int parse_u64(const char *v, uint64_t *out) {
  size_t s;
  if (!parse_size(v, &s)) return 0;
  *out = (uint64_t)s;
  return 1;
}

static int parse_double(const char *v, double *out) {
  char *end;
  errno = 0;
  if (!v) return 0;
  double d = strtod(v, &end);
  if (end == v || *end || errno || !isfinite(d)) return 0;
  *out = d;
  return 1;
}

/* N (steps) or N followed by s, m or h (time). */
static int parse_interval(const char *v, uint64_t *steps, double *seconds) {
  if (!v || !*v) return 0;
  size_t len = strlen(v);
  char unit = v[len - 1];
  if (unit == 's' || unit == 'm' || unit == 'h') {
    char buf[64];
    if (len >= sizeof buf) return 0;
    memcpy(buf, v, len - 1);
    buf[len - 1] = 0;
    double d;
    if (!parse_double(buf, &d) || d < 0) return 0;
    *seconds = d * (unit == 'h' ? 3600 : unit == 'm' ? 60 : 1);
    *steps = 0;
    return 1;
  }
  if (!parse_u64(v, steps)) return 0;
  *seconds = 0;
  return 1;
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

/* ------------------------------------------------------------- main */

#define NEED_VALUE()                                                                                              \
  do {                                                                                                            \
    if (!v) {                                                                                                     \
      fprintf(stderr, "clscale train: %s needs a value\n", name);                                                 \
      return CLS_EXIT_USAGE;                                                                                      \
    }                                                                                                             \
  } while (0)
#define BAD_VALUE(what)                                                                                           \
  do {                                                                                                            \
    fprintf(stderr, "clscale train: %s '%s': %s\n", name, v, what);                                               \
    return CLS_EXIT_USAGE;                                                                                        \
  } while (0)

int cls_cmd_train(int argc, char **argv) {
  cls_task_spec spec;
  cls_task_spec_default(&spec);
  cls_train_config cfg;
  cls_train_config_default(&cfg);
  const char *device = NULL, *backend = NULL, *id = NULL;
  int n_budgets = 0, profile = 0, quiet = 0;

  for (int i = 1; i < argc; i++) {
    const char *arg = argv[i];
    if (!strcmp(arg, "--help") || !strcmp(arg, "-h")) {
      usage(stdout);
      return CLS_EXIT_OK;
    }
    if (strncmp(arg, "--", 2)) {
      fprintf(stderr, "clscale train: unexpected argument '%s' (options start with --)\n", arg);
      usage(stderr);
      return CLS_EXIT_USAGE;
    }
    /* --name value or --name=value */
    char name[64];
    const char *eq = strchr(arg, '='), *v = NULL;
    size_t nlen = eq ? (size_t)(eq - arg) : strlen(arg);
    if (nlen >= sizeof name) nlen = sizeof name - 1;
    memcpy(name, arg, nlen);
    name[nlen] = 0;
    /* flags take no value */
    if (!strcmp(name, "--resume") || !strcmp(name, "--force") || !strcmp(name, "--profile") ||
        !strcmp(name, "--quiet") || !strcmp(name, "--drop-checkpoint")) {
      if (eq) {
        fprintf(stderr, "clscale train: %s takes no value\n", name);
        return CLS_EXIT_USAGE;
      }
      if (!strcmp(name, "--resume"))
        cfg.resume = 1;
      else if (!strcmp(name, "--force"))
        cfg.force = 1;
      else if (!strcmp(name, "--profile"))
        profile = 1;
      else if (!strcmp(name, "--drop-checkpoint"))
        cfg.drop_checkpoint = 1;
      else
        quiet = 1;
      continue;
    }
    v = eq ? eq + 1 : (i + 1 < argc ? argv[++i] : NULL);
    NEED_VALUE();
    size_t sz;
    double d;
    if (!strcmp(name, "--task"))
      spec.task = v;
    else if (!strcmp(name, "--model"))
      spec.model = v;
    else if (!strcmp(name, "--data"))
      spec.data = v;
    else if (!strcmp(name, "--zipf-bytes")) {
      if (!parse_size(v, &spec.zipf_bytes) || !spec.zipf_bytes) BAD_VALUE("wants a positive whole number");
    } else if (!strcmp(name, "--data-seed")) {
      if (!parse_u64(v, &spec.data_seed)) BAD_VALUE("wants a whole number");
    } else if (!strcmp(name, "--val-fraction")) {
      if (!parse_double(v, &spec.val_fraction)) BAD_VALUE("wants a number in (0, 0.5]");
    } else if (!strcmp(name, "--width") || !strcmp(name, "--depth") || !strcmp(name, "--heads") ||
               !strcmp(name, "--context") || !strcmp(name, "--batch") || !strcmp(name, "--base-width") ||
               !strcmp(name, "--n-train") || !strcmp(name, "--n-test") || !strcmp(name, "--pixels") ||
               !strcmp(name, "--n-pixels") || !strcmp(name, "--label-tokens")) {
      if (!parse_size(v, &sz)) BAD_VALUE("wants a whole number");
      if (!strcmp(name, "--width"))
        spec.width = sz;
      else if (!strcmp(name, "--depth"))
        spec.depth = sz;
      else if (!strcmp(name, "--heads"))
        spec.heads = sz;
      else if (!strcmp(name, "--context"))
        spec.context = sz;
      else if (!strcmp(name, "--batch"))
        spec.batch = sz;
      else if (!strcmp(name, "--base-width"))
        spec.base_width = sz;
      else if (!strcmp(name, "--n-train"))
        spec.n_train = sz;
      else if (!strcmp(name, "--n-test"))
        spec.n_test = sz;
      else if (!strcmp(name, "--pixels"))
        spec.pixels = sz;
      else if (!strcmp(name, "--n-pixels"))
        spec.n_pixels = sz;
      else
        spec.label_tokens = sz;
    } else if (!strcmp(name, "--param")) {
      if (!strcmp(v, "sp"))
        spec.param = CLS_PARAM_SP;
      else if (!strcmp(v, "mup"))
        spec.param = CLS_PARAM_MUP;
      else
        BAD_VALUE("use sp or mup");
    } else if (!strcmp(name, "--init-std")) {
      if (!parse_double(v, &d) || !(d > 0)) BAD_VALUE("wants a positive number");
      spec.init_std = (float)d;
    } else if (!strcmp(name, "--weight-decay")) {
      if (!parse_double(v, &d) || d < 0) BAD_VALUE("wants a number >= 0");
      spec.weight_decay = (float)d;
    } else if (!strcmp(name, "--seed")) {
      if (!parse_u64(v, &spec.seed)) BAD_VALUE("wants a whole number");
    } else if (!strcmp(name, "--budget-steps") || !strcmp(name, "--budget-tokens") ||
               !strcmp(name, "--budget-flops")) {
      if (!parse_double(v, &d)) BAD_VALUE("wants a number");
      if (!(d > 0)) BAD_VALUE("a budget of zero (or less) trains nothing: give a positive budget");
      if (!strcmp(name, "--budget-steps") && d != floor(d)) BAD_VALUE("wants a whole number of steps");
      cfg.budget = d;
      cfg.budget_kind = !strcmp(name, "--budget-steps")    ? CLS_BUDGET_STEPS
                        : !strcmp(name, "--budget-tokens") ? CLS_BUDGET_TOKENS
                                                           : CLS_BUDGET_FLOPS;
      n_budgets++;
    } else if (!strcmp(name, "--lr")) {
      if (!parse_double(v, &cfg.lr) || !(cfg.lr > 0)) BAD_VALUE("wants a positive number");
    } else if (!strcmp(name, "--min-lr-ratio")) {
      if (!parse_double(v, &cfg.min_lr_ratio) || cfg.min_lr_ratio < 0 || cfg.min_lr_ratio > 1)
        BAD_VALUE("wants a number in [0, 1]");
    } else if (!strcmp(name, "--warmup")) {
      size_t len = strlen(v);
      if (len && v[len - 1] == '%') {
        char buf[64];
        snprintf(buf, sizeof buf, "%.*s", (int)(len - 1), v);
        if (!parse_double(buf, &d) || d < 0 || d >= 100) BAD_VALUE("wants steps, or a percentage below 100%");
        cfg.warmup_fraction = d / 100;
      } else {
        if (!parse_u64(v, &cfg.warmup_steps)) BAD_VALUE("wants a whole number of steps or a percentage (5%)");
        cfg.warmup_fraction = -1;
      }
    } else if (!strcmp(name, "--beta1")) {
      if (!parse_double(v, &cfg.beta1) || cfg.beta1 < 0 || cfg.beta1 >= 1) BAD_VALUE("wants a number in [0, 1)");
    } else if (!strcmp(name, "--beta2")) {
      if (!parse_double(v, &cfg.beta2) || cfg.beta2 < 0 || cfg.beta2 >= 1) BAD_VALUE("wants a number in [0, 1)");
    } else if (!strcmp(name, "--clip")) {
      if (!parse_double(v, &cfg.clip) || cfg.clip < 0) BAD_VALUE("wants a number >= 0 (0: no clipping)");
    } else if (!strcmp(name, "--out"))
      cfg.out_dir = v;
    else if (!strcmp(name, "--id"))
      id = v;
    else if (!strcmp(name, "--evals")) {
      if (!parse_size(v, &cfg.evals) || !cfg.evals) BAD_VALUE("wants a whole number >= 1");
    } else if (!strcmp(name, "--eval-every")) {
      if (!parse_u64(v, &cfg.eval_every) || !cfg.eval_every) BAD_VALUE("wants a whole number of steps >= 1");
    } else if (!strcmp(name, "--eval-batches")) {
      if (!parse_size(v, &cfg.eval_batches) || !cfg.eval_batches) BAD_VALUE("wants a whole number >= 1");
    } else if (!strcmp(name, "--checkpoint-every")) {
      if (!parse_interval(v, &cfg.checkpoint_steps, &cfg.checkpoint_seconds))
        BAD_VALUE("wants steps (500) or a time (90s, 10m, 1h)");
    } else if (!strcmp(name, "--stop-after-steps")) {
      if (!parse_u64(v, &cfg.stop_after_steps) || !cfg.stop_after_steps) BAD_VALUE("wants a whole number >= 1");
    } else if (!strcmp(name, "--device"))
      device = v;
    else if (!strcmp(name, "--matmul-backend"))
      backend = v;
    else {
      fprintf(stderr, "clscale train: unknown option '%s'\n", name);
      usage(stderr);
      return CLS_EXIT_USAGE;
    }
  }
  if (argc < 2) {
    usage(stderr);
    return CLS_EXIT_USAGE;
  }
  if (n_budgets != 1) {
    fprintf(stderr, "clscale train: give exactly one budget: --budget-steps N, --budget-tokens N or "
                    "--budget-flops X\n");
    return CLS_EXIT_USAGE;
  }
  if (!cfg.out_dir) {
    fprintf(stderr, "clscale train: give the run directory with --out DIR\n");
    return CLS_EXIT_USAGE;
  }
  int model_given = 0;
  for (int i = 1; i < argc; i++) model_given |= !strncmp(argv[i], "--model", 7);
  const cls_task_info *task_info = cls_task_find(spec.task, NULL);
  if (!model_given && task_info) spec.model = task_info->model->name; /* each task's own model */
  char default_id[128];
  if (!id) {
    snprintf(default_id, sizeof default_id, "%s_w%zu_d%zu_s%llu", spec.model, spec.width, spec.depth,
             (unsigned long long)spec.seed);
    id = default_id;
  }
  cfg.id = id;
  cfg.task_name = spec.task;
  cfg.model_name = spec.model;

  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sa.sa_flags = SA_RESETHAND; /* a second signal ends the process at once */
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL); /* from here on: a signal during setup stops the run after its first step */
  cls_context_options opts;
  cls_context_options_init(&opts);
  if (device) opts.device = device;
  if (backend) opts.matmul_backend = backend;
  char err[4096];
  cls_context *ctx;
  if (cls_context_create(&opts, &ctx, err, sizeof err) != CLS_OK) {
    fprintf(stderr, "clscale train: %s\n", err);
    return CLS_EXIT_FAIL;
  }
  cfg.device_name = cls_context_device(ctx)->name;

  cls_train_task *task;
  cls_status s = cls_task_create(ctx, &spec, &task, err, sizeof err);
  if (s != CLS_OK) {
    fprintf(stderr, "clscale train: %s\n", err);
    cls_context_destroy(ctx);
    return s == CLS_ERR_INVALID_VALUE || s == CLS_ERR_INVALID_SIZE ? CLS_EXIT_USAGE : CLS_EXIT_FAIL;
  }

  progress_state ps = {!quiet && isatty(STDERR_FILENO), -1, 0};
  cfg.stop = &stop_flag;
  cfg.progress = on_progress;
  cfg.progress_user = &ps;

  if (!quiet) fprintf(stderr, "clscale train: %s on %s\n", task->describe, cfg.device_name);
  cls_train_result *r = malloc(sizeof *r);
  if (!r) {
    fprintf(stderr, "clscale train: out of host memory\n");
    cls_task_destroy(task);
    cls_context_destroy(ctx);
    return CLS_EXIT_FAIL;
  }
  s = cls_train_run(task, &cfg, r);
  if (ps.printed) fprintf(stderr, "\n");
  signal(SIGINT, SIG_DFL);
  signal(SIGTERM, SIG_DFL);

  int code = CLS_EXIT_OK;
  if (!r->started) {
    /* refused before training: a bad config is usage, a bad checkpoint or a device failure a failure */
    fprintf(stderr, "clscale train: %s\n", r->error);
    code = r->bad_usage ? CLS_EXIT_USAGE : CLS_EXIT_FAIL;
  } else if (r->status != CLS_RUN_OK) {
    fprintf(stderr, "clscale train: run '%s' %s: %s\n", id, cls_run_status_name(r->status), r->error);
    if (r->status == CLS_RUN_INTERRUPTED)
      fprintf(stderr, "clscale train: checkpoint %s; the same command with --resume continues it\n", r->ckpt_path);
    code = CLS_EXIT_FAIL;
  }
  if (r->started && !quiet) {
    if (r->resumed_from) printf("resumed at step %llu\n", (unsigned long long)r->resumed_from);
    printf("run '%s' %s: %llu/%llu steps, %.4g tokens, %.4g FLOPs measured (6ND %.4g), eval loss %.5g, train "
           "loss %.5g\n",
           id, cls_run_status_name(r->status), (unsigned long long)r->steps, (unsigned long long)r->total_steps,
           r->tokens, r->flops, r->flops_6nd, r->final_eval_loss, r->final_train_loss);
    printf("wrote %s and %s\n", r->csv_path, r->json_path);
    if (r->process_steps && r->step_seconds > 0)
      printf("speed: %.0f tokens/s, %.2f GFLOP/s achieved over %llu steps (%.4g FLOPs per step measured, %.4g "
             "counted by the model)\n",
             (double)r->process_steps * task->tokens_per_step / r->step_seconds,
             r->process_train_flops / r->step_seconds * 1e-9, (unsigned long long)r->process_steps,
             r->flops_per_step, task->model_flops_per_step);
  }
  if (profile && r->started) {
    cls_counters cn;
    if (cls_counters_get(ctx, &cn) == CLS_OK) {
      char *table = malloc(16384);
      if (table) {
        cls_counters_summary(&cn, table, 16384);
        printf("\nops of this run (training steps and %s evaluations):\n%s", "the", table);
        free(table);
      }
    }
    cls_peak pk;
    if (cls_peak_measure(ctx, 5, &pk) == CLS_OK && r->step_seconds > 0) {
      double gf = r->process_train_flops / r->step_seconds * 1e-9;
      printf("device peak: %.1f GFLOP/s (FMA), %.1f GB/s (copy); this run reached %.1f%% of the FMA peak\n",
             pk.fma_gflops, pk.copy_gbps, 100.0 * gf / pk.fma_gflops);
    } else {
      fprintf(stderr, "clscale train: measuring the device's peak failed: %s\n", cls_last_error(ctx));
    }
  }
  free(r);
  cls_task_destroy(task);
  cls_context_destroy(ctx);
  return code;
}
