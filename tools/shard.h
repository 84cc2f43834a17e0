/*
 * tools/shard.h — which part of a sweep this process runs: points I, I+N,
 * I+2N, ... of shard I/N, from --shard or from a Slurm job array's task.
 */
#ifndef CLSCALE_TOOLS_SHARD_H
#define CLSCALE_TOOLS_SHARD_H

#include <stddef.h>

/* "I/N" with 0 <= I < N <= 1000000 into *i, *n; 1 when it is one, else 0. */
int cls_shard_parse(const char *v, size_t *i, size_t *n);

/* The shard of a Slurm job array's task (SLURM_ARRAY_TASK_ID, _COUNT and
 * _MIN): 1 with *i, *n set; 0 when this is no array task (*i = 0, *n = 1);
 * -1 when the variables make no shard, with what to do in err. */
int cls_shard_from_slurm(size_t *i, size_t *n, char *err, size_t err_len);

#endif
