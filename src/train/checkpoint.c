/* src/train/checkpoint.c — see checkpoint.h. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clscale/ops.h"
#include "core/file.h"
#include "rundir/rundir.h"
#include "train/checkpoint.h"

#define MAGIC   "CLSCKPT"
#define VERSION 2u /* 2: the matmul choices after the key; version 1 is read too */
/* The longest choices text read: a record holds at most 1024 classes of
 * under 24 characters each. A larger length is a damaged file. */
#define CHOICES_LIMIT ((size_t)1 << 16)
#define ORDER_TAG     0x01020304u

static uint64_t fnv1a(const uint8_t *p, size_t n) {
  uint64_t h = 14695981039346656037ULL;
  for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 1099511628211ULL;
  return h;
}

/* ------------------------------------------------------------ writing */

typedef struct {
  uint8_t *p;
  size_t len;
} wbuf;

static void put(wbuf *w, const void *src, size_t n) {
  memcpy(w->p + w->len, src, n);
  w->len += n;
}
static void put_u64(wbuf *w, uint64_t v) {
  put(w, &v, sizeof v);
}
static void put_f64(wbuf *w, double v) {
  put(w, &v, sizeof v);
}

cls_status cls_checkpoint_save(cls_context *ctx, const char *path, const char *key, const cls_ckpt_state *st,
                               const cls_param_table *pt, const cls_param_slabs *s, char *err, size_t err_len) {
  return cls_checkpoint_save_at(ctx, path, key, st, pt, s, 0, err, err_len);
}

cls_status cls_checkpoint_save_at(cls_context *ctx, const char *path, const char *key, const cls_ckpt_state *st,
                                  const cls_param_table *pt, const cls_param_slabs *s, size_t model, char *err,
                                  size_t err_len) {
  const size_t n = pt->total, klen = strlen(key), clen = st->choices ? strlen(st->choices) : 0;
  const size_t total = 8 + 4 + 4 + 8 + klen + 8 + clen + 7 * 8 + 8 + st->rows_len + 8 + 3 * n * sizeof(float) + 8;
  wbuf w = {malloc(total), 0};
  if (!w.p) {
    snprintf(err, err_len, "out of host memory for a checkpoint of %zu bytes", total);
    return CLS_ERR_OUT_OF_MEMORY;
  }
  uint32_t version = VERSION, order = ORDER_TAG;
  put(&w, MAGIC, 8); /* with its NUL */
  put(&w, &version, 4);
  put(&w, &order, 4);
  put_u64(&w, klen);
  put(&w, key, klen);
  put_u64(&w, clen);
  if (clen) put(&w, st->choices, clen);
  put_u64(&w, st->step);
  put_u64(&w, st->total_steps);
  put_u64(&w, st->acc_count);
  put_f64(&w, st->acc_sum);
  put_f64(&w, st->train_flops);
  put_f64(&w, st->eval_flops);
  put_f64(&w, st->seconds);
  put_u64(&w, st->rows_len);
  if (st->rows_len) put(&w, st->rows, st->rows_len);
  put_u64(&w, n);
  const cls_buffer *slab[3] = {s->params, s->m, s->v};
  for (int i = 0; i < 3; i++) {
    cls_status rs = cls_buffer_read(ctx, slab[i], model * n, n, (float *)(void *)(w.p + w.len));
    if (rs != CLS_OK) {
      snprintf(err, err_len, "checkpoint %s: reading the model from the device failed: %s", path,
               cls_last_error(ctx));
      free(w.p);
      return rs;
    }
    w.len += n * sizeof(float);
  }
  put_u64(&w, fnv1a(w.p, w.len));
  cls_status ws = cls_write_atomic(path, w.p, w.len, err, err_len);
  free(w.p);
  return ws;
}

/* ------------------------------------------------------------ reading */

typedef struct {
  const uint8_t *p;
  size_t len, at;
  int short_read;
} rbuf;

