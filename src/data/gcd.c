/* src/data/gcd.c — see gcd.h: the gcd task's tokens, pairs and law. */
#include <math.h>
#include <stdlib.h>

#include "core/err.h"
#include "core/rng.h"
#include "data/gcd.h"

cls_status cls_gcd_format_make(uint64_t base, uint64_t bound, cls_gcd_format *f, char *err, size_t err_len) {
  if (base < 2 || base > CLS_GCD_MAX_BASE)
    return cls_errf(err, err_len, CLS_ERR_INVALID_VALUE, "`base` %llu: use a base from 2 to %llu",
                    (unsigned long long)base, (unsigned long long)CLS_GCD_MAX_BASE);
  if (bound < 1 || bound > CLS_GCD_MAX_BOUND)
    return cls_errf(err, err_len, CLS_ERR_INVALID_VALUE, "`bound` %llu: use a bound from 1 to 2^53",
                    (unsigned long long)bound);
  f->base = base;
  f->bound = bound;
  f->digits = cls_gcd_digits(bound, base);
  f->length = 3 * f->digits + 4;
  f->vocab = (size_t)base + 4;
  f->plus = (int32_t)base;
  f->eq = (int32_t)base + 1;
  f->eos = (int32_t)base + 2;
  f->pad = (int32_t)base + 3;
  return CLS_OK;
}

size_t cls_gcd_digits(uint64_t n, uint64_t base) {
  size_t d = 1;
  while (n >= base) n /= base, d++;
  return d;
}

uint64_t cls_gcd(uint64_t a, uint64_t b) {
  while (b) {
    uint64_t r = a % b;
    a = b;
    b = r;
  }
  return a;
}

cls_gcd_pair cls_gcd_sample(uint64_t bound, uint64_t seed, uint32_t stream, uint64_t i) {
  const cls_rng r = cls_rng_make(seed, stream);
  cls_gcd_pair p;
  p.a = 1 + cls_rng_below(r, i, 0, bound);
  p.b = 1 + cls_rng_below(r, i, 1, bound);
  p.g = cls_gcd(p.a, p.b);
  return p;
}

/* n's digits, most significant first, at seq; returns how many. */
static size_t put_number(uint64_t n, uint64_t base, int32_t *seq) {
  const size_t d = cls_gcd_digits(n, base);
  for (size_t k = d; k-- > 0; n /= base) seq[k] = (int32_t)(n % base);
  return d;
}

size_t cls_gcd_encode(const cls_gcd_format *f, const cls_gcd_pair *p, int32_t *seq) {
  size_t at = 0;
  seq[at++] = f->plus;
  at += put_number(p->a, f->base, seq + at);
  seq[at++] = f->plus;
  at += put_number(p->b, f->base, seq + at);
  const size_t eq = at;
  seq[at++] = f->eq;
  at += put_number(p->g, f->base, seq + at);
  seq[at++] = f->eos;
  while (at < f->length) seq[at++] = f->pad;
  return eq;
}

/* A number of digits from *at up to the token `end`: CLS_OK with it in *n. */
static cls_status get_number(const cls_gcd_format *f, const int32_t *seq, size_t *at, int32_t end, uint64_t *n,
                             const char *what, char *err, size_t err_len) {
  const size_t start = *at;
  uint64_t v = 0;
  while (*at < f->length && seq[*at] >= 0 && (uint64_t)seq[*at] < f->base) {
    if (*at - start >= f->digits)
      return cls_errf(err, err_len, CLS_ERR_FORMAT, "%s at token %zu: more digits than the bound has", what,
                      start);
    if (*at == start && seq[*at] == 0)
      return cls_errf(err, err_len, CLS_ERR_FORMAT, "%s at token %zu: a leading zero", what, start);
    v = v * f->base + (uint64_t)seq[*at];
    (*at)++;
  }
  if (*at == start) return cls_errf(err, err_len, CLS_ERR_FORMAT, "%s at token %zu: no digits", what, start);
  if (*at >= f->length || seq[*at] != end)
    return cls_errf(err, err_len, CLS_ERR_FORMAT, "%s: token %zu is %ld where %ld was expected", what, *at,
                    *at < f->length ? (long)seq[*at] : -1L, (long)end);
  if (v < 1 || v > f->bound)
    return cls_errf(err, err_len, CLS_ERR_FORMAT, "%s is %llu, outside [1, %llu]", what, (unsigned long long)v,
                    (unsigned long long)f->bound);
  (*at)++;
  *n = v;
  return CLS_OK;
}

