/*
 * src/train/synth_text.c — the text task's generations (train/synth.h): a
 * trained byte-level GPT (the teacher) continues prompts of real text, and
 * the windows of prompt and continuation become corpora/<teacher>.bin, on
 * which the next generation trains (task_text.c reads it).
 *
 * Window i of generation g is window i of the training split drawn from
 * Philox (seed, "txq" + g) (cls_text_windows), its own stream for each
 * generation. Its first P bytes (prompt_bytes) are the prompt and stay
 * real; the teacher writes the other T + 1 - P with the sampling settings
 * (sequence number (g << 40) + i of the sampler's stream), so a corpus row
 * is a whole training window of T + 1 bytes. The windows are sampled in
 * fixed batches of CLS_SYNTH_BATCH in window order (the batch shapes the
 * float rounding), so a corpus is the same bytes on a re-run.
 *
 * What the meta file measures (rundir.h's cls_corpus_text): per byte, its
 * count in the generated continuations and in the real ones they replace
 * (the bytes the teacher no longer writes); the distinct whole words of
 * each, and the generated words the training text lacks (the tail cut, and
 * what the teacher invents); the teacher's mean negative log-likelihood of
 * the generated and of the real continuations (its confidence in its own
 * text against the real one).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/err.h"
#include "core/fmt.h"
#include "data/text.h"
#include "synth_internal.h"
#include "task_internal.h"

#define STREAM_PROMPTS 0x74787100u /* "txq\0" + the generation */
/* Windows the teacher scores in one forward pass (its activations grow
 * with batch x context^2: a part of a sampling batch). */
#define SCORE_BATCH 64

cls_status cls__text_synth_check(const cls_task_spec *spec, size_t *tokens_per_example, char *err,
                                 size_t err_len) {
  (void)err;
  (void)err_len; /* prompt_bytes is the task's check */
  *tokens_per_example = spec->context;
  return CLS_OK;
}

/* What the corpus of req holds and how it was made: a corpus is reused
 * only by a request with the same key. */
static void make_key(const cls_task_spec *spec, const cls_text *text, size_t P, const cls_synth_request *req,
                     char *key, size_t len) {
  char v[40], t[40], p[40];
  snprintf(key, len,
           "task=text\ndata=%s\ndata_hash=fnv1a:%016llx\nval_fraction=%s\ncontext=%zu\nprompt_bytes=%zu\n"
           "teacher=%s\ngeneration=%u\nseed=%llu\nprompts_stream=0x%08x\nsequences=%zu\nsample_temperature=%s\n"
           "top_k=%zu\ntop_p=%s\nsample_batch=%d\n",
           !spec->data || !strcmp(spec->data, "zipf") ? "zipf" : "file", (unsigned long long)cls__text_hash(text),
           cls_fmt_shortest(spec->val_fraction, 0, v, sizeof v), spec->context, P, req->teacher_id,
           req->generation, (unsigned long long)req->seed, STREAM_PROMPTS + req->generation, req->n,
           cls_fmt_shortest(req->temperature, 1, t, sizeof t), req->top_k,
           cls_fmt_shortest(req->top_p, 1, p, sizeof p), CLS_SYNTH_BATCH);
}

/* ------------------------------------------------------------- words */

/* A set of words by their 64-bit hashes (open addressing; 0 marks an
 * empty slot): a collision of two words is negligible for counts. */
typedef struct {
  uint64_t *slot;
  size_t cap, n;
  int failed; /* out of memory: the counts are not to be trusted */
} word_set;

static uint64_t slot_of(uint64_t h) {
  return h ? h : 1;
}

static int set_has(const word_set *s, uint64_t h) {
  if (!s->cap) return 0;
  h = slot_of(h);
  for (size_t i = (size_t)(h % s->cap);; i = (i + 1) % s->cap) {
    if (!s->slot[i]) return 0;
    if (s->slot[i] == h) return 1;
  }
}

static void set_add(word_set *s, uint64_t h);

/* Doubles the table (starting at 1024 slots) and re-inserts. */
static void set_grow(word_set *s) {
  word_set bigger = {calloc(s->cap ? 2 * s->cap : 1024, sizeof(uint64_t)), s->cap ? 2 * s->cap : 1024, 0, 0};
  if (!bigger.slot) {
    s->failed = 1;
    return;
  }
  for (size_t i = 0; i < s->cap; i++)
    if (s->slot[i]) set_add(&bigger, s->slot[i]);
  free(s->slot);
  bigger.failed = s->failed;
  *s = bigger;
}

static void set_add(word_set *s, uint64_t h) {
  if (2 * (s->n + 1) > s->cap) set_grow(s);
  if (s->failed) return;
  h = slot_of(h);
  size_t i = (size_t)(h % s->cap);
  while (s->slot[i] && s->slot[i] != h) i = (i + 1) % s->cap;
  if (!s->slot[i]) s->slot[i] = h, s->n++;
}

