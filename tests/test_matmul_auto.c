/*
 * tests/test_matmul_auto.c — the auto backend remembers its choice: in the
 * context, in the cache folder (a second context reads it back instead of
 * measuring), and a corrupted file is ignored and rewritten. Measuring must
 * not change the result, also when beta != 0. The file is per parameter
 * set (another set never rewrites it); a choice timed on a busy machine is
 * timed again on a quiet one, and only then; a run's record pins choices
 * over whatever the file says.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ops/matmul.h"
#include "ops/matmul_ref.h"
#include "test_util.h"

#define M 40
#define N 24
#define K 33

static cls_context *context_params(const char *cache_dir, const char *params) {
  cls_context_options o;
  cls_context_options_init(&o);
  o.cache_dir = cache_dir;
  o.params = params;
  o.matmul_backend = "auto";
  cls_context *ctx = NULL;
  char err[2048];
  if (cls_context_create(&o, &ctx, err, sizeof err) != CLS_OK) fail_msg("%s", err);
  return ctx;
}

static cls_context *context_in(const char *cache_dir) {
  return context_params(cache_dir, NULL);
}

/* Classes the first context times: none where auto has one candidate. */
static size_t timed_once(cls_context *ctx) {
  return cls__mm_auto_candidate_count(ctx) > 1 ? 1 : 0;
}

/* One auto product with beta != 0, checked against the reference. */
static void product(cls_context *ctx) {
  float a[M * K], b[K * N], c[M * N];
  double want[M * N];
  test_fill_uniform(a, M * K, 11, -1, 1);
  test_fill_uniform(b, K * N, 12, -1, 1);
  test_fill_uniform(c, M * N, 13, -1, 1);
  for (size_t i = 0; i < M * N; i++) want[i] = c[i];
  cls_ref_matmul(CLS_NO_TRANS, CLS_TRANS, M, N, K, 0.5, a, K, 0, b, K, 0, -1.25, want, N, 0, 1);
  cls_buffer *da = test_upload(ctx, a, M * K), *db = test_upload(ctx, b, K * N), *dc = test_upload(ctx, c, M * N);
  TEST_OK(ctx, cls_matmul(ctx, CLS_NO_TRANS, CLS_TRANS, M, N, K, 0.5f, cls_ref_at(da, 0), K, cls_ref_at(db, 0), K,
                          -1.25f, cls_ref_at(dc, 0), N));
  float *got = test_download(ctx, dc);
  size_t at;
  double err = test_max_rel_err(got, want, M * N, 1e-3, &at);
  if (err > 1e-4) fail_msg("float %zu is %g, want %g", at, (double)got[at], want[at]);
  free(got);
  cls_buffer_free(da);
  cls_buffer_free(db);
  cls_buffer_free(dc);
}

/* A plain NN product of m x n x k (beta 0), checked loosely: another
 * shape class than product()'s. */
static void product_nn(cls_context *ctx, size_t m, size_t n, size_t k) {
  float *a = calloc(m * k, sizeof *a), *b = calloc(k * n, sizeof *b);
  assert_non_null(a);
  assert_non_null(b);
  test_fill_uniform(a, m * k, 21, -1, 1);
  test_fill_uniform(b, k * n, 22, -1, 1);
  cls_buffer *da = test_upload(ctx, a, m * k), *db = test_upload(ctx, b, k * n), *dc = NULL;
  TEST_OK(ctx, cls_buffer_alloc(ctx, m * n, &dc));
  TEST_OK(ctx, cls_matmul(ctx, CLS_NO_TRANS, CLS_NO_TRANS, m, n, k, 1.0f, cls_ref_at(da, 0), k, cls_ref_at(db, 0),
                          n, 0.0f, cls_ref_at(dc, 0), n));
  TEST_OK(ctx, cls_finish(ctx));
  cls_buffer_free(da);
  cls_buffer_free(db);
  cls_buffer_free(dc);
  free(a);
  free(b);
}

