/* IEEE 754 binary16 and bfloat16 <-> binary32, by bit manipulation so the result
 * does not depend on the compiler's or the CPU's half-precision support.
 * Both narrowing conversions round to nearest, ties to even. */
#include <string.h>

#include "tensor/types.h"

static uint32_t float_bits(float f) {
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

static float bits_float(uint32_t u) {
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/* binary16: 1 sign bit, 5 exponent bits (bias 15), 10 mantissa bits. */
float r1_fp16_to_fp32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000) << 16;
    uint32_t exponent = (h >> 10) & 0x1F;
    uint32_t mantissa = h & 0x3FF;
    if (exponent == 0) {
        /* zero or subnormal: mantissa * 2^-24, exact in binary32 */
        float magnitude = (float)mantissa * 0x1p-24f;
        return bits_float(sign | float_bits(magnitude));
    }
    if (exponent == 31) return bits_float(sign | 0x7F800000u | (mantissa << 13)); /* inf, nan */
    return bits_float(sign | ((exponent + 127 - 15) << 23) | (mantissa << 13));
}

/* Rounds m / 2^shift to the nearest integer, ties to even (1 <= shift < 32). */
static uint32_t shift_round_even(uint32_t m, int shift) {
    uint32_t kept = m >> shift;
    uint32_t rest = m & ((1u << shift) - 1);
    uint32_t half = 1u << (shift - 1);
    if (rest > half || (rest == half && (kept & 1))) kept++;
    return kept;
}

uint16_t r1_fp32_to_fp16(float f) {
    uint32_t bits = float_bits(f);
    uint16_t sign = (uint16_t)((bits >> 16) & 0x8000);
    uint32_t magnitude = bits & 0x7FFFFFFF;
    if (magnitude > 0x7F800000u) /* NaN: stay a (quiet) NaN, keep the top payload bits */
        return (uint16_t)(sign | 0x7E00 | (magnitude >> 13 & 0x3FF));
    /* 65520 = 0x477FF000 is halfway between 65504 (largest half) and 2^16; the tie
     * goes to the even neighbour, which is infinity. */
    if (magnitude >= 0x477FF000u) return (uint16_t)(sign | 0x7C00);
    uint32_t exponent = magnitude >> 23;
    uint32_t mantissa = magnitude & 0x7FFFFF;
    if (magnitude < 0x38800000u) {
        /* below 2^-14: a half subnormal, i.e. an integer count of 2^-24. The value
         * is (mantissa | 2^23) * 2^(exponent - 150) = that * 2^-24 / 2^(126 - exponent).
         * Binary32 subnormals (exponent 0) are far below half's range: zero. */
        if (exponent < 102) return sign; /* < 2^-25: rounds to zero (2^-25 itself is a tie to 0) */
        return (uint16_t)(sign | shift_round_even(mantissa | 0x800000, (int)(126 - exponent)));
    }
    /* normal: rebias the exponent, drop 13 mantissa bits; a carry out of the mantissa
     * correctly bumps the exponent (never to infinity, checked above). */
    uint32_t half = ((exponent - 127 + 15) << 10) | (mantissa >> 13);
    uint32_t rest = mantissa & 0x1FFF;
    if (rest > 0x1000 || (rest == 0x1000 && (half & 1))) half++;
    return (uint16_t)(sign | half);
}

/* bfloat16 is the top half of a binary32. */
float r1_bf16_to_fp32(uint16_t h) {
    return bits_float((uint32_t)h << 16);
}

uint16_t r1_fp32_to_bf16(float f) {
    uint32_t bits = float_bits(f);
    if ((bits & 0x7FFFFFFF) > 0x7F800000u) return (uint16_t)((bits >> 16) | 0x0040); /* quiet NaN */
    bits += 0x7FFF + ((bits >> 16) & 1);
    return (uint16_t)(bits >> 16);
}
