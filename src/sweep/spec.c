/*
 * src/sweep/spec.c — reading a sweep spec (see spec.h, docs/sweep.md).
 *
 * Both formats become one cJSON object of flat keys first (an INI file is
 * translated line by line), so there is one set of rules for the keys and
 * their values, and the messages are the same whichever format was used.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "core/file.h"
#include "rundir/json.h"
#include "rundir/rundir.h"
#include "sweep/count.h"
#include "sweep/plan.h"
#include "sweep/spec.h"
#include "train/synth.h"

const char *cls_sweep_mode_name(cls_sweep_mode m) {
  return m == CLS_SWEEP_CURVES ? "curves" : "isoflop";
}

/* Every key a spec may have besides the tasks' own fields (task_fields
 * below), space-separated, with a space at each end; anything else is a
 * typo to report. */
static const char known_keys[] =
    " name task model mode models widths width depths depth target_params heads head_dim budgets_flops "
    "budget_flops budgets_tokens budget_tokens budgets_steps budget_steps isoflop_sizes seeds seed lr lrs "
    "batch param base_width init_std weight_decay warmup warmup_steps min_lr_ratio beta1 beta2 clip evals "
    "eval_every eval_batches checkpoint_steps checkpoint_seconds keep_checkpoints data_seed variants generations "
    "synthetic_fraction sample_temperature top_k top_p synthetic_pairs max_retries claim_timeout ";

typedef struct {
  const cJSON *root;
  const char *src;
  char *err;
  size_t len;
  int failed;
} reader;

static void fail(reader *r, const char *fmt, ...) {
  if (r->failed) return; /* the first problem is the one to fix */
  r->failed = 1;
  int n = snprintf(r->err, r->len, "%s: ", r->src);
  if (n < 0 || (size_t)n >= r->len) return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(r->err + n, r->len - (size_t)n, fmt, ap);
  va_end(ap);
}

static const cJSON *get(reader *r, const char *key) {
  return cJSON_GetObjectItemCaseSensitive(r->root, key);
}

/* The first of two spellings that is present ("budgets_flops" or
 * "budget_flops"); both at once is an error. */
static const cJSON *get2(reader *r, const char *a, const char *b, const char **which) {
  const cJSON *x = get(r, a), *y = get(r, b);
  if (x && y) fail(r, "give '%s' or '%s', not both", a, b);
  *which = x ? a : b;
  return x ? x : y;
}

/* A number or a list of numbers (an empty list gives n = 0). */
static double *num_list(reader *r, const cJSON *v, const char *key, size_t *n) {
  *n = 0;
  if (!v) return NULL;
  size_t count = cJSON_IsArray(v) ? (size_t)cJSON_GetArraySize(v) : 1;
  double *out = malloc((count ? count : 1) * sizeof *out);
  if (!out) {
    fail(r, "out of host memory");
    return NULL;
  }
  size_t i = 0;
  const cJSON *e = cJSON_IsArray(v) ? v->child : v;
  for (; i < count && e; i++, e = e->next) {
    if (!cJSON_IsNumber(e)) {
      fail(r, "'%s' wants %s, found %s", key, cJSON_IsArray(v) ? "a list of numbers" : "a number or a list",
           cJSON_IsString(e) ? "a string" : "something else");
      free(out);
      return NULL;
    }
    out[i] = e->valuedouble;
  }
  *n = i;
  return out;
}

static int is_whole(double v, double lo, double hi) {
  return isfinite(v) && v == floor(v) && v >= lo && v <= hi;
}

static size_t get_size(reader *r, const char *key, size_t def, size_t lo, size_t hi) {
  const cJSON *v = get(r, key);
  if (!v) return def;
  if (!cJSON_IsNumber(v) || !is_whole(v->valuedouble, (double)lo, (double)hi)) {
    fail(r, "'%s' wants a whole number from %zu to %zu", key, lo, hi);
    return def;
  }
  return (size_t)v->valuedouble;
}

static double get_num(reader *r, const char *key, double def, double lo, double hi, int lo_open) {
  const cJSON *v = get(r, key);
  if (!v) return def;
  double d = cJSON_IsNumber(v) ? v->valuedouble : NAN;
  if (!isfinite(d) || d < lo || d > hi || (lo_open && d == lo)) {
    fail(r, "'%s' wants a number in %s%g, %g]", key, lo_open ? "(" : "[", lo, hi);
    return def;
  }
  return d;
}

static const char *get_str(reader *r, const char *key, const char *def) {
  const cJSON *v = get(r, key);
  if (!v) return def;
  if (!cJSON_IsString(v) || !v->valuestring[0]) {
    fail(r, "'%s' wants a non-empty string", key);
    return def;
  }
  return v->valuestring;
}

static int get_bool(reader *r, const char *key, int def) {
  const cJSON *v = get(r, key);
  if (!v) return def;
  if (!cJSON_IsBool(v)) {
    fail(r, "'%s' wants true or false", key);
    return def;
  }
  return cJSON_IsTrue(v);
}

/* A list of whole numbers >= lo (key or its singular). */
static size_t *size_list(reader *r, const char *key, const char *singular, size_t lo, size_t *n) {
  const char *which;
  const cJSON *v = get2(r, key, singular, &which);
  size_t count;
  double *d = num_list(r, v, which, &count);
  *n = 0;
  if (!d) return NULL;
  size_t *out = malloc((count ? count : 1) * sizeof *out);
  if (!out) {
    free(d);
    fail(r, "out of host memory");
    return NULL;
  }
  for (size_t i = 0; i < count; i++) {
    if (!is_whole(d[i], (double)lo, 1e9)) {
      fail(r, "'%s' wants whole numbers >= %zu (found %g)", which, lo, d[i]);
      free(d);
      free(out);
      return NULL;
    }
    out[i] = (size_t)d[i];
  }
  free(d);
  *n = count;
  if (!count) fail(r, "'%s' is empty: the grid would have no points", which);
  return out;
}

/* ------------------------------------------------------------- shapes */

typedef struct {
  cls_sweep_shape *v;
  size_t n, cap;
} shape_list;

static int push_shape(reader *r, shape_list *l, size_t w, size_t d, size_t h, double target) {
  for (size_t i = 0; i < l->n; i++)
    if (l->v[i].width == w && l->v[i].depth == d && l->v[i].heads == h) {
      if (target > 0)
        fail(r,
             "target_params %g and %g both give width %zu at depth %zu: choose targets further apart or "
             "list the models",
             l->v[i].target_params, target, w, d);
      else
        fail(r, "the model width %zu, depth %zu is listed twice", w, d);
      return 0;
    }
  if (l->n == l->cap) {
    size_t cap = l->cap ? 2 * l->cap : 16;
    cls_sweep_shape *g = realloc(l->v, cap * sizeof *g);
    if (!g) {
      fail(r, "out of host memory");
      return 0;
    }
    l->v = g;
    l->cap = cap;
  }
  l->v[l->n++] = (cls_sweep_shape){w, d, h, target};
  return 1;
}

/* heads of a width: the fixed count, or width / head_dim. */
static size_t heads_of(reader *r, size_t width, size_t heads, size_t head_dim) {
  if (!head_dim) return heads;
  if (width % head_dim) {
    fail(r, "width %zu is not a multiple of head_dim %zu", width, head_dim);
    return 0;
  }
  return width / head_dim;
}

/* One entry of 'models': "WIDTHxDEPTH", "WIDTHxDEPTHxHEADS" or an object
 * {"width": W, "depth": D[, "heads": H]}; NAN for what is missing or bad. */
static void parse_model(const cJSON *m, double *w, double *d, double *h) {
  *w = *d = *h = NAN;
  if (cJSON_IsString(m)) {
    char x1, x2;
    unsigned long a, b, c;
    int got = sscanf(m->valuestring, "%lu%c%lu%c%lu", &a, &x1, &b, &x2, &c);
    if ((got == 3 && x1 == 'x') || (got == 5 && x1 == 'x' && x2 == 'x')) {
      *w = (double)a;
      *d = (double)b;
      if (got == 5) *h = (double)c;
    }
  } else if (cJSON_IsObject(m)) {
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(m, "width"),
                *b = cJSON_GetObjectItemCaseSensitive(m, "depth"),
                *c = cJSON_GetObjectItemCaseSensitive(m, "heads");
    if (cJSON_IsNumber(a)) *w = a->valuedouble;
    if (cJSON_IsNumber(b)) *d = b->valuedouble;
    if (cJSON_IsNumber(c))
      *h = c->valuedouble;
    else if (c)
      *d = NAN;
  }
}

/* The sizes listed one by one in 'models'. */
static void shapes_from_models(reader *r, const cJSON *models, size_t heads, size_t head_dim, shape_list *l) {
  const int list = cJSON_IsArray(models); /* one model may be given alone */
  if (!list && !cJSON_IsString(models) && !cJSON_IsObject(models)) {
    fail(r, "'models' wants a list: [\"WIDTHxDEPTH\", ...] or [{\"width\": W, \"depth\": D}, ...]");
    return;
  }
  if (list && !cJSON_GetArraySize(models)) fail(r, "'models' is empty: the grid would have no points");
  for (const cJSON *m = list ? models->child : models; m && !r->failed; m = list ? m->next : NULL) {
    double w, d, h;
    parse_model(m, &w, &d, &h);
    if (!is_whole(w, 1, 1e6) || !is_whole(d, 1, 1e4) || !(isnan(h) || is_whole(h, 1, 1e6))) {
      char *txt = cJSON_PrintUnformatted(m);
      fail(r,
           "model %s: write \"WIDTHxDEPTH\" (\"64x2\"), \"WIDTHxDEPTHxHEADS\", or {\"width\": 64, \"depth\": 2}",
           txt ? txt : "?");
      free(txt);
      break;
    }
    size_t hh = isnan(h) ? heads_of(r, (size_t)w, heads, head_dim) : (size_t)h;
    if (!r->failed) push_shape(r, l, (size_t)w, (size_t)d, hh, 0);
  }
}

