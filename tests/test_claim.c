/*
 * tests/test_claim.c — claims/<id>.claim (src/rundir/claim.c): the format
 * written and parsed back; the strict parser refuses every cut of a claim,
 * a wrong field order, bad values and trailing bytes, without reading past
 * its buffer; a free point is taken, a live claim is held and not taken
 * twice; a stale claim (old heartbeat), a corrupt one and a half-written one
 * are taken over with a note; a claim of a dead process of this host is
 * taken over at once; renewal keeps the claim and moves its heartbeat, and
 * a holder whose claim was taken over learns it lost it; release removes
 * only the holder's own claim.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/file.h"
#include "rundir/claim.h"
#include "test_util.h"

static char err[1024], note[2048];

static void pause_ms(long ms) {
  struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&t, NULL);
}

static void sample(cls_claim *c) {
  memset(c, 0, sizeof *c);
  strcpy(c->id, "c1e+17_w64_d2_s1");
  strcpy(c->token, "0123456789abcdef0123456789abcdef");
  strcpy(c->host, "node-17.cluster");
  c->pid = 4242;
  strcpy(c->slurm_job, "991");
  strcpy(c->slurm_task, "3");
  c->taken = 1780000000.25;
  c->heartbeat = 1780000123.5;
  c->step = 17;
  c->total_steps = 400;
}

static void test_format_round_trip(void **state) {
  (void)state;
  cls_claim c, back;
  sample(&c);
  char text[CLS_CLAIM_MAX_BYTES];
  size_t n = cls_claim_format(&c, text, sizeof text);
  assert_true(n > 0 && n == strlen(text));
  assert_true(!strncmp(text, CLS_CLAIM_MAGIC "\n", strlen(CLS_CLAIM_MAGIC) + 1));
  assert_int_equal(cls_claim_parse(text, n, &back, err, sizeof err), CLS_OK);
  assert_string_equal(back.id, c.id);
  assert_string_equal(back.token, c.token);
  assert_string_equal(back.host, c.host);
  assert_int_equal(back.pid, 4242);
  assert_string_equal(back.slurm_job, "991");
  assert_string_equal(back.slurm_task, "3");
  assert_true(fabs(back.taken - c.taken) < 1e-3 && fabs(back.heartbeat - c.heartbeat) < 1e-3);
  assert_int_equal(back.step, 17);
  assert_int_equal(back.total_steps, 400);
  /* Empty Slurm ids (not under Slurm) are allowed. */
  c.slurm_job[0] = c.slurm_task[0] = 0;
  n = cls_claim_format(&c, text, sizeof text);
  assert_int_equal(cls_claim_parse(text, n, &back, err, sizeof err), CLS_OK);
  assert_string_equal(back.slurm_job, "");
  /* What cannot be written as one line is refused, not written. */
  strcpy(c.host, "two words");
  assert_int_equal(cls_claim_format(&c, text, sizeof text), 0);
  sample(&c);
  assert_int_equal(cls_claim_format(&c, text, 20), 0);
}

/* Every prefix of a claim (a half-written file) is refused; the parser is
 * given a copy of exactly that many bytes on the heap, so reading past it
 * is caught by the sanitizers. */
static void test_parse_every_cut(void **state) {
  (void)state;
  cls_claim c, back;
  sample(&c);
  char text[CLS_CLAIM_MAX_BYTES];
  size_t n = cls_claim_format(&c, text, sizeof text);
  for (size_t k = 0; k < n; k++) {
    char *cut = malloc(k ? k : 1);
    memcpy(cut, text, k);
    err[0] = 0;
    assert_int_equal(cls_claim_parse(cut, k, &back, err, sizeof err), CLS_ERR_FORMAT);
    assert_true(err[0] != 0);
    assert_string_equal(back.host, ""); /* zeroed on failure */
    free(cut);
  }
}

