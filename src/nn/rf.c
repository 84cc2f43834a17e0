/*
 * src/nn/rf.c — random-feature ridge regression on the device (rf.h).
 *
 * The host draws the problem once in whitened coordinates (rf_internal.h:
 * Ũ = U Λ^½, w̃ = Λ^½ w, z ~ N(0, I)) and uploads it; everything after that
 * runs on the device through the ops layer:
 *   y = Z w̃ + ε                    matmul, add_scaled
 *   Φ = Z Ũᵀ  (= X Uᵀ)             matmul, T x N
 *   primal (T >= N): (ΦᵀΦ/T + r I) v = Φᵀy/T        N x N
 *   kernel (T <  N): (ΦΦᵀ/T + r I) a = y, v = Φᵀa/T  T x T
 *     with r = gamma·N/M (matmul, add_diagonal, cls_spd_solve)
 *   loss = sigma2 + |w̃ − Ũᵀv|²     matmul, add_scaled, reduce(sumsq)
 *   estimate: e_s = (y_s − z_s·Ũᵀv)² over S fresh samples, its mean and
 *     standard error from Σe and Σe²   matmul, add_scaled, mse, reduce
 * The host reads back three floats and the solve's report.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/rng.h"
#include "core/spectrum.h"
#include "nn/rf.h"
#include "rf_internal.h"

/* One operand must stay within 32-bit float indexing of the ops. */
#define RF_MAX_FLOATS 2147483647.0
/* The solve's workspace per Gram row beyond n^2 (ops_linalg.h: 3 n CHOL_NB
 * + 2 n nrhs + n + 1 floats); CHOL_NB is a device parameter, 512 bounds it
 * from above for the memory check. */
#define RF_CHOL_NB_MAX 512.0
/* The rounding estimate (rf_one): the size of a rounding error of one
 * element of the Gram matrix, relative to its largest diagonal element, and
 * the largest accepted estimated relative error of the loss. Calibrated
 * against the double reference on 120 problems (α ∈ {0.5, 1, 2}, γ from
 * 1e-2 to 1e-10, M 200..2048, N and T 32..4096 on either side of each
 * other): with 2^-24, on the 80 it accepted, the estimate was 0.14 to 78
 * times the actual error (median 1.6), so 8 · 2^-24 makes it an upper bound
 * on every one. With these values 78 are accepted (largest actual error
 * 6.3e-5 of the loss) and 42 refused. */
#define RF_ROUNDING_EPS   (8 * 5.9604644775390625e-8)
#define RF_LOSS_TOLERANCE 1e-3

void cls_rf_problem_init(cls_rf_problem *p) {
  if (!p) return;
  memset(p, 0, sizeof *p);
  p->m = 256;
  p->alpha = 1;
  p->n = 64;
  p->t = 128;
  p->gamma = 1e-2;
  p->sigma2 = 0;
  p->seed = 1;
  p->test_samples = 0;
}

