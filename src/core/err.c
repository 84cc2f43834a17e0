/* src/core/err.c — see err.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"

cls_status cls_verrf(char *err, size_t err_len, cls_status status, const char *fmt, va_list ap) {
  if (err && err_len > 0) vsnprintf(err, err_len, fmt, ap);
  return status;
}

cls_status cls_errf(char *err, size_t err_len, cls_status status, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  cls_verrf(err, err_len, status, fmt, ap);
  va_end(ap);
  return status;
}

void cls_warning_addv(char ***list, size_t *n, const char *fmt, va_list ap) {
  char buf[512];
  vsnprintf(buf, sizeof buf, fmt, ap);
  char **grown = realloc(*list, (*n + 1) * sizeof *grown);
  if (!grown) return;
  *list = grown;
  size_t len = strlen(buf) + 1;
  char *copy = malloc(len);
  if (!copy) return;
  memcpy(copy, buf, len);
  (*list)[(*n)++] = copy;
}

void cls_warning_add(char ***list, size_t *n, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  cls_warning_addv(list, n, fmt, ap);
  va_end(ap);
}
