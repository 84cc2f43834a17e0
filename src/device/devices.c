/*
 * src/device/devices.c — listing platforms and devices, and choosing one.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "context_internal.h"

static void get_string(cl_device_id d, cl_device_info what, char *out, size_t len) {
  out[0] = 0;
  if (clGetDeviceInfo(d, what, len, out, NULL) != CL_SUCCESS) out[0] = 0;
  out[len - 1] = 0;
}

static int has_extension(const char *exts, const char *name) {
  size_t n = strlen(name);
  for (const char *p = exts; (p = strstr(p, name)) != NULL; p += n)
    if ((p == exts || p[-1] == ' ') && (p[n] == 0 || p[n] == ' ')) return 1;
  return 0;
}

/* Why the device got its set, in words for `clscale devices`. Read from
 * the set params.c chose (which matches vendor and platform names in this
 * order), so that the choice itself stays in one place. */
static void params_reason(cls_device_info *info) {
  const char *set = info->params_name, *why = "no vendor set matches: the fallback";
  if (!strcmp(set, "cpu"))
    why = "a CPU device";
  else if (!strcmp(set, "nvidia-gpu"))
    why = "vendor or platform NVIDIA";
  else if (!strcmp(set, "amd-gpu"))
    why = "vendor or platform AMD";
  else if (!strcmp(set, "intel-gpu"))
    why = "vendor Intel";
  snprintf(info->params_reason, sizeof info->params_reason, "%s", why);
}

void cls__device_info_fill(cl_platform_id platform, cl_device_id d, cls_device_info *info) {
  memset(info, 0, sizeof *info);
  clGetPlatformInfo(platform, CL_PLATFORM_NAME, sizeof info->platform_name, info->platform_name, NULL);
  clGetPlatformInfo(platform, CL_PLATFORM_VERSION, sizeof info->platform_version, info->platform_version, NULL);
  info->platform_name[sizeof info->platform_name - 1] = 0;
  info->platform_version[sizeof info->platform_version - 1] = 0;
  get_string(d, CL_DEVICE_NAME, info->name, sizeof info->name);
  get_string(d, CL_DEVICE_VENDOR, info->vendor, sizeof info->vendor);
  get_string(d, CL_DEVICE_VERSION, info->version, sizeof info->version);
  get_string(d, CL_DRIVER_VERSION, info->driver_version, sizeof info->driver_version);
  get_string(d, CL_DEVICE_OPENCL_C_VERSION, info->opencl_c_version, sizeof info->opencl_c_version);

  cl_device_type type = 0;
  clGetDeviceInfo(d, CL_DEVICE_TYPE, sizeof type, &type, NULL);
  info->type = (type & CL_DEVICE_TYPE_GPU)           ? CLS_DEVICE_GPU
               : (type & CL_DEVICE_TYPE_CPU)         ? CLS_DEVICE_CPU
               : (type & CL_DEVICE_TYPE_ACCELERATOR) ? CLS_DEVICE_ACCELERATOR
                                                     : CLS_DEVICE_OTHER;
  cl_uint u = 0;
  if (clGetDeviceInfo(d, CL_DEVICE_MAX_COMPUTE_UNITS, sizeof u, &u, NULL) == CL_SUCCESS) info->compute_units = u;
  u = 0;
  if (clGetDeviceInfo(d, CL_DEVICE_MAX_CLOCK_FREQUENCY, sizeof u, &u, NULL) == CL_SUCCESS) info->clock_mhz = u;
  cl_ulong ul = 0;
  if (clGetDeviceInfo(d, CL_DEVICE_GLOBAL_MEM_SIZE, sizeof ul, &ul, NULL) == CL_SUCCESS)
    info->global_mem_bytes = ul;
  ul = 0;
  if (clGetDeviceInfo(d, CL_DEVICE_LOCAL_MEM_SIZE, sizeof ul, &ul, NULL) == CL_SUCCESS) info->local_mem_bytes = ul;
  ul = 0;
  if (clGetDeviceInfo(d, CL_DEVICE_MAX_MEM_ALLOC_SIZE, sizeof ul, &ul, NULL) == CL_SUCCESS)
    info->max_alloc_bytes = ul;
  size_t wg = 0;
  if (clGetDeviceInfo(d, CL_DEVICE_MAX_WORK_GROUP_SIZE, sizeof wg, &wg, NULL) == CL_SUCCESS)
    info->max_work_group_size = wg;
  cl_bool unified = CL_FALSE;
  if (clGetDeviceInfo(d, CL_DEVICE_HOST_UNIFIED_MEMORY, sizeof unified, &unified, NULL) == CL_SUCCESS)
    info->host_unified_memory = unified == CL_TRUE;
  if (info->type == CLS_DEVICE_CPU) info->host_unified_memory = 1;

  size_t ext_len = 0;
  if (clGetDeviceInfo(d, CL_DEVICE_EXTENSIONS, 0, NULL, &ext_len) == CL_SUCCESS && ext_len > 0) {
    char *exts = malloc(ext_len + 1);
    if (exts && clGetDeviceInfo(d, CL_DEVICE_EXTENSIONS, ext_len, exts, NULL) == CL_SUCCESS) {
      exts[ext_len] = 0;
      info->has_fp16 = has_extension(exts, "cl_khr_fp16");
      info->has_fp64 = has_extension(exts, "cl_khr_fp64");
    }
    free(exts);
  }
  snprintf(info->params_name, sizeof info->params_name, "%s", cls__params_set_for(info));
  params_reason(info);
}

