/*
 * src/rundir/claim.h — claims/<id>.claim: which process trains a point now
 * (docs/formats.md, "claims/<id>.claim"). Several processes, on several
 * machines, share one run directory on a network file system; before one
 * trains a point it takes the point's claim, and renews the claim's
 * heartbeat while it trains, so that
 *
 *   - a live claim is never taken twice (created by link(), which is atomic
 *     on NFS and Lustre as on a local disk, where O_EXCL is not on old NFS);
 *   - a claim whose heartbeat is older than a timeout (its process was
 *     killed, its node died) is taken over: renamed aside (one rename wins)
 *     and created again, and the point resumes from its checkpoint.
 *
 * No flock (not reliable across NFS clients) and no pid liveness check
 * across hosts (a pid means nothing on another machine): a claim is alive
 * while its heartbeat, wall-clock seconds of its host, is recent, so the
 * hosts' clocks must agree to well within the timeout (NTP does). Only a
 * claim of this very host whose pid is no longer a process is known dead
 * at once (a re-run after a kill -9 need not wait for the timeout).
 *
 * The format has one parser, cls_claim_parse, on a buffer (for the fuzz
 * targets); the file operations are built on it.
 */
#ifndef CLSCALE_RUNDIR_CLAIM_H
#define CLSCALE_RUNDIR_CLAIM_H

#include <stddef.h>
#include <stdint.h>

#include "clscale/status.h"
#include "rundir/rundir.h"

/* The first line of every claim file, with the format's version. */
#define CLS_CLAIM_MAGIC "clscale-claim 1"
/* Longest claim file read; a larger one is not a claim. */
#define CLS_CLAIM_MAX_BYTES 4096

typedef struct cls_claim {
  char id[CLS_RUNDIR_ID_MAX + 1];     /* the point */
  char token[33];                     /* 32 hex digits, new for each claim taken: who holds it */
  char host[256];                     /* the holder's host name */
  uint64_t pid;                       /* its process id (on host) */
  char slurm_job[64], slurm_task[64]; /* SLURM_JOB_ID, SLURM_ARRAY_TASK_ID ("" when not under Slurm) */
  double taken;                       /* when it was taken: Unix seconds of host's clock */
  double heartbeat;                   /* last renewal, the same clock */
  uint64_t step, total_steps;         /* the point's progress at the last renewal (0 0: not started) */
} cls_claim;

/* The text of c (ends with "end\n"); its length, or 0 when out is too
 * small or a field cannot be written (a value holding a newline). */
size_t cls_claim_format(const cls_claim *c, char *out, size_t len);

/* Parses a claim from len bytes of buf (not NUL-terminated). Strict: the
 * magic line, then every field exactly once in the order written, each
 * value checked (an id that names a file, printable host, decimal numbers,
 * finite times), then "end". Anything else, a file cut short included, is
 * CLS_ERR_FORMAT with the reason in err (err may be NULL); *out is
 * zeroed then. Never reads outside buf. */
cls_status cls_claim_parse(const char *buf, size_t len, cls_claim *out, char *err, size_t err_len);

/* Fills the holder's fields of c for this process: host, pid, the Slurm
 * ids from the environment, a new token, taken = heartbeat = now, and id. */
void cls_claim_init(cls_claim *c, const char *id);

/* Whether c's holder is known to be gone: a process of this host (the
 * same host name) that no longer exists. 0 for another host's claim. */
int cls_claim_holder_gone(const cls_claim *c);

/* Wall-clock seconds (Unix time), the clock of heartbeats. */
double cls_claim_clock(void);

typedef enum {
  CLS_CLAIM_TAKEN = 0, /* mine: the point was free */
  CLS_CLAIM_TOOK_OVER, /* mine: a stale (or unreadable) claim was removed first */
  CLS_CLAIM_HELD,      /* a live claim of another process: *other holds it */
} cls_claim_outcome;

/* Takes DIR/claims/<id>.claim for mine (from cls_claim_init). A claim
 * whose heartbeat is older than timeout seconds, or that cannot be parsed,
 * is stale and taken over; a note says so (note may be NULL). *outcome
 * says what happened; *other is the claim found (HELD, TOOK_OVER: the stale
 * one, zeroed when unreadable). CLS_ERR_IO when the folder cannot be
 * written. */
cls_status cls_claim_take(const char *dir, cls_claim *mine, double timeout, cls_claim_outcome *outcome,
                          cls_claim *other, char *note, size_t note_len, char *err, size_t err_len);

/* Renews mine's heartbeat (and progress) by rewriting the file under a
 * temporary name and renaming it over the claim. *lost is set when the
 * claim there is another process's, or is gone (this one was taken over
 * as stale, and maybe finished and released since): the caller must not
 * renew it again. CLS_ERR_IO when the file cannot be written (the caller
 * tries again at the next renewal). */
cls_status cls_claim_renew(const char *dir, cls_claim *mine, uint64_t step, uint64_t total_steps, int *lost,
                           char *err, size_t err_len);

/* Removes the claim if it is still mine. */
void cls_claim_release(const char *dir, const cls_claim *mine);

/* Removes DIR/claims/<id>.claim.tmp.<pid> files that a process of this
 * host killed while writing a claim left behind (its pid no longer runs,
 * the file is over 2 s old); the count. Other hosts' files are kept unless
 * their pid happens to be free here and they are that old (a live write
 * takes milliseconds). */
size_t cls_claim_remove_leftovers(const char *dir);

/* Reads DIR/claims/<id>.claim: CLS_OK; CLS_ERR_IO when there is none (or
 * it cannot be read); CLS_ERR_FORMAT when it is not a claim (reason in
 * err). */
cls_status cls_claim_read(const char *dir, const char *id, cls_claim *out, char *err, size_t err_len);

#endif