/* Every width with every depth. */
static void shapes_from_widths(reader *r, const size_t *depths, size_t nd, size_t heads, size_t head_dim,
                               shape_list *l) {
  size_t nw;
  size_t *ws = size_list(r, "widths", "width", 1, &nw);
  for (size_t i = 0; ws && i < nw && !r->failed; i++)
    for (size_t j = 0; j < nd && !r->failed; j++) {
      size_t hh = heads_of(r, ws[i], heads, head_dim);
      if (!r->failed) push_shape(r, l, ws[i], depths[j], hh, 0);
    }
  free(ws);
}

/* The width, a multiple of step, whose N at depth is nearest target in
 * log space; 0 when the model cannot be counted. */
static size_t width_for_target(const cls_task_spec *base, size_t depth, size_t step, double target) {
  size_t best = 0;
  double best_gap = INFINITY;
  for (size_t w = step; w <= 65536; w += step) {
    double n, ne;
    if (!cls_sweep_count_params(base, w, depth, &n, &ne)) break;
    double gap = fabs(log(n / target));
    if (gap < best_gap) {
      best_gap = gap;
      best = w;
    }
    if (n > target) break; /* N grows with the width */
  }
  return best;
}

/* For every target parameter count and depth, the width nearest it (a
 * multiple of the head size, or of the heads). */
static void shapes_from_targets(reader *r, const cls_sweep_spec *s, const cJSON *targets, const size_t *depths,
                                size_t nd, size_t heads, size_t head_dim, shape_list *l) {
  size_t nt;
  double *t = num_list(r, targets, "target_params", &nt);
  if (t && !nt) fail(r, "'target_params' is empty: the grid would have no points");
  const size_t step = head_dim ? head_dim : heads;
  for (size_t i = 0; t && i < nt && !r->failed; i++) {
    if (!(t[i] >= 1) || !isfinite(t[i])) {
      fail(r, "'target_params' wants positive parameter counts (found %g)", t[i]);
      break;
    }
    for (size_t j = 0; j < nd && !r->failed; j++) {
      size_t best = width_for_target(&s->base, depths[j], step, t[i]);
      if (!best) {
        fail(r, "no model '%s' to size", s->model);
        break;
      }
      push_shape(r, l, best, depths[j], heads_of(r, best, heads, head_dim), t[i]);
    }
  }
  free(t);
}

/* The model sizes: explicit models, widths x depths, or target parameter
 * counts x depths. */
static void read_shapes(reader *r, cls_sweep_spec *s, size_t heads, size_t head_dim) {
  const cJSON *models = get(r, "models"), *widths = get(r, "widths") ? get(r, "widths") : get(r, "width"),
              *targets = get(r, "target_params");
  int given = !!models + !!widths + !!targets;
  if (given != 1) {
    fail(r, given ? "give the model sizes one way: 'models', 'widths' (with 'depths') or 'target_params' (with "
                    "'depths')"
                  : "no model sizes: give 'models' ([\"32x2\", ...] or [{\"width\": 32, \"depth\": 2}, ...]), "
                    "'widths' with 'depths', or 'target_params' with 'depths'");
    return;
  }
  shape_list l = {s->shapes, s->n_shapes, s->n_shapes}; /* a head_dim list adds to the shapes of the last */
  if (models) {
    shapes_from_models(r, models, heads, head_dim, &l);
  } else {
    size_t nd;
    size_t *depths = size_list(r, "depths", "depth", 1, &nd);
    const cls_model_info *model = cls_model_find(s->model);
    if (!depths && !r->failed && model && model->fixed_depth) { /* the model's only depth */
      depths = malloc(sizeof *depths);
      if (depths) depths[0] = model->fixed_depth, nd = 1;
    }
    if (!depths && !r->failed)
      fail(r, "give 'depths' (or 'depth') with '%s'", widths ? "widths" : "target_params");
    if (widths && !r->failed)
      shapes_from_widths(r, depths, nd, heads, head_dim, &l);
    else if (!r->failed)
      shapes_from_targets(r, s, targets, depths, nd, heads, head_dim, &l);
    free(depths);
  }
  s->shapes = l.v;
  s->n_shapes = l.n;
}

/* ------------------------------------------------------------ budgets */

static void read_budgets(reader *r, cls_sweep_spec *s) {
  static const struct {
    const char *plural, *singular, *unit;
    cls_budget_kind kind;
  } kinds[] = {{"budgets_flops", "budget_flops", "FLOPs", CLS_BUDGET_FLOPS},
               {"budgets_tokens", "budget_tokens", "tokens", CLS_BUDGET_TOKENS},
               {"budgets_steps", "budget_steps", "steps", CLS_BUDGET_STEPS}};
  size_t total = 0, present = 0;
  double *lists[3] = {0};
  size_t counts[3] = {0};
  for (int k = 0; k < 3 && !r->failed; k++) {
    const char *which;
    const cJSON *v = get2(r, kinds[k].plural, kinds[k].singular, &which);
    if (!v) continue;
    present++;
    lists[k] = num_list(r, v, which, &counts[k]);
    if (lists[k] && !counts[k]) fail(r, "'%s' is empty: the grid would have no points", which);
    for (size_t i = 0; i < counts[k] && !r->failed; i++) {
      double b = lists[k][i];
      if (!(b > 0) || !isfinite(b) || b > 1e30 || (kinds[k].kind == CLS_BUDGET_STEPS && !is_whole(b, 1, 1e15)))
        fail(r, "'%s' wants positive %s%s (found %g)", which, kinds[k].kind == CLS_BUDGET_STEPS ? "whole " : "",
             kinds[k].unit, b);
      for (size_t j = 0; j < i && !r->failed; j++)
        if (lists[k][j] == b) fail(r, "'%s' lists the budget %g twice", which, b);
    }
    total += counts[k];
  }
  if (!r->failed && !present)
    fail(r, "no budget: give 'budgets_flops' (compute budgets in FLOPs), 'budgets_tokens' or 'budgets_steps'");
  if (!r->failed && s->solved && (counts[0] || counts[2]))
    fail(r,
         "the %s task is solved, not trained: give its training-set sizes T as 'budgets_tokens' (no FLOPs or "
         "step budgets)",
         s->task);
  for (size_t i = 0; !r->failed && s->solved && i < counts[1]; i++)
    if (!is_whole(lists[1][i], 1, 1e15))
      fail(r, "'budgets_tokens' of the %s task are training-set sizes T: whole numbers >= 1 (found %g)", s->task,
           lists[1][i]);
  if (!r->failed && s->mode == CLS_SWEEP_ISOFLOP && (counts[1] || counts[2]))
    fail(r, "mode \"isoflop\" trains every size to each compute budget: give 'budgets_flops' only (token and "
            "step budgets suit mode \"curves\")");
  if (!r->failed) {
    s->budgets = malloc((total ? total : 1) * sizeof *s->budgets);
    if (!s->budgets) fail(r, "out of host memory");
    for (int k = 0; k < 3 && s->budgets; k++)
      for (size_t i = 0; i < counts[k]; i++)
        s->budgets[s->n_budgets++] = (cls_sweep_budget){kinds[k].kind, lists[k][i]};
  }
  for (int k = 0; k < 3; k++) free(lists[k]);
}

/* -------------------------------------------------------- task fields */

/* The fields of cls_task_spec that belong to tasks (each task lists the
 * ones it reads in its registry entry, cls_task_info.fields): how a spec
 * gives them. Listed in the order in which a spec giving another task's
 * fields is told about them. */
typedef enum { FIELD_SIZE, FIELD_NUM, FIELD_PATH, FIELD_TEXT } field_kind;
typedef struct {
  const char *key;
  field_kind kind;
  size_t offset; /* into cls_task_spec */
  double lo, hi; /* range; FIELD_NUM: lo is open unless lo_closed */
  int lo_closed;
} task_field;

