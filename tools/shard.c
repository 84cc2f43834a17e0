/* tools/shard.c — see shard.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "shard.h"

int cls_shard_parse(const char *v, size_t *i, size_t *n) {
  char *end;
  errno = 0;
  unsigned long a = strtoul(v, &end, 10);
  if (end == v || *end != '/' || v[0] == '-') return 0;
  const char *q = end + 1;
  unsigned long b = strtoul(q, &end, 10);
  if (end == q || *end || errno || *q == '-' || b < 1 || a >= b || b > 1000000) return 0;
  *i = a;
  *n = b;
  return 1;
}

int cls_shard_from_slurm(size_t *i, size_t *n, char *err, size_t err_len) {
  *i = 0;
  *n = 1;
  const char *id = getenv("SLURM_ARRAY_TASK_ID"), *count = getenv("SLURM_ARRAY_TASK_COUNT"),
             *min = getenv("SLURM_ARRAY_TASK_MIN");
  if (!id) return 0;
  /* the task ids of --array=M-(M+N-1) counted from M */
  char buf[64];
  long a = strtol(id, NULL, 10) - (min ? strtol(min, NULL, 10) : 0);
  snprintf(buf, sizeof buf, "%ld/%s", a, count ? count : "");
  if (count && cls_shard_parse(buf, i, n)) return 1;
  snprintf(err, err_len,
           "SLURM_ARRAY_TASK_ID=%s with SLURM_ARRAY_TASK_COUNT=%s (MIN=%s) is not a shard I/N: submit a job array "
           "--array=0-(N-1), or give --shard I/N",
           id, count ? count : "(unset)", min ? min : "(unset)");
  *i = 0;
  *n = 1;
  return -1;
}
