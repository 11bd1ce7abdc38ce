/* The type traits table (ggml type id -> block size, kernels), type names, and
 * the run-time choice between the scalar and the AVX2+FMA kernels. */
#include <cpuid.h>
#include <pthread.h>
#include <stdatomic.h>

#include "tensor/activation.h"
#include "tensor/gemm_bf16.h"
#include "tensor/gemm_f32.h"
#include "tensor/quant.h"

/* One row per supported type; vec_dot, gemm and vec_dot_tokens are filled in by
 * select_kernels(). */
typedef struct {
    r1_type_traits traits;
    float (*vec_dot_scalar)(int64_t n, const void *w_row, const void *act);
    float (*vec_dot_avx2)(int64_t n, const void *w_row, const void *act);
    const r1_gemm_kernels *gemm_avx2;     /* quantized types: several tokens go through GEMM panels */
    r1_vec_dot_tokens_fn vec_dot_tokens_avx2; /* float types: several tokens a row */
} type_entry;

#define ENTRY(id, label, elems, bytes, act, suffix, gemm, tokens)                                                \
    [id] = {{label, elems, bytes, act, r1_dequantize_##suffix, r1_quantize_##suffix, r1_vec_dot_##suffix, NULL, \
             NULL},                                                                                              \
            r1_vec_dot_##suffix, r1_vec_dot_##suffix##_avx2, gemm, tokens}

static type_entry type_table[] = {
    ENTRY(R1_TYPE_F32, "F32", 1, 4, R1_TYPE_F32, f32, NULL, r1_vec_dot_tokens_f32_avx2),
    ENTRY(R1_TYPE_F16, "F16", 1, 2, R1_TYPE_F32, f16, NULL, r1_vec_dot_tokens_f16_avx2),
    ENTRY(R1_TYPE_BF16, "BF16", 1, 2, R1_TYPE_F32, bf16, NULL, r1_vec_dot_tokens_bf16_avx2),
    ENTRY(R1_TYPE_Q8_0, "Q8_0", QK, sizeof(block_q8_0), R1_TYPE_Q8_0, q8_0, &r1_gemm_q8_0_avx2, NULL),
    ENTRY(R1_TYPE_Q4_0, "Q4_0", QK, sizeof(block_q4_0), R1_TYPE_Q8_0, q4_0, &r1_gemm_q4_0_avx2, NULL),
    ENTRY(R1_TYPE_Q5_0, "Q5_0", QK, sizeof(block_q5_0), R1_TYPE_Q8_0, q5_0, &r1_gemm_q5_0_avx2, NULL),
    ENTRY(R1_TYPE_Q4_K, "Q4_K", QK_K, sizeof(block_q4_k), R1_TYPE_Q8_K, q4_k, &r1_gemm_q4_k_avx2, NULL),
    ENTRY(R1_TYPE_Q5_K, "Q5_K", QK_K, sizeof(block_q5_k), R1_TYPE_Q8_K, q5_k, &r1_gemm_q5_k_avx2, NULL),
    ENTRY(R1_TYPE_Q6_K, "Q6_K", QK_K, sizeof(block_q6_k), R1_TYPE_Q8_K, q6_k, &r1_gemm_q6_k_avx2, NULL),
    /* activations only: no dot product takes Q8_K weights */
    [R1_TYPE_Q8_K] = {{"Q8_K", QK_K, sizeof(block_q8_k), R1_TYPE_Q8_K, r1_dequantize_q8_k, r1_quantize_q8_k, NULL, NULL,
                       NULL},
                      NULL, NULL, NULL, NULL},
};

#define TABLE_SIZE (sizeof type_table / sizeof type_table[0])

/* ---- kernel selection ---------------------------------------------------- */

static float (*dot_f32_kernel)(int64_t n, const float *a, const float *b) = r1_dot_f32_scalar;
static void (*axpy_f32_kernel)(int64_t n, float a, const float *x, float *y) = r1_axpy_f32_scalar;
static void (*swiglu_f32_kernel)(int64_t n, float *out, const float *gate, const float *up) = r1_swiglu_f32_scalar;
static void (*swiglu_backward_f32_kernel)(int64_t n, float *dgate, float *dup, const float *dout,
                                          const float *gate_in, const float *up_in) = r1_swiglu_backward_f32_scalar;
static r1_gemm_f32_fn gemm_f32_kernel = r1_gemm_f32_scalar;
static r1_gemm_f32_fn gemm_bf16_kernel = r1_gemm_bf16_scalar;
static int kernels_level;
static pthread_once_t kernels_default_once = PTHREAD_ONCE_INIT;
/* set once the default is in place: the float kernels are called millions of times
 * a training step, and pthread_once on each call cost ~2 % of it */
static atomic_int kernels_ready;

/* F16C is CPUID leaf 1, ECX bit 29. Asked directly because clang (up to 15 at
 * least) rejects __builtin_cpu_supports("f16c"); the avx2 check already covers
 * the OS saving the YMM registers. */
static int cpu_has_f16c(void) {
    unsigned eax, ebx, ecx, edx;
    return __get_cpuid(1, &eax, &ebx, &ecx, &edx) && (ecx >> 29 & 1);
}

int r1_kernels_cpu_has_avx2(void) {
    __builtin_cpu_init(); /* needed when called before constructors have run */
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && cpu_has_f16c();
}

/* The OS saving the ZMM registers is part of what __builtin_cpu_supports checks. */
int r1_kernels_cpu_has_avx512(void) {
    return r1_kernels_cpu_has_avx2() && __builtin_cpu_supports("avx512f");
}

int r1_kernels_cpu_has_avx512_bf16(void) {
    return r1_kernels_cpu_has_avx512() && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512bf16");
}

static int cpu_level(void) { return r1_kernels_cpu_has_avx512() ? 2 : r1_kernels_cpu_has_avx2() ? 1 : 0; }

static void select_kernels(int level) {
    int avx2 = level >= 1;
    kernels_level = level;
    dot_f32_kernel = avx2 ? r1_dot_f32_avx2 : r1_dot_f32_scalar;
    axpy_f32_kernel = avx2 ? r1_axpy_f32_avx2 : r1_axpy_f32_scalar;
    swiglu_f32_kernel = avx2 ? r1_swiglu_f32_avx2 : r1_swiglu_f32_scalar;
    swiglu_backward_f32_kernel = avx2 ? r1_swiglu_backward_f32_avx2 : r1_swiglu_backward_f32_scalar;
    gemm_f32_kernel = level >= 2 ? r1_gemm_f32_avx512 : avx2 ? r1_gemm_f32_avx2 : r1_gemm_f32_scalar;
    gemm_bf16_kernel = level >= 2 && r1_kernels_cpu_has_avx512_bf16() ? r1_gemm_bf16_avx512 : r1_gemm_bf16_scalar;
    for (size_t i = 0; i < TABLE_SIZE; i++) {
        type_table[i].traits.vec_dot = avx2 ? type_table[i].vec_dot_avx2 : type_table[i].vec_dot_scalar;
        type_table[i].traits.gemm = avx2 ? type_table[i].gemm_avx2 : NULL;
        type_table[i].traits.vec_dot_tokens = avx2 ? type_table[i].vec_dot_tokens_avx2 : NULL;
    }
}

static void select_default_kernels(void) {
    select_kernels(cpu_level());
    atomic_store_explicit(&kernels_ready, 1, memory_order_release);
}

/* The default is chosen once, on first use; an explicit r1_kernels_select()
 * (meant for start-up and tests, not to race with running kernels) overrides it. */
static inline void ensure_kernels_selected(void) {
    if (!atomic_load_explicit(&kernels_ready, memory_order_acquire))
        pthread_once(&kernels_default_once, select_default_kernels);
}

int r1_kernels_select(int level) {
    ensure_kernels_selected();
    int max = cpu_level();
    select_kernels(level < 0 ? 0 : level > max ? max : level);
    return kernels_level;
}

float r1_dot_f32(int64_t n, const float *a, const float *b) {
    ensure_kernels_selected();
    return dot_f32_kernel(n, a, b);
}

void r1_dot_f32_rows(int64_t n, const float *a, const float *rows, size_t row_stride, int n_rows, float *out) {
    ensure_kernels_selected();
    /* the F32 rows' several-token kernel with a as the row sums as r1_dot_f32_avx2 */
    if (kernels_level >= 1) r1_vec_dot_tokens_f32_avx2(n, a, rows, row_stride * sizeof(float), n_rows, out, 1);
    else
        for (int j = 0; j < n_rows; j++) out[j] = dot_f32_kernel(n, a, rows + (size_t)j * row_stride);
}

void r1_axpy_f32(int64_t n, float a, const float *x, float *y) {
    ensure_kernels_selected();
    axpy_f32_kernel(n, a, x, y);
}

void r1_axpy_f32_rows(int64_t n, const float *a, const float *rows, size_t row_stride, int n_rows, float *y) {
    ensure_kernels_selected();
    if (kernels_level >= 1) r1_axpy_f32_rows_avx2(n, a, rows, row_stride, n_rows, y);
    else
        for (int j = 0; j < n_rows; j++) r1_axpy_f32_scalar(n, a[j], rows + (size_t)j * row_stride, y);
}

void r1_swiglu_f32(int64_t n, float *out, const float *gate, const float *up) {
    ensure_kernels_selected();
    swiglu_f32_kernel(n, out, gate, up);
}

void r1_swiglu_backward_f32(int64_t n, float *dgate, float *dup, const float *dout, const float *gate_in,
                            const float *up_in) {
    ensure_kernels_selected();
    swiglu_backward_f32_kernel(n, dgate, dup, dout, gate_in, up_in);
}

int r1_kernels_level(void) {
    ensure_kernels_selected();
    return kernels_level;
}

r1_gemm_f32_fn r1_gemm_f32_kernel(void) {
    ensure_kernels_selected();
    return gemm_f32_kernel;
}

r1_gemm_f32_fn r1_gemm_bf16_kernel(void) {
    ensure_kernels_selected();
    return gemm_bf16_kernel;
}

/* ---- traits and names ----------------------------------------------------- */

const r1_type_traits *r1_type_traits_get(uint32_t type) {
    if (type >= TABLE_SIZE || type_table[type].traits.name == NULL) return NULL;
    ensure_kernels_selected();
    return &type_table[type].traits;
}

/* ggml's type ids as GGUF tools (gguf-py's GGMLQuantizationType) name them,
 * including ids that were removed (4, 5, 31..33, 36..38) but may appear in old files. */
static const char *const ggml_type_names[] = {
    "F32",     "F16",      "Q4_0",     "Q4_1",       "Q4_2",       "Q4_3",       "Q5_0",     "Q5_1",
    "Q8_0",    "Q8_1",     "Q2_K",     "Q3_K",       "Q4_K",       "Q5_K",       "Q6_K",     "Q8_K",
    "IQ2_XXS", "IQ2_XS",   "IQ3_XXS",  "IQ1_S",      "IQ4_NL",     "IQ3_S",      "IQ2_S",    "IQ4_XS",
    "I8",      "I16",      "I32",      "I64",        "F64",        "IQ1_M",      "BF16",     "Q4_0_4_4",
    "Q4_0_4_8", "Q4_0_8_8", "TQ1_0",   "TQ2_0",      "IQ4_NL_4_4", "IQ4_NL_4_8", "IQ4_NL_8_8", "MXFP4",
};

const char *r1_type_name(uint32_t type) {
    if (type < sizeof ggml_type_names / sizeof ggml_type_names[0]) return ggml_type_names[type];
    return "unknown";
}

size_t r1_type_row_bytes(const r1_type_traits *t, int64_t n) {
    return (size_t)(n / t->block_elems) * t->block_bytes;
}

r1_type r1_type_for_row(r1_type want, int64_t row_len) {
    if (row_len % r1_type_traits_get(want)->block_elems == 0) return want;
    if (row_len % 32 == 0) return R1_TYPE_Q8_0;
    return R1_TYPE_F16;
}
