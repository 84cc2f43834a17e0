/*
 * tools/cmd_devices.c — `clscale devices`: every platform and device, and
 * the one clscale would choose.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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

/* Each ICD file's line: the library the loader is told to open. */
static void print_icd_file(const char *path, const char *name) {
  char lib[512] = "";
  FILE *f = fopen(path, "r");
  if (f) {
    if (!fgets(lib, sizeof lib, f)) lib[0] = 0;
    fclose(f);
  }
  lib[strcspn(lib, "\r\n")] = 0;
  printf("  %s -> %s\n", name, lib[0] ? lib : "(unreadable or empty)");
}

/* The OpenCL implementations the ICD loader was pointed at: where it looks
 * (OCL_ICD_VENDORS replaces /etc/OpenCL/vendors, as the intel test label
 * uses it; OCL_ICD_FILENAMES adds libraries) and the library each .icd file
 * names. A file listed here with no platform below failed to load (a
 * missing dependency, for one). */
static void print_icds(void) {
  const char *env = getenv("OCL_ICD_VENDORS");
  const char *dir = env && *env ? env : "/etc/OpenCL/vendors";
  struct stat st;
  if (env && *env && stat(env, &st) == 0 && !S_ISDIR(st.st_mode)) {
    printf("OpenCL implementations (ICD loader: OCL_ICD_VENDORS names one):\n");
    if (strlen(env) > 4 && !strcmp(env + strlen(env) - 4, ".icd"))
      print_icd_file(env, env);
    else
      printf("  %s\n", env);
  } else {
    printf("OpenCL implementations (ICD files in %s%s):\n", dir, env && *env ? ", from OCL_ICD_VENDORS" : "");
    DIR *d = opendir(dir);
    size_t n = 0;
    for (struct dirent *e; d && (e = readdir(d)) != NULL;) {
      size_t len = strlen(e->d_name);
      if (len < 5 || strcmp(e->d_name + len - 4, ".icd") != 0) continue;
      char path[1024];
      snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
      print_icd_file(path, e->d_name);
      n++;
    }
    if (d) closedir(d);
    if (!n) printf("  none%s\n", d ? "" : " (the folder cannot be read)");
  }
  const char *extra = getenv("OCL_ICD_FILENAMES");
  if (extra && *extra) printf("  and from OCL_ICD_FILENAMES: %s\n", extra);
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
  cmd->about = "Lists the OpenCL implementations the ICD loader was pointed at (.icd files and\n"
               "their libraries), then every platform and device with its type, vendor, compute\n"
               "units, clock, memory, OpenCL C version, fp16/fp64 support and the kernel\n"
               "parameter set it gets and why, and marks with '*' the device clscale would use\n"
               "(--device or CLSCALE_DEVICE, else the fastest GPU, else the CPU device).";
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
  if (sel && !*sel) sel = NULL; /* CLSCALE_DEVICE= is the default, as for contexts */
  char err[4096];
  /* Checked here as every context checks it: the listing would otherwise
   * show the sets as if the overrides applied. */
  if (cls_params_check(getenv("CLSCALE_PARAMS"), err, sizeof err) != CLS_OK)
    return cls_opt_fail(&cmd, CLS_EXIT_USAGE, "CLSCALE_PARAMS: %s", err);
  cls_device_list *list;
  print_icds();
  cls_status s = cls_devices_list(&list, err, sizeof err);
  if (s != CLS_OK) {
    cls_opt_fail(&cmd, 0, "%s", err);
    if (show_params) print_params();
    return CLS_EXIT_FAIL;
  }
  size_t chosen;
  cls_status sel_status = cls_device_select(list, sel, &chosen, err, sizeof err);
  const char *param_set = getenv("CLSCALE_PARAM_SET");
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
    printf("        %s, driver %s, fp16 %s, fp64 %s\n", d->opencl_c_version, d->driver_version,
           d->has_fp16 ? "yes" : "no", d->has_fp64 ? "yes" : "no");
    if (param_set && *param_set)
      printf("        parameter set %s: named by CLSCALE_PARAM_SET (its own: %s, %s)\n", param_set, d->params_name,
             d->params_reason);
    else
      printf("        parameter set %s: %s\n", d->params_name, d->params_reason);
  }
  for (size_t i = 0; i < list->platform_error_count; i++) printf("warning: %s\n", list->platform_errors[i]);
  if (sel_status == CLS_OK)
    printf("* = the device clscale uses%s%s%s\n",
           sel ? " (selector '"
               : " (default: fastest GPU, else CPU; a 0 MHz device beside another of its type is ranked by a "
                 "short FMA measurement)",
           sel ? sel : "", sel ? "')" : "");
  if (show_params) print_params();
  cls_device_list_free(list);
  if (sel_status != CLS_OK) {
    cls_opt_fail(&cmd, 0, "%s", err);
    return CLS_EXIT_FAIL;
  }
  return CLS_EXIT_OK;
}
