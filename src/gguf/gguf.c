#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gguf/gguf.h"
#include "tensor/types.h"

/* ---- a bounds-checked cursor over the mapped file ---- */

typedef struct {
    const r1_gguf *g;
    uint64_t pos;
    r1_err *err;
} cursor;

static const size_t value_size[GGUF_TYPE_COUNT] = {
    [GGUF_UINT8] = 1, [GGUF_INT8] = 1, [GGUF_UINT16] = 2, [GGUF_INT16] = 2,
    [GGUF_UINT32] = 4, [GGUF_INT32] = 4, [GGUF_FLOAT32] = 4, [GGUF_BOOL] = 1,
    [GGUF_UINT64] = 8, [GGUF_INT64] = 8, [GGUF_FLOAT64] = 8,
};

static const char *const value_type_name[GGUF_TYPE_COUNT] = {
    "uint8", "int8", "uint16", "int16", "uint32", "int32", "float32", "bool",
    "string", "array", "uint64", "int64", "float64",
};

const char *r1_gguf_type_name(uint32_t type) {
    return type < GGUF_TYPE_COUNT ? value_type_name[type] : "unknown";
}

int r1_str_eq(r1_str s, const char *c) {
    size_t n = strlen(c);
    return s.len == n && memcmp(s.data, c, n) == 0;
}

/* Takes n bytes at the cursor, or fails naming `field`. */
static const uint8_t *take(cursor *c, uint64_t n, const char *field) {
    if (n > c->g->size || c->pos > c->g->size - n) {
        r1_fail(c->err, "gguf: %s: %s at offset %llu needs %llu bytes, past the end of the file (size %zu)",
                c->g->path, field, (unsigned long long)c->pos, (unsigned long long)n, c->g->size);
        return NULL;
    }
    const uint8_t *p = c->g->map + c->pos;
    c->pos += n;
    return p;
}

static int read_u32(cursor *c, uint32_t *out, const char *field) {
    const uint8_t *p = take(c, 4, field);
    if (!p) return R1_ERR;
    memcpy(out, p, 4);
    return R1_OK;
}

static int read_u64(cursor *c, uint64_t *out, const char *field) {
    const uint8_t *p = take(c, 8, field);
    if (!p) return R1_ERR;
    memcpy(out, p, 8);
    return R1_OK;
}

static int read_str(cursor *c, r1_str *out, const char *field) {
    uint64_t len;
    if (read_u64(c, &len, field) != R1_OK) return R1_ERR;
    const uint8_t *p = take(c, len, field);
    if (!p) return R1_ERR;
    out->len = len;
    out->data = (const char *)p;
    return R1_OK;
}

size_t r1_gguf_name_control_at(const char *name, size_t len) {
    size_t i = 0;
    while (i < len && !r1_control_byte((unsigned char)name[i])) i++;
    return i;
}

/* Reads a key or tensor name. Names go into error messages, so a control byte
 * (a newline, an escape sequence) is refused here rather than printed later. */
static int read_name(cursor *c, r1_str *out, const char *field) {
    uint64_t at = c->pos;
    if (read_str(c, out, field) != R1_OK) return R1_ERR;
    size_t bad = r1_gguf_name_control_at(out->data, out->len);
    if (bad < out->len)
        return r1_fail(c->err, "gguf: %s: %s at offset %llu has the control byte 0x%02x at byte %zu", c->g->path,
                       field, (unsigned long long)at, (unsigned char)out->data[bad], bad);
    return R1_OK;
}

/* Reads one scalar of the given type into kv->value. */
static void decode_scalar(const uint8_t *p, uint32_t type, r1_gguf_kv *kv) {
    switch (type) {
    case GGUF_UINT8: case GGUF_BOOL: kv->value.u64 = p[0]; break;
    case GGUF_INT8: kv->value.i64 = (int8_t)p[0]; break;
    case GGUF_UINT16: { uint16_t v; memcpy(&v, p, 2); kv->value.u64 = v; break; }
    case GGUF_INT16: { int16_t v; memcpy(&v, p, 2); kv->value.i64 = v; break; }
    case GGUF_UINT32: { uint32_t v; memcpy(&v, p, 4); kv->value.u64 = v; break; }
    case GGUF_INT32: { int32_t v; memcpy(&v, p, 4); kv->value.i64 = v; break; }
    case GGUF_FLOAT32: { float v; memcpy(&v, p, 4); kv->value.f64 = v; break; }
    case GGUF_UINT64: memcpy(&kv->value.u64, p, 8); break;
    case GGUF_INT64: memcpy(&kv->value.i64, p, 8); break;
    case GGUF_FLOAT64: memcpy(&kv->value.f64, p, 8); break;
    }
}

