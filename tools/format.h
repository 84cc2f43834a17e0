/*
 * tools/format.h — how the commands print things people read.
 */
#ifndef CLSCALE_TOOLS_FORMAT_H
#define CLSCALE_TOOLS_FORMAT_H

#include <stddef.h>

/* A duration for progress lines and ETAs: "4.2s", "37s", "3m05s", "2h10m";
 * "?" when unknown (negative or not finite). */
void cls_fmt_duration(double seconds, char *out, size_t len);

/* A number for tables: three significant digits ("1.38e+04"), "-" when not
 * finite. Returns out. */
const char *cls_fmt_g(double v, char *out, size_t len);

#endif
