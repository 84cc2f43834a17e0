/* src/ops/attention_ref.c — see attention_ref.h. Plain loops, no cleverness:
 * this is what the device result is checked against. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ops/attention_ref.h"

void cls_ref_attention_forward(size_t B, size_t tq, size_t tk, size_t H, size_t dh, double scale, int causal,
                               const double *q, const double *k, const double *v, double *probs, double *out) {
  const size_t C = H * dh;
  for (size_t b = 0; b < B; b++)
    for (size_t h = 0; h < H; h++)
      for (size_t i = 0; i < tq; i++) {
        double *p = probs + ((b * H + h) * tq + i) * tk;
        double mx = -INFINITY;
        for (size_t j = 0; j < tk; j++) {
          if (causal && j > i) {
            p[j] = -INFINITY;
            continue;
          }
          double sdot = 0;
          for (size_t d = 0; d < dh; d++)
            sdot += q[(b * tq + i) * C + h * dh + d] * k[(b * tk + j) * C + h * dh + d];
          p[j] = scale * sdot;
          if (p[j] > mx) mx = p[j];
        }
        double sum = 0;
        for (size_t j = 0; j < tk; j++) {
          p[j] = (causal && j > i) ? 0.0 : exp(p[j] - mx);
          sum += p[j];
        }
        for (size_t j = 0; j < tk; j++) p[j] /= sum;
        for (size_t d = 0; d < dh; d++) {
          double acc = 0;
          for (size_t j = 0; j < tk; j++) acc += p[j] * v[(b * tk + j) * C + h * dh + d];
          out[(b * tq + i) * C + h * dh + d] = acc;
        }
      }
}

int cls_ref_attention_backward(size_t B, size_t tq, size_t tk, size_t H, size_t dh, double scale, const double *q,
                               const double *k, const double *v, const double *probs, const double *dout,
                               double *dq, double *dk, double *dv) {
  const size_t C = H * dh;
  double *dp = malloc(tk * sizeof *dp);
  if (!dp) return -1;
  memset(dq, 0, B * tq * C * sizeof *dq);
  memset(dk, 0, B * tk * C * sizeof *dk);
  memset(dv, 0, B * tk * C * sizeof *dv);
  for (size_t b = 0; b < B; b++)
    for (size_t h = 0; h < H; h++)
      for (size_t i = 0; i < tq; i++) {
        const double *p = probs + ((b * H + h) * tq + i) * tk;
        const double *go = dout + (b * tq + i) * C + h * dh;
        /* dP_ij = dout_i . v_j ; dS_ij = scale * P_ij (dP_ij - sum_l P_il dP_il) */
        double dot = 0;
        for (size_t j = 0; j < tk; j++) {
          double acc = 0;
          for (size_t d = 0; d < dh; d++) acc += go[d] * v[(b * tk + j) * C + h * dh + d];
          dp[j] = acc;
          dot += p[j] * acc;
        }
        for (size_t j = 0; j < tk; j++) {
          double ds = scale * p[j] * (dp[j] - dot);
          for (size_t d = 0; d < dh; d++) {
            dq[(b * tq + i) * C + h * dh + d] += ds * k[(b * tk + j) * C + h * dh + d];
            dk[(b * tk + j) * C + h * dh + d] += ds * q[(b * tq + i) * C + h * dh + d];
            dv[(b * tk + j) * C + h * dh + d] += p[j] * go[d];
          }
        }
      }
  free(dp);
  return 0;
}
