/*
 * src/data/split.c — see split.h.
 */
#include "data/split.h"

const char *cls_split_name(cls_split split) {
  switch (split) {
  case CLS_SPLIT_TRAIN:
    return "train";
  case CLS_SPLIT_VAL:
    return "val";
  case CLS_SPLIT_TEST:
    return "test";
  }
  return "?";
}
