/* Scratch files for tests: a per-program directory under /tmp, removed with its
 * contents when the program exits, and whole-file reads. */
#ifndef R1_TEST_FILES_H
#define R1_TEST_FILES_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { PATH_SIZE = 512 };

static char test_scratch[64];

static inline void test_remove_tree(const char *path) {
    DIR *dir = opendir(path);
    if (!dir) {
        unlink(path);
        return;
    }
    struct dirent *entry;
    char child[1024];
    while ((entry = readdir(dir)))
        if (strcmp(entry->d_name, ".") && strcmp(entry->d_name, "..") &&
            snprintf(child, sizeof child, "%s/%.255s", path, entry->d_name) < (int)sizeof child)
            test_remove_tree(child);
    closedir(dir);
    rmdir(path);
}

static inline void test_remove_scratch(void) { test_remove_tree(test_scratch); }

static inline const char *test_scratch_dir(void) {
    if (!test_scratch[0]) {
        snprintf(test_scratch, sizeof test_scratch, "/tmp/r1_test_XXXXXX");
        if (!mkdtemp(test_scratch)) {
            perror("mkdtemp");
            exit(1);
        }
        atexit(test_remove_scratch);
    }
    return test_scratch;
}

/* Writes <scratch>/name into path (PATH_SIZE bytes) and returns it. */
static inline char *tmp_path(char *path, const char *name) {
    snprintf(path, PATH_SIZE, "%s/%s", test_scratch_dir(), name);
    return path;
}

/* <scratch>/name in one of 4 rotating static buffers. */
static inline const char *scratch_path(const char *name) {
    static char paths[4][PATH_SIZE];
    static int next;
    return tmp_path(paths[next++ % 4], name);
}

/* The whole file, malloc'd and NUL-terminated; NULL if unreadable. */
static inline char *read_file(const char *path, size_t *size) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    if (buf) {
        buf[n] = 0;
        *size = (size_t)n;
    }
    return buf;
}

#endif
