/*
 * tests/test_matmul_args.c — every bad argument of the matmul calls returns
 * its documented status, sets a message, and leaves every buffer untouched;
 * backend names and the per-context backend choice.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "test_util.h"

#define NA 64
#define NB 64
#define NC 64

typedef struct fixture {
  cls_context *ctx, *other;
  cls_buffer *a, *b, *c, *foreign;
  float ha[NA], hb[NB], hc[NC];
} fixture;

static int setup(void **state) {
  fixture *f = calloc(1, sizeof *f);
  if (!f) return -1;
  f->ctx = test_context(NULL, "own");
  f->other = test_context(NULL, "own");
  test_fill_uniform(f->ha, NA, 1, -1, 1);
  test_fill_uniform(f->hb, NB, 2, -1, 1);
  test_fill_uniform(f->hc, NC, 3, -1, 1);
  f->a = test_upload(f->ctx, f->ha, NA);
  f->b = test_upload(f->ctx, f->hb, NB);
  f->c = test_upload(f->ctx, f->hc, NC);
  f->foreign = test_upload(f->other, f->hc, NC);
  *state = f;
  return 0;
}

static int teardown(void **state) {
  fixture *f = *state;
  cls_buffer_free(f->a);
  cls_buffer_free(f->b);
  cls_buffer_free(f->c);
  cls_buffer_free(f->foreign);
  cls_context_destroy(f->ctx);
  cls_context_destroy(f->other);
  free(f);
  return 0;
}

/* The bytes of every buffer are what setup wrote. */
static void assert_untouched(fixture *f) {
  float got[NC];
  TEST_OK(f->ctx, cls_buffer_read(f->ctx, f->a, 0, NA, got));
  assert_memory_equal(got, f->ha, sizeof f->ha);
  TEST_OK(f->ctx, cls_buffer_read(f->ctx, f->b, 0, NB, got));
  assert_memory_equal(got, f->hb, sizeof f->hb);
  TEST_OK(f->ctx, cls_buffer_read(f->ctx, f->c, 0, NC, got));
  assert_memory_equal(got, f->hc, sizeof f->hc);
}

/* One call's arguments; the baseline is a valid 4 x 4 x 4 product on the
 * first 16 floats of each buffer, batch 1. */
typedef struct call {
  cls_backend backend;
  int ta, tb;
  size_t m, n, k;
  float alpha, beta;
  cls_ref a, b, c;
  size_t lda, ldb, ldc, sa, sb, sc, batch;
} call;

static call baseline(fixture *f) {
  call c = {CLS_BACKEND_OWN,
            CLS_NO_TRANS,
            CLS_NO_TRANS,
            4,
            4,
            4,
            1.0f,
            0.5f,
            cls_ref_at(f->a, 0),
            cls_ref_at(f->b, 0),
            cls_ref_at(f->c, 0),
            4,
            4,
            4,
            16,
            16,
            16,
            1};
  return c;
}

static cls_status run(fixture *f, const call *c) {
  return cls_matmul_batched_on(f->ctx, c->backend, (cls_trans)c->ta, (cls_trans)c->tb, c->m, c->n, c->k, c->alpha,
                               c->a, c->lda, c->sa, c->b, c->ldb, c->sb, c->beta, c->c, c->ldc, c->sc, c->batch);
}

/* Runs c on every backend that exists here and expects status. */
static void expect(fixture *f, call c, cls_status status) {
  cls_backend backends[4] = {CLS_BACKEND_OWN, CLS_BACKEND_CLBLAST, CLS_BACKEND_HOST, CLS_BACKEND_AUTO};
  for (int i = 0; i < 4; i++) {
    if (backends[i] == CLS_BACKEND_HOST && cls_context_device(f->ctx)->type != CLS_DEVICE_CPU) continue;
    c.backend = backends[i];
    cls_status s = run(f, &c);
    if (s != status)
      fail_msg("backend %s: got %d (%s), want %d (%s): %s", cls_backend_name(c.backend), s, cls_status_name(s),
               status, cls_status_name(status), cls_last_error(f->ctx));
    assert_true(strlen(cls_last_error(f->ctx)) > 0);
    assert_untouched(f);
  }
}

static void valid_baseline_runs(void **state) {
  fixture *f = *state;
  call c = baseline(f);
  TEST_OK(f->ctx, run(f, &c));
  /* Put C back for the other tests. */
  TEST_OK(f->ctx, cls_buffer_write(f->ctx, f->c, 0, NC, f->hc));
}

