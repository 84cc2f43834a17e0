/*
 * src/plot/plot.h — the plotter's raster library: an RGBA canvas with
 * anti-aliased strokes, fills, markers and Hershey stroke text, written to PNG.
 *
 * Everything here is reentrant: no function keeps state outside the objects it
 * is given. Functions that can fail return a cls_status and, when err is not
 * NULL, write a one-line message (what failed and what to do) into err.
 * Coordinates are in pixels with (0,0) at the top-left corner of the top-left
 * pixel, so the centre of pixel (i,j) is (i+0.5, j+0.5).
 */
#ifndef CLSCALE_PLOT_PLOT_H
#define CLSCALE_PLOT_PLOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "clscale/status.h"

/* A colour with straight (not premultiplied) alpha, each channel 0..1. */
typedef struct cls_rgba {
  float r, g, b, a;
} cls_rgba;

static inline cls_rgba cls_rgba_make(float r, float g, float b, float a) {
  cls_rgba c = {r, g, b, a};
  return c;
}

/* ------------------------------------------------------------------ canvas */

typedef struct cls_canvas {
  int width, height;
  double dpi;                             /* recorded in the PNG's pHYs chunk */
  uint8_t *rgba;                          /* width*height*4 bytes, row-major, straight alpha */
  float *mask;                            /* width*height coverage scratch, all zero between draws */
  float *acc;                             /* (width+2)*height signed-area scratch for polygon fills */
  int clip_x0, clip_y0, clip_x1, clip_y1; /* drawing is limited to [x0,x1)×[y0,y1) */
  /* Bounding box of the non-zero part of mask, so clearing and compositing
   * touch only the pixels a shape covered. Empty when mx0 >= mx1. */
  int mx0, my0, mx1, my1;
} cls_canvas;

/* Allocates a width×height canvas filled with bg. */
cls_status cls_canvas_create(int width, int height, double dpi, cls_rgba bg, cls_canvas **out, char *err,
                             size_t err_len);
void cls_canvas_destroy(cls_canvas *c);
/* Limits later drawing to the pixels [x0,x1)×[y0,y1) (clamped to the canvas). */
void cls_canvas_set_clip(cls_canvas *c, int x0, int y0, int x1, int y1);
void cls_canvas_reset_clip(cls_canvas *c);
/* The colour of one pixel (for tests and probes); transparent outside. */
cls_rgba cls_canvas_get(const cls_canvas *c, int x, int y);

/* Crisp primitives for frames, ticks and grid lines: the edges land exactly on
 * pixel boundaries, so a 1-px line is one solid row or column of pixels, never
 * two half-grey ones. width_px is rounded to a whole number of pixels (>= 1). */
void cls_canvas_fill_rect_crisp(cls_canvas *c, double x0, double y0, double x1, double y1, cls_rgba color);
void cls_canvas_hline_crisp(cls_canvas *c, double x0, double x1, double y, double width_px, cls_rgba color);
void cls_canvas_vline_crisp(cls_canvas *c, double x, double y0, double y1, double width_px, cls_rgba color);
/* The pixel column (or row) a crisp line of this width at coordinate v covers
 * first; tests use it to find a tick. */
int cls_crisp_first_pixel(double v, double width_px);

/* ---------------------------------------------------------- coverage masks */
/* A shape is first rasterised into the canvas' coverage mask, combining its
 * parts with max() — so overlapping segments of one polyline (its joints) are
 * not painted twice and leave no dark beads — then composited once. */

/* Adds a segment of the given width with butt ends (a rectangle, exact area
 * coverage, so the summed ink of a line is length × width at any angle and
 * also for widths under one pixel). */
void cls_mask_segment(cls_canvas *c, double x0, double y0, double x1, double y1, double width);
/* The same with round ends (a disc of the line's width at each end). */
void cls_mask_capsule(cls_canvas *c, double x0, double y0, double x1, double y1, double width);
/* Adds a filled disc to the mask (area coverage, sampled 8×8 at the rim). */
void cls_mask_disc(cls_canvas *c, double cx, double cy, double radius);
/* Adds a filled polygon (non-zero winding, exact area coverage) to the mask. */
void cls_mask_polygon(cls_canvas *c, const double *xy, size_t n);
/* Blends color × mask into the canvas and clears the mask. */
void cls_mask_composite(cls_canvas *c, cls_rgba color);
/* Sum of the mask's coverage (for tests: ink conservation). */
double cls_mask_sum(const cls_canvas *c);
void cls_mask_clear(cls_canvas *c);

