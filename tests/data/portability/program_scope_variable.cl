/* expect-reject: spir64 cpu program scope variable */
/* Self-test of the portability gate: a program-scope __global variable is
 * an OpenCL 2.0 feature; OpenCL C 1.2 allows only __constant there. */
__global float running_total;

__kernel void accumulate(__global const float *x) { running_total += x[get_global_id(0)]; }