static const task_field task_fields[] = {
    {"data", FIELD_PATH, offsetof(cls_task_spec, data), 0, 0, 0},
    {"n_train", FIELD_SIZE, offsetof(cls_task_spec, n_train), 1, 1u << 24, 0},
    {"zipf_bytes", FIELD_SIZE, offsetof(cls_task_spec, zipf_bytes), 1024, 17179869184.0, 0},
    {"n_test", FIELD_SIZE, offsetof(cls_task_spec, n_test), 1, 1u << 24, 0},
    {"context", FIELD_SIZE, offsetof(cls_task_spec, context), 1, 65536, 0},
    {"n_pixels", FIELD_SIZE, offsetof(cls_task_spec, n_pixels), 2, 1u << 20, 0},
    {"val_fraction", FIELD_NUM, offsetof(cls_task_spec, val_fraction), 0, 0.5, 0},
    {"prompt_bytes", FIELD_SIZE, offsetof(cls_task_spec, prompt_bytes), 1, 65536, 0},
    {"pixels", FIELD_SIZE, offsetof(cls_task_spec, pixels), 1, 1u << 20, 0},
    {"label_tokens", FIELD_SIZE, offsetof(cls_task_spec, label_tokens), 1, 4096, 0},
    {"latent", FIELD_SIZE, offsetof(cls_task_spec, latent), 1, 1u << 24, 0},
    {"alpha", FIELD_NUM, offsetof(cls_task_spec, alpha), 0, 100, 0},
    {"ridge", FIELD_NUM, offsetof(cls_task_spec, ridge), 0, 1e6, 1},
    {"noise", FIELD_NUM, offsetof(cls_task_spec, noise), 0, 1e6, 1},
    {"test_samples", FIELD_SIZE, offsetof(cls_task_spec, test_samples), 0, 1u << 24, 0},
    {"beta", FIELD_NUM, offsetof(cls_task_spec, beta), 1, 100, 0},
    {"vocab", FIELD_SIZE, offsetof(cls_task_spec, vocab), 1, 4294967295.0, 0},
    {"source", FIELD_TEXT, offsetof(cls_task_spec, source), 0, 0, 0},
    {"cut", FIELD_SIZE, offsetof(cls_task_spec, cut), 1, 4294967295.0, 0},
    {"beta_narrow", FIELD_NUM, offsetof(cls_task_spec, beta_narrow), 1, 100, 0},
    {"fit_samples", FIELD_SIZE, offsetof(cls_task_spec, fit_samples), 1, 4294967295.0, 0},
    {"real_fraction", FIELD_NUM, offsetof(cls_task_spec, real_fraction), 0, 1, 1},
    {"base", FIELD_SIZE, offsetof(cls_task_spec, base), 2, 1u << 20, 0},
    {"bound", FIELD_SIZE, offsetof(cls_task_spec, bound), 1, 9007199254740992.0, 0},
    {"train_pairs", FIELD_SIZE, offsetof(cls_task_spec, train_pairs), 0, 4294967295.0, 0},
    {"eval_pairs", FIELD_SIZE, offsetof(cls_task_spec, eval_pairs), 1, 1u << 24, 0},
};
#define N_TASK_FIELDS (sizeof task_fields / sizeof task_fields[0])

/* A field added after specs were in use, whose 0 means "not given" (the
 * task's default): left out of the canonical form while 0, so that the
 * form stays what it was before the field existed. */
static int zero_unset(const task_field *f) {
  return !strcmp(f->key, "prompt_bytes");
}

static const task_field *task_field_named(const char *key) {
  for (size_t i = 0; i < N_TASK_FIELDS; i++)
    if (!strcmp(task_fields[i].key, key)) return &task_fields[i];
  return NULL;
}

static int task_uses(const cls_task_info *info, const char *key) {
  for (const char *const *k = info->fields; k && *k; k++)
    if (!strcmp(*k, key)) return 1;
  return 0;
}

static double field_value(const cls_task_spec *b, const task_field *f) {
  const char *p = (const char *)b + f->offset;
  return f->kind == FIELD_SIZE ? (double)*(const size_t *)p : *(const double *)p;
}

/* The data file: relative paths are resolved against the spec's folder;
 * the canonical form keeps it as written. */
static void read_data_path(reader *r, cls_sweep_spec *s, const char *base_dir) {
  const char *data = get_str(r, "data", "zipf");
  snprintf(s->data_given, sizeof s->data_given, "%s", data ? data : "zipf");
  int n;
  if (data && strcmp(data, "zipf") && data[0] != '/' && base_dir && strcmp(base_dir, "."))
    n = snprintf(s->data, sizeof s->data, "%s/%s", base_dir, data);
  else
    n = snprintf(s->data, sizeof s->data, "%s", data ? data : "zipf");
  /* A path cut short would name another file: refused, never cut. */
  if (data && (strlen(data) >= sizeof s->data_given || n < 0 || (size_t)n >= sizeof s->data))
    fail(r, "'data' is a path of %zu characters (from the spec's folder: %d): use one of at most %zu",
         strlen(data), n, sizeof s->data - 1);
  s->base.data = !strcmp(s->data, "zipf") ? NULL : s->data;
}

/* One value of field f from v: CLS_OK with it in *set, else the reader
 * failed with the key (where names the list or variant it came from). */
static int field_value_of(reader *r, const task_field *f, const cJSON *v, const char *where,
                          cls_sweep_setting *set) {
  set->key = f->key;
  set->num = 0;
  set->text[0] = 0;
  if (f->kind == FIELD_TEXT) {
    /* The value joins the point ids (file names): the ids' characters only. */
    if (!cJSON_IsString(v) || strlen(v->valuestring) >= sizeof set->text || !cls_rundir_id_ok(v->valuestring)) {
      fail(r, "'%s'%s wants a name of 1 to %zu " CLS_RUNDIR_ID_CHARS, f->key, where, sizeof set->text - 1);
      return 0;
    }
    snprintf(set->text, sizeof set->text, "%s", v->valuestring);
    return 1;
  }
  double d = cJSON_IsNumber(v) ? v->valuedouble : NAN;
  if (f->kind == FIELD_SIZE) {
    if (!is_whole(d, f->lo, f->hi)) {
      fail(r, "'%s'%s wants a whole number from %.0f to %.0f", f->key, where, f->lo, f->hi);
      return 0;
    }
  } else if (!isfinite(d) || d < f->lo || d > f->hi || (!f->lo_closed && d == f->lo)) {
    fail(r, "'%s'%s wants a number in %s%g, %g]", f->key, where, f->lo_closed ? "[" : "(", f->lo, f->hi);
    return 0;
  }
  set->num = d;
  return 1;
}

/* Writes set into the task spec b (text values point into set). */
static void apply_setting(cls_task_spec *b, const cls_sweep_setting *set) {
  const task_field *f = task_field_named(set->key);
  if (!f) return;
  char *p = (char *)b + f->offset;
  if (f->kind == FIELD_SIZE)
    *(size_t *)p = (size_t)set->num;
  else if (f->kind == FIELD_NUM)
    *(double *)p = set->num;
  else if (f->kind == FIELD_TEXT)
    *(const char **)p = set->text;
}

void cls_sweep_combo_apply(const cls_sweep_spec *s, size_t k, cls_task_spec *out) {
  if (k >= s->n_combos) return;
  for (size_t i = 0; i < s->combos[k].n; i++) apply_setting(out, &s->combos[k].set[i]);
}

/* "_ridge0.01", "_sourcecut": a setting as its point ids show it. */
/* 0 when the tag would not fit in len (it is then left full, and the ids
 * it makes too long: refused by the plan, never cut). */
static int tag_setting(const cls_sweep_setting *set, char *tag, size_t len) {
  size_t n = strlen(tag);
  char num[32];
  if (n + 1 >= len) return 0;
  int k = snprintf(tag + n, len - n, "_%s%s", set->key,
                   set->text[0] ? set->text : cls_sweep_fmt_num(set->num, num, sizeof num));
  return k >= 0 && (size_t)k < len - n;
}

/* A group of settings: an axis's values (each one setting) or the
 * variants (each several). */
typedef struct {
  cls_sweep_setting *v; /* n entries of per settings each */
  size_t n, per[64];
  size_t *count; /* settings of entry i (variants) */
} setting_group;

enum { MAX_AXES = 8, MAX_VARIANTS = 64, MAX_COMBOS = 100000 };

/* A task field given as a list: an axis of the grid. */
static int read_axis(reader *r, const task_field *f, const cJSON *v, cls_sweep_setting **out, size_t *n) {
  size_t count = (size_t)cJSON_GetArraySize(v);
  if (!count) {
    fail(r, "'%s' is an empty list: the grid would have no points", f->key);
    return 0;
  }
  if (f->kind == FIELD_PATH) {
    fail(r, "'%s' takes one value, not a list", f->key);
    return 0;
  }
  *out = calloc(count, sizeof **out);
  if (!*out) {
    fail(r, "out of host memory");
    return 0;
  }
  size_t i = 0;
  for (const cJSON *e = v->child; e && !r->failed; e = e->next, i++) {
    if (!field_value_of(r, f, e, " (a list)", &(*out)[i])) break;
    for (size_t j = 0; j < i && !r->failed; j++)
      if ((*out)[j].num == (*out)[i].num && !strcmp((*out)[j].text, (*out)[i].text)) {
        char num[32];
        fail(r, "'%s' lists the value %s twice", f->key,
             (*out)[i].text[0] ? (*out)[i].text : cls_sweep_fmt_num((*out)[i].num, num, sizeof num));
      }
  }
  if (r->failed) { /* the caller keeps only an axis that was read */
    free(*out);
    *out = NULL;
    return 0;
  }
  *n = count;
  return 1;
}

/* `variants`: a list of objects of task fields, each a point's settings
 * over the shared ones (crossed with the axes, not with each other). */
static cls_sweep_setting *read_variants(reader *r, const cls_task_info *info, size_t *n_variants, size_t *per) {
  const cJSON *v = get(r, "variants");
  *n_variants = 0;
  if (!v) return NULL;
  if (!cJSON_IsArray(v) || !cJSON_GetArraySize(v) || cJSON_GetArraySize(v) > MAX_VARIANTS) {
    fail(r,
         "'variants' wants a list of 1 to %d objects of task settings ([{\"source\": \"cut\", \"cut\": 100}, "
         "...])",
         MAX_VARIANTS);
    return NULL;
  }
  size_t nv = (size_t)cJSON_GetArraySize(v);
  cls_sweep_setting *out = calloc(nv * CLS_SWEEP_MAX_SETTINGS, sizeof *out);
  if (!out) {
    fail(r, "out of host memory");
    return NULL;
  }
  size_t i = 0;
  for (const cJSON *e = v->child; e && !r->failed; e = e->next, i++) {
    char where[48];
    snprintf(where, sizeof where, " (variant %zu)", i + 1);
    if (!cJSON_IsObject(e) || !e->child) {
      fail(r, "'variants' entry %zu: want an object of task settings ({\"source\": \"real\"})", i + 1);
      break;
    }
    per[i] = 0;
    for (const cJSON *kv = e->child; kv && !r->failed; kv = kv->next) {
      const task_field *f = task_field_named(kv->string);
      if (!f || !task_uses(info, kv->string) || f->kind == FIELD_PATH) {
        fail(r, "'variants' entry %zu: '%s' is not a setting of the %s task a variant can change", i + 1,
             kv->string, info->task);
        break;
      }
      if (get(r, kv->string)) {
        fail(r, "'%s' is given both at the top and in variant %zu: give it in one place", kv->string, i + 1);
        break;
      }
      if (per[i] == CLS_SWEEP_MAX_SETTINGS / 2) {
        fail(r, "'variants' entry %zu sets more than %d fields", i + 1, CLS_SWEEP_MAX_SETTINGS / 2);
        break;
      }
      field_value_of(r, f, kv, where, &out[i * CLS_SWEEP_MAX_SETTINGS + per[i]++]);
    }
  }
  *n_variants = nv;
  return out;
}

