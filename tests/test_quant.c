/* Tests of src/tensor: half-precision conversions, the GGUF block layouts (blocks
 * built by hand from the layout description, not from r1's code), quantization
 * error, vec_dot against a double-precision dot of the dequantized vectors, the
 * AVX2 kernels against the scalar ones, the GEMM kernels (activation encoders,
 * panels, dot_row, r1_matmul_many) against the scalar vec_dot, and the traits
 * table. */
#include "tensor/matmul.h"
#include "tensor/quant.h"
#include "tensor/types.h"
#include "base/error.h" /* after a header that brings in size_t */
#include "test.h"

/* ---- helpers ---------------------------------------------------------------- */

/* Fixed-seed LCG (Knuth's MMIX constants); the top bits are the good ones. */
static uint32_t lcg_next(uint64_t *state) {
    *state = *state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (uint32_t)(*state >> 32);
}

static float lcg_uniform(uint64_t *state) { /* [-1, 1) */
    return (float)lcg_next(state) / 2147483648.0f - 1.0f;
}

static float lcg_gaussian(uint64_t *state) { /* Box-Muller */
    float u1 = ((float)lcg_next(state) + 1.0f) / 4294967296.0f;
    float u2 = (float)lcg_next(state) / 4294967296.0f;
    return sqrtf(-2.0f * logf(u1)) * cosf(6.28318530718f * u2);
}

enum {
    DIST_ZERO,
    DIST_UNIFORM,
    DIST_GAUSSIAN,
    DIST_SMALL,
    DIST_OUTLIERS,
    DIST_POSITIVE,
    DIST_LARGE,
    DIST_CONSTANT,
    DIST_MIXED_SCALES,
    DIST_COUNT
};
static const char *const dist_names[DIST_COUNT] = {
    "zero", "uniform", "gaussian", "gaussian*0.02", "outliers", "positive", "gaussian*300", "constant",
    "mixed scales" /* each run of 32 scaled by 10^-3 .. 10^2 */};

static void fill(int dist, float *x, int64_t n, uint64_t seed) {
    uint64_t state = seed;
    for (int64_t i = 0; i < n; i++) {
        switch (dist) {
        case DIST_ZERO: x[i] = 0.0f; break;
        case DIST_UNIFORM: x[i] = lcg_uniform(&state); break;
        case DIST_GAUSSIAN: x[i] = lcg_gaussian(&state); break;
        case DIST_SMALL: x[i] = 0.02f * lcg_gaussian(&state); break;
        case DIST_OUTLIERS: x[i] = lcg_gaussian(&state) * (lcg_next(&state) % 100 == 0 ? 20.0f : 1.0f); break;
        case DIST_POSITIVE: x[i] = 1.0f + 0.5f * lcg_uniform(&state); break;
        case DIST_LARGE: x[i] = 300.0f * lcg_gaussian(&state); break;
        case DIST_CONSTANT: x[i] = -0.7f; break;
        default: x[i] = powf(10.0f, (float)(i / 32 % 6) - 3.0f) * lcg_gaussian(&state); break;
        }
    }
}

