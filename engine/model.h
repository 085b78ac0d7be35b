/* engine/model.h — a Llama- or Qwen2-architecture model bound to its GGUF tensors.
 *
 * Weights stay in the read-only map (never copied); only the small 1-D tensors
 * (norms, biases, rope frequency factors) are converted to float32 copies.  Opening checks
 * every tensor the forward pass reads: present, the right shape for the
 * hyper-parameters, and a weight type longread computes with.  A model is immutable
 * after opening and may be shared by threads. */
#ifndef LR_MODEL_H
#define LR_MODEL_H

#include <stdint.h>

#include "engine/err.h"
#include "engine/gguf.h"
#include "engine/hparams.h"

/* A 2-D weight matrix: n_out rows of n_in elements each, rows contiguous. */
struct lr_weight {
	const char *name;         /* the GGUF tensor name (owned by the gguf) */
	uint32_t type;            /* ggml type id (engine/types.h) */
	int64_t n_in;             /* ne[0]: elements per row, the reduction dimension */
	int64_t n_out;            /* ne[1]: rows, the output dimension */
	uint64_t row_bytes;
	const uint8_t *data;      /* [n_out][row_bytes], in the map */
};

struct lr_layer {
	const float *attn_norm;   /* [n_embd] */
	struct lr_weight wq;      /* [n_head * head_dim][n_embd] */
	struct lr_weight wk;      /* [n_head_kv * head_dim][n_embd] */
	struct lr_weight wv;      /* [n_head_kv * head_dim_v][n_embd] */
	const float *bq, *bk, *bv; /* biases of wq, wk, wv (qwen2), NULL when absent */
	struct lr_weight wo;      /* [n_embd][n_head * head_dim_v] */
	const float *ffn_norm;    /* [n_embd] */
	struct lr_weight w_gate;  /* [n_ff][n_embd] */
	struct lr_weight w_up;    /* [n_ff][n_embd] */
	struct lr_weight w_down;  /* [n_embd][n_ff] */
};

struct lr_model {
	struct lr_gguf *gguf;
	struct lr_hparams hp;
	struct lr_weight tok_embd;   /* [n_vocab][n_embd] */
	struct lr_weight output;     /* [n_vocab][n_embd]; a copy of tok_embd when tied */
	const float *output_norm;    /* [n_embd] */
	const float *rope_freqs;     /* [rope_dim / 2] frequency divisors, NULL if absent */
	struct lr_layer *layers;     /* [n_layer] */
	uint64_t n_params;
	/* private */
	float *vectors;              /* one allocation for every converted 1-D tensor */
};

/* Open a GGUF model file, validate it and bind its tensors.  Errors: those of
 * lr_gguf_open and lr_hparams_load; LR_EFORMAT for a missing or misshapen tensor;
 * LR_EUNSUPPORTED for a weight type longread cannot compute with (message names the
 * tensor and type).  On success *out is a new model; close it with lr_model_close. */
int lr_model_open(struct lr_model **out, const char *path, struct lr_err *err);

/* Bind an already open GGUF (takes ownership of g, also on failure). */
int lr_model_from_gguf(struct lr_model **out, struct lr_gguf *g, struct lr_err *err);

/* Release the model and its map.  Accepts NULL. */
void lr_model_close(struct lr_model *m);

#endif
