/*
 * src/data/zipf.c — the synthetic Zipf-law corpus: a vocabulary of
 * pronounceable pseudo-words (frequent words are short, as in real language)
 * drawn with probability ~ rank^-s and set in sentences with capitals,
 * commas, full stops and paragraphs, so a byte-level model has structure to
 * learn at the letter, word and sentence scale.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/rng.h"
#include "data/text.h"

enum { STREAM_VOCAB = 0x7a00, STREAM_WORDS = 0x7a01, STREAM_LAYOUT = 0x7a02 };

#define MAX_WORD 16

static const char consonants[] = "bcdfghjklmnprstvwz";
static const char vowels[] = "aeiouy";

/* Word `rank`, draw `attempt`: 1-3 letters more than log2(rank + 2), letters
 * alternating consonant / vowel from a random start. */
static size_t make_word(cls_rng r, size_t rank, uint32_t attempt, char *w) {
  uint32_t base = attempt * 64u;
  size_t len = 1 + (size_t)log2((double)rank + 2.0) + (size_t)cls_rng_below(r, rank, base, 3);
  if (len > MAX_WORD) len = MAX_WORD;
  int vowel = cls_rng_uniform(r, rank, base + 1) < 0.4;
  for (size_t k = 0; k < len; k++, vowel = !vowel) {
    /* The vowel set's last letter (y) is rarer than the others. */
    if (vowel)
      w[k] = vowels[cls_rng_below(r, rank, base + 2 + (uint32_t)k,
                                  cls_rng_uniform(r, rank, base + 40) < 0.9 ? 5 : 6)];
    else
      w[k] = consonants[cls_rng_below(r, rank, base + 2 + (uint32_t)k, sizeof consonants - 1)];
  }
  return len;
}

static uint64_t hash_word(const char *w, size_t n) {
  uint64_t h = 1469598103934665603ull;
  for (size_t k = 0; k < n; k++) h = (h ^ (unsigned char)w[k]) * 1099511628211ull;
  return h;
}

typedef struct {
  char *text;   /* vocab x MAX_WORD */
  uint8_t *len; /* vocab */
  double *cdf;  /* vocab: cumulative probability, last = 1 */
} vocabulary;

/* Builds distinct words: a repeat is redrawn with the next attempt. */
static int vocab_make(uint64_t seed, size_t v, double s, vocabulary *voc) {
  size_t cap = 1;
  while (cap < 2 * v) cap *= 2;
  voc->text = malloc(v * MAX_WORD);
  voc->len = malloc(v);
  voc->cdf = malloc(v * sizeof *voc->cdf);
  size_t *slot = malloc(cap * sizeof *slot); /* index + 1, 0 = empty */
  if (!voc->text || !voc->len || !voc->cdf || !slot) {
    free(slot);
    return 0;
  }
  memset(slot, 0, cap * sizeof *slot);
  cls_rng r = cls_rng_make(seed, STREAM_VOCAB);
  for (size_t i = 0; i < v; i++) {
    char *w = voc->text + i * MAX_WORD;
    for (uint32_t attempt = 0;; attempt++) {
      size_t n = make_word(r, i, attempt, w);
      size_t h = (size_t)hash_word(w, n) & (cap - 1);
      int dup = 0;
      while (slot[h]) {
        size_t o = slot[h] - 1;
        if (voc->len[o] == n && memcmp(voc->text + o * MAX_WORD, w, n) == 0) {
          dup = 1;
          break;
        }
        h = (h + 1) & (cap - 1);
      }
      if (dup) continue;
      slot[h] = i + 1;
      voc->len[i] = (uint8_t)n;
      break;
    }
  }
  free(slot);
  double acc = 0.0;
  for (size_t i = 0; i < v; i++) voc->cdf[i] = (acc += pow((double)(i + 1), -s));
  for (size_t i = 0; i < v; i++) voc->cdf[i] /= acc;
  voc->cdf[v - 1] = 1.0;
  return 1;
}

static size_t draw_rank(const vocabulary *voc, size_t v, double u) {
  return cls_cdf_find(voc->cdf, 0, v - 1, u);
}

/* Layout decisions of word i (all drawn from STREAM_LAYOUT at counter i). */
enum { L_SENTENCE_LEN, L_COMMA, L_END, L_PARAGRAPH };

cls_status cls_zipf_corpus(uint64_t seed, size_t vocab, double exponent, size_t n, uint8_t *out, char *err,
                           size_t err_len) {
  vocabulary voc = {0};
  if (!out) return cls_errf(err, err_len, CLS_ERR_NULL_ARGUMENT, "cls_zipf_corpus: out is NULL");
  if (vocab == 0)
    return cls_errf(err, err_len, CLS_ERR_INVALID_SIZE, "cls_zipf_corpus: vocab is 0; use at least 1 word");
  if (!(exponent > 0.0 && exponent <= 5.0))
    return cls_errf(err, err_len, CLS_ERR_INVALID_VALUE,
                    "cls_zipf_corpus: exponent %g is out of range; use a value in (0, 5]", exponent);
  if (!vocab_make(seed, vocab, exponent, &voc)) {
    free(voc.text);
    free(voc.len);
    free(voc.cdf);
    return cls_errf(err, err_len, CLS_ERR_OUT_OF_MEMORY, "cls_zipf_corpus: no memory for %zu words", vocab);
  }
  cls_rng rw = cls_rng_make(seed, STREAM_WORDS), rl = cls_rng_make(seed, STREAM_LAYOUT);
  size_t pos = 0, left_in_sentence = 0;
  for (uint64_t i = 0; pos < n; i++) {
    int first = left_in_sentence == 0;
    if (first) left_in_sentence = 4 + (size_t)cls_rng_below(rl, i, L_SENTENCE_LEN, 13);
    size_t k = draw_rank(&voc, vocab, cls_rng_uniform(rw, i, 0));
    const char *w = voc.text + k * MAX_WORD;
    for (size_t c = 0; c < voc.len[k] && pos < n; c++) {
      char ch = w[c];
      if (first && c == 0) ch = (char)(ch - 'a' + 'A');
      out[pos++] = (uint8_t)ch;
    }
    left_in_sentence--;
    if (left_in_sentence == 0) {
      double u = cls_rng_uniform(rl, i, L_END);
      if (pos < n) out[pos++] = (uint8_t)(u < 0.85 ? '.' : u < 0.95 ? '?' : '!');
      if (pos < n) out[pos++] = (uint8_t)(cls_rng_uniform(rl, i, L_PARAGRAPH) < 0.2 ? '\n' : ' ');
    } else {
      if (pos < n && cls_rng_uniform(rl, i, L_COMMA) < 0.08) out[pos++] = ',';
      if (pos < n) out[pos++] = ' ';
    }
  }
  free(voc.text);
  free(voc.len);
  free(voc.cdf);
  return CLS_OK;
}
