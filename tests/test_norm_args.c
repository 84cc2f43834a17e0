/*
 * tests/test_norm_args.c — every bad argument of cls_layernorm_* and
 * cls_rmsnorm_* returns its status (see src/ops/norm.c), sets a message and
 * leaves every buffer untouched; for both kernel variants.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "test_util.h"

enum { ROWS = 6, COLS = 5, N = ROWS * COLS };
/* Layout of the output buffer: every output of every call lives in it,
 * filled with a pattern that must survive all the failing calls. */
enum {
  O_Y = 0,
  O_MEAN = N,
  O_RSTD = N + ROWS,
  O_DG = N + 2 * ROWS,
  O_DB = N + 2 * ROWS + COLS,
  O_TOTAL = N + 2 * ROWS + 2 * COLS
};

struct fixture {
  cls_context *ctx, *other;
  cls_buffer *x, *gamma, *stats, *out, *small, *foreign;
  float host_x[N], host_gamma[2 * COLS], host_stats[2 * ROWS], pattern[O_TOTAL];
};

static int setup(void **state, const char *params) {
  struct fixture *f = calloc(1, sizeof *f);
  assert_non_null(f);
  f->ctx = test_context(params, NULL);
  f->other = test_context(NULL, NULL);
  test_fill_uniform(f->host_x, N, 1, -1, 1);
  test_fill_uniform(f->host_gamma, 2 * COLS, 2, 0.5f, 1.5f);
  test_fill_uniform(f->host_stats, 2 * ROWS, 3, 0.5f, 1.5f);
  for (size_t i = 0; i < O_TOTAL; i++) f->pattern[i] = 1000.0f + (float)i;
  f->x = test_upload(f->ctx, f->host_x, N);
  f->gamma = test_upload(f->ctx, f->host_gamma, 2 * COLS); /* gamma at 0, beta at COLS */
  f->stats = test_upload(f->ctx, f->host_stats, 2 * ROWS); /* mean at 0, rstd at ROWS */
  f->out = test_upload(f->ctx, f->pattern, O_TOTAL);
  f->small = test_upload(f->ctx, f->host_x, 3);
  TEST_OK(f->other, cls_buffer_alloc(f->other, N, &f->foreign));
  *state = f;
  return 0;
}
static int setup_v0(void **state) {
  return setup(state, "ROW_VARIANT=0");
}
static int setup_v1(void **state) {
  return setup(state, "ROW_VARIANT=1");
}

static int teardown(void **state) {
  struct fixture *f = *state;
  cls_buffer *all[] = {f->x, f->gamma, f->stats, f->out, f->small};
  for (size_t i = 0; i < 5; i++) cls_buffer_free(all[i]);
  cls_buffer_free(f->foreign);
  cls_context_destroy(f->other);
  cls_context_destroy(f->ctx);
  free(f);
  return 0;
}

/* Every buffer still holds what it was given. */
static void expect_untouched(struct fixture *f) {
  float *o = test_download(f->ctx, f->out), *x = test_download(f->ctx, f->x);
  float *g = test_download(f->ctx, f->gamma), *s = test_download(f->ctx, f->stats);
  assert_memory_equal(o, f->pattern, sizeof f->pattern);
  assert_memory_equal(x, f->host_x, sizeof f->host_x);
  assert_memory_equal(g, f->host_gamma, sizeof f->host_gamma);
  assert_memory_equal(s, f->host_stats, sizeof f->host_stats);
  free(o);
  free(x);
  free(g);
  free(s);
}

#define EXPECT_FAIL(want, call)                                                                                   \
  do {                                                                                                            \
    cls_status got_ = (call);                                                                                     \
    if (got_ != (want))                                                                                           \
      fail_msg("line %d: %s -> %d (%s), expected %d (%s)", __LINE__, #call, got_, cls_status_name(got_), want,    \
               cls_status_name(want));                                                                            \
    assert_true(strlen(cls_last_error(ctx)) > 0);                                                                 \
  } while (0)

