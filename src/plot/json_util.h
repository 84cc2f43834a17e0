/* src/plot/json_util.h — reading JSON files for the plotter (cJSON). */
#ifndef CLSCALE_PLOT_JSON_UTIL_H
#define CLSCALE_PLOT_JSON_UTIL_H

#include <cjson/cJSON.h>

#include "plot/plot.h"

/* Parses the file at path. Missing file: CLS_ERR_IO; empty, truncated or
 * malformed: CLS_ERR_FORMAT with the byte offset of the problem. */
cls_status cls__json_load(const char *path, cJSON **out, char *err, size_t err_len);
/* The number under key; NaN when absent or null (JSON has no NaN). */
double cls__json_num(const cJSON *obj, const char *key);
/* [lo, hi] under key, or NaNs. */
void cls__json_pair(const cJSON *obj, const char *key, double *lo, double *hi);
/* The string under key, or NULL. */
const char *cls__json_str(const cJSON *obj, const char *key);

#endif
