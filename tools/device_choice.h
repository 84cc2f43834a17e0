/*
 * tools/device_choice.h — the devices a command's workers run on, from
 * --devices all|LIST or --device SEL (or the default), as "P:D" selectors
 * that every worker's context resolves to the same device.
 */
#ifndef CLSCALE_TOOLS_DEVICE_CHOICE_H
#define CLSCALE_TOOLS_DEVICE_CHOICE_H

#include <stddef.h>
#include <stdint.h>

enum { CLS_MAX_WORKERS = 64 };

typedef struct {
  char sel[CLS_MAX_WORKERS][32];   /* "P:D", one per worker */
  char name[CLS_MAX_WORKERS][300]; /* the device's name */
  uint64_t mem[CLS_MAX_WORKERS];   /* its global memory, bytes */
  size_t n;
} cls_device_choice;

/* devices: "all", or a comma-separated list of selectors ("default" is what
 * --device would choose without one; a device listed twice gets two
 * workers); else device (one worker), else CLSCALE_DEVICE, else the
 * library's default. Returns the exit code: 0, 1 (no such device; the
 * platforms failed) or 2 (a bad list), with the message in err. */
int cls_choose_devices(const char *devices, const char *device, cls_device_choice *out, char *err, size_t len);

/* The devices' names, comma-separated: "NVIDIA H100, NVIDIA H100". */
void cls_device_choice_names(const cls_device_choice *c, char *out, size_t len);

#endif
