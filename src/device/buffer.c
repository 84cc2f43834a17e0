/*
 * src/device/buffer.c — device buffers with size accounting, host copies,
 * and the argument checks every op shares.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "context_internal.h"
#include "core/fault.h"

cls_status cls_buffer_alloc(cls_context *ctx, size_t count, cls_buffer **out) {
  CLS_CHECK_CTX(ctx);
  if (!out) return cls__fail(ctx, CLS_ERR_NULL_ARGUMENT, "cls_buffer_alloc: out is NULL");
  *out = NULL;
  if (count == 0)
    return cls__fail(ctx, CLS_ERR_INVALID_SIZE, "cls_buffer_alloc: count is 0; allocate at least 1 float");
  if (count > SIZE_MAX / sizeof(float))
    return cls__fail(ctx, CLS_ERR_INVALID_SIZE, "cls_buffer_alloc: %zu floats overflow the address space", count);
  uint64_t bytes = (uint64_t)count * sizeof(float);
  /* Ask before the driver does: some drivers accept an oversized request
   * and fail later inside a kernel, far from the cause. */
  if (ctx->info.max_alloc_bytes && bytes > ctx->info.max_alloc_bytes)
    return cls__fail(
        ctx, CLS_ERR_OUT_OF_MEMORY,
        "cls_buffer_alloc: %.1f MiB is more than the largest buffer %s allows (%.1f MiB); use smaller "
        "batches or models",
        bytes / 1048576.0, ctx->info.name, ctx->info.max_alloc_bytes / 1048576.0);
  if (ctx->info.global_mem_bytes && ctx->memory.live_bytes + bytes > ctx->info.global_mem_bytes)
    return cls__fail(
        ctx, CLS_ERR_OUT_OF_MEMORY,
        "cls_buffer_alloc: %.1f MiB more would exceed the %.1f MiB of %s (%.1f MiB in use); use smaller "
        "batches or models",
        bytes / 1048576.0, ctx->info.global_mem_bytes / 1048576.0, ctx->info.name,
        ctx->memory.live_bytes / 1048576.0);
  cls_buffer *b = calloc(1, sizeof *b);
  if (!b) return cls__fail(ctx, CLS_ERR_OUT_OF_MEMORY, "cls_buffer_alloc: out of host memory");
  if (cls_fault(CLS_FAULT_ALLOC, "device buffer")) {
    free(b);
    return cls__fail(ctx, CLS_ERR_OUT_OF_MEMORY, "cls_buffer_alloc: the device refused %.1f MiB (%s)",
                     bytes / 1048576.0, cls_fault_said(CLS_FAULT_ALLOC));
  }
  cl_int rc;
  b->mem = clCreateBuffer(ctx->cl, CL_MEM_READ_WRITE, (size_t)bytes, NULL, &rc);
  if (!b->mem || rc != CL_SUCCESS) {
    free(b);
    return cls__fail(ctx, CLS_ERR_OUT_OF_MEMORY,
                     "cls_buffer_alloc: the device refused %.1f MiB (%s); use smaller batches or models",
                     bytes / 1048576.0, cls_status_name(rc));
  }
  b->ctx = ctx;
  b->count = count;
  ctx->memory.live_bytes += bytes;
  ctx->memory.live_buffers++;
  if (ctx->memory.live_bytes > ctx->memory.peak_bytes) ctx->memory.peak_bytes = ctx->memory.live_bytes;
  *out = b;
  return CLS_OK;
}

void cls_buffer_free(cls_buffer *b) {
  if (!b) return;
  if (b->ctx) {
    b->ctx->memory.live_bytes -= (uint64_t)b->count * sizeof(float);
    b->ctx->memory.live_buffers--;
  }
  if (b->mem) clReleaseMemObject(b->mem);
  free(b);
}

size_t cls_buffer_count(const cls_buffer *b) {
  return b ? b->count : 0;
}

void cls_memory_usage_get(const cls_context *ctx, cls_memory_usage *out) {
  if (!out) return;
  memset(out, 0, sizeof *out);
  if (ctx) *out = ctx->memory;
}

