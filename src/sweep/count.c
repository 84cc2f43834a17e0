/* src/sweep/count.c — see count.h. */
#include <string.h>

#include "nn/emulator.h"
#include "nn/gpt.h"
#include "sweep/count.h"

int cls_sweep_count_params(const cls_task_spec *base, size_t width, size_t depth, double *n, double *n_embed) {
  const double d = (double)width, L = (double)depth;
  if (base->model && !strcmp(base->model, "emulator")) {
    cls_emulator_config c;
    cls_emulator_config_default(&c); /* the settings the task does not expose */
    const double F = 2.0 * (double)c.n_freq, NL = (double)c.n_labels, Hm = (double)c.label_hidden;
    const double T = (double)base->label_tokens;
    /* per block: norms 2d, q d^2 + d, kv 2d^2 + 2d, o d^2 + d, MLP 8d^2 + 5d;
     * token norm d; head: norm d, Linear(d, d), Linear(d, 1). */
    *n = L * (12.0 * d * d + 11.0 * d) + d + (d * d + 3.0 * d + 1.0);
    /* wavelength Linear(F, d); label MLP Linear(NL, Hm), Linear(Hm, T d). */
    *n_embed = (F * d + d) + (NL * Hm + Hm) + (Hm * T * d + T * d);
    return 1;
  }
  if (base->model && !strcmp(base->model, "gpt")) {
    cls_gpt_config c;
    cls_gpt_config_default(&c);
    /* per block: two LayerNorms 4d, qkv 3d^2 + 3d, proj d^2 + d, MLP 8d^2 + 5d;
     * the final LayerNorm 2d; the head is tied to the token table. */
    *n = L * (12.0 * d * d + 13.0 * d) + 2.0 * d;
    *n_embed = ((double)c.vocab + (double)base->context) * d;
    return 1;
  }
  return 0;
}
