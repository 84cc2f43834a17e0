/*
 * tests/fuzz/checkpoint.c — checkpoints through cls_checkpoint_read (what
 * `clscale sample` reads; the train loop's load checks the same fields).
 * The input is the body: its checksum is appended here, so that mutations
 * reach the fields behind the checksum (a random file fails the checksum,
 * which test_checkpoint covers) — that is where defect 7 of issue 14 was.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "train/checkpoint.h"

/* The checkpoint's own checksum (FNV-1a, 64 bits), in the writer's byte order. */
static uint64_t fnv1a(const uint8_t *p, size_t n) {
  uint64_t h = 14695981039346656037ULL;
  for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 1099511628211ULL;
  return h;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  uint8_t *file = malloc(size + 8);
  fuzz_require(file != NULL, "out of memory", NULL);
  if (size) memcpy(file, data, size);
  uint64_t sum = fnv1a(data, size);
  memcpy(file + size, &sum, 8);
  const char *path = fuzz_write("run.ckpt", file, size + 8);
  free(file);
  cls_ckpt_contents c;
  memset(&c, 0, sizeof c);
  char err[4096] = "";
  cls_status st = cls_checkpoint_read(path, &c, err, sizeof err);
  fuzz_status(st, err);
  if (st == CLS_OK) {
    fuzz_require(c.key != NULL && c.step <= c.total_steps, "a checkpoint read with an impossible step", c.key);
    cls_ckpt_contents_free(&c);
  }
  return 0;
}
