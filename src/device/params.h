/*
 * src/device/params.h — the device parameter table, split by kernel family.
 *
 * A parameter set is chosen per device (by vendor and type). Each kernel
 * family keeps its column of the table in its own file
 * (src/device/params_<family>.c): one string of NAME=VALUE pairs, separated
 * by spaces, per set, in the order of enum cls__param_set. Every program is
 * built with the -D options of all families, so a kernel can read any
 * parameter; CLSCALE_PARAMS="NAME=V,NAME=V" overrides single values.
 */
#ifndef CLSCALE_DEVICE_PARAMS_H
#define CLSCALE_DEVICE_PARAMS_H

enum cls__param_set {
  CLS__SET_CPU = 0,     /* CPU devices: PoCL, Intel's CPU runtime */
  CLS__SET_NVIDIA_GPU,  /* NVIDIA GPUs */
  CLS__SET_AMD_GPU,     /* AMD GPUs (ROCm, Mesa rusticl/clover) */
  CLS__SET_INTEL_GPU,   /* Intel integrated and Arc GPUs */
  CLS__SET_GENERIC_GPU, /* any other GPU or accelerator */
  CLS__SET_COUNT
};

extern const char *const cls__params_matmul[CLS__SET_COUNT];
extern const char *const cls__params_rows[CLS__SET_COUNT];
extern const char *const cls__params_peak[CLS__SET_COUNT];
extern const char *const cls__params_train[CLS__SET_COUNT];

#endif
