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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "nn/emulator.h"
#include "nn/gpt.h"
#include "sweep/count.h"
#include "sweep/spec.h"

const char *cls_sweep_mode_name(cls_sweep_mode m) {
  return m == CLS_SWEEP_CURVES ? "curves" : "isoflop";
}

/* Every key a spec may have (space-separated, with a space at each end);
 * anything else is a typo to report. */
static const char known_keys[] =
    " name task model mode models widths width depths depth target_params heads head_dim budgets_flops "
    "budget_flops budgets_tokens budget_tokens budgets_steps budget_steps isoflop_sizes seeds seed lr lrs "
    "batch param base_width init_std weight_decay warmup warmup_steps min_lr_ratio beta1 beta2 clip evals "
    "eval_every eval_batches checkpoint_steps checkpoint_seconds keep_checkpoints data data_seed zipf_bytes "
    "context val_fraction n_train n_test n_pixels pixels label_tokens ";

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
  shape_list l = {0};
  if (models) {
    const int list = cJSON_IsArray(models); /* one model may be given alone */
    if (!list && !cJSON_IsString(models) && !cJSON_IsObject(models)) {
      fail(r, "'models' wants a list: [\"WIDTHxDEPTH\", ...] or [{\"width\": W, \"depth\": D}, ...]");
      return;
    }
    if (list && !cJSON_GetArraySize(models)) fail(r, "'models' is empty: the grid would have no points");
    for (const cJSON *m = list ? models->child : models; m && !r->failed; m = list ? m->next : NULL) {
      double w = NAN, d = NAN, h = NAN;
      if (cJSON_IsString(m)) {
        char x1, x2;
        unsigned long a, b, c;
        int got = sscanf(m->valuestring, "%lu%c%lu%c%lu", &a, &x1, &b, &x2, &c);
        if ((got == 3 && x1 == 'x') || (got == 5 && x1 == 'x' && x2 == 'x')) {
          w = (double)a;
          d = (double)b;
          if (got == 5) h = (double)c;
        }
      } else if (cJSON_IsObject(m)) {
        const cJSON *a = cJSON_GetObjectItemCaseSensitive(m, "width"),
                    *b = cJSON_GetObjectItemCaseSensitive(m, "depth"),
                    *c = cJSON_GetObjectItemCaseSensitive(m, "heads");
        if (cJSON_IsNumber(a)) w = a->valuedouble;
        if (cJSON_IsNumber(b)) d = b->valuedouble;
        if (cJSON_IsNumber(c))
          h = c->valuedouble;
        else if (c)
          d = NAN;
      }
      if (!is_whole(w, 1, 1e6) || !is_whole(d, 1, 1e4) || !(isnan(h) || is_whole(h, 1, 1e6))) {
        char *txt = cJSON_PrintUnformatted(m);
        fail(r,
             "model %s: write \"WIDTHxDEPTH\" (\"64x2\"), \"WIDTHxDEPTHxHEADS\", or {\"width\": 64, \"depth\": 2}",
             txt ? txt : "?");
        free(txt);
        break;
      }
      size_t hh = isnan(h) ? heads_of(r, (size_t)w, heads, head_dim) : (size_t)h;
      if (!r->failed) push_shape(r, &l, (size_t)w, (size_t)d, hh, 0);
    }
  } else {
    size_t nd;
    size_t *depths = size_list(r, "depths", "depth", 1, &nd);
    if (!depths && !r->failed)
      fail(r, "give 'depths' (or 'depth') with '%s'", widths ? "widths" : "target_params");
    if (widths && !r->failed) {
      size_t nw;
      size_t *ws = size_list(r, "widths", "width", 1, &nw);
      for (size_t i = 0; ws && i < nw && !r->failed; i++)
        for (size_t j = 0; j < nd && !r->failed; j++) {
          size_t hh = heads_of(r, ws[i], heads, head_dim);
          if (!r->failed) push_shape(r, &l, ws[i], depths[j], hh, 0);
        }
      free(ws);
    } else if (!r->failed) {
      size_t nt;
      double *t = num_list(r, targets, "target_params", &nt);
      if (t && !nt) fail(r, "'target_params' is empty: the grid would have no points");
      /* The width, a multiple of the head size (or of the heads), whose N is
       * nearest the target in log space. */
      const size_t step = head_dim ? head_dim : heads;
      for (size_t i = 0; t && i < nt && !r->failed; i++) {
        if (!(t[i] >= 1) || !isfinite(t[i])) {
          fail(r, "'target_params' wants positive parameter counts (found %g)", t[i]);
          break;
        }
        for (size_t j = 0; j < nd && !r->failed; j++) {
          size_t best = 0;
          double best_gap = INFINITY;
          for (size_t w = step; w <= 65536; w += step) {
            double n, ne;
            if (!cls_sweep_count_params(&s->base, w, depths[j], &n, &ne)) break;
            double gap = fabs(log(n / t[i]));
            if (gap < best_gap) {
              best_gap = gap;
              best = w;
            }
            if (n > t[i]) break; /* N grows with the width */
          }
          if (!best) {
            fail(r, "no model '%s' to size", s->model);
            break;
          }
          push_shape(r, &l, best, depths[j], heads_of(r, best, heads, head_dim), t[i]);
        }
      }
      free(t);
    }
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

/* ---------------------------------------------------------- canonical */

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
  cJSON_AddStringToObject(o, "param", b->param == CLS_PARAM_MUP ? "mup" : "sp");
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
  if (!strcmp(s->task, "spectra")) {
    cJSON_AddNumberToObject(o, "n_train", (double)b->n_train);
    cJSON_AddNumberToObject(o, "n_test", (double)b->n_test);
    cJSON_AddNumberToObject(o, "n_pixels", (double)b->n_pixels);
    cJSON_AddNumberToObject(o, "pixels", (double)b->pixels);
    cJSON_AddNumberToObject(o, "label_tokens", (double)b->label_tokens);
  } else {
    cJSON_AddStringToObject(o, "data", s->data_given);
    cJSON_AddNumberToObject(o, "zipf_bytes", (double)b->zipf_bytes);
    cJSON_AddNumberToObject(o, "context", (double)b->context);
    cJSON_AddNumberToObject(o, "val_fraction", b->val_fraction);
  }
  char *txt = cJSON_PrintUnformatted(o);
  cJSON_Delete(o);
  return txt;
}

