/*
 * tests/test_train_loop.c — the train loop end to end on tiny models on the
 * device: the loss falls on the Zipf text task, the same seed gives the same
 * CSV, a run stopped after k steps (by stop_after_steps or by the signal
 * flag) and resumed writes the CSV of an uninterrupted run (seconds apart)
 * and ends with the same parameters; budgets in tokens and FLOPs; a NaN
 * loss ends the run as "diverged" with its summary written (on a fake task,
 * which also shows the loop knows nothing of the model); bad configs are
 * refused with a message.
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
#include <dirent.h>

#include "test_util.h"
#include "core/file.h"
#include "train/loop.h"
#include "train/task.h"

static cls_context *ctx;

static int setup(void **state) {
  (void)state;
  /* A fixed matmul backend: the same kernels in every run of this file,
   * whatever the auto backend's persisted choices are. */
  ctx = test_context(NULL, "own");
  return 0;
}

static int teardown(void **state) {
  (void)state;
  cls_context_destroy(ctx);
  return 0;
}

static void tiny_spec(cls_task_spec *s, uint64_t seed) {
  cls_task_spec_default(s);
  s->width = 32;
  s->depth = 1;
  s->heads = 2;
  s->context = 16;
  s->batch = 8;
  s->zipf_bytes = 100000;
  s->seed = seed;
}

static cls_train_task *make_task(const cls_task_spec *s) {
  cls_train_task *t = NULL;
  char err[1024] = "";
  cls_status st = cls_task_create(ctx, s, &t, err, sizeof err);
  if (st != CLS_OK) fail_msg("cls_task_create -> %d: %s", st, err);
  return t;
}

static void tiny_config(cls_train_config *c, const char *out, const char *id, double steps) {
  cls_train_config_default(c);
  c->out_dir = out;
  c->id = id;
  c->budget = steps;
  c->lr = 3e-3;
  c->evals = 12;
  c->eval_batches = 2;
  c->checkpoint_seconds = 0;
  c->device_name = "test";
}

/* The CSV without its seconds column (the last): what must be bitwise equal. */
static char *csv_sans_seconds(const char *path) {
  char *text = test_slurp(path), *out = malloc(strlen(text) + 1), *o = out;
  for (char *line = text; *line;) {
    char *nl = strchr(line, '\n');
    size_t len = nl ? (size_t)(nl - line) : strlen(line);
    char *comma = line + len;
    while (comma > line && *comma != ',') comma--;
    memcpy(o, line, (size_t)(comma - line));
    o += comma - line;
    *o++ = '\n';
    line = nl ? nl + 1 : line + len;
  }
  *o = 0;
  free(text);
  return out;
}

static size_t count_lines(const char *s) {
  size_t n = 0;
  for (; *s; s++) n += *s == '\n';
  return n;
}

static cls_train_result *run(cls_train_task *t, const cls_train_config *c, cls_status want) {
  cls_train_result *r = calloc(1, sizeof *r);
  cls_status s = cls_train_run(t, c, r);
  if (s != want) fail_msg("cls_train_run -> %d (want %d): %s", s, want, r->error);
  return r;
}

static float *params_of(cls_train_task *t) {
  float *p = malloc(t->params->total * sizeof *p);
  TEST_OK(ctx, cls_buffer_read(ctx, t->slabs->params, 0, t->params->total, p));
  return p;
}

/* ------------------------------------------------------------ learning */

