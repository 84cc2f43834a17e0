/* Placeholder: replaced by the benchmark below in this work. */
#include <stdio.h>

#include "commands.h"

int cls_cmd_bench(int argc, char **argv) {
  (void)argc;
  (void)argv;
  fprintf(stderr, "clscale bench: not built yet\n");
  return CLS_EXIT_FAIL;
}
