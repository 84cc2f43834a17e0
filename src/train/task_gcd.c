/*
 * src/train/task_gcd.c — the task `gcd`: a GPT learns the greatest common
 * divisor of two numbers written in base B (data/gcd.h, Charton's
 * encoding), trained on the answer tokens only (the question's targets
 * are CLS_IGNORE_TARGET), and measured on held-out real pairs: the loss of
 * the answer tokens, the share of pairs whose whole answer it gets right,
 * and both per gcd value (points/<id>.outcomes.csv), since P(gcd = k) ~
 * 1/k^2 makes the large gcds rare and the last to be learned.
 *
 * Spec fields: `base`, `bound`, `context` (must hold the 3 d + 3 positions
 * of a sequence, d the bound's digits), `train_pairs`, `eval_pairs`.
 *
 * Where pairs come from (every one a pure function of seeds and indices,
 * so a resumed or sharded run draws the same batches):
 *  - training, train_pairs = 0: pair step B + b of the run seed's stream
 *    "train" (a fresh pair at every draw);
 *  - training, train_pairs = n: the training set is pairs 0 .. n-1 of
 *    data_seed's stream "train", and row b of step `step` takes the pair
 *    the run seed's stream "pick" draws for (step, b);
 *  - evaluation: pairs 0, 1, ... of data_seed's stream "eval", the same for
 *    every run seed and every evaluation (batch i holds pairs i B .. i B +
 *    B - 1; the final report the first eval_pairs).
 * The streams differ, so no Philox counter of the evaluation is one of
 * training (for a small bound equal pairs still occur in both: the space
 * has bound^2 pairs). The training pairs are a cls_gcd_source, so a corpus
 * of a previous model's answers can take the real sampler's place.
 *
 * Generations (train/synth.h, synth_gcd.c): with spec->corpus, training
 * example i (= step B + b, fresh examples only) is row i of the corpus, a
 * previous model's question and answer tokens as it wrote them (a
 * malformed answer is trained on as it is: that is what the model wrote),
 * unless the run seed's stream "mix" draws a uniform number below
 * corpus_real_fraction (pi) for i: then it is the real pair i of the
 * fresh stream, the pair generation 0 trains on at i. So pi = 1 is
 * generation 0's data, and every draw is a pure function of (seed, i).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/fmt.h"
#include "core/rng.h"
#include "data/gcd.h"
#include "nn/gpt.h"
#include "rundir/rundir.h"
#include "task_internal.h"

/* Philox streams of the task ("gcdt", "gcdp", "gcde"). */
enum {
  STREAM_TRAIN = 0x67636474u,
  STREAM_PICK = 0x67636470u,
  STREAM_EVAL = 0x67636465u,
  STREAM_MIX = 0x6763646du /* "gcdm" */
};

/* The exact law of the gcd is counted up to this bound (memory O(bound));
 * above it the table's `expected` is the limit 6 / (pi^2 k^2). */
#define EXACT_LAW_MAX_BOUND ((uint64_t)1 << 22)

typedef struct {
  uint64_t g;
  float loss; /* mean over the answer's tokens */
  int correct;
} scored;

typedef struct {
  cls_gpt *gpt;
  cls_gcd_format f;
  size_t B, T, V; /* batch, positions (length - 1), vocabulary */
  size_t depth;
  uint64_t seed, data_seed;
  cls_gcd_source train; /* the training pairs */
  cls_corpus corpus;    /* generations: a previous model's sequences (n = 0: none) */
  double real_fraction; /* pi: the share of real examples beside the corpus */
  size_t eval_pairs;
  int32_t *seq, *inputs, *targets; /* B length; B T; B T */
  size_t *eq;                      /* each row's '=' position */
  cls_gcd_pair *pairs;             /* the batch's pairs */
  float *logits, *losses;          /* read back by the report: B T V; B T */
  scored *scores;                  /* eval_pairs */
  cls_outcome_row *rows;           /* the report's table */
} gcd_task;

