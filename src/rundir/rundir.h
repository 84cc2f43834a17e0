/*
 * src/rundir/rundir.h — the run directory (docs/formats.md): its paths, the
 * point status names, the point summary points/<id>.json, the manifest,
 * the loss curve points/<id>.csv, leftovers of a killed writer, and the
 * format version. train, sweep, fit and plot read and write these files
 * only through this module, so the format has one owner.
 *
 * Every file is written to a temporary name in its folder and renamed
 * (core/file.h), so a reader sees the old file or the new one; the
 * manifest is created once (written under a temporary name and hard-linked
 * into place, which fails when another process was first).
 */
#ifndef CLSCALE_RUNDIR_RUNDIR_H
#define CLSCALE_RUNDIR_RUNDIR_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "clscale/status.h"

/* The manifest's `version`: what this library writes and reads. */
#define CLS_RUNDIR_VERSION 1

/* ------------------------------------------------------------- paths */

typedef enum {
  CLS_RUNDIR_MANIFEST,    /* DIR/manifest.json */
  CLS_RUNDIR_POINTS,      /* DIR/points */
  CLS_RUNDIR_CHECKPOINTS, /* DIR/checkpoints */
  CLS_RUNDIR_SUMMARY,     /* DIR/points/<id>.json */
  CLS_RUNDIR_CURVE,       /* DIR/points/<id>.csv */
  CLS_RUNDIR_CHECKPOINT,  /* DIR/checkpoints/<id>.ckpt */
  CLS_RUNDIR_FIT,         /* DIR/fit.json */
  CLS_RUNDIR_COORD_CHECK, /* DIR/coord_check.csv */
  CLS_RUNDIR_PLOTS,       /* DIR/plots */
  CLS_RUNDIR_OUTCOMES,    /* DIR/points/<id>.outcomes.csv */
  CLS_RUNDIR_CORPORA,     /* DIR/corpora */
  CLS_RUNDIR_CORPUS,      /* DIR/corpora/<id>.bin: the corpus the model of point <id> wrote */
  CLS_RUNDIR_CORPUS_META, /* DIR/corpora/<id>.json: what it holds */
  CLS_RUNDIR_CLAIMS,      /* DIR/claims */
  CLS_RUNDIR_CLAIM,       /* DIR/claims/<id>.claim: who trains point <id> now (rundir/claim.h) */
} cls_rundir_file;

/* The longest point id or run name: a file name (with ".outcomes.csv" and
 * a writer's ".tmp.PID") must stay well inside NAME_MAX (255). */
#define CLS_RUNDIR_ID_MAX 120

/* The path of one file of the run directory dir (id for the per-point
 * files, else ignored). CLS_ERR_INVALID_SIZE when it does not fit in out;
 * CLS_ERR_INVALID_VALUE (out "") for a per-point file whose id is not
 * cls_rundir_id_ok, so that no id can name a file outside its folder. */
cls_status cls_rundir_path(char *out, size_t len, const char *dir, cls_rundir_file which, const char *id);
/* The characters of an id, for messages ('+': ids such as "c1e+17_n3"
 * that other tools write are read as they are). */
#define CLS_RUNDIR_ID_CHARS "letters, digits, '_', '-', '+' and '.'"
/* A point id or a run name: 1 to CLS_RUNDIR_ID_MAX of CLS_RUNDIR_ID_CHARS,
 * not "." or "..". */
int cls_rundir_id_ok(const char *id);
/* CLS_OK when name is cls_rundir_id_ok, else CLS_ERR_INVALID_VALUE with a
 * message naming what (e.g. "'name'") and the rule (the name is shown cut
 * to 40 characters, with its length). */
cls_status cls_rundir_check_id(const char *what, const char *name, char *err, size_t err_len);
/* Creates DIR/points and DIR/checkpoints (and DIR). */
cls_status cls_rundir_prepare(const char *dir, char *err, size_t err_len);
/* Whether DIR/checkpoints/<id>.ckpt exists. */
int cls_rundir_has_checkpoint(const char *dir, const char *id);
/* Removes the temporary files (NAME.tmp.PID) a killed process left of this
 * point in DIR/points, DIR/checkpoints and DIR/corpora. Returns how many. */
size_t cls_rundir_remove_leftovers(const char *dir, const char *id);

/* ------------------------------------------------------ point status */

