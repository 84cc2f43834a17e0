/* Placeholder until the training engine lands. */
#include <stdio.h>

#include "commands.h"

int cls_cmd_train(int argc, char **argv) {
  (void)argc;
  (void)argv;
  fprintf(stderr, "clscale train: not available in this build yet\n");
  return CLS_EXIT_FAIL;
}
