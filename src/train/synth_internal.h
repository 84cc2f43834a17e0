/*
 * src/train/synth_internal.h — what the teachers of generations share
 * (synth_common.c; train/synth.h): the checks of a request, the reuse of a
 * corpus that is there, loading the teacher, the sampler's settings and
 * the writing of a corpus chunk by chunk. Each task's file (synth_gcd.c,
 * synth_text.c) says only what its sequences are and what it measures.
 */
#ifndef CLSCALE_TRAIN_SYNTH_INTERNAL_H
#define CLSCALE_TRAIN_SYNTH_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "nn/gpt_infer.h"
#include "rundir/rundir.h"
#include "train/synth.h"

/* The request's size and generation: CLS_OK, else CLS_ERR_INVALID_VALUE
 * with the message in err. */
cls_status cls__synth_check_request(const cls_synth_request *req, char *err, size_t err_len);

/* The corpus at req->corpus_path read whole into *c and found to be the
 * one this request makes (key, length and vocab): CLS_OK; else the
 * reader's error, or CLS_ERR_INVALID_VALUE naming the file and the first
 * setting that differs (a corpus is never made again silently: points
 * may have trained on it). */
cls_status cls__synth_read_same(const cls_synth_request *req, const char *key, uint64_t length, uint64_t vocab,
                                cls_corpus *c, char *err, size_t err_len);

/* The teacher of req, after the corpus's folder is made: its checkpoint
 * loaded with training activations for max_batch x max_seq tokens (1 x 1
 * when it only samples), refused unless its vocabulary is vocab and its
 * context at least min_context (`what` names the task's sequences in the
 * message: "sequences of 10 tokens over 14"). */
cls_status cls__synth_teacher(cls_context *ctx, const cls_synth_request *req, size_t vocab, size_t min_context,
                              size_t max_batch, size_t max_seq, const char *what, cls_gpt **gpt, char *err,
                              size_t err_len);

/* The sampler's settings of req: temperature, top-k, top-p, the seed. */
void cls__synth_sample_config(const cls_synth_request *req, cls_gpt_sample_config *cfg);

/* Fills rows (n x length tokens) with the corpus's sequences first ..
 * first + n - 1. A failure returns its status, with a message in err or,
 * when err is left empty, in the context (a device failure). It may
 * return early, CLS_OK, when *req->stop is set. */
typedef cls_status (*cls__synth_fill)(void *user, uint64_t first, size_t n, int32_t *rows, char *err,
                                      size_t err_len);

/* Writes the corpus of req (req->n sequences of length tokens over vocab,
 * with key) chunk sequences at a time through rows (chunk x length),
 * filled by fill; the progress after each chunk. When *req->stop is set
 * it stops between chunks: res->stopped, no corpus, CLS_OK. Else the
 * corpus is in place and *checksum set, or the error with its message. */
cls_status cls__synth_write(cls_context *ctx, const cls_synth_request *req, const char *key, size_t length,
                            size_t vocab, size_t chunk, int32_t *rows, cls__synth_fill fill, void *user,
                            cls_synth_result *res, uint64_t *checksum, char *err, size_t err_len);

/* The corpus file's name in req->corpus_path (for the meta file). */
const char *cls__synth_corpus_name(const cls_synth_request *req);

#endif
