/*
 * src/data/text.c — text datasets: reading a file, the split, the sampler.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/file.h"
#include "core/rng.h"
#include "data/text.h"

enum { STREAM_TEXT_BATCH = 0x7b00 }; /* + split */

#define MAX_CONTEXT (1u << 20)
#define MAX_VOCAB   (1u << 22)
#define MAX_SYNTH   ((size_t)1 << 34)

struct cls_text {
  cls_text_config cfg; /* path is not kept */
  uint8_t *bytes;
  size_t n, n_train; /* train = [0, n_train), val = [n_train, n) */
};

void cls_text_config_default(cls_text_config *cfg) {
  memset(cfg, 0, sizeof *cfg);
  cfg->context = 64;
  cfg->val_fraction = 0.1;
  cfg->seed = 1;
  cfg->synth_bytes = (size_t)4 << 20;
  cfg->synth_vocab = 8192;
  cfg->zipf_exponent = 1.0;
}

/* The whole file, through core's reader, with this layer's messages (which
 * call failed, and what to do). */
static cls_status read_file(const char *path, uint8_t **out, size_t *n, char *err, size_t err_len) {
  const char *w = "cls_text_create";
  char why[512];
  char *data = NULL;
  cls_status st = cls_read_file(path, 0, &data, n, why, sizeof why);
  if (st == CLS_ERR_IO) {
    /* core says "cannot open|read PATH: reason"; the reason is what to keep */
    const char *at = strstr(why, path), *reason = at ? at + strlen(path) : "";
    reason = !strncmp(reason, ": ", 2) ? reason + 2 : why;
    if (!strncmp(why, "cannot open", 11))
      return cls_errf(err, err_len, st, "%s: cannot open text file '%s': %s; check the path", w, path, reason);
    return cls_errf(err, err_len, st, "%s: cannot read text file '%s': %s; check that it is a readable file", w,
                    path, reason);
  }
  if (st != CLS_OK) return cls_errf(err, err_len, st, "%s: %s", w, why);
  *out = (uint8_t *)data;
  return CLS_OK;
}

static cls_status check_config(const cls_text_config *c, char *err, size_t err_len) {
  const char *w = "cls_text_create";
  if (c->context == 0 || c->context > MAX_CONTEXT)
    return cls_errf(err, err_len, CLS_ERR_INVALID_SIZE, "%s: context %zu is out of range; use 1 .. %u bytes", w,
                    c->context, MAX_CONTEXT);
  if (!(c->val_fraction >= 0.0 && c->val_fraction <= 0.5))
    return cls_errf(err, err_len, CLS_ERR_INVALID_VALUE,
                    "%s: val_fraction %g is out of range; use 0 (no validation) .. 0.5", w, c->val_fraction);
  if (c->path) return CLS_OK;
  if (c->synth_vocab == 0 || c->synth_vocab > MAX_VOCAB)
    return cls_errf(err, err_len, CLS_ERR_INVALID_SIZE, "%s: synth_vocab %zu is out of range; use 1 .. %u words",
                    w, c->synth_vocab, MAX_VOCAB);
  if (!(c->zipf_exponent > 0.0 && c->zipf_exponent <= 5.0))
    return cls_errf(err, err_len, CLS_ERR_INVALID_VALUE,
                    "%s: zipf_exponent %g is out of range; use a value in (0, 5] (1 is Zipf's law)", w,
                    c->zipf_exponent);
  size_t need = (c->val_fraction > 0 ? 2 : 1) * (c->context + 1);
  if (c->synth_bytes < need || c->synth_bytes > MAX_SYNTH)
    return cls_errf(err, err_len, CLS_ERR_INVALID_SIZE,
                    "%s: synth_bytes %zu is out of range; use %zu (a window of context + 1 bytes per split) "
                    ".. %zu",
                    w, c->synth_bytes, need, MAX_SYNTH);
  return CLS_OK;
}

