/* tools/sweep_groups.c — see sweep_groups.h. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format.h"
#include "sweep/calibrate.h"
#include "sweep_groups.h"

enum { MODELS = 8, STEPS = 8 };

int cls_side_parse(const char *text, cls_side_mode *mode) {
  if (!text || !strcmp(text, "auto"))
    *mode = CLS_SIDE_AUTO;
  else if (!strcmp(text, "on"))
    *mode = CLS_SIDE_ON;
  else if (!strcmp(text, "off"))
    *mode = CLS_SIDE_OFF;
  else
    return 0;
  return 1;
}

/* Step times measured so far, one entry per shape and group size: groups
 * of one shape that differ only in parametrisation or task settings of
 * the same cost share them (and a second measurement's noise). */
typedef struct {
  size_t width, depth, heads, models;
  double t1, tn;        /* seconds a step: one model, the group's models */
  double flops, tokens; /* of one model's step */
} timing;

/* Whether the group of points `members[0..m)` pays on ctx; why, into why. */
static int measure(cls_context *ctx, const cls_sweep_spec *s, const cls_sweep_point *points, const size_t *members,
                   size_t m, timing *seen, size_t *n_seen, char *why, size_t why_len) {
  char err[2048] = "";
  const cls_sweep_point *first = &points[members[0]];
  double alone = 0, together = 0;
  timing *t = NULL;
  for (size_t i = 0; i < *n_seen && !t; i++)
    if (seen[i].width == first->shape.width && seen[i].depth == first->shape.depth &&
        seen[i].heads == first->shape.heads && seen[i].models == m)
      t = &seen[i];
  cls_status st = CLS_OK;
  if (!t) {
    timing fresh = {first->shape.width, first->shape.depth, first->shape.heads, m, 0, 0, 0, 0};
    cls_models_timing one, all;
    st = cls_sweep_calibrate_models(ctx, s, first, 1, &one, err, sizeof err);
    if (st == CLS_OK) st = cls_sweep_calibrate_models(ctx, s, first, m, &all, err, sizeof err);
    if (st == CLS_OK) {
      fresh.t1 = one.seconds_per_step;
      fresh.tn = all.seconds_per_step;
      fresh.flops = one.flops_per_model_step;
      fresh.tokens = one.tokens_per_model_step;
      seen[*n_seen] = fresh;
      t = &seen[(*n_seen)++];
    }
  }
  if (st != CLS_OK) {
    snprintf(why, why_len, "alone (the measurement failed: %.300s)", err);
    return 0;
  }
  /* The points' steps from one model's FLOPs and tokens a step. */
  cls_sweep_calibration cal;
  memset(&cal, 0, sizeof cal);
  cal.flops_per_step = t->flops;
  cal.tokens_per_step = t->tokens;
  uint64_t steps[MODELS];
  for (size_t k = 0; k < m; k++) {
    cls_sweep_estimate e;
    cls_sweep_estimate_point(s, &points[members[k]], &cal, &e);
    steps[k] = e.steps;
  }
  const int pays = cls_sweep_group_pays(steps, m, t->t1, t->tn, &alone, &together);
  char a[32], b[32];
  cls_fmt_duration(alone, a, sizeof a);
  cls_fmt_duration(together, b, sizeof b);
  snprintf(why, why_len, "%s (a step: 1 model %.2f ms, %zu models %.2f ms; steps alone %s, together %s)",
           pays ? "together" : "alone, saves under a tenth", 1e3 * t->t1, m, 1e3 * t->tn, a, b);
  return pays;
}

void cls_side_decide(cls_context *ctx, const cls_sweep_spec *s, const cls_sweep_point *points, size_t n,
                     cls_side_mode mode, int print, size_t *group) {
  size_t *cand = malloc((n ? n : 1) * sizeof *cand);
  for (size_t i = 0; i < n; i++) group[i] = SIZE_MAX;
  if (!cand || mode == CLS_SIDE_OFF) {
    free(cand);
    return;
  }
  const size_t groups = cls_sweep_groups(s, points, n, MODELS, cand);
  timing *seen = malloc((groups ? groups : 1) * sizeof *seen);
  size_t n_seen = 0;
  int heading = 0;
  for (size_t g = 0; g < groups; g++) {
    size_t members[MODELS], m = 0;
    for (size_t i = 0; i < n && m < MODELS; i++)
      if (cand[i] == g) members[m++] = i;
    if (m < 2) continue;
    char why[600];
    snprintf(why, sizeof why, "%s",
             mode == CLS_SIDE_ON ? "together (--side-by-side on)" : "alone (no device to measure on)");
    const int keep = mode == CLS_SIDE_ON ||
                     (ctx && seen && measure(ctx, s, points, members, m, seen, &n_seen, why, sizeof why));
    for (size_t k = 0; keep && k < m; k++) group[members[k]] = g;
    if (!print) continue;
    if (!heading++)
      printf("\nside by side (one batched model per group of points of one shape; --side-by-side %s):\n",
             mode == CLS_SIDE_ON ? "on" : "auto, measured here");
    const cls_sweep_point *p = &points[members[0]];
    printf("  w%zu d%zu h%zu, %zu models: %s\n   ", p->shape.width, p->shape.depth, p->shape.heads, m, why);
    for (size_t k = 0; k < m; k++) printf(" %s", points[members[k]].id);
    printf("\n");
  }
  if (heading) fflush(stdout);
  free(seen);
  free(cand);
}
