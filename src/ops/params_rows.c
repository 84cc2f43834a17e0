/* Device parameters of the row-wise kernels (cl/softmax.cl, cl/norm.cl,
 * cl/attention.cl);
 * see params_internal.h.
 *   ROW_VARIANT 0 = one row per work-item (fast on CPUs, whose runtimes run a
 *               group's items one after the other: a row is a vector loop),
 *               1 = one work-group per row with a local-memory reduction
 *               (what GPUs need).
 *   ROW_WG      work-group size of variant 1 (a power of two; smaller rows
 *               get the next power of two above their length).
 *   ROW_LOCAL   work-group size of variant 0 (rows per group): enough rows
 *               to amortise the runtime's cost per group.
 *   ROW_VEC     vector width (2, 4, 8, 16) of variant 0's row loops.
 *   ROW_CVEC    columns per work-item (1, 2, 4, 8, 16) of the dgamma/dbeta
 *               column pass, shared by both variants.
 *   ROW_PART    rows per part of that column pass: parts are summed by a
 *               second small kernel, which bounds the rounding error of long
 *               sums and gives enough work-items when cols is small. 4096 on
 *               CPUs: a bias gradient of up to 4096 rows is then one launch
 *               (the emulator at width 16: 11 of 175 launches a step fewer,
 *               steps 1.05-1.2x faster; the GPT unchanged within noise;
 *               interleaved, 2026-12-07, load 1-2.7); the CPU norms cut
 *               their rows by compute units anyway (src/ops/norm.c).
 *   ROW_CLOCAL  work-group size of that column pass (and of its finish).
 *   ROW_PAIR    variant 0 runs non-causal softmax rows of at most this many
 *               columns two per work-item, in lockstep (0: never).
 *   ROW_PACK    variant 0 runs softmax and LayerNorm/RMSNorm forward rows
 *               of 1 to 4 whole vectors (cols a multiple of ROW_VEC, at
 *               most 4 * ROW_VEC) this many per work-item, held in
 *               registers (0: never). Results are bitwise those of a
 *               row per work-item. 4 on the 2-core AVX-512 CPU: 4 rows x
 *               4 vectors of 16 fill half of its 32 vector registers
 *               (cl/softmax.cl and cl/norm.cl give the measurements).
 *   ATTN_TK     attention with at most this many keys and heads of at
 *   ATTN_DH     most ATTN_DH columns runs as one kernel forward and two
 *               backward (cl/attention.cl); other shapes, or ATTN_TK=0,
 *               take the matmuls and the softmax op.
 *   ATTN_VEC    which of cl/attention.cl's kernels: 0, a query row per
 *               work-item with scalar loops (GPUs: a row per work-item is
 *               plenty of parallelism there, and launches cost more;
 *               unmeasured guesses); 16, up to 16 keys as the lanes of a
 *               float16 (needs ROW_VEC=16), ATTN_QB queries a work-item
 *               (CPUs: PoCL does not vectorise the scalar loops, and those
 *               made the emulator's steps slower than the matmul way on
 *               the 2-core CPU, 2026-12-06; the float16 kernels make them
 *               faster, measured in docs/performance.md).
 *   ATTN_QB     queries a work-item of the float16 kernels: they gather a
 *               head's keys and values once for this many queries (results
 *               do not depend on it). On the 2-core CPU, emulator width 16,
 *               32 took 0.7-0.9x the device time of 8 (2026-12-07, load
 *               4); 16 keeps more work-items for small batches.
 *   ATTN_QDH    among the float16 kernels (ATTN_VEC=16; no effect
 *               otherwise), forward passes with heads of at most this many
 *               columns take those with 16 queries as the lanes instead of
 *               the keys: no horizontal max or sums, which dominate at
 *               small heads (0: never). 16 on the 2-core CPU: emulator
 *               training, attention_fwd device time 0.8x at width 16 and
 *               0.6-0.7x at width 32 (head_dim 4, 8) and 0.6-0.7x at the
 *               sweep shape's width 48 (head_dim 12) (2026-12-07, load
 *               0.1-1.8, interleaved runs of one build).
 *   ATTN_QDH_BWD the same for the backward (the two share the probs
 *               layout, so each pass picks alone). 0 on the 2-core CPU:
 *               there the queries-as-lanes backward took 0.75x the CPU
 *               time of the float16 one in isolation (hot caches) but
 *               1.0-1.3x its device time inside emulator training (widths
 *               16, 32, same runs as above). */
#include "params_internal.h"

/* What the kernels can take (work-group sizes up to PoCL's 4096; the
 * launches clamp them to what a device runs). */
static const cls__param_range rows_ranges[] = {
    {"ROW_VARIANT", 0, 1, 0},
    {"ROW_WG", 1, 4096, 1},
    {"ROW_LOCAL", 1, 4096, 0},
    {"ROW_VEC", 2, 16, 1},
    {"ROW_CVEC", 1, 16, 1},
    {"ROW_PART", 1, 1 << 20, 0},
    {"ROW_CLOCAL", 1, 4096, 0},
    {"ROW_PAIR", 0, 1 << 20, 0},
    {"ROW_PACK", 0, 8, 0},
    {"ATTN_TK", 0, 256, 0},
    {"ATTN_DH", 1, 1 << 16, 0},
    {"ATTN_VEC", 0, 16, 0},
    {"ATTN_QB", 1, 1024, 0},
    {"ATTN_QDH", 0, 64, 0},
    {"ATTN_QDH_BWD", 0, 64, 0},
    {NULL, 0, 0, 0},
};

const cls__param_family cls__params_rows = {
    "rows",
    {
        [CLS__SET_CPU] = "ROW_VARIANT=0 ROW_WG=64 ROW_LOCAL=16 ROW_VEC=16 ROW_CVEC=16 ROW_PART=4096 ROW_CLOCAL=16 "
                         "ROW_PAIR=128 ROW_PACK=4 ATTN_TK=16 ATTN_DH=32 ATTN_VEC=16 ATTN_QB=16 ATTN_QDH=16 "
                         "ATTN_QDH_BWD=0",
        [CLS__SET_NVIDIA_GPU] = "ROW_VARIANT=1 ROW_WG=256 ROW_LOCAL=64 ROW_VEC=4 ROW_CVEC=1 ROW_PART=256 "
                                "ROW_CLOCAL=64 ATTN_TK=64 ATTN_DH=64",
        [CLS__SET_AMD_GPU] = "ROW_VARIANT=1 ROW_WG=256 ROW_LOCAL=64 ROW_VEC=4 ROW_CVEC=1 ROW_PART=256 "
                             "ROW_CLOCAL=64 ATTN_TK=64 ATTN_DH=64",
        [CLS__SET_INTEL_GPU] = "ROW_VARIANT=1 ROW_WG=128 ROW_LOCAL=64 ROW_VEC=4 ROW_CVEC=1 ROW_PART=256 "
                               "ROW_CLOCAL=64 ATTN_TK=64 ATTN_DH=64",
        [CLS__SET_GENERIC_GPU] = "ROW_VARIANT=1 ROW_WG=128 ROW_LOCAL=64 ROW_VEC=4 ROW_CVEC=1 ROW_PART=256 "
                                 "ROW_CLOCAL=64 ATTN_TK=64 ATTN_DH=64",
    },
    rows_ranges,
};
