/* The trained weights a stage starts from (`--init`): a run directory (its
 * checkpoint.gguf), a training checkpoint of any stage (checkpoint.h), or an
 * exported model (a run's model.gguf: F32 tensors, as r1_train_export_gguf writes).
 *
 * The architecture comes with the weights: a checkpoint's from its settings (the
 * keys without a stage prefix, pretrain.h), a model's from its GGUF metadata. The
 * training shape (seq_len, batch), the balancing constants and whether to train
 * an MTP module (mtp_weight) are the new stage's own. Only the weights and the
 * expert bias are taken; the optimizer starts afresh. A checkpoint's MTP module is
 * taken when the new stage trains one too, and left behind when it does not. */
#ifndef R1_INIT_WEIGHTS_H
#define R1_INIT_WEIGHTS_H

#include "base/error.h"
#include "model/model.h"
#include "train/checkpoint.h"
#include "train/tiny_model.h"

typedef struct {
    char path[1100];       /* the file read */
    int is_checkpoint;     /* else an exported model */
    r1_checkpoint ck;      /* a checkpoint's tensors */
    r1_model model;        /* an exported model's, mapped */
    int have_ck, have_model;
    r1_train_config arch;  /* the architecture: vocab .. norm_eps; mtp_weight 0 */
} r1_init_weights;

/* Opens path (a directory means DIR/checkpoint.gguf). Fails naming the file when it
 * is neither a checkpoint nor a deepseek2 model of the trainer's kind (sigmoid
 * routing with normalised weights, no YaRN) with every tensor F32. */
int r1_init_weights_open(r1_init_weights *w, const char *path, r1_err *err);

/* Copies the architecture into cfg, keeping cfg's seq_len, batch, balance_alpha,
 * bias_gamma, init_std, mtp_weight and precision. */
void r1_init_weights_arch(const r1_init_weights *w, r1_train_config *cfg);
/* 1 when the setting called key (its config.txt name, e.g. "dim") is one of the
 * architecture's, which --init's weights decide: a value given for it is refused. */
int r1_init_weights_decides(const char *key);

/* Copies every tensor of m (built from the architecture) from the file: the same
 * names and sizes, F32 (a checkpoint's: the same shapes, finite values). An MTP module the file lacks keeps m's initialisation. */
int r1_init_weights_load(const r1_init_weights *w, r1_train_model *m, r1_err *err);

void r1_init_weights_close(r1_init_weights *w);

#endif
