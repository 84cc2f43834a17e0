/* src/sweep/plan.c — see plan.h. */
#include <math.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rundir/rundir.h"
#include "sweep/count.h"
#include "sweep/plan.h"

const char *cls_sweep_fmt_num(double v, char *out, size_t len) {
  char buf[64];
  snprintf(buf, sizeof buf, "%.6g", v);
  /* "4e+10" -> "4e10", "3e-05" -> "3e-5": shorter, and still a number. */
  char *e = strchr(buf, 'e');
  if (e) {
    int ex = atoi(e + 1);
    *e = 0;
    snprintf(out, len, "%se%d", buf, ex);
  } else {
    snprintf(out, len, "%s", buf);
  }
  return out;
}

typedef struct {
  cls_sweep_shape shape;
  double n, n_embed;
} sized_shape;

static int by_size(const void *a, const void *b) {
  const sized_shape *x = a, *y = b;
  if (x->n != y->n) return x->n < y->n ? -1 : 1;
  if (x->shape.depth != y->shape.depth) return x->shape.depth < y->shape.depth ? -1 : 1;
  return x->shape.heads < y->shape.heads ? -1 : x->shape.heads > y->shape.heads;
}

static int by_budget(const void *a, const void *b) {
  const cls_sweep_budget *x = a, *y = b;
  if (x->kind != y->kind) return x->kind < y->kind ? 1 : -1; /* FLOPs first, then tokens, then steps */
  return x->value < y->value ? -1 : x->value > y->value;
}

/* The grid of one generation (n points, B budgets, the same chains in
 * each budget block) repeated for every generation and, from generation
 * 1, every pi: generation 0 first, then generation 1 for each pi, and so
 * on, so that a queue in plan order meets teachers before their students.
 * Generation 0 is shared by every pi (it trains on real data alone). The
 * teacher of a point of generation g >= 1 is the point of generation g - 1
 * (the same pi from generation 1 on) at the largest budget in its chain. */
static cls_status expand_generations(const cls_sweep_spec *s, const cls_sweep_point *grid, size_t n, size_t B,
                                     cls_sweep_point **out, size_t *count, char *err, size_t err_len) {
  const size_t per_budget = n / B, P = s->n_real_fractions, G = s->generations;
  const size_t total = n * (1 + (G - 1) * P);
  cls_sweep_point *all = calloc(total, sizeof *all);
  if (!all) {
    snprintf(err, err_len, "out of host memory for a grid of %zu points", total);
    return CLS_ERR_OUT_OF_MEMORY;
  }
  size_t k = 0;
  for (size_t g = 0; g < G; g++)
    for (size_t j = 0; j < (g ? P : 1); j++)
      for (size_t i = 0; i < n; i++, k++) {
        cls_sweep_point *p = &all[k];
        *p = grid[i];
        p->index = k;
        p->generation = (unsigned)g;
        p->real_fraction = g ? s->real_fractions[j] : 1.0;
        p->chain = i % per_budget;
        /* the largest budget is the last block */
        p->teaches = g + 1 < G && i / per_budget == B - 1;
        if (g) {
          const size_t block = g == 1 ? 0 : n * (1 + (g - 2) * P + j); /* generation g - 1's grid of this pi */
          p->teacher = block + (B - 1) * per_budget + p->chain;
        }
        const size_t len = strlen(p->id);
        char num[32];
        if (g)
          snprintf(p->id + len, sizeof p->id - len, "_g%zu_pi%s", g,
                   cls_sweep_fmt_num(p->real_fraction, num, sizeof num));
        else
          snprintf(p->id + len, sizeof p->id - len, "_g0");
        if (g) snprintf(p->teacher_id, sizeof p->teacher_id, "%s", all[p->teacher].id);
      }
  *out = all;
  *count = total;
  return CLS_OK;
}

