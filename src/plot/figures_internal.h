/* src/plot/figures_internal.h — helpers that figures.c shares with the
 * solved tasks' figures (figures_solved.c); not for use outside src/plot. */
#ifndef CLSCALE_PLOT_FIGURES_INTERNAL_H
#define CLSCALE_PLOT_FIGURES_INTERNAL_H

#include <stddef.h>

#include "plot/figures.h"

/* A number with sig significant digits in plot markup: 41.2, 0.152, 2.3×10^{3}. */
void cls__fig_fmt_sig(double v, int sig, char *buf, size_t len);
/* A dashed line: w points wide, on/off lengths in points. */
cls_series_style cls__fig_dashed(cls_rgba c, double w, double on, double off);
/* Log-spaced grid of n >= 2 points over [lo,hi]. */
void cls__fig_logspace(double lo, double hi, int n, double *out);
/* Appends msg to the "; "-separated notes in why. */
void cls__fig_note(char *why, size_t len, const char *msg);
/* A figure of wscale × hscale times the single-panel size, rows × cols axes. */
cls_status cls__fig_new(const cls_plot_options *o, double wscale, double hscale, int rows, int cols,
                        cls_figure **f);
/* The end of a figure builder: on success hands f to *out, else frees it;
 * returns st. */
cls_status cls__fig_finish(cls_figure *f, cls_status st, cls_figure **out);
/* The caller's title, else def. */
const char *cls__fig_title_or(const cls_plot_options *o, const char *def);

/* The solved tasks' figures (figures_solved.c), with cls_plot_build's contract. */
cls_status cls__fig_rf(cls_plot_kind kind, const cls_plot_inputs *in, const cls_plot_options *o, cls_figure **out,
                       char *why, size_t len);
cls_status cls__fig_zipf_error(const cls_plot_inputs *in, const cls_plot_options *o, cls_figure **out, char *why,
                               size_t len);

/* The model-collapse figures (figures_collapse.c), with cls_plot_build's
 * contract; and whether the points are a sweep with generations (every
 * finished point has a numeric generation and real_fraction). */
cls_status cls__fig_collapse(cls_plot_kind kind, const cls_plot_inputs *in, const cls_plot_options *o,
                             cls_figure **out, char *why, size_t len);
bool cls__fig_is_collapse(const cls_solved *s);

/* The backtest and repeated-data figures (figures_backtest.c), with
 * cls_plot_build's contract. */
cls_status cls__fig_backtest(const cls_plot_inputs *in, const cls_plot_options *o, cls_figure **out, char *why,
                             size_t len);
cls_status cls__fig_repeats(const cls_plot_inputs *in, const cls_plot_options *o, cls_figure **out, char *why,
                            size_t len);

#endif
