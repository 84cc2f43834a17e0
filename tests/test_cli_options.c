/*
 * tests/test_cli_options.c — the commands' option tables (tools/options.c):
 * parsing every type of value, the usage errors in each command's wording,
 * --help printed from the table, and library messages' backquoted fields
 * translated into flags. No device needed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "options.h"

/* ------------------------------------------------------------- fixture */

/* Every kind of option, pointing into one struct. */
typedef struct {
  const char *input, *out, *name;
  int quiet, mode;
  size_t width;
  uint64_t seed;
  int reps;
  double lr;
  float std;
  size_t widths[4], n_widths;
  double rates[3];
  size_t n_rates;
  int custom_calls;
  char text[4096]; /* what the parser said (help or error) */
} args;

static int parse_even(const char *v, void *target, char *why, size_t len) {
  args *a = target;
  size_t n;
  if (!cls_opt_parse_size(v, &n)) return CLS_OPT_BAD; /* the entry's wants */
  if (n % 2) {
    snprintf(why, len, "wants an even number");
    return CLS_OPT_BAD;
  }
  if (n == 666) {
    snprintf(why, len, "the number of the beast is no option");
    return CLS_OPT_BAD_MSG;
  }
  a->custom_calls++;
  a->width = n;
  return CLS_OPT_GOOD;
}

static const cls_opt_choice modes[] = {{"fast", 1}, {"slow", 2}, {"exact", 3}, {NULL, 0}};

typedef struct {
  args a;
  cls_opt_list widths, rates;
  cls_option opts[20];
  cls_opt_command cmd;
} fixture;

static void make(fixture *f, cls_opt_words words) {
  memset(f, 0, sizeof *f);
  args *a = &f->a;
  a->lr = 1e-3;
  f->widths = (cls_opt_list){a->widths, &a->n_widths, 4};
  f->rates = (cls_opt_list){a->rates, &a->n_rates, 3};
  const cls_option table[] = {
      {CLS_OPT(CLS_OPT_POSITIONAL, NULL, &a->input, "INPUT", "input_path", NULL), .wants = "input file"},
      {.type = CLS_OPT_HEADING, .help = "output:"},
      {CLS_OPT(CLS_OPT_STRING, "--out", &a->out, "DIR", "out_dir", "where the results go"), .alias = "-o"},
      {CLS_OPT(CLS_OPT_STRING, "--name", &a->name, "NAME", "name", "a name"), .flags = CLS_OPT_NONEMPTY},
      {CLS_OPT(CLS_OPT_FLAG, "--quiet", &a->quiet, NULL, "quiet", "say nothing"), .alias = "-q"},
      {.type = CLS_OPT_HEADING, .help = "numbers:"},
      {CLS_OPT(CLS_OPT_SIZE, "--width", &a->width, "N", "width", "model width")},
      {CLS_OPT(CLS_OPT_U64, "--seed", &a->seed, "N", "seed", "the seed"), .lo = 1, .hi = 1e18},
      {CLS_OPT(CLS_OPT_INT, "--reps", &a->reps, "N", "reps", "repetitions"), .lo = 1, .hi = 1000},
      {CLS_OPT(CLS_OPT_DOUBLE, "--lr", &a->lr, "X", "lr", "learning rate"), .wants = "wants a positive number",
       .lo = 0, .hi = INFINITY, .flags = CLS_OPT_LO_OPEN},
      {CLS_OPT(CLS_OPT_FLOAT, "--std", &a->std, "X", "init_std std", "initial deviation"), .lo = 0, .hi = 1,
       .flags = CLS_OPT_HI_OPEN},
      {CLS_OPT(CLS_OPT_CHOICE, "--mode", &a->mode, "MODE", "mode", "fast, slow or exact"), .choices = modes},
      {CLS_OPT(CLS_OPT_SIZES, "--widths", &f->widths, "W,...", "widths", "several widths")},
      {CLS_OPT(CLS_OPT_DOUBLES, "--rates", &f->rates, "R,...", "rates", "several rates"), .lo = 0, .hi = 1},
      {CLS_OPT(CLS_OPT_CUSTOM, "--even", a, "N", "even_width",
               "an even width; this help is long enough that it has to be wrapped onto a second line, and "
               "perhaps a third one too, since the column is wide\nand this starts a new line"),
       .wants = "wants a whole number", .parse = parse_even},
  };
  memcpy(f->opts, table, sizeof table);
  f->cmd = (cls_opt_command){
      "demo",  "usage: clscale demo INPUT [options]", "Does nothing, well.", "exit codes: 0", words,
      f->opts, sizeof table / sizeof table[0]};
}

