#ifndef LCB_HALF_INTERNAL_H
#define LCB_HALF_INTERNAL_H

#include <stdint.h>
#include <string.h>

/// IEEE half (raw bits) → float, exact for every input (zero, subnormals, infinities, NaN payloads):
/// a subnormal's mantissa·2⁻²⁴ is exact in f32. The scalar conversion every kernel file shares.
static inline float lcb_half_bits_to_float(uint16_t h) {
    const uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    const uint32_t exponent = (h >> 10) & 0x1fu, mantissa = h & 0x3ffu;
    uint32_t bits;
    if (exponent == 0) {
        float magnitude = (float)mantissa * 0x1p-24f;
        memcpy(&bits, &magnitude, sizeof bits);
        bits |= sign;
    } else if (exponent == 31) {
        bits = sign | 0x7f800000u | (mantissa << 13);
    } else {
        bits = sign | ((exponent + 112u) << 23) | (mantissa << 13);
    }
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

#endif