/* Products run under each real backend's counter: exactly one per
 * product, whether auto timed its candidates first or not (timing runs are
 * not counted: training FLOPs must not depend on the backend choice). */
static unsigned backend_calls(cls_context *ctx, const char **which) {
  cls_counters cn;
  TEST_OK(ctx, cls_counters_get(ctx, &cn));
  unsigned total = 0;
  for (size_t i = 0; i < cn.op_count; i++)
    if (!strcmp(cn.ops[i].name, "matmul.own") || !strcmp(cn.ops[i].name, "matmul.clblast") ||
        !strcmp(cn.ops[i].name, "matmul.host")) {
      total += (unsigned)cn.ops[i].calls;
      /* A literal: cn (and its names) ends with this frame. */
      if (which)
        *which = !strcmp(cn.ops[i].name, "matmul.own") ? "own" : cn.ops[i].name[7] == 'c' ? "clblast" : "host";
    }
  return total;
}

/* Removes dir and the files in it (the choices and the cached kernels). */
static void remove_tree(const char *dir) {
  DIR *d = opendir(dir);
  if (!d) return;
  struct dirent *e;
  char path[1024];
  while ((e = readdir(d)) != NULL) {
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
    snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    unlink(path);
  }
  closedir(d);
  rmdir(dir);
}

static void spit(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fputs(text, f);
  fclose(f);
}

/* The test class's line: NT, m=40 -> 2^6, n=24 -> 2^5, k=33 -> 2^6, unbatched. */
#define CLASS "NT 6 5 6 0"

/* text with the class's line replaced by CLASS BACKEND LOAD SPREAD. */
static void with_line(const char *text, const char *rest, char *out, size_t len) {
  const char *line = strstr(text, "\n" CLASS " ");
  assert_non_null(line);
  const char *end = strchr(line + 1, '\n');
  assert_non_null(end);
  snprintf(out, len, "%.*s" CLASS " %s%s", (int)(line + 1 - text), text, rest, end);
}

