/* Training checkpoints as GGUF files: the layout is described in checkpoint.h. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gguf/gguf.h"
#include "gguf/writer.h"
#include "tensor/types.h"
#include "train/checkpoint.h"

#define KEY_VERSION "r1.train.version"
#define KEY_STAGE "r1.train.stage"
#define KEY_STEP "r1.train.step"
#define KEY_TOTAL_STEPS "r1.train.total_steps"
#define KEY_RNG_STATE "r1.train.rng_state"
#define KEY_ADAMW_STEP "r1.train.adamw_step"
#define KEY_CONFIG "r1.train.config"

size_t r1_checkpoint_tensor_count(const r1_checkpoint_tensor *t) {
    size_t count = 1;
    for (int d = 0; d < t->n_dims; d++) count *= (size_t)t->ne[d];
    return count;
}

int r1_checkpoint_check_tensor(const r1_checkpoint_tensor *t, const char *path, int n_dims, const int64_t *ne,
                              r1_err *err) {
    int64_t want[R1_CHECKPOINT_MAX_DIMS];
    int same = 1;
    for (int d = 0; d < R1_CHECKPOINT_MAX_DIMS; d++) {
        want[d] = d < n_dims ? ne[d] : 1;
        same &= t->ne[d] == want[d];
    }
    if (!same)
        return r1_fail(err, "%s: tensor '%s' has shape [%lld, %lld, %lld], the model [%lld, %lld, %lld]", path,
                       t->name, (long long)t->ne[0], (long long)t->ne[1], (long long)t->ne[2], (long long)want[0],
                       (long long)want[1], (long long)want[2]);
    /* training cannot go on from a NaN or an inf (a damaged file, or moments that
     * overflowed): say where it is, not steps later that the run diverged */
    size_t count = r1_checkpoint_tensor_count(t);
    for (size_t i = 0; i < count; i++)
        if (!isfinite(t->data[i]))
            return r1_fail(err, "%s: tensor '%s' holds %g at index %zu, which training cannot continue from", path,
                           t->name, t->data[i], i);
    return R1_OK;
}

int r1_checkpoint_restore_tensor(const r1_checkpoint *ck, const char *path, const char *name, int n_dims,
                                 const int64_t *ne, float *dst, r1_err *err) {
    const r1_checkpoint_tensor *t = r1_checkpoint_find(ck, name);
    if (!t) return r1_fail(err, "%s: no tensor '%s'", path, name);
    if (r1_checkpoint_check_tensor(t, path, n_dims, ne, err) != R1_OK) return R1_ERR;
    memcpy(dst, t->data, r1_checkpoint_tensor_count(t) * sizeof *dst);
    return R1_OK;
}

/* Float count of a shape, failing on dims outside 1–3, non-positive extents, or a
 * byte size that does not fit in size_t. */
static int shape_count(const char *path, const char *name, int n_dims, const int64_t *ne, size_t *count,
                       r1_err *err) {
    if (n_dims < 1 || n_dims > R1_CHECKPOINT_MAX_DIMS)
        return r1_fail(err, "checkpoint: %s: tensor '%s' has %d dims, expected 1 to %d", path, name, n_dims,
                       R1_CHECKPOINT_MAX_DIMS);
    size_t floats = 1;
    for (int d = 0; d < n_dims; d++) {
        if (ne[d] < 1)
            return r1_fail(err, "checkpoint: %s: tensor '%s': dim %d is %lld, expected >= 1", path, name, d,
                           (long long)ne[d]);
        if ((uint64_t)ne[d] > SIZE_MAX / sizeof(float) / floats)
            return r1_fail(err, "checkpoint: %s: tensor '%s' is too large", path, name);
        floats *= (size_t)ne[d];
    }
    *count = floats;
    return R1_OK;
}

/* ---- save ---- */

/* Everything the writer would reject late, checked before any file exists. */
static int check_for_save(const char *path, const r1_checkpoint *ck, r1_err *err) {
    if (!ck->stage[0] || !memchr(ck->stage, 0, sizeof ck->stage))
        return r1_fail(err, "checkpoint: %s: stage name is empty or not terminated", path);
    if (ck->step > ck->total_steps)
        return r1_fail(err, "checkpoint: %s: step %llu is past total_steps %llu", path,
                       (unsigned long long)ck->step, (unsigned long long)ck->total_steps);
    for (size_t i = 0; i < ck->n_config; i++)
        if (!ck->config[i] || !strchr(ck->config[i], '='))
            return r1_fail(err, "checkpoint: %s: config entry %zu is not \"key=value\"", path, i);
    for (size_t i = 0; i < ck->n_tensors; i++) {
        const r1_checkpoint_tensor *t = &ck->tensors[i];
        size_t len = strnlen(t->name, sizeof t->name);
        if (len == 0 || len == sizeof t->name)
            return r1_fail(err, "checkpoint: %s: tensor %zu: name is empty or longer than %d bytes", path, i,
                           R1_CHECKPOINT_NAME_MAX - 1);
        size_t count;
        if (shape_count(path, t->name, t->n_dims, t->ne, &count, err) != R1_OK) return R1_ERR;
        if (!t->data) return r1_fail(err, "checkpoint: %s: tensor '%s' has no data", path, t->name);
    }
    return R1_OK;
}

