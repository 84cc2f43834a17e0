/* Device parameters of the matmul kernels (cl/matmul.cl); see params_internal.h.
 *
 *   MM_LOCAL  0: register-blocked kernel mm_regs (CPUs); 1: local-memory
 *             tiles mm_local (GPUs). Both kernels are compiled everywhere.
 *   mm_regs:  a work-item computes MM_MR rows x (MM_NV vectors of MM_VW
 *             floats) of C; MM_LM work-items per group walk down the rows
 *             sharing one packed B panel (kept in cache). MM_MR2, MM_NV2,
 *             MM_VW2: the tile used instead on CPUs without AVX-512 (16
 *             vector registers of 256 bits) and on ARM; MM_NARROW=1 forces it.
 *   mm_local: MM_TM x MM_TN tile per group, MM_TK deep through local memory,
 *             MM_WM x MM_WN outputs per work-item.
 *   MM_KP     packed panels are padded in k to a multiple of this.
 *   MM_KC     mm_regs: k is split into chunks of about this many (0:
 *             never), when (m + n) k floats exceed MM_KCF (2 MiB
 *             on CPUs: their L2; 0 splits every long k, for tests).
 *   MM_KSPLIT mm_regs: 1 runs those chunks side by side in one launch,
 *             each into a partial C of its own, and adds the partials in
 *             chunk order in a second (mm_ksum); 0 runs one launch per
 *             chunk, each adding into C.
 *   MM_BTK    mm_regs: a transposed B of at most one panel is read in
 *             place (gathered) when m k <= MM_BTK (0: never).
 * The SPD solve (cl/cholesky.cl, src/ops/cholesky.c) runs on these kernels
 * and adds, in a line of its own per set:
 *   CHOL_NB     rows of a diagonal block (factored in local memory, so
 *               CHOL_NB^2 + CHOL_NB floats must fit there) and the k of every update
 *   CHOL_WG     work-group size of the diagonal-block kernel
 *   CHOL_RWG    work-group size of the residual (a power of two)
 *   CHOL_OB     columns of an outer panel (a multiple of CHOL_NB; default
 *               CHOL_NB): its blocks update only the panel, and the matrix
 *               right of it takes one update of depth CHOL_OB, which moves
 *               CHOL_OB / CHOL_NB times less memory than one per block
 *   CHOL_TRSV   up to this many right-hand sides, each substitution is one
 *               single-work-group kernel walking the factor (chol_subst)
 *               rather than two products per block; 0 (the default, for
 *               GPUs, where one work-group is a sliver of the chip) never
 *   CHOL_RROW   1: the residual takes one work-item per entry (CPUs, where
 *               a core reads a row best); else one work-group per entry
 */
#include "params_internal.h"

/* What the kernels can take: vector widths the kernels have types for,
 * register tiles the compilers keep in registers, tiles of mm_local that a
 * work-group and its local memory can hold (powers of two, so that MM_WM
 * and MM_WN can divide them), and the overrides no set defines (MM_ADIRECT,
 * MM_BDIRECT: 0 never, 1 when it pays, 2 always read in place; MM_NPW:
 * 0 chooses; MM_NARROW: 1 forces the narrow tile). */
static const cls__param_range matmul_ranges[] = {
    {"MM_LOCAL", 0, 1, 0},     {"MM_VW", 2, 16, 1},      {"MM_MR", 1, 32, 0},          {"MM_NV", 1, 16, 0},
    {"MM_VW2", 2, 16, 1},      {"MM_MR2", 1, 32, 0},     {"MM_NV2", 1, 16, 0},         {"MM_LM", 1, 4096, 0},
    {"MM_KP", 1, 256, 0},      {"MM_KC", 0, 1 << 20, 0}, {"MM_KCF", 0, 1 << 30, 0},    {"MM_KSPLIT", 0, 1, 0},
    {"MM_BTK", 0, 1 << 20, 0}, {"MM_TM", 4, 256, 1},     {"MM_TN", 4, 256, 1},         {"MM_TK", 1, 64, 1},
    {"MM_WM", 1, 16, 1},       {"MM_WN", 1, 16, 1},      {"MM_ADIRECT", 0, 2, 0},      {"MM_BDIRECT", 0, 2, 0},
    {"MM_NPW", 0, 4096, 0},    {"MM_NARROW", 0, 1, 0},   {"CHOL_NB", 1, 256, 0},       {"CHOL_OB", 1, 1 << 16, 0},
    {"CHOL_WG", 1, 4096, 0},   {"CHOL_RWG", 1, 4096, 1}, {"CHOL_TRSV", 0, 1 << 16, 0}, {"CHOL_RROW", 0, 1, 0},
    {NULL, 0, 0, 0},
};

const cls__param_family cls__params_matmul = {
    "matmul",
    {
        /* AVX-512: 12 x 32 floats = 24 of the 32 zmm registers accumulate; per
         * k step 2 vector loads and 12 broadcasts feed 24 FMAs. AVX2: 6 x 16
         * floats = 12 of the 16 ymm registers. */
        [CLS__SET_CPU] =
            "MM_LOCAL=0 MM_VW=16 MM_MR=12 MM_NV=2 MM_VW2=8 MM_MR2=6 MM_NV2=2 MM_LM=4 MM_KP=1 MM_KC=512"
            " MM_KCF=524288 MM_KSPLIT=1 MM_BTK=2048 MM_TM=32 MM_TN=32 MM_TK=8 MM_WM=4 MM_WN=4"
            " CHOL_NB=64 CHOL_OB=256 CHOL_WG=16 CHOL_RWG=16 CHOL_TRSV=8 CHOL_RROW=1",
        [CLS__SET_NVIDIA_GPU] =
            "MM_LOCAL=1 MM_TM=64 MM_TN=64 MM_TK=16 MM_WM=4 MM_WN=4 MM_KP=16 MM_VW=4 MM_MR=4 MM_NV=2 MM_LM=1"
            " CHOL_NB=64 CHOL_WG=256 CHOL_RWG=256",
        [CLS__SET_AMD_GPU] =
            "MM_LOCAL=1 MM_TM=64 MM_TN=64 MM_TK=16 MM_WM=4 MM_WN=4 MM_KP=16 MM_VW=4 MM_MR=4 MM_NV=2 MM_LM=1"
            " CHOL_NB=64 CHOL_WG=256 CHOL_RWG=256",
        [CLS__SET_INTEL_GPU] =
            "MM_LOCAL=1 MM_TM=32 MM_TN=32 MM_TK=16 MM_WM=4 MM_WN=4 MM_KP=16 MM_VW=4 MM_MR=4 MM_NV=2 MM_LM=1"
            " CHOL_NB=64 CHOL_WG=128 CHOL_RWG=128",
        [CLS__SET_GENERIC_GPU] =
            "MM_LOCAL=1 MM_TM=32 MM_TN=32 MM_TK=8 MM_WM=2 MM_WN=2 MM_KP=8 MM_VW=4 MM_MR=4 MM_NV=2 MM_LM=1"
            " CHOL_NB=32 CHOL_WG=128 CHOL_RWG=128",
    },
    matmul_ranges,
};
