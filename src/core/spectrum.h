/*
 * src/core/spectrum.h — the normalised power-law spectrum of the solvable
 * random-feature model (src/fit/theory_rf.h, src/nn/rf.h). It lives in core
 * because both the theory (fit) and the device model (nn) need the very same
 * eigenvalues, and neither layer may use the other.
 */
#ifndef CLSCALE_CORE_SPECTRUM_H
#define CLSCALE_CORE_SPECTRUM_H

#include <stddef.h>

#include "clscale/status.h"

/* lambda[i] = (i+1)^-(1+alpha) / Σ_j (j+1)^-(1+alpha), i < m: the power-law
 * spectrum normalised to trace 1. alpha must be finite and > 0, m > 0;
 * a value that underflows to 0 is refused (CLS_ERR_INVALID_VALUE). */
cls_status cls_powerlaw_spectrum(double alpha, size_t m, double *lambda, char *err, size_t err_len);

#endif