static const uint8_t *take(rbuf *r, size_t n) {
  if (r->short_read || n > r->len - r->at) {
    r->short_read = 1;
    return NULL;
  }
  const uint8_t *q = r->p + r->at;
  r->at += n;
  return q;
}
static uint64_t get_u64(rbuf *r) {
  uint64_t v = 0;
  const uint8_t *q = take(r, sizeof v);
  if (q) memcpy(&v, q, sizeof v);
  return v;
}
static double get_f64(rbuf *r) {
  double v = 0;
  const uint8_t *q = take(r, sizeof v);
  if (q) memcpy(&v, q, sizeof v);
  return v;
}

/* The value of "name=" in a key of "name=value" lines, as a pointer and a
 * length; NULL when absent. */
static const char *key_value(const char *key, size_t key_len, const char *name, size_t name_len, size_t *vlen) {
  const char *p = key, *end = key + key_len;
  while (p < end) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    const char *line_end = nl ? nl : end;
    const char *eq = memchr(p, '=', (size_t)(line_end - p));
    if (eq && (size_t)(eq - p) == name_len && !memcmp(p, name, name_len)) {
      *vlen = (size_t)(line_end - eq - 1);
      return eq + 1;
    }
    p = line_end + 1;
  }
  return NULL;
}

/* Names the settings on which the two keys differ (up to a few), e.g.
 * "width 64 in the checkpoint, 128 here; lr 0.001 in the checkpoint, ...". */
static void describe_diff(const char *saved, size_t saved_len, const char *now, char *out, size_t len) {
  size_t n = 0;
  int shown = 0, more = 0;
  out[0] = 0;
  for (int pass = 0; pass < 2; pass++) {
    /* pass 0: settings of the checkpoint; pass 1: settings only this run has */
    const char *a = pass ? now : saved, *b = pass ? saved : now;
    size_t alen = pass ? strlen(now) : saved_len, blen = pass ? saved_len : strlen(now);
    const char *p = a, *end = a + alen;
    while (p < end) {
      const char *nl = memchr(p, '\n', (size_t)(end - p));
      const char *line_end = nl ? nl : end;
      const char *eq = memchr(p, '=', (size_t)(line_end - p));
      if (eq) {
        size_t name_len = (size_t)(eq - p), alen_v = (size_t)(line_end - eq - 1), blen_v = 0;
        const char *bv = key_value(b, blen, p, name_len, &blen_v);
        int differ = !bv || blen_v != alen_v || memcmp(bv, eq + 1, alen_v);
        if (differ && pass == 1 && bv) differ = 0; /* reported in pass 0 */
        if (differ) {
          if (shown < 4 && n < len) {
            const char *sv = pass ? NULL : eq + 1, *nv = pass ? eq + 1 : bv;
            size_t sl = pass ? 0 : alen_v, nl_ = pass ? alen_v : blen_v;
            int k = snprintf(out + n, len - n, "%s%.*s %.*s in the checkpoint, %.*s here", shown ? "; " : "",
                             (int)name_len, p, sv ? (int)sl : 6, sv ? sv : "absent", nv ? (int)nl_ : 6,
                             nv ? nv : "absent");
            if (k > 0) n += (size_t)k;
            shown++;
          } else {
            more++;
          }
        }
      }
      p = line_end + 1;
    }
  }
  if (more && n < len) snprintf(out + n, len - n, " (and %d more)", more);
}

/* Checkpoints hold three copies of the model: large, but bounded well below
 * what a host can read; the bound refuses a wrong path early. */
#define CKPT_LIMIT ((size_t)1 << 40)

