/*
 * src/device/cache.c — the on-disk cache of compiled program binaries.
 *
 * Building kernels takes seconds on some drivers (and PoCL), so binaries are
 * kept in CLSCALE_CACHE_DIR. An entry's file name is a 64-bit hash of its
 * key, but the file also holds the whole key (source, build options,
 * platform, device, driver version), and a checksum of everything: a hash
 * collision, a driver update, a half-written or bit-flipped file are all
 * detected, the entry is deleted and the program rebuilt from source.
 *
 * Where the driver keeps built kernels itself (PoCL), the cache stands aside
 * (ctx->binary_cache is 0, see CLS_BINARY_CACHE_AUTO in clscale/device.h):
 * PoCL compiles every kernel of a program when asked for its binary, which
 * saving an entry does: more than half of a cold start went there.
 *
 * File layout (little-endian host order; the cache is per machine):
 *   "CLSCBIN1" | u64 key_len | key | u64 bin_len | binary | u64 checksum
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "context_internal.h"
#include "core/fault.h"
#include "core/file.h"

static const char magic[8] = {'C', 'L', 'S', 'C', 'B', 'I', 'N', '1'};

static uint64_t fnv1a(uint64_t h, const void *data, size_t len) {
  const unsigned char *p = data;
  for (size_t i = 0; i < len; i++) {
    h ^= p[i];
    h *= 0x100000001b3ULL;
  }
  return h;
}
#define FNV_START 0xcbf29ce484222325ULL

/* The key: everything that makes a binary valid for this device. */
static char *make_key(const cls_context *ctx, const char *source, const char *options, size_t *len) {
  const cls_device_info *d = &ctx->info;
  const char *fmt = "clscale program cache v1\nplatform=%s\nplatform_version=%s\ndevice=%s\ndevice_version=%s\n"
                    "driver=%s\noptions=%s\nsource:\n%s";
  int n = snprintf(NULL, 0, fmt, d->platform_name, d->platform_version, d->name, d->version, d->driver_version,
                   options, source);
  if (n < 0) return NULL;
  char *key = malloc((size_t)n + 1);
  if (!key) return NULL;
  snprintf(key, (size_t)n + 1, fmt, d->platform_name, d->platform_version, d->name, d->version, d->driver_version,
           options, source);
  *len = (size_t)n;
  return key;
}

static void entry_path(const cls_context *ctx, const char *name, const char *key, size_t key_len, char *out,
                       size_t out_len) {
  snprintf(out, out_len, "%s/%s-%016llx.bin", ctx->cache_dir, name,
           (unsigned long long)fnv1a(FNV_START, key, key_len));
}

/* Parses and verifies an entry; returns the binary's position or -1. */
static int parse_entry(const unsigned char *data, size_t len, const char *key, size_t key_len, size_t *bin_off,
                       size_t *bin_len) {
  uint64_t kl, bl, sum;
  if (len < sizeof magic + 3 * sizeof(uint64_t) || memcmp(data, magic, sizeof magic)) return -1;
  memcpy(&kl, data + 8, 8);
  if (kl != key_len || len < 16 + kl + 16) return -1;
  if (memcmp(data + 16, key, key_len)) return -1; /* stale: another source, driver or device */
  memcpy(&bl, data + 16 + kl, 8);
  if (bl == 0 || len != 16 + kl + 8 + bl + 8) return -1; /* truncated or padded */
  memcpy(&sum, data + len - 8, 8);
  if (sum != fnv1a(FNV_START, data, len - 8)) return -1; /* corrupt */
  *bin_off = 16 + kl + 8;
  *bin_len = bl;
  return 0;
}

