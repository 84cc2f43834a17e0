/*
 * cl/eltvec.h - the elementwise kernels' vectors: each work-item takes
 * ELT_VEC consecutive floats (16 on CPUs, where PoCL only vectorises what
 * the source spells out; 4 or 1 on GPUs, whose lanes are work-items), with
 * a scalar fallback when ELT_VEC is 1. See cl/rowvec.h for how headers are
 * included.
 */
#ifndef CLSCALE_CL_ELTVEC_H
#define CLSCALE_CL_ELTVEC_H

#ifndef ELT_VEC
#define ELT_VEC 16
#endif

#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)
#if ELT_VEC == 1
typedef float floatv;
#define VLOAD(o, p) ((p)[o])
#define VSTORE(v, o, p) ((p)[o] = (v))
#else
typedef CAT(float, ELT_VEC) floatv;
#define VLOAD CAT(vload, ELT_VEC)
#define VSTORE CAT(vstore, ELT_VEC)
#endif

#endif
