// Unpacking kernels for packed KV blocks and fp16 windows (see include/quant_kernels.h).
// Dequantization (q*s + mn) stays in Swift with separate multiply and add, so the packed path
// and the simulated path perform the same Float32 operations.
#pragma STDC FP_CONTRACT OFF
#include "quant_kernels.h"
#include "CKernels.h"
#include "half_internal.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

static int has_avx2_f16c(void) {
#if defined(__x86_64__)
    static int cached = -1;
    if (cached < 0) cached = lcb_cpu_has_avx2() && __builtin_cpu_supports("f16c");
    return cached;
#else
    return 0;
#endif
}

static void unpack_scalar(const uint32_t *words, long begin, long count, int bits, float *out) {
    const long per_word = 32 / bits;
    const uint32_t mask = (1u << bits) - 1u;
    for (long i = begin; i < count; i++) {
        out[i] = (float)((words[i / per_word] >> (bits * (i % per_word))) & mask);
    }
}

#if defined(__x86_64__)
__attribute__((target("avx2,fma,f16c")))
static long unpack_avx2(const uint32_t *words, long count, int bits, float *out) {
    long i = 0;
    if (bits == 4) {
        const __m256i shifts = _mm256_setr_epi32(0, 4, 8, 12, 16, 20, 24, 28);
        const __m256i mask = _mm256_set1_epi32(0xF);
        for (; i + 8 <= count; i += 8) {
            __m256i w = _mm256_set1_epi32((int)words[i >> 3]);
            _mm256_storeu_ps(out + i, _mm256_cvtepi32_ps(_mm256_and_si256(_mm256_srlv_epi32(w, shifts), mask)));
        }
    } else if (bits == 2) {
        const __m256i lo = _mm256_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14);
        const __m256i hi = _mm256_setr_epi32(16, 18, 20, 22, 24, 26, 28, 30);
        const __m256i mask = _mm256_set1_epi32(0x3);
        for (; i + 16 <= count; i += 16) {
            __m256i w = _mm256_set1_epi32((int)words[i >> 4]);
            _mm256_storeu_ps(out + i, _mm256_cvtepi32_ps(_mm256_and_si256(_mm256_srlv_epi32(w, lo), mask)));
            _mm256_storeu_ps(out + i + 8, _mm256_cvtepi32_ps(_mm256_and_si256(_mm256_srlv_epi32(w, hi), mask)));
        }
    } else if (bits == 8) {
        const uint8_t *bytes = (const uint8_t *)words;  // little-endian: code j of a word = byte j
        for (; i + 8 <= count; i += 8) {
            __m128i b = _mm_loadl_epi64((const __m128i *)(bytes + i));
            _mm256_storeu_ps(out + i, _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(b)));
        }
    }
    return i;
}

__attribute__((target("avx2,fma,f16c")))
static long half_to_float_f16c(const uint16_t *in, float *out, long n) {
    long i = 0;
    for (; i + 8 <= n; i += 8) {
        __m128i h = _mm_loadu_si128((const __m128i *)(in + i));
        _mm256_storeu_ps(out + i, _mm256_cvtph_ps(h));
    }
    return i;
}
#endif

void lcb_quant_unpack_codes(const uint32_t *words, long count, int bits, float *out) {
    long done = 0;
#if defined(__x86_64__)
    if (has_avx2_f16c()) done = unpack_avx2(words, count, bits, out);
#endif
    unpack_scalar(words, done, count, bits, out);
}

void lcb_quant_half_to_float(const uint16_t *in, float *out, long n) {
    long done = 0;
#if defined(__x86_64__)
    if (has_avx2_f16c()) done = half_to_float_f16c(in, out, n);
#endif
    for (long i = done; i < n; i++) out[i] = lcb_half_bits_to_float(in[i]);
}

// ---------------------------------------------------------------- fused dequantization (KV blocks)
// x = (float)code * s + mn, multiply then add (never fused: the simulated path in Swift performs the
// same two roundings). Codes are KIVI-packed in element order starting at element `first` of the
// run `words`; s and mn are fp16.

static inline uint32_t code_at(const uint32_t *words, long index, int bits) {
    const long per_word = 32 / bits;
    return (words[index / per_word] >> (bits * (index % per_word))) & ((1u << bits) - 1u);
}