static int is_letter(int32_t c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Whole words of a stream of bytes: maximal runs of letters, case-folded,
 * with a non-letter on both sides (a word cut by the prompt, the window's
 * end or the start of the text is not whole). */
typedef struct {
  uint64_t h;
  int in_word, whole, after_gap;
} word_scan;

/* after_gap: the byte before the first is known and not a letter. */
static void scan_start(word_scan *w, int after_gap) {
  w->in_word = 0;
  w->after_gap = after_gap;
}

/* Feeds byte c: 1 with the word's hash in *h when c ends a whole word. */
static int scan_byte(word_scan *w, int32_t c, uint64_t *h) {
  if (is_letter(c)) {
    if (!w->in_word) w->in_word = 1, w->whole = w->after_gap, w->h = 14695981039346656037ULL;
    w->h = (w->h ^ (uint64_t)(c | 0x20)) * 1099511628211ULL;
    return 0;
  }
  const int ended = w->in_word && w->whole;
  if (ended) *h = w->h;
  w->in_word = 0;
  w->after_gap = 1;
  return ended;
}

/* The whole words of a window's continuation, bytes P .. W - 1 (P >= 1). */
static void add_words(word_set *s, const int32_t *row, size_t P, size_t W) {
  word_scan w;
  uint64_t h;
  scan_start(&w, !is_letter(row[P - 1]));
  for (size_t k = P; k < W; k++)
    if (scan_byte(&w, row[k], &h)) set_add(s, h);
}

/* ------------------------------------------------------------- stats */

typedef struct {
  uint64_t real[CLS_TEXT_VOCAB], generated[CLS_TEXT_VOCAB]; /* byte counts of the continuations */
  word_set words_real, words_generated;
  double nll_generated, nll_real; /* sums over continuation bytes */
  uint64_t scored;                /* continuation bytes scored (0: not measured) */
} stats;

static void stats_free(stats *st) {
  free(st->words_real.slot);
  free(st->words_generated.slot);
}

/* The continuations (bytes P .. T) of n rows of W bytes, real and
 * generated, counted. */
static void stats_add(stats *st, const int32_t *real, const int32_t *rows, size_t n, size_t W, size_t P) {
  for (size_t r = 0; r < n; r++) {
    const int32_t *a = real + r * W, *g = rows + r * W;
    for (size_t k = P; k < W; k++) st->real[a[k]]++, st->generated[g[k]]++;
    add_words(&st->words_real, a, P, W);
    add_words(&st->words_generated, g, P, W);
  }
}

/* The distinct generated words that the training split lacks. */
static cls_status words_unseen(const cls_text *text, const word_set *generated, uint64_t *out) {
  const uint8_t *bytes = cls_text_bytes(text, CLS_SPLIT_TRAIN);
  const size_t n = cls_text_size(text, CLS_SPLIT_TRAIN);
  word_set known = {0};
  word_scan w;
  uint64_t h;
  scan_start(&w, 0);
  for (size_t k = 0; k < n && !known.failed; k++)
    if (scan_byte(&w, bytes[k], &h)) set_add(&known, h);
  uint64_t unseen = 0;
  for (size_t i = 0; i < generated->cap && !known.failed; i++)
    unseen += generated->slot[i] && !set_has(&known, generated->slot[i]);
  const int failed = known.failed;
  free(known.slot);
  *out = unseen;
  return failed ? CLS_ERR_OUT_OF_MEMORY : CLS_OK;
}

/* corpora/<teacher>.json from the stats. */
static cls_status write_meta(const cls_synth_request *req, const char *key, const cls_text *text,
                             uint64_t checksum, size_t W, stats *st, double seconds, cls_synth_result *res,
                             char *err, size_t err_len) {
  cls_corpus_text m_text = {.nll_generated = st->scored ? st->nll_generated / (double)st->scored : NAN,
                            .nll_real = st->scored ? st->nll_real / (double)st->scored : NAN,
                            .words_real = st->words_real.n,
                            .words_generated = st->words_generated.n};
  if (st->words_real.failed || st->words_generated.failed ||
      words_unseen(text, &st->words_generated, &m_text.words_unseen) != CLS_OK)
    return cls_errf(err, err_len, CLS_ERR_OUT_OF_MEMORY, "out of host memory for the words of %s", req->meta_path);
  cls_corpus_value v[CLS_TEXT_VOCAB];
  size_t n = 0;
  for (size_t b = 0; b < CLS_TEXT_VOCAB; b++)
    if (st->real[b] || st->generated[b]) v[n++] = (cls_corpus_value){b, st->real[b], st->generated[b]};
  cls_corpus_meta m = {.teacher = req->teacher_id,
                       .corpus = cls__synth_corpus_name(req),
                       .checksum = checksum,
                       .n = req->n,
                       .length = W,
                       .vocab = CLS_TEXT_VOCAB,
                       .key = key,
                       .text = &m_text,
                       .values_of = "byte",
                       .values = v,
                       .n_values = n,
                       .seconds = seconds,
                       .device = req->device_name};
  snprintf(res->summary, sizeof res->summary,
           "the teacher's log-loss %.3f nats/byte on its continuations, %.3f on the real ones; distinct words "
           "%llu written, %llu in the real text, %llu of them unseen in training",
           m_text.nll_generated, m_text.nll_real, (unsigned long long)m_text.words_generated,
           (unsigned long long)m_text.words_real, (unsigned long long)m_text.words_unseen);
  return cls_corpus_meta_write(req->meta_path, &m, err, err_len);
}

/* ---------------------------------------------------------- generate */

typedef struct {
  const cls_synth_request *req;
  const cls_text *text;
  cls_gpt *gpt;
  cls_gpt_infer *inf;
  cls_gpt_sample_config cfg;
  size_t T, P, G;            /* context, prompt, generated bytes (T + 1 - P) */
  int32_t *real;             /* CLS_SYNTH_BATCH x (T + 1): the real windows */
  int32_t *prompts, *out;    /* CLS_SYNTH_BATCH x P; x G */
  int32_t *inputs, *targets; /* SCORE_BATCH x T */
  stats st;
} generator;

/* The real windows first .. first + n - 1 of the generation's stream. */
static cls_status real_windows(const generator *g, uint64_t first, size_t n, int32_t *out, char *err,
                               size_t err_len) {
  return cls_text_windows(g->text, CLS_SPLIT_TRAIN, g->req->seed, STREAM_PROMPTS + g->req->generation, first, n,
                          out, err, err_len);
}

/* Adds the teacher's summed negative log-likelihood of the continuations
 * (targets of positions P - 1 .. T - 1) of n windows to *sum. */
static cls_status score(generator *g, const int32_t *windows, size_t n, double *sum) {
  const size_t T = g->T, W = T + 1;
  for (size_t at = 0; at < n; at += SCORE_BATCH) {
    const size_t B = n - at < SCORE_BATCH ? n - at : SCORE_BATCH;
    for (size_t b = 0; b < B; b++) {
      const int32_t *w = windows + (at + b) * W;
      memcpy(g->inputs + b * T, w, T * sizeof *w);
      for (size_t t = 0; t < T; t++) g->targets[b * T + t] = t + 1 >= g->P ? w[t + 1] : CLS_IGNORE_TARGET;
    }
    float loss;
    cls_status s = cls_gpt_forward(g->gpt, g->inputs, g->targets, B, T, 0, &loss);
    if (s != CLS_OK) return s;
    *sum += (double)loss * (double)(B * g->G);
  }
  return CLS_OK;
}

/* Windows first .. first + n - 1 (n <= CLS_SYNTH_BATCH) continued by the
 * teacher into rows (cls__synth_fill), counted and scored. */
static cls_status continue_windows(void *user, uint64_t first, size_t n, int32_t *rows, char *err,
                                   size_t err_len) {
  generator *g = user;
  const size_t W = g->T + 1, P = g->P, G = g->G;
  cls_status s = real_windows(g, first, n, g->real, err, err_len);
  if (s != CLS_OK) return s;
  for (size_t b = 0; b < n; b++) memcpy(g->prompts + b * P, g->real + b * W, P * sizeof *g->prompts);
  g->cfg.first_sequence = ((uint64_t)g->req->generation << 40) + first;
  s = cls_gpt_infer_sample(g->inf, &g->cfg, g->prompts, n, P, G, g->out, NULL);
  if (s != CLS_OK) return s; /* the context has the message */
  for (size_t b = 0; b < n; b++) {
    memcpy(rows + b * W, g->prompts + b * P, P * sizeof *rows);
    memcpy(rows + b * W + P, g->out + b * G, G * sizeof *rows);
  }
  if (g->req->stop && *g->req->stop) return CLS_OK;
  stats_add(&g->st, g->real, rows, n, W, P);
  s = score(g, rows, n, &g->st.nll_generated);
  if (s == CLS_OK) s = score(g, g->real, n, &g->st.nll_real);
  if (s == CLS_OK) g->st.scored += (uint64_t)(n * G);
  return s;
}

static cls_status generate(cls_context *ctx, generator *g, const char *key, cls_synth_result *res, char *err,
                           size_t err_len) {
  const double t0 = cls_now();
  const cls_synth_request *req = g->req;
  const size_t T = g->T, W = T + 1;
  char what[96];
  snprintf(what, sizeof what, "windows of %zu bytes", W);
  cls_status s = cls__synth_teacher(ctx, req, CLS_TEXT_VOCAB, T, SCORE_BATCH, T, what, &g->gpt, err, err_len);
  if (s != CLS_OK) return s;
  s = cls_gpt_infer_create(g->gpt, CLS_SYNTH_BATCH, &g->inf);
  int32_t *rows = malloc(CLS_SYNTH_BATCH * W * sizeof *rows);
  g->real = malloc(CLS_SYNTH_BATCH * W * sizeof *g->real);
  g->prompts = malloc(CLS_SYNTH_BATCH * g->P * sizeof *g->prompts);
  g->out = malloc(CLS_SYNTH_BATCH * g->G * sizeof *g->out);
  g->inputs = malloc(SCORE_BATCH * T * sizeof *g->inputs);
  g->targets = malloc(SCORE_BATCH * T * sizeof *g->targets);
  if (s != CLS_OK)
    snprintf(err, err_len, "the teacher's sampler: %s", cls_last_error(ctx));
  else if (!rows || !g->real || !g->prompts || !g->out || !g->inputs || !g->targets)
    s = cls_errf(err, err_len, CLS_ERR_OUT_OF_MEMORY, "out of host memory making %s", req->corpus_path);
  cls__synth_sample_config(req, &g->cfg);
  uint64_t checksum = 0;
  if (s == CLS_OK)
    s = cls__synth_write(ctx, req, key, W, CLS_TEXT_VOCAB, CLS_SYNTH_BATCH, rows, continue_windows, g, res,
                         &checksum, err, err_len);
  if (s == CLS_OK && !res->stopped) {
    res->seconds = cls_now() - t0;
    res->checksum = checksum;
    res->n = req->n;
    s = write_meta(req, key, g->text, checksum, W, &g->st, res->seconds, res, err, err_len);
  }
  free(rows);
  free(g->real);
  free(g->prompts);
  free(g->out);
  free(g->inputs);
  free(g->targets);
  cls_gpt_infer_destroy(g->inf);
  cls_gpt_destroy(g->gpt);
  return s;
}

/* An existing corpus: whole, of this request; its meta file written
 * again (without the teacher's scores) when a kill came between the two
 * renames. */
static cls_status reuse(generator *g, const char *key, cls_synth_result *res, char *err, size_t err_len) {
  const cls_synth_request *req = g->req;
  const size_t W = g->T + 1;
  cls_corpus c;
  cls_status s = cls__synth_read_same(req, key, W, CLS_TEXT_VOCAB, &c, err, err_len);
  if (s != CLS_OK) return s;
  res->reused = 1;
  res->checksum = c.checksum;
  res->n = c.n;
  if (access(req->meta_path, F_OK) != 0) {
    g->real = malloc(CLS_SYNTH_BATCH * W * sizeof *g->real);
    if (!g->real)
      s = cls_errf(err, err_len, CLS_ERR_OUT_OF_MEMORY, "out of host memory checking %s", req->corpus_path);
    for (uint64_t first = 0; s == CLS_OK && first < c.n; first += CLS_SYNTH_BATCH) {
      const size_t n = c.n - first < CLS_SYNTH_BATCH ? (size_t)(c.n - first) : CLS_SYNTH_BATCH;
      s = real_windows(g, first, n, g->real, err, err_len);
      if (s == CLS_OK) stats_add(&g->st, g->real, c.tokens + first * W, n, W, g->P);
    }
    if (s == CLS_OK) s = write_meta(req, key, g->text, c.checksum, W, &g->st, NAN, res, err, err_len);
    free(g->real);
  }
  cls_corpus_free(&c);
  return s;
}

cls_status cls__text_synthesize(cls_context *ctx, const cls_task_spec *spec, const cls_synth_request *req,
                                cls_synth_result *res, char *err, size_t err_len) {
  memset(res, 0, sizeof *res);
  cls_status s = cls__synth_check_request(req, err, err_len);
  if (s != CLS_OK) return s;
  generator g = {.req = req, .T = spec->context, .P = cls__text_prompt_bytes(spec)};
  if (g.P > g.T) {
    snprintf(err, err_len, "`prompt_bytes` %zu: at most the context, %zu", g.P, g.T);
    return CLS_ERR_INVALID_SIZE;
  }
  g.G = g.T + 1 - g.P;
  cls_text_config tc;
  cls__text_config(spec, &tc);
  cls_text *text = NULL;
  s = cls_text_create(&tc, &text, err, err_len);
  if (s != CLS_OK) return s;
  g.text = text;
  char key[2048];
  make_key(spec, text, g.P, req, key, sizeof key);
  if (access(req->corpus_path, F_OK) == 0)
    s = reuse(&g, key, res, err, err_len);
  else
    s = generate(ctx, &g, key, res, err, err_len);
  stats_free(&g.st);
  cls_text_destroy(text);
  return s;
}
