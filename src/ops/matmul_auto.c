/*
 * src/ops/matmul_auto.c — the auto backend: on the first product of a shape
 * class, time the backends worth timing here on the actual arguments,
 * remember the fastest for the context, and persist the choice.
 *
 * Shape class (cls__mm_class_key): the two transposes, whether the call is
 * batched (batch > 1), and ceil(log2) of m, n and k. So 1000 x 1000 x 1000
 * and 1024 x 1024 x 1024 share a class; 1025 starts the next one. The
 * products of several models side by side (cls_matmul_models) take the
 * class of one model's product, so each runs on its backend alone.
 *
 * Candidates: the own kernels always; host BLAS where it can run (a CPU
 * device whose buffers live in host memory); CLBlast on every device that
 * is not a CPU. On a CPU device CLBlast is left out: its kernels are tuned
 * for GPUs, measured 7-15x slower than the own kernels on every shape on
 * PoCL (issue 13), and building them is most of a cold start (tens of
 * seconds). CLSCALE_MATMUL_AUTO=all times it there too; `clscale bench`
 * always does. A class with one candidate is not timed at all. CLBlast's
 * kernels are only ever built when CLBlast runs, so leaving it out of the
 * candidates is what makes it lazy.
 * Where host is a candidate (a CPU device, sharing the host's cores) the
 * candidates are timed in sequence and host needs a margin: HOST_MARGIN.
 *
 * Measuring must not change the result: when beta != 0 the timing runs
 * would accumulate into C, so C's span is copied to a scratch buffer first
 * and copied back before the winner runs once for real. The timing runs
 * are kept out of the counters.
 *
 * Persistence: <cache dir>/matmul-auto-<hash>.txt, the hash of its header,
 * which holds the library version, platform, device, driver, the host BLAS
 * build (OpenBLAS's speed depends on the CPU kernels it picked, see
 * matmul_host.c), the parameter set's name and the whole -D string the
 * kernels are built with (every override of CLSCALE_PARAMS included). So
 * processes with other parameters use other files and never rewrite each
 * other's choices. A file whose header differs or any line does not parse
 * is ignored (and replaced at the next choice). A context reads the file
 * once, at its first auto product, and its choices never change after that
 * (new classes are added); a new choice is merged into the file under a
 * lock (flock on FILE.lock) and written to a temporary name and renamed, so
 * readers never see half a file. In the file the first choice of a class
 * stays, except that a doubtful choice (below) is replaced by a less
 * doubtful timing.
 *
 * A busy machine must not freeze a bad choice (issue 13: host was kept for
 * a class where it ran at 0.6x of the own kernel, chosen while other jobs
 * ran): each choice is stored with the machine's 1-minute load per CPU at
 * timing and the winner's spread (slowest over fastest of its runs). A
 * choice timed at a load above BUSY_LOAD or with a spread above
 * NOISY_SPREAD is doubtful; a context that starts while the load is below
 * QUIET_LOAD (or not busy and at most half the load a choice was timed at)
 * sets such doubtful choices aside when it reads the file and
 * times those classes again when it first needs them (then the file gets
 * the new choice). CLSCALE_MATMUL_AUTO=keep never times a persisted choice
 * again. Within a context nothing changes after the read: what a run uses
 * is fixed for the run.
 *
 * A run's record (cls_matmul_record_begin, clscale/ops.h) sits in front of
 * all this: a class in the record runs on the record's backend.
 */
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ops/matmul.h"
#include "ops/ops_state.h"
#include "core/clock.h"

/* Version 3: host choices are timed in sequence and must win by
 * HOST_MARGIN (below); the host choices of version 2 files were won in
 * isolation by margins that lose end to end, so such files are timed
 * again rather than read. */
#define FILE_MAGIC "clscale matmul-auto 3"

