/*
 * tools/cmd_sample.c — `clscale sample CHECKPOINT`: text (or tokens)
 * generated on the device by the GPT of a checkpoint, with temperature,
 * top-k and top-p, seeded. The work is src/nn/gpt_infer.h (generation with
 * a key/value cache) and src/train/gpt_checkpoint.h (the model back from
 * its checkpoint); this file reads the options and the prompt, shows the
 * progress and writes the output (atomically, when it goes to a file).
 * docs/sample.md is the manual.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clscale/device.h"
#include "command.h"
#include "commands.h"
#include "core/clock.h"
#include "core/file.h"
#include "format.h"
#include "nn/gpt_infer.h"
#include "options.h"
#include "train/gpt_checkpoint.h"

/* Everything the command line says. */
typedef struct {
  const char *checkpoint, *prompt, *prompt_file, *prompt_tokens, *out, *device, *backend;
  size_t length, batch, top_k;
  double temperature, top_p;
  uint64_t seed, first_sequence;
  int stop, greedy, tokens, no_cache, quiet;
} sample_args;

enum { SAMPLE_MAX_OPTIONS = 32, NO_STOP = -1 };

#define HEADING(text)                                                                                             \
  { .type = CLS_OPT_HEADING, .help = text }

static void sample_command(cls_opt_command *cmd, cls_option *o, sample_args *a) {
  const cls_option table[] = {
      {.type = CLS_OPT_POSITIONAL,
       .target = &a->checkpoint,
       .metavar = "CHECKPOINT",
       .field = "checkpoint",
       .wants = "one checkpoint"},
      HEADING("prompt:"),
      {CLS_OPT(CLS_OPT_STRING, "--prompt", &a->prompt, "TEXT", NULL,
               "the prompt, as bytes (a byte model: vocab 256); default a newline")},
      {CLS_OPT(CLS_OPT_STRING, "--prompt-file", &a->prompt_file, "FILE", NULL,
               "the prompt read from a file, as bytes")},
      {CLS_OPT(CLS_OPT_STRING, "--prompt-tokens", &a->prompt_tokens, "IDS", NULL,
               "the prompt as token ids, separated by commas or spaces (any vocabulary; default token 0 when the "
               "vocabulary is not bytes)")},
      HEADING("generation:"),
      {CLS_OPT(CLS_OPT_SIZE, "--length", &a->length, "N", "length gen_len",
               "tokens to generate per sequence (default: the rest of the model's context)"),
       .wants = "wants a whole number of tokens >= 1", .lo = 1, .hi = 1e18},
      {CLS_OPT(CLS_OPT_SIZE, "--batch", &a->batch, "B", "batch", "sequences generated together (default 1)"),
       .wants = "wants a whole number >= 1", .lo = 1, .hi = 1e6},
      {CLS_OPT(CLS_OPT_DOUBLE, "--temperature", &a->temperature, "T", "temperature",
               "divides the logits before the softmax (default 1; lower is more conservative)"),
       .wants = "wants a positive number (for the most likely token, use --greedy or --top-k 1)", .lo = 0,
       .hi = 1e30, .flags = CLS_OPT_LO_OPEN},
      {CLS_OPT(CLS_OPT_SIZE, "--top-k", &a->top_k, "K", "top_k",
               "draw from the K most likely tokens only (default: all)"),
       .wants = "wants a whole number >= 1 (1: the most likely token)", .lo = 1, .hi = 1e18},
      {CLS_OPT(CLS_OPT_DOUBLE, "--top-p", &a->top_p, "P", "top_p",
               "draw from the smallest set of most likely tokens whose probability is at least P (nucleus "
               "sampling; default 1: all)"),
       .wants = "wants a number in (0, 1]", .lo = 0, .hi = 1, .flags = CLS_OPT_LO_OPEN},
      {CLS_OPT(CLS_OPT_FLAG, "--greedy", &a->greedy, NULL, "greedy",
               "always the most likely token (the lowest id among ties); no randomness")},
      {CLS_OPT(CLS_OPT_U64, "--seed", &a->seed, "N", "seed",
               "seed of the draws (default 1): the same seed gives the same text on the same device")},
      {CLS_OPT(CLS_OPT_U64, "--first-sequence", &a->first_sequence, "N", "first_sequence",
               "the number of the first sequence (default 0): sequence s draws the same tokens in any batch")},
      {CLS_OPT(CLS_OPT_INT, "--stop", &a->stop, "ID", "stop_token",
               "a stop token: a sequence ends with it (a byte model: 10 is the newline)"),
       .wants = "wants a token id >= 0", .lo = 0, .hi = 2147483647},
      {CLS_OPT(CLS_OPT_FLAG, "--no-cache", &a->no_cache, NULL, "no_cache",
               "recompute the whole prefix at every token instead of using the key/value cache (quadratic in the "
               "length; for comparison)")},
      HEADING("output:"),
      {CLS_OPT(CLS_OPT_STRING, "--out", &a->out, "FILE", "out",
               "write to FILE (atomically: a temporary name, then renamed) instead of the standard output"),
       .alias = "-o"},
      {CLS_OPT(CLS_OPT_FLAG, "--tokens", &a->tokens, NULL, NULL,
               "write the generated token ids, one line per sequence, instead of text (the default for a model "
               "whose vocabulary is not bytes)")},
      {CLS_OPT(CLS_OPT_FLAG, "--quiet", &a->quiet, NULL, NULL, "no progress bar and no summary on stderr")},
      HEADING("device:"),
      {CLS_OPT(CLS_OPT_STRING, "--device", &a->device, "SEL", "device",
               "P:D, gpu, cpu or a name substring (default CLSCALE_DEVICE, else fastest GPU)")},
      {CLS_OPT(CLS_OPT_STRING, "--matmul-backend", &a->backend, "B", "matmul_backend",
               "auto, own, clblast or host (default CLSCALE_MATMUL_BACKEND, else auto)")},
  };
  cls_cmd_set_options(cmd, o, SAMPLE_MAX_OPTIONS, table, sizeof table / sizeof table[0]);
  cmd->name = "sample";
  cmd->usage = "usage: clscale sample CHECKPOINT [--prompt TEXT] [--length N] [--batch B] [--temperature T] "
               "[--top-k K] [--top-p P] [--seed S] [--out FILE] [options]";
  cmd->about = "Generates text from the GPT of a checkpoint (clscale train's DIR/checkpoints/ID.ckpt) on the "
               "device,\nwith a key/value cache; a byte model writes text, other vocabularies token ids.";
  cmd->epilogue = "exit codes: 0 ok; 1 failed (the device, a diverged model); 2 bad usage (options, prompt, or a "
                  "checkpoint\nthat is missing, corrupt or not a GPT)";
  cmd->words = CLS_OPT_WORDS_NAMED;
}

