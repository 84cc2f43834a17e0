/*
 * tests/test_train_schedule.c — the train loop's pure parts: the learning
 * rate schedule, the evaluation steps, the CSV row format and the atomic
 * writers (no device needed).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "test_util.h"
#include "core/file.h"
#include "core/fmt.h"
#include "rundir/json.h"
#include "rundir/rundir.h"
#include "train/schedule.h"

static void test_lr_warmup_then_cosine(void **state) {
  (void)state;
  const double lr = 1e-3;
  /* Linear warm-up over 10 steps: lr/10, 2 lr/10, ..., lr. */
  for (uint64_t s = 0; s < 10; s++)
    assert_float_equal(cls_schedule_lr(lr, 0.1, 10, 110, s), lr * (s + 1) / 10, 1e-15);
  /* Full rate right after warm-up, monotone decay, floor approached at the end. */
  assert_float_equal(cls_schedule_lr(lr, 0.1, 10, 110, 10), lr, 1e-15);
  double prev = lr;
  for (uint64_t s = 11; s < 110; s++) {
    double x = cls_schedule_lr(lr, 0.1, 10, 110, s);
    assert_true(x < prev);
    assert_true(x > 0.1 * lr);
    prev = x;
  }
  assert_float_equal(cls_schedule_lr(lr, 0.1, 10, 110, 60), 0.55 * lr, 1e-12); /* halfway: the midpoint */
  assert_true(prev - 0.1 * lr < 1e-3 * lr);
  /* No warm-up; a one-step run uses the full rate. */
  assert_float_equal(cls_schedule_lr(lr, 0.0, 0, 100, 0), lr, 1e-15);
  assert_float_equal(cls_schedule_lr(lr, 0.0, 0, 1, 0), lr, 1e-15);
  /* Warm-up longer than the run: warm-up only, never above lr. */
  assert_float_equal(cls_schedule_lr(lr, 0.1, 50, 20, 19), lr, 1e-15);
  assert_float_equal(cls_schedule_lr(lr, 0.1, 50, 20, 0), lr / 20, 1e-15);
}

static void check_steps(uint64_t total, uint64_t every, size_t n, const uint64_t *want, size_t want_n) {
  size_t count;
  uint64_t *s = cls_schedule_eval_steps(total, every, n, &count);
  assert_non_null(s);
  assert_int_equal(count, want_n);
  for (size_t i = 0; i < count; i++) assert_int_equal(s[i], want[i]);
  free(s);
}

static void test_eval_steps(void **state) {
  (void)state;
  /* Log-spaced from 1 to the last step. */
  check_steps(1000, 0, 4, (const uint64_t[]){1, 10, 100, 1000}, 4);
  /* Short runs: duplicates removed, the last step always there. */
  check_steps(3, 0, 20, (const uint64_t[]){1, 2, 3}, 3);
  check_steps(1, 0, 20, (const uint64_t[]){1}, 1);
  check_steps(50, 0, 1, (const uint64_t[]){50}, 1);
  /* Every k steps, plus the last. */
  check_steps(10, 4, 0, (const uint64_t[]){4, 8, 10}, 3);
  check_steps(8, 4, 0, (const uint64_t[]){4, 8}, 2);
  check_steps(3, 5, 0, (const uint64_t[]){3}, 1);
  /* Long runs: ascending, distinct, n points at most. */
  size_t count;
  uint64_t *s = cls_schedule_eval_steps(123457, 0, 30, &count);
  assert_non_null(s);
  assert_true(count <= 30 && count >= 25);
  for (size_t i = 1; i < count; i++) assert_true(s[i] > s[i - 1]);
  assert_int_equal(s[count - 1], 123457);
  free(s);
  assert_null(cls_schedule_eval_steps(0, 0, 10, &count));
}