static int read_kv(cursor *c, r1_gguf_kv *kv, uint64_t index) {
    char field[96];
    kv->file_offset = c->pos;
    snprintf(field, sizeof field, "metadata pair %llu key", (unsigned long long)index);
    if (read_name(c, &kv->key, field) != R1_OK) return R1_ERR;
    int klen = kv->key.len > 64 ? 64 : (int)kv->key.len;
    snprintf(field, sizeof field, "key '%.*s' type", klen, kv->key.data);
    if (read_u32(c, &kv->type, field) != R1_OK) return R1_ERR;
    if (kv->type >= GGUF_TYPE_COUNT)
        return r1_fail(c->err, "gguf: %s: key '%.*s' at offset %llu has unknown value type %u",
                       c->g->path, klen, kv->key.data, (unsigned long long)kv->file_offset, kv->type);
    snprintf(field, sizeof field, "value of key '%.*s'", klen, kv->key.data);
    if (kv->type == GGUF_STRING) return read_str(c, &kv->value.str, field);
    if (kv->type != GGUF_ARRAY) {
        const uint8_t *p = take(c, value_size[kv->type], field);
        if (!p) return R1_ERR;
        decode_scalar(p, kv->type, kv);
        return R1_OK;
    }
    uint64_t at = c->pos;
    if (read_u32(c, &kv->array_type, field) != R1_OK) return R1_ERR;
    if (read_u64(c, &kv->array_count, field) != R1_OK) return R1_ERR;
    if (kv->array_type >= GGUF_TYPE_COUNT || kv->array_type == GGUF_ARRAY)
        return r1_fail(c->err, "gguf: %s: key '%.*s': array at offset %llu has unsupported element type %u (%s)",
                       c->g->path, klen, kv->key.data, (unsigned long long)at, kv->array_type,
                       r1_gguf_type_name(kv->array_type));
    kv->array_data = c->g->map + c->pos;
    if (kv->array_type == GGUF_STRING) {
        /* each element is at least its 8-byte length: bound the count before walking */
        if (kv->array_count > (c->g->size - c->pos) / 8)
            return r1_fail(c->err, "gguf: %s: key '%.*s': array count %llu at offset %llu exceeds the file size",
                           c->g->path, klen, kv->key.data, (unsigned long long)kv->array_count,
                           (unsigned long long)at);
        for (uint64_t i = 0; i < kv->array_count; i++) {
            r1_str s;
            if (read_str(c, &s, field) != R1_OK) return R1_ERR;
        }
        return R1_OK;
    }
    uint64_t elem = value_size[kv->array_type];
    if (kv->array_count > (c->g->size - c->pos) / elem)
        return r1_fail(c->err, "gguf: %s: key '%.*s': array of %llu %s at offset %llu runs past the end of the file",
                       c->g->path, klen, kv->key.data, (unsigned long long)kv->array_count,
                       r1_gguf_type_name(kv->array_type), (unsigned long long)at);
    c->pos += kv->array_count * elem;
    return R1_OK;
}

