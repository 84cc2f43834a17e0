/*
 * tests/fuzz/manifest.c — a run directory's manifest.json through
 * cls_manifest_read and through the sweep's check that a resumed sweep's
 * folder is its own (cls_sweep_manifest_ensure, against a fixed spec).
 */
#include <stdio.h>
#include <string.h>

#include "fuzz_common.h"
#include "sweep/rundir.h"
#include "sweep/spec.h"

static const char spec_text[] =
    "{\"name\": \"f\", \"task\": \"spectra\", \"mode\": \"isoflop\", \"widths\": [8, 16],"
    " \"depth\": 1, \"heads\": 2, \"budgets_flops\": [2e8]}";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static cls_sweep_spec *spec;
  char err[4096] = "";
  if (!spec)
    fuzz_require(cls_sweep_spec_parse(spec_text, "fixed", NULL, &spec, err, sizeof err) == CLS_OK,
                 "the fixed spec", err);
  const char *path = fuzz_write("manifest.json", data, size);
  char dir[1024];
  snprintf(dir, sizeof dir, "%.*s", (int)(strlen(path) - strlen("/manifest.json")), path);
  cls_manifest_info m;
  cls_status st = cls_manifest_read(dir, &m, err, sizeof err);
  fuzz_status(st, err);
  if (st == CLS_OK) {
    fuzz_require(m.parsed, "a manifest read without being parsed", NULL);
    cls_manifest_info_free(&m);
  }
  int created = 1;
  err[0] = 0;
  st = cls_sweep_manifest_ensure(dir, spec, NULL, 0, NULL, &created, err, sizeof err);
  fuzz_status(st, err);
  fuzz_require(!created, "an existing manifest was written over", NULL);
  return 0;
}