/* Checks a host copy's range; fn names the caller in the message. */
static cls_status check_range(cls_context *ctx, const char *fn, const cls_buffer *b, size_t offset, size_t count,
                              const void *host) {
  if (!b || !host)
    return cls__fail(ctx, CLS_ERR_NULL_ARGUMENT, "%s: %s is NULL", fn, b ? "the host pointer" : "buffer");
  if (b->ctx != ctx) return cls__fail(ctx, CLS_ERR_WRONG_CONTEXT, "%s: the buffer belongs to another context", fn);
  if (count == 0) return cls__fail(ctx, CLS_ERR_INVALID_SIZE, "%s: count is 0", fn);
  if (offset > b->count || count > b->count - offset)
    return cls__fail(ctx, CLS_ERR_BUFFER_TOO_SMALL, "%s: floats [%zu, %zu) are outside the buffer of %zu floats",
                     fn, offset, offset + count, b->count);
  return CLS_OK;
}

cls_status cls_buffer_write(cls_context *ctx, cls_buffer *b, size_t offset, size_t count, const float *src) {
  CLS_CHECK_CTX(ctx);
  cls_status s = check_range(ctx, "cls_buffer_write", b, offset, count, src);
  if (s != CLS_OK) return s;
  cl_int rc = clEnqueueWriteBuffer(ctx->queue, b->mem, CL_TRUE, offset * sizeof(float), count * sizeof(float), src,
                                   0, NULL, NULL);
  return rc == CL_SUCCESS ? CLS_OK : cls__cl_fail(ctx, rc, "cls_buffer_write: clEnqueueWriteBuffer");
}

cls_status cls_buffer_read(cls_context *ctx, const cls_buffer *b, size_t offset, size_t count, float *dst) {
  CLS_CHECK_CTX(ctx);
  cls_status s = check_range(ctx, "cls_buffer_read", b, offset, count, dst);
  if (s != CLS_OK) return s;
  cl_int rc = clEnqueueReadBuffer(ctx->queue, b->mem, CL_TRUE, offset * sizeof(float), count * sizeof(float), dst,
                                  0, NULL, NULL);
  return rc == CL_SUCCESS ? CLS_OK : cls__cl_fail(ctx, rc, "cls_buffer_read: clEnqueueReadBuffer");
}

struct cls_transfer {
  cls_context *ctx;
  cl_event ev;
};

/* The handle of a queued copy; submits the queue so that the copy starts
 * without waiting for the next blocking call. */
static cls_status transfer_of(cls_context *ctx, cl_event ev, const char *fn, cls_transfer **done) {
  cls_transfer *t = malloc(sizeof *t);
  if (!t) {
    clWaitForEvents(1, &ev); /* the host memory must not be released under the copy */
    clReleaseEvent(ev);
    return cls__fail(ctx, CLS_ERR_OUT_OF_MEMORY, "%s: out of host memory", fn);
  }
  t->ctx = ctx;
  t->ev = ev;
  clFlush(ctx->queue);
  *done = t;
  return CLS_OK;
}

cls_status cls_buffer_write_async(cls_context *ctx, cls_buffer *b, size_t offset, size_t count, const float *src,
                                  cls_transfer **done) {
  CLS_CHECK_CTX(ctx);
  if (!done) return cls__fail(ctx, CLS_ERR_NULL_ARGUMENT, "cls_buffer_write_async: done is NULL");
  *done = NULL;
  cls_status s = check_range(ctx, "cls_buffer_write_async", b, offset, count, src);
  if (s != CLS_OK) return s;
  cl_event ev = NULL;
  cl_int rc = clEnqueueWriteBuffer(ctx->queue, b->mem, CL_FALSE, offset * sizeof(float), count * sizeof(float),
                                   src, 0, NULL, &ev);
  if (rc != CL_SUCCESS) return cls__cl_fail(ctx, rc, "cls_buffer_write_async: clEnqueueWriteBuffer");
  return transfer_of(ctx, ev, "cls_buffer_write_async", done);
}

cls_status cls_buffer_read_async(cls_context *ctx, const cls_buffer *b, size_t offset, size_t count, float *dst,
                                 cls_transfer **done) {
  CLS_CHECK_CTX(ctx);
  if (!done) return cls__fail(ctx, CLS_ERR_NULL_ARGUMENT, "cls_buffer_read_async: done is NULL");
  *done = NULL;
  cls_status s = check_range(ctx, "cls_buffer_read_async", b, offset, count, dst);
  if (s != CLS_OK) return s;
  cl_event ev = NULL;
  cl_int rc = clEnqueueReadBuffer(ctx->queue, b->mem, CL_FALSE, offset * sizeof(float), count * sizeof(float), dst,
                                  0, NULL, &ev);
  if (rc != CL_SUCCESS) return cls__cl_fail(ctx, rc, "cls_buffer_read_async: clEnqueueReadBuffer");
  return transfer_of(ctx, ev, "cls_buffer_read_async", done);
}

