/*
 * src/nn/emulator_ref.c — the emulator's forward pass in double precision on
 * the host, from the same parameter slab: what the device's forward pass is
 * checked against, and the loss whose finite differences check its backward
 * pass. Plain loops, in the order of cls_emulator_forward; tensors are
 * found by name, so this file does not depend on the table's order.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/emulator.h"
#include "emulator_internal.h"
#include "nn/ref.h"
#include "ops/attention_ref.h"
#include "ops/train_ref.h"

double cls_emulator_reference_loss(const cls_emulator *e, const float *params, const float *labels,
                                   const float *features, const float *target, size_t B, size_t P, double *flux) {
  const cls_emulator_config *c = cls_emulator_get_config(e);
  const cls_param_table *pt = cls_emulator_params(e);
  const size_t R = B * P, d = c->width, H = c->heads, dh = d / H, T = c->n_tokens, BT = B * T;
  const size_t F = 2 * c->n_freq, NL = c->n_labels, Hm = c->label_hidden;
  double *in = malloc((R * F + B * NL) * sizeof *in), *x = malloc(R * d * sizeof *x),
         *n = malloc(R * d * sizeof *n);
  double *q = malloc(R * d * sizeof *q), *att = malloc(R * d * sizeof *att), *fc = malloc(R * 4 * d * sizeof *fc);
  double *lab = malloc(B * Hm * sizeof *lab), *tok = malloc(BT * d * sizeof *tok),
         *tokn = malloc(BT * d * sizeof *tokn);
  double *kv = malloc(BT * 2 * d * sizeof *kv), *k = malloc(BT * d * sizeof *k), *v = malloc(BT * d * sizeof *v);
  double *probs = malloc(B * H * P * T * sizeof *probs), *pred = malloc(R * sizeof *pred);
  double loss = NAN;
  const double eps = cls__emulator_eps();
  int bad = 0; /* a norm ran out of host memory */
  if (!in || !x || !n || !q || !att || !fc || !lab || !tok || !tokn || !kv || !k || !v || !probs || !pred)
    goto done;
#define PT(name) (params + pt->t[cls__emulator_index(e, (name))].offset)
  double *feat = in, *labd = in + R * F;
  for (size_t i = 0; i < R * F; i++) feat[i] = features[i];
  for (size_t i = 0; i < B * NL; i++) labd[i] = labels[i];
  /* The wavelength stream and the label tokens. */
  cls_nn_ref_linear(feat, R, F, d, PT("wl.w"), PT("wl.b"), x, 0);
  cls_nn_ref_linear(labd, B, NL, Hm, PT("lab.fc.w"), PT("lab.fc.b"), lab, 0);
  cls__ref_gelu_forward(B * Hm, lab, lab);
  cls_nn_ref_linear(lab, B, Hm, T * d, PT("lab.proj.w"), PT("lab.proj.b"), tok, 0);
  bad |= cls_nn_ref_rmsnorm(tok, BT, d, eps, PT("tok.norm.g"), tokn);
  char name[64];
#define NAME(s) (snprintf(name, sizeof name, "h%zu.%s", l, s), name)
  for (size_t l = 0; l < c->depth; l++) {
    bad |= cls_nn_ref_rmsnorm(x, R, d, eps, PT(NAME("norm1.g")), n);
    cls_nn_ref_linear(n, R, d, d, PT(NAME("attn.q.w")), PT(NAME("attn.q.b")), q, 0);
    cls_nn_ref_linear(tokn, BT, d, 2 * d, PT(NAME("attn.kv.w")), PT(NAME("attn.kv.b")), kv, 0);
    for (size_t r = 0; r < BT; r++)
      for (size_t j = 0; j < d; j++) {
        k[r * d + j] = kv[r * 2 * d + j];
        v[r * d + j] = kv[r * 2 * d + d + j];
      }
    cls_ref_attention_forward(B, P, T, H, dh, cls__emulator_attn_scale(e), 0, q, k, v, probs, att);
    cls_nn_ref_linear(att, R, d, d, PT(NAME("attn.o.w")), PT(NAME("attn.o.b")), x, 1);
    bad |= cls_nn_ref_rmsnorm(x, R, d, eps, PT(NAME("norm2.g")), n);
    cls_nn_ref_linear(n, R, d, 4 * d, PT(NAME("mlp.fc.w")), PT(NAME("mlp.fc.b")), fc, 0);
    cls__ref_gelu_forward(R * 4 * d, fc, fc);
    cls_nn_ref_linear(fc, R, 4 * d, d, PT(NAME("mlp.proj.w")), PT(NAME("mlp.proj.b")), x, 1);
  }
#undef NAME
  /* The head and the loss. */
  bad |= cls_nn_ref_rmsnorm(x, R, d, eps, PT("head.norm.g"), n);
  cls_nn_ref_linear(n, R, d, d, PT("head.fc.w"), PT("head.fc.b"), q, 0);
  cls__ref_gelu_forward(R * d, q, q);
  cls_nn_ref_linear(q, R, d, 1, PT("head.out.w"), PT("head.out.b"), pred, 0);
#undef PT
  if (bad) goto done;
  loss = 0;
  for (size_t i = 0; i < R; i++) {
    double err = pred[i] - target[i];
    loss += err * err;
    if (flux) flux[i] = pred[i];
  }
  loss /= (double)R;
done:
  free(in), free(x), free(n), free(q), free(att), free(fc), free(lab), free(tok), free(tokn);
  free(kv), free(k), free(v), free(probs), free(pred);
  return loss;
}