/* Every axis value with every variant: s->combos, each checked by the
 * model (on every shape) and the task, so that a bad combination is
 * refused before anything runs. */
static void make_combos(reader *r, cls_sweep_spec *s, const cls_task_info *info, cls_sweep_setting **axes,
                        const size_t *axis_n, size_t n_axes, const cls_sweep_setting *variants, size_t n_variants,
                        const size_t *per) {
  double total = n_variants ? (double)n_variants : 1;
  for (size_t a = 0; a < n_axes; a++) total *= (double)axis_n[a];
  if (total > MAX_COMBOS) {
    fail(r, "the task-field grid has %.0f combinations, more than %d: use shorter lists", total, MAX_COMBOS);
    return;
  }
  s->combos = calloc((size_t)total, sizeof *s->combos);
  if (!s->combos) {
    fail(r, "out of host memory");
    return;
  }
  s->n_combos = (size_t)total;
  for (size_t k = 0; k < s->n_combos && !r->failed; k++) {
    cls_sweep_combo *c = &s->combos[k];
    size_t rest = k;
    for (size_t a = 0; a < n_axes; a++) { /* the first axis varies slowest */
      size_t stride = n_variants ? n_variants : 1;
      for (size_t b = a + 1; b < n_axes; b++) stride *= axis_n[b];
      c->set[c->n++] = axes[a][rest / stride];
      rest %= stride;
    }
    if (n_variants)
      for (size_t i = 0; i < per[rest]; i++) c->set[c->n++] = variants[rest * CLS_SWEEP_MAX_SETTINGS + i];
    int fits = 1;
    for (size_t i = 0; i < c->n; i++) fits &= tag_setting(&c->set[i], c->tag, sizeof c->tag);
    if (!fits) {
      fail(r,
           "the task settings of a point make its id longer than %d characters ('%s...'): use fewer or "
           "shorter values",
           CLS_RUNDIR_ID_MAX, c->tag);
      return;
    }
    cls_task_spec ts = s->base;
    cls_sweep_combo_apply(s, k, &ts);
    char why[512];
    if (info->check && info->check(&ts, why, sizeof why) != CLS_OK) {
      char at[512] = "";
      for (size_t i = 0; i < c->n; i++) {
        char num[32];
        size_t used = strlen(at);
        snprintf(at + used, sizeof at - used, "%s%s=%s", i ? ", " : "", c->set[i].key,
                 c->set[i].text[0] ? c->set[i].text : cls_sweep_fmt_num(c->set[i].num, num, sizeof num));
      }
      fail(r, "%s%s%s", at, at[0] ? ": " : "", why);
    }
  }
}

/* The task's own fields (another task's are refused): a value is shared by
 * every point, a list is an axis of the grid; then `variants`, and every
 * combination checked by the task. */
static void read_task_fields(reader *r, cls_sweep_spec *s, const cls_task_info *info, const char *base_dir) {
  for (size_t i = 0; i < N_TASK_FIELDS && !r->failed; i++) {
    const char *key = task_fields[i].key;
    if (task_uses(info, key) || !get(r, key)) continue;
    if (info->synthesize && !strcmp(key, "real_fraction")) continue; /* pi of its generations */
    const char *owner = "another";
    for (size_t t = 0; t < cls_task_count(); t++)
      if (task_uses(cls_task_at(t), key)) {
        owner = cls_task_at(t)->task;
        break;
      }
    fail(r, "'%s' is a setting of the %s task, not of \"%s\"", key, owner, s->task);
  }
  cls_task_spec *b = &s->base;
  cls_sweep_setting *axes[MAX_AXES] = {0};
  size_t axis_n[MAX_AXES] = {0}, n_axes = 0;
  for (const char *const *k = info->fields; k && *k && !r->failed; k++) {
    const task_field *f = task_field_named(*k);
    if (f && f->kind == FIELD_PATH) {
      read_data_path(r, s, base_dir);
      continue;
    }
    const cJSON *v = f ? get(r, f->key) : NULL;
    if (!v) continue; /* the default */
    if (cJSON_IsArray(v)) {
      if (n_axes == MAX_AXES)
        fail(r, "more than %d task settings are lists: the grid would be too large to read", MAX_AXES);
      else if (read_axis(r, f, v, &axes[n_axes], &axis_n[n_axes]))
        n_axes++;
    } else {
      cls_sweep_setting set;
      if (field_value_of(r, f, v, "", &set)) {
        if (f->kind == FIELD_TEXT) { /* the shared text lives in the spec */
          snprintf(s->shared_text[s->n_shared_text], sizeof s->shared_text[0], "%s", set.text);
          *(const char **)((char *)b + f->offset) = s->shared_text[s->n_shared_text++];
        } else {
          apply_setting(b, &set);
        }
      }
    }
  }
  size_t per[MAX_VARIANTS] = {0}, n_variants = 0;
  cls_sweep_setting *variants = r->failed ? NULL : read_variants(r, info, &n_variants, per);
  if (!r->failed) make_combos(r, s, info, axes, axis_n, n_axes, variants, n_variants, per);
  for (size_t a = 0; a < n_axes; a++) free(axes[a]);
  free(variants);
}

/* ---------------------------------------------------------- canonical */

/* Whether a combo of s sets the task field key. */
static int combo_sets(const cls_sweep_spec *s, const char *key) {
  for (size_t k = 0; k < s->n_combos; k++)
    for (size_t i = 0; i < s->combos[k].n; i++)
      if (!strcmp(s->combos[k].set[i].key, key)) return 1;
  return 0;
}

static cJSON *num_array(const double *v, size_t n) {
  cJSON *a = cJSON_CreateArray();
  for (size_t i = 0; a && i < n; i++) cJSON_AddItemToArray(a, cJSON_CreateNumber(v[i]));
  return a;
}

/* Every setting that shapes the results, in a fixed order. Operational
 * settings (checkpoint intervals, keeping checkpoints) are left out: they
 * may change between re-runs of the same sweep. */
