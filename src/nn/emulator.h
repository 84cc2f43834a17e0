/*
 * src/nn/emulator.h — the spectral emulator (TransformerPayne-style): the
 * flux of a star at a set of wavelengths, from its normalised labels.
 *
 *   wavelength -> sinusoidal features (2 n_freq, host) -> Linear -> stream x (d)
 *   labels -> Linear -> GELU -> Linear -> n_tokens label tokens (d) -> RMSNorm
 *   L x [ x += CrossAttn(RMSNorm(x) -> q;  tokens -> k, v)
 *         x += MLP(RMSNorm(x))              (d -> 4d -> GELU -> d) ]
 *   RMSNorm -> Linear(d, d) -> GELU -> Linear(d, 1) -> flux;  loss MSE.
 *
 * A batch is B spectra with P pixels each; every spectrum may have its own
 * P wavelengths (the data layer's sampler draws a different pixel set per
 * spectrum). The label tokens, and each block's k/v projections of them,
 * are computed once per spectrum and shared by its P queries: the
 * attention's batch is the spectra, tq = P, tk = n_tokens. So the cost is
 * not 6 N D: cls_emulator_flops_per_step counts it from the shapes.
 * docs/emulator.md has the shapes, the encoding and the FLOP accounting.
 *
 * Parametrisations (m = width / base_width; as in gpt.h):
 *   input   the wavelength projection and the label MLP (fan-in fixed by
 *           the config, not by the width): N(0, 1/fan_in), lr x 1, both
 *           parametrisations. Gains 1, biases 0 (the flux bias 1: the
 *           continuum), lr x 1.
 *   hidden  q, kv, o, MLP and the head's Linear(d, d): SP N(0, init_std^2),
 *           muP N(0, init_std^2 / m) with lr x 1/m; the residual
 *           projections (o, MLP out) x 1/sqrt(2 depth) in both.
 *   output  the readout Linear(d, 1): SP N(0, init_std^2); muP
 *           N(0, (init_std / m)^2) (variance ~ 1/fan_in^2, equal to SP at
 *           the base width) with lr x 1/m.
 *   attention scores x 1/sqrt(head_dim) (SP), sqrt(base_head_dim)/head_dim
 *   (muP).
 */
#ifndef CLSCALE_NN_EMULATOR_H
#define CLSCALE_NN_EMULATOR_H

#include <stddef.h>
#include <stdint.h>

#include "clscale/ops.h"
#include "nn/params.h"

typedef struct cls_emulator_config {
  size_t n_labels;     /* inputs per spectrum (4: Teff, log g, [Fe/H], [alpha/Fe]), normalised to [-1, 1] */
  size_t n_freq;       /* frequencies of the wavelength encoding: 2 n_freq features */
  size_t label_hidden; /* hidden width of the label MLP (fixed, not scaled with width) */
  size_t n_tokens;     /* label tokens per spectrum */
  size_t width;        /* d, a multiple of heads */
  size_t depth;        /* L >= 1 */
  size_t heads;
  cls_parametrisation param;
  size_t base_width;  /* muP: the width whose hyperparameters transfer */
  float init_std;     /* hidden matrices under SP (0.02) */
  float weight_decay; /* on matrices; never on gains and biases */
  /* The encoding: u = ln(lambda / lambda_min) / ln(lambda_max / lambda_min)
   * (0..1 over the window; the data layer's grid is uniform in u), and
   * sin, cos(2 pi u / p_k) with periods p_k log-spaced from period_min to
   * period_max (in units of the window). */
  double lambda_min, lambda_max; /* Angstrom (5000, 5800: the data layer's default window) */
  double period_min, period_max; /* 1e-3 (4 pixels of the default 4000-pixel grid), 2 */
} cls_emulator_config;

/* n_labels 4, n_freq 32, label_hidden 128, n_tokens 16, width 128, depth 4,
 * heads 4, SP, base 128, init_std 0.02, weight decay 0.1, window
 * 5000..5800 A, periods 1e-3..2. */
void cls_emulator_config_default(cls_emulator_config *c);

/* Checks a config; on error writes why into err and returns
 * CLS_ERR_INVALID_VALUE or CLS_ERR_INVALID_SIZE. */
cls_status cls_emulator_config_check(const cls_emulator_config *c, char *err, size_t err_len);

/* Features per wavelength: 2 n_freq. */
size_t cls_emulator_n_features(const cls_emulator_config *c);

/* The encoding of n wavelengths (Angstrom) on the host: features[i * 2
 * n_freq + 2k] = sin(2 pi u_i / p_k), [.. + 2k + 1] = cos(2 pi u_i / p_k).
 * A pure function of the config: a trainer may encode its grid once and
 * gather rows per batch. Wavelengths outside the window are extrapolated
 * (u < 0 or > 1), not refused. */
void cls_emulator_encode(const cls_emulator_config *c, const double *wavelength, size_t n, float *features);

typedef struct cls_emulator cls_emulator;

/* Builds the model for batches of up to max_spectra x max_pixels:
 * parameters initialised from seed, activations allocated once. */
cls_status cls_emulator_create(cls_context *ctx, const cls_emulator_config *c, size_t max_spectra,
                               size_t max_pixels, uint64_t seed, cls_emulator **out);

