/*
 * tests/test_rundir.c — the run directory module (src/rundir/): a point
 * summary and a manifest written and read back, the status names, a cut or
 * corrupt summary read as unreadable, a manifest of an unknown format
 * version refused with a message that says what to do; a synthetic corpus
 * written and read back, refused when cut, corrupt or unfinished, and its
 * temporary file removed as a leftover.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/file.h"
#include "rundir/rundir.h"
#include "test_util.h"

static char err[1024];

static void write_text(const char *path, const char *text) {
  assert_int_equal(cls_write_atomic(path, text, strlen(text), err, sizeof err), CLS_OK);
}

static void test_state_names(void **state) {
  (void)state;
  const char *names[] = {"new", "ok", "diverged", "failed", "interrupted", "running", "unreadable"};
  for (int s = CLS_POINT_NEW; s <= CLS_POINT_UNREADABLE; s++)
    assert_string_equal(cls_point_state_name((cls_point_state)s), names[s]);
  for (int s = CLS_POINT_OK; s <= CLS_POINT_RUNNING; s++) assert_int_equal(cls_point_state_parse(names[s]), s);
  assert_int_equal(cls_point_state_parse("new"), CLS_POINT_UNREADABLE); /* not a status a file holds */
  assert_int_equal(cls_point_state_parse("OK"), CLS_POINT_UNREADABLE);
  assert_int_equal(cls_point_state_parse(NULL), CLS_POINT_UNREADABLE);
  assert_true(cls_point_state_done(CLS_POINT_OK) && cls_point_state_done(CLS_POINT_DIVERGED));
  assert_false(cls_point_state_done(CLS_POINT_FAILED) || cls_point_state_done(CLS_POINT_INTERRUPTED) ||
               cls_point_state_done(CLS_POINT_RUNNING));
}

static void test_paths(void **state) {
  (void)state;
  char p[64];
  assert_int_equal(cls_rundir_path(p, sizeof p, "run", CLS_RUNDIR_SUMMARY, "a1"), CLS_OK);
  assert_string_equal(p, "run/points/a1.json");
  assert_int_equal(cls_rundir_path(p, sizeof p, "run", CLS_RUNDIR_CURVE, "a1"), CLS_OK);
  assert_string_equal(p, "run/points/a1.csv");
  assert_int_equal(cls_rundir_path(p, sizeof p, "run", CLS_RUNDIR_CHECKPOINT, "a1"), CLS_OK);
  assert_string_equal(p, "run/checkpoints/a1.ckpt");
  assert_int_equal(cls_rundir_path(p, sizeof p, "run", CLS_RUNDIR_MANIFEST, NULL), CLS_OK);
  assert_string_equal(p, "run/manifest.json");
  assert_int_equal(cls_rundir_path(p, 8, "run", CLS_RUNDIR_FIT, NULL), CLS_ERR_INVALID_SIZE);
  assert_true(cls_rundir_id_ok("c1e17_n3.16e7") && !cls_rundir_id_ok("..") && !cls_rundir_id_ok("a/b"));
  /* An id names a file: one that would leave its folder makes no path (issue 14). */
  assert_int_equal(cls_rundir_path(p, sizeof p, "run", CLS_RUNDIR_CHECKPOINT, "../../x"), CLS_ERR_INVALID_VALUE);
  assert_string_equal(p, "");
  assert_int_equal(cls_rundir_path(p, sizeof p, "run", CLS_RUNDIR_CORPUS, ""), CLS_ERR_INVALID_VALUE);
  char longest[CLS_RUNDIR_ID_MAX + 2];
  memset(longest, 'a', sizeof longest);
  longest[CLS_RUNDIR_ID_MAX] = 0;
  assert_true(cls_rundir_id_ok(longest));
  longest[CLS_RUNDIR_ID_MAX] = 'a';
  longest[CLS_RUNDIR_ID_MAX + 1] = 0;
  assert_false(cls_rundir_id_ok(longest));
  assert_int_equal(cls_rundir_check_id("'name'", longest, err, sizeof err), CLS_ERR_INVALID_VALUE);
  assert_non_null(strstr(err, "(121 characters): use 1 to 120 letters"));
  assert_int_equal(cls_rundir_check_id("'name'", "a\nb", err, sizeof err), CLS_ERR_INVALID_VALUE);
  assert_non_null(strstr(err, "'a?b'"));
}