cls_status cls_sweep_plan(const cls_sweep_spec *s, cls_sweep_point **points, size_t *n, char *err,
                          size_t err_len) {
  *points = NULL;
  *n = 0;
  const size_t S = s->n_shapes, B = s->n_budgets;
  if (!S || !B || !s->n_seeds || !s->n_lrs) {
    snprintf(err, err_len, "the grid is empty (%zu model sizes x %zu budgets x %zu seeds x %zu learning rates)", S,
             B, s->n_seeds, s->n_lrs);
    return CLS_ERR_INVALID_VALUE;
  }
  const size_t K = s->isoflop_sizes ? s->isoflop_sizes : S;
  const size_t C = (s->n_combos ? s->n_combos : 1) * (s->n_param_list ? s->n_param_list : 1);
  const size_t cap = B * K * s->n_seeds * s->n_lrs * C;
  /* A grid is trained (and its shapes calibrated, even by --dry-run) point
   * by point: a typo such as 10,000 widths must not start hours of work.
   * The limits hold a large real sweep; CLSCALE_MAX_POINTS lifts both. */
  size_t max_points = CLS_SWEEP_MAX_POINTS, max_shapes = CLS_SWEEP_MAX_SHAPES;
  const char *lift = getenv("CLSCALE_MAX_POINTS");
  if (lift && *lift) {
    char *end;
    unsigned long long v = strtoull(lift, &end, 10);
    if (*end || v == 0 || lift[0] == '-') {
      snprintf(err, err_len, "CLSCALE_MAX_POINTS='%s' is not a positive whole number", lift);
      return CLS_ERR_INVALID_VALUE;
    }
    max_points = max_shapes = (size_t)v;
  }
  /* The product above may wrap: check the factors first. */
  if (S > max_shapes || cap / B / K / s->n_seeds / s->n_lrs != C || cap > max_points) {
    snprintf(err, err_len,
             "the grid is too large: %zu model sizes (limit %zu) and %zu budgets x %zu sizes each x %zu seeds x "
             "%zu learning rates x %zu task settings (limit %zu points); split the sweep into several specs, or "
             "set CLSCALE_MAX_POINTS=N to lift both limits to N",
             S, max_shapes, B, K, s->n_seeds, s->n_lrs, C, max_points);
    return CLS_ERR_INVALID_VALUE;
  }
  sized_shape *shapes = malloc(S * sizeof *shapes);
  cls_sweep_budget *budgets = malloc(B * sizeof *budgets);
  cls_sweep_point *pts = calloc(cap, sizeof *pts);
  if (!shapes || !budgets || !pts) {
    free(shapes);
    free(budgets);
    free(pts);
    snprintf(err, err_len, "out of host memory for a grid of %zu points", cap);
    return CLS_ERR_OUT_OF_MEMORY;
  }
  for (size_t i = 0; i < S; i++) {
    shapes[i].shape = s->shapes[i];
    cls_sweep_count_params(&s->base, s->shapes[i].width, s->shapes[i].depth, &shapes[i].n, &shapes[i].n_embed);
  }
  qsort(shapes, S, sizeof *shapes, by_size);
  memcpy(budgets, s->budgets, B * sizeof *budgets);
  qsort(budgets, B, sizeof *budgets, by_budget);
  /* Heads join the id only when two shapes differ in nothing else. */
  int heads_in_id = 0;
  for (size_t i = 0; i < S; i++)
    for (size_t j = i + 1; j < S; j++)
      heads_in_id |=
          shapes[i].shape.width == shapes[j].shape.width && shapes[i].shape.depth == shapes[j].shape.depth;

  size_t count = 0;
  for (size_t b = 0; b < B; b++) {
    /* The window of sizes of budget b: slides from the smallest sizes (first
     * budget) to the largest (last), as Chinchilla centred each IsoFLOP
     * profile on its expected optimum. */
    const size_t first = B > 1 ? (size_t)llround((double)b * (double)(S - K) / (double)(B - 1)) : (S - K) / 2;
    char btag[40], num[32];
    cls_sweep_fmt_num(budgets[b].value, num, sizeof num);
    snprintf(btag, sizeof btag, "%c%s",
             budgets[b].kind == CLS_BUDGET_FLOPS    ? 'c'
             : budgets[b].kind == CLS_BUDGET_TOKENS ? 't'
                                                    : 'n',
             num);
    for (size_t k = first; k < first + K; k++)
      for (size_t si = 0; si < s->n_seeds; si++)
        for (size_t li = 0; li < s->n_lrs; li++)
          for (size_t cpi = 0; cpi < C; cpi++) {
            /* The parametrisations vary fastest: a rate's SP and muP runs side by side in the plan. */
            const size_t NP = s->n_param_list ? s->n_param_list : 1, ci = cpi / NP, pi = cpi % NP;
            cls_sweep_point *p = &pts[count];
            p->index = count;
            p->shape = shapes[k].shape;
            p->budget = budgets[b];
            p->seed = s->seeds[si];
            p->lr = s->lrs[li];
            p->combo = ci;
            p->param = s->n_param_list ? s->param_list[pi] : s->base.param;
            p->n_params = shapes[k].n;
            p->n_params_embed = shapes[k].n_embed;
            if (s->n_combos && s->combos[ci].n) { /* a task setting may size the model (the memoriser's V) */
              cls_task_spec ts = s->base;
              cls_sweep_combo_apply(s, ci, &ts);
              cls_sweep_count_params(&ts, p->shape.width, p->shape.depth, &p->n_params, &p->n_params_embed);
            }
            int len = snprintf(p->id, sizeof p->id, "%s", btag);
            if (p->shape.width) /* a shapeless model's points have no size */
              len +=
                  snprintf(p->id + len, sizeof p->id - (size_t)len, "_w%zu_d%zu", p->shape.width, p->shape.depth);
            if (heads_in_id) len += snprintf(p->id + len, sizeof p->id - (size_t)len, "_h%zu", p->shape.heads);
            len += snprintf(p->id + len, sizeof p->id - (size_t)len, "_s%llu", (unsigned long long)p->seed);
            if (s->n_lrs > 1)
              len += snprintf(p->id + len, sizeof p->id - (size_t)len, "_lr%s",
                              cls_sweep_fmt_num(p->lr, num, sizeof num));
            if (s->n_combos) len += snprintf(p->id + len, sizeof p->id - (size_t)len, "%s", s->combos[ci].tag);
            if (NP > 1 &&
                (size_t)len < sizeof p->id) /* only then: a spec with one parametrisation keeps its ids */
              snprintf(p->id + len, sizeof p->id - (size_t)len, "_%s", cls_parametrisation_name(p->param));
            p->real_fraction = NAN;
            p->teacher = SIZE_MAX;
            p->chain = count;
            count++;
          }
  }
  free(shapes);
  free(budgets);
  if (s->generations) {
    cls_sweep_point *all = NULL;
    cls_status st = expand_generations(s, pts, count, B, &all, &count, err, err_len);
    free(pts);
    if (st != CLS_OK) return st;
    pts = all;
  }
  /* Ids are file names: an id cut by its buffer, or with other characters,
   * is refused here rather than written as a wrong or unsafe name. */
  for (size_t i = 0; i < count; i++)
    if (!cls_rundir_id_ok(pts[i].id)) {
      snprintf(
          err, err_len,
          "the point id '%.60s%s' is longer than %d characters or holds other characters than " CLS_RUNDIR_ID_CHARS
          ": use fewer or shorter task settings",
          pts[i].id, strlen(pts[i].id) > 60 ? "..." : "", CLS_RUNDIR_ID_MAX);
      free(pts);
      return CLS_ERR_INVALID_VALUE;
    }
  for (size_t i = 0; i < count; i++)
    for (size_t j = i + 1; j < count; j++)
      if (!strcmp(pts[i].id, pts[j].id)) {
        snprintf(err, err_len,
                 "two points of the grid have the id '%s': make the budgets, learning rates or task "
                 "settings differ in their first 6 digits",
                 pts[i].id);
        free(pts);
        return CLS_ERR_INVALID_VALUE;
      }
  *points = pts;
  *n = count;
  return CLS_OK;
}

