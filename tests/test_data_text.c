/*
 * tests/test_data_text.c — text datasets: the Zipf corpus (determinism,
 * structure, rank-frequency slope), files (content, missing, unreadable,
 * empty, too short), the split and the window sampler.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <ctype.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/text.h"
#include "test_util.h"

/* tests/data/text beside this source file (CMake passes absolute paths). */
static void fixture(const char *name, char *out, size_t n) {
  const char *src = __FILE__, *slash = strrchr(src, '/');
  int dir = slash ? (int)(slash - src) : 1;
  snprintf(out, n, "%.*s/data/text/%s", dir, slash ? src : ".", name);
}

static cls_text *make(const cls_text_config *c) {
  cls_text *t = NULL;
  char err[512] = "";
  cls_status s = cls_text_create(c, &t, err, sizeof err);
  if (s != CLS_OK) fail_msg("cls_text_create -> %d: %s", s, err);
  return t;
}

/* ------------------------------------------------------------ corpus */

static void test_corpus_deterministic(void **state) {
  (void)state;
  enum { N = 50000 };
  uint8_t *a = malloc(N), *b = malloc(N);
  assert_int_equal(cls_zipf_corpus(3, 2000, 1.0, N, a, NULL, 0), CLS_OK);
  assert_int_equal(cls_zipf_corpus(3, 2000, 1.0, N, b, NULL, 0), CLS_OK);
  assert_memory_equal(a, b, N);
  assert_int_equal(cls_zipf_corpus(4, 2000, 1.0, N, b, NULL, 0), CLS_OK);
  assert_true(memcmp(a, b, N) != 0);
  /* A shorter corpus is a prefix of a longer one. */
  assert_int_equal(cls_zipf_corpus(3, 2000, 1.0, 1000, b, NULL, 0), CLS_OK);
  assert_memory_equal(a, b, 1000);
  /* Letters, spaces, punctuation and newlines only; sentences and paragraphs. */
  int caps = 0, stops = 0, lines = 0, commas = 0;
  for (size_t i = 0; i < N; i++) {
    int c = a[i];
    assert_true(islower(c) || isupper(c) || c == ' ' || c == '\n' || c == '.' || c == ',' || c == '?' || c == '!');
    caps += isupper(c) != 0;
    stops += c == '.';
    lines += c == '\n';
    commas += c == ',';
  }
  print_message("50 kB corpus: %d sentences (%d full stops), %d paragraphs, %d commas\n", caps, stops, lines,
                commas);
  assert_true(caps > 500 && stops > 400 && lines > 100 && commas > 100);
  print_message("sample: \"%.160s\"\n", (const char *)a);
  free(a);
  free(b);
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}
static int cmp_desc(const void *a, const void *b) {
  long x = *(const long *)a, y = *(const long *)b;
  return x < y ? 1 : x > y ? -1 : 0;
}

/* Least-squares slope of log(count) against log(rank), ranks 1..ranks. */
static double zipf_slope(double exponent, size_t bytes, size_t ranks) {
  uint8_t *text = malloc(bytes + 1);
  assert_int_equal(cls_zipf_corpus(11, 8192, exponent, bytes, text, NULL, 0), CLS_OK);
  text[bytes] = 0;
  for (size_t i = 0; i < bytes; i++) text[i] = isalpha(text[i]) ? (uint8_t)tolower(text[i]) : 0;
  char **words = malloc(bytes * sizeof *words);
  size_t n = 0;
  for (size_t i = 0; i < bytes; i++)
    if (text[i] && (i == 0 || !text[i - 1])) words[n++] = (char *)text + i;
  n--; /* the last word may be cut short */
  qsort(words, n, sizeof *words, cmp_str);
  long *counts = malloc(n * sizeof *counts);
  size_t distinct = 0;
  for (size_t i = 0; i < n; i++) {
    if (i == 0 || strcmp(words[i], words[i - 1]) != 0) counts[distinct++] = 0;
    counts[distinct - 1]++;
  }
  qsort(counts, distinct, sizeof *counts, cmp_desc);
  assert_true(distinct >= ranks);
  double sx = 0, sy = 0, sxx = 0, sxy = 0;
  for (size_t r = 1; r <= ranks; r++) {
    double x = log((double)r), y = log((double)counts[r - 1]);
    sx += x, sy += y, sxx += x * x, sxy += x * y;
  }
  double m = (double)ranks, slope = (m * sxy - sx * sy) / (m * sxx - sx * sx);
  print_message("exponent %.2f: %zu words, %zu distinct, rank-frequency slope over ranks 1..%zu = %.3f\n",
                exponent, n, distinct, ranks, slope);
  free(counts);
  free(words);
  free(text);
  return slope;
}

static void test_zipf_slope(void **state) {
  (void)state;
  assert_true(fabs(zipf_slope(1.0, (size_t)1 << 20, 200) + 1.0) < 0.1);
  assert_true(fabs(zipf_slope(1.5, (size_t)1 << 20, 50) + 1.5) < 0.15);
}

/* -------------------------------------------------------------- files */