/* --------------------------------------------------------------- load */

static int task_known(const char *task, const char *model) {
  char pair[80];
  snprintf(pair, sizeof pair, "%s/%s", task, model);
  const char *list = cls_task_list(), *p = list;
  size_t n = strlen(pair);
  while ((p = strstr(p, pair)) != NULL) {
    if ((p == list || p[-1] == ' ') && (p[n] == 0 || p[n] == ',')) return 1;
    p += n;
  }
  return 0;
}

static void read_spec(reader *r, cls_sweep_spec *s, const char *base_dir) {
  const cJSON *root = r->root;
  if (!cJSON_IsObject(root)) {
    fail(r, "a spec is an object of settings ({\"task\": \"spectra\", ...})");
    return;
  }
  for (const cJSON *e = root->child; e && !r->failed; e = e->next) {
    char word[72];
    snprintf(word, sizeof word, " %.64s ", e->string ? e->string : "");
    int ok = e->string && (e->string[0] == '_' || !strcmp(e->string, "comment") ||
                           (!strchr(e->string, ' ') && strstr(known_keys, word)));
    if (!ok)
      fail(r, "unknown key '%s' (docs/sweep.md lists the keys; keys starting with '_' are comments)", e->string);
    for (const cJSON *f = e->next; f && !r->failed; f = f->next)
      if (!strcmp(f->string, e->string)) fail(r, "the key '%s' is given twice", e->string);
  }
  if (r->failed) return;
  cls_task_spec_default(&s->base);
  snprintf(s->name, sizeof s->name, "%s", get_str(r, "name", "sweep"));
  const char *task = get_str(r, "task", NULL);
  if (!task && !r->failed) {
    fail(r,
         "no 'task': give \"spectra\" (the emulator on synthetic stellar spectra) or \"text\" (a GPT on bytes)");
    return;
  }
  if (r->failed) return;
  const char *model = get_str(r, "model", !strcmp(task, "spectra") ? "emulator" : "gpt");
  if (r->failed) return;
  if (strlen(task) >= sizeof s->task || strlen(model) >= sizeof s->model || !task_known(task, model)) {
    fail(r, "no task '%s' with model '%s' in this build: use one of %s", task, model, cls_task_list());
    return;
  }
  snprintf(s->task, sizeof s->task, "%s", task);
  snprintf(s->model, sizeof s->model, "%s", model);
  s->base.task = s->task;
  s->base.model = s->model;
  const char *mode = get_str(r, "mode", NULL);
  if (!mode && !r->failed)
    fail(r, "no 'mode': give \"isoflop\" (every size trained to each FLOPs budget) or \"curves\" (one run per "
            "size, loss against FLOPs)");
  else if (mode && !strcmp(mode, "isoflop"))
    s->mode = CLS_SWEEP_ISOFLOP;
  else if (mode && !strcmp(mode, "curves"))
    s->mode = CLS_SWEEP_CURVES;
  else if (mode)
    fail(r, "mode '%s': use \"isoflop\" or \"curves\"", mode);

  /* Task settings (before the shapes: target_params counts with them). */
  cls_task_spec *b = &s->base;
  b->batch = get_size(r, "batch", b->batch, 1, 1u << 20);
  b->data_seed = (uint64_t)get_num(r, "data_seed", (double)b->data_seed, 0, 9007199254740992.0, 0);
  if (get(r, "data_seed") && !is_whole((double)b->data_seed, 0, 9007199254740992.0))
    fail(r, "'data_seed' wants a whole number");
  const char *param = get_str(r, "param", "sp");
  if (param && !strcmp(param, "mup"))
    b->param = CLS_PARAM_MUP;
  else if (param && strcmp(param, "sp"))
    fail(r, "param '%s': use \"sp\" or \"mup\"", param);
  b->base_width = get_size(r, "base_width", b->base_width, 1, 65536);
  b->init_std = (float)get_num(r, "init_std", b->init_std, 0, 10, 1);
  b->weight_decay = (float)get_num(r, "weight_decay", b->weight_decay, 0, 10, 0);
  static const char *const text_keys[] = {"data", "zipf_bytes", "context", "val_fraction"};
  static const char *const spectra_keys[] = {"n_train", "n_test", "n_pixels", "pixels", "label_tokens"};
  const int spectra = !strcmp(s->task, "spectra");
  for (size_t k = 0; k < 5 && !r->failed; k++) {
    if (k < 4 && spectra && get(r, text_keys[k]))
      fail(r, "'%s' is a setting of the text task, not of \"spectra\"", text_keys[k]);
    if (!spectra && get(r, spectra_keys[k]))
      fail(r, "'%s' is a setting of the spectra task, not of \"%s\"", spectra_keys[k], s->task);
  }
  if (spectra) {
    b->n_train = get_size(r, "n_train", b->n_train, 1, 1u << 24);
    b->n_test = get_size(r, "n_test", b->n_test, 1, 1u << 24);
    b->n_pixels = get_size(r, "n_pixels", b->n_pixels, 2, 1u << 20);
    b->pixels = get_size(r, "pixels", b->pixels, 1, 1u << 20);
    b->label_tokens = get_size(r, "label_tokens", b->label_tokens, 1, 4096);
    if (!r->failed && b->pixels > b->n_pixels)
      fail(r, "'pixels' %zu (per spectrum per step) exceeds 'n_pixels' %zu (the grid)", b->pixels, b->n_pixels);
  } else {
    const char *data = get_str(r, "data", "zipf");
    snprintf(s->data_given, sizeof s->data_given, "%s", data ? data : "zipf");
    if (data && strcmp(data, "zipf") && data[0] != '/' && base_dir && strcmp(base_dir, "."))
      snprintf(s->data, sizeof s->data, "%s/%s", base_dir, data); /* relative to the spec's folder */
    else
      snprintf(s->data, sizeof s->data, "%s", data ? data : "zipf");
    b->data = !strcmp(s->data, "zipf") ? NULL : s->data;
    b->zipf_bytes = get_size(r, "zipf_bytes", b->zipf_bytes, 1024, (size_t)1 << 34);
    b->context = get_size(r, "context", b->context, 1, 65536);
    b->val_fraction = get_num(r, "val_fraction", b->val_fraction, 0, 0.5, 1);
  }
  if (r->failed) return;

  /* The grid. */
  size_t heads = get_size(r, "heads", 4, 1, 65536), head_dim = get_size(r, "head_dim", 0, 1, 65536);
  if (get(r, "heads") && get(r, "head_dim")) fail(r, "give 'heads' or 'head_dim', not both");
  if (!r->failed) read_shapes(r, s, heads, head_dim);
  for (size_t i = 0; i < s->n_shapes && !r->failed; i++) {
    /* The model's own check, on the host, before any device work. */
    char why[512];
    cls_status st;
    if (!strcmp(s->model, "emulator")) {
      cls_emulator_config c;
      cls_emulator_config_default(&c);
      c.width = s->shapes[i].width;
      c.depth = s->shapes[i].depth;
      c.heads = s->shapes[i].heads;
      c.n_tokens = b->label_tokens;
      c.param = b->param;
      c.base_width = b->base_width;
      c.init_std = b->init_std;
      c.weight_decay = b->weight_decay;
      st = cls_emulator_config_check(&c, why, sizeof why);
    } else {
      cls_gpt_config c;
      cls_gpt_config_default(&c);
      c.width = s->shapes[i].width;
      c.depth = s->shapes[i].depth;
      c.heads = s->shapes[i].heads;
      c.context = b->context;
      c.param = b->param;
      c.base_width = b->base_width;
      c.init_std = b->init_std;
      c.weight_decay = b->weight_decay;
      st = cls_gpt_config_check(&c, why, sizeof why);
    }
    if (st != CLS_OK)
      fail(r, "model width %zu, depth %zu, heads %zu: %s", s->shapes[i].width, s->shapes[i].depth,
           s->shapes[i].heads, why);
  }
  if (!r->failed) read_budgets(r, s);
  size_t isoflop_sizes = get_size(r, "isoflop_sizes", 0, 1, 1u << 20);
  if (!r->failed && isoflop_sizes && s->mode != CLS_SWEEP_ISOFLOP)
    fail(r, "'isoflop_sizes' (a window of model sizes per budget) belongs to mode \"isoflop\"");
  if (!r->failed && isoflop_sizes > s->n_shapes)
    fail(r, "'isoflop_sizes' %zu is more than the %zu model sizes", isoflop_sizes, s->n_shapes);
  if (r->failed) return;
  s->isoflop_sizes = isoflop_sizes;

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
    s->seeds[i] = (uint64_t)seeds[i];
  }
  s->n_seeds = seeds && s->seeds ? n : 0;
  free(seeds);
  if (r->failed) return;

  v = get2(r, "lrs", "lr", &which);
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
  if (r->failed) return;

  /* Schedule, evaluation, checkpoints. */
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
  if (r->failed) return;
  s->canonical = canonical(s, isoflop_sizes);
  if (!s->canonical) fail(r, "out of host memory");
}