static void put_u16(uint8_t *p, uint16_t v) {
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static int same_float(float a, float b) { /* exact, NaN == NaN, -0 != +0 */
    if (isnan(a) || isnan(b)) return isnan(a) && isnan(b);
    return a == b && !signbit(a) == !signbit(b);
}

/* The supported weight types, and the activation-only Q8_K. */
static const r1_type weight_types[] = {R1_TYPE_F32,  R1_TYPE_F16,  R1_TYPE_BF16, R1_TYPE_Q8_0, R1_TYPE_Q4_0,
                                       R1_TYPE_Q5_0, R1_TYPE_Q4_K, R1_TYPE_Q5_K, R1_TYPE_Q6_K};
#define N_WEIGHT_TYPES (int)(sizeof weight_types / sizeof weight_types[0])

/* A quantized row plus its dequantized copy. */
typedef struct {
    uint8_t *bytes;
    float *values;
} coded_row;

static coded_row encode_row(const r1_type_traits *t, const float *x, int64_t n) {
    coded_row row = {malloc(r1_type_row_bytes(t, n)), malloc((size_t)n * sizeof(float))};
    t->quantize(x, row.bytes, n);
    t->dequantize(row.bytes, row.values, n);
    return row;
}

static void free_row(coded_row *row) {
    free(row->bytes);
    free(row->values);
}

/* ---- 1. half precision -------------------------------------------------------- */

static void test_fp16_known_values(test_ctx *t) {
    static const struct {
        float f;
        uint16_t h;
    } cases[] = {
        {1.0f, 0x3C00},         {-2.0f, 0xC000},        {0.5f, 0x3800},         {65504.0f, 0x7BFF},
        {65519.0f, 0x7BFF},     {65520.0f, 0x7C00},     {1e9f, 0x7C00},         {-0.0f, 0x8000},
        {0x1p-14f, 0x0400},     {0x1p-24f, 0x0001},     {0x1p-25f, 0x0000},     {0x1.8p-25f, 0x0001},
        {0x1.8p-24f, 0x0002},   {0x1.4p-24f, 0x0001},   {0x3FFp-24f, 0x03FF},   {0x1.FFCp-15f, 0x0400},
        {1.0f + 0x1p-11f, 0x3C00}, /* tie -> even (down) */
        {1.0f + 0x3p-11f, 0x3C02}, /* tie -> even (up) */
        {1.0f + 0x1.2p-11f, 0x3C01}, {0x1p-140f, 0x0000}, {-0x1p-24f, 0x8001},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint16_t h = r1_fp32_to_fp16(cases[i].f);
        CHECK(h == cases[i].h, "fp32_to_fp16(%a) = 0x%04X, want 0x%04X", cases[i].f, h, cases[i].h);
    }
    CHECK(r1_fp32_to_fp16(INFINITY) == 0x7C00 && r1_fp32_to_fp16(-INFINITY) == 0xFC00, "infinities");
    uint16_t nan16 = r1_fp32_to_fp16(NAN);
    CHECK((nan16 & 0x7C00) == 0x7C00 && (nan16 & 0x3FF) != 0, "NaN -> 0x%04X", nan16);

    CHECK(r1_fp16_to_fp32(0x3C00) == 1.0f, "0x3C00");
    CHECK(r1_fp16_to_fp32(0x7BFF) == 65504.0f, "0x7BFF");
    CHECK(r1_fp16_to_fp32(0x0001) == 0x1p-24f, "smallest subnormal");
    CHECK(r1_fp16_to_fp32(0x83FF) == -0x3FFp-24f, "largest negative subnormal");
    CHECK(r1_fp16_to_fp32(0x7C00) == INFINITY && r1_fp16_to_fp32(0xFC00) == -INFINITY, "infinities");
    CHECK(isnan(r1_fp16_to_fp32(0x7E00)) && isnan(r1_fp16_to_fp32(0x7C01)), "NaNs");
    CHECK(same_float(r1_fp16_to_fp32(0x8000), -0.0f), "negative zero");

    /* every half survives the round trip through binary32 */
    for (uint32_t h = 0; h < 65536; h++) {
        float f = r1_fp16_to_fp32((uint16_t)h);
        if (isnan(f)) continue;
        CHECK(r1_fp32_to_fp16(f) == h, "round trip of 0x%04X gives 0x%04X", h, r1_fp32_to_fp16(f));
    }
#ifdef __FLT16_MAX__
    /* and agrees with the compiler's own (correctly rounded) conversion */
    uint64_t state = 1;
    for (int i = 0; i < 1000000; i++) {
        uint32_t bits = lcg_next(&state);
        if (i % 2) bits = (bits & 0x87FFFFFF) | 0x30000000; /* exponents near half's range */
        float f;
        memcpy(&f, &bits, sizeof f);
        if (isnan(f)) continue;
        _Float16 ref = (_Float16)f;
        uint16_t ref_bits;
        memcpy(&ref_bits, &ref, sizeof ref_bits);
        CHECK(r1_fp32_to_fp16(f) == ref_bits, "fp32_to_fp16(%a) = 0x%04X, compiler says 0x%04X", f,
              r1_fp32_to_fp16(f), ref_bits);
    }
#endif
}

static void test_bf16_known_values(test_ctx *t) {
    static const struct {
        uint32_t f_bits;
        uint16_t h;
    } cases[] = {
        {0x3F800000, 0x3F80}, /* 1.0 */
        {0x3F808000, 0x3F80}, /* tie -> even (down) */
        {0x3F818000, 0x3F82}, /* tie -> even (up) */
        {0x3F808001, 0x3F81}, /* above the tie */
        {0xBF800000, 0xBF80}, /* -1.0 */
        {0x7F7FFFFF, 0x7F80}, /* FLT_MAX rounds to infinity */
        {0x7F800000, 0x7F80}, /* inf */
        {0x00000001, 0x0000}, /* tiny subnormal -> 0 */
        {0x80000000, 0x8000}, /* -0 */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        float f;
        memcpy(&f, &cases[i].f_bits, sizeof f);
        uint16_t h = r1_fp32_to_bf16(f);
        CHECK(h == cases[i].h, "fp32_to_bf16(0x%08X) = 0x%04X, want 0x%04X", cases[i].f_bits, h, cases[i].h);
    }
    /* NaNs stay NaN, even one whose payload is only in the low bits */
    uint32_t nan_bits[] = {0x7FC00000, 0x7F800001, 0xFF800001};
    for (size_t i = 0; i < 3; i++) {
        float f;
        memcpy(&f, &nan_bits[i], sizeof f);
        CHECK(isnan(r1_bf16_to_fp32(r1_fp32_to_bf16(f))), "NaN 0x%08X lost", nan_bits[i]);
        CHECK((r1_fp32_to_bf16(f) & 0x8000) == (nan_bits[i] >> 16 & 0x8000), "NaN sign 0x%08X", nan_bits[i]);
    }
    CHECK(r1_bf16_to_fp32(0x3F80) == 1.0f && r1_bf16_to_fp32(0xC040) == -3.0f, "bf16_to_fp32");
    for (uint32_t h = 0; h < 65536; h++) {
        float f = r1_bf16_to_fp32((uint16_t)h);
        if (isnan(f)) continue;
        CHECK(r1_fp32_to_bf16(f) == h, "round trip of 0x%04X gives 0x%04X", h, r1_fp32_to_bf16(f));
    }
}

/* ---- 2. hand-made blocks -------------------------------------------------------- */

static void check_dequantize(test_ctx *t, r1_type type, const uint8_t *block, const float *want, int n) {
    const r1_type_traits *tr = r1_type_traits_get(type);
    CHECK(tr != NULL, "%s unsupported", r1_type_name(type));
    float got[256];
    tr->dequantize(block, got, n);
    for (int i = 0; i < n; i++)
        CHECK(same_float(got[i], want[i]), "%s element %d: %g, want %g", tr->name, i, got[i], want[i]);
}

static void test_dequantize_q8_0_q4_0_q5_0(test_ctx *t) {
    uint8_t block[34];
    float want[32];

    /* Q8_0: d = 0.5 (0x3800), qs[j] = j - 16 */
    put_u16(block, 0x3800);
    for (int j = 0; j < 32; j++) block[2 + j] = (uint8_t)(int8_t)(j - 16), want[j] = 0.5f * (float)(j - 16);
    check_dequantize(t, R1_TYPE_Q8_0, block, want, 32);
    if (t->failed) return;

    /* Q4_0: d = 2 (0x4000), qs[j] = j | (15 - j) << 4: element j = 2 (j - 8), j+16 = 2 (7 - j) */
    put_u16(block, 0x4000);
    for (int j = 0; j < 16; j++) {
        block[2 + j] = (uint8_t)(j | (15 - j) << 4);
        want[j] = 2.0f * (float)(j - 8);
        want[j + 16] = 2.0f * (float)(7 - j);
    }
    check_dequantize(t, R1_TYPE_Q4_0, block, want, 32);
    if (t->failed) return;

    /* Q5_0: d = 0.25 (0x3400), qh = A5 A5 A5 A5 (bits 0,2,5,7 of each byte), qs as Q4_0 */
    put_u16(block, 0x3400);
    for (int k = 0; k < 4; k++) block[2 + k] = 0xA5;
    for (int j = 0; j < 16; j++) block[6 + j] = (uint8_t)(j | (15 - j) << 4);
    static const float q5_want_first[8] = {0.0f, -3.75f, 0.5f, -3.25f, -3.0f, 1.25f, -2.5f, 1.75f};
    for (int j = 0; j < 32; j++) {
        int low = j < 16 ? j : 15 - (j - 16);
        int fifth = (0xA5 >> (j % 8)) & 1;
        want[j] = 0.25f * (float)((low | fifth << 4) - 16);
        if (j < 8) CHECK(want[j] == q5_want_first[j], "hand value %d", j);
    }
    CHECK(want[16] == 3.75f && want[17] == -0.5f, "hand values 16, 17");
    check_dequantize(t, R1_TYPE_Q5_0, block, want, 32);
}

/* Q4_K / Q5_K block used below: d = 1, dmin = 0.5, scales {1..7, 63}, mins {0..6, 33},
 * qs[l] = (l & 15) | (15 - (l & 15)) << 4. The 12 scale bytes are packed by hand. */
static const uint8_t k4_scales[12] = {0x01, 0x02, 0x03, 0xC4, 0x00, 0x01, 0x02, 0x83, 0x45, 0x56, 0x67, 0x1F};
static const int k4_sc[8] = {1, 2, 3, 4, 5, 6, 7, 63};
static const int k4_m[8] = {0, 1, 2, 3, 4, 5, 6, 33};

static void test_dequantize_q4_k_q5_k(test_ctx *t) {
    uint8_t block[176];
    float want[256];
    put_u16(block, 0x3C00);
    put_u16(block + 2, 0x3800);
    memcpy(block + 4, k4_scales, 12);
    for (int l = 0; l < 128; l++) block[16 + l] = (uint8_t)((l & 15) | (15 - (l & 15)) << 4);
    for (int e = 0; e < 256; e++) {
        int s = e / 32, l = e % 32;
        int q = s % 2 == 0 ? (l & 15) : 15 - (l & 15);
        want[e] = (float)(k4_sc[s] * q) - 0.5f * (float)k4_m[s];
    }
    CHECK(want[0] == 0.0f && want[5] == 5.0f && want[33] == 27.5f && want[130] == 8.0f && want[170] == 27.5f &&
              want[224] == 928.5f && want[255] == -16.5f,
          "hand values");
    check_dequantize(t, R1_TYPE_Q4_K, block, want, 256);
    if (t->failed) return;

    /* Q5_K: same scales; qh[l] = l * 37 mod 256, bit s of qh[l] is the fifth bit of
     * element l of sub-block s; qs follows qh */
    for (int l = 0; l < 32; l++) block[16 + l] = (uint8_t)(l * 37);
    for (int l = 0; l < 128; l++) block[48 + l] = (uint8_t)((l & 15) | (15 - (l & 15)) << 4);
    for (int e = 0; e < 256; e++) {
        int s = e / 32, l = e % 32;
        int q = (s % 2 == 0 ? (l & 15) : 15 - (l & 15)) | (((l * 37) & 255) >> s & 1) << 4;
        want[e] = (float)(k4_sc[s] * q) - 0.5f * (float)k4_m[s];
    }
    /* element 33: sub-block 1, l = 1, qh[1] = 37 = 0b100101 has bit 1 clear: q = 14;
     * element 66: sub-block 2, l = 2, qh[2] = 74 = 0b1001010 has bit 2 clear, q = 2;
     * element 35: sub-block 1, l = 3, qh[3] = 111 = 0b1101111 has bit 1 set, q = 12 + 16 */
    CHECK(want[33] == 27.5f && want[66] == 6.0f - 1.0f && want[35] == 2.0f * 28.0f - 0.5f, "hand values");
    check_dequantize(t, R1_TYPE_Q5_K, block, want, 256);
}

static void test_dequantize_q6_k_q8_k(test_ctx *t) {
    uint8_t block[292];
    float want[256];
    /* Q6_K: ql[i] = i, qh[i] = 37 i mod 256, scales[s] = s - 8, d = 0.5 at byte 208 */
    for (int i = 0; i < 128; i++) block[i] = (uint8_t)i;
    for (int i = 0; i < 64; i++) block[128 + i] = (uint8_t)(37 * i);
    for (int s = 0; s < 16; s++) block[192 + s] = (uint8_t)(int8_t)(s - 8);
    put_u16(block + 208, 0x3800);
    for (int h = 0; h < 2; h++) {
        for (int l = 0; l < 32; l++) {
            int ql_lo = 64 * h + l, ql_hi = 64 * h + l + 32, qh = (37 * (32 * h + l)) & 255;
            int q[4] = {(ql_lo & 15) | (qh & 3) << 4, (ql_hi & 15) | (qh >> 2 & 3) << 4,
                        (ql_lo >> 4) | (qh >> 4 & 3) << 4, (ql_hi >> 4) | (qh >> 6 & 3) << 4};
            for (int k = 0; k < 4; k++) {
                int e = 128 * h + 32 * k + l;
                want[e] = 0.5f * (float)(e / 16 - 8) * (float)(q[k] - 32);
            }
        }
    }
    CHECK(want[0] == 128.0f && want[1] == 60.0f && want[33] == 45.0f && want[65] == 0.0f && want[97] == 30.0f &&
              want[145] == -7.5f && want[255] == -87.5f,
          "hand values");
    check_dequantize(t, R1_TYPE_Q6_K, block, want, 256);
    if (t->failed) return;

    /* Q8_K: float d = 0.25, qs[j] = j - 128, bsums (ignored by dequantize) */
    float d = 0.25f;
    memcpy(block, &d, 4);
    for (int j = 0; j < 256; j++) block[4 + j] = (uint8_t)(int8_t)(j - 128), want[j] = 0.25f * (float)(j - 128);
    memset(block + 260, 0, 32);
    check_dequantize(t, R1_TYPE_Q8_K, block, want, 256);
}

static void test_dequantize_f16_bf16(test_ctx *t) {
    uint8_t row[8];
    put_u16(row, 0x3C00), put_u16(row + 2, 0xC000), put_u16(row + 4, 0x0001), put_u16(row + 6, 0x7BFF);
    check_dequantize(t, R1_TYPE_F16, row, (const float[]){1.0f, -2.0f, 0x1p-24f, 65504.0f}, 4);
    if (t->failed) return;
    put_u16(row, 0x3F80), put_u16(row + 2, 0xC040), put_u16(row + 4, 0x4049), put_u16(row + 6, 0x0000);
    check_dequantize(t, R1_TYPE_BF16, row, (const float[]){1.0f, -3.0f, 3.140625f, 0.0f}, 4);
}

/* The reference quantizers that must match GGUF tools byte for byte. */
static void test_quantize_known_bytes(test_ctx *t) {
    float x[256];
    uint8_t out[292];
    /* Q4_0 of x[j] = j - 16: largest magnitude -16, d = 2, q = trunc((j - 16) / 2 + 8.5) */
    for (int j = 0; j < 32; j++) x[j] = (float)(j - 16);
    r1_type_traits_get(R1_TYPE_Q4_0)->quantize(x, out, 32);
    CHECK(out[0] == 0x00 && out[1] == 0x40, "Q4_0 d = 0x%02X%02X", out[1], out[0]);
    for (int j = 0; j < 16; j++) {
        int lo = (j + 1) / 2, hi = (j + 17) / 2 < 15 ? (j + 17) / 2 : 15;
        CHECK(out[2 + j] == (lo | hi << 4), "Q4_0 qs[%d] = 0x%02X", j, out[2 + j]);
    }
    /* Q8_0: amax 16 -> d = 16/127, q = round(x * 127/16) */
    r1_type_traits_get(R1_TYPE_Q8_0)->quantize(x, out, 32);
    CHECK((out[0] | out[1] << 8) == r1_fp32_to_fp16(16.0f / 127.0f), "Q8_0 d");
    CHECK((int8_t)out[2] == -127 && (int8_t)out[3] == -119 && (int8_t)out[33] == 119, "Q8_0 qs %d %d %d",
          (int8_t)out[2], (int8_t)out[3], (int8_t)out[33]);
    /* Q8_K of x[j] = (j % 64) - 32: max by magnitude -32 -> iscale 127/32, d = 32/127 */
    for (int j = 0; j < 256; j++) x[j] = (float)(j % 64 - 32);
    r1_type_traits_get(R1_TYPE_Q8_K)->quantize(x, out, 256);
    float d;
    memcpy(&d, out, 4);
    CHECK(d == 1.0f / (-127.0f / -32.0f), "Q8_K d = %g", d);
    CHECK((int8_t)out[4] == -127 && (int8_t)out[4 + 33] == 4 && (int8_t)out[4 + 63] == 123, "Q8_K qs");
    int16_t bsum0, bsum2;
    memcpy(&bsum0, out + 260, 2);
    memcpy(&bsum2, out + 264, 2);
    int want0 = 0, want2 = 0;
    for (int j = 0; j < 16; j++) want0 += (int8_t)out[4 + j], want2 += (int8_t)out[4 + 32 + j];
    CHECK(bsum0 == want0 && bsum2 == want2, "Q8_K bsums %d %d, want %d %d", bsum0, bsum2, want0, want2);
}

/* ---- 3. quantization error -------------------------------------------------------- */

static void test_quantize_error(test_ctx *t) {
    /* relative RMS error; the outlier distribution (1% of values x20) costs the
     * block formats more, since one outlier stretches its whole block's scale */
    static const struct {
        r1_type type;
        double bound, bound_outliers;
    } cases[] = {
        {R1_TYPE_F32, 0.0, 0.0},         {R1_TYPE_F16, 0.0003, 0.0003},  {R1_TYPE_BF16, 0.0025, 0.0025},
        {R1_TYPE_Q8_0, 0.008, 0.015},    {R1_TYPE_Q8_K, 0.01, 0.035},    {R1_TYPE_Q4_0, 0.11, 0.18},
        {R1_TYPE_Q5_0, 0.055, 0.11},     {R1_TYPE_Q4_K, 0.085, 0.12},    {R1_TYPE_Q5_K, 0.042, 0.06},
        {R1_TYPE_Q6_K, 0.021, 0.04},
    };
    enum { N = 4096 };
    static float x[N];
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        const r1_type_traits *tr = r1_type_traits_get(cases[c].type);
        for (int dist = 0; dist < DIST_COUNT; dist++) {
            fill(dist, x, N, 1000 + (uint64_t)dist);
            coded_row row = encode_row(tr, x, N);
            double err = 0, ref = 0;
            int finite = 1;
            for (int i = 0; i < N; i++) {
                finite &= isfinite(row.values[i]);
                err += ((double)row.values[i] - x[i]) * ((double)row.values[i] - x[i]);
                ref += (double)x[i] * x[i];
            }
            free_row(&row);
            double rel = ref > 0 ? sqrt(err / ref) : sqrt(err);
            CHECK(finite, "%s/%s: non-finite output", tr->name, dist_names[dist]);
            double bound = dist == DIST_OUTLIERS ? cases[c].bound_outliers : cases[c].bound;
            CHECK(rel <= bound, "%s/%s: relative RMS error %.4f > %.4f", tr->name, dist_names[dist], rel, bound);
        }
    }
}

