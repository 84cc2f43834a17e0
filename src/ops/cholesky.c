/*
 * src/ops/cholesky.c — cls_spd_solve (include/clscale/ops_linalg.h): blocked
 * Cholesky factorisation and solve of a symmetric positive-definite system
 * on the device, with iterative refinement and an honest error estimate.
 *
 * Layout of the workspace (one buffer, floats):
 *   F   (n + nrhs) x n (ld n) the factor L (lower triangle; above it junk),
 *                             then nrhs border rows: B^T, factored with A
 *                             into (L^-1 B)^T
 *   W   nblk x CHOL_NB^2      the inverted diagonal blocks L_kk^-1 (ld CHOL_NB)
 *   Wt  nblk x CHOL_NB^2      their transposes
 *   P   (n + nrhs) x CHOL_NB  a panel's copy (and the substitutions' tile)
 *   R   n x nrhs (ld nrhs)    residual, then the correction solved in place
 *   S   n x nrhs              |A||x| + |b| of the residual
 *   piv n                     the pivots L_jj (or the failing value)
 *   st  1                     0, or the 1-based column where the factor failed
 *                             (after piv, so that one read fetches both)
 *
 * Factorisation, in outer panels of CHOL_OB columns (a multiple of
 * CHOL_NB), for each block column k of kb <= CHOL_NB rows in the panel:
 *   chol_diag:  L_kk = chol(A_kk), W_k = L_kk^-1, Wt_k = W_k^T (one work-group)
 *   P = A21;    L21 = P Wt_k                                (matmul NN, in place)
 *   A[k+kb:, k+kb:panel end] -= L21 L21[:w]^T               (matmul NT, lower)
 * then, right of the panel, A22 -= L21 L21^T with the panel's width as
 * depth (matmul NT, lower). The rows of L21 run on through the border:
 * factoring [A; B^T] gives [L; (L^-1 B)^T], so the forward substitution
 * of B rides along the factorisation's products (nrhs more rows in each)
 * instead of being one more walk over L. "lower" products skip the tiles wholly above
 * C's diagonal (src/ops/matmul.h), so a symmetric update does half the
 * work in one launch; the depth of the outer panel divides the memory the
 * update moves (at depth CHOL_NB it is bound by reading and writing A22).
 * Substitutions (Y in place, block k of kb rows; the refinement's
 * corrections take both, the solution only the backward one):
 *   forward:  Y_k -= L[k, :k] Y[:k];  Y_k = W_k Y_k          (via P)
 *   backward: Y_k -= L[k+kb:, k]^T Y[k+kb:];  Y_k = W_k^T Y_k
 * as products, or for at most CHOL_TRSV right-hand sides in one chol_subst
 * launch per direction (the same steps in one work-group, P as scratch).
 * The workspace is kept by the context between calls (ops_state.h), and A
 * is copied into F as its lower triangle only (chunks of 16 columns).
 *
 * Speed, 2026-12-07 00:51-00:53 UTC, PoCL on the 2-core CPU (AVX-512),
 * four runs of `clscale bench --only solve` in a quiet window (load
 * 1.4-1.5): n = 2048 at 0.54-0.57x the own matmul's GFLOP/s (115-123 vs
 * 210-225) and 0.81-0.86x host LAPACK; the issue asks for 0.5x. The
 * evening before, 0.45-0.51x (median 0.495 of eight runs), with six
 * substitution walks and two refinement steps a solve; since then B rides
 * along the factorisation as border rows (no forward walk for the
 * solution) and one correction suffices once its residual shows a backward
 * error at float precision: three walks, two residuals. Per solve before
 * those two changes (device time by op from --trace, about 24 ms in all):
 * the products 13 ms (the trailing updates at ~265 GFLOP/s, faster than
 * the square matmul; the block panels L21 and the in-panel updates, k =
 * 64, at 130-160), the six substitution walks 3.0 ms (one work-group: one
 * core), two compensated residuals 2.3 ms (compute bound on the error-free
 * sums: a plain sum takes 0.76 ms per pass; accumulating in double would
 * take 0.35 ms less but puts double in a kernel the portability gate
 * checks for GPU drivers), diagonal blocks 1.3, packing 1.2, copies 1.8,
 * and about 2 ms between ~170 launches. Tried and measured no faster
 * (interleaved runs): the Schur complement in an area of its own instead
 * of copying each panel (the products then read at a leading dimension of
 * n); CHOL_NB 128,
 * CHOL_OB 384 or 512; a look-ahead that factors the next panel on a second
 * queue while the main queue updates the rest: PoCL runs the two queues'
 * kernels at once, but the large update takes both cores and the panel's
 * single-work-group kernels wait behind it (one 35 us diagonal block took
 * 2.7 ms), so the chain is no shorter.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "clscale/ops.h"
#include "core/clock.h"
#include "device/layer.h"
#include "ops/matmul.h"
#include "ops/ops_state.h"

void cls_spd_options_init(cls_spd_options *o) {
  if (!o) return;
  o->max_refine = 10;
  o->tolerance = 1e-4;
}

/* The geometry and workspace of one solve. */
typedef struct solve_ws {
  cls_context *ctx;
  size_t n, nrhs, nb, ob;
  cls_buffer *buf;
  size_t f, w, wt, p, r, s, piv, st; /* offsets into buf */
} solve_ws;