/* ------------------------------------------------------------ the model */

/* The vocabulary: the base's digits and the four symbols (data/gcd.h). */
static size_t vocab_of(const cls_task_spec *spec) {
  return spec->base + 4;
}

/* The base and bound first (the vocabulary follows from the base), then
 * the GPT's own check. */
static cls_status gpt_check(const cls_task_spec *spec, char *err, size_t err_len) {
  cls_gcd_format f;
  cls_status s = cls_gcd_format_make(spec->base, spec->bound, &f, err, err_len);
  return s == CLS_OK ? cls__task_gpt_check(spec, vocab_of(spec), err, err_len) : s;
}

static void gpt_count(const cls_task_spec *spec, size_t width, size_t depth, double *n, double *n_embed) {
  cls__task_gpt_count(spec, vocab_of(spec), width, depth, n, n_embed);
}

static const cls_model_info gpt_model = {
    .name = "gpt", .count_params = gpt_count, .check = gpt_check, .has_heads = 1};

/* ------------------------------------------------------------- batches */

/* Row b of seq into inputs and targets: the targets of the question (and
 * of the padding) ignored, those of the answer kept: the `answer` tokens
 * after '=' at position eq, predicted from '=' on. */
static void set_row(gcd_task *x, size_t b, size_t eq, size_t answer) {
  const size_t T = x->T;
  const int32_t *seq = x->seq + b * x->f.length;
  int32_t *in = x->inputs + b * T, *tg = x->targets + b * T;
  x->eq[b] = eq;
  memcpy(in, seq, T * sizeof *in);
  for (size_t t = 0; t < T; t++) tg[t] = t >= eq && t < eq + answer ? seq[t + 1] : CLS_IGNORE_TARGET;
}

/* The n pairs of pairs[] as rows 0 .. n-1 (the answer: g's digits and EOS). */
static void encode_rows(gcd_task *x, size_t n) {
  for (size_t b = 0; b < n; b++) {
    const size_t eq = cls_gcd_encode(&x->f, &x->pairs[b], x->seq + b * x->f.length);
    set_row(x, b, eq, cls_gcd_digits(x->pairs[b].g, x->f.base) + 1);
  }
}

/* Row b from a corpus sequence: the answer is what the teacher wrote
 * after '=', up to and with its first EOS, else to the end of the row. */
static void corpus_row(gcd_task *x, size_t b, const int32_t *from) {
  const size_t L = x->f.length;
  int32_t *seq = x->seq + b * L;
  memcpy(seq, from, L * sizeof *seq);
  size_t eq = 0;
  while (eq < L && seq[eq] != x->f.eq) eq++; /* the question is ours: '=' is there */
  size_t end = eq + 1;
  while (end < L && seq[end] != x->f.eos) end++;
  x->pairs[b] = (cls_gcd_pair){0, 0, 0};
  set_row(x, b, eq, (end < L ? end + 1 : L) - eq - 1);
}

static cls_status train_batch(cls_train_task *t, uint64_t step) {
  gcd_task *x = t->impl;
  const cls_rng pick = cls_rng_make(x->seed, STREAM_PICK), mix = cls_rng_make(x->seed, STREAM_MIX);
  for (size_t b = 0; b < x->B; b++) {
    const uint64_t i = x->train.n ? cls_rng_below(pick, step, (uint32_t)b, x->train.n) : step * x->B + b;
    const int32_t *row = NULL;
    if (x->corpus.n) {
      cls_status s = cls__task_corpus_pick(t, &x->corpus, x->real_fraction, mix, i, &row);
      if (s != CLS_OK) return s;
    }
    if (row) {
      corpus_row(x, b, row);
    } else {
      x->pairs[b] = cls_gcd_source_get(&x->train, i);
      set_row(x, b, cls_gcd_encode(&x->f, &x->pairs[b], x->seq + b * x->f.length),
              cls_gcd_digits(x->pairs[b].g, x->f.base) + 1);
    }
  }
  return CLS_OK;
}

