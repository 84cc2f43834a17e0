/*
 * src/rundir/json.h — the JSON of a run directory (cJSON underneath):
 * an ordered object built key by key and written atomically, and the
 * reading side that tells an empty, truncated or malformed file apart.
 * The run directory's files, fit.json and the plan files use these, so
 * every JSON file of a run is written and read one way.
 */
#ifndef CLSCALE_RUNDIR_JSON_H
#define CLSCALE_RUNDIR_JSON_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "clscale/status.h"

/* An object under construction, keys in the order they are added. Numbers
 * that are not finite become null (JSON has no NaN). Out of memory is
 * remembered and reported by cls_json_write. */
typedef struct cls_json cls_json;
cls_json *cls_json_new(void);
void cls_json_free(cls_json *j);
void cls_json_num(cls_json *j, const char *key, double v);
void cls_json_str(cls_json *j, const char *key, const char *v); /* NULL: left out */
/* Adds "name=value" lines: a value that reads whole as a decimal number is
 * a number, anything else a string (hex is a string: a hash, not a count). */
void cls_json_lines(cls_json *j, const char *lines);
/* The object itself, for a nested value the flat calls above do not make
 * (an array of objects); NULL when out of memory. */
cJSON *cls_json_root(cls_json *j);
/* Formatted, with a newline, to path.tmp.<pid> and renamed (core/file.h). */
cls_status cls_json_write(const cls_json *j, const char *path, char *err, size_t err_len);

/* Parses the JSON object in path. A missing or unreadable file is
 * CLS_ERR_IO; an empty, truncated or malformed file, or one that is not an
 * object, CLS_ERR_FORMAT with the byte offset of the problem. */
cls_status cls_json_load(const char *path, cJSON **out, char *err, size_t err_len);
/* The byte offset of the first "\u" escape in a string of text that is not
 * "\u" and 4 hex digits, or is "\u0000"; len when there is none. cJSON
 * reads such an escape as an end of string ("\uZZZZ" becomes ""), so the
 * readers check first and call the text invalid JSON. */
size_t cls_json_bad_escape(const char *text, size_t len);
/* The number under key; NaN when absent, null or not finite. */
double cls_json_get_num(const cJSON *obj, const char *key);
/* [lo, hi] under key, or NaNs. */
void cls_json_get_pair(const cJSON *obj, const char *key, double *lo, double *hi);
/* The string under key, or NULL. */
const char *cls_json_get_str(const cJSON *obj, const char *key);

#endif
