/*
 * src/train/gpt_checkpoint.h — a trained GPT back from a checkpoint of any
 * task that trains one (the key's `model=gpt`: the text task, and any
 * later task on a GPT), for sampling (nn/gpt_infer.h): the model's shape
 * comes from the checkpoint's key, its parameters from the checkpoint.
 */
#ifndef CLSCALE_TRAIN_GPT_CHECKPOINT_H
#define CLSCALE_TRAIN_GPT_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>

#include "clscale/device.h"
#include "nn/gpt.h"

typedef struct cls_gpt_checkpoint_info {
  char task[64];         /* the task that wrote it ("text") */
  cls_gpt_config config; /* the model's shape */
  uint64_t step, total_steps;
} cls_gpt_checkpoint_info;

/* Builds the GPT the checkpoint at path describes on ctx (training
 * activations for one token only: sampling has its own) with the
 * checkpoint's parameters. Errors, with the path and what to do in err:
 * CLS_ERR_IO (missing, unreadable), CLS_ERR_FORMAT (not a checkpoint,
 * truncated, corrupt, a key without the model's shape, a parameter count
 * that does not match it), CLS_ERR_INVALID_VALUE (a checkpoint of another
 * model), or the device's status. info may be NULL. */
cls_status cls_gpt_load(cls_context *ctx, const char *path, cls_gpt **out, cls_gpt_checkpoint_info *info,
                        char *err, size_t err_len);

/* The same with training activations for forward passes of up to
 * max_batch x max_seq tokens (a teacher that also scores text:
 * cls_gpt_forward); max_seq <= the checkpoint's context, else the
 * device's CLS_ERR_INVALID_SIZE. */
cls_status cls_gpt_load_sized(cls_context *ctx, const char *path, size_t max_batch, size_t max_seq, cls_gpt **out,
                              cls_gpt_checkpoint_info *info, char *err, size_t err_len);

#endif
