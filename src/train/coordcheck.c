/* src/train/coordcheck.c — see coordcheck.h. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/file.h"
#include "data/spectra.h"
#include "data/text.h"
#include "nn/emulator.h"
#include "nn/gpt.h"
#include "train/coordcheck.h"

void cls_coord_spec_default(cls_coord_spec *s) {
  memset(s, 0, sizeof *s);
  s->model = CLS_COORD_GPT;
  const size_t w[] = {32, 64, 128, 256};
  memcpy(s->widths, w, sizeof w);
  s->n_widths = 4;
  s->depth = 2;
  s->heads = 4;
  s->steps = 3;
  s->lr = 1e-2f;
  s->seed = 1;
}

/* Which activations go in the figure (the plot shows up to four panels):
 * the input embedding, the last block's attention output and MLP hidden
 * activation, and the output (logits, or the emulator's head). Indices
 * into the models' activation_rms arrays. */
typedef struct {
  const char *name;
  size_t index;
} tracked;

static size_t tracked_layers(cls_coord_model m, size_t depth, tracked out[4]) {
  out[0].name = m == CLS_COORD_GPT ? "embedding" : "label tokens";
  out[0].index = 0;
  out[1].name = "attention out";
  out[1].index = depth;
  out[2].name = "mlp hidden";
  out[2].index = 2 * depth;
  out[3].name = m == CLS_COORD_GPT ? "logits" : "head hidden";
  out[3].index = 2 * depth + 1;
  return 4;
}

typedef struct {
  cls_context *ctx;
  const cls_coord_spec *s;
  cls_text *text;
  cls_spectra *spectra;
  int32_t *window, *tok, *tgt; /* gpt */
  float *labels, *flux, *feat; /* emulator */
  uint32_t *spec, *pix;
  size_t B, T, P;
  char *err;
  size_t err_len;
} run;

/* One model at one width and parametrisation: rms[step][activation]. */
static cls_status one_model(run *r, size_t width, cls_parametrisation param, float *rms, size_t n_act) {
  const cls_coord_spec *s = r->s;
  cls_status st;
  cls_param_table const *pt;
  cls_param_slabs *slabs;
  float loss;
  if (s->model == CLS_COORD_GPT) {
    cls_gpt_config c;
    cls_gpt_config_default(&c);
    c.context = r->T;
    c.width = width;
    c.depth = s->depth;
    c.heads = s->heads;
    c.param = param;
    c.base_width = s->base_width;
    cls_gpt *g;
    if ((st = cls_gpt_create(r->ctx, &c, r->B, r->T, s->seed, &g)) != CLS_OK) return st;
    pt = cls_gpt_params(g);
    slabs = cls_gpt_slabs(g);
    for (size_t step = 0; step <= s->steps && st == CLS_OK; step++) {
      if (step > 0) {
        st = cls_param_zero_grads(r->ctx, pt, slabs);
        if (st == CLS_OK) st = cls_gpt_forward(g, r->tok, r->tgt, r->B, r->T, 1, &loss);
        if (st == CLS_OK) st = cls_gpt_backward(g);
        if (st == CLS_OK) st = cls_param_adamw(r->ctx, pt, slabs, s->lr, 0.9f, 0.95f, 1e-8f, step, 0);
      }
      if (st == CLS_OK) st = cls_gpt_forward(g, r->tok, r->tgt, r->B, r->T, 0, &loss);
      if (st == CLS_OK && cls_gpt_activation_count(g) != n_act) st = CLS_ERR_INTERNAL;
      if (st == CLS_OK) st = cls_gpt_activation_rms(g, rms + step * n_act);
    }
    cls_gpt_destroy(g);
    return st;
  }
  cls_emulator_config c;
  cls_emulator_config_default(&c);
  c.width = width;
  c.depth = s->depth;
  c.heads = s->heads;
  c.param = param;
  c.base_width = s->base_width;
  cls_emulator *e;
  if ((st = cls_emulator_create(r->ctx, &c, r->B, r->P, s->seed, &e)) != CLS_OK) return st;
  pt = cls_emulator_params(e);
  slabs = cls_emulator_slabs(e);
  for (size_t step = 0; step <= s->steps && st == CLS_OK; step++) {
    if (step > 0) {
      st = cls_param_zero_grads(r->ctx, pt, slabs);
      if (st == CLS_OK) st = cls_emulator_forward(e, r->labels, r->feat, r->flux, r->B, r->P, 1, &loss);
      if (st == CLS_OK) st = cls_emulator_backward(e);
      if (st == CLS_OK) st = cls_param_adamw(r->ctx, pt, slabs, s->lr, 0.9f, 0.95f, 1e-8f, step, 0);
    }
    if (st == CLS_OK) st = cls_emulator_forward(e, r->labels, r->feat, r->flux, r->B, r->P, 0, &loss);
    if (st == CLS_OK && cls_emulator_activation_count(e) != n_act) st = CLS_ERR_INTERNAL;
    if (st == CLS_OK) st = cls_emulator_activation_rms(e, rms + step * n_act);
  }
  cls_emulator_destroy(e);
  return st;
}

