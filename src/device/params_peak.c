/* Device parameters of the peak-measuring kernels (cl/peak.cl), the device
 * layer's own family (see layer.h): PEAK_VW is the vector width of the FMA
 * chains, the device's full SIMD width on CPUs (16 floats = AVX-512;
 * harmless on AVX2, where it splits in two). */
#include "context_internal.h"

/* PEAK_VW names a vector type (float2 ... float16). */
static const cls__param_range peak_ranges[] = {{"PEAK_VW", 2, 16, 1}, {NULL, 0, 0, 0}};

const cls__param_family cls__params_peak = {
    "peak",
    {
        [CLS__SET_CPU] = "PEAK_VW=16",
        [CLS__SET_NVIDIA_GPU] = "PEAK_VW=4",
        [CLS__SET_AMD_GPU] = "PEAK_VW=4",
        [CLS__SET_INTEL_GPU] = "PEAK_VW=8",
        [CLS__SET_GENERIC_GPU] = "PEAK_VW=4",
    },
    peak_ranges,
};