cls_status cls_transfer_wait(cls_transfer *t) {
  if (!t) return CLS_OK;
  cl_int rc = clWaitForEvents(1, &t->ev);
  cl_int st = CL_COMPLETE;
  if (rc == CL_SUCCESS) clGetEventInfo(t->ev, CL_EVENT_COMMAND_EXECUTION_STATUS, sizeof st, &st, NULL);
  clReleaseEvent(t->ev);
  cls_context *ctx = t->ctx;
  free(t);
  if (rc != CL_SUCCESS) return cls__cl_fail(ctx, rc, "cls_transfer_wait: clWaitForEvents");
  if (st < 0) return cls__cl_fail(ctx, st, "cls_transfer_wait: the copy");
  return CLS_OK;
}

cls_status cls_buffer_fill(cls_context *ctx, cls_buffer *b, size_t offset, size_t count, float value) {
  CLS_CHECK_CTX(ctx);
  cls_status s = check_range(ctx, "cls_buffer_fill", b, offset, count, &value);
  if (s != CLS_OK) return s;
  cl_event ev = NULL;
  cl_int rc = clEnqueueFillBuffer(ctx->queue, b->mem, &value, sizeof value, offset * sizeof(float),
                                  count * sizeof(float), 0, NULL, &ev);
  if (rc != CL_SUCCESS) return cls__cl_fail(ctx, rc, "cls_buffer_fill: clEnqueueFillBuffer");
  return cls__record(ctx, "fill", ev, 0, 0, (double)count * sizeof(float));
}

cls_status cls_buffer_copy(cls_context *ctx, const cls_buffer *src, size_t src_offset, cls_buffer *dst,
                           size_t dst_offset, size_t count) {
  CLS_CHECK_CTX(ctx);
  cls_status s = check_range(ctx, "cls_buffer_copy (source)", src, src_offset, count, src);
  if (s == CLS_OK) s = check_range(ctx, "cls_buffer_copy (destination)", dst, dst_offset, count, dst);
  if (s != CLS_OK) return s;
  if (src == dst && src_offset < dst_offset + count && dst_offset < src_offset + count)
    return cls__fail(ctx, CLS_ERR_INVALID_VALUE, "cls_buffer_copy: source and destination ranges overlap");
  cl_event ev = NULL;
  cl_int rc = clEnqueueCopyBuffer(ctx->queue, src->mem, dst->mem, src_offset * sizeof(float),
                                  dst_offset * sizeof(float), count * sizeof(float), 0, NULL, &ev);
  if (rc != CL_SUCCESS) return cls__cl_fail(ctx, rc, "cls_buffer_copy: clEnqueueCopyBuffer");
  return cls__record(ctx, "copy", ev, 0, 0, 2.0 * (double)count * sizeof(float));
}

/* ------------------------------------------------------ checks for ops */

cls_status cls__check_ref(cls_context *ctx, const char *fn, const char *arg, cls_ref r, size_t needed) {
  if (!r.buf) return cls__fail(ctx, CLS_ERR_NULL_ARGUMENT, "%s: %s is NULL", fn, arg);
  if (r.buf->ctx != ctx)
    return cls__fail(ctx, CLS_ERR_WRONG_CONTEXT, "%s: %s belongs to another context", fn, arg);
  if (r.offset > r.buf->count || needed > r.buf->count - r.offset)
    return cls__fail(ctx, CLS_ERR_BUFFER_TOO_SMALL,
                     "%s: %s needs %zu floats from offset %zu but its buffer holds %zu; allocate more or fix the "
                     "shape",
                     fn, arg, needed, r.offset, r.buf->count);
  return CLS_OK;
}

