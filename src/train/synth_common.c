/* src/train/synth_common.c — see synth_internal.h. */
#include <stdio.h>
#include <string.h>

#include "core/err.h"
#include "core/file.h"
#include "synth_internal.h"
#include "train/gpt_checkpoint.h"

cls_status cls__synth_check_request(const cls_synth_request *req, char *err, size_t err_len) {
  if (!req->n || !req->generation || req->generation > CLS_SYNTH_MAX_GENERATIONS) {
    snprintf(err, err_len,
             "a corpus of %zu sequences for generation %u: want at least one, for generation 1 to %d", req->n,
             req->generation, CLS_SYNTH_MAX_GENERATIONS);
    return CLS_ERR_INVALID_VALUE;
  }
  return CLS_OK;
}

/* The first line in which two keys differ, for the message. */
static void first_difference(const char *a, const char *b, char *out, size_t len) {
  while (*a && *b) {
    const char *ea = strchr(a, '\n'), *eb = strchr(b, '\n');
    const size_t la = ea ? (size_t)(ea - a) : strlen(a), lb = eb ? (size_t)(eb - b) : strlen(b);
    if (la != lb || strncmp(a, b, la)) {
      snprintf(out, len, "it has %.*s where this sweep has %.*s", (int)la, a, (int)lb, b);
      return;
    }
    a += la + (ea != NULL);
    b += lb + (eb != NULL);
  }
  snprintf(out, len, "its settings differ");
}

cls_status cls__synth_read_same(const cls_synth_request *req, const char *key, uint64_t length, uint64_t vocab,
                                cls_corpus *c, char *err, size_t err_len) {
  cls_status s = cls_corpus_read(req->corpus_path, c, err, err_len);
  if (s != CLS_OK) return s;
  if (strcmp(c->key, key) || c->length != length || c->vocab != vocab) {
    char diff[512];
    first_difference(c->key, key, diff, sizeof diff);
    snprintf(err, err_len,
             "the corpus %s was made with other settings (%s): remove it, and the points trained on it, to make "
             "it again",
             req->corpus_path, diff);
    cls_corpus_free(c);
    return CLS_ERR_INVALID_VALUE;
  }
  return CLS_OK;
}

cls_status cls__synth_teacher(cls_context *ctx, const cls_synth_request *req, size_t vocab, size_t min_context,
                              size_t max_batch, size_t max_seq, const char *what, cls_gpt **gpt, char *err,
                              size_t err_len) {
  *gpt = NULL;
  char dir[4096];
  snprintf(dir, sizeof dir, "%s", req->corpus_path);
  char *slash = strrchr(dir, '/');
  if (slash) *slash = 0;
  cls_status s = slash ? cls_mkdirs(dir, err, err_len) : CLS_OK;
  if (s != CLS_OK) return s;
  cls_gpt_checkpoint_info info;
  /* Too short a context is refused before the activations are sized for it. */
  s = cls_gpt_load_sized(ctx, req->teacher_checkpoint, 1, 1, gpt, &info, err, err_len);
  if (s != CLS_OK) return s;
  if (info.config.vocab != vocab || info.config.context < min_context || info.config.context < max_seq) {
    snprintf(err, err_len, "the teacher %s (vocabulary %zu, context %zu) cannot write this task's %s",
             req->teacher_checkpoint, info.config.vocab, info.config.context, what);
    cls_gpt_destroy(*gpt);
    *gpt = NULL;
    return CLS_ERR_INVALID_VALUE;
  }
  if (max_batch == 1 && max_seq == 1) return CLS_OK;
  cls_gpt_destroy(*gpt);
  return cls_gpt_load_sized(ctx, req->teacher_checkpoint, max_batch, max_seq, gpt, NULL, err, err_len);
}

void cls__synth_sample_config(const cls_synth_request *req, cls_gpt_sample_config *cfg) {
  cls_gpt_sample_config_default(cfg);
  cfg->sampling.temperature = (float)req->temperature;
  cfg->sampling.top_k = req->top_k;
  cfg->sampling.top_p = (float)req->top_p;
  cfg->sampling.seed = req->seed;
}

cls_status cls__synth_write(cls_context *ctx, const cls_synth_request *req, const char *key, size_t length,
                            size_t vocab, size_t chunk, int32_t *rows, cls__synth_fill fill, void *user,
                            cls_synth_result *res, uint64_t *checksum, char *err, size_t err_len) {
  cls_corpus_writer *w = NULL;
  cls_status s = cls_corpus_writer_open(req->corpus_path, req->n, length, vocab, key, &w, err, err_len);
  for (uint64_t first = 0; s == CLS_OK && first < req->n; first += chunk) {
    const size_t n = req->n - first < chunk ? (size_t)(req->n - first) : chunk;
    char why[1024] = "";
    s = fill(user, first, n, rows, why, sizeof why);
    if (s != CLS_OK) {
      snprintf(err, err_len, "the teacher %s writing %s: %s", req->teacher_id, req->corpus_path,
               why[0] ? why : cls_last_error(ctx));
      break;
    }
    if (req->stop && *req->stop) {
      res->stopped = 1;
      break;
    }
    s = cls_corpus_writer_append(w, rows, n, err, err_len);
    if (s != CLS_OK) {
      w = NULL; /* the writer gave up and freed itself */
      break;
    }
    if (req->progress) req->progress(req->progress_user, (size_t)(first + n), req->n);
  }
  if (s == CLS_OK && !res->stopped) return cls_corpus_writer_finish(w, checksum, err, err_len);
  cls_corpus_writer_abandon(w);
  return s;
}

const char *cls__synth_corpus_name(const cls_synth_request *req) {
  const char *slash = strrchr(req->corpus_path, '/');
  return slash ? slash + 1 : req->corpus_path;
}
