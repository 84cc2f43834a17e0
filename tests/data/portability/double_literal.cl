/* expect-reject: spir64 intel-gpu double literal 5\.0+e-01 */
/* Self-test of the portability gate: a double literal that the compiler
 * happens to fold into a float is still refused (the house rule is 0.5f),
 * by the gate's own scan, since no warning fires. */
#define HALF 0.5
__kernel void halve(__global float *x, uint n) {
  size_t i = get_global_id(0);
  const float h = HALF;
  if (i < n) x[i] = x[i] * h;
}