/* Whether the W tokens of window are W consecutive bytes of split. */
static int in_split(const cls_text *t, cls_split split, const int32_t *window, size_t W) {
  const uint8_t *src = cls_text_bytes(t, split);
  const size_t len = cls_text_size(t, split);
  for (size_t st = 0; st + W <= len; st++) {
    size_t k = 0;
    while (k < W && window[k] == (int32_t)src[st + k]) k++;
    if (k == W) return 1;
  }
  return 0;
}

static void test_file_read_and_split(void **state) {
  (void)state;
  char path[1024];
  fixture("sample.txt", path, sizeof path);
  FILE *f = fopen(path, "rb");
  assert_non_null(f);
  uint8_t want[4096];
  size_t n = fread(want, 1, sizeof want, f);
  fclose(f);
  assert_true(n > 1000);
  cls_text_config c;
  cls_text_config_default(&c);
  c.path = path;
  c.context = 32;
  cls_text *t = make(&c);
  size_t nv = (size_t)llround(0.1 * (double)n);
  assert_int_equal(cls_text_size(t, CLS_SPLIT_VAL), nv);
  assert_int_equal(cls_text_size(t, CLS_SPLIT_TRAIN), n - nv);
  assert_int_equal(cls_text_size(t, CLS_SPLIT_TEST), 0);
  assert_memory_equal(cls_text_bytes(t, CLS_SPLIT_TRAIN), want, n - nv);
  assert_memory_equal(cls_text_bytes(t, CLS_SPLIT_VAL), want + n - nv, nv);
  assert_int_equal(cls_text_context(t), 32);

  /* Windows: deterministic, T + 1 consecutive bytes of their own split. */
  enum { B = 16, W = 33 };
  int32_t a[B * W], b[B * W];
  for (int s = 0; s < 2; s++) {
    assert_int_equal(cls_text_batch(t, (cls_split)s, 9, 4, B, a, NULL, 0), CLS_OK);
    assert_int_equal(cls_text_batch(t, (cls_split)s, 9, 4, B, b, NULL, 0), CLS_OK);
    assert_memory_equal(a, b, sizeof a);
    for (int r = 0; r < B; r++) assert_true(in_split(t, (cls_split)s, a + r * W, W));
  }
  assert_int_equal(cls_text_batch(t, CLS_SPLIT_TRAIN, 9, 5, B, b, NULL, 0), CLS_OK);
  assert_true(memcmp(a, b, sizeof a) != 0);
  /* Every start position of the small val split is reachable, including the last. */
  size_t nval = cls_text_size(t, CLS_SPLIT_VAL);
  int *hit = calloc(nval, sizeof *hit);
  const uint8_t *val = cls_text_bytes(t, CLS_SPLIT_VAL);
  for (uint64_t step = 0; step < 400; step++) {
    assert_int_equal(cls_text_batch(t, CLS_SPLIT_VAL, 1, step, B, a, NULL, 0), CLS_OK);
    for (int r = 0; r < B; r++)
      for (size_t st = 0; st + W <= nval; st++) {
        int same = 1;
        for (int k = 0; k < W && same; k++) same = a[r * W + k] == (int32_t)val[st + k];
        if (same) hit[st] = 1;
      }
  }
  assert_true(hit[0] && hit[nval - W]);
  free(hit);
  cls_text_destroy(t);
}

/* Numbered windows (a teacher's prompts): window i is the same whatever
 * the range it is drawn in, lies in its split, and depends on the stream. */
static void test_numbered_windows(void **state) {
  (void)state;
  cls_text_config c;
  cls_text_config_default(&c);
  c.context = 15;
  c.synth_bytes = 20000;
  cls_text *t = make(&c);
  enum { N = 40, W = 16 };
  int32_t all[N * W], part[N * W], other[N * W];
  assert_int_equal(cls_text_windows(t, CLS_SPLIT_TRAIN, 3, 77, 0, N, all, NULL, 0), CLS_OK);
  assert_int_equal(cls_text_windows(t, CLS_SPLIT_TRAIN, 3, 77, 0, 13, part, NULL, 0), CLS_OK);
  assert_int_equal(cls_text_windows(t, CLS_SPLIT_TRAIN, 3, 77, 13, N - 13, part + 13 * W, NULL, 0), CLS_OK);
  assert_memory_equal(all, part, sizeof all);
  assert_int_equal(cls_text_windows(t, CLS_SPLIT_TRAIN, 3, 78, 0, N, other, NULL, 0), CLS_OK);
  assert_true(memcmp(all, other, sizeof all) != 0);
  for (int r = 0; r < N; r++) assert_true(in_split(t, CLS_SPLIT_TRAIN, all + r * W, W));
  char err[256];
  assert_int_equal(cls_text_windows(t, CLS_SPLIT_TEST, 3, 77, 0, 1, all, err, sizeof err), CLS_ERR_INVALID_VALUE);
  assert_int_equal(cls_text_windows(t, CLS_SPLIT_TRAIN, 3, 77, 0, 0, all, err, sizeof err), CLS_ERR_INVALID_SIZE);
  cls_text_destroy(t);
}