cls_status cls_gcd_decode(const cls_gcd_format *f, const int32_t *seq, cls_gcd_pair *p, char *err,
                          size_t err_len) {
  if (seq[0] != f->plus)
    return cls_errf(err, err_len, CLS_ERR_FORMAT, "token 0 is %ld, not '+' (%ld)", (long)seq[0], (long)f->plus);
  size_t at = 1;
  cls_status s = get_number(f, seq, &at, f->plus, &p->a, "a", err, err_len);
  if (s == CLS_OK) s = get_number(f, seq, &at, f->eq, &p->b, "b", err, err_len);
  if (s == CLS_OK) s = get_number(f, seq, &at, f->eos, &p->g, "the answer", err, err_len);
  for (; s == CLS_OK && at < f->length; at++)
    if (seq[at] != f->pad)
      return cls_errf(err, err_len, CLS_ERR_FORMAT, "token %zu is %ld after the end, not padding", at,
                      (long)seq[at]);
  return s;
}

cls_status cls_gcd_distribution(uint64_t bound, size_t kmax, double *p, char *err, size_t err_len) {
  if (bound < 1 || bound > ((uint64_t)1 << 26) || kmax > bound)
    return cls_errf(err, err_len, CLS_ERR_INVALID_SIZE,
                    "cls_gcd_distribution: bound %llu (1 to 2^26), k up to %zu (at most the bound)",
                    (unsigned long long)bound, kmax);
  const size_t n = (size_t)bound;
  /* Moebius function by a sieve: mu[d] for d <= n. */
  signed char *mu = malloc(n + 1);
  unsigned char *composite = calloc(n + 1, 1);
  if (!mu || !composite) {
    free(mu);
    free(composite);
    return cls_errf(err, err_len, CLS_ERR_OUT_OF_MEMORY, "out of host memory for the gcd law of bound %zu", n);
  }
  for (size_t d = 0; d <= n; d++) mu[d] = 1;
  for (size_t q = 2; q <= n; q++) {
    if (composite[q]) continue;
    for (size_t m = q; m <= n; m += q) {
      if (m > q) composite[m] = 1;
      mu[m] = (signed char)-mu[m];
    }
    if (q <= n / q)
      for (size_t m = q * q; m <= n; m += q * q) mu[m] = 0;
  }
  /* The pairs of [1, n]^2 with gcd k are the coprime pairs of [1, n/k]^2:
   * sum over d of mu(d) (m/d)^2 with m = n/k, exact in 64 bits (m^2 <= 2^52). */
  const double total = (double)n * (double)n;
  for (size_t k = 1; k <= kmax; k++) {
    const uint64_t m = n / k;
    int64_t coprime = 0;
    for (uint64_t d = 1; d <= m; d++) coprime += mu[d] * (int64_t)((m / d) * (m / d));
    p[k - 1] = (double)coprime / total;
  }
  free(mu);
  free(composite);
  return CLS_OK;
}

double cls_gcd_asymptote(uint64_t k) {
  const double pi = 3.14159265358979323846;
  return 6.0 / (pi * pi * (double)k * (double)k);
}

cls_gcd_source cls_gcd_source_real(uint64_t bound, uint64_t seed, uint32_t stream, size_t n) {
  cls_gcd_source s = {CLS_GCD_SOURCE_REAL, bound, seed, stream, NULL, n};
  return s;
}

cls_gcd_source cls_gcd_source_pairs(const cls_gcd_pair *pairs, size_t n) {
  cls_gcd_source s = {CLS_GCD_SOURCE_PAIRS, 0, 0, 0, pairs, n};
  return s;
}

cls_gcd_pair cls_gcd_source_get(const cls_gcd_source *s, uint64_t i) {
  if (s->kind == CLS_GCD_SOURCE_PAIRS) return s->pairs[s->n ? i % s->n : 0];
  return cls_gcd_sample(s->bound, s->seed, s->stream, i);
}
