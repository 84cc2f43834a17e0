/*
 * tools/cmd_bench.c — `clscale bench`: how fast each op and backend runs on
 * one device, as ratios taken in one run: to CLBlast, and to the device's
 * own measured peaks (FMA for matmul, copy bandwidth for the row ops).
 *
 * Ratios, not absolute numbers, are what carry between machines and stay
 * meaningful on a shared, noisy one: everything here is measured in the same
 * process minutes apart. Warm-up runs are excluded; figures are medians.
 */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clscale/device.h"
#include "clscale/ops.h"
#include "command.h"
#include "commands.h"
#include "core/file.h"
#include "ops/bench.h"
#include "ops/linalg_bench.h"
#include "options.h"
#include "train/models.h"

typedef struct {
  size_t m, n, k;
  cls_trans ta, tb;
  const char *label;
} mm_shape;

/* Square sizes, then the shapes one training step of a small transformer
 * spends its time in (activations x weights, and the weight gradients),
 * then the emulator's at width 16 (32 spectra x 256 pixels; 4d = 64):
 * products of 16 or 64 columns, which move more bytes than they multiply. */
static const mm_shape full_shapes[] = {
    {256, 256, 256, CLS_NO_TRANS, CLS_NO_TRANS, "square"},
    {512, 512, 512, CLS_NO_TRANS, CLS_NO_TRANS, "square"},
    {1024, 1024, 1024, CLS_NO_TRANS, CLS_NO_TRANS, "square"},
    {2048, 2048, 2048, CLS_NO_TRANS, CLS_NO_TRANS, "square"},
    {4096, 384, 128, CLS_NO_TRANS, CLS_NO_TRANS, "training"},
    {4096, 128, 384, CLS_NO_TRANS, CLS_TRANS, "training"},
    {4096, 512, 128, CLS_NO_TRANS, CLS_NO_TRANS, "training"},
    {4096, 128, 512, CLS_NO_TRANS, CLS_TRANS, "training"},
    {128, 384, 4096, CLS_TRANS, CLS_NO_TRANS, "training"},
    {8192, 64, 16, CLS_NO_TRANS, CLS_NO_TRANS, "emulator-w16"},
    {8192, 16, 64, CLS_NO_TRANS, CLS_NO_TRANS, "emulator-w16"},
    {8192, 16, 16, CLS_NO_TRANS, CLS_NO_TRANS, "emulator-w16"},
    {8192, 16, 64, CLS_NO_TRANS, CLS_TRANS, "emulator-w16"},
    {16, 64, 8192, CLS_TRANS, CLS_NO_TRANS, "emulator-w16"},
};
static const mm_shape quick_shapes[] = {
    {64, 64, 64, CLS_NO_TRANS, CLS_NO_TRANS, "square"},
    {512, 48, 16, CLS_NO_TRANS, CLS_NO_TRANS, "training"},
    {512, 16, 48, CLS_NO_TRANS, CLS_TRANS, "training"},
    {16, 48, 512, CLS_TRANS, CLS_NO_TRANS, "training"},
};

typedef struct {
  size_t rows, cols;
} row_shape;
static const row_shape full_rows[] = {{8192, 256}, {4096, 1024}, {65536, 64}};
static const row_shape quick_rows[] = {{256, 64}, {64, 257}};
static const char *const row_ops[] = {"softmax_fwd",   "softmax_bwd", "layernorm_fwd",
                                      "layernorm_bwd", "rmsnorm_fwd", "rmsnorm_bwd"};

static const char *trans_name(cls_trans a, cls_trans b) {
  static const char *names[] = {"NN", "NT", "TN", "TT"};
  return names[(a == CLS_TRANS) * 2 + (b == CLS_TRANS)];
}

/* Repetitions for a figure that took `once` seconds: enough for a stable
 * median, without letting a 2048^3 CLBlast run on a CPU take minutes. */
static int reps_for(double once, int max_reps) {
  int r = (int)(1.5 / (once > 1e-6 ? once : 1e-6));
  if (r > max_reps) r = max_reps;
  if (r < 3) r = 3;
  return r;
}

typedef struct {
  cls_context *ctx;
  int max_reps;
  int failures;
} bench;

/* The 1-minute load average, read as a row starts (NaN where the system
 * has no /proc/loadavg): on a shared machine it tells which rows were
 * measured while something else ran, so that they can be discarded. */
