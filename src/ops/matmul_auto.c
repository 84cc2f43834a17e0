/*
 * src/ops/matmul_auto.c — the auto backend: on the first product of a shape
 * class, time every backend that can run here on the actual arguments,
 * remember the fastest for the context, and persist the choice.
 *
 * Shape class (cls__mm_class_key): the two transposes, whether the call is
 * batched (batch > 1), and ceil(log2) of m, n and k. So 1000 x 1000 x 1000
 * and 1024 x 1024 x 1024 share a class; 1025 starts the next one.
 *
 * Measuring must not change the result: when beta != 0 the timing runs
 * would accumulate into C, so C's span is copied to a scratch buffer first
 * and copied back before the winner runs once for real. The timing runs
 * really run on the device, so they are counted under their backends.
 *
 * Persistence: <cache dir>/matmul-auto-<hash>.txt, hash of the device name,
 * driver version and platform name; its header repeats those with the
 * library version, the host BLAS build (OpenBLAS's speed depends on the
 * CPU kernels it picked, see matmul_host.c) and the own kernel's
 * parameters, and a file whose header differs or any line does not parse
 * is ignored (and rewritten at the next choice). Written to a temporary
 * name and renamed, so readers never see half a file.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ops/matmul.h"
#include "ops/ops_state.h"
#include "core/clock.h"

#define FILE_MAGIC "clscale matmul-auto 1"

static unsigned log2_bucket(size_t x) {
  unsigned b = 0;
  while (b < 63 && ((size_t)1 << b) < x) b++;
  return b;
}

unsigned cls__mm_class_key(const cls__mm_args *g) {
  return (unsigned)g->ta | (unsigned)g->tb << 1 | (unsigned)(g->batch > 1) << 2 | log2_bucket(g->m) << 3 |
         log2_bucket(g->n) << 9 | log2_bucket(g->k) << 15;
}

/* ------------------------------------------------------------ the file */

static unsigned long long fnv1a(unsigned long long h, const char *s) {
  for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ULL;
  return (h ^ 0xff) * 1099511628211ULL; /* field separator */
}

static int file_path(const cls_context *ctx, char *out, size_t len) {
  const char *dir = cls__cache_dir(ctx);
  if (!dir) return 0;
  const cls_device_info *d = cls_context_device(ctx);
  unsigned long long h =
      fnv1a(fnv1a(fnv1a(14695981039346656037ULL, d->name), d->driver_version), d->platform_name);
  int n = snprintf(out, len, "%s/matmul-auto-%016llx.txt", dir, h);
  return n > 0 && (size_t)n < len;
}

/* The header lines a valid file starts with on this context. Names go in
 * with newlines stripped so that a line is a line. */
static void header(const cls_context *ctx, char *out, size_t len) {
  static const char *const params[] = {"MM_LOCAL", "MM_VW",  "MM_MR",     "MM_NV", "MM_VW2",
                                       "MM_MR2",   "MM_NV2", "MM_NARROW", "MM_LM", "MM_KP",
                                       "MM_TM",    "MM_TN",  "MM_TK",     "MM_WM", "MM_WN"};
  const cls_device_info *d = cls_context_device(ctx);
  int n = snprintf(out, len, FILE_MAGIC "\nlibrary %s\ndevice %s\ndriver %s\nblas %s\nparams", CLSCALE_VERSION,
                   d->name, d->driver_version, cls__mm_host_blas());
  for (size_t i = 0; i < sizeof params / sizeof params[0] && n > 0 && (size_t)n < len; i++)
    n += snprintf(out + n, len - (size_t)n, " %s=%ld", params[i], cls__param(ctx, params[i], -1));
  if (n > 0 && (size_t)n < len - 1) {
    out[n] = '\n';
    out[n + 1] = 0;
  }
  for (char *p = out; *p; p++)
    if (*p == '\r') *p = ' ';
}

/* Reads the persisted choices; anything malformed discards the file's
 * content (the next choice rewrites it). */
static void load(cls_context *ctx, cls__ops_data *st) {
  st->mm_auto_loaded = 1;
  char path[1200];
  if (!file_path(ctx, path, sizeof path)) return;
  FILE *f = fopen(path, "r");
  if (!f) return;
  char want[1024], got[1024];
  header(ctx, want, sizeof want);
  size_t n = fread(got, 1, sizeof got - 1, f);
  got[n] = 0;
  size_t hl = strlen(want);
  int ok = n >= hl && !memcmp(got, want, hl);
  cls__mm_auto_entry entries[CLS__MM_AUTO_MAX];
  size_t count = 0;
  if (ok && fseek(f, (long)hl, SEEK_SET) == 0) {
    char line[256];
    while (ok && fgets(line, sizeof line, f)) {
      char ta, tb, name[16], extra;
      unsigned lm, ln, lk, batched;
      cls_backend b;
      if (sscanf(line, " %c%c %u %u %u %u %15s %c", &ta, &tb, &lm, &ln, &lk, &batched, name, &extra) != 7 ||
          (ta != 'N' && ta != 'T') || (tb != 'N' && tb != 'T') || lm > 63 || ln > 63 || lk > 63 || batched > 1 ||
          cls_backend_parse(name, &b) != CLS_OK || b == CLS_BACKEND_AUTO ||
          (b == CLS_BACKEND_HOST && !cls__mm_host_available(ctx))) {
        ok = 0;
        break;
      }
      if (count == CLS__MM_AUTO_MAX) break; /* written by a build with a larger table: keep what fits */
      entries[count].key =
          (unsigned)(ta == 'T') | (unsigned)(tb == 'T') << 1 | batched << 2 | lm << 3 | ln << 9 | lk << 15;
      entries[count].backend = b;
      count++;
    }
  } else {
    ok = 0;
  }
  fclose(f);
  if (!ok) return;
  memcpy(st->mm_auto, entries, count * sizeof entries[0]);
  st->mm_auto_count = count;
}

