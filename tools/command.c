/* tools/command.c — the commands' shared steps (see command.h). */
#include "command.h"

#include <signal.h>
#include <string.h>

#include "commands.h"

void cls_cmd_set_options(cls_opt_command *cmd, cls_option *opts, size_t cap, const cls_option *table, size_t n) {
  if (n > cap) n = cap;
  memcpy(opts, table, n * sizeof *opts);
  cmd->options = opts;
  cmd->n_options = n;
}

int cls_cmd_parse(const cls_opt_command *cmd, int argc, char **argv) {
  cls_opt_outcome r = cls_opt_parse(cmd, argc, argv, stdout, stderr);
  return r == CLS_OPT_PARSED ? CLS_EXIT_GO_ON : cls_opt_exit_code(r);
}

int cls_cmd_refuse(const cls_opt_command *cmd, const char *msg) {
  if (msg) cls_opt_fail(cmd, CLS_EXIT_USAGE, "%s", msg);
  cls_opt_print_help(cmd, stderr);
  return CLS_EXIT_USAGE;
}

int cls_cmd_open_context_with(const cls_opt_command *cmd, const cls_context_options *o, cls_context **ctx) {
  char err[4096];
  /* A bad CLSCALE_PARAMS or CLSCALE_PARAM_SET (CLS_ERR_INVALID_VALUE) is
   * the user's to fix: exit 2, as for any bad usage; no device: exit 1. */
  cls_status s = cls_context_create(o, ctx, err, sizeof err);
  if (s != CLS_OK) return cls_opt_fail(cmd, cls_cmd_exit_of(s), "%s", err);
  return CLS_EXIT_GO_ON;
}

int cls_cmd_open_context(const cls_opt_command *cmd, const char *device, const char *backend, cls_context **ctx) {
  cls_context_options o;
  cls_context_options_init(&o);
  o.device = device;
  o.matmul_backend = backend;
  return cls_cmd_open_context_with(cmd, &o, ctx);
}

int cls_cmd_exit_of(cls_status s) {
  return s == CLS_ERR_INVALID_VALUE || s == CLS_ERR_INVALID_SIZE ? CLS_EXIT_USAGE : CLS_EXIT_FAIL;
}

/* The process's one stop request: a signal handler can only reach a
 * static, and a process runs one command. */
static volatile sig_atomic_t stop_flag = 0;

static void on_signal(int sig) {
  (void)sig;
  stop_flag = 1; /* the runs checkpoint and stop at the end of their step */
}

void cls_cmd_catch_signals(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sa.sa_flags = SA_RESETHAND; /* a second signal ends the process at once */
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
}

void cls_cmd_release_signals(void) {
  signal(SIGINT, SIG_DFL);
  signal(SIGTERM, SIG_DFL);
}

volatile sig_atomic_t *cls_cmd_stop_flag(void) {
  return &stop_flag;
}
