/*
 * tools/sweep_groups.h — which points of a sweep train side by side
 * (train/models.h, `clscale sweep --side-by-side`): the groups of points of
 * one shape (sweep/plan.h's cls_sweep_groups, at most 8 points a group),
 * each kept when it pays, as measured on the device (auto), always (on) or
 * never (off).
 *
 * auto measures, for each group, the seconds of a training step of one
 * model and of the group's models side by side (a few steps each), and
 * estimates both ways of training the points from their steps: one after
 * another, or together with the longest first while the shorter ones drop
 * out (sweep/calibrate.h's cls_sweep_group_pays). A group that saves less
 * than a tenth trains alone. The decision is printed, one line a group.
 */
#ifndef CLSCALE_TOOLS_SWEEP_GROUPS_H
#define CLSCALE_TOOLS_SWEEP_GROUPS_H

#include <stddef.h>

#include "clscale/device.h"
#include "sweep/plan.h"
#include "sweep/spec.h"

typedef enum { CLS_SIDE_AUTO = 0, CLS_SIDE_ON = 1, CLS_SIDE_OFF = 2 } cls_side_mode;

/* "auto", "on", "off" (NULL: auto); 0 for anything else. */
int cls_side_parse(const char *text, cls_side_mode *mode);

/* group[0..n): point i's group, SIZE_MAX for a point that trains alone;
 * the decisions printed (print) under a heading. A measurement that fails
 * leaves that group's points alone and says why. ctx: the device to
 * measure on (only auto uses it). */
void cls_side_decide(cls_context *ctx, const cls_sweep_spec *s, const cls_sweep_point *points, size_t n,
                     cls_side_mode mode, int print, size_t *group);

#endif