/* The thresholds of a doubtful choice and a quiet machine. The load
 * includes this process's own threads (up to one per CPU while it runs
 * kernels), so "busy" starts above 1.5 per CPU; "quiet" is judged when a
 * context reads the file, before it has run anything. */
#define BUSY_LOAD    1.5
#define NOISY_SPREAD 1.5
#define QUIET_LOAD   0.75

static unsigned log2_bucket(size_t x) {
  unsigned b = 0;
  while (b < 63 && ((size_t)1 << b) < x) b++;
  return b;
}

unsigned cls__mm_class_key(const cls__mm_args *g) {
  const size_t batch = g->class_batch ? g->class_batch : g->batch;
  return (unsigned)g->ta | (unsigned)g->tb << 1 | (unsigned)(batch > 1) << 2 | log2_bucket(g->m) << 3 |
         log2_bucket(g->n) << 9 | log2_bucket(g->k) << 15;
}

/* --------------------------------------------------------- entries */

/* "NT 11 7 9 0 host": the class and the backend (record and file alike). */
static int format_entry(unsigned key, cls_backend b, char *out, size_t len) {
  return snprintf(out, len, "%c%c %u %u %u %u %s", key & 1 ? 'T' : 'N', key & 2 ? 'T' : 'N', (key >> 3) & 63,
                  (key >> 9) & 63, (key >> 15) & 63, (key >> 2) & 1, cls_backend_name(b));
}

/* Parses the class and backend at the start of s; the number of characters
 * read, 0 when s does not start with an entry. */
static size_t parse_entry(const char *s, unsigned *key, cls_backend *b) {
  char ta, tb, name[16];
  unsigned lm, ln, lk, batched;
  int used = 0;
  if (sscanf(s, "%c%c %2u %2u %2u %1u %15[a-z]%n", &ta, &tb, &lm, &ln, &lk, &batched, name, &used) != 7 ||
      (ta != 'N' && ta != 'T') || (tb != 'N' && tb != 'T') || lm > 63 || ln > 63 || lk > 63 || batched > 1 ||
      cls_backend_parse(name, b) != CLS_OK || *b == CLS_BACKEND_AUTO)
    return 0;
  *key = (unsigned)(ta == 'T') | (unsigned)(tb == 'T') << 1 | batched << 2 | lm << 3 | ln << 9 | lk << 15;
  return (size_t)used;
}

/* How doubtful a timing is: above 1 when it was timed on a busy machine or
 * its runs spread widely; unknowns count as 0. */
static double doubt(const cls__mm_auto_entry *e) {
  double l = e->load > 0 ? e->load / BUSY_LOAD : 0, s = e->spread > 0 ? e->spread / NOISY_SPREAD : 0;
  return l > s ? l : s;
}

static int doubtful(const cls__mm_auto_entry *e) {
  return doubt(e) > 1;
}

/* The machine's 1-minute load per CPU; negative when unknown (no
 * /proc/loadavg: then no choice is judged by load). */
static double load_per_cpu(const cls__ops_data *st) {
  if (st->mm_load_test >= 0) return st->mm_load_test;
  FILE *f = fopen("/proc/loadavg", "r");
  if (!f) return -1;
  double load = -1;
  int ok = fscanf(f, "%lf", &load) == 1;
  fclose(f);
  long cpus = sysconf(_SC_NPROCESSORS_ONLN);
  return ok && cpus > 0 && load >= 0 ? load / (double)cpus : -1;
}

/* ------------------------------------------------------------ the file */

static unsigned long long fnv1a(unsigned long long h, const char *s) {
  for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ULL;
  return h;
}

/* Appends "label value\n" to out (n used of len), line breaks in the value
 * blanked so that a line is a line. */
static size_t add_line(char *out, size_t n, size_t len, const char *label, const char *value) {
  int k = n < len ? snprintf(out + n, len - n, "%s %s\n", label, value) : 0;
  if (k <= 0 || (size_t)k >= len - n) return n;
  for (size_t i = n + strlen(label) + 1; i + 1 < n + (size_t)k; i++)
    if (out[i] == '\n' || out[i] == '\r') out[i] = ' ';
  return n + (size_t)k;
}

