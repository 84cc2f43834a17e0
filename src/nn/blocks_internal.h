/*
 * src/nn/blocks_internal.h — what the models of this layer (gpt.c,
 * emulator.c) share: the width scaling of muP, the MLP's tensors, the
 * activation layout, and the sub-blocks of a pre-norm transformer block
 * that are the same in both (the attention output with its residual, the
 * MLP with its residual, the residual sum of a branch's gradient). Each is
 * the exact sequence of ops the models launched before they shared it
 * (since then, the MLP's bias and GELU run fused, forward and backward:
 * cls_nn_linear_gelu).
 */
#ifndef CLSCALE_NN_BLOCKS_INTERNAL_H
#define CLSCALE_NN_BLOCKS_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "nn/params.h"

/* Returns from the calling function when call fails. */
#define CLS_NN_TRY(call)                                                                                          \
  do {                                                                                                            \
    cls_status s_ = (call);                                                                                       \
    if (s_ != CLS_OK) return s_;                                                                                  \
  } while (0)

/* The device state a block works on: parameters and gradients (a table and
 * its slabs) and the activation slab. */
typedef struct cls__nn_view {
  cls_context *ctx;
  const cls_param_table *pt;
  const cls_param_slabs *slabs;
  cls_buffer *acts;
} cls__nn_view;

/* What every model of this layer holds beside its config: the parameter
 * table with its slabs, the activation slab, and the host tables of
 * offsets sized by depth (the depth + 1 residual streams, and the depth
 * blocks' activations in the model's own struct of layer_size bytes per
 * block). Built and freed the same way for every model, so that a model
 * file holds only what is its own. */
#define CLS__NN_STAGE_WRITES 4 /* uploads per forward pass at most */

/* Host staging of a forward pass's inputs: the inputs are copied here and
 * uploaded without waiting (cls_buffer_write_async), so that a training
 * step never stops the host; two sets alternate, and a set is reused only
 * after its uploads (two forward passes ago) have completed. */
typedef struct cls__nn_stage {
  float *host[2];
  size_t cap[2];
  cls_transfer *pending[2][CLS__NN_STAGE_WRITES];
  int slot;
} cls__nn_stage;

typedef struct cls__nn_model {
  cls_context *ctx;
  cls_param_table pt;
  cls_param_slabs slabs;
  cls_buffer *acts;
  size_t *res;
  void *layer;
  cls__nn_stage stage;
} cls__nn_model;

/* The next staging set, of at least n floats, in *out (its earlier uploads
 * waited for). */
cls_status cls__nn_stage_begin(cls__nn_model *m, size_t n, float **out);

/* Uploads count floats of the current staging set (src points into it)
 * to the activation slab at offset, without waiting. */
cls_status cls__nn_stage_write(cls__nn_model *m, size_t offset, size_t count, const float *src);

/* The host tables for depth blocks (and ctx kept); 0 when out of host
 * memory (what was allocated is freed by cls__nn_model_free). */
int cls__nn_model_init(cls__nn_model *m, cls_context *ctx, size_t depth, size_t layer_size);

/* The device storage once m->pt is built: the slabs, parameters drawn from
 * seed, and n_acts floats of activations (cls_model_storage_alloc; what
 * names the caller in its message). */
cls_status cls__nn_model_storage(cls__nn_model *m, uint64_t seed, size_t n_acts, const char *what);

/* As cls__nn_model_storage for `models` models side by side (model k's
 * tensors at k x m->pt.total of each slab, drawn from seeds[k]). */
cls_status cls__nn_model_storage_models(cls__nn_model *m, size_t models, const uint64_t *seeds, size_t n_acts,
                                        const char *what);

/* Frees all of m (a zeroed or partly built m too). */
void cls__nn_model_free(cls__nn_model *m);

/* The view of m the blocks below work on. */
cls__nn_view cls__nn_model_view(const cls__nn_model *m);

/* cls_nn_linear and cls_nn_linear_back on m's parameters. */
cls_status cls__nn_linear(const cls__nn_model *m, size_t rows, size_t in, size_t out, cls_ref x, int w, cls_ref y,
                          int residual);
cls_status cls__nn_linear_back(const cls__nn_model *m, size_t rows, size_t in, size_t out, cls_ref x, int w,
                               cls_ref dy, cls_ref dx, int dx_acc);

/* How a model of width `width` scales under its parametrisation (muP:
 * m = width / base_width; SP: m = 1). */
typedef struct cls__nn_scales {
  float m;          /* width multiplier */
  float hid_std;    /* hidden matrices: init_std / sqrt(m) */
  float hid_lr;     /* and their lr multiplier: 1 / m */
  float res_std;    /* matrices into the residual stream: hid_std / sqrt(2 depth) */
  float attn_scale; /* muP: sqrt(base head dim) / head dim; SP: 1 / sqrt(head dim) */
  /* Depth-muP (CLS_PARAM_MUP_DEPTH; else all 1 and res_lr = hid_lr): a
   * branch multiplier a = 1/sqrt(L) and a block learning rate x 1/sqrt(L)
   * for Adam, written as an equivalent reparametrisation so that no kernel
   * changes: a matrix W into the residual stream is stored as W' = a W, so
   * its init std is a x hid_std (res_std), its lr a x the block's (res_lr),
   * its decoupled decay / a (res_wd, so that W decays as it would), and its
   * bias likewise (res_b_lr). */
  float blk_lr;   /* the blocks' other tensors (matrices x hid_lr, biases x 1) */
  float res_lr;   /* matrices into the residual stream */
  float res_b_lr; /* their biases */
  float res_wd;   /* multiplies the weight decay of those matrices */
} cls__nn_scales;

