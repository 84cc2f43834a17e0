/* src/core/fault.c — see fault.h. */
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/fault.h"

static const char *const kind_names[CLS_FAULT_KINDS] = {"alloc", "build", "write", "rename"};

static pthread_once_t once = PTHREAD_ONCE_INIT;
static int on; /* a plan or a log is set */
static atomic_ulong calls[CLS_FAULT_KINDS];
static unsigned long fail_at[CLS_FAULT_KINDS]; /* 0: never */
static char said[CLS_FAULT_KINDS][64];
static const char *log_path;

/* Reads the variables (once). A malformed CLSCALE_FAIL fails nothing: it
 * is a test's switch, and a test that misspells it sees its walk fail. */
static void read_env(void) {
  const char *plan = getenv("CLSCALE_FAIL");
  log_path = getenv("CLSCALE_FAIL_LOG");
  for (const char *p = plan; p && *p;) {
    for (int k = 0; k < CLS_FAULT_KINDS; k++) {
      size_t n = strlen(kind_names[k]);
      if (!strncmp(p, kind_names[k], n) && p[n] == ':') {
        fail_at[k] = strtoul(p + n + 1, NULL, 10);
        snprintf(said[k], sizeof said[k], "injected by CLSCALE_FAIL=%s:%lu", kind_names[k], fail_at[k]);
      }
    }
    p = strchr(p, ',');
    if (p) p++;
  }
  on = (plan && *plan) || (log_path && *log_path);
}

static int enabled(void) {
  pthread_once(&once, read_env);
  return on;
}

int cls_fault(cls_fault_kind kind, const char *what) {
  if (!enabled() || kind < 0 || kind >= CLS_FAULT_KINDS) return 0;
  unsigned long k = atomic_fetch_add(&calls[kind], 1) + 1;
  int fail = fail_at[kind] == k;
  if (log_path && *log_path) {
    /* One write of a whole line with O_APPEND: lines of threads and of
     * processes sharing the log do not interleave. */
    char line[1200];
    int n = snprintf(line, sizeof line, "%s %lu %s%s\n", kind_names[kind], k, what ? what : "?",
                     fail ? " (failed)" : "");
    int fd = open(log_path, O_WRONLY | O_APPEND | O_CREAT, 0644);
    if (fd >= 0) {
      if (n > 0) {
        ssize_t w = write(fd, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
        (void)w; /* a lost log line shows as a count too short, in the test that reads it */
      }
      close(fd);
    }
  }
  return fail;
}

const char *cls_fault_said(cls_fault_kind kind) {
  if (kind < 0 || kind >= CLS_FAULT_KINDS) return "";
  return said[kind];
}
