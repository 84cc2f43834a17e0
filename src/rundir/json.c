/* src/rundir/json.c — see json.h. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/file.h"
#include "rundir/json.h"

/* ------------------------------------------------------------ writing */

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

void cls_json_lines(cls_json *j, const char *lines) {
  const char *p = lines ? lines : "";
  while (*p) {
    const char *nl = strchr(p, '\n'), *end = nl ? nl : p + strlen(p), *eq = memchr(p, '=', (size_t)(end - p));
    if (eq) {
      char name[64], value[512];
      snprintf(name, sizeof name, "%.*s", (int)(eq - p), p);
      snprintf(value, sizeof value, "%.*s", (int)(end - eq - 1), eq + 1);
      char *e;
      errno = 0;
      double v = strtod(value, &e);
      if (value[0] && !*e && !errno && strncmp(value, "0x", 2) && strncmp(value, "0X", 2))
        cls_json_num(j, name, v);
      else
        cls_json_str(j, name, value);
    }
    p = nl ? nl + 1 : end;
  }
}

cJSON *cls_json_root(cls_json *j) {
  return j && !j->oom ? j->obj : NULL;
}

cls_status cls_json_write(const cls_json *j, const char *path, char *err, size_t err_len) {
  return cls_write_json_atomic(path, j && !j->oom ? j->obj : NULL, err, err_len);
}

/* ------------------------------------------------------------ reading */

/* Whole JSON files of a run are small; a bound keeps a wrong path (a
 * dataset, a device file) from being read into memory. */
#define JSON_LIMIT ((size_t)256 << 20)

/* True when text ends inside a string or with objects/arrays left open: the
 * sign of a file cut short (a crash mid-write), not of a typo. */
static bool unbalanced(const char *text, size_t len) {
  long depth = 0;
  bool in_str = false;
  for (size_t i = 0; i < len; i++) {
    char ch = text[i];
    if (in_str) {
      if (ch == '\\')
        i++;
      else if (ch == '"')
        in_str = false;
    } else if (ch == '"') {
      in_str = true;
    } else if (ch == '{' || ch == '[') {
      depth++;
    } else if (ch == '}' || ch == ']') {
      depth--;
    }
  }
  return in_str || depth > 0;
}

size_t cls_json_bad_escape(const char *text, size_t len) {
  int in_str = 0;
  for (size_t i = 0; i < len; i++) {
    if (text[i] == '"') {
      in_str = !in_str;
    } else if (in_str && text[i] == '\\' && i + 1 < len) {
      if (text[i + 1] == 'u') {
        int ok = i + 5 < len, zero = 1;
        for (size_t k = i + 2; ok && k < i + 6; k++) {
          ok = isxdigit((unsigned char)text[k]) != 0;
          zero &= text[k] == '0';
        }
        if (!ok || zero) return i;
      }
      i++; /* the escaped character, a quote among them */
    }
  }
  return len;
}

cls_status cls_json_load(const char *path, cJSON **out, char *err, size_t err_len) {
  *out = NULL;
  char *text;
  size_t len;
  cls_status st = cls_read_file(path, JSON_LIMIT, &text, &len, err, err_len);
  if (st != CLS_OK) return st;
  size_t start = 0;
  while (start < len && (text[start] == ' ' || text[start] == '\n' || text[start] == '\r' || text[start] == '\t'))
    start++;
  if (start == len) {
    free(text);
    return cls_errf(err, err_len, CLS_ERR_FORMAT, "%s is empty: re-run the stage that writes it", path);
  }
  const size_t bad = cls_json_bad_escape(text, len);
  if (bad < len) {
    free(text);
    return cls_errf(err, err_len, CLS_ERR_FORMAT,
                    "%s is not valid JSON (a \\u escape at byte %zu is not 4 hex digits, or is \\u0000): re-run "
                    "the stage that writes it",
                    path, bad);
  }
  const char *end = NULL;
  cJSON *root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
  if (!root) {
    size_t at = end && end >= text ? (size_t)(end - text) : 0;
    cls_errf(err, err_len, CLS_ERR_FORMAT,
             "%s is not valid JSON (%s at byte %zu of %zu): re-run the stage that writes it", path,
             unbalanced(text, len) ? "truncated" : "malformed", at, len);
    free(text);
    return CLS_ERR_FORMAT;
  }
  free(text);
  if (!cJSON_IsObject(root)) {
    cJSON_Delete(root);
    return cls_errf(err, err_len, CLS_ERR_FORMAT, "%s must hold a JSON object", path);
  }
  *out = root;
  return CLS_OK;
}

double cls_json_get_num(const cJSON *obj, const char *key) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
  if (!cJSON_IsNumber(v)) return NAN;
  return isfinite(v->valuedouble) ? v->valuedouble : NAN;
}

void cls_json_get_pair(const cJSON *obj, const char *key, double *lo, double *hi) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
  *lo = *hi = NAN;
  if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) != 2) return;
  const cJSON *a = cJSON_GetArrayItem(v, 0), *b = cJSON_GetArrayItem(v, 1);
  if (cJSON_IsNumber(a)) *lo = a->valuedouble;
  if (cJSON_IsNumber(b)) *hi = b->valuedouble;
}

const char *cls_json_get_str(const cJSON *obj, const char *key) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
  return cJSON_IsString(v) ? v->valuestring : NULL;
}
