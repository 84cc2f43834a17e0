/* tests/support/collapse_data.c — see collapse_data.h. */
#include "collapse_data.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

const double COLLAPSE_D[COLLAPSE_N_D] = {1e4, 3e4, 1e5, 3e5, 1e6};

double collapse_floor(unsigned g, double pi) {
  static const double pi0[3] = {0.1, 0.5, 1.5}, pi02[3] = {0.1, 0.15, 0.2};
  return g > 2 ? NAN : pi > 0 ? pi02[g] : pi0[g];
}

double collapse_law(unsigned g, double pi, double d) {
  return collapse_floor(g, pi) + COLLAPSE_A * pow(d, -COLLAPSE_GAMMA);
}

double collapse_accuracy(unsigned g, double pi, double d) {
  return exp(-collapse_law(g, pi, d));
}

double collapse_outcome_loss(unsigned g, unsigned k) {
  return 0.1 * pow(k, 0.5 + 0.25 * g);
}

static void outcomes(const char *dir, int id, unsigned g) {
  char path[1200];
  snprintf(path, sizeof path, "%s/points/p%03d.outcomes.csv", dir, id);
  FILE *f = fopen(path, "w");
  if (!f) return;
  fprintf(f, "gcd,examples,correct,accuracy,loss,expected\n");
  for (unsigned k = 1; k <= 40; k++) {
    const unsigned n = (unsigned)ceil(1000.0 / (k * k)), c = (unsigned)floor(n / (double)k);
    fprintf(f, "%u,%u,%u,%.9g,%.9g,%.9g\n", k, n, c, (double)c / n, collapse_outcome_loss(g, k),
            6 / (9.8696 * k * k));
  }
  fclose(f);
}

/* What a run directory holds beside the points' losses. */
typedef struct {
  const char *pi_key;
  int odd_width, with_outcomes;
  int text; /* task "text": no eval_accuracy */
} shape;

static void point(const char *dir, int *counter, unsigned g, double pi, double d, int seed, const shape *sh,
                  const char *extra) {
  char path[1200];
  snprintf(path, sizeof path, "%s/points/p%03d.json", dir, *counter);
  FILE *f = fopen(path, "w");
  if (!f) return;
  const double loss = collapse_law(g, pi, d) * (seed == 1 ? 1.01 : 0.99);
  fprintf(f,
          "{\n\"id\": \"p%03d\",\n\"status\": \"ok\",\n\"n_params\": 56640,\n\"task\": \"%s\",\n\"model\": "
          "\"gpt\",\n\"width\": 48,\n%s\"seed\": %d,\n\"sweep\": \"collapse-test\",\n\"point_index\": %d,\n"
          "\"generation\": %u,\n\"%s\": %.17g,\n",
          *counter, sh->text ? "text" : "gcd", extra, seed, *counter, g, sh->pi_key, pi);
  if (g)
    fprintf(f, "\"teacher\": \"t%u_%g_%d\",\n\"corpus_checksum\": \"0x%04x\",\n\"corpus_real_fraction\": %g,\n", g,
            pi, seed, (unsigned)(*counter * 7919u), pi);
  if (!sh->text)
    fprintf(f, "\"eval_accuracy\": %.17g,\n", collapse_accuracy(g, pi, d) + (seed == 1 ? 0.01 : -0.01));
  fprintf(f,
          "\"tokens\": %.17g,\n\"flops\": %.17g,\n\"budget_steps\": %.17g,\n\"final_eval_loss\": %.17g,\n"
          "\"seconds\": 1\n}\n",
          d, 6 * 56640 * d, d / 768, loss);
  fclose(f);
  if (sh->with_outcomes) outcomes(dir, *counter, g);
  (*counter)++;
}

static void write_all(const char *dir, const shape *sh) {
  char p[1100];
  snprintf(p, sizeof p, "%s/points", dir);
  mkdir(p, 0755);
  int counter = 0;
  for (unsigned g = 0; g < 3; g++)
    for (int j = 0; j < (g ? 2 : 1); j++) {
      const double pi = g ? (j ? 0.2 : 0.0) : 1.0;
      const char *extra = sh->odd_width && g == 2 && j == 1 ? "\"depth\": 3,\n" : "";
      for (int k = 0; k < COLLAPSE_N_D; k++)
        for (int seed = 1; seed <= 2; seed++) point(dir, &counter, g, pi, COLLAPSE_D[k], seed, sh, extra);
    }
}

void collapse_write_rundir(const char *dir, const char *pi_key, int odd_width) {
  const shape sh = {pi_key, odd_width, 0, 0};
  write_all(dir, &sh);
}

void collapse_write_rundir_text(const char *dir) {
  const shape sh = {"real_fraction", 0, 0, 1};
  write_all(dir, &sh);
}

void collapse_write_rundir_outcomes(const char *dir) {
  const shape sh = {"real_fraction", 0, 1, 0};
  write_all(dir, &sh);
}
