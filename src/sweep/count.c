/* src/sweep/count.c — see count.h. */
#include "sweep/count.h"

int cls_sweep_count_params(const cls_task_spec *base, size_t width, size_t depth, double *n, double *n_embed) {
  /* The task's own entry first: a model's parameters can depend on the
   * task (the gcd task's GPT has a vocabulary of base + 4). */
  const cls_task_info *t = cls_task_find(base->task, base->model);
  const cls_model_info *m = t ? t->model : cls_model_find(base->model);
  if (!m) return 0;
  m->count_params(base, width, depth, n, n_embed);
  return 1;
}
