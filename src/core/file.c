/* src/core/file.c — see file.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "core/err.h"
#include "core/fault.h"
#include "core/file.h"

cls_status cls_write_atomic(const char *path, const void *data, size_t len, char *err, size_t err_len) {
  size_t plen = strlen(path) + 32;
  char *tmp = malloc(plen);
  if (!tmp) {
    snprintf(err, err_len, "out of host memory writing %s", path);
    return CLS_ERR_OUT_OF_MEMORY;
  }
  snprintf(tmp, plen, "%s.tmp.%ld", path, (long)getpid());
  FILE *f = fopen(tmp, "wb");
  int ok = f != NULL;
  const char *injected = NULL; /* a failure CLSCALE_FAIL made (core/fault.h): the message says so */
  if (ok && len) ok = fwrite(data, 1, len, f) == len;
  if (ok && cls_fault(CLS_FAULT_WRITE, path)) {
    ok = 0;
    errno = ENOSPC;
    injected = cls_fault_said(CLS_FAULT_WRITE);
  }
  if (ok) ok = fflush(f) == 0;
  /* On disk before the rename, so a crash leaves the old file or the new
   * one, never a renamed empty file. */
  if (ok) ok = fsync(fileno(f)) == 0;
  int saved = errno;
  if (f && fclose(f) != 0 && ok) {
    ok = 0;
    saved = errno;
  }
  if (ok && cls_fault(CLS_FAULT_RENAME, path)) {
    ok = 0;
    saved = EIO;
    injected = cls_fault_said(CLS_FAULT_RENAME);
  }
  if (ok && rename(tmp, path) != 0) {
    ok = 0;
    saved = errno;
  }
  if (!ok) {
    remove(tmp);
    snprintf(err, err_len, "cannot write %s: %s%s%s%s", path, strerror(saved), injected ? " (" : "",
             injected ? injected : "", injected ? ")" : "");
  }
  free(tmp);
  return ok ? CLS_OK : CLS_ERR_IO;
}

cls_status cls_write_json_atomic(const char *path, const struct cJSON *root, char *err, size_t err_len) {
  char *text = root ? cJSON_Print(root) : NULL;
  size_t n = text ? strlen(text) : 0;
  char *withnl = text ? malloc(n + 2) : NULL;
  cls_status s;
  if (!withnl) {
    snprintf(err, err_len, "out of host memory writing %s", path);
    s = CLS_ERR_OUT_OF_MEMORY;
  } else {
    memcpy(withnl, text, n);
    withnl[n] = '\n';
    s = cls_write_atomic(path, withnl, n + 1, err, err_len);
  }
  free(withnl);
  cJSON_free(text);
  return s;
}

cls_status cls_read_file(const char *path, size_t limit, char **data, size_t *len, char *err, size_t err_len) {
  *data = NULL;
  if (len) *len = 0;
  FILE *f = fopen(path, "rb");
  if (!f) return cls_errf(err, err_len, CLS_ERR_IO, "cannot open %s: %s", path, strerror(errno));
  /* Grow by doubling rather than trusting a size from fseek/ftell: pipes
   * and /proc files have none, and a file may grow while it is read. */
  char *buf = NULL;
  size_t n = 0, cap = 0;
  for (;;) {
    if (n + 1 >= cap) {
      size_t grown = cap ? 2 * cap : 16384;
      if (limit && limit < ((size_t)-1) / 4 && grown > limit + 2)
        grown = limit + 2; /* room to see one byte too many, and the NUL */
      char *g = grown > cap ? realloc(buf, grown) : NULL;
      if (!g) {
        free(buf);
        fclose(f);
        return cls_errf(err, err_len, CLS_ERR_OUT_OF_MEMORY, "out of host memory reading %s (%zu bytes so far)",
                        path, n);
      }
      buf = g;
      cap = grown;
    }
    size_t got = fread(buf + n, 1, cap - 1 - n, f);
    n += got;
    if (limit && n > limit) {
      free(buf);
      fclose(f);
      return cls_errf(err, err_len, CLS_ERR_INVALID_SIZE, "%s is larger than %zu bytes", path, limit);
    }
    if (got == 0) break;
  }
  int bad = ferror(f);
  int saved = errno;
  fclose(f);
  if (bad) {
    free(buf);
    return cls_errf(err, err_len, CLS_ERR_IO, "cannot read %s: %s", path, strerror(saved));
  }
  buf[n] = 0;
  *data = buf;
  if (len) *len = n;
  return CLS_OK;
}

cls_status cls_mkdirs(const char *path, char *err, size_t err_len) {
  char buf[4096];
  if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf)
    return cls_errf(err, err_len, CLS_ERR_INVALID_VALUE, "path too long: %s", path);
  for (char *p = buf + 1;; p++) {
    char c = *p;
    if (c == '/' || c == 0) {
      *p = 0;
      struct stat sb;
      if (mkdir(buf, 0777) != 0 && errno != EEXIST)
        return cls_errf(err, err_len, CLS_ERR_IO, "cannot create folder %s: %s", buf, strerror(errno));
      if (stat(buf, &sb) != 0 || !S_ISDIR(sb.st_mode))
        return cls_errf(err, err_len, CLS_ERR_IO, "%s exists and is not a folder", buf);
      *p = c;
      if (!c) break;
    }
  }
  return CLS_OK;
}