static char *canonical(const cls_sweep_spec *s, size_t isoflop_sizes) {
  cJSON *o = cJSON_CreateObject();
  if (!o) return NULL;
  const cls_task_spec *b = &s->base;
  cJSON_AddStringToObject(o, "name", s->name);
  cJSON_AddStringToObject(o, "task", s->task);
  cJSON_AddStringToObject(o, "model", s->model);
  cJSON_AddStringToObject(o, "mode", cls_sweep_mode_name(s->mode));
  cJSON *m = cJSON_AddArrayToObject(o, "models");
  for (size_t i = 0; m && i < s->n_shapes; i++) {
    cJSON *e = cJSON_CreateObject();
    cJSON_AddNumberToObject(e, "width", (double)s->shapes[i].width);
    cJSON_AddNumberToObject(e, "depth", (double)s->shapes[i].depth);
    cJSON_AddNumberToObject(e, "heads", (double)s->shapes[i].heads);
    if (s->shapes[i].target_params > 0) cJSON_AddNumberToObject(e, "target_params", s->shapes[i].target_params);
    cJSON_AddItemToArray(m, e);
  }
  cJSON *bu = cJSON_AddArrayToObject(o, "budgets");
  for (size_t i = 0; bu && i < s->n_budgets; i++) {
    cJSON *e = cJSON_CreateObject();
    cJSON_AddNumberToObject(e,
                            s->budgets[i].kind == CLS_BUDGET_FLOPS    ? "flops"
                            : s->budgets[i].kind == CLS_BUDGET_TOKENS ? "tokens"
                                                                      : "steps",
                            s->budgets[i].value);
    cJSON_AddItemToArray(bu, e);
  }
  if (isoflop_sizes) cJSON_AddNumberToObject(o, "isoflop_sizes", (double)isoflop_sizes);
  cJSON *se = cJSON_AddArrayToObject(o, "seeds");
  for (size_t i = 0; se && i < s->n_seeds; i++) cJSON_AddItemToArray(se, cJSON_CreateNumber((double)s->seeds[i]));
  cJSON_AddItemToObject(o, "lr", num_array(s->lrs, s->n_lrs));
  cJSON_AddNumberToObject(o, "batch", (double)b->batch);
  if (s->n_param_list) {
    cJSON *pl = cJSON_AddArrayToObject(o, "param");
    for (size_t i = 0; pl && i < s->n_param_list; i++)
      cJSON_AddItemToArray(pl, cJSON_CreateString(cls_parametrisation_name(s->param_list[i])));
  } else {
    cJSON_AddStringToObject(o, "param", cls_parametrisation_name(b->param));
  }
  cJSON_AddNumberToObject(o, "base_width", (double)b->base_width);
  cJSON_AddNumberToObject(o, "init_std", (double)b->init_std);
  cJSON_AddNumberToObject(o, "weight_decay", (double)b->weight_decay);
  if (s->warmup_fraction >= 0)
    cJSON_AddNumberToObject(o, "warmup", s->warmup_fraction);
  else
    cJSON_AddNumberToObject(o, "warmup_steps", (double)s->warmup_steps);
  cJSON_AddNumberToObject(o, "min_lr_ratio", s->min_lr_ratio);
  cJSON_AddNumberToObject(o, "beta1", s->beta1);
  cJSON_AddNumberToObject(o, "beta2", s->beta2);
  cJSON_AddNumberToObject(o, "clip", s->clip);
  cJSON_AddNumberToObject(o, "evals", (double)s->evals);
  cJSON_AddNumberToObject(o, "eval_every", (double)s->eval_every);
  cJSON_AddNumberToObject(o, "eval_batches", (double)s->eval_batches);
  cJSON_AddNumberToObject(o, "data_seed", (double)b->data_seed);
  const cls_task_info *info = cls_task_find(s->task, s->model);
  for (const char *const *k = info ? info->fields : NULL; k && *k; k++) {
    const task_field *f = task_field_named(*k);
    if (!f || combo_sets(s, f->key)) continue; /* a grid's field is in "grid" */
    if (zero_unset(f) && field_value(b, f) == 0) continue;
    if (f->kind == FIELD_PATH)
      cJSON_AddStringToObject(o, f->key, s->data_given);
    else if (f->kind == FIELD_TEXT)
      cJSON_AddStringToObject(o, f->key, *(const char *const *)((const char *)b + f->offset));
    else
      cJSON_AddNumberToObject(o, f->key, field_value(b, f));
  }
  /* The task-field grid, only when there is one (so that the canonical
   * form of a spec without it is what it always was). */
  cJSON *grid = s->n_combos > 1 || (s->n_combos == 1 && s->combos[0].n) ? cJSON_AddArrayToObject(o, "grid") : NULL;
  for (size_t k = 0; grid && k < s->n_combos; k++) {
    cJSON *e = cJSON_CreateObject();
    for (size_t i = 0; e && i < s->combos[k].n; i++) {
      const cls_sweep_setting *set = &s->combos[k].set[i];
      if (set->text[0])
        cJSON_AddStringToObject(e, set->key, set->text);
      else
        cJSON_AddNumberToObject(e, set->key, set->num);
    }
    cJSON_AddItemToArray(grid, e);
  }
  if (s->generations) { /* only then, so that other specs keep their canonical form */
    cJSON_AddNumberToObject(o, "generations", (double)s->generations);
    cJSON_AddItemToObject(o, "real_fraction", num_array(s->real_fractions, s->n_real_fractions));
    cJSON_AddNumberToObject(o, "sample_temperature", s->sample_temperature);
    cJSON_AddNumberToObject(o, "top_k", (double)s->top_k);
    cJSON_AddNumberToObject(o, "top_p", s->top_p);
    cJSON_AddNumberToObject(o, "synthetic_pairs", (double)s->synthetic_pairs);
  }
  char *txt = cJSON_PrintUnformatted(o);
  cJSON_Delete(o);
  return txt;
}

/* --------------------------------------------------------------- load */

/* Refuses keys no spec has (typos) and keys given twice. */
static void check_keys(reader *r) {
  for (const cJSON *e = r->root->child; e && !r->failed; e = e->next) {
    char word[72];
    snprintf(word, sizeof word, " %.64s ", e->string ? e->string : "");
    int ok = e->string && (e->string[0] == '_' || !strcmp(e->string, "comment") ||
                           (!strchr(e->string, ' ') && (strstr(known_keys, word) || task_field_named(e->string))));
    if (!ok)
      fail(r, "unknown key '%s' (docs/sweep.md lists the keys; keys starting with '_' are comments)", e->string);
    for (const cJSON *f = e->next; f && !r->failed; f = f->next)
      if (!strcmp(f->string, e->string)) fail(r, "the key '%s' is given twice", e->string);
  }
}

/* name, task and model: the registry's entry, or NULL (failed). */
static const cls_task_info *read_task(reader *r, cls_sweep_spec *s) {
  const char *name = get_str(r, "name", "sweep");
  char why[512];
  /* The name becomes the default run directory runs/NAME: it must be one
   * folder name, never a path (issue 14). */
  if (!r->failed && cls_rundir_check_id("'name'", name, why, sizeof why) != CLS_OK) {
    fail(r, "%s", why);
    return NULL;
  }
  snprintf(s->name, sizeof s->name, "%s", name);
  const char *task = get_str(r, "task", NULL);
  if (!task && !r->failed) {
    char tasks[512] = "";
    size_t n = 0;
    for (size_t i = 0; i < cls_task_count() && n < sizeof tasks; i++) {
      const cls_task_info *t = cls_task_at(i);
      if (cls_task_find(t->task, NULL) != t) continue; /* each task once */
      int k = snprintf(tasks + n, sizeof tasks - n, "%s\"%s\" (%s)", n ? ", " : "", t->task, t->summary);
      n += k > 0 ? (size_t)k : 0;
    }
    fail(r, "no 'task': give one of %s", tasks);
    return NULL;
  }
  if (r->failed) return NULL;
  const cls_task_info *dflt = cls_task_find(task, NULL);
  const char *model = get_str(r, "model", dflt ? dflt->model->name : s->base.model);
  if (r->failed) return NULL;
  const cls_task_info *info = cls_task_find(task, model);
  if (strlen(task) >= sizeof s->task || strlen(model) >= sizeof s->model || !info) {
    char list[256];
    fail(r, "no task '%s' with model '%s' in this build: use one of %s", task, model,
         cls_task_list(list, sizeof list));
    return NULL;
  }
  snprintf(s->task, sizeof s->task, "%s", task);
  snprintf(s->model, sizeof s->model, "%s", model);
  s->base.task = s->task;
  s->base.model = s->model;
  return info;
}

static void read_mode(reader *r, cls_sweep_spec *s) {
  const char *mode = get_str(r, "mode", s->solved ? "curves" : NULL);
  if (s->solved && mode && strcmp(mode, "curves")) {
    fail(r,
         "mode '%s': the %s task is solved at each training-set size T (`budgets_tokens`), mode \"curves\" "
         "(the default for it)",
         mode, s->task);
    return;
  }
  if (!mode && !r->failed)
    fail(r, "no 'mode': give \"isoflop\" (every size trained to each FLOPs budget) or \"curves\" (one run per "
            "size, loss against FLOPs)");
  else if (mode && !strcmp(mode, "isoflop"))
    s->mode = CLS_SWEEP_ISOFLOP;
  else if (mode && !strcmp(mode, "curves"))
    s->mode = CLS_SWEEP_CURVES;
  else if (mode)
    fail(r, "mode '%s': use \"isoflop\" or \"curves\"", mode);
}

/* `param`: one name, or a list of them (each a point of its own: the
 * learning-rate transfer sweeps train SP and muP side by side). */
static void read_params(reader *r, cls_sweep_spec *s) {
  const cJSON *v = get(r, "param");
  s->base.param = CLS_PARAM_SP;
  if (!v) return;
  const int list = cJSON_IsArray(v);
  const size_t n = list ? (size_t)cJSON_GetArraySize(v) : 1;
  if (list && s->solved) {
    fail(r, "'param' is a list, but the %s task is solved exactly: it has no parametrisation to vary", s->task);
    return;
  }
  if (list && (n == 0 || n > 3)) {
    fail(r, "'param' wants a name or a list of 1 to 3 names: \"sp\", \"mup\", \"mup-depth\"");
    return;
  }
  size_t i = 0;
  for (const cJSON *e = list ? v->child : v; e && i < n; e = list ? e->next : NULL, i++) {
    cls_parametrisation p;
    if (!cJSON_IsString(e) || !cls_parametrisation_parse(e->valuestring, &p)) {
      fail(r, "param '%s': use \"sp\", \"mup\" or \"mup-depth\" (or a list of them)",
           cJSON_IsString(e) ? e->valuestring : "(not a string)");
      return;
    }
    for (size_t j = 0; j < i; j++)
      if (s->param_list[j] == p) {
        fail(r, "'param' lists \"%s\" twice", e->valuestring);
        return;
      }
    s->param_list[i] = p;
  }
  s->base.param = s->param_list[0];
  /* One name keeps n_param_list 0: the ids and the canonical form of the
   * specs written before lists existed stay what they were. */
  s->n_param_list = list && n > 1 ? n : 0;
}

/* The task settings every task shares (before the shapes: target_params
 * counts with them). */
static void read_shared_settings(reader *r, cls_sweep_spec *s) {
  cls_task_spec *b = &s->base;
  b->batch = get_size(r, "batch", b->batch, 1, 1u << 20);
  b->data_seed = (uint64_t)get_num(r, "data_seed", (double)b->data_seed, 0, 9007199254740992.0, 0);
  if (get(r, "data_seed") && !is_whole((double)b->data_seed, 0, 9007199254740992.0))
    fail(r, "'data_seed' wants a whole number");
  read_params(r, s);
  b->base_width = get_size(r, "base_width", b->base_width, 1, 65536);
  b->init_std = (float)get_num(r, "init_std", b->init_std, 0, 10, 1);
  b->weight_decay = (float)get_num(r, "weight_decay", b->weight_decay, 0, 10, 0);
}

/* The model sizes, each checked by the model itself on the host, before
 * any device work. */