static double load_now(void) {
  double l = NAN;
  FILE *f = fopen("/proc/loadavg", "r");
  if (f) {
    if (fscanf(f, "%lf", &l) != 1) l = NAN;
    fclose(f);
  }
  return l;
}

/* Adds "load" to a JSON row when it is known. */
static void add_load(cJSON *e, double load) {
  if (!isnan(load)) cJSON_AddNumberToObject(e, "load", load);
}

static double time_matmul(bench *b, cls_backend be, const mm_shape *s, char *why, size_t why_len) {
  double once, med;
  cls_status st = cls_matmul_time(b->ctx, be, s->ta, s->tb, s->m, s->n, s->k, 1, &once);
  if (st == CLS_OK)
    st = cls_matmul_time(b->ctx, be, s->ta, s->tb, s->m, s->n, s->k, reps_for(once, b->max_reps), &med);
  if (st != CLS_OK) {
    snprintf(why, why_len, "%s", cls_last_error(b->ctx));
    return NAN;
  }
  return 2.0 * (double)s->m * (double)s->n * (double)s->k / med * 1e-9;
}

/* Each shape's row is compared with the FMA peak measured right before it
 * (or at the start, whichever is higher): on a shared machine a peak taken
 * minutes earlier is no yardstick. */
static void bench_matmul(bench *b, const mm_shape *shapes, size_t count, cls_peak *peak, cJSON *out) {
  int is_cpu = cls_context_device(b->ctx)->type == CLS_DEVICE_CPU;
  const cls_backend backends[] = {CLS_BACKEND_OWN, CLS_BACKEND_CLBLAST, CLS_BACKEND_HOST, CLS_BACKEND_AUTO};
  printf("\nmatmul GFLOP/s (C = A*B, row-major; ratios: x CLBlast, %% of the FMA peak, re-measured per row)\n");
  printf("  %-22s %9s %9s %9s %9s   %8s %8s %8s\n", "m x n x k  op", "own", "clblast", "host", "auto", "own/clb",
         "own/pk", "auto/pk");
  for (size_t i = 0; i < count; i++) {
    const mm_shape *s = &shapes[i];
    double g[4], pk = NAN, load = load_now();
    if (cls_peak_fma(b->ctx, 3, &pk) == CLS_OK && pk > peak->fma_gflops) peak->fma_gflops = pk;
    for (int j = 0; j < 4; j++) {
      char why[1024] = "";
      if (backends[j] == CLS_BACKEND_HOST && !is_cpu) {
        g[j] = NAN;
        continue;
      }
      g[j] = time_matmul(b, backends[j], s, why, sizeof why);
      if (isnan(g[j])) {
        fprintf(stderr, "clscale bench: matmul %zux%zux%zu on %s failed: %s\n", s->m, s->n, s->k,
                cls_backend_name(backends[j]), why);
        b->failures++;
      }
    }
    char label[64];
    snprintf(label, sizeof label, "%zux%zux%zu %s", s->m, s->n, s->k, trans_name(s->ta, s->tb));
    printf("  %-22s", label);
    for (int j = 0; j < 4; j++) isnan(g[j]) ? printf(" %9s", "-") : printf(" %9.1f", g[j]);
    pk = peak->fma_gflops;
    printf("   %7.2fx %7.0f%% %7.0f%%   (peak %.0f, load %.1f)\n", g[0] / g[1], 100 * g[0] / pk, 100 * g[3] / pk,
           pk, load);
    fflush(stdout);
    for (int j = 0; j < 4; j++) {
      if (isnan(g[j])) continue;
      cJSON *e = cJSON_CreateObject();
      cJSON_AddStringToObject(e, "kind", s->label);
      cJSON_AddNumberToObject(e, "m", (double)s->m);
      cJSON_AddNumberToObject(e, "n", (double)s->n);
      cJSON_AddNumberToObject(e, "k", (double)s->k);
      cJSON_AddStringToObject(e, "op", trans_name(s->ta, s->tb));
      cJSON_AddStringToObject(e, "backend", cls_backend_name(backends[j]));
      cJSON_AddNumberToObject(e, "gflops", g[j]);
      if (!isnan(g[1])) cJSON_AddNumberToObject(e, "ratio_to_clblast", g[j] / g[1]);
      cJSON_AddNumberToObject(e, "ratio_to_peak", g[j] / pk);
      cJSON_AddNumberToObject(e, "peak_gflops", pk);
      add_load(e, load);
      cJSON_AddItemToArray(out, e);
    }
  }
}

