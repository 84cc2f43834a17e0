/* src/rundir/paths.c — see rundir.h: where each file of a run lives, and
 * the leftovers of a writer that was killed. */
#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "core/err.h"
#include "core/file.h"
#include "rundir/rundir.h"

cls_status cls_rundir_path(char *out, size_t len, const char *dir, cls_rundir_file which, const char *id) {
  static const char *const fmt[] = {
      [CLS_RUNDIR_MANIFEST] = "%s/manifest.json",
      [CLS_RUNDIR_POINTS] = "%s/points",
      [CLS_RUNDIR_CHECKPOINTS] = "%s/checkpoints",
      [CLS_RUNDIR_SUMMARY] = "%s/points/%s.json",
      [CLS_RUNDIR_CURVE] = "%s/points/%s.csv",
      [CLS_RUNDIR_CHECKPOINT] = "%s/checkpoints/%s.ckpt",
      [CLS_RUNDIR_FIT] = "%s/fit.json",
      [CLS_RUNDIR_COORD_CHECK] = "%s/coord_check.csv",
      [CLS_RUNDIR_PLOTS] = "%s/plots",
      [CLS_RUNDIR_OUTCOMES] = "%s/points/%s.outcomes.csv",
      [CLS_RUNDIR_CORPORA] = "%s/corpora",
      [CLS_RUNDIR_CORPUS] = "%s/corpora/%s.bin",
      [CLS_RUNDIR_CORPUS_META] = "%s/corpora/%s.json",
      [CLS_RUNDIR_CLAIMS] = "%s/claims",
      [CLS_RUNDIR_CLAIM] = "%s/claims/%s.claim",
  };
  if (len) out[0] = 0;
  if ((unsigned)which >= sizeof fmt / sizeof fmt[0] || !dir) return CLS_ERR_INVALID_VALUE;
  /* An id becomes a file name: "../x" or "a/b" would leave the folder. */
  if (strstr(fmt[which] + 2, "%s") && !cls_rundir_id_ok(id)) return CLS_ERR_INVALID_VALUE;
  int n = snprintf(out, len, fmt[which], dir, id ? id : "");
  return n >= 0 && (size_t)n < len ? CLS_OK : CLS_ERR_INVALID_SIZE;
}

int cls_rundir_id_ok(const char *id) {
  if (!id || !*id || !strcmp(id, ".") || !strcmp(id, "..")) return 0;
  size_t n = 0;
  for (const char *p = id; *p; p++, n++)
    if (n >= CLS_RUNDIR_ID_MAX || !((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                                    (*p >= '0' && *p <= '9') || *p == '_' || *p == '-' || *p == '+' || *p == '.'))
      return 0;
  return 1;
}

cls_status cls_rundir_check_id(const char *what, const char *name, char *err, size_t err_len) {
  if (cls_rundir_id_ok(name)) return CLS_OK;
  /* Shown cut and with its length: a name may be a megabyte, or hold bytes
   * a terminal should not see. */
  char shown[48];
  size_t n = name ? strlen(name) : 0, k = 0;
  for (size_t i = 0; i < n && k + 1 < sizeof shown && i < 40; i++)
    shown[k++] = name[i] >= 0x20 && name[i] < 0x7f ? name[i] : '?';
  shown[k] = 0;
  return cls_errf(err, err_len, CLS_ERR_INVALID_VALUE,
                  "%s '%s%s' (%zu characters): use 1 to %d " CLS_RUNDIR_ID_CHARS " (not \".\" or "
                  "\"..\"), as it names files of the run directory",
                  what, shown, n > 40 ? "..." : "", n, CLS_RUNDIR_ID_MAX);
}

cls_status cls_rundir_prepare(const char *dir, char *err, size_t err_len) {
  char path[4096];
  const cls_rundir_file subs[] = {CLS_RUNDIR_POINTS, CLS_RUNDIR_CHECKPOINTS};
  for (int k = 0; k < 2; k++) {
    if (cls_rundir_path(path, sizeof path, dir, subs[k], NULL) != CLS_OK)
      return cls_errf(err, err_len, CLS_ERR_INVALID_VALUE, "path too long: %s", dir);
    cls_status s = cls_mkdirs(path, err, err_len);
    if (s != CLS_OK) return s;
  }
  return CLS_OK;
}

int cls_rundir_has_checkpoint(const char *dir, const char *id) {
  char path[4200];
  if (cls_rundir_path(path, sizeof path, dir, CLS_RUNDIR_CHECKPOINT, id) != CLS_OK) return 0;
  struct stat sb;
  return stat(path, &sb) == 0;
}

/* NAME.tmp.DIGITS with NAME = id.csv, id.json, id.outcomes.csv, id.ckpt or
 * id.bin: the temporary names of core/file.h's writer (and of the
 * manifest's and the corpus writer's). */
static int is_leftover(const char *file, const char *id) {
  size_t n = strlen(id);
  if (strncmp(file, id, n) || file[n] != '.') return 0;
  const char *ext = file + n + 1;
  const char *rest = !strncmp(ext, "csv.tmp.", 8) || !strncmp(ext, "ckpt.tmp.", 9) ||
                             !strncmp(ext, "json.tmp.", 9) || !strncmp(ext, "outcomes.csv.tmp.", 17) ||
                             !strncmp(ext, "bin.tmp.", 8)
                         ? strstr(ext, ".tmp.") + 5
                         : NULL;
  if (!rest || !*rest) return 0;
  for (const char *p = rest; *p; p++)
    if (*p < '0' || *p > '9') return 0;
  return 1;
}

size_t cls_rundir_remove_leftovers(const char *dir, const char *id) {
  const cls_rundir_file subs[] = {CLS_RUNDIR_POINTS, CLS_RUNDIR_CHECKPOINTS, CLS_RUNDIR_CORPORA};
  size_t removed = 0;
  for (int k = 0; k < 3; k++) {
    char path[4200];
    if (cls_rundir_path(path, sizeof path, dir, subs[k], NULL) != CLS_OK) continue;
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