/* The header lines a valid file starts with on this context. */
static void header(const cls_context *ctx, char *out, size_t len) {
  const cls_device_info *d = cls_context_device(ctx);
  size_t n = (size_t)snprintf(out, len, "%s\n", FILE_MAGIC);
  n = add_line(out, n, len, "library", CLSCALE_VERSION);
  n = add_line(out, n, len, "platform", d->platform_name);
  n = add_line(out, n, len, "device", d->name);
  n = add_line(out, n, len, "driver", d->driver_version);
  n = add_line(out, n, len, "blas", cls__mm_host_blas());
  n = add_line(out, n, len, "set", d->params_name);
  add_line(out, n, len, "defines", cls__defines(ctx));
}

/* The file's path: named by its header's hash, so that every parameter set
 * has its own. 0 when the cache is off. */
static int file_path(const cls_context *ctx, const char *head, char *out, size_t len) {
  const char *dir = cls__cache_dir(ctx);
  if (!dir) return 0;
  int n = snprintf(out, len, "%s/matmul-auto-%016llx.txt", dir, fnv1a(14695981039346656037ULL, head));
  return n > 0 && (size_t)n < len;
}

/* Reads the file's choices into e (at most CLS__MM_AUTO_MAX); 0 when it is
 * missing, of another header, or any line is malformed. */
static int read_file(cls_context *ctx, const char *path, const char *head, cls__mm_auto_entry *e, size_t *count) {
  *count = 0;
  FILE *f = fopen(path, "r");
  if (!f) return 0;
  char got[4096];
  size_t hl = strlen(head);
  int ok = hl < sizeof got && fread(got, 1, hl, f) == hl && !memcmp(got, head, hl);
  char line[256];
  while (ok && fgets(line, sizeof line, f)) {
    unsigned key;
    cls_backend b;
    float load, spread;
    char extra;
    size_t used = parse_entry(line, &key, &b);
    if (!used || sscanf(line + used, " %f %f %c", &load, &spread, &extra) != 2 ||
        (b == CLS_BACKEND_HOST && !cls__mm_host_available(ctx))) {
      ok = 0;
      break;
    }
    if (*count == CLS__MM_AUTO_MAX) break; /* written by a build with a larger table: keep what fits */
    e[*count] = (cls__mm_auto_entry){key, b, load, spread};
    ++*count;
  }
  fclose(f);
  if (!ok) *count = 0;
  return ok;
}

/* Whether the machine is quiet enough now (load per CPU `now`) to time e
 * again: below QUIET_LOAD, or not busy and at most half the load e was
 * timed at. The second half matters: a machine that was at 4 per CPU when
 * the choice was made is rarely below 0.75 while anything at all runs (a
 * benchmark's own threads count), and the bad choice would stay. */
static int quiet_for(const cls__mm_auto_entry *e, double now) {
  if (now < 0) return 0;
  return now < QUIET_LOAD || (now < BUSY_LOAD && e->load > 0 && 2 * now <= e->load);
}

/* Reads the persisted choices, once per context; doubtful ones are set
 * aside when the machine is quiet now (they are timed again when used). */
static void load(cls_context *ctx, cls__ops_data *st) {
  st->mm_auto_loaded = 1;
  char head[2048], path[1200];
  header(ctx, head, sizeof head);
  if (!file_path(ctx, head, path, sizeof path)) return;
  cls__mm_auto_entry *got = malloc(CLS__MM_AUTO_MAX * sizeof *got);
  size_t count = 0;
  if (!got) return; /* no memory: time again, as without a file */
  if (read_file(ctx, path, head, got, &count)) {
    double now = load_per_cpu(st);
    for (size_t i = 0; i < count; i++) {
      if (!st->mm_auto_keep && quiet_for(&got[i], now) && doubtful(&got[i])) {
        st->mm_auto_dropped++;
        continue;
      }
      st->mm_auto[st->mm_auto_count++] = got[i];
    }
  }
  free(got);
}