/* ------------------------------------------------------------ prompt */

/* Token ids separated by commas or spaces into a malloc'd array. */
static int parse_ids(const char *s, size_t vocab, int32_t **out, size_t *n, char *err, size_t len) {
  size_t cap = strlen(s) / 2 + 1, k = 0;
  int32_t *ids = malloc(cap * sizeof *ids);
  if (!ids) return snprintf(err, len, "out of host memory"), 0;
  for (const char *p = s; *p;) {
    if (*p == ',' || *p == ' ' || *p == '\t' || *p == '\n') {
      p++;
      continue;
    }
    char *end;
    long v = strtol(p, &end, 10);
    if (end == p || v < 0 || (size_t)v >= vocab) {
      snprintf(err, len, "--prompt-tokens: '%.*s' is not a token id in [0, %zu)", (int)strcspn(p, ", \t\n"), p,
               vocab);
      free(ids);
      return 0;
    }
    ids[k++] = (int32_t)v;
    p = end;
  }
  *out = ids;
  *n = k;
  return 1;
}

/* The prompt as token ids (exit code CLS_EXIT_GO_ON, or the error said). */
static int read_prompt(const cls_opt_command *cmd, const sample_args *a, size_t vocab, int32_t **ids, size_t *n) {
  const int given = !!a->prompt + !!a->prompt_file + !!a->prompt_tokens;
  if (given > 1)
    return cls_opt_fail(cmd, CLS_EXIT_USAGE, "give one of --prompt, --prompt-file and --prompt-tokens");
  char err[1024];
  if (a->prompt_tokens) {
    if (!parse_ids(a->prompt_tokens, vocab, ids, n, err, sizeof err))
      return cls_opt_fail(cmd, CLS_EXIT_USAGE, "%s", err);
    return CLS_EXIT_GO_ON;
  }
  if ((a->prompt || a->prompt_file) && vocab < 256)
    return cls_opt_fail(cmd, CLS_EXIT_USAGE,
                        "the model's vocabulary has %zu tokens, not the 256 bytes: give the prompt as token ids "
                        "with --prompt-tokens",
                        vocab);
  char *text = NULL;
  size_t len;
  if (a->prompt_file) {
    if (cls_read_file(a->prompt_file, (size_t)1 << 30, &text, &len, err, sizeof err) != CLS_OK)
      return cls_opt_fail(cmd, CLS_EXIT_USAGE, "--prompt-file: %s", err);
  } else if (a->prompt) {
    len = strlen(a->prompt);
  } else {
    len = 1; /* a newline for a byte model, token 0 otherwise */
  }
  const char *src = text ? text : a->prompt ? a->prompt : vocab >= 256 ? "\n" : "";
  *ids = malloc((len ? len : 1) * sizeof **ids);
  if (!*ids) {
    free(text);
    return cls_opt_fail(cmd, CLS_EXIT_FAIL, "out of host memory");
  }
  for (size_t i = 0; i < len; i++) (*ids)[i] = (int32_t)(unsigned char)src[i];
  *n = len;
  free(text);
  return CLS_EXIT_GO_ON;
}

