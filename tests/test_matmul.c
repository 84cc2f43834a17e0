/*
 * tests/test_matmul.c — every matmul backend against the double-precision
 * reference (src/ops/matmul_ref.c) over awkward shapes, all four transpose
 * combinations, alpha/beta != 1/0, leading dimensions above the minimum,
 * nonzero offsets, strided batches (stride 0 included), and beta = 0 with
 * NaN in C. Every element outside C's view (the gaps between rows, before
 * the offset, after the end) must come back unchanged. Products that want
 * only C's lower triangle (the SPD solve's updates, src/ops/matmul.h) must
 * get it exactly, and leave each entry above it either unchanged or right.
 * Small products with buffers that end at their last element (own_small)
 * catch a kernel reading past an operand under Oclgrind; own_small_launches
 * counts the launches the register kernel's small products take.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops/matmul.h"
#include "ops/matmul_ref.h"
#include "test_util.h"

typedef struct mm_case {
  cls_trans ta, tb;
  size_t m, n, k, batch;
  float alpha, beta;
  size_t pad_a, pad_b, pad_c;   /* leading dimension minus its minimum */
  size_t off_a, off_b, off_c;   /* offsets into the buffers */
  int broadcast_a, broadcast_b; /* stride 0 */
  int lower;                    /* only column <= row wanted (internal) */
} mm_case;

#define SENTINEL 12345.0f

/* Runs one case on backend and checks every float of C's buffer. In
 * small-shape mode (test_util.h) a case of more multiply-adds
 * is skipped (4000): the small shapes left still put most awkward sizes in most
 * role and cross the tile edges of every kernel. Each buffer holds slack
 * floats after the last one its matrices span; with none, a kernel that
 * reads past an operand reads past its buffer, which Oclgrind reports. */
static void run_case_slack(cls_context *ctx, cls_backend backend, const mm_case *t, size_t slack) {
  if (t->m * t->n * t->k * t->batch > test_limit(SIZE_MAX, 4000)) return;
  size_t ar = t->ta ? t->k : t->m, ac = t->ta ? t->m : t->k;
  size_t br = t->tb ? t->n : t->k, bc = t->tb ? t->k : t->n;
  size_t lda = ac + t->pad_a, ldb = bc + t->pad_b, ldc = t->n + t->pad_c;
  size_t span_a = (ar - 1) * lda + ac, span_b = (br - 1) * ldb + bc, span_c = (t->m - 1) * ldc + t->n;
  /* Batch strides leave a gap too, so that stride arithmetic is exercised. */
  size_t sa = t->broadcast_a ? 0 : span_a + 5, sb = t->broadcast_b ? 0 : span_b + 3, sc = span_c + 2;
  if (t->batch == 1) sa = sb = sc = 0;
  size_t na = t->off_a + span_a + (t->batch - 1) * sa + slack;
  size_t nb = t->off_b + span_b + (t->batch - 1) * sb + slack;
  size_t nc = t->off_c + span_c + (t->batch - 1) * sc + slack;

  float *a = malloc(na * sizeof *a), *b = malloc(nb * sizeof *b), *c = malloc(nc * sizeof *c);
  float *before = malloc(nc * sizeof *before);
  assert_non_null(a);
  assert_non_null(b);
  assert_non_null(c);
  assert_non_null(before);
  test_fill_uniform(a, na, 1 + t->m * 7 + t->k, -1.0f, 1.0f);
  test_fill_uniform(b, nb, 2 + t->n * 5 + t->k, -1.0f, 1.0f);
  for (size_t i = 0; i < nc; i++) c[i] = SENTINEL;
  /* C's view: random values, or NaN when beta == 0 (which must not read it). */
  char *in_view = calloc(nc, 1);
  assert_non_null(in_view);
  for (size_t q = 0; q < t->batch; q++)
    for (size_t i = 0; i < t->m; i++)
      for (size_t j = 0; j < t->n; j++) {
        size_t at = t->off_c + q * sc + i * ldc + j;
        in_view[at] = 1;
        c[at] = t->beta == 0.0f ? NAN : (float)((double)((i * 31 + j * 17 + q) % 13) / 13.0 - 0.5);
      }

  /* Reference: the value and a bound on its rounding error (the same
   * product over absolute values, times the k + 2 roundings of a sum). */
  double *want = malloc(nc * sizeof *want), *bound = malloc(nc * sizeof *bound);
  float *abs_a = malloc(na * sizeof *abs_a), *abs_b = malloc(nb * sizeof *abs_b);
  assert_non_null(want);
  assert_non_null(bound);
  assert_non_null(abs_a);
  assert_non_null(abs_b);
  for (size_t i = 0; i < nc; i++) {
    want[i] = c[i];
    bound[i] = t->beta == 0.0f ? 0.0 : fabs((double)c[i]) * fabs((double)t->beta);
  }
  for (size_t i = 0; i < na; i++) abs_a[i] = fabsf(a[i]);
  for (size_t i = 0; i < nb; i++) abs_b[i] = fabsf(b[i]);
  cls_ref_matmul(t->ta, t->tb, t->m, t->n, t->k, t->alpha, a + t->off_a, lda, sa, b + t->off_b, ldb, sb, t->beta,
                 want + t->off_c, ldc, sc, t->batch);
  cls_ref_matmul(t->ta, t->tb, t->m, t->n, t->k, fabs((double)t->alpha), abs_a + t->off_a, lda, sa,
                 abs_b + t->off_b, ldb, sb, 1.0, bound + t->off_c, ldc, sc, t->batch);

  cls_buffer *da = test_upload(ctx, a, na), *db = test_upload(ctx, b, nb), *dc = test_upload(ctx, c, nc);
  memcpy(before, c, nc * sizeof *c);
  if (t->lower) {
    cls__mm_args g = {t->ta,
                      t->tb,
                      t->m,
                      t->n,
                      t->k,
                      t->batch,
                      t->alpha,
                      t->beta,
                      cls_ref_at(da, t->off_a),
                      cls_ref_at(db, t->off_b),
                      cls_ref_at(dc, t->off_c),
                      lda,
                      ldb,
                      ldc,
                      sa,
                      sb,
                      sc,
                      1,
                      0,
                      0,
                      {NULL, 0},
                      0,
                      0};
    TEST_OK(ctx, cls__mm_run(ctx, backend, &g));
  } else {
    TEST_OK(ctx, cls_matmul_batched_on(ctx, backend, t->ta, t->tb, t->m, t->n, t->k, t->alpha,
                                       cls_ref_at(da, t->off_a), lda, sa, cls_ref_at(db, t->off_b), ldb, sb,
                                       t->beta, cls_ref_at(dc, t->off_c), ldc, sc, t->batch));
  }
  float *got = test_download(ctx, dc);
  const double u = 1.0 / 16777216.0; /* unit roundoff of float */
  for (size_t i = 0; i < nc; i++) {
    /* Above the diagonal of a lower product: unchanged (bitwise, NaN
     * included) or right. */
    size_t rel = in_view[i] ? (i - t->off_c) % (sc ? sc : nc) : 0;
    if (t->lower && in_view[i] && rel % ldc > rel / ldc && memcmp(&got[i], &before[i], sizeof(float)) == 0)
      continue;
    if (!in_view[i]) {
      if (got[i] != SENTINEL)
        fail_msg("%s %c%c %zux%zux%zu batch %zu: float %zu outside C's view changed to %g",
                 cls_backend_name(backend), t->ta ? 'T' : 'N', t->tb ? 'T' : 'N', t->m, t->n, t->k, t->batch, i,
                 (double)got[i]);
      continue;
    }
    double tol = 2.0 * (double)(t->k + 2) * u * bound[i] + 1e-30;
    double err = fabs((double)got[i] - want[i]);
    if (!(err <= tol))
      fail_msg("%s %c%c %zux%zux%zu batch %zu alpha %g beta %g: float %zu is %.9g, want %.9g (error %.3g > %.3g)",
               cls_backend_name(backend), t->ta ? 'T' : 'N', t->tb ? 'T' : 'N', t->m, t->n, t->k, t->batch,
               (double)t->alpha, (double)t->beta, i, (double)got[i], want[i], err, tol);
  }
  free(got);
  cls_buffer_free(da);
  cls_buffer_free(db);
  cls_buffer_free(dc);
  free(a);
  free(b);
  free(c);
  free(before);
  free(in_view);
  free(want);
  free(bound);
  free(abs_a);
  free(abs_b);
}

