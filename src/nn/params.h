/*
 * src/nn/params.h — a model's parameters: a table of named tensors laid out
 * in one slab, with their gradients and AdamW state in three more slabs of
 * the same layout (llm.c style). A model is a config plus offsets into
 * these slabs; nothing is allocated per tensor.
 *
 * Each tensor belongs to a class that fixes how it is initialised and how
 * its learning rate scales with width under muP (Yang et al., Tensor
 * Programs V, table 3, for Adam):
 *   input   embeddings, biases, norm gains: init independent of width, lr x 1
 *   hidden  matrices with fan-in and fan-out ~ width: init var 1/fan_in, lr x base/width
 *   output  the readout: init var 1/fan_in^2 (muP) , lr x base/width
 * Under SP every class has lr x 1 and matrices use init_std.
 */
#ifndef CLSCALE_NN_PARAMS_H
#define CLSCALE_NN_PARAMS_H

#include <stddef.h>
#include <stdint.h>

#include "clscale/ops.h"

/* CLS_PARAM_MUP_DEPTH is muP with depth-muP's residual scaling (Yang et al.,
 * Tensor Programs VI; Bordelon et al. 2023): each residual branch is
 * multiplied by 1/sqrt(L) and, for Adam, the blocks' learning rate by
 * 1/sqrt(L), so that the optimal rate also transfers across depth L
 * (docs/emulator.md, "Learning-rate transfer"). */
typedef enum { CLS_PARAM_SP = 0, CLS_PARAM_MUP = 1, CLS_PARAM_MUP_DEPTH = 2 } cls_parametrisation;

/* "sp", "mup", "mup-depth" (NULL for another value). */
const char *cls_parametrisation_name(cls_parametrisation p);
/* The parametrisation a name gives: 1 with it in *out, 0 for an unknown name. */
int cls_parametrisation_parse(const char *name, cls_parametrisation *out);

typedef enum { CLS_PARAM_INPUT = 0, CLS_PARAM_HIDDEN = 1, CLS_PARAM_OUTPUT = 2 } cls_param_class;
typedef enum { CLS_INIT_ZERO = 0, CLS_INIT_ONE = 1, CLS_INIT_NORMAL = 2 } cls_init_kind;

typedef struct cls_tensor_desc {
  char name[48];
  size_t rows, cols;
  size_t offset; /* in floats, into each slab; a multiple of 16 */
  cls_param_class klass;
  cls_init_kind init;
  float std;          /* for CLS_INIT_NORMAL */
  float lr_mult;      /* multiplies the base learning rate */
  float weight_decay; /* decoupled weight decay of this tensor */
  int is_embedding;   /* counted apart in "parameters without embeddings" */
} cls_tensor_desc;

typedef struct cls_param_table {
  cls_tensor_desc *t;
  size_t count, cap;
  size_t total; /* floats in each slab, padding included */
} cls_param_table;

/* Appends a tensor; returns its index, or -1 when out of memory. */
int cls_param_add(cls_param_table *pt, const char *name, size_t rows, size_t cols, cls_param_class klass,
                  cls_init_kind init, float std, int is_embedding);
/* cls_param_add with the tensor's learning-rate multiplier and weight decay. */
int cls_param_add_ex(cls_param_table *pt, const char *name, size_t rows, size_t cols, cls_param_class klass,
                     cls_init_kind init, float std, int is_embedding, float lr_mult, float weight_decay);
void cls_param_table_free(cls_param_table *pt);

/* Number of parameters (padding excluded), all or without embeddings. */
size_t cls_param_count(const cls_param_table *pt, int with_embeddings);

typedef struct cls_param_slabs {
  cls_buffer *params, *grads, *m, *v;
  cls_buffer *grad_sumsq; /* 1 float per model: its squared global gradient norm */
} cls_param_slabs;

/* Allocates the four slabs (m and v zeroed, grads zeroed). */
cls_status cls_param_slabs_alloc(cls_context *ctx, const cls_param_table *pt, cls_param_slabs *out);
void cls_param_slabs_free(cls_param_slabs *s);

/* Draws every tensor's initial values on the host from the Philox stream
 * of (seed, tensor index): the same seed gives the same weights on any
 * device. Uploads them in one copy. */
cls_status cls_param_init(cls_context *ctx, const cls_param_table *pt, uint64_t seed, cls_param_slabs *s);

/* As cls_param_init, into the slab from float `base` on: several models of
 * one table side by side in one slab (model k at k x pt->total). */
cls_status cls_param_init_at(cls_context *ctx, const cls_param_table *pt, uint64_t seed, cls_param_slabs *s,
                             size_t base);

/* Everything a model allocates on the device, in one call: the four slabs
 * (parameters drawn from seed), and the activation slab of n_acts floats,
 * refused when beyond the 2^32 floats kernels can address (what says which
 * model and why, for the message). On failure nothing stays allocated. */
