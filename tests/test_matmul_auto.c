/*
 * tests/test_matmul_auto.c — the auto backend remembers its choice: in the
 * context, in the cache folder (a second context reads it back instead of
 * measuring), and a corrupted file is ignored and rewritten. Measuring must
 * not change the result, also when beta != 0.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ops/matmul.h"
#include "ops/matmul_ref.h"
#include "test_util.h"

#define M 40
#define N 24
#define K 33

static cls_context *context_in(const char *cache_dir) {
  cls_context_options o;
  cls_context_options_init(&o);
  o.cache_dir = cache_dir;
  o.matmul_backend = "auto";
  cls_context *ctx = NULL;
  char err[2048];
  if (cls_context_create(&o, &ctx, err, sizeof err) != CLS_OK) fail_msg("%s", err);
  return ctx;
}

/* One auto product with beta != 0, checked against the reference. */
static void product(cls_context *ctx) {
  float a[M * K], b[K * N], c[M * N];
  double want[M * N];
  test_fill_uniform(a, M * K, 11, -1, 1);
  test_fill_uniform(b, K * N, 12, -1, 1);
  test_fill_uniform(c, M * N, 13, -1, 1);
  for (size_t i = 0; i < M * N; i++) want[i] = c[i];
  cls_ref_matmul(CLS_NO_TRANS, CLS_TRANS, M, N, K, 0.5, a, K, 0, b, K, 0, -1.25, want, N, 0, 1);
  cls_buffer *da = test_upload(ctx, a, M * K), *db = test_upload(ctx, b, K * N), *dc = test_upload(ctx, c, M * N);
  TEST_OK(ctx, cls_matmul(ctx, CLS_NO_TRANS, CLS_TRANS, M, N, K, 0.5f, cls_ref_at(da, 0), K, cls_ref_at(db, 0), K,
                          -1.25f, cls_ref_at(dc, 0), N));
  float *got = test_download(ctx, dc);
  size_t at;
  double err = test_max_rel_err(got, want, M * N, 1e-3, &at);
  if (err > 1e-4) fail_msg("float %zu is %g, want %g", at, (double)got[at], want[at]);
  free(got);
  cls_buffer_free(da);
  cls_buffer_free(db);
  cls_buffer_free(dc);
}

/* Products run under each real backend's counter: exactly one per
 * product, whether auto timed its candidates first or not (timing runs are
 * not counted: training FLOPs must not depend on the backend choice). */
static unsigned backend_calls(cls_context *ctx, const char **which) {
  cls_counters cn;
  TEST_OK(ctx, cls_counters_get(ctx, &cn));
  unsigned total = 0;
  for (size_t i = 0; i < cn.op_count; i++)
    if (!strcmp(cn.ops[i].name, "matmul.own") || !strcmp(cn.ops[i].name, "matmul.clblast") ||
        !strcmp(cn.ops[i].name, "matmul.host")) {
      total += (unsigned)cn.ops[i].calls;
      /* A literal: cn (and its names) ends with this frame. */
      if (which)
        *which = !strcmp(cn.ops[i].name, "matmul.own") ? "own" : cn.ops[i].name[7] == 'c' ? "clblast" : "host";
    }
  return total;
}

/* The path of the one matmul-auto file in dir. */
static void auto_file(const char *dir, char *out, size_t len) {
  DIR *d = opendir(dir);
  assert_non_null(d);
  struct dirent *e;
  out[0] = 0;
  while ((e = readdir(d)) != NULL)
    if (!strncmp(e->d_name, "matmul-auto-", 12) && strstr(e->d_name, ".txt") && !strstr(e->d_name, ".txt."))
      snprintf(out, len, "%s/%s", dir, e->d_name);
  closedir(d);
  if (!out[0]) fail_msg("no matmul-auto file in %s", dir);
}

/* Removes dir and the files in it (the choices and the cached kernels). */
static void remove_tree(const char *dir) {
  DIR *d = opendir(dir);
  if (!d) return;
  struct dirent *e;
  char path[1024];
  while ((e = readdir(d)) != NULL) {
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
    snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    unlink(path);
  }
  closedir(d);
  rmdir(dir);
}

