/*
 * tests/test_checkpoint.c — a checkpoint's fields are checked behind its
 * checksum (issue 14): files written by hand with a valid checksum but a
 * NUL in the CSV rows, a negative or astronomically large `seconds`, a
 * `total_steps` that disagrees with the configuration, a non-finite
 * parameter, matmul choices that are not a record of choices, are refused
 * on load and on read with a message naming the field; the well-formed
 * file next to them is accepted, in format version 2 (with the auto matmul
 * backend's choices) and 1 (without: read as none). No device: every check
 * comes before the slabs would be written.
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

#include "core/file.h"
#include "train/checkpoint.h"
#include "test_util.h"

enum { N = 4 };

typedef struct {
  uint32_t version;
  const char *key;
  const char *choices; /* version 2 */
  size_t choices_len;
  uint64_t step, total_steps, acc_count;
  double acc_sum, train_flops, eval_flops, seconds;
  const char *rows;
  size_t rows_len;
  float param0;
} fields;

static const char *const KEY = "task=linreg\ntotal_steps=20\nlr=0.01\n";
static const char ROWS[] = "5,40,1000,900,1.5,1.25,0.01,0.5\n10,80,2000,1800,1.25,1,0.01,1\n";
static const char CHOICES[] = "NN 7 5 2 0 own;NT 6 5 6 0 host";

static fields good(void) {
  return (fields){2,   KEY,  CHOICES, sizeof CHOICES - 1, 10,  20, 3, 3.75, 2000,
                  100, 12.5, ROWS,    sizeof ROWS - 1,    0.5f};
}

static uint64_t fnv1a(const uint8_t *p, size_t n) {
  uint64_t h = 14695981039346656037ULL;
  for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 1099511628211ULL;
  return h;
}

/* The layout of checkpoint.h, with a valid checksum. */
static void write_ckpt(const char *path, const fields *f) {
  uint8_t buf[4096];
  size_t at = 0;
#define PUT(src, n) (memcpy(buf + at, (src), (n)), at += (n))
  uint32_t order = 0x01020304u;
  uint64_t klen = strlen(f->key), cl = f->choices_len, rl = f->rows_len, n = N;
  PUT("CLSCKPT", 8);
  PUT(&f->version, 4);
  PUT(&order, 4);
  PUT(&klen, 8);
  PUT(f->key, klen);
  if (f->version >= 2) {
    PUT(&cl, 8);
    PUT(f->choices, cl < 1024 ? cl : 0);
  }
  PUT(&f->step, 8);
  PUT(&f->total_steps, 8);
  PUT(&f->acc_count, 8);
  PUT(&f->acc_sum, 8);
  PUT(&f->train_flops, 8);
  PUT(&f->eval_flops, 8);
  PUT(&f->seconds, 8);
  PUT(&rl, 8);
  PUT(f->rows, rl);
  PUT(&n, 8);
  for (int s = 0; s < 3; s++)
    for (int i = 0; i < N; i++) {
      float x = s == 0 && i == 0 ? f->param0 : 0.25f;
      PUT(&x, 4);
    }
  uint64_t sum = fnv1a(buf, at);
  PUT(&sum, 8);
#undef PUT
  char err[512];
  assert_int_equal(cls_write_atomic(path, buf, at, err, sizeof err), CLS_OK);
}

/* Refused by both readers with a message holding needle. */
static void expect_refused(const char *path, const fields *f, const char *needle) {
  char err[1024] = "";
  write_ckpt(path, f);
  cls_ckpt_contents c;
  assert_int_equal(cls_checkpoint_read(path, &c, err, sizeof err), CLS_ERR_FORMAT);
  if (!strstr(err, needle)) fail_msg("read: '%s' does not say '%s'", err, needle);
  cls_param_table pt = {.total = N};
  cls_ckpt_state st;
  err[0] = 0;
  assert_int_equal(cls_checkpoint_load(NULL, path, f->key, &st, &pt, NULL, err, sizeof err), CLS_ERR_FORMAT);
  if (!strstr(err, needle) || !strstr(err, "start the run again")) fail_msg("load: '%s'", err);
}

