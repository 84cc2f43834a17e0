/*
 * src/device/counters.c — launching kernels, and the per-op counters of
 * FLOPs, bytes and device time (with an optional Chrome trace).
 *
 * Reading an event's profiling times forces nothing, but an event must be
 * complete to have them; so launches keep their events in a pending list
 * that is resolved when someone asks for the counters, when the list is
 * full, or at cls_finish. The queue is never drained just to count.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/file.h"
#include "context_internal.h"

static int op_index(cls_context *ctx, const char *name) {
  cls_counters *c = &ctx->counters;
  for (size_t i = 0; i < c->op_count; i++)
    if (!strncmp(c->ops[i].name, name, sizeof c->ops[i].name - 1)) return (int)i;
  if (c->op_count == CLS_MAX_OP_COUNTERS) name = "other"; /* keep counting, under one name */
  for (size_t i = 0; i < c->op_count; i++)
    if (!strcmp(c->ops[i].name, name)) return (int)i;
  size_t i = c->op_count < CLS_MAX_OP_COUNTERS ? c->op_count++ : CLS_MAX_OP_COUNTERS - 1;
  memset(&c->ops[i], 0, sizeof c->ops[i]);
  snprintf(c->ops[i].name, sizeof c->ops[i].name, "%s", name);
  return (int)i;
}

static void add_trace(cls_context *ctx, int op, double start_ns, double end_ns) {
  if (!ctx->trace_enabled) return;
  if (ctx->trace_count == ctx->trace_cap) {
    size_t cap = ctx->trace_cap ? 2 * ctx->trace_cap : 1024;
    cls__trace_event *t = realloc(ctx->trace, cap * sizeof *t);
    if (!t) return; /* tracing is best effort; counters stay exact */
    ctx->trace = t;
    ctx->trace_cap = cap;
  }
  if (ctx->trace_count == 0) ctx->trace_origin_ns = start_ns;
  cls__trace_event *e = &ctx->trace[ctx->trace_count++];
  e->op = op;
  e->start_us = (start_ns - ctx->trace_origin_ns) / 1000.0;
  e->dur_us = (end_ns - start_ns) / 1000.0;
}

/* Adds [t0, t1] (device ns) to the busy union. Events are resolved in
 * the order they were enqueued, and an in-order queue starts a command
 * after the one before it ends, so intervals arrive sorted by start: the
 * union only needs the latest end. (A runtime that overlaps commands
 * would still be counted right: the overlap is added once.) */
static void add_busy(cls_context *ctx, double t0, double t1) {
  if (!ctx->busy_seen) {
    ctx->busy_seen = 1;
    ctx->busy_first_ns = ctx->busy_end_ns = t0;
  }
  if (t0 < ctx->busy_first_ns) ctx->busy_first_ns = t0;
  if (t1 <= ctx->busy_end_ns) return;
  const double from = t0 > ctx->busy_end_ns ? t0 : ctx->busy_end_ns;
  ctx->counters.busy_seconds += (t1 - from) * 1e-9;
  ctx->busy_end_ns = t1;
  ctx->counters.span_seconds = (ctx->busy_end_ns - ctx->busy_first_ns) * 1e-9;
}

/* Moves the times of completed events (all of them when wait) into the
 * counters, keeping the rest pending in order. */
static cls_status resolve(cls_context *ctx, int wait) {
  size_t kept = 0;
  cl_int first_error = CL_SUCCESS;
  for (size_t i = 0; i < ctx->pending_count; i++) {
    cls__pending p = ctx->pending[i];
    cl_int st = CL_COMPLETE;
    if (wait) {
      cl_int rc = clWaitForEvents(1, &p.event);
      if (rc != CL_SUCCESS && first_error == CL_SUCCESS) first_error = rc;
    } else {
      clGetEventInfo(p.event, CL_EVENT_COMMAND_EXECUTION_STATUS, sizeof st, &st, NULL);
    }
    if (!wait && st > CL_COMPLETE) { /* queued, submitted or running */
      ctx->pending[kept++] = p;
      continue;
    }
    if (st < 0 && first_error == CL_SUCCESS) first_error = st;
    cl_ulong t0 = 0, t1 = 0;
    /* A span starts where its marker completed (the work queued behind it). */
    cl_event first = p.start ? p.start : p.event;
    cl_profiling_info from = p.start ? CL_PROFILING_COMMAND_END : CL_PROFILING_COMMAND_START;
    if (clGetEventProfilingInfo(first, from, sizeof t0, &t0, NULL) == CL_SUCCESS &&
        clGetEventProfilingInfo(p.event, CL_PROFILING_COMMAND_END, sizeof t1, &t1, NULL) == CL_SUCCESS &&
        t1 >= t0) {
      double s = (double)(t1 - t0) * 1e-9;
      ctx->counters.ops[p.op].seconds += s;
      ctx->counters.seconds += s;
      add_busy(ctx, (double)t0, (double)t1);
      add_trace(ctx, p.op, (double)t0, (double)t1);
    }
    clReleaseEvent(p.event);
    if (p.start) clReleaseEvent(p.start);
  }
  ctx->pending_count = kept;
  if (first_error != CL_SUCCESS) return cls__cl_fail(ctx, first_error, "a queued command");
  return CLS_OK;
}