/* ---------------------------------------------------------- progress */

typedef struct {
  int tty;
  double start, last;
  size_t batch;
  int printed;
} progress_state;

static void on_progress(void *user, size_t done, size_t total) {
  progress_state *ps = user;
  if (!ps->tty) return;
  const double now = cls_now();
  if (now - ps->last < 0.1 && done != total) return; /* at most 10 lines a second, and the last */
  ps->last = now;
  char bar[31];
  const size_t fill = total ? done * 30 / total : 30;
  for (size_t i = 0; i < 30; i++) bar[i] = i < fill ? '#' : '.';
  bar[30] = 0;
  const double rate = now > ps->start ? (double)(done * ps->batch) / (now - ps->start) : 0;
  fprintf(stderr, "\r[%s] %zu/%zu tokens  %.0f tokens/s   ", bar, done, total, rate);
  fflush(stderr);
  ps->printed = 1;
}

/* ------------------------------------------------------------ output */

/* A growing byte buffer. */
typedef struct {
  char *p;
  size_t len, cap;
  int oom;
} text_buf;

static void put(text_buf *t, const void *src, size_t n) {
  if (t->oom) return;
  if (t->len + n + 1 > t->cap) {
    size_t cap = (t->len + n + 1) * 2;
    char *p = realloc(t->p, cap);
    if (!p) {
      t->oom = 1;
      return;
    }
    t->p = p;
    t->cap = cap;
  }
  memcpy(t->p + t->len, src, n);
  t->len += n;
}

static void putf(text_buf *t, const char *fmt, size_t a, unsigned long long b) {
  char line[128];
  int n = snprintf(line, sizeof line, fmt, a, b);
  if (n > 0) put(t, line, (size_t)n);
}

/* Text: the prompt and its continuation per sequence (a header line each
 * when there are several); tokens: the generated ids, a line each. */
static void render(text_buf *t, const sample_args *a, int as_tokens, const int32_t *prompt, size_t P,
                   const int32_t *out, const size_t *lengths, size_t B, size_t gen) {
  for (size_t b = 0; b < B; b++) {
    const int32_t *row = out + b * gen;
    if (as_tokens) {
      for (size_t i = 0; i < lengths[b]; i++) putf(t, i ? " %zu" : "%zu", (size_t)row[i], 0);
      put(t, "\n", 1);
      continue;
    }
    if (B > 1) putf(t, "=== sample %zu (seed %llu) ===\n", a->first_sequence + b, (unsigned long long)a->seed);
    for (size_t i = 0; i < P; i++) put(t, &(char){(char)prompt[i]}, 1);
    for (size_t i = 0; i < lengths[b]; i++) put(t, &(char){(char)row[i]}, 1);
    if (B > 1) put(t, "\n", 1);
  }
}

static int write_output(const cls_opt_command *cmd, const sample_args *a, const text_buf *t) {
  if (t->oom) return cls_opt_fail(cmd, CLS_EXIT_FAIL, "out of host memory for the output");
  if (!a->out) {
    /* On a terminal, the summary starts on a line of its own. */
    const int newline = t->len && t->p[t->len - 1] != '\n' && isatty(STDOUT_FILENO);
    if (fwrite(t->p, 1, t->len, stdout) != t->len || (newline && fputc('\n', stdout) == EOF) || fflush(stdout))
      return cls_opt_fail(cmd, CLS_EXIT_FAIL, "writing the standard output failed");
    return CLS_EXIT_OK;
  }
  char err[1024];
  if (cls_write_atomic(a->out, t->p ? t->p : "", t->len, err, sizeof err) != CLS_OK)
    return cls_opt_fail(cmd, CLS_EXIT_FAIL, "%s", err);
  return CLS_EXIT_OK;
}

/* ------------------------------------------------------------- steps */

