/* src/plot/figure_internal.h — the figure structures shared by figure.c and
 * render.c; not for use outside src/plot. */
#ifndef CLSCALE_PLOT_FIGURE_INTERNAL_H
#define CLSCALE_PLOT_FIGURE_INTERNAL_H

#include "plot/figure.h"

enum { SERIES_LINE, SERIES_BAND };

typedef struct cls_series {
  int kind;
  double *x, *y, *y2; /* y2: upper edge of a band */
  size_t n;
  cls_series_style style;
  char *label;
} cls_series;

struct cls_axes {
  cls_series *series;
  size_t n_series, cap_series;
  cls_scale_kind xkind, ykind;
  cls_label_style xstyle, ystyle;
  double xlim[2], ylim[2];
  char *title, *xlabel, *ylabel;
  bool show_legend;
  bool has_cb;
  double cb_lo, cb_hi;
  cls_scale_kind cb_kind;
  cls_label_style cb_style;
  char *cb_label;
  /* Results of the last render. */
  cls_axis_scale xs, ys;
  bool legend_drawn;
  double legend_box[4];
};

struct cls_figure {
  double width_in, height_in, dpi;
  int rows, cols;
  cls_axes *axes;
  char *title;
};

#endif