static void test_fields_checked(void **state) {
  (void)state;
  char dir[512], path[700], err[1024];
  test_tmpdir("checkpoint-fields", dir, sizeof dir);
  snprintf(path, sizeof path, "%s/a.ckpt", dir);
  fields f = good();
  write_ckpt(path, &f);
  cls_ckpt_contents c;
  assert_int_equal(cls_checkpoint_read(path, &c, err, sizeof err), CLS_OK);
  assert_int_equal(c.step, 10);
  assert_int_equal(c.total_steps, 20);
  assert_string_equal(c.choices, CHOICES);
  cls_ckpt_contents_free(&c);
  char *choices = NULL;
  assert_int_equal(cls_checkpoint_choices(path, &choices, err, sizeof err), CLS_OK);
  assert_string_equal(choices, CHOICES);
  free(choices);

  /* Version 1, from before the choices were kept: read as none. */
  f.version = 1;
  write_ckpt(path, &f);
  assert_int_equal(cls_checkpoint_read(path, &c, err, sizeof err), CLS_OK);
  assert_string_equal(c.choices, "");
  assert_int_equal(c.step, 10);
  cls_ckpt_contents_free(&c);
  assert_int_equal(cls_checkpoint_choices(path, &choices, err, sizeof err), CLS_OK);
  assert_string_equal(choices, "");
  free(choices);
  /* No choices in version 2 is as good. */
  f = good(), f.choices = "", f.choices_len = 0;
  write_ckpt(path, &f);
  assert_int_equal(cls_checkpoint_read(path, &c, err, sizeof err), CLS_OK);
  assert_string_equal(c.choices, "");
  cls_ckpt_contents_free(&c);
  /* A version to come is refused by name. */
  f = good(), f.version = 3;
  write_ckpt(path, &f);
  assert_int_equal(cls_checkpoint_read(path, &c, err, sizeof err), CLS_ERR_FORMAT);
  assert_non_null(strstr(err, "format version 3; this clscale reads versions 1 to 2"));
  assert_int_equal(cls_checkpoint_choices(path, &choices, err, sizeof err), CLS_ERR_FORMAT);
  assert_null(choices);

  /* The choices: a record (clscale/ops.h) or nothing. */
  static const char nul_choices[] = "NN 7 5 2 0 own\0;";
  f = good(), f.choices = nul_choices, f.choices_len = sizeof nul_choices - 1;
  expect_refused(path, &f, "its matmul choices hold NUL bytes");
  const char *bad_choices[] = {"NN 7 5 2 0 quantum", "NT 6 5 6 0 host;NN 7 5 2 0 own", "NN 7 5 2 0 own;",
                               "garbage"};
  for (size_t i = 0; i < sizeof bad_choices / sizeof bad_choices[0]; i++) {
    f = good(), f.choices = bad_choices[i], f.choices_len = strlen(bad_choices[i]);
    expect_refused(path, &f, "its matmul choices are not a record of choices: ");
    assert_int_equal(cls_checkpoint_choices(path, &choices, err, sizeof err), CLS_ERR_FORMAT);
    assert_non_null(strstr(err, "matmul choices"));
  }
  f = good(), f.choices_len = (size_t)1 << 20; /* a length beyond the file */
  expect_refused(path, &f, "truncated");

  static const char nul_rows[] = "5,40,1000,900,1.5,1.25,0.01,0.5\n1\0,80\n";
  f = good(), f.rows = nul_rows, f.rows_len = sizeof nul_rows - 1;
  expect_refused(path, &f, "its CSV rows hold NUL bytes");
  f = good(), f.rows = "garbage\n", f.rows_len = 8;
  expect_refused(path, &f, "CSV row 1 ('garbage')");
  f = good(), f.rows = "15,80,2000,1800,1.25,1,0.01,1\n", f.rows_len = strlen(f.rows);
  expect_refused(path, &f, "CSV row 1"); /* beyond the checkpoint's step 10 */
  f = good(), f.seconds = -3;
  expect_refused(path, &f, "seconds = -3 is not a number in [0, 1e+09]");
  f = good(), f.seconds = 1e300;
  expect_refused(path, &f, "seconds = 1e+300");
  f = good(), f.train_flops = NAN;
  expect_refused(path, &f, "train_flops = nan");
  f = good(), f.total_steps = 30;
  expect_refused(path, &f, "total_steps 30 disagrees with its configuration's total_steps=20");
  f = good(), f.acc_count = 11;
  expect_refused(path, &f, "11 train losses summed over 10 steps");
  f = good(), f.param0 = INFINITY;
  expect_refused(path, &f, "params[0] = inf");
  f = good(), f.key = "task=linreg\nlr=0.01\n";
  expect_refused(path, &f, "total_steps 20 disagrees with its configuration's total_steps=absent");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_fields_checked),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
