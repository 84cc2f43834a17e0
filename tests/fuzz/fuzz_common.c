/* tests/fuzz/fuzz_common.c — see fuzz_common.h. */
#include "fuzz_common.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char scratch[512];

/* Removes the scratch folder and what the targets left in it (one level
 * below: the manifest target's run folder). */
static void remove_tree(const char *dir, int depth) {
  DIR *d = opendir(dir);
  if (!d) return;
  struct dirent *e;
  char path[1024];
  while ((e = readdir(d)) != NULL) {
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
    snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    if (remove(path) != 0 && depth < 2) remove_tree(path, depth + 1);
  }
  closedir(d);
  rmdir(dir);
}

static void cleanup(void) {
  if (scratch[0]) remove_tree(scratch, 0);
}

const char *fuzz_path(const char *name) {
  if (!scratch[0]) {
    /* tests/fuzz/run.sh names a folder in memory (the parsers' writers
     * fsync, and the fuzzer runs thousands of inputs a second) that it
     * removes afterwards, also after a crash, which skips atexit. */
    const char *tmp = getenv("CLSCALE_FUZZ_SCRATCH");
    if (!tmp || !*tmp) tmp = getenv("TMPDIR");
    snprintf(scratch, sizeof scratch, "%s/clscale-fuzz-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    fuzz_require(mkdtemp(scratch) != NULL, "cannot make the scratch folder", scratch);
    atexit(cleanup);
  }
  static char path[1024];
  snprintf(path, sizeof path, "%s/%s", scratch, name);
  return path;
}

const char *fuzz_write(const char *name, const uint8_t *data, size_t size) {
  const char *path = fuzz_path(name);
  FILE *f = fopen(path, "wb");
  fuzz_require(f != NULL, "cannot write", path);
  fuzz_require(fwrite(data, 1, size, f) == size && fclose(f) == 0, "cannot write", path);
  return path;
}

void fuzz_require(int cond, const char *what, const char *detail) {
  if (cond) return;
  fprintf(stderr, "fuzz: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
  abort();
}

void fuzz_status(cls_status s, const char *err) {
  if (s != CLS_OK) fuzz_require(err[0] != 0, "a failure without a message, status", cls_status_name(s));
}

char *fuzz_slurp(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  size_t cap = 4096, n = 0;
  char *buf = malloc(cap + 1);
  fuzz_require(buf != NULL, "out of memory", NULL);
  size_t got;
  while ((got = fread(buf + n, 1, cap - n, f)) > 0) {
    n += got;
    if (n == cap) {
      cap *= 2;
      buf = realloc(buf, cap + 1);
      fuzz_require(buf != NULL, "out of memory", NULL);
    }
  }
  fclose(f);
  buf[n] = 0;
  *len = n;
  return buf;
}