cls_status cls_rf_problem_check(const cls_rf_problem *p, char *err, size_t err_len) {
  if (!p) return cls_errf(err, err_len, CLS_ERR_NULL_ARGUMENT, "rf: the problem is NULL");
  if (!(p->alpha > 0) || isinf(p->alpha))
    return cls_errf(err, err_len, CLS_ERR_INVALID_VALUE, "rf: `alpha` = %g; the exponent must be finite and > 0",
                    p->alpha);
  if (!(p->gamma >= 0) || isinf(p->gamma))
    return cls_errf(err, err_len, CLS_ERR_INVALID_VALUE, "rf: `gamma` = %g; the ridge must be finite and >= 0",
                    p->gamma);
  if (!(p->sigma2 >= 0) || isinf(p->sigma2))
    return cls_errf(err, err_len, CLS_ERR_INVALID_VALUE,
                    "rf: `sigma2` = %g; the label-noise variance must be finite and >= 0", p->sigma2);
  const struct {
    const char *name;
    size_t v;
  } sizes[] = {{"m", p->m}, {"n", p->n}, {"t", p->t}};
  for (size_t i = 0; i < 3; i++)
    if (sizes[i].v == 0)
      return cls_errf(err, err_len, CLS_ERR_INVALID_SIZE, "rf: `%s` = 0; it must be >= 1", sizes[i].name);
  if (p->test_samples == 1)
    return cls_errf(err, err_len, CLS_ERR_INVALID_SIZE,
                    "rf: `test_samples` = 1; a standard error needs 0 (no estimate) or >= 2 samples");
  /* Every matrix the device holds, against 32-bit indexing (the Gram
   * matrix is min(N, T) square). */
  size_t g = p->t < p->n ? p->t : p->n;
  const struct {
    const char *what;
    double floats;
  } mats[] = {{"`t` x `m` (the training inputs)", (double)p->t * (double)p->m},
              {"`n` x `m` (the feature map)", (double)p->n * (double)p->m},
              {"`t` x `n` (the features)", (double)p->t * (double)p->n},
              {"min(`n`, `t`)^2 (the Gram matrix)", (double)g * (double)g},
              {"`test_samples` x `m` (the test inputs)", (double)p->test_samples * (double)p->m}};
  for (size_t i = 0; i < sizeof mats / sizeof mats[0]; i++)
    if (mats[i].floats > RF_MAX_FLOATS)
      return cls_errf(err, err_len, CLS_ERR_INVALID_SIZE,
                      "rf: %s = %.0f floats exceeds 2^31 - 1 (32-bit indexing); lower those fields", mats[i].what,
                      mats[i].floats);
  return CLS_OK;
}

int cls_rf_kernel_form(const cls_rf_problem *p) {
  return p && p->t < p->n;
}

/* The float counts of the device buffers, in the order rf_solve allocates. */
enum {
  RF_BUF_Z,
  RF_BUF_U,
  RF_BUF_W,
  RF_BUF_Y,
  RF_BUF_PHI,
  RF_BUF_GRAM,
  RF_BUF_VEC,
  RF_BUF_ZS,
  RF_BUF_YS,
  RF_NBUF
};

static void rf_buffer_floats(const cls_rf_problem *p, double f[RF_NBUF]) {
  double m = (double)p->m, n = (double)p->n, t = (double)p->t, s = (double)p->test_samples;
  double g = p->t < p->n ? t : n;
  f[RF_BUF_Z] = t * m;
  f[RF_BUF_U] = n * m;
  f[RF_BUF_W] = m;
  f[RF_BUF_Y] = 2 * t; /* ε, then y */
  f[RF_BUF_PHI] = t * n;
  f[RF_BUF_GRAM] = g * g;
  f[RF_BUF_VEC] = 2 * g + n + 2 * m + 4 + n + t + g; /* right side, solution, v, Ũᵀv, w̃ − Ũᵀv, 4 scalars, the
                                                      rounding estimate's vectors */
  f[RF_BUF_ZS] = s * m;
  f[RF_BUF_YS] = 3 * s; /* ε_s then y_s, predictions, squared errors */
}

uint64_t cls_rf_device_bytes(const cls_rf_problem *p) {
  if (!p) return 0;
  double f[RF_NBUF], total = 0;
  rf_buffer_floats(p, f);
  for (int i = 0; i < RF_NBUF; i++) total += f[i];
  double g = p->t < p->n ? (double)p->t : (double)p->n;
  total += g * g + 3 * g * RF_CHOL_NB_MAX + 3 * g + 1; /* cls_spd_solve's workspace */
  double bytes = total * sizeof(float);
  return bytes < 1.8e19 ? (uint64_t)bytes : 0;
}

void cls__rf_fill(uint64_t seed, uint32_t stream, size_t rows, size_t cols, double scale, const double *col_scale,
                  double *d, float *f) {
  cls_rng r = cls_rng_make(seed, stream);
  for (size_t i = 0; i < rows; i++)
    for (size_t j = 0; j < cols; j++) {
      double v = scale * cls_rng_normal(r, i, (uint32_t)j);
      if (col_scale) v *= col_scale[j];
      if (d) d[i * cols + j] = v;
      if (f) f[i * cols + j] = (float)v;
    }
}

