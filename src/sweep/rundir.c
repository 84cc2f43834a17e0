/* src/sweep/rundir.c — see rundir.h. */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "sweep/rundir.h"
#include "train/log.h"

/* Reads a whole (small) file; NULL with errno set when it cannot. */
static char *slurp(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  char *buf = NULL;
  size_t n = 0, cap = 0;
  for (;;) {
    if (n + 4096 + 1 > cap) {
      cap = cap ? 2 * cap : 8192;
      char *g = realloc(buf, cap);
      if (!g) {
        free(buf);
        fclose(f);
        errno = ENOMEM;
        return NULL;
      }
      buf = g;
    }
    size_t got = fread(buf + n, 1, 4096, f);
    n += got;
    if (got < 4096) break;
  }
  int bad = ferror(f);
  fclose(f);
  if (bad) {
    free(buf);
    errno = EIO;
    return NULL;
  }
  buf[n] = 0;
  if (len) *len = n;
  return buf;
}

/* ----------------------------------------------------------- manifest */

static char *manifest_text(const cls_sweep_spec *s, const cls_sweep_point *points, size_t n,
                           const cls_sweep_manifest_info *info) {
  cJSON *o = cJSON_CreateObject(), *spec = cJSON_Parse(s->canonical);
  if (!o || !spec) {
    cJSON_Delete(o);
    cJSON_Delete(spec);
    return NULL;
  }
  cJSON_AddNumberToObject(o, "version", 1);
  cJSON_AddStringToObject(o, "name", s->name);
  cJSON_AddStringToObject(o, "kind", "sweep");
  cJSON_AddStringToObject(o, "task", s->task);
  cJSON_AddStringToObject(o, "model", s->model);
  cJSON_AddStringToObject(o, "mode", cls_sweep_mode_name(s->mode));
  cJSON_AddStringToObject(o, "clscale_version", CLSCALE_VERSION);
  cJSON_AddStringToObject(o, "device", info && info->device ? info->device : "");
  if (info && info->spec_path) cJSON_AddStringToObject(o, "spec_file", info->spec_path);
  char host[256] = "";
  if (gethostname(host, sizeof host - 1) == 0) cJSON_AddStringToObject(o, "host", host);
  char when[64];
  time_t t = time(NULL);
  struct tm tm;
  if (gmtime_r(&t, &tm) && strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm))
    cJSON_AddStringToObject(o, "created", when);
  cJSON *seeds = cJSON_AddArrayToObject(o, "seeds");
  for (size_t i = 0; seeds && i < s->n_seeds; i++)
    cJSON_AddItemToArray(seeds, cJSON_CreateNumber((double)s->seeds[i]));
  cJSON_AddNumberToObject(o, "data_seed", (double)s->base.data_seed);
  cJSON_AddItemToObject(o, "spec", spec);
  cJSON_AddNumberToObject(o, "n_points", (double)n);
  cJSON *pts = cJSON_AddArrayToObject(o, "points");
  for (size_t i = 0; pts && i < n; i++) {
    const cls_sweep_point *p = &points[i];
    cJSON *e = cJSON_CreateObject();
    cJSON_AddStringToObject(e, "id", p->id);
    cJSON_AddNumberToObject(e, "width", (double)p->shape.width);
    cJSON_AddNumberToObject(e, "depth", (double)p->shape.depth);
    cJSON_AddNumberToObject(e, "heads", (double)p->shape.heads);
    cJSON_AddNumberToObject(e, "n_params", p->n_params);
    cJSON_AddNumberToObject(e, "n_params_embed", p->n_params_embed);
    cJSON_AddNumberToObject(e,
                            p->budget.kind == CLS_BUDGET_FLOPS    ? "budget_flops"
                            : p->budget.kind == CLS_BUDGET_TOKENS ? "budget_tokens"
                                                                  : "budget_steps",
                            p->budget.value);
    cJSON_AddNumberToObject(e, "seed", (double)p->seed);
    cJSON_AddNumberToObject(e, "lr", p->lr);
    cJSON_AddItemToArray(pts, e);
  }
  char *txt = cJSON_Print(o);
  cJSON_Delete(o);
  if (!txt) return NULL;
  size_t len = strlen(txt);
  char *withnl = realloc(txt, len + 2);
  if (!withnl) {
    free(txt);
    return NULL;
  }
  withnl[len] = '\n';
  withnl[len + 1] = 0;
  return withnl;
}

/* Writes text to a fresh temporary file, on disk, and links it to path:
 * link() fails with EEXIST if path exists, so of two processes only one
 * creates the manifest, and a reader never sees half of it. *exists is set
 * when another process was first. */