static void test_loss_falls(void **state) {
  (void)state;
  char dir[512];
  test_tmpdir("train-falls", dir, sizeof dir);
  cls_task_spec s;
  tiny_spec(&s, 1);
  cls_train_task *t = make_task(&s);
  cls_train_config c;
  tiny_config(&c, dir, "falls", 150);
  cls_train_result *r = run(t, &c, CLS_OK);
  assert_int_equal(r->status, CLS_RUN_OK);
  assert_int_equal(r->steps, 150);
  /* Read the curve back. */
  FILE *f = fopen(r->csv_path, "r");
  assert_non_null(f);
  char line[512];
  assert_non_null(fgets(line, sizeof line, f));
  assert_string_equal(line, "step,tokens,flops,flops_6nd,train_loss,eval_loss,lr,seconds\n");
  double first = NAN, last = NAN, prev_flops = 0;
  unsigned long long step, prev_step = 0;
  double tokens, flops, f6, tl, el, lr, sec;
  int rows = 0;
  while (fgets(line, sizeof line, f)) {
    assert_int_equal(
        sscanf(line, "%llu,%lf,%lf,%lf,%lf,%lf,%lf,%lf", &step, &tokens, &flops, &f6, &tl, &el, &lr, &sec), 8);
    assert_true(step > prev_step);
    assert_true(tokens == (double)step * 128);
    /* Measured FLOPs: the probe's per-step count times the steps (every step has the same shapes). */
    assert_true(flops == (double)step * r->flops_per_step);
    assert_true(flops > prev_flops);
    assert_true(f6 == 6.0 * t->n_params * tokens);
    assert_true(lr > 0 && lr <= 3e-3);
    if (rows == 0) first = el;
    last = el;
    prev_step = step;
    prev_flops = flops;
    rows++;
  }
  fclose(f);
  assert_int_equal(step, 150);
  assert_true(rows >= 8 && rows <= 12);
  print_message("eval loss %.3f -> %.3f over 150 steps (uniform over bytes: %.3f); %.3g FLOPs per step measured, "
                "%.3g counted by the model\n",
                first, last, log(256.0), r->flops_per_step, t->model_flops_per_step);
  assert_true(first > 5.0);
  assert_true(last < first - 1.5);
  assert_true(r->final_eval_loss == (float)last || fabs(r->final_eval_loss - last) < 1e-6);
  /* The measured count is above the model's matmul count (norms, softmax, AdamW...) but close. */
  assert_true(r->flops_per_step > t->model_flops_per_step && r->flops_per_step < 1.5 * t->model_flops_per_step);
  char *json = test_slurp(r->json_path);
  assert_non_null(strstr(json, "\"status\":\t\"ok\""));
  assert_non_null(strstr(json, "\"id\":\t\"falls\""));
  assert_non_null(strstr(json, "\"n_params\":"));
  assert_non_null(strstr(json, "\"final_eval_loss\":"));
  assert_non_null(strstr(json, "\"width\":\t32"));
  free(json);
  free(r);
  cls_task_destroy(t);
}

static void test_same_seed_same_losses(void **state) {
  (void)state;
  char dir[512];
  test_tmpdir("train-seed", dir, sizeof dir);
  char *csv[4];
  for (int i = 0; i < 4; i++) {
    cls_task_spec s;
    tiny_spec(&s, i == 2 ? 8 : 7);
    cls_train_task *t = make_task(&s);
    /* Run 3 reads each step's loss at once (no loss_ref): the loop's
     * in-flight reads must log exactly what the synchronous path logs. */
    assert_non_null(t->loss_ref.buf);
    if (i == 3) t->loss_ref = CLS_NOREF;
    cls_train_config c;
    char id[16];
    snprintf(id, sizeof id, "run%d", i);
    tiny_config(&c, dir, id, 40);
    cls_train_result *r = run(t, &c, CLS_OK);
    csv[i] = csv_sans_seconds(r->csv_path);
    free(r);
    cls_task_destroy(t);
  }
  assert_string_equal(csv[0], csv[1]);
  assert_true(strcmp(csv[0], csv[2]) != 0); /* another seed, other losses */
  assert_string_equal(csv[0], csv[3]);
  for (int i = 0; i < 4; i++) free(csv[i]);
}

/* --------------------------------------------------------------- resume */

typedef struct {
  volatile sig_atomic_t *flag;
  uint64_t at;
} stopper;

/* Stands in for the signal handler: raises the flag after step `at`. */
static void stop_at(void *user, const cls_train_progress *p) {
  stopper *s = user;
  if (p->step == s->at) *s->flag = 1;
}

