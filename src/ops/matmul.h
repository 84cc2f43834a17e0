/*
 * src/ops/matmul.h — the matmul backends behind include/clscale/ops.h,
 * inside the library.
 *
 * cls_matmul_batched_on (matmul.c) validates every argument, then hands a
 * cls__mm_args to one backend function. The backends assume valid
 * arguments; each adds its work to the counters under "matmul.<backend>":
 *   flops = 2*m*n*k*batch (the multiply-adds; scaling by alpha and beta is
 *           not counted),
 *   bytes = 4 * (floats of A read + floats of B read + floats of C read when
 *           beta != 0 + floats of C written); an operand with stride 0 is
 *           counted once for the whole batch.
 * Helpers count apart, with bytes only: "matmul.own_pack" (the own
 * backend's packing), "matmul.clblast_zero" (zeroing C before CLBlast when
 * beta = 0), "matmul.geometry" (once per context), "matmul.own_ksum" (the
 * sum of a split k's partial C's); "bias_add.fused" the bias the own
 * kernels add as they store C (flops and bytes, no launch or time of its
 * own). "matmul.own" counts one call per kernel
 * launch: on CPUs a long k runs as slices into partial C's (MM_KSPLIT=1)
 * or as several launches (each then also reads C). "matmul.clblast" holds
 * the device time of the last kernel CLBlast launched (the event it
 * returns), which for large shapes leaves out its padding and transposing
 * kernels; its FLOPs are complete.
 * Timing runs of the auto backend really run, and are counted.
 */
#ifndef CLSCALE_OPS_MATMUL_H
#define CLSCALE_OPS_MATMUL_H

#include "clscale/ops.h"
#include "device/layer.h"

typedef struct cls__mm_args {
  cls_trans ta, tb;
  size_t m, n, k, batch;
  float alpha, beta;
  cls_ref a, b, c;
  size_t lda, ldb, ldc;
  size_t stride_a, stride_b, stride_c;
  /* Only the entries of C with column <= row (its lower triangle, C's
   * (0, 0) on the diagonal) are wanted: the own backend skips its tiles
   * that lie wholly above the diagonal (those entries keep their values;
   * the rest of a tile the diagonal crosses is computed). Other backends
   * compute all of C, which is also a valid result. For the SPD solve's
   * symmetric updates, which would otherwise do twice the work. */
  int lower;
  /* 0, or the batch of the products these are copies of (cls_matmul_
   * models): the auto backend then decides by the class of that batch, so
   * that each of several models' products runs on the backend it would
   * run on alone. */
  size_t class_batch;
  /* With has_bias, bias (n floats a row, ldc == n) is added to every row
   * of C after the product (cls_matmul_models_bias): entry b's at bias +
   * (b / bias_per) * bias_stride. The own backend adds it as it stores C
   * (cls__mm_own); the others, and the own GPU kernel, run
   * cls_bias_add_models after (cls__mm_bias_after). */
  int has_bias;
  cls_ref bias;
  size_t bias_stride, bias_per;
} cls__mm_args;

/* Adds g's bias to C with the bias kernels, after a backend that does not
 * (see has_bias). */
cls_status cls__mm_bias_after(cls_context *ctx, const cls__mm_args *g);

/* Validates g as cls_matmul_batched_on does (its batch strides zeroed
 * when batch is 1), then runs it on one backend. */
cls_status cls__mm_run(cls_context *ctx, cls_backend backend, cls__mm_args *g);

/* Counter figures of one call (see the file comment; a lower product counts
 * the entries it needs: m n - n (n - 1) / 2 when m >= n). */
double cls__mm_flops(const cls__mm_args *g);
double cls__mm_bytes(const cls__mm_args *g);

/* The backends. host returns CLS_ERR_BACKEND_UNAVAILABLE off CPU devices. */
cls_status cls__mm_own(cls_context *ctx, const cls__mm_args *g);
cls_status cls__mm_clblast(cls_context *ctx, const cls__mm_args *g);
cls_status cls__mm_host(cls_context *ctx, const cls__mm_args *g);
cls_status cls__mm_auto(cls_context *ctx, const cls__mm_args *g);

/* Whether the host backend can run on this context's device. */
int cls__mm_host_available(const cls_context *ctx);
/* The host BLAS build, e.g. "OpenBLAS 0.3.21 DYNAMIC_ARCH ... SkylakeX". */
const char *cls__mm_host_blas(void);

/* Runs one backend on validated arguments (auto included). */
cls_status cls__mm_dispatch(cls_context *ctx, cls_backend backend, const cls__mm_args *g);

/* The shape class auto decides per: transposes, whether batched, and the
 * log2 bucket (ceil(log2(x))) of m, n and k. */
unsigned cls__mm_class_key(const cls__mm_args *g);

/* How many shape classes auto has timed on this context (for tests). The
 * timing runs themselves are not counted in the context's counters. */
size_t cls__mm_auto_timed(cls_context *ctx);
/* How many persisted choices this context set aside to time again (for
 * tests); and, for tests of the re-timing rule, the load per CPU the
 * context is to see instead of the machine's and the spread it is to
 * record instead of the measured one (negative: the real ones). */
size_t cls__mm_auto_dropped(cls_context *ctx);
/* How many backends auto times on this context (1: it times none). */
int cls__mm_auto_candidate_count(cls_context *ctx);
void cls__mm_auto_test_timing(cls_context *ctx, double load_per_cpu, double spread);
/* Auto's rule on timings (seconds[i] of cand[i], negative: failed): the
 * fastest non-host candidate, unless host is faster by more than
 * host_margin (1: plainly the fastest); the index, -1 when none ran. */
/* The margin host needs: 1 where it does not share the device's cores,
 * HUGE_VAL (never) where it does and the load per CPU is busy, else the
 * margin of matmul_auto.c. */
double cls__mm_auto_host_margin(int shared, double load_per_cpu_now);
int cls__mm_auto_pick(const cls_backend *cand, const double *seconds, int count, double host_margin);

#endif
