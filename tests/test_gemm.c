/* The trainer's matrix products, float (tensor/gemm_f32.h) and bfloat16
 * (tensor/gemm_bf16.h): the scalar references and the AVX2, AVX-512 and
 * AVX512_BF16 kernels against a double-precision product (of the operands rounded
 * to bfloat16, for the latter), in the three forms, on shapes with partial tiles,
 * strides wider than the rows, odd K and K longer than one panel; the columns past
 * N left alone; the float SIMD kernels bit-identical, and the bfloat16 kernel
 * bit-identical to its reference; and the promise the pooled trainer relies on — a
 * product split into row or column blocks gives the same bits as in one call. */
#include "test.h"

#include <stdint.h>

#include "tensor/gemm_bf16.h"
#include "tensor/gemm_f32.h"
#include "tensor/types.h"

enum { FLOAT32, BFLOAT16 };
static const char *const precision_names[] = {"f32", "bf16"};

enum { FORM_NN, FORM_NT, FORM_TN };
static const char *const form_names[] = {"nn", "nt", "tn"};

static float uniform(uint32_t *state) {
    *state = *state * 1664525u + 1013904223u;
    return (float)(*state >> 8) / 16777216.0f - 0.5f;
}

/* The operands of one product, each with 3 spare columns so strides exceed widths. */
typedef struct {
    int form, M, N, K;
    size_t lda, ldb, ldc;
    float *A, *B, *C0;
} product;

static int product_init(product *p, int form, int M, int N, int K, uint32_t seed) {
    p->form = form, p->M = M, p->N = N, p->K = K;
    int a_rows = form == FORM_TN ? K : M, a_cols = form == FORM_TN ? M : K;
    int b_rows = form == FORM_NT ? N : K, b_cols = form == FORM_NT ? K : N;
    p->lda = (size_t)a_cols + 3, p->ldb = (size_t)b_cols + 3, p->ldc = (size_t)N + 3;
    p->A = malloc(sizeof(float) * a_rows * p->lda);
    p->B = malloc(sizeof(float) * b_rows * p->ldb);
    p->C0 = malloc(sizeof(float) * M * p->ldc);
    if (!p->A || !p->B || !p->C0) return 0;
    for (size_t i = 0; i < a_rows * p->lda; i++) p->A[i] = uniform(&seed);
    for (size_t i = 0; i < b_rows * p->ldb; i++) p->B[i] = uniform(&seed);
    for (size_t i = 0; i < M * p->ldc; i++) p->C0[i] = uniform(&seed);
    return 1;
}

static void product_free(product *p) { free(p->A), free(p->B), free(p->C0); }

/* An operand as the precision's product sees it. */
static float operand(int precision, float x) { return precision == BFLOAT16 ? r1_bf16_to_fp32(r1_fp32_to_bf16(x)) : x; }

static float a_at(const product *p, int precision, int i, int k) {
    return operand(precision, p->form == FORM_TN ? p->A[(size_t)k * p->lda + i] : p->A[(size_t)i * p->lda + k]);
}
static float b_at(const product *p, int precision, int k, int j) {
    return operand(precision, p->form == FORM_NT ? p->B[(size_t)j * p->ldb + k] : p->B[(size_t)k * p->ldb + j]);
}

/* C (rows [i0, i0+m), columns [j0, j0+n)) (+)= the product's block: float through
 * the form's entry point, bfloat16 through r1_gemm_call with the form's strides. */
static void run_block(const product *p, int precision, r1_gemm_mode mode, float *C, int i0, int m, int j0, int n) {
    size_t a_row = p->form == FORM_TN ? 1 : p->lda, b_col = p->form == FORM_NT ? p->ldb : 1;
    const float *A = p->A + i0 * a_row, *B = p->B + j0 * b_col;
    float *c = C + (size_t)i0 * p->ldc + j0;
    if (precision == BFLOAT16) {
        size_t a_k = p->form == FORM_TN ? p->lda : 1, b_k = p->form == FORM_NT ? 1 : p->ldb;
        r1_gemm_call(r1_gemm_bf16_kernel(), mode, m, n, p->K, A, a_row, a_k, B, b_k, b_col, c, p->ldc);
    } else if (p->form == FORM_NN) r1_gemm_nn_f32(mode, m, n, p->K, A, p->lda, B, p->ldb, c, p->ldc);
    else if (p->form == FORM_NT) r1_gemm_nt_f32(mode, m, n, p->K, A, p->lda, B, p->ldb, c, p->ldc);
    else r1_gemm_tn_f32(mode, m, n, p->K, A, p->lda, B, p->ldb, c, p->ldc);
}