static void remembers(void **state) {
  (void)state;
  char dir[512], path[1024];
  test_tmpdir("matmul-auto", dir, sizeof dir);

  /* First context: measures the candidates, then remembers. Its timing is
   * recorded at a load of 1 per CPU whatever the machine's: the second
   * context's rule (re-time a choice made at twice its load or more) must
   * not depend on what else ran during the test. */
  cls_context *ctx = context_in(dir);
  cls__mm_auto_test_timing(ctx, 1.0, -1);
  product(ctx);
  const size_t timed = timed_once(ctx);
  assert_int_equal(cls__mm_auto_timed(ctx), timed);
  assert_int_equal(backend_calls(ctx, NULL), 1);
  cls_counters_reset(ctx);
  product(ctx); /* same class: no measuring */
  assert_int_equal(cls__mm_auto_timed(ctx), timed);
  assert_int_equal(backend_calls(ctx, NULL), 1);
  cls_context_destroy(ctx);

  test_matmul_auto_file(dir, path, sizeof path);
  char *text = test_slurp(path);
  assert_non_null(strstr(text, "clscale matmul-auto 3\n"));
  assert_non_null(strstr(text, "\ndefines -D"));
  assert_non_null(strstr(text, "\n" CLASS " "));

  /* Second context: reads the file, runs one product, times nothing. */
  ctx = context_in(dir);
  cls__mm_auto_test_timing(ctx, 1.0, -1); /* not quiet: whatever the first timing was, it is kept */
  product(ctx);
  assert_int_equal(cls__mm_auto_timed(ctx), 0);
  assert_int_equal(cls__mm_auto_dropped(ctx), 0);
  assert_int_equal(backend_calls(ctx, NULL), 1);
  cls_context_destroy(ctx);

  /* The file is really what decides: force clblast in it (never a
   * candidate on a CPU device, but a persisted choice is obeyed). */
  char forced[8192];
  with_line(text, "clblast 0.10 1.00", forced, sizeof forced);
  spit(path, forced);
  ctx = context_in(dir);
  product(ctx);
  const char *which = NULL;
  assert_int_equal(backend_calls(ctx, &which), 1);
  assert_string_equal(which, "clblast");
  cls_context_destroy(ctx);

  /* A corrupted file is ignored (measure again) and rewritten. */
  const char *corrupt[] = {"garbage\n",
                           "",
                           "clscale matmul-auto 2\ndevice x\n",
                           "clscale matmul-auto 1\nlibrary 0.1.0\n",
                           NULL /* the real header, then a bad line */,
                           NULL /* the real header, a line without its load */};
  for (int i = 0; i < 6; i++) {
    if (corrupt[i])
      spit(path, corrupt[i]);
    else
      with_line(text, i == 4 ? "quantum 0.10 1.00" : "own", forced, sizeof forced), spit(path, forced);
    ctx = context_in(dir);
    product(ctx);
    assert_int_equal(cls__mm_auto_timed(ctx), timed); /* the bad file was ignored: measured again */
    assert_int_equal(backend_calls(ctx, NULL), 1);
    cls_context_destroy(ctx);
    char *again = test_slurp(path);
    assert_non_null(strstr(again, "clscale matmul-auto 3\n"));
    assert_non_null(strstr(again, "\n" CLASS " "));
    free(again);
  }

  /* A file of version 2 (whose host choices were won in isolation, without
   * the margin) with this context's header otherwise is timed again too,
   * not read. */
  char old_version[sizeof forced];
  const char *v = strstr(text, "matmul-auto 3\n");
  assert_non_null(v);
  snprintf(old_version, sizeof old_version, "%.*smatmul-auto 2\n%s", (int)(v - text), text,
           v + strlen("matmul-auto 3\n"));
  spit(path, old_version);
  ctx = context_in(dir);
  product(ctx);
  assert_int_equal(cls__mm_auto_timed(ctx), timed);
  cls_context_destroy(ctx);
  free(text);
  remove_tree(dir);
}

/* Another parameter set has its own file: a context with other parameters
 * never rewrites the choices of this one (issue 14: it did, and a resumed
 * run chose differently). */
static void keyed_by_params(void **state) {
  (void)state;
  char dir[512], path[1024];
  test_tmpdir("matmul-auto-params", dir, sizeof dir);
  cls_context *ctx = context_in(dir);
  product(ctx);
  cls_context_destroy(ctx);
  test_matmul_auto_file(dir, path, sizeof path);
  char *before = test_slurp(path);

  ctx = context_params(dir, "MM_TK=16");
  product(ctx);
  assert_int_equal(cls__mm_auto_timed(ctx), timed_once(ctx)); /* not this set's choice: its own */
  cls_context_destroy(ctx);
  char *after = test_slurp(path);
  assert_string_equal(before, after);
  int files = 0;
  DIR *d = opendir(dir);
  assert_non_null(d);
  struct dirent *e;
  while ((e = readdir(d)) != NULL)
    if (!strncmp(e->d_name, "matmul-auto-", 12) && strstr(e->d_name, ".txt") && !strstr(e->d_name, ".txt."))
      files++;
  closedir(d);
  assert_int_equal(files, 2);
  free(before);
  free(after);
  remove_tree(dir);
}

/* A choice timed on a busy machine (load per CPU 9) or with a wide spread
 * is timed again by a context that starts on a quiet one (or, for a choice
 * timed under load, on one at most half as loaded and not busy), and
 * rewritten; not on a busy one, nor with CLSCALE_MATMUL_AUTO=keep; a
 * choice timed quietly stays. */
