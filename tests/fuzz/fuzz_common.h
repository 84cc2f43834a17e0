/*
 * tests/fuzz/fuzz_common.h — what every fuzz target shares: a scratch folder
 * for the files the parsers read (they take paths, as the commands give
 * them), and the contract every parser keeps on any input.
 *
 * Each target (tests/fuzz/<target>.c) defines LLVMFuzzerTestOneInput; it is
 * linked with libFuzzer in the fuzzing build (tests/fuzz.cmake) and with
 * tests/fuzz/replay.c everywhere, which feeds it the files of
 * tests/fuzz/<target>/ (seeds and saved crashes).
 */
#ifndef CLSCALE_FUZZ_COMMON_H
#define CLSCALE_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include "clscale/status.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The path of name in this process's scratch folder (made on first use). */
const char *fuzz_path(const char *name);

/* Writes data to name in the scratch folder; its path. */
const char *fuzz_write(const char *name, const uint8_t *data, size_t size);

/* Aborts (a finding, with what in the message) unless cond holds. */
void fuzz_require(int cond, const char *what, const char *detail);

/* The contract of a parser's result: a failure has a message (a user
 * must learn what to do), success none is needed. */
void fuzz_status(cls_status s, const char *err);

/* Reads a whole file the harness wrote (NULL when missing); *len its size. */
char *fuzz_slurp(const char *path, size_t *len);

#endif