/* Merges one new choice into the file. Failures are not errors: the
 * choice still holds for this context, and the next one times again. */
static void save(cls_context *ctx, const cls__mm_auto_entry *fresh) {
  char head[2048], path[1200], tmp[1300], lock[1300];
  header(ctx, head, sizeof head);
  if (!file_path(ctx, head, path, sizeof path)) return;
  mkdir(cls__cache_dir(ctx), 0755); /* usually there already, from the binary cache */
  /* The lock serialises read-merge-write among processes, so that no
   * process drops a choice another has just added. Without it (a file
   * system without flock) the last writer wins, which is still a valid
   * file. */
  snprintf(lock, sizeof lock, "%s.lock", path);
  int lk = open(lock, O_RDWR | O_CREAT, 0644);
  if (lk >= 0) flock(lk, LOCK_EX);
  cls__mm_auto_entry *e = malloc(CLS__MM_AUTO_MAX * sizeof *e);
  size_t count = 0;
  int write = 0;
  if (e) {
    read_file(ctx, path, head, e, &count);
    size_t i = 0;
    while (i < count && e[i].key != fresh->key) i++;
    if (i == count && count < CLS__MM_AUTO_MAX) {
      e[count++] = *fresh;
      write = 1;
    } else if (i < count && doubtful(&e[i]) && doubt(fresh) < doubt(&e[i])) {
      /* A context that set the doubtful choice aside timed it again, more
       * quietly: its timing replaces the old one. */
      e[i] = *fresh;
      write = 1;
    }
  }
  FILE *f = NULL;
  int fd = -1;
  if (write) {
    snprintf(tmp, sizeof tmp, "%s.XXXXXX", path);
    fd = mkstemp(tmp);
    if (fd >= 0) f = fdopen(fd, "w");
    if (fd >= 0 && !f) {
      close(fd);
      unlink(tmp);
    }
  }
  if (f) {
    int bad = fputs(head, f) < 0;
    for (size_t i = 0; i < count && !bad; i++) {
      char entry[64];
      format_entry(e[i].key, e[i].backend, entry, sizeof entry);
      bad = fprintf(f, "%s %.2f %.2f\n", entry, (double)e[i].load, (double)e[i].spread) < 0;
    }
    if (fclose(f) != 0) bad = 1;
    if (bad || rename(tmp, path) != 0) unlink(tmp);
  }
  free(e);
  if (lk >= 0) {
    flock(lk, LOCK_UN);
    close(lk);
  }
}

/* ----------------------------------------------------------- measuring */

/* One timed run of backend b on g, waited for: the product alone, or
 * (seq) between two own products enqueued without waiting in between:
 * what the backend costs where training uses it, between device kernels
 * (see HOST_MARGIN). The own products are the same for every candidate,
 * so the comparison stays fair. */
static int run_once(cls_context *ctx, cls_backend b, const cls__mm_args *g, int seq) {
  if (seq && cls__mm_dispatch(ctx, CLS_BACKEND_OWN, g) != CLS_OK) return -1;
  if (cls__mm_dispatch(ctx, b, g) != CLS_OK) return -1;
  if (seq && cls__mm_dispatch(ctx, CLS_BACKEND_OWN, g) != CLS_OK) return -1;
  return cls_finish(ctx) == CLS_OK ? 0 : -1;
}

/* The fastest of a few runs (run_once) after a warm-up run (which compiles
 * the kernels), and their spread (slowest over fastest, 0 with one run);
 * negative when the backend fails here. Up to 3 runs, fewer once they have
 * taken `budget` seconds. The minimum, not the median: other load on the
 * machine only ever slows a run down. */