static void retimes_busy_choices(void **state) {
  (void)state;
  char dir[512], path[1024], forced[8192];
  test_tmpdir("matmul-auto-retime", dir, sizeof dir);
  cls_context *ctx = context_in(dir);
  product(ctx);
  const size_t timed = timed_once(ctx);
  cls_context_destroy(ctx);
  test_matmul_auto_file(dir, path, sizeof path);
  char *text = test_slurp(path);
  const struct {
    const char *line, *env;
    double now;
    int dropped;
  } cases[] = {{"own 9.00 1.00", NULL, 0.1, 1},   {"own 0.50 9.00", NULL, 0.1, 1}, {"own 9.00 1.00", NULL, 1.6, 0},
               {"own 9.00 1.00", NULL, 1.2, 1}, /* not busy, and at most half the load of the timing */
               {"own 2.00 1.00", NULL, 1.2, 0}, /* not half */
               {"own 0.50 9.00", NULL, 1.2, 0}, /* noisy, but not timed under load: only when quiet */
               {"own 9.00 1.00", "keep", 0.1, 0}, {"own 0.50 1.10", NULL, 0.1, 0}};
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    with_line(text, cases[i].line, forced, sizeof forced);
    spit(path, forced);
    if (cases[i].env) setenv("CLSCALE_MATMUL_AUTO", cases[i].env, 1);
    ctx = context_in(dir);
    if (cases[i].env) unsetenv("CLSCALE_MATMUL_AUTO");
    cls__mm_auto_test_timing(ctx, cases[i].now, 1.2); /* a timing run's spread is noise on a busy machine */
    product(ctx);
    assert_int_equal(cls__mm_auto_dropped(ctx), (size_t)cases[i].dropped);
    assert_int_equal(cls__mm_auto_timed(ctx), cases[i].dropped ? timed : 0);
    cls_context_destroy(ctx);
    char *again = test_slurp(path);
    const char *line = strstr(again, "\n" CLASS " ");
    assert_non_null(line);
    if (cases[i].dropped) /* timed again at the quiet load: the new line says so */
    {
      char name[16];
      float load, spread;
      assert_int_equal(sscanf(line + 1 + strlen(CLASS), " %15s %f %f", name, &load, &spread), 3);
      if (fabs(load - (timed ? cases[i].now : -1.0)) > 1e-6) fail_msg("case %zu: %.60s", i, line + 1);
      if (timed) assert_true(fabs(spread - 1.2) < 1e-6);
    } else
      assert_string_equal(again, forced);
    free(again);
  }
  setenv("CLSCALE_MATMUL_AUTO", "quick", 1);
  cls_context_options o;
  cls_context_options_init(&o);
  cls_context *bad = NULL;
  char err[512];
  assert_int_equal(cls_context_create(&o, &bad, err, sizeof err), CLS_ERR_INVALID_VALUE);
  assert_non_null(strstr(err, "CLSCALE_MATMUL_AUTO: unknown word 'quick'"));
  unsetenv("CLSCALE_MATMUL_AUTO");
  free(text);
  remove_tree(dir);
}

/* A run's record pins its classes: the record's backend runs even when the
 * file says otherwise; a class not in it takes the context's choice and
 * joins it; the text is canonical and checked. */
