/*
 * src/core/clock.h — wall-clock timing shared by every layer: a monotonic
 * clock in seconds, and the median of repeated measurements.
 */
#ifndef CLSCALE_CORE_CLOCK_H
#define CLSCALE_CORE_CLOCK_H

#include <stddef.h>

/* Seconds on the monotonic clock (only differences mean anything). */
double cls_now(void);

/* The median of x[0..n) (n >= 1); sorts x in place. */
double cls_median(double *x, size_t n);

#endif
