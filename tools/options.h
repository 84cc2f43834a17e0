/*
 * tools/options.h — the commands' options as tables.
 *
 * Each command describes its options once, in a table of cls_option: the
 * name, the type of its value, where the value goes, the help text and the
 * library field it sets. One function parses argv against the table and one
 * prints --help from it, so that an option and its help cannot drift apart.
 * The same table translates library messages, which name their own fields in
 * backquotes ("lower `lr` or raise `warmup`"), into the command's flags
 * ("lower --lr or raise --warmup").
 *
 * Values are given as "--name VALUE" or "--name=VALUE" (also "-o VALUE" for
 * an alias); a flag takes no value. "--help" and "-h" print the help.
 */
#ifndef CLSCALE_TOOLS_OPTIONS_H
#define CLSCALE_TOOLS_OPTIONS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* printf-style arguments, checked by the compiler where it can. */
#if defined(__GNUC__)
#define CLS_OPT_PRINTF(fmt, first) __attribute__((format(printf, fmt, first)))
#else
#define CLS_OPT_PRINTF(fmt, first)
#endif

typedef enum {
  CLS_OPT_HEADING,    /* no option: a heading line of the help ("model:") */
  CLS_OPT_POSITIONAL, /* const char *: an argument that is not an option (SPEC, RUN_DIR); one at most */
  CLS_OPT_FLAG,       /* int: set to 1; takes no value */
  CLS_OPT_STRING,     /* const char *: the value as given */
  CLS_OPT_SIZE,       /* size_t: a whole number >= 0 (1e6 accepted) */
  CLS_OPT_U64,        /* uint64_t: the same */
  CLS_OPT_INT,        /* int: a whole number in decimal digits */
  CLS_OPT_DOUBLE,     /* double: a finite number */
  CLS_OPT_FLOAT,      /* float: a finite number */
  CLS_OPT_CHOICE,     /* int: the value of the matching cls_opt_choice */
  CLS_OPT_SIZES,      /* cls_opt_list of size_t: comma-separated whole numbers */
  CLS_OPT_DOUBLES,    /* cls_opt_list of double: comma-separated numbers */
  CLS_OPT_CUSTOM,     /* parsed by the entry's parse function */
} cls_opt_type;

/* Bits of cls_option.flags. */
enum {
  CLS_OPT_LO_OPEN = 1,  /* the range excludes lo */
  CLS_OPT_HI_OPEN = 2,  /* the range excludes hi */
  CLS_OPT_NONEMPTY = 4, /* an empty value counts as a missing one */
};

typedef struct {
  const char *name;
  int value;
} cls_opt_choice;

/* The target of CLS_OPT_SIZES / CLS_OPT_DOUBLES: up to cap items, their
 * number in *count (a given list replaces the default). */
typedef struct {
  void *items; /* size_t[cap] or double[cap] */
  size_t *count;
  size_t cap;
} cls_opt_list;

/* What a CUSTOM parse function returns. */
enum {
  CLS_OPT_GOOD = 0,    /* the value is taken */
  CLS_OPT_BAD = 1,     /* refused; why holds the reason ("wants ...") or is empty (the entry's wants) */
  CLS_OPT_BAD_MSG = 2, /* refused; why holds the whole message, printed as it is */
};
typedef int (*cls_opt_parse_fn)(const char *value, void *target, char *why, size_t why_len);

typedef struct cls_option {
  cls_opt_type type;
  const char *name;    /* "--width"; NULL for HEADING and POSITIONAL */
  const char *alias;   /* "-o", or NULL */
  void *target;        /* where the value goes (see cls_opt_type) */
  const char *metavar; /* "N", "FILE"; NULL for flags */
  const char *help;    /* the help text; '\n' starts a new line, long lines are wrapped */
  /* The library fields this option sets, separated by spaces ("out_dir",
   * "warmup warmup_steps warmup_fraction"): a message naming one of them
   * in backquotes is shown with this option's name instead. */
  const char *field;
  /* How a refused value is explained, as a predicate: "wants a whole
   * number", "use sp or mup". NULL: one from the type and the range.
   * POSITIONAL: what the argument is, for "one spec file only (...)"
   * (NULL: the metavar). */
  const char *wants;
  /* The accepted range of a number (both 0: any); LO_OPEN / HI_OPEN in flags. */
  double lo, hi;
  unsigned flags;
  const cls_opt_choice *choices; /* CHOICE: the names, ended by {NULL, 0} */
  cls_opt_parse_fn parse;        /* CUSTOM */
} cls_option;