static void record_pins(void **state) {
  (void)state;
  char dir[512], path[1024], forced[8192], rec[512];
  test_tmpdir("matmul-auto-record", dir, sizeof dir);
  cls_context *ctx = context_in(dir);
  product(ctx);
  cls_context_destroy(ctx);
  test_matmul_auto_file(dir, path, sizeof path);
  char *text = test_slurp(path);
  /* The file says clblast; the record says own (and host where it can run). */
  with_line(text, "clblast 0.10 1.00", forced, sizeof forced);
  spit(path, forced);
  ctx = context_in(dir);
  const char *pin =
      cls__mm_auto_candidate_count(ctx) > 1 && strstr(text, "\n" CLASS " own ") ? CLASS " host" : CLASS " own";
  TEST_OK(ctx, cls_matmul_record_begin(ctx, pin));
  product(ctx);
  const char *which = NULL;
  assert_int_equal(backend_calls(ctx, &which), 1);
  assert_string_equal(which, strrchr(pin, ' ') + 1);
  assert_int_equal(cls__mm_auto_timed(ctx), 0);
  /* A new class: the context's choice (timed), added in class order. */
  product_nn(ctx, 100, 20, 3); /* NN 7 5 2 0: a smaller key than NT's? no: N=0 bits; so it comes first */
  size_t needed = 0;
  TEST_OK(ctx, cls_matmul_record_text(ctx, rec, sizeof rec, &needed));
  assert_int_equal(needed, strlen(rec) + 1);
  assert_non_null(strstr(rec, "NN 7 5 2 0 "));
  assert_non_null(strstr(rec, pin));
  assert_true(strstr(rec, "NN 7 5 2 0 ") < strstr(rec, pin));
  assert_int_equal(cls_matmul_record_check(rec, NULL, 0), CLS_OK);
  char tiny[4];
  assert_int_equal(cls_matmul_record_text(ctx, tiny, sizeof tiny, &needed), CLS_ERR_INVALID_SIZE);
  assert_int_equal(needed, strlen(rec) + 1);
  /* Ended: the file's choice applies again. */
  cls_matmul_record_end(ctx);
  assert_int_equal(cls_matmul_record_text(ctx, rec, sizeof rec, NULL), CLS_ERR_INVALID_VALUE);
  cls_counters_reset(ctx);
  product(ctx);
  assert_int_equal(backend_calls(ctx, &which), 1);
  assert_string_equal(which, "clblast");
  /* A bad record is refused with the entry named; nothing is pinned. */
  assert_int_equal(cls_matmul_record_begin(ctx, "NT 6 5 6 0 quantum"), CLS_ERR_INVALID_VALUE);
  assert_non_null(strstr(cls_last_error(ctx), "entry 1"));
  if (!cls__mm_host_available(ctx)) {
    assert_int_equal(cls_matmul_record_begin(ctx, CLASS " host"), CLS_ERR_BACKEND_UNAVAILABLE);
    assert_non_null(strstr(cls_last_error(ctx), "continue the run on the device that started it"));
  }
  cls_context_destroy(ctx);
  free(text);
  remove_tree(dir);
}

static void record_text_checked(void **state) {
  (void)state;
  const char *good[] = {"", "NN 0 0 0 0 own", "NN 7 5 2 0 host;NT 6 5 6 0 own", "TT 63 63 63 1 clblast"};
  const char *bad[] = {"NN 7 5 2 0 own;",      ";NN 7 5 2 0 own",
                       "NN 7 5 2 0 auto",      "NN 7 5 2 0 quantum",
                       "NN 7 5 2 0 own extra", "NT 6 5 6 0 own;NN 7 5 2 0 own",
                       "NN 64 0 0 0 own",      "NN 7 5 2 2 own",
                       "XN 1 1 1 0 own",       "NN 7 5 2 0 own;NN 7 5 2 0 host",
                       "NN 07 5 2 0 own",      "NN 7  5 2 0 own"};
  char why[256];
  for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
    if (cls_matmul_record_check(good[i], why, sizeof why) != CLS_OK) fail_msg("'%s' refused: %s", good[i], why);
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    if (cls_matmul_record_check(bad[i], why, sizeof why) != CLS_ERR_INVALID_VALUE)
      fail_msg("'%s' accepted", bad[i]);
    assert_non_null(strstr(why, "entry"));
  }
}

/* With the cache disabled nothing is written, and the choice still holds
 * within the context. */
