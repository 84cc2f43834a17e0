/*
 * cl/elementwise.cl - GELU, the residual add and scale, bias add and the
 * bias gradient (src/ops/elementwise.c launches them).
 *
 * The maps are one element per work-item, so that consecutive work-items
 * touch consecutive floats: coalesced on GPUs, and on CPU runtimes (PoCL),
 * which vectorise a work-group's items into SIMD lanes, plain vector loads.
 * Every kernel checks its bound: the host rounds the global size up to a
 * multiple of the work-group size.
 *
 * Operands are (buffer, offset in floats). In-place use (y = x, dx = dy) is
 * safe because each element is read before the same work-item writes it,
 * so no pointer is declared restrict.
 */

#ifndef ROW_CVEC
#define ROW_CVEC 1
#endif

#define GELU_K 0.7978845608028654f /* sqrt(2/pi) */
#define GELU_C 0.044715f

/* GELU is bound by its exponential, not by memory, so each work-item
 * takes ELT_VEC consecutive floats as one vector: runtimes then call their
 * vector exp (PoCL's scalar path is about 3x slower per element; 16
 * lanes are 1.4x faster than 8 there). GPUs want 4 or 1 from the device
 * table. The host launches ceil(n / ELT_VEC) items; the last one may take
 * a partial vector element by element. */
#include "eltvec.h"

/* 0.5 (1 + tanh(u)) is computed as the logistic 1 / (1 + exp(-2u)): the
 * same function, without the cancellation of 1 + tanh(u) for negative u
 * (where runtimes' tanh is also least accurate). gelu(x) = x s. For huge
 * |x|, x^3 overflows to +-inf and s becomes exactly 0 or 1, which is the
 * right limit. */
#define GELU_FWD(v) ((v) / (1.0f + exp(-2.0f * GELU_K * mad(GELU_C * (v) * (v), (v), (v)))))

__kernel void gelu_fwd(__global const float *x, uint xo, __global float *y, uint yo, uint n) {
  uint i = get_global_id(0) * ELT_VEC;
  if (i >= n) return;
  if (n - i >= ELT_VEC) {
    floatv v = VLOAD(0, x + xo + i);
    VSTORE(GELU_FWD(v), 0, y + yo + i);
  } else {
    for (; i < n; i++) {
      float v = x[xo + i];
      y[yo + i] = GELU_FWD(v);
    }
  }
}

/* Beyond |x| = 10 the derivative is 0 or 1 to float precision; clamping
 * there keeps x^3 finite so that no inf * 0 = NaN appears. NaN inputs are
 * kept NaN (clamp of NaN is unspecified).
 *   gelu'(x) = s + 2 x u'(x) s (1 - s),  u' = k (1 + 3 c x^2),
 *   1 - s = e s with e = exp(-2u). */
#define GELU_CLAMP 10.0f
#define GELU_BWD(T, v, g, out)                                                                                   \
  do {                                                                                                           \
    T c_ = clamp(v, -GELU_CLAMP, GELU_CLAMP);                                                                    \
    T c2_ = c_ * c_;                                                                                             \
    T e_ = exp(-2.0f * GELU_K * mad(GELU_C * c2_, c_, c_));                                                      \
    T s_ = 1.0f / (1.0f + e_);                                                                                   \
    T d_ = mad(2.0f * GELU_K * c_ * mad(3.0f * GELU_C, c2_, 1.0f), s_ * s_ * e_, s_);                            \
    out = (g) * select(d_, v, isnan(v));                                                                          \
  } while (0)

__kernel void gelu_bwd(__global const float *x, uint xo, __global const float *dy, uint dyo, __global float *dx,
                       uint dxo, uint n) {
  uint i = get_global_id(0) * ELT_VEC;
  if (i >= n) return;
  if (n - i >= ELT_VEC) {
    floatv v = VLOAD(0, x + xo + i), g = VLOAD(0, dy + dyo + i), r;
    GELU_BWD(floatv, v, g, r);
    VSTORE(r, 0, dx + dxo + i);
  } else {
    for (; i < n; i++) {
      float v = x[xo + i], g = dy[dyo + i], r;
      GELU_BWD(float, v, g, r);
      dx[dxo + i] = r;
    }
  }
}

__kernel void add_scaled(__global const float *a, uint ao, float alpha, __global const float *b, uint bo,
                         float beta, __global float *y, uint yo, uint n) {
  uint i = get_global_id(0);
  if (i >= n) return;
  y[yo + i] = mad(alpha, a[ao + i], beta * b[bo + i]);
}

__kernel void scale_inplace(__global float *x, uint xo, float alpha, uint n) {
  uint i = get_global_id(0);
  if (i >= n) return;
  x[xo + i] *= alpha;
}

/* Work-item (c, r): y[r, c] += bias[c]. The group spans columns, so a
 * group's items share a row and read bias contiguously. */
__kernel void bias_add(__global const float *bias, uint bo, __global float *y, uint yo, uint rows, uint cols) {
  uint c = get_global_id(0);
  uint r = get_global_id(1);
  if (c >= cols || r >= rows) return;
  y[yo + (size_t)r * cols + c] += bias[bo + c];
}

