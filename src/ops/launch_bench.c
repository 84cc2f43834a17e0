/* src/ops/launch_bench.c — what one kernel launch costs (see bench.h): the
 * floor under every small model's step, which runs hundreds of them. On a
 * CPU runtime the cost depends on the width: a one-item kernel runs on the
 * enqueuing thread's worker alone, one that spans the compute units wakes
 * and joins them all, so the bench times both. */
#include <string.h>

#include "core/clock.h"
#include "device/layer.h"
#include "ops/bench.h"

/* The device seconds and calls of op in c (0 when absent). */
static void op_time(const cls_counters *c, const char *op, double *seconds, double *calls) {
  *seconds = 0, *calls = 0;
  for (size_t i = 0; i < c->op_count; i++)
    if (strcmp(c->ops[i].name, op) == 0) *seconds = c->ops[i].seconds, *calls = (double)c->ops[i].calls;
}

cls_status cls_launch_time(cls_context *ctx, size_t items, int launches, double *host_seconds,
                           double *device_seconds) {
  CLS_CHECK_CTX(ctx);
  if (!host_seconds || !device_seconds)
    return cls__fail(ctx, CLS_ERR_NULL_ARGUMENT, "cls_launch_time: an output pointer is NULL");
  if (launches < 1 || items < 1)
    return cls__fail(ctx, CLS_ERR_INVALID_SIZE,
                     "cls_launch_time: launches is %d and items %zu; both must be at least 1", launches, items);
  cls_buffer *one = NULL;
  cls_status s = cls_buffer_alloc(ctx, items, &one);
  if (s == CLS_OK) s = cls_buffer_fill(ctx, one, 0, items, 1.0f);
  /* A real op that does next to nothing: x *= 1 over `items` floats. Two
   * untimed calls build and warm its kernel. */
  for (int i = 0; i < 2 && s == CLS_OK; i++) s = cls_scale(ctx, items, 1.0f, cls_ref_at(one, 0));
  if (s == CLS_OK) s = cls_finish(ctx);
  cls_counters before, after;
  if (s == CLS_OK) s = cls_counters_get(ctx, &before);
  double t0 = cls_now();
  for (int i = 0; i < launches && s == CLS_OK; i++) s = cls_scale(ctx, items, 1.0f, cls_ref_at(one, 0));
  if (s == CLS_OK) s = cls_finish(ctx);
  double wall = cls_now() - t0;
  if (s == CLS_OK) s = cls_counters_get(ctx, &after);
  if (s == CLS_OK) {
    double s0, c0, s1, c1;
    op_time(&before, "scale", &s0, &c0);
    op_time(&after, "scale", &s1, &c1);
    *host_seconds = wall / launches;
    /* Without profiling events (or an op table full) the device time is
     * unknown rather than zero. */
    *device_seconds = c1 - c0 >= launches ? (s1 - s0) / (c1 - c0) : -1.0;
  }
  cls_buffer_free(one);
  return s;
}