static void resume_case(int by_flag) {
  char dir[512];
  test_tmpdir(by_flag ? "train-signal" : "train-resume", dir, sizeof dir);
  cls_task_spec s;
  tiny_spec(&s, 3);
  s.depth = 2;
  /* Uninterrupted. */
  cls_train_task *t = make_task(&s);
  cls_train_config c;
  tiny_config(&c, dir, "whole", 60);
  c.checkpoint_steps = 7; /* periodic checkpoints on the way must not change anything */
  cls_train_result *r = run(t, &c, CLS_OK);
  char *want = csv_sans_seconds(r->csv_path);
  float *want_params = params_of(t);
  const size_t n = t->params->total;
  free(r);
  cls_task_destroy(t);

  /* Stopped after 23 steps, in a fresh task (as a new process would be). */
  t = make_task(&s);
  tiny_config(&c, dir, "split", 60);
  volatile sig_atomic_t flag = 0;
  stopper st = {&flag, 23};
  if (by_flag) {
    c.stop = &flag;
    c.progress = stop_at;
    c.progress_user = &st;
  } else {
    c.stop_after_steps = 23;
  }
  r = run(t, &c, CLS_OK);
  assert_int_equal(r->status, CLS_RUN_INTERRUPTED);
  /* A signal during step k stops the run after step k; the flag raised
   * after step 23's check is seen after step 24. */
  const uint64_t at = by_flag ? 24 : 23;
  assert_int_equal(r->steps, at);
  char *json = test_slurp(r->json_path);
  assert_non_null(strstr(json, "\"status\":\t\"interrupted\""));
  assert_non_null(strstr(json, by_flag ? "\"steps\":\t24" : "\"steps\":\t23"));
  free(json);
  char *csv_at_stop = test_slurp(r->csv_path);
  size_t rows_at_stop = count_lines(csv_at_stop);
  free(csv_at_stop);
  free(r);
  cls_task_destroy(t);

  /* Resumed in another fresh task: the rest of the run. */
  t = make_task(&s);
  tiny_config(&c, dir, "split", 60);
  c.resume = 1;
  r = run(t, &c, CLS_OK);
  assert_int_equal(r->status, CLS_RUN_OK);
  assert_int_equal(r->resumed_from, at);
  assert_int_equal(r->steps, 60);
  char *got = csv_sans_seconds(r->csv_path);
  print_message("%s: stopped at step %d with %zu CSV lines, resumed to 60 with %zu\n",
                by_flag ? "stop flag" : "stop_after_steps", (int)at, rows_at_stop, count_lines(got));
  assert_string_equal(got, want);
  float *got_params = params_of(t);
  assert_memory_equal(got_params, want_params, n * sizeof(float));
  json = test_slurp(r->json_path);
  assert_non_null(strstr(json, "\"status\":\t\"ok\""));
  assert_non_null(strstr(json, by_flag ? "\"resumed_from_step\":\t24" : "\"resumed_from_step\":\t23"));
  free(json);
  free(r);
  cls_task_destroy(t);
  free(got);
  free(want);
  free(got_params);
  free(want_params);
}

static void test_resume_after_stop(void **state) {
  (void)state;
  resume_case(0);
}

static void test_resume_after_signal_flag(void **state) {
  (void)state;
  resume_case(1);
}

/* ------------------------------------------- resume on the auto backend */

static cls_context *auto_context(const char *cache_dir) {
  cls_context_options o;
  cls_context_options_init(&o);
  o.cache_dir = cache_dir;
  o.matmul_backend = "auto";
  /* The own kernels sum k in chunks of 256 launches here, so that they
   * round unlike CLBlast and host BLAS (in one pass over k, all three sum
   * in order with FMAs and agree bitwise on these shapes). */
  o.params = "MM_KCF=0,MM_KC=256";
  /* Never time a persisted choice again: this test decides what the file says. */
  setenv("CLSCALE_MATMUL_AUTO", "keep", 1);
  cls_context *c = NULL;
  char err[2048];
  cls_status st = cls_context_create(&o, &c, err, sizeof err);
  unsetenv("CLSCALE_MATMUL_AUTO");
  if (st != CLS_OK) fail_msg("%s", err);
  return c;
}

/* Every choice in the file turned to another backend. */
static void tamper(const char *path) {
  char *text = test_slurp(path);
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  for (char *line = text; *line;) {
    char *nl = strchr(line, '\n');
    *nl = 0;
    char *sp = strrchr(line, ' '), *sp2 = NULL;
    if ((line[0] == 'N' || line[0] == 'T') && (line[1] == 'N' || line[1] == 'T') && line[2] == ' ' && sp) {
      *sp = 0; /* the spread */
      sp2 = strrchr(line, ' ');
      *sp2 = 0; /* the load */
      char *b = strrchr(line, ' ') + 1;
      /* CLBlast: the own kernels (k in chunks, auto_context) round
       * unlike it. */
      const char *to = strcmp(b, "clblast") ? "clblast" : "own";
      *b = 0;
      fprintf(f, "%s%s 0.10 1.00\n", line, to);
    } else {
      fprintf(f, "%s\n", line);
    }
    line = nl + 1;
  }
  fclose(f);
  free(text);
}

static char *json_choices(const char *path) {
  char *json = test_slurp(path), *k = strstr(json, "\"matmul_choices\":\t\"");
  if (!k) fail_msg("%s has no matmul_choices", path);
  k += strlen("\"matmul_choices\":\t\"");
  char *out = strndup(k, (size_t)(strchr(k, '"') - k));
  free(json);
  return out;
}

/* A run resumed on the auto backend uses the choices its checkpoint
 * recorded, even when the cache folder says otherwise by then (issue 14:
 * a killed and resumed sweep gave other losses than an uninterrupted one).
 * The tampered file is shown to matter: a new run with it computes other
 * losses. */