/* The SPD solve (cls_spd_solve) at one size: its GFLOP/s counted as the
 * useful n^3/3 + 2 n^2 nrhs, beside the own matmul's on an n x n x n
 * product measured right after it and a host LAPACK solve (spotrf +
 * spotrs) of the same float system. The target: at least half the
 * own matmul's GFLOP/s. */
static void bench_solve(bench *b, int quick, cJSON *out) {
  const size_t n = quick ? 256 : 2048, nrhs = 1;
  printf("\nSPD solve GFLOP/s (n^3/3 + 2 n^2 nrhs; device: blocked Cholesky + refinement; ratios to the own\n"
         "matmul on n x n x n and to host LAPACK spotrf+spotrs)\n");
  printf("  %-12s %9s %9s %9s   %8s %8s  %s\n", "n x nrhs", "device", "own mm", "lapack", "dev/mm", "dev/lapack",
         "refinements");
  cls_spd_timing t;
  double once, load = load_now();
  cls_status st = cls_spd_time(b->ctx, n, nrhs, 1, &t);
  once = t.device_seconds;
  if (st == CLS_OK) st = cls_spd_time(b->ctx, n, nrhs, reps_for(once, b->max_reps), &t);
  if (st != CLS_OK) {
    fprintf(stderr, "clscale bench: SPD solve %zu failed: %s\n", n, cls_last_error(b->ctx));
    b->failures++;
    return;
  }
  char why[1024] = "";
  mm_shape sq = {n, n, n, CLS_NO_TRANS, CLS_NO_TRANS, "square"};
  double mm = time_matmul(b, CLS_BACKEND_OWN, &sq, why, sizeof why);
  if (isnan(mm)) {
    fprintf(stderr, "clscale bench: matmul %zu^3 on own failed: %s\n", n, why);
    b->failures++;
  }
  double fl = (double)n * n * n / 3.0 + 2.0 * (double)n * n * nrhs;
  double dev = fl / t.device_seconds * 1e-9, host = fl / t.host_seconds * 1e-9;
  char label[32];
  snprintf(label, sizeof label, "%zux%zu", n, nrhs);
  printf("  %-12s %9.1f %9.1f %9.1f   %7.2fx %9.2fx  %d (error %.1e)  load %.1f\n", label, dev, mm, host, dev / mm,
         dev / host, t.refinements, t.error, load);
  fflush(stdout);
  cJSON *e = cJSON_CreateObject();
  cJSON_AddNumberToObject(e, "n", (double)n);
  cJSON_AddNumberToObject(e, "nrhs", (double)nrhs);
  cJSON_AddNumberToObject(e, "gflops", dev);
  cJSON_AddNumberToObject(e, "seconds", t.device_seconds);
  cJSON_AddNumberToObject(e, "host_lapack_gflops", host);
  cJSON_AddNumberToObject(e, "host_lapack_seconds", t.host_seconds);
  if (!isnan(mm)) {
    cJSON_AddNumberToObject(e, "own_matmul_gflops", mm);
    cJSON_AddNumberToObject(e, "ratio_to_own_matmul", dev / mm);
  }
  cJSON_AddNumberToObject(e, "ratio_to_host_lapack", dev / host);
  cJSON_AddNumberToObject(e, "refinements", t.refinements);
  cJSON_AddNumberToObject(e, "estimated_error", t.error);
  add_load(e, load);
  cJSON_AddItemToArray(out, e);
}

/* Row ops are compared with a copy of the same working set, measured in
 * the same run: on a CPU device a 8 MiB matrix lives in the last-level
 * cache, and measuring it against a DRAM-sized copy would flatter it. */