static void run_case(cls_context *ctx, cls_backend backend, const mm_case *t) {
  run_case_slack(ctx, backend, t, 4);
}

/* (m, n, k) triples in which every awkward size appears in every role. */
static const size_t shapes[][3] = {
    {1, 1, 1},    {2, 3, 7},    {17, 31, 33},  {33, 17, 1},  {63, 65, 2},   {65, 63, 127},
    {127, 1, 17}, {1, 129, 31}, {129, 7, 65},  {3, 127, 63}, {31, 33, 129}, {7, 2, 3},
    {64, 64, 64}, {96, 80, 40}, {130, 100, 9}, {5, 250, 11},
};
#define SHAPE_COUNT (sizeof shapes / sizeof shapes[0])

/* The grid: every shape under all four transposes, alternating
 * (alpha, beta) between (1, 0) and (-1.5, 0.75), with padded leading
 * dimensions and offsets on every other case. */
static void run_grid(cls_context *ctx, cls_backend backend, size_t max_shapes) {
  int i = 0;
  for (size_t s = 0; s < SHAPE_COUNT && s < max_shapes; s++)
    for (int tr = 0; tr < 4; tr++, i++) {
      mm_case t = {(cls_trans)(tr & 1),
                   (cls_trans)(tr >> 1),
                   shapes[s][0],
                   shapes[s][1],
                   shapes[s][2],
                   1,
                   i % 2 ? -1.5f : 1.0f,
                   i % 2 ? 0.75f : 0.0f,
                   (size_t)(i % 3),
                   (size_t)(i % 4),
                   (size_t)(i % 5),
                   (size_t)(i % 2) * 3,
                   (size_t)(i % 3) * 5,
                   (size_t)(i % 2) * 11,
                   0,
                   0,
                   0};
      run_case(ctx, backend, &t);
    }
}

/* Batched cases: broadcasting A or B, with transposes and beta. */
static void run_batched(cls_context *ctx, cls_backend backend) {
  static const size_t bs[][4] = {{17, 9, 33, 3}, {1, 5, 2, 4}, {33, 65, 16, 2}, {8, 8, 8, 5}};
  int i = 0;
  for (size_t s = 0; s < sizeof bs / sizeof bs[0]; s++)
    for (int tr = 0; tr < 4; tr++, i++) {
      mm_case t = {(cls_trans)(tr & 1),
                   (cls_trans)(tr >> 1),
                   bs[s][0],
                   bs[s][1],
                   bs[s][2],
                   bs[s][3],
                   i % 2 ? 0.5f : 1.0f,
                   i % 3 ? 0.0f : -2.0f,
                   (size_t)(i % 2),
                   1,
                   (size_t)(i % 3),
                   2,
                   0,
                   7,
                   i % 3 == 1,
                   i % 3 == 2,
                   0};
      run_case(ctx, backend, &t);
    }
}