static void layernorm_forward_args(void **state) {
  struct fixture *f = *state;
  cls_context *ctx = f->ctx;
  cls_ref X = cls_ref_at(f->x, 0), G = cls_ref_at(f->gamma, 0), B = cls_ref_at(f->gamma, COLS);
  cls_ref Y = cls_ref_at(f->out, O_Y), M = cls_ref_at(f->out, O_MEAN), R = cls_ref_at(f->out, O_RSTD);
  cls_ref S = cls_ref_at(f->small, 0), F = cls_ref_at(f->foreign, 0);
  const float e = 1e-5f;

  assert_int_equal(cls_layernorm_forward(NULL, ROWS, COLS, e, X, G, B, Y, M, R), CLS_ERR_NULL_ARGUMENT);
  EXPECT_FAIL(CLS_ERR_NULL_ARGUMENT, cls_layernorm_forward(ctx, ROWS, COLS, e, CLS_NOREF, G, B, Y, M, R));
  EXPECT_FAIL(CLS_ERR_NULL_ARGUMENT, cls_layernorm_forward(ctx, ROWS, COLS, e, X, CLS_NOREF, B, Y, M, R));
  EXPECT_FAIL(CLS_ERR_NULL_ARGUMENT, cls_layernorm_forward(ctx, ROWS, COLS, e, X, G, B, CLS_NOREF, M, R));
  EXPECT_FAIL(CLS_ERR_INVALID_SIZE, cls_layernorm_forward(ctx, 0, COLS, e, X, G, B, Y, M, R));
  EXPECT_FAIL(CLS_ERR_INVALID_SIZE, cls_layernorm_forward(ctx, ROWS, 0, e, X, G, B, Y, M, R));
  EXPECT_FAIL(CLS_ERR_BUFFER_TOO_SMALL, cls_layernorm_forward(ctx, ROWS, COLS, e, S, G, B, Y, M, R));
  EXPECT_FAIL(CLS_ERR_BUFFER_TOO_SMALL,
              cls_layernorm_forward(ctx, ROWS, COLS, e, cls_ref_at(f->x, 1), G, B, Y, M, R));
  EXPECT_FAIL(CLS_ERR_BUFFER_TOO_SMALL, cls_layernorm_forward(ctx, ROWS, COLS, e, X, S, B, Y, M, R));
  EXPECT_FAIL(CLS_ERR_BUFFER_TOO_SMALL,
              cls_layernorm_forward(ctx, ROWS, COLS, e, X, G, cls_ref_at(f->gamma, COLS + 1), Y, M, R));
  EXPECT_FAIL(CLS_ERR_BUFFER_TOO_SMALL,
              cls_layernorm_forward(ctx, ROWS, COLS, e, X, G, B, cls_ref_at(f->out, O_TOTAL - N + 1), M, R));
  EXPECT_FAIL(CLS_ERR_BUFFER_TOO_SMALL,
              cls_layernorm_forward(ctx, ROWS, COLS, e, X, G, B, Y, cls_ref_at(f->out, O_TOTAL - ROWS + 1), R));
  EXPECT_FAIL(CLS_ERR_BUFFER_TOO_SMALL,
              cls_layernorm_forward(ctx, ROWS, COLS, e, X, G, B, Y, M, cls_ref_at(f->out, 1u << 30)));
  EXPECT_FAIL(CLS_ERR_BUFFER_TOO_SMALL, cls_layernorm_forward(ctx, ROWS + 1, COLS, e, X, G, B, Y, M, R));
  EXPECT_FAIL(CLS_ERR_BUFFER_TOO_SMALL, cls_layernorm_forward(ctx, ROWS, 2 * COLS + 1, e, X, G, B, Y, M, R));
  EXPECT_FAIL(CLS_ERR_WRONG_CONTEXT, cls_layernorm_forward(ctx, ROWS, COLS, e, F, G, B, Y, M, R));
  EXPECT_FAIL(CLS_ERR_WRONG_CONTEXT, cls_layernorm_forward(ctx, ROWS, COLS, e, X, G, B, Y, M, F));
  EXPECT_FAIL(CLS_ERR_INVALID_VALUE, cls_layernorm_forward(ctx, ROWS, COLS, 0.0f, X, G, B, Y, M, R));
  EXPECT_FAIL(CLS_ERR_INVALID_VALUE, cls_layernorm_forward(ctx, ROWS, COLS, -1e-5f, X, G, B, Y, M, R));
  EXPECT_FAIL(CLS_ERR_INVALID_VALUE, cls_layernorm_forward(ctx, ROWS, COLS, NAN, X, G, B, Y, M, R));
  EXPECT_FAIL(CLS_ERR_INVALID_VALUE, cls_layernorm_forward(ctx, ROWS, COLS, INFINITY, X, G, B, Y, M, R));
  /* Overlaps: mean inside y, rstd on mean, y partly over... itself shifted. */
  EXPECT_FAIL(CLS_ERR_INVALID_VALUE,
              cls_layernorm_forward(ctx, ROWS, COLS, e, X, G, B, Y, cls_ref_at(f->out, O_Y + 3), R));
  EXPECT_FAIL(CLS_ERR_INVALID_VALUE, cls_layernorm_forward(ctx, ROWS, COLS, e, X, G, B, Y, M, M));
  EXPECT_FAIL(CLS_ERR_INVALID_VALUE,
              cls_layernorm_forward(ctx, ROWS, COLS, e, X, G, B, Y, M, cls_ref_at(f->out, O_MEAN + 1)));
  EXPECT_FAIL(CLS_ERR_INVALID_VALUE,
              cls_layernorm_forward(ctx, 2, COLS, e, cls_ref_at(f->out, 0), G, B, cls_ref_at(f->out, 2), M, R));
  EXPECT_FAIL(CLS_ERR_INVALID_VALUE,
              cls_layernorm_forward(ctx, 1, COLS, e, X, G, B, cls_ref_at(f->gamma, 0), CLS_NOREF, CLS_NOREF));
  expect_untouched(f);
}