/* Held-out pairs first .. first + n - 1. */
static void eval_rows(gcd_task *x, uint64_t first, size_t n) {
  for (size_t b = 0; b < n; b++) x->pairs[b] = cls_gcd_sample(x->f.bound, x->data_seed, STREAM_EVAL, first + b);
  encode_rows(x, n);
}

static cls_status train_step(cls_train_task *t, uint64_t step, float *loss) {
  gcd_task *x = t->impl;
  cls_status s = train_batch(t, step);
  if (s != CLS_OK) return s;
  s = cls_gpt_forward(x->gpt, x->inputs, x->targets, x->B, x->T, 1, loss);
  if (s == CLS_OK) s = cls_gpt_backward(x->gpt);
  return s;
}

static cls_status eval_batch(cls_train_task *t, uint64_t i, float *loss) {
  gcd_task *x = t->impl;
  eval_rows(x, i * x->B, x->B);
  return cls_gpt_forward(x->gpt, x->inputs, x->targets, x->B, x->T, 0, loss);
}

static cls_status coord_probe(cls_train_task *t, uint64_t step, float *out) {
  gcd_task *x = t->impl;
  cls_status s = train_batch(t, step);
  return s == CLS_OK ? cls__task_gpt_probe(x->gpt, x->inputs, x->targets, x->B, x->T, x->depth, out) : s;
}

/* ------------------------------------------------------------ the report */

/* Scores the n rows of the last forward pass into sc: each answer's mean
 * token loss, and whether every answer token is the argmax of its logits
 * (teacher-forced: then greedy decoding writes the same answer). */
static void score_rows(gcd_task *x, size_t n, scored *sc) {
  const size_t T = x->T, V = x->V;
  for (size_t b = 0; b < n; b++) {
    double sum = 0;
    size_t count = 0;
    int correct = 1;
    for (size_t t = 0; t < T; t++) {
      const int32_t want = x->targets[b * T + t];
      if (want == CLS_IGNORE_TARGET) continue;
      const float *row = x->logits + (b * T + t) * V;
      size_t best = 0;
      for (size_t v = 1; v < V; v++)
        if (row[v] > row[best]) best = v;
      correct &= (int32_t)best == want;
      sum += x->losses[b * T + t];
      count++;
    }
    sc[b].g = x->pairs[b].g;
    sc[b].loss = (float)(count ? sum / (double)count : 0.0);
    sc[b].correct = correct;
  }
}

static int by_gcd(const void *a, const void *b) {
  const uint64_t x = ((const scored *)a)->g, y = ((const scored *)b)->g;
  return x < y ? -1 : x > y;
}

/* The table, one row per gcd value found, with its probability. */
static cls_status tabulate(cls_train_task *t, size_t *n_rows) {
  gcd_task *x = t->impl;
  const size_t n = x->eval_pairs;
  qsort(x->scores, n, sizeof *x->scores, by_gcd);
  size_t k = 0;
  for (size_t i = 0; i < n; i++) {
    if (!k || x->rows[k - 1].value != x->scores[i].g) {
      x->rows[k] = (cls_outcome_row){x->scores[i].g, 0, 0, 0.0, NAN};
      k++;
    }
    cls_outcome_row *r = &x->rows[k - 1];
    r->examples++;
    r->correct += (uint64_t)x->scores[i].correct;
    r->loss += x->scores[i].loss;
  }
  for (size_t i = 0; i < k; i++) x->rows[i].loss /= (double)x->rows[i].examples;
  *n_rows = k;
  const uint64_t kmax = k ? x->rows[k - 1].value : 0;
  if (!k) return CLS_OK;
  if (x->f.bound > EXACT_LAW_MAX_BOUND) {
    for (size_t i = 0; i < k; i++) x->rows[i].expected = cls_gcd_asymptote(x->rows[i].value);
    return CLS_OK;
  }
  double *law = malloc(kmax * sizeof *law);
  if (!law) return cls__task_data_fail(t, CLS_ERR_OUT_OF_MEMORY, "out of host memory for the gcd law");
  char err[256];
  cls_status s = cls_gcd_distribution(x->f.bound, (size_t)kmax, law, err, sizeof err);
  if (s == CLS_OK)
    for (size_t i = 0; i < k; i++) x->rows[i].expected = law[x->rows[i].value - 1];
  free(law);
  return s == CLS_OK ? CLS_OK : cls__task_data_fail(t, s, err);
}

