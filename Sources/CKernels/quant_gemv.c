// Packed-weight GEMV (one input row: decode) that streams 2-, 4- and 8-bit codes at memory speed.
// See include/quant_kernels.h for the contract and docs/performance.md for the measurements.
//
// The codes stay in the stored KIVI layout. A run of 16 bytes of a weight row holds c = 8/b codes
// per byte, 16·c columns in all: byte k holds the codes of columns k·c + j (j < c) at bits
// [b·j, b·j + b). Widening the 16 bytes to 16 dword lanes once (vpmovzxbd), then shifting every
// lane right by b·j and masking, gives the codes of columns {k·c + j : k < 16} as integers, which
// vcvtdq2ps makes exact floats. Instead of moving the codes into column order, the input row is
// permuted once per call so that those 16 columns sit next to each other (lcb_quant_gemv_permute):
// one permutation of `in` floats replaces a shuffle per weight vector.
//
// 4-bit codes whose groups cover whole 128-column runs go 64 bytes at a time instead: the 16 words
// are the lanes (c = 8 codes per lane, lane k holding columns 8k + j), and vpermps through the
// table 0.0 … 15.0 turns (lane >> 4j) into floats directly, since it reads only the low 4 bits of
// each index (measured: ~15% more GB/s per core than the byte lanes, 29 vs 25).
//
// Per output row and group g: two 16-lane accumulators take the FMAs q·x of the group's vectors in
// turn (vector t of the group goes to accumulator t mod 2), are added, and the sum enters the row's
// 16-lane total with one FMA by the group's step s_g. The zero-point term s_g·z_g·Σ_{i∈g} x_i is a
// scalar FMA chain per row over the groups, with Σ_{i∈g} x_i summed in column order. At the end:
// y = hsum(total) − correction, the horizontal sum in the fixed tree order lanes (i, i+8), (i, i+4),
// (i, i+2), (0, 1). Every output row is one fixed sequence of operations, whatever the tile, the
// chunk or the thread that computes it; the scalar twin below performs the same sequence with
// fmaf, so it matches the AVX-512 kernel bit for bit.
#include "quant_kernels.h"
#include "dense_kernels.h"
#include "threads_pool.h"
#include "half_internal.h"

#include <math.h>
#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

typedef struct {
    const float *xp;           // permuted input row [in]
    const float *group_sums;   // [groups] in column order
    long in;
    const uint8_t *codes;      // [out, row_bytes]
    long row_bytes;
    int bits;
    const uint16_t *scales;
    const uint8_t *zeros;
    long group_size;
    long groups;
    long param_stride;
    float *y;
} gemv_job;

/// 4-bit codes whose groups span whole 64-byte runs are read 64 bytes at a time as 16 dword lanes
/// of 8 codes each ("dword lanes"); everything else 16 bytes at a time as 16 byte lanes.
static inline int uses_dword_lanes(int bits, long in, long group_size) {
    return bits == 4 && in % 128 == 0 && (group_size >= in || group_size % 128 == 0);
}

/// Bits per lane (8 or 32) for these parameters.
static inline int lane_bits(int bits, long in, long group_size) {
    return uses_dword_lanes(bits, in, group_size) ? 32 : 8;
}

/// Columns per run of 16 byte lanes (the smallest unit; shapes must be multiples of it).
static inline long run_columns(int bits) { return 16 * (8 / bits); }

int lcb_quant_gemv_supported(int isa, int bits, long in, long group_size) {
    if (bits != 2 && bits != 4 && bits != 8) return 0;
    if (in <= 0 || group_size <= 0) return 0;
    const long columns = run_columns(bits);
    if (in % columns != 0 || (group_size < in && group_size % columns != 0)) return 0;
    if (isa == LCB_DENSE_ISA_SCALAR) return 1;
    if (isa == LCB_DENSE_ISA_AVX512 || isa == LCB_DENSE_ISA_BEST)
        return lcb_dense_isa_supported(LCB_DENSE_ISA_AVX512);
    return 0;
}

void lcb_quant_gemv_permute(const float *x, long in, int bits, long group_size, float *xp) {
    const long c = lane_bits(bits, in, group_size) / bits, columns = 16 * c;
    for (long base = 0; base + columns <= in; base += columns)
        for (long j = 0; j < c; j++)
            for (long k = 0; k < 16; k++) xp[base + 16 * j + k] = x[base + k * c + j];
}

