/*
 * tests/test_device.c — the device layer: selectors, contexts, the binary
 * cache, buffers, counters and traces.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "device/layer.h"
#include "test_util.h"

/* ------------------------------------------------------------ selectors */

static cls_device_info fake(int p, int d, cls_device_type t, const char *name, const char *vendor,
                            const char *platform, unsigned cu, unsigned mhz) {
  cls_device_info i;
  memset(&i, 0, sizeof i);
  i.platform_index = p;
  i.device_index = d;
  i.type = t;
  snprintf(i.name, sizeof i.name, "%s", name);
  snprintf(i.vendor, sizeof i.vendor, "%s", vendor);
  snprintf(i.platform_name, sizeof i.platform_name, "%s", platform);
  i.compute_units = cu;
  i.clock_mhz = mhz;
  return i;
}

/* Fake speeds for cls__device_best: speeds[i] for device i of the list,
 * and how many times the ranking asked. */
typedef struct {
  const cls_device_info *devices;
  const double *speeds;
  int calls;
} fake_speeds;

static double fake_speed(const cls_device_info *d, void *user) {
  fake_speeds *f = user;
  f->calls++;
  return f->speeds[d - f->devices];
}

static void test_device_ranking(void **state) {
  (void)state;
  /* PoCL and Intel's CPU runtime on one CPU: Intel reports 0 MHz. */
  cls_device_info devs[4] = {
      fake(0, 0, CLS_DEVICE_CPU, "pthread-skylake", "GenuineIntel", "Portable Computing Language", 2, 2600),
      fake(1, 0, CLS_DEVICE_CPU, "Intel(R) Xeon(R) Processor", "Intel(R) Corporation", "Intel(R) OpenCL", 2, 0),
      fake(2, 0, CLS_DEVICE_GPU, "gfx1030", "AMD", "AMD APP", 40, 2500),
      fake(2, 1, CLS_DEVICE_GPU, "gfx900", "AMD", "AMD APP", 64, 1600),
  };
  cls_device_list list = {devs, 4, NULL, 0};
  double speeds[4] = {150, 210, 0, 0};
  fake_speeds f = {devs, speeds, 0};
  /* The 0 MHz device is measured, not ranked last: Intel wins at 210. */
  assert_int_equal(cls__device_best(&list, CLS_DEVICE_CPU, fake_speed, &f), 1);
  assert_int_equal(f.calls, 2);
  speeds[1] = 160; /* within 15%: a tie, and PoCL reports a clock */
  assert_int_equal(cls__device_best(&list, CLS_DEVICE_CPU, fake_speed, &f), 0);
  speeds[1] = 90; /* slower when measured: PoCL */
  assert_int_equal(cls__device_best(&list, CLS_DEVICE_CPU, fake_speed, &f), 0);
  /* A failed measurement ranks below a measured device. */
  speeds[0] = 0;
  assert_int_equal(cls__device_best(&list, CLS_DEVICE_CPU, fake_speed, &f), 1);
  speeds[0] = -1;
  speeds[1] = 0; /* both failed: units x clock, so the clocked one */
  assert_int_equal(cls__device_best(&list, CLS_DEVICE_CPU, fake_speed, &f), 0);
  /* Every GPU reports a clock: units x clock (64 x 1600 > 40 x 2500), no
   * measurement. */
  f.calls = 0;
  assert_int_equal(cls__device_best(&list, CLS_DEVICE_GPU, fake_speed, &f), 3);
  assert_int_equal(f.calls, 0);
  /* A lone 0 MHz device of its type is chosen without a measurement. */
  cls_device_list intel_only = {devs + 1, 1, NULL, 0};
  f.devices = devs + 1;
  f.speeds = speeds + 1;
  assert_int_equal(cls__device_best(&intel_only, CLS_DEVICE_CPU, fake_speed, &f), 0);
  assert_int_equal(f.calls, 0);
  assert_int_equal(cls__device_best(&intel_only, CLS_DEVICE_GPU, fake_speed, &f), -1);
  /* Without a speed function a 0 MHz device ranks by units x clock. */
  assert_int_equal(cls__device_best(&list, CLS_DEVICE_CPU, NULL, NULL), 0);
}