/* The whole file; its message names it a checkpoint. */
static cls_status read_whole(const char *path, uint8_t **data, size_t *len, char *err, size_t err_len) {
  char why[1024];
  char *text;
  cls_status status = cls_read_file(path, CKPT_LIMIT, &text, len, why, sizeof why);
  *data = (uint8_t *)text;
  if (status == CLS_OK) return CLS_OK;
  /* core's message is "cannot open|read PATH: reason": keep the verb and the reason. */
  const char *verb = !strncmp(why, "cannot open ", 12) ? "open" : "read";
  const char *reason = strstr(why, path);
  reason = reason && !strncmp(reason + strlen(path), ": ", 2) ? reason + strlen(path) + 2 : why;
  if (status == CLS_ERR_IO)
    snprintf(err, err_len, "cannot %s checkpoint %s: %s", verb, path, reason);
  else if (status == CLS_ERR_OUT_OF_MEMORY)
    snprintf(err, err_len, "out of host memory reading checkpoint %s", path);
  else
    snprintf(err, err_len, "%s", why);
  return status;
}

/* What the file holds, as pointers into it. */
typedef struct {
  uint32_t version, order;
  uint64_t klen, clen, rows_len, n;
  const char *skey, *choices, *rows;
  const uint8_t *slabs;
  size_t slab_bytes, body;
  uint64_t sum;
  int short_header, short_body;
  size_t end;
} ckpt_view;

/* Walks the file's fields in order (docs/train.md); a file cut short
 * leaves the rest NULL / 0 and short_* set. */
static void parse(const uint8_t *data, size_t len, ckpt_view *v, cls_ckpt_state *st) {
  rbuf r = {data, len, 0, 0};
  take(&r, 8); /* the magic, compared on the bytes there are */
  const uint8_t *q = take(&r, 4);
  if (q) memcpy(&v->version, q, 4);
  q = take(&r, 4);
  if (q) memcpy(&v->order, q, 4);
  v->short_header = r.short_read;
  v->klen = get_u64(&r);
  v->skey = v->klen <= len ? (const char *)take(&r, (size_t)v->klen) : (take(&r, len + 1), NULL);
  if (v->version >= 2) {
    v->clen = get_u64(&r);
    v->choices = v->clen <= len ? (const char *)take(&r, (size_t)v->clen) : (take(&r, len + 1), NULL);
  }
  st->step = get_u64(&r);
  st->total_steps = get_u64(&r);
  st->acc_count = get_u64(&r);
  st->acc_sum = get_f64(&r);
  st->train_flops = get_f64(&r);
  st->eval_flops = get_f64(&r);
  st->seconds = get_f64(&r);
  v->rows_len = get_u64(&r);
  v->rows = v->rows_len <= len ? (const char *)take(&r, (size_t)v->rows_len) : (take(&r, len + 1), NULL);
  v->n = get_u64(&r);
  v->slab_bytes = v->n <= len / 12 ? (size_t)v->n * sizeof(float) : 0;
  v->slabs = v->slab_bytes || !v->n ? take(&r, 3 * v->slab_bytes) : (take(&r, len + 1), NULL);
  v->body = r.at;
  v->sum = get_u64(&r);
  v->short_body = r.short_read;
  v->end = r.at;
}

/* The header: not empty, the magic, whole, this byte order and version. */
static cls_status check_header(const char *path, const uint8_t *data, size_t len, const ckpt_view *v, char *err,
                               size_t err_len) {
  if (len == 0) {
    snprintf(err, err_len,
             "checkpoint %s is empty (a crash while it was first written?): start the run again without `resume`",
             path);
    return CLS_ERR_FORMAT;
  }
  if (memcmp(data, MAGIC, len < 8 ? len : 8)) {
    snprintf(err, err_len,
             "%s is not a clscale checkpoint (it does not start with the checkpoint magic): start the run again "
             "without `resume` (add `force`)",
             path);
    return CLS_ERR_FORMAT;
  }
  if (v->short_header) {
    snprintf(err, err_len,
             "checkpoint %s is truncated (%zu bytes, shorter than the header): start the run again without "
             "`resume` (add `force`)",
             path, len);
    return CLS_ERR_FORMAT;
  }
  if (v->order != ORDER_TAG) {
    snprintf(err, err_len, "checkpoint %s was written on a machine of the other byte order", path);
    return CLS_ERR_FORMAT;
  }
  if (v->version != 1 && v->version != VERSION) {
    snprintf(err, err_len, "checkpoint %s has format version %u; this clscale reads versions 1 to %u", path,
             v->version, VERSION);
    return CLS_ERR_FORMAT;
  }
  return CLS_OK;
}

