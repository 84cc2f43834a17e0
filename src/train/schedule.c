/* src/train/schedule.c — see schedule.h. */
#include <math.h>
#include <stdlib.h>

#include "train/schedule.h"

double cls_schedule_lr(double lr, double min_ratio, uint64_t warmup, uint64_t total, uint64_t step) {
  if (warmup > total) warmup = total;
  if (step < warmup) return lr * (double)(step + 1) / (double)warmup;
  const double min_lr = lr * min_ratio;
  const double span = total > warmup ? (double)(total - warmup) : 1.0;
  double p = (double)(step - warmup) / span;
  if (p > 1.0) p = 1.0; /* steps past the budget (none in a run) stay at the floor */
  return min_lr + (lr - min_lr) * 0.5 * (1.0 + cos(3.14159265358979323846 * p));
}

uint64_t *cls_schedule_eval_steps(uint64_t total, uint64_t every, size_t n, size_t *count) {
  *count = 0;
  if (!total) return NULL;
  size_t cap;
  if (every) {
    cap = (size_t)(total / every) + 1;
  } else {
    if (n < 1) n = 1;
    cap = n + 1;
  }
  uint64_t *s = malloc(cap * sizeof *s);
  if (!s) return NULL;
  size_t k = 0;
  if (every) {
    for (uint64_t t = every; t < total; t += every) s[k++] = t;
  } else if (n > 1) {
    for (size_t i = 0; i + 1 < n; i++) {
      /* round(total^(i/(n-1))): 1 at i = 0, total at i = n-1 (added below). */
      uint64_t t = (uint64_t)llround(pow((double)total, (double)i / (double)(n - 1)));
      if (t < 1) t = 1;
      if (t >= total) break;
      if (k == 0 || t > s[k - 1]) s[k++] = t;
    }
  }
  s[k++] = total;
  *count = k;
  return s;
}
