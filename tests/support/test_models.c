/* tests/support/test_models.c — see test_models.h. */
#include "test_models.h"

void test_tiny_emulator(cls_task_spec *s) {
  cls_task_spec_default(s);
  s->task = "spectra";
  s->model = "emulator";
  s->width = 16;
  s->depth = 2;
  s->heads = 2;
  s->batch = 4;
  s->pixels = 16;
  s->n_train = 48;
  s->n_test = 8;
  s->n_pixels = 400;
  s->label_tokens = 4;
  s->param = CLS_PARAM_MUP;
  s->base_width = 16;
}