static void test_selectors(void **state) {
  (void)state;
  cls_device_info devs[4] = {
      fake(0, 0, CLS_DEVICE_CPU, "pthread-skylake", "GenuineIntel", "Portable Computing Language", 8, 3000),
      fake(1, 0, CLS_DEVICE_GPU, "NVIDIA GeForce GTX 1050", "NVIDIA Corporation", "NVIDIA CUDA", 5, 1400),
      fake(1, 1, CLS_DEVICE_GPU, "NVIDIA A100", "NVIDIA Corporation", "NVIDIA CUDA", 108, 1410),
      fake(2, 0, CLS_DEVICE_GPU, "gfx1030", "Advanced Micro Devices, Inc.", "AMD Accelerated Parallel Processing",
           40, 2500),
  };
  cls_device_list list = {devs, 4, NULL, 0};
  size_t i = 99;
  char err[2048];

  assert_int_equal(cls_device_select(&list, NULL, &i, err, sizeof err), CLS_OK);
  assert_int_equal(i, 2); /* fastest GPU: 108 x 1410 */
  assert_int_equal(cls_device_select(&list, "", &i, err, sizeof err), CLS_OK);
  assert_int_equal(i, 2);
  assert_int_equal(cls_device_select(&list, "cpu", &i, err, sizeof err), CLS_OK);
  assert_int_equal(i, 0);
  assert_int_equal(cls_device_select(&list, "gpu", &i, err, sizeof err), CLS_OK);
  assert_int_equal(i, 2);
  assert_int_equal(cls_device_select(&list, "1:0", &i, err, sizeof err), CLS_OK);
  assert_int_equal(i, 1);
  assert_int_equal(cls_device_select(&list, "2:0", &i, err, sizeof err), CLS_OK);
  assert_int_equal(i, 3);
  assert_int_equal(cls_device_select(&list, "amd", &i, err, sizeof err), CLS_OK);
  assert_int_equal(i, 3);
  assert_int_equal(cls_device_select(&list, "GFX1030", &i, err, sizeof err), CLS_OK);
  assert_int_equal(i, 3);
  assert_int_equal(cls_device_select(&list, "pocl", &i, err, sizeof err), CLS_ERR_DEVICE_NOT_FOUND);
  assert_int_equal(cls_device_select(&list, "portable", &i, err, sizeof err), CLS_OK);
  assert_int_equal(i, 0);
  assert_int_equal(cls_device_select(&list, "a100", &i, err, sizeof err), CLS_OK);
  assert_int_equal(i, 2);

  /* Not found: the message lists every device. */
  assert_int_equal(cls_device_select(&list, "intel arc", &i, err, sizeof err), CLS_ERR_DEVICE_NOT_FOUND);
  assert_non_null(strstr(err, "intel arc"));
  assert_non_null(strstr(err, "1:1"));
  assert_non_null(strstr(err, "gfx1030"));
  assert_int_equal(cls_device_select(&list, "3:0", &i, err, sizeof err), CLS_ERR_DEVICE_NOT_FOUND);
  assert_non_null(strstr(err, "0:0"));
  assert_int_equal(cls_device_select(&list, "1:7", &i, err, sizeof err), CLS_ERR_DEVICE_NOT_FOUND);

  /* Malformed indices. */
  const char *bad[] = {"1:", "1:x", "1:0:0", "1:-1", "1x:0"};
  for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++)
    assert_int_equal(cls_device_select(&list, bad[k], &i, err, sizeof err), CLS_ERR_BAD_SELECTOR);

  /* No GPU: the default is the CPU device. */
  cls_device_list cpu_only = {devs, 1, NULL, 0};
  assert_int_equal(cls_device_select(&cpu_only, NULL, &i, err, sizeof err), CLS_OK);
  assert_int_equal(i, 0);
  assert_int_equal(cls_device_select(&cpu_only, "gpu", &i, err, sizeof err), CLS_ERR_DEVICE_NOT_FOUND);

  cls_device_list empty = {devs, 0, NULL, 0};
  assert_int_equal(cls_device_select(&empty, NULL, &i, err, sizeof err), CLS_ERR_NO_DEVICE);
  assert_int_equal(cls_device_select(NULL, NULL, &i, err, sizeof err), CLS_ERR_NULL_ARGUMENT);
  assert_int_equal(cls_device_select(&list, NULL, NULL, err, sizeof err), CLS_ERR_NULL_ARGUMENT);
}

static void test_real_devices_and_contexts(void **state) {
  (void)state;
  char err[4096];
  cls_device_list *list = NULL;
  assert_int_equal(cls_devices_list(&list, err, sizeof err), CLS_OK);
  assert_true(list->count >= 1);
  for (size_t i = 0; i < list->count; i++) {
    assert_true(list->devices[i].compute_units >= 1);
    assert_true(list->devices[i].name[0] != 0);
    assert_true(list->devices[i].params_name[0] != 0);
    assert_true(list->devices[i].params_reason[0] != 0);
  }
  cls_device_list_free(list);
  assert_int_equal(cls_devices_list(NULL, err, sizeof err), CLS_ERR_NULL_ARGUMENT);

  cls_context_options o;
  cls_context *ctx = (cls_context *)1;
  cls_context_options_init(&o);
  o.device = "no-such-device-anywhere";
  assert_int_equal(cls_context_create(&o, &ctx, err, sizeof err), CLS_ERR_DEVICE_NOT_FOUND);
  assert_null(ctx);
  assert_non_null(strstr(err, "no-such-device-anywhere"));

  cls_context_options_init(&o);
  o.matmul_backend = "cublas";
  assert_int_equal(cls_context_create(&o, &ctx, err, sizeof err), CLS_ERR_UNKNOWN_BACKEND);
  assert_non_null(strstr(err, "cublas"));

  cls_context_options_init(&o);
  o.params = "MM_TM";
  assert_int_equal(cls_context_create(&o, &ctx, err, sizeof err), CLS_ERR_INVALID_VALUE);
  o.params = "MM TM=3";
  assert_int_equal(cls_context_create(&o, &ctx, err, sizeof err), CLS_ERR_INVALID_VALUE);

  /* A set named in the options replaces the device's own, and says so. */
  cls_context_options_init(&o);
  assert_int_equal(cls_context_create(&o, &ctx, err, sizeof err), CLS_OK);
  char own[32];
  snprintf(own, sizeof own, "%s", cls_context_device(ctx)->params_name);
  cls_context_destroy(ctx);
  o.param_set = strcmp(own, "generic-gpu") ? "generic-gpu" : "cpu";
  assert_int_equal(cls_context_create(&o, &ctx, err, sizeof err), CLS_OK);
  assert_string_equal(cls_context_device(ctx)->params_name, o.param_set);
  assert_non_null(strstr(cls_context_device(ctx)->params_reason, "named by options.param_set"));
  assert_non_null(strstr(cls_context_device(ctx)->params_reason, own));
  cls_context_destroy(ctx);

  /* Overrides reach the defines. */
  cls_context_options_init(&o);
  o.params = "ROW_VARIANT=1,MM_NPW=42";
  assert_int_equal(cls_context_create(&o, &ctx, err, sizeof err), CLS_OK);
  assert_int_equal(cls__param(ctx, "ROW_VARIANT", -1), 1);
  assert_int_equal(cls__param(ctx, "MM_NPW", -1), 42);
  assert_int_equal(cls__param(ctx, "NOT_SET", -7), -7);
  assert_string_equal(cls_last_error(ctx), "");
  cls_context_destroy(ctx);
  cls_context_destroy(NULL);
  assert_non_null(cls_last_error(NULL));
  assert_int_equal(cls_context_create(NULL, NULL, err, sizeof err), CLS_ERR_NULL_ARGUMENT);
}