/* Work-item (c, p): the sum over rows p*part_rows .. +part_rows-1 of
 * columns c*ROW_CVEC .. +ROW_CVEC-1, written to out[oo + p*cols + c]
 * (added to what is there when accumulate, used with a single part that
 * writes straight into the caller's dbias). One item per column looping
 * rows: each row's loads are contiguous across the group's items, and the
 * order of the sum is fixed (no atomics). */
__kernel void bias_grad_part(__global const float *dy, uint dyo, uint rows, uint cols, uint part_rows,
                             __global float *out, uint oo, int accumulate) {
  uint c = get_global_id(0) * ROW_CVEC;
  uint p = get_global_id(1);
  if (c >= cols) return;
  uint r0 = p * part_rows;
  uint r1 = min(rows, r0 + part_rows);
  size_t o = oo + (size_t)p * cols + c;
#if ROW_CVEC > 1
  if (c + ROW_CVEC <= cols) {
    typedef CAT(float, ROW_CVEC) floatc;
    floatc s = (floatc)(0.0f);
    for (uint r = r0; r < r1; r++) s += CAT(vload, ROW_CVEC)(0, dy + dyo + (size_t)r * cols + c);
    if (accumulate) s += CAT(vload, ROW_CVEC)(0, out + o);
    CAT(vstore, ROW_CVEC)(s, 0, out + o);
    return;
  }
#endif
  for (uint k = c; k < min(cols, c + ROW_CVEC); k++, o++) {
    float s = 0.0f;
    for (uint r = r0; r < r1; r++) s += dy[dyo + (size_t)r * cols + k];
    out[o] = accumulate ? out[o] + s : s;
  }
}

/* Adds the parts of bias_grad_part, in part order, into dbias. */
__kernel void bias_grad_finish(__global const float *part, uint parts, uint cols, __global float *db, uint dbo,
                               int accumulate) {
  uint c = get_global_id(0);
  if (c >= cols) return;
  float s = 0.0f;
  for (uint p = 0; p < parts; p++) s += part[(size_t)p * cols + c];
  db[dbo + c] = accumulate ? db[dbo + c] + s : s;
}

/* ------------------------------------------------ bias + GELU, fused
 * A linear layer's bias and its GELU in one pass (cls_bias_gelu_forward):
 * item r * vecs + v takes the ELT_VEC columns from v * ELT_VEC of row r,
 * h = x + bias (kept in x: the backward pass needs the pre-activation)
 * and y = gelu(h). The same operations as bias_add then gelu_fwd (which
 * lanes share a vector exp differs, which a runtime may round apart). */
__kernel void bias_gelu_fwd(__global const float *bias, uint bo, __global float *x, uint xo, __global float *y,
                            uint yo, uint rows, uint cols, uint vecs) {
  /* A 1-D launch of rows x vecs items (vecs = vectors per row), so that
   * work-groups are large whatever the width (PoCL pays per group). */
  uint id = get_global_id(0);
  if (id >= rows * vecs) return;
  uint r = id / vecs, c = (id % vecs) * ELT_VEC;
  size_t at = (size_t)r * cols + c;
  if (cols - c >= ELT_VEC) {
    floatv h = VLOAD(0, x + xo + at) + VLOAD(0, bias + bo + c);
    VSTORE(h, 0, x + xo + at);
    VSTORE(GELU_FWD(h), 0, y + yo + at);
  } else {
    for (; c < cols; c++, at++) {
      float h = x[xo + at] + bias[bo + c];
      x[xo + at] = h;
      y[yo + at] = GELU_FWD(h);
    }
  }
}

/* Its backward, and the bias gradient, in one pass over dy
 * (cls_gelu_bias_backward): item (c, p) computes dx = dy gelu'(h) for
 * columns c*ROW_CVEC .. +ROW_CVEC-1 of the rows of part p, writes it, and
 * sums it over those rows in bias_grad_part's order: the operations of
 * gelu_bwd then bias_grad_part in one launch (up to which lanes share a
 * vector exp); parts are added by bias_grad_finish. */
__kernel void gelu_bias_bwd_part(__global const float *x, uint xo, __global const float *dy, uint dyo,
                                 __global float *dx, uint dxo, uint rows, uint cols, uint part_rows,
                                 __global float *out, uint oo, int accumulate) {
  uint c = get_global_id(0) * ROW_CVEC;
  uint p = get_global_id(1);
  if (c >= cols) return;
  uint r0 = p * part_rows;
  uint r1 = min(rows, r0 + part_rows);
  size_t o = oo + (size_t)p * cols + c;
#if ROW_CVEC > 1
  if (c + ROW_CVEC <= cols) {
    typedef CAT(float, ROW_CVEC) floatc;
    floatc s = (floatc)(0.0f);
    for (uint r = r0; r < r1; r++) {
      size_t at = (size_t)r * cols + c;
      floatc v = CAT(vload, ROW_CVEC)(0, x + xo + at), g = CAT(vload, ROW_CVEC)(0, dy + dyo + at), d;
      GELU_BWD(floatc, v, g, d);
      CAT(vstore, ROW_CVEC)(d, 0, dx + dxo + at);
      s += d;
    }
    if (accumulate) s += CAT(vload, ROW_CVEC)(0, out + o);
    CAT(vstore, ROW_CVEC)(s, 0, out + o);
    return;
  }
#endif
  for (uint k = c; k < min(cols, c + ROW_CVEC); k++, o++) {
    float s = 0.0f;
    for (uint r = r0; r < r1; r++) {
      size_t at = (size_t)r * cols + k;
      float v = x[xo + at], g = dy[dyo + at], d;
      GELU_BWD(float, v, g, d);
      dx[dxo + at] = d;
      s += d;
    }
    out[o] = accumulate ? out[o] + s : s;
  }
}