static void bench_rows(bench *b, const row_shape *shapes, size_t count, const cls_peak *peak, cJSON *out) {
  double copy[8];
  printf("\nrow ops GB/s (bytes an ideal kernel moves) and %% of a copy of the same size\n");
  printf("  %-14s", "op");
  for (size_t i = 0; i < count; i++) {
    char label[32];
    snprintf(label, sizeof label, "%zux%zu", shapes[i].rows, shapes[i].cols);
    printf(" %16s", label);
  }
  printf("\n  %-14s", "copy");
  for (size_t i = 0; i < count; i++) {
    copy[i] = NAN;
    if (cls_peak_copy(b->ctx, shapes[i].rows * shapes[i].cols, b->max_reps, &copy[i]) != CLS_OK) {
      fprintf(stderr, "\nclscale bench: copy %zux%zu failed: %s\n", shapes[i].rows, shapes[i].cols,
              cls_last_error(b->ctx));
      b->failures++;
    }
    printf("  %6.1f (%4.0f%%)", copy[i], 100 * copy[i] / peak->copy_gbps);
  }
  printf("   <- %% of the DRAM-sized copy %.1f GB/s\n", peak->copy_gbps);
  for (size_t o = 0; o < sizeof row_ops / sizeof row_ops[0]; o++) {
    printf("  %-14s", row_ops[o]);
    double load = load_now();
    for (size_t i = 0; i < count; i++) {
      double once, med, bytes;
      cls_status st = cls_rows_time(b->ctx, row_ops[o], shapes[i].rows, shapes[i].cols, 1, &once, &bytes);
      if (st == CLS_OK)
        st = cls_rows_time(b->ctx, row_ops[o], shapes[i].rows, shapes[i].cols, reps_for(once, b->max_reps), &med,
                           &bytes);
      if (st != CLS_OK) {
        printf(" %16s", "failed");
        fprintf(stderr, "\nclscale bench: %s %zux%zu failed: %s\n", row_ops[o], shapes[i].rows, shapes[i].cols,
                cls_last_error(b->ctx));
        b->failures++;
        continue;
      }
      double gbps = bytes / med * 1e-9;
      printf("  %6.1f (%4.0f%%)", gbps, 100 * gbps / copy[i]);
      cJSON *e = cJSON_CreateObject();
      cJSON_AddStringToObject(e, "op", row_ops[o]);
      cJSON_AddNumberToObject(e, "rows", (double)shapes[i].rows);
      cJSON_AddNumberToObject(e, "cols", (double)shapes[i].cols);
      cJSON_AddNumberToObject(e, "gbps", gbps);
      cJSON_AddNumberToObject(e, "copy_gbps_same_size", copy[i]);
      cJSON_AddNumberToObject(e, "ratio_to_copy", gbps / copy[i]);
      cJSON_AddNumberToObject(e, "ratio_to_peak_copy", gbps / peak->copy_gbps);
      cJSON_AddNumberToObject(e, "seconds", med);
      add_load(e, load);
      cJSON_AddItemToArray(out, e);
    }
    printf("   load %.1f\n", load);
    fflush(stdout);
  }
}

/* Models side by side (train/models.h): the emulator of the default sweep
 * (depth 2, 4 heads, batch 16 x 128 pixels, muP) and the GPT of the
 * width-transfer sweep (gcd in base 10 up to 100, depth 2, head size 8,
 * batch 64, muP) at two widths each, trained for a fixed number of steps
 * as 1, 4 and 8 models at once; samples (spectra x pixels, or tokens, all
 * models) per second and the ratio to one model. Rounds interleave the
 * counts, so that a change of the machine's load falls on all of them;
 * the best round of each is reported. */
typedef struct {
  const char *name; /* "emulator", "gpt (gcd)" */
  const char *tag;  /* at the start of its rows: "emulator", "gpt" */
  size_t widths[2];
  void (*spec)(cls_task_spec *spec, size_t width, int quick);
} models_kind;

static void emulator_spec(cls_task_spec *spec, size_t width, int quick) {
  cls_task_spec_default(spec);
  spec->task = "spectra";
  spec->model = "emulator";
  spec->width = width;
  spec->depth = 2;
  spec->heads = 4;
  spec->batch = 16;
  spec->pixels = 128;
  spec->n_train = quick ? 64 : 512;
  spec->n_test = 16;
  spec->param = CLS_PARAM_MUP;
  spec->base_width = 32;
}

static void gcd_spec(cls_task_spec *spec, size_t width, int quick) {
  cls_task_spec_default(spec);
  spec->task = "gcd";
  spec->model = "gpt";
  spec->width = width;
  spec->depth = 2;
  spec->heads = width / 8;
  spec->batch = 64;
  spec->base = 10;
  spec->bound = 100;
  spec->context = 16;
  spec->eval_pairs = quick ? 64 : 256;
  spec->param = CLS_PARAM_MUP;
  spec->base_width = 16;
}