static void null_arguments(void **state) {
  fixture *f = *state;
  call c = baseline(f);
  assert_int_equal(cls_matmul(NULL, CLS_NO_TRANS, CLS_NO_TRANS, 4, 4, 4, 1, c.a, 4, c.b, 4, 0, c.c, 4),
                   CLS_ERR_NULL_ARGUMENT);
  assert_int_equal(
      cls_matmul_batched(NULL, CLS_NO_TRANS, CLS_NO_TRANS, 4, 4, 4, 1, c.a, 4, 0, c.b, 4, 0, 0, c.c, 4, 0, 1),
      CLS_ERR_NULL_ARGUMENT);
  c.a = CLS_NOREF;
  expect(f, c, CLS_ERR_NULL_ARGUMENT);
  c = baseline(f);
  c.b = CLS_NOREF;
  expect(f, c, CLS_ERR_NULL_ARGUMENT);
  c = baseline(f);
  c.c = CLS_NOREF;
  expect(f, c, CLS_ERR_NULL_ARGUMENT);
}

static void zero_sizes(void **state) {
  fixture *f = *state;
  call c = baseline(f);
  c.m = 0;
  expect(f, c, CLS_ERR_INVALID_SIZE);
  c = baseline(f);
  c.n = 0;
  expect(f, c, CLS_ERR_INVALID_SIZE);
  c = baseline(f);
  c.k = 0;
  expect(f, c, CLS_ERR_INVALID_SIZE);
  c = baseline(f);
  c.batch = 0;
  expect(f, c, CLS_ERR_INVALID_SIZE);
  /* A "negative" size that wrapped around: far beyond any buffer. */
  c = baseline(f);
  c.m = (size_t)-1;
  c.lda = 4;
  expect(f, c, CLS_ERR_INVALID_SIZE);
}

static void leading_dimensions(void **state) {
  fixture *f = *state;
  for (int ta = 0; ta < 2; ta++)
    for (int tb = 0; tb < 2; tb++) {
      /* m=2, n=3, k=5: rows of A hold k (N) or m (T) floats, and so on. */
      call c = baseline(f);
      c.ta = ta;
      c.tb = tb;
      c.m = 2;
      c.n = 3;
      c.k = 5;
      c.lda = ta ? 2 : 5;
      c.ldb = tb ? 5 : 3;
      c.ldc = 3;
      TEST_OK(f->ctx, run(f, &c)); /* the minimum is fine */
      TEST_OK(f->ctx, cls_buffer_write(f->ctx, f->c, 0, NC, f->hc));
      call bad = c;
      bad.lda--;
      expect(f, bad, CLS_ERR_LEADING_DIM);
      bad = c;
      bad.ldb--;
      expect(f, bad, CLS_ERR_LEADING_DIM);
      bad = c;
      bad.ldc--;
      expect(f, bad, CLS_ERR_LEADING_DIM);
    }
  /* Batch entries of C that overlap. */
  call c = baseline(f);
  c.batch = 2;
  c.sc = 15;
  expect(f, c, CLS_ERR_LEADING_DIM);
}

static void buffers_too_small(void **state) {
  fixture *f = *state;
  call c = baseline(f);
  c.m = c.n = c.k = 8;
  c.lda = c.ldb = c.ldc = 8; /* exactly 64 floats each: fits */
  c.a.offset = 1;            /* one float too far */
  expect(f, c, CLS_ERR_BUFFER_TOO_SMALL);
  c.a.offset = 0;
  c.ldb = 9;
  expect(f, c, CLS_ERR_BUFFER_TOO_SMALL);
  c.ldb = 8;
  c.c.offset = 100;
  expect(f, c, CLS_ERR_BUFFER_TOO_SMALL);
  /* The batch: 4 x 4 matrices 16 apart fit 4 times in 64 floats, not 5. */
  c = baseline(f);
  c.batch = 5;
  expect(f, c, CLS_ERR_BUFFER_TOO_SMALL);
  c.batch = 4;
  c.sa = 0; /* A broadcast: only B and C grow */
  c.sc = 17;
  expect(f, c, CLS_ERR_BUFFER_TOO_SMALL);
}

