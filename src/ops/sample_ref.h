/*
 * src/ops/sample_ref.h — the double-precision host reference of cls_sample
 * (clscale/ops_sample.h defines the draw): the truncated, renormalised
 * distribution a row is drawn from, and the draw itself. For tests.
 */
#ifndef CLSCALE_OPS_SAMPLE_REF_H
#define CLSCALE_OPS_SAMPLE_REF_H

#include <stddef.h>
#include <stdint.h>

#include "clscale/ops.h"

/* The probabilities (vocab doubles) the draw of row x follows: the kept
 * tokens' weights over their sum, 0 for the others (greedy: 1 at the
 * argmax). 0, or -1 when the row has no distribution (a NaN or +inf, only
 * -inf) or host memory runs out. */
int cls_ref_sample_probs(const float *x, size_t vocab, const cls_sample_params *p, double *probs);

/* The token drawn from row x as row number `row` at `position`, or -1. */
int32_t cls_ref_sample_row(const float *x, size_t vocab, const cls_sample_params *p, uint64_t row,
                           uint32_t position);

#endif