/* The common part of a table entry, as designated initializers, so that an
 * entry adds only what it needs: {CLS_OPT(CLS_OPT_SIZE, "--width",
 * &spec.width, "N", "width", "model width"), .lo = 1, .hi = 1e18}. */
#define CLS_OPT(type_, name_, target_, metavar_, field_, help_)                                                   \
  .type = (type_), .name = (name_), .target = (target_), .metavar = (metavar_), .field = (field_), .help = (help_)

/* How a command words its usage errors. The commands' messages are part of
 * their interface (scripts and the tests match them), and they were written
 * in three styles, which the parser keeps:
 *   NAMED  unknown option '--x'; --x needs a value; --x takes no value;
 *          --x 'v': <wants>; unexpected argument 'v' (options start with --)
 *   WANTS  unknown or incomplete argument '--x' (also for a missing value);
 *          --x <wants>, not 'v'
 *   PLAIN  unknown argument '--x' (also for a missing value);
 *          bad value 'v' for --x: <wants> */
typedef enum { CLS_OPT_WORDS_NAMED, CLS_OPT_WORDS_WANTS, CLS_OPT_WORDS_PLAIN } cls_opt_words;

typedef struct cls_opt_command {
  const char *name;     /* "train": messages start with "clscale train: " */
  const char *usage;    /* the usage line(s): "usage: clscale train --out DIR ..." */
  const char *about;    /* what the command does, printed before the options (or NULL) */
  const char *epilogue; /* printed after the options: exit codes, environment (or NULL) */
  cls_opt_words words;
  const cls_option *options;
  size_t n_options;
} cls_opt_command;

typedef enum {
  CLS_OPT_PARSED = 0, /* every argument was taken: go on */
  CLS_OPT_HELPED = 1, /* --help: the help went to help_out; exit 0 */
  CLS_OPT_REFUSED = 2 /* a usage error, said on err_out; exit 2 */
} cls_opt_outcome;

/* Parses argv[1..argc) (argv[0] is the command's name) into the targets.
 * A usage error is printed as "clscale NAME: message" on err_out, followed
 * by the help when the argument was not understood at all. */
cls_opt_outcome cls_opt_parse(const cls_opt_command *cmd, int argc, char **argv, FILE *help_out, FILE *err_out);

/* The exit code after an outcome other than CLS_OPT_PARSED: 0 after
 * --help, 2 (bad usage) after a refused argument. */
int cls_opt_exit_code(cls_opt_outcome r);

/* Prints the help: usage, about, the options from the table, epilogue. */
void cls_opt_print_help(const cls_opt_command *cmd, FILE *f);

/* Copies msg into out (always NUL-terminated), with each backquoted field
 * that an option of cmd sets replaced by that option's name (a
 * positional's metavar: RUN_DIR), and the
 * backquotes of any other quoted text removed. A message without
 * backquotes comes out unchanged. */
void cls_opt_translate(const cls_opt_command *cmd, const char *msg, char *out, size_t out_len);

/* Prints "clscale NAME: <message>\n" to stderr, the message translated as
 * by cls_opt_translate, and returns code (for `return cls_opt_fail(...)`). */
CLS_OPT_PRINTF(3, 4)
int cls_opt_fail(const cls_opt_command *cmd, int code, const char *fmt, ...);

/* Parsers of one value, shared with the commands' own CUSTOM functions;
 * each returns 1 when v is a value of its kind, else 0. */
int cls_opt_parse_size(const char *v, size_t *out);   /* whole, >= 0, <= 1e18; 1e6 accepted */
int cls_opt_parse_u64(const char *v, uint64_t *out);  /* the same */
int cls_opt_parse_double(const char *v, double *out); /* finite */
int cls_opt_parse_long(const char *v, long *out);     /* decimal digits, with a sign */

#endif
