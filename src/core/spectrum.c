/* src/core/spectrum.c — see spectrum.h. */
#include "core/spectrum.h"

#include <math.h>

#include "core/err.h"

cls_status cls_powerlaw_spectrum(double alpha, size_t m, double *lambda, char *err, size_t err_len) {
  if (!(alpha > 0) || isinf(alpha))
    return cls_errf(err, err_len, CLS_ERR_INVALID_VALUE,
                    "rf spectrum: `alpha` = %g; the exponent must be finite and > 0", alpha);
  if (m == 0)
    return cls_errf(err, err_len, CLS_ERR_INVALID_SIZE, "rf spectrum: `m` = 0; the latent dimension must be >= 1");
  if (!lambda)
    return cls_errf(err, err_len, CLS_ERR_NULL_ARGUMENT, "rf spectrum: `lambda` is NULL; pass room for m values");
  /* Summed from the smallest term up, so the trace is exact to rounding. */
  double sum = 0;
  for (size_t i = m; i-- > 0;) {
    lambda[i] = pow((double)(i + 1), -(1 + alpha));
    sum += lambda[i];
  }
  for (size_t i = 0; i < m; i++) lambda[i] /= sum;
  for (size_t i = 0; i < m; i++)
    if (!(lambda[i] > 0))
      return cls_errf(err, err_len, CLS_ERR_INVALID_VALUE,
                      "rf spectrum: `lambda[%zu]` underflows to 0 with `alpha` = %g and `m` = %zu; use a smaller "
                      "`alpha` or `m`",
                      i, alpha, m);
  return CLS_OK;
}