static double measure(cls_context *ctx, cls_backend b, const cls__mm_args *g, int seq, double budget,
                      double *spread) {
  *spread = 0;
  if (run_once(ctx, b, g, seq) != 0) return -1.0;
  double best = -1.0, worst = 0, spent = 0;
  int reps = 0;
  for (; reps < 3 && (reps == 0 || spent < budget); reps++) {
    double t0 = cls_now();
    if (run_once(ctx, b, g, seq) != 0) return -1.0;
    double t = cls_now() - t0;
    spent += t;
    if (best < 0 || t < best) best = t;
    if (t > worst) worst = t;
  }
  if (reps > 1 && best > 0) *spread = worst / best;
  return best;
}

/* The host backend on a CPU device shares the device's cores, and what it
 * costs a training step is more than its own time (issue 13, GPT on PoCL
 * with 2 cores: auto with host choices ran at 0.78-0.83x of own, the device
 * idle 58% of the step against 7%):
 * - its blocking map drains the queue, so the host cannot enqueue ahead
 *   and the device waits on every launch after it;
 * - OpenBLAS's worker threads keep spinning after each call (its thread
 *   timeout), taking the cores from PoCL's threads, so the kernels after it
 *   run slower.
 * So on such a device every candidate is timed inside a sequence (an own
 * product before and after it, no wait in between: measure with seq), which
 * counts the drain and the slowdown of the next kernel. That is not
 * enough alone: the spinning outlasts the one kernel after it, and in a
 * step it never stops. Measured on the GPT (150 steps, PoCL on 2 cores,
 * 2026-12-07, load 5-6 from other jobs, so the sizes are rough but the
 * signs were the same in quiet runs of issue 13): own 12.5-12.8k tokens/s;
 * isolated timing, host won classes by 1.1-2.5x: 8.3k; in sequence with
 * no margin, host won 8 classes by 1.04-1.24x: 8.6k; in sequence with a
 * margin of 1.3 or 1.5 no class went to host (best host win 1.497x):
 * 10.8-11.7k. No class was seen where host pays off end to end, so host
 * must win the sequence by 2x: only where the own kernel is far off
 * (a weight-gradient TN shape on a kernel set that handles it badly). */
#define HOST_MARGIN 2.0

/* On a busy machine (above BUSY_LOAD per CPU) host is not chosen at all
 * where it shares the cores: other jobs preempt the timing runs and make
 * the sequences noisy (seen: a host win of over 2x at 3.7 per CPU on a
 * class where host had lost at 1.04-1.24x in quieter runs), while the cost
 * host adds to a step, its spinning threads, only grows with the load. The
 * choice (own) is stored as doubtful and timed again on a quiet machine. */
double cls__mm_auto_host_margin(int shared, double load_per_cpu_now) {
  if (!shared) return 1.0;
  return load_per_cpu_now > BUSY_LOAD ? HUGE_VAL : HOST_MARGIN;
}

int cls__mm_auto_pick(const cls_backend *cand, const double *seconds, int count, double host_margin) {
  int best = -1, host = -1;
  for (int i = 0; i < count; i++) {
    if (seconds[i] < 0) continue; /* failed here */
    if (cand[i] == CLS_BACKEND_HOST) {
      if (host < 0 || seconds[i] < seconds[host]) host = i;
    } else if (best < 0 || seconds[i] < seconds[best]) {
      best = i;
    }
  }
  if (host < 0) return best;
  if (best < 0 || seconds[host] * host_margin < seconds[best]) return host;
  return best;
}

/* The backends worth timing on this context (see the file comment). */
static int candidates(const cls_context *ctx, const cls__ops_data *st, cls_backend *out) {
  int n = 0;
  out[n++] = CLS_BACKEND_OWN;
  if (cls_context_device(ctx)->type != CLS_DEVICE_CPU || st->mm_auto_all) out[n++] = CLS_BACKEND_CLBLAST;
  if (cls__mm_host_available(ctx)) out[n++] = CLS_BACKEND_HOST;
  return n;
}