/* gelu_bias_bwd_part's GELU alone, over every row at once (a 1-D launch
 * of rows x items, items = column vectors of ROW_CVEC per row): dx exactly
 * as that kernel computes it (the same vectors, so the same bits), which
 * bias_grad_part then sums in that kernel's order. For the launches whose
 * column items and row parts are too few to fill the device: on a CPU a
 * layer of 2048 rows and 96 columns is one part of 6 items, one work-group
 * on one core (src/ops/elementwise.c, gelu_bias_grad). */
__kernel void gelu_bwd_cols(__global const float *x, uint xo, __global const float *dy, uint dyo, __global float *dx,
                            uint dxo, uint rows, uint cols, uint items) {
  uint id = get_global_id(0);
  if (id >= rows * items) return;
  uint r = id / items, c = (id % items) * ROW_CVEC;
  size_t at = (size_t)r * cols + c;
#if ROW_CVEC > 1
  if (c + ROW_CVEC <= cols) {
    typedef CAT(float, ROW_CVEC) floatc;
    floatc v = CAT(vload, ROW_CVEC)(0, x + xo + at), g = CAT(vload, ROW_CVEC)(0, dy + dyo + at), d;
    GELU_BWD(floatc, v, g, d);
    CAT(vstore, ROW_CVEC)(d, 0, dx + dxo + at);
    return;
  }
#endif
  for (uint k = c; k < min(cols, c + ROW_CVEC); k++, at++) {
    float v = x[xo + at], g = dy[dyo + at], d;
    GELU_BWD(float, v, g, d);
    dx[dxo + at] = d;
  }
}

/* ------------------------------------------------ models side by side
 * The bias ops of `models` models of one shape trained as one (the train
 * layer's models.h): the models' rows follow one another (rows of the
 * launch = models x mrows), model k's bias at bias + bo + k * bstride.
 * Every element is computed as the one-model kernel above computes it
 * (bias_grad_part and gelu_bias_bwd_part serve as they are: their parts
 * never straddle two models), so each model's result is bitwise its own. */

/* bias_add with a bias per model. */
__kernel void bias_add_models(__global const float *bias, uint bo, uint bstride, uint mrows, __global float *y,
                              uint yo, uint rows, uint cols) {
  uint c = get_global_id(0);
  uint r = get_global_id(1);
  if (c >= cols || r >= rows) return;
  y[yo + (size_t)r * cols + c] += bias[bo + (size_t)(r / mrows) * bstride + c];
}

/* bias_gelu_fwd with a bias per model. */
__kernel void bias_gelu_fwd_models(__global const float *bias, uint bo, uint bstride, uint mrows,
                                   __global float *x, uint xo, __global float *y, uint yo, uint rows, uint cols,
                                   uint vecs) {
  uint id = get_global_id(0);
  if (id >= rows * vecs) return;
  uint r = id / vecs, c = (id % vecs) * ELT_VEC;
  size_t at = (size_t)r * cols + c, b = bo + (size_t)(r / mrows) * bstride;
  if (cols - c >= ELT_VEC) {
    floatv h = VLOAD(0, x + xo + at) + VLOAD(0, bias + b + c);
    VSTORE(h, 0, x + xo + at);
    VSTORE(GELU_FWD(h), 0, y + yo + at);
  } else {
    for (; c < cols; c++, at++) {
      float h = x[xo + at] + bias[b + c];
      x[xo + at] = h;
      y[yo + at] = GELU_FWD(h);
    }
  }
}

/* bias_grad_finish for each model (item (c, k)): its `parts` partial sums
 * in part order into its dbias at dbo + k * dbstride. A model of a single
 * part takes the part as it is, as the one-model path writes its only
 * part straight into dbias (0 + s would turn a -0 into +0). */
__kernel void bias_grad_finish_models(__global const float *part, uint parts, uint cols, __global float *db,
                                      uint dbo, uint dbstride, int accumulate) {
  uint c = get_global_id(0);
  uint k = get_global_id(1);
  if (c >= cols) return;
  __global const float *pk = part + (size_t)k * parts * cols;
  float s;
  if (parts == 1) {
    s = pk[c];
  } else {
    s = 0.0f;
    for (uint p = 0; p < parts; p++) s += pk[(size_t)p * cols + c];
  }
  size_t o = dbo + (size_t)k * dbstride + c;
  db[o] = accumulate ? db[o] + s : s;
}
