/* The trainer's float matrix products against OpenBLAS's sgemm, one thread, in
 * GFLOP/s: r1's nn, nt and tn forms (gemm_f32.h) and cblas_sgemm with the same
 * transposes, best of 20 runs each. OpenBLAS is opened at run time (Debian's
 * libopenblas0-pthread) so that r1 does not link it; without it only r1's figures
 * are printed. OpenBLAS names the CPU its kernels are for: its detection can miss
 * a newer CPU and fall back to SSE3 kernels ("Prescott"), which OPENBLAS_CORETYPE
 * (e.g. SkylakeX) overrides. Each line also gives how far r1's product is from
 * OpenBLAS's (max |difference| ÷ max |value|). With --cold, 64 MiB are written
 * before each run, so that the operands come from memory as they do inside a
 * training step, where other steps ran since they were written.
 *   build/gemm_bench [--cold] [M N K ...]   (default: the trainer's shapes of BENCHMARKS.md) */
#include <dlfcn.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tensor/gemm_f32.h"
#include "tensor/types.h"

enum { CBLAS_ROW_MAJOR = 101, CBLAS_NO_TRANS = 111, CBLAS_TRANS = 112, REPS = 20, COLD_BYTES = 64 << 20 };
typedef void (*sgemm_fn)(int order, int trans_a, int trans_b, int M, int N, int K, float alpha, const float *A,
                         int lda, const float *B, int ldb, float beta, float *C, int ldc);

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static unsigned char *cold_buffer; /* --cold: written before each run */

static void evict_caches(void) {
    if (!cold_buffer) return;
    for (size_t i = 0; i < COLD_BYTES; i += 64) cold_buffer[i]++;
}

/* form 0 nn: A M×K, B K×N; 1 nt: B N×K; 2 tn: A K×M. Returns the best seconds. */
static double time_r1(int form, int M, int N, int K, const float *A, const float *B, float *C) {
    double best = 1e30;
    for (int r = 0; r < REPS; r++) {
        evict_caches();
        double t0 = now_seconds();
        if (form == 0) r1_gemm_nn_f32(R1_GEMM_SET, M, N, K, A, K, B, N, C, N);
        else if (form == 1) r1_gemm_nt_f32(R1_GEMM_SET, M, N, K, A, K, B, K, C, N);
        else r1_gemm_tn_f32(R1_GEMM_SET, M, N, K, A, M, B, N, C, N);
        double t = now_seconds() - t0;
        if (t < best) best = t;
    }
    return best;
}

static double time_blas(sgemm_fn sgemm, int form, int M, int N, int K, const float *A, const float *B, float *C) {
    double best = 1e30;
    int trans_a = form == 2 ? CBLAS_TRANS : CBLAS_NO_TRANS, trans_b = form == 1 ? CBLAS_TRANS : CBLAS_NO_TRANS;
    for (int r = 0; r < REPS; r++) {
        evict_caches();
        double t0 = now_seconds();
        sgemm(CBLAS_ROW_MAJOR, trans_a, trans_b, M, N, K, 1.0f, A, form == 2 ? M : K, B, form == 1 ? K : N, 0.0f, C,
              N);
        double t = now_seconds() - t0;
        if (t < best) best = t;
    }
    return best;
}

int main(int argc, char **argv) {
    static const int default_shapes[][3] = {{2048, 256, 256}, {2048, 384, 256}, {2048, 768, 256}, {512, 512, 512}};
    if (argc > 1 && strcmp(argv[1], "--cold") == 0) {
        cold_buffer = calloc(COLD_BYTES, 1);
        if (!cold_buffer) {
            fprintf(stderr, "gemm_bench: out of memory for --cold\n");
            return 1;
        }
        argc--, argv++;
    }
    int n_shapes = argc > 1 ? (argc - 1) / 3 : 4;
    if (argc > 1 && (argc - 1) % 3 != 0) {
        fprintf(stderr, "usage: gemm_bench [--cold] [M N K ...]\n");
        return 2;
    }
    for (int i = 1; i < argc; i++)
        if (atoi(argv[i]) < 1 || atoi(argv[i]) > 16384) {
            fprintf(stderr, "gemm_bench: '%s' is not a size from 1 to 16384\n", argv[i]);
            return 2;
        }
    static const char *level_names[3] = {"scalar", "AVX2", "AVX-512"};
    printf("r1: %s kernel\n", level_names[r1_kernels_level()]);
    sgemm_fn sgemm = NULL;
    void *blas = dlopen("libopenblas.so.0", RTLD_NOW);
    if (blas) {
        void (*set_threads)(int) = (void (*)(int))dlsym(blas, "openblas_set_num_threads");
        char *(*corename)(void) = (char *(*)(void))dlsym(blas, "openblas_get_corename");
        sgemm = (sgemm_fn)dlsym(blas, "cblas_sgemm");
        if (set_threads) set_threads(1);
        printf("OpenBLAS: %s kernels\n", corename ? corename() : "?");
    } else {
        printf("OpenBLAS: not found (%s); r1 only\n", dlerror());
    }
    static const char *form_names[3] = {"nn", "nt", "tn"};
    for (int s = 0; s < n_shapes; s++) {
        int M = argc > 1 ? atoi(argv[1 + 3 * s]) : default_shapes[s][0];
        int N = argc > 1 ? atoi(argv[2 + 3 * s]) : default_shapes[s][1];
        int K = argc > 1 ? atoi(argv[3 + 3 * s]) : default_shapes[s][2];
        float *A = malloc(sizeof(float) * M * K), *B = malloc(sizeof(float) * K * N);
        float *C = malloc(sizeof(float) * M * N), *C_blas = malloc(sizeof(float) * M * N);
        if (!A || !B || !C || !C_blas) {
            free(A), free(B), free(C), free(C_blas);
            fprintf(stderr, "gemm_bench: out of memory\n");
            return 1;
        }
        for (long i = 0; i < (long)M * K; i++) A[i] = (float)((double)rand() / RAND_MAX - 0.5);
        for (long i = 0; i < (long)K * N; i++) B[i] = (float)((double)rand() / RAND_MAX - 0.5);
        double flops = 2.0 * M * N * K;
        for (int form = 0; form < 3; form++) {
            printf("%s M %d N %d K %d: r1 %.1f GFLOP/s", form_names[form], M, N, K,
                   flops / time_r1(form, M, N, K, A, B, C) * 1e-9);
            if (sgemm) {
                /* the two products should agree to float rounding: a wrong kernel does not get timed unnoticed */
                printf(", OpenBLAS %.1f GFLOP/s", flops / time_blas(sgemm, form, M, N, K, A, B, C_blas) * 1e-9);
                double max_diff = 0, max_value = 0;
                for (long i = 0; i < (long)M * N; i++) {
                    if (fabs(C[i] - C_blas[i]) > max_diff) max_diff = fabs(C[i] - C_blas[i]);
                    if (fabs(C_blas[i]) > max_value) max_value = fabs(C_blas[i]);
                }
                printf(", relative difference %.1e%s", max_value > 0 ? max_diff / max_value : max_diff,
                       max_diff > 1e-4 * max_value ? " (MISMATCH)" : "");
            }
            printf("\n");
        }
        free(A), free(B), free(C), free(C_blas);
    }
    free(cold_buffer);
    return 0;
}
