/*
 * src/core/err.h — the error message of a function without a context.
 *
 * Host-side code (data, run directories, fits, figures, file helpers) has no
 * OpenCL context to keep a last-error message, so it reports a failure
 * through a buffer its caller owns: one line that says which call, which
 * argument, and what to do. The device layer's cls__fail does the same on a
 * context.
 */
#ifndef CLSCALE_CORE_ERR_H
#define CLSCALE_CORE_ERR_H

#include <stdarg.h>
#include <stddef.h>

#include "clscale/status.h"

/* Formats the message into err (when err is not NULL and err_len > 0) and
 * returns status, so that a check reads
 *   return cls_errf(err, err_len, CLS_ERR_FORMAT, "%s: ...", path); */
cls_status cls_errf(char *err, size_t err_len, cls_status status, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

/* The same with a va_list, for helpers that add their own prefix. */
cls_status cls_verrf(char *err, size_t err_len, cls_status status, const char *fmt, va_list ap);

/* Appends a formatted warning (at most 511 bytes) to the growing list
 * (*list)[0..*n): the way loaders collect problems that do not stop them
 * for the caller to show. Out of memory drops the warning, never the list. */
void cls_warning_addv(char ***list, size_t *n, const char *fmt, va_list ap);

/* The same with the arguments themselves. */
void cls_warning_add(char ***list, size_t *n, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

#endif
