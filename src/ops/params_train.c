/* Device parameters of the training ops (cl/elementwise.cl, cl/adamw.cl,
 * cl/reduce.cl): ELT_VEC elements per work-item in GELU and AdamW (a full
 * AVX-512 vector on CPUs, where PoCL does not widen narrower code itself;
 * 4 on GPUs, whose lanes are work-items), ELT_LOCAL their work-group size;
 * RED_WG the work-group size of the reductions and RED_ITEMS the floats
 * each work-item sums before the tree. See params_internal.h. */
#include "params_internal.h"

/* What the kernels can take: ELT_VEC a vector type's width (1: scalar),
 * work-group sizes up to PoCL's 4096 (launches clamp them to the device's;
 * RED_WG is rounded down to a power of two there). */
static const cls__param_range train_ranges[] = {
    {"ELT_VEC", 1, 16, 1},        {"ELT_LOCAL", 1, 4096, 0}, {"RED_WG", 1, 4096, 0},
    {"RED_ITEMS", 1, 1 << 16, 0}, {NULL, 0, 0, 0},
};

const cls__param_family cls__params_train = {
    "train",
    {
        [CLS__SET_CPU] = "ELT_VEC=16 ELT_LOCAL=256 RED_WG=64 RED_ITEMS=64",
        [CLS__SET_NVIDIA_GPU] = "ELT_VEC=4 ELT_LOCAL=256 RED_WG=256 RED_ITEMS=16",
        [CLS__SET_AMD_GPU] = "ELT_VEC=4 ELT_LOCAL=256 RED_WG=256 RED_ITEMS=16",
        [CLS__SET_INTEL_GPU] = "ELT_VEC=4 ELT_LOCAL=256 RED_WG=256 RED_ITEMS=16",
        [CLS__SET_GENERIC_GPU] = "ELT_VEC=1 ELT_LOCAL=128 RED_WG=128 RED_ITEMS=16",
    },
    train_ranges,
};
