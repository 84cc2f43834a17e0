/*
 * src/train/synth_gcd.c — the gcd task's generations (train/synth.h): a
 * trained GPT (the teacher) answers questions drawn from the real
 * question distribution, and the question and answer tokens it wrote
 * become corpora/<teacher>.bin, on which the next generation trains
 * (task_gcd.c reads it).
 *
 * Question i of generation g is pair i of Philox (seed, "gcq" + g), its
 * own stream for each generation (no question of the corpus is a draw of
 * the real training or evaluation streams, though in a small space equal
 * pairs occur). The teacher writes the answer after '=' with the sampling
 * settings, up to and with its end-of-sequence token, or until the
 * sequence is full; the rest of the row is padding. A malformed answer is
 * kept: it is what the model wrote, and the next model trains on it.
 *
 * The prompts of a batch must share a length ('+ a + b =' has 5 to
 * 2 d + 3 tokens), so each chunk of questions is sampled length by length
 * in fixed batches; sequence number (g << 40) + k of the sampler's stream
 * is the k-th question of that order, so the draws do not depend on how
 * the work is split, and the rows are written in question order.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/err.h"
#include "core/fmt.h"
#include "data/gcd.h"
#include "synth_internal.h"
#include "task_internal.h"

#define STREAM_QUESTIONS 0x67637100u /* "gcq\0" + the generation */
/* Questions sampled and written together: large enough to fill batches of
 * each prompt length, small enough that the progress moves. */
#define CHUNK 1024

cls_status cls__gcd_synth_check(const cls_task_spec *spec, size_t *tokens_per_example, char *err, size_t err_len) {
  cls_gcd_format f;
  cls_status s = cls_gcd_format_make(spec->base, spec->bound, &f, err, err_len);
  if (s != CLS_OK) return s;
  if (spec->context < f.length) {
    snprintf(err, err_len,
             "`context` %zu: with generations a model writes whole sequences of %zu tokens (bound %zu in base "
             "%zu), one more than training needs: raise `context` to %zu",
             spec->context, f.length, spec->bound, spec->base, f.length);
    return CLS_ERR_INVALID_SIZE;
  }
  if (spec->train_pairs) {
    snprintf(err, err_len,
             "`train_pairs` %zu: with generations every model sees fresh examples (generation 0 real pairs, "
             "the next ones a corpus): leave out train_pairs",
             spec->train_pairs);
    return CLS_ERR_INVALID_VALUE;
  }
  *tokens_per_example = f.length - 1;
  return CLS_OK;
}

/* What the corpus of req holds and how it was made: a corpus is reused
 * only by a request with the same key. */
static void make_key(const cls_task_spec *spec, const cls_gcd_format *f, const cls_synth_request *req, char *key,
                     size_t len) {
  char t[40], p[40];
  snprintf(key, len,
           "task=gcd\nbase=%zu\nbound=%zu\nteacher=%s\ngeneration=%u\nseed=%llu\nquestions_stream=0x%08x\n"
           "sequences=%zu\nsample_temperature=%s\ntop_k=%zu\ntop_p=%s\nsample_batch=%d\n",
           spec->base, spec->bound, req->teacher_id, req->generation, (unsigned long long)req->seed,
           STREAM_QUESTIONS + req->generation, req->n, cls_fmt_shortest(req->temperature, 1, t, sizeof t),
           req->top_k, cls_fmt_shortest(req->top_p, 1, p, sizeof p), CLS_SYNTH_BATCH);
  (void)f;
}

/* ------------------------------------------------------------- stats */

typedef struct {
  uint64_t malformed, wrong, correct;
  uint64_t *real, *generated; /* the true answers; the well-formed generated ones */
  size_t n_real, n_generated;
} stats;

static void stats_add(stats *st, const cls_gcd_format *f, const int32_t *row, uint64_t truth) {
  cls_gcd_pair p;
  char why[8];
  st->real[st->n_real++] = truth;
  if (cls_gcd_decode(f, row, &p, why, sizeof why) != CLS_OK) {
    st->malformed++;
    return;
  }
  st->generated[st->n_generated++] = p.g;
  if (p.g == truth)
    st->correct++;
  else
    st->wrong++;
}