static void test_resume_pins_auto_choices(void **state) {
  (void)state;
  char dir[512], cache[512], path[1024];
  test_tmpdir("train-pins", dir, sizeof dir);
  test_tmpdir("train-pins-cache", cache, sizeof cache);
  cls_context *own = ctx;
  cls_task_spec s;
  tiny_spec(&s, 5);
  /* 1024 rows a step: the weight gradients sum over k = 1024, where the
   * backends' blockings of k differ in rounding (on small k they agree). */
  s.context = 64;
  s.batch = 16;
  cls_train_config c;

  /* Uninterrupted: the choices are timed and persisted. */
  ctx = auto_context(cache);
  cls_train_task *t = make_task(&s);
  tiny_config(&c, dir, "whole", 40);
  cls_train_result *r = run(t, &c, CLS_OK);
  char *want = csv_sans_seconds(r->csv_path), *want_choices = json_choices(r->json_path);
  free(r);
  cls_task_destroy(t);
  cls_context_destroy(ctx);
  test_matmul_auto_file(cache, path, sizeof path);
  char *original = test_slurp(path);

  /* Stopped after 17 steps, with the same file. */
  ctx = auto_context(cache);
  t = make_task(&s);
  tiny_config(&c, dir, "split", 40);
  c.stop_after_steps = 17;
  r = run(t, &c, CLS_OK);
  assert_int_equal(r->status, CLS_RUN_INTERRUPTED);
  free(r);
  cls_task_destroy(t);
  cls_context_destroy(ctx);

  /* The file now says otherwise for every class. */
  tamper(path);
  char *tampered = test_slurp(path);
  assert_string_not_equal(tampered, original);

  /* That matters: a new run reads the tampered choices. */
  ctx = auto_context(cache);
  t = make_task(&s);
  tiny_config(&c, dir, "other", 40);
  r = run(t, &c, CLS_OK);
  char *other = csv_sans_seconds(r->csv_path), *other_choices = json_choices(r->json_path);
  if (!strcmp(other, want))
    fail_msg("the tampered choices (%s) gave the same losses: the test cannot tell", other_choices);
  assert_string_not_equal(other_choices, want_choices);
  free(r);
  cls_task_destroy(t);
  cls_context_destroy(ctx);

  /* Resumed with the tampered file: the checkpoint's choices, the
   * uninterrupted run's losses. */
  ctx = auto_context(cache);
  t = make_task(&s);
  tiny_config(&c, dir, "split", 40);
  c.resume = 1;
  r = run(t, &c, CLS_OK);
  assert_int_equal(r->resumed_from, 17);
  char *got = csv_sans_seconds(r->csv_path), *got_choices = json_choices(r->json_path);
  assert_string_equal(got_choices, want_choices);
  assert_string_equal(got, want);
  /* The file was left as it was: a run never rewrites another's choices. */
  char *after = test_slurp(path);
  assert_string_equal(after, tampered);
  size_t classes = 1;
  for (const char *q = want_choices; *q; q++) classes += *q == ';';
  print_message("resumed on auto with %zu pinned classes; the tampered file's choices gave other losses\n",
                classes);
  free(r);
  cls_task_destroy(t);

  /* A start from step 0 given the choices an earlier start recorded (what
   * a sweep does for a point killed before its first checkpoint) computes
   * what that start did; choices that are not a record are ignored. */
  t = make_task(&s);
  tiny_config(&c, dir, "again", 40);
  c.matmul_choices = want_choices;
  r = run(t, &c, CLS_OK);
  char *again = csv_sans_seconds(r->csv_path), *again_choices = json_choices(r->json_path);
  assert_string_equal(again_choices, want_choices);
  assert_string_equal(again, want);
  free(r);
  free(again);
  free(again_choices);
  tiny_config(&c, dir, "advice", 40);
  c.matmul_choices = "NN 7 5 2 0 quantum";
  r = run(t, &c, CLS_OK);
  again_choices = json_choices(r->json_path);
  assert_string_equal(again_choices, other_choices);
  free(r);
  free(again_choices);
  cls_task_destroy(t);
  cls_context_destroy(ctx);
  ctx = own;
  free(want);
  free(want_choices);
  free(original);
  free(tampered);
  free(other);
  free(other_choices);
  free(got);
  free(got_choices);
  free(after);
}

/* A stopped run to resume wrongly: returns its checkpoint path in ckpt. */
static void stopped_run(const char *dir, const cls_task_spec *s, char *ckpt, size_t len) {
  cls_train_task *t = make_task(s);
  cls_train_config c;
  tiny_config(&c, dir, "victim", 30);
  c.stop_after_steps = 5;
  cls_train_result *r = run(t, &c, CLS_OK);
  assert_int_equal(r->status, CLS_RUN_INTERRUPTED);
  snprintf(ckpt, len, "%s", r->ckpt_path);
  free(r);
  cls_task_destroy(t);
}