static void bad_values(void **state) {
  fixture *f = *state;
  call c = baseline(f);
  c.ta = 2;
  expect(f, c, CLS_ERR_INVALID_VALUE);
  c = baseline(f);
  c.tb = -1;
  expect(f, c, CLS_ERR_INVALID_VALUE);
  c = baseline(f);
  c.alpha = NAN;
  expect(f, c, CLS_ERR_INVALID_VALUE);
  c = baseline(f);
  c.beta = INFINITY;
  expect(f, c, CLS_ERR_INVALID_VALUE);
}

static void wrong_context(void **state) {
  fixture *f = *state;
  call c = baseline(f);
  c.c = cls_ref_at(f->foreign, 0);
  expect(f, c, CLS_ERR_WRONG_CONTEXT);
  float got[NC];
  TEST_OK(f->other, cls_buffer_read(f->other, f->foreign, 0, NC, got));
  assert_memory_equal(got, f->hc, sizeof got);
}

static void backends(void **state) {
  fixture *f = *state;
  cls_backend b;
  const char *names[] = {"auto", "own", "clblast", "host"};
  for (int i = 0; i < 4; i++) {
    assert_int_equal(cls_backend_parse(names[i], &b), CLS_OK);
    assert_int_equal((int)b, i);
    assert_string_equal(cls_backend_name(b), names[i]);
  }
  assert_int_equal(cls_backend_parse("blas", &b), CLS_ERR_UNKNOWN_BACKEND);
  assert_int_equal(cls_backend_parse("OWN", &b), CLS_ERR_UNKNOWN_BACKEND);
  assert_int_equal(cls_backend_parse(NULL, &b), CLS_ERR_NULL_ARGUMENT);

  /* An unknown backend in the context options or the environment. */
  cls_context_options o;
  cls_context_options_init(&o);
  o.matmul_backend = "cublas";
  cls_context *ctx = NULL;
  char err[1024] = "";
  assert_int_equal(cls_context_create(&o, &ctx, err, sizeof err), CLS_ERR_UNKNOWN_BACKEND);
  assert_null(ctx);
  assert_non_null(strstr(err, "cublas"));
  o.matmul_backend = NULL;
  setenv("CLSCALE_MATMUL_BACKEND", "fastest", 1);
  assert_int_equal(cls_context_create(&o, &ctx, err, sizeof err), CLS_ERR_UNKNOWN_BACKEND);
  unsetenv("CLSCALE_MATMUL_BACKEND");

  /* An out-of-range enum value. */
  call c = baseline(f);
  c.backend = (cls_backend)7;
  cls_status s = run(f, &c);
  assert_int_equal(s, CLS_ERR_UNKNOWN_BACKEND);
  assert_untouched(f);
  assert_int_equal(cls_matmul_set_backend(f->ctx, (cls_backend)-1), CLS_ERR_UNKNOWN_BACKEND);

  /* The choice: from the options, then set per context. */
  assert_int_equal(cls_matmul_get_backend(f->ctx), CLS_BACKEND_OWN);
  TEST_OK(f->ctx, cls_matmul_set_backend(f->ctx, CLS_BACKEND_CLBLAST));
  assert_int_equal(cls_matmul_get_backend(f->ctx), CLS_BACKEND_CLBLAST);
  assert_int_equal(cls_matmul_get_backend(f->other), CLS_BACKEND_OWN);
  if (cls_context_device(f->ctx)->type == CLS_DEVICE_CPU) {
    TEST_OK(f->ctx, cls_matmul_set_backend(f->ctx, CLS_BACKEND_HOST));
    assert_int_equal(cls_matmul_get_backend(f->ctx), CLS_BACKEND_HOST);
  } else {
    assert_int_equal(cls_matmul_set_backend(f->ctx, CLS_BACKEND_HOST), CLS_ERR_BACKEND_UNAVAILABLE);
  }
  TEST_OK(f->ctx, cls_matmul_set_backend(f->ctx, CLS_BACKEND_OWN));
  assert_int_equal(cls_matmul_get_backend(NULL), CLS_BACKEND_AUTO);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(valid_baseline_runs), cmocka_unit_test(null_arguments),    cmocka_unit_test(zero_sizes),
      cmocka_unit_test(leading_dimensions),  cmocka_unit_test(buffers_too_small), cmocka_unit_test(bad_values),
      cmocka_unit_test(wrong_context),       cmocka_unit_test(backends),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
