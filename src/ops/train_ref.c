/* src/ops/train_ref.c — double-precision CPU references; see train_ref.h. */
#include <math.h>
#include <stdlib.h>

#include "ops/train_ref.h"

#define GELU_K 0.7978845608028654 /* sqrt(2/pi) */
#define GELU_C 0.044715

double cls__ref_gelu(double x) {
  return 0.5 * x * (1.0 + tanh(GELU_K * (x + GELU_C * x * x * x)));
}

double cls__ref_gelu_grad(double x) {
  double t = tanh(GELU_K * (x + GELU_C * x * x * x));
  return 0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * GELU_K * (1.0 + 3.0 * GELU_C * x * x);
}

void cls__ref_gelu_forward(size_t n, const double *x, double *y) {
  for (size_t i = 0; i < n; i++) y[i] = cls__ref_gelu(x[i]);
}

void cls__ref_gelu_backward(size_t n, const double *x, const double *dy, double *dx) {
  for (size_t i = 0; i < n; i++) dx[i] = dy[i] * cls__ref_gelu_grad(x[i]);
}

void cls__ref_add_scaled(size_t n, double alpha, const double *a, double beta, const double *b, double *y) {
  for (size_t i = 0; i < n; i++) y[i] = alpha * a[i] + beta * b[i];
}

void cls__ref_bias_add(size_t rows, size_t cols, const double *bias, double *y) {
  for (size_t r = 0; r < rows; r++)
    for (size_t c = 0; c < cols; c++) y[r * cols + c] += bias[c];
}

void cls__ref_bias_backward(size_t rows, size_t cols, const double *dy, double *dbias, int accumulate) {
  for (size_t c = 0; c < cols; c++) {
    long double s = 0;
    for (size_t r = 0; r < rows; r++) s += dy[r * cols + c];
    dbias[c] = (double)s + (accumulate ? dbias[c] : 0.0);
  }
}

int cls__ref_token_valid(double t, size_t vocab) {
  return t >= 0 && t < (double)vocab && t == floor(t);
}

void cls__ref_embedding_forward(size_t batch, size_t T, size_t vocab, size_t dim, const double *tokens,
                                const double *wte, const double *wpe, double *out) {
  for (size_t p = 0; p < batch * T; p++) {
    size_t t = p % T;
    int ok = cls__ref_token_valid(tokens[p], vocab);
    size_t v = ok ? (size_t)tokens[p] : 0;
    for (size_t c = 0; c < dim; c++)
      out[p * dim + c] = ok ? wte[v * dim + c] + (wpe ? wpe[t * dim + c] : 0.0) : NAN;
  }
}

void cls__ref_embedding_backward(size_t batch, size_t T, size_t vocab, size_t dim, const double *tokens,
                                 const double *dout, double *dwte, double *dwpe, int accumulate) {
  if (!accumulate) {
    for (size_t i = 0; i < vocab * dim; i++) dwte[i] = 0;
    if (dwpe)
      for (size_t i = 0; i < T * dim; i++) dwpe[i] = 0;
  }
  for (size_t p = 0; p < batch * T; p++) {
    if (dwpe)
      for (size_t c = 0; c < dim; c++) dwpe[(p % T) * dim + c] += dout[p * dim + c];
    if (!cls__ref_token_valid(tokens[p], vocab)) continue;
    size_t v = (size_t)tokens[p];
    for (size_t c = 0; c < dim; c++) dwte[v * dim + c] += dout[p * dim + c];
  }
}

void cls__ref_cross_entropy(size_t rows, size_t vocab, const double *logits, const double *targets, double *losses,
                            double *dlogits, double grad_scale) {
  for (size_t r = 0; r < rows; r++) {
    const double *x = logits + r * vocab;
    if (targets[r] == -1.0) { /* ignored: no loss, no gradient */
      if (losses) losses[r] = 0;
      if (dlogits)
        for (size_t j = 0; j < vocab; j++) dlogits[r * vocab + j] = 0;
      continue;
    }
    int ok = cls__ref_token_valid(targets[r], vocab);
    size_t t = ok ? (size_t)targets[r] : 0;
    double m = -INFINITY;
    for (size_t j = 0; j < vocab; j++) m = fmax(m, x[j]);
    double s = 0;
    for (size_t j = 0; j < vocab; j++) s += exp(x[j] - m);
    double xt = x[t];
    if (losses) losses[r] = ok ? m + log(s) - xt : NAN;
    if (dlogits)
      for (size_t j = 0; j < vocab; j++) {
        double d = exp(x[j] - m) / s - (j == t ? 1.0 : 0.0);
        dlogits[r * vocab + j] = ok ? d * grad_scale : NAN;
      }
  }
}

void cls__ref_mse(size_t n, const double *pred, const double *target, double *err, double *dpred,
                  double grad_scale) {
  for (size_t i = 0; i < n; i++) {
    double d = pred[i] - target[i];
    if (err) err[i] = d * d;
    if (dpred) dpred[i] = 2.0 * d * grad_scale;
  }
}

static long double pairwise(int kind, size_t n, const double *x) {
  if (n <= 8) {
    long double s = 0;
    for (size_t i = 0; i < n; i++) s += kind ? (long double)x[i] * x[i] : (long double)x[i];
    return s;
  }
  return pairwise(kind, n / 2, x) + pairwise(kind, n - n / 2, x + n / 2);
}

double cls__ref_reduce(int kind, size_t n, const double *x) {
  return (double)pairwise(kind, n, x);
}

void cls__ref_adamw_step(size_t n, const cls_adamw_params *hp, double *param, const double *grad, double *m,
                         double *v, double grad_sumsq) {
  double c = 1.0;
  if (hp->max_norm > 0) {
    double norm = sqrt(grad_sumsq);
    c = norm > hp->max_norm ? hp->max_norm / norm : 1.0;
  }
  double b1 = hp->beta1, b2 = hp->beta2, lr = hp->lr;
  double bc1 = 1.0 - pow(b1, (double)hp->step), bc2 = 1.0 - pow(b2, (double)hp->step);
  for (size_t i = 0; i < n; i++) {
    double g = grad[i] * c;
    param[i] *= 1.0 - lr * hp->weight_decay;
    m[i] = b1 * m[i] + (1.0 - b1) * g;
    v[i] = b2 * v[i] + (1.0 - b2) * g * g;
    param[i] -= lr / bc1 * m[i] / (sqrt(v[i] / bc2) + hp->eps);
  }
}