/* Parses the arguments after "demo" (NULL-terminated); what the parser
 * printed goes to f->a.text. */
static cls_opt_outcome parse(fixture *f, ...) {
  char *argv[32] = {"demo"};
  int argc = 1;
  va_list ap;
  va_start(ap, f);
  for (char *s; (s = va_arg(ap, char *)) != NULL && argc < 31;) argv[argc++] = s;
  va_end(ap);
  FILE *out = tmpfile();
  assert_non_null(out);
  cls_opt_outcome r = cls_opt_parse(&f->cmd, argc, argv, out, out);
  rewind(out);
  size_t n = fread(f->a.text, 1, sizeof f->a.text - 1, out);
  f->a.text[n] = 0;
  fclose(out);
  return r;
}

static void assert_says(const fixture *f, const char *expected) {
  if (!strstr(f->a.text, expected)) fail_msg("expected '%s' in:\n%s", expected, f->a.text);
}

/* -------------------------------------------------------------- values */

static void test_values_of_every_type(void **state) {
  (void)state;
  fixture f;
  make(&f, CLS_OPT_WORDS_NAMED);
  assert_int_equal(parse(&f, "in.json", "--out", "dir", "--name=x", "-q", "--width", "1e3", "--seed=7", "--reps",
                         "12", "--lr", "3e-4", "--std", "0.5", "--mode", "slow", "--widths", "8,16,,32", "--rates",
                         "0.1,1", "--even", "24", NULL),
                   CLS_OPT_PARSED);
  assert_string_equal(f.a.text, "");
  assert_string_equal(f.a.input, "in.json");
  assert_string_equal(f.a.out, "dir");
  assert_string_equal(f.a.name, "x");
  assert_int_equal(f.a.quiet, 1);
  assert_int_equal(f.a.width, 24); /* --even came last */
  assert_int_equal(f.a.custom_calls, 1);
  assert_int_equal(f.a.seed, 7);
  assert_int_equal(f.a.reps, 12);
  assert_float_equal(f.a.lr, 3e-4, 0);
  assert_float_equal(f.a.std, 0.5f, 0);
  assert_int_equal(f.a.mode, 2);
  assert_int_equal(f.a.n_widths, 3); /* empty items are skipped */
  assert_int_equal(f.a.widths[0], 8);
  assert_int_equal(f.a.widths[2], 32);
  assert_int_equal(f.a.n_rates, 2);
  assert_float_equal(f.a.rates[1], 1.0, 0);
  /* aliases with '=', a lone "-" as the positional, defaults untouched */
  make(&f, CLS_OPT_WORDS_WANTS);
  assert_int_equal(parse(&f, "-o=elsewhere", "-", NULL), CLS_OPT_PARSED);
  assert_string_equal(f.a.out, "elsewhere");
  assert_string_equal(f.a.input, "-");
  assert_float_equal(f.a.lr, 1e-3, 0);
  assert_int_equal(f.a.quiet, 0);
  /* nothing at all */
  make(&f, CLS_OPT_WORDS_PLAIN);
  assert_int_equal(parse(&f, NULL), CLS_OPT_PARSED);
  assert_null(f.a.input);
}

static void test_value_parsers(void **state) {
  (void)state;
  size_t s;
  uint64_t u;
  double d;
  long l;
  assert_true(cls_opt_parse_size("1e6", &s) && s == 1000000);
  assert_true(cls_opt_parse_size("0", &s) && s == 0);
  assert_false(cls_opt_parse_size("-1", &s));
  assert_false(cls_opt_parse_size("1.5", &s));
  assert_false(cls_opt_parse_size("wide", &s));
  assert_false(cls_opt_parse_size("", &s));
  assert_false(cls_opt_parse_size("2e18", &s));
  assert_true(cls_opt_parse_u64("42", &u) && u == 42);
  assert_true(cls_opt_parse_double("-2.5", &d) && d == -2.5);
  assert_false(cls_opt_parse_double("inf", &d));
  assert_false(cls_opt_parse_double("nan", &d));
  assert_false(cls_opt_parse_double("1x", &d));
  assert_true(cls_opt_parse_long("-12", &l) && l == -12);
  assert_false(cls_opt_parse_long("1e3", &l));
  assert_false(cls_opt_parse_long("", &l));
}