static cls_status choose(cls_context *ctx, cls__ops_data *st, const cls__mm_args *g, cls__mm_auto_entry *out) {
  cls_backend cand[3];
  int count = candidates(ctx, st, cand);
  *out = (cls__mm_auto_entry){cls__mm_class_key(g), cand[0], -1.0f, 0.0f};
  if (count == 1) return CLS_OK; /* nothing to compare: no timing runs */
  size_t c_span = (g->m - 1) * g->ldc + g->n + (g->batch - 1) * g->stride_c;
  int keep_c = g->beta != 0.0f;
  if (keep_c) {
    cls_status s = cls__ops_scratch(ctx, &st->mm_save, c_span);
    if (s == CLS_OK) s = cls_buffer_copy(ctx, g->c.buf, g->c.offset, st->mm_save, 0, c_span);
    if (s != CLS_OK) return s;
  }
  double seconds[3], spreads[3];
  /* Host shares the device's cores where it can run at all (a CPU device):
   * then every candidate is timed in sequence and host needs a margin. */
  const int shared = cls__mm_host_available(ctx);
  /* The timing runs are not work done for the caller: they stay out of the
   * counters, so training FLOPs are the same with auto as with a fixed
   * backend. */
  int was_paused = cls__counters_pause(ctx, 1);
  for (int i = 0; i < count; i++) seconds[i] = measure(ctx, cand[i], g, shared, shared ? 0.3 : 0.2, &spreads[i]);
  cls__counters_pause(ctx, was_paused);
  const double load_now = load_per_cpu(st);
  const int won = cls__mm_auto_pick(cand, seconds, count, cls__mm_auto_host_margin(shared, load_now));
  double best = won >= 0 ? seconds[won] : -1, best_spread = won >= 0 ? spreads[won] : 0;
  if (won >= 0) out->backend = cand[won];
  st->mm_auto_timed++;
  out->load = (float)load_now;
  out->spread = (float)(st->mm_spread_test >= 0 ? st->mm_spread_test : best_spread);
  if (keep_c) {
    cls_status s = cls_buffer_copy(ctx, st->mm_save, 0, g->c.buf, g->c.offset, c_span);
    if (s != CLS_OK) return s;
  }
  if (best < 0) {
    char last[1024]; /* the message is rewritten below: copy it first */
    snprintf(last, sizeof last, "%s", cls_last_error(ctx));
    return cls__fail(ctx, CLS_ERR_BACKEND_UNAVAILABLE,
                     "cls_matmul (auto): no backend could run a %zu x %zu x %zu product here; last error: %s",
                     g->m, g->n, g->k, last);
  }
  return CLS_OK;
}

size_t cls__mm_auto_timed(cls_context *ctx) {
  cls__ops_data *st = cls__ops_get(ctx);
  return st ? st->mm_auto_timed : 0;
}

int cls__mm_auto_candidate_count(cls_context *ctx) {
  cls__ops_data *st = cls__ops_get(ctx);
  cls_backend cand[3];
  return st ? candidates(ctx, st, cand) : 0;
}

size_t cls__mm_auto_dropped(cls_context *ctx) {
  cls__ops_data *st = cls__ops_get(ctx);
  return st ? st->mm_auto_dropped : 0;
}

void cls__mm_auto_test_timing(cls_context *ctx, double load_per_cpu_value, double spread) {
  cls__ops_data *st = cls__ops_get(ctx);
  if (!st) return;
  st->mm_load_test = load_per_cpu_value;
  st->mm_spread_test = spread;
}

/* --------------------------------------------------------- the record */