static int check_fields(const ckpt_view *v, const cls_ckpt_state *st, char *why, size_t len);

/* The body: whole, its checksum, this run's key and model, and every field
 * within what this run can hold (check_fields). */
static cls_status check_body(const char *path, const uint8_t *data, size_t len, const ckpt_view *v,
                             const char *key, const cls_param_table *pt, const cls_ckpt_state *st, char *err,
                             size_t err_len) {
  if (v->short_body) {
    snprintf(err, err_len,
             "checkpoint %s is truncated (%zu bytes; its header promises more): it cannot be resumed; start the "
             "run again without `resume` (add `force`)",
             path, len);
    return CLS_ERR_FORMAT;
  }
  if (v->end != len || v->sum != fnv1a(data, v->body)) {
    snprintf(err, err_len,
             "checkpoint %s is corrupt (%s): it cannot be resumed; start the run again without `resume` (add "
             "`force`)",
             path, v->end != len ? "trailing bytes" : "checksum mismatch");
    return CLS_ERR_FORMAT;
  }
  if (v->klen != strlen(key) || memcmp(v->skey, key, (size_t)v->klen)) {
    char diff[1024];
    describe_diff(v->skey, (size_t)v->klen, key, diff, sizeof diff);
    snprintf(err, err_len,
             "checkpoint %s was written by a run of another configuration (%s): resume with the same options, or "
             "use another `id` or `out_dir`",
             path, diff);
    return CLS_ERR_INVALID_VALUE;
  }
  if (v->n != pt->total) {
    snprintf(err, err_len,
             "checkpoint %s holds %llu parameters per slab, this model %zu: it belongs to another model", path,
             (unsigned long long)v->n, pt->total);
    return CLS_ERR_INVALID_VALUE;
  }
  char why[512];
  if (!check_fields(v, st, why, sizeof why)) {
    snprintf(err, err_len,
             "checkpoint %s is damaged (%s): it cannot be resumed; start the run again without `resume` (add "
             "`force`)",
             path, why);
    return CLS_ERR_FORMAT;
  }
  return CLS_OK;
}

/* No run measures more than this many seconds (about 32 years): a larger
 * value is a damaged file, not a long run. */
#define CKPT_MAX_SECONDS 1e9

/* The fields behind the checksum: a checksum proves the file is as written,
 * not that what wrote it was right (issue 14), so each field is checked
 * against what a run can hold before anything of it is used. The message
 * names the field; what to do is the caller's. */