static cls_status create_exclusive(const char *path, const char *text, int *exists, char *err, size_t err_len) {
  char tmp[4300];
  snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
  *exists = 0;
  FILE *f = fopen(tmp, "wb");
  size_t len = strlen(text);
  int ok = f && fwrite(text, 1, len, f) == len && fflush(f) == 0 && fsync(fileno(f)) == 0;
  int saved = errno;
  if (f && fclose(f) != 0 && ok) ok = 0, saved = errno;
  if (ok && link(tmp, path) != 0) {
    saved = errno;
    if (saved == EEXIST)
      *exists = 1;
    else
      ok = 0;
  }
  remove(tmp);
  if (!ok) {
    snprintf(err, err_len, "cannot write %s: %s", path, strerror(saved));
    return CLS_ERR_IO;
  }
  return CLS_OK;
}

/* The first top-level setting in which two canonical specs differ. */
static void first_difference(const cJSON *a, const cJSON *b, char *out, size_t len) {
  snprintf(out, len, "the settings differ");
  for (const cJSON *x = b->child; x; x = x->next) {
    const cJSON *y = cJSON_GetObjectItemCaseSensitive(a, x->string);
    if (!y || !cJSON_Compare(x, y, 1)) {
      char *tx = cJSON_PrintUnformatted(x), *ty = y ? cJSON_PrintUnformatted(y) : NULL;
      snprintf(out, len, "'%s' is %.200s there, %.200s here", x->string, ty ? ty : "absent", tx ? tx : "?");
      free(tx);
      free(ty);
      return;
    }
  }
  for (const cJSON *y = a->child; y; y = y->next)
    if (!cJSON_GetObjectItemCaseSensitive(b, y->string)) {
      snprintf(out, len, "'%s' is set there, absent here", y->string);
      return;
    }
}

cls_status cls_sweep_manifest_ensure(const char *dir, const cls_sweep_spec *s, const cls_sweep_point *points,
                                     size_t n, const cls_sweep_manifest_info *info, int *created, char *err,
                                     size_t err_len) {
  *created = 0;
  cls_status st = cls_mkdirs(dir, err, err_len);
  if (st != CLS_OK) return st;
  char path[4200];
  snprintf(path, sizeof path, "%s/manifest.json", dir);
  struct stat sb;
  if (stat(path, &sb) != 0) {
    char *text = manifest_text(s, points, n, info);
    if (!text) {
      snprintf(err, err_len, "out of host memory writing %s", path);
      return CLS_ERR_OUT_OF_MEMORY;
    }
    int exists;
    st = create_exclusive(path, text, &exists, err, err_len);
    free(text);
    if (st != CLS_OK) return st;
    if (!exists) {
      *created = 1;
      return CLS_OK;
    }
  }
  /* There is one: it must be of this spec. */
  size_t len;
  char *text = slurp(path, &len);
  if (!text) {
    snprintf(err, err_len, "cannot read %s: %s", path, strerror(errno));
    return CLS_ERR_IO;
  }
  cJSON *m = cJSON_Parse(text);
  free(text);
  const cJSON *spec = m ? cJSON_GetObjectItemCaseSensitive(m, "spec") : NULL;
  if (!spec || !cJSON_IsObject(spec)) {
    cJSON_Delete(m);
    snprintf(err, err_len,
             "%s is not a sweep manifest (%s): use another --out folder, or remove the file if the folder holds "
             "nothing else of value",
             path, m ? "no \"spec\" object" : "not valid JSON");
    return CLS_ERR_FORMAT;
  }
  cJSON *mine = cJSON_Parse(s->canonical);
  if (!mine) {
    cJSON_Delete(m);
    snprintf(err, err_len, "out of host memory");
    return CLS_ERR_OUT_OF_MEMORY;
  }
  st = CLS_OK;
  if (!cJSON_Compare(spec, mine, 1)) {
    char why[512];
    first_difference(spec, mine, why, sizeof why);
    const cJSON *file = cJSON_GetObjectItemCaseSensitive(m, "spec_file");
    snprintf(err, err_len,
             "%s belongs to another sweep%s%s%s: %s. Its points would not be comparable: use another --out "
             "folder, or the spec that made it",
             path, cJSON_IsString(file) ? " (from " : "", cJSON_IsString(file) ? file->valuestring : "",
             cJSON_IsString(file) ? ")" : "", why);
    st = CLS_ERR_INVALID_VALUE;
  }
  cJSON_Delete(mine);
  cJSON_Delete(m);
  return st;
}

/* ------------------------------------------------------------- points */

const char *cls_point_state_name(cls_point_state s) {
  static const char *const names[] = {"new", "ok", "diverged", "failed", "interrupted", "running", "unreadable"};
  return (unsigned)s < sizeof names / sizeof names[0] ? names[s] : "?";
}

int cls_point_state_done(cls_point_state s) {
  return s == CLS_POINT_OK || s == CLS_POINT_DIVERGED;
}

