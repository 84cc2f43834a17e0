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
#include "nn/ref.h"
#include "ops/attention_ref.h"
#include "ops/train_ref.h"

/* Exposes what the reference needs of the model without widening gpt.h. */
#include "gpt_internal.h"

/* The forward pass: the mean loss against targets (when not NULL), the
 * logits of every position into logits (when not NULL). */
static double reference(const cls_gpt *g, const float *params, const int32_t *tokens, const int32_t *targets,
                        size_t B, size_t T, double *logits) {
  const cls_gpt_config *c = cls__gpt_config(g);
  const cls_param_table *pt = cls_gpt_params(g);
  const size_t BT = B * T, C = c->width, V = c->vocab, H = c->heads, dh = C / H;
  double *x = malloc(BT * C * sizeof *x), *ln = malloc(BT * C * sizeof *ln),
         *qkv = malloc(BT * 3 * C * sizeof *qkv);
  double *q = malloc(BT * C * sizeof *q), *k = malloc(BT * C * sizeof *k), *v = malloc(BT * C * sizeof *v);
  double *att = malloc(BT * C * sizeof *att), *probs = malloc(B * H * T * T * sizeof *probs);
  double *fc = malloc(BT * 4 * C * sizeof *fc);
  double loss = NAN;
  int bad = 0; /* a norm ran out of host memory */
  if (!x || !ln || !qkv || !q || !k || !v || !att || !probs || !fc) goto done;
#define PT(i) (params + pt->t[(i)].offset)
  const int wte = cls__gpt_index(g, "wte"), wpe = cls__gpt_index(g, "wpe"), l0 = cls__gpt_index(g, "h0.ln1.g");
  for (size_t p = 0; p < BT; p++)
    for (size_t j = 0; j < C; j++) x[p * C + j] = (double)PT(wte)[tokens[p] * C + j] + PT(wpe)[(p % T) * C + j];
  for (size_t l = 0; l < c->depth; l++) {
    const int w = l0 + (int)l * 12; /* PER_LAYER tensors per block, in gpt.c's order */
    bad |= cls_nn_ref_layernorm(x, BT, C, 1e-5, PT(w + 0), PT(w + 1), ln);
    cls_nn_ref_linear(ln, BT, C, 3 * C, PT(w + 2), PT(w + 3), qkv, 0);
    for (size_t p = 0; p < BT; p++)
      for (size_t j = 0; j < C; j++) {
        q[p * C + j] = qkv[p * 3 * C + j];
        k[p * C + j] = qkv[p * 3 * C + C + j];
        v[p * C + j] = qkv[p * 3 * C + 2 * C + j];
      }
    cls_ref_attention_forward(B, T, T, H, dh, cls__gpt_attn_scale(g), 1, q, k, v, probs, att);
    cls_nn_ref_linear(att, BT, C, C, PT(w + 4), PT(w + 5), x, 1);
    bad |= cls_nn_ref_layernorm(x, BT, C, 1e-5, PT(w + 6), PT(w + 7), ln);
    cls_nn_ref_linear(ln, BT, C, 4 * C, PT(w + 8), PT(w + 9), fc, 0);
    cls__ref_gelu_forward(BT * 4 * C, fc, fc);
    cls_nn_ref_linear(fc, BT, 4 * C, C, PT(w + 10), PT(w + 11), x, 1);
  }
  const int lnf = cls__gpt_index(g, "lnf.g");
  bad |= cls_nn_ref_layernorm(x, BT, C, 1e-5, PT(lnf), PT(lnf + 1), ln);
  const double m = cls__gpt_out_mult(g);
  if (bad) goto done;
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
  size_t counted = 0; /* targets not ignored: the mean is over them */
  for (size_t p = 0; p < BT; p++) {
    double mx = -INFINITY, sum = 0;
    for (size_t t = 0; t < V; t++) {
      double acc = 0;
      for (size_t j = 0; j < C; j++) acc += ln[p * C + j] * PT(wte)[t * C + j];
      row[t] = m * acc;
      if (row[t] > mx) mx = row[t];
    }
    if (logits) memcpy(logits + p * V, row, V * sizeof *row);
    if (!targets || targets[p] == CLS_IGNORE_TARGET) continue;
    counted++;
    for (size_t t = 0; t < V; t++) sum += exp(row[t] - mx);
    loss += log(sum) + mx - row[targets[p]];
  }
  free(own);
  loss = counted ? loss / (double)counted : 0.0;
#undef PT
done:
  free(x), free(ln), free(qkv), free(q), free(k), free(v), free(att), free(probs), free(fc);
  return loss;
}

double cls_gpt_reference_loss(const cls_gpt *g, const float *params, const int32_t *tokens, const int32_t *targets,
                              size_t B, size_t T) {
  return reference(g, params, tokens, targets, B, T, NULL);
}

int cls_gpt_reference_logits(const cls_gpt *g, const float *params, const int32_t *tokens, size_t B, size_t T,
                             double *logits) {
  return isnan(reference(g, params, tokens, NULL, B, T, logits)) ? -1 : 0;
}
