/*
 * tools/clscale.c — the `clscale` command: git-style subcommands.
 */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "commands.h"

/* OpenBLAS 0.3.21 (Debian 12) does not know some recent x86 CPUs and falls
 * back to its slowest kernels ("Prescott"), which costs the host matmul
 * backend 4x. It reads OPENBLAS_CORETYPE only when it loads, so when it
 * guessed wrong on a CPU with AVX-512 or AVX2, set the variable and start
 * again. CLSCALE_NO_REEXEC=1 (or any OPENBLAS_CORETYPE) turns this off. */
static void fix_openblas_core(char **argv) {
#if defined(__x86_64__) && defined(__GNUC__)
  if (getenv("OPENBLAS_CORETYPE") || getenv("CLSCALE_NO_REEXEC")) return;
  const char *core = openblas_get_corename();
  if (!core || strcasecmp(core, "prescott") != 0) return;
  const char *better = __builtin_cpu_supports("avx512f") ? "SkylakeX"
                       : __builtin_cpu_supports("avx2")  ? "Haswell"
                                                         : NULL;
  if (!better) return;
  setenv("OPENBLAS_CORETYPE", better, 1);
  setenv("CLSCALE_NO_REEXEC", "1", 1);
  execv("/proc/self/exe", argv); /* returns only on failure: go on as we are */
#else
  (void)argv;
#endif
}

typedef struct {
  const char *name;
  int (*run)(int argc, char **argv);
  const char *summary;
} command;

static const command commands[] = {
    {"devices", cls_cmd_devices, "list OpenCL platforms and devices, and the default choice"},
    {"bench", cls_cmd_bench, "measure ops and backends on a device, as ratios to CLBlast and peak"},
    {"train", cls_cmd_train, "train one model on one budget; log loss against measured FLOPs"},
    {"sweep", cls_cmd_sweep, "train a grid of model sizes x budgets into a run directory (resumable, shardable)"},
    {"fit", cls_cmd_fit, "fit scaling laws (frontier, IsoFLOP, parametric) to a run directory or a CSV"},
    {"plan", cls_cmd_plan, "plan the next run from a fit: compute-optimal N, D, steps, loss and a sweep spec"},
    {"coordcheck", cls_cmd_coordcheck, "muP coordinate check: activation scale vs width under SP and muP"},
    {"sample", cls_cmd_sample, "generate text from a trained GPT checkpoint (temperature, top-k, top-p, seeded)"},
    {"plot", cls_cmd_plot, "render scaling-law figures (PNG) from a run directory"},
};

static void usage(FILE *f) {
  fprintf(f, "usage: clscale <command> [options]   (clscale <command> --help for its options)\n\ncommands:\n");
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
    fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
  fprintf(f, "\nenvironment: CLSCALE_DEVICE (device selector), CLSCALE_CACHE_DIR, CLSCALE_NO_CACHE=1,\n"
             "  CLSCALE_KERNEL_DIR (load cl/*.cl from a folder), CLSCALE_MATMUL_BACKEND, CLSCALE_PARAMS\n"
             "exit codes: 0 ok, 1 failure, 2 bad usage\n");
}

int main(int argc, char **argv) {
  fix_openblas_core(argv);
  if (argc < 2) {
    usage(stderr);
    return CLS_EXIT_USAGE;
  }
  if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
    usage(stdout);
    return CLS_EXIT_OK;
  }
  if (!strcmp(argv[1], "--version")) {
    printf("clscale %s\n", CLSCALE_VERSION);
    return CLS_EXIT_OK;
  }
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
    if (!strcmp(argv[1], commands[i].name)) return commands[i].run(argc - 1, argv + 1);
  fprintf(stderr, "clscale: unknown command '%s'\n", argv[1]);
  usage(stderr);
  return CLS_EXIT_USAGE;
}
