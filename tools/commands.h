/*
 * tools/commands.h — the subcommands of `clscale`.
 *
 * Each subcommand is one file tools/cmd_<name>.c with an entry point that
 * takes the arguments after the subcommand name (argv[0] is the subcommand)
 * and returns the process exit code:
 *   0 success, 1 failure (the message went to stderr), 2 bad usage.
 */
#ifndef CLSCALE_TOOLS_COMMANDS_H
#define CLSCALE_TOOLS_COMMANDS_H

enum { CLS_EXIT_OK = 0, CLS_EXIT_FAIL = 1, CLS_EXIT_USAGE = 2 };

/* Not an exit code: what a command's steps return to say "go on". */
enum { CLS_EXIT_GO_ON = -1 };

int cls_cmd_devices(int argc, char **argv);
int cls_cmd_bench(int argc, char **argv);
int cls_cmd_plot(int argc, char **argv);
int cls_cmd_train(int argc, char **argv);
int cls_cmd_sweep(int argc, char **argv);
int cls_cmd_fit(int argc, char **argv);
int cls_cmd_plan(int argc, char **argv);
int cls_cmd_coordcheck(int argc, char **argv);
int cls_cmd_sample(int argc, char **argv);

#endif
