/* tools/device_choice.c — see device_choice.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clscale/device.h"
#include "commands.h"
#include "device_choice.h"

static void add(cls_device_choice *out, const cls_device_info *d) {
  snprintf(out->sel[out->n], sizeof out->sel[0], "%d:%d", d->platform_index, d->device_index);
  snprintf(out->name[out->n], sizeof out->name[0], "%s", d->name);
  out->mem[out->n] = d->global_mem_bytes;
  out->n++;
}

static int choose_all(const cls_device_list *list, cls_device_choice *out, char *err, size_t len) {
  for (size_t i = 0; i < list->count && out->n < CLS_MAX_WORKERS; i++) add(out, &list->devices[i]);
  if (out->n) return CLS_EXIT_OK;
  snprintf(err, len, "no OpenCL device found");
  return CLS_EXIT_FAIL;
}

/* Each selector of the list (or the one selector) in turn. */
static int choose_listed(const cls_device_list *list, const char *devices, const char *device,
                         cls_device_choice *out, char *err, size_t len) {
  char buf[1024];
  const char *env = getenv("CLSCALE_DEVICE");
  snprintf(buf, sizeof buf, "%s", devices ? devices : device ? device : env ? env : "");
  char *save = NULL;
  char *tok = devices ? strtok_r(buf, ",", &save) : buf;
  for (; tok; tok = devices ? strtok_r(NULL, ",", &save) : NULL) {
    if (out->n == CLS_MAX_WORKERS) {
      snprintf(err, len, "--devices: at most %d workers", CLS_MAX_WORKERS);
      return CLS_EXIT_USAGE;
    }
    size_t idx;
    char why[2048];
    /* "default": what --device would choose without a selector */
    const char *sel = devices && !strcmp(tok, "default") ? (env ? env : "") : tok;
    if (cls_device_select(list, sel, &idx, why, sizeof why) != CLS_OK) {
      snprintf(err, len, "%s", why);
      return CLS_EXIT_FAIL;
    }
    add(out, &list->devices[idx]);
  }
  if (out->n) return CLS_EXIT_OK;
  snprintf(err, len, "--devices: the list is empty");
  return CLS_EXIT_USAGE;
}

int cls_choose_devices(const char *devices, const char *device, cls_device_choice *out, char *err, size_t len) {
  out->n = 0;
  cls_device_list *list;
  if (cls_devices_list(&list, err, len) != CLS_OK) return CLS_EXIT_FAIL;
  int code = devices && !strcmp(devices, "all") ? choose_all(list, out, err, len)
                                                : choose_listed(list, devices, device, out, err, len);
  cls_device_list_free(list);
  return code;
}

void cls_device_choice_names(const cls_device_choice *c, char *out, size_t len) {
  if (len) out[0] = 0;
  for (size_t i = 0; i < c->n; i++) {
    size_t l = strlen(out);
    snprintf(out + l, len - l, "%s%s", i ? ", " : "", c->name[i]);
  }
}
