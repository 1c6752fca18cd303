// The kernel thread pool: persistent workers that spin briefly, then sleep on a condition variable.
//
// Decode calls a few hundred small matrix products per token; starting threads per call, or even
// waking sleeping ones through the kernel each time, would cost more than a small product. Workers
// therefore spin for a while after each region (SPIN_NANOSECONDS) before they sleep.
//
// The caller never waits for a worker that has not started: tasks are claimed from one atomic
// word that holds (generation, next task, task count), and the caller returns as soon as every
// task has completed. A worker that wakes late finds its generation exhausted (or a newer one)
// in that same word, so it never reads a finished region's function or context. On a machine
// shared with other processes this matters: a descheduled worker would otherwise stall every call.
#define _GNU_SOURCE
#include "threads_pool.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>

#if defined(__x86_64__)
#include <immintrin.h>
#define CPU_RELAX() _mm_pause()
#else
#define CPU_RELAX() ((void)0)
#endif

#define MAX_THREADS 64                 // the caller plus at most 63 workers
#define SPIN_NANOSECONDS 200000ull

// The claim word: generation (24 bits) | task count (20 bits) | next task (20 bits).
#define NEXT_BITS 20
#define COUNT_BITS 20
#define FIELD_MASK ((1ull << 20) - 1)
/// Tasks per region; larger task counts run as several regions. Leaves room in the next-task
/// field for the failed claims (one per thread) that follow the last task.
#define MAX_REGION_TASKS (FIELD_MASK - MAX_THREADS)

static inline uint64_t claim_generation(uint64_t word) { return word >> (NEXT_BITS + COUNT_BITS); }
static inline size_t claim_count(uint64_t word) { return (size_t)((word >> NEXT_BITS) & FIELD_MASK); }
static inline size_t claim_next(uint64_t word) { return (size_t)(word & FIELD_MASK); }

static struct {
    pthread_mutex_t region;      // held by the thread running a region
    pthread_mutex_t lock;        // guards sleeping and waking
    pthread_cond_t wake;         // workers sleep here for a new generation
    pthread_cond_t finished;     // the caller sleeps here for the last task
    int spawned;                 // workers started so far (never stopped)

    // The current region. `fn` and `context` are written before `claim` publishes the region
    // (release) and only read by a thread holding an unfinished task of it.
    lcb_task_fn fn;
    void *context;
    _Atomic uint64_t claim;
    _Atomic size_t completed;
    _Atomic int participants;    // threads that take tasks, the caller included
    _Atomic int sleepers;
    _Atomic int caller_sleeping;
} pool = {
    .region = PTHREAD_MUTEX_INITIALIZER,
    .lock = PTHREAD_MUTEX_INITIALIZER,
    .wake = PTHREAD_COND_INITIALIZER,
    .finished = PTHREAD_COND_INITIALIZER,
};

static _Atomic int requested_count = 0;

static uint64_t now_nanoseconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

static int default_count(void) {
#if defined(__linux__)
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0) {
        int n = CPU_COUNT(&set);
        if (n > 0) return n;
    }
#endif
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

void lcb_threads_set_count(int count) {
    atomic_store(&requested_count, count > MAX_THREADS ? MAX_THREADS : count);
}

int lcb_threads_count(void) {
    int n = atomic_load(&requested_count);
    if (n <= 0) n = default_count();
    return n > MAX_THREADS ? MAX_THREADS : n;
}

/// Claims and runs tasks until the region in `claim` is exhausted; returns its generation.
static uint64_t take_tasks(void) {
    for (;;) {
        const uint64_t word = atomic_fetch_add_explicit(&pool.claim, 1, memory_order_acq_rel);
        const size_t count = claim_count(word);
        const size_t task = claim_next(word);
        if (task >= count) return claim_generation(word);
        pool.fn(pool.context, task);
        if (atomic_fetch_add_explicit(&pool.completed, 1, memory_order_acq_rel) + 1 == count
            && atomic_load(&pool.caller_sleeping)) {
            pthread_mutex_lock(&pool.lock);
            pthread_cond_signal(&pool.finished);
            pthread_mutex_unlock(&pool.lock);
        }
    }
}

static void *worker_main(void *argument) {
    const int index = (int)(intptr_t)argument;   // 1 … spawned; the caller is 0
    uint64_t seen = claim_generation(atomic_load(&pool.claim));
    for (;;) {
        if (claim_generation(atomic_load_explicit(&pool.claim, memory_order_acquire)) == seen) {
            const uint64_t deadline = now_nanoseconds() + SPIN_NANOSECONDS;
            unsigned spins = 0;
            while (claim_generation(atomic_load_explicit(&pool.claim, memory_order_acquire)) == seen) {
                CPU_RELAX();
                if ((++spins & 255u) == 0 && now_nanoseconds() > deadline) {
                    pthread_mutex_lock(&pool.lock);
                    atomic_fetch_add(&pool.sleepers, 1);
                    while (claim_generation(atomic_load(&pool.claim)) == seen)
                        pthread_cond_wait(&pool.wake, &pool.lock);
                    atomic_fetch_sub(&pool.sleepers, 1);
                    pthread_mutex_unlock(&pool.lock);
                    break;
                }
            }
        }
        if (index < atomic_load_explicit(&pool.participants, memory_order_relaxed)) {
            seen = take_tasks();
        } else {
            seen = claim_generation(atomic_load(&pool.claim));
        }
    }
    return 0;
}