static int check_fields(const ckpt_view *v, const cls_ckpt_state *st, char *why, size_t len) {
  if (memchr(v->skey, '\0', (size_t)v->klen))
    return snprintf(why, len, "its configuration key holds NUL bytes"), 0;
  if (v->clen > CHOICES_LIMIT)
    return snprintf(why, len, "its matmul choices are %llu bytes long", (unsigned long long)v->clen), 0;
  if (v->clen) {
    if (memchr(v->choices, '\0', (size_t)v->clen))
      return snprintf(why, len, "its matmul choices hold NUL bytes"), 0;
    char *text = malloc((size_t)v->clen + 1), bad[200];
    if (!text) return snprintf(why, len, "out of host memory"), 0;
    memcpy(text, v->choices, (size_t)v->clen);
    text[v->clen] = 0;
    cls_status cs = cls_matmul_record_check(text, bad, sizeof bad);
    free(text);
    if (cs != CLS_OK) return snprintf(why, len, "its matmul choices are not a record of choices: %s", bad), 0;
  }
  size_t tl = 0;
  const char *tv = key_value(v->skey, (size_t)v->klen, "total_steps", 11, &tl);
  char num[32];
  snprintf(num, sizeof num, "%llu", (unsigned long long)st->total_steps);
  if (!tv || tl != strlen(num) || memcmp(tv, num, tl))
    return snprintf(why, len, "total_steps %s disagrees with its configuration's total_steps=%.*s", num,
                    tv ? (int)tl : 6, tv ? tv : "absent"),
           0;
  if (st->step > st->total_steps)
    return snprintf(why, len, "step %llu beyond the run's %llu steps", (unsigned long long)st->step,
                    (unsigned long long)st->total_steps),
           0;
  if (st->acc_count > st->step)
    return snprintf(why, len, "%llu train losses summed over %llu steps", (unsigned long long)st->acc_count,
                    (unsigned long long)st->step),
           0;
  const struct {
    const char *name;
    double value, hi;
  } nums[] = {{"acc_sum", st->acc_sum, HUGE_VAL},
              {"train_flops", st->train_flops, HUGE_VAL},
              {"eval_flops", st->eval_flops, HUGE_VAL},
              {"seconds", st->seconds, CKPT_MAX_SECONDS}};
  for (size_t i = 0; i < sizeof nums / sizeof nums[0]; i++)
    if (!isfinite(nums[i].value) || nums[i].value < 0 || nums[i].value > nums[i].hi)
      return snprintf(why, len, "%s = %g is not a number in [0, %g]", nums[i].name, nums[i].value, nums[i].hi), 0;
  /* The rows: the loss curve's lines as the train loop wrote them, steps
   * ascending and none beyond the checkpoint's step. */
  if (memchr(v->rows, '\0', (size_t)v->rows_len)) return snprintf(why, len, "its CSV rows hold NUL bytes"), 0;
  if (v->rows_len && v->rows[v->rows_len - 1] != '\n')
    return snprintf(why, len, "its CSV rows do not end with a newline"), 0;
  uint64_t prev = 0;
  size_t k = 0;
  for (const char *p = v->rows, *end = v->rows + v->rows_len; p < end; k++) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    char line[512];
    cls_eval_row row;
    size_t n = (size_t)(nl - p);
    if (n >= sizeof line) return snprintf(why, len, "CSV row %zu is %zu bytes long", k + 1, n), 0;
    memcpy(line, p, n);
    line[n] = 0;
    if (!cls_csv_parse_row(line, &row) || row.step > st->step || (k && row.step < prev))
      return snprintf(why, len, "CSV row %zu ('%.60s') is not a row of this run's loss curve", k + 1, line), 0;
    prev = row.step;
    p = nl + 1;
  }
  /* The model and AdamW's moments: a saved run was a finite one (a run
   * that diverged is never checkpointed), and v is a mean of squares. */
  for (size_t i = 0; i < 3 * (size_t)v->n; i++) {
    float x;
    memcpy(&x, v->slabs + i * sizeof x, sizeof x);
    if (!isfinite(x) || (i >= 2 * (size_t)v->n && x < 0))
      return snprintf(why, len, "%s[%zu] = %g",
                      i < v->n       ? "params"
                      : i < 2 * v->n ? "m"
                                     : "v",
                      i % (size_t)v->n, (double)x),
             0;
  }
  return 1;
}

/* The choices as a string ("" for a version 1 file); NULL when out of memory. */
static char *copy_choices(const ckpt_view *v) {
  char *c = malloc((size_t)v->clen + 1);
  if (!c) return NULL;
  if (v->clen) memcpy(c, v->choices, (size_t)v->clen);
  c[v->clen] = 0;
  return c;
}

