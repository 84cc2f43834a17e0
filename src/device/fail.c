/*
 * src/device/fail.c — setting a context's last-error message.
 */
#include <stdarg.h>
#include <stdio.h>

#include "core/err.h"
#include "context_internal.h"

cls_status cls__fail(cls_context *ctx, cls_status status, const char *fmt, ...) {
  if (ctx) {
    va_list ap;
    va_start(ap, fmt);
    cls_verrf(ctx->error, sizeof ctx->error, status, fmt, ap);
    va_end(ap);
  }
  return status;
}

cls_status cls__cl_fail(cls_context *ctx, cl_int err, const char *what) {
  const char *hint = "";
  if (err == CL_MEM_OBJECT_ALLOCATION_FAILURE || err == CL_OUT_OF_RESOURCES || err == CL_OUT_OF_HOST_MEMORY)
    hint = "; the device ran out of memory or resources: use smaller shapes or batches";
  return cls__fail(ctx, err, "%s failed: %s (%d)%s", what, cls_status_name(err), (int)err, hint);
}

const char *cls_last_error(const cls_context *ctx) {
  return ctx ? ctx->error : "no context (NULL)";
}