cl_program cls__cache_load(cls_context *ctx, const char *name, const char *source, const char *options) {
  if (!ctx->binary_cache) {
    if (ctx->cache_dir[0]) ctx->cache_stats.left_to_driver++;
    return NULL;
  }
  size_t key_len;
  char *key = make_key(ctx, source, options, &key_len);
  if (!key) return NULL;
  char path[1200];
  entry_path(ctx, name, key, key_len, path, sizeof path);
  char *text = NULL;
  size_t len = 0;
  /* A missing or unreadable entry is a miss, whatever the reason. */
  if (cls_read_file(path, 0, &text, &len, NULL, 0) != CLS_OK) {
    free(key);
    ctx->cache_stats.misses++;
    return NULL;
  }
  const unsigned char *data = (const unsigned char *)text;
  size_t off, bl;
  cl_program prog = NULL;
  if (parse_entry(data, len, key, key_len, &off, &bl) == 0) {
    const unsigned char *bin = data + off;
    cl_int status = CL_SUCCESS, rc;
    prog = clCreateProgramWithBinary(ctx->cl, 1, &ctx->device, &bl, &bin, &status, &rc);
    if (prog && (rc != CL_SUCCESS || status != CL_SUCCESS ||
                 clBuildProgram(prog, 1, &ctx->device, options, NULL, NULL) != CL_SUCCESS)) {
      clReleaseProgram(prog);
      prog = NULL;
    }
  }
  free(text);
  free(key);
  if (prog) {
    ctx->cache_stats.hits++;
  } else {
    /* Never trust it again: remove it so the rebuild replaces it. */
    remove(path);
    ctx->cache_stats.rejected++;
  }
  return prog;
}

static int mkdir_p(const char *dir) {
  char tmp[1024];
  snprintf(tmp, sizeof tmp, "%s", dir);
  for (char *p = tmp + 1; *p; p++)
    if (*p == '/') {
      *p = 0;
      if (mkdir(tmp, 0755) != 0 && errno != EEXIST) return -1;
      *p = '/';
    }
  if (mkdir(tmp, 0755) != 0 && errno != EEXIST) return -1;
  return 0;
}

void cls__cache_save(cls_context *ctx, const char *name, const char *source, const char *options,
                     cl_program prog) {
  if (!ctx->binary_cache) return;
  size_t bin_len = 0;
  if (clGetProgramInfo(prog, CL_PROGRAM_BINARY_SIZES, sizeof bin_len, &bin_len, NULL) != CL_SUCCESS ||
      bin_len == 0) {
    ctx->cache_stats.write_errors++;
    return;
  }
  size_t key_len;
  char *key = make_key(ctx, source, options, &key_len);
  size_t total = 16 + key_len + 8 + bin_len + 8;
  unsigned char *data = key ? malloc(total) : NULL;
  if (!data) {
    free(key);
    ctx->cache_stats.write_errors++;
    return;
  }
  unsigned char *bin = data + 16 + key_len + 8;
  uint64_t kl = key_len, bl = bin_len;
  memcpy(data, magic, 8);
  memcpy(data + 8, &kl, 8);
  memcpy(data + 16, key, key_len);
  memcpy(data + 16 + key_len, &bl, 8);
  if (clGetProgramInfo(prog, CL_PROGRAM_BINARIES, sizeof bin, &bin, NULL) != CL_SUCCESS) {
    free(data);
    free(key);
    ctx->cache_stats.write_errors++;
    return;
  }
  uint64_t sum = fnv1a(FNV_START, data, total - 8);
  memcpy(data + total - 8, &sum, 8);

  char path[1200], tmp[1300];
  entry_path(ctx, name, key, key_len, path, sizeof path);
  free(key);
  /* Temporary name in the same folder, then rename: readers see either no
   * entry or a complete one, even with concurrent processes. */
  snprintf(tmp, sizeof tmp, "%s.XXXXXX", path);
  int fd = (mkdir_p(ctx->cache_dir) == 0) ? mkstemp(tmp) : -1;
  int ok = 0;
  if (fd >= 0) {
    FILE *f = fdopen(fd, "wb");
    if (f) {
      ok = fwrite(data, 1, total, f) == total && !cls_fault(CLS_FAULT_WRITE, "kernel cache entry (tolerated)");
      ok = (fclose(f) == 0) && ok;
    } else {
      close(fd);
    }
    if (ok) ok = !cls_fault(CLS_FAULT_RENAME, "kernel cache entry (tolerated)") && rename(tmp, path) == 0;
    if (!ok) remove(tmp);
  }
  free(data);
  if (!ok) ctx->cache_stats.write_errors++;
}

void cls_cache_stats_get(const cls_context *ctx, cls_cache_stats *out) {
  if (!out) return;
  memset(out, 0, sizeof *out);
  if (ctx) *out = ctx->cache_stats;
}
