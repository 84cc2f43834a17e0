/* src/ops/matmul_ref.c — see matmul_ref.h. */
#include "ops/matmul_ref.h"

void cls_ref_matmul(cls_trans ta, cls_trans tb, size_t m, size_t n, size_t k, double alpha, const float *a,
                    size_t lda, size_t stride_a, const float *b, size_t ldb, size_t stride_b, double beta,
                    double *c, size_t ldc, size_t stride_c, size_t batch) {
  for (size_t q = 0; q < batch; q++) {
    const float *A = a + q * stride_a, *B = b + q * stride_b;
    double *C = c + q * stride_c;
    for (size_t i = 0; i < m; i++)
      for (size_t j = 0; j < n; j++) {
        double sum = 0;
        for (size_t p = 0; p < k; p++) {
          double x = ta == CLS_TRANS ? A[p * lda + i] : A[i * lda + p];
          double y = tb == CLS_TRANS ? B[j * ldb + p] : B[p * ldb + j];
          sum += x * y;
        }
        C[i * ldc + j] = alpha * sum + (beta == 0.0 ? 0.0 : beta * C[i * ldc + j]);
      }
  }
}
