/*
 * tests/fuzz/summary.c — a point summary (points/<id>.json) through
 * cls_point_summary_read, the one reader fit and plot share. A summary
 * that reads is written back, and that file reads and writes to the same
 * bytes: the reader keeps what it does not know (formats.md).
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "rundir/rundir.h"

static char *write_read(const char *name, const cls_point_summary *s, size_t *len) {
  char err[4096] = "";
  const char *path = fuzz_path(name);
  cls_status st = cls_point_summary_write(path, s, err, sizeof err);
  fuzz_require(st == CLS_OK, "a summary that was read cannot be written", err);
  char *text = fuzz_slurp(path, len);
  fuzz_require(text != NULL, "the written summary is missing", path);
  return text;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *path = fuzz_write("a.json", data, size);
  cls_point_summary s;
  char err[4096] = "";
  cls_status st = cls_point_summary_read(path, &s, err, sizeof err);
  fuzz_status(st, err);
  if (st != CLS_OK) return 0;
  size_t n1, n2;
  char *first = write_read("b.json", &s, &n1);
  cls_point_summary_release(&s);
  st = cls_point_summary_read(fuzz_path("b.json"), &s, err, sizeof err);
  fuzz_require(st == CLS_OK, "a summary the writer wrote does not read", err);
  char *second = write_read("c.json", &s, &n2);
  cls_point_summary_release(&s);
  fuzz_require(n1 == n2 && !memcmp(first, second, n1), "a summary does not read back as written", second);
  free(first);
  free(second);
  return 0;
}
