/*
 * src/train/log.h — what a run writes for people and for `clscale fit` /
 * `clscale plot`: the loss curve points/<id>.csv and the summary
 * points/<id>.json. Their format is the run directory's (rundir/rundir.h);
 * the number and folder helpers are core's. This header gathers them for
 * the train layer's files.
 */
#ifndef CLSCALE_TRAIN_LOG_H
#define CLSCALE_TRAIN_LOG_H

#include "core/file.h"
#include "core/fmt.h"
#include "rundir/json.h"
#include "rundir/rundir.h"

#endif
