/*
 * cl/rf.cl — the one kernel the random-feature ridge regression needs beyond
 * the general ops: adding a ridge to the diagonal of a Gram matrix in place
 * (a full n x n pass of add_scaled with an identity would read n^2 floats to
 * change n of them).
 */

/* Work-item i: a[ao + i*(lda+1)] += value, for i < n. */
__kernel void add_diagonal(__global float *a, uint ao, uint lda, float value, uint n) {
  uint i = get_global_id(0);
  if (i >= n) return;
  a[ao + i * (lda + 1u)] += value;
}