static void rmsnorm_forward_args(void **state) {
  struct fixture *f = *state;
  cls_context *ctx = f->ctx;
  cls_ref X = cls_ref_at(f->x, 0), G = cls_ref_at(f->gamma, 0);
  cls_ref Y = cls_ref_at(f->out, O_Y), R = cls_ref_at(f->out, O_RSTD), S = cls_ref_at(f->small, 0);
  const float e = 1e-5f;

  assert_int_equal(cls_rmsnorm_forward(NULL, ROWS, COLS, e, X, G, Y, R), CLS_ERR_NULL_ARGUMENT);
  EXPECT_FAIL(CLS_ERR_NULL_ARGUMENT, cls_rmsnorm_forward(ctx, ROWS, COLS, e, CLS_NOREF, G, Y, R));
  EXPECT_FAIL(CLS_ERR_NULL_ARGUMENT, cls_rmsnorm_forward(ctx, ROWS, COLS, e, X, CLS_NOREF, Y, R));
  EXPECT_FAIL(CLS_ERR_NULL_ARGUMENT, cls_rmsnorm_forward(ctx, ROWS, COLS, e, X, G, CLS_NOREF, R));
  EXPECT_FAIL(CLS_ERR_INVALID_SIZE, cls_rmsnorm_forward(ctx, 0, COLS, e, X, G, Y, R));
  EXPECT_FAIL(CLS_ERR_INVALID_SIZE, cls_rmsnorm_forward(ctx, ROWS, 0, e, X, G, Y, R));
  EXPECT_FAIL(CLS_ERR_BUFFER_TOO_SMALL, cls_rmsnorm_forward(ctx, ROWS, COLS, e, S, G, Y, R));
  EXPECT_FAIL(CLS_ERR_BUFFER_TOO_SMALL, cls_rmsnorm_forward(ctx, ROWS, COLS, e, X, S, Y, R));
  EXPECT_FAIL(CLS_ERR_BUFFER_TOO_SMALL,
              cls_rmsnorm_forward(ctx, ROWS, COLS, e, X, G, Y, cls_ref_at(f->out, O_TOTAL - 1)));
  EXPECT_FAIL(CLS_ERR_WRONG_CONTEXT, cls_rmsnorm_forward(ctx, ROWS, COLS, e, X, G, cls_ref_at(f->foreign, 0), R));
  EXPECT_FAIL(CLS_ERR_INVALID_VALUE, cls_rmsnorm_forward(ctx, ROWS, COLS, 0.0f, X, G, Y, R));
  EXPECT_FAIL(CLS_ERR_INVALID_VALUE, cls_rmsnorm_forward(ctx, ROWS, COLS, -INFINITY, X, G, Y, R));
  EXPECT_FAIL(CLS_ERR_INVALID_VALUE, cls_rmsnorm_forward(ctx, ROWS, COLS, NAN, X, G, Y, R));
  EXPECT_FAIL(CLS_ERR_INVALID_VALUE,
              cls_rmsnorm_forward(ctx, ROWS, COLS, e, X, G, Y, cls_ref_at(f->out, O_Y + N - 1)));
  expect_untouched(f);
}

