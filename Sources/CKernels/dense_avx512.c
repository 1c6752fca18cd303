// AVX-512 dense linear kernels (F, BW, VL): 16-lane f32 accumulators, masked tails.
//
// Each output element y[r, o] has one accumulator vector; lane l sums x[r, i]·W[o, i] over
// i ≡ l (mod 16) in increasing i with FMA, the tail is a masked FMA that leaves unused lanes
// untouched, then one horizontal reduction and the bias. Tiles only decide how many of these
// independent chains run side by side, so the result does not depend on tiling or threads.
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

/// y[r, o + j] for r < R, j < O over inputs [k_begin, k_end): R rows of x share each weight load,
/// O weight rows share each x load.
///
/// Inputs longer than `LCB_DENSE_K_BLOCK` are done in blocks so a row tile of x stays in L1; the
/// accumulator vectors of a block that is not the last are parked in `saved[j·4 + r]` and resumed
/// by the next block, so the lane sums see exactly the same FMAs in the same order as unblocked.
TARGET INLINE void tile(const lcb_dense_job *job, size_t r0, size_t o, const int R, const int O, const int dtype,
                        size_t k_begin, size_t k_end, __m512 *saved, const int first, const int last) {
    const size_t in = job->in;
    const size_t element_size = dtype == LCB_DENSE_F32 ? 4 : 2;
    const float *x = job->x + r0 * in;
    __m512 acc[LCB_DENSE_ROW_TILE][4];
    for (int r = 0; r < R; r++)
        for (int j = 0; j < O; j++) acc[r][j] = first ? _mm512_setzero_ps() : saved[j * 4 + r];

    const size_t main_end = last ? in & ~(size_t)15 : k_end;
    for (size_t k = k_begin; k < main_end; k += 16) {
        __m512 wv[4];
        if (R == 1) {
            // Decode streams each weight once. Short rows: the O rows of this tile and of the next
            // are each contiguous, so walk through the next tile linearly at the pace this one is consumed:
            // it is in cache when its turn comes, and the walk never stops at a 4 KiB page boundary
            // as the hardware prefetcher does (measured: ~25% more GB/s per core than prefetching
            // a fixed distance ahead in each row).
            if (in * element_size < LCB_DENSE_LONG_ROW_BYTES) {
                const char *next_tile = (const char *)job->w + (o + O) * in * element_size;
                for (int line = 0; line < O * 16 * (int)element_size; line += 64)
                    _mm_prefetch(next_tile + (size_t)O * k * element_size + line, _MM_HINT_T0);
            } else {
                // Rows spanning several pages stream well on their own; a fixed distance ahead
                // in each row is enough (and the next tile would be too far ahead).
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
    if (!last) {
        for (int r = 0; r < R; r++)
            for (int j = 0; j < O; j++) saved[j * 4 + r] = acc[r][j];
        return;
    }
    if (main_end < in) {
        const __mmask16 mask = (__mmask16)((1u << (in - main_end)) - 1u);
        __m512 wv[4];
        for (int j = 0; j < O; j++) wv[j] = load_weights_masked(job->w, (o + j) * in + main_end, mask, dtype);
        for (int r = 0; r < R; r++) {
            __m512 xv = _mm512_maskz_loadu_ps(mask, x + r * in + main_end);
            for (int j = 0; j < O; j++) acc[r][j] = _mm512_mask3_fmadd_ps(xv, wv[j], acc[r][j], mask);
        }
    }
    for (int r = 0; r < R; r++) {
        float *y = job->y + (r0 + r) * job->out + o;
        for (int j = 0; j < O; j++) {
            float sum = _mm512_reduce_add_ps(acc[r][j]);
            if (job->bias) sum += job->bias[o + j];
            y[j] = sum;
        }
    }
}

/// `tile` with the row count and the block position as compile-time constants (the compiler keeps
/// the accumulators in registers only when it can see them).
TARGET INLINE void tile_rows_at(const lcb_dense_job *job, size_t r0, size_t rows, size_t o, const int O, const int dtype,
                                size_t k_begin, size_t k_end, __m512 *saved, const int first, const int last) {
    switch (rows) {
    case 1: tile(job, r0, o, 1, O, dtype, k_begin, k_end, saved, first, last); break;
    case 2: tile(job, r0, o, 2, O, dtype, k_begin, k_end, saved, first, last); break;
    case 3: tile(job, r0, o, 3, O, dtype, k_begin, k_end, saved, first, last); break;
    default: tile(job, r0, o, 4, O, dtype, k_begin, k_end, saved, first, last); break;
    }
}

TARGET INLINE void tile_rows(const lcb_dense_job *job, size_t r0, size_t rows, size_t o, const int O, const int dtype,
                             size_t k_begin, size_t k_end, __m512 *saved) {
    const int first = k_begin == 0, last = k_end == job->in;
    if (first && last) tile_rows_at(job, r0, rows, o, O, dtype, k_begin, k_end, saved, 1, 1);
    else if (first) tile_rows_at(job, r0, rows, o, O, dtype, k_begin, k_end, saved, 1, 0);
    else if (last) tile_rows_at(job, r0, rows, o, O, dtype, k_begin, k_end, saved, 0, 1);
    else tile_rows_at(job, r0, rows, o, O, dtype, k_begin, k_end, saved, 0, 0);
}

/// Outputs [o_begin, o_end) for every row: panels of weights that stay in L2, row tiles of x that
/// stream past each panel, input blocks that keep the row tile in L1.
TARGET INLINE void block(const lcb_dense_job *job, size_t o_begin, size_t o_end, const int dtype) {
    const size_t in = job->in;
    const size_t panel = lcb_dense_panel_outputs(in, dtype == LCB_DENSE_F32 ? 4 : 2);
    // Parked accumulators, 4 row vectors per output; only needed when the input is blocked, where
    // the panel has at most LCB_DENSE_PANEL_BYTES / (2·LCB_DENSE_K_BLOCK) outputs.
    __m512 saved[LCB_DENSE_PANEL_BYTES / (2 * LCB_DENSE_K_BLOCK) * 4];
    // One row streams its weights best unblocked; blocking would not change the result.
    const size_t k_step = in > LCB_DENSE_K_BLOCK && job->rows > 1 ? LCB_DENSE_K_BLOCK : (in ? in : 1);
    for (size_t panel_begin = o_begin; panel_begin < o_end; panel_begin += panel) {
        const size_t panel_end = panel_begin + panel < o_end ? panel_begin + panel : o_end;
        for (size_t r = 0; r < job->rows; r += LCB_DENSE_ROW_TILE) {
            const size_t rows = job->rows - r < LCB_DENSE_ROW_TILE ? job->rows - r : LCB_DENSE_ROW_TILE;
            size_t k = 0;
            do {
                const size_t k_end = in - k > k_step ? k + k_step : in;
                size_t o = panel_begin;
                for (; o + 4 <= panel_end; o += 4)
                    tile_rows(job, r, rows, o, 4, dtype, k, k_end, saved + (o - panel_begin) * 4);
                for (; o < panel_end; o++)
                    tile_rows(job, r, rows, o, 1, dtype, k, k_end, saved + (o - panel_begin) * 4);
                k = k_end;
            } while (k < in);
        }
    }
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
