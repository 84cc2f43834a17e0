/* tools/format.c — see format.h. */
#include <math.h>
#include <stdio.h>

#include "format.h"

void cls_fmt_duration(double s, char *out, size_t len) {
  if (!(s >= 0) || !isfinite(s))
    snprintf(out, len, "?");
  else if (s < 10)
    snprintf(out, len, "%.1fs", s);
  else if (s < 60)
    snprintf(out, len, "%.0fs", s);
  else if (s < 3600)
    snprintf(out, len, "%dm%02ds", (int)(s / 60), (int)fmod(s, 60));
  else
    snprintf(out, len, "%dh%02dm", (int)(s / 3600), (int)fmod(s / 60, 60));
}

const char *cls_fmt_g(double v, char *out, size_t len) {
  if (!isfinite(v))
    snprintf(out, len, "-");
  else
    snprintf(out, len, "%.3g", v);
  return out;
}
