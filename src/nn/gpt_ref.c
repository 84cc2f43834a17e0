/*
 * src/nn/gpt_ref.c — the GPT's forward pass in double precision on the host,
 * from the same parameter slab: what the device's forward pass is checked
 * against, and the loss whose finite differences check its backward pass.
 * Plain loops, in the order of cls_gpt_forward.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nn/gpt.h"
#include "ops/attention_ref.h"

/* Exposes what the reference needs of the model without widening gpt.h. */
#include "nn/gpt_internal.h"

static void layernorm(const double *x, size_t rows, size_t C, const float *g, const float *b, double *y) {
  for (size_t r = 0; r < rows; r++) {
    const double *xr = x + r * C;
    double mean = 0, var = 0;
    for (size_t j = 0; j < C; j++) mean += xr[j];
    mean /= (double)C;
    for (size_t j = 0; j < C; j++) var += (xr[j] - mean) * (xr[j] - mean);
    double rstd = 1.0 / sqrt(var / (double)C + 1e-5);
    for (size_t j = 0; j < C; j++) y[r * C + j] = (xr[j] - mean) * rstd * g[j] + b[j];
  }
}

/* y (+)= x W + b */
static void linear(const double *x, size_t rows, size_t in, size_t out, const float *W, const float *b, double *y,
                   int residual) {
  for (size_t r = 0; r < rows; r++)
    for (size_t o = 0; o < out; o++) {
      double acc = b[o];
      for (size_t i = 0; i < in; i++) acc += x[r * in + i] * W[i * out + o];
      y[r * out + o] = residual ? y[r * out + o] + acc : acc;
    }
}

static double gelu(double x) {
  const double k = 0.7978845608028654; /* sqrt(2 / pi) */
  return 0.5 * x * (1.0 + tanh(k * (x + 0.044715 * x * x * x)));
}

double cls_gpt_reference_loss(const cls_gpt *g, const float *params, const int32_t *tokens, const int32_t *targets,
                              size_t B, size_t T) {
  const cls_gpt_config *c = cls__gpt_config(g);
  const cls_param_table *pt = cls_gpt_params(g);
  const size_t BT = B * T, C = c->width, V = c->vocab, H = c->heads, dh = C / H;
  double *x = malloc(BT * C * sizeof *x), *ln = malloc(BT * C * sizeof *ln),
         *qkv = malloc(BT * 3 * C * sizeof *qkv);
  double *q = malloc(BT * C * sizeof *q), *k = malloc(BT * C * sizeof *k), *v = malloc(BT * C * sizeof *v);
  double *att = malloc(BT * C * sizeof *att), *probs = malloc(B * H * T * T * sizeof *probs);
  double *fc = malloc(BT * 4 * C * sizeof *fc);
  double loss = NAN;
  if (!x || !ln || !qkv || !q || !k || !v || !att || !probs || !fc) goto done;
#define PT(i) (params + pt->t[(i)].offset)
  const int wte = cls__gpt_index(g, "wte"), wpe = cls__gpt_index(g, "wpe"), l0 = cls__gpt_index(g, "h0.ln1.g");
  for (size_t p = 0; p < BT; p++)
    for (size_t j = 0; j < C; j++) x[p * C + j] = (double)PT(wte)[tokens[p] * C + j] + PT(wpe)[(p % T) * C + j];
  for (size_t l = 0; l < c->depth; l++) {
    const int w = l0 + (int)l * 12; /* PER_LAYER tensors per block, in gpt.c's order */
    layernorm(x, BT, C, PT(w + 0), PT(w + 1), ln);
    linear(ln, BT, C, 3 * C, PT(w + 2), PT(w + 3), qkv, 0);
    for (size_t p = 0; p < BT; p++)
      for (size_t j = 0; j < C; j++) {
        q[p * C + j] = qkv[p * 3 * C + j];
        k[p * C + j] = qkv[p * 3 * C + C + j];
        v[p * C + j] = qkv[p * 3 * C + 2 * C + j];
      }
    cls_ref_attention_forward(B, T, T, H, dh, cls__gpt_attn_scale(g), 1, q, k, v, probs, att);
    linear(att, BT, C, C, PT(w + 4), PT(w + 5), x, 1);
    layernorm(x, BT, C, PT(w + 6), PT(w + 7), ln);
    linear(ln, BT, C, 4 * C, PT(w + 8), PT(w + 9), fc, 0);
    for (size_t i = 0; i < BT * 4 * C; i++) fc[i] = gelu(fc[i]);
    linear(fc, BT, 4 * C, C, PT(w + 10), PT(w + 11), x, 1);
  }
  const int lnf = cls__gpt_index(g, "lnf.g");
  layernorm(x, BT, C, PT(lnf), PT(lnf + 1), ln);
  const double m = cls__gpt_out_mult(g);
  loss = 0;
  double *row = fc; /* V <= 4C is not guaranteed: reuse fc only when it fits */
  double *own = NULL;
  if (V > BT * 4 * C) {
    if (!(own = malloc(V * sizeof *own))) {
      loss = NAN;
      goto done;
    }
    row = own;
  }
  for (size_t p = 0; p < BT; p++) {
    double mx = -INFINITY, sum = 0;
    for (size_t t = 0; t < V; t++) {
      double acc = 0;
      for (size_t j = 0; j < C; j++) acc += ln[p * C + j] * PT(wte)[t * C + j];
      row[t] = m * acc;
      if (row[t] > mx) mx = row[t];
    }
    for (size_t t = 0; t < V; t++) sum += exp(row[t] - mx);
    loss += log(sum) + mx - row[targets[p]];
  }
  free(own);
  loss /= (double)BT;
#undef PT
done:
  free(x), free(ln), free(qkv), free(q), free(k), free(v), free(att), free(probs), free(fc);
  return loss;
}
