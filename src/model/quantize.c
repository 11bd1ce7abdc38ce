/* Re-encoding a model file's weights: see quantize.h. */
#include <stdlib.h>
#include <string.h>

#include "gguf/writer.h"
#include "model/quantize.h"

/* The name ends with `suffix` (tensor names are not NUL-terminated). */
static int name_ends_with(r1_str name, const char *suffix) {
    size_t n = strlen(suffix);
    return name.len >= n && memcmp(name.data + name.len - n, suffix, n) == 0;
}

static r1_type target_type(const r1_gguf_tensor *t, r1_type want) {
    if (t->n_dims < 2 || name_ends_with(t->name, "ffn_gate_inp.weight")) return R1_TYPE_F32;
    return r1_type_for_row(want, t->ne[0]);
}

static int copy_metadata(r1_gguf_writer *w, const r1_gguf *in, r1_type type, r1_err *err) {
    for (uint64_t i = 0; i < in->n_kv; i++) {
        const r1_gguf_kv *kv = &in->kv[i];
        if (r1_str_eq(kv->key, "general.file_type") || r1_str_eq(kv->key, "general.quantization_version")) continue;
        if (r1_gguf_writer_kv_copy(w, kv, err) != R1_OK) return R1_ERR;
    }
    /* llama.cpp's current block layouts (GGML_QNT_VERSION), which r1's are */
    if (r1_gguf_writer_kv_u32(w, "general.file_type", r1_gguf_file_type(type), err) != R1_OK ||
        r1_gguf_writer_kv_u32(w, "general.quantization_version", 2, err) != R1_OK)
        return R1_ERR;
    return R1_OK;
}

/* Streams one tensor's data: raw when the type is unchanged, else each row
 * dequantised into `row` (ne[0] floats) and quantised by the writer. */
static int convert_tensor(r1_gguf_writer *w, const r1_gguf_tensor *t, r1_type to, float *row, r1_err *err) {
    if (t->type == (uint32_t)to) return r1_gguf_writer_data(w, t->data, t->nbytes, err);
    const r1_type_traits *from = r1_type_traits_get(t->type);
    size_t row_bytes = r1_type_row_bytes(from, t->ne[0]);
    int64_t n_rows = t->ne[1] * t->ne[2] * t->ne[3];
    const uint8_t *src = t->data;
    for (int64_t r = 0; r < n_rows; r++, src += row_bytes) {
        from->dequantize(src, row, t->ne[0]);
        if (r1_gguf_writer_data_f32(w, row, t->ne[0], err) != R1_OK) return R1_ERR;
    }
    return R1_OK;
}

int r1_quantize_model(const r1_gguf *in, const char *out_path, r1_type type, r1_quantize_report *report,
                      r1_err *err) {
    const r1_type_traits *tt = r1_type_traits_get(type);
    if (!tt || type == R1_TYPE_Q8_K)
        return r1_fail(err, "quantize: type %s (id %u) cannot store weights", r1_type_name(type), (unsigned)type);
    r1_quantize_report rep;
    memset(&rep, 0, sizeof rep);
    r1_type *types = r1_calloc(err, in->n_tensors ? in->n_tensors : 1, sizeof *types, "quantize: tensor types");
    int64_t longest_row = 1;
    for (uint64_t i = 0; i < in->n_tensors; i++)
        if (in->tensors[i].ne[0] > longest_row) longest_row = in->tensors[i].ne[0];
    float *row = r1_malloc(err, (size_t)longest_row * sizeof *row, "quantize: row buffer");
    r1_gguf_writer *w = NULL;
    if (!types || !row || r1_gguf_writer_open(&w, out_path, err) != R1_OK || copy_metadata(w, in, type, err) != R1_OK)
        goto fail;
    for (uint64_t i = 0; i < in->n_tensors; i++) {
        const r1_gguf_tensor *t = &in->tensors[i];
        char name[64];
        if (t->name.len >= sizeof name) {
            r1_fail(err, "quantize: %s: tensor %llu's name is %llu bytes (GGUF allows 63)", in->path,
                    (unsigned long long)i, (unsigned long long)t->name.len);
            goto fail;
        }
        memcpy(name, t->name.data, t->name.len);
        name[t->name.len] = 0;
        types[i] = target_type(t, type);
        if (types[i] == R1_TYPE_F32 && type != R1_TYPE_F32) rep.n_f32++;
        else if (types[i] == type) rep.n_as_type++;
        else if (types[i] == R1_TYPE_Q8_0) rep.n_fallback_q8_0++;
        else rep.n_fallback_f16++;
        if (r1_gguf_writer_tensor(w, name, (int)t->n_dims, t->ne, types[i], err) != R1_OK) goto fail;
    }
    if (r1_gguf_writer_begin_data(w, err) != R1_OK) goto fail;
    rep.n_tensors = in->n_tensors;
    rep.file_bytes = r1_gguf_writer_file_size(w);
    for (uint64_t i = 0; i < in->n_tensors; i++)
        if (convert_tensor(w, &in->tensors[i], types[i], row, err) != R1_OK) goto fail;
    free(row);
    free(types);
    if (r1_gguf_writer_finish(w, err) != R1_OK) return R1_ERR; /* frees w either way */
    if (report) *report = rep;
    return R1_OK;
fail:
    r1_gguf_writer_abort(w);
    free(row);
    free(types);
    return R1_ERR;
}