static const int shapes[][3] = {
    {1, 1, 1}, {6, 16, 8}, {7, 17, 5}, {13, 37, 300}, {5, 9, 256}, {12, 32, 513}, {2, 3, 48}, {31, 8, 64},
    {25, 70, 33}, {130, 40, 20}, {500, 33, 7},
};

/* Kernel levels of r1_kernels_select this CPU has: 0 scalar, 1 AVX2, 2 AVX-512. */
static int cpu_levels(void) { return r1_kernels_cpu_has_avx512() ? 3 : r1_kernels_cpu_has_avx2() ? 2 : 1; }

/* Every element within the rounding bound of K+1 sums of its terms (plus C0 when
 * adding; set mode starts from NaN in C, which it must not read), and the spare
 * columns untouched. */
static void test_matches_double(test_ctx *t) {
    int levels = cpu_levels();
    for (int run = 0; run < 2 * levels; run++) { /* each level, each precision */
        int level = run / 2, precision = run % 2 ? BFLOAT16 : FLOAT32;
        CHECK(r1_kernels_select(level) == level, "select(%d)", level);
        for (int form = 0; form < 3; form++)
            for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
                for (int mode = R1_GEMM_ADD; mode <= R1_GEMM_SET; mode++) {
                    product p;
                    int ok = product_init(&p, form, shapes[s][0], shapes[s][1], shapes[s][2], 7 + (uint32_t)s);
                    float *C = ok ? malloc(sizeof(float) * p.M * p.ldc) : NULL;
                    if (!C) product_free(&p);
                    CHECK(C, "out of memory");
                    memcpy(C, p.C0, sizeof(float) * p.M * p.ldc);
                    for (int i = 0; mode == R1_GEMM_SET && i < p.M; i++)
                        for (int j = 0; j < p.N; j++) C[(size_t)i * p.ldc + j] = NAN;
                    run_block(&p, precision, (r1_gemm_mode)mode, C, 0, p.M, 0, p.N);
                    double worst = 0;
                    int spare_changed = 0;
                    for (int i = 0; i < p.M; i++)
                        for (size_t j = 0; j < p.ldc; j++) {
                            size_t at = (size_t)i * p.ldc + j;
                            if (j >= (size_t)p.N) {
                                spare_changed |= memcmp(&C[at], &p.C0[at], sizeof(float)) != 0;
                                continue;
                            }
                            double c0 = mode == R1_GEMM_ADD ? p.C0[at] : 0.0, ref = c0, scale = fabs(c0);
                            for (int k = 0; k < p.K; k++) {
                                double term = (double)a_at(&p, precision, i, k) * b_at(&p, precision, k, (int)j);
                                ref += term, scale += fabs(term);
                            }
                            double excess = fabs(C[at] - ref) / (2.0 * (p.K + 2) * 6e-8 * scale + 1e-30);
                            if (!(excess <= worst)) worst = excess; /* NaN too */
                        }
                    free(C);
                    product_free(&p);
                    CHECK(!spare_changed, "level %d %s %s %dx%dx%d: a column past N changed", level,
                          precision_names[precision], form_names[form], shapes[s][0], shapes[s][1], shapes[s][2]);
                    CHECK(worst <= 1.0, "level %d %s %s %s %dx%dx%d: error %.2f times the rounding bound", level,
                          precision_names[precision], form_names[form], mode == R1_GEMM_SET ? "set" : "add",
                          shapes[s][0], shapes[s][1], shapes[s][2], worst);
                }
    }
    r1_kernels_select(levels - 1);
}

/* One call against the same product cut into row blocks and column blocks at
 * places that do not fall on tile edges: the same bits. */