/* With registers_only, only on parameter sets of the register kernel:
 * on a GPU set (MM_LOCAL=1) the register tile's parameters are ignored
 * and the case would repeat own's. */
static void test_backend_on(cls_backend backend, const char *params, size_t max_shapes, int registers_only) {
  cls_context *ctx = test_context(params, NULL);
  if ((backend == CLS_BACKEND_HOST && cls_context_device(ctx)->type != CLS_DEVICE_CPU) ||
      (registers_only && cls__param(ctx, "MM_LOCAL", 0) != 0)) {
    cls_context_destroy(ctx);
    skip();
  }
  run_grid(ctx, backend, max_shapes);
  run_batched(ctx, backend);
  cls_context_destroy(ctx);
}

static void test_backend(cls_backend backend, const char *params, size_t max_shapes) {
  test_backend_on(backend, params, max_shapes, 0);
}

static void own(void **state) {
  (void)state;
  test_backend(CLS_BACKEND_OWN, NULL, SHAPE_COUNT);
}

/* The register kernel with other tile parameters (odd rows per tile,
 * narrow vectors, k padded to a multiple of 4), packing every operand. */
static void own_other_tiles(void **state) {
  (void)state;
  test_backend_on(CLS_BACKEND_OWN, "MM_NARROW=0,MM_VW=4,MM_MR=3,MM_NV=3,MM_LM=2,MM_KP=4,MM_ADIRECT=0,MM_BDIRECT=0",
                  SHAPE_COUNT, 1);
}

/* The narrow register tile (for CPUs without AVX-512), forced, reading A
 * and B in place wherever it can, with k split into chunks of 50. */
static void own_narrow(void **state) {
  (void)state;
  test_backend_on(CLS_BACKEND_OWN, "MM_NARROW=1,MM_ADIRECT=2,MM_BDIRECT=2,MM_KC=50,MM_KCF=0", SHAPE_COUNT, 1);
}

/* Small products as the emulator makes them, each buffer ending at its
 * last element: B narrower than the register panel read in place (n = 1,
 * primes, n just under the panel; its loads run on past row kk while they
 * end inside the matrix, and its last rows load column by column, tails
 * longer than k included), k split into chunks or not around the
 * footprint bound MM_KCF, in every register tile's vector width. */
static void own_small(void **state) {
  (void)state;
  static const char *params[] = {
      NULL,
      "MM_BDIRECT=2",
      "MM_BDIRECT=2,MM_KC=7,MM_KCF=0",
      "MM_NARROW=1,MM_BDIRECT=2,MM_KC=16,MM_KCF=300",
      "MM_NARROW=0,MM_VW=4,MM_MR=3,MM_NV=3,MM_LM=2,MM_BDIRECT=2,MM_KC=9,MM_KCF=200",
      "MM_NARROW=0,MM_VW=2,MM_MR=5,MM_NV=3,MM_BDIRECT=2",
      "MM_NARROW=0,MM_VW=8,MM_MR=2,MM_NV=1,MM_ADIRECT=0,MM_BDIRECT=1,MM_KC=5,MM_KCF=0",
  };
  /* m, n, k, batch */
  static const size_t small[][4] = {{13, 1, 40, 1}, {7, 2, 3, 1},   {5, 5, 61, 1},  {12, 16, 17, 1},
                                    {25, 17, 9, 1}, {3, 31, 37, 1}, {11, 4, 16, 3}, {1, 13, 100, 1},
                                    {29, 7, 2, 2},  {6, 33, 19, 1}, {2, 3, 300, 1}, {17, 1, 1, 2}};
  for (size_t p = 0; p < sizeof params / sizeof params[0]; p++) {
    cls_context *ctx = test_context(params[p], NULL);
    if (cls__param(ctx, "MM_LOCAL", 0) != 0) {
      /* These are the register kernel's paths (operands in place, narrow
       * panels, chunks of k); the GPU kernel packs both operands, and
       * own's grid runs it on such shapes. */
      cls_context_destroy(ctx);
      skip();
    }
    int i = 0;
    for (size_t q = 0; q < sizeof small / sizeof small[0]; q++)
      for (int tr = 0; tr < 4; tr++, i++) {
        mm_case t = {(cls_trans)(tr & 1),
                     (cls_trans)(tr >> 1),
                     small[q][0],
                     small[q][1],
                     small[q][2],
                     small[q][3],
                     i % 2 ? 0.5f : 1.0f,
                     i % 3 ? 0.0f : -1.25f,
                     (size_t)(i % 3),
                     (size_t)(i % 4 == 1) * 5,
                     (size_t)(i % 2),
                     (size_t)(i % 2) * 3,
                     (size_t)(i % 5),
                     (size_t)(i % 3),
                     small[q][3] > 1 && i % 4 == 2,
                     small[q][3] > 1 && i % 4 == 3,
                     0};
        run_case_slack(ctx, CLS_BACKEND_OWN, &t, 0);
      }
    cls_context_destroy(ctx);
  }
}

/* Launches of the own backend's small products on the register kernel:
 * a row-major B narrower than the panel is read in place (no packing
 * launch) unless too many of its rows would load column by column, and k
 * is one launch unless (m + n) k exceeds MM_KCF. */