static void test_ranges(void **state) {
  (void)state;
  fixture f;
  make(&f, CLS_OPT_WORDS_WANTS);
  assert_int_equal(parse(&f, "--lr", "0", NULL), CLS_OPT_REFUSED); /* open at 0 */
  assert_says(&f, "clscale demo: --lr wants a positive number, not '0'");
  make(&f, CLS_OPT_WORDS_WANTS);
  assert_int_equal(parse(&f, "--std", "1", NULL), CLS_OPT_REFUSED); /* open at 1 */
  assert_says(&f, "--std wants a number in [0, 1), not '1'");
  make(&f, CLS_OPT_WORDS_WANTS);
  assert_int_equal(parse(&f, "--std", "0", NULL), CLS_OPT_PARSED);
  make(&f, CLS_OPT_WORDS_WANTS);
  assert_int_equal(parse(&f, "--reps", "0", NULL), CLS_OPT_REFUSED);
  assert_says(&f, "--reps wants a whole number from 1 to 1000, not '0'");
  make(&f, CLS_OPT_WORDS_WANTS);
  assert_int_equal(parse(&f, "--seed", "0", NULL), CLS_OPT_REFUSED);
  assert_says(&f, "--seed wants a whole number >= 1, not '0'");
  make(&f, CLS_OPT_WORDS_WANTS);
  assert_int_equal(parse(&f, "--rates", "0.5,2", NULL), CLS_OPT_REFUSED);
  assert_says(&f, "--rates wants a comma-separated list of at most 3 numbers, not '0.5,2'");
  make(&f, CLS_OPT_WORDS_WANTS);
  assert_int_equal(parse(&f, "--widths", "1,2,3,4,5", NULL), CLS_OPT_REFUSED); /* more than the 4 it holds */
  assert_int_equal(f.a.n_widths, 0);
}

/* ------------------------------------------------------------- errors */

static void test_errors_named(void **state) {
  (void)state;
  fixture f;
  make(&f, CLS_OPT_WORDS_NAMED);
  assert_int_equal(parse(&f, "--frob", "3", NULL), CLS_OPT_REFUSED);
  assert_says(&f, "clscale demo: unknown option '--frob'\n");
  assert_says(&f, "usage: clscale demo"); /* the help follows an argument not understood */
  make(&f, CLS_OPT_WORDS_NAMED);
  assert_int_equal(parse(&f, "--frob=3", NULL), CLS_OPT_REFUSED);
  assert_says(&f, "unknown option '--frob'");
  make(&f, CLS_OPT_WORDS_NAMED);
  assert_int_equal(parse(&f, "--lr", NULL), CLS_OPT_REFUSED);
  assert_string_equal(f.a.text, "clscale demo: --lr needs a value\n");
  make(&f, CLS_OPT_WORDS_NAMED);
  assert_int_equal(parse(&f, "--name=", NULL), CLS_OPT_REFUSED); /* NONEMPTY */
  assert_says(&f, "--name needs a value");
  make(&f, CLS_OPT_WORDS_NAMED);
  assert_int_equal(parse(&f, "--out=", NULL), CLS_OPT_PARSED); /* an empty value is a value */
  assert_string_equal(f.a.out, "");
  make(&f, CLS_OPT_WORDS_NAMED);
  assert_int_equal(parse(&f, "--quiet=yes", NULL), CLS_OPT_REFUSED);
  assert_string_equal(f.a.text, "clscale demo: --quiet takes no value\n");
  make(&f, CLS_OPT_WORDS_NAMED);
  assert_int_equal(parse(&f, "--width", "wide", NULL), CLS_OPT_REFUSED);
  assert_string_equal(f.a.text, "clscale demo: --width 'wide': wants a whole number\n");
  make(&f, CLS_OPT_WORDS_NAMED);
  assert_int_equal(parse(&f, "--mode", "warp", NULL), CLS_OPT_REFUSED);
  assert_says(&f, "--mode 'warp': wants fast, slow or exact");
  make(&f, CLS_OPT_WORDS_NAMED);
  assert_int_equal(parse(&f, "a", "b", NULL), CLS_OPT_REFUSED);
  assert_string_equal(f.a.text, "clscale demo: one input file only ('a' and 'b' given)\n");
  /* a custom parser's own reason, the entry's, and a whole message */
  make(&f, CLS_OPT_WORDS_NAMED);
  assert_int_equal(parse(&f, "--even", "3", NULL), CLS_OPT_REFUSED);
  assert_says(&f, "--even '3': wants an even number");
  make(&f, CLS_OPT_WORDS_NAMED);
  assert_int_equal(parse(&f, "--even", "x", NULL), CLS_OPT_REFUSED);
  assert_says(&f, "--even 'x': wants a whole number");
  make(&f, CLS_OPT_WORDS_NAMED);
  assert_int_equal(parse(&f, "--even", "666", NULL), CLS_OPT_REFUSED);
  assert_string_equal(f.a.text, "clscale demo: the number of the beast is no option\n");
}

