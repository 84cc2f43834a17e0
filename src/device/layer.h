/*
 * src/device/layer.h — what the device layer offers the layers above it
 * inside the library (ops, nn, ...). Not installed; not a public API: the
 * commands in tools/ use the public headers (and the layers' bench headers)
 * instead. The context structure itself is private to src/device/
 * (context_internal.h).
 *
 * An op is written as:
 *
 *   cls_status cls_foo(cls_context *ctx, ...) {
 *     CLS_CHECK_CTX(ctx);
 *     ... validate every argument: return cls__fail(ctx, CLS_ERR_..., "cls_foo: ...");
 *     cl_kernel k;
 *     cls_status s = cls__kernel(ctx, "foo", "foo_forward", &k);   // cl/foo.cl
 *     if (s != CLS_OK) return s;
 *     clSetKernelArg(...)                                         // via cls__arg_* helpers
 *     return cls__launch(ctx, "foo_fwd", k, 1, global, local, flops, bytes);
 *   }
 */
#ifndef CLSCALE_DEVICE_LAYER_H
#define CLSCALE_DEVICE_LAYER_H

#define CL_TARGET_OPENCL_VERSION 120
#define CL_USE_DEPRECATED_OPENCL_1_2_APIS
#include <CL/cl.h>
#include <stdarg.h>

#include "clscale/device.h"

struct cls_buffer {
  cls_context *ctx;
  cl_mem mem;
  size_t count; /* floats */
};

/* Sets the context's last-error message (printf-style) and returns status,
 * so that a check reads: return cls__fail(ctx, CLS_ERR_INVALID_SIZE, "...");
 * The message should say which call, which argument, and what to do. */
