/*
 * clscale/device.h — devices, contexts, buffers and counters.
 *
 * The device layer owns everything that touches an OpenCL platform directly:
 * listing and choosing devices, the context and its in-order profiling queue,
 * building the kernels of cl/ (with per-device -D parameters and an on-disk
 * binary cache), buffers with size accounting, and the counters of FLOPs,
 * bytes and time that every op adds to.
 *
 * Typical use:
 *
 *   char err[1024];
 *   cls_context *ctx;
 *   if (cls_context_create(NULL, &ctx, err, sizeof err) != CLS_OK) {
 *     fprintf(stderr, "%s\n", err); return 1;
 *   }
 *   cls_buffer *x;
 *   if (cls_buffer_alloc(ctx, 1024, &x) != CLS_OK)
 *     fprintf(stderr, "%s\n", cls_last_error(ctx));
 *   ...
 *   cls_buffer_free(x);
 *   cls_context_destroy(ctx);
 *
 * Nothing here keeps global state: two contexts on two devices are
 * independent, and each carries its own last-error message.
 */
#ifndef CLSCALE_DEVICE_H
#define CLSCALE_DEVICE_H

#include <stddef.h>
#include <stdint.h>

#include "clscale/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------- devices */

typedef enum {
  CLS_DEVICE_CPU = 1,
  CLS_DEVICE_GPU = 2,
  CLS_DEVICE_ACCELERATOR = 4,
  CLS_DEVICE_OTHER = 8
} cls_device_type;

typedef struct cls_device_info {
  int platform_index; /* position of the platform in clGetPlatformIDs order */
  int device_index;   /* position of the device within its platform */
  cls_device_type type;
  char platform_name[128];
  char platform_version[128];
  char name[256];
  char vendor[128];
  char version[128]; /* CL_DEVICE_VERSION */
  char driver_version[128];
  char opencl_c_version[128];
  unsigned compute_units;
  unsigned clock_mhz;
  uint64_t global_mem_bytes;
  uint64_t local_mem_bytes;
  uint64_t max_alloc_bytes;
  size_t max_work_group_size;
  int has_fp16;
  int has_fp64;
  int host_unified_memory; /* buffers live in host memory (CPU devices) */
  char params_name[32];    /* which device-parameter set applies, e.g. "cpu", "nvidia-gpu" */
  char params_reason[96];  /* why that set: "a CPU device", "vendor NVIDIA", "no vendor set matches: the
                              fallback", "named by CLSCALE_PARAM_SET" */
} cls_device_info;

typedef struct cls_device_list {
  cls_device_info *devices;
  size_t count;
  /* Platforms that failed to enumerate: one human-readable line each. They
   * are reported here and skipped; they never make the listing fail. */
  char **platform_errors;
  size_t platform_error_count;
} cls_device_list;

/* Enumerates every device of every platform. Fails only when no platform
 * can be listed at all (CLS_ERR_NO_PLATFORM), with the reason in err. */
cls_status cls_devices_list(cls_device_list **out, char *err, size_t err_len);
void cls_device_list_free(cls_device_list *list);

/* Chooses a device. selector may be:
 *   NULL or ""      the default: the fastest GPU, else the fastest CPU
 *                   device, else the first device; "fastest" is compute
 *                   units x clock, or, where a device of that type
 *                   reports 0 MHz (Intel's CPU runtime does) beside
 *                   another, a short FMA measurement of each (about
 *                   0.2-1 s a device; within 15% is a tie, which units
 *                   x clock, then the earlier device, breaks);
 *   "P:D"           platform P, device D, as numbered by cls_devices_list;
 *   "gpu" / "cpu" / "accelerator"   the fastest device of that type;
 *   anything else   a case-insensitive substring of the device name, vendor
 *                   or platform name ("nvidia", "pocl", "gfx1030").
 * A selector that matches nothing returns CLS_ERR_DEVICE_NOT_FOUND and an err
 * that lists every device there is. */
cls_status cls_device_select(const cls_device_list *list, const char *selector, size_t *index, char *err,
                             size_t err_len);

