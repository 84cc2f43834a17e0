/* Placeholder until the plot issue lands: reports that plotting is not built yet. */
#include <stdio.h>

#include "commands.h"

int cls_cmd_plot(int argc, char **argv) {
  (void)argc;
  (void)argv;
  fprintf(stderr, "clscale plot: not available in this build yet\n");
  return CLS_EXIT_FAIL;
}