/* The same batch for every model: the check compares widths, not data. */
static cls_status make_batch(run *r) {
  if (r->s->model == CLS_COORD_GPT) {
    cls_text_config tc;
    cls_text_config_default(&tc);
    tc.context = r->T;
    tc.synth_bytes = 1 << 16;
    tc.seed = r->s->seed;
    cls_status st = cls_text_create(&tc, &r->text, r->err, r->err_len);
    if (st != CLS_OK) return st;
    r->window = malloc(r->B * (r->T + 1) * sizeof *r->window);
    r->tok = malloc(r->B * r->T * sizeof *r->tok);
    r->tgt = malloc(r->B * r->T * sizeof *r->tgt);
    if (!r->window || !r->tok || !r->tgt) return CLS_ERR_OUT_OF_MEMORY;
    st = cls_text_batch(r->text, CLS_SPLIT_TRAIN, r->s->seed, 0, r->B, r->window, r->err, r->err_len);
    if (st != CLS_OK) return st;
    for (size_t b = 0; b < r->B; b++)
      for (size_t t = 0; t < r->T; t++) {
        r->tok[b * r->T + t] = r->window[b * (r->T + 1) + t];
        r->tgt[b * r->T + t] = r->window[b * (r->T + 1) + t + 1];
      }
    return CLS_OK;
  }
  cls_spectra_config sc;
  cls_spectra_config_default(&sc);
  sc.seed = r->s->seed;
  sc.n_train = 64;
  sc.n_val = 0;
  sc.n_test = 0;
  cls_status st = cls_spectra_create(&sc, &r->spectra, r->err, r->err_len);
  if (st != CLS_OK) return st;
  cls_emulator_config ec;
  cls_emulator_config_default(&ec);
  const size_t F = cls_emulator_n_features(&ec), R = r->B * r->P;
  r->spec = malloc(r->B * sizeof *r->spec);
  r->pix = malloc(R * sizeof *r->pix);
  r->labels = malloc(r->B * CLS_SPECTRA_N_LABELS * sizeof *r->labels);
  r->flux = malloc(R * sizeof *r->flux);
  r->feat = malloc(R * F * sizeof *r->feat);
  double *wl = malloc(R * sizeof *wl);
  if (!r->spec || !r->pix || !r->labels || !r->flux || !r->feat || !wl) {
    free(wl);
    return CLS_ERR_OUT_OF_MEMORY;
  }
  st = cls_spectra_sample(r->spectra, CLS_SPLIT_TRAIN, r->s->seed, 0, r->B, r->P, r->spec, r->pix, r->err,
                          r->err_len);
  if (st == CLS_OK)
    st = cls_spectra_gather(r->spectra, CLS_SPLIT_TRAIN, r->B, r->spec, r->P, r->pix, r->labels, r->flux, r->err,
                            r->err_len);
  if (st == CLS_OK) {
    const double *grid = cls_spectra_wavelength(r->spectra);
    for (size_t i = 0; i < R; i++) wl[i] = grid[r->pix[i]];
    cls_emulator_encode(&ec, wl, R, r->feat);
  }
  free(wl);
  return st;
}

