/*
 * tools/cmd_coordcheck.c — `clscale coordcheck`: the muP coordinate check
 * into a run directory's coord_check.csv, for `clscale plot`.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "commands.h"
#include "train/coordcheck.h"

static void usage(FILE *f) {
  fprintf(f, "usage: clscale coordcheck -o RUN_DIR [--model gpt|emulator] [--widths 32,64,128,256]\n"
             "                          [--depth N] [--heads N] [--base-width N] [--steps N] [--lr X]\n"
             "                          [--seed N] [--device SEL]\n\n"
             "Trains models of growing width for a few Adam steps at one learning rate, under\n"
             "SP and under muP, and writes the root-mean-square of their activations at each\n"
             "step (the embedding, the last block's attention output and MLP hidden\n"
             "activation, and the logits or the emulator's head) to RUN_DIR/coord_check.csv.\n"
             "Under muP the scales are flat in width; under SP they grow. `clscale plot RUN_DIR`\n"
             "draws them (--kind coord-check).\n\n"
             "Defaults: gpt, widths 32,64,128,256, depth 2, 4 heads, base width = the first\n"
             "width, 3 steps, lr 1e-2, seed 1. Exit codes: 0 ok, 1 failure, 2 bad usage.\n");
}

static int parse_size(const char *v, size_t *out) {
  char *end;
  errno = 0;
  unsigned long long x = strtoull(v, &end, 10);
  if (errno || end == v || *end || v[0] == '-') return -1;
  *out = (size_t)x;
  return 0;
}

int cls_cmd_coordcheck(int argc, char **argv) {
  cls_coord_spec s;
  cls_coord_spec_default(&s);
  const char *out = NULL, *device = NULL;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    int bad = 0;
    if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
      usage(stdout);
      return CLS_EXIT_OK;
    } else if ((!strcmp(a, "-o") || !strcmp(a, "--out")) && v) {
      out = v, i++;
    } else if (!strcmp(a, "--device") && v) {
      device = v, i++;
    } else if (!strcmp(a, "--model") && v) {
      if (!strcmp(v, "gpt"))
        s.model = CLS_COORD_GPT;
      else if (!strcmp(v, "emulator"))
        s.model = CLS_COORD_EMULATOR;
      else
        bad = 1;
      i++;
    } else if (!strcmp(a, "--widths") && v) {
      s.n_widths = 0;
      char buf[512];
      snprintf(buf, sizeof buf, "%s", v);
      for (char *tok = strtok(buf, ","); tok && !bad; tok = strtok(NULL, ",")) {
        if (s.n_widths == 16 || parse_size(tok, &s.widths[s.n_widths]))
          bad = 1;
        else
          s.n_widths++;
      }
      i++;
    } else if (!strcmp(a, "--depth") && v) {
      bad = parse_size(v, &s.depth), i++;
    } else if (!strcmp(a, "--heads") && v) {
      bad = parse_size(v, &s.heads), i++;
    } else if (!strcmp(a, "--base-width") && v) {
      bad = parse_size(v, &s.base_width), i++;
    } else if (!strcmp(a, "--steps") && v) {
      bad = parse_size(v, &s.steps), i++;
    } else if (!strcmp(a, "--seed") && v) {
      size_t seed = 0;
      bad = parse_size(v, &seed), s.seed = seed, i++;
    } else if (!strcmp(a, "--lr") && v) {
      char *end;
      s.lr = strtof(v, &end);
      bad = *end != 0 || end == v, i++;
    } else {
      fprintf(stderr, "clscale coordcheck: unknown or incomplete argument '%s'\n", a);
      usage(stderr);
      return CLS_EXIT_USAGE;
    }
    if (bad) {
      fprintf(stderr, "clscale coordcheck: bad value '%s' for %s\n", v, a);
      return CLS_EXIT_USAGE;
    }
  }
  if (!out) {
    fprintf(stderr, "clscale coordcheck: give the run directory with -o RUN_DIR\n");
    usage(stderr);
    return CLS_EXIT_USAGE;
  }
  if (mkdir(out, 0755) != 0 && errno != EEXIST) {
    fprintf(stderr, "clscale coordcheck: cannot create %s: %s\n", out, strerror(errno));
    return CLS_EXIT_FAIL;
  }
  cls_context_options o;
  cls_context_options_init(&o);
  o.device = device;
  cls_context *ctx;
  char err[4096];
  if (cls_context_create(&o, &ctx, err, sizeof err) != CLS_OK) {
    fprintf(stderr, "clscale coordcheck: %s\n", err);
    return CLS_EXIT_FAIL;
  }
  char path[4096];
  snprintf(path, sizeof path, "%s/coord_check.csv", out);
  err[0] = 0;
  cls_status st = cls_coord_check(ctx, &s, path, err, sizeof err);
  cls_context_destroy(ctx);
  if (st != CLS_OK) {
    fprintf(stderr, "clscale coordcheck: %s\n", err[0] ? err : cls_status_name(st));
    return (st == CLS_ERR_INVALID_VALUE || st == CLS_ERR_INVALID_SIZE) ? CLS_EXIT_USAGE : CLS_EXIT_FAIL;
  }
  printf("wrote %s\n", path);
  return CLS_EXIT_OK;
}
