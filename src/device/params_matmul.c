/* Device parameters of the matmul kernels (cl/matmul.cl); see params.h. */
#include "device/params.h"

const char *const cls__params_matmul[CLS__SET_COUNT] = {
    [CLS__SET_CPU] = "MM_TM=32 MM_TN=32 MM_TK=8 MM_WM=4 MM_WN=4",
    [CLS__SET_NVIDIA_GPU] = "MM_TM=64 MM_TN=64 MM_TK=16 MM_WM=4 MM_WN=4",
    [CLS__SET_AMD_GPU] = "MM_TM=64 MM_TN=64 MM_TK=16 MM_WM=4 MM_WN=4",
    [CLS__SET_INTEL_GPU] = "MM_TM=32 MM_TN=32 MM_TK=16 MM_WM=4 MM_WN=4",
    [CLS__SET_GENERIC_GPU] = "MM_TM=32 MM_TN=32 MM_TK=8 MM_WM=2 MM_WN=2",
};