// MARK: - Scalar twin

/// The horizontal sum of 16 lanes in the kernel's tree order.
static inline float tree_sum16(const float *t) {
    float h8[8], h4[4];
    for (int i = 0; i < 8; i++) h8[i] = t[i] + t[i + 8];
    for (int i = 0; i < 4; i++) h4[i] = h8[i] + h8[i + 4];
    const float h2a = h4[0] + h4[2], h2b = h4[1] + h4[3];
    return h2a + h2b;
}

static void gemv_rows_scalar(const gemv_job *job, long o_begin, long o_end) {
    const int b = job->bits, lane = lane_bits(b, job->in, job->group_size), c = lane / b;
    const uint32_t mask = (1u << b) - 1u;
    const long columns = 16 * c;
    for (long o = o_begin; o < o_end; o++) {
        const uint8_t *row = job->codes + o * job->row_bytes;
        const uint16_t *sc = job->scales + o * job->param_stride;
        const uint8_t *zp = job->zeros + o * job->param_stride;
        float total[16] = {0}, correction = 0;
        for (long g = 0; g < job->groups; g++) {
            const long lo = g * job->group_size;
            const long hi = lo + job->group_size < job->in ? lo + job->group_size : job->in;
            float acc[2][16] = {{0}};
            long t = 0;
            for (long base = lo; base < hi; base += columns) {
                const uint8_t *bytes = row + base * b / 8;
                uint32_t lanes[16];
                for (int k = 0; k < 16; k++) {
                    if (lane == 8) lanes[k] = bytes[k];
                    else memcpy(&lanes[k], bytes + 4 * k, 4);  // little-endian, as the stored words
                }
                for (int j = 0; j < c; j++, t++)
                    for (int k = 0; k < 16; k++) {
                        const float q = (float)((lanes[k] >> (b * j)) & mask);
                        acc[t & 1][k] = fmaf(q, job->xp[base + 16 * j + k], acc[t & 1][k]);
                    }
            }
            const float s = lcb_half_bits_to_float(sc[g]);
            for (int k = 0; k < 16; k++) {
                const float a = acc[0][k] + acc[1][k];
                total[k] = fmaf(s, a, total[k]);
            }
            const float sz = s * (float)zp[g];  // exact: 11 × 8 significant bits
            correction = fmaf(sz, job->group_sums[g], correction);
        }
        job->y[o] = tree_sum16(total) - correction;
    }
}

// MARK: - AVX-512

#if defined(__x86_64__)

#define TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx2,fma,f16c")))
#define INLINE static inline __attribute__((always_inline))

/// Rows of a 16-byte run at least this long are prefetched row by row, shorter ones tile by tile
/// (as in the dense kernels).
#define GEMV_LONG_ROW_BYTES 16384L
#define GEMV_ROW_AHEAD 2048L

TARGET INLINE float tree_sum16_avx512(__m512 v) {
    __m256 h8 = _mm256_add_ps(_mm512_castps512_ps256(v), _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1)));
    __m128 h4 = _mm_add_ps(_mm256_castps256_ps128(h8), _mm256_extractf128_ps(h8, 1));
    __m128 h2 = _mm_add_ps(h4, _mm_movehl_ps(h4, h4));
    __m128 h1 = _mm_add_ss(h2, _mm_movehdup_ps(h2));
    return _mm_cvtss_f32(h1);
}

/// Code j of every byte of a widened 16-byte run, as floats.
TARGET INLINE __m512 codes_of(__m512i v, const int j, const int bits) {
    __m512i shifted = j == 0 ? v : _mm512_srli_epi32(v, (unsigned)(bits * j));
    if (j == 8 / bits - 1) return _mm512_cvtepi32_ps(shifted);  // the top code needs no mask
    return _mm512_cvtepi32_ps(_mm512_and_si512(shifted, _mm512_set1_epi32((1 << bits) - 1)));
}

