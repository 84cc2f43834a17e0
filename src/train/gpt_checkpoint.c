/* src/train/gpt_checkpoint.c — see gpt_checkpoint.h. */
#include "train/gpt_checkpoint.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "train/checkpoint.h"

/* The value of `name` in key's "name=value" lines into out; 0 if absent. */
static int value_of(const char *key, const char *name, char *out, size_t len) {
  const size_t n = strlen(name);
  for (const char *p = key; p && *p;) {
    const char *end = strchr(p, '\n');
    const size_t line = end ? (size_t)(end - p) : strlen(p);
    if (line > n && !strncmp(p, name, n) && p[n] == '=') {
      snprintf(out, len, "%.*s", (int)(line - n - 1), p + n + 1);
      return 1;
    }
    p = end ? end + 1 : NULL;
  }
  return 0;
}

static int size_of(const char *key, const char *name, size_t *out) {
  char v[64], *end;
  if (!value_of(key, name, v, sizeof v) || !v[0]) return 0;
  errno = 0;
  unsigned long long x = strtoull(v, &end, 10);
  if (*end || errno || v[0] == '-') return 0;
  *out = (size_t)x;
  return 1;
}

static int float_of(const char *key, const char *name, float *out) {
  char v[64], *end;
  if (!value_of(key, name, v, sizeof v) || !v[0]) return 0;
  *out = strtof(v, &end);
  return !*end;
}

/* The model's shape from the key; a message in err when it is not there. */
static cls_status config_of(const char *path, const char *key, cls_gpt_config *c, char *err, size_t n) {
  char model[64] = "", task[64] = "", param[16] = "";
  value_of(key, "model", model, sizeof model);
  value_of(key, "task", task, sizeof task);
  if (strcmp(model, "gpt")) {
    snprintf(err, n,
             "checkpoint %s holds the model '%s' (task %s), not a GPT: sampling needs the checkpoint of a task "
             "trained on a GPT (text)",
             path, model[0] ? model : "?", task[0] ? task : "?");
    return CLS_ERR_INVALID_VALUE;
  }
  cls_gpt_config_default(c);
  value_of(key, "param", param, sizeof param);
  int ok = size_of(key, "vocab", &c->vocab) && size_of(key, "context", &c->context) &&
           size_of(key, "width", &c->width) && size_of(key, "depth", &c->depth) &&
           size_of(key, "heads", &c->heads) && size_of(key, "base_width", &c->base_width) &&
           float_of(key, "init_std", &c->init_std) && cls_parametrisation_parse(param, &c->param);
  float wd;
  if (float_of(key, "weight_decay", &wd)) c->weight_decay = wd;
  if (!ok) {
    snprintf(
        err, n,
        "checkpoint %s says it holds a GPT but its key lacks the model's shape (vocab, context, width, depth, "
        "heads, param, base_width, init_std)",
        path);
    return CLS_ERR_FORMAT;
  }
  char why[256];
  cls_status st = cls_gpt_config_check(c, why, sizeof why);
  if (st != CLS_OK) {
    snprintf(err, n, "checkpoint %s describes a GPT that cannot be built: %s", path, why);
    return CLS_ERR_FORMAT;
  }
  return CLS_OK;
}

cls_status cls_gpt_load(cls_context *ctx, const char *path, cls_gpt **out, cls_gpt_checkpoint_info *info,
                        char *err, size_t n) {
  return cls_gpt_load_sized(ctx, path, 1, 1, out, info, err, n);
}

cls_status cls_gpt_load_sized(cls_context *ctx, const char *path, size_t max_batch, size_t max_seq, cls_gpt **out,
                              cls_gpt_checkpoint_info *info, char *err, size_t n) {
  *out = NULL;
  cls_ckpt_contents ck;
  cls_status st = cls_checkpoint_read(path, &ck, err, n);
  if (st != CLS_OK) return st;
  cls_gpt_config c;
  st = config_of(path, ck.key, &c, err, n);
  cls_gpt *g = NULL;
  if (st == CLS_OK) {
    st = cls_gpt_create(ctx, &c, max_batch, max_seq, 0, &g);
    if (st != CLS_OK) snprintf(err, n, "building the model of checkpoint %s: %s", path, cls_last_error(ctx));
  }
  if (st == CLS_OK && cls_gpt_params(g)->total != ck.n) {
    snprintf(err, n, "checkpoint %s holds %zu parameters, but the GPT its key describes has %zu: it is corrupt",
             path, ck.n, cls_gpt_params(g)->total);
    st = CLS_ERR_FORMAT;
  }
  if (st == CLS_OK) {
    st = cls_buffer_write(ctx, cls_gpt_slabs(g)->params, 0, ck.n, ck.params);
    if (st != CLS_OK)
      snprintf(err, n, "checkpoint %s: writing the model to the device failed: %s", path, cls_last_error(ctx));
  }
  if (st == CLS_OK && info) {
    memset(info, 0, sizeof *info);
    if (!value_of(ck.key, "task", info->task, sizeof info->task)) snprintf(info->task, sizeof info->task, "?");
    info->config = c;
    info->step = ck.step;
    info->total_steps = ck.total_steps;
  }
  cls_ckpt_contents_free(&ck);
  if (st != CLS_OK) {
    cls_gpt_destroy(g);
    return st;
  }
  *out = g;
  return CLS_OK;
}
