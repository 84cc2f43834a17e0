/*
 * src/ops/sample_ref.c — see sample_ref.h. Written the plain way: the
 * tokens sorted into the order (logit descending, index ascending), the
 * prefixes cut from the sorted list, sums in double.
 */
#include "ops/sample_ref.h"

#include <math.h>
#include <stdlib.h>

#include "core/rng.h"

typedef struct {
  double x;
  size_t i;
} ranked;

static int by_order(const void *pa, const void *pb) {
  const ranked *a = pa, *b = pb;
  if (a->x != b->x) return a->x > b->x ? -1 : 1;
  return a->i < b->i ? -1 : a->i > b->i;
}

int cls_ref_sample_probs(const float *x, size_t vocab, const cls_sample_params *p, double *probs) {
  double xm = -INFINITY;
  size_t am = 0;
  for (size_t i = 0; i < vocab; i++) {
    if (isnan(x[i]) || x[i] == INFINITY) return -1;
    if (x[i] > xm) xm = x[i], am = i;
    probs[i] = 0;
  }
  if (xm == -INFINITY) return -1;
  if (p->greedy) {
    probs[am] = 1;
    return 0;
  }
  ranked *r = malloc(vocab * sizeof *r);
  if (!r) return -1;
  for (size_t i = 0; i < vocab; i++) r[i].x = x[i] == 0 ? 0.0 : (double)x[i], r[i].i = i;
  qsort(r, vocab, sizeof *r, by_order);
  size_t keep = p->top_k && p->top_k < vocab ? p->top_k : vocab;
  double total = 0;
  for (size_t j = 0; j < keep; j++) total += exp(((double)x[r[j].i] - xm) / p->temperature);
  if (p->top_p < 1) {
    const double want = p->top_p * total;
    double have = 0;
    size_t j = 0;
    while (j < keep && have < want) have += exp(((double)x[r[j++].i] - xm) / p->temperature);
    keep = j;
    total = have;
  }
  for (size_t j = 0; j < keep; j++) probs[r[j].i] = exp(((double)x[r[j].i] - xm) / p->temperature) / total;
  free(r);
  return 0;
}

int32_t cls_ref_sample_row(const float *x, size_t vocab, const cls_sample_params *p, uint64_t row,
                           uint32_t position) {
  double *probs = malloc(vocab * sizeof *probs);
  if (!probs || cls_ref_sample_probs(x, vocab, p, probs)) {
    free(probs);
    return -1;
  }
  int32_t tok = -1;
  if (p->greedy) {
    for (size_t i = 0; i < vocab && tok < 0; i++)
      if (probs[i] > 0) tok = (int32_t)i;
  } else {
    uint32_t w[4];
    cls_rng_u32x4(cls_rng_make(p->seed, CLS_SAMPLE_STREAM), row, position, w);
    const double u = (double)(w[0] >> 8) / 16777216.0;
    double acc = 0;
    for (size_t i = 0; i < vocab; i++) {
      if (probs[i] <= 0) continue;
      tok = (int32_t)i; /* the last kept token, should rounding leave u unreached */
      acc += probs[i];
      if (acc > u) break;
    }
  }
  free(probs);
  return tok;
}
