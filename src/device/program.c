/*
 * src/device/program.c — building the programs of cl/ and finding kernels.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "context_internal.h"
#include "device/embedded.h"
#include "core/clock.h"
#include "core/fault.h"
#include "core/file.h"

/* Program names are [a-z0-9_]+; header names the same plus ".h". */
static int valid_name(const char *name, int header) {
  size_t n = name ? strlen(name) : 0;
  if (!n || n >= 32) return 0;
  if (header) {
    if (n < 3 || strcmp(name + n - 2, ".h")) return 0;
    n -= 2;
  }
  for (size_t i = 0; i < n; i++)
    if (!((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= '0' && name[i] <= '9') || name[i] == '_')) return 0;
  return 1;
}

/* The text of one file of cl/: from kernel_dir when set, else embedded. */
static cls_status load_file(cls_context *ctx, const char *file, const char *label, const char **text,
                            char **owned) {
  *text = NULL;
  *owned = NULL;
  if (ctx->kernel_dir[0]) {
    char path[1200];
    snprintf(path, sizeof path, "%s/%s", ctx->kernel_dir, file);
    char *buf, why[1400];
    cls_status s = cls_read_file(path, 0, &buf, NULL, why, sizeof why);
    /* A file that is missing or unreadable is a kernel not found there. */
    if (s == CLS_ERR_IO)
      return cls__fail(ctx, CLS_ERR_KERNEL_NOT_FOUND,
                       "%s (the kernel folder, from `kernel_dir` or CLSCALE_KERNEL_DIR): point it at the "
                       "project's cl/ folder or leave it unset",
                       why);
    if (s != CLS_OK) return cls__fail(ctx, s, "%s", why);
    *text = *owned = buf;
    return CLS_OK;
  }
  for (const cls__embedded_source *s = cls__embedded_sources; s->name; s++)
    if (!strcmp(s->name, label)) {
      *text = s->text;
      return CLS_OK;
    }
  return cls__fail(ctx, CLS_ERR_KERNEL_NOT_FOUND, "no '%s' among the embedded kernel sources (cl/%s)", label,
                   file);
}

/* Replaces each line `#include "name.h"` by that header of cl/, framed by
 * #line directives so compiler messages name the right file and line.
 * OpenCL compilers have no include path for sources given as strings, so
 * the loader does it; one level deep, which is all the kernels need. */
static cls_status expand_includes(cls_context *ctx, const char *program, const char *text, char **out) {
  size_t cap = strlen(text) + 1, len = 0;
  char *res = malloc(cap);
  if (!res) return cls__fail(ctx, CLS_ERR_OUT_OF_MEMORY, "out of host memory loading cl/%s.cl", program);
  unsigned line = 1;
  for (const char *p = text; *p;) {
    const char *eol = strchr(p, '\n');
    size_t n = eol ? (size_t)(eol - p) + 1 : strlen(p);
    const char *q = p;
    while (*q == ' ' || *q == '\t') q++;
    char header[64] = "";
    int inc = 0;
    if (*q == '#') {
      q++;
      while (*q == ' ' || *q == '\t') q++;
      if (!strncmp(q, "include", 7)) {
        q += 7;
        while (*q == ' ' || *q == '\t') q++;
        const char *end = *q == '"' ? strchr(q + 1, '"') : NULL;
        if (!end || end > p + n || (size_t)(end - q - 1) >= sizeof header) {
          free(res);
          return cls__fail(ctx, CLS_ERR_BUILD, "cl/%s.cl:%u: only #include \"name.h\" of cl/ is supported",
                           program, line);
        }
        memcpy(header, q + 1, (size_t)(end - q - 1));
        header[end - q - 1] = 0;
        inc = 1;
      }
    }
    const char *add = p;
    size_t add_len = n;
    char *owned = NULL, frame[160] = "";
    if (inc) {
      if (!valid_name(header, 1)) {
        free(res);
        return cls__fail(ctx, CLS_ERR_BUILD, "cl/%s.cl:%u: bad header name '%s'", program, line, header);
      }
      cls_status s = load_file(ctx, header, header, &add, &owned);
      if (s != CLS_OK) {
        free(res);
        return s;
      }
      add_len = strlen(add);
      snprintf(frame, sizeof frame, "\n#line %u \"%s.cl\"\n", line + 1, program);
    }
    char head[96] = "";
    if (inc) snprintf(head, sizeof head, "#line 1 \"%s\"\n", header);
    size_t need = len + strlen(head) + add_len + strlen(frame) + 1;
    if (need > cap) {
      while (cap < need) cap *= 2;
      char *grown = realloc(res, cap);
      if (!grown) {
        free(res);
        free(owned);
        return cls__fail(ctx, CLS_ERR_OUT_OF_MEMORY, "out of host memory loading cl/%s.cl", program);
      }
      res = grown;
    }
    memcpy(res + len, head, strlen(head));
    len += strlen(head);
    memcpy(res + len, add, add_len);
    len += add_len;
    memcpy(res + len, frame, strlen(frame));
    len += strlen(frame);
    res[len] = 0;
    free(owned);
    p += n;
    line++;
  }
  *out = res;
  return CLS_OK;
}

cls_status cls__program_source(cls_context *ctx, const char *name, const char **text, char **owned) {
  *text = NULL;
  *owned = NULL;
  if (!valid_name(name, 0))
    return cls__fail(ctx, CLS_ERR_KERNEL_NOT_FOUND, "invalid program name '%s'", name ? name : "(null)");
  char file[48];
  snprintf(file, sizeof file, "%s.cl", name);
  const char *raw;
  char *raw_owned;
  cls_status s = load_file(ctx, file, name, &raw, &raw_owned);
  if (s != CLS_OK) return s;
  char *expanded = NULL;
  s = expand_includes(ctx, name, raw, &expanded);
  free(raw_owned);
  if (s != CLS_OK) return s;
  *text = *owned = expanded;
  return CLS_OK;
}