/* Every bad value is refused before any build, with the parameter, its
 * range and the sets that define it (issue 14); an unknown name lists the
 * known ones. */
static void test_params_checked(void **state) {
  (void)state;
  static const char *const bad[] = {"MM_TM=abc",       "MM_TM=0",   "MM_TM=-64", "MM_TM=3",
                                    "MM_TM=999999999", "MM_TM=064", "MM_TM=",    "MM_TM=99999999999999999999999"};
  char err[4096];
  cls_context *ctx = NULL;
  cls_context_options o;
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    cls_context_options_init(&o);
    o.params = bad[i];
    assert_int_equal(cls_context_create(&o, &ctx, err, sizeof err), CLS_ERR_INVALID_VALUE);
    assert_null(ctx);
    assert_non_null(strstr(err, bad[i]));
    assert_non_null(strstr(err, "MM_TM takes a power of two from 4 to 256"));
    assert_non_null(strstr(err, "defined by the sets cpu, nvidia-gpu"));
    assert_non_null(strstr(err, "`params`"));
    assert_int_equal(cls_params_check(bad[i], err, sizeof err), CLS_ERR_INVALID_VALUE);
    assert_non_null(strstr(err, "MM_TM takes"));
  }
  cls_context_options_init(&o);
  o.params = "ROW_VARIANT=1,NO_SUCH_PARAM=1";
  assert_int_equal(cls_context_create(&o, &ctx, err, sizeof err), CLS_ERR_INVALID_VALUE);
  assert_non_null(strstr(err, "unknown device parameter 'NO_SUCH_PARAM'"));
  assert_non_null(strstr(err, " MM_TM "));
  assert_non_null(strstr(err, " PEAK_VW"));
  o.params = "MM_ADIRECT=3";
  assert_int_equal(cls_context_create(&o, &ctx, err, sizeof err), CLS_ERR_INVALID_VALUE);
  assert_non_null(strstr(err, "an override only"));
  o.params = "ROW_CVEC=3";
  assert_int_equal(cls_context_create(&o, &ctx, err, sizeof err), CLS_ERR_INVALID_VALUE);
  assert_non_null(strstr(err, "rows family"));
  /* The extremes of a range are admitted; no overrides at all is fine. */
  assert_int_equal(cls_params_check("MM_TM=256,MM_TN=4,CHOL_NB=12,RED_ITEMS=3,PEAK_VW=16", err, sizeof err),
                   CLS_OK);
  assert_int_equal(cls_params_check(NULL, err, sizeof err), CLS_OK);
  assert_int_equal(cls_params_check("", err, sizeof err), CLS_OK);

  /* A list longer than any fixed buffer is read to its end (once it was
   * cut at 512 bytes without a word): a bad value after 4 KiB is refused,
   * a good one there is the value the kernels get. */
  char *list = malloc(8192);
  assert_non_null(list);
  size_t n = 0;
  while (n < 4096) n += (size_t)snprintf(list + n, 8192 - n, "ROW_VARIANT=0,MM_TM=32,");
  snprintf(list + n, 8192 - n, "MM_TM=3");
  cls_context_options_init(&o);
  o.params = list;
  assert_int_equal(cls_context_create(&o, &ctx, err, sizeof err), CLS_ERR_INVALID_VALUE);
  assert_non_null(strstr(err, "MM_TM takes a power of two"));
  assert_int_equal(cls_params_check(list, err, sizeof err), CLS_ERR_INVALID_VALUE);
  snprintf(list + n, 8192 - n, "ROW_VARIANT=1");
  assert_int_equal(cls_context_create(&o, &ctx, err, sizeof err), CLS_OK);
  assert_int_equal(cls__param(ctx, "ROW_VARIANT", -1), 1);
  assert_int_equal(cls__param(ctx, "MM_TM", -1), 32);
  cls_context_destroy(ctx);
  free(list);
}

static void test_params_table(void **state) {
  (void)state;
  assert_true(cls_params_count() >= 5);
  char defs[1024];
  for (size_t i = 0; i < cls_params_count(); i++) {
    assert_non_null(cls_params_description(i));
    assert_int_equal(cls_params_defines(cls_params_name(i), "matmul", defs, sizeof defs), CLS_OK);
    assert_non_null(strstr(defs, "-DROW_VARIANT="));
  }
  assert_int_equal(cls_params_defines("no-such-set", "matmul", defs, sizeof defs), CLS_ERR_INVALID_VALUE);
  assert_null(cls_params_name(cls_params_count()));
}

