/* src/core/str.c — see str.h. */
#include <stdlib.h>
#include <string.h>

#include "core/str.h"

char *cls_strdup(const char *s) {
  if (!s) return NULL;
  size_t n = strlen(s) + 1;
  char *d = malloc(n);
  if (d) memcpy(d, s, n);
  return d;
}