/* ---- 4, 5. vec_dot ---------------------------------------------------------------- */

/* |vec_dot - sum w a| within rel_tol of sum |w a| (double precision, on the
 * dequantized values), for w and a encoded from the given floats. */
static int check_vec_dot(test_ctx *t, const r1_type_traits *tr, const float *w_src, const float *a_src, int64_t n,
                         double rel_tol) {
    const r1_type_traits *act = r1_type_traits_get(tr->act_type);
    coded_row w = encode_row(tr, w_src, n), a = encode_row(act, a_src, n);
    double ref = 0, mag = 0;
    for (int64_t i = 0; i < n; i++) {
        ref += (double)w.values[i] * a.values[i];
        mag += fabs((double)w.values[i] * a.values[i]);
    }
    float got = tr->vec_dot(n, w.bytes, a.bytes);
    free_row(&w);
    free_row(&a);
    if (!(fabs(got - ref) <= rel_tol * mag)) {
        printf("  %s n=%lld: vec_dot %.9g, double dot %.9g, magnitude %.6g\n", tr->name, (long long)n, got, ref, mag);
        t->failed = 1;
        return 0;
    }
    return 1;
}

static void test_vec_dot_matches_dequantized(test_ctx *t) {
    enum { N = 4096 };
    static float w[N], a[N];
    int levels = r1_kernels_cpu_has_avx2() ? 2 : 1;
    for (int level = 0; level < levels && !t->failed; level++) {
        r1_kernels_select(level);
        for (int k = 0; k < N_WEIGHT_TYPES && !t->failed; k++) {
            const r1_type_traits *tr = r1_type_traits_get(weight_types[k]);
            int64_t block = tr->block_elems;
            int64_t lengths[] = {block, (block == 1 ? 37 : 3 * block), N};
            for (int dist = 0; dist < DIST_COUNT && !t->failed; dist++) {
                fill(dist, w, N, 7 + (uint64_t)dist);
                fill(dist == DIST_ZERO ? DIST_GAUSSIAN : dist, a, N, 77 + (uint64_t)dist);
                for (int l = 0; l < 3 && !t->failed; l++)
                    if (!check_vec_dot(t, tr, w, a, lengths[l], 1e-5))
                        printf("  (level %d, %s weights)\n", level, dist_names[dist]);
            }
        }
    }
    r1_kernels_select(1);
}