static size_t calls_of(cls_context *ctx, const char *op) {
  cls_counters c;
  TEST_OK(ctx, cls_counters_get(ctx, &c));
  for (size_t i = 0; i < c.op_count; i++)
    if (strcmp(c.ops[i].name, op) == 0) return (size_t)c.ops[i].calls;
  return 0;
}

static void launches(cls_context *ctx, cls_trans ta, cls_trans tb, size_t m, size_t n, size_t k, size_t ldb,
                     size_t own, size_t pack) {
  size_t na = m * k, nb = tb ? (n - 1) * ldb + k : (k - 1) * ldb + n, nh = m * n;
  if (na > nh) nh = na;
  if (nb > nh) nh = nb;
  float *h = calloc(nh, sizeof *h); /* zeros for A, B and C alike */
  assert_non_null(h);
  cls_buffer *a = test_upload(ctx, h, na), *b = test_upload(ctx, h, nb), *c = test_upload(ctx, h, m * n);
  cls_counters_reset(ctx);
  TEST_OK(ctx, cls_matmul_batched_on(ctx, CLS_BACKEND_OWN, ta, tb, m, n, k, 1.0f, cls_ref_at(a, 0), ta ? m : k, 0,
                                     cls_ref_at(b, 0), ldb, 0, 0.0f, cls_ref_at(c, 0), n, 0, 1));
  size_t got_own = calls_of(ctx, "matmul.own"), got_pack = calls_of(ctx, "matmul.own_pack");
  if (got_own != own || got_pack != pack)
    fail_msg("%c%c %zux%zux%zu ldb %zu: %zu multiply and %zu packing launches, want %zu and %zu", ta ? 'T' : 'N',
             tb ? 'T' : 'N', m, n, k, ldb, got_own, got_pack, own, pack);
  cls_buffer_free(a);
  cls_buffer_free(b);
  cls_buffer_free(c);
  free(h);
}

static void own_small_launches(void **state) {
  (void)state;
  cls_context *ctx = test_context("MM_ADIRECT=1,MM_BDIRECT=1,MM_KC=64,MM_KCF=4096,MM_BTK=2048", NULL);
  if (cls__param(ctx, "MM_LOCAL", 0) != 0) { /* the GPU kernel packs both sides */
    cls_context_destroy(ctx);
    skip();
  }
  const cls_trans N = CLS_NO_TRANS, T = CLS_TRANS;
  launches(ctx, N, N, 37, 5, 64, 5, 1, 0);    /* narrow B in place, a few rows column by column */
  launches(ctx, N, N, 37, 1, 16, 1, 1, 1);    /* n = 1, k = 16: every row would be slow, packed */
  launches(ctx, T, N, 8, 4, 256, 4, 1, 0);    /* (8 + 4) 256 <= 4096: one pass over k */
  launches(ctx, T, N, 16, 16, 256, 16, 1, 0); /* (16 + 16) 256 > 4096: 4 slices of 64 side by side */
  launches(ctx, N, T, 128, 7, 4, 9, 1, 0);    /* transposed, m k = 512 <= 2048: gathered in place */
  launches(ctx, N, T, 128, 7, 17, 17, 1, 1);  /* m k = 2176 > 2048: packed */
  assert_int_equal(calls_of(ctx, "matmul.own_ksum"), 0);
  cls_counters_reset(ctx);
  launches(ctx, T, N, 16, 16, 256, 16, 1, 0); /* the slices' sum: one launch more */
  assert_int_equal(calls_of(ctx, "matmul.own_ksum"), 1);
  cls_context_destroy(ctx);
  /* MM_KSPLIT=0: one launch per chunk, each adding into C. */
  ctx = test_context("MM_ADIRECT=1,MM_BDIRECT=1,MM_KC=64,MM_KCF=4096,MM_BTK=2048,MM_KSPLIT=0", NULL);
  launches(ctx, T, N, 16, 16, 256, 16, 4, 0);
  assert_int_equal(calls_of(ctx, "matmul.own_ksum"), 0);
  cls_context_destroy(ctx);
}

/* A long k split into slices run side by side, each into a partial C, and
 * summed in slice order by a second kernel (MM_KSPLIT=1; MM_KCF=0 splits
 * every k longer than MM_KC): k prime, slices whose last is one step
 * long, m and n 1 and primes, every transpose, beta 0 (NaN in C) and
 * not, strided batches with A or B broadcast, buffers ending at their
 * last element; with operands in place and packed, k padded (MM_KP), in
 * every tile, and the serial chunks of MM_KSPLIT=0 beside them. */
