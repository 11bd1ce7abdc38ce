/* The GGUF writer. Metadata and tensor infos are collected in memory (they are
 * small: a 150k-token vocabulary is a few MB) because the header counts them; the
 * tensor data, which is large, goes straight to the file as the caller produces it. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gguf/writer.h"

#include "base/output_file.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the GGUF writer stores values in host order, which must be little-endian"
#endif

#define GGUF_WRITER_VERSION 3
#define GGUF_DEFAULT_ALIGNMENT 32
#define GGUF_MAX_NAME 63 /* llama.cpp rejects longer tensor names */

typedef struct {
    char *name;
    uint32_t n_dims;
    int64_t ne[GGUF_MAX_DIMS];
    const r1_type_traits *traits;
    r1_type type;
    uint64_t nbytes;
    uint64_t offset; /* from the start of the data section, set by begin_data */
} tensor_info;

enum { STAGE_DECLARE, STAGE_DATA, STAGE_FAILED };

struct r1_gguf_writer {
    char path[1024];
    char tmp_path[1040];
    FILE *file;
    int stage;
    r1_err first_err;          /* the failure that stopped the writer */

    uint8_t *meta;             /* metadata pairs, serialised as they will appear */
    size_t meta_len, meta_cap;
    char **keys;               /* for the uniqueness check */
    uint64_t n_kv;
    size_t cap_kv;
    uint64_t alignment;

    tensor_info *tensors;
    uint64_t n_tensors;
    size_t cap_tensors;

    uint64_t file_pos;         /* bytes written so far */
    uint64_t file_size;        /* final size, known after begin_data */
    uint64_t cur;              /* tensor receiving data */
    uint64_t cur_written;      /* its bytes written so far */
    uint8_t *scratch;          /* quantised chunk for data_f32 */
    size_t scratch_size;
};

static const size_t scalar_size[GGUF_TYPE_COUNT] = {
    [GGUF_UINT8] = 1, [GGUF_INT8] = 1, [GGUF_UINT16] = 2, [GGUF_INT16] = 2,
    [GGUF_UINT32] = 4, [GGUF_INT32] = 4, [GGUF_FLOAT32] = 4, [GGUF_BOOL] = 1,
    [GGUF_UINT64] = 8, [GGUF_INT64] = 8, [GGUF_FLOAT64] = 8,
};

static uint64_t align_up(uint64_t x, uint64_t a) { return (x + a - 1) / a * a; }

/* ---- failure: remembered, and repeated to every later call ---- */

static int stopped(r1_gguf_writer *w, r1_err *err) {
    if (err) *err = w->first_err;
    return R1_ERR;
}