cls_status cls__resolve_pending(cls_context *ctx) {
  return resolve(ctx, 1);
}

static cls_status record(cls_context *ctx, const char *op, cl_event start, cl_event ev, double host_seconds,
                         double flops, double bytes);

cls_status cls__record(cls_context *ctx, const char *op, cl_event ev, double host_seconds, double flops,
                       double bytes) {
  return record(ctx, op, NULL, ev, host_seconds, flops, bytes);
}

cls_status cls__marker(cls_context *ctx, cl_event *out) {
  *out = NULL;
  cl_int rc = clEnqueueMarkerWithWaitList(ctx->queue, 0, NULL, out);
  return rc == CL_SUCCESS ? CLS_OK : cls__cl_fail(ctx, rc, "clEnqueueMarkerWithWaitList");
}

cls_status cls__record_span(cls_context *ctx, const char *op, cl_event start, cl_event end, double flops,
                            double bytes) {
  if (!end) {
    if (start) clReleaseEvent(start);
    return record(ctx, op, NULL, NULL, 0, flops, bytes);
  }
  return record(ctx, op, start, end, 0, flops, bytes);
}

int cls__counters_pause(cls_context *ctx, int paused) {
  int was = ctx->counters_paused;
  ctx->counters_paused = paused != 0;
  return was;
}

static cls_status record(cls_context *ctx, const char *op, cl_event start, cl_event ev, double host_seconds,
                         double flops, double bytes) {
  if (ctx->counters_paused) {
    if (ev) clReleaseEvent(ev);
    if (start) clReleaseEvent(start);
    return CLS_OK;
  }
  int i = op_index(ctx, op);
  cls_op_counter *c = &ctx->counters.ops[i];
  c->calls++;
  c->flops += flops;
  c->bytes += bytes;
  ctx->counters.flops += flops;
  ctx->counters.bytes += bytes;
  if (!ev) {
    c->seconds += host_seconds;
    ctx->counters.seconds += host_seconds;
    return CLS_OK;
  }
  ctx->counters.launches++;
  if (ctx->pending_count == CLS__MAX_PENDING) {
    cls_status s = resolve(ctx, 0);
    if (s == CLS_OK && ctx->pending_count == CLS__MAX_PENDING) s = resolve(ctx, 1);
    if (s != CLS_OK) {
      clReleaseEvent(ev);
      if (start) clReleaseEvent(start);
      return s;
    }
  }
  ctx->pending[ctx->pending_count].op = i;
  ctx->pending[ctx->pending_count].event = ev;
  ctx->pending[ctx->pending_count].start = start;
  ctx->pending_count++;
  return CLS_OK;
}

cls_status cls__launch(cls_context *ctx, const char *op, cl_kernel k, cl_uint dims, const size_t *global,
                       const size_t *local, double flops, double bytes) {
  cl_event ev = NULL;
  cl_int rc = clEnqueueNDRangeKernel(ctx->queue, k, dims, NULL, global, local, 0, NULL, &ev);
  if (rc != CL_SUCCESS) {
    char what[96];
    snprintf(what, sizeof what, "%s: clEnqueueNDRangeKernel", op);
    return cls__cl_fail(ctx, rc, what);
  }
  return cls__record(ctx, op, ev, 0, flops, bytes);
}

cls_status cls_counters_get(cls_context *ctx, cls_counters *out) {
  CLS_CHECK_CTX(ctx);
  if (!out) return cls__fail(ctx, CLS_ERR_NULL_ARGUMENT, "cls_counters_get: out is NULL");
  cl_int rc = clFinish(ctx->queue);
  cls_status s = resolve(ctx, 1);
  *out = ctx->counters;
  if (rc != CL_SUCCESS) return cls__cl_fail(ctx, rc, "cls_counters_get: clFinish");
  return s;
}