static cls_status report(cls_train_task *t, cls_task_report *out) {
  gcd_task *x = t->impl;
  cls_status s = CLS_OK;
  for (size_t first = 0; first < x->eval_pairs && s == CLS_OK; first += x->B) {
    const size_t n = x->eval_pairs - first < x->B ? x->eval_pairs - first : x->B;
    float loss;
    eval_rows(x, first, n);
    s = cls_gpt_forward(x->gpt, x->inputs, x->targets, n, x->T, 0, &loss);
    if (s == CLS_OK) s = cls_gpt_read_logits(x->gpt, x->logits);
    if (s == CLS_OK) s = cls_gpt_read_losses(x->gpt, x->losses);
    if (s == CLS_OK) score_rows(x, n, x->scores + first);
  }
  if (s != CLS_OK) return s;
  /* Accuracy over pairs; the loss over answer tokens, as the eval loss. */
  double correct = 0, loss_sum = 0, tokens = 0, correct1 = 0, n1 = 0;
  for (size_t i = 0; i < x->eval_pairs; i++) {
    const double len = (double)(cls_gcd_digits(x->scores[i].g, x->f.base) + 1);
    correct += x->scores[i].correct;
    loss_sum += x->scores[i].loss * len;
    tokens += len;
    if (x->scores[i].g == 1) n1++, correct1 += x->scores[i].correct;
  }
  size_t n_rows = 0;
  s = tabulate(t, &n_rows);
  if (s != CLS_OK) return s;
  char f[4][40];
  snprintf(out->lines, sizeof out->lines,
           "eval_accuracy=%s\neval_answer_loss=%s\neval_accuracy_gcd1=%s\ngcd_values_seen=%zu\n",
           cls_fmt_shortest(correct / (double)x->eval_pairs, 0, f[0], 40),
           cls_fmt_shortest(loss_sum / tokens, 0, f[1], 40),
           cls_fmt_shortest(n1 ? correct1 / n1 : NAN, 0, f[2], 40), n_rows);
  out->value_name = "gcd";
  out->rows = x->rows;
  out->n_rows = n_rows;
  return CLS_OK;
}

/* -------------------------------------------------------------- the task */

static void release(void *impl) {
  gcd_task *x = impl;
  cls_gpt_destroy(x->gpt);
  free(x->seq);
  free(x->inputs);
  free(x->targets);
  free(x->eq);
  free(x->pairs);
  free(x->logits);
  free(x->losses);
  free(x->scores);
  free(x->rows);
  cls_corpus_free(&x->corpus);
}

static const cls__task_ops gcd_ops = {train_step, eval_batch, coord_probe, release};