cls_status cls__fail(cls_context *ctx, cls_status status, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* Turns an OpenCL error from call `what` into a status with a message. */
cls_status cls__cl_fail(cls_context *ctx, cl_int err, const char *what);

/* Returns CLS_ERR_NULL_ARGUMENT from the calling function when ctx is NULL. */
#define CLS_CHECK_CTX(ctx)                                                                                        \
  do {                                                                                                            \
    if ((ctx) == NULL) return CLS_ERR_NULL_ARGUMENT;                                                              \
  } while (0)

/* The kernel `kernel` of program `program` (cl/<program>.cl), built on first
 * use with the device's -D parameters and cached (in memory and on disk).
 * The cl_kernel stays owned by the context; it is shared, so set all its
 * arguments right before each launch. */
cls_status cls__kernel(cls_context *ctx, const char *program, const char *kernel, cl_kernel *out);

/* The largest work-group the device runs k with (at least 1). */
cls_status cls__kernel_max_group(cls_context *ctx, cl_kernel k, size_t *out);

/* Enqueues k and adds flops/bytes to op's counters; its profiling event
 * is kept and resolved later into the op's time (and trace). local may be
 * NULL. Global sizes must be multiples of local sizes (the caller rounds up
 * and bounds-checks in the kernel). */
cls_status cls__launch(cls_context *ctx, const char *op, cl_kernel k, cl_uint dims, const size_t *global,
                       const size_t *local, double flops, double bytes);

/* For work not launched by cls__launch (CLBlast calls, host BLAS): record an
 * op with its event (ownership passes to the context; may be NULL) or with a
 * host-measured duration when event is NULL. */
cls_status cls__record(cls_context *ctx, const char *op, cl_event event, double host_seconds, double flops,
                       double bytes);

/* For a library call that enqueues several kernels and returns only the
 * last one's event (CLBlast): take a marker event first with
 * cls__marker, then record the op as the span from the marker to the
 * returned event. Both events pass to the context. */
cls_status cls__marker(cls_context *ctx, cl_event *out);
cls_status cls__record_span(cls_context *ctx, const char *op, cl_event start, cl_event end, double flops,
                            double bytes);

/* While paused (1), launches and records still run but add nothing to the
 * counters or the trace (for work done on the side, such as timing the
 * auto matmul's candidates). Returns the previous state. */
int cls__counters_pause(cls_context *ctx, int paused);

/* ------------------------------------------------- device parameters
 *
 * The device layer owns the mechanism: which parameter set a device gets
 * (by vendor and type, cls_device_info.params_name) and building every
 * program with the -D options of a parameter table. The table's contents
 * belong to the layers whose kernels read them: the ops layer hands its
 * families (matmul, rows, train) to cls__context_create; the device layer
 * adds its own (peak, for cl/peak.cl). Every program is built with every
 * family's options, so a kernel can read any parameter;
 * CLSCALE_PARAMS="NAME=V,NAME=V" (options.params) overrides single values. */

/* The parameter sets, in the order of a family's by_set column. */
enum cls__param_set {
  CLS__SET_CPU = 0,     /* CPU devices: PoCL, Intel's CPU runtime */
  CLS__SET_NVIDIA_GPU,  /* NVIDIA GPUs */
  CLS__SET_AMD_GPU,     /* AMD GPUs (ROCm, Mesa rusticl/clover) */
  CLS__SET_INTEL_GPU,   /* Intel integrated and Arc GPUs */
  CLS__SET_GENERIC_GPU, /* any other GPU or accelerator */
  CLS__SET_COUNT
};

/* The values one parameter may take. Every value, from the table or from
 * an override, is checked against it before any program is built: a value
 * the kernels cannot take would otherwise reach the OpenCL compiler (or
 * size a launch) and fail far from its cause. */
typedef struct cls__param_range {
  const char *name;
  long min, max; /* inclusive */
  int pow2;      /* 1: the value must also be a power of two */
} cls__param_range;

/* One kernel family's column of the table: for each set, NAME=VALUE pairs
 * separated by spaces; and the range of every parameter its kernels read,
 * including those no set defines (overrides only), ended by {NULL}. A name
 * in no family's ranges is unknown, and an override of it is refused. */
typedef struct cls__param_family {
  const char *name; /* e.g. "matmul", for readers of the table */
  const char *by_set[CLS__SET_COUNT];
  const cls__param_range *ranges;
} cls__param_family;

/* The families a layer hands to the device layer, merged in this order. */
typedef struct cls__param_table {
  const cls__param_family *const *families;
  size_t count;
} cls__param_table;

/* Creates a context as cls_context_create does (device choice, queue,
 * cache, kernel folder, parameters, trace), building its programs with
 * table's families plus the device layer's own; table may be NULL (the
 * device layer's own only). The public cls_context_create (src/ops/) checks
 * the options that belong to the layers above first, then calls this.
 * options.matmul_backend is not read here. */
cls_status cls__context_create(const cls_context_options *opts, const cls__param_table *table, cls_context **out,
                               char *err, size_t err_len);

/* ----------------------------------------------------- device ranking */

/* A device's speed for ranking, in any unit where more is faster (the
 * device layer's own is a short FMA measurement, GFLOP/s); <= 0 when it
 * cannot be measured. */
typedef double (*cls__device_speed_fn)(const cls_device_info *device, void *user);

/* The index in list of the fastest device of type, -1 when there is none.
 * Devices are ranked by compute units x clock while every candidate
 * reports a clock; when one reports 0 MHz (Intel's CPU runtime does) that
 * product says nothing, so every candidate is measured with speed instead
 * (a lone candidate is not measured). Candidates that cannot be measured
 * rank below those that were. Speeds within 15% of each other count as a
 * tie (two runtimes on one CPU measure within noise of each other, and the
 * choice should not flip between runs), broken by units x clock, then by
 * the earlier device. cls_device_select uses this with a short FMA
 * measurement (peak.c); tests hand it fake speeds. */
int cls__device_best(const cls_device_list *list, cls_device_type type, cls__device_speed_fn speed, void *user);

/* The device layer's speed measure for cls__device_best: a context on the
 * device ("P:D", its own parameter family only) and one cls_peak_fma run,
 * in GFLOP/s (median of 3); 0 when the context or the run fails. About 0.2-1 s per
 * device with its kernel in the binary cache. */
double cls__device_measured_speed(const cls_device_info *device, void *user);

/* The -D string (without override) programs are built with under parameter
 * set set_name and table (plus the device layer's families), for
 * cls_params_defines. CLS_ERR_INVALID_VALUE for an unknown set. */
cls_status cls__params_defines(const cls__param_table *table, const char *set_name, char *out, size_t out_len);

/* Checks overrides ("NAME=V,NAME=V", as CLSCALE_PARAMS) against the ranges
 * of table's families and the device layer's: CLS_OK, or
 * CLS_ERR_INVALID_VALUE with a message in err naming the parameter, its
 * range and the sets that define it (or, for an unknown name, every known
 * one). For cls_params_check. */
cls_status cls__params_check(const cls__param_table *table, const char *override, char *err, size_t err_len);

/* The effective value of a device parameter (table entry for this device,
 * overridden by CLSCALE_PARAMS / options.params); fallback if unset. */
long cls__param(const cls_context *ctx, const char *name, long fallback);

cl_context cls__cl_context(const cls_context *ctx);
cl_command_queue cls__queue(const cls_context *ctx);
cl_device_id cls__device(const cls_context *ctx);

/* The on-disk cache folder of this context, or NULL when caching is off. */
const char *cls__cache_dir(const cls_context *ctx);

/* The -D string every program of this context is built with: the device's
 * parameter set with every override applied. Results and speed depend on
 * it, so what is remembered per device (the auto matmul choices) is kept
 * per this string too. */
const char *cls__defines(const cls_context *ctx);

/* Per-context slot for the ops layer's own state (the matmul backend
 * choice, auto-tuning memory); created on first use by the ops layer, freed
 * by destroy_fn at context destruction. */
void *cls__ops_state(const cls_context *ctx);
void cls__set_ops_state(cls_context *ctx, void *state, void (*destroy_fn)(void *));

/* Argument-checking helpers shared by ops: each returns CLS_OK or fails on
 * ctx with a message naming fn and arg. */
cls_status cls__check_ref(cls_context *ctx, const char *fn, const char *arg, cls_ref r, size_t needed_floats);
/* A matrix view: rows x cols with leading dimension ld needs
 * (rows-1)*ld + cols floats; with batch, (batch-1)*stride more. */
cls_status cls__check_matrix(cls_context *ctx, const char *fn, const char *arg, cls_ref r, size_t rows,
                             size_t cols, size_t ld, size_t stride, size_t batch);

/* An output (n_out floats) must not overlap an input (n_in floats), except
 * as an exact alias (same offset and length) where alias_ok: element-wise
 * kernels read each element before the same work-item overwrites it.
 * Either may be CLS_NOREF. CLS_ERR_INVALID_VALUE otherwise. */
cls_status cls__check_alias(cls_context *ctx, const char *fn, const char *out_name, cls_ref out, size_t n_out,
                            const char *in_name, cls_ref in, size_t n_in, int alias_ok);

/* As cls__check_alias for the parts of `models` models side by side: the
 * output's model k is n_out floats at out + k * stride, the input's n_in
 * floats at in + k * stride (two tensors of each model's parameter slab,
 * whose spans over all models interleave): only the parts must not meet.
 * models = 1 is cls__check_alias without an alias allowed. */
cls_status cls__check_alias_parts(cls_context *ctx, const char *fn, const char *out_name, cls_ref out,
                                  size_t n_out, const char *in_name, cls_ref in, size_t n_in, size_t models,
                                  size_t stride);

/* Kernel-argument helpers: they return the OpenCL error as a status. */
cls_status cls__arg_mem(cls_context *ctx, cl_kernel k, cl_uint i, const cls_buffer *b);
cls_status cls__arg_uint(cls_context *ctx, cl_kernel k, cl_uint i, size_t v); /* fails if v > UINT32_MAX */
cls_status cls__arg_int(cls_context *ctx, cl_kernel k, cl_uint i, int v);
cls_status cls__arg_float(cls_context *ctx, cl_kernel k, cl_uint i, float v);
cls_status cls__arg_local(cls_context *ctx, cl_kernel k, cl_uint i, size_t bytes);

static inline size_t cls__round_up(size_t x, size_t m) {
  return (x + m - 1) / m * m;
}

#endif
