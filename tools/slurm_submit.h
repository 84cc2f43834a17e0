/*
 * tools/slurm_submit.h — `clscale sweep SPEC --slurm`: one sbatch job array,
 * one task per shard, each task running `clscale sweep SPEC --out RUN_DIR
 * --shard $SLURM_ARRAY_TASK_ID/N`. sbatch is started with an argument
 * vector (posix_spawnp, found on PATH), never through a shell, and the
 * batch script it runs is fixed text that takes every user string (the
 * spec, the run directory, clscale's options) as its arguments, so no name
 * is ever parsed by a shell.
 */
#ifndef CLSCALE_TOOLS_SLURM_SUBMIT_H
#define CLSCALE_TOOLS_SLURM_SUBMIT_H

#include <stddef.h>

typedef struct {
  const char *clscale; /* absolute path of the clscale to run */
  const char *spec;    /* absolute path of the spec */
  const char *out;     /* the run directory, absolute; the script and logs go to OUT/slurm/ */
  const char *name;    /* the sweep's name (the job's name) */
  size_t n_shards;     /* N of --shard I/N */
  const size_t *tasks; /* the shards to run (array indices), ascending */
  size_t n_tasks;
  size_t max_parallel;       /* > 0: at most this many tasks at once (%K) */
  char *const *clscale_args; /* passed on to each task's clscale sweep */
  size_t n_clscale_args;
  char *const *sbatch_args; /* the user's sbatch options, after ours (so they win) */
  size_t n_sbatch_args;
} cls_slurm_job;

/* Writes OUT/slurm/sweep.sh and runs sbatch --parsable. 0 with the job id
 * in job_id; else -1 with the reason in err (sbatch not on PATH, its exit
 * status and its messages). */
int cls_slurm_submit(const cls_slurm_job *j, char *job_id, size_t id_len, char *err, size_t err_len);

/* The --array value of the tasks: "0-3,5,7-9" (with "%K"); 0 when it does
 * not fit in out. */
int cls_slurm_array_spec(const size_t *tasks, size_t n, size_t max_parallel, char *out, size_t len);

#endif