static void test_summary_round_trip(void **state) {
  (void)state;
  char dir[512], path[700];
  test_tmpdir("rundir-summary", dir, sizeof dir);
  assert_int_equal(cls_rundir_prepare(dir, err, sizeof err), CLS_OK);
  assert_int_equal(cls_rundir_path(path, sizeof path, dir, CLS_RUNDIR_SUMMARY, "p1"), CLS_OK);
  assert_int_equal(cls_rundir_point_state(dir, "p1", NULL), CLS_POINT_NEW);
  cls_point_summary w;
  cls_point_summary_init(&w);
  w.id = "p1";
  w.state = CLS_POINT_DIVERGED;
  w.error = "the train loss became NaN";
  w.n_params = 3.16e7;
  w.n_params_embed = 1e5;
  w.config = "width=64\ndepth=2\ndata=zipf\n";
  w.tokens = 5.3e8;
  w.flops = 1e17;
  w.flops_6nd = 6 * 3.16e7 * 5.3e8;
  w.budget_flops = 1e17;
  w.final_eval_loss = NAN; /* written as null */
  w.final_train_loss = 4.5;
  w.seconds = 12.5;
  w.device = "test device";
  w.has_run = 1;
  w.run.steps = 100;
  w.run.total_steps = 200;
  w.run.lr = 3e-3;
  w.run.resumed_from_step = 50;
  w.run.diverged_at_step = 101;
  w.run.describe = "gpt w64 d2";
  assert_int_equal(cls_point_summary_write(path, &w, err, sizeof err), CLS_OK);

  cls_point_summary r;
  assert_int_equal(cls_point_summary_read(path, &r, err, sizeof err), CLS_OK);
  assert_string_equal(r.id, "p1");
  assert_string_equal(r.status, "diverged");
  assert_int_equal(r.state, CLS_POINT_DIVERGED);
  assert_string_equal(r.error, w.error);
  assert_true(r.n_params == w.n_params && r.n_params_embed == w.n_params_embed);
  assert_string_equal(r.config, w.config);
  assert_true(cls_point_config_num(r.config, "depth") == 2);
  assert_true(isnan(cls_point_config_num(r.config, "data")));
  assert_true(r.tokens == w.tokens && r.flops == w.flops && r.flops_6nd == w.flops_6nd);
  assert_true(r.budget_flops == 1e17 && isnan(r.budget_tokens) && isnan(r.budget_steps));
  assert_true(isnan(r.final_eval_loss) && r.final_train_loss == 4.5 && r.seconds == 12.5);
  assert_string_equal(r.device, "test device");
  assert_true(r.has_run && r.run.steps == 100 && r.run.total_steps == 200 && r.run.lr == 3e-3);
  assert_true(r.run.resumed_from_step == 50 && r.run.diverged_at_step == 101);
  assert_true(isnan(r.run.tokens_per_second)); /* left out */
  assert_string_equal(r.run.describe, "gpt w64 d2");
  cls_point_summary_release(&r);
  assert_null(r.id);
  double loss = 0;
  assert_int_equal(cls_rundir_point_state(dir, "p1", &loss), CLS_POINT_DIVERGED);
  assert_true(isnan(loss));

  /* A point that never ran: no run fields, the trailer last. */
  cls_point_summary f;
  cls_point_summary_init(&f);
  f.id = "p1";
  f.state = CLS_POINT_FAILED;
  f.n_params = 10;
  f.tokens = f.flops = 0;
  f.trailer = "sweep=s\n";
  assert_int_equal(cls_point_summary_write(path, &f, err, sizeof err), CLS_OK);
  assert_int_equal(cls_point_summary_read(path, &r, err, sizeof err), CLS_OK);
  assert_int_equal(r.state, CLS_POINT_FAILED);
  assert_false(r.has_run);
  assert_true(isnan(r.flops_6nd) && isnan(r.seconds));
  assert_string_equal(r.config, "sweep=s\n");
  cls_point_summary_release(&r);
  assert_int_equal(cls_rundir_point_state(dir, "p1", NULL), CLS_POINT_FAILED);
}