static void run_free(run *r) {
  cls_text_destroy(r->text);
  cls_spectra_destroy(r->spectra);
  free(r->window), free(r->tok), free(r->tgt), free(r->labels), free(r->flux), free(r->feat), free(r->spec),
      free(r->pix);
}

cls_status cls_coord_check(cls_context *ctx, const cls_coord_spec *s, const char *csv_path, char *err,
                           size_t err_len) {
  if (!ctx || !s || !csv_path) return CLS_ERR_NULL_ARGUMENT;
  if (s->n_widths < 2 || s->n_widths > 16) {
    snprintf(err, err_len, "give 2 to 16 widths (got %zu)", s->n_widths);
    return CLS_ERR_INVALID_SIZE;
  }
  for (size_t i = 0; i < s->n_widths; i++)
    if (!s->widths[i] || !s->heads || s->widths[i] % s->heads || (i && s->widths[i] <= s->widths[i - 1])) {
      snprintf(err, err_len, "widths must ascend and each be a multiple of the %zu heads (width %zu)", s->heads,
               s->widths[i]);
      return CLS_ERR_INVALID_VALUE;
    }
  if (!s->depth || !s->steps || s->steps > 100 || !(s->lr > 0) || !isfinite(s->lr)) {
    snprintf(err, err_len, "depth and steps (1..100) must be positive, lr positive and finite");
    return CLS_ERR_INVALID_VALUE;
  }
  cls_coord_spec spec = *s;
  if (!spec.base_width) spec.base_width = spec.widths[0];
  run r = {ctx, &spec, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 8, 32, 64, err, err_len};
  tracked layers[4];
  const size_t n_layers = tracked_layers(spec.model, spec.depth, layers);
  const size_t n_act = 2 * spec.depth + (spec.model == CLS_COORD_GPT ? 2 : 3);
  float *rms = malloc((spec.steps + 1) * n_act * sizeof *rms);
  /* The CSV is built in memory and written in one atomic step at the end. */
  char *text = NULL;
  size_t text_len = 0;
  FILE *f = rms ? open_memstream(&text, &text_len) : NULL;
  cls_status st = f ? make_batch(&r) : CLS_ERR_OUT_OF_MEMORY;
  if (f && st == CLS_OK) fprintf(f, "param,layer,width,step,value\n");
  for (int p = 0; p < 2 && st == CLS_OK; p++)
    for (size_t w = 0; w < spec.n_widths && st == CLS_OK; w++) {
      st = one_model(&r, spec.widths[w], p ? CLS_PARAM_MUP : CLS_PARAM_SP, rms, n_act);
      if (st != CLS_OK) {
        snprintf(err, err_len, "width %zu (%s): %s", spec.widths[w], p ? "mup" : "sp", cls_last_error(ctx));
        break;
      }
      for (size_t l = 0; l < n_layers; l++)
        for (size_t step = 0; step <= spec.steps; step++)
          fprintf(f, "%s,%s,%zu,%zu,%.9g\n", p ? "mup" : "sp", layers[l].name, spec.widths[w], step,
                  rms[step * n_act + layers[l].index]);
    }
  if (f) {
    int ok = !ferror(f);
    ok = (fclose(f) == 0) && ok;
    if (st == CLS_OK) st = ok ? cls_write_atomic(csv_path, text, text_len, err, err_len) : CLS_ERR_OUT_OF_MEMORY;
  }
  free(text);
  free(rms);
  run_free(&r);
  return st;
}
