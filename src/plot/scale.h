/*
 * src/plot/scale.h — axis scales (linear, log), the data→pixel transform, tick
 * placement and tick-label formatting (10^k, SI suffixes).
 */
#ifndef CLSCALE_PLOT_SCALE_H
#define CLSCALE_PLOT_SCALE_H

#include <stdbool.h>
#include <stddef.h>

#include "clscale/status.h"

typedef enum { CLS_SCALE_LINEAR = 0, CLS_SCALE_LOG } cls_scale_kind;

/* Maps data [lo,hi] onto pixels [p0,p1] (p0 > p1 for a y axis, which grows
 * upwards while pixel rows grow downwards). */
typedef struct cls_axis_scale {
  cls_scale_kind kind;
  double lo, hi;
  double p0, p1;
} cls_axis_scale;

/* The pixel coordinate of v; NaN when v cannot be shown (non-finite, or not
 * positive on a log scale), so callers skip it instead of drawing it at 0. */
double cls_scale_to_px(const cls_axis_scale *s, double v);
/* The data value at pixel coordinate p. */
double cls_scale_from_px(const cls_axis_scale *s, double p);

typedef enum {
  CLS_LABEL_PLAIN = 0, /* 0.5, 3, 10^{4}, 2\times10^{-5} */
  CLS_LABEL_SI         /* 500, 10K, 2.5M, 1B, 3T */
} cls_label_style;

typedef struct cls_tick {
  double value;
  bool major;    /* long tick (and grid line) */
  bool labelled; /* has a label; false for minor ticks and thinned majors */
  char label[48];
} cls_tick;

/* Chooses ticks for s. max_labels bounds the number of labelled ticks (the
 * caller derives it from the axis length and the label size); at least two
 * labelled ticks are produced whenever the range allows. *out is malloc'd. */
cls_status cls_scale_ticks(const cls_axis_scale *s, int max_labels, cls_label_style style, cls_tick **out,
                           size_t *n, char *err, size_t err_len);

/* Formats v for a tick label (markup for the plot font). step is the tick
 * spacing on a linear axis (it sets the number of decimals), or 0 to use as
 * many digits as v needs, up to three significant ones. */
void cls_format_number(double v, double step, cls_label_style style, char *buf, size_t len);

/* Rounds [*lo,*hi] outwards a little so data does not touch the frame: by a
 * fraction of the span on linear axes and of the decades on log axes. */
void cls_scale_pad(cls_scale_kind kind, double *lo, double *hi, double frac);

#endif
