/* src/rundir/manifest.c — see rundir.h: manifest.json, created once. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/str.h"
#include "core/err.h"
#include "core/fault.h"
#include "core/file.h"
#include "rundir/json.h"
#include "rundir/rundir.h"

static void add_str(cJSON *o, const char *key, const char *v) {
  if (v) cJSON_AddStringToObject(o, key, v);
}

static cJSON *point_object(const cls_manifest_point *p) {
  cJSON *e = cJSON_CreateObject();
  cJSON_AddStringToObject(e, "id", p->id);
  cJSON_AddNumberToObject(e, "width", p->width);
  cJSON_AddNumberToObject(e, "depth", p->depth);
  cJSON_AddNumberToObject(e, "heads", p->heads);
  cJSON_AddNumberToObject(e, "n_params", p->n_params);
  cJSON_AddNumberToObject(e, "n_params_embed", p->n_params_embed);
  if (!isnan(p->budget_flops)) cJSON_AddNumberToObject(e, "budget_flops", p->budget_flops);
  if (!isnan(p->budget_tokens)) cJSON_AddNumberToObject(e, "budget_tokens", p->budget_tokens);
  if (!isnan(p->budget_steps)) cJSON_AddNumberToObject(e, "budget_steps", p->budget_steps);
  cJSON_AddNumberToObject(e, "seed", p->seed);
  cJSON_AddNumberToObject(e, "lr", p->lr);
  if (!isnan(p->real_fraction)) {
    cJSON_AddNumberToObject(e, "generation", p->generation);
    cJSON_AddNumberToObject(e, "real_fraction", p->real_fraction);
  }
  add_str(e, "teacher", p->teacher);
  return e;
}

/* Who made it, where and when: for people reading the folder later. */
static void add_origin(cJSON *o, const cls_manifest *m) {
  cJSON_AddStringToObject(o, "clscale_version", CLSCALE_VERSION);
  cJSON_AddStringToObject(o, "device", m->device ? m->device : "");
  add_str(o, "spec_file", m->spec_file);
  char host[256] = "";
  if (gethostname(host, sizeof host - 1) == 0) cJSON_AddStringToObject(o, "host", host);
  char when[64];
  time_t t = time(NULL);
  struct tm tm;
  if (gmtime_r(&t, &tm) && strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm))
    cJSON_AddStringToObject(o, "created", when);
}

/* The manifest's text, with a newline; NULL when out of memory or when
 * the spec is not JSON. */
static char *manifest_text(const cls_manifest *m) {
  cJSON *o = cJSON_CreateObject(), *spec = cJSON_Parse(m->spec ? m->spec : "");
  if (!o || !spec) {
    cJSON_Delete(o);
    cJSON_Delete(spec);
    return NULL;
  }
  cJSON_AddNumberToObject(o, "version", CLS_RUNDIR_VERSION);
  add_str(o, "name", m->name);
  cJSON_AddStringToObject(o, "kind", "sweep");
  add_str(o, "task", m->task);
  add_str(o, "model", m->model);
  add_str(o, "mode", m->mode);
  add_origin(o, m);
  cJSON *seeds = cJSON_AddArrayToObject(o, "seeds");
  for (size_t i = 0; seeds && i < m->n_seeds; i++)
    cJSON_AddItemToArray(seeds, cJSON_CreateNumber((double)m->seeds[i]));
  cJSON_AddNumberToObject(o, "data_seed", (double)m->data_seed);
  cJSON_AddItemToObject(o, "spec", spec);
  cJSON_AddNumberToObject(o, "n_points", (double)m->n_points);
  cJSON *pts = cJSON_AddArrayToObject(o, "points");
  for (size_t i = 0; pts && i < m->n_points; i++) cJSON_AddItemToArray(pts, point_object(&m->points[i]));
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
  const char *injected = NULL; /* CLSCALE_FAIL's (core/fault.h) */
  if (ok && cls_fault(CLS_FAULT_WRITE, path)) ok = 0, errno = ENOSPC, injected = cls_fault_said(CLS_FAULT_WRITE);
  int saved = errno;
  if (f && fclose(f) != 0 && ok) ok = 0, saved = errno;
  /* The link publishes the file as a rename does elsewhere: counted as one. */
  if (ok && cls_fault(CLS_FAULT_RENAME, path)) ok = 0, saved = EIO, injected = cls_fault_said(CLS_FAULT_RENAME);
  if (ok && link(tmp, path) != 0) {
    saved = errno;
    if (saved == EEXIST)
      *exists = 1;
    else
      ok = 0;
  }
  remove(tmp);
  if (!ok)
    return cls_errf(err, err_len, CLS_ERR_IO, "cannot write %s: %s%s%s%s", path, strerror(saved),
                    injected ? " (" : "", injected ? injected : "", injected ? ")" : "");
  return CLS_OK;
}

cls_status cls_manifest_create(const char *dir, const cls_manifest *m, int *created, char *err, size_t err_len) {
  *created = 0;
  char path[4200];
  if (cls_rundir_path(path, sizeof path, dir, CLS_RUNDIR_MANIFEST, NULL) != CLS_OK)
    return cls_errf(err, err_len, CLS_ERR_INVALID_VALUE, "path too long: %s", dir);
  char *text = manifest_text(m);
  if (!text) return cls_errf(err, err_len, CLS_ERR_OUT_OF_MEMORY, "out of host memory writing %s", path);
  int exists;
  cls_status st = create_exclusive(path, text, &exists, err, err_len);
  free(text);
  if (st == CLS_OK) *created = !exists;
  return st;
}

cls_status cls_manifest_read(const char *dir, cls_manifest_info *out, char *err, size_t err_len) {
  memset(out, 0, sizeof *out);
  char path[4200];
  if (cls_rundir_path(path, sizeof path, dir, CLS_RUNDIR_MANIFEST, NULL) != CLS_OK)
    return cls_errf(err, err_len, CLS_ERR_INVALID_VALUE, "path too long: %s", dir);
  cJSON *m;
  cls_status st = cls_json_load(path, &m, err, err_len);
  if (st != CLS_OK) return st;
  out->parsed = 1;
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(m, "version");
  if (v && (!cJSON_IsNumber(v) || v->valuedouble != CLS_RUNDIR_VERSION)) {
    char *shown = cJSON_PrintUnformatted(v);
    cls_errf(err, err_len, CLS_ERR_FORMAT,
             "%s has format version %.40s; this clscale (%s) reads version %d: use the clscale that wrote it, or "
             "another run directory",
             path, shown ? shown : "?", CLSCALE_VERSION, CLS_RUNDIR_VERSION);
    free(shown);
    cJSON_Delete(m);
    return CLS_ERR_FORMAT;
  }
  out->name = cls_strdup(cls_json_get_str(m, "name"));
  out->spec_file = cls_strdup(cls_json_get_str(m, "spec_file"));
  cJSON *spec = cJSON_DetachItemFromObjectCaseSensitive(m, "spec");
  if (cJSON_IsObject(spec))
    out->spec = spec;
  else
    cJSON_Delete(spec);
  cJSON *points = cJSON_DetachItemFromObjectCaseSensitive(m, "points");
  if (cJSON_IsArray(points))
    out->points = points;
  else
    cJSON_Delete(points);
  cJSON_Delete(m);
  return CLS_OK;
}

void cls_manifest_info_free(cls_manifest_info *m) {
  free(m->name);
  free(m->spec_file);
  cJSON_Delete(m->spec);
  cJSON_Delete(m->points);
  memset(m, 0, sizeof *m);
}
