#ifndef LCB_DENSE_KERNELS_H
#define LCB_DENSE_KERNELS_H

#include <stddef.h>
#include <stdint.h>

/// Dense linear layers `y[r, o] = Σᵢ x[r, i]·W[o, i] (+ bias[o])`: weights as stored on disk
/// (f32, f16, bf16), activations and accumulation in f32.
///
/// Every output element is a dot product computed with one fixed sequence of operations that
/// depends only on the instruction set and `in_features`, never on the row count, the tile an
/// element falls in, or the thread count: results are bit-identical for 1 or N threads and for a
/// row computed alone or inside a batch.

/// Weight element types (`dtype` arguments).
enum {
    LCB_DENSE_F32 = 0,
    LCB_DENSE_F16 = 1,
    LCB_DENSE_BF16 = 2,
};

/// Instruction-set levels (`isa` arguments). `LCB_DENSE_ISA_BEST` picks the best one the CPU has.
enum {
    LCB_DENSE_ISA_BEST = -1,
    /// Portable C, one accumulator in input order (bit-identical to the Swift reference).
    LCB_DENSE_ISA_SCALAR = 0,
    /// AVX2 + FMA + F16C: 8-lane accumulators.
    LCB_DENSE_ISA_AVX2 = 1,
    /// AVX-512 F/BW/VL: 16-lane accumulators, masked tails.
    LCB_DENSE_ISA_AVX512 = 2,
};

/// The best instruction-set level this CPU supports.
int lcb_dense_isa_best(void);

/// Whether this CPU can run `isa`.
int lcb_dense_isa_supported(int isa);

/// `y[rows, out] = x[rows, in]·W[out, in]ᵀ (+ bias[out])` with the best ISA and the pool's threads.
/// `bias` may be NULL. `x` and `y` must not overlap.
void lcb_dense_linear(const float *x, size_t rows, const void *weights, int dtype,
                      size_t out_features, size_t in_features, const float *bias, float *y);

/// `lcb_dense_linear` with an explicit ISA (must be supported) and thread limit
/// (`threads <= 0`: the pool's count). For tests and benchmarks.
void lcb_dense_linear_with(const float *x, size_t rows, const void *weights, int dtype,
                           size_t out_features, size_t in_features, const float *bias, float *y,
                           int isa, int threads);

/// Reads `bytes` of `buffer` once with `threads` threads (SIMD loads, best ISA) and returns a
/// checksum so the reads cannot be optimised away. Used to measure memory read bandwidth.
uint64_t lcb_dense_stream_read(const void *buffer, size_t bytes, int threads);

/// Fills `count` f16 values with pseudo-random weights (|w| in [2⁻⁹, 2⁻⁵), random sign) from
/// `seed`; deterministic. For benchmarks that need gigabytes of weights quickly.
void lcb_dense_fill_random_f16(uint16_t *destination, size_t count, uint64_t seed);

#endif