/* Generation on the loaded model and the output; the exit code. */
static int generate(const cls_opt_command *cmd, const sample_args *a, cls_context *ctx, cls_gpt *g,
                    const cls_gpt_checkpoint_info *info, const int32_t *prompt, size_t P) {
  const size_t B = a->batch, vocab = info->config.vocab;
  cls_gpt_sample_config sc;
  cls_gpt_sample_config_default(&sc);
  sc.sampling.temperature = (float)a->temperature;
  sc.sampling.top_k = a->top_k;
  sc.sampling.top_p = (float)a->top_p;
  sc.sampling.greedy = a->greedy;
  sc.sampling.seed = a->seed;
  sc.first_sequence = a->first_sequence;
  sc.stop_token = a->stop;
  sc.no_cache = a->no_cache;
  const size_t gen = a->length ? a->length : (P < info->config.context ? info->config.context - P : 1);
  char err[1024];
  cls_status st = cls_gpt_sample_check(g, &sc, B, P, gen, err, sizeof err);
  if (st != CLS_OK) return cls_opt_fail(cmd, cls_cmd_exit_of(st), "%s", err);

  int32_t *prompts = malloc(B * P * sizeof *prompts), *out = malloc(B * gen * sizeof *out);
  size_t *lengths = malloc(B * sizeof *lengths);
  if (!prompts || !out || !lengths) {
    free(prompts), free(out), free(lengths);
    return cls_opt_fail(cmd, CLS_EXIT_FAIL, "out of host memory");
  }
  for (size_t b = 0; b < B; b++) memcpy(prompts + b * P, prompt, P * sizeof *prompt);
  progress_state ps = {!a->quiet && isatty(STDERR_FILENO), cls_now(), -1, B, 0};
  sc.progress = on_progress;
  sc.progress_user = &ps;
  const double t0 = cls_now();
  st = cls_gpt_sample(g, &sc, prompts, B, P, gen, out, lengths);
  const double seconds = cls_now() - t0;
  if (ps.printed) fprintf(stderr, "\n");
  int code;
  if (st != CLS_OK) {
    code =
        cls_opt_fail(cmd, st == CLS_ERR_NUMERIC ? CLS_EXIT_FAIL : cls_cmd_exit_of(st), "%s", cls_last_error(ctx));
  } else {
    text_buf t = {0};
    render(&t, a, a->tokens || vocab != 256, prompt, P, out, lengths, B, gen);
    code = write_output(cmd, a, &t);
    free(t.p);
    size_t total = 0;
    for (size_t b = 0; b < B; b++) total += lengths[b];
    if (code == CLS_EXIT_OK && !a->quiet)
      fprintf(stderr, "clscale sample: %zu x %zu tokens (%zu generated) in %.3f s, %.0f tokens/s%s%s%s\n", B, gen,
              total, seconds, seconds > 0 ? (double)total / seconds : 0.0, a->no_cache ? " without the cache" : "",
              a->out ? "; wrote " : "", a->out ? a->out : "");
  }
  free(prompts), free(out), free(lengths);
  return code;
}

int cls_cmd_sample(int argc, char **argv) {
  sample_args a;
  memset(&a, 0, sizeof a);
  a.batch = 1;
  a.temperature = 1;
  a.top_p = 1;
  a.seed = 1;
  a.stop = NO_STOP;
  cls_option opts[SAMPLE_MAX_OPTIONS];
  cls_opt_command cmd;
  sample_command(&cmd, opts, &a);
  int code = cls_cmd_parse(&cmd, argc, argv);
  if (code != CLS_EXIT_GO_ON) return code;
  if (!a.checkpoint) return cls_cmd_refuse(&cmd, "give the CHECKPOINT to sample from");
  if (a.greedy && (a.top_k || a.top_p != 1 || a.temperature != 1))
    return cls_opt_fail(&cmd, CLS_EXIT_USAGE, "--greedy takes no --temperature, --top-k or --top-p");

  cls_context *ctx;
  code = cls_cmd_open_context(&cmd, a.device, a.backend, &ctx);
  if (code != CLS_EXIT_GO_ON) return code;
  char err[2048];
  cls_gpt *g;
  cls_gpt_checkpoint_info info;
  cls_status st = cls_gpt_load(ctx, a.checkpoint, &g, &info, err, sizeof err);
  if (st != CLS_OK) {
    cls_context_destroy(ctx);
    /* A checkpoint that is missing, corrupt or of another model is a bad
     * argument; a device that fails is a failure. */
    const int usage = st == CLS_ERR_IO || st == CLS_ERR_FORMAT || st == CLS_ERR_INVALID_VALUE;
    return cls_opt_fail(&cmd, usage ? CLS_EXIT_USAGE : CLS_EXIT_FAIL, "%s", err);
  }
  int32_t *prompt = NULL;
  size_t P = 0;
  code = read_prompt(&cmd, &a, info.config.vocab, &prompt, &P);
  if (code == CLS_EXIT_GO_ON) {
    if (!a.quiet)
      fprintf(stderr, "clscale sample: gpt w%zu d%zu h%zu ctx%zu (task %s, step %llu of %llu) on %s\n",
              info.config.width, info.config.depth, info.config.heads, info.config.context, info.task,
              (unsigned long long)info.step, (unsigned long long)info.total_steps, cls_context_device(ctx)->name);
    code = generate(&cmd, &a, ctx, g, &info, prompt, P);
  }
  free(prompt);
  cls_gpt_destroy(g);
  cls_context_destroy(ctx);
  return code;
}
