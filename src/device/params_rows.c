/* Device parameters of the row-wise kernels (softmax, layernorm, rmsnorm):
 * ROW_VARIANT 0 = one row per work-item (fast on CPUs), 1 = one work-group
 * per row with a local-memory reduction (what GPUs need); ROW_WG = the
 * work-group size of variant 1. See params.h. */
#include "device/params.h"

const char *const cls__params_rows[CLS__SET_COUNT] = {
    [CLS__SET_CPU] = "ROW_VARIANT=0 ROW_WG=64",
    [CLS__SET_NVIDIA_GPU] = "ROW_VARIANT=1 ROW_WG=256",
    [CLS__SET_AMD_GPU] = "ROW_VARIANT=1 ROW_WG=256",
    [CLS__SET_INTEL_GPU] = "ROW_VARIANT=1 ROW_WG=128",
    [CLS__SET_GENERIC_GPU] = "ROW_VARIANT=1 ROW_WG=128",
};
