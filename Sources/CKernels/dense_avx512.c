// AVX-512 dense linear kernels (F, BW, VL): 16-lane f32 accumulators, masked tails.
//
// Each output element y[r, o] is summed per input block of 2048: one accumulator vector whose
// lane l sums x[r, i]·W[o, i] over i ≡ l (mod 16) in increasing i with FMA (the tail is a masked
// FMA that leaves unused lanes untouched), one horizontal reduction; the block sums are added in
// order, then the bias. Tiles only decide how many of these independent chains run side by side,
// so the result does not depend on tiling, rows or threads.
#include "dense_internal.h"
#include "dense_kernels.h"

#if defined(__x86_64__)
#include <immintrin.h>

#define TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx2,fma,f16c")))
#define INLINE static inline __attribute__((always_inline))

/// 16 weights starting at element `index`, widened to f32.
TARGET INLINE __m512 load_weights(const void *w, size_t index, const int dtype) {
    if (dtype == LCB_DENSE_F32) return _mm512_loadu_ps((const float *)w + index);
    __m256i h = _mm256_loadu_si256((const __m256i *)((const uint16_t *)w + index));
    if (dtype == LCB_DENSE_F16) return _mm512_cvtph_ps(h);
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
}

/// The first lanes of `mask` weights from `index`, zeros elsewhere; never touches masked-off memory.
TARGET INLINE __m512 load_weights_masked(const void *w, size_t index, __mmask16 mask, const int dtype) {
    if (dtype == LCB_DENSE_F32) return _mm512_maskz_loadu_ps(mask, (const float *)w + index);
    __m256i h = _mm256_maskz_loadu_epi16(mask, (const uint16_t *)w + index);
    if (dtype == LCB_DENSE_F16) return _mm512_cvtph_ps(h);
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
}

/// y[r, o + j] for r < R, j < O over the inputs [k_begin, k_end): R rows of x share each weight
/// load, O weight rows share each x load.
///
/// The inputs are summed in blocks of `LCB_DENSE_K_BLOCK`: per block a 16-lane FMA chain, one
/// horizontal sum, and the block sums added in order (the first assigned, not added to 0). A call
/// that stops before the end leaves the running sum in y and the next call resumes from it, which
/// is exact, so one call over all inputs (decode) and one call per block (prefill) give the same bits.
TARGET INLINE void tile(const lcb_dense_job *job, size_t r0, size_t o, const int R, const int O, const int dtype,
                        size_t k_begin, size_t k_end) {
    const size_t in = job->in;
    const size_t element_size = dtype == LCB_DENSE_F32 ? 4 : 2;
    const float *x = job->x + r0 * in;
    float *y = job->y + r0 * job->out + o;
    float sums[LCB_DENSE_ROW_TILE][4];
    for (int r = 0; r < R; r++)
        for (int j = 0; j < O; j++) sums[r][j] = k_begin == 0 ? 0.0f : y[r * job->out + j];

    for (size_t block = k_begin; block < k_end; block += LCB_DENSE_K_BLOCK) {
        const size_t block_end = k_end - block > LCB_DENSE_K_BLOCK ? block + LCB_DENSE_K_BLOCK : k_end;
        const size_t main_end = block_end == in ? in & ~(size_t)15 : block_end;
        __m512 acc[LCB_DENSE_ROW_TILE][4];
        for (int r = 0; r < R; r++)
            for (int j = 0; j < O; j++) acc[r][j] = _mm512_setzero_ps();
        for (size_t k = block; k < main_end; k += 16) {
            __m512 wv[4];
            if (R == 1) {
                // Decode streams each weight once. Short rows: the O rows of this tile and of the
                // next are each contiguous, so walk through the next tile linearly at the pace this
                // one is consumed: it is in cache when its turn comes, and the walk never stops at a
                // 4 KiB page boundary as the hardware prefetcher does (measured: ~25% more GB/s per
                // core than prefetching a fixed distance ahead in each row).
                if (in * element_size < LCB_DENSE_LONG_ROW_BYTES) {
                    const char *next_tile = (const char *)job->w + (o + O) * in * element_size;
                    for (int line = 0; line < O * 16 * (int)element_size; line += 64)
                        _mm_prefetch(next_tile + (size_t)O * k * element_size + line, _MM_HINT_T0);
                } else {
                    // Rows spanning several pages stream well on their own; a fixed distance
                    // ahead in each row is enough (the next tile would be too far ahead).
                    for (int j = 0; j < O; j++)
                        _mm_prefetch((const char *)job->w + ((o + j) * in + k) * element_size + 2048, _MM_HINT_T0);
                }
            }
            for (int j = 0; j < O; j++) wv[j] = load_weights(job->w, (o + j) * in + k, dtype);
            for (int r = 0; r < R; r++) {
                __m512 xv = _mm512_loadu_ps(x + r * in + k);
                for (int j = 0; j < O; j++) acc[r][j] = _mm512_fmadd_ps(xv, wv[j], acc[r][j]);
            }
        }
        if (main_end < block_end) {
            const __mmask16 mask = (__mmask16)((1u << (block_end - main_end)) - 1u);
            __m512 wv[4];
            for (int j = 0; j < O; j++) wv[j] = load_weights_masked(job->w, (o + j) * in + main_end, mask, dtype);
            for (int r = 0; r < R; r++) {
                __m512 xv = _mm512_maskz_loadu_ps(mask, x + r * in + main_end);
                for (int j = 0; j < O; j++) acc[r][j] = _mm512_mask3_fmadd_ps(xv, wv[j], acc[r][j], mask);
            }
        }
        for (int r = 0; r < R; r++)
            for (int j = 0; j < O; j++) {
                const float partial = _mm512_reduce_add_ps(acc[r][j]);
                sums[r][j] = block == 0 ? partial : sums[r][j] + partial;
            }
    }
    const int last = k_end == in;
    for (int r = 0; r < R; r++)
        for (int j = 0; j < O; j++)
            y[r * job->out + j] = last && job->bias ? sums[r][j] + job->bias[o + j] : sums[r][j];
}

