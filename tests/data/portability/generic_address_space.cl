/* expect-reject: gfx1030 amd-gpu changes address space of pointer */
/* Self-test of the portability gate: a helper taking an unqualified pointer
 * relies on OpenCL 2.0's generic address space; in OpenCL C 1.2 the pointer
 * is __private and passing a __global one is an implicit address-space
 * cast, which drivers compiling 1.2 reject. */
static float first(float *p) { return p[0]; }

__kernel void copy_first(__global float *x) { x[1] = first(x); }
