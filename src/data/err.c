/*
 * src/data/err.c — see err.h.
 */
#include "data/err.h"

#include <stdarg.h>
#include <stdio.h>

cls_status cls__data_fail(char *err, size_t err_len, cls_status status, const char *fmt, ...) {
  if (err && err_len > 0) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, err_len, fmt, ap);
    va_end(ap);
  }
  return status;
}
