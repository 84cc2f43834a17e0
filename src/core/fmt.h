/*
 * src/core/fmt.h — numbers as text that people read and programs compare:
 * the shortest decimal that reads back as the same value. Run keys,
 * summaries, plan files and messages all print numbers this way, so one
 * setting is spelled one way everywhere.
 */
#ifndef CLSCALE_CORE_FMT_H
#define CLSCALE_CORE_FMT_H

#include <stddef.h>

/* The shortest decimal that reads back as v ("0.003", not
 * "0.0030000000000000001"); as_float: reads back as (float)v. Returns out. */
const char *cls_fmt_shortest(double v, int as_float, char *out, size_t len);

#endif
