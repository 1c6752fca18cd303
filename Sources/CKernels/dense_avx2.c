// AVX2 + FMA + F16C dense linear kernels: 8-lane f32 accumulators.
//
// Same scheme as the AVX-512 kernels with 8 lanes: per input block of 2048, lane l of y[r, o]'s
// accumulator sums x[r, i]·W[o, i] over i ≡ l (mod 8) in increasing i (the tail zero-padded into
// a local buffer), then one horizontal reduction in a fixed order; block sums are added in order,
// then the bias. Tiling never changes that sequence, so results do not depend on tiling or threads.
#include "dense_internal.h"
#include "dense_kernels.h"

#if defined(__x86_64__)
#include <immintrin.h>
#include <string.h>

#define TARGET __attribute__((target("avx2,fma,f16c")))
#define INLINE static inline __attribute__((always_inline))

/// Rows of x per tile: 2 rows × 4 weight rows = 8 accumulators leaves room in 16 ymm registers.
#define ROW_TILE 2

_Static_assert(LCB_DENSE_K_BLOCK % 8 == 0, "input blocks must hold whole 8-lane vectors");

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

/// y[r, o + j] for r < R, j < O over the inputs [k_begin, k_end), summed per input block of
/// `LCB_DENSE_K_BLOCK` exactly as the AVX-512 kernels do (8 lanes instead of 16): the running sum
/// of a call that stops early is left in y and resumed, so decode and prefill give the same bits.
TARGET INLINE void tile(const lcb_dense_job *job, size_t r0, size_t o, const int R, const int O, const int dtype,
                        size_t k_begin, size_t k_end) {
    const size_t in = job->in;
    const size_t element_size = dtype == LCB_DENSE_F32 ? 4 : 2;
    const char *w = (const char *)job->w;
    const float *x = job->x + r0 * in;
    float *y = job->y + r0 * job->out + o;
    float sums[ROW_TILE][4];
    for (int r = 0; r < R; r++)
        for (int j = 0; j < O; j++) sums[r][j] = k_begin == 0 ? 0.0f : y[r * job->out + j];

    for (size_t block = k_begin; block < k_end; block += LCB_DENSE_K_BLOCK) {
        const size_t block_end = k_end - block > LCB_DENSE_K_BLOCK ? block + LCB_DENSE_K_BLOCK : k_end;
        const size_t main_end = block_end == in ? in & ~(size_t)7 : block_end;
        __m256 acc[ROW_TILE][4];
        for (int r = 0; r < R; r++)
            for (int j = 0; j < O; j++) acc[r][j] = _mm256_setzero_ps();
        for (size_t k = block; k < main_end; k += 8) {
            __m256 wv[4];
            if (R == 1 && in * element_size < LCB_DENSE_LONG_ROW_BYTES && (k & 15) == 0) {
                // Decode: walk the next tile linearly (see the AVX-512 kernel), one step per 16 inputs.
                const char *next_tile = w + (o + O) * in * element_size;
                for (int line = 0; line < O * 16 * (int)element_size; line += 64)
                    _mm_prefetch(next_tile + (size_t)O * k * element_size + line, _MM_HINT_T0);
            }
            for (int j = 0; j < O; j++) wv[j] = load_weights(w + ((o + j) * in + k) * element_size, dtype);
            for (int r = 0; r < R; r++) {
                __m256 xv = _mm256_loadu_ps(x + r * in + k);
                for (int j = 0; j < O; j++) acc[r][j] = _mm256_fmadd_ps(xv, wv[j], acc[r][j]);
            }
        }
        const size_t tail = block_end - main_end;
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
        for (int r = 0; r < R; r++)
            for (int j = 0; j < O; j++) {
                const float partial = reduce(acc[r][j]);
                sums[r][j] = block == 0 ? partial : sums[r][j] + partial;
            }
    }
    const int last = k_end == in;
    for (int r = 0; r < R; r++)
        for (int j = 0; j < O; j++)
            y[r * job->out + j] = last && job->bias ? sums[r][j] + job->bias[o + j] : sums[r][j];
}

/// Outputs [o_begin, o_end) for every row, in the same order as the AVX-512 `block`.
TARGET INLINE void block(const lcb_dense_job *job, size_t o_begin, size_t o_end, const int dtype) {
    const size_t in = job->in;
    const size_t k_step = job->rows > 1 && in > LCB_DENSE_K_BLOCK ? LCB_DENSE_K_BLOCK : in;
    const size_t panel = lcb_dense_panel_outputs(k_step ? k_step : 1, dtype == LCB_DENSE_F32 ? 4 : 2);
    size_t k = 0;
    do {
        const size_t k_end = in - k > k_step ? k + k_step : in;
        for (size_t panel_begin = o_begin; panel_begin < o_end; panel_begin += panel) {
            const size_t panel_end = panel_begin + panel < o_end ? panel_begin + panel : o_end;
            for (size_t r = 0; r < job->rows; r += ROW_TILE) {
                const int two = job->rows - r >= 2;
                size_t o = panel_begin;
                for (; o + 4 <= panel_end; o += 4) {
                    if (two) tile(job, r, o, 2, 4, dtype, k, k_end); else tile(job, r, o, 1, 4, dtype, k, k_end);
                }
                for (; o < panel_end; o++) {
                    if (two) tile(job, r, o, 2, 1, dtype, k, k_end); else tile(job, r, o, 1, 1, dtype, k, k_end);
                }
            }
        }
        k = k_end;
    } while (k < in);
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
