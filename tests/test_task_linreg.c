/*
 * tests/test_task_linreg.c — the test task that shows how a task and its
 * model are added (src/train/task_linreg.c, one file plus one registry
 * line): the registry finds it and its model, the sweep counts its
 * parameters through the registry, and the train loop trains it on the
 * device: the test loss falls from Var(y) (about 1) toward the noise floor
 * (0.01), and the same seed gives bitwise the same losses.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sweep/count.h"
#include "test_util.h"
#include "train/loop.h"
#include "train/task.h"

static cls_context *ctx;

static int setup(void **state) {
  (void)state;
  ctx = test_context(NULL, "own"); /* the same kernels in every run of this file */
  return 0;
}

static int teardown(void **state) {
  (void)state;
  cls_context_destroy(ctx);
  return 0;
}

static void linreg_spec(cls_task_spec *s, uint64_t seed) {
  cls_task_spec_default(s);
  s->task = "linreg";
  s->model = "linear";
  s->width = 16;
  s->depth = 1;
  s->batch = 32;
  s->n_train = 2048;
  s->n_test = 512;
  s->weight_decay = 0;
  s->seed = seed;
}

static void linreg_config(cls_train_config *c, const char *out, const char *id) {
  cls_train_config_default(c);
  c->out_dir = out;
  c->id = id;
  c->budget = 300;
  c->lr = 0.05;
  c->evals = 10;
  c->eval_batches = 8;
  c->checkpoint_seconds = 0;
  c->device_name = "test";
}

/* The eval losses of the CSV (step,tokens,flops,flops_6nd,train,eval,lr,seconds). */
static size_t eval_losses(const char *path, double *out, size_t cap) {
  FILE *f = fopen(path, "r");
  assert_non_null(f);
  char line[512];
  assert_non_null(fgets(line, sizeof line, f));
  size_t n = 0;
  unsigned long long step;
  double tokens, flops, f6, tl, el, lr, sec;
  while (n < cap && fgets(line, sizeof line, f))
    if (sscanf(line, "%llu,%lf,%lf,%lf,%lf,%lf,%lf,%lf", &step, &tokens, &flops, &f6, &tl, &el, &lr, &sec) == 8)
      out[n++] = el;
  fclose(f);
  return n;
}

static void test_registry(void **state) {
  (void)state;
  const cls_task_info *t = cls_task_find("linreg", NULL);
  assert_non_null(t);
  assert_string_equal(t->model->name, "linear");
  assert_ptr_equal(cls_model_find("linear"), t->model);
  assert_ptr_equal(cls_task_find("spectra", NULL)->model, cls_model_find("emulator"));
  assert_null(cls_task_find("linreg", "gpt"));
  char list[256];
  assert_non_null(strstr(cls_task_list(list, sizeof list), "linreg/linear"));
  assert_non_null(strstr(list, "text/gpt"));
  /* A short buffer is cut, never overrun. */
  char tiny[6];
  assert_int_equal(strlen(cls_task_list(tiny, sizeof tiny)), 5);

  cls_task_spec s;
  linreg_spec(&s, 1);
  char err[512] = "";
  assert_int_equal(cls_task_check(&s, err, sizeof err), CLS_OK);
  s.depth = 2;
  assert_int_equal(cls_task_check(&s, err, sizeof err), CLS_ERR_INVALID_SIZE);
  assert_non_null(strstr(err, "`depth`"));
  linreg_spec(&s, 1);
  s.n_test = 0;
  assert_int_equal(cls_task_check(&s, err, sizeof err), CLS_ERR_INVALID_SIZE);
  assert_non_null(strstr(err, "`n_test`"));
  s.model = "gpt";
  assert_int_equal(cls_task_check(&s, err, sizeof err), CLS_ERR_INVALID_VALUE);
  assert_non_null(strstr(err, "linreg/linear"));
}

static void test_trains_to_noise_floor(void **state) {
  (void)state;
  char dir[512];
  test_tmpdir("linreg", dir, sizeof dir);
  double losses[2][32];
  size_t n[2];
  for (int run = 0; run < 3; run++) {
    cls_task_spec s;
    linreg_spec(&s, run < 2 ? 5 : 6);
    cls_train_task *t = NULL;
    char err[512] = "";
    cls_status st = cls_task_create(ctx, &s, &t, err, sizeof err);
    if (st != CLS_OK) fail_msg("cls_task_create -> %d: %s", st, err);
    /* The model's own count is the registry's host-side count. */
    double nn, ne;
    assert_true(cls_sweep_count_params(&s, s.width, s.depth, &nn, &ne));
    assert_true(nn == t->n_params && ne == t->n_params_embed);
    assert_true(t->n_params == 17);
    cls_train_config c;
    char id[16];
    snprintf(id, sizeof id, "run%d", run);
    linreg_config(&c, dir, id);
    cls_train_result *r = calloc(1, sizeof *r);
    st = cls_train_run(t, &c, r);
    if (st != CLS_OK) fail_msg("cls_train_run -> %d: %s", st, r->error);
    assert_int_equal(r->status, CLS_RUN_OK);
    double l[32];
    size_t k = eval_losses(r->csv_path, l, 32);
    assert_true(k >= 5);
    if (run < 2) {
      memcpy(losses[run], l, sizeof l);
      n[run] = k;
    } else {
      assert_true(k == n[0] && memcmp(l, losses[0], k * sizeof *l) != 0); /* another seed, other losses */
    }
    free(r);
    cls_task_destroy(t);
  }
  print_message("linreg test MSE %.4f -> %.4f over 300 steps (noise floor 0.01)\n", losses[0][0],
                losses[0][n[0] - 1]);
  /* Same seed: bitwise the same losses. */
  assert_int_equal(n[0], n[1]);
  assert_memory_equal(losses[0], losses[1], n[0] * sizeof(double));
  /* From about Var(y) = 1 down toward the noise floor. */
  assert_true(losses[0][0] > 0.3);
  assert_true(losses[0][n[0] - 1] < 0.03);
  assert_true(losses[0][n[0] - 1] > 0.005);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_registry),
      cmocka_unit_test(test_trains_to_noise_floor),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