/* ------------------------------------------------------------------ shapes */

#define CLS_MAX_DASH 8
typedef struct cls_stroke {
  double width; /* pixels */
  cls_rgba color;
  double dash[CLS_MAX_DASH]; /* on, off, on, off… lengths in pixels; n_dash 0 = solid */
  int n_dash;
  double dash_offset;
} cls_stroke;

/* Draws a polyline of n points (xy interleaved). A non-finite coordinate ends
 * the current piece, so a NaN in the data is a gap, never a line to (0,0).
 * Dashes are laid out by arc length along the whole polyline. */
void cls_draw_polyline(cls_canvas *c, const double *xy, size_t n, const cls_stroke *st);
void cls_fill_polygon(cls_canvas *c, const double *xy, size_t n, cls_rgba color);

typedef enum cls_marker {
  CLS_MARKER_NONE = 0,
  CLS_MARKER_CIRCLE,
  CLS_MARKER_SQUARE,
  CLS_MARKER_TRIANGLE,
  CLS_MARKER_DIAMOND,
  CLS_MARKER_CROSS,
  CLS_MARKER_STAR
} cls_marker;
/* A marker of the given size (diameter in pixels) centred on (x,y): filled
 * with fill, outlined with edge of edge_width (0 for none). */
void cls_draw_marker(cls_canvas *c, double x, double y, cls_marker shape, double size, cls_rgba fill,
                     cls_rgba edge, double edge_width);

/* -------------------------------------------------------------------- text */
/* Text is drawn with the Hershey simplex stroke font, so it scales to any size
 * and angle. A tiny markup is understood:
 *   ^{...}  superscript      _{...}  subscript
 *   \alpha \beta \gamma \delta \epsilon \eta \theta \kappa \lambda \mu \nu \pi
 *   \rho \sigma \tau \phi \chi \omega \Delta \minus \times \cdot \pm \approx
 * (the same symbols are also accepted as UTF-8), \{ \} \\ \^ \_ for the
 * literal characters, and a '-' before a digit or inside a script is drawn as
 * a minus sign, otherwise as a hyphen. */

typedef struct cls_font cls_font;
/* Parses the embedded glyph data. */
cls_status cls_font_create(cls_font **out, char *err, size_t err_len);
void cls_font_destroy(cls_font *f);

typedef enum { CLS_ALIGN_LEFT, CLS_ALIGN_CENTER, CLS_ALIGN_RIGHT } cls_halign;
typedef enum { CLS_VALIGN_BASELINE, CLS_VALIGN_TOP, CLS_VALIGN_CENTER, CLS_VALIGN_BOTTOM } cls_valign;

typedef struct cls_text_extent {
  double width;   /* advance width in pixels */
  double ascent;  /* above the baseline, including superscripts */
  double descent; /* below the baseline, positive, including subscripts */
} cls_text_extent;

/* size is the font size in pixels (an em); cap height is about 0.72 em. */
cls_text_extent cls_text_measure(const cls_font *f, const char *text, double size);
/* Draws text anchored at (x,y), rotated counter-clockwise by angle_deg around
 * the anchor (90 for a y-axis label reading upwards). */
void cls_text_draw(cls_canvas *c, const cls_font *f, const char *text, double x, double y, double size,
                   double angle_deg, cls_halign ha, cls_valign va, cls_rgba color);
/* The same with the stroke weight scaled (1 regular, 1.4 for a bold title). */
void cls_text_draw_ex(cls_canvas *c, const cls_font *f, const char *text, double x, double y, double size,
                      double angle_deg, cls_halign ha, cls_valign va, cls_rgba color, double weight);

/* --------------------------------------------------------------------- PNG */
/* Writes 8-bit RGBA (alpha true) or RGB composited on white (alpha false), with
 * pHYs set from the canvas dpi and no time stamp, to a temporary file beside
 * path that is then renamed over it. */
cls_status cls_png_write(const cls_canvas *c, const char *path, bool alpha, char *err, size_t err_len);

/* ---------------------------------------------------------------- colours */
/* viridis at t in [0,1] (clamped). */
cls_rgba cls_viridis(double t);
/* A qualitative palette (matplotlib's tab10), index taken modulo 10. */
cls_rgba cls_palette(int i);

#endif
