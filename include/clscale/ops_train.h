/*
 * clscale/ops_train.h — the ops training needs beyond matmul, softmax and
 * the norms. Included by clscale/ops.h; the conventions there apply.
 */
#ifndef CLSCALE_OPS_TRAIN_H
#define CLSCALE_OPS_TRAIN_H

#ifdef __cplusplus
extern "C" {
#endif

#ifdef __cplusplus
}
#endif
#endif
