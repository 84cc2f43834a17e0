/* tools/options.c — see options.h. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "options.h"

/* The help is wrapped to this many columns: an 80-column terminal wraps it
 * again, but the commands' help was written to about this width. */
enum { HELP_WIDTH = 110, HELP_MAX_LEFT = 24 };

/* ------------------------------------------------------------- values */

int cls_opt_parse_double(const char *v, double *out) {
  char *end;
  errno = 0;
  if (!v) return 0;
  double d = strtod(v, &end);
  if (end == v || *end || errno || !isfinite(d)) return 0;
  *out = d;
  return 1;
}

int cls_opt_parse_size(const char *v, size_t *out) {
  char *end;
  errno = 0;
  if (!v || *v == '-') return 0;
  double d = strtod(v, &end); /* accepts 1e6 */
  if (end == v || *end || errno || !(d >= 0) || d > 1e18 || d != floor(d)) return 0;
  *out = (size_t)d;
  return 1;
}

int cls_opt_parse_u64(const char *v, uint64_t *out) {
  size_t s;
  if (!cls_opt_parse_size(v, &s)) return 0;
  *out = (uint64_t)s;
  return 1;
}

int cls_opt_parse_long(const char *v, long *out) {
  char *end;
  errno = 0;
  if (!v) return 0;
  long x = strtol(v, &end, 10);
  if (end == v || *end || errno) return 0;
  *out = x;
  return 1;
}

static int ranged(const cls_option *o) {
  return o->lo < o->hi;
}

static int in_range(const cls_option *o, double x) {
  if (!ranged(o)) return 1;
  if (x < o->lo || x > o->hi) return 0;
  if ((o->flags & CLS_OPT_LO_OPEN) && x == o->lo) return 0;
  if ((o->flags & CLS_OPT_HI_OPEN) && x == o->hi) return 0;
  return 1;
}

/* The predicate for a refused value when the entry gives none. */
static void default_wants(const cls_option *o, char *why, size_t len) {
  const char *open = o->flags & CLS_OPT_LO_OPEN ? "(" : "[", *close = o->flags & CLS_OPT_HI_OPEN ? ")" : "]";
  switch (o->type) {
  case CLS_OPT_SIZE:
  case CLS_OPT_U64:
  case CLS_OPT_INT:
    if (ranged(o) && o->hi < 1e18)
      snprintf(why, len, "wants a whole number from %.0f to %.0f", o->lo, o->hi);
    else if (ranged(o))
      snprintf(why, len, "wants a whole number >= %.0f", o->lo);
    else
      snprintf(why, len, "wants a whole number");
    break;
  case CLS_OPT_DOUBLE:
  case CLS_OPT_FLOAT:
    if (ranged(o))
      snprintf(why, len, "wants a number in %s%g, %g%s", open, o->lo, o->hi, close);
    else
      snprintf(why, len, "wants a number");
    break;
  case CLS_OPT_CHOICE: {
    size_t n = (size_t)snprintf(why, len, "wants");
    for (const cls_opt_choice *c = o->choices; c && c->name && n < len; c++)
      n += (size_t)snprintf(why + n, len - n, "%s%s", c == o->choices ? " " : c[1].name ? ", " : " or ", c->name);
    break;
  }
  case CLS_OPT_SIZES:
  case CLS_OPT_DOUBLES:
    snprintf(why, len, "wants a comma-separated list of at most %zu %s", ((const cls_opt_list *)o->target)->cap,
             o->type == CLS_OPT_SIZES ? "whole numbers" : "numbers");
    break;
  default:
    snprintf(why, len, "is not a valid value");
  }
}

/* A comma-separated list into the list's items; empty items are skipped. */
static int assign_list(const cls_option *o, const char *v) {
  const cls_opt_list *l = o->target;
  char buf[1024];
  if (strlen(v) >= sizeof buf) return 0;
  snprintf(buf, sizeof buf, "%s", v);
  size_t n = 0;
  char *save = NULL;
  for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save), n++) {
    if (n == l->cap) return 0;
    double d;
    if (o->type == CLS_OPT_SIZES) {
      size_t s;
      if (!cls_opt_parse_size(tok, &s) || !in_range(o, (double)s)) return 0;
      ((size_t *)l->items)[n] = s;
    } else {
      if (!cls_opt_parse_double(tok, &d) || !in_range(o, d)) return 0;
      ((double *)l->items)[n] = d;
    }
  }
  *l->count = n;
  return 1;
}

