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

void test_tiny_text_gpt(cls_task_spec *s) {
  cls_task_spec_default(s);
  s->task = "text";
  s->model = "gpt";
  s->width = 16;
  s->depth = 2;
  s->heads = 2;
  s->batch = 3;
  s->context = 12;
  s->zipf_bytes = 20000;
  s->val_fraction = 0.1;
  s->param = CLS_PARAM_MUP;
  s->base_width = 16;
}

void test_tiny_gcd_gpt(cls_task_spec *s) {
  cls_task_spec_default(s);
  s->task = "gcd";
  s->model = "gpt";
  s->width = 16;
  s->depth = 1;
  s->heads = 2;
  s->batch = 8;
  s->base = 10;
  s->bound = 30;
  s->context = 9;
  s->eval_pairs = 40;
  s->param = CLS_PARAM_MUP;
  s->base_width = 16;
}