static cls_ref at(const solve_ws *ws, size_t off) {
  return cls_ref_at(ws->buf, off);
}

/* One product on the own backend (see the header for why not auto). */
/* Kernel `name` of cl/cholesky.cl and its work-group size: the largest power
 * of two no larger than the device parameter `param` (64 when unset) nor than
 * what the device runs the kernel with. */
static cls_status chol_kernel(cls_context *ctx, const char *name, const char *param, cl_kernel *k, size_t *lsz) {
  size_t maxg = 1;
  cls_status s = cls__kernel(ctx, "cholesky", name, k);
  if (s || (s = cls__kernel_max_group(ctx, *k, &maxg))) return s;
  long want = cls__param(ctx, param, 64);
  *lsz = 1;
  while (*lsz * 2 <= (size_t)(want < 1 ? 1 : want) && *lsz * 2 <= maxg) *lsz *= 2;
  return CLS_OK;
}

static cls_status mm_on(const solve_ws *ws, int lower, cls_trans ta, cls_trans tb, size_t m, size_t n, size_t k,
                        float alpha, cls_ref a, size_t lda, cls_ref b, size_t ldb, float beta, cls_ref c,
                        size_t ldc) {
  cls__mm_args g = {ta,  tb,  m, n, k, 1,     alpha, beta, a,         b, c, lda,
                    ldb, ldc, 0, 0, 0, lower, 0,     0,    {NULL, 0}, 0, 0};
  return cls__mm_run(ws->ctx, CLS_BACKEND_OWN, &g);
}