int cls_sweep_in_shard(size_t index, size_t shard, size_t n_shards) {
  return n_shards <= 1 || index % n_shards == shard;
}

void cls_sweep_point_task(const cls_sweep_spec *s, const cls_sweep_point *p, cls_task_spec *out) {
  *out = s->base;
  out->task = s->task;
  out->model = s->model;
  out->data = strcmp(s->data, "zipf") && s->data[0] ? s->data : NULL;
  out->width = p->shape.width;
  out->depth = p->shape.depth;
  out->heads = p->shape.heads;
  out->seed = p->seed;
  out->param = p->param;
  cls_sweep_combo_apply(s, p->combo, out);
}

void cls_sweep_point_config(const cls_sweep_spec *s, const cls_sweep_point *p, cls_train_config *c) {
  cls_train_config_default(c);
  c->budget_kind = p->budget.kind;
  c->budget = p->budget.value;
  /* IsoFLOP profiles are grouped by the nominal budget. */
  c->budget_flops_nominal = p->budget.kind == CLS_BUDGET_FLOPS ? p->budget.value : 0;
  c->lr = p->lr;
  c->min_lr_ratio = s->min_lr_ratio;
  c->warmup_fraction = s->warmup_fraction;
  c->warmup_steps = s->warmup_steps;
  c->beta1 = s->beta1;
  c->beta2 = s->beta2;
  c->clip = s->clip;
  c->evals = s->evals;
  c->eval_every = s->eval_every;
  c->eval_batches = s->eval_batches;
  c->checkpoint_steps = s->checkpoint_steps;
  c->checkpoint_seconds = s->checkpoint_seconds;
  c->drop_checkpoint = !s->keep_checkpoints;
  c->task_name = s->task;
  c->model_name = s->model;
  if (p->teaches) c->drop_checkpoint = 0; /* the next generation's teacher: its corpus is made from it */
}