/* One field changed in the text of the sample: refused with a reason. */
static void refuse(const char *from, const char *to, const char *reason) {
  cls_claim c, back;
  sample(&c);
  char text[CLS_CLAIM_MAX_BYTES], edited[CLS_CLAIM_MAX_BYTES + 64];
  cls_claim_format(&c, text, sizeof text);
  char *at = strstr(text, from);
  assert_non_null(at);
  snprintf(edited, sizeof edited, "%.*s%s%s", (int)(at - text), text, to, at + strlen(from));
  assert_int_equal(cls_claim_parse(edited, strlen(edited), &back, err, sizeof err), CLS_ERR_FORMAT);
  if (!strstr(err, reason)) fail_msg("'%s' -> '%s': message '%s' lacks '%s'", from, to, err, reason);
}

static void test_parse_refuses(void **state) {
  (void)state;
  refuse("clscale-claim 1", "clscale-claim 2", "line 1");
  refuse("id=c1e+17_w64_d2_s1", "id=../x", "not a valid id");
  refuse("id=c1e+17_w64_d2_s1", "id=", "not a valid id");
  refuse("id=c1e+17_w64_d2_s1", "idx=a", "should be id=");
  refuse("token=0123456789abcdef0123456789abcdef", "token=0123456789ABCDEF0123456789abcdef", "valid token");
  refuse("token=0123456789abcdef0123456789abcdef", "token=0123", "valid token");
  refuse("host=node-17.cluster", "host=node 17", "valid host");
  refuse("pid=4242", "pid=0", "valid pid");
  refuse("pid=4242", "pid=-1", "valid pid");
  refuse("pid=4242", "pid=99999999999999999999", "valid pid");
  refuse("taken=1780000000.250", "taken=1e9", "valid taken");
  refuse("heartbeat=1780000123.500", "heartbeat=nan", "valid heartbeat");
  refuse("heartbeat=1780000123.500", "heartbeat=17.", "valid heartbeat");
  refuse("step=17", "step=1x", "valid step");
  refuse("step=17", "step=401", "past total_steps");
  refuse("host=node-17.cluster\npid=4242", "pid=4242\nhost=node-17.cluster", "should be host=");
  refuse("end\n", "end\nmore\n", "after the \"end\" line");
  refuse("end\n", "END\n", "not \"end\"");
  refuse("pid=4242\n", "pid=4242\r\n", "valid pid");
  /* A NUL byte inside a value. */
  cls_claim c, back;
  sample(&c);
  char text[CLS_CLAIM_MAX_BYTES];
  size_t n = cls_claim_format(&c, text, sizeof text);
  char *h = strstr(text, "host=") + 7;
  *h = 0;
  assert_int_equal(cls_claim_parse(text, n, &back, err, sizeof err), CLS_ERR_FORMAT);
}

static void claim_path(const char *dir, const char *id, char *out, size_t len) {
  assert_int_equal(cls_rundir_path(out, len, dir, CLS_RUNDIR_CLAIM, id), CLS_OK);
}

