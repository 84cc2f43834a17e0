/*
 * src/device/params.c — choosing a parameter set for a device and turning
 * it, under a parameter table (layer.h), plus overrides into the -D options
 * programs are built with.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "context_internal.h"

static const struct {
  const char *name;
  const char *description;
} sets[CLS__SET_COUNT] = {
    [CLS__SET_CPU] = {"cpu", "CPU devices (PoCL, Intel CPU runtime): a row per work-item, wide register tiles"},
    [CLS__SET_NVIDIA_GPU] = {"nvidia-gpu", "NVIDIA GPUs: 64x64 tiles, work-group reductions per row"},
    [CLS__SET_AMD_GPU] = {"amd-gpu", "AMD GPUs (ROCm, rusticl): 64x64 tiles, work-group reductions per row"},
    [CLS__SET_INTEL_GPU] = {"intel-gpu", "Intel GPUs: 32x32 tiles, work-group reductions per row"},
    [CLS__SET_GENERIC_GPU] = {"generic-gpu", "any other GPU or accelerator: small, safe tiles"},
};

size_t cls_params_count(void) {
  return CLS__SET_COUNT;
}
const char *cls_params_name(size_t i) {
  return i < CLS__SET_COUNT ? sets[i].name : NULL;
}
const char *cls_params_description(size_t i) {
  return i < CLS__SET_COUNT ? sets[i].description : NULL;
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

const char *cls__params_set_for(const cls_device_info *info) {
  if (info->type == CLS_DEVICE_CPU) return sets[CLS__SET_CPU].name;
  if (contains_ci(info->vendor, "nvidia") || contains_ci(info->platform_name, "nvidia"))
    return sets[CLS__SET_NVIDIA_GPU].name;
  if (contains_ci(info->vendor, "advanced micro") || contains_ci(info->vendor, "amd") ||
      contains_ci(info->platform_name, "amd"))
    return sets[CLS__SET_AMD_GPU].name;
  if (contains_ci(info->vendor, "intel")) return sets[CLS__SET_INTEL_GPU].name;
  return sets[CLS__SET_GENERIC_GPU].name;
}

static int set_index(const char *name) {
  for (int i = 0; i < CLS__SET_COUNT; i++)
    if (!strcmp(sets[i].name, name)) return i;
  return -1;
}

/* Appends "-DNAME=VALUE" for each NAME=VALUE in list (separated by spaces
 * or commas), replacing an earlier definition of the same NAME. */
static int merge_defines(char *out, size_t out_len, const char *list) {
  const char *p = list;
  while (*p) {
    while (*p == ' ' || *p == ',') p++;
    if (!*p) break;
    const char *start = p;
    while (*p && *p != ' ' && *p != ',') p++;
    size_t len = (size_t)(p - start);
    const char *eq = memchr(start, '=', len);
    if (!eq || eq == start) return -1;
    for (const char *c = start; c < eq; c++)
      if (!isalnum((unsigned char)*c) && *c != '_') return -1;
    size_t name_len = (size_t)(eq - start);
    /* Remove an earlier "-DNAME=..." token. */
    char *q = out;
    while ((q = strstr(q, "-D")) != NULL) {
      if (!strncmp(q + 2, start, name_len) && q[2 + name_len] == '=' && (q == out || q[-1] == ' ')) {
        char *end = strchr(q, ' ');
        if (end)
          memmove(q, end + 1, strlen(end + 1) + 1);
        else
          *q = 0;
      } else {
        q += 2;
      }
    }
    size_t used = strlen(out);
    while (used > 0 && out[used - 1] == ' ') out[--used] = 0;
    int n = snprintf(out + used, out_len - used, "%s-D%.*s", used ? " " : "", (int)len, start);
    if (n < 0 || (size_t)n >= out_len - used) return -2;
  }
  return 0;
}

/* The device layer's own families, merged after the table's. */
static const cls__param_family *const own_families[] = {&cls__params_peak};

cls_status cls__params_build_defines(const cls__param_table *table, const char *set, const char *override,
                                     char *out, size_t out_len) {
  int i = set_index(set);
  if (i < 0) return CLS_ERR_INVALID_VALUE;
  out[0] = 0;
  for (size_t f = 0; table && f < table->count; f++)
    if (merge_defines(out, out_len, table->families[f]->by_set[i])) return CLS_ERR_INTERNAL;
  for (size_t f = 0; f < sizeof own_families / sizeof own_families[0]; f++)
    if (merge_defines(out, out_len, own_families[f]->by_set[i])) return CLS_ERR_INTERNAL;
  if (override && *override && merge_defines(out, out_len, override)) return CLS_ERR_INVALID_VALUE;
  return CLS_OK;
}

cls_status cls__params_defines(const cls__param_table *table, const char *set_name, char *out, size_t out_len) {
  if (!set_name || !out || !out_len) return CLS_ERR_NULL_ARGUMENT;
  return cls__params_build_defines(table, set_name, NULL, out, out_len);
}

long cls__param(const cls_context *ctx, const char *name, long fallback) {
  if (!ctx || !name) return fallback;
  size_t n = strlen(name);
  for (const char *q = ctx->defines; (q = strstr(q, "-D")) != NULL; q += 2)
    if ((q == ctx->defines || q[-1] == ' ') && !strncmp(q + 2, name, n) && q[2 + n] == '=') {
      char *end;
      long v = strtol(q + 3 + n, &end, 0);
      if (end != q + 3 + n) return v;
      return fallback;
    }
  return fallback;
}