void cls_counters_reset(cls_context *ctx) {
  if (!ctx) return;
  clFinish(ctx->queue);
  resolve(ctx, 1);
  memset(&ctx->counters, 0, sizeof ctx->counters);
  ctx->busy_first_ns = ctx->busy_end_ns = 0;
  ctx->busy_seen = 0;
  ctx->trace_count = 0;
}

cls_status cls_trace_write(cls_context *ctx, const char *path) {
  CLS_CHECK_CTX(ctx);
  if (!path) return cls__fail(ctx, CLS_ERR_NULL_ARGUMENT, "cls_trace_write: path is NULL");
  if (!ctx->trace_enabled)
    return cls__fail(ctx, CLS_ERR_INVALID_VALUE,
                     "cls_trace_write: tracing is off; create the context with trace = 1");
  clFinish(ctx->queue);
  cls_status s = resolve(ctx, 1);
  if (s != CLS_OK) return s;
  /* Formatted in memory, then written in one atomic step. */
  char *text = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&text, &len);
  if (!f) return cls__fail(ctx, CLS_ERR_OUT_OF_MEMORY, "cls_trace_write: out of host memory");
  fprintf(f, "{\"displayTimeUnit\":\"ms\",\"otherData\":{\"device\":\"%s\"},\"traceEvents\":[", ctx->info.name);
  for (size_t i = 0; i < ctx->trace_count; i++) {
    const cls__trace_event *e = &ctx->trace[i];
    fprintf(f, "%s\n{\"name\":\"%s\",\"cat\":\"op\",\"ph\":\"X\",\"pid\":0,\"tid\":0,\"ts\":%.3f,\"dur\":%.3f}",
            i ? "," : "", ctx->counters.ops[e->op].name, e->start_us, e->dur_us);
  }
  fprintf(f, "\n]}\n");
  int ok = !ferror(f);
  ok = (fclose(f) == 0) && ok;
  char err[1200];
  s = ok ? cls_write_atomic(path, text, len, err, sizeof err) : CLS_ERR_OUT_OF_MEMORY;
  free(text);
  if (s == CLS_ERR_IO)
    return cls__fail(ctx, s, "cls_trace_write: %s: check the folder exists and is writable", err);
  return s == CLS_OK ? s : cls__fail(ctx, s, "cls_trace_write: out of host memory");
}

static int by_time_desc(const void *a, const void *b) {
  double x = ((const cls_op_counter *)a)->seconds, y = ((const cls_op_counter *)b)->seconds;
  return (x < y) - (x > y);
}

void cls_counters_summary(const cls_counters *c, char *out, size_t out_len) {
  if (!out || !out_len) return;
  out[0] = 0;
  if (!c) return;
  cls_op_counter ops[CLS_MAX_OP_COUNTERS];
  size_t n = c->op_count < CLS_MAX_OP_COUNTERS ? c->op_count : CLS_MAX_OP_COUNTERS;
  memcpy(ops, c->ops, n * sizeof ops[0]);
  qsort(ops, n, sizeof ops[0], by_time_desc);
  size_t used = 0;
#define APPEND(...)                                                                                               \
  do {                                                                                                            \
    if (used < out_len) {                                                                                         \
      int w_ = snprintf(out + used, out_len - used, __VA_ARGS__);                                                 \
      if (w_ > 0) used += (size_t)w_;                                                                             \
    }                                                                                                             \
  } while (0)
  APPEND("%-24s %9s %10s %6s %10s %9s\n", "op", "calls", "seconds", "share", "GFLOP/s", "GB/s");
  for (size_t i = 0; i < n; i++) {
    const cls_op_counter *o = &ops[i];
    double share = c->seconds > 0 ? 100.0 * o->seconds / c->seconds : 0;
    double gf = o->seconds > 0 ? o->flops / o->seconds * 1e-9 : 0;
    double gb = o->seconds > 0 ? o->bytes / o->seconds * 1e-9 : 0;
    APPEND("%-24s %9llu %10.4f %5.1f%% %10.2f %9.2f\n", o->name, (unsigned long long)o->calls, o->seconds, share,
           gf, gb);
  }
  APPEND("%-24s %9s %10.4f %6s %10.2f %9.2f\n", "total", "", c->seconds, "",
         c->seconds > 0 ? c->flops / c->seconds * 1e-9 : 0, c->seconds > 0 ? c->bytes / c->seconds * 1e-9 : 0);
#undef APPEND
}