/* ---------------------------------------------------------------- cache */

/* The binary cache's mode of the contexts below: ON, so that the cache is
 * tested on every driver (on PoCL, AUTO leaves programs to PoCL's cache). */
static int cache_mode = CLS_BINARY_CACHE_ON;

static cls_context *cache_context(const char *dir, int disable, const char *params, const char *kernel_dir) {
  cls_context_options o;
  cls_context_options_init(&o);
  o.cache_dir = dir;
  o.disable_cache = disable;
  o.binary_cache = cache_mode;
  o.params = params;
  o.kernel_dir = kernel_dir;
  cls_context *ctx = NULL;
  char err[4096];
  if (cls_context_create(&o, &ctx, err, sizeof err) != CLS_OK) fail_msg("%s", err);
  return ctx;
}

static cls_cache_stats prepare(const char *dir, int disable, const char *params, int expect_cached) {
  cls_context *ctx = cache_context(dir, disable, params, NULL);
  double secs = -1;
  int cached = -1;
  TEST_OK(ctx, cls_program_prepare(ctx, "peak", &secs, &cached));
  assert_true(secs >= 0);
  assert_int_equal(cached, expect_cached);
  /* The program works whatever path it came from (compiled, or rebuilt
   * from a cached binary): its copy kernel copies. */
  cl_kernel k;
  TEST_OK(ctx, cls__kernel(ctx, "peak", "peak_copy", &k));
  float src[64], got[64];
  for (int i = 0; i < 64; i++) src[i] = (float)i * 0.5f - 3.0f;
  cls_buffer *a = test_upload(ctx, src, 64), *b = NULL;
  TEST_OK(ctx, cls_buffer_alloc(ctx, 64, &b));
  TEST_OK(ctx, cls_buffer_fill(ctx, b, 0, 64, 0.0f));
  TEST_OK(ctx, cls__arg_mem(ctx, k, 0, a));
  TEST_OK(ctx, cls__arg_mem(ctx, k, 1, b));
  TEST_OK(ctx, cls__arg_uint(ctx, k, 2, 16));
  size_t global = 16;
  TEST_OK(ctx, cls__launch(ctx, "peak_copy", k, 1, &global, NULL, 0, 0));
  TEST_OK(ctx, cls_buffer_read(ctx, b, 0, 64, got));
  assert_memory_equal(src, got, sizeof src);
  cls_buffer_free(a);
  cls_buffer_free(b);
  cls_cache_stats st;
  cls_cache_stats_get(ctx, &st);
  cls_context_destroy(ctx);
  return st;
}

/* The single cache entry in dir whose name does not match `other`. */
static int find_entry(const char *dir, const char *other, char *out, size_t len) {
  char cmd[1400];
  snprintf(cmd, sizeof cmd, "ls %s/peak-*.bin 2>/dev/null", dir);
  FILE *p = popen(cmd, "r");
  if (!p) return -1;
  int found = -1;
  char line[1200];
  while (fgets(line, sizeof line, p)) {
    line[strcspn(line, "\n")] = 0;
    if (other && !strcmp(line, other)) continue;
    snprintf(out, len, "%s", line);
    found = 0;
  }
  pclose(p);
  return found;
}