static void cache_disabled(void **state) {
  (void)state;
  cls_context_options o;
  cls_context_options_init(&o);
  o.disable_cache = 1;
  o.matmul_backend = "auto";
  cls_context *ctx = NULL;
  char err[2048];
  if (cls_context_create(&o, &ctx, err, sizeof err) != CLS_OK) fail_msg("%s", err);
  product(ctx);
  assert_int_equal(cls__mm_auto_timed(ctx), timed_once(ctx));
  assert_int_equal(backend_calls(ctx, NULL), 1);
  cls_counters_reset(ctx);
  product(ctx);
  assert_int_equal(cls__mm_auto_timed(ctx), timed_once(ctx));
  assert_int_equal(backend_calls(ctx, NULL), 1);
  cls_context_destroy(ctx);
}

/* The rule auto picks by, on made-up timings (no clock involved): host
 * must beat the fastest device candidate by the margin; device candidates
 * are compared plainly; failed candidates (negative) never win. */
static void host_needs_margin(void **state) {
  (void)state;
  const cls_backend two[] = {CLS_BACKEND_OWN, CLS_BACKEND_HOST};
  const cls_backend three[] = {CLS_BACKEND_OWN, CLS_BACKEND_CLBLAST, CLS_BACKEND_HOST};
  struct {
    const cls_backend *cand;
    int count;
    double t[3], margin;
    int want;
  } cases[] = {
      {two, 2, {1.0, 0.9}, 2.0, 0},        /* host faster by 1.1x: not enough */
      {two, 2, {1.0, 0.55}, 2.0, 0},       /* 1.8x: still not */
      {two, 2, {1.0, 0.45}, 2.0, 1},       /* 2.2x: host */
      {two, 2, {1.0, 0.9}, 1.0, 1},        /* margin 1 (a device of its own): plainly the fastest */
      {two, 2, {1.0, 1.2}, 1.0, 0},        /* slower host never wins */
      {two, 2, {-1.0, 5.0}, 2.0, 1},       /* own failed: host, however slow */
      {two, 2, {1.0, -1.0}, 2.0, 0},       /* host failed */
      {two, 2, {-1.0, -1.0}, 2.0, -1},     /* nothing ran */
      {three, 3, {1.0, 0.8, 0.5}, 2.0, 1}, /* clblast the fastest device one; host 1.6x of it: clblast */
      {three, 3, {1.0, 0.8, 0.3}, 2.0, 2}, /* host 2.7x of the fastest device one */
      {three, 3, {0.7, 0.8, 0.3}, 2.0, 2}, /* margin judged against own, the faster device one */
      {three, 3, {0.5, 0.8, 0.3}, 2.0, 0}, /* 1.7x of own: own */
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    int got = cls__mm_auto_pick(cases[i].cand, cases[i].t, cases[i].count, cases[i].margin);
    if (got != cases[i].want) fail_msg("case %zu: picked %d, want %d", i, got, cases[i].want);
  }
  /* The margin: plain where host has its own cores; on shared cores 2 on a
   * quiet or unknown load, and never on a busy machine. */
  assert_true(cls__mm_auto_host_margin(0, 5.0) == 1.0);
  assert_true(cls__mm_auto_host_margin(1, 0.5) == 2.0);
  assert_true(cls__mm_auto_host_margin(1, -1.0) == 2.0);
  const double busy = cls__mm_auto_host_margin(1, 3.7);
  assert_true(busy > 1e300);
  assert_int_equal(cls__mm_auto_pick(two, (double[]){1.0, 0.01}, 2, busy), 0); /* even 100x: own */
  assert_int_equal(cls__mm_auto_pick(two, (double[]){-1.0, 0.5}, 2, busy), 1); /* own failed: host */
}

int main(void) {
  const struct CMUnitTest tests[] = {cmocka_unit_test(remembers),
                                     cmocka_unit_test(keyed_by_params),
                                     cmocka_unit_test(retimes_busy_choices),
                                     cmocka_unit_test(record_pins),
                                     cmocka_unit_test(record_text_checked),
                                     cmocka_unit_test(cache_disabled),
                                     cmocka_unit_test(host_needs_margin)};
  return cmocka_run_group_tests(tests, NULL, NULL);
}
