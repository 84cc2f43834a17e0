/*
 * src/ops/rows.h — what the row-wise ops (softmax, layernorm, rmsnorm,
 * cross-entropy) share on the host: which kernel variant the device uses
 * and the launch geometry of each.
 */
#ifndef CLSCALE_OPS_ROWS_H
#define CLSCALE_OPS_ROWS_H

#include "clscale/ops.h"
#include "device/layer.h"

/* A rows x cols contiguous operand: present, big enough, and addressable
 * by the kernels' 32-bit offsets. */
cls_status cls__rows_check(cls_context *ctx, const char *fn, const char *arg, cls_ref r, size_t rows, size_t cols);

/* ROW_VARIANT of the device table: 0 = a row per work-item (CPUs), 1 = a
 * work-group per row with a local-memory reduction (GPUs). */
int cls__rows_variant(const cls_context *ctx);

/* Rows per work-item of variant 0's register packs (cl/softmax.cl,
 * cl/norm.cl pack kernels): ROW_PACK when the device runs variant 0 with packs
 * and a row is 1 to 4 whole vectors of ROW_VEC floats; 0 (no packs)
 * otherwise. */
size_t cls__rows_pack(const cls_context *ctx, int variant, size_t cols);

/* The forward kernel of `family` ("softmax", "norm") for rows of cols:
 * FAMILY_fwd_wg (variant 1), FAMILY_fwd_packNV_FLAG where cls__rows_pack
 * packs (one kernel per vector count NV and flag: causal, or RMS), else
 * FAMILY_fwd_row; into name (len bytes). */
void cls__rows_fwd_kernel(const cls_context *ctx, const char *family, int variant, size_t cols, int flag,
                          char *name, size_t len);

/* Variant 0: ROW_LOCAL rows per group, global rounded up to whole groups
 * (kernels bound-check the row; the group is not shrunk to short inputs,
 * because every new local size costs PoCL a compile). Variant 1: a group
 * per row, of the largest power of two that is at most ROW_WG (the size of
 * the kernel's local array), the kernel's limit, and the row length
 * rounded up to a power of two (short rows would leave items idle). */
cls_status cls__rows_geometry(cls_context *ctx, cl_kernel k, int variant, size_t rows, size_t cols, size_t *global,
                              size_t *local);

#endif