static void append(char **list, size_t *count, const char *line) {
  char *copy = malloc(strlen(line) + 1);
  if (!copy) return;
  strcpy(copy, line);
  list[(*count)++] = copy;
}

cls_status cls_devices_list(cls_device_list **out, char *err, size_t err_len) {
  if (err && err_len) err[0] = 0;
  if (!out) return CLS_ERR_NULL_ARGUMENT;
  *out = NULL;
  cl_uint np = 0;
  cl_int rc = clGetPlatformIDs(0, NULL, &np);
  if (rc != CL_SUCCESS || np == 0) {
    if (err)
      snprintf(err, err_len,
               "no OpenCL platform found (clGetPlatformIDs: %s): install an OpenCL driver, e.g. the Debian "
               "package pocl-opencl-icd for the CPU, and check /etc/OpenCL/vendors/",
               rc == CL_SUCCESS ? "0 platforms" : cls_status_name(rc));
    return CLS_ERR_NO_PLATFORM;
  }
  cl_platform_id *plats = calloc(np, sizeof *plats);
  cls_device_list *list = calloc(1, sizeof *list);
  if (list) list->platform_errors = calloc(np, sizeof(char *));
  if (!plats || !list || !list->platform_errors) {
    free(plats);
    cls_device_list_free(list);
    if (err) snprintf(err, err_len, "out of host memory listing devices");
    return CLS_ERR_OUT_OF_MEMORY;
  }
  clGetPlatformIDs(np, plats, NULL);
  size_t cap = 0;
  for (cl_uint p = 0; p < np; p++) {
    cl_uint nd = 0;
    rc = clGetDeviceIDs(plats[p], CL_DEVICE_TYPE_ALL, 0, NULL, &nd);
    char pname[128] = "?";
    clGetPlatformInfo(plats[p], CL_PLATFORM_NAME, sizeof pname, pname, NULL);
    pname[sizeof pname - 1] = 0;
    if (rc != CL_SUCCESS || nd == 0) {
      char line[512];
      snprintf(line, sizeof line, "platform %u (%s): cannot list devices (%s); skipped", p, pname,
               rc == CL_SUCCESS ? "no devices" : cls_status_name(rc));
      append(list->platform_errors, &list->platform_error_count, line);
      continue;
    }
    cl_device_id *devs = calloc(nd, sizeof *devs);
    cls_device_info *grown = realloc(list->devices, (cap + nd) * sizeof *grown);
    if (!devs || !grown) {
      free(devs);
      if (grown) list->devices = grown;
      continue;
    }
    list->devices = grown;
    cap += nd;
    clGetDeviceIDs(plats[p], CL_DEVICE_TYPE_ALL, nd, devs, NULL);
    for (cl_uint d = 0; d < nd; d++) {
      cls_device_info *info = &list->devices[list->count++];
      cls__device_info_fill(plats[p], devs[d], info);
      info->platform_index = (int)p;
      info->device_index = (int)d;
    }
    free(devs);
  }
  free(plats);
  if (list->count == 0) {
    if (err) {
      snprintf(err, err_len, "OpenCL platforms exist but none offers a usable device");
      for (size_t i = 0; i < list->platform_error_count; i++) {
        size_t used = strlen(err);
        snprintf(err + used, err_len - used, "\n  %s", list->platform_errors[i]);
      }
    }
    cls_device_list_free(list);
    return CLS_ERR_NO_DEVICE;
  }
  *out = list;
  return CLS_OK;
}