static void own_split(void **state) {
  (void)state;
  static const char *params[] = {
      "MM_KC=7,MM_KCF=0",
      "MM_KC=16,MM_KCF=0,MM_ADIRECT=0,MM_BDIRECT=0",
      "MM_NARROW=1,MM_KC=5,MM_KCF=0,MM_ADIRECT=2,MM_BDIRECT=2",
      "MM_NARROW=0,MM_VW=4,MM_MR=3,MM_NV=3,MM_LM=2,MM_KP=4,MM_KC=9,MM_KCF=0",
      "MM_KSPLIT=0,MM_KC=7,MM_KCF=0",
  };
  /* m, n, k, batch */
  static const size_t split[][4] = {{1, 1, 97, 1}, {1, 13, 53, 2},  {13, 1, 29, 3},   {5, 7, 23, 2},
                                    {7, 3, 61, 1}, {2, 19, 67, 1},  {3, 2, 100, 4},   {11, 5, 31, 2},
                                    {6, 6, 8, 1},  {17, 31, 61, 1}, {37, 41, 131, 2}, {29, 37, 7, 1}};
  for (size_t p = 0; p < sizeof params / sizeof params[0]; p++) {
    cls_context *ctx = test_context(params[p], NULL);
    if (cls__param(ctx, "MM_LOCAL", 0) != 0) { /* the GPU kernel does not split k */
      cls_context_destroy(ctx);
      skip();
    }
    int i = 0;
    for (size_t q = 0; q < sizeof split / sizeof split[0]; q++)
      for (int tr = 0; tr < 4; tr++, i++) {
        mm_case t = {(cls_trans)(tr & 1),
                     (cls_trans)(tr >> 1),
                     split[q][0],
                     split[q][1],
                     split[q][2],
                     split[q][3],
                     i % 2 ? -0.5f : 1.0f,
                     i % 3 == 0   ? 0.0f
                     : i % 3 == 1 ? 0.75f
                                  : -1.25f,
                     (size_t)(i % 3),
                     (size_t)(i % 4 == 1) * 5,
                     (size_t)(i % 2) * 2,
                     (size_t)(i % 2) * 3,
                     (size_t)(i % 5),
                     (size_t)(i % 3),
                     split[q][3] > 1 && i % 4 == 2,
                     split[q][3] > 1 && i % 4 == 3,
                     0};
        run_case_slack(ctx, CLS_BACKEND_OWN, &t, 0);
      }
    cls_context_destroy(ctx);
  }
}

/* C of one product: `models` models' products of `per` entries each (A's
 * and B's matrices sa and sb floats apart, C's sc), through one call. */
static float *split_product(cls_context *ctx, cls_trans ta, cls_trans tb, size_t m, size_t n, size_t k,
                            const float *a, const float *b, const float *c, size_t sa, size_t sb, size_t sc,
                            size_t per, size_t models, int together) {
  size_t K = per * models, lda = ta ? m : k, ldb = tb ? k : n;
  cls_buffer *A = test_upload(ctx, a, K * sa), *B = test_upload(ctx, b, K * sb), *C = test_upload(ctx, c, K * sc);
  if (together)
    TEST_OK(ctx, cls_matmul_models(ctx, ta, tb, m, n, k, 0.5f, cls_ref_at(A, 0), lda, sa, cls_ref_at(B, 0), ldb,
                                   sb, 0.75f, cls_ref_at(C, 0), n, sc, K, models));
  else
    for (size_t j = 0; j < models; j++)
      TEST_OK(ctx, cls_matmul_batched_on(ctx, CLS_BACKEND_OWN, ta, tb, m, n, k, 0.5f, cls_ref_at(A, j * per * sa),
                                         lda, sa, cls_ref_at(B, j * per * sb), ldb, sb, 0.75f,
                                         cls_ref_at(C, j * per * sc), n, sc, per));
  float *got = test_download(ctx, C);
  cls_buffer_free(A);
  cls_buffer_free(B);
  cls_buffer_free(C);
  return got;
}

/* Split k is deterministic: the same inputs give the same bits, and
 * models side by side (cls_matmul_models) give bitwise what each model's
 * products give alone: the slices depend on m, n and k only. On the
 * emulator's weight gradients with the cpu set's own parameters, and on
 * small shapes split finely (small-shape mode: those only). */
static void own_split_bitwise(void **state) {
  (void)state;
  static const char *params[] = {"MM_KC=7,MM_KCF=0", NULL};
  /* m, n, k, transposes (bit 0: A, bit 1: B) */
  static const size_t shapes_bw[][4] = {{16, 64, 8192, 1}, {64, 16, 8192, 1}, {13, 7, 1031, 0},
                                        {5, 3, 61, 1},     {1, 11, 29, 3},    {9, 1, 43, 2}};
  for (size_t p = 0; p < sizeof params / sizeof params[0]; p++) {
    if (!params[p] && test_small()) continue;
    cls_context *ctx = test_context(params[p], "own");
    if (cls__param(ctx, "MM_LOCAL", 0) != 0) { /* the GPU kernel does not split k */
      cls_context_destroy(ctx);
      skip();
    }
    for (size_t q = 0; q < sizeof shapes_bw / sizeof shapes_bw[0]; q++) {
      size_t m = shapes_bw[q][0], n = shapes_bw[q][1], k = shapes_bw[q][2], per = 2, models = 3;
      if (params[p] && m * n * k > 4000) continue;
      cls_trans ta = (cls_trans)(shapes_bw[q][3] & 1), tb = (cls_trans)(shapes_bw[q][3] >> 1);
      size_t sa = m * k + 3, sb = k * n + 5, sc = m * n + 2, K = per * models;
      float *a = test_random_floats(K * sa, 1 + q, -1, 1), *b = test_random_floats(K * sb, 2 + q, -1, 1);
      float *c = test_random_floats(K * sc, 3 + q, -1, 1);
      float *together = split_product(ctx, ta, tb, m, n, k, a, b, c, sa, sb, sc, per, models, 1);
      float *again = split_product(ctx, ta, tb, m, n, k, a, b, c, sa, sb, sc, per, models, 1);
      float *alone = split_product(ctx, ta, tb, m, n, k, a, b, c, sa, sb, sc, per, models, 0);
      if (memcmp(together, again, K * sc * sizeof *c) || memcmp(together, alone, K * sc * sizeof *c))
        fail_msg("%s: %zu x %zu x %zu (%c%c): %s", params[p] ? params[p] : "cpu set", m, n, k, ta ? 'T' : 'N',
                 tb ? 'T' : 'N',
                 memcmp(together, again, K * sc * sizeof *c) ? "two runs differ"
                                                             : "the models' products differ from theirs alone");
      free(together);
      free(again);
      free(alone);
      free(a);
      free(b);
      free(c);
    }
    cls_context_destroy(ctx);
  }
}