/// Starts workers until there are `count`; returns how many exist (fewer if the system refuses).
static int ensure_workers(int count) {
    while (pool.spawned < count) {
        pthread_t thread;
        pthread_attr_t attributes;
        pthread_attr_init(&attributes);
        pthread_attr_setdetachstate(&attributes, PTHREAD_CREATE_DETACHED);
        const int failed = pthread_create(&thread, &attributes, worker_main, (void *)(intptr_t)(pool.spawned + 1));
        pthread_attr_destroy(&attributes);
        if (failed) break;
        pool.spawned++;
    }
    return pool.spawned;
}

static void run_inline(size_t task_count, lcb_task_fn fn, void *context) {
    for (size_t i = 0; i < task_count; i++) fn(context, i);
}

typedef struct {
    lcb_task_fn fn;
    void *context;
    size_t offset;
} offset_context;

static void run_offset_task(void *context, size_t task) {
    const offset_context *slice = (const offset_context *)context;
    slice->fn(slice->context, slice->offset + task);
}

/// One region of at most MAX_REGION_TASKS tasks; the caller holds `pool.region`.
static void run_region(size_t task_count, lcb_task_fn fn, void *context, int threads) {
    pool.fn = fn;
    pool.context = context;
    atomic_store_explicit(&pool.participants, threads, memory_order_relaxed);
    atomic_store_explicit(&pool.completed, 0, memory_order_relaxed);
    const uint64_t generation = (claim_generation(atomic_load(&pool.claim)) + 1) & ((1ull << 24) - 1);
    atomic_store(&pool.claim, (generation << (NEXT_BITS + COUNT_BITS)) | ((uint64_t)task_count << NEXT_BITS));
    if (atomic_load(&pool.sleepers) > 0) {
        pthread_mutex_lock(&pool.lock);
        pthread_cond_broadcast(&pool.wake);
        pthread_mutex_unlock(&pool.lock);
    }

    take_tasks();

    // Tasks claimed by workers may still be running.
    if (atomic_load_explicit(&pool.completed, memory_order_acquire) != task_count) {
        const uint64_t deadline = now_nanoseconds() + SPIN_NANOSECONDS;
        unsigned spins = 0;
        while (atomic_load_explicit(&pool.completed, memory_order_acquire) != task_count) {
            CPU_RELAX();
            if ((++spins & 255u) == 0 && now_nanoseconds() > deadline) {
                pthread_mutex_lock(&pool.lock);
                atomic_store(&pool.caller_sleeping, 1);
                while (atomic_load(&pool.completed) != task_count)
                    pthread_cond_wait(&pool.finished, &pool.lock);
                atomic_store(&pool.caller_sleeping, 0);
                pthread_mutex_unlock(&pool.lock);
                break;
            }
        }
    }
}

typedef struct {
    lcb_range_fn fn;
    void *context;
    size_t chunk;
    size_t total;
} range_context;

static void run_range_task(void *context, size_t task) {
    const range_context *range = (const range_context *)context;
    const size_t begin = task * range->chunk;
    const size_t end = range->total - begin < range->chunk ? range->total : begin + range->chunk;
    range->fn(range->context, begin, end);
}

void lcb_threads_run_ranges(size_t total, size_t align, size_t tasks_per_thread, lcb_range_fn fn,
                            void *context, int max_threads) {
    if (total == 0) return;
    const int threads = max_threads > 0 ? max_threads : lcb_threads_count();
    const size_t wanted = (size_t)threads * (tasks_per_thread ? tasks_per_thread : 1);
    size_t chunk = (total + wanted - 1) / wanted;
    if (align > 1) chunk = (chunk + align - 1) / align * align;
    range_context range = { fn, context, chunk, total };
    lcb_threads_run((total + chunk - 1) / chunk, run_range_task, &range, threads);
}

void lcb_threads_run(size_t task_count, lcb_task_fn fn, void *context, int max_threads) {
    if (task_count == 0) return;
    int threads = max_threads > 0 ? max_threads : lcb_threads_count();
    if (threads > MAX_THREADS) threads = MAX_THREADS;
    if ((size_t)threads > task_count) threads = (int)task_count;
    if (threads <= 1 || pthread_mutex_trylock(&pool.region) != 0) {
        run_inline(task_count, fn, context);
        return;
    }
    if (ensure_workers(threads - 1) == 0) {
        pthread_mutex_unlock(&pool.region);
        run_inline(task_count, fn, context);
        return;
    }
    if (task_count <= MAX_REGION_TASKS) {
        run_region(task_count, fn, context, threads);
    } else {
        // Over a million tasks: successive regions over slices of the index range.
        for (size_t offset = 0; offset < task_count; offset += MAX_REGION_TASKS) {
            offset_context slice = { fn, context, offset };
            const size_t part = task_count - offset < MAX_REGION_TASKS ? task_count - offset : MAX_REGION_TASKS;
            run_region(part, run_offset_task, &slice, threads);
        }
    }
    pthread_mutex_unlock(&pool.region);
}
