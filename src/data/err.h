/*
 * src/data/err.h — the data layer's error message helper.
 *
 * Data functions do not need an OpenCL context, so like the plotter they
 * report failures through a caller-owned buffer: when err is not NULL, a
 * one-line message (which call, which argument, what to do) is written there.
 */
#ifndef CLSCALE_DATA_ERR_H
#define CLSCALE_DATA_ERR_H

#include <stddef.h>

#include "clscale/status.h"

/* Formats the message into err (if not NULL) and returns status. */
cls_status cls__data_fail(char *err, size_t err_len, cls_status status, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

#endif