/* C of `models` models' products (per each) with their biases, through
 * cls_matmul_models_bias (fused) or cls_matmul_models then cls_bias_add
 * per product (apart), on the context's backend. C starts as NaN where
 * beta is 0 (never read) and random elsewhere. */
static float *bias_product(cls_context *ctx, size_t m, size_t n, size_t k, int ta, const float *a, const float *b,
                           const float *c, const float *bias, size_t per, size_t models, float beta, int fused) {
  size_t K = per * models, sa = m * k + 3, sb = k * n + 1, sc = m * n + 5, bs = n + 2;
  cls_buffer *A = test_upload(ctx, a, K * sa), *B = test_upload(ctx, b, K * sb), *C = test_upload(ctx, c, K * sc);
  cls_buffer *Bias = test_upload(ctx, bias, models * bs);
  cls_trans t = ta ? CLS_TRANS : CLS_NO_TRANS;
  size_t lda = ta ? m : k;
  if (fused)
    TEST_OK(ctx, cls_matmul_models_bias(ctx, t, CLS_NO_TRANS, m, n, k, 1.0f, cls_ref_at(A, 0), lda, sa,
                                        cls_ref_at(B, 0), n, sb, beta, cls_ref_at(C, 0), n, sc, K, models,
                                        cls_ref_at(Bias, 0), bs));
  else {
    TEST_OK(ctx, cls_matmul_models(ctx, t, CLS_NO_TRANS, m, n, k, 1.0f, cls_ref_at(A, 0), lda, sa,
                                   cls_ref_at(B, 0), n, sb, beta, cls_ref_at(C, 0), n, sc, K, models));
    for (size_t j = 0; j < K; j++)
      TEST_OK(ctx, cls_bias_add(ctx, m, n, cls_ref_at(Bias, j / per * bs), cls_ref_at(C, j * sc)));
  }
  float *got = test_download(ctx, C);
  cls_buffer_free(A);
  cls_buffer_free(B);
  cls_buffer_free(C);
  cls_buffer_free(Bias);
  return got;
}

/* The bias added as the product is stored (cls_matmul_models_bias) is
 * bitwise the product followed by cls_bias_add: on every own kernel path
 * (in place and packed, the register tile's right edge, a split k, whose
 * sum adds it, chunks of k, whose last launch adds it, the GPU kernel,
 * which adds it after), beta 0 and 1, one model and several with one and
 * two products each; and on the host and CLBlast backends, which add it
 * after their product. */
static void own_bias(void **state) {
  (void)state;
  static const char *params[] = {
      NULL,
      "MM_KC=7,MM_KCF=0",
      "MM_KSPLIT=0,MM_KC=7,MM_KCF=0",
      "MM_NARROW=1,MM_ADIRECT=2,MM_BDIRECT=2",
      "MM_NARROW=0,MM_VW=4,MM_MR=3,MM_NV=3,MM_LM=2,MM_KP=4,MM_ADIRECT=0,MM_BDIRECT=0",
      "MM_LOCAL=1,MM_TM=32,MM_TN=16,MM_TK=8,MM_WM=4,MM_WN=2,MM_KP=8",
  };
  /* m, n, k, A transposed */
  static const size_t shapes_bias[][4] = {
      {1, 1, 1, 0}, {13, 17, 29, 0}, {7, 33, 100, 1}, {37, 16, 64, 0}, {5, 3, 61, 1}};
  const cls_backend backends[] = {CLS_BACKEND_OWN, CLS_BACKEND_HOST, CLS_BACKEND_CLBLAST};
  for (size_t p = 0; p < sizeof params / sizeof params[0]; p++)
    for (size_t be = 0; be < (p == 0 ? 3u : 1u); be++) {
      cls_context *ctx = test_context(params[p], NULL);
      if (backends[be] == CLS_BACKEND_HOST && cls_context_device(ctx)->type != CLS_DEVICE_CPU) {
        cls_context_destroy(ctx);
        continue;
      }
      /* Small-shape mode: the own kernels only. A GPU set (MM_LOCAL=1)
       * ignores the register tile's parameters, and adds the bias after
       * its kernel whatever its tiles: its own set (p = 0) only. */
      if ((be > 0 && test_small()) ||
          (p > 0 && cls__param(ctx, "MM_LOCAL", 0) != 0 && (test_small() || !strstr(params[p], "MM_LOCAL")))) {
        cls_context_destroy(ctx);
        continue;
      }
      TEST_OK(ctx, cls_matmul_set_backend(ctx, backends[be]));
      /* A GPU set's fused form is its product, then cls_bias_add: the
       * same launches as the form apart, whose bias kernel
       * test_elementwise checks. Small-shape mode (Oclgrind) checks that
       * path on two shapes only (all five cost 21 s a set). */
      const size_t n_shapes =
          test_small() && cls__param(ctx, "MM_LOCAL", 0) != 0 ? 2 : sizeof shapes_bias / sizeof shapes_bias[0];
      for (size_t q = 0; q < n_shapes; q++)
        for (int v = 0; v < 4; v++) {
          size_t m = shapes_bias[q][0], n = shapes_bias[q][1], k = shapes_bias[q][2];
          if (m * n * k > test_limit(SIZE_MAX, 7000)) continue;
          size_t per = v == 3 ? 2 : 1, models = v >= 2 ? 3 : 1, K = per * models;
          float beta = v % 2 ? 1.0f : 0.0f;
          float *a = test_random_floats(K * (m * k + 3), 11 + q, -1, 1);
          float *b = test_random_floats(K * (k * n + 1), 12 + q, -1, 1);
          float *c = test_random_floats(K * (m * n + 5), 13 + q, -1, 1);
          float *bias = test_random_floats(models * (n + 2), 14 + q, -2, 2);
          if (beta == 0.0f)
            for (size_t i = 0; i < K * (m * n + 5); i++) c[i] = NAN;
          float *fused = bias_product(ctx, m, n, k, (int)shapes_bias[q][3], a, b, c, bias, per, models, beta, 1);
          float *apart = bias_product(ctx, m, n, k, (int)shapes_bias[q][3], a, b, c, bias, per, models, beta, 0);
          for (size_t j = 0; j < K; j++)
            if (memcmp(fused + j * (m * n + 5), apart + j * (m * n + 5), m * n * sizeof(float)))
              fail_msg("%s, backend %d: %zu x %zu x %zu, %zu models of %zu, beta %g: product %zu differs from the "
                       "product and cls_bias_add",
                       params[p] ? params[p] : "the set's own", (int)backends[be], m, n, k, models, per,
                       (double)beta, j);
          free(fused);
          free(apart);
          free(a);
          free(b);
          free(c);
          free(bias);
        }
      cls_context_destroy(ctx);
    }
}