static void bench_models_of(bench *b, int quick, const models_kind *kind, cJSON *out) {
  const size_t counts[] = {1, 4, 8};
  const uint64_t steps = quick ? 4 : 30;
  const int rounds = quick ? 1 : 3;
  printf("\n%s models side by side: samples/s of all models (width, models; %llu steps, best of %d "
         "interleaved rounds) and x one model\n",
         kind->name, (unsigned long long)steps, rounds);
  for (size_t wi = 0; wi < 2; wi++) {
    cls_task_spec spec;
    kind->spec(&spec, kind->widths[wi], quick);
    cls_train_config cfg;
    cls_train_config_default(&cfg);
    cfg.evals = 1;
    cfg.eval_batches = 1;
    double best[3] = {0, 0, 0}, load[3] = {0, 0, 0}, launches[3] = {0, 0, 0}, cpu[3] = {0, 0, 0};
    for (int round = -1; round < rounds; round++) /* round -1: warm-up (builds, auto's timings) */
      for (size_t ci = 0; ci < 3; ci++) {
        cls_model_member m[8];
        for (size_t k = 0; k < counts[ci]; k++) m[k] = (cls_model_member){1 + k, 1e-2, round < 0 ? 2 : steps};
        double l = load_now();
        cls_models_result r;
        memset(&r, 0, sizeof r);
        cls_counters c0, c1;
        cls_status st = cls_counters_get(b->ctx, &c0);
        if (st == CLS_OK) st = cls_models_train(b->ctx, &spec, &cfg, counts[ci], m, &r);
        if (st == CLS_OK) st = cls_counters_get(b->ctx, &c1);
        /* Device commands per step of all models (the one evaluation
         * included: a few percent). */
        if (st == CLS_OK && round >= 0) launches[ci] = (double)(c1.launches - c0.launches) / (double)steps;
        if (st != CLS_OK) {
          fprintf(stderr, "clscale bench: %zu %s models of width %zu side by side failed: %s\n", counts[ci],
                  kind->name, kind->widths[wi], r.error[0] ? r.error : cls_last_error(b->ctx));
          b->failures++;
          cls_models_free(&r);
          return;
        }
        double sps = r.seconds > 0 ? r.samples / r.seconds : 0;
        /* CPU time per sample (this process's threads, PoCL's included):
         * on a CPU device shared with other work, the part of the cost
         * that the load does not hide. */
        const double cps = r.samples > 0 ? r.cpu_seconds / r.samples : 0;
        if (round >= 0 && (cpu[ci] == 0 || cps < cpu[ci])) cpu[ci] = cps;
        if (round >= 0 && sps > best[ci]) best[ci] = sps, load[ci] = l;
        cls_models_free(&r);
      }
    for (size_t ci = 0; ci < 3; ci++) {
      printf("  %-8s width %3zu  %zu model%s %10.0f samples/s  %5.2fx  %6.0f launches a step  %7.2f CPU us a "
             "sample  load %.1f\n",
             kind->tag, kind->widths[wi], counts[ci], counts[ci] > 1 ? "s" : " ", best[ci],
             best[0] > 0 ? best[ci] / best[0] : 0, launches[ci], cpu[ci] * 1e6, load[ci]);
      cJSON *e = cJSON_CreateObject();
      cJSON_AddStringToObject(e, "model", kind->name);
      cJSON_AddNumberToObject(e, "width", (double)kind->widths[wi]);
      cJSON_AddNumberToObject(e, "models", (double)counts[ci]);
      cJSON_AddNumberToObject(e, "steps", (double)steps);
      cJSON_AddNumberToObject(e, "samples_per_second", best[ci]);
      cJSON_AddNumberToObject(e, "launches_per_step", launches[ci]);
      cJSON_AddNumberToObject(e, "cpu_us_per_sample", cpu[ci] * 1e6);
      if (best[0] > 0) cJSON_AddNumberToObject(e, "ratio_to_one_model", best[ci] / best[0]);
      add_load(e, load[ci]);
      cJSON_AddItemToArray(out, e);
    }
    fflush(stdout);
  }
}

static void bench_models(bench *b, int quick, cJSON *out) {
  static const models_kind kinds[] = {{"emulator", "emulator", {16, 32}, emulator_spec},
                                      {"gpt (gcd)", "gpt", {16, 32}, gcd_spec}};
  for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) bench_models_of(b, quick, &kinds[i], out);
}