/// Outputs o .. o+R−1 (R ≤ 4): the R weight rows share every input vector.
TARGET INLINE void gemv_tile(const gemv_job *job, long o, const int R, const int bits) {
    const int c = 8 / bits;
    const long columns = 16 * c, in = job->in, row_bytes = job->row_bytes;
    const uint8_t *rows[4];
    for (int r = 0; r < R; r++) rows[r] = job->codes + (o + r) * row_bytes;
    const int long_rows = row_bytes >= GEMV_LONG_ROW_BYTES;
    const int dword_lanes = bits == 4 && uses_dword_lanes(bits, in, job->group_size);
    // The next tile's R rows are one contiguous run: walk it at the pace this tile is consumed
    // (one 64-byte line per 16-byte step of R = 4 rows), so it is in cache when its turn comes.
    const char *next_tile = (const char *)(job->codes + (o + R) * row_bytes);
    __m512 total[4];
    float correction[4];
    for (int r = 0; r < R; r++) { total[r] = _mm512_setzero_ps(); correction[r] = 0; }
    for (long g = 0; g < job->groups; g++) {
        const long lo = g * job->group_size;
        const long hi = lo + job->group_size < in ? lo + job->group_size : in;
        __m512 acc0[4], acc1[4];
        for (int r = 0; r < R; r++) { acc0[r] = _mm512_setzero_ps(); acc1[r] = _mm512_setzero_ps(); }
        long base = lo;
        if (c == 1) {
            // 8-bit: one vector per run, so runs alternate between the accumulators.
            for (; base + 2 * columns <= hi; base += 2 * columns) {
                const long offset = base;  // bytes = columns for 8-bit codes
                if (long_rows) {
                    if ((offset & 63) == 0)
                        for (int r = 0; r < R; r++) _mm_prefetch((const char *)rows[r] + offset + GEMV_ROW_AHEAD, _MM_HINT_T0);
                } else {
                    _mm_prefetch(next_tile + (long)R * offset, _MM_HINT_T0);
                    if (R == 4) _mm_prefetch(next_tile + (long)R * offset + 64, _MM_HINT_T0);
                }
                const __m512 x0 = _mm512_loadu_ps(job->xp + base), x1 = _mm512_loadu_ps(job->xp + base + 16);
                for (int r = 0; r < R; r++) {
                    __m512 q0 = _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(rows[r] + offset))));
                    __m512 q1 = _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(rows[r] + offset + 16))));
                    acc0[r] = _mm512_fmadd_ps(q0, x0, acc0[r]);
                    acc1[r] = _mm512_fmadd_ps(q1, x1, acc1[r]);
                }
            }
            if (base < hi) {
                const __m512 x0 = _mm512_loadu_ps(job->xp + base);
                for (int r = 0; r < R; r++) {
                    __m512 q0 = _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(rows[r] + base))));
                    acc0[r] = _mm512_fmadd_ps(q0, x0, acc0[r]);
                }
            }
        } else if (dword_lanes) {
            // 4-bit, 64 bytes per row and step: dword lane k holds the codes of columns 8k + j at
            // bits [4j, 4j + 4). vpermps reads only the low 4 bits of each index lane, so a
            // permute through the table 0..15 turns (lane >> 4j) into the float of code j with no
            // mask and no conversion.
            const __m512 table = _mm512_setr_ps(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
            for (; base < hi; base += 128) {
                const long offset = base / 2;
                if (long_rows) {
                    for (int r = 0; r < R; r++) _mm_prefetch((const char *)rows[r] + offset + GEMV_ROW_AHEAD, _MM_HINT_T0);
                } else {
                    for (int line = 0; line < R; line++) _mm_prefetch(next_tile + (long)R * offset + 64 * line, _MM_HINT_T0);
                }
                __m512i v[4];
                for (int r = 0; r < R; r++) v[r] = _mm512_loadu_si512((const void *)(rows[r] + offset));
                for (int j = 0; j < 8; j++) {
                    const __m512 xv = _mm512_loadu_ps(job->xp + base + 16 * j);
                    for (int r = 0; r < R; r++) {
                        const __m512 q = _mm512_permutexvar_ps(j == 0 ? v[r] : _mm512_srli_epi32(v[r], (unsigned)(4 * j)), table);
                        if (j & 1) acc1[r] = _mm512_fmadd_ps(q, xv, acc1[r]);
                        else acc0[r] = _mm512_fmadd_ps(q, xv, acc0[r]);
                    }
                }
            }
        } else {
            for (; base < hi; base += columns) {
                const long offset = base * bits / 8;
                if (long_rows) {
                    if ((offset & 63) == 0)
                        for (int r = 0; r < R; r++) _mm_prefetch((const char *)rows[r] + offset + GEMV_ROW_AHEAD, _MM_HINT_T0);
                } else {
                    _mm_prefetch(next_tile + (long)R * offset, _MM_HINT_T0);
                }
                __m512i v[4];
                for (int r = 0; r < R; r++) v[r] = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(rows[r] + offset)));
                for (int j = 0; j < c; j++) {
                    const __m512 xv = _mm512_loadu_ps(job->xp + base + 16 * j);
                    for (int r = 0; r < R; r++) {
                        const __m512 q = codes_of(v[r], j, bits);
                        if (j & 1) acc1[r] = _mm512_fmadd_ps(q, xv, acc1[r]);
                        else acc0[r] = _mm512_fmadd_ps(q, xv, acc0[r]);
                    }
                }
            }
        }
        for (int r = 0; r < R; r++) {
            const long p = (o + r) * job->param_stride + g;
            const float s = _cvtsh_ss(job->scales[p]);
            total[r] = _mm512_fmadd_ps(_mm512_set1_ps(s), _mm512_add_ps(acc0[r], acc1[r]), total[r]);
            const float sz = s * (float)job->zeros[p];
            correction[r] = fmaf(sz, job->group_sums[g], correction[r]);
        }
    }
    for (int r = 0; r < R; r++) job->y[o + r] = tree_sum16_avx512(total[r]) - correction[r];
}