/* Bad biases: C's rows not contiguous, models' biases overlapping, a
 * bias past its buffer or overlapping C; each refused with a message
 * naming what is wrong, nothing written. */
static void own_bias_bad(void **state) {
  (void)state;
  cls_context *ctx = test_context(NULL, NULL);
  cls_buffer *A, *B, *C, *Bias;
  TEST_OK(ctx, cls_buffer_alloc(ctx, 64, &A));
  TEST_OK(ctx, cls_buffer_alloc(ctx, 64, &B));
  TEST_OK(ctx, cls_buffer_alloc(ctx, 64, &C));
  TEST_OK(ctx, cls_buffer_alloc(ctx, 8, &Bias));
  cls_ref a = cls_ref_at(A, 0), b = cls_ref_at(B, 0), c = cls_ref_at(C, 0);
  /* 2 x 4 x 2 products */
  assert_int_equal(cls_matmul_models_bias(ctx, CLS_NO_TRANS, CLS_NO_TRANS, 2, 4, 2, 1.0f, a, 2, 4, b, 4, 8, 0.0f,
                                          c, 5, 10, 2, 2, cls_ref_at(Bias, 0), 4),
                   CLS_ERR_INVALID_VALUE);
  assert_non_null(strstr(cls_last_error(ctx), "ldc"));
  assert_int_equal(cls_matmul_models_bias(ctx, CLS_NO_TRANS, CLS_NO_TRANS, 2, 4, 2, 1.0f, a, 2, 4, b, 4, 8, 0.0f,
                                          c, 4, 8, 2, 2, cls_ref_at(Bias, 0), 3),
                   CLS_ERR_INVALID_VALUE);
  assert_non_null(strstr(cls_last_error(ctx), "bias_stride"));
  assert_int_not_equal(cls_matmul_models_bias(ctx, CLS_NO_TRANS, CLS_NO_TRANS, 2, 4, 2, 1.0f, a, 2, 4, b, 4, 8,
                                              0.0f, c, 4, 8, 2, 2, cls_ref_at(Bias, 2), 4),
                       CLS_OK);
  assert_non_null(strstr(cls_last_error(ctx), "bias"));
  assert_int_not_equal(cls_matmul_models_bias(ctx, CLS_NO_TRANS, CLS_NO_TRANS, 2, 4, 2, 1.0f, a, 2, 4, b, 4, 8,
                                              0.0f, c, 4, 8, 2, 2, cls_ref_at(C, 12), 4),
                       CLS_OK);
  assert_non_null(strstr(cls_last_error(ctx), "bias"));
  assert_int_equal(cls_matmul_models_bias(ctx, CLS_NO_TRANS, CLS_NO_TRANS, 2, 4, 2, 1.0f, a, 2, 4, b, 4, 8, 0.0f,
                                          c, 4, 8, 3, 2, cls_ref_at(Bias, 0), 4),
                   CLS_ERR_INVALID_SIZE);
  cls_buffer_free(A);
  cls_buffer_free(B);
  cls_buffer_free(C);
  cls_buffer_free(Bias);
  cls_context_destroy(ctx);
}

/* MM_KSPLIT takes 0 or 1; anything else is refused when the context is
 * made, naming the parameter. */
static void own_split_params(void **state) {
  (void)state;
  static const char *bad[] = {"MM_KSPLIT=2", "MM_KSPLIT=-1", "MM_KSPLIT=yes"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    cls_context_options o;
    cls_context_options_init(&o);
    o.params = bad[i];
    cls_context *ctx = NULL;
    char err[1024] = "";
    cls_status s = cls_context_create(&o, &ctx, err, sizeof err);
    if (s == CLS_OK) {
      cls_context_destroy(ctx);
      fail_msg("%s was accepted", bad[i]);
    }
    if (!strstr(err, "MM_KSPLIT")) fail_msg("%s refused with \"%s\", which does not name it", bad[i], err);
  }
}

/* The GPU kernel (local-memory tiles) with the NVIDIA/AMD parameters and
 * with unequal tile sides, run on whatever device this is. */
