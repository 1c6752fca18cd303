// Packed-weight linear kernels (see include/quant_kernels.h). The AVX2 path is compiled for that
// target only and chosen at run time; the portable reference lives in Swift (Quantization).
#include "quant_kernels.h"
#include "CKernels.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

int lcb_quant_linear_supported(int bits, long in, long group_size) {
#if defined(__x86_64__)
    static int avx2 = -1;
    if (avx2 < 0) avx2 = lcb_cpu_has_avx2() && __builtin_cpu_supports("f16c");
    return avx2 && (bits == 2 || bits == 4 || bits == 8) && in % 8 == 0 && group_size % 8 == 0;
#else
    (void)bits; (void)in; (void)group_size;
    return 0;
#endif
}

void lcb_quant_group_sums(const float *x, long rows, long in, long group_size, long groups_per_row,
                          float *group_sums) {
    for (long r = 0; r < rows; r++) {
        const float *xr = x + r * in;
        for (long g = 0; g < groups_per_row; g++) {
            long lo = g * group_size, hi = lo + group_size < in ? lo + group_size : in;
            float s = 0;
            for (long i = lo; i < hi; i++) s += xr[i];
            group_sums[r * groups_per_row + g] = s;
        }
    }
}

#if defined(__x86_64__)

__attribute__((target("avx2,fma,f16c")))
static inline float hsum256(__m256 v) {
    __m128 lo = _mm256_castps256_ps128(v), hi = _mm256_extractf128_ps(v, 1);
    __m128 s = _mm_add_ps(lo, hi);
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

// Eight codes starting at column i of a row (i a multiple of 8), as floats.
__attribute__((target("avx2,fma,f16c")))
__attribute__((always_inline))
static inline __m256 codes8(const uint32_t *row, long i, const int bits) {
    if (bits == 4) {
        const __m256i shifts = _mm256_setr_epi32(0, 4, 8, 12, 16, 20, 24, 28);
        __m256i w = _mm256_set1_epi32((int)row[i >> 3]);
        return _mm256_cvtepi32_ps(_mm256_and_si256(_mm256_srlv_epi32(w, shifts), _mm256_set1_epi32(0xF)));
    } else if (bits == 2) {
        const __m256i lo = _mm256_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14);
        const __m256i hi = _mm256_setr_epi32(16, 18, 20, 22, 24, 26, 28, 30);
        __m256i w = _mm256_set1_epi32((int)row[i >> 4]);
        return _mm256_cvtepi32_ps(_mm256_and_si256(_mm256_srlv_epi32(w, (i & 8) ? hi : lo), _mm256_set1_epi32(0x3)));
    } else {
        __m128i b = _mm_loadl_epi64((const __m128i *)(row + (i >> 2)));
        return _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(b));
    }
}

#define LCB_ROW_BLOCK 4

__attribute__((target("avx2,fma,f16c"), always_inline))
static inline void linear_avx2(const float *x, long rows, long in, const uint32_t *words, long row_words,
                           const int bits, const uint16_t *scales, const uint8_t *zeros, long group_size,
                           long groups_per_row, long param_stride, const float *group_sums, float *y,
                           long out, long o_begin, long o_end) {
    for (long o = o_begin; o < o_end; o++) {
        const uint32_t *row = words + o * row_words;
        const uint16_t *sc = scales + o * param_stride;
        const uint8_t *zp = zeros + o * param_stride;
        for (long r0 = 0; r0 < rows; r0 += LCB_ROW_BLOCK) {
            long nr = rows - r0 < LCB_ROW_BLOCK ? rows - r0 : LCB_ROW_BLOCK;
            __m256 total[LCB_ROW_BLOCK];
            float correction[LCB_ROW_BLOCK];
            for (long k = 0; k < LCB_ROW_BLOCK; k++) { total[k] = _mm256_setzero_ps(); correction[k] = 0; }
            for (long g = 0; g < groups_per_row; g++) {
                long lo = g * group_size, hi = lo + group_size < in ? lo + group_size : in;
                float s = _cvtsh_ss(sc[g]);
                float sz = s * (float)zp[g];
                __m256 acc[LCB_ROW_BLOCK];
                for (long k = 0; k < LCB_ROW_BLOCK; k++) acc[k] = _mm256_setzero_ps();
                if (nr == LCB_ROW_BLOCK) {
                    const float *x0 = x + r0 * in, *x1 = x0 + in, *x2 = x1 + in, *x3 = x2 + in;
                    for (long i = lo; i < hi; i += 8) {
                        __m256 q = codes8(row, i, bits);
                        acc[0] = _mm256_fmadd_ps(q, _mm256_loadu_ps(x0 + i), acc[0]);
                        acc[1] = _mm256_fmadd_ps(q, _mm256_loadu_ps(x1 + i), acc[1]);
                        acc[2] = _mm256_fmadd_ps(q, _mm256_loadu_ps(x2 + i), acc[2]);
                        acc[3] = _mm256_fmadd_ps(q, _mm256_loadu_ps(x3 + i), acc[3]);
                    }
                } else if (nr == 1) {
                    // One input row (decode): four independent accumulators hide the FMA latency.
                    const float *x0 = x + r0 * in;
                    __m256 a1 = _mm256_setzero_ps(), a2 = _mm256_setzero_ps(), a3 = _mm256_setzero_ps();
                    long i = lo;
                    for (; i + 32 <= hi; i += 32) {
                        acc[0] = _mm256_fmadd_ps(codes8(row, i, bits), _mm256_loadu_ps(x0 + i), acc[0]);
                        a1 = _mm256_fmadd_ps(codes8(row, i + 8, bits), _mm256_loadu_ps(x0 + i + 8), a1);
                        a2 = _mm256_fmadd_ps(codes8(row, i + 16, bits), _mm256_loadu_ps(x0 + i + 16), a2);
                        a3 = _mm256_fmadd_ps(codes8(row, i + 24, bits), _mm256_loadu_ps(x0 + i + 24), a3);
                    }
                    for (; i < hi; i += 8)
                        acc[0] = _mm256_fmadd_ps(codes8(row, i, bits), _mm256_loadu_ps(x0 + i), acc[0]);
                    acc[0] = _mm256_add_ps(_mm256_add_ps(acc[0], a1), _mm256_add_ps(a2, a3));
                } else {
                    for (long i = lo; i < hi; i += 8) {
                        __m256 q = codes8(row, i, bits);
                        for (long k = 0; k < nr; k++)
                            acc[k] = _mm256_fmadd_ps(q, _mm256_loadu_ps(x + (r0 + k) * in + i), acc[k]);
                    }
                }
                __m256 sv = _mm256_set1_ps(s);
                for (long k = 0; k < nr; k++) {
                    total[k] = _mm256_fmadd_ps(sv, acc[k], total[k]);
                    correction[k] += sz * group_sums[(r0 + k) * groups_per_row + g];
                }
            }
            for (long k = 0; k < nr; k++) y[(r0 + k) * out + o] = hsum256(total[k]) - correction[k];
        }
    }
}

