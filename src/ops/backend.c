/* src/ops/backend.c — names of the matmul backends. */
#include <string.h>

#include "clscale/ops.h"

static const char *const names[] = {"auto", "own", "clblast", "host"};

cls_status cls_backend_parse(const char *name, cls_backend *out) {
  if (!name || !out) return CLS_ERR_NULL_ARGUMENT;
  for (int i = 0; i < 4; i++)
    if (!strcmp(name, names[i])) {
      *out = (cls_backend)i;
      return CLS_OK;
    }
  return CLS_ERR_UNKNOWN_BACKEND;
}

const char *cls_backend_name(cls_backend b) {
  return ((int)b >= 0 && (int)b < 4) ? names[b] : "unknown";
}
