/*
 * src/core/file.h — reading a whole file with a size bound, and writing a
 * file so that a crash never leaves half of it:
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

/* Reads the whole of path into a new buffer *data (free()), with *len its
 * length in bytes; one NUL byte follows the data, so text files read as C
 * strings (a file that holds NUL bytes is the caller's to reject). A file
 * larger than limit bytes (0: no limit) is refused with
 * CLS_ERR_INVALID_SIZE before it is read, so a huge input costs nothing.
 * Failures: CLS_ERR_IO ("cannot open PATH: reason", "cannot read PATH:
 * reason"), CLS_ERR_OUT_OF_MEMORY; *data is NULL then. err may be NULL. */
cls_status cls_read_file(const char *path, size_t limit, char **data, size_t *len, char *err, size_t err_len);

/* mkdir -p: creates path and the folders above it that are missing. A
 * path component that exists and is not a folder is CLS_ERR_IO. */
cls_status cls_mkdirs(const char *path, char *err, size_t err_len);

#endif