static void test_bad_summaries(void **state) {
  (void)state;
  char dir[512], path[700];
  test_tmpdir("rundir-bad", dir, sizeof dir);
  assert_int_equal(cls_rundir_prepare(dir, err, sizeof err), CLS_OK);
  assert_int_equal(cls_rundir_path(path, sizeof path, dir, CLS_RUNDIR_SUMMARY, "b"), CLS_OK);
  cls_point_summary r;
  const char *cut = "{\"id\": \"b\", \"status\": \"ok\", \"n_params\": 1e6, \"tok";
  write_text(path, cut);
  assert_int_equal(cls_point_summary_read(path, &r, err, sizeof err), CLS_ERR_FORMAT);
  assert_non_null(strstr(err, "truncated"));
  assert_int_equal(cls_rundir_point_state(dir, "b", NULL), CLS_POINT_UNREADABLE);
  write_text(path, "");
  assert_int_equal(cls_point_summary_read(path, &r, err, sizeof err), CLS_ERR_FORMAT);
  assert_non_null(strstr(err, "empty"));
  assert_int_equal(cls_rundir_point_state(dir, "b", NULL), CLS_POINT_UNREADABLE);
  write_text(path, "{\"status\": ok}");
  assert_int_equal(cls_point_summary_read(path, &r, err, sizeof err), CLS_ERR_FORMAT);
  assert_non_null(strstr(err, "malformed"));
  write_text(path, "{\"status\": \"exploded\"}");
  assert_int_equal(cls_point_summary_read(path, &r, err, sizeof err), CLS_OK);
  assert_int_equal(r.state, CLS_POINT_UNREADABLE);
  assert_string_equal(r.status, "exploded");
  cls_point_summary_release(&r);
  assert_int_equal(cls_rundir_point_state(dir, "b", NULL), CLS_POINT_UNREADABLE);
  write_text(path, "{\"n_params\": 5}"); /* formats.md: no status reads as ok, but a sweep cannot skip it */
  assert_int_equal(cls_point_summary_read(path, &r, err, sizeof err), CLS_OK);
  assert_int_equal(r.state, CLS_POINT_OK);
  assert_null(r.status);
  cls_point_summary_release(&r);
  assert_int_equal(cls_rundir_point_state(dir, "b", NULL), CLS_POINT_UNREADABLE);
}

static void test_manifest(void **state) {
  (void)state;
  char dir[512], path[700];
  test_tmpdir("rundir-manifest", dir, sizeof dir);
  const uint64_t seeds[] = {1, 2};
  const cls_manifest_point pts[] = {{"a", 64, 2, 4, 1e6, 1e4, 1e15, NAN, NAN, 1, 1e-3, 0, NAN, NULL}};
  cls_manifest m = {.name = "demo",
                    .task = "text",
                    .model = "gpt",
                    .mode = "isoflop",
                    .device = "dev",
                    .spec_file = "demo.json",
                    .seeds = seeds,
                    .n_seeds = 2,
                    .data_seed = 7,
                    .spec = "{\"lr\": [0.001]}",
                    .points = pts,
                    .n_points = 1};
  int created = 0;
  assert_int_equal(cls_manifest_create(dir, &m, &created, err, sizeof err), CLS_OK);
  assert_true(created);
  assert_int_equal(cls_manifest_create(dir, &m, &created, err, sizeof err), CLS_OK);
  assert_false(created); /* once */
  cls_manifest_info info;
  assert_int_equal(cls_manifest_read(dir, &info, err, sizeof err), CLS_OK);
  assert_string_equal(info.name, "demo");
  assert_string_equal(info.spec_file, "demo.json");
  assert_non_null(info.spec);
  assert_true(cJSON_GetArrayItem(cJSON_GetObjectItem(info.spec, "lr"), 0)->valuedouble == 1e-3);
  cls_manifest_info_free(&info);
  /* A manifest of a later format is refused, saying what to do. */
  assert_int_equal(cls_rundir_path(path, sizeof path, dir, CLS_RUNDIR_MANIFEST, NULL), CLS_OK);
  write_text(path, "{\"version\": 2, \"name\": \"future\", \"spec\": {}}");
  assert_int_equal(cls_manifest_read(dir, &info, err, sizeof err), CLS_ERR_FORMAT);
  assert_true(info.parsed);
  assert_non_null(strstr(err, "format version 2"));
  assert_non_null(strstr(err, "reads version 1"));
  assert_non_null(strstr(err, "use the clscale that wrote it"));
  cls_manifest_info_free(&info);
  write_text(path, "{\"name\": ");
  assert_int_equal(cls_manifest_read(dir, &info, err, sizeof err), CLS_ERR_FORMAT);
  assert_false(info.parsed);
  cls_manifest_info_free(&info);
}

/* Whether name exists in dir. */
static int exists(const char *dir, const char *name) {
  char path[900];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "rb");
  if (f) fclose(f);
  return f != NULL;
}