static long file_size(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

static void test_cache(void **state) {
  (void)state;
  char dir[1024], entry[1200], entry2[1200];
  test_tmpdir("cache", dir, sizeof dir);

  cls_cache_stats st = prepare(dir, 0, NULL, 0); /* miss: compiled, then saved */
  assert_int_equal(st.misses, 1);
  assert_int_equal(st.hits, 0);
  assert_int_equal(st.write_errors, 0);
  assert_int_equal(find_entry(dir, NULL, entry, sizeof entry), 0);
  long size = file_size(entry);
  assert_true(size > 100);

  st = prepare(dir, 0, NULL, 1); /* hit */
  assert_int_equal(st.hits, 1);
  assert_int_equal(st.misses, 0);

  /* Corruption: flip a byte in the middle of the binary. */
  FILE *f = fopen(entry, "r+b");
  assert_non_null(f);
  fseek(f, size / 2, SEEK_SET);
  int c = fgetc(f);
  fseek(f, size / 2, SEEK_SET);
  fputc(c ^ 0x5a, f);
  fclose(f);
  st = prepare(dir, 0, NULL, 0);
  assert_int_equal(st.rejected, 1);
  assert_int_equal(st.hits, 0);
  /* Rebuilt and rewritten whole: the next context reads it back. (Not the
   * same bytes, nor even the same size: a runtime may embed a build counter
   * in its binaries, as Intel's does.) */
  st = prepare(dir, 0, NULL, 1);
  assert_int_equal(st.hits, 1);
  assert_int_equal(st.rejected, 0);

  /* Truncation, as a crash mid-write without the rename would leave:
   * detected, rebuilt (the program works, prepare checks), and the entry
   * rewritten so that the next context reads it. */
  size = file_size(entry);
  assert_int_equal(truncate(entry, size - 9), 0);
  st = prepare(dir, 0, NULL, 0);
  assert_int_equal(st.rejected, 1);
  assert_int_equal(st.hits, 0);
  st = prepare(dir, 0, NULL, 1);
  assert_int_equal(st.hits, 1);
  assert_int_equal(st.rejected, 0);

  /* A parameter the program does not name is not among its build options:
   * the same key (a hit). One it names is: another key, another entry (a
   * miss, not a hit). (PEAK_VW=2 is no set's value.) */
  st = prepare(dir, 0, "ROW_WG=32,ATTN_TK=16", 1);
  assert_int_equal(st.hits, 1);
  st = prepare(dir, 0, "PEAK_VW=2", 0);
  assert_int_equal(st.misses, 1);
  assert_int_equal(find_entry(dir, entry, entry2, sizeof entry2), 0);

  /* Stale: an entry of other options under this key's name is detected. */
  char cmd[2600];
  snprintf(cmd, sizeof cmd, "cp '%s' '%s'", entry, entry2);
  assert_int_equal(system(cmd), 0);
  st = prepare(dir, 0, "PEAK_VW=2", 0);
  assert_int_equal(st.rejected, 1);
  st = prepare(dir, 0, "PEAK_VW=2", 1);
  assert_int_equal(st.hits, 1);

  /* Disabled: nothing read, nothing written. */
  char dir2[1024], probe[1200];
  test_tmpdir("cache-off", dir2, sizeof dir2);
  st = prepare(dir2, 1, NULL, 0);
  assert_int_equal(st.hits + st.misses + st.rejected + st.write_errors, 0);
  assert_int_equal(find_entry(dir2, NULL, probe, sizeof probe), -1);

  /* A cache folder that cannot be created: the build still succeeds. */
  st = prepare("/proc/clscale-cannot-exist", 0, NULL, 0);
  assert_int_equal(st.write_errors, 1);
}

static int is_pocl(void) {
  cls_context *ctx = cache_context(NULL, 1, NULL, NULL);
  int pocl = !strcmp(cls_context_device(ctx)->platform_name, "Portable Computing Language");
  cls_context_destroy(ctx);
  return pocl;
}

/* AUTO stands aside where the driver keeps built kernels itself (PoCL with
 * its cache on: asking it for a binary compiles every kernel of the
 * program, issue 13) and is the cache elsewhere; OFF never writes; the
 * environment's choice is checked like any other setting. */
static void test_binary_cache_modes(void **state) {
  (void)state;
  char dir[1024], probe[1200];
  const char *pocl_cache = getenv("POCL_KERNEL_CACHE");
  int pocl = is_pocl() && (!pocl_cache || pocl_cache[0] == '1'); /* PoCL, its own cache on */

  test_tmpdir("cache-auto", dir, sizeof dir);
  cache_mode = CLS_BINARY_CACHE_AUTO;
  cls_cache_stats st = prepare(dir, 0, NULL, 0);
  assert_int_equal(st.left_to_driver, pocl ? 1 : 0);
  assert_int_equal(st.misses, pocl ? 0 : 1);
  assert_int_equal(find_entry(dir, NULL, probe, sizeof probe), pocl ? -1 : 0);
  if (pocl) {
    /* PoCL's own cache turned off: clscale's is the only one, so it is used. */
    setenv("POCL_KERNEL_CACHE", "0", 1);
    st = prepare(dir, 0, NULL, 0);
    if (pocl_cache)
      setenv("POCL_KERNEL_CACHE", pocl_cache, 1);
    else
      unsetenv("POCL_KERNEL_CACHE");
    assert_int_equal(st.misses, 1);
    assert_int_equal(st.left_to_driver, 0);
    assert_int_equal(find_entry(dir, NULL, probe, sizeof probe), 0);
  }

  test_tmpdir("cache-never", dir, sizeof dir);
  cache_mode = CLS_BINARY_CACHE_OFF;
  st = prepare(dir, 0, NULL, 0);
  assert_int_equal(st.left_to_driver, 1);
  assert_int_equal(st.hits + st.misses + st.rejected + st.write_errors, 0);
  assert_int_equal(find_entry(dir, NULL, probe, sizeof probe), -1);

  /* CLSCALE_BINARY_CACHE fills in for AUTO, and only for AUTO. */
  cache_mode = CLS_BINARY_CACHE_AUTO;
  setenv("CLSCALE_BINARY_CACHE", "on", 1);
  st = prepare(dir, 0, NULL, 0);
  assert_int_equal(st.misses, 1);
  assert_int_equal(find_entry(dir, NULL, probe, sizeof probe), 0);
  test_tmpdir("cache-never-env", dir, sizeof dir);
  setenv("CLSCALE_BINARY_CACHE", "off", 1);
  st = prepare(dir, 0, NULL, 0);
  assert_int_equal(st.left_to_driver, 1);
  assert_int_equal(find_entry(dir, NULL, probe, sizeof probe), -1);
  cache_mode = CLS_BINARY_CACHE_ON;
  st = prepare(dir, 0, NULL, 0);
  assert_int_equal(st.misses, 1);

  cls_context_options o;
  cls_context_options_init(&o);
  cls_context *ctx = NULL;
  char err[4096];
  setenv("CLSCALE_BINARY_CACHE", "sometimes", 1);
  assert_int_equal(cls_context_create(&o, &ctx, err, sizeof err), CLS_ERR_INVALID_VALUE);
  assert_null(ctx);
  assert_non_null(strstr(err, "CLSCALE_BINARY_CACHE is 'sometimes'; use auto, on or off"));
  unsetenv("CLSCALE_BINARY_CACHE");
  o.binary_cache = 7;
  assert_int_equal(cls_context_create(&o, &ctx, err, sizeof err), CLS_ERR_INVALID_VALUE);
  assert_non_null(strstr(err, "`binary_cache` is 7"));
}

/* A context lists the programs it built, in the order they were needed. */
static void test_program_list(void **state) {
  (void)state;
  cls_context *ctx = cache_context(NULL, 1, NULL, NULL);
  assert_int_equal(cls_context_program_count(ctx), 0);
  double s = -1;
  assert_null(cls_context_program_name(ctx, 0, &s));
  assert_true(s == 0);
  cl_kernel k;
  TEST_OK(ctx, cls__kernel(ctx, "peak", "peak_copy", &k));
  TEST_OK(ctx, cls__kernel(ctx, "peak", "peak_fma", &k)); /* the same program: built once */
  TEST_OK(ctx, cls_program_prepare(ctx, "reduce", NULL, NULL));
  assert_int_equal(cls_context_program_count(ctx), 2);
  assert_string_equal(cls_context_program_name(ctx, 0, &s), "peak");
  assert_true(s > 0);
  assert_string_equal(cls_context_program_name(ctx, 1, NULL), "reduce");
  assert_null(cls_context_program_name(ctx, 2, NULL));
  cls_context_destroy(ctx);
  assert_int_equal(cls_context_program_count(NULL), 0);
  assert_null(cls_context_program_name(NULL, 0, NULL));
}

/* ------------------------------------------------------- kernel sources */

/* Writes text to dir/name. */
static void put_file(const char *dir, const char *name, const char *text) {
  char path[1200];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fputs(text, f);
  fclose(f);
}

static void test_kernel_dir_and_build_errors(void **state) {
  (void)state;
  char dir[1024];
  test_tmpdir("kernels", dir, sizeof dir);
  put_file(dir, "peak.cl", "__kernel void peak_copy(__global float *x) { x[0] = undefined_symbol_here; }\n");
  cls_context *ctx = cache_context(NULL, 1, NULL, dir);
  cl_kernel k;
  assert_int_equal(cls__kernel(ctx, "peak", "peak_copy", &k), CLS_ERR_BUILD);
  assert_non_null(strstr(cls_last_error(ctx), "undefined_symbol_here"));
  assert_int_equal(cls__kernel(ctx, "softmax_missing", "x", &k), CLS_ERR_KERNEL_NOT_FOUND);
  assert_non_null(strstr(cls_last_error(ctx), "softmax_missing"));
  cls_context_destroy(ctx);

  /* Headers: inlined with #line framing, so errors name the header's line. */
  put_file(dir, "two.h", "#define TWO 2.0f\nfloat twice(float x) { return TWO * x; }\n");
  put_file(dir, "inc.cl",
           "/* a program */\n#include \"two.h\"\n__kernel void dbl(__global float *x) { x[0] = twice(x[0]); }\n");
  put_file(dir, "bad.h", "\n\nfloat broken(float x) { return x +; }\n");
  put_file(dir, "usesbad.cl", "#include \"bad.h\"\n__kernel void k(__global float *x) { x[0] = broken(x[0]); }\n");
  put_file(dir, "missing.cl", "#include \"nowhere.h\"\n");
  put_file(dir, "angle.cl", "#include <stdio.h>\n");
  ctx = cache_context(NULL, 1, NULL, dir);
  TEST_OK(ctx, cls__kernel(ctx, "inc", "dbl", &k));
  cls_buffer *one;
  TEST_OK(ctx, cls_buffer_alloc(ctx, 1, &one));
  TEST_OK(ctx, cls_buffer_fill(ctx, one, 0, 1, 1.5f));
  TEST_OK(ctx, cls__arg_mem(ctx, k, 0, one));
  size_t g1 = 1;
  TEST_OK(ctx, cls__launch(ctx, "dbl", k, 1, &g1, NULL, 1, 8));
  float v = 0;
  TEST_OK(ctx, cls_buffer_read(ctx, one, 0, 1, &v));
  assert_true(v == 3.0f);
  cls_buffer_free(one);
  assert_int_equal(cls__kernel(ctx, "usesbad", "k", &k), CLS_ERR_BUILD);
  assert_non_null(strstr(cls_last_error(ctx), "bad.h:3"));
  assert_int_equal(cls__kernel(ctx, "missing", "k", &k), CLS_ERR_KERNEL_NOT_FOUND);
  assert_non_null(strstr(cls_last_error(ctx), "nowhere.h"));
  assert_int_equal(cls__kernel(ctx, "angle", "k", &k), CLS_ERR_BUILD);
  assert_non_null(strstr(cls_last_error(ctx), "only #include"));
  cls_context_destroy(ctx);

  /* A program is built with the parameters its source names, headers
   * included, as whole words, and no others (the failing build's message
   * shows its options). */
  put_file(dir, "named.h", "#define FROM_HEADER ROW_VEC\n");
  put_file(dir, "named.cl",
           "#include \"named.h\"\n__kernel void k(__global float *x) { x[0] = MM_VW + FROM_HEADER + "
           "MM_VW2_NOT + XMM_MR + not_declared; }\n");
  ctx = cache_context(NULL, 1, "MM_VW=8,MM_VW2=8,MM_MR=3,ROW_VEC=16,ATTN_TK=16", dir);
  assert_int_equal(cls__kernel(ctx, "named", "k", &k), CLS_ERR_BUILD);
  const char *said = cls_last_error(ctx);
  assert_non_null(strstr(said, "options '-cl-std=CL1.2 "));
  assert_non_null(strstr(said, " -DMM_VW=8"));
  assert_non_null(strstr(said, " -DROW_VEC=16"));
  assert_null(strstr(said, "-DMM_VW2="));
  assert_null(strstr(said, "-DMM_MR="));
  assert_null(strstr(said, "-DATTN_TK="));
  assert_null(strstr(said, "-DPEAK_VW="));
  cls_context_destroy(ctx);

  /* The built-in programs list no headers. */
  for (size_t i = 0; i < cls_program_count(); i++) assert_null(strchr(cls_program_name(i), '.'));
  assert_null(cls_program_name(cls_program_count()));

  ctx = cache_context(NULL, 1, NULL, NULL);
  assert_int_equal(cls__kernel(ctx, "peak", "no_such_kernel", &k), CLS_ERR_KERNEL_NOT_FOUND);
  assert_int_equal(cls__kernel(ctx, "../etc/passwd", "x", &k), CLS_ERR_KERNEL_NOT_FOUND);
  assert_int_equal(cls__kernel(ctx, "nonexistent", "x", &k), CLS_ERR_KERNEL_NOT_FOUND);
  TEST_OK(ctx, cls__kernel(ctx, "peak", "peak_fma", &k));
  cls_context_destroy(ctx);
}

/* -------------------------------------------------------------- buffers */

static void test_buffers(void **state) {
  (void)state;
  cls_context *ctx = test_context(NULL, NULL);
  cls_buffer *b = NULL, *c = NULL;
  assert_int_equal(cls_buffer_alloc(ctx, 0, &b), CLS_ERR_INVALID_SIZE);
  assert_null(b);
  assert_int_equal(cls_buffer_alloc(ctx, (size_t)1 << 60, &b), CLS_ERR_OUT_OF_MEMORY);
  assert_non_null(strstr(cls_last_error(ctx), "MiB"));
  assert_int_equal(cls_buffer_alloc(ctx, SIZE_MAX, &b), CLS_ERR_INVALID_SIZE);
  assert_int_equal(cls_buffer_alloc(ctx, 10, NULL), CLS_ERR_NULL_ARGUMENT);
  assert_int_equal(cls_buffer_alloc(NULL, 10, &b), CLS_ERR_NULL_ARGUMENT);

  TEST_OK(ctx, cls_buffer_alloc(ctx, 100, &b));
  TEST_OK(ctx, cls_buffer_alloc(ctx, 50, &c));
  cls_memory_usage mu;
  cls_memory_usage_get(ctx, &mu);
  assert_int_equal(mu.live_bytes, 600);
  assert_int_equal(mu.live_buffers, 2);
  assert_int_equal(cls_buffer_count(b), 100);

  float x[100], y[100];
  for (int i = 0; i < 100; i++) x[i] = (float)i;
  TEST_OK(ctx, cls_buffer_write(ctx, b, 0, 100, x));
  assert_int_equal(cls_buffer_write(ctx, b, 1, 100, x), CLS_ERR_BUFFER_TOO_SMALL);
  assert_int_equal(cls_buffer_write(ctx, b, 101, 0, x), CLS_ERR_INVALID_SIZE);
  assert_int_equal(cls_buffer_read(ctx, b, SIZE_MAX, 2, y), CLS_ERR_BUFFER_TOO_SMALL);
  assert_int_equal(cls_buffer_read(ctx, b, 0, 10, NULL), CLS_ERR_NULL_ARGUMENT);
  assert_int_equal(cls_buffer_read(ctx, NULL, 0, 10, y), CLS_ERR_NULL_ARGUMENT);
  TEST_OK(ctx, cls_buffer_fill(ctx, b, 10, 5, -2.5f));
  TEST_OK(ctx, cls_buffer_copy(ctx, b, 0, c, 0, 50));
  assert_int_equal(cls_buffer_copy(ctx, b, 0, b, 10, 20), CLS_ERR_INVALID_VALUE);
  assert_int_equal(cls_buffer_copy(ctx, b, 60, c, 0, 50), CLS_ERR_BUFFER_TOO_SMALL);
  TEST_OK(ctx, cls_buffer_read(ctx, c, 0, 50, y));
  for (int i = 0; i < 50; i++) assert_true(y[i] == ((i >= 10 && i < 15) ? -2.5f : (float)i));
  TEST_OK(ctx, cls_buffer_read(ctx, b, 0, 100, y));
  for (int i = 0; i < 100; i++) assert_true(y[i] == ((i >= 10 && i < 15) ? -2.5f : (float)i));

  /* A buffer of another context is refused. */
  cls_context *other = test_context(NULL, NULL);
  assert_int_equal(cls_buffer_write(other, b, 0, 1, x), CLS_ERR_WRONG_CONTEXT);
  cls_context_destroy(other);

  cls_buffer_free(c);
  cls_memory_usage_get(ctx, &mu);
  assert_int_equal(mu.live_bytes, 400);
  assert_int_equal(mu.peak_bytes, 600);
  cls_buffer_free(b);
  cls_buffer_free(NULL);
  cls_context_destroy(ctx);
}

/* -------------------------------------------------- counters and trace */

static void test_counters_and_trace(void **state) {
  (void)state;
  cls_context_options o;
  cls_context_options_init(&o);
  o.trace = 1;
  cls_context *ctx;
  char err[2048];
  assert_int_equal(cls_context_create(&o, &ctx, err, sizeof err), CLS_OK);
  const size_t n = 4096;
  cls_buffer *src, *dst;
  TEST_OK(ctx, cls_buffer_alloc(ctx, n, &src));
  TEST_OK(ctx, cls_buffer_alloc(ctx, n, &dst));
  TEST_OK(ctx, cls_buffer_fill(ctx, src, 0, n, 3.0f));
  cl_kernel k;
  TEST_OK(ctx, cls__kernel(ctx, "peak", "peak_copy", &k));
  for (int rep = 0; rep < 300; rep++) { /* more than the pending list holds */
    TEST_OK(ctx, cls__arg_mem(ctx, k, 0, src));
    TEST_OK(ctx, cls__arg_mem(ctx, k, 1, dst));
    TEST_OK(ctx, cls__arg_uint(ctx, k, 2, n / 4));
    size_t global = n / 4;
    TEST_OK(ctx, cls__launch(ctx, "copy_test", k, 1, &global, NULL, 0, 2.0 * n * 4));
  }
  cls_counters cnt;
  TEST_OK(ctx, cls_counters_get(ctx, &cnt));
  int found = 0;
  for (size_t i = 0; i < cnt.op_count; i++)
    if (!strcmp(cnt.ops[i].name, "copy_test")) {
      found = 1;
      assert_int_equal(cnt.ops[i].calls, 300);
      assert_true(cnt.ops[i].bytes == 300 * 2.0 * n * 4);
      assert_true(cnt.ops[i].seconds > 0);
    }
  assert_true(found);
  /* 301 device commands (the fill and the copies); the busy union is
   * positive, at most the stretch from the first to the last, and at most
   * the summed times (it counts an overlap once). */
  assert_int_equal(cnt.launches, 301);
  assert_true(cnt.busy_seconds > 0 && cnt.busy_seconds <= cnt.span_seconds * (1 + 1e-9));
  assert_true(cnt.busy_seconds <= cnt.seconds * (1 + 1e-9));
  float y[8];
  TEST_OK(ctx, cls_buffer_read(ctx, dst, n - 8, 8, y));
  for (int i = 0; i < 8; i++) assert_true(y[i] == 3.0f);

  char summary[4096];
  cls_counters_summary(&cnt, summary, sizeof summary);
  assert_non_null(strstr(summary, "copy_test"));
  assert_non_null(strstr(summary, "total"));
  cls_counters_summary(&cnt, summary, 10); /* truncation is safe */
  assert_int_equal(strlen(summary), 9);

  char dir[1024], path[1200];
  test_tmpdir("trace", dir, sizeof dir);
  snprintf(path, sizeof path, "%s/trace.json", dir);
  TEST_OK(ctx, cls_trace_write(ctx, path));
  FILE *f = fopen(path, "r");
  assert_non_null(f);
  static char text[1 << 20];
  size_t len = fread(text, 1, sizeof text - 1, f);
  fclose(f);
  text[len] = 0;
  cJSON *root = cJSON_Parse(text);
  assert_non_null(root);
  cJSON *events = cJSON_GetObjectItem(root, "traceEvents");
  assert_true(cJSON_IsArray(events));
  assert_int_equal(cJSON_GetArraySize(events), 301); /* the fill and 300 copies */
  cJSON_Delete(root);
  assert_int_equal(cls_trace_write(ctx, "/proc/no/such/dir/trace.json"), CLS_ERR_IO);

  cls_counters_reset(ctx);
  TEST_OK(ctx, cls_counters_get(ctx, &cnt));
  assert_int_equal(cnt.op_count, 0);
  assert_true(cnt.flops == 0);
  assert_true(cnt.launches == 0 && cnt.busy_seconds == 0 && cnt.span_seconds == 0);
  cls_buffer_free(src);
  cls_buffer_free(dst);
  cls_context_destroy(ctx);

  ctx = test_context(NULL, NULL);
  assert_int_equal(cls_trace_write(ctx, path), CLS_ERR_INVALID_VALUE);
  cls_context_destroy(ctx);
}

static void test_status_names(void **state) {
  (void)state;
  assert_string_equal(cls_status_name(CLS_OK), "success");
  assert_string_equal(cls_status_name(-4), "CL_MEM_OBJECT_ALLOCATION_FAILURE");
  assert_string_equal(cls_status_name(CLS_ERR_LEADING_DIM), "leading dimension too small");
  assert_string_equal(cls_status_name(12345), "unknown status");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_selectors),
      cmocka_unit_test(test_device_ranking),
      cmocka_unit_test(test_real_devices_and_contexts),
      cmocka_unit_test(test_params_table),
      cmocka_unit_test(test_params_checked),
      cmocka_unit_test(test_cache),
      cmocka_unit_test(test_binary_cache_modes),
      cmocka_unit_test(test_program_list),
      cmocka_unit_test(test_kernel_dir_and_build_errors),
      cmocka_unit_test(test_buffers),
      cmocka_unit_test(test_counters_and_trace),
      cmocka_unit_test(test_status_names),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