// One copy of the kernel per code width, so the unpacking is specialised at compile time.
__attribute__((target("avx2,fma,f16c")))
void lcb_quant_linear_avx2(const float *x, long rows, long in, const uint32_t *words, long row_words,
                           int bits, const uint16_t *scales, const uint8_t *zeros, long group_size,
                           long groups_per_row, long param_stride, const float *group_sums, float *y,
                           long out, long o_begin, long o_end) {
    switch (bits) {
    case 2: linear_avx2(x, rows, in, words, row_words, 2, scales, zeros, group_size, groups_per_row,
                        param_stride, group_sums, y, out, o_begin, o_end); break;
    case 4: linear_avx2(x, rows, in, words, row_words, 4, scales, zeros, group_size, groups_per_row,
                        param_stride, group_sums, y, out, o_begin, o_end); break;
    default: linear_avx2(x, rows, in, words, row_words, 8, scales, zeros, group_size, groups_per_row,
                         param_stride, group_sums, y, out, o_begin, o_end); break;
    }
}

// 2- and 4-bit codes, byte-spread form. Byte k of a block of 8 bytes in a KIVI-packed row holds
// the codes of columns k*c + j (c = 8/b codes per byte) at bits [b*j, b*j+b). Widening the 8 bytes
// to 32-bit lanes once and shifting by b*j with a fixed shift gives the 8 codes of columns
// {k*c + j}, which meet inputs permuted so that those columns are contiguous
// (lcb_quant_permute_spread). This avoids variable shifts and reads each byte once.
__attribute__((target("avx2,fma,f16c"), always_inline))
static inline __m256 spread_codes(__m256i v, int j, const int bits) {
    __m256i shifted = j == 0 ? v : _mm256_srli_epi32(v, bits * j);
    if (j == 8 / bits - 1) return _mm256_cvtepi32_ps(shifted);  // the top codes need no mask
    return _mm256_cvtepi32_ps(_mm256_and_si256(shifted, _mm256_set1_epi32((1 << bits) - 1)));
}

