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

/* The update of work-item slot i of one slab (p, g, m, v already at the
 * slab's start), each group with its own rate multiplier and weight decay.
 * The table holds 4 words per group: the end (a uint), lr_mult and
 * weight_decay (floats bits), one spare; read as uints so that the end's
 * bits are never taken for a float. The item finds the group of its first
 * parameter by binary search (a few dozen groups: cached loads), folds the
 * group's constants the way the host does for adamw_step, and takes the
 * vector path when its ELT_VEC parameters lie in one group (always, for
 * slabs whose tensors start on multiples of ELT_VEC), else one by one.
 * adamw_groups and adamw_models share it, so a model updated among many
 * gets the same bits as alone. */
static void groups_update(__global float *p, __global const float *g, __global float *m, __global float *v, uint i,
                          uint n, float beta1, float beta2, float eps, float lr, float inv_bc1, float inv_bc2,
                          float c, __global const uint *tab, uint count) {
  uint lo = 0, hi = count - 1;
  while (lo < hi) {
    uint mid = (lo + hi) / 2;
    if (tab[4 * mid] > i)
      hi = mid;
    else
      lo = mid + 1;
  }
  uint end = tab[4 * lo];
  float lr_g = lr * as_float(tab[4 * lo + 1]);
  float decay = 1.0f - lr_g * as_float(tab[4 * lo + 2]);
  float step_size = lr_g * inv_bc1;
  if (n - i >= ELT_VEC && end - i >= ELT_VEC) {
#define LOAD(ptr) VLOAD(0, ptr)
#define STORE(val, ptr) VSTORE(val, 0, ptr)
    ADAMW(floatv, p + i, g + i, m + i, v + i);
#undef LOAD
#undef STORE
  } else {
    uint last = n - i < ELT_VEC ? n : i + ELT_VEC;
#define LOAD(ptr) (*(ptr))
#define STORE(val, ptr) (*(ptr) = (val))
    for (; i < last; i++) {
      if (i >= end) { /* the next group (ends strictly increase, the last is n) */
        lo++;
        end = tab[4 * lo];
        lr_g = lr * as_float(tab[4 * lo + 1]);
        decay = 1.0f - lr_g * as_float(tab[4 * lo + 2]);
        step_size = lr_g * inv_bc1;
      }
      ADAMW(float, p + i, g + i, m + i, v + i);
    }
#undef LOAD
#undef STORE
  }
}

/* The clip scale from a sum of squares (1 when max_norm <= 0). */
static float clip_scale(float sumsq, float max_norm) {
  if (!(max_norm > 0.0f)) return 1.0f;
  float norm = sqrt(sumsq);
  return isfinite(norm) ? (norm > max_norm ? max_norm / norm : 1.0f) : NAN;
}

/* The whole slab in one launch (cls_adamw_step_groups). */
__kernel void adamw_groups(__global float *p, uint po, __global const float *g, uint go, __global float *m, uint mo,
                           __global float *v, uint vo, uint n, float beta1, float beta2, float eps, float lr,
                           float inv_bc1, float inv_bc2, __global const float *sumsq, uint so, float max_norm,
                           __global const uint *tab, uint to, uint count) {
  uint i = get_global_id(0) * ELT_VEC;
  if (i >= n) return;
  float c = max_norm > 0.0f ? clip_scale(sumsq[so], max_norm) : 1.0f;
  groups_update(p + po, g + go, m + mo, v + vo, i, n, beta1, beta2, eps, lr, inv_bc1, inv_bc2, c, tab + to, count);
}

/* K models' slabs side by side in one launch (cls_adamw_step_models):
 * model k's n parameters at k * stride past each array's offset, its
 * clip norm at sumsq[so + k], and its lr, 1 / (1 - beta1^t) and
 * 1 / sqrt(1 - beta2^t) as float bits at margs[mo4 + 4k .. +3] (its own
 * schedule and step). Work-items ipm * k .. ipm * (k + 1) - 1 take model
 * k, each the same parameters as in a launch of its own. */
__kernel void adamw_models(__global float *p, uint po, __global const float *g, uint go, __global float *m, uint mo,
                           __global float *v, uint vo, uint n, float beta1, float beta2, float eps, uint stride,
                           uint ipm, uint models, __global const float *sumsq, uint so, float max_norm, __global const uint *tab,
                           uint to, uint count, __global const uint *margs, uint ao) {
  uint gid = get_global_id(0);
  uint k = gid / ipm;
  if (k >= models) return; /* the launch may round the items up */
  uint i = (gid - k * ipm) * ELT_VEC;
  if (i >= n) return;
  __global const uint *a = margs + ao + 4 * k;
  float c = max_norm > 0.0f ? clip_scale(sumsq[so + k], max_norm) : 1.0f;
  size_t at = (size_t)k * stride;
  groups_update(p + po + at, g + go + at, m + mo + at, v + vo + at, i, n, beta1, beta2, eps, as_float(a[0]),
                as_float(a[1]), as_float(a[2]), c, tab + to, count);
}
