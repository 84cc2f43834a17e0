/*
 * src/train/schedule.h — what a run does when: the learning rate of each
 * step (linear warm-up, then cosine decay to the end of the budget) and the
 * steps at which it evaluates (log-spaced, or every k steps; the last step
 * always). Pure functions of their arguments, so a resumed run recomputes
 * exactly what the interrupted one used.
 */
#ifndef CLSCALE_TRAIN_SCHEDULE_H
#define CLSCALE_TRAIN_SCHEDULE_H

#include <stddef.h>
#include <stdint.h>

/* The learning rate of update `step` (0-based) of a run of `total` updates:
 *   step < warmup:  lr * (step + 1) / warmup
 *   after:          min + (lr - min) * (1 + cos(pi * p)) / 2,
 *                   p = (step - warmup) / (total - warmup), min = lr * min_ratio
 * so the first update after warm-up uses the full rate and the last one
 * nearly min. warmup >= total is treated as warmup = total (warm-up only). */
double cls_schedule_lr(double lr, double min_ratio, uint64_t warmup, uint64_t total, uint64_t step);

/* The steps (1-based: "after that many updates") at which a run of total
 * updates evaluates, ascending and distinct, the last always total:
 *   every > 0:  every, 2 every, ..., and total;
 *   else:       n points log-spaced from 1 to total (round(total^(i/(n-1)))),
 *               duplicates removed, so short runs get fewer than n.
 * Returns a malloc'd array with its length in *count, or NULL when out of
 * memory (or total is 0). */
uint64_t *cls_schedule_eval_steps(uint64_t total, uint64_t every, size_t n, size_t *count);

#endif
