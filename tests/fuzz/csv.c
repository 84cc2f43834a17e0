/*
 * tests/fuzz/csv.c — the CSV of published runs that `clscale fit --csv`
 * reads (cls_fit_input_from_csv). What loads is usable by every fit: at
 * least one run, each with positive, finite N, D, C and loss.
 */
#include <math.h>

#include "fit/fit.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *path = fuzz_write("runs.csv", data, size);
  cls_fit_input *in = NULL;
  char err[4096] = "";
  cls_status st = cls_fit_input_from_csv(path, &in, err, sizeof err);
  fuzz_status(st, err);
  if (st != CLS_OK) {
    fuzz_require(in == NULL, "a failed load left an input", err);
    return 0;
  }
  fuzz_require(in && in->n_pts > 0, "a CSV loaded without runs", NULL);
  for (size_t i = 0; i < in->n_pts; i++) {
    const cls_fit_point *p = &in->pts[i];
    fuzz_require(isfinite(p->n) && p->n > 0 && isfinite(p->d) && p->d > 0 && isfinite(p->c) && p->c > 0 &&
                     isfinite(p->loss) && p->loss > 0,
                 "a run with a value that is not positive and finite", p->id);
  }
  cls_fit_input_destroy(in);
  return 0;
}
