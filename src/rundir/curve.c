/* src/rundir/curve.c — see rundir.h: the loss curve points/<id>.csv. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/file.h"
#include "rundir/rundir.h"

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

int cls_csv_parse_row(const char *line, cls_eval_row *r) {
  unsigned long long step;
  cls_eval_row l;
  if (sscanf(line, "%llu,%lf,%lf,%lf,%lf,%lf,%lf,%lf", &step, &l.tokens, &l.flops, &l.flops_6nd, &l.train_loss,
             &l.eval_loss, &l.lr, &l.seconds) != 8)
    return 0;
  l.step = step;
  *r = l;
  return 1;
}

cls_status cls_csv_write(const char *path, const char *rows, size_t rows_len, char *err, size_t err_len) {
  const size_t hlen = strlen(CLS_TRAIN_CSV_HEADER);
  char *all = malloc(hlen + rows_len + 1);
  if (!all) return cls_errf(err, err_len, CLS_ERR_OUT_OF_MEMORY, "out of host memory writing %s", path);
  memcpy(all, CLS_TRAIN_CSV_HEADER, hlen);
  if (rows_len) memcpy(all + hlen, rows, rows_len);
  cls_status s = cls_write_atomic(path, all, hlen + rows_len, err, err_len);
  free(all);
  return s;
}
