#ifndef LCB_QUANT_KERNELS_H
#define LCB_QUANT_KERNELS_H

#include <stdint.h>

/// Packed-weight linear kernels for lcb's Quantization target (weights quantized with an integer
/// zero-point, codes bit-packed KIVI-style: 32/b codes per uint32, code j at bits [b*j, b*j+b)).
///
/// Weight row o holds `row_words` words; group g of row o covers input columns
/// [g*group_size, min((g+1)*group_size, in)) and has fp16 step scales[o*param_stride + g] and
/// zero-point zeros[o*param_stride + g] (param_stride 0 shares one group row across all rows).
/// The kernel computes, for o in [o_begin, o_end) and every input row r,
///   y[r*out + o] = sum_g s_g * (sum_{i in g} q_i * x[r, i] - z_g * sum_{i in g} x[r, i])
/// which equals sum_i x[r,i] * ((q_i - z_g) * s_g) up to Float32 summation order.
/// `group_sums` is [rows, groups_per_row]: sum_{i in g} x[r, i] (from lcb_quant_group_sums).

/// 1 when this CPU runs the AVX2 kernel for these parameters (2-, 4- or 8-bit codes, in and
/// group_size multiples of 8); callers use their scalar path otherwise.
int lcb_quant_linear_supported(int bits, long in, long group_size);

/// Per-row, per-group sums of the input, [rows, groups_per_row].
void lcb_quant_group_sums(const float *x, long rows, long in, long group_size, long groups_per_row,
                          float *group_sums);

/// The AVX2 packed linear (call only where lcb_quant_linear_supported returns 1).
void lcb_quant_linear_avx2(const float *x, long rows, long in, const uint32_t *words, long row_words,
                           int bits, const uint16_t *scales, const uint8_t *zeros, long group_size,
                           long groups_per_row, long param_stride, const float *group_sums, float *y,
                           long out, long o_begin, long o_end);

/// 1 when the byte-spread kernel applies: 2- or 4-bit codes, `in` and `group_size` multiples of
/// 8·(8/bits) columns (32 for 2 bits, 16 for 4 bits).
int lcb_quant_linear_uses_spread(int bits, long in, long group_size);

/// Inputs rearranged for the byte-spread kernel: per block of 8·c columns (c = 8/bits), columns
/// k*c + j for k = 0..7 stored contiguously, for j = 0..c-1.
void lcb_quant_permute_spread(const float *x, long rows, long in, int bits, float *xp);

/// The byte-spread AVX2 packed linear on permuted inputs `xp` (same contract as
/// lcb_quant_linear_avx2; group_sums from the unpermuted inputs). Tuned for one input row (decode);
/// for several rows lcb_quant_linear_avx2 reuses each decoded weight across four rows instead.
void lcb_quant_linear_spread_avx2(const float *xp, long rows, long in, const uint32_t *words, long row_words,
                                  int bits, const uint16_t *scales, const uint8_t *zeros, long group_size,
                                  long groups_per_row, long param_stride, const float *group_sums, float *y,
                                  long out, long o_begin, long o_end);

/// Codes of a packed run (KIVI layout, `bits` in {2,3,4,8}) widened to floats: out[i] = code i.
void lcb_quant_unpack_codes(const uint32_t *words, long count, int bits, float *out);

/// Fused dequantization of a packed run whose groups are consecutive runs of `group_size` codes:
/// out[i] = code(first + i) * s[i / group_size] + mn[i / group_size] (multiply, then add), i < n.
/// s and mn are fp16 bits.
void lcb_quant_dequant_contiguous(const uint32_t *words, int bits, long first, long n, long group_size,
                                  const uint16_t *scales, const uint16_t *minima, float *out);

/// Fused dequantization of `rows` rows of `width` codes whose parameters are per column and change
/// every `rows_per_group` rows: out[r*width + j] = code(first + r*width + j) * s[p + j] + mn[p + j],
/// p = (r / rows_per_group) * width.
void lcb_quant_dequant_channels(const uint32_t *words, int bits, long first, long rows, long width,
                                long rows_per_group, const uint16_t *scales, const uint16_t *minima, float *out);

/// IEEE half (raw bits) to float, exactly (F16C where available).
void lcb_quant_half_to_float(const uint16_t *in, float *out, long n);

/// The packed GEMV for one input row (decode), bandwidth-bound on AVX-512 (quant_gemv.c).
///
/// 1 when `isa` (LCB_DENSE_ISA_SCALAR, LCB_DENSE_ISA_AVX512 or LCB_DENSE_ISA_BEST) can run it on
/// this CPU for these parameters: 2-, 4- or 8-bit codes, `in` a multiple of 16·8/bits columns
/// (64, 32, 16) and `group_size` too (or at least `in`: one group per row).
int lcb_quant_gemv_supported(int isa, int bits, long in, long group_size);

/// The input order the GEMV reads: per run of 16·c columns, column k·c + j goes to position
/// 16·j + k, so code j of the 16 lanes lines up with contiguous inputs. Lanes are bytes (c = 8/bits)
/// except for 4-bit codes whose groups span whole 128-column runs (and `in` a multiple of 128),
/// which are read as dwords (c = 8).
void lcb_quant_gemv_permute(const float *x, long in, int bits, long group_size, float *xp);

/// y[o] = Σ_g s_g·(Σ_{i∈g} q_i·x_i − z_g·Σ_{i∈g} x_i) for every o < out, on `threads` threads of
/// the pool (≤ 0: the pool's count) with `isa` (LCB_DENSE_ISA_SCALAR: the scalar twin, which
/// performs the AVX-512 kernel's operations in the same order, so the two agree bit for bit; BEST:
/// AVX-512 when the CPU has it). `scratch` holds in + groups_per_row floats (the permuted input and
/// the group sums). Same packed layout and parameter arrays as lcb_quant_linear_avx2. Each output
/// is one fixed sequence of operations: the result does not depend on the thread count.
void lcb_quant_gemv(const float *x, long in, const uint32_t *words, long row_words, int bits,
                    const uint16_t *scales, const uint8_t *zeros, long group_size, long groups_per_row,
                    long param_stride, float *y, long out, float *scratch, int isa, int threads);

#endif
