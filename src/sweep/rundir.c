/* src/sweep/rundir.c — see rundir.h; the files themselves are rundir/'s. */
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

#include "core/err.h"
#include "core/file.h"
#include "core/fmt.h"
#include "rundir/rundir.h"
#include "sweep/rundir.h"

/* ----------------------------------------------------------- manifest */

/* The manifest of this spec and plan, in the run directory's terms. */
static cls_manifest_point *manifest_points(const cls_sweep_point *points, size_t n) {
  cls_manifest_point *mp = calloc(n ? n : 1, sizeof *mp);
  for (size_t i = 0; mp && i < n; i++) {
    const cls_sweep_point *p = &points[i];
    mp[i] = (cls_manifest_point){.id = p->id,
                                 .width = (double)p->shape.width,
                                 .depth = (double)p->shape.depth,
                                 .heads = (double)p->shape.heads,
                                 .n_params = p->n_params,
                                 .n_params_embed = p->n_params_embed,
                                 .budget_flops = p->budget.kind == CLS_BUDGET_FLOPS ? p->budget.value : NAN,
                                 .budget_tokens = p->budget.kind == CLS_BUDGET_TOKENS ? p->budget.value : NAN,
                                 .budget_steps = p->budget.kind == CLS_BUDGET_STEPS ? p->budget.value : NAN,
                                 .seed = (double)p->seed,
                                 .lr = p->lr,
                                 .generation = (double)p->generation,
                                 .real_fraction = p->real_fraction,
                                 .teacher = p->teacher_id[0] ? p->teacher_id : NULL};
  }
  return mp;
}

static cls_status create_manifest(const char *dir, const cls_sweep_spec *s, const cls_sweep_point *points,
                                  size_t n, const cls_sweep_manifest_info *info, int *created, char *err,
                                  size_t err_len) {
  cls_manifest_point *mp = manifest_points(points, n);
  if (!mp)
    return cls_errf(err, err_len, CLS_ERR_OUT_OF_MEMORY, "out of host memory writing %s/manifest.json", dir);
  cls_manifest m = {.name = s->name,
                    .task = s->task,
                    .model = s->model,
                    .mode = cls_sweep_mode_name(s->mode),
                    .device = info ? info->device : NULL,
                    .spec_file = info ? info->spec_path : NULL,
                    .seeds = s->seeds,
                    .n_seeds = s->n_seeds,
                    .data_seed = s->base.data_seed,
                    .spec = s->canonical,
                    .points = mp,
                    .n_points = n};
  cls_status st = cls_manifest_create(dir, &m, created, err, err_len);
  free(mp);
  return st;
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

/* The manifest there must be of this spec: a different one would mix
 * points that are not comparable. */
static cls_status check_manifest(const char *dir, const cls_sweep_spec *s, char *err, size_t err_len) {
  char path[4200];
  cls_rundir_path(path, sizeof path, dir, CLS_RUNDIR_MANIFEST, NULL);
  cls_manifest_info m;
  cls_status st = cls_manifest_read(dir, &m, err, err_len);
  if (st == CLS_ERR_IO || (st != CLS_OK && m.parsed)) return st;
  if (st != CLS_OK || !m.spec) {
    cls_errf(err, err_len, CLS_ERR_FORMAT,
             "%s is not a sweep manifest (%s): use another `out_dir`, or remove the file if the folder holds "
             "nothing else of value",
             path, m.parsed ? "no \"spec\" object" : "not valid JSON");
    cls_manifest_info_free(&m);
    return CLS_ERR_FORMAT;
  }
  cJSON *mine = cJSON_Parse(s->canonical);
  if (!mine) {
    cls_manifest_info_free(&m);
    return cls_errf(err, err_len, CLS_ERR_OUT_OF_MEMORY, "out of host memory");
  }
  if (!cJSON_Compare(m.spec, mine, 1)) {
    char why[512];
    first_difference(m.spec, mine, why, sizeof why);
    const char *file = m.spec_file;
    st = cls_errf(err, err_len, CLS_ERR_INVALID_VALUE,
                  "%s belongs to another sweep%s%s%s: %s. Its points would not be comparable: use another "
                  "`out_dir`, or the spec that made it",
                  path, file ? " (from " : "", file ? file : "", file ? ")" : "", why);
  }
  cJSON_Delete(mine);
  cls_manifest_info_free(&m);
  return st;
}

cls_status cls_sweep_manifest_ensure(const char *dir, const cls_sweep_spec *s, const cls_sweep_point *points,
                                     size_t n, const cls_sweep_manifest_info *info, int *created, char *err,
                                     size_t err_len) {
  *created = 0;
  cls_status st = cls_mkdirs(dir, err, err_len);
  if (st != CLS_OK) return st;
  char path[4200];
  cls_rundir_path(path, sizeof path, dir, CLS_RUNDIR_MANIFEST, NULL);
  struct stat sb;
  if (stat(path, &sb) != 0) {
    st = create_manifest(dir, s, points, n, info, created, err, err_len);
    if (st != CLS_OK || *created) return st;
  }
  return check_manifest(dir, s, err, err_len);
}

/* ------------------------------------------------------------- points */

cls_status cls_sweep_write_failed(const char *dir, const cls_sweep_spec *s, const cls_sweep_point *p,
                                  const char *device, const char *error, char *err, size_t err_len) {
  char path[4200];
  cls_status st = cls_rundir_prepare(dir, err, err_len);
  if (st != CLS_OK) return st;
  cls_rundir_path(path, sizeof path, dir, CLS_RUNDIR_SUMMARY, p->id);
  /* The point's configuration, in the order a failed point has always
   * been written: the budget before the (zero) counts. */
  char config[1024], num[2][40];
  snprintf(config, sizeof config, "task=%s\nmodel=%s\nwidth=%zu\ndepth=%zu\nheads=%zu\nseed=%llu\nlr=%s\n%s=%s\n",
           s->task, s->model, (size_t)p->shape.width, (size_t)p->shape.depth, (size_t)p->shape.heads,
           (unsigned long long)p->seed, cls_fmt_shortest(p->lr, 0, num[0], sizeof num[0]),
           p->budget.kind == CLS_BUDGET_FLOPS    ? "budget_flops"
           : p->budget.kind == CLS_BUDGET_TOKENS ? "budget_tokens"
                                                 : "budget_steps",
           cls_fmt_shortest(p->budget.value, 0, num[1], sizeof num[1]));
  char trailer[600];
  snprintf(trailer, sizeof trailer, "sweep=%s\n", s->name);
  cls_point_summary sum;
  cls_point_summary_init(&sum);
  sum.id = p->id;
  sum.state = CLS_POINT_FAILED;
  sum.error = error;
  sum.n_params = p->n_params;
  sum.n_params_embed = p->n_params_embed;
  sum.config = config;
  sum.tokens = 0;
  sum.flops = 0;
  sum.device = device;
  sum.trailer = trailer;
  return cls_point_summary_write(path, &sum, err, err_len);
}
