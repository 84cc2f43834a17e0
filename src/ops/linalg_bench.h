/*
 * src/ops/linalg_bench.h — what the ops layer offers `clscale bench` for the
 * SPD solve (cls_spd_solve, clscale/ops_linalg.h): its time beside a host
 * LAPACK solve of the same system. A layer header like ops/bench.h, not a
 * public API. The runs add to the context's counters like any use of the op.
 */
#ifndef CLSCALE_OPS_LINALG_BENCH_H
#define CLSCALE_OPS_LINALG_BENCH_H

#include <stddef.h>

#include "clscale/ops.h"

typedef struct cls_spd_timing {
  double device_seconds; /* median wall-clock of cls_spd_solve (refinement included), synchronised */
  double host_seconds;   /* median of OpenBLAS's LAPACK spotrf + spotrs on the same float system */
  int refinements;       /* corrections the device solve applied */
  double error;          /* its estimated relative error */
} cls_spd_timing;

/* Times the solve of an n x n system with nrhs right-hand sides: A = G G^T
 * / (2n), G uniform in [-1, 1) (a Wishart matrix, condition about 34), B
 * uniform. One untimed warm-up (kernel builds), then reps timed runs of each
 * solver; the medians in *out. CLS_ERR_INVALID_SIZE when n, nrhs or reps is
 * not positive; CLS_ERR_NUMERIC when the host LAPACK fails. */
cls_status cls_spd_time(cls_context *ctx, size_t n, size_t nrhs, int reps, cls_spd_timing *out);

#endif