static void expect_refused(const cls_task_spec *s, const char *dir, double lr, cls_status want, const char *msg) {
  cls_train_task *t = make_task(s);
  float *before = params_of(t);
  cls_train_config c;
  tiny_config(&c, dir, "victim", 30);
  c.lr = lr;
  c.resume = 1;
  cls_train_result *r = run(t, &c, want);
  print_message("refused: %s\n", r->error);
  assert_false(r->bad_usage); /* a file problem, not a usage error */
  assert_false(r->started);
  if (!strstr(r->error, msg)) fail_msg("message '%s' lacks '%s'", r->error, msg);
  /* Nothing of a refused checkpoint reaches the model. */
  float *after = params_of(t);
  assert_memory_equal(before, after, t->params->total * sizeof(float));
  free(before);
  free(after);
  free(r);
  cls_task_destroy(t);
}

static void copy_file(const char *from, const char *to, long keep) {
  char *buf = malloc(1 << 24);
  FILE *f = fopen(from, "rb");
  assert_non_null(f);
  size_t n = fread(buf, 1, 1 << 24, f);
  fclose(f);
  if (keep >= 0 && (size_t)keep < n) n = (size_t)keep;
  f = fopen(to, "wb");
  assert_non_null(f);
  assert_int_equal(fwrite(buf, 1, n, f), n);
  fclose(f);
  free(buf);
}

static void test_checkpoint_refused(void **state) {
  (void)state;
  char dir[512], ckpt[4096], good[4200];
  test_tmpdir("train-ckpt", dir, sizeof dir);
  cls_task_spec s;
  tiny_spec(&s, 5);
  stopped_run(dir, &s, ckpt, sizeof ckpt);
  snprintf(good, sizeof good, "%s.good", ckpt);
  copy_file(ckpt, good, -1);

  /* Another learning rate, another width, another seed: named in the message. */
  expect_refused(&s, dir, 1e-3, CLS_ERR_INVALID_VALUE, "lr 0.003 in the checkpoint, 0.001 here");
  cls_task_spec wide = s;
  wide.width = 64;
  expect_refused(&wide, dir, 3e-3, CLS_ERR_INVALID_VALUE, "width 32 in the checkpoint, 64 here");
  cls_task_spec other_seed = s;
  other_seed.seed = 6;
  expect_refused(&other_seed, dir, 3e-3, CLS_ERR_INVALID_VALUE, "seed 5 in the checkpoint, 6 here");

  /* Truncated anywhere: in the header, in the slabs, just before the checksum. */
  const long cuts[] = {0, 5, 100, 3000, -2};
  for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
    FILE *f = fopen(good, "rb");
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fclose(f);
    long keep = cuts[i] >= 0 ? cuts[i] : size + cuts[i];
    copy_file(good, ckpt, keep);
    expect_refused(&s, dir, 3e-3, CLS_ERR_FORMAT, keep == 0 ? "is empty" : "truncated");
  }
  /* One flipped byte in the parameters: the checksum. */
  copy_file(good, ckpt, -1);
  FILE *f = fopen(ckpt, "r+b");
  fseek(f, -100, SEEK_END);
  int ch = fgetc(f);
  fseek(f, -100, SEEK_END);
  fputc(ch ^ 0x40, f);
  fclose(f);
  expect_refused(&s, dir, 3e-3, CLS_ERR_FORMAT, "corrupt (checksum mismatch)");
  /* Not a checkpoint at all. */
  f = fopen(ckpt, "wb");
  fputs("step,tokens\n1,2\n", f);
  fclose(f);
  expect_refused(&s, dir, 3e-3, CLS_ERR_FORMAT, "not a clscale checkpoint");
  /* Unreadable: a folder where the file should be. */
  remove(ckpt);
  char err[1024];
  assert_int_equal(cls_mkdirs(ckpt, err, sizeof err), CLS_OK);
  expect_refused(&s, dir, 3e-3, CLS_ERR_IO, "cannot read checkpoint");
  remove(ckpt);
  /* Missing. */
  expect_refused(&s, dir, 3e-3, CLS_ERR_IO, "no checkpoint");
  /* And the good copy still resumes. */
  copy_file(good, ckpt, -1);
  cls_train_task *t = make_task(&s);
  cls_train_config c;
  tiny_config(&c, dir, "victim", 30);
  c.resume = 1;
  cls_train_result *r = run(t, &c, CLS_OK);
  assert_int_equal(r->status, CLS_RUN_OK);
  assert_int_equal(r->resumed_from, 5);
  free(r);
  /* Starting again over an existing checkpoint needs `force`. */
  tiny_config(&c, dir, "victim", 30);
  r = run(t, &c, CLS_ERR_INVALID_VALUE);
  assert_non_null(strstr(r->error, "`force`"));
  free(r);
  cls_task_destroy(t);
}

