/* Comparing the results of training runs in tests. */
#ifndef R1_TEST_RUNS_H
#define R1_TEST_RUNS_H

#include <stdio.h>
#include <string.h>

#include "train/checkpoint.h"

/* Every tensor of two checkpoints equal, bit for bit. */
static inline int same_checkpoints(const char *a_path, const char *b_path, char *why, size_t why_size) {
    r1_checkpoint a, b;
    r1_err err;
    if (r1_checkpoint_load(a_path, &a, &err) != R1_OK) return snprintf(why, why_size, "%s", err.msg), 0;
    if (r1_checkpoint_load(b_path, &b, &err) != R1_OK) {
        r1_checkpoint_free(&a);
        return snprintf(why, why_size, "%s", err.msg), 0;
    }
    int same = a.n_tensors == b.n_tensors && a.step == b.step && a.adamw_step == b.adamw_step;
    if (!same) snprintf(why, why_size, "%zu vs %zu tensors, step %llu vs %llu", a.n_tensors, b.n_tensors,
                        (unsigned long long)a.step, (unsigned long long)b.step);
    for (size_t i = 0; i < a.n_tensors && same; i++) {
        const r1_checkpoint_tensor *tb = r1_checkpoint_find(&b, a.tensors[i].name);
        same = tb && r1_checkpoint_tensor_count(tb) == r1_checkpoint_tensor_count(&a.tensors[i]) &&
               !memcmp(tb->data, a.tensors[i].data, r1_checkpoint_tensor_count(tb) * sizeof(float));
        if (!same) snprintf(why, why_size, "tensor %s differs", a.tensors[i].name);
    }
    r1_checkpoint_free(&a);
    r1_checkpoint_free(&b);
    return same;
}

#endif
