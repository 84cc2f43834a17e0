/* tools/slurm_submit.c — see slurm_submit.h. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/file.h"
#include "slurm_submit.h"

extern char **environ;

/* The batch script: fixed text, every user string an argument. Kept in
 * step with tools/slurm/sweep.sbatch (the by-hand equivalent). */
static const char script[] =
    "#!/bin/sh\n"
    "# Written by `clscale sweep --slurm` (tools/slurm_submit.c): one array task\n"
    "# is one shard of the sweep; the run directory is shared, and each point is\n"
    "# trained under its claim (RUN_DIR/claims), so a re-submitted or requeued\n"
    "# task never trains a point another task holds.\n"
    "#   sh sweep.sh CLSCALE SPEC RUN_DIR N [CLSCALE SWEEP OPTIONS...]\n"
    "clscale=$1; spec=$2; out=$3; n=$4; shift 4\n"
    "echo \"task ${SLURM_ARRAY_TASK_ID}/$n of job ${SLURM_ARRAY_JOB_ID:-?} on $(hostname)\"\n"
    "exec \"$clscale\" sweep \"$spec\" --out \"$out\" --shard \"${SLURM_ARRAY_TASK_ID}/$n\" \"$@\"\n";

int cls_slurm_array_spec(const size_t *tasks, size_t n, size_t max_parallel, char *out, size_t len) {
  size_t k = 0;
  if (!len) return 0;
  out[0] = 0;
  for (size_t i = 0; i < n;) {
    size_t j = i;
    while (j + 1 < n && tasks[j + 1] == tasks[j] + 1) j++;
    int w = j > i ? snprintf(out + k, len - k, "%s%zu-%zu", k ? "," : "", tasks[i], tasks[j])
                  : snprintf(out + k, len - k, "%s%zu", k ? "," : "", tasks[i]);
    if (w < 0 || (size_t)w >= len - k) return 0;
    k += (size_t)w;
    i = j + 1;
  }
  if (max_parallel) {
    int w = snprintf(out + k, len - k, "%%%zu", max_parallel);
    if (w < 0 || (size_t)w >= len - k) return 0;
  }
  return 1;
}

/* sbatch replaces %A, %a, ... in --output: a '%' of the folder's name is
 * written "%%". */
static int escape_percent(const char *in, char *out, size_t len) {
  size_t k = 0;
  for (const char *p = in; *p; p++) {
    if (k + 3 >= len) return 0;
    if (*p == '%') out[k++] = '%';
    out[k++] = *p;
  }
  out[k] = 0;
  return 1;
}

int cls_slurm_submit(const cls_slurm_job *j, char *job_id, size_t id_len, char *err, size_t err_len) {
  if (id_len) job_id[0] = 0;
  char folder[4200], path[4300], logs[4300], logs_esc[8700], array[8192], name[300];
  snprintf(folder, sizeof folder, "%s/slurm", j->out);
  if (cls_mkdirs(folder, err, err_len) != 0) return -1;
  snprintf(path, sizeof path, "%s/sweep.sh", folder);
  if (cls_write_atomic(path, script, sizeof script - 1, err, err_len) != 0) return -1;
  snprintf(logs, sizeof logs, "%s/%%A_%%a.out", folder);
  /* the folder's own '%' doubled; the pattern's kept */
  char folder_esc[8500];
  if (!escape_percent(folder, folder_esc, sizeof folder_esc)) {
    snprintf(err, err_len, "the run directory's path is too long");
    return -1;
  }
  snprintf(logs_esc, sizeof logs_esc, "--output=%s/%%A_%%a.out", folder_esc);
  if (!cls_slurm_array_spec(j->tasks, j->n_tasks, j->max_parallel, array + 8, sizeof array - 8)) {
    snprintf(err, err_len, "too many array tasks to list");
    return -1;
  }
  memcpy(array, "--array=", 8);
  snprintf(name, sizeof name, "--job-name=clscale-%s", j->name);
  char nbuf[32];
  snprintf(nbuf, sizeof nbuf, "%zu", j->n_shards);

  /* sbatch [ours] [the user's] SCRIPT CLSCALE SPEC OUT N [clscale's] */
  size_t cap = 11 + j->n_sbatch_args + j->n_clscale_args, n = 0; /* 10 of ours and the NULL */
  char **argv = calloc(cap, sizeof *argv);
  if (!argv) {
    snprintf(err, err_len, "out of host memory");
    return -1;
  }
  argv[n++] = "sbatch";
  argv[n++] = "--parsable";
  argv[n++] = name;
  argv[n++] = array;
  argv[n++] = logs_esc;
  for (size_t i = 0; i < j->n_sbatch_args; i++) argv[n++] = j->sbatch_args[i];
  argv[n++] = path;
  argv[n++] = (char *)j->clscale;
  argv[n++] = (char *)j->spec;
  argv[n++] = (char *)j->out;
  argv[n++] = nbuf;
  for (size_t i = 0; i < j->n_clscale_args; i++) argv[n++] = j->clscale_args[i];
  argv[n] = NULL;
  (void)logs;

  /* Its output through a pipe (the job id); its messages to ours. */
  int fds[2];
  if (pipe(fds) != 0) {
    snprintf(err, err_len, "cannot make a pipe: %s", strerror(errno));
    free(argv);
    return -1;
  }
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
  posix_spawn_file_actions_addclose(&fa, fds[0]);
  posix_spawn_file_actions_addclose(&fa, fds[1]);
  pid_t pid;
  int rc = posix_spawnp(&pid, "sbatch", &fa, NULL, argv, environ);
  posix_spawn_file_actions_destroy(&fa);
  free(argv);
  close(fds[1]);
  if (rc != 0) {
    close(fds[0]);
    if (rc == ENOENT)
      snprintf(err, err_len,
               "sbatch is not on PATH: run this on a Slurm login node (or put Slurm's bin folder on PATH); "
               "tools/slurm/sweep.sbatch is the same job for a by-hand sbatch");
    else
      snprintf(err, err_len, "cannot start sbatch: %s", strerror(rc));
    return -1;
  }
  char out[512];
  size_t got = 0;
  for (;;) {
    ssize_t r = read(fds[0], out + got, sizeof out - 1 - got);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    got += (size_t)r;
    if (got == sizeof out - 1) break;
  }
  out[got] = 0;
  close(fds[0]);
  int status;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) {
      snprintf(err, err_len, "waiting for sbatch: %s", strerror(errno));
      return -1;
    }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    snprintf(err, err_len, "sbatch %s %d (its message is above): nothing was submitted",
             WIFEXITED(status) ? "exited with" : "was ended by signal",
             WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
    return -1;
  }
  /* --parsable: "JOBID" or "JOBID;CLUSTER" */
  size_t k = 0;
  while (out[k] >= '0' && out[k] <= '9') k++;
  if (!k || k >= id_len) {
    snprintf(err, err_len, "sbatch printed no job id (it printed '%.100s')", out);
    return -1;
  }
  memcpy(job_id, out, k);
  job_id[k] = 0;
  return 0;
}