void cls_device_list_free(cls_device_list *list) {
  if (!list) return;
  for (size_t i = 0; i < list->platform_error_count; i++) free(list->platform_errors[i]);
  free(list->platform_errors);
  free(list->devices);
  free(list);
}

/* Peak-ish speed for ranking devices of one type: more units, faster clock. */
static double device_score(const cls_device_info *d) {
  return (double)d->compute_units * (double)d->clock_mhz;
}

int cls__device_best(const cls_device_list *list, cls_device_type type, cls__device_speed_fn speed, void *user) {
  size_t candidates = 0, unclocked = 0;
  for (size_t i = 0; i < list->count; i++)
    if (list->devices[i].type == type) {
      candidates++;
      unclocked += list->devices[i].clock_mhz == 0;
    }
  if (candidates == 0) return -1;
  /* Measured only where the clock cannot rank: a measurement costs a
   * context and a kernel run per device, and units x clock orders devices
   * of one kind well enough. */
  int measure = speed && candidates > 1 && unclocked > 0;
  int best = -1;
  double best_measured = 0;
  for (size_t i = 0; i < list->count; i++) {
    const cls_device_info *d = &list->devices[i];
    if (d->type != type) continue;
    double m = measure ? speed(d, user) : 0;
    if (!(m > 0)) m = 0; /* failed (or NaN): below every measured device */
    /* Within 15% counts as a tie, broken by units x clock, then by the
     * order of the list: two runtimes on one CPU measure within noise of
     * each other, and the default device should not change from one run
     * to the next on noise. */
    int tie = best >= 0 && m <= best_measured * 1.15 && best_measured <= m * 1.15;
    int better =
        best < 0 || (!tie && m > best_measured) || (tie && device_score(d) > device_score(&list->devices[best]));
    if (better) {
      best = (int)i;
      best_measured = m;
    }
  }
  return best;
}

double cls__device_measured_speed(const cls_device_info *device, void *user) {
  (void)user;
  char sel[32], err[256];
  snprintf(sel, sizeof sel, "%d:%d", device->platform_index, device->device_index);
  cls_context_options o;
  cls_context_options_init(&o);
  o.device = sel; /* "P:D" never measures, so this does not recurse */
  /* The device's own set, whatever CLSCALE_PARAM_SET says: the ranking is
   * of devices, not of parameter sets. An empty override replaces
   * CLSCALE_PARAMS for the same reason. */
  o.param_set = device->params_name[0] ? device->params_name : NULL;
  o.params = "";
  cls_context *ctx = NULL;
  double gflops = 0;
  if (cls__context_create(&o, NULL, &ctx, err, sizeof err) == CLS_OK && cls_peak_fma(ctx, 3, &gflops) != CLS_OK)
    gflops = 0;
  cls_context_destroy(ctx);
  return gflops;
}