/* The ops report their failures on the context; hand that message on. */
static cls_status rf_ctx_fail(cls_context *ctx, cls_status s, const char *what, char *err, size_t err_len) {
  return cls_errf(err, err_len, s, "rf: %s failed: %s", what, cls_last_error(ctx));
}

cls_status cls_rf_solve(cls_context *ctx, const cls_rf_problem *p, cls_rf_result *out, char *err, size_t err_len) {
  if (!p) return cls_errf(err, err_len, CLS_ERR_NULL_ARGUMENT, "rf: the problem is NULL");
  return cls_rf_solve_sweep(ctx, p, &p->n, 1, out, err, err_len);
}

/* The Gram system of one feature count nk (the first nk features, columns
 * [0, nk) of Φ, whose row stride is the sweep's largest N), solved, and its
 * exact loss and estimate into out. */
static cls_status rf_one(cls_context *ctx, const cls_rf_problem *p, size_t nk, cls_buffer *const b[RF_NBUF],
                         cls_rf_result *out, char *err, size_t err_len) {
  const size_t m = p->m, n = p->n, t = p->t, s = p->test_samples;
  const int kernel = t < nk;
  const size_t g = kernel ? t : nk, gmax = t < n ? t : n;
  cls_status st;
  out->loss = out->loss_estimate = out->loss_se = out->loss_rounding = NAN;
  out->flops = 0;
  memset(&out->solve, 0, sizeof out->solve);
  out->kernel_form = kernel;
  cls_counters c0, c1;
  if ((st = cls_counters_get(ctx, &c0)) != CLS_OK)
    return rf_ctx_fail(ctx, st, "reading the counters", err, err_len);

  cls_ref wt = cls_ref_at(b[RF_BUF_W], 0), ut = cls_ref_at(b[RF_BUF_U], 0), y = cls_ref_at(b[RF_BUF_Y], t);
  cls_ref phi = cls_ref_at(b[RF_BUF_PHI], 0), gram = cls_ref_at(b[RF_BUF_GRAM], 0);
  cls_ref rhs = cls_ref_at(b[RF_BUF_VEC], 0), sol = cls_ref_at(b[RF_BUF_VEC], gmax);
  cls_ref v = cls_ref_at(b[RF_BUF_VEC], 2 * gmax), u = cls_ref_at(b[RF_BUF_VEC], 2 * gmax + n);
  cls_ref d = cls_ref_at(b[RF_BUF_VEC], 2 * gmax + n + m), scal = cls_ref_at(b[RF_BUF_VEC], 2 * gmax + n + 2 * m);
  const float inv_t = (float)(1.0 / (double)t), ridge = (float)(p->gamma * (double)nk / (double)m);

#define RF_OP(call, what)                                                                                         \
  do {                                                                                                            \
    if ((st = (call)) != CLS_OK) return rf_ctx_fail(ctx, st, what, err, err_len);                                 \
  } while (0)

  if (kernel) {
    RF_OP(cls_matmul(ctx, CLS_NO_TRANS, CLS_TRANS, t, t, nk, inv_t, phi, n, phi, n, 0, gram, t),
          "the kernel ΦΦᵀ/T");
    RF_OP(cls_buffer_copy(ctx, b[RF_BUF_Y], t, b[RF_BUF_VEC], rhs.offset, t), "copying y");
  } else {
    RF_OP(cls_matmul(ctx, CLS_TRANS, CLS_NO_TRANS, nk, nk, t, inv_t, phi, n, phi, n, 0, gram, nk),
          "the Gram ΦᵀΦ/T");
    RF_OP(cls_matmul(ctx, CLS_TRANS, CLS_NO_TRANS, nk, 1, t, inv_t, phi, n, y, 1, 0, rhs, 1),
          "the right side Φᵀy/T");
  }
  if (ridge > 0) RF_OP(cls_add_diagonal(ctx, g, ridge, gram, g), "adding the ridge");

  cls_spd_options opts;
  cls_spd_options_init(&opts);
  st = cls_spd_solve(ctx, g, 1, gram, g, rhs, 1, sol, 1, &opts, &out->solve);
  /* The solve's own message names its arguments (`ridge`, `a`); the caller
   * knows only this problem's fields, so say it in those. A factor that
   * failed leaves no error estimate in the report. */
  if (st == CLS_ERR_NUMERIC && out->solve.error > 0)
    return cls_errf(err, err_len, CLS_ERR_NUMERIC,
                    "rf: with `n` = %zu the %s Gram matrix (%zu x %zu, condition >= %.3g) cannot be solved "
                    "accurately in float32 (estimated relative error %.3g after %d refinements); raise `gamma` "
                    "(now %g)",
                    nk, kernel ? "kernel" : "primal", g, g, out->solve.condition, out->solve.error,
                    out->solve.refinements, p->gamma);
  if (st == CLS_ERR_NUMERIC)
    return cls_errf(
        err, err_len, CLS_ERR_NUMERIC,
        "rf: with `n` = %zu the %s Gram matrix (%zu x %zu) is not positive definite in float32 (singular "
        "or too ill-conditioned: %s features of rank <= %zu); raise `gamma` (now %g)",
        nk, kernel ? "kernel" : "primal", g, g, kernel ? "T" : "N", p->m < t ? p->m : t, p->gamma);
  if (st != CLS_OK) return rf_ctx_fail(ctx, st, "the solve", err, err_len);
  if (kernel)
    RF_OP(cls_matmul(ctx, CLS_TRANS, CLS_NO_TRANS, nk, 1, t, inv_t, phi, n, sol, 1, 0, v, 1), "the readout Φᵀa/T");
  else
    RF_OP(cls_buffer_copy(ctx, b[RF_BUF_VEC], sol.offset, b[RF_BUF_VEC], v.offset, nk), "copying the readout");

  /* Ũ's first nk rows are the nk features' rows. */
  RF_OP(cls_matmul(ctx, CLS_TRANS, CLS_NO_TRANS, m, 1, nk, 1, ut, m, v, 1, 0, u, 1), "Ũᵀv");
  RF_OP(cls_add_scaled(ctx, m, 1, wt, -1, u, d), "w̃ − Ũᵀv");
  RF_OP(cls_reduce(ctx, CLS_REDUCE_SUMSQ, m, d, 1, scal), "the exact loss");
  if (s) {
    /* The test labels y_s = z_s·w̃ + ε_s sit in the first S floats of YS
     * (made once per sweep); here the predictions φ_s·v = z_s·(Ũᵀv). */
    cls_ref zs = cls_ref_at(b[RF_BUF_ZS], 0), ys = cls_ref_at(b[RF_BUF_YS], 0);
    cls_ref pred = cls_ref_at(b[RF_BUF_YS], s), e = cls_ref_at(b[RF_BUF_YS], 2 * s);
    RF_OP(cls_matmul(ctx, CLS_NO_TRANS, CLS_NO_TRANS, s, 1, m, 1, zs, m, u, 1, 0, pred, 1), "the predictions");
    RF_OP(cls_mse(ctx, s, pred, ys, e, CLS_NOREF, 1), "the squared errors");
    RF_OP(cls_reduce(ctx, CLS_REDUCE_SUM, s, e, 1, cls_ref_at(b[RF_BUF_VEC], scal.offset + 1)), "Σe");
    RF_OP(cls_reduce(ctx, CLS_REDUCE_SUMSQ, s, e, 1, cls_ref_at(b[RF_BUF_VEC], scal.offset + 2)), "Σe²");
  }
#undef RF_OP
  float sums[3] = {0, 0, 0};
  if ((st = cls_buffer_read(ctx, b[RF_BUF_VEC], scal.offset, s ? 3 : 1, sums)) != CLS_OK ||
      (st = cls_counters_get(ctx, &c1)) != CLS_OK)
    return rf_ctx_fail(ctx, st, "reading the loss", err, err_len);
  if (!isfinite(sums[0]) || (s && (!isfinite(sums[1]) || !isfinite(sums[2]))))
    return cls_errf(err, err_len, CLS_ERR_NUMERIC,
                    "rf: with `n` = %zu the loss came out as %g (not finite) although the solve passed; raise "
                    "`gamma` (now %g)",
                    nk, (double)sums[0], p->gamma);
  out->loss = p->sigma2 + (double)sums[0];
  if (s) {
    double mean = (double)sums[1] / (double)s;
    double var = ((double)sums[2] / (double)s - mean * mean) * (double)s / (double)(s - 1);
    out->loss_estimate = mean;
    out->loss_se = sqrt((var > 0 ? var : 0) / (double)s);
  }

  /* The solve is accurate for the float32 Gram matrix it was given, but that
   * matrix is the exact one rounded (Φ and its products in float32), and at
   * the interpolation peak (N ≈ T, tiny gamma) the loss reacts to such a
   * rounding far more than the solve's error says. Estimate it to first
   * order: with d = w̃ − Ũᵀv, a symmetric perturbation δG moves the loss by
   *   primal: δL = 2 aᵀ δG v,   a = G⁻¹ Ũ d;
   *   kernel: δL = 2 bᵀ δK s,   b = K⁻¹ Φ Ũ d / T,  s the kernel solution;
   * for independent entries of size ε·max diag this has a standard deviation
   * of at most 2√2 ε·max diag·|a|·|v| (resp. |b|·|s|). One more solve with
   * the factor's matrix; ε = RF_ROUNDING_EPS, calibrated (see its definition)
   * so that the estimate bounds the actual error. */
  cls_ref q0 = cls_ref_at(b[RF_BUF_VEC], scal.offset + 4), q1 = cls_ref_at(b[RF_BUF_VEC], scal.offset + 4 + n);
  cls_ref ab = cls_ref_at(b[RF_BUF_VEC], scal.offset + 4 + n + t);
  cls_spd_report probe;
  st = cls_matmul(ctx, CLS_NO_TRANS, CLS_NO_TRANS, nk, 1, m, 1, ut, m, d, 1, 0, q0, 1);
  if (st == CLS_OK && kernel)
    st = cls_matmul(ctx, CLS_NO_TRANS, CLS_NO_TRANS, t, 1, nk, inv_t, phi, n, q0, 1, 0, q1, 1);
  if (st == CLS_OK) st = cls_spd_solve(ctx, g, 1, gram, g, kernel ? q1 : q0, 1, ab, 1, &opts, &probe);
  double na = NAN, nv = NAN;
  if (st == CLS_OK) {
    float *h = malloc(2 * g * sizeof *h);
    if (!h) return cls_errf(err, err_len, CLS_ERR_OUT_OF_MEMORY, "rf: no host memory for %zu floats", 2 * g);
    if ((st = cls_buffer_read(ctx, b[RF_BUF_VEC], ab.offset, g, h)) == CLS_OK &&
        (st = cls_buffer_read(ctx, b[RF_BUF_VEC], sol.offset, g, h + g)) == CLS_OK) {
      na = nv = 0;
      for (size_t i = 0; i < g; i++) na += (double)h[i] * h[i], nv += (double)h[g + i] * h[g + i];
      na = sqrt(na), nv = sqrt(nv);
    }
    free(h);
  }
  if (st != CLS_OK && st != CLS_ERR_NUMERIC) return rf_ctx_fail(ctx, st, "the rounding estimate", err, err_len);
  if (st == CLS_OK && (st = cls_counters_get(ctx, &c1)) != CLS_OK)
    return rf_ctx_fail(ctx, st, "reading the counters", err, err_len);
  const double maxdiag = out->solve.max_pivot * out->solve.max_pivot;
  out->loss_rounding = st == CLS_OK ? 2 * sqrt(2.0) * RF_ROUNDING_EPS * maxdiag * na * nv : INFINITY;
  if (!isfinite(out->loss_rounding)) out->loss_rounding = INFINITY;
  out->flops = c1.flops - c0.flops;
  if (!(out->loss_rounding <= RF_LOSS_TOLERANCE * out->loss)) {
    double loss = out->loss;
    out->loss = out->loss_estimate = out->loss_se = NAN;
    return cls_errf(err, err_len, CLS_ERR_NUMERIC,
                    "rf: with `n` = %zu float32 rounding of the %s Gram matrix (condition >= %.3g) may move the "
                    "loss (%.6g) by %.3g, more than %g of it; raise `gamma` (now %g)",
                    nk, kernel ? "kernel" : "primal", out->solve.condition, loss, out->loss_rounding,
                    RF_LOSS_TOLERANCE, p->gamma);
  }
  return CLS_OK;
}