/* params, m and v into the slabs, and the CSV rows into st. */
static cls_status restore(cls_context *ctx, const char *path, const ckpt_view *v, cls_param_slabs *s, size_t model,
                          cls_ckpt_state *st, char *err, size_t err_len) {
  cls_buffer *dst[3] = {s->params, s->m, s->v};
  for (int i = 0; i < 3; i++) {
    /* memcpy to an aligned host array: the slab in the file is not float-aligned. */
    float *tmp = malloc(v->slab_bytes ? v->slab_bytes : 1);
    if (!tmp) {
      snprintf(err, err_len, "out of host memory reading checkpoint %s", path);
      return CLS_ERR_OUT_OF_MEMORY;
    }
    memcpy(tmp, v->slabs + (size_t)i * v->slab_bytes, v->slab_bytes);
    cls_status status = cls_buffer_write(ctx, dst[i], model * (size_t)v->n, (size_t)v->n, tmp);
    free(tmp);
    if (status != CLS_OK) {
      snprintf(err, err_len, "checkpoint %s: writing the model to the device failed: %s", path,
               cls_last_error(ctx));
      return status;
    }
  }
  st->rows = malloc((size_t)v->rows_len + 1);
  if (!st->rows) {
    snprintf(err, err_len, "out of host memory reading checkpoint %s", path);
    return CLS_ERR_OUT_OF_MEMORY;
  }
  memcpy(st->rows, v->rows, (size_t)v->rows_len);
  st->rows[v->rows_len] = 0;
  st->rows_len = (size_t)v->rows_len;
  st->choices = copy_choices(v);
  if (!st->choices) {
    snprintf(err, err_len, "out of host memory reading checkpoint %s", path);
    return CLS_ERR_OUT_OF_MEMORY;
  }
  return CLS_OK;
}

cls_status cls_checkpoint_load(cls_context *ctx, const char *path, const char *key, cls_ckpt_state *st,
                               const cls_param_table *pt, cls_param_slabs *s, char *err, size_t err_len) {
  return cls_checkpoint_load_at(ctx, path, key, st, pt, s, 0, err, err_len);
}

cls_status cls_checkpoint_load_at(cls_context *ctx, const char *path, const char *key, cls_ckpt_state *st,
                                  const cls_param_table *pt, cls_param_slabs *s, size_t model, char *err,
                                  size_t err_len) {
  memset(st, 0, sizeof *st);
  uint8_t *data;
  size_t len;
  cls_status status = read_whole(path, &data, &len, err, err_len);
  if (status != CLS_OK) return status;
  ckpt_view v = {0};
  parse(data, len, &v, st);
  status = check_header(path, data, len, &v, err, err_len);
  if (status == CLS_OK) status = check_body(path, data, len, &v, key, pt, st, err, err_len);
  if (status == CLS_OK) status = restore(ctx, path, &v, s, model, st, err, err_len);
  free(data);
  if (status != CLS_OK) {
    free(st->rows);
    free(st->choices);
    memset(st, 0, sizeof *st);
  }
  return status;
}

