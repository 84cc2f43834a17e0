/*
 * src/core/file.h — writing a file so that a crash never leaves half of it:
 * the data go to path.tmp.<pid>, are flushed to disk, and the temporary is
 * renamed over path. Readers see the old file or the new one. Every layer
 * writes its results through this (run directories, fit.json, traces,
 * benchmark JSON). The sweep's leftover cleanup knows the .tmp.<pid> names.
 */
#ifndef CLSCALE_CORE_FILE_H
#define CLSCALE_CORE_FILE_H

#include <stddef.h>

#include "clscale/status.h"

/* Writes len bytes to path atomically. CLS_ERR_IO ("cannot write PATH:
 * reason") on failure, the temporary file removed; CLS_ERR_OUT_OF_MEMORY
 * when the temporary name cannot be made. */
cls_status cls_write_atomic(const char *path, const void *data, size_t len, char *err, size_t err_len);

/* cJSON's formatted print of root and a newline, written atomically;
 * CLS_ERR_OUT_OF_MEMORY when the text cannot be made. */
struct cJSON;
cls_status cls_write_json_atomic(const char *path, const struct cJSON *root, char *err, size_t err_len);

#endif
