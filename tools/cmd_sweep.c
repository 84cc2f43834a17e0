/* Placeholder until the sweep and fit issue lands. */
#include <stdio.h>

#include "commands.h"

int cls_cmd_sweep(int argc, char **argv) {
  (void)argc;
  (void)argv;
  fprintf(stderr, "clscale sweep: not available in this build yet\n");
  return CLS_EXIT_FAIL;
}