static void test_errors_wants_and_plain(void **state) {
  (void)state;
  fixture f;
  make(&f, CLS_OPT_WORDS_WANTS);
  assert_int_equal(parse(&f, ".", "--frobnicate", NULL), CLS_OPT_REFUSED);
  assert_says(&f, "clscale demo: unknown or incomplete argument '--frobnicate'\n");
  make(&f, CLS_OPT_WORDS_WANTS);
  assert_int_equal(parse(&f, "--out", NULL), CLS_OPT_REFUSED);
  assert_says(&f, "clscale demo: --out needs a value\n"); /* a known option: say what is missing */
  make(&f, CLS_OPT_WORDS_WANTS);
  assert_int_equal(parse(&f, "-q=1", NULL), CLS_OPT_REFUSED);
  assert_says(&f, "unknown or incomplete argument '-q=1'");
  make(&f, CLS_OPT_WORDS_WANTS);
  assert_int_equal(parse(&f, "--width", "-3", NULL), CLS_OPT_REFUSED);
  assert_string_equal(f.a.text, "clscale demo: --width wants a whole number, not '-3'\n");
  make(&f, CLS_OPT_WORDS_PLAIN);
  assert_int_equal(parse(&f, "--frob", NULL), CLS_OPT_REFUSED);
  assert_says(&f, "clscale demo: unknown argument '--frob'\n");
  make(&f, CLS_OPT_WORDS_PLAIN);
  assert_int_equal(parse(&f, "--mode", NULL), CLS_OPT_REFUSED);
  assert_string_equal(f.a.text, "clscale demo: --mode needs a value\n");
  make(&f, CLS_OPT_WORDS_PLAIN);
  assert_int_equal(parse(&f, "--mode", "bert", NULL), CLS_OPT_REFUSED);
  assert_string_equal(f.a.text, "clscale demo: bad value 'bert' for --mode: wants fast, slow or exact\n");
}

static void test_no_positional(void **state) {
  (void)state;
  fixture f;
  make(&f, CLS_OPT_WORDS_NAMED);
  f.cmd.options++; /* the table without its positional entry */
  f.cmd.n_options--;
  assert_int_equal(parse(&f, "stray", NULL), CLS_OPT_REFUSED);
  assert_says(&f, "unexpected argument 'stray' (options start with --)");
  f.cmd.words = CLS_OPT_WORDS_PLAIN;
  assert_int_equal(parse(&f, "stray", NULL), CLS_OPT_REFUSED);
  assert_says(&f, "unknown argument 'stray'");
}

static void test_exit_codes(void **state) {
  (void)state;
  assert_int_equal(cls_opt_exit_code(CLS_OPT_HELPED), 0);
  assert_int_equal(cls_opt_exit_code(CLS_OPT_REFUSED), 2);
}

/* --------------------------------------------------------------- help */

