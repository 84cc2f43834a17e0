/*
 * tests/fuzz/fitjson.c — fit.json through cls_fit_load, as `clscale plot`
 * reads it.
 */
#include "fit/fitfile.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *path = fuzz_write("fit.json", data, size);
  cls_fit *f = NULL;
  char err[4096] = "";
  cls_status st = cls_fit_load(path, &f, err, sizeof err);
  fuzz_status(st, err);
  if (st == CLS_OK) fuzz_require(f != NULL, "fit.json loaded to nothing", NULL);
  cls_fit_destroy(f);
  return 0;
}