static void read_grid_shapes(reader *r, cls_sweep_spec *s, const cls_task_info *info) {
  if (info->model->shapeless) {
    /* No size to grid over: one point shape, width and depth 0. */
    static const char *const sizes[] = {"models", "widths",        "width", "depths",
                                        "depth",  "target_params", "heads", "head_dim"};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0] && !r->failed; i++)
      if (get(r, sizes[i]))
        fail(r, "'%s': the %s model of the %s task has no size to give", sizes[i], info->model->name, info->task);
    s->shapes = calloc(1, sizeof *s->shapes);
    if (!s->shapes) fail(r, "out of host memory");
    s->n_shapes = s->shapes ? 1 : 0;
    return;
  }
  const cJSON *hd = get(r, "head_dim");
  if (cJSON_IsArray(hd) && !info->model->has_heads)
    fail(r, "'head_dim' is a list, but the %s model has no attention heads: it has no head size to vary",
         info->model->name);
  size_t heads = get_size(r, "heads", 4, 1, 65536), head_dim = 0;
  if (get(r, "heads") && hd) fail(r, "give 'heads' or 'head_dim', not both");
  if (cJSON_IsArray(hd)) {
    /* A list of head sizes: every width x depth at each (the transfer
     * sweeps' head-size axis); ids then carry the heads ("_h4"). */
    size_t n;
    double *v = num_list(r, hd, "head_dim", &n);
    if (v && !n) fail(r, "'head_dim' is empty: the grid would have no points");
    for (size_t i = 0; v && i < n && !r->failed; i++) {
      if (!is_whole(v[i], 1, 65536)) fail(r, "'head_dim' wants whole numbers from 1 to 65536 (found %g)", v[i]);
      for (size_t j = 0; j < i && !r->failed; j++)
        if (v[j] == v[i]) fail(r, "'head_dim' lists %g twice", v[i]);
      if (!r->failed) read_shapes(r, s, heads, (size_t)v[i]);
    }
    free(v);
  } else {
    head_dim = get_size(r, "head_dim", 0, 1, 65536);
    if (!r->failed) read_shapes(r, s, heads, head_dim);
  }
  for (size_t i = 0; i < s->n_shapes && !r->failed; i++) {
    char why[512];
    cls_task_spec ts = s->base;
    ts.width = s->shapes[i].width;
    ts.depth = s->shapes[i].depth;
    ts.heads = s->shapes[i].heads;
    /* Every parametrisation of a `param` list: muP has checks of its own
     * (its base width against the heads). */
    for (size_t p = 0; p < (s->n_param_list ? s->n_param_list : 1) && !r->failed; p++) {
      if (s->n_param_list) ts.param = s->param_list[p];
      if (info->model->check(&ts, why, sizeof why) != CLS_OK)
        fail(r, "model width %zu, depth %zu, heads %zu%s%s: %s", s->shapes[i].width, s->shapes[i].depth,
             s->shapes[i].heads, s->n_param_list ? ", param " : "",
             s->n_param_list ? cls_parametrisation_name(ts.param) : "", why);
    }
  }
}

static void read_isoflop_sizes(reader *r, cls_sweep_spec *s) {
  size_t isoflop_sizes = get_size(r, "isoflop_sizes", 0, 1, 1u << 20);
  if (!r->failed && isoflop_sizes && s->mode != CLS_SWEEP_ISOFLOP)
    fail(r, "'isoflop_sizes' (a window of model sizes per budget) belongs to mode \"isoflop\"");
  if (!r->failed && isoflop_sizes > s->n_shapes)
    fail(r, "'isoflop_sizes' %zu is more than the %zu model sizes", isoflop_sizes, s->n_shapes);
  if (!r->failed) s->isoflop_sizes = isoflop_sizes;
}

static void read_seeds(reader *r, cls_sweep_spec *s) {
  size_t n;
  const char *which;
  const cJSON *v = get2(r, "seeds", "seed", &which);
  double *seeds = v ? num_list(r, v, which, &n) : NULL;
  if (!v) {
    seeds = malloc(sizeof *seeds);
    if (seeds) seeds[0] = 1;
    n = 1;
  }
  if (seeds && !n) fail(r, "'%s' is empty: the grid would have no points", which);
  s->seeds = malloc((n ? n : 1) * sizeof *s->seeds);
  for (size_t i = 0; seeds && s->seeds && i < n && !r->failed; i++) {
    if (!is_whole(seeds[i], 0, 9007199254740992.0))
      fail(r, "'%s' wants whole numbers >= 0 (found %g)", which, seeds[i]);
    for (size_t j = 0; j < i && !r->failed; j++)
      if (seeds[j] == seeds[i]) fail(r, "'%s' lists the seed %g twice", which, seeds[i]);
    if (r->failed) break; /* a refused value is never converted (9e52 does not fit 64 bits) */
    s->seeds[i] = (uint64_t)seeds[i];
  }
  s->n_seeds = seeds && s->seeds ? n : 0;
  free(seeds);
}

static void read_lrs(reader *r, cls_sweep_spec *s) {
  const char *which;
  const cJSON *v = get2(r, "lrs", "lr", &which);
  if (v && s->solved) {
    fail(r, "'%s': the %s task is solved exactly, with no optimizer and no learning rate", which, s->task);
    return;
  }
  s->lrs = v ? num_list(r, v, which, &s->n_lrs) : NULL;
  if (!v) {
    s->lrs = malloc(sizeof *s->lrs);
    if (s->lrs) s->lrs[0] = 1e-3, s->n_lrs = 1;
  }
  if (s->lrs && !s->n_lrs) fail(r, "'%s' is empty: the grid would have no points", which);
  for (size_t i = 0; i < s->n_lrs && !r->failed; i++) {
    if (!(s->lrs[i] > 0) || !isfinite(s->lrs[i]) || s->lrs[i] > 100)
      fail(r, "'%s' wants positive learning rates (found %g)", which, s->lrs[i]);
    for (size_t j = 0; j < i && !r->failed; j++)
      if (s->lrs[j] == s->lrs[i]) fail(r, "'%s' lists the learning rate %g twice", which, s->lrs[i]);
  }
}

/* Schedule, evaluation, checkpoints. */
static void read_schedule(reader *r, cls_sweep_spec *s) {
  if (get(r, "warmup") && get(r, "warmup_steps"))
    fail(r, "give 'warmup' (a fraction of the run) or 'warmup_steps', not both");
  s->warmup_fraction = get_num(r, "warmup", 0.05, 0, 0.99, 0);
  if (get(r, "warmup_steps")) {
    s->warmup_steps = get_size(r, "warmup_steps", 0, 0, (size_t)1e12);
    s->warmup_fraction = -1;
  }
  s->min_lr_ratio = get_num(r, "min_lr_ratio", 0.1, 0, 1, 0);
  s->beta1 = get_num(r, "beta1", 0.9, 0, 0.999999, 0);
  s->beta2 = get_num(r, "beta2", 0.95, 0, 0.999999, 0);
  s->clip = get_num(r, "clip", 1.0, 0, 1e6, 0);
  s->evals = get_size(r, "evals", 20, 1, 100000);
  s->eval_every = get_size(r, "eval_every", 0, 1, (size_t)1e12);
  s->eval_batches = get_size(r, "eval_batches", 8, 1, 100000);
  s->checkpoint_steps = get_size(r, "checkpoint_steps", 0, 1, (size_t)1e12);
  s->checkpoint_seconds = get_num(r, "checkpoint_seconds", 60, 0, 1e9, 0);
  s->keep_checkpoints = get_bool(r, "keep_checkpoints", 0);
  /* Operational too (docs/sweep.md, "On a cluster"): -1 and 0 when not
   * given, for the command's defaults. */
  s->max_retries = get(r, "max_retries") ? (long)get_size(r, "max_retries", 2, 0, 1000) : -1;
  s->claim_timeout = get_num(r, "claim_timeout", 0, 0, 1e9, 1);
}

/* ---------------------------------------------------------- generations */

/* real_fraction comes first: it is a generations setting only for tasks
 * that do not have their own (the zipf memoriser's pi is a task field). */
static const char *const generation_keys[] = {"real_fraction", "synthetic_fraction", "sample_temperature", "top_k",
                                              "top_p",         "synthetic_pairs"};

/* The training examples the largest budget draws for combo k: the size a
 * corpus must have (each example is seen once). */
static double examples_needed(reader *r, const cls_sweep_spec *s, const cls_task_info *info, size_t k) {
  cls_task_spec ts = s->base;
  cls_sweep_combo_apply(s, k, &ts);
  size_t per = 0;
  char why[512];
  if (info->synth_check(&ts, &per, why, sizeof why) != CLS_OK) {
    const cls_sweep_combo *c = &s->combos[k];
    fail(r, "generations: %s%s%s", c->n ? c->tag + 1 : "", c->n ? ": " : "", why);
    return 0;
  }
  double most = 0;
  for (size_t b = 0; b < s->n_budgets; b++) {
    const double steps = s->budgets[b].kind == CLS_BUDGET_STEPS
                             ? s->budgets[b].value
                             : floor(s->budgets[b].value / ((double)ts.batch * (double)per));
    most = fmax(most, steps * (double)ts.batch);
  }
  return most;
}

/* pi, the share of real data mixed into generations >= 1: `real_fraction`
 * gives it, `synthetic_fraction` its complement 1 - pi (the share of the
 * corpus), never both; one number or a list (an axis). Default: 0, the
 * corpus alone. 0 when the reader failed. */
