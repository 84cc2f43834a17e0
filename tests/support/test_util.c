/* tests/support/test_util.c — see test_util.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "test_util.h"

cls_context *test_context(const char *params, const char *backend) {
  cls_context_options o;
  cls_context_options_init(&o);
  o.params = params;
  o.matmul_backend = backend;
  cls_context *ctx = NULL;
  char err[4096];
  cls_status s = cls_context_create(&o, &ctx, err, sizeof err);
  if (s != CLS_OK) fail_msg("cls_context_create: %s (%d)", err, s);
  return ctx;
}

static uint64_t splitmix64(uint64_t *state) {
  uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

void test_fill_uniform(float *x, size_t n, uint64_t seed, float lo, float hi) {
  uint64_t st = seed * 0x2545F4914F6CDD1DULL + 1;
  for (size_t i = 0; i < n; i++) {
    double u = (double)(splitmix64(&st) >> 11) * (1.0 / 9007199254740992.0);
    x[i] = (float)(lo + (hi - lo) * u);
  }
}

cls_buffer *test_upload(cls_context *ctx, const float *host, size_t n) {
  cls_buffer *b = NULL;
  TEST_OK(ctx, cls_buffer_alloc(ctx, n, &b));
  TEST_OK(ctx, cls_buffer_write(ctx, b, 0, n, host));
  return b;
}

float *test_download(cls_context *ctx, const cls_buffer *buf) {
  size_t n = cls_buffer_count(buf);
  float *x = malloc(n * sizeof *x);
  assert_non_null(x);
  TEST_OK(ctx, cls_buffer_read(ctx, buf, 0, n, x));
  return x;
}

double test_max_rel_err(const float *got, const double *want, size_t n, double abs_floor, size_t *where) {
  double worst = 0;
  size_t at = 0;
  for (size_t i = 0; i < n; i++) {
    double e = fabs((double)got[i] - want[i]) / (fabs(want[i]) + abs_floor);
    if (!(e <= worst)) { /* also catches NaN */
      worst = isnan(e) ? INFINITY : e;
      at = i;
    }
  }
  if (where) *where = at;
  return worst;
}

int test_small(void) {
  const char *v = getenv("CLSCALE_TEST_SMALL");
  return v && *v && strcmp(v, "0") != 0;
}

size_t test_limit(size_t limit, size_t small) {
  return test_small() ? small : limit;
}

void test_tmpdir(const char *tag, char *out, size_t out_len) {
  const char *base = getenv("CLSCALE_TEST_TMP");
  if (!base || !*base) base = "/tmp";
  mkdir(base, 0755);
  snprintf(out, out_len, "%s/%s-XXXXXX", base, tag);
  if (!mkdtemp(out)) fail_msg("cannot create a scratch folder under %s", base);
}

float *test_random_floats(size_t n, uint64_t seed, float lo, float hi) {
  float *x = malloc((n ? n : 1) * sizeof *x);
  assert_non_null(x);
  test_fill_uniform(x, n, seed, lo, hi);
  return x;
}

double *test_to_double(const float *x, size_t n) {
  double *d = malloc((n ? n : 1) * sizeof *d);
  assert_non_null(d);
  for (size_t i = 0; i < n; i++) d[i] = x[i];
  return d;
}

float *test_read_at(cls_context *ctx, const cls_buffer *buf, size_t offset, size_t n) {
  float *x = malloc((n ? n : 1) * sizeof *x);
  assert_non_null(x);
  TEST_OK(ctx, cls_buffer_read(ctx, buf, offset, n, x));
  return x;
}

void test_expect_close(const char *what, size_t n, const float *got, const double *want, double tol,
                       double floor) {
  size_t at;
  double e = test_max_rel_err(got, want, n, floor, &at);
  if (!(e <= tol))
    fail_msg("%s: n=%zu rel err %.3g at %zu (got %.9g want %.9g)", what, n, e, at, got[at], want[at]);
}

int test_setup_context(void **state) {
  *state = test_context(NULL, NULL);
  return 0;
}
int test_setup_rows_v0(void **state) {
  *state = test_context("ROW_VARIANT=0", NULL);
  return 0;
}
int test_setup_rows_v1(void **state) {
  *state = test_context("ROW_VARIANT=1", NULL);
  return 0;
}
int test_teardown_context(void **state) {
  cls_context_destroy(*state);
  return 0;
}

cls_buffer *test_upload_padded(cls_context *ctx, const float *host, size_t n, size_t pad) {
  size_t total = n + 2 * pad;
  float *tmp = malloc(total * sizeof *tmp);
  assert_non_null(tmp);
  for (size_t i = 0; i < total; i++) tmp[i] = TEST_SENTINEL;
  if (host) memcpy(tmp + pad, host, n * sizeof *tmp);
  cls_buffer *b = test_upload(ctx, tmp, total);
  free(tmp);
  return b;
}

float *test_download_padded(cls_context *ctx, cls_buffer *b, size_t n, size_t pad) {
  float *all = test_download(ctx, b);
  for (size_t i = 0; i < pad; i++)
    if (all[i] != TEST_SENTINEL || all[pad + n + i] != TEST_SENTINEL)
      fail_msg("a sentinel next to an operand changed");
  float *x = malloc((n ? n : 1) * sizeof *x);
  assert_non_null(x);
  memcpy(x, all + pad, n * sizeof *x);
  free(all);
  return x;
}

char *test_slurp(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) fail_msg("cannot open %s", path);
  size_t cap = 4096, n = 0;
  char *buf = malloc(cap);
  assert_non_null(buf);
  for (size_t got; (got = fread(buf + n, 1, cap - n - 1, f)) > 0;) {
    n += got;
    if (cap - n - 1 == 0) {
      buf = realloc(buf, cap *= 2);
      assert_non_null(buf);
    }
  }
  fclose(f);
  buf[n] = 0;
  return buf;
}

void test_matmul_auto_file(const char *dir, char *out, size_t len) {
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
