/*
 * src/nn/gpt_infer.h — generation from a GPT (gpt.h) on the device: a
 * key/value cache per layer, so that each new token costs one position's
 * forward pass (generation is linear in its length), and the sampler of
 * clscale/ops_sample.h on the logits.
 *
 * The inference state has its own activations, sized for up to max_batch
 * sequences of the model's whole context, and shares the model's
 * parameters: a model built for training (cls_gpt_create at any batch and
 * sequence) samples as it is, and training may continue in between.
 *
 * Sequences of a batch share a prompt length; position p of sequence b
 * draws its token from Philox at (seed, first_sequence + b, p): the tokens
 * of a sequence do not depend on the batch it is generated in (up to the
 * float rounding of the batch's matmuls).
 */
#ifndef CLSCALE_NN_GPT_INFER_H
#define CLSCALE_NN_GPT_INFER_H

#include <stddef.h>
#include <stdint.h>

#include "clscale/ops.h"
#include "nn/gpt.h"

typedef struct cls_gpt_infer cls_gpt_infer;

/* The inference state of g for batches of up to max_batch sequences. */
cls_status cls_gpt_infer_create(cls_gpt *g, size_t max_batch, cls_gpt_infer **out);
void cls_gpt_infer_destroy(cls_gpt_infer *s);

/* Forgets the cache and runs the B x T prompt tokens (host ids in [0,
 * vocab), row-major) at positions 0 .. T-1 in one pass, keeping their keys
 * and values; the logits of position T-1 follow (cls_gpt_infer_logits). */
cls_status cls_gpt_infer_prefill(cls_gpt_infer *s, const int32_t *tokens, size_t B, size_t T);

/* Runs one more token per sequence (B host ids, B of the prefill) at the
 * next position, against the cache; its logits follow. */
cls_status cls_gpt_infer_step(cls_gpt_infer *s, const int32_t *tokens);

/* The positions the cache holds (0 before a prefill). */
size_t cls_gpt_infer_position(const cls_gpt_infer *s);

/* The last position's logits, B x vocab, into out. */
cls_status cls_gpt_infer_logits(cls_gpt_infer *s, float *out);

typedef struct cls_gpt_sample_config {
  cls_sample_params sampling; /* temperature, top-k, top-p, greedy, seed */
  uint64_t first_sequence;    /* the number of the batch's first sequence (for its random numbers) */
  int32_t stop_token;         /* -1: none; else a row ends with it (see cls_gpt_infer_sample) */
  int no_cache;               /* 1: recompute the whole prefix at every step (quadratic; for comparison) */
  /* Called after every generated position (done of total); may be NULL. */
  void (*progress)(void *user, size_t done, size_t total);
  void *progress_user;
} cls_gpt_sample_config;

/* cls_sample_params_default, first sequence 0, no stop token, the cache,
 * no progress. */
void cls_gpt_sample_config_default(cls_gpt_sample_config *c);

/* Checks a request before any device work: the sampling parameters, the
 * lengths (prompt_len >= 1, gen_len >= 1, prompt_len + gen_len <= the
 * model's context) and the stop token (-1 or in [0, vocab)). CLS_OK, or
 * CLS_ERR_INVALID_VALUE / CLS_ERR_INVALID_SIZE with the message in err
 * naming the field in backquotes (`temperature`, `top_p`, `prompt`,
 * `length`, `stop_token`, `batch`). */
cls_status cls_gpt_sample_check(const cls_gpt *g, const cls_gpt_sample_config *c, size_t B, size_t prompt_len,
                                size_t gen_len, char *err, size_t err_len);

/* Generates gen_len tokens after each of the B prompts (B x prompt_len
 * host ids) into out (B x gen_len, row-major). With a stop token, a row
 * ends with its first stop token: the rest of the row is filled with the
 * stop token, lengths[b] is the row's length up to and including it (else
 * gen_len), and generation ends early once every row has stopped. lengths
 * may be NULL. A row whose logits are not finite fails with
 * CLS_ERR_NUMERIC. */
cls_status cls_gpt_infer_sample(cls_gpt_infer *s, const cls_gpt_sample_config *c, const int32_t *prompts, size_t B,
                                size_t prompt_len, size_t gen_len, int32_t *out, size_t *lengths);

/* The same with an inference state made for the call. */
cls_status cls_gpt_sample(cls_gpt *g, const cls_gpt_sample_config *c, const int32_t *prompts, size_t B,
                          size_t prompt_len, size_t gen_len, int32_t *out, size_t *lengths);

#endif