static int read_real_fractions(reader *r, cls_sweep_spec *s) {
  const cJSON *real = get(r, "real_fraction"), *synth = get(r, "synthetic_fraction");
  if (real && synth) {
    fail(r, "give 'real_fraction' (pi, the share of real data mixed into generations 1 and later) or "
            "'synthetic_fraction' (1 - pi, the share of the model's corpus), not both");
    return 0;
  }
  const char *key = synth ? "synthetic_fraction" : "real_fraction";
  const cJSON *v = synth ? synth : real;
  if (v && s->generations < 2) {
    fail(
        r,
        "'%s' mixes real data into generations 1 and later: with 'generations' %u there are none (give 2 or more)",
        key, s->generations);
    return 0;
  }
  if (!v) {
    s->real_fractions = malloc(sizeof *s->real_fractions);
    if (!s->real_fractions)
      fail(r, "out of host memory");
    else
      s->real_fractions[0] = 0, s->n_real_fractions = 1;
    return !r->failed;
  }
  s->real_fractions = num_list(r, v, key, &s->n_real_fractions);
  if (s->real_fractions && !s->n_real_fractions) fail(r, "'%s' is empty: the grid would have no points", key);
  for (size_t i = 0; i < s->n_real_fractions && !r->failed; i++) {
    const double x = s->real_fractions[i];
    if (!(x >= 0 && x <= 1)) {
      fail(r,
           synth
               ? "'synthetic_fraction' is 1 - pi, the share of the model's corpus in generations 1 and later: "
                 "want numbers in [0, 1] (found %g)"
               : "'real_fraction' is pi, the share of real data mixed into generations 1 and later: want numbers "
                 "in [0, 1] (found %g)",
           x);
      break;
    }
    for (size_t j = 0; j < i && !r->failed; j++)
      if (s->real_fractions[j] == x) fail(r, "'%s' lists %g twice", key, x);
  }
  /* 1 - 0.8 is 0.19999999999999996 in binary: rounded to 12 decimals, so
   * that the summaries say 0.2 and both spellings give the same points. */
  for (size_t i = 0; synth && i < s->n_real_fractions; i++)
    s->real_fractions[i] = round((1 - s->real_fractions[i]) * 1e12) / 1e12;
  return !r->failed;
}

/* `generations` and its settings; a spec without it may give none of them. */
static void read_generations(reader *r, cls_sweep_spec *s, const cls_task_info *info) {
  if (!get(r, "generations")) {
    for (size_t i = task_uses(info, "real_fraction");
         i < sizeof generation_keys / sizeof generation_keys[0] && !r->failed; i++)
      if (get(r, generation_keys[i]))
        fail(r, "'%s' is a setting of generations: give 'generations' (2 or more) with it", generation_keys[i]);
    return;
  }
  s->generations = (unsigned)get_size(r, "generations", 1, 1, CLS_SYNTH_MAX_GENERATIONS);
  if (r->failed) return;
  if (!info->synthesize) {
    fail(r, "'generations': the %s task cannot train on a model's samples (the gcd and text tasks can)", s->task);
    return;
  }
  if (s->mode != CLS_SWEEP_CURVES) {
    fail(r, "'generations' needs mode \"curves\": each point is one model trained on D examples");
    return;
  }
  for (size_t b = 0; b < s->n_budgets; b++)
    if (s->budgets[b].kind == CLS_BUDGET_FLOPS) {
      fail(r, "'generations' needs budgets in tokens or steps (the data D each model sees), not 'budgets_flops'");
      return;
    }
  if (!read_real_fractions(r, s)) return;
  s->sample_temperature = get_num(r, "sample_temperature", 1.0, 0, 100, 1);
  s->top_p = get_num(r, "top_p", 1.0, 0, 1, 1);
  if (get(r, "top_k")) s->top_k = get_size(r, "top_k", 0, 1, (size_t)1 << 24);
  if (r->failed) return;
  double needed = 0;
  for (size_t k = 0; k < (s->n_combos ? s->n_combos : 1) && !r->failed; k++)
    needed = fmax(needed, examples_needed(r, s, info, k));
  if (r->failed) return;
  s->synthetic_pairs = get_size(r, "synthetic_pairs", (size_t)needed, 1, (size_t)1 << 32);
  if (!r->failed && (double)s->synthetic_pairs < needed)
    fail(r,
         "'synthetic_pairs' %zu: the largest budget trains on %.0f examples, each seen once, so a corpus needs "
         "at least %.0f sequences (raise it, or lower the budget)",
         s->synthetic_pairs, needed, needed);
  if (!r->failed && !s->synthetic_pairs) fail(r, "the largest budget is less than one step: raise it");
}

/* The steps in the order of their messages: the first problem is the one
 * reported. */
static void read_spec(reader *r, cls_sweep_spec *s, const char *base_dir) {
  if (!cJSON_IsObject(r->root)) {
    fail(r, "a spec is an object of settings ({\"task\": \"spectra\", ...})");
    return;
  }
  check_keys(r);
  if (r->failed) return;
  cls_task_spec_default(&s->base);
  const cls_task_info *info = read_task(r, s);
  if (!info) return;
  s->solved = info->solve != NULL;
  read_mode(r, s);
  read_shared_settings(r, s);
  if (!r->failed) read_task_fields(r, s, info, base_dir);
  if (r->failed) return;
  read_grid_shapes(r, s, info);
  if (!r->failed) read_budgets(r, s);
  read_isoflop_sizes(r, s);
  if (r->failed) return;
  read_seeds(r, s);
  if (r->failed) return;
  read_lrs(r, s);
  if (r->failed) return;
  read_schedule(r, s);
  if (r->failed) return;
  read_generations(r, s, info);
  if (r->failed) return;
  s->canonical = canonical(s, s->isoflop_sizes);
  if (!s->canonical) fail(r, "out of host memory");
}

void cls_sweep_spec_free(cls_sweep_spec *s) {
  if (!s) return;
  free(s->shapes);
  free(s->budgets);
  free(s->seeds);
  free(s->lrs);
  free(s->canonical);
  free(s->combos);
  free(s->real_fractions);
  free(s);
}

/* ---------------------------------------------------------------- INI */

static char *trim(char *p) {
  while (isspace((unsigned char)*p)) p++;
  char *e = p + strlen(p);
  while (e > p && isspace((unsigned char)e[-1])) *--e = 0;
  return p;
}

/* Whether v is a number as JSON writes one (-?digits[.digits][e[+-]digits]):
 * an INI spec reads numbers as a JSON spec does, so "0x10", "inf" or "1."
 * are refused by both rather than read by strtod in one of them. */
static int json_number_syntax(const char *v) {
  const char *p = v + (*v == '-');
  if (!isdigit((unsigned char)*p)) return 0;
  while (isdigit((unsigned char)*p)) p++;
  if (*p == '.') {
    if (!isdigit((unsigned char)*++p)) return 0;
    while (isdigit((unsigned char)*p)) p++;
  }
  if (*p == 'e' || *p == 'E') {
    p += p[1] == '+' || p[1] == '-' ? 2 : 1;
    if (!isdigit((unsigned char)*p)) return 0;
    while (isdigit((unsigned char)*p)) p++;
  }
  return !*p;
}

/* One INI value: a number, true/false, or a string (quotes optional). A
 * value that opens a quote it does not close sets *unclosed (and is NULL):
 * the quote is a typo, not part of the value. */
static cJSON *ini_value(char *v, int *unclosed) {
  v = trim(v);
  size_t n = strlen(v);
  if (n >= 1 && (v[0] == '"' || v[0] == '\'')) {
    if (n < 2 || v[n - 1] != v[0]) {
      *unclosed = 1;
      return NULL;
    }
    v[n - 1] = 0;
    return cJSON_CreateString(v + 1);
  }
  if (!strcmp(v, "true")) return cJSON_CreateTrue();
  if (!strcmp(v, "false")) return cJSON_CreateFalse();
  char *end;
  errno = 0;
  double d = json_number_syntax(v) ? strtod(v, &end) : 0;
  if (json_number_syntax(v) && !errno) return cJSON_CreateNumber(d);
  return cJSON_CreateString(v);
}

/* key = value lines; [sections] only group keys for people; '#' and ';'
 * start comment lines; a value with commas is a list; "[]" an empty list. */
static cJSON *ini_parse(const char *text, const char *src, char *err, size_t err_len) {
  cJSON *o = cJSON_CreateObject();
  char *copy = malloc(strlen(text) + 1);
  if (!o || !copy) {
    cJSON_Delete(o);
    free(copy);
    snprintf(err, err_len, "%s: out of host memory", src);
    return NULL;
  }
  strcpy(copy, text);
  int line_no = 0;
  char *save = copy;
  for (char *line = copy; line; line = save) {
    char *nl = strchr(line, '\n');
    save = nl ? nl + 1 : NULL;
    if (nl) *nl = 0;
    line_no++;
    char *p = trim(line);
    if (!*p || *p == '#' || *p == ';') continue;
    if (*p == '[' && p[strlen(p) - 1] == ']') continue;
    char *eq = strchr(p, '=');
    if (!eq) {
      snprintf(err, err_len, "%s:%d: not 'key = value' (\"%.60s\"); a spec is JSON ({...}) or INI lines", src,
               line_no, p);
      goto bad;
    }
    *eq = 0;
    char *key = trim(p), *val = trim(eq + 1);
    if (!*key) {
      snprintf(err, err_len, "%s:%d: a value without a key", src, line_no);
      goto bad;
    }
    if (cJSON_GetObjectItemCaseSensitive(o, key)) {
      snprintf(err, err_len, "%s:%d: the key '%s' is given twice", src, line_no, key);
      goto bad;
    }
    cJSON *v;
    int unclosed = 0;
    if (!strcmp(val, "[]")) {
      v = cJSON_CreateArray();
    } else if (strchr(val, ',')) {
      v = cJSON_CreateArray();
      char *item = val;
      while (v && item) {
        char *comma = strchr(item, ',');
        if (comma) *comma = 0;
        if (!*trim(item)) {
          snprintf(err, err_len, "%s:%d: '%s' has an empty item in its list", src, line_no, key);
          cJSON_Delete(v);
          goto bad;
        }
        cJSON *it = ini_value(item, &unclosed);
        if (!it) {
          cJSON_Delete(v);
          v = NULL;
          break;
        }
        cJSON_AddItemToArray(v, it);
        item = comma ? comma + 1 : NULL;
      }
    } else if (!*val) {
      snprintf(err, err_len, "%s:%d: '%s' has no value", src, line_no, key);
      goto bad;
    } else {
      v = ini_value(val, &unclosed);
    }
    if (unclosed) {
      snprintf(err, err_len, "%s:%d: '%s' opens a quote it does not close: end the value with the same quote", src,
               line_no, key);
      goto bad;
    }
    if (!v) {
      snprintf(err, err_len, "%s: out of host memory", src);
      goto bad;
    }
    cJSON_AddItemToObject(o, key, v);
  }
  free(copy);
  return o;
bad:
  free(copy);
  cJSON_Delete(o);
  return NULL;
}

