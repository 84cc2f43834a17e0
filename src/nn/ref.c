/* src/nn/ref.c — see ref.h. */
#include <stdlib.h>

#include "nn/ref.h"
#include "ops/rows_ref.h"

void cls_nn_ref_linear(const double *x, size_t rows, size_t in, size_t out, const float *W, const float *b,
                       double *y, int residual) {
  for (size_t r = 0; r < rows; r++)
    for (size_t o = 0; o < out; o++) {
      double acc = b[o];
      for (size_t i = 0; i < in; i++) acc += x[r * in + i] * W[i * out + o];
      y[r * out + o] = residual ? y[r * out + o] + acc : acc;
    }
}

/* Gain and shift as doubles, for the ops layer's references. */
static double *widen(const float *g, const float *b, size_t C) {
  double *d = malloc(2 * C * sizeof *d);
  if (!d) return NULL;
  for (size_t j = 0; j < C; j++) d[j] = g[j], d[C + j] = b ? b[j] : 0.0;
  return d;
}

int cls_nn_ref_layernorm(const double *x, size_t rows, size_t C, double eps, const float *g, const float *b,
                         double *y) {
  double *gb = widen(g, b, C);
  if (!gb) return -1;
  cls__ref_layernorm_forward(rows, C, eps, x, gb, gb + C, y, NULL, NULL);
  free(gb);
  return 0;
}

int cls_nn_ref_rmsnorm(const double *x, size_t rows, size_t C, double eps, const float *g, double *y) {
  double *gb = widen(g, NULL, C);
  if (!gb) return -1;
  cls__ref_rmsnorm_forward(rows, C, eps, x, gb, y, NULL);
  free(gb);
  return 0;
}
