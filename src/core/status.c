/*
 * src/core/status.c — the name of every status code: OpenCL's own (passed
 * through unchanged) and clscale's. Host-only layers (fit, plot) need it
 * too, so it lives below the device layer.
 */
#include <stddef.h>

#include "clscale/status.h"

static const char *opencl_name(cls_status s) {
  switch (s) {
  case -1:
    return "CL_DEVICE_NOT_FOUND";
  case -2:
    return "CL_DEVICE_NOT_AVAILABLE";
  case -3:
    return "CL_COMPILER_NOT_AVAILABLE";
  case -4:
    return "CL_MEM_OBJECT_ALLOCATION_FAILURE";
  case -5:
    return "CL_OUT_OF_RESOURCES";
  case -6:
    return "CL_OUT_OF_HOST_MEMORY";
  case -7:
    return "CL_PROFILING_INFO_NOT_AVAILABLE";
  case -8:
    return "CL_MEM_COPY_OVERLAP";
  case -11:
    return "CL_BUILD_PROGRAM_FAILURE";
  case -12:
    return "CL_MAP_FAILURE";
  case -13:
    return "CL_MISALIGNED_SUB_BUFFER_OFFSET";
  case -14:
    return "CL_EXEC_STATUS_ERROR_FOR_EVENTS_IN_WAIT_LIST";
  case -30:
    return "CL_INVALID_VALUE";
  case -32:
    return "CL_INVALID_PLATFORM";
  case -33:
    return "CL_INVALID_DEVICE";
  case -34:
    return "CL_INVALID_CONTEXT";
  case -36:
    return "CL_INVALID_COMMAND_QUEUE";
  case -38:
    return "CL_INVALID_MEM_OBJECT";
  case -42:
    return "CL_INVALID_BINARY";
  case -43:
    return "CL_INVALID_BUILD_OPTIONS";
  case -44:
    return "CL_INVALID_PROGRAM";
  case -45:
    return "CL_INVALID_PROGRAM_EXECUTABLE";
  case -46:
    return "CL_INVALID_KERNEL_NAME";
  case -48:
    return "CL_INVALID_KERNEL";
  case -49:
    return "CL_INVALID_ARG_INDEX";
  case -50:
    return "CL_INVALID_ARG_VALUE";
  case -51:
    return "CL_INVALID_ARG_SIZE";
  case -52:
    return "CL_INVALID_KERNEL_ARGS";
  case -53:
    return "CL_INVALID_WORK_DIMENSION";
  case -54:
    return "CL_INVALID_WORK_GROUP_SIZE";
  case -55:
    return "CL_INVALID_WORK_ITEM_SIZE";
  case -56:
    return "CL_INVALID_GLOBAL_OFFSET";
  case -58:
    return "CL_INVALID_EVENT";
  case -59:
    return "CL_INVALID_OPERATION";
  case -61:
    return "CL_INVALID_BUFFER_SIZE";
  case -63:
    return "CL_INVALID_GLOBAL_WORK_SIZE";
  case -1001:
    return "CL_PLATFORM_NOT_FOUND_KHR (no OpenCL ICD installed)";
  default:
    return NULL;
  }
}

const char *cls_status_name(cls_status s) {
  switch (s) {
  case CLS_OK:
    return "success";
  case CLS_ERR_NULL_ARGUMENT:
    return "a required argument is NULL";
  case CLS_ERR_INVALID_SIZE:
    return "invalid size";
  case CLS_ERR_LEADING_DIM:
    return "leading dimension too small";
  case CLS_ERR_BUFFER_TOO_SMALL:
    return "buffer too small for the shape";
  case CLS_ERR_SHAPE_MISMATCH:
    return "operand shapes do not match";
  case CLS_ERR_INVALID_VALUE:
    return "invalid argument value";
  case CLS_ERR_UNKNOWN_BACKEND:
    return "unknown backend";
  case CLS_ERR_BACKEND_UNAVAILABLE:
    return "backend unavailable on this device";
  case CLS_ERR_WRONG_CONTEXT:
    return "buffer belongs to another context";
  case CLS_ERR_NO_PLATFORM:
    return "no OpenCL platform";
  case CLS_ERR_NO_DEVICE:
    return "no OpenCL device";
  case CLS_ERR_DEVICE_NOT_FOUND:
    return "no device matches the selector";
  case CLS_ERR_BAD_SELECTOR:
    return "malformed device selector";
  case CLS_ERR_BUILD:
    return "kernel build failed";
  case CLS_ERR_KERNEL_NOT_FOUND:
    return "no such kernel or program";
  case CLS_ERR_CACHE:
    return "kernel cache error";
  case CLS_ERR_OUT_OF_MEMORY:
    return "out of memory";
  case CLS_ERR_IO:
    return "input/output error";
  case CLS_ERR_FORMAT:
    return "malformed file";
  case CLS_ERR_CLBLAST:
    return "CLBlast error";
  case CLS_ERR_NUMERIC:
    return "NaN or infinite value";
  case CLS_ERR_INTERNAL:
    return "internal error (a bug in clscale)";
  default:
    break;
  }
  const char *cl = opencl_name(s);
  return cl ? cl : "unknown status";
}
