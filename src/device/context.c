/*
 * src/device/context.c — creating a context on the chosen device, with the
 * parameter table of the layers above (the public cls_context_create is in
 * src/ops/context.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "context_internal.h"

void cls_context_options_init(cls_context_options *o) {
  if (o) memset(o, 0, sizeof *o);
}

static const char *env(const char *name) {
  const char *v = getenv(name);
  return (v && *v) ? v : NULL;
}

static void resolve_cache_dir(cls_context *ctx, const cls_context_options *o) {
  ctx->cache_dir[0] = 0;
  const char *off = env("CLSCALE_NO_CACHE");
  if (o->disable_cache || (off && strcmp(off, "0") != 0)) return;
  const char *dir = o->cache_dir ? o->cache_dir : env("CLSCALE_CACHE_DIR");
  if (dir) {
    snprintf(ctx->cache_dir, sizeof ctx->cache_dir, "%s", dir);
  } else if (env("XDG_CACHE_HOME")) {
    snprintf(ctx->cache_dir, sizeof ctx->cache_dir, "%s/clscale", env("XDG_CACHE_HOME"));
  } else if (env("HOME")) {
    snprintf(ctx->cache_dir, sizeof ctx->cache_dir, "%s/.cache/clscale", env("HOME"));
  }
}

/* Whether the driver keeps the kernels it builds in a cache of its own:
 * PoCL does unless POCL_KERNEL_CACHE turns it off (PoCL reads a value
 * starting with '1' as on, anything else as off; unset is on). */
static int driver_keeps_kernels(const cls_device_info *info) {
  if (strcmp(info->platform_name, "Portable Computing Language") != 0) return 0;
  const char *v = getenv("POCL_KERNEL_CACHE");
  return !v || v[0] == '1';
}

/* The binary cache's mode from the option, else CLSCALE_BINARY_CACHE; then
 * whether this context uses it (see CLS_BINARY_CACHE_AUTO). */
static cls_status resolve_binary_cache(cls_context *ctx, const cls_context_options *o, char *err, size_t err_len) {
  int mode = o->binary_cache;
  if (mode < CLS_BINARY_CACHE_AUTO || mode > CLS_BINARY_CACHE_OFF) {
    if (err)
      snprintf(err, err_len, "`binary_cache` is %d; use CLS_BINARY_CACHE_AUTO (0), _ON (1) or _OFF (2)", mode);
    return CLS_ERR_INVALID_VALUE;
  }
  const char *v = env("CLSCALE_BINARY_CACHE");
  if (mode == CLS_BINARY_CACHE_AUTO && v) {
    if (!strcmp(v, "on"))
      mode = CLS_BINARY_CACHE_ON;
    else if (!strcmp(v, "off"))
      mode = CLS_BINARY_CACHE_OFF;
    else if (strcmp(v, "auto") != 0) {
      if (err) snprintf(err, err_len, "CLSCALE_BINARY_CACHE is '%s'; use auto, on or off (or leave it unset)", v);
      return CLS_ERR_INVALID_VALUE;
    }
  }
  ctx->binary_cache = ctx->cache_dir[0] && (mode == CLS_BINARY_CACHE_ON ||
                                            (mode == CLS_BINARY_CACHE_AUTO && !driver_keeps_kernels(&ctx->info)));
  return CLS_OK;
}

/* Finds the cl ids of device info->platform_index:device_index. */
static cl_int open_device(const cls_device_info *info, cl_platform_id *plat, cl_device_id *dev) {
  cl_uint np = 0, nd = 0;
  cl_int rc = clGetPlatformIDs(0, NULL, &np);
  if (rc != CL_SUCCESS || (cl_uint)info->platform_index >= np) return rc != CL_SUCCESS ? rc : CL_INVALID_PLATFORM;
  cl_platform_id *plats = calloc(np, sizeof *plats);
  if (!plats) return CL_OUT_OF_HOST_MEMORY;
  clGetPlatformIDs(np, plats, NULL);
  *plat = plats[info->platform_index];
  free(plats);
  rc = clGetDeviceIDs(*plat, CL_DEVICE_TYPE_ALL, 0, NULL, &nd);
  if (rc != CL_SUCCESS || (cl_uint)info->device_index >= nd) return rc != CL_SUCCESS ? rc : CL_INVALID_DEVICE;
  cl_device_id *devs = calloc(nd, sizeof *devs);
  if (!devs) return CL_OUT_OF_HOST_MEMORY;
  clGetDeviceIDs(*plat, CL_DEVICE_TYPE_ALL, nd, devs, NULL);
  *dev = devs[info->device_index];
  free(devs);
  return CL_SUCCESS;
}

