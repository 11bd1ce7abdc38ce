/* A model file re-encoded in another weight type (llama-quantize's job, for the
 * types r1 writes). Every metadata pair is copied as it is (hyper-parameters,
 * tokenizer, chat template) except general.file_type, which names the new type.
 * Tensors are converted row by row through float32; a tensor already in its
 * target type is copied byte for byte. What stays float32, as llama.cpp's
 * quantizer leaves it: 1-D tensors (norms, biases, the expert-selection bias,
 * rope factors) and the MoE router (ffn_gate_inp), whose few scores pick
 * discrete experts, so a small error there changes which experts run. Matrices
 * whose rows are not whole blocks of the type take r1_type_for_row's fallback. */
#ifndef R1_QUANTIZE_H
#define R1_QUANTIZE_H

#include <stdint.h>

#include "base/error.h"
#include "gguf/gguf.h"
#include "tensor/types.h"

typedef struct {
    uint64_t n_tensors;
    uint64_t n_as_type;    /* matrices stored in the requested type */
    uint64_t n_fallback_q8_0, n_fallback_f16; /* matrices whose rows did not fit it */
    uint64_t n_f32;        /* 1-D tensors and routers kept float32 (type other than F32) */
    uint64_t file_bytes;
} r1_quantize_report;

/* Writes `in` with its weight matrices in `type` (any type r1 can store weights
 * in) to out_path, atomically (the GGUF writer's PATH.tmp + rename, so out_path
 * may be in's own file). report may be NULL. */
int r1_quantize_model(const r1_gguf *in, const char *out_path, r1_type type, r1_quantize_report *report,
                      r1_err *err);

#endif