/* Stores v into o's target; CLS_OPT_GOOD, or BAD / BAD_MSG with why. */
static int assign(const cls_option *o, const char *v, char *why, size_t why_len) {
  double d;
  long l;
  size_t s;
  uint64_t u;
  why[0] = 0;
  switch (o->type) {
  case CLS_OPT_STRING:
  case CLS_OPT_POSITIONAL:
    *(const char **)o->target = v;
    return CLS_OPT_GOOD;
  case CLS_OPT_SIZE:
    if (!cls_opt_parse_size(v, &s) || !in_range(o, (double)s)) return CLS_OPT_BAD;
    *(size_t *)o->target = s;
    return CLS_OPT_GOOD;
  case CLS_OPT_U64:
    if (!cls_opt_parse_u64(v, &u) || !in_range(o, (double)u)) return CLS_OPT_BAD;
    *(uint64_t *)o->target = u;
    return CLS_OPT_GOOD;
  case CLS_OPT_INT:
    if (!cls_opt_parse_long(v, &l) || l < -2147483647L || l > 2147483647L || !in_range(o, (double)l))
      return CLS_OPT_BAD;
    *(int *)o->target = (int)l;
    return CLS_OPT_GOOD;
  case CLS_OPT_DOUBLE:
  case CLS_OPT_FLOAT:
    if (!cls_opt_parse_double(v, &d) || !in_range(o, d)) return CLS_OPT_BAD;
    if (o->type == CLS_OPT_DOUBLE)
      *(double *)o->target = d;
    else
      *(float *)o->target = (float)d;
    return CLS_OPT_GOOD;
  case CLS_OPT_CHOICE:
    for (const cls_opt_choice *c = o->choices; c && c->name; c++)
      if (!strcmp(c->name, v)) {
        *(int *)o->target = c->value;
        return CLS_OPT_GOOD;
      }
    return CLS_OPT_BAD;
  case CLS_OPT_SIZES:
  case CLS_OPT_DOUBLES:
    return assign_list(o, v) ? CLS_OPT_GOOD : CLS_OPT_BAD;
  case CLS_OPT_CUSTOM:
    return o->parse(v, o->target, why, why_len);
  default:
    return CLS_OPT_BAD;
  }
}

/* ------------------------------------------------------------ parsing */

static const cls_option *find_option(const cls_opt_command *cmd, const char *name) {
  for (size_t i = 0; i < cmd->n_options; i++) {
    const cls_option *o = &cmd->options[i];
    if ((o->name && !strcmp(o->name, name)) || (o->alias && !strcmp(o->alias, name))) return o;
  }
  return NULL;
}

static const cls_option *find_positional(const cls_opt_command *cmd) {
  for (size_t i = 0; i < cmd->n_options; i++)
    if (cmd->options[i].type == CLS_OPT_POSITIONAL) return &cmd->options[i];
  return NULL;
}

CLS_OPT_PRINTF(4, 5)
static cls_opt_outcome refuse(const cls_opt_command *cmd, FILE *err, int with_help, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(err, "clscale %s: ", cmd->name);
  vfprintf(err, fmt, ap);
  fputc('\n', err);
  va_end(ap);
  if (with_help) cls_opt_print_help(cmd, err);
  return CLS_OPT_REFUSED;
}

/* An argument that names no option (or an option left without its value,
 * in the styles that do not tell the two apart). */
static cls_opt_outcome unknown(const cls_opt_command *cmd, FILE *err, const char *arg, const char *name) {
  switch (cmd->words) {
  case CLS_OPT_WORDS_NAMED:
    return refuse(cmd, err, 1, "unknown option '%s'", name);
  case CLS_OPT_WORDS_WANTS:
    return refuse(cmd, err, 1, "unknown or incomplete argument '%s'", arg);
  default:
    return refuse(cmd, err, 1, "unknown argument '%s'", arg);
  }
}