TARGET INLINE void gemv_rows(const gemv_job *job, long o_begin, long o_end, const int bits) {
    long o = o_begin;
    for (; o + 4 <= o_end; o += 4) gemv_tile(job, o, 4, bits);
    for (; o < o_end; o++) gemv_tile(job, o, 1, bits);
}

TARGET static void gemv_rows_avx512(const gemv_job *job, long o_begin, long o_end) {
    switch (job->bits) {
    case 2: gemv_rows(job, o_begin, o_end, 2); break;
    case 4: gemv_rows(job, o_begin, o_end, 4); break;
    default: gemv_rows(job, o_begin, o_end, 8); break;
    }
}

#endif

// MARK: - Threads

typedef void (*gemv_rows_fn)(const gemv_job *job, long o_begin, long o_end);

typedef struct {
    gemv_job job;
    gemv_rows_fn rows;
} gemv_region;

static void gemv_range(void *context, size_t begin, size_t end) {
    const gemv_region *region = (const gemv_region *)context;
    region->rows(&region->job, (long)begin, (long)end);
}

void lcb_quant_gemv(const float *x, long in, const uint32_t *words, long row_words, int bits,
                    const uint16_t *scales, const uint8_t *zeros, long group_size, long groups_per_row,
                    long param_stride, float *y, long out, float *scratch, int isa, int threads) {
    if (out <= 0) return;
    if (isa == LCB_DENSE_ISA_BEST) isa = lcb_dense_isa_supported(LCB_DENSE_ISA_AVX512) ? LCB_DENSE_ISA_AVX512 : LCB_DENSE_ISA_SCALAR;
    float *xp = scratch, *sums = scratch + in;
    lcb_quant_gemv_permute(x, in, bits, group_size, xp);
    lcb_quant_group_sums(x, 1, in, group_size, groups_per_row, sums);
    gemv_region region = {
        .job = { xp, sums, in, (const uint8_t *)words, row_words * 4, bits, scales, zeros, group_size,
                 groups_per_row, param_stride, y },
        .rows = gemv_rows_scalar,
    };
#if defined(__x86_64__)
    if (isa == LCB_DENSE_ISA_AVX512) region.rows = gemv_rows_avx512;
#endif
    if (threads <= 0) threads = lcb_threads_count();
    if (threads == 1 || out * in < (1L << 16) || out < 32) {
        region.rows(&region.job, 0, out);
        return;
    }
    // Chunks of whole 4-row tiles (multiples of 16 outputs, as in the dense kernels), about four
    // per thread, handed out dynamically: a thread the OS deschedules does less of the work.
    lcb_threads_run_ranges((size_t)out, 16, 4, gemv_range, &region, threads);
}