static void test_help_from_the_table(void **state) {
  (void)state;
  fixture f;
  make(&f, CLS_OPT_WORDS_NAMED);
  assert_int_equal(parse(&f, "--width", "3", "--help", "--frob", NULL),
                   CLS_OPT_HELPED); /* help wins, then stops */
  assert_true(!strncmp(f.a.text, "usage: clscale demo INPUT [options]\n\nDoes nothing, well.\n", 56));
  assert_says(&f, "\noutput:\n");
  assert_says(&f, "\n  -o, --out DIR   where the results go\n");
  assert_says(&f, "\n  -q, --quiet     say nothing\n");
  assert_says(&f, "\n  --mode MODE     fast, slow or exact\n");
  assert_says(&f, "exit codes: 0\n");
  /* every option of the table is in it, with its help */
  for (size_t i = 0; i < f.cmd.n_options; i++) {
    if (f.opts[i].name) assert_says(&f, f.opts[i].name);
    if (f.opts[i].help && f.opts[i].type != CLS_OPT_CUSTOM) assert_says(&f, f.opts[i].help);
  }
  assert_null(strstr(f.a.text, "INPUT  ")); /* a positional without help is not listed */
  /* the long help is wrapped, aligned under the help column, and keeps its own line break */
  assert_says(&f, "\n                  and this starts a new line\n");
  const char *line = f.a.text;
  while (*line) {
    size_t n = strcspn(line, "\n");
    if (n > 110) fail_msg("line longer than 110 columns: %.*s", (int)n, line);
    line += n + (line[n] == '\n');
  }
  make(&f, CLS_OPT_WORDS_PLAIN);
  assert_int_equal(parse(&f, "-h", NULL), CLS_OPT_HELPED);
  assert_says(&f, "usage: clscale demo");
}

/* ----------------------------------------------------------- messages */

static void test_translate_fields(void **state) {
  (void)state;
  fixture f;
  make(&f, CLS_OPT_WORDS_NAMED);
  char out[256];
  cls_opt_translate(&f.cmd, "lower `lr` or use another `out_dir`", out, sizeof out);
  assert_string_equal(out, "lower --lr or use another --out");
  /* a second field of one option; a positional's metavar */
  cls_opt_translate(&f.cmd, "`init_std` and `std` of `input_path`", out, sizeof out);
  assert_string_equal(out, "--std and --std of INPUT");
  /* a field no option sets loses its backquotes */
  cls_opt_translate(&f.cmd, "`pixels` must be <= `n_pixels`", out, sizeof out);
  assert_string_equal(out, "pixels must be <= n_pixels");
  /* today's messages, which name flags, pass through unchanged */
  const char *old = "no output folder: give --out DIR; lower --lr or raise --warmup (5%)";
  cls_opt_translate(&f.cmd, old, out, sizeof out);
  assert_string_equal(out, old);
  /* an unmatched backquote stays; a prefix of a field is no field */
  cls_opt_translate(&f.cmd, "`out` and a lone ` here", out, sizeof out);
  assert_string_equal(out, "out and a lone ` here");
  cls_opt_translate(&f.cmd, "`widths` `width`", out, sizeof out);
  assert_string_equal(out, "--widths --width");
  /* bounded, and always ended */
  char small[8];
  cls_opt_translate(&f.cmd, "raise `width` now", small, sizeof small);
  assert_string_equal(small, "raise -");
  cls_opt_translate(&f.cmd, "`lr`", small, 3);
  assert_string_equal(small, "--");
  cls_opt_translate(&f.cmd, "", small, sizeof small);
  assert_string_equal(small, "");
}

static void test_fail_translates(void **state) {
  (void)state;
  fixture f;
  make(&f, CLS_OPT_WORDS_NAMED);
  /* cls_opt_fail writes to stderr: point it at a file for the test */
  char path[] = "/tmp/cls_opt_fail_XXXXXX";
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  fflush(stderr);
  FILE *saved = freopen(path, "w", stderr);
  assert_non_null(saved);
  int code = cls_opt_fail(&f.cmd, 2, "the loss became %s: lower `lr`", "nan");
  fflush(stderr);
  FILE *in = fopen(path, "r");
  assert_non_null(in);
  char text[256] = "";
  size_t n = fread(text, 1, sizeof text - 1, in);
  text[n] = 0;
  fclose(in);
  remove(path);
  assert_int_equal(code, 2);
  assert_string_equal(text, "clscale demo: the loss became nan: lower --lr\n");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_values_of_every_type),
      cmocka_unit_test(test_value_parsers),
      cmocka_unit_test(test_ranges),
      cmocka_unit_test(test_errors_named),
      cmocka_unit_test(test_errors_wants_and_plain),
      cmocka_unit_test(test_no_positional),
      cmocka_unit_test(test_exit_codes),
      cmocka_unit_test(test_help_from_the_table),
      cmocka_unit_test(test_translate_fields),
      cmocka_unit_test(test_fail_translates),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