// One input row at a time (decode GEMV); four independent FMA chains held in registers.
__attribute__((target("avx2,fma,f16c"), always_inline))
static inline void linear_spread(const float *xp, long rows, long in, const uint32_t *words, long row_words,
                                 const int bits, const uint16_t *scales, const uint8_t *zeros, long group_size,
                                 long groups_per_row, long param_stride, const float *group_sums, float *y,
                                 long out, long o_begin, long o_end) {
    const long block = 8 * (8 / bits);  // columns per 8 bytes
    for (long r = 0; r < rows; r++) {
        const float *x0 = xp + r * in;
        const float *sums = group_sums + r * groups_per_row;
        for (long o = o_begin; o < o_end; o++) {
            const uint8_t *row = (const uint8_t *)(words + o * row_words);
            const uint16_t *sc = scales + o * param_stride;
            const uint8_t *zp = zeros + o * param_stride;
            __m256 total = _mm256_setzero_ps();
            float correction = 0;
            for (long g = 0; g < groups_per_row; g++) {
                long lo = g * group_size, hi = lo + group_size < in ? lo + group_size : in;
                __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
                __m256 a2 = _mm256_setzero_ps(), a3 = _mm256_setzero_ps();
                long i = lo;
                if (bits == 4) {
                    for (; i + 32 <= hi; i += 32) {
                        __m256i v = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(row + i / 2)));
                        __m256i w = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(row + i / 2 + 8)));
                        a0 = _mm256_fmadd_ps(spread_codes(v, 0, 4), _mm256_loadu_ps(x0 + i), a0);
                        a1 = _mm256_fmadd_ps(spread_codes(v, 1, 4), _mm256_loadu_ps(x0 + i + 8), a1);
                        a2 = _mm256_fmadd_ps(spread_codes(w, 0, 4), _mm256_loadu_ps(x0 + i + 16), a2);
                        a3 = _mm256_fmadd_ps(spread_codes(w, 1, 4), _mm256_loadu_ps(x0 + i + 24), a3);
                    }
                }
                for (; i < hi; i += block) {
                    __m256i v = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(row + i * bits / 8)));
                    a0 = _mm256_fmadd_ps(spread_codes(v, 0, bits), _mm256_loadu_ps(x0 + i), a0);
                    a1 = _mm256_fmadd_ps(spread_codes(v, 1, bits), _mm256_loadu_ps(x0 + i + 8), a1);
                    if (bits == 2) {
                        a2 = _mm256_fmadd_ps(spread_codes(v, 2, 2), _mm256_loadu_ps(x0 + i + 16), a2);
                        a3 = _mm256_fmadd_ps(spread_codes(v, 3, 2), _mm256_loadu_ps(x0 + i + 24), a3);
                    }
                }
                float s = _cvtsh_ss(sc[g]);
                __m256 acc = _mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3));
                total = _mm256_fmadd_ps(_mm256_set1_ps(s), acc, total);
                correction += s * (float)zp[g] * sums[g];
            }
            y[r * out + o] = hsum256(total) - correction;
        }
    }
}

__attribute__((target("avx2,fma,f16c")))
void lcb_quant_linear_spread_avx2(const float *xp, long rows, long in, const uint32_t *words, long row_words,
                                  int bits, const uint16_t *scales, const uint8_t *zeros, long group_size,
                                  long groups_per_row, long param_stride, const float *group_sums, float *y,
                                  long out, long o_begin, long o_end) {
    if (bits == 2)
        linear_spread(xp, rows, in, words, row_words, 2, scales, zeros, group_size, groups_per_row, param_stride,
                      group_sums, y, out, o_begin, o_end);
    else
        linear_spread(xp, rows, in, words, row_words, 4, scales, zeros, group_size, groups_per_row, param_stride,
                      group_sums, y, out, o_begin, o_end);
}

#else

void lcb_quant_linear_avx2(const float *x, long rows, long in, const uint32_t *words, long row_words,
                           int bits, const uint16_t *scales, const uint8_t *zeros, long group_size,
                           long groups_per_row, long param_stride, const float *group_sums, float *y,
                           long out, long o_begin, long o_end) {
    (void)x; (void)rows; (void)in; (void)words; (void)row_words; (void)bits; (void)scales; (void)zeros;
    (void)group_size; (void)groups_per_row; (void)param_stride; (void)group_sums; (void)y; (void)out;
    (void)o_begin; (void)o_end;
}

void lcb_quant_linear_spread_avx2(const float *xp, long rows, long in, const uint32_t *words, long row_words,
                                  int bits, const uint16_t *scales, const uint8_t *zeros, long group_size,
                                  long groups_per_row, long param_stride, const float *group_sums, float *y,
                                  long out, long o_begin, long o_end) {
    (void)xp; (void)rows; (void)in; (void)words; (void)row_words; (void)bits; (void)scales; (void)zeros;
    (void)group_size; (void)groups_per_row; (void)param_stride; (void)group_sums; (void)y; (void)out;
    (void)o_begin; (void)o_end;
}

#endif

int lcb_quant_linear_uses_spread(int bits, long in, long group_size) {
    if (!lcb_quant_linear_supported(bits, in, group_size) || (bits != 2 && bits != 4)) return 0;
    long block = 8 * (8 / bits);
    return in % block == 0 && group_size % block == 0;
}

void lcb_quant_permute_spread(const float *x, long rows, long in, int bits, float *xp) {
    const long per_byte = 8 / bits, block = 8 * per_byte;
    for (long r = 0; r < rows; r++) {
        const float *xr = x + r * in;
        float *pr = xp + r * in;
        for (long b0 = 0; b0 + block <= in; b0 += block)
            for (long j = 0; j < per_byte; j++)
                for (long k = 0; k < 8; k++) pr[b0 + j * 8 + k] = xr[b0 + k * per_byte + j];
    }
}
