/* tools/sweep_per_device.c — see sweep_per_device.h. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sweep/calibrate.h"
#include "sweep_per_device.h"
#include "train/task.h"

int cls_per_device_parse(const char *text, size_t *k) {
  if (!text || !strcmp(text, "auto")) {
    *k = 0;
    return 1;
  }
  if (text[0] >= '1' && text[0] <= '0' + CLS_PER_DEVICE_MAX && !text[1]) {
    *k = (size_t)(text[0] - '0');
    return 1;
  }
  return 0;
}

size_t cls_per_device_units(const size_t *group, size_t n) {
  size_t units = 0;
  for (size_t i = 0; i < n; i++) {
    int first = 1; /* a group counts at its first member */
    for (size_t j = 0; group && group[i] != SIZE_MAX && j < i && first; j++) first = group[j] != group[i];
    units += first;
  }
  return units;
}

/* A point's share of the sweep's compute: its budget in FLOPs, or 6 N
 * times its tokens or steps (the same tokens a step for every point of a
 * sweep, so steps rank as tokens do). */
static double weight(const cls_sweep_point *p) {
  return p->budget.kind == CLS_BUDGET_FLOPS ? p->budget.value : 6.0 * p->n_params * p->budget.value;
}

static int same_shape(const cls_sweep_point *a, const cls_sweep_point *b) {
  return a->shape.width == b->shape.width && a->shape.depth == b->shape.depth && a->shape.heads == b->shape.heads;
}

size_t cls_per_device_decide(cls_context *ctx, const cls_context_options *second, const cls_sweep_spec *s,
                             const cls_sweep_point *points, size_t n, const size_t *group, int print,
                             double *share) {
  *share = NAN;
  /* The measurement times a step of the task's models side by side
   * (train/models.h), which only some tasks have. */
  const cls_task_info *info = cls_task_find(s->task, s->model);
  if (!info || !info->models) {
    if (print)
      printf("\npoints at once on the device: 1 (--per-device auto times the %s task's steps through its "
             "models side by side, which it has not; --per-device 2 runs two at once unmeasured)\n",
             s->task);
    return 1;
  }
  /* The heaviest shape, and its first point that trains on a corpus of
   * its own (a later generation's needs its teacher's). */
  size_t rep = SIZE_MAX;
  double best = -1;
  for (size_t i = 0; i < n; i++) {
    int first = points[i].teacher == SIZE_MAX;
    for (size_t j = 0; j < i && first; j++)
      first = points[j].teacher != SIZE_MAX || !same_shape(&points[j], &points[i]);
    if (!first) continue;
    double w = 0;
    for (size_t j = i; j < n; j++)
      if (same_shape(&points[j], &points[i])) w += weight(&points[j]);
    if (w > best) {
      best = w;
      rep = i;
    }
  }
  if (rep == SIZE_MAX || !ctx) return 1;
  cls_context *ctx2 = NULL;
  char err[4096] = "";
  if (cls_context_create(second, &ctx2, err, sizeof err) != CLS_OK) {
    if (print)
      printf("\npoints at once on the device: 1 (a second context for the measurement failed: %.300s)\n", err);
    return 1;
  }
  size_t models = 1;
  if (group && group[rep] != SIZE_MAX) {
    models = 0;
    for (size_t j = 0; j < n; j++) models += group[j] == group[rep];
  }
  double alone, pair;
  cls_status st = cls_sweep_calibrate_pair(ctx, ctx2, s, &points[rep], models, &alone, &pair, err, sizeof err);
  cls_context_destroy(ctx2);
  const size_t k = st == CLS_OK && cls_sweep_pair_pays(alone, pair) ? 2 : 1;
  if (st == CLS_OK && alone > 0) *share = pair / (2.0 * alone);
  if (print) {
    const cls_sweep_point *p = &points[rep];
    printf(
        "\npoints at once on the device (--per-device auto, measured here on its heaviest shape, w%zu d%zu h%zu",
        p->shape.width, p->shape.depth, p->shape.heads);
    if (models > 1) printf(", %zu models side by side", models);
    if (st != CLS_OK)
      printf("): 1 (the measurement failed: %.300s)\n", err);
    else
      printf("): %zu (a step alone %.2f ms, each of two at once %.2f ms: two at once take %.0f%% of the time "
             "one after the other takes%s)\n",
             k, 1e3 * alone, 1e3 * pair, 100.0 * pair / (2.0 * alone), k == 2 ? "" : "; a tenth saved is the bar");
    fflush(stdout);
  }
  return k;
}
