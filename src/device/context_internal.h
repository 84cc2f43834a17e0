/*
 * src/device/context_internal.h — the context structure and the device
 * layer's own helpers, private to src/device/ (nothing outside it includes
 * this; the layers above use device/layer.h).
 */
#ifndef CLSCALE_DEVICE_CONTEXT_INTERNAL_H
#define CLSCALE_DEVICE_CONTEXT_INTERNAL_H

#include "device/layer.h"

#define CLS__MAX_PROGRAMS 16
#define CLS__MAX_KERNELS  96
#define CLS__MAX_PENDING  256

typedef struct cls__program {
  char name[32];
  cl_program program;
  double build_seconds;
} cls__program;

typedef struct cls__kernel_entry {
  char program[32];
  char name[64];
  cl_kernel kernel;
} cls__kernel_entry;

/* An enqueued command whose profiling times are not read yet. */
typedef struct cls__pending {
  int op; /* index into counters.ops */
  cl_event event;
  cl_event start; /* NULL, or a marker enqueued before the work (a span) */
} cls__pending;

typedef struct cls__trace_event {
  int op;
  double start_us, dur_us;
} cls__trace_event;

struct cls_context {
  cl_platform_id platform;
  cl_device_id device;
  cl_context cl;
  cl_command_queue queue;
  cls_device_info info;

  char error[8192];

  /* Program building. */
  char cache_dir[1024];  /* empty: cache disabled */
  int binary_cache;      /* nonzero: built programs are read from and saved to cache_dir (CLS_BINARY_CACHE_*) */
  char kernel_dir[1024]; /* empty: embedded sources */
  char defines[1024];    /* the -D string every program is built with */
  cls__program programs[CLS__MAX_PROGRAMS];
  size_t program_count;
  cls__kernel_entry kernels[CLS__MAX_KERNELS];
  size_t kernel_count;
  cls_cache_stats cache_stats;

  /* Memory accounting. */
  cls_memory_usage memory;

  /* Counters and profiling. */
  int counters_paused;
  cls_counters counters;
  /* Device times (ns) behind counters.busy_seconds and span_seconds: the
   * first start and the latest end resolved since the last reset. */
  double busy_first_ns, busy_end_ns;
  int busy_seen;
  cls__pending pending[CLS__MAX_PENDING];
  size_t pending_count;
  int trace_enabled;
  double trace_origin_ns; /* device time of the first traced event */
  cls__trace_event *trace;
  size_t trace_count, trace_cap;

  /* The ops layer's per-context state (cls__ops_state). */
  void *ops_state;
  void (*ops_state_destroy)(void *);
};

/* Reads the profiling times of every pending event into the counters. */
cls_status cls__resolve_pending(cls_context *ctx);

/* Device parameters: which set applies to a device, and the -D string of
 * a set under table (plus the device layer's own families, then override:
 * "NAME=V,NAME=V"). Every value is checked against its family's range.
 * CLS_ERR_INVALID_VALUE for an unknown set or a malformed, unknown or out
 * of range override, CLS_ERR_INTERNAL when a table value is out of its
 * range or the string does not fit; err (may be NULL) says which. */
const char *cls__params_set_for(const cls_device_info *info);
cls_status cls__params_build_defines(const cls__param_table *table, const char *set, const char *override,
                                     char *out, size_t out_len, char *err, size_t err_len);

/* The device layer's own parameter family (cl/peak.cl; params_peak.c). */
extern const cls__param_family cls__params_peak;

/* Fills info from an OpenCL device (everything but the indices). */
void cls__device_info_fill(cl_platform_id platform, cl_device_id device, cls_device_info *info);

/* The cl/<name>.cl source (from kernel_dir or embedded); *owned is set
 * when the caller must free it. */
cls_status cls__program_source(cls_context *ctx, const char *name, const char **text, char **owned);

/* Binary cache: load a built program for (source, options) or save one.
 * load returns NULL on a miss or a rejected entry (stats updated). */
cl_program cls__cache_load(cls_context *ctx, const char *name, const char *source, const char *options);
void cls__cache_save(cls_context *ctx, const char *name, const char *source, const char *options, cl_program prog);

/* Releases all programs and kernels (used when the context goes away). */
void cls__programs_release(cls_context *ctx);

#endif
