/*
 * tools/portability/print_defines.c - prints the -D options of the library's
 * own device parameter table, for the portability gate (tools/portability/
 * check.sh), so the gate compiles the kernels with exactly the parameter
 * sets the library builds them with on each vendor, never with a copy.
 *
 *   cls_print_defines --list         every set name, one per line
 *   cls_print_defines SET [PROGRAM]  the -D string of SET for cl/PROGRAM.cl
 *
 * Exit code 0 ok, 1 unknown set, 2 bad usage.
 */
#include <stdio.h>
#include <string.h>

#include "clscale/device.h"

int main(int argc, char **argv) {
  if (argc == 2 && !strcmp(argv[1], "--list")) {
    for (size_t i = 0; i < cls_params_count(); i++) printf("%s\n", cls_params_name(i));
    return 0;
  }
  if (argc < 2 || argc > 3 || argv[1][0] == '-') {
    fprintf(stderr, "usage: %s --list | SET [PROGRAM]\n", argv[0]);
    return 2;
  }
  char defines[2048];
  cls_status s = cls_params_defines(argv[1], argc == 3 ? argv[2] : "", defines, sizeof defines);
  if (s != CLS_OK) {
    fprintf(stderr, "%s: no parameter set '%s' in the device table; the sets are:", argv[0], argv[1]);
    for (size_t i = 0; i < cls_params_count(); i++) fprintf(stderr, " %s", cls_params_name(i));
    fprintf(stderr, "\n");
    return 1;
  }
  printf("%s\n", defines);
  return 0;
}
