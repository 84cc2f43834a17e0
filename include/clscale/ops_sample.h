/*
 * clscale/ops_sample.h — drawing one token per row of logits on the device:
 * temperature, top-k and top-p (nucleus) truncation, seeded. Included by
 * clscale/ops.h; the conventions there apply.
 *
 * A row's draw is defined exactly, so that the host reference (and any
 * device) agrees with it:
 *   1. The order of the tokens is by logit, descending, ties broken by the
 *      lower index first.
 *   2. Weights e_i = exp((x_i - max x) / temperature) (a logit of -inf has
 *      weight 0).
 *   3. top_k (1 <= k < vocab) keeps the first k tokens of the order.
 *   4. top_p (< 1) then keeps the shortest prefix of the order whose weight
 *      is at least top_p times the weight kept by step 3.
 *   5. u is uniform in [0, 1) with 24 bits, from Philox4x32-10 (core's
 *      counter RNG, clscale's own stream for sampling) keyed by the seed
 *      at the counter (row number, position); the token is the first kept
 *      index, in index order, at which the running sum of kept weights
 *      exceeds u times their total.
 * With greedy, the token is the first of the order (argmax, the lowest
 * index among ties) and steps 2-5 are skipped. So a row's token depends on
 * its logits, the parameters, the seed, its row number and the position
 * only: not on the batch it was drawn in.
 *
 * A row holding a NaN or +inf logit, or only -inf, has no distribution:
 * its token is -1 (the caller reports CLS_ERR_NUMERIC).
 */
#ifndef CLSCALE_OPS_SAMPLE_H
#define CLSCALE_OPS_SAMPLE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cls_sample_params {
  float temperature; /* > 0 and finite (use greedy for argmax) */
  size_t top_k;      /* 0: no cut; else keep the k most likely (k >= vocab: no cut) */
  float top_p;       /* in (0, 1]; 1: no cut */
  int greedy;        /* 1: argmax; temperature, top_k and top_p are not used */
  uint64_t seed;
} cls_sample_params;

/* temperature 1, no top-k, top-p 1, not greedy, seed 1. */
void cls_sample_params_default(cls_sample_params *p);

/* Checks p without a context: CLS_OK, or CLS_ERR_INVALID_VALUE with a
 * message naming the field (`temperature`, `top_p`, `greedy`) in err. */
cls_status cls_sample_params_check(const cls_sample_params *p, char *err, size_t err_len);

/* The row-number stream of Philox the sampler draws from (core/rng.h's
 * stream), for host code that reproduces its draws. */
#define CLS_SAMPLE_STREAM 0x73616d70u /* "samp" */

/* Floats of cls_sample's scratch: rows * vocab. */
size_t cls_sample_scratch(size_t rows, size_t vocab);

/* tokens[r] = the token drawn from row r of logits (rows x vocab,
 * contiguous), as a float id (-1: the row has no distribution); row r is
 * row number first_row + r for the random numbers, drawn at `position`.
 * scratch holds cls_sample_scratch floats. vocab <= 2^24. tokens must not
 * overlap logits or scratch. One work-item per row: rows are the few
 * sequences of a batch. */
cls_status cls_sample(cls_context *ctx, size_t rows, size_t vocab, cls_ref logits, const cls_sample_params *p,
                      uint64_t first_row, uint32_t position, cls_ref scratch, cls_ref tokens);

#ifdef __cplusplus
}
#endif
#endif