/* -------------------------------------------------------------- entry */

cls_status cls_sweep_spec_parse(const char *text, const char *source, const char *base_dir, cls_sweep_spec **out,
                                char *err, size_t err_len) {
  *out = NULL;
  const char *src = source ? source : "spec";
  const char *p = text;
  while (isspace((unsigned char)*p)) p++;
  if (!*p) {
    snprintf(err, err_len,
             "%s: the spec is empty: write a JSON object ({\"task\": \"spectra\", ...}) or INI lines", src);
    return CLS_ERR_FORMAT;
  }
  cJSON *root;
  if (*p == '{') {
    const char *end = NULL;
    const size_t n = strlen(text), bad = cls_json_bad_escape(text, n);
    root = bad < n ? NULL : cJSON_ParseWithOpts(text, &end, 1);
    if (bad < n) {
      end = text + bad;
      int line = 1, col = 1;
      for (const char *q = text; q < end; q++) {
        col = *q == '\n' ? 1 : col + 1;
        line += *q == '\n';
      }
      snprintf(err, err_len,
               "%s:%d:%d: not valid JSON: \"%.6s\" is not an escape (\\u wants 4 hex digits, not 0000)", src, line,
               col, end);
      return CLS_ERR_FORMAT;
    }
    if (!root) {
      /* Line and column of the first character cJSON could not take. */
      int line = 1, col = 1;
      for (const char *q = text; end && q < end && *q; q++) {
        if (*q == '\n')
          line++, col = 1;
        else
          col++;
      }
      snprintf(err, err_len,
               "%s:%d:%d: not valid JSON near \"%.20s\" (a missing comma or quote, or a trailing "
               "comma?)",
               src, line, col, end && *end ? end : "the end of the file");
      return CLS_ERR_FORMAT;
    }
  } else {
    root = ini_parse(text, src, err, err_len);
    if (!root) return CLS_ERR_FORMAT;
  }
  cls_sweep_spec *s = calloc(1, sizeof *s);
  if (!s) {
    cJSON_Delete(root);
    snprintf(err, err_len, "%s: out of host memory", src);
    return CLS_ERR_OUT_OF_MEMORY;
  }
  reader r = {root, src, err, err_len, 0};
  read_spec(&r, s, base_dir);
  cJSON_Delete(root);
  if (r.failed) {
    cls_sweep_spec_free(s);
    return CLS_ERR_INVALID_VALUE;
  }
  *out = s;
  return CLS_OK;
}

/* The spec's text: at most 64 MB (a bigger file is not a spec), with the
 * spec reader's own messages. */
static cls_status read_spec_file(const char *path, char **text, char *err, size_t err_len) {
  size_t len = 0;
  char why[512];
  cls_status st = cls_read_file(path, (size_t)64 << 20, text, &len, why, sizeof why);
  if (st == CLS_ERR_INVALID_SIZE) {
    snprintf(err, err_len, "%s: larger than 64 MB: is it a spec?", path);
    return CLS_ERR_FORMAT;
  }
  if (st == CLS_ERR_IO) {
    /* "cannot open PATH: reason" or "cannot read PATH: reason": the reason
     * after the path, in this reader's words. */
    const char *reason = strstr(why, path) ? strstr(why, path) + strlen(path) : NULL;
    snprintf(err, err_len, "cannot %s the spec '%s'%s", strncmp(why, "cannot read", 11) ? "open" : "read", path,
             reason && reason[0] == ':' ? reason : ": unreadable");
    return st;
  }
  if (st != CLS_OK) {
    snprintf(err, err_len, "%s: %s", path, why);
    return st;
  }
  if (strlen(*text) != len) {
    free(*text);
    *text = NULL;
    snprintf(err, err_len, "%s: contains NUL bytes: a spec is a JSON or INI text file", path);
    return CLS_ERR_FORMAT;
  }
  return CLS_OK;
}

cls_status cls_sweep_spec_load(const char *path, cls_sweep_spec **out, char *err, size_t err_len) {
  *out = NULL;
  char *text = NULL;
  cls_status st = read_spec_file(path, &text, err, err_len);
  if (st != CLS_OK) return st;
  char dir[1024];
  const char *slash = strrchr(path, '/');
  if (slash)
    snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
  else
    snprintf(dir, sizeof dir, ".");
  if (!dir[0]) snprintf(dir, sizeof dir, "/");
  st = cls_sweep_spec_parse(text, path, dir, out, err, err_len);
  free(text);
  return st;
}

/* ------------------------------------------------------------- writing */

/* The canonical form as spec keys: the canonical form lists budgets as
 * objects and the task-field grid as "grid", which a spec file spells
 * budgets_<kind> and "variants" (every combination listed is a variant).
 * Settings left at their "unset" value are dropped. */
static cJSON *spec_keys_of_canonical(const char *text) {
  cJSON *o = cJSON_Parse(text);
  if (!o) return NULL;
  cJSON *bu = cJSON_DetachItemFromObjectCaseSensitive(o, "budgets");
  static const char *const kinds[3] = {"flops", "tokens", "steps"};
  for (int k = 0; k < 3 && bu; k++) {
    cJSON *list = NULL;
    for (const cJSON *e = bu->child; e; e = e->next) {
      const cJSON *v = cJSON_GetObjectItemCaseSensitive(e, kinds[k]);
      if (!cJSON_IsNumber(v)) continue;
      if (!list) list = cJSON_CreateArray();
      if (list) cJSON_AddItemToArray(list, cJSON_CreateNumber(v->valuedouble));
    }
    if (list) {
      char key[32];
      snprintf(key, sizeof key, "budgets_%s", kinds[k]);
      cJSON_AddItemToObject(o, key, list);
    }
  }
  cJSON_Delete(bu);
  cJSON *grid = cJSON_DetachItemFromObjectCaseSensitive(o, "grid");
  if (grid) cJSON_AddItemToObject(o, "variants", grid);
  /* a shapeless model (the memoriser) takes no sizes */
  const cJSON *task = cJSON_GetObjectItemCaseSensitive(o, "task"),
              *model = cJSON_GetObjectItemCaseSensitive(o, "model");
  const cls_task_info *info =
      cJSON_IsString(task) && cJSON_IsString(model) ? cls_task_find(task->valuestring, model->valuestring) : NULL;
  if (info && info->model && info->model->shapeless) cJSON_DeleteItemFromObjectCaseSensitive(o, "models");
  /* and a solved task (rf, zipf) no learning rate */
  if (info && info->solve) cJSON_DeleteItemFromObjectCaseSensitive(o, "lr");
  const cJSON *ee = cJSON_GetObjectItemCaseSensitive(o, "eval_every");
  if (cJSON_IsNumber(ee) && ee->valuedouble == 0) cJSON_DeleteItemFromObjectCaseSensitive(o, "eval_every");
  return o;
}

cls_status cls_sweep_spec_from_canonical(const char *text, const char *source, cls_sweep_spec **out, char *err,
                                         size_t err_len) {
  if (!text || !out) return CLS_ERR_NULL_ARGUMENT;
  *out = NULL;
  cJSON *o = spec_keys_of_canonical(text);
  char *keys = o ? cJSON_PrintUnformatted(o) : NULL;
  cJSON_Delete(o);
  if (!keys) {
    snprintf(err, err_len, "%s: the recorded spec is not a JSON object", source ? source : "spec");
    return CLS_ERR_FORMAT;
  }
  cls_status st = cls_sweep_spec_parse(keys, source, NULL, out, err, err_len);
  free(keys);
  return st;
}

cls_status cls_sweep_spec_write(const cls_sweep_spec *s, const char *about, const char *path, char *err,
                                size_t err_len) {
  if (!s || !path) return CLS_ERR_NULL_ARGUMENT;
  char *text = canonical(s, s->isoflop_sizes);
  cJSON *keys = text ? spec_keys_of_canonical(text) : NULL, *o = cJSON_CreateObject();
  free(text);
  if (!keys || !o) {
    cJSON_Delete(keys), cJSON_Delete(o);
    snprintf(err, err_len, "out of host memory writing %s", path);
    return CLS_ERR_OUT_OF_MEMORY;
  }
  /* "_about" first, so that whoever opens the file reads why it exists */
  if (about) cJSON_AddStringToObject(o, "_about", about);
  while (keys->child) {
    cJSON *e = cJSON_DetachItemViaPointer(keys, keys->child);
    cJSON_AddItemToObject(o, e->string, e);
  }
  cJSON_Delete(keys);
  cls_status st = cls_write_json_atomic(path, o, err, err_len);
  cJSON_Delete(o);
  return st;
}