/* Cold compile (cache off) and cached load of every program, each in a
 * fresh context so that nothing is shared. */
static int bench_compile(const char *device, cJSON *out) {
  printf("\nkernel programs: build with clscale's cache off / load from it (seconds; a driver's own cache,\n"
         "such as PoCL's, may still serve the first: POCL_KERNEL_CACHE=0 makes it truly cold)\n ");
  for (size_t i = 0; i < cls_program_count(); i++) {
    const char *name = cls_program_name(i);
    double t[2] = {NAN, NAN};
    for (int cached = 0; cached < 2; cached++) {
      cls_context_options o;
      cls_context_options_init(&o);
      o.device = device;
      o.disable_cache = !cached;
      o.binary_cache = CLS_BINARY_CACHE_ON; /* measured where the driver has a cache of its own too */
      cls_context *ctx;
      char err[4096];
      if (cls_context_create(&o, &ctx, err, sizeof err) != CLS_OK) {
        fprintf(stderr, "clscale bench: %s\n", err);
        return -1;
      }
      int from_cache = 0;
      if (cls_program_prepare(ctx, name, &t[cached], &from_cache) != CLS_OK) {
        fprintf(stderr, "clscale bench: %s\n", cls_last_error(ctx));
        cls_context_destroy(ctx);
        return -1;
      }
      if (cached && !from_cache) { /* first use of the cache: load again */
        cls_context_destroy(ctx);
        cls_context_create(&o, &ctx, err, sizeof err);
        if (!ctx || cls_program_prepare(ctx, name, &t[1], &from_cache) != CLS_OK) t[1] = NAN;
      }
      cls_context_destroy(ctx);
    }
    printf(" %s %.2f/%.3f", name, t[0], t[1]);
    cJSON *e = cJSON_CreateObject();
    cJSON_AddStringToObject(e, "program", name);
    cJSON_AddNumberToObject(e, "cold_seconds", t[0]);
    if (!isnan(t[1])) cJSON_AddNumberToObject(e, "cached_seconds", t[1]);
    cJSON_AddItemToArray(out, e);
  }
  printf("\n");
  return 0;
}

/* ------------------------------------------------------------- options */

enum { ONLY_ALL = 0, ONLY_MATMUL = 1, ONLY_ROWS = 2, ONLY_SOLVE = 3, ONLY_MODELS = 4 };

typedef struct {
  const char *device, *json, *trace;
  int quick, max_reps, only;
} bench_args;

static const cls_opt_choice parts[] = {
    {"matmul", ONLY_MATMUL}, {"rows", ONLY_ROWS}, {"solve", ONLY_SOLVE}, {"models", ONLY_MODELS}, {NULL, 0}};

static void bench_command(cls_opt_command *cmd, cls_option *opts, size_t cap, bench_args *a) {
  const cls_option table[] = {
      {CLS_OPT(CLS_OPT_STRING, "--device", &a->device, "SEL", "device",
               "P:D, gpu, cpu, or a name substring (default: CLSCALE_DEVICE, else fastest GPU)")},
      {CLS_OPT(CLS_OPT_STRING, "--json", &a->json, "FILE", "json",
               "also write every figure as JSON (atomically)")},
      {CLS_OPT(CLS_OPT_STRING, "--trace", &a->trace, "FILE", "trace",
               "write every kernel's device time as a Chrome trace (JSON)")},
      {CLS_OPT(CLS_OPT_INT, "--reps", &a->max_reps, "N", "reps max_reps",
               "repetitions per figure, at most (default 7; big shapes use fewer, at least 3)"),
       .lo = 1, .hi = 1000},
      {CLS_OPT(CLS_OPT_FLAG, "--quick", &a->quick, NULL, "quick",
               "small shapes only (a smoke test of the whole benchmark)")},
      {CLS_OPT(CLS_OPT_CHOICE, "--only", &a->only, "WHAT", "only",
               "only the matmul part (with the solve), the row ops, the SPD solve, or emulators trained side "
               "by side (peaks are always measured)"),
       .choices = parts},
  };
  cls_cmd_set_options(cmd, opts, cap, table, sizeof table / sizeof table[0]);
  cmd->name = "bench";
  cmd->usage = "usage: clscale bench [--device SEL] [--json FILE] [--trace FILE] [--reps N] [--quick] [--only "
               "matmul|rows|solve|models]";
  cmd->about = "Measures on one device, in one run: the copy bandwidth and FMA peak from the\n"
               "device's own small kernels; the cold compile time of each kernel program;\n"
               "matmul GFLOP/s of every backend (own, clblast, host on CPU devices, auto) on\n"
               "square sizes 256..2048, on transformer-training shapes and on the emulator's\n"
               "width-16 shapes (8192 rows; bandwidth-bound); softmax, layernorm\n"
               "and rmsnorm GB/s; with the matmul part, the SPD solve (blocked Cholesky) at\n"
               "n = 2048 against the own matmul and host LAPACK; the emulator and the GPT (on\n"
               "gcd) at widths 16 and 32 trained as 1, 4 and 8 models side by side (samples/s).\n"
               "Each figure is also given as a ratio to CLBlast and to the measured peak.\n"
               "Medians of repetitions; warm-up excluded.";
  cmd->epilogue = NULL;
  cmd->words = CLS_OPT_WORDS_WANTS;
}

