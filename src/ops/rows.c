/* src/ops/rows.c — see rows.h. */
#include <stdio.h>
#include <stdint.h>

#include "ops/rows.h"

int cls__rows_variant(const cls_context *ctx) {
  return cls__param(ctx, "ROW_VARIANT", 0) == 1 ? 1 : 0;
}

size_t cls__rows_pack(const cls_context *ctx, int variant, size_t cols) {
  long vec = cls__param(ctx, "ROW_VEC", 8), pack = cls__param(ctx, "ROW_PACK", 0);
  if (variant != 0 || pack < 1 || vec < 1 || cols % (size_t)vec != 0 || cols > 4 * (size_t)vec) return 0;
  return (size_t)pack;
}

void cls__rows_fwd_kernel(const cls_context *ctx, const char *family, int variant, size_t cols, int flag,
                          char *name, size_t len) {
  if (cls__rows_pack(ctx, variant, cols) > 0)
    snprintf(name, len, "%s_fwd_pack%zu_%d", family, cols / (size_t)cls__param(ctx, "ROW_VEC", 8), flag);
  else
    snprintf(name, len, "%s_fwd_%s", family, variant ? "wg" : "row");
}

cls_status cls__rows_geometry(cls_context *ctx, cl_kernel k, int variant, size_t rows, size_t cols, size_t *global,
                              size_t *local) {
  size_t kmax = 1;
  cls_status s = cls__kernel_max_group(ctx, k, &kmax);
  if (s != CLS_OK) return s;
  if (variant == 0) {
    long want = cls__param(ctx, "ROW_LOCAL", 16);
    size_t l = want < 1 ? 1 : (size_t)want;
    if (l > kmax) l = kmax;
    *local = l;
    *global = cls__round_up(rows, l);
  } else {
    long want = cls__param(ctx, "ROW_WG", 64);
    size_t cap = want < 1 ? 1 : (size_t)want;
    if (cap > kmax) cap = kmax;
    size_t wg = 1;
    while (wg * 2 <= cap && wg < cols) wg *= 2;
    *local = wg;
    *global = rows * wg;
  }
  return CLS_OK;
}

cls_status cls__rows_check(cls_context *ctx, const char *fn, const char *arg, cls_ref r, size_t rows,
                           size_t cols) {
  cls_status s = cls__check_matrix(ctx, fn, arg, r, rows, cols, cols, 0, 1);
  if (s != CLS_OK) return s;
  if (r.offset > UINT32_MAX - rows * cols)
    return cls__fail(ctx, CLS_ERR_INVALID_SIZE,
                     "%s: %s ends beyond float 2^32 of its buffer; use a smaller offset", fn, arg);
  return CLS_OK;
}