cls_point_state cls_sweep_point_state(const char *dir, const char *id, double *loss) {
  if (loss) *loss = NAN;
  char path[4200];
  snprintf(path, sizeof path, "%s/points/%s.json", dir, id);
  size_t len;
  char *text = slurp(path, &len);
  if (!text) return errno == ENOENT ? CLS_POINT_NEW : CLS_POINT_UNREADABLE;
  cJSON *j = cJSON_Parse(text);
  free(text);
  if (!j) return CLS_POINT_UNREADABLE;
  const cJSON *st = cJSON_GetObjectItemCaseSensitive(j, "status");
  const cJSON *l = cJSON_GetObjectItemCaseSensitive(j, "final_eval_loss");
  if (loss && cJSON_IsNumber(l)) *loss = l->valuedouble;
  cls_point_state out = CLS_POINT_UNREADABLE;
  if (cJSON_IsString(st)) {
    const char *v = st->valuestring;
    out = !strcmp(v, "ok")            ? CLS_POINT_OK
          : !strcmp(v, "diverged")    ? CLS_POINT_DIVERGED
          : !strcmp(v, "failed")      ? CLS_POINT_FAILED
          : !strcmp(v, "interrupted") ? CLS_POINT_INTERRUPTED
          : !strcmp(v, "running")     ? CLS_POINT_RUNNING
                                      : CLS_POINT_UNREADABLE;
  }
  cJSON_Delete(j);
  return out;
}

int cls_sweep_has_checkpoint(const char *dir, const char *id) {
  char path[4200];
  snprintf(path, sizeof path, "%s/checkpoints/%s.ckpt", dir, id);
  struct stat sb;
  return stat(path, &sb) == 0;
}

/* NAME.tmp.DIGITS with NAME = id.csv, id.json or id.ckpt. */
static int is_leftover(const char *file, const char *id) {
  size_t n = strlen(id);
  if (strncmp(file, id, n) || file[n] != '.') return 0;
  const char *ext = file + n + 1;
  const char *rest = !strncmp(ext, "csv.tmp.", 8) || !strncmp(ext, "ckpt.tmp.", 9) || !strncmp(ext, "json.tmp.", 9)
                         ? strstr(ext, ".tmp.") + 5
                         : NULL;
  if (!rest || !*rest) return 0;
  for (const char *p = rest; *p; p++)
    if (*p < '0' || *p > '9') return 0;
  return 1;
}

size_t cls_sweep_remove_leftovers(const char *dir, const char *id) {
  static const char *const subs[] = {"points", "checkpoints"};
  size_t removed = 0;
  for (int k = 0; k < 2; k++) {
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", dir, subs[k]);
    DIR *d = opendir(path);
    if (!d) continue;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
      if (!is_leftover(e->d_name, id)) continue;
      char file[4500];
      snprintf(file, sizeof file, "%s/%s", path, e->d_name);
      if (remove(file) == 0) removed++;
    }
    closedir(d);
  }
  return removed;
}

cls_status cls_sweep_write_failed(const char *dir, const cls_sweep_spec *s, const cls_sweep_point *p,
                                  const char *device, const char *error, char *err, size_t err_len) {
  char path[4200];
  snprintf(path, sizeof path, "%s/points", dir);
  cls_status st = cls_mkdirs(path, err, err_len);
  if (st != CLS_OK) return st;
  snprintf(path, sizeof path, "%s/points/%s.json", dir, p->id);
  cls_json *j = cls_json_new();
  if (!j) {
    snprintf(err, err_len, "out of host memory writing %s", path);
    return CLS_ERR_OUT_OF_MEMORY;
  }
  cls_json_str(j, "id", p->id);
  cls_json_str(j, "status", "failed");
  cls_json_str(j, "error", error);
  cls_json_num(j, "n_params", p->n_params);
  cls_json_num(j, "n_params_embed", p->n_params_embed);
  cls_json_str(j, "task", s->task);
  cls_json_str(j, "model", s->model);
  cls_json_num(j, "width", (double)p->shape.width);
  cls_json_num(j, "depth", (double)p->shape.depth);
  cls_json_num(j, "heads", (double)p->shape.heads);
  cls_json_num(j, "seed", (double)p->seed);
  cls_json_num(j, "lr", p->lr);
  if (p->budget.kind == CLS_BUDGET_FLOPS) cls_json_num(j, "budget_flops", p->budget.value);
  if (p->budget.kind == CLS_BUDGET_TOKENS) cls_json_num(j, "budget_tokens", p->budget.value);
  if (p->budget.kind == CLS_BUDGET_STEPS) cls_json_num(j, "budget_steps", p->budget.value);
  cls_json_num(j, "tokens", 0);
  cls_json_num(j, "flops", 0);
  cls_json_num(j, "final_eval_loss", NAN);
  cls_json_str(j, "device", device);
  cls_json_str(j, "sweep", s->name);
  cls_json_str(j, "clscale_version", CLSCALE_VERSION);
  st = cls_json_write(j, path, err, err_len);
  cls_json_free(j);
  return st;
}
