/*
 * src/plot/solved.h — the points of a solved task's sweep (`rf`, `zipf`) as
 * their figures read them: each finished point's summary with its config
 * keys, so that the seeds of one configuration can be grouped without
 * parsing point ids (docs/formats.md, "plots/").
 *
 * A point's config is every key of its summary except the seed and the keys
 * a run writes about itself (the list in solved.c): "name=value" lines,
 * sorted by name, numbers in shortest round-trip form. Two points with the
 * same config are seeds of one configuration.
 */
#ifndef CLSCALE_PLOT_SOLVED_H
#define CLSCALE_PLOT_SOLVED_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "clscale/status.h"
#include "rundir/runs.h"

typedef struct cls_solved_point {
  const cls_run_point *run; /* the run directory's point: id, loss curve */
  cJSON *summary;           /* points/<id>.json */
  char *config;             /* its config lines (see above) */
  double seed;              /* NaN when absent */
  double loss;              /* final_eval_loss */
} cls_solved_point;

typedef struct cls_solved {
  char task[32];            /* the points' "task", "" when no summary names one */
  char mixed[600];          /* when points name two tasks, a message that says so, else "" */
  cls_solved_point *points; /* the finished points (status "ok", finite final_eval_loss), by id */
  size_t n_points;
  size_t n_summaries; /* every summary read, finished or not */
  char **warnings;    /* points left out, and why */
  size_t n_warnings;
} cls_solved;

/* Reads the summary of every point of rd (already loaded: it names them).
 * A summary that cannot be read is CLS_ERR_IO / CLS_ERR_FORMAT naming it.
 * rd must outlive *out. */
cls_status cls_solved_load(const cls_rundir *rd, cls_solved **out, char *err, size_t err_len);
void cls_solved_destroy(cls_solved *s);

/* The number under key in a point's summary; NaN when absent or not a
 * finite number. */
double cls_solved_num(const cls_solved_point *p, const char *key);
/* The string under key, or NULL. */
const char *cls_solved_str(const cls_solved_point *p, const char *key);
/* Whether name is one of the keys left out of a config. */
bool cls_solved_is_run_key(const char *name);

#endif
