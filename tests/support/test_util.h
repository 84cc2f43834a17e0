/*
 * tests/support/test_util.h — helpers shared by the cmocka tests.
 * Include after <setjmp.h>, <stdarg.h>, <stddef.h>, <cmocka.h>.
 */
#ifndef CLSCALE_TEST_UTIL_H
#define CLSCALE_TEST_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "clscale/device.h"
#include "clscale/ops.h"

/* A context on the default device (CLSCALE_DEVICE honoured) with the given
 * parameter overrides ("ROW_VARIANT=1", or NULL) and matmul backend (NULL =
 * auto). Fails the current test with the library's message on error. */
cls_context *test_context(const char *params, const char *backend);

/* Deterministic uniform values in [lo, hi) from a seed (splitmix64). */
void test_fill_uniform(float *x, size_t n, uint64_t seed, float lo, float hi);

/* A buffer holding a copy of host[0..n). Fails the test on error. */
cls_buffer *test_upload(cls_context *ctx, const float *host, size_t n);

/* Reads a whole buffer into a new malloc'd array. Fails the test on error. */
float *test_download(cls_context *ctx, const cls_buffer *buf);

/* Largest |got - want| / (|want| + abs_floor) over n values; the index of
 * the worst in *where when where is not NULL. */
double test_max_rel_err(const float *got, const double *want, size_t n, double abs_floor, size_t *where);

/* A new malloc'd array: n uniform floats in [lo, hi) from seed. */
float *test_random_floats(size_t n, uint64_t seed, float lo, float hi);

/* A new malloc'd array of x[0..n) as doubles. */
double *test_to_double(const float *x, size_t n);

/* A new malloc'd array of the n floats at offset of buf. */
float *test_read_at(cls_context *ctx, const cls_buffer *buf, size_t offset, size_t n);

/* Fails the test unless |got - want| <= tol * (|want| + floor) everywhere,
 * naming what, n and the worst index. */
void test_expect_close(const char *what, size_t n, const float *got, const double *want, double tol, double floor);

/* cmocka group fixtures: *state = a context on the default device (with
 * ROW_VARIANT=0 or 1 for the row kernels' two variants); teardown
 * destroys it. */
int test_setup_context(void **state);
int test_setup_rows_v0(void **state);
int test_setup_rows_v1(void **state);
int test_teardown_context(void **state);

/* Operands padded with TEST_SENTINEL on both sides, so that a write outside
 * the operand is caught: upload puts host[0..n) (or sentinels when host is
 * NULL) at offset pad; download returns the operand (malloc'd) and fails
 * the test if a sentinel changed. */
#define TEST_SENTINEL 777.0f
cls_buffer *test_upload_padded(cls_context *ctx, const float *host, size_t n, size_t pad);
float *test_download_padded(cls_context *ctx, cls_buffer *b, size_t n, size_t pad);

/* A fresh empty scratch folder under CLSCALE_TEST_TMP (or /tmp) whose name
 * starts with tag; written into out. */
void test_tmpdir(const char *tag, char *out, size_t out_len);

/* The whole file at path, NUL-terminated (malloc'd); fails the test when it
 * cannot be read. */
char *test_slurp(const char *path);

/* The path of the one auto matmul choices file (matmul-auto-*.txt) in the
 * cache folder dir; fails the test when there is none. */
void test_matmul_auto_file(const char *dir, char *out, size_t len);

/* Small-shape mode, CLSCALE_TEST_SMALL=1: the op tests keep the shapes
 * that exercise every code path (edges, tails, several parts, aliases) and
 * drop the large ones, so that they run under a simulator (the oclgrind
 * label; Oclgrind is about a thousand times slower than PoCL). */
int test_small(void);
/* limit, or small in small-shape mode: the largest problem (in floats) a
 * test's grid keeps. */
size_t test_limit(size_t limit, size_t small);
/* The largest problem a grid keeps in small-shape mode. */
#define TEST_SMALL_LIMIT 700

/* Fails the test, printing the context's last error, when s != CLS_OK. */
#define TEST_OK(ctx, call)                                                                                        \
  do {                                                                                                            \
    cls_status s_ = (call);                                                                                       \
    if (s_ != CLS_OK) fail_msg("%s -> %d (%s): %s", #call, s_, cls_status_name(s_), cls_last_error(ctx));         \
  } while (0)

#endif
