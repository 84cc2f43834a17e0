/*
 * src/core/sum.h — compensated summation for host sums of many terms of
 * mixed size (probability masses over millions of items, power-law
 * normalisers): Neumaier's variant of Kahan's, whose error does not grow
 * with the number of terms.
 */
#ifndef CLSCALE_CORE_SUM_H
#define CLSCALE_CORE_SUM_H

#include <math.h>

/* Adds x to the running sum *s with its compensation *c; the sum is *s + *c. */
static inline void cls_sum_add(double *s, double *c, double x) {
  double t = *s + x;
  if (fabs(*s) >= fabs(x))
    *c += (*s - t) + x;
  else
    *c += (x - t) + *s;
  *s = t;
}

#endif
