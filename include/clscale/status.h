/*
 * clscale/status.h — status codes shared by every clscale call.
 *
 * Every public function returns a cls_status. Zero is success. Negative values
 * from -1 to -999 are OpenCL's own error codes passed through unchanged (for
 * example -4 is CL_MEM_OBJECT_ALLOCATION_FAILURE, -11 CL_BUILD_PROGRAM_FAILURE),
 * so a driver error is never hidden behind a generic code. clscale's own codes
 * start at -3000, out of the range used by OpenCL and by CLBlast (-1024..-2048).
 *
 * A status says what kind of thing failed; the context's cls_last_error()
 * says which call, which argument, and what to do about it.
 */
#ifndef CLSCALE_STATUS_H
#define CLSCALE_STATUS_H

#ifdef __cplusplus
extern "C" {
#endif

typedef int cls_status;

enum {
  CLS_OK = 0,

  /* Arguments. Returned before anything is enqueued; buffers are untouched. */
  CLS_ERR_NULL_ARGUMENT = -3000,       /* a required pointer was NULL */
  CLS_ERR_INVALID_SIZE = -3001,        /* a size was zero, negative or too large */
  CLS_ERR_LEADING_DIM = -3002,         /* a leading dimension is smaller than the row it must hold */
  CLS_ERR_BUFFER_TOO_SMALL = -3003,    /* the buffer cannot hold the shape at the offset given */
  CLS_ERR_SHAPE_MISMATCH = -3004,      /* two operands disagree on a dimension */
  CLS_ERR_INVALID_VALUE = -3005,       /* an enum or scalar argument is out of range (NaN eps, bad transpose) */
  CLS_ERR_UNKNOWN_BACKEND = -3006,     /* a backend name that is not own, clblast, host or auto */
  CLS_ERR_BACKEND_UNAVAILABLE = -3007, /* the backend exists but cannot run on this device */
  CLS_ERR_WRONG_CONTEXT = -3008,       /* a buffer belongs to another context */

  /* Devices. */
  CLS_ERR_NO_PLATFORM = -3100,      /* no OpenCL platform at all (no ICD installed) */
  CLS_ERR_NO_DEVICE = -3101,        /* platforms exist but offer no usable device */
  CLS_ERR_DEVICE_NOT_FOUND = -3102, /* the selector matched no device */
  CLS_ERR_BAD_SELECTOR = -3103,     /* the selector string cannot be parsed */

  /* Programs and the binary cache. */
  CLS_ERR_BUILD = -3200,            /* a kernel failed to compile; the message holds the log */
  CLS_ERR_KERNEL_NOT_FOUND = -3201, /* no such program or kernel name */
  CLS_ERR_CACHE = -3202,            /* the cache directory cannot be created or written */

  /* Resources and files. */
  CLS_ERR_OUT_OF_MEMORY = -3300, /* host or device memory refused */
  CLS_ERR_IO = -3301,            /* a file could not be read or written */
  CLS_ERR_FORMAT = -3302,        /* a file exists but its content is malformed */
  CLS_ERR_CLBLAST = -3303,       /* CLBlast returned an error; the message holds its code */
  CLS_ERR_NUMERIC = -3304,       /* NaN or Inf where a finite number is needed */
  CLS_ERR_INTERNAL = -3999       /* a bug in clscale; please report it */
};

/* A short constant description of a status code ("CL_OUT_OF_RESOURCES",
 * "leading dimension too small", ...). Never NULL. */
const char *cls_status_name(cls_status status);

#ifdef __cplusplus
}
#endif
#endif