static cls_status gcd_check(const cls_task_spec *spec, char *err, size_t err_len) {
  cls_gcd_format f;
  cls_status s = cls_gcd_format_make(spec->base, spec->bound, &f, err, err_len);
  if (s != CLS_OK) return s;
  if (f.length - 1 > spec->context) {
    snprintf(err, err_len,
             "`bound` %zu has %zu digits in base %zu: a question and its answer take %zu tokens (%zu positions), "
             "more than the context of %zu: raise `context` to %zu or lower `bound`",
             spec->bound, f.digits, spec->base, f.length, f.length - 1, spec->context, f.length - 1);
    return CLS_ERR_INVALID_SIZE;
  }
  if (!spec->batch) {
    snprintf(err, err_len, "`batch` must be at least 1");
    return CLS_ERR_INVALID_SIZE;
  }
  if (!spec->eval_pairs || spec->eval_pairs > ((size_t)1 << 24)) {
    snprintf(err, err_len, "`eval_pairs` %zu: use 1 to 2^24 held-out pairs", spec->eval_pairs);
    return CLS_ERR_INVALID_SIZE;
  }
  if (spec->corpus && spec->train_pairs) {
    snprintf(err, err_len,
             "`train_pairs` %zu: a corpus of a model's answers takes the place of fresh pairs (one pass over its "
             "sequences): use train_pairs = 0 with generations",
             spec->train_pairs);
    return CLS_ERR_INVALID_VALUE;
  }
  return cls__task_corpus_check(spec, err, err_len);
}

/* The data's accounting, the checkpoint key and the description. */
static void describe(cls_train_task *t, const cls_task_spec *spec, const cls_gpt_config *gc) {
  gcd_task *x = t->impl;
  t->tokens_per_step = (double)(x->B * x->T);
  t->model_flops_per_step = cls_gpt_flops_per_step(x->gpt, x->B, x->T);
  t->examples_per_step = (double)x->B;
  if (spec->train_pairs) {
    t->train_examples = (double)spec->train_pairs;
    t->train_tokens = (double)spec->train_pairs * (double)x->T;
  }
  char f[2][40];
  snprintf(t->key, sizeof t->key,
           "task=gcd\nmodel=gpt\nbase=%zu\nbound=%zu\nvocab=%zu\ncontext=%zu\nwidth=%zu\ndepth=%zu\nheads=%zu\n"
           "param=%s\nbase_width=%zu\ninit_std=%s\nweight_decay=%s\nbatch=%zu\nseed=%llu\ndata_seed=%llu\n"
           "train_pairs=%zu\neval_pairs=%zu\n",
           spec->base, spec->bound, gc->vocab, gc->context, gc->width, gc->depth, gc->heads,
           cls__task_param_name(gc->param), gc->base_width, cls_fmt_shortest(gc->init_std, 1, f[0], 40),
           cls_fmt_shortest(gc->weight_decay, 1, f[1], 40), x->B, (unsigned long long)spec->seed,
           (unsigned long long)spec->data_seed, spec->train_pairs, spec->eval_pairs);
  if (x->corpus.n) cls__task_key_corpus(t, &x->corpus, x->real_fraction);
  char pairs[64];
  if (x->corpus.n)
    snprintf(pairs, sizeof pairs, "a model's corpus, %g real", x->real_fraction);
  else if (spec->train_pairs)
    snprintf(pairs, sizeof pairs, "%zu training pairs", spec->train_pairs);
  else
    snprintf(pairs, sizeof pairs, "fresh pairs");
  snprintf(t->describe, sizeof t->describe, "gpt w%zu d%zu h%zu %s, batch %zu, on gcd base %zu bound %zu (%s)",
           gc->width, gc->depth, gc->heads, cls__task_param_name(gc->param), x->B, spec->base, spec->bound, pairs);
}

/* The format, the sources and the host buffers of a batch (the message in
 * err on failure; what was allocated is freed by release). */