static int read_tensor_info(cursor *c, r1_gguf_tensor *t, uint64_t index) {
    char field[160];
    t->info_offset = c->pos;
    snprintf(field, sizeof field, "tensor info %llu name", (unsigned long long)index);
    if (read_name(c, &t->name, field) != R1_OK) return R1_ERR;
    int nlen = t->name.len > 96 ? 96 : (int)t->name.len;
    const char *path = c->g->path;
    snprintf(field, sizeof field, "tensor '%.*s' dimension count", nlen, t->name.data);
    if (read_u32(c, &t->n_dims, field) != R1_OK) return R1_ERR;
    if (t->n_dims < 1 || t->n_dims > GGUF_MAX_DIMS)
        return r1_fail(c->err, "gguf: %s: tensor '%.*s' at offset %llu has %u dimensions (1 to %d allowed)",
                       path, nlen, t->name.data, (unsigned long long)t->info_offset, t->n_dims, GGUF_MAX_DIMS);
    uint64_t n_elems = 1;
    for (int d = 0; d < GGUF_MAX_DIMS; d++) t->ne[d] = 1;
    for (uint32_t d = 0; d < t->n_dims; d++) {
        uint64_t ne;
        snprintf(field, sizeof field, "tensor '%.*s' dimension %u", nlen, t->name.data, d);
        if (read_u64(c, &ne, field) != R1_OK) return R1_ERR;
        if (ne == 0 || ne > (uint64_t)INT64_MAX / n_elems)
            return r1_fail(c->err, "gguf: %s: tensor '%.*s' at offset %llu: dimension %u is %llu (must be 1 or more and the element count must fit 63 bits)",
                           path, nlen, t->name.data, (unsigned long long)t->info_offset, d, (unsigned long long)ne);
        t->ne[d] = (int64_t)ne;
        n_elems *= ne;
    }
    snprintf(field, sizeof field, "tensor '%.*s' type", nlen, t->name.data);
    if (read_u32(c, &t->type, field) != R1_OK) return R1_ERR;
    snprintf(field, sizeof field, "tensor '%.*s' data offset", nlen, t->name.data);
    if (read_u64(c, &t->data_offset, field) != R1_OK) return R1_ERR;
    const r1_type_traits *tt = r1_type_traits_get(t->type);
    if (!tt || t->type == R1_TYPE_Q8_K)
        return r1_fail(c->err, "gguf: %s: tensor '%.*s' has type %s (id %u), which r1 does not support",
                       path, nlen, t->name.data, r1_type_name(t->type), t->type);
    if (t->ne[0] % tt->block_elems != 0)
        return r1_fail(c->err, "gguf: %s: tensor '%.*s': row length %lld is not a multiple of the %s block size %lld",
                       path, nlen, t->name.data, (long long)t->ne[0], tt->name, (long long)tt->block_elems);
    uint64_t blocks = n_elems / (uint64_t)tt->block_elems;
    if (blocks > (uint64_t)SIZE_MAX / tt->block_bytes || blocks * tt->block_bytes > c->g->size)
        return r1_fail(c->err, "gguf: %s: tensor '%.*s' (%llu elements of %s) is larger than the file",
                       path, nlen, t->name.data, (unsigned long long)n_elems, tt->name);
    t->nbytes = (size_t)(blocks * tt->block_bytes);
    return R1_OK;
}

static int by_data_offset(const void *a, const void *b) {
    const r1_gguf_tensor *x = *(const r1_gguf_tensor *const *)a, *y = *(const r1_gguf_tensor *const *)b;
    return x->data_offset < y->data_offset ? -1 : x->data_offset > y->data_offset;
}

/* Two tensors sharing bytes would let a write through one view corrupt another
 * and is never produced by a sound writer: refuse it. */
static int check_overlaps(r1_gguf *g, r1_err *err) {
    if (g->n_tensors < 2) return R1_OK;
    const r1_gguf_tensor **sorted = r1_calloc(err, g->n_tensors, sizeof *sorted, "gguf tensor order");
    if (!sorted) return R1_ERR;
    for (uint64_t i = 0; i < g->n_tensors; i++) sorted[i] = &g->tensors[i];
    qsort(sorted, g->n_tensors, sizeof *sorted, by_data_offset);
    int rc = R1_OK;
    for (uint64_t i = 1; i < g->n_tensors && rc == R1_OK; i++) {
        const r1_gguf_tensor *prev = sorted[i - 1], *t = sorted[i];
        if (prev->data_offset + prev->nbytes > t->data_offset)
            rc = r1_fail(err, "gguf: %s: tensor '%.*s' (data at %llu) overlaps tensor '%.*s' (data %llu..%llu)", g->path,
                         t->name.len > 96 ? 96 : (int)t->name.len, t->name.data,
                         (unsigned long long)t->data_offset, prev->name.len > 96 ? 96 : (int)prev->name.len,
                         prev->name.data, (unsigned long long)prev->data_offset,
                         (unsigned long long)(prev->data_offset + prev->nbytes));
    }
    free(sorted);
    return rc;
}

