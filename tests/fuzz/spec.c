/*
 * tests/fuzz/spec.c — sweep spec files (JSON and INI: FUZZ_SPEC_NAME names
 * the file, the seeds decide the syntax) through cls_sweep_spec_load, as
 * `clscale sweep` reads them. A spec that loads has a canonical form that
 * is a JSON object (the manifest keeps it and a resumed sweep compares
 * against it), and the same file loads to the same form again.
 */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "fuzz_common.h"
#include "sweep/spec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *path = fuzz_write(FUZZ_SPEC_NAME, data, size);
  cls_sweep_spec *s = NULL;
  char err[4096] = "";
  cls_status st = cls_sweep_spec_load(path, &s, err, sizeof err);
  fuzz_status(st, err);
  if (st != CLS_OK) {
    fuzz_require(s == NULL, "a failed load left a spec", err);
    return 0;
  }
  fuzz_require(s && s->canonical, "a spec without its canonical form", NULL);
  cJSON *j = cJSON_Parse(s->canonical);
  fuzz_require(cJSON_IsObject(j), "the canonical form is not a JSON object", s->canonical);
  cJSON_Delete(j);
  cls_sweep_spec *again = NULL;
  st = cls_sweep_spec_load(path, &again, err, sizeof err);
  fuzz_require(st == CLS_OK, "a spec that loaded does not load again", err);
  fuzz_require(!strcmp(again->canonical, s->canonical), "a spec loads to two canonical forms", again->canonical);
  cls_sweep_spec_free(again);
  cls_sweep_spec_free(s);
  return 0;
}
