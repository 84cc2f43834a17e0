/* src/rundir/corpus.c — see rundir.h: the synthetic corpora of a run
 * directory, corpora/<id>.bin and corpora/<id>.json. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/err.h"
#include "core/fault.h"
#include "core/fmt.h"
#include "rundir/json.h"
#include "rundir/rundir.h"

#define MAGIC        "CLSCORP1"
#define HEADER_WORDS 4 /* n, length, vocab, key_len */
/* A key is a few lines of settings; a larger one is a corrupt header. */
#define MAX_KEY 65536

static const uint64_t FNV_START = 0xcbf29ce484222325ULL;

static uint64_t fnv1a(uint64_t h, const unsigned char *p, size_t n) {
  for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 0x100000001b3ULL;
  return h;
}

/* Little-endian, whatever the host: the file means the same everywhere. */
static void put_u64(unsigned char *p, uint64_t v) {
  for (int i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t get_u64(const unsigned char *p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--) v = v << 8 | p[i];
  return v;
}

/* ------------------------------------------------------------ writing */

struct cls_corpus_writer {
  FILE *f;
  char *path, *tmp;
  uint64_t n, length, vocab, written;
  uint64_t sum;
  unsigned char *buf; /* one sequence's bytes */
};

/* Writes n bytes and adds them to the checksum; 0 on failure. */
static int put(cls_corpus_writer *w, const unsigned char *p, size_t n) {
  w->sum = fnv1a(w->sum, p, n);
  return fwrite(p, 1, n, w->f) == n;
}

void cls_corpus_writer_abandon(cls_corpus_writer *w) {
  if (!w) return;
  if (w->f) fclose(w->f);
  if (w->tmp) remove(w->tmp);
  free(w->path);
  free(w->tmp);
  free(w->buf);
  free(w);
}

static cls_status write_failed(cls_corpus_writer *w, int code, char *err, size_t err_len) {
  cls_status s = cls_errf(err, err_len, CLS_ERR_IO, "cannot write %s: %s", w->path, strerror(code));
  cls_corpus_writer_abandon(w);
  return s;
}

/* A failure CLSCALE_FAIL made (core/fault.h), said so. */
static cls_status injected_failure(cls_corpus_writer *w, cls_fault_kind kind, char *err, size_t err_len) {
  cls_status s = cls_errf(err, err_len, CLS_ERR_IO, "cannot write %s: %s (%s)", w->path,
                          strerror(kind == CLS_FAULT_WRITE ? ENOSPC : EIO), cls_fault_said(kind));
  cls_corpus_writer_abandon(w);
  return s;
}

cls_status cls_corpus_writer_open(const char *path, uint64_t n, uint64_t length, uint64_t vocab, const char *key,
                                  cls_corpus_writer **out, char *err, size_t err_len) {
  *out = NULL;
  const size_t key_len = strlen(key);
  if (!n || !length || !vocab || vocab > ((uint64_t)1 << 31) || key_len > MAX_KEY || length > ((uint64_t)1 << 24))
    return cls_errf(err, err_len, CLS_ERR_INVALID_SIZE,
                    "corpus %s: %llu sequences of %llu tokens over %llu (a key of %zu bytes) cannot be written",
                    path, (unsigned long long)n, (unsigned long long)length, (unsigned long long)vocab, key_len);
  cls_corpus_writer *w = calloc(1, sizeof *w);
  const size_t plen = strlen(path) + 32;
  if (w) {
    w->path = malloc(plen);
    w->tmp = malloc(plen);
    w->buf = malloc((size_t)length * 4);
  }
  if (!w || !w->path || !w->tmp || !w->buf) {
    cls_corpus_writer_abandon(w);
    return cls_errf(err, err_len, CLS_ERR_OUT_OF_MEMORY, "out of host memory writing %s", path);
  }
  snprintf(w->path, plen, "%s", path);
  /* The temporary name of core/file.h's writer, so that the sweep's
   * cleanup of a killed process's leftovers finds it. */
  snprintf(w->tmp, plen, "%s.tmp.%ld", path, (long)getpid());
  w->n = n;
  w->length = length;
  w->vocab = vocab;
  w->sum = FNV_START;
  w->f = fopen(w->tmp, "wb");
  if (!w->f) {
    const int code = errno;
    free(w->tmp);
    w->tmp = NULL; /* nothing to remove */
    return write_failed(w, code, err, err_len);
  }
  unsigned char head[8 + 8 * HEADER_WORDS];
  memcpy(head, MAGIC, 8);
  put_u64(head + 8, n);
  put_u64(head + 16, length);
  put_u64(head + 24, vocab);
  put_u64(head + 32, key_len);
  if (!put(w, head, sizeof head) || !put(w, (const unsigned char *)key, key_len))
    return write_failed(w, errno, err, err_len);
  *out = w;
  return CLS_OK;
}

cls_status cls_corpus_writer_append(cls_corpus_writer *w, const int32_t *tokens, size_t rows, char *err,
                                    size_t err_len) {
  if (rows > w->n - w->written) {
    cls_status s = cls_errf(err, err_len, CLS_ERR_INVALID_SIZE, "corpus %s: more than its %llu sequences", w->path,
                            (unsigned long long)w->n);
    cls_corpus_writer_abandon(w);
    return s;
  }
  for (size_t r = 0; r < rows; r++) {
    const int32_t *row = tokens + r * w->length;
    for (uint64_t t = 0; t < w->length; t++) {
      if (row[t] < 0 || (uint64_t)row[t] >= w->vocab) {
        cls_status s =
            cls_errf(err, err_len, CLS_ERR_INVALID_VALUE,
                     "corpus %s: sequence %llu has the token %ld, outside the vocabulary of %llu", w->path,
                     (unsigned long long)(w->written + r), (long)row[t], (unsigned long long)w->vocab);
        cls_corpus_writer_abandon(w);
        return s;
      }
      const uint32_t v = (uint32_t)row[t];
      for (int i = 0; i < 4; i++) w->buf[4 * t + (uint64_t)i] = (unsigned char)(v >> (8 * i));
    }
    if (!put(w, w->buf, (size_t)w->length * 4)) return write_failed(w, errno, err, err_len);
  }
  w->written += rows;
  return CLS_OK;
}

cls_status cls_corpus_writer_finish(cls_corpus_writer *w, uint64_t *checksum, char *err, size_t err_len) {
  if (w->written != w->n) {
    cls_status s = cls_errf(err, err_len, CLS_ERR_INVALID_SIZE, "corpus %s: %llu of its %llu sequences written",
                            w->path, (unsigned long long)w->written, (unsigned long long)w->n);
    cls_corpus_writer_abandon(w);
    return s;
  }
  const uint64_t sum = w->sum;
  unsigned char tail[8];
  put_u64(tail, sum);
  /* On disk before the rename (as core/file.h): a crash leaves no corpus
   * or a whole one. */
  if (fwrite(tail, 1, 8, w->f) != 8 || fflush(w->f) != 0 || fsync(fileno(w->f)) != 0)
    return write_failed(w, errno, err, err_len);
  if (cls_fault(CLS_FAULT_WRITE, w->path)) return injected_failure(w, CLS_FAULT_WRITE, err, err_len);
  const int closed = fclose(w->f);
  w->f = NULL;
  if (closed == 0 && cls_fault(CLS_FAULT_RENAME, w->path))
    return injected_failure(w, CLS_FAULT_RENAME, err, err_len);
  if (closed != 0 || rename(w->tmp, w->path) != 0) return write_failed(w, errno, err, err_len);
  free(w->tmp);
  w->tmp = NULL;
  cls_corpus_writer_abandon(w);
  *checksum = sum;
  return CLS_OK;
}

/* ------------------------------------------------------------ reading */

void cls_corpus_free(cls_corpus *c) {
  if (!c) return;
  free(c->key);
  free(c->tokens);
  memset(c, 0, sizeof *c);
}

static cls_status corrupt(const char *path, const char *why, char *err, size_t err_len) {
  return cls_errf(err, err_len, CLS_ERR_FORMAT,
                  "corpus %s is damaged (%s): remove it (and the points trained on it) to make it again", path,
                  why);
}

cls_status cls_corpus_read(const char *path, cls_corpus *out, char *err, size_t err_len) {
  memset(out, 0, sizeof *out);
  FILE *f = fopen(path, "rb");
  if (!f) return cls_errf(err, err_len, CLS_ERR_IO, "cannot open the corpus %s: %s", path, strerror(errno));
  unsigned char head[8 + 8 * HEADER_WORDS];
  cls_status s = CLS_OK;
  if (fread(head, 1, sizeof head, f) != sizeof head || memcmp(head, MAGIC, 8)) {
    fclose(f);
    return corrupt(path, "not a clscale corpus, or cut short", err, err_len);
  }
  const uint64_t n = get_u64(head + 8), length = get_u64(head + 16), vocab = get_u64(head + 24),
                 key_len = get_u64(head + 32);
  if (!n || !length || !vocab || vocab > ((uint64_t)1 << 31) || key_len > MAX_KEY ||
      length > ((uint64_t)1 << 24) || n > ((uint64_t)1 << 40) / length) {
    fclose(f);
    return corrupt(path, "its header gives impossible sizes", err, err_len);
  }
  uint64_t sum = fnv1a(FNV_START, head, sizeof head);
  out->key = malloc((size_t)key_len + 1);
  out->tokens = malloc((size_t)(n * length) * sizeof *out->tokens);
  unsigned char *buf = malloc((size_t)length * 4);
  if (!out->key || !out->tokens || !buf) {
    s = cls_errf(err, err_len, CLS_ERR_OUT_OF_MEMORY, "out of host memory reading the corpus %s", path);
    goto done;
  }
  if (fread(out->key, 1, (size_t)key_len, f) != key_len) {
    s = corrupt(path, "cut short", err, err_len);
    goto done;
  }
  out->key[key_len] = 0;
  if (strlen(out->key) != key_len) {
    s = corrupt(path, "a NUL byte in its key", err, err_len);
    goto done;
  }
  sum = fnv1a(sum, (const unsigned char *)out->key, (size_t)key_len);
  for (uint64_t r = 0; r < n && s == CLS_OK; r++) {
    if (fread(buf, 1, (size_t)length * 4, f) != length * 4) {
      s = corrupt(path, "cut short", err, err_len);
      break;
    }
    sum = fnv1a(sum, buf, (size_t)length * 4);
    for (uint64_t t = 0; t < length; t++) {
      uint32_t v = 0;
      for (int i = 3; i >= 0; i--) v = v << 8 | buf[4 * t + (uint64_t)i];
      if (v >= vocab) {
        s = corrupt(path, "a token outside its vocabulary", err, err_len);
        break;
      }
      out->tokens[r * length + t] = (int32_t)v;
    }
  }
  unsigned char tail[9];
  if (s == CLS_OK && fread(tail, 1, 9, f) != 8)
    s = corrupt(path, "cut short, or bytes after its end", err, err_len);
  if (s == CLS_OK && get_u64(tail) != sum) s = corrupt(path, "its checksum does not match", err, err_len);
done:
  fclose(f);
  free(buf);
  if (s != CLS_OK) {
    cls_corpus_free(out);
    return s;
  }
  out->n = n;
  out->length = length;
  out->vocab = vocab;
  out->checksum = sum;
  return CLS_OK;
}

/* --------------------------------------------------------------- meta */

cls_status cls_corpus_meta_write(const char *path, const cls_corpus_meta *m, char *err, size_t err_len) {
  cls_json *j = cls_json_new();
  if (!j) return cls_errf(err, err_len, CLS_ERR_OUT_OF_MEMORY, "out of host memory writing %s", path);
  char hex[24];
  snprintf(hex, sizeof hex, "0x%016llx", (unsigned long long)m->checksum);
  cls_json_str(j, "teacher", m->teacher);
  cls_json_str(j, "corpus", m->corpus);
  cls_json_str(j, "checksum", hex);
  cls_json_num(j, "sequences", (double)m->n);
  cls_json_num(j, "length", (double)m->length);
  cls_json_num(j, "vocab", (double)m->vocab);
  /* The key's settings as an object of their own (they repeat names of
   * the fields above). */
  cls_json *k = cls_json_new();
  cls_json_lines(k, m->key);
  cJSON *settings = cls_json_root(k);
  if (settings && cls_json_root(j)) cJSON_AddItemReferenceToObject(cls_json_root(j), "made_with", settings);
  const double n = (double)m->n;
  if (m->text) {
    if (!isnan(m->text->nll_generated)) cls_json_num(j, "teacher_nll_generated", m->text->nll_generated);
    if (!isnan(m->text->nll_real)) cls_json_num(j, "teacher_nll_real", m->text->nll_real);
    cls_json_num(j, "words_real", (double)m->text->words_real);
    cls_json_num(j, "words_generated", (double)m->text->words_generated);
    cls_json_num(j, "words_unseen", (double)m->text->words_unseen);
  } else {
    cls_json_num(j, "malformed", (double)m->malformed);
    cls_json_num(j, "wrong", (double)m->wrong);
    cls_json_num(j, "correct", (double)m->correct);
    cls_json_num(j, "teacher_accuracy", n > 0 ? (double)m->correct / n : NAN);
  }
  if (!isnan(m->seconds)) cls_json_num(j, "seconds", m->seconds);
  cls_json_str(j, "device", m->device);
  cls_json_str(j, "clscale_version", CLSCALE_VERSION);
  /* The table of outcomes: an array of objects. */
  if (m->values_of) cls_json_str(j, "values_of", m->values_of);
  cJSON *root = cls_json_root(j), *values = root ? cJSON_AddArrayToObject(root, "values") : NULL;
  for (size_t i = 0; values && i < m->n_values; i++) {
    cJSON *e = cJSON_CreateObject();
    if (!e) break;
    cJSON_AddNumberToObject(e, "value", (double)m->values[i].value);
    cJSON_AddNumberToObject(e, "real", (double)m->values[i].real);
    cJSON_AddNumberToObject(e, "generated", (double)m->values[i].generated);
    cJSON_AddItemToArray(values, e);
  }
  cls_status st = cls_json_write(j, path, err, err_len);
  cls_json_free(j); /* before k: it holds a reference to k's object */
  cls_json_free(k);
  return st;
}
