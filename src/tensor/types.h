/* Tensor element types as GGUF stores them (ggml's type ids and block layouts),
 * with their dequantisation, reference quantisation and dot-product kernels.
 *
 * Quantised matrix-vector products follow the integer scheme of the GGUF world:
 * the activation vector is first encoded in the weight type's `act_type`
 * (Q8_0 for the 32-element block types, Q8_K for the 256-element K-quants, F32
 * for float weights), then each weight row is dotted with it. */
#ifndef R1_TYPES_H
#define R1_TYPES_H

#include <stddef.h>
#include <stdint.h>

typedef enum {
    R1_TYPE_F32 = 0,
    R1_TYPE_F16 = 1,
    R1_TYPE_Q4_0 = 2,
    R1_TYPE_Q5_0 = 6,
    R1_TYPE_Q8_0 = 8,
    R1_TYPE_Q4_K = 12,
    R1_TYPE_Q5_K = 13,
    R1_TYPE_Q6_K = 14,
    R1_TYPE_Q8_K = 15, /* activations only: float scale, 256 int8, 16 int16 block sums */
    R1_TYPE_BF16 = 30,
} r1_type;

/* The fast path of the matrix products (AVX2): for several tokens (prompt
 * processing) up to R1_GEMM_ROWS weight rows are packed into a panel -- quants
 * unpacked to bytes, the rows interleaved so that one SIMD lane holds one row --
 * and the panel is multiplied with every token, so each weight is unpacked once
 * per panel instead of once per token (GEMM); for one token (decode), dot_row.
 * Activations have their own encoding here: the act_type's values, with what the
 * kernels would otherwise recompute for every row (float scales, block sums).
 * The plain path these replace, and the reference they are tested against, is
 * vec_dot for each row and token. */
#define R1_GEMM_ROWS 8

typedef struct {
    /* bytes of one packed panel of rows of n elements */
    size_t (*panel_bytes)(int64_t n);
    /* packs n_rows <= R1_GEMM_ROWS rows (row_bytes apart) into panel (64-byte aligned) */
    void (*pack)(int64_t n, const void *rows, size_t row_bytes, int n_rows, void *panel);
    /* bytes of one token's encoded activations (n elements), and the encoder */
    size_t (*act_bytes)(int64_t n);
    void (*encode_act)(const float *x, void *act, int64_t n);
    /* out[t * out_stride + r] = sum_i w_r[i] * a_t[i] for r < n_rows, t < n_act,
     * token t encoded at act + t * act_stride */
    void (*dot)(int64_t n, const void *panel, int n_rows, const void *act, size_t act_stride, int n_act,
                float *out, size_t out_stride);
    /* sum_i w[i] * a[i]: one row as stored times one token encoded as above */
    float (*dot_row)(int64_t n, const void *w_row, const void *act);
} r1_gemm_kernels;

typedef void (*r1_vec_dot_tokens_fn)(int64_t n, const void *w_row, const void *act, size_t act_stride, int n_act,
                                     float *out, size_t out_stride);

typedef struct {
    const char *name;   /* "Q4_K", as GGUF tools print it */
    int64_t block_elems;  /* elements per block (1 for float types) */
    size_t block_bytes;   /* bytes per block */
    r1_type act_type;     /* encoding of the activation vector given to vec_dot */
    /* n is a multiple of block_elems in all three. */
    void (*dequantize)(const void *blocks, float *out, int64_t n);
    void (*quantize)(const float *in, void *blocks, int64_t n);
    /* sum_i w[i] * a[i] over n elements; w is one row of this type, a is n
     * elements encoded as act_type. Scalar or AVX2+FMA, chosen at run time.
     * NULL for Q8_K, which only ever encodes activations. */
    float (*vec_dot)(int64_t n, const void *w_row, const void *act);
    /* The fast path above, when the AVX2 kernels are selected and the type has
     * it (all quantized weight types); else NULL. */
    const r1_gemm_kernels *gemm;
    /* out[t·out_stride] = vec_dot(n, w_row, act + t·act_stride bytes) for t < n_act,
     * bit for bit, with the row read once for several tokens: the float types with
     * the AVX2 kernels selected; else NULL, and tokens go one by one through
     * vec_dot (which is also the reference this is tested against). */
    r1_vec_dot_tokens_fn vec_dot_tokens;
} r1_type_traits;

/* Traits for a GGUF type id; NULL when r1 does not support that type. */
const r1_type_traits *r1_type_traits_get(uint32_t type);

/* Name for any ggml type id, supported or not ("IQ4_XS", or "unknown" for an id r1's
 * table does not name; messages print the id beside it). */
const char *r1_type_name(uint32_t type);

/* Bytes of n elements of type t (n a multiple of the block size; callers check
 * for overflow first, as the GGUF reader does). */
size_t r1_type_row_bytes(const r1_type_traits *t, int64_t n);

/* The type a matrix with rows of row_len elements is stored in when `want` (a
 * weight type) is asked for: want when the rows hold whole blocks, else Q8_0
 * (32-element blocks), else F16, which fits any row. */
r1_type r1_type_for_row(r1_type want, int64_t row_len);

/* Kernel selection: 0 = portable scalar, 1 = AVX2+FMA, 2 = AVX2+FMA with the
 * AVX-512 float GEMM (tensor/gemm_f32.h; the same bits as its AVX2 kernel, about
 * 1.5× its speed). Levels the CPU lacks fall back to the highest it has; the
 * default is that highest. Returns the level now in force. It rewrites the shared
 * traits table, so call it while no kernel is running. */
int r1_kernels_select(int level);
/* The level in force, for kernels dispatched outside this table (train/adamw.c). */
int r1_kernels_level(void);
int r1_kernels_cpu_has_avx2(void);
int r1_kernels_cpu_has_avx512(void);
/* AVX512_BF16 (VDPBF16PS): tensor/gemm_bf16.h's fast kernel, at level 2 only. */
int r1_kernels_cpu_has_avx512_bf16(void);

/* Half-precision conversions (IEEE binary16 and bfloat16), round-to-nearest-even. */
float r1_fp16_to_fp32(uint16_t h);
uint16_t r1_fp32_to_fp16(float f);
float r1_bf16_to_fp32(uint16_t h);
uint16_t r1_fp32_to_bf16(float f);

/* Float vector kernels used by attention and norms (scalar or AVX2 as above). */
float r1_dot_f32(int64_t n, const float *a, const float *b);
/* out[j] = r1_dot_f32(n, a, rows + j·row_stride) for j < n_rows, bit for bit, with a
 * read once for several rows (attention: a query against its keys). */
void r1_dot_f32_rows(int64_t n, const float *a, const float *rows, size_t row_stride, int n_rows, float *out);
/* y[i] += a * x[i] */
void r1_axpy_f32(int64_t n, float a, const float *x, float *y);
/* y[i] += Σ_j a[j] * rows[j·row_stride + i], j in order: bit for bit r1_axpy_f32 row
 * after row, with y held in registers (attention: the weighted sum of values).
 * y must not overlap rows (nor x in r1_axpy_f32): up to 64 elements of y are read
 * before any row. */
void r1_axpy_f32_rows(int64_t n, const float *a, const float *rows, size_t row_stride, int n_rows, float *y);

#endif