cls_status cls_checkpoint_choices(const char *path, char **choices, char *err, size_t err_len) {
  *choices = NULL;
  FILE *f = fopen(path, "rb");
  if (!f) {
    snprintf(err, err_len, "cannot open checkpoint %s: %s", path, strerror(errno));
    return CLS_ERR_IO;
  }
  /* The header, the key and the choices: a prefix of the file. */
  uint8_t head[24];
  uint32_t version = 0, order = 0;
  uint64_t klen = 0, clen = 0;
  cls_status status = CLS_ERR_FORMAT;
  if (fread(head, 1, sizeof head, f) != sizeof head || memcmp(head, MAGIC, 8)) {
    snprintf(err, err_len, "%s is not a clscale checkpoint (or is truncated)", path);
  } else {
    memcpy(&version, head + 8, 4);
    memcpy(&order, head + 12, 4);
    memcpy(&klen, head + 16, 8);
    if (order != ORDER_TAG || (version != 1 && version != VERSION))
      snprintf(err, err_len, "checkpoint %s is of another byte order or format version (%u)", path, version);
    else if (version == 1)
      status = CLS_OK; /* no choices recorded */
    else if (klen > ((uint64_t)1 << 30) || fseek(f, (long)klen, SEEK_CUR) != 0 || fread(&clen, 8, 1, f) != 1 ||
             clen > CHOICES_LIMIT)
      snprintf(err, err_len, "checkpoint %s is truncated or damaged (its key or matmul choices)", path);
    else
      status = CLS_OK;
  }
  char *text = status == CLS_OK ? malloc((size_t)clen + 1) : NULL;
  if (status == CLS_OK && !text) {
    snprintf(err, err_len, "out of host memory reading checkpoint %s", path);
    status = CLS_ERR_OUT_OF_MEMORY;
  }
  if (status == CLS_OK) {
    text[clen] = 0;
    char why[200];
    if (clen && fread(text, 1, (size_t)clen, f) != clen) {
      snprintf(err, err_len, "checkpoint %s is truncated (in its matmul choices)", path);
      status = CLS_ERR_FORMAT;
    } else if (memchr(text, '\0', (size_t)clen) || cls_matmul_record_check(text, why, sizeof why) != CLS_OK) {
      snprintf(err, err_len, "checkpoint %s is damaged (its matmul choices are not a record of choices)", path);
      status = CLS_ERR_FORMAT;
    }
  }
  fclose(f);
  if (status != CLS_OK) {
    free(text);
    return status;
  }
  *choices = text;
  return CLS_OK;
}

cls_status cls_checkpoint_read(const char *path, cls_ckpt_contents *out, char *err, size_t err_len) {
  memset(out, 0, sizeof *out);
  uint8_t *data;
  size_t len;
  cls_status status = read_whole(path, &data, &len, err, err_len);
  if (status != CLS_OK) return status;
  ckpt_view v = {0};
  cls_ckpt_state st;
  char why[512];
  memset(&st, 0, sizeof st);
  parse(data, len, &v, &st);
  status = CLS_ERR_FORMAT;
  if (len < 8 || memcmp(data, MAGIC, 8))
    snprintf(err, err_len, "%s is not a clscale checkpoint (it does not start with the checkpoint magic)", path);
  else if (v.short_header || v.short_body)
    snprintf(err, err_len, "checkpoint %s is truncated (%zu bytes; its header promises more)", path, len);
  else if (v.order != ORDER_TAG)
    snprintf(err, err_len, "checkpoint %s was written on a machine of the other byte order", path);
  else if (v.version != 1 && v.version != VERSION)
    snprintf(err, err_len, "checkpoint %s has format version %u; this clscale reads versions 1 to %u", path,
             v.version, VERSION);
  else if (v.end != len || v.sum != fnv1a(data, v.body))
    snprintf(err, err_len, "checkpoint %s is corrupt (%s)", path,
             v.end != len ? "trailing bytes" : "checksum mismatch");
  else if (!check_fields(&v, &st, why, sizeof why))
    snprintf(err, err_len, "checkpoint %s is damaged (%s)", path, why);
  else
    status = CLS_OK;
  if (status == CLS_OK) {
    out->key = malloc((size_t)v.klen + 1);
    out->params = malloc(v.slab_bytes ? v.slab_bytes : 1);
    out->choices = copy_choices(&v);
    if (!out->key || !out->params || !out->choices) {
      snprintf(err, err_len, "out of host memory reading checkpoint %s", path);
      status = CLS_ERR_OUT_OF_MEMORY;
    } else {
      memcpy(out->key, v.skey, (size_t)v.klen);
      out->key[v.klen] = 0;
      memcpy(out->params, v.slabs, v.slab_bytes); /* the first of the three slabs */
      out->n = (size_t)v.n;
      out->step = st.step;
      out->total_steps = st.total_steps;
    }
  }
  free(data);
  if (status != CLS_OK) cls_ckpt_contents_free(out);
  return status;
}

void cls_ckpt_contents_free(cls_ckpt_contents *c) {
  if (!c) return;
  free(c->key);
  free(c->choices);
  free(c->params);
  memset(c, 0, sizeof *c);
}
