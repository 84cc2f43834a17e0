/* src/nn/emulator_internal.h — what emulator_ref.c and tests read of a
 * cls_emulator beyond emulator.h. */
#ifndef CLSCALE_NN_EMULATOR_INTERNAL_H
#define CLSCALE_NN_EMULATOR_INTERNAL_H

#include "nn/emulator.h"

/* Index of the named tensor in the parameter table, or -1. */
int cls__emulator_index(const cls_emulator *e, const char *name);
float cls__emulator_attn_scale(const cls_emulator *e);
/* The RMSNorm epsilon of every norm. */
float cls__emulator_eps(void);

#endif