/* Writes every remembered choice. Failures are not errors: the choice
 * still holds for this context, and the next context measures again. */
static void save(cls_context *ctx, const cls__ops_data *st) {
  char path[1200], tmp[1300], head[1024];
  if (!file_path(ctx, path, sizeof path)) return;
  snprintf(tmp, sizeof tmp, "%s.XXXXXX", path);
  mkdir(cls__cache_dir(ctx), 0755); /* usually there already, from the binary cache */
  int fd = mkstemp(tmp);
  if (fd < 0) return;
  FILE *f = fdopen(fd, "w");
  if (!f) {
    close(fd);
    unlink(tmp);
    return;
  }
  header(ctx, head, sizeof head);
  int bad = fputs(head, f) < 0;
  for (size_t i = 0; i < st->mm_auto_count && !bad; i++) {
    unsigned key = st->mm_auto[i].key;
    bad = fprintf(f, "%c%c %u %u %u %u %s\n", key & 1 ? 'T' : 'N', key & 2 ? 'T' : 'N', (key >> 3) & 63,
                  (key >> 9) & 63, (key >> 15) & 63, (key >> 2) & 1, cls_backend_name(st->mm_auto[i].backend)) < 0;
  }
  if (fclose(f) != 0) bad = 1;
  if (bad || rename(tmp, path) != 0) unlink(tmp);
}

/* ----------------------------------------------------------- measuring */

/* The fastest of a few runs of one backend after a warm-up run (which
 * compiles its kernels); negative when the backend fails here. The
 * minimum, not the median: other load on the machine only ever slows a
 * run down. */
static double measure(cls_context *ctx, cls_backend b, const cls__mm_args *g) {
  if (cls__mm_dispatch(ctx, b, g) != CLS_OK || cls_finish(ctx) != CLS_OK) return -1.0;
  double best = -1.0, spent = 0;
  /* Up to 3 runs, fewer when one already takes long. */
  for (int reps = 0; reps < 3 && (reps == 0 || spent < 0.2); reps++) {
    double t0 = cls_now();
    if (cls__mm_dispatch(ctx, b, g) != CLS_OK || cls_finish(ctx) != CLS_OK) return -1.0;
    double t = cls_now() - t0;
    spent += t;
    if (best < 0 || t < best) best = t;
  }
  return best;
}

static cls_status choose(cls_context *ctx, cls__ops_data *st, const cls__mm_args *g, cls_backend *out) {
  size_t c_span = (g->m - 1) * g->ldc + g->n + (g->batch - 1) * g->stride_c;
  int keep_c = g->beta != 0.0f;
  if (keep_c) {
    cls_status s = cls__ops_scratch(ctx, &st->mm_save, c_span);
    if (s == CLS_OK) s = cls_buffer_copy(ctx, g->c.buf, g->c.offset, st->mm_save, 0, c_span);
    if (s != CLS_OK) return s;
  }
  cls_backend candidates[3] = {CLS_BACKEND_OWN, CLS_BACKEND_CLBLAST, CLS_BACKEND_HOST};
  int count = cls__mm_host_available(ctx) ? 3 : 2;
  double best = -1;
  cls_backend winner = CLS_BACKEND_OWN;
  /* The timing runs are not work done for the caller: they stay out of the
   * counters, so training FLOPs are the same with auto as with a fixed
   * backend. */
  int was_paused = cls__counters_pause(ctx, 1);
  for (int i = 0; i < count; i++) {
    double t = measure(ctx, candidates[i], g);
    if (t >= 0 && (best < 0 || t < best)) {
      best = t;
      winner = candidates[i];
    }
  }
  cls__counters_pause(ctx, was_paused);
  st->mm_auto_timed++;
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
  *out = winner;
  return CLS_OK;
}

size_t cls__mm_auto_timed(cls_context *ctx) {
  cls__ops_data *st = cls__ops_get(ctx);
  return st ? st->mm_auto_timed : 0;
}

cls_status cls__mm_auto(cls_context *ctx, const cls__mm_args *g) {
  cls__ops_data *st = cls__ops_get(ctx);
  if (!st) return CLS_ERR_OUT_OF_MEMORY;
  if (!st->mm_auto_loaded) load(ctx, st);
  unsigned key = cls__mm_class_key(g);
  for (size_t i = 0; i < st->mm_auto_count; i++)
    if (st->mm_auto[i].key == key) return cls__mm_dispatch(ctx, st->mm_auto[i].backend, g);
  cls_backend winner = CLS_BACKEND_OWN;
  cls_status s = choose(ctx, st, g, &winner);
  if (s != CLS_OK) return s;
  /* Remember it, replacing the oldest choice when the table is full: a
   * class that is never remembered would be timed again on every call. */
  size_t slot = st->mm_auto_count;
  if (slot < CLS__MM_AUTO_MAX)
    st->mm_auto_count++;
  else
    slot = st->mm_auto_evict++ % CLS__MM_AUTO_MAX;
  st->mm_auto[slot].key = key;
  st->mm_auto[slot].backend = winner;
  save(ctx, st);
  return cls__mm_dispatch(ctx, winner, g);
}