/* ---------------------------------------------------------------- context */

typedef struct cls_context cls_context;

typedef struct cls_context_options {
  const char *device;     /* selector as above; NULL reads CLSCALE_DEVICE */
  const char *cache_dir;  /* NULL reads CLSCALE_CACHE_DIR, then $XDG_CACHE_HOME/clscale, ~/.cache/clscale */
  int disable_cache;      /* nonzero: never read or write cached binaries (also CLSCALE_NO_CACHE=1) */
  int binary_cache;       /* CLS_BINARY_CACHE_*: whether built programs go to the cache folder; 0 (AUTO) reads
                             CLSCALE_BINARY_CACHE (auto, on, off), default auto */
  const char *kernel_dir; /* NULL reads CLSCALE_KERNEL_DIR; set: load cl/NAME.cl from this folder instead of
                             the copies embedded at build time (for kernel development) */
  const char
      *matmul_backend;   /* "auto", "own", "clblast", "host"; NULL reads CLSCALE_MATMUL_BACKEND, default auto */
  const char *params;    /* extra/overriding -D parameters "NAME=V,NAME=V"; NULL reads CLSCALE_PARAMS */
  int trace;             /* nonzero: keep every op's timing for cls_trace_write */
  const char *param_set; /* parameter set by name ("nvidia-gpu", see cls_params_name) instead of the one the
                            device gets; NULL reads CLSCALE_PARAM_SET. For running one vendor's kernels on
                            another device (the Oclgrind checks) */
} cls_context_options;

/* Where built programs are kept between processes. AUTO: in the cache
 * folder, except on a driver that keeps its own cache of built kernels, where
 * a second copy costs more than it saves. That is PoCL with its kernel cache
 * on (POCL_KERNEL_CACHE unset or 1): asking PoCL for a program's binary
 * makes it compile every kernel of the program for any work-group size,
 * kernels the run never launches included (more than half of a cold
 * `clscale train` on the CPU device, issue 13), while its own cache already
 * keeps what was compiled, keyed by source, options, device and PoCL build.
 * ON: always, also beside a driver's own cache (tests of the cache itself);
 * OFF: never. The matmul-auto choices stay in the cache folder either way. */
enum { CLS_BINARY_CACHE_AUTO = 0, CLS_BINARY_CACHE_ON = 1, CLS_BINARY_CACHE_OFF = 2 };

/* Fills opts with the defaults (everything from the environment). */
void cls_context_options_init(cls_context_options *opts);

/* Creates a context on the selected device with an in-order queue with
 * profiling. opts may be NULL (all defaults). On failure *out is NULL and err
 * says why.
 *
 * Which layer implements what: cls_context_create is defined by the ops
 * layer (src/ops/context.c), which checks and keeps matmul_backend and hands
 * the device layer the kernels' parameter tables; the device layer
 * (src/device/) does the rest, and implements everything else declared
 * here. A program linked against the whole library sees no difference. */
cls_status cls_context_create(const cls_context_options *opts, cls_context **out, char *err, size_t err_len);
void cls_context_destroy(cls_context *ctx);

/* The message of the last failure on this context: what failed and what to
 * do. Empty when nothing has failed. Never NULL (for a NULL ctx too). */
const char *cls_last_error(const cls_context *ctx);

const cls_device_info *cls_context_device(const cls_context *ctx);

/* Waits for every enqueued command. Returns the first deferred error. */
cls_status cls_finish(cls_context *ctx);

/* ---------------------------------------------------------------- buffers */

/* A device buffer of fp32 values. Sizes and offsets everywhere in clscale
 * are counted in floats, not bytes. */
typedef struct cls_buffer cls_buffer;

/* Allocates count floats (contents undefined). A request larger than the
 * device's maximum allocation or its free global memory is refused with
 * CLS_ERR_OUT_OF_MEMORY before the driver is asked. */
cls_status cls_buffer_alloc(cls_context *ctx, size_t count, cls_buffer **out);
void cls_buffer_free(cls_buffer *buf);
size_t cls_buffer_count(const cls_buffer *buf);

