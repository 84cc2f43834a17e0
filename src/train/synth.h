/*
 * src/train/synth.h — generations: the corpus a trained model (the
 * teacher) writes for the next model to train on (docs/sweep.md,
 * "Generations"). A task that can do it has synth_check and synthesize in
 * its registry entry (train/task.h). The gcd task's teacher answers
 * questions drawn from the real question distribution, and the corpus
 * holds the question and answer tokens it wrote (synth_gcd.c); the text
 * task's teacher continues real-text prompts, and the corpus holds the
 * windows of prompt and continuation (synth_text.c).
 *
 * A corpus is a run-directory artifact (rundir.h: corpora/<teacher>.bin
 * and its .json), made once: synthesize makes it when it is missing, and
 * when it exists checks it (its checksum, and a key equal to the one this
 * request would write) and reuses it. A corpus that is damaged or was
 * made with other settings is an error naming the file, never silently
 * remade: points may already have trained on it. Making one is
 * deterministic: the same request on the same device and matmul backend
 * writes the same bytes.
 */
#ifndef CLSCALE_TRAIN_SYNTH_H
#define CLSCALE_TRAIN_SYNTH_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "clscale/status.h"

/* Generations a sweep may run (each teacher's questions have their own
 * Philox stream, numbered by generation). */
#define CLS_SYNTH_MAX_GENERATIONS 100

/* Sequences sampled at once (fixed: the batch shapes the matmuls' float
 * rounding, so a fixed one keeps a corpus the same bytes on a re-run). */
#define CLS_SYNTH_BATCH 256

typedef struct cls_synth_request {
  const char *teacher_id;            /* the teacher's point id (in the key and the meta file) */
  const char *teacher_checkpoint;    /* its final checkpoint (train/gpt_checkpoint.h) */
  const char *corpus_path;           /* corpora/<teacher>.bin */
  const char *meta_path;             /* corpora/<teacher>.json */
  uint64_t seed;                     /* the questions' and the sampler's seed */
  unsigned generation;               /* of the models that train on it (>= 1): the questions' stream */
  size_t n;                          /* sequences */
  double temperature;                /* > 0 */
  size_t top_k;                      /* 0: no cut */
  double top_p;                      /* (0, 1] */
  const char *device_name;           /* for the meta file; may be NULL */
  const volatile sig_atomic_t *stop; /* set: stop between batches (the corpus is not written) */
  /* After each batch of sequences is written to the temporary file; may be NULL. */
  void (*progress)(void *user, size_t done, size_t total);
  void *progress_user;
} cls_synth_request;

typedef struct cls_synth_result {
  int reused;  /* the corpus was there and whole */
  int stopped; /* *stop was set: no corpus */
  uint64_t checksum;
  uint64_t n, malformed, wrong, correct; /* gcd: the teacher's answers */
  double seconds;
  /* A made corpus: what it says of the teacher, for people ("the
   * teacher's answers 0.75 right, ..."). */
  char summary[256];
} cls_synth_result;

#endif