static char *slurp(const char *path) {
  FILE *f = fopen(path, "r");
  assert_non_null(f);
  char *buf = calloc(1, 8192);
  assert_non_null(buf);
  size_t n = fread(buf, 1, 8191, f);
  buf[n] = 0;
  fclose(f);
  return buf;
}

static void spit(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fputs(text, f);
  fclose(f);
}

static void remembers(void **state) {
  (void)state;
  char dir[512], path[1024];
  test_tmpdir("matmul-auto", dir, sizeof dir);

  /* First context: measures every candidate, then remembers. */
  cls_context *ctx = context_in(dir);
  product(ctx);
  assert_int_equal(cls__mm_auto_timed(ctx), 1);
  assert_int_equal(backend_calls(ctx, NULL), 1);
  cls_counters_reset(ctx);
  product(ctx); /* same class: no measuring */
  assert_int_equal(cls__mm_auto_timed(ctx), 1);
  assert_int_equal(backend_calls(ctx, NULL), 1);
  cls_context_destroy(ctx);

  auto_file(dir, path, sizeof path);
  char *text = slurp(path);
  assert_non_null(strstr(text, "clscale matmul-auto 1\n"));
  /* The class line: NT, m=40 -> 2^6, n=24 -> 2^5, k=33 -> 2^6, unbatched. */
  char *line = strstr(text, "\nNT 6 5 6 0 ");
  assert_non_null(line);

  /* Second context: reads the file, runs one product, times nothing. */
  ctx = context_in(dir);
  product(ctx);
  assert_int_equal(cls__mm_auto_timed(ctx), 0);
  assert_int_equal(backend_calls(ctx, NULL), 1);
  cls_context_destroy(ctx);

  /* The file is really what decides: force clblast in it. */
  char *end = strchr(line + 1, '\n');
  assert_non_null(end);
  char forced[8192];
  snprintf(forced, sizeof forced, "%.*sNT 6 5 6 0 clblast%s", (int)(line + 1 - text), text, end);
  spit(path, forced);
  ctx = context_in(dir);
  product(ctx);
  const char *which = NULL;
  assert_int_equal(backend_calls(ctx, &which), 1);
  assert_string_equal(which, "clblast");
  cls_context_destroy(ctx);

  /* A corrupted file is ignored (measure again) and rewritten. */
  const char *corrupt[] = {"garbage\n", "", "clscale matmul-auto 1\ndevice x\n",
                           NULL /* the real header, then a bad line */};
  for (int i = 0; i < 4; i++) {
    if (corrupt[i]) {
      spit(path, corrupt[i]);
    } else {
      snprintf(forced, sizeof forced, "%.*sNT 6 5 6 0 quantum\n", (int)(line + 1 - text), text);
      spit(path, forced);
    }
    ctx = context_in(dir);
    product(ctx);
    assert_int_equal(cls__mm_auto_timed(ctx), 1); /* the bad file was ignored: measured again */
    assert_int_equal(backend_calls(ctx, NULL), 1);
    cls_context_destroy(ctx);
    char *again = slurp(path);
    assert_non_null(strstr(again, "clscale matmul-auto 1\n"));
    assert_non_null(strstr(again, "\nNT 6 5 6 0 "));
    free(again);
  }
  free(text);
  remove_tree(dir);
}

/* With the cache disabled nothing is written, and the choice still holds
 * within the context. */
static void cache_disabled(void **state) {
  (void)state;
  cls_context_options o;
  cls_context_options_init(&o);
  o.disable_cache = 1;
  o.matmul_backend = "auto";
  cls_context *ctx = NULL;
  char err[2048];
  if (cls_context_create(&o, &ctx, err, sizeof err) != CLS_OK) fail_msg("%s", err);
  product(ctx);
  assert_int_equal(cls__mm_auto_timed(ctx), 1);
  assert_int_equal(backend_calls(ctx, NULL), 1);
  cls_counters_reset(ctx);
  product(ctx);
  assert_int_equal(cls__mm_auto_timed(ctx), 1);
  assert_int_equal(backend_calls(ctx, NULL), 1);
  cls_context_destroy(ctx);
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(remembers), cmocka_unit_test(cache_disabled)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
