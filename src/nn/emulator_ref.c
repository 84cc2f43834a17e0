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
#include "nn/emulator_internal.h"
#include "ops/attention_ref.h"

static void rmsnorm(const double *x, size_t rows, size_t C, const float *g, double *y) {
  const double eps = cls__emulator_eps();
  for (size_t r = 0; r < rows; r++) {
    const double *xr = x + r * C;
    double ms = 0;
    for (size_t j = 0; j < C; j++) ms += xr[j] * xr[j];
    double rstd = 1.0 / sqrt(ms / (double)C + eps);
    for (size_t j = 0; j < C; j++) y[r * C + j] = xr[j] * rstd * g[j];
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
  if (!in || !x || !n || !q || !att || !fc || !lab || !tok || !tokn || !kv || !k || !v || !probs || !pred)
    goto done;
#define PT(name) (params + pt->t[cls__emulator_index(e, (name))].offset)
  double *feat = in, *labd = in + R * F;
  for (size_t i = 0; i < R * F; i++) feat[i] = features[i];
  for (size_t i = 0; i < B * NL; i++) labd[i] = labels[i];
  /* The wavelength stream and the label tokens. */
  linear(feat, R, F, d, PT("wl.w"), PT("wl.b"), x, 0);
  linear(labd, B, NL, Hm, PT("lab.fc.w"), PT("lab.fc.b"), lab, 0);
  for (size_t i = 0; i < B * Hm; i++) lab[i] = gelu(lab[i]);
  linear(lab, B, Hm, T * d, PT("lab.proj.w"), PT("lab.proj.b"), tok, 0);
  rmsnorm(tok, BT, d, PT("tok.norm.g"), tokn);
  char name[64];
#define NAME(s) (snprintf(name, sizeof name, "h%zu.%s", l, s), name)
  for (size_t l = 0; l < c->depth; l++) {
    rmsnorm(x, R, d, PT(NAME("norm1.g")), n);
    linear(n, R, d, d, PT(NAME("attn.q.w")), PT(NAME("attn.q.b")), q, 0);
    linear(tokn, BT, d, 2 * d, PT(NAME("attn.kv.w")), PT(NAME("attn.kv.b")), kv, 0);
    for (size_t r = 0; r < BT; r++)
      for (size_t j = 0; j < d; j++) {
        k[r * d + j] = kv[r * 2 * d + j];
        v[r * d + j] = kv[r * 2 * d + d + j];
      }
    cls_ref_attention_forward(B, P, T, H, dh, cls__emulator_attn_scale(e), 0, q, k, v, probs, att);
    linear(att, R, d, d, PT(NAME("attn.o.w")), PT(NAME("attn.o.b")), x, 1);
    rmsnorm(x, R, d, PT(NAME("norm2.g")), n);
    linear(n, R, d, 4 * d, PT(NAME("mlp.fc.w")), PT(NAME("mlp.fc.b")), fc, 0);
    for (size_t i = 0; i < R * 4 * d; i++) fc[i] = gelu(fc[i]);
    linear(fc, R, 4 * d, d, PT(NAME("mlp.proj.w")), PT(NAME("mlp.proj.b")), x, 1);
  }
#undef NAME
  /* The head and the loss. */
  rmsnorm(x, R, d, PT("head.norm.g"), n);
  linear(n, R, d, d, PT("head.fc.w"), PT("head.fc.b"), q, 0);
  for (size_t i = 0; i < R * d; i++) q[i] = gelu(q[i]);
  linear(q, R, d, 1, PT("head.out.w"), PT("head.out.b"), pred, 0);
#undef PT
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