cls_status cls__context_create(const cls_context_options *opts, const cls__param_table *table, cls_context **out,
                               char *err, size_t err_len) {
  if (err && err_len) err[0] = 0;
  if (!out) return CLS_ERR_NULL_ARGUMENT;
  *out = NULL;
  cls_context_options defaults;
  cls_context_options_init(&defaults);
  const cls_context_options *o = opts ? opts : &defaults;

  cls_device_list *list;
  cls_status s = cls_devices_list(&list, err, err_len);
  if (s != CLS_OK) return s;
  const char *sel = o->device ? o->device : env("CLSCALE_DEVICE");
  size_t idx;
  s = cls_device_select(list, sel, &idx, err, err_len);
  if (s != CLS_OK) {
    cls_device_list_free(list);
    return s;
  }
  cls_context *ctx = calloc(1, sizeof *ctx);
  if (!ctx) {
    cls_device_list_free(list);
    if (err) snprintf(err, err_len, "out of host memory creating a context");
    return CLS_ERR_OUT_OF_MEMORY;
  }
  ctx->info = list->devices[idx];
  cls_device_list_free(list);

  cl_int rc = open_device(&ctx->info, &ctx->platform, &ctx->device);
  if (rc == CL_SUCCESS) {
    cl_context_properties props[] = {CL_CONTEXT_PLATFORM, (cl_context_properties)ctx->platform, 0};
    ctx->cl = clCreateContext(props, 1, &ctx->device, NULL, NULL, &rc);
  }
  if (rc == CL_SUCCESS) ctx->queue = clCreateCommandQueue(ctx->cl, ctx->device, CL_QUEUE_PROFILING_ENABLE, &rc);
  if (rc != CL_SUCCESS) {
    if (err)
      snprintf(err, err_len, "cannot open device %d:%d (%s): %s", ctx->info.platform_index, ctx->info.device_index,
               ctx->info.name, cls_status_name(rc));
    cls_context_destroy(ctx);
    return rc;
  }

  resolve_cache_dir(ctx, o);
  cls_status bs = resolve_binary_cache(ctx, o, err, err_len);
  if (bs != CLS_OK) {
    cls_context_destroy(ctx);
    return bs;
  }
  const char *kdir = o->kernel_dir ? o->kernel_dir : env("CLSCALE_KERNEL_DIR");
  if (kdir) snprintf(ctx->kernel_dir, sizeof ctx->kernel_dir, "%s", kdir);
  /* A set named by the caller replaces the device's own (and is what the
   * context reports), so that one vendor's kernels can be run, e.g. under a
   * simulator, on a device that would get another set. */
  const char *set = o->param_set ? o->param_set : env("CLSCALE_PARAM_SET");
  if (set) {
    size_t i = 0;
    while (i < cls_params_count() && strcmp(cls_params_name(i), set) != 0) i++;
    if (i == cls_params_count()) {
      if (err) {
        int n = snprintf(err, err_len, "unknown parameter set '%s' (from %s); the sets are:", set,
                         o->param_set ? "`param_set`" : "CLSCALE_PARAM_SET");
        for (size_t k = 0; k < cls_params_count() && n >= 0 && (size_t)n < err_len; k++)
          n += snprintf(err + n, err_len - (size_t)n, " %s", cls_params_name(k));
      }
      cls_context_destroy(ctx);
      return CLS_ERR_INVALID_VALUE;
    }
    if (strcmp(ctx->info.params_name, set) != 0)
      snprintf(ctx->info.params_reason, sizeof ctx->info.params_reason, "named by %s (the device's own is %s)",
               o->param_set ? "options.param_set" : "CLSCALE_PARAM_SET", ctx->info.params_name);
    snprintf(ctx->info.params_name, sizeof ctx->info.params_name, "%s", set);
  }
  /* The overrides are read where they are, whatever their length (a copy
   * into a fixed buffer once cut a long list silently, issue 14): each known
   * name appears once in the -D string, so it stays short. */
  const char *given = o->params ? o->params : env("CLSCALE_PARAMS");
  char why[2048];
  cls_status ps = cls__params_build_defines(table, ctx->info.params_name, given, ctx->defines, sizeof ctx->defines,
                                            why, sizeof why);
  if (ps != CLS_OK) {
    /* CLS_ERR_INTERNAL is the table's own fault (or a string too long), not the caller's. */
    if (err && ps == CLS_ERR_INTERNAL)
      snprintf(err, err_len, "%s", why);
    else if (err)
      snprintf(err, err_len, "%s (from %s)", why, o->params ? "`params`" : "CLSCALE_PARAMS");
    cls_context_destroy(ctx);
    return ps;
  }
  ctx->trace_enabled = o->trace != 0;
  *out = ctx;
  return CLS_OK;
}

void cls_context_destroy(cls_context *ctx) {
  if (!ctx) return;
  if (ctx->queue) clFinish(ctx->queue);
  for (size_t i = 0; i < ctx->pending_count; i++) {
    clReleaseEvent(ctx->pending[i].event);
    if (ctx->pending[i].start) clReleaseEvent(ctx->pending[i].start);
  }
  if (ctx->ops_state && ctx->ops_state_destroy) ctx->ops_state_destroy(ctx->ops_state);
  cls__programs_release(ctx);
  if (ctx->queue) clReleaseCommandQueue(ctx->queue);
  if (ctx->cl) clReleaseContext(ctx->cl);
  free(ctx->trace);
  free(ctx);
}

const cls_device_info *cls_context_device(const cls_context *ctx) {
  return ctx ? &ctx->info : NULL;
}

cls_status cls_finish(cls_context *ctx) {
  CLS_CHECK_CTX(ctx);
  cl_int rc = clFinish(ctx->queue);
  if (rc != CL_SUCCESS) return cls__cl_fail(ctx, rc, "clFinish");
  return cls__resolve_pending(ctx);
}

cl_context cls__cl_context(const cls_context *ctx) {
  return ctx->cl;
}
cl_command_queue cls__queue(const cls_context *ctx) {
  return ctx->queue;
}
cl_device_id cls__device(const cls_context *ctx) {
  return ctx->device;
}
const char *cls__cache_dir(const cls_context *ctx) {
  return ctx->cache_dir[0] ? ctx->cache_dir : NULL;
}
const char *cls__defines(const cls_context *ctx) {
  return ctx->defines;
}
void *cls__ops_state(const cls_context *ctx) {
  return ctx->ops_state;
}
void cls__set_ops_state(cls_context *ctx, void *state, void (*destroy_fn)(void *)) {
  ctx->ops_state = state;
  ctx->ops_state_destroy = destroy_fn;
}