static int parse(r1_gguf *g, r1_err *err) {
    cursor c = {g, 0, err};
    const uint8_t *magic = take(&c, 4, "magic");
    if (!magic) return R1_ERR;
    if (memcmp(magic, "GGUF", 4) != 0)
        return r1_fail(err, "gguf: %s: not a GGUF file (magic at offset 0 is %02x %02x %02x %02x, expected \"GGUF\")",
                       g->path, magic[0], magic[1], magic[2], magic[3]);
    if (read_u32(&c, &g->version, "version") != R1_OK) return R1_ERR;
    if (g->version != 2 && g->version != 3)
        return r1_fail(err, "gguf: %s: version %u at offset 4 is not supported (2 and 3 are)", g->path, g->version);
    if (read_u64(&c, &g->n_tensors, "tensor count") != R1_OK) return R1_ERR;
    if (read_u64(&c, &g->n_kv, "metadata count") != R1_OK) return R1_ERR;
    /* a metadata pair takes at least 8+4+1 bytes, a tensor info at least 8+4+8+4+8 */
    if (g->n_kv > g->size / 13)
        return r1_fail(err, "gguf: %s: metadata count %llu at offset 16 is impossible for a file of %zu bytes",
                       g->path, (unsigned long long)g->n_kv, g->size);
    if (g->n_tensors > g->size / 32)
        return r1_fail(err, "gguf: %s: tensor count %llu at offset 8 is impossible for a file of %zu bytes",
                       g->path, (unsigned long long)g->n_tensors, g->size);
    g->kv = r1_calloc(err, g->n_kv, sizeof *g->kv, "gguf metadata");
    g->tensors = r1_calloc(err, g->n_tensors, sizeof *g->tensors, "gguf tensor infos");
    if (!g->kv || !g->tensors) return R1_ERR;
    for (uint64_t i = 0; i < g->n_kv; i++) {
        if (read_kv(&c, &g->kv[i], i) != R1_OK) return R1_ERR;
        for (uint64_t j = 0; j < i; j++)
            if (g->kv[j].key.len == g->kv[i].key.len &&
                memcmp(g->kv[j].key.data, g->kv[i].key.data, g->kv[i].key.len) == 0)
                return r1_fail(err, "gguf: %s: key '%.*s' appears twice (offsets %llu and %llu)", g->path,
                               g->kv[i].key.len > 96 ? 96 : (int)g->kv[i].key.len, g->kv[i].key.data,
                               (unsigned long long)g->kv[j].file_offset, (unsigned long long)g->kv[i].file_offset);
    }

    g->alignment = 32;
    const r1_gguf_kv *align = r1_gguf_find_kv(g, "general.alignment");
    if (align) {
        if (align->type != GGUF_UINT32 || align->value.u64 == 0 || (align->value.u64 & (align->value.u64 - 1)))
            return r1_fail(err, "gguf: %s: general.alignment at offset %llu must be a power-of-two uint32",
                           g->path, (unsigned long long)align->file_offset);
        g->alignment = align->value.u64;
    }
    for (uint64_t i = 0; i < g->n_tensors; i++)
        if (read_tensor_info(&c, &g->tensors[i], i) != R1_OK) return R1_ERR;

    uint64_t start = (c.pos + g->alignment - 1) / g->alignment * g->alignment;
    if (g->n_tensors == 0) return R1_OK; /* vocabulary-only files may end without padding */
    if (start > g->size)
        return r1_fail(err, "gguf: %s: tensor data would start at offset %llu, past the end of the file (size %zu)",
                       g->path, (unsigned long long)start, g->size);
    g->data_start = start;
    for (uint64_t i = 0; i < g->n_tensors; i++) {
        r1_gguf_tensor *t = &g->tensors[i];
        int nlen = t->name.len > 96 ? 96 : (int)t->name.len;
        if (t->data_offset % g->alignment)
            return r1_fail(err, "gguf: %s: tensor '%.*s': data offset %llu is not a multiple of the alignment %llu",
                           g->path, nlen, t->name.data, (unsigned long long)t->data_offset,
                           (unsigned long long)g->alignment);
        uint64_t avail = g->size - start;
        if (t->data_offset > avail || t->nbytes > avail - t->data_offset)
            return r1_fail(err, "gguf: %s: tensor '%.*s': data ends at %llu, past the file size %zu",
                           g->path, nlen, t->name.data,
                           (unsigned long long)(start + t->data_offset + t->nbytes), g->size);
        t->data = g->map + start + t->data_offset;
        for (uint64_t j = 0; j < i; j++)
            if (g->tensors[j].name.len == t->name.len && memcmp(g->tensors[j].name.data, t->name.data, t->name.len) == 0)
                return r1_fail(err, "gguf: %s: tensor name '%.*s' appears twice (tensor infos %llu and %llu)",
                               g->path, nlen, t->name.data, (unsigned long long)j, (unsigned long long)i);
    }
    return check_overlaps(g, err);
}