/* Offsets of the fp16 scales in each block, so random bytes can be given sane ones. */
static void sanitize_random_block(r1_type type, uint8_t *block, uint64_t *state) {
    static const struct {
        r1_type type;
        int offsets[2];
    } scale_fields[] = {{R1_TYPE_Q8_0, {0, -1}}, {R1_TYPE_Q4_0, {0, -1}}, {R1_TYPE_Q5_0, {0, -1}},
                        {R1_TYPE_Q4_K, {0, 2}},  {R1_TYPE_Q5_K, {0, 2}},  {R1_TYPE_Q6_K, {208, -1}}};
    for (size_t i = 0; i < sizeof scale_fields / sizeof scale_fields[0]; i++) {
        if (scale_fields[i].type != type) continue;
        for (int f = 0; f < 2 && scale_fields[i].offsets[f] >= 0; f++)
            put_u16(block + scale_fields[i].offsets[f], r1_fp32_to_fp16(0.01f * lcg_uniform(state)));
    }
}

/* Weights are random bytes (every quant and scale pattern the format allows, with
 * finite fp16 scales), so the AVX2 kernels meet values no quantizer writes. */
static void test_avx2_matches_scalar(test_ctx *t) {
    if (!r1_kernels_cpu_has_avx2()) SKIP("CPU lacks AVX2+FMA+F16C");
    CHECK(r1_kernels_select(0) == 0, "select(0)");
    CHECK(r1_kernels_select(1) == 1, "select(1)");
    enum { N = 4096 };
    uint64_t state = 42;
    static float a_src[N], a_values[N], w_values[N];
    static uint8_t w[4 * N], a[4 * N];
    for (int k = 0; k < N_WEIGHT_TYPES && !t->failed; k++) {
        const r1_type_traits *tr = r1_type_traits_get(weight_types[k]);
        const r1_type_traits *act = r1_type_traits_get(tr->act_type);
        int64_t block = tr->block_elems;
        int64_t lengths[] = {block, 2 * block, 5 * block, 7 * block, N - block, N};
        for (int l = 0; l < 6 && !t->failed; l++) {
            int64_t n = lengths[l];
            size_t row_bytes = r1_type_row_bytes(tr, n);
            if (tr->block_elems == 1) { /* float weights: random finite values */
                for (int64_t i = 0; i < n; i++) w_values[i] = lcg_gaussian(&state);
                tr->quantize(w_values, w, n);
            } else {
                for (size_t i = 0; i < row_bytes; i++) w[i] = (uint8_t)lcg_next(&state);
                for (int64_t b = 0; b < n / block; b++)
                    sanitize_random_block(weight_types[k], w + b * tr->block_bytes, &state);
            }
            fill(DIST_OUTLIERS, a_src, n, 99 + (uint64_t)l);
            act->quantize(a_src, a, n);
            tr->dequantize(w, w_values, n);
            act->dequantize(a, a_values, n);
            double mag = 0;
            for (int64_t i = 0; i < n; i++) mag += fabs((double)w_values[i] * a_values[i]);
            r1_kernels_select(0);
            float scalar = tr->vec_dot(n, w, a);
            r1_kernels_select(1);
            float avx2 = tr->vec_dot(n, w, a);
            CHECK(fabs((double)scalar - avx2) <= 1e-5 * mag, "%s n=%lld: scalar %.9g, avx2 %.9g (magnitude %g)",
                  tr->name, (long long)n, scalar, avx2, mag);
        }
    }
}

/* r1_dot_f32 / r1_axpy_f32 on every length 0..80 (tails) and a long one. */
static void test_float_kernels_tails(test_ctx *t) {
    enum { N = 4099 };
    static float x[N], y[N], y_scalar[N], y_ref[N];
    uint64_t state = 5;
    for (int i = 0; i < N; i++) x[i] = lcg_gaussian(&state), y[i] = lcg_gaussian(&state);
    int levels = r1_kernels_cpu_has_avx2() ? 2 : 1;
    for (int level = 0; level < levels; level++) {
        CHECK(r1_kernels_select(level) == level, "select(%d)", level);
        for (int step = 0; step <= 81; step++) {
            int n = step <= 80 ? step : N;
            double ref = 0, mag = 0;
            for (int i = 0; i < n; i++) ref += (double)x[i] * y[i], mag += fabs((double)x[i] * y[i]);
            float got = r1_dot_f32(n, x, y);
            CHECK(fabs(got - ref) <= 1e-6 * mag, "level %d dot n=%d: %.9g vs %.9g", level, n, got, ref);
            memcpy(y_scalar, y, sizeof y);
            r1_axpy_f32(n, -0.75f, x, y_scalar);
            for (int i = 0; i < N; i++) {
                y_ref[i] = i < n ? (float)((double)y[i] - 0.75 * x[i]) : y[i];
                double tol = i < n ? 1e-6 * (fabs(y[i]) + fabs(0.75 * x[i])) : 0;
                CHECK(fabs(y_scalar[i] - y_ref[i]) <= tol, "level %d axpy n=%d: y[%d] = %.9g, want %.9g", level, n, i,
                      y_scalar[i], y_ref[i]);
            }
        }
    }
    r1_kernels_select(1);
}