/* A product, all of C. */
static cls_status mm(const solve_ws *ws, cls_trans ta, cls_trans tb, size_t m, size_t n, size_t k, float alpha,
                     cls_ref a, size_t lda, cls_ref b, size_t ldb, float beta, cls_ref c, size_t ldc) {
  return mm_on(ws, 0, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

/* C -= L L^T for the entries on and below C's diagonal (m >= n rows of L,
 * k columns; C's top n x n block is symmetric, and what lies above its
 * diagonal is junk that nothing reads). One product that skips the tiles
 * above the diagonal: no strips, no wasted half. */
static cls_status syrk_lower(const solve_ws *ws, size_t m, size_t n, size_t k, cls_ref l, size_t ld, cls_ref c) {
  return mm_on(ws, 1, CLS_NO_TRANS, CLS_TRANS, m, n, k, -1.0f, l, ld, l, ld, 1.0f, c, ld);
}

/* dst = src for a rows x cols block (chol_copy; lower: the chunks of 16
 * columns that reach the lower triangle only), or x += d (spd_update). */
static cls_status copy_lower(cls_context *ctx, const char *kernel, cls_ref src, size_t sld, cls_ref dst,
                             size_t dld, size_t rows, size_t cols, unsigned lower) {
  int upd = strcmp(kernel, "spd_update") == 0;
  cl_kernel k;
  cls_status s = cls__kernel(ctx, "cholesky", kernel, &k);
  cl_uint i = 0;
  /* spd_update takes (x, d): the destination first. */
  cls_ref first = upd ? dst : src, second = upd ? src : dst;
  size_t ld1 = upd ? dld : sld, ld2 = upd ? sld : dld;
  if (s || (s = cls__arg_mem(ctx, k, i++, first.buf)) || (s = cls__arg_uint(ctx, k, i++, first.offset)) ||
      (s = cls__arg_uint(ctx, k, i++, ld1)) || (s = cls__arg_mem(ctx, k, i++, second.buf)) ||
      (s = cls__arg_uint(ctx, k, i++, second.offset)) || (s = cls__arg_uint(ctx, k, i++, ld2)) ||
      (s = cls__arg_uint(ctx, k, i++, rows)) || (s = cls__arg_uint(ctx, k, i++, cols)))
    return s;
  if (!upd && (s = cls__arg_uint(ctx, k, i++, lower))) return s;
  size_t global[2] = {upd ? cols : (cols + 15) / 16, rows};
  double e = (double)rows * (double)cols;
  if (lower) e = 0.5 * (double)rows * (double)(rows + 1);
  return cls__launch(ctx, kernel, k, 2, global, NULL, upd ? e : 0.0, (upd ? 3.0 : 2.0) * e * sizeof(float));
}

/* dst = src for a rows x cols block (chol_copy), or x += d (spd_update). */
static cls_status copy2d(cls_context *ctx, const char *kernel, cls_ref src, size_t sld, cls_ref dst, size_t dld,
                         size_t rows, size_t cols) {
  return copy_lower(ctx, kernel, src, sld, dst, dld, rows, cols, 0);
}

/* dst = src^T for a rows x cols src (chol_transpose). */
static cls_status transpose(cls_context *ctx, cls_ref src, size_t sld, cls_ref dst, size_t dld, size_t rows,
                            size_t cols) {
  cl_kernel k;
  cls_status s = cls__kernel(ctx, "cholesky", "chol_transpose", &k);
  cl_uint i = 0;
  if (s || (s = cls__arg_mem(ctx, k, i++, src.buf)) || (s = cls__arg_uint(ctx, k, i++, src.offset)) ||
      (s = cls__arg_uint(ctx, k, i++, sld)) || (s = cls__arg_mem(ctx, k, i++, dst.buf)) ||
      (s = cls__arg_uint(ctx, k, i++, dst.offset)) || (s = cls__arg_uint(ctx, k, i++, dld)) ||
      (s = cls__arg_uint(ctx, k, i++, rows)) || (s = cls__arg_uint(ctx, k, i++, cols)))
    return s;
  size_t global[2] = {cols, rows};
  return cls__launch(ctx, "chol_copy", k, 2, global, NULL, 0.0, 2.0 * (double)rows * (double)cols * sizeof(float));
}

/* ------------------------------------------------------------- factor */

static cls_status diag_block(const solve_ws *ws, size_t k, size_t kb, size_t lsz) {
  cls_context *ctx = ws->ctx;
  cl_kernel kd;
  cls_status s = cls__kernel(ctx, "cholesky", "chol_diag", &kd);
  cl_uint i = 0;
  if (s || (s = cls__arg_mem(ctx, kd, i++, ws->buf)) || (s = cls__arg_uint(ctx, kd, i++, ws->f + k * ws->n + k)) ||
      (s = cls__arg_uint(ctx, kd, i++, ws->n)) || (s = cls__arg_uint(ctx, kd, i++, kb)) ||
      (s = cls__arg_mem(ctx, kd, i++, ws->buf)) ||
      (s = cls__arg_uint(ctx, kd, i++, ws->w + (k / ws->nb) * ws->nb * ws->nb)) ||
      (s = cls__arg_uint(ctx, kd, i++, ws->wt + (k / ws->nb) * ws->nb * ws->nb)) ||
      (s = cls__arg_mem(ctx, kd, i++, ws->buf)) || (s = cls__arg_uint(ctx, kd, i++, ws->piv + k)) ||
      (s = cls__arg_mem(ctx, kd, i++, ws->buf)) || (s = cls__arg_uint(ctx, kd, i++, ws->st)) ||
      (s = cls__arg_uint(ctx, kd, i++, k)))
    return s;
  double b = (double)kb;
  /* b^3/3 for the factor and b^3/3 for the inverse (multiply-adds count 2). */
  return cls__launch(ctx, "chol_diag", kd, 1, &lsz, &lsz, 2.0 * b * b * b / 3.0,
                     (1.5 * b * b + b) * sizeof(float));
}

static cls_status factor(const solve_ws *ws) {
  size_t n = ws->n, nb = ws->nb, ld = n;
  cls_context *ctx = ws->ctx;
  cl_kernel kd;
  size_t lsz;
  cls_status s = chol_kernel(ctx, "chol_diag", "CHOL_WG", &kd, &lsz);
  if (s) return s;

  for (size_t j0 = 0; j0 < n && s == CLS_OK; j0 += ws->ob) {
    size_t jend = n - j0 < ws->ob ? n : j0 + ws->ob;
    /* The outer panel, columns j0..jend, block column by block column. */
    for (size_t k = j0; k < jend && s == CLS_OK; k += nb) {
      /* m rows below the diagonal block: the rest of A and the border. */
      size_t kb = jend - k < nb ? jend - k : nb, m = n - k - kb + ws->nrhs, w = jend - k - kb;
      if ((s = diag_block(ws, k, kb, lsz))) break;
      cls_ref l21 = at(ws, ws->f + (k + kb) * ld + k);
      cls_ref wtk = at(ws, ws->wt + (k / nb) * nb * nb);
      if ((s = copy2d(ctx, "chol_copy", l21, ld, at(ws, ws->p), nb, m, kb)) ||
          (s = mm(ws, CLS_NO_TRANS, CLS_NO_TRANS, m, kb, kb, 1.0f, at(ws, ws->p), nb, wtk, nb, 0.0f, l21, ld)))
        break;
      /* The rest of the outer panel only: A[k+kb:, k+kb:jend] -= L21
       * L21[:w]^T (on and below the diagonal). */
      if (w > 0) s = syrk_lower(ws, m, w, kb, l21, ld, at(ws, ws->f + (k + kb) * ld + k + kb));
    }
    size_t m = n - jend;
    if (m == 0 || s != CLS_OK) break;
    /* A22 -= L21 L21^T with k = the outer panel's width, lower part (and
     * the border rows below it). */
    s = syrk_lower(ws, m + ws->nrhs, m, jend - j0, at(ws, ws->f + jend * ld + j0), ld,
                   at(ws, ws->f + jend * ld + jend));
  }
  return s;
}

/* Y = L^-1 Y (upper 0) or L^-T Y (upper 1) in one chol_subst launch. */
static cls_status subst_kernel(const solve_ws *ws, cls_ref y, size_t ldy, unsigned upper) {
  cls_context *ctx = ws->ctx;
  cl_kernel k;
  size_t lsz;
  cls_status s = chol_kernel(ctx, "chol_subst", "CHOL_WG", &k, &lsz);
  if (s) return s;
  cl_uint i = 0;
  if ((s = cls__arg_mem(ctx, k, i++, ws->buf)) || (s = cls__arg_uint(ctx, k, i++, ws->f)) ||
      (s = cls__arg_uint(ctx, k, i++, ws->n)) || (s = cls__arg_mem(ctx, k, i++, ws->buf)) ||
      (s = cls__arg_uint(ctx, k, i++, ws->w)) || (s = cls__arg_uint(ctx, k, i++, ws->nb)) ||
      (s = cls__arg_mem(ctx, k, i++, y.buf)) || (s = cls__arg_uint(ctx, k, i++, y.offset)) ||
      (s = cls__arg_uint(ctx, k, i++, ldy)) || (s = cls__arg_mem(ctx, k, i++, ws->buf)) ||
      (s = cls__arg_uint(ctx, k, i++, ws->p)) || (s = cls__arg_uint(ctx, k, i++, ws->n)) ||
      (s = cls__arg_uint(ctx, k, i++, ws->nrhs)) || (s = cls__arg_uint(ctx, k, i++, upper)))
    return s;
  double e = (double)ws->n * (double)ws->n * (double)ws->nrhs;
  /* n^2/2 multiply-adds against the factor plus n nb against W. */
  return cls__launch(ctx, "chol_subst", k, 1, &lsz, &lsz, e + 2.0 * (double)ws->n * ws->nb * ws->nrhs,
                     (0.5 * (double)ws->n * (double)ws->n + 2.0 * e / (double)ws->n) * sizeof(float));
}

/* Y (n x nrhs, ld ldy, in buffer ref y) = A^-1 Y with the factor, or
 * L^-T Y when `forward` is 0 (Y already holds L^-1 of something). */
static cls_status substitute(const solve_ws *ws, cls_ref y, size_t ldy, int forward) {
  size_t n = ws->n, nb = ws->nb, nrhs = ws->nrhs;
  cls_status s = CLS_OK;
  /* Few right-hand sides: the one-work-group walk (CHOL_TRSV of them at
   * most; 0 keeps the products, which a GPU runs wide). */
  long trsv = cls__param(ws->ctx, "CHOL_TRSV", 0);
  if (trsv > 0 && nrhs <= (size_t)trsv) {
    if (forward && (s = subst_kernel(ws, y, ldy, 0))) return s;
    return subst_kernel(ws, y, ldy, 1);
  }
  cls_ref p = at(ws, ws->p);
  for (size_t k = 0; forward && k < n && s == CLS_OK; k += nb) {
    size_t kb = n - k < nb ? n - k : nb;
    cls_ref yk = cls_ref_at(y.buf, y.offset + k * ldy);
    if (k > 0)
      s = mm(ws, CLS_NO_TRANS, CLS_NO_TRANS, kb, nrhs, k, -1.0f, at(ws, ws->f + k * n), n, y, ldy, 1.0f, yk, ldy);
    if (s == CLS_OK) s = copy2d(ws->ctx, "chol_copy", yk, ldy, p, nrhs, kb, nrhs);
    if (s == CLS_OK)
      s = mm(ws, CLS_NO_TRANS, CLS_NO_TRANS, kb, nrhs, kb, 1.0f, at(ws, ws->w + (k / nb) * nb * nb), nb, p, nrhs,
             0.0f, yk, ldy);
  }
  size_t last = (n - 1) / nb * nb;
  for (size_t k = last + nb; k > 0 && s == CLS_OK;) {
    k -= nb;
    size_t kb = n - k < nb ? n - k : nb, m = n - k - kb;
    cls_ref yk = cls_ref_at(y.buf, y.offset + k * ldy);
    if (m > 0)
      s = mm(ws, CLS_TRANS, CLS_NO_TRANS, kb, nrhs, m, -1.0f, at(ws, ws->f + (k + kb) * n + k), n,
             cls_ref_at(y.buf, y.offset + (k + kb) * ldy), ldy, 1.0f, yk, ldy);
    if (s == CLS_OK) s = copy2d(ws->ctx, "chol_copy", yk, ldy, p, nrhs, kb, nrhs);
    if (s == CLS_OK)
      s = mm(ws, CLS_TRANS, CLS_NO_TRANS, kb, nrhs, kb, 1.0f, at(ws, ws->w + (k / nb) * nb * nb), nb, p, nrhs,
             0.0f, yk, ldy);
  }
  return s;
}

/* R = B - A X and S = |A||X| + |B| (spd_residual). */
static cls_status residual(const solve_ws *ws, cls_ref a, size_t lda, cls_ref b, size_t ldb, cls_ref x,
                           size_t ldx) {
  cls_context *ctx = ws->ctx;
  cl_kernel k;
  /* CHOL_RROW=1: one item per entry (CPUs); else one work-group each. */
  int rows = cls__param(ctx, "CHOL_RROW", 0) == 1;
  const char *name = rows ? "spd_residual_rows" : "spd_residual";
  size_t lsz;
  cls_status s = chol_kernel(ctx, name, "CHOL_RWG", &k, &lsz);
  if (s) return s;
  cl_uint i = 0;
  if ((s = cls__arg_mem(ctx, k, i++, a.buf)) || (s = cls__arg_uint(ctx, k, i++, a.offset)) ||
      (s = cls__arg_uint(ctx, k, i++, lda)) || (s = cls__arg_mem(ctx, k, i++, x.buf)) ||
      (s = cls__arg_uint(ctx, k, i++, x.offset)) || (s = cls__arg_uint(ctx, k, i++, ldx)) ||
      (s = cls__arg_mem(ctx, k, i++, b.buf)) || (s = cls__arg_uint(ctx, k, i++, b.offset)) ||
      (s = cls__arg_uint(ctx, k, i++, ldb)) || (s = cls__arg_mem(ctx, k, i++, ws->buf)) ||
      (s = cls__arg_uint(ctx, k, i++, ws->r)) || (s = cls__arg_mem(ctx, k, i++, ws->buf)) ||
      (s = cls__arg_uint(ctx, k, i++, ws->s)) || (s = cls__arg_uint(ctx, k, i++, ws->n)) ||
      (s = cls__arg_uint(ctx, k, i++, ws->nrhs)))
    return s;
  size_t global = rows ? (ws->n * ws->nrhs + lsz - 1) / lsz * lsz : ws->n * ws->nrhs * lsz;
  double e = (double)ws->n * (double)ws->n * (double)ws->nrhs;
  /* A compensated multiply-add is about 10 flops; the denominator 2 more. */
  /* Either kernel counts as the op spd_residual. */
  return cls__launch(ctx, "spd_residual", k, 1, &global, &lsz, 12.0 * e,
                     (e + 2.0 * (double)ws->n * (double)ws->nrhs * (1.0 + (double)ws->n)) * sizeof(float));
}

/* ------------------------------------------------------------- checks */

/* A matrix operand: the shared checks, plus an end below float 2^32 (the
 * kernels add offsets in 32 bits). Its span in *span. */
static cls_status check_operand(cls_context *ctx, const char *fn, const char *arg, cls_ref r, size_t rows,
                                size_t cols, size_t ld, size_t *span) {
  cls_status s = cls__check_matrix(ctx, fn, arg, r, rows, cols, ld, 0, 1);
  if (s != CLS_OK) return s;
  *span = (rows - 1) * ld + cols;
  if (r.offset > UINT32_MAX - *span)
    return cls__fail(ctx, CLS_ERR_INVALID_SIZE,
                     "%s: %s ends at float %zu of its buffer; the kernels index below 2^32, so place it lower", fn,
                     arg, r.offset + *span);
  return CLS_OK;
}

static cls_status check_args(cls_context *ctx, const char *fn, size_t n, size_t nrhs, cls_ref a, size_t lda,
                             cls_ref b, size_t ldb, cls_ref x, size_t ldx, const cls_spd_options *o) {
  if (!a.buf || !b.buf || !x.buf)
    return cls__fail(ctx, CLS_ERR_NULL_ARGUMENT, "%s: `%s` is NULL; pass a buffer", fn,
                     !a.buf   ? "a"
                     : !b.buf ? "b"
                              : "x");
  if (n == 0 || nrhs == 0)
    return cls__fail(ctx, CLS_ERR_INVALID_SIZE, "%s: `n` is %zu and `nrhs` is %zu; both must be at least 1", fn, n,
                     nrhs);
  /* The factor is one n x n operand of 32-bit indexed kernels. */
  if (n > 46340 || (double)n * (double)nrhs > 2147483647.0)
    return cls__fail(
        ctx, CLS_ERR_INVALID_SIZE,
        "%s: n = %zu (nrhs %zu) needs a %zu x %zu factor beyond 2^31-1 floats; solve a smaller system", fn, n,
        nrhs, n, n);
  size_t sa, sb, sx;
  cls_status s;
  if ((s = check_operand(ctx, fn, "a", a, n, n, lda, &sa)) ||
      (s = check_operand(ctx, fn, "b", b, n, nrhs, ldb, &sb)) ||
      (s = check_operand(ctx, fn, "x", x, n, nrhs, ldx, &sx)) ||
      (s = cls__check_alias(ctx, fn, "x", x, sx, "a", a, sa, 0)) ||
      (s = cls__check_alias(ctx, fn, "x", x, sx, "b", b, sb, 0)))
    return s;
  if (o && (o->max_refine < 0 || o->max_refine > 100))
    return cls__fail(ctx, CLS_ERR_INVALID_VALUE, "%s: `max_refine` is %d; it must be in 0..100", fn,
                     o->max_refine);
  if (o && !(o->tolerance > 0.0 && o->tolerance <= 1.0))
    return cls__fail(ctx, CLS_ERR_INVALID_VALUE, "%s: `tolerance` is %g; it must be in (0, 1]", fn, o->tolerance);
  return CLS_OK;
}

/* The workspace offsets; CLS_ERR_INVALID_SIZE when they pass 32 bits. */
static cls_status plan(cls_context *ctx, const char *fn, solve_ws *ws) {
  size_t n = ws->n, nb = ws->nb, nblk = (n + nb - 1) / nb;
  double rows = (double)n + (double)ws->nrhs;
  double total = rows * (double)n + 2.0 * (double)nblk * (double)nb * (double)nb + rows * (double)nb +
                 (2.0 * (double)ws->nrhs + 1.0) * (double)n + 1.0;
  if (total > (double)UINT32_MAX)
    return cls__fail(
        ctx, CLS_ERR_INVALID_SIZE,
        "%s: n = %zu needs a workspace of %.0f floats, beyond 32-bit indexing; solve a smaller system", fn, n,
        total);
  ws->f = 0;
  ws->w = ws->f + (n + ws->nrhs) * n;
  ws->wt = ws->w + nblk * nb * nb;
  ws->p = ws->wt + nblk * nb * nb;
  /* P holds a panel with its border ((n + nrhs) x nb) or a substitution
   * tile (nb x nrhs). */
  size_t pn = (n + ws->nrhs) * nb;
  ws->r = ws->p + pn;
  ws->s = ws->r + n * ws->nrhs;
  ws->piv = ws->s + n * ws->nrhs;
  ws->st = ws->piv + n; /* read with the pivots */
  return CLS_OK;
}

/* ---------------------------------------------------------- refinement */

/* Host copies of the small n x nrhs blocks read per refinement step. */
typedef struct host_blocks {
  float *r, *s, *x;
} host_blocks;

/* Componentwise backward error max |r| / s (0/0 counts as 0). NaN when
 * anything is not finite. */
static double backward_error(const float *r, const float *s, size_t count) {
  double worst = 0.0;
  for (size_t i = 0; i < count; i++) {
    double ri = fabs((double)r[i]), si = (double)s[i];
    if (!isfinite(ri) || !isfinite(si)) return NAN;
    if (ri == 0.0) continue;
    double e = si > 0.0 ? ri / si : INFINITY;
    if (e > worst) worst = e;
  }
  return worst;
}

/* max over columns of ||d||_inf / ||x||_inf (0/0 counts as 0; NaN when not
 * finite). */
static double relative_change(const float *d, const float *x, size_t n, size_t nrhs) {
  double worst = 0.0;
  for (size_t c = 0; c < nrhs; c++) {
    double dn = 0.0, xn = 0.0;
    for (size_t i = 0; i < n; i++) {
      double di = fabs((double)d[i * nrhs + c]), xi = fabs((double)x[i * nrhs + c]);
      if (!isfinite(di) || !isfinite(xi)) return NAN;
      if (di > dn) dn = di;
      if (xi > xn) xn = xi;
    }
    if (dn == 0.0) continue;
    double e = xn > 0.0 ? dn / xn : INFINITY;
    if (e > worst) worst = e;
  }
  return worst;
}

/* Reads X (n x nrhs at ldx) row by row into a packed host array. */
static cls_status read_x(cls_context *ctx, cls_ref x, size_t n, size_t nrhs, size_t ldx, float *out) {
  if (ldx == nrhs) return cls_buffer_read(ctx, x.buf, x.offset, n * nrhs, out);
  for (size_t i = 0; i < n; i++) {
    cls_status s = cls_buffer_read(ctx, x.buf, x.offset + i * ldx, nrhs, out + i * nrhs);
    if (s != CLS_OK) return s;
  }
  return CLS_OK;
}

/* Float32's unit roundoff: a correction below it changes nothing. */
#define EPS32 5.9604644775390625e-8

static cls_status refine(const solve_ws *ws, const char *fn, cls_ref a, size_t lda, cls_ref b, size_t ldb,
                         cls_ref x, size_t ldx, const cls_spd_options *o, cls_spd_report *rep, host_blocks *h) {
  cls_context *ctx = ws->ctx;
  size_t n = ws->n, nrhs = ws->nrhs, cnt = n * nrhs;
  cls_ref r = at(ws, ws->r);
  cls_status s;
  /* R and S are adjacent in the workspace and in h: one read. */
  if ((s = residual(ws, a, lda, b, ldb, x, ldx)) || (s = cls_buffer_read(ctx, ws->buf, ws->r, 2 * cnt, h->r)))
    return s;
  rep->backward_first = rep->backward = backward_error(h->r, h->s, cnt);
  if (isnan(rep->backward))
    return cls__fail(ctx, CLS_ERR_NUMERIC,
                     "%s: the solution or its residual is not finite; check `b` (and `a`) for NaN or Inf", fn);
  double prev = INFINITY;
  for (int step = 0;; step++) {
    /* The correction d solves A d = r with the same factor, in place in R. */
    if ((s = substitute(ws, r, nrhs, 1)) || (s = cls_buffer_read(ctx, ws->buf, ws->r, cnt, h->r)) ||
        (s = read_x(ctx, x, n, nrhs, ldx, h->x)))
      return s;
    double dx = relative_change(h->r, h->x, n, nrhs);
    if (step == 0) rep->error_first = dx;
    rep->error = dx;
    if (isnan(dx) || step >= o->max_refine || (step > 0 && dx > 0.5 * prev)) break;
    if ((s = copy2d(ctx, "spd_update", r, nrhs, x, ldx, n, nrhs))) return s;
    rep->refinements++;
    /* A correction below float32's resolution leaves nothing a further
     * step could find; its residual would only confirm the backward error
     * already measured (and costs a pass over A). */
    if (dx <= EPS32) break;
    if ((s = residual(ws, a, lda, b, ldb, x, ldx)) || (s = cls_buffer_read(ctx, ws->buf, ws->r, 2 * cnt, h->r)))
      return s;
    rep->backward = backward_error(h->r, h->s, cnt);
    prev = dx;
    /* A backward error at float32's resolution is as small as any float
     * solution's (the correctly rounded one's is up to 2^-24 too): a
     * further correction could not improve the solution measurably, so
     * its two substitution walks are skipped (LAPACK's xPORFS stops on
     * the same test). The error then reported is the last correction
     * applied, which estimated the error of the solution before it: an
     * overestimate of this one's, and so used only when it passes the
     * tolerance by itself. */
    if (rep->backward <= EPS32 && dx <= o->tolerance) break;
  }
  return CLS_OK;
}

/* --------------------------------------------------------------- solve */

/* The context's workspace of at least count floats: the one kept from an
 * earlier call when large enough, else a new one of exactly count (the old
 * one released first, so that two are never live at once). */
static cls_status workspace(cls_context *ctx, size_t count, cls_buffer **out) {
  cls__ops_data *st = cls__ops_get(ctx);
  if (!st) return CLS_ERR_OUT_OF_MEMORY;
  if (!st->spd_ws || cls_buffer_count(st->spd_ws) < count) {
    cls_buffer_free(st->spd_ws);
    st->spd_ws = NULL;
    cls_status s = cls_buffer_alloc(ctx, count, &st->spd_ws);
    if (s != CLS_OK) return s;
  }
  *out = st->spd_ws;
  return CLS_OK;
}

cls_status cls_spd_solve(cls_context *ctx, size_t n, size_t nrhs, cls_ref a, size_t lda, cls_ref b, size_t ldb,
                         cls_ref x, size_t ldx, const cls_spd_options *opts, cls_spd_report *report) {
  static const char fn[] = "cls_spd_solve";
  CLS_CHECK_CTX(ctx);
  double t0 = cls_now();
  cls_status s = check_args(ctx, fn, n, nrhs, a, lda, b, ldb, x, ldx, opts);
  if (s != CLS_OK) return s;
  cls_spd_options o;
  if (opts)
    o = *opts;
  else
    cls_spd_options_init(&o);

  solve_ws ws = {0};
  ws.ctx = ctx;
  ws.n = n;
  ws.nrhs = nrhs;
  long nb = cls__param(ctx, "CHOL_NB", 64);
  ws.nb = nb < 1 ? 1 : (size_t)nb;
  /* The outer panel: a multiple of the block, at least one block. */
  long ob = cls__param(ctx, "CHOL_OB", nb);
  ws.ob = ob < (long)ws.nb ? ws.nb : (size_t)ob / ws.nb * ws.nb;
  const cls_device_info *dev = cls_context_device(ctx);
  /* chol_diag's block and one column of it, and a little for the runtime. */
  size_t local_bytes = (ws.nb * ws.nb + ws.nb) * sizeof(float);
  if ((uint64_t)local_bytes + 64 > dev->local_mem_bytes)
    return cls__fail(ctx, CLS_ERR_INVALID_VALUE,
                     "%s: the device parameter CHOL_NB=%zu needs %zu bytes of local memory and %s has %llu; lower "
                     "CHOL_NB (CLSCALE_PARAMS)",
                     fn, ws.nb, local_bytes, dev->name, (unsigned long long)dev->local_mem_bytes);
  if ((s = plan(ctx, fn, &ws))) return s;
  if ((s = workspace(ctx, ws.st + 1, &ws.buf)) != CLS_OK) return s;

  cls_spd_report rep;
  memset(&rep, 0, sizeof rep);
  /* r and s adjacent, as R and S are in the workspace (one read each step). */
  host_blocks h = {malloc(2 * n * nrhs * sizeof(float)), NULL, malloc(n * nrhs * sizeof(float))};
  if (h.r) h.s = h.r + n * nrhs;
  float *piv = malloc((n + 1) * sizeof(float));
  if (!h.r || !h.x || !piv) {
    s = cls__fail(ctx, CLS_ERR_OUT_OF_MEMORY, "%s: out of host memory for %zu floats; solve a smaller system", fn,
                  4 * n * nrhs);
    goto done;
  }
  /* F = [A; B^T] (the lower triangle of A is what is read) and status 0. */
  if ((s = cls_buffer_fill(ctx, ws.buf, ws.st, 1, 0.0f)) ||
      (s = copy_lower(ctx, "chol_copy", a, lda, at(&ws, ws.f), n, n, n, 1)) ||
      (s = transpose(ctx, b, ldb, at(&ws, ws.f + n * n), n, n, nrhs)) || (s = factor(&ws)) ||
      (s = cls_buffer_read(ctx, ws.buf, ws.piv, n + 1, piv))) /* the pivots and the status after them */
    goto done;
  if (piv[n] != 0.0f) {
    size_t col = (size_t)piv[n];
    s = cls__fail(
        ctx, CLS_ERR_NUMERIC,
        "%s: the matrix is not positive definite in float32 (pivot %zu of %zu is %g): it is singular, "
        "indefinite or too ill-conditioned for float32; raise `ridge` (add to the diagonal), or check `a` "
        "for NaN or Inf",
        fn, col, n, (double)piv[col - 1]);
    goto done;
  }
  rep.min_pivot = INFINITY;
  for (size_t i = 0; i < n; i++) {
    if (piv[i] < rep.min_pivot) rep.min_pivot = piv[i];
    if (piv[i] > rep.max_pivot) rep.max_pivot = piv[i];
  }
  /* X = L^-1 B from the border, then X = L^-T X, then refine. */
  if ((s = transpose(ctx, at(&ws, ws.f + n * n), n, x, ldx, nrhs, n)) || (s = substitute(&ws, x, ldx, 0)) ||
      (s = refine(&ws, fn, a, lda, b, ldb, x, ldx, &o, &rep, &h)))
    goto done;
  double ratio = rep.max_pivot / rep.min_pivot;
  rep.condition = ratio * ratio;
  if (rep.backward_first > 0.0 && rep.error_first / rep.backward_first > rep.condition)
    rep.condition = rep.error_first / rep.backward_first;
  if (!(rep.error <= o.tolerance) || !(rep.backward <= o.tolerance)) {
    s = cls__fail(ctx, CLS_ERR_NUMERIC,
                  "%s: the system is too ill-conditioned for float32: after %d refinement steps the estimated "
                  "relative error is %.3g (backward error %.3g, condition >= %.3g), above `tolerance` %.3g; raise "
                  "`ridge`, or accept a larger `tolerance`",
                  fn, rep.refinements, rep.error, rep.backward, rep.condition, o.tolerance);
  }
done:
  rep.seconds = cls_now() - t0;
  if (report) *report = rep;
  free(h.r), free(h.x), free(piv);
  return s;
}
