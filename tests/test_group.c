/*
 * tests/test_group.c — models of one shape trained side by side (issue 13,
 * train/models.h): every loss of every model trained with two others must
 * be bitwise the loss of the same model trained alone, and a model trained
 * alone through the side-by-side runner must log the evaluation rows
 * (train and eval losses, learning rates) that the train loop writes for
 * the same run. On the own matmul backend and on the default auto
 * backend. Also cls_matmul_models against one cls_matmul per model,
 * bitwise (the bias ops' models forms: tests/test_elementwise.c; the
 * norms': tests/test_norm.c), and the norms launched once for all models.
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

#include "test_models.h"
#include "test_util.h"
#include "train/loop.h"
#include "train/models.h"
#include "train/task.h"

static void tiny_config(cls_train_config *c) {
  cls_train_config_default(c);
  c->evals = 4;
  c->eval_batches = 2;
  c->checkpoint_seconds = 0;
  c->drop_checkpoint = 1;
}

/* Three models of the small emulator (test_models.h) differing in seed, lr and steps. */
static const cls_model_member members[3] = {{11, 3e-3, 14}, {12, 1e-2, 9}, {13, 5e-3, 5}};

/* The task of the test: the small emulator, or the small GPT on text. */
typedef void (*spec_fn)(cls_task_spec *s);

static void train_models(cls_context *ctx, spec_fn spec, size_t K, const cls_model_member *m,
                         cls_models_result *r) {
  cls_task_spec s;
  spec(&s);
  cls_train_config c;
  tiny_config(&c);
  cls_status st = cls_models_train(ctx, &s, &c, K, m, r);
  if (st != CLS_OK) fail_msg("cls_models_train (%zu models) -> %d: %s", K, st, r->error);
}

/* Model k of the three alone through the train loop; its CSV's rows must
 * be the runner's rows for it (the columns the runner does not measure,
 * tokens, flops and seconds, taken from the loop's row). */
static void compare_with_loop(cls_context *ctx, spec_fn spec, const char *tag, size_t k,
                              const cls_model_outcome *o) {
  cls_task_spec s;
  spec(&s);
  s.seed = members[k].seed;
  cls_train_task *t = NULL;
  char err[1024] = "";
  cls_status st = cls_task_create(ctx, &s, &t, err, sizeof err);
  if (st != CLS_OK) fail_msg("cls_task_create -> %d: %s", st, err);
  char dir[512], id[32];
  test_tmpdir(tag, dir, sizeof dir);
  snprintf(id, sizeof id, "m%zu", k);
  cls_train_config c;
  tiny_config(&c);
  c.out_dir = dir;
  c.id = id;
  c.force = 1;
  c.budget_kind = CLS_BUDGET_STEPS;
  c.budget = (double)members[k].steps;
  c.lr = members[k].lr;
  cls_train_result r;
  st = cls_train_run(t, &c, &r);
  if (st != CLS_OK || r.status != CLS_RUN_OK) fail_msg("cls_train_run -> %d: %s", st, r.error);
  char *csv = test_slurp(r.csv_path);
  assert_non_null(csv);
  size_t row = 0;
  for (char *line = strchr(csv, '\n'); line && line[1]; line = strchr(line + 1, '\n')) {
    char *end = strchr(line + 1, '\n');
    size_t n = end ? (size_t)(end - line - 1) : strlen(line + 1);
    char want[512];
    snprintf(want, sizeof want, "%.*s", (int)n, line + 1);
    cls_eval_row lr;
    if (!cls_csv_parse_row(want, &lr)) fail_msg("%s: not a CSV row: %s", r.csv_path, want);
    if (row >= o->n_rows) fail_msg("model %zu: the loop logged more than the runner's %zu rows", k, o->n_rows);
    cls_eval_row mine = o->rows[row++];
    mine.tokens = lr.tokens;
    mine.flops = lr.flops;
    mine.flops_6nd = lr.flops_6nd;
    mine.seconds = lr.seconds;
    char got[512];
    size_t len = cls_csv_format_row(&mine, got, sizeof got);
    while (len && (got[len - 1] == '\n' || got[len - 1] == '\r')) got[--len] = 0;
    if (strcmp(got, want))
      fail_msg("model %zu, row %zu: the runner logged\n  %s\nthe train loop\n  %s", k, row, got, want);
  }
  if (row != o->n_rows) fail_msg("model %zu: the loop logged %zu rows, the runner %zu", k, row, o->n_rows);
  free(csv);
  /* Which backends the products ran on (auto: the context's choices). */
  char *json = test_slurp(r.json_path);
  const char *ch = json ? strstr(json, "\"matmul_choices\"") : NULL;
  if (k == 0 && ch) printf("  %.*s\n", (int)strcspn(ch, "\n,"), ch);
  free(json);
  cls_task_destroy(t);
}