TARGET INLINE void tile_rows(const lcb_dense_job *job, size_t r0, size_t rows, size_t o, const int O, const int dtype,
                             size_t k_begin, size_t k_end) {
    switch (rows) {
    case 1: tile(job, r0, o, 1, O, dtype, k_begin, k_end); break;
    case 2: tile(job, r0, o, 2, O, dtype, k_begin, k_end); break;
    case 3: tile(job, r0, o, 3, O, dtype, k_begin, k_end); break;
    default: tile(job, r0, o, 4, O, dtype, k_begin, k_end); break;
    }
}

/// Outputs [o_begin, o_end) for every row.
///
/// Decode (one row) streams each weight row once over all inputs. Prefill goes input block by
/// input block; within one, panels of weight rows (about 1 MiB) stay in L2 while every row tile of
/// x passes, and a row tile's block of x (4 × 2048 f32 = 32 KiB) stays in L1 across the panel.
TARGET INLINE void block(const lcb_dense_job *job, size_t o_begin, size_t o_end, const int dtype) {
    const size_t in = job->in;
    const size_t k_step = job->rows > 1 && in > LCB_DENSE_K_BLOCK ? LCB_DENSE_K_BLOCK : in;
    const size_t panel = lcb_dense_panel_outputs(k_step ? k_step : 1, dtype == LCB_DENSE_F32 ? 4 : 2);
    size_t k = 0;
    do {
        const size_t k_end = in - k > k_step ? k + k_step : in;
        for (size_t panel_begin = o_begin; panel_begin < o_end; panel_begin += panel) {
            const size_t panel_end = panel_begin + panel < o_end ? panel_begin + panel : o_end;
            for (size_t r = 0; r < job->rows; r += LCB_DENSE_ROW_TILE) {
                const size_t rows = job->rows - r < LCB_DENSE_ROW_TILE ? job->rows - r : LCB_DENSE_ROW_TILE;
                size_t o = panel_begin;
                for (; o + 4 <= panel_end; o += 4) tile_rows(job, r, rows, o, 4, dtype, k, k_end);
                for (; o < panel_end; o++) tile_rows(job, r, rows, o, 1, dtype, k, k_end);
            }
        }
        k = k_end;
    } while (k < in);
}

TARGET static void block_f32(const lcb_dense_job *job, size_t b, size_t e) { block(job, b, e, LCB_DENSE_F32); }
TARGET static void block_f16(const lcb_dense_job *job, size_t b, size_t e) { block(job, b, e, LCB_DENSE_F16); }
TARGET static void block_bf16(const lcb_dense_job *job, size_t b, size_t e) { block(job, b, e, LCB_DENSE_BF16); }

lcb_dense_block_fn lcb_dense_block_avx512(int dtype) {
    switch (dtype) {
    case LCB_DENSE_F32: return block_f32;
    case LCB_DENSE_F16: return block_f16;
    case LCB_DENSE_BF16: return block_bf16;
    default: return 0;
    }
}

TARGET uint64_t lcb_dense_stream_read_avx512(const void *buffer, size_t bytes) {
    const uint8_t *p = (const uint8_t *)buffer;
    __m512i a0 = _mm512_setzero_si512(), a1 = a0, a2 = a0, a3 = a0;
    size_t i = 0;
    for (; i + 256 <= bytes; i += 256) {
        _mm_prefetch((const char *)p + i + LCB_DENSE_PREFETCH_BYTES, _MM_HINT_T0);
        _mm_prefetch((const char *)p + i + LCB_DENSE_PREFETCH_BYTES + 64, _MM_HINT_T0);
        _mm_prefetch((const char *)p + i + LCB_DENSE_PREFETCH_BYTES + 128, _MM_HINT_T0);
        _mm_prefetch((const char *)p + i + LCB_DENSE_PREFETCH_BYTES + 192, _MM_HINT_T0);
        a0 = _mm512_add_epi64(a0, _mm512_loadu_si512(p + i));
        a1 = _mm512_add_epi64(a1, _mm512_loadu_si512(p + i + 64));
        a2 = _mm512_add_epi64(a2, _mm512_loadu_si512(p + i + 128));
        a3 = _mm512_add_epi64(a3, _mm512_loadu_si512(p + i + 192));
    }
    uint64_t sum = (uint64_t)_mm512_reduce_add_epi64(
        _mm512_add_epi64(_mm512_add_epi64(a0, a1), _mm512_add_epi64(a2, a3)));
    for (; i < bytes; i++) sum += p[i];
    return sum;
}

#else

lcb_dense_block_fn lcb_dense_block_avx512(int dtype) { (void)dtype; return 0; }
uint64_t lcb_dense_stream_read_avx512(const void *buffer, size_t bytes) { (void)buffer; (void)bytes; return 0; }

#endif