static int fail(r1_gguf_writer *w, r1_err *err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(r1_gguf_writer *w, r1_err *err, const char *fmt, ...) {
    char msg[sizeof w->first_err.msg - 64];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    r1_fail(&w->first_err, "gguf writer: %s: %s", w->path, msg);
    w->stage = STAGE_FAILED;
    return stopped(w, err);
}

static int check_stage(r1_gguf_writer *w, int want, const char *what, r1_err *err) {
    if (w->stage == STAGE_FAILED) return stopped(w, err);
    if (w->stage != want)
        return fail(w, err, "%s %s", what,
                    want == STAGE_DECLARE ? "must come before begin_data" : "must come after begin_data");
    return R1_OK;
}

/* ---- output ---- */

static int write_bytes(r1_gguf_writer *w, const void *p, size_t n, r1_err *err) {
    if (n && fwrite(p, 1, n, w->file) != n)
        return fail(w, err, "write of %zu bytes at offset %llu failed: %s", n, (unsigned long long)w->file_pos,
                    strerror(errno));
    w->file_pos += n;
    return R1_OK;
}

static int write_zeros(r1_gguf_writer *w, uint64_t n, r1_err *err) {
    static const uint8_t zeros[256];
    while (n > 0) {
        size_t k = n < sizeof zeros ? (size_t)n : sizeof zeros;
        if (write_bytes(w, zeros, k, err) != R1_OK) return R1_ERR;
        n -= k;
    }
    return R1_OK;
}

/* ---- metadata ---- */

static int meta_append(r1_gguf_writer *w, const void *p, size_t n, r1_err *err) {
    if (n == 0) return R1_OK; /* p may be NULL then (an empty array) */
    if (n > SIZE_MAX - w->meta_len) return fail(w, err, "metadata is too large");
    if (w->meta_len + n > w->meta_cap) {
        size_t cap = w->meta_cap ? w->meta_cap : 4096;
        while (cap < w->meta_len + n) cap = cap > SIZE_MAX / 2 ? w->meta_len + n : cap * 2;
        uint8_t *grown = realloc(w->meta, cap);
        if (!grown) return fail(w, err, "out of memory for %zu bytes of metadata", cap);
        w->meta = grown;
        w->meta_cap = cap;
    }
    memcpy(w->meta + w->meta_len, p, n);
    w->meta_len += n;
    return R1_OK;
}

static int meta_u32(r1_gguf_writer *w, uint32_t v, r1_err *err) { return meta_append(w, &v, 4, err); }
static int meta_u64(r1_gguf_writer *w, uint64_t v, r1_err *err) { return meta_append(w, &v, 8, err); }

static int meta_str(r1_gguf_writer *w, const char *s, uint64_t len, r1_err *err) {
    if (len > SIZE_MAX) return fail(w, err, "string of %llu bytes is too large", (unsigned long long)len);
    if (meta_u64(w, len, err) != R1_OK) return R1_ERR;
    return meta_append(w, s, (size_t)len, err);
}

/* Checks the key, records it, and appends the key and the value type. The value
 * itself follows, appended by the caller. */
static int begin_kv(r1_gguf_writer *w, const char *key, uint32_t type, r1_err *err) {
    if (check_stage(w, STAGE_DECLARE, "metadata", err) != R1_OK) return R1_ERR;
    if (!key || !key[0]) return fail(w, err, "metadata key %llu is empty", (unsigned long long)w->n_kv);
    size_t key_len = strlen(key);
    if (r1_gguf_name_control_at(key, key_len) < key_len)
        return fail(w, err, "metadata key %llu holds a control byte", (unsigned long long)w->n_kv);
    if (strcmp(key, "general.alignment") == 0 && type != GGUF_UINT32)
        return fail(w, err, "general.alignment must be a uint32, not a %s", r1_gguf_type_name(type));
    for (uint64_t i = 0; i < w->n_kv; i++)
        if (strcmp(w->keys[i], key) == 0) return fail(w, err, "metadata key '%s' is given twice", key);
    if (w->n_kv == w->cap_kv) {
        size_t cap = w->cap_kv ? w->cap_kv * 2 : 64;
        char **grown = realloc(w->keys, cap * sizeof *grown);
        if (!grown) return fail(w, err, "out of memory for metadata keys");
        w->keys = grown;
        w->cap_kv = cap;
    }
    char *copy = strdup(key);
    if (!copy) return fail(w, err, "out of memory for metadata key '%s'", key);
    w->keys[w->n_kv++] = copy;
    if (meta_str(w, key, key_len, err) != R1_OK) return R1_ERR;
    return meta_u32(w, type, err);
}

/* general.alignment decides the data layout, so only a usable value is accepted
 * (its type is checked by begin_kv). */
static int set_alignment(r1_gguf_writer *w, const char *key, uint64_t value, r1_err *err) {
    if (!key || strcmp(key, "general.alignment") != 0) return R1_OK;
    if (value == 0 || (value & (value - 1)))
        return fail(w, err, "general.alignment %llu is not a power of two", (unsigned long long)value);
    w->alignment = value;
    return R1_OK;
}

static int kv_scalar(r1_gguf_writer *w, const char *key, uint32_t type, const void *v, r1_err *err) {
    if (begin_kv(w, key, type, err) != R1_OK) return R1_ERR;
    return meta_append(w, v, scalar_size[type], err);
}

int r1_gguf_writer_kv_u8(r1_gguf_writer *w, const char *key, uint8_t v, r1_err *err) {
    return kv_scalar(w, key, GGUF_UINT8, &v, err);
}
int r1_gguf_writer_kv_i8(r1_gguf_writer *w, const char *key, int8_t v, r1_err *err) {
    return kv_scalar(w, key, GGUF_INT8, &v, err);
}
int r1_gguf_writer_kv_u16(r1_gguf_writer *w, const char *key, uint16_t v, r1_err *err) {
    return kv_scalar(w, key, GGUF_UINT16, &v, err);
}
int r1_gguf_writer_kv_i16(r1_gguf_writer *w, const char *key, int16_t v, r1_err *err) {
    return kv_scalar(w, key, GGUF_INT16, &v, err);
}
int r1_gguf_writer_kv_u32(r1_gguf_writer *w, const char *key, uint32_t v, r1_err *err) {
    if (kv_scalar(w, key, GGUF_UINT32, &v, err) != R1_OK) return R1_ERR;
    return set_alignment(w, key, v, err);
}
int r1_gguf_writer_kv_i32(r1_gguf_writer *w, const char *key, int32_t v, r1_err *err) {
    return kv_scalar(w, key, GGUF_INT32, &v, err);
}
int r1_gguf_writer_kv_u64(r1_gguf_writer *w, const char *key, uint64_t v, r1_err *err) {
    return kv_scalar(w, key, GGUF_UINT64, &v, err);
}
int r1_gguf_writer_kv_i64(r1_gguf_writer *w, const char *key, int64_t v, r1_err *err) {
    return kv_scalar(w, key, GGUF_INT64, &v, err);
}
int r1_gguf_writer_kv_f32(r1_gguf_writer *w, const char *key, float v, r1_err *err) {
    return kv_scalar(w, key, GGUF_FLOAT32, &v, err);
}
int r1_gguf_writer_kv_f64(r1_gguf_writer *w, const char *key, double v, r1_err *err) {
    return kv_scalar(w, key, GGUF_FLOAT64, &v, err);
}
int r1_gguf_writer_kv_bool(r1_gguf_writer *w, const char *key, int v, r1_err *err) {
    uint8_t b = v != 0;
    return kv_scalar(w, key, GGUF_BOOL, &b, err);
}

int r1_gguf_writer_kv_strn(r1_gguf_writer *w, const char *key, const char *v, uint64_t len, r1_err *err) {
    if (begin_kv(w, key, GGUF_STRING, err) != R1_OK) return R1_ERR;
    return meta_str(w, v, len, err);
}

int r1_gguf_writer_kv_str(r1_gguf_writer *w, const char *key, const char *v, r1_err *err) {
    return r1_gguf_writer_kv_strn(w, key, v, strlen(v), err);
}

int r1_gguf_writer_kv_array(r1_gguf_writer *w, const char *key, uint32_t elem_type, const void *elems,
                            uint64_t count, r1_err *err) {
    if (w->stage == STAGE_DECLARE && (elem_type >= GGUF_TYPE_COUNT || !scalar_size[elem_type]))
        return fail(w, err, "key '%s': arrays of %s (type %u) are not scalar arrays", key ? key : "",
                    r1_gguf_type_name(elem_type), elem_type);
    if (w->stage == STAGE_DECLARE && count > SIZE_MAX / scalar_size[elem_type])
        return fail(w, err, "key '%s': array of %llu elements is too large", key ? key : "",
                    (unsigned long long)count);
    if (w->stage == STAGE_DECLARE && count && !elems)
        return fail(w, err, "key '%s': no elements given for an array of %llu", key ? key : "",
                    (unsigned long long)count);
    if (begin_kv(w, key, GGUF_ARRAY, err) != R1_OK || meta_u32(w, elem_type, err) != R1_OK ||
        meta_u64(w, count, err) != R1_OK)
        return R1_ERR;
    return meta_append(w, elems, (size_t)count * scalar_size[elem_type], err);
}

int r1_gguf_writer_kv_str_array(r1_gguf_writer *w, const char *key, const char *const *strs, uint64_t count,
                                r1_err *err) {
    if (begin_kv(w, key, GGUF_ARRAY, err) != R1_OK || meta_u32(w, GGUF_STRING, err) != R1_OK ||
        meta_u64(w, count, err) != R1_OK)
        return R1_ERR;
    for (uint64_t i = 0; i < count; i++) {
        if (!strs[i]) return fail(w, err, "key '%s': string %llu is NULL", key, (unsigned long long)i);
        if (meta_str(w, strs[i], strlen(strs[i]), err) != R1_OK) return R1_ERR;
    }
    return R1_OK;
}

int r1_gguf_writer_kv_copy(r1_gguf_writer *w, const r1_gguf_kv *kv, r1_err *err) {
    if (w->stage == STAGE_FAILED) return stopped(w, err);
    char key[512];
    if (kv->key.len >= sizeof key)
        return fail(w, err, "copied key of %llu bytes is too long", (unsigned long long)kv->key.len);
    memcpy(key, kv->key.data, kv->key.len);
    key[kv->key.len] = 0;
    if (kv->type == GGUF_STRING) return r1_gguf_writer_kv_strn(w, key, kv->value.str.data, kv->value.str.len, err);
    if (kv->type == GGUF_ARRAY) {
        if (kv->array_type != GGUF_STRING)
            return r1_gguf_writer_kv_array(w, key, kv->array_type, kv->array_data, kv->array_count, err);
        /* the reader checked these bytes: count × (u64 length, bytes), copied as they are */
        const uint8_t *p = kv->array_data;
        for (uint64_t i = 0; i < kv->array_count; i++) {
            uint64_t len;
            memcpy(&len, p, 8);
            p += 8 + len;
        }
        if (begin_kv(w, key, GGUF_ARRAY, err) != R1_OK || meta_u32(w, GGUF_STRING, err) != R1_OK ||
            meta_u64(w, kv->array_count, err) != R1_OK)
            return R1_ERR;
        return meta_append(w, kv->array_data, (size_t)(p - kv->array_data), err);
    }
    if (kv->type >= GGUF_TYPE_COUNT) return fail(w, err, "key '%s' has unknown value type %u", key, kv->type);
    uint8_t raw[8];
    switch (kv->type) {
    case GGUF_UINT8: case GGUF_BOOL: raw[0] = (uint8_t)kv->value.u64; break;
    case GGUF_INT8: raw[0] = (uint8_t)(int8_t)kv->value.i64; break;
    case GGUF_UINT16: { uint16_t v = (uint16_t)kv->value.u64; memcpy(raw, &v, 2); break; }
    case GGUF_INT16: { int16_t v = (int16_t)kv->value.i64; memcpy(raw, &v, 2); break; }
    case GGUF_UINT32: return r1_gguf_writer_kv_u32(w, key, (uint32_t)kv->value.u64, err);
    case GGUF_INT32: { int32_t v = (int32_t)kv->value.i64; memcpy(raw, &v, 4); break; }
    case GGUF_FLOAT32: { float v = (float)kv->value.f64; memcpy(raw, &v, 4); break; }
    default: memcpy(raw, &kv->value, 8); break; /* the 64-bit types */
    }
    return kv_scalar(w, key, kv->type, raw, err);
}

/* ---- tensor infos ---- */

int r1_gguf_writer_tensor(r1_gguf_writer *w, const char *name, int n_dims, const int64_t *ne, r1_type type,
                          r1_err *err) {
    if (check_stage(w, STAGE_DECLARE, "tensor info", err) != R1_OK) return R1_ERR;
    size_t name_len = name ? strlen(name) : 0;
    if (name_len == 0 || name_len > GGUF_MAX_NAME)
        return fail(w, err, "tensor %llu: name '%s' must be 1 to %d bytes", (unsigned long long)w->n_tensors,
                    name ? name : "", GGUF_MAX_NAME);
    if (r1_gguf_name_control_at(name, name_len) < name_len)
        return fail(w, err, "tensor %llu: name holds a control byte", (unsigned long long)w->n_tensors);
    for (uint64_t i = 0; i < w->n_tensors; i++)
        if (strcmp(w->tensors[i].name, name) == 0) return fail(w, err, "tensor '%s' is declared twice", name);
    const r1_type_traits *tt = r1_type_traits_get(type);
    if (!tt || type == R1_TYPE_Q8_K)
        return fail(w, err, "tensor '%s': type %s (id %u) cannot be stored", name, r1_type_name(type), (unsigned)type);
    if (n_dims < 1 || n_dims > GGUF_MAX_DIMS)
        return fail(w, err, "tensor '%s' has %d dimensions (1 to %d allowed)", name, n_dims, GGUF_MAX_DIMS);
    uint64_t n_elems = 1;
    for (int d = 0; d < n_dims; d++) {
        if (ne[d] < 1 || (uint64_t)ne[d] > (uint64_t)INT64_MAX / n_elems)
            return fail(w, err, "tensor '%s': dimension %d is %lld (must be 1 or more, element count within 63 bits)",
                        name, d, (long long)ne[d]);
        n_elems *= (uint64_t)ne[d];
    }
    if (ne[0] % tt->block_elems)
        return fail(w, err, "tensor '%s': row length %lld is not a multiple of the %s block size %lld", name,
                    (long long)ne[0], tt->name, (long long)tt->block_elems);
    uint64_t blocks = n_elems / (uint64_t)tt->block_elems;
    if (blocks > UINT64_MAX / 2 / tt->block_bytes)
        return fail(w, err, "tensor '%s' (%llu elements of %s) is too large", name, (unsigned long long)n_elems,
                    tt->name);
    if (w->n_tensors == w->cap_tensors) {
        size_t cap = w->cap_tensors ? w->cap_tensors * 2 : 256;
        tensor_info *grown = realloc(w->tensors, cap * sizeof *grown);
        if (!grown) return fail(w, err, "out of memory for tensor infos");
        w->tensors = grown;
        w->cap_tensors = cap;
    }
    tensor_info *t = &w->tensors[w->n_tensors];
    memset(t, 0, sizeof *t);
    t->name = strdup(name);
    if (!t->name) return fail(w, err, "out of memory for tensor name '%s'", name);
    t->n_dims = (uint32_t)n_dims;
    for (int d = 0; d < GGUF_MAX_DIMS; d++) t->ne[d] = d < n_dims ? ne[d] : 1;
    t->traits = tt;
    t->type = type;
    t->nbytes = blocks * tt->block_bytes;
    w->n_tensors++;
    return R1_OK;
}

/* ---- the file ---- */

int r1_gguf_writer_open(r1_gguf_writer **out, const char *path, r1_err *err) {
    *out = NULL;
    if (strlen(path) >= sizeof((r1_gguf_writer *)0)->path)
        return r1_fail(err, "gguf writer: %.200s...: path is too long", path);
    if (r1_output_file_check(path, err) != R1_OK) return r1_fail_within(err, "gguf writer: ");
    r1_gguf_writer *w = r1_calloc(err, 1, sizeof *w, "gguf writer");
    if (!w) return R1_ERR;
    snprintf(w->path, sizeof w->path, "%s", path);
    snprintf(w->tmp_path, sizeof w->tmp_path, "%s.tmp", path);
    w->alignment = GGUF_DEFAULT_ALIGNMENT;
    int fd = open(w->tmp_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0 || !(w->file = fdopen(fd, "wb"))) {
        r1_fail(err, "gguf writer: %s: cannot create %s: %s", path, w->tmp_path, strerror(errno));
        if (fd >= 0) {
            close(fd);
            unlink(w->tmp_path);
        }
        free(w);
        return R1_ERR;
    }
    setvbuf(w->file, NULL, _IOFBF, 1 << 20);
    *out = w;
    return R1_OK;
}

static int write_tensor_info(r1_gguf_writer *w, const tensor_info *t, r1_err *err) {
    uint64_t name_len = strlen(t->name);
    uint32_t type = (uint32_t)t->type;
    if (write_bytes(w, &name_len, 8, err) != R1_OK || write_bytes(w, t->name, name_len, err) != R1_OK ||
        write_bytes(w, &t->n_dims, 4, err) != R1_OK)
        return R1_ERR;
    for (uint32_t d = 0; d < t->n_dims; d++)
        if (write_bytes(w, &t->ne[d], 8, err) != R1_OK) return R1_ERR;
    if (write_bytes(w, &type, 4, err) != R1_OK) return R1_ERR;
    return write_bytes(w, &t->offset, 8, err);
}

int r1_gguf_writer_begin_data(r1_gguf_writer *w, r1_err *err) {
    if (check_stage(w, STAGE_DECLARE, "begin_data", err) != R1_OK) return R1_ERR;
    uint64_t offset = 0;
    for (uint64_t i = 0; i < w->n_tensors; i++) {
        w->tensors[i].offset = offset;
        offset = align_up(offset + w->tensors[i].nbytes, w->alignment);
    }
    uint32_t version = GGUF_WRITER_VERSION;
    if (write_bytes(w, "GGUF", 4, err) != R1_OK || write_bytes(w, &version, 4, err) != R1_OK ||
        write_bytes(w, &w->n_tensors, 8, err) != R1_OK || write_bytes(w, &w->n_kv, 8, err) != R1_OK ||
        write_bytes(w, w->meta, w->meta_len, err) != R1_OK)
        return R1_ERR;
    for (uint64_t i = 0; i < w->n_tensors; i++)
        if (write_tensor_info(w, &w->tensors[i], err) != R1_OK) return R1_ERR;
    uint64_t data_start = align_up(w->file_pos, w->alignment);
    if (write_zeros(w, data_start - w->file_pos, err) != R1_OK) return R1_ERR;
    w->file_size = data_start + offset;
    w->stage = STAGE_DATA;
    w->cur = 0;
    w->cur_written = 0;
    free(w->meta); /* written: no longer needed */
    w->meta = NULL;
    w->meta_len = w->meta_cap = 0;
    return R1_OK;
}

/* Checks that n more bytes fit the current tensor. */
static int check_room(r1_gguf_writer *w, uint64_t n, r1_err *err) {
    if (check_stage(w, STAGE_DATA, "tensor data", err) != R1_OK) return R1_ERR;
    if (w->cur >= w->n_tensors)
        return fail(w, err, "%llu bytes of data given after all %llu tensors were written", (unsigned long long)n,
                    (unsigned long long)w->n_tensors);
    const tensor_info *t = &w->tensors[w->cur];
    if (n > t->nbytes - w->cur_written)
        return fail(w, err, "tensor '%s': %llu bytes given but only %llu of its %llu bytes remain", t->name,
                    (unsigned long long)n, (unsigned long long)(t->nbytes - w->cur_written),
                    (unsigned long long)t->nbytes);
    return R1_OK;
}

/* Counts n bytes into the current tensor; a complete tensor gets its padding. */
static int advance(r1_gguf_writer *w, uint64_t n, r1_err *err) {
    w->cur_written += n;
    const tensor_info *t = &w->tensors[w->cur];
    if (w->cur_written < t->nbytes) return R1_OK;
    w->cur++;
    w->cur_written = 0;
    return write_zeros(w, align_up(w->file_pos, w->alignment) - w->file_pos, err);
}

int r1_gguf_writer_data(r1_gguf_writer *w, const void *bytes, size_t n, r1_err *err) {
    if (check_room(w, n, err) != R1_OK) return R1_ERR;
    if (n == 0) return R1_OK;
    if (write_bytes(w, bytes, n, err) != R1_OK) return R1_ERR;
    return advance(w, n, err);
}

int r1_gguf_writer_data_f32(r1_gguf_writer *w, const float *values, int64_t n, r1_err *err) {
    if (check_stage(w, STAGE_DATA, "tensor data", err) != R1_OK) return R1_ERR;
    if (w->cur >= w->n_tensors)
        return fail(w, err, "%lld values given after all %llu tensors were written", (long long)n,
                    (unsigned long long)w->n_tensors);
    const tensor_info *t = &w->tensors[w->cur];
    const r1_type_traits *tt = t->traits;
    if (n < 0 || n % tt->block_elems)
        return fail(w, err, "tensor '%s': %lld values is not a whole number of %s blocks of %lld", t->name,
                    (long long)n, tt->name, (long long)tt->block_elems);
    uint64_t total = (uint64_t)(n / tt->block_elems) * tt->block_bytes;
    if (check_room(w, total, err) != R1_OK) return R1_ERR;
    /* quantise in chunks of about 1 MB of output, so the scratch stays small */
    int64_t chunk_blocks = (int64_t)((1u << 20) / tt->block_bytes);
    if (chunk_blocks < 1) chunk_blocks = 1;
    size_t need = (size_t)chunk_blocks * tt->block_bytes;
    if (w->scratch_size < need) {
        uint8_t *grown = realloc(w->scratch, need);
        if (!grown) return fail(w, err, "out of memory for a %zu-byte quantisation buffer", need);
        w->scratch = grown;
        w->scratch_size = need;
    }
    const int64_t n_blocks = n / tt->block_elems;
    for (int64_t b = 0; b < n_blocks; b += chunk_blocks) {
        int64_t k = n_blocks - b < chunk_blocks ? n_blocks - b : chunk_blocks;
        tt->quantize(values + b * tt->block_elems, w->scratch, k * tt->block_elems);
        size_t bytes = (size_t)k * tt->block_bytes;
        if (write_bytes(w, w->scratch, bytes, err) != R1_OK || advance(w, bytes, err) != R1_OK) return R1_ERR;
    }
    return R1_OK;
}

uint32_t r1_gguf_file_type(r1_type t) {
    switch (t) {
    case R1_TYPE_F32: return 0;
    case R1_TYPE_F16: return 1;
    case R1_TYPE_Q4_0: return 2;
    case R1_TYPE_Q8_0: return 7;
    case R1_TYPE_Q5_0: return 8;
    case R1_TYPE_Q4_K: return 14; /* Q4_K_S: every matrix Q4_K */
    case R1_TYPE_Q5_K: return 16; /* Q5_K_S */
    case R1_TYPE_Q6_K: return 18;
    case R1_TYPE_BF16: return 32;
    default: return 0;
    }
}

uint64_t r1_gguf_writer_current_tensor(const r1_gguf_writer *w) { return w->cur; }
uint64_t r1_gguf_writer_bytes_written(const r1_gguf_writer *w) { return w->file_pos; }
uint64_t r1_gguf_writer_file_size(const r1_gguf_writer *w) { return w->file_size; }

static void writer_free(r1_gguf_writer *w) {
    if (w->file) fclose(w->file);
    for (uint64_t i = 0; i < w->n_kv; i++) free(w->keys[i]);
    for (uint64_t i = 0; i < w->n_tensors; i++) free(w->tensors[i].name);
    free(w->keys);
    free(w->tensors);
    free(w->meta);
    free(w->scratch);
    free(w);
}

void r1_gguf_writer_abort(r1_gguf_writer *w) {
    if (!w) return;
    if (w->file) {
        fclose(w->file);
        w->file = NULL;
    }
    unlink(w->tmp_path);
    writer_free(w);
}

/* Makes the rename itself durable; a directory that cannot be opened (no read
 * permission) only loses that guarantee, so it is not an error. */
static int sync_parent_dir(r1_gguf_writer *w, r1_err *err) {
    char dir[sizeof w->path];
    snprintf(dir, sizeof dir, "%s", w->path);
    char *slash = strrchr(dir, '/');
    if (!slash) snprintf(dir, sizeof dir, ".");
    else if (slash == dir) dir[1] = 0;
    else *slash = 0;
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd < 0) return R1_OK;
    int rc = fsync(fd);
    int saved = errno;
    close(fd);
    if (rc != 0 && saved != EINVAL && saved != EROFS)
        return r1_fail(err, "gguf writer: %s: fsync of directory %s failed: %s", w->path, dir, strerror(saved));
    return R1_OK;
}

