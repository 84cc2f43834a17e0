/* src/nn/gpt_internal.h — what gpt_ref.c, gpt_infer.c and tests read of a cls_gpt. */
#ifndef CLSCALE_NN_GPT_INTERNAL_H
#define CLSCALE_NN_GPT_INTERNAL_H

#include "nn/gpt.h"

const cls_gpt_config *cls__gpt_config(const cls_gpt *g);
/* Index of the named tensor in the parameter table, or -1. */
int cls__gpt_index(const cls_gpt *g, const char *name);
float cls__gpt_attn_scale(const cls_gpt *g);
float cls__gpt_out_mult(const cls_gpt *g);
/* The context the model lives on (for gpt_infer.c). */
cls_context *cls__gpt_context(const cls_gpt *g);

#endif