static cls__mm_auto_entry *rec_find(cls__ops_data *st, unsigned key) {
  for (size_t i = 0; i < st->mm_rec_count; i++)
    if (st->mm_rec[i].key == key) return &st->mm_rec[i];
  return NULL;
}

/* Adds a class to the record, keeping it in ascending class order. */
static cls_status rec_add(cls_context *ctx, cls__ops_data *st, unsigned key, cls_backend b) {
  if (st->mm_rec_count == CLS__MM_AUTO_MAX)
    return cls__fail(ctx, CLS_ERR_INVALID_SIZE,
                     "cls_matmul (auto): a run used more than %d shape classes, more than its record of choices "
                     "holds; pin a backend (`matmul_backend`) for such a run",
                     CLS__MM_AUTO_MAX);
  size_t i = st->mm_rec_count;
  while (i > 0 && st->mm_rec[i - 1].key > key) {
    st->mm_rec[i] = st->mm_rec[i - 1];
    i--;
  }
  st->mm_rec[i] = (cls__mm_auto_entry){key, b, -1.0f, 0.0f};
  st->mm_rec_count++;
  return CLS_OK;
}

/* Parses a record into e (capacity CLS__MM_AUTO_MAX): entries in
 * canonical form (as cls_matmul_record_text writes them), joined by ';',
 * classes ascending. 0 with the reason in why otherwise. */
static int parse_record(const char *text, cls__mm_auto_entry *e, size_t *count, char *why, size_t why_len) {
  *count = 0;
  if (!text || !*text) return 1;
  const char *p = text;
  for (size_t k = 1;; k++) {
    unsigned key;
    cls_backend b;
    size_t used = parse_entry(p, &key, &b);
    char canon[64];
    format_entry(key, b, canon, sizeof canon);
    if (!used || strlen(canon) != used || memcmp(canon, p, used)) {
      snprintf(why, why_len, "entry %zu ('%.40s') is not 'TATB LM LN LK BATCHED BACKEND'", k, p);
      return 0;
    }
    if (*count && key <= e[*count - 1].key) {
      snprintf(why, why_len, "entry %zu ('%s') is out of order or repeats a class", k, canon);
      return 0;
    }
    if (*count == CLS__MM_AUTO_MAX) {
      snprintf(why, why_len, "more than %d entries", CLS__MM_AUTO_MAX);
      return 0;
    }
    e[(*count)++] = (cls__mm_auto_entry){key, b, -1.0f, 0.0f};
    p += used;
    if (!*p) return 1;
    if (*p != ';' || !p[1]) {
      snprintf(why, why_len, "after entry %zu: '%.20s' where ';' and another entry or the end belong", k, p);
      return 0;
    }
    p++;
  }
}

cls_status cls_matmul_record_check(const char *text, char *why, size_t why_len) {
  char scratch[8];
  if (!why || !why_len) {
    why = scratch;
    why_len = sizeof scratch;
  }
  why[0] = 0;
  cls__mm_auto_entry *e = malloc(CLS__MM_AUTO_MAX * sizeof *e);
  if (!e) {
    snprintf(why, why_len, "out of host memory");
    return CLS_ERR_OUT_OF_MEMORY;
  }
  size_t count;
  int ok = parse_record(text, e, &count, why, why_len);
  free(e);
  return ok ? CLS_OK : CLS_ERR_INVALID_VALUE;
}