static int contains_ci(const char *hay, const char *needle) {
  size_t n = strlen(needle);
  for (; *hay; hay++) {
    size_t i = 0;
    while (i < n && hay[i] && tolower((unsigned char)hay[i]) == tolower((unsigned char)needle[i])) i++;
    if (i == n) return 1;
  }
  return 0;
}

static int best_of_type(const cls_device_list *list, cls_device_type type) {
  return cls__device_best(list, type, cls__device_measured_speed, NULL);
}

static void list_devices_into(const cls_device_list *list, char *err, size_t err_len) {
  for (size_t i = 0; i < list->count; i++) {
    const cls_device_info *d = &list->devices[i];
    size_t used = strlen(err);
    snprintf(err + used, err_len - used, "\n  %d:%d  %s  %s  (%s)", d->platform_index, d->device_index,
             d->type == CLS_DEVICE_GPU   ? "gpu"
             : d->type == CLS_DEVICE_CPU ? "cpu"
                                         : "other",
             d->name, d->platform_name);
  }
}

cls_status cls_device_select(const cls_device_list *list, const char *sel, size_t *index, char *err,
                             size_t err_len) {
  if (err && err_len) err[0] = 0;
  if (!list || !index) return CLS_ERR_NULL_ARGUMENT;
  if (list->count == 0) {
    if (err) snprintf(err, err_len, "no OpenCL device to choose from");
    return CLS_ERR_NO_DEVICE;
  }
  while (sel && isspace((unsigned char)*sel)) sel++;
  if (!sel || !*sel || !strcmp(sel, "default")) {
    int i = best_of_type(list, CLS_DEVICE_GPU);
    if (i < 0) i = best_of_type(list, CLS_DEVICE_CPU);
    *index = i < 0 ? 0 : (size_t)i;
    return CLS_OK;
  }
  /* "P:D" — both parts decimal, nothing else. */
  const char *colon = strchr(sel, ':');
  if (colon && isdigit((unsigned char)sel[0])) {
    char *end1, *end2;
    long p = strtol(sel, &end1, 10);
    long d = (end1 == colon) ? strtol(colon + 1, &end2, 10) : -1;
    if (end1 != colon || colon[1] == 0 || !isdigit((unsigned char)colon[1]) || *end2 != 0) {
      if (err) snprintf(err, err_len, "device selector '%s' is not of the form P:D (e.g. 0:1)", sel);
      return CLS_ERR_BAD_SELECTOR;
    }
    for (size_t i = 0; i < list->count; i++)
      if (list->devices[i].platform_index == p && list->devices[i].device_index == d) {
        *index = i;
        return CLS_OK;
      }
    if (err) {
      snprintf(err, err_len, "no device %ld:%ld; the devices are:", p, d);
      list_devices_into(list, err, err_len);
    }
    return CLS_ERR_DEVICE_NOT_FOUND;
  }
  int i = -1;
  if (!strcmp(sel, "gpu") || !strcmp(sel, "GPU"))
    i = best_of_type(list, CLS_DEVICE_GPU);
  else if (!strcmp(sel, "cpu") || !strcmp(sel, "CPU"))
    i = best_of_type(list, CLS_DEVICE_CPU);
  else if (!strcmp(sel, "accelerator"))
    i = best_of_type(list, CLS_DEVICE_ACCELERATOR);
  else
    for (size_t j = 0; j < list->count && i < 0; j++) {
      const cls_device_info *d = &list->devices[j];
      if (contains_ci(d->name, sel) || contains_ci(d->vendor, sel) || contains_ci(d->platform_name, sel))
        i = (int)j;
    }
  if (i < 0) {
    if (err) {
      snprintf(err, err_len, "no device matches '%s'; the devices are:", sel);
      list_devices_into(list, err, err_len);
    }
    return CLS_ERR_DEVICE_NOT_FOUND;
  }
  *index = (size_t)i;
  return CLS_OK;
}