static void test_take_hold_release(void **state) {
  (void)state;
  char dir[512], path[1024];
  test_tmpdir("claim-take", dir, sizeof dir);
  cls_claim a, b, other;
  cls_claim_outcome oc;
  cls_claim_init(&a, "p1");
  assert_int_equal(cls_claim_take(dir, &a, 60, &oc, &other, note, sizeof note, err, sizeof err), CLS_OK);
  assert_int_equal(oc, CLS_CLAIM_TAKEN);
  assert_string_equal(note, "");
  cls_claim there;
  assert_int_equal(cls_claim_read(dir, "p1", &there, err, sizeof err), CLS_OK);
  assert_string_equal(there.token, a.token);
  /* A second taker (another token) finds it held, live. */
  cls_claim_init(&b, "p1");
  assert_string_not_equal(a.token, b.token);
  assert_int_equal(cls_claim_take(dir, &b, 60, &oc, &other, note, sizeof note, err, sizeof err), CLS_OK);
  assert_int_equal(oc, CLS_CLAIM_HELD);
  assert_string_equal(other.token, a.token);
  /* Its release does nothing to a claim that is not its own. */
  cls_claim_release(dir, &b);
  assert_int_equal(cls_claim_read(dir, "p1", &there, err, sizeof err), CLS_OK);
  /* Renewal moves the heartbeat and records the progress. */
  int lost = 1;
  const double before = a.heartbeat;
  pause_ms(20);
  assert_int_equal(cls_claim_renew(dir, &a, 5, 10, &lost, err, sizeof err), CLS_OK);
  assert_false(lost);
  assert_int_equal(cls_claim_read(dir, "p1", &there, err, sizeof err), CLS_OK);
  assert_true(there.heartbeat > before);
  assert_int_equal(there.step, 5);
  assert_int_equal(there.total_steps, 10);
  /* The holder's release removes it; then b takes it. */
  cls_claim_release(dir, &a);
  claim_path(dir, "p1", path, sizeof path);
  struct stat sb;
  assert_int_not_equal(stat(path, &sb), 0);
  assert_int_equal(cls_claim_take(dir, &b, 60, &oc, &other, note, sizeof note, err, sizeof err), CLS_OK);
  assert_int_equal(oc, CLS_CLAIM_TAKEN);
  /* No temporary file is left beside it. */
  char folder[1024], cmd[1200];
  assert_int_equal(cls_rundir_path(folder, sizeof folder, dir, CLS_RUNDIR_CLAIMS, NULL), CLS_OK);
  snprintf(cmd, sizeof cmd, "test \"$(ls '%s')\" = p1.claim", folder);
  assert_int_equal(system(cmd), 0);
}

/* A claim written as another host's, with a heartbeat age seconds old. */
static void plant(const char *dir, const char *id, double age, const char *token) {
  cls_claim c;
  sample(&c);
  strcpy(c.id, id);
  strcpy(c.token, token);
  strcpy(c.host, "elsewhere-node");
  c.heartbeat = cls_claim_clock() - age;
  c.taken = c.heartbeat - 1;
  char text[CLS_CLAIM_MAX_BYTES], folder[1024], path[1024];
  size_t n = cls_claim_format(&c, text, sizeof text);
  assert_int_equal(cls_rundir_path(folder, sizeof folder, dir, CLS_RUNDIR_CLAIMS, NULL), CLS_OK);
  assert_int_equal(cls_mkdirs(folder, err, sizeof err), CLS_OK);
  claim_path(dir, id, path, sizeof path);
  assert_int_equal(cls_write_atomic(path, text, n, err, sizeof err), CLS_OK);
}

