/*
 * src/plot/figure.h — figures made of one or more axes: series (lines with
 * markers, translucent bands), titles and labels, a light grid, a legend
 * placed where it hides the least data, and a viridis colorbar.
 *
 * A figure is described first and rendered afterwards, because the axis
 * limits, the layout and the legend's place depend on all the data.
 * Sizes are in points (1/72 inch) so a figure looks the same at every DPI.
 */
#ifndef CLSCALE_PLOT_FIGURE_H
#define CLSCALE_PLOT_FIGURE_H

#include "plot/plot.h"
#include "plot/scale.h"

typedef struct cls_figure cls_figure;
typedef struct cls_axes cls_axes;

typedef struct cls_series_style {
  cls_rgba color;
  double line_pt;    /* line width; 0 for markers only */
  double dash_pt[4]; /* on/off lengths in points, n_dash 0 for solid */
  int n_dash;
  cls_marker marker;
  double marker_pt; /* marker diameter */
  cls_rgba marker_edge;
  double marker_edge_pt;
  bool no_autoscale; /* a guide (like y = x) that must not widen the axis limits */
} cls_series_style;

/* A solid line of width w points in colour c, no marker. */
cls_series_style cls_style_line(cls_rgba c, double w);
/* Markers only. */
cls_series_style cls_style_markers(cls_rgba c, cls_marker m, double size_pt);

/* width_in × height_in inches at dpi, with rows × cols axes. */
cls_status cls_figure_create(double width_in, double height_in, double dpi, int rows, int cols, cls_figure **out,
                             char *err, size_t err_len);
void cls_figure_destroy(cls_figure *f);
cls_axes *cls_figure_axes(cls_figure *f, int index);
cls_status cls_figure_set_title(cls_figure *f, const char *title);

void cls_axes_set_scales(cls_axes *ax, cls_scale_kind x, cls_scale_kind y);
/* Tick-label style per axis (10^k or SI suffixes). */
void cls_axes_set_label_styles(cls_axes *ax, cls_label_style x, cls_label_style y);
cls_status cls_axes_set_text(cls_axes *ax, const char *title, const char *xlabel, const char *ylabel);
/* Fixed limits (NaN for automatic). */
void cls_axes_set_xlim(cls_axes *ax, double lo, double hi);
void cls_axes_set_ylim(cls_axes *ax, double lo, double hi);
/* Hides the legend even when series have labels. */
void cls_axes_set_legend(cls_axes *ax, bool show);

/* Adds a line/marker series; data are copied. Points with a non-finite
 * coordinate (or a non-positive one on a log axis) are not drawn and break
 * the line. label NULL keeps it out of the legend. */
cls_status cls_axes_add_series(cls_axes *ax, const double *x, const double *y, size_t n,
                               const cls_series_style *style, const char *label);
/* Adds a translucent band between ylo and yhi over x (ascending). */
cls_status cls_axes_add_band(cls_axes *ax, const double *x, const double *ylo, const double *yhi, size_t n,
                             cls_rgba color, const char *label);
/* A colorbar on the right of the axes for values in [lo,hi]. */
cls_status cls_axes_set_colorbar(cls_axes *ax, double lo, double hi, cls_scale_kind kind, cls_label_style style,
                                 const char *label);
/* The colour the colorbar of [lo,hi] gives to v (viridis, stopped before its
 * palest yellow, which would vanish on white). */
cls_rgba cls_colormap(double v, double lo, double hi, cls_scale_kind kind);

/* Renders the figure; *out is a new canvas the caller destroys. */
cls_status cls_figure_render(cls_figure *f, const cls_font *font, cls_canvas **out, char *err, size_t err_len);
/* Renders and writes an RGB PNG (temporary file, then rename). */
cls_status cls_figure_save_png(cls_figure *f, const cls_font *font, const char *path, char *err, size_t err_len);

/* After a render: the transforms and the plot rectangle (pixels) of an axes,
 * so tests can find where a data point was drawn. */
void cls_axes_get_transform(const cls_axes *ax, cls_axis_scale *x, cls_axis_scale *y);
/* After a render: the legend box (x0,y0,x1,y1 in pixels), or false if none. */
bool cls_axes_get_legend_box(const cls_axes *ax, double box[4]);

#endif