/* -------------------------------------------------------------- budgets */

static void test_budgets(void **state) {
  (void)state;
  char dir[512];
  test_tmpdir("train-budget", dir, sizeof dir);
  cls_task_spec s;
  tiny_spec(&s, 1);
  cls_train_task *t = make_task(&s);
  cls_train_config c;
  /* Tokens: 1000 / 128 per step -> 7 whole steps. */
  tiny_config(&c, dir, "tokens", 1000);
  c.budget_kind = CLS_BUDGET_TOKENS;
  cls_train_result *r = run(t, &c, CLS_OK);
  assert_int_equal(r->total_steps, 7);
  assert_true(r->tokens == 7 * 128);
  const double fps = r->flops_per_step;
  free(r);
  /* FLOPs: 10.5 steps' worth -> 10 steps, and the log's count equals them. */
  tiny_config(&c, dir, "flops", 10.5 * fps);
  c.budget_kind = CLS_BUDGET_FLOPS;
  r = run(t, &c, CLS_OK);
  assert_int_equal(r->total_steps, 10);
  assert_true(r->flops == 10 * fps);
  char *json = test_slurp(r->json_path);
  assert_non_null(strstr(json, "\"budget_flops\":"));
  free(json);
  free(r);
  /* Less than one step. */
  tiny_config(&c, dir, "small", 0.5 * fps);
  c.budget_kind = CLS_BUDGET_FLOPS;
  r = run(t, &c, CLS_ERR_INVALID_VALUE);
  assert_non_null(strstr(r->error, "less than one step"));
  free(r);
  tiny_config(&c, dir, "small", 100);
  c.budget_kind = CLS_BUDGET_TOKENS;
  r = run(t, &c, CLS_ERR_INVALID_VALUE);
  assert_non_null(strstr(r->error, "less than one step"));
  free(r);
  /* Zero, fractional steps, bad hyperparameters, bad id. */
  const struct {
    double budget, lr;
    const char *id, *msg;
  } bad[] = {
      {0, 1e-3, "a", "budget must be a positive"},
      {2.5, 1e-3, "a", "whole number"},
      {10, NAN, "a", "learning rate"},
      {10, -1, "a", "learning rate"},
      {10, 1e-3, "../x", "run id"},
      {10, 1e-3, "", "run id"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    tiny_config(&c, dir, bad[i].id, bad[i].budget);
    c.lr = bad[i].lr;
    r = run(t, &c, CLS_ERR_INVALID_VALUE);
    if (!strstr(r->error, bad[i].msg)) fail_msg("'%s' lacks '%s'", r->error, bad[i].msg);
    assert_true(r->bad_usage);
    free(r);
  }
  cls_task_destroy(t);
}

/* ------------------------------------------------------- bad task specs */

static void expect_task_error(const cls_task_spec *s, cls_status want, const char *msg) {
  cls_train_task *t = NULL;
  char err[1024] = "";
  cls_status st = cls_task_create(ctx, s, &t, err, sizeof err);
  assert_null(t);
  if (st != want || !strstr(err, msg)) fail_msg("got %d '%s', want %d with '%s'", st, err, want, msg);
  print_message("refused: %s\n", err);
}

static void test_bad_specs(void **state) {
  (void)state;
  cls_task_spec s;
  tiny_spec(&s, 1);
  s.heads = 3;
  expect_task_error(&s, CLS_ERR_INVALID_VALUE, "not divisible by heads");
  tiny_spec(&s, 1);
  s.depth = 0;
  expect_task_error(&s, CLS_ERR_INVALID_SIZE, "at least 1");
  tiny_spec(&s, 1);
  s.batch = 0;
  expect_task_error(&s, CLS_ERR_INVALID_SIZE, "batch");
  tiny_spec(&s, 1);
  s.data = "/no/such/file.txt";
  expect_task_error(&s, CLS_ERR_IO, "/no/such/file.txt");
  char dir[512], path[600];
  test_tmpdir("train-data", dir, sizeof dir);
  snprintf(path, sizeof path, "%s/empty.txt", dir);
  FILE *f = fopen(path, "w");
  fclose(f);
  s.data = path;
  expect_task_error(&s, CLS_ERR_FORMAT, "empty");
  tiny_spec(&s, 1);
  s.task = "speech";
  expect_task_error(&s, CLS_ERR_INVALID_VALUE, "text/gpt");
}

/* ------------------------------------------------- divergence (fake task) */

/* A task with one 16-float tensor whose loss turns NaN at step 4: the loop
 * must stop, say "diverged" and still write the summary. */
typedef struct {
  cls_param_table pt;
  cls_param_slabs slabs;
  cls_buffer *loss; /* the loss_ref of the in-flight variant */
} fake;

static int64_t fake_fail_at = -1; /* a step whose batch "cannot be read" */

static cls_status fake_step(cls_train_task *t, uint64_t step, float *loss) {
  fake *x = t->impl;
  if ((int64_t)step == fake_fail_at) {
    snprintf(t->error, sizeof t->error, "batch %llu: disk on fire", (unsigned long long)step);
    return CLS_ERR_IO;
  }
  float g[16];
  for (int i = 0; i < 16; i++) g[i] = 0.5f;
  const float l = step == 4 ? NAN : 1.0f / (float)(step + 1);
  if (loss)
    *loss = l;
  else /* the loop reads it later, as a model's forward pass leaves it */
    TEST_OK(t->ctx, cls_buffer_write(t->ctx, x->loss, 0, 1, &l));
  return cls_buffer_write(t->ctx, x->slabs.grads, 0, 16, g);
}

static cls_status fake_eval(cls_train_task *t, size_t n, double *loss) {
  (void)t;
  (void)n;
  *loss = 2.0;
  return CLS_OK;
}

static void fake_destroy(cls_train_task *t) {
  fake *x = t->impl;
  cls_param_slabs_free(&x->slabs);
  cls_param_table_free(&x->pt);
  cls_buffer_free(x->loss);
  free(x);
  free(t);
}

static cls_train_task *fake_task(int in_flight) {
  cls_train_task *t = calloc(1, sizeof *t);
  fake *x = calloc(1, sizeof *x);
  if (in_flight) {
    TEST_OK(ctx, cls_buffer_alloc(ctx, 1, &x->loss));
    t->loss_ref = cls_ref_at(x->loss, 0);
  }
  t->impl = x;
  t->ctx = ctx;
  assert_int_equal(cls_param_add(&x->pt, "w", 1, 16, CLS_PARAM_HIDDEN, CLS_INIT_NORMAL, 0.1f, 0), 0);
  TEST_OK(ctx, cls_param_slabs_alloc(ctx, &x->pt, &x->slabs));
  TEST_OK(ctx, cls_param_init(ctx, &x->pt, 1, &x->slabs));
  t->params = &x->pt;
  t->slabs = &x->slabs;
  t->n_params = 16;
  t->tokens_per_step = 10;
  t->train_step = fake_step;
  t->evaluate = fake_eval;
  t->destroy = fake_destroy;
  snprintf(t->key, sizeof t->key, "task=fake\n");
  snprintf(t->describe, sizeof t->describe, "fake");
  return t;
}

static void test_diverged(void **state) {
  (void)state;
  /* The loss read at once, and read while the next step runs (the step
   * after the NaN is already queued when it is seen): the same outcome. */
  for (int in_flight = 0; in_flight < 2; in_flight++) {
    cls_train_task *t = fake_task(in_flight);
    char dir[512];
    test_tmpdir(in_flight ? "train-diverge-in-flight" : "train-diverge", dir, sizeof dir);
    cls_train_config c;
    tiny_config(&c, dir, "nan", 20);
    c.eval_every = 2;
    cls_train_result *r = run(t, &c, CLS_OK);
    assert_int_equal(r->status, CLS_RUN_DIVERGED);
    assert_int_equal(r->steps, 4);
    assert_int_equal(r->diverged_step, 5);
    assert_true(isnan(r->final_eval_loss));
    assert_non_null(strstr(r->error, "NaN at step 5"));
    char *json = test_slurp(r->json_path);
    assert_non_null(strstr(json, "\"status\":\t\"diverged\""));
    assert_non_null(strstr(json, "\"final_eval_loss\":\tnull"));
    assert_non_null(strstr(json, "\"diverged_at_step\":\t5"));
    free(json);
    char *csv = test_slurp(r->csv_path);
    assert_int_equal(count_lines(csv), 3); /* header, steps 2 and 4 */
    free(csv);
    free(r);
    cls_task_destroy(t);
  }
}

/* A failure in the probe (before step 0) and one in the middle of the run:
 * status "failed" with the task's message, in the result and the summary. */
static void test_failed(void **state) {
  (void)state;
  char dir[512];
  test_tmpdir("train-failed", dir, sizeof dir);
  for (int at = 0; at < 2; at++) {
    fake_fail_at = at ? 3 : 0;
    cls_train_task *t = fake_task(0);
    cls_train_config c;
    tiny_config(&c, dir, at ? "late" : "early", 10);
    cls_train_result *r = run(t, &c, CLS_ERR_IO);
    assert_int_equal(r->status, CLS_RUN_FAILED);
    assert_int_equal(r->started, at);
    assert_int_equal(r->steps, at ? 3 : 0);
    print_message("failed: %s\n", r->error);
    assert_non_null(strstr(r->error, at ? "batch 3: disk on fire" : "batch 0: disk on fire"));
    char *json = test_slurp(r->json_path);
    assert_non_null(strstr(json, "\"status\":\t\"failed\""));
    assert_non_null(strstr(json, "disk on fire"));
    assert_non_null(strstr(json, "\"n_params\":\t16"));
    free(json);
    free(r);
    cls_task_destroy(t);
  }
  fake_fail_at = -1;
}

/* ----------------------------------------------------- the emulator task */

static void emu_spec(cls_task_spec *s) {
  cls_task_spec_default(s);
  s->task = "spectra";
  s->model = "emulator";
  s->width = 32;
  s->depth = 1;
  s->heads = 2;
  s->label_tokens = 4;
  s->batch = 8;
  s->pixels = 64;
  s->n_train = 64;
  s->n_test = 16;
  s->n_pixels = 1000;
}

/* The same loop on the spectra: the test MSE falls, and a stopped and
 * resumed run logs what an uninterrupted one does. */
static void test_emulator_task(void **state) {
  (void)state;
  char dir[512];
  test_tmpdir("train-emulator", dir, sizeof dir);
  cls_task_spec s;
  emu_spec(&s);
  cls_train_task *t = make_task(&s);
  assert_true(t->tokens_per_step == 8 * 64);
  cls_train_config c;
  tiny_config(&c, dir, "whole", 120);
  cls_train_result *r = run(t, &c, CLS_OK);
  assert_int_equal(r->status, CLS_RUN_OK);
  char *want = csv_sans_seconds(r->csv_path);
  /* First and last eval MSE from the CSV. */
  double first = NAN, last = r->final_eval_loss;
  char *text = test_slurp(r->csv_path), *row = strchr(text, '\n') + 1;
  assert_int_equal(sscanf(row, "%*[^,],%*[^,],%*[^,],%*[^,],%*[^,],%lf", &first), 1);
  print_message("emulator test MSE %.4f -> %.4f over 120 steps (%s)\n", first, last, t->describe);
  assert_true(last < 0.7 * first);
  free(text);
  free(r);
  cls_task_destroy(t);

  t = make_task(&s);
  tiny_config(&c, dir, "split", 120);
  c.stop_after_steps = 50;
  r = run(t, &c, CLS_OK);
  assert_int_equal(r->status, CLS_RUN_INTERRUPTED);
  free(r);
  cls_task_destroy(t);
  t = make_task(&s);
  tiny_config(&c, dir, "split", 120);
  c.resume = 1;
  r = run(t, &c, CLS_OK);
  assert_int_equal(r->status, CLS_RUN_OK);
  char *got = csv_sans_seconds(r->csv_path);
  assert_string_equal(got, want);
  char *json = test_slurp(r->json_path);
  assert_non_null(strstr(json, "\"n_train\":\t64"));
  assert_non_null(strstr(json, "\"model\":\t\"emulator\""));
  free(json);
  free(got);
  free(want);
  free(r);
  cls_task_destroy(t);

  /* Its config errors. */
  emu_spec(&s);
  s.pixels = 2000;
  cls_train_task *bad = NULL;
  char err[512];
  assert_int_equal(cls_task_create(ctx, &s, &bad, err, sizeof err), CLS_ERR_INVALID_SIZE);
  assert_non_null(strstr(err, "`pixels`"));
  emu_spec(&s);
  s.width = 30;
  s.heads = 4;
  assert_int_equal(cls_task_create(ctx, &s, &bad, err, sizeof err), CLS_ERR_INVALID_VALUE);
  assert_null(bad);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_loss_falls),
      cmocka_unit_test(test_same_seed_same_losses),
      cmocka_unit_test(test_resume_after_stop),
      cmocka_unit_test(test_resume_after_signal_flag),
      cmocka_unit_test(test_resume_pins_auto_choices),
      cmocka_unit_test(test_checkpoint_refused),
      cmocka_unit_test(test_budgets),
      cmocka_unit_test(test_bad_specs),
      cmocka_unit_test(test_diverged),
      cmocka_unit_test(test_failed),
      cmocka_unit_test(test_emulator_task),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