void cls_sweep_spec_free(cls_sweep_spec *s) {
  if (!s) return;
  free(s->shapes);
  free(s->budgets);
  free(s->seeds);
  free(s->lrs);
  free(s->canonical);
  free(s);
}

/* ---------------------------------------------------------------- INI */

static char *trim(char *p) {
  while (isspace((unsigned char)*p)) p++;
  char *e = p + strlen(p);
  while (e > p && isspace((unsigned char)e[-1])) *--e = 0;
  return p;
}

/* One INI value: a number, true/false, or a string (quotes optional). */
static cJSON *ini_value(char *v) {
  v = trim(v);
  size_t n = strlen(v);
  if (n >= 2 && (v[0] == '"' || v[0] == '\'') && v[n - 1] == v[0]) {
    v[n - 1] = 0;
    return cJSON_CreateString(v + 1);
  }
  if (!strcmp(v, "true")) return cJSON_CreateTrue();
  if (!strcmp(v, "false")) return cJSON_CreateFalse();
  char *end;
  errno = 0;
  double d = strtod(v, &end);
  if (n && !*end && !errno && end != v) return cJSON_CreateNumber(d);
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
        cJSON_AddItemToArray(v, ini_value(item));
        item = comma ? comma + 1 : NULL;
      }
    } else if (!*val) {
      snprintf(err, err_len, "%s:%d: '%s' has no value", src, line_no, key);
      goto bad;
    } else {
      v = ini_value(val);
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
    root = cJSON_ParseWithOpts(text, &end, 1);
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

cls_status cls_sweep_spec_load(const char *path, cls_sweep_spec **out, char *err, size_t err_len) {
  *out = NULL;
  FILE *f = fopen(path, "rb");
  if (!f) {
    snprintf(err, err_len, "cannot open the spec '%s': %s", path, strerror(errno));
    return CLS_ERR_IO;
  }
  char *text = NULL;
  size_t len = 0, cap = 0;
  for (;;) {
    if (len + 4096 + 1 > cap) {
      cap = cap ? 2 * cap : 16384;
      char *g = realloc(text, cap);
      if (!g || cap > ((size_t)64 << 20)) {
        free(g ? g : text);
        fclose(f);
        snprintf(err, err_len, "%s: %s", path, g ? "larger than 64 MB: is it a spec?" : "out of host memory");
        return g ? CLS_ERR_FORMAT : CLS_ERR_OUT_OF_MEMORY;
      }
      text = g;
    }
    size_t got = fread(text + len, 1, 4096, f);
    len += got;
    if (got < 4096) break;
  }
  int bad = ferror(f);
  fclose(f);
  if (bad) {
    free(text);
    snprintf(err, err_len, "cannot read the spec '%s': %s", path, strerror(errno));
    return CLS_ERR_IO;
  }
  text[len] = 0;
  if (strlen(text) != len) {
    free(text);
    snprintf(err, err_len, "%s: contains NUL bytes: a spec is a JSON or INI text file", path);
    return CLS_ERR_FORMAT;
  }
  char dir[1024];
  const char *slash = strrchr(path, '/');
  if (slash)
    snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
  else
    snprintf(dir, sizeof dir, ".");
  if (!dir[0]) snprintf(dir, sizeof dir, "/");
  cls_status s = cls_sweep_spec_parse(text, path, dir, out, err, err_len);
  free(text);
  return s;
}
