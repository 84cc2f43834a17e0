/*
 * src/ops/ops_state.h — the ops layer's per-context state.
 *
 * The device layer keeps one opaque slot per context for the ops layer
 * (cls__ops_state / cls__set_ops_state); cls_context_create (context.c)
 * creates it with the context, holding the backend option. Every op family
 * shares it: this
 * struct has one section per family; add yours below, and release what it
 * owns in ops_state.c's destroy function.
 */
#ifndef CLSCALE_OPS_STATE_H
#define CLSCALE_OPS_STATE_H

#include <stddef.h>

#include "clscale/ops.h"
#include "device/layer.h"

/* Remembered winners of the auto matmul backend (see matmul_auto.c). */
#define CLS__MM_AUTO_MAX 1024

typedef struct cls__mm_auto_entry {
  unsigned key; /* cls__mm_class_key() */
  cls_backend backend;
  /* How the choice was timed, to judge it later: the machine's 1-minute
   * load per CPU then (negative: unknown) and the winner's slowest run over
   * its fastest (0: unknown). Not kept in a run's record. */
  float load, spread;
} cls__mm_auto_entry;

typedef struct cls__ops_data {
  /* ---- matmul */
  cls_backend mm_option;  /* the context options' backend (cls_context_create) */
  int mm_backend_set;     /* cls_matmul_set_backend was called */
  cls_backend mm_backend; /* valid when mm_backend_set */
  cls_buffer *mm_pack;    /* own backend: packed panels of A and B, grown on demand */
  size_t mm_tile_rows;    /* own backend: mm_regs's register tile (0 = not asked yet) */
  size_t mm_tile_cols;
  cls_buffer *mm_save;   /* auto backend: copy of C while candidates are timed */
  int mm_auto_loaded;    /* the persisted choices were read (or there were none) */
  int mm_auto_all;       /* CLSCALE_MATMUL_AUTO=all: time CLBlast on CPU devices too */
  int mm_auto_keep;      /* CLSCALE_MATMUL_AUTO=keep: never time a persisted choice again */
  double mm_load_test;   /* tests: the load per CPU auto sees (negative: read the machine's) */
  double mm_spread_test; /* tests: the spread auto records (negative: the measured one) */
  size_t mm_auto_count;
  size_t mm_auto_evict;   /* when full, the next entry to replace (oldest first) */
  size_t mm_auto_timed;   /* shape classes timed on this context (for tests) */
  size_t mm_auto_dropped; /* persisted choices set aside to be timed again (for tests) */
  cls__mm_auto_entry mm_auto[CLS__MM_AUTO_MAX];
  /* A run's record (cls_matmul_record_begin): the choices it pinned and
   * every class it has used since, each with the backend it ran on. */
  int mm_rec_active;
  size_t mm_rec_count;
  cls__mm_auto_entry mm_rec[CLS__MM_AUTO_MAX];

  /* ---- scratch shared by the ops that need partial sums or lists within
   * one call (bias gradient, norm backward, reductions, embedding
   * backward): the in-order queue runs one op's kernels before the next
   * op's, so one set serves all of them. */
  cls_buffer *temp[2];

  /* ---- SPD solve (cholesky.c): its workspace, kept between calls and
   * replaced by an exactly sized one when a call needs more (a fresh
   * buffer of n^2 floats costs the first touch of every page per call) */
  cls_buffer *spd_ws;

  /* ---- AdamW over groups (adamw.c): the group table on the device and
   * the host copy it was uploaded from (4 words per group), so that a
   * training run uploads it once */
  cls_buffer *adamw_tab;
  unsigned *adamw_tab_host;
  size_t adamw_tab_words;
  /* ---- AdamW over models (adamw.c): each call's per-model words (lr and
   * bias corrections, 4 per model) go up without a host wait into one of
   * two halves of adamw_margs, alternately; a half's host copy is reused
   * only after its last upload is waited for, which was queued a step
   * earlier, so the host never stalls on the step it just queued */
  cls_buffer *adamw_margs;
  size_t adamw_margs_cap; /* models per half */
  unsigned *adamw_margs_host[2];
  cls_transfer *adamw_margs_done[2];
  int adamw_margs_half;

  /* ---- other op families: add fields here */
} cls__ops_data;

/* The context's state, created on first use (or with the context); NULL (with the message set)
 * when host memory runs out. */
cls__ops_data *cls__ops_get(cls_context *ctx);

/* Makes *buf hold at least count floats (reallocating; contents are lost). */
cls_status cls__ops_scratch(cls_context *ctx, cls_buffer **buf, size_t count);

/* Scratch slot 0 or 1 of the context, at least count floats: valid until
 * the next op that asks for the same slot. Allocated once and grown, so
 * ops do not create and release a buffer per call (costly on GPU drivers).
 * On failure the message says what to do. */
cls_status cls__ops_temp(cls_context *ctx, int slot, size_t count, cls_buffer **out);

#endif
