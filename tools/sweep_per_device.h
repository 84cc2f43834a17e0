/*
 * tools/sweep_per_device.h — how many points of a sweep train at once on
 * one device (`clscale sweep --per-device auto|K`): each its own worker
 * with its own context, as `--devices cpu,cpu` would make them.
 *
 * A small model leaves much of a device idle: the launches' gaps, the
 * kernels of a few work-groups. A second point on the same device fills
 * them (the default emulator sweep on the 2-core CPU: 198 s with two at
 * once against 264 s one after another, the losses bitwise the same,
 * 2026-12-07). On a GPU two contexts take turns, so nothing is gained.
 *
 * auto measures it: a step of the sweep's heaviest shape (the most of its
 * FLOPs, by 6ND; with its side-by-side group's models) alone and two at
 * once, on two contexts (sweep/calibrate.h's cls_sweep_calibrate_pair),
 * and runs two at once when that saves at least a tenth. Only for a
 * single device, with at least two pieces of work (points or groups) to
 * do; a --devices list is taken as the layout the user wants. The tasks
 * whose models train side by side (spectra, text, gcd) can be measured;
 * the others train one point at a time unless K is given.
 */
#ifndef CLSCALE_TOOLS_SWEEP_PER_DEVICE_H
#define CLSCALE_TOOLS_SWEEP_PER_DEVICE_H

#include <stddef.h>

#include "clscale/device.h"
#include "sweep/plan.h"
#include "sweep/spec.h"

enum { CLS_PER_DEVICE_MAX = 8 };

/* "auto" (NULL too) sets *k = 0; "1" to "8" sets *k. 0 for anything else. */
int cls_per_device_parse(const char *text, size_t *k);

/* The pieces of work of points[0..n): the side-by-side groups (group[i],
 * SIZE_MAX alone; group may be NULL) and the points alone. */
size_t cls_per_device_units(const size_t *group, size_t n);

/* auto's choice, 1 or 2, measured on ctx and on a second context of
 * ctx's device made from `second` (only where the task can be measured);
 * printed (print) under a heading. A failed measurement says why and
 * gives 1. *share: two at once's time over one after the other's, as
 * measured (NaN when nothing was measured). */
size_t cls_per_device_decide(cls_context *ctx, const cls_context_options *second, const cls_sweep_spec *s,
                             const cls_sweep_point *points, size_t n, const size_t *group, int print,
                             double *share);

#endif