/* Blocking copies between host and device; offset and count in floats. */
cls_status cls_buffer_write(cls_context *ctx, cls_buffer *buf, size_t offset, size_t count, const float *src);
cls_status cls_buffer_read(cls_context *ctx, const cls_buffer *buf, size_t offset, size_t count, float *dst);

/* Copies that do not wait: each is queued behind the work already queued
 * (so a read sees its results) and *done receives a handle to wait on.
 * The host memory (src or dst) must stay untouched (src) or unread (dst)
 * until cls_transfer_wait returns. A training step uses them to upload
 * its batch and read its loss without stopping the host. */
typedef struct cls_transfer cls_transfer;
cls_status cls_buffer_write_async(cls_context *ctx, cls_buffer *buf, size_t offset, size_t count, const float *src,
                                  cls_transfer **done);
cls_status cls_buffer_read_async(cls_context *ctx, const cls_buffer *buf, size_t offset, size_t count, float *dst,
                                 cls_transfer **done);
/* Waits for the copy and releases the handle (NULL: returns CLS_OK). A
 * failed copy returns its OpenCL status (the message on the context). */
cls_status cls_transfer_wait(cls_transfer *t);

cls_status cls_buffer_fill(cls_context *ctx, cls_buffer *buf, size_t offset, size_t count, float value);
cls_status cls_buffer_copy(cls_context *ctx, const cls_buffer *src, size_t src_offset, cls_buffer *dst,
                           size_t dst_offset, size_t count);

/* An operand of an op: a buffer and an offset (in floats) into it, so that
 * parameters and activations can live in one slab and be addressed by a
 * table of offsets (see clscale/ops.h). An optional operand is CLS_NOREF. */
typedef struct cls_ref {
  cls_buffer *buf;
  size_t offset; /* in floats */
} cls_ref;

static inline cls_ref cls_ref_at(cls_buffer *buf, size_t offset) {
  cls_ref r;
  r.buf = buf;
  r.offset = offset;
  return r;
}
#define CLS_NOREF (cls_ref_at(NULL, 0))

typedef struct cls_memory_usage {
  uint64_t live_bytes; /* allocated now */
  uint64_t peak_bytes; /* most ever allocated at once */
  uint64_t live_buffers;
} cls_memory_usage;
void cls_memory_usage_get(const cls_context *ctx, cls_memory_usage *out);

/* --------------------------------------------------------------- counters */

#define CLS_MAX_OP_COUNTERS 64

typedef struct cls_op_counter {
  char name[32]; /* op name, e.g. "matmul.own", "softmax_fwd" */
  uint64_t calls;
  double flops;   /* floating-point operations (an FMA counts 2) */
  double bytes;   /* bytes read + written in global memory, counted from shapes */
  double seconds; /* device time from profiling events */
} cls_op_counter;

typedef struct cls_counters {
  double flops, bytes, seconds; /* totals over all ops */
  /* Device commands with a profiling event (kernels, fills, copies; host
   * BLAS work is not one), and how the device spent the time between the
   * first command's start and the last one's end: busy_seconds is the
   * union of the commands' intervals, span_seconds that whole stretch, so
   * 1 - busy/span is the share of time no command ran (launch gaps, host
   * work, host waits). */
  uint64_t launches;
  double busy_seconds, span_seconds;
  size_t op_count;
  cls_op_counter ops[CLS_MAX_OP_COUNTERS];
} cls_counters;

/* Snapshot of the counters since creation or the last reset. Waits for the
 * queue so that every op's time is included. */
cls_status cls_counters_get(cls_context *ctx, cls_counters *out);
void cls_counters_reset(cls_context *ctx);

/* A human-readable table of c, ops sorted by time: calls, time and its
 * share, GFLOP/s, GB/s. Truncated to out_len (always NUL-terminated). */
void cls_counters_summary(const cls_counters *c, char *out, size_t out_len);

/* Writes every op recorded since trace was enabled as Chrome-trace JSON
 * (open in chrome://tracing or ui.perfetto.dev). Atomic: temp file + rename. */
