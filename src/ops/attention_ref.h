/*
 * src/ops/attention_ref.h — double-precision CPU reference of multi-head
 * attention, on dense arrays: q (B, Tq, C), k and v (B, Tk, C), out (B, Tq, C),
 * probs (B, H, Tq, Tk), C = H * head_dim. For tests and host forward passes.
 */
#ifndef CLSCALE_OPS_ATTENTION_REF_H
#define CLSCALE_OPS_ATTENTION_REF_H

#include <stddef.h>

void cls_ref_attention_forward(size_t B, size_t tq, size_t tk, size_t H, size_t dh, double scale, int causal,
                               const double *q, const double *k, const double *v, double *probs, double *out);

/* dq, dk, dv are overwritten. Returns -1 when out of memory, else 0. */
int cls_ref_attention_backward(size_t B, size_t tq, size_t tk, size_t H, size_t dh, double scale, const double *q,
                               const double *k, const double *v, const double *probs, const double *dout,
                               double *dq, double *dk, double *dv);

#endif