/* ---- 6. GEMM kernels ---------------------------------------------------------------- */

/* Random weight rows of type tr: random bytes with sane fp16 scales (as in
 * test_avx2_matches_scalar), so every quant pattern occurs. */
static void random_rows(r1_type type, const r1_type_traits *tr, uint8_t *rows, size_t bytes, uint64_t *state) {
    for (size_t i = 0; i < bytes; i++) rows[i] = (uint8_t)lcg_next(state);
    for (size_t b = 0; b < bytes / tr->block_bytes; b++) sanitize_random_block(type, rows + b * tr->block_bytes, state);
}

/* sum_i |w[i] a[i]| over the dequantized row and activation, the scale of the
 * rounding a dot product of them may show */
static double dot_magnitude(const r1_type_traits *tr, const uint8_t *row, const uint8_t *act, int64_t n) {
    static float w[8192], a[8192];
    tr->dequantize(row, w, n);
    r1_type_traits_get(tr->act_type)->dequantize(act, a, n);
    double mag = 0;
    for (int64_t i = 0; i < n; i++) mag += fabs((double)w[i] * a[i]);
    return mag;
}

/* The types with GEMM kernels when the AVX2 kernels are selected. */
static int gemm_types(r1_type out[N_WEIGHT_TYPES]) {
    int count = 0;
    for (int k = 0; k < N_WEIGHT_TYPES; k++)
        if (r1_type_traits_get(weight_types[k])->gemm) out[count++] = weight_types[k];
    return count;
}

/* The activation encoders of the GEMM kernels give the reference encoders' bytes:
 * the grouped Q8_0 one r1_quantize_q8_0's blocks (d widened, sums added, the last
 * group padded), the Q8_K one r1_quantize_q8_k's. Values at exact halves check
 * the two rounding rules (roundf: away from zero; Q8_K: to even). */
static void test_gemm_act_encoders(test_ctx *t) {
    if (!r1_kernels_cpu_has_avx2()) SKIP("CPU lacks AVX2+FMA+F16C");
    r1_kernels_select(1);
    enum { N = 4096 };
    static float x[N];
    static uint8_t want[2 * N], got[2 * N];
    const r1_gemm_kernels *q8_0 = r1_type_traits_get(R1_TYPE_Q4_0)->gemm, *q8_k = r1_type_traits_get(R1_TYPE_Q4_K)->gemm;
    CHECK(q8_0 && q8_k, "GEMM kernels missing");
    const int64_t lengths[] = {32, 96, 256, 288, 1408, N};
    for (int dist = 0; dist <= DIST_COUNT + 1; dist++) {
        const char *name = dist < DIST_COUNT ? dist_names[dist] : dist == DIST_COUNT ? "halves" : "non-finite";
        if (dist == DIST_COUNT) /* halves: amax 127 makes the scale 1 */
            for (int i = 0; i < N; i++) x[i] = (float)((i * 37) % 255 - 127) / (i % 3 ? 2.0f : 1.0f);
        else
            fill(dist % DIST_COUNT, x, N, 500 + (uint64_t)dist);
        if (dist == DIST_COUNT + 1) /* a NaN, +inf and -inf in blocks of their own; the rest stay finite */
            x[5] = NAN, x[QK + 31] = INFINITY, x[QK_K + 7 * QK] = -INFINITY, x[3 * QK_K] = NAN;
        for (int l = 0; l < 6; l++) {
            int64_t n = lengths[l];
            size_t bytes = r1_act_bytes_q8_0x8(n);
            CHECK(q8_0->act_bytes(n) == bytes, "grouped Q8_0 size");
            memset(got, 0xAB, bytes);
            r1_quantize_q8_0x8(x, want, n);
            q8_0->encode_act(x, got, n);
            CHECK(memcmp(want, got, bytes) == 0, "grouped Q8_0 encoding of %s, n=%lld", name, (long long)n);
            block_q8_0 ref[N / QK];
            r1_quantize_q8_0(x, ref, n);
            const block_q8_0x8 *groups = (const block_q8_0x8 *)got;
            for (int64_t b = 0; b < n / QK; b++) {
                const block_q8_0x8 *g = &groups[b / 8];
                int sum = 0;
                for (int j = 0; j < QK; j++) sum += ref[b].qs[j];
                CHECK(memcmp(g->qs[b % 8], ref[b].qs, QK) == 0 &&
                          same_float(g->d[b % 8], r1_fp16_to_fp32(ref[b].d)) && g->sum[b % 8] == sum,
                      "grouped Q8_0 block %lld differs from Q8_0", (long long)b);
                int finite = 1; /* a block with a NaN or an infinity: d NaN, every quant 0 */
                for (int j = 0; j < QK; j++) finite &= isfinite(x[b * QK + j]) != 0;
                CHECK(finite == !isnan(r1_fp16_to_fp32(ref[b].d)) && (finite || sum == 0),
                      "%s Q8_0 block %lld: d %g, sum %d", name, (long long)b, r1_fp16_to_fp32(ref[b].d), sum);
            }
            for (int64_t b = n / QK; b % 8; b++) {
                const block_q8_0x8 *g = &groups[b / 8];
                CHECK(g->d[b % 8] == 0.0f && g->sum[b % 8] == 0, "padding block %lld", (long long)b);
            }
            if (n % QK_K) continue;
            memset(got, 0xAB, r1_act_bytes_q8_k(n));
            r1_quantize_q8_k(x, want, n);
            q8_k->encode_act(x, got, n);
            CHECK(memcmp(want, got, r1_act_bytes_q8_k(n)) == 0, "Q8_K encoding of %s, n=%lld", name, (long long)n);
            const block_q8_k *kb = (const block_q8_k *)want;
            for (int64_t b = 0; b < n / QK_K; b++) {
                int finite = 1;
                for (int j = 0; j < QK_K; j++) finite &= isfinite(x[b * QK_K + j]) != 0;
                CHECK(finite == !isnan(kb[b].d), "%s Q8_K block %lld: d %g", name, (long long)b, kb[b].d);
            }
        }
    }
}

/* pack + dot against the scalar vec_dot for every panel height 1..8, token
 * counts around the tile of four, and row lengths whose block count is not a
 * multiple of eight (a padded activation group); dot_row likewise. Cells of out
 * outside the n_rows x n_act tile must stay untouched. */