int r1_checkpoint_save(const char *path, const r1_checkpoint *ck, r1_err *err) {
    if (check_for_save(path, ck, err) != R1_OK) return R1_ERR;
    r1_gguf_writer *w;
    if (r1_gguf_writer_open(&w, path, err) != R1_OK) return R1_ERR;
    if (r1_gguf_writer_kv_u32(w, KEY_VERSION, R1_CHECKPOINT_VERSION, err) != R1_OK ||
        r1_gguf_writer_kv_str(w, KEY_STAGE, ck->stage, err) != R1_OK ||
        r1_gguf_writer_kv_u64(w, KEY_STEP, ck->step, err) != R1_OK ||
        r1_gguf_writer_kv_u64(w, KEY_TOTAL_STEPS, ck->total_steps, err) != R1_OK ||
        r1_gguf_writer_kv_u64(w, KEY_RNG_STATE, ck->rng_state, err) != R1_OK ||
        r1_gguf_writer_kv_u64(w, KEY_ADAMW_STEP, ck->adamw_step, err) != R1_OK ||
        r1_gguf_writer_kv_str_array(w, KEY_CONFIG, (const char *const *)ck->config, ck->n_config, err) != R1_OK)
        goto fail;
    for (size_t i = 0; i < ck->n_tensors; i++) {
        const r1_checkpoint_tensor *t = &ck->tensors[i];
        if (r1_gguf_writer_tensor(w, t->name, t->n_dims, t->ne, R1_TYPE_F32, err) != R1_OK) goto fail;
    }
    if (r1_gguf_writer_begin_data(w, err) != R1_OK) goto fail;
    for (size_t i = 0; i < ck->n_tensors; i++) {
        const r1_checkpoint_tensor *t = &ck->tensors[i];
        if (r1_gguf_writer_data(w, t->data, r1_checkpoint_tensor_count(t) * sizeof(float), err) != R1_OK)
            goto fail;
    }
    return r1_gguf_writer_finish(w, err); /* sync + rename: only now does PATH change */
fail:
    r1_gguf_writer_abort(w); /* removes PATH.tmp; PATH keeps the previous checkpoint */
    return R1_ERR;
}

/* ---- load ---- */

static int get_u64(const r1_gguf *g, const char *key, uint64_t *out, r1_err *err) {
    const r1_gguf_kv *kv = r1_gguf_find_kv(g, key);
    if (!kv) return r1_fail(err, "checkpoint: %s: required key '%s' is missing", g->path, key);
    if (kv->type != GGUF_UINT64)
        return r1_fail(err, "checkpoint: %s: key '%s' is a %s, expected uint64", g->path, key,
                       r1_gguf_type_name(kv->type));
    *out = kv->value.u64;
    return R1_OK;
}

static int load_config(const r1_gguf *g, r1_checkpoint *ck, r1_err *err) {
    r1_str *entries;
    uint64_t count;
    if (r1_gguf_get_str_array(g, KEY_CONFIG, &entries, &count, err) != R1_OK) return R1_ERR;
    int status = R1_ERR;
    ck->config = r1_calloc(err, count, sizeof *ck->config, "checkpoint config");
    if (!ck->config) goto done;
    for (uint64_t i = 0; i < count; i++) {
        const r1_str s = entries[i];
        if (memchr(s.data, 0, s.len) || !memchr(s.data, '=', s.len)) {
            r1_fail(err, "checkpoint: %s: %s[%llu] is not \"key=value\"", g->path, KEY_CONFIG,
                    (unsigned long long)i);
            goto done;
        }
        char *copy = r1_malloc(err, s.len + 1, "checkpoint config entry");
        if (!copy) goto done;
        memcpy(copy, s.data, s.len);
        copy[s.len] = 0;
        ck->config[ck->n_config++] = copy;
    }
    status = R1_OK;
done:
    free(entries);
    return status;
}

