/*
 * tools/command.h — the steps every command takes the same way around its
 * own work: its option table into the command, parsing argv (with --help),
 * a refused or missing argument with the help after it, the device
 * context, a library status as an exit code, and SIGINT/SIGTERM as a
 * request to checkpoint and stop. One place, so that the commands cannot
 * drift apart in how they start, fail and stop.
 */
#ifndef CLSCALE_TOOLS_COMMAND_H
#define CLSCALE_TOOLS_COMMAND_H

#include <signal.h>
#include <stddef.h>

#include "clscale/device.h"
#include "options.h"

/* Copies the n entries of table (built on the caller's stack, since its
 * targets are the caller's variables) into opts, at most cap of them, and
 * points cmd's options at them. */
void cls_cmd_set_options(cls_opt_command *cmd, cls_option *opts, size_t cap, const cls_option *table, size_t n);

/* Parses argv against cmd's table: CLS_EXIT_GO_ON when every argument was
 * taken, else the exit code (0 after --help, 2 after a refused argument,
 * said on stderr). */
int cls_cmd_parse(const cls_opt_command *cmd, int argc, char **argv);

/* A usage error the table cannot see (a missing RUN_DIR): msg (if not
 * NULL) as cls_opt_fail prints it, then the help, on stderr; returns
 * CLS_EXIT_USAGE. */
int cls_cmd_refuse(const cls_opt_command *cmd, const char *msg);

/* A context on device (NULL: CLSCALE_DEVICE, else the default) with the
 * matmul backend (NULL: CLSCALE_MATMUL_BACKEND, else auto): CLS_EXIT_GO_ON,
 * else the message printed and cls_cmd_exit_of's code (CLS_EXIT_USAGE for
 * bad device parameters, CLS_EXIT_FAIL when no device or context). */
int cls_cmd_open_context(const cls_opt_command *cmd, const char *device, const char *backend, cls_context **ctx);

/* The same with the whole set of context options. */
int cls_cmd_open_context_with(const cls_opt_command *cmd, const cls_context_options *o, cls_context **ctx);

/* The exit code of a library status: a bad value or size is bad usage (2),
 * anything else a failure (1). */
int cls_cmd_exit_of(cls_status s);

/* From here on SIGINT and SIGTERM set the flag of cls_cmd_stop_flag (the
 * runs checkpoint and stop); a second signal ends the process at once.
 * cls_cmd_release_signals restores the default handlers. */
void cls_cmd_catch_signals(void);
void cls_cmd_release_signals(void);

/* The flag the signals set, for the train loop's and the sweep's stop. */
volatile sig_atomic_t *cls_cmd_stop_flag(void);

#endif