static cls_opt_outcome bad_value(const cls_opt_command *cmd, FILE *err, const cls_option *o, const char *v,
                                 int verdict, const char *why) {
  if (verdict == CLS_OPT_BAD_MSG) return refuse(cmd, err, 0, "%s", why);
  char wants[256];
  if (why[0])
    snprintf(wants, sizeof wants, "%s", why);
  else if (o->wants)
    snprintf(wants, sizeof wants, "%s", o->wants);
  else
    default_wants(o, wants, sizeof wants);
  switch (cmd->words) {
  case CLS_OPT_WORDS_NAMED:
    return refuse(cmd, err, 0, "%s '%s': %s", o->name, v, wants);
  case CLS_OPT_WORDS_WANTS:
    return refuse(cmd, err, 0, "%s %s, not '%s'", o->name, wants, v);
  default:
    return refuse(cmd, err, 0, "bad value '%s' for %s: %s", v, o->name, wants);
  }
}

static cls_opt_outcome take_positional(const cls_opt_command *cmd, const char *arg, FILE *err) {
  const cls_option *p = find_positional(cmd);
  if (!p) {
    if (cmd->words == CLS_OPT_WORDS_NAMED)
      return refuse(cmd, err, 1, "unexpected argument '%s' (options start with --)", arg);
    return unknown(cmd, err, arg, arg);
  }
  const char **slot = p->target;
  if (*slot)
    return refuse(cmd, err, 0, "one %s only ('%s' and '%s' given)", p->wants ? p->wants : p->metavar, *slot, arg);
  *slot = arg;
  return CLS_OPT_PARSED;
}

/* One option argument, argv[*i], and its value (which may be argv[*i + 1]). */
static cls_opt_outcome take_option(const cls_opt_command *cmd, int argc, char **argv, int *i, FILE *err) {
  const char *arg = argv[*i], *eq = strchr(arg, '=');
  char name[64];
  size_t nlen = eq ? (size_t)(eq - arg) : strlen(arg);
  if (nlen >= sizeof name) nlen = sizeof name - 1;
  memcpy(name, arg, nlen);
  name[nlen] = 0;
  const cls_option *o = find_option(cmd, name);
  if (!o) return unknown(cmd, err, arg, name);
  if (o->type == CLS_OPT_FLAG) {
    if (!eq) {
      *(int *)o->target = 1;
      return CLS_OPT_PARSED;
    }
    if (cmd->words == CLS_OPT_WORDS_NAMED) return refuse(cmd, err, 0, "%s takes no value", name);
    return unknown(cmd, err, arg, name);
  }
  const char *v = eq ? eq + 1 : *i + 1 < argc ? argv[++*i] : NULL;
  /* The option is known here, so every style can say what is missing
   * ("unknown argument '--device'" sent users looking for a typo). */
  if (!v || (!*v && (o->flags & CLS_OPT_NONEMPTY))) return refuse(cmd, err, 0, "%s needs a value", name);
  char why[512];
  int verdict = assign(o, v, why, sizeof why);
  return verdict == CLS_OPT_GOOD ? CLS_OPT_PARSED : bad_value(cmd, err, o, v, verdict, why);
}

cls_opt_outcome cls_opt_parse(const cls_opt_command *cmd, int argc, char **argv, FILE *help_out, FILE *err_out) {
  for (int i = 1; i < argc; i++) {
    const char *arg = argv[i];
    if (!strcmp(arg, "--help") || !strcmp(arg, "-h")) {
      cls_opt_print_help(cmd, help_out);
      return CLS_OPT_HELPED;
    }
    /* "-" alone is a value (standard input, by convention), not an option */
    int is_option = arg[0] == '-' && arg[1] != 0;
    cls_opt_outcome r = is_option ? take_option(cmd, argc, argv, &i, err_out) : take_positional(cmd, arg, err_out);
    if (r != CLS_OPT_PARSED) return r;
  }
  return CLS_OPT_PARSED;
}

int cls_opt_exit_code(cls_opt_outcome r) {
  return r == CLS_OPT_HELPED ? 0 : r == CLS_OPT_REFUSED ? 2 : 0;
}

/* --------------------------------------------------------------- help */

/* Prints text from column pos on, wrapped at HELP_WIDTH; continuation lines
 * and the lines after each '\n' start at column col (plus the line's own
 * leading spaces, which, like runs of spaces between words, are kept). */
