/*
 * src/train/task_list_internal.h — the registered tasks, one line per task
 * file: CLS_TASK(name) stands for the entry cls__task_<name> (a
 * cls_task_info) that the file defines. Adding a task is its file and one
 * line here; task_internal.h declares the entries and task.c lists them in
 * this order. The first entry of a task name is that task's default model.
 *
 * An X-macro list: included with CLS_TASK defined, so no include guard.
 */
CLS_TASK(text)
CLS_TASK(spectra)
CLS_TASK(linreg)
CLS_TASK(rf)
CLS_TASK(zipf)
CLS_TASK(gcd)