static cls_status build_data(gcd_task *x, const cls_task_spec *spec, char *err, size_t err_len) {
  cls_status s = cls_gcd_format_make(spec->base, spec->bound, &x->f, err, err_len);
  if (s != CLS_OK) return s;
  x->B = spec->batch;
  x->T = x->f.length - 1;
  x->V = x->f.vocab;
  x->depth = spec->depth;
  x->seed = spec->seed;
  x->data_seed = spec->data_seed;
  x->eval_pairs = spec->eval_pairs;
  x->train = spec->train_pairs ? cls_gcd_source_real(spec->bound, spec->data_seed, STREAM_TRAIN, spec->train_pairs)
                               : cls_gcd_source_real(spec->bound, spec->seed, STREAM_TRAIN, 0);
  if (spec->corpus) {
    s = cls__task_corpus_open(spec, x->f.length, x->f.vocab, "base or bound", &x->corpus, err, err_len);
    if (s != CLS_OK) return s;
    x->real_fraction = spec->corpus_real_fraction;
  }
  const size_t B = x->B, T = x->T;
  x->seq = malloc(B * x->f.length * sizeof *x->seq);
  x->inputs = malloc(B * T * sizeof *x->inputs);
  x->targets = malloc(B * T * sizeof *x->targets);
  x->eq = malloc(B * sizeof *x->eq);
  x->pairs = malloc(B * sizeof *x->pairs);
  x->logits = malloc(B * T * x->V * sizeof *x->logits);
  x->losses = malloc(B * T * sizeof *x->losses);
  x->scores = malloc(x->eval_pairs * sizeof *x->scores);
  x->rows = malloc(x->eval_pairs * sizeof *x->rows);
  if (!x->seq || !x->inputs || !x->targets || !x->eq || !x->pairs || !x->logits || !x->losses || !x->scores ||
      !x->rows) {
    snprintf(err, err_len, "out of host memory for the gcd task's batches");
    return CLS_ERR_OUT_OF_MEMORY;
  }
  return CLS_OK;
}

static cls_status make(cls_context *ctx, const cls_task_spec *spec, cls_train_task **out, char *err,
                       size_t err_len) {
  cls_train_task *t;
  cls_status s = cls__task_begin(&cls__task_gcd, ctx, spec, sizeof(gcd_task), &gcd_ops, &t, err, err_len);
  if (s != CLS_OK) return s;
  gcd_task *x = t->impl;
  s = build_data(x, spec, err, err_len);
  if (s != CLS_OK) return cls__task_fail(t, s);
  cls_gpt_config gc;
  cls__task_gpt_config(spec, vocab_of(spec), spec->width, spec->depth, spec->heads, &gc);
  s = cls_gpt_create(ctx, &gc, x->B, x->T, spec->seed, &x->gpt);
  if (s != CLS_OK) return cls__task_model_fail(t, s, err, err_len);
  describe(t, spec, &gc);
  t->report = report;
  t->loss_ref = cls_gpt_loss_ref(x->gpt); /* the loop reads the loss while the next step runs */
  return cls__task_done(t, cls_gpt_params(x->gpt), cls_gpt_slabs(x->gpt), out);
}

static const char *const gcd_fields[] = {"base", "bound", "context", "train_pairs", "eval_pairs", NULL};

const cls_task_info cls__task_gcd = {.task = "gcd",
                                     .model = &gpt_model,
                                     .summary = "a GPT learns gcd(a, b) in base B, from the answer tokens",
                                     .fields = gcd_fields,
                                     .check = gcd_check,
                                     .make = make,
                                     .coord_layers = cls__gpt_coord_layers,
                                     .synth_check = cls__gcd_synth_check,
                                     .synthesize = cls__gcd_synthesize,
                                     .models = &cls__gcd_models};

/* ------------------------------------------- models side by side
 *
 * The gcd task for K GPTs of one shape (train/models.h): model k's
 * training pairs drawn with its own seed as it would alone (its fresh
 * stream, or its picks from the shared training set, and its mix), all K
 * run as one forward and backward pass; every model evaluates on the same
 * held-out pairs. A member's final report (the outcomes table) is made by
 * the group driver on the one-model task with the member's parameters. */

typedef struct {
  cls__gpt_group q; /* first: the shared group functions take it as the impl */
  gcd_task x;
  cls_train_task shell; /* a bare task around x, for the batch functions' errors */
  uint64_t bound, train_pairs;
} gcd_models;

