/* expect-reject: spir64 generic-gpu work_group_reduce_add */
/* Self-test of the portability gate: work-group collectives are OpenCL 2.0
 * only; an OpenCL 1.2 compile does not know them. */
__kernel void row_sum(__global float *x) {
  float s = work_group_reduce_add(x[get_local_id(0)]);
  if (get_local_id(0) == 0) x[get_group_id(0)] = s;
}
