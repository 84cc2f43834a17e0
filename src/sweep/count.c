/* src/sweep/count.c — see count.h. */
#include "sweep/count.h"

int cls_sweep_count_params(const cls_task_spec *base, size_t width, size_t depth, double *n, double *n_embed) {
  const cls_model_info *m = cls_model_find(base->model);
  if (!m) return 0;
  m->count_params(base, width, depth, n, n_embed);
  return 1;
}
