/* src/core/fmt.c — see fmt.h. */
#include <stdio.h>
#include <stdlib.h>

#include "core/fmt.h"

const char *cls_fmt_shortest(double v, int as_float, char *out, size_t len) {
  for (int digits = 1; digits <= 17; digits++) {
    snprintf(out, len, "%.*g", digits, v);
    double back = strtod(out, NULL);
    if (as_float ? (float)back == (float)v : back == v) break;
  }
  return out;
}
