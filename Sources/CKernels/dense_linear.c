// Dense linear layers: run-time ISA dispatch, the portable scalar kernel, and the split of output
// features across the thread pool.
#include "dense_internal.h"
#include "dense_kernels.h"
#include "threads_pool.h"
#include "half_internal.h"

#include <stdatomic.h>
#include <string.h>

// MARK: - Scalar kernel

static inline float bf16_to_float(uint16_t b) {
    const uint32_t bits = (uint32_t)b << 16;
    float result;
    memcpy(&result, &bits, sizeof result);
    return result;
}

/// One accumulator in input order, then the bias: the same operations as `MatMul.linearReference`.
static void block_scalar(const lcb_dense_job *job, size_t o_begin, size_t o_end) {
    const size_t in = job->in;
    for (size_t r = 0; r < job->rows; r++) {
        const float *x = job->x + r * in;
        float *y = job->y + r * job->out;
        for (size_t o = o_begin; o < o_end; o++) {
            float sum = 0;
            switch (job->dtype) {
            case LCB_DENSE_F32: {
                const float *w = (const float *)job->w + o * in;
                for (size_t i = 0; i < in; i++) sum += x[i] * w[i];
                break;
            }
            case LCB_DENSE_F16: {
                const uint16_t *w = (const uint16_t *)job->w + o * in;
                for (size_t i = 0; i < in; i++) sum += x[i] * lcb_half_bits_to_float(w[i]);
                break;
            }
            default: {
                const uint16_t *w = (const uint16_t *)job->w + o * in;
                for (size_t i = 0; i < in; i++) sum += x[i] * bf16_to_float(w[i]);
                break;
            }
            }
            if (job->bias) sum += job->bias[o];
            y[o] = sum;
        }
    }
}

// MARK: - Dispatch

int lcb_dense_isa_supported(int isa) {
#if defined(__x86_64__)
    __builtin_cpu_init();
    switch (isa) {
    case LCB_DENSE_ISA_SCALAR: return 1;
    case LCB_DENSE_ISA_AVX2:
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c");
    case LCB_DENSE_ISA_AVX512:
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw")
            && __builtin_cpu_supports("avx512vl") && lcb_dense_isa_supported(LCB_DENSE_ISA_AVX2);
    default: return 0;
    }
#else
    return isa == LCB_DENSE_ISA_SCALAR;
#endif
}

int lcb_dense_isa_best(void) {
    static _Atomic int cached = -2;
    int isa = atomic_load_explicit(&cached, memory_order_relaxed);
    if (isa == -2) {
        isa = lcb_dense_isa_supported(LCB_DENSE_ISA_AVX512) ? LCB_DENSE_ISA_AVX512
            : lcb_dense_isa_supported(LCB_DENSE_ISA_AVX2) ? LCB_DENSE_ISA_AVX2
            : LCB_DENSE_ISA_SCALAR;
        atomic_store_explicit(&cached, isa, memory_order_relaxed);
    }
    return isa;
}

static lcb_dense_block_fn block_for(int isa, int dtype) {
    switch (isa) {
    case LCB_DENSE_ISA_AVX512: return lcb_dense_block_avx512(dtype);
    case LCB_DENSE_ISA_AVX2: return lcb_dense_block_avx2(dtype);
    default: return block_scalar;
    }
}

// MARK: - Threads

/// Below this many multiply-adds a call runs on the caller: waking a worker costs more.
#define SINGLE_THREAD_WORK ((size_t)1 << 16)

/// Tasks per thread: several, so a thread slowed by other processes on the machine does less.
#define TASKS_PER_THREAD 4

typedef struct {
    lcb_dense_job job;
    lcb_dense_block_fn block;
} dense_region;

static void dense_range(void *context, size_t begin, size_t end) {
    const dense_region *region = (const dense_region *)context;
    region->block(&region->job, begin, end);
}

void lcb_dense_linear_with(const float *x, size_t rows, const void *weights, int dtype,
                           size_t out_features, size_t in_features, const float *bias, float *y,
                           int isa, int threads) {
    if (rows == 0 || out_features == 0) return;
    if (isa == LCB_DENSE_ISA_BEST || !lcb_dense_isa_supported(isa)) isa = lcb_dense_isa_best();
    dense_region region = {
        .job = { x, rows, weights, dtype, out_features, in_features, bias, y },
        .block = block_for(isa, dtype),
    };
    if (!region.block) region.block = block_scalar;
    if (threads <= 0) threads = lcb_threads_count();

    const size_t work = rows * out_features * (in_features ? in_features : 1);
    if (threads == 1 || work < SINGLE_THREAD_WORK || out_features < 8) {
        region.block(&region.job, 0, out_features);
        return;
    }
    // Chunks are multiples of 16 outputs: whole 4-output tiles (results would not change
    // otherwise, but the tiles stay full) and, in prefill, whole 64-byte lines of each y row, so
    // two threads do not write into the same cache line.
    lcb_threads_run_ranges(out_features, 16, TASKS_PER_THREAD, dense_range, &region, threads);
}

void lcb_dense_linear(const float *x, size_t rows, const void *weights, int dtype,
                      size_t out_features, size_t in_features, const float *bias, float *y) {
    lcb_dense_linear_with(x, rows, weights, dtype, out_features, in_features, bias, y,
                          LCB_DENSE_ISA_BEST, 0);
}

// MARK: - Bandwidth probe and benchmark data

#define STREAM_CHUNK ((size_t)4 << 20)

typedef struct {
    const uint8_t *buffer;
    size_t bytes;
    _Atomic uint64_t checksum;
} stream_region;

static void stream_task(void *context, size_t task) {
    stream_region *region = (stream_region *)context;
    const size_t begin = task * STREAM_CHUNK;
    const size_t length = region->bytes - begin < STREAM_CHUNK ? region->bytes - begin : STREAM_CHUNK;
    const uint8_t *p = region->buffer + begin;
    uint64_t sum;
    switch (lcb_dense_isa_best()) {
    case LCB_DENSE_ISA_AVX512: sum = lcb_dense_stream_read_avx512(p, length); break;
    case LCB_DENSE_ISA_AVX2: sum = lcb_dense_stream_read_avx2(p, length); break;
    default: {
        const uint64_t *words = (const uint64_t *)(const void *)p;
        sum = 0;
        for (size_t i = 0; i < length / 8; i++) sum += words[i];
        break;
    }
    }
    atomic_fetch_add_explicit(&region->checksum, sum, memory_order_relaxed);
}

uint64_t lcb_dense_stream_read(const void *buffer, size_t bytes, int threads) {
    stream_region region = { (const uint8_t *)buffer, bytes, 0 };
    lcb_threads_run((bytes + STREAM_CHUNK - 1) / STREAM_CHUNK, stream_task, &region, threads);
    return atomic_load(&region.checksum);
}

void lcb_dense_fill_random_f16(uint16_t *destination, size_t count, uint64_t seed) {
    uint64_t state = seed * 0x9e3779b97f4a7c15ull + 0x2545f4914f6cdd1dull;
    for (size_t i = 0; i < count; i++) {
        // splitmix64
        uint64_t z = (state += 0x9e3779b97f4a7c15ull);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        z ^= z >> 31;
        // Exponents 6..9 (2⁻⁹ … 2⁻⁶·(2−2⁻¹⁰)): weight-sized normals, random mantissa and sign.
        const uint16_t sign = (uint16_t)((z >> 63) << 15);
        const uint16_t exponent = (uint16_t)(6 + ((z >> 10) & 3));
        destination[i] = (uint16_t)(sign | (exponent << 10) | (z & 0x3ff));
    }
}