static void test_gemm_matches_vec_dot(test_ctx *t) {
    if (!r1_kernels_cpu_has_avx2()) SKIP("CPU lacks AVX2+FMA+F16C");
    r1_kernels_select(1);
    enum { MAX_N = 1536, MAX_TOK = 11, STRIDE = 13 };
    static uint8_t rows[8 * 2048], act[MAX_TOK * 2048], ref_act[MAX_TOK * 2048];
    static float x[MAX_TOK * MAX_N], out[MAX_TOK * STRIDE], ref[MAX_TOK * 8];
    static double mag[MAX_TOK * 8];
    uint8_t *panel = aligned_alloc(64, 64 * 1024);
    CHECK(panel != NULL, "out of memory");
    r1_type types[N_WEIGHT_TYPES];
    int n_types = gemm_types(types);
    CHECK(n_types >= 4, "only %d types have GEMM kernels", n_types);
    uint64_t state = 2024;
    for (int k = 0; k < n_types && !t->failed; k++) {
        r1_kernels_select(1);
        const r1_type_traits *tr = r1_type_traits_get(types[k]);
        const r1_gemm_kernels *gemm = tr->gemm;
        const r1_type_traits *act_tr = r1_type_traits_get(tr->act_type);
        const int64_t lengths[] = {tr->block_elems, 3 * tr->block_elems, tr->block_elems == QK ? 1312 : 1536};
        for (int l = 0; l < 3 && !t->failed; l++) {
            int64_t n = lengths[l];
            size_t row_bytes = r1_type_row_bytes(tr, n), act_bytes = gemm->act_bytes(n);
            size_t ref_bytes = r1_type_row_bytes(act_tr, n);
            CHECK(gemm->panel_bytes(n) <= 64 * 1024, "panel of %lld elements is %zu bytes", (long long)n, gemm->panel_bytes(n));
            random_rows(types[k], tr, rows, 8 * row_bytes, &state);
            fill(DIST_OUTLIERS, x, MAX_TOK * n, 31 + (uint64_t)l);
            for (int tok = 0; tok < MAX_TOK; tok++) {
                gemm->encode_act(x + tok * n, act + tok * act_bytes, n);
                act_tr->quantize(x + tok * n, ref_act + tok * ref_bytes, n);
            }
            r1_kernels_select(0);
            for (int tok = 0; tok < MAX_TOK; tok++)
                for (int r = 0; r < 8; r++) {
                    ref[tok * 8 + r] = tr->vec_dot(n, rows + r * row_bytes, ref_act + tok * ref_bytes);
                    mag[tok * 8 + r] = dot_magnitude(tr, rows + r * row_bytes, ref_act + tok * ref_bytes, n);
                }
            r1_kernels_select(1);
            for (int n_rows = 1; n_rows <= 8 && !t->failed; n_rows++) {
                gemm->pack(n, rows, row_bytes, n_rows, panel);
                for (int n_act = 1; n_act <= MAX_TOK && !t->failed; n_act += (n_act < 9 ? 1 : 2)) {
                    for (int i = 0; i < MAX_TOK * STRIDE; i++) out[i] = 0.5f + (float)i;
                    gemm->dot(n, panel, n_rows, act, act_bytes, n_act, out, STRIDE);
                    for (int tok = 0; tok < MAX_TOK; tok++) {
                        for (int r = 0; r < STRIDE; r++) {
                            float got = out[tok * STRIDE + r];
                            if (tok >= n_act || r >= n_rows) {
                                CHECK(got == 0.5f + (float)(tok * STRIDE + r),
                                      "%s: cell (token %d, row %d) outside the %d x %d tile changed", tr->name, tok, r,
                                      n_act, n_rows);
                                continue;
                            }
                            CHECK(fabs(got - ref[tok * 8 + r]) <= 1e-5 * mag[tok * 8 + r],
                                  "%s n=%lld rows=%d tokens=%d: row %d token %d gemm %.9g, vec_dot %.9g (magnitude %g)",
                                  tr->name, (long long)n, n_rows, n_act, r, tok, got, ref[tok * 8 + r], mag[tok * 8 + r]);
                        }
                    }
                }
            }
            /* dot_row (decode) on the same encoding */
            for (int tok = 0; tok < MAX_TOK; tok++)
                for (int r = 0; r < 8; r++) {
                    float got = gemm->dot_row(n, rows + r * row_bytes, act + tok * act_bytes);
                    CHECK(fabs(got - ref[tok * 8 + r]) <= 1e-5 * mag[tok * 8 + r],
                          "%s n=%lld dot_row row %d token %d: %.9g, vec_dot %.9g", tr->name, (long long)n, r, tok, got,
                          ref[tok * 8 + r]);
                }
        }
    }
    free(panel);
    r1_kernels_select(1);
}

/* r1_matmul_many with the GEMM kernels (AVX2, two threads) against the scalar
 * kernels (one thread): products of different widths, token counts (1 for the
 * decode path, a few, many) and types in one pass, inputs shared, row counts that
 * leave ragged panels. */
static void test_matmul_gemm_matches_scalar(test_ctx *t) {
    if (!r1_kernels_cpu_has_avx2()) SKIP("CPU lacks AVX2+FMA+F16C");
    static const struct {
        r1_type type;
        int64_t cols, rows;
        int n_tok, input; /* input 0 or 1 (the same x for several products) */
    } specs[] = {
        {R1_TYPE_Q4_0, 1536, 37, 5, 0},  {R1_TYPE_Q8_0, 1536, 21, 5, 0}, {R1_TYPE_Q4_K, 1536, 19, 5, 0},
        {R1_TYPE_Q6_K, 1536, 8, 5, 0},   {R1_TYPE_Q4_0, 1408, 13, 1, 1}, {R1_TYPE_Q4_K, 4096, 11, 300, 1},
        {R1_TYPE_Q5_0, 1408, 9, 3, 1},   {R1_TYPE_F16, 96, 5, 2, 1},
    };
    enum { N_OPS = sizeof specs / sizeof specs[0] };
    float *x[2] = {malloc(5 * 1536 * sizeof(float)), malloc(300 * 4096 * sizeof(float))};
    r1_matrix W[N_OPS];
    r1_matmul_op ops[N_OPS];
    float *y[N_OPS], *y_ref[N_OPS];
    uint8_t *data[N_OPS];
    uint64_t state = 99;
    fill(DIST_GAUSSIAN, x[0], 5 * 1536, 11);
    fill(DIST_OUTLIERS, x[1], 300 * 4096, 12);
    for (int i = 0; i < N_OPS; i++) {
        const r1_type_traits *tr = r1_type_traits_get(specs[i].type);
        size_t row_bytes = r1_type_row_bytes(tr, specs[i].cols);
        data[i] = malloc(row_bytes * (size_t)specs[i].rows);
        if (tr->block_elems == 1) {
            float *values = malloc(sizeof(float) * (size_t)(specs[i].cols * specs[i].rows));
            fill(DIST_GAUSSIAN, values, specs[i].cols * specs[i].rows, 5);
            tr->quantize(values, data[i], specs[i].cols * specs[i].rows);
            free(values);
        } else {
            random_rows(specs[i].type, tr, data[i], row_bytes * (size_t)specs[i].rows, &state);
        }
        W[i] = (r1_matrix){tr, data[i], specs[i].cols, specs[i].rows, row_bytes};
        size_t out = (size_t)specs[i].n_tok * (size_t)specs[i].rows;
        y[i] = malloc(out * sizeof(float));
        y_ref[i] = malloc(out * sizeof(float));
        ops[i] = (r1_matmul_op){&W[i], specs[i].input ? x[1] : x[0], specs[i].n_tok, y[i]};
    }
    /* the widths differ within input 1, so those products share no encoding; input 0's four do */
    r1_compute c1, c2;
    CHECK(r1_compute_init(&c1, 1) == R1_OK && r1_compute_init(&c2, 2) == R1_OK, "compute init");
    r1_kernels_select(0);
    for (int i = 0; i < N_OPS; i++) {
        r1_matmul_op op = ops[i];
        op.y = y_ref[i];
        CHECK(r1_matmul(&c1, op.W, op.x, op.n_tok, op.y) == R1_OK, "scalar matmul %d", i);
    }
    r1_kernels_select(1);
    CHECK(r1_matmul_many(&c2, ops, N_OPS) == R1_OK, "matmul_many");
    for (int i = 0; i < N_OPS && !t->failed; i++) {
        for (int tok = 0; tok < specs[i].n_tok; tok++) {
            const float *xt = ops[i].x + (size_t)tok * (size_t)specs[i].cols;
            for (int64_t r = 0; r < specs[i].rows; r++) {
                /* magnitude bound from the float values: sum |w| |x| */
                static float w_row[4096];
                r1_matrix_row(&W[i], r, w_row);
                double mag = 0;
                for (int64_t j = 0; j < specs[i].cols; j++) mag += fabs((double)w_row[j] * xt[j]);
                float got = y[i][(size_t)tok * (size_t)specs[i].rows + (size_t)r];
                float want = y_ref[i][(size_t)tok * (size_t)specs[i].rows + (size_t)r];
                CHECK(fabs(got - want) <= 1e-5 * mag, "product %d (%s, %lld x %lld, %d tokens): y[%d][%lld] = %.9g, scalar %.9g",
                      i, W[i].type->name, (long long)specs[i].rows, (long long)specs[i].cols, specs[i].n_tok, tok,
                      (long long)r, got, want);
            }
        }
    }
    r1_compute_free(&c1);
    r1_compute_free(&c2);
    for (int i = 0; i < N_OPS; i++) free(data[i]), free(y[i]), free(y_ref[i]);
    free(x[0]);
    free(x[1]);
}

