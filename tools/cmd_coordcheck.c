/*
 * tools/cmd_coordcheck.c — `clscale coordcheck`: the muP coordinate check
 * into a run directory's coord_check.csv, for `clscale plot`.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "command.h"
#include "commands.h"
#include "options.h"
#include "train/coordcheck.h"

/* ------------------------------------------------------------- options */

enum { MAX_MODELS = 16 };

typedef struct {
  cls_coord_spec s;
  int model; /* the index into models, as the option table's int */
  const char *out, *device;
  /* The models with a check, from the task registry, as --model's choices
   * (so that a new model needs no edit here), its metavar and the usage. */
  cls_opt_choice models[MAX_MODELS + 1];
  char names[MAX_MODELS][32];
  char metavar[256], usage[512];
} coord_args;

/* --model's choices, metavar ("gpt|emulator") and the usage line. */
static void list_models(coord_args *a) {
  size_t n = 0;
  for (size_t i = 0; i < cls_task_count() && n < MAX_MODELS; i++) {
    const cls_task_info *info = cls_task_at(i);
    if (cls_coord_task(info->model->name) != info) continue; /* no check, or listed already */
    snprintf(a->names[n], sizeof a->names[n], "%s", info->model->name);
    a->models[n] = (cls_opt_choice){a->names[n], (int)n};
    if (!strcmp(a->names[n], a->s.model)) a->model = (int)n;
    n++;
  }
  a->models[n] = (cls_opt_choice){NULL, 0};
  cls_coord_models("|", a->metavar, sizeof a->metavar);
  snprintf(a->usage, sizeof a->usage,
           "usage: clscale coordcheck -o RUN_DIR [--model %s] [--widths 32,64,128,256]\n"
           "                          [--depth N] [--heads N] [--base-width N] [--steps N] [--lr X]\n"
           "                          [--seed N] [--device SEL]",
           a->metavar);
}

static void coord_command(cls_opt_command *cmd, cls_option *opts, size_t cap, coord_args *a,
                          cls_opt_list *widths) {
  cls_coord_spec *s = &a->s;
  list_models(a);
  *widths = (cls_opt_list){s->widths, &s->n_widths, sizeof s->widths / sizeof s->widths[0]};
  const cls_option table[] = {
      {CLS_OPT(CLS_OPT_STRING, "--out", &a->out, "RUN_DIR", "out_dir out",
               "the run directory: writes RUN_DIR/coord_check.csv (created if missing)"),
       .alias = "-o"},
      {CLS_OPT(CLS_OPT_CHOICE, "--model", &a->model, a->metavar, "model", "the model (default gpt)"),
       .choices = a->models},
      {CLS_OPT(CLS_OPT_SIZES, "--widths", widths, "W,W,...", "widths n_widths",
               "ascending widths, each a multiple of the heads, at most 16 (default 32,64,128,256)")},
      {CLS_OPT(CLS_OPT_SIZE, "--depth", &s->depth, "N", "depth", "layers (default 2)")},
      {CLS_OPT(CLS_OPT_SIZE, "--heads", &s->heads, "N", "heads", "attention heads (default 4)")},
      {CLS_OPT(CLS_OPT_SIZE, "--base-width", &s->base_width, "N", "base_width",
               "muP base width (default: the first width)")},
      {CLS_OPT(CLS_OPT_SIZE, "--steps", &s->steps, "N", "steps", "Adam steps (default 3)")},
      {CLS_OPT(CLS_OPT_FLOAT, "--lr", &s->lr, "X", "lr", "the one learning rate of every width (default 1e-2)")},
      {CLS_OPT(CLS_OPT_U64, "--seed", &s->seed, "N", "seed", "initial weights and data (default 1)")},
      {CLS_OPT(CLS_OPT_STRING, "--device", &a->device, "SEL", "device",
               "P:D, gpu, cpu or a name substring (default CLSCALE_DEVICE, else fastest GPU)")},
  };
  cls_cmd_set_options(cmd, opts, cap, table, sizeof table / sizeof table[0]);
  cmd->name = "coordcheck";
  cmd->usage = a->usage;
  cmd->about = "Trains models of growing width for a few Adam steps at one learning rate, under\n"
               "SP and under muP, and writes the root-mean-square of their activations at each\n"
               "step (the embedding, the last block's attention output and MLP hidden\n"
               "activation, and the logits or the emulator's head) to RUN_DIR/coord_check.csv.\n"
               "Under muP the scales are flat in width; under SP they grow. `clscale plot RUN_DIR`\n"
               "draws them (--kind coord-check).";
  cmd->epilogue = "Defaults: gpt, widths 32,64,128,256, depth 2, 4 heads, base width = the first\n"
                  "width, 3 steps, lr 1e-2, seed 1. Exit codes: 0 ok, 1 failure, 2 bad usage.";
  cmd->words = CLS_OPT_WORDS_PLAIN;
}

int cls_cmd_coordcheck(int argc, char **argv) {
  coord_args a = {.out = NULL, .device = NULL};
  cls_coord_spec_default(&a.s);
  cls_option opts[16];
  cls_opt_list widths;
  cls_opt_command cmd;
  coord_command(&cmd, opts, sizeof opts / sizeof opts[0], &a, &widths);
  int code = cls_cmd_parse(&cmd, argc, argv);
  if (code != CLS_EXIT_GO_ON) return code;
  a.s.model = a.models[a.model].name;
  if (!a.out) return cls_cmd_refuse(&cmd, "give the run directory with -o RUN_DIR");
  if (mkdir(a.out, 0755) != 0 && errno != EEXIST)
    return cls_opt_fail(&cmd, CLS_EXIT_FAIL, "cannot create %s: %s", a.out, strerror(errno));
  cls_context *ctx;
  code = cls_cmd_open_context(&cmd, a.device, NULL, &ctx);
  if (code != CLS_EXIT_GO_ON) return code;
  char err[4096];
  char path[4096];
  snprintf(path, sizeof path, "%s/coord_check.csv", a.out);
  err[0] = 0;
  cls_status st = cls_coord_check(ctx, &a.s, path, err, sizeof err);
  cls_context_destroy(ctx);
  if (st != CLS_OK) return cls_opt_fail(&cmd, cls_cmd_exit_of(st), "%s", err[0] ? err : cls_status_name(st));
  printf("wrote %s\n", path);
  return CLS_EXIT_OK;
}