#if defined(__x86_64__)
// Eight codes starting at element index (a multiple of 8; bits 2, 4 or 8) as floats.
__attribute__((target("avx2,fma,f16c"), always_inline))
static inline __m256 codes8_at(const uint32_t *words, long index, const int bits) {
    if (bits == 4) {
        const __m256i shifts = _mm256_setr_epi32(0, 4, 8, 12, 16, 20, 24, 28);
        __m256i w = _mm256_set1_epi32((int)words[index >> 3]);
        return _mm256_cvtepi32_ps(_mm256_and_si256(_mm256_srlv_epi32(w, shifts), _mm256_set1_epi32(0xF)));
    } else if (bits == 2) {
        const __m256i lo = _mm256_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14);
        const __m256i hi = _mm256_setr_epi32(16, 18, 20, 22, 24, 26, 28, 30);
        __m256i w = _mm256_set1_epi32((int)words[index >> 4]);
        return _mm256_cvtepi32_ps(_mm256_and_si256(_mm256_srlv_epi32(w, (index & 8) ? hi : lo), _mm256_set1_epi32(0x3)));
    } else {
        __m128i b = _mm_loadl_epi64((const __m128i *)((const uint8_t *)words + index));
        return _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(b));
    }
}

__attribute__((target("avx2,fma,f16c"), always_inline))
static inline long contiguous_avx2(const uint32_t *words, const int bits, long first, long n, long group_size,
                                   const uint16_t *scales, const uint16_t *minima, float *out) {
    long i = 0;
    for (long g = 0; i + group_size <= n; g++) {
        __m256 s = _mm256_set1_ps(_cvtsh_ss(scales[g])), m = _mm256_set1_ps(_cvtsh_ss(minima[g]));
        for (long end = i + group_size; i < end; i += 8) {
            __m256 q = codes8_at(words, first + i, bits);
            _mm256_storeu_ps(out + i, _mm256_add_ps(_mm256_mul_ps(q, s), m));
        }
    }
    return i;
}

__attribute__((target("avx2,fma,f16c")))
static long contiguous_dispatch(const uint32_t *words, int bits, long first, long n, long group_size,
                                const uint16_t *scales, const uint16_t *minima, float *out) {
    switch (bits) {
    case 2: return contiguous_avx2(words, 2, first, n, group_size, scales, minima, out);
    case 4: return contiguous_avx2(words, 4, first, n, group_size, scales, minima, out);
    default: return contiguous_avx2(words, 8, first, n, group_size, scales, minima, out);
    }
}

__attribute__((target("avx2,fma,f16c"), always_inline))
static inline void channels_avx2(const uint32_t *words, const int bits, long first, long rows, long width,
                                 long rows_per_group, const uint16_t *scales, const uint16_t *minima, float *out) {
    for (long r = 0; r < rows; r++) {
        const uint16_t *s = scales + (r / rows_per_group) * width;
        const uint16_t *m = minima + (r / rows_per_group) * width;
        float *o = out + r * width;
        for (long j = 0; j < width; j += 8) {
            __m256 q = codes8_at(words, first + r * width + j, bits);
            __m256 sv = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(s + j)));
            __m256 mv = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(m + j)));
            _mm256_storeu_ps(o + j, _mm256_add_ps(_mm256_mul_ps(q, sv), mv));
        }
    }
}

__attribute__((target("avx2,fma,f16c")))
static void channels_dispatch(const uint32_t *words, int bits, long first, long rows, long width,
                              long rows_per_group, const uint16_t *scales, const uint16_t *minima, float *out) {
    switch (bits) {
    case 2: channels_avx2(words, 2, first, rows, width, rows_per_group, scales, minima, out); break;
    case 4: channels_avx2(words, 4, first, rows, width, rows_per_group, scales, minima, out); break;
    default: channels_avx2(words, 8, first, rows, width, rows_per_group, scales, minima, out); break;
    }
}
#endif

void lcb_quant_dequant_contiguous(const uint32_t *words, int bits, long first, long n, long group_size,
                                  const uint16_t *scales, const uint16_t *minima, float *out) {
    long done = 0;
#if defined(__x86_64__)
    if (has_avx2_f16c() && bits != 3 && first % 8 == 0 && group_size % 8 == 0)
        done = contiguous_dispatch(words, bits, first, n, group_size, scales, minima, out);
#endif
    for (long i = done; i < n; i++) {
        long g = i / group_size;
        float q = (float)code_at(words, first + i, bits);
        float product = q * lcb_half_bits_to_float(scales[g]);
        out[i] = product + lcb_half_bits_to_float(minima[g]);
    }
}

void lcb_quant_dequant_channels(const uint32_t *words, int bits, long first, long rows, long width,
                                long rows_per_group, const uint16_t *scales, const uint16_t *minima, float *out) {
#if defined(__x86_64__)
    if (has_avx2_f16c() && bits != 3 && first % 8 == 0 && width % 8 == 0) {
        channels_dispatch(words, bits, first, rows, width, rows_per_group, scales, minima, out);
        return;
    }
#endif
    for (long r = 0; r < rows; r++) {
        long p = (r / rows_per_group) * width;
        for (long j = 0; j < width; j++) {
            float q = (float)code_at(words, first + r * width + j, bits);
            float product = q * lcb_half_bits_to_float(scales[p + j]);
            out[r * width + j] = product + lcb_half_bits_to_float(minima[p + j]);
        }
    }
}
