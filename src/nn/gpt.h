/*
 * src/nn/gpt.h — a byte-level GPT: causal decoder, learned positions,
 * pre-LayerNorm blocks (attention, then a 4x GELU MLP), final LayerNorm and
 * a head tied to the token embedding; cross-entropy loss.
 *
 * Parametrisations (cls_parametrisation):
 *   SP   weights N(0, init_std^2), residual projections scaled by
 *        1/sqrt(2 depth) (GPT-2); attention scores x 1/sqrt(head_dim);
 *        every learning rate x 1.
 *   muP  (Tensor Programs V, Adam) with m = width / base_width:
 *        hidden matrices N(0, init_std^2 / m) (variance ~ 1/fan_in, equal to
 *        SP at the base width) with learning rate x 1/m; embeddings, gains
 *        and biases unchanged; attention scores x sqrt(base_head_dim) /
 *        head_dim (~ 1/head_dim, equal to SP at the base width); the tied
 *        readout's logits x 1/m (the output multiplier that stands in for
 *        the 1/fan_in^2 readout initialisation when the head is tied).
 */
#ifndef CLSCALE_NN_GPT_H
#define CLSCALE_NN_GPT_H

#include <stddef.h>
#include <stdint.h>

#include "clscale/ops.h"
#include "nn/params.h"

typedef struct cls_gpt_config {
  size_t vocab;   /* 256 for bytes */
  size_t context; /* longest sequence (rows of the position table) */
  size_t width;   /* C, a multiple of heads */
  size_t depth;   /* L >= 1 */
  size_t heads;
  cls_parametrisation param;
  size_t base_width;  /* muP: the width whose hyperparameters transfer */
  float init_std;     /* 0.02 */
  float weight_decay; /* on matrices and embeddings; never on gains and biases */
} cls_gpt_config;

/* vocab 256, context 64, width 128, depth 4, heads 4, SP, base 128, 0.02, 0.1 */
void cls_gpt_config_default(cls_gpt_config *c);

/* Checks a config; on error writes why into err and returns
 * CLS_ERR_INVALID_VALUE or CLS_ERR_INVALID_SIZE. */
cls_status cls_gpt_config_check(const cls_gpt_config *c, char *err, size_t err_len);

typedef struct cls_gpt cls_gpt;

/* Builds the model for batches of up to max_batch sequences of up to
 * max_seq <= context tokens: parameters initialised from seed,
 * activations allocated once. */
cls_status cls_gpt_create(cls_context *ctx, const cls_gpt_config *c, size_t max_batch, size_t max_seq,
                          uint64_t seed, cls_gpt **out);

/* `models` (1 to 4096) GPTs of one config trained side by side as one
 * batched model (the train layer's models.h), model k's parameters drawn
 * from seeds[k] and stored one parameter table's size past model k-1's
 * in each slab. cls_gpt_create is models = 1. Each model's losses and
 * gradients are bitwise what it gives alone: the products are batched
 * products of the models' own operands (cls_matmul_models), the row ops
 * run over every model's rows, and the ops with parameters (biases,
 * norms) use each model's own, in one launch for all (models.c's tests
 * compare group and alone bit for bit). */
cls_status cls_gpt_create_models(cls_context *ctx, const cls_gpt_config *c, size_t models, size_t max_batch,
                                 size_t max_seq, const uint64_t *seeds, cls_gpt **out);
void cls_gpt_destroy(cls_gpt *g);

const cls_param_table *cls_gpt_params(const cls_gpt *g);
cls_param_slabs *cls_gpt_slabs(cls_gpt *g);

/* Forward pass on B x T tokens (host int32 ids in [0, vocab)) with their
 * next-token targets; the mean cross-entropy in *loss (reads one float
 * back). With want_grad, also leaves dlogits for cls_gpt_backward. A
 * target CLS_IGNORE_TARGET (-1) is left out: the loss is the mean over
 * the other targets and the gradients are those of that mean (0 when
 * every target is ignored); without ignored targets nothing changes. */
cls_status cls_gpt_forward(cls_gpt *g, const int32_t *tokens, const int32_t *targets, size_t B, size_t T,
                           int want_grad, float *loss);

/* The forward pass of the first `active` models side by side: tokens and
 * targets hold their batches one after the other (active x B x T ids),
 * loss (when not NULL) gets active floats, model k's mean loss. Each
 * model's ignored targets count for its own mean. cls_gpt_forward is this
 * with every model active. cls_gpt_backward then runs those models. */
cls_status cls_gpt_forward_models(cls_gpt *g, size_t active, const int32_t *tokens, const int32_t *targets,
                                  size_t B, size_t T, int want_grad, float *loss);

/* Backward pass of the last forward (made with want_grad): adds the
 * gradients of the mean loss to the gradient slab (zero it first with
 * cls_param_zero_grads). */
cls_status cls_gpt_backward(cls_gpt *g);

/* The muP coordinate check's measurements of the last forward pass, made
 * without gradients (the logits are intact): the root-mean-square of the
 * token+position embedding, of each block's attention output (before the
 * projection) and MLP hidden activation (after GELU), and of the logits.
 * out receives cls_gpt_activation_count(g) floats in that order:
 * [embedding, attn_0..attn_{L-1}, mlp_0..mlp_{L-1}, logits]. */
size_t cls_gpt_activation_count(const cls_gpt *g);
cls_status cls_gpt_activation_rms(cls_gpt *g, float *out);

/* What the last forward pass computed, for a task's own metrics (the
 * answers a model gets right): the logits, B x T x vocab floats (row
 * b T + t), of a forward made without gradients; the per-position
 * losses, B x T floats (0 at ignored targets), of any forward. With
 * models side by side, every active model's, one after the other. */
cls_status cls_gpt_read_logits(cls_gpt *g, float *out);
cls_status cls_gpt_read_losses(cls_gpt *g, float *out);

/* The one float where every forward pass leaves its mean loss, for a
 * caller that passed loss = NULL and reads it without stopping (as
 * cls_emulator_loss_ref); with models side by side, model k's at + k.
 * CLS_NOREF for NULL. */
cls_ref cls_gpt_loss_ref(const cls_gpt *g);

/* FLOPs of one forward + backward on B x T tokens, counted from the shapes
 * (matmuls 2mnk, attention included), for comparison with 6ND. */
double cls_gpt_flops_per_step(const cls_gpt *g, size_t B, size_t T);

/* The parameter count of the model c describes, on the host, without
 * building it (heads do not matter): N without embeddings in *n (the N of
 * the scaling laws), the token and position tables (the head is tied) in
 * *n_embed. Follows the parameter table of gpt.c; the tests compare the
 * two. */
void cls_gpt_count_params(const cls_gpt_config *c, double *n, double *n_embed);

/* Double-precision host forward pass from host parameters (the slab's
 * layout, as floats): the mean loss. For tests. Returns NaN when out of
 * memory. */
double cls_gpt_reference_loss(const cls_gpt *g, const float *params, const int32_t *tokens, const int32_t *targets,
                              size_t B, size_t T);

/* The same pass's logits, B x T x vocab, into logits (for the tests of
 * generation, gpt_infer.h); 0, or -1 when out of memory. */
int cls_gpt_reference_logits(const cls_gpt *g, const float *params, const int32_t *tokens, size_t B, size_t T,
                             double *logits);

#endif
