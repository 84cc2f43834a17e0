/*
 * src/sweep/plan.h — the grid of a spec as a list of points, each one run
 * (one model shape x one budget x one seed x one learning rate), with an id
 * derived from its configuration alone: the same spec gives the same ids in
 * every process, so re-runs find their finished points and shards on other
 * machines write disjoint files into one run directory.
 *
 * Order: budgets ascending, then model sizes by N ascending, then seeds and
 * learning rates. Point k belongs to shard k mod n (so shards get a mix of
 * cheap and dear points). With generations the grid is repeated per
 * generation (outermost) and, from generation 1, per pi; ids end with
 * "_g0" or "_g2_pi0.1", and chain c belongs to shard c mod n.
 */
#ifndef CLSCALE_SWEEP_PLAN_H
#define CLSCALE_SWEEP_PLAN_H

#include <stddef.h>
#include <stdint.h>

#include "sweep/spec.h"
#include "train/loop.h"
#include "train/task.h"

typedef struct cls_sweep_point {
  char id[128]; /* "c4e10_w32_d2_s1": budget (c FLOPs, t tokens, n steps), width, depth, seed [, heads, lr] */
  size_t index; /* position in the plan */
  cls_sweep_shape shape;
  cls_sweep_budget budget;
  uint64_t seed;
  double lr;
  cls_parametrisation param;       /* s->param_list[i] (the spec's one parametrisation unless it lists several) */
  size_t combo;                    /* the task fields it sets: s->combos[combo] */
  double n_params, n_params_embed; /* counted on the host from the shape (count.h) */
  /* Generations (spec->generations > 0; else generation 0, fraction NaN,
   * no teacher). A chain is one shape x seed x rate x task setting: its
   * generation 0 and, for each pi, its generations 1, 2, ... */
  unsigned generation;
  double real_fraction; /* pi, the share of real data (1 in generation 0); NaN: no generations */
  size_t teacher;       /* the plan index of the point whose corpus it trains on; SIZE_MAX: none */
  char teacher_id[128]; /* that point's id ("" when none) */
  int teaches;          /* a later generation trains on its corpus: its checkpoint is kept */
  size_t chain;         /* the chain (generations), else the index: what shards split */
} cls_sweep_point;

/* The largest grid planned unless CLSCALE_MAX_POINTS says otherwise: points,
 * and model sizes (each calibrated, even by --dry-run). */
enum { CLS_SWEEP_MAX_POINTS = 10000, CLS_SWEEP_MAX_SHAPES = 1000 };

/* Expands the spec (isoflop_sizes windows included). CLS_ERR_INVALID_VALUE
 * with a message for an empty grid, a grid over the limits above (the
 * message gives them and how to lift them) or two points with one id. */
cls_status cls_sweep_plan(const cls_sweep_spec *s, cls_sweep_point **points, size_t *n, char *err, size_t err_len);

/* Whether point index belongs to shard i of n (0 <= i < n); callers pass
 * a point's `chain`, so that a chain's generations stay in one shard (a
 * point needs its teacher's checkpoint, written by the same process). */
int cls_sweep_in_shard(size_t index, size_t shard, size_t n_shards);

/* The task of a point: the spec's shared settings and the point's shape and
 * seed. task/model/data point into s. */
void cls_sweep_point_task(const cls_sweep_spec *s, const cls_sweep_point *p, cls_task_spec *out);

/* The train config of a point (budget, lr, schedule, evaluation,
 * checkpoints); out_dir, id, stop, progress and device are the caller's. */
void cls_sweep_point_config(const cls_sweep_spec *s, const cls_sweep_point *p, cls_train_config *out);

/* Whether each point of a solved task's sweep fits in memory: the solver's
 * bytes (train/task.h, solve_bytes) against device_bytes (the smallest
 * global memory of the devices that will run it) or, for a task solved on
 * the host, host_bytes (0: not checked). CLS_OK, else
 * CLS_ERR_OUT_OF_MEMORY naming the first point that does not fit, what it
 * needs and what to lower, or the solver's own status for a point it cannot
 * solve at any size (sizes beyond what it indexes). Trained tasks: CLS_OK
 * (their probe step finds out on the device). */
cls_status cls_sweep_check_memory(const cls_sweep_spec *s, const cls_sweep_point *points, size_t n,
                                  uint64_t device_bytes, uint64_t host_bytes, char *err, size_t err_len);

/* Models side by side (train/models.h): the points that could train as
 * one batched model, each computing what it computes alone. Points join a
 * group when they differ only in seed, learning rate and budget (the same
 * shape, parametrisation and task settings, generation 0 without a
 * teacher) and their task trains side by side (the emulator so far); at
 * most max_models (>= 1) a group, filled in plan order. group[i] receives
 * point i's group, groups numbered from 0 in the order of their first
 * point; returns the number of groups (n when nothing groups). The runner
 * does not train groups yet: `clscale sweep --dry-run` shows them. */
size_t cls_sweep_groups(const cls_sweep_spec *s, const cls_sweep_point *points, size_t n, size_t max_models,
                        size_t *group);

/* A number as ids and tables write it: "4e10", "1.26e11", "0.003", "500". */
const char *cls_sweep_fmt_num(double v, char *out, size_t len);

#endif
