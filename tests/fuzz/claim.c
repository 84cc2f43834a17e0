/*
 * tests/fuzz/claim.c — a claim file (claims/<id>.claim) through
 * cls_claim_parse, the one parser of the format (src/rundir/claim.h). A
 * claim that parses is formatted again, and that text parses to the same
 * claim and formats to the same bytes: what a worker reads it can renew
 * without changing another field. A claim that does not parse says why
 * (the sweep then treats it as stale, with that reason in its warning).
 */
#include <string.h>

#include "fuzz_common.h"
#include "rundir/claim.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  cls_claim c, again;
  char err[512] = "";
  cls_status st = cls_claim_parse((const char *)data, size, &c, err, sizeof err);
  fuzz_status(st, err);
  if (st != CLS_OK) return 0;
  static char first[CLS_CLAIM_MAX_BYTES + 1], second[CLS_CLAIM_MAX_BYTES + 1];
  size_t n1 = cls_claim_format(&c, first, sizeof first);
  fuzz_require(n1 > 0, "a claim that parsed cannot be formatted", c.id);
  st = cls_claim_parse(first, n1, &again, err, sizeof err);
  fuzz_require(st == CLS_OK, "a formatted claim does not parse", err);
  size_t n2 = cls_claim_format(&again, second, sizeof second);
  fuzz_require(n1 == n2 && !memcmp(first, second, n1), "a claim does not read back as written", second);
  return 0;
}
