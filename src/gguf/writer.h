/* GGUF v3 files, written: metadata of every value type, tensor infos, then the
 * tensor data streamed tensor by tensor (a 9 GB file needs a few MB of memory).
 *
 * Use:
 *   r1_gguf_writer *w;
 *   r1_gguf_writer_open(&w, "model.gguf", err);
 *   r1_gguf_writer_kv_str(w, "general.architecture", "deepseek2", err);   ... more keys
 *   r1_gguf_writer_tensor(w, "token_embd.weight", 2, ne, R1_TYPE_Q8_0, err); ... more infos
 *   r1_gguf_writer_begin_data(w, err);           header, metadata and infos hit the disk
 *   r1_gguf_writer_data(w, bytes, n, err);       or _data_f32: rows quantised on the way
 *   ...                                          tensors in the order they were declared
 *   r1_gguf_writer_finish(w, err);               fsync + rename: PATH appears complete
 *
 * The file is written as PATH.tmp and renamed to PATH only by a successful finish,
 * so PATH never holds a partial file. Every function returns R1_OK or R1_ERR with one
 * line naming the file; after a failure the writer refuses further work (repeating
 * the first error), and the caller ends it with finish or abort, which remove the
 * temporary file. Offsets are aligned to `general.alignment` (32 unless a uint32
 * power of two is given for that key). Values are written little-endian, as GGUF
 * requires, which is the host order on every machine r1 targets. */
#ifndef R1_GGUF_WRITER_H
#define R1_GGUF_WRITER_H

#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "gguf/gguf.h"
#include "tensor/types.h"

typedef struct r1_gguf_writer r1_gguf_writer;

/* Creates PATH.tmp. */
int r1_gguf_writer_open(r1_gguf_writer **out, const char *path, r1_err *err);

/* ---- metadata (before begin_data); keys must be unique and non-empty ---- */
int r1_gguf_writer_kv_u8(r1_gguf_writer *w, const char *key, uint8_t v, r1_err *err);
int r1_gguf_writer_kv_i8(r1_gguf_writer *w, const char *key, int8_t v, r1_err *err);
int r1_gguf_writer_kv_u16(r1_gguf_writer *w, const char *key, uint16_t v, r1_err *err);
int r1_gguf_writer_kv_i16(r1_gguf_writer *w, const char *key, int16_t v, r1_err *err);
int r1_gguf_writer_kv_u32(r1_gguf_writer *w, const char *key, uint32_t v, r1_err *err);
int r1_gguf_writer_kv_i32(r1_gguf_writer *w, const char *key, int32_t v, r1_err *err);
int r1_gguf_writer_kv_u64(r1_gguf_writer *w, const char *key, uint64_t v, r1_err *err);
int r1_gguf_writer_kv_i64(r1_gguf_writer *w, const char *key, int64_t v, r1_err *err);
int r1_gguf_writer_kv_f32(r1_gguf_writer *w, const char *key, float v, r1_err *err);
int r1_gguf_writer_kv_f64(r1_gguf_writer *w, const char *key, double v, r1_err *err);
int r1_gguf_writer_kv_bool(r1_gguf_writer *w, const char *key, int v, r1_err *err);
int r1_gguf_writer_kv_str(r1_gguf_writer *w, const char *key, const char *v, r1_err *err);
/* A string of len bytes (may hold NULs). */
int r1_gguf_writer_kv_strn(r1_gguf_writer *w, const char *key, const char *v, uint64_t len, r1_err *err);
/* An array of count scalars of GGUF value type elem_type (GGUF_UINT8 ... GGUF_FLOAT64,
 * not STRING or ARRAY), laid out as C arrays of the matching type (bool: one byte). */
int r1_gguf_writer_kv_array(r1_gguf_writer *w, const char *key, uint32_t elem_type, const void *elems,
                            uint64_t count, r1_err *err);
int r1_gguf_writer_kv_str_array(r1_gguf_writer *w, const char *key, const char *const *strs, uint64_t count,
                                r1_err *err);
/* Copies a pair read by r1_gguf_open (any type, arrays included): for re-exporting a
 * model's tokenizer and settings. */
int r1_gguf_writer_kv_copy(r1_gguf_writer *w, const r1_gguf_kv *kv, r1_err *err);

/* ---- tensor infos (before begin_data) ----
 * ne[0] is the contiguous row length and must be a multiple of type's block size;
 * names are unique, 1 to 63 bytes (llama.cpp's limit). */
int r1_gguf_writer_tensor(r1_gguf_writer *w, const char *name, int n_dims, const int64_t *ne, r1_type type,
                          r1_err *err);

/* Writes the header, metadata, tensor infos and the padding before the data. */
int r1_gguf_writer_begin_data(r1_gguf_writer *w, r1_err *err);

/* ---- tensor data (after begin_data), in declaration order ----
 * Appends n raw bytes to the current tensor; a call may not run past the tensor's
 * end. When a tensor is complete the padding follows and the next one begins. */
int r1_gguf_writer_data(r1_gguf_writer *w, const void *bytes, size_t n, r1_err *err);
/* Appends n float values to the current tensor, converted/quantised to its type:
 * n must be a multiple of the type's block size (whole rows always are). */
int r1_gguf_writer_data_f32(r1_gguf_writer *w, const float *values, int64_t n, r1_err *err);

/* Where the writing is: index of the tensor data goes to next (= tensor count when
 * all are written), and the file size when complete (known after begin_data). */
uint64_t r1_gguf_writer_current_tensor(const r1_gguf_writer *w);
uint64_t r1_gguf_writer_bytes_written(const r1_gguf_writer *w);
uint64_t r1_gguf_writer_file_size(const r1_gguf_writer *w);

/* llama.cpp's general.file_type (llama_ftype) for a file whose matrices are
 * mostly of type t. */
uint32_t r1_gguf_file_type(r1_type t);

/* Checks every tensor got all its bytes (calling begin_data first if the file has
 * only metadata), syncs and renames PATH.tmp to PATH. Frees w, even on failure. */
int r1_gguf_writer_finish(r1_gguf_writer *w, r1_err *err);
/* Stops: removes PATH.tmp and frees w. NULL is allowed. */
void r1_gguf_writer_abort(r1_gguf_writer *w);

#endif
