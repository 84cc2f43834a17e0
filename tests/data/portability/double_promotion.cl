/* expect-reject: sm_70 nvidia-gpu Wdouble-promotion */
/* Self-test of the portability gate: `x[i] * 0.5` is computed in double
 * (the literal is a double), which PoCL runs silently and GPUs without fp64
 * reject. */
__kernel void halve(__global float *x, uint n) {
  size_t i = get_global_id(0);
  if (i < n) x[i] = x[i] * 0.5;
}
