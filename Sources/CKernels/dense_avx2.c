// AVX2 + FMA + F16C dense linear kernels: 8-lane f32 accumulators.
//
// Same scheme as the AVX-512 kernels with 8 lanes: lane l of y[r, o]'s accumulator sums
// x[r, i]·W[o, i] over i ≡ l (mod 8) in increasing i; the tail is zero-padded into a local
// buffer; then one horizontal reduction (fixed order) and the bias. Tiling never changes that
// sequence, so results do not depend on tiling or threads.
#include "dense_internal.h"
#include "dense_kernels.h"

#if defined(__x86_64__)
#include <immintrin.h>
#include <string.h>

#define TARGET __attribute__((target("avx2,fma,f16c")))
#define INLINE static inline __attribute__((always_inline))

/// Rows of x per tile: 2 rows × 4 weight rows = 8 accumulators leaves room in 16 ymm registers.
#define ROW_TILE 2

/// 8 weights starting at `p` (a pointer to the first element) widened to f32.
TARGET INLINE __m256 load_weights(const void *p, const int dtype) {
    if (dtype == LCB_DENSE_F32) return _mm256_loadu_ps((const float *)p);
    __m128i h = _mm_loadu_si128((const __m128i *)p);
    if (dtype == LCB_DENSE_F16) return _mm256_cvtph_ps(h);
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
}

/// Sum of the 8 lanes in a fixed order: halves, then pairs, then the last two.
TARGET INLINE float reduce(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
    return _mm_cvtss_f32(s);
}

TARGET INLINE void tile(const lcb_dense_job *job, size_t r0, size_t o, const int R, const int O, const int dtype) {
    const size_t in = job->in;
    const size_t element_size = dtype == LCB_DENSE_F32 ? 4 : 2;
    const char *w = (const char *)job->w;
    const float *x = job->x + r0 * in;
    __m256 acc[ROW_TILE][4];
    for (int r = 0; r < R; r++)
        for (int j = 0; j < O; j++) acc[r][j] = _mm256_setzero_ps();

    const size_t main_end = in & ~(size_t)7;
    for (size_t k = 0; k < main_end; k += 8) {
        __m256 wv[4];
        for (int j = 0; j < O; j++) wv[j] = load_weights(w + ((o + j) * in + k) * element_size, dtype);
        for (int r = 0; r < R; r++) {
            __m256 xv = _mm256_loadu_ps(x + r * in + k);
            for (int j = 0; j < O; j++) acc[r][j] = _mm256_fmadd_ps(xv, wv[j], acc[r][j]);
        }
    }
    const size_t tail = in - main_end;
    if (tail) {
        __m256 wv[4];
        for (int j = 0; j < O; j++) {
            _Alignas(32) uint8_t padded[32] = {0};
            memcpy(padded, w + ((o + j) * in + main_end) * element_size, tail * element_size);
            wv[j] = load_weights(padded, dtype);
        }
        for (int r = 0; r < R; r++) {
            _Alignas(32) float padded[8] = {0};
            memcpy(padded, x + r * in + main_end, tail * sizeof(float));
            __m256 xv = _mm256_load_ps(padded);
            for (int j = 0; j < O; j++) acc[r][j] = _mm256_fmadd_ps(xv, wv[j], acc[r][j]);
        }
    }
    for (int r = 0; r < R; r++) {
        float *y = job->y + (r0 + r) * job->out + o;
        for (int j = 0; j < O; j++) {
            float sum = reduce(acc[r][j]);
            if (job->bias) sum += job->bias[o + j];
            y[j] = sum;
        }
    }
}

TARGET INLINE void block(const lcb_dense_job *job, size_t o_begin, size_t o_end, const int dtype) {
    const size_t panel = lcb_dense_panel_outputs(job->in, dtype == LCB_DENSE_F32 ? 4 : 2);
    for (size_t panel_begin = o_begin; panel_begin < o_end; panel_begin += panel) {
        const size_t panel_end = panel_begin + panel < o_end ? panel_begin + panel : o_end;
        for (size_t r = 0; r < job->rows; r += ROW_TILE) {
            const int two = job->rows - r >= 2;
            size_t o = panel_begin;
            for (; o + 4 <= panel_end; o += 4) {
                if (two) tile(job, r, o, 2, 4, dtype); else tile(job, r, o, 1, 4, dtype);
            }
            for (; o < panel_end; o++) {
                if (two) tile(job, r, o, 2, 1, dtype); else tile(job, r, o, 1, 1, dtype);
            }
        }
    }
}

TARGET static void block_f32(const lcb_dense_job *job, size_t b, size_t e) { block(job, b, e, LCB_DENSE_F32); }
TARGET static void block_f16(const lcb_dense_job *job, size_t b, size_t e) { block(job, b, e, LCB_DENSE_F16); }
TARGET static void block_bf16(const lcb_dense_job *job, size_t b, size_t e) { block(job, b, e, LCB_DENSE_BF16); }

lcb_dense_block_fn lcb_dense_block_avx2(int dtype) {
    switch (dtype) {
    case LCB_DENSE_F32: return block_f32;
    case LCB_DENSE_F16: return block_f16;
    case LCB_DENSE_BF16: return block_bf16;
    default: return 0;
    }
}

TARGET uint64_t lcb_dense_stream_read_avx2(const void *buffer, size_t bytes) {
    const uint8_t *p = (const uint8_t *)buffer;
    __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
    size_t i = 0;
    for (; i + 128 <= bytes; i += 128) {
        a0 = _mm256_add_epi64(a0, _mm256_loadu_si256((const __m256i *)(p + i)));
        a1 = _mm256_add_epi64(a1, _mm256_loadu_si256((const __m256i *)(p + i + 32)));
        a2 = _mm256_add_epi64(a2, _mm256_loadu_si256((const __m256i *)(p + i + 64)));
        a3 = _mm256_add_epi64(a3, _mm256_loadu_si256((const __m256i *)(p + i + 96)));
    }
    __m256i s = _mm256_add_epi64(_mm256_add_epi64(a0, a1), _mm256_add_epi64(a2, a3));
    uint64_t lanes[4];
    _mm256_storeu_si256((__m256i *)lanes, s);
    uint64_t sum = lanes[0] + lanes[1] + lanes[2] + lanes[3];
    for (; i < bytes; i++) sum += p[i];
    return sum;
}

#else

lcb_dense_block_fn lcb_dense_block_avx2(int dtype) { (void)dtype; return 0; }
uint64_t lcb_dense_stream_read_avx2(const void *buffer, size_t bytes) { (void)buffer; (void)bytes; return 0; }

#endif
