/*
 * tests/data/plot/synth_rundir.h — writes a realistic synthetic run directory
 * for the plotter's tests: runs drawn from the known law
 *   L(N, D) = E + A/N^alpha + B/D^beta   (Chinchilla's fitted values)
 * with 0.5% noise, 15 model sizes × 5 compute budgets, loss curves, a fit.json
 * computed from the noisy data the way `clscale fit` would (per-budget
 * parabolas, optima, power laws with bootstrap bands, frontier fit) and a µP
 * coordinate check. Header-only so several test files can include it.
 */
#ifndef CLS_TEST_SYNTH_RUNDIR_H
#define CLS_TEST_SYNTH_RUNDIR_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define SYN_E     1.69
#define SYN_A     406.4
#define SYN_ALPHA 0.34
#define SYN_B     410.7
#define SYN_BETA  0.28
#define SYN_NB    5
#define SYN_MAXP  64
#define SYN_BOOT  200

typedef struct {
  unsigned long long s;
} syn_rng;

static double syn_uniform(syn_rng *r) {
  r->s = r->s * 6364136223846793005ULL + 1442695040888963407ULL;
  return ((r->s >> 11) + 0.5) / 9007199254740992.0;
}

static double syn_normal(syn_rng *r) {
  double u = syn_uniform(r), v = syn_uniform(r);
  return sqrt(-2.0 * log(u)) * cos(6.283185307179586 * v);
}

static double syn_law(double n, double d) {
  return SYN_E + SYN_A / pow(n, SYN_ALPHA) + SYN_B / pow(d, SYN_BETA);
}

/* Least-squares parabola y = a x² + b x + c through (x,y). */
static int syn_parabola(const double *x, const double *y, int n, double *a, double *b, double *c) {
  double S[5] = {0}, T[3] = {0};
  for (int i = 0; i < n; i++) {
    double p = 1;
    for (int k = 0; k < 5; k++) S[k] += p, p *= x[i];
    T[0] += y[i], T[1] += x[i] * y[i], T[2] += x[i] * x[i] * y[i];
  }
  /* Normal equations [S4 S3 S2; S3 S2 S1; S2 S1 S0] [a b c] = [T2 T1 T0] by Cramer. */
  double M[3][3] = {{S[4], S[3], S[2]}, {S[3], S[2], S[1]}, {S[2], S[1], S[0]}}, R[3] = {T[2], T[1], T[0]};
#define SYN_DET(m)                                                                                                \
  (m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0]) +        \
   m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]))
  double det = SYN_DET(M), out[3];
  if (fabs(det) < 1e-300) return -1;
  for (int k = 0; k < 3; k++) {
    double Mk[3][3];
    memcpy(Mk, M, sizeof M);
    for (int r = 0; r < 3; r++) Mk[r][k] = R[r];
    out[k] = SYN_DET(Mk) / det;
  }
#undef SYN_DET
  *a = out[0], *b = out[1], *c = out[2];
  return *a > 0 ? 0 : -1;
}

static void syn_linfit(const double *x, const double *y, int n, double *slope, double *icpt) {
  double sx = 0, sy = 0, sxx = 0, sxy = 0;
  for (int i = 0; i < n; i++) sx += x[i], sy += y[i], sxx += x[i] * x[i], sxy += x[i] * y[i];
  *slope = (n * sxy - sx * sy) / (n * sxx - sx * sx);
  *icpt = (sy - *slope * sx) / n;
}

static int syn_cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static FILE *syn_open(const char *dir, const char *name) {
  char path[4500];
  int n = snprintf(path, sizeof path, "%s/%s", dir, name);
  if (n < 0 || (size_t)n >= sizeof path) return NULL;
  return fopen(path, "w");
}