typedef enum {
  CLS_POINT_NEW = 0,     /* no summary yet */
  CLS_POINT_OK,          /* finished */
  CLS_POINT_DIVERGED,    /* finished: the loss became NaN/Inf (a result, not retried) */
  CLS_POINT_FAILED,      /* an error stopped it: retried on a re-run */
  CLS_POINT_INTERRUPTED, /* stopped by a signal: resumed from its checkpoint */
  CLS_POINT_RUNNING,     /* "running": its process was killed, or it runs now elsewhere */
  CLS_POINT_UNREADABLE,  /* the summary cannot be parsed: run again */
} cls_point_state;

/* "new", "ok", "diverged", "failed", "interrupted", "running",
 * "unreadable" (the status field holds one of ok … running). */
const char *cls_point_state_name(cls_point_state s);
/* The state a status text names; CLS_POINT_UNREADABLE for any other. */
cls_point_state cls_point_state_parse(const char *status);
/* Finished points are skipped by a re-run. */
int cls_point_state_done(cls_point_state s);

/* ----------------------------------------------------- point summary */

/* How the train loop's run went; written only by it (has_run). */
typedef struct cls_point_run {
  double steps, total_steps, warmup_steps;
  double lr, min_lr_ratio, beta1, beta2, clip;
  double tokens_per_step, flops_per_step, model_flops_per_step, eval_flops;
  double tokens_per_second, gflops_per_second; /* NaN: left out (this process ran no step) */
  double resumed_from_step;                    /* 0: left out */
  double diverged_at_step;                     /* NaN: left out */
  const char *describe;                        /* NULL: left out */
  const char *matmul_choices;                  /* the auto matmul backend's choices of the run; NULL: left out */
} cls_point_run;

/* points/<id>.json. The writer writes the fields in this order; a number
 * that is not finite is null, except where "left out" is said. The reader
 * fills every field it finds (the others NaN / NULL / 0) and keeps the
 * keys it does not know as `config` lines, so a summary reads back as it
 * was written. */
typedef struct cls_point_summary {
  const char *id;
  cls_point_state state; /* written as its name */
  const char *status;    /* read: the status text as found, NULL when absent (formats.md: then "ok") */
  const char *error;     /* NULL: left out */
  double n_params, n_params_embed;
  const char *config; /* "name=value" lines: the run's configuration (the task's key, the sweep's fields) */
  double tokens;
  double train_examples, train_tokens, examples_seen, epochs; /* written when train_examples > 0 */
  double flops;
  double flops_6nd;                                 /* written with has_run */
  double budget_flops, budget_tokens, budget_steps; /* NaN: left out */
  double final_eval_loss;
  double final_train_loss, seconds; /* written with has_run */
  const char *device;               /* NULL: left out */
  int has_run;
  cls_point_run run;
  const char *trailer; /* more "name=value" lines, written last (before the library version) */
  /* A failed point's attempts so far and the error of each, oldest first
   * (the sweep's retry policy); attempts NaN and no errors: left out. */
  double attempts;
  char **errors;
  size_t n_errors;
} cls_point_summary;

/* All numbers NaN (run counters 0 where 0 means "left out"), strings NULL. */
void cls_point_summary_init(cls_point_summary *s);
/* Writes path atomically. */
cls_status cls_point_summary_write(const char *path, const cls_point_summary *s, char *err, size_t err_len);
/* Reads path into s (strings owned by s: cls_point_summary_release). A
 * missing file is CLS_ERR_IO; an empty, truncated or malformed one
 * CLS_ERR_FORMAT naming it. An unknown status text reads as
 * CLS_POINT_UNREADABLE with the text in status. */
cls_status cls_point_summary_read(const char *path, cls_point_summary *s, char *err, size_t err_len);
/* Frees the strings of a summary read by cls_point_summary_read. */
void cls_point_summary_release(cls_point_summary *s);
/* Adds the attempt record to the failed summary DIR/points/<id>.json
 * (written just before by whoever recorded the failure): attempts, and
 * errors[0..n) (the earlier attempts' errors and this one's), rewritten
 * atomically. CLS_ERR_IO / CLS_ERR_FORMAT when the summary cannot be read. */
cls_status cls_point_record_attempts(const char *dir, const char *id, double attempts, const char *const *errors,
                                     size_t n_errors, char *err, size_t err_len);