/* The float types read a weight row once for several tokens (vec_dot_tokens): each
 * token's sum is its own vec_dot's, bit for bit, for every count of tokens (three a
 * pass, then two or one), every tail length, and through r1_matmul against the
 * same tokens run one at a time. */
static void test_float_tokens_match_vec_dot(test_ctx *t) {
    if (!r1_kernels_cpu_has_avx2()) SKIP("CPU lacks AVX2+FMA+F16C");
    r1_kernels_select(1);
    static const r1_type types[] = {R1_TYPE_F32, R1_TYPE_F16, R1_TYPE_BF16};
    static const int lengths[] = {1, 7, 8, 9, 31, 32, 33, 48, 64, 95, 192, 257};
    enum { MAX_N = 257, MAX_TOK = 8, ACT_PAD = 3, OUT_STRIDE = 5 };
    static float values[MAX_N], act[MAX_TOK * (MAX_N + ACT_PAD)];
    static uint8_t row[MAX_N * 4];
    float out[MAX_TOK * OUT_STRIDE];
    for (int ty = 0; ty < 3; ty++) {
        const r1_type_traits *tr = r1_type_traits_get(types[ty]);
        CHECK(tr->vec_dot_tokens, "%s has no vec_dot_tokens with the AVX2 kernels", tr->name);
        for (int li = 0; li < (int)(sizeof lengths / sizeof lengths[0]); li++) {
            int n = lengths[li];
            size_t act_stride = (size_t)(n + ACT_PAD) * sizeof(float);
            fill(DIST_GAUSSIAN, values, n, 100 + li);
            tr->quantize(values, row, n);
            fill(DIST_OUTLIERS, act, MAX_TOK * (n + ACT_PAD), 200 + li);
            for (int n_act = 1; n_act <= MAX_TOK; n_act++) {
                tr->vec_dot_tokens(n, row, act, act_stride, n_act, out, OUT_STRIDE);
                for (int tok = 0; tok < n_act; tok++) {
                    float want = tr->vec_dot(n, row, (const char *)act + tok * act_stride);
                    CHECK(memcmp(&out[tok * OUT_STRIDE], &want, sizeof want) == 0,
                          "%s n %d, %d tokens: token %d gives %.9g, its own vec_dot %.9g", tr->name, n, n_act, tok,
                          out[tok * OUT_STRIDE], want);
                }
            }
        }
    }
    /* the bits themselves: golden sums from the one-token kernels as they were before
     * vec_dot_tokens (commit f4d5ed8), on inputs whose products and sums round;
     * every trained model's samples depend on them */
    static const struct {
        int n;
        uint32_t f32, f16, bf16;
    } golden[] = {{100, 0x3f451d32, 0x3f45162a, 0x3f4516ab},
                  {37, 0x3ee51233, 0x3ee50956, 0x3ee4faad},
                  {5, 0xbe1e79e4, 0xbe1e7554, 0xbe1effff}};
    float gw[100], gx[3][100];
    uint8_t grow[100 * 4];
    for (int i = 0; i < 100; i++) {
        gw[i] = 1.0f / (float)(i + 3);
        gx[0][i] = gx[1][i] = gx[2][i] = (float)(i % 7 + 1) / 3.0f - 1.0f;
    }
    for (int ty = 0; ty < 3; ty++) {
        const r1_type_traits *tr = r1_type_traits_get(types[ty]);
        tr->quantize(gw, grow, 100);
        for (int g = 0; g < 3; g++) {
            uint32_t want = ty == 0 ? golden[g].f32 : ty == 1 ? golden[g].f16 : golden[g].bf16, got;
            float sum = tr->vec_dot(golden[g].n, grow, gx[0]);
            memcpy(&got, &sum, sizeof got);
            CHECK(got == want, "%s n %d: 0x%08x, before 0x%08x", tr->name, golden[g].n, got, want);
            tr->vec_dot_tokens(golden[g].n, grow, gx, sizeof gx[0], 3, out, 1);
            for (int tok = 0; tok < 3; tok++) {
                memcpy(&got, &out[tok], sizeof got);
                CHECK(got == want, "%s n %d, token %d of 3: 0x%08x, before 0x%08x", tr->name, golden[g].n, tok, got,
                      want);
            }
        }
    }

    /* attention's form: one query against keys spaced row_stride floats apart,
     * r1_dot_f32_rows against r1_dot_f32 per key, at both kernel levels */
    for (int level = 0; level < 2; level++) {
        r1_kernels_select(level);
        float scores[MAX_TOK];
        for (int li = 0; li < (int)(sizeof lengths / sizeof lengths[0]); li++) {
            int n = lengths[li];
            r1_dot_f32_rows(n, values, act, (size_t)n + ACT_PAD, MAX_TOK, scores);
            for (int j = 0; j < MAX_TOK; j++) {
                float want = r1_dot_f32(n, values, act + (size_t)j * (n + ACT_PAD));
                CHECK(memcmp(&scores[j], &want, sizeof want) == 0, "level %d n %d: key %d gives %.9g, r1_dot_f32 %.9g",
                      level, n, j, scores[j], want);
            }
        }
    }
    /* and the weighted sum of values: r1_axpy_f32_rows against r1_axpy_f32 row
     * after row, for every length's vectors and tail */
    for (int level = 0; level < 2; level++) {
        r1_kernels_select(level);
        static float y_rows[MAX_N], y_each[MAX_N];
        for (int li = 0; li < (int)(sizeof lengths / sizeof lengths[0]); li++) {
            int n = lengths[li];
            for (int n_rows = 1; n_rows <= MAX_TOK; n_rows++) {
                memcpy(y_rows, values, sizeof y_rows);
                memcpy(y_each, values, sizeof y_each);
                r1_axpy_f32_rows(n, values + 100, act, (size_t)n + ACT_PAD, n_rows, y_rows);
                for (int j = 0; j < n_rows; j++) r1_axpy_f32(n, values[100 + j], act + (size_t)j * (n + ACT_PAD), y_each);
                CHECK(memcmp(y_rows, y_each, sizeof y_rows) == 0, "level %d n %d, %d rows: axpy_rows differs", level, n,
                      n_rows);
            }
        }
    }
    r1_kernels_select(1);
    /* and their bits: a hash of y after five axpys by the axpy kernel as it was
     * before r1_axpy_f32_rows (commit f4d5ed8), for a length with 64-wide blocks,
     * one with 8-wide ones and a tail, and a tail alone */
    static const struct {
        int n;
        uint32_t hash;
    } axpy_golden[] = {{100, 0x9bc592cf}, {37, 0x0edf5334}, {5, 0xb43d9be7}};
    float ay[100], ax[5][100], aw[5];
    for (int g = 0; g < 3; g++) {
        for (int i = 0; i < 100; i++) {
            ay[i] = 1.0f / (float)(i + 7);
            for (int j = 0; j < 5; j++) ax[j][i] = (float)((i * (j + 3)) % 11 + 1) / 7.0f - 0.8f;
        }
        for (int j = 0; j < 5; j++) aw[j] = 1.0f / (float)(j + 3);
        r1_axpy_f32_rows(axpy_golden[g].n, aw, ax[0], 100, 5, ay);
        uint32_t hash = 2166136261u;
        for (int i = 0; i < 100; i++) {
            uint32_t b;
            memcpy(&b, &ay[i], sizeof b);
            hash = (hash ^ b) * 16777619u;
        }
        CHECK(hash == axpy_golden[g].hash, "axpy rows n %d: hash 0x%08x, before 0x%08x", axpy_golden[g].n, hash,
              axpy_golden[g].hash);
    }

    /* a 197 × 41 F32 product of 7 tokens through r1_matmul (two threads) against
     * each token alone (one token takes the rows three at a time with the token as
     * the row; 197 = 6·32 + 5 exercises the tails) */
    enum { COLS = 197, ROWS = 41, N_TOK = 7 };
    const r1_type_traits *f32 = r1_type_traits_get(R1_TYPE_F32);
    float *w = malloc(sizeof(float) * COLS * ROWS), *x = malloc(sizeof(float) * COLS * N_TOK);
    float *y = malloc(sizeof(float) * ROWS * N_TOK), *y_one = malloc(sizeof(float) * ROWS);
    fill(DIST_GAUSSIAN, w, COLS * ROWS, 7);
    fill(DIST_GAUSSIAN, x, COLS * N_TOK, 8);
    r1_matrix W = {f32, (const uint8_t *)w, COLS, ROWS, COLS * sizeof(float)};
    r1_compute c;
    CHECK(r1_compute_init(&c, 2) == R1_OK, "compute init");
    int ok = r1_matmul(&c, &W, x, N_TOK, y) == R1_OK;
    for (int tok = 0; tok < N_TOK && ok && !t->failed; tok++) {
        ok = r1_matmul(&c, &W, x + (size_t)tok * COLS, 1, y_one) == R1_OK;
        for (int r = 0; r < ROWS && ok; r++)
            CHECK(memcmp(&y[(size_t)tok * ROWS + r], &y_one[r], sizeof(float)) == 0,
                  "matmul token %d row %d: %.9g with 7 tokens, %.9g alone", tok, r, y[(size_t)tok * ROWS + r], y_one[r]);
    }
    r1_compute_free(&c);
    free(w), free(x), free(y), free(y_one);
    CHECK(ok, "r1_matmul failed");
}

