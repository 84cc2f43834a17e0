/* src/ops/ops_state.c — see ops_state.h. */
#include <stdlib.h>

#include "ops/ops_state.h"

static void destroy(void *p) {
  cls__ops_data *st = p;
  if (!st) return;
  cls_buffer_free(st->mm_pack);
  cls_buffer_free(st->mm_save);
  cls_buffer_free(st->temp[0]);
  cls_buffer_free(st->temp[1]);
  cls_buffer_free(st->spd_ws);
  cls_buffer_free(st->adamw_tab);
  free(st->adamw_tab_host);
  for (int i = 0; i < 2; i++) {
    cls_transfer_wait(st->adamw_margs_done[i]); /* the queue is finished: releases the handle */
    free(st->adamw_margs_host[i]);
  }
  cls_buffer_free(st->adamw_margs);
  free(st);
}

cls__ops_data *cls__ops_get(cls_context *ctx) {
  cls__ops_data *st = cls__ops_state(ctx);
  if (st) return st;
  st = calloc(1, sizeof *st);
  if (!st) {
    cls__fail(ctx, CLS_ERR_OUT_OF_MEMORY, "out of host memory creating the ops state");
    return NULL;
  }
  st->mm_load_test = st->mm_spread_test = -1; /* measured, unless a test says otherwise */
  cls__set_ops_state(ctx, st, destroy);
  return st;
}

cls_status cls__ops_scratch(cls_context *ctx, cls_buffer **buf, size_t count) {
  if (*buf && cls_buffer_count(*buf) >= count) return CLS_OK;
  /* Grow by half again, so that slowly growing shapes do not reallocate
   * on every call. The in-order queue keeps earlier users of the old buffer
   * ordered before its release. */
  size_t want = count + count / 2;
  cls_buffer_free(*buf);
  *buf = NULL;
  cls_status s = cls_buffer_alloc(ctx, want, buf);
  if (s != CLS_OK) s = cls_buffer_alloc(ctx, count, buf);
  return s;
}

cls_status cls__ops_temp(cls_context *ctx, int slot, size_t count, cls_buffer **out) {
  cls__ops_data *st = cls__ops_get(ctx);
  if (!st) return CLS_ERR_OUT_OF_MEMORY;
  cls_status s = cls__ops_scratch(ctx, &st->temp[slot & 1], count);
  *out = s == CLS_OK ? st->temp[slot & 1] : NULL;
  return s;
}
