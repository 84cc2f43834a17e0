/*
 * src/ops/matmul_host.c — the host backend: on CPU devices, whose buffers
 * live in host memory, map the buffers (blocking, which also waits for
 * earlier commands; no copies on such devices) and call the host BLAS
 * (OpenBLAS through CBLAS) once per batch entry, then unmap.
 *
 * Each distinct buffer is mapped once, over the range the call touches, so
 * that operands sharing a slab never have overlapping mappings; the buffer
 * holding C is mapped for writing. The time is measured on the host around
 * the BLAS calls and recorded without an event.
 *
 * OpenBLAS built with DYNAMIC_ARCH picks its CPU kernels when it loads, by
 * CPU model; a model newer than the library (seen: 0.3.21 on a Xeon of
 * model 207) falls back to its slowest kernels (Prescott, about 1/4 of the
 * speed). Setting OPENBLAS_CORETYPE (e.g. SkylakeX, Haswell) before the
 * program starts fixes it; cls__mm_host_blas() shows which were picked.
 */
#include <cblas.h>

#include "ops/matmul.h"
#include "core/clock.h"

const char *cls__mm_host_blas(void) {
  const char *config = openblas_get_config();
  return config ? config : "unknown";
}

int cls__mm_host_available(const cls_context *ctx) {
  const cls_device_info *d = cls_context_device(ctx);
  return d && d->type == CLS_DEVICE_CPU;
}

typedef struct mapping {
  cls_buffer *buf;
  size_t lo, hi; /* float range [lo, hi) */
  int write;
  float *ptr; /* mapped address of float lo */
} mapping;

/* Adds the range of one operand to the mapping of its buffer. */
static void want(mapping *maps, int *count, cls_buffer *buf, size_t lo, size_t hi, int write) {
  for (int i = 0; i < *count; i++)
    if (maps[i].buf == buf) {
      if (lo < maps[i].lo) maps[i].lo = lo;
      if (hi > maps[i].hi) maps[i].hi = hi;
      maps[i].write |= write;
      return;
    }
  mapping m = {buf, lo, hi, write, NULL};
  maps[(*count)++] = m;
}

static float *address(const mapping *maps, int count, cls_ref r) {
  for (int i = 0; i < count; i++)
    if (maps[i].buf == r.buf) return maps[i].ptr + (r.offset - maps[i].lo);
  return NULL;
}

/* Floats an operand spans: rows x cols with ld, and the batch. */
static size_t span(size_t rows, size_t cols, size_t ld, size_t stride, size_t batch) {
  return (rows - 1) * ld + cols + (batch - 1) * stride;
}

cls_status cls__mm_host(cls_context *ctx, const cls__mm_args *g) {
  if (!cls__mm_host_available(ctx))
    return cls__fail(ctx, CLS_ERR_BACKEND_UNAVAILABLE,
                     "cls_matmul (host): the host backend needs a CPU device, and %s is not one; use own, clblast "
                     "or auto",
                     cls_context_device(ctx)->name);
  size_t ar = g->ta ? g->k : g->m, ac = g->ta ? g->m : g->k;
  size_t br = g->tb ? g->n : g->k, bc = g->tb ? g->k : g->n;
  mapping maps[3];
  int count = 0;
  want(maps, &count, g->a.buf, g->a.offset, g->a.offset + span(ar, ac, g->lda, g->stride_a, g->batch), 0);
  want(maps, &count, g->b.buf, g->b.offset, g->b.offset + span(br, bc, g->ldb, g->stride_b, g->batch), 0);
  want(maps, &count, g->c.buf, g->c.offset, g->c.offset + span(g->m, g->n, g->ldc, g->stride_c, g->batch), 1);

  cl_command_queue q = cls__queue(ctx);
  cl_int rc = CL_SUCCESS;
  int mapped = 0;
  for (; mapped < count; mapped++) {
    mapping *m = &maps[mapped];
    cl_map_flags flags = m->write ? (CL_MAP_READ | CL_MAP_WRITE) : CL_MAP_READ;
    m->ptr = clEnqueueMapBuffer(q, m->buf->mem, CL_TRUE, flags, m->lo * sizeof(float),
                                (m->hi - m->lo) * sizeof(float), 0, NULL, NULL, &rc);
    if (rc != CL_SUCCESS || !m->ptr) break;
  }
  double seconds = 0;
  if (mapped == count) {
    const float *a = address(maps, count, g->a), *b = address(maps, count, g->b);
    float *c = address(maps, count, g->c);
    enum CBLAS_TRANSPOSE ta = g->ta ? CblasTrans : CblasNoTrans, tb = g->tb ? CblasTrans : CblasNoTrans;
    double t0 = cls_now();
    for (size_t i = 0; i < g->batch; i++)
      cblas_sgemm(CblasRowMajor, ta, tb, (blasint)g->m, (blasint)g->n, (blasint)g->k, g->alpha,
                  a + i * g->stride_a, (blasint)g->lda, b + i * g->stride_b, (blasint)g->ldb, g->beta,
                  c + i * g->stride_c, (blasint)g->ldc);
    seconds = cls_now() - t0;
  }
  cl_int unmap_rc = CL_SUCCESS;
  for (int i = 0; i < mapped; i++) {
    cl_int r = clEnqueueUnmapMemObject(q, maps[i].buf->mem, maps[i].ptr, 0, NULL, NULL);
    if (r != CL_SUCCESS && unmap_rc == CL_SUCCESS) unmap_rc = r;
  }
  if (mapped != count)
    return cls__cl_fail(ctx, rc != CL_SUCCESS ? rc : CL_INVALID_VALUE, "cls_matmul (host): clEnqueueMapBuffer");
  if (unmap_rc != CL_SUCCESS) return cls__cl_fail(ctx, unmap_rc, "cls_matmul (host): clEnqueueUnmapMemObject");
  return cls__record(ctx, "matmul.host", NULL, seconds, cls__mm_flops(g), cls__mm_bytes(g));
}
