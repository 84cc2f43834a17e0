/*
 * src/device/params.c — choosing a parameter set for a device and turning
 * it, under a parameter table (layer.h), plus overrides into the -D options
 * programs are built with.
 */
#include <ctype.h>
#include <errno.h>
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

/* The device layer's own families, merged after the table's. */
static const cls__param_family *const own_families[] = {&cls__params_peak};
#define OWN_COUNT (sizeof own_families / sizeof own_families[0])

/* The f-th family of table then of the device layer's own; NULL past them. */
static const cls__param_family *family_at(const cls__param_table *table, size_t f) {
  size_t n = table ? table->count : 0;
  if (f < n) return table->families[f];
  return f - n < OWN_COUNT ? own_families[f - n] : NULL;
}

static const cls__param_range *find_range(const cls__param_table *table, const char *name, size_t len,
                                          const cls__param_family **fam) {
  for (size_t f = 0; family_at(table, f); f++)
    for (const cls__param_range *r = family_at(table, f)->ranges; r && r->name; r++)
      if (strlen(r->name) == len && !strncmp(r->name, name, len)) {
        *fam = family_at(table, f);
        return r;
      }
  return NULL;
}

/* Whether list ("NAME=V NAME=V") defines name. */
static int defines_name(const char *list, const char *name) {
  size_t n = strlen(name);
  for (const char *q = list; q && (q = strstr(q, name)) != NULL; q += n)
    if ((q == list || q[-1] == ' ') && q[n] == '=') return 1;
  return 0;
}

/* err = why NAME=VALUE (token, len characters) is refused, with the
 * parameter's range and the sets that define it, so that the message alone
 * says what to write instead. */
static void describe(char *err, size_t err_len, const char *token, size_t len, const char *why,
                     const cls__param_range *r, const cls__param_family *fam) {
  if (!err || !err_len) return;
  int n = snprintf(err, err_len, "device parameter %.*s %s: %s takes %s from %ld to %ld (%s family; ", (int)len,
                   token, why, r->name, r->pow2 ? "a power of two" : "an integer", r->min, r->max, fam->name);
  int sets_n = 0;
  for (int i = 0; i < CLS__SET_COUNT && n >= 0 && (size_t)n < err_len; i++)
    if (defines_name(fam->by_set[i], r->name))
      n += snprintf(err + n, err_len - (size_t)n, "%s%s", sets_n++ ? ", " : "defined by the sets ", sets[i].name);
  if (n >= 0 && (size_t)n < err_len)
    snprintf(err + n, err_len - (size_t)n, "%s)", sets_n ? "" : "no set defines it: an override only");
}

/* Checks one NAME=VALUE token (len characters, '=' at eq) against its
 * range: 0, or -1 with err set. The value must be written as %ld writes it:
 * the kernels read it through the C preprocessor (where 010 is 8) and
 * cls__param through strtol, and a canonical form reads the same in both. */
static int check_token(const cls__param_table *table, const char *token, size_t len, const char *eq, char *err,
                       size_t err_len) {
  size_t name_len = (size_t)(eq - token);
  const cls__param_family *fam = NULL;
  const cls__param_range *r = find_range(table, token, name_len, &fam);
  if (!r) {
    if (err && err_len) {
      int n = snprintf(err, err_len, "unknown device parameter '%.*s'; the known ones are:", (int)name_len, token);
      for (size_t f = 0; family_at(table, f); f++)
        for (const cls__param_range *k = family_at(table, f)->ranges; k && k->name; k++)
          if (n >= 0 && (size_t)n < err_len) n += snprintf(err + n, err_len - (size_t)n, " %s", k->name);
    }
    return -1;
  }
  char value[32], canon[32];
  size_t vlen = len - name_len - 1;
  long v = 0;
  int ok = vlen > 0 && vlen < sizeof value;
  if (ok) {
    memcpy(value, eq + 1, vlen);
    value[vlen] = 0;
    errno = 0;
    char *end;
    v = strtol(value, &end, 10);
    snprintf(canon, sizeof canon, "%ld", v);
    ok = errno == 0 && *end == 0 && !strcmp(canon, value);
  }
  if (!ok) {
    describe(err, err_len, token, len, "is not a decimal integer", r, fam);
    return -1;
  }
  if (v < r->min || v > r->max || (r->pow2 && (v <= 0 || (v & (v - 1)) != 0))) {
    describe(err, err_len, token, len, "is out of range", r, fam);
    return -1;
  }
  return 0;
}

/* Appends "-DNAME=VALUE" for each NAME=VALUE in list (separated by spaces
 * or commas), replacing an earlier definition of the same NAME, after
 * checking each against its range. -1: malformed or refused (err says
 * why), -2: out does not fit. */
static int merge_defines(const cls__param_table *table, char *out, size_t out_len, const char *list, char *err,
                         size_t err_len) {
  const char *p = list;
  while (*p) {
    while (*p == ' ' || *p == ',') p++;
    if (!*p) break;
    const char *start = p;
    while (*p && *p != ' ' && *p != ',') p++;
    size_t len = (size_t)(p - start);
    const char *eq = memchr(start, '=', len);
    int name_ok = eq && eq != start;
    for (const char *c = start; name_ok && c < eq; c++)
      if (!isalnum((unsigned char)*c) && *c != '_') name_ok = 0;
    if (!name_ok) {
      if (err && err_len)
        snprintf(err, err_len, "malformed device parameter '%.*s': write NAME=VALUE pairs separated by commas",
                 (int)len, start);
      return -1;
    }
    if (check_token(table, start, len, eq, err, err_len)) return -1;
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
    if (n < 0 || (size_t)n >= out_len - used) {
      if (err && err_len) snprintf(err, err_len, "device parameters: the -D string does not fit");
      return -2;
    }
  }
  return 0;
}

cls_status cls__params_build_defines(const cls__param_table *table, const char *set, const char *override,
                                     char *out, size_t out_len, char *err, size_t err_len) {
  if (err && err_len) err[0] = 0;
  int i = set_index(set);
  if (i < 0) {
    if (err && err_len) snprintf(err, err_len, "unknown parameter set '%s'", set);
    return CLS_ERR_INVALID_VALUE;
  }
  out[0] = 0;
  /* The table's own values are checked too: a range that refuses one is a
   * bug of the table, found by the first context any test creates. */
  for (size_t f = 0; family_at(table, f); f++)
    if (merge_defines(table, out, out_len, family_at(table, f)->by_set[i], err, err_len)) return CLS_ERR_INTERNAL;
  if (override && *override) {
    int r = merge_defines(table, out, out_len, override, err, err_len);
    if (r) return r == -1 ? CLS_ERR_INVALID_VALUE : CLS_ERR_INTERNAL;
  }
  return CLS_OK;
}

cls_status cls__params_check(const cls__param_table *table, const char *override, char *err, size_t err_len) {
  char defines[sizeof(((cls_context *)0)->defines)];
  return cls__params_build_defines(table, sets[0].name, override, defines, sizeof defines, err, err_len);
}

cls_status cls__params_defines(const cls__param_table *table, const char *set_name, char *out, size_t out_len) {
  if (!set_name || !out || !out_len) return CLS_ERR_NULL_ARGUMENT;
  return cls__params_build_defines(table, set_name, NULL, out, out_len, NULL, 0);
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