/* Writes the run directory; with_fit / with_coord choose the optional files. */
static int syn_write_rundir(const char *dir, int with_fit, int with_coord) {
  char path[2200];
  mkdir(dir, 0777);
  int pn = snprintf(path, sizeof path, "%s/points", dir);
  if (pn < 0 || (size_t)pn >= sizeof path) return -1;
  mkdir(path, 0777);
  FILE *f = syn_open(dir, "manifest.json");
  if (!f) return -1;
  fprintf(f, "{\"name\": \"synthetic\", \"seed\": 7, \"law\": \"L = E + A/N^alpha + B/D^beta\"}\n");
  fclose(f);
  syn_rng rng = {12345};
  const double budgets[SYN_NB] = {1e16, 3e16, 1e17, 3e17, 1e18};
  double bx[SYN_NB][16], by[SYN_NB][16];
  int bn[SYN_NB] = {0};
  for (int b = 0; b < SYN_NB; b++) {
    for (int k = 0; k < 15; k++) {
      double N = 1e6 * pow(10.0, k * 0.25), D = budgets[b] / (6.0 * N);
      if (D / N < 0.6 || D / N > 2000.0) continue; /* a sweep keeps tokens-per-parameter sensible */
      double L = syn_law(N, D) * (1.0 + 0.005 * syn_normal(&rng));
      char id[64];
      snprintf(id, sizeof id, "c%.0e_n%.2e", budgets[b], N);
      snprintf(path, sizeof path, "points/%s.json", id);
      f = syn_open(dir, path);
      if (!f) return -1;
      fprintf(f,
              "{\"id\": \"%s\", \"status\": \"ok\", \"n_params\": %.6g, \"n_params_embed\": %.6g, \"width\": %d, "
              "\"depth\": %d, \"tokens\": %.6g, \"flops\": %.6g, \"flops_6nd\": %.6g, \"budget_flops\": %.6g, "
              "\"final_eval_loss\": %.6f, \"final_train_loss\": %.6f, \"seconds\": 12.5, \"seed\": 7}\n",
              id, N, N * 0.05, (int)(64 * pow(2.0, k / 4)), 4 + k / 2, D, 6.0 * N * D * 1.04, 6.0 * N * D,
              budgets[b], L, L * 0.99);
      fclose(f);
      snprintf(path, sizeof path, "points/%s.csv", id);
      f = syn_open(dir, path);
      if (!f) return -1;
      fprintf(f, "step,tokens,flops,flops_6nd,train_loss,eval_loss,lr,seconds\n");
      for (int s = 1; s <= 40; s++) {
        double frac = pow(10.0, -2.0 + 2.0 * s / 40.0), d = D * frac;
        /* the cosine schedule's late drop: early losses sit above the law */
        double l = syn_law(N, d) + 0.12 * (1 - frac) * (1 - frac) * (syn_law(N, d) - SYN_E);
        if (s == 40) l = L;
        fprintf(f, "%d,%.6g,%.6g,%.6g,%.6f,%.6f,%.3g,%.3f\n", s * 100, d, 6.0 * N * d * 1.04, 6.0 * N * d,
                l * 0.99, l, 3e-4, s * 0.3);
      }
      fclose(f);
      bx[b][bn[b]] = log10(N), by[b][bn[b]] = L, bn[b]++;
    }
  }
  if (with_fit) {
    double a[SYN_NB], bb[SYN_NB], c[SYN_NB], nopt[SYN_NB], lopt[SYN_NB];
    for (int b = 0; b < SYN_NB; b++) {
      if (syn_parabola(bx[b], by[b], bn[b], &a[b], &bb[b], &c[b])) return -1;
      double x = -bb[b] / (2 * a[b]);
      nopt[b] = pow(10.0, x), lopt[b] = c[b] - bb[b] * bb[b] / (4 * a[b]);
    }
    /* Bootstrap: resample each budget's points, refit everything. */
    static double boot_n[SYN_BOOT][SYN_NB], boot_sn[SYN_BOOT], boot_in[SYN_BOOT];
    int nb_ok = 0;
    for (int r = 0; r < SYN_BOOT; r++) {
      int ok = 1;
      for (int b = 0; b < SYN_NB && ok; b++) {
        double xs[16], ys[16], A2, B2, C2;
        for (int i = 0; i < bn[b]; i++) {
          int j = (int)(syn_uniform(&rng) * bn[b]);
          xs[i] = bx[b][j], ys[i] = by[b][j];
        }
        ok = !syn_parabola(xs, ys, bn[b], &A2, &B2, &C2);
        if (ok) boot_n[nb_ok][b] = -B2 / (2 * A2);
      }
      if (!ok) continue;
      double lc[SYN_NB];
      for (int b = 0; b < SYN_NB; b++) lc[b] = log10(budgets[b]);
      syn_linfit(lc, boot_n[nb_ok], SYN_NB, &boot_sn[nb_ok], &boot_in[nb_ok]);
      nb_ok++;
    }
    double lc[SYN_NB], ln[SYN_NB], sn, in_;
    for (int b = 0; b < SYN_NB; b++) lc[b] = log10(budgets[b]), ln[b] = log10(nopt[b]);
    syn_linfit(lc, ln, SYN_NB, &sn, &in_);
    double tmp[SYN_BOOT];
    for (int r = 0; r < nb_ok; r++) tmp[r] = boot_sn[r];
    qsort(tmp, (size_t)nb_ok, sizeof *tmp, syn_cmp);
    double s_lo = tmp[(int)(0.025 * nb_ok)], s_hi = tmp[(int)(0.975 * nb_ok) - 1];
    /* Frontier fit L = E + k C^-gamma through the isoFLOP minima: grid over E. */
    double best = INFINITY, fE = 0, fk = 0, fg = 0;
    for (int i = 0; i < 400; i++) {
      double E = lopt[SYN_NB - 1] * i / 400.0, ly[SYN_NB], sl, ic, sse = 0;
      for (int b = 0; b < SYN_NB; b++) ly[b] = log(lopt[b] - E), lc[b] = log(budgets[b]);
      syn_linfit(lc, ly, SYN_NB, &sl, &ic);
      for (int b = 0; b < SYN_NB; b++) sse += pow(ly[b] - (ic + sl * lc[b]), 2);
      if (sse < best) best = sse, fE = E, fk = exp(ic), fg = -sl;
    }
    f = syn_open(dir, "fit.json");
    if (!f) return -1;
    fprintf(f, "{\n  \"version\": 1,\n  \"loss\": \"eval\",\n");
    fprintf(f,
            "  \"frontier\": {\"form\": \"L = E + k*C^-gamma\", \"E\": %.6g, \"k\": %.6g, \"gamma\": %.6g, "
            "\"gamma_ci\": [%.6g, %.6g], \"flops_range\": [%.6g, %.6g]},\n",
            fE, fk, fg, fg * 0.9, fg * 1.1, budgets[0] / 10, budgets[SYN_NB - 1] * 3);
    fprintf(f, "  \"isoflop\": {\n    \"ci_level\": 0.95, \"bootstrap\": %d,\n    \"budgets\": [\n", nb_ok);
    for (int b = 0; b < SYN_NB; b++) {
      for (int r = 0; r < nb_ok; r++) tmp[r] = boot_n[r][b];
      qsort(tmp, (size_t)nb_ok, sizeof *tmp, syn_cmp);
      double lo = pow(10.0, tmp[(int)(0.025 * nb_ok)]), hi = pow(10.0, tmp[(int)(0.975 * nb_ok) - 1]);
      double dopt = budgets[b] / (6 * nopt[b]);
      fprintf(f,
              "      {\"budget_flops\": %.6g, \"a\": %.8g, \"b\": %.8g, \"c\": %.8g, \"n_opt\": %.6g, "
              "\"n_opt_ci\": [%.6g, %.6g], \"d_opt\": %.6g, \"d_opt_ci\": [%.6g, %.6g], \"loss_opt\": %.6g, "
              "\"n_points\": %d}%s\n",
              budgets[b], a[b], bb[b], c[b], nopt[b], lo, hi, dopt, budgets[b] / (6 * hi), budgets[b] / (6 * lo),
              lopt[b], bn[b], b + 1 < SYN_NB ? "," : "");
    }
    fprintf(f, "    ],\n");
    for (int which = 0; which < 2; which++) {
      /* N_opt = 10^in · C^sn and D_opt = C/(6 N_opt) = (1/6)·10^-in · C^(1-sn). */
      double coef = which ? pow(10.0, -in_) / 6.0 : pow(10.0, in_), ex = which ? 1 - sn : sn;
      fprintf(f, "    \"%s\": {\"coef\": %.6g, \"exponent\": %.6g, \"exponent_ci\": [%.6g, %.6g], \"band\": {",
              which ? "d_opt_fit" : "n_opt_fit", coef, ex, which ? 1 - s_hi : s_lo, which ? 1 - s_lo : s_hi);
      double grid[24], lo[24], hi[24];
      for (int g = 0; g < 24; g++) {
        grid[g] = budgets[0] / 3 * pow(10.0, g * (log10(budgets[SYN_NB - 1] * 9 / budgets[0])) / 23);
        for (int r = 0; r < nb_ok; r++) {
          double lnop = boot_in[r] + boot_sn[r] * log10(grid[g]);
          tmp[r] = which ? log10(grid[g] / 6) - lnop : lnop;
        }
        qsort(tmp, (size_t)nb_ok, sizeof *tmp, syn_cmp);
        lo[g] = pow(10.0, tmp[(int)(0.025 * nb_ok)]), hi[g] = pow(10.0, tmp[(int)(0.975 * nb_ok) - 1]);
      }
      const char *names[3] = {"flops", "lo", "hi"};
      double *arrs[3] = {grid, lo, hi};
      for (int q = 0; q < 3; q++) {
        fprintf(f, "%s\"%s\": [", q ? ", " : "", names[q]);
        for (int g = 0; g < 24; g++) fprintf(f, "%s%.6g", g ? ", " : "", arrs[q][g]);
        fprintf(f, "]");
      }
      fprintf(f, "}}%s\n", which ? "" : ",");
    }
    fprintf(f, "  },\n");
    fprintf(f,
            "  \"parametric\": {\"form\": \"L = E + A/N^alpha + B/D^beta\", \"E\": %g, \"A\": %g, \"alpha\": %g, "
            "\"B\": %g, \"beta\": %g, \"E_ci\": [1.6, 1.78], \"A_ci\": [350, 470], \"alpha_ci\": [0.32, 0.36], "
            "\"B_ci\": [360, 460], \"beta_ci\": [0.26, 0.30], \"huber_delta\": 0.001, \"points\": [\n",
            SYN_E, SYN_A, SYN_ALPHA, SYN_B, SYN_BETA);
    int first = 1;
    for (int b = 0; b < SYN_NB; b++)
      for (int i = 0; i < bn[b]; i++) {
        double N = pow(10.0, bx[b][i]), D = budgets[b] / (6 * N);
        fprintf(f,
                "%s    {\"id\": \"c%.0e_n%.2e\", \"n_params\": %.6g, \"tokens\": %.6g, \"observed\": %.6f, "
                "\"predicted\": %.6f}",
                first ? "" : ",\n", budgets[b], N, N, D, by[b][i], syn_law(N, D));
        first = 0;
      }
    fprintf(f, "\n  ]}\n}\n");
    fclose(f);
  }
  if (with_coord) {
    f = syn_open(dir, "coord_check.csv");
    if (!f) return -1;
    fprintf(f, "param,layer,width,step,value\n");
    const char *layers[3] = {"embedding", "attention out", "logits"};
    const char *params[2] = {"sp", "mup"};
    for (int p = 0; p < 2; p++)
      for (int l = 0; l < 3; l++)
        for (int s = 1; s <= 4; s++)
          for (int w = 64; w <= 2048; w *= 2) {
            /* SP: updates grow with width (logits fastest); µP: flat in width. */
            double grow = p == 0 ? pow(w / 64.0, 0.25 * s * (l + 1) / 3.0) : 1.0;
            double v = (0.8 + 0.1 * l) * (1.0 + 0.15 * s) * grow * (1 + 0.02 * syn_normal(&rng));
            fprintf(f, "%s,%s,%d,%d,%.6g\n", params[p], layers[l], w, s, v);
          }
    fclose(f);
  }
  return 0;
}

#endif
