// Unpacking kernels for packed KV blocks and fp16 windows (see include/quant_kernels.h).
// Dequantization (q*s + mn) stays in Swift with separate multiply and add, so the packed path
// and the simulated path perform the same Float32 operations.
#pragma STDC FP_CONTRACT OFF
#include "quant_kernels.h"
#include "CKernels.h"

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

static float half_to_float_scalar(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t exponent = (h >> 10) & 0x1Fu;
    uint32_t mantissa = h & 0x3FFu;
    uint32_t bits;
    if (exponent == 0) {
        if (mantissa == 0) {
            bits = sign;
        } else {  // subnormal: normalise
            int e = -1;
            do { e++; mantissa <<= 1; } while ((mantissa & 0x400u) == 0);
            bits = sign | ((uint32_t)(127 - 15 - e) << 23) | ((mantissa & 0x3FFu) << 13);
        }
    } else if (exponent == 0x1F) {
        bits = sign | 0x7F800000u | (mantissa << 13);
    } else {
        bits = sign | ((exponent + 112u) << 23) | (mantissa << 13);
    }
    float f;
    __builtin_memcpy(&f, &bits, sizeof f);
    return f;
}

void lcb_quant_half_to_float(const uint16_t *in, float *out, long n) {
    long done = 0;
#if defined(__x86_64__)
    if (has_avx2_f16c()) done = half_to_float_f16c(in, out, n);
#endif
    for (long i = done; i < n; i++) out[i] = half_to_float_scalar(in[i]);
}