/* Model k side by side (a) against alone (b): every loss and evaluation
 * row bitwise. */
static void expect_same_run(const char *backend, size_t k, const cls_model_outcome *a,
                            const cls_model_outcome *b) {
  assert_false(a->diverged || b->diverged);
  assert_int_equal(a->steps_done, members[k].steps);
  assert_int_equal(b->steps_done, members[k].steps);
  for (uint64_t s = 0; s < members[k].steps; s++)
    if (memcmp(&a->losses[s], &b->losses[s], sizeof(float)))
      fail_msg("%s: model %zu, step %llu: loss %.9g side by side, %.9g alone", backend, k,
               (unsigned long long)s + 1, (double)a->losses[s], (double)b->losses[s]);
  assert_int_equal(a->n_rows, b->n_rows);
  for (size_t i = 0; i < a->n_rows; i++) {
    if (memcmp(&a->rows[i].eval_loss, &b->rows[i].eval_loss, sizeof(double)) ||
        memcmp(&a->rows[i].train_loss, &b->rows[i].train_loss, sizeof(double)) || a->rows[i].lr != b->rows[i].lr)
      fail_msg("%s: model %zu, row %zu: eval %.17g / %.17g, train %.17g / %.17g", backend, k, i,
               a->rows[i].eval_loss, b->rows[i].eval_loss, a->rows[i].train_loss, b->rows[i].train_loss);
  }
}

static void check_backend(spec_fn spec, const char *backend, const char *tag) {
  cls_context *ctx = test_context(NULL, backend);
  cls_models_result all;
  train_models(ctx, spec, 3, members, &all);
  /* The models differ, so equal losses below mean something. */
  assert_true(all.out[0].losses[1] != all.out[1].losses[1]);
  for (size_t k = 0; k < 3; k++) {
    cls_models_result one;
    train_models(ctx, spec, 1, &members[k], &one);
    const cls_model_outcome *a = &all.out[k], *b = &one.out[0];
    expect_same_run(backend ? backend : "auto", k, a, b);
    printf("  %-4s model %zu (seed %llu, lr %g, %llu steps): %llu losses and %zu rows equal; last eval %.6g\n",
           backend ? backend : "auto", k, (unsigned long long)members[k].seed, members[k].lr,
           (unsigned long long)members[k].steps, (unsigned long long)members[k].steps, a->n_rows,
           a->rows[a->n_rows - 1].eval_loss);
    compare_with_loop(ctx, spec, tag, k, b);
    cls_models_free(&one);
  }
  cls_models_free(&all);
  cls_context_destroy(ctx);
}

static void test_side_by_side_own(void **state) {
  (void)state;
  check_backend(test_tiny_emulator, "own", "group_own");
}

static void test_side_by_side_auto(void **state) {
  (void)state;
  check_backend(test_tiny_emulator, NULL, "group_auto");
}

/* The GPT on text (cls_gpt_forward_models): the same bitwise checks. */
static void test_gpt_side_by_side_own(void **state) {
  (void)state;
  check_backend(test_tiny_text_gpt, "own", "group_gpt_own");
}

static void test_gpt_side_by_side_auto(void **state) {
  (void)state;
  check_backend(test_tiny_text_gpt, NULL, "group_gpt_auto");
}

/* The norms' backward launches (their counters' calls) of a training: the
 * training steps' only (the evaluations, which the shorter members run at
 * their own steps, have no backward pass). */
static uint64_t norm_calls(cls_context *ctx) {
  cls_counters c;
  TEST_OK(ctx, cls_counters_get(ctx, &c));
  uint64_t n = 0;
  for (size_t i = 0; i < c.op_count; i++)
    if (!strcmp(c.ops[i].name, "rmsnorm_bwd")) n += c.ops[i].calls;
  return n;
}

/* The norms run once for all models (their models forms): side by side,
 * three models launch as many norm backward kernels as the longest one
 * alone (as many steps), and
 * stay bitwise equal to each alone when the gain gradients are summed in
 * several parts per model (ROW_PART=7: parts of 7 rows, the last one of
 * each model shorter), on both row variants (the GPU one's column pass
 * with vectors, ROW_CVEC=4). */
