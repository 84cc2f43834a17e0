/*
 * src/data/text.h — byte-level text for the GPT: a user's file or the
 * built-in synthetic Zipf-law corpus, a train/validation split, and a
 * deterministic sampler of training windows.
 *
 * Tokens are bytes (vocabulary 256). The last val_fraction of the bytes is the
 * validation split, the rest the training split; both are at least one window
 * (context + 1 bytes) long. docs/data.md has the details. Functions that can
 * fail return a cls_status and, when err is not NULL, write a one-line message.
 */
#ifndef CLSCALE_DATA_TEXT_H
#define CLSCALE_DATA_TEXT_H

#include <stddef.h>
#include <stdint.h>

#include "clscale/status.h"
#include "data/split.h"

#define CLS_TEXT_VOCAB 256

typedef struct cls_text_config {
  const char *path;     /* file read as bytes; NULL = the synthetic Zipf corpus */
  size_t context;       /* T: the sampler's windows hold T + 1 bytes (default 64) */
  double val_fraction;  /* share of the bytes, at the end, held out (default 0.1; 0 = no validation) */
  uint64_t seed;        /* synthetic corpus: seed (default 1) */
  size_t synth_bytes;   /* synthetic corpus: size in bytes (default 4 MiB) */
  size_t synth_vocab;   /* synthetic corpus: distinct pseudo-words (default 8192) */
  double zipf_exponent; /* synthetic corpus: word frequency ~ rank^-exponent (default 1.0) */
} cls_text_config;

void cls_text_config_default(cls_text_config *cfg);

typedef struct cls_text cls_text;

/* Reads the file (CLS_ERR_IO when it is missing or unreadable, CLS_ERR_FORMAT
 * when it is empty or too short for a window in each split) or generates the
 * corpus; CLS_ERR_INVALID_VALUE / CLS_ERR_INVALID_SIZE for a bad config. */
cls_status cls_text_create(const cls_text_config *cfg, cls_text **out, char *err, size_t err_len);
void cls_text_destroy(cls_text *t);

size_t cls_text_context(const cls_text *t);
/* Bytes of a split (0 for test, which text has not, and for an empty val). */
size_t cls_text_size(const cls_text *t, cls_split split);
const uint8_t *cls_text_bytes(const cls_text *t, cls_split split);

/* B windows of context + 1 consecutive bytes of split, as tokens 0..255 into
 * tokens[b * (context + 1) + k]: inputs are tokens 0..T-1 of a row, targets
 * 1..T. Window starts are uniform over the split, a pure function of
 * (seed, split, step, b). */
cls_status cls_text_batch(const cls_text *t, cls_split split, uint64_t seed, uint64_t step, size_t batch,
                          int32_t *tokens, char *err, size_t err_len);

/* Windows first .. first + count - 1 of split as cls_text_batch lays them
 * out: window i starts at a uniform position drawn from Philox (seed,
 * stream) at counter (i, 0), so a caller numbers windows on a stream of
 * its own (the prompts of a generation's teacher) and any range of them is
 * the same whatever the chunks it is drawn in. */
cls_status cls_text_windows(const cls_text *t, cls_split split, uint64_t seed, uint32_t stream, uint64_t first,
                            size_t count, int32_t *tokens, char *err, size_t err_len);

/* The synthetic corpus alone: n bytes of sentences of pseudo-words whose
 * frequencies follow Zipf's law. CLS_ERR_NULL_ARGUMENT (out NULL),
 * CLS_ERR_INVALID_SIZE (vocab 0), CLS_ERR_INVALID_VALUE (exponent outside
 * (0, 5]) or CLS_ERR_OUT_OF_MEMORY. */
cls_status cls_zipf_corpus(uint64_t seed, size_t vocab, double exponent, size_t n, uint8_t *out, char *err,
                           size_t err_len);

#endif
