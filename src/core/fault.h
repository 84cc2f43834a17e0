/*
 * src/core/fault.h — fault injection for tests: CLSCALE_FAIL makes the k-th
 * device buffer allocation, program build, file write or rename of the
 * process fail, so that a test can walk k over every such call of a run and
 * check that each failure is reported clearly and leaves the run directory
 * valid and resumable (tests/fault.cmake).
 *
 *   CLSCALE_FAIL=KIND:K[,KIND:K...]  KIND alloc, build, write or rename;
 *                                    K counts from 1 in call order
 *   CLSCALE_FAIL_LOG=FILE            appends "KIND K what" for every such
 *                                    call (the counting mode: a run with
 *                                    it alone counts the calls to walk)
 *
 * Without either variable a fault point costs one test of a flag. The
 * counters are the process's (a switch from the environment cannot belong
 * to one context); they are atomic, for the sweep's worker threads.
 */
#ifndef CLSCALE_CORE_FAULT_H
#define CLSCALE_CORE_FAULT_H

#include <stddef.h>

typedef enum {
  CLS_FAULT_ALLOC,
  CLS_FAULT_BUILD,
  CLS_FAULT_WRITE,
  CLS_FAULT_RENAME,
  CLS_FAULT_KINDS
} cls_fault_kind;

/* Counts a call of kind (what names it in the log: "checkpoint
 * runs/x/checkpoints/a.ckpt"); 1 when CLSCALE_FAIL says this call fails. */
int cls_fault(cls_fault_kind kind, const char *what);

/* The words a failure message adds when the failure was injected:
 * "injected by CLSCALE_FAIL=write:3". */
const char *cls_fault_said(cls_fault_kind kind);

#endif
