/*
 * src/ops/launch_internal.h — the launch geometry the element-wise ops of
 * this folder share.
 */
#ifndef CLSCALE_OPS_LAUNCH_INTERNAL_H
#define CLSCALE_OPS_LAUNCH_INTERNAL_H

#include "device/layer.h"

/* A 1-D launch of `items` work-items: groups of ELT_LOCAL items (large groups
 * amortise PoCL's per-group cost; 256 is a fine GPU size too), never more
 * than the device runs k with; the global size rounded up to whole groups
 * (the kernels bounds-check). */
cls_status cls__launch_map(cls_context *ctx, const char *op, cl_kernel k, size_t items, double flops,
                           double bytes);

#endif