void cls__nn_scales_of(cls_parametrisation param, size_t width, size_t base_width, size_t heads, size_t depth,
                       float init_std, cls__nn_scales *out);

/* The MLP of block `layer` (h<layer>.mlp.fc.w/b: width -> 4 width, then
 * h<layer>.mlp.proj.w/b back), appended to pt in that order; 0 when out of
 * host memory. */
int cls__nn_add_mlp(cls_param_table *pt, size_t layer, size_t width, const cls__nn_scales *s, float weight_decay);

/* Takes n floats of an activation slab at *at (16-float aligned, so that
 * every operand starts on a 64-byte boundary) and returns their offset. */
size_t cls__nn_take(size_t *at, size_t n);

/* Index of the named tensor in pt, or -1 (for the host references). */
int cls__nn_index(const cls_param_table *pt, const char *name);

/* Attention output into the residual: res_out = res_in + atty Wo + bo,
 * rows x width (wo: the index of Wo, bo after it). */
cls_status cls__nn_attn_out_forward(const cls__nn_view *v, size_t rows, size_t width, size_t res_in, size_t atty,
                                    int wo, size_t res_out);

/* Its backward: dWo, dbo from dres, and datty = dres Wo^T. */
cls_status cls__nn_attn_out_backward(const cls__nn_view *v, size_t rows, size_t width, size_t atty, int wo,
                                     size_t dres, size_t datty);

/* The MLP into the residual, after the block's second norm (in): fc = in
 * Wfc + b, fcg = gelu(fc) (bias and GELU in one launch), res_out = res_in + fcg Wproj + b (w_fc: the
 * index of Wfc, as cls__nn_add_mlp lays them out). */
cls_status cls__nn_mlp_forward(const cls__nn_view *v, size_t rows, size_t width, size_t in, int w_fc, size_t fc,
                               size_t fcg, size_t res_in, size_t res_out);

/* Its backward from dres (d res_out) to din (overwritten), its weights'
 * gradients added; dfc is scratch of rows x 4 width. */
cls_status cls__nn_mlp_backward(const cls__nn_view *v, size_t rows, size_t width, size_t in, int w_fc, size_t fc,
                                size_t fcg, size_t dres, size_t dfc, size_t din);

/* The norm that follows a residual add: RMSNorm (shift < 0) or LayerNorm
 * with gain tensor `gain` and shift tensor `shift`, eps, its output and
 * saved statistics (offsets in the activation slab; mean unused by
 * RMSNorm). */
typedef struct cls__nn_norm {
  float eps;
  int gain, shift;
  size_t y, mean, rstd;
} cls__nn_norm;

/* A branch's output layer into the residual and the next norm, fused:
 * scratch = x W (rows x in by in x width, tensor w, its bias w + 1, no
 * bias added yet), then res_out = (res_in + scratch) + b and the norm of
 * res_out in one launch (cls_residual_*norm_forward): the sums of
 * cls__nn_attn_out_forward / cls__nn_mlp_forward's last layer in their
 * order, without the copy and the bias launches. */
cls_status cls__nn_residual_out_norm(const cls__nn_view *v, size_t rows, size_t in, size_t width, size_t x, int w,
                                     size_t scratch, size_t res_in, size_t res_out, const cls__nn_norm *norm);

/* ------------------------------------------ K models side by side
 *
 * The linear layers of K models of one shape trained as one batched model
 * (the train layer's models.h): model k's tensors lie k x S floats into
 * each slab, its part of an activation k x that activation's stride (sx,
 * sy, ...) into the activation slab. The products of the K models are one
 * batched product (cls_matmul_models: each computed as it is alone); the
 * bias ops one launch for all models where the parts are contiguous
 * (stride = rows x cols), else one per model. With K = 1 these are exactly
 * cls_nn_linear and its kin, launch for launch. */
typedef struct cls__nn_models {
  cls_context *ctx;
  const cls_param_table *pt;
  const cls_param_slabs *slabs;
  cls_buffer *acts;
  size_t K, S; /* the models in this pass, and the floats of one model's tensors */
} cls__nn_models;

/* No dx wanted (the input is data). */
#define CLS__NN_NO_DX ((size_t)-1)

/* y (+)= x W + b: x rows x in at x, parts sx apart; y likewise at y, sy. */
cls_status cls__nn_lin(const cls__nn_models *v, size_t rows, size_t in, size_t out, size_t x, size_t sx, int w,
                       size_t y, size_t sy, int residual);
/* h = x W + b, y = gelu(h); h and y share the stride sy. */
cls_status cls__nn_lin_gelu(const cls__nn_models *v, size_t rows, size_t in, size_t out, size_t x, size_t sx,
                            int w, size_t h, size_t y, size_t sy);
/* dW += x^T dy, db += column sums of dy, dx (+)= dy W^T unless dx is
 * CLS__NN_NO_DX; x and dx share the stride sx. */
cls_status cls__nn_lin_back(const cls__nn_models *v, size_t rows, size_t in, size_t out, size_t x, size_t sx,
                            int w, size_t dy, size_t sdy, size_t dx, int dx_acc);
/* Its GELU form: dh = dy gelu'(h) with db, then dW and dx. h, dy and dh
 * share the stride sh; x and dx sx. */
cls_status cls__nn_lin_gelu_back(const cls__nn_models *v, size_t rows, size_t in, size_t out, size_t x, size_t sx,
                                 int w, size_t h, size_t dy, size_t dh, size_t sh, size_t dx, int dx_acc);

/* dres += dbranch (n floats): a residual branch's gradient joins the
 * stream's. */
cls_status cls__nn_residual_grad(const cls__nn_view *v, size_t n, size_t dres, size_t dbranch);

#endif
