/*
 * src/device/program.c — building the programs of cl/ and finding kernels.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "device/context.h"
#include "device/embedded.h"

static double now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int valid_name(const char *name) {
  if (!name || !*name || strlen(name) >= 32) return 0;
  for (const char *p = name; *p; p++)
    if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_')) return 0;
  return 1;
}

cls_status cls__program_source(cls_context *ctx, const char *name, const char **text, char **owned) {
  *text = NULL;
  *owned = NULL;
  if (!valid_name(name))
    return cls__fail(ctx, CLS_ERR_KERNEL_NOT_FOUND, "invalid program name '%s'", name ? name : "(null)");
  if (ctx->kernel_dir[0]) {
    char path[1200];
    snprintf(path, sizeof path, "%s/%s.cl", ctx->kernel_dir, name);
    FILE *f = fopen(path, "rb");
    if (!f)
      return cls__fail(ctx, CLS_ERR_KERNEL_NOT_FOUND,
                       "cannot open %s (CLSCALE_KERNEL_DIR=%s): point it at the project's cl/ folder or unset it",
                       path, ctx->kernel_dir);
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = size >= 0 ? malloc((size_t)size + 1) : NULL;
    if (!buf || fread(buf, 1, (size_t)size, f) != (size_t)size) {
      free(buf);
      fclose(f);
      return cls__fail(ctx, CLS_ERR_IO, "cannot read %s", path);
    }
    fclose(f);
    buf[size] = 0;
    *text = *owned = buf;
    return CLS_OK;
  }
  for (const cls__embedded_source *s = cls__embedded_sources; s->name; s++)
    if (!strcmp(s->name, name)) {
      *text = s->text;
      return CLS_OK;
    }
  return cls__fail(ctx, CLS_ERR_KERNEL_NOT_FOUND, "no program '%s' among the embedded kernels (cl/%s.cl)", name,
                   name);
}

static void build_options(const cls_context *ctx, char *out, size_t len) {
  snprintf(out, len, "-cl-std=CL1.2 %s", ctx->defines);
}

/* Builds a program from source; on failure the message holds the log. */
static cls_status build_from_source(cls_context *ctx, const char *name, const char *source, const char *options,
                                    cl_program *out) {
  cl_int rc;
  cl_program prog = clCreateProgramWithSource(ctx->cl, 1, &source, NULL, &rc);
  if (!prog || rc != CL_SUCCESS) return cls__cl_fail(ctx, rc, "clCreateProgramWithSource");
  rc = clBuildProgram(prog, 1, &ctx->device, options, NULL, NULL);
  if (rc != CL_SUCCESS) {
    size_t log_len = 0;
    clGetProgramBuildInfo(prog, ctx->device, CL_PROGRAM_BUILD_LOG, 0, NULL, &log_len);
    char *log = malloc(log_len + 1);
    if (log) {
      log[0] = 0;
      clGetProgramBuildInfo(prog, ctx->device, CL_PROGRAM_BUILD_LOG, log_len, log, NULL);
      log[log_len] = 0;
    }
    cls__fail(ctx, CLS_ERR_BUILD, "building cl/%s.cl for %s failed (%s) with options '%s'; compiler log:\n%s",
              name, ctx->info.name, cls_status_name(rc), options, log ? log : "(no log)");
    free(log);
    clReleaseProgram(prog);
    return CLS_ERR_BUILD;
  }
  *out = prog;
  return CLS_OK;
}

static cls_status get_program(cls_context *ctx, const char *name, cl_program *out, double *seconds, int *cached) {
  for (size_t i = 0; i < ctx->program_count; i++)
    if (!strcmp(ctx->programs[i].name, name)) {
      *out = ctx->programs[i].program;
      if (seconds) *seconds = 0;
      if (cached) *cached = 1;
      return CLS_OK;
    }
  if (ctx->program_count == CLS__MAX_PROGRAMS)
    return cls__fail(ctx, CLS_ERR_INTERNAL, "too many programs (raise CLS__MAX_PROGRAMS)");
  const char *source;
  char *owned;
  cls_status s = cls__program_source(ctx, name, &source, &owned);
  if (s != CLS_OK) return s;
  char options[1200];
  build_options(ctx, options, sizeof options);
  double t0 = now_seconds();
  cl_program prog = cls__cache_load(ctx, name, source, options);
  int from_cache = prog != NULL;
  if (!prog) {
    s = build_from_source(ctx, name, source, options, &prog);
    if (s == CLS_OK) cls__cache_save(ctx, name, source, options, prog);
  }
  free(owned);
  if (s != CLS_OK) return s;
  if (seconds) *seconds = now_seconds() - t0;
  if (cached) *cached = from_cache;
  cls__program *p = &ctx->programs[ctx->program_count++];
  snprintf(p->name, sizeof p->name, "%s", name);
  p->program = prog;
  *out = prog;
  return CLS_OK;
}

cls_status cls__kernel(cls_context *ctx, const char *program, const char *kernel, cl_kernel *out) {
  for (size_t i = 0; i < ctx->kernel_count; i++)
    if (!strcmp(ctx->kernels[i].name, kernel) && !strcmp(ctx->kernels[i].program, program)) {
      *out = ctx->kernels[i].kernel;
      return CLS_OK;
    }
  if (ctx->kernel_count == CLS__MAX_KERNELS)
    return cls__fail(ctx, CLS_ERR_INTERNAL, "too many kernels (raise CLS__MAX_KERNELS)");
  cl_program prog;
  cls_status s = get_program(ctx, program, &prog, NULL, NULL);
  if (s != CLS_OK) return s;
  cl_int rc;
  cl_kernel k = clCreateKernel(prog, kernel, &rc);
  if (!k || rc != CL_SUCCESS)
    return cls__fail(ctx, rc == CL_INVALID_KERNEL_NAME ? CLS_ERR_KERNEL_NOT_FOUND : rc,
                     "no kernel '%s' in cl/%s.cl (%s)", kernel, program, cls_status_name(rc));
  cls__kernel_entry *e = &ctx->kernels[ctx->kernel_count++];
  snprintf(e->program, sizeof e->program, "%s", program);
  snprintf(e->name, sizeof e->name, "%s", kernel);
  e->kernel = k;
  *out = k;
  return CLS_OK;
}

cls_status cls__kernel_max_group(cls_context *ctx, cl_kernel k, size_t *out) {
  size_t kmax = 0;
  cl_int rc = clGetKernelWorkGroupInfo(k, ctx->device, CL_KERNEL_WORK_GROUP_SIZE, sizeof kmax, &kmax, NULL);
  if (rc != CL_SUCCESS) return cls__cl_fail(ctx, rc, "clGetKernelWorkGroupInfo");
  *out = kmax < 1 ? 1 : kmax;
  return CLS_OK;
}

size_t cls_program_count(void) {
  size_t n = 0;
  while (cls__embedded_sources[n].name) n++;
  return n;
}

const char *cls_program_name(size_t i) {
  return i < cls_program_count() ? cls__embedded_sources[i].name : NULL;
}

cls_status cls_program_prepare(cls_context *ctx, const char *program, double *build_seconds, int *from_cache) {
  CLS_CHECK_CTX(ctx);
  cl_program prog;
  return get_program(ctx, program, &prog, build_seconds, from_cache);
}

void cls__programs_release(cls_context *ctx) {
  for (size_t i = 0; i < ctx->kernel_count; i++) clReleaseKernel(ctx->kernels[i].kernel);
  for (size_t i = 0; i < ctx->program_count; i++) clReleaseProgram(ctx->programs[i].program);
  ctx->kernel_count = ctx->program_count = 0;
}
