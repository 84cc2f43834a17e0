/*
 * src/train/log.h — what a run writes for people and for `clscale fit` /
 * `clscale plot` (docs/formats.md): the loss curve points/<id>.csv and the
 * summary points/<id>.json. Every file is written whole to a temporary name
 * in the same folder and renamed, so a reader never sees half a file.
 */
#ifndef CLSCALE_TRAIN_LOG_H
#define CLSCALE_TRAIN_LOG_H

#include <stddef.h>
#include <stdint.h>

#include "clscale/status.h"
#include "core/file.h"

/* The CSV header (docs/formats.md, points/<id>.csv). */
#define CLS_TRAIN_CSV_HEADER "step,tokens,flops,flops_6nd,train_loss,eval_loss,lr,seconds\n"

typedef struct cls_eval_row {
  uint64_t step;
  double tokens, flops, flops_6nd, train_loss, eval_loss, lr, seconds;
} cls_eval_row;

/* One CSV line (with its newline) into out: integers exactly, losses and
 * rates with 9 significant digits (every float exactly), non-finite
 * values as "nan", "inf" or "-inf". Returns the length, or 0 when out is
 * too small. */
size_t cls_csv_format_row(const cls_eval_row *r, char *out, size_t len);

/* Writes the header and rows (already formatted lines) to path atomically. */
cls_status cls_csv_write(const char *path, const char *rows, size_t rows_len, char *err, size_t err_len);

/* cls_write_atomic (path.tmp.<pid>, flushed, renamed) is core/file.h's. */

/* The shortest decimal that reads back as v ("0.003", not
 * "0.0030000000000000001"); as_float: reads back as (float)v. For keys and
 * messages that people read and programs compare. Returns out. */
const char *cls_fmt_shortest(double v, int as_float, char *out, size_t len);

/* mkdir -p. */
cls_status cls_mkdirs(const char *path, char *err, size_t err_len);

/* A JSON object under construction (the summary), written atomically.
 * Numbers that are not finite become null (JSON has no NaN). */
typedef struct cls_json cls_json;
cls_json *cls_json_new(void);
void cls_json_free(cls_json *j);
void cls_json_num(cls_json *j, const char *key, double v);
void cls_json_str(cls_json *j, const char *key, const char *v); /* NULL: left out */
cls_status cls_json_write(const cls_json *j, const char *path, char *err, size_t err_len);

#endif
