// Internal to the dense kernels: the job every ISA's block function works on.
#ifndef LCB_DENSE_INTERNAL_H
#define LCB_DENSE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    const float *x;       // [rows, in]
    size_t rows;
    const void *w;        // [out, in] in `dtype`
    int dtype;
    size_t out;
    size_t in;
    const float *bias;    // [out] or NULL
    float *y;             // [rows, out]
} lcb_dense_job;

/// Computes `y[r, o]` for every row and every `o` in `[o_begin, o_end)`.
typedef void (*lcb_dense_block_fn)(const lcb_dense_job *job, size_t o_begin, size_t o_end);

/// Rows of x that share each weight load in the AVX-512 GEMM tiles (AVX2 uses 2).
#define LCB_DENSE_ROW_TILE 4

/// Bytes of weights (as stored) in one panel: a panel's rows stay in L2 while every row tile of x
/// streams past them.
#define LCB_DENSE_PANEL_BYTES (1024u * 1024u)

/// Inputs per block in the SIMD kernels: each block is reduced on its own and the block sums are
/// added in order, for every row count, so prefill can go block by block (a row tile of x,
/// 4 × 2048 f32 = 32 KiB, stays in L1) and still match decode bit for bit. A multiple of 16.
#define LCB_DENSE_K_BLOCK 2048u

/// How far ahead of its loads the bandwidth probe prefetches (as far as the decode GEMV, one
/// 4-row tile of a 2048-input f16 matrix, so the probe is never weaker than the kernel it rates).
#define LCB_DENSE_PREFETCH_BYTES 16384

/// Weight rows at least this long are prefetched row by row in decode, shorter ones tile by tile.
#define LCB_DENSE_LONG_ROW_BYTES 16384u

/// Outputs per panel when each weight row contributes `in` inputs of `element_size` bytes
/// (a multiple of 4, at least 4).
static inline size_t lcb_dense_panel_outputs(size_t in, size_t element_size) {
    size_t n = LCB_DENSE_PANEL_BYTES / (in * element_size + 1);
    n &= ~(size_t)3;
    return n < 4 ? 4 : n;
}

lcb_dense_block_fn lcb_dense_block_avx512(int dtype);
lcb_dense_block_fn lcb_dense_block_avx2(int dtype);

uint64_t lcb_dense_stream_read_avx512(const void *buffer, size_t bytes);
uint64_t lcb_dense_stream_read_avx2(const void *buffer, size_t bytes);

#endif