static cls_status fill_train(void *impl, size_t k, uint64_t step);
static cls_status fill_eval(void *impl, size_t k, uint64_t i);

static void models_destroy(void *impl) {
  gcd_models *g = impl;
  if (!g) return;
  release(&g->x);
  cls__gpt_group_free(&g->q);
  free(g);
}

static cls_status models_create(cls_context *ctx, const cls_task_spec *spec, size_t K, const uint64_t *seeds,
                                void **out, char *err, size_t err_len) {
  *out = NULL;
  cls_status s = cls__task_check_spec(&cls__task_gcd, spec, err, err_len);
  if (s != CLS_OK) return s;
  gcd_models *g = calloc(1, sizeof *g);
  if (!g) {
    snprintf(err, err_len, "out of host memory");
    return CLS_ERR_OUT_OF_MEMORY;
  }
  g->shell.impl = &g->x;
  g->bound = spec->bound;
  g->train_pairs = spec->train_pairs;
  gcd_task *x = &g->x;
  s = build_data(x, spec, err, err_len);
  if (s == CLS_OK) s = cls__gpt_group_alloc(&g->q, K, x->B, x->T, seeds, err, err_len);
  if (s == CLS_OK) {
    cls_gpt_config gc;
    cls__task_gpt_config(spec, vocab_of(spec), spec->width, spec->depth, spec->heads, &gc);
    s = cls_gpt_create_models(ctx, &gc, K, x->B, x->T, seeds, &x->gpt);
    if (s != CLS_OK) snprintf(err, err_len, "%s", cls_last_error(ctx));
  }
  if (s != CLS_OK) {
    models_destroy(g);
    return s;
  }
  g->q.gpt = x->gpt;
  g->q.shell = &g->shell;
  g->q.in = x->inputs;
  g->q.tg = x->targets;
  g->q.fill_train = fill_train;
  g->q.fill_eval = fill_eval;
  *out = g;
  return CLS_OK;
}

/* Model k's batch of `step`: its seed's picks, fresh pairs and mix. */
static cls_status fill_train(void *impl, size_t k, uint64_t step) {
  gcd_models *g = impl;
  g->x.seed = g->q.seeds[k];
  if (!g->train_pairs) g->x.train = cls_gcd_source_real(g->bound, g->x.seed, STREAM_TRAIN, 0);
  return train_batch(&g->shell, step);
}

static cls_status fill_eval(void *impl, size_t k, uint64_t i) {
  (void)k;
  gcd_models *g = impl;
  eval_rows(&g->x, i * g->x.B, g->x.B);
  return CLS_OK;
}

static cls_status models_view(void *impl, size_t k, const cls_task_spec *spec, const cls_train_task *alone,
                              cls_train_task *view) {
  gcd_models *g = impl;
  if (k >= g->q.K) return CLS_ERR_INVALID_VALUE;
  cls_gpt_config gc;
  cls__task_gpt_config(spec, vocab_of(spec), spec->width, spec->depth, spec->heads, &gc);
  cls_task_spec mine = *spec;
  mine.seed = g->q.seeds[k];
  memset(view, 0, sizeof *view);
  view->impl = &g->x;
  describe(view, &mine, &gc); /* the key and description of model k alone */
  view->impl = NULL;
  view->ctx = alone->ctx;
  view->model_flops_per_step = alone->model_flops_per_step;
  cls__task_set_model(view, cls_gpt_params(g->x.gpt), cls_gpt_slabs(g->x.gpt));
  return CLS_OK;
}

const cls__models_ops cls__gcd_models = {models_create,
                                         models_destroy,
                                         cls__gpt_group_params,
                                         cls__gpt_group_slabs,
                                         cls__gpt_group_loss_ref,
                                         cls__gpt_group_tokens_per_step,
                                         cls__gpt_group_train_step,
                                         cls__gpt_group_evaluate,
                                         models_view};
