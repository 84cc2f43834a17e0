/*
 * src/plot/json_util.c — small helpers over cJSON shared by the run-directory
 * and fit.json readers.
 */
#include <errno.h>
#include <stdbool.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plot/json_util.h"

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

cls_status cls__json_load(const char *path, cJSON **out, char *err, size_t err_len) {
  *out = NULL;
  FILE *f = fopen(path, "rb");
  if (!f) {
    cls__plot_err(err, err_len, "cannot open %s: %s", path, strerror(errno));
    return CLS_ERR_IO;
  }
  char *text = NULL;
  size_t len = 0, cap = 0, got;
  char buf[8192];
  while ((got = fread(buf, 1, sizeof buf, f)) > 0) {
    if (len + got + 1 > cap) {
      cap = 2 * (len + got + 1);
      char *p = realloc(text, cap);
      if (!p) {
        free(text);
        fclose(f);
        cls__plot_err(err, err_len, "out of memory reading %s", path);
        return CLS_ERR_OUT_OF_MEMORY;
      }
      text = p;
    }
    memcpy(text + len, buf, got);
    len += got;
  }
  fclose(f);
  size_t start = 0;
  while (start < len && (text[start] == ' ' || text[start] == '\n' || text[start] == '\r' || text[start] == '\t'))
    start++;
  if (start == len) {
    free(text);
    cls__plot_err(err, err_len, "%s is empty: re-run the stage that writes it", path);
    return CLS_ERR_FORMAT;
  }
  text[len] = '\0';
  const char *end = NULL;
  cJSON *root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
  if (!root) {
    size_t at = end && end >= text ? (size_t)(end - text) : 0;
    cls__plot_err(err, err_len, "%s is not valid JSON (%s at byte %zu of %zu): re-run the stage that writes it",
                  path, unbalanced(text, len) ? "truncated" : "malformed", at, len);
    free(text);
    return CLS_ERR_FORMAT;
  }
  free(text);
  if (!cJSON_IsObject(root)) {
    cJSON_Delete(root);
    cls__plot_err(err, err_len, "%s must hold a JSON object", path);
    return CLS_ERR_FORMAT;
  }
  *out = root;
  return CLS_OK;
}

double cls__json_num(const cJSON *obj, const char *key) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
  if (!cJSON_IsNumber(v)) return NAN;
  return isfinite(v->valuedouble) ? v->valuedouble : NAN;
}

void cls__json_pair(const cJSON *obj, const char *key, double *lo, double *hi) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
  *lo = *hi = NAN;
  if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) != 2) return;
  const cJSON *a = cJSON_GetArrayItem(v, 0), *b = cJSON_GetArrayItem(v, 1);
  if (cJSON_IsNumber(a)) *lo = a->valuedouble;
  if (cJSON_IsNumber(b)) *hi = b->valuedouble;
}

const char *cls__json_str(const cJSON *obj, const char *key) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
  return cJSON_IsString(v) ? v->valuestring : NULL;
}
