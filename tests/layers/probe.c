/*
 * tests/layers/probe.c — compiled as if it were a file of one layer (the
 * layer whose library the probe links), including one header named by
 * PROBE_HEADER. tests/layers.cmake builds it with headers that the layer may
 * see (the build must succeed) and with headers of a layer above it, of a
 * layer it does not use, or private to another layer (it must fail).
 */
#define STR2(x) #x
#define STR(x)  STR2(x)
#include STR(PROBE_HEADER)

int cls_layer_probe(void);
int cls_layer_probe(void) {
  return 0;
}
