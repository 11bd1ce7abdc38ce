/* Memory read bandwidth, the ceiling of decode speed: each thread streams its
 * share of a 1 GiB buffer (or of a file, mapped like r1 maps models) and the
 * best of 3 passes is reported for 1..N threads.
 *   build/membw [THREADS] [FILE] */
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

typedef struct {
    const uint64_t *words;
    size_t count;
    uint64_t checksum;
} stream_job;

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Four independent xor chains: the loop is bound by loads, not by arithmetic. */
static void *stream(void *arg) {
    stream_job *job = arg;
    uint64_t a = 0, b = 0, c = 0, d = 0;
    for (size_t i = 0; i + 4 <= job->count; i += 4) {
        a ^= job->words[i];
        b ^= job->words[i + 1];
        c ^= job->words[i + 2];
        d ^= job->words[i + 3];
    }
    job->checksum = a ^ b ^ c ^ d;
    return NULL;
}

int main(int argc, char **argv) {
    int max_threads = argc > 1 ? atoi(argv[1]) : (int)sysconf(_SC_NPROCESSORS_ONLN);
    size_t bytes = (size_t)1 << 30;
    const uint64_t *words;
    if (argc > 2) {
        int fd = open(argv[2], O_RDONLY);
        struct stat st;
        if (fd < 0 || fstat(fd, &st) != 0) return fprintf(stderr, "membw: cannot open %s\n", argv[2]), 1;
        if ((size_t)st.st_size < bytes) bytes = (size_t)st.st_size;
        words = mmap(NULL, bytes, PROT_READ, MAP_PRIVATE, fd, 0);
        if (words == MAP_FAILED) return fprintf(stderr, "membw: cannot map %s\n", argv[2]), 1;
    } else {
        uint64_t *buf = malloc(bytes);
        if (!buf) return fprintf(stderr, "membw: out of memory\n"), 1;
        memset(buf, 1, bytes);
        words = buf;
    }
    if (max_threads < 1 || max_threads > 256) max_threads = 1;
    size_t n_words = bytes / 8;
    for (int threads = 1; threads <= max_threads; threads++) {
        double best = 0;
        for (int pass = 0; pass < 3; pass++) {
            pthread_t ids[256];
            stream_job jobs[256];
            double t0 = now_seconds();
            for (int i = 0; i < threads; i++) {
                jobs[i] = (stream_job){words + i * (n_words / threads), n_words / threads, 0};
                pthread_create(&ids[i], NULL, stream, &jobs[i]);
            }
            for (int i = 0; i < threads; i++) pthread_join(ids[i], NULL);
            double rate = bytes / (now_seconds() - t0) / 1e9;
            if (rate > best) best = rate;
        }
        printf("%d thread%s: %.1f GB/s\n", threads, threads > 1 ? "s" : "", best);
    }
    return 0;
}