/* The number under name in "name=value" lines; NaN when absent or not a number. */
double cls_point_config_num(const char *config, const char *name);
/* The state of DIR/points/<id>.json: NEW when absent, UNREADABLE when it
 * cannot be read or has no known status; for a finished point its final
 * eval loss in *loss (NaN if unknown) when loss is not NULL. */
cls_point_state cls_rundir_point_state(const char *dir, const char *id, double *loss);

/* -------------------------------------------------------- loss curve */

/* The CSV header of points/<id>.csv (the name is from when the train layer
 * owned the file). */
#define CLS_TRAIN_CSV_HEADER "step,tokens,flops,flops_6nd,train_loss,eval_loss,lr,seconds\n"

typedef struct cls_eval_row {
  uint64_t step;
  double tokens, flops, flops_6nd, train_loss, eval_loss, lr, seconds;
} cls_eval_row;

/* One CSV line (with its newline) into out: integers exactly, losses and
 * rates with 9 significant digits (every float exactly), non-finite
 * values as "nan", "inf" or "-inf". Returns the length, or 0 when out is
 * too small. */
size_t cls_csv_format_row(const cls_eval_row *r, char *out, size_t len);
/* Parses one line written by cls_csv_format_row; 0 when it is not one. */
int cls_csv_parse_row(const char *line, cls_eval_row *r);
/* Writes the header and rows (already formatted lines) to path atomically. */
cls_status cls_csv_write(const char *path, const char *rows, size_t rows_len, char *err, size_t err_len);

/* -------------------------------------------------- outcome table */

/* points/<id>.outcomes.csv: a task's final accuracy and loss on its
 * held-out set broken down by the value of the answer (the gcd task: one
 * row per gcd value k found in it), for the tasks whose outcomes are not
 * alike (docs/formats.md). */
typedef struct cls_outcome_row {
  uint64_t value; /* the outcome: gcd k */
  uint64_t examples, correct;
  double loss;     /* mean loss of the answers' tokens */
  double expected; /* the outcome's probability under the task's law (NaN: not known) */
} cls_outcome_row;

/* Writes the header "NAME,examples,correct,accuracy,loss,expected" (NAME:
 * value_name, "gcd") and one line per row to path atomically. */
cls_status cls_outcomes_write(const char *path, const char *value_name, const cls_outcome_row *rows, size_t n,
                              char *err, size_t err_len);

/* ------------------------------------------------ synthetic corpora */

/* corpora/<id>.bin: token sequences that the model of point <id> (a
 * teacher) generated, on which the next generation trains
 * (docs/formats.md). The file is
 *
 *   "CLSCORP1" | u64 n | u64 length | u64 vocab | u64 key_len | key |
 *   n x length u32 tokens | u64 FNV-1a 64 of every byte before it
 *
 * little-endian; the key is "name=value" lines saying what made it (the
 * teacher, the questions' seed, the sampling settings), so a corpus is
 * reused only by a sweep that would make the same one. It is written
 * sequence by sequence to NAME.tmp.PID and renamed when whole, so a
 * reader sees a whole corpus or none. */
typedef struct cls_corpus {
  uint64_t n, length, vocab;
  char *key;       /* NUL-terminated */
  int32_t *tokens; /* n x length, each in [0, vocab) */
  uint64_t checksum;
} cls_corpus;

/* Reads and checks path: CLS_ERR_IO when it cannot be read; CLS_ERR_FORMAT
 * naming the file for a wrong magic, a truncated file, a checksum that
 * does not match, a token outside the vocabulary. */
cls_status cls_corpus_read(const char *path, cls_corpus *out, char *err, size_t err_len);
void cls_corpus_free(cls_corpus *c);

typedef struct cls_corpus_writer cls_corpus_writer;

/* Starts path (written to path.tmp.PID) for n sequences of length tokens
 * over vocab, with key. CLS_ERR_IO with the reason. */
cls_status cls_corpus_writer_open(const char *path, uint64_t n, uint64_t length, uint64_t vocab, const char *key,
                                  cls_corpus_writer **out, char *err, size_t err_len);
/* Appends rows sequences (rows x length tokens, each in [0, vocab)). */
cls_status cls_corpus_writer_append(cls_corpus_writer *w, const int32_t *tokens, size_t rows, char *err,
                                    size_t err_len);
/* After the n sequences: the checksum, flushed to disk, renamed into
 * place; *checksum set. w is freed whatever happens (the temporary file
 * removed on failure). */
