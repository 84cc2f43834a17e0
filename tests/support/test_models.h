/* tests/support/test_models.h — the small emulator the side-by-side tests
 * (test_group.c, test_group_run.c) train: width 16, depth 2, 2 heads,
 * muP at base width 16, 4 spectra x 16 pixels a step, 48 training and 8
 * test spectra on a 400-pixel grid, 4 label tokens. */
#ifndef CLSCALE_TEST_MODELS_H
#define CLSCALE_TEST_MODELS_H

#include "train/task.h"

void test_tiny_emulator(cls_task_spec *s);
/* A GPT of width 16, depth 2, on the synthetic Zipf text (contexts of 12
 * bytes, batches of 3): small enough for Oclgrind. */
void test_tiny_text_gpt(cls_task_spec *s);
/* A GPT of width 16, depth 1, on gcd in base 10 up to 30 (questions with
 * ignored targets; a final report with an outcomes table). */
void test_tiny_gcd_gpt(cls_task_spec *s);

#endif
