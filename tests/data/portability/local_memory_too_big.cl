/* expect-reject: sm_80 nvidia-gpu __local memory over the 49152 bytes */
/* Self-test of the portability gate: a tile sized from the nvidia-gpu
 * parameter set (MM_TM=64, MM_TK=16) times 16 is 64 KiB of __local memory,
 * over the 48 KiB of static shared memory an NVIDIA work-group may have.
 * PoCL offers 2 MiB and runs it. */
__kernel void big_tile(__global float *x) {
  __local float tile[MM_TM * MM_TK * 16];
  size_t l = get_local_id(0);
  tile[l] = x[l];
  barrier(CLK_LOCAL_MEM_FENCE);
  x[l] = tile[(l + 1) % get_local_size(0)];
}
