/*
 * src/fit/numeric.c — small numerical pieces the fits share: least-squares
 * lines and parabolas, Huber loss, log-sum-exp, bootstrap percentiles.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "fit/fit.h"

size_t cls__fit_distinct(const double *x, size_t n, size_t cap) {
  enum { MAX_CAP = 8 };
  double seen[MAX_CAP];
  if (cap > MAX_CAP) cap = MAX_CAP;
  size_t k = 0;
  for (size_t i = 0; i < n && k < cap; i++) {
    bool dup = false;
    for (size_t j = 0; j < k && !dup; j++) dup = seen[j] == x[i];
    if (!dup) seen[k++] = x[i];
  }
  return k;
}

int cls__fit_line(const double *x, const double *y, size_t n, double *slope, double *icpt) {
  if (n < 2 || cls__fit_distinct(x, n, 2) < 2) return -1;
  /* Centred sums: x is often log10 C ≈ 18, where raw normal equations lose
   * most of their digits. */
  double mx = 0, my = 0;
  for (size_t i = 0; i < n; i++) mx += x[i], my += y[i];
  mx /= (double)n, my /= (double)n;
  double sxx = 0, sxy = 0;
  for (size_t i = 0; i < n; i++) sxx += (x[i] - mx) * (x[i] - mx), sxy += (x[i] - mx) * (y[i] - my);
  *slope = sxy / sxx;
  *icpt = my - *slope * mx;
  return 0;
}

int cls__fit_parabola(const double *x, const double *y, size_t n, double *a, double *b, double *c) {
  if (n < 3 || cls__fit_distinct(x, n, 3) < 3) return -1;
  /* Fit in u = (x − m)/s so the 3×3 normal equations are well conditioned,
   * then expand back to x. */
  double m = 0, s = 0;
  for (size_t i = 0; i < n; i++) m += x[i];
  m /= (double)n;
  for (size_t i = 0; i < n; i++) s = fmax(s, fabs(x[i] - m));
  double S[5] = {0}, T[3] = {0};
  for (size_t i = 0; i < n; i++) {
    double u = (x[i] - m) / s, p = 1;
    for (int k = 0; k < 5; k++) S[k] += p, p *= u;
    T[0] += y[i], T[1] += u * y[i], T[2] += u * u * y[i];
  }
  /* [S4 S3 S2; S3 S2 S1; S2 S1 S0] [A B C] = [T2 T1 T0], Gaussian elimination
   * with partial pivoting. */
  double M[3][4] = {{S[4], S[3], S[2], T[2]}, {S[3], S[2], S[1], T[1]}, {S[2], S[1], S[0], T[0]}};
  for (int col = 0; col < 3; col++) {
    int piv = col;
    for (int r = col + 1; r < 3; r++)
      if (fabs(M[r][col]) > fabs(M[piv][col])) piv = r;
    if (fabs(M[piv][col]) < 1e-300) return -1;
    for (int k = 0; k < 4; k++) {
      double t = M[col][k];
      M[col][k] = M[piv][k];
      M[piv][k] = t;
    }
    for (int r = 0; r < 3; r++) {
      if (r == col) continue;
      double f = M[r][col] / M[col][col];
      for (int k = col; k < 4; k++) M[r][k] -= f * M[col][k];
    }
  }
  double A = M[0][3] / M[0][0], B = M[1][3] / M[1][1], C = M[2][3] / M[2][2];
  /* y = A u² + B u + C with u = (x − m)/s */
  *a = A / (s * s);
  *b = B / s - 2 * A * m / (s * s);
  *c = C - B * m / s + A * m * m / (s * s);
  return 0;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

double cls__fit_quantile(double *v, size_t n, double q) {
  if (n == 0) return NAN;
  qsort(v, n, sizeof *v, cmp_double);
  double pos = q * (double)(n - 1);
  size_t i = (size_t)floor(pos);
  if (i + 1 >= n) return v[n - 1];
  double f = pos - (double)i;
  return v[i] * (1 - f) + v[i + 1] * f;
}

cls_ci cls__fit_interval(double *v, size_t n, double level) {
  size_t m = 0;
  for (size_t i = 0; i < n; i++)
    if (isfinite(v[i])) v[m++] = v[i];
  cls_ci ci = {NAN, NAN};
  /* Fewer than 10 resamples say nothing about a 95% interval. */
  if (m < 10) return ci;
  ci.lo = cls__fit_quantile(v, m, (1 - level) / 2);
  ci.hi = cls__fit_quantile(v, m, 1 - (1 - level) / 2);
  return ci;
}

double cls__huber(double r, double delta, double *deriv) {
  double a = fabs(r);
  if (a <= delta) {
    *deriv = r;
    return 0.5 * r * r;
  }
  *deriv = r > 0 ? delta : -delta;
  return delta * (a - 0.5 * delta);
}

double cls__lse3(double x, double y, double z, double w[3]) {
  double m = fmax(x, fmax(y, z));
  double ex = exp(x - m), ey = exp(y - m), ez = exp(z - m), s = ex + ey + ez;
  w[0] = ex / s, w[1] = ey / s, w[2] = ez / s;
  return m + log(s);
}

double cls__lse2(double x, double y, double w[2]) {
  double m = fmax(x, y);
  double ex = exp(x - m), ey = exp(y - m), s = ex + ey;
  w[0] = ex / s, w[1] = ey / s;
  return m + log(s);
}

/* The plain law's D_opt(C) = (C/6)^b / G with b = α/(α+β), so the C whose
 * optimal data is d has C/6 = (G·d)^((α+β)/α), and N_opt = G·(C/6)^a. */
double cls__fit_nopt_for_data(const double p[5], double d) {
  double G = pow(p[2] * p[1] / (p[4] * p[3]), 1 / (p[2] + p[4]));
  double c6 = pow(G * d, (p[2] + p[4]) / p[2]);
  return G * pow(c6, p[4] / (p[2] + p[4]));
}
