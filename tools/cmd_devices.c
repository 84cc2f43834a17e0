/*
 * tools/cmd_devices.c — `clscale devices`: every platform and device, and
 * the one clscale would choose.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clscale/device.h"
#include "command.h"
#include "commands.h"
#include "options.h"

static const char *type_name(cls_device_type t) {
  return t == CLS_DEVICE_GPU           ? "gpu"
         : t == CLS_DEVICE_CPU         ? "cpu"
         : t == CLS_DEVICE_ACCELERATOR ? "accel"
                                       : "other";
}

static void print_params(void) {
  printf("\ndevice parameter sets (chosen by vendor and type; override with CLSCALE_PARAMS=NAME=V,...):\n");
  for (size_t i = 0; i < cls_params_count(); i++) {
    char defs[1024];
    cls_params_defines(cls_params_name(i), "matmul", defs, sizeof defs);
    printf("  %-12s %s\n  %-12s %s\n", cls_params_name(i), cls_params_description(i), "", defs);
  }
}

static void devices_command(cls_opt_command *cmd, cls_option *opts, size_t cap, const char **sel, int *params) {
  const cls_option table[] = {
      {CLS_OPT(CLS_OPT_STRING, "--device", sel, "SEL", "device",
               "show which device SEL selects: P:D, gpu, cpu, or a name substring")},
      {CLS_OPT(CLS_OPT_FLAG, "--params", params, NULL, "params",
               "also list the device parameter sets and their -D options")},
  };
  cls_cmd_set_options(cmd, opts, cap, table, sizeof table / sizeof table[0]);
  cmd->name = "devices";
  cmd->usage = "usage: clscale devices [--device SELECTOR] [--params]";
  cmd->about = "Lists every OpenCL platform and device with its type, vendor, compute units,\n"
               "clock, memory, OpenCL C version and fp16/fp64 support, and marks with '*' the\n"
               "device clscale would use (--device or CLSCALE_DEVICE, else the fastest GPU,\n"
               "else the CPU device).";
  cmd->epilogue = NULL;
  cmd->words = CLS_OPT_WORDS_PLAIN;
}

int cls_cmd_devices(int argc, char **argv) {
  const char *sel = getenv("CLSCALE_DEVICE");
  int show_params = 0;
  cls_option opts[4];
  cls_opt_command cmd;
  devices_command(&cmd, opts, sizeof opts / sizeof opts[0], &sel, &show_params);
  int code = cls_cmd_parse(&cmd, argc, argv);
  if (code != CLS_EXIT_GO_ON) return code;
  char err[4096];
  cls_device_list *list;
  cls_status s = cls_devices_list(&list, err, sizeof err);
  if (s != CLS_OK) {
    cls_opt_fail(&cmd, 0, "%s", err);
    if (show_params) print_params();
    return CLS_EXIT_FAIL;
  }
  size_t chosen;
  cls_status sel_status = cls_device_select(list, sel, &chosen, err, sizeof err);
  int last_platform = -1;
  for (size_t i = 0; i < list->count; i++) {
    const cls_device_info *d = &list->devices[i];
    if (d->platform_index != last_platform) {
      printf("platform %d: %s (%s)\n", d->platform_index, d->platform_name, d->platform_version);
      last_platform = d->platform_index;
    }
    int mark = sel_status == CLS_OK && i == chosen;
    printf("%s %d:%d  %-5s %s\n", mark ? "*" : " ", d->platform_index, d->device_index, type_name(d->type),
           d->name);
    printf("        vendor %s, %u compute units at %u MHz\n", d->vendor, d->compute_units, d->clock_mhz);
    printf("        global memory %.0f MiB (largest buffer %.0f MiB), local memory %.0f KiB\n",
           d->global_mem_bytes / 1048576.0, d->max_alloc_bytes / 1048576.0, d->local_mem_bytes / 1024.0);
    printf("        %s, driver %s, fp16 %s, fp64 %s, parameters %s\n", d->opencl_c_version, d->driver_version,
           d->has_fp16 ? "yes" : "no", d->has_fp64 ? "yes" : "no", d->params_name);
  }
  for (size_t i = 0; i < list->platform_error_count; i++) printf("warning: %s\n", list->platform_errors[i]);
  if (sel_status == CLS_OK)
    printf("* = the device clscale uses%s%s%s\n", sel ? " (selector '" : " (default: fastest GPU, else CPU)",
           sel ? sel : "", sel ? "')" : "");
  if (show_params) print_params();
  cls_device_list_free(list);
  if (sel_status != CLS_OK) {
    cls_opt_fail(&cmd, 0, "%s", err);
    return CLS_EXIT_FAIL;
  }
  return CLS_EXIT_OK;
}