/* What a file and a memory buffer share once their bytes are in place: the same
 * checks, so a model reads the same (and fails the same) wherever it lives. */
static int open_bytes(r1_gguf *g, r1_err *err) {
    if (g->size < 24)
        return r1_fail(err, "gguf: %s: file is %zu bytes, too short for a GGUF header (24 bytes)", g->path, g->size);
    return parse(g, err);
}

int r1_gguf_open(r1_gguf *g, const char *path, r1_err *err) {
    memset(g, 0, sizeof *g);
    snprintf(g->path, sizeof g->path, "%s", path);
    int fd = open(path, O_RDONLY);
    if (fd < 0) return r1_fail(err, "gguf: %s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return r1_fail(err, "gguf: %s: not a regular file", path);
    }
    g->size = (size_t)st.st_size;
    if (g->size < 24) { /* open_bytes refuses it before reading a byte */
        close(fd);
        return open_bytes(g, err);
    }
    void *map = mmap(NULL, g->size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (map == MAP_FAILED) return r1_fail(err, "gguf: %s: mmap failed: %s", path, strerror(errno));
    g->map = map;
    g->mapped = 1;
    if (open_bytes(g, err) != R1_OK) {
        r1_gguf_close(g);
        return R1_ERR;
    }
    return R1_OK;
}

int r1_gguf_open_memory(r1_gguf *g, const void *data, size_t size, const char *name, r1_err *err) {
    memset(g, 0, sizeof *g);
    snprintf(g->path, sizeof g->path, "%s", name);
    g->map = data;
    g->size = data ? size : 0;
    if (open_bytes(g, err) != R1_OK) {
        r1_gguf_close(g);
        return R1_ERR;
    }
    /* tensor views are read as float, uint16 ...: the data section must sit at an
     * address as aligned as the file asks, which a page-aligned mapping always is */
    if (g->n_tensors && (uintptr_t)(g->map + g->data_start) % g->alignment) {
        r1_fail(err, "gguf: %s: tensor data at offset %llu is at address %p, not aligned to %llu bytes", g->path,
                (unsigned long long)g->data_start, (const void *)(g->map + g->data_start),
                (unsigned long long)g->alignment);
        r1_gguf_close(g);
        return R1_ERR;
    }
    return R1_OK;
}

void r1_gguf_close(r1_gguf *g) {
    if (g->mapped) munmap((void *)g->map, g->size);
    free(g->kv);
    free(g->tensors);
    g->map = NULL;
    g->mapped = 0;
    g->kv = NULL;
    g->tensors = NULL;
}

const r1_gguf_kv *r1_gguf_find_kv(const r1_gguf *g, const char *key) {
    for (uint64_t i = 0; i < g->n_kv; i++)
        if (r1_str_eq(g->kv[i].key, key)) return &g->kv[i];
    return NULL;
}

const r1_gguf_tensor *r1_gguf_find_tensor(const r1_gguf *g, const char *name) {
    for (uint64_t i = 0; i < g->n_tensors; i++)
        if (r1_str_eq(g->tensors[i].name, name)) return &g->tensors[i];
    return NULL;
}

static int is_int_type(uint32_t t) {
    return t == GGUF_UINT8 || t == GGUF_INT8 || t == GGUF_UINT16 || t == GGUF_INT16 || t == GGUF_UINT32 ||
           t == GGUF_INT32 || t == GGUF_UINT64 || t == GGUF_INT64;
}
static int is_signed_type(uint32_t t) {
    return t == GGUF_INT8 || t == GGUF_INT16 || t == GGUF_INT32 || t == GGUF_INT64;
}

int r1_gguf_get_u32_or(const r1_gguf *g, const char *key, uint32_t dflt, uint32_t *out, r1_err *err) {
    const r1_gguf_kv *kv = r1_gguf_find_kv(g, key);
    if (!kv) { *out = dflt; return R1_OK; }
    if (!is_int_type(kv->type))
        return r1_fail(err, "gguf: %s: key '%s' is a %s, expected an integer", g->path, key, r1_gguf_type_name(kv->type));
    if (is_signed_type(kv->type) ? (kv->value.i64 < 0 || kv->value.i64 > UINT32_MAX) : kv->value.u64 > UINT32_MAX)
        return r1_fail(err, "gguf: %s: key '%s' value is out of range for a 32-bit count", g->path, key);
    *out = (uint32_t)kv->value.u64;
    return R1_OK;
}

int r1_gguf_get_u32(const r1_gguf *g, const char *key, uint32_t *out, r1_err *err) {
    if (!r1_gguf_find_kv(g, key)) return r1_fail(err, "gguf: %s: required key '%s' is missing", g->path, key);
    return r1_gguf_get_u32_or(g, key, 0, out, err);
}

int r1_gguf_get_f32_or(const r1_gguf *g, const char *key, float dflt, float *out, r1_err *err) {
    const r1_gguf_kv *kv = r1_gguf_find_kv(g, key);
    if (!kv) { *out = dflt; return R1_OK; }
    if (kv->type == GGUF_FLOAT32 || kv->type == GGUF_FLOAT64) *out = (float)kv->value.f64;
    else if (is_int_type(kv->type)) *out = is_signed_type(kv->type) ? (float)kv->value.i64 : (float)kv->value.u64;
    else return r1_fail(err, "gguf: %s: key '%s' is a %s, expected a number", g->path, key, r1_gguf_type_name(kv->type));
    return R1_OK;
}

int r1_gguf_get_bool_or(const r1_gguf *g, const char *key, int dflt, int *out, r1_err *err) {
    const r1_gguf_kv *kv = r1_gguf_find_kv(g, key);
    if (!kv) { *out = dflt; return R1_OK; }
    if (kv->type != GGUF_BOOL && !is_int_type(kv->type))
        return r1_fail(err, "gguf: %s: key '%s' is a %s, expected a bool", g->path, key, r1_gguf_type_name(kv->type));
    *out = kv->value.u64 != 0;
    return R1_OK;
}

int r1_gguf_get_str(const r1_gguf *g, const char *key, char *out, size_t out_size, r1_err *err) {
    const r1_gguf_kv *kv = r1_gguf_find_kv(g, key);
    if (!kv) return r1_fail(err, "gguf: %s: required key '%s' is missing", g->path, key);
    if (kv->type != GGUF_STRING)
        return r1_fail(err, "gguf: %s: key '%s' is a %s, expected a string", g->path, key, r1_gguf_type_name(kv->type));
    if (kv->value.str.len >= out_size)
        return r1_fail(err, "gguf: %s: key '%s': string of %llu bytes is too long (limit %zu)", g->path, key,
                       (unsigned long long)kv->value.str.len, out_size - 1);
    memcpy(out, kv->value.str.data, kv->value.str.len);
    out[kv->value.str.len] = 0;
    return R1_OK;
}

int r1_gguf_get_str_array(const r1_gguf *g, const char *key, r1_str **out, uint64_t *count, r1_err *err) {
    const r1_gguf_kv *kv = r1_gguf_find_kv(g, key);
    if (!kv) return r1_fail(err, "gguf: %s: required key '%s' is missing", g->path, key);
    if (kv->type != GGUF_ARRAY || kv->array_type != GGUF_STRING)
        return r1_fail(err, "gguf: %s: key '%s' is not an array of strings", g->path, key);
    r1_str *strs = r1_calloc(err, kv->array_count, sizeof *strs, key);
    if (!strs) return R1_ERR;
    const uint8_t *p = kv->array_data; /* already bounds-checked by read_kv */
    for (uint64_t i = 0; i < kv->array_count; i++) {
        memcpy(&strs[i].len, p, 8);
        strs[i].data = (const char *)p + 8;
        p += 8 + strs[i].len;
    }
    *out = strs;
    *count = kv->array_count;
    return R1_OK;
}
