/*
 * src/train/checkpoint.h — a run's whole state in one file, so that
 * `--resume` continues bitwise where it stopped.
 *
 * The state is: the parameters and AdamW's m and v (the gradient slab is
 * zeroed at every step and need not be kept), the step (the data samplers
 * are pure functions of (seed, step), so the step is their state, and the
 * schedule is a pure function of the step), the train-loss accumulator of
 * the current CSV row, the FLOPs and seconds so far, the CSV rows written
 * so far, the run's configuration key (task.h, plus the loop's
 * hyperparameters) that a resuming run must match, and the auto matmul
 * backend's choices the run has used (cls_matmul_record_text), which a
 * resuming run pins so that it computes what the run would have computed
 * uninterrupted.
 *
 * Layout (native byte order, refused on a machine of the other order):
 *   "CLSCKPT\0", u32 version 2, u32 0x01020304,
 *   u64 key length, key bytes,
 *   u64 choices length, choices bytes (version 2; version 1 has neither and
 *     reads as no choices),
 *   u64 step, u64 total_steps, u64 acc_count, f64 acc_sum,
 *   f64 train_flops, f64 eval_flops, f64 seconds,
 *   u64 rows length, rows bytes,
 *   u64 n (floats per slab), f32 params[n], f32 m[n], f32 v[n],
 *   u64 FNV-1a 64 of every byte before it.
 * Written to a temporary name and renamed (core/file.h), so a crash during a
 * save leaves the previous checkpoint intact.
 */
#ifndef CLSCALE_TRAIN_CHECKPOINT_H
#define CLSCALE_TRAIN_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>

#include "clscale/device.h"
#include "nn/params.h"

typedef struct cls_ckpt_state {
  uint64_t step;        /* updates done */
  uint64_t total_steps; /* the run's length (also in the key) */
  uint64_t acc_count;   /* train losses summed since the last CSV row */
  double acc_sum;
  double train_flops, eval_flops; /* measured by the counters so far */
  double seconds;                 /* wall-clock seconds so far */
  char *rows;                     /* the CSV rows so far (no header); load: malloc'd, free it */
  size_t rows_len;
  /* The auto matmul choices so far (a record, clscale/ops.h; "" or NULL:
   * none); load: malloc'd, NUL-terminated, free it. */
  char *choices;
} cls_ckpt_state;

/* Reads params, m and v from the slabs and writes the checkpoint. */
cls_status cls_checkpoint_save(cls_context *ctx, const char *path, const char *key, const cls_ckpt_state *st,
                               const cls_param_table *pt, const cls_param_slabs *s, char *err, size_t err_len);

/* Reads and verifies a checkpoint (magic, version, byte order, length,
 * checksum, key equal to `key`, slab size equal to pt->total) and only then
 * every field within what a run can write (docs/train.md) and only then
 * writes params, m and v into the slabs and fills *st. Errors, with the path
 * and what to do in err: CLS_ERR_IO (missing, unreadable), CLS_ERR_FORMAT
 * (not a checkpoint, truncated, corrupt), CLS_ERR_INVALID_VALUE (written by
 * a run of another configuration: the differing keys are named). */
cls_status cls_checkpoint_load(cls_context *ctx, const char *path, const char *key, cls_ckpt_state *st,
                               const cls_param_table *pt, cls_param_slabs *s, char *err, size_t err_len);

/* As the two above for model `model` of several models of one table side
 * by side in the slabs (model k at k x pt->total, train/models.h): the
 * file is the one that model trained alone would write and read. */
cls_status cls_checkpoint_save_at(cls_context *ctx, const char *path, const char *key, const cls_ckpt_state *st,
                                  const cls_param_table *pt, const cls_param_slabs *s, size_t model, char *err,
                                  size_t err_len);
cls_status cls_checkpoint_load_at(cls_context *ctx, const char *path, const char *key, cls_ckpt_state *st,
                                  const cls_param_table *pt, cls_param_slabs *s, size_t model, char *err,
                                  size_t err_len);

/* The auto matmul choices recorded in the checkpoint at path, read before
 * the model is built (a resumed run pins them from its first product on):
 * *choices is malloc'd ("" for a version 1 checkpoint). Only the header,
 * the key and the choices are read and checked here; cls_checkpoint_load
 * checks the whole file. CLS_ERR_IO or CLS_ERR_FORMAT with the path in err. */
cls_status cls_checkpoint_choices(const char *path, char **choices, char *err, size_t err_len);

/* What a checkpoint holds, read without a model (to sample from it, say):
 * its key, steps, matmul choices and parameters (AdamW's m and v are left
 * out). */
typedef struct cls_ckpt_contents {
  char *key;     /* "name=value" lines, NUL-terminated */
  char *choices; /* the auto matmul choices, NUL-terminated ("" when none) */
  uint64_t step, total_steps;
  float *params; /* n floats */
  size_t n;
} cls_ckpt_contents;

/* Reads and verifies path (magic, version, byte order, length, checksum,
 * every field as cls_checkpoint_load does) into *out (free with cls_ckpt_contents_free). Errors, with the path in
 * err: CLS_ERR_IO (missing, unreadable), CLS_ERR_FORMAT (not a checkpoint,
 * truncated, corrupt), CLS_ERR_OUT_OF_MEMORY. */
cls_status cls_checkpoint_read(const char *path, cls_ckpt_contents *out, char *err, size_t err_len);
void cls_ckpt_contents_free(cls_ckpt_contents *c);

#endif