static void expect_error(const cls_text_config *c, cls_status want, const char *needle) {
  cls_text *t = (cls_text *)c;
  char err[1024] = "";
  cls_status s = cls_text_create(c, &t, err, sizeof err);
  if (s != want || !strstr(err, needle)) fail_msg("got %d '%s', want %d mentioning '%s'", s, err, want, needle);
  print_message("%s\n", err);
  assert_null(t);
}

static void test_file_errors(void **state) {
  (void)state;
  char dir[1024], path[1200];
  test_tmpdir("text", dir, sizeof dir);
  cls_text_config c;
  cls_text_config_default(&c);
  /* Missing. */
  snprintf(path, sizeof path, "%s/no-such-file.txt", dir);
  c.path = path;
  expect_error(&c, CLS_ERR_IO, "no-such-file.txt");
  expect_error(&c, CLS_ERR_IO, "cannot open");
  /* A directory is not a readable file. */
  c.path = dir;
  expect_error(&c, CLS_ERR_IO, "cannot read");
  /* Empty. */
  snprintf(path, sizeof path, "%s/empty.txt", dir);
  FILE *f = fopen(path, "wb");
  assert_non_null(f);
  fclose(f);
  c.path = path;
  expect_error(&c, CLS_ERR_FORMAT, "is empty");
  /* Shorter than one window (10 bytes, context 64). */
  char shortp[1024];
  fixture("short.txt", shortp, sizeof shortp);
  c.path = shortp;
  expect_error(&c, CLS_ERR_FORMAT, "shorter than one window");
  /* Long enough for one window but not for one in each split. */
  c.context = 9;
  expect_error(&c, CLS_ERR_FORMAT, "too short to split");
  /* ... which is fine without a validation split. */
  c.val_fraction = 0;
  cls_text *t = make(&c);
  assert_int_equal(cls_text_size(t, CLS_SPLIT_TRAIN), 10);
  int32_t tok[10];
  char err[256];
  assert_int_equal(cls_text_batch(t, CLS_SPLIT_TRAIN, 1, 1, 1, tok, NULL, 0), CLS_OK);
  assert_int_equal(tok[0], 't');
  assert_int_equal(cls_text_batch(t, CLS_SPLIT_VAL, 1, 1, 1, tok, err, sizeof err), CLS_ERR_INVALID_SIZE);
  assert_non_null(strstr(err, "validation split is empty"));
  assert_int_equal(cls_text_batch(t, CLS_SPLIT_TEST, 1, 1, 1, tok, err, sizeof err), CLS_ERR_INVALID_VALUE);
  assert_int_equal(cls_text_batch(t, CLS_SPLIT_TRAIN, 1, 1, 0, tok, err, sizeof err), CLS_ERR_INVALID_SIZE);
  cls_text_destroy(t);
}

static void test_bad_configs(void **state) {
  (void)state;
  cls_text_config c, b;
  cls_text_config_default(&c);
  b = c, b.context = 0, expect_error(&b, CLS_ERR_INVALID_SIZE, "context");
  b = c, b.val_fraction = NAN, expect_error(&b, CLS_ERR_INVALID_VALUE, "val_fraction");
  b = c, b.val_fraction = 0.9, expect_error(&b, CLS_ERR_INVALID_VALUE, "val_fraction");
  b = c, b.zipf_exponent = 0, expect_error(&b, CLS_ERR_INVALID_VALUE, "zipf_exponent");
  b = c, b.zipf_exponent = NAN, expect_error(&b, CLS_ERR_INVALID_VALUE, "zipf_exponent");
  b = c, b.synth_vocab = 0, expect_error(&b, CLS_ERR_INVALID_SIZE, "synth_vocab");
  b = c, b.synth_bytes = 129, expect_error(&b, CLS_ERR_INVALID_SIZE, "synth_bytes");
  cls_text *t;
  assert_int_equal(cls_text_create(NULL, &t, NULL, 0), CLS_ERR_NULL_ARGUMENT);
  uint8_t buf[8];
  assert_int_equal(cls_zipf_corpus(1, 0, 1.0, 8, buf, NULL, 0), CLS_ERR_INVALID_SIZE);
  assert_int_equal(cls_zipf_corpus(1, 10, NAN, 8, buf, NULL, 0), CLS_ERR_INVALID_VALUE);
  assert_int_equal(cls_zipf_corpus(1, 10, 1.0, 8, NULL, NULL, 0), CLS_ERR_NULL_ARGUMENT);
  /* The default synthetic dataset, smallest legal size. */
  b = c, b.synth_bytes = 130;
  t = make(&b);
  assert_int_equal(cls_text_size(t, CLS_SPLIT_VAL), 65);
  assert_int_equal(cls_text_size(t, CLS_SPLIT_TRAIN), 65);
  cls_text_destroy(t);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_corpus_deterministic), cmocka_unit_test(test_zipf_slope),
      cmocka_unit_test(test_file_read_and_split),  cmocka_unit_test(test_file_errors),
      cmocka_unit_test(test_bad_configs),          cmocka_unit_test(test_numbered_windows),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