/* ---- 7. traits table ---------------------------------------------------------------- */

static void test_traits_table(test_ctx *t) {
    static const struct {
        r1_type type;
        const char *name;
        int64_t elems;
        size_t bytes;
        r1_type act;
    } want[] = {
        {R1_TYPE_F32, "F32", 1, 4, R1_TYPE_F32},           {R1_TYPE_F16, "F16", 1, 2, R1_TYPE_F32},
        {R1_TYPE_BF16, "BF16", 1, 2, R1_TYPE_F32},         {R1_TYPE_Q8_0, "Q8_0", 32, 34, R1_TYPE_Q8_0},
        {R1_TYPE_Q4_0, "Q4_0", 32, 18, R1_TYPE_Q8_0},      {R1_TYPE_Q5_0, "Q5_0", 32, 22, R1_TYPE_Q8_0},
        {R1_TYPE_Q4_K, "Q4_K", 256, 144, R1_TYPE_Q8_K},    {R1_TYPE_Q5_K, "Q5_K", 256, 176, R1_TYPE_Q8_K},
        {R1_TYPE_Q6_K, "Q6_K", 256, 210, R1_TYPE_Q8_K},    {R1_TYPE_Q8_K, "Q8_K", 256, 292, R1_TYPE_Q8_K},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        const r1_type_traits *tr = r1_type_traits_get(want[i].type);
        CHECK(tr != NULL, "type %d missing", want[i].type);
        CHECK(strcmp(tr->name, want[i].name) == 0 && strcmp(r1_type_name(want[i].type), want[i].name) == 0,
              "name %s", tr->name);
        CHECK(tr->block_elems == want[i].elems && tr->block_bytes == want[i].bytes && tr->act_type == want[i].act,
              "%s: %lld elems, %zu bytes, act %d", tr->name, (long long)tr->block_elems, tr->block_bytes, tr->act_type);
        CHECK(tr->dequantize && tr->quantize && (tr->vec_dot != NULL) == (want[i].type != R1_TYPE_Q8_K),
              "%s kernels", tr->name);
    }
    /* GEMM kernels: every quantized weight type, with the AVX2 kernels selected only */
    int levels = r1_kernels_cpu_has_avx2() ? 2 : 1;
    for (int level = 0; level < levels; level++) {
        r1_kernels_select(level);
        for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
            const r1_type_traits *tr = r1_type_traits_get(want[i].type);
            int quantized = want[i].elems > 1 && want[i].type != R1_TYPE_Q8_K;
            CHECK((tr->gemm != NULL) == (level == 1 && quantized), "%s: GEMM kernels %s at level %d", tr->name,
                  tr->gemm ? "present" : "absent", level);
            CHECK((tr->vec_dot_tokens != NULL) == (level == 1 && want[i].elems == 1),
                  "%s: vec_dot_tokens %s at level %d", tr->name, tr->vec_dot_tokens ? "present" : "absent", level);
        }
    }
    r1_kernels_select(1);
    CHECK(r1_type_row_bytes(r1_type_traits_get(R1_TYPE_Q4_K), 4096) == 16 * 144, "Q4_K row bytes");
    CHECK(r1_type_row_bytes(r1_type_traits_get(R1_TYPE_BF16), 10) == 20, "BF16 row bytes");

    static const uint32_t unsupported[] = {3, 4, 7, 9, 10, 11, 16, 23, 24, 28, 29, 31, 39, 40, 1000, UINT32_MAX};
    for (size_t i = 0; i < sizeof unsupported / sizeof unsupported[0]; i++)
        CHECK(r1_type_traits_get(unsupported[i]) == NULL, "type %u should be unsupported", unsupported[i]);
    CHECK(strcmp(r1_type_name(3), "Q4_1") == 0, "%s", r1_type_name(3));
    CHECK(strcmp(r1_type_name(23), "IQ4_XS") == 0, "%s", r1_type_name(23));
    CHECK(strcmp(r1_type_name(28), "F64") == 0, "%s", r1_type_name(28));
    CHECK(strcmp(r1_type_name(39), "MXFP4") == 0, "%s", r1_type_name(39));
    CHECK(strcmp(r1_type_name(1000), "unknown") == 0, "%s", r1_type_name(1000));
    for (uint32_t id = 0; id < 40; id++)
        CHECK(strcmp(r1_type_name(id), "unknown") != 0, "id %u has no name", id);
}

TEST_MAIN("quant", T(test_fp16_known_values), T(test_bf16_known_values), T(test_dequantize_q8_0_q4_0_q5_0),
          T(test_dequantize_q4_k_q5_k), T(test_dequantize_q6_k_q8_k), T(test_dequantize_f16_bf16),
          T(test_quantize_known_bytes), T(test_quantize_error), T(test_vec_dot_matches_dequantized),
          T(test_avx2_matches_scalar), T(test_float_kernels_tails), T(test_gemm_act_encoders),
          T(test_gemm_matches_vec_dot), T(test_matmul_gemm_matches_scalar), T(test_float_tokens_match_vec_dot),
          T(test_traits_table))
