/*
 * src/ops/context.c — the public cls_context_create: the ops layer checks
 * and keeps the options that are its own (the matmul backend), and hands
 * the device layer the parameter table its kernels are built with.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops/ops_state.h"
#include "params_internal.h"

static const cls__param_family *const families[] = {&cls__params_matmul, &cls__params_rows, &cls__params_train};

const cls__param_table cls__ops_params = {families, sizeof families / sizeof families[0]};

/* The backend option: the options' field, else CLSCALE_MATMUL_BACKEND,
 * else "auto". Checked before any device is opened, so a typo fails fast. */
static cls_status parse_backend_option(const cls_context_options *o, cls_backend *out, char *err, size_t err_len) {
  const char *env = getenv("CLSCALE_MATMUL_BACKEND");
  const char *name = o && o->matmul_backend ? o->matmul_backend : (env && *env ? env : "auto");
  if (cls_backend_parse(name, out) == CLS_OK) return CLS_OK;
  if (err)
    snprintf(err, err_len, "unknown matmul backend '%s' (from %s): use auto, own, clblast or host", name,
             o && o->matmul_backend ? "`matmul_backend`" : "CLSCALE_MATMUL_BACKEND");
  return CLS_ERR_UNKNOWN_BACKEND;
}

/* CLSCALE_MATMUL_AUTO: a comma-separated list of "all" (time CLBlast on CPU
 * devices too) and "keep" (never time a persisted choice again); see
 * matmul_auto.c. Checked before any device is opened. */
static cls_status parse_auto_policy(int *all, int *keep, char *err, size_t err_len) {
  *all = *keep = 0;
  const char *env = getenv("CLSCALE_MATMUL_AUTO");
  for (const char *p = env ? env : ""; *p;) {
    size_t n = strcspn(p, ",");
    if (n == 3 && !strncmp(p, "all", 3))
      *all = 1;
    else if (n == 4 && !strncmp(p, "keep", 4))
      *keep = 1;
    else if (n) {
      if (err)
        snprintf(err, err_len, "CLSCALE_MATMUL_AUTO: unknown word '%.*s': use all, keep or both (all,keep)",
                 (int)(n > 40 ? 40 : n), p);
      return CLS_ERR_INVALID_VALUE;
    }
    p += n + (p[n] == ',');
  }
  return CLS_OK;
}

cls_status cls_context_create(const cls_context_options *opts, cls_context **out, char *err, size_t err_len) {
  if (err && err_len) err[0] = 0;
  if (!out) return CLS_ERR_NULL_ARGUMENT;
  *out = NULL;
  cls_backend backend;
  cls_status s = parse_backend_option(opts, &backend, err, err_len);
  if (s != CLS_OK) return s;
  int all, keep;
  s = parse_auto_policy(&all, &keep, err, err_len);
  if (s != CLS_OK) return s;
  cls_context *ctx;
  s = cls__context_create(opts, &cls__ops_params, &ctx, err, err_len);
  if (s != CLS_OK) return s;
  cls__ops_data *st = cls__ops_get(ctx);
  if (!st) {
    if (err) snprintf(err, err_len, "%s", cls_last_error(ctx));
    cls_context_destroy(ctx);
    return CLS_ERR_OUT_OF_MEMORY;
  }
  st->mm_option = backend;
  st->mm_auto_all = all;
  st->mm_auto_keep = keep;
  *out = ctx;
  return CLS_OK;
}

cls_status cls_params_defines(const char *set_name, const char *program, char *out, size_t out_len) {
  (void)program; /* every family's parameters; a build keeps those its source names */
  return cls__params_defines(&cls__ops_params, set_name, out, out_len);
}

cls_status cls_params_check(const char *params, char *err, size_t err_len) {
  if (err && err_len) err[0] = 0;
  return cls__params_check(&cls__ops_params, params, err, err_len);
}