/* The local-memory tile of the parameter set in use: whether it is
 * 64 x 64 x 16 with 4 x 4 values a work-item (the NVIDIA and AMD sets'). */
static int set_is_local_64(void) {
  cls_context *ctx = test_context(NULL, NULL);
  int is = cls__param(ctx, "MM_LOCAL", 0) == 1 && cls__param(ctx, "MM_TM", 0) == 64 &&
           cls__param(ctx, "MM_TN", 0) == 64 && cls__param(ctx, "MM_TK", 0) == 16 &&
           cls__param(ctx, "MM_WM", 0) == 4 && cls__param(ctx, "MM_WN", 0) == 4 &&
           cls__param(ctx, "MM_KP", 0) == 16;
  cls_context_destroy(ctx);
  return is;
}

static void own_local(void **state) {
  (void)state;
  /* Where the set's own tile is this one, `own` ran it on more shapes
   * (under Oclgrind this repeat cost 10 s of the nvidia-gpu set's run). */
  if (!set_is_local_64())
    test_backend(CLS_BACKEND_OWN, "MM_LOCAL=1,MM_TM=64,MM_TN=64,MM_TK=16,MM_WM=4,MM_WN=4,MM_KP=16", 10);
  /* Unequal tile sides catch a swapped row/column index. */
  test_backend(CLS_BACKEND_OWN, "MM_LOCAL=1,MM_TM=32,MM_TN=16,MM_TK=8,MM_WM=4,MM_WN=2,MM_KP=8", 10);
}

/* Products that want only the lower triangle of C, on every kernel and
 * tile: tall, square and wide C, each transpose, beta 0 and not, batches. */
static void own_lower(void **state) {
  (void)state;
  static const char *params[] = {
      NULL,
      "MM_NARROW=0,MM_VW=4,MM_MR=3,MM_NV=3,MM_LM=2,MM_KP=4,MM_ADIRECT=0,MM_BDIRECT=0",
      "MM_NARROW=1,MM_ADIRECT=2,MM_BDIRECT=2,MM_KC=50,MM_KCF=0",
      "MM_LOCAL=1,MM_TM=32,MM_TN=16,MM_TK=8,MM_WM=4,MM_WN=2,MM_KP=8",
  };
  static const size_t shapes_lower[][4] = {{1, 1, 1, 1},    {97, 97, 33, 1}, {130, 64, 65, 1},
                                           {64, 130, 7, 1}, {33, 33, 2, 3},  {200, 129, 70, 1}};
  for (size_t p = 0; p < sizeof params / sizeof params[0]; p++) {
    cls_context *ctx = test_context(params[p], NULL);
    int i = 0;
    for (size_t q = 0; q < sizeof shapes_lower / sizeof shapes_lower[0]; q++)
      for (int tr = 0; tr < 4; tr++, i++) {
        mm_case t = {(cls_trans)(tr & 1),
                     (cls_trans)(tr >> 1),
                     shapes_lower[q][0],
                     shapes_lower[q][1],
                     shapes_lower[q][2],
                     shapes_lower[q][3],
                     i % 2 ? -1.0f : 1.0f,
                     i % 2 ? 1.0f : 0.0f,
                     (size_t)(i % 3),
                     (size_t)(i % 2),
                     (size_t)(i % 4),
                     (size_t)(i % 2) * 3,
                     0,
                     (size_t)(i % 3) * 2,
                     0,
                     0,
                     1};
        run_case(ctx, CLS_BACKEND_OWN, &t);
      }
    cls_context_destroy(ctx);
  }
}

/* Not in small-shape mode (the oclgrind label): CLBlast's kernels are not
 * ours to fix, and the auto backend below times every candidate. */
static void clblast(void **state) {
  (void)state;
  if (test_small()) skip();
  test_backend(CLS_BACKEND_CLBLAST, NULL, SHAPE_COUNT);
}

static void host(void **state) {
  (void)state;
  test_backend(CLS_BACKEND_HOST, NULL, SHAPE_COUNT);
}

/* auto, on a context whose choices are not persisted (cache disabled), so
 * that every class is measured here and the result still has to be right. */
static void auto_backend(void **state) {
  (void)state;
  if (test_small()) skip();
  cls_context_options o;
  cls_context_options_init(&o);
  o.disable_cache = 1;
  cls_context *ctx = NULL;
  char err[1024];
  if (cls_context_create(&o, &ctx, err, sizeof err) != CLS_OK) fail_msg("%s", err);
  run_grid(ctx, CLS_BACKEND_AUTO, 6);
  run_batched(ctx, CLS_BACKEND_AUTO);
  cls_context_destroy(ctx);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(own),
      cmocka_unit_test(own_other_tiles),
      cmocka_unit_test(own_narrow),
      cmocka_unit_test(own_local),
      cmocka_unit_test(clblast),
      cmocka_unit_test(host),
      cmocka_unit_test(auto_backend),
      cmocka_unit_test(own_lower),
      cmocka_unit_test(own_small),
      cmocka_unit_test(own_small_launches),
      cmocka_unit_test(own_split),
      cmocka_unit_test(own_split_bitwise),
      cmocka_unit_test(own_split_params),
      cmocka_unit_test(own_bias),
      cmocka_unit_test(own_bias_bad),
  };
  /* MATMUL_TEST=own runs one test (for kernel development). */
  if (getenv("MATMUL_TEST")) cmocka_set_test_filter(getenv("MATMUL_TEST"));
  return cmocka_run_group_tests(tests, NULL, NULL);
}