static void test_side_by_side_norm_parts(void **state) {
  (void)state;
  const char *params[] = {NULL, "ROW_PART=7", "ROW_VARIANT=1,ROW_PART=7,ROW_CVEC=4"};
  for (int pi = 0; pi < 3; pi++) {
    cls_context *ctx = test_context(params[pi], "own");
    cls_models_result all, one[3];
    cls_counters_reset(ctx);
    train_models(ctx, test_tiny_emulator, 3, members, &all);
    const uint64_t side = norm_calls(ctx);
    for (size_t k = 0; k < 3; k++) {
      cls_counters_reset(ctx);
      train_models(ctx, test_tiny_emulator, 1, &members[k], &one[k]);
      if (k == 0 && norm_calls(ctx) != side)
        fail_msg("%s: the norms' backward launched %llu times for three models side by side, %llu for the longest "
                 "alone",
                 params[pi] ? params[pi] : "defaults", (unsigned long long)side,
                 (unsigned long long)norm_calls(ctx));
      expect_same_run(params[pi] ? params[pi] : "defaults", k, &all.out[k], &one[k].out[0]);
      cls_models_free(&one[k]);
    }
    assert_true(side > 0);
    cls_models_free(&all);
    cls_context_destroy(ctx);
  }
}

/* One spectrum a step: the attention's products are then single products
 * for one model, so side by side it runs once per model (a batch of K
 * would be another shape class for auto); and 3 pixels a spectrum, so the
 * models' parts of the smallest activations are not contiguous (padded to
 * 16 floats) and the ops run once per model there. */
static void test_side_by_side_one_spectrum(void **state) {
  (void)state;
  cls_context *ctx = test_context(NULL, NULL);
  cls_task_spec s;
  test_tiny_emulator(&s);
  s.batch = 1;
  s.pixels = 3;
  cls_train_config c;
  tiny_config(&c);
  const cls_model_member two[2] = {{5, 4e-3, 6}, {6, 8e-3, 6}};
  cls_models_result all, one[2];
  if (cls_models_train(ctx, &s, &c, 2, two, &all) != CLS_OK) fail_msg("%s", all.error);
  for (size_t k = 0; k < 2; k++) {
    if (cls_models_train(ctx, &s, &c, 1, &two[k], &one[k]) != CLS_OK) fail_msg("%s", one[k].error);
    if (memcmp(all.out[k].losses, one[k].out[0].losses, 6 * sizeof(float)))
      fail_msg("one spectrum a step: model %zu's losses side by side differ from alone", k);
    assert_int_equal(all.out[k].n_rows, one[k].out[0].n_rows);
    for (size_t i = 0; i < all.out[k].n_rows; i++)
      assert_memory_equal(&all.out[k].rows[i].eval_loss, &one[k].out[0].rows[i].eval_loss, sizeof(double));
    cls_models_free(&one[k]);
  }
  assert_true(all.out[0].losses[0] != all.out[1].losses[0]);
  cls_models_free(&all);
  cls_context_destroy(ctx);
}

