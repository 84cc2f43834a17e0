/*
 * src/data/split.h — the names of the data splits, shared by every task.
 */
#ifndef CLSCALE_DATA_SPLIT_H
#define CLSCALE_DATA_SPLIT_H

typedef enum cls_split {
  CLS_SPLIT_TRAIN = 0, /* what the model trains on; its size is the dataset size D */
  CLS_SPLIT_VAL = 1,   /* held out, for evaluation during training */
  CLS_SPLIT_TEST = 2   /* held out, for the final metric (spectra only) */
} cls_split;

#define CLS_SPLIT_COUNT 3

/* "train", "val", "test", or "?" for anything else. */
const char *cls_split_name(cls_split split);

#endif