int r1_gguf_writer_finish(r1_gguf_writer *w, r1_err *err) {
    if (w->stage == STAGE_DECLARE && r1_gguf_writer_begin_data(w, err) != R1_OK) goto fail;
    if (w->stage == STAGE_FAILED) {
        stopped(w, err);
        goto fail;
    }
    if (w->cur < w->n_tensors) {
        const tensor_info *t = &w->tensors[w->cur];
        fail(w, err, "tensor '%s' got %llu of its %llu bytes (%llu of %llu tensors complete)", t->name,
             (unsigned long long)w->cur_written, (unsigned long long)t->nbytes, (unsigned long long)w->cur,
             (unsigned long long)w->n_tensors);
        goto fail;
    }
    if (fflush(w->file) != 0 || fsync(fileno(w->file)) != 0) {
        fail(w, err, "flushing %s to disk failed: %s", w->tmp_path, strerror(errno));
        goto fail;
    }
    FILE *file = w->file;
    w->file = NULL;
    if (fclose(file) != 0) {
        fail(w, err, "closing %s failed: %s", w->tmp_path, strerror(errno));
        goto fail;
    }
    if (rename(w->tmp_path, w->path) != 0) {
        fail(w, err, "renaming %s to the final name failed: %s", w->tmp_path, strerror(errno));
        goto fail;
    }
    int rc = sync_parent_dir(w, err);
    writer_free(w);
    return rc;
fail:
    r1_gguf_writer_abort(w);
    return R1_ERR;
}