static void layernorm_backward_args(void **state) {
  struct fixture *f = *state;
  cls_context *ctx = f->ctx;
  /* dy is x (read-only inputs may share memory); dx, dgamma, dbeta in out. */
  cls_ref X = cls_ref_at(f->x, 0), G = cls_ref_at(f->gamma, 0), M = cls_ref_at(f->stats, 0);
  cls_ref R = cls_ref_at(f->stats, ROWS), DY = X, DX = cls_ref_at(f->out, O_Y);
  cls_ref DG = cls_ref_at(f->out, O_DG), DB = cls_ref_at(f->out, O_DB), S = cls_ref_at(f->small, 0);
  cls_ref F = cls_ref_at(f->foreign, 0);

  assert_int_equal(cls_layernorm_backward(NULL, ROWS, COLS, X, G, M, R, DY, DX, DG, DB, 0), CLS_ERR_NULL_ARGUMENT);
  EXPECT_FAIL(CLS_ERR_NULL_ARGUMENT,
              cls_layernorm_backward(ctx, ROWS, COLS, CLS_NOREF, G, M, R, DY, DX, DG, DB, 0));
  EXPECT_FAIL(CLS_ERR_NULL_ARGUMENT,
              cls_layernorm_backward(ctx, ROWS, COLS, X, CLS_NOREF, M, R, DY, DX, DG, DB, 0));
  EXPECT_FAIL(CLS_ERR_NULL_ARGUMENT,
              cls_layernorm_backward(ctx, ROWS, COLS, X, G, CLS_NOREF, R, DY, DX, DG, DB, 0));
  EXPECT_FAIL(CLS_ERR_NULL_ARGUMENT,
              cls_layernorm_backward(ctx, ROWS, COLS, X, G, M, CLS_NOREF, DY, DX, DG, DB, 0));
  EXPECT_FAIL(CLS_ERR_NULL_ARGUMENT,
              cls_layernorm_backward(ctx, ROWS, COLS, X, G, M, R, CLS_NOREF, DX, DG, DB, 0));
  EXPECT_FAIL(CLS_ERR_NULL_ARGUMENT,
              cls_layernorm_backward(ctx, ROWS, COLS, X, G, M, R, DY, CLS_NOREF, DG, DB, 0));
  EXPECT_FAIL(CLS_ERR_NULL_ARGUMENT,
              cls_layernorm_backward(ctx, ROWS, COLS, X, G, M, R, DY, DX, CLS_NOREF, DB, 0));
  EXPECT_FAIL(CLS_ERR_INVALID_SIZE, cls_layernorm_backward(ctx, 0, COLS, X, G, M, R, DY, DX, DG, DB, 0));
  EXPECT_FAIL(CLS_ERR_INVALID_SIZE, cls_layernorm_backward(ctx, ROWS, 0, X, G, M, R, DY, DX, DG, DB, 0));
  EXPECT_FAIL(CLS_ERR_BUFFER_TOO_SMALL, cls_layernorm_backward(ctx, ROWS, COLS, S, G, M, R, DY, DX, DG, DB, 0));
  EXPECT_FAIL(CLS_ERR_BUFFER_TOO_SMALL, cls_layernorm_backward(ctx, ROWS, COLS, X, S, M, R, DY, DX, DG, DB, 0));
  EXPECT_FAIL(CLS_ERR_BUFFER_TOO_SMALL, cls_layernorm_backward(ctx, ROWS, COLS, X, G, S, R, DY, DX, DG, DB, 0));
  EXPECT_FAIL(CLS_ERR_BUFFER_TOO_SMALL,
              cls_layernorm_backward(ctx, ROWS, COLS, X, G, M, cls_ref_at(f->stats, ROWS + 1), DY, DX, DG, DB, 0));
  EXPECT_FAIL(CLS_ERR_BUFFER_TOO_SMALL, cls_layernorm_backward(ctx, ROWS, COLS, X, G, M, R, S, DX, DG, DB, 0));
  EXPECT_FAIL(CLS_ERR_BUFFER_TOO_SMALL, cls_layernorm_backward(ctx, ROWS, COLS, X, G, M, R, DY,
                                                               cls_ref_at(f->out, O_TOTAL - N + 1), DG, DB, 0));
  EXPECT_FAIL(CLS_ERR_BUFFER_TOO_SMALL,
              cls_layernorm_backward(ctx, ROWS, COLS, X, G, M, R, DY, DX, DG, cls_ref_at(f->out, O_TOTAL - 1), 0));
  EXPECT_FAIL(CLS_ERR_BUFFER_TOO_SMALL, cls_layernorm_backward(ctx, ROWS, COLS, X, G, M, R, DY, DX, S, DB, 0));
  EXPECT_FAIL(CLS_ERR_WRONG_CONTEXT, cls_layernorm_backward(ctx, ROWS, COLS, X, G, M, R, F, DX, DG, DB, 0));
  EXPECT_FAIL(CLS_ERR_WRONG_CONTEXT, cls_layernorm_backward(ctx, ROWS, COLS, X, G, M, R, DY, DX, F, DB, 1));
  EXPECT_FAIL(CLS_ERR_INVALID_VALUE, cls_layernorm_backward(ctx, ROWS, COLS, X, G, M, R, DY, DX, DG, DB, 2));
  EXPECT_FAIL(CLS_ERR_INVALID_VALUE, cls_layernorm_backward(ctx, ROWS, COLS, X, G, M, R, DY, DX, DG, DB, -1));
  /* Overlaps: dgamma on dbeta, dgamma inside dx, dx over the statistics. */
  EXPECT_FAIL(CLS_ERR_INVALID_VALUE, cls_layernorm_backward(ctx, ROWS, COLS, X, G, M, R, DY, DX, DG, DG, 0));
  EXPECT_FAIL(CLS_ERR_INVALID_VALUE,
              cls_layernorm_backward(ctx, ROWS, COLS, X, G, M, R, DY, DX, cls_ref_at(f->out, O_Y + 7), DB, 0));
  EXPECT_FAIL(CLS_ERR_INVALID_VALUE,
              cls_layernorm_backward(ctx, 1, COLS, X, G, cls_ref_at(f->out, O_MEAN), cls_ref_at(f->out, O_RSTD),
                                     DY, cls_ref_at(f->out, O_MEAN), DG, DB, 0));
  EXPECT_FAIL(CLS_ERR_INVALID_VALUE, cls_layernorm_backward(ctx, 2, COLS, X, G, M, R, cls_ref_at(f->out, 0),
                                                            cls_ref_at(f->out, 1), DG, DB, 0));
  expect_untouched(f);
}

