/*
 * src/sweep/spec.h — a sweep's specification: what `clscale sweep SPEC`
 * trains. A spec file is JSON (an object of flat keys) or INI (the same keys
 * as `key = value` lines, lists comma-separated); both are read into one
 * cls_sweep_spec, and its canonical form (every setting, defaults filled
 * in, in a fixed order) is what manifest.json stores and what a second run
 * or another shard compares against. docs/sweep.md lists the keys.
 *
 * Only parsing and checking happen here (no device): a bad file, an unknown
 * key or task, a value out of range or an empty grid is refused with a
 * message naming the file and the key.
 */
#ifndef CLSCALE_SWEEP_SPEC_H
#define CLSCALE_SWEEP_SPEC_H

#include <stddef.h>
#include <stdint.h>

#include "clscale/status.h"
#include "train/loop.h"
#include "train/task.h"

typedef enum {
  CLS_SWEEP_ISOFLOP = 0, /* for each FLOPs budget C, every model size trained to C (Chinchilla's IsoFLOP) */
  CLS_SWEEP_CURVES = 1,  /* one run per model size (and budget): loss against cumulative FLOPs */
} cls_sweep_mode;

/* One model shape of the grid; target_params > 0 when it was chosen to hit
 * a parameter count. */
typedef struct cls_sweep_shape {
  size_t width, depth, heads;
  double target_params;
} cls_sweep_shape;

typedef struct cls_sweep_budget {
  cls_budget_kind kind; /* FLOPs, tokens or steps */
  double value;
} cls_sweep_budget;

/* One task field set to one value (a grid axis's value, or a variant's). */
typedef struct cls_sweep_setting {
  const char *key; /* the task field (a static name) */
  double num;      /* its value, a number field */
  char text[32];   /* its value, a text field (`source`) */
} cls_sweep_setting;

enum { CLS_SWEEP_MAX_SETTINGS = 16 };

/* The task fields one point sets over the spec's shared ones: one value of
 * every axis (a task field given as a list) and one variant (an entry of
 * `variants`); tag is what its point ids end with ("_ridge0.01_alpha1"). */
typedef struct cls_sweep_combo {
  cls_sweep_setting set[CLS_SWEEP_MAX_SETTINGS];
  size_t n;
  char tag[96];
} cls_sweep_combo;

typedef struct cls_sweep_spec {
  char name[128];
  char task[32], model[32];
  cls_sweep_mode mode;
  cls_sweep_shape *shapes;
  size_t n_shapes;
  cls_sweep_budget *budgets;
  size_t n_budgets;
  size_t isoflop_sizes; /* > 0: each budget trains this many consecutive sizes, the window sliding from the
                           smallest models (smallest budget) to the largest (largest budget) */
  uint64_t *seeds;
  size_t n_seeds;
  double *lrs;
  size_t n_lrs;
  /* The parametrisations (`param`): one (base.param, ids unchanged) or a
   * list, each a point of its own with its name in the id ("_mup"), for
   * the learning-rate transfer sweeps (docs/sweep.md). */
  cls_parametrisation param_list[4];
  size_t n_param_list;
  /* The task settings shared by every point (width, depth, heads, seed are
   * the point's own); task, model and data point into this struct. */
  cls_task_spec base;
  char data[1024];       /* text: a file (relative paths are resolved against the spec's folder) or "zipf" */
  char data_given[1024]; /* as the spec wrote it (the canonical form keeps this) */
  /* The schedule and evaluation, shared by every point. */
  double warmup_fraction; /* >= 0; or warmup_steps when < 0 */
  uint64_t warmup_steps;
  double min_lr_ratio, beta1, beta2, clip;
  size_t evals, eval_batches;
  uint64_t eval_every;
  uint64_t checkpoint_steps; /* > 0: checkpoint every so many steps */
  double checkpoint_seconds; /* > 0: and every so many seconds */
  int keep_checkpoints;      /* keep a finished point's checkpoint (default: removed) */
  long max_retries;          /* a failing point's retries (-1: not given, the command's default) */
  double claim_timeout;      /* seconds without heartbeat before a claim is stale (0: not given) */
  /* The task-field grid: every combination of the axes' values with every
   * variant (at least one combo, the empty one when there are neither). */
  cls_sweep_combo *combos;
  size_t n_combos;
  int solved;              /* the task is solved, not trained (train/task.h) */
  char shared_text[4][32]; /* the shared values of text fields (base's point here) */
  size_t n_shared_text;
  /* Generations (docs/sweep.md, train/synth.h): 0 when the spec has none;
   * else G >= 1 generations, generation 0 on real data, generation g + 1
   * on the corpus the largest-budget model of generation g writes, mixed
   * with real data. */
  unsigned generations;
  double *real_fractions; /* pi, the share of real data in generations >= 1 (an axis; spec key real_fraction, or
                             synthetic_fraction = 1 - pi) */
  size_t n_real_fractions;
  double sample_temperature, top_p; /* the teachers' sampling */
  size_t top_k;                     /* 0: no cut */
  size_t synthetic_pairs;           /* sequences per corpus */
  /* Every setting, defaults included, as one line of JSON: equal specs
   * give equal strings (manifest.json's "spec"). */
  char *canonical;
} cls_sweep_spec;

/* Reads a spec file: JSON when its first non-blank character is '{', else
 * INI. CLS_ERR_IO when the file cannot be read; CLS_ERR_FORMAT for a file
 * that is not valid JSON/INI; CLS_ERR_INVALID_VALUE for a bad key or value
 * or an empty grid. err says which file, line or key, and what to do. */
cls_status cls_sweep_spec_load(const char *path, cls_sweep_spec **out, char *err, size_t err_len);

/* The same from text (source names the text in messages; base_dir resolves
 * relative data paths, NULL: the current folder). */
cls_status cls_sweep_spec_parse(const char *text, const char *source, const char *base_dir, cls_sweep_spec **out,
                                char *err, size_t err_len);

void cls_sweep_spec_free(cls_sweep_spec *s);

/* Sets the task fields of combo k of s in out (a task spec made from
 * s->base); text values point into s. */
void cls_sweep_combo_apply(const cls_sweep_spec *s, size_t k, cls_task_spec *out);

/* The spec recorded as canonical JSON text (manifest.json's "spec") read
 * back as a spec, to change and write again; source names it in messages.
 * Relative data paths resolve against the current folder. */
cls_status cls_sweep_spec_from_canonical(const char *text, const char *source, cls_sweep_spec **out, char *err,
                                         size_t err_len);

/* Writes s as a JSON spec file that cls_sweep_spec_load reads back to the
 * same canonical form (its shapes, budgets and settings as they are now in
 * s; about, when not NULL, as the "_about" key), atomically. The spec
 * module owns the format, so `clscale plan` writes its specs through this. */
cls_status cls_sweep_spec_write(const cls_sweep_spec *s, const char *about, const char *path, char *err,
                                size_t err_len);

/* "isoflop" or "curves". */
const char *cls_sweep_mode_name(cls_sweep_mode m);

#endif
