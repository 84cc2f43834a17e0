/* src/rundir/csv.c — see csv.h. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/file.h"
#include "rundir/csv.h"

/* A loss curve of a million evaluations is tens of megabytes; a bound keeps
 * a wrong path from being read whole. */
#define CSV_LIMIT ((size_t)1 << 30)

void cls_csv_destroy(cls_csv *t) {
  if (!t) return;
  free(t->text);
  free(t->cells);
  free(t->lines);
  free(t->cols);
  free(t);
}

/* Splits one line in place at commas, trimming blanks, and stores at most cap
 * field pointers; returns the number of fields the line has. */
static size_t split(char *line, char **out, size_t cap) {
  size_t n = 0;
  char *p = line;
  for (;;) {
    while (*p == ' ' || *p == '\t') p++;
    if (n < cap) out[n] = p;
    n++;
    char *comma = strchr(p, ',');
    char *end = comma ? comma : p + strlen(p);
    char *q = end;
    while (q > p && (q[-1] == ' ' || q[-1] == '\t' || q[-1] == '\r')) q--;
    *q = '\0';
    if (!comma) break;
    p = comma + 1;
  }
  return n;
}

/* The line at *next, cut at its newline; *next moves past it (NULL after
 * the last line, which a final newline does not start). */
static char *next_line(char **next, size_t *lineno) {
  char *line = *next;
  if (!line || !*line) return NULL;
  char *nl = strchr(line, '\n');
  if (nl) *nl = '\0';
  *next = nl ? nl + 1 : NULL;
  (*lineno)++;
  return line;
}

static bool blank(const char *line) {
  return line[strspn(line, " \t\r")] == '\0';
}

cls_status cls_csv_load(const char *path, cls_csv **out, char *err, size_t err_len) {
  *out = NULL;
  cls_csv *t = calloc(1, sizeof *t);
  if (!t) return cls_errf(err, err_len, CLS_ERR_OUT_OF_MEMORY, "out of memory reading %s", path);
  size_t len = 0;
  cls_status st = cls_read_file(path, CSV_LIMIT, &t->text, &len, err, err_len);
  if (st != CLS_OK) {
    cls_csv_destroy(t);
    return st;
  }
  if (len == 0) {
    cls_csv_destroy(t);
    return cls_errf(err, err_len, CLS_ERR_FORMAT,
                    "%s is empty: it needs a header line and data rows; re-run the stage that writes it", path);
  }
  if (memchr(t->text, '\0', len)) {
    cls_csv_destroy(t);
    return cls_errf(err, err_len, CLS_ERR_FORMAT,
                    "%s is not a text file (it holds NUL bytes): it is corrupt; re-run the point", path);
  }
  bool ends_with_newline = t->text[len - 1] == '\n';
  /* Count lines to size the cell table. */
  size_t lines = 1;
  for (size_t i = 0; i < len; i++) lines += t->text[i] == '\n';
  /* Lines are cut by hand, not by strtok, so that blank lines still count
   * and every message names the line of the file. */
  /* A UTF-8 byte order mark (spreadsheets write one) is not part of the
   * first column's name. */
  char *next = t->text + (len >= 3 && !memcmp(t->text, "\xEF\xBB\xBF", 3) ? 3 : 0), *line;
  size_t lineno = 0;
  /* Header. */
  while ((line = next_line(&next, &lineno)) != NULL && blank(line)) {
  }
  if (!line) {
    cls_csv_destroy(t);
    return cls_errf(err, err_len, CLS_ERR_FORMAT, "%s is empty: it needs a header line and data rows", path);
  }
  size_t ncol = 1;
  for (const char *q = line; *q; q++) ncol += *q == ',';
  t->cols = malloc(ncol * sizeof *t->cols);
  t->cells = malloc(ncol * lines * sizeof *t->cells);
  t->lines = malloc(lines * sizeof *t->lines);
  if (!t->cols || !t->cells || !t->lines) {
    cls_csv_destroy(t);
    return cls_errf(err, err_len, CLS_ERR_OUT_OF_MEMORY, "out of memory reading %s", path);
  }
  split(line, t->cols, ncol);
  t->n_cols = ncol;
  /* A column named twice would be read from its first place only. */
  for (size_t i = 0; i < ncol; i++)
    for (size_t j = i + 1; j < ncol; j++)
      if (!strcmp(t->cols[i], t->cols[j])) {
        cls_errf(err, err_len, CLS_ERR_FORMAT,
                 "%s line %zu: the column '%s' is named twice (columns %zu and %zu): keep one", path, lineno,
                 t->cols[i], i + 1, j + 1);
        cls_csv_destroy(t);
        return CLS_ERR_FORMAT;
      }
  while ((line = next_line(&next, &lineno)) != NULL) {
    if (blank(line)) continue;
    char **row = t->cells + t->n_rows * ncol;
    size_t n = split(line, row, ncol);
    if (n != ncol) {
      bool last = !next || *next == '\0';
      cls_errf(err, err_len, CLS_ERR_FORMAT, "%s line %zu has %zu fields but the header has %zu%s", path, lineno,
               n, ncol,
               last && !ends_with_newline ? ": the file is truncated; re-run the point that wrote it"
                                          : ": the file is malformed");
      cls_csv_destroy(t);
      return CLS_ERR_FORMAT;
    }
    t->lines[t->n_rows++] = lineno;
  }
  *out = t;
  return CLS_OK;
}

int cls_csv_column(const cls_csv *t, const char *name) {
  for (size_t i = 0; i < t->n_cols; i++)
    if (!strcmp(t->cols[i], name)) return (int)i;
  return -1;
}

const char *cls_csv_cell(const cls_csv *t, size_t row, int col) {
  if (col < 0 || (size_t)col >= t->n_cols || row >= t->n_rows) return "";
  return t->cells[row * t->n_cols + (size_t)col];
}

cls_status cls_csv_numbers(const cls_csv *t, const char *path, const char *name, double **out, size_t *n_nonfinite,
                           char *err, size_t err_len) {
  *out = NULL;
  if (n_nonfinite) *n_nonfinite = 0;
  int col = cls_csv_column(t, name);
  if (col < 0) {
    return cls_errf(err, err_len, CLS_ERR_FORMAT, "%s has no column '%s'", path, name);
  }
  double *v = malloc((t->n_rows ? t->n_rows : 1) * sizeof *v);
  if (!v) return CLS_ERR_OUT_OF_MEMORY;
  for (size_t r = 0; r < t->n_rows; r++) {
    const char *s = cls_csv_cell(t, r, col);
    char *end;
    errno = 0;
    double x = *s ? strtod(s, &end) : NAN;
    if (*s && (end == s || *end != '\0')) {
      cls_errf(err, err_len, CLS_ERR_FORMAT, "%s line %zu, column '%s': '%s' is not a number", path, t->lines[r],
               name, s);
      free(v);
      return CLS_ERR_FORMAT;
    }
    if (!isfinite(x)) {
      x = NAN; /* NaN and ±Inf are both "no value": skipped by the plots, never drawn at 0 */
      if (n_nonfinite) (*n_nonfinite)++;
    }
    v[r] = x;
  }
  *out = v;
  return CLS_OK;
}