static void test_corpus(void **state) {
  (void)state;
  char dir[512], corpora[700], path[800];
  test_tmpdir("rundir-corpus", dir, sizeof dir);
  assert_int_equal(cls_rundir_path(corpora, sizeof corpora, dir, CLS_RUNDIR_CORPORA, NULL), CLS_OK);
  assert_int_equal(cls_mkdirs(corpora, err, sizeof err), CLS_OK);
  assert_int_equal(cls_rundir_path(path, sizeof path, dir, CLS_RUNDIR_CORPUS, "t1"), CLS_OK);
  const int32_t rows[3][4] = {{1, 2, 3, 4}, {0, 0, 0, 0}, {4, 3, 2, 1}};
  cls_corpus_writer *w;
  assert_int_equal(cls_corpus_writer_open(path, 3, 4, 5, "teacher=t1\n", &w, err, sizeof err), CLS_OK);
  assert_int_equal(cls_corpus_writer_append(w, rows[0], 2, err, sizeof err), CLS_OK);
  /* Half written: only the temporary file, which is a leftover of t1. */
  assert_false(exists(dir, "corpora/t1.bin"));
  assert_int_equal(cls_corpus_writer_append(w, rows[2], 1, err, sizeof err), CLS_OK);
  uint64_t sum = 0;
  assert_int_equal(cls_corpus_writer_finish(w, &sum, err, sizeof err), CLS_OK);
  cls_corpus c;
  assert_int_equal(cls_corpus_read(path, &c, err, sizeof err), CLS_OK);
  assert_int_equal(c.n, 3);
  assert_int_equal(c.length, 4);
  assert_int_equal(c.vocab, 5);
  assert_string_equal(c.key, "teacher=t1\n");
  assert_memory_equal(c.tokens, rows, sizeof rows);
  assert_true(c.checksum == sum);
  cls_corpus_free(&c);

  /* A token outside the vocabulary is refused; a writer that stops early
   * writes nothing. */
  char other[800];
  assert_int_equal(cls_rundir_path(other, sizeof other, dir, CLS_RUNDIR_CORPUS, "t2"), CLS_OK);
  const int32_t bad[4] = {0, 5, 0, 0};
  assert_int_equal(cls_corpus_writer_open(other, 2, 4, 5, "", &w, err, sizeof err), CLS_OK);
  assert_int_equal(cls_corpus_writer_append(w, bad, 1, err, sizeof err), CLS_ERR_INVALID_VALUE);
  assert_int_equal(cls_corpus_writer_open(other, 2, 4, 5, "", &w, err, sizeof err), CLS_OK);
  assert_int_equal(cls_corpus_writer_append(w, rows[0], 1, err, sizeof err), CLS_OK);
  assert_int_equal(cls_corpus_writer_finish(w, &sum, err, sizeof err), CLS_ERR_INVALID_SIZE);
  assert_false(exists(dir, "corpora/t2.bin"));

  /* One flipped byte, or a cut, is named as damage. */
  char *data = NULL;
  size_t len = 0;
  assert_int_equal(cls_read_file(path, 0, &data, &len, err, sizeof err), CLS_OK);
  data[len - 20] ^= 1;
  assert_int_equal(cls_write_atomic(other, data, len, err, sizeof err), CLS_OK);
  assert_int_equal(cls_corpus_read(other, &c, err, sizeof err), CLS_ERR_FORMAT);
  assert_non_null(strstr(err, "checksum does not match"));
  assert_int_equal(cls_write_atomic(other, data, len - 9, err, sizeof err), CLS_OK);
  assert_int_equal(cls_corpus_read(other, &c, err, sizeof err), CLS_ERR_FORMAT);
  assert_non_null(strstr(err, "t2.bin is damaged"));
  free(data);

  /* A killed writer's temporary file is a leftover of its teacher. */
  char tmp[900];
  snprintf(tmp, sizeof tmp, "%s.tmp.12345", path);
  write_text(tmp, "half");
  assert_int_equal(cls_rundir_remove_leftovers(dir, "t1"), 1);
  assert_true(exists(dir, "corpora/t1.bin"));
}

static void test_curve_rows(void **state) {
  (void)state;
  cls_eval_row w = {12, 768, 123456789012345.0, 9.5e13, 2.5f, 3.125f, 1e-3f, 1.5}, r;
  char line[256];
  assert_true(cls_csv_format_row(&w, line, sizeof line) > 0);
  assert_true(cls_csv_parse_row(line, &r));
  assert_true(r.step == 12 && r.tokens == 768 && r.flops == w.flops && r.eval_loss == 3.125 && r.seconds == 1.5);
  assert_false(cls_csv_parse_row("step,tokens", &r));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_state_names),
      cmocka_unit_test(test_paths),
      cmocka_unit_test(test_summary_round_trip),
      cmocka_unit_test(test_bad_summaries),
      cmocka_unit_test(test_manifest),
      cmocka_unit_test(test_curve_rows),
      cmocka_unit_test(test_corpus),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