cls_status cls__check_matrix(cls_context *ctx, const char *fn, const char *arg, cls_ref r, size_t rows,
                             size_t cols, size_t ld, size_t stride, size_t batch) {
  if (!r.buf) return cls__fail(ctx, CLS_ERR_NULL_ARGUMENT, "%s: %s is NULL", fn, arg);
  if (rows == 0 || cols == 0 || batch == 0)
    return cls__fail(ctx, CLS_ERR_INVALID_SIZE, "%s: %s has an empty shape (%zu x %zu, batch %zu)", fn, arg, rows,
                     cols, batch);
  if (ld < cols)
    return cls__fail(ctx, CLS_ERR_LEADING_DIM, "%s: leading dimension of %s is %zu but its rows hold %zu floats",
                     fn, arg, ld, cols);
  /* Sizes beyond 2^31 would overflow the kernels' 32-bit index arithmetic. */
  const double limit = 2147483647.0;
  double span = (double)(rows - 1) * (double)ld + (double)cols + (double)(batch - 1) * (double)stride;
  if (span > limit)
    return cls__fail(ctx, CLS_ERR_INVALID_SIZE, "%s: %s spans %.0f floats; the limit is 2^31-1", fn, arg, span);
  return cls__check_ref(ctx, fn, arg, r, (size_t)span);
}

cls_status cls__check_alias(cls_context *ctx, const char *fn, const char *out_name, cls_ref out, size_t n_out,
                            const char *in_name, cls_ref in, size_t n_in, int alias_ok) {
  if (!out.buf || out.buf != in.buf) return CLS_OK;
  if (!(out.offset < in.offset + n_in && in.offset < out.offset + n_out)) return CLS_OK;
  if (alias_ok && out.offset == in.offset && n_out == n_in) return CLS_OK;
  return cls__fail(ctx, CLS_ERR_INVALID_VALUE,
                   "%s: %s (offset %zu) overlaps %s (offset %zu); give it separate memory%s", fn, out_name,
                   out.offset, in_name, in.offset, alias_ok ? " or exactly the same offset" : "");
}

cls_status cls__check_alias_parts(cls_context *ctx, const char *fn, const char *out_name, cls_ref out,
                                  size_t n_out, const char *in_name, cls_ref in, size_t n_in, size_t models,
                                  size_t stride) {
  if (models <= 1) return cls__check_alias(ctx, fn, out_name, out, n_out, in_name, in, n_in, 0);
  if (!out.buf || out.buf != in.buf) return CLS_OK;
  /* Part i of out meets part j of in when d + (i - j) stride lies in
   * (-n_out, n_in), d = out - in: one test for each difference i - j. */
  const double d = (double)out.offset - (double)in.offset, st = (double)stride;
  for (double j = -(double)(models - 1); j <= (double)(models - 1); j++) {
    const double at = d + j * st;
    if (at < (double)n_in && at > -(double)n_out)
      return cls__fail(ctx, CLS_ERR_INVALID_VALUE,
                       "%s: a model's %s (offset %zu) overlaps a model's %s (offset %zu; %zu models %zu floats "
                       "apart); give them separate memory",
                       fn, out_name, out.offset, in_name, in.offset, models, stride);
  }
  return CLS_OK;
}

/* --------------------------------------------------- kernel arguments */

static cls_status arg(cls_context *ctx, cl_kernel k, cl_uint i, size_t size, const void *value) {
  cl_int rc = clSetKernelArg(k, i, size, value);
  if (rc != CL_SUCCESS) {
    char what[64];
    snprintf(what, sizeof what, "clSetKernelArg(%u)", i);
    return cls__cl_fail(ctx, rc, what);
  }
  return CLS_OK;
}

cls_status cls__arg_mem(cls_context *ctx, cl_kernel k, cl_uint i, const cls_buffer *b) {
  return arg(ctx, k, i, sizeof(cl_mem), &b->mem);
}
cls_status cls__arg_uint(cls_context *ctx, cl_kernel k, cl_uint i, size_t v) {
  if (v > UINT32_MAX)
    return cls__fail(ctx, CLS_ERR_INVALID_SIZE, "kernel argument %u is %zu, beyond 32 bits", i, v);
  cl_uint u = (cl_uint)v;
  return arg(ctx, k, i, sizeof u, &u);
}
cls_status cls__arg_int(cls_context *ctx, cl_kernel k, cl_uint i, int v) {
  cl_int x = v;
  return arg(ctx, k, i, sizeof x, &x);
}
cls_status cls__arg_float(cls_context *ctx, cl_kernel k, cl_uint i, float v) {
  return arg(ctx, k, i, sizeof v, &v);
}
cls_status cls__arg_local(cls_context *ctx, cl_kernel k, cl_uint i, size_t bytes) {
  return arg(ctx, k, i, bytes, NULL);
}