static int ident_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

/* Whether text[0..len) holds the identifier name[0..n) as a whole token. */
static int has_token(const char *text, size_t len, const char *name, size_t n) {
  for (const char *p = text, *end = text + len; p + n <= end; p++)
    if (*p == *name && !memcmp(p, name, n) && (p == text || !ident_char(p[-1])) &&
        (p + n == end || !ident_char(p[n])))
      return 1;
  return 0;
}

/* The build options of one program: the context's -D definitions that
 * its source (headers included) names, and no others. A parameter that a
 * program never mentions cannot change its code, while every definition
 * in the options makes another build: programs whose own parameters agree
 * now share one build across parameter sets, in the driver's cache and
 * clscale's, and a context that differs only in another family's
 * parameters (a test of attention's ways, a matmul tuning run) no longer
 * rebuilds every program it touches. On the Intel CPU runtime a build of
 * cl/attention.cl or cl/matmul.cl takes seconds. (Values are decimal
 * integers, checked in params.c, so no definition names another.) */
#define MAX_DEFINES 128
static cls_status build_options(cls_context *ctx, const char *source, char *out, size_t len) {
  const char *name[MAX_DEFINES], *value[MAX_DEFINES];
  size_t name_len[MAX_DEFINES], value_len[MAX_DEFINES], count = 0;
  int keep[MAX_DEFINES];
  size_t source_len = strlen(source);
  /* ctx->defines is "-DNAME=VALUE" tokens separated by single spaces. */
  for (const char *p = ctx->defines; *p;) {
    while (*p == ' ') p++;
    if (!*p) break;
    const char *tok = p, *eq;
    while (*p && *p != ' ') p++;
    if (strncmp(tok, "-D", 2) || !(eq = memchr(tok, '=', (size_t)(p - tok))))
      return cls__fail(ctx, CLS_ERR_INTERNAL, "malformed definition '%.*s' in the context's build options",
                       (int)(p - tok), tok);
    if (count == MAX_DEFINES)
      return cls__fail(ctx, CLS_ERR_INTERNAL, "more than %d device parameters (raise MAX_DEFINES)", MAX_DEFINES);
    name[count] = tok + 2;
    name_len[count] = (size_t)(eq - tok - 2);
    value[count] = eq + 1;
    value_len[count] = (size_t)(p - eq - 1);
    keep[count] = has_token(source, source_len, name[count], name_len[count]);
    count++;
  }
  size_t used = (size_t)snprintf(out, len, "-cl-std=CL1.2");
  for (size_t i = 0; i < count; i++) {
    if (!keep[i]) continue;
    int n =
        snprintf(out + used, len - used, " -D%.*s=%.*s", (int)name_len[i], name[i], (int)value_len[i], value[i]);
    if (n < 0 || (size_t)n >= len - used)
      return cls__fail(ctx, CLS_ERR_INTERNAL, "the build options of a program do not fit in %zu bytes", len);
    used += (size_t)n;
  }
  return CLS_OK;
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
  s = build_options(ctx, source, options, sizeof options);
  if (s != CLS_OK) {
    free(owned);
    return s;
  }
  if (cls_fault(CLS_FAULT_BUILD, name)) {
    free(owned);
    return cls__fail(ctx, CLS_ERR_BUILD, "building cl/%s.cl for %s failed (%s)", name, ctx->info.name,
                     cls_fault_said(CLS_FAULT_BUILD));
  }
  double t0 = cls_now();
  cl_program prog = cls__cache_load(ctx, name, source, options);
  int from_cache = prog != NULL;
  if (!prog) {
    s = build_from_source(ctx, name, source, options, &prog);
    if (s == CLS_OK) cls__cache_save(ctx, name, source, options, prog);
  }
  free(owned);
  if (s != CLS_OK) return s;
  double took = cls_now() - t0;
  if (seconds) *seconds = took;
  if (cached) *cached = from_cache;
  cls__program *p = &ctx->programs[ctx->program_count++];
  snprintf(p->name, sizeof p->name, "%s", name);
  p->program = prog;
  p->build_seconds = took;
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

/* Programs are the embedded entries without a dot (headers are "x.h"). */
size_t cls_program_count(void) {
  size_t n = 0;
  for (const cls__embedded_source *s = cls__embedded_sources; s->name; s++) n += strchr(s->name, '.') == NULL;
  return n;
}

const char *cls_program_name(size_t i) {
  for (const cls__embedded_source *s = cls__embedded_sources; s->name; s++)
    if (!strchr(s->name, '.') && i-- == 0) return s->name;
  return NULL;
}

cls_status cls_program_prepare(cls_context *ctx, const char *program, double *build_seconds, int *from_cache) {
  CLS_CHECK_CTX(ctx);
  cl_program prog;
  return get_program(ctx, program, &prog, build_seconds, from_cache);
}

size_t cls_context_program_count(const cls_context *ctx) {
  return ctx ? ctx->program_count : 0;
}

const char *cls_context_program_name(const cls_context *ctx, size_t i, double *build_seconds) {
  if (build_seconds) *build_seconds = 0;
  if (!ctx || i >= ctx->program_count) return NULL;
  if (build_seconds) *build_seconds = ctx->programs[i].build_seconds;
  return ctx->programs[i].name;
}

void cls__programs_release(cls_context *ctx) {
  for (size_t i = 0; i < ctx->kernel_count; i++) clReleaseKernel(ctx->kernels[i].kernel);
  for (size_t i = 0; i < ctx->program_count; i++) clReleaseProgram(ctx->programs[i].program);
  ctx->kernel_count = ctx->program_count = 0;
}