cls_status cls_sweep_check_memory(const cls_sweep_spec *s, const cls_sweep_point *points, size_t n,
                                  uint64_t device_bytes, uint64_t host_bytes, char *err, size_t err_len) {
  const cls_task_info *info = cls_task_find(s->task, s->model);
  if (!info || !info->solve || !info->solve_bytes) return CLS_OK;
  const uint64_t have = info->solve_on_host ? host_bytes : device_bytes;
  const char *where = info->solve_on_host ? "host" : "device";
  for (size_t i = 0; i < n; i++) {
    cls_task_spec ts;
    cls_sweep_point_task(s, &points[i], &ts);
    uint64_t need = 0;
    char why[512] = "";
    cls_status st = info->solve_bytes(&ts, (uint64_t)points[i].budget.value, &need, why, sizeof why);
    if (have && need > have) {
      snprintf(err, err_len, "point %s needs %.3g GB of %s memory and the %s has %.3g GB: lower its size (%s)",
               points[i].id, (double)need / 1e9, where, where, (double)have / 1e9,
               info->solve_on_host ? "`vocab`" : "`widths`, `budgets_tokens` or `latent`");
      return CLS_ERR_OUT_OF_MEMORY;
    }
    if (st != CLS_OK) {
      snprintf(err, err_len, "point %s cannot be solved: %s", points[i].id, why);
      return st;
    }
  }
  return CLS_OK;
}

/* Whether two points may share a group (cls_sweep_groups). */
static int same_group(const cls_sweep_point *a, const cls_sweep_point *b) {
  return a->shape.width == b->shape.width && a->shape.depth == b->shape.depth &&
         a->shape.heads == b->shape.heads && a->param == b->param && a->combo == b->combo && !a->generation &&
         !b->generation && a->teacher == SIZE_MAX && b->teacher == SIZE_MAX;
}

size_t cls_sweep_groups(const cls_sweep_spec *s, const cls_sweep_point *points, size_t n, size_t max_models,
                        size_t *group) {
  /* The tasks whose models train side by side (task.h's `models`). */
  const cls_task_info *info = cls_task_find(s->task, s->model);
  const int can = !s->solved && info && info->models && max_models > 1;
  size_t *members = can ? calloc(n ? n : 1, sizeof *members) : NULL; /* per group */
  size_t groups = 0;
  for (size_t i = 0; i < n; i++) {
    group[i] = SIZE_MAX;
    /* The first earlier point of the same kind whose group has room (out
     * of host memory: every point alone). */
    for (size_t j = 0; members && j < i && group[i] == SIZE_MAX; j++)
      if (members[group[j]] < max_models && same_group(&points[j], &points[i])) group[i] = group[j];
    if (group[i] == SIZE_MAX) group[i] = groups++;
    if (members) members[group[i]]++;
  }
  free(members);
  return groups;
}