static void test_stale_taken_over(void **state) {
  (void)state;
  char dir[512];
  test_tmpdir("claim-stale", dir, sizeof dir);
  cls_claim mine, other;
  cls_claim_outcome oc;
  /* Another host's claim, 10 s old: live under a 60 s timeout, stale under 5 s. */
  plant(dir, "p2", 10, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
  cls_claim_init(&mine, "p2");
  assert_int_equal(cls_claim_take(dir, &mine, 60, &oc, &other, note, sizeof note, err, sizeof err), CLS_OK);
  assert_int_equal(oc, CLS_CLAIM_HELD);
  assert_string_equal(other.host, "elsewhere-node");
  assert_int_equal(cls_claim_take(dir, &mine, 5, &oc, &other, note, sizeof note, err, sizeof err), CLS_OK);
  assert_int_equal(oc, CLS_CLAIM_TOOK_OVER);
  assert_non_null(strstr(note, "took over the stale claim of p2 (host elsewhere-node pid 4242, Slurm job 991"));
  assert_non_null(strstr(note, "no heartbeat for 10 s"));
  cls_claim there;
  assert_int_equal(cls_claim_read(dir, "p2", &there, err, sizeof err), CLS_OK);
  assert_string_equal(there.token, mine.token);
  /* The old holder, back to life, learns that it lost the claim, and its
   * renewal leaves the new holder's claim alone. */
  cls_claim old;
  sample(&old);
  strcpy(old.id, "p2");
  strcpy(old.token, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
  int lost = 0;
  assert_int_equal(cls_claim_renew(dir, &old, 3, 10, &lost, err, sizeof err), CLS_OK);
  assert_true(lost);
  assert_int_equal(cls_claim_read(dir, "p2", &there, err, sizeof err), CLS_OK);
  assert_string_equal(there.token, mine.token);
  /* Once the new holder finished and released it, the old one still
   * learns that it is not its own, and does not take it back. */
  cls_claim_release(dir, &mine);
  lost = 0;
  assert_int_equal(cls_claim_renew(dir, &old, 4, 10, &lost, err, sizeof err), CLS_OK);
  assert_true(lost);
  assert_int_equal(cls_claim_read(dir, "p2", &there, err, sizeof err), CLS_ERR_IO);
}

static void test_corrupt_and_half_written(void **state) {
  (void)state;
  char dir[512], path[1024], folder[1024];
  test_tmpdir("claim-corrupt", dir, sizeof dir);
  assert_int_equal(cls_rundir_path(folder, sizeof folder, dir, CLS_RUNDIR_CLAIMS, NULL), CLS_OK);
  assert_int_equal(cls_mkdirs(folder, err, sizeof err), CLS_OK);
  cls_claim mine, other, c;
  cls_claim_outcome oc;
  const char *bad[] = {"", "garbage\n", "\x01\x02\xff", NULL};
  for (int k = 0; k < 4; k++) {
    claim_path(dir, "p3", path, sizeof path);
    char text[CLS_CLAIM_MAX_BYTES];
    size_t n;
    if (bad[k]) {
      n = strlen(bad[k]);
      memcpy(text, bad[k], n);
    } else { /* half of a real claim, with a live heartbeat */
      sample(&c);
      strcpy(c.id, "p3");
      c.heartbeat = cls_claim_clock();
      n = cls_claim_format(&c, text, sizeof text) / 2;
    }
    assert_int_equal(cls_write_atomic(path, text, n, err, sizeof err), CLS_OK);
    cls_claim_init(&mine, "p3");
    note[0] = 0;
    assert_int_equal(cls_claim_take(dir, &mine, 300, &oc, &other, note, sizeof note, err, sizeof err), CLS_OK);
    assert_int_equal(oc, CLS_CLAIM_TOOK_OVER);
    if (!strstr(note, "warning: ") || !strstr(note, "is not a claim") || !strstr(note, "treated as stale"))
      fail_msg("case %d: note '%s'", k, note);
    cls_claim_release(dir, &mine);
  }
  /* A claim file larger than any claim. */
  char *big = malloc(CLS_CLAIM_MAX_BYTES + 100);
  memset(big, 'x', CLS_CLAIM_MAX_BYTES + 100);
  assert_int_equal(cls_write_atomic(path, big, CLS_CLAIM_MAX_BYTES + 100, err, sizeof err), CLS_OK);
  free(big);
  assert_int_equal(cls_claim_read(dir, "p3", &c, err, sizeof err), CLS_ERR_FORMAT);
  cls_claim_init(&mine, "p3");
  assert_int_equal(cls_claim_take(dir, &mine, 300, &oc, &other, note, sizeof note, err, sizeof err), CLS_OK);
  assert_int_equal(oc, CLS_CLAIM_TOOK_OVER);
  assert_non_null(strstr(note, "larger than"));
}

/* A claim of this host whose process has ended is taken over at once,
 * whatever the timeout; one of a live process of this host is not. */
static void test_dead_process_of_this_host(void **state) {
  (void)state;
  char dir[512];
  test_tmpdir("claim-dead", dir, sizeof dir);
  pid_t child = fork();
  assert_true(child >= 0);
  if (child == 0) {
    cls_claim c, o;
    cls_claim_outcome oc;
    cls_claim_init(&c, "p4");
    _exit(cls_claim_take(dir, &c, 300, &oc, &o, NULL, 0, NULL, 0) == CLS_OK && oc == CLS_CLAIM_TAKEN ? 0 : 1);
  }
  int status;
  assert_int_equal(waitpid(child, &status, 0), child);
  assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  cls_claim mine, other;
  cls_claim_outcome oc;
  cls_claim_init(&mine, "p4");
  assert_int_equal(cls_claim_take(dir, &mine, 300, &oc, &other, note, sizeof note, err, sizeof err), CLS_OK);
  assert_int_equal(oc, CLS_CLAIM_TOOK_OVER);
  assert_non_null(strstr(note, "no longer running on this host"));
  assert_int_equal((pid_t)other.pid, child);
  assert_true(cls_claim_holder_gone(&other));
  assert_false(cls_claim_holder_gone(&mine)); /* this process */
  cls_claim far = other;
  strcpy(far.host, "another-host-entirely");
  assert_false(cls_claim_holder_gone(&far)); /* a pid says nothing of another host */
  /* The parent (alive) holds it now: a claim taken from another process
   * of this host, with the parent's pid, is live. */
  child = fork();
  assert_true(child >= 0);
  if (child == 0) {
    cls_claim c, o;
    cls_claim_outcome oc2;
    cls_claim_init(&c, "p4");
    _exit(cls_claim_take(dir, &c, 300, &oc2, &o, NULL, 0, NULL, 0) == CLS_OK && oc2 == CLS_CLAIM_HELD ? 0 : 1);
  }
  assert_int_equal(waitpid(child, &status, 0), child);
  assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* Processes racing for one free point: exactly one takes it. The winner
 * holds it (alive) until every child has tried, so that a late child never
 * finds the claim of a process that has ended. */
static void test_race(void **state) {
  (void)state;
  char dir[512];
  test_tmpdir("claim-race", dir, sizeof dir);
  enum { N = 8 };
  for (int round = 0; round < 5; round++) {
    char id[16];
    snprintf(id, sizeof id, "r%d", round);
    int results[2], release[2];
    assert_int_equal(pipe(results), 0);
    assert_int_equal(pipe(release), 0);
    pid_t kids[N];
    for (int k = 0; k < N; k++) {
      kids[k] = fork();
      assert_true(kids[k] >= 0);
      if (kids[k] == 0) {
        close(results[0]);
        close(release[1]);
        cls_claim c, o;
        cls_claim_outcome oc;
        cls_claim_init(&c, id);
        char r = cls_claim_take(dir, &c, 300, &oc, &o, NULL, 0, NULL, 0) != CLS_OK ? 'e'
                 : oc == CLS_CLAIM_HELD                                            ? 'h'
                                                                                   : 'w';
        if (write(results[1], &r, 1) != 1) _exit(2);
        char b;
        if (r == 'w') (void)!read(release[0], &b, 1); /* until the parent closes it */
        _exit(0);
      }
    }
    close(results[1]);
    close(release[0]);
    int winners = 0, held = 0;
    for (int k = 0; k < N; k++) {
      char r;
      assert_int_equal(read(results[0], &r, 1), 1);
      winners += r == 'w';
      held += r == 'h';
    }
    close(release[1]);
    close(results[0]);
    for (int k = 0; k < N; k++) {
      int status;
      assert_int_equal(waitpid(kids[k], &status, 0), kids[k]);
      assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    assert_int_equal(winners, 1);
    assert_int_equal(held, N - 1);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_format_round_trip),
      cmocka_unit_test(test_parse_every_cut),
      cmocka_unit_test(test_parse_refuses),
      cmocka_unit_test(test_take_hold_release),
      cmocka_unit_test(test_stale_taken_over),
      cmocka_unit_test(test_corrupt_and_half_written),
      cmocka_unit_test(test_dead_process_of_this_host),
      cmocka_unit_test(test_race),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