/* Fails on an unwritable --json before minutes are spent measuring;
 * leaves nothing behind. */
static int check_writable(const cls_opt_command *cmd, const char *path) {
  FILE *existing = fopen(path, "r");
  if (existing) fclose(existing);
  FILE *f = fopen(path, "a");
  if (!f)
    return cls_opt_fail(cmd, CLS_EXIT_FAIL, "cannot write %s: check the folder exists and is writable", path);
  fclose(f);
  if (!existing) remove(path); /* leave nothing behind if the run fails */
  return CLS_EXIT_GO_ON;
}

/* The device's line, and its JSON object. */
static void describe_device(cls_context *ctx, cJSON *root) {
  const cls_device_info *d = cls_context_device(ctx);
  printf("device %d:%d %s (%s, %u units at %u MHz, parameters %s: %s)\n", d->platform_index, d->device_index,
         d->name, d->platform_name, d->compute_units, d->clock_mhz, d->params_name, d->params_reason);
  cJSON *jd = cJSON_AddObjectToObject(root, "device");
  cJSON_AddStringToObject(jd, "name", d->name);
  cJSON_AddStringToObject(jd, "platform", d->platform_name);
  cJSON_AddStringToObject(jd, "driver", d->driver_version);
  cJSON_AddStringToObject(jd, "params", d->params_name);
  cJSON_AddStringToObject(jd, "params_reason", d->params_reason);
  cJSON_AddNumberToObject(jd, "compute_units", d->compute_units);
  cJSON_AddStringToObject(root, "clscale_version", CLSCALE_VERSION);
}

/* Where the device time went, op by op (warm-ups and repetitions
 * included), and the trace when asked for. */
static int report_time(const cls_opt_command *cmd, cls_context *ctx, const char *trace) {
  cls_counters counters;
  if (cls_counters_get(ctx, &counters) == CLS_OK) {
    char table[8192];
    cls_counters_summary(&counters, table, sizeof table);
    printf("\ndevice time by op over the whole benchmark:\n%s", table);
  }
  if (!trace) return CLS_EXIT_OK;
  if (cls_trace_write(ctx, trace) != CLS_OK) return cls_opt_fail(cmd, CLS_EXIT_FAIL, "%s", cls_last_error(ctx));
  printf("wrote the Chrome trace %s (open in ui.perfetto.dev)\n", trace);
  return CLS_EXIT_OK;
}