cls_status cls_rf_solve_sweep(cls_context *ctx, const cls_rf_problem *p, const size_t *ns, size_t count,
                              cls_rf_result *out, char *err, size_t err_len) {
  if (!ctx || !out || !ns)
    return cls_errf(err, err_len, CLS_ERR_NULL_ARGUMENT, "rf: the context, `ns` or `out` is NULL");
  cls_status st = cls_rf_problem_check(p, err, err_len);
  if (st != CLS_OK) return st;
  if (count == 0) return cls_errf(err, err_len, CLS_ERR_INVALID_SIZE, "rf: `count` = 0; pass at least one `ns`");
  for (size_t k = 0; k < count; k++)
    if (ns[k] == 0 || ns[k] > p->n)
      return cls_errf(err, err_len, CLS_ERR_INVALID_SIZE, "rf: `ns[%zu]` = %zu; each must be in 1..`n` (%zu)", k,
                      ns[k], p->n);
  for (size_t k = 0; k < count; k++) {
    out[k].loss = out[k].loss_estimate = out[k].loss_se = out[k].loss_rounding = NAN;
    out[k].flops = 0;
    out[k].kernel_form = p->t < ns[k];
    memset(&out[k].solve, 0, sizeof out[k].solve);
  }
  const size_t m = p->m, n = p->n, t = p->t, s = p->test_samples;

  /* Memory: refuse before allocating anything. */
  const cls_device_info *dev = cls_context_device(ctx);
  double f[RF_NBUF];
  rf_buffer_floats(p, f);
  uint64_t need = cls_rf_device_bytes(p);
  if (need == 0 || need > dev->global_mem_bytes)
    return cls_errf(err, err_len, CLS_ERR_OUT_OF_MEMORY,
                    "rf: the problem needs %.0f bytes of device memory and the device has %llu; lower `t`, `n`, "
                    "`m` or `test_samples`",
                    need ? (double)need : 1.8e19, (unsigned long long)dev->global_mem_bytes);
  for (int i = 0; i < RF_NBUF; i++)
    if (f[i] * sizeof(float) > (double)dev->max_alloc_bytes)
      return cls_errf(err, err_len, CLS_ERR_OUT_OF_MEMORY,
                      "rf: one buffer of %.0f bytes exceeds the device's largest allocation of %llu bytes; lower "
                      "`t`, `n`, `m` or `test_samples`",
                      f[i] * sizeof(float), (unsigned long long)dev->max_alloc_bytes);

  cls_buffer *b[RF_NBUF] = {0};
  float *host = NULL;
  double *lam = malloc(m * sizeof *lam);
  if (!lam) {
    st = cls_errf(err, err_len, CLS_ERR_OUT_OF_MEMORY, "rf: no host memory for the spectrum of `m` = %zu", m);
    goto done;
  }
  if ((st = cls_powerlaw_spectrum(p->alpha, m, lam, err, err_len)) != CLS_OK) goto done;
  for (size_t j = 0; j < m; j++) lam[j] = sqrt(lam[j]);
  for (int i = 0; i < RF_NBUF; i++) {
    if (f[i] == 0) continue;
    if ((st = cls_buffer_alloc(ctx, (size_t)f[i], &b[i])) != CLS_OK) {
      st = rf_ctx_fail(ctx, st, "allocating device memory", err, err_len);
      goto done;
    }
  }
  /* Upload through one host staging array as large as the largest input. */
  size_t stage = t * m;
  if (n * m > stage) stage = n * m;
  if (s * m > stage) stage = s * m;
  if (!(host = malloc(stage * sizeof *host))) {
    st = cls_errf(err, err_len, CLS_ERR_OUT_OF_MEMORY, "rf: no host memory to stage %zu floats; lower `t`", stage);
    goto done;
  }
  const struct {
    int buf;
    uint32_t stream;
    size_t rows;
    size_t cols;
    double scale;
    const double *col_scale;
  } up[] = {{RF_BUF_Z, RF_STREAM_Z, t, m, 1, NULL},
            {RF_BUF_U, RF_STREAM_U, n, m, 1 / sqrt((double)m), lam},
            {RF_BUF_W, RF_STREAM_W, m, 1, 1, NULL}, /* scaled by λ^½ below */
            {RF_BUF_Y, RF_STREAM_EPS, t, 1, sqrt(p->sigma2), NULL},
            {RF_BUF_ZS, RF_STREAM_ZTEST, s, m, 1, NULL},
            {RF_BUF_YS, RF_STREAM_EPSTEST, s, 1, sqrt(p->sigma2), NULL}};
  for (size_t i = 0; i < sizeof up / sizeof up[0]; i++) {
    size_t count_i = up[i].rows * up[i].cols;
    if (count_i == 0) continue;
    if (up[i].buf == RF_BUF_W) {
      /* w_j is draw (j, 0) of its stream, scaled by λ_j^½ in double before
       * rounding, as in the reference. */
      cls_rng r = cls_rng_make(p->seed, up[i].stream);
      for (size_t j = 0; j < m; j++) host[j] = (float)(cls_rng_normal(r, j, 0) * lam[j]);
    } else {
      cls__rf_fill(p->seed, up[i].stream, up[i].rows, up[i].cols, up[i].scale, up[i].col_scale, NULL, host);
    }
    if ((st = cls_buffer_write(ctx, b[up[i].buf], 0, count_i, host)) != CLS_OK) {
      st = rf_ctx_fail(ctx, st, "uploading the draws", err, err_len);
      goto done;
    }
  }

  /* Shared by every feature count: the labels, all N features, the test labels. */
  cls_ref z = cls_ref_at(b[RF_BUF_Z], 0), ut = cls_ref_at(b[RF_BUF_U], 0), wt = cls_ref_at(b[RF_BUF_W], 0);
  cls_ref eps = cls_ref_at(b[RF_BUF_Y], 0), y = cls_ref_at(b[RF_BUF_Y], t), phi = cls_ref_at(b[RF_BUF_PHI], 0);
  cls_counters c0, c1;
  if ((st = cls_counters_get(ctx, &c0)) != CLS_OK ||
      (st = cls_matmul(ctx, CLS_NO_TRANS, CLS_NO_TRANS, t, 1, m, 1, z, m, wt, 1, 0, y, 1)) != CLS_OK ||
      (st = cls_add_scaled(ctx, t, 1, y, 1, eps, y)) != CLS_OK ||
      (st = cls_matmul(ctx, CLS_NO_TRANS, CLS_TRANS, t, n, m, 1, z, m, ut, m, 0, phi, n)) != CLS_OK ||
      (s && (st = cls_matmul(ctx, CLS_NO_TRANS, CLS_NO_TRANS, s, 1, m, 1, cls_ref_at(b[RF_BUF_ZS], 0), m, wt, 1, 1,
                             cls_ref_at(b[RF_BUF_YS], 0), 1)) != CLS_OK) ||
      (st = cls_counters_get(ctx, &c1)) != CLS_OK) {
    st = rf_ctx_fail(ctx, st, "the labels and features", err, err_len);
    goto done;
  }
  for (size_t k = 0; k < count; k++) {
    if ((st = rf_one(ctx, p, ns[k], b, &out[k], err, err_len)) != CLS_OK) goto done;
    /* The shared work is counted once, with the first result. */
    if (k == 0) out[k].flops += c1.flops - c0.flops;
  }
done:
  for (int i = 0; i < RF_NBUF; i++) cls_buffer_free(b[i]);
  free(host);
  free(lam);
  return st;
}
