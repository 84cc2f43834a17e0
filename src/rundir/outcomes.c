/* src/rundir/outcomes.c — see rundir.h: the outcome table
 * points/<id>.outcomes.csv. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/err.h"
#include "core/file.h"
#include "rundir/rundir.h"

/* %.9g: the losses are floats' sums; "nan" for none, as in the curves. */
static int num(char *out, size_t len, double v) {
  return isfinite(v) ? snprintf(out, len, "%.9g", v) : snprintf(out, len, "nan");
}

cls_status cls_outcomes_write(const char *path, const char *value_name, const cls_outcome_row *rows, size_t n,
                              char *err, size_t err_len) {
  const size_t line = 160, cap = 128 + (n + 1) * line;
  char *all = malloc(cap);
  if (!all) return cls_errf(err, err_len, CLS_ERR_OUT_OF_MEMORY, "out of host memory writing %s", path);
  size_t at = (size_t)snprintf(all, cap, "%s,examples,correct,accuracy,loss,expected\n", value_name);
  for (size_t i = 0; i < n && at < cap; i++) {
    const cls_outcome_row *r = &rows[i];
    char acc[40], loss[40], expected[40];
    num(acc, sizeof acc, r->examples ? (double)r->correct / (double)r->examples : NAN);
    num(loss, sizeof loss, r->loss);
    num(expected, sizeof expected, r->expected);
    at += (size_t)snprintf(all + at, cap - at, "%llu,%llu,%llu,%s,%s,%s\n", (unsigned long long)r->value,
                           (unsigned long long)r->examples, (unsigned long long)r->correct, acc, loss, expected);
  }
  cls_status s = at < cap ? cls_write_atomic(path, all, at, err, err_len)
                          : cls_errf(err, err_len, CLS_ERR_INTERNAL, "outcome table of %s overflows", path);
  free(all);
  return s;
}