cls_status cls_text_create(const cls_text_config *cfg, cls_text **out, char *err, size_t err_len) {
  const char *w = "cls_text_create";
  if (!cfg || !out) return cls_errf(err, err_len, CLS_ERR_NULL_ARGUMENT, "%s: %s is NULL", w, cfg ? "out" : "cfg");
  *out = NULL;
  cls_status st = check_config(cfg, err, err_len);
  if (st != CLS_OK) return st;
  uint8_t *bytes = NULL;
  size_t n = 0;
  const char *what = cfg->path;
  if (cfg->path) {
    st = read_file(cfg->path, &bytes, &n, err, err_len);
    if (st != CLS_OK) return st;
  } else {
    what = "the synthetic corpus";
    n = cfg->synth_bytes;
    bytes = malloc(n);
    if (!bytes) return cls_errf(err, err_len, CLS_ERR_OUT_OF_MEMORY, "%s: no memory for a %zu-byte corpus", w, n);
    st = cls_zipf_corpus(cfg->seed, cfg->synth_vocab, cfg->zipf_exponent, n, bytes, err, err_len);
    if (st != CLS_OK) {
      free(bytes);
      return st;
    }
  }
  size_t win = cfg->context + 1;
  /* The validation split is the last val_fraction of the bytes, but never
   * less than one window; the training split keeps the rest and must hold a
   * window too. */
  size_t n_val = 0;
  if (cfg->val_fraction > 0) {
    n_val = (size_t)llround(cfg->val_fraction * (double)n);
    if (n_val < win) n_val = win;
  }
  if (n == 0)
    st =
        cls_errf(err, err_len, CLS_ERR_FORMAT, "%s: text file '%s' is empty; give a file with some text", w, what);
  else if (n < win)
    st = cls_errf(err, err_len, CLS_ERR_FORMAT,
                  "%s: '%s' has %zu bytes, shorter than one window of context + 1 = %zu bytes; use a longer "
                  "file or a smaller context",
                  w, what, n, win);
  else if (n < n_val + win)
    st = cls_errf(err, err_len, CLS_ERR_FORMAT,
                  "%s: '%s' has %zu bytes, too short to split into training and validation windows of "
                  "context + 1 = %zu bytes (needs at least %zu); use a longer file, a smaller context or "
                  "val_fraction 0",
                  w, what, n, win, n_val + win);
  if (st != CLS_OK) {
    free(bytes);
    return st;
  }
  cls_text *t = calloc(1, sizeof *t);
  if (!t) {
    free(bytes);
    return cls_errf(err, err_len, CLS_ERR_OUT_OF_MEMORY, "%s: no memory", w);
  }
  t->cfg = *cfg;
  t->cfg.path = NULL;
  t->bytes = bytes;
  t->n = n;
  t->n_train = n - n_val;
  *out = t;
  return CLS_OK;
}

void cls_text_destroy(cls_text *t) {
  if (!t) return;
  free(t->bytes);
  free(t);
}

size_t cls_text_context(const cls_text *t) {
  return t->cfg.context;
}

size_t cls_text_size(const cls_text *t, cls_split split) {
  if (split == CLS_SPLIT_TRAIN) return t->n_train;
  if (split == CLS_SPLIT_VAL) return t->n - t->n_train;
  return 0;
}

const uint8_t *cls_text_bytes(const cls_text *t, cls_split split) {
  if (split == CLS_SPLIT_TRAIN) return t->bytes;
  if (split == CLS_SPLIT_VAL) return t->bytes + t->n_train;
  return NULL;
}

/* The split's bytes and window size for a sampler call, or the error
 * (shared by the two samplers: the same refusals). */
static cls_status sampler_args(const char *w, const cls_text *t, cls_split split, size_t count, const void *tokens,
                               size_t *n, char *err, size_t err_len) {
  if (!t || !tokens) return cls_errf(err, err_len, CLS_ERR_NULL_ARGUMENT, "%s: %s is NULL", w, t ? "tokens" : "t");
  if (split != CLS_SPLIT_TRAIN && split != CLS_SPLIT_VAL)
    return cls_errf(err, err_len, CLS_ERR_INVALID_VALUE, "%s: text has train and val splits only, not %s", w,
                    cls_split_name(split));
  *n = cls_text_size(t, split);
  if (*n == 0)
    return cls_errf(err, err_len, CLS_ERR_INVALID_SIZE,
                    "%s: the validation split is empty (val_fraction 0); set val_fraction > 0", w);
  if (count == 0 || count > UINT32_MAX)
    return cls_errf(err, err_len, CLS_ERR_INVALID_SIZE, "%s: batch %zu is out of range; use 1 .. %u", w, count,
                    UINT32_MAX);
  return CLS_OK;
}

static void copy_window(const uint8_t *src, size_t start, size_t win, int32_t *out) {
  for (size_t k = 0; k < win; k++) out[k] = src[start + k];
}

cls_status cls_text_batch(const cls_text *t, cls_split split, uint64_t seed, uint64_t step, size_t batch,
                          int32_t *tokens, char *err, size_t err_len) {
  size_t n;
  cls_status st = sampler_args("cls_text_batch", t, split, batch, tokens, &n, err, err_len);
  if (st != CLS_OK) return st;
  const size_t win = t->cfg.context + 1;
  const uint8_t *src = cls_text_bytes(t, split);
  cls_rng r = cls_rng_make(seed, STREAM_TEXT_BATCH + (uint32_t)split);
  for (size_t b = 0; b < batch; b++)
    copy_window(src, (size_t)cls_rng_below(r, step, (uint32_t)b, n - win + 1), win, tokens + b * win);
  return CLS_OK;
}

cls_status cls_text_windows(const cls_text *t, cls_split split, uint64_t seed, uint32_t stream, uint64_t first,
                            size_t count, int32_t *tokens, char *err, size_t err_len) {
  size_t n;
  cls_status st = sampler_args("cls_text_windows", t, split, count, tokens, &n, err, err_len);
  if (st != CLS_OK) return st;
  const size_t win = t->cfg.context + 1;
  const uint8_t *src = cls_text_bytes(t, split);
  cls_rng r = cls_rng_make(seed, stream);
  for (size_t k = 0; k < count; k++)
    copy_window(src, (size_t)cls_rng_below(r, first + k, 0, n - win + 1), win, tokens + k * win);
  return CLS_OK;
}
