/* The OpenCL C sources of cl/ compiled into the library (generated at build time). */
#ifndef CLSCALE_DEVICE_EMBEDDED_H
#define CLSCALE_DEVICE_EMBEDDED_H

typedef struct cls__embedded_source {
  const char *name; /* a program: file name without ".cl"; a header: "rowvec.h" */
  const char *text;
} cls__embedded_source;

/* Terminated by an entry whose name is NULL. */
extern const cls__embedded_source cls__embedded_sources[];

#endif