cls_status cls_model_storage_alloc(cls_context *ctx, const cls_param_table *pt, uint64_t seed, size_t n_acts,
                                   const char *what, cls_param_slabs *slabs, cls_buffer **acts);

/* As cls_param_slabs_alloc and cls_model_storage_alloc for `models`
 * models of one table side by side (model k's tensors at k x pt->total of
 * each slab), model k's parameters drawn from seeds[k]: each model starts
 * as it would alone. */
cls_status cls_param_slabs_alloc_models(cls_context *ctx, const cls_param_table *pt, size_t models,
                                        cls_param_slabs *out);
cls_status cls_model_storage_alloc_models(cls_context *ctx, const cls_param_table *pt, size_t models,
                                          const uint64_t *seeds, size_t n_acts, const char *what,
                                          cls_param_slabs *slabs, cls_buffer **acts);

/* Zeroes the gradient slab. */
cls_status cls_param_zero_grads(cls_context *ctx, const cls_param_table *pt, cls_param_slabs *s);

/* One AdamW step over all tensors: the squared global gradient norm is
 * computed on the device, each tensor is updated with lr * its lr_mult and
 * its weight decay, gradients clipped to max_norm when max_norm > 0. Two
 * launches with clipping (the norm's), one more for the whole slab
 * (cls_adamw_step_models of one model: the bits of cls_adamw_step_groups),
 * whatever the number of tensors. */
cls_status cls_param_adamw(cls_context *ctx, const cls_param_table *pt, cls_param_slabs *s, float lr, float beta1,
                           float beta2, float eps, unsigned long step, float max_norm);

/* As cls_param_adamw, on the model whose tensors start at float `base` of
 * the slabs (models side by side: model k at k x pt->total); the same
 * launches on that range, so the same numbers as the model alone. The
 * grad_sumsq's first float is reused by each model in turn (the queue is
 * in order). */
cls_status cls_param_adamw_at(cls_context *ctx, const cls_param_table *pt, cls_param_slabs *s, size_t base,
                              float lr, float beta1, float beta2, float eps, unsigned long step, float max_norm);

/* One AdamW step of the first `models` models side by side (model k at
 * k x pt->total), model k at lr[k] and step[k]: the same numbers as
 * cls_param_adamw_at on each model in turn, in a number of launches that
 * does not grow with the models (the norms by cls_reduce_models, two, into
 * grad_sumsq[0 .. models); the update by cls_adamw_step_models, one).
 * The slabs must hold at least `models` models. */
cls_status cls_param_adamw_models(cls_context *ctx, const cls_param_table *pt, cls_param_slabs *s, size_t models,
                                  const float *lr, float beta1, float beta2, float eps, const unsigned long *step,
                                  float max_norm);

/* A linear layer of the models: y = x W + b for x (rows x in), with W
 * (in x out) at tensor w of the table and b (out) at tensor w + 1. With
 * residual, y already holds the residual stream and receives x W + b on
 * top (one matmul with beta = 1, no extra pass). */
cls_status cls_nn_linear(cls_context *ctx, const cls_param_table *pt, const cls_param_slabs *s, size_t rows,
                         size_t in, size_t out, cls_ref x, int w, cls_ref y, int residual);

/* Its gradients given dy: dW += x^T dy, db += the column sums of dy, and
 * dx = dy W^T (added to dx with dx_acc; skipped when dx is CLS_NOREF, for
 * a first layer whose input is data). */
cls_status cls_nn_linear_back(cls_context *ctx, const cls_param_table *pt, const cls_param_slabs *s, size_t rows,
                              size_t in, size_t out, cls_ref x, int w, cls_ref dy, cls_ref dx, int dx_acc);

/* A linear layer and its GELU, the bias and the activation in one launch
 * after the matmul (cls_bias_gelu_forward): h = x W + b (kept for the
 * backward pass), y = gelu(h). */
cls_status cls_nn_linear_gelu(cls_context *ctx, const cls_param_table *pt, const cls_param_slabs *s, size_t rows,
                              size_t in, size_t out, cls_ref x, int w, cls_ref h, cls_ref y);

/* Its gradients given dy = dL/dy: dh = dy * gelu'(h) with db += its column
 * sums in one launch (cls_gelu_bias_backward; dh may equal dy), then
 * dW += x^T dh and dx = dh W^T (added with dx_acc; skipped when dx is
 * CLS_NOREF). */
cls_status cls_nn_linear_gelu_back(cls_context *ctx, const cls_param_table *pt, const cls_param_slabs *s,
                                   size_t rows, size_t in, size_t out, cls_ref x, int w, cls_ref h, cls_ref dy,
                                   cls_ref dh, cls_ref dx, int dx_acc);

#endif