static void test_blocks_are_bit_identical(test_ctx *t) {
    int levels = cpu_levels();
    for (int run = 0; run < 2 * levels; run++) { /* each level, each precision */
        int level = run / 2, precision = run % 2 ? BFLOAT16 : FLOAT32;
        CHECK(r1_kernels_select(level) == level, "select(%d)", level);
        for (int form = 0; form < 3; form++) {
            product p;
            int ok = product_init(&p, form, 29, 45, 300, 99);
            size_t bytes = sizeof(float) * p.M * p.ldc;
            float *whole = ok ? malloc(bytes) : NULL, *rows = ok ? malloc(bytes) : NULL;
            float *cols = ok ? malloc(bytes) : NULL;
            ok = whole && rows && cols;
            if (ok) {
                memcpy(whole, p.C0, bytes), memcpy(rows, p.C0, bytes), memcpy(cols, p.C0, bytes);
                run_block(&p, precision, R1_GEMM_ADD, whole, 0, p.M, 0, p.N);
                run_block(&p, precision, R1_GEMM_ADD, rows, 0, 11, 0, p.N);
                run_block(&p, precision, R1_GEMM_ADD, rows, 11, 7, 0, p.N);
                run_block(&p, precision, R1_GEMM_ADD, rows, 18, p.M - 18, 0, p.N);
                run_block(&p, precision, R1_GEMM_ADD, cols, 0, p.M, 0, 21);
                run_block(&p, precision, R1_GEMM_ADD, cols, 0, p.M, 21, p.N - 21);
            }
            int rows_same = ok && !memcmp(whole, rows, bytes), cols_same = ok && !memcmp(whole, cols, bytes);
            free(whole), free(rows), free(cols);
            product_free(&p);
            CHECK(ok, "out of memory");
            CHECK(rows_same, "level %d %s %s: split over rows changes the result", level, precision_names[precision],
                  form_names[form]);
            CHECK(cols_same, "level %d %s %s: split over columns changes the result", level,
                  precision_names[precision], form_names[form]);
        }
    }
    r1_kernels_select(levels - 1);
}

/* The AVX2 and AVX-512 kernels: the same chain of FMAs for every element. */
static void test_avx512_matches_avx2(test_ctx *t) {
    if (!r1_kernels_cpu_has_avx512()) SKIP("CPU lacks AVX-512");
    for (int form = 0; form < 3; form++)
        for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
            product p;
            int ok = product_init(&p, form, shapes[s][0], shapes[s][1], shapes[s][2], 31 + (uint32_t)s);
            size_t bytes = ok ? sizeof(float) * p.M * p.ldc : 0;
            float *c[2] = {ok ? malloc(bytes) : NULL, ok ? malloc(bytes) : NULL};
            ok = c[0] && c[1];
            for (int level = 1; ok && level <= 2; level++) {
                r1_kernels_select(level);
                memcpy(c[level - 1], p.C0, bytes);
                run_block(&p, FLOAT32, R1_GEMM_ADD, c[level - 1], 0, p.M, 0, p.N);
            }
            int same = ok && !memcmp(c[0], c[1], bytes);
            free(c[0]), free(c[1]);
            product_free(&p);
            r1_kernels_select(2);
            CHECK(ok, "out of memory");
            CHECK(same, "%s %dx%dx%d: AVX-512 differs from AVX2", form_names[form], shapes[s][0], shapes[s][1],
                  shapes[s][2]);
        }
}

/* The AVX512_BF16 kernel against the scalar reference (level 0): the same pairs in
 * the same order, so the same bits, in add and set mode. */
static void test_bf16_kernel_matches_reference(test_ctx *t) {
    if (!r1_kernels_cpu_has_avx512_bf16()) SKIP("CPU lacks AVX512_BF16");
    for (int form = 0; form < 3; form++)
        for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
            for (int mode = R1_GEMM_ADD; mode <= R1_GEMM_SET; mode++) {
                product p;
                int ok = product_init(&p, form, shapes[s][0], shapes[s][1], shapes[s][2], 57 + (uint32_t)s);
                size_t bytes = ok ? sizeof(float) * p.M * p.ldc : 0;
                float *c[2] = {ok ? malloc(bytes) : NULL, ok ? malloc(bytes) : NULL};
                ok = c[0] && c[1];
                for (int i = 0; ok && i < 2; i++) {
                    r1_kernels_select(i ? 2 : 0);
                    memcpy(c[i], p.C0, bytes);
                    run_block(&p, BFLOAT16, (r1_gemm_mode)mode, c[i], 0, p.M, 0, p.N);
                }
                int same = ok && !memcmp(c[0], c[1], bytes);
                free(c[0]), free(c[1]);
                product_free(&p);
                r1_kernels_select(2);
                CHECK(ok, "out of memory");
                CHECK(same, "%s %s %dx%dx%d: AVX512_BF16 differs from the scalar reference", form_names[form],
                      mode == R1_GEMM_SET ? "set" : "add", shapes[s][0], shapes[s][1], shapes[s][2]);
            }
}

TEST_MAIN("gemm", T(test_matches_double), T(test_blocks_are_bit_identical), T(test_avx512_matches_avx2),
          T(test_bf16_kernel_matches_reference))
