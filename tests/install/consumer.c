/*
 * tests/install/consumer.c — a program a user of the installed clscale would
 * write: it includes only <clscale/ops.h>, creates a context on the default
 * device, multiplies two small matrices (a shape that is not a multiple of
 * any tile) with cls_matmul and checks them against a double-precision
 * product on the host. Exit 0 and "consumer: ok" when the library works.
 */
#include <math.h>
#include <stdio.h>

#include <clscale/ops.h>

enum { M = 7, N = 5, K = 3 };

static int fail(cls_context *ctx, const char *what, cls_status s) {
  fprintf(stderr, "consumer: %s failed: %s (%s)\n", what, cls_status_name(s), cls_last_error(ctx));
  cls_context_destroy(ctx);
  return 1;
}

int main(void) {
  char err[1024];
  cls_context *ctx = NULL;
  cls_status s = cls_context_create(NULL, &ctx, err, sizeof err);
  if (s != CLS_OK) {
    fprintf(stderr, "consumer: no context: %s\n", err);
    return 1;
  }
  float a[M * K], b[K * N], c[M * N];
  for (int i = 0; i < M * K; i++) a[i] = (float)((i * 7) % 11) / 11.0f - 0.5f;
  for (int i = 0; i < K * N; i++) b[i] = (float)((i * 5) % 13) / 13.0f - 0.5f;

  cls_buffer *buf = NULL;
  if ((s = cls_buffer_alloc(ctx, M * K + K * N + M * N, &buf)) != CLS_OK) return fail(ctx, "cls_buffer_alloc", s);
  if ((s = cls_buffer_write(ctx, buf, 0, M * K, a)) != CLS_OK || (s = cls_buffer_write(ctx, buf, M * K, K * N, b)))
    return fail(ctx, "cls_buffer_write", s);
  s = cls_matmul(ctx, CLS_NO_TRANS, CLS_NO_TRANS, M, N, K, 1.0f, cls_ref_at(buf, 0), K, cls_ref_at(buf, M * K), N,
                 0.0f, cls_ref_at(buf, M * K + K * N), N);
  if (s != CLS_OK) return fail(ctx, "cls_matmul", s);
  if ((s = cls_buffer_read(ctx, buf, M * K + K * N, M * N, c)) != CLS_OK) return fail(ctx, "cls_buffer_read", s);

  double worst = 0;
  for (int i = 0; i < M; i++)
    for (int j = 0; j < N; j++) {
      double want = 0;
      for (int p = 0; p < K; p++) want += (double)a[i * K + p] * b[p * N + j];
      double e = fabs(want - c[i * N + j]);
      if (!(e <= worst)) worst = e; /* a NaN makes worst NaN */
    }
  cls_buffer_free(buf);
  const char *device = cls_context_device(ctx)->name;
  printf("consumer: %dx%dx%d matmul on %s, max error %.3g\n", M, N, K, device, worst);
  cls_context_destroy(ctx);
  if (!(worst < 1e-5)) {
    fprintf(stderr, "consumer: the product is wrong\n");
    return 1;
  }
  printf("consumer: ok\n");
  return 0;
}
