/*
 * cl/sample.cl - one token per row of logits: temperature, top-k, top-p,
 * Philox (src/ops/sample.c launches it; the draw is defined in
 * include/clscale/ops_sample.h, and src/ops/sample_ref.c is its host
 * reference).
 *
 * One work-item per row: a batch has a few rows and vocabularies are small
 * (256 bytes), so a row's passes stay in the cache of one core. The k-th
 * token of the order, and the end of the top-p prefix, are found without
 * sorting: a logit's bits mapped to an unsigned key that orders like the
 * float, and the key of the threshold built bit by bit from the top (32
 * counting or summing passes over the row), which is exact whatever the
 * ties and takes no memory.
 */

/* An unsigned key ordered as the float (NaN excluded): negative floats
 * have all bits flipped, the others the sign bit set; -0 counts as +0, so
 * that equal floats are ties. */
uint okey(float x) {
  uint u = x == 0.0f ? 0u : as_uint(x);
  return (u & 0x80000000u) ? ~u : (u | 0x80000000u);
}

/* Philox4x32-10 (Salmon et al., SC'11), as core/rng.c's Random123 draws it:
 * ten rounds, the key bumped between rounds. */
uint4 philox4x32_10(uint4 c, uint2 k) {
  for (int r = 0; r < 10; r++) {
    if (r) k += (uint2)(0x9E3779B9u, 0xBB67AE85u);
    uint lo0 = 0xD2511F53u * c.x, hi0 = mul_hi(0xD2511F53u, c.x);
    uint lo1 = 0xCD9E8D57u * c.z, hi1 = mul_hi(0xCD9E8D57u, c.z);
    c = (uint4)(hi1 ^ c.y ^ k.x, lo1, hi0 ^ c.w ^ k.y, lo0);
  }
  return c;
}

/* The largest key t such that the count (by_mass 0) or the weight (1) of
 * the tokens with key >= t reaches want. */
uint threshold(__global const float *x, __global const float *e, uint V, int by_mass, float want) {
  uint t = 0;
  for (int bit = 31; bit >= 0; bit--) {
    uint cand = t | (1u << bit);
    float acc = 0.0f;
    for (uint i = 0; i < V; i++)
      if (okey(x[i]) >= cand) acc += by_mass ? e[i] : 1.0f;
    if (acc >= want) t = cand;
  }
  return t;
}

/* Keeps the tokens above key t, and of those at t, in index order, while
 * have (the kept count or weight so far) is below want; the others get
 * weight 0. */
void cut(__global const float *x, __global float *e, uint V, uint t, int by_mass, float want) {
  float have = 0.0f;
  for (uint i = 0; i < V; i++)
    if (okey(x[i]) > t) have += by_mass ? e[i] : 1.0f;
  for (uint i = 0; i < V; i++) {
    uint k = okey(x[i]);
    if (k > t) continue;
    if (k == t && have < want)
      have += by_mass ? e[i] : 1.0f;
    else
      e[i] = 0.0f;
  }
}

__kernel void sample_rows(__global const float *logits, uint lo, uint rows, uint V, float inv_temp, uint top_k,
                          float top_p, int greedy, uint seed_lo, uint seed_hi, uint row0_lo, uint row0_hi,
                          uint position, __global float *scratch, uint so, __global float *tokens, uint to) {
  uint r = get_global_id(0);
  if (r >= rows) return;
  __global const float *x = logits + lo + r * V;
  __global float *e = scratch + so + r * V;

  float xm = -INFINITY;
  uint am = 0;
  int bad = 0;
  for (uint i = 0; i < V; i++) {
    float v = x[i];
    bad |= isnan(v) || v == INFINITY;
    if (v > xm) { /* strict: the first of equal maxima */
      xm = v;
      am = i;
    }
  }
  if (bad || xm == -INFINITY) {
    tokens[to + r] = -1.0f;
    return;
  }
  if (greedy) {
    tokens[to + r] = (float)am;
    return;
  }
  for (uint i = 0; i < V; i++) e[i] = exp((x[i] - xm) * inv_temp);
  if (top_k && top_k < V) cut(x, e, V, threshold(x, e, V, 0, (float)top_k), 0, (float)top_k);
  if (top_p < 1.0f) {
    float total = 0.0f;
    for (uint i = 0; i < V; i++) total += e[i];
    float want = top_p * total;
    cut(x, e, V, threshold(x, e, V, 1, want), 1, want);
  }

  float total = 0.0f;
  for (uint i = 0; i < V; i++) total += e[i];
  uint lo_row = row0_lo + r, hi_row = row0_hi + (lo_row < row0_lo);
  uint4 w = philox4x32_10((uint4)(lo_row, hi_row, position, 0x73616d70u), (uint2)(seed_lo, seed_hi));
  float u = (float)(w.x >> 8) * (1.0f / 16777216.0f);
  float target = u * total, acc = 0.0f;
  uint tok = am, last = am;
  int found = 0;
  for (uint i = 0; i < V && !found; i++) {
    if (e[i] > 0.0f) {
      acc += e[i];
      last = i;
      if (acc > target) {
        tok = i;
        found = 1;
      }
    }
  }
  tokens[to + r] = (float)(found ? tok : last);
}