/* Several models of one shape trained side by side as one (issue 13):
 * `models` emulators of config c, model k's parameters drawn from
 * seeds[k], each with its own part of every slab (parameters, gradients,
 * AdamW moments: model k's tensors at k x cls_emulator_model_floats(e))
 * and of every activation. One forward or backward pass runs all of them
 * with one batched product per layer (cls_matmul_models) and one launch
 * per model of each op that reads a model's own parameters or sums over
 * its rows, so every model computes, bitwise, what it computes alone
 * (tests/test_group.c). cls_emulator_create is this with one model. */
cls_status cls_emulator_create_models(cls_context *ctx, const cls_emulator_config *c, size_t models,
                                      size_t max_spectra, size_t max_pixels, const uint64_t *seeds,
                                      cls_emulator **out);
size_t cls_emulator_models(const cls_emulator *e);
/* Floats of one model in each slab (its table's total): model k's
 * parameters start at k times this. */
size_t cls_emulator_model_floats(const cls_emulator *e);

void cls_emulator_destroy(cls_emulator *e);

const cls_emulator_config *cls_emulator_get_config(const cls_emulator *e);
const cls_param_table *cls_emulator_params(const cls_emulator *e);
cls_param_slabs *cls_emulator_slabs(cls_emulator *e);

/* Forward pass on B spectra x P pixels (host arrays):
 *   labels    B x n_labels normalised labels;
 *   features  B*P x 2 n_freq (cls_emulator_encode), row b*P + k is pixel
 *             k of spectrum b;
 *   target    B*P true fluxes.
 * The mean squared error over the B*P pixels in *mse (reads one float back;
 * NULL: no read, no sync). With want_grad, also leaves its gradient for
 * cls_emulator_backward. An emulator of several models
 * (cls_emulator_create_models) runs them all: the arrays and mse hold one
 * per model, one model after the other (cls_emulator_forward_models). */
cls_status cls_emulator_forward(cls_emulator *e, const float *labels, const float *features, const float *target,
                                size_t B, size_t P, int want_grad, float *mse);

/* The forward pass of the first `active` models (1 <= active <= models):
 * labels, features and target hold each model's arrays (as for
 * cls_emulator_forward) one model after the other; model k's mean squared
 * error in mse[k] (NULL: no read), and on the device at
 * cls_emulator_loss_ref + k. cls_emulator_forward is this with every model
 * active; the backward pass works on the models of the last forward. */
cls_status cls_emulator_forward_models(cls_emulator *e, size_t active, const float *labels, const float *features,
                                       const float *target, size_t B, size_t P, int want_grad, float *mse);

/* The predicted flux of the last forward pass (B*P floats, row-major;
 * B*P per active model, one model after the other). */
cls_status cls_emulator_read_flux(cls_emulator *e, float *flux);

/* The one float on the device where every forward pass leaves its mean
 * squared error: a caller that passed mse = NULL reads it later without
 * stopping (cls_buffer_read_async), before the next forward overwrites it
 * (the queue is in order, so a read queued before that forward sees this
 * one's value). CLS_NOREF for NULL. */
cls_ref cls_emulator_loss_ref(const cls_emulator *e);

/* Backward pass of the last forward (made with want_grad): adds the
 * gradients of the mean loss to the gradient slab (zero it first with
 * cls_param_zero_grads). */
cls_status cls_emulator_backward(cls_emulator *e);

/* FLOPs of one forward + backward on B x P, counted from the shapes: every
 * matmul 2mnk (attention included, label tokens once per spectrum, no
 * input gradient for the first layers); elementwise ops, norms and the
 * loss are left out. */
/* The muP coordinate check's measurements of the last forward pass: the
 * root-mean-square of the normalised label tokens, of each block's
 * attention output (before the projection) and MLP hidden activation
 * (after GELU), of the head's hidden activation and of the predicted flux.
 * out receives cls_emulator_activation_count(e) floats in that order:
 * [tokens, attn_0..attn_{L-1}, mlp_0..mlp_{L-1}, head, flux]. Overwrites
 * the stored loss (read it first). */
size_t cls_emulator_activation_count(const cls_emulator *e);
cls_status cls_emulator_activation_rms(cls_emulator *e, float *out);

double cls_emulator_flops_per_step(const cls_emulator *e, size_t B, size_t P);

/* The parameter count of the model c describes, on the host, without
 * building it (heads do not matter): N without embeddings in *n, the
 * wavelength and label input layers in *n_embed. Follows the parameter
 * table of emulator.c; the tests compare the two. */
void cls_emulator_count_params(const cls_emulator_config *c, double *n, double *n_embed);
/* FLOPs of the forward pass alone (evaluation), counted the same way. */
double cls_emulator_flops_forward(const cls_emulator *e, size_t B, size_t P);

/* Double-precision host forward pass from host parameters (the slab's
 * layout, as floats): the mean squared error. For tests. Returns NaN when
 * out of memory. When flux is not NULL, the B*P predictions go there. */
double cls_emulator_reference_loss(const cls_emulator *e, const float *params, const float *labels,
                                   const float *features, const float *target, size_t B, size_t P, double *flux);

#endif
