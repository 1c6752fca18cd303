// The kernel thread pool: persistent workers that spin briefly, then sleep on a condition variable.
//
// Decode calls a few hundred small matrix products per token; starting threads per call, or even
// waking sleeping ones through the kernel each time, would cost more than a small product. Workers
// therefore spin for a short while after each region (SPIN_NANOSECONDS) before they sleep.
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

#define MAX_THREADS 64   // the caller plus at most 63 workers
#define SPIN_NANOSECONDS 200000ull

static struct {
    pthread_mutex_t region;      // held by the thread running a region
    pthread_mutex_t lock;        // guards sleeping and waking
    pthread_cond_t wake;         // workers sleep here for the next generation
    pthread_cond_t finished;     // the caller sleeps here for `pending` to reach 0
    int spawned;                 // workers started so far (never stopped)

    // The current region; written by the caller before `generation` is bumped (release).
    lcb_task_fn fn;
    void *context;
    size_t task_count;
    int participants;            // threads taking tasks, the caller included
    _Atomic size_t next_task;
    _Atomic int pending;         // workers that have not yet finished with this generation
    _Atomic uint64_t generation;
} pool = {
    .region = PTHREAD_MUTEX_INITIALIZER,
    .lock = PTHREAD_MUTEX_INITIALIZER,
    .wake = PTHREAD_COND_INITIALIZER,
    .finished = PTHREAD_COND_INITIALIZER,
};

static _Atomic int requested_count = 0;

/// The generation each worker was started at: it must wait for the next one, not run an old one.
static uint64_t start_generation[MAX_THREADS];

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

static void take_tasks(void) {
    for (;;) {
        size_t task = atomic_fetch_add_explicit(&pool.next_task, 1, memory_order_relaxed);
        if (task >= pool.task_count) return;
        pool.fn(pool.context, task);
    }
}

static void *worker_main(void *argument) {
    const int index = (int)(intptr_t)argument;   // 1 … spawned; the caller is 0
    uint64_t seen = start_generation[index];
    for (;;) {
        uint64_t generation = atomic_load_explicit(&pool.generation, memory_order_acquire);
        if (generation == seen) {
            const uint64_t deadline = now_nanoseconds() + SPIN_NANOSECONDS;
            unsigned spins = 0;
            while ((generation = atomic_load_explicit(&pool.generation, memory_order_acquire)) == seen) {
                CPU_RELAX();
                if ((++spins & 255u) == 0 && now_nanoseconds() > deadline) break;
            }
            if (generation == seen) {
                pthread_mutex_lock(&pool.lock);
                while ((generation = atomic_load_explicit(&pool.generation, memory_order_acquire)) == seen)
                    pthread_cond_wait(&pool.wake, &pool.lock);
                pthread_mutex_unlock(&pool.lock);
            }
        }
        seen = generation;
        // Every worker acknowledges every generation, so the caller never rewrites the region's
        // fields while a worker may still read them.
        if (index < pool.participants) take_tasks();
        if (atomic_fetch_sub_explicit(&pool.pending, 1, memory_order_acq_rel) == 1) {
            pthread_mutex_lock(&pool.lock);
            pthread_cond_signal(&pool.finished);
            pthread_mutex_unlock(&pool.lock);
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
        start_generation[pool.spawned + 1] = atomic_load(&pool.generation);
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

void lcb_threads_run(size_t task_count, lcb_task_fn fn, void *context, int max_threads) {
    if (task_count == 0) return;
    int threads = max_threads > 0 ? max_threads : lcb_threads_count();
    if (threads > MAX_THREADS) threads = MAX_THREADS;
    if ((size_t)threads > task_count) threads = (int)task_count;
    if (threads <= 1 || pthread_mutex_trylock(&pool.region) != 0) {
        run_inline(task_count, fn, context);
        return;
    }
    const int workers = ensure_workers(threads - 1);
    if (workers == 0) {
        pthread_mutex_unlock(&pool.region);
        run_inline(task_count, fn, context);
        return;
    }
    pool.fn = fn;
    pool.context = context;
    pool.task_count = task_count;
    pool.participants = threads < workers + 1 ? threads : workers + 1;
    atomic_store_explicit(&pool.next_task, 0, memory_order_relaxed);
    atomic_store_explicit(&pool.pending, workers, memory_order_relaxed);
    pthread_mutex_lock(&pool.lock);
    atomic_fetch_add_explicit(&pool.generation, 1, memory_order_release);
    pthread_cond_broadcast(&pool.wake);
    pthread_mutex_unlock(&pool.lock);

    take_tasks();

    if (atomic_load_explicit(&pool.pending, memory_order_acquire) != 0) {
        const uint64_t deadline = now_nanoseconds() + SPIN_NANOSECONDS;
        unsigned spins = 0;
        while (atomic_load_explicit(&pool.pending, memory_order_acquire) != 0) {
            CPU_RELAX();
            if ((++spins & 255u) == 0 && now_nanoseconds() > deadline) break;
        }
        pthread_mutex_lock(&pool.lock);
        while (atomic_load_explicit(&pool.pending, memory_order_acquire) != 0)
            pthread_cond_wait(&pool.finished, &pool.lock);
        pthread_mutex_unlock(&pool.lock);
    }
    pthread_mutex_unlock(&pool.region);
}