/* The peaks, the compile times, the parts asked for, into root. */
static int measure(const cls_opt_command *cmd, const bench_args *a, cls_context *ctx, cJSON *root) {
  cls_peak peak;
  if (cls_peak_measure(ctx, a->max_reps, &peak) != CLS_OK)
    return cls_opt_fail(cmd, CLS_EXIT_FAIL, "measuring the peaks failed: %s", cls_last_error(ctx));
  printf("peak: copy %.1f GB/s, FMA %.1f GFLOP/s (medians of %d)\n", peak.copy_gbps, peak.fma_gflops, a->max_reps);
  cJSON *jp = cJSON_AddObjectToObject(root, "peak");
  cJSON_AddNumberToObject(jp, "copy_gbps", peak.copy_gbps);
  cJSON_AddNumberToObject(jp, "fma_gflops", peak.fma_gflops);
  /* What a launch costs: the floor under a small model's step, which runs
   * hundreds of them (docs/performance.md). */
  cJSON *jl = cJSON_AddArrayToObject(root, "launch");
  const size_t widths[] = {1, 16384};
  for (size_t i = 0; i < 2; i++) {
    double lh, ld;
    if (cls_launch_time(ctx, widths[i], a->quick ? 200 : 2000, &lh, &ld) != CLS_OK)
      return cls_opt_fail(cmd, CLS_EXIT_FAIL, "measuring the launch cost failed: %s", cls_last_error(ctx));
    printf("launch of a kernel on %5zu floats, back to back: %6.1f us each", widths[i], lh * 1e6);
    if (ld >= 0) printf(" (%.1f us of it on the device: idle %.0f%%)", ld * 1e6, 100 * (1 - ld / lh));
    printf("\n");
    cJSON *e = cJSON_CreateObject();
    cJSON_AddNumberToObject(e, "items", (double)widths[i]);
    cJSON_AddNumberToObject(e, "host_us", lh * 1e6);
    if (ld >= 0) cJSON_AddNumberToObject(e, "device_us", ld * 1e6);
    cJSON_AddItemToArray(jl, e);
  }

  int rc = CLS_EXIT_OK;
  if (bench_compile(a->device, cJSON_AddArrayToObject(root, "compile")) != 0) rc = CLS_EXIT_FAIL;

  bench b = {ctx, a->max_reps, 0};
  if (a->only == ONLY_ALL || a->only == ONLY_MATMUL)
    bench_matmul(&b, a->quick ? quick_shapes : full_shapes,
                 a->quick ? sizeof quick_shapes / sizeof quick_shapes[0]
                          : sizeof full_shapes / sizeof full_shapes[0],
                 &peak, cJSON_AddArrayToObject(root, "matmul"));
  if (a->only == ONLY_ALL || a->only == ONLY_MATMUL || a->only == ONLY_SOLVE)
    bench_solve(&b, a->quick, cJSON_AddArrayToObject(root, "spd_solve"));
  if (a->only == ONLY_ALL || a->only == ONLY_ROWS)
    bench_rows(&b, a->quick ? quick_rows : full_rows,
               a->quick ? sizeof quick_rows / sizeof quick_rows[0] : sizeof full_rows / sizeof full_rows[0], &peak,
               cJSON_AddArrayToObject(root, "rows"));
  if (a->only == ONLY_ALL || a->only == ONLY_MODELS)
    bench_models(&b, a->quick, cJSON_AddArrayToObject(root, "models"));
  if (b.failures) rc = CLS_EXIT_FAIL;
  cJSON_AddNumberToObject(jp, "fma_gflops_max", peak.fma_gflops); /* the highest of the re-measurements */
  if (report_time(cmd, ctx, a->trace) != CLS_EXIT_OK) rc = CLS_EXIT_FAIL;
  return rc;
}

int cls_cmd_bench(int argc, char **argv) {
  bench_args a = {NULL, NULL, NULL, 0, 7, ONLY_ALL};
  cls_option opts[8];
  cls_opt_command cmd;
  bench_command(&cmd, opts, sizeof opts / sizeof opts[0], &a);
  int rc = cls_cmd_parse(&cmd, argc, argv);
  if (rc != CLS_EXIT_GO_ON) return rc;
  if (a.json && check_writable(&cmd, a.json) != CLS_EXIT_GO_ON) return CLS_EXIT_FAIL;

  cls_context_options o;
  cls_context_options_init(&o);
  o.device = a.device;
  o.trace = a.trace != NULL;
  cls_context *ctx;
  rc = cls_cmd_open_context_with(&cmd, &o, &ctx);
  if (rc != CLS_EXIT_GO_ON) return rc;
  char err[4096];
  cJSON *root = cJSON_CreateObject();
  describe_device(ctx, root);
  rc = measure(&cmd, &a, ctx, root);
  if (a.json && cls_write_json_atomic(a.json, root, err, sizeof err) != CLS_OK) {
    rc = cls_opt_fail(&cmd, CLS_EXIT_FAIL, "%s", err);
  } else if (a.json) {
    printf("\nwrote %s\n", a.json);
  }
  cJSON_Delete(root);
  cls_context_destroy(ctx);
  return rc;
}