static void print_wrapped(FILE *f, const char *text, size_t col, size_t pos) {
  const char *p = text;
  for (;;) {
    const char *eol = strchr(p, '\n');
    if (!eol) eol = p + strlen(p);
    size_t lead = strspn(p, " ");
    if (p + lead > eol) lead = (size_t)(eol - p);
    fprintf(f, "%*s", (int)lead, "");
    pos += lead;
    const char *w = p + lead;
    int first = 1;
    while (w < eol) {
      size_t gap = 0;
      while (w + gap < eol && w[gap] == ' ') gap++;
      const char *word = w + gap;
      size_t wl = 0;
      while (word + wl < eol && word[wl] != ' ') wl++;
      if (!wl) break; /* trailing spaces */
      if (!first && pos + gap + wl > HELP_WIDTH) {
        fprintf(f, "\n%*s", (int)(col + lead), "");
        pos = col + lead;
        gap = 0;
      }
      fprintf(f, "%*s%.*s", (int)gap, "", (int)wl, word);
      pos += gap + wl;
      first = 0;
      w = word + wl;
    }
    if (!*eol) break;
    fprintf(f, "\n%*s", (int)col, "");
    pos = col;
    p = eol + 1;
  }
  fputc('\n', f);
}

/* "-o, --output FILE" */
static void left_column(const cls_option *o, char *out, size_t len) {
  snprintf(out, len, "%s%s%s%s%s", o->alias ? o->alias : "", o->alias ? ", " : "",
           o->type == CLS_OPT_POSITIONAL ? "" : o->name, o->metavar && o->type != CLS_OPT_POSITIONAL ? " " : "",
           o->metavar ? o->metavar : "");
}

void cls_opt_print_help(const cls_opt_command *cmd, FILE *f) {
  fprintf(f, "%s\n", cmd->usage);
  if (cmd->about) fprintf(f, "\n%s\n", cmd->about);
  /* the help texts start in one column, after the longest option that fits */
  size_t widest = 0;
  char left[128];
  for (size_t i = 0; i < cmd->n_options; i++) {
    if (cmd->options[i].type == CLS_OPT_HEADING || !cmd->options[i].help) continue;
    left_column(&cmd->options[i], left, sizeof left);
    size_t n = strlen(left);
    if (n <= HELP_MAX_LEFT && n > widest) widest = n;
  }
  const size_t col = 2 + widest + 2;
  fprintf(f, "\n");
  for (size_t i = 0; i < cmd->n_options; i++) {
    const cls_option *o = &cmd->options[i];
    if (o->type == CLS_OPT_HEADING) {
      fprintf(f, "%s\n", o->help);
      continue;
    }
    if (!o->help) continue; /* an option kept for scripts, not shown */
    left_column(o, left, sizeof left);
    size_t n = strlen(left);
    fprintf(f, "  %s", left);
    if (n > widest) {
      fprintf(f, "\n%*s", (int)col, "");
    } else {
      fprintf(f, "%*s", (int)(col - 2 - n), "");
    }
    print_wrapped(f, o->help, col, col);
  }
  if (cmd->epilogue) fprintf(f, "\n%s\n", cmd->epilogue);
}

/* --------------------------------------------------------- messages */

/* The option that sets the library field name[0..len), or NULL. */
static const cls_option *option_of_field(const cls_opt_command *cmd, const char *name, size_t len) {
  for (size_t i = 0; i < cmd->n_options; i++) {
    const char *f = cmd->options[i].field;
    while (f && *f) {
      size_t n = strcspn(f, " ");
      if (n == len && !memcmp(f, name, len)) return &cmd->options[i];
      f += n;
      f += strspn(f, " ");
    }
  }
  return NULL;
}

void cls_opt_translate(const cls_opt_command *cmd, const char *msg, char *out, size_t out_len) {
  if (!out_len) return;
  size_t n = 0;
  for (const char *p = msg; *p && n + 1 < out_len;) {
    const char *close = *p == '`' ? strchr(p + 1, '`') : NULL;
    if (!close) {
      out[n++] = *p++;
      continue;
    }
    const char *name = p + 1;
    size_t len = (size_t)(close - name);
    const cls_option *o = option_of_field(cmd, name, len);
    if (o) {
      name = o->type == CLS_OPT_POSITIONAL ? o->metavar : o->name;
      len = strlen(name);
    }
    if (len > out_len - 1 - n) len = out_len - 1 - n;
    memcpy(out + n, name, len);
    n += len;
    p = close + 1;
  }
  out[n] = 0;
}

int cls_opt_fail(const cls_opt_command *cmd, int code, const char *fmt, ...) {
  char msg[8192], shown[8192];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  cls_opt_translate(cmd, msg, shown, sizeof shown);
  fprintf(stderr, "clscale %s: %s\n", cmd->name, shown);
  return code;
}