static void rmsnorm_backward_args(void **state) {
  struct fixture *f = *state;
  cls_context *ctx = f->ctx;
  cls_ref X = cls_ref_at(f->x, 0), G = cls_ref_at(f->gamma, 0), R = cls_ref_at(f->stats, ROWS);
  cls_ref DY = X, DX = cls_ref_at(f->out, O_Y), DG = cls_ref_at(f->out, O_DG), S = cls_ref_at(f->small, 0);

  assert_int_equal(cls_rmsnorm_backward(NULL, ROWS, COLS, X, G, R, DY, DX, DG, 0), CLS_ERR_NULL_ARGUMENT);
  EXPECT_FAIL(CLS_ERR_NULL_ARGUMENT, cls_rmsnorm_backward(ctx, ROWS, COLS, CLS_NOREF, G, R, DY, DX, DG, 0));
  EXPECT_FAIL(CLS_ERR_NULL_ARGUMENT, cls_rmsnorm_backward(ctx, ROWS, COLS, X, CLS_NOREF, R, DY, DX, DG, 0));
  EXPECT_FAIL(CLS_ERR_NULL_ARGUMENT, cls_rmsnorm_backward(ctx, ROWS, COLS, X, G, CLS_NOREF, DY, DX, DG, 0));
  EXPECT_FAIL(CLS_ERR_NULL_ARGUMENT, cls_rmsnorm_backward(ctx, ROWS, COLS, X, G, R, CLS_NOREF, DX, DG, 0));
  EXPECT_FAIL(CLS_ERR_NULL_ARGUMENT, cls_rmsnorm_backward(ctx, ROWS, COLS, X, G, R, DY, CLS_NOREF, DG, 0));
  EXPECT_FAIL(CLS_ERR_NULL_ARGUMENT, cls_rmsnorm_backward(ctx, ROWS, COLS, X, G, R, DY, DX, CLS_NOREF, 0));
  EXPECT_FAIL(CLS_ERR_INVALID_SIZE, cls_rmsnorm_backward(ctx, 0, COLS, X, G, R, DY, DX, DG, 0));
  EXPECT_FAIL(CLS_ERR_INVALID_SIZE, cls_rmsnorm_backward(ctx, ROWS, 0, X, G, R, DY, DX, DG, 0));
  EXPECT_FAIL(CLS_ERR_BUFFER_TOO_SMALL, cls_rmsnorm_backward(ctx, ROWS, COLS, X, G, S, DY, DX, DG, 0));
  EXPECT_FAIL(CLS_ERR_BUFFER_TOO_SMALL, cls_rmsnorm_backward(ctx, ROWS, COLS, X, G, R, S, DX, DG, 0));
  EXPECT_FAIL(CLS_ERR_BUFFER_TOO_SMALL,
              cls_rmsnorm_backward(ctx, ROWS, COLS, X, G, R, DY, DX, cls_ref_at(f->out, O_TOTAL - COLS + 1), 0));
  EXPECT_FAIL(CLS_ERR_WRONG_CONTEXT,
              cls_rmsnorm_backward(ctx, ROWS, COLS, X, G, R, DY, cls_ref_at(f->foreign, 0), DG, 0));
  EXPECT_FAIL(CLS_ERR_INVALID_VALUE, cls_rmsnorm_backward(ctx, ROWS, COLS, X, G, R, DY, DX, DG, 3));
  EXPECT_FAIL(CLS_ERR_INVALID_VALUE,
              cls_rmsnorm_backward(ctx, ROWS, COLS, X, G, R, DY, DX, cls_ref_at(f->out, O_Y + N - 2), 0));
  expect_untouched(f);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(layernorm_forward_args),
      cmocka_unit_test(rmsnorm_forward_args),
      cmocka_unit_test(layernorm_backward_args),
      cmocka_unit_test(rmsnorm_backward_args),
  };
  int failed = cmocka_run_group_tests_name("norm arguments, ROW_VARIANT=0", tests, setup_v0, teardown);
  failed += cmocka_run_group_tests_name("norm arguments, ROW_VARIANT=1", tests, setup_v1, teardown);
  return failed;
}