static void test_csv_row(void **state) {
  (void)state;
  char line[512];
  cls_eval_row r = {12, 768, 123456789012345.0, 9.5e13, 2.5f, 3.125f, 1e-3f, 1.23456};
  size_t n = cls_csv_format_row(&r, line, sizeof line);
  assert_true(n > 0);
  assert_string_equal(line, "12,768,123456789012345,95000000000000,2.5,3.125,0.00100000005,1.235\n");
  /* Non-finite values are "nan", "inf", "-inf" (never "-nan"). */
  cls_eval_row bad = {3, 1, 2, 3, -NAN, INFINITY, -INFINITY, 0};
  cls_csv_format_row(&bad, line, sizeof line);
  assert_string_equal(line, "3,1,2,3,nan,inf,-inf,0.000\n");
  /* Losses round-trip as floats. */
  cls_eval_row f = {1, 1, 1, 1, (float)(1.0 / 3.0), 0.1f, 0, 0};
  cls_csv_format_row(&f, line, sizeof line);
  float a, b;
  assert_int_equal(sscanf(line, "%*[^,],%*[^,],%*[^,],%*[^,],%f,%f", &a, &b), 2);
  assert_true(a == (float)(1.0 / 3.0) && b == 0.1f);
  assert_int_equal(cls_csv_format_row(&r, line, 10), 0); /* too small: refused, not cut */
}

static void test_shortest(void **state) {
  (void)state;
  char b[40];
  assert_string_equal(cls_fmt_shortest(0.003, 0, b, sizeof b), "0.003");
  assert_string_equal(cls_fmt_shortest(0.02f, 1, b, sizeof b), "0.02");
  assert_string_equal(cls_fmt_shortest(1.0 / 3.0, 0, b, sizeof b), "0.3333333333333333");
  assert_string_equal(cls_fmt_shortest(128, 0, b, sizeof b), "128");
}

static void test_atomic_files(void **state) {
  (void)state;
  char dir[512], path[700], err[1024];
  test_tmpdir("train-files", dir, sizeof dir);
  snprintf(path, sizeof path, "%s/a/b/c", dir);
  assert_int_equal(cls_mkdirs(path, err, sizeof err), CLS_OK);
  assert_int_equal(cls_mkdirs(path, err, sizeof err), CLS_OK); /* exists: fine */
  snprintf(path, sizeof path, "%s/a/b/c/x.csv", dir);
  assert_int_equal(cls_csv_write(path, "1,2\n", 4, err, sizeof err), CLS_OK);
  FILE *f = fopen(path, "r");
  assert_non_null(f);
  char text[256] = "";
  size_t got = fread(text, 1, sizeof text - 1, f);
  fclose(f);
  text[got] = 0;
  assert_string_equal(text, CLS_TRAIN_CSV_HEADER "1,2\n");
  /* A folder where a file must go: a clear error, and no temporary left. */
  snprintf(path, sizeof path, "%s/a/b", dir);
  assert_int_equal(cls_write_atomic(path, "x", 1, err, sizeof err), CLS_ERR_IO);
  assert_non_null(strstr(err, "cannot write"));
  /* A file where a folder must go. */
  snprintf(path, sizeof path, "%s/a/b/c/x.csv/sub", dir);
  assert_int_equal(cls_mkdirs(path, err, sizeof err), CLS_ERR_IO);
  /* JSON: non-finite numbers become null. */
  cls_json *j = cls_json_new();
  cls_json_str(j, "id", "run");
  cls_json_num(j, "loss", NAN);
  cls_json_num(j, "flops", 1e18);
  snprintf(path, sizeof path, "%s/s.json", dir);
  assert_int_equal(cls_json_write(j, path, err, sizeof err), CLS_OK);
  cls_json_free(j);
  f = fopen(path, "r");
  assert_non_null(f);
  got = fread(text, 1, sizeof text - 1, f);
  fclose(f);
  text[got] = 0;
  assert_non_null(strstr(text, "\"loss\":\tnull"));
  assert_non_null(strstr(text, "\"id\":\t\"run\""));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_lr_warmup_then_cosine),
      cmocka_unit_test(test_eval_steps),
      cmocka_unit_test(test_csv_row),
      cmocka_unit_test(test_shortest),
      cmocka_unit_test(test_atomic_files),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