cls_status cls_trace_write(cls_context *ctx, const char *path);

/* ------------------------------------------------------ device parameters */

/* The -D parameter sets the kernels are built with, by vendor and device
 * type. cls_params_name lists the sets ("cpu", "nvidia-gpu", ...);
 * cls_params_defines gives a set's -D string for one program of cl/
 * (program is the file name without ".cl"): every parameter of the set; the
 * build itself passes only those the program's source names, which makes
 * the same code. The sets and the
 * choice of one per device are the device layer's; the values, and so
 * cls_params_defines, come from the ops layer's tables (src/ops/params_*.c)
 * plus the device layer's own (src/device/params_peak.c). */
size_t cls_params_count(void);
const char *cls_params_name(size_t i);
const char *cls_params_description(size_t i);
cls_status cls_params_defines(const char *set_name, const char *program, char *out, size_t out_len);

/* Checks parameter overrides as CLSCALE_PARAMS takes them ("NAME=V,NAME=V";
 * NULL or "" is none) without a device: CLS_OK, or CLS_ERR_INVALID_VALUE
 * with a message in err naming the parameter, the values it may take and
 * the sets that define it (for an unknown name, every known one).
 * cls_context_create makes the same check before building anything. */
cls_status cls_params_check(const char *params, char *err, size_t err_len);

/* What the on-disk binary cache did on this context. */
typedef struct cls_cache_stats {
  unsigned hits;           /* programs loaded from a cached binary */
  unsigned misses;         /* programs compiled from source (no usable entry) */
  unsigned rejected;       /* entries found corrupt, truncated or stale, deleted and rebuilt */
  unsigned write_errors;   /* binaries that could not be saved (the build still succeeded) */
  unsigned left_to_driver; /* programs built without the binary cache, which leaves them to the driver's own (see
                            CLS_BINARY_CACHE_AUTO) */
} cls_cache_stats;
void cls_cache_stats_get(const cls_context *ctx, cls_cache_stats *out);

/* The programs of cl/ built into the library: names without ".cl". */
size_t cls_program_count(void);
const char *cls_program_name(size_t i);

/* Builds (or loads from the cache) one program of cl/ on the context's
 * device. Used by `clscale bench` to time cold compiles; ops build lazily. */
cls_status cls_program_prepare(cls_context *ctx, const char *program, double *build_seconds, int *from_cache);

/* The programs this context has built or loaded so far, in the order they
 * were first needed (ops build a program at the first launch of one of its
 * kernels), and the seconds each took (the driver's compile; PoCL compiles
 * each kernel again, for its work-group size, at its first launch, which is
 * not counted here). NULL / 0 past the end. */
size_t cls_context_program_count(const cls_context *ctx);
const char *cls_context_program_name(const cls_context *ctx, size_t i, double *build_seconds);

/* ------------------------------------------------------- device peaks */

/* What the device reaches at best, measured by its own small kernels
 * (cl/peak.cl): a copy for bandwidth (bytes read + written per second;
 * one float4 per work-item, and on CPU devices also a few contiguous runs
 * of float16, the faster of the two, as runtimes differ) and chains of independent float4 multiply-adds for
 * arithmetic (an FMA counts 2 FLOPs). Medians of reps runs after a warm-up; reps >= 1. Every speed clscale reports
 * is also given as a fraction of these. */
typedef struct cls_peak {
  double copy_gbps;
  double fma_gflops;
} cls_peak;
cls_status cls_peak_measure(cls_context *ctx, int reps, cls_peak *out);

/* The copy bandwidth on a working set of count floats each way (count >= 4):
 * what an op that reads and writes that much data can hope for, caches
 * included. cls_peak_measure uses 16M floats, beyond most caches. */
cls_status cls_peak_copy(cls_context *ctx, size_t count, int reps, double *gbps);

/* The FMA peak alone (GFLOP/s), as in cls_peak_measure. */
cls_status cls_peak_fma(cls_context *ctx, int reps, double *gflops);

#ifdef __cplusplus
}
#endif
#endif
