/* src/nn/rf_internal.h — the draws shared by the device model (rf.c) and
 * its host reference (rf_ref.c), so that both see the very same problem.
 *
 * Both compute in whitened coordinates: with x = Λ^½ z, φ = U x = Ũ z for
 * Ũ = U Λ^½, w·x = w̃·z for w̃ = Λ^½ w, and the exact loss
 * (w − Uᵀv)ᵀ Λ (w − Uᵀv) = |w̃ − Ũᵀv|², a plain sum of squares. */
#ifndef CLSCALE_NN_RF_INTERNAL_H
#define CLSCALE_NN_RF_INTERNAL_H

#include <stdint.h>

#include "nn/rf.h"

enum {
  RF_STREAM_U = 1,
  RF_STREAM_W = 2,
  RF_STREAM_Z = 3,
  RF_STREAM_EPS = 4,
  RF_STREAM_ZTEST = 5,
  RF_STREAM_EPSTEST = 6
};

/* out[i*cols + j] = scale * col_scale[j] * N(i, j) of the stream (col_scale
 * may be NULL: 1), i < rows, j < cols, into d (doubles) or f (floats),
 * whichever is not NULL. */
void cls__rf_fill(uint64_t seed, uint32_t stream, size_t rows, size_t cols, double scale, const double *col_scale,
                  double *d, float *f);

#endif
