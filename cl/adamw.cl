/*
 * cl/adamw.cl - one AdamW step over a contiguous range of parameters
 * (src/ops/adamw.c launches it).
 *
 * The host folds the step's constants: decay = 1 - lr * weight_decay,
 * step_size = lr / (1 - beta1^t), inv_bc2 = 1 / sqrt(1 - beta2^t).
 * Clipping by global norm reads the sum of squares of all gradients from
 * a one-float buffer that an earlier kernel on the same in-order queue
 * wrote, so the host never waits for it; every work-item reads the same
 * float (one cache line). A NaN or infinite norm gives a NaN scale, which
 * turns the parameters NaN: a divergence the training loop sees.
 *
 * Each work-item updates ELT_VEC consecutive parameters as vectors (the
 * same device parameter as the GELU kernels: explicit vectors for CPUs,
 * 1 or 4 for GPUs); the last item may take a partial vector one by one.
 */


#include "eltvec.h"

#define ADAMW(T, pp, gp, mp, vp)                                                                                 \
  do {                                                                                                           \
    T gi = LOAD(gp) * c;                                                                                         \
    T mi = mad(beta1, LOAD(mp), (1.0f - beta1) * gi);                                                            \
    T vi = mad(beta2, LOAD(vp), (1.0f - beta2) * gi * gi);                                                       \
    STORE(mi, mp);                                                                                               \
    STORE(vi, vp);                                                                                               \
    STORE(LOAD(pp) * decay - step_size * mi / mad(sqrt(vi), inv_bc2, eps), pp);                                  \
  } while (0)

__kernel void adamw_step(__global float *p, uint po, __global const float *g, uint go, __global float *m, uint mo,
                         __global float *v, uint vo, uint n, float beta1, float beta2, float eps, float decay,
                         float step_size, float inv_bc2, __global const float *sumsq, uint so, float max_norm) {
  uint i = get_global_id(0) * ELT_VEC;
  if (i >= n) return;
  float c = 1.0f;
  if (max_norm > 0.0f) {
    float norm = sqrt(sumsq[so]);
    c = isfinite(norm) ? (norm > max_norm ? max_norm / norm : 1.0f) : NAN;
  }
  if (n - i >= ELT_VEC) {
#define LOAD(ptr) VLOAD(0, ptr)
#define STORE(val, ptr) VSTORE(val, 0, ptr)
    ADAMW(floatv, p + po + i, g + go + i, m + mo + i, v + vo + i);
#undef LOAD
#undef STORE
  } else {
#define LOAD(ptr) (*(ptr))
#define STORE(val, ptr) (*(ptr) = (val))
    for (; i < n; i++) ADAMW(float, p + po + i, g + go + i, m + mo + i, v + vo + i);
#undef LOAD
#undef STORE
  }
}

/* The whole slab in one launch: groups of parameters with their own rate
 * multiplier and weight decay (cls_adamw_step_groups). The table holds 4
 * words per group: the end (a uint), lr_mult and weight_decay (floats
 * bits), one spare; read as uints so that the end's bits are never taken
 * for a float. A work-item finds the group of its first parameter by
 * binary search (a few dozen groups: cached loads), folds the group's
 * constants the way the host does for adamw_step, and takes the vector
 * path when its ELT_VEC parameters lie in one group (always, for slabs
 * whose tensors start on multiples of ELT_VEC), else one by one. */
__kernel void adamw_groups(__global float *p, uint po, __global const float *g, uint go, __global float *m, uint mo,
                           __global float *v, uint vo, uint n, float beta1, float beta2, float eps, float lr,
                           float inv_bc1, float inv_bc2, __global const float *sumsq, uint so, float max_norm,
                           __global const uint *tab, uint to, uint count) {
  uint i = get_global_id(0) * ELT_VEC;
  if (i >= n) return;
  float c = 1.0f;
  if (max_norm > 0.0f) {
    float norm = sqrt(sumsq[so]);
    c = isfinite(norm) ? (norm > max_norm ? max_norm / norm : 1.0f) : NAN;
  }
  uint lo = 0, hi = count - 1;
  while (lo < hi) {
    uint mid = (lo + hi) / 2;
    if (tab[to + 4 * mid] > i)
      hi = mid;
    else
      lo = mid + 1;
  }
  uint end = tab[to + 4 * lo];
  float lr_g = lr * as_float(tab[to + 4 * lo + 1]);
  float decay = 1.0f - lr_g * as_float(tab[to + 4 * lo + 2]);
  float step_size = lr_g * inv_bc1;
  if (n - i >= ELT_VEC && end - i >= ELT_VEC) {
#define LOAD(ptr) VLOAD(0, ptr)
#define STORE(val, ptr) VSTORE(val, 0, ptr)
    ADAMW(floatv, p + po + i, g + go + i, m + mo + i, v + vo + i);
#undef LOAD
#undef STORE
  } else {
    uint last = n - i < ELT_VEC ? n : i + ELT_VEC;
#define LOAD(ptr) (*(ptr))
#define STORE(val, ptr) (*(ptr) = (val))
    for (; i < last; i++) {
      if (i >= end) { /* the next group (ends strictly increase, the last is n) */
        lo++;
        end = tab[to + 4 * lo];
        lr_g = lr * as_float(tab[to + 4 * lo + 1]);
        decay = 1.0f - lr_g * as_float(tab[to + 4 * lo + 2]);
        step_size = lr_g * inv_bc1;
      }
      ADAMW(float, p + po + i, g + go + i, m + mo + i, v + vo + i);
    }
#undef LOAD
#undef STORE
  }
}
