#ifndef LCB_THREADS_POOL_H
#define LCB_THREADS_POOL_H

#include <stddef.h>

/// A persistent pool of kernel worker threads shared by every parallel kernel.
///
/// A parallel region runs `task_count` independent tasks; the calling thread takes part, so a
/// region with N threads uses N−1 workers. Tasks are handed out dynamically, so callers must make
/// each task's result independent of which thread runs it (the dense kernels do: every output
/// element is computed by exactly one task with a fixed operation order).
///
/// Only one region runs at a time: a region started while another is running (from a second
/// caller thread, or nested inside a task) runs all its tasks on the calling thread.

/// The work of one task. `task_index` is in `[0, task_count)`.
typedef void (*lcb_task_fn)(void *context, size_t task_index);

/// Sets the number of threads parallel regions use; `count <= 0` restores the default
/// (the processors this process may run on). Takes effect at the next region.
void lcb_threads_set_count(int count);

/// The number of threads parallel regions use (at least 1).
int lcb_threads_count(void);

/// Runs `fn(context, i)` for every `i` in `[0, task_count)` on up to `max_threads` threads
/// (`max_threads <= 0` means `lcb_threads_count()`), returning when all tasks have finished.
void lcb_threads_run(size_t task_count, lcb_task_fn fn, void *context, int max_threads);

/// The work of one range task: the indices `[begin, end)`.
typedef void (*lcb_range_fn)(void *context, size_t begin, size_t end);

/// Runs `fn` over `[0, total)` split into chunks whose length is a multiple of `align` (the last
/// may be shorter), about `tasks_per_thread` chunks per thread, handed out dynamically: a thread
/// the OS deschedules does less of the work. `max_threads` as in `lcb_threads_run`.
void lcb_threads_run_ranges(size_t total, size_t align, size_t tasks_per_thread, lcb_range_fn fn,
                            void *context, int max_threads);

#endif
