/* src/train/log.c — see log.h. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "train/log.h"

/* %.9g round-trips a float; %.17g a double (token and FLOP counts are
 * integers below 2^53, so they print exactly). NaN's sign is dropped:
 * readers accept "nan", not "-nan". */
static int fmt(char *out, size_t len, double v, int digits) {
  if (isnan(v)) return snprintf(out, len, "nan");
  if (isinf(v)) return snprintf(out, len, v > 0 ? "inf" : "-inf");
  return snprintf(out, len, "%.*g", digits, v);
}

size_t cls_csv_format_row(const cls_eval_row *r, char *out, size_t len) {
  char f[7][40];
  fmt(f[0], sizeof f[0], r->tokens, 17);
  fmt(f[1], sizeof f[1], r->flops, 17);
  fmt(f[2], sizeof f[2], r->flops_6nd, 17);
  fmt(f[3], sizeof f[3], r->train_loss, 9);
  fmt(f[4], sizeof f[4], r->eval_loss, 9);
  fmt(f[5], sizeof f[5], r->lr, 9);
  snprintf(f[6], sizeof f[6], "%.3f", isfinite(r->seconds) ? r->seconds : 0.0);
  int n = snprintf(out, len, "%llu,%s,%s,%s,%s,%s,%s,%s\n", (unsigned long long)r->step, f[0], f[1], f[2], f[3],
                   f[4], f[5], f[6]);
  return n > 0 && (size_t)n < len ? (size_t)n : 0;
}

cls_status cls_csv_write(const char *path, const char *rows, size_t rows_len, char *err, size_t err_len) {
  const size_t hlen = strlen(CLS_TRAIN_CSV_HEADER);
  char *all = malloc(hlen + rows_len + 1);
  if (!all) {
    snprintf(err, err_len, "out of host memory writing %s", path);
    return CLS_ERR_OUT_OF_MEMORY;
  }
  memcpy(all, CLS_TRAIN_CSV_HEADER, hlen);
  if (rows_len) memcpy(all + hlen, rows, rows_len);
  cls_status s = cls_write_atomic(path, all, hlen + rows_len, err, err_len);
  free(all);
  return s;
}

const char *cls_fmt_shortest(double v, int as_float, char *out, size_t len) {
  for (int digits = 1; digits <= 17; digits++) {
    snprintf(out, len, "%.*g", digits, v);
    double back = strtod(out, NULL);
    if (as_float ? (float)back == (float)v : back == v) break;
  }
  return out;
}

cls_status cls_mkdirs(const char *path, char *err, size_t err_len) {
  char buf[4096];
  if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf) {
    snprintf(err, err_len, "path too long: %s", path);
    return CLS_ERR_INVALID_VALUE;
  }
  for (char *p = buf + 1;; p++) {
    char c = *p;
    if (c == '/' || c == 0) {
      *p = 0;
      struct stat sb;
      if (mkdir(buf, 0777) != 0 && errno != EEXIST) {
        snprintf(err, err_len, "cannot create folder %s: %s", buf, strerror(errno));
        return CLS_ERR_IO;
      }
      if (stat(buf, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
        snprintf(err, err_len, "%s exists and is not a folder", buf);
        return CLS_ERR_IO;
      }
      *p = c;
      if (!c) break;
    }
  }
  return CLS_OK;
}

struct cls_json {
  cJSON *obj;
  int oom;
};

cls_json *cls_json_new(void) {
  cls_json *j = calloc(1, sizeof *j);
  if (j && !(j->obj = cJSON_CreateObject())) {
    free(j);
    j = NULL;
  }
  return j;
}

void cls_json_free(cls_json *j) {
  if (!j) return;
  cJSON_Delete(j->obj);
  free(j);
}

void cls_json_num(cls_json *j, const char *key, double v) {
  if (!j) return;
  cJSON *item = isfinite(v) ? cJSON_AddNumberToObject(j->obj, key, v) : cJSON_AddNullToObject(j->obj, key);
  if (!item) j->oom = 1;
}

void cls_json_str(cls_json *j, const char *key, const char *v) {
  if (!j || !v) return;
  if (!cJSON_AddStringToObject(j->obj, key, v)) j->oom = 1;
}

cls_status cls_json_write(const cls_json *j, const char *path, char *err, size_t err_len) {
  return cls_write_json_atomic(path, j && !j->oom ? j->obj : NULL, err, err_len);
}
