/*
 * tests/fuzz/replay.c — a main for a fuzz target without libFuzzer: feeds it
 * every file of the folders (or the files) given, in name order, so that
 * the seeds and every saved crash run through the parser in the usual
 * build too and a fixed crash stays fixed. Fails on an empty corpus (a
 * replay of nothing proves nothing).
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz_common.h"

static int replay_file(const char *path) {
  size_t len = 0;
  char *data = fuzz_slurp(path, &len);
  if (!data) {
    fprintf(stderr, "replay: cannot read %s\n", path);
    return 0;
  }
  LLVMFuzzerTestOneInput((const uint8_t *)data, len);
  free(data);
  return 1;
}

static int by_name(const struct dirent **a, const struct dirent **b) {
  return strcmp((*a)->d_name, (*b)->d_name);
}

int main(int argc, char **argv) {
  size_t done = 0;
  for (int i = 1; i < argc; i++) {
    struct stat sb;
    if (stat(argv[i], &sb) != 0) {
      fprintf(stderr, "replay: no %s\n", argv[i]);
      return 1;
    }
    if (!S_ISDIR(sb.st_mode)) {
      if (!replay_file(argv[i])) return 1;
      done++;
      continue;
    }
    struct dirent **names;
    int n = scandir(argv[i], &names, NULL, by_name);
    if (n < 0) {
      fprintf(stderr, "replay: cannot list %s\n", argv[i]);
      return 1;
    }
    int ok = 1;
    for (int k = 0; k < n; k++) {
      char path[4096];
      snprintf(path, sizeof path, "%s/%s", argv[i], names[k]->d_name);
      if (ok && names[k]->d_name[0] != '.' && stat(path, &sb) == 0 && S_ISREG(sb.st_mode)) {
        ok = replay_file(path);
        done++;
      }
      free(names[k]);
    }
    free(names);
    if (!ok) return 1;
  }
  printf("replayed %zu inputs\n", done);
  return done ? 0 : 1;
}