static int load_tensor(const r1_gguf *g, const r1_gguf_tensor *gt, r1_checkpoint_tensor *t, r1_err *err) {
    if (gt->name.len >= sizeof t->name)
        return r1_fail(err, "checkpoint: %s: tensor name of %llu bytes is too long (limit %d)", g->path,
                       (unsigned long long)gt->name.len, R1_CHECKPOINT_NAME_MAX - 1);
    memcpy(t->name, gt->name.data, gt->name.len);
    t->name[gt->name.len] = 0;
    if (gt->type != R1_TYPE_F32)
        return r1_fail(err, "checkpoint: %s: tensor '%s' is %s, expected F32", g->path, t->name,
                       r1_type_name(gt->type));
    if (gt->n_dims > R1_CHECKPOINT_MAX_DIMS)
        return r1_fail(err, "checkpoint: %s: tensor '%s' has %u dims, expected 1 to %d", g->path, t->name,
                       gt->n_dims, R1_CHECKPOINT_MAX_DIMS);
    t->n_dims = (int)gt->n_dims;
    for (int d = 0; d < R1_CHECKPOINT_MAX_DIMS; d++) t->ne[d] = d < t->n_dims ? gt->ne[d] : 1;
    size_t count;
    if (shape_count(g->path, t->name, t->n_dims, t->ne, &count, err) != R1_OK) return R1_ERR;
    if (gt->nbytes != count * sizeof(float))
        return r1_fail(err, "checkpoint: %s: tensor '%s' holds %zu bytes, its shape needs %zu", g->path, t->name,
                       gt->nbytes, count * sizeof(float));
    t->data = r1_malloc(err, gt->nbytes, t->name);
    if (!t->data) return R1_ERR;
    memcpy(t->data, gt->data, gt->nbytes);
    return R1_OK;
}

static int load_from(const r1_gguf *g, r1_checkpoint *ck, r1_err *err) {
    if (!r1_gguf_find_kv(g, KEY_STAGE))
        return r1_fail(err, "checkpoint: %s: not a training checkpoint (no key '%s')", g->path, KEY_STAGE);
    uint32_t version;
    if (r1_gguf_get_u32(g, KEY_VERSION, &version, err) != R1_OK) return R1_ERR;
    if (version != R1_CHECKPOINT_VERSION)
        return r1_fail(err, "checkpoint: %s: %s is %u, this build reads %d", g->path, KEY_VERSION, version,
                       R1_CHECKPOINT_VERSION);
    if (r1_gguf_get_str(g, KEY_STAGE, ck->stage, sizeof ck->stage, err) != R1_OK) return R1_ERR;
    if (!ck->stage[0]) return r1_fail(err, "checkpoint: %s: %s is empty", g->path, KEY_STAGE);
    if (get_u64(g, KEY_STEP, &ck->step, err) != R1_OK || get_u64(g, KEY_TOTAL_STEPS, &ck->total_steps, err) != R1_OK ||
        get_u64(g, KEY_RNG_STATE, &ck->rng_state, err) != R1_OK ||
        get_u64(g, KEY_ADAMW_STEP, &ck->adamw_step, err) != R1_OK)
        return R1_ERR;
    if (ck->step > ck->total_steps)
        return r1_fail(err, "checkpoint: %s: %s %llu is past %s %llu", g->path, KEY_STEP,
                       (unsigned long long)ck->step, KEY_TOTAL_STEPS, (unsigned long long)ck->total_steps);
    if (load_config(g, ck, err) != R1_OK) return R1_ERR;
    ck->tensors = r1_calloc(err, g->n_tensors, sizeof *ck->tensors, "checkpoint tensors");
    if (!ck->tensors) return R1_ERR;
    for (uint64_t i = 0; i < g->n_tensors; i++) {
        if (load_tensor(g, &g->tensors[i], &ck->tensors[i], err) != R1_OK) return R1_ERR;
        ck->n_tensors++;
    }
    return R1_OK;
}

int r1_checkpoint_load(const char *path, r1_checkpoint *ck, r1_err *err) {
    memset(ck, 0, sizeof *ck);
    r1_gguf g;
    if (r1_gguf_open(&g, path, err) != R1_OK) return R1_ERR;
    int status = load_from(&g, ck, err);
    r1_gguf_close(&g);
    if (status != R1_OK) r1_checkpoint_free(ck);
    return status;
}

void r1_checkpoint_free(r1_checkpoint *ck) {
    if (!ck) return;
    for (size_t i = 0; i < ck->n_config; i++) free(ck->config[i]);
    free(ck->config);
    /* load_tensor allocates data last, so a tensor that failed owns nothing */
    for (size_t i = 0; i < ck->n_tensors; i++) free(ck->tensors[i].data);
    free(ck->tensors);
    memset(ck, 0, sizeof *ck);
}

/* ---- lookups ---- */

const r1_checkpoint_tensor *r1_checkpoint_find(const r1_checkpoint *ck, const char *name) {
    for (size_t i = 0; i < ck->n_tensors; i++)
        if (strcmp(ck->tensors[i].name, name) == 0) return &ck->tensors[i];
    return NULL;
}

const char *r1_checkpoint_config(const r1_checkpoint *ck, const char *key) {
    size_t key_len = strlen(key);
    for (size_t i = 0; i < ck->n_config; i++)
        if (strncmp(ck->config[i], key, key_len) == 0 && ck->config[i][key_len] == '=')
            return ck->config[i] + key_len + 1;
    return NULL;
}
