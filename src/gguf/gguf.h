/* GGUF model files (versions 2 and 3): a validated, memory-mapped reader.
 *
 * Layout: magic "GGUF", u32 version, u64 tensor count, u64 metadata count, the
 * metadata key/value pairs, the tensor infos (name, dims, type, offset), padding to
 * `general.alignment`, then the tensor data. Every count, length, offset and extent
 * is checked against the file size before it is used; a bad file gives one error
 * line naming the field and its byte offset. A file is mapped; a buffer already in
 * memory (the model embedded in ./r1) goes through the same checks. */
#ifndef R1_GGUF_H
#define R1_GGUF_H

#include <stddef.h>
#include <stdint.h>

#include "base/error.h"

enum {
    GGUF_UINT8 = 0, GGUF_INT8 = 1, GGUF_UINT16 = 2, GGUF_INT16 = 3,
    GGUF_UINT32 = 4, GGUF_INT32 = 5, GGUF_FLOAT32 = 6, GGUF_BOOL = 7,
    GGUF_STRING = 8, GGUF_ARRAY = 9, GGUF_UINT64 = 10, GGUF_INT64 = 11,
    GGUF_FLOAT64 = 12,
    GGUF_TYPE_COUNT
};

#define GGUF_MAX_DIMS 4

/* A string inside the mapped file: not NUL-terminated. */
typedef struct {
    uint64_t len;
    const char *data;
} r1_str;

typedef struct {
    r1_str key;
    uint32_t type;          /* GGUF_* */
    uint64_t file_offset;   /* where this pair starts, for error messages */
    union {
        uint64_t u64;       /* any unsigned integer type, and bool */
        int64_t i64;        /* any signed integer type */
        double f64;         /* FLOAT32 and FLOAT64 */
        r1_str str;
    } value;
    /* arrays: element type, count, and the raw bytes of the elements */
    uint32_t array_type;
    uint64_t array_count;
    const uint8_t *array_data;
} r1_gguf_kv;

typedef struct {
    r1_str name;
    uint32_t n_dims;
    int64_t ne[GGUF_MAX_DIMS]; /* ne[0] is the contiguous (row) dimension; unused dims are 1 */
    uint32_t type;             /* ggml type id (r1_type) */
    uint64_t data_offset;      /* offset of the data from the start of the data section */
    size_t nbytes;
    const void *data;          /* points into the mapping */
    uint64_t info_offset;      /* where this tensor info starts in the file */
} r1_gguf_tensor;

typedef struct {
    char path[1024];
    const uint8_t *map;        /* the file's bytes: a mapping, or the caller's buffer */
    size_t size;
    int mapped;                /* map came from mmap, and close unmaps it */
    uint32_t version;
    uint64_t n_kv;
    r1_gguf_kv *kv;
    uint64_t n_tensors;
    r1_gguf_tensor *tensors;
    uint64_t alignment;
    uint64_t data_start;       /* file offset of the tensor data section */
} r1_gguf;

int r1_gguf_open(r1_gguf *g, const char *path, r1_err *err);
/* The same from size bytes already in memory (a model linked into the binary):
 * the buffer is read-only, must outlive g, and must be as aligned as a mapping
 * for the tensor data (general.alignment; a page-aligned buffer always is).
 * `name` stands for the path in error messages. */
int r1_gguf_open_memory(r1_gguf *g, const void *data, size_t size, const char *name, r1_err *err);
void r1_gguf_close(r1_gguf *g);

/* Lookups. find_* return NULL when absent. */
const r1_gguf_kv *r1_gguf_find_kv(const r1_gguf *g, const char *key);
const r1_gguf_tensor *r1_gguf_find_tensor(const r1_gguf *g, const char *name);

/* Typed getters: R1_ERR with a message naming the key when the key is missing
 * (unless a default is given by the *_or variants) or has an unusable type. */
int r1_gguf_get_u32(const r1_gguf *g, const char *key, uint32_t *out, r1_err *err);
int r1_gguf_get_u32_or(const r1_gguf *g, const char *key, uint32_t dflt, uint32_t *out, r1_err *err);
int r1_gguf_get_f32_or(const r1_gguf *g, const char *key, float dflt, float *out, r1_err *err);
int r1_gguf_get_bool_or(const r1_gguf *g, const char *key, int dflt, int *out, r1_err *err);
/* Copies a string value into out (NUL-terminated); fails if it does not fit. */
int r1_gguf_get_str(const r1_gguf *g, const char *key, char *out, size_t out_size, r1_err *err);

/* Elements of an array value. Strings are returned as r1_str views into the file
 * (the array of views is malloc'd; the caller frees it). */
int r1_gguf_get_str_array(const r1_gguf *g, const char *key, r1_str **out, uint64_t *count, r1_err *err);

/* Name of a value type ("uint32", "array", ...). */
const char *r1_gguf_type_name(uint32_t type);

/* Where the first control byte (r1_control_byte) of a key or tensor name is, or
 * len when it has none: the reader refuses such names and the writer does not
 * write them. */
size_t r1_gguf_name_control_at(const char *name, size_t len);

/* Compares a file string with a C string. */
int r1_str_eq(r1_str s, const char *c);

#endif