cls_status cls_corpus_writer_finish(cls_corpus_writer *w, uint64_t *checksum, char *err, size_t err_len);
/* Gives up: the temporary file removed, w freed (NULL: nothing). */
void cls_corpus_writer_abandon(cls_corpus_writer *w);

/* The count of one outcome in a corpus and in the real data it stands in
 * for (the meta file's table): a gcd value among the generated and the
 * true answers, or a byte among the generated and the real continuations. */
typedef struct cls_corpus_value {
  uint64_t value, real, generated;
} cls_corpus_value;

/* What a text corpus says of its teacher: the tail it cuts (whole words:
 * maximal runs of ASCII letters, case-folded, not touching the prompt or
 * the window's end). */
typedef struct cls_corpus_text {
  /* The teacher's mean negative log-likelihood, nats per byte, of the
   * generated continuations and of the real ones they replace (NaN: not
   * measured, e.g. rewritten from the corpus). */
  double nll_generated, nll_real;
  uint64_t words_real, words_generated; /* distinct words in each */
  uint64_t words_unseen;                /* distinct generated words the training text lacks */
} cls_corpus_text;

/* corpora/<id>.json: for people and plots, derived from the corpus (so it
 * is written again when missing). */
typedef struct cls_corpus_meta {
  const char *teacher, *corpus; /* the teacher's point id; the corpus file's name */
  uint64_t checksum, n, length, vocab;
  const char *key;                /* the corpus's key lines, written as the object `made_with` */
  uint64_t malformed;             /* answers that are not a number followed by end-of-sequence */
  uint64_t wrong, correct;        /* well-formed answers that are not / are the true answer */
  const cls_corpus_text *text;    /* a text corpus's measures (then the three above are left out); NULL: answers */
  const char *values_of;          /* what the table counts: "gcd", "byte" */
  const cls_corpus_value *values; /* by value ascending */
  size_t n_values;
  double seconds; /* to make it (NaN: left out, e.g. rewritten from the corpus) */
  const char *device;
} cls_corpus_meta;

cls_status cls_corpus_meta_write(const char *path, const cls_corpus_meta *m, char *err, size_t err_len);

/* ---------------------------------------------------------- manifest */

typedef struct cls_manifest_point {
  const char *id;
  double width, depth, heads, n_params, n_params_embed;
  double budget_flops, budget_tokens, budget_steps; /* one is set, the others NaN */
  double seed, lr;
  /* Generations: the point's generation and pi (NaN: left out, not a
   * generations sweep) and its teacher's id (NULL: none). */
  double generation, real_fraction;
  const char *teacher;
} cls_manifest_point;

/* What a sweep records of itself; the manifest adds the library version,
 * the host and the creation time. */
typedef struct cls_manifest {
  const char *name, *task, *model, *mode; /* NULL: left out */
  const char *device, *spec_file;         /* spec_file NULL: left out */
  const uint64_t *seeds;
  size_t n_seeds;
  uint64_t data_seed;
  const char *spec; /* the full configuration as canonical JSON text */
  const cls_manifest_point *points;
  size_t n_points;
} cls_manifest;

/* Creates DIR/manifest.json unless it exists: *created says whether this
 * call wrote it (of two processes, one does). CLS_ERR_IO when it cannot be
 * written, CLS_ERR_FORMAT when spec is not JSON, CLS_ERR_OUT_OF_MEMORY. */
cls_status cls_manifest_create(const char *dir, const cls_manifest *m, int *created, char *err, size_t err_len);

/* What a reader gets of a manifest (owned: cls_manifest_info_free). */
typedef struct cls_manifest_info {
  char *name;      /* NULL when absent */
  char *spec_file; /* NULL when absent */
  cJSON *spec;     /* the "spec" object, NULL when absent or not an object */
  cJSON *points;   /* the "points" array (the plan), NULL when absent or not an array */
  int parsed;      /* the file is JSON (set also when its version is refused) */
} cls_manifest_info;

/* Reads DIR/manifest.json. Unreadable: CLS_ERR_IO; not JSON:
 * CLS_ERR_FORMAT (cls_json_load's message); a `version` other than
 * CLS_RUNDIR_VERSION: CLS_ERR_FORMAT saying which clscale reads it. */
cls_status cls_manifest_read(const char *dir, cls_manifest_info *out, char *err, size_t err_len);
void cls_manifest_info_free(cls_manifest_info *m);

#endif