static int by_value(const void *a, const void *b) {
  const uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

/* corpora/<teacher>.json from the stats (sorted here). */
static cls_status write_meta(const cls_synth_request *req, const char *key, const cls_corpus *c, stats *st,
                             double seconds, char *err, size_t err_len) {
  qsort(st->real, st->n_real, sizeof *st->real, by_value);
  qsort(st->generated, st->n_generated, sizeof *st->generated, by_value);
  cls_corpus_value *v = malloc((st->n_real + st->n_generated + 1) * sizeof *v);
  if (!v) return cls_errf(err, err_len, CLS_ERR_OUT_OF_MEMORY, "out of host memory for %s", req->meta_path);
  size_t n = 0, i = 0, j = 0;
  while (i < st->n_real || j < st->n_generated) {
    const uint64_t value = j >= st->n_generated || (i < st->n_real && st->real[i] <= st->generated[j])
                               ? st->real[i]
                               : st->generated[j];
    cls_corpus_value row = {value, 0, 0};
    while (i < st->n_real && st->real[i] == value) row.real++, i++;
    while (j < st->n_generated && st->generated[j] == value) row.generated++, j++;
    v[n++] = row;
  }
  cls_corpus_meta m = {.teacher = req->teacher_id,
                       .corpus = cls__synth_corpus_name(req),
                       .checksum = c->checksum,
                       .n = c->n,
                       .length = c->length,
                       .vocab = c->vocab,
                       .key = key,
                       .malformed = st->malformed,
                       .wrong = st->wrong,
                       .correct = st->correct,
                       .values_of = "gcd",
                       .values = v,
                       .n_values = n,
                       .seconds = seconds,
                       .device = req->device_name};
  cls_status s = cls_corpus_meta_write(req->meta_path, &m, err, err_len);
  free(v);
  return s;
}

static int stats_alloc(stats *st, size_t n) {
  memset(st, 0, sizeof *st);
  st->real = malloc((n ? n : 1) * sizeof *st->real);
  st->generated = malloc((n ? n : 1) * sizeof *st->generated);
  return st->real && st->generated;
}

static void stats_free(stats *st) {
  free(st->real);
  free(st->generated);
}

static void fill_result(cls_synth_result *res, const stats *st, uint64_t checksum, uint64_t n) {
  res->checksum = checksum;
  res->n = n;
  res->malformed = st->malformed;
  res->wrong = st->wrong;
  res->correct = st->correct;
  const double d = (double)(n ? n : 1);
  snprintf(res->summary, sizeof res->summary, "the teacher's answers %.3g right, %.3g wrong, %.3g malformed",
           (double)st->correct / d, (double)st->wrong / d, (double)st->malformed / d);
}

/* ------------------------------------------------------------- reuse */

/* An existing corpus: whole, of this request, and its meta file. */
static cls_status reuse(const cls_task_spec *spec, const cls_gcd_format *f, const cls_synth_request *req,
                        const char *key, cls_synth_result *res, char *err, size_t err_len) {
  cls_corpus c;
  cls_status s = cls__synth_read_same(req, key, f->length, f->vocab, &c, err, err_len);
  if (s != CLS_OK) return s;
  stats st;
  if (!stats_alloc(&st, (size_t)c.n)) {
    cls_corpus_free(&c);
    stats_free(&st);
    return cls_errf(err, err_len, CLS_ERR_OUT_OF_MEMORY, "out of host memory checking %s", req->corpus_path);
  }
  for (uint64_t i = 0; i < c.n; i++)
    stats_add(&st, f, c.tokens + i * c.length,
              cls_gcd_sample(spec->bound, req->seed, STREAM_QUESTIONS + req->generation, i).g);
  fill_result(res, &st, c.checksum, c.n);
  res->reused = 1;
  /* The meta file is derived from the corpus: written again when a kill
   * came between the two renames. */
  if (access(req->meta_path, F_OK) != 0) s = write_meta(req, key, &c, &st, NAN, err, err_len);
  stats_free(&st);
  cls_corpus_free(&c);
  return s;
}

/* ---------------------------------------------------------- generate */

typedef struct {
  const cls_gcd_format *f;
  const cls_synth_request *req;
  cls_gpt_infer *inf;
  cls_gpt_sample_config cfg;
  size_t *prompt;   /* CHUNK: each question's prompt length */
  size_t *order;    /* CHUNK: the chunk's questions by prompt length */
  int32_t *prompts; /* CLS_SYNTH_BATCH x length */
  int32_t *out;     /* CLS_SYNTH_BATCH x length */
  size_t *lengths;  /* CLS_SYNTH_BATCH */
  uint64_t *truth;  /* CHUNK: the true answers */
  stats st;
} generator;

/* Questions first .. first + n - 1 answered by the teacher into rows
 * (cls__synth_fill), and counted. */
static cls_status answer_chunk(void *user, uint64_t first, size_t n, int32_t *rows, char *err, size_t err_len) {
  generator *g = user;
  (void)err;
  (void)err_len; /* a failure is the device's */
  const cls_gcd_format *f = g->f;
  const size_t L = f->length;
  for (size_t i = 0; i < n; i++) {
    const cls_gcd_pair q =
        cls_gcd_sample(f->bound, g->req->seed, STREAM_QUESTIONS + g->req->generation, first + i);
    g->truth[i] = q.g;
    g->prompt[i] = cls_gcd_encode(f, &q, rows + i * L) + 1;
  }
  /* Question order within each prompt length (a counting sort). */
  size_t k = 0;
  for (size_t P = 1; P < L; P++)
    for (size_t i = 0; i < n; i++)
      if (g->prompt[i] == P) g->order[k++] = i;
  for (size_t at = 0; at < n;) {
    const size_t P = g->prompt[g->order[at]];
    size_t B = 0;
    while (at + B < n && B < CLS_SYNTH_BATCH && g->prompt[g->order[at + B]] == P) B++;
    for (size_t b = 0; b < B; b++) memcpy(g->prompts + b * P, rows + g->order[at + b] * L, P * sizeof(int32_t));
    g->cfg.first_sequence = ((uint64_t)g->req->generation << 40) + first + at;
    const size_t gen = L - P;
    cls_status s = cls_gpt_infer_sample(g->inf, &g->cfg, g->prompts, B, P, gen, g->out, g->lengths);
    if (s != CLS_OK) return s; /* the context has the message */
    for (size_t b = 0; b < B; b++) {
      int32_t *row = rows + g->order[at + b] * L;
      for (size_t t = 0; t < gen; t++) row[P + t] = t < g->lengths[b] ? g->out[b * gen + t] : f->pad;
    }
    at += B;
    if (g->req->stop && *g->req->stop) return CLS_OK;
  }
  for (size_t i = 0; i < n; i++) stats_add(&g->st, f, rows + i * L, g->truth[i]);
  return CLS_OK;
}

static cls_status generate(cls_context *ctx, const cls_gcd_format *f, const cls_synth_request *req,
                           const char *key, cls_synth_result *res, char *err, size_t err_len) {
  const double t0 = cls_now();
  char what[96];
  snprintf(what, sizeof what, "sequences (%zu tokens over %zu)", f->length, f->vocab);
  cls_gpt *gpt = NULL;
  cls_status s = cls__synth_teacher(ctx, req, f->vocab, f->length, 1, 1, what, &gpt, err, err_len);
  if (s != CLS_OK) return s;
  generator g = {.f = f, .req = req};
  s = cls_gpt_infer_create(gpt, CLS_SYNTH_BATCH, &g.inf);
  const size_t L = f->length;
  int32_t *rows = malloc(CHUNK * L * sizeof *rows);
  g.prompt = malloc(CHUNK * sizeof *g.prompt);
  g.order = malloc(CHUNK * sizeof *g.order);
  g.prompts = malloc(CLS_SYNTH_BATCH * L * sizeof *g.prompts);
  g.out = malloc(CLS_SYNTH_BATCH * L * sizeof *g.out);
  g.lengths = malloc(CLS_SYNTH_BATCH * sizeof *g.lengths);
  g.truth = malloc(CHUNK * sizeof *g.truth);
  const int have = stats_alloc(&g.st, req->n);
  if (s != CLS_OK)
    snprintf(err, err_len, "the teacher's sampler: %s", cls_last_error(ctx));
  else if (!rows || !g.prompt || !g.order || !g.prompts || !g.out || !g.lengths || !g.truth || !have)
    s = cls_errf(err, err_len, CLS_ERR_OUT_OF_MEMORY, "out of host memory making %s", req->corpus_path);
  cls__synth_sample_config(req, &g.cfg);
  g.cfg.stop_token = f->eos;
  uint64_t checksum = 0;
  if (s == CLS_OK)
    s = cls__synth_write(ctx, req, key, L, f->vocab, CHUNK, rows, answer_chunk, &g, res, &checksum, err, err_len);
  if (s == CLS_OK && !res->stopped) {
    res->seconds = cls_now() - t0;
    fill_result(res, &g.st, checksum, req->n);
    const cls_corpus c = {.n = req->n, .length = L, .vocab = f->vocab, .checksum = checksum};
    s = write_meta(req, key, &c, &g.st, res->seconds, err, err_len);
  }
  stats_free(&g.st);
  free(g.truth);
  free(rows);
  free(g.prompt);
  free(g.order);
  free(g.prompts);
  free(g.out);
  free(g.lengths);
  cls_gpt_infer_destroy(g.inf);
  cls_gpt_destroy(gpt);
  return s;
}

cls_status cls__gcd_synthesize(cls_context *ctx, const cls_task_spec *spec, const cls_synth_request *req,
                               cls_synth_result *res, char *err, size_t err_len) {
  memset(res, 0, sizeof *res);
  cls_gcd_format f;
  cls_status s = cls_gcd_format_make(spec->base, spec->bound, &f, err, err_len);
  if (s != CLS_OK) return s;
  s = cls__synth_check_request(req, err, err_len);
  if (s != CLS_OK) return s;
  char key[2048];
  make_key(spec, &f, req, key, sizeof key);
  if (access(req->corpus_path, F_OK) == 0) return reuse(spec, &f, req, key, res, err, err_len);
  return generate(ctx, &f, req, key, res, err, err_len);
}