cls_status cls_matmul_record_begin(cls_context *ctx, const char *pinned) {
  if (!ctx) return CLS_ERR_NULL_ARGUMENT;
  cls__ops_data *st = cls__ops_get(ctx);
  if (!st) return CLS_ERR_OUT_OF_MEMORY;
  char why[256];
  size_t count;
  cls__mm_auto_entry *e = malloc(CLS__MM_AUTO_MAX * sizeof *e);
  if (!e) return cls__fail(ctx, CLS_ERR_OUT_OF_MEMORY, "cls_matmul_record_begin: out of host memory");
  if (!parse_record(pinned, e, &count, why, sizeof why)) {
    free(e);
    return cls__fail(ctx, CLS_ERR_INVALID_VALUE, "cls_matmul_record_begin: not a record of matmul choices: %s",
                     why);
  }
  for (size_t i = 0; i < count; i++)
    if (e[i].backend == CLS_BACKEND_HOST && !cls__mm_host_available(ctx)) {
      char entry[64];
      format_entry(e[i].key, e[i].backend, entry, sizeof entry);
      free(e);
      return cls__fail(ctx, CLS_ERR_BACKEND_UNAVAILABLE,
                       "the run's recorded matmul choice '%s' needs the host backend, which %s cannot run: "
                       "continue the run on the device that started it, or start it again",
                       entry, cls_context_device(ctx)->name);
    }
  memcpy(st->mm_rec, e, count * sizeof *e);
  free(e);
  st->mm_rec_count = count;
  st->mm_rec_active = 1;
  return CLS_OK;
}

cls_status cls_matmul_record_text(const cls_context *ctx, char *out, size_t len, size_t *needed) {
  if (!ctx || !out) return CLS_ERR_NULL_ARGUMENT;
  const cls__ops_data *st = cls__ops_state(ctx);
  if (!st || !st->mm_rec_active) return CLS_ERR_INVALID_VALUE;
  size_t n = 0;
  for (size_t i = 0; i < st->mm_rec_count; i++) {
    char entry[64];
    int k = format_entry(st->mm_rec[i].key, st->mm_rec[i].backend, entry, sizeof entry);
    if (i && n + 1 < len) out[n] = ';';
    if (i) n++;
    if (n + (size_t)k < len) memcpy(out + n, entry, (size_t)k);
    n += (size_t)k;
  }
  if (needed) *needed = n + 1;
  if (n >= len) {
    if (len) out[0] = 0;
    return CLS_ERR_INVALID_SIZE;
  }
  out[n] = 0;
  return CLS_OK;
}

void cls_matmul_record_end(cls_context *ctx) {
  cls__ops_data *st = ctx ? cls__ops_state(ctx) : NULL;
  if (!st) return;
  st->mm_rec_active = 0;
  st->mm_rec_count = 0;
}

/* --------------------------------------------------------- the backend */

cls_status cls__mm_auto(cls_context *ctx, const cls__mm_args *g) {
  cls__ops_data *st = cls__ops_get(ctx);
  if (!st) return CLS_ERR_OUT_OF_MEMORY;
  unsigned key = cls__mm_class_key(g);
  if (st->mm_rec_active) {
    const cls__mm_auto_entry *pinned = rec_find(st, key);
    if (pinned) return cls__mm_dispatch(ctx, pinned->backend, g);
  }
  if (!st->mm_auto_loaded) load(ctx, st);
  size_t i = 0;
  while (i < st->mm_auto_count && st->mm_auto[i].key != key) i++;
  if (i == st->mm_auto_count) {
    cls__mm_auto_entry chosen;
    /* The timing runs compute the product only: a bias added there would
     * be added again by the run below. */
    cls__mm_args product = *g;
    product.has_bias = 0;
    cls_status s = choose(ctx, st, &product, &chosen);
    if (s != CLS_OK) return s;
    /* Remember it, replacing the oldest choice when the table is full: a
     * class that is never remembered would be timed again on every call. */
    if (st->mm_auto_count < CLS__MM_AUTO_MAX)
      st->mm_auto_count++;
    else
      i = st->mm_auto_evict++ % CLS__MM_AUTO_MAX;
    st->mm_auto[i] = chosen;
    save(ctx, &chosen);
  }
  if (st->mm_rec_active) {
    cls_status s = rec_add(ctx, st, key, st->mm_auto[i].backend);
    if (s != CLS_OK) return s;
  }
  return cls__mm_dispatch(ctx, st->mm_auto[i].backend, g);
}