/* cls_matmul_models against one product per model, on every transpose. */
static void test_matmul_models(void **state) {
  (void)state;
  const char *backends[] = {"own", NULL};
  const size_t shapes[][3] = {{64, 16, 16}, {16, 64, 33}, {2048, 1, 16}, {16, 16, 2048}, {7, 5, 3}};
  for (size_t bi = 0; bi < 2; bi++) {
    cls_context *ctx = test_context(NULL, backends[bi]);
    for (size_t si = 0; si < sizeof shapes / sizeof shapes[0]; si++)
      for (int tr = 0; tr < 4; tr++) {
        const size_t m = shapes[si][0], n = shapes[si][1], k = shapes[si][2], K = 3;
        const cls_trans ta = tr & 1 ? CLS_TRANS : CLS_NO_TRANS, tb = tr & 2 ? CLS_TRANS : CLS_NO_TRANS;
        const size_t lda = ta == CLS_TRANS ? m : k, ldb = tb == CLS_TRANS ? k : n;
        const size_t sa = m * k + 16, sb = k * n + 32, sc = m * n + 16; /* strides with gaps */
        float *a = test_random_floats(K * sa, 1 + si, -1, 1), *b = test_random_floats(K * sb, 2 + si, -1, 1);
        float *c = test_random_floats(K * sc, 3 + si, -1, 1);
        cls_buffer *A = test_upload(ctx, a, K * sa), *B = test_upload(ctx, b, K * sb);
        cls_buffer *C1 = test_upload(ctx, c, K * sc), *C2 = test_upload(ctx, c, K * sc);
        TEST_OK(ctx, cls_matmul_models(ctx, ta, tb, m, n, k, 1.0f, cls_ref_at(A, 0), lda, sa, cls_ref_at(B, 0),
                                       ldb, sb, 1.0f, cls_ref_at(C1, 0), n, sc, K, K));
        for (size_t j = 0; j < K; j++)
          TEST_OK(ctx, cls_matmul(ctx, ta, tb, m, n, k, 1.0f, cls_ref_at(A, j * sa), lda, cls_ref_at(B, j * sb),
                                  ldb, 1.0f, cls_ref_at(C2, j * sc), n));
        float *g1 = test_download(ctx, C1), *g2 = test_download(ctx, C2);
        if (memcmp(g1, g2, K * sc * sizeof *g1))
          fail_msg("%s: %zu x %zu x %zu (%c%c): the batched products differ from the single ones",
                   backends[bi] ? backends[bi] : "auto", m, n, k, ta == CLS_TRANS ? 'T' : 'N',
                   tb == CLS_TRANS ? 'T' : 'N');
        free(g1);
        free(g2);
        free(a);
        free(b);
        free(c);
        cls_buffer_free(A);
        cls_buffer_free(B);
        cls_buffer_free(C1);
        cls_buffer_free(C2);
      }
    /* A batch that is not a whole number of products per model. */
    cls_buffer *x = NULL;
    TEST_OK(ctx, cls_buffer_alloc(ctx, 64, &x));
    assert_int_equal(cls_matmul_models(ctx, CLS_NO_TRANS, CLS_NO_TRANS, 2, 2, 2, 1.0f, cls_ref_at(x, 0), 2, 4,
                                       cls_ref_at(x, 0), 2, 4, 0.0f, cls_ref_at(x, 32), 2, 4, 3, 2),
                     CLS_ERR_INVALID_SIZE);
    cls_buffer_free(x);
    cls_context_destroy(ctx);
  }
}

/* Bad members are refused with a message, nothing trained. */
static void test_bad_members(void **state) {
  (void)state;
  cls_context *ctx = test_context(NULL, "own");
  cls_task_spec s;
  test_tiny_emulator(&s);
  cls_train_config c;
  tiny_config(&c);
  cls_models_result r;
  const cls_model_member rising[2] = {{1, 1e-3, 5}, {2, 1e-3, 6}}, zero[1] = {{1, 1e-3, 0}}, nolr[1] = {{1, 0, 5}};
  assert_int_equal(cls_models_train(ctx, &s, &c, 2, rising, &r), CLS_ERR_INVALID_VALUE);
  assert_non_null(strstr(r.error, "non-increasing"));
  cls_models_free(&r);
  assert_int_equal(cls_models_train(ctx, &s, &c, 1, zero, &r), CLS_ERR_INVALID_VALUE);
  cls_models_free(&r);
  assert_int_equal(cls_models_train(ctx, &s, &c, 1, nolr, &r), CLS_ERR_INVALID_VALUE);
  cls_models_free(&r);
  c.eval_batches = 0;
  assert_int_equal(cls_models_train(ctx, &s, &c, 1, members, &r), CLS_ERR_INVALID_VALUE);
  assert_non_null(strstr(r.error, "evaluation"));
  cls_models_free(&r);
  tiny_config(&c);
  cls_task_spec_default(&s); /* a task whose models do not train side by side */
  s.task = "linreg";
  s.model = "linear";
  assert_int_equal(cls_models_train(ctx, &s, &c, 1, members, &r), CLS_ERR_INVALID_VALUE);
  assert_non_null(strstr(r.error, "side by side"));
  cls_models_free(&r);
  cls_context_destroy(ctx);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_matmul_models),
      cmocka_unit_test(test_bad_members),
      cmocka_unit_test(test_side_by_side_own),
      cmocka_unit_test(test_side_by_side_auto),
      cmocka_unit_test(test_gpt_side_by_side_own),
      cmocka_unit_test(test_gpt_side_by_side_auto),
      cmocka_unit_test(test_side_by_side_one_spectrum),
      cmocka_unit_test(test_side_by_side_norm_parts),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
